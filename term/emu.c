/*
 * The emulator: what applications see. Parser events in, framebuffer
 * changes and reply bytes out. Behaviour follows xterm (ctlseqs) and, where
 * xterm is silent, ECMA-48; each dispatch case names its sequence.
 */
#include "internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_MAX 4096

struct pen {
	uint32_t fg, bg;
	uint16_t attr;
	uint16_t link;
};

struct saved {
	int cx, cy;
	bool wrap_pending;
	struct pen pen;
	uint8_t g[2];
	uint8_t gl;
	bool origin;
	bool autowrap;
};

/* A screen's rows: row[0..rows) inside the array at base (see
 * TERM_ROW_SLACK). */
struct rowset {
	struct term_row **base, **row;
	int cap;
};

struct term {
	struct term_parser parser;
	struct term_frame *f;
	struct rowset alt;        /* alternate screen rows (base NULL: none yet) */
	struct rowset hidden;     /* main rows while the alternate is shown */
	int top, bottom;          /* scroll region, inclusive */
	struct pen pen;
	/* insert, autowrap and g together: see plain_print */
	bool insert;              /* IRM */
	bool autowrap;            /* DECAWM */
	uint8_t g[2];             /* G0, G1: 'B' ASCII or '0' DEC graphics */
	uint8_t gl;               /* 0: G0 in GL, 1: G1 (SO) */
	bool origin;              /* DECOM */
	bool newline;             /* LNM */
	struct saved saved[2];    /* DECSC: [0] main screen, [1] alternate */
	bool saved_set[2];
	uint8_t tabs[TERM_MAX_COLS];
	uint32_t last_char;       /* for REP; 0 when the last event was not a print */
	uint8_t *reply;           /* REPLY_MAX bytes, from the first reply */
	size_t reply_len;
	/* Scrollback: a ring of rows that left the top of the main screen,
	 * TERM_SCROLLBACK_LINES long from the first one. (Both buffers come
	 * when first needed: an emulator made for one overlay, many times a
	 * second, allocates neither.) */
	struct term_row **sb;
	int sb_count, sb_head;
	uint64_t sb_total;
	struct sgr_memo *sgr_memo; /* see sgr_fast */
	uint32_t sgr_seen;
	/* Whether a cell of t's rows may be half of a wide character: set
	 * by the first wide print, and from the start for an emulator made
	 * around a frame. Until then split_wide has nothing to look for. */
	bool wide_seen;
	/* Lines kept as bytes (see lazy_lines): line feeds to let pass
	 * before the next try, and tries in a row that kept no line. */
	uint8_t lazy_skip, lazy_misses;
	uint64_t lazy_kept;       /* lines ever kept so: term_lazy_kept */
};

static const struct term_parser_ops emu_ops;

/* ---- helpers --------------------------------------------------------- */

static inline struct term_row *cur_row(struct term *t)
{
	return t->f->row[t->f->cy];
}

static bool alt_active(const struct term *t)
{
	return t->hidden.base != NULL;
}

static struct rowset frame_rows(const struct term_frame *f)
{
	return (struct rowset){ f->rowbase, f->row, f->rowcap };
}

static void frame_set_rows(struct term_frame *f, struct rowset s)
{
	f->rowbase = s.base;
	f->row = s.row;
	f->rowcap = s.cap;
}

static void reply(struct term *t, const char *s)
{
	size_t n = strlen(s);
	/* An application that never reads its replies cannot grow this. */
	if (n > REPLY_MAX - t->reply_len)
		return;
	if (t->reply == NULL && (t->reply = malloc(REPLY_MAX)) == NULL)
		return;
	memcpy(t->reply + t->reply_len, s, n);
	t->reply_len += n;
}

static struct term_cell erased(const struct term *t)
{
	struct term_cell c = { 0, 0, t->pen.bg, 0, 0 };
	return c;
}

static void reset_tabs(struct term *t, int from)
{
	for (int i = from; i < TERM_MAX_COLS; i++)
		t->tabs[i] = (i % 8 == 0);
}

/* A wide character is two cells; overwriting or erasing either half
 * erases both. Called on a cell that is about to change. */
static void split_wide_slow(struct term *t, struct term_row *r, int x)
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

static inline void split_wide(struct term *t, struct term_row *r, int x)
{
	if (t->wide_seen && x >= 0 && x < r->len &&
	    (r->cells[x].attr & (TERM_ATTR_WIDE | TERM_ATTR_WIDE_CONT)))
		split_wide_slow(t, r, x);
}

/* Erase cells [from, to) of row r with the pen's background. */
static void erase_cells(struct term *t, struct term_row *r, int from, int to)
{
	int cols = t->f->cols;

	if (to > cols)
		to = cols;
	if (from >= to)
		return;
	split_wide(t, r, from);
	split_wide(t, r, to - 1);
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

/* The ring index after i, and k after i (k < TERM_SCROLLBACK_LINES). */
static inline int sb_next(int i)
{
	return i + 1 == TERM_SCROLLBACK_LINES ? 0 : i + 1;
}

static inline int sb_ahead(int i, int k)
{
	return i + k >= TERM_SCROLLBACK_LINES ? i + k - TERM_SCROLLBACK_LINES : i + k;
}

static struct term_row *scrollback_push_slow(struct term *t, struct term_row *r,
                                             bool want_spare);

/* Keep row r, which just left the top of the main screen. With want_spare,
 * return a row to use in its place (the oldest scrollback row once the
 * ring is full, so the steady state allocates nothing), or NULL when none
 * could be had: then r was not kept and the caller reuses it. */
static inline struct term_row *scrollback_push(struct term *t, struct term_row *r,
                                               bool want_spare)
{
	/* The steady state of a scrolling program: the ring is full, and
	 * its oldest row, wide enough, takes r's place on the screen. */
	if (want_spare && t->sb_count == TERM_SCROLLBACK_LINES) {
		int head = t->sb_head;
		struct term_row *spare = t->sb[head];
		if (spare->cap >= t->f->cols) {
			t->sb[head] = r;
			head = sb_next(head);
			t->sb_head = head;
			t->sb_total++;
			/* The ring is first in, first out: the rows the next
			 * lines will reuse are known, and cold in cache. Fetch
			 * them early: headers eight lines ahead, cells four
			 * (their headers are in cache by then). */
			__builtin_prefetch(t->sb[sb_ahead(head, 8)], 1);
			const struct term_row *soon = t->sb[sb_ahead(head, 4)];
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
	bool full = t->sb_count == TERM_SCROLLBACK_LINES;

	if (t->sb == NULL && (t->sb = calloc(TERM_SCROLLBACK_LINES, sizeof *t->sb)) == NULL) {
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
		t->sb[t->sb_head] = r;
		t->sb_head = sb_next(t->sb_head);
	} else {
		t->sb[sb_ahead(t->sb_head, t->sb_count)] = r;
		t->sb_count++;
	}
	t->sb_total++;
	return spare;
}

static void scrollback_clear(struct term *t)
{
	for (int i = 0; i < t->sb_count; i++)
		term_row_free(t->sb[(t->sb_head + i) % TERM_SCROLLBACK_LINES]);
	t->sb_count = t->sb_head = 0;
}

static void scrollback_free(struct term *t)
{
	scrollback_clear(t);
	free(t->sb);
	t->sb = NULL;
}

int term_scrollback_count(const struct term *t)
{
	return t->sb_count;
}

uint64_t term_scrollback_total(const struct term *t)
{
	return t->sb_total;
}

/* ---- scrolling: pointer moves, never copies -------------------------- */

/* Scroll rows [top, bottom] up by n: the top n rows leave, into the
 * scrollback when `save` is set and the region starts at the top of the
 * main screen. */
static void scroll_up(struct term *t, int top, int bottom, int n, bool save)
{
	struct term_row **row = t->f->row;
	int h = bottom - top + 1;

	if (n > h)
		n = h;
	if (n <= 0)
		return;
	bool keep = save && top == 0 && !alt_active(t);
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
		row = f->row;
		for (int i = 0; i < n; i++) {
			row[h - n + i] = gone[i];
			clear_row(t, gone[i]);
		}
		return;
	}
	memmove(&row[top], &row[top + n], (size_t)(h - n) * sizeof *row);
	for (int i = 0; i < n; i++) {
		row[bottom - n + 1 + i] = gone[i];
		clear_row(t, gone[i]);
	}
}

static void scroll_down(struct term *t, int top, int bottom, int n)
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
	for (int i = 0; i < n; i++) {
		row[top + i] = gone[i];
		clear_row(t, gone[i]);
	}
}

/* ---- cursor ---------------------------------------------------------- */

static void move_to(struct term *t, int x, int y)
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
static void move_abs(struct term *t, int x, int y)
{
	if (t->origin) {
		y += t->top;
		if (y > t->bottom)
			y = t->bottom;
	}
	move_to(t, x, y);
}

/* One line off the top of a full-screen region: the line feed at the
 * bottom of a scrolling program, so it has a path of its own. */
static void scroll_one(struct term *t)
{
	struct term_frame *f = t->f;
	int h = f->rows;
	struct term_row *r = f->row[0];

	if (!alt_active(t)) {
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

static void linefeed(struct term *t)
{
	struct term_frame *f = t->f;

	f->wrap_pending = false;
	if (f->cy == t->bottom && t->top == 0 && t->bottom == f->rows - 1)
		scroll_one(t);
	else if (f->cy == t->bottom)
		scroll_up(t, t->top, t->bottom, 1, true);
	else if (f->cy < f->rows - 1)
		f->cy++;
}

static void reverse_index(struct term *t)
{
	struct term_frame *f = t->f;

	f->wrap_pending = false;
	if (f->cy == t->top)
		scroll_down(t, t->top, t->bottom, 1);
	else if (f->cy > 0)
		f->cy--;
}

static void tab_forward(struct term *t, int n)
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

static void tab_backward(struct term *t, int n)
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

static void save_cursor(struct term *t)
{
	int s = alt_active(t);
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

static void restore_cursor(struct term *t)
{
	int s = alt_active(t);
	struct saved *sv = &t->saved[s];

	if (!t->saved_set[s]) {
		/* Nothing saved: xterm restores the power-on state. */
		t->pen = (struct pen){ 0, 0, 0, 0 };
		t->g[0] = t->g[1] = 'B';
		t->gl = 0;
		t->origin = false;
		move_to(t, 0, 0);
		return;
	}
	t->pen = sv->pen;
	if (t->pen.link > t->f->nlinks)
		t->pen.link = 0;
	memcpy(t->g, sv->g, sizeof t->g);
	t->gl = sv->gl;
	t->origin = sv->origin;
	move_to(t, sv->cx, sv->cy);
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
	struct term_row *r = cur_row(t);

	if (x < 0 || x >= r->len)
		return; /* nothing to combine with: dropped */
	if ((r->cells[x].attr & TERM_ATTR_WIDE_CONT) && x > 0)
		x--;
	if (term_row_combine(r, &r->cells[x], mark))
		term_row_touch(r);
}

static void insert_blanks(struct term *t, struct term_row *r, int x, int n);

static void print_cp(struct term *t, uint32_t cp)
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
	if (f->wrap_pending && t->autowrap) {
		cur_row(t)->wrapped = true;
		term_row_touch(cur_row(t));
		f->cx = 0;
		linefeed(t);
	}
	f->wrap_pending = false;
	if (w == 2 && f->cx == f->cols - 1) {
		if (t->autowrap) {
			/* It does not fit: the last cell stays empty and the
			 * character goes to the next line, as in xterm. */
			struct term_row *r = cur_row(t);
			erase_cells(t, r, f->cx, f->cx + 1);
			r->wrapped = true;
			f->cx = 0;
			linefeed(t);
		} else {
			f->cx = f->cols - 2;
		}
	}

	struct term_row *r = cur_row(t);
	if (t->insert)
		insert_blanks(t, r, f->cx, w);
	term_row_materialize(r, f->cx + w);
	split_wide(t, r, f->cx);
	if (w == 2)
		split_wide(t, r, f->cx + 1);
	struct term_cell *c = &r->cells[f->cx];
	c->ch = cp;
	c->fg = t->pen.fg;
	c->bg = t->pen.bg;
	c->attr = t->pen.attr;
	c->link = t->pen.link;
	if (w == 2) {
		t->wide_seen = true;
		c->attr |= TERM_ATTR_WIDE;
		c[1] = *c;
		c[1].ch = 0;
		c[1].attr = (uint16_t)(t->pen.attr | TERM_ATTR_WIDE_CONT);
	}
	term_row_touch(r);
	t->last_char = cp;
	if (f->cx + w >= f->cols) {
		f->cx = f->cols - 1;
		f->wrap_pending = t->autowrap;
	} else {
		f->cx += w;
	}
}

static void emu_print(void *ctx, uint32_t cp)
{
	print_cp(ctx, cp);
}

int term_fill_max = 2; /* see internal.h */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* Runs at least this long go to fill_avx512, or to fill_avx2. */
#define FILL_AVX512 16
#define FILL_AVX2 32

/* fill_ascii's loop for whole groups of eight cells with AVX2 (when the
 * processor has it; see fill_ascii): the characters widened to 32 bits,
 * paired with fg, then with the second word, two cells to a register. */
__attribute__((target("avx2")))
static size_t fill_avx2(char *d, const uint8_t *s, size_t n, uint32_t fg, uint64_t hi)
{
	const __m256i vfg = _mm256_set1_epi32((int)fg);
	const __m256i second = _mm256_set1_epi64x((long long)hi);
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
			(const __m128i *)(const void *)(s + i)));
		__m256i a = _mm256_unpacklo_epi32(w, vfg);  /* cells 0 1 | 4 5 */
		__m256i b = _mm256_unpackhi_epi32(w, vfg);  /* cells 2 3 | 6 7 */
		__m256i c0 = _mm256_unpacklo_epi64(a, second); /* 0 | 4 */
		__m256i c1 = _mm256_unpackhi_epi64(a, second); /* 1 | 5 */
		__m256i c2 = _mm256_unpacklo_epi64(b, second); /* 2 | 6 */
		__m256i c3 = _mm256_unpackhi_epi64(b, second); /* 3 | 7 */
		char *p = d + 16 * i;
		_mm256_storeu_si256((__m256i *)(void *)p, _mm256_permute2x128_si256(c0, c1, 0x20));
		_mm256_storeu_si256((__m256i *)(void *)(p + 32), _mm256_permute2x128_si256(c2, c3, 0x20));
		_mm256_storeu_si256((__m256i *)(void *)(p + 64), _mm256_permute2x128_si256(c0, c1, 0x31));
		_mm256_storeu_si256((__m256i *)(void *)(p + 96), _mm256_permute2x128_si256(c2, c3, 0x31));
	}
	return i;
}

