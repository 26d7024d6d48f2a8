/*
 * The transport: a sender of this side's state and a receiver of the
 * other side's, over one datagram endpoint, after mosh's TransportSender
 * and TransportReceiver and with its timer constants (docs/ssp.md lists
 * them, and where moshi differs).
 *
 * Sender. Every state sent is kept with its number and time; the first
 * is the newest the receiver acknowledged. A diff goes from the "assumed
 * receiver state" (the newest of the run of sent states, oldest first,
 * younger than RTO + ACK_DELAY, which have probably arrived) to the
 * current state; when that guess is wrong the receiver drops the
 * instruction, and once the first state of the run ages past RTO +
 * ACK_DELAY the sender falls back to the acknowledged one. It sends a
 * change only after a short collection delay and no faster than the send
 * interval (SRTT/2), acknowledges received states within ACK_DELAY, and
 * sends an empty heartbeat every ACK_INTERVAL. Unlike mosh's, when its
 * peer turns up at a new address (a roam), or resends a state this side
 * already has (the peer then missed the acknowledgement, and whatever
 * carried it), it stops assuming anything unacknowledged arrived, and so
 * sends it again at once; and a client whose server was streaming states
 * and then fell silent probes sooner than the heartbeat (see
 * probe_time).
 *
 * Receiver. It keeps the states it received by number, applies a diff
 * only to the state it names as its base, ignores states it has, and
 * forgets states below the sender's throwaway number.
 */
#include "ssp.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crypto/crypto.h"

struct kept {
	uint64_t num;
	uint64_t when;
	void *state;
};

struct ssp_transport {
	struct ssp_conn *conn;
	bool server;
	const struct ssp_state_ops *lops, *rops;
	void *current;

	struct kept sent[SSP_MAX_SENT_STATES + 1]; /* sent[0]: acknowledged */
	int nsent;
	uint64_t mindelay_clock;                   /* UINT64_MAX: no change */
	bool settled, answer;                      /* see ssp_transport_settled */
	bool full;                                 /* see ssp_transport_full */
	uint64_t last_early;                       /* when it last helped */
	bool follow_up;                            /* the last state sent answered */
	uint64_t next_ack_time;
	uint64_t last_send;
	/* The last send that carried a state (not an empty acknowledgement):
	 * the send interval paces states only, so a keystroke does not wait
	 * behind the acks a flood of frames makes its receiver send. */
	uint64_t last_state_send;
	uint64_t last_loss;                        /* the last resend */
	uint64_t ack_heard;                        /* the peer's last instruction */
	uint64_t roams_seen;                       /* the endpoint's roam count */
	uint64_t epoch;                            /* the endpoint's key, made under */
	/* Probing (see probe_time): how many states the peer sent in a row,
	 * each within PROBE_STREAM_MS of the one before, with no new state
	 * of ours in between and no pure acknowledgement after; when the
	 * last came; the probes sent since the endpoint last heard anything
	 * (counted while its received count stays probe_received). */
	int peer_run;
	uint64_t last_state_at;
	int probes;
	uint64_t probe_received;
	bool probe_now;                            /* ssp_transport_probe_now */

	struct kept recv[SSP_MAX_RECEIVED_STATES]; /* when: its last copy came */
	int nrecv;
	struct stashed {
		uint64_t old_num, new_num;
		uint8_t *diff;
		size_t len;
	} stash[SSP_STASH_MAX];
	int nstash;
	size_t stash_bytes;
	uint64_t ack_due;                          /* UINT64_MAX: none owed */

	struct ssp_reassembly *ra;
	uint64_t next_id;

	bool shutdown;
	int shutdown_tries;
	bool shutdown_acked;
	bool remote_shutdown;
	char reason[SSP_REASON_MAX + 1];        /* this side's shutdown's */
	char remote_reason[SSP_REASON_MAX + 1]; /* the other side's */

	struct ssp_writer diff, instr;
	struct ssp_transport_stats stats;
};

static const uint64_t NONE = UINT64_MAX;

