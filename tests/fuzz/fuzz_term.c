/* Fuzz target: the VT parser and emulator. Any byte stream, written in
 * pieces split where the input says, at a size the input picks, with a
 * resize in the middle; then a frame copy and replies are read back. */
#include <stdint.h>
#include <stddef.h>

#include "../../term/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int cols = 1 + data[0] % 132, rows = 1 + data[1] % 60;
	size_t split = size > 3 ? data[2] % (size - 3 + 1) : 0;
	data += 3;
	size -= 3;
	struct term *t = term_new(cols, rows);
	if (t == NULL)
		return 0;
	term_write(t, data, split);
	term_resize(t, rows + 1, cols > 1 ? cols - 1 : 2);
	term_write(t, data + split, size - split);
	size_t n;
	(void)term_replies(t, &n);
	struct term_frame *f = term_frame_copy(term_frame(t));
	term_frame_free(f);
	term_free(t);
	return 0;
}
