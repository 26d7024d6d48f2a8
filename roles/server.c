/*
 * The server role: moshi server new [-s] [-v] [-i IP] [-p PORT[:PORT2]]
 * [-c COLORS] [-l NAME=VALUE]... [-- command...]   (also: moshi serve)
 *
 * Runs the command (or a login shell) on a pty, feeds its output through
 * term/, and keeps the client's copy of the screen in sync over ssp/.
 */
#include "roles.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/crypto.h"
#include "../pty/pty.h"
#include "../sync/sync.h"
#include "../term/term.h"
#include "sessions.h"
#include "sleep.h"

#define NO_CLIENT_TIMEOUT_MS 60000
/* After the command exited, a client that is away gets this long (or
 * MOSHI_SERVER_FINAL_TMOUT seconds) to come back for the final screen. */
#define FINAL_TIMEOUT_S 3600
/* After the command is reaped, its last output is read from the pty
 * until the pty says it ended, or nothing more came for this long (a
 * program left in the background still holds it), or this much came. */
#define DRAIN_QUIET_MS 20
#define DRAIN_MAX (1u << 20)
#define ECHO_ACK_DELAY_MS 50
/* A synchronized update (mode 2026) is held this long at most, as
 * terminals bound it. */
#define SYNC_HOLD_MS 150
#define MAX_SETENV 64
/* The terminal's replies (to DA, DSR, ...) are queued for the application
 * only while less than this waits for it: a program that floods queries
 * and never reads its input gets no more, and the queue stays bounded. */
#define REPLIES_MAX_QUEUED 65536
/* A pty read this long or longer may have more behind it: the server
 * reads on, up to TERM_WRITE_FLOOD bytes, before the emulator gets them. */
#define PTY_FLOOD_READ 1024
/* History lines the server keeps for its client (MOSHI_HISTORY_LINES; 0
 * sends none), and how many a published state may hold past those the
 * client acknowledged (who acknowledges those soon, sync_termstate's
 * ack_soon): the history moves at that many lines a round trip, and a
 * state's diff stays a few datagrams. */
#define HISTORY_LINES_DEFAULT 10000
/* An attach waits at most this long (and two RTOs at the most) for the
 * old client to acknowledge that the session is taken. */
#define ATTACH_TELL_MS 300
/* A server with no client this long ends (moshi ls shows when): a week,
 * unless -r or MOSHI_SERVER_NETWORK_TMOUT says otherwise. */
#define REAP_DEFAULT_S (7L * 24 * 3600)
#define HISTORY_BUDGET 1024
#define HISTORY_BUDGET_BYTES 6000 /* of lines rendered: five datagrams */

struct server_opts {
	bool verbose;
	const char *bind_ip;
	int port_lo, port_hi;
	int colors;
	char *setenv[MAX_SETENV + 1];
	int nsetenv;
	long reap;               /* -r: seconds without a client, 0 never, -1 unset */
	char **command;
};

static volatile sig_atomic_t got_term, got_usr1, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
		got_term = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static void server_usage(FILE *f)
{
	fprintf(f, "usage: moshi server new [-s] [-v] [-i IP] [-p PORT[:PORT2]] [-c COLORS]\n"
	           "                        [-r SECONDS] [-l NAME=VALUE]... [-- command...]\n"
	           "       moshi serve [same options]\n");
}

