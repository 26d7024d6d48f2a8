/* Unit tests of the client's local echo (roles/predict.c): guesses drawn
 * at the predicted cursor, confirmed or withdrawn by the server's frame
 * and echo-ack, epochs, Backspace, arrows, insertion, wide characters,
 * pastes, and the display modes. */
#include "test.h"

#include <string.h>

#include "../roles/predict.h"
#include "../term/term.h"

/* A server screen: the bytes written to a fresh 20x5 emulator. */
static struct term *screen(const char *bytes)
{
	struct term *t = term_new(20, 5);
	if (t != NULL)
		term_write(t, bytes, strlen(bytes));
	return t;
}

/* Row r of a frame as text, trailing blanks dropped. */
static const char *row_text(const struct term_frame *f, int r)
{
	static char buf[256];
	size_t n = 0;
	for (int c = 0; c < term_frame_cols(f); c++) {
		char u[32];
		size_t k = term_frame_cell_utf8(f, r, c, u, sizeof u);
		if (n + k < sizeof buf) {
			memcpy(buf + n, u, k);
			n += k;
		}
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

static bool underlined(const struct term_frame *f, int r, int c)
{
	return (term_frame_cell(f, r, c).attr & TERM_ATTR_UNDERLINE) != 0;
}

/* The fixture: a server screen, a predictor, the input offset. */
static struct term *t;
static struct predict *p;
static uint64_t off;

static bool open_fx(const char *shown, enum predict_mode mode)
{
	t = screen(shown);
	p = predict_new(mode);
	off = 0;
	return t != NULL && p != NULL;
}

static void close_fx(void)
{
	predict_free(p);
	term_free(t);
	p = NULL;
	t = NULL;
}

/* The user types s (one read) at time now. */
static void key(const char *s, uint64_t now)
{
	size_t n = strlen(s);
	predict_input(p, term_frame(t), (const uint8_t *)s, n, off, now);
	off += n;
}

TEST(typed_characters_show_at_the_cursor)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("l", 0);
	key("s", 0);
	struct term_frame *o = predict_overlay(p, term_frame(t), 1);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ ls");
	int r, c;
	term_frame_cursor(o, &r, &c);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(c, 4);
	/* A fast link (interval 0): not underlined. */
	CHECK(!underlined(o, 0, 2));
	term_frame_free(o);
	CHECK_EQ_INT((int)predict_stats(p)->made, 2);
	close_fx();
}

TEST(echo_confirms_and_the_overlay_goes)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("a", 0);
	key("b", 0);
	term_write(t, "ab", 2);
	/* Only the first byte applied so far: one guess confirmed. */
	predict_server(p, term_frame(t), 1, 0);
	CHECK(predict_pending(p));
	predict_server(p, term_frame(t), 2, 0);
	CHECK(!predict_pending(p));
	CHECK(predict_overlay(p, term_frame(t), 30) == NULL);
	CHECK_EQ_INT((int)predict_stats(p)->confirmed, 2);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 0);
	close_fx();
}

TEST(a_wrong_guess_goes_and_its_successors_wait_for_confirmation)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("x", 0);
	/* The application did not echo (a password prompt, say). */
	predict_server(p, term_frame(t), 1, 0);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 1);
	CHECK(predict_overlay(p, term_frame(t), 20) == NULL);
	/* The next guess is in a new epoch: hidden until one is confirmed. */
	key("y", 30);
	CHECK(predict_overlay(p, term_frame(t), 40) == NULL);
	term_write(t, "y", 1);
	predict_server(p, term_frame(t), 2, 0);
	key("z", 60);
	struct term_frame *o = predict_overlay(p, term_frame(t), 70);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ yz");
	term_frame_free(o);
	close_fx();
}

TEST(a_typed_space_matches_a_blank_cell)
{
	/* A blank cell may hold no character at all (a frame rebuilt from
	 * the server's diffs has none; here, the cursor steps over it). */
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("a", 0);
	key(" ", 0);
	key("b", 0);
	term_write(t, "a\033[Cb", 5);
	predict_server(p, term_frame(t), 3, 0);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 0);
	CHECK_EQ_INT((int)predict_stats(p)->confirmed, 3);
	close_fx();
}

