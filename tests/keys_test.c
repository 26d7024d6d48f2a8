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

TEST(version_is_libtermkey_022)
{
	CHECK_EQ_STR(keys_backend_version(), "0.22");
}

static const struct test tests[] = {
	TEST_ENTRY(printable_and_utf8),
	TEST_ENTRY(control_keys),
	TEST_ENTRY(csi_keys_without_terminfo),
	TEST_ENTRY(csi_with_a_private_marker_is_decoded_in_bounds),
	TEST_ENTRY(version_is_libtermkey_022),
};

TEST_MAIN("keys", tests)
