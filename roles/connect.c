/*
 * The bootstrap role: moshi connect [options] [user@]host [-- command...]
 *
 * Starts a server (over ssh, or here with --local), reads its MOSHI
 * CONNECT line, and becomes the client in this same process.
 */
#include "roles.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ssp/ssp.h"

#define BOOT_TIMEOUT_MS 60000

struct connect_opts {
	bool local, no_init, ssh_pty;
	const char *ssh, *server, *port, *predict, *family, *bind_server;
	const char *remote_ip_mode;
	const char *host;
	char **command;
};

static void connect_usage(FILE *f)
{
	fprintf(f,
	"usage: moshi connect [options] [user@]host [-- command...]\n"
	"  --local                run the server on this machine, no ssh\n"
	"  --ssh=CMD              ssh command to use (default: ssh)\n"
	"  --server=CMD           server command on the remote (default: moshi server)\n"
	"  -p, --port=PORT[:PORT2] server UDP port or range\n"
	"  --predict=adaptive|always|never|experimental, -a (always), -n (never)\n"
	"  -4, -6, --family=inet|inet6|auto|all|prefer-inet|prefer-inet6\n"
	"  --bind-server=ssh|any|IP   where the server listens\n"
	"  --no-ssh-pty, --no-init, --experimental-remote-ip=local|remote|proxy\n"
	"  --help, --version\n");
}

static const char *opt_value(const char *arg, const char *name, int *i, int argc,
                             char **argv)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int parse_connect(int argc, char **argv, struct connect_opts *o)
{
	o->ssh = "ssh";
	o->server = "moshi server";
	o->predict = "adaptive";
	o->ssh_pty = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				o->command = &argv[i + 1];
			break;
		} else if (strcmp(a, "--local") == 0) o->local = true;
		else if (strcmp(a, "--no-init") == 0) o->no_init = true;
		else if (strcmp(a, "--no-ssh-pty") == 0) o->ssh_pty = false;
		else if (strcmp(a, "-a") == 0) o->predict = "always";
		else if (strcmp(a, "-n") == 0) o->predict = "never";
		else if (strcmp(a, "-4") == 0) o->family = "inet";
		else if (strcmp(a, "-6") == 0) o->family = "inet6";
		else if ((v = opt_value(a, "--ssh", &i, argc, argv))) o->ssh = v;
		else if ((v = opt_value(a, "--server", &i, argc, argv))) o->server = v;
		else if ((v = opt_value(a, "--port", &i, argc, argv)) ||
		         (v = opt_value(a, "-p", &i, argc, argv))) o->port = v;
		else if ((v = opt_value(a, "--predict", &i, argc, argv))) {
			if (strcmp(v, "adaptive") && strcmp(v, "always") && strcmp(v, "never") &&
			    strcmp(v, "experimental")) {
				fprintf(stderr, "moshi connect: --predict takes adaptive, always, "
				                "never or experimental, not '%s'\n", v);
				return 2;
			}
			o->predict = v;
		} else if ((v = opt_value(a, "--family", &i, argc, argv))) o->family = v;
		else if ((v = opt_value(a, "--bind-server", &i, argc, argv))) o->bind_server = v;
		else if ((v = opt_value(a, "--experimental-remote-ip", &i, argc, argv)))
			o->remote_ip_mode = v;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			connect_usage(stdout);
			return 1;
		} else if (strcmp(a, "--version") == 0) {
			roles_print_version("moshi");
			return 1;
		} else if (a[0] == '-') {
			fprintf(stderr, "moshi connect: unknown option '%s'\n", a);
			connect_usage(stderr);
			return 2;
		} else if (o->host == NULL) {
			o->host = a;
		} else {
			fprintf(stderr, "moshi connect: one host only ('%s' and '%s'); a command "
			                "goes after --\n", o->host, a);
			return 2;
		}
	}
	if (o->host == NULL && !o->local) {
		connect_usage(stderr);
		return 2;
	}
	return 0;
}

/* Quote s for a POSIX shell on the remote side. */
static void shell_quote(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	if (n + 1 < cap)
		out[n++] = '\'';
	for (; *s && n + 5 < cap; s++) {
		if (*s == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *s;
		}
	}
	if (n + 1 < cap)
		out[n++] = '\'';
	out[n] = '\0';
}

/* Run argv with its stdout on a pipe; collect until a MOSHI CONNECT line
 * (or the end); fill port, key and ip. Returns 0, or 1 with a message. */
