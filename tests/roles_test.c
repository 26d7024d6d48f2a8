/* The roles' command lines and address choice, without running
 * anything: connect's checks come before ssh (nat.sh runs them for real
 * through sshd), and --family's filter on numeric hosts. */
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../roles/addr.h"
#include "../roles/roles.h"
#include "../roles/termquery.h"
#include "../term/term.h"

/* roles_connect_parse on a NULL-terminated argument list (argv[0] is
 * "connect"), its messages sent nowhere. */
static int connect_parse(const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	argv[argc++] = "connect";
	va_start(ap, first);
	for (const char *a = first; a != NULL && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	int rc = roles_connect_parse(argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(null);
	return rc;
}

TEST(connect_takes_mosh_command_lines)
{
	unsetenv("MOSHI_PREDICTION_DISPLAY");
	CHECK_EQ_INT(connect_parse("host", NULL), 0);
	CHECK_EQ_INT(connect_parse("user@host", "ls", "-l", NULL), 0);
	CHECK_EQ_INT(connect_parse("-p", "60001:60010", "host", "--", "top", NULL), 0);
	CHECK_EQ_INT(connect_parse("--family=prefer-inet6", "-4", "-6", "-v", "host", NULL), 0);
	CHECK_EQ_INT(connect_parse("--experimental-remote-ip=local", "--no-ssh-pty", "h", NULL), 0);
	CHECK_EQ_INT(connect_parse("--bind-server=::1", "--client=/bin/moshi", "h", NULL), 0);
	CHECK_EQ_INT(connect_parse("--local", "bash", NULL), 0);
	/* Options after the host belong to the command. */
	CHECK_EQ_INT(connect_parse("host", "--bogus", NULL), 0);
}

TEST(connect_refuses_bad_values_before_anything_runs)
{
	unsetenv("MOSHI_PREDICTION_DISPLAY");
	CHECK_EQ_INT(connect_parse(NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("-p", "70000", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("-p", "60010:60001", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("--family=ipx", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("--experimental-remote-ip=dns", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("--predict=sometimes", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("--bind-server=1.2.3", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("--bogus", "host", NULL), MOSHI_EXIT_USAGE);
	CHECK_EQ_INT(connect_parse("--", "-host", NULL), MOSHI_EXIT_USAGE);
	setenv("MOSHI_PREDICTION_DISPLAY", "bogus", 1);
	CHECK_EQ_INT(connect_parse("host", NULL), MOSHI_EXIT_USAGE);
	/* --predict wins over the environment, as it does when running. */
	CHECK_EQ_INT(connect_parse("--predict=never", "host", NULL), 0);
	unsetenv("MOSHI_PREDICTION_DISPLAY");
}

TEST(family_names_round_trip)
{
	static const char *names[] = { "inet", "inet6", "auto", "all", "prefer-inet",
	                               "prefer-inet6" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		enum addr_family f;
		REQUIRE(addr_family_parse(names[i], &f) == 0);
		CHECK(strcmp(addr_family_name(f), names[i]) == 0);
	}
	enum addr_family f;
	CHECK(addr_family_parse("", &f) != 0);
	CHECK(addr_family_parse("INET", &f) != 0);
	CHECK(addr_family_parse("inet4", &f) != 0);
}

/* The family of the first address resolve gives, or 0 with the error. */
static int first_family(const char *host, enum addr_family f, char *err, size_t n)
{
	struct addr_list l;
	err[0] = '\0';
	if (addr_resolve(host, "22", SOCK_STREAM, f, &l, err, n) != 0)
		return 0;
	int af = l.v[0]->ai_family;
	addr_free(&l);
	return af;
}

TEST(a_family_filters_numeric_addresses)
{
	char err[256];
	CHECK_EQ_INT(first_family("127.0.0.1", ADDR_INET, err, sizeof err), AF_INET);
	CHECK_EQ_INT(first_family("127.0.0.1", ADDR_PREFER_INET6, err, sizeof err), AF_INET);
	CHECK_EQ_INT(first_family("::1", ADDR_PREFER_INET, err, sizeof err), AF_INET6);
	CHECK_EQ_INT(first_family("::1", ADDR_ALL, err, sizeof err), AF_INET6);
	CHECK_EQ_INT(first_family("127.0.0.1", ADDR_INET6, err, sizeof err), 0);
	CHECKF(strstr(err, "cannot resolve 127.0.0.1 as IPv6") != NULL, "said: %s", err);
	CHECK_EQ_INT(first_family("::1", ADDR_INET, err, sizeof err), 0);
	CHECKF(strstr(err, "as IPv4") != NULL, "said: %s", err);
}

/* The terminal's answers are taken out of the keys, in any pieces;
 * keys among them, ESC sequences of keys included, pass on in order. */
TEST(terminal_answers_taken_out_of_the_keys)
{
	static const char in[] = "a\033]11;rgb:1010/2020/3030\033\\\033[A"
		"\033]10;rgb:c/c/c\007\033]4;1;rgb:cdcd/0000/0000\033\\\033x"
		"\033[?1u\033]4;300;rgb:1/2/3\007\033[?62;22cb";
	for (size_t cut = 0; cut < sizeof in - 1; cut++) {
		struct termquery q;
		uint8_t out[sizeof in + TERMQUERY_SEQ_MAX + 1];
		size_t n = 0, held;
		termquery_start(&q, 1000);
		n += termquery_filter(&q, (const uint8_t *)in, cut, out);
		n += termquery_filter(&q, (const uint8_t *)in + cut, sizeof in - 1 - cut, out + n);
		CHECK(termquery_finished(&q, 1000, out + n, &held));
		n += held;
		CHECKF(n == 7 && memcmp(out, "a\033[A\033xb", 7) == 0, "cut %zu: %.*s",
		       cut, (int)n, (const char *)out);
		CHECK_EQ_INT(q.said.colour[TERM_COLOUR_BG], SYNC_COLOUR_KNOWN | 0x102030);
		CHECK_EQ_INT(q.said.colour[TERM_COLOUR_FG], SYNC_COLOUR_KNOWN | 0xcccccc);
		CHECK_EQ_INT(q.said.colour[1], SYNC_COLOUR_KNOWN | 0xcd0000);
		CHECK_EQ_INT(q.said.keys, TERM_KEYS_KITTY);
		CHECK(!q.active);
	}
}

/* No answer by the deadline: what was held (an Escape typed) goes on. */
TEST(terminal_silent_keys_go_on)
{
	struct termquery q;
	uint8_t out[64];
	size_t held;
	termquery_start(&q, 0);
	CHECK_EQ_INT(termquery_filter(&q, (const uint8_t *)"\033", 1, out), 0);
	CHECK(!termquery_finished(&q, TERMQUERY_WAIT_MS - 1, out, &held));
	CHECK_EQ_INT(termquery_wait_ms(&q, 500), TERMQUERY_WAIT_MS - 500);
	CHECK(termquery_finished(&q, TERMQUERY_WAIT_MS, out, &held));
	CHECK(held == 1 && out[0] == 0x1b);
	CHECK_EQ_INT(q.said.colour[TERM_COLOUR_BG], 0);
	CHECK_EQ_INT(termquery_wait_ms(&q, 0), -1);
}

/* The terminal's word that its colours changed is no key either. */
TEST(colour_change_reports_taken_out)
{
	uint8_t buf[64];
	bool changed = false;
	memcpy(buf, "a\033[?997;1nb\033[?997;n\033[?997;2", 27);
	size_t n = termquery_take_changes(buf, 27, &changed);
	CHECK(changed);
	CHECKF(n == 18 && memcmp(buf, "ab\033[?997;n\033[?997;2", 18) == 0,
	       "%zu: %.*s", n, (int)n, (const char *)buf);
	changed = false;
	memcpy(buf, "\033[A", 3);
	CHECK_EQ_INT(termquery_take_changes(buf, 3, &changed), 3);
	CHECK(!changed);
}

static const struct test tests[] = {
	TEST_ENTRY(colour_change_reports_taken_out),
	TEST_ENTRY(terminal_answers_taken_out_of_the_keys),
	TEST_ENTRY(terminal_silent_keys_go_on),
	TEST_ENTRY(connect_takes_mosh_command_lines),
	TEST_ENTRY(connect_refuses_bad_values_before_anything_runs),
	TEST_ENTRY(family_names_round_trip),
	TEST_ENTRY(a_family_filters_numeric_addresses),
};

TEST_MAIN("roles", tests)
