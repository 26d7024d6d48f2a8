/* Fuzz target: the diff appliers of both synchronized states. The first
 * byte picks the user stream or the terminal state; the rest is a diff
 * applied to a fresh state. One that applies must survive a round trip:
 * its diff from a fresh state, applied to another fresh state, gives an
 * equal state. */
#include <stdint.h>
#include <stdlib.h>

#include "../../sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *fresh(int which)
{
	return which ? (void *)sync_termstate_new(80, 24) : (void *)sync_userstream_new();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] & 1;
	const struct ssp_state_ops *ops = which ? &sync_termstate_ops : &sync_userstream_ops;
	void *s = fresh(which), *base = fresh(which), *copy = fresh(which);
	if (s != NULL && base != NULL && copy != NULL &&
	    ops->apply(s, data + 1, size - 1) == SSP_OK) {
		struct ssp_writer w = { 0 };
		if (ops->diff(base, s, &w) == SSP_OK && !w.failed) {
			if (ops->apply(copy, w.data, w.len) != SSP_OK || !ops->equal(copy, s))
				abort();
		}
		ssp_writer_free(&w);
	}
	if (s)
		ops->free(s);
	if (base)
		ops->free(base);
	if (copy)
		ops->free(copy);
	return 0;
}
