// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/export.h"
#include "lib/util.h"
#include "tetragon/sensors.pb-c.h"

static char dir[] = "/tmp/test_export.XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

static char *path_of(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static size_t count_lines(const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t n = 0, len;

	if (read_file(path, 1 << 24, &data, &len) < 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

static void test_export_writes_json_lines(void **state)
{
	Tetragon__GetVersionResponse v = TETRAGON__GET_VERSION_RESPONSE__INIT;
	struct exporter *e;
	struct exporter_stats st;
	_cleanup_free_ char *data = NULL;
	struct stat sb;

	v.version = "1.2.3";
	assert_int_equal(exporter_open(path_of("a.log"), 0, 5, 0600, &e), 0);
	assert_int_equal(exporter_write(e, &v.base), 0);
	assert_int_equal(exporter_write(e, &v.base), 0);
	assert_true(exporter_pending(e));
	assert_int_equal(exporter_flush(e), 0);
	exporter_get_stats(e, &st);
	assert_int_equal(st.lines, 2);
	exporter_close(e);
	assert_int_equal(read_file(path_of("a.log"), 4096, &data, NULL), 0);
	assert_string_equal(data, "{\"version\":\"1.2.3\"}\n{\"version\":\"1.2.3\"}\n");
	assert_int_equal(stat(path_of("a.log"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_export_rotates_by_size_and_keeps_backups(void **state)
{
	char line[100];
	struct exporter *e;
	struct exporter_stats st;
	size_t total = 0;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	/* 1000 bytes per file: 10 lines of 100 bytes (99 + newline) */
	assert_int_equal(exporter_open(path_of("r.log"), 1000, 2, 0600, &e), 0);
	for (int i = 0; i < 45; i++)
		assert_int_equal(exporter_write_json(e, line, strlen(line)), 0);
	exporter_get_stats(e, &st);
	exporter_close(e);
	assert_int_equal(st.rotations, 4);
	assert_int_equal(count_lines(path_of("r.log")), 5);
	assert_int_equal(count_lines(path_of("r.log.1")), 10);
	assert_int_equal(count_lines(path_of("r.log.2")), 10);
	/* only two backups are kept */
	assert_int_equal(access(path_of("r.log.3"), F_OK), -1);
	total = count_lines(path_of("r.log")) + count_lines(path_of("r.log.1")) +
		count_lines(path_of("r.log.2"));
	assert_int_equal(total, 25);
}

static void test_export_appends_to_an_existing_file(void **state)
{
	struct exporter *e;

	assert_int_equal(write_file(path_of("b.log"), "{}\n", 3, 0600), 0);
	assert_int_equal(exporter_open(path_of("b.log"), 0, 1, 0600, &e), 0);
	assert_int_equal(exporter_write_json(e, "{\"a\":1}", 7), 0);
	exporter_close(e);
	assert_int_equal(count_lines(path_of("b.log")), 2);
}

static void test_export_open_fails_cleanly(void **state)
{
	struct exporter *e = NULL;

	assert_true(exporter_open("/nonexistent/dir/x.log", 0, 1, 0600, &e) < 0);
	assert_null(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_writes_json_lines),
		cmocka_unit_test(test_export_rotates_by_size_and_keeps_backups),
		cmocka_unit_test(test_export_appends_to_an_existing_file),
		cmocka_unit_test(test_export_open_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
