/*
 * The pen: everything SGR does. What each value does is decided in one
 * place, the table pen_sgr_ops (pen.h) with sgr_colour_value and
 * sgr_colour_op for the extended colours. Three readers turn bytes into
 * those decisions:
 *  - pen_sgr reads a parsed sequence (struct term_seq): the tables' path,
 *    and the only one for ':' forms;
 *  - sgr_compile reads the bytes of an SGR of ';'-separated numbers into
 *    one op, and sgr_rgb reads a true colour SGR with SIMD loads: the
 *    ground loop's twins of pen_sgr, kept for speed (pen_sgr_bytes, with
 *    a memo of recent SGRs). tests/term_chunks_test.c feeds the same
 *    bytes both ways and compares.
 */
#include "pen.h"

#include "scan.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The colour 38 or 48 names by kind 5 (palette index v[0]) or kind 2
 * (red, green and blue in v[0..2], omitted ones 0); false when it is
 * malformed: an index omitted or past 255, a component past 255, another
 * kind. Both readers of SGR (sgr_color, sgr_compile) decide here. */
static inline bool sgr_colour_value(int kind, const int32_t *v, uint32_t *out)
{
	if (kind == 5 && v[0] >= 0 && v[0] <= 255) {
		*out = TERM_COLOR_PALETTE(v[0]);
		return true;
	}
	if (kind == 2 && v[0] <= 255 && v[1] <= 255 && v[2] <= 255) {
		*out = TERM_COLOR_RGB(v[0] < 0 ? 0 : v[0], v[1] < 0 ? 0 : v[1],
		                      v[2] < 0 ? 0 : v[2]);
		return true;
	}
	return false;
}

/* An extended colour starting at param i (38/48): "5;n", "2;r;g;b" and
 * their colon forms "5:n", "2::r:g:b", "2:r:g:b". Returns the index of the
 * last parameter it used; *ok is false when the colour is malformed. */
static int sgr_color(const struct term_seq *s, int i, uint32_t *out, bool *ok)
{
	bool colon = i + 1 < s->nparam && (s->sub >> (i + 1) & 1);
	int n = s->nparam;
	int kind = i + 1 < n ? s->param[i + 1] : -1;

	*ok = false;
	if (colon) {
		/* Sub-parameters belong to this attribute alone. */
		int last = i + 1;
		while (last + 1 < n && (s->sub >> (last + 1) & 1))
			last++;
		int cnt = last - i; /* values after 38 */
		if (kind == 5 && cnt >= 2)
			*ok = sgr_colour_value(5, &s->param[i + 2], out);
		else if (kind == 2 && cnt >= 4)
			/* 2:r:g:b, or 2:cs:r:g:b with a colour space id. */
			*ok = sgr_colour_value(2, &s->param[cnt >= 5 ? i + 3 : i + 2], out);
		return last;
	}
	if (kind == 5) {
		if (i + 2 < n)
			*ok = sgr_colour_value(5, &s->param[i + 2], out);
		return i + 2;
	}
	if (kind == 2) {
		if (i + 4 < n)
			*ok = sgr_colour_value(2, &s->param[i + 2], out);
		return i + 4;
	}
	return i + 1;
}

/* What 38, 48 or 58 (v) with the colour it named does; semi says the
 * colour came in the ';' form (which the underline colour remembers). */
static inline struct sgr_op sgr_colour_op(int v, uint32_t c, bool semi)
{
	struct sgr_op o = { 0 };
	if (v == 38)
		o.fg = c, o.fgset = ~0u;
	else if (v == 48)
		o.bg = c, o.bgset = ~0u;
	else if (v == 58)
		o.ul = c | (semi ? TERM_COLOR_SEMICOLON : 0), o.ulset = ~0u;
	return o;
}

void pen_sgr(struct term *t, const struct term_seq *s)
{
	struct term_pen *p = &t->pen;

	if (s->nparam == 0) {
		pen_apply(p, pen_sgr_op(0));
		return;
	}
	for (int i = 0; i < s->nparam; i++) {
		int v = s->param[i];
		const struct sgr_op *o = pen_sgr_op(v);
		uint32_t c;
		bool ok;

		/* Skip sub-parameters of attributes that do not use them. */
		if (s->sub >> i & 1)
			continue;
		if (v == 4 && i + 1 < s->nparam && (s->sub >> (i + 1) & 1)) {
			/* 4:0 is "not underlined"; 4:1..4:5 are styles;
			 * others are ignored. */
			int style = s->param[i + 1];
			if (style == 0)
				p->attr &= (uint16_t)~(TERM_ATTR_UNDERLINE |
				                       TERM_ATTR_UL_STYLE);
			else if (style >= TERM_UL_SINGLE && style <= TERM_UL_DASHED)
				p->attr = (uint16_t)((p->attr & ~TERM_ATTR_UL_STYLE) |
				                     TERM_ATTR_UNDERLINE |
				                     TERM_ATTR_UL(style));
		} else if (o->extended) {
			bool semi = !(i + 1 < s->nparam && (s->sub >> (i + 1) & 1));
			i = sgr_color(s, i, &c, &ok);
			if (ok) {
				struct sgr_op e = sgr_colour_op(v, c, semi);
				pen_apply(p, &e);
			}
		} else {
			pen_apply(p, o);
		}
	}
}

