/* The transport in one process over loopback: input arrives once and in
 * order, the screen converges, shutdown is acknowledged. (The lossy,
 * roaming, two-process run is tests/e2e/ssp_relay.sh.) */
#include "test.h"

#include <poll.h>
#include <sys/socket.h>
#include <stdint.h>

#include "../crypto/crypto.h"
#include "../sync/sync.h"
#include "../term/term.h"

struct pair {
	struct ssp_transport *cli, *srv;
	struct term *screen;     /* the server's terminal */
	uint64_t consumed;       /* user events the server has applied */
	size_t bytes_in;
};

/* The server's transport takes what its terminal now shows. */
static void publish(struct pair *p)
{
	ssp_transport_set_local(p->srv, sync_termstate_from_frame(
		term_frame(p->screen), ssp_transport_remote_num(p->srv)));
}

/* The server applies new input to its terminal and publishes it. */
static void apply_input(struct pair *p)
{
	const struct sync_userstream *in = ssp_transport_remote(p->srv);
	struct sync_user_event ev;
	bool changed = false;
	while (sync_userstream_get(in, p->consumed, &ev)) {
		if (ev.type == SYNC_USER_BYTES) {
			term_write(p->screen, ev.bytes, ev.len);
			p->bytes_in += ev.len;
		} else {
			term_resize(p->screen, ev.cols, ev.rows);
		}
		p->consumed++;
		changed = true;
	}
	ssp_transport_remote_forget(p->srv, p->consumed);
	if (changed)
		publish(p);
}

static void pump(struct pair *p, int ms)
{
	uint64_t end = ssp_now_ms() + (uint64_t)ms;
	while (ssp_now_ms() < end) {
		uint64_t now = ssp_now_ms();
		struct pollfd fds[2] = {
			{ ssp_conn_fd(ssp_transport_conn(p->cli)), POLLIN, 0 },
			{ ssp_conn_fd(ssp_transport_conn(p->srv)), POLLIN, 0 },
		};
		int wc = ssp_transport_wait_ms(p->cli, now);
		int ws = ssp_transport_wait_ms(p->srv, now);
		int wait = wc < 0 ? ws : ws < 0 ? wc : wc < ws ? wc : ws;
		if (wait < 0 || wait > 5)
			wait = 5;
		poll(fds, 2, wait);
		ssp_transport_recv(p->cli);
		ssp_transport_recv(p->srv);
		apply_input(p);
		now = ssp_now_ms();
		ssp_transport_tick(p->cli, now);
		ssp_transport_tick(p->srv, now);
	}
}

/* A server and a client transport over loopback, and the server's
 * terminal: false if any part could not be made. */
static bool pair_open(struct pair *p)
{
	struct crypto_key k;
	struct ssp_conn *sc = NULL, *cc = NULL;
	char port[16];

	if (crypto_key_generate(&k) != 0 ||
	    ssp_conn_server(&sc, &k, "127.0.0.1", 0, 0) != SSP_OK)
		return false;
	snprintf(port, sizeof port, "%d", ssp_conn_port(sc));
	if (ssp_conn_client(&cc, &k, "127.0.0.1", port, AF_INET) != SSP_OK)
		return false;
	p->screen = term_new(80, 24);
	p->srv = ssp_transport_new(sc, true, &sync_termstate_ops, sync_termstate_new(80, 24),
	                           &sync_userstream_ops, sync_userstream_new());
	p->cli = ssp_transport_new(cc, false, &sync_userstream_ops, sync_userstream_new(),
	                           &sync_termstate_ops, sync_termstate_new(80, 24));
	return p->screen && p->srv && p->cli;
}

static void pair_close(struct pair *p)
{
	ssp_transport_free(p->cli);
	ssp_transport_free(p->srv);
	term_free(p->screen);
}

