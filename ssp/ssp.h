/*
 * ssp/ — the State Synchronization Protocol's transport: objects kept in
 * sync over UDP, whatever they are (sync/ has moshi's two: the user
 * stream and the terminal state, as struct ssp_state_ops).
 *
 * Layers, bottom up, one file each:
 *   wire.c       one bounds-checked reader for every network byte and a
 *                growable writer; the instruction format; fragments and
 *                their reassembly
 *   datagram.c   sealed UDP datagrams with timestamps (RTT, RFC 6298), a
 *                replay window, roaming, port hops and route changes,
 *                counters of everything dropped
 *   transport.c  states numbered and diffed, sent, acknowledged, resent
 *                and thrown away; the send timers; shutdown
 *
 * Nothing here knows about terminals or roles. Functions return 0 or a
 * negative SSP_E* code and never exit: a hostile packet is dropped and
 * counted.
 */
#ifndef MOSHI_SSP_H
#define MOSHI_SSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ssp_error {
	SSP_OK = 0,
	SSP_EMALFORMED = -1, /* bytes that do not parse: dropped */
	SSP_ETOOBIG = -2,    /* over a documented bound: dropped */
	SSP_ENOMEM = -3,
	SSP_EINVAL = -4,     /* a caller's mistake */
	SSP_EVERSION = -5,   /* another protocol version */
	SSP_EAGAIN = -6,     /* nothing (more) to do now */
	SSP_ESYSTEM = -7,    /* a system call failed; errno says why */
	SSP_ECRYPTO = -8,    /* forged, corrupted or reflected */
	SSP_EREPLAY = -9,    /* authentic but already seen, or too old */
	SSP_ENEWKEY = -10,   /* the first datagram under an attach's new key */
};

const char *ssp_strerror(int err);

/* ---- wire: the one checked reader ------------------------------------ */

/* Every byte that comes from the network is read through this: each
 * getter checks the length first, consumes only on success, and leaves
 * the reader unchanged on failure. */
struct ssp_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
};

void ssp_reader_init(struct ssp_reader *r, const void *data, size_t len);
size_t ssp_reader_left(const struct ssp_reader *r);
int ssp_get_u8(struct ssp_reader *r, uint8_t *v);
int ssp_get_u16(struct ssp_reader *r, uint16_t *v);   /* big-endian */
int ssp_get_u64(struct ssp_reader *r, uint64_t *v);   /* big-endian */
/* LEB128, at most 10 bytes, minimal encoding only. */
int ssp_get_varint(struct ssp_reader *r, uint64_t *v);
/* n bytes in place: *p points into the reader's data. */
int ssp_get_bytes(struct ssp_reader *r, size_t n, const uint8_t **p);

/* A growable writer. On allocation failure it stops growing and
 * remembers the failure; ssp_writer_status reports it. */
struct ssp_writer {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed;
};

void ssp_put_u8(struct ssp_writer *w, uint8_t v);
void ssp_put_u16(struct ssp_writer *w, uint16_t v);
void ssp_put_u64(struct ssp_writer *w, uint64_t v);
void ssp_put_varint(struct ssp_writer *w, uint64_t v);
void ssp_put_bytes(struct ssp_writer *w, const void *p, size_t n);
int ssp_writer_status(const struct ssp_writer *w);
void ssp_writer_free(struct ssp_writer *w);

/* ---- wire: instructions ---------------------------------------------- */

#define SSP_PROTOCOL_VERSION 1
/* Bounds on what a receiver accepts. */
#define SSP_MAX_DIFF (4u << 20)     /* bytes of diff in one instruction */
#define SSP_MAX_CHAFF 16            /* bytes of chaff */
/* new_num of the shutdown instruction. */
#define SSP_SHUTDOWN_NUM UINT64_MAX

/* What one side sends the other: "to go from state old_num to new_num,
 * apply diff; I have your state ack_num; I no longer hold states below
 * throwaway_num". diff points into the buffer it was decoded from. */
struct ssp_instruction {
	uint64_t old_num;
	uint64_t new_num;
	uint64_t ack_num;
	uint64_t throwaway_num;
	const uint8_t *diff;
	size_t diff_len;
	uint8_t chaff_len;
};

/* Append the encoding of in (with chaff_len random bytes of chaff). */
int ssp_instruction_encode(const struct ssp_instruction *in,
                           struct ssp_writer *w);
/* Decode exactly data[0..len): trailing bytes, a wrong version, or any
 * bound exceeded is an error and out is not to be used. */
