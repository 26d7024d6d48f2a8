/*
 * moshi ls, kill and attach: the sessions of this user on this machine,
 * asked through their sockets in the session directory (sessions.h).
 */
#include "roles.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sessions.h"

/* Whether a role goes to another host: an argument that is neither a
 * session ID nor one of the role's own (a host, connect's options) says
 * so. own ends with NULL. */
static bool over_ssh(int argc, char **argv, const char *const *own)
{
	for (int k = 1; k < argc; k++) {
		bool mine = sessions_is_id(argv[k]);
		for (int j = 0; own[j] != NULL && !mine; j++)
			mine = strcmp(argv[k], own[j]) == 0;
		if (!mine)
			return true;
	}
	return false;
}

static const char *const listing_own[] = { "--local", "--detached", "--", NULL };

/* ls or kill on another host, through connect's ssh bootstrap; kill's
 * --detached goes to the remote role. */
static int listing_over_ssh(int argc, char **argv, const char *role)
{
	char *args[128];
	int n = 0, ids = 0;
	bool detached = false;
	for (int k = 0; k < argc && n < 127; k++) {
		if (strcmp(argv[k], "--detached") == 0)
			detached = true;
		else
			args[n++] = argv[k];
		ids += k > 0 && sessions_is_id(argv[k]);
	}
	args[n] = NULL;
	if (strcmp(role, "kill") == 0 && ids == 0 && !detached) {
		fprintf(stderr, "usage: moshi kill [--local] ID... | moshi kill [options] "
		        "[user@]host ID... (an ID is eight hex digits, as moshi ls shows; "
		        "--detached: all those without a client)\n");
		return MOSHI_EXIT_USAGE;
	}
	return roles_connect_listing_main(n, args, strcmp(role, "kill") == 0 && detached ?
	                                  "kill --detached" : role);
}

/* ls's and kill's options here: --local (the default), and kill's
 * --detached. Returns the index of the first operand, or -1 after a usage
 * message. */
static int common_options(const char *role, int argc, char **argv, bool *detached)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--local") == 0)
			continue;
		if (detached != NULL && strcmp(argv[i], "--detached") == 0) {
			*detached = true;
			continue;
		}
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		fprintf(stderr, "moshi %s: unknown option %s\n", role, argv[i]);
		return -1;
	}
	return i;
}

