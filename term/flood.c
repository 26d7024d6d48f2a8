/*
 * A program that floods the terminal (cat of a log, a build, ls -R) sends
 * many screenfuls in one read, and most of its lines scroll off before
 * anyone could see them. Such a line is not emulated cell by cell: the
 * row keeps its bytes and the pen it began with, in its own cell memory
 * (`flood_len` counts the bytes), and flood_replay makes the cells from them
 * when they are wanted. The lines of one write that are still on the
 * screen when it ends are replayed before term_write returns, so a frame
 * never holds such a row; only the scrollback does, and
 * term_scrollback_line replays a line when it is read.
 *
 * A line qualifies (flood_lines) when it is printable ASCII and SGRs
 * ("ESC [", digits, ':' and ';', "m") only, no wider than the screen,
 * ends in CR LF, and begins in the first column of the empty bottom row
 * of a full-screen scroll region on the main screen, with plain printing
 * (screen_plain_print) and no hyperlink. Then printing it changes nothing but
 * that row, the pen and the cursor, and the row's cells are fill_ascii's
 * runs in the pens the SGRs make, from the first column on: what
 * flood_replay does. The pen after the line comes from its SGRs from the
 * last that starts with SGR 0 on (all of them, when none does).
 *
 * The gain is for coloured floods: the colour corpus of make bench runs
 * about 3.5 times as fast; plain lines (seq) about 1.1 times. The test
 * is tests/term_lazy_test.c: any stream must end as it does with
 * term_set_flood_lines off.
 */
#include "flood.h"

#include "fill.h"
#include "pen.h"
#include "scan.h"
#include "screen.h"

#include <string.h>

#define FLOOD_SGRS 16   /* SGRs from a kept line's last SGR 0 on */
#define FLOOD_BLOCKS 16  /* 64-byte blocks a kept line may touch */
#define FLOOD_HEAD 16    /* bytes before a kept line's: its pen */
_Static_assert(sizeof(struct term_pen) <= FLOOD_HEAD, "a pen fits the head");

/* Sixteen times four bytes at b, as masks (bit i for b[i]): ESC; the
 * bytes that are neither ESC nor printable (C0 controls, DEL, from 0x80);
 * parameter bytes (digits, ':' and ';'); 'm'; '['. */
struct flood_block {
	uint64_t esc, stop, param, m, lb;
};

#ifdef FILL_AVX2
/* flood_classify's AVX-512 (BW) loop: a compare gives a mask. */
__attribute__((target("avx512bw")))
static void flood_classify_avx512(const uint8_t *b, struct flood_block *k)
{
	__m512i v = _mm512_loadu_si512((const void *)b);
	k->esc = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x1b));
	k->stop = (_mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)) |
	           _mm512_cmpge_epu8_mask(v, _mm512_set1_epi8(0x7f))) & ~k->esc;
	k->param = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')),
	                                  _mm512_set1_epi8(';' - '0'));
	k->m = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('m'));
	k->lb = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('['));
}

/* And with AVX2: two halves of 32 bytes. */
__attribute__((target("avx2")))
static void flood_classify_avx2(const uint8_t *b, struct flood_block *k)
{
	*k = (struct flood_block){ 0, 0, 0, 0, 0 };
	for (int j = 0; j < 2; j++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32 * j));
#define FLOOD_MASK(x) ((uint64_t)(uint32_t)_mm256_movemask_epi8(x) << 32 * j)
		k->esc |= FLOOD_MASK(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x1b)));
		/* signed: bytes from 0x80 are below 0x20 too */
		k->stop |= FLOOD_MASK(_mm256_or_si256(
			_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v),
			_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f))));
		k->param |= FLOOD_MASK(_mm256_and_si256(
			_mm256_cmpgt_epi8(v, _mm256_set1_epi8('0' - 1)),
			_mm256_cmpgt_epi8(_mm256_set1_epi8(';' + 1), v)));
		k->m |= FLOOD_MASK(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('m')));
		k->lb |= FLOOD_MASK(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('[')));
#undef FLOOD_MASK
	}
	k->stop &= ~k->esc;
}

#endif

