/*
 * The terminal state: the screen and its echo-ack, server to client
 * (sync.h).
 *
 * Diff: varint flags | varint echo_ack | varint cols | varint rows |
 *       [history] | renderer bytes
 *   flags bit 0 (DIFF_HISTORY): the history part is there:
 *       varint from | varint entries | entries
 *   from is the older state's hist_total, which the receiver's copy of
 *   that state must have. An entry is u8 kind | (a line: varint width |
 *   varint len | bytes) | (a gap: varint count) | (a clear: varint count
 *   | varint clears).
 */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "../term/term.h"

struct sync_termstate *sync_termstate_from_frame(const struct term_frame *f,
                                                uint64_t echo_ack)
{
	struct sync_termstate *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->frame = term_frame_copy(f);
	if (s->frame == NULL) {
		free(s);
		return NULL;
	}
	s->echo_ack = echo_ack;
	return s;
}

struct sync_termstate *sync_termstate_new(int cols, int rows)
{
	struct term *t = term_new(cols, rows);
	struct sync_termstate *s = NULL;
	if (t != NULL)
		s = sync_termstate_from_frame(term_frame(t), 0);
	term_free(t);
	return s;
}

#define DIFF_HISTORY 1u

static void hist_clear(struct sync_termstate *s)
{
	for (size_t i = 0; i < s->hist_n; i++)
		free(s->hist[i].bytes);
	free(s->hist);
	s->hist = NULL;
	s->hist_n = s->hist_cap = 0;
}

/* Append e (its bytes now s's); false when out of memory or past the
 * bound, with e's bytes freed. */
static bool hist_push(struct sync_termstate *s, struct sync_hist_entry e)
{
	if (s->hist_n == s->hist_cap) {
		size_t cap = s->hist_cap ? 2 * s->hist_cap : 16;
		struct sync_hist_entry *h = cap <= SYNC_HIST_MAX_ENTRIES ?
			realloc(s->hist, cap * sizeof *h) : NULL;
		if (h == NULL) {
			free(e.bytes);
			return false;
		}
		s->hist = h;
		s->hist_cap = cap;
	}
	s->hist[s->hist_n++] = e;
	return true;
}

void sync_termstate_set_history(struct sync_termstate *s, struct term *src,
                                uint64_t total)
{
	s->hist_src = src;
	s->hist_clears = term_scrollback_clears(src, &s->hist_clear_at);
	if (total < s->hist_clear_at)
		total = s->hist_clear_at; /* the lines before a clear are gone */
	s->hist_total = total;
	s->hist_base = total;
}

static void ts_free(void *p)
{
	struct sync_termstate *s = p;
	if (s == NULL)
		return;
	term_frame_free(s->frame);
	hist_clear(s);
	free(s);
}

static void *ts_copy(const void *p)
{
	const struct sync_termstate *s = p;
	struct sync_termstate *c = sync_termstate_from_frame(s->frame, s->echo_ack);
	if (c == NULL)
		return NULL;
	c->hist_total = s->hist_total;
	c->hist_clears = s->hist_clears;
	c->hist_clear_at = s->hist_clear_at;
	c->hist_src = s->hist_src;
	c->hist_base = s->hist_base;
	for (size_t i = 0; i < s->hist_n; i++) {
		struct sync_hist_entry e = s->hist[i];
		if (e.len > 0 && (e.bytes = malloc(e.len)) == NULL) {
			ts_free(c);
			return NULL;
		}
		if (e.len > 0)
			memcpy(e.bytes, s->hist[i].bytes, e.len);
		if (!hist_push(c, e)) {
			ts_free(c);
			return NULL;
		}
	}
	return c;
}

static void put_gap(struct ssp_writer *body, uint64_t *gap, uint64_t *entries)
{
	if (*gap == 0)
		return;
	ssp_put_u8(body, SYNC_HIST_GAP);
	ssp_put_varint(body, *gap);
	(*entries)++;
	*gap = 0;
}

/* The sender's lines [from, to) of src, as entries in body. Lines src no
 * longer (or does not yet) hold are gaps, counted without visiting them:
 * a gap can stand for any number of lines. */
static void hist_lines(struct term *src, uint64_t from, uint64_t to,
                       struct ssp_writer *body, uint64_t *entries)
{
	struct term_buf line = { 0 };
	uint64_t lo = to, hi = to;