/* The session directory, or -1 after saying why. */
static int role_dir(const char *role, char *dir, size_t n)
{
	char err[200];
	if (sessions_dir(dir, n, err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "moshi %s: %s\n", role, err);
	return -1;
}

/* "5 s", "3 min", "2 h", "4 d": a duration for people. */
static void ago(long long s, char *out, size_t n)
{
	if (s < 120)
		snprintf(out, n, "%lld s", s < 0 ? 0 : s);
	else if (s < 7200)
		snprintf(out, n, "%lld min", s / 60);
	else if (s < 172800)
		snprintf(out, n, "%lld h", s / 3600);
	else
		snprintf(out, n, "%lld d", s / 86400);
}

static void print_session(const struct sessions_info *i)
{
	char created[32], state[160], reap[48], t[24];
	time_t c = (time_t)i->created;
	struct tm tm;
	strftime(created, sizeof created, "%Y-%m-%d %H:%M", localtime_r(&c, &tm));
	if (i->contact == 0) {
		snprintf(state, sizeof state, "detached, no client yet");
	} else {
		ago(i->now - i->contact, t, sizeof t);
		if (sessions_attached(i) && strcmp(i->carrier, "ssh") == 0)
			snprintf(state, sizeof state, "attached over ssh, %s ago", t);
		else if (sessions_attached(i))
			snprintf(state, sizeof state, "attached from %s, %s ago", i->client, t);
		else
			snprintf(state, sizeof state, "detached, last contact %s ago%s%s", t,
			         i->client[0] ? " from " : "", i->client);
	}
	char r[24];
	if (i->reap_s < 0) {
		snprintf(reap, sizeof reap, "never reaped");
	} else if (sessions_attached(i)) {
		ago(i->reap_s, r, sizeof r);
		snprintf(reap, sizeof reap, "reaped after %s idle", r);
	} else {
		ago(i->reap_s - (i->now - (i->contact ? i->contact : i->created)), r, sizeof r);
		snprintf(reap, sizeof reap, "reaped in %s", r);
	}
	printf("%s  %s  %-44s  %-22s  %s%s%s%s\n", i->id, created, state, reap, i->command,
	       i->title[0] ? " (" : "", i->title, i->title[0] ? ")" : "");
}

static void print_one(const struct sessions_info *i, void *ctx)
{
	(void)ctx;
	print_session(i);
}

int roles_ls_main(int argc, char **argv)
{
	char dir[80];
	if (over_ssh(argc, argv, listing_own))
		return listing_over_ssh(argc, argv, "ls");
	int i = common_options("ls", argc, argv, NULL);
	if (i < 0)
		return MOSHI_EXIT_USAGE;
	if (i < argc) {
		fprintf(stderr, "usage: moshi ls [--local] | moshi ls [options] [user@]host\n");
		return MOSHI_EXIT_USAGE;
	}
	if (role_dir("ls", dir, sizeof dir) < 0)
		return MOSHI_EXIT_ERROR;
	if (sessions_each(dir, SESSIONS_ANSWER_MS, print_one, NULL) == 0)
		printf("no sessions\n");
	return MOSHI_EXIT_OK;
}

/* Ask the server of session id to end: 0, or -1 after saying why. */
static int kill_one(const char *dir, const char *id)
{
	char path[160], answer[64];
	if (!sessions_is_id(id)) {
		fprintf(stderr, "moshi kill: %s is not a session ID (moshi ls lists them)\n", id);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%.*s", dir, SESSIONS_ID_LEN, id);
	if (sessions_query(path, "kill\n", answer, sizeof answer) < 0 ||
	    strcmp(answer, "ok\n") != 0) {
		fprintf(stderr, "moshi kill: no session %s\n", id);
		return -1;
	}
	return 0;
}

/* Where this attach comes from, for the old client's last line: the
 * ssh client's address when run over ssh, else this machine. */
static void attach_from(char *out, size_t n)
{
	const char *ssh = getenv("SSH_CONNECTION");
	size_t k = ssh ? strcspn(ssh, " ") : 0;
	if (k > 0 && k < n)
		snprintf(out, n, "%.*s", (int)k, ssh);
	else
		snprintf(out, n, "this machine");
}

/* The one detached session, into id: 0, or -1 after saying why. */
static int only_detached(const char *dir, char *id)
{
	char ids[64][SESSIONS_ID_LEN + 1];
	int n = sessions_detached(dir, SESSIONS_ANSWER_MS, ids, 64);
	if (n == 1) {
		memcpy(id, ids[0], SESSIONS_ID_LEN + 1);
		return 0;
	}
	if (n == 0) {
		fprintf(stderr, "moshi attach: no detached session here (moshi ls lists them all)\n");
		return -1;
	}
	sessions_each(dir, SESSIONS_ANSWER_MS, print_one, NULL);
	fprintf(stderr, "moshi attach: %d sessions are detached; name one: moshi attach ID\n", n);
	return -1;
}

/* moshi attach [--local] [--print] [ID]: the session's server gets a new
 * key for this client, tells the one it had, and this process becomes
 * its client (with --print, it prints the server's MOSHI CONNECT line
 * instead, for a connect over ssh). Anything else on the command line (a
 * host, connect's options) makes it an attach over ssh. */
int roles_attach_main(int argc, char **argv)
{
	static const char *const own[] = { "--local", "--print", "--help", NULL };
	if (over_ssh(argc, argv, own))
		return roles_connect_attach_main(argc, argv);
	char dir[80], id[SESSIONS_ID_LEN + 1], path[160], from[64], req[96];
	char answer[160], port[16], key[64];
	bool print = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--print") == 0) {
			print = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: moshi attach [--local] [ID]\n"
			       "       moshi attach [connect's options] [user@]host [ID]\n");
			return MOSHI_EXIT_OK;
		}
	}
	if (argc - i > 1) {
		fprintf(stderr, "usage: moshi attach [--local] [ID]\n");
		return MOSHI_EXIT_USAGE;
	}
	if (role_dir("attach", dir, sizeof dir) < 0)
		return MOSHI_EXIT_ERROR;
	if (i < argc) {
		if (!sessions_is_id(argv[i])) {
			fprintf(stderr, "moshi attach: %s is not a session ID (moshi ls lists them)\n",
			        argv[i]);
			return MOSHI_EXIT_USAGE;
		}
		memcpy(id, argv[i], sizeof id);
	} else if (only_detached(dir, id) < 0) {
		return MOSHI_EXIT_ERROR;
	}
	attach_from(from, sizeof from);
	snprintf(path, sizeof path, "%s/%.*s", dir, SESSIONS_ID_LEN, id);
	snprintf(req, sizeof req, "attach %s\n", from);
	if (sessions_query(path, req, answer, sizeof answer) < 0 ||
	    sscanf(answer, "MOSHI CONNECT %15s %63s", port, key) != 2) {
		fprintf(stderr, "moshi attach: no session %s\n", id);
		return MOSHI_EXIT_ERROR;
	}
	if (print) {
		printf("\r\nMOSHI SESSION %s\r\nMOSHI CONNECT %s %s\r\n", id, port, key);
		fflush(stdout);
	} else {
		setenv("MOSHI_KEY", key, 1);
	}
	memset(answer, 0, sizeof answer);
	memset(key, 0, sizeof key);
	if (print)
		return MOSHI_EXIT_OK;
	char *cargv[] = { "client", "127.0.0.1", port, NULL };
	return roles_client_main(3, cargv);
}

