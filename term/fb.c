/*
 * The framebuffer: rows of compact cells with generation counters, and
 * frames (a screen's rows plus cursor, modes, title and the like).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t term_gen_counter;

static const struct term_cell blank_cell = { 0, 0, 0, 0, 0, 0 };

/* A row and its first cells are one allocation, and freed rows wait on
 * a short list to be used again: a frame copy is a screenful of rows,
 * made and dropped for every overlay the client draws, and musl's
 * allocator hands such memory back to the kernel and faults it in again
 * each time (measured: an overlay cost 127 us a keystroke that way, 8 us
 * with rows reused).
 * Cells that outgrow a row move to their own allocation. */
#define SPARE_ROWS 256         /* rows of at most SPARE_COLS: 330 KiB */
#define SPARE_COLS 256
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_SPARE_ROWS          /* ASan must see every row freed */
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(NO_SPARE_ROWS)
#undef SPARE_ROWS
#define SPARE_ROWS 0
#endif
static struct term_row *spare_rows[SPARE_ROWS + 1];
static int nspare;

static bool cells_inline(const struct term_row *r)
{
	return r->cells == (struct term_cell *)(r + 1);
}

struct term_row *term_row_new(int cols)
{
	struct term_row *r = NULL;

	for (int i = nspare - 1; i >= 0 && i >= nspare - 4; i--)
		if (spare_rows[i]->cap >= cols) {
			r = spare_rows[i];
			spare_rows[i] = spare_rows[--nspare];
			break;
		}
	if (r == NULL) {
		r = malloc(sizeof *r + (size_t)cols * sizeof *r->cells);
		if (r == NULL)
			return NULL;
		memset(r, 0, sizeof *r);
		r->cells = (struct term_cell *)(r + 1);
		r->cap = (uint16_t)cols;
	}
	r->len = 0;
	r->fill = 0;
	r->wrapped = false;
	r->flood_len = 0;
	r->nclusters = 0;
	r->nulc = 0;
	term_row_touch(r);
	return r;
}

void term_row_free(struct term_row *r)
{
	if (r == NULL)
		return;
	if (cells_inline(r) && r->clustercap == 0 && r->ulccap == 0 &&
	    r->cap <= SPARE_COLS && nspare < SPARE_ROWS) {
		spare_rows[nspare++] = r;
		return;
	}
	if (!cells_inline(r))
		free(r->cells);
	free(r->clusters);
	free(r->ulc);
	free(r);
}

/* A copy of the n bytes at p, or NULL. */
static void *copy_of(const void *p, size_t n)
{
	void *d = malloc(n);
	if (d != NULL)
		memcpy(d, p, n);
	return d;
}

struct term_row *term_row_dup(const struct term_row *r)
{
	struct term_row *d = term_row_new(r->cap);

	if (d == NULL)
		return NULL;
	memcpy(d->cells, r->cells, r->len * sizeof *r->cells);
	/* The side stores: combining characters, underline colours. */
	if ((r->nclusters > 0 &&
	     (d->clusters = copy_of(r->clusters, r->nclusters * sizeof *d->clusters)) == NULL) ||
	    (r->nulc > 0 && (d->ulc = copy_of(r->ulc, r->nulc * sizeof *d->ulc)) == NULL)) {
		term_row_free(d);
		return NULL;
	}
	d->nclusters = d->clustercap = r->nclusters;
	d->nulc = d->ulccap = r->nulc;
	d->len = r->len;
	d->fill = r->fill;
	d->wrapped = r->wrapped;
	d->gen = r->gen; /* same content, same generation */
	return d;
}

int term_row_reserve(struct term_row *r, int cols)
{
	if (cols <= r->cap)
		return TERM_OK;
	struct term_cell *c;
	if (cells_inline(r)) {
		c = malloc((size_t)cols * sizeof *c);
		if (c != NULL)
			memcpy(c, r->cells, r->len * sizeof *c);
	} else {
		c = realloc(r->cells, (size_t)cols * sizeof *c);
	}
	if (c == NULL)
		return TERM_ENOMEM;
	r->cells = c;
	r->cap = (uint16_t)cols;
	return TERM_OK;
}

