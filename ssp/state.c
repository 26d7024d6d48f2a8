/*
 * The two state objects: the user stream and the terminal state.
 *
 * User stream diff:   varint count | count events
 *   event:            u8 type | (bytes: varint len | bytes)
 *                             | (resize: varint cols | varint rows)
 * Terminal diff:      varint flags | varint echo_ack | varint cols |
 *                     varint rows | renderer bytes
 *   flags is 0 today; a bit is reserved for the scrollback lines a later
 *   version sends ahead of the renderer bytes.
 */
#include "ssp.h"

#include <stdlib.h>
#include <string.h>

#include "../term/term.h"

/* ---- user stream ------------------------------------------------------ */

struct user_event {
	uint8_t type;
	uint16_t cols, rows;
	size_t len;
	uint8_t *bytes;
};

struct ssp_userstream {
	uint64_t base;            /* index of ev[0] */
	struct user_event *ev;
	size_t n, cap;
};

struct ssp_userstream *ssp_userstream_new(void)
{
	return calloc(1, sizeof(struct ssp_userstream));
}

static void us_free(void *p)
{
	struct ssp_userstream *u = p;
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->n; i++)
		free(u->ev[i].bytes);
	free(u->ev);
	free(u);
}

static int us_append(struct ssp_userstream *u, const struct user_event *e,
                     const void *bytes)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct user_event *ev = realloc(u->ev, cap * sizeof *ev);
		if (ev == NULL)
			return SSP_ENOMEM;
		u->ev = ev;
		u->cap = cap;
	}
	struct user_event *d = &u->ev[u->n];
	*d = *e;
	d->bytes = NULL;
	if (e->type == SSP_USER_BYTES) {
		d->bytes = malloc(e->len ? e->len : 1);
		if (d->bytes == NULL)
			return SSP_ENOMEM;
		memcpy(d->bytes, bytes, e->len);
	}
	u->n++;
	return SSP_OK;
}

int ssp_userstream_push_bytes(struct ssp_userstream *u, const void *b, size_t n)
{
	struct user_event e = { SSP_USER_BYTES, 0, 0, n, NULL };
	if (n == 0)
		return SSP_OK;
	if (n > SSP_USER_EVENT_MAX)
		return SSP_ETOOBIG;
	return us_append(u, &e, b);
}

int ssp_userstream_push_resize(struct ssp_userstream *u, int cols, int rows)
{
	struct user_event e = { SSP_USER_RESIZE, (uint16_t)cols, (uint16_t)rows, 0, NULL };
	if (cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535)
		return SSP_EINVAL;
	return us_append(u, &e, NULL);
}

uint64_t ssp_userstream_total(const struct ssp_userstream *u)
{
	return u->base + u->n;
}

size_t ssp_userstream_pending(const struct ssp_userstream *u,
                              const struct ssp_userstream *older)
{
	size_t n = 0;
	uint64_t from = ssp_userstream_total(older);
	if (from < u->base)
		from = u->base;
	for (uint64_t i = from; i < u->base + u->n; i++)
		n += u->ev[i - u->base].len + 4;
	return n;
}

int ssp_userstream_get(const struct ssp_userstream *u, uint64_t i,
                       struct ssp_user_event *ev)
{
	if (i < u->base || i >= u->base + u->n)
		return 0;
	const struct user_event *e = &u->ev[i - u->base];
	ev->type = e->type;
	ev->bytes = e->bytes;
	ev->len = e->len;
	ev->cols = e->cols;
	ev->rows = e->rows;
	return 1;
}

void ssp_userstream_forget(struct ssp_userstream *u, uint64_t i)
{
	if (i <= u->base)
		return;
	size_t k = i - u->base > u->n ? u->n : (size_t)(i - u->base);
	if (k == 0)
		return; /* nothing held (ev may be NULL) */
	for (size_t j = 0; j < k; j++)
		free(u->ev[j].bytes);
	memmove(u->ev, u->ev + k, (u->n - k) * sizeof *u->ev);
	u->n -= k;
	u->base += k;
}

static void *us_copy(const void *p)
{
	const struct ssp_userstream *u = p;
	struct ssp_userstream *c = ssp_userstream_new();
	if (c == NULL)
		return NULL;
	c->base = u->base;
	for (size_t i = 0; i < u->n; i++) {
		if (us_append(c, &u->ev[i], u->ev[i].bytes) != SSP_OK) {
			us_free(c);
			return NULL;
		}
	}
	return c;
}

