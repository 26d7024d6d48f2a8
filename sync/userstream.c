/*
 * The user stream: keystrokes and resizes, client to server (sync.h).
 *
 * Diff:    varint count | count events
 *   event: u8 type | (bytes, terminal: varint len | bytes)
 *                  | (resize: varint cols | varint rows)
 * A terminal event's bytes are a struct sync_terminal (sync.h).
 */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

struct user_event {
	uint8_t type;
	uint16_t cols, rows;
	size_t len;
	uint8_t *bytes;
};

struct sync_userstream {
	uint64_t base;            /* index of ev[0] */
	struct user_event *ev;
	size_t n, cap;
};

struct sync_userstream *sync_userstream_new(void)
{
	return calloc(1, sizeof(struct sync_userstream));
}

static void us_free(void *p)
{
	struct sync_userstream *u = p;
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->n; i++)
		free(u->ev[i].bytes);
	free(u->ev);
	free(u);
}

static int us_append(struct sync_userstream *u, const struct user_event *e,
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
	if (e->type != SYNC_USER_RESIZE) {
		d->bytes = malloc(e->len ? e->len : 1);
		if (d->bytes == NULL)
			return SSP_ENOMEM;
		memcpy(d->bytes, bytes, e->len);
	}
	u->n++;
	return SSP_OK;
}

int sync_userstream_push_bytes(struct sync_userstream *u, const void *b, size_t n)
{
	struct user_event e = { SYNC_USER_BYTES, 0, 0, n, NULL };
	if (n == 0)
		return SSP_OK;
	if (n > SYNC_USER_EVENT_MAX)
		return SSP_ETOOBIG;
	return us_append(u, &e, b);
}

int sync_terminal_encode(const struct sync_terminal *t, struct ssp_writer *w)
{
	uint64_t n = 0;

	for (int i = 0; i < SYNC_COLOURS; i++)
		n += (t->colour[i] & SYNC_COLOUR_KNOWN) != 0;
	ssp_put_varint(w, n);
	for (int i = 0; i < SYNC_COLOURS; i++) {
		uint32_t c = t->colour[i];
		if (!(c & SYNC_COLOUR_KNOWN))
			continue;
		ssp_put_varint(w, (uint64_t)i);
		ssp_put_u8(w, (uint8_t)(c >> 16));
		ssp_put_u8(w, (uint8_t)(c >> 8));
		ssp_put_u8(w, (uint8_t)c);
	}
	ssp_put_varint(w, t->keys);
	return ssp_writer_status(w);
}

int sync_terminal_decode(struct sync_terminal *t, const uint8_t *b, size_t n)
{
	struct ssp_reader r;
	uint64_t count, keys;

	memset(t, 0, sizeof *t);
	ssp_reader_init(&r, b, n);
	if (ssp_get_varint(&r, &count) != SSP_OK || count > SYNC_COLOURS)
		return SSP_EMALFORMED;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t which;
		uint8_t rgb[3];
		if (ssp_get_varint(&r, &which) != SSP_OK || which >= SYNC_COLOURS ||
		    ssp_get_u8(&r, &rgb[0]) != SSP_OK || ssp_get_u8(&r, &rgb[1]) != SSP_OK ||
		    ssp_get_u8(&r, &rgb[2]) != SSP_OK)
			return SSP_EMALFORMED;
		t->colour[which] = SYNC_COLOUR_KNOWN | (uint32_t)rgb[0] << 16 |
		                   (uint32_t)rgb[1] << 8 | rgb[2];
	}
	if (ssp_get_varint(&r, &keys) != SSP_OK || keys > 0xff)
		return SSP_EMALFORMED;
	t->keys = (unsigned)keys;
	return ssp_reader_left(&r) == 0 ? SSP_OK : SSP_EMALFORMED;
}

int sync_userstream_push_terminal(struct sync_userstream *u,
                                  const struct sync_terminal *t)
{
	struct ssp_writer w = { 0 };
	struct user_event e = { SYNC_USER_TERMINAL, 0, 0, 0, NULL };
	int rc = sync_terminal_encode(t, &w);
	if (rc == SSP_OK) {
		e.len = w.len;
		rc = us_append(u, &e, w.data);
	}
	ssp_writer_free(&w);
	return rc;
}

int sync_userstream_push_resize(struct sync_userstream *u, int cols, int rows)
{
	struct user_event e = { SYNC_USER_RESIZE, (uint16_t)cols, (uint16_t)rows, 0, NULL };
	if (cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535)
		return SSP_EINVAL;
	return us_append(u, &e, NULL);
}

uint64_t sync_userstream_total(const struct sync_userstream *u)
{
	return u->base + u->n;
}

size_t sync_userstream_pending(const struct sync_userstream *u,
                              const struct sync_userstream *older)
{
	size_t n = 0;
	uint64_t from = sync_userstream_total(older);
	if (from < u->base)
		from = u->base;
	for (uint64_t i = from; i < u->base + u->n; i++)
		n += u->ev[i - u->base].len + 4;
	return n;
}

int sync_userstream_get(const struct sync_userstream *u, uint64_t i,
                       struct sync_user_event *ev)
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

void sync_userstream_forget(struct sync_userstream *u, uint64_t i)
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
	const struct sync_userstream *u = p;
	struct sync_userstream *c = sync_userstream_new();
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
	const struct sync_userstream *from = pf, *to = pt;
	uint64_t start = sync_userstream_total(from);

	/* `to` must extend `from` and still hold what `from` lacks. */
	if (start > sync_userstream_total(to) || start < to->base)
		return SSP_EINVAL;
	ssp_put_varint(w, sync_userstream_total(to) - start);
	for (uint64_t i = start; i < sync_userstream_total(to); i++) {
		const struct user_event *e = &to->ev[i - to->base];
		ssp_put_u8(w, e->type);
		if (e->type != SYNC_USER_RESIZE) {
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
	struct sync_userstream *u = p;
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
		if (e.type == SYNC_USER_BYTES || e.type == SYNC_USER_TERMINAL) {
			if (ssp_get_varint(&r, &a) != SSP_OK || a == 0 ||
			    a > SYNC_USER_EVENT_MAX ||
			    ssp_get_bytes(&r, (size_t)a, &bytes) != SSP_OK)
				return SSP_EMALFORMED;
			e.len = (size_t)a;
		} else if (e.type == SYNC_USER_RESIZE) {
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
	return sync_userstream_total(a) == sync_userstream_total(b);
}

static void us_subtract(void *s, const void *acked)
{
	sync_userstream_forget(s, sync_userstream_total(acked));
}

static void us_forget(void *s, uint64_t i)
{
	sync_userstream_forget(s, i);
}

const struct ssp_state_ops sync_userstream_ops = {
	.name = "user stream",
	.copy = us_copy,
	.free = us_free,
	.diff = us_diff,
	.apply = us_apply,
	.equal = us_equal,
	.subtract = us_subtract,
	.forget = us_forget,
	.stream = true,
};

