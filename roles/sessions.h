/*
 * The sessions of this user on this machine (roles/sessions.c). Each
 * server listens on a Unix socket in the user's session directory,
 * named by the session's ID; `moshi ls` and `moshi kill` ask the servers
 * there. Only the same user gets through: the directory is 0700, the
 * socket 0600, and both ends check the other's credentials.
 */
#ifndef MOSHI_ROLES_SESSIONS_H
#define MOSHI_ROLES_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSIONS_ID_LEN 8       /* hex digits */
/* A session heard from its client this recently counts as attached (an
 * idle client speaks every 3 s). */
#define SESSIONS_ATTACHED_S 15
/* How long moshi ls, kill and attach wait for their answers, all
 * together: a server that is stopped delays them, no more. */
#define SESSIONS_ANSWER_MS 2000

/* What a server says about itself. Times are in seconds since the epoch;
 * contact 0: no client yet. reap_s: seconds of no contact after which it
 * ends, -1: never. */
struct sessions_info {
	char id[SESSIONS_ID_LEN + 1];
	long pid;
	long long created, contact, now;
	long long reap_s;
	long long forged;         /* datagrams dropped as forged (an old key's) */
	long long sent_bytes;     /* UDP payload bytes the server has sent */
	char client[80];          /* the UDP address last heard from, or "" */
	char carrier[8];          /* what the client's datagrams come over: udp, ssh */
	char command[160];
	char title[160];
};

/* The user's session directory: $XDG_RUNTIME_DIR/moshi when that is set,
 * else /tmp/moshi-UID; made 0700 when missing. 0, or -1 with why in err
 * (not a directory of this user's, or open to others). */
int sessions_dir(char *path, size_t n, char *err, size_t errn);

/* Server side: a listening socket in the session directory under a new
 * ID, and the request being read from one connection at a time. */
struct sessions_srv {
	int fd;                   /* -1: none */
	int conn;                 /* a request being read, or -1 */
	uint64_t until;           /* when to drop it (ms, ssp_now_ms) */
	char req[96];
	size_t got;
	char id[SESSIONS_ID_LEN + 1];
	char path[108];
};
int sessions_listen(struct sessions_srv *s, char *err, size_t errn);
/* What to poll for reading: the request being read, else the listener;
 * and how long until the request is given up (-1: none). */
int sessions_poll_fd(const struct sessions_srv *s);
int sessions_wait_ms(const struct sessions_srv *s, uint64_t now);
/* Take what came (call when sessions_poll_fd is readable or the wait ran
 * out; never blocks). A whole request: "info" gets info and
 * SESSIONS_NONE; "kill" gets "ok" and SESSIONS_KILL; "attach FROM" gets
 * SESSIONS_ATTACH with the connection left open in *conn for the
 * caller's answer, and FROM (where the new client is, printable text) in
 * from; "stream" (moshi relay, for a client that UDP does not reach)
 * gets SESSIONS_STREAM with the connection in *conn, to carry the
 * session's datagrams from then on. SESSIONS_NONE, too, while a request
 * is not whole. */
enum sessions_req { SESSIONS_NONE, SESSIONS_KILL, SESSIONS_ATTACH, SESSIONS_STREAM };
enum sessions_req sessions_serve(struct sessions_srv *s, const struct sessions_info *info,
                                 uint64_t now, int *conn, char *from, size_t fromn);
/* Stop listening and remove the socket. */
void sessions_close(struct sessions_srv *s);

/* Client side: send request line req ("info\n", "kill\n") to the
 * socket at path and read the answer into out (cap n, NUL-ended; empty
 * when none came within SESSIONS_ANSWER_MS): 0, or -1 with errno
 * (ECONNREFUSED or ENOENT: no server there; EAGAIN: a server that does
 * not take connections; EPERM: not this user's). */
int sessions_query(const char *path, const char *req, char *out, size_t n);
/* Send request line req to the socket at path and keep the connection
 * (blocking) for what follows: its descriptor, or -1 with errno as for
 * sessions_query. */
int sessions_open(const char *path, const char *req);
/* An "info" answer read into i: 0, or -1 when a field is missing or bad. */
int sessions_parse_info(const char *text, struct sessions_info *i);
/* name is a session ID (SESSIONS_ID_LEN lowercase hex digits). */
bool sessions_is_id(const char *name);
/* f called with what every session in dir says of itself within wait_ms
 * (all asked at once); sockets no server listens on (it was killed
 * outright) are removed. Returns how many answered. */
int sessions_each(const char *dir, int wait_ms,
                  void (*f)(const struct sessions_info *, void *), void *ctx);
/* A client was heard from within SESSIONS_ATTACHED_S. */
bool sessions_attached(const struct sessions_info *i);
/* The IDs of the sessions in dir that no client is attached to (at most
 * max); returns how many. */
int sessions_detached(const char *dir, int wait_ms, char ids[][SESSIONS_ID_LEN + 1], int max);

#endif