int ssp_instruction_decode(struct ssp_instruction *out, const uint8_t *data,
                           size_t len);

/* ---- wire: fragments ------------------------------------------------- */

/* A fragment: varint instruction id, u16 (final << 15 | index), payload.
 * An instruction travels as fragments 0..n-1, the last one marked final. */
#define SSP_MAX_FRAGMENTS 4096      /* per instruction */
#define SSP_MAX_INSTRUCTION (SSP_MAX_DIFF + 64) /* reassembled bytes */
#define SSP_FRAGMENT_HEADER_MAX 12  /* varint id (10) + u16 */

/* Split data into fragments of at most `mtu` bytes each (header
 * included), appending each as a separate buffer through emit(). */
int ssp_fragment(uint64_t id, const uint8_t *data, size_t len, size_t mtu,
                 int (*emit)(void *ctx, const uint8_t *frag, size_t n),
                 void *ctx);

/* Reassembly: one instruction at a time, the newest id wins; fragments of
 * older ids, duplicates and conflicting lengths are dropped. Bounded by
 * SSP_MAX_FRAGMENTS and SSP_MAX_INSTRUCTION. */
struct ssp_reassembly;

struct ssp_reassembly *ssp_reassembly_new(void);
void ssp_reassembly_free(struct ssp_reassembly *ra);
/* Add one fragment. Returns 1 and sets *data and *len (valid until the next
 * call) when it completes an instruction, 0 when more are needed, or an
 * error for a fragment that was dropped. */
int ssp_reassembly_add(struct ssp_reassembly *ra, const uint8_t *frag,
                       size_t n, const uint8_t **data, size_t *len);

/* ---- RTT (RFC 6298) -------------------------------------------------- */

#define SSP_RTO_MIN_MS 50
#define SSP_RTO_MAX_MS 1000
#define SSP_SEND_INTERVAL_MIN_MS 20
#define SSP_SEND_INTERVAL_MAX_MS 250

struct ssp_rtt {
	double srtt;   /* ms */
	double rttvar; /* ms */
	bool hit;      /* a sample has been taken */
};

void ssp_rtt_init(struct ssp_rtt *r);
/* Take a sample in ms; samples of 5 s or more are ignored (mosh). */
void ssp_rtt_sample(struct ssp_rtt *r, double ms);
/* SRTT + 4 RTTVAR, clamped to [SSP_RTO_MIN_MS, SSP_RTO_MAX_MS]. */
unsigned ssp_rtt_rto(const struct ssp_rtt *r);
/* How often to send: SRTT / 2, clamped to [20, 250] ms. */
unsigned ssp_rtt_send_interval(const struct ssp_rtt *r);

/* 16-bit millisecond timestamps as they travel. */
#define SSP_TS_NONE 0xffff
uint16_t ssp_ts16(uint64_t now_ms);
/* Milliseconds from `then` to `now`, modulo 2^16. */
unsigned ssp_ts_diff(uint16_t now, uint16_t then);
/* Milliseconds on a monotonic clock. */
uint64_t ssp_now_ms(void);

/* ---- replay window --------------------------------------------------- */

#define SSP_REPLAY_WINDOW 1024 /* sequence numbers remembered */

struct ssp_replay {
	uint64_t top;      /* highest sequence number accepted, + 1 */
	uint64_t bits[SSP_REPLAY_WINDOW / 64];
};

/* 1 if seq is the newest yet, 0 if it is new but older than the newest
 * (reordered), SSP_EREPLAY if seen before or older than the window. Only
 * call after the packet was authenticated. */
int ssp_replay_check(struct ssp_replay *w, uint64_t seq);

/* ---- datagrams ------------------------------------------------------- */

/* Plaintext of a datagram: u16 timestamp | u16 timestamp reply | payload.
 * Sealed, it gains the 8-byte nonce and 16-byte tag of crypto/. */
#define SSP_DATAGRAM_HEADER 4
#define SSP_PATH_MTU 1280          /* the path every IPv6 link carries */
#define SSP_FALLBACK_MTU 500       /* after EMSGSIZE */
#define SSP_MAX_DATAGRAM 2048      /* larger datagrams are dropped */
#define SSP_PORT_HOP_MS 10000      /* client: new source port after this */
#define SSP_REPLY_HOLD_MAX_MS 1000 /* echo a timestamp only this long */

