/*
 * Hostile input to the emulator: each must not crash, must keep memory
 * bounded (resident size measured from /proc/self/statm), and must leave a
 * terminal that still works afterwards.
 *
 * Bounds asserted (an 80x24 terminal): at most 4 MiB of growth for the
 * string and parameter floods (the OSC buffer is 64 KiB), 16 MiB for 32 MiB
 * of random bytes (the scrollback's 1000 rows with their combining-
 * character stores), and the maximum screen (1000x500, both screens) must
 * fit in 64 MiB. Under AddressSanitizer the sizes are printed, not checked:
 * its quarantine keeps freed memory resident.
 */
#include "test.h"

#include <stdint.h>
#include <unistd.h>

#include "../term/term.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Feed `total` bytes made by fill() in 64 KiB chunks. */
static void flood(struct term *t, size_t total, void (*fill)(uint8_t *, size_t))
{
	static uint8_t chunk[65536];
	for (size_t done = 0; done < total; done += sizeof chunk) {
		fill(chunk, sizeof chunk);
		term_write(t, chunk, sizeof chunk);
		term_replies_clear(t);
	}
}

static void fill_digits(uint8_t *b, size_t n) { memset(b, '7', n); }
static void fill_semis(uint8_t *b, size_t n) { memset(b, ';', n); }
static void fill_text(uint8_t *b, size_t n) { memset(b, 'x', n); }
static void fill_random(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = next();
		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* The terminal answers as a terminal should after the storm. */
static void still_works(struct term *t)
{
	static const char reset[] = "\030\033\\\033c\033[2;3Hok\033[6n";
	char got[32];
	size_t n;

	term_replies_clear(t);
	term_write(t, reset, sizeof reset - 1);
	const struct term_frame *f = term_frame(t);
	term_frame_cell_utf8(f, 1, 2, got, sizeof got);
	CHECK_EQ_STR(got, "o");
	term_frame_cell_utf8(f, 1, 3, got, sizeof got);
	CHECK_EQ_STR(got, "k");
	const uint8_t *r = term_replies(t, &n);
	CHECK(n == 6 && memcmp(r, "\033[2;5R", 6) == 0);
}

static void check_growth(long before, long limit_kib, const char *what)
{
	long after = rss_kib();
	if (before < 0 || after < 0)
		return; /* no /proc: nothing to measure */
	fprintf(stderr, "term-hostile: %s: resident size grew %ld KiB\n",
	        what, after - before);
#if defined(__SANITIZE_ADDRESS__)
	/* ASan keeps freed memory in quarantine: the size says nothing. */
	(void)limit_kib;
	return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	(void)limit_kib;
	return;
#endif
#endif
	CHECKF(after - before <= limit_kib, "%s: resident size grew %ld KiB (limit %ld)",
	       what, after - before, limit_kib);
}

TEST(million_digit_and_semicolon_csi)
{
	struct term *t = term_new(80, 24);
	REQUIRE(t);
	long before = rss_kib();
	term_write(t, "\033[", 2);
	flood(t, 1 << 20, fill_digits);
	term_write(t, "m", 1);
	term_write(t, "\033[", 2);
	flood(t, 1 << 20, fill_semis);
	term_write(t, "H", 1);
	check_growth(before, 4096, "CSI floods");
	still_works(t);
	term_free(t);
}

TEST(osc_of_16_mib)
{
	struct term *t = term_new(80, 24);
	REQUIRE(t);
	term_write(t, "\033]2;short\a", 10);
	long before = rss_kib();
	term_write(t, "\033]2;", 4);
	flood(t, 16 << 20, fill_text);
	term_write(t, "\a", 1);
	check_growth(before, 4096, "16 MiB OSC");
	/* Dropped whole: the earlier title stands. */
	CHECK_EQ_STR(term_frame_title(term_frame(t)), "short");
	still_works(t);
	term_free(t);
}

TEST(unterminated_dcs_of_16_mib)
{
	struct term *t = term_new(80, 24);
	REQUIRE(t);
	long before = rss_kib();
	term_write(t, "\033P1;2|", 6);
	flood(t, 16 << 20, fill_text);
	check_growth(before, 4096, "16 MiB DCS");
	/* Nothing of it reached the screen. */
	char got[32];
	term_frame_cell_utf8(term_frame(t), 0, 0, got, sizeof got);
	CHECK_EQ_STR(got, " ");
	still_works(t);
	term_free(t);
}

TEST(random_bytes_32_mib)
{
	struct term *t = term_new(80, 24);
	REQUIRE(t);
	long before = rss_kib();
	flood(t, 32 << 20, fill_random);
	check_growth(before, 16384, "32 MiB of random bytes");
	still_works(t);
	term_free(t);
}

/* A whole-screen scroll by more rows than the spare row pointers
 * (TERM_ROW_SLACK) wrote past the row array: found by fuzz_term. */
TEST(scroll_whole_screen_by_more_than_the_slack)
{
	struct term *t = term_new(20, 100);
	REQUIRE(t);
	static const char s[] = "\033[100;1Hbottom\033[99S\033[1;1Htop\033[100S\033[90S";
	term_write(t, s, sizeof s - 1);
	for (int i = 0; i < 5; i++)
		term_write(t, "\033[100Sx\n", 8);
	CHECK_EQ_INT(term_frame_rows(term_frame(t)), 100);
	term_free(t);
}

TEST(resize_extremes)
{
	struct term *t = term_new(80, 24);
	REQUIRE(t);
	CHECK(term_new(0, 24) == NULL);
	CHECK(term_new(80, 0) == NULL);
	CHECK(term_new(-5, -5) == NULL);
	CHECK_EQ_INT(term_resize(t, 0, 10), TERM_EINVAL);
	CHECK_EQ_INT(term_resize(t, 10, -1), TERM_EINVAL);
	CHECK_EQ_INT(term_frame_cols(term_frame(t)), 80);

	long before = rss_kib();
	static const int sizes[][2] = {
		{ 1, 1 }, { 100000, 100000 }, { 1, 500 }, { 1000, 1 }, { 2, 2 },
		{ 1000, 500 }, { 80, 24 }, { 3, 1000 }, { 1, 1 }, { 999, 499 },
	};
	for (int round = 0; round < 10; round++) {
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			REQUIRE(term_resize(t, sizes[i][0], sizes[i][1]) == TERM_OK);
			const struct term_frame *f = term_frame(t);
			CHECK(term_frame_cols(f) <= TERM_MAX_COLS);
			CHECK(term_frame_rows(f) <= TERM_MAX_ROWS);
			/* Fill it (both screens) so every row is real. */
			static const char fill[] =
				"\033[?1049h\033#8\033[?1049l\033#8\033[9999;9999H"
				"\xe4\xb8\xad\xcc\x81x\r\n";
			term_write(t, fill, sizeof fill - 1);
		}
	}
	check_growth(before, 65536, "resize storm");
	REQUIRE(term_resize(t, 80, 24) == TERM_OK);
	still_works(t);
	term_free(t);
}

static const struct test tests[] = {
	TEST_ENTRY(million_digit_and_semicolon_csi),
	TEST_ENTRY(osc_of_16_mib),
	TEST_ENTRY(unterminated_dcs_of_16_mib),
	TEST_ENTRY(random_bytes_32_mib),
	TEST_ENTRY(scroll_whole_screen_by_more_than_the_slack),
	TEST_ENTRY(resize_extremes),
};

TEST_MAIN("term-hostile", tests)
