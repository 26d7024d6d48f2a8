/*
 * The renderer's round-trip property: for frames old and new, feeding
 * render(NULL, old) and then render(old, new) into a fresh emulator yields
 * exactly new (characters, attributes, colours, cursor, modes, titles).
 *
 * Frames come from random byte streams fed to a source emulator (so they
 * are frames an application can really produce), in chains of updates and
 * as unrelated pairs. The iteration count is fixed for make check;
 * RENDER_ITERS and RENDER_SEED change it for longer runs.
 */
#include "test.h"

#include <stdint.h>

#include "../term/internal.h"

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: deterministic for a seed, good enough for tests. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (uint32_t)((rng_state * 2685821657736338717ULL) >> 32) % n : 0;
}

struct bytes {
	char d[1 << 16];
	size_t n;
};

static void add(struct bytes *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct bytes *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->d + b->n, sizeof b->d - b->n, fmt, ap);
	va_end(ap);
	if (k > 0 && (size_t)k < sizeof b->d - b->n)
		b->n += (size_t)k;
}

static void add_cp(struct bytes *b, uint32_t cp)
{
	if (b->n + 4 < sizeof b->d)
		b->n += term_utf8_encode(cp, b->d + b->n);
}

static const uint32_t sample_cps[] = {
	0xe9, 0x20ac, 0x4e2d, 0x6587, 0x1f600, 0x301, 0x302, 0x200b, 0xff21,
	0x3042, 0x1100, 0x1161, 0xfffd, 0x2500, 0xac00, 0x5c, 0x7e,
};

/* One random action an application might take. */
static void random_action(struct bytes *b, int cols, int rows)
{
	switch (rnd(42)) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: {
		int n = 1 + (int)rnd((uint32_t)cols + 5);
		for (int i = 0; i < n; i++)
			add(b, "%c", (char)(' ' + rnd(95)));
		break;
	}
	case 8: case 9:
		for (int i = 1 + (int)rnd(4); i > 0; i--)
			add_cp(b, sample_cps[rnd(sizeof sample_cps / sizeof sample_cps[0])]);
		break;
	case 10: case 11: add(b, "\r\n"); break;
	case 12: add(b, "\n"); break;
	case 13: {
		static const char *const sgr[] = {
			"0", "1", "2", "3", "4", "5", "7", "8", "9", "22", "23", "24",
			"27", "31", "42", "39", "49", "95", "104", "38;5;200",
			"48;5;17", "38;5;3", "48;5;12", "38;2;1;2;3", "48:2::9:8:7", "1;4;33;44", "",
			"4:3", "4:2", "4:1", "21", "4:0", "4:5", "58;5;196", "58:5:4",
			"58:2::1:2:3", "58;2;9;8;7", "59", "4;58:5:1",
		};
		add(b, "\033[%sm", sgr[rnd(sizeof sgr / sizeof sgr[0])]);
		break;
	}
	case 14: add(b, "\033[%u;%uH", 1 + rnd((uint32_t)rows + 1), 1 + rnd((uint32_t)cols + 1)); break;
	case 15: add(b, "\033[%uJ", rnd(3)); break;
	case 16: add(b, "\033[%uK", rnd(3)); break;
	case 17: add(b, "\033[%uX", 1 + rnd(8)); break;
	case 18: add(b, "\033[%uL", 1 + rnd(3)); break;
	case 19: add(b, "\033[%uM", 1 + rnd(3)); break;
	case 20: add(b, "\033[%u@", 1 + rnd(4)); break;
	case 21: add(b, "\033[%uP", 1 + rnd(4)); break;
	case 22:
		if (rnd(2))
			add(b, "\033[%u;%ur", 1 + rnd((uint32_t)rows), 1 + rnd((uint32_t)rows));
		else
			add(b, "\033[r");
		break;
	case 23: {
		static const int modes[] = { 1, 5, 9, 25, 1000, 1002, 1003, 1004,
		                             1005, 1006, 1015, 2004, 7, 6 };
		add(b, "\033[?%d%c", modes[rnd(sizeof modes / sizeof modes[0])],
		    rnd(2) ? 'h' : 'l');
		break;
	}
	case 24: add(b, "\033[?1049%c", rnd(2) ? 'h' : 'l'); break;
	case 25: add(b, "\033]%u;title %u\a", rnd(3), rnd(5)); break;
	case 26:
		if (rnd(2))
			add(b, "\033]8;;http://x.invalid/%u\033\\", rnd(3));
		else
			add(b, "\033]8;;\033\\");
		break;
	case 27: add(b, "\a"); break;
	case 28: add(b, "\033[%u q", rnd(7)); break;
	case 29: add(b, "%s", rnd(2) ? "\033(0" : "\033(B"); break;
	case 30: add(b, "\033[4%c", rnd(2) ? 'h' : 'l'); break;
	case 31: add(b, "\033%c", rnd(2) ? 'M' : 'D'); break;
	case 32: add(b, "\t"); break;
	case 33: add(b, "\b"); break;
	case 34: add(b, "\033[%u%c", 1 + rnd(5), "ABCD"[rnd(4)]); break;
	case 35: add(b, "\033[%uS", 1 + rnd(3)); break;
	case 36: add(b, "\033[%uT", 1 + rnd(3)); break;
	case 37: add(b, "\033%c", rnd(2) ? '=' : '>'); break;
	case 38: add(b, "\033]52;c;%s\a", rnd(2) ? "aGk=" : "eW8="); break;
	case 40: add(b, "\033[>4;%um", rnd(3)); break;
	case 41:
		switch (rnd(3)) {
		case 0: add(b, "\033[>%uu", rnd(32)); break;
		case 1: add(b, "\033[<%uu", rnd(3)); break;
		default: add(b, "\033[=%u;%uu", rnd(32), 1 + rnd(3)); break;
		}
		break;
	case 39: /* fill lines to provoke scrolling */
		for (int i = (int)rnd((uint32_t)rows + 2); i > 0; i--)
			add(b, "line %u\r\n", rnd(1000));
		break;
	}
}