void term_row_materialize_slow(struct term_row *r, int upto)
{
	struct term_cell b = blank_cell;
	b.bg = r->fill;
	for (int i = r->len; i < upto; i++)
		r->cells[i] = b;
	r->len = (uint16_t)upto;
}

struct term_cell term_row_cell(const struct term_row *r, int col)
{
	if (col < r->len)
		return r->cells[col];
	struct term_cell b = blank_cell;
	b.bg = r->fill;
	return b;
}

int term_row_cell_cps(const struct term_row *r, const struct term_cell *c,
                      uint32_t cps[TERM_CLUSTER_MAX])
{
	if (!(c->ch & TERM_CH_CLUSTER)) {
		cps[0] = c->ch;
		return 1;
	}
	uint32_t i = c->ch & ~TERM_CH_CLUSTER;
	if (i >= r->nclusters) {
		cps[0] = 0xfffd;
		return 1;
	}
	int n = 0;
	while (n < TERM_CLUSTER_MAX && r->clusters[i].cp[n] != 0) {
		cps[n] = r->clusters[i].cp[n];
		n++;
	}
	return n;
}

bool term_cell_equal(const struct term_row *ra, const struct term_cell *a,
                     const struct term_row *rb, const struct term_cell *b)
{
	if (a->fg != b->fg || a->bg != b->bg || a->attr != b->attr ||
	    a->link != b->link ||
	    term_row_ul_colour(ra, a) != term_row_ul_colour(rb, b))
		return false;
	/* An erased cell (0) and a written space look the same. */
	if (!((a->ch | b->ch) & TERM_CH_CLUSTER))
		return (a->ch ? a->ch : ' ') == (b->ch ? b->ch : ' ');
	uint32_t ca[TERM_CLUSTER_MAX], cb[TERM_CLUSTER_MAX];
	int na = term_row_cell_cps(ra, a, ca), nb = term_row_cell_cps(rb, b, cb);
	return na == nb && memcmp(ca, cb, (size_t)na * sizeof *ca) == 0;
}

/* Drop side-store entries no cell refers to any more. */
static void cluster_compact(struct term_row *r)
{
	uint16_t n = 0;

	for (int i = 0; i < r->len; i++) {
		struct term_cell *c = &r->cells[i];
		if (!(c->ch & TERM_CH_CLUSTER))
			continue;
		uint32_t idx = c->ch & ~TERM_CH_CLUSTER;
		if (idx < r->nclusters) {
			r->clusters[n] = r->clusters[idx];
			c->ch = TERM_CH_CLUSTER | n;
			n++;
		} else {
			c->ch = 0xfffd;
		}
	}
	r->nclusters = n;
}

/* Drop underline colours no cell refers to any more. */
static void ulc_compact(struct term_row *r)
{
	uint8_t map[256] = { 0 };
	uint32_t old[UINT8_MAX];
	uint8_t n = 0;

	memcpy(old, r->ulc, r->nulc * sizeof *old);
	for (int i = 0; i < r->len; i++) {
		struct term_cell *c = &r->cells[i];
		if (c->ul == 0)
			continue;
		if (c->ul > r->nulc) {
			c->ul = 0;
			continue;
		}
		if (map[c->ul] == 0) {
			r->ulc[n] = old[c->ul - 1];
			map[c->ul] = ++n;
		}
		c->ul = map[c->ul];
	}
	r->nulc = n;
}

uint8_t term_row_ul_index(struct term_row *r, uint32_t c)
{
	if (c == 0)
		return 0;
	for (int i = r->nulc - 1; i >= 0; i--)
		if (r->ulc[i] == c)
			return (uint8_t)(i + 1);
	if (r->nulc == UINT8_MAX)
		ulc_compact(r);
	if (r->nulc == UINT8_MAX)
		return 0; /* 255 colours under one row: the rest show default */
	if (r->nulc == r->ulccap) {
		int cap = r->ulccap ? 2 * r->ulccap : 4;
		if (cap > UINT8_MAX)
			cap = UINT8_MAX;
		uint32_t *u = realloc(r->ulc, (size_t)cap * sizeof *u);
		if (u == NULL)
			return 0;
		r->ulc = u;
		r->ulccap = (uint8_t)cap;
	}
	r->ulc[r->nulc++] = c;
	return r->nulc;
}

