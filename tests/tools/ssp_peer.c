/*
 * ssp_peer — one end of an SSP session for the two-process tests
 * (tests/e2e/ssp_relay.sh). The key is in MOSHI_KEY.
 *
 *   ssp_peer server SECONDS_OF_OUTPUT [QUIET_SECONDS]
 *       Prints "port N", then serves one client: applies its input to a
 *       terminal, counts the bytes and hashes them, and for the given time
 *       also floods the terminal with its own changing output. When that
 *       is over, no input came for QUIET_SECONDS (3 unless given; counted
 *       from the client's first packet), and the final screen is
 *       acknowledged (or 30 s passed), it prints "server input BYTES HASH
 *       screen HASH" and shuts the session down.
 *   ssp_peer client HOST PORT BYTES SEED
 *       Types BYTES of seeded random input in events of 1..200 bytes,
 *       keeping at most one datagram's worth unacknowledged, until the
 *       server shuts down, or all input is acknowledged and the screen
 *       has been still for 15 s; prints "client input BYTES HASH screen
 *       HASH" (the hash of the screen it was last sent).
 *
 * With PEER_LOG=PREFIX in the environment each end writes four lines a
 * second to PREFIX.server or PREFIX.client: datagrams in and out, roams
 * or hops, the peer's address, how long it has been silent and the
 * newest state received (for a failing test's post-mortem).
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../crypto/crypto.h"
#include "../../sync/sync.h"
#include "../../term/term.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static uint64_t screen_hash(const struct term_frame *f)
{
	uint64_t h = 1469598103934665603ULL;
	char u[64];
	int r, c;
	for (int y = 0; y < term_frame_rows(f); y++) {
		for (int x = 0; x < term_frame_cols(f); x++) {
			size_t n = term_frame_cell_utf8(f, y, x, u, sizeof u);
			struct term_cell cell = term_frame_cell(f, y, x);
			if (n == 1 && u[0] == ' ')
				cell.fg = 0; /* blanks: only what shows */
			h = fnv(h, u, n);
			h = fnv(h, &cell.fg, sizeof cell.fg);
			h = fnv(h, &cell.bg, sizeof cell.bg);
			h = fnv(h, &cell.attr, sizeof cell.attr);
		}
	}
	term_frame_cursor(f, &r, &c);
	h = fnv(h, &r, sizeof r);
	return fnv(h, &c, sizeof c);
}

static int get_key(struct crypto_key *k)
{
	const char *s = getenv("MOSHI_KEY");
	if (s == NULL || crypto_key_decode(k, s) != CRYPTO_OK) {
		fprintf(stderr, "ssp_peer: MOSHI_KEY missing or bad\n");
		return -1;
	}
	return 0;
}

/* PEER_LOG: how this end stands, every 250 ms. */
static void peer_log(struct ssp_transport *t, const char *who)
{
	static FILE *f;
	static uint64_t start, last;
	uint64_t now = ssp_now_ms();
	if (start == 0) {
		const char *p = getenv("PEER_LOG");
		start = now;
		if (p != NULL) {
			char name[512];
			snprintf(name, sizeof name, "%s.%s", p, who);
			f = fopen(name, "w");
		}
	}
	if (f == NULL || now - last < 250)
		return;
	last = now;
	struct ssp_conn *c = ssp_transport_conn(t);
	const struct ssp_stats *st = ssp_conn_stats(c);
	char addr[80];
	ssp_conn_remote_str(c, addr, sizeof addr);
	fprintf(f, "%8.3f in %llu out %llu roams %llu hops %llu remote %s quiet %llu rnum %llu errs %llu replayed %llu\n",
	        (double)(now - start) / 1e3, (unsigned long long)st->received,
	        (unsigned long long)st->sent, (unsigned long long)st->roams,
	        (unsigned long long)st->port_hops, addr,
	        (unsigned long long)ssp_conn_quiet_ms(c, now),
	        (unsigned long long)ssp_transport_remote_num(t),
	        (unsigned long long)st->send_errors, (unsigned long long)st->dropped_replayed);
	fflush(f);
}