TEST(keystrokes_echo_and_shutdown)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));

	/* Type a line, key by key, as events. */
	static const char line[] = "echo hello, moshi\r\n";
	for (size_t i = 0; i < sizeof line - 1; i++) {
		REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), &line[i], 1) == SSP_OK);
		pump(&p, 3);
	}
	REQUIRE(sync_userstream_push_resize(ssp_transport_local(p.cli), 100, 30) == SSP_OK);
	pump(&p, 400);
	CHECK_EQ_INT(p.consumed, sizeof line - 1 + 1);
	CHECK_EQ_INT(p.bytes_in, sizeof line - 1);
	const struct sync_termstate *seen = ssp_transport_remote(p.cli);
	char why[256] = "";
	CHECKF(term_frame_equal(seen->frame, term_frame(p.screen), why, sizeof why),
	       "client's screen differs: %s", why);
	CHECK_EQ_INT(term_frame_cols(seen->frame), 100);
	CHECK(seen->echo_ack > 0);
	CHECK(ssp_transport_stats(p.srv)->instructions_received > 0);
	/* Nothing was lost, so nothing went out twice. */
	CHECK_EQ_INT(ssp_transport_stats(p.cli)->instructions_doubled, 0);
	CHECK_EQ_INT(ssp_transport_stats(p.srv)->instructions_doubled, 0);

	/* Shutdown from the server, acknowledged by the client. */
	ssp_transport_start_shutdown(p.srv);
	for (int i = 0; i < 100 && !ssp_transport_shutdown_acked(p.srv); i++)
		pump(&p, 10);
	CHECK(ssp_transport_remote_shutdown(p.cli));
	CHECK(ssp_transport_shutdown_acked(p.srv));
	pair_close(&p);
}

/* from ticks until its next datagram reaches to, which never reads it
 * (lost on the way): false if none came within 200 tries. */
static bool lose_next(struct ssp_transport *from, struct ssp_transport *to)
{
	int fd = ssp_conn_fd(ssp_transport_conn(to));
	for (int i = 0; i < 200; i++) {
		ssp_transport_tick(from, ssp_now_ms());
		struct pollfd pf = { fd, POLLIN, 0 };
		char junk[2048];
		if (poll(&pf, 1, 1) == 1 && recv(fd, junk, sizeof junk, 0) > 0)
			return true;
	}
	return false;
}

/* Key "a" goes through, so each side knows the other: false if not. */
static bool type_a(struct pair *p)
{
	if (sync_userstream_push_bytes(ssp_transport_local(p->cli), "a", 1) != SSP_OK)
		return false;
	pump(p, 300);
	return p->bytes_in == 1;
}

/* Key "a" goes through, then key "b" is pushed and its datagram lost on
 * the way: false if that failed. */
static bool type_a_then_lose_b(struct pair *p)
{
	if (!type_a(p) ||
	    sync_userstream_push_bytes(ssp_transport_local(p->cli), "b", 1) != SSP_OK)
		return false;
	return lose_next(p->cli, p->srv);
}

/* A keystroke's datagram is lost and the typist goes on, one key every
 * 40 ms. Everything typed after it must arrive soon after the lost key
 * is resent, while typing goes on: diffs chained to the lost state and
 * simply dropped would stall all of it until typing stopped. */
TEST(a_lost_keystroke_does_not_stall_steady_typing)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a_then_lose_b(&p));

	/* Steady typing for 1.5 s: most of it must arrive while it goes on. */
	int typed = 0;
	for (; typed < 38; typed++) {
		REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "x", 1) == SSP_OK);
		pump(&p, 40);
	}
	CHECKF(p.bytes_in >= 2 + (size_t)typed / 2,
	       "only %zu of %d bytes arrived while typing went on", p.bytes_in, 2 + typed);
	pump(&p, 1000);
	CHECK_EQ_INT(p.bytes_in, 2 + typed);
	/* Once the loss showed, the small states went out twice. */
	CHECK(ssp_transport_stats(p.cli)->instructions_doubled > 0);
	pair_close(&p);
}