struct ssp_stats {
	uint64_t sent, received;            /* datagrams */
	uint64_t bytes_sent, bytes_received;/* UDP payload bytes */
	uint64_t dropped_short;             /* too short to be ours */
	uint64_t dropped_oversize;          /* over SSP_MAX_DATAGRAM */
	uint64_t dropped_forged;            /* tag did not verify */
	uint64_t dropped_reflected;         /* our own direction */
	uint64_t dropped_replayed;          /* seen before, or too old */
	uint64_t roams;                     /* server: client address changed */
	uint64_t port_hops;                 /* client: new source port */
	uint64_t route_changes;             /* client: ... of those, for a new route */
	uint64_t send_errors;
	uint64_t stream_sent, stream_received; /* datagrams over a stream */
	uint64_t stream_ends;               /* streams that ended or broke */
};

struct crypto_key;
struct ssp_conn;

/* A server endpoint: binds a UDP port in [port_lo, port_hi] on bind_ip
 * (NULL: every address, IPv6 and IPv4 where the system allows). It
 * answers whichever address last sent it the newest authentic packet. */
int ssp_conn_server(struct ssp_conn **out, const struct crypto_key *key,
                    const char *bind_ip, int port_lo, int port_hi);
/* A client endpoint talking to host:port (family AF_UNSPEC, AF_INET or
 * AF_INET6). */
int ssp_conn_client(struct ssp_conn **out, const struct crypto_key *key,
                    const char *host, const char *port, int family);
void ssp_conn_free(struct ssp_conn *c);
/* A server's next key (an attach). The current key keeps working, for
 * telling the old client, until ssp_conn_switch_key, or until a datagram
 * sealed with the next key comes: ssp_conn_recv then switches by itself,
 * returns SSP_ENEWKEY, and gives that datagram's payload on its next
 * call. A switch wipes the old key and starts a fresh nonce space and
 * replay window, so datagrams sealed with the old key are dropped as
 * forged from then on; there is no client until one speaks with the new
 * key, and silence (ssp_conn_quiet_ms) counts from the switch. */
int ssp_conn_expect_key(struct ssp_conn *c, const struct crypto_key *key);
void ssp_conn_switch_key(struct ssp_conn *c); /* nothing without a next key */
/* How many times the key has switched: a transport made before a switch
 * neither sends nor receives after it. */
uint64_t ssp_conn_epoch(const struct ssp_conn *c);

int ssp_conn_fd(const struct ssp_conn *c);
int ssp_conn_port(const struct ssp_conn *c);   /* local port */
bool ssp_conn_has_remote(const struct ssp_conn *c);
/* Payload bytes that fit in one datagram now. */
size_t ssp_conn_mtu(const struct ssp_conn *c);
const struct ssp_stats *ssp_conn_stats(const struct ssp_conn *c);
const struct ssp_rtt *ssp_conn_rtt(const struct ssp_conn *c);
/* Milliseconds since the last authentic datagram (UINT64_MAX: none). */
uint64_t ssp_conn_quiet_ms(const struct ssp_conn *c, uint64_t now);
/* The remote UDP address as text ("[::1]:60001", "127.0.0.1:60001"; ""
 * for a server's client heard over a stream only). */
void ssp_conn_remote_str(const struct ssp_conn *c, char *buf, size_t len);

/* Seal payload and send it to the remote. SSP_EAGAIN if there is no
 * remote yet (a server before its client spoke) or the socket is full. */
int ssp_conn_send(struct ssp_conn *c, const uint8_t *payload, size_t len);
/* Receive one datagram without blocking: SSP_OK with the payload in
 * out[0..*len); SSP_EAGAIN when nothing is waiting; another error for a
 * datagram that was dropped (already counted): call again. */
int ssp_conn_recv(struct ssp_conn *c, uint8_t *out, size_t cap, size_t *len);
/* Client: open a fresh source port if nothing came back for a while.
 * Returns 1 when it hopped. */
int ssp_conn_maybe_hop(struct ssp_conn *c, uint64_t now);
/* Client: a descriptor that turns readable when this machine's
 * addresses or routes change (Linux rtnetlink), or -1 where there is
 * none. Poll it with the socket, and call ssp_conn_route_changed when it
 * is readable or ssp_conn_route_wait_ms (-1: never) has passed: it reads
 * what came, and once a burst of changes has been quiet for
 * SSP_ROUTE_SETTLE_MS, moves the endpoint to a fresh socket (whose
 * source address the kernel picks anew) and returns 1: then probe the
 * server at once (ssp_transport_probe_now), so it learns the new address
 * without waiting for a silence. */
