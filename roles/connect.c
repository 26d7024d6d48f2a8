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
#include "predict.h"

#define BOOT_TIMEOUT_MS 60000

struct connect_opts {
	bool local, no_init, upload, predict_set;
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
	"  --no-upload            never copy this moshi to the host (by default it is\n"
	"                         uploaded to ~/.cache/moshi/ when the host lacks it)\n"
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
	o->server = NULL;
	o->predict = "adaptive";
	o->upload = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				o->command = &argv[i + 1];
			break;
		} else if (strcmp(a, "--local") == 0) o->local = true;
		else if (strcmp(a, "--no-init") == 0) o->no_init = true;
		else if (strcmp(a, "--no-ssh-pty") == 0) {
			/* accepted for mosh users: ssh never gets a pty here */
		}
		else if (strcmp(a, "--no-upload") == 0) o->upload = false;
		else if (strcmp(a, "-a") == 0) o->predict = "always", o->predict_set = true;
		else if (strcmp(a, "-n") == 0) o->predict = "never", o->predict_set = true;
		else if (strcmp(a, "-4") == 0) o->family = "inet";
		else if (strcmp(a, "-6") == 0) o->family = "inet6";
		else if ((v = opt_value(a, "--ssh", &i, argc, argv))) o->ssh = v;
		else if ((v = opt_value(a, "--server", &i, argc, argv))) o->server = v;
		else if ((v = opt_value(a, "--port", &i, argc, argv)) ||
		         (v = opt_value(a, "-p", &i, argc, argv))) o->port = v;
		else if ((v = opt_value(a, "--predict", &i, argc, argv))) {
			enum predict_mode m;
			if (predict_mode_parse(v, &m) != 0) {
				fprintf(stderr, "moshi connect: --predict takes adaptive, always, "
				                "never or experimental, not '%s'\n", v);
				return 2;
			}
			o->predict = v;
			o->predict_set = true;
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

/* What the remote side said while starting: the MOSHI lines. */
struct boot {
	char port[16], key[64], ip[64];
	char arch[64];          /* "MOSHI ARCH m": the host is another machine */
	bool missing;           /* "MOSHI MISSING": no moshi, and --no-upload */
	bool upload_failed;     /* "MOSHI UPLOAD-FAILED" */
	bool uploaded;
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
	while (rc == 0 && (k = read(in, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(fd, buf + off, (size_t)(k - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = -1;
				break;
			}
			off += w;
		}
	}
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
	return c != NULL && strchr(c, '\n') != NULL &&
	       sscanf(c, "MOSHI CONNECT %15s %63s", b->port, b->key) == 2;
}

/*
 * Run argv with its stdin and stdout on pipes; collect its output until a
 * MOSHI CONNECT line (or the end), sending this program when it asks with
 * a MOSHI UPLOAD line. Returns 0, or 1 after saying what went wrong.
 */
static int bootstrap(char **argv, const char *host, struct boot *b)
{
	int out[2], in[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0) {
		perror("moshi connect: pipe");
		return 1;
	}
	pid_t p = fork();
	if (p < 0) {
		perror("moshi connect: fork");
		return 1;
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
	/* A remote that goes away mid-upload must not kill us. */
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	uint64_t until = ssp_now_ms() + BOOT_TIMEOUT_MS;
	bool found = false;
	b->n = 0;
	b->seen[0] = '\0';
	while (!found && ssp_now_ms() < until) {
		struct pollfd pf = { out[0], POLLIN, 0 };
		if (poll(&pf, 1, 200) <= 0)
			continue;
		ssize_t k = read(out[0], b->seen + b->n, sizeof b->seen - 1 - b->n);
		if (k <= 0)
			break;
		b->n += (size_t)k;
		b->seen[b->n] = '\0';
		found = scan_boot(b);
		if (!b->uploaded && in[1] >= 0 && strstr(b->seen, "MOSHI UPLOAD\n") != NULL) {
			uint64_t t0 = ssp_now_ms();
			b->uploaded = true;
			if (upload_self(in[1], host) == 0)
				fprintf(stderr, "moshi: uploaded in %.1f s\n",
				        (double)(ssp_now_ms() - t0) / 1000.0);
			close(in[1]);
			in[1] = -1;
			until = ssp_now_ms() + BOOT_TIMEOUT_MS;
		}
		if (b->n + 1 >= sizeof b->seen)
			break;
	}
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
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
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		fprintf(stderr, "moshi connect: %s exited with status %d before a "
		        "MOSHI CONNECT line\n", argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, "moshi connect: no MOSHI CONNECT line from %s\n", argv[0]);
	if (b->n > 0 && b->arch[0] == '\0' && !b->missing)
		fprintf(stderr, "moshi connect: it printed: %.*s\n",
		        (int)(b->n > 400 ? 400 : b->n), b->seen);
	return 1;
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
	"exec \"$b\" server new %s\n";

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

int roles_connect_main(int argc, char **argv)
{
	struct connect_opts o;
	static struct boot b;
	char *args[64];
	int na = 0, rc;
	const char *host = "this machine";

	memset(&o, 0, sizeof o);
	memset(&b, 0, sizeof b);
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
		snprintf(b.ip, sizeof b.ip, "127.0.0.1");
	} else {
		static char sargs[8192], script[12288], remote[32768];
		static char runssh[4096];
		host = o.host;
		server_args(sargs, sizeof sargs, &o);
		if (o.server != NULL) {
			/* The user named the server: no lookup, no upload. */
			snprintf(remote, sizeof remote, "%s new %s", o.server, sargs);
		} else {
			struct stat st;
			struct utsname u;
			if (stat("/proc/self/exe", &st) < 0 || uname(&u) < 0) {
				fprintf(stderr, "moshi connect: cannot read this program "
				        "(/proc/self/exe): %s\n", strerror(errno));
				return 1;
			}
			snprintf(script, sizeof script, boot_script, MOSHI_VERSION, u.machine,
			         (long long)st.st_size, o.upload ? 1 : 0, sargs);
			size_t r = 0;
			append(remote, sizeof remote, &r, "sh -c ");
			shell_quote(remote + r, sizeof remote - r, script);
		}
		/* --ssh may be a command with arguments ("ssh -p 2222"): the
		 * shell splits it, the rest are passed as they are. No pty for
		 * the bootstrap: its stdin carries the upload, byte for byte. */
		snprintf(runssh, sizeof runssh, "exec %s \"$@\"", o.ssh);
		args[na++] = "/bin/sh";
		args[na++] = "-c";
		args[na++] = runssh;
		args[na++] = "moshi-ssh";
		args[na++] = "-T";
		args[na++] = (char *)o.host;
		args[na++] = "--";
		args[na++] = remote;
		args[na] = NULL;
	}
	if (bootstrap(args, host, &b) != 0)
		return 1;
	if (b.ip[0] == '\0') {
		/* No address from the server: use the host name, less user@. */
		const char *at = strrchr(o.host, '@');
		snprintf(b.ip, sizeof b.ip, "%s", at ? at + 1 : o.host);
	}
	setenv("MOSHI_KEY", b.key, 1);
	crypto_wipe(b.key, sizeof b.key);
	crypto_wipe(b.seen, sizeof b.seen);
	char *cargv[6];
	static char predict_opt[64];
	int nc = 0;
	cargv[nc++] = "moshi-client";
	if (o.no_init)
		cargv[nc++] = "--no-init";
	/* --predict (or -a, -n) wins over MOSHI_PREDICTION_DISPLAY. */
	if (o.predict_set) {
		snprintf(predict_opt, sizeof predict_opt, "--predict=%s", o.predict);
		cargv[nc++] = predict_opt;
	}
	cargv[nc++] = b.ip;
	cargv[nc++] = b.port;
	cargv[nc] = NULL;
	return roles_client_main(nc, cargv);
}