static void random_stream(struct bytes *b, int cols, int rows, int actions)
{
	b->n = 0;
	for (int i = 0; i < actions && b->n + 512 < sizeof b->d; i++)
		random_action(b, cols, rows);
}

static struct term_buf out;
static int checked, failures_shown;
static int render_flags; /* term_render_flags's, for replay */

/* Everything fed to the source emulator of the current iteration, printed
 * with RENDER_DEBUG=1 when a round trip fails. */
static struct bytes transcript;

static void feed(struct term *t, const struct bytes *b)
{
	term_write(t, b->d, b->n);
	if (transcript.n + b->n < sizeof transcript.d) {
		memcpy(transcript.d + transcript.n, b->d, b->n);
		transcript.n += b->n;
	}
}

static void note(const char *what)
{
	size_t n = strlen(what);
	if (transcript.n + n < sizeof transcript.d) {
		memcpy(transcript.d + transcript.n, what, n);
		transcript.n += n;
	}
}

static void dump_escaped(const char *label, const char *d, size_t n)
{
	fprintf(stderr, "%s (%zu bytes): ", label, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == 0x1b)
			fputs("\\e", stderr);
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputc('\n', stderr);
}

/* Feed render(from, to) to the replay emulator and compare with to. */
static bool replay(struct term *replica, const struct term_frame *from,
                   const struct term_frame *to, const char *what)
{
	char why[512];

	out.len = 0;
	term_render_flags(from, to, render_flags, &out);
	if (out.failed) {
		test_fail_(__FILE__, __LINE__, "render ran out of memory");
		return false;
	}
	term_write(replica, out.data, out.len);
	checked++;
	if (!term_frame_equal(term_frame(replica), to, why, sizeof why)) {
		if (failures_shown++ < 1) {
			test_fail_(__FILE__, __LINE__, "%s (%dx%d, seed state %llx): %s",
			           what, to->cols, to->rows,
			           (unsigned long long)rng_state, why);
			if (getenv("RENDER_DEBUG")) {
				dump_escaped("source input", transcript.d, transcript.n);
				dump_escaped("last render", (const char *)out.data, out.len);
			}
		}
		return false;
	}
	return true;
}

static void random_size(int *cols, int *rows)
{
	switch (rnd(6)) {
	case 0: *cols = 1 + (int)rnd(3); *rows = 1 + (int)rnd(3); break;
	case 1: *cols = 80; *rows = 24; break;
	default: *cols = 2 + (int)rnd(30); *rows = 1 + (int)rnd(10); break;
	}
}

