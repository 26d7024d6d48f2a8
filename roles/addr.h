/*
 * Addresses for the roles: mosh's --family choices, name resolution in
 * the order a choice asks for, and numeric text. (roles/proxy.c)
 */
#ifndef MOSHI_ROLES_ADDR_H
#define MOSHI_ROLES_ADDR_H

#include <stddef.h>
#include <sys/socket.h>
#include <netdb.h>

enum addr_family {
	ADDR_PREFER_INET,   /* the default: IPv4 first, then IPv6 */
	ADDR_PREFER_INET6,
	ADDR_INET,          /* -4: IPv4 only */
	ADDR_INET6,         /* -6: IPv6 only */
	ADDR_AUTO,          /* the resolver's order */
	ADDR_ALL,           /* the resolver's order, every address in turn */
};

/* 0, or -1 for a name that is none of the above. */
int addr_family_parse(const char *s, enum addr_family *f);
const char *addr_family_name(enum addr_family f);

/* The resolver's answers for host and port, of the families f allows, in
 * the order it prefers. */
struct addr_list {
	struct addrinfo *head;
	struct addrinfo **v;
	size_t n;
};
/* 0, or -1 with the reason in err. */
int addr_resolve(const char *host, const char *port, int socktype,
                 enum addr_family f, struct addr_list *out, char *err, size_t errlen);
void addr_free(struct addr_list *l);

/* The numeric text of an address ("10.0.0.1", "::1"). */
void addr_text(const struct sockaddr *sa, char *buf, size_t len);

#endif
