/*
 * Which way a client's datagrams go (roles/carrier.c): UDP, or, when UDP
 * brings nothing back, a stream through ssh to moshi relay on the
 * server's host, which joins it to the session's socket. On the stream,
 * UDP is tried again with backoff, and the endpoint moves back to UDP by
 * itself as soon as a datagram comes that way.
 */
#ifndef MOSHI_ROLES_CARRIER_H
#define MOSHI_ROLES_CARRIER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ssp_conn;
struct ssp_transport;

enum carrier_mode { CARRIER_AUTO, CARRIER_UDP, CARRIER_SSH };

struct carrier {
	enum carrier_mode mode;
	const char *relay;        /* sh command: ssh ... moshi relay ID; NULL: none */
	pid_t pid;                /* the relay's ssh, or 0 */
	uint64_t started;         /* when it was started */
	bool blocked;             /* UDP brought nothing: use the stream */
	uint64_t next_start;      /* when to start the relay (again) */
	unsigned start_after;     /* ms, doubling after a stream that ends */
	uint64_t next_probe;      /* when to try UDP again */
	unsigned probe_every;     /* ms, doubling */
	uint64_t said_until;      /* the bar's note shows until then */
	int runs;                 /* relays started */
	int last_status;          /* how the last one ended (wait status) */
};

/* "auto", "udp" or "ssh": 0, or -1. */
int carrier_mode_parse(const char *s, enum carrier_mode *m);
/* The client's carrier, from MOSHI_CARRIER (a mode) and MOSHI_RELAY
 * (the relay command connect made), which leave the environment. */
void carrier_init(struct carrier *cr, uint64_t now);
/* The one decision: UDP brings nothing (the client never heard the
 * server in SSP-wise "a few seconds", or stopped hearing it): use the
 * stream, if there is a relay and the mode allows it. */
void carrier_udp_silent(struct carrier *cr, uint64_t now);
/* Each wake: start or restart the relay, and try UDP again. */
void carrier_step(struct carrier *cr, struct ssp_conn *conn, struct ssp_transport *t,
                  uint64_t now);
int carrier_wait_ms(const struct carrier *cr, uint64_t now);
/* What the bar says about the carrier now, or NULL. */
const char *carrier_note(const struct carrier *cr, uint64_t now);
/* The relay's ssh ends with the client. */
void carrier_close(struct carrier *cr);

#endif