struct ssp_transport *ssp_transport_new(struct ssp_conn *conn, bool server,
                                        const struct ssp_state_ops *local_ops,
                                        void *local,
                                        const struct ssp_state_ops *remote_ops,
                                        void *remote_initial)
{
	struct ssp_transport *t = calloc(1, sizeof *t);
	void *first = local ? local_ops->copy(local) : NULL;

	if (t == NULL || first == NULL || conn == NULL || remote_initial == NULL ||
	    (t->ra = ssp_reassembly_new()) == NULL) {
		if (first)
			local_ops->free(first);
		if (t)
			ssp_reassembly_free(t->ra);
		free(t);
		return NULL;
	}
	t->conn = conn;
	t->epoch = ssp_conn_epoch(conn);
	t->server = server;
	t->lops = local_ops;
	t->rops = remote_ops;
	t->current = local;
	/* Both sides start from state 0, known to both. */
	t->sent[0] = (struct kept){ 0, ssp_now_ms(), first };
	t->nsent = 1;
	t->recv[0] = (struct kept){ 0, 0, remote_initial };
	t->nrecv = 1;
	t->mindelay_clock = NONE;
	t->last_early = NONE;
	t->last_loss = NONE;
	t->ack_heard = NONE;
	t->last_state_at = NONE;
	t->ack_due = NONE;
	t->next_ack_time = ssp_now_ms() + SSP_ACK_INTERVAL_MS;
	t->next_id = 1;
	return t;
}

void ssp_transport_free(struct ssp_transport *t)
{
	if (t != NULL)
		ssp_conn_free(ssp_transport_release(t));
}

struct ssp_conn *ssp_transport_release(struct ssp_transport *t)
{
	struct ssp_conn *conn = t->conn;
	for (int i = 0; i < t->nsent; i++)
		t->lops->free(t->sent[i].state);
	for (int i = 0; i < t->nrecv; i++)
		t->rops->free(t->recv[i].state);
	for (int i = 0; i < t->nstash; i++)
		free(t->stash[i].diff);
	t->lops->free(t->current);
	ssp_reassembly_free(t->ra);
	ssp_writer_free(&t->diff);
	ssp_writer_free(&t->instr);
	free(t);
	return conn;
}

struct ssp_conn *ssp_transport_conn(struct ssp_transport *t) { return t->conn; }
void *ssp_transport_local(struct ssp_transport *t) { return t->current; }
const void *ssp_transport_remote(const struct ssp_transport *t)
{
	return t->recv[t->nrecv - 1].state;
}
uint64_t ssp_transport_remote_num(const struct ssp_transport *t)
{
	return t->recv[t->nrecv - 1].num;
}
bool ssp_transport_shutdown_acked(const struct ssp_transport *t) { return t->shutdown_acked; }
bool ssp_transport_remote_shutdown(const struct ssp_transport *t) { return t->remote_shutdown; }
const char *ssp_transport_remote_reason(const struct ssp_transport *t) { return t->remote_reason; }

void ssp_transport_set_reason(struct ssp_transport *t, const char *reason)
{
	snprintf(t->reason, sizeof t->reason, "%s", reason);
}
const void *ssp_transport_acked(const struct ssp_transport *t) { return t->sent[0].state; }
int ssp_transport_unacked(const struct ssp_transport *t) { return t->nsent - 1; }
const void *ssp_transport_last_sent(const struct ssp_transport *t)
{
	return t->sent[t->nsent - 1].state;
}
const struct ssp_transport_stats *ssp_transport_stats(const struct ssp_transport *t)
{
	return &t->stats;
}

bool ssp_transport_shutdown_tried_out(const struct ssp_transport *t)
{
	return t->shutdown_tries >= SSP_SHUTDOWN_TRIES;
}

void ssp_transport_set_local(struct ssp_transport *t, void *state)
{
	if (state == t->current)
		return;
	t->lops->free(t->current);
	t->current = state;
}

void ssp_transport_remote_forget(struct ssp_transport *t, uint64_t i)
{
	if (t->rops->forget == NULL)
		return;
	for (int k = 0; k < t->nrecv; k++)
		t->rops->forget(t->recv[k].state, i);
}

void ssp_transport_start_shutdown(struct ssp_transport *t)
{
	t->shutdown = true;
	t->shutdown_tries = 0;
}

/* The endpoint switched to a new key after this transport was made (an
 * attach): what comes now is for the transport made for the new key. */
static bool stale(const struct ssp_transport *t)
{
	return ssp_conn_epoch(t->conn) != t->epoch;
}

void ssp_transport_run(struct ssp_transport *t, int ms,
                       bool (*done)(const struct ssp_transport *t, void *ctx),
                       void *ctx)
{
	uint64_t until = ssp_now_ms() + (uint64_t)(ms > 0 ? ms : 0);

	while (ssp_now_ms() < until && !stale(t) && !(done && done(t, ctx))) {
		struct pollfd p = { ssp_conn_fd(t->conn), POLLIN, 0 };
		int w = ssp_transport_wait_ms(t, ssp_now_ms());
		poll(&p, 1, w < 0 || w > 20 ? 20 : w);
		ssp_transport_recv(t);
		ssp_transport_tick(t, ssp_now_ms());
	}
}

