/*
 * crypto/ — moshi's session keys and authenticated encryption.
 *
 * One session key (16 random bytes) is shared by the two ends of a session.
 * Every datagram is sealed with AES-128-GCM under a nonce that is built in
 * exactly one place (crypto.c): four zero bytes followed by the big-endian
 * 64-bit value (direction << 63 | sequence number). Each sealing context owns
 * the sequence counter for its direction, so a nonce can never be used twice
 * under one key, and the counter refuses to pass 2^63 - 1 rather than wrap.
 *
 * On the wire a sealed datagram is
 *
 *     nonce tail (8 bytes) || ciphertext || tag (16 bytes)
 *
 * where the nonce tail is the last eight bytes of the nonce. Nothing here
 * knows about sockets, datagram layouts above this one, or roles. Functions
 * return 0 or a negative CRYPTO_E* code; none of them exits or aborts on
 * bad input.
 */
#ifndef MOSHI_CRYPTO_H
#define MOSHI_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 16
#define CRYPTO_KEY_B64_LEN 22 /* base64 of 16 bytes, no padding */
#define CRYPTO_NONCE_LEN 12
#define CRYPTO_WIRE_NONCE_LEN 8
#define CRYPTO_TAG_LEN 16
#define CRYPTO_OVERHEAD (CRYPTO_WIRE_NONCE_LEN + CRYPTO_TAG_LEN)
#define CRYPTO_SEQ_MAX ((uint64_t)INT64_MAX) /* 2^63 - 1 */

enum crypto_error {
	CRYPTO_OK = 0,
	CRYPTO_EINVAL = -1,    /* bad argument: length, format, NULL */
	CRYPTO_ESPACE = -2,    /* output buffer too small */
	CRYPTO_EAUTH = -3,     /* tag did not verify: forged or corrupted */
	CRYPTO_EDIRECTION = -4,/* authentic layout, but the other direction */
	CRYPTO_EEXHAUSTED = -5,/* sequence numbers used up: rekey required */
	CRYPTO_ERANDOM = -6,   /* no randomness available */
	CRYPTO_EBACKEND = -7,  /* mbedTLS refused (out of memory, ...) */
};

/* Directions. The client seals with CRYPTO_TO_SERVER, the server with
 * CRYPTO_TO_CLIENT; each opens the other. */
enum crypto_direction {
	CRYPTO_TO_SERVER = 0,
	CRYPTO_TO_CLIENT = 1,
};

struct crypto_key {
	uint8_t bytes[CRYPTO_KEY_LEN];
};

/* A short description of an error code, for logs and messages. */
const char *crypto_strerror(int err);

/* The mbedTLS version this binary was built with, e.g. "2.28.3". */
const char *crypto_backend_version(void);

/* Overwrite memory in a way the compiler may not remove. */
void crypto_wipe(void *p, size_t len);

/* Fill buf with len bytes from the kernel's CSPRNG (getrandom, falling
 * back to /dev/urandom). */
int crypto_random(void *buf, size_t len);

/* A fresh random session key. */
int crypto_key_generate(struct crypto_key *key);

/* Encode key as 22 base64 characters plus a NUL into out. */
void crypto_key_encode(const struct crypto_key *key,
                       char out[CRYPTO_KEY_B64_LEN + 1]);

/* Decode exactly 22 characters of standard base64 (no padding, no
 * whitespace) into key. Rejects any other length, any character outside the
 * alphabet, and non-canonical text (the last character's unused low bits
 * set). key is left untouched on failure. */
int crypto_key_decode(struct crypto_key *key, const char *text);

/* A sealing/opening context for one session. It seals in `send_dir` with
 * its own sequence counter and opens only datagrams of the other
 * direction. The key is copied in and wiped by crypto_session_free. */
struct crypto_session;

int crypto_session_new(struct crypto_session **out,
                       const struct crypto_key *key,
                       enum crypto_direction send_dir);
void crypto_session_free(struct crypto_session *s);

/* The sequence number the next crypto_seal will use. */
uint64_t crypto_session_next_seq(const struct crypto_session *s);

/* Move the send counter forward to seq (never backward, which could reuse
 * a nonce). Used to resume a counter and by tests of exhaustion. */
int crypto_session_skip_to(struct crypto_session *s, uint64_t seq);

/* Seal plaintext pt[0..len) into out, which must hold len +
 * CRYPTO_OVERHEAD bytes. On success *outlen is the datagram length and,
 * if seq is not NULL, *seq the sequence number used. in and out may not
 * overlap. */
int crypto_seal(struct crypto_session *s, const uint8_t *pt, size_t len,
                uint8_t *out, size_t outcap, size_t *outlen, uint64_t *seq);

/* Open datagram dg[0..len) into out, which must hold len -
 * CRYPTO_OVERHEAD bytes. Verifies length, direction and tag before any
 * plaintext is returned; on failure out holds no plaintext. On success
 * *outlen is the plaintext length and *seq the sender's sequence number
 * (replay detection is the caller's business: it knows its window). */
int crypto_open(struct crypto_session *s, const uint8_t *dg, size_t len,
                uint8_t *out, size_t outcap, size_t *outlen, uint64_t *seq);

#endif
