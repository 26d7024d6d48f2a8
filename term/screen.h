/*
 * The screen (screen.c): printing, erasing, inserting, deleting,
 * scrolling, the cursor, tab stops, the scrollback and resizing, as the
 * emulator's events and the ground loop ask for them. Coordinates are
 * 0-based; callers have checked nothing.
 */
#ifndef MOSHI_TERM_SCREEN_H
#define MOSHI_TERM_SCREEN_H

#include "internal.h"
#include "fill.h"

#include <stddef.h>
#include <string.h>

/* The cursor's row. */
static inline struct term_row *screen_cur_row(struct term *t)
{
	return t->f->row[t->f->cy];
}

/* Whether the alternate screen is shown. */
static inline bool screen_alt_active(const struct term *t)
{
	return t->hidden.base != NULL;
}

/* The rows frame f shows, and showing another set. */
static inline struct rowset screen_rowset(const struct term_frame *f)
{
	return (struct rowset){ f->rowbase, f->row, f->rowcap };
}

static inline void screen_set_rowset(struct term_frame *f, struct rowset s)
{
	f->rowbase = s.base;
	f->row = s.row;
	f->rowcap = s.cap;
}

/* Whether a printed ASCII character is itself, overwrites and may wrap:
 * no insert mode, autowrap on, ASCII in GL. */
static inline bool screen_plain_print(const struct term *t)
{
	return !t->insert && t->autowrap && t->g[t->gl] == 'B';
}


/* CR, and LF, VT and FF (an index, then a CR under LNM). */
static inline void screen_carriage_return(struct term_frame *f)
{
	f->cx = 0;
	f->wrap_pending = false;
}

void screen_index(struct term *t);

static inline void screen_line_feed(struct term *t)
{
	screen_index(t);
	if (t->newline)
		t->f->cx = 0;
}

/* A wide character is two cells; overwriting or erasing either half
 * erases both. Called on a cell that is about to change. */
void screen_split_wide_slow(struct term *t, struct term_row *r, int x);
static inline void screen_split_wide(struct term *t, struct term_row *r, int x)
{
	if (t->wide_seen && x >= 0 && x < r->len &&
	    (r->cells[x].attr & (TERM_ATTR_WIDE | TERM_ATTR_WIDE_CONT)))
		screen_split_wide_slow(t, r, x);
}

/* Printing: screen_print takes any character (DEC graphics, combining
 * marks and wide characters as xterm does), screen_print_ascii a run of
 * printable ASCII, the hot path of every scrolling program: inline here,
 * for the ground loop (a call a run cost the cursor-heavy corpus of
 * tests/bench/ab/term_ab.sh 2%). Both wrap with screen_wrap_line and
 * move the cursor with screen_print_advance; tests/term_chunks_test.c
 * compares them (a run written a byte at a time goes through
 * screen_print, one written whole through screen_print_ascii). */
void screen_print(struct term *t, uint32_t cp);

/* The line goes on on the next one: the cursor's row is marked as
 * wrapped (a soft wrap) and the cursor goes to the next line's start. */
void screen_wrap_line(struct term *t);

/* The cursor after a print that ended at column x (exclusive): there, or
 * on the last column with a wrap pending (DECAWM's deferred wrap). */
static inline void screen_print_advance(struct term *t, int x)
{
	struct term_frame *f = t->f;

	if (x >= f->cols) {
		f->cx = f->cols - 1;
		f->wrap_pending = t->autowrap;
	} else {
		f->cx = x;
	}
}

/* Cells [x, x + n) of r, which are real, become the characters s[0..n)
 * in the pen. */
static inline void screen_fill_ascii(struct term *t, struct term_row *r, int x,
                                     const uint8_t *s, size_t n)
{
	fill_ascii(&r->cells[x], s, n, &t->pen, t->simd_max);
	if (t->pen.ul != 0) {
		/* fill_ascii leaves the underline colour at the default */
		uint8_t ul = term_row_ul_index(r, t->pen.ul);
		for (size_t i = 0; i < n; i++)
			r->cells[(size_t)x + i].ul = ul;
	}
}

