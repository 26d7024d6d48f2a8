/*
 * Lines kept as bytes (flood_lines in term/flood.c): a line of printable ASCII and
 * SGRs that scrolls off within one write is kept as its bytes and the pen
 * it began with, and made into cells only when read. Whatever a stream
 * holds, an emulator that may keep lines so must end equal to one that
 * may not (term_set_flood_lines off): the same frame, replies, scrollback
 * (every line, read back cell by cell) and pen (text written after the
 * stream). The streams are lines of what the masks decide on: SGRs of
 * every form (SGR 0 alone, first or late, colons, long, too many
 * parameters), things that are not SGRs (markers, intermediates, other
 * finals, an ESC without '['), ASCII that looks like sequence bytes,
 * controls, UTF-8, lines that end otherwise than CR LF, are wider than
 * the screen or longer than the masks read, and lines across 64-byte
 * blocks and write boundaries.
 */
#include "test.h"

#include "../term/internal.h"
#include "term_same.h"

struct stream {
	char d[1 << 16];
	size_t n;
};

static void put(struct stream *s, const char *p)
{
	size_t k = strlen(p);
	if (k > sizeof s->d - s->n)
		k = sizeof s->d - s->n;
	memcpy(s->d + s->n, p, k);
	s->n += k;
}

static void put_sgr(struct stream *s)
{
	static const char *const forms[] = {
		"\033[m", "\033[0m", "\033[0;31m", "\033[00m", "\033[0;1;4;38;5;200m",
		"\033[1m", "\033[22m", "\033[3;4;7m", "\033[31m", "\033[97;104m",
		"\033[38;5;17m", "\033[48;5;255m", "\033[38;2;1;2;3m",
		"\033[48;2;255;128;0m", "\033[38:2::10:20:30m", "\033[4:3m",
		"\033[58;5;9m", "\033[58:2::1:2:3m", "\033[59m", "\033[21m",
		"\033[4;58;2;200;100;0m",
		"\033[38;2;300;0;0m", "\033[;1m", "\033[;;m", "\033[39;49m",
		"\033[99999999999m", "\033[1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;31m",
		/* more parameters than fit: the first 32 count */
		"\033[1;2;3;4;5;6;7;8;9;1;2;3;4;5;6;7;8;9;1;2;3;4;5;6;7;8;9;1;2;3;4;5;31m",
		"\033[;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;1m",
	};
	put(s, forms[test_rnd(sizeof forms / sizeof forms[0])]);
}

/* Not lines that may be kept: each one ends a run of them. */
static void put_other(struct stream *s)
{
	static const char *const others[] = {
		"\033[?1m", "\033[>4;1m", "\033[1 m", "\033[K", "\033[2C", "\033[H",
		"\033[3A", "\033M", "\033", "\033(0q\033(B", "\t", "\b", "\a",
		"\xc3\xa9", "\xe4\xb8\xad", "\xff", "\033]8;;http://x\033\\link\033]8;;\033\\",
		"\033]0;title\a", "\033[4h", "\033[4l", "\033[?7l", "\033[?7h",
		"\033[2;5r", "\033[r", "\033[?1049h", "\033[?1049l", "\033[6n",
		"\x7f", "\033[1\x7fm", "\033[1\rm", "\033[38;2;1;2;3",
	};
	put(s, others[test_rnd(sizeof others / sizeof others[0])]);
}