/* The user stream resends a lost hop on its own, and the receiver keeps
 * the hop built on it until then: after "b" is lost, "c" (a diff from
 * the state with "b") waits at the server, and arrives with the resent
 * "b", in order, without being sent again. The server acknowledges soon
 * what it kept, and that acknowledgement, which leaves "b" out, has the
 * client resend "b" at once (hop_overdue): about 26 ms after "b" went
 * out ("c" leaves a send interval, 20 ms, after it; the acknowledgement
 * SSP_STREAM_ACK_DELAY_MS after that), where the retransmission timeout
 * would wait RTO + SSP_STREAM_ACK_DELAY_MS, 56 ms at the least. */
TEST(a_lost_hop_is_resent_alone_and_the_next_waits_for_it)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a_then_lose_b(&p));
	uint64_t sent_before = ssp_transport_stats(p.cli)->instructions_sent;
	REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "c", 1) == SSP_OK);
	for (int i = 0; i < 60 && p.bytes_in < 3; i++)
		pump(&p, 10);
	CHECK_EQ_INT(p.bytes_in, 3);
	/* "c" waited for its base; "b" went again before its RTO. */
	CHECK_EQ_INT(ssp_transport_stats(p.srv)->stashed, 1);
	CHECK_EQ_INT(ssp_transport_stats(p.srv)->unstashed, 1);
	CHECK_EQ_INT(ssp_transport_stats(p.cli)->hops_resent_early, 1);
	CHECK_EQ_INT(ssp_transport_stats(p.cli)->hops_resent, 1);
	/* In order: the screen shows "abc". */
	const struct term_frame *f = term_frame(p.screen);
	char got[4] = "";
	for (int x = 0; x < 3; x++)
		got[x] = (char)term_frame_cell(f, 0, x).ch;
	CHECK_EQ_STR(got, "abc");
	/* "b" went out again (twice, the loss being fresh), "c" did not:
	 * the instructions since are those and the acknowledgements. */
	CHECK(ssp_transport_stats(p.cli)->instructions_sent - sent_before <= 6);
	pair_close(&p);
}

/* A screen update to the client is lost, and the client moves to a new
 * source port (as behind a NAT that rebinds): the server must send the
 * update again as soon as the client's first datagram from the new port
 * arrives, not a retransmission timeout (RTO + SSP_ACK_DELAY_MS, 150 ms
 * at the least) after the lost one; until then it would build every new
 * diff on the lost state. */
TEST(after_a_roam_the_lost_screen_is_resent_at_once)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));

	/* The server prints "Z"; its datagram to the client is lost. */
	term_write(p.screen, "Z", 1);
	publish(&p);
	REQUIRE(lose_next(p.srv, p.cli));

	/* The client moves (a hop, as if it had heard nothing for long),
	 * then types "b" from its new port. */
	REQUIRE(ssp_conn_maybe_hop(ssp_transport_conn(p.cli),
	                           ssp_now_ms() + 2 * SSP_PORT_HOP_MS) == 1);
	REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "b", 1) == SSP_OK);
	pump(&p, 60);
	CHECK_EQ_INT(ssp_conn_stats(ssp_transport_conn(p.srv))->roams, 1);
	CHECK_EQ_INT(p.bytes_in, 2);
	/* Within 60 ms the client shows the lost "Z", and the "b" after it. */
	const struct sync_termstate *seen = ssp_transport_remote(p.cli);
	char got[4] = "";
	for (int x = 0; x < 3; x++)
		got[x] = (char)term_frame_cell(seen->frame, 0, x).ch;
	CHECK_EQ_STR(got, "aZb");
	pair_close(&p);
}

/* Key "b" reaches the server, and the echo the server sends back, which
 * also acknowledges "b", is lost. The client, unacknowledged, resends
 * "b" after RTO + SSP_STREAM_ACK_DELAY_MS (56 ms at the least); the
 * server, which has "b", must take that resend as a sign that its echo
 * was lost and send it again at once, not a retransmission timeout (RTO
 * + SSP_ACK_DELAY_MS, 150 ms at the least) after the lost one. */
