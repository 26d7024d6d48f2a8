/*
 * The screen: what printing, erasing, inserting, deleting, scrolling and
 * moving the cursor do to the rows, the tab stops, the scrollback and the
 * size. Emulator events (emu.c) and the ground loop (ground.c) call these.
 */
#include "screen.h"

#include "fill.h"
#include "flood.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct term_cell erased(const struct term *t)
{
	struct term_cell c = { 0, 0, t->pen.bg, 0, 0, 0 };
	return c;
}

void screen_reset_tabs(struct term *t, int from)
{
	for (int i = from; i < TERM_MAX_COLS; i++)
		t->tabs[i] = (i % 8 == 0);
}

void screen_split_wide_slow(struct term *t, struct term_row *r, int x)
{
	struct term_cell *c = &r->cells[x];
	if ((c->attr & TERM_ATTR_WIDE_CONT) && x > 0) {
		r->cells[x - 1] = erased(t);
		*c = erased(t);
	} else if ((c->attr & TERM_ATTR_WIDE) && x + 1 < r->len) {
		r->cells[x + 1] = erased(t);
		*c = erased(t);
	} else if (c->attr & TERM_ATTR_WIDE) {
		*c = erased(t);
	}
}

/* Erase cells [from, to) of row r with the pen's background. */
void screen_erase_cells(struct term *t, struct term_row *r, int from, int to)
{
	int cols = t->f->cols;

	if (to > cols)
		to = cols;
	if (from >= to)
		return;
	screen_split_wide(t, r, from);
	screen_split_wide(t, r, to - 1);
	if (to >= cols && from <= r->len) {
		/* Up to the end of the line: shrink the stored part. */
		if (from == 0) {
			term_row_clear(r, t->pen.bg);
			return;
		}
		r->len = (uint16_t)from;
		r->fill = t->pen.bg;
	} else {
		term_row_materialize(r, to);
		struct term_cell b = erased(t);
		for (int i = from; i < to; i++)
			r->cells[i] = b;
	}
	if (from == 0 && to >= cols)
		r->wrapped = false;
	term_row_touch(r);
}

static void clear_row(struct term *t, struct term_row *r)
{
	term_row_clear(r, t->pen.bg);
}

/* ---- scrollback ------------------------------------------------------ */

/* The ring index after i, and k after i (k < the ring's size, a power of
 * two). */
static inline int sb_next(const struct term *t, int i)
{
	return (i + 1) & t->sb_mask;
}

static inline int sb_ahead(const struct term *t, int i, int k)
{
	return (i + k) & t->sb_mask;
}

static struct term_row *scrollback_push_slow(struct term *t, struct term_row *r,
                                             bool want_spare);

/* The lines the scrollback keeps now: its size, or fewer where the
 * widest window the emulator has had would make that many lines take more
 * than TERM_SCROLLBACK_BYTES of cells; the oldest lines past it go. */
void screen_scrollback_limit(struct term *t)
{
	long fit = TERM_SCROLLBACK_BYTES / ((long)t->widest * (long)sizeof(struct term_cell));
	t->sb_limit = fit < t->sb_cap ? (int)(fit > TERM_SCROLLBACK_MIN ? fit : TERM_SCROLLBACK_MIN)
	                              : t->sb_cap;
	while (t->sb_count > t->sb_limit) {
		term_row_free(t->sb[t->sb_head]);
		t->sb[t->sb_head] = NULL;
		t->sb_head = sb_next(t, t->sb_head);
		t->sb_count--;
	}
}

/* Keep row r, which just left the top of the main screen. With want_spare,
 * return a row to use in its place (the oldest scrollback row once the
 * ring is full, so the steady state allocates nothing), or NULL when none
 * could be had: then r was not kept and the caller reuses it. */