static int bootstrap(char **argv, char *port, char *key, char *ip, char *seen, size_t seenlen)
{
	int fds[2];
	if (pipe(fds) < 0) {
		perror("moshi connect: pipe");
		return 1;
	}
	pid_t p = fork();
	if (p < 0) {
		perror("moshi connect: fork");
		return 1;
	}
	if (p == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "moshi connect: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	uint64_t until = ssp_now_ms() + BOOT_TIMEOUT_MS;
	bool found = false;
	seen[0] = '\0';
	while (!found && ssp_now_ms() < until) {
		struct pollfd pf = { fds[0], POLLIN, 0 };
		if (poll(&pf, 1, 200) <= 0)
			continue;
		ssize_t k = read(fds[0], seen + n, seenlen - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		seen[n] = '\0';
		char *c = strstr(seen, "MOSHI CONNECT ");
		if (c != NULL && strchr(c, '\n') != NULL &&
		    sscanf(c, "MOSHI CONNECT %15s %63s", port, key) == 2)
			found = true;
		char *i = strstr(seen, "MOSHI IP ");
		if (i != NULL)
			sscanf(i, "MOSHI IP %63s", ip);
		if (n + 1 >= seenlen)
			break;
	}
	close(fds[0]);
	int status = 0;
	/* The server detaches: its first process ends at once. ssh ends
	 * when that process does. */
	for (int w = 0; w < 100 && waitpid(p, &status, WNOHANG) == 0; w++)
		poll(NULL, 0, 50);
	if (waitpid(p, &status, WNOHANG) == 0) {
		kill(p, SIGTERM);
		waitpid(p, &status, 0);
	}
	if (!found) {
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			fprintf(stderr, "moshi connect: %s exited with status %d before a "
			        "MOSHI CONNECT line\n", argv[0], WEXITSTATUS(status));
		else
			fprintf(stderr, "moshi connect: no MOSHI CONNECT line from %s\n", argv[0]);
		if (n > 0)
			fprintf(stderr, "moshi connect: it printed: %.*s\n", (int)(n > 400 ? 400 : n), seen);
		return 1;
	}
	return 0;
}

int roles_connect_main(int argc, char **argv)
{
	struct connect_opts o;
	char port[16] = "", key[64] = "", ip[64] = "", seen[8192];
	char *args[64];
	int na = 0, rc;

	memset(&o, 0, sizeof o);
	rc = parse_connect(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : rc;

	if (o.local) {
		static char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0) {
			fprintf(stderr, "moshi connect: cannot find this program (/proc/self/exe)\n");
			return 1;
		}
		self[n] = '\0';
		args[na++] = self;
		args[na++] = "server";
		args[na++] = "new";
		args[na++] = "-i";
		args[na++] = "127.0.0.1";
		if (o.port) {
			args[na++] = "-p";
			args[na++] = (char *)o.port;
		}
		if (o.command) {
			args[na++] = "--";
			for (int i = 0; o.command[i] && na < 62; i++)
				args[na++] = o.command[i];
		}
		args[na] = NULL;
		snprintf(ip, sizeof ip, "127.0.0.1");
	} else {
		/* ssh HOST -- <server> new -s [-p PORT] [-- 'cmd' 'args'...] */
		static char remote[8192];
		size_t r = 0;
		r += (size_t)snprintf(remote + r, sizeof remote - r, "%s new%s", o.server,
		                      o.bind_server && strcmp(o.bind_server, "any") == 0 ? "" : " -s");
		if (o.port)
			r += (size_t)snprintf(remote + r, sizeof remote - r, " -p %s", o.port);
		if (o.command) {
			r += (size_t)snprintf(remote + r, sizeof remote - r, " --");
			for (int i = 0; o.command[i] && r + 16 < sizeof remote; i++) {
				char q[1024];
				shell_quote(q, sizeof q, o.command[i]);
				r += (size_t)snprintf(remote + r, sizeof remote - r, " %s", q);
			}
		}
		/* --ssh may be a command with arguments ("ssh -p 2222"): the
		 * shell splits it, the rest are passed as they are. */
		static char runssh[4096];
		snprintf(runssh, sizeof runssh, "exec %s \"$@\"", o.ssh);
		args[na++] = "/bin/sh";
		args[na++] = "-c";
		args[na++] = runssh;
		args[na++] = "moshi-ssh";
		args[na++] = o.ssh_pty ? "-t" : "-T";
		args[na++] = (char *)o.host;
		args[na++] = "--";
		args[na++] = remote;
		args[na] = NULL;
	}
	if (bootstrap(args, port, key, ip, seen, sizeof seen) != 0)
		return 1;
	if (ip[0] == '\0') {
		/* No address from the server: use the host name, less user@. */
		const char *at = strrchr(o.host, '@');
		snprintf(ip, sizeof ip, "%s", at ? at + 1 : o.host);
	}
	setenv("MOSHI_KEY", key, 1);
	memset(key, 0, sizeof key);
	memset(seen, 0, sizeof seen);
	char *cargv[5];
	int nc = 0;
	cargv[nc++] = "moshi-client";
	if (o.no_init)
		cargv[nc++] = "--no-init";
	cargv[nc++] = ip;
	cargv[nc++] = port;
	cargv[nc] = NULL;
	return roles_client_main(nc, cargv);
}
