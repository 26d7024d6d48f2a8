/*
 * The client role: moshi client [--alternate-screen | --no-init] HOST
 * PORT, with the session key in MOSHI_KEY (removed from the environment
 * at once).
 *
 * Keys typed go into the user stream; frames from the server are drawn
 * with term/'s renderer on the local terminal, whose modes are restored
 * on every way out. By default it draws on the terminal's normal screen,
 * and the lines that scrolled off the server's screen are written into
 * the terminal's own history above it (write_history), as over ssh;
 * --alternate-screen (or MOSHI_ALTERNATE_SCREEN) draws on the alternate
 * screen as mosh does, and --no-init on the normal screen without the
 * history, as mosh's --no-init.
 */
#include "roles.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "../crypto/crypto.h"
#include "../sync/sync.h"
#include "../term/term.h"
#include "carrier.h"
#include "keys.h"
#include "predict.h"
#include "sleep.h"
#include "termquery.h"

#define BAR_AFTER_MS 6500       /* quiet this long: show the bar */
#define NOTHING_YET_AFTER_MS 3000
#define UDP_SILENT_MS 10000     /* heard before, then nothing this long */
/* A client that has heard nothing from its server this long after it
 * started gives up (MOSHI_CLIENT_CONTACT_TMOUT seconds, when set). */
#define NO_CONTACT_GIVE_UP_MS 20000

static volatile sig_atomic_t got_winch = 1, got_end, got_cont;
static int end_signal;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGWINCH: got_winch = 1; break;
	case SIGCONT: got_cont = 1; got_winch = 1; break;
	default: got_end = 1; end_signal = sig; break;
	}
}

enum screen_mode {
	SCREEN_HISTORY,   /* the normal screen, with the session's history */
	SCREEN_ALTERNATE, /* the alternate screen (mosh) */
	SCREEN_PLAIN,     /* the normal screen, no history (--no-init) */
};

struct tty {
	struct termios saved;
	bool raw;
	enum screen_mode mode;
	bool entered;      /* entered once: the screen was made room on */
	int last_row;      /* the row below which the local prompt goes */
};

static void tty_enter(struct tty *t)
{
	struct termios raw = t->saved;
	cfmakeraw(&raw);
	tcsetattr(0, TCSADRAIN, &raw);
	t->raw = true;
	if (t->mode == SCREEN_ALTERNATE) {
		roles_write_all(1, "\033[?1049h\033[H\033[2J", 15);
	} else if (t->mode == SCREEN_HISTORY && !t->entered) {
		/* What the terminal shows goes up into its history, as a
		 * command's output pushes it there over ssh. */
		struct winsize ws;
		int rows = ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 ? ws.ws_row : 24;
		char buf[32];
		int n = snprintf(buf, sizeof buf, "\033[%d;1H", rows);
		roles_write_all(1, buf, (size_t)n);
		for (int i = 0; i < rows; i++)
			roles_write_all(1, "\n", 1);
	}
	t->entered = true;
}

/* Undo everything a frame may have switched on, then the terminal modes. */
static void tty_leave(struct tty *t)
{
	static const char reset[] = "\033[m\033[?1l\033>\033[?25h\033[0 q\033[>4m\033[=0u\033[?2031l"
		"\033[?9;1000;1002;1003;1004;1005;1006;1015;2004l\033]8;;\033\\";
	if (!t->raw)
		return;
	roles_write_all(1, reset, sizeof reset - 1);
	if (t->mode == SCREEN_ALTERNATE) {
		roles_write_all(1, "\033[?1049l", 8);
	} else if (t->last_row >= 0) {
		/* The session's last screen stays, the prompt below it. */
		char buf[32];
		int n = snprintf(buf, sizeof buf, "\033[r\033[%d;1H\r\n", t->last_row + 1);
		roles_write_all(1, buf, (size_t)n);
	} else {
		roles_write_all(1, "\r\n", 2);
	}
	tcsetattr(0, TCSADRAIN, &t->saved);
	t->raw = false;
}

