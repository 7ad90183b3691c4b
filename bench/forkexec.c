// SPDX-License-Identifier: Apache-2.0
/*
 * The exec benchmark's load: fork, exec PROGRAM, wait, N times in a row.
 *
 *   forkexec [-n ITERATIONS] [-w WARMUP] [PROGRAM [ARGS...]]   (default: 5000, 100, /bin/true)
 *
 * Prints one line of key=value pairs: the iterations, the wall time of the loop, and the
 * CPU time it took (this process and its children, user and system), e.g.
 *
 *   iterations=5000 wall_ns=2100000000 us_per_iter=420.000 self_user_us=... child_sys_us=...
 *
 * Exits non-zero if a fork, exec or wait fails or a child exits with a non-zero status.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000ull + (uint64_t)tv->tv_usec;
}

static long parse_count(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0) {
		fprintf(stderr, "forkexec: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* One fork + exec + wait. Returns 0 when the child ran and exited 0. */
static int run_once(char *const argv[])
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		perror("forkexec: fork");
		return -1;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("forkexec: waitpid");
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "forkexec: %s: exit status 0x%x\n", argv[0], status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char *default_argv[] = { "/bin/true", NULL };
	struct rusage self0, self1, child0, child1;
	long iterations = 5000, warmup = 100;
	char *const *prog = default_argv;
	uint64_t t0, t1;
	int opt;

	while ((opt = getopt(argc, argv, "+n:w:h")) != -1) {
		switch (opt) {
		case 'n':
			iterations = parse_count(optarg, "iteration count");
			break;
		case 'w':
			warmup = parse_count(optarg, "warmup count");
			break;
		default:
			fprintf(stderr,
				"usage: forkexec [-n ITERATIONS] [-w WARMUP] [PROGRAM [ARGS...]]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind < argc)
		prog = &argv[optind];
	if (iterations < 1) {
		fprintf(stderr, "forkexec: at least one iteration\n");
		return 2;
	}

	/* warm the page cache and the allocator; not measured */
	for (long i = 0; i < warmup; i++)
		if (run_once(prog) < 0)
			return 1;

	getrusage(RUSAGE_SELF, &self0);
	getrusage(RUSAGE_CHILDREN, &child0);
	t0 = now_ns();
	for (long i = 0; i < iterations; i++)
		if (run_once(prog) < 0)
			return 1;
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &self1);
	getrusage(RUSAGE_CHILDREN, &child1);

	printf("iterations=%ld wall_ns=%llu us_per_iter=%.3f self_user_us=%llu self_sys_us=%llu "
	       "child_user_us=%llu child_sys_us=%llu\n",
	       iterations, (unsigned long long)(t1 - t0), (double)(t1 - t0) / 1000.0 / iterations,
	       (unsigned long long)(tv_us(&self1.ru_utime) - tv_us(&self0.ru_utime)),
	       (unsigned long long)(tv_us(&self1.ru_stime) - tv_us(&self0.ru_stime)),
	       (unsigned long long)(tv_us(&child1.ru_utime) - tv_us(&child0.ru_utime)),
	       (unsigned long long)(tv_us(&child1.ru_stime) - tv_us(&child0.ru_stime)));
	return 0;
}
