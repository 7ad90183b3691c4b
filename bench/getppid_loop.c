// SPDX-License-Identifier: Apache-2.0
/*
 * The policy benchmark's event generator: getppid(2) in a loop, as fast as it goes or at a
 * given rate, for a given time.
 *
 *   getppid_loop [-t MILLISECONDS] [-r CALLS_PER_SECOND]     (default: 2000 ms, no limit)
 *
 * The system call is made with syscall(2), so that no C library can answer it from a
 * cache. With -r the loop sleeps whenever it is ahead of the rate (checked every 64 calls).
 * Prints one line of key=value pairs:
 *
 *   calls=1234567 wall_ns=2000000000 calls_per_s=617283 user_us=... sys_us=...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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
		fprintf(stderr, "getppid_loop: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long ms = 2000, rate = 0;
	uint64_t calls = 0, t0, t, end;
	struct rusage ru0, ru1;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:")) != -1) {
		switch (opt) {
		case 't':
			ms = parse_count(optarg, "duration");
			break;
		case 'r':
			rate = parse_count(optarg, "rate");
			break;
		default:
			fprintf(stderr,
				"usage: getppid_loop [-t MILLISECONDS] [-r CALLS_PER_SECOND]\n");
			return 2;
		}
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	end = t0 + (uint64_t)ms * 1000000ull;
	for (t = t0; t < end; t = now_ns()) {
		for (int i = 0; i < 64; i++)
			syscall(SYS_getppid);
		calls += 64;
		if (rate > 0) {
			/* ahead of the schedule: sleep until the schedule catches up */
			uint64_t due = t0 + calls * 1000000000ull / (uint64_t)rate;

			if (due > t + 50000) {
				struct timespec ts = { 0, (long)(due - t) };

				if (due - t >= 1000000000ull)
					ts = (struct timespec){ 0, 999999999 };
				nanosleep(&ts, NULL);
			}
		}
	}
	getrusage(RUSAGE_SELF, &ru1);
	printf("calls=%llu wall_ns=%llu calls_per_s=%.0f user_us=%llu sys_us=%llu\n",
	       (unsigned long long)calls, (unsigned long long)(t - t0),
	       (double)calls * 1e9 / (double)(t - t0),
	       (unsigned long long)(tv_us(&ru1.ru_utime) - tv_us(&ru0.ru_utime)),
	       (unsigned long long)(tv_us(&ru1.ru_stime) - tv_us(&ru0.ru_stime)));
	return 0;
}
