/* Unit tests of the ssp/ state objects: the user stream (exactly once, in
 * order, between any two of its states) and the terminal state (diffs are
 * renderer bytes, across writes and resizes), and every malformed diff. */
#include "test.h"

#include <stdint.h>

#include "../sync/sync.h"
#include "../term/term.h"

static struct ssp_writer w;

static int diff_apply(const struct ssp_state_ops *ops, const void *from,
                      const void *to, void **result)
{
	w.len = 0;
	int rc = ops->diff(from, to, &w);
	if (rc != SSP_OK)
		return rc;
	*result = ops->copy(from);
	if (*result == NULL)
		return SSP_ENOMEM;
	return ops->apply(*result, w.data, w.len);
}

TEST(userstream_exactly_once_between_any_states)
{
	const struct ssp_state_ops *ops = &sync_userstream_ops;
	struct sync_userstream *cur = sync_userstream_new();
	void *snap[40];
	REQUIRE(cur);
	for (int i = 0; i < 40; i++) {
		char b[8];
		int n = snprintf(b, sizeof b, "k%d", i);
		if (i % 7 == 3)
			REQUIRE(sync_userstream_push_resize(cur, 80 + i, 24) == SSP_OK);
		REQUIRE(sync_userstream_push_bytes(cur, b, (size_t)n) == SSP_OK);
		snap[i] = ops->copy(cur);
		REQUIRE(snap[i]);
	}
	/* From every state to every later one. */
	for (int a = 0; a < 40; a += 3) {
		for (int b = a; b < 40; b += 5) {
			void *got = NULL;
			REQUIRE(diff_apply(ops, snap[a], snap[b], &got) == SSP_OK);
			CHECK(ops->equal(got, snap[b]));
			/* Every event, once, in order, identical. */
			for (uint64_t i = 0; i < sync_userstream_total(got); i++) {
				struct sync_user_event x, y;
				REQUIRE(sync_userstream_get(got, i, &x) == 1);
				REQUIRE(sync_userstream_get(snap[b], i, &y) == 1);
				CHECK(x.type == y.type && x.len == y.len && x.cols == y.cols);
				CHECK(x.len == 0 || memcmp(x.bytes, y.bytes, x.len) == 0);
			}
			ops->free(got);
		}
	}
	/* Backwards is refused. */
	w.len = 0;
	CHECK_EQ_INT(ops->diff(snap[10], snap[3], &w), SSP_EINVAL);
	for (int i = 0; i < 40; i++)
		ops->free(snap[i]);
	ops->free(cur);
}

/* What the user's terminal said goes across in a terminal event, every
 * colour it gave and its keys, and comes out the same. */
TEST(userstream_carries_what_the_terminal_said)
{
	const struct ssp_state_ops *ops = &sync_userstream_ops;
	struct sync_userstream *a = sync_userstream_new(), *b = NULL;
	struct sync_terminal t = { { 0 }, TERM_KEYS_KITTY }, u;
	REQUIRE(a);
	t.colour[1] = SYNC_COLOUR_KNOWN | 0xcc0000;
	t.colour[255] = SYNC_COLOUR_KNOWN | 0x000001;
	t.colour[TERM_COLOUR_BG] = SYNC_COLOUR_KNOWN | 0x102030;
	REQUIRE(sync_userstream_push_bytes(a, "x", 1) == SSP_OK);
	REQUIRE(sync_userstream_push_terminal(a, &t) == SSP_OK);
	void *empty = sync_userstream_new();
	REQUIRE(empty);
	REQUIRE(diff_apply(ops, empty, a, (void **)&b) == SSP_OK);
	struct sync_user_event ev;
	REQUIRE(sync_userstream_get(b, 1, &ev) == 1);
	CHECK_EQ_INT(ev.type, SYNC_USER_TERMINAL);
	REQUIRE(sync_terminal_decode(&u, ev.bytes, ev.len) == SSP_OK);
	CHECK(memcmp(&t, &u, sizeof t) == 0);
	/* Bounded reading: a colour past the last, a count past the bytes,
	 * trailing bytes. */
	static const uint8_t bad[][8] = { { 1, 0x82, 0x02, 1, 2, 3, 0 },
	                                  { 5, 1, 1, 2, 3, 0 },
	                                  { 0, 0, 0 } };
	static const size_t badlen[] = { 7, 6, 3 };
	for (size_t i = 0; i < 3; i++)
		CHECK_EQ_INT(sync_terminal_decode(&u, bad[i], badlen[i]), SSP_EMALFORMED);
	ops->free(empty);
	ops->free(a);
	ops->free(b);
}