static bool shutdown_over(const struct ssp_transport *t, void *ctx)
{
	(void)ctx;
	return t->shutdown_acked || ssp_transport_shutdown_tried_out(t);
}

bool ssp_transport_shutdown(struct ssp_transport *t, int ms)
{
	ssp_transport_start_shutdown(t);
	ssp_transport_run(t, ms, shutdown_over, NULL);
	return t->shutdown_acked;
}

/* ---- sending ---------------------------------------------------------- */

/* How long a receiver may hold its acknowledgement of states of this
 * kind (see SSP_STREAM_ACK_DELAY_MS): the receiver waits this long, and
 * the sender allows for it. */
static unsigned ack_delay(const struct ssp_state_ops *ops)
{
	return ops->stream ? SSP_STREAM_ACK_DELAY_MS : SSP_ACK_DELAY_MS;
}

static unsigned resend_age(const struct ssp_transport *t)
{
	return ssp_rtt_rto(ssp_conn_rtt(t->conn)) + ack_delay(t->lops);
}

static int assumed_receiver_state(const struct ssp_transport *t, uint64_t now)
{
	unsigned age = resend_age(t);
	int a = 0;

	/* Stop at the first state too old to have been acknowledged by now:
	 * the ones after it are diffs from it, and if it was lost, so are
	 * they in effect. Skipping past it would chain every new diff to a
	 * state the receiver may never have, for as long as new states keep
	 * coming (a typist never pausing), and nothing would get through. */
	for (int i = 1; i < t->nsent; i++) {
		if (now - t->sent[i].when >= age)
			break;
		a = i;
	}
	return a;
}

static unsigned send_interval(const struct ssp_transport *t)
{
	return ssp_rtt_send_interval(ssp_conn_rtt(t->conn));
}

/*
 * Whether a stream's oldest unacknowledged hop is lost by the peer's own
 * word, before RTO + the ack delay says so. Every instruction carries
 * the peer's newest state; the last one came at ack_heard and left this
 * hop out (else it would be acknowledged). It left the peer about half
 * an SRTT before it came, and the hop reached the peer about half an
 * SRTT after it was sent: if it came more than SRTT +
 * SSP_OVERDUE_SLACK_MS after the hop was sent, the hop should have been
 * in it (a receiver acknowledges SSP_STREAM_ACK_DELAY_MS, 6 ms, after
 * the hops that follow a lost one arrive, so its acknowledgement comes
 * at SRTT + 6 ms at the soonest). Resending sets the hop's time, so it
 * takes a later acknowledgement to say so again. A lost hop then costs
 * about one round trip (the next hop is kept by the receiver, which
 * acknowledges soon) instead of RTO + 6 ms, 56 ms at the least.
 */
static bool hop_overdue(const struct ssp_transport *t)
{
	const struct ssp_rtt *r = ssp_conn_rtt(t->conn);

	if (!t->lops->stream || t->nsent < 2 || t->ack_heard == NONE || !r->hit ||
	    t->ack_heard <= t->sent[1].when)
		return false;
	return (double)(t->ack_heard - t->sent[1].when) > r->srtt + SSP_OVERDUE_SLACK_MS;
}

/* When a stream's oldest unacknowledged hop is due for a resend (NONE:
 * none is, or this is not a stream). */
static uint64_t hop_resend_time(const struct ssp_transport *t, uint64_t now)
{
	bool heard = ssp_conn_quiet_ms(t->conn, now) < SSP_ACTIVE_RETRY_MS;
	uint64_t oldest = NONE;

	if (!t->lops->stream || !heard)
		return NONE;
	if (hop_overdue(t))
		return now;
	for (int i = 1; i < t->nsent; i++)
		if (t->sent[i].when < oldest)
			oldest = t->sent[i].when;
	return oldest == NONE ? NONE : oldest + resend_age(t);
}

/* Whether the current state differs from the newest sent. */
static bool unsent(const struct ssp_transport *t)
{
	return !t->lops->equal(t->current, t->sent[t->nsent - 1].state);
}

