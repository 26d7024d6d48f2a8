/*
 * relay — a user-space UDP impairment relay for moshi's tests (the kernel
 * here has no netem).
 *
 *   relay --to HOST:PORT [options]
 *
 * It listens on 127.0.0.1 (--listen PORT, default any free port, printed
 * as "relay listening on PORT" on stdout), forwards what the client sends
 * there to HOST:PORT from an upstream socket, and forwards the replies to
 * the client's latest address. Options take one value for both directions
 * or "UP,DOWN" (up: client to server):
 *
 *   --delay MS      one-way delay
 *   --jitter MS     extra random delay, 0..MS
 *   --loss P        probability a datagram is dropped (0..1)
 *   --dup P         probability it is sent twice
 *   --reorder P     probability it is held back behind the next one
 *   --roam-every S  rebind the upstream socket (new source port) every S
 *                   seconds; SIGUSR1 does it at once
 *   --seed N        random seed (default 1)
 *   --duration S    exit after S seconds (default: run until SIGTERM)
 *
 * SIGUSR2 starts a blackout of the down direction (everything the server
 * sends is dropped, counted as dropped), and the next SIGUSR2 ends it;
 * with --blackout-both, of both directions (an outage). SIGUSR1 with
 * the second SIGUSR2 ends it from a new source address (a roam).
 *
 * With RELAY_LOG=FILE in the environment it also writes a line to FILE
 * for every packet received, dropped, sent or forged, and every roam,
 * with the time since start (for a failing test's post-mortem).
 *
 * On exit (SIGTERM, SIGINT, --duration) it prints one line per direction:
 *   relay up|down: received N packets B bytes, sent N packets B bytes,
 *   dropped N, duplicated N, reordered N; roams N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXQ 4096
#define MAXPKT 65536

struct dir {
	double delay, jitter, loss, dup, reorder;
	uint64_t rx, rx_bytes, tx, tx_bytes, dropped, duplicated, reordered;
};

struct queued {
	uint64_t due;   /* µs */
	int up;         /* 1: to the server */
	size_t len;
	uint8_t *data;
};

static struct queued q[MAXQ];
static FILE *trace; /* RELAY_LOG */
static uint64_t trace_start;
static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return 0;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
#define TRACE(...) do { if (trace) { fprintf(trace, "%8.3f ", \
	(double)(now_us() - trace_start) / 1e6); fprintf(trace, __VA_ARGS__); \
	fputc('\n', trace); } } while (0)
static int nq;
static volatile sig_atomic_t stop, roam_now, blackout;
static int blackout_both; /* --blackout-both */
static uint64_t rng = 1;

static double frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void on_term(int sig) { (void)sig; stop = 1; }
static void on_usr1(int sig) { (void)sig; roam_now = 1; }
static void on_usr2(int sig) { (void)sig; blackout = !blackout; }

static void pair_opt(const char *v, double *up, double *down)
{
	char *end;
	*up = strtod(v, &end);
	*down = *end == ',' ? strtod(end + 1, NULL) : *up;
}

static void enqueue(struct dir *d, int up, const uint8_t *data, size_t len,
                    uint64_t now)
{
	int copies = 1;

	d->rx++;
	d->rx_bytes += len;
	if (frand() < d->loss || ((!up || blackout_both) && blackout)) {
		TRACE("%s drop %zu", up ? "up" : "down", len);
		d->dropped++;
		return;
	}
	if (frand() < d->dup) {
		copies = 2;
		d->duplicated++;
	}
	for (int c = 0; c < copies && nq < MAXQ; c++) {
		uint64_t delay = (uint64_t)((d->delay + frand() * d->jitter) * 1000);
		/* Reordering: this one waits a little longer than the next. */
		if (frand() < d->reorder) {
			delay += 2000 + (uint64_t)(frand() * 10000);
			d->reordered++;
		}
		q[nq].due = now + delay;
		q[nq].up = up;
		q[nq].len = len;
		q[nq].data = malloc(len);
		if (q[nq].data == NULL)
			return;
		memcpy(q[nq].data, data, len);
		nq++;
	}
}

static int upstream_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("relay: socket");
		exit(1);
	}
	return fd;
}

/*
 * --attack N: after every N-th packet from the client, one hostile packet
 * goes to the server from a socket of its own (another source address),
 * in turn: a forged copy (one ciphertext byte flipped), a truncated copy,
 * a replay of a packet forwarded at least a second earlier (so the server
 * has it), a reflection of a server packet (the wrong direction), and an
 * oversized packet. None may be accepted, and none may move the server's
 * idea of the client's address.
 */
#define KEEP 512
static struct {
	int fd, every, turn;
	uint64_t seen, sent[5];
	uint8_t old[KEEP][1500];
	size_t oldlen[KEEP];
	uint64_t oldwhen[KEEP];
	int nold;
	uint8_t down[1500];
	size_t downlen;
} atk;
static const char *const attack_names[5] = {
	"forged", "truncated", "replayed", "reflected", "oversized"
};