/* Op o after what acc does: one op doing both. Each field's update is
 * "clear these bits, then set those", and two such make one. */
static inline void sgr_then(struct sgr_op *acc, const struct sgr_op *o)
{
	acc->fg = (acc->fg & ~o->fgset) | o->fg;
	acc->fgset |= o->fgset;
	acc->bg = (acc->bg & ~o->bgset) | o->bg;
	acc->bgset |= o->bgset;
	acc->ul = (acc->ul & ~o->ulset) | o->ul;
	acc->ulset |= o->ulset;
	acc->set = (uint16_t)((acc->set & ~o->clear) | o->set);
	acc->clear |= o->clear;
}

/* The SGR parameters [s, fin) made into one op as they are read, without
 * filling a struct term_seq first: applied to a pen, it makes the same
 * changes as pen_sgr() does, for parameters separated by ';' only. Returns
 * false for anything else: the caller goes the general way. */
static bool sgr_compile(struct sgr_op *acc, const uint8_t *s, const uint8_t *fin)
{
	*acc = (struct sgr_op){ 0 };
	/* More than TERM_MAX_PARAMS parameters go to the tables, which drop
	 * those past it. Each but the first follows a ';', so fewer bytes
	 * than TERM_MAX_PARAMS hold few enough; longer ones are counted by
	 * their separators, not their bytes (40 omitted parameters and a 1
	 * are 41 parameters: the tables drop the 1). */
	if (fin - s >= TERM_MAX_PARAMS) {
		int seps = 0;
		for (const uint8_t *q = s; q < fin; q++)
			seps += *q == ';';
		if (seps >= TERM_MAX_PARAMS)
			return false;
	}
	for (;;) {
		int32_t v;
		if ((s = term_csi_number(s, fin, &v)) == NULL)
			return false;
		const struct sgr_op *o = pen_sgr_op(v);
		if (!o->extended) {
			sgr_then(acc, o);
		} else if (s != fin) {
			/* As sgr_color: "5;n" or "2;r;g;b"; another kind
			 * uses up just itself, a short one the rest. */
			int32_t kind, a[3] = { 0, 0, 0 };
			uint32_t c;
			if ((s = term_csi_number(s + 1, fin, &kind)) == NULL)
				return false;
			int want = kind == 5 ? 1 : kind == 2 ? 3 : 0, k;
			for (k = 0; k < want && s != fin; k++)
				if ((s = term_csi_number(s + 1, fin, &a[k])) == NULL)
					return false;
			if (k == want && sgr_colour_value(kind, a, &c)) {
				struct sgr_op e = sgr_colour_op(v, c, true);
				sgr_then(acc, &e);
			}
		}
		if (s == fin)
			break;
		s++;
	}
	return true;
}

#ifdef __SSE2__
/* The value of the l (1 to 3) digits that end at q[2], of an SGR's bytes
 * (all '0' or above: digits, ';', 'm'), from one 4-byte load and no
 * branch on l: the digits are right-aligned in the load's low three
 * bytes, and the bytes before them are masked off. */
static inline int32_t digits_ending(const uint8_t *q, int l)
{
	uint32_t w;
	memcpy(&w, q, 4);
	w = (w - 0x30303030u) & (0xffffffu ^ ((1u << (8 * (3 - l))) - 1));
	return (int32_t)((w & 0xff) * 100 + (w >> 8 & 0xff) * 10 + (w >> 16 & 0xff));
}

/*
 * The true colour SGR "38;2;r;g;b" or "48;2;r;g;b" (r, g and b of one to
 * three digits) at p, its 'm' at fin: its shape from one 16-byte load, its
 * numbers from a 4-byte load each, with no branch on their lengths. Those
 * are random in colour output (syntax highlighters, diff tools), and in
 * term_csi_number's loop they cost a misprediction a number. The caller has 16
 * bytes at p and fin - p <= 16. False for any other form, which
 * sgr_compile reads; the op made is the one sgr_compile makes.
 */
static bool sgr_rgb(struct sgr_op *op, const uint8_t *p, const uint8_t *fin)
{
	int n = (int)(fin - p);
	if (n < 11 || (p[0] != '3' && p[0] != '4') || p[1] != '8' || p[3] != '2')
		return false;
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	uint32_t in = (1u << n) - 1;
	uint32_t semi = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(';'))) & in;
	uint32_t digit = (uint32_t)_mm_movemask_epi8(_mm_and_si128(
		_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		_mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)))) & in;
	if ((semi | digit) != in || (semi & 0x1f) != 0x14)
		return false;
	/* r at byte 5, then g and b after the next two ';' */
	uint32_t rest = semi >> 5;
	if (rest == 0)
		return false;
	int lr = __builtin_ctz(rest);
	uint32_t after = rest >> (lr + 1);
	if (after == 0)
		return false;
	int lg = __builtin_ctz(after);
	int lb = n - 5 - lr - lg - 2;
	if (after >> (lg + 1) != 0 || lr < 1 || lr > 3 || lg < 1 || lg > 3 ||
	    lb < 1 || lb > 3)
		return false;
	/* each number's last digit is before its ';' or the 'm' at fin */
	int32_t rgb[3] = { digits_ending(p + 2 + lr, lr), digits_ending(p + 3 + lr + lg, lg),
	                   digits_ending(fin - 3, lb) };
	uint32_t c;
	*op = (struct sgr_op){ 0 };
	if (sgr_colour_value(2, rgb, &c))
		*op = sgr_colour_op(p[0] == '3' ? 38 : 48, c, true);
	return true;
}