/* fill_ascii's loop for whole groups of sixteen cells with AVX-512: each
 * cell is the run's cell with its character put in, so four cells cost
 * one masked permute of the widened characters and one store. */
__attribute__((target("avx512f")))
static size_t fill_avx512(char *d, const uint8_t *s, size_t n, uint32_t fg, uint64_t hi)
{
	const __m512i cell = _mm512_broadcast_i32x4(
		_mm_set_epi32((int)(hi >> 32), (int)hi, (int)fg, 0));
	/* Store k's dword 4j is character 4k + j. */
	const __m512i at0 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
	const __m512i at1 = _mm512_add_epi32(at0, _mm512_set1_epi32(4));
	const __m512i at2 = _mm512_add_epi32(at0, _mm512_set1_epi32(8));
	const __m512i at3 = _mm512_add_epi32(at0, _mm512_set1_epi32(12));
	const __mmask16 ch = 0x1111;
	size_t i;

	for (i = 0; i + 16 <= n; i += 16) {
		__m512i w = _mm512_cvtepu8_epi32(_mm_loadu_si128(
			(const __m128i *)(const void *)(s + i)));
		char *p = d + 16 * i;
		_mm512_storeu_si512((void *)p, _mm512_mask_permutexvar_epi32(cell, ch, at0, w));
		_mm512_storeu_si512((void *)(p + 64), _mm512_mask_permutexvar_epi32(cell, ch, at1, w));
		_mm512_storeu_si512((void *)(p + 128), _mm512_mask_permutexvar_epi32(cell, ch, at2, w));
		_mm512_storeu_si512((void *)(p + 192), _mm512_mask_permutexvar_epi32(cell, ch, at3, w));
	}
	return i;
}

/* The widest of the loops of fill_ascii and lazy_classify the processor
 * has, and term_fill_max allows: 2 AVX-512 (F and BW), 1 AVX2, 0
 * neither. */
static int fill_level(void)
{
	static int level = -1;
	if (level < 0)
		level = __builtin_cpu_supports("avx512f") &&
		        __builtin_cpu_supports("avx512bw") ? 2 :
		        __builtin_cpu_supports("avx2") ? 1 : 0;
	return level < term_fill_max ? level : term_fill_max;
}
#endif

/* Cells c[0..n) become the characters s[0..n) in the pen's colours. */
__attribute__((always_inline))
static inline void fill_ascii(struct term_cell *c, const uint8_t *s, size_t n,
                              const struct pen *pen)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* A cell is two 64-bit words, { ch, fg } and { bg, attr, link }:
	 * the second is the same for the whole run and the first differs
	 * by its low half, so a cell costs two stores. */
	_Static_assert(sizeof(struct term_cell) == 16 &&
	               offsetof(struct term_cell, fg) == 4 &&
	               offsetof(struct term_cell, bg) == 8 &&
	               offsetof(struct term_cell, attr) == 12 &&
	               offsetof(struct term_cell, link) == 14,
	               "struct term_cell is two words");
	const uint64_t lo = (uint64_t)pen->fg << 32;
	const uint64_t hi = pen->bg | (uint64_t)pen->attr << 32 |
	                    (uint64_t)pen->link << 48;
	char *d = (char *)c;
	size_t i = 0;
#ifdef FILL_AVX2
	if (n >= FILL_AVX512) {
		int level = fill_level();
		if (level == 2)
			i = fill_avx512(d, s, n, pen->fg, hi);
		else if (level == 1 && n >= FILL_AVX2)
			i = fill_avx2(d, s, n, pen->fg, hi);
	}
#endif
#ifdef __SSE2__
	if (n - i >= 4) {
		/* Eight cells at a time, or four: the characters widened
		 * to 32 bits, paired with fg into { ch, fg } words, each
		 * such word then paired with the second word. */
		const __m128i fg = _mm_set1_epi32((int)pen->fg);
		const __m128i second = _mm_set1_epi64x((long long)hi);
		const __m128i zero = _mm_setzero_si128();
		/* Cells p[0..4) from four characters widened to 32 bits. */
#define FILL4(p, four) do { \
		__m128i a_ = _mm_unpacklo_epi32(four, fg); \
		__m128i b_ = _mm_unpackhi_epi32(four, fg); \
		_mm_storeu_si128((__m128i *)(void *)(p), _mm_unpacklo_epi64(a_, second)); \
		_mm_storeu_si128((__m128i *)(void *)((p) + 16), _mm_unpackhi_epi64(a_, second)); \
		_mm_storeu_si128((__m128i *)(void *)((p) + 32), _mm_unpacklo_epi64(b_, second)); \
		_mm_storeu_si128((__m128i *)(void *)((p) + 48), _mm_unpackhi_epi64(b_, second)); \
	} while (0)
		for (; i + 8 <= n; i += 8) {
			__m128i w = _mm_unpacklo_epi8(_mm_loadl_epi64(
				(const __m128i *)(const void *)(s + i)), zero);
			FILL4(d + 16 * i, _mm_unpacklo_epi16(w, zero));
			FILL4(d + 16 * i + 64, _mm_unpackhi_epi16(w, zero));
		}
		if (i < n) {
			/* Fewer than eight left: the next four if there
			 * are more than four, then the last four, over
			 * cells already filled when there are fewer (this
			 * block began with four or more, so n - 4 is in
			 * the run). Rewriting a cell beats a loop of a
			 * varying count: scroll's numbers, colour's words. */
			uint32_t four;
			if (i + 4 < n) {
				memcpy(&four, s + i, 4);
				FILL4(d + 16 * i, _mm_unpacklo_epi16(_mm_unpacklo_epi8(
					_mm_cvtsi32_si128((int)four), zero), zero));
			}
			memcpy(&four, s + n - 4, 4);
			FILL4(d + 16 * (n - 4), _mm_unpacklo_epi16(_mm_unpacklo_epi8(
				_mm_cvtsi32_si128((int)four), zero), zero));
			i = n;
		}
#undef FILL4
	}
#endif
	for (; i < n; i++) {
		uint64_t w = lo | s[i];
		memcpy(d + 16 * i, &w, 8);
		memcpy(d + 16 * i + 8, &hi, 8);
	}
#else
	for (size_t i = 0; i < n; i++)
		c[i] = (struct term_cell){ s[i], pen->fg, pen->bg, pen->attr,
		                           pen->link };
#endif
}

/* Whether a printed ASCII character is itself, overwrites and may wrap:
 * no insert mode, autowrap on, ASCII in GL. The usual state, with both
 * charsets ASCII, is one 32-bit compare. */
