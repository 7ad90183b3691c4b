// SPDX-License-Identifier: Apache-2.0
/*
 * The policy benchmark's syscall load: openat + close of one file, N times in a row.
 *
 *   openclose [-n ITERATIONS] [-w WARMUP] FILE      (default: 200000, 2000)
 *
 * Prints one line of key=value pairs: the iterations, the wall time of the timed loop
 * (the warm-up ones excluded), the time per iteration and this process's CPU time:
 *
 *   iterations=200000 wall_ns=410000000 ns_per_iter=2050.0 user_us=... sys_us=...
 *
 * Exits non-zero if an open fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
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
		fprintf(stderr, "openclose: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static int loop(const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "openclose: %s: %s\n", path, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long iterations = 200000, warmup = 2000;
	struct rusage ru0, ru1;
	uint64_t t0, t1;
	int opt;

	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		switch (opt) {
		case 'n':
			iterations = parse_count(optarg, "iteration count");
			break;
		case 'w':
			warmup = parse_count(optarg, "warm-up count");
			break;
		default:
			fprintf(stderr, "usage: openclose [-n ITERATIONS] [-w WARMUP] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1 || iterations == 0) {
		fprintf(stderr, "usage: openclose [-n ITERATIONS] [-w WARMUP] FILE\n");
		return 2;
	}
	if (loop(argv[optind], warmup) < 0)
		return 1;
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	if (loop(argv[optind], iterations) < 0)
		return 1;
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru1);
	printf("iterations=%ld wall_ns=%llu ns_per_iter=%.1f user_us=%llu sys_us=%llu\n",
	       iterations, (unsigned long long)(t1 - t0), (double)(t1 - t0) / (double)iterations,
	       (unsigned long long)(tv_us(&ru1.ru_utime) - tv_us(&ru0.ru_utime)),
	       (unsigned long long)(tv_us(&ru1.ru_stime) - tv_us(&ru0.ru_stime)));
	return 0;
}
