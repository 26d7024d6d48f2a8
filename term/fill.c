/*
 * The wide loops of fill_ascii (fill.h), each for a processor that has
 * its instructions, and which of them this processor has.
 */
#include "fill.h"

#ifdef FILL_AVX2
/* fill_ascii's loop for whole groups of eight cells with AVX2 (when the
 * processor has it; see fill_ascii): the characters widened to 32 bits,
 * paired with fg, then with the second word, two cells to a register. */
__attribute__((target("avx2")))
size_t fill_avx2(char *d, const uint8_t *s, size_t n, uint32_t fg, uint64_t hi)
{
	const __m256i vfg = _mm256_set1_epi32((int)fg);
	const __m256i second = _mm256_set1_epi64x((long long)hi);
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
			(const __m128i *)(const void *)(s + i)));
		__m256i a = _mm256_unpacklo_epi32(w, vfg);  /* cells 0 1 | 4 5 */
		__m256i b = _mm256_unpackhi_epi32(w, vfg);  /* cells 2 3 | 6 7 */
		__m256i c0 = _mm256_unpacklo_epi64(a, second); /* 0 | 4 */
		__m256i c1 = _mm256_unpackhi_epi64(a, second); /* 1 | 5 */
		__m256i c2 = _mm256_unpacklo_epi64(b, second); /* 2 | 6 */
		__m256i c3 = _mm256_unpackhi_epi64(b, second); /* 3 | 7 */
		char *p = d + 16 * i;
		_mm256_storeu_si256((__m256i *)(void *)p, _mm256_permute2x128_si256(c0, c1, 0x20));
		_mm256_storeu_si256((__m256i *)(void *)(p + 32), _mm256_permute2x128_si256(c2, c3, 0x20));
		_mm256_storeu_si256((__m256i *)(void *)(p + 64), _mm256_permute2x128_si256(c0, c1, 0x31));
		_mm256_storeu_si256((__m256i *)(void *)(p + 96), _mm256_permute2x128_si256(c2, c3, 0x31));
	}
	return i;
}

/* fill_ascii's loop for whole groups of sixteen cells with AVX-512: each
 * cell is the run's cell with its character put in, so four cells cost
 * one masked permute of the widened characters and one store. */
__attribute__((target("avx512f")))
size_t fill_avx512(char *d, const uint8_t *s, size_t n, uint32_t fg, uint64_t hi)
{
	const __m512i cell = _mm512_broadcast_i32x4(
		_mm_set_epi32((int)(hi >> 32), (int)hi, (int)fg, 0));
	/* Store k's dword 4j is character 4k + j. */
	const __m512i at0 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
	const __m512i at1 = _mm512_add_epi32(at0, _mm512_set1_epi32(4));
	const __m512i at2 = _mm512_add_epi32(at0, _mm512_set1_epi32(8));
	const __m512i at3 = _mm512_add_epi32(at0, _mm512_set1_epi32(12));
	const __mmask16 ch = 0x1111;
	size_t i;

	for (i = 0; i + 16 <= n; i += 16) {
		__m512i w = _mm512_cvtepu8_epi32(_mm_loadu_si128(
			(const __m128i *)(const void *)(s + i)));
		char *p = d + 16 * i;
		_mm512_storeu_si512((void *)p, _mm512_mask_permutexvar_epi32(cell, ch, at0, w));
		_mm512_storeu_si512((void *)(p + 64), _mm512_mask_permutexvar_epi32(cell, ch, at1, w));
		_mm512_storeu_si512((void *)(p + 128), _mm512_mask_permutexvar_epi32(cell, ch, at2, w));
		_mm512_storeu_si512((void *)(p + 192), _mm512_mask_permutexvar_epi32(cell, ch, at3, w));
	}
	return i;
}

int fill_cpu_level = -1;

int fill_cpu_detect(void)
{
	fill_cpu_level = __builtin_cpu_supports("avx512f") &&
	                 __builtin_cpu_supports("avx512bw") ? 2 :
	                 __builtin_cpu_supports("avx2") ? 1 : 0;
	return fill_cpu_level;
}
#endif