/* When the current state, if it differs from the newest sent, may leave. */
static uint64_t new_state_time(struct ssp_transport *t, uint64_t now)
{
	unsigned mindelay = t->server ? SSP_SEND_MINDELAY_SERVER_MS
	                              : SSP_SEND_MINDELAY_CLIENT_MS;

	if (!unsent(t))
		return NONE;
	if (t->full || (t->settled && t->answer))
		return now; /* nothing to gather: see ssp_transport_full, _settled */
	if (t->mindelay_clock == NONE)
		t->mindelay_clock = now;
	uint64_t a = t->mindelay_clock + mindelay;
	uint64_t b = t->last_state_send + send_interval(t);
	if (t->settled && (t->answer || t->follow_up || t->last_early == NONE ||
	                   t->last_early + send_interval(t) <= now))
		b = t->last_state_send; /* at once: see ssp_transport_settled */
	return a > b ? a : b;
}

static uint64_t next_send_time(struct ssp_transport *t, uint64_t now)
{
	bool heard = ssp_conn_quiet_ms(t->conn, now) < SSP_ACTIVE_RETRY_MS ||
	             !ssp_conn_has_remote(t->conn);

	if (t->shutdown) {
		if (t->shutdown_acked || ssp_transport_shutdown_tried_out(t))
			return NONE;
		return t->last_send + send_interval(t);
	}
	uint64_t fresh = new_state_time(t, now);
	if (t->lops->stream) {
		uint64_t hop = hop_resend_time(t, now);
		return hop < fresh ? hop : fresh;
	}
	if (fresh != NONE)
		return fresh;
	int assumed = assumed_receiver_state(t, now);
	if (assumed != t->nsent - 1 && heard)
		return t->last_send + send_interval(t); /* the guess aged: resend */
	/* Nothing acknowledged yet: retry when the assumption that the oldest
	 * unacknowledged state arrived expires (RTO + ACK_DELAY, as
	 * assumed_receiver_state counts it): from then on every later state
	 * is in doubt too, and the retry is built on the acknowledged one.
	 * Retrying any sooner would diff from a state whose arrival is in
	 * doubt; waiting for the newest to age would waste the difference. */
	if (t->nsent > 1 && heard)
		return t->sent[1].when + resend_age(t);
	return NONE;
}

/*
 * A server sends only to the address its client last spoke from. When a
 * NAT rebinds an idle client's mapping (or a roam changes its address)
 * the server's packets go nowhere until the client's next datagram,
 * which for an idle client is the heartbeat, up to ACK_INTERVAL later:
 * the screen of a client watching output freezes for seconds. So a
 * client that was receiving a stream of states (two or more in a row,
 * each within PROBE_STREAM_MS of the last, none an echo of a state of
 * its own) and then hears nothing at all probes with an empty
 * acknowledgement after max(RTO, PROBE_MIN) of silence, then after twice
 * that, and so on while below ACK_INTERVAL: four probes at most on a
 * fast path (250, 500, 1000, 2000 ms), each a chance for the server to
 * learn the new address. A server that merely went idle ends them with
 * its own next heartbeat (a pure acknowledgement ends the run); a
 * typist, whose every key comes between two echoes, starts none. Once
 * this side is shutting down it sends nothing but the shutdown, and
 * probes none.
 */
static uint64_t probe_time(const struct ssp_transport *t, uint64_t now,
                           int *k_out)
{
	uint64_t quiet = ssp_conn_quiet_ms(t->conn, now);

	if (t->server || t->shutdown || quiet == NONE)
		return NONE;
	if (t->probe_now)
		return now;
	int k = ssp_conn_stats(t->conn)->received == t->probe_received ? t->probes : 0;
	unsigned base = ssp_rtt_rto(ssp_conn_rtt(t->conn));
	if (base < SSP_PROBE_MIN_MS)
		base = SSP_PROBE_MIN_MS;
	*k_out = k;
	if (t->lops->stream && t->nsent > 1) {
		/* Input waits for the server, which is silent (an outage, a
		 * roam): each probe carries it, every `base` for the first
		 * SSP_PROBE_FAST_MS of the silence, then at the heartbeat's
		 * pace. The path's return is then noticed within one of
		 * those, not at the next heartbeat; once the keys are
		 * acknowledged, nothing is probed (an idle client costs
		 * nothing). */
		uint64_t every = quiet < SSP_PROBE_FAST_MS ? base : SSP_ACK_INTERVAL_MS;
		uint64_t a = now - quiet + base, b = t->last_send + every;
		return a > b ? a : b;
	}
	if (t->peer_run < 2 || k >= 8 || (uint64_t)base << k >= SSP_ACK_INTERVAL_MS)
		return NONE;
	return now - quiet + ((uint64_t)base << k);
}