TEST(a_resent_key_brings_its_lost_echo_at_once)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));

	/* "b" goes out; everything to the client is lost until the server
	 * has applied it and sent its echo. */
	REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "b", 1) == SSP_OK);
	uint64_t start = ssp_now_ms();
	uint64_t sent_before = ssp_transport_stats(p.srv)->instructions_sent;
	int fd = ssp_conn_fd(ssp_transport_conn(p.cli));
	bool echoed = false;
	while (!echoed && ssp_now_ms() < start + 40) {
		uint64_t now = ssp_now_ms();
		ssp_transport_tick(p.cli, now);
		ssp_transport_recv(p.srv);
		apply_input(&p);
		ssp_transport_tick(p.srv, now);
		echoed = ssp_transport_stats(p.srv)->instructions_sent > sent_before;
		struct pollfd pf = { fd, POLLIN, 0 };
		char junk[2048];
		while (poll(&pf, 1, 1) == 1 && recv(fd, junk, sizeof junk, 0) > 0)
			;
	}
	REQUIRE(echoed && p.bytes_in == 2);

	/* The client shows "ab" once the echo comes again. */
	uint64_t shown = 0;
	while (shown == 0 && ssp_now_ms() < start + 600) {
		pump(&p, 2);
		const struct sync_termstate *seen = ssp_transport_remote(p.cli);
		if (term_frame_cell(seen->frame, 0, 1).ch == 'b')
			shown = ssp_now_ms();
	}
	REQUIRE(shown != 0);
	CHECK(ssp_transport_stats(p.cli)->hops_resent >= 1);
	CHECK_EQ_INT(ssp_transport_stats(p.srv)->resends_heard, 1);
	/* The client's resend at about 56 ms, and the echo straight back:
	 * the server's own timer would take 150 ms. */
	CHECKF(shown - start < 130, "the echo came %d ms after the key", (int)(shown - start));
	pair_close(&p);
}

/* The server's terminal prints s and the server ticks at time `at`;
 * whether a state went out. */
enum { BUSY, SETTLED, ANSWER };
static bool output_at(struct pair *p, const char *s, int how, uint64_t at)
{
	uint64_t before = ssp_transport_stats(p->srv)->instructions_sent;
	if (s != NULL) {
		term_write(p->screen, s, strlen(s));
		publish(p);
	}
	if (how != BUSY)
		ssp_transport_settled(p->srv, how == ANSWER);
	ssp_transport_tick(p->srv, at);
	return ssp_transport_stats(p->srv)->instructions_sent > before;
}

/* A state the application has gone quiet on (ssp_transport_settled: a
 * prompt after Ctrl-C) leaves once the collection delay is over, even
 * just after another state, instead of a send interval (20 ms at the
 * least) after it; only one in a send interval, so the next waits,
 * unless it answers input (a key's echo), which leaves at once: the
 * server waited for its quiet (SSP_ANSWER_QUIET_MS) before saying so;
 * and the first settled state after an answer (the prompt after Ctrl-C's
 * echoed "^C") leaves at once too, the next one waiting again. The
 * times are the test's own, ticks at chosen milliseconds. */
