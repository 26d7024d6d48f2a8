/*
 * term/ internals: rows, frames and the parser interface. Only the files
 * of term/ include this; everyone else uses term.h.
 */
#ifndef MOSHI_TERM_INTERNAL_H
#define MOSHI_TERM_INTERNAL_H

#include "term.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * A row stores only the cells written so far: cells [0, len) are real, and
 * cells [len, cols) are blanks whose background is `fill` (the colour an
 * erase used, as xterm's background-colour-erase does). Clearing a row is
 * therefore O(1), which is what makes scrolling cheap.
 *
 * `gen` changes with every modification and is unique across all rows of
 * the process, so two rows with the same gen hold the same content: rows
 * copied into another frame keep their gen and compare in O(1).
 */
struct term_cluster {
	uint32_t cp[TERM_CLUSTER_MAX]; /* base, then marks; 0-terminated if short */
};

struct term_row {
	uint64_t gen;
	uint16_t len;     /* stored cells */
	uint16_t cap;     /* allocated cells (>= the frame's cols) */
	uint32_t fill;    /* background of the blank tail */
	bool wrapped;     /* the text continues on the next row (soft wrap) */
	uint16_t lazy;    /* bytes of a line kept as bytes (see emu.c), or 0 */
	uint16_t nclusters, clustercap;
	struct term_cluster *clusters;
	struct term_cell *cells;
};

#define TERM_TITLE_MAX 1024
#define TERM_LINKS_MAX 64
#define TERM_LINK_URI_MAX 2048

/* Spare row pointers after a screen's rows: a full-screen scroll moves
 * the start of the array instead of every pointer, and slides back once
 * the spare slots are used up. */
#define TERM_ROW_SLACK 64

struct term_frame {
	int cols, rows;
	struct term_row **row;  /* rows[0..rows) as shown, inside rowbase */
	struct term_row **rowbase;
	int rowcap;             /* pointers allocated at rowbase */
	int cx, cy;             /* cursor */
	bool wrap_pending;      /* DECAWM deferred wrap: next print wraps first */
	int cursor_style;       /* DECSCUSR parameter, 0 = default */
	uint32_t modes;         /* TERM_MODE_* */
	char title[TERM_TITLE_MAX];
	char icon[TERM_TITLE_MAX];
	uint32_t bells;
	uint32_t clip_serial;
	char *clipboard;        /* "selection;base64" of the last OSC 52 set */
	int nlinks;
	char *links[TERM_LINKS_MAX]; /* id i+1 is links[i] */
};

/* The widest loop the emulator fills a run of ASCII cells with, when the
 * processor has it: 2 AVX-512, 1 AVX2, 0 SSE2 (2 unless a test lowers it
 * to check a narrower loop on a machine that has a wider one). */
extern int term_fill_max;

/* Whether lines that scroll off within one write may be kept as bytes
 * (1, the default) or must be emulated cell by cell (0, for tests that
 * compare the two and for the benchmark's figure without it). */
extern int term_lazy_lines;
/* How many lines t has kept as bytes so far (tests check that they did). */
uint64_t term_lazy_kept(const struct term *t);

/* Rows. */
extern uint64_t term_gen_counter;
static inline uint64_t term_gen_next(void)
{
	/* Unique per process: rows of different frames with one gen are
	 * copies of one another. */
	return ++term_gen_counter;
}
struct term_row *term_row_new(int cols);
void term_row_free(struct term_row *r);
struct term_row *term_row_dup(const struct term_row *r);
int term_row_reserve(struct term_row *r, int cols);
/* Blank the row in colour bg: O(1), the cells are not touched. */
static inline void term_row_clear(struct term_row *r, uint32_t bg)
{
	r->len = 0;
	r->fill = bg;
	r->wrapped = false;
	r->lazy = 0;
	r->nclusters = 0;
	r->gen = term_gen_next();
}
void term_row_materialize_slow(struct term_row *r, int upto);
/* Make cells [len, upto) real, as blanks of the tail's colour. */
static inline void term_row_materialize(struct term_row *r, int upto)
{
	if (upto > r->len)
		term_row_materialize_slow(r, upto);
}
struct term_cell term_row_cell(const struct term_row *r, int col);
static inline void term_row_touch(struct term_row *r)
{
	r->gen = term_gen_next();
}
bool term_row_equal(const struct term_row *a, const struct term_row *b,
                    int cols);
/* Cell equality including the characters of clusters. */
bool term_cell_equal(const struct term_row *ra, const struct term_cell *a,
                     const struct term_row *rb, const struct term_cell *b);
/* Add a combining mark to the cell's character; false if dropped. */
bool term_row_combine(struct term_row *r, struct term_cell *c, uint32_t mark);
/* The code points of a cell (n written to cps, at most TERM_CLUSTER_MAX). */
int term_row_cell_cps(const struct term_row *r, const struct term_cell *c,
                      uint32_t cps[TERM_CLUSTER_MAX]);

/* Frames. A row set is an array of `rows` new blank rows with
 * TERM_ROW_SLACK spare pointers after them. */
struct term_row **term_rows_new(int cols, int rows, int *cap);
void term_rows_free(struct term_row **base, struct term_row **row, int rows);
struct term_frame *term_frame_new(int cols, int rows);
int term_frame_link_id(struct term_frame *f, const char *uri);

/* Parser: bytes in, events out. */
#define TERM_MAX_PARAMS 32     /* numbers and sub-numbers per sequence */
#define TERM_MAX_INTERMEDIATES 2
#define TERM_PARAM_MAX 65535   /* numbers saturate here */
#define TERM_OSC_MAX 65536     /* bytes; longer strings are dropped whole */

struct term_seq {
	uint8_t final;
	uint8_t marker;        /* private marker ('?', '>', '<', '='), or 0 */
	uint8_t ninter;
	uint8_t inter[TERM_MAX_INTERMEDIATES];
	uint8_t nparam;
	int32_t param[TERM_MAX_PARAMS]; /* -1: omitted */
	uint32_t sub;          /* bit i: param i followed a ':' */
};

struct term_parser_ops {
	void (*print)(void *ctx, uint32_t cp);
	void (*execute)(void *ctx, uint8_t c0);
	void (*esc)(void *ctx, const struct term_seq *seq);
	void (*csi)(void *ctx, const struct term_seq *seq);
	void (*osc)(void *ctx, const uint8_t *s, size_t n);
};

#define TERM_PARSER_GROUND 0   /* the state value of the ground state */

struct term_parser {
	const struct term_parser_ops *ops;
	void *ctx;
	uint8_t state;
	bool discard;          /* the sequence overflowed: drop it at dispatch */
	struct term_seq seq;
	/* UTF-8 decoder state for the ground state. */
	uint32_t u_cp;
	uint32_t u_min;
	uint8_t u_need;
	/* OSC string. */
	uint8_t *osc;
	size_t osc_len;
};

void term_parser_init(struct term_parser *p, const struct term_parser_ops *ops,
                      void *ctx);
void term_parser_free(struct term_parser *p);

/*
 * The parser is fed in two lanes (see term_write in emu.c). In the ground
 * state with no UTF-8 sequence under way, the caller reads the bytes
 * itself: runs of printable ASCII (term_ascii_run), C0 controls, and
 * control sequences that lie whole in the buffer (term_csi_final, then
 * term_csi_params), with the same events the tables give. Everything else
 * goes through the tables, term_parser_step, until the ground state is
 * back.
 */
static inline bool term_parser_ground(const struct term_parser *p)
{
	return p->state == TERM_PARSER_GROUND && p->u_need == 0;
}

/* Run bytes through the tables, at least one, until the parser is back in
 * the ground state with no UTF-8 sequence under way and the next byte is
 * ASCII. Returns where it stopped (end at the latest). */
const uint8_t *term_parser_step(struct term_parser *p, const uint8_t *buf,
                                const uint8_t *end);

/* The sequence "CSI [s, fin) *fin" with no marker and no intermediate
 * (the bytes in [s, fin) are digits, ':' and ';' only) read into q as
 * the tables read it: further parameters than fit are dropped. */
void term_seq_read(struct term_seq *q, const uint8_t *s, const uint8_t *fin);

/* The length of the run of printable ASCII (0x20..0x7e) at s, which is
 * at least 1. Sixteen bytes at a time with SSE2, then eight: there a byte
 * is flagged, in its top bit, when that bit is set (>= 0x80), when its
 * low seven bits are below 0x20 (subtracting 0x20 from it with the top
 * bit forced on clears the top bit), or when they are 0x7f (adding 1 sets
 * the top bit). Neither operation can carry or borrow into the next byte,
 * so the lowest flagged byte is the first one outside the run. */
static inline size_t term_ascii_run(const uint8_t *s, const uint8_t *end)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	const uint8_t *q = s;

#ifdef __SSE2__
	/* Sixteen at a time: bytes below 0x20 or from 0x80 up (negative
	 * when signed) compare below 0x20. */
	while (end - q >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i out = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
		                           _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
		unsigned m = (unsigned)_mm_movemask_epi8(out);
		if (m != 0)
			return (size_t)(q - s) + (size_t)__builtin_ctz(m);
		q += 16;
	}
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - q >= 8) {
		uint64_t x;
		__builtin_memcpy(&x, q, 8);
		uint64_t flags = (x | ~((x | high) - ones * 0x20) |
		                  ((x & ~high) + ones)) & high;
		if (flags != 0)
			return (size_t)(q - s) + (size_t)(__builtin_ctzll(flags) >> 3);
		q += 8;
	}
