/*
 * The session directory and its sockets (sessions.h). A request is one
 * line ("info" or "kill"); the answer is lines of "key value", then the
 * server closes. Both ends check the other is this user.
 */
#include "sessions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/crypto.h"
#include "roles.h"

#define REQUEST_WAIT_MS 2000 /* for a request line, once connected */
#define BATCH 32              /* sockets asked at once by sessions_each */

int sessions_dir(char *path, size_t n, char *err, size_t errn)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int k = xdg != NULL && xdg[0] == '/' ?
		snprintf(path, n, "%s/moshi", xdg) :
		snprintf(path, n, "/tmp/moshi-%u", (unsigned)geteuid());
	if (k < 0 || (size_t)k >= n) {
		snprintf(err, errn, "the session directory's name is too long");
		return -1;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errn, "cannot make %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) < 0) {
		snprintf(err, errn, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		snprintf(err, errn, "%s is not a directory of this user's that only it can "
		         "open (mode 0700)", path);
		return -1;
	}
	return 0;
}

/* The other end of connected socket fd is this user. */
static bool peer_is_me(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
	       len == sizeof cr && cr.uid == geteuid();
}

static int socket_path(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path)
		return -1;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

int sessions_listen(struct sessions_srv *s, char *err, size_t errn)
{
	char dir[80];
	uint8_t r[SESSIONS_ID_LEN / 2];
	struct sockaddr_un a;

	s->fd = s->conn = -1;
	if (sessions_dir(dir, sizeof dir, err, errn) < 0)
		return -1;
	if (crypto_random(r, sizeof r) != 0) {
		snprintf(err, errn, "no random bytes for a session ID");
		return -1;
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(s->id + 2 * i, 3, "%02x", r[i]);
	snprintf(s->path, sizeof s->path, "%s/%s", dir, s->id);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || socket_path(&a, s->path) < 0) {
		snprintf(err, errn, "cannot make the session's socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	mode_t old = umask(0177); /* the socket: 0600 */
	int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (rc < 0 || listen(fd, 4) < 0) {
		snprintf(err, errn, "cannot listen on %s: %s", s->path, strerror(errno));
		close(fd);
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* Text for one "key value" line: a newline or other control byte in a
 * command or title would start a line of its own. */
static void one_line(char *out, size_t n, const char *in)
{
	size_t k = 0;
	for (; in[k] && k + 1 < n; k++)
		out[k] = (unsigned char)in[k] < 0x20 || in[k] == 0x7f ? ' ' : in[k];
	out[k] = '\0';
}

static void put_info(char *out, size_t n, const struct sessions_info *i)
{
	char command[sizeof i->command], title[sizeof i->title];
	one_line(command, sizeof command, i->command);
	one_line(title, sizeof title, i->title);
	snprintf(out, n,
	         "id %s\npid %ld\ncreated %lld\ncontact %lld\nnow %lld\nreap %lld\n"
	         "forged %lld\nsent %lld\nclient %s\ncarrier %s\ncommand %s\ntitle %s\n",
	         i->id, i->pid, i->created, i->contact, i->now, i->reap_s, i->forged,
	         i->sent_bytes, i->client[0] ? i->client : "-", i->carrier[0] ? i->carrier : "udp",
	         command, title);
}

int sessions_poll_fd(const struct sessions_srv *s)
{
	return s->conn >= 0 ? s->conn : s->fd;
}

int sessions_wait_ms(const struct sessions_srv *s, uint64_t now)
{
	if (s->conn < 0)
		return -1;
	return s->until > now ? (int)(s->until - now) : 0;
}

static void drop_request(struct sessions_srv *s)
{
	close(s->conn);
	s->conn = -1;
}

enum sessions_req sessions_serve(struct sessions_srv *s, const struct sessions_info *info,
                                 uint64_t now, int *conn, char *from, size_t fromn)
{
	if (s->conn < 0) {
		int c = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0)
			return SESSIONS_NONE;
		if (!peer_is_me(c)) {
			close(c);
			return SESSIONS_NONE;
		}
		s->conn = c;
		s->got = 0;
		s->until = now + REQUEST_WAIT_MS;
	}
	/* A byte at a time: what follows a stream request is the stream's,
	 * not the request's. */
	ssize_t k = 0;
	while (s->got < sizeof s->req - 1) {
		k = read(s->conn, s->req + s->got, 1);
		if (k != 1 || s->req[s->got++] == '\n')
			break;
	}
	bool more = k < 0 && (errno == EAGAIN || errno == EINTR);
	s->req[s->got] = '\0';
	const char *req = s->req;
	size_t got = s->got;
	if (memchr(req, '\n', got) == NULL) {
		if (!more || now >= s->until || got == sizeof s->req - 1)
			drop_request(s); /* gone, too slow, or too long */
		return SESSIONS_NONE;
	}
	enum sessions_req kind = SESSIONS_NONE;
	char out[1024];
	if (strcmp(req, "info\n") == 0) {
		put_info(out, sizeof out, info);
		roles_write_all(s->conn, out, strlen(out));
	} else if (strcmp(req, "kill\n") == 0) {
		kind = SESSIONS_KILL;
		roles_write_all(s->conn, "ok\n", 3);
	} else if (strncmp(req, "attach ", 7) == 0 && got > 8 && req[got - 1] == '\n') {
		size_t n = got - 8 < fromn - 1 ? got - 8 : fromn - 1;
		for (size_t i = 0; i < n; i++)
			from[i] = req[7 + i] >= 0x20 && req[7 + i] < 0x7f ? req[7 + i] : '?';
		from[n] = '\0';
		*conn = s->conn;
		s->conn = -1;
		return SESSIONS_ATTACH;
	} else if (strcmp(req, "stream\n") == 0) {
		*conn = s->conn; /* from now on, the session's datagrams */
		s->conn = -1;
		return SESSIONS_STREAM;
	}
	drop_request(s);
	return kind;
}

void sessions_close(struct sessions_srv *s)
{
	if (s->conn >= 0)
		drop_request(s);
	if (s->fd < 0)
		return;
	close(s->fd);
	unlink(s->path);
	s->fd = -1;
}

/* A request on its way to one socket, and its answer. */
struct asking {
	int fd;                   /* -1: answered, or never asked */
	char name[SESSIONS_ID_LEN + 1];
	char answer[1024];
	size_t got;
};

/* Connect to the socket at path without blocking (a server that is
 * stopped must not stop us) and send req: the descriptor, or -1 with
 * errno (ECONNREFUSED or ENOENT: no server there; EAGAIN: one that does
 * not answer; EPERM: not this user's). */
static int ask(const char *path, const char *req)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (socket_path(&a, path) < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!peer_is_me(fd) || roles_write_all(fd, req, strlen(req)) < 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* Read the answers to requests a[0..n) (n <= BATCH) until each server
 * has closed, or wait_ms has passed for them all together. */
static void read_answers(struct asking *a, int n, int wait_ms)
{
	struct pollfd p[BATCH];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long until = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + wait_ms;
	for (;;) {
		int open = 0;
		for (int k = 0; k < n; k++) {
			p[k] = (struct pollfd){ a[k].fd, POLLIN, 0 };
			open += a[k].fd >= 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long long left = until - (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
		if (open == 0 || left <= 0 || (poll(p, (nfds_t)n, (int)left) < 0 && errno != EINTR))
			break;
		for (int k = 0; k < n; k++) {
			if (a[k].fd < 0 || p[k].revents == 0)
				continue;
			ssize_t got = read(a[k].fd, a[k].answer + a[k].got,
			                   sizeof a[k].answer - 1 - a[k].got);
			if (got > 0)
				a[k].got += (size_t)got;
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR) ||
			    a[k].got == sizeof a[k].answer - 1) {
				close(a[k].fd);
				a[k].fd = -1;
			}
		}
	}
	for (int k = 0; k < n; k++) {
		if (a[k].fd >= 0)
			close(a[k].fd);
		a[k].fd = -1;
		a[k].answer[a[k].got] = '\0';
	}
}

int sessions_open(const char *path, const char *req)
{
	int fd = ask(path, req);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

int sessions_query(const char *path, const char *req, char *out, size_t n)
{
	struct asking a = { .fd = ask(path, req) };
	if (a.fd < 0)
		return -1;
	read_answers(&a, 1, SESSIONS_ANSWER_MS);
	snprintf(out, n, "%s", a.answer);
	return 0;
}

/* The value of line "key value" in text, into v (cap n): 0, or -1. */
static int field(const char *text, const char *key, char *v, size_t n)
{
	size_t kl = strlen(key);
	for (const char *l = text; *l; ) {
		const char *end = strchr(l, '\n');
		if (end == NULL)
			return -1;
		if ((size_t)(end - l) > kl && strncmp(l, key, kl) == 0 && l[kl] == ' ') {
			size_t len = (size_t)(end - l) - kl - 1;
			if (len >= n)
				len = n - 1;
			memcpy(v, l + kl + 1, len);
			v[len] = '\0';
			return 0;
		}
		l = end + 1;
	}
	return -1;
}

static int number(const char *text, const char *key, long long *out)
{
	char v[32], *end;
	if (field(text, key, v, sizeof v) < 0)
		return -1;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' ? 0 : -1;
}

int sessions_parse_info(const char *text, struct sessions_info *i)
{
	long long pid;
	memset(i, 0, sizeof *i);
	if (field(text, "id", i->id, sizeof i->id) < 0 || number(text, "pid", &pid) < 0 ||
	    number(text, "created", &i->created) < 0 || number(text, "contact", &i->contact) < 0 ||
	    number(text, "now", &i->now) < 0 || number(text, "reap", &i->reap_s) < 0 ||
	    number(text, "forged", &i->forged) < 0 || number(text, "sent", &i->sent_bytes) < 0 ||
	    field(text, "client", i->client, sizeof i->client) < 0 ||
	    field(text, "command", i->command, sizeof i->command) < 0 ||
	    field(text, "title", i->title, sizeof i->title) < 0)
		return -1;
	i->pid = (long)pid;
	if (field(text, "carrier", i->carrier, sizeof i->carrier) < 0)
		snprintf(i->carrier, sizeof i->carrier, "udp"); /* a server before carriers */
	if (strcmp(i->client, "-") == 0)
		i->client[0] = '\0';
	return 0;
}

bool sessions_is_id(const char *name)
{
	size_t n = strlen(name);
	if (n != SESSIONS_ID_LEN)
		return false;
	for (size_t k = 0; k < n; k++)
		if (!((name[k] >= '0' && name[k] <= '9') || (name[k] >= 'a' && name[k] <= 'f')))
			return false;
	return true;
}

/* The answers to a batch of "info" requests, to f; how many. */
static int tell_infos(struct asking *a, int n, int wait_ms,
                      void (*f)(const struct sessions_info *, void *), void *ctx)
{
	int told = 0;
	read_answers(a, n, wait_ms);
	for (int k = 0; k < n; k++) {
		struct sessions_info info;
		if (sessions_parse_info(a[k].answer, &info) == 0 &&
		    strcmp(info.id, a[k].name) == 0) {
			f(&info, ctx);
			told++;
		}
	}
	return told;
}

int sessions_each(const char *dir, int wait_ms,
                  void (*f)(const struct sessions_info *, void *), void *ctx)
{
	struct asking *a = calloc(BATCH, sizeof *a);
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0, told = 0;
	if (d == NULL || a == NULL) {
		free(a);
		if (d != NULL)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char path[160];
		if (!sessions_is_id(e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%.*s", dir, SESSIONS_ID_LEN, e->d_name);
		int fd = ask(path, "info\n");
		if (fd < 0) {
			if (errno == ECONNREFUSED)
				unlink(path); /* its server was killed outright */
			continue;
		}
		a[n] = (struct asking){ .fd = fd };
		memcpy(a[n].name, e->d_name, SESSIONS_ID_LEN + 1);
		if (++n == BATCH) {
			told += tell_infos(a, n, wait_ms, f, ctx);
			n = 0;
		}
	}
	told += tell_infos(a, n, wait_ms, f, ctx);
	closedir(d);
	free(a);
	return told;
}

bool sessions_attached(const struct sessions_info *i)
{
	return (i->client[0] || strcmp(i->carrier, "ssh") == 0) && i->contact > 0 &&
	       i->now - i->contact < SESSIONS_ATTACHED_S;
}

struct detached {
	char (*ids)[SESSIONS_ID_LEN + 1];
	int n, max;
};

static void note_detached(const struct sessions_info *i, void *ctx)
{
	struct detached *d = ctx;
	if (!sessions_attached(i) && d->n < d->max)
		memcpy(d->ids[d->n++], i->id, SESSIONS_ID_LEN + 1);
}

int sessions_detached(const char *dir, int wait_ms, char ids[][SESSIONS_ID_LEN + 1], int max)
{
	struct detached d = { ids, 0, max };
	sessions_each(dir, wait_ms, note_detached, &d);
	return d.n;
}