static inline struct term_row *scrollback_push(struct term *t, struct term_row *r,
                                               bool want_spare)
{
	/* The steady state of a scrolling program: the ring is full, and
	 * its oldest row, wide enough, takes r's place on the screen. */
	if (want_spare && t->sb_count == t->sb_limit) {
		int head = t->sb_head;
		struct term_row *spare = t->sb[head];
		if (spare->cap >= t->f->cols) {
			/* The oldest leaves, r is the newest: in its slot
			 * when the ring is used whole. */
			t->sb[sb_ahead(t, head, t->sb_count)] = r;
			head = sb_next(t, head);
			t->sb_head = head;
			t->sb_total++;
			/* The ring is first in, first out: the rows the next
			 * lines will reuse are known, and cold in cache. Fetch
			 * them early: headers eight lines ahead, cells four
			 * (their headers are in cache by then). */
			__builtin_prefetch(t->sb[sb_ahead(t, head, 8)], 1);
			const struct term_row *soon = t->sb[sb_ahead(t, head, 4)];
			__builtin_prefetch(soon->cells, 1);
			__builtin_prefetch((const char *)soon->cells + 64, 1);
			return spare;
		}
	}
	return scrollback_push_slow(t, r, want_spare);
}

static struct term_row *scrollback_push_slow(struct term *t, struct term_row *r,
                                             bool want_spare)
{
	struct term_row *spare = NULL;
	bool full = t->sb_count >= t->sb_limit;

	if (t->sb == NULL && (t->sb = calloc((size_t)t->sb_mask + 1, sizeof *t->sb)) == NULL) {
		if (!want_spare)
			term_row_free(r); /* it was ours to keep */
		return NULL;
	}

	if (full)
		spare = t->sb[t->sb_head];
	if (want_spare) {
		if (spare == NULL)
			spare = term_row_new(t->f->cols);
		if (spare == NULL || (spare->cap < t->f->cols &&
		                      term_row_reserve(spare, t->f->cols) != TERM_OK))
			return NULL;
	} else {
		term_row_free(spare);
		spare = NULL;
	}
	if (full) {
		t->sb[t->sb_head] = NULL;
		t->sb_head = sb_next(t, t->sb_head);
		t->sb[sb_ahead(t, t->sb_head, t->sb_count - 1)] = r;
	} else {
		t->sb[sb_ahead(t, t->sb_head, t->sb_count)] = r;
		t->sb_count++;
	}
	t->sb_total++;
	return spare;
}

static void scrollback_clear(struct term *t)
{
	for (int i = 0; i < t->sb_count; i++)
		term_row_free(t->sb[sb_ahead(t, t->sb_head, i)]);
	t->sb_count = t->sb_head = 0;
}

void screen_scrollback_free(struct term *t)
{
	scrollback_clear(t);
	free(t->sb);
	t->sb = NULL;
}

void term_set_scrollback_lines(struct term *t, int n)
{
	if (n < TERM_SCROLLBACK_MIN)
		n = TERM_SCROLLBACK_MIN;
	if (n > TERM_SCROLLBACK_MAX)
		n = TERM_SCROLLBACK_MAX;
	if (n == t->sb_cap)
		return;
	screen_scrollback_free(t); /* the lines kept so far go */
	t->sb_cap = n;
	screen_scrollback_size(t);
	screen_scrollback_limit(t);
}

void screen_scrollback_size(struct term *t)
{
	int size = 16;
	while (size < t->sb_cap)
		size *= 2;
	t->sb_mask = size - 1;
}

const struct term_row *screen_history_row(struct term *t, uint64_t n)
{
	uint64_t first = t->sb_total - (uint64_t)t->sb_count;
	if (n < first || n >= t->sb_total)
		return NULL;
	struct term_row *r = t->sb[sb_ahead(t, t->sb_head, (int)(n - first))];
	if (r->flood_len > 0)
		flood_replay(t, r);
	return r;
}

int term_scrollback_count(const struct term *t)
{
	return t->sb_count;
}

uint64_t term_scrollback_total(const struct term *t)
{
	return t->sb_total;
}