#else
	(void)ones;
	(void)high;
#endif
	while (q < end && *q >= 0x20 && *q < 0x7f)
		q++;
	return (size_t)(q - s);
}

/* A whole control sequence "ESC [ ...": s points past the "ESC [". Fills
 * *q as the tables would for the same bytes and returns the byte after
 * the final one. Anything it does not handle (a C0 control, DEL or a byte
 * >= 0x80 inside the sequence, a sequence that goes to CSI_IGNORE, more
 * parameters or intermediates than fit, the end of the buffer) makes it
 * return NULL; the caller then feeds the tables from the ESC.
 * term_csi_scan_slow checks every byte against the end of the buffer.
 * The usual way is faster: find the final byte first (term_csi_final),
 * then read the parameters with no such check (term_csi_params); the
 * slow one takes the rest (intermediates, the last bytes of a buffer). */
const uint8_t *term_csi_scan_slow(struct term_seq *q, const uint8_t *s,
                                  const uint8_t *end);

/* A parameter's value v (not omitted) followed by the digit d: it
 * saturates at TERM_PARAM_MAX. The tables (param() in parser.c) and
 * term_param_read both count so. */
static inline int32_t term_param_digit(int32_t v, int32_t d)
{
	return v <= (TERM_PARAM_MAX - d) / 10 ? v * 10 + d : TERM_PARAM_MAX;
}

