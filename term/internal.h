/*
 * term/'s data model: rows, frames and the emulator's state. Only the
 * files of term/ (and tests) include this; everyone else uses term.h.
 * What each file of term/ does is in docs/term.md; the functions one file
 * offers the others are in its own header (parser.h, scan.h, screen.h,
 * pen.h, fill.h, flood.h, emu.h).
 */
#ifndef MOSHI_TERM_INTERNAL_H
#define MOSHI_TERM_INTERNAL_H

#include "term.h"
#include "parser.h"

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
	/* 0, or a line kept as bytes (flood.c): then `cells` holds, instead
	 * of cells, the pen the line starts with and its flood_len bytes,
	 * until flood_replay makes the cells. Only scrollback rows and rows
	 * inside term_write are so. */
	uint16_t flood_len;
	uint16_t nclusters, clustercap;
	struct term_cluster *clusters;
	/* Underline colours of the row's cells: a cell's `ul` i > 0 is
	 * ulc[i - 1]. Entries no cell uses any more go when it fills up. */
	uint8_t nulc, ulccap;
	uint32_t *ulc;
	struct term_cell *cells;
};

#define TERM_TITLE_MAX 1024
#define TERM_LINKS_MAX 64
#define TERM_LINK_URI_MAX 2048
#define TERM_CLIPS_MAX 8

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
	/* OSC 52 requests: how many ever, and the last nclips of them,
	 * oldest first, each "selection;base64" (a renderer sends on those
	 * a frame has past another's count, so a request made twice reaches
	 * the terminal twice, and several in one update all do). */
	uint32_t clip_serial;
	int nclips;
	char *clips[TERM_CLIPS_MAX];
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
	r->flood_len = 0;
	r->nclusters = 0;
	r->nulc = 0;
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
/* The `ul` that stands for underline colour c in row r (0 for the
 * default colour, and when the row has no room for another). */
uint8_t term_row_ul_index(struct term_row *r, uint32_t c);
static inline uint32_t term_row_ul_colour(const struct term_row *r,
                                          const struct term_cell *c)
{
	return c->ul != 0 && c->ul <= r->nulc ? r->ulc[c->ul - 1] : 0;
}
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
/* The DEC private modes kept as one bit each of a frame's modes: what
 * the renderer sets and resets, and DECRQM reports. */
struct term_dec_mode {
	uint32_t bit;
	int mode;
};
extern const struct term_dec_mode term_dec_modes[];
extern const size_t term_dec_nmodes;

/* The emulator. */
/* The pen: what a printed character gets besides itself. */
struct term_pen {
	uint32_t fg, bg;
	uint16_t attr;
	uint16_t link;
	uint32_t ul;    /* underline colour (TERM_COLOR_SEMICOLON kept) */
};

/* What DECSC saves, per screen. */
struct saved {
	int cx, cy;
	bool wrap_pending;
	struct term_pen pen;
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

#define TERM_KITTY_DEPTH 8
#define TERM_COLOUR_KNOWN 0x01000000u

/* The emulator. Its screens' rows are in its frame f (the shown ones)
 * and in alt or hidden (the other screen's). */
struct term {
	struct term_parser parser;
	struct term_frame *f;
	struct rowset alt;        /* alternate screen rows (base NULL: none yet) */
	struct rowset hidden;     /* main rows while the alternate is shown */
	int top, bottom;          /* scroll region, inclusive */
	struct term_pen pen;
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
	uint8_t *reply;           /* TERM_REPLY_MAX bytes, from the first reply */
	size_t reply_len;
	bool synchronized;        /* DEC mode 2026 */
	/* The kitty keyboard protocol's flags per screen ([0] main, [1]
	 * alternate): those in force, and a stack of earlier ones (pushed
	 * past its depth, the oldest go). */
	uint8_t kitty_cur[2];
	uint8_t kitty_stack[2][TERM_KITTY_DEPTH];
	uint8_t kitty_depth[2];
	/* The user's terminal (term_set_colour, term_set_key_support):
	 * colours with TERM_COLOUR_KNOWN set once told, from the first. */
	uint32_t *colours;
	unsigned key_support;
	/* Scrollback: a ring of rows that left the top of the main screen,
	 * sb_cap long from the first one. (Both buffers come
	 * when first needed: an emulator made for one overlay, many times a
	 * second, allocates neither.) */
	struct term_row **sb;
	int sb_cap;               /* lines to keep (term_set_scrollback_lines) */
	int sb_mask;              /* the ring's size (a power of two), less 1 */
	int sb_limit;             /* lines kept now (scrollback_limit) */
	int widest;               /* the most columns t has had */
	int sb_count, sb_head;
	uint64_t sb_total;
	uint64_t sb_clears, sb_clear_at; /* ED 3s so far; sb_total at the last */
	struct sgr_memo *sgr_memo; /* see pen_sgr_bytes */
	uint32_t sgr_seen;
	/* Whether a cell of t's rows may be half of a wide character: set
	 * by the first wide print, and from the start for an emulator made
	 * around a frame. Until then split_wide has nothing to look for. */
	bool wide_seen;
	/* Lines kept as bytes (see flood_lines): line feeds to let pass
	 * before the next try, and tries in a row that kept no line. */
	uint8_t flood_skip, flood_misses;
	uint64_t flood_kept;       /* lines ever kept so: term_flood_kept */
	/* Switches for tests and benchmarks (term_set_simd_max,
	 * term_set_flood_lines). */
	uint8_t simd_max;
	bool flood_off;
};

#define TERM_REPLY_MAX 4096

/* Switches for tests and benchmarks, per emulator. The widest loop that
 * fill_ascii and flood_classify may use (fill.h: 2 AVX-512, 1 AVX2, 0
 * SSE2; 2, the default, takes the widest the processor has), so that a
 * test can check a narrower loop on a machine that has a wider one. */
void term_set_simd_max(struct term *t, int max);
/* Whether lines that scroll off within one write may be kept as bytes
 * (true, the default) or must be emulated cell by cell (for tests that
 * compare the two and for the benchmark's figure without it). */
void term_set_flood_lines(struct term *t, bool on);
/* How many lines t has kept as bytes so far (tests check that they did). */
uint64_t term_flood_kept(const struct term *t);

#endif