static inline bool plain_print(const struct term *t)
{
	_Static_assert(offsetof(struct term, autowrap) == offsetof(struct term, insert) + 1 &&
	               offsetof(struct term, g) == offsetof(struct term, insert) + 2,
	               "insert, autowrap and g are four bytes in a row");
	static const uint8_t usual[4] = { false, true, 'B', 'B' };
	if (memcmp(&t->insert, usual, 4) == 0)
		return true;
	return !t->insert && t->autowrap && t->g[t->gl] == 'B';
}

/* Runs of printable ASCII: the hot path of every scrolling program. */
static inline void print_ascii(struct term *t, const uint8_t *s, size_t n)
{
	struct term_frame *f = t->f;

	if (!plain_print(t)) {
		for (size_t i = 0; i < n; i++)
			print_cp(t, s[i]);
		return;
	}
	int x = f->cx;
	if (!f->wrap_pending && (size_t)(f->cols - x) > n) {
		/* The run ends before the last column: no wrap to think
		 * of, and at the end of what the row holds (the usual
		 * case) no wide character to split either. */
		struct term_row *r = f->row[f->cy];
		int e = x + (int)n;
		if (x >= r->len) {
			term_row_materialize(r, x);
		} else {
			split_wide(t, r, x);
			split_wide(t, r, e - 1);
		}
		if (e > r->len)
			r->len = (uint16_t)e;
		fill_ascii(&r->cells[x], s, n, &t->pen);
		term_row_touch(r);
		t->last_char = s[n - 1];
		f->cx = e;
		return;
	}
	while (n > 0) {
		if (f->wrap_pending && t->autowrap) {
			cur_row(t)->wrapped = true;
			term_row_touch(cur_row(t));
			f->cx = 0;
			linefeed(t);
		}
		f->wrap_pending = false;
		struct term_row *r = cur_row(t);
		x = f->cx;
		size_t room = (size_t)(f->cols - x);
		size_t k = n < room ? n : room;
		term_row_materialize(r, x);
		split_wide(t, r, x);
		split_wide(t, r, x + (int)k - 1);
		if (x + (int)k > r->len)
			r->len = (uint16_t)(x + (int)k);
		fill_ascii(&r->cells[x], s, k, &t->pen);
		term_row_touch(r);
		t->last_char = s[k - 1];
		s += k;
		n -= k;
		if (x + (int)k >= f->cols) {
			f->cx = f->cols - 1;
			f->wrap_pending = t->autowrap;
		} else {
			f->cx = x + (int)k;
		}
	}
}

/* ---- editing --------------------------------------------------------- */

static void insert_blanks(struct term *t, struct term_row *r, int x, int n)
{
	int cols = t->f->cols;

	if (x >= cols || n <= 0)
		return;
	if (n > cols - x)
		n = cols - x;
	split_wide(t, r, x);
	term_row_materialize(r, cols);
	split_wide(t, r, cols - n); /* a wide char cut at the margin goes */
	memmove(&r->cells[x + n], &r->cells[x],
	        (size_t)(cols - x - n) * sizeof *r->cells);
	struct term_cell b = erased(t);
	for (int i = x; i < x + n; i++)
		r->cells[i] = b;
	term_row_touch(r);
}

static void delete_chars(struct term *t, struct term_row *r, int x, int n)
{
	int cols = t->f->cols;

	if (x >= cols || n <= 0)
		return;
	if (n > cols - x)
		n = cols - x;
	split_wide(t, r, x);
	split_wide(t, r, x + n - 1);
	term_row_materialize(r, cols);
	memmove(&r->cells[x], &r->cells[x + n],
	        (size_t)(cols - x - n) * sizeof *r->cells);
	struct term_cell b = erased(t);
	for (int i = cols - n; i < cols; i++)
		r->cells[i] = b;
	term_row_touch(r);
}

static void erase_display(struct term *t, int mode)
{
	struct term_frame *f = t->f;

	switch (mode) {
	case 0: /* from the cursor to the end */
		erase_cells(t, cur_row(t), f->cx, f->cols);
		for (int y = f->cy + 1; y < f->rows; y++)
			clear_row(t, f->row[y]);
		break;
	case 1: /* from the start to the cursor, inclusive */
		for (int y = 0; y < f->cy; y++)
			clear_row(t, f->row[y]);
		erase_cells(t, cur_row(t), 0, f->cx + 1);
		break;
	case 2:
		for (int y = 0; y < f->rows; y++)
			clear_row(t, f->row[y]);
		break;
	case 3: /* xterm: the saved lines */
		scrollback_clear(t);
		break;
	}
}

static void erase_line(struct term *t, int mode)
{
	struct term_frame *f = t->f;

	switch (mode) {
	case 0: erase_cells(t, cur_row(t), f->cx, f->cols); break;
	case 1: erase_cells(t, cur_row(t), 0, f->cx + 1); break;
	case 2: erase_cells(t, cur_row(t), 0, f->cols); break;
	}
}

/* ---- modes ----------------------------------------------------------- */

static void set_alt_screen(struct term *t, bool on, bool clear)
{
	struct term_frame *f = t->f;

	if (on == alt_active(t))
		return;
	if (on) {
		if (t->alt.base == NULL) {
			t->alt.base = term_rows_new(f->cols, f->rows, &t->alt.cap);
			if (t->alt.base == NULL)
				return; /* out of memory: stay on the main screen */
			t->alt.row = t->alt.base;
		}
		t->hidden = frame_rows(f);
		frame_set_rows(f, t->alt);
		f->modes |= TERM_MODE_ALT_SCREEN;
		if (clear)
			for (int i = 0; i < f->rows; i++)
				clear_row(t, f->row[i]);
	} else {
		if (clear)
			for (int i = 0; i < f->rows; i++)
				clear_row(t, f->row[i]);
		t->alt = frame_rows(f); /* it may have scrolled */
		frame_set_rows(f, t->hidden);
		t->hidden = (struct rowset){ NULL, NULL, 0 };
		f->modes &= ~(uint32_t)TERM_MODE_ALT_SCREEN;
		/* Main rows were not touched while hidden, but the frame now
		 * shows other rows: they carry their own generations. */
	}
}

#define MOUSE_TRACKING (TERM_MODE_MOUSE_X10 | TERM_MODE_MOUSE_NORMAL | \
                        TERM_MODE_MOUSE_BUTTON | TERM_MODE_MOUSE_ANY)
#define MOUSE_ENCODING (TERM_MODE_MOUSE_UTF8 | TERM_MODE_MOUSE_SGR | \
                        TERM_MODE_MOUSE_URXVT)

/* xterm keeps one tracking mode and one encoding: setting one replaces
 * the other of its kind, resetting it turns the kind off. */
static void set_exclusive(struct term *t, uint32_t group, uint32_t bit, bool on)
{
	if (on)
		t->f->modes = (t->f->modes & ~group) | bit;
	else
		t->f->modes &= ~bit;
}

static void set_flag(struct term *t, uint32_t bit, bool on)
{
	if (on)
		t->f->modes |= bit;
	else
		t->f->modes &= ~bit;
}

static void dec_mode(struct term *t, int mode, bool on)
{
	switch (mode) {
	case 1: set_flag(t, TERM_MODE_CURSOR_KEYS, on); break;  /* DECCKM */
	case 5: set_flag(t, TERM_MODE_REVERSE, on); break;      /* DECSCNM */
	case 6:                                                  /* DECOM */
		t->origin = on;
		move_abs(t, 0, 0);
		break;
	case 7: /* DECAWM */
		t->autowrap = on;
		if (!on)
			t->f->wrap_pending = false;
		break;
	case 9: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_X10, on); break;
	case 25: set_flag(t, TERM_MODE_CURSOR_HIDDEN, !on); break; /* DECTCEM */
	case 47: set_alt_screen(t, on, false); break;
	case 1047: set_alt_screen(t, on, !on); break;
	case 1048:
		if (on) save_cursor(t); else restore_cursor(t);
		break;
	case 1049:
		if (on) {
			save_cursor(t);
			set_alt_screen(t, true, true);
		} else {
			set_alt_screen(t, false, false);
			restore_cursor(t);
		}
		break;
	case 1000: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_NORMAL, on); break;
	case 1002: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_BUTTON, on); break;
	case 1003: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_ANY, on); break;
	case 1004: set_flag(t, TERM_MODE_FOCUS, on); break;
	case 1005: set_exclusive(t, MOUSE_ENCODING, TERM_MODE_MOUSE_UTF8, on); break;
	case 1006: set_exclusive(t, MOUSE_ENCODING, TERM_MODE_MOUSE_SGR, on); break;
	case 1015: set_exclusive(t, MOUSE_ENCODING, TERM_MODE_MOUSE_URXVT, on); break;
	case 2004: set_flag(t, TERM_MODE_BRACKETED_PASTE, on); break;
	}
}

static void ansi_mode(struct term *t, int mode, bool on)
{
	switch (mode) {
	case 4: t->insert = on; break;   /* IRM */
	case 20: t->newline = on; break; /* LNM */
	}
}

/* ---- SGR ------------------------------------------------------------- */

/* The colour 38 or 48 names by kind 5 (palette index v[0]) or kind 2
 * (red, green and blue in v[0..2], omitted ones 0); false when it is
 * malformed: an index omitted or past 255, a component past 255, another
 * kind. Both readers of SGR (sgr_color, sgr_compile) decide here. */
static inline bool sgr_colour_value(int kind, const int32_t *v, uint32_t *out)
{
	if (kind == 5 && v[0] >= 0 && v[0] <= 255) {
		*out = TERM_COLOR_PALETTE(v[0]);
		return true;
	}
	if (kind == 2 && v[0] <= 255 && v[1] <= 255 && v[2] <= 255) {
		*out = TERM_COLOR_RGB(v[0] < 0 ? 0 : v[0], v[1] < 0 ? 0 : v[1],
		                      v[2] < 0 ? 0 : v[2]);
		return true;
	}
	return false;
}

/* An extended colour starting at param i (38/48): "5;n", "2;r;g;b" and
 * their colon forms "5:n", "2::r:g:b", "2:r:g:b". Returns the index of the
 * last parameter it used; *ok is false when the colour is malformed. */