TEST(a_settled_state_leaves_at_once_once_an_interval)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));
	uint64_t t = ssp_now_ms();
	unsigned d = SSP_SEND_MINDELAY_SERVER_MS;

	/* "x", the first in long: after the collection delay. */
	CHECK(!output_at(&p, "x", BUSY, t));
	CHECK(output_at(&p, NULL, BUSY, t + d));
	/* "y" a millisecond later, settled: after its collection delay. */
	CHECK(!output_at(&p, "y", SETTLED, t + d + 1));
	CHECK(output_at(&p, NULL, BUSY, t + 2 * d + 1));
	/* "z", an answer, in the same send interval: at once, with no
	 * collection delay. */
	CHECK(output_at(&p, "z", ANSWER, t + 2 * d + 2));
	/* "w", settled, the rest of that answer: after its collection
	 * delay. */
	CHECK(!output_at(&p, "w", SETTLED, t + 2 * d + 3));
	CHECK(output_at(&p, NULL, BUSY, t + 3 * d + 3));
	/* "v", settled, no answer: a send interval (SRTT / 2,
	 * SSP_SEND_INTERVAL_MIN_MS at the least) after "w". */
	CHECK(!output_at(&p, "v", SETTLED, t + 3 * d + 4));
	uint64_t at = t + 4 * d + 4;
	while (at < t + 1000 && !output_at(&p, NULL, BUSY, at))
		at++;
	CHECKF(at - (t + 3 * d + 3) >= SSP_SEND_INTERVAL_MIN_MS && at < t + 1000,
	       "\"v\" went out %d ms after \"w\"", (int)(at - (t + 3 * d + 3)));
	pair_close(&p);
}

/* The flow sends what it holds as acknowledgements come (the tests' own
 * pacing: a push and a pump of 10 ms), until the server has had `bytes`
 * input bytes in all, or 3 s. */
static void flow_until(struct pair *p, struct sync_flow *f, size_t bytes)
{
	for (int i = 0; i < 300 && p->bytes_in < bytes; i++) {
		sync_flow_send(f, p->cli, ssp_now_ms());
		pump(p, 10);
	}
}

/* A paste draining through the input flow control (its window at 5
 * datagrams): at one instant the client sends four hops or more back to
 * back, one datagram each (a hop of several would arrive whole only if all of
 * them did), instead of one a send interval (20 ms at the least); a key
 * typed then, not a full datagram, waits for the collection delay as
 * before. The server gets the paste whole and in order. The time of the
 * sends is the test's own. */
TEST(a_pastes_full_datagrams_leave_back_to_back)
{
	struct pair p = { 0 };
	static struct sync_flow flow;
	static char paste[20000];
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));
	uint64_t t = ssp_now_ms();
	for (size_t i = 0; i < sizeof paste; i++)
		paste[i] = (char)('a' + i % 26);
	sync_flow_init(&flow, t);
	sync_flow_push(&flow, p.cli, t); /* takes in the acknowledgement of "a" */
	flow.window = 5;
	REQUIRE(sync_flow_add(&flow, paste, sizeof paste) == sizeof paste);
	const struct ssp_stats *cs = ssp_conn_stats(ssp_transport_conn(p.cli));
	uint64_t sent = cs->sent, instr = ssp_transport_stats(p.cli)->instructions_sent;
	int hops = sync_flow_send(&flow, p.cli, t);
	CHECKF(hops >= 4 && hops <= 5, "%d hops at once", hops);
	CHECK_EQ_INT((int)(ssp_transport_stats(p.cli)->instructions_sent - instr), hops);
	CHECK_EQ_INT((int)(cs->sent - sent), hops);
	/* The window is full: nothing more, a key pushed into the stream
	 * included (it goes in after what the flow let through). */
	size_t before_k = sizeof paste - flow.len;
	REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "k", 1) == SSP_OK);
	CHECK(!sync_flow_push(&flow, p.cli, t));
	ssp_transport_tick(p.cli, t);
	CHECK_EQ_INT((int)(cs->sent - sent), hops);
	/* The rest follows as acknowledgements come, whole and in order. */
	flow_until(&p, &flow, 1 + sizeof paste + 1);
	CHECK_EQ_INT((int)p.bytes_in, (int)(1 + sizeof paste + 1));
	struct term *want = term_new(80, 24);
	REQUIRE(want);
	term_write(want, "a", 1);
	term_write(want, paste, before_k);
	term_write(want, "k", 1);
	term_write(want, paste + before_k, sizeof paste - before_k);
	char why[256];
	CHECKF(term_frame_equal(term_frame(want), term_frame(p.screen), why, sizeof why),
	       "the server's screen: %s", why);
	term_free(want);
	pair_close(&p);
}

