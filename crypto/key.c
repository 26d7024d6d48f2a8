/*
 * Session keys: randomness, wiping, and the 22-character base64 form in
 * which a key travels from server to client (inside ssh, never on a
 * command line).
 */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mbedtls/platform_util.h"

void crypto_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		mbedtls_platform_zeroize(p, len);
}

static int random_from_urandom(uint8_t *buf, size_t len)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return CRYPTO_ERANDOM;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return CRYPTO_ERANDOM;
		}
		got += (size_t)n;
	}
	close(fd);
	return CRYPTO_OK;
}

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	if (buf == NULL && len > 0)
		return CRYPTO_EINVAL;
	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* ENOSYS on old kernels, EPERM under some seccomp
			 * filters: the device file still works there. */
			return random_from_urandom(p + got, len - got);
		}
		got += (size_t)n;
	}
	return CRYPTO_OK;
}

int crypto_key_generate(struct crypto_key *key)
{
	if (key == NULL)
		return CRYPTO_EINVAL;
	return crypto_random(key->bytes, sizeof key->bytes);
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of a base64 character, or -1. Written as ranges rather than a
 * table lookup on the character so no input indexes memory. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

void crypto_key_encode(const struct crypto_key *key,
                       char out[CRYPTO_KEY_B64_LEN + 1])
{
	/* 16 bytes = 128 bits = 21 full sextets and 2 bits in a 22nd. */
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < CRYPTO_KEY_LEN; i++) {
		acc = (acc << 8) | key->bytes[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64_alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = b64_alphabet[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
}

int crypto_key_decode(struct crypto_key *key, const char *text)
{
	struct crypto_key tmp;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (key == NULL || text == NULL)
		return CRYPTO_EINVAL;
	if (strnlen(text, CRYPTO_KEY_B64_LEN + 1) != CRYPTO_KEY_B64_LEN)
		return CRYPTO_EINVAL;
	for (size_t i = 0; i < CRYPTO_KEY_B64_LEN; i++) {
		int v = b64_value((unsigned char)text[i]);
		if (v < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			tmp.bytes[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* 22 sextets leave 4 bits over; canonical text has them zero. */
	if (o != CRYPTO_KEY_LEN || bits != 4 || (acc & 0x0f) != 0)
		goto bad;
	*key = tmp;
	crypto_wipe(&tmp, sizeof tmp);
	return CRYPTO_OK;
bad:
	crypto_wipe(&tmp, sizeof tmp);
	return CRYPTO_EINVAL;
}