static int sgr_color(const struct term_seq *s, int i, uint32_t *out, bool *ok)
{
	bool colon = i + 1 < s->nparam && (s->sub >> (i + 1) & 1);
	int n = s->nparam;
	int kind = i + 1 < n ? s->param[i + 1] : -1;

	*ok = false;
	if (colon) {
		/* Sub-parameters belong to this attribute alone. */
		int last = i + 1;
		while (last + 1 < n && (s->sub >> (last + 1) & 1))
			last++;
		int cnt = last - i; /* values after 38 */
		if (kind == 5 && cnt >= 2)
			*ok = sgr_colour_value(5, &s->param[i + 2], out);
		else if (kind == 2 && cnt >= 4)
			/* 2:r:g:b, or 2:cs:r:g:b with a colour space id. */
			*ok = sgr_colour_value(2, &s->param[cnt >= 5 ? i + 3 : i + 2], out);
		return last;
	}
	if (kind == 5) {
		if (i + 2 < n)
			*ok = sgr_colour_value(5, &s->param[i + 2], out);
		return i + 2;
	}
	if (kind == 2) {
		if (i + 4 < n)
			*ok = sgr_colour_value(2, &s->param[i + 2], out);
		return i + 4;
	}
	return i + 1;
}

/* What each SGR value does, indexed by the value + 1 (index 0 is an
 * omitted parameter, which means 0), up to 107; SGR_NONE for larger ones.
 * A table rather than a switch: one lookup and no jump per parameter.
 * Entries left out do nothing. */
struct sgr_op {
	uint32_t fg, fgset;    /* fg becomes (fg_before & ~fgset) | fg */
	uint32_t bg, bgset;
	uint16_t set, clear;   /* attribute bits */
	bool extended;         /* 38, 48, 58: a colour in the next parameters */
};

#define SGR_NONE 109
#define ATTR_ON(v, bits) [(v) + 1] = { .set = (bits) }
#define ATTR_OFF(v, bits) [(v) + 1] = { .clear = (bits) }
#define FG(v, c) [(v) + 1] = { .fg = (c), .fgset = ~0u }
#define BG(v, c) [(v) + 1] = { .bg = (c), .bgset = ~0u }
#define EIGHT(M, v, i) M(v, TERM_COLOR_INDEXED(i)), M(v + 1, TERM_COLOR_INDEXED(i + 1)), \
	M(v + 2, TERM_COLOR_INDEXED(i + 2)), M(v + 3, TERM_COLOR_INDEXED(i + 3)), \
	M(v + 4, TERM_COLOR_INDEXED(i + 4)), M(v + 5, TERM_COLOR_INDEXED(i + 5)), \
	M(v + 6, TERM_COLOR_INDEXED(i + 6)), M(v + 7, TERM_COLOR_INDEXED(i + 7))
#define RESET { .fgset = ~0u, .bgset = ~0u, .clear = 0xffff }

static const struct sgr_op sgr_ops[SGR_NONE + 1] = {
	[0] = RESET, [1] = RESET,
	ATTR_ON(1, TERM_ATTR_BOLD), ATTR_ON(2, TERM_ATTR_DIM),
	ATTR_ON(3, TERM_ATTR_ITALIC), ATTR_ON(4, TERM_ATTR_UNDERLINE),
	ATTR_ON(5, TERM_ATTR_BLINK), ATTR_ON(6, TERM_ATTR_BLINK),
	ATTR_ON(7, TERM_ATTR_INVERSE), ATTR_ON(8, TERM_ATTR_INVISIBLE),
	ATTR_ON(9, TERM_ATTR_STRIKE),
	ATTR_ON(21, TERM_ATTR_UNDERLINE), /* double */
	ATTR_OFF(22, TERM_ATTR_BOLD | TERM_ATTR_DIM), ATTR_OFF(23, TERM_ATTR_ITALIC),
	ATTR_OFF(24, TERM_ATTR_UNDERLINE), ATTR_OFF(25, TERM_ATTR_BLINK),
	ATTR_OFF(27, TERM_ATTR_INVERSE), ATTR_OFF(28, TERM_ATTR_INVISIBLE),
	ATTR_OFF(29, TERM_ATTR_STRIKE),
	EIGHT(FG, 30, 0), FG(39, 0), EIGHT(BG, 40, 0), BG(49, 0),
	EIGHT(FG, 90, 8), EIGHT(BG, 100, 8),
	[38 + 1] = { .extended = true }, [48 + 1] = { .extended = true },
	[58 + 1] = { .extended = true }, /* underline colour: not kept */
};

#undef ATTR_ON
#undef ATTR_OFF
#undef FG
#undef BG
#undef EIGHT
#undef RESET

/* The entry for a parameter value (-1 when omitted). */
static inline const struct sgr_op *sgr_op(int v)
{
	return &sgr_ops[(unsigned)(v + 1) < SGR_NONE ? v + 1 : SGR_NONE];
}

static inline void sgr_apply(struct pen *p, const struct sgr_op *o)
{
	p->fg = (p->fg & ~o->fgset) | o->fg;
	p->bg = (p->bg & ~o->bgset) | o->bg;
	p->attr = (uint16_t)((p->attr & ~o->clear) | o->set);
}

/* What 38 or 48 (v) with the colour it named does; 58, the underline
 * colour, is understood but not kept: it does nothing. */
static inline struct sgr_op sgr_colour_op(int v, uint32_t c)
{
	struct sgr_op o = { 0 };
	if (v == 38)
		o.fg = c, o.fgset = ~0u;
	else if (v == 48)
		o.bg = c, o.bgset = ~0u;
	return o;
}

static void sgr(struct term *t, const struct term_seq *s)
{
	struct pen *p = &t->pen;

	if (s->nparam == 0) {
		sgr_apply(p, sgr_op(0));
		return;
	}
	for (int i = 0; i < s->nparam; i++) {
		int v = s->param[i];
		const struct sgr_op *o = sgr_op(v);
		uint32_t c;
		bool ok;

		/* Skip sub-parameters of attributes that do not use them. */
		if (s->sub >> i & 1)
			continue;
		if (v == 4 && i + 1 < s->nparam && (s->sub >> (i + 1) & 1) &&
		    s->param[i + 1] == 0) {
			/* 4:0 is "not underlined"; 4:1..4:5 are styles. */
			p->attr &= ~TERM_ATTR_UNDERLINE;
		} else if (o->extended) {
			i = sgr_color(s, i, &c, &ok);
			if (ok) {
				struct sgr_op e = sgr_colour_op(v, c);
				sgr_apply(p, &e);
			}
		} else {
			sgr_apply(p, o);
		}
	}
}

/* One parameter of a control sequence read without a struct term_seq
 * (sgr_compile, CUP in ground_csi): the number at s, where the bytes up to
 * fin are parameter bytes and *fin is not a digit. Its value goes to *v
 * (-1 when omitted); returns the byte after it, or NULL when the number
 * is longer than four digits or is followed by neither ';' nor fin (a ':'
 * or a marker byte): term_csi_params takes those. Four digits stay below
 * TERM_PARAM_MAX, so this needs none of term_param_read's saturation,
 * whose code, inlined here three times over, cost every corpus about an
 * instruction a byte. */
static inline const uint8_t *csi_number(const uint8_t *s, const uint8_t *fin, int32_t *v)
{
	const uint8_t *digits = s;
	uint32_t x = 0, d;

	while ((d = (uint32_t)*s - '0') <= 9) {
		x = x * 10 + d;
		s++;
	}
	if (s - digits > 4 || (s != fin && *s != ';'))
		return NULL;
	*v = s == digits ? -1 : (int32_t)x;
	return s;
}

/* Op o after what acc does: one op doing both. Each field's update is
 * "clear these bits, then set those", and two such make one. */
static inline void sgr_then(struct sgr_op *acc, const struct sgr_op *o)
{
	acc->fg = (acc->fg & ~o->fgset) | o->fg;
	acc->fgset |= o->fgset;
	acc->bg = (acc->bg & ~o->bgset) | o->bg;
	acc->bgset |= o->bgset;
	acc->set = (uint16_t)((acc->set & ~o->clear) | o->set);
	acc->clear |= o->clear;
}

/* The SGR parameters [s, fin) made into one op as they are read, without
 * filling a struct term_seq first: applied to a pen, it makes the same
 * changes as sgr() does, for parameters separated by ';' only. Returns
 * false for anything else: the caller goes the general way. */
static bool sgr_compile(struct sgr_op *acc, const uint8_t *s, const uint8_t *fin)
{
	*acc = (struct sgr_op){ 0 };
	/* More than TERM_MAX_PARAMS parameters go to the tables, which drop
	 * those past it. Each but the first follows a ';', so fewer bytes
	 * than TERM_MAX_PARAMS hold few enough. (Counting bytes alone, as
	 * this did until a test of lines kept as bytes found it, let 40
	 * omitted parameters and a 1 through: the tables dropped the 1.) */
	if (fin - s >= TERM_MAX_PARAMS) {
		int seps = 0;
		for (const uint8_t *q = s; q < fin; q++)
			seps += *q == ';';
		if (seps >= TERM_MAX_PARAMS)
			return false;
	}
	for (;;) {
		int32_t v;
		if ((s = csi_number(s, fin, &v)) == NULL)
			return false;
		const struct sgr_op *o = sgr_op(v);
		if (!o->extended) {
			sgr_then(acc, o);
		} else if (s != fin) {
			/* As sgr_color: "5;n" or "2;r;g;b"; another kind
			 * uses up just itself, a short one the rest. */
			int32_t kind, a[3] = { 0, 0, 0 };
			uint32_t c;
			if ((s = csi_number(s + 1, fin, &kind)) == NULL)
				return false;
			int want = kind == 5 ? 1 : kind == 2 ? 3 : 0, k;
			for (k = 0; k < want && s != fin; k++)
				if ((s = csi_number(s + 1, fin, &a[k])) == NULL)
					return false;
			if (k == want && sgr_colour_value(kind, a, &c)) {
				struct sgr_op e = sgr_colour_op(v, c);
				sgr_then(acc, &e);
			}
		}
		if (s == fin)
			break;
		s++;
	}
	return true;
}

#ifdef __SSE2__
/* The value of the l (1 to 3) digits that end at q[2], of an SGR's bytes
 * (all '0' or above: digits, ';', 'm'), from one 4-byte load and no
 * branch on l: the digits are right-aligned in the load's low three
 * bytes, and the bytes before them are masked off. */
static inline int32_t digits_ending(const uint8_t *q, int l)
{
	uint32_t w;
	memcpy(&w, q, 4);
	w = (w - 0x30303030u) & (0xffffffu ^ ((1u << (8 * (3 - l))) - 1));
	return (int32_t)((w & 0xff) * 100 + (w >> 8 & 0xff) * 10 + (w >> 16 & 0xff));
}

/*
 * The true colour SGR "38;2;r;g;b" or "48;2;r;g;b" (r, g and b of one to
 * three digits) at p, its 'm' at fin: its shape from one 16-byte load, its
 * numbers from a 4-byte load each, with no branch on their lengths. Those
 * are random in colour output (syntax highlighters, diff tools), and in
 * csi_number's loop they cost a misprediction a number. The caller has 16
 * bytes at p and fin - p <= 16. False for any other form, which
 * sgr_compile reads; the op made is the one sgr_compile makes.
 */