/* A paste as the session's first input goes out as a burst of the
 * window's floor (SYNC_FLOW_WINDOW_FLOOR, 8 datagrams; as TCP's initial
 * window of 10 segments), not one datagram that doubles per round trip:
 * the window never goes below the floor after a stall, and starting
 * below it only delayed the first paste (a 64 KiB paste at 10% loss took
 * 0.29 s from a start of 1 datagram, 0.19 s from 8). The paste then
 * arrives whole. */
TEST(a_first_paste_starts_at_the_windows_floor)
{
	struct pair p = { 0 };
	static struct sync_flow flow;
	static char paste[20000];
	REQUIRE(pair_open(&p));
	for (size_t i = 0; i < sizeof paste; i++)
		paste[i] = (char)('a' + i % 26);
	sync_flow_init(&flow, ssp_now_ms());
	REQUIRE(sync_flow_add(&flow, paste, sizeof paste) == sizeof paste);
	/* Full datagrams, the last one short of full by the framing of
	 * those before it (it leaves at the next tick). */
	int hops = sync_flow_send(&flow, p.cli, ssp_now_ms());
	CHECKF(hops >= SYNC_FLOW_WINDOW_FLOOR - 1 && hops <= SYNC_FLOW_WINDOW_FLOOR,
	       "%d hops at once", hops);
	flow_until(&p, &flow, sizeof paste);
	CHECK_EQ_INT((int)p.bytes_in, (int)sizeof paste);
	pair_close(&p);
}

/* The server's acknowledgements stop reaching the client (its datagrams
 * are read off the client's socket and dropped) while the client types a
 * key every 25 ms, a state a send interval, until five keys wait: the
 * states sent and not acknowledged stay below what the transport keeps
 * (SSP_MAX_SENT_STATES; past it, it would forget the oldest), the rest
 * waits in the flow's backlog, and once the acknowledgements come again
 * every key arrives, once and in order. */
TEST(the_hops_in_flight_stay_below_the_states_kept)
{
	struct pair p = { 0 };
	static struct sync_flow flow;
	static char typed[200];
	size_t n = 0;
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));
	sync_flow_init(&flow, ssp_now_ms());
	int cfd = ssp_conn_fd(ssp_transport_conn(p.cli));
	int most = 0;
	for (; n < sizeof typed && flow.len < 5; n++) {
		typed[n] = (char)('b' + n % 25);
		REQUIRE(sync_flow_add(&flow, &typed[n], 1) == 1);
		uint64_t end = ssp_now_ms() + 25;
		while (ssp_now_ms() < end) {
			uint64_t now = ssp_now_ms();
			sync_flow_send(&flow, p.cli, now);
			ssp_transport_tick(p.cli, now);
			if (ssp_transport_unacked(p.cli) > most)
				most = ssp_transport_unacked(p.cli);
			struct pollfd pf = { ssp_conn_fd(ssp_transport_conn(p.srv)), POLLIN, 0 };
			poll(&pf, 1, 2);
			ssp_transport_recv(p.srv);
			apply_input(&p);
			ssp_transport_tick(p.srv, ssp_now_ms());
			char junk[2048];
			while (recv(cfd, junk, sizeof junk, MSG_DONTWAIT) > 0)
				;
		}
	}
	CHECKF(most == SSP_MAX_SENT_STATES - 1, "at most %d states in flight", most);
	CHECKF(flow.len == 5, "%zu keys wait after %zu typed", flow.len, n);
	flow_until(&p, &flow, 1 + n);
	CHECK_EQ_INT((int)p.bytes_in, (int)(1 + n));
	struct term *want = term_new(80, 24);
	REQUIRE(want);
	term_write(want, "a", 1);
	term_write(want, typed, n);
	char why[256];
	CHECKF(term_frame_equal(term_frame(want), term_frame(p.screen), why, sizeof why),
	       "the server's screen: %s", why);
	term_free(want);
	pair_close(&p);
}

/* The client types a key (so the server knows where it is), then the
 * server prints a line of output every 10 ms for 300 ms (a stream). */