#define SSP_ROUTE_SETTLE_MS 50
int ssp_conn_route_fd(const struct ssp_conn *c);
int ssp_conn_route_changed(struct ssp_conn *c, uint64_t now);
int ssp_conn_route_wait_ms(const struct ssp_conn *c, uint64_t now);

/* ---- stream: datagrams through a byte stream (ssp/stream.c) ----------- */

/* When UDP is blocked, the same sealed datagrams travel through ssh,
 * each framed as a two-byte length and its bytes. A stream reads from
 * rfd and writes to wfd (the same descriptor for a socket), both
 * non-blocking; everything before the line preamble (NULL: none) is
 * skipped. It owns the descriptors. */
struct ssp_stream;
int ssp_stream_new(struct ssp_stream **out, int rfd, int wfd, const char *preamble);
void ssp_stream_free(struct ssp_stream *s);
int ssp_stream_fd(const struct ssp_stream *s); /* to poll for reading */
/* Frame and send one datagram: SSP_OK (a frame the descriptor took only
 * part of goes on with the next write), SSP_EAGAIN when full (it is
 * lost, as on a full socket), SSP_ESYSTEM when the stream is gone. */
int ssp_stream_write(struct ssp_stream *s, const uint8_t *dg, size_t n);
/* The next whole datagram: SSP_OK, SSP_EAGAIN (call again when the
 * descriptor is readable), SSP_ESYSTEM (ended) or SSP_EMALFORMED (a
 * frame over SSP_MAX_DATAGRAM or cap, or no preamble in 64 KiB: unusable). */
int ssp_stream_read(struct ssp_stream *s, uint8_t *dg, size_t cap, size_t *n);

/* An endpoint's second carrier: a stream (taken over, NULL to drop it).
 * Datagrams from either carrier go through the same checks. A server
 * answers on the carrier of the newest authentic datagram, as it answers
 * its client's newest address. A client sends on the stream once
 * ssp_conn_use_stream says so, until an authentic datagram comes over
 * UDP again: then it is back on UDP by itself. */
void ssp_conn_set_stream(struct ssp_conn *c, struct ssp_stream *s);
int ssp_conn_stream_fd(const struct ssp_conn *c);  /* -1: none */
void ssp_conn_use_stream(struct ssp_conn *c, bool only); /* only: never UDP */
/* The carrier in use: the stream, or UDP. */
bool ssp_conn_on_stream(const struct ssp_conn *c);
/* Client on the stream: the next datagram goes over UDP too, to see
 * whether UDP works again. */
void ssp_conn_probe_udp(struct ssp_conn *c);

/* ---- state objects --------------------------------------------------- */

/* What the transport keeps in sync. It copies states, sends the diff
 * from one the receiver holds to the current one, and lets the receiver
 * apply it to its copy of that older state. */
struct ssp_state_ops {
	const char *name;
	void *(*copy)(const void *s);
	void (*free)(void *s);
	/* Append to w the diff that turns `from` into `to`. */
	int (*diff)(const void *from, const void *to, struct ssp_writer *w);
	/* Apply a diff made from a state equal to s; s is then the new
	 * state. On error s is unusable and is to be freed. */
	int (*apply)(void *s, const uint8_t *diff, size_t len);
	bool (*equal)(const void *a, const void *b);
	/* Forget history that `acked` (an older state of the same object)
	 * shows the other side has: bounds memory. May be NULL. */
	void (*subtract)(void *s, const void *acked);
	/* The receiver's consumer has read s's history below index i: it
	 * may go (ssp_transport_remote_forget). May be NULL. */
	void (*forget)(void *s, uint64_t i);
	/* Every state extends the one before it (a stream): the diff between
	 * two consecutive states sent is content no other diff carries, so a
	 * sender resends each lost hop on its own rather than one diff from
	 * the acknowledged state, which grows with everything in flight. */
	bool stream;
	/* s, made by a diff from older, is acknowledged soon (as a stream's
	 * states are, SSP_STREAM_ACK_DELAY_MS), not after SSP_ACK_DELAY_MS:
	 * its sender waits for that acknowledgement to send more (the
	 * terminal state's history). May be NULL. */
	bool (*ack_soon)(const void *older, const void *s);
};

/* ---- transport -------------------------------------------------------- */

#define SSP_SEND_MINDELAY_SERVER_MS 4  /* collect output this long */
#define SSP_SEND_MINDELAY_CLIENT_MS 1
/* An application that answered the peer's input (a key's echo) and then
 * stayed quiet this long has answered whole: the server calls
 * ssp_transport_settled(t, true) then, and the state leaves at once. */