TEST(userstream_forget_and_subtract)
{
	const struct ssp_state_ops *ops = &sync_userstream_ops;
	struct sync_userstream *u = sync_userstream_new();
	struct sync_user_event ev;
	REQUIRE(u);
	for (int i = 0; i < 10; i++)
		REQUIRE(sync_userstream_push_bytes(u, "x", 1) == SSP_OK);
	void *acked = ops->copy(u);
	REQUIRE(sync_userstream_push_bytes(u, "yz", 2) == SSP_OK);
	ops->subtract(u, acked);
	CHECK_EQ_INT(sync_userstream_total(u), 11);
	CHECK_EQ_INT(sync_userstream_get(u, 9, &ev), 0);   /* forgotten */
	CHECK_EQ_INT(sync_userstream_get(u, 10, &ev), 1);
	CHECK(ev.len == 2 && memcmp(ev.bytes, "yz", 2) == 0);
	CHECK_EQ_INT(sync_userstream_get(u, 11, &ev), 0);  /* past the end */
	/* A diff from the acked state still works after forgetting. */
	void *got = NULL;
	REQUIRE(diff_apply(ops, acked, u, &got) == SSP_OK);
	CHECK(ops->equal(got, u));
	sync_userstream_forget(u, 1000);
	CHECK_EQ_INT(sync_userstream_total(u), 11);
	CHECK_EQ_INT(sync_userstream_push_bytes(u, "", 0), SSP_OK);
	CHECK_EQ_INT(sync_userstream_total(u), 11);
	CHECK_EQ_INT(sync_userstream_push_resize(u, 0, 5), SSP_EINVAL);
	ops->free(got);
	ops->free(acked);
	ops->free(u);
}

TEST(userstream_malformed_diffs)
{
	const struct ssp_state_ops *ops = &sync_userstream_ops;
	struct sync_userstream *base = sync_userstream_new(), *to;
	REQUIRE(base);
	to = ops->copy(base);
	sync_userstream_push_bytes(to, "hello", 5);
	sync_userstream_push_resize(to, 100, 40);
	w.len = 0;
	REQUIRE(ops->diff(base, to, &w) == SSP_OK);
	for (size_t n = 0; n < w.len; n++) {
		void *s = ops->copy(base);
		CHECKF(ops->apply(s, w.data, n) != SSP_OK, "prefix %zu accepted", n);
		ops->free(s);
	}
	static const uint8_t bad[][8] = {
		{ 1, 9, 1, 'x' },          /* unknown event type */
		{ 1, 1, 0 },               /* empty keystroke event */
		{ 1, 2, 0, 5 },            /* zero columns */
		{ 0x7f, 1, 1, 'x' },       /* count beyond the bytes */
		{ 1, 1, 1, 'x', 0 },       /* trailing byte */
	};
	static const size_t badlen[] = { 4, 3, 4, 4, 5 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *s = ops->copy(base);
		CHECKF(ops->apply(s, bad[i], badlen[i]) == SSP_EMALFORMED, "bad %zu", i);
		ops->free(s);
	}
	ops->free(to);
	ops->free(base);
}

