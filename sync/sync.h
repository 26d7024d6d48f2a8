/*
 * sync/ — the objects moshi keeps in sync, over ssp/'s transport: the
 * user stream (keys and window sizes, client to server) and the terminal
 * state (the screen and its echo-ack, server to client), each an
 * implementation of struct ssp_state_ops; and the flow control that
 * paces typed and pasted input into the user stream. The transport
 * knows none of them: it moves diffs of whatever ops it is given.
 */
#ifndef MOSHI_SYNC_H
#define MOSHI_SYNC_H

#include "../ssp/ssp.h"

/* The user stream: keystrokes and resizes, client to server. States only
 * ever grow at the end, so a diff is the events past the older state;
 * applied only to the state it was made from, every event arrives
 * exactly once and in order. */
#define SYNC_USER_BYTES 1
#define SYNC_USER_RESIZE 2
#define SYNC_USER_TERMINAL 3          /* what the user's terminal said */
#define SYNC_USER_EVENT_MAX 65536     /* bytes in one keystroke event */

struct sync_user_event {
	int type;
	const uint8_t *bytes; /* SYNC_USER_BYTES, SYNC_USER_TERMINAL */
	size_t len;
	int cols, rows;       /* SYNC_USER_RESIZE */
};

/* What the user's terminal said of itself when the client asked: its
 * colours (0-255 the palette, then the default foreground and
 * background, as term.h numbers them), each 0xRRGGBB with
 * SYNC_COLOUR_KNOWN set if it answered, and the key encodings it can
 * send (TERM_KEYS_*). A SYNC_USER_TERMINAL event carries one, as
 *   varint count | count of (varint which | u8 r | u8 g | u8 b) | varint keys */
#define SYNC_COLOURS 258
#define SYNC_COLOUR_KNOWN 0x01000000u
struct sync_terminal {
	uint32_t colour[SYNC_COLOURS];
	unsigned keys;
};
/* The event's bytes for t, appended to w. */
int sync_terminal_encode(const struct sync_terminal *t, struct ssp_writer *w);
/* The event's bytes read into t: SSP_OK, or SSP_EMALFORMED. */
int sync_terminal_decode(struct sync_terminal *t, const uint8_t *b, size_t n);


struct sync_userstream;
extern const struct ssp_state_ops sync_userstream_ops;

struct sync_userstream *sync_userstream_new(void);
int sync_userstream_push_bytes(struct sync_userstream *u, const void *b, size_t n);
int sync_userstream_push_resize(struct sync_userstream *u, int cols, int rows);
int sync_userstream_push_terminal(struct sync_userstream *u,
                                  const struct sync_terminal *t);
/* Events ever pushed (or received) into this stream. */
uint64_t sync_userstream_total(const struct sync_userstream *u);
/* The event with index i (0 = the first ever), if still held: 1, or 0
 * when i is past the end or was already forgotten. */
int sync_userstream_get(const struct sync_userstream *u, uint64_t i,
                       struct sync_user_event *ev);
/* Forget events below index i (the receiver has consumed them). */
void sync_userstream_forget(struct sync_userstream *u, uint64_t i);
/* Bytes (4 per event of framing included) that u holds past the end of
 * older, an earlier state of the same stream: what a diff from older
 * would carry. A sender keeps this bounded so that one instruction
 * never needs more fragments than a lossy path delivers whole. */
size_t sync_userstream_pending(const struct sync_userstream *u,
                              const struct sync_userstream *older);

/* The terminal state: what the screen shows, and the echo-ack: how many
 * bytes of the user stream the server had given the application long
 * enough ago for their echo to be on screen (the client's predictions
 * are checked against it). Its diff is the renderer's byte string
 * (term_render), so its correctness is the renderer's round-trip
 * property.
 *
 * And the history: the lines that scrolled off the server's screen,
 * numbered from 0 in order (term_scrollback_total). A state says how
 * many there are (hist_total); a diff carries the lines between its two
 * states' counts, read from the server's emulator when it is made, and
 * where the emulator no longer holds some, one gap entry for them. When
 * an application clears the history (ED 3), the state counts the clear
 * (hist_clears) and the next diff carries one clear entry: the lines
 * before it that the receiver lacks are skipped, not shown as a gap. The
 * receiving side keeps the entries it has not consumed (hist), as the
 * user stream keeps its events: the client reads them and forgets them
 * (ssp_transport_remote_forget). */