/* Keep a client packet for replays, one every 10 ms at most: the KEEP
 * kept then span 5 s or more, so one a second old is there however fast
 * the client sends (a bulk paste sends 512 packets in well under one). */
static void remember_up(const uint8_t *p, size_t len, uint64_t now)
{
	if (atk.every == 0 || len > sizeof atk.old[0] ||
	    (atk.nold > 0 && now - atk.oldwhen[(atk.nold - 1) % KEEP] < 10000))
		return;
	int i = atk.nold++ % KEEP;
	memcpy(atk.old[i], p, len);
	atk.oldlen[i] = len;
	atk.oldwhen[i] = now;
}

static void attack(const uint8_t *p, size_t len, uint64_t now,
                   const struct sockaddr_storage *server, socklen_t server_len)
{
	static uint8_t pkt[4000];
	size_t n = 0;
	int kind = atk.turn % 5;

	if (atk.every == 0 || ++atk.seen % (uint64_t)atk.every != 0 || len > 1500)
		return;
	switch (kind) {
	case 0: /* forged */
		memcpy(pkt, p, len);
		n = len;
		pkt[len > 20 ? len - 20 : len - 1] ^= 0x40;
		break;
	case 1: /* truncated */
		n = atk.turn % 2 ? len / 2 : 7;
		memcpy(pkt, p, n);
		break;
	case 2: /* replayed: the newest kept packet at least 1 s old */
		for (int k = 1; k <= KEEP && k <= atk.nold; k++) {
			int i = (atk.nold - k) % KEEP;
			if (now - atk.oldwhen[i] >= 1000000) {
				memcpy(pkt, atk.old[i], atk.oldlen[i]);
				n = atk.oldlen[i];
				break;
			}
		}
		break;
	case 3: /* reflected */
		memcpy(pkt, atk.down, atk.downlen);
		n = atk.downlen;
		break;
	case 4: /* oversized */
		n = sizeof pkt;
		for (size_t i = 0; i < n; i++)
			pkt[i] = (uint8_t)(frand() * 256);
		break;
	}
	atk.turn++;
	TRACE("attack %s %zu", attack_names[kind], n);
	if (n > 0 && sendto(atk.fd, pkt, n, 0, (const struct sockaddr *)server, server_len) >= 0)
		atk.sent[kind]++;
}

