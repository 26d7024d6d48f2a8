/* Fuzz target: the small decoders. The first byte picks one:
 *   0  the session key's base64 (crypto_key_decode); a key it accepts
 *      encodes back to the same text
 *   1  the datagram opener (crypto_open) on bytes from the network, with
 *      a fixed key, as either side
 * (Key decoding through libtermkey is fuzz_keys.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/crypto.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		key_text(data + 1, size - 1);
	else
		open_datagram(data + 1, size - 1);
	return 0;
}
