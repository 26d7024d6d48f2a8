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
#include <unistd.h>

#include "../crypto/crypto.h"
#include "roles.h"

#define REQUEST_WAIT_MS 200 /* for a request line once connected */

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

	s->fd = -1;
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

static void put_info(char *out, size_t n, const struct sessions_info *i)
{
	snprintf(out, n,
	         "id %s\npid %ld\ncreated %lld\ncontact %lld\nnow %lld\nreap %lld\n"
	         "forged %lld\nsent %lld\nclient %s\ncommand %s\ntitle %s\n",
	         i->id, i->pid, i->created, i->contact, i->now, i->reap_s, i->forged,
	         i->sent_bytes,
	         i->client[0] ? i->client : "-", i->command, i->title);
}

enum sessions_req sessions_serve(struct sessions_srv *s, const struct sessions_info *info,
                                 int *conn, char *from, size_t fromn)
{
	int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return SESSIONS_NONE;
	char req[96];
	size_t got = 0;
	enum sessions_req kind = SESSIONS_NONE;
	struct pollfd p = { c, POLLIN, 0 };
	if (peer_is_me(c)) {
		while (got < sizeof req - 1 && memchr(req, '\n', got) == NULL &&
		       poll(&p, 1, REQUEST_WAIT_MS) > 0) {
			ssize_t k = read(c, req + got, sizeof req - 1 - got);
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		req[got] = '\0';
		char out[1024];
		if (strcmp(req, "info\n") == 0) {
			put_info(out, sizeof out, info);
			roles_write_all(c, out, strlen(out));
		} else if (strcmp(req, "kill\n") == 0) {
			kind = SESSIONS_KILL;
			roles_write_all(c, "ok\n", 3);
		} else if (strncmp(req, "attach ", 7) == 0 && got > 8 && req[got - 1] == '\n') {
			size_t n = got - 8 < fromn - 1 ? got - 8 : fromn - 1;
			for (size_t i = 0; i < n; i++)
				from[i] = req[7 + i] >= 0x20 && req[7 + i] < 0x7f ? req[7 + i] : '?';
			from[n] = '\0';
			*conn = c;
			return SESSIONS_ATTACH;
		}
	}
	close(c);
	return kind;
}

void sessions_close(struct sessions_srv *s)
{
	if (s->fd < 0)
		return;
	close(s->fd);
	unlink(s->path);
	s->fd = -1;
}

int sessions_query(const char *path, const char *req, char *out, size_t n)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (socket_path(&a, path) < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	size_t got = 0;
	if (!peer_is_me(fd) || roles_write_all(fd, req, strlen(req)) < 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	struct pollfd p = { fd, POLLIN, 0 };
	while (got < n - 1 && poll(&p, 1, 2000) > 0) {
		ssize_t k = read(fd, out + got, n - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	out[got] = '\0';
	close(fd);
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

int sessions_each(const char *dir, void (*f)(const struct sessions_info *, void *),
                  void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[160], answer[1024];
		struct sessions_info info;
		if (!sessions_is_id(e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%.*s", dir, SESSIONS_ID_LEN, e->d_name);
		if (sessions_query(path, "info\n", answer, sizeof answer) < 0) {
			if (errno == ECONNREFUSED)
				unlink(path);
			continue;
		}
		if (sessions_parse_info(answer, &info) == 0) {
			f(&info, ctx);
			n++;
		}
	}
	closedir(d);
	return n;
}

bool sessions_attached(const struct sessions_info *i)
{
	return i->client[0] && i->contact > 0 && i->now - i->contact < SESSIONS_ATTACHED_S;
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

int sessions_detached(const char *dir, char ids[][SESSIONS_ID_LEN + 1], int max)
{
	struct detached d = { ids, 0, max };
	sessions_each(dir, note_detached, &d);
	return d.n;
}
