/*
 * predict — the client's local echo. Keys the user types are decoded
 * (libtermkey, through keys.h) and guessed onto the client's copy of the
 * screen at once; the server's echo-ack (input bytes the application has
 * had long enough to echo) then confirms each guess against the real
 * screen or takes it, and its epoch, away.
 *
 * Epochs: after a key whose effect cannot be guessed (Enter, a control
 * key, an escape sequence, a wrap, a paste), nothing more is guessed until
 * the server has applied that key; guesses made after that start a new
 * epoch, hidden until one of them is confirmed. A wrong guess ends its
 * epoch the same way.
 */
#ifndef MOSHI_PREDICT_H
#define MOSHI_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct term_frame;

enum predict_mode {
	PREDICT_ADAPTIVE,     /* shown when the link is slow enough to matter */
	PREDICT_ALWAYS,       /* always shown */
	PREDICT_NEVER,        /* never guessed */
	PREDICT_EXPERIMENTAL, /* always shown, unconfirmed epochs too */
};

/* Link speeds (the transport's send interval) where adaptive display and
 * underlining switch on and off, and how long a guess may wait before it
 * is shown and underlined whatever the link. */
#define PREDICT_SHOW_ON_MS 30
#define PREDICT_SHOW_OFF_MS 20
#define PREDICT_UNDERLINE_ON_MS 80
#define PREDICT_UNDERLINE_OFF_MS 50
#define PREDICT_GLITCH_MS 250
/* A guess that has waited this long is shown (not underlined) whatever
 * the link, until it is confirmed: on a link fast enough for guesses to
 * stay hidden, such a wait means its key or its echo was lost, and the
 * resend comes later than a user notices. mosh has no such rule: on a
 * fast link that loses packets its guesses wait for the glitch. */
#define PREDICT_LATE_MS 20
/* After such a wait, guesses stay shown (adaptive mode) until this many
 * have been confirmed quickly, at most one every PREDICT_REPAIR_MS: on a
 * fast link that loses packets, every lost one would otherwise make its
 * key wait for a resend again, as mosh's glitch trigger also avoids. */
#define PREDICT_REPAIR_COUNT 10
#define PREDICT_REPAIR_MS 150
#define PREDICT_PASTE_BYTES 100 /* a read this long is a paste: no guess */

/* "adaptive", "always", "never", "experimental": 0, or -1 if unknown. */
int predict_mode_parse(const char *s, enum predict_mode *mode);

struct predict;
struct predict *predict_new(enum predict_mode mode);
void predict_free(struct predict *p);

/* The user typed b[0..n), which are input bytes [offset, offset + n) of
 * the session; server is the newest frame from the server. Returns true
 * when what predict_overlay shows may have changed. */
bool predict_input(struct predict *p, const struct term_frame *server,
                   const uint8_t *b, size_t n, uint64_t offset, uint64_t now);

/* A new frame from the server, which has applied echo_ack input bytes
 * long enough ago for their echo to be on it; now in ms, as for
 * predict_input. */
bool predict_server(struct predict *p, const struct term_frame *server,
                    uint64_t echo_ack, uint64_t now);

/* How slow the link is: the transport's send interval, in ms. */
void predict_set_interval(struct predict *p, unsigned ms);

/* The frame to show: server's with the guesses drawn in (a new frame the
 * caller frees), or NULL when there is nothing to add. */
struct term_frame *predict_overlay(struct predict *p, const struct term_frame *server,
                                   uint64_t now);

/* True while guesses wait for the server. */
bool predict_pending(const struct predict *p);

/* The first time after since when what predict_overlay shows may change
 * with time alone (the oldest guess waiting PREDICT_LATE_MS or
 * PREDICT_GLITCH_MS), or 0 when there is none. */
uint64_t predict_next_change(const struct predict *p, uint64_t since);

struct predict_stats {
	uint64_t made, confirmed, wrong;
};
const struct predict_stats *predict_stats(const struct predict *p);

#endif