#define SSP_ANSWER_QUIET_MS 1
#define SSP_ACK_INTERVAL_MS 3000       /* heartbeat when idle */
#define SSP_ACK_DELAY_MS 100           /* delayed acknowledgement */
/* A stream's states (the user's keys) are acknowledged sooner: just after
 * the server's collection delay, so an echo still carries the ack and a
 * key that brings none (a password) is acknowledged alone. The sender of
 * a stream can then count a state lost after RTO + this, not RTO + 100
 * ms: at 0 ms RTT a lost key costs about 55 ms instead of 150. */
#define SSP_STREAM_ACK_DELAY_MS (SSP_SEND_MINDELAY_SERVER_MS + 2)
#define SSP_ACTIVE_RETRY_MS 10000      /* resend only while heard from */
/* A client probes a silent server that was streaming (see transport.c):
 * first after max(RTO, this), then doubling below ACK_INTERVAL. States
 * count as a stream when they come within PROBE_STREAM_MS of each other. */
#define SSP_PROBE_MIN_MS 250
#define SSP_PROBE_STREAM_MS 1000
/* A client whose input waits for a silent server resends it every
 * max(RTO, PROBE_MIN) for this long into the silence, then every
 * ACK_INTERVAL (see probe_time). */
#define SSP_PROBE_FAST_MS 60000
#define SSP_SHUTDOWN_TRIES 16
#define SSP_MAX_SENT_STATES 32
/* After a resend (a sign of loss on the way out), a small state goes out
 * twice for this long: a lost keystroke or echo then costs nothing, where
 * waiting for RTO + ACK_DELAY would cost two round trips. */
#define SSP_DOUBLE_AFTER_LOSS_MS 10000
#define SSP_DOUBLE_MAX_BYTES 300
/* A state received again this long or more after its last copy was
 * resent, not doubled (the copies of a doubled send come together; a
 * resend comes RTO + the ack delay, 56 ms at the least, after the first
 * send): the sender never heard the acknowledgement, so what this side
 * sent it since was probably lost too, and goes again at once. */
#define SSP_RESENT_AFTER_MS 25
/* A stream's oldest unacknowledged hop counts as lost once an
 * acknowledgement that leaves it out comes more than SRTT + this after
 * it was sent (see hop_overdue in transport.c): the peer sent that
 * acknowledgement after the hop should have reached it. A receiver that
 * keeps a hop for want of its base acknowledges soon, which tells. */
#define SSP_OVERDUE_SLACK_MS 3
#define SSP_MAX_RECEIVED_STATES 1024
/* A receiver keeps instructions that arrive before the state they build
 * on (reordered, or their base was lost and will be resent), and applies
 * them once it has that state: a lost hop in a chain then costs one
 * resend, not the whole chain. Bounded in count and bytes. */
#define SSP_STASH_MAX 64
#define SSP_STASH_BYTES (256u << 10)

struct ssp_transport_stats {
	uint64_t instructions_sent, instructions_received;
	uint64_t dropped_no_base;   /* diff from a state we no longer hold */
	uint64_t dropped_duplicate; /* a state we already have */
	uint64_t dropped_bad;       /* would not decode or apply */
	uint64_t instructions_doubled; /* sent twice: see SSP_DOUBLE_* */
	uint64_t stashed;           /* kept until their base arrived */
	uint64_t unstashed;         /* ... and then applied */
	uint64_t hops_resent;       /* stream hops resent on their own */
	uint64_t hops_resent_early; /* ... of those, before RTO: see hop_overdue */
	uint64_t probes;            /* a silent streaming server probed */
	uint64_t resends_heard;     /* states the peer resent: SSP_RESENT_AFTER_MS */
};

struct ssp_transport;

/* A transport over conn (which it then owns): `local` is the state this
 * side sends (owned; change it with ssp_transport_local or replace it
 * with ssp_transport_set_local), `remote_initial` the state the other
 * side starts from (owned). */
struct ssp_transport *ssp_transport_new(struct ssp_conn *conn, bool server,
                                        const struct ssp_state_ops *local_ops,
                                        void *local,
                                        const struct ssp_state_ops *remote_ops,
                                        void *remote_initial);
void ssp_transport_free(struct ssp_transport *t);
/* Free the transport but not its endpoint, which is returned (a server
 * that starts a new transport on it for a new client). */
struct ssp_conn *ssp_transport_release(struct ssp_transport *t);