uint64_t term_scrollback_clears(const struct term *t, uint64_t *at)
{
	*at = t->sb_clear_at;
	return t->sb_clears;
}

/* ---- scrolling: pointer moves, never copies -------------------------- */

/* The rows in gone[0..n) put in at row[at..], cleared. */
static void put_cleared(struct term *t, struct term_row **row, int at,
                        struct term_row **gone, int n)
{
	for (int i = 0; i < n; i++) {
		row[at + i] = gone[i];
		clear_row(t, gone[i]);
	}
}

/* Scroll rows [top, bottom] up by n: the top n rows leave, into the
 * scrollback when `save` is set and the region starts at the top of the
 * main screen. */
void screen_scroll_up(struct term *t, int top, int bottom, int n, bool save)
{
	struct term_row **row = t->f->row;
	int h = bottom - top + 1;

	if (n > h)
		n = h;
	if (n <= 0)
		return;
	bool keep = save && top == 0 && !screen_alt_active(t);
	struct term_row *gone[TERM_MAX_ROWS];
	for (int i = 0; i < n; i++) {
		struct term_row *r = row[top + i];
		if (keep) {
			struct term_row *spare = scrollback_push(t, r, true);
			if (spare != NULL)
				r = spare; /* else out of memory: the line is lost */
		}
		gone[i] = r;
	}
	if (top == 0 && h == t->f->rows && h + n <= t->f->rowcap) {
		/* The whole screen: move the start of the row array into its
		 * spare slots; slide back to the base when they run out. (A
		 * scroll by more than the spare slots, SU 60 on 60 rows, takes
		 * the copying way below: found by tests/fuzz/fuzz_term.) */
		struct term_frame *f = t->f;
		if (f->row + h + n > f->rowbase + f->rowcap) {
			memmove(f->rowbase, f->row, (size_t)h * sizeof *row);
			f->row = f->rowbase;
		}
		f->row += n;
		put_cleared(t, f->row, h - n, gone, n);
		return;
	}
	memmove(&row[top], &row[top + n], (size_t)(h - n) * sizeof *row);
	put_cleared(t, row, bottom - n + 1, gone, n);
}

void screen_scroll_down(struct term *t, int top, int bottom, int n)
{
	struct term_row **row = t->f->row;
	int h = bottom - top + 1;

	if (n > h)
		n = h;
	if (n <= 0)
		return;
	struct term_row *gone[TERM_MAX_ROWS];
	memcpy(gone, &row[bottom - n + 1], (size_t)n * sizeof *row);
	memmove(&row[top + n], &row[top], (size_t)(h - n) * sizeof *row);
	put_cleared(t, row, top, gone, n);
}

/* ---- cursor ---------------------------------------------------------- */

void screen_move_to(struct term *t, int x, int y)
{
	struct term_frame *f = t->f;

	if (x < 0) x = 0;
	if (x >= f->cols) x = f->cols - 1;
	if (y < 0) y = 0;
	if (y >= f->rows) y = f->rows - 1;
	f->cx = x;
	f->cy = y;
	f->wrap_pending = false;
}

/* CUP and friends: rows count from the top margin in origin mode and
 * stay inside the region. */
void screen_move_abs(struct term *t, int x, int y)
{
	if (t->origin) {
		y += t->top;
		if (y > t->bottom)
			y = t->bottom;
	}
	screen_move_to(t, x, y);
}

/* One line off the top of a full-screen region: the line feed at the
 * bottom of a scrolling program, so it has a path of its own. */
static void scroll_one(struct term *t)
{
	struct term_frame *f = t->f;
	int h = f->rows;
	struct term_row *r = f->row[0];

	if (!screen_alt_active(t)) {
		struct term_row *spare = scrollback_push(t, r, true);
		if (spare != NULL)
			r = spare; /* else out of memory: the line is lost */
	}
	if (f->row + h + 1 > f->rowbase + f->rowcap) {
		memmove(f->rowbase, f->row, (size_t)h * sizeof *f->row);
		f->row = f->rowbase;
	}
	f->row++;
	f->row[h - 1] = r;
	clear_row(t, r);
}