static void stream_output(struct pair *p)
{
	REQUIRE(type_a(p));
	for (int i = 0; i < 30; i++) {
		term_write(p->screen, "out\r\n", 5);
		publish(p);
		pump(p, 10);
	}
}

/* An idle client watching output moves to a new source port (a NAT
 * rebinding): the server's next datagrams go to the old one. The client
 * has no input to send, and its heartbeat is ACK_INTERVAL (3 s) away;
 * it must probe the silent server well before that (after max(RTO, 250
 * ms)), so that the server learns the new address and the screen
 * catches up. */
TEST(a_silent_stream_is_probed_and_the_screen_catches_up)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	stream_output(&p);
	CHECK_EQ_INT(ssp_transport_stats(p.cli)->probes, 0);

	REQUIRE(ssp_conn_maybe_hop(ssp_transport_conn(p.cli),
	                           ssp_now_ms() + 2 * SSP_PORT_HOP_MS) == 1);
	term_write(p.screen, "END", 3);
	publish(&p);
	pump(&p, 1200);
	CHECK(ssp_transport_stats(p.cli)->probes >= 1);
	CHECK_EQ_INT(ssp_conn_stats(ssp_transport_conn(p.srv))->roams, 1);
	const struct sync_termstate *seen = ssp_transport_remote(p.cli);
	char why[256] = "";
	CHECKF(term_frame_equal(seen->frame, term_frame(p.screen), why, sizeof why),
	       "client's screen differs 1.2 s after the move: %s", why);
	pair_close(&p);
}

/* A server that simply stops printing costs the client at most four
 * probes (250, 500, 1000 and 2000 ms into the silence); the server's own
 * heartbeat, a pure acknowledgement, ends them. */
TEST(a_stream_that_ends_costs_at_most_four_probes)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	stream_output(&p);
	pump(&p, 2 * SSP_ACK_INTERVAL_MS + 500);
	uint64_t probes = ssp_transport_stats(p.cli)->probes;
	CHECKF(probes >= 1 && probes <= 4, "%llu probes", (unsigned long long)probes);
	pair_close(&p);
}

/* A typist's echoes are answers to its own keys, not a stream: however
 * close together, they start no probes. */
TEST(a_typist_starts_no_probes)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	for (int i = 0; i < 8; i++) {
		REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "k", 1) == SSP_OK);
		pump(&p, 150);
	}
	pump(&p, 2500);
	CHECK_EQ_INT(p.bytes_in, 8);
	CHECK_EQ_INT(ssp_transport_stats(p.cli)->probes, 0);
	pair_close(&p);
}

/* A server whose client is gone (its shutdown never acknowledged) waits
 * on: once the tries ran out, nothing is due, so it must not ask to be
 * woken at once, forever (an orphaned server spun a core that way). */
TEST(a_shutdown_tried_out_asks_for_no_wakeup)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(sync_userstream_push_bytes(ssp_transport_local(p.cli), "k", 1) == SSP_OK);
	pump(&p, 200);
	REQUIRE(p.bytes_in == 1);
	ssp_transport_start_shutdown(p.srv);
	/* Only the server runs from here: the client is gone. */
	uint64_t end = ssp_now_ms() + 20000;
	while (!ssp_transport_shutdown_tried_out(p.srv) && ssp_now_ms() < end) {
		struct pollfd fd = { ssp_conn_fd(ssp_transport_conn(p.srv)), POLLIN, 0 };
		int w = ssp_transport_wait_ms(p.srv, ssp_now_ms());
		poll(&fd, 1, w < 0 || w > 100 ? 100 : w);
		ssp_transport_recv(p.srv);
		ssp_transport_tick(p.srv, ssp_now_ms());
	}
	REQUIRE(ssp_transport_shutdown_tried_out(p.srv));
	/* Now and in the ten seconds after (the heartbeat's time among
	 * them), nothing is due at once. */
	uint64_t now = ssp_now_ms();
	for (int s = 0; s <= 10; s++) {
		int w = ssp_transport_wait_ms(p.srv, now + (uint64_t)s * 1000);
		CHECKF(w != 0, "a wakeup due at once %d s after the tries ran out", s);
		ssp_transport_tick(p.srv, now + (uint64_t)s * 1000);
	}
	pair_close(&p);
}