static int emit_fragment(void *ctx, const uint8_t *frag, size_t n)
{
	struct ssp_transport *t = ctx;
	if (stale(t))
		return SSP_OK; /* the new key's client is not ours to talk to */
	int rc = ssp_conn_send(t->conn, frag, n);
	/* A full socket or a dropped datagram is like a lost packet. */
	return rc == SSP_EAGAIN || rc == SSP_ESYSTEM ? SSP_OK : rc;
}

/* Send the encoded instruction in t->instr, as fragments of a new id. */
static int send_encoded(struct ssp_transport *t)
{
	int rc = ssp_fragment(t->next_id++, t->instr.data, t->instr.len,
	                      ssp_conn_mtu(t->conn), emit_fragment, t);
	/* EMSGSIZE shrank the MTU mid-way: the next send refragments. */
	return rc == SSP_ETOOBIG ? SSP_OK : rc;
}

static int send_instruction(struct ssp_transport *t, uint64_t now, int base,
                            uint64_t new_num, const void *to)
{
	struct ssp_instruction in;
	uint8_t chaff;
	int rc;

	t->diff.len = 0;
	if (to != NULL) {
		rc = t->lops->diff(t->sent[base].state, to, &t->diff);
		if (rc != SSP_OK)
			return rc;
	} else if (new_num == SSP_SHUTDOWN_NUM) {
		ssp_put_bytes(&t->diff, t->reason, strlen(t->reason));
	}
	/* 0..16 bytes of chaff hide the exact length of small diffs. */
	if (crypto_random(&chaff, 1) != CRYPTO_OK)
		chaff = 0;
	chaff %= SSP_MAX_CHAFF + 1;
	in.old_num = t->sent[base].num;
	in.new_num = new_num;
	in.ack_num = t->remote_shutdown ? SSP_SHUTDOWN_NUM : ssp_transport_remote_num(t);
	in.throwaway_num = t->sent[0].num;
	in.diff = t->diff.data;
	in.diff_len = t->diff.len;
	in.chaff_len = chaff;
	t->instr.len = 0;
	rc = ssp_instruction_encode(&in, &t->instr);
	if (rc != SSP_OK)
		return rc;
	rc = send_encoded(t);
	t->stats.instructions_sent++;
	if (rc == SSP_OK && to != NULL && t->instr.len <= SSP_DOUBLE_MAX_BYTES &&
	    t->last_loss != NONE && now - t->last_loss < SSP_DOUBLE_AFTER_LOSS_MS) {
		rc = send_encoded(t);
		t->stats.instructions_doubled++;
	}
	t->last_send = now;
	t->next_ack_time = now + SSP_ACK_INTERVAL_MS;
	t->ack_due = NONE;
	return rc;
}

/* A stream: resend each hop (the diff from the state sent before it)
 * whose state has gone unacknowledged for RTO + ACK_DELAY, and the
 * oldest when it is overdue (hop_overdue), oldest first, each a datagram
 * or so. */
static int resend_hops(struct ssp_transport *t, uint64_t now)
{
	if (hop_resend_time(t, now) > now)
		return SSP_OK;
	bool overdue = hop_overdue(t);
	for (int i = 1; i < t->nsent; i++) {
		if (now - t->sent[i].when < resend_age(t)) {
			if (i > 1 || !overdue)
				continue;
			t->stats.hops_resent_early++;
		}
		t->sent[i].when = now;
		t->last_loss = now;
		t->stats.hops_resent++;
		int rc = send_instruction(t, now, i - 1, t->sent[i].num, t->sent[i].state);
		if (rc != SSP_OK)
			return rc;
	}
	return SSP_OK;
}

