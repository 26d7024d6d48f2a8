/*
 * moshi's entry point. It only dispatches: first on the name the binary was
 * started as (moshi-server, moshi-client, as installed by symlinks), then on
 * the first argument (moshi connect, moshi server, ...). Every role lives
 * in roles/.
 */
#include <stdio.h>
#include <string.h>

#include "roles/roles.h"

struct role {
	const char *name;      /* subcommand, or the binary's name */
	const char *what;      /* one line for --help; NULL: hidden */
	int (*main)(int argc, char **argv);
};

static const struct role roles[] = {
	{ "connect", "start a server over ssh (or --local) and attach to it",
	  roles_connect_main },
	{ "server", "start a server: moshi server new [options] [-- command]",
	  roles_server_main },
	{ "serve", "short for: moshi server new", roles_server_main },
	{ "client", "attach to a server: moshi client HOST PORT (key in MOSHI_KEY)",
	  roles_client_main },
	{ "ls", "list your sessions on this machine: moshi ls", roles_ls_main },
	{ "kill", "end sessions: moshi kill ID... | moshi kill --detached", roles_kill_main },
	{ "attach", "take a session over: moshi attach [ID]", roles_attach_main },
	/* Hidden: ssh's ProxyCommand during connect; the far end of the
	 * stream a client uses when UDP is blocked. */
	{ "proxy", NULL, roles_proxy_main },
	{ "relay", NULL, roles_relay_main },
};

/* Names the binary may be installed under, and the role each one means. */
static const struct {
	const char *prog;
	const char *role;
} aliases[] = {
	{ "moshi-server", "server" },
	{ "moshi-client", "client" },
};

static const struct role *find_role(const char *name)
{
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(roles[i].name, name) == 0)
			return &roles[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: moshi [options] [user@]host [command...]   (as mosh: moshi connect)\n"
	           "       moshi ROLE [arguments]\n"
	           "       moshi --help | --version\n\nroles:\n");
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (roles[i].what != NULL)
			fprintf(f, "  %-8s %s\n", roles[i].name, roles[i].what);
	fprintf(f, "\nInstalled as moshi-server or moshi-client, moshi runs "
	           "that role directly.\n");
}

int main(int argc, char **argv)
{
	const char *prog = argc > 0 && argv[0] ? argv[0] : "moshi";
	const char *base = strrchr(prog, '/');

	base = base ? base + 1 : prog;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(base, aliases[i].prog) == 0)
			return find_role(aliases[i].role)->main(argc, argv);

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		roles_print_version("moshi");
		return 0;
	}
	const struct role *r = find_role(argv[1]);
	if (r == NULL) {
		/* As mosh: moshi [options] [user@]host [command...]. connect
		 * says when the word was meant as a role. */
		argv[0] = "connect";
		return roles_connect_main(argc, argv);
	}
	return r->main(argc - 1, argv + 1);
}
