/*
 * The emulator's event handlers (emu.c), which the ground loop (ground.c)
 * calls for what it reads itself and the parser's tables call for the
 * rest. ctx is the struct term.
 */
#ifndef MOSHI_TERM_EMU_H
#define MOSHI_TERM_EMU_H

#include "internal.h"

/* A C0 control. */
void emu_execute(void *ctx, uint8_t c);
/* A control sequence. */
void emu_csi(void *ctx, const struct term_seq *s);

#endif
