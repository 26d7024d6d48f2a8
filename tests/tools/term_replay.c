/*
 * term_replay — replay a timed recording of a terminal's input through
 * moshi's emulator and print the screen each time its text changes, for
 * the typing benchmark (tests/bench/typing_bench.py).
 *
 *   term_replay COLS ROWS < RECORDING
 *
 * RECORDING is a sequence of records, each a header line "SECONDS LENGTH\n"
 * followed by LENGTH bytes as they were read from the terminal's master.
 * Output, for every record after which the screen's text or the cursor
 * differs from the last one printed:
 *   @ SECONDS CURSOR_ROW CURSOR_COL
 *   ROWS lines: each row's characters, trailing blanks dropped
 * Attributes are not printed: the benchmark asks when text became visible.
 * Each screen is flushed at once, so a caller can follow it live.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../term/term.h"

static size_t row_text(const struct term_frame *f, int row, char *out, size_t cap)
{
	size_t n = 0, keep = 0;
	for (int x = 0; x < term_frame_cols(f); x++) {
		char u[64];
		size_t k = term_frame_cell_utf8(f, row, x, u, sizeof u);
		if (k == 0)
			continue; /* right half of a wide character */
		if (n + k >= cap)
			break;
		memcpy(out + n, u, k);
		n += k;
		if (!(k == 1 && u[0] == ' '))
			keep = n;
	}
	out[keep] = '\0';
	return keep;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: term_replay COLS ROWS < RECORDING\n");
		return 2;
	}
	int cols = atoi(argv[1]), rows = atoi(argv[2]);
	struct term *t = term_new(cols, rows);
	if (t == NULL) {
		fprintf(stderr, "term_replay: bad size\n");
		return 2;
	}
	size_t cap = (size_t)cols * 64 + 1;
	char *last = calloc((size_t)rows, cap);
	char *now = calloc((size_t)rows, cap);
	char *buf = NULL;
	size_t bufcap = 0;
	if (last == NULL || now == NULL)
		return 2;
	double secs;
	size_t len;
	int first = 1, last_cy = -1, last_cx = -1;
	while (scanf("%lf %zu", &secs, &len) == 2) {
		if (getchar() != '\n') {
			fprintf(stderr, "term_replay: bad record header\n");
			return 1;
		}
		if (len > bufcap) {
			bufcap = len;
			buf = realloc(buf, bufcap);
			if (buf == NULL)
				return 2;
		}
		if (fread(buf, 1, len, stdin) != len) {
			fprintf(stderr, "term_replay: truncated record\n");
			return 1;
		}
		term_write(t, buf, len);
		term_replies_clear(t);
		const struct term_frame *f = term_frame(t);
		for (int y = 0; y < rows; y++)
			row_text(f, y, now + (size_t)y * cap, cap);
		int cy, cx;
		term_frame_cursor(f, &cy, &cx);
		int same = !first && cy == last_cy && cx == last_cx;
		for (int y = 0; y < rows && same; y++)
			same = strcmp(now + (size_t)y * cap, last + (size_t)y * cap) == 0;
		if (same)
			continue;
		first = 0;
		last_cy = cy;
		last_cx = cx;
		for (int y = 0; y < rows; y++)
			strcpy(last + (size_t)y * cap, now + (size_t)y * cap);
		printf("@ %.6f %d %d\n", secs, cy, cx);
		for (int y = 0; y < rows; y++)
			printf("%s\n", now + (size_t)y * cap);
		fflush(stdout); /* read live by the benchmark */
	}
	free(buf);
	free(last);
	free(now);
	term_free(t);
	return 0;
}
