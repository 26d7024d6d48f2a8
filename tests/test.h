/*
 * A minimal test harness. A test file defines TEST functions, lists them in
 * a `struct test` table and calls test_main. Each test prints one line:
 *
 *     PASS suite/name
 *     FAIL suite/name: file:line: what went wrong
 *
 * which tests/run.sh counts. CHECK records a failure and goes on; REQUIRE
 * ends the test at once.
 */
#ifndef MOSHI_TEST_H
#define MOSHI_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random numbers for property tests (xorshift64): test_rnd(n) is in
 * [0, n), n > 0; a program seeds test_rng as it likes. */
__attribute__((unused)) static uint64_t test_rng = 0x2545f4914f6cdd1dULL;
__attribute__((unused)) static uint32_t test_rnd(uint32_t n)
{
	test_rng ^= test_rng << 13;
	test_rng ^= test_rng >> 7;
	test_rng ^= test_rng << 17;
	return (uint32_t)(test_rng >> 32) % n;
}

struct test {
	const char *name;
	void (*fn)(void);
};

static int test_failures_;
static char test_first_failure_[512];

__attribute__((unused)) static void test_fail_(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
__attribute__((unused)) static void test_fail_(const char *file, int line, const char *fmt, ...)
{
	if (test_failures_++ == 0) {
		va_list ap;
		int n = snprintf(test_first_failure_, sizeof test_first_failure_,
		                 "%s:%d: ", file, line);
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof test_first_failure_)
			vsnprintf(test_first_failure_ + n,
			          sizeof test_first_failure_ - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

#define TEST(name) static void name(void)
#define TEST_ENTRY(name) { #name, name }

#define CHECK(cond) do { \
	if (!(cond)) test_fail_(__FILE__, __LINE__, "CHECK(%s)", #cond); \
} while (0)
#define CHECKF(cond, ...) do { \
	if (!(cond)) test_fail_(__FILE__, __LINE__, __VA_ARGS__); \
} while (0)
#define REQUIRE(cond) do { \
	if (!(cond)) { test_fail_(__FILE__, __LINE__, "REQUIRE(%s)", #cond); \
	               return; } \
} while (0)
#define CHECK_EQ_INT(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) test_fail_(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
	                         #a, a_, #b, b_); \
} while (0)
#define CHECK_EQ_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (strcmp(a_, b_) != 0) test_fail_(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", \
	                                    #a, a_, b_); \
} while (0)

__attribute__((unused)) static int test_main(const char *suite, const struct test *tests, size_t n,
                     int argc, char **argv)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
			continue;
		test_failures_ = 0;
		tests[i].fn();
		if (test_failures_) {
			printf("FAIL %s/%s: %s", suite, tests[i].name,
			       test_first_failure_);
			if (test_failures_ > 1)
				printf(" (and %d more)", test_failures_ - 1);
			printf("\n");
			failed++;
		} else {
			printf("PASS %s/%s\n", suite, tests[i].name);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#define TEST_MAIN(suite, table) \
	int main(int argc, char **argv) \
	{ return test_main(suite, table, sizeof table / sizeof table[0], argc, argv); }

/* Parse hex (whitespace ignored) into out; returns the byte count. */
__attribute__((unused))
static size_t test_unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;
		if (*hex >= '0' && *hex <= '9') v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f') v = *hex - 'a' + 10;
		else if (*hex >= 'A' && *hex <= 'F') v = *hex - 'A' + 10;
		else continue;
		if (hi < 0) { hi = v; continue; }
		if (n < cap) out[n] = (unsigned char)(hi << 4 | v);
		n++;
		hi = -1;
	}
	return n;
}

#endif
