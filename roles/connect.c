/*
 * The bootstrap role: moshi connect [options] [user@]host [-- command...]
 *
 * Starts a server (over ssh, or here with --local), reads its MOSHI
 * CONNECT line, and becomes the client in this same process.
 */
#include "roles.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../crypto/crypto.h"
#include "../ssp/ssp.h"
#include "addr.h"
#include "carrier.h"
#include "predict.h"
#include "sessions.h"

/* Once the remote has said anything (ssh has done its work: host key,
 * password, 2FA), the server must be up within this. Before that, ssh
 * is in charge, however long the user takes to answer it. */
#define BOOT_TIMEOUT_MS 60000

/* BOOT_TIMEOUT_MS, or MOSHI_CONNECT_TMOUT seconds when set. */
static uint64_t boot_timeout_ms(void)
{
	long s = roles_env_count("MOSHI_CONNECT_TMOUT");
	return s > 0 ? (uint64_t)s * 1000 : BOOT_TIMEOUT_MS;
}

enum remote_ip { REMOTE_IP_PROXY, REMOTE_IP_LOCAL, REMOTE_IP_REMOTE };

struct connect_opts {
	bool local, no_init, alt_screen, upload, predict_set, verbose;
	bool attach;  /* moshi attach HOST [ID]: command is the ID, if any */
	const char *listing; /* moshi ls HOST, moshi kill HOST ID...: the role */
	const char *reap; /* --reap: the server's -r */
	const char *carrier; /* --carrier: auto, udp or ssh */
	const char *ssh, *server, *client, *port, *predict, *bind_server;
	enum addr_family family;
	enum remote_ip remote_ip;
	const char *host;
	char **command;
};

static void connect_usage(FILE *f)
{
	fprintf(f,
	"usage: moshi [connect] [options] [user@]host [command...]\n"
	"  --local                run the server on this machine, no ssh\n"
	"  --ssh=CMD              ssh command to use (default: ssh)\n"
	"  --server=CMD           the moshi to run on the remote (default: found or\n"
	"                         uploaded; a path to a moshi binary, or CMD that takes\n"
	"                         'new' as moshi-server does)\n"
	"  --client=PATH          the moshi to run here as the client\n"
	"  -p, --port=PORT[:PORT2] server UDP port or range\n"
	"  --predict=adaptive|always|never|experimental, -a (always), -n (never)\n"
	"  -4, -6, --family=inet|inet6|auto|all|prefer-inet|prefer-inet6\n"
	"  --experimental-remote-ip=proxy|local|remote   how to find the address to\n"
	"                         dial (default proxy: the one ssh connected to)\n"
	"  --bind-server=ssh|any|IP   where the server listens\n"
	"  --carrier=auto|udp|ssh  how datagrams travel: UDP, falling back to the ssh\n"
	"                         connection when UDP is blocked (auto), or only one\n"
	"  --reap=SECONDS         end the session after that long without a client\n"
	"                         (default a week; 0: never)\n"
	"  --no-upload            never copy this moshi to the host (by default it is\n"
	"                         uploaded to ~/.cache/moshi/ when the host lacks it)\n"
	"  -v                     say which address is dialled, and why\n"
	"  --alternate-screen     draw on the terminal's alternate screen, with no\n"
	"                         history in the terminal (as mosh)\n"
	"  --no-ssh-pty, --no-init, --help, --version\n");
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

static int bad_value(const char *opt, const char *v, const char *want)
{
	fprintf(stderr, "moshi connect: %s takes %s, not '%s'\n", opt, want, v);
	return MOSHI_EXIT_USAGE;
}

/* One option at argv[*i]: 0 taken, 1 help or version printed, 2 bad,
 * -1 not an option. */
static int connect_option(int argc, char **argv, int *i, struct connect_opts *o)
{
	const char *a = argv[*i], *v;
	int lo, hi;
	if (strcmp(a, "--local") == 0) o->local = true;
	else if (strcmp(a, "--no-init") == 0) o->no_init = true;
	else if (strcmp(a, "--alternate-screen") == 0) o->alt_screen = true;
	else if (strcmp(a, "--no-ssh-pty") == 0) {
		/* moshi's ssh never has a pty (its input carries the
		 * upload): accepted for mosh users, nothing to change */
	}
	else if (strcmp(a, "--no-upload") == 0) o->upload = false;
	else if (strcmp(a, "-v") == 0) o->verbose = true;
	else if (strcmp(a, "-a") == 0) o->predict = "always", o->predict_set = true;
	else if (strcmp(a, "-n") == 0) o->predict = "never", o->predict_set = true;
	else if (strcmp(a, "-4") == 0) o->family = ADDR_INET;
	else if (strcmp(a, "-6") == 0) o->family = ADDR_INET6;
	else if ((v = opt_value(a, "--ssh", i, argc, argv))) o->ssh = v;
	else if ((v = opt_value(a, "--server", i, argc, argv))) o->server = v;
	else if ((v = opt_value(a, "--client", i, argc, argv))) o->client = v;
	else if ((v = opt_value(a, "--port", i, argc, argv)) ||
	         (v = opt_value(a, "-p", i, argc, argv))) {
		if (roles_parse_ports(v, &lo, &hi) != 0)
			return bad_value("--port", v, "a UDP port or range PORT:PORT2 (0-65535)");
		o->port = v;
	} else if ((v = opt_value(a, "--predict", i, argc, argv))) {
		enum predict_mode m;
		if (predict_mode_parse(v, &m) != 0)
			return bad_value("--predict", v, "adaptive, always, never or experimental");
		o->predict = v;
		o->predict_set = true;
	} else if ((v = opt_value(a, "--family", i, argc, argv))) {
		if (addr_family_parse(v, &o->family) != 0)
			return bad_value("--family", v,
			                 "inet, inet6, auto, all, prefer-inet or prefer-inet6");
	} else if ((v = opt_value(a, "--reap", i, argc, argv))) {
		char *end;
		long r = strtol(v, &end, 10);
		if (end == v || *end != '\0' || r < 0)
			return bad_value("--reap", v, "seconds without a client (0: never)");
		o->reap = v;
	} else if ((v = opt_value(a, "--carrier", i, argc, argv))) {
		enum carrier_mode m;
		if (carrier_mode_parse(v, &m) != 0)
			return bad_value("--carrier", v, "auto, udp or ssh");
		o->carrier = v;
	} else if ((v = opt_value(a, "--bind-server", i, argc, argv))) {
		unsigned char ip[16];
		if (strcmp(v, "ssh") != 0 && strcmp(v, "any") != 0 &&
		    inet_pton(AF_INET, v, ip) != 1 && inet_pton(AF_INET6, v, ip) != 1)
			return bad_value("--bind-server", v, "ssh, any or an IP address");
		o->bind_server = v;
	} else if ((v = opt_value(a, "--experimental-remote-ip", i, argc, argv))) {
		if (strcmp(v, "proxy") == 0) o->remote_ip = REMOTE_IP_PROXY;
		else if (strcmp(v, "local") == 0) o->remote_ip = REMOTE_IP_LOCAL;
		else if (strcmp(v, "remote") == 0) o->remote_ip = REMOTE_IP_REMOTE;
		else return bad_value("--experimental-remote-ip", v, "proxy, local or remote");
	} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		connect_usage(stdout);
		return 1;
	} else if (strcmp(a, "--version") == 0) {
		roles_print_version("moshi");
		return 1;
	} else if (a[0] == '-') {
		fprintf(stderr, "moshi connect: unknown option '%s'\n", a);
		connect_usage(stderr);
		return MOSHI_EXIT_USAGE;
	} else {
		return -1;
	}
	return 0;
}