static int iterations(int def)
{
	const char *e = getenv("RENDER_ITERS");
	return e ? atoi(e) : def;
}

static void seed(uint64_t s)
{
	const char *e = getenv("RENDER_SEED");
	rng_state = e ? strtoull(e, NULL, 0) : s;
	if (rng_state == 0)
		rng_state = 1;
}

TEST(round_trip_update_chains)
{
	seed(0x5eed1234abcdULL);
	for (int it = iterations(1500); it > 0; it--) {
		int cols, rows;
		random_size(&cols, &rows);
		/* Half as the server renders, half as the client on the
		 * normal screen does. */
		render_flags = it % 2 ? 0 :
		               TERM_RENDER_NO_SCROLL | TERM_RENDER_ROW_CLEAR | TERM_RENDER_TRIM;
		struct term *src = term_new(cols, rows);
		struct term *replica = term_new(cols, rows);
		struct bytes *b = malloc(sizeof *b);
		REQUIRE(src && replica && b);

		transcript.n = 0;
		random_stream(b, cols, rows, 1 + (int)rnd(40));
		feed(src, b);
		struct term_frame *prev = term_frame_copy(term_frame(src));
		REQUIRE(prev != NULL);
		bool ok = replay(replica, NULL, prev, "full repaint");
		for (int step = 0; ok && step < 6; step++) {
			note("<FRAME>");
			random_stream(b, cols, rows, 1 + (int)rnd(12));
			feed(src, b);
			ok = replay(replica, prev, term_frame(src), "update");
			/* The same diff applied to an emulator made from the
			 * old frame alone, as the transport's receiver does. */
			struct term *fresh = term_from_frame(prev);
			REQUIRE(fresh != NULL);
			if (ok)
				ok = replay(fresh, prev, term_frame(src), "update from frame");
			term_free(fresh);
			term_frame_free(prev);
			prev = term_frame_copy(term_frame(src));
			REQUIRE(prev != NULL);
		}
		term_frame_free(prev);
		term_free(src);
		term_free(replica);
		free(b);
	}
	render_flags = 0;
}

TEST(round_trip_unrelated_pairs)
{
	seed(0xfeedfacecafeULL);
	for (int it = iterations(1500); it > 0; it--) {
		int cols, rows;
		random_size(&cols, &rows);
		struct term *a = term_new(cols, rows), *c = term_new(cols, rows);
		struct term *replica = term_new(cols, rows);
		struct bytes *b = malloc(sizeof *b);
		REQUIRE(a && c && replica && b);
		random_stream(b, cols, rows, 1 + (int)rnd(50));
		term_write(a, b->d, b->n);
		random_stream(b, cols, rows, 1 + (int)rnd(50));
		term_write(c, b->d, b->n);
		if (replay(replica, NULL, term_frame(a), "full repaint (pair)"))
			replay(replica, term_frame(a), term_frame(c), "pair");
		term_free(a);
		term_free(c);
		term_free(replica);
		free(b);
	}
}

/* After a resize the old frame no longer fits: a full repaint follows. */
TEST(round_trip_across_resize)
{
	seed(0xabad1deaULL);
	for (int it = iterations(300); it > 0; it--) {
		int cols, rows, c2, r2;
		random_size(&cols, &rows);
		random_size(&c2, &r2);
		if (c2 == cols && r2 == rows)
			c2++; /* a real resize: the old frame no longer fits */
		struct term *src = term_new(cols, rows);
		struct term *replica = term_new(c2, r2);
		struct bytes *b = malloc(sizeof *b);
		REQUIRE(src && replica && b);
		transcript.n = 0;
		random_stream(b, cols, rows, 1 + (int)rnd(30));
		feed(src, b);
		struct term_frame *prev = term_frame_copy(term_frame(src));
		REQUIRE(prev);
		term_resize(src, c2, r2);
		char note_buf[64];
		snprintf(note_buf, sizeof note_buf, "<RESIZE %dx%d -> %dx%d>", cols, rows, c2, r2);
		note(note_buf);
		random_stream(b, c2, r2, 1 + (int)rnd(10));
		feed(src, b);
		replay(replica, prev, term_frame(src), "after resize");
		term_frame_free(prev);
		term_free(src);
		term_free(replica);
		free(b);
	}
}