int roles_kill_main(int argc, char **argv)
{
	char dir[80];
	bool detached = false;
	if (over_ssh(argc, argv, listing_own))
		return listing_over_ssh(argc, argv, "kill");
	int i = common_options("kill", argc, argv, &detached);
	if (i < 0)
		return MOSHI_EXIT_USAGE;
	if (i == argc && !detached) {
		fprintf(stderr, "usage: moshi kill [--local] ID...  |  moshi kill --detached\n");
		return MOSHI_EXIT_USAGE;
	}
	if (role_dir("kill", dir, sizeof dir) < 0)
		return MOSHI_EXIT_ERROR;
	int failed = 0;
	if (detached) {
		char ids[64][SESSIONS_ID_LEN + 1];
		int n = sessions_detached(dir, SESSIONS_ANSWER_MS, ids, 64);
		for (int k = 0; k < n; k++)
			failed |= kill_one(dir, ids[k]) < 0;
	}
	for (; i < argc; i++)
		failed |= kill_one(dir, argv[i]) < 0;
	return failed ? MOSHI_EXIT_ERROR : MOSHI_EXIT_OK;
}

/* Copy what is readable on from to to (blocking writes): false at the
 * end of from or an error. */
static bool pump(int from, int to)
{
	char buf[65536];
	ssize_t k = read(from, buf, sizeof buf);
	if (k < 0 && errno == EINTR)
		return true;
	return k > 0 && roles_write_all(to, buf, (size_t)k) == 0;
}

int roles_relay_main(int argc, char **argv)
{
	char dir[80], path[160];
	if (argc != 2 || !sessions_is_id(argv[1])) {
		fprintf(stderr, "usage: moshi relay ID (run by moshi's client through ssh)\n");
		return MOSHI_EXIT_USAGE;
	}
	if (role_dir("relay", dir, sizeof dir) < 0)
		return MOSHI_EXIT_ERROR;
	snprintf(path, sizeof path, "%s/%s", dir, argv[1]);
	int fd = sessions_open(path, "stream\n");
	if (fd < 0) {
		fprintf(stderr, "moshi relay: no session %s\n", argv[1]);
		return MOSHI_EXIT_ERROR;
	}
	signal(SIGPIPE, SIG_IGN);
	/* What a login printed before this is skipped up to this line. */
	if (roles_write_all(1, "MOSHI RELAY\n", 12) < 0)
		return MOSHI_EXIT_ERROR;
	for (;;) {
		struct pollfd p[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if ((p[0].revents && !pump(0, fd)) || (p[1].revents && !pump(fd, 1)))
			break;
	}
	close(fd);
	return MOSHI_EXIT_OK;
}
