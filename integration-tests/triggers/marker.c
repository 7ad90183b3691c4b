// SPDX-License-Identifier: Apache-2.0
/* marker FILE: create FILE. A program that leaves a trace when (and only when) it runs. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}