TEST(identical_frames_render_nothing)
{
	struct term *t = term_new(20, 5);
	REQUIRE(t);
	term_write(t, "hello\033[31mworld\r\n\033[?25l", 24);
	struct term_frame *f = term_frame_copy(term_frame(t));
	out.len = 0;
	term_render(f, term_frame(t), &out);
	CHECK_EQ_INT(out.len, 0);
	term_frame_free(f);
	term_free(t);
}

/* Trimmed, a row whose end is erased is erased whole and written again,
 * not given blanks or EL 0 (after which tmux keeps the erased cells as
 * the line's, in its history and in a copy). */
TEST(trim_erases_the_end_of_a_row)
{
	struct term *a = term_new(20, 3), *b = term_new(20, 3), *replica = term_new(20, 3);
	REQUIRE(a && b && replica);
	term_write(a, "59961x\r\n", 8);
	term_write(b, "59985\r\n", 7);
	for (int trim = 0; trim < 2; trim++) {
		out.len = 0;
		term_render_flags(term_frame(a), term_frame(b), trim ? TERM_RENDER_TRIM : 0, &out);
		bool blank = memchr(out.data, ' ', out.len) != NULL;
		CHECKF(trim ? !blank : blank, "trim %d: %.*s", trim, (int)out.len, (const char *)out.data);
		CHECK(!trim || memmem(out.data, out.len, "\033[2K59985", 9) != NULL);
	}
	render_flags = TERM_RENDER_TRIM;
	CHECK(replay(replica, NULL, term_frame(a), "full repaint"));
	CHECK(replay(replica, term_frame(a), term_frame(b), "trimmed"));
	render_flags = 0;
	term_free(a);
	term_free(b);
	term_free(replica);
}

/* Every OSC 52 request made between two frames reaches the terminal
 * once, in order, whatever its selection, the same text twice included;
 * a full repaint sends none again. */
static size_t occurrences(const char *what)
{
	size_t n = 0, k = strlen(what);
	for (const uint8_t *p = out.data, *e = out.data + out.len;
	     (p = memmem(p, (size_t)(e - p), what, k)) != NULL; p += k)
		n++;
	return n;
}

TEST(clipboard_requests_each_sent_once)
{
	struct term *t = term_new(20, 3);
	REQUIRE(t);
	struct term_frame *before = term_frame_copy(term_frame(t));
	REQUIRE(before);
	static const char req[] = "\033]52;c;YQ==\a\033]52;p;Yg==\a\033]52;c;YQ==\a"
		"\033]52;s;Yw==\033\\";
	term_write(t, req, sizeof req - 1);
	out.len = 0;
	term_render(before, term_frame(t), &out);
	CHECK_EQ_INT(occurrences("\033]52;c;YQ==\a"), 2);
	CHECK_EQ_INT(occurrences("\033]52;p;Yg==\a"), 1);
	CHECK_EQ_INT(occurrences("\033]52;s;Yw==\a"), 1);
	const uint8_t *p = memmem(out.data, out.len, "p;Yg", 4);
	const uint8_t *q = memmem(out.data, out.len, "s;Yw", 4);
	CHECK(p && q && p < q);
	out.len = 0;
	term_render(NULL, term_frame(t), &out);
	CHECK_EQ_INT(occurrences("]52;"), 0);
	/* More than a frame holds between two frames: the last ones go. */
	for (int i = 0; i < 20; i++)
		term_write(t, "\033]52;c;eA==\a", 12);
	out.len = 0;
	term_render(before, term_frame(t), &out);
	CHECK_EQ_INT(occurrences("]52;c;eA==\a"), 8);
	term_frame_free(before);
	term_free(t);
}

static const struct test tests[] = {
	TEST_ENTRY(identical_frames_render_nothing),
	TEST_ENTRY(clipboard_requests_each_sent_once),
	TEST_ENTRY(trim_erases_the_end_of_a_row),
	TEST_ENTRY(round_trip_update_chains),
	TEST_ENTRY(round_trip_unrelated_pairs),
	TEST_ENTRY(round_trip_across_resize),
};

int main(int argc, char **argv)
{
	int rc = test_main("render", tests, sizeof tests / sizeof tests[0], argc, argv);
	fprintf(stderr, "render: %d round trips checked\n", checked);
	term_buf_free(&out);
	return rc;
}
