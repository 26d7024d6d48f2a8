/*
 * The roles: the only code that ties crypto/, ssp/, term/ and pty/ into a
 * program. Each entry point takes the arguments after its role name
 * (argv[0] is the role's name) and returns the process exit status.
 */
#ifndef MOSHI_ROLES_H
#define MOSHI_ROLES_H

#include <stddef.h>

/* Exit statuses (moshi(1) lists them). */
#define MOSHI_EXIT_OK 0         /* the session ended normally */
#define MOSHI_EXIT_ERROR 1      /* anything else: a signal, no terminal, ... */
#define MOSHI_EXIT_USAGE 2      /* a bad option or value; nothing was started */
#define MOSHI_EXIT_SSH 3        /* ssh failed, or started no server */
#define MOSHI_EXIT_NO_CONTACT 4 /* nothing ever came from the server */
#define MOSHI_EXIT_SERVER_GONE 5 /* contact was lost, and the user quit */
#define MOSHI_EXIT_TAKEN 6      /* moshi attach gave the session to another client */

/* Printed by --version, and by roles that report their own version. */
void roles_print_version(const char *prog);

/* Helpers the roles share (roles/io.c). */
/* Write all n bytes (through EINTR): 0, or -1. */
int roles_write_all(int fd, const void *p, size_t n);
/* PORT or PORT:PORT2 (0-65535, PORT <= PORT2): 0, or -1. */
int roles_parse_ports(const char *s, int *lo, int *hi);
/* The environment variable name as a whole number (>= 0: seconds, lines),
 * or -1 when it is unset, empty or not a number. */
long roles_env_count(const char *name);

int roles_server_main(int argc, char **argv);
int roles_client_main(int argc, char **argv);
int roles_connect_main(int argc, char **argv);
/* moshi ls, kill and attach: this user's sessions here (roles/manage.c). */
int roles_ls_main(int argc, char **argv);
int roles_kill_main(int argc, char **argv);
int roles_attach_main(int argc, char **argv);
/* moshi relay ID: run by ssh for a client that UDP does not reach; joins
 * its standard input and output to the session's socket, whose server
 * takes the bytes as framed datagrams (ssp.h, stream). */
int roles_relay_main(int argc, char **argv);
/* moshi attach HOST [ID]: connect's ssh bootstrap, running the remote
 * moshi's attach instead of a new server (roles/connect.c). */
int roles_connect_attach_main(int argc, char **argv);
/* moshi ls HOST and moshi kill HOST ID... (role "ls", "kill" or
 * "kill --detached"): the remote moshi's, through ssh. */
int roles_connect_listing_main(int argc, char **argv, const char *role);
/* ssh's ProxyCommand for connect (roles/proxy.c): not listed in --help. */
int roles_proxy_main(int argc, char **argv);

/* Each role's command line, parsed and checked as its main does, but
 * nothing run: 0 when the role would start, 1 when it only printed what
 * was asked (--help, --version), 2 for a usage error (said on stderr).
 * For the tests and the fuzz target (tests/fuzz/fuzz_cli.c). */
int roles_server_parse(int argc, char **argv);
int roles_client_parse(int argc, char **argv);
int roles_connect_parse(int argc, char **argv);

#endif