void screen_index(struct term *t)
{
	struct term_frame *f = t->f;

	f->wrap_pending = false;
	if (f->cy == t->bottom && t->top == 0 && t->bottom == f->rows - 1)
		scroll_one(t);
	else if (f->cy == t->bottom)
		screen_scroll_up(t, t->top, t->bottom, 1, true);
	else if (f->cy < f->rows - 1)
		f->cy++;
}

void screen_reverse_index(struct term *t)
{
	struct term_frame *f = t->f;

	f->wrap_pending = false;
	if (f->cy == t->top)
		screen_scroll_down(t, t->top, t->bottom, 1);
	else if (f->cy > 0)
		f->cy--;
}

void screen_tab_forward(struct term *t, int n)
{
	struct term_frame *f = t->f;
	int x = f->cx;

	while (n-- > 0 && x < f->cols - 1) {
		x++;
		while (x < f->cols - 1 && !t->tabs[x])
			x++;
	}
	f->cx = x;
	f->wrap_pending = false;
}

void screen_tab_backward(struct term *t, int n)
{
	struct term_frame *f = t->f;
	int x = f->cx;

	while (n-- > 0 && x > 0) {
		x--;
		while (x > 0 && !t->tabs[x])
			x--;
	}
	f->cx = x;
	f->wrap_pending = false;
}

void screen_save_cursor(struct term *t)
{
	int s = screen_alt_active(t);
	struct saved *sv = &t->saved[s];

	sv->cx = t->f->cx;
	sv->cy = t->f->cy;
	sv->wrap_pending = t->f->wrap_pending;
	sv->pen = t->pen;
	memcpy(sv->g, t->g, sizeof sv->g);
	sv->gl = t->gl;
	sv->origin = t->origin;
	sv->autowrap = t->autowrap;
	t->saved_set[s] = true;
}

void screen_restore_cursor(struct term *t)
{
	int s = screen_alt_active(t);
	struct saved *sv = &t->saved[s];

	if (!t->saved_set[s]) {
		/* Nothing saved: xterm restores the power-on state. */
		t->pen = (struct term_pen){ 0 };
		t->g[0] = t->g[1] = 'B';
		t->gl = 0;
		t->origin = false;
		screen_move_to(t, 0, 0);
		return;
	}
	t->pen = sv->pen;
	if (t->pen.link > t->f->nlinks)
		t->pen.link = 0;
	memcpy(t->g, sv->g, sizeof t->g);
	t->gl = sv->gl;
	t->origin = sv->origin;
	screen_move_to(t, sv->cx, sv->cy);
	/* xterm restores a pending wrap, if the cursor is still at the end. */
	t->f->wrap_pending = sv->wrap_pending && t->f->cx == t->f->cols - 1;
}

/* ---- printing -------------------------------------------------------- */

/* DEC Special Graphics, 0x5f..0x7e (VT100 User Guide, table 3-9). */
static const uint16_t dec_graphics[32] = {
	0x00a0, 0x25c6, 0x2592, 0x2409, 0x240c, 0x240d, 0x240a, 0x00b0,
	0x00b1, 0x2424, 0x240b, 0x2518, 0x2510, 0x250c, 0x2514, 0x253c,
	0x23ba, 0x23bb, 0x2500, 0x23bc, 0x23bd, 0x251c, 0x2524, 0x2534,
	0x252c, 0x2502, 0x2264, 0x2265, 0x03c0, 0x2260, 0x00a3, 0x00b7,
};

static void combine(struct term *t, uint32_t mark)
{
	struct term_frame *f = t->f;
	int x = f->wrap_pending ? f->cx : f->cx - 1;
	struct term_row *r = screen_cur_row(t);

	if (x < 0 || x >= r->len)
		return; /* nothing to combine with: dropped */
	if ((r->cells[x].attr & TERM_ATTR_WIDE_CONT) && x > 0)
		x--;
	if (term_row_combine(r, &r->cells[x], mark))
		term_row_touch(r);
}

