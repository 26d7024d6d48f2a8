/*
 * keys — the client's key decoder: bytes typed on the user's terminal in,
 * keys out, decoded by libtermkey (an abstract instance that never touches
 * a file descriptor or termios; moshi owns the terminal).
 */
#ifndef MOSHI_KEYS_H
#define MOSHI_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "termkey.h"

struct keys;

/* The libtermkey version this binary was built with, e.g. "0.22". */
const char *keys_backend_version(void);

/* A decoder for an xterm-like terminal, or NULL (out of memory). */
struct keys *keys_new(void);
void keys_free(struct keys *k);

/* Feed bytes read from the terminal; returns how many were taken (fewer
 * than len when the decoder's buffer is full: drain keys and push again). */
size_t keys_push(struct keys *k, const void *buf, size_t len);

/* The next complete key: 1 and *key filled, or 0 when none is ready yet.
 * With flush set, a lone ESC or an unfinished sequence is given up as
 * keys instead of waiting for more bytes (call after the terminal has
 * been quiet for keys_wait_ms()). */
int keys_next(struct keys *k, TermKeyKey *key, int flush);
int keys_wait_ms(const struct keys *k);

/* Describe a key, e.g. "C-a", "Up", "x"; returns the length written. */
size_t keys_describe(struct keys *k, const TermKeyKey *key, char *buf,
                     size_t len);

/* The control character a key sent in an extended form stands for: at
 * buf[0..n), CSI code ; mods u (the kitty protocol) or CSI 27 ; mods ;
 * code ~ (modifyOtherKeys), with Ctrl among the modifiers and a
 * character that has a control character (xterm's: a letter, @ to _,
 * ?, 2 to 8, space, /). Its length in *len; -1 when it is none. */
int keys_extended_control(const uint8_t *buf, size_t n, size_t *len);

#endif
