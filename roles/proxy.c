/*
 * Which address the client dials, and the hidden proxy role that finds
 * it out: moshi proxy [--family=F] --report=FILE HOST PORT
 *
 * ssh runs the proxy as its ProxyCommand (connect.c adds it): it
 * resolves HOST, connects to PORT, writes the numeric address it reached
 * into FILE, and relays ssh's bytes. The client then dials the address
 * ssh itself reached, as mosh does, not the server's own idea of it
 * (behind 1:1 NAT that is a private address).
 */
#include "roles.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"

int addr_family_parse(const char *s, enum addr_family *f)
{
	static const struct {
		const char *name;
		enum addr_family f;
	} names[] = {
		{ "inet", ADDR_INET }, { "inet6", ADDR_INET6 }, { "auto", ADDR_AUTO },
		{ "all", ADDR_ALL }, { "prefer-inet", ADDR_PREFER_INET },
		{ "prefer-inet6", ADDR_PREFER_INET6 },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0) {
			*f = names[i].f;
			return 0;
		}
	return -1;
}

const char *addr_family_name(enum addr_family f)
{
	switch (f) {
	case ADDR_INET: return "inet";
	case ADDR_INET6: return "inet6";
	case ADDR_AUTO: return "auto";
	case ADDR_ALL: return "all";
	case ADDR_PREFER_INET6: return "prefer-inet6";
	default: return "prefer-inet";
	}
}

/* The order in which a family choice tries the resolver's answers:
 * the rank of an address family (lower first), or -1 to skip it. */
static int family_rank(enum addr_family f, int af)
{
	switch (f) {
	case ADDR_INET: return af == AF_INET ? 0 : -1;
	case ADDR_INET6: return af == AF_INET6 ? 0 : -1;
	case ADDR_PREFER_INET: return af == AF_INET ? 0 : 1;
	case ADDR_PREFER_INET6: return af == AF_INET6 ? 0 : 1;
	default: return 0; /* auto, all: the resolver's order */
	}
}

int addr_resolve(const char *host, const char *port, int socktype,
                 enum addr_family f, struct addr_list *out, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = f == ADDR_INET ? AF_INET : f == ADDR_INET6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = socktype;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(err, errlen, "cannot resolve %s%s: %s", host,
		         f == ADDR_INET ? " as IPv4" : f == ADDR_INET6 ? " as IPv6" : "",
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	size_t n = 0;
	for (struct addrinfo *p = ai; p; p = p->ai_next)
		n++;
	out->head = ai;
	out->n = 0;
	out->v = calloc(n, sizeof *out->v);
	if (out->v == NULL) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int rank = 0; rank < 2; rank++)
		for (struct addrinfo *p = ai; p; p = p->ai_next)
			if (family_rank(f, p->ai_family) == rank)
				out->v[out->n++] = p;
	if (out->n == 0) {
		addr_free(out);
		snprintf(err, errlen, "%s has no %s address", host,
		         f == ADDR_INET ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

void addr_free(struct addr_list *l)
{
	freeaddrinfo(l->head);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                             : sizeof(struct sockaddr_in),
	                buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, len, "?");
}

/* Copy what arrives on one descriptor to another; false at its end. */
static bool pass_on(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	return n > 0 && roles_write_all(to, buf, (size_t)n) == 0;
}

/* Relay stdin to s and s to stdout until both directions have ended. */
static void relay(int s)
{
	bool up = true, down = true;
	while (down) {
		struct pollfd p[2] = { { up ? 0 : -1, POLLIN, 0 }, { s, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (up && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pass_on(0, s)) {
			up = false;
			shutdown(s, SHUT_WR);
		}
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pass_on(s, 1))
			down = false;
	}
}

int roles_proxy_main(int argc, char **argv)
{
	enum addr_family fam = ADDR_PREFER_INET;
	const char *report = NULL, *host = NULL, *port = NULL;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--family=", 9) == 0) {
			if (addr_family_parse(argv[i] + 9, &fam) != 0) {
				fprintf(stderr, "moshi proxy: bad --family '%s'\n", argv[i] + 9);
				return MOSHI_EXIT_USAGE;
			}
		} else if (strncmp(argv[i], "--report=", 9) == 0) {
			report = argv[i] + 9;
		} else if (host == NULL) {
			host = argv[i];
		} else if (port == NULL) {
			port = argv[i];
		} else {
			host = NULL;
			break;
		}
	}
	if (host == NULL || port == NULL || report == NULL) {
		fprintf(stderr, "usage: moshi proxy [--family=F] --report=FILE HOST PORT "
		                "(run by ssh as its ProxyCommand)\n");
		return MOSHI_EXIT_USAGE;
	}
	struct addr_list list;
	char err[512];
	if (addr_resolve(host, port, SOCK_STREAM, fam, &list, err, sizeof err) != 0) {
		fprintf(stderr, "moshi: %s\n", err);
		return 1;
	}
	int s = -1, e = 0;
	char text[INET6_ADDRSTRLEN + 8] = "";
	for (size_t i = 0; i < list.n && s < 0; i++) {
		const struct addrinfo *a = list.v[i];
		s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (s >= 0 && connect(s, a->ai_addr, a->ai_addrlen) == 0) {
			addr_text(a->ai_addr, text, sizeof text);
			break;
		}
		e = errno;
		addr_text(a->ai_addr, text, sizeof text);
		fprintf(stderr, "moshi: cannot connect to %s port %s: %s\n", text, port,
		        strerror(e));
		if (s >= 0)
			close(s);
		s = -1;
	}
	addr_free(&list);
	if (s < 0)
		return 1;
	/* The address goes to the file the parent made for it (it is
	 * private to this user: see connect.c). */
	int fd = open(report, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		size_t n = strlen(text);
		if (write(fd, text, n) != (ssize_t)n)
			fprintf(stderr, "moshi proxy: cannot write %s\n", report);
		close(fd);
	}
	signal(SIGPIPE, SIG_IGN);
	relay(s);
	close(s);
	return 0;
}
