// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/spool.h"
#include "lib/util.h"

static char top[] = "/tmp/test_spool.XXXXXX";
static char dir[256];

static int setup(void **state)
{
	static int n;

	if (n++ == 0)
		assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof(dir), "%s/s%d", top, n);
	return 0;
}

static int teardown_all(void **state)
{
	rm_rf(top);
	return 0;
}

static struct spool *open_spool(uint64_t max, uint64_t seg)
{
	struct spool_config cfg = { .dir = dir, .max_bytes = max, .segment_bytes = seg };
	struct spool *s = NULL;

	assert_int_equal(spool_open(&cfg, &s), 0);
	return s;
}

/* A record's payload: "rec-<seq>" padded to size bytes. */
static size_t payload(uint64_t seq, char *buf, size_t size)
{
	int n = snprintf(buf, size, "rec-%llu", (unsigned long long)seq);

	memset(buf + n, 'x', size - (size_t)n);
	return size;
}

static void append(struct spool *s, uint64_t seq, size_t size)
{
	char buf[2048];

	assert_true(size <= sizeof(buf));
	assert_int_equal(spool_append(s, seq, buf, payload(seq, buf, size)), 0);
}

struct seen {
	uint64_t seq[100000];
	size_t n;
	size_t stop_after;
};

static int check_record(void *ud, uint64_t seq, const void *data, size_t len)
{
	struct seen *s = ud;
	char want[2048];

	assert_true(len <= sizeof(want));
	payload(seq, want, len);
	assert_memory_equal(data, want, len);
	s->seq[s->n++] = seq;
	return s->stop_after && s->n >= s->stop_after;
}

static size_t count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += endswith(de->d_name, ".seg");
	closedir(d);
	return n;
}

static void test_spool_append_read_in_order(void **state)
{
	struct spool *s = open_spool(1 << 20, 4096);
	struct seen *seen = calloc(1, sizeof(*seen));
	struct spool_stats st;

	for (uint64_t i = 1; i <= 500; i++)
		append(s, i, 100);
	spool_get_stats(s, &st);
	assert_int_equal(st.records, 500);
	assert_true(st.segments > 10); /* 4 KiB segments of 116-byte records */
	assert_int_equal(st.first_seq, 1);
	assert_int_equal(st.last_seq, 500);
	assert_int_equal(count_files(), st.segments);

	/* everything, in order, across segments */
	assert_int_equal(spool_read(s, 1, 10000, 1 << 30, check_record, seen), 500);
	for (size_t i = 0; i < 500; i++)
		assert_int_equal(seen->seq[i], i + 1);

	/* from the middle, a page at a time, continuing where the last read stopped */
	seen->n = 0;
	assert_int_equal(spool_read(s, 250, 100, 1 << 30, check_record, seen), 100);
	assert_int_equal(seen->seq[0], 250);
	assert_int_equal(spool_read(s, 350, 100, 1 << 30, check_record, seen), 100);
	assert_int_equal(seen->seq[100], 350);
	/* a byte limit gives at least one record */
	seen->n = 0;
	assert_int_equal(spool_read(s, 10, 1000, 1, check_record, seen), 1);
	assert_int_equal(seen->seq[0], 10);
	/* fn may stop early */
	seen->n = 0;
	seen->stop_after = 3;
	assert_int_equal(spool_read(s, 1, 1000, 1 << 30, check_record, seen), 3);
	seen->stop_after = 0;
	/* nothing past the end */
	seen->n = 0;
	assert_int_equal(spool_read(s, 501, 1000, 1 << 30, check_record, seen), 0);

	/* sequence numbers only grow; a record must fit a segment */
	assert_int_equal(spool_append(s, 500, "x", 1), -EINVAL);
	assert_int_equal(spool_append(s, 10, "x", 1), -EINVAL);
	{
		static char big[8192];

		assert_int_equal(spool_append(s, 501, big, sizeof(big)), -E2BIG);
	}
	/* gaps are fine */
	append(s, 1000, 10);
	seen->n = 0;
	assert_int_equal(spool_read(s, 499, 1000, 1 << 30, check_record, seen), 3);
	assert_int_equal(seen->seq[2], 1000);
	spool_close(s);
	free(seen);
}

