/*
 * The pen (pen.c): what SGR sequences do to it.
 */
#ifndef MOSHI_TERM_PEN_H
#define MOSHI_TERM_PEN_H

#include "internal.h"

/* What each SGR value does, indexed by the value + 1 (index 0 is an
 * omitted parameter, which means 0), up to 107; SGR_NONE for larger ones.
 * A table rather than a switch: one lookup and no jump per parameter.
 * Entries left out do nothing. */
struct sgr_op {
	uint32_t fg, fgset;    /* fg becomes (fg_before & ~fgset) | fg */
	uint32_t bg, bgset;
	uint16_t set, clear;   /* attribute bits */
	bool extended;         /* 38, 48, 58: a colour in the next parameters */
};

#define SGR_NONE 109
extern const struct sgr_op pen_sgr_ops[SGR_NONE + 1];

/* The entry for a parameter value (-1 when omitted). */
static inline const struct sgr_op *pen_sgr_op(int v)
{
	return &pen_sgr_ops[(unsigned)(v + 1) < SGR_NONE ? v + 1 : SGR_NONE];
}

static inline void pen_apply(struct term_pen *p, const struct sgr_op *o)
{
	p->fg = (p->fg & ~o->fgset) | o->fg;
	p->bg = (p->bg & ~o->bgset) | o->bg;
	p->attr = (uint16_t)((p->attr & ~o->clear) | o->set);
}

/* The SGR in s (a parsed sequence) applied to t's pen. */
void pen_sgr(struct term *t, const struct term_seq *s);

/* The SGR whose parameters are [p, fin), its 'm' at fin and its bytes up
 * to end in the buffer, applied to the pen without a struct term_seq:
 * false, with the pen unchanged, for a form only pen_sgr reads. */
bool pen_sgr_bytes(struct term *t, const uint8_t *p, const uint8_t *fin,
                   const uint8_t *end);

/* The SGR whose parameters (digits, ':' and ';', checked by the caller)
 * start at p, applied to the pen whatever its form; returns its 'm'. */
const uint8_t *pen_sgr_at(struct term *t, const uint8_t *p, const uint8_t *end);

#endif
