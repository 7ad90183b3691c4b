// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/compact.h"
#include "tetragon/events.pb-c.h"

struct fixture {
	Tetragon__GetEventsResponse ev;
	Tetragon__ProcessExec exec;
	Tetragon__ProcessExit exit;
	Tetragon__ProcessKprobe kprobe;
	Tetragon__Process proc;
	Tetragon__Capabilities caps;
	Tetragon__CapabilitiesType eff[2];
	Google__Protobuf__Timestamp time;
	struct sbuf out;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	tetragon__get_events_response__init(&f.ev);
	tetragon__process__init(&f.proc);
	f.proc.binary = "/usr/bin/curl";
	f.proc.arguments = "https://example.com";
	f.ev.node_name = "node1";
	google__protobuf__timestamp__init(&f.time);
	f.time.seconds = 1727750382;
	f.time.nanos = 761250000;
	f.ev.time = &f.time;
	sbuf_init(&f.out);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sbuf_free(&f->out);
	return 0;
}

static const char *render(struct fixture *f, bool timestamps)
{
	struct compact_opts o = { .timestamps = timestamps };

	sbuf_reset(&f->out);
	assert_int_equal(compact_render(&f->ev, &o, &f->out), 0);
	return f->out.buf;
}

static void exec_event(struct fixture *f)
{
	tetragon__process_exec__init(&f->exec);
	f->exec.process = &f->proc;
	f->ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	f->ev.process_exec = &f->exec;
}

static void test_compact_exec_line(void **state)
{
	struct fixture *f = *state;

	exec_event(f);
	assert_string_equal(render(f, false), "🚀 process node1 /usr/bin/curl https://example.com");
}

static void test_compact_exec_without_arguments_keeps_the_separator(void **state)
{
	struct fixture *f = *state;

	exec_event(f);
	f->proc.arguments = "";
	assert_string_equal(render(f, false), "🚀 process node1 /usr/bin/curl ");
}

static void test_compact_exit_status_and_signal(void **state)
{
	struct fixture *f = *state;

	tetragon__process_exit__init(&f->exit);
	f->exit.process = &f->proc;
	f->exit.status = 3;
	f->ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT;
	f->ev.process_exit = &f->exit;
	assert_string_equal(render(f, false),
			    "💥 exit    node1 /usr/bin/curl https://example.com 3");
	f->exit.signal = "SIGKILL";
	f->exit.status = 0;
	assert_string_equal(render(f, false),
			    "💥 exit    node1 /usr/bin/curl https://example.com SIGKILL");
}

static void test_compact_timestamps_are_rfc3339nano(void **state)
{
	struct fixture *f = *state;

	exec_event(f);
	assert_string_equal(render(f, true), "2024-10-01T02:39:42.76125Z 🚀 process node1 "
					     "/usr/bin/curl https://example.com");
}

static void test_compact_quotes_binaries_with_spaces(void **state)
{
	struct fixture *f = *state;

	exec_event(f);
	f->proc.binary = "/tmp/my prog";
	f->proc.arguments = "";
	assert_string_equal(render(f, false), "🚀 process node1 \"/tmp/my prog\" ");
}

static void test_compact_sys_admin_trailer_at_column_120(void **state)
{
	struct fixture *f = *state;
	const char *line, *trailer;

	exec_event(f);
	tetragon__capabilities__init(&f->caps);
	f->eff[0] = TETRAGON__CAPABILITIES_TYPE__CAP_SYS_ADMIN;
	f->caps.effective = f->eff;
	f->caps.n_effective = 1;
	f->proc.cap = &f->caps;
	line = render(f, false);
	trailer = strstr(line, "🛑 CAP_SYS_ADMIN");
	assert_non_null(trailer);
	/* 120 columns, the first of them the 1-column emoji (4 bytes in UTF-8) */
	assert_int_equal(trailer - line, 120 + 3 + 1);
	f->proc.cap = NULL;
}

static void test_compact_kprobe_lines(void **state)
{
	struct fixture *f = *state;
	Tetragon__KprobeArgument a0 = TETRAGON__KPROBE_ARGUMENT__INIT;
	Tetragon__KprobeArgument a1 = TETRAGON__KPROBE_ARGUMENT__INIT;
	Tetragon__KprobeArgument a2 = TETRAGON__KPROBE_ARGUMENT__INIT;
	Tetragon__KprobeArgument *args[3] = { &a0, &a1, &a2 };
	Tetragon__KprobeFile file = TETRAGON__KPROBE_FILE__INIT;

	tetragon__process_kprobe__init(&f->kprobe);
	f->kprobe.process = &f->proc;
	f->kprobe.args = args;
	f->kprobe.n_args = 3;
	f->ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE;
	f->ev.process_kprobe = &f->kprobe;
	file.path = "/etc/passwd";
	a0.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG;
	a0.file_arg = &file;
	a2.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
	a2.size_arg = 1024;
	f->kprobe.function_name = "__x64_sys_write";
	assert_string_equal(render(f, false),
			    "📝 write   node1 /usr/bin/curl /etc/passwd 1024 bytes");
	f->kprobe.function_name = "fd_install";
	a1.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG;
	a1.file_arg = &file;
	assert_string_equal(render(f, false), "📬 open    node1 /usr/bin/curl /etc/passwd");
	f->kprobe.function_name = "__x64_sys_close";
	assert_string_equal(render(f, false), "📪 close   node1 /usr/bin/curl /etc/passwd");
	f->kprobe.function_name = "do_something";
	assert_string_equal(render(f, false), "❓ syscall node1 /usr/bin/curl do_something");
}

static void test_compact_unknown_event_renders_nothing(void **state)
{
	struct fixture *f = *state;
	struct compact_opts o = { 0 };

	f->ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_TEST;
	sbuf_reset(&f->out);
	assert_int_equal(compact_render(&f->ev, &o, &f->out), -ENOENT);
	assert_int_equal(f->out.len, 0);
}

static void test_compact_color(void **state)
{
	struct fixture *f = *state;
	struct compact_opts o = { .color = true };

	exec_event(f);
	sbuf_reset(&f->out);
	assert_int_equal(compact_render(&f->ev, &o, &f->out), 0);
	assert_non_null(strstr(f->out.buf, "\x1b[35m/usr/bin/curl\x1b[0m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compact_exec_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_compact_exec_without_arguments_keeps_the_separator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_exit_status_and_signal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact_timestamps_are_rfc3339nano, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact_quotes_binaries_with_spaces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact_sys_admin_trailer_at_column_120, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact_kprobe_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_unknown_event_renders_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact_color, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