void screen_wrap_line(struct term *t)
{
	struct term_row *r = screen_cur_row(t);
	r->wrapped = true;
	term_row_touch(r);
	t->f->cx = 0;
	screen_index(t);
}

void screen_print(struct term *t, uint32_t cp)
{
	struct term_frame *f = t->f;
	int w;

	if (t->g[t->gl] == '0' && cp >= 0x5f && cp <= 0x7e)
		cp = dec_graphics[cp - 0x5f];
	/* C1 controls arrive UTF-8 encoded here: not text, and not marks. */
	if (cp >= 0x80 && cp < 0xa0)
		return;
	w = term_wcwidth(cp);
	if (w == 0) {
		combine(t, cp);
		return;
	}
	if (w == 2 && f->cols < 2)
		return;
	if (f->wrap_pending && t->autowrap)
		screen_wrap_line(t);
	f->wrap_pending = false;
	if (w == 2 && f->cx == f->cols - 1) {
		if (t->autowrap) {
			/* It does not fit: the last cell stays empty and the
			 * character goes to the next line, as in xterm. */
			screen_erase_cells(t, screen_cur_row(t), f->cx, f->cx + 1);
			screen_wrap_line(t);
		} else {
			f->cx = f->cols - 2;
		}
	}

	struct term_row *r = screen_cur_row(t);
	if (t->insert)
		screen_insert_blanks(t, r, f->cx, w);
	term_row_materialize(r, f->cx + w);
	screen_split_wide(t, r, f->cx);
	if (w == 2)
		screen_split_wide(t, r, f->cx + 1);
	struct term_cell *c = &r->cells[f->cx];
	c->ch = cp;
	c->fg = t->pen.fg;
	c->bg = t->pen.bg;
	c->attr = t->pen.attr;
	c->link = (uint8_t)t->pen.link;
	c->ul = term_row_ul_index(r, t->pen.ul);
	if (w == 2) {
		t->wide_seen = true;
		c->attr |= TERM_ATTR_WIDE;
		c[1] = *c;
		c[1].ch = 0;
		c[1].attr = (uint16_t)(t->pen.attr | TERM_ATTR_WIDE_CONT);
	}
	term_row_touch(r);
	t->last_char = cp;
	screen_print_advance(t, f->cx + w);
}

/* ---- editing --------------------------------------------------------- */

/* Cells [from, to) of r, which are real, become erased ones; then the
 * row has changed. */
static void blank_cells(struct term *t, struct term_row *r, int from, int to)
{
	struct term_cell b = erased(t);
	for (int i = from; i < to; i++)
		r->cells[i] = b;
	term_row_touch(r);
}

/* Whether n cells from column x may be inserted or deleted: some, and
 * never past the margin (n is cut to it). */
static bool edit_span(const struct term *t, int x, int *n)
{
	int cols = t->f->cols;

	if (x >= cols || *n <= 0)
		return false;
	if (*n > cols - x)
		*n = cols - x;
	return true;
}

void screen_insert_blanks(struct term *t, struct term_row *r, int x, int n)
{
	int cols = t->f->cols;

	if (!edit_span(t, x, &n))
		return;
	screen_split_wide(t, r, x);
	term_row_materialize(r, cols);
	screen_split_wide(t, r, cols - n); /* a wide char cut at the margin goes */
	memmove(&r->cells[x + n], &r->cells[x],
	        (size_t)(cols - x - n) * sizeof *r->cells);
	blank_cells(t, r, x, x + n);
}