	if (src != NULL) {
		uint64_t total = term_scrollback_total(src);
		uint64_t kept = total - (uint64_t)term_scrollback_count(src);
		lo = kept < from ? from : kept > to ? to : kept;
		hi = total < lo ? lo : total > to ? to : total;
	}
	uint64_t gap = lo - from;
	for (uint64_t n = lo; n < hi; n++) {
		int width;
		bool wrapped;
		line.len = 0;
		if (term_history_line(src, n, &line, &width, &wrapped) != TERM_OK ||
		    line.failed || line.len > SYNC_HIST_LINE_MAX) {
			gap++;
			continue;
		}
		put_gap(body, &gap, entries);
		ssp_put_u8(body, wrapped ? SYNC_HIST_WRAPPED : SYNC_HIST_LINE);
		ssp_put_varint(body, (uint64_t)width);
		ssp_put_varint(body, line.len);
		ssp_put_bytes(body, line.data, line.len);
		(*entries)++;
	}
	gap += to - hi;
	put_gap(body, &gap, entries);
	term_buf_free(&line);
}

/* The history part of the diff from `from` to `to`: a clear, if `to` has
 * one more, and the lines since. */
static int hist_diff(const struct sync_termstate *from, const struct sync_termstate *to,
                     struct ssp_writer *w)
{
	struct ssp_writer body = { 0 };
	uint64_t entries = 0, start = from->hist_total;

	if (to->hist_clears > from->hist_clears) {
		uint64_t at = to->hist_clear_at;
		at = at < start ? start : at > to->hist_total ? to->hist_total : at;
		ssp_put_u8(&body, SYNC_HIST_CLEAR);
		ssp_put_varint(&body, at - start);
		ssp_put_varint(&body, to->hist_clears);
		entries++;
		start = at;
	}
	hist_lines(to->hist_src, start, to->hist_total, &body, &entries);
	ssp_put_varint(w, from->hist_total);
	ssp_put_varint(w, entries);
	ssp_put_bytes(w, body.data, body.len);
	int rc = ssp_writer_status(&body);
	ssp_writer_free(&body);
	return rc;
}

static int ts_diff(const void *pf, const void *pt, struct ssp_writer *w)
{
	const struct sync_termstate *from = pf, *to = pt;
	struct term_buf out = { 0 };
	bool hist = to->hist_total > from->hist_total || to->hist_clears > from->hist_clears;

	ssp_put_varint(w, hist ? DIFF_HISTORY : 0);
	ssp_put_varint(w, to->echo_ack);
	ssp_put_varint(w, (uint64_t)term_frame_cols(to->frame));
	ssp_put_varint(w, (uint64_t)term_frame_rows(to->frame));
	if (hist) {
		int rc = hist_diff(from, to, w);
		if (rc != SSP_OK)
			return rc;
	}
	term_render(from->frame, to->frame, &out);
	if (out.failed) {
		term_buf_free(&out);
		return SSP_ENOMEM;
	}
	ssp_put_bytes(w, out.data, out.len);
	term_buf_free(&out);
	return ssp_writer_status(w);
}

/* The history part of a diff, appended to s's entries; s's count must be
 * the diff's `from`. */
