#include "sleep.h"

#include <limits.h>
#include <signal.h>
#include <time.h>

/* The signal mask while sleeping: the one before sleep_block_signals. */
static sigset_t awake_mask;

void sleep_block_signals(const int *sigs, size_t n)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &awake_mask);
}

void sleep_unblock_signals(void)
{
	sigprocmask(SIG_SETMASK, &awake_mask, NULL);
}

int sleep_until_event(struct pollfd *fds, nfds_t n, int ms)
{
	ms = sleep_min(ms, SLEEP_MAX_MS);
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	return ppoll(fds, n, &ts, &awake_mask);
}

int sleep_min(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int sleep_until(unsigned long long at, unsigned long long now)
{
	if (at <= now)
		return 0;
	return at - now > INT_MAX ? INT_MAX : (int)(at - now);
}
