#include "keys.h"

#include <stdlib.h>

#define KEYS_STR2(x) #x
#define KEYS_STR(x) KEYS_STR2(x)

struct keys {
	TermKey *tk;
};

const char *keys_backend_version(void)
{
	return KEYS_STR(TERMKEY_VERSION_MAJOR) "." KEYS_STR(TERMKEY_VERSION_MINOR);
}

struct keys *keys_new(void)
{
	struct keys *k = calloc(1, sizeof *k);

	if (k == NULL)
		return NULL;
	/* moshi needs no locale: bytes are always UTF-8 on its terminals. */
	k->tk = termkey_new_abstract("xterm",
	                             TERMKEY_FLAG_UTF8 | TERMKEY_FLAG_NOTERMIOS);
	if (k->tk == NULL) {
		free(k);
		return NULL;
	}
	/* Without terminfo, libtermkey reports 0x7f as DEL; every terminal
	 * moshi targets sends it for the Backspace key. */
	termkey_set_canonflags(k->tk, termkey_get_canonflags(k->tk) |
	                              TERMKEY_CANON_DELBS);
	return k;
}

void keys_free(struct keys *k)
{
	if (k == NULL)
		return;
	termkey_destroy(k->tk);
	free(k);
}

size_t keys_push(struct keys *k, const void *buf, size_t len)
{
	return termkey_push_bytes(k->tk, buf, len);
}

int keys_next(struct keys *k, TermKeyKey *key, int flush)
{
	TermKeyResult r = termkey_getkey(k->tk, key);

	if (r == TERMKEY_RES_AGAIN && flush)
		r = termkey_getkey_force(k->tk, key);
	return r == TERMKEY_RES_KEY;
}

int keys_wait_ms(const struct keys *k)
{
	return termkey_get_waittime(k->tk);
}

size_t keys_describe(struct keys *k, const TermKeyKey *key, char *buf,
                     size_t len)
{
	TermKeyKey copy = *key;

	return termkey_strfkey(k->tk, buf, len, &copy, TERMKEY_FORMAT_VIM);
}


int keys_extended_control(const uint8_t *in, size_t n, size_t *len)
{
	long p[3] = { 0, 0, 0 };
	int np = 0;
	size_t i = 2;
	if (n < 4 || in[0] != 0x1b || in[1] != '[')
		return -1;
	for (; i < n && np < 3; i++) {
		if (in[i] >= '0' && in[i] <= '9' && p[np] < 100000)
			p[np] = p[np] * 10 + (in[i] - '0');
		else if (in[i] == ';')
			np++;
		else
			break;
	}
	if (i == n || np >= 3 || (in[i] != 'u' && in[i] != '~'))
		return -1;
	long code = p[0], mods = p[1];
	if (in[i] == '~') {
		if (np != 2 || p[0] != 27)
			return -1;
		code = p[2];
	} else if (np != 1) {
		return -1;
	}
	if (mods < 1 || !((mods - 1) & 4) || ((mods - 1) & ~5))
		return -1; /* Ctrl, perhaps Shift, nothing else */
	*len = i + 1;
	if (code >= 'a' && code <= 'z')
		return (int)(code - 'a' + 1);
	if (code >= '@' && code <= '_')
		return (int)(code & 0x1f);
	if (code >= '3' && code <= '7')
		return (int)(code - '3' + 0x1b);
	if (code == '?' || code == '8')
		return 0x7f;
	if (code == '2' || code == ' ')
		return 0;
	if (code == '/')
		return 0x1f;
	return -1;
}
