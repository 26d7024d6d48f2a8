/*
 * termquery — what the user's terminal says of itself (termquery.c).
 *
 * At its start the client asks the terminal for its colours (OSC 10, 11
 * and 4 for the first 16 palette entries) and whether it speaks the
 * kitty keyboard protocol (CSI ? u), then for its primary attributes
 * (DA1), which every terminal answers, and last: once that answer is in,
 * every answer the terminal will give is. The answers arrive among the
 * keys typed; termquery_filter takes them out, and the client sends what
 * they said to the server (a SYNC_USER_TERMINAL event), whose emulator
 * answers the application's own queries from it. The questions also ask
 * the terminal to say when its colours change (DEC mode 2031, as
 * contour, kitty and ghostty do: CSI ? 997 ; 1|2 n); the client then
 * asks again.
 */
#ifndef MOSHI_TERMQUERY_H
#define MOSHI_TERMQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../sync/sync.h"

/* How long the client waits for the answers at most. */
#define TERMQUERY_WAIT_MS 1500
/* Bytes of one answer held at most; longer ones pass on as keys. */
#define TERMQUERY_SEQ_MAX 128

struct termquery {
	bool active;             /* asked, answers still awaited */
	uint64_t deadline;
	int state;               /* of the reader: ground, ESC, CSI, OSC ... */
	uint8_t seq[TERMQUERY_SEQ_MAX];
	size_t seq_len;
	struct sync_terminal said;
};

/* The questions, for the client to write to the terminal; starts the
 * wait for their answers. */
const char *termquery_start(struct termquery *q, uint64_t now);
/* Bytes read from the terminal, in[0..n): the answers among them taken
 * out, everything else (keys) appended to out, which has room for n +
 * TERMQUERY_SEQ_MAX bytes; returns how many were appended. An answer
 * begun but not ended is held until more comes. */
size_t termquery_filter(struct termquery *q, const uint8_t *in, size_t n,
                        uint8_t *out);
/* Once the answers are in, or the wait is over (then anything held is
 * appended to out, as keys, with its length in *n): true, and the wait
 * is done. False while it goes on, and after it is done. */
bool termquery_finished(struct termquery *q, uint64_t now, uint8_t *out, size_t *n);
/* Reports that the terminal's colours changed (CSI ? 997 ; Ps n) taken
 * out of buf[0..n) in place; returns the length left, and sets *changed
 * when there was one. */
size_t termquery_take_changes(uint8_t *buf, size_t n, bool *changed);
/* Milliseconds until the wait is over, or -1 when there is none. */
int termquery_wait_ms(const struct termquery *q, uint64_t now);

#endif
