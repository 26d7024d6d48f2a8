/*
 * term/ — moshi's terminal: a VT parser, an xterm-compatible emulator, the
 * framebuffer it draws into, and the frame-diff renderer that turns two
 * frames into the bytes that update a real terminal.
 *
 * The server feeds everything the application prints to term_write; the
 * client keeps frames and draws them with term_render. Nothing here knows
 * about sockets, ptys or roles, and nothing here exits: hostile input is
 * bounded (see parser.c for the caps) and simply ignored past its bounds.
 */
#ifndef MOSHI_TERM_H
#define MOSHI_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Screen sizes are clamped to this; 0 in either dimension is refused. */
#define TERM_MAX_COLS 1000
#define TERM_MAX_ROWS 500

/* Lines kept after they scroll off the top of the main screen. */
#define TERM_SCROLLBACK_LINES 1000

enum {
	TERM_OK = 0,
	TERM_EINVAL = -1,
	TERM_ENOMEM = -2,
};

/* Colours: 0 is the terminal's default; otherwise the top byte says which
 * kind and the low bits hold the value. */
#define TERM_COLOR_DEFAULT 0u
#define TERM_COLOR_INDEXED(i) (0x01000000u | ((uint32_t)(i) & 0xffu))
#define TERM_COLOR_RGB(r, g, b) \
	(0x02000000u | ((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | (uint32_t)(b))
#define TERM_COLOR_KIND(c) ((c) >> 24)
/* On an indexed colour below 16: set as 38;5;N / 48;5;N rather than with
 * 30-37, 90-97 (and 40-47, 100-107). Terminals may draw the two apart
 * (bold brightens only the first), so the renderer keeps the form. */
#define TERM_COLOR_EXTENDED 0x100u
/* Palette entry i as 38;5;i / 48;5;i set it (marked below 16). */
#define TERM_COLOR_PALETTE(i) \
	(TERM_COLOR_INDEXED(i) | ((i) < 16 ? TERM_COLOR_EXTENDED : 0u))

/* Cell attributes. */
enum {
	TERM_ATTR_BOLD = 1 << 0,
	TERM_ATTR_DIM = 1 << 1,
	TERM_ATTR_ITALIC = 1 << 2,
	TERM_ATTR_UNDERLINE = 1 << 3,
	TERM_ATTR_BLINK = 1 << 4,
	TERM_ATTR_INVERSE = 1 << 5,
	TERM_ATTR_INVISIBLE = 1 << 6,
	TERM_ATTR_STRIKE = 1 << 7,
	TERM_ATTR_WIDE = 1 << 8,      /* left half of a two-column character */
	TERM_ATTR_WIDE_CONT = 1 << 9, /* right half: no character of its own */
	/* With TERM_ATTR_UNDERLINE: the underline's style, as the
	 * application set it (TERM_UL_*). */
	TERM_ATTR_UL_SHIFT = 10,
	TERM_ATTR_UL_STYLE = 7 << 10,
	TERM_ATTR_SGR_MASK = 0xff | TERM_ATTR_UL_STYLE,
};

/* Underline styles: SGR 4, 4:1 to 4:5, and 21. */
enum {
	TERM_UL_PLAIN = 0,  /* SGR 4 */
	TERM_UL_SINGLE = 1, /* 4:1 */
	TERM_UL_DOUBLE = 2, /* 4:2 */
	TERM_UL_CURLY = 3,  /* 4:3 */
	TERM_UL_DOTTED = 4, /* 4:4 */
	TERM_UL_DASHED = 5, /* 4:5 */
	TERM_UL_DOUBLE_21 = 6, /* SGR 21: double, in the older form */
};
#define TERM_ATTR_UL(style) ((uint16_t)((style) << TERM_ATTR_UL_SHIFT))
#define TERM_ATTR_UL_OF(attr) (((attr) & TERM_ATTR_UL_STYLE) >> TERM_ATTR_UL_SHIFT)

/* An underline colour (SGR 58) is a colour as above; this bit says the
 * application gave it in the ';' form (58;5;N, 58;2;R;G;B), which the
 * renderer then keeps, rather than the ':' form (58:5:N, 58:2::R:G:B). */
#define TERM_COLOR_SEMICOLON 0x80000000u

/* A code point with TERM_CH_CLUSTER set indexes the row's side store of
 * combining sequences instead. 0 is an empty (blank) cell. */
#define TERM_CH_CLUSTER 0x80000000u
#define TERM_CLUSTER_MAX 6 /* base + 5 combining marks; more are dropped */

struct term_cell {
	uint32_t ch;
	uint32_t fg;
	uint32_t bg;
	uint16_t attr;
	uint8_t link; /* 0, or a hyperlink id of the frame */
	uint8_t ul;   /* 0, or the underline colour's place in its row */
};

/* Modes a real terminal must be told about (the frame's `modes`). */
enum {
	TERM_MODE_CURSOR_KEYS = 1 << 0,  /* DECCKM */
	TERM_MODE_KEYPAD = 1 << 1,       /* DECKPAM */
	TERM_MODE_REVERSE = 1 << 2,      /* DECSCNM, ?5 */
	TERM_MODE_CURSOR_HIDDEN = 1 << 3,/* not DECTCEM */
	TERM_MODE_MOUSE_X10 = 1 << 4,    /* ?9 */
	TERM_MODE_MOUSE_NORMAL = 1 << 5, /* ?1000 */
	TERM_MODE_MOUSE_BUTTON = 1 << 6, /* ?1002 */
	TERM_MODE_MOUSE_ANY = 1 << 7,    /* ?1003 */
	TERM_MODE_MOUSE_UTF8 = 1 << 8,   /* ?1005 */
	TERM_MODE_MOUSE_SGR = 1 << 9,    /* ?1006 */
	TERM_MODE_MOUSE_URXVT = 1 << 10, /* ?1015 */
	TERM_MODE_FOCUS = 1 << 11,       /* ?1004 */
	TERM_MODE_BRACKETED_PASTE = 1 << 12, /* ?2004 */
	TERM_MODE_ALT_SCREEN = 1 << 13,  /* informational: the alternate screen is shown */
	/* xterm's modifyOtherKeys level (CSI > 4 ; Pv m): 0, 1 or 2. */
	TERM_MODE_MOK_SHIFT = 14,
	TERM_MODE_MOK = 3 << 14,
	/* The kitty keyboard protocol's flags (CSI = / > / < u), 5 bits,
	 * of the screen shown. */
	TERM_MODE_KITTY_SHIFT = 16,
	TERM_MODE_KITTY = 0x1f << 16,
};

struct term;       /* an emulator: parser, state and framebuffer */
struct term_frame; /* what a terminal shows: cells, cursor, modes, title */

/* Emulator. */
struct term *term_new(int cols, int rows);
void term_free(struct term *t);
/* The application's output, in pieces of any size. In a flood, larger
 * pieces are cheaper: lines that scroll off within one write are kept as
 * their bytes rather than emulated cell by cell (term/flood.c). */
#define TERM_WRITE_FLOOD 65536 /* a piece that size gets the whole gain */
void term_write(struct term *t, const void *buf, size_t len);
int term_resize(struct term *t, int cols, int rows);
/* Whether the application is inside a synchronized update (DEC private
 * mode 2026): what it shows is not meant to be seen until the mode is
 * reset. */
bool term_synchronized(const struct term *t);
/* What the user's real terminal said of itself, for the emulator's
 * answers to the application: colour `which` (0-255 the palette,
 * TERM_COLOUR_FG and TERM_COLOUR_BG the default colours) is 0xRRGGBB;
 * and the key encodings it can send (TERM_KEYS_*). Until told, OSC 10,
 * 11 and 4 queries of the colours, and queries of the key modes, go
 * unanswered, as from a terminal without them. */
#define TERM_COLOUR_FG 256
#define TERM_COLOUR_BG 257
#define TERM_COLOURS 258
void term_set_colour(struct term *t, int which, uint32_t rgb);
#define TERM_KEYS_KITTY 1     /* the kitty keyboard protocol */
#define TERM_KEYS_MODIFY 2    /* xterm's modifyOtherKeys */
void term_set_key_support(struct term *t, unsigned keys);
/* Bytes the application should read back (DA, DSR/CPR replies). */
const uint8_t *term_replies(const struct term *t, size_t *len);
void term_replies_clear(struct term *t);
/* The current frame. Valid until the next term_write or term_resize. */
const struct term_frame *term_frame(const struct term *t);
/* An emulator showing a copy of frame f, in the state the renderer
 * assumes (default pen and modes, no margins): the bytes of
 * term_render(f, g) written to it make it show g. NULL when out of
 * memory. */
struct term *term_from_frame(const struct term_frame *f);
/* Free t but keep its current frame, returned (owned by the caller), as
 * term_frame_copy(term_frame(t)) before term_free(t) would, with one
 * copy less. NULL when out of memory. */
struct term_frame *term_free_keep_frame(struct term *t);

/* Frames. */
struct term_frame *term_frame_copy(const struct term_frame *f);
void term_frame_free(struct term_frame *f);
int term_frame_cols(const struct term_frame *f);
int term_frame_rows(const struct term_frame *f);
struct term_cell term_frame_cell(const struct term_frame *f, int row, int col);
/* A cell's underline colour (SGR 58): 0, the default, or a colour. */
uint32_t term_frame_cell_ul_colour(const struct term_frame *f, int row, int col);
/* The character(s) of a cell as UTF-8 (" " for a blank, "" for the right
 * half of a wide character); returns the length written, at most 4 *
 * TERM_CLUSTER_MAX bytes plus a NUL. */
size_t term_frame_cell_utf8(const struct term_frame *f, int row, int col,
                            char *out, size_t cap);
void term_frame_cursor(const struct term_frame *f, int *row, int *col);
bool term_frame_wrap_pending(const struct term_frame *f);
int term_frame_cursor_style(const struct term_frame *f);
uint32_t term_frame_modes(const struct term_frame *f);
const char *term_frame_title(const struct term_frame *f);
/* Replace the title and icon name (truncated to fit). */
void term_frame_set_titles(struct term_frame *f, const char *title,
                           const char *icon);
const char *term_frame_icon(const struct term_frame *f);
const char *term_frame_link(const struct term_frame *f, uint16_t id);
uint32_t term_frame_bells(const struct term_frame *f);
/* The last OSC 52 clipboard request: selection letters and base64 data,
 * with a counter that changes with every request. */
const char *term_frame_clipboard(const struct term_frame *f, uint32_t *serial);
/* Rows equal in what they show (O(1) when they share a generation). */
bool term_frame_row_equal(const struct term_frame *a, int ra,
                          const struct term_frame *b, int rb);
/* Frames equal in everything a user can see or an application set. When
 * they differ and why is not NULL, a description of the first difference
 * is written there. */
bool term_frame_equal(const struct term_frame *a, const struct term_frame *b,
                      char *why, size_t whylen);

/* Scrollback: lines that scrolled off the top of the main screen, oldest
 * first. term_scrollback_total counts every line ever scrolled off. */
int term_scrollback_count(const struct term *t);
uint64_t term_scrollback_total(const struct term *t);
/* How many times an application cleared the scrollback (ED 3, bash's
 * clear), and in *at term_scrollback_total at the last time. */
uint64_t term_scrollback_clears(const struct term *t, uint64_t *at);
/* Cells [0, n) of scrollback line i (0 the oldest) into cells, blanks
 * past what the line stores (a cell of combining characters gives its
 * first); returns how many cells it stores, or TERM_EINVAL when there is
 * no line i. t is not const: a line kept as its bytes is made into cells
 * the first time it is read. */
int term_scrollback_line(struct term *t, int i, struct term_cell *cells, int n);
/* How many lines the scrollback keeps: TERM_SCROLLBACK_LINES unless set,
 * within [TERM_SCROLLBACK_MIN, TERM_SCROLLBACK_MAX]. Setting another size
 * drops the lines kept so far (the count of lines ever kept goes on). */
#define TERM_SCROLLBACK_MIN 16
/* Whatever the count, no more lines are kept than take this many bytes
 * of cells at the widest the window has been (13,107 lines at 80
 * columns, 8,192 at 128, 3,495 at 300). */
#define TERM_SCROLLBACK_BYTES (16L << 20)
#define TERM_SCROLLBACK_MAX 1000000
void term_set_scrollback_lines(struct term *t, int n);

/* Growable output buffer for the renderer. */
struct term_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; data holds what fit */
};
void term_buf_free(struct term_buf *b);
void term_buf_append(struct term_buf *b, const void *p, size_t n);

/* Frame-diff renderer: append to out the bytes that make a terminal now
 * showing `old` (NULL: unknown contents) show `new`. */
void term_render(const struct term_frame *old, const struct term_frame *new_,
                 struct term_buf *out);
/* The same, drawing for a terminal whose own history is in use: no whole
 * screen scrolls (its lines would enter that history), and a full
 * repaint clears row by row, not with ED 2 (which tmux, among others,
 * scrolls into the history). */
#define TERM_RENDER_NO_SCROLL 1
#define TERM_RENDER_ROW_CLEAR 2
/* And a row whose end is erased is erased whole (EL 2) and written
 * again, never given blanks or EL 0: what a terminal keeps of the row
 * (in its history, in a copy) ends where its text does, as the
 * application's own output would. */
#define TERM_RENDER_TRIM 4
void term_render_flags(const struct term_frame *old, const struct term_frame *new_,
                       int flags, struct term_buf *out);

/* History line n (counted as term_scrollback_total counts) appended to
 * out as a line to print: its characters with SGRs from the default pen,
 * back to it at the end, no trailing blanks unless the line goes on.
 * *width is its width in cells, *wrapped whether the text went on to the
 * next line (a soft wrap). TERM_EINVAL when the scrollback no longer (or
 * not yet) holds line n. */
int term_history_line(struct term *t, uint64_t n, struct term_buf *out,
                      int *width, bool *wrapped);

/* Encode a code point as UTF-8 into out (room for 4 bytes); returns the
 * length. */
size_t term_utf8_encode(uint32_t cp, char *out);

/* Column width of a code point as moshi's own tables say (0, 1 or 2);
 * both ends of a session use these, whatever the C library says. */
int term_wcwidth(uint32_t cp);

#endif
