/* Unit tests of ssp/ datagrams: RTT (RFC 6298), timestamps, the replay
 * window, and real endpoints on loopback with a spy in the middle that
 * replays, reflects, truncates, forges and oversizes captured packets. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../crypto/crypto.h"
#include "../ssp/ssp.h"

TEST(rtt_rfc6298)
{
	struct ssp_rtt r;

	ssp_rtt_init(&r);
	CHECK_EQ_INT(ssp_rtt_rto(&r), 1000);           /* 1000 + 4*500, clamped */
	CHECK_EQ_INT(ssp_rtt_send_interval(&r), 250);  /* 500, clamped */
	ssp_rtt_sample(&r, 100);                       /* first: SRTT=R, RTTVAR=R/2 */
	CHECK(r.srtt == 100 && r.rttvar == 50);
	CHECK_EQ_INT(ssp_rtt_rto(&r), 300);
	CHECK_EQ_INT(ssp_rtt_send_interval(&r), 50);
	ssp_rtt_sample(&r, 200);                       /* |100-200| = 100 */
	CHECK(r.rttvar == 0.75 * 50 + 0.25 * 100);
	CHECK(r.srtt == 0.875 * 100 + 0.125 * 200);
	ssp_rtt_sample(&r, 6000);                      /* ignored */
	CHECK(r.srtt == 0.875 * 100 + 0.125 * 200);
	for (int i = 0; i < 100; i++)
		ssp_rtt_sample(&r, 2);
	CHECK_EQ_INT(ssp_rtt_rto(&r), 50);
	CHECK_EQ_INT(ssp_rtt_send_interval(&r), 20);
}

TEST(timestamps_wrap)
{
	CHECK_EQ_INT(ssp_ts_diff(5, 65530), 11);
	CHECK_EQ_INT(ssp_ts_diff(100, 40), 60);
	CHECK(ssp_ts16(0xffff) != SSP_TS_NONE);
	CHECK_EQ_INT(ssp_ts16(0x12345), 0x2345);
}

TEST(replay_window)
{
	struct ssp_replay w;
	memset(&w, 0, sizeof w);
	CHECK_EQ_INT(ssp_replay_check(&w, 0), 1);
	CHECK_EQ_INT(ssp_replay_check(&w, 0), SSP_EREPLAY);
	CHECK_EQ_INT(ssp_replay_check(&w, 5), 1);
	CHECK_EQ_INT(ssp_replay_check(&w, 3), 0);           /* reordered, new */
	CHECK_EQ_INT(ssp_replay_check(&w, 3), SSP_EREPLAY);
	CHECK_EQ_INT(ssp_replay_check(&w, 5), SSP_EREPLAY);
	CHECK_EQ_INT(ssp_replay_check(&w, 4), 0);
	CHECK_EQ_INT(ssp_replay_check(&w, 5000), 1);        /* jump */
	CHECK_EQ_INT(ssp_replay_check(&w, 5000 - SSP_REPLAY_WINDOW), SSP_EREPLAY);
	CHECK_EQ_INT(ssp_replay_check(&w, 5001 - SSP_REPLAY_WINDOW), 0);
	CHECK_EQ_INT(ssp_replay_check(&w, 4), SSP_EREPLAY); /* far too old */
	/* Slide by less than the window: slots reused are cleared. */
	for (uint64_t s = 5001; s < 9000; s += 7) {
		CHECK_EQ_INT(ssp_replay_check(&w, s), 1);
		CHECK_EQ_INT(ssp_replay_check(&w, s - 3), 0);
		CHECK_EQ_INT(ssp_replay_check(&w, s - 3), SSP_EREPLAY);
	}
}

/* ---- loopback endpoints --------------------------------------------- */

static int udp_socket(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(addr, 0, sizeof *addr);
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof *addr;
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof *addr) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		return -1;
	return fd;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, ms) == 1;
}

/* Receive the next datagram that is not dropped; the error of the last
 * drop otherwise. */
