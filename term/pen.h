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
	uint32_t ul, ulset;    /* the underline colour, so */
	uint16_t set, clear;   /* attribute bits */
	bool extended;         /* 38, 48, 58: a colour in the next parameters */
};

#define SGR_NONE 109
/* In the header, not pen.c, so that a constant entry (SGR 0 in the
 * ground loop) folds into its values. */
#define ATTR_ON(v, bits) [(v) + 1] = { .set = (bits) }
#define ATTR_OFF(v, bits) [(v) + 1] = { .clear = (bits) }
#define FG(v, c) [(v) + 1] = { .fg = (c), .fgset = ~0u }
#define BG(v, c) [(v) + 1] = { .bg = (c), .bgset = ~0u }
#define EIGHT(M, v, i) M(v, TERM_COLOR_INDEXED(i)), M(v + 1, TERM_COLOR_INDEXED(i + 1)), \
	M(v + 2, TERM_COLOR_INDEXED(i + 2)), M(v + 3, TERM_COLOR_INDEXED(i + 3)), \
	M(v + 4, TERM_COLOR_INDEXED(i + 4)), M(v + 5, TERM_COLOR_INDEXED(i + 5)), \
	M(v + 6, TERM_COLOR_INDEXED(i + 6)), M(v + 7, TERM_COLOR_INDEXED(i + 7))
#define RESET { .fgset = ~0u, .bgset = ~0u, .ulset = ~0u, .clear = 0xffff }
/* An underline of a style: any other style goes. */
#define UNDERLINE(v, style) [(v) + 1] = { .set = TERM_ATTR_UNDERLINE | \
	TERM_ATTR_UL(style), .clear = TERM_ATTR_UL_STYLE }

static const struct sgr_op pen_sgr_ops[SGR_NONE + 1] = {
	[0] = RESET, [1] = RESET,
	ATTR_ON(1, TERM_ATTR_BOLD), ATTR_ON(2, TERM_ATTR_DIM),
	ATTR_ON(3, TERM_ATTR_ITALIC), UNDERLINE(4, TERM_UL_PLAIN),
	ATTR_ON(5, TERM_ATTR_BLINK), ATTR_ON(6, TERM_ATTR_BLINK),
	ATTR_ON(7, TERM_ATTR_INVERSE), ATTR_ON(8, TERM_ATTR_INVISIBLE),
	ATTR_ON(9, TERM_ATTR_STRIKE),
	UNDERLINE(21, TERM_UL_DOUBLE_21),
	ATTR_OFF(22, TERM_ATTR_BOLD | TERM_ATTR_DIM), ATTR_OFF(23, TERM_ATTR_ITALIC),
	ATTR_OFF(24, TERM_ATTR_UNDERLINE | TERM_ATTR_UL_STYLE),
	ATTR_OFF(25, TERM_ATTR_BLINK),
	ATTR_OFF(27, TERM_ATTR_INVERSE), ATTR_OFF(28, TERM_ATTR_INVISIBLE),
	ATTR_OFF(29, TERM_ATTR_STRIKE),
	EIGHT(FG, 30, 0), FG(39, 0), EIGHT(BG, 40, 0), BG(49, 0),
	EIGHT(FG, 90, 8), EIGHT(BG, 100, 8),
	[38 + 1] = { .extended = true }, [48 + 1] = { .extended = true },
	[58 + 1] = { .extended = true }, [59 + 1] = { .ulset = ~0u },
};

#undef ATTR_ON
#undef ATTR_OFF
#undef FG
#undef BG
#undef EIGHT
#undef RESET
#undef UNDERLINE

/* The entry for a parameter value (-1 when omitted). */
static inline const struct sgr_op *pen_sgr_op(int v)
{
	return &pen_sgr_ops[(unsigned)(v + 1) < SGR_NONE ? v + 1 : SGR_NONE];
}

static inline void pen_apply(struct term_pen *p, const struct sgr_op *o)
{
	p->fg = (p->fg & ~o->fgset) | o->fg;
	p->bg = (p->bg & ~o->bgset) | o->bg;
	p->ul = (p->ul & ~o->ulset) | o->ul;
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