/*
 * Programs repeat a few SGRs over and over (ls, compilers, editors'
 * syntax colours), so what an SGR of ';'-separated parameters does, as
 * one op (sgr_compile), is remembered by its bytes: up to 16 of them,
 * the final 'm' included, zeroed past it. Direct-mapped, 2048 slots (80
 * KB); a new SGR takes its slot. An empty slot's key is all zero, which
 * no SGR's is. The memo is made once an emulator has read SGR_MEMO_AFTER
 * SGRs: the short-lived ones that apply a diff never need it.
 */
#define SGR_MEMO_BITS 11
#define SGR_MEMO_AFTER 2048
struct sgr_memo {
	uint8_t key[16];
	struct sgr_op op;
};

/* Whether t has a memo: it is made at the SGR_MEMO_AFTER-th SGR. */
static bool sgr_memo_ready(struct term *t)
{
	if (t->sgr_memo == NULL && ++t->sgr_seen >= SGR_MEMO_AFTER)
		t->sgr_memo = calloc((size_t)1 << SGR_MEMO_BITS, sizeof *t->sgr_memo);
	return t->sgr_memo != NULL;
}
#endif

/* The op of the SGR [p, fin), its bytes up to end in the buffer: as
 * sgr_compile makes it, the true colour form read by sgr_rgb when 16
 * bytes are there to load (*rgb says which). */
static bool sgr_make(struct sgr_op *op, const uint8_t *p, const uint8_t *fin,
                     const uint8_t *end, bool *rgb)
{
#ifdef __SSE2__
	*rgb = end - p >= 16 && fin - p <= 16 && sgr_rgb(op, p, fin);
	if (*rgb)
		return true;
#else
	(void)end;
	*rgb = false;
#endif
	return sgr_compile(op, p, fin);
}

/* The SGR [p, fin] (its 'm' at fin) applied to the pen: its op from the
 * memo when it is there, else made by sgr_make (into the memo when the
 * SGR fits one). False, with the pen unchanged, when sgr_compile
 * declines it. */
bool pen_sgr_bytes(struct term *t, const uint8_t *p, const uint8_t *fin,
                   const uint8_t *end)
{
	struct sgr_op op;
	bool rgb;

#ifdef __SSE2__
	if (fin - p < 16 && end - p >= 16 && sgr_memo_ready(t)) {
		static const uint8_t index[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		                                   10, 11, 12, 13, 14, 15 };
		__m128i keep = _mm_cmplt_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)index),
			_mm_set1_epi8((char)(fin - p + 1)));
		__m128i key = _mm_and_si128(
			_mm_loadu_si128((const __m128i *)(const void *)p), keep);
		uint64_t lo = (uint64_t)_mm_cvtsi128_si64(key);
		uint64_t hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(key, key));
		uint64_t h = (lo ^ hi * 0x9e3779b97f4a7c15u) * 0xff51afd7ed558ccdu;
		struct sgr_memo *m = &t->sgr_memo[h >> (64 - SGR_MEMO_BITS)];
		__m128i have = _mm_loadu_si128((const __m128i *)(const void *)m->key);
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(have, key)) == 0xffff) {
			pen_apply(&t->pen, &m->op);
			return true;
		}
		if (!sgr_make(&op, p, fin, end, &rgb)) {
			memset(m, 0, sizeof *m);
			return false;
		}
		/* A true colour SGR, quick to read again, takes only an
		 * empty slot or another's: random colours (a gradient, an
		 * image) must not push out the SGRs that sgr_compile reads
		 * more slowly. */
		if (!rgb || m->key[0] == 0 ||
		    (m->key[1] == '8' && m->key[2] == ';' && m->key[3] == '2')) {
			m->op = op;
			_mm_storeu_si128((__m128i *)(void *)m->key, key);
		}
		pen_apply(&t->pen, &op);
		return true;
	}
#endif
	if (!sgr_make(&op, p, fin, end, &rgb))
		return false;
	pen_apply(&t->pen, &op);
	return true;
}

const uint8_t *pen_sgr_at(struct term *t, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *f = p;
	struct term_seq q;

	while (*f != 'm')
		f++;
	if (f == p || (f - p == 1 && *p == '0')) {
		pen_apply(&t->pen, pen_sgr_op(0));
	} else if (!pen_sgr_bytes(t, p, f, end)) {
		term_seq_read(&q, p, f);
		pen_sgr(t, &q);
	}
	return f;
}

