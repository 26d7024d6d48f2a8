/*
 * Datagrams: sealed UDP packets with timestamps for RTT, a replay window,
 * roaming (the server follows its client), port hopping (the client
 * changes its source port when it hears nothing), and a count of every
 * packet dropped.
 */
#include "ssp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/crypto.h"

/* ---- time and RTT ---------------------------------------------------- */

uint64_t ssp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint16_t ssp_ts16(uint64_t now_ms)
{
	uint16_t t = (uint16_t)(now_ms & 0xffff);
	return t == SSP_TS_NONE ? 0 : t; /* 0xffff means "none" */
}

unsigned ssp_ts_diff(uint16_t now, uint16_t then)
{
	return (uint16_t)(now - then);
}

void ssp_rtt_init(struct ssp_rtt *r)
{
	r->srtt = 1000;
	r->rttvar = 500;
	r->hit = false;
}

void ssp_rtt_sample(struct ssp_rtt *r, double ms)
{
	if (ms < 0 || ms >= 5000)
		return;
	if (!r->hit) {
		/* RFC 6298 2.2 */
		r->srtt = ms;
		r->rttvar = ms / 2;
		r->hit = true;
		return;
	}
	/* RFC 6298 2.3, alpha 1/8, beta 1/4 */
	double err = r->srtt - ms;
	r->rttvar = 0.75 * r->rttvar + 0.25 * (err < 0 ? -err : err);
	r->srtt = 0.875 * r->srtt + 0.125 * ms;
}

unsigned ssp_rtt_rto(const struct ssp_rtt *r)
{
	double rto = r->srtt + 4 * r->rttvar;
	if (rto < SSP_RTO_MIN_MS)
		return SSP_RTO_MIN_MS;
	if (rto > SSP_RTO_MAX_MS)
		return SSP_RTO_MAX_MS;
	return (unsigned)(rto + 0.5);
}

unsigned ssp_rtt_send_interval(const struct ssp_rtt *r)
{
	double iv = r->srtt / 2;
	unsigned v = (unsigned)iv + (iv > (unsigned)iv);
	if (v < SSP_SEND_INTERVAL_MIN_MS)
		return SSP_SEND_INTERVAL_MIN_MS;
	if (v > SSP_SEND_INTERVAL_MAX_MS)
		return SSP_SEND_INTERVAL_MAX_MS;
	return v;
}

/* ---- replay window --------------------------------------------------- */

int ssp_replay_check(struct ssp_replay *w, uint64_t seq)
{
	const uint64_t size = SSP_REPLAY_WINDOW;

	if (seq >= w->top) {
		/* Newer than anything: slide the window up to it. */
		uint64_t shift = seq + 1 - w->top;
		if (shift >= size) {
			memset(w->bits, 0, sizeof w->bits);
		} else {
			for (uint64_t s = w->top; s <= seq; s++)
				w->bits[(s % size) / 64] &= ~(1ULL << (s % 64));
		}
		w->bits[(seq % size) / 64] |= 1ULL << (seq % 64);
		w->top = seq + 1;
		return 1;
	}
	if (w->top - seq > size)
		return SSP_EREPLAY; /* older than the window remembers */
	uint64_t *word = &w->bits[(seq % size) / 64];
	uint64_t bit = 1ULL << (seq % 64);
	if (*word & bit)
		return SSP_EREPLAY;
	*word |= bit;
	return 0;
}

/* ---- endpoints ------------------------------------------------------- */

struct ssp_conn {
	int fd;
	bool server;
	struct crypto_session *crypto;
	struct crypto_session *next; /* an attach's key, until it is used */
	uint64_t epoch;           /* keys switched to so far */
	uint8_t held[SSP_MAX_DATAGRAM]; /* the new key's first payload */
	size_t held_len;
	bool held_ready;
	struct sockaddr_storage remote; /* UDP: the client's address (server) */
	socklen_t remote_len;
	bool has_remote;          /* someone to send to */
	struct ssp_stream *stream; /* the second carrier, or NULL */
	bool via_stream;          /* sending over it */
	bool stream_only;         /* client: never UDP (--carrier=ssh) */
	bool udp_probe;           /* client: the next datagram over UDP too */
	size_t mtu;               /* datagram bytes, headers of IP/UDP off */
	struct ssp_replay replay;
	struct ssp_rtt rtt;
	uint16_t saved_ts;        /* the peer's last timestamp, to echo */
	uint64_t saved_ts_at;     /* when it came */
	bool have_saved_ts;
	uint64_t last_heard;      /* when the last authentic datagram came */
	uint64_t last_hop;
	int route_fd;             /* client: rtnetlink, or -1 */
	uint64_t route_settled_at; /* a change to act on then (0: none) */
	struct ssp_stats stats;
};