static bool sgr_rgb(struct sgr_op *op, const uint8_t *p, const uint8_t *fin)
{
	int n = (int)(fin - p);
	if (n < 11 || (p[0] != '3' && p[0] != '4') || p[1] != '8' || p[3] != '2')
		return false;
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	uint32_t in = (1u << n) - 1;
	uint32_t semi = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(';'))) & in;
	uint32_t digit = (uint32_t)_mm_movemask_epi8(_mm_and_si128(
		_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		_mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)))) & in;
	if ((semi | digit) != in || (semi & 0x1f) != 0x14)
		return false;
	/* r at byte 5, then g and b after the next two ';' */
	uint32_t rest = semi >> 5;
	if (rest == 0)
		return false;
	int lr = __builtin_ctz(rest);
	uint32_t after = rest >> (lr + 1);
	if (after == 0)
		return false;
	int lg = __builtin_ctz(after);
	int lb = n - 5 - lr - lg - 2;
	if (after >> (lg + 1) != 0 || lr < 1 || lr > 3 || lg < 1 || lg > 3 ||
	    lb < 1 || lb > 3)
		return false;
	/* each number's last digit is before its ';' or the 'm' at fin */
	int32_t rgb[3] = { digits_ending(p + 2 + lr, lr), digits_ending(p + 3 + lr + lg, lg),
	                   digits_ending(fin - 3, lb) };
	uint32_t c;
	*op = (struct sgr_op){ 0 };
	if (sgr_colour_value(2, rgb, &c))
		*op = sgr_colour_op(p[0] == '3' ? 38 : 48, c);
	return true;
}

/*
 * Programs repeat a few SGRs over and over (ls, compilers, editors'
 * syntax colours), so what an SGR of ';'-separated parameters does, as
 * one op (sgr_compile), is remembered by its bytes: up to 16 of them,
 * the final 'm' included, zeroed past it. Direct-mapped, 2048 slots (80
 * KB); a new SGR takes its slot. An empty slot's key is all zero, which
 * no SGR's is. The memo is made once an emulator has read SGR_MEMO_AFTER
 * SGRs: the short-lived ones that apply a diff never need it.
 */
#define SGR_MEMO_BITS 11
#define SGR_MEMO_AFTER 2048
struct sgr_memo {
	uint8_t key[16];
	struct sgr_op op;
};

/* Whether t has a memo: it is made at the SGR_MEMO_AFTER-th SGR. */
static bool sgr_memo_ready(struct term *t)
{
	if (t->sgr_memo == NULL && ++t->sgr_seen >= SGR_MEMO_AFTER)
		t->sgr_memo = calloc((size_t)1 << SGR_MEMO_BITS, sizeof *t->sgr_memo);
	return t->sgr_memo != NULL;
}
#endif

/* The op of the SGR [p, fin), its bytes up to end in the buffer: as
 * sgr_compile makes it, the true colour form read by sgr_rgb when 16
 * bytes are there to load (*rgb says which). */
static bool sgr_make(struct sgr_op *op, const uint8_t *p, const uint8_t *fin,
                     const uint8_t *end, bool *rgb)
{
#ifdef __SSE2__
	*rgb = end - p >= 16 && fin - p <= 16 && sgr_rgb(op, p, fin);
	if (*rgb)
		return true;
#else
	(void)end;
	*rgb = false;
#endif
	return sgr_compile(op, p, fin);
}

/* The SGR [p, fin] (its 'm' at fin) applied to the pen: its op from the
 * memo when it is there, else made by sgr_make (into the memo when the
 * SGR fits one). False, with the pen unchanged, when sgr_compile
 * declines it. */
static bool sgr_fast(struct term *t, const uint8_t *p, const uint8_t *fin,
                     const uint8_t *end)
{
	struct sgr_op op;
	bool rgb;

#ifdef __SSE2__
	if (fin - p < 16 && end - p >= 16 && sgr_memo_ready(t)) {
		static const uint8_t index[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		                                   10, 11, 12, 13, 14, 15 };
		__m128i keep = _mm_cmplt_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)index),
			_mm_set1_epi8((char)(fin - p + 1)));
		__m128i key = _mm_and_si128(
			_mm_loadu_si128((const __m128i *)(const void *)p), keep);
		uint64_t lo = (uint64_t)_mm_cvtsi128_si64(key);
		uint64_t hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(key, key));
		uint64_t h = (lo ^ hi * 0x9e3779b97f4a7c15u) * 0xff51afd7ed558ccdu;
		struct sgr_memo *m = &t->sgr_memo[h >> (64 - SGR_MEMO_BITS)];
		__m128i have = _mm_loadu_si128((const __m128i *)(const void *)m->key);
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(have, key)) == 0xffff) {
			sgr_apply(&t->pen, &m->op);
			return true;
		}
		if (!sgr_make(&op, p, fin, end, &rgb)) {
			memset(m, 0, sizeof *m);
			return false;
		}
		/* A true colour SGR, quick to read again, takes only an
		 * empty slot or another's: random colours (a gradient, an
		 * image) must not push out the SGRs that sgr_compile reads
		 * more slowly. */
		if (!rgb || m->key[0] == 0 ||
		    (m->key[1] == '8' && m->key[2] == ';' && m->key[3] == '2')) {
			m->op = op;
			_mm_storeu_si128((__m128i *)(void *)m->key, key);
		}
		sgr_apply(&t->pen, &op);
		return true;
	}
#endif
	if (!sgr_make(&op, p, fin, end, &rgb))
		return false;
	sgr_apply(&t->pen, &op);
	return true;
}

static void soft_reset(struct term *t)
{
	/* DECSTR, as xterm: modes back to their defaults, screen kept. */
	t->f->modes &= ~(uint32_t)(TERM_MODE_CURSOR_HIDDEN | TERM_MODE_CURSOR_KEYS |
	                           TERM_MODE_KEYPAD);
	t->insert = false;
	t->origin = false;
	t->autowrap = true;
	t->pen = (struct pen){ 0, 0, 0, 0 };
	t->g[0] = t->g[1] = 'B';
	t->gl = 0;
	t->top = 0;
	t->bottom = t->f->rows - 1;
	t->saved_set[0] = t->saved_set[1] = false;
}

static void full_reset(struct term *t)
{
	set_alt_screen(t, false, false);
	soft_reset(t);
	t->newline = false;
	t->f->modes = 0;
	t->f->cursor_style = 0;
	t->pen = (struct pen){ 0, 0, 0, 0 };
	reset_tabs(t, 0);
	erase_display(t, 2);
	move_to(t, 0, 0);
	t->last_char = 0;
}

/* ---- dispatch -------------------------------------------------------- */

/* CR, and LF, VT and FF: ground() takes them without emu_execute. */
static inline void carriage_return(struct term_frame *f)
{
	f->cx = 0;
	f->wrap_pending = false;
}

static inline void line_feed(struct term *t)
{
	linefeed(t);
	if (t->newline)
		t->f->cx = 0;
}

static void emu_execute(void *ctx, uint8_t c)
{
	struct term *t = ctx;
	struct term_frame *f = t->f;

	t->last_char = 0;
	switch (c) {
	case 0x0a: case 0x0b: case 0x0c: line_feed(t); break; /* LF VT FF */
	case 0x0d: carriage_return(f); break;                 /* CR */
	case 0x07: f->bells++; break;                         /* BEL */
	case 0x08:                                            /* BS */
		if (f->cx > 0)
			f->cx--;
		f->wrap_pending = false;
		break;
	case 0x09: tab_forward(t, 1); break;                  /* HT */
	case 0x0e: t->gl = 1; break;                          /* SO */
	case 0x0f: t->gl = 0; break;                          /* SI */
	}
}

static void emu_esc(void *ctx, const struct term_seq *s)
{
	struct term *t = ctx;
	struct term_frame *f = t->f;

	t->last_char = 0;
	if (s->ninter == 1 && (s->inter[0] == '(' || s->inter[0] == ')')) {
		/* SCS — designate G0 / G1: '0' DEC graphics, else ASCII. */
		t->g[s->inter[0] == ')'] = s->final == '0' ? '0' : 'B';
		return;
	}
	if (s->ninter == 1 && s->inter[0] == '#') {
		if (s->final == '8') { /* DECALN — screen alignment test */
			t->top = 0;
			t->bottom = f->rows - 1;
			for (int y = 0; y < f->rows; y++) {
				struct term_row *r = f->row[y];
				term_row_clear(r, 0);
				term_row_materialize(r, f->cols);
				for (int x = 0; x < f->cols; x++)
					r->cells[x].ch = 'E';
				term_row_touch(r);
			}
			move_to(t, 0, 0);
		}
		return;
	}
	if (s->ninter != 0)
		return;
	switch (s->final) {
	case '7': save_cursor(t); break;                  /* DECSC */
	case '8': restore_cursor(t); break;               /* DECRC */
	case '=': f->modes |= TERM_MODE_KEYPAD; break;    /* DECKPAM */
	case '>': f->modes &= ~(uint32_t)TERM_MODE_KEYPAD; break; /* DECKPNM */
	case 'D': linefeed(t); break;                     /* IND */
	case 'E': f->cx = 0; linefeed(t); break;          /* NEL */
	case 'H': t->tabs[f->cx] = 1; break;              /* HTS */
	case 'M': reverse_index(t); break;                /* RI */
	case 'c': full_reset(t); break;                   /* RIS */
	}
}

/* The first parameter, 0 when omitted: the selector of ED, EL and TBC. */
static int param0(const struct term_seq *s)
{
	return s->nparam > 0 && s->param[0] > 0 ? s->param[0] : 0;
}

