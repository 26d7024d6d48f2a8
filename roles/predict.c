/*
 * Local echo: see predict.h.
 *
 * Each guess is one typed character at a screen position, with the input
 * byte offset the server must have applied before it can be checked.
 * Printable characters go at the predicted cursor (inserting, when the
 * row has text to the right, as line editors do), Backspace takes back
 * the newest unconfirmed guess just left of the cursor, Left and Right
 * move the predicted cursor. Anything else ends the epoch.
 *
 * Anchoring: the predicted cursor starts from the server's, which lags by
 * the keys still in flight. Keys typed since the echo-ack are kept; those
 * the frame does not show yet at its cursor are added to it, so a new
 * epoch (after a wrong guess, or once everything is confirmed) starts
 * where the application's cursor will be, not where it was a round trip
 * ago. When a key in flight is not a plain character the cursor cannot be
 * known, and nothing is guessed until the server has applied it.
 *
 * Checking: a guess is compared with the server's frame once the echo-ack
 * covers it. When a guess was inserted before older ones on its row,
 * those have moved, and positions are only right once every guess is
 * covered: then the whole set is checked at once.
 *
 * Drawing: the guesses are written, as escape sequences, into an
 * emulator made from the server's frame (term_from_frame), so the
 * overlay is exactly what a terminal would show.
 */
#include "predict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../term/term.h"
#include "keys.h"

#define MAX_GUESSES 512
#define MAX_RECENT 256

/* A key the server may not have applied yet: cp 0 when it was not a plain
 * character. */
struct recent {
	uint32_t cp;
	int width;
	uint64_t byte_end;
};

struct guess {
	int row, col, width;  /* col: where it is now, later insertions counted */
	int col0;             /* where it was typed: drawing replays in order */
	uint32_t cp;
	bool inserted;        /* the row had text to its right */
	unsigned epoch;
	uint64_t byte_end;    /* echo-ack must reach this to check it */
	uint64_t when;
};

struct predict {
	enum predict_mode mode;
	struct keys *keys;
	struct guess g[MAX_GUESSES];
	int n;
	bool shifted;         /* an insertion moved older guesses */
	int crow, ccol;       /* the predicted cursor */
	bool cursor_valid;
	unsigned epoch, confirmed_epoch;
	bool blocked;         /* nothing is guessed until echo-ack >= wait */
	uint64_t wait;
	unsigned interval;
	bool show, underline;
	int repair;           /* quick confirmations still to come after a glitch */
	uint64_t last_repair;
	struct recent recent[MAX_RECENT];
	int nrecent;
	uint64_t echo_ack;    /* the newest seen */
	struct predict_stats stats;
};

int predict_mode_parse(const char *s, enum predict_mode *mode)
{
	static const struct { const char *name; enum predict_mode mode; } modes[] = {
		{ "adaptive", PREDICT_ADAPTIVE }, { "always", PREDICT_ALWAYS },
		{ "never", PREDICT_NEVER }, { "experimental", PREDICT_EXPERIMENTAL },
	};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(s, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return 0;
		}
	return -1;
}

