/*
 * The roles: the only code that ties crypto/, ssp/, term/ and pty/ into a
 * program. Each entry point takes the arguments after its role name
 * (argv[0] is the role's name) and returns the process exit status.
 */
#ifndef MOSHI_ROLES_H
#define MOSHI_ROLES_H

/* Printed by --version, and by roles that report their own version. */
void roles_print_version(const char *prog);

int roles_server_main(int argc, char **argv);
int roles_client_main(int argc, char **argv);
int roles_connect_main(int argc, char **argv);

/* Each role's command line, parsed and checked as its main does, but
 * nothing run: 0 when the role would start, 1 when it only printed what
 * was asked (--help, --version), 2 for a usage error (said on stderr).
 * For the tests and the fuzz target (tests/fuzz/fuzz_cli.c). */
int roles_server_parse(int argc, char **argv);
int roles_client_parse(int argc, char **argv);
int roles_connect_parse(int argc, char **argv);

#endif