static void emu_csi(void *ctx, const struct term_seq *s)
{
	struct term *t = ctx;
	struct term_frame *f = t->f;
	int cols = f->cols, rows = f->rows;
	char buf[64];
	uint32_t last = t->last_char;

	t->last_char = 0;
	if (s->final == 'm' && s->marker == 0 && s->ninter == 0) {
		sgr(t, s); /* SGR — 8.3.117, the most frequent by far */
		return;
	}
	if (s->marker == '?') {
		if (s->ninter != 0)
			return;
		switch (s->final) {
		case 'h': /* DECSET */
		case 'l': /* DECRST */
			for (int i = 0; i < s->nparam; i++)
				if (!(s->sub >> i & 1))
					dec_mode(t, s->param[i], s->final == 'h');
			break;
		case 'J': erase_display(t, param0(s)); break; /* DECSED */
		case 'K': erase_line(t, param0(s)); break;    /* DECSEL */
		}
		return;
	}
	if (s->marker == '>') {
		if (s->final == 'c' && s->ninter == 0 && term_seq_param(s, 0, 0, 1) == 0)
			reply(t, "\033[>1;10;0c"); /* DA2: VT220, version 10 */
		return;
	}
	if (s->marker != 0)
		return;
	if (s->ninter == 1) {
		if (s->inter[0] == ' ' && s->final == 'q') { /* DECSCUSR */
			int v = s->nparam > 0 && s->param[0] > 0 ? s->param[0] : 0;
			if (v <= 6)
				f->cursor_style = v;
		} else if (s->inter[0] == '!' && s->final == 'p') { /* DECSTR */
			soft_reset(t);
		}
		return;
	}
	if (s->ninter != 0)
		return;

	int n = term_seq_param(s, 0, 1, TERM_PARAM_MAX);
	switch (s->final) {
	case '@': /* ICH — ECMA-48 8.3.64 */
		f->wrap_pending = false;
		insert_blanks(t, cur_row(t), f->cx, n);
		break;
	case 'A': /* CUU — 8.3.22 */
		move_to(t, f->cx, f->cy >= t->top && f->cy - n < t->top ?
		        t->top : f->cy - n);
		break;
	case 'B': /* CUD — 8.3.19 */
		move_to(t, f->cx, f->cy <= t->bottom && f->cy + n > t->bottom ?
		        t->bottom : f->cy + n);
		break;
	case 'C': case 'a': /* CUF — 8.3.20, HPR — 8.3.59 */
		move_to(t, f->cx + n, f->cy);
		break;
	case 'D': /* CUB — 8.3.18 */
		move_to(t, f->cx - n, f->cy);
		break;
	case 'E': /* CNL — 8.3.12 */
		move_to(t, 0, f->cy <= t->bottom && f->cy + n > t->bottom ?
		        t->bottom : f->cy + n);
		break;
	case 'F': /* CPL — 8.3.13 */
		move_to(t, 0, f->cy >= t->top && f->cy - n < t->top ?
		        t->top : f->cy - n);
		break;
	case 'G': case '`': /* CHA — 8.3.9, HPA — 8.3.57 */
		move_to(t, n - 1, f->cy);
		break;
	case 'H': case 'f': /* CUP — 8.3.21, HVP — 8.3.63 */
		move_abs(t, term_seq_param(s, 1, 1, TERM_PARAM_MAX) - 1, n - 1);
		break;
	case 'I': /* CHT — 8.3.10 */
		tab_forward(t, n);
		break;
	case 'J': /* ED — 8.3.39 */
		erase_display(t, param0(s));
		break;
	case 'K': /* EL — 8.3.41 */
		erase_line(t, param0(s));
		break;
	case 'L': /* IL — 8.3.67 */
		if (f->cy >= t->top && f->cy <= t->bottom) {
			scroll_down(t, f->cy, t->bottom, n);
			move_to(t, 0, f->cy);
		}
		break;
	case 'M': /* DL — 8.3.32 */
		if (f->cy >= t->top && f->cy <= t->bottom) {
			/* Deleted lines never reach the scrollback. */
			scroll_up(t, f->cy, t->bottom, n, false);
			move_to(t, 0, f->cy);
		}
		break;
	case 'P': /* DCH — 8.3.26 */
		f->wrap_pending = false;
		delete_chars(t, cur_row(t), f->cx, n);
		break;
	case 'S': /* SU — 8.3.147 */
		if (s->nparam <= 1)
			scroll_up(t, t->top, t->bottom, n, true);
		break;
	case 'T': /* SD — 8.3.113 (one parameter; more is mouse tracking) */
		if (s->nparam <= 1)
			scroll_down(t, t->top, t->bottom, n);
		break;
	case 'X': /* ECH — 8.3.38 */
		f->wrap_pending = false;
		erase_cells(t, cur_row(t), f->cx, f->cx + n);
		break;
	case 'Z': /* CBT — 8.3.7 */
		tab_backward(t, n);
		break;
	case 'b': /* REP — 8.3.103: only right after a graphic character */
		if (last != 0) {
			if (n > cols * rows)
				n = cols * rows;
			for (int i = 0; i < n; i++)
				print_cp(t, last);
		}
		break;
	case 'c': /* DA1 — 8.3.24 */
		if (term_seq_param(s, 0, 0, 1) == 0)
			reply(t, "\033[?62;22c"); /* VT220 with ANSI colour */
		break;
	case 'd': /* VPA — 8.3.158 */
		move_abs(t, f->cx, n - 1);
		break;
	case 'e': /* VPR — 8.3.160 */
		move_to(t, f->cx, f->cy + n);
		break;
	case 'g': /* TBC — 8.3.154 */
		if (param0(s) == 0)
			t->tabs[f->cx] = 0;
		else if (param0(s) == 3)
			memset(t->tabs, 0, sizeof t->tabs);
		break;
	case 'h': case 'l': /* SM — 8.3.125, RM — 8.3.106 */
		for (int i = 0; i < s->nparam; i++)
			ansi_mode(t, s->param[i], s->final == 'h');
		break;
	case 'm': /* SGR — 8.3.117 */
		sgr(t, s);
		break;
	case 'n': /* DSR — 8.3.35 */
		if (s->nparam > 0 && s->param[0] == 5) {
			reply(t, "\033[0n");
		} else if (s->nparam > 0 && s->param[0] == 6) {
			int y = f->cy - (t->origin ? t->top : 0);
			snprintf(buf, sizeof buf, "\033[%d;%dR", y + 1, f->cx + 1);
			reply(t, buf);
		}
		break;
	case 'r': { /* DECSTBM — set top and bottom margins */
		int top = term_seq_param(s, 0, 1, rows) - 1;
		int bottom = term_seq_param(s, 1, rows, rows) - 1;
		if (top < bottom) {
			t->top = top;
			t->bottom = bottom;
			move_abs(t, 0, 0);
		}
		break;
	}
	case 's': /* SCOSC — save cursor (xterm, without DECLRMM) */
		if (s->nparam == 0)
			save_cursor(t);
		break;
	case 'u': /* SCORC — restore cursor */
		if (s->nparam == 0)
			restore_cursor(t);
		break;
	}
}

/* ---- OSC ------------------------------------------------------------- */

/* Copy a string for the title: printable characters only (C0, DEL and
 * the C1 range dropped), valid UTF-8, truncated on a character boundary. */
static void set_text(char *dst, const uint8_t *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < TERM_TITLE_MAX;) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (c >= 0x20 && c != 0x7f)
				dst[o++] = (char)c;
			i++;
			continue;
		}
		/* Decode one UTF-8 character strictly; drop what is not. */
		int need = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 :
		           c >= 0xc2 && c <= 0xdf ? 1 : -1;
		if (need < 0 || i + (size_t)need >= n) {
			i++;
			continue;
		}
		uint32_t cp = c & (0x3f >> need);
		bool ok = true;
		for (int k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				ok = false;
				break;
			}
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
		if (!ok || cp < min[need] || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0)) {
			i++;
			continue;
		}
		o += term_utf8_encode(cp, dst + o);
		i += (size_t)need + 1;
	}
	dst[o] = '\0';
}

static void emu_osc(void *ctx, const uint8_t *s, size_t n)
{
	struct term *t = ctx;
	struct term_frame *f = t->f;
	size_t i = 0;
	int cmd = 0;

	t->last_char = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && cmd < 10000)
		cmd = cmd * 10 + (s[i++] - '0');
	if (i == 0 || (i < n && s[i] != ';'))
		return;
	if (i < n)
		i++;
	const uint8_t *arg = s + i;
	size_t alen = n - i;

	switch (cmd) {
	case 0:
		set_text(f->title, arg, alen);
		set_text(f->icon, arg, alen);
		break;
	case 1:
		set_text(f->icon, arg, alen);
		break;
	case 2:
		set_text(f->title, arg, alen);
		break;
	case 8: { /* hyperlink: OSC 8 ; params ; URI */
		const uint8_t *semi = memchr(arg, ';', alen);
		if (semi == NULL)
			return;
		size_t ulen = alen - (size_t)(semi + 1 - arg);
		if (ulen == 0 || ulen >= TERM_LINK_URI_MAX) {
			t->pen.link = 0;
			return;
		}
		char uri[TERM_LINK_URI_MAX];
		for (size_t k = 0; k < ulen; k++) {
			uint8_t c = semi[1 + k];
			if (c < 0x21 || c > 0x7e) { /* URIs are printable ASCII */
				t->pen.link = 0;
				return;
			}
			uri[k] = (char)c;
		}
		uri[ulen] = '\0';
		t->pen.link = (uint16_t)term_frame_link_id(f, uri);
		break;
	}
	case 52: { /* clipboard: OSC 52 ; selections ; base64 (or ?) */
		const uint8_t *semi = memchr(arg, ';', alen);
		if (semi == NULL)
			return;
		size_t dlen = alen - (size_t)(semi + 1 - arg);
		/* A query ("?") would read the user's clipboard: refused. */
		if (dlen == 1 && semi[1] == '?')
			return;
		for (const uint8_t *p = arg; p < arg + alen; p++)
			if (*p < 0x20 || *p > 0x7e)
				return;
		char *c = malloc(alen + 1);
		if (c == NULL)
			return;
		memcpy(c, arg, alen);
		c[alen] = '\0';
		free(f->clipboard);
		f->clipboard = c;
		f->clip_serial++;
		break;
	}
	}
}

static const struct term_parser_ops emu_ops = {
	.print = emu_print,
	.execute = emu_execute,
	.esc = emu_esc,
	.csi = emu_csi,
	.osc = emu_osc,
};

/* ---- life cycle ------------------------------------------------------ */

static void clamp_size(int *cols, int *rows)
{
	if (*cols > TERM_MAX_COLS)
		*cols = TERM_MAX_COLS;
	if (*rows > TERM_MAX_ROWS)
		*rows = TERM_MAX_ROWS;
}

/* An emulator around frame f (owned from then on), or NULL. */
static struct term *term_around(struct term_frame *f)
{
	struct term *t = f ? calloc(1, sizeof *t) : NULL;
	if (t == NULL) {
		term_frame_free(f);
		return NULL;
	}
	t->f = f;
	term_parser_init(&t->parser, &emu_ops, t);
	t->autowrap = true;
	t->g[0] = t->g[1] = 'B';
	t->bottom = f->rows - 1;
	reset_tabs(t, 0);
	return t;
}

struct term *term_new(int cols, int rows)
{
	if (cols <= 0 || rows <= 0)
		return NULL;
	clamp_size(&cols, &rows);
	return term_around(term_frame_new(cols, rows));
}

/* Everything of t but its frame, which the main screen's rows are in. */
static void free_all_but_frame(struct term *t)
{
	term_rows_free(t->alt.base, t->alt.row, t->f->rows);
	scrollback_free(t);
	term_parser_free(&t->parser);
	free(t->reply);
	free(t->sgr_memo);
	free(t);
}