static void wait_io(struct ssp_transport *t, int limit)
{
	struct pollfd p = { ssp_conn_fd(ssp_transport_conn(t)), POLLIN, 0 };
	int w = ssp_transport_wait_ms(t, ssp_now_ms());
	if (w < 0 || w > limit)
		w = limit;
	poll(&p, 1, w);
}

static int server(double seconds, double quiet)
{
	struct crypto_key k;
	struct ssp_conn *c;
	if (get_key(&k) || ssp_conn_server(&c, &k, "127.0.0.1", 0, 0) != SSP_OK)
		return 1;
	printf("port %d\n", ssp_conn_port(c));
	fflush(stdout);
	struct term *screen = term_new(80, 24);
	struct ssp_transport *t = ssp_transport_new(c, true, &sync_termstate_ops,
		sync_termstate_new(80, 24), &sync_userstream_ops, sync_userstream_new());
	if (screen == NULL || t == NULL)
		return 1;
	uint64_t consumed = 0, bytes = 0, hash = 1469598103934665603ULL;
	uint64_t start = 0, deadline = ssp_now_ms() + 600000, last_input = 0;
	uint32_t rnd = 7;
	bool flooding = true;
	uint64_t flood_end = 0;

	while (ssp_now_ms() < deadline) {
		wait_io(t, 5);
		ssp_transport_recv(t);
		uint64_t now = ssp_now_ms();
		if (start == 0 && ssp_conn_has_remote(c))
			start = last_input = now;
		bool changed = false;
		struct sync_user_event ev;
		while (sync_userstream_get(ssp_transport_remote(t), consumed, &ev)) {
			if (ev.type == SYNC_USER_BYTES) {
				bytes += ev.len;
				hash = fnv(hash, ev.bytes, ev.len);
				/* Show a digest of it, as an echo would. */
				char line[64];
				int n = snprintf(line, sizeof line, "\r\n%llu bytes in",
				                 (unsigned long long)bytes);
				term_write(screen, line, (size_t)n);
			}
			consumed++;
			changed = true;
			last_input = now;
		}
		ssp_transport_remote_forget(t, consumed);
		if (start && flooding && now - start < (uint64_t)(seconds * 1000)) {
			char out[128];
			rnd = rnd * 1103515245u + 12345u;
			int n = snprintf(out, sizeof out, "\033[%u;%uH\033[3%um%08x\033[m\r\n",
			                 1 + rnd % 24, 1 + (rnd >> 8) % 60, (rnd >> 16) % 8, rnd);
			term_write(screen, out, (size_t)n);
			changed = true;
		} else if (start && flooding) {
			flooding = false;
			flood_end = now;
		}
		if (changed)
			ssp_transport_set_local(t, sync_termstate_from_frame(
				term_frame(screen), ssp_transport_remote_num(t)));
		ssp_transport_tick(t, now);
		peer_log(t, "server");
		/* Done: no more flood, the client quiet for a while, and the
		 * final screen acknowledged. */
		if (!flooding && now - last_input > (uint64_t)(quiet * 1000) &&
		    (sync_termstate_ops.equal(ssp_transport_acked(t), ssp_transport_local(t)) ||
		     now - flood_end > 30000))
			break;
	}
	printf("server input %llu %016llx screen %016llx\n", (unsigned long long)bytes,
	       (unsigned long long)hash, (unsigned long long)screen_hash(term_frame(screen)));
	fflush(stdout);
	fprintf(stderr, "server: final screen %s\n",
	        sync_termstate_ops.equal(ssp_transport_acked(t), ssp_transport_local(t)) ?
	        "acknowledged" : "NOT acknowledged (gave up 30 s after the flood)");
	ssp_transport_start_shutdown(t);
	while (!ssp_transport_shutdown_acked(t) && !ssp_transport_shutdown_tried_out(t)) {
		wait_io(t, 20);
		ssp_transport_recv(t);
		ssp_transport_tick(t, ssp_now_ms());
	}
	const struct ssp_stats *st = ssp_conn_stats(c);
	fprintf(stderr, "server: %llu datagrams in, %llu out, roams %llu, replayed %llu, "
	        "forged %llu, reflected %llu, short %llu, oversized %llu\n",
	        (unsigned long long)st->received, (unsigned long long)st->sent,
	        (unsigned long long)st->roams, (unsigned long long)st->dropped_replayed,
	        (unsigned long long)st->dropped_forged, (unsigned long long)st->dropped_reflected,
	        (unsigned long long)st->dropped_short, (unsigned long long)st->dropped_oversize);
	ssp_transport_free(t);
	term_free(screen);
	return 0;
}