/* The client's arguments for this connect: cargv[0..] with ip and port
 * last (filled in later); returns how many. */
static int client_args(const struct connect_opts *o, char **cargv, char *predict_opt,
                       size_t n)
{
	int nc = 0;
	cargv[nc++] = "moshi-client";
	if (o->no_init)
		cargv[nc++] = "--no-init";
	if (o->alt_screen)
		cargv[nc++] = "--alternate-screen";
	/* --predict (or -a, -n) wins over MOSHI_PREDICTION_DISPLAY. */
	if (o->predict_set) {
		snprintf(predict_opt, n, "--predict=%s", o->predict);
		cargv[nc++] = predict_opt;
	}
	cargv[nc++] = "HOST";
	cargv[nc++] = "PORT";
	cargv[nc] = NULL;
	return nc;
}

/*
 * mosh's command line: options, then [user@]host, then the command, with
 * or without "--" before it (everything after the host is the command).
 * Every value, and the client's environment (MOSHI_PREDICTION_DISPLAY),
 * is checked here, before anything starts.
 */
static int parse_connect(int argc, char **argv, struct connect_opts *o)
{
	o->ssh = "ssh";
	o->predict = "adaptive";
	o->upload = true;
	o->family = ADDR_PREFER_INET;
	o->remote_ip = REMOTE_IP_PROXY;
	int i;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		int rc = connect_option(argc, argv, &i, o);
		if (rc > 0)
			return rc;
		if (rc < 0)
			break; /* the host */
	}
	if (i < argc && !o->local)
		o->host = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i < argc)
		o->command = &argv[i];
	if (o->host == NULL && !o->local) {
		connect_usage(stderr);
		return MOSHI_EXIT_USAGE;
	}
	if (o->host != NULL && o->host[0] == '-') {
		fprintf(stderr, "moshi connect: '%s' is not a host name\n", o->host);
		return MOSHI_EXIT_USAGE;
	}
	/* The client's own checks (its environment included). */
	char *cargv[8], popt[64];
	int nc = client_args(o, cargv, popt, sizeof popt);
	if (roles_client_parse(nc, cargv) != 0)
		return MOSHI_EXIT_USAGE;
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

