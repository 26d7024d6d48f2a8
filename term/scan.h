/*
 * The byte scanners of the ground state, outside the parser's tables:
 * runs of printable ASCII and whole control sequences, read as the tables
 * would read them (the differential tests feed the same bytes both ways:
 * tests/term_chunks_test.c). Every scanner of term/ but parser.c's tables
 * is here.
 */
#ifndef MOSHI_TERM_SCAN_H
#define MOSHI_TERM_SCAN_H

#include "parser.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The length of the run of printable ASCII (0x20..0x7e) at s, which is
 * at least 1. Sixteen bytes at a time with SSE2, then eight: there a byte
 * is flagged, in its top bit, when that bit is set (>= 0x80), when its
 * low seven bits are below 0x20 (subtracting 0x20 from it with the top
 * bit forced on clears the top bit), or when they are 0x7f (adding 1 sets
 * the top bit). Neither operation can carry or borrow into the next byte,
 * so the lowest flagged byte is the first one outside the run. */
static inline size_t term_ascii_run(const uint8_t *s, const uint8_t *end)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	const uint8_t *q = s;

#ifdef __SSE2__
	/* Sixteen at a time: bytes below 0x20 or from 0x80 up (negative
	 * when signed) compare below 0x20. */
	while (end - q >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i out = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
		                           _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
		unsigned m = (unsigned)_mm_movemask_epi8(out);
		if (m != 0)
			return (size_t)(q - s) + (size_t)__builtin_ctz(m);
		q += 16;
	}
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - q >= 8) {
		uint64_t x;
		__builtin_memcpy(&x, q, 8);
		uint64_t flags = (x | ~((x | high) - ones * 0x20) |
		                  ((x & ~high) + ones)) & high;
		if (flags != 0)
			return (size_t)(q - s) + (size_t)(__builtin_ctzll(flags) >> 3);
		q += 8;
	}
#else
	(void)ones;
	(void)high;
#endif
	while (q < end && *q >= 0x20 && *q < 0x7f)
		q++;
	return (size_t)(q - s);
}

/* A whole control sequence "ESC [ ...": s points past the "ESC [". Fills
 * *q as the tables would for the same bytes and returns the byte after
 * the final one. Anything it does not handle (a C0 control, DEL or a byte
 * >= 0x80 inside the sequence, a sequence that goes to CSI_IGNORE, more
 * parameters or intermediates than fit, the end of the buffer) makes it
 * return NULL; the caller then feeds the tables from the ESC.
 * term_csi_scan_slow checks every byte against the end of the buffer.
 * The usual way is faster: find the final byte first (term_csi_final),
 * then read the parameters with no such check (term_csi_params); the
 * slow one takes the rest (intermediates, the last bytes of a buffer). */
const uint8_t *term_csi_scan_slow(struct term_seq *q, const uint8_t *s,
                                  const uint8_t *end);

/* A parameter's value v (not omitted) followed by the digit d: it
 * saturates at TERM_PARAM_MAX. The tables (param() in parser.c) and
 * term_param_read both count so. */
static inline int32_t term_param_digit(int32_t v, int32_t d)
{
	return v <= (TERM_PARAM_MAX - d) / 10 ? v * 10 + d : TERM_PARAM_MAX;
}

/* The parameter at s: the digits up to the first byte that is not one
 * (the caller knows there is such a byte), its value in *v (-1 when there
 * are no digits); returns that byte. Four digits or fewer cannot reach
 * the cap: those take a plain loop. */
static inline const uint8_t *term_param_read(const uint8_t *s, int32_t *v)
{
	const uint8_t *digits = s;
	uint32_t x = 0, d;

	while ((d = (uint32_t)*s - '0') <= 9) {
		x = x * 10 + d;
		s++;
	}
	if (s - digits > 4) {
		int32_t w = 0;
		for (const uint8_t *q = digits; q < s; q++)
			w = term_param_digit(w, *q - '0');
		x = (uint32_t)w;
	}
	*v = s == digits ? -1 : (int32_t)x;
	return s;
}

/* One parameter of a control sequence read without a struct term_seq
 * (pen.c's sgr_compile, ground.c's CUP): the number at s, where the bytes
 * up to fin are parameter bytes and *fin is not a digit. Its value goes
 * to *v (-1 when omitted); returns the byte after it, or NULL when the
 * number is longer than four digits or is followed by neither ';' nor
 * fin (a ':' or a marker byte): term_csi_params takes those. The twin of
 * term_param_read, kept for speed: four digits stay below TERM_PARAM_MAX,
 * so this needs none of its saturation, whose code, inlined three times
 * over, cost every corpus about an instruction a byte. */
static inline const uint8_t *term_csi_number(const uint8_t *s, const uint8_t *fin, int32_t *v)
{
	const uint8_t *digits = s;
	uint32_t x = 0, d;

	while ((d = (uint32_t)*s - '0') <= 9) {
		x = x * 10 + d;
		s++;
	}
	if (s - digits > 4 || (s != fin && *s != ';'))
		return NULL;
	*v = s == digits ? -1 : (int32_t)x;
	return s;
}

/* The final byte of a control sequence whose parameters start at s: the
 * first byte that is not a parameter byte (0x30..0x3f), found sixteen
 * bytes at a time with SSE2 (signed, bytes from 0x80 are below 0x30),
 * then eight (a byte is flagged when its high nibble is not 3). NULL
 * when it is not a final byte (an intermediate, a control, ...) or lies
 * within eight bytes of the end: term_csi_scan_slow takes those. */
static inline const uint8_t *term_csi_final(const uint8_t *s, const uint8_t *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101u;

#ifdef __SSE2__
	if (end - s >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		unsigned other = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_cmpgt_epi8(v, _mm_set1_epi8(0x3f)),
			_mm_cmplt_epi8(v, _mm_set1_epi8(0x30))));
		if (other != 0) {
			s += __builtin_ctz(other);
			return *s >= 0x40 && *s <= 0x7e ? s : NULL;
		}
		s += 16;
	}
#endif
	for (;;) {
		if (end - s < 8)
			return NULL;
		uint64_t w;
		__builtin_memcpy(&w, s, 8);
		uint64_t x = (w & ones * 0xf0) ^ ones * 0x30;
		uint64_t flags = (((x & ones * 0x7f) + ones * 0x7f) | x) & ones * 0x80;
		if (flags != 0) {
			s += __builtin_ctzll(flags) >> 3;
			return *s >= 0x40 && *s <= 0x7e ? s : NULL;
		}
		s += 8;
	}
#else
	(void)s;
	(void)end;
	return NULL;
#endif
}

/* The sequence once its final byte is known: every byte in [s, fin) is a
 * parameter byte and *fin is not a digit, so the loops stop there without
 * looking at the end of the buffer. */
static inline const uint8_t *term_csi_params(struct term_seq *q, const uint8_t *s,
                                             const uint8_t *fin)
{
	uint32_t sub = 0;
	int n = 0;
	uint8_t marker = 0;

	if (*s >= 0x3c && *s <= 0x3f)
		marker = *s++;
	if (s < fin) {
		for (;;) {
			s = term_param_read(s, &q->param[n]);
			if (s == fin)
				break;
			if (*s > ';')
				return NULL; /* a marker byte inside: CSI_IGNORE */
			if (n + 1 >= TERM_MAX_PARAMS)
				return NULL;
			n++;
			if (*s == ':')
				sub |= 1u << n;
			s++;
		}
		n++;
	}
	q->marker = marker;
	q->ninter = 0;
	q->nparam = (uint8_t)n;
	q->sub = sub;
	q->final = *fin;
	return fin + 1;
}

#endif