void term_free(struct term *t)
{
	if (t == NULL)
		return;
	if (alt_active(t)) {
		/* the frame frees the main rows, the alternate ones go here */
		t->alt = frame_rows(t->f);
		frame_set_rows(t->f, t->hidden);
	}
	struct term_frame *f = t->f;
	free_all_but_frame(t);
	term_frame_free(f);
}

/* ---- lines kept as bytes -------------------------------------------- */

/*
 * A program that floods the terminal (cat of a log, a build, ls -R) sends
 * many screenfuls in one read, and most of its lines scroll off before
 * anyone could see them. Such a line is not emulated cell by cell: the
 * row keeps its bytes and the pen it began with, in its own cell memory
 * (`lazy` counts the bytes), and lazy_replay makes the cells from them
 * when they are wanted. The lines of one write that are still on the
 * screen when it ends are replayed before term_write returns, so a frame
 * never holds such a row; only the scrollback does, and
 * term_scrollback_line replays a line when it is read.
 *
 * A line qualifies (lazy_lines) when it is printable ASCII and SGRs
 * ("ESC [", digits, ':' and ';', "m") only, no wider than the screen,
 * ends in CR LF, and begins in the first column of the empty bottom row
 * of a full-screen scroll region on the main screen, with plain printing
 * (plain_print) and no hyperlink. Then printing it changes nothing but
 * that row, the pen and the cursor, and the row's cells are fill_ascii's
 * runs in the pens the SGRs make, from the first column on: what
 * lazy_replay does. The pen after the line comes from its SGRs from the
 * last that starts with SGR 0 on (all of them, when none does).
 *
 * The gain is for coloured floods: the colour corpus of make bench runs
 * about 3.5 times as fast; plain lines (seq) about 1.1 times. The test
 * is tests/term_lazy_test.c: any stream must end as it does with
 * term_lazy_lines off.
 */
int term_lazy_lines = 1; /* see internal.h */

#define LAZY_SGRS 16   /* SGRs from a kept line's last SGR 0 on */
#define LAZY_BLOCKS 16  /* 64-byte blocks a kept line may touch */
#define LAZY_HEAD 16    /* bytes before a kept line's: its pen */
/* Bytes lazy_lines may read from a block's start: the block's 64, the
 * LF after a CR in its last byte, and the last 16-byte copy of a line
 * that ends there (from a CR at 63, to 78). */
#define LAZY_ROOM 80
_Static_assert(sizeof(struct pen) <= LAZY_HEAD, "a pen fits the head");

/* Sixteen times four bytes at b, as masks (bit i for b[i]): ESC; the
 * bytes that are neither ESC nor printable (C0 controls, DEL, from 0x80);
 * parameter bytes (digits, ':' and ';'); 'm'; '['. */
struct lazy_block {
	uint64_t esc, stop, param, m, lb;
};

#ifdef FILL_AVX2
/* lazy_classify's AVX-512 (BW) loop: a compare gives a mask. */
__attribute__((target("avx512bw")))
static void lazy_classify_avx512(const uint8_t *b, struct lazy_block *k)
{
	__m512i v = _mm512_loadu_si512((const void *)b);
	k->esc = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x1b));
	k->stop = (_mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)) |
	           _mm512_cmpge_epu8_mask(v, _mm512_set1_epi8(0x7f))) & ~k->esc;
	k->param = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')),
	                                  _mm512_set1_epi8(';' - '0'));
	k->m = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('m'));
	k->lb = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('['));
}

/* And with AVX2: two halves of 32 bytes. */
__attribute__((target("avx2")))
static void lazy_classify_avx2(const uint8_t *b, struct lazy_block *k)
{
	*k = (struct lazy_block){ 0, 0, 0, 0, 0 };
	for (int j = 0; j < 2; j++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32 * j));
#define LAZY_MASK(x) ((uint64_t)(uint32_t)_mm256_movemask_epi8(x) << 32 * j)
		k->esc |= LAZY_MASK(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x1b)));
		/* signed: bytes from 0x80 are below 0x20 too */
		k->stop |= LAZY_MASK(_mm256_or_si256(
			_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v),
			_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f))));
		k->param |= LAZY_MASK(_mm256_and_si256(
			_mm256_cmpgt_epi8(v, _mm256_set1_epi8('0' - 1)),
			_mm256_cmpgt_epi8(_mm256_set1_epi8(';' + 1), v)));
		k->m |= LAZY_MASK(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('m')));
		k->lb |= LAZY_MASK(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('[')));
#undef LAZY_MASK
	}
	k->stop &= ~k->esc;
}

#endif

/* level: fill_level's, or 0 where there is none. */
static inline void lazy_classify(const uint8_t *b, struct lazy_block *k, int level)
{
#ifdef FILL_AVX2
	if (level == 2) {
		lazy_classify_avx512(b, k);
		return;
	}
	if (level == 1) {
		lazy_classify_avx2(b, k);
		return;
	}
#else
	(void)level;
#endif
#ifdef __SSE2__
	*k = (struct lazy_block){ 0, 0, 0, 0, 0 };
	for (int j = 0; j < 4; j++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * j));
#define LAZY_MASK(x) ((uint64_t)(unsigned)_mm_movemask_epi8(x) << 16 * j)
		k->esc |= LAZY_MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x1b)));
		/* signed: bytes from 0x80 are below 0x20 too */
		k->stop |= LAZY_MASK(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
		                                  _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
		k->param |= LAZY_MASK(_mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		                                    _mm_cmplt_epi8(v, _mm_set1_epi8(';' + 1))));
		k->m |= LAZY_MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('m')));
		k->lb |= LAZY_MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('[')));
#undef LAZY_MASK
	}
	k->stop &= ~k->esc;
#else
	*k = (struct lazy_block){ 0, 0, 0, 0, 0 };
	for (int i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		uint8_t c = b[i];
		if (c == 0x1b)
			k->esc |= bit;
		else if (c < 0x20 || c >= 0x7f)
			k->stop |= bit;
		if (c >= '0' && c <= ';')
			k->param |= bit;
		if (c == 'm')
			k->m |= bit;
		if (c == '[')
			k->lb |= bit;
	}
#endif
}

/* The bits set in x (gcc calls a function for __builtin_popcountll
 * without the popcnt instruction, which x86-64's baseline lacks). */
static inline int lazy_popcount(uint64_t x)
{
#ifdef __POPCNT__
	return __builtin_popcountll(x);
#else
	x -= (x >> 1) & 0x5555555555555555u;
	x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
	return (int)((x * 0x0101010101010101u) >> 56);
#endif
}

/* The SGR of a kept line whose parameters (digits, ':' and ';') start
 * at p applied to t's pen, as ground_csi or the tables apply it; returns
 * its final 'm'. */
static const uint8_t *lazy_sgr(struct term *t, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *f = p;
	struct term_seq q;

	while (*f != 'm')
		f++;
	if (f == p || (f - p == 1 && *p == '0')) {
		sgr_apply(&t->pen, sgr_op(0));
	} else if (!sgr_fast(t, p, f, end)) {
		term_seq_read(&q, p, f);
		sgr(t, &q);
	}
	return f;
}

/* Whether the SGR whose parameters start at p begins with SGR 0. */
static inline bool lazy_sgr_resets(const uint8_t *p)
{
	return *p == 'm' || (*p == '0' && (p[1] == 'm' || p[1] == ';'));
}

/* The pen after a kept line: its SGRs from the last that begins with SGR
 * 0 on (all of them when none does) applied to t's pen. esc[j] marks the
 * line's ESCs in the 64 bytes at s0 + 64 j (s0: the start of the block
 * the line starts in). False, the pen unchanged, when more than
 * LAZY_SGRS SGRs would be applied. */
static bool lazy_pen(struct term *t, const uint8_t *s0, const uint64_t *esc,
                     int nb, const uint8_t *end)
{
	const uint8_t *at[LAZY_SGRS];
	int n = 0;

	for (int j = nb - 1; j >= 0; j--)
		for (uint64_t e = esc[j]; e != 0;) {
			int last = 63 - __builtin_clzll(e);
			e &= ~((uint64_t)1 << last);
			const uint8_t *p = s0 + 64 * j + last + 2;
			if (n == LAZY_SGRS)
				return false;
			at[n++] = p;
			if (lazy_sgr_resets(p))
				goto apply;
		}
apply:
	while (n > 0)
		lazy_sgr(t, at[--n], end);
	return true;
}

/* Make row r's cells from the bytes it keeps (r->lazy > 0). */
static void lazy_replay(struct term *t, struct term_row *r)
{
	uint8_t raw[LAZY_BLOCKS * 64]; /* a kept line lies within as many blocks */
	struct pen keep = t->pen;
	size_t n = r->lazy;
	int x = 0;

	memcpy(&t->pen, r->cells, sizeof t->pen);
	memcpy(raw, (const char *)r->cells + LAZY_HEAD, n);
	r->lazy = 0;
	for (const uint8_t *s = raw, *end = raw + n; s < end;) {
		if (*s == 0x1b) {
			/* an SGR, as lazy_lines found it */
			s = lazy_sgr(t, s + 2, end) + 1;
			continue;
		}
		size_t k = term_ascii_run(s, end);
		fill_ascii(&r->cells[x], s, k, &t->pen);
		x += (int)k;
		s += k;
	}
	r->len = (uint16_t)x;
	term_row_touch(r);
	t->pen = keep;
}

/* Whether a line feed just done may start lines kept as bytes: the state
 * the comment above asks for, and a try not put off by misses. */
static inline bool lazy_ready(struct term *t, const uint8_t *s, const uint8_t *end)
{
	const struct term_frame *f = t->f;

	if (!term_lazy_lines || end - s < LAZY_ROOM || f->cx != 0 || f->cy != f->rows - 1 ||
	    t->top != 0 || t->bottom != f->rows - 1 || f->wrap_pending ||
	    alt_active(t) || !plain_print(t) || t->pen.link != 0)
		return false;
	const struct term_row *r = f->row[f->cy];
	if (r->len != 0 || r->nclusters != 0)
		return false;
	if (t->lazy_skip > 0) {
		t->lazy_skip--;
		return false;
	}
	return true;
}

/* Lines at s, while they qualify, each kept as bytes in the bottom row
 * before the line feed that scrolls it up; those still on the screen at
 * the end are replayed. Returns the byte after the last.
 *
 * The bytes are read as masks, 64 at a time (lazy_classify), and a line
 * qualifies by bit arithmetic on them: from its start to its CR (which an
 * LF must follow) nothing stops it but ESCs; each ESC has a '[' after it;
 * the run of parameter bytes after that ends in an 'm': adding a 1 at the
 * start of each run carries through it and stops on the byte after
 * (blocks pass the carry on). Its width is its length less those
 * sequences' bytes. Reading stops LAZY_ROOM bytes before end, which
 * leaves room for the loads and copies. */