/* The parameter at s: the digits up to the first byte that is not one
 * (the caller knows there is such a byte), its value in *v (-1 when there
 * are no digits); returns that byte. Four digits or fewer cannot reach
 * the cap: those take a plain loop. */
static inline const uint8_t *term_param_read(const uint8_t *s, int32_t *v)
{
	const uint8_t *digits = s;
	uint32_t x = 0, d;

	while ((d = (uint32_t)*s - '0') <= 9) {
		x = x * 10 + d;
		s++;
	}
	if (s - digits > 4) {
		int32_t w = 0;
		for (const uint8_t *q = digits; q < s; q++)
			w = term_param_digit(w, *q - '0');
		x = (uint32_t)w;
	}
	*v = s == digits ? -1 : (int32_t)x;
	return s;
}

/* The final byte of a control sequence whose parameters start at s: the
 * first byte that is not a parameter byte (0x30..0x3f), found sixteen
 * bytes at a time with SSE2 (signed, bytes from 0x80 are below 0x30),
 * then eight (a byte is flagged when its high nibble is not 3). NULL
 * when it is not a final byte (an intermediate, a control, ...) or lies
 * within eight bytes of the end: term_csi_scan_slow takes those. */
static inline const uint8_t *term_csi_final(const uint8_t *s, const uint8_t *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101u;

#ifdef __SSE2__
	if (end - s >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		unsigned other = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_cmpgt_epi8(v, _mm_set1_epi8(0x3f)),
			_mm_cmplt_epi8(v, _mm_set1_epi8(0x30))));
		if (other != 0) {
			s += __builtin_ctz(other);
			return *s >= 0x40 && *s <= 0x7e ? s : NULL;
		}
		s += 16;
	}
#endif
	for (;;) {
		if (end - s < 8)
			return NULL;
		uint64_t w;
		__builtin_memcpy(&w, s, 8);
		uint64_t x = (w & ones * 0xf0) ^ ones * 0x30;
		uint64_t flags = (((x & ones * 0x7f) + ones * 0x7f) | x) & ones * 0x80;
		if (flags != 0) {
			s += __builtin_ctzll(flags) >> 3;
			return *s >= 0x40 && *s <= 0x7e ? s : NULL;
		}
		s += 8;
	}
#else
	(void)s;
	(void)end;
	return NULL;
#endif
}

/* The sequence once its final byte is known: every byte in [s, fin) is a
 * parameter byte and *fin is not a digit, so the loops stop there without
 * looking at the end of the buffer. */
static inline const uint8_t *term_csi_params(struct term_seq *q, const uint8_t *s,
                                             const uint8_t *fin)
{
	uint32_t sub = 0;
	int n = 0;
	uint8_t marker = 0;

	if (*s >= 0x3c && *s <= 0x3f)
		marker = *s++;
	if (s < fin) {
		for (;;) {
			s = term_param_read(s, &q->param[n]);
			if (s == fin)
				break;
			if (*s > ';')
				return NULL; /* a marker byte inside: CSI_IGNORE */
			if (n + 1 >= TERM_MAX_PARAMS)
				return NULL;
			n++;
			if (*s == ':')
				sub |= 1u << n;
			s++;
		}
		n++;
	}
	q->marker = marker;
	q->ninter = 0;
	q->nparam = (uint8_t)n;
	q->sub = sub;
	q->final = *fin;
	return fin + 1;
}

/* Parameter i with a default for omitted or zero values, clamped to max. */
static inline int term_seq_param(const struct term_seq *s, int i, int def, int max)
{
	int v;

	if (i >= s->nparam || s->param[i] <= 0)
		v = def;
	else
		v = s->param[i];
	return v > max ? max : v;
}

#endif
