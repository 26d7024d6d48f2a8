/*
 * term_dump — print a screen as moshi's emulator sees it, for the tmux
 * oracle (tests/oracle/oracle.py).
 *
 *   term_dump COLS ROWS FILE            feed FILE to an emulator, dump it
 *   term_dump --capture COLS ROWS FILE  FILE is `tmux capture-pane -e -p -N`
 *                                       output: replay its lines (SGR and
 *                                       SO/SI included) and dump that; cells
 *                                       past a line's captured text have the
 *                                       background 0x2010203 ("unknown")
 *
 * Output, one item per line:
 *   cursor ROW COL
 *   modes HEX          (TERM_MODE_* bits)
 *   title TEXT
 *   row N              then one line per cell: CHARS|FG|BG|ATTR
 *                      (CHARS is the cell's UTF-8 or "" for a wide
 *                      character's right half; colours as in term.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../term/term.h"

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	size_t cap = 1 << 16, len = 0;
	char *d = malloc(cap);
	size_t k;
	while (d && (k = fread(d + len, 1, cap - len, f)) > 0) {
		len += k;
		if (len == cap)
			d = realloc(d, cap *= 2);
	}
	fclose(f);
	if (d == NULL) {
		fprintf(stderr, "term_dump: out of memory\n");
		exit(2);
	}
	*n = len;
	return d;
}

int main(int argc, char **argv)
{
	int capture = argc == 5 && strcmp(argv[1], "--capture") == 0;
	if (argc != 4 + capture) {
		fprintf(stderr, "usage: term_dump [--capture] COLS ROWS FILE\n");
		return 2;
	}
	int cols = atoi(argv[1 + capture]), rows = atoi(argv[2 + capture]);
	struct term *t = term_new(cols, rows);
	if (t == NULL) {
		fprintf(stderr, "term_dump: bad size\n");
		return 2;
	}
	size_t n;
	char *d = slurp(argv[3 + capture], &n);
	if (capture) {
		/* tmux writes DEC graphics as SO ... SI: G1 is the DEC set.
		 * Each captured line is one row; autowrap is off so a full
		 * line cannot spill into the next. */
		term_write(t, "\033)0\033[?7l", 9);
		size_t start = 0;
		int row = 0;
		for (size_t i = 0; i <= n && row < rows; i++) {
			if (i < n && d[i] != '\n')
				continue;
			/* tmux captures a line only as far as it was written:
			 * paint the row with a sentinel background first (the
			 * pen saved and restored around it) so that cells past
			 * the captured text are known to be unknown. */
			char cup[64];
			int k = snprintf(cup, sizeof cup,
			                 "\033[%d;1H\0337\033[48;2;1;2;3m\033[2K\0338",
			                 row + 1);
			term_write(t, cup, (size_t)k);
			term_write(t, d + start, i - start);
			start = i + 1;
			row++;
		}
	} else {
		term_write(t, d, n);
	}
	free(d);

	const struct term_frame *f = term_frame(t);
	int cy, cx;
	term_frame_cursor(f, &cy, &cx);
	printf("cursor %d %d\n", cy, cx);
	printf("modes %x\n", term_frame_modes(f));
	printf("title %s\n", term_frame_title(f));
	for (int y = 0; y < rows; y++) {
		printf("row %d\n", y);
		for (int x = 0; x < cols; x++) {
			char u[64];
			term_frame_cell_utf8(f, y, x, u, sizeof u);
			struct term_cell c = term_frame_cell(f, y, x);
			/* As a screen shows it: 4 and 4:1 are one style, 21
			 * and 4:2 another, and the form of SGR 58 is not seen. */
			uint16_t attr = c.attr & TERM_ATTR_SGR_MASK;
			int style = TERM_ATTR_UL_OF(attr);
			if (style == TERM_UL_PLAIN || style == TERM_UL_DOUBLE_21)
				attr = (uint16_t)((attr & ~TERM_ATTR_UL_STYLE) |
				        TERM_ATTR_UL(style == TERM_UL_PLAIN ?
				                     TERM_UL_SINGLE : TERM_UL_DOUBLE));
			if (!(attr & TERM_ATTR_UNDERLINE))
				attr &= (uint16_t)~TERM_ATTR_UL_STYLE;
			printf("%s|%x|%x|%x|%x\n", u, c.fg, c.bg, attr,
			       term_frame_cell_ul_colour(f, y, x) & ~TERM_COLOR_SEMICOLON);
		}
	}
	term_free(t);
	return 0;
}
