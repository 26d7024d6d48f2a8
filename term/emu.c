/*
 * The emulator: what applications see. Parser events in (control
 * characters, escape and control sequences, OSC strings), dispatched to
 * the screen (screen.c) and the pen (pen.c); modes, resets, replies and
 * the emulator's life cycle. Behaviour follows xterm (ctlseqs) and, where
 * xterm is silent, ECMA-48; each dispatch case names its sequence.
 */
#include "emu.h"

#include "pen.h"
#include "screen.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MOSHI_VERSION
#define MOSHI_VERSION "unknown"
#endif

static const struct term_parser_ops emu_ops;

static void reply(struct term *t, const char *s)
{
	size_t n = strlen(s);
	/* An application that never reads its replies cannot grow this. */
	if (n > TERM_REPLY_MAX - t->reply_len)
		return;
	if (t->reply == NULL && (t->reply = malloc(TERM_REPLY_MAX)) == NULL)
		return;
	memcpy(t->reply + t->reply_len, s, n);
	t->reply_len += n;
}

static void replyf(struct term *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void replyf(struct term *t, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof buf)
		reply(t, buf);
}

/* ---- modes ----------------------------------------------------------- */

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

/* The kitty keyboard protocol: the shown screen's flags into the
 * frame's modes (after they change, or the screen does). */
static void kitty_show(struct term *t)
{
	uint32_t k = t->kitty_cur[screen_alt_active(t)];
	t->f->modes = (t->f->modes & ~(uint32_t)TERM_MODE_KITTY) |
	              k << TERM_MODE_KITTY_SHIFT;
}

/* CSI > flags u (push), CSI < n u (pop), CSI = flags ; how u (set). */
static void kitty_keys(struct term *t, const struct term_seq *s)
{
	int a = screen_alt_active(t);
	uint8_t *stack = t->kitty_stack[a];
	int flags = term_seq_param(s, 0, 0, 255) & 0x1f;

	if (s->marker == '>') {
		if (t->kitty_depth[a] == TERM_KITTY_DEPTH) {
			memmove(stack, stack + 1, TERM_KITTY_DEPTH - 1);
			t->kitty_depth[a]--;
		}
		stack[t->kitty_depth[a]++] = t->kitty_cur[a];
		t->kitty_cur[a] = (uint8_t)flags;
	} else if (s->marker == '<') {
		for (int n = term_seq_param(s, 0, 1, 255); n > 0; n--)
			t->kitty_cur[a] = t->kitty_depth[a] ? stack[--t->kitty_depth[a]] : 0;
	} else if (s->marker == '=') {
		int how = term_seq_param(s, 1, 1, 3);
		t->kitty_cur[a] = (uint8_t)(how == 1 ? flags : how == 2 ?
			t->kitty_cur[a] | flags : t->kitty_cur[a] & ~flags);
	}
	kitty_show(t);
}

static void kitty_reset(struct term *t)
{
	memset(t->kitty_cur, 0, sizeof t->kitty_cur);
	memset(t->kitty_depth, 0, sizeof t->kitty_depth);
	kitty_show(t);
}

/* What DECRQM answers for DEC private mode `mode`: 1 set, 2 reset, 0
 * not recognized (4: permanently reset). */
static int dec_mode_state(const struct term *t, int mode)
{
	uint32_t modes = t->f->modes;
	for (size_t i = 0; i < term_dec_nmodes; i++)
		if (term_dec_modes[i].mode == mode)
			return modes & term_dec_modes[i].bit ? 1 : 2;
	switch (mode) {
	case 47: case 1047: case 1049: return modes & TERM_MODE_ALT_SCREEN ? 1 : 2;
	case 3: return 2;   /* DECCOLM: the width is the window's */
	case 6: return t->origin ? 1 : 2;
	case 7: return t->autowrap ? 1 : 2;
	case 25: return modes & TERM_MODE_CURSOR_HIDDEN ? 2 : 1;
	case 1048: return 2; /* a save, not a state */
	case 2026: return t->synchronized ? 1 : 2;
	}
	return 0;
}