struct predict *predict_new(enum predict_mode mode)
{
	struct predict *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->mode = mode;
	if (mode != PREDICT_NEVER && (p->keys = keys_new()) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void predict_free(struct predict *p)
{
	if (p == NULL)
		return;
	keys_free(p->keys);
	free(p);
}

const struct predict_stats *predict_stats(const struct predict *p)
{
	return &p->stats;
}

bool predict_pending(const struct predict *p)
{
	return p->n > 0;
}

uint64_t predict_next_change(const struct predict *p, uint64_t since)
{
	if (p->mode == PREDICT_NEVER || p->n == 0)
		return 0;
	if (p->g[0].when + PREDICT_LATE_MS > since)
		return p->g[0].when + PREDICT_LATE_MS;
	if (p->g[0].when + PREDICT_GLITCH_MS > since)
		return p->g[0].when + PREDICT_GLITCH_MS;
	return 0;
}

void predict_set_interval(struct predict *p, unsigned ms)
{
	p->interval = ms;
}

/* A key whose effect is not guessed: a new epoch, and no guess until the
 * server has applied it. */
static void end_epoch(struct predict *p, uint64_t until)
{
	p->epoch++;
	p->blocked = true;
	if (until > p->wait)
		p->wait = until;
	p->cursor_valid = false;
}

static void remember(struct predict *p, const TermKeyKey *key, uint64_t end)
{
	uint32_t cp = 0;
	int w = 0;
	if (key->type == TERMKEY_TYPE_UNICODE &&
	    !(key->modifiers & (TERMKEY_KEYMOD_CTRL | TERMKEY_KEYMOD_ALT))) {
		cp = (uint32_t)key->code.codepoint;
		w = term_wcwidth(cp);
		if (w <= 0)
			cp = 0;
	}
	if (p->nrecent == MAX_RECENT) {
		/* Too many in flight to reason about: forget the oldest and
		 * let the next anchoring fail. */
		memmove(p->recent, p->recent + 1, (MAX_RECENT - 1) * sizeof p->recent[0]);
		p->nrecent--;
		p->recent[0].cp = 0;
	}
	p->recent[p->nrecent++] = (struct recent){ cp, w, end };
}

static bool cell_is(const struct term_frame *f, int row, int col, uint32_t cp)
{
	uint32_t ch = term_frame_cell(f, row, col).ch;
	return ch == cp || (cp == ' ' && ch == 0);
}

/* Where the application's cursor will be once the keys in flight (all but
 * the newest `skip`, which are being guessed now) have echoed: false when
 * that cannot be known. */
static bool anchor(struct predict *p, const struct term_frame *f, int skip)
{
	if (term_frame_wrap_pending(f))
		return false;
	int row, col, cols = term_frame_cols(f);
	term_frame_cursor(f, &row, &col);
	int m = p->nrecent - skip, first = 0, total = 0;
	while (first < m && p->recent[first].byte_end <= p->echo_ack)
		first++;
	for (int i = first; i < m; i++) {
		if (p->recent[i].cp == 0)
			return false;
		total += p->recent[i].width;
	}
	/* The longest run of those keys, oldest first, that the frame
	 * already shows just left of its cursor. */
	int shown = 0;
	for (int j = m - first, w = total; j > 0; w -= p->recent[first + --j].width) {
		if (w > col)
			continue;
		int x = col - w, i = first;
		for (; i < first + j; x += p->recent[i].width, i++)
			if (!cell_is(f, row, x, p->recent[i].cp))
				break;
		if (i == first + j) {
			shown = w;
			break;
		}
	}
	if (col + total - shown >= cols)
		return false;
	p->crow = row;
	p->ccol = col + total - shown;
	p->cursor_valid = true;
	return true;
}

static bool row_has_text_from(const struct term_frame *f, const struct predict *p,
                              int row, int col)
{
	int cols = term_frame_cols(f);
	for (int c = col; c < cols; c++)
		if (term_frame_cell(f, row, c).ch != 0)
			return true;
	for (int i = 0; i < p->n; i++)
		if (p->g[i].row == row && p->g[i].col >= col)
			return true;
	return false;
}

static void guess_char(struct predict *p, const struct term_frame *f, uint32_t cp,
                       uint64_t end, uint64_t now)
{
	int w = term_wcwidth(cp);
	if (w <= 0 || p->n == MAX_GUESSES) {
		end_epoch(p, end); /* combining marks and controls: not guessed */
		return;
	}
	if (p->ccol + w > term_frame_cols(f)) {
		end_epoch(p, end); /* a wrap: the application decides */
		return;
	}
	bool ins = row_has_text_from(f, p, p->crow, p->ccol);
	if (ins) {
		/* What is right of the cursor on this row moves over. */
		for (int i = 0; i < p->n; i++)
			if (p->g[i].row == p->crow && p->g[i].col >= p->ccol) {
				p->g[i].col += w;
				p->shifted = true;
			}
	}
	p->g[p->n++] = (struct guess){ p->crow, p->ccol, w, p->ccol, cp, ins, p->epoch,
	                               end, now };
	p->ccol += w;
	p->stats.made++;
}

/* Backspace: take back the newest guess if it is just left of the cursor
 * and nothing was inserted after it; otherwise it is not guessed. */
static void guess_backspace(struct predict *p, uint64_t end)
{
	struct guess *last = p->n > 0 ? &p->g[p->n - 1] : NULL;
	if (last != NULL && !last->inserted && last->row == p->crow &&
	    last->col + last->width == p->ccol && last->epoch == p->epoch) {
		p->ccol = last->col;
		p->n--;
		p->stats.made--;
		return;
	}
	end_epoch(p, end);
}

bool predict_input(struct predict *p, const struct term_frame *server,
                   const uint8_t *b, size_t n, uint64_t offset, uint64_t now)
{
	if (p->mode == PREDICT_NEVER || n == 0)
		return false;
	uint64_t end = offset + n;
	int before = p->n;
	bool was_valid = p->cursor_valid;
	int oldrow = p->crow, oldcol = p->ccol;

	if (n > PREDICT_PASTE_BYTES) {
		end_epoch(p, end);
		return p->n != before;
	}
	for (size_t done = 0; done < n;) {
		done += keys_push(p->keys, b + done, n - done);
		TermKeyKey key;
		while (keys_next(p->keys, &key, 1)) {
			remember(p, &key, end);
			if (p->blocked)
				continue;
			if (!p->cursor_valid && !anchor(p, server, 1)) {
				end_epoch(p, end);
				continue;
			}
			if (key.type == TERMKEY_TYPE_UNICODE &&
			    !(key.modifiers & (TERMKEY_KEYMOD_CTRL | TERMKEY_KEYMOD_ALT)))
				guess_char(p, server, (uint32_t)key.code.codepoint, end, now);
			else if (key.type == TERMKEY_TYPE_KEYSYM && key.modifiers == 0 &&
			         key.code.sym == TERMKEY_SYM_BACKSPACE)
				guess_backspace(p, end);
			else if (key.type == TERMKEY_TYPE_KEYSYM && key.modifiers == 0 &&
			         key.code.sym == TERMKEY_SYM_LEFT && p->ccol > 0)
				p->ccol--;
			else if (key.type == TERMKEY_TYPE_KEYSYM && key.modifiers == 0 &&
			         key.code.sym == TERMKEY_SYM_RIGHT &&
			         p->ccol < term_frame_cols(server) - 1)
				p->ccol++;
			else
				end_epoch(p, end);
		}
	}
	return p->n != before || was_valid != p->cursor_valid ||
	       oldrow != p->crow || oldcol != p->ccol;
}

static bool guess_holds(const struct guess *g, const struct term_frame *f)
{
	if (g->row >= term_frame_rows(f) || g->col >= term_frame_cols(f))
		return false;
	return cell_is(f, g->row, g->col, g->cp); /* a typed space is a blank */
}

/* The server has spoken: every guess it has applied is right or wrong. */
bool predict_server(struct predict *p, const struct term_frame *server,
                    uint64_t echo_ack, uint64_t now)
{
	if (p->mode == PREDICT_NEVER)
		return false;
	int before = p->n;
	if (echo_ack > p->echo_ack)
		p->echo_ack = echo_ack;
	int old = 0;
	while (old < p->nrecent && p->recent[old].byte_end <= p->echo_ack)
		old++;
	memmove(p->recent, p->recent + old, (size_t)(p->nrecent - old) * sizeof p->recent[0]);
	p->nrecent -= old;
	if (p->blocked && echo_ack >= p->wait) {
		p->blocked = false;
		p->cursor_valid = false;
	}
	/* With moved guesses, wait until all are covered. */
	if (p->shifted && p->n > 0 && echo_ack < p->g[p->n - 1].byte_end)
		return false;
	int k = 0;
	while (k < p->n && p->g[k].byte_end <= echo_ack) {
		if (!guess_holds(&p->g[k], server)) {
			/* Wrong: this guess and everything after it go. */
			p->stats.wrong++;
			p->n = 0;
			p->shifted = false;
			p->epoch++;
			p->cursor_valid = false;
			return true;
		}
		if (p->g[k].epoch > p->confirmed_epoch)
			p->confirmed_epoch = p->g[k].epoch;
		p->stats.confirmed++;
		/* A quick confirmation repairs a glitch, one per
		 * PREDICT_REPAIR_MS at most (a burst of keys confirmed in one
		 * frame counts once). */
		if (p->repair > 0 && now >= p->g[k].when &&
		    now - p->g[k].when < PREDICT_GLITCH_MS &&
		    now - p->last_repair >= PREDICT_REPAIR_MS) {
			p->repair--;
			p->last_repair = now;
		}
		k++;
	}
	memmove(p->g, p->g + k, (size_t)(p->n - k) * sizeof p->g[0]);
	p->n -= k;
	if (p->n == 0) {
		p->shifted = false;
		/* Nothing left to draw: the server's cursor is the truth again. */
		p->cursor_valid = false;
	}
	return p->n != before;
}

/* Whether to show and underline, by the link's speed (with hysteresis),
 * by how long the oldest guess has waited, and by whether a glitch (such
 * a wait) has been repaired since. Returns whether to show now: a late
 * guess is shown while it waits, but leaves p->show as the link has it. */
static bool decide(struct predict *p, uint64_t now)
{
	bool glitch = p->n > 0 && now - p->g[0].when >= PREDICT_GLITCH_MS;
	bool late = p->n > 0 && now - p->g[0].when >= PREDICT_LATE_MS;
	if (glitch)
		p->repair = PREDICT_REPAIR_COUNT;
	if (p->interval > PREDICT_SHOW_ON_MS)
		p->show = true;
	else if (p->interval <= PREDICT_SHOW_OFF_MS && p->repair == 0)
		p->show = false;
	if (glitch || p->repair > 0)
		p->show = true;
	if (p->interval > PREDICT_UNDERLINE_ON_MS || glitch)
		p->underline = true;
	else if (p->interval <= PREDICT_UNDERLINE_OFF_MS)
		p->underline = false;
	return p->show || late;
}

struct term_frame *predict_overlay(struct predict *p, const struct term_frame *server,
                                   uint64_t now)
{
	if (p->mode == PREDICT_NEVER || p->n == 0)
		return NULL;
	if (!decide(p, now) && p->mode == PREDICT_ADAPTIVE)
		return NULL;
	bool all = p->mode == PREDICT_EXPERIMENTAL;
	int shown = 0;
	for (int i = 0; i < p->n; i++)
		if (all || p->g[i].epoch <= p->confirmed_epoch)
			shown++;
	if (shown == 0)
		return NULL;

	struct term *t = term_from_frame(server);
	if (t == NULL)
		return NULL;
	char buf[64];
	for (int i = 0; i < p->n; i++) {
		const struct guess *g = &p->g[i];
		if (!all && g->epoch > p->confirmed_epoch)
			continue;
		/* Replayed in the order typed, at the column typed, inserting
		 * with ICH where the row had text: the row shifts as the
		 * application's own editing would shift it. */
		int k = snprintf(buf, sizeof buf, "\033[%d;%dH", g->row + 1, g->col0 + 1);
		term_write(t, buf, (size_t)k);
		if (g->inserted) {
			k = snprintf(buf, sizeof buf, "\033[%d@", g->width);
			term_write(t, buf, (size_t)k);
		}
		if (p->underline)
			term_write(t, "\033[4m", 4);
		char u[8];
		size_t ul = term_utf8_encode(g->cp, u);
		term_write(t, u, ul);
		term_write(t, "\033[m", 3);
	}
	if (p->cursor_valid && shown == p->n) {
		int k = snprintf(buf, sizeof buf, "\033[%d;%dH", p->crow + 1, p->ccol + 1);
		term_write(t, buf, (size_t)k);
	}
	return term_free_keep_frame(t);
}