static int recv_one(struct ssp_conn *c, uint8_t *buf, size_t cap, size_t *n)
{
	int rc = SSP_EAGAIN;
	for (int i = 0; i < 50; i++) {
		if (!wait_readable(ssp_conn_fd(c), 200))
			return rc;
		rc = ssp_conn_recv(c, buf, cap, n);
		if (rc != SSP_EAGAIN)
			return rc;
	}
	return rc;
}

static int port_str(int port, char *buf, size_t len)
{
	return snprintf(buf, len, "%d", port);
}

/* A server on a loopback port and a client of it, with a fresh key. */
static bool loopback_pair(struct ssp_conn **srv, struct ssp_conn **cli)
{
	struct crypto_key k;
	char port[16];

	if (crypto_key_generate(&k) != 0 ||
	    ssp_conn_server(srv, &k, "127.0.0.1", 0, 0) != SSP_OK)
		return false;
	port_str(ssp_conn_port(*srv), port, sizeof port);
	return ssp_conn_client(cli, &k, "127.0.0.1", port, AF_UNSPEC) == SSP_OK;
}

TEST(loopback_round_trip_and_rtt)
{
	struct ssp_conn *srv = NULL, *cli = NULL;
	uint8_t buf[2048];
	size_t n;

	REQUIRE(loopback_pair(&srv, &cli));
	CHECK(!ssp_conn_has_remote(srv));
	CHECK_EQ_INT(ssp_conn_send(srv, (const uint8_t *)"x", 1), SSP_EAGAIN);
	CHECK_EQ_INT(ssp_conn_mtu(cli), 1252 - 24 - 4);
	CHECK_EQ_INT(ssp_conn_send(cli, buf, ssp_conn_mtu(cli) + 1), SSP_ETOOBIG);

	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"hello", 5) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK(ssp_conn_has_remote(srv));
	usleep(20000);
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"world!", 6) == SSP_OK);
	REQUIRE(recv_one(cli, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 6 && memcmp(buf, "world!", 6) == 0);
	/* The client's timestamp came back, held ~20 ms by the server and
	 * corrected for it: a loopback round trip is a few ms at most. */
	CHECK(ssp_conn_rtt(cli)->hit);
	CHECKF(ssp_conn_rtt(cli)->srtt < 15, "srtt %.1f", ssp_conn_rtt(cli)->srtt);
	/* And the other way. */
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"again", 5) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	CHECK(ssp_conn_rtt(srv)->hit);
	CHECK_EQ_INT(ssp_conn_stats(srv)->received, 2);
	CHECK_EQ_INT(ssp_conn_stats(cli)->sent, 2);
	ssp_conn_free(cli);
	ssp_conn_free(srv);
}

/* The client talks to a spy, which forwards to the server from its own
 * address, keeping copies of everything to misuse. */
