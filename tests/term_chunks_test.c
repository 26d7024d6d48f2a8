/*
 * The ground state's fast lane against the parser's tables. A control
 * sequence that lies whole in one buffer is parsed by term_csi_final and
 * term_csi_params (an SGR or a CUP applied as it is read, by sgr_compile
 * and ground_csi, an SGR seen before from pen_sgr_bytes's memo), and
 * ground-state runs go to the emulator without the tables (runs of ASCII
 * filled by each of fill_ascii's loops in turn: term_set_simd_max); fed one
 * byte at a time, every sequence goes through the tables
 * instead. Both must leave the emulator in the same state, so each stream
 * here is written whole, one byte at a time and in random pieces, and the
 * three frames and reply strings must be equal.
 *
 * The streams are random but made of what the fast paths decide on:
 * control sequences with markers, parameters (omitted, long, saturating,
 * colon sub-parameters, more than fit), intermediates (more than fit),
 * bytes that send a sequence to CSI_IGNORE or interrupt it (C0, DEL,
 * UTF-8, CAN, ESC), and text, UTF-8 and C0 controls around them.
 */
#include "test.h"

#include "../term/internal.h"
#include "term_same.h"

struct stream {
	uint8_t d[8192];
	size_t n;
};

static void put(struct stream *s, const char *p, size_t k)
{
	if (k > sizeof s->d - s->n)
		k = sizeof s->d - s->n;
	memcpy(s->d + s->n, p, k);
	s->n += k;
}

static void puts_(struct stream *s, const char *p)
{
	put(s, p, strlen(p));
}

static void put_byte(struct stream *s, uint8_t c)
{
	put(s, (const char *)&c, 1);
}

static void put_number(struct stream *s)
{
	char b[32];
	switch (test_rnd(6)) {
	case 0: break; /* omitted */
	case 1: snprintf(b, sizeof b, "%u", 65530 + test_rnd(12)); puts_(s, b); break;
	case 2: puts_(s, "0000000000000000000000123"); break;
	case 3: puts_(s, "99999999999999999999"); break;
	default: snprintf(b, sizeof b, "%u", test_rnd(110)); puts_(s, b); break;
	}
}

static const char finals[] = "@ABCDEFGHIJKLMPSTXZ`abcdefghlmnqrsu";

static void put_csi(struct stream *s)
{
	puts_(s, "\033[");
	if (test_rnd(4) == 0)
		put_byte(s, (uint8_t)"<=>?"[test_rnd(4)]);
	int np = test_rnd(8) == 0 ? 30 + (int)test_rnd(8) : (int)test_rnd(6);
	for (int i = 0; i < np; i++) {
		if (i > 0)
			put_byte(s, test_rnd(5) == 0 ? ':' : ';');
		put_number(s);
	}
	switch (test_rnd(12)) {
	case 0: put_byte(s, (uint8_t)(0x3c + test_rnd(4))); break; /* to CSI_IGNORE */
	case 1: put_byte(s, (uint8_t)test_rnd(0x20)); break;       /* C0 inside */
	case 2: put_byte(s, 0x7f); break;                     /* DEL inside */
	case 3: puts_(s, "\xc3\xa9"); break;                  /* UTF-8 inside */
	default: break;
	}
	int ni = test_rnd(6) == 0 ? (int)test_rnd(4) : 0;
	for (int i = 0; i < ni; i++)
		put_byte(s, (uint8_t)(0x20 + test_rnd(16)));
	if (test_rnd(20) == 0)
		return; /* unterminated: the next piece goes on with it */
	if (test_rnd(3) == 0) {
		/* SGR: attributes, and colours in both forms, whole, short
		 * or out of range, read by sgr_compile or handed to sgr(). */
		static const char *const sgr[] = {
			"38;5;", "48;2;", "38:2::", "4:", "1;", "38;5;200", "48;5;",
			"38;2;1;2;3", "48;2;1;2", "38;2;", "58;5;9", "38;;1",
			"38;7;3", "48;2;256;0;0", "38;5;256", "0", "", "97;104",
			"22;23;24;25;27;28;29", "39;49", "38;2;;;9", "48;2;0;0;0", "38;2;0;300;0", "48;2;0;0;256",
		};
		if (np > 0)
			put_byte(s, ';');
		for (int k = 1 + (int)test_rnd(4); k > 0; k--) {
			puts_(s, sgr[test_rnd(sizeof sgr / sizeof sgr[0])]);
			if (test_rnd(3) == 0)
				put_number(s);
			if (k > 1)
				put_byte(s, test_rnd(8) == 0 ? ':' : ';');
		}
		put_byte(s, 'm');
	} else {
		put_byte(s, (uint8_t)finals[test_rnd(sizeof finals - 1)]);
	}
}