/* What the remote side said while starting: the MOSHI lines. */
struct boot {
	char port[16], key[64], ip[64];
	char arch[64];          /* "MOSHI ARCH m": the host is another machine */
	bool missing;           /* "MOSHI MISSING": no moshi, and --no-upload */
	bool upload_failed;     /* "MOSHI UPLOAD-FAILED" */
	bool uploaded;
	char detached[160];     /* "MOSHI DETACHED ID...": the user's, there */
	char session[16];       /* "MOSHI SESSION ID": the new session's */
	char seen[8192];
	size_t n;
};

/* Copy this very program into fd (the remote's stdin); 0 or -1. */
static int upload_self(int fd, const char *host)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0) {
		fprintf(stderr, "moshi connect: cannot read this program (/proc/self/exe): %s\n",
		        strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	fprintf(stderr, "moshi: uploading moshi %s (%lld KB) to %s...\n", MOSHI_VERSION,
	        (long long)(st.st_size + 1023) / 1024, host);
	char buf[65536];
	ssize_t k;
	int rc = 0;
	while (rc == 0 && (k = read(in, buf, sizeof buf)) > 0)
		rc = roles_write_all(fd, buf, (size_t)k);
	close(in);
	return rc;
}

/* Scan what arrived for the MOSHI lines. Returns true once the CONNECT
 * line is complete. */
static bool scan_boot(struct boot *b)
{
	char *c = strstr(b->seen, "MOSHI CONNECT ");
	char *i = strstr(b->seen, "MOSHI IP ");
	char *a = strstr(b->seen, "MOSHI ARCH ");
	if (i != NULL)
		sscanf(i, "MOSHI IP %63s", b->ip);
	if (a != NULL && strchr(a, '\n') != NULL)
		sscanf(a, "MOSHI ARCH %63s", b->arch);
	if (strstr(b->seen, "MOSHI MISSING\n") != NULL)
		b->missing = true;
	if (strstr(b->seen, "MOSHI UPLOAD-FAILED\n") != NULL)
		b->upload_failed = true;
	char *sid = strstr(b->seen, "MOSHI SESSION ");
	if (sid != NULL && strchr(sid, '\n') != NULL)
		sscanf(sid, "MOSHI SESSION %15s", b->session);
	char *d = strstr(b->seen, "MOSHI DETACHED ");
	if (d != NULL && strchr(d, '\n') != NULL)
		snprintf(b->detached, sizeof b->detached, "%.*s", (int)strcspn(d + 15, "\r\n"),
		         d + 15);
	return c != NULL && strchr(c, '\n') != NULL &&
	       sscanf(c, "MOSHI CONNECT %15s %63s", b->port, b->key) == 2;
}

/* The names of the roles, for a hint when one was taken as a host. */
static const char *const role_names[] = { "connect", "server", "serve", "client", NULL };

/* Levenshtein distance, up to 3 (more is "far"). */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 3;
	int d[33][33];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb] > 3 ? 3 : d[la][lb];
}

/* ssh could not reach host: if the word looks like a role name typed
 * wrong, say so. */
static void role_hint(const char *host)
{
	for (int i = 0; role_names[i]; i++)
		if (strchr(host, '@') == NULL && distance(host, role_names[i]) <= 2) {
			fprintf(stderr, "moshi: '%s' was taken as a host name: did you mean "
			        "'moshi %s'?\n", host, role_names[i]);
			return;
		}
}

/*
 * Run argv with its stdin and stdout on pipes; collect its output until a
 * MOSHI CONNECT line (or the end), sending this program when it asks with
 * a MOSHI UPLOAD line. `what` names the command for messages (the ssh
 * the user gave, or the local server). The BOOT_TIMEOUT_MS clock starts
 * with the remote's first byte: until then ssh may be asking the user
 * something. Returns 0, or MOSHI_EXIT_SSH after saying what went wrong.
 */
/* Start ssh (argv) with a pipe to its stdin (*to) and one from its
 * stdout (*from): its pid, or -1 after saying why. */