static size_t path_mtu(int family)
{
	/* IP and UDP headers off the 1280-byte path. */
	return SSP_PATH_MTU - (family == AF_INET6 ? 40 : 20) - 8;
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int conn_new(struct ssp_conn **out, const struct crypto_key *key,
                    bool server)
{
	struct ssp_conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return SSP_ENOMEM;
	c->fd = -1;
	c->route_fd = -1;
	c->server = server;
	if (crypto_session_new(&c->crypto, key, server ? CRYPTO_TO_CLIENT
	                                               : CRYPTO_TO_SERVER) != CRYPTO_OK) {
		free(c);
		return SSP_ENOMEM;
	}
	ssp_rtt_init(&c->rtt);
	c->last_heard = UINT64_MAX;
	c->last_hop = ssp_now_ms();
	*out = c;
	return SSP_OK;
}

int ssp_conn_expect_key(struct ssp_conn *c, const struct crypto_key *key)
{
	struct crypto_session *fresh;
	if (crypto_session_new(&fresh, key, c->server ? CRYPTO_TO_CLIENT
	                                              : CRYPTO_TO_SERVER) != CRYPTO_OK)
		return SSP_ENOMEM;
	crypto_session_free(c->next);
	c->next = fresh;
	return SSP_OK;
}

void ssp_conn_switch_key(struct ssp_conn *c)
{
	if (c->next == NULL)
		return;
	crypto_session_free(c->crypto); /* wipes the old key */
	c->crypto = c->next;
	c->next = NULL;
	c->epoch++;
	memset(&c->replay, 0, sizeof c->replay);
	memset(&c->remote, 0, sizeof c->remote);
	c->remote_len = 0;
	c->has_remote = false;
	c->via_stream = false;
	c->have_saved_ts = false;
	ssp_rtt_init(&c->rtt);
	c->last_heard = ssp_now_ms(); /* silence counts from here */
}

uint64_t ssp_conn_epoch(const struct ssp_conn *c) { return c->epoch; }

void ssp_conn_free(struct ssp_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->route_fd >= 0)
		close(c->route_fd);
	crypto_session_free(c->crypto);
	crypto_session_free(c->next);
	ssp_stream_free(c->stream);
	crypto_wipe(c, sizeof *c);
	free(c);
}

static int bind_range(int family, const void *addr, int lo, int hi)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		int off = 0; /* accept IPv4 too where the system allows */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	}
	for (int port = lo; port <= hi; port++) {
		struct sockaddr_storage ss;
		socklen_t len;
		memset(&ss, 0, sizeof ss);
		if (family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			memcpy(&s6->sin6_addr, addr, sizeof s6->sin6_addr);
			len = sizeof *s6;
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			memcpy(&s4->sin_addr, addr, sizeof s4->sin_addr);
			len = sizeof *s4;
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			return fd;
		if (errno != EADDRINUSE && errno != EACCES)
			break;
	}
	close(fd);
	return -1;
}