static void test_spool_ack_deletes_segments(void **state)
{
	struct spool *s = open_spool(1 << 20, 4096);
	struct seen *seen = calloc(1, sizeof(*seen));
	struct spool_stats st;
	size_t before;

	for (uint64_t i = 1; i <= 300; i++)
		append(s, i, 100);
	assert_int_equal(spool_flush(s), 0);
	before = count_files();
	spool_ack(s, 150);
	spool_get_stats(s, &st);
	assert_true(count_files() < before);
	assert_int_equal(count_files(), st.segments);
	assert_true(st.first_seq <= 151);
	assert_int_equal(st.acked_seq, 150);
	/* what is left still reads from 151 */
	assert_int_equal(spool_read(s, 151, 1000, 1 << 30, check_record, seen), 150);
	assert_int_equal(seen->seq[0], 151);
	/* acknowledging everything empties the spool, the active segment included */
	spool_ack(s, 300);
	spool_get_stats(s, &st);
	assert_int_equal(st.segments, 0);
	assert_int_equal(count_files(), 0);
	assert_int_equal(st.bytes, 0);
	/* and it goes on */
	append(s, 301, 10);
	assert_int_equal(spool_last_seq(s), 301);
	spool_close(s);
	free(seen);
}

static void test_spool_reopens_where_it_was(void **state)
{
	struct spool *s = open_spool(1 << 20, 4096);
	struct seen *seen = calloc(1, sizeof(*seen));
	struct spool_stats st;

	for (uint64_t i = 1; i <= 100; i++)
		append(s, i, 64);
	spool_close(s); /* flushes */

	s = open_spool(1 << 20, 4096);
	spool_get_stats(s, &st);
	assert_int_equal(st.records, 100);
	assert_int_equal(st.first_seq, 1);
	assert_int_equal(st.last_seq, 100);
	assert_int_equal(st.recovered_bytes, 0);
	assert_int_equal(spool_append(s, 100, "x", 1), -EINVAL);
	append(s, 101, 64);
	assert_int_equal(spool_read(s, 1, 1000, 1 << 30, check_record, seen), 101);
	spool_close(s);
	free(seen);
}

static void test_spool_overflow_drops_oldest_and_counts(void **state)
{
	/* 16 KiB in 4 KiB segments: 1000 records of ~116 bytes cannot fit */
	struct spool *s = open_spool(16384, 4096);
	struct seen *seen = calloc(1, sizeof(*seen));
	struct spool_stats st;

	for (uint64_t i = 1; i <= 1000; i++)
		append(s, i, 100);
	spool_get_stats(s, &st);
	assert_true(st.bytes <= 16384);
	assert_true(st.dropped > 0);
	/* every record is either still there or counted as dropped */
	assert_int_equal(st.records + st.dropped, 1000);
	/* the newest survive, in order, with no hole after the first survivor */
	assert_int_equal(spool_read(s, 1, 10000, 1 << 30, check_record, seen), st.records);
	assert_int_equal(seen->seq[seen->n - 1], 1000);
	assert_int_equal(seen->seq[0], 1000 - st.records + 1);
	spool_close(s);

	/* acknowledged records are not counted when their segment goes */
	setup(state);
	s = open_spool(16384, 4096);
	for (uint64_t i = 1; i <= 100; i++)
		append(s, i, 100);
	spool_ack(s, 100);
	for (uint64_t i = 101; i <= 200; i++)
		append(s, i, 100);
	spool_get_stats(s, &st);
	assert_int_equal(st.dropped, 0);
	spool_close(s);
	free(seen);
}