static int client(const char *host, const char *port, uint64_t total, uint32_t seed)
{
	struct crypto_key k;
	struct ssp_conn *c;
	if (get_key(&k) || ssp_conn_client(&c, &k, host, port, AF_UNSPEC) != SSP_OK)
		return 1;
	struct ssp_transport *t = ssp_transport_new(c, false, &sync_userstream_ops,
		sync_userstream_new(), &sync_termstate_ops, sync_termstate_new(80, 24));
	if (t == NULL)
		return 1;
	uint64_t sent = 0, hash = 1469598103934665603ULL;
	uint64_t deadline = ssp_now_ms() + 600000;
	uint64_t last_num = 0, stable_since = ssp_now_ms();
	uint8_t chunk[200];
	/* Input goes through sync_flow, as the client's does. */
	static struct sync_flow flow;
	sync_flow_init(&flow, ssp_now_ms());

	while (ssp_now_ms() < deadline && !ssp_transport_remote_shutdown(t)) {
		while (sent < total && sync_flow_room(&flow) >= sizeof chunk) {
			seed = seed * 1664525u + 1013904223u;
			size_t n = 1 + seed % 200;
			if (n > total - sent)
				n = (size_t)(total - sent);
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1664525u + 1013904223u;
				chunk[i] = (uint8_t)(seed >> 24);
			}
			sync_flow_add(&flow, chunk, n);
			hash = fnv(hash, chunk, n);
			sent += n;
		}
		wait_io(t, 5);
		ssp_transport_recv(t);
		sync_flow_push(&flow, t, ssp_now_ms());
		ssp_conn_maybe_hop(c, ssp_now_ms());
		ssp_transport_tick(t, ssp_now_ms());
		peer_log(t, "client");
		/* Also done when all input is acknowledged and the screen has
		 * not changed for 15 s: under fast roaming the server can lose
		 * track of an idle client and its shutdown may not arrive. (Longer
		 * than the server's quiet time, 10 s in ssp_relay.sh, so that the
		 * shutdown, sent only once the final screen is acknowledged,
		 * normally comes first: with 5 s, a final screen lost for a while
		 * after a roam was sometimes never seen.) */
		uint64_t now = ssp_now_ms();
		if (ssp_transport_remote_num(t) != last_num) {
			last_num = ssp_transport_remote_num(t);
			stable_since = now;
		}
		if (sent == total && flow.len == 0 &&
		    sync_userstream_total(ssp_transport_acked(t)) ==
		                     sync_userstream_total(ssp_transport_local(t)) &&
		    now - stable_since > 15000)
			break;
	}
	fprintf(stderr, "client: ended by %s\n", ssp_transport_remote_shutdown(t) ?
	        "the server's shutdown" : sent == total ? "a still screen" : "the deadline");
	/* Acknowledge the shutdown, then go. */
	for (int i = 0; i < 20; i++) {
		wait_io(t, 10);
		ssp_transport_recv(t);
		ssp_transport_tick(t, ssp_now_ms());
	}
	const struct sync_termstate *seen = ssp_transport_remote(t);
	printf("client input %llu %016llx screen %016llx\n", (unsigned long long)sent,
	       (unsigned long long)hash, (unsigned long long)screen_hash(seen->frame));
	const struct ssp_stats *st = ssp_conn_stats(c);
	fprintf(stderr, "client: %llu datagrams in, %llu out, hops %llu, probes %llu\n",
	        (unsigned long long)st->received, (unsigned long long)st->sent,
	        (unsigned long long)st->port_hops,
	        (unsigned long long)ssp_transport_stats(t)->probes);
	ssp_transport_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "server") == 0)
		return server(atof(argv[2]), argc == 4 ? atof(argv[3]) : 3);
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3], strtoull(argv[4], NULL, 10),
		              (uint32_t)strtoul(argv[5], NULL, 10));
	fprintf(stderr, "usage: ssp_peer server SECONDS [QUIET] | client HOST PORT BYTES SEED\n");
	return 2;
}