static void make_stream(struct stream *s)
{
	static const char *const bits[] = {
		"hello", "wide \xe4\xb8\xad\xe6\x96\x87", "e\xcc\x81", "\r\n", "\t",
		"\b", "\n\n\n", "\033(0lqk\033(B", "\016x\017", "\0337\0338",
		"\033]0;title\007", "\033M", "\033c", "\030", "\032", "\033",
		"\xff", "\xe2\x82", "\033[?1049h", "\033[?1049l", "\033[4h",
		"\033[4l", "\033[?7l", "\033[?7h", "\033[2;5r", "\033[r",
	};
	s->n = 0;
	while (s->n < sizeof s->d - 256) {
		if (test_rnd(3) == 0) {
			put_csi(s);
		} else if (test_rnd(2) == 0) {
			puts_(s, bits[test_rnd(sizeof bits / sizeof bits[0])]);
		} else {
			char text[96];
			size_t k = 1 + test_rnd(90);
			for (size_t i = 0; i < k; i++)
				text[i] = (char)(0x20 + test_rnd(0x5f));
			put(s, text, k);
		}
	}
}

/* s written to a new emulator whole (how 0), a byte at a time (1) or in
 * random pieces (2), its ASCII runs filled by loops no wider than simd
 * (term_set_simd_max). */
static struct term *fed(const struct stream *s, int how, int simd, int cols, int rows)
{
	struct term *t = term_new(cols, rows);
	if (t == NULL)
		return NULL;
	term_set_simd_max(t, simd);
	size_t off = 0;
	while (off < s->n) {
		size_t k = s->n - off;
		if (how == 1)
			k = 1;
		else if (how == 2 && k > 1)
			k = 1 + test_rnd((uint32_t)(k < 64 ? k : 64));
		term_write(t, s->d + off, k);
		off += k;
	}
	return t;
}

TEST(whole_bytewise_and_pieces_agree)
{
	static struct stream s;
	char why[256];

	for (int iter = 0; iter < 600; iter++) {
		/* each of fill_ascii's loops in turn (term_set_simd_max) */
		int simd = iter % 3;
		make_stream(&s);
		int cols = 1 + (int)test_rnd(120), rows = 1 + (int)test_rnd(40);
		struct term *whole = fed(&s, 0, simd, cols, rows);
		struct term *bytes = fed(&s, 1, simd, cols, rows);
		struct term *pieces = fed(&s, 2, simd, cols, rows);
		REQUIRE(whole != NULL && bytes != NULL && pieces != NULL);
		CHECKF(terms_same(whole, bytes, why, sizeof why),
		       "stream %d, %dx%d, whole against byte by byte: %s",
		       iter, cols, rows, why);
		CHECKF(terms_same(whole, pieces, why, sizeof why),
		       "stream %d, %dx%d, whole against pieces: %s",
		       iter, cols, rows, why);
		term_free(whole);
		term_free(bytes);
		term_free(pieces);
		if (test_failures_)
			break;
	}
}

/* Sequences the fast path must hand back to the tables, each checked on
 * its own so that a failure names it. */
TEST(edge_sequences_agree)
{
	static const char *const cases[] = {
		"\033[31mred\033[m", "\033[?25l", "\033[>c", "\033[6n", "\033[5n",
		"\033[ q", "\033[2 q", "\033[!p",
		("\033[1;2;3;4;5;6;7;8;9;10;11;12;"
		 "13;14;15;16;17;18;19;20;21;22;23;24;25;26;27;28;29;30;31;32;33m"),
		"\033[38:2::10:20:30mx", "\033[38;2;10;20;30mx", "\033[1?m",
		"\033[1\033[2Jx", "\033[1\x7f;31mx", "\033[1\r2Ax", "\033[\xc3\xa9Hx",
		"\033[1 !\"m", "\033[99999999999999999999Cx", "\033[;H", "\033[;;;m",
		"\033[?1;2$p", "\033[5\030Ax", "\033[", "\033[12", "\033[?", "\033[1;",
		"\033[0;1;4;5;7;8;9;21;22;23;24;25;27;28;29m", "\033[4:0m", "\033[4:3m",
		/* more parameters than fit, in fewer bytes than twice as many:
		 * the tables drop the 1 */
		"\033[;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;1mx",
		/* runs long enough for every width of fill_ascii */
		("\033[1;38;5;200;48;2;1;2;3mABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
		 "klmnopqrstuvwxyz0123456789!?ABCDEFGHIJKLMNOPQRS\033[0m"),
		"\033[7m0123456789abcdefghijklmnopqrstuvwxyz!\r\033[K\033[3Cxyz",
	};
	char why[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		static struct stream s;
		s.n = 0;
		puts_(&s, "ab");
		puts_(&s, cases[i]);
		puts_(&s, "yz\033[Kq");
		struct term *whole = fed(&s, 0, 2, 80, 24), *bytes = fed(&s, 1, 2, 80, 24);
		REQUIRE(whole != NULL && bytes != NULL);
		CHECKF(terms_same(whole, bytes, why, sizeof why), "case %zu: %s", i, why);
		term_free(whole);
		term_free(bytes);
	}
}

