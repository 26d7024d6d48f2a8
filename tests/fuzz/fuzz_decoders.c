/* Fuzz target: the small decoders. The first byte picks one:
 *   0  the session key's base64 (crypto_key_decode); a key it accepts
 *      encodes back to the same text
 *   1  the datagram opener (crypto_open) on bytes from the network, with
 *      a fixed key, as either side
 *   2  what the user's terminal said (sync_terminal_decode), as the
 *      server reads it from the client; what it accepts encodes back to
 *      the same bytes
 *   3  the client's reader of its terminal's answers (termquery_filter),
 *      the input cut in two reads where the second byte says; no more
 *      comes out than went in
 * (Key decoding through libtermkey is fuzz_keys.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/crypto.h"
#include "../../roles/termquery.h"
#include "../../sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void key_text(const uint8_t *d, size_t n)
{
	char text[64], back[CRYPTO_KEY_B64_LEN + 1];
	if (n >= sizeof text)
		n = sizeof text - 1;
	memcpy(text, d, n);
	text[n] = '\0';
	struct crypto_key k;
	if (crypto_key_decode(&k, text) == CRYPTO_OK) {
		crypto_key_encode(&k, back);
		if (strcmp(back, text) != 0)
			abort();
	}
}

static void open_datagram(const uint8_t *d, size_t n)
{
	static const char fixed[] = "AAECAwQFBgcICQoLDA0ODw";
	struct crypto_key k;
	if (crypto_key_decode(&k, fixed) != CRYPTO_OK)
		abort();
	for (int dir = 0; dir < 2; dir++) {
		struct crypto_session *s;
		if (crypto_session_new(&s, &k, dir ? CRYPTO_TO_CLIENT : CRYPTO_TO_SERVER) != CRYPTO_OK)
			continue;
		uint8_t out[4096];
		size_t len;
		uint64_t seq;
		if (n <= sizeof out)
			(void)crypto_open(s, d, n, out, sizeof out, &len, &seq);
		crypto_session_free(s);
	}
}

static void terminal_said(const uint8_t *d, size_t n)
{
	struct sync_terminal t;
	if (sync_terminal_decode(&t, d, n) != SSP_OK)
		return;
	struct ssp_writer w = { 0 };
	if (sync_terminal_encode(&t, &w) != SSP_OK)
		abort();
	/* the encoding is canonical but for colour order: decode it again */
	struct sync_terminal u;
	if (sync_terminal_decode(&u, w.data, w.len) != SSP_OK ||
	    memcmp(&t, &u, sizeof t) != 0)
		abort();
	ssp_writer_free(&w);
}

static void terminal_answers(const uint8_t *d, size_t n)
{
	static uint8_t out[65536 + TERMQUERY_SEQ_MAX + 1];
	struct termquery q;
	if (n < 1)
		return;
	size_t cut = d[0] % (n), total = 0, held;
	d++;
	n--;
	if (cut > n)
		cut = n;
	termquery_start(&q, 0);
	total += termquery_filter(&q, d, cut, out);
	total += termquery_filter(&q, d + cut, n - cut, out);
	if (termquery_finished(&q, UINT64_MAX, out, &held))
		total += held;
	if (total > n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: key_text(data + 1, size - 1); break;
	case 1: open_datagram(data + 1, size - 1); break;
	case 2: terminal_said(data + 1, size - 1); break;
	default: terminal_answers(data + 1, size - 1); break;
	}
	return 0;
}
