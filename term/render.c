/*
 * The frame-diff renderer: given what a real terminal shows (a frame, or
 * nothing known) and a new frame, append the bytes that make it show the
 * new frame. In order: title and clipboard, bell, modes, a scroll when the
 * new screen is the old one moved up, changed cells row by row (equal
 * cells skipped, blank runs erased with ECH and EL, the cheapest cursor
 * moves, SGR only when it changes), then cursor position, shape and
 * visibility.
 *
 * Assumptions about the real terminal (the client sets them up): xterm-
 * like, autowrap on, no scroll region, origin mode off. After a write into
 * the last column the cursor is treated as unknown except for CR (terminals
 * differ in what moves do from the deferred-wrap state; CR cancels it in
 * all of them). SGR state is unknown when a render starts.
 */
#include "internal.h"
#include "screen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- output buffer --------------------------------------------------- */

static void buf_put(struct term_buf *b, const void *p, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return;
			}
			cap *= 2;
		}
		uint8_t *d = realloc(b->data, cap);
		if (d == NULL) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void buf_str(struct term_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void buf_printf(struct term_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void buf_printf(struct term_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void term_buf_append(struct term_buf *b, const void *p, size_t n)
{
	buf_put(b, p, n);
}

void term_buf_free(struct term_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* ---- render state ---------------------------------------------------- */

struct render_pen {
	uint32_t fg, bg;
	uint16_t attr;
	uint32_t ul;    /* underline colour */
};

struct render {
	struct term_buf *out;
	const struct term_frame *nf;   /* the new frame */
	const struct term_frame *of;   /* the old frame (links resolve here) */
	int cols, rows;
	int cx, cy;                    /* real cursor; cx < 0: unknown */
	bool pending;                  /* wrote into the last column */
	bool pen_known;
	struct render_pen pen;
	const char *link;              /* the hyperlink now open, or NULL */
	bool links_agree;              /* link ids mean the same in both frames */
	bool trim;                     /* TERM_RENDER_TRIM */
};

static bool is_blank_ch(uint32_t ch)
{
	return ch == 0 || ch == ' ';
}

/* What an erase (EL, ECH, ED) with background bg leaves in a cell. */
static bool is_erased(const struct term_cell *c, uint32_t bg)
{
	return is_blank_ch(c->ch) && c->fg == 0 && c->bg == bg &&
	       (c->attr & ~TERM_ATTR_SGR_MASK) == 0 &&
	       (c->attr & TERM_ATTR_SGR_MASK) == 0 && c->link == 0 && c->ul == 0;
}

static const char *cell_link(const struct term_frame *f, const struct term_cell *c)
{
	return term_frame_link(f, c->link);
}

/* Cells equal as shown: the same text, colours, attributes and link. */
static bool same_cell(const struct render *r, const struct term_row *ra,
                      const struct term_cell *a, const struct term_frame *fa,
                      const struct term_row *rb, const struct term_cell *b)
{
	struct term_cell x = *a, y = *b;
	const char *la = cell_link(fa, a), *lb = cell_link(r->nf, b);

	x.link = y.link = 0;
	if ((la == NULL) != (lb == NULL) || (la && strcmp(la, lb) != 0))
		return false;
	return term_cell_equal(ra, &x, rb, &y);
}

/* Rows equal as shown. Generations and link ids decide when the frames'
 * link tables agree (frames of one emulator: its table only grows);
 * otherwise links are compared by URI, cell by cell. */
static bool same_row(const struct render *r, const struct term_row *was,
                     const struct term_frame *wasf, const struct term_row *now)
{
	if (r->links_agree || was->gen == now->gen)
		return term_row_equal(was, now, r->cols);
	for (int x = 0; x < r->cols; x++) {
		struct term_cell a = term_row_cell(was, x), b = term_row_cell(now, x);
		if (!same_cell(r, was, &a, wasf, now, &b))
			return false;
	}
	return true;
}

static bool link_tables_agree(const struct term_frame *a, const struct term_frame *b)
{
	int n = a->nlinks < b->nlinks ? a->nlinks : b->nlinks;

	for (int i = 0; i < n; i++)
		if (strcmp(a->links[i], b->links[i]) != 0)
			return false;
	return true;
}

/* ---- SGR ------------------------------------------------------------- */

static void color_param(char *s, size_t cap, uint32_t c, bool fg)
{
	uint32_t v = c & 0xffffff;

	switch (TERM_COLOR_KIND(c)) {
	case 0:
		snprintf(s, cap, fg ? "39" : "49");
		break;
	case 1:
		if (v & TERM_COLOR_EXTENDED)
			snprintf(s, cap, "%d;5;%u", fg ? 38 : 48, v & 0xff);
		else if (v < 8)
			snprintf(s, cap, "%u", (fg ? 30 : 40) + v);
		else if (v < 16)
			snprintf(s, cap, "%u", (fg ? 90 : 100) + v - 8);
		else
			snprintf(s, cap, "%d;5;%u", fg ? 38 : 48, v);
		break;
	default:
		snprintf(s, cap, "%d;2;%u;%u;%u", fg ? 38 : 48, v >> 16,
		         (v >> 8) & 0xff, v & 0xff);
		break;
	}
}

static const struct {
	uint16_t bit;
	const char *on, *off;
} sgr_attrs[] = {
	{ TERM_ATTR_BOLD, "1", "22" },
	{ TERM_ATTR_DIM, "2", "22" },
	{ TERM_ATTR_ITALIC, "3", "23" },
	{ TERM_ATTR_UNDERLINE, NULL, "24" }, /* on: ul_style_param */
	{ TERM_ATTR_BLINK, "5", "25" },
	{ TERM_ATTR_INVERSE, "7", "27" },
	{ TERM_ATTR_INVISIBLE, "8", "28" },
	{ TERM_ATTR_STRIKE, "9", "29" },
};

static void append_param(char *s, size_t cap, size_t *n, const char *p)
{
	int k = snprintf(s + *n, cap - *n, "%s%s", *n > 2 ? ";" : "", p);
	if (k > 0 && (size_t)k < cap - *n)
		*n += (size_t)k;
}

/* What turns on an attribute of sgr_attrs in attr: the underline in the
 * form its style was set with. */
static const char *attr_on(size_t i, uint16_t attr)
{
	static const char *const ul[8] = {
		[TERM_UL_PLAIN] = "4", [TERM_UL_SINGLE] = "4:1",
		[TERM_UL_DOUBLE] = "4:2", [TERM_UL_CURLY] = "4:3",
		[TERM_UL_DOTTED] = "4:4", [TERM_UL_DASHED] = "4:5",
		[TERM_UL_DOUBLE_21] = "21", [7] = "4",
	};
	if (sgr_attrs[i].bit == TERM_ATTR_UNDERLINE)
		return ul[TERM_ATTR_UL_OF(attr)];
	return sgr_attrs[i].on;
}

/* The underline colour c (not the default) as SGR 58, in the form the
 * application used. */
static void ul_colour_param(char *s, size_t cap, uint32_t c)
{
	bool semi = c & TERM_COLOR_SEMICOLON;
	uint32_t v = c & 0xffffff;

	c &= ~TERM_COLOR_SEMICOLON;
	if (TERM_COLOR_KIND(c) == 1)
		snprintf(s, cap, semi ? "58;5;%u" : "58:5:%u", v & 0xff);
	else
		snprintf(s, cap, semi ? "58;2;%u;%u;%u" : "58:2::%u:%u:%u",
		         v >> 16, (v >> 8) & 0xff, v & 0xff);
}

/* SGR from a reset: "ESC [ 0 ; ... m". */
static size_t sgr_full(const struct render_pen *to, char *s, size_t cap)
{
	size_t n = 0;
	char c[32];

	n = (size_t)snprintf(s, cap, "\033[0");
	for (size_t i = 0; i < sizeof sgr_attrs / sizeof sgr_attrs[0]; i++)
		if (to->attr & sgr_attrs[i].bit)
			append_param(s, cap, &n, attr_on(i, to->attr));
	if (to->fg) {
		color_param(c, sizeof c, to->fg, true);
		append_param(s, cap, &n, c);
	}
	if (to->bg) {
		color_param(c, sizeof c, to->bg, false);
		append_param(s, cap, &n, c);
	}
	if (to->ul) {
		ul_colour_param(c, sizeof c, to->ul);
		append_param(s, cap, &n, c);
	}
	if (n + 2 < cap)
		s[n++] = 'm';
	s[n] = '\0';
	return n;
}

/* SGR from the current pen, turning off what must go. */
static size_t sgr_delta(const struct render_pen *from, const struct render_pen *to,
                        char *s, size_t cap)
{
	size_t n = (size_t)snprintf(s, cap, "\033[");
	uint16_t off = from->attr & ~to->attr;
	uint16_t on = to->attr & ~from->attr;
	char c[32];

	/* 22 turns off both bold and dim: put back the one that stays. */
	if (off & (TERM_ATTR_BOLD | TERM_ATTR_DIM))
		on |= to->attr & (TERM_ATTR_BOLD | TERM_ATTR_DIM);
	/* Another underline style is set as the underline is. */
	if ((to->attr & TERM_ATTR_UNDERLINE) &&
	    ((from->attr ^ to->attr) & TERM_ATTR_UL_STYLE))
		on |= TERM_ATTR_UNDERLINE;
	bool did22 = false;
	for (size_t i = 0; i < sizeof sgr_attrs / sizeof sgr_attrs[0]; i++) {
		if (!(off & sgr_attrs[i].bit))
			continue;
		bool is22 = sgr_attrs[i].bit & (TERM_ATTR_BOLD | TERM_ATTR_DIM);
		if (is22 && did22)
			continue;
		did22 |= is22;
		append_param(s, cap, &n, sgr_attrs[i].off);
	}
	for (size_t i = 0; i < sizeof sgr_attrs / sizeof sgr_attrs[0]; i++)
		if (on & sgr_attrs[i].bit)
			append_param(s, cap, &n, attr_on(i, to->attr));
	if (from->fg != to->fg) {
		color_param(c, sizeof c, to->fg, true);
		append_param(s, cap, &n, c);
	}
	if (from->bg != to->bg) {
		color_param(c, sizeof c, to->bg, false);
		append_param(s, cap, &n, c);
	}
	if (from->ul != to->ul) {
		if (to->ul)
			ul_colour_param(c, sizeof c, to->ul);
		else
			snprintf(c, sizeof c, "59");
		append_param(s, cap, &n, c);
	}
	if (n + 2 < cap)
		s[n++] = 'm';
	s[n] = '\0';
	return n;
}

static void set_pen(struct render *r, uint32_t fg, uint32_t bg, uint16_t attr,
                    uint32_t ul)
{
	struct render_pen to = { fg, bg, (uint16_t)(attr & TERM_ATTR_SGR_MASK), ul };
	char a[256], b[256];

	if (r->pen_known && r->pen.fg == to.fg && r->pen.bg == to.bg &&
	    r->pen.attr == to.attr && r->pen.ul == to.ul)
		return;
	size_t na = sgr_full(&to, a, sizeof a);
	if (na == 4)
		na = (size_t)snprintf(a, sizeof a, "\033[m"); /* plain reset */
	if (r->pen_known) {
		size_t nb = sgr_delta(&r->pen, &to, b, sizeof b);
		if (nb < na) {
			buf_put(r->out, b, nb);
			r->pen = to;
			return;
		}
	}
	buf_put(r->out, a, na);
	r->pen = to;
	r->pen_known = true;
}

static void set_link(struct render *r, const char *uri)
{
	if ((uri == NULL && r->link == NULL) ||
	    (uri && r->link && strcmp(uri, r->link) == 0))
		return;
	buf_str(r->out, "\033]8;;");
	if (uri)
		buf_str(r->out, uri);
	buf_str(r->out, "\033\\");
	r->link = uri;
}

/* ---- cursor movement ------------------------------------------------- */

static size_t cup(char *s, size_t cap, int x, int y)
{
	if (x == 0 && y == 0)
		return (size_t)snprintf(s, cap, "\033[H");
	if (x == 0)
		return (size_t)snprintf(s, cap, "\033[%dH", y + 1);
	return (size_t)snprintf(s, cap, "\033[%d;%dH", y + 1, x + 1);
}

/* A relative horizontal move on the current row. */
static size_t hmove(char *s, size_t cap, int from, int to)
{
	int d = to - from;

	if (d == 0) {
		s[0] = '\0';
		return 0;
	}
	if (d < 0 && d >= -4) {
		memset(s, '\b', (size_t)-d);
		s[-d] = '\0';
		return (size_t)-d;
	}
	if (d == 1 || d == -1)
		return (size_t)snprintf(s, cap, "\033[%c", d > 0 ? 'C' : 'D');
	return (size_t)snprintf(s, cap, "\033[%d%c", d > 0 ? d : -d, d > 0 ? 'C' : 'D');
}

static void cursor_to(struct render *r, int x, int y)
{
	char best[64], tmp[64], h[48];
	size_t nbest, n;

	if (!r->pending && r->cx == x && r->cy == y)
		return;
	nbest = cup(best, sizeof best, x, y);
	if (r->cy >= 0 && r->cx >= 0) {
		/* Vertical part: LF (keeps the column; never scrolls here,
		 * y is on screen) or CUU/CUD. */
		char v[32] = "";
		size_t nv = 0;
		int dy = y - r->cy;
		if (dy > 0 && dy <= 4) {
			memset(v, '\n', (size_t)dy);
			nv = (size_t)dy;
			v[nv] = '\0';
		} else if (dy != 0) {
			nv = (size_t)snprintf(v, sizeof v, "\033[%d%c",
			                      dy > 0 ? dy : -dy, dy > 0 ? 'B' : 'A');
		}
		/* From a pending wrap only CR is trusted. */
		if (!r->pending) {
			size_t nh = hmove(h, sizeof h, r->cx, x);
			n = (size_t)snprintf(tmp, sizeof tmp, "%s%s", v, h);
			if (n == nv + nh && n < nbest) {
				memcpy(best, tmp, n + 1);
				nbest = n;
			}
		}
		size_t nh = hmove(h, sizeof h, 0, x);
		n = (size_t)snprintf(tmp, sizeof tmp, "\r%s%s", v, h);
		if (n == 1 + nv + nh && n < nbest) {
			memcpy(best, tmp, n + 1);
			nbest = n;
		}
	}
	buf_put(r->out, best, nbest);
	r->cx = x;
	r->cy = y;
	r->pending = false;
}

/* ---- cells ----------------------------------------------------------- */

static void put_cell(struct render *r, const struct term_row *row, int x)
{
	struct term_cell c = term_row_cell(row, x);
	uint32_t cps[TERM_CLUSTER_MAX];
	char u[4 * TERM_CLUSTER_MAX];
	size_t n = 0;
	int w = (c.attr & TERM_ATTR_WIDE) ? 2 : 1;

	set_pen(r, c.fg, c.bg, c.attr, term_row_ul_colour(row, &c));
	set_link(r, cell_link(r->nf, &c));
	int k = term_row_cell_cps(row, &c, cps);
	for (int i = 0; i < k; i++)
		n += term_utf8_encode(cps[i] ? cps[i] : ' ', u + n);
	buf_put(r->out, u, n);
	if (x + w >= r->cols) {
		r->cx = r->cols - 1;
		r->pending = true;
	} else {
		r->cx = x + w;
	}
}

/* Rewrite row y: `was` is what the terminal shows there. */
static void render_row(struct render *r, const struct term_row *was,
                       const struct term_frame *wasf, int y)
{
	const struct term_row *now = r->nf->row[y];
	int cols = r->cols;
	bool dirty[TERM_MAX_COLS + 1];
	struct term_cell oc[TERM_MAX_COLS + 1], nc[TERM_MAX_COLS + 1];

	for (int x = 0; x < cols; x++) {
		oc[x] = term_row_cell(was, x);
		nc[x] = term_row_cell(now, x);
		dirty[x] = !same_cell(r, was, &oc[x], wasf, now, &nc[x]);
	}
	/* Both halves of a wide character, old or new, go together:
	 * writing or erasing either half of one clears the other. */
	for (int pass = 0; pass < 2; pass++) {
		for (int x = 0; x < cols; x++) {
			if (!dirty[x])
				continue;
			if (x > 0 && ((oc[x].attr | nc[x].attr) & TERM_ATTR_WIDE_CONT))
				dirty[x - 1] = true;
			if (x + 1 < cols && ((oc[x].attr | nc[x].attr) & TERM_ATTR_WIDE))
				dirty[x + 1] = true;
		}
		for (int x = cols - 1; x >= 0; x--) {
			if (!dirty[x])
				continue;
			if (x > 0 && ((oc[x].attr | nc[x].attr) & TERM_ATTR_WIDE_CONT))
				dirty[x - 1] = true;
			if (x + 1 < cols && ((oc[x].attr | nc[x].attr) & TERM_ATTR_WIDE))
				dirty[x + 1] = true;
		}
	}

	/* Where the rest of the row is erased cells of one colour, one EL
	 * does it all (when it is shorter than blanks). */
	int tail = cols;
	uint32_t tail_bg = nc[cols - 1].bg;
	while (tail > 0 && is_erased(&nc[tail - 1], tail_bg))
		tail--;
	int tail_dirty = 0;
	for (int x = tail; x < cols; x++)
		tail_dirty += dirty[x];
	/* Trimmed, the whole row is erased (EL 2) and its cells before the
	 * end written again: after EL 0 a terminal such as tmux still counts
	 * the erased cells as the line's, and a copy of it ends in blanks. */
	if (r->trim && tail_dirty > 0) {
		cursor_to(r, 0, y);
		set_pen(r, 0, tail_bg, 0, 0);
		set_link(r, NULL);
		buf_str(r->out, "\033[2K");
		for (int x = 0; x < cols; x++)
			dirty[x] = x < tail && !is_erased(&nc[x], tail_bg);
	}

	for (int x = 0; x < cols; x++) {
		if (!dirty[x])
			continue;
		if (x >= tail && tail_dirty > 3) {
			cursor_to(r, x, y);
			set_pen(r, 0, tail_bg, 0, 0);
			set_link(r, NULL);
			buf_str(r->out, "\033[K");
			return;
		}
		if (nc[x].attr & TERM_ATTR_WIDE_CONT)
			continue; /* written with its left half */
		/* A run of erased cells of one colour: ECH if it is long. */
		int run = 0;
		while (x + run < cols && dirty[x + run] &&
		       is_erased(&nc[x + run], nc[x].bg))
			run++;
		if (run >= 5 && x + run < cols) {
			cursor_to(r, x, y);
			set_pen(r, 0, nc[x].bg, 0, 0);
			set_link(r, NULL);
			buf_printf(r->out, "\033[%dX", run);
			x += run - 1;
			continue;
		}
		cursor_to(r, x, y);
		put_cell(r, now, x);
	}
}

/* ---- modes ----------------------------------------------------------- */

/* Emit DECRST for modes in `off`, then DECSET for modes in `on`, each as
 * one sequence with a list of parameters. */
static void modes_sync(struct render *r, uint32_t off, uint32_t on)
{
	for (int set = 0; set < 2; set++) {
		uint32_t want = set ? on : off;
		bool first = true;
		for (size_t i = 0; i < term_dec_nmodes; i++) {
			if (!(want & term_dec_modes[i].bit))
				continue;
			buf_printf(r->out, "%s%d", first ? "\033[?" : ";", term_dec_modes[i].mode);
			first = false;
		}
		if (!first)
			buf_str(r->out, set ? "h" : "l");
	}
	if ((off | on) & TERM_MODE_KEYPAD)
		buf_str(r->out, on & TERM_MODE_KEYPAD ? "\033=" : "\033>");
	/* The key encodings asked for: modifyOtherKeys' level, the kitty
	 * keyboard protocol's flags (set, not pushed). */
	uint32_t now = r->nf->modes;
	if ((off | on) & TERM_MODE_MOK)
		buf_printf(r->out, "\033[>4;%um", (now & TERM_MODE_MOK) >> TERM_MODE_MOK_SHIFT);
	if ((off | on) & TERM_MODE_KITTY)
		buf_printf(r->out, "\033[=%uu", (now & TERM_MODE_KITTY) >> TERM_MODE_KITTY_SHIFT);
}

/* ---- scrolling ------------------------------------------------------- */

static bool row_blank(const struct term_row *row, int cols)
{
	for (int x = 0; x < row->len && x < cols; x++)
		if (!is_erased(&row->cells[x], 0))
			return false;
	return row->fill == 0 || row->len >= cols;
}

/* The shift s > 0 for which old row s + i equals new row i for the most
 * rows i (at least one of them not blank, and more than half of those
 * that could match), or 0. */
static int find_scroll(const struct render *r, const struct term_frame *o)
{
	const struct term_frame *n = r->nf;
	int best = 0, best_m = 0;

	if (same_row(r, o->row[0], o, n->row[0]))
		return 0;
	/* A screen of identical rows would make every shift a candidate:
	 * look at the first few, and stop at a shift that matches fully. */
	int candidates = 0;
	for (int s = 1; s < r->rows && candidates < 16; s++) {
		if (!same_row(r, o->row[s], o, n->row[0]))
			continue;
		candidates++;
		int m = 0;
		bool content = false;
		for (int i = 0; i + s < r->rows; i++) {
			if (same_row(r, o->row[s + i], o, n->row[i])) {
				m++;
				content |= !row_blank(n->row[i], r->cols);
			}
		}
		if (content && m > best_m && 2 * m > r->rows - s) {
			best = s;
			best_m = m;
			if (m == r->rows - s)
				break;
		}
	}
	return best;
}

/* ---- titles ---------------------------------------------------------- */

static void render_titles(struct render *r, const struct term_frame *o)
{
	const struct term_frame *n = r->nf;
	bool t = strcmp(o->title, n->title) != 0;
	bool i = strcmp(o->icon, n->icon) != 0;

	if ((t || i) && strcmp(n->title, n->icon) == 0) {
		buf_printf(r->out, "\033]0;");
		buf_str(r->out, n->title);
		buf_str(r->out, "\033\\");
		return;
	}
	if (i) {
		buf_str(r->out, "\033]1;");
		buf_str(r->out, n->icon);
		buf_str(r->out, "\033\\");
	}
	if (t) {
		buf_str(r->out, "\033]2;");
		buf_str(r->out, n->title);
		buf_str(r->out, "\033\\");
	}
}

/* ---- the whole frame ------------------------------------------------- */

void term_render(const struct term_frame *old, const struct term_frame *nf,
                 struct term_buf *out)
{
	term_render_flags(old, nf, 0, out);
}

void term_render_flags(const struct term_frame *old, const struct term_frame *nf,
                       int flags, struct term_buf *out)
{
	struct render r;
	struct term_frame *blank = NULL;
	const struct term_row *shown[TERM_MAX_ROWS];
	struct term_row *empty = NULL;

	memset(&r, 0, sizeof r);
	r.out = out;
	r.nf = nf;
	r.cols = nf->cols;
	r.rows = nf->rows;
	r.cx = r.cy = -1;
	r.trim = flags & TERM_RENDER_TRIM;

	bool full = old == NULL || old->cols != nf->cols || old->rows != nf->rows;
	if (full) {
		/* Unknown contents: start from a cleared screen whose modes
		 * are all the opposite of the new ones, so each is set. */
		blank = term_frame_new(nf->cols, nf->rows);
		if (blank == NULL) {
			out->failed = true;
			return;
		}
		blank->bells = nf->bells;
		blank->clip_serial = nf->clip_serial;
		blank->modes = ~nf->modes;
		blank->cursor_style = -1;
		old = blank;
		if (flags & TERM_RENDER_ROW_CLEAR) {
			buf_str(out, "\033[m");
			for (int y = 0; y < nf->rows; y++)
				buf_printf(out, "\033[%d;1H\033[2K", y + 1);
			buf_str(out, "\033[H");
		} else {
			buf_str(out, "\033[m\033[H\033[2J");
		}
		r.cx = r.cy = 0;
		r.pen_known = true;
	} else {
		r.cx = old->cx;
		r.cy = old->cy;
		r.pending = old->wrap_pending;
	}
	r.of = old;
	r.links_agree = link_tables_agree(old, nf);

	render_titles(&r, old);
	/* The OSC 52 requests made since old, each once (those the frame
	 * still holds). */
	uint32_t clips = nf->clip_serial - old->clip_serial;
	if (clips > (uint32_t)nf->nclips)
		clips = (uint32_t)nf->nclips;
	for (int i = nf->nclips - (int)clips; i < nf->nclips; i++) {
		buf_str(out, "\033]52;");
		buf_str(out, nf->clips[i]);
		buf_str(out, "\a");
	}
	if (nf->bells != old->bells)
		buf_str(out, "\a");
	uint32_t changed = (old->modes ^ nf->modes) &
	                   ~(uint32_t)(TERM_MODE_CURSOR_HIDDEN | TERM_MODE_ALT_SCREEN);
	modes_sync(&r, changed & ~nf->modes, changed & nf->modes);

	for (int y = 0; y < r.rows; y++)
		shown[y] = old->row[y];
	int s = full || (flags & TERM_RENDER_NO_SCROLL) ? 0 : find_scroll(&r, old);
	if (s > 0 && (empty = term_row_new(r.cols)) != NULL) {
		/* Scroll the whole screen up by s with default-coloured new
		 * lines: from the bottom row, s line feeds (or SU). */
		set_pen(&r, 0, 0, 0, 0);
		set_link(&r, NULL);
		if (s <= 4) {
			cursor_to(&r, 0, r.rows - 1);
			for (int i = 0; i < s; i++)
				buf_str(out, "\n");
		} else {
			buf_printf(out, "\033[%dS", s);
		}
		for (int y = 0; y < r.rows; y++)
			shown[y] = y + s < r.rows ? old->row[y + s] : empty;
	}
	for (int y = 0; y < r.rows; y++)
		if (!same_row(&r, shown[y], old, nf->row[y]))
			render_row(&r, shown[y], old, y);

	/* The cursor, with its deferred wrap: writing the last cell again
	 * puts a real terminal in the same state. */
	if (nf->wrap_pending && nf->cx == r.cols - 1) {
		int x = nf->cx;
		struct term_cell c = term_row_cell(nf->row[nf->cy], x);
		if ((c.attr & TERM_ATTR_WIDE_CONT) && x > 0)
			x--;
		if (!(r.pending && r.cy == nf->cy)) {
			cursor_to(&r, x, nf->cy);
			put_cell(&r, nf->row[nf->cy], x);
		}
	} else {
		cursor_to(&r, nf->cx, nf->cy);
	}
	set_link(&r, NULL);
	if (nf->cursor_style != old->cursor_style)
		buf_printf(out, "\033[%d q", nf->cursor_style);
	if (full || ((old->modes ^ nf->modes) & TERM_MODE_CURSOR_HIDDEN))
		buf_str(out, nf->modes & TERM_MODE_CURSOR_HIDDEN ? "\033[?25l" : "\033[?25h");

	term_row_free(empty);
	term_frame_free(blank);
}

/* ---- history lines --------------------------------------------------- */

int term_history_line(struct term *t, uint64_t n, struct term_buf *out,
                      int *width, bool *wrapped)
{
	const struct term_row *row = screen_history_row(t, n);
	if (row == NULL)
		return TERM_EINVAL;
	struct render r;
	memset(&r, 0, sizeof r);
	r.out = out;
	r.pen_known = true; /* a line starts in the default pen */
	int len = row->len, w = 0;
	/* Blanks at the end of a line that does not go on are not text. */
	while (!row->wrapped && len > 0) {
		struct term_cell c = term_row_cell(row, len - 1);
		if (!is_erased(&c, 0))
			break;
		len--;
	}
	for (int x = 0; x < len; x++) {
		struct term_cell c = term_row_cell(row, x);
		uint32_t cps[TERM_CLUSTER_MAX];
		char u[4 * TERM_CLUSTER_MAX];
		size_t k = 0;
		if (c.attr & TERM_ATTR_WIDE_CONT)
			continue;
		set_pen(&r, c.fg, c.bg, c.attr, term_row_ul_colour(row, &c));
		int m = term_row_cell_cps(row, &c, cps);
		for (int i = 0; i < m; i++)
			k += term_utf8_encode(cps[i] ? cps[i] : ' ', u + k);
		buf_put(out, u, k);
		w += (c.attr & TERM_ATTR_WIDE) ? 2 : 1;
	}
	if (row->fill != 0 && !row->wrapped) {
		/* The blank rest of the line in an erase's colour. */
		set_pen(&r, 0, row->fill, 0, 0);
		buf_str(out, "\033[K");
	}
	set_pen(&r, 0, 0, 0, 0);
	*width = w;
	*wrapped = row->wrapped;
	return TERM_OK;
}
