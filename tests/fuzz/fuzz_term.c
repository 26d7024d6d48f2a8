/* Fuzz target: the VT parser and emulator. Any byte stream, written in
 * pieces split where the input says, at a size the input picks, with a
 * resize in the middle; then a frame copy and replies are read back.
 * The same stream is also written one byte at a time, which takes every
 * sequence through the parser's tables instead of the emulator's own
 * reading of the ground state (ground() in term/ground.c), and never keeps a line
 * as bytes (flood_lines in term/flood.c): the two emulators must end equal, frame,
 * replies and every scrollback line read back (an abort otherwise). */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../term/term.h"
#include "../term_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_bytewise(struct term *t, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		term_write(t, d + i, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int cols = 1 + data[0] % 132, rows = 1 + data[1] % 60;
	size_t split = size > 3 ? data[2] % (size - 3 + 1) : 0;
	data += 3;
	size -= 3;
	struct term *t = term_new(cols, rows);
	struct term *b = term_new(cols, rows);
	if (t == NULL || b == NULL) {
		term_free(t);
		term_free(b);
		return 0;
	}
	term_write(t, data, split);
	write_bytewise(b, data, split);
	term_resize(t, rows + 1, cols > 1 ? cols - 1 : 2);
	term_resize(b, rows + 1, cols > 1 ? cols - 1 : 2);
	term_write(t, data + split, size - split);
	write_bytewise(b, data + split, size - split);
	char why[256];
	if (!terms_same(t, b, why, sizeof why)) {
		fprintf(stderr, "whole and byte-by-byte writes differ: %s\n", why);
		abort();
	}
	struct term_frame *f = term_frame_copy(term_frame(t));
	term_frame_free(f);
	term_free(t);
	term_free(b);
	return 0;
}