void screen_delete_chars(struct term *t, struct term_row *r, int x, int n)
{
	int cols = t->f->cols;

	if (!edit_span(t, x, &n))
		return;
	screen_split_wide(t, r, x);
	screen_split_wide(t, r, x + n - 1);
	term_row_materialize(r, cols);
	memmove(&r->cells[x], &r->cells[x + n],
	        (size_t)(cols - x - n) * sizeof *r->cells);
	blank_cells(t, r, cols - n, cols);
}

void screen_erase_display(struct term *t, int mode)
{
	struct term_frame *f = t->f;

	switch (mode) {
	case 0: /* from the cursor to the end */
		screen_erase_cells(t, screen_cur_row(t), f->cx, f->cols);
		for (int y = f->cy + 1; y < f->rows; y++)
			clear_row(t, f->row[y]);
		break;
	case 1: /* from the start to the cursor, inclusive */
		for (int y = 0; y < f->cy; y++)
			clear_row(t, f->row[y]);
		screen_erase_cells(t, screen_cur_row(t), 0, f->cx + 1);
		break;
	case 2:
		for (int y = 0; y < f->rows; y++)
			clear_row(t, f->row[y]);
		break;
	case 3: /* xterm: the saved lines */
		scrollback_clear(t);
		t->sb_clears++;
		t->sb_clear_at = t->sb_total;
		break;
	}
}

/* ---- modes ----------------------------------------------------------- */

void screen_set_alt(struct term *t, bool on, bool clear)
{
	struct term_frame *f = t->f;

	if (on == screen_alt_active(t))
		return;
	if (on) {
		if (t->alt.base == NULL) {
			t->alt.base = term_rows_new(f->cols, f->rows, &t->alt.cap);
			if (t->alt.base == NULL)
				return; /* out of memory: stay on the main screen */
			t->alt.row = t->alt.base;
		}
		t->hidden = screen_rowset(f);
		screen_set_rowset(f, t->alt);
		f->modes |= TERM_MODE_ALT_SCREEN;
		if (clear)
			for (int i = 0; i < f->rows; i++)
				clear_row(t, f->row[i]);
	} else {
		if (clear)
			for (int i = 0; i < f->rows; i++)
				clear_row(t, f->row[i]);
		t->alt = screen_rowset(f); /* it may have scrolled */
		screen_set_rowset(f, t->hidden);
		t->hidden = (struct rowset){ NULL, NULL, 0 };
		f->modes &= ~(uint32_t)TERM_MODE_ALT_SCREEN;
		/* Main rows were not touched while hidden, but the frame now
		 * shows other rows: they carry their own generations. */
	}
}

int term_scrollback_line(struct term *t, int i, struct term_cell *cells, int n)
{
	if (i < 0 || i >= t->sb_count || n < 0)
		return TERM_EINVAL;
	struct term_row *r = t->sb[sb_ahead(t, t->sb_head, i)];
	if (r->flood_len > 0)
		flood_replay(t, r);
	for (int col = 0; col < n; col++)
		cells[col] = term_row_cell(r, col);
	return r->len;
}

/* Resize one set of rows to cols x rows, keeping the line at `keep`
 * visible: rows below it go first, then rows above it (into the scrollback
 * when `save`). Content is truncated or padded on the right, never
 * reflowed, as in xterm; new columns are blank. On success the old set is
 * replaced in *set (its array freed) and *shift says how many rows moved
 * up; on failure nothing has changed. */