int ssp_transport_tick(struct ssp_transport *t, uint64_t now)
{
	if (!ssp_conn_has_remote(t->conn))
		return SSP_OK; /* a server waits for its client to speak */
	uint64_t when = next_send_time(t, now);
	bool ack = (t->ack_due != NONE && now >= t->ack_due) || now >= t->next_ack_time;
	int k = 0;
	if (probe_time(t, now, &k) <= now) {
		/* Whatever goes out now is the probe. */
		ack = true;
		t->probe_now = false;
		t->probes = k + 1;
		t->probe_received = ssp_conn_stats(t->conn)->received;
		t->stats.probes++;
		if (t->lops->stream && t->nsent > 1 && !t->shutdown) {
			/* The probe is the input that waits: every hop not
			 * acknowledged, oldest first. */
			for (int i = 1; i < t->nsent; i++) {
				t->sent[i].when = now;
				int rc = send_instruction(t, now, i - 1, t->sent[i].num,
				                          t->sent[i].state);
				if (rc != SSP_OK)
					return rc;
			}
			return SSP_OK;
		}
	}

	if (t->shutdown) {
		if (when == NONE || now < when)
			return SSP_OK;
		t->shutdown_tries++;
		return send_instruction(t, now, assumed_receiver_state(t, now),
		                        SSP_SHUTDOWN_NUM, NULL);
	}
	if (when == NONE || now < when) {
		if (!ack)
			return SSP_OK;
		/* An empty acknowledgement from (and to) the assumed state. */
		int base = assumed_receiver_state(t, now);
		return send_instruction(t, now, base, t->sent[base].num, NULL);
	}
	if (t->lops->stream) {
		int rc = resend_hops(t, now);
		if (rc != SSP_OK)
			return rc;
	}
	uint64_t fresh = new_state_time(t, now);
	/* A stream's new hop builds on the newest state sent: a lost hop
	 * before it is resent on its own, and the receiver keeps this one
	 * until then. */
	int base = t->lops->stream ? t->nsent - 1 : assumed_receiver_state(t, now);
	if (fresh != NONE && now >= fresh) {
		const struct kept *newest = &t->sent[t->nsent - 1];
		/* A diff from older than the newest state sent: that one
		 * aged unacknowledged, probably lost. */
		if (base != t->nsent - 1)
			t->last_loss = now;
		/* A new state: keep a copy under the next number. */
		void *copy = t->lops->copy(t->current);
		if (copy == NULL)
			return SSP_ENOMEM;
		if (t->nsent == SSP_MAX_SENT_STATES + 1) {
			/* Bounded: forget the oldest unacknowledged. */
			t->lops->free(t->sent[1].state);
			memmove(&t->sent[1], &t->sent[2],
			        (size_t)(t->nsent - 2) * sizeof t->sent[0]);
			t->nsent--;
			if (base > 0)
				base--;
			newest = &t->sent[t->nsent - 1];
		}
		t->sent[t->nsent] = (struct kept){ newest->num + 1, now, copy };
		t->nsent++;
		t->peer_run = 0; /* what the peer sends next may answer it */
		t->mindelay_clock = NONE;
		if (t->settled && now < t->last_state_send + send_interval(t))
			t->last_early = now;
		t->follow_up = t->settled && t->answer;
		t->settled = t->answer = t->full = false;
	} else if (t->lops->stream) {
		return SSP_OK; /* the hops due went out above */
	} else {
		/* A resend: the guess aged, or no acknowledgement. */
		t->sent[t->nsent - 1].when = now;
		t->last_loss = now;
	}
	t->last_state_send = now;
	const struct kept *top = &t->sent[t->nsent - 1];
	return send_instruction(t, now, base, top->num, top->state);
}

void ssp_transport_settled(struct ssp_transport *t, bool answer)
{
	/* Only a state not yet sent can leave early. */
	if (unsent(t)) {
		t->settled = true;
		t->answer |= answer;
	}
}

void ssp_transport_full(struct ssp_transport *t)
{
	if (unsent(t))
		t->full = true;
}

int ssp_transport_wait_ms(struct ssp_transport *t, uint64_t now)
{
	uint64_t when = next_send_time(t, now);
	/* Shutting down, a tick sends the shutdown or nothing: no heartbeat
	 * or acknowledgement is due (waking for one would spin once the
	 * tries ran out). */
	if (t->shutdown)
		return when == NONE ? -1 : when <= now ? 0 : (int)(when - now);
	if (t->ack_due < when)
		when = t->ack_due;
	if (ssp_conn_has_remote(t->conn) && t->next_ack_time < when)
		when = t->next_ack_time;
	int k = 0;
	uint64_t probe = probe_time(t, now, &k);
	if (probe < when)
		when = probe;
	if (when == NONE)
		return -1;
	if (when <= now)
		return 0;
	return when - now > 60000 ? 60000 : (int)(when - now);
}

/* ---- receiving -------------------------------------------------------- */

static void process_ack(struct ssp_transport *t, uint64_t ack)
{
	if (ack == SSP_SHUTDOWN_NUM) {
		if (t->shutdown)
			t->shutdown_acked = true;
		return;
	}
	for (int i = 0; i < t->nsent; i++) {
		if (t->sent[i].num != ack)
			continue;
		for (int k = 0; k < i; k++)
			t->lops->free(t->sent[k].state);
		memmove(&t->sent[0], &t->sent[i], (size_t)(t->nsent - i) * sizeof t->sent[0]);
		t->nsent -= i;
		if (t->lops->subtract) {
			for (int k = 1; k < t->nsent; k++)
				t->lops->subtract(t->sent[k].state, t->sent[0].state);
			t->lops->subtract(t->current, t->sent[0].state);
		}
		return;
	}
}

