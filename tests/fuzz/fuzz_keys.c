/* Fuzz target: key decoding of the user's terminal input (roles/keys.c
 * over libtermkey), fed in two pieces, every key described; and the
 * reading of extended control keys (keys_extended_control). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../roles/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void terminal_keys(const uint8_t *d, size_t n)
{
	struct keys *k = keys_new();
	if (k == NULL)
		return;
	size_t half = n / 2;
	const uint8_t *parts[2] = { d, d + half };
	size_t lens[2] = { half, n - half };
	for (int i = 0; i < 2; i++) {
		size_t done = 0;
		while (done < lens[i]) {
			size_t took = keys_push(k, parts[i] + done, lens[i] - done);
			done += took;
			TermKeyKey key;
			char buf[128];
			while (keys_next(k, &key, i == 1))
				keys_describe(k, &key, buf, sizeof buf);
			if (took == 0)
				break;
		}
	}
	keys_free(k);
}

/* The client's reading of extended control keys (the escape key): a
 * length within the input when it finds one. */
static void extended_control(const uint8_t *d, size_t n)
{
	size_t len = 0;
	if (keys_extended_control(d, n, &len) >= 0 && (len < 4 || len > n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	terminal_keys(data, size);
	extended_control(data, size);
	return 0;
}
