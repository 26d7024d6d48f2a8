#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

const char *pty_user_shell(void)
{
	const char *sh = getenv("SHELL");
	if (sh != NULL && sh[0] == '/')
		return sh;
	struct passwd *pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_shell != NULL && pw->pw_shell[0] == '/')
		return pw->pw_shell;
	return "/bin/sh";
}

int pty_resize(int master, int cols, int rows)
{
	struct winsize ws;
	memset(&ws, 0, sizeof ws);
	ws.ws_col = (unsigned short)cols;
	ws.ws_row = (unsigned short)rows;
	return ioctl(master, TIOCSWINSZ, &ws);
}

/* In the child, on the slave it inherited: never returns. */
static void child(const struct pty_spec *spec, int slave)
{
	setsid();
	ioctl(slave, TIOCSCTTY, 0);
	dup2(slave, 0);
	dup2(slave, 1);
	dup2(slave, 2);
	if (slave > 2)
		close(slave);
	/* Defaults a shell expects; the server may have ignored these. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	if (spec->term)
		setenv("TERM", spec->term, 1);
	for (char *const *e = spec->setenv; e && *e; e++)
		putenv(*e);
	const char *home = getenv("HOME");
	if (home == NULL || chdir(home) != 0) {
		struct passwd *pw = getpwuid(getuid());
		if (pw == NULL || chdir(pw->pw_dir) != 0)
			(void)!chdir("/");
	}
	if (spec->argv != NULL && spec->argv[0] != NULL) {
		execvp(spec->argv[0], spec->argv);
		fprintf(stderr, "moshi: cannot run %s: %s\n", spec->argv[0], strerror(errno));
		_exit(127);
	}
	const char *sh = pty_user_shell();
	const char *base = strrchr(sh, '/');
	char login[256];
	/* A login shell: argv[0] starts with '-'. */
	snprintf(login, sizeof login, "-%s", base ? base + 1 : sh);
	execl(sh, login, (char *)NULL);
	fprintf(stderr, "moshi: cannot run %s: %s\n", sh, strerror(errno));
	_exit(127);
}

int pty_spawn(const struct pty_spec *spec, int *master, pid_t *pid)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0)
		goto fail;
	char *name = ptsname(m);
	if (name == NULL)
		goto fail;
	char slave[128];
	snprintf(slave, sizeof slave, "%s", name);

	/* The slave is opened here and inherited by the child, so it is
	 * never closed while the child starts: a read of the master in that
	 * moment would otherwise fail with EIO as if the program had gone. */
	int s = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	/* The terminal's modes, before anyone uses it: IUTF8 so erase works
	 * on whole characters without any locale. */
	struct termios tio;
	if (tcgetattr(s, &tio) == 0) {
#ifdef IUTF8
		tio.c_iflag |= IUTF8;
#endif
		tcsetattr(s, TCSANOW, &tio);
	}
	if (pty_resize(m, spec->cols, spec->rows) < 0) {
		close(s);
		goto fail;
	}

	pid_t p = fork();
	if (p < 0) {
		close(s);
		goto fail;
	}
	if (p == 0) {
		close(m);
		/* O_CLOEXEC must not take the terminal from the program. */
		int fl = fcntl(s, F_GETFD);
		if (fl >= 0)
			fcntl(s, F_SETFD, fl & ~FD_CLOEXEC);
		child(spec, s);
	}
	close(s);
	int fl = fcntl(m, F_GETFL);
	if (fl >= 0)
		fcntl(m, F_SETFL, fl | O_NONBLOCK);
	*master = m;
	*pid = p;
	return 0;
fail:
	{
		int e = errno;
		close(m);
		errno = e;
	}
	return -1;
}
