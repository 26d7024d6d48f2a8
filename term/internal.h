/*
 * term/ internals: rows, frames and the parser interface. Only the files
 * of term/ include this; everyone else uses term.h.
 */
#ifndef MOSHI_TERM_INTERNAL_H
#define MOSHI_TERM_INTERNAL_H

#include "term.h"

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
	void (*print_ascii)(void *ctx, const uint8_t *s, size_t n);
	void (*print)(void *ctx, uint32_t cp);
	void (*execute)(void *ctx, uint8_t c0);
	void (*esc)(void *ctx, const struct term_seq *seq);
	void (*csi)(void *ctx, const struct term_seq *seq);
	void (*osc)(void *ctx, const uint8_t *s, size_t n);
};

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
void term_parser_feed(struct term_parser *p, const uint8_t *buf, size_t len);
/* Parameter i with a default for omitted or zero values, clamped to max. */
int term_seq_param(const struct term_seq *s, int i, int def, int max);

#endif