/* A shutdown that says why: the other side reads the reason, as text,
 * anything unprintable shown as '?'. */
TEST(a_shutdown_carries_its_reason)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));
	CHECK_EQ_STR(ssp_transport_remote_reason(p.cli), "");
	ssp_transport_set_reason(p.srv, "taken over from 192.0.2.7\n at 10:00");
	ssp_transport_start_shutdown(p.srv);
	pump(&p, 100);
	CHECK(ssp_transport_remote_shutdown(p.cli));
	CHECK_EQ_STR(ssp_transport_remote_reason(p.cli), "taken over from 192.0.2.7? at 10:00");
	CHECK(ssp_transport_shutdown_acked(p.srv));
	pair_close(&p);
}

/* A state with new history lines is acknowledged as soon as a key is
 * (the server sends more history only then), a screen alone after
 * SSP_ACK_DELAY_MS. */
TEST(new_history_is_acknowledged_soon)
{
	struct pair p = { 0 };
	REQUIRE(pair_open(&p));
	REQUIRE(type_a(&p));
	for (int k = 0; k < 30; k++)
		term_write(p.screen, "line\r\n", 6);
	struct sync_termstate *st = sync_termstate_from_frame(term_frame(p.screen), 0);
	REQUIRE(st);
	uint64_t total = term_scrollback_total(p.screen);
	sync_termstate_set_history(st, p.screen, total);
	ssp_transport_set_local(p.srv, st);
	pump(&p, 50);
	const struct sync_termstate *acked = ssp_transport_acked(p.srv);
	CHECK_EQ_INT((int)acked->hist_total, (int)total);
	/* A change of the screen alone waits for the delayed ack. */
	term_write(p.screen, "x", 1);
	st = sync_termstate_from_frame(term_frame(p.screen), 0);
	REQUIRE(st);
	sync_termstate_set_history(st, p.screen, total);
	ssp_transport_set_local(p.srv, st);
	pump(&p, 50);
	acked = ssp_transport_acked(p.srv);
	CHECK(term_frame_cell(acked->frame, 23, 0).ch != 'x');
	pump(&p, SSP_ACK_DELAY_MS);
	acked = ssp_transport_acked(p.srv);
	CHECK(term_frame_cell(acked->frame, 23, 0).ch == 'x');
	pair_close(&p);
}

static const struct test tests[] = {
	TEST_ENTRY(new_history_is_acknowledged_soon),
	TEST_ENTRY(a_shutdown_carries_its_reason),
	TEST_ENTRY(keystrokes_echo_and_shutdown),
	TEST_ENTRY(a_lost_keystroke_does_not_stall_steady_typing),
	TEST_ENTRY(a_lost_hop_is_resent_alone_and_the_next_waits_for_it),
	TEST_ENTRY(after_a_roam_the_lost_screen_is_resent_at_once),
	TEST_ENTRY(a_resent_key_brings_its_lost_echo_at_once),
	TEST_ENTRY(a_settled_state_leaves_at_once_once_an_interval),
	TEST_ENTRY(a_pastes_full_datagrams_leave_back_to_back),
	TEST_ENTRY(a_first_paste_starts_at_the_windows_floor),
	TEST_ENTRY(the_hops_in_flight_stay_below_the_states_kept),
	TEST_ENTRY(a_silent_stream_is_probed_and_the_screen_catches_up),
	TEST_ENTRY(a_stream_that_ends_costs_at_most_four_probes),
	TEST_ENTRY(a_typist_starts_no_probes),
	TEST_ENTRY(a_shutdown_tried_out_asks_for_no_wakeup),
};

TEST_MAIN("ssp-transport", tests)