static int hist_apply(struct sync_termstate *s, struct ssp_reader *r)
{
	uint64_t from, entries;

	if (ssp_get_varint(r, &from) != SSP_OK || ssp_get_varint(r, &entries) != SSP_OK ||
	    from != s->hist_total || entries > ssp_reader_left(r) / 2 ||
	    entries > SYNC_HIST_MAX_ENTRIES - s->hist_n)
		return SSP_EMALFORMED;
	for (uint64_t i = 0; i < entries; i++) {
		struct sync_hist_entry e = { 0 };
		uint64_t a, b;
		const uint8_t *bytes;
		if (ssp_get_u8(r, &e.kind) != SSP_OK)
			return SSP_EMALFORMED;
		if (e.kind == SYNC_HIST_GAP) {
			if (ssp_get_varint(r, &e.count) != SSP_OK || e.count == 0 ||
			    e.count > (1ull << 48))
				return SSP_EMALFORMED;
		} else if (e.kind == SYNC_HIST_CLEAR) {
			if (ssp_get_varint(r, &e.count) != SSP_OK || e.count > (1ull << 48) ||
			    ssp_get_varint(r, &e.clears) != SSP_OK || e.clears <= s->hist_clears)
				return SSP_EMALFORMED;
		} else if (e.kind == SYNC_HIST_LINE || e.kind == SYNC_HIST_WRAPPED) {
			if (ssp_get_varint(r, &a) != SSP_OK || a > 2 * TERM_MAX_COLS ||
			    ssp_get_varint(r, &b) != SSP_OK || b > SYNC_HIST_LINE_MAX ||
			    ssp_get_bytes(r, (size_t)b, &bytes) != SSP_OK)
				return SSP_EMALFORMED;
			e.width = (uint32_t)a;
			e.count = 1;
			e.len = (size_t)b;
			if (e.len > 0) {
				if ((e.bytes = malloc(e.len)) == NULL)
					return SSP_ENOMEM;
				memcpy(e.bytes, bytes, e.len);
			}
		} else {
			return SSP_EMALFORMED;
		}
		if (!hist_push(s, e))
			return SSP_ENOMEM;
		s->hist_total += e.count;
		if (e.kind == SYNC_HIST_CLEAR) {
			s->hist_clears = e.clears;
			s->hist_clear_at = s->hist_total;
		}
	}
	return SSP_OK;
}

static int ts_apply(void *p, const uint8_t *diff, size_t len)
{
	struct sync_termstate *s = p;
	struct ssp_reader r;
	uint64_t flags, ack, cols, rows;
	const uint8_t *bytes;

	ssp_reader_init(&r, diff, len);
	if (ssp_get_varint(&r, &flags) != SSP_OK || (flags & ~(uint64_t)DIFF_HISTORY) != 0 ||
	    ssp_get_varint(&r, &ack) != SSP_OK ||
	    ssp_get_varint(&r, &cols) != SSP_OK ||
	    ssp_get_varint(&r, &rows) != SSP_OK ||
	    cols == 0 || rows == 0 || cols > TERM_MAX_COLS || rows > TERM_MAX_ROWS)
		return SSP_EMALFORMED;
	if (flags & DIFF_HISTORY) {
		int rc = hist_apply(s, &r);
		if (rc != SSP_OK)
			return rc;
	}
	size_t n = ssp_reader_left(&r);
	ssp_get_bytes(&r, n, &bytes);
	struct term *t = term_from_frame(s->frame);
	if (t == NULL)
		return SSP_ENOMEM;
	/* A new size comes with a full repaint: resize first, then draw. */
	if (term_resize(t, (int)cols, (int)rows) != TERM_OK) {
		term_free(t);
		return SSP_ENOMEM;
	}
	term_write(t, bytes, n);
	struct term_frame *f = term_frame_copy(term_frame(t));
	term_free(t);
	if (f == NULL)
		return SSP_ENOMEM;
	term_frame_free(s->frame);
	s->frame = f;
	s->echo_ack = ack;
	return SSP_OK;
}

static bool ts_equal(const void *pa, const void *pb)
{
	const struct sync_termstate *a = pa, *b = pb;
	return a->echo_ack == b->echo_ack && a->hist_total == b->hist_total &&
	       a->hist_clears == b->hist_clears &&
	       term_frame_equal(a->frame, b->frame, NULL, 0);
}

/* New history lines: the server sends more once they are acknowledged. */
static bool ts_ack_soon(const void *older, const void *s)
{
	return ((const struct sync_termstate *)s)->hist_total >
	       ((const struct sync_termstate *)older)->hist_total;
}

/* The receiver consumed the history below number i. */
static void ts_forget(void *p, uint64_t i)
{
	struct sync_termstate *s = p;
	size_t k = 0;

	while (k < s->hist_n && s->hist_base + s->hist[k].count <= i) {
		s->hist_base += s->hist[k].count;
		free(s->hist[k].bytes);
		k++;
	}
	if (k == 0)
		return;
	memmove(s->hist, s->hist + k, (s->hist_n - k) * sizeof *s->hist);
	s->hist_n -= k;
}

const struct ssp_state_ops sync_termstate_ops = {
	.name = "terminal",
	.copy = ts_copy,
	.free = ts_free,
	.diff = ts_diff,
	.apply = ts_apply,
	.equal = ts_equal,
	.subtract = NULL,
	.forget = ts_forget,
	.ack_soon = ts_ack_soon,
};