/* What this side sent may not have arrived (the peer roamed, or resent
 * a state it had no acknowledgement of): no unacknowledged state is
 * assumed received any more, so the next tick sends again, built on the
 * acknowledged state, and a stream resends its hops. */
static void assume_nothing(struct ssp_transport *t)
{
	for (int i = 1; i < t->nsent; i++)
		t->sent[i].when = 0;
}

void ssp_transport_ack_now(struct ssp_transport *t)
{
	t->ack_due = ssp_now_ms();
}

void ssp_transport_probe_now(struct ssp_transport *t)
{
	t->probe_now = true;
	assume_nothing(t); /* what went out the old way may be lost */
}

static int find_recv(const struct ssp_transport *t, uint64_t num)
{
	for (int i = 0; i < t->nrecv; i++)
		if (t->recv[i].num == num)
			return i;
	return -1;
}

/* Apply the diff from held state old_num to make state new_num, and keep
 * it. 1: it is now the newest held, 0: kept but older, or not applied
 * (dropped and counted, or no memory). */
static int apply_diff(struct ssp_transport *t, uint64_t old_num, uint64_t new_num,
                      const uint8_t *diff, size_t len, uint64_t now)
{
	int base = find_recv(t, old_num);
	if (base < 0)
		return 0;
	void *s = t->rops->copy(t->recv[base].state);
	if (s == NULL)
		return 0;
	if (t->rops->apply(s, diff, len) != SSP_OK) {
		t->rops->free(s);
		t->stats.dropped_bad++;
		return 0;
	}
	bool soon = t->rops->ack_soon && t->rops->ack_soon(t->recv[base].state, s);
	uint64_t due = now + (soon ? SSP_STREAM_ACK_DELAY_MS : ack_delay(t->rops));
	if (t->nrecv == SSP_MAX_RECEIVED_STATES) {
		/* Bounded: the oldest goes (a diff from it can be resent
		 * from a newer acknowledged state). */
		t->rops->free(t->recv[0].state);
		memmove(&t->recv[0], &t->recv[1], (size_t)(t->nrecv - 1) * sizeof t->recv[0]);
		t->nrecv--;
	}
	/* Insert in order of number. */
	int at = t->nrecv;
	while (at > 0 && t->recv[at - 1].num > new_num)
		at--;
	memmove(&t->recv[at + 1], &t->recv[at], (size_t)(t->nrecv - at) * sizeof t->recv[0]);
	t->recv[at] = (struct kept){ new_num, now, s };
	t->nrecv++;
	if (t->ack_due == NONE || t->ack_due > due)
		t->ack_due = due;
	return at == t->nrecv - 1 ? 1 : 0;
}

static void unstash(struct ssp_transport *t, int i)
{
	t->stash_bytes -= t->stash[i].len;
	free(t->stash[i].diff);
	t->stash[i] = t->stash[--t->nstash];
}

/* Keep an instruction whose base has not arrived, if there is room. */
static void stash(struct ssp_transport *t, const struct ssp_instruction *in)
{
	for (int i = 0; i < t->nstash; i++)
		if (t->stash[i].new_num == in->new_num && t->stash[i].old_num == in->old_num)
			return;
	if (t->nstash == SSP_STASH_MAX || in->diff_len > SSP_STASH_BYTES - t->stash_bytes)
		return;
	uint8_t *copy = malloc(in->diff_len ? in->diff_len : 1);
	if (copy == NULL)
		return;
	memcpy(copy, in->diff, in->diff_len);
	t->stash[t->nstash++] = (struct stashed){ in->old_num, in->new_num, copy, in->diff_len };
	t->stash_bytes += in->diff_len;
	t->stats.stashed++;
}

/* Apply what the stash now has a base for; drop what is no longer of
 * use (a state already held, or older than every state held). */
static int drain_stash(struct ssp_transport *t, uint64_t now)
{
	int fresh = 0;
	bool progress = true;

	while (progress) {
		progress = false;
		for (int i = 0; i < t->nstash; i++) {
			struct stashed *st = &t->stash[i];
			if (find_recv(t, st->new_num) >= 0 || st->new_num <= t->recv[0].num) {
				unstash(t, i--);
				continue;
			}
			if (find_recv(t, st->old_num) < 0)
				continue;
			fresh |= apply_diff(t, st->old_num, st->new_num, st->diff, st->len, now);
			t->stats.unstashed++;
			unstash(t, i--);
			progress = true;
		}
	}
	return fresh;
}

