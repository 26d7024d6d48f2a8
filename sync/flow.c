/*
 * Input flow control for the user stream (see sync.h, sync_flow).
 *
 * A diff carries everything past the acknowledged state, and an
 * instruction of k fragments arrives whole with probability (1 - loss)^k:
 * a large paste pushed into the stream at once would stall on a lossy
 * path. So input waits in a bounded backlog and enters the stream only
 * while what is unacknowledged stays under a window, counted in
 * datagrams: it starts at its floor (8: a first paste goes out as a
 * burst of 8 datagrams, as TCP starts with 10 segments), doubles with
 * every acknowledgement that moves until the first stall, grows by one
 * per acknowledgement after it, and halves, not below the floor, when
 * none has come for twice (RTO + the receiver's ack delay), the time the
 * transport itself takes to resend. Each new state grows by at most
 * a datagram: the transport resends a stream's lost hops one by one, and
 * the receiver keeps the hops that arrive before their base, so a lost
 * datagram costs only its own resend (a hop of k datagrams would arrive
 * whole with probability (1 - loss)^k, resend after resend). A hop that
 * fills a datagram leaves at once (ssp_transport_full), and the caller
 * pushes the next: the window, not the send interval, paces a paste. The
 * hops in flight stay below the states the transport keeps
 * (SSP_MAX_SENT_STATES), which would otherwise forget the oldest.
 */
#include "sync.h"

#include <string.h>

void sync_flow_init(struct sync_flow *f, uint64_t now)
{
	f->len = 0;
	f->window = SYNC_FLOW_WINDOW_START;
	f->stalled = false;
	f->acked_total = 0;
	f->last_progress = now;
}

size_t sync_flow_room(const struct sync_flow *f)
{
	return SYNC_FLOW_BACKLOG - f->len;
}

size_t sync_flow_add(struct sync_flow *f, const void *b, size_t n)
{
	if (n > sync_flow_room(f))
		n = sync_flow_room(f);
	memcpy(f->backlog + f->len, b, n);
	f->len += n;
	return n;
}

bool sync_flow_push(struct sync_flow *f, struct ssp_transport *t, uint64_t now)
{
	struct ssp_conn *conn = ssp_transport_conn(t);
	const struct sync_userstream *acked = ssp_transport_acked(t);
	struct sync_userstream *u = ssp_transport_local(t);
	size_t pending = sync_userstream_pending(u, acked);
	size_t mtu = ssp_conn_mtu(conn);
	size_t dgram = mtu > 128 ? mtu - 64 : 64;

	if (sync_userstream_total(acked) != f->acked_total) {
		f->acked_total = sync_userstream_total(acked);
		f->last_progress = now;
		/* Double until the first stall, then one at a time. */
		f->window = f->stalled ? f->window + 1 : f->window * 2;
		if (f->window > SYNC_FLOW_WINDOW_MAX)
			f->window = SYNC_FLOW_WINDOW_MAX;
	} else if (pending > 0 &&
	           now - f->last_progress >
	               2 * ((uint64_t)ssp_rtt_rto(ssp_conn_rtt(conn)) + SSP_ACK_DELAY_MS)) {
		f->last_progress = now;
		f->stalled = true;
		f->window /= 2;
		if (f->window < SYNC_FLOW_WINDOW_FLOOR)
			f->window = SYNC_FLOW_WINDOW_FLOOR;
	}
	if (pending == 0)
		f->last_progress = now;
	size_t limit = f->window * dgram;
	if (f->len == 0 || pending >= limit ||
	    ssp_transport_unacked(t) >= SSP_MAX_SENT_STATES - 1)
		return false;
	size_t n = limit - pending;
	if (n > f->len)
		n = f->len;
	/* Each new state adds at most a datagram to the one sent before it,
	 * so that every hop, and every resend of one, is a single datagram
	 * that arrives or not on its own. */
	size_t unsent = sync_userstream_pending(u, ssp_transport_last_sent(t));
	if (unsent >= dgram)
		return false;
	if (n > dgram - unsent)
		n = dgram - unsent;
	if (sync_userstream_push_bytes(u, f->backlog, n) != SSP_OK)
		return false;
	memmove(f->backlog, f->backlog + n, f->len - n);
	f->len -= n;
	if (sync_userstream_pending(u, ssp_transport_last_sent(t)) < dgram)
		return false;
	ssp_transport_full(t);
	return true;
}

int sync_flow_send(struct sync_flow *f, struct ssp_transport *t, uint64_t now)
{
	int k = 0;
	while (k < SYNC_FLOW_WINDOW_MAX && sync_flow_push(f, t, now)) {
		ssp_transport_tick(t, now);
		k++;
	}
	return k;
}
