/*
 * The screen (screen.c): printing, erasing, inserting, deleting,
 * scrolling, the cursor, tab stops, the scrollback and resizing, as the
 * emulator's events and the ground loop ask for them. Coordinates are
 * 0-based; callers have checked nothing.
 */
#ifndef MOSHI_TERM_SCREEN_H
#define MOSHI_TERM_SCREEN_H

#include "internal.h"

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
 * no insert mode, autowrap on, ASCII in GL. The usual state, with both
 * charsets ASCII, is one 32-bit compare. */
static inline bool screen_plain_print(const struct term *t)
{
	_Static_assert(offsetof(struct term, autowrap) == offsetof(struct term, insert) + 1 &&
	               offsetof(struct term, g) == offsetof(struct term, insert) + 2,
	               "insert, autowrap and g are four bytes in a row");
	static const uint8_t usual[4] = { false, true, 'B', 'B' };
	if (memcmp(&t->insert, usual, 4) == 0)
		return true;
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

/* Printing: one character (any code point; DEC graphics, combining marks
 * and wide characters as xterm does), and a run of printable ASCII (the
 * hot path of every scrolling program). */
void screen_print(struct term *t, uint32_t cp);
void screen_print_ascii(struct term *t, const uint8_t *s, size_t n);

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
void screen_erase_line(struct term *t, int mode);    /* EL's selector */

/* Scroll rows [top, bottom] by n; up into the scrollback when `save` and
 * the region starts at the top of the main screen. */
void screen_scroll_up(struct term *t, int top, int bottom, int n, bool save);
void screen_scroll_down(struct term *t, int top, int bottom, int n);

/* Show the alternate screen (on) or the main one, clearing the screen
 * shown when `clear` asks for it (47, 1047, 1049). */
void screen_set_alt(struct term *t, bool on, bool clear);

void screen_scrollback_free(struct term *t);

/* Sizes past TERM_MAX_COLS x TERM_MAX_ROWS are cut down to them. */
void screen_clamp_size(int *cols, int *rows);

#endif