int ssp_conn_server(struct ssp_conn **out, const struct crypto_key *key,
                    const char *bind_ip, int port_lo, int port_hi)
{
	struct ssp_conn *c;
	int rc, family = AF_INET6;
	unsigned char addr[16];

	if (out == NULL || key == NULL || port_lo < 0 || port_hi > 65535 ||
	    port_lo > port_hi)
		return SSP_EINVAL;
	if (bind_ip == NULL) {
		memcpy(addr, &in6addr_any, 16);
	} else if (inet_pton(AF_INET6, bind_ip, addr) == 1) {
		family = AF_INET6;
	} else if (inet_pton(AF_INET, bind_ip, addr) == 1) {
		family = AF_INET;
	} else {
		return SSP_EINVAL;
	}
	if ((rc = conn_new(&c, key, true)) != SSP_OK)
		return rc;
	c->fd = bind_range(family, addr, port_lo, port_hi);
	if (c->fd < 0 && bind_ip == NULL) {
		/* No IPv6 here: every IPv4 address instead. */
		family = AF_INET;
		uint32_t any = htonl(INADDR_ANY);
		c->fd = bind_range(family, &any, port_lo, port_hi);
	}
	if (c->fd < 0 || set_nonblock_cloexec(c->fd) < 0) {
		ssp_conn_free(c);
		return SSP_ESYSTEM;
	}
	c->mtu = path_mtu(family);
	*out = c;
	return SSP_OK;
}