static void window_size(int *cols, int *rows)
{
	struct winsize ws;
	*cols = 80;
	*rows = 24;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* The escape key: MOSHI_ESCAPE_KEY is one character (a control character
 * as itself, or "^X" notation), or "none". Default Ctrl-^. */
static int escape_key(void)
{
	const char *e = getenv("MOSHI_ESCAPE_KEY");
	if (e == NULL || *e == '\0')
		return 0x1e;
	if (strcmp(e, "none") == 0)
		return -1;
	if (e[0] == '^' && e[1] != '\0' && e[2] == '\0')
		return e[1] == '?' ? 0x7f : (e[1] & 0x1f);
	if (e[1] == '\0')
		return (unsigned char)e[0];
	return 0x1e;
}

/* The escape key as the bar names it: "Ctrl-^", "Ctrl-?" for DEL. */
static void key_name(int k, char *buf, size_t n)
{
	if (k < 0x20)
		snprintf(buf, n, "Ctrl-%c", k + 0x40);
	else if (k == 0x7f)
		snprintf(buf, n, "Ctrl-?");
	else if (k < 0x7f)
		snprintf(buf, n, "%c", k);
	else
		snprintf(buf, n, "\\x%02x", k);
}

/* The bar's text for a terminal cols wide: the longest of the messages
 * (longest first, NULL-terminated) that fits with the quit hint after
 * it, else the shortest cut to fit; the hint is never cut unless it
 * alone is wider than the terminal. hint may be "" (no escape key). */
static void bar_text(char *out, size_t cap, int cols, const char *const *msgs,
                     const char *hint)
{
	size_t h = strlen(hint), room = (size_t)cols > h ? (size_t)cols - h : 0;
	const char *m = msgs[0];
	for (int i = 0; msgs[i]; i++) {
		m = msgs[i];
		if (strlen(m) <= room)
			break;
	}
	if (room == 0)
		snprintf(out, cap, "%.*s", cols, hint[0] == ' ' ? hint + 1 : hint);
	else
		snprintf(out, cap, "%.*s%s", (int)room, m, hint);
}

/* The bar on the top row, drawn over the frame; the next frame is then
 * drawn in full. */
static void draw_bar(const char *text)
{
	char buf[600];
	int n = snprintf(buf, sizeof buf, "\0337\033[1;1H\033[0;1;37;44m%s\033[K\033[m\0338",
	                 text);
	if (n > 0)
		roles_write_all(1, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* What the bar says now ("" when nothing), and in *next_ms when that
 * may change. quiet is ssp_conn_quiet_ms (UINT64_MAX: never heard). */
static void bar_now(char *text, size_t cap, int cols, uint64_t quiet, uint64_t since_start,
                    const char *host, const char *port, const char *hint, int *next_ms)
{
	char a[256], b[256], c[256], d[256];
	text[0] = '\0';
	if (strlen(host) > 64 || strlen(port) > 16) {
		/* (A name that long is cut: the bar is one row.) */
		static char h[65], pt[17];
		snprintf(h, sizeof h, "%s", host);
		snprintf(pt, sizeof pt, "%s", port);
		host = h;
		port = pt;
	}
	if (quiet == UINT64_MAX) {
		if (since_start <= NOTHING_YET_AFTER_MS) {
			*next_ms = (int)(NOTHING_YET_AFTER_MS + 1 - since_start);
			return;
		}
		snprintf(a, sizeof a, "moshi: Nothing received from server on UDP port %s. "
		         "(A firewall on %s may block UDP port %s.)", port, host, port);
		snprintf(b, sizeof b, "moshi: Nothing received from server on UDP port %s (a "
		         "firewall on %s may block it).", port, host);
		snprintf(c, sizeof c, "moshi: Nothing received from %s on UDP port %s.", host, port);
		snprintf(d, sizeof d, "moshi: No reply on UDP port %s.", port);
		*next_ms = -1;
	} else {
		if (quiet <= BAR_AFTER_MS) {
			*next_ms = (int)(BAR_AFTER_MS + 1 - quiet);
			return;
		}
		uint64_t s = quiet / 1000;
		char ago[48];
		if (s < 60)
			snprintf(ago, sizeof ago, "%llu seconds", (unsigned long long)s);
		else
			snprintf(ago, sizeof ago, "%llu:%02llu", (unsigned long long)(s / 60),
			         (unsigned long long)(s % 60));
		snprintf(a, sizeof a, "moshi: Last contact %s ago.", ago);
		snprintf(b, sizeof b, "Last contact %s ago.", ago);
		snprintf(c, sizeof c, "%s ago.", ago);
		d[0] = '\0';
		*next_ms = (int)(1000 - quiet % 1000);
	}
	const char *msgs[] = { a, b, c, d[0] ? d : NULL, NULL };
	bar_text(text, cap, cols, msgs, hint);
}

/* The one place that decides whether the server is reached: CONTACT_NONE
 * once nothing has come from it for contact_ms since the client started
 * (it gives up); CONTACT_SILENT when UDP seems blocked, nothing having
 * come for NOTHING_YET_AFTER_MS since the start, or for UDP_SILENT_MS
 * since the last datagram (the carrier then tries ssh); else
 * CONTACT_WAITING until something has come, then CONTACT_MADE. */
enum contact { CONTACT_MADE, CONTACT_WAITING, CONTACT_SILENT, CONTACT_NONE };

static enum contact contact_state(uint64_t quiet, uint64_t since_start, uint64_t contact_ms,
                                  int *next_ms)
{
	if (quiet != UINT64_MAX) {
		if (quiet >= UDP_SILENT_MS)
			return CONTACT_SILENT;
		*next_ms = (int)(UDP_SILENT_MS - quiet);
		return CONTACT_MADE;
	}
	if (since_start >= contact_ms)
		return CONTACT_NONE;
	*next_ms = (int)(contact_ms - since_start);
	if (since_start >= NOTHING_YET_AFTER_MS)
		return CONTACT_SILENT;
	*next_ms = (int)(NOTHING_YET_AFTER_MS - since_start);
	return CONTACT_WAITING;
}

static uint64_t contact_timeout_ms(void)
{
	long s = roles_env_count("MOSHI_CLIENT_CONTACT_TMOUT");
	return s > 0 ? (uint64_t)s * 1000 : NO_CONTACT_GIVE_UP_MS;
}

/* A client's session: its link to the server, the terminal, what it
 * has drawn, and what it waits for. */
struct client {
	const char *host, *port;
	struct ssp_conn *conn;
	struct ssp_transport *t;
	struct tty tty;
	/* Typed and pasted input waits here for room in the window; keys
	 * are still read (and the escape key seen) while the backlog has
	 * room, so a paste stalled on a bad link can be quit. */
	struct sync_flow flow;
	/* Local echo; input_offset counts the bytes given to the stream. */
	struct predict *pred;
	uint64_t input_offset, pred_checked;
	bool pred_dirty;
	int esc;                 /* the escape key, -1 for none */
	char hint[40];           /* the bar's quit hint, "" without a key */
	bool after_escape;
	bool prefix;             /* "[moshi] " before the window title */
	uint64_t start, contact_ms;
	struct carrier carrier;  /* UDP, or ssh when UDP is blocked */
	struct termquery query;  /* what the terminal says of itself */
	uint64_t bar_due;        /* when the bar may change next (UINT64_MAX: never) */
	bool bar;                /* the bar is drawn */
	int cols, rows;
	struct term_frame *shown; /* what the terminal shows */
	uint64_t shown_num;
	uint64_t hist_written;   /* history lines written into the terminal's */
	uint64_t hist_clears;    /* history clears done in the terminal */
	bool repaint;            /* draw the next frame in full */
	struct term_buf out;
	/* How it ends: done, with end_reason NULL when the server ended
	 * the session, else why the client did, and the exit status. */
	bool done, quit_while_gone;
	bool taken;              /* the session went to another client */
	const char *end_reason;
	int status;
};

/* The session key, from MOSHI_KEY, which leaves the environment before
 * anything else happens. unsetenv() alone only edits environ[]: the text
 * stays in the block the kernel shows as /proc/PID/environ, so it is
 * overwritten in place first (the string stays a valid "MOSHI_KEY="). */
static int take_key(struct crypto_key *key)
{
	const char *ktext = getenv("MOSHI_KEY");
	char kcopy[64] = "";

	if (ktext != NULL) {
		snprintf(kcopy, sizeof kcopy, "%s", ktext);
		crypto_wipe((char *)ktext, strlen(ktext));
	}
	unsetenv("MOSHI_KEY");
	if (kcopy[0] == '\0') {
		fprintf(stderr, "moshi client: MOSHI_KEY is not set (the server prints it "
		                "in its MOSHI CONNECT line)\n");
		return -1;
	}
	int rc = crypto_key_decode(key, kcopy);
	crypto_wipe(kcopy, sizeof kcopy);
	if (rc != CRYPTO_OK) {
		fprintf(stderr, "moshi client: MOSHI_KEY is not a valid key (22 characters "
		                "of base64)\n");
		return -1;
	}
	return 0;
}

static const int client_signals[] = { SIGWINCH, SIGCONT, SIGTERM, SIGHUP, SIGINT, SIGQUIT };

/* Ask the terminal what it is like (termquery.h). */
static void client_ask_terminal(struct client *c, uint64_t now)
{
	const char *ask = termquery_start(&c->query, now);
	roles_write_all(1, ask, strlen(ask));
}

/* The link to host and port with key (wiped), and the terminal in raw
 * mode, with the signals the loop waits for. */
static int client_open(struct client *c, struct crypto_key *key,
                       enum screen_mode screen, enum predict_mode mode)
{
	if (!isatty(0) || !isatty(1)) {
		crypto_wipe(key, sizeof *key);
		fprintf(stderr, "moshi client: standard input and output must be a terminal\n");
		return -1;
	}
	int rc = ssp_conn_client(&c->conn, key, c->host, c->port, AF_UNSPEC);
	crypto_wipe(key, sizeof *key);
	if (rc != SSP_OK) {
		fprintf(stderr, "moshi client: cannot reach %s port %s: %s\n", c->host, c->port,
		        rc == SSP_EINVAL ? "bad address or port" :
		        rc == SSP_ESYSTEM ? strerror(errno) : ssp_strerror(rc));
		return -1;
	}
	c->t = ssp_transport_new(c->conn, false, &sync_userstream_ops,
		sync_userstream_new(), &sync_termstate_ops, sync_termstate_new(80, 24));
	c->pred = predict_new(mode);
	if (c->t == NULL || c->pred == NULL) {
		fprintf(stderr, "moshi client: out of memory\n");
		return -1;
	}
	c->tty.mode = screen;
	c->tty.last_row = -1;
	if (tcgetattr(0, &c->tty.saved) < 0) {
		fprintf(stderr, "moshi client: cannot read the terminal's modes\n");
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof client_signals / sizeof client_signals[0]; i++)
		sigaction(client_signals[i], &sa, NULL);
	sleep_block_signals(client_signals, sizeof client_signals / sizeof client_signals[0]);
	signal(SIGPIPE, SIG_IGN);
	tty_enter(&c->tty);

	client_ask_terminal(c, ssp_now_ms());
	c->esc = escape_key();
	if (c->esc >= 0) {
		char name[16];
		key_name(c->esc, name, sizeof name);
		snprintf(c->hint, sizeof c->hint, " [To quit: %s .]", name);
	}
	c->prefix = getenv("MOSHI_TITLE_NOPREFIX") == NULL;
	c->contact_ms = contact_timeout_ms();
	c->start = ssp_now_ms();
	carrier_init(&c->carrier, c->start);
	sync_flow_init(&c->flow, c->start);
	c->shown_num = UINT64_MAX;
	c->cols = 80;
	c->rows = 24;
	c->repaint = true;
	return 0;
}

/* Ends the session for why with status. */
static void client_end(struct client *c, const char *why, int status)
{
	c->done = true;
	c->end_reason = why;
	c->status = status;
}

/* Signals since the last wake: the end, or a new window size. */
static void client_signals_seen(struct client *c)
{
	if (got_end) {
		client_end(c, end_signal == SIGHUP ? "the terminal hung up" :
		           "ended by a signal", 1);
		return;
	}
	if (got_winch) {
		got_winch = 0;
		window_size(&c->cols, &c->rows);
		sync_userstream_push_resize(ssp_transport_local(c->t), c->cols, c->rows);
		c->repaint = true;
	}
}

/* Milliseconds until the next timer (an idle client wakes for its
 * heartbeat, the server's, and the bar's seconds only), or the end when
 * the server was never reached. */
static int client_wait_ms(struct client *c, uint64_t now)
{
	int contact_left = -1;
	uint64_t quiet = ssp_conn_quiet_ms(c->conn, now);
	enum contact state = contact_state(quiet, now - c->start, c->contact_ms, &contact_left);
	if (state == CONTACT_NONE) {
		client_end(c, "nothing came from the server", MOSHI_EXIT_NO_CONTACT);
		return 0;
	}
	if (state == CONTACT_SILENT)
		carrier_udp_silent(&c->carrier, now);
	contact_left = sleep_min(contact_left, carrier_wait_ms(&c->carrier, now));
	int wait = sleep_min(ssp_transport_wait_ms(c->t, now),
	                     c->bar_due == UINT64_MAX ? -1 : sleep_until(c->bar_due, now));
	wait = sleep_min(wait, contact_left);
	wait = sleep_min(wait, ssp_conn_route_wait_ms(c->conn, now));
	wait = sleep_min(wait, termquery_wait_ms(&c->query, now));
	if (c->flow.len > 0 && wait > 20)
		wait = 20; /* the backlog waits on acknowledgements */
	uint64_t due = predict_next_change(c->pred, c->pred_checked);
	if (due != 0 && due < now + (uint64_t)wait)
		wait = due > now ? (int)(due - now) : 0;
	return wait;
}

/* One key typed after the escape key: '.' quits, Ctrl-Z suspends, '^'
 * or the escape key again sends the escape key, anything else goes on
 * with the escape key before it. Bytes to send go to keep. */
static size_t after_escape(struct client *c, uint8_t k, uint8_t *keep, uint64_t now)
{
	if (k == '.') {
		client_end(c, "quit with the escape key", 0);
		c->quit_while_gone = ssp_conn_quiet_ms(c->conn, now) > BAR_AFTER_MS;
		return 0;
	}
	if (k == 0x1a) { /* Ctrl-Z: suspend */
		tty_leave(&c->tty);
		raise(SIGTSTP);
		tty_enter(&c->tty);
		c->repaint = true;
		return 0;
	}
	keep[0] = (uint8_t)c->esc;
	if (k == '^' || (int)k == c->esc)
		return 1;
	keep[1] = k;
	return 2;
}

/* The escape key's commands handled in in[0..n), the rest into keep. */
static void client_keys(struct client *c, const uint8_t *in, size_t n, uint8_t *keep,
                        size_t *kn, uint64_t now)
{
	for (size_t i = 0; i < n && !c->done; i++) {
		uint8_t k = in[i];
		size_t len;
		int ctl;
		/* The escape key, and the key after it, as a terminal sends
		 * them when an application asked for extended keys. */
		if (k == 0x1b && c->esc >= 0 && (ctl = keys_extended_control(in + i, n - i, &len)) >= 0 &&
		    (c->after_escape || ctl == c->esc)) {
			k = (uint8_t)ctl;
			i += len - 1;
		}
		if (c->after_escape) {
			c->after_escape = false;
			*kn += after_escape(c, k, keep + *kn, now);
		} else if ((int)k == c->esc) {
			c->after_escape = true;
		} else {
			if (k == 0x0c)
				c->repaint = true; /* Ctrl-L: repaint, and pass it on */
			keep[(*kn)++] = k;
		}
	}
}

/* Keys in[0..n): the escape key's commands handled, the rest guessed at
 * (local echo) and queued for the server. */
static void client_take_keys(struct client *c, const uint8_t *in, size_t n, uint64_t now)
{
	uint8_t keep[(4096 + TERMQUERY_SEQ_MAX + 1) * 2];
	size_t kn = 0;
	client_keys(c, in, n, keep, &kn, now);
	if (kn > 0) {
		const struct sync_termstate *cur = ssp_transport_remote(c->t);
		c->pred_dirty |= predict_input(c->pred, cur->frame, keep, kn,
		                               c->input_offset, now);
		c->input_offset += sync_flow_add(&c->flow, keep, kn);
	}
}

/* Keys from the terminal, at most room bytes: the escape key's commands
 * handled, the rest guessed at (local echo) and queued for the server. */
static void client_read_keys(struct client *c, size_t room, uint64_t now)
{
	uint8_t got[4096], in[4096 + TERMQUERY_SEQ_MAX + 1];
	ssize_t n = read(0, got, room < sizeof got ? room : sizeof got);
	/* (errno is only read when read failed: after an end of file it
	 * holds whatever failed last, an EAGAIN.) */
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		client_end(c, "the terminal closed", 1);
		return;
	}
	if (n < 0)
		n = 0;
	/* The terminal's colours changed: ask them again. */
	bool changed = false;
	n = (ssize_t)termquery_take_changes(got, (size_t)n, &changed);
	if (changed && !c->query.active)
		client_ask_terminal(c, now);
	/* The terminal's answers to the client's questions are no keys. */
	if (c->query.active)
		n = (ssize_t)termquery_filter(&c->query, got, (size_t)n, in);
	else
		memcpy(in, got, (size_t)n);
	client_take_keys(c, in, (size_t)n, now);
}

/* Once the terminal has answered the client's questions (or the wait is
 * over), what it said goes to the server; keys held meanwhile go on. */
static void client_query_done(struct client *c, uint64_t now)
{
	uint8_t held[TERMQUERY_SEQ_MAX + 1];
	size_t n;
	if (!termquery_finished(&c->query, now, held, &n))
		return;
	sync_userstream_push_terminal(ssp_transport_local(c->t), &c->query.said);
	client_take_keys(c, held, n, now);
}

/* The window title as the user's terminal shows it: "[moshi] " first,
 * unless MOSHI_TITLE_NOPREFIX is set. */
static void title_prefix(const struct client *c, struct term_frame *f)
{
	if (!c->prefix || term_frame_title(f)[0] == '\0')
		return;
	char title[1100], icon[1100];
	snprintf(title, sizeof title, "[moshi] %s", term_frame_title(f));
	snprintf(icon, sizeof icon, "[moshi] %s", term_frame_icon(f));
	term_frame_set_titles(f, title, icon);
}

/* The rows that lines of width w take on a terminal cols wide. */
static int rows_of(uint64_t w, int cols)
{
	return w == 0 ? 1 : (int)((w + (uint64_t)cols - 1) / (uint64_t)cols);
}

/* What the terminal shows after write_history moved it up k rows. */
static void shift_shown(struct client *c, int k)
{
	struct term *t = c->shown ? term_from_frame(c->shown) : NULL;
	if (t == NULL) {
		c->repaint = true;
		return;
	}
	char b[32];
	int n = snprintf(b, sizeof b, "\033[m\033[r\033[%d;1H", c->rows);
	term_write(t, b, (size_t)n);
	for (int i = 0; i < k; i++)
		term_write(t, "\n", 1);
	struct term_frame *f = term_frame_copy(term_frame(t));
	term_free(t);
	if (f == NULL) {
		c->repaint = true;
		return;
	}
	term_frame_free(c->shown);
	c->shown = f;
}

/* The history lines st holds that are not written yet, appended to
 * c->out so that they scroll up into the terminal's own history: written
 * from the top row down over the screen, then pushed up from the bottom
 * row, after which the screen shows what it showed, moved up by as many
 * rows, with blank rows below (c->shown becomes that). A gap comes as
 * one dim line saying how many lines the server no longer had; a clear
 * clears the terminal's history (ED 3), and the lines before it here
 * are not written at all. True when something was written. */
static bool write_history(struct client *c, const struct sync_termstate *st)
{
	uint64_t num = st->hist_base, line_w = 0;
	int rows = 0;
	struct term_buf *o = &c->out;
	size_t start = o->len;
	bool any = false;

	for (size_t i = 0; i < st->hist_n; num += st->hist[i].count, i++) {
		const struct sync_hist_entry *e = &st->hist[i];
		if (e->kind == SYNC_HIST_CLEAR ? e->clears <= c->hist_clears :
		    num + e->count <= c->hist_written)
			continue;
		if (e->kind == SYNC_HIST_CLEAR) { /* what came before it goes */
			o->len = start;
			rows = 0;
			line_w = 0;
			any = false;
		}
		if (!any) /* no scroll region, the top left corner */
			term_buf_append(o, "\033[?25l\033[m\033[r", 12);
		any = true;
		if (e->kind == SYNC_HIST_CLEAR) {
			term_buf_append(o, "\033[3J", 4);
			c->hist_clears = e->clears;
			continue;
		}
		if (line_w == 0) /* a line starts on a clean row */
			term_buf_append(o, "\033[2K", 4);
		if (e->kind == SYNC_HIST_GAP) {
			char m[96];
			int n = snprintf(m, sizeof m, "moshi: %llu lines not kept",
			                 (unsigned long long)e->count);
			term_buf_append(o, "\033[2m", 4);
			term_buf_append(o, m, (size_t)n);
			term_buf_append(o, "\033[m", 3);
			line_w += (uint64_t)n;
		} else {
			term_buf_append(o, e->bytes, e->len);
			line_w += e->width;
		}
		if (e->kind == SYNC_HIST_WRAPPED && i + 1 < st->hist_n)
			continue; /* the line goes on: the terminal wraps it */
		if (line_w % (uint64_t)c->cols != 0 || line_w == 0)
			term_buf_append(o, "\033[K", 3);
		term_buf_append(o, "\r\n", 2);
		rows += rows_of(line_w, c->cols);
		line_w = 0;
	}
	if (!any)
		return false;
	c->hist_written = st->hist_total;
	ssp_transport_remote_forget(c->t, c->hist_written);
	/* Up into the history with the rows still on the screen. */
	int on_screen = rows < c->rows ? rows : c->rows - 1;
	char b[32];
	int n = snprintf(b, sizeof b, "\033[%d;1H", c->rows);
	term_buf_append(o, b, (size_t)n);
	for (int k = 0; k < on_screen; k++)
		term_buf_append(o, "\n", 1);
	shift_shown(c, rows < c->rows ? rows : c->rows);
	return true;
}

/* Draw the newest frame, with the local echo over it, once it has this
 * terminal's size and something changed. */
static void client_draw(struct client *c, uint64_t now)
{
	const struct sync_termstate *st = ssp_transport_remote(c->t);
	bool fits = term_frame_cols(st->frame) == c->cols &&
	            term_frame_rows(st->frame) == c->rows;
	uint64_t num = ssp_transport_remote_num(c->t);

	predict_set_interval(c->pred, ssp_rtt_send_interval(ssp_conn_rtt(c->conn)));
	if (num != c->shown_num)
		c->pred_dirty |= predict_server(c->pred, st->frame, st->echo_ack, now);
	/* Guesses waiting can change how they are shown with time alone:
	 * once at each such moment. */
	uint64_t due = predict_next_change(c->pred, c->pred_checked);
	if (due != 0 && now >= due) {
		c->pred_dirty = true;
		c->pred_checked = now;
	}
	if (c->tty.mode != SCREEN_HISTORY && st->hist_total > c->hist_written) {
		/* Not shown in this mode, and not kept either. */
		c->hist_written = st->hist_total;
		ssp_transport_remote_forget(c->t, c->hist_written);
	}
	if (!fits)
		return;
	c->out.len = 0;
	bool hist = c->tty.mode == SCREEN_HISTORY && write_history(c, st);
	if (!hist && num == c->shown_num && !c->repaint && !c->pred_dirty)
		return;
	struct term_frame *f = predict_overlay(c->pred, st->frame, now);
	if (f == NULL)
		f = term_frame_copy(st->frame);
	c->pred_dirty = false;
	if (f == NULL) {
		roles_write_all(1, c->out.data, c->out.len);
		return;
	}
	title_prefix(c, f);
	/* On the normal screen no whole-screen scroll may put the live
	 * screen's rows into the terminal's history: only write_history
	 * does that. */
	int flags = c->tty.mode == SCREEN_ALTERNATE ? 0 :
	            TERM_RENDER_NO_SCROLL | TERM_RENDER_ROW_CLEAR | TERM_RENDER_TRIM;
	term_render_flags(c->repaint ? NULL : c->shown, f, flags, &c->out);
	roles_write_all(1, c->out.data, c->out.len);
	term_frame_free(c->shown);
	c->shown = f;
	c->shown_num = num;
	c->repaint = false;
	int cx;
	term_frame_cursor(f, &c->tty.last_row, &cx);
}

/* The notification bar when the link is quiet, and when it changes
 * next. */
static void client_draw_bar(struct client *c, uint64_t now)
{
	char text[300];
	int bar_ms = -1;
	const char *note = carrier_note(&c->carrier, now);
	if (note != NULL) {
		const char *msgs[] = { note, NULL };
		bar_text(text, sizeof text, c->cols, msgs, c->hint);
		bar_ms = 1000; /* (until the note ends: carrier_wait_ms) */
	} else {
		bar_now(text, sizeof text, c->cols, ssp_conn_quiet_ms(c->conn, now), now - c->start,
		        c->host, c->port, c->hint, &bar_ms);
	}
	c->bar_due = bar_ms < 0 ? UINT64_MAX : now + (uint64_t)bar_ms;
	if (text[0]) {
		draw_bar(text);
		c->bar = true;
	} else if (c->bar) {
		c->bar = false;
		c->repaint = true;
	}
}

/* One wake of the client: sleep until something happens, then read the
 * keys, take what the server sent, draw, and send. */
static void client_step(struct client *c)
{
	uint64_t now = ssp_now_ms();
	client_signals_seen(c);
	if (c->done)
		return;
	size_t room = sync_flow_room(&c->flow) / 2; /* escapes can double it */
	int wait = client_wait_ms(c, now);
	if (c->done)
		return;
	struct pollfd fds[4] = { { room > 0 ? 0 : -1, POLLIN, 0 },
	                         { ssp_conn_fd(c->conn), POLLIN, 0 },
	                         { ssp_conn_route_fd(c->conn), POLLIN, 0 },
	                         { ssp_conn_stream_fd(c->conn), POLLIN, 0 } };
	if (sleep_until_event(fds, 4, wait) < 0 && errno != EINTR) {
		client_end(c, NULL, 0);
		return;
	}
	now = ssp_now_ms();
	/* This machine's addresses or routes changed (Wi-Fi to mobile data):
	 * a fresh socket, and a probe at once, so the server learns the new
	 * address now, not after a silence. */
	if (((fds[2].revents & POLLIN) || ssp_conn_route_wait_ms(c->conn, now) == 0) &&
	    ssp_conn_route_changed(c->conn, now))
		ssp_transport_probe_now(c->t);
	if (fds[0].revents & (POLLIN | POLLHUP)) {
		client_read_keys(c, room, now);
		if (c->done)
			return;
	}
	client_query_done(c, now);
	ssp_transport_recv(c->t);
	if (ssp_transport_remote_shutdown(c->t)) {
		/* A shutdown that says why: another client took the session. */
		const char *why = ssp_transport_remote_reason(c->t);
		c->taken = why[0] != '\0';
		client_end(c, c->taken ? why : NULL, c->taken ? MOSHI_EXIT_TAKEN : 0);
		return;
	}
	client_draw(c, now);
	/* A key's local echo is drawn above; now it leaves; and a paste's
	 * full datagrams leave one after another while the flow window has
	 * room. */
	sync_flow_send(&c->flow, c->t, now);
	carrier_step(&c->carrier, c->conn, c->t, now);
	ssp_conn_maybe_hop(c->conn, now);
	ssp_transport_tick(c->t, now);
	client_draw_bar(c, now);
}

/* The end: the server told (or its end acknowledged), the terminal given
 * back, and a line saying why. Returns the exit status. */
static int client_close(struct client *c)
{
	if (c->end_reason != NULL && c->end_reason[0] == 'q')
		ssp_transport_shutdown(c->t, 500); /* tell the server, briefly */
	else if (c->end_reason == NULL || c->taken)
		/* The server ended: acknowledge its shutdown before going. */
		ssp_transport_run(c->t, 50, NULL, NULL);
	sleep_unblock_signals();
	bool never_heard = ssp_conn_quiet_ms(c->conn, ssp_now_ms()) == UINT64_MAX;
	int status = c->status;
	if (never_heard && status == 0)
		status = MOSHI_EXIT_NO_CONTACT; /* quit before any contact */
	else if (c->quit_while_gone && status == 0)
		status = MOSHI_EXIT_SERVER_GONE;
	tty_leave(&c->tty);
	if (never_heard)
		/* The most likely cause, and what to do about it, in full. */
		fprintf(stderr, "moshi: nothing ever came back from %s on UDP port %s: a "
		        "firewall may block it. On %s, allow it with, for example:\n"
		        "    iptables -I INPUT -p udp --dport %s -j ACCEPT\n"
		        "or start the server with -p to pick a port that is open.\n",
		        c->host, c->port, c->host, c->port);
	if (c->end_reason == NULL)
		fprintf(stderr, "[moshi is exiting: the session ended]\n");
	else if (status == MOSHI_EXIT_SERVER_GONE)
		fprintf(stderr, "moshi: %s, the server silent for %llu s: it may be gone\n",
		        c->end_reason,
		        (unsigned long long)ssp_conn_quiet_ms(c->conn, ssp_now_ms()) / 1000);
	else if (status != 0)
		fprintf(stderr, "moshi: %s\n", c->end_reason);
	else
		fprintf(stderr, "[moshi is exiting]\n");
	return status;
}

static void client_free(struct client *c)
{
	carrier_close(&c->carrier);
	predict_free(c->pred);
	term_frame_free(c->shown);
	term_buf_free(&c->out);
	if (c->t != NULL)
		ssp_transport_free(c->t);
	else
		ssp_conn_free(c->conn);
	free(c);
}

static int run_client(const char *host, const char *port, enum screen_mode screen,
                      enum predict_mode mode)
{
	struct crypto_key key;
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore); /* no core dump may hold the key */
	if (take_key(&key) < 0)
		return 1;
	struct client *c = calloc(1, sizeof *c);
	if (c == NULL) {
		crypto_wipe(&key, sizeof key);
		fprintf(stderr, "moshi client: out of memory\n");
		return 1;
	}
	c->host = host;
	c->port = port;
	int status = 1;
	if (client_open(c, &key, screen, mode) == 0) {
		while (!c->done)
			client_step(c);
		status = client_close(c);
	} else {
		tty_leave(&c->tty);
	}
	client_free(c);
	return status;
}

struct client_opts {
	enum screen_mode screen;
	const char *host, *port;
	enum predict_mode mode;
};

/* The client's command line (see roles_client_parse). */
static int client_command_line(int argc, char **argv, struct client_opts *o)
{
	static const char usage[] =
		"usage: moshi client [--alternate-screen | --no-init] [--predict=MODE] HOST PORT\n"
		"       (key in MOSHI_KEY)\n";
	const char *args[2];
	int n = 0;
	const char *pm = getenv("MOSHI_PREDICTION_DISPLAY");
	const char *alt = getenv("MOSHI_ALTERNATE_SCREEN");
	enum screen_mode screen = alt != NULL && alt[0] != '\0' && strcmp(alt, "0") != 0 ?
	                          SCREEN_ALTERNATE : SCREEN_HISTORY;

	memset(o, 0, sizeof *o);
	o->mode = PREDICT_ADAPTIVE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-init") == 0)
			screen = SCREEN_PLAIN;
		else if (strcmp(argv[i], "--alternate-screen") == 0)
			screen = SCREEN_ALTERNATE;
		else if (strncmp(argv[i], "--predict=", 10) == 0)
			pm = argv[i] + 10;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			roles_print_version("moshi-client");
			return 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "moshi client: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (n < 2) {
			args[n++] = argv[i];
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (n != 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (pm != NULL && pm[0] != '\0' && predict_mode_parse(pm, &o->mode) != 0) {
		fprintf(stderr, "moshi client: prediction mode must be adaptive, always, never "
		        "or experimental, not '%s'\n", pm);
		return 2;
	}
	o->host = args[0];
	o->port = args[1];
	o->screen = screen;
	return 0;
}

int roles_client_parse(int argc, char **argv)
{
	struct client_opts o;
	return client_command_line(argc, argv, &o);
}

int roles_client_main(int argc, char **argv)
{
	struct client_opts o;
	int rc = client_command_line(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	return run_client(o.host, o.port, o.screen, o.mode);
}