static int process_instruction(struct ssp_transport *t, const uint8_t *data,
                               size_t len, uint64_t now)
{
	struct ssp_instruction in;

	if (ssp_instruction_decode(&in, data, len) != SSP_OK) {
		t->stats.dropped_bad++;
		return 0;
	}
	t->stats.instructions_received++;
	process_ack(t, in.ack_num);
	t->ack_heard = now;
	if (in.new_num == SSP_SHUTDOWN_NUM) {
		if (!t->remote_shutdown) {
			t->ack_due = now; /* acknowledge at once */
			size_t n = in.diff_len < SSP_REASON_MAX ? in.diff_len : SSP_REASON_MAX;
			for (size_t i = 0; i < n; i++) /* text, whatever came */
				t->remote_reason[i] = in.diff[i] >= 0x20 && in.diff[i] < 0x7f ?
				                      (char)in.diff[i] : '?';
			t->remote_reason[n] = '\0';
		}
		t->remote_shutdown = true;
		return 0;
	}
	if (in.old_num == in.new_num) {
		t->peer_run = 0; /* the peer has nothing more */
		return 0; /* a pure acknowledgement */
	}
	int have = find_recv(t, in.new_num);
	if (have >= 0) {
		t->stats.dropped_duplicate++;
		if (now - t->recv[have].when >= SSP_RESENT_AFTER_MS) {
			/* A resend: the peer missed our acknowledgement, and
			 * whatever carried it. */
			t->stats.resends_heard++;
			t->ack_due = now;
			assume_nothing(t);
		}
		/* The second copy of a doubled resend is no news. */
		t->recv[have].when = now;
		return 0;
	}
	if (find_recv(t, in.old_num) < 0) {
		t->stats.dropped_no_base++;
		if (in.old_num > t->recv[0].num) {
			stash(t, &in);
			/* The acknowledgement, which leaves out the missing
			 * base, tells the sender of a stream to resend it
			 * (hop_overdue). */
			if (t->ack_due == NONE)
				t->ack_due = now + ack_delay(t->rops);
		}
		return 0;
	}
	int fresh = apply_diff(t, in.old_num, in.new_num, in.diff, in.diff_len, now);
	fresh |= drain_stash(t, now);
	if (fresh) {
		bool soon = t->last_state_at != NONE && now - t->last_state_at <= SSP_PROBE_STREAM_MS;
		t->peer_run = soon ? t->peer_run + 1 : 1;
		t->last_state_at = now;
	}
	/* Forget what the sender says it will never build on again. */
	int keep_from = 0;
	while (keep_from < t->nrecv - 1 && t->recv[keep_from].num < in.throwaway_num)
		keep_from++;
	for (int i = 0; i < keep_from; i++)
		t->rops->free(t->recv[i].state);
	memmove(&t->recv[0], &t->recv[keep_from],
	        (size_t)(t->nrecv - keep_from) * sizeof t->recv[0]);
	t->nrecv -= keep_from;
	return fresh;
}

int ssp_transport_recv(struct ssp_transport *t)
{
	uint8_t buf[SSP_MAX_DATAGRAM];
	int fresh = 0;

	for (int i = 0; i < 1000 && !stale(t); i++) {
		size_t n;
		const uint8_t *data;
		size_t len;
		int rc = ssp_conn_recv(t->conn, buf, sizeof buf, &n);
		if (rc == SSP_EAGAIN || rc == SSP_ESYSTEM)
			break;
		if (rc != SSP_OK)
			continue; /* dropped and counted by the endpoint */
		rc = ssp_reassembly_add(t->ra, buf, n, &data, &len);
		if (rc == 1)
			fresh += process_instruction(t, data, len, ssp_now_ms());
	}
	/* The peer moved (a server's client roamed): what went to its old
	 * address since it last spoke from there is probably lost, and goes
	 * again to the new one, instead of a retransmission timeout later. */
	uint64_t roams = ssp_conn_stats(t->conn)->roams;
	if (roams != t->roams_seen) {
		t->roams_seen = roams;
		assume_nothing(t);
		/* And a word at once the new way: a client that probed UDP
		 * from a stream learns that UDP works. */
		t->ack_due = ssp_now_ms();
	}
	return fresh;
}