#define SYNC_HIST_LINE 0     /* a line that ends */
#define SYNC_HIST_WRAPPED 1  /* a line whose text goes on on the next */
#define SYNC_HIST_GAP 2      /* lines the server no longer had */
#define SYNC_HIST_CLEAR 3    /* the history was cleared after count lines */
#define SYNC_HIST_MAX_ENTRIES 65536 /* entries a receiver holds at most */
#define SYNC_HIST_LINE_MAX (64u << 10) /* bytes of one line */

struct sync_hist_entry {
	uint8_t kind;            /* SYNC_HIST_* */
	uint32_t width;          /* a line's width in cells */
	uint64_t count;          /* numbers it covers: 1, a gap's, a clear's */
	uint64_t clears;         /* a clear: the clears so far, with it */
	size_t len;
	uint8_t *bytes;          /* a line: text and SGRs (term_history_line) */
};

struct term;
struct term_frame;
struct sync_termstate {
	struct term_frame *frame;
	uint64_t echo_ack;
	uint64_t hist_total;     /* history lines so far */
	uint64_t hist_clears;    /* clears so far, the last at line hist_clear_at */
	uint64_t hist_clear_at;
	struct term *hist_src;   /* sender: the emulator the lines come from */
	uint64_t hist_base;      /* receiver: the number of hist[0] */
	struct sync_hist_entry *hist;
	size_t hist_n, hist_cap;
};
extern const struct ssp_state_ops sync_termstate_ops;

/* A blank frame of the given size: the state both sides start from. */
struct sync_termstate *sync_termstate_new(int cols, int rows);
/* A state showing a copy of frame f. */
struct sync_termstate *sync_termstate_from_frame(const struct term_frame *f,
                                                uint64_t echo_ack);
/* Sender: the state's history is the first `total` lines of src's
 * scrollback (at least those up to its last clear), and its clears (src
 * must outlive every state made so). */
void sync_termstate_set_history(struct sync_termstate *s, struct term *src,
                                uint64_t total);

/* Input flow control for a user-stream sender (sync/flow.c): input waits
 * in a bounded backlog and enters the stream only while what is not yet
 * acknowledged stays under a window of datagrams, so that no instruction
 * needs more fragments than a lossy path delivers whole. The window
 * starts at its floor, doubles with every acknowledgement that moves
 * until the first stall, then grows by one; it halves after
 * 2 * (RTO + SSP_ACK_DELAY_MS) without one, never below the floor. Call
 * sync_flow_push after every ssp_transport_recv. */
#define SYNC_FLOW_BACKLOG 65536
#define SYNC_FLOW_WINDOW_FLOOR 8
#define SYNC_FLOW_WINDOW_START SYNC_FLOW_WINDOW_FLOOR
#define SYNC_FLOW_WINDOW_MAX 32

struct sync_flow {
	uint8_t backlog[SYNC_FLOW_BACKLOG];
	size_t len;
	size_t window;              /* datagrams */
	bool stalled;               /* once: grow linearly from then on */
	uint64_t acked_total, last_progress;
};

void sync_flow_init(struct sync_flow *f, uint64_t now);
/* Bytes the backlog can still take. */
size_t sync_flow_room(const struct sync_flow *f);
/* Queue up to n bytes; returns how many were taken. */
size_t sync_flow_add(struct sync_flow *f, const void *b, size_t n);
/* Move what the window allows into t's local user stream. True when that
 * made a full datagram of new input, which may leave at once
 * (ssp_transport_full): tick the transport and push again, while true. */
bool sync_flow_push(struct sync_flow *f, struct ssp_transport *t, uint64_t now);
/* sync_flow_push, and a tick of t after each full datagram it made, while
 * it makes them (at most SYNC_FLOW_WINDOW_MAX): returns how many. */
int sync_flow_send(struct sync_flow *f, struct ssp_transport *t, uint64_t now);

#endif