static void dec_mode(struct term *t, int mode, bool on)
{
	switch (mode) {
	case 1: set_flag(t, TERM_MODE_CURSOR_KEYS, on); break;  /* DECCKM */
	case 3: /* DECCOLM: the width stays the window's; the screen is
	         * cleared, the margins reset and the cursor homed, as xterm
	         * and tmux do and programs (vttest) expect */
		t->top = 0;
		t->bottom = t->f->rows - 1;
		screen_erase_display(t, 2);
		screen_move_abs(t, 0, 0);
		break;
	case 5: set_flag(t, TERM_MODE_REVERSE, on); break;      /* DECSCNM */
	case 6:                                                  /* DECOM */
		t->origin = on;
		screen_move_abs(t, 0, 0);
		break;
	case 7: /* DECAWM */
		t->autowrap = on;
		if (!on)
			t->f->wrap_pending = false;
		break;
	case 9: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_X10, on); break;
	case 25: set_flag(t, TERM_MODE_CURSOR_HIDDEN, !on); break; /* DECTCEM */
	case 47: screen_set_alt(t, on, false); kitty_show(t); break;
	case 1047: screen_set_alt(t, on, !on); kitty_show(t); break;
	case 1048:
		if (on) screen_save_cursor(t); else screen_restore_cursor(t);
		break;
	case 1049:
		if (on) {
			screen_save_cursor(t);
			screen_set_alt(t, true, true);
		} else {
			screen_set_alt(t, false, false);
			screen_restore_cursor(t);
		}
		kitty_show(t);
		break;
	case 1000: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_NORMAL, on); break;
	case 1002: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_BUTTON, on); break;
	case 1003: set_exclusive(t, MOUSE_TRACKING, TERM_MODE_MOUSE_ANY, on); break;
	case 1004: set_flag(t, TERM_MODE_FOCUS, on); break;
	case 1005: set_exclusive(t, MOUSE_ENCODING, TERM_MODE_MOUSE_UTF8, on); break;
	case 1006: set_exclusive(t, MOUSE_ENCODING, TERM_MODE_MOUSE_SGR, on); break;
	case 1015: set_exclusive(t, MOUSE_ENCODING, TERM_MODE_MOUSE_URXVT, on); break;
	case 2004: set_flag(t, TERM_MODE_BRACKETED_PASTE, on); break;
	case 2026: t->synchronized = on; break; /* synchronized output */
	}
}

static void ansi_mode(struct term *t, int mode, bool on)
{
	switch (mode) {
	case 4: t->insert = on; break;   /* IRM */
	case 20: t->newline = on; break; /* LNM */
	}
}

static void soft_reset(struct term *t)
{
	/* DECSTR, as xterm: modes back to their defaults, screen kept. */
	t->f->modes &= ~(uint32_t)(TERM_MODE_CURSOR_HIDDEN | TERM_MODE_CURSOR_KEYS |
	                           TERM_MODE_KEYPAD);
	t->insert = false;
	t->origin = false;
	t->autowrap = true;
	t->pen = (struct term_pen){ 0 };
	t->g[0] = t->g[1] = 'B';
	t->gl = 0;
	t->top = 0;
	t->bottom = t->f->rows - 1;
	t->saved_set[0] = t->saved_set[1] = false;
}

static void full_reset(struct term *t)
{
	screen_set_alt(t, false, false);
	soft_reset(t);
	t->newline = false;
	t->f->modes = 0;
	t->synchronized = false;
	kitty_reset(t);
	t->f->cursor_style = 0;
	t->pen = (struct term_pen){ 0 };
	screen_reset_tabs(t, 0);
	screen_erase_display(t, 2);
	screen_move_to(t, 0, 0);
	t->last_char = 0;
}

/* ---- dispatch -------------------------------------------------------- */

static void emu_print(void *ctx, uint32_t cp)
{
	screen_print(ctx, cp);
}

void emu_execute(void *ctx, uint8_t c)
{
	struct term *t = ctx;
	struct term_frame *f = t->f;

	t->last_char = 0;
	switch (c) {
	case 0x0a: case 0x0b: case 0x0c: screen_line_feed(t); break; /* LF VT FF */
	case 0x0d: screen_carriage_return(f); break;                 /* CR */
	case 0x07: f->bells++; break;                         /* BEL */
	case 0x08:                                            /* BS */
		if (f->cx > 0)
			f->cx--;
		f->wrap_pending = false;
		break;
	case 0x09: screen_tab_forward(t, 1); break;                  /* HT */
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
			screen_move_to(t, 0, 0);
		}
		return;
	}
	if (s->ninter != 0)
		return;
	switch (s->final) {
	case '7': screen_save_cursor(t); break;                  /* DECSC */
	case '8': screen_restore_cursor(t); break;               /* DECRC */
	case '=': f->modes |= TERM_MODE_KEYPAD; break;    /* DECKPAM */
	case '>': f->modes &= ~(uint32_t)TERM_MODE_KEYPAD; break; /* DECKPNM */
	case 'D': screen_index(t); break;                     /* IND */
	case 'E': f->cx = 0; screen_index(t); break;          /* NEL */
	case 'H': t->tabs[f->cx] = 1; break;              /* HTS */
	case 'M': screen_reverse_index(t); break;                /* RI */
	case 'c': full_reset(t); break;                   /* RIS */
	}
}