bool term_row_combine(struct term_row *r, struct term_cell *c, uint32_t mark)
{
	if (c->ch & TERM_CH_CLUSTER) {
		struct term_cluster *cl = &r->clusters[c->ch & ~TERM_CH_CLUSTER];
		for (int i = 1; i < TERM_CLUSTER_MAX; i++) {
			if (cl->cp[i] == 0) {
				cl->cp[i] = mark;
				if (i + 1 < TERM_CLUSTER_MAX)
					cl->cp[i + 1] = 0;
				return true;
			}
		}
		return false;
	}
	/* A row never needs more clusters than it has cells. */
	if (r->nclusters >= r->cap)
		cluster_compact(r);
	if (r->nclusters >= r->cap)
		return false;
	if (r->nclusters >= r->clustercap) {
		uint16_t cap = r->clustercap ? r->clustercap * 2 : 4;
		if (cap > r->cap)
			cap = r->cap;
		struct term_cluster *cl = realloc(r->clusters, cap * sizeof *cl);
		if (cl == NULL)
			return false;
		r->clusters = cl;
		r->clustercap = cap;
	}
	struct term_cluster *cl = &r->clusters[r->nclusters];
	memset(cl, 0, sizeof *cl);
	cl->cp[0] = c->ch ? c->ch : ' ';
	cl->cp[1] = mark;
	c->ch = TERM_CH_CLUSTER | r->nclusters++;
	return true;
}

bool term_row_equal(const struct term_row *a, const struct term_row *b,
                    int cols)
{
	if (a->gen == b->gen)
		return true;
	int n = a->len > b->len ? a->len : b->len;
	if (n > cols)
		n = cols;
	if (a->len == b->len && a->nclusters == 0 && b->nclusters == 0 &&
	    a->nulc == 0 && b->nulc == 0 && memcmp(a->cells, b->cells, (size_t)n * sizeof *a->cells) == 0)
		return n == cols || a->fill == b->fill;
	for (int i = 0; i < n; i++) {
		struct term_cell ca = term_row_cell(a, i), cb = term_row_cell(b, i);
		if (!term_cell_equal(a, &ca, b, &cb))
			return false;
	}
	return n == cols || a->fill == b->fill;
}

struct term_row **term_rows_new(int cols, int rows, int *cap)
{
	struct term_row **base = calloc((size_t)rows + TERM_ROW_SLACK, sizeof *base);

	if (base == NULL)
		return NULL;
	for (int i = 0; i < rows; i++) {
		if ((base[i] = term_row_new(cols)) == NULL) {
			term_rows_free(base, base, i);
			return NULL;
		}
	}
	*cap = rows + TERM_ROW_SLACK;
	return base;
}

void term_rows_free(struct term_row **base, struct term_row **row, int rows)
{
	if (base == NULL)
		return;
	for (int i = 0; i < rows; i++)
		term_row_free(row[i]);
	free(base);
}

struct term_frame *term_frame_new(int cols, int rows)
{
	struct term_frame *f = calloc(1, sizeof *f);

	if (f == NULL)
		return NULL;
	f->rowbase = term_rows_new(cols, rows, &f->rowcap);
	if (f->rowbase == NULL) {
		free(f);
		return NULL;
	}
	f->row = f->rowbase;
	f->cols = cols;
	f->rows = rows;
	return f;
}

void term_frame_free(struct term_frame *f)
{
	if (f == NULL)
		return;
	term_rows_free(f->rowbase, f->row, f->rows);
	for (int i = 0; i < f->nclips; i++)
		free(f->clips[i]);
	for (int i = 0; i < f->nlinks; i++)
		free(f->links[i]);
	free(f);
}