static void newest_segment(char *path, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char best[300] = "";

	assert_non_null(d);
	while ((de = readdir(d)))
		if (endswith(de->d_name, ".seg") && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	closedir(d);
	assert_true(best[0]);
	snprintf(path, size, "%s/%s", dir, best);
}

static void test_spool_recovers_torn_tail(void **state)
{
	struct spool *s = open_spool(1 << 20, 1 << 16);
	struct seen *seen = calloc(1, sizeof(*seen));
	struct spool_stats st;
	char path[512];
	struct stat sb;
	int fd;

	for (uint64_t i = 1; i <= 50; i++)
		append(s, i, 200);
	spool_close(s);
	newest_segment(path, sizeof(path));

	/* half a record header at the end, as a crash in write() leaves it */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x10\x00\x00\x00\xaa\xbb", 6), 6);
	close(fd);
	s = open_spool(1 << 20, 1 << 16);
	spool_get_stats(s, &st);
	assert_int_equal(st.records, 50);
	assert_int_equal(st.recovered_bytes, 6);
	append(s, 51, 200);
	assert_int_equal(spool_read(s, 1, 1000, 1 << 30, check_record, seen), 51);
	spool_close(s);

	/* a corrupt last record (bad checksum) is cut, the ones before it stay */
	assert_int_equal(stat(path, &sb), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Z", 1, sb.st_size - 3), 1);
	close(fd);
	s = open_spool(1 << 20, 1 << 16);
	spool_get_stats(s, &st);
	assert_int_equal(st.records, 50);
	assert_int_equal(st.last_seq, 50);
	assert_int_equal(st.recovered_bytes, 216);
	seen->n = 0;
	assert_int_equal(spool_read(s, 1, 1000, 1 << 30, check_record, seen), 50);
	spool_close(s);

	/* a file that is not a segment at all is removed */
	assert_int_equal(write_file(path, "garbage", 7, 0600), 0);
	s = open_spool(1 << 20, 1 << 16);
	spool_get_stats(s, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(count_files(), 0);
	spool_close(s);
	free(seen);
}

static void test_spool_kill_loses_only_unflushed(void **state)
{
	struct spool *s;
	struct spool_stats st;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool_config cfg = { .dir = dir,
					    .max_bytes = 1 << 20,
					    .segment_bytes = 1 << 16 };
		char buf[100];

		if (spool_open(&cfg, &s) < 0)
			_exit(1);
		for (uint64_t i = 1; i <= 100; i++)
			spool_append(s, i, buf, payload(i, buf, sizeof(buf)));
		if (spool_flush(s) < 0)
			_exit(1);
		for (uint64_t i = 101; i <= 110; i++)
			spool_append(s, i, buf, payload(i, buf, sizeof(buf)));
		raise(SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	s = open_spool(1 << 20, 1 << 16);
	spool_get_stats(s, &st);
	assert_int_equal(st.records, 100);
	assert_int_equal(st.last_seq, 100);
	assert_int_equal(st.recovered_bytes, 0);
	spool_close(s);
}

static void test_spool_write_error_is_counted(void **state)
{
	pid_t pid;
	int status;
	struct spool *s;
	struct spool_stats st;
	struct seen *seen = calloc(1, sizeof(*seen));

	/* a file size limit makes write() fail part-way, as a full disk does */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool_config cfg = { .dir = dir,
					    .max_bytes = 1 << 22,
					    .segment_bytes = 1 << 20 };
		struct rlimit rl = { .rlim_cur = 20000, .rlim_max = 20000 };
		char buf[1000];
		uint64_t failed_at = 0;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0 || spool_open(&cfg, &s) < 0)
			_exit(1);
		for (uint64_t i = 1; i <= 100 && !failed_at; i++) {
			spool_append(s, i, buf, payload(i, buf, sizeof(buf)));
			if (i % 5 == 0 && spool_flush(s) < 0)
				failed_at = i;
		}
		spool_get_stats(s, &st);
		/* the 5 buffered records are lost and counted; nothing else is */
		if (!failed_at || st.write_errors != 1 || st.dropped != 5 ||
		    st.records != failed_at - 5)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* what is on disk is whole records only */
	s = open_spool(1 << 22, 1 << 20);
	spool_get_stats(s, &st);
	assert_int_equal(st.recovered_bytes, 0);
	assert_true(st.records > 0 && st.records % 5 == 0);
	assert_int_equal(spool_read(s, 1, 1000, 1 << 30, check_record, seen), st.records);
	spool_close(s);
	free(seen);
}

static void test_spool_rejects_bad_config(void **state)
{
	struct spool_config cfg = { .dir = dir, .max_bytes = 8192, .segment_bytes = 8192 };
	struct spool *s = NULL;

	assert_int_equal(spool_open(&cfg, &s), -EINVAL);
	cfg.segment_bytes = 100;
	assert_int_equal(spool_open(&cfg, &s), -EINVAL);
	cfg.dir = "";
	assert_int_equal(spool_open(&cfg, &s), -EINVAL);
	cfg.dir = "/proc/no/such/spool";
	cfg.segment_bytes = 4096;
	assert_true(spool_open(&cfg, &s) < 0);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_spool_append_read_in_order, setup),
		cmocka_unit_test_setup(test_spool_ack_deletes_segments, setup),
		cmocka_unit_test_setup(test_spool_reopens_where_it_was, setup),
		cmocka_unit_test_setup(test_spool_overflow_drops_oldest_and_counts, setup),
		cmocka_unit_test_setup(test_spool_recovers_torn_tail, setup),
		cmocka_unit_test_setup(test_spool_kill_loses_only_unflushed, setup),
		cmocka_unit_test_setup(test_spool_write_error_is_counted, setup),
		cmocka_unit_test_setup(test_spool_rejects_bad_config, setup),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
