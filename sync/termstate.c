/*
 * The terminal state: the screen and its echo-ack, server to client
 * (sync.h).
 *
 * Diff: varint flags | varint echo_ack | varint cols | varint rows |
 *       renderer bytes
 *   flags is 0; a set bit is reserved for parts to come (the lines that
 *   scrolled off), sent ahead of the renderer bytes.
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

static void ts_free(void *p)
{
	struct sync_termstate *s = p;
	if (s == NULL)
		return;
	term_frame_free(s->frame);
	free(s);
}

static void *ts_copy(const void *p)
{
	const struct sync_termstate *s = p;
	return sync_termstate_from_frame(s->frame, s->echo_ack);
}

static int ts_diff(const void *pf, const void *pt, struct ssp_writer *w)
{
	const struct sync_termstate *from = pf, *to = pt;
	struct term_buf out = { 0 };

	ssp_put_varint(w, 0); /* flags */
	ssp_put_varint(w, to->echo_ack);
	ssp_put_varint(w, (uint64_t)term_frame_cols(to->frame));
	ssp_put_varint(w, (uint64_t)term_frame_rows(to->frame));
	term_render(from->frame, to->frame, &out);
	if (out.failed) {
		term_buf_free(&out);
		return SSP_ENOMEM;
	}
	ssp_put_bytes(w, out.data, out.len);
	term_buf_free(&out);
	return ssp_writer_status(w);
}

static int ts_apply(void *p, const uint8_t *diff, size_t len)
{
	struct sync_termstate *s = p;
	struct ssp_reader r;
	uint64_t flags, ack, cols, rows;
	const uint8_t *bytes;

	ssp_reader_init(&r, diff, len);
	if (ssp_get_varint(&r, &flags) != SSP_OK || flags != 0 ||
	    ssp_get_varint(&r, &ack) != SSP_OK ||
	    ssp_get_varint(&r, &cols) != SSP_OK ||
	    ssp_get_varint(&r, &rows) != SSP_OK ||
	    cols == 0 || rows == 0 || cols > TERM_MAX_COLS || rows > TERM_MAX_ROWS)
		return SSP_EMALFORMED;
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
	return a->echo_ack == b->echo_ack &&
	       term_frame_equal(a->frame, b->frame, NULL, 0);
}

const struct ssp_state_ops sync_termstate_ops = {
	.name = "terminal",
	.copy = ts_copy,
	.free = ts_free,
	.diff = ts_diff,
	.apply = ts_apply,
	.equal = ts_equal,
	.subtract = NULL,
};