struct term_frame *term_frame_copy(const struct term_frame *f)
{
	struct term_frame *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	*d = *f;
	d->rowbase = d->row = calloc((size_t)f->rows + TERM_ROW_SLACK, sizeof *d->row);
	d->rowcap = f->rows + TERM_ROW_SLACK;
	d->nclips = 0;
	d->nlinks = 0;
	if (d->row == NULL)
		goto fail;
	for (int i = 0; i < f->rows; i++)
		if ((d->row[i] = term_row_dup(f->row[i])) == NULL)
			goto fail;
	for (int i = 0; i < f->nclips; i++) {
		if ((d->clips[i] = strdup(f->clips[i])) == NULL)
			goto fail;
		d->nclips = i + 1;
	}
	for (int i = 0; i < f->nlinks; i++) {
		if ((d->links[i] = strdup(f->links[i])) == NULL)
			goto fail;
		d->nlinks = i + 1;
	}
	return d;
fail:
	if (d->row == NULL)
		d->rows = 0;
	term_frame_free(d);
	return NULL;
}

const struct term_dec_mode term_dec_modes[] = {
	{ TERM_MODE_CURSOR_KEYS, 1 },
	{ TERM_MODE_REVERSE, 5 },
	{ TERM_MODE_MOUSE_X10, 9 },
	{ TERM_MODE_MOUSE_NORMAL, 1000 },
	{ TERM_MODE_MOUSE_BUTTON, 1002 },
	{ TERM_MODE_MOUSE_ANY, 1003 },
	{ TERM_MODE_FOCUS, 1004 },
	{ TERM_MODE_MOUSE_UTF8, 1005 },
	{ TERM_MODE_MOUSE_SGR, 1006 },
	{ TERM_MODE_MOUSE_URXVT, 1015 },
	{ TERM_MODE_BRACKETED_PASTE, 2004 },
};
const size_t term_dec_nmodes = sizeof term_dec_modes / sizeof term_dec_modes[0];

int term_frame_link_id(struct term_frame *f, const char *uri)
{
	for (int i = 0; i < f->nlinks; i++)
		if (strcmp(f->links[i], uri) == 0)
			return i + 1;
	if (f->nlinks >= TERM_LINKS_MAX)
		return 0; /* table full: the text shows, unlinked */
	char *s = strdup(uri);
	if (s == NULL)
		return 0;
	f->links[f->nlinks++] = s;
	return f->nlinks;
}

int term_frame_cols(const struct term_frame *f) { return f->cols; }
int term_frame_rows(const struct term_frame *f) { return f->rows; }
bool term_frame_wrap_pending(const struct term_frame *f) { return f->wrap_pending; }
int term_frame_cursor_style(const struct term_frame *f) { return f->cursor_style; }
uint32_t term_frame_modes(const struct term_frame *f) { return f->modes; }
const char *term_frame_title(const struct term_frame *f) { return f->title; }
const char *term_frame_icon(const struct term_frame *f) { return f->icon; }

void term_frame_set_titles(struct term_frame *f, const char *title,
                           const char *icon)
{
	snprintf(f->title, sizeof f->title, "%s", title);
	snprintf(f->icon, sizeof f->icon, "%s", icon);
}
uint32_t term_frame_bells(const struct term_frame *f) { return f->bells; }

void term_frame_cursor(const struct term_frame *f, int *row, int *col)
{
	*row = f->cy;
	*col = f->cx;
}

const char *term_frame_link(const struct term_frame *f, uint16_t id)
{
	if (id == 0 || id > f->nlinks)
		return NULL;
	return f->links[id - 1];
}

const char *term_frame_clipboard(const struct term_frame *f, uint32_t *serial)
{
	if (serial)
		*serial = f->clip_serial;
	return f->nclips > 0 ? f->clips[f->nclips - 1] : NULL;
}

struct term_cell term_frame_cell(const struct term_frame *f, int row, int col)
{
	if (row < 0 || row >= f->rows || col < 0 || col >= f->cols)
		return blank_cell;
	return term_row_cell(f->row[row], col);
}

uint32_t term_frame_cell_ul_colour(const struct term_frame *f, int row, int col)
{
	if (row < 0 || row >= f->rows || col < 0 || col >= f->cols)
		return 0;
	struct term_cell c = term_row_cell(f->row[row], col);
	return term_row_ul_colour(f->row[row], &c);
}