static int resize_rows(struct term *t, struct rowset *set, int ocols, int orows,
                       int cols, int rows, int keep, bool save, int *shift)
{
	struct term_row **old = set->row;
	int start = orows > rows && keep >= rows ? keep - rows + 1 : 0;
	int kept = orows - start < rows ? orows - start : rows;
	struct term_row **nr = calloc((size_t)rows + TERM_ROW_SLACK, sizeof *nr);

	if (nr == NULL)
		return TERM_ENOMEM;
	/* Everything that can fail, first. */
	for (int i = 0; i < rows; i++) {
		if (i < kept) {
			if (term_row_reserve(old[start + i], cols) != TERM_OK)
				goto fail;
		} else if ((nr[i] = term_row_new(cols)) == NULL) {
			goto fail;
		}
	}
	for (int i = 0; i < orows; i++) {
		struct term_row *r = old[i];
		if (i < start) {
			if (save)
				scrollback_push(t, r, false);
			else
				term_row_free(r);
			continue;
		}
		if (i - start >= kept) {
			term_row_free(r);
			continue;
		}
		if (r->len > cols) {
			r->len = (uint16_t)cols;
			/* A wide character cut in half at the margin goes. */
			struct term_cell *c = &r->cells[cols - 1];
			if (c->attr & TERM_ATTR_WIDE) {
				c->ch = 0;
				c->attr &= ~(uint16_t)TERM_ATTR_WIDE;
			}
		}
		if (cols > ocols && r->fill != 0) {
			term_row_materialize(r, ocols);
			r->fill = 0;
		}
		term_row_touch(r);
		nr[i - start] = r;
	}
	*shift = start;
	free(set->base);
	*set = (struct rowset){ nr, nr, rows + TERM_ROW_SLACK };
	return TERM_OK;
fail:
	for (int i = kept; i < rows; i++)
		term_row_free(nr[i]);
	free(nr);
	return TERM_ENOMEM;
}

int term_resize(struct term *t, int cols, int rows)
{
	struct term_frame *f = t->f;

	if (cols <= 0 || rows <= 0)
		return TERM_EINVAL;
	screen_clamp_size(&cols, &rows);
	if (cols == f->cols && rows == f->rows)
		return TERM_OK;
	if (cols > t->widest) {
		t->widest = cols;
		screen_scrollback_limit(t);
	}

	int shift = 0, alt_shift = 0;
	bool alt = screen_alt_active(t);
	struct rowset main = alt ? t->hidden : screen_rowset(f);
	if (alt)
		t->alt = screen_rowset(f);
	/* Under the alternate screen, the main screen keeps the line of the
	 * cursor saved on entering it (1049), else its bottom line. */
	int main_keep = !alt ? f->cy : t->saved_set[0] ? t->saved[0].cy : f->rows - 1;
	if (resize_rows(t, &main, f->cols, f->rows, cols, rows, main_keep,
	                true, &shift) != TERM_OK)
		return TERM_ENOMEM;
	if (t->alt.base != NULL &&
	    resize_rows(t, &t->alt, f->cols, f->rows, cols, rows,
	                alt ? f->cy : 0, false, &alt_shift) != TERM_OK) {
		/* The main rows are resized already: drop the alternate
		 * screen rather than fail half-way. */
		term_rows_free(t->alt.base, t->alt.row, f->rows);
		t->alt = (struct rowset){ NULL, NULL, 0 };
		alt = false;
	}
	if (alt) {
		t->hidden = main;
		screen_set_rowset(f, t->alt);
		f->cy -= alt_shift;
	} else {
		t->hidden = (struct rowset){ NULL, NULL, 0 };
		screen_set_rowset(f, main);
		f->cy -= shift;
		f->modes &= ~(uint32_t)TERM_MODE_ALT_SCREEN;
	}
	f->cols = cols;
	f->rows = rows;
	t->top = 0;
	t->bottom = rows - 1;
	screen_move_to(t, f->cx, f->cy);
	for (int s = 0; s < 2; s++) {
		t->saved[s].cy -= s == 0 ? shift : alt_shift;
		if (t->saved[s].cy < 0) t->saved[s].cy = 0;
		if (t->saved[s].cy >= rows) t->saved[s].cy = rows - 1;
		if (t->saved[s].cx >= cols) t->saved[s].cx = cols - 1;
	}
	return TERM_OK;
}

void screen_clamp_size(int *cols, int *rows)
{
	if (*cols > TERM_MAX_COLS)
		*cols = TERM_MAX_COLS;
	if (*rows > TERM_MAX_ROWS)
		*rows = TERM_MAX_ROWS;
}
