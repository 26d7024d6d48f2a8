/*
 * Lines kept as bytes (flood.c): in a flood, lines that scroll off within
 * one write are kept as their bytes and made into cells only when read.
 */
#ifndef MOSHI_TERM_FLOOD_H
#define MOSHI_TERM_FLOOD_H

#include "screen.h"

/* Bytes flood_lines may read from a block's start: the block's 64, the
 * LF after a CR in its last byte, and the last 16-byte copy of a line
 * that ends there (from a CR at 63, to 78). */
#define FLOOD_ROOM 80

/* Whether a line feed just done may start lines kept as bytes: the state
 * flood.c's opening comment asks for, and a try not put off by misses. */
static inline bool flood_ready(struct term *t, const uint8_t *s, const uint8_t *end)
{
	const struct term_frame *f = t->f;

	if (t->flood_off || end - s < FLOOD_ROOM || f->cx != 0 || f->cy != f->rows - 1 ||
	    t->top != 0 || t->bottom != f->rows - 1 || f->wrap_pending ||
	    screen_alt_active(t) || !screen_plain_print(t) || t->pen.link != 0)
		return false;
	const struct term_row *r = f->row[f->cy];
	if (r->len != 0 || r->nclusters != 0)
		return false;
	if (t->flood_skip > 0) {
		t->flood_skip--;
		return false;
	}
	return true;
}

/* Lines at s, while they qualify, each kept as bytes; returns the byte
 * after the last (s when none did). */
const uint8_t *flood_lines(struct term *t, const uint8_t *s, const uint8_t *end);

/* Make row r's cells from the bytes it keeps (r->flood_len > 0). */
void flood_replay(struct term *t, struct term_row *r);

#endif