TEST(attacks_dropped_counted_and_harmless)
{
	struct crypto_key k;
	struct ssp_conn *srv = NULL, *cli = NULL;
	struct sockaddr_in spy_addr, srv_addr, evil_addr;
	uint8_t buf[4096], cap[4096], pkt[4096];
	size_t n;
	char port[16], before[64], after[64];

	REQUIRE(crypto_key_generate(&k) == 0);
	REQUIRE(ssp_conn_server(&srv, &k, "127.0.0.1", 0, 0) == SSP_OK);
	int spy = udp_socket(&spy_addr), evil = udp_socket(&evil_addr);
	REQUIRE(spy >= 0 && evil >= 0);
	memset(&srv_addr, 0, sizeof srv_addr);
	srv_addr.sin_family = AF_INET;
	srv_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv_addr.sin_port = htons((uint16_t)ssp_conn_port(srv));
	port_str(ntohs(spy_addr.sin_port), port, sizeof port);
	REQUIRE(ssp_conn_client(&cli, &k, "127.0.0.1", port, AF_INET) == SSP_OK);

	/* A genuine packet, through the spy. */
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"genuine", 7) == SSP_OK);
	REQUIRE(wait_readable(spy, 1000));
	ssize_t clen = recv(spy, cap, sizeof cap, 0);
	REQUIRE(clen > 0);
	sendto(spy, cap, (size_t)clen, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	ssp_conn_remote_str(srv, before, sizeof before);

	/* The server answers: the spy keeps that too. */
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"reply", 5) == SSP_OK);
	REQUIRE(wait_readable(spy, 1000));
	ssize_t rlen = recv(spy, pkt, sizeof pkt, 0);
	REQUIRE(rlen > 0);

	const struct ssp_stats *st = ssp_conn_stats(srv);
	/* Replayed from the spy, and from another address. */
	sendto(spy, cap, (size_t)clen, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_EREPLAY);
	sendto(evil, cap, (size_t)clen, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_EREPLAY);
	CHECK_EQ_INT(st->dropped_replayed, 2);
	/* Reflected: the server's own packet sent back to it. */
	sendto(evil, pkt, (size_t)rlen, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_ECRYPTO);
	CHECK_EQ_INT(st->dropped_reflected, 1);
	uint64_t reflected_before = st->dropped_reflected;
	/* Truncated at every length, and forged (one bit flipped). */
	for (ssize_t len = 0; len < clen; len++) {
		sendto(evil, cap, (size_t)len, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
		int rc = recv_one(srv, buf, sizeof buf, &n);
		CHECK(rc == SSP_EMALFORMED || rc == SSP_ECRYPTO || rc == SSP_EAGAIN);
	}
	memcpy(pkt, cap, (size_t)clen);
	pkt[clen - 1] ^= 1;
	sendto(evil, pkt, (size_t)clen, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_ECRYPTO);
	/* Random garbage, and an oversized datagram. */
	for (int i = 0; i < 50; i++) {
		crypto_random(pkt, 100 + (size_t)i);
		sendto(evil, pkt, 100 + (size_t)i, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
		CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_ECRYPTO);
	}
	memset(pkt, 0, sizeof pkt);
	sendto(evil, pkt, 3000, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_ETOOBIG);
	CHECK_EQ_INT(st->dropped_oversize, 1);
	CHECK(st->dropped_short > 0);
	/* Random bytes carry the server's own direction bit half the time:
	 * those are dropped as reflections before any tag check. */
	CHECK(st->dropped_reflected >= reflected_before);
	CHECKF(st->dropped_forged + st->dropped_reflected >= 1 + 1 + 50,
	       "forged %llu, reflected %llu", (unsigned long long)st->dropped_forged,
	       (unsigned long long)st->dropped_reflected);
	CHECK(st->dropped_forged >= 2);

	/* None of it moved the server's idea of its client, or got through. */
	ssp_conn_remote_str(srv, after, sizeof after);
	CHECK_EQ_STR(after, before);
	CHECK_EQ_INT(st->received, 1);
	CHECK_EQ_INT(st->roams, 0);

	/* The session goes on: a new genuine packet still arrives. */
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"still", 5) == SSP_OK);
	REQUIRE(wait_readable(spy, 1000));
	clen = recv(spy, cap, sizeof cap, 0);
	sendto(spy, cap, (size_t)clen, 0, (struct sockaddr *)&srv_addr, sizeof srv_addr);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 5 && memcmp(buf, "still", 5) == 0);
	close(spy);
	close(evil);
	ssp_conn_free(cli);
	ssp_conn_free(srv);
}

/* An attach's next key: the old client works until the new one speaks,
 * whose first datagram switches the key and comes on the next call; then
 * the old key is worthless and replies go to the new client. */