TEST(termstate_diff_apply_writes_and_resizes)
{
	const struct ssp_state_ops *ops = &sync_termstate_ops;
	struct term *server = term_new(80, 24);
	struct sync_termstate *s0 = sync_termstate_new(80, 24);
	REQUIRE(server && s0);
	void *prev = ops->copy(s0);
	static const char *const steps[] = {
		"hello \033[1;31mworld\033[m\r\n",
		"\033[2J\033[5;5H\xe4\xb8\xad\xe6\x96\x87 text\033]2;title\a",
		"\033[?1049h\033[Hfull screen app\033[?1h",
		"\033[?1049l\033[?25l",
	};
	for (int i = 0; i < 6; i++) {
		if (i == 4)
			term_resize(server, 100, 30);
		else if (i == 5)
			term_resize(server, 20, 5);
		else
			term_write(server, steps[i], strlen(steps[i]));
		struct sync_termstate *cur = sync_termstate_from_frame(term_frame(server),
		                                                      (uint64_t)i * 3);
		REQUIRE(cur);
		void *got = NULL;
		REQUIRE(diff_apply(ops, prev, cur, &got) == SSP_OK);
		char why[256] = "";
		CHECKF(term_frame_equal(((struct sync_termstate *)got)->frame, cur->frame,
		                        why, sizeof why), "step %d: %s", i, why);
		CHECK_EQ_INT(((struct sync_termstate *)got)->echo_ack, i * 3);
		CHECK(ops->equal(got, cur));
		/* From the initial blank state too: a new client attaching. */
		void *fresh = NULL;
		REQUIRE(diff_apply(ops, s0, cur, &fresh) == SSP_OK);
		CHECK(ops->equal(fresh, cur));
		ops->free(fresh);
		ops->free(prev);
		prev = got;
		ops->free(cur);
	}
	ops->free(prev);
	ops->free(s0);
	term_free(server);
}

TEST(termstate_malformed_diffs)
{
	const struct ssp_state_ops *ops = &sync_termstate_ops;
	struct sync_termstate *s = sync_termstate_new(10, 3);
	static const uint8_t bad[][6] = {
		{ 2, 0, 10, 3 },        /* unknown flag */
		{ 0, 0, 0, 3 },         /* zero columns */
		{ 0, 0, 10 },           /* truncated */
		{ 0, 0, 0xe9, 0x07, 3 },/* 1001 columns */
	};
	static const size_t badlen[] = { 4, 4, 3, 5 };
	REQUIRE(s);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *c = ops->copy(s);
		CHECKF(ops->apply(c, bad[i], badlen[i]) == SSP_EMALFORMED, "bad %zu", i);
		ops->free(c);
	}
	/* Arbitrary renderer bytes are just terminal input: never an error. */
	void *c = ops->copy(s);
	static const uint8_t junk[] = { 0, 7, 10, 3, 0x1b, '[', '9', '9', 0xff, 'x' };
	CHECK_EQ_INT(ops->apply(c, junk, sizeof junk), SSP_OK);
	CHECK_EQ_INT(((struct sync_termstate *)c)->echo_ack, 7);
	ops->free(c);
	ops->free(s);
}

TEST(userstream_pending_counts_past_older)
{
	struct sync_userstream *a = sync_userstream_new();
	REQUIRE(a);
	REQUIRE(sync_userstream_push_bytes(a, "abc", 3) == SSP_OK);
	struct sync_userstream *older = sync_userstream_ops.copy(a);
	REQUIRE(older);
	CHECK_EQ_INT((int)sync_userstream_pending(a, older), 0);
	REQUIRE(sync_userstream_push_bytes(a, "hello", 5) == SSP_OK);
	REQUIRE(sync_userstream_push_resize(a, 100, 30) == SSP_OK);
	/* 5 bytes + 4 of framing, and a resize's 4 */
	CHECK_EQ_INT((int)sync_userstream_pending(a, older), 5 + 4 + 4);
	/* Events the newer state already forgot are not counted. */
	sync_userstream_forget(a, 2);
	CHECK_EQ_INT((int)sync_userstream_pending(a, older), 4);
	sync_userstream_ops.free(older);
	sync_userstream_ops.free(a);
}

TEST(flow_backlog_is_bounded)
{
	static struct sync_flow f;
	static uint8_t big[SYNC_FLOW_BACKLOG + 100];
	sync_flow_init(&f, 0);
	CHECK_EQ_INT((int)sync_flow_room(&f), SYNC_FLOW_BACKLOG);
	CHECK_EQ_INT((int)sync_flow_add(&f, big, 100), 100);
	CHECK_EQ_INT((int)sync_flow_add(&f, big, sizeof big), SYNC_FLOW_BACKLOG - 100);
	CHECK_EQ_INT((int)sync_flow_room(&f), 0);
	CHECK_EQ_INT((int)sync_flow_add(&f, big, 1), 0);
	CHECK_EQ_INT((int)f.window, SYNC_FLOW_WINDOW_START);
}

