/*
 * AES-128-GCM sealing and opening with mbedTLS, and the one place where
 * nonces are made.
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include "mbedtls/gcm.h"
#include "mbedtls/version.h"

struct crypto_session {
	mbedtls_gcm_context gcm;
	enum crypto_direction send_dir;
	uint64_t next_seq; /* the only sequence counter for send_dir */
};

const char *crypto_strerror(int err)
{
	switch (err) {
	case CRYPTO_OK: return "success";
	case CRYPTO_EINVAL: return "invalid argument or malformed input";
	case CRYPTO_ESPACE: return "output buffer too small";
	case CRYPTO_EAUTH: return "authentication failed";
	case CRYPTO_EDIRECTION: return "packet is for the other direction";
	case CRYPTO_EEXHAUSTED: return "sequence numbers exhausted";
	case CRYPTO_ERANDOM: return "no source of randomness";
	case CRYPTO_EBACKEND: return "cipher backend error";
	}
	return "unknown error";
}

const char *crypto_backend_version(void)
{
	return MBEDTLS_VERSION_STRING;
}

/*
 * The nonce: four zero bytes, then (direction << 63 | seq) big-endian. The
 * last eight bytes are what travels on the wire. Every nonce in moshi is
 * written by this function and read back by nonce_parse.
 */
static void nonce_make(uint8_t nonce[CRYPTO_NONCE_LEN],
                       enum crypto_direction dir, uint64_t seq)
{
	uint64_t v = ((uint64_t)dir << 63) | (seq & CRYPTO_SEQ_MAX);

	memset(nonce, 0, CRYPTO_NONCE_LEN - CRYPTO_WIRE_NONCE_LEN);
	for (int i = 0; i < CRYPTO_WIRE_NONCE_LEN; i++)
		nonce[CRYPTO_NONCE_LEN - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void nonce_parse(const uint8_t wire[CRYPTO_WIRE_NONCE_LEN],
                        enum crypto_direction *dir, uint64_t *seq)
{
	uint64_t v = 0;

	for (int i = 0; i < CRYPTO_WIRE_NONCE_LEN; i++)
		v = (v << 8) | wire[i];
	*dir = (enum crypto_direction)(v >> 63);
	*seq = v & CRYPTO_SEQ_MAX;
}

int crypto_session_new(struct crypto_session **out,
                       const struct crypto_key *key,
                       enum crypto_direction send_dir)
{
	struct crypto_session *s;

	if (out == NULL || key == NULL ||
	    (send_dir != CRYPTO_TO_SERVER && send_dir != CRYPTO_TO_CLIENT))
		return CRYPTO_EINVAL;
	*out = NULL;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return CRYPTO_EBACKEND;
	mbedtls_gcm_init(&s->gcm);
	if (mbedtls_gcm_setkey(&s->gcm, MBEDTLS_CIPHER_ID_AES, key->bytes,
	                       8 * CRYPTO_KEY_LEN) != 0) {
		crypto_session_free(s);
		return CRYPTO_EBACKEND;
	}
	s->send_dir = send_dir;
	s->next_seq = 0;
	*out = s;
	return CRYPTO_OK;
}

void crypto_session_free(struct crypto_session *s)
{
	if (s == NULL)
		return;
	mbedtls_gcm_free(&s->gcm); /* wipes the expanded key */
	crypto_wipe(s, sizeof *s);
	free(s);
}

uint64_t crypto_session_next_seq(const struct crypto_session *s)
{
	return s->next_seq;
}

int crypto_session_skip_to(struct crypto_session *s, uint64_t seq)
{
	if (s == NULL || seq < s->next_seq)
		return CRYPTO_EINVAL;
	if (seq > CRYPTO_SEQ_MAX + 1)
		return CRYPTO_EINVAL;
	s->next_seq = seq;
	return CRYPTO_OK;
}

int crypto_seal(struct crypto_session *s, const uint8_t *pt, size_t len,
                uint8_t *out, size_t outcap, size_t *outlen, uint64_t *seq)
{
	uint8_t nonce[CRYPTO_NONCE_LEN];

	if (s == NULL || out == NULL || outlen == NULL || (pt == NULL && len))
		return CRYPTO_EINVAL;
	if (len > SIZE_MAX - CRYPTO_OVERHEAD || outcap < len + CRYPTO_OVERHEAD)
		return CRYPTO_ESPACE;
	/* Refuse rather than wrap: seq 2^63 - 1 is the last one ever used. */
	if (s->next_seq > CRYPTO_SEQ_MAX)
		return CRYPTO_EEXHAUSTED;

	nonce_make(nonce, s->send_dir, s->next_seq);
	if (mbedtls_gcm_crypt_and_tag(&s->gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
	                              sizeof nonce, NULL, 0, pt,
	                              out + CRYPTO_WIRE_NONCE_LEN,
	                              CRYPTO_TAG_LEN,
	                              out + CRYPTO_WIRE_NONCE_LEN + len) != 0)
		return CRYPTO_EBACKEND;
	memcpy(out, nonce + CRYPTO_NONCE_LEN - CRYPTO_WIRE_NONCE_LEN,
	       CRYPTO_WIRE_NONCE_LEN);
	*outlen = len + CRYPTO_OVERHEAD;
	if (seq != NULL)
		*seq = s->next_seq;
	s->next_seq++;
	return CRYPTO_OK;
}

int crypto_open(struct crypto_session *s, const uint8_t *dg, size_t len,
                uint8_t *out, size_t outcap, size_t *outlen, uint64_t *seq)
{
	uint8_t nonce[CRYPTO_NONCE_LEN];
	enum crypto_direction dir;
	uint64_t n;
	size_t ctlen;

	if (s == NULL || dg == NULL || outlen == NULL || seq == NULL)
		return CRYPTO_EINVAL;
	if (len < CRYPTO_OVERHEAD)
		return CRYPTO_EINVAL;
	ctlen = len - CRYPTO_OVERHEAD;
	if (outcap < ctlen || (out == NULL && ctlen > 0))
		return CRYPTO_ESPACE;

	nonce_parse(dg, &dir, &n);
	/* A datagram of our own direction is a reflection of what we sent:
	 * drop it before spending any work on it. */
	if (dir == s->send_dir)
		return CRYPTO_EDIRECTION;
	nonce_make(nonce, dir, n);

	/* mbedTLS verifies the tag in constant time and zeroes the output
	 * when it does not match. */
	if (mbedtls_gcm_auth_decrypt(&s->gcm, ctlen, nonce, sizeof nonce,
	                             NULL, 0, dg + len - CRYPTO_TAG_LEN,
	                             CRYPTO_TAG_LEN,
	                             dg + CRYPTO_WIRE_NONCE_LEN, out) != 0)
		return CRYPTO_EAUTH;
	*outlen = ctlen;
	*seq = n;
	return CRYPTO_OK;
}
