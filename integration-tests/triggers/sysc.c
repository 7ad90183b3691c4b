// SPDX-License-Identifier: Apache-2.0
/*
 * sysc: system calls with chosen arguments, for policy tests. Steps run in order:
 *   lseek:N              lseek(-1, N, SEEK_SET) (fails with EBADF; N is the probe)
 *   open:PATH            openat(AT_FDCWD, PATH, O_RDONLY), closed again
 *   write:PATH:TEXT      create PATH and write TEXT to it
 *   connect:ADDR:PORT    TCP connect to an IPv4 or [IPv6] address (refused is fine)
 *   fork                 run the remaining steps in a child that does not exec; wait for it
 *   sleep:MS
 *   getppid
 *   exec:PATH[,ARG...]   execv PATH
 *   unshare:mnt          move into a new mount namespace
 *   dropcap:N            drop capability N from the effective set
 * Exits 0, or with the child's status after fork.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void do_connect(char *spec)
{
	char *port = strrchr(spec, ':');
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (!port)
		return;
	*port++ = '\0';
	memset(&ss, 0, sizeof(ss));
	if (spec[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		spec[strlen(spec) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		inet_pton(AF_INET6, spec + 1, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		inet_pton(AF_INET, spec, &s4->sin_addr);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return;
	(void)!connect(fd, (struct sockaddr *)&ss, len);
	close(fd);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!strncmp(a, "lseek:", 6)) {
			syscall(SYS_lseek, -1, strtoll(a + 6, NULL, 0), SEEK_SET);
		} else if (!strncmp(a, "open:", 5)) {
			int fd = openat(AT_FDCWD, a + 5, O_RDONLY);

			if (fd >= 0)
				close(fd);
		} else if (!strncmp(a, "write:", 6)) {
			char *text = strchr(a + 6, ':');
			int fd;

			if (!text)
				continue;
			*text++ = '\0';
			fd = open(a + 6, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			if (fd >= 0) {
				(void)!write(fd, text, strlen(text));
				close(fd);
			}
		} else if (!strncmp(a, "connect:", 8)) {
			do_connect(a + 8);
		} else if (!strcmp(a, "fork")) {
			int status = 0;
			pid_t pid = fork();

			if (pid < 0)
				return 3;
			if (pid > 0) {
				waitpid(pid, &status, 0);
				return WIFEXITED(status) ? WEXITSTATUS(status) :
							   128 + WTERMSIG(status);
			}
		} else if (!strncmp(a, "sleep:", 6)) {
			struct timespec ts = { 0, atol(a + 6) * 1000000L };

			while (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			nanosleep(&ts, NULL);
		} else if (!strcmp(a, "unshare:mnt")) {
			if (unshare(CLONE_NEWNS) < 0)
				return 5;
		} else if (!strncmp(a, "dropcap:", 8)) {
			struct {
				unsigned version;
				int pid;
			} hdr = { 0x20080522, 0 };
			struct {
				unsigned eff, prm, inh;
			} data[2];
			int cap = atoi(a + 8);

			if (syscall(SYS_capget, &hdr, data) < 0)
				return 6;
			data[cap / 32].eff &= ~(1u << (cap % 32));
			if (syscall(SYS_capset, &hdr, data) < 0)
				return 6;
		} else if (!strcmp(a, "getppid")) {
			syscall(SYS_getppid);
		} else if (!strncmp(a, "exec:", 5)) {
			char *args[16] = { 0 };
			int n = 0;

			for (char *t = strtok(a + 5, ","); t && n < 15; t = strtok(NULL, ","))
				args[n++] = t;
			execv(args[0], args);
			return 4;
		} else {
			fprintf(stderr, "sysc: unknown step '%s'\n", a);
			return 2;
		}
	}
	return 0;
}