/* The text of history entry e, decoded by an emulator: its first row. */
static void entry_text(const struct sync_hist_entry *e, char *out, size_t cap)
{
	struct term *t = term_new(200, 2);
	size_t o = 0;
	term_write(t, e->bytes, e->len);
	const struct term_frame *f = term_frame(t);
	for (int x = 0; x < term_frame_cols(f) && o + 5 < cap; x++) {
		struct term_cell c = term_frame_cell(f, 0, x);
		if (c.attr & TERM_ATTR_WIDE_CONT)
			continue;
		o += term_utf8_encode(c.ch ? c.ch : ' ', out + o);
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	term_free(t);
}

/* History lines reach a receiver in order and once, whichever older state
 * a diff is made from (a lost or reordered state, a duplicate applied to
 * two copies), with their colours, and a gap where the server's ring no
 * longer held lines; forgetting what was read trims every copy. */
TEST(termstate_history_in_order_once_from_any_state)
{
	const struct ssp_state_ops *ops = &sync_termstate_ops;
	struct term *server = term_new(40, 5);
	REQUIRE(server);
	void *held[30];
	int nheld = 0;
	held[nheld++] = sync_termstate_new(40, 5);
	uint64_t consumed = 0, next_line = 0;
	char buf[128], text[256];
	for (int step = 0; step < 25; step++) {
		for (int k = 0; k < step % 4 * 3; k++) {
			snprintf(buf, sizeof buf, "\033[3%dmline %llu\033[m\r\n", k % 8,
			         (unsigned long long)next_line++);
			term_write(server, buf, strlen(buf));
		}
		struct sync_termstate *cur = sync_termstate_from_frame(term_frame(server), 0);
		REQUIRE(cur);
		sync_termstate_set_history(cur, server, term_scrollback_total(server));
		/* From a random held state: the newest, or an older one */
		void *base = held[test_rnd((uint32_t)nheld)];
		void *got = NULL, *dup = NULL;
		REQUIRE(diff_apply(ops, base, cur, &got) == SSP_OK);
		REQUIRE(diff_apply(ops, base, cur, &dup) == SSP_OK);
		CHECK(ops->equal(got, dup));
		ops->free(dup);
		struct sync_termstate *g = got;
		CHECK(g->hist_total == cur->hist_total);
		/* Read what is new, as the client does. */
		uint64_t num = g->hist_base;
		for (size_t i = 0; i < g->hist_n; i++) {
			const struct sync_hist_entry *e = &g->hist[i];
			if (num >= consumed) {
				CHECK_EQ_INT(e->kind, SYNC_HIST_LINE);
				entry_text(e, text, sizeof text);
				snprintf(buf, sizeof buf, "line %llu", (unsigned long long)num);
				CHECKF(strcmp(text, buf) == 0, "line %llu reads '%s'",
				       (unsigned long long)num, text);
				CHECK(memmem(e->bytes, e->len, "\033[3", 3) != NULL);
				consumed = num + 1;
			}
			num += e->count;
		}
		CHECK(num == g->hist_total);
		for (int k = 0; k < nheld; k++)
			ops->forget(held[k], consumed);
		ops->forget(got, consumed);
		CHECK_EQ_INT((int)((struct sync_termstate *)got)->hist_n, 0);
		if (nheld == 30) {
			ops->free(held[0]);
			memmove(held, held + 1, (size_t)(nheld - 1) * sizeof *held);
			nheld--;
		}
		held[nheld++] = got;
		ops->free(cur);
	}
	CHECK(consumed == next_line - 4); /* the last four are on the screen */

	/* A ring of 16 lines and 100 printed: one gap, then the 16 kept. */
	struct term *small = term_new(40, 5);
	REQUIRE(small);
	term_set_scrollback_lines(small, 16);
	for (int k = 0; k < 104; k++) {
		snprintf(buf, sizeof buf, "l%d\r\n", k);
		term_write(small, buf, strlen(buf));
	}
	struct sync_termstate *cur = sync_termstate_from_frame(term_frame(small), 0);
	sync_termstate_set_history(cur, small, term_scrollback_total(small));
	struct sync_termstate *s0 = sync_termstate_new(40, 5);
	void *got = NULL;
	REQUIRE(diff_apply(ops, s0, cur, &got) == SSP_OK);
	struct sync_termstate *g = got;
	CHECK_EQ_INT((int)g->hist_total, 100);
	REQUIRE(g->hist_n == 17);
	CHECK_EQ_INT(g->hist[0].kind, SYNC_HIST_GAP);
	CHECK_EQ_INT((int)g->hist[0].count, 84);
	entry_text(&g->hist[1], text, sizeof text);
	CHECK(strcmp(text, "l84") == 0);
	ops->free(got);
	ops->free(s0);
	ops->free(cur);
	term_free(small);
	for (int k = 0; k < nheld; k++)
		ops->free(held[k]);
	term_free(server);
}

/* A history part that does not follow the state it is applied to, or is
 * cut short, is refused. */
TEST(termstate_history_malformed)
{
	const struct ssp_state_ops *ops = &sync_termstate_ops;
	struct sync_termstate *s = sync_termstate_new(10, 3);
	REQUIRE(s);
	static const uint8_t bad[][12] = {
		{ 1, 0, 10, 3, 5, 0 },            /* from 5, the state has 0 */
		{ 1, 0, 10, 3, 0, 1, 9 },         /* an unknown kind */
		{ 1, 0, 10, 3, 0, 1, 0, 2, 9, 'a' }, /* a line cut short */
		{ 1, 0, 10, 3, 0, 1, 2, 0 },      /* a gap of nothing */
		{ 1, 0, 10, 3, 0, 3, 2, 1 },      /* fewer entries than said */
	};
	static const size_t badlen[] = { 6, 7, 10, 8, 8 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *c = ops->copy(s);
		CHECKF(ops->apply(c, bad[i], badlen[i]) == SSP_EMALFORMED, "bad %zu", i);
		ops->free(c);
	}
	ops->free(s);
}

static struct sync_termstate *published(struct term *t)
{
	struct sync_termstate *st = sync_termstate_from_frame(term_frame(t), 0);
	if (st != NULL)
		sync_termstate_set_history(st, t, term_scrollback_total(t));
	return st;
}

/* ED 3 (bash's clear) reaches the receiver as one clear entry: from a
 * state before it, the lines before the clear are skipped (not a gap),
 * the lines after it follow; a clear with no new line is a change of
 * its own. */
TEST(termstate_history_clear)
{
	const struct ssp_state_ops *ops = &sync_termstate_ops;
	struct term *t = term_new(40, 5);
	struct sync_termstate *s0 = sync_termstate_new(40, 5);
	REQUIRE(t && s0);
	term_set_scrollback_lines(t, 100);
	char buf[32], text[64];
	for (int k = 0; k < 20; k++) {
		snprintf(buf, sizeof buf, "l%d\r\n", k);
		term_write(t, buf, strlen(buf));
	}
	/* (A sender's diff reads the lines when it is made.) */
	void *r1 = NULL, *r2 = NULL, *r2b = NULL, *r3 = NULL;
	struct sync_termstate *cur1 = published(t);
	REQUIRE(cur1 && diff_apply(ops, s0, cur1, &r1) == SSP_OK);
	CHECK_EQ_INT((int)((struct sync_termstate *)r1)->hist_n, 16);
	term_write(t, "\033[3J", 4);
	for (int k = 0; k < 10; k++) {
		snprintf(buf, sizeof buf, "m%d\r\n", k);
		term_write(t, buf, strlen(buf));
	}
	struct sync_termstate *cur2 = published(t);
	REQUIRE(cur2);
	/* From the state before the clear: the clear, then what followed. */
	REQUIRE(diff_apply(ops, r1, cur2, &r2) == SSP_OK);
	struct sync_termstate *g = r2;
	REQUIRE(g->hist_n == 16 + 1 + 10);
	CHECK_EQ_INT(g->hist[16].kind, SYNC_HIST_CLEAR);
	CHECK_EQ_INT((int)g->hist[16].count, 0);
	CHECK_EQ_INT((int)g->hist[16].clears, 1);
	entry_text(&g->hist[17], text, sizeof text);
	CHECK(strcmp(text, "l16") == 0); /* on the screen at the clear: kept */
	CHECK(ops->equal(r2, cur2));
	/* From the first state: the 16 lines before the clear are skipped. */
	REQUIRE(diff_apply(ops, s0, cur2, &r2b) == SSP_OK);
	g = r2b;
	REQUIRE(g->hist_n == 1 + 10);
	CHECK_EQ_INT(g->hist[0].kind, SYNC_HIST_CLEAR);
	CHECK_EQ_INT((int)g->hist[0].count, 16);
	CHECK(ops->equal(r2b, cur2));
	term_write(t, "\033[3J", 4);
	struct sync_termstate *cur3 = published(t);
	REQUIRE(cur3);
	/* A clear alone. */
	CHECK(!ops->equal(cur2, cur3));
	REQUIRE(diff_apply(ops, r2, cur3, &r3) == SSP_OK);
	g = r3;
	CHECK_EQ_INT((int)g->hist_clears, 2);
	CHECK_EQ_INT(g->hist[g->hist_n - 1].kind, SYNC_HIST_CLEAR);
	CHECK(ops->equal(r3, cur3));
	/* A clear that is not newer than the state's is refused. */
	static const uint8_t stale[] = { 1, 0, 40, 5, 26, 1, 3, 0, 2 };
	void *c = ops->copy(r3);
	CHECK(ops->apply(c, stale, sizeof stale) == SSP_EMALFORMED);
	ops->free(c);

	void *all[] = { r1, r2, r2b, r3, cur1, cur2, cur3, s0 };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ops->free(all[i]);
	term_free(t);
}

/* A gap stands for any number of lines, and a diff counts it without
 * visiting them: a state holding a gap of 2^40 lines (and no emulator to
 * read lines from) diffs in an instant, to one gap (found by the fuzzer
 * as a timeout). */
TEST(termstate_history_huge_gap)
{
	const struct ssp_state_ops *ops = &sync_termstate_ops;
	struct sync_termstate *s = sync_termstate_new(10, 3), *s0 = sync_termstate_new(10, 3);
	REQUIRE(s && s0);
	/* flags, ack, cols, rows, from 0, one entry: a gap of 2^40 */
	static const uint8_t d[] = { 1, 0, 10, 3, 0, 1, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20 };
	REQUIRE(ops->apply(s, d, sizeof d) == SSP_OK);
	REQUIRE(s->hist_total == 1ull << 40);
	void *got = NULL;
	REQUIRE(diff_apply(ops, s0, s, &got) == SSP_OK);
	struct sync_termstate *g = got;
	CHECK(g->hist_total == 1ull << 40);
	REQUIRE(g->hist_n == 1);
	CHECK_EQ_INT(g->hist[0].kind, SYNC_HIST_GAP);
	CHECK(g->hist[0].count == 1ull << 40);
	ops->free(got);
	ops->free(s0);
	ops->free(s);
}

static const struct test tests[] = {
	TEST_ENTRY(termstate_history_in_order_once_from_any_state),
	TEST_ENTRY(termstate_history_malformed),
	TEST_ENTRY(termstate_history_huge_gap),
	TEST_ENTRY(termstate_history_clear),
	TEST_ENTRY(userstream_pending_counts_past_older),
	TEST_ENTRY(flow_backlog_is_bounded),
	TEST_ENTRY(userstream_exactly_once_between_any_states),
	TEST_ENTRY(userstream_carries_what_the_terminal_said),
	TEST_ENTRY(userstream_forget_and_subtract),
	TEST_ENTRY(userstream_malformed_diffs),
	TEST_ENTRY(termstate_diff_apply_writes_and_resizes),
	TEST_ENTRY(termstate_malformed_diffs),
};

int main(int argc, char **argv)
{
	int rc = test_main("sync-state", tests, sizeof tests / sizeof tests[0], argc, argv);
	ssp_writer_free(&w);
	return rc;
}