int main(int argc, char **argv)
{
	struct dir up = { 0 }, down = { 0 };
	const char *to = NULL;
	int listen_port = 0;
	double roam_every = 0, duration = 0;
	uint64_t roams = 0, client_moves = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--blackout-both")) {
			blackout_both = 1;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "relay: %s needs a value\n", o);
			return 2;
		}
		i++;
		if (!strcmp(o, "--to")) to = v;
		else if (!strcmp(o, "--listen")) listen_port = atoi(v);
		else if (!strcmp(o, "--delay")) pair_opt(v, &up.delay, &down.delay);
		else if (!strcmp(o, "--jitter")) pair_opt(v, &up.jitter, &down.jitter);
		else if (!strcmp(o, "--loss")) pair_opt(v, &up.loss, &down.loss);
		else if (!strcmp(o, "--dup")) pair_opt(v, &up.dup, &down.dup);
		else if (!strcmp(o, "--reorder")) pair_opt(v, &up.reorder, &down.reorder);
		else if (!strcmp(o, "--roam-every")) roam_every = atof(v);
		else if (!strcmp(o, "--seed")) rng = strtoull(v, NULL, 0) | 1;
		else if (!strcmp(o, "--duration")) duration = atof(v);
		else if (!strcmp(o, "--attack")) atk.every = atoi(v);
		else {
			fprintf(stderr, "relay: unknown option %s\n", o);
			return 2;
		}
	}
	if (to == NULL || strrchr(to, ':') == NULL) {
		fprintf(stderr, "usage: relay --to HOST:PORT [--listen PORT] [--delay MS[,MS]] "
		                "[--jitter MS] [--loss P] [--dup P] [--reorder P] "
		                "[--roam-every S] [--seed N] [--duration S] [--attack N]\n");
		return 2;
	}
	char host[256];
	const char *colon = strrchr(to, ':');
	snprintf(host, sizeof host, "%.*s", (int)(colon - to), to);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	struct addrinfo hints = { 0 }, *ai;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
		fprintf(stderr, "relay: cannot resolve %s\n", to);
		return 1;
	}
	struct sockaddr_storage server;
	socklen_t server_len = ai->ai_addrlen;
	memcpy(&server, ai->ai_addr, ai->ai_addrlen);
	int family = ai->ai_family;
	freeaddrinfo(ai);

	int lfd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in la = { 0 };
	la.sin_family = AF_INET;
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	la.sin_port = htons((uint16_t)listen_port);
	socklen_t lalen = sizeof la;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&la, &lalen) < 0) {
		perror("relay: bind");
		return 1;
	}
	int ufd = upstream_socket(family);
	if (getenv("RELAY_LOG") != NULL) {
		trace = fopen(getenv("RELAY_LOG"), "w");
		if (trace != NULL)
			setvbuf(trace, NULL, _IOLBF, 0); /* read while it runs */
		trace_start = now_us();
	}
	if (atk.every > 0)
		atk.fd = upstream_socket(family);
	printf("relay listening on %d\n", ntohs(la.sin_port));
	fflush(stdout);

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_storage client;
	socklen_t client_len = 0;
	uint64_t start = now_us(), last_roam = start;
	static uint8_t buf[MAXPKT];

	while (!stop) {
		uint64_t now = now_us();
		if (duration > 0 && now - start > (uint64_t)(duration * 1e6))
			break;
		if (roam_now || (roam_every > 0 &&
		                 now - last_roam > (uint64_t)(roam_every * 1e6))) {
			/* A new upstream socket: the server sees a new address. */
			close(ufd);
			ufd = upstream_socket(family);
			roam_now = 0;
			last_roam = now;
			roams++;
			TRACE("roam");
		}
		/* Send what is due. */
		uint64_t next = now + 50000;
		for (int i = 0; i < nq;) {
			if (q[i].due <= now) {
				struct dir *d = q[i].up ? &up : &down;
				ssize_t n;
				if (q[i].up)
					n = sendto(ufd, q[i].data, q[i].len, 0,
					           (struct sockaddr *)&server, server_len);
				else
					n = client_len ? sendto(lfd, q[i].data, q[i].len, 0,
					                        (struct sockaddr *)&client, client_len) : -1;
				TRACE("%s send %zu %s port %d", q[i].up ? "up" : "down", q[i].len,
				      n >= 0 ? "ok" : strerror(errno), q[i].up ? port_of(ufd) : ntohs(((struct sockaddr_in *)&client)->sin_port));
				if (n >= 0) {
					d->tx++;
					d->tx_bytes += q[i].len;
					if (q[i].up)
						remember_up(q[i].data, q[i].len, now);
				}
				free(q[i].data);
				/* Keep the queue in arrival order: packets due
				 * together leave in the order they came, as on a
				 * link with a fixed delay (--reorder aside). */
				memmove(&q[i], &q[i + 1], (size_t)(nq - i - 1) * sizeof q[0]);
				nq--;
				continue;
			}
			if (q[i].due < next)
				next = q[i].due;
			i++;
		}
		struct pollfd fds[2] = { { lfd, POLLIN, 0 }, { ufd, POLLIN, 0 } };
		int wait = (int)((next - now) / 1000);
		if (poll(fds, 2, wait < 1 ? 1 : wait) < 0 && errno != EINTR)
			break;
		now = now_us();
		if (fds[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(lfd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
			if (n >= 0) {
				if (client_len != fl || memcmp(&client, &from, fl) != 0)
					client_moves++;
				TRACE("up recv %zd from %d", n, ntohs(((struct sockaddr_in *)&from)->sin_port));
				memcpy(&client, &from, fl);
				client_len = fl;
				enqueue(&up, 1, buf, (size_t)n, now);
				attack(buf, (size_t)n, now, &server, server_len);
			}
		}
		if (fds[1].revents & POLLIN) {
			ssize_t n = recv(ufd, buf, sizeof buf, 0);
			if (n > 0 && (size_t)n <= sizeof atk.down) {
				memcpy(atk.down, buf, (size_t)n);
				atk.downlen = (size_t)n;
			}
			TRACE("down recv %zd on %d", n, port_of(ufd));
			if (n >= 0)
				enqueue(&down, 0, buf, (size_t)n, now);
		}
	}
	for (int k = 0; k < 2; k++) {
		struct dir *d = k ? &down : &up;
		fprintf(stderr, "relay %s: received %llu packets %llu bytes, sent %llu packets "
		        "%llu bytes, dropped %llu, duplicated %llu, reordered %llu; roams %llu\n",
		        k ? "down" : "up", (unsigned long long)d->rx,
		        (unsigned long long)d->rx_bytes, (unsigned long long)d->tx,
		        (unsigned long long)d->tx_bytes, (unsigned long long)d->dropped,
		        (unsigned long long)d->duplicated, (unsigned long long)d->reordered,
		        (unsigned long long)roams);
	}
	fprintf(stderr, "relay client: %llu addresses seen\n", (unsigned long long)client_moves);
	if (atk.every > 0) {
		fprintf(stderr, "relay attack:");
		for (int k = 0; k < 5; k++)
			fprintf(stderr, " %s %llu", attack_names[k], (unsigned long long)atk.sent[k]);
		fprintf(stderr, "\n");
	}
	return 0;
}
