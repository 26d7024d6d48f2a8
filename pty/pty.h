/*
 * pty/ — a pseudo-terminal with a program on it.
 *
 * No locale is needed: the slave is put in IUTF8 so the kernel's line
 * editing erases whole UTF-8 characters. Functions return 0 or -1 with
 * errno set; none of them exits (the child after fork only execs or
 * _exits).
 */
#ifndef MOSHI_PTY_H
#define MOSHI_PTY_H

#include <sys/types.h>

struct pty_spec {
	int cols, rows;
	const char *term;        /* TERM for the child, e.g. "xterm-256color" */
	char *const *argv;       /* the command, or NULL for a login shell */
	char *const *setenv;     /* extra NAME=VALUE entries, NULL-terminated */
};

/* Fork a child on a new pseudo-terminal: it gets a new session with the
 * terminal as its controlling tty, starts in $HOME, and runs argv, or the
 * user's shell as a login shell ($SHELL, else the passwd entry, else
 * /bin/sh). On success *master is the master side (non-blocking,
 * close-on-exec) and *pid the child. */
int pty_spawn(const struct pty_spec *spec, int *master, pid_t *pid);

/* Tell the terminal (and so, by SIGWINCH, its programs) its new size. */
int pty_resize(int master, int cols, int rows);

/* The login shell that pty_spawn would run. */
const char *pty_user_shell(void);

#endif