TEST(next_key_switches_when_its_client_speaks)
{
	struct ssp_conn *srv = NULL, *old = NULL, *cli = NULL;
	struct crypto_key k2;
	uint8_t buf[2048];
	size_t n;
	char port[16];

	REQUIRE(loopback_pair(&srv, &old));
	REQUIRE(ssp_conn_send(old, (const uint8_t *)"a", 1) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	REQUIRE(crypto_key_generate(&k2) == 0);
	REQUIRE(ssp_conn_expect_key(srv, &k2) == SSP_OK);
	port_str(ssp_conn_port(srv), port, sizeof port);
	REQUIRE(ssp_conn_client(&cli, &k2, "127.0.0.1", port, AF_UNSPEC) == SSP_OK);
	CHECK_EQ_INT(ssp_conn_epoch(srv), 0);

	/* The old client is still heard and answered, for telling it. */
	REQUIRE(ssp_conn_send(old, (const uint8_t *)"b", 1) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 1 && buf[0] == 'b');
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"told", 4) == SSP_OK);
	REQUIRE(recv_one(old, buf, sizeof buf, &n) == SSP_OK);

	/* The new client speaks: switched, its payload on the next call. */
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"new", 3) == SSP_OK);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_ENEWKEY);
	CHECK_EQ_INT(ssp_conn_epoch(srv), 1);
	CHECK_EQ_INT(ssp_conn_recv(srv, buf, sizeof buf, &n), SSP_OK);
	CHECK(n == 3 && memcmp(buf, "new", 3) == 0);
	CHECK_EQ_INT(ssp_conn_recv(srv, buf, sizeof buf, &n), SSP_EAGAIN);
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"hi", 2) == SSP_OK);
	REQUIRE(recv_one(cli, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 2 && memcmp(buf, "hi", 2) == 0);

	/* The old key is worthless now, and a switch without a next key
	 * changes nothing. */
	uint64_t forged = ssp_conn_stats(srv)->dropped_forged;
	REQUIRE(ssp_conn_send(old, (const uint8_t *)"c", 1) == SSP_OK);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_ECRYPTO);
	CHECK_EQ_INT(ssp_conn_stats(srv)->dropped_forged, forged + 1);
	ssp_conn_switch_key(srv);
	CHECK_EQ_INT(ssp_conn_epoch(srv), 1);
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"d", 1) == SSP_OK);
	CHECK_EQ_INT(recv_one(srv, buf, sizeof buf, &n), SSP_OK);
	ssp_conn_free(cli);
	ssp_conn_free(old);
	ssp_conn_free(srv);
}

/* Receive the next datagram that is not dropped, from UDP or the stream. */
static int recv_any(struct ssp_conn *c, uint8_t *buf, size_t cap, size_t *n)
{
	int rc = SSP_EAGAIN;
	for (int i = 0; i < 50; i++) {
		struct pollfd p[2] = { { ssp_conn_fd(c), POLLIN, 0 },
		                       { ssp_conn_stream_fd(c), POLLIN, 0 } };
		if (poll(p, 2, 200) <= 0)
			return rc;
		rc = ssp_conn_recv(c, buf, cap, n);
		if (rc != SSP_EAGAIN)
			return rc;
	}
	return rc;
}

/* The second carrier: datagrams over a stream (here a socket pair, in
 * place of ssh and the relay), a login's noise before the preamble
 * skipped, the server answering on the carrier of the newest datagram,
 * the client back on UDP once a datagram comes that way, and bad frames
 * dropped or ending the stream. */
