/* Fuzz target: the command line of each role (roles_*_parse: parsed and
 * checked, nothing run). The first byte picks the role and the name it
 * was started as; the rest, split at NUL bytes, is its arguments. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../roles/roles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Usage messages by the million: into /dev/null. stderr the stream
	 * is replaced, fd 2 stays for the sanitizers' reports. */
	FILE *null = fopen("/dev/null", "w");
	if (null == NULL || freopen("/dev/null", "w", stdout) == NULL)
		abort();
	stderr = null;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "server", "serve", "moshi-server",
		"client", "moshi-client", "connect" };
	if (size == 0)
		return 0;
	char *text = malloc(size);
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	if (text == NULL)
		return 0;
	/* After the first byte, NUL-separated arguments; the last one is
	 * terminated by the copy. */
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	int which = data[0] % 6;
	argv[argc++] = (char *)names[which];
	for (size_t i = 0; i < size - 1 && argc <= MAX_ARGS; ) {
		argv[argc++] = text + i;
		i += strlen(text + i) + 1;
	}
	argv[argc] = NULL;
	int rc = which < 3 ? roles_server_parse(argc, argv)
	       : which < 5 ? roles_client_parse(argc, argv)
	                   : roles_connect_parse(argc, argv);
	if (rc < 0 || rc > 2)
		abort();
	free(text);
	return 0;
}
