// SPDX-License-Identifier: Apache-2.0
/*
 * Keep the kernel's BPF run-time statistics on while this process lives.
 *
 *   bpf_stats_hold      prints "ready" once the statistics are on, then waits for a signal
 *
 * BPF_ENABLE_STATS returns a file descriptor and the kernel counts run_time_ns / run_cnt
 * while any such descriptor is open, so, unlike writing kernel.bpf_stats_enabled, this
 * neither changes a system setting nor undoes another user's.
 */
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_signal(int sig)
{
	(void)sig;
}

int main(void)
{
	union bpf_attr attr;
	struct sigaction sa;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	fd = (int)syscall(__NR_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (fd < 0) {
		perror("bpf_stats_hold: BPF_ENABLE_STATS");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	pause();
	close(fd);
	return 0;
}