static const uint8_t *lazy_lines(struct term *t, const uint8_t *s, const uint8_t *end)
{
	struct term_frame *f = t->f;
	const uint8_t *b = s; /* the block in k */
	struct lazy_block k;
	int kept = 0;
#ifdef FILL_AVX2
	int level = fill_level();
#else
	int level = 0;
#endif

	if (end - b >= LAZY_ROOM)
		lazy_classify(b, &k, level);
	while (end - b >= LAZY_ROOM) {
		uint64_t esc[LAZY_BLOCKS], escs = 0, prev = 0;
		uint64_t from = ~(uint64_t)0 << (s - b);
		bool carry = false;
		int nb = 0, in_sgrs = 0;
		const uint8_t *cr = NULL, *b0 = b;
		for (;;) {
			uint64_t line = from, stop = k.stop & from;
			if (stop != 0) {
				int at = __builtin_ctzll(stop);
				if (b[at] != '\r' || b[at + 1] != '\n')
					goto done;
				line &= ((uint64_t)1 << at) - 1;
				cr = b + at;
			}
			uint64_t e = k.esc & line;
			if ((e | prev | carry) != 0) {
				uint64_t bracket = e << 1 | prev >> 63;
				uint64_t start = e << 2 | prev >> 62, sum;
				bool c1 = __builtin_add_overflow(k.param, start, &sum);
				bool c2 = __builtin_add_overflow(sum, (uint64_t)carry, &sum);
				uint64_t fin = sum & ~k.param;
				if ((bracket & ~k.lb) != 0 || (fin & ~k.m) != 0)
					goto done;
				carry = c1 || c2;
				in_sgrs += lazy_popcount(e | bracket | (k.param & ~sum) | fin);
				escs |= e;
			}
			esc[nb++] = e;
			if (cr != NULL)
				break;
			if (nb == LAZY_BLOCKS || end - (b + 64) < LAZY_ROOM)
				goto done;
			b += 64;
			lazy_classify(b, &k, level);
			from = ~(uint64_t)0;
			prev = e;
		}
		struct term_row *r = f->row[f->cy];
		struct pen pen = t->pen;
		size_t n = (size_t)(cr - s);
		int w = (int)n - in_sgrs;
		if (w > f->cols ||
		    (w > 0 && LAZY_HEAD + n + 16 > (size_t)r->cap * sizeof *r->cells) ||
		    (escs != 0 && !lazy_pen(t, b0, esc, nb, end)))
			goto done;
		if (w > 0) {
			/* The pen, then the bytes sixteen at a time (there
			 * is room after the line in the buffer, and in the
			 * row's cells: checked above). */
			char *d = (char *)r->cells;
			memcpy(d, &pen, sizeof pen);
			for (size_t i = 0; i < n; i += 16)
				memcpy(d + LAZY_HEAD + i, s + i, 16);
			r->lazy = (uint16_t)n;
			term_row_touch(r);
			t->lazy_kept++;
		}
		kept++;
		t->last_char = 0;
		carriage_return(f);
		line_feed(t);
		s = cr + 2;
		if (s - b >= 64) {
			b += 64;
			if (end - b >= LAZY_ROOM)
				lazy_classify(b, &k, level);
		}
	}
done:
	for (int i = 1; i <= kept && i < f->rows; i++) {
		struct term_row *r = f->row[f->rows - 1 - i];
		if (r->lazy > 0)
			lazy_replay(t, r);
	}
	/* A stream of lines that do not qualify tries ever less often. */
	if (kept == 0) {
		if (t->lazy_misses < 6)
			t->lazy_misses++;
		t->lazy_skip = (uint8_t)(1u << t->lazy_misses);
	} else {
		t->lazy_misses = 0;
	}
	return s;
}

uint64_t term_lazy_kept(const struct term *t)
{
	return t->lazy_kept;
}

int term_scrollback_line(struct term *t, int i, struct term_cell *cells, int n)
{
	if (i < 0 || i >= t->sb_count || n < 0)
		return TERM_EINVAL;
	struct term_row *r = t->sb[sb_ahead(t->sb_head, i)];
	if (r->lazy > 0)
		lazy_replay(t, r);
	for (int col = 0; col < n; col++)
		cells[col] = term_row_cell(r, col);
	return r->len;
}

/* A control sequence at s, whose "ESC [" is checked and whose next byte
 * is in the buffer, read and applied; returns the byte after it, or NULL
 * when the tables must read it. */
static inline const uint8_t *ground_csi(struct term *t, const uint8_t *s,
                                        const uint8_t *end)
{
	const uint8_t *p = s + 2, *fin, *after;
	struct term_seq q;

	if (*p == 'm' || (end - p > 1 && memcmp(p, "0m", 2) == 0)) {
		/* SGR 0 as "ESC [ m" or "ESC [ 0 m": the commonest sequence
		 * of all (ls, grep and git end every colour so). Both bytes
		 * of "0m" in one compare: "0;31m" starts alike, and a branch
		 * on the '0' alone mispredicts on colour output. */
		sgr_apply(&t->pen, sgr_op(0));
		t->last_char = 0;
		return p + (*p == 'm' ? 1 : 2);
	}
	if (*p >= 0x40 && *p <= 0x7e) {
		/* No parameters (ESC [ K, ESC [ H, ...): nothing to scan. */
		if (*p == 'K') {
			/* EL 0, which ends many a line of full-screen
			 * programs (top, less) and of coloured output */
			t->last_char = 0;
			erase_line(t, 0);
			return p + 1;
		}
		q.final = *p;
		q.marker = q.ninter = q.nparam = 0;
		q.sub = 0;
		after = p + 1;
	} else {
		fin = term_csi_final(p, end);
		if (fin != NULL && *fin == 'm' && sgr_fast(t, p, fin, end)) {
			/* SGR, the most frequent by far */
			t->last_char = 0;
			return fin + 1;
		}
		int32_t row, col = -1;
		const uint8_t *r;
		if (fin != NULL && *fin == 'H' && (r = csi_number(p, fin, &row)) != NULL &&
		    (r == fin || ((r = csi_number(r + 1, fin, &col)) != NULL && r == fin))) {
			/* CUP with one or two plain numbers, the most
			 * frequent after SGR */
			t->last_char = 0;
			move_abs(t, (col > 0 ? col : 1) - 1, (row > 0 ? row : 1) - 1);
			return fin + 1;
		}
		after = fin != NULL ? term_csi_params(&q, p, fin) :
		                      term_csi_scan_slow(&q, p, end);
		if (after == NULL)
			return NULL;
	}
	emu_csi(t, &q);
	return after;
}

/* The ground state, read here rather than by the parser's tables (see
 * internal.h): printable ASCII runs, C0 controls and whole control
 * sequences go straight to the emulator, until a byte needs the tables.
 * Returns where that byte is, or end. */
static const uint8_t *ground(struct term *t, const uint8_t *s, const uint8_t *end)
{
	while (s < end) {
		uint8_t c = *s;
		if (c >= 0x20 && c < 0x7f) {
			size_t n = term_ascii_run(s, end);
			print_ascii(t, s, n);
			s += n;
		} else if (c == 0x1b) {
			const uint8_t *after;
			if (end - s < 3 || s[1] != '[' || (after = ground_csi(t, s, end)) == NULL)
				break;
			s = after;
		} else if (c == '\r') {
			/* CR, and LF below: every line of output ends so */
			t->last_char = 0;
			carriage_return(t->f);
			s++;
		} else if (c == '\n') {
			t->last_char = 0;
			line_feed(t);
			s++;
			if (lazy_ready(t, s, end))
				s = lazy_lines(t, s, end);
		} else if (c < 0x20) {
			emu_execute(t, c);
			s++;
		} else {
			break;
		}
	}
	return s;
}

void term_write(struct term *t, const void *buf, size_t len)
{
	if (len == 0)
		return; /* buf may be NULL (an empty render) */
	const uint8_t *s = buf, *end = s + len;

	while (s < end) {
		if (term_parser_ground(&t->parser)) {
			s = ground(t, s, end);
			if (s == end)
				break;
		}
		s = term_parser_step(&t->parser, s, end);
	}
}

const uint8_t *term_replies(const struct term *t, size_t *len)
{
	static const uint8_t none[1];
	*len = t->reply_len;
	return t->reply ? t->reply : none;
}

void term_replies_clear(struct term *t)
{
	t->reply_len = 0;
}

const struct term_frame *term_frame(const struct term *t)
{
	return t->f;
}

struct term *term_from_frame(const struct term_frame *f)
{
	struct term *t = term_around(term_frame_copy(f));
	/* The alternate screen's rows are not part of a frame: the copy
	 * is a main screen showing what f shows. f's cells may hold wide
	 * characters. */
	if (t != NULL) {
		t->f->modes &= ~(uint32_t)TERM_MODE_ALT_SCREEN;
		t->wide_seen = true;
	}
	return t;
}

struct term_frame *term_free_keep_frame(struct term *t)
{
	if (t == NULL)
		return NULL;
	if (alt_active(t)) {
		/* The frame holds the alternate rows: a copy shows them. */
		struct term_frame *copy = term_frame_copy(t->f);
		term_free(t);
		return copy;
	}
	struct term_frame *f = t->f;
	free_all_but_frame(t);
	return f;
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
	clamp_size(&cols, &rows);
	if (cols == f->cols && rows == f->rows)
		return TERM_OK;

	int shift = 0, alt_shift = 0;
	bool alt = alt_active(t);
	struct rowset main = alt ? t->hidden : frame_rows(f);
	if (alt)
		t->alt = frame_rows(f);
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
		frame_set_rows(f, t->alt);
		f->cy -= alt_shift;
	} else {
		t->hidden = (struct rowset){ NULL, NULL, 0 };
		frame_set_rows(f, main);
		f->cy -= shift;
		f->modes &= ~(uint32_t)TERM_MODE_ALT_SCREEN;
	}
	f->cols = cols;
	f->rows = rows;
	t->top = 0;
	t->bottom = rows - 1;
	move_to(t, f->cx, f->cy);
	for (int s = 0; s < 2; s++) {
		t->saved[s].cy -= s == 0 ? shift : alt_shift;
		if (t->saved[s].cy < 0) t->saved[s].cy = 0;
		if (t->saved[s].cy >= rows) t->saved[s].cy = rows - 1;
		if (t->saved[s].cx >= cols) t->saved[s].cx = cols - 1;
	}
	return TERM_OK;
}
