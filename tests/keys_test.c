/* libtermkey linked without terminfo: the CSI driver alone decodes what an
 * xterm-like terminal sends. */
#include "test.h"

#include "../roles/keys.h"

static void expect_keys(const char *bytes, const char *want)
{
	struct keys *k = keys_new();
	char got[256] = "", one[64];
	TermKeyKey key;

	if (k == NULL) {
		test_fail_(__FILE__, __LINE__, "keys_new failed");
		return;
	}
	keys_push(k, bytes, strlen(bytes));
	while (keys_next(k, &key, 1)) {
		keys_describe(k, &key, one, sizeof one);
		if (got[0])
			strncat(got, " ", sizeof got - strlen(got) - 1);
		strncat(got, one, sizeof got - strlen(got) - 1);
	}
	if (strcmp(got, want) != 0)
		test_fail_(__FILE__, __LINE__, "keys of \"%s\" are \"%s\", want \"%s\"",
		           bytes, got, want);
	keys_free(k);
}

TEST(printable_and_utf8)
{
	expect_keys("ab", "a b");
	expect_keys("\xc3\xa9\xe2\x82\xac", "\xc3\xa9 \xe2\x82\xac");
}

TEST(control_keys)
{
	expect_keys("\x01\x7f\r\t", "<C-a> <Backspace> <Enter> <Tab>");
	expect_keys("\x1b", "<Escape>");
}

TEST(csi_keys_without_terminfo)
{
	expect_keys("\x1b[A\x1b[D", "<Up> <Left>");
	expect_keys("\x1b[1;5C", "<C-Right>");
	expect_keys("\x1b[3~\x1b[H\x1b[F", "<Delete> <Home> <End>");
	expect_keys("\x1b[15~\x1bOP", "<F5> <F1>");
	expect_keys("\x1bx", "<M-x>");
}

/* libtermkey 0.22 indexed its key table with the intermediate bytes
 * included (out of bounds: the build patches it; UBSan and ASan in
 * `make check SANITIZE=1` catch a return of the bug). */
TEST(csi_with_a_private_marker_is_decoded_in_bounds)
{
	expect_keys("\x1b[?A", "<Up>");
	expect_keys("\x1b[>1;2B", "<S-Down>");
}

/* A CSI u key with no code point reached libtermkey's C0 table with
 * index -1 (found by tests/fuzz/fuzz_keys; the build patches it): it is
 * now U+FFFD, and the keys around it are untouched. */
TEST(csi_u_without_a_code_point_is_a_replacement_character)
{
	expect_keys("a\x1b[;ub", "a \xef\xbf\xbd b");
	expect_keys("\x1b[;5u", "<C-\xef\xbf\xbd>");
}

/* Seventeen parameters: libtermkey wrote the 17th past its array of 16
 * (found by tests/fuzz/fuzz_keys; the build patches it, and ASan in
 * `make check SANITIZE=1` catches a return). */
TEST(csi_with_seventeen_parameters_stays_in_bounds)
{
	expect_keys("\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18Ax", "<S-Up> x");
}

/* A run of ESCs longer than half libtermkey's buffer: its decoder
 * recursed once per ESC and slid the buffer under the outer levels,
 * whose start then went below 0 (found by tests/fuzz/fuzz_keys; the build
 * patches it, and `make check SANITIZE=1` catches a return). The key
 * after the run still comes out, last (as Alt-x: libtermkey takes
 * ESC ESC ... x for one key). */
TEST(a_long_run_of_escapes_stays_in_bounds)
{
	struct keys *k = keys_new();
	REQUIRE(k != NULL);
	char run[201];
	memset(run, 0x1b, 200);
	run[200] = 'x';
	size_t done = 0;
	int n = 0;
	char last[64] = "";
	TermKeyKey key;
	while (done < sizeof run) {
		size_t took = keys_push(k, run + done, sizeof run - done);
		done += took;
		while (keys_next(k, &key, done == sizeof run)) {
			keys_describe(k, &key, last, sizeof last);
			n++;
		}
		REQUIRE(took > 0 || n > 0);
	}
	CHECK_EQ_STR(last, "<M-x>");
	CHECK(n >= 1);
	keys_free(k);
}

/* Extended keys (kitty's CSI u, xterm's modifyOtherKeys) come apart
 * from the plain ones they would otherwise be. */
TEST(extended_keys_decoded_apart)
{
	expect_keys("\x1b[13;5u\x1b[13;2u\x1b[9;5u\x1b[105;5u\t\r",
	            "<C-Enter> <S-Enter> <C-Tab> <C-i> <Tab> <Enter>");
	expect_keys("\x1b[27;5;13~\x1b[27;2;13~\x1b[27;5;9~",
	            "<C-Enter> <S-Enter> <C-Tab>");
}

/* The escape key and its commands as terminals send them when an
 * application asked for extended keys. */
TEST(extended_forms_of_control_keys)
{
	static const struct { const char *in; int want; size_t len; } cases[] = {
		{ "\033[94;5u", 0x1e, 7 },          /* kitty: Ctrl-^ */
		{ "\033[54;6u", 0x1e, 7 },          /* Ctrl-Shift-6 */
		{ "\033[27;5;94~", 0x1e, 10 },      /* modifyOtherKeys */
		{ "\033[122;5uX", 0x1a, 8 },        /* Ctrl-Z, then more */
		{ "\033[97;5u", 0x01, 7 },
		{ "\033[63;5u", 0x7f, 7 },
		{ "\033[13;5u", -1, 0 },            /* Ctrl-Enter: no control character */
		{ "\033[97;3u", -1, 0 },            /* Alt-a */
		{ "\033[97;7u", -1, 0 },            /* Ctrl-Alt-a */
		{ "\033[97u", -1, 0 },
		{ "\033[27;5;94", -1, 0 },          /* cut short */
		{ "\033[1;5A", -1, 0 },
		{ "\033[99999999999;5u", -1, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = 0;
		int got = keys_extended_control((const uint8_t *)cases[i].in,
		                                strlen(cases[i].in), &len);
		CHECKF(got == cases[i].want && (got < 0 || len == cases[i].len),
		       "case %zu: %d (%zu bytes)", i, got, len);
	}
}

TEST(version_is_libtermkey_022)
{
	CHECK_EQ_STR(keys_backend_version(), "0.22");
}

static const struct test tests[] = {
	TEST_ENTRY(printable_and_utf8),
	TEST_ENTRY(extended_forms_of_control_keys),
	TEST_ENTRY(extended_keys_decoded_apart),
	TEST_ENTRY(control_keys),
	TEST_ENTRY(csi_keys_without_terminfo),
	TEST_ENTRY(csi_with_a_private_marker_is_decoded_in_bounds),
	TEST_ENTRY(csi_u_without_a_code_point_is_a_replacement_character),
	TEST_ENTRY(csi_with_seventeen_parameters_stays_in_bounds),
	TEST_ENTRY(a_long_run_of_escapes_stays_in_bounds),
	TEST_ENTRY(version_is_libtermkey_022),
};

TEST_MAIN("keys", tests)
