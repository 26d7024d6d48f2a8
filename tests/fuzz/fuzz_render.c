/* Fuzz target: the frame-diff round trip. The input is two byte streams
 * (split at a point it names); each drawn on a fresh emulator gives frames
 * A and B. Rendering A -> B and writing the result to an emulator showing
 * A must show exactly B: anything else aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../term/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct term *drawn(int cols, int rows, const uint8_t *b, size_t n)
{
	struct term *t = term_new(cols, rows);
	if (t != NULL)
		term_write(t, b, n);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int cols = 1 + data[0] % 100, rows = 1 + data[1] % 40;
	size_t split = data[2] % (size - 3 + 1);
	data += 3;
	size -= 3;
	struct term *a = drawn(cols, rows, data, split);
	struct term *b = drawn(cols, rows, data + split, size - split);
	struct term *c = a != NULL ? term_from_frame(term_frame(a)) : NULL;
	if (a != NULL && b != NULL && c != NULL) {
		struct term_buf out = { 0 };
		term_render(term_frame(a), term_frame(b), &out);
		if (!out.failed) {
			term_write(c, out.data, out.len);
			char why[256];
			if (!term_frame_equal(term_frame(c), term_frame(b), why, sizeof why)) {
				fprintf(stderr, "render round trip differs: %s\n", why);
				abort();
			}
		}
		term_buf_free(&out);
	}
	term_free(a);
	term_free(b);
	term_free(c);
	return 0;
}