static pid_t spawn_ssh(char **argv, int *to, int *from)
{
	int out[2], in[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0) {
		perror("moshi connect: pipe");
		return -1;
	}
	pid_t p = fork();
	if (p < 0) {
		perror("moshi connect: fork");
		return -1;
	}
	if (p == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execvp(argv[0], argv);
		fprintf(stderr, "moshi connect: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	*to = in[1];
	*from = out[0];
	return p;
}

/* The boot script asked for this program (its MOSHI UPLOAD line): send
 * it, once, and end the remote's stdin. */
static void upload_asked(int *to, const char *host, bool *uploaded)
{
	uint64_t t0 = ssp_now_ms();
	*uploaded = true;
	if (upload_self(*to, host) == 0)
		fprintf(stderr, "moshi: uploaded in %.1f s\n", (double)(ssp_now_ms() - t0) / 1000.0);
	close(*to);
	*to = -1;
}

static int bootstrap(char **argv, const char *what, const char *host, struct boot *b)
{
	int to, from;
	pid_t p = spawn_ssh(argv, &to, &from);
	if (p < 0)
		return MOSHI_EXIT_ERROR;
	/* A remote that goes away mid-upload must not kill us. */
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	uint64_t until = UINT64_MAX;
	bool found = false, timed_out = false;
	b->n = 0;
	b->seen[0] = '\0';
	while (!found) {
		if (ssp_now_ms() >= until) {
			timed_out = true;
			break;
		}
		struct pollfd pf = { from, POLLIN, 0 };
		if (poll(&pf, 1, 200) <= 0)
			continue;
		ssize_t k = read(from, b->seen + b->n, sizeof b->seen - 1 - b->n);
		if (k <= 0)
			break;
		if (until == UINT64_MAX)
			until = ssp_now_ms() + boot_timeout_ms();
		b->n += (size_t)k;
		b->seen[b->n] = '\0';
		found = scan_boot(b);
		if (!b->uploaded && to >= 0 && strstr(b->seen, "MOSHI UPLOAD\n") != NULL) {
			upload_asked(&to, host, &b->uploaded);
			until = ssp_now_ms() + boot_timeout_ms();
		}
		if (b->n + 1 >= sizeof b->seen)
			break;
	}
	if (to >= 0)
		close(to);
	close(from);
	signal(SIGPIPE, old_pipe);
	int status = 0;
	/* The server detaches: its first process ends at once. ssh ends
	 * when that process does, a few milliseconds after the CONNECT
	 * line: look every 2 ms for a second (the session starts no sooner
	 * than this), then every 50 ms up to 5 s in all. */
	for (int w = 0; w < 580 && waitpid(p, &status, WNOHANG) == 0; w++)
		poll(NULL, 0, w < 500 ? 2 : 50);
	if (waitpid(p, &status, WNOHANG) == 0) {
		kill(p, SIGTERM);
		waitpid(p, &status, 0);
	}
	if (found)
		return 0;
	struct utsname u;
	if (b->arch[0] != '\0' && uname(&u) == 0)
		fprintf(stderr, "moshi connect: %s is a %s machine and this moshi is built for %s: "
		        "install moshi for %s there, or name it with --server=CMD\n",
		        host, b->arch, u.machine, b->arch);
	else if (b->missing)
		fprintf(stderr, "moshi connect: %s has no moshi %s (not on PATH, not in "
		        "~/.cache/moshi) and --no-upload is set: install it there, or drop "
		        "--no-upload\n", host, MOSHI_VERSION);
	else if (b->upload_failed)
		fprintf(stderr, "moshi connect: the upload to %s failed: is the remote home full, "
		        "or mounted noexec? (--server=CMD names a moshi to use instead)\n", host);
	else if (timed_out)
		fprintf(stderr, "moshi connect: the server did not start on %s within %llu s of "
		        "%s logging in\n", host, (unsigned long long)boot_timeout_ms() / 1000, what);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 255) {
		fprintf(stderr, "moshi connect: %s failed (status 255): see its message above\n",
		        what);
		role_hint(host);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		fprintf(stderr, "moshi connect: %s exited with status %d before the server "
		        "started\n", what, WEXITSTATUS(status));
	else
		fprintf(stderr, "moshi connect: the server did not start: no MOSHI CONNECT "
		        "line from %s\n", what);
	if (b->n > 0 && b->arch[0] == '\0' && !b->missing)
		fprintf(stderr, "moshi connect: it printed: %.*s\n",
		        (int)(b->n > 400 ? 400 : b->n), b->seen);
	return MOSHI_EXIT_SSH;
}

/*
 * The script the remote login shell runs (as sh -c): use a moshi of this
 * version if the host has one (on PATH, or uploaded earlier), else check
 * the machine type and ask for this binary with a MOSHI UPLOAD line, read
 * exactly its size from stdin into ~/.cache/moshi/moshi-VERSION (through a
 * temporary name, checked by running it), then start the server. The
 * printf arguments: version, machine, size, upload allowed, server args.
 */
static const char boot_script[] =
	"echo 'MOSHI BOOT'\n"
	"v=%s a=%s n=%lld up=%d\n"
	"d=\"${HOME:-.}/.cache/moshi\"; b=\"$d/moshi-$v\"\n"
	"ok() { [ -x \"$1\" ] && [ \"$(\"$1\" --version 2>/dev/null | cut -d' ' -f1-2)\" = \"moshi $v\" ]; }\n"
	"if p=$(command -v moshi 2>/dev/null) && ok \"$p\"; then b=$p\n"
	"elif ok \"$b\"; then :\n"
	"elif [ \"$(uname -m)\" != \"$a\" ]; then echo \"MOSHI ARCH $(uname -m)\"; exit 1\n"
	"elif [ \"$up\" = 0 ]; then echo 'MOSHI MISSING'; exit 1\n"
	"else t=\"$b.$$\"\n"
	"  if mkdir -p \"$d\" && echo 'MOSHI UPLOAD' && head -c \"$n\" > \"$t\" &&\n"
	"     chmod 755 \"$t\" && ok \"$t\" && mv -f \"$t\" \"$b\"; then :\n"
	"  else rm -f \"$t\"; echo 'MOSHI UPLOAD-FAILED'; exit 1; fi\n"
	"fi\n"
	"exec \"$b\" %s\n";

/* Append fmt to buf at *r, never past cap. */
static void append(char *buf, size_t cap, size_t *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *r, const char *fmt, ...)
{
	va_list ap;
	if (*r >= cap)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *r, cap - *r, fmt, ap);
	va_end(ap);
	if (k > 0)
		*r = *r + (size_t)k < cap ? *r + (size_t)k : cap;
}

/* The arguments after "server new" on the remote, quoted for its shell. */
static void server_args(char *out, size_t cap, const struct connect_opts *o)
{
	size_t r = 0;
	out[0] = '\0';
	if (o->bind_server == NULL || strcmp(o->bind_server, "ssh") == 0) {
		append(out, cap, &r, "-s");
	} else if (strcmp(o->bind_server, "any") != 0) {
		char q[256];
		shell_quote(q, sizeof q, o->bind_server);
		append(out, cap, &r, "-i %s", q);
	}
	if (o->port) {
		char q[64];
		shell_quote(q, sizeof q, o->port);
		append(out, cap, &r, " -p %s", q);
	}
	if (o->reap)
		append(out, cap, &r, " -r %s", o->reap);
	if (o->command) {
		append(out, cap, &r, " --");
		for (int i = 0; o->command[i]; i++) {
			char q[1024];
			shell_quote(q, sizeof q, o->command[i]);
			append(out, cap, &r, " %s", q);
		}
	}
}

int roles_connect_parse(int argc, char **argv)
{
	struct connect_opts o;
	memset(&o, 0, sizeof o);
	return parse_connect(argc, argv, &o);
}

/* Run `SSH -G host` (OpenSSH's resolved configuration): the host name
 * it would connect to, and whether it goes through a ProxyCommand or
 * ProxyJump of the user's. False when ssh would not say (not OpenSSH). */
struct ssh_cfg {
	char hostname[256];
	bool proxied;
};

static bool ssh_config(const struct connect_opts *o, struct ssh_cfg *c)
{
	char runssh[4096];
	int fd[2];
	memset(c, 0, sizeof *c);
	snprintf(runssh, sizeof runssh, "exec %s \"$@\"", o->ssh);
	if (pipe2(fd, O_CLOEXEC) < 0)
		return false;
	pid_t p = fork();
	if (p < 0) {
		close(fd[0]);
		close(fd[1]);
		return false;
	}
	if (p == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(fd[1], 1);
		dup2(null, 2);
		execl("/bin/sh", "sh", "-c", runssh, "moshi-ssh", "-G", o->host, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	static char buf[65536];
	size_t n = 0;
	ssize_t k;
	while (n + 1 < sizeof buf && (k = read(fd[0], buf + n, sizeof buf - 1 - n)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	close(fd[0]);
	int status;
	while (waitpid(p, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return false;
	bool named = false;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "hostname ", 9) == 0)
			named = snprintf(c->hostname, sizeof c->hostname, "%s", line + 9) > 0;
		else if ((strncmp(line, "proxycommand ", 13) == 0 && strcmp(line + 13, "none") != 0) ||
		         (strncmp(line, "proxyjump ", 10) == 0 && strcmp(line + 10, "none") != 0))
			c->proxied = true;
	}
	return named;
}

/* A private directory for the proxy's report (0700, this user's):
 * path and file are filled in; false if none could be made. */
static bool report_file(char *dir, size_t dn, char *file, size_t fn)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, dn, "%s/moshi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return false;
	snprintf(file, fn, "%s/addr", dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rmdir(dir);
		return false;
	}
	close(fd);
	return true;
}

/* One word of a ProxyCommand: quoted for the shell ssh hands the line
 * to, with ssh's % escaped. */
static void proxy_word(char *out, size_t cap, const char *word)
{
	char q[8300];
	shell_quote(q, sizeof q, word);
	size_t r = 0;
	for (const char *c = q; *c && r + 3 < cap; c++) {
		if (*c == '%')
			out[r++] = '%';
		out[r++] = *c;
	}
	out[r] = '\0';
}

/* ssh's ProxyCommand that runs this very binary as the proxy. */
static void proxy_command(char *out, size_t cap, enum addr_family f, const char *report)
{
	char self[4096], s[8300], r[8600], opt[4300];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	proxy_word(s, sizeof s, self);
	snprintf(opt, sizeof opt, "--report=%.4200s", report);
	proxy_word(r, sizeof r, opt);
	snprintf(out, cap, "ProxyCommand=%.8290s proxy --family=%s %.8590s %%h %%p", s,
	         addr_family_name(f), r);
}

/* The address to dial, by the chosen method; false after saying why
 * there is none. `via` says where it came from, for -v. */
static bool dial_address(const struct connect_opts *o, const struct ssh_cfg *cfg,
                         enum remote_ip how, const char *reported, const struct boot *b,
                         char *ip, size_t n, const char **via)
{
	if (how == REMOTE_IP_PROXY && reported[0] != '\0') {
		snprintf(ip, n, "%s", reported);
		*via = "the address ssh connected to";
		return true;
	}
	if (how != REMOTE_IP_REMOTE) {
		/* Resolve here what ssh would connect to. */
		const char *at = strrchr(o->host, '@');
		const char *name = cfg->hostname[0] ? cfg->hostname : at ? at + 1 : o->host;
		struct addr_list l;
		char err[512];
		if (addr_resolve(name, NULL, SOCK_DGRAM, o->family, &l, err, sizeof err) == 0) {
			addr_text(l.v[0]->ai_addr, ip, n);
			addr_free(&l);
			*via = how == REMOTE_IP_LOCAL ? "resolved here (--experimental-remote-ip=local)"
			                              : "resolved here (ssh did not run the proxy)";
			return true;
		}
		if (how == REMOTE_IP_LOCAL) {
			fprintf(stderr, "moshi connect: %s\n", err);
			return false;
		}
	}
	if (b->ip[0] != '\0') {
		snprintf(ip, n, "%s", b->ip);
		*via = "the server's SSH_CONNECTION";
		return true;
	}
	fprintf(stderr, "moshi connect: no address for %s: ssh did not say which it used, "
	        "and the server did not say its own\n", o->host);
	return false;
}

/* Become the client: this process, or the --client program. */
static int run_client_role(const struct connect_opts *o, const char *ip, const char *port)
{
	char *cargv[10], popt[64];
	int nc = client_args(o, cargv, popt, sizeof popt);
	cargv[nc - 2] = (char *)ip;
	cargv[nc - 1] = (char *)port;
	if (o->client == NULL)
		return roles_client_main(nc, cargv);
	/* A moshi binary takes "client" first, unless installed as
	 * moshi-client. */
	char *xargv[12];
	int nx = 0;
	const char *base = strrchr(o->client, '/');
	base = base ? base + 1 : o->client;
	xargv[nx++] = (char *)o->client;
	if (strcmp(base, "moshi-client") != 0)
		xargv[nx++] = "client";
	for (int i = 1; i <= nc; i++)
		xargv[nx++] = cargv[i];
	execvp(o->client, xargv);
	fprintf(stderr, "moshi connect: cannot run --client=%s: %s\n", o->client, strerror(errno));
	return MOSHI_EXIT_ERROR;
}

/* The remote command for a --server the user named: a moshi binary (or
 * "moshi server") takes "server new", moshi-server takes "new". */
static void named_server(char *out, size_t cap, const char *server, const char *sargs)
{
	const char *last = strrchr(server, ' ');
	last = last ? last + 1 : server;
	const char *base = strrchr(last, '/');
	base = base ? base + 1 : last;
	const char *verb = strcmp(base, "server") == 0 || strcmp(base, "moshi-server") == 0 ||
	                   strcmp(base, "mosh-server") == 0 ? "new"
	                 : strcmp(base, "serve") == 0 ? "" : "server new";
	snprintf(out, cap, "echo 'MOSHI BOOT'; %s %s %s", server, verb, sargs);
}

/* What the remote moshi runs: "server new ARGS", for an attach "attach
 * --print [ID]", for ls and kill that role and its IDs. */
static void remote_role(char *out, size_t cap, const struct connect_opts *o)
{
	if (o->listing) {
		size_t r = 0;
		append(out, cap, &r, "%s", o->listing);
		for (int i = 0; o->command && o->command[i]; i++)
			if (sessions_is_id(o->command[i]))
				append(out, cap, &r, " %s", o->command[i]);
		return;
	}
	if (!o->attach) {
		int k = snprintf(out, cap, "server new ");
		server_args(out + k, cap - (size_t)k, o);
		return;
	}
	snprintf(out, cap, "attach --print%s%s", o->command ? " " : "",
	         o->command ? o->command[0] : "");
}

/* ls or kill on the host: ssh runs the boot script, with its upload
 * (a moshi of another version there may have made sessions this one
 * reads), and what the remote role prints is passed on; its exit status
 * is returned. */
static int pass_through(char **argv, const char *host, const char *role)
{
	int to, from;
	pid_t p = spawn_ssh(argv, &to, &from);
	if (p < 0)
		return MOSHI_EXIT_ERROR;
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	FILE *f = fdopen(from, "r");
	char line[1024];
	bool missing = false, uploaded = false;
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (strcmp(line, "MOSHI UPLOAD\n") == 0 && !uploaded)
			upload_asked(&to, host, &uploaded);
		else if (strncmp(line, "MOSHI ", 6) == 0) /* MISSING, ARCH, UPLOAD-FAILED */
			missing |= strcmp(line, "MOSHI BOOT\n") != 0;
		else
			fputs(line, stdout);
	}
	if (to >= 0)
		close(to);
	signal(SIGPIPE, old_pipe);
	if (f != NULL)
		fclose(f);
	else
		close(from);
	int status = 0;
	waitpid(p, &status, 0);
	if (missing) {
		fprintf(stderr, "moshi %s: %s has no moshi %s, so no sessions\n", role, host,
		        MOSHI_VERSION);
		return strcmp(role, "ls") == 0 ? MOSHI_EXIT_OK : MOSHI_EXIT_ERROR;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 255)
		return MOSHI_EXIT_SSH;
	return WIFEXITED(status) ? WEXITSTATUS(status) : MOSHI_EXIT_ERROR;
}

/* The command the client runs when UDP is blocked (MOSHI_RELAY): ssh to
 * the host again, in BatchMode (nobody can answer it then), running the
 * remote moshi's relay to session id; on this machine (--local), the
 * relay itself. */
static void relay_command(char *out, size_t cap, const struct connect_opts *o,
                          const char *self, const char *id)
{
	char script[4096], remote[8192], q[8192];
	size_t r = 0;
	out[0] = '\0';
	if (o->local) {
		shell_quote(q, sizeof q, self);
		snprintf(out, cap, "exec %s relay %s", q, id);
		return;
	}
	if (o->server != NULL) {
		snprintf(script, sizeof script, "exec %.*s relay %s", (int)strcspn(o->server, " "),
		         o->server, id);
	} else {
		struct stat st;
		struct utsname u;
		char role[32];
		if (stat("/proc/self/exe", &st) < 0 || uname(&u) < 0)
			return;
		snprintf(role, sizeof role, "relay %s", id);
		snprintf(script, sizeof script, boot_script, MOSHI_VERSION, u.machine,
		         (long long)st.st_size, 0, role);
	}
	append(remote, sizeof remote, &r, "sh -c ");
	shell_quote(remote + r, sizeof remote - r, script);
	r = 0;
	append(out, cap, &r, "exec %s -T -o BatchMode=yes -o ConnectTimeout=15 "
	       "-o ServerAliveInterval=5 -o ServerAliveCountMax=3%s ", o->ssh,
	       o->family == ADDR_INET ? " -4" : o->family == ADDR_INET6 ? " -6" : "");
	shell_quote(q, sizeof q, o->host);
	append(out, cap, &r, "%s -- ", q);
	shell_quote(q, sizeof q, remote);
	append(out, cap, &r, "%s", q);
}

static int connect_main(int argc, char **argv, bool attach, const char *listing)
{
	struct connect_opts o;
	static struct boot b;
	char *args[64];
	int na = 0, rc;
	const char *host = "this machine", *what;
	static char report_dir[4096], report[4200];
	bool proxied = false;
	struct ssh_cfg cfg;
	memset(&cfg, 0, sizeof cfg);

	memset(&o, 0, sizeof o);
	memset(&b, 0, sizeof b);
	rc = parse_connect(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	o.attach = attach;
	o.listing = listing;
	if (attach && (o.local || (o.command && (o.command[1] || !sessions_is_id(o.command[0]))))) {
		fprintf(stderr, "usage: moshi attach [options] [user@]host [ID] (an ID is eight "
		        "hex digits, as moshi ls shows)\n");
		return MOSHI_EXIT_USAGE;
	}
	for (int i = 0; listing && o.command && o.command[i]; i++)
		if (strcmp(listing, "ls") == 0 || !sessions_is_id(o.command[i])) {
			fprintf(stderr, "usage: moshi ls [options] [user@]host | moshi kill [options] "
			        "[user@]host ID... | moshi kill [options] [user@]host --detached\n");
			return MOSHI_EXIT_USAGE;
		}


	if (o.local) {
		static char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0) {
			fprintf(stderr, "moshi connect: cannot find this program (/proc/self/exe)\n");
			return MOSHI_EXIT_ERROR;
		}
		self[n] = '\0';
		what = "the local server";
		args[na++] = self;
		args[na++] = "server";
		args[na++] = "new";
		args[na++] = "-i";
		args[na++] = "127.0.0.1";
		if (o.port) {
			args[na++] = "-p";
			args[na++] = (char *)o.port;
		}
		if (o.reap) {
			args[na++] = "-r";
			args[na++] = (char *)o.reap;
		}
		if (o.command) {
			args[na++] = "--";
			for (int i = 0; o.command[i] && na < 62; i++)
				args[na++] = o.command[i];
		}
		args[na] = NULL;
		snprintf(b.ip, sizeof b.ip, "127.0.0.1");
	} else {
		static char sargs[8192], script[12288], remote[32768];
		static char runssh[4096], proxyopt[20000];
		host = o.host;
		what = o.ssh;
		remote_role(sargs, sizeof sargs, &o);
		if (o.server != NULL && (o.attach || o.listing)) {
			/* The moshi the user named, its first word. */
			snprintf(script, sizeof script, "echo 'MOSHI BOOT'; %.*s %s",
			         (int)strcspn(o.server, " "), o.server, sargs);
		} else if (o.server != NULL) {
			/* The user named the server: no lookup, no upload. */
			server_args(sargs, sizeof sargs, &o);
			named_server(script, sizeof script, o.server, sargs);
		} else {
			struct stat st;
			struct utsname u;
			if (stat("/proc/self/exe", &st) < 0 || uname(&u) < 0) {
				fprintf(stderr, "moshi connect: cannot read this program "
				        "(/proc/self/exe): %s\n", strerror(errno));
				return MOSHI_EXIT_ERROR;
			}
			snprintf(script, sizeof script, boot_script, MOSHI_VERSION, u.machine,
			         (long long)st.st_size, o.upload ? 1 : 0, sargs);
		}
		size_t r = 0;
		append(remote, sizeof remote, &r, "sh -c ");
		shell_quote(remote + r, sizeof remote - r, script);
		/* The address to dial is the one ssh reaches: this binary
		 * is its ProxyCommand and says which. Not where the user's
		 * own configuration proxies ssh (through a jump host the
		 * address means nothing here). */
		/* (ls and kill dial nothing: no address to find.) */
		bool have_cfg = !o.listing && o.remote_ip != REMOTE_IP_REMOTE &&
		                ssh_config(&o, &cfg);
		if (o.remote_ip == REMOTE_IP_PROXY && have_cfg && !cfg.proxied &&
		    report_file(report_dir, sizeof report_dir, report, sizeof report)) {
			proxy_command(proxyopt, sizeof proxyopt, o.family, report);
			proxied = true;
		}
		if (o.verbose && o.remote_ip == REMOTE_IP_PROXY && !proxied && !o.listing)
			fprintf(stderr, "moshi: %s: not using moshi as ssh's ProxyCommand\n",
			        !have_cfg ? "ssh -G said nothing" :
			        cfg.proxied ? "ssh's configuration has its own ProxyCommand or ProxyJump"
			                    : "no private directory for its report");
		/* --ssh may be a command with arguments ("ssh -p 2222"): the
		 * shell splits it, the rest are passed as they are. No pty for
		 * the bootstrap: its stdin carries the upload, byte for byte. */
		snprintf(runssh, sizeof runssh, "exec %s \"$@\"", o.ssh);
		args[na++] = "/bin/sh";
		args[na++] = "-c";
		args[na++] = runssh;
		args[na++] = "moshi-ssh";
		args[na++] = "-T";
		if (proxied) {
			args[na++] = "-o";
			args[na++] = proxyopt;
		} else if (o.family == ADDR_INET || o.family == ADDR_INET6) {
			args[na++] = o.family == ADDR_INET ? "-4" : "-6";
		}
		args[na++] = (char *)o.host;
		args[na++] = "--";
		args[na++] = remote;
		args[na] = NULL;
	}
	if (listing)
		return pass_through(args, host, listing);
	rc = bootstrap(args, what, host, &b);
	char reported[128] = "";
	if (proxied) {
		int fd = open(report, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, reported, sizeof reported - 1);
			reported[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		unlink(report);
		rmdir(report_dir);
	}
	if (rc != 0)
		return rc;
	static char ip[128];
	const char *via = "the local server";
	if (o.local)
		snprintf(ip, sizeof ip, "%s", b.ip);
	else if (!dial_address(&o, &cfg, o.remote_ip, reported, &b, ip, sizeof ip, &via))
		return MOSHI_EXIT_SSH;
	if (o.verbose)
		fprintf(stderr, "moshi: dialling %s port %s: %s\n", ip, b.port, via);
	if (b.detached[0] && !o.attach)
		fprintf(stderr, "moshi: detached sessions on %s: %s (moshi attach %s%sID takes "
		        "one over)\n", o.local ? "this machine" : o.host, b.detached,
		        o.local ? "" : o.host, o.local ? "" : " ");
	if (b.session[0] && sessions_is_id(b.session)) {
		static char relay[20000];
		relay_command(relay, sizeof relay, &o, args[0], b.session);
		if (relay[0])
			setenv("MOSHI_RELAY", relay, 1);
	}
	if (o.carrier)
		setenv("MOSHI_CARRIER", o.carrier, 1);
	setenv("MOSHI_KEY", b.key, 1);
	crypto_wipe(b.key, sizeof b.key);
	crypto_wipe(b.seen, sizeof b.seen);
	return run_client_role(&o, ip, b.port);
}

int roles_connect_main(int argc, char **argv)
{
	return connect_main(argc, argv, false, NULL);
}

int roles_connect_attach_main(int argc, char **argv)
{
	return connect_main(argc, argv, true, NULL);
}

int roles_connect_listing_main(int argc, char **argv, const char *role)
{
	return connect_main(argc, argv, false, role);
}