TEST(stream_carries_datagrams_and_udp_takes_over_again)
{
	struct ssp_conn *srv = NULL, *cli = NULL;
	struct ssp_stream *cs = NULL, *ss = NULL;
	uint8_t buf[2048];
	size_t n;
	int sp[2];

	REQUIRE(loopback_pair(&srv, &cli));
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == 0);
	const char noise[] = "Welcome to the host\nMOSHI RELAY\n";
	REQUIRE(write(sp[1], noise, sizeof noise - 1) == (ssize_t)(sizeof noise - 1));
	int raw = dup(sp[0]); /* to write frames of our own to the server */
	REQUIRE(raw >= 0);
	REQUIRE(ssp_stream_new(&cs, sp[0], sp[0], "MOSHI RELAY\n") == SSP_OK);
	REQUIRE(ssp_stream_new(&ss, sp[1], sp[1], NULL) == SSP_OK);
	ssp_conn_set_stream(cli, cs);
	ssp_conn_set_stream(srv, ss);
	ssp_conn_use_stream(cli, false);
	CHECK(ssp_conn_on_stream(cli));

	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"over", 4) == SSP_OK);
	REQUIRE(recv_any(srv, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 4 && memcmp(buf, "over", 4) == 0);
	CHECK(ssp_conn_on_stream(srv));
	CHECK_EQ_INT(ssp_conn_stats(srv)->stream_received, 1);
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"back", 4) == SSP_OK);
	REQUIRE(recv_any(cli, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 4 && memcmp(buf, "back", 4) == 0);
	CHECK(ssp_conn_on_stream(cli));

	/* A probe goes both ways, sealed twice: both are taken, the UDP one
	 * (the newer) moves the server to UDP, and its answer moves the
	 * client. */
	ssp_conn_probe_udp(cli);
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"probe", 5) == SSP_OK);
	CHECK_EQ_INT(recv_any(srv, buf, sizeof buf, &n), SSP_OK);
	CHECK_EQ_INT(recv_any(srv, buf, sizeof buf, &n), SSP_OK);
	CHECK(!ssp_conn_on_stream(srv));
	CHECK_EQ_INT(ssp_conn_stats(srv)->roams, 1);
	uint64_t on_stream = ssp_conn_stats(srv)->stream_sent;
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"udp", 3) == SSP_OK);
	CHECK_EQ_INT(ssp_conn_stats(srv)->stream_sent, on_stream);
	REQUIRE(recv_any(cli, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 3 && memcmp(buf, "udp", 3) == 0);
	CHECK(!ssp_conn_on_stream(cli));

	/* A forged frame is dropped and counted; a frame over the bound
	 * ends the stream. */
	uint8_t frame[2 + 60] = { 0, 60 };
	crypto_random(frame + 2, 60);
	uint64_t forged = ssp_conn_stats(srv)->dropped_forged;
	REQUIRE(write(raw, frame, sizeof frame) == (ssize_t)sizeof frame);
	CHECK_EQ_INT(recv_any(srv, buf, sizeof buf, &n), SSP_ECRYPTO);
	CHECK(ssp_conn_stats(srv)->dropped_forged + ssp_conn_stats(srv)->dropped_reflected ==
	      forged + 1);
	const uint8_t huge[2] = { 0xff, 0xff };
	REQUIRE(write(raw, huge, 2) == 2);
	recv_any(srv, buf, sizeof buf, &n);
	CHECK_EQ_INT(ssp_conn_stream_fd(srv), -1);
	CHECK_EQ_INT(ssp_conn_stats(srv)->stream_ends, 1);
	close(raw);
	ssp_conn_free(cli);
	ssp_conn_free(srv);
}

/* A clock read before a datagram arrived is not "quiet for ages": the
 * client must not hop away from a live path (it once did, under load,
 * and lost the server's shutdown). */
TEST(no_hop_on_a_clock_read_before_the_last_datagram)
{
	struct ssp_conn *srv = NULL, *cli = NULL;
	uint8_t buf[2048];
	size_t n;

	REQUIRE(loopback_pair(&srv, &cli));
	uint64_t before = ssp_now_ms() - 1;
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"a", 1) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"b", 1) == SSP_OK);
	REQUIRE(recv_one(cli, buf, sizeof buf, &n) == SSP_OK);
	/* hop clock far enough from the start, but `before` the datagram */
	CHECK_EQ_INT(ssp_conn_maybe_hop(cli, before), 0);
	CHECK_EQ_INT(ssp_conn_stats(cli)->port_hops, 0);
	ssp_conn_free(cli);
	ssp_conn_free(srv);
}

/* The client hops to a new source port after hearing nothing; its next
 * (newer) packet moves the server, an older one would not. */