/* Text of 1 to max bytes (max >= 1), returning how many. */
static int put_text(struct stream *s, int max)
{
	/* Sequence bytes as text too: digits, ';', 'm', '['. */
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789;:m[m[ ";
	char text[256];
	int k = 1 + (int)test_rnd((uint32_t)(max < 200 ? max : 200));
	for (int i = 0; i < k; i++)
		text[i] = alphabet[test_rnd(sizeof alphabet - 1)];
	text[k] = 0;
	put(s, text);
	return k;
}

/* Lines that qualify, and one in `bad` that does not, or may not: with
 * something else in it, too wide, too long for the masks, or ended
 * otherwise than by CR LF. */
static void make_stream(struct stream *s, int cols)
{
	static const uint32_t rates[] = { 1000, 50, 8, 2 };
	uint32_t bad = rates[test_rnd(4)];

	s->n = 0;
	while (s->n < sizeof s->d - 4096) {
		int how = test_rnd(bad) == 0 ? 1 + (int)test_rnd(4) : 0;
		int room = how == 1 ? 2 * cols + 1 : cols;
		for (int parts = (int)test_rnd(12); parts > 0; parts--) {
			if (test_rnd(3) == 0)
				put_sgr(s);
			else if (room > 0)
				room -= put_text(s, room < 2 + cols / 3 ? room : 2 + cols / 3);
			if (how == 2 && test_rnd(4) == 0)
				put_other(s);
		}
		if (how == 3)
			for (int i = 0; i < 120; i++)
				put(s, "\033[1;38;2;10;20;30mx\033[0m");
		static const char *const ends[] = { "\n", "\r", "\n\r", "", "\r\r\n" };
		put(s, how == 4 ? ends[test_rnd(5)] : "\r\n");
	}
}

/* s written with lines kept as bytes or not, whole (in pieces of 64 KiB
 * at most) or in random pieces. */
static struct term *fed(const struct stream *s, bool lazy, bool pieces, int simd,
                        int cols, int rows)
{
	struct term *t = term_new(cols, rows);
	if (t == NULL)
		return NULL;
	term_set_flood_lines(t, lazy);
	term_set_simd_max(t, simd);
	for (size_t off = 0, k; off < s->n; off += k) {
		k = s->n - off;
		if (pieces && test_rnd(2) == 0)
			k = 1 + test_rnd((uint32_t)(k < 4096 ? k : 4096));
		/* Each piece in a buffer of its own size, so that the
		 * sanitizer sees a read past it. */
		char *piece = malloc(k);
		if (piece == NULL)
			break;
		memcpy(piece, s->d + off, k);
		term_write(t, piece, k);
		free(piece);
	}
	return t;
}

TEST(kept_lines_end_as_cell_by_cell_emulation_does)
{
	static struct stream s;
	char why[512];
	uint64_t kept = 0;

	for (int iter = 0; iter < 150; iter++) {
		/* each of the mask loops in turn (term_set_simd_max) */
		int simd = iter % 3;
		int cols = test_rnd(4) == 0 ? 1 + (int)test_rnd(8) : 10 + (int)test_rnd(150);
		int rows = test_rnd(4) == 0 ? 1 + (int)test_rnd(3) : 2 + (int)test_rnd(50);
		make_stream(&s, cols);
		struct term *eager = fed(&s, false, false, simd, cols, rows);
		struct term *whole = fed(&s, true, false, simd, cols, rows);
		struct term *pieces = fed(&s, true, true, simd, cols, rows);
		REQUIRE(eager != NULL && whole != NULL && pieces != NULL);
		CHECK(term_flood_kept(eager) == 0);
		kept += term_flood_kept(whole) + term_flood_kept(pieces);
		CHECKF(terms_same(whole, eager, why, sizeof why),
		       "stream %d, %dx%d, whole: %s", iter, cols, rows, why);
		CHECKF(terms_same(pieces, eager, why, sizeof why),
		       "stream %d, %dx%d, in pieces: %s", iter, cols, rows, why);
		/* The pen and the cursor: the same text after. */
		static const char after[] = "after\r\n\033[7mX";
		term_write(eager, after, sizeof after - 1);
		term_write(whole, after, sizeof after - 1);
		CHECKF(terms_same(whole, eager, why, sizeof why),
		       "stream %d, %dx%d, text after: %s", iter, cols, rows, why);
		term_free(eager);
		term_free(whole);
		term_free(pieces);
		if (test_failures_)
			break;
	}
	/* Not vacuous: most streams are lines that qualify. */
	CHECKF(kept > 50000, "only %llu lines were kept as bytes", (unsigned long long)kept);
}

/* Coloured output, as ls or a compiler print it, a screenful and more in
 * one write: the lines that scrolled off are kept as bytes, and each
 * reads back with its words in their colours. */
TEST(coloured_lines_read_back_from_the_scrollback)
{
	static struct stream s;
	char line[256];

	s.n = 0;
	for (int i = 0; i < 300; i++) {
		snprintf(line, sizeof line, "\033[1;3%dmfile%03d\033[0m \033[38;5;%dmsize\033[m %d\r\n",
		         i % 8, i, i % 256, i * 7);
		put(&s, line);
	}
	struct term *t = term_new(80, 24);
	REQUIRE(t != NULL);
	term_write(t, s.d, s.n);
	/* 300 lines, 23 still on the screen (the cursor is on the 24th);
	 * the first, before the first line feed, is not kept. */
	CHECK(term_scrollback_count(t) == 277);
	CHECKF(term_flood_kept(t) >= 276, "%llu kept", (unsigned long long)term_flood_kept(t));
	for (int i = 0; i < 277; i += 23) {
		struct term_cell c[80];
		snprintf(line, sizeof line, "file%03d size %d", i, i * 7);
		int n = term_scrollback_line(t, i, c, 80);
		CHECKF(n == (int)strlen(line), "line %d stores %d cells", i, n);
		for (int x = 0; x < 80; x++) {
			uint32_t want = x < (int)strlen(line) ? (uint8_t)line[x] : 0;
			CHECKF(c[x].ch == want, "line %d column %d: %u, not %u", i, x, c[x].ch, want);
		}
		CHECK(c[0].fg == TERM_COLOR_INDEXED(i % 8) && (c[0].attr & TERM_ATTR_BOLD));
		CHECK(c[6].fg == TERM_COLOR_INDEXED(i % 8) && c[7].fg == 0 && c[7].attr == 0);
		CHECK(c[8].fg == TERM_COLOR_PALETTE(i % 256) && c[11].fg == c[8].fg &&
		      c[8].attr == 0);
		CHECK(c[12].fg == 0 && c[13].fg == 0);
	}
	struct term_cell c[1];
	CHECK(term_scrollback_line(t, 277, c, 1) == TERM_EINVAL);
	CHECK(term_scrollback_line(t, -1, c, 1) == TERM_EINVAL);
	term_free(t);
}

/* The pen a kept line leaves is the one its SGRs make, with SGR 0 early,
 * late or not at all in it: the next text shows it. */
TEST(the_pen_after_kept_lines_is_their_sgrs)
{
	static struct stream s;
	static const char *const tails[] = {
		"\033[1mbold\r\n",                      /* no SGR 0: bold stays */
		"\033[0;4mx\033[32my\r\n",              /* SGR 0 first, then two */
		"\033[31mred\033[0m\r\n",               /* SGR 0 last */
		"\033[7mon\033[m\033[38;2;9;8;7mz\r\n", /* "ESC [ m", then true colour */
	};
	static const uint16_t attr[] = { TERM_ATTR_BOLD, TERM_ATTR_UNDERLINE, 0, 0 };
	static const uint32_t fg[] = { 0, TERM_COLOR_INDEXED(2), 0, TERM_COLOR_RGB(9, 8, 7) };

	for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
		s.n = 0;
		for (int i = 0; i < 60; i++)
			put(&s, "plain line of output\r\n");
		put(&s, tails[k]);
		for (int i = 0; i < 60; i++)
			put(&s, "more\r\n");
		put(&s, "Q");
		struct term *t = term_new(40, 10);
		REQUIRE(t != NULL);
		term_write(t, s.d, s.n);
		CHECKF(term_flood_kept(t) > 100, "case %zu: %llu kept", k,
		       (unsigned long long)term_flood_kept(t));
		struct term_cell q = term_frame_cell(term_frame(t), 9, 0);
		CHECKF(q.ch == 'Q' && q.attr == attr[k] && q.fg == fg[k],
		       "case %zu: 'Q' has attr %x fg %x", k, q.attr, q.fg);
		term_free(t);
	}
}

static const struct test tests[] = {
	TEST_ENTRY(kept_lines_end_as_cell_by_cell_emulation_does),
	TEST_ENTRY(coloured_lines_read_back_from_the_scrollback),
	TEST_ENTRY(the_pen_after_kept_lines_is_their_sgrs),
};

TEST_MAIN("term-lazy", tests)