static int client_socket(struct ssp_conn *c)
{
	int fd = socket(c->remote.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return SSP_ESYSTEM;
	/* connect() makes the kernel drop datagrams from anyone else. */
	if (connect(fd, (struct sockaddr *)&c->remote, c->remote_len) < 0 ||
	    set_nonblock_cloexec(fd) < 0) {
		close(fd);
		return SSP_ESYSTEM;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	return SSP_OK;
}

/*
 * Watching this machine's addresses and routes (Linux rtnetlink). The
 * kernel's ABI, from linux/netlink.h and linux/rtnetlink.h, which musl
 * does not ship: a netlink socket of protocol NETLINK_ROUTE bound to the
 * groups of IPv4 and IPv6 address and route changes. Nothing it sends
 * is parsed: any message means something changed.
 */
#define ROUTE_NETLINK_ROUTE 0
#define ROUTE_GROUPS (0x10 | 0x40 | 0x100 | 0x400) /* RTMGRP_IPV{4,6}_{IFADDR,ROUTE} */
struct route_sockaddr_nl {
	sa_family_t nl_family;
	unsigned short nl_pad;
	uint32_t nl_pid;
	uint32_t nl_groups;
};

static int route_watch_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, ROUTE_NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct route_sockaddr_nl sa;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = ROUTE_GROUPS;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ssp_conn_route_fd(const struct ssp_conn *c)
{
	return c->route_fd;
}

int ssp_conn_route_changed(struct ssp_conn *c, uint64_t now)
{
	char buf[8192];
	if (c->route_fd < 0)
		return 0;
	/* A change comes as a burst (an address, then its routes): the
	 * move waits until the burst has been quiet SSP_ROUTE_SETTLE_MS. */
	while (recv(c->route_fd, buf, sizeof buf, 0) > 0)
		c->route_settled_at = now + SSP_ROUTE_SETTLE_MS;
	if (c->route_settled_at == 0 || now < c->route_settled_at)
		return 0;
	c->route_settled_at = 0;
	/* A connected socket keeps the source address the route gave it
	 * when it was made: a fresh one gets the new route's. */
	if (client_socket(c) != SSP_OK)
		return 0;
	c->last_hop = now;
	c->stats.port_hops++;
	c->stats.route_changes++;
	return 1;
}

int ssp_conn_route_wait_ms(const struct ssp_conn *c, uint64_t now)
{
	if (c->route_settled_at == 0)
		return -1;
	return c->route_settled_at > now ? (int)(c->route_settled_at - now) : 0;
}

int ssp_conn_client(struct ssp_conn **out, const struct crypto_key *key,
                    const char *host, const char *port, int family)
{
	struct addrinfo hints, *ai = NULL;
	struct ssp_conn *c;
	int rc;

	if (out == NULL || key == NULL || host == NULL || port == NULL)
		return SSP_EINVAL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
		return SSP_EINVAL;
	if ((rc = conn_new(&c, key, false)) != SSP_OK) {
		freeaddrinfo(ai);
		return rc;
	}
	memcpy(&c->remote, ai->ai_addr, ai->ai_addrlen);
	c->remote_len = ai->ai_addrlen;
	c->has_remote = true;
	c->mtu = path_mtu(ai->ai_family);
	freeaddrinfo(ai);
	if ((rc = client_socket(c)) != SSP_OK) {
		ssp_conn_free(c);
		return rc;
	}
	c->route_fd = route_watch_open(); /* where it cannot, ports hop on silence */
	*out = c;
	return SSP_OK;
}

int ssp_conn_fd(const struct ssp_conn *c) { return c->fd; }
bool ssp_conn_has_remote(const struct ssp_conn *c) { return c->has_remote; }
const struct ssp_stats *ssp_conn_stats(const struct ssp_conn *c) { return &c->stats; }
const struct ssp_rtt *ssp_conn_rtt(const struct ssp_conn *c) { return &c->rtt; }

size_t ssp_conn_mtu(const struct ssp_conn *c)
{
	return c->mtu - CRYPTO_OVERHEAD - SSP_DATAGRAM_HEADER;
}

int ssp_conn_port(const struct ssp_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

uint64_t ssp_conn_quiet_ms(const struct ssp_conn *c, uint64_t now)
{
	if (c->last_heard == UINT64_MAX)
		return UINT64_MAX;
	return now > c->last_heard ? now - c->last_heard : 0;
}

void ssp_conn_remote_str(const struct ssp_conn *c, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (c->remote_len == 0) {
		snprintf(buf, len, "%s", ""); /* heard over the stream only */
		return;
	}
	if (!c->has_remote) {
		snprintf(buf, len, "(none)");
		return;
	}
	if (c->remote.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->remote;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		port = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->remote;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	}
}

/* Seal payload (behind the timestamps) into dg: its length, or 0. */
static size_t seal(struct ssp_conn *c, const uint8_t *payload, size_t len, uint8_t *dg,
                   size_t cap)
{
	uint8_t pt[SSP_MAX_DATAGRAM];
	size_t n;
	uint64_t now = ssp_now_ms();
	/* Our clock, and the peer's last timestamp advanced by how long we
	 * held it, so its RTT sample excludes our delay. */
	uint16_t reply = SSP_TS_NONE;
	if (c->have_saved_ts && now - c->saved_ts_at < SSP_REPLY_HOLD_MAX_MS) {
		reply = (uint16_t)(c->saved_ts + (now - c->saved_ts_at));
		if (reply == SSP_TS_NONE)
			reply = 0;
		c->have_saved_ts = false;
	}
	uint16_t ts = ssp_ts16(now);
	pt[0] = (uint8_t)(ts >> 8);
	pt[1] = (uint8_t)ts;
	pt[2] = (uint8_t)(reply >> 8);
	pt[3] = (uint8_t)reply;
	memcpy(pt + SSP_DATAGRAM_HEADER, payload, len);
	if (crypto_seal(c->crypto, pt, len + SSP_DATAGRAM_HEADER, dg, cap, &n, NULL) != CRYPTO_OK)
		return 0; /* only at counter exhaustion */
	return n;
}

static void stream_gone(struct ssp_conn *c)
{
	ssp_stream_free(c->stream);
	c->stream = NULL;
	c->stats.stream_ends++;
}

static int send_stream(struct ssp_conn *c, const uint8_t *dg, size_t n)
{
	if (c->stream == NULL)
		return SSP_EAGAIN; /* gone: lost, until another stream comes */
	int rc = ssp_stream_write(c->stream, dg, n);
	if (rc == SSP_ESYSTEM)
		stream_gone(c);
	if (rc != SSP_OK)
		return rc == SSP_ESYSTEM ? SSP_EAGAIN : rc;
	c->stats.stream_sent++;
	return SSP_OK;
}

static int send_udp(struct ssp_conn *c, const uint8_t *dg, size_t n)
{
	ssize_t sent;
	if (c->server && c->remote_len == 0)
		return SSP_EAGAIN; /* a client heard over the stream only */
	if (c->server)
		sent = sendto(c->fd, dg, n, MSG_DONTWAIT, (struct sockaddr *)&c->remote,
		              c->remote_len);
	else
		sent = send(c->fd, dg, n, MSG_DONTWAIT);
	if (sent < 0) {
		c->stats.send_errors++;
		if (errno == EMSGSIZE && c->mtu > SSP_FALLBACK_MTU) {
			c->mtu = SSP_FALLBACK_MTU; /* the path is smaller */
			return SSP_ETOOBIG;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return SSP_EAGAIN;
		/* A connected client socket reports ICMP errors here (port
		 * unreachable while the server restarts): not fatal. */
		return SSP_ESYSTEM;
	}
	return SSP_OK;
}

int ssp_conn_send(struct ssp_conn *c, const uint8_t *payload, size_t len)
{
	uint8_t dg[SSP_MAX_DATAGRAM];
	if (!c->has_remote)
		return SSP_EAGAIN;
	if (len > ssp_conn_mtu(c))
		return SSP_ETOOBIG;
	size_t n = seal(c, payload, len, dg, sizeof dg);
	if (n == 0)
		return SSP_ECRYPTO;
	int rc;
	if (c->via_stream && c->stream != NULL) {
		rc = send_stream(c, dg, n);
		if (c->udp_probe) {
			/* Sealed anew: one datagram is accepted once. */
			c->udp_probe = false;
			size_t m = seal(c, payload, len, dg, sizeof dg);
			if (m > 0 && send_udp(c, dg, m) == SSP_OK) {
				c->stats.sent++;
				c->stats.bytes_sent += (uint64_t)m;
			}
		}
	} else if (c->stream_only) {
		rc = SSP_EAGAIN; /* no stream yet: lost, as on a full socket */
	} else {
		rc = send_udp(c, dg, n);
	}
	if (rc != SSP_OK)
		return rc;
	c->stats.sent++;
	c->stats.bytes_sent += (uint64_t)n;
	return SSP_OK;
}

/* The newest authentic datagram came over this carrier (from this
 * address, over UDP): a server answers there; a client on the stream is
 * back on UDP. A server's client that moved counts as a roam. */
static void note_carrier(struct ssp_conn *c, bool on_stream, const struct sockaddr_storage *from,
                         socklen_t fromlen)
{
	if (!c->server) {
		if (!on_stream && !c->stream_only)
			c->via_stream = false;
		return;
	}
	bool moved = on_stream != c->via_stream ||
	             (!on_stream && (c->remote_len != fromlen ||
	                             memcmp(&c->remote, from, fromlen) != 0));
	if (moved && c->has_remote)
		c->stats.roams++;
	c->via_stream = on_stream;
	if (!on_stream) {
		memcpy(&c->remote, from, fromlen);
		c->remote_len = fromlen;
	}
	c->has_remote = true;
}

/* Check and open datagram dg[0..got) from either carrier. */
static int open_datagram(struct ssp_conn *c, const uint8_t *dg, size_t got, bool on_stream,
                         const struct sockaddr_storage *from, socklen_t fromlen,
                         uint8_t *out, size_t cap, size_t *len)
{
	uint8_t pt[SSP_MAX_DATAGRAM];
	size_t n;
	uint64_t seq;

	if (got > SSP_MAX_DATAGRAM) {
		c->stats.dropped_oversize++;
		return SSP_ETOOBIG;
	}
	if (got < CRYPTO_OVERHEAD + SSP_DATAGRAM_HEADER) {
		c->stats.dropped_short++;
		return SSP_EMALFORMED;
	}
	int rc = crypto_open(c->crypto, dg, got, pt, sizeof pt, &n, &seq);
	bool switched = false;
	if (rc != CRYPTO_OK && rc != CRYPTO_EDIRECTION && c->next != NULL &&
	    crypto_open(c->next, dg, got, pt, sizeof pt, &n, &seq) == CRYPTO_OK) {
		ssp_conn_switch_key(c); /* the attach's client has spoken */
		switched = true;
		rc = CRYPTO_OK;
	}
	if (rc == CRYPTO_EDIRECTION) {
		c->stats.dropped_reflected++;
		return SSP_ECRYPTO;
	}
	if (rc != CRYPTO_OK) {
		c->stats.dropped_forged++;
		return SSP_ECRYPTO;
	}
	/* Authentic from here on. */
	int fresh = ssp_replay_check(&c->replay, seq);
	if (fresh < 0) {
		c->stats.dropped_replayed++;
		return SSP_EREPLAY;
	}
	if (n - SSP_DATAGRAM_HEADER > cap) {
		c->stats.dropped_oversize++;
		return SSP_ETOOBIG;
	}
	uint64_t now = ssp_now_ms();
	c->stats.received++;
	c->stats.bytes_received += (uint64_t)got;
	c->stats.stream_received += on_stream;
	c->last_heard = now;
	if (fresh == 1) {
		/* Only the newest packet moves timestamps and the carrier. */
		uint16_t ts = (uint16_t)(pt[0] << 8 | pt[1]);
		uint16_t reply = (uint16_t)(pt[2] << 8 | pt[3]);
		if (ts != SSP_TS_NONE) {
			c->saved_ts = ts;
			c->saved_ts_at = now;
			c->have_saved_ts = true;
		}
		if (reply != SSP_TS_NONE)
			ssp_rtt_sample(&c->rtt, ssp_ts_diff(ssp_ts16(now), reply));
		note_carrier(c, on_stream, from, fromlen);
	}
	if (switched) {
		/* For whoever reads under the new key: the next call. */
		c->held_len = n - SSP_DATAGRAM_HEADER;
		memcpy(c->held, pt + SSP_DATAGRAM_HEADER, c->held_len);
		c->held_ready = true;
		return SSP_ENEWKEY;
	}
	*len = n - SSP_DATAGRAM_HEADER;
	memcpy(out, pt + SSP_DATAGRAM_HEADER, *len);
	return SSP_OK;
}

int ssp_conn_recv(struct ssp_conn *c, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t dg[SSP_MAX_DATAGRAM + 1];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof from;

	if (c->held_ready) {
		c->held_ready = false;
		if (c->held_len > cap)
			return SSP_ETOOBIG;
		memcpy(out, c->held, c->held_len);
		*len = c->held_len;
		return SSP_OK;
	}
	ssize_t got = recvfrom(c->fd, dg, sizeof dg, MSG_DONTWAIT | MSG_TRUNC,
	                       (struct sockaddr *)&from, &fromlen);
	if (got >= 0)
		return open_datagram(c, dg, (size_t)got, false, &from, fromlen, out, cap, len);
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED)
		return SSP_ESYSTEM;
	if (c->stream == NULL)
		return SSP_EAGAIN;
	size_t n;
	int rc = ssp_stream_read(c->stream, dg, sizeof dg, &n);
	if (rc == SSP_OK)
		return open_datagram(c, dg, n, true, NULL, 0, out, cap, len);
	if (rc != SSP_EAGAIN)
		stream_gone(c);
	return SSP_EAGAIN;
}

void ssp_conn_set_stream(struct ssp_conn *c, struct ssp_stream *s)
{
	ssp_stream_free(c->stream);
	c->stream = s;
}

int ssp_conn_stream_fd(const struct ssp_conn *c)
{
	return c->stream != NULL ? ssp_stream_fd(c->stream) : -1;
}

void ssp_conn_use_stream(struct ssp_conn *c, bool only)
{
	if (c->server)
		return;
	c->via_stream = true;
	c->stream_only = only;
}

bool ssp_conn_on_stream(const struct ssp_conn *c) { return c->via_stream; }

void ssp_conn_probe_udp(struct ssp_conn *c) { c->udp_probe = true; }

int ssp_conn_maybe_hop(struct ssp_conn *c, uint64_t now)
{
	if (c->server)
		return 0;
	/* A caller's `now` may predate a datagram just received (read after
	 * it sampled the clock): never let the difference wrap into "quiet
	 * for ages", which would hop away from a live path. */
	uint64_t since = c->last_heard == UINT64_MAX ? c->last_hop : c->last_heard;
	uint64_t quiet = now > since ? now - since : 0;
	uint64_t since_hop = now > c->last_hop ? now - c->last_hop : 0;
	if (quiet < SSP_PORT_HOP_MS || since_hop < SSP_PORT_HOP_MS)
		return 0;
	if (client_socket(c) != SSP_OK)
		return 0;
	c->last_hop = now;
	c->stats.port_hops++;
	return 1;
}