TEST(a_new_epoch_starts_past_the_keys_in_flight)
{
	/* After a wrong guess, the next ones must go where the application's
	 * cursor will be once the keys still in flight have echoed, not where
	 * the server's lagging frame has it. */
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("x", 0);
	key("y", 10);
	key("z", 20);
	/* "x" was not echoed as typed (the application showed "X"); "y"
	 * and "z" are still in flight. */
	term_write(t, "X", 1);
	predict_server(p, term_frame(t), 1, 0);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 1);
	key("w", 30);
	/* "y" has echoed too, but the echo-ack has not said so yet. */
	term_write(t, "y", 1);
	key("v", 40);
	term_write(t, "zwv", 3);
	predict_server(p, term_frame(t), 5, 0);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 1);
	CHECK_EQ_INT((int)predict_stats(p)->confirmed, 2);
	close_fx();
}

TEST(enter_blocks_guesses_until_applied)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("\r", 0);
	key("q", 0);
	CHECK(!predict_pending(p));
	/* The server applied the Enter: the shell printed a new prompt. */
	term_write(t, "\r\n$ ", 4);
	predict_server(p, term_frame(t), 1, 0);
	key("w", 20);
	CHECK(predict_pending(p));
	/* New epoch: hidden until confirmed. */
	CHECK(predict_overlay(p, term_frame(t), 30) == NULL);
	close_fx();
}

TEST(backspace_takes_back_the_newest_guess)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("a", 0);
	key("b", 0);
	key("\x7f", 0);
	struct term_frame *o = predict_overlay(p, term_frame(t), 1);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ a");
	int r, c;
	term_frame_cursor(o, &r, &c);
	CHECK_EQ_INT(c, 3);
	term_frame_free(o);
	/* The server applied all three bytes: "a" holds. */
	term_write(t, "a", 1);
	predict_server(p, term_frame(t), 3, 0);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 0);
	CHECK(!predict_pending(p));
	close_fx();
}

TEST(left_arrow_then_typing_inserts)
{
	REQUIRE(open_fx("$ ac", PREDICT_ALWAYS));
	key("\033[D", 0);
	key("b", 0);
	struct term_frame *o = predict_overlay(p, term_frame(t), 1);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ abc");
	term_frame_free(o);
	/* The shell redraws the same way: confirmed. */
	term_write(t, "\033[D\033[1@b", 8);
	predict_server(p, term_frame(t), off, 0);
	CHECK_EQ_INT((int)predict_stats(p)->confirmed, 1);
	CHECK_EQ_INT((int)predict_stats(p)->wrong, 0);
	close_fx();
}

/* How many guesses typing `typed`, a key per read, makes on a screen
 * showing `shown`. */
static int guesses_made(const char *shown, const char *typed)
{
	int made = -1;
	if (open_fx(shown, PREDICT_ALWAYS)) {
		for (const char *c = typed; *c;) {
			char one[8] = { *c++ };
			/* A UTF-8 sequence stays whole. */
			for (size_t n = 1; n < 4 && ((unsigned char)*c & 0xc0) == 0x80;)
				one[n++] = *c++;
			key(one, 0);
		}
		made = (int)predict_stats(p)->made;
	}
	close_fx();
	return made;
}

TEST(wide_characters_and_the_last_column)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	key("\xe6\x97\xa5", 0); /* U+65E5, two columns */
	struct term_frame *o = predict_overlay(p, term_frame(t), 1);
	REQUIRE(o);
	int r, c;
	term_frame_cursor(o, &r, &c);
	CHECK_EQ_INT(c, 4);
	term_frame_free(o);
	close_fx();

	/* At the right edge the application decides what a wrap does: the
	 * last column is guessed, the character after it is not; nor is a
	 * wide character that would not fit, nor anything after a pending
	 * wrap. */
	CHECK_EQ_INT(guesses_made("$ 0123456789abcdefg", "xy"), 1);
	CHECK_EQ_INT(guesses_made("$ 0123456789abcdefg", "\xe6\x97\xa5"), 0);
	CHECK_EQ_INT(guesses_made("$ 0123456789abcdefgh", "x"), 0);
}