static int us_diff(const void *pf, const void *pt, struct ssp_writer *w)
{
	const struct ssp_userstream *from = pf, *to = pt;
	uint64_t start = ssp_userstream_total(from);

	/* `to` must extend `from` and still hold what `from` lacks. */
	if (start > ssp_userstream_total(to) || start < to->base)
		return SSP_EINVAL;
	ssp_put_varint(w, ssp_userstream_total(to) - start);
	for (uint64_t i = start; i < ssp_userstream_total(to); i++) {
		const struct user_event *e = &to->ev[i - to->base];
		ssp_put_u8(w, e->type);
		if (e->type == SSP_USER_BYTES) {
			ssp_put_varint(w, e->len);
			ssp_put_bytes(w, e->bytes, e->len);
		} else {
			ssp_put_varint(w, e->cols);
			ssp_put_varint(w, e->rows);
		}
	}
	return ssp_writer_status(w);
}

static int us_apply(void *p, const uint8_t *diff, size_t len)
{
	struct ssp_userstream *u = p;
	struct ssp_reader r;
	uint64_t count;

	ssp_reader_init(&r, diff, len);
	if (ssp_get_varint(&r, &count) != SSP_OK)
		return SSP_EMALFORMED;
	/* Each event takes at least two bytes: a cheap bound on count. */
	if (count > ssp_reader_left(&r) / 2)
		return SSP_EMALFORMED;
	for (uint64_t i = 0; i < count; i++) {
		struct user_event e = { 0, 0, 0, 0, NULL };
		uint64_t a, b;
		const uint8_t *bytes = NULL;
		if (ssp_get_u8(&r, &e.type) != SSP_OK)
			return SSP_EMALFORMED;
		if (e.type == SSP_USER_BYTES) {
			if (ssp_get_varint(&r, &a) != SSP_OK || a == 0 ||
			    a > SSP_USER_EVENT_MAX ||
			    ssp_get_bytes(&r, (size_t)a, &bytes) != SSP_OK)
				return SSP_EMALFORMED;
			e.len = (size_t)a;
		} else if (e.type == SSP_USER_RESIZE) {
			if (ssp_get_varint(&r, &a) != SSP_OK ||
			    ssp_get_varint(&r, &b) != SSP_OK ||
			    a == 0 || b == 0 || a > 65535 || b > 65535)
				return SSP_EMALFORMED;
			e.cols = (uint16_t)a;
			e.rows = (uint16_t)b;
		} else {
			return SSP_EMALFORMED;
		}
		int rc = us_append(u, &e, bytes);
		if (rc != SSP_OK)
			return rc;
	}
	return ssp_reader_left(&r) == 0 ? SSP_OK : SSP_EMALFORMED;
}

static bool us_equal(const void *a, const void *b)
{
	/* States of one stream only grow: the same length, the same state. */
	return ssp_userstream_total(a) == ssp_userstream_total(b);
}

static void us_subtract(void *s, const void *acked)
{
	ssp_userstream_forget(s, ssp_userstream_total(acked));
}

const struct ssp_state_ops ssp_userstream_ops = {
	.name = "user stream",
	.copy = us_copy,
	.free = us_free,
	.diff = us_diff,
	.apply = us_apply,
	.equal = us_equal,
	.subtract = us_subtract,
	.stream = true,
};

/* ---- terminal state --------------------------------------------------- */

struct ssp_termstate *ssp_termstate_from_frame(const struct term_frame *f,
                                               uint64_t echo_ack)
{
	struct ssp_termstate *s = calloc(1, sizeof *s);
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

struct ssp_termstate *ssp_termstate_new(int cols, int rows)
{
	struct term *t = term_new(cols, rows);
	struct ssp_termstate *s = NULL;
	if (t != NULL)
		s = ssp_termstate_from_frame(term_frame(t), 0);
	term_free(t);
	return s;
}

static void ts_free(void *p)
{
	struct ssp_termstate *s = p;
	if (s == NULL)
		return;
	term_frame_free(s->frame);
	free(s);
}

static void *ts_copy(const void *p)
{
	const struct ssp_termstate *s = p;
	return ssp_termstate_from_frame(s->frame, s->echo_ack);
}

static int ts_diff(const void *pf, const void *pt, struct ssp_writer *w)
{
	const struct ssp_termstate *from = pf, *to = pt;
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
	struct ssp_termstate *s = p;
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
	const struct ssp_termstate *a = pa, *b = pb;
	return a->echo_ack == b->echo_ack &&
	       term_frame_equal(a->frame, b->frame, NULL, 0);
}

const struct ssp_state_ops ssp_termstate_ops = {
	.name = "terminal",
	.copy = ts_copy,
	.free = ts_free,
	.diff = ts_diff,
	.apply = ts_apply,
	.equal = ts_equal,
	.subtract = NULL,
};
