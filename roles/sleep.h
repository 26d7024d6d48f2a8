/*
 * How the roles sleep (roles/sleep.c): in ppoll until a descriptor is
 * ready, a computed timer is due, or one of the role's signals comes.
 * The signals are blocked everywhere else, so one that comes between a
 * check of its flag and the sleep ends the sleep at once instead of
 * waiting for the next event; and a role with nothing to do never wakes.
 */
#ifndef MOSHI_ROLES_SLEEP_H
#define MOSHI_ROLES_SLEEP_H

#include <poll.h>
#include <stddef.h>

/* The longest a role sleeps: every timer it has is computed, so this
 * only bounds a clock that jumped. */
#define SLEEP_MAX_MS 60000

/* Block these signals except while sleeping (their handlers are the
 * caller's). A child forked later inherits the block: call it after. */
void sleep_block_signals(const int *sigs, size_t n);
/* Unblock them again: a role does this on its way out, so that a signal
 * left pending (a terminal's hangup sends SIGHUP and SIGCONT) is taken
 * by its handler, not left to whatever runs at exit. */
void sleep_unblock_signals(void);
/* ppoll for at most ms (negative: no limit, which SLEEP_MAX_MS caps). */
int sleep_until_event(struct pollfd *fds, nfds_t n, int ms);
/* The smaller of two waits in ms, where negative means "no limit". */
int sleep_min(int a, int b);
/* Milliseconds from now until `at` (0 if past), as a wait. */
int sleep_until(unsigned long long at, unsigned long long now);

#endif