/* level: fill_simd_level's, or 0 where there is none. */
static inline void flood_classify(const uint8_t *b, struct flood_block *k, int level)
{
#ifdef FILL_AVX2
	if (level == 2) {
		flood_classify_avx512(b, k);
		return;
	}
	if (level == 1) {
		flood_classify_avx2(b, k);
		return;
	}
#else
	(void)level;
#endif
#ifdef __SSE2__
	*k = (struct flood_block){ 0, 0, 0, 0, 0 };
	for (int j = 0; j < 4; j++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * j));
#define FLOOD_MASK(x) ((uint64_t)(unsigned)_mm_movemask_epi8(x) << 16 * j)
		k->esc |= FLOOD_MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x1b)));
		/* signed: bytes from 0x80 are below 0x20 too */
		k->stop |= FLOOD_MASK(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
		                                  _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
		k->param |= FLOOD_MASK(_mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		                                    _mm_cmplt_epi8(v, _mm_set1_epi8(';' + 1))));
		k->m |= FLOOD_MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('m')));
		k->lb |= FLOOD_MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('[')));
#undef FLOOD_MASK
	}
	k->stop &= ~k->esc;
#else
	*k = (struct flood_block){ 0, 0, 0, 0, 0 };
	for (int i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		uint8_t c = b[i];
		if (c == 0x1b)
			k->esc |= bit;
		else if (c < 0x20 || c >= 0x7f)
			k->stop |= bit;
		if (c >= '0' && c <= ';')
			k->param |= bit;
		if (c == 'm')
			k->m |= bit;
		if (c == '[')
			k->lb |= bit;
	}
#endif
}

/* The bits set in x (gcc calls a function for __builtin_popcountll
 * without the popcnt instruction, which x86-64's baseline lacks). */
static inline int flood_popcount(uint64_t x)
{
#ifdef __POPCNT__
	return __builtin_popcountll(x);
#else
	x -= (x >> 1) & 0x5555555555555555u;
	x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
	return (int)((x * 0x0101010101010101u) >> 56);
#endif
}

/* Whether the SGR whose parameters start at p begins with SGR 0. */
static inline bool flood_sgr_resets(const uint8_t *p)
{
	return *p == 'm' || (*p == '0' && (p[1] == 'm' || p[1] == ';'));
}

/* The pen after a kept line: its SGRs from the last that begins with SGR
 * 0 on (all of them when none does) applied to t's pen. esc[j] marks the
 * line's ESCs in the 64 bytes at s0 + 64 j (s0: the start of the block
 * the line starts in). False, the pen unchanged, when more than
 * FLOOD_SGRS SGRs would be applied. */
static bool flood_pen(struct term *t, const uint8_t *s0, const uint64_t *esc,
                     int nb, const uint8_t *end)
{
	const uint8_t *at[FLOOD_SGRS];
	int n = 0;

	for (int j = nb - 1; j >= 0; j--)
		for (uint64_t e = esc[j]; e != 0;) {
			int last = 63 - __builtin_clzll(e);
			e &= ~((uint64_t)1 << last);
			const uint8_t *p = s0 + 64 * j + last + 2;
			if (n == FLOOD_SGRS)
				return false;
			at[n++] = p;
			if (flood_sgr_resets(p))
				goto apply;
		}
apply:
	while (n > 0)
		pen_sgr_at(t, at[--n], end);
	return true;
}

/* Make row r's cells from the bytes it keeps (r->flood_len > 0). */
void flood_replay(struct term *t, struct term_row *r)
{
	uint8_t raw[FLOOD_BLOCKS * 64]; /* a kept line lies within as many blocks */
	struct term_pen keep = t->pen;
	size_t n = r->flood_len;
	int x = 0;

	memcpy(&t->pen, r->cells, sizeof t->pen);
	memcpy(raw, (const char *)r->cells + FLOOD_HEAD, n);
	r->flood_len = 0;
	for (const uint8_t *s = raw, *end = raw + n; s < end;) {
		if (*s == 0x1b) {
			/* an SGR, as flood_lines found it */
			s = pen_sgr_at(t, s + 2, end) + 1;
			continue;
		}
		size_t k = term_ascii_run(s, end);
		screen_fill_ascii(t, r, x, s, k);
		x += (int)k;
		s += k;
	}
	r->len = (uint16_t)x;
	term_row_touch(r);
	t->pen = keep;
}