TEST(client_port_hop_and_server_roams)
{
	struct ssp_conn *srv = NULL, *cli = NULL;
	uint8_t buf[2048];
	size_t n;
	char first[64], second[64];

	REQUIRE(loopback_pair(&srv, &cli));
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"a", 1) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	ssp_conn_remote_str(srv, first, sizeof first);

	uint64_t now = ssp_now_ms();
	CHECK_EQ_INT(ssp_conn_maybe_hop(cli, now), 0);        /* not quiet yet */
	CHECK_EQ_INT(ssp_conn_maybe_hop(cli, now + SSP_PORT_HOP_MS + 1), 1);
	CHECK_EQ_INT(ssp_conn_stats(cli)->port_hops, 1);
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"b", 1) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	ssp_conn_remote_str(srv, second, sizeof second);
	CHECK(strcmp(first, second) != 0);
	CHECK_EQ_INT(ssp_conn_stats(srv)->roams, 1);
	/* The server's answer reaches the client on its new port. */
	REQUIRE(ssp_conn_send(srv, (const uint8_t *)"c", 1) == SSP_OK);
	REQUIRE(recv_one(cli, buf, sizeof buf, &n) == SSP_OK);
	CHECK(n == 1 && buf[0] == 'c');
	ssp_conn_free(cli);
	ssp_conn_free(srv);
}

TEST(ipv6_loopback)
{
	struct crypto_key k;
	struct ssp_conn *srv = NULL, *cli = NULL;
	uint8_t buf[2048];
	size_t n;
	char port[16], remote[64];

	REQUIRE(crypto_key_generate(&k) == 0);
	if (ssp_conn_server(&srv, &k, "::1", 0, 0) != SSP_OK) {
		printf("SKIP ssp-datagram/ipv6_loopback: no IPv6 loopback here\n");
		return;
	}
	port_str(ssp_conn_port(srv), port, sizeof port);
	REQUIRE(ssp_conn_client(&cli, &k, "::1", port, AF_INET6) == SSP_OK);
	CHECK_EQ_INT(ssp_conn_mtu(cli), 1232 - 24 - 4);
	REQUIRE(ssp_conn_send(cli, (const uint8_t *)"six", 3) == SSP_OK);
	REQUIRE(recv_one(srv, buf, sizeof buf, &n) == SSP_OK);
	ssp_conn_remote_str(srv, remote, sizeof remote);
	CHECK(strncmp(remote, "[::1]:", 6) == 0);
	ssp_conn_free(cli);
	ssp_conn_free(srv);
}

TEST(bad_arguments)
{
	struct crypto_key k = { { 0 } };
	struct ssp_conn *c = NULL;
	CHECK_EQ_INT(ssp_conn_server(&c, &k, "not an address", 0, 0), SSP_EINVAL);
	CHECK_EQ_INT(ssp_conn_server(&c, &k, NULL, 10, 5), SSP_EINVAL);
	CHECK_EQ_INT(ssp_conn_server(&c, &k, NULL, 0, 70000), SSP_EINVAL);
	CHECK_EQ_INT(ssp_conn_client(&c, &k, "host.invalid", "1", AF_UNSPEC), SSP_EINVAL);
	CHECK_EQ_INT(ssp_conn_client(&c, &k, "127.0.0.1", "notaport", AF_UNSPEC), SSP_EINVAL);
	CHECK(c == NULL);
}

static const struct test tests[] = {
	TEST_ENTRY(rtt_rfc6298),
	TEST_ENTRY(timestamps_wrap),
	TEST_ENTRY(replay_window),
	TEST_ENTRY(loopback_round_trip_and_rtt),
	TEST_ENTRY(attacks_dropped_counted_and_harmless),
	TEST_ENTRY(next_key_switches_when_its_client_speaks),
	TEST_ENTRY(stream_carries_datagrams_and_udp_takes_over_again),
	TEST_ENTRY(client_port_hop_and_server_roams),
	TEST_ENTRY(no_hop_on_a_clock_read_before_the_last_datagram),
	TEST_ENTRY(ipv6_loopback),
	TEST_ENTRY(bad_arguments),
};

TEST_MAIN("ssp-datagram", tests)
