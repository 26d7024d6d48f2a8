/*
 * Small helpers the roles share: whole writes, port ranges, and seconds
 * from the environment.
 */
#include "roles.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int roles_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int roles_parse_ports(const char *s, int *lo, int *hi)
{
	char *end;
	long a = strtol(s, &end, 10), b;
	if (end == s || a < 0 || a > 65535)
		return -1;
	b = a;
	if (*end == ':') {
		const char *t = end + 1;
		b = strtol(t, &end, 10);
		if (end == t || b < a || b > 65535)
			return -1;
	}
	if (*end != '\0')
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

long roles_env_count(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return -1;
	char *end;
	long s = strtol(v, &end, 10);
	return *end == '\0' && s >= 0 ? s : -1;
}
