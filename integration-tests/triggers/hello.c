// SPDX-License-Identifier: Apache-2.0
/*
 * A test program with known behaviour: hello [--exit N] [--sleep SECONDS] [ARGS...]
 * Exits with status N (default 0) after sleeping, ignoring ARGS.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int status = 0, secs = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
			status = atoi(argv[++i]);
		else if (strcmp(argv[i], "--sleep") == 0 && i + 1 < argc)
			secs = atoi(argv[++i]);
	}
	if (secs > 0)
		sleep((unsigned)secs);
	return status;
}
