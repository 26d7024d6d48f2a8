/*
 * A terminfo driver for libtermkey that declines every terminal.
 *
 * libtermkey tries its drivers in order and skips one whose new_driver
 * returns NULL. Its terminfo driver needs unibilium or ncurses, neither of
 * which moshi links, so this file takes the place of driver-ti.c at link
 * time. The CSI driver that remains decodes the keys of every xterm-like
 * terminal, which is what moshi's client talks to.
 */
#include "termkey-internal.h"

#include <stddef.h>

static void *decline_new(TermKey *tk, const char *term)
{
	(void)tk;
	(void)term;
	return NULL;
}

static void decline_free(void *info)
{
	(void)info;
}

static TermKeyResult decline_peek(TermKey *tk, void *info, TermKeyKey *key,
                                  int force, size_t *nbytes)
{
	(void)tk;
	(void)info;
	(void)key;
	(void)force;
	(void)nbytes;
	return TERMKEY_RES_NONE;
}

struct TermKeyDriver termkey_driver_ti = {
	.name = "terminfo (declined: moshi is built without terminfo)",
	.new_driver = decline_new,
	.free_driver = decline_free,
	.peekkey = decline_peek,
};