static inline void screen_print_ascii(struct term *t, const uint8_t *s, size_t n)
{
	struct term_frame *f = t->f;

	if (!screen_plain_print(t)) {
		for (size_t i = 0; i < n; i++)
			screen_print(t, s[i]);
		return;
	}
	int x = f->cx;
	if (!f->wrap_pending && (size_t)(f->cols - x) > n) {
		/* The usual run: it ends before the margin, with no wrap
		 * pending. The loop below does the same; this twin of its
		 * first pass, with no wrap or margin to think of, is kept
		 * for speed (ten instructions a run fewer, 2% of the
		 * cursor-heavy corpus of tests/bench/ab/term_ab.sh). */
		struct term_row *r = f->row[f->cy];
		int e = x + (int)n;
		if (x >= r->len) {
			/* at the end of what the row holds (the usual
			 * case): no wide character to split */
			term_row_materialize(r, x);
		} else {
			screen_split_wide(t, r, x);
			screen_split_wide(t, r, e - 1);
		}
		if (e > r->len)
			r->len = (uint16_t)e;
		screen_fill_ascii(t, r, x, s, n);
		term_row_touch(r);
		t->last_char = s[n - 1];
		f->cx = e;
		return;
	}
	/* A line at a time: the part of the run that fits on the line,
	 * then, with the wrap that leaves pending, the next line (autowrap
	 * is on in the usual state). */
	while (n > 0) {
		if (f->wrap_pending)
			screen_wrap_line(t);
		f->wrap_pending = false;
		struct term_row *r = screen_cur_row(t);
		x = f->cx;
		size_t k = n < (size_t)(f->cols - x) ? n : (size_t)(f->cols - x);
		int e = x + (int)k;
		term_row_materialize(r, x);
		screen_split_wide(t, r, x);
		screen_split_wide(t, r, e - 1);
		if (e > r->len)
			r->len = (uint16_t)e;
		screen_fill_ascii(t, r, x, s, k);
		term_row_touch(r);
		t->last_char = s[k - 1];
		s += k;
		n -= k;
		screen_print_advance(t, e);
	}
}

/* Cursor: to (x, y) clamped to the screen; screen_move_abs counts rows
 * from the top margin in origin mode (CUP, VPA). */
void screen_move_to(struct term *t, int x, int y);
void screen_move_abs(struct term *t, int x, int y);
void screen_reverse_index(struct term *t);
void screen_tab_forward(struct term *t, int n);
void screen_tab_backward(struct term *t, int n);
void screen_save_cursor(struct term *t);    /* DECSC */
void screen_restore_cursor(struct term *t); /* DECRC */

/* Tab stops every 8 columns from column `from` on. */
void screen_reset_tabs(struct term *t, int from);

/* Editing, in the pen's background (xterm's background colour erase). */
void screen_erase_cells(struct term *t, struct term_row *r, int from, int to);
void screen_insert_blanks(struct term *t, struct term_row *r, int x, int n);
void screen_delete_chars(struct term *t, struct term_row *r, int x, int n);
void screen_erase_display(struct term *t, int mode); /* ED's selector */
/* EL's selector: inline for the ground loop's EL 0. */
static inline void screen_erase_line(struct term *t, int mode)
{
	struct term_frame *f = t->f;

	switch (mode) {
	case 0: screen_erase_cells(t, screen_cur_row(t), f->cx, f->cols); break;
	case 1: screen_erase_cells(t, screen_cur_row(t), 0, f->cx + 1); break;
	case 2: screen_erase_cells(t, screen_cur_row(t), 0, f->cols); break;
	}
}

/* Scroll rows [top, bottom] by n; up into the scrollback when `save` and
 * the region starts at the top of the main screen. */
void screen_scroll_up(struct term *t, int top, int bottom, int n, bool save);
void screen_scroll_down(struct term *t, int top, int bottom, int n);

/* Show the alternate screen (on) or the main one, clearing the screen
 * shown when `clear` asks for it (47, 1047, 1049). */
void screen_set_alt(struct term *t, bool on, bool clear);

void screen_scrollback_free(struct term *t);
/* The lines the scrollback keeps now (t->sb_limit), after its size or the
 * widest the window has been changed; the oldest past it go. */
void screen_scrollback_limit(struct term *t);
/* The ring's size for t->sb_cap lines: the power of two at or above. */
void screen_scrollback_size(struct term *t);
/* Scrollback line number n (counted from the first line ever kept, as
 * term_scrollback_total counts), made into cells if it was kept as
 * bytes; NULL when the ring no longer (or not yet) holds it. */
const struct term_row *screen_history_row(struct term *t, uint64_t n);

/* Sizes past TERM_MAX_COLS x TERM_MAX_ROWS are cut down to them. */
void screen_clamp_size(int *cols, int *rows);

#endif