/* Streams of SGRs, each put by put_sgr and followed by a few letters, in
 * parts of 8 KB on one pair of emulators, so that the memo is made (after
 * 2048 SGRs, SGR_MEMO_AFTER in term/pen.c) and used: written whole to one and
 * byte by byte (through the tables) to the other, the two must agree
 * after every part. */
static void sgrs_agree(void (*put_sgr)(struct stream *), int iters, int parts)
{
	static struct stream s;
	char why[256];

	for (int iter = 0; iter < iters; iter++) {
		struct term *whole = term_new(80, 24), *bytes = term_new(80, 24);
		REQUIRE(whole != NULL && bytes != NULL);
		for (int part = 0; part < parts; part++) {
			s.n = 0;
			while (s.n < sizeof s.d - 64) {
				put_sgr(&s);
				for (int k = 1 + (int)test_rnd(3); k > 0; k--)
					put_byte(&s, (uint8_t)('a' + test_rnd(26)));
				if (test_rnd(20) == 0)
					puts_(&s, "\r\n");
			}
			term_write(whole, s.d, s.n);
			for (size_t i = 0; i < s.n; i++)
				term_write(bytes, s.d + i, 1);
			CHECKF(terms_same(whole, bytes, why, sizeof why), "stream %d, part %d: %s",
			       iter, part, why);
		}
		term_free(whole);
		term_free(bytes);
		if (test_failures_)
			return;
	}
}

/* One of a few SGRs. */
static void put_repeated_sgr(struct stream *s)
{
	static const char *const sgr[] = {
		"1;31", "0;4", "38;5;200", "48;2;1;2;3", "22;39", "7", "27;49",
		"1;4;97;41", "1;22", "22;1", "38;2;0;300;0", "4:3", "", "0", "9;2;3",
		"38;5;9;48;5;10", "39;49;24", "5;25;8", "28", "100;90",
		"38;5;200;1", "38;5;200;4", /* alike in their first eight bytes */
	};
	puts_(s, "\033[");
	puts_(s, sgr[test_rnd(sizeof sgr / sizeof sgr[0])]);
	put_byte(s, 'm');
}

/* A few SGRs over and over, on every pen the others leave: written
 * whole, each is applied from the fast path's memo (what its bytes did,
 * as one op) once it is made, which must do what the tables do each
 * time. */
TEST(repeated_sgrs_agree)
{
	sgrs_agree(put_repeated_sgr, 10, 6);
}

/* A true colour SGR or one like it, sometimes after an SGR 0. */
static void put_true_colour_sgr(struct stream *s)
{
	static const char *const lead[] = {
		"38;2;", "48;2;", "38;2;", "48;2;", "58;2;", "38;5;", "28;2;",
		"38;3;", "48:2:", "1;38;2;", "38;2:", "8;2;",
	};
	if (test_rnd(4) == 0)
		puts_(s, "\033[0m ");
	puts_(s, "\033[");
	puts_(s, lead[test_rnd(sizeof lead / sizeof lead[0])]);
	int nums = test_rnd(8) == 0 ? 2 + (int)test_rnd(3) : 3;
	for (int k = 0; k < nums; k++) {
		if (k > 0)
			put_byte(s, test_rnd(30) == 0 ? ':' : ';');
		int len = test_rnd(10) == 0 ? (int)test_rnd(5) : 1 + (int)test_rnd(3);
		for (int j = 0; j < len; j++)
			put_byte(s, (uint8_t)('0' + (j == 0 && test_rnd(2) ? 1 + test_rnd(2) : test_rnd(10))));
	}
	put_byte(s, 'm');
}

/* True colour SGRs ("38;2;r;g;b", read by sgr_rgb when written whole)
 * with numbers of every length from omitted to four digits, leading
 * zeros, values past 255, a wrong kind or prefix, colons, a missing or an
 * extra number, and another parameter before: written whole, before and
 * after the memo is made, they must do what the tables do. */
TEST(true_colour_sgrs_agree)
{
	sgrs_agree(put_true_colour_sgr, 4, 12);
}

static const struct test tests[] = {
	TEST_ENTRY(whole_bytewise_and_pieces_agree),
	TEST_ENTRY(repeated_sgrs_agree),
	TEST_ENTRY(true_colour_sgrs_agree),
	TEST_ENTRY(edge_sequences_agree),
};

TEST_MAIN("term-chunks", tests)