/* The first parameter, 0 when omitted: the selector of ED, EL and TBC. */
static int param0(const struct term_seq *s)
{
	return s->nparam > 0 && s->param[0] > 0 ? s->param[0] : 0;
}

/* A control sequence with a private marker ('?', '>', '<', '='). */
static void csi_private(struct term *t, const struct term_seq *s)
{
	if (s->ninter == 0 && s->final == 'u') {
		if (s->marker != '?')
			kitty_keys(t, s);
		else if (t->key_support & TERM_KEYS_KITTY) /* query, if keys can */
			replyf(t, "\033[?%uu", t->kitty_cur[screen_alt_active(t)]);
		return;
	}
	if (s->marker == '?' && s->ninter == 1 && s->inter[0] == '$' && s->final == 'p') {
		int m = term_seq_param(s, 0, 0, TERM_PARAM_MAX); /* DECRQM */
		replyf(t, "\033[?%d;%d$y", m, dec_mode_state(t, m));
		return;
	}
	if (s->ninter != 0)
		return;
	if (s->marker == '?') {
		switch (s->final) {
		case 'h': /* DECSET */
		case 'l': /* DECRST */
			for (int i = 0; i < s->nparam; i++)
				if (!(s->sub >> i & 1))
					dec_mode(t, s->param[i], s->final == 'h');
			break;
		case 'J': screen_erase_display(t, param0(s)); break; /* DECSED */
		case 'K': screen_erase_line(t, param0(s)); break;    /* DECSEL */
		case 'm': /* XTQMODKEYS: modifyOtherKeys, if keys can */
			if (term_seq_param(s, 0, 0, 255) == 4 && (t->key_support & TERM_KEYS_MODIFY))
				replyf(t, "\033[>4;%um", (t->f->modes & TERM_MODE_MOK) >>
				       TERM_MODE_MOK_SHIFT);
			break;
		}
	} else if (s->marker == '>') {
		if (s->final == 'c' && term_seq_param(s, 0, 0, 1) == 0)
			reply(t, "\033[>1;10;0c"); /* DA2: VT220, version 10 */
		else if (s->final == 'q' && term_seq_param(s, 0, 0, 1) == 0)
			reply(t, "\033P>|moshi(" MOSHI_VERSION ")\033\\"); /* XTVERSION */
		else if (s->final == 'm' && s->nparam >= 1 && s->param[0] == 4) {
			/* XTMODKEYS: modifyOtherKeys 0, 1 or 2 (omitted: 0) */
			int v = term_seq_param(s, 1, 0, 255);
			if (v <= 2)
				t->f->modes = (t->f->modes & ~(uint32_t)TERM_MODE_MOK) |
				              (uint32_t)v << TERM_MODE_MOK_SHIFT;
		}
	}
}

