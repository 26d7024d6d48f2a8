#include "roles.h"

#include <stdio.h>

#include "../crypto/crypto.h"
#include "keys.h"

void roles_print_version(const char *prog)
{
	printf("%s %s (mbedTLS %s, libtermkey %s)\n", prog, MOSHI_VERSION,
	       crypto_backend_version(), keys_backend_version());
}
