/*
 * The client's carrier (carrier.h). The relay is a shell command that
 * connect builds: ssh to the same host in BatchMode, running moshi relay
 * with the session's ID. It runs in a session of its own, with no
 * terminal (it cannot ask for a password; the bar says what to do when
 * it fails), its standard input and output the stream, its errors
 * dropped (they would land on the user's screen).
 */
#include "carrier.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ssp/ssp.h"
#include "roles.h"
#include "sleep.h"

#define START_FIRST_MS 1000   /* after a relay ends, then doubling */
#define START_MAX_MS 30000
#define PROBE_FIRST_MS 1000   /* UDP tried again after, then doubling */
#define PROBE_MAX_MS 4000
#define NOTE_MS 5000          /* the bar's note, until the stream works */
#define STALL_MS 15000        /* a stream that brings nothing this long goes */

int carrier_mode_parse(const char *s, enum carrier_mode *m)
{
	if (strcmp(s, "auto") == 0)
		*m = CARRIER_AUTO;
	else if (strcmp(s, "udp") == 0)
		*m = CARRIER_UDP;
	else if (strcmp(s, "ssh") == 0)
		*m = CARRIER_SSH;
	else
		return -1;
	return 0;
}

void carrier_init(struct carrier *cr, uint64_t now)
{
	const char *mode = getenv("MOSHI_CARRIER"), *relay = getenv("MOSHI_RELAY");
	memset(cr, 0, sizeof *cr);
	if (mode == NULL || carrier_mode_parse(mode, &cr->mode) < 0)
		cr->mode = CARRIER_AUTO;
	cr->relay = relay != NULL && relay[0] != '\0' ? strdup(relay) : NULL;
	unsetenv("MOSHI_RELAY");
	unsetenv("MOSHI_CARRIER");
	if (cr->mode == CARRIER_SSH && cr->relay != NULL) {
		cr->blocked = true; /* the stream from the start */
		cr->next_start = now;
	}
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Start the relay; its stream becomes the endpoint's, and what waits
 * goes over it at once (a client never heard from resends only as its
 * timeout doubles: 1, 2, 4, 8 s). */
static void start(struct carrier *cr, struct ssp_conn *conn, struct ssp_transport *t,
                  uint64_t now)
{
	int in[2], out[2];
	struct ssp_stream *st;
	cr->next_start = now + cr->start_after;
	if (pipe2(in, O_CLOEXEC) < 0)
		return;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return;
	}
	pid_t p = fork();
	if (p == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		setsid(); /* no terminal: nothing to ask the user on */
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (null >= 0)
			dup2(null, 2);
		sleep_unblock_signals();
		execl("/bin/sh", "sh", "-c", cr->relay, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (p < 0 || ssp_stream_new(&st, out[0], in[1], "MOSHI RELAY\n") != SSP_OK) {
		close(in[1]);
		close(out[0]);
		if (p > 0)
			waitpid(p, NULL, 0);
		return;
	}
	set_nonblock(out[0]);
	set_nonblock(in[1]);
	ssp_conn_set_stream(conn, st);
	ssp_conn_use_stream(conn, cr->mode == CARRIER_SSH);
	ssp_transport_probe_now(t);
	ssp_transport_ack_now(t);
	cr->pid = p;
	cr->started = now;
	cr->runs++;
	cr->probe_every = PROBE_FIRST_MS;
	cr->next_probe = now + cr->probe_every;
}

/* The relay's end: its ssh reaped (ended if it still runs), its stream
 * dropped. */
static void stop(struct carrier *cr, struct ssp_conn *conn)
{
	if (conn != NULL)
		ssp_conn_set_stream(conn, NULL);
	if (cr->pid <= 0)
		return;
	if (waitpid(cr->pid, &cr->last_status, WNOHANG) == 0) {
		kill(cr->pid, SIGTERM);
		waitpid(cr->pid, &cr->last_status, 0);
	}
	cr->pid = 0;
}

void carrier_udp_silent(struct carrier *cr, uint64_t now)
{
	if (cr->mode == CARRIER_UDP || cr->relay == NULL || cr->blocked)
		return;
	cr->blocked = true;
	cr->said_until = now + NOTE_MS;
	cr->start_after = 0;
	cr->next_start = now;
}

void carrier_step(struct carrier *cr, struct ssp_conn *conn, struct ssp_transport *t,
                  uint64_t now)
{
	if (!cr->blocked)
		return;
	uint64_t quiet = ssp_conn_quiet_ms(conn, now);
	if (cr->pid > 0 && now - cr->started >= STALL_MS &&
	    (quiet == UINT64_MAX || quiet >= STALL_MS))
		ssp_conn_set_stream(conn, NULL); /* stalled: ended, and started again below */
	if (cr->pid > 0 && ssp_conn_stream_fd(conn) < 0) {
		/* The stream ended (ssh lost its connection): again, later. */
		stop(cr, conn);
		cr->start_after = cr->start_after ? cr->start_after * 2 : START_FIRST_MS;
		if (cr->start_after > START_MAX_MS)
			cr->start_after = START_MAX_MS;
		cr->next_start = now + cr->start_after;
	}
	if (cr->mode != CARRIER_SSH && cr->pid > 0 && !ssp_conn_on_stream(conn)) {
		/* A datagram came over UDP: it works again. */
		stop(cr, conn);
		cr->blocked = false;
		return;
	}
	if (cr->pid > 0 && ssp_conn_stream_fd(conn) >= 0 && quiet < 1000) {
		cr->start_after = 0; /* it works: a stream lost later is started again soon */
		cr->said_until = 0;  /* and the note gives the top row back */
	}
	if (cr->pid == 0 && now >= cr->next_start)
		start(cr, conn, t, now);
	if (cr->mode != CARRIER_SSH && cr->pid > 0 && now >= cr->next_probe) {
		ssp_conn_probe_udp(conn);
		ssp_transport_ack_now(t);
		cr->probe_every = cr->probe_every * 2 > PROBE_MAX_MS ? PROBE_MAX_MS
		                                                     : cr->probe_every * 2;
		cr->next_probe = now + cr->probe_every;
	}
}

int carrier_wait_ms(const struct carrier *cr, uint64_t now)
{
	int wait = -1;
	if (!cr->blocked)
		return -1;
	if (cr->pid == 0)
		wait = sleep_until(cr->next_start, now);
	else if (cr->mode != CARRIER_SSH)
		wait = sleep_until(cr->next_probe, now);
	if (cr->said_until > now)
		wait = sleep_min(wait, sleep_until(cr->said_until, now));
	return wait;
}

const char *carrier_note(const struct carrier *cr, uint64_t now)
{
	if (!cr->blocked)
		return NULL;
	if (cr->pid == 0 && cr->runs > 0 && WIFEXITED(cr->last_status) &&
	    WEXITSTATUS(cr->last_status) == 255)
		return "moshi: UDP seems blocked, and ssh failed without a terminal to ask on: "
		       "moshi attach reconnects.";
	if (cr->said_until > now)
		return "moshi: UDP seems blocked; using the ssh connection.";
	return NULL;
}

void carrier_close(struct carrier *cr)
{
	stop(cr, NULL);
	free((char *)cr->relay);
	cr->relay = NULL;
}