size_t term_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t term_frame_cell_utf8(const struct term_frame *f, int row, int col,
                            char *out, size_t cap)
{
	size_t n = 0;

	if (cap < 4 * TERM_CLUSTER_MAX + 1 || row < 0 || row >= f->rows ||
	    col < 0 || col >= f->cols) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	const struct term_row *r = f->row[row];
	struct term_cell c = term_row_cell(r, col);
	if (c.attr & TERM_ATTR_WIDE_CONT) {
		out[0] = '\0';
		return 0;
	}
	uint32_t cps[TERM_CLUSTER_MAX];
	int k = term_row_cell_cps(r, &c, cps);
	for (int i = 0; i < k; i++)
		n += term_utf8_encode(cps[i] ? cps[i] : ' ', out + n);
	out[n] = '\0';
	return n;
}

bool term_frame_row_equal(const struct term_frame *a, int ra,
                          const struct term_frame *b, int rb)
{
	if (a->cols != b->cols || ra < 0 || rb < 0 || ra >= a->rows ||
	    rb >= b->rows)
		return false;
	return term_row_equal(a->row[ra], b->row[rb], a->cols);
}

static bool links_equal(const struct term_frame *a, uint16_t la,
                        const struct term_frame *b, uint16_t lb)
{
	const char *ua = term_frame_link(a, la), *ub = term_frame_link(b, lb);
	if (ua == NULL || ub == NULL)
		return ua == ub;
	return strcmp(ua, ub) == 0;
}

#define WHY(...) do { if (why) snprintf(why, whylen, __VA_ARGS__); } while (0)

bool term_frame_equal(const struct term_frame *a, const struct term_frame *b,
                      char *why, size_t whylen)
{
	if (a->cols != b->cols || a->rows != b->rows) {
		WHY("size %dx%d vs %dx%d", a->cols, a->rows, b->cols, b->rows);
		return false;
	}
	for (int y = 0; y < a->rows; y++) {
		const struct term_row *ra = a->row[y], *rb = b->row[y];
		if (ra->gen == rb->gen)
			continue;
		for (int x = 0; x < a->cols; x++) {
			struct term_cell ca = term_row_cell(ra, x);
			struct term_cell cb = term_row_cell(rb, x);
			uint16_t la = ca.link, lb = cb.link;
			ca.link = cb.link = 0;
			if (!term_cell_equal(ra, &ca, rb, &cb) ||
			    !links_equal(a, la, b, lb)) {
				char sa[32], sb[32];
				term_frame_cell_utf8(a, y, x, sa, sizeof sa);
				term_frame_cell_utf8(b, y, x, sb, sizeof sb);
				WHY("cell %d,%d: '%s' fg %08x bg %08x attr %04x link %u"
				    " ul %08x vs '%s' fg %08x bg %08x attr %04x link %u"
				    " ul %08x", y, x, sa, ca.fg, ca.bg, ca.attr, la,
				    term_row_ul_colour(ra, &ca), sb, cb.fg, cb.bg,
				    cb.attr, lb, term_row_ul_colour(rb, &cb));
				return false;
			}
		}
	}
	if (a->cx != b->cx || a->cy != b->cy) {
		WHY("cursor %d,%d vs %d,%d", a->cy, a->cx, b->cy, b->cx);
		return false;
	}
	if (a->wrap_pending != b->wrap_pending) {
		WHY("wrap pending %d vs %d", a->wrap_pending, b->wrap_pending);
		return false;
	}
	if (a->cursor_style != b->cursor_style) {
		WHY("cursor style %d vs %d", a->cursor_style, b->cursor_style);
		return false;
	}
	if ((a->modes ^ b->modes) & ~(uint32_t)TERM_MODE_ALT_SCREEN) {
		WHY("modes %x vs %x", a->modes, b->modes);
		return false;
	}
	if (strcmp(a->title, b->title) != 0 || strcmp(a->icon, b->icon) != 0) {
		WHY("title \"%s\"/\"%s\" vs \"%s\"/\"%s\"", a->title, a->icon,
		    b->title, b->icon);
		return false;
	}
	return true;
}