/* Lines at s, while they qualify, each kept as bytes in the bottom row
 * before the line feed that scrolls it up; those still on the screen at
 * the end are replayed. Returns the byte after the last.
 *
 * The bytes are read as masks, 64 at a time (flood_classify), and a line
 * qualifies by bit arithmetic on them: from its start to its CR (which an
 * LF must follow) nothing stops it but ESCs; each ESC has a '[' after it;
 * the run of parameter bytes after that ends in an 'm': adding a 1 at the
 * start of each run carries through it and stops on the byte after
 * (blocks pass the carry on). Its width is its length less those
 * sequences' bytes. Reading stops FLOOD_ROOM bytes before end, which
 * leaves room for the loads and copies. */
const uint8_t *flood_lines(struct term *t, const uint8_t *s, const uint8_t *end)
{
	struct term_frame *f = t->f;
	const uint8_t *b = s; /* the block in k */
	struct flood_block k;
	int kept = 0;
#ifdef FILL_AVX2
	int level = fill_simd_level(t->simd_max);
#else
	int level = 0;
#endif

	if (end - b >= FLOOD_ROOM)
		flood_classify(b, &k, level);
	while (end - b >= FLOOD_ROOM) {
		uint64_t esc[FLOOD_BLOCKS], escs = 0, prev = 0;
		uint64_t from = ~(uint64_t)0 << (s - b);
		bool carry = false;
		int nb = 0, in_sgrs = 0;
		const uint8_t *cr = NULL, *b0 = b;
		for (;;) {
			uint64_t line = from, stop = k.stop & from;
			if (stop != 0) {
				int at = __builtin_ctzll(stop);
				if (b[at] != '\r' || b[at + 1] != '\n')
					goto done;
				line &= ((uint64_t)1 << at) - 1;
				cr = b + at;
			}
			uint64_t e = k.esc & line;
			if ((e | prev | carry) != 0) {
				uint64_t bracket = e << 1 | prev >> 63;
				uint64_t start = e << 2 | prev >> 62, sum;
				bool c1 = __builtin_add_overflow(k.param, start, &sum);
				bool c2 = __builtin_add_overflow(sum, (uint64_t)carry, &sum);
				uint64_t fin = sum & ~k.param;
				if ((bracket & ~k.lb) != 0 || (fin & ~k.m) != 0)
					goto done;
				carry = c1 || c2;
				in_sgrs += flood_popcount(e | bracket | (k.param & ~sum) | fin);
				escs |= e;
			}
			esc[nb++] = e;
			if (cr != NULL)
				break;
			if (nb == FLOOD_BLOCKS || end - (b + 64) < FLOOD_ROOM)
				goto done;
			b += 64;
			flood_classify(b, &k, level);
			from = ~(uint64_t)0;
			prev = e;
		}
		struct term_row *r = f->row[f->cy];
		struct term_pen pen = t->pen;
		size_t n = (size_t)(cr - s);
		int w = (int)n - in_sgrs;
		if (w > f->cols ||
		    (w > 0 && FLOOD_HEAD + n + 16 > (size_t)r->cap * sizeof *r->cells) ||
		    (escs != 0 && !flood_pen(t, b0, esc, nb, end)))
			goto done;
		if (w > 0) {
			/* The pen, then the bytes sixteen at a time (there
			 * is room after the line in the buffer, and in the
			 * row's cells: checked above). */
			char *d = (char *)r->cells;
			memcpy(d, &pen, sizeof pen);
			for (size_t i = 0; i < n; i += 16)
				memcpy(d + FLOOD_HEAD + i, s + i, 16);
			r->flood_len = (uint16_t)n;
			term_row_touch(r);
			t->flood_kept++;
		}
		kept++;
		t->last_char = 0;
		screen_carriage_return(f);
		screen_line_feed(t);
		s = cr + 2;
		if (s - b >= 64) {
			b += 64;
			if (end - b >= FLOOD_ROOM)
				flood_classify(b, &k, level);
		}
	}
done:
	for (int i = 1; i <= kept && i < f->rows; i++) {
		struct term_row *r = f->row[f->rows - 1 - i];
		if (r->flood_len > 0)
			flood_replay(t, r);
	}
	/* A stream of lines that do not qualify tries ever less often. */
	if (kept == 0) {
		if (t->flood_misses < 6)
			t->flood_misses++;
		t->flood_skip = (uint8_t)(1u << t->flood_misses);
	} else {
		t->flood_misses = 0;
	}
	return s;
}