void emu_csi(void *ctx, const struct term_seq *s)
{
	struct term *t = ctx;
	struct term_frame *f = t->f;
	int cols = f->cols, rows = f->rows;
	char buf[64];
	uint32_t last = t->last_char;

	t->last_char = 0;
	if (s->final == 'm' && s->marker == 0 && s->ninter == 0) {
		pen_sgr(t, s); /* SGR — 8.3.117, the most frequent by far */
		return;
	}
	if (s->marker != 0) {
		csi_private(t, s);
		return;
	}
	if (s->ninter == 1) {
		if (s->inter[0] == '$' && s->final == 'p') { /* DECRQM, ANSI modes */
			int m = term_seq_param(s, 0, 0, TERM_PARAM_MAX);
			int v = m == 4 ? (t->insert ? 1 : 2) : m == 20 ? (t->newline ? 1 : 2) : 0;
			replyf(t, "\033[%d;%d$y", m, v);
		} else if (s->inter[0] == ' ' && s->final == 'q') { /* DECSCUSR */
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
		screen_insert_blanks(t, screen_cur_row(t), f->cx, n);
		break;
	case 'A': /* CUU — 8.3.22 */
		screen_move_to(t, f->cx, f->cy >= t->top && f->cy - n < t->top ?
		        t->top : f->cy - n);
		break;
	case 'B': /* CUD — 8.3.19 */
		screen_move_to(t, f->cx, f->cy <= t->bottom && f->cy + n > t->bottom ?
		        t->bottom : f->cy + n);
		break;
	case 'C': case 'a': /* CUF — 8.3.20, HPR — 8.3.59 */
		screen_move_to(t, f->cx + n, f->cy);
		break;
	case 'D': /* CUB — 8.3.18 */
		screen_move_to(t, f->cx - n, f->cy);
		break;
	case 'E': /* CNL — 8.3.12 */
		screen_move_to(t, 0, f->cy <= t->bottom && f->cy + n > t->bottom ?
		        t->bottom : f->cy + n);
		break;
	case 'F': /* CPL — 8.3.13 */
		screen_move_to(t, 0, f->cy >= t->top && f->cy - n < t->top ?
		        t->top : f->cy - n);
		break;
	case 'G': case '`': /* CHA — 8.3.9, HPA — 8.3.57 */
		screen_move_to(t, n - 1, f->cy);
		break;
	case 'H': case 'f': /* CUP — 8.3.21, HVP — 8.3.63 */
		screen_move_abs(t, term_seq_param(s, 1, 1, TERM_PARAM_MAX) - 1, n - 1);
		break;
	case 'I': /* CHT — 8.3.10 */
		screen_tab_forward(t, n);
		break;
	case 'J': /* ED — 8.3.39 */
		screen_erase_display(t, param0(s));
		break;
	case 'K': /* EL — 8.3.41 */
		screen_erase_line(t, param0(s));
		break;
	case 'L': /* IL — 8.3.67 */
		if (f->cy >= t->top && f->cy <= t->bottom) {
			screen_scroll_down(t, f->cy, t->bottom, n);
			screen_move_to(t, 0, f->cy);
		}
		break;
	case 'M': /* DL — 8.3.32 */
		if (f->cy >= t->top && f->cy <= t->bottom) {
			/* Deleted lines never reach the scrollback. */
			screen_scroll_up(t, f->cy, t->bottom, n, false);
			screen_move_to(t, 0, f->cy);
		}
		break;
	case 'P': /* DCH — 8.3.26 */
		f->wrap_pending = false;
		screen_delete_chars(t, screen_cur_row(t), f->cx, n);
		break;
	case 'S': /* SU — 8.3.147 */
		if (s->nparam <= 1)
			screen_scroll_up(t, t->top, t->bottom, n, true);
		break;
	case 'T': /* SD — 8.3.113 (one parameter; more is mouse tracking) */
		if (s->nparam <= 1)
			screen_scroll_down(t, t->top, t->bottom, n);
		break;
	case 'X': /* ECH — 8.3.38 */
		f->wrap_pending = false;
		screen_erase_cells(t, screen_cur_row(t), f->cx, f->cx + n);
		break;
	case 'Z': /* CBT — 8.3.7 */
		screen_tab_backward(t, n);
		break;
	case 'b': /* REP — 8.3.103: only right after a graphic character */
		if (last != 0) {
			if (n > cols * rows)
				n = cols * rows;
			for (int i = 0; i < n; i++)
				screen_print(t, last);
			/* REP is not a graphic character: a REP after it
			 * repeats nothing. */
			t->last_char = 0;
		}
		break;
	case 'c': /* DA1 — 8.3.24 */
		if (term_seq_param(s, 0, 0, 1) == 0)
			reply(t, "\033[?62;22c"); /* VT220 with ANSI colour */
		break;
	case 'd': /* VPA — 8.3.158 */
		screen_move_abs(t, f->cx, n - 1);
		break;
	case 'e': /* VPR — 8.3.160 */
		screen_move_to(t, f->cx, f->cy + n);
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
		pen_sgr(t, s);
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
			screen_move_abs(t, 0, 0);
		}
		break;
	}
	case 's': /* SCOSC — save cursor (xterm, without DECLRMM) */
		if (s->nparam == 0)
			screen_save_cursor(t);
		break;
	case 'u': /* SCORC — restore cursor */
		if (s->nparam == 0)
			screen_restore_cursor(t);
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

/* The answer to a query of colour `which`, as xterm gives it: OSC
 * prefix ; rgb:RRRR/GGGG/BBBB, ended as the query was (BEL or ST).
 * Nothing while the user's terminal has not said. */
static void colour_reply(struct term *t, const char *prefix, int which)
{
	uint32_t c = t->colours ? t->colours[which] : 0;
	if (!(c & TERM_COLOUR_KNOWN))
		return;
	unsigned r = c >> 16 & 0xff, g = c >> 8 & 0xff, b = c & 0xff;
	replyf(t, "\033]%s;rgb:%04x/%04x/%04x%s", prefix, r * 257, g * 257, b * 257,
	       t->parser.osc_bel ? "\a" : "\033\\");
}

/* OSC 10 and 11 (a default colour, and the next after it for each
 * further parameter) and OSC 4 (index;spec pairs): the queries ("?")
 * among them answered. Setting colours is not done. */
static void colour_queries(struct term *t, int cmd, const uint8_t *arg, size_t n)
{
	const uint8_t *end = arg + n;
	char prefix[16];
	int which = cmd == 10 ? TERM_COLOUR_FG : TERM_COLOUR_BG, index = -1;

	for (const uint8_t *p = arg; p <= end;) {
		const uint8_t *semi = memchr(p, ';', (size_t)(end - p));
		const uint8_t *e = semi ? semi : end;
		bool query = e - p == 1 && *p == '?';
		if (cmd == 4 && index < 0) {
			index = 0;
			for (const uint8_t *q = p; q < e && index < 256; q++)
				index = *q >= '0' && *q <= '9' ? index * 10 + (*q - '0') : 256;
			if (e == p)
				index = 256;
		} else if (cmd == 4) {
			if (query && index < 256) {
				snprintf(prefix, sizeof prefix, "4;%d", index);
				colour_reply(t, prefix, index);
			}
			index = -1;
		} else {
			if (query && which <= TERM_COLOUR_BG) {
				snprintf(prefix, sizeof prefix, "%d",
				         which == TERM_COLOUR_FG ? 10 : 11);
				colour_reply(t, prefix, which);
			}
			which++; /* 11 after 10; 12 and on are not kept */
		}
		if (semi == NULL)
			break;
		p = semi + 1;
	}
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
	case 4: case 10: case 11: /* colours: queries answered */
		colour_queries(t, cmd, arg, alen);
		break;
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
		if (f->nclips == TERM_CLIPS_MAX) {
			free(f->clips[0]);
			memmove(f->clips, f->clips + 1, (TERM_CLIPS_MAX - 1) * sizeof *f->clips);
			f->nclips--;
		}
		f->clips[f->nclips++] = c;
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
	t->simd_max = 2;
	t->sb_cap = TERM_SCROLLBACK_LINES;
	t->widest = f->cols;
	screen_scrollback_size(t);
	screen_scrollback_limit(t);
	screen_reset_tabs(t, 0);
	return t;
}

struct term *term_new(int cols, int rows)
{
	if (cols <= 0 || rows <= 0)
		return NULL;
	screen_clamp_size(&cols, &rows);
	return term_around(term_frame_new(cols, rows));
}

/* Everything of t but its frame, which the main screen's rows are in. */
static void free_all_but_frame(struct term *t)
{
	term_rows_free(t->alt.base, t->alt.row, t->f->rows);
	screen_scrollback_free(t);
	term_parser_free(&t->parser);
	free(t->reply);
	free(t->sgr_memo);
	free(t->colours);
	free(t);
}

void term_free(struct term *t)
{
	if (t == NULL)
		return;
	if (screen_alt_active(t)) {
		/* the frame frees the main rows, the alternate ones go here */
		t->alt = screen_rowset(t->f);
		screen_set_rowset(t->f, t->hidden);
	}
	struct term_frame *f = t->f;
	free_all_but_frame(t);
	term_frame_free(f);
}

bool term_synchronized(const struct term *t)
{
	return t->synchronized;
}

void term_set_colour(struct term *t, int which, uint32_t rgb)
{
	if (which < 0 || which >= TERM_COLOURS)
		return;
	if (t->colours == NULL &&
	    (t->colours = calloc(TERM_COLOURS, sizeof *t->colours)) == NULL)
		return;
	t->colours[which] = (rgb & 0xffffff) | TERM_COLOUR_KNOWN;
}

void term_set_key_support(struct term *t, unsigned keys)
{
	t->key_support = keys;
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
		t->kitty_cur[0] = (uint8_t)((t->f->modes & TERM_MODE_KITTY) >>
		                            TERM_MODE_KITTY_SHIFT);
		t->wide_seen = true;
	}
	return t;
}

struct term_frame *term_free_keep_frame(struct term *t)
{
	if (t == NULL)
		return NULL;
	if (screen_alt_active(t)) {
		/* The frame holds the alternate rows: a copy shows them. */
		struct term_frame *copy = term_frame_copy(t->f);
		term_free(t);
		return copy;
	}
	struct term_frame *f = t->f;
	free_all_but_frame(t);
	return f;
}

void term_set_simd_max(struct term *t, int max)
{
	t->simd_max = (uint8_t)(max < 0 ? 0 : max > 2 ? 2 : max);
}

void term_set_flood_lines(struct term *t, bool on)
{
	t->flood_off = !on;
}

uint64_t term_flood_kept(const struct term *t)
{
	return t->flood_kept;
}