/* Parse argv (after "new", or after "serve"); 0, or 2 for a usage error. */
static int parse_server_args(int argc, char **argv, struct server_opts *o)
{
	o->port_lo = 60001;
	o->port_hi = 60999;
	o->colors = 256;
	o->reap = -1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				o->command = &argv[i + 1];
			return 0;
		} else if (strcmp(a, "-s") == 0) {
			/* Bind to the address ssh came in on: the third field
			 * of SSH_CONNECTION. */
			static char ip[64];
			const char *sc = getenv("SSH_CONNECTION");
			if (sc == NULL || sscanf(sc, "%*s %*s %63s", ip) != 1) {
				fprintf(stderr, "moshi server: -s needs SSH_CONNECTION (run it from ssh)\n");
				return 2;
			}
			o->bind_ip = ip;
		} else if (strcmp(a, "-v") == 0) {
			o->verbose = true;
		} else if (strcmp(a, "-i") == 0 && v) {
			o->bind_ip = v;
			i++;
		} else if (strcmp(a, "-p") == 0 && v) {
			if (roles_parse_ports(v, &o->port_lo, &o->port_hi) < 0) {
				fprintf(stderr, "moshi server: bad port or range: %s\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "-r") == 0 && v) {
			char *end;
			o->reap = strtol(v, &end, 10);
			if (end == v || *end != '\0' || o->reap < 0) {
				fprintf(stderr, "moshi server: -r takes seconds (0: never), not %s\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "-c") == 0 && v) {
			o->colors = atoi(v);
			if (o->colors != 8 && o->colors != 256) {
				fprintf(stderr, "moshi server: -c takes 8 or 256, not %s\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "-l") == 0 && v) {
			if (strchr(v, '=') == NULL || o->nsetenv == MAX_SETENV) {
				fprintf(stderr, "moshi server: -l takes NAME=VALUE: %s\n", v);
				return 2;
			}
			o->setenv[o->nsetenv++] = argv[i + 1];
			i++;
		} else {
			fprintf(stderr, "moshi server: unknown or incomplete option '%s'\n", a);
			server_usage(stderr);
			return 2;
		}
	}
	return 0;
}

/* Bytes for the pty that it has not taken yet. */
struct outq {
	uint8_t *data;
	size_t len, cap;
};

static void outq_add(struct outq *q, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (n > q->cap - q->len) {
		size_t cap = q->cap ? q->cap : 4096;
		while (cap - q->len < n)
			cap *= 2;
		uint8_t *d = realloc(q->data, cap);
		if (d == NULL)
			return; /* out of memory: the keystrokes are lost */
		q->data = d;
		q->cap = cap;
	}
	memcpy(q->data + q->len, p, n);
	q->len += n;
}

static void outq_flush(struct outq *q, int fd)
{
	while (q->len > 0) {
		ssize_t n = write(fd, q->data, q->len);
		if (n <= 0)
			return;
		memmove(q->data, q->data + n, q->len - (size_t)n);
		q->len -= (size_t)n;
	}
}

/* The echo-ack: how many input bytes had reached the application, and
 * when. Their echo is on the screen, and the client's prediction engine
 * can check its guesses for them, once ECHO_ACK_DELAY_MS has passed, or
 * sooner: once the application has written something after reading them
 * and then gone quiet (it has answered, as a shell echoing a key or
 * printing its prompt after Enter does). */
struct applied {
	uint64_t num[64];
	uint64_t when[64];
	uint64_t reads[64];   /* output reads from the pty before it */
	int n;
};

static uint64_t echo_ack(struct applied *a, uint64_t now, uint64_t ack,
                         bool settled, uint64_t reads)
{
	int k = 0;
	while (k < a->n && (now - a->when[k] >= ECHO_ACK_DELAY_MS ||
	                    (settled && reads > a->reads[k]))) {
		ack = a->num[k];
		k++;
	}
	memmove(a->num, a->num + k, (size_t)(a->n - k) * sizeof a->num[0]);
	memmove(a->when, a->when + k, (size_t)(a->n - k) * sizeof a->when[0]);
	memmove(a->reads, a->reads + k, (size_t)(a->n - k) * sizeof a->reads[0]);
	a->n -= k;
	return ack;
}

/* How long the application's output must have been quiet before the
 * screen counts as settled: SSP_ANSWER_QUIET_MS once it has written
 * after reading input not yet acknowledged as echoed (a key's echo is
 * one write: it leaves a millisecond later), else the collection delay. */
static unsigned quiet_ms(const struct applied *a, uint64_t reads)
{
	return a->n > 0 && reads > a->reads[0] ? SSP_ANSWER_QUIET_MS
	                                       : SSP_SEND_MINDELAY_SERVER_MS;
}

/* The emulator and what it owes the application. */
struct screen {
	struct term *term;
	struct outq toapp;
};

/*
 * Read what the pty holds into the emulator: in a flood, all of it, up
 * to TERM_WRITE_FLOOD bytes, in one write (the pty hands over at most
 * 4095 bytes a read, and term_write is cheaper a line in larger pieces:
 * term.h). A read shorter than
 * PTY_FLOOD_READ is not a flood: the output goes on at once (an echo, a
 * prompt). Returns the bytes taken, 0 when there were none (EAGAIN), -1
 * when the pty ended (EIO: the last program left it).
 */
static ssize_t pty_take(int master, struct screen *sc)
{
	uint8_t buf[TERM_WRITE_FLOOD];
	size_t got = 0;
	ssize_t n;
	while ((n = read(master, buf + got, sizeof buf - got)) > 0) {
		got += (size_t)n;
		if (got == sizeof buf || n < PTY_FLOOD_READ)
			break;
	}
	if (got == 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	term_write(sc->term, buf, got);
	size_t rl;
	const uint8_t *r = term_replies(sc->term, &rl);
	if (sc->toapp.len < REPLIES_MAX_QUEUED)
		outq_add(&sc->toapp, r, rl);
	term_replies_clear(sc->term);
	return (ssize_t)got;
}

/* The command was reaped: its last output may still be in the pty (the
 * kernel hands it over after the exit, and a poll may have woken for
 * the SIGCHLD first). Read on until the pty ends, or stays quiet
 * DRAIN_QUIET_MS. Returns the bytes taken. */
static size_t pty_drain(int master, struct screen *sc)
{
	size_t total = 0;
	while (total < DRAIN_MAX) {
		ssize_t n = pty_take(master, sc);
		if (n < 0)
			break;
		if (n > 0) {
			total += (size_t)n;
			continue;
		}
		struct pollfd p = { master, POLLIN, 0 };
		if (poll(&p, 1, DRAIN_QUIET_MS) == 0)
			break;
	}
	return total;
}

static void logf_(bool on, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(bool on, const char *fmt, ...)
{
	if (!on)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "moshi-server: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* The client acknowledged the screen the server has now. */
static bool final_screen_acked(struct ssp_transport *t)
{
	return sync_termstate_ops.equal(ssp_transport_acked(t), ssp_transport_local(t));
}

/* The server's limits, from its environment: seconds, or -1 when the
 * variable is not set. */
struct limits {
	long net;    /* MOSHI_SERVER_NETWORK_TMOUT: the client silent this long */
	long sig;    /* MOSHI_SERVER_SIGNAL_TMOUT: SIGUSR1 ends it after this */
	long final;  /* MOSHI_SERVER_FINAL_TMOUT: waiting after the command */
};

/* The client has been silent for MOSHI_SERVER_NETWORK_TMOUT seconds. */
static bool client_gone(const struct limits *l, uint64_t quiet)
{
	return l->net >= 0 && quiet != UINT64_MAX && quiet > (uint64_t)l->net * 1000;
}

/* Milliseconds until client_gone may turn true (-1: never). */
static int client_gone_in(const struct limits *l, uint64_t quiet)
{
	if (l->net < 0 || quiet == UINT64_MAX)
		return -1;
	return sleep_until((uint64_t)l->net * 1000 + 1, quiet);
}

/* Why a signal ends the server now, or NULL: SIGTERM, SIGINT and SIGHUP
 * always; SIGUSR1 when the client has been silent for MOSHI_SERVER_
 * SIGNAL_TMOUT seconds (at once when that is not set). */
static const char *signal_end(const struct limits *l, uint64_t quiet)
{
	if (got_usr1) {
		got_usr1 = 0;
		if (l->sig < 0 || quiet == UINT64_MAX || quiet > (uint64_t)l->sig * 1000)
			return "SIGUSR1";
	}
	return got_term ? "a signal to end" : NULL;
}

/* The command exited: its final screen, and then the shutdown, must
 * reach the client, which may be away (a laptop asleep, a phone in a
 * tunnel). Wait for it as the session would have: until it has both, or
 * it has been silent for MOSHI_SERVER_NETWORK_TMOUT seconds, or
 * MOSHI_SERVER_FINAL_TMOUT seconds (FINAL_TIMEOUT_S unless set) have
 * passed, or a signal ends the server (see signal_end). The history's
 * last lines go before the shutdown. It sleeps between events. NULL when
 * the client was told, else why not. */
struct session;
static bool history_due(struct session *s, uint64_t *hist);
static void publish_state(struct session *s, uint64_t hist);

static const char *farewell(struct session *s, struct ssp_transport *t,
                            const struct limits *l)
{
	struct ssp_conn *conn = ssp_transport_conn(t);
	bool screen_acked = false;
	uint64_t until = ssp_now_ms() + (uint64_t)(l->final >= 0 ? l->final : FINAL_TIMEOUT_S) * 1000;

	for (;;) {
		uint64_t now = ssp_now_ms();
		if (now >= until)
			return "it did not come back within MOSHI_SERVER_FINAL_TMOUT seconds";
		int w = sleep_min(ssp_transport_wait_ms(t, now), sleep_until(until, now));
		w = sleep_min(w, client_gone_in(l, ssp_conn_quiet_ms(conn, now)));
		struct pollfd p = { ssp_conn_fd(conn), POLLIN, 0 };
		if (sleep_until_event(&p, 1, w) < 0 && errno != EINTR)
			return strerror(errno);
		ssp_transport_recv(t);
		now = ssp_now_ms();
		uint64_t quiet = ssp_conn_quiet_ms(conn, now);
		uint64_t hist;
		if (!screen_acked && final_screen_acked(t) && history_due(s, &hist)) {
			publish_state(s, hist); /* the history's last lines first */
		} else if (!screen_acked && final_screen_acked(t)) {
			screen_acked = true;
			ssp_transport_start_shutdown(t);
		} else if (screen_acked && ssp_transport_shutdown_tried_out(t) &&
		           quiet < SSP_ACK_DELAY_MS + 1000) {
			/* The tries ran out while it was away, and it is back. */
			ssp_transport_start_shutdown(t);
		}
		ssp_transport_tick(t, now);
		if (ssp_transport_shutdown_acked(t) || ssp_transport_remote_shutdown(t))
			return NULL;
		if (client_gone(l, quiet))
			return "it was silent for MOSHI_SERVER_NETWORK_TMOUT seconds";
		const char *sig = signal_end(l, quiet);
		if (sig != NULL)
			return sig;
	}
}

/* The CONNECT line, which the client starts on; the key text is wiped
 * once it is out. */
static void say_connect(const struct ssp_conn *conn, char *keytext, const char *id)
{
	if (id != NULL) /* for a client that UDP does not reach: moshi relay ID */
		printf("\r\nMOSHI SESSION %s", id);
	printf("\r\nMOSHI CONNECT %d %s\r\n", ssp_conn_port(conn), keytext);
	fflush(stdout);
	crypto_wipe(keytext, CRYPTO_KEY_B64_LEN + 1);
}

/* A fresh key and a UDP port in the options' range; keytext gets the
 * key's text for the CONNECT line (the key itself is wiped). */
static int server_bind(const struct server_opts *o, struct ssp_conn **conn,
                       char keytext[CRYPTO_KEY_B64_LEN + 1])
{
	struct crypto_key key;
	if (crypto_key_generate(&key) != CRYPTO_OK) {
		fprintf(stderr, "moshi server: no randomness for a key\n");
		return -1;
	}
	int rc = ssp_conn_server(conn, &key, o->bind_ip, o->port_lo, o->port_hi);
	if (rc != SSP_OK) {
		crypto_wipe(&key, sizeof key);
		fprintf(stderr, "moshi server: cannot bind a UDP port in %d-%d%s%s: %s\n",
		        o->port_lo, o->port_hi, o->bind_ip ? " on " : "",
		        o->bind_ip ? o->bind_ip : "",
		        rc == SSP_ESYSTEM ? strerror(errno) : ssp_strerror(rc));
		return -1;
	}
	crypto_key_encode(&key, keytext);
	crypto_wipe(&key, sizeof key);
	return 0;
}

/* Print the lines connect reads (the address ssh reached, then CONNECT),
 * and, unless verbose, detach: the parent prints and exits, the child
 * goes on in a session of its own with its standard streams on
 * /dev/null. Returns -1 when the fork failed. */
static int server_detach(const struct server_opts *o, const struct ssp_conn *conn,
                         char *keytext, const char *id)
{
	/* Over ssh, the address the client reached us on: ssh host aliases
	 * need not resolve where the client runs. */
	char sship[64];
	const char *sshc = getenv("SSH_CONNECTION");
	if (sshc != NULL && sscanf(sshc, "%*s %*s %63s", sship) == 1)
		printf("\r\nMOSHI IP %s", sship);
	if (o->verbose) {
		say_connect(conn, keytext, id);
		return 0;
	}
	/* Under ssh -t the session's end sends SIGHUP to the terminal's
	 * process group, which the child is in until setsid(): ignore it
	 * across the detach (the handler is set up later). */
	signal(SIGHUP, SIG_IGN);
	fflush(stdout);
	pid_t p = fork();
	if (p < 0) {
		perror("moshi server: fork");
		return -1;
	}
	if (p > 0) {
		/* The detach line first, then the CONNECT line: the client
		 * starts on the second, so the first can never land in (or
		 * after) its session. */
		fprintf(stderr, "\n[moshi-server detached, pid = %d]\n", (int)p);
		say_connect(conn, keytext, id);
		_exit(0);
	}
	crypto_wipe(keytext, CRYPTO_KEY_B64_LEN + 1);
	setsid();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return 0;
}

static const int server_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };

/* Nothing inherited from whoever started us (their pipes would stay
 * open, and pass on to the command) but the UDP socket and the session
 * socket ctl; the signals the loop waits for. */
static void server_process_setup(const struct ssp_conn *conn, int ctl)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != ssp_conn_fd(conn) && fd != ctl)
			close(fd);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof server_signals / sizeof server_signals[0]; i++)
		sigaction(server_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* A running session: the command on its pty, the emulator, the link,
 * and where the loop stands. */
struct session {
	const struct server_opts *o;
	struct ssp_conn *conn;
	struct ssp_transport *t;
	struct screen sc;
	int master;
	pid_t child;
	int status;              /* the command's, once reaped */
	bool child_done;         /* its pty ended, or it was reaped */
	bool child_reaped;
	struct limits lim;
	uint64_t start;
	uint64_t consumed;       /* user stream events applied */
	uint64_t input_bytes;    /* bytes of them given to the application */
	struct applied applied;
	uint64_t ack;            /* the echo-ack published */
	bool changed;            /* the screen changed since it was published */
	/* The application's output since it last went quiet is unsent. */
	bool quiet_pending;
	uint64_t last_output, reads;
	/* A synchronized update (mode 2026) under way since sync_since (0:
	 * none); sync_given_up once it outlasted SYNC_HOLD_MS. */
	uint64_t sync_since;
	bool sync_given_up;
	bool history;            /* history lines are sent */
	uint64_t hist_published; /* history lines in the newest state */
	uint64_t clears_published; /* and history clears */
	/* history_reach's last answer: from line `from`, with `total` lines
	 * printed, a state may hold lines up to `to`. */
	struct { uint64_t from, to, total; } reach;
	struct sessions_srv ctl; /* moshi ls and kill ask here */
	bool attached;           /* moshi attach was here: no no-client minute */
	long long created;       /* wall clock, seconds */
};

/* Two reasons decide how the session ends (session_finish). */
static const char silent[] = "no client for its reap time (-r, MOSHI_SERVER_NETWORK_TMOUT)";
static const char exited[] = "the command exited";
static const char killed[] = "moshi kill ended it";

/* The command on a pty of the default size, the emulator and the
 * transport. */
static int session_start(struct session *s)
{
	int cols = 80, rows = 24;
	const struct server_opts *o = s->o;
	struct pty_spec spec = { cols, rows, o->colors == 8 ? "xterm" : "xterm-256color",
	                         o->command, o->setenv };

	s->master = -1;
	s->child = -1;
	s->sc.term = term_new(cols, rows);
	if (s->sc.term == NULL || pty_spawn(&spec, &s->master, &s->child) < 0) {
		logf_(true, "cannot start the command: %s", strerror(errno));
		return -1;
	}
	sleep_block_signals(server_signals, sizeof server_signals / sizeof server_signals[0]);
	logf_(o->verbose, "running %s on a pty, pid %d, UDP port %d",
	      o->command ? o->command[0] : pty_user_shell(), (int)s->child,
	      ssp_conn_port(s->conn));
	s->t = ssp_transport_new(s->conn, true, &sync_termstate_ops,
		sync_termstate_new(cols, rows), &sync_userstream_ops, sync_userstream_new());
	if (s->t == NULL) {
		logf_(true, "out of memory");
		return -1;
	}
	/* Reaped after -r, or MOSHI_SERVER_NETWORK_TMOUT, or REAP_DEFAULT_S
	 * seconds without a client; 0 is never, as in mosh. */
	long reap = o->reap >= 0 ? o->reap : roles_env_count("MOSHI_SERVER_NETWORK_TMOUT");
	if (reap < 0)
		reap = REAP_DEFAULT_S;
	s->lim = (struct limits){ reap > 0 ? reap : -1,
	                          roles_env_count("MOSHI_SERVER_SIGNAL_TMOUT"),
	                          roles_env_count("MOSHI_SERVER_FINAL_TMOUT") };
	s->start = ssp_now_ms();
	s->created = (long long)time(NULL);
	long hist = roles_env_count("MOSHI_HISTORY_LINES");
	if (hist < 0)
		hist = HISTORY_LINES_DEFAULT;
	s->history = hist > 0;
	if (s->history)
		term_set_scrollback_lines(s->sc.term, hist > TERM_SCROLLBACK_MAX ?
		                          TERM_SCROLLBACK_MAX : (int)hist);
	return 0;
}

/* Milliseconds until the next timer: nothing wakes an idle server but
 * its heartbeat and the client's. */
static int session_wait_ms(const struct session *s, uint64_t now)
{
	int wait = sleep_min(ssp_transport_wait_ms(s->t, now), sessions_wait_ms(&s->ctl, now));
	if (s->applied.n > 0)
		wait = sleep_min(wait, ECHO_ACK_DELAY_MS);
	if (s->sync_since != 0 && !s->sync_given_up) /* an update held */
		wait = sleep_min(wait, sleep_until(s->sync_since + SYNC_HOLD_MS, now));
	else if (s->quiet_pending) /* wake when the output has been quiet long enough */
		wait = sleep_min(wait, sleep_until(s->last_output +
		                                   quiet_ms(&s->applied, s->reads), now));
	if (!ssp_conn_has_remote(s->conn))
		wait = sleep_min(wait, s->attached ? -1 :
		                 sleep_until(s->start + NO_CLIENT_TIMEOUT_MS + 1, now));
	return sleep_min(wait, client_gone_in(&s->lim, ssp_conn_quiet_ms(s->conn, now)));
}

/* What the application printed, into the emulator. */
static void session_read_pty(struct session *s, uint64_t now)
{
	ssize_t n = pty_take(s->master, &s->sc);
	if (n > 0) {
		s->changed = true;
		s->quiet_pending = true;
		s->last_output = now;
		s->reads++;
	} else if (n < 0) {
		s->child_done = true; /* EIO: the last program left the pty */
	}
	if (!term_synchronized(s->sc.term)) {
		s->sync_since = 0;
		s->sync_given_up = false;
	} else if (s->sync_since == 0) {
		s->sync_since = now;
	}
}

/* Whether the screen waits: an update the application marked as one
 * (mode 2026) is published once it is done, not half done, unless it
 * takes longer than SYNC_HOLD_MS (as terminals bound it) or the command
 * has ended. */
static bool session_holding(struct session *s, uint64_t now)
{
	if (s->sync_since == 0 || s->sync_given_up)
		return false;
	if (s->child_done || now - s->sync_since >= SYNC_HOLD_MS) {
		s->sync_given_up = true;
		return false;
	}
	return true;
}

/* What the user's terminal said of itself (its colours, the keys it can
 * send), for the emulator's answers to the application. */
static void session_terminal(struct session *s, const struct sync_user_event *ev)
{
	_Static_assert(SYNC_COLOURS == TERM_COLOURS, "one numbering of colours");
	struct sync_terminal t;
	if (sync_terminal_decode(&t, ev->bytes, ev->len) != SSP_OK)
		return;
	for (int i = 0; i < SYNC_COLOURS; i++)
		if (t.colour[i] & SYNC_COLOUR_KNOWN)
			term_set_colour(s->sc.term, i, t.colour[i]);
	term_set_key_support(s->sc.term, t.keys);
}

/* The user's keys and window sizes, from the client, to the application. */
static void session_apply_input(struct session *s, uint64_t now)
{
	struct sync_user_event ev;
	const void *in = ssp_transport_remote(s->t);
	bool got = false;

	while (sync_userstream_get(in, s->consumed, &ev)) {
		if (ev.type == SYNC_USER_BYTES) {
			outq_add(&s->sc.toapp, ev.bytes, ev.len);
			s->input_bytes += ev.len;
		} else if (ev.type == SYNC_USER_TERMINAL) {
			session_terminal(s, &ev);
		} else {
			term_resize(s->sc.term, ev.cols, ev.rows);
			pty_resize(s->master, ev.cols, ev.rows);
			s->changed = true;
		}
		s->consumed++;
		got = true;
	}
	if (got) {
		ssp_transport_remote_forget(s->t, s->consumed);
		struct applied *a = &s->applied;
		if (a->n == 64)
			a->n = 0; /* overflow: acks just lag */
		a->num[a->n] = s->input_bytes;
		a->reads[a->n] = s->reads;
		a->when[a->n++] = now;
	}
	if (s->sc.toapp.len && !s->child_done)
		outq_flush(&s->sc.toapp, s->master);
}

/* The command was reaped: take its last output before the final screen
 * is made. */
static void session_reap(struct session *s, uint64_t now)
{
	if (!(got_chld || s->child_done) || s->child_reaped)
		return;
	got_chld = 0;
	if (waitpid(s->child, &s->status, WNOHANG) != s->child)
		return;
	s->child_reaped = true;
	if (!s->child_done && pty_drain(s->master, &s->sc) > 0) {
		s->changed = true;
		s->last_output = now;
		s->quiet_pending = true;
	}
	s->child_done = true;
}

/* How far past line `from` a state may go: HISTORY_BUDGET lines, or as
 * many as HISTORY_BUDGET_BYTES hold rendered, or to `total`. The lines
 * are rendered to be measured, so the answer is kept: it stands while
 * `from` does and the budget, not `total`, stopped it (a flood wakes the
 * server far more often than the client acknowledges). */
static uint64_t history_reach(struct session *s, uint64_t from, uint64_t total)
{
	if (from == s->reach.from && (s->reach.to < s->reach.total || total == s->reach.total))
		return s->reach.to;
	uint64_t h = from;
	struct term_buf line = { 0 };
	size_t bytes = 0;
	for (int k = 0; k < HISTORY_BUDGET && h < total && bytes < HISTORY_BUDGET_BYTES; k++) {
		int width;
		bool wrapped;
		line.len = 0;
		term_history_line(s->sc.term, h, &line, &width, &wrapped);
		bytes += line.len + 8;
		h++;
	}
	term_buf_free(&line);
	s->reach.from = from;
	s->reach.to = h;
	s->reach.total = total;
	return h;
}

/* The history lines the next state may hold: those the client has
 * acknowledged (or all those the ring no longer holds), and as many more
 * as history_reach allows. True when that is more than the newest state
 * holds, or the history was cleared since. */
static bool history_due(struct session *s, uint64_t *hist)
{
	*hist = s->hist_published;
	if (!s->history)
		return false;
	uint64_t at;
	bool cleared = term_scrollback_clears(s->sc.term, &at) != s->clears_published;
	const struct sync_termstate *acked = ssp_transport_acked(s->t);
	uint64_t total = term_scrollback_total(s->sc.term);
	uint64_t kept = total - (uint64_t)term_scrollback_count(s->sc.term);
	/* Lines the ring no longer holds cost one gap entry, however many. */
	uint64_t h = history_reach(s, acked->hist_total > kept ? acked->hist_total : kept, total);
	if (h > *hist)
		*hist = h;
	return *hist != s->hist_published || cleared;
}

/* The screen, its echo-ack and hist history lines, as the newest state. */
static void publish_state(struct session *s, uint64_t hist)
{
	struct sync_termstate *st = sync_termstate_from_frame(term_frame(s->sc.term), s->ack);
	if (st == NULL)
		return;
	if (s->history)
		sync_termstate_set_history(st, s->sc.term, hist);
	ssp_transport_set_local(s->t, st);
	s->hist_published = st->hist_total;
	s->clears_published = st->hist_clears;
}

/* The screen, with its echo-ack, to the transport when it changed (or
 * history lines are due); the transport told when the output has
 * settled. */
static void session_publish(struct session *s, uint64_t now)
{
	if (session_holding(s, now)) {
		ssp_transport_tick(s->t, now);
		return;
	}
	bool settling = s->quiet_pending && (s->child_done ||
	                now - s->last_output >= quiet_ms(&s->applied, s->reads));
	uint64_t a = echo_ack(&s->applied, now, s->ack, settling, s->reads);
	bool answer = a != s->ack; /* the screen now shows input applied */
	if (answer) {
		s->ack = a;
		s->changed = true;
	}
	uint64_t hist;
	if (history_due(s, &hist) || s->changed) {
		publish_state(s, hist);
		s->changed = false;
	}
	if (settling) {
		ssp_transport_settled(s->t, answer);
		s->quiet_pending = false;
	}
	ssp_transport_tick(s->t, now);
}

/* Why the session ends now, or NULL. The command is gone (its pty
 * closed): end once a client is there to be told, which may be later
 * (the no-client timeout still applies). */
static const char *session_end_reason(struct session *s, uint64_t now)
{
	const char *why = NULL;
	if (s->child_done && ssp_conn_has_remote(s->conn))
		why = exited;
	uint64_t quiet = ssp_conn_quiet_ms(s->conn, now);
	if (!ssp_conn_has_remote(s->conn) && !s->attached && now - s->start > NO_CLIENT_TIMEOUT_MS)
		why = "no client came within 60 seconds";
	if (client_gone(&s->lim, quiet))
		why = silent;
	const char *sig = signal_end(&s->lim, quiet);
	if (sig != NULL)
		why = sig;
	if (ssp_transport_remote_shutdown(s->t))
		why = "the client quit";
	return why;
}

/* A new client takes the session over (moshi attach, from `from`): the
 * old client, if there is one, is told, briefly; the new one gets a fresh
 * key through conn, which is closed; the old key is wiped, and the
 * transport starts again from the blank state both ends begin with, so
 * that the new client gets the whole screen and the history kept. */
static int session_attach(struct session *s, int conn, const char *from)
{
	struct crypto_key key;
	char keytext[CRYPTO_KEY_B64_LEN + 1], line[128], reason[SSP_REASON_MAX + 1], when[16];
	time_t now = time(NULL);
	struct tm tm;

	/* The key goes first: while ssh carries it and the new client
	 * starts, the old client is told. The new client's first datagram
	 * switches the key, whichever comes first. */
	if (crypto_key_generate(&key) != CRYPTO_OK || ssp_conn_expect_key(s->conn, &key) != SSP_OK) {
		crypto_wipe(&key, sizeof key);
		close(conn);
		return -1;
	}
	crypto_key_encode(&key, keytext);
	crypto_wipe(&key, sizeof key);
	int n = snprintf(line, sizeof line, "MOSHI CONNECT %d %s\n", ssp_conn_port(s->conn),
	                 keytext);
	roles_write_all(conn, line, (size_t)n);
	crypto_wipe(keytext, sizeof keytext);
	crypto_wipe(line, sizeof line);
	close(conn);
	/* A client silent for SESSIONS_ATTACHED_S (it speaks every 3 s) is
	 * out of reach, or gone with its laptop: nobody to tell. */
	uint64_t quiet = ssp_conn_quiet_ms(s->conn, ssp_now_ms());
	if (ssp_conn_has_remote(s->conn) && quiet < SESSIONS_ATTACHED_S * 1000) {
		strftime(when, sizeof when, "%H:%M:%S", localtime_r(&now, &tm));
		snprintf(reason, sizeof reason, "the session was taken over from %s at %s",
		         from, when);
		ssp_transport_set_reason(s->t, reason);
		/* A live client acknowledges within about a round trip. */
		unsigned rto2 = 2 * ssp_rtt_rto(ssp_conn_rtt(s->conn));
		ssp_transport_shutdown(s->t, rto2 < ATTACH_TELL_MS ? (int)rto2 : ATTACH_TELL_MS);
	}
	ssp_conn_switch_key(s->conn);
	struct ssp_transport *t = ssp_transport_new(s->conn, true, &sync_termstate_ops,
	                                            sync_termstate_new(80, 24),
	                                            &sync_userstream_ops, sync_userstream_new());
	if (t == NULL)
		return -1;
	logf_(s->o->verbose, "attached from %s", from);
	ssp_transport_release(s->t);
	s->t = t;
	s->consumed = s->input_bytes = s->ack = 0;
	s->applied.n = 0;
	s->hist_published = s->clears_published = 0;
	s->reach.from = UINT64_MAX;
	s->changed = true;
	s->attached = true; /* a failed attach must not lose the session */
	return 0;
}

/* A client that UDP does not reach sends its datagrams through ssh and
 * moshi relay, whose connection to the session socket is conn. */
static void session_stream(struct session *s, int conn)
{
	struct ssp_stream *st;
	if (ssp_stream_new(&st, conn, conn, NULL) != SSP_OK) {
		close(conn);
		return;
	}
	ssp_conn_set_stream(s->conn, st);
	logf_(s->o->verbose, "a stream carries the datagrams now");
}

/* What moshi ls shows of this session. */
static void session_info(const struct session *s, uint64_t now, struct sessions_info *i)
{
	memset(i, 0, sizeof *i);
	memcpy(i->id, s->ctl.id, sizeof i->id);
	i->pid = (long)getpid();
	i->created = s->created;
	i->now = (long long)time(NULL);
	uint64_t quiet = ssp_conn_quiet_ms(s->conn, now); /* since an attach, too */
	if (quiet != UINT64_MAX)
		i->contact = i->now - (long long)(quiet / 1000);
	if (ssp_conn_has_remote(s->conn))
		ssp_conn_remote_str(s->conn, i->client, sizeof i->client);
	snprintf(i->carrier, sizeof i->carrier, "%s", ssp_conn_on_stream(s->conn) ? "ssh" : "udp");
	i->reap_s = s->lim.net >= 0 ? s->lim.net : -1;
	i->forged = (long long)ssp_conn_stats(s->conn)->dropped_forged;
	i->sent_bytes = (long long)ssp_conn_stats(s->conn)->bytes_sent;
	size_t n = 0;
	for (char **a = s->o->command; a != NULL && *a != NULL && n + 2 < sizeof i->command; a++)
		n += (size_t)snprintf(i->command + n, sizeof i->command - n, "%s%s",
		                      n ? " " : "", *a);
	if (n == 0)
		snprintf(i->command, sizeof i->command, "%s", pty_user_shell());
	snprintf(i->title, sizeof i->title, "%s", term_frame_title(term_frame(s->sc.term)));
}

/* One wake of the server: sleep until something happens, then read the
 * application's output and the client's input, answer moshi ls or kill,
 * and publish the screen. Returns why the session ends, or NULL. */
static const char *session_step(struct session *s)
{
	uint64_t now = ssp_now_ms();
	int wait = session_wait_ms(s, now);
	struct pollfd fds[4] = {
		{ ssp_conn_fd(s->conn), POLLIN, 0 },
		{ s->child_done ? -1 : s->master, POLLIN | (s->sc.toapp.len ? POLLOUT : 0), 0 },
		{ sessions_poll_fd(&s->ctl), POLLIN, 0 },
		{ ssp_conn_stream_fd(s->conn), POLLIN, 0 },
	};
	if (sleep_until_event(fds, 4, wait) < 0 && errno != EINTR)
		return "an error";
	now = ssp_now_ms();
	if (fds[2].revents || sessions_wait_ms(&s->ctl, now) == 0) {
		struct sessions_info info;
		char from[64];
		int conn = -1;
		session_info(s, now, &info);
		enum sessions_req r = sessions_serve(&s->ctl, &info, now, &conn, from, sizeof from);
		if (r == SESSIONS_KILL)
			return killed;
		if (r == SESSIONS_ATTACH && session_attach(s, conn, from) < 0)
			return "an attach failed";
		if (r == SESSIONS_STREAM)
			session_stream(s, conn);
		now = ssp_now_ms();
	}
	if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
		session_read_pty(s, now);
	ssp_transport_recv(s->t);
	session_apply_input(s, now);
	session_reap(s, now);
	session_publish(s, now);
	return session_end_reason(s, now);
}

static void log_stats(bool on, const struct ssp_conn *conn)
{
	const struct ssp_stats *st = ssp_conn_stats(conn);
	logf_(on, "datagrams: %llu in, %llu out, %llu send errors; dropped "
	      "%llu forged, %llu replayed, %llu reflected, %llu short, %llu oversized",
	      (unsigned long long)st->received, (unsigned long long)st->sent,
	      (unsigned long long)st->send_errors,
	      (unsigned long long)st->dropped_forged, (unsigned long long)st->dropped_replayed,
	      (unsigned long long)st->dropped_reflected, (unsigned long long)st->dropped_short,
	      (unsigned long long)st->dropped_oversize);
}

/* The end: the client told, if there is one to tell, and nothing left
 * behind (the pty's programs get SIGHUP). */
static void session_finish(struct session *s, const char *why)
{
	bool verbose = s->o->verbose;

	logf_(verbose, "ending: %s", why);
	sessions_close(&s->ctl);
	if (ssp_conn_has_remote(s->conn) && why == exited) {
		publish_state(s, s->hist_published);
		const char *gave_up = farewell(s, s->t, &s->lim);
		if (gave_up != NULL)
			logf_(verbose, "the client was not told: %s", gave_up);
	} else if (ssp_conn_has_remote(s->conn) && why != silent) {
		/* (A client silent that long would not hear it.) */
		ssp_transport_shutdown(s->t, 3000);
	}
	log_stats(verbose, s->conn);
	close(s->master);
	s->master = -1;
	if (!s->child_reaped) {
		kill(-s->child, SIGHUP);
		kill(s->child, SIGHUP);
		for (int i = 0; i < 50 && waitpid(s->child, &s->status, WNOHANG) == 0; i++)
			usleep(20000);
		if (waitpid(s->child, &s->status, WNOHANG) == 0) {
			kill(s->child, SIGKILL);
			waitpid(s->child, &s->status, 0);
		}
	}
	sleep_unblock_signals();
}

/* The user's detached sessions here, as a line before the CONNECT line,
 * for connect to mention: "MOSHI DETACHED ID...". */
/* A new server names the user's detached sessions before its CONNECT
 * line, asking them for this long at most (all together). */
#define DETACHED_WAIT_MS 300

static void say_detached(void)
{
	char dir[80], err[200], ids[8][SESSIONS_ID_LEN + 1];
	if (sessions_dir(dir, sizeof dir, err, sizeof err) < 0)
		return;
	int n = sessions_detached(dir, DETACHED_WAIT_MS, ids, 8);
	if (n == 0)
		return;
	printf("\r\nMOSHI DETACHED");
	for (int k = 0; k < n; k++)
		printf(" %s", ids[k]);
	printf("\r\n");
	fflush(stdout);
}

static int serve(struct server_opts *o)
{
	struct ssp_conn *conn = NULL;
	char keytext[CRYPTO_KEY_B64_LEN + 1];
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore); /* no core dump may ever hold the key */
	if (server_bind(o, &conn, keytext) < 0)
		return 1;
	say_detached();
	struct sessions_srv ctl = { .fd = -1, .conn = -1 };
	char err[200];
	if (sessions_listen(&ctl, err, sizeof err) < 0)
		logf_(o->verbose, "moshi ls and kill will not see this session: %s", err);
	else
		logf_(o->verbose, "session %s", ctl.id);
	if (server_detach(o, conn, keytext, ctl.fd >= 0 ? ctl.id : NULL) < 0) {
		sessions_close(&ctl);
		return 1;
	}
	server_process_setup(conn, ctl.fd);

	struct session s = { .o = o, .conn = conn, .reach = { UINT64_MAX, 0, 0 }, .ctl = ctl };
	if (session_start(&s) < 0) {
		sessions_close(&s.ctl);
		return 1;
	}
	const char *why = NULL;
	while (why == NULL)
		why = session_step(&s);
	session_finish(&s, why);
	ssp_transport_free(s.t);
	term_free(s.sc.term);
	free(s.sc.toapp.data);
	return 0;
}

/* The whole command line of the server role (see roles_server_parse). */
static int server_command_line(int argc, char **argv, struct server_opts *o)
{
	memset(o, 0, sizeof *o);
	/* moshi server new ... | moshi serve ... | moshi-server [new] ... */
	int i = 1;
	const char *self = argc > 0 ? strrchr(argv[0], '/') : NULL;
	self = self ? self + 1 : argc > 0 ? argv[0] : "";
	if (strcmp(self, "serve") != 0) {
		if (i < argc && strcmp(argv[i], "new") == 0) {
			i++;
		} else if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			server_usage(stdout);
			return 1;
		} else if (i < argc && strcmp(argv[i], "--version") == 0) {
			roles_print_version("moshi-server");
			return 1;
		} else if (strcmp(self, "moshi-server") != 0) {
			server_usage(stderr);
			return 2;
		}
	}
	if (i > argc)
		i = argc;
	return parse_server_args(argc - i, argv + i, o);
}

int roles_server_parse(int argc, char **argv)
{
	struct server_opts o;
	return server_command_line(argc, argv, &o);
}

int roles_server_main(int argc, char **argv)
{
	struct server_opts o;
	int rc = server_command_line(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	return serve(&o);
}