TEST(a_paste_is_not_guessed)
{
	REQUIRE(open_fx("$ ", PREDICT_ALWAYS));
	char big[300];
	memset(big, 'p', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	key(big, 0);
	CHECK(!predict_pending(p));
	CHECK_EQ_INT((int)predict_stats(p)->made, 0);
	close_fx();
}

TEST(modes_never_and_adaptive)
{
	REQUIRE(open_fx("$ ", PREDICT_NEVER));
	key("a", 0);
	CHECK(!predict_pending(p));
	CHECK(predict_overlay(p, term_frame(t), 1) == NULL);
	predict_free(p);

	p = predict_new(PREDICT_ADAPTIVE);
	REQUIRE(p);
	off = 0;
	key("a", 1000);
	/* A fast link: not shown. */
	predict_set_interval(p, 10);
	CHECK(predict_overlay(p, term_frame(t), 1001) == NULL);
	/* Slower: shown, not underlined. */
	predict_set_interval(p, 40);
	struct term_frame *o = predict_overlay(p, term_frame(t), 1002);
	REQUIRE(o);
	CHECK(!underlined(o, 0, 2));
	term_frame_free(o);
	/* Slow: underlined. */
	predict_set_interval(p, 100);
	o = predict_overlay(p, term_frame(t), 1003);
	REQUIRE(o);
	CHECK(underlined(o, 0, 2));
	term_frame_free(o);
	predict_free(p);

	/* A fast link, but a guess that waited PREDICT_LATE_MS is shown,
	 * not underlined, and one that waited 250 ms is underlined too. */
	p = predict_new(PREDICT_ADAPTIVE);
	REQUIRE(p);
	off = 0;
	predict_set_interval(p, 10);
	key("a", 1000);
	CHECK(predict_overlay(p, term_frame(t), 1000 + PREDICT_LATE_MS - 1) == NULL);
	o = predict_overlay(p, term_frame(t), 1000 + PREDICT_LATE_MS);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ a");
	CHECK(!underlined(o, 0, 2));
	term_frame_free(o);
	o = predict_overlay(p, term_frame(t), 1000 + PREDICT_GLITCH_MS - 1);
	REQUIRE(o);
	CHECK(!underlined(o, 0, 2));
	term_frame_free(o);
	o = predict_overlay(p, term_frame(t), 1000 + PREDICT_GLITCH_MS);
	REQUIRE(o);
	CHECK(underlined(o, 0, 2));
	term_frame_free(o);
	close_fx();
}

TEST(after_a_glitch_guesses_stay_shown_until_repaired)
{
	REQUIRE(open_fx("$ ", PREDICT_ADAPTIVE));
	predict_set_interval(p, 10); /* a fast link */
	key("a", 1000);
	struct term_frame *o = predict_overlay(p, term_frame(t), 1000 + PREDICT_GLITCH_MS);
	REQUIRE(o);
	term_frame_free(o);
	/* Confirmed late: that repairs nothing. */
	term_write(t, "a", 1);
	predict_server(p, term_frame(t), 1, 1300);
	/* The next key shows at once, though the link is fast, and is not
	 * underlined (nothing has waited long). */
	key("b", 1400);
	o = predict_overlay(p, term_frame(t), 1401);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ ab");
	CHECK(!underlined(o, 0, 3));
	term_frame_free(o);
	term_write(t, "b", 1);
	predict_server(p, term_frame(t), off, 1410);
	/* A second quick confirmation in the same 150 ms counts once. */
	key("c", 1420);
	term_write(t, "c", 1);
	predict_server(p, term_frame(t), off, 1430);
	/* Quick confirmations, one per PREDICT_REPAIR_MS, repair it: the
	 * guesses show until the last of them. */
	uint64_t now = 1410;
	for (int i = 0; i < PREDICT_REPAIR_COUNT - 1; i++) {
		now += PREDICT_REPAIR_MS;
		key("d", now);
		o = predict_overlay(p, term_frame(t), now + 1);
		CHECKF(o != NULL, "guess %d after the glitch not shown", i + 2);
		term_frame_free(o);
		term_write(t, "d", 1);
		predict_server(p, term_frame(t), off, now + 10);
	}
	now += PREDICT_REPAIR_MS;
	key("e", now);
	CHECK(predict_overlay(p, term_frame(t), now + 1) == NULL);
	close_fx();
}

TEST(a_late_guess_is_shown_while_it_waits)
{
	REQUIRE(open_fx("$ ", PREDICT_ADAPTIVE));
	predict_set_interval(p, 10); /* a fast link */
	CHECK(predict_next_change(p, 0) == 0);
	key("a", 1000);
	/* The client wakes when the guess is late, then at the glitch. */
	CHECK(predict_next_change(p, 0) == 1000 + PREDICT_LATE_MS);
	CHECK(predict_next_change(p, 1000 + PREDICT_LATE_MS) == 1000 + PREDICT_GLITCH_MS);
	CHECK(predict_next_change(p, 1000 + PREDICT_GLITCH_MS) == 0);
	CHECK(predict_overlay(p, term_frame(t), 1000 + PREDICT_LATE_MS - 1) == NULL);
	struct term_frame *o = predict_overlay(p, term_frame(t), 1000 + PREDICT_LATE_MS);
	REQUIRE(o);
	CHECK_EQ_STR(row_text(o, 0), "$ a");
	term_frame_free(o);
	/* Its echo comes (the resend): the next key, quickly echoed, is not
	 * shown; a late guess, unlike a glitch, leaves nothing behind. */
	term_write(t, "a", 1);
	predict_server(p, term_frame(t), off, 1060);
	CHECK(!predict_pending(p));
	CHECK(predict_next_change(p, 1060) == 0);
	key("b", 1100);
	CHECK(predict_overlay(p, term_frame(t), 1101) == NULL);
	CHECK(predict_next_change(p, 1060) == 1100 + PREDICT_LATE_MS);
	close_fx();

	/* Never: nothing to wake for. */
	REQUIRE(open_fx("$ ", PREDICT_NEVER));
	key("a", 1000);
	CHECK(predict_next_change(p, 0) == 0);
	close_fx();
}

TEST(mode_names)
{
	enum predict_mode m;
	CHECK(predict_mode_parse("adaptive", &m) == 0 && m == PREDICT_ADAPTIVE);
	CHECK(predict_mode_parse("always", &m) == 0 && m == PREDICT_ALWAYS);
	CHECK(predict_mode_parse("never", &m) == 0 && m == PREDICT_NEVER);
	CHECK(predict_mode_parse("experimental", &m) == 0 && m == PREDICT_EXPERIMENTAL);
	CHECK(predict_mode_parse("sometimes", &m) == -1);
	CHECK(predict_mode_parse("", &m) == -1);
}

static const struct test tests[] = {
	TEST_ENTRY(typed_characters_show_at_the_cursor),
	TEST_ENTRY(echo_confirms_and_the_overlay_goes),
	TEST_ENTRY(a_wrong_guess_goes_and_its_successors_wait_for_confirmation),
	TEST_ENTRY(a_typed_space_matches_a_blank_cell),
	TEST_ENTRY(a_new_epoch_starts_past_the_keys_in_flight),
	TEST_ENTRY(enter_blocks_guesses_until_applied),
	TEST_ENTRY(backspace_takes_back_the_newest_guess),
	TEST_ENTRY(left_arrow_then_typing_inserts),
	TEST_ENTRY(wide_characters_and_the_last_column),
	TEST_ENTRY(a_paste_is_not_guessed),
	TEST_ENTRY(modes_never_and_adaptive),
	TEST_ENTRY(after_a_glitch_guesses_stay_shown_until_repaired),
	TEST_ENTRY(a_late_guess_is_shown_while_it_waits),
	TEST_ENTRY(mode_names),
};

TEST_MAIN("predict", tests)
