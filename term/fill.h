/*
 * Filling cells from ASCII bytes, the inner loop of printing: SSE2 where
 * the compiler has it, and AVX2 or AVX-512 (fill.c) where the processor
 * has them, chosen at run time.
 */
#ifndef MOSHI_TERM_FILL_H
#define MOSHI_TERM_FILL_H

#include "internal.h"

#include <stddef.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* Runs at least this long go to fill_avx512, or to fill_avx2. */
#define FILL_AVX512 16
#define FILL_AVX2 32

/* The widest loop the processor has, no wider than max: 2 AVX-512 (F and
 * BW), 1 AVX2, 0 neither. fill_ascii and flood_classify choose by it, at
 * every run: inline, with the processor's level found once (fill.c). */
extern int fill_cpu_level; /* -1 until fill_cpu_detect has run */
int fill_cpu_detect(void);
static inline int fill_simd_level(int max)
{
	int level = fill_cpu_level >= 0 ? fill_cpu_level : fill_cpu_detect();
	return level < max ? level : max;
}

/* fill_ascii's wide loops: cells d[0..k) from s[0..k), where k is the
 * largest multiple of 8 (AVX2) or 16 (AVX-512) up to n; returns k. The
 * cells are { s[i], fg } then hi (see fill_ascii). */
size_t fill_avx2(char *d, const uint8_t *s, size_t n, uint32_t fg, uint64_t hi);
size_t fill_avx512(char *d, const uint8_t *s, size_t n, uint32_t fg, uint64_t hi);
#endif

/* Cells c[0..n) become the characters s[0..n) in the pen's colours. */
__attribute__((always_inline))
static inline void fill_ascii(struct term_cell *c, const uint8_t *s, size_t n,
                              const struct term_pen *pen, int simd_max)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* A cell is two 64-bit words, { ch, fg } and { bg, attr, link, ul }:
	 * the second is the same for the whole run and the first differs
	 * by its low half, so a cell costs two stores. */
	_Static_assert(sizeof(struct term_cell) == 16 &&
	               offsetof(struct term_cell, fg) == 4 &&
	               offsetof(struct term_cell, bg) == 8 &&
	               offsetof(struct term_cell, attr) == 12 &&
	               offsetof(struct term_cell, link) == 14 &&
	               offsetof(struct term_cell, ul) == 15,
	               "struct term_cell is two words");
	const uint64_t lo = (uint64_t)pen->fg << 32;
	const uint64_t hi = pen->bg | (uint64_t)pen->attr << 32 |
	                    (uint64_t)(uint8_t)pen->link << 48; /* ul 0 */
	char *d = (char *)c;
	size_t i = 0;
#ifdef FILL_AVX2
	if (n >= FILL_AVX512) {
		int level = fill_simd_level(simd_max);
		if (level == 2)
			i = fill_avx512(d, s, n, pen->fg, hi);
		else if (level == 1 && n >= FILL_AVX2)
			i = fill_avx2(d, s, n, pen->fg, hi);
	}
#endif
#ifdef __SSE2__
	if (n - i >= 4) {
		/* Eight cells at a time, or four: the characters widened
		 * to 32 bits, paired with fg into { ch, fg } words, each
		 * such word then paired with the second word. */
		const __m128i fg = _mm_set1_epi32((int)pen->fg);
		const __m128i second = _mm_set1_epi64x((long long)hi);
		const __m128i zero = _mm_setzero_si128();
		/* Cells p[0..4) from four characters widened to 32 bits. */
#define FILL4(p, four) do { \
		__m128i a_ = _mm_unpacklo_epi32(four, fg); \
		__m128i b_ = _mm_unpackhi_epi32(four, fg); \
		_mm_storeu_si128((__m128i *)(void *)(p), _mm_unpacklo_epi64(a_, second)); \
		_mm_storeu_si128((__m128i *)(void *)((p) + 16), _mm_unpackhi_epi64(a_, second)); \
		_mm_storeu_si128((__m128i *)(void *)((p) + 32), _mm_unpacklo_epi64(b_, second)); \
		_mm_storeu_si128((__m128i *)(void *)((p) + 48), _mm_unpackhi_epi64(b_, second)); \
	} while (0)
		for (; i + 8 <= n; i += 8) {
			__m128i w = _mm_unpacklo_epi8(_mm_loadl_epi64(
				(const __m128i *)(const void *)(s + i)), zero);
			FILL4(d + 16 * i, _mm_unpacklo_epi16(w, zero));
			FILL4(d + 16 * i + 64, _mm_unpackhi_epi16(w, zero));
		}
		if (i < n) {
			/* Fewer than eight left: the next four if there
			 * are more than four, then the last four, over
			 * cells already filled when there are fewer (this
			 * block began with four or more, so n - 4 is in
			 * the run). Rewriting a cell beats a loop of a
			 * varying count: scroll's numbers, colour's words. */
			uint32_t four;
			if (i + 4 < n) {
				memcpy(&four, s + i, 4);
				FILL4(d + 16 * i, _mm_unpacklo_epi16(_mm_unpacklo_epi8(
					_mm_cvtsi32_si128((int)four), zero), zero));
			}
			memcpy(&four, s + n - 4, 4);
			FILL4(d + 16 * (n - 4), _mm_unpacklo_epi16(_mm_unpacklo_epi8(
				_mm_cvtsi32_si128((int)four), zero), zero));
			i = n;
		}
#undef FILL4
	}
#endif
	for (; i < n; i++) {
		uint64_t w = lo | s[i];
		memcpy(d + 16 * i, &w, 8);
		memcpy(d + 16 * i + 8, &hi, 8);
	}
#else
	(void)simd_max;
	for (size_t i = 0; i < n; i++)
		c[i] = (struct term_cell){ s[i], pen->fg, pen->bg, pen->attr,
		                           (uint8_t)pen->link, 0 };
#endif
}

#endif