struct ssp_conn *ssp_transport_conn(struct ssp_transport *t);
void *ssp_transport_local(struct ssp_transport *t);
void ssp_transport_set_local(struct ssp_transport *t, void *state);
/* The newest local state sent (the local state once nothing waits). */
const void *ssp_transport_last_sent(const struct ssp_transport *t);
/* The newest local state the other side has acknowledged: a sender of
 * bulk input keeps what is in flight beyond it bounded. */
const void *ssp_transport_acked(const struct ssp_transport *t);
/* Local states sent and not yet acknowledged (at most
 * SSP_MAX_SENT_STATES: past that the oldest is forgotten). */
int ssp_transport_unacked(const struct ssp_transport *t);
/* The newest state received from the other side, and its number. */
const void *ssp_transport_remote(const struct ssp_transport *t);
uint64_t ssp_transport_remote_num(const struct ssp_transport *t);
/* For a stream's receiver: its consumer has read the history below i,
 * which every held state may forget (the ops' forget). */
void ssp_transport_remote_forget(struct ssp_transport *t, uint64_t i);

/* The local state has stopped changing (the application went quiet): the
 * pending state may leave at once (the collection delay has passed)
 * instead of waiting out the send interval since the last state, so the
 * end of a burst (a prompt after Ctrl-C, a command's last line) costs no
 * frame interval. At most one such early state per send interval, so an
 * application that pauses often can at most double the rate; but a state
 * that answers the peer's input (answer: a key's echo, a command's
 * output after Enter) always may, as the peer's input paces those: keys
 * that arrive together after a loss are answered in turn, not a send
 * interval apart; and so may the first settled state after an answer,
 * the rest of it (Ctrl-C's "^C" is echoed at once, the prompt comes a
 * few milliseconds later). An answer does not wait for the collection
 * delay either: the caller's quiet (SSP_ANSWER_QUIET_MS) was the
 * collection. */
void ssp_transport_settled(struct ssp_transport *t, bool answer);

/* The pending state holds a full datagram or more of new input (a paste
 * drained by sync/flow.c): it leaves at the next tick, waiting out
 * neither the collection delay nor the send interval, which are there to
 * gather keystrokes and frames and have nothing to gather here. The flow
 * window paces such states instead: a paste on a lossy path goes a
 * datagram a hop, back to back, not a datagram a send interval. */
void ssp_transport_full(struct ssp_transport *t);

/* Read and process every datagram waiting. Returns the number of new
 * remote states. */
int ssp_transport_recv(struct ssp_transport *t);
/* Send whatever is due now. */
int ssp_transport_tick(struct ssp_transport *t, uint64_t now);
/* The path may have changed (ssp_conn_route_changed): the next tick
 * probes at once, as probe_time would, with any input that waits. */
void ssp_transport_probe_now(struct ssp_transport *t);
/* The next tick sends at least an acknowledgement. */
void ssp_transport_ack_now(struct ssp_transport *t);
/* Milliseconds until the next tick has something to do (-1: nothing). */
int ssp_transport_wait_ms(struct ssp_transport *t, uint64_t now);

/* Shutdown: start it, then tick until acknowledged (or tried out);
 * starting it again counts the tries anew. */
void ssp_transport_start_shutdown(struct ssp_transport *t);
bool ssp_transport_shutdown_acked(const struct ssp_transport *t);
bool ssp_transport_shutdown_tried_out(const struct ssp_transport *t);
/* Run the transport on its own (receive, send what is due) for at most
 * ms milliseconds, until done(t, ctx) says so (done may be NULL), or
 * until its endpoint switches to a new key. */
void ssp_transport_run(struct ssp_transport *t, int ms,
                       bool (*done)(const struct ssp_transport *t, void *ctx),
                       void *ctx);
/* The shutdown handshake: start it and run until it is acknowledged, tried
 * out, or ms have passed. True when acknowledged. */
bool ssp_transport_shutdown(struct ssp_transport *t, int ms);
/* The other side started its shutdown. */
bool ssp_transport_remote_shutdown(const struct ssp_transport *t);
/* A shutdown may say why, in up to SSP_REASON_MAX bytes of text (the
 * shutdown instruction's diff): set before it starts; the other side's,
 * with anything but printable ASCII as '?', or "" when it gave none. */
#define SSP_REASON_MAX 200
void ssp_transport_set_reason(struct ssp_transport *t, const char *reason);
const char *ssp_transport_remote_reason(const struct ssp_transport *t);
const struct ssp_transport_stats *ssp_transport_stats(const struct ssp_transport *t);

#endif
