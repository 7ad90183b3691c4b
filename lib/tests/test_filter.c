// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/filter.h"
#include "google/protobuf/field_mask.pb-c.h"

/* An exec event of binary/pid with a parent, built on the heap as unpack would. */
static Tetragon__GetEventsResponse *exec_event(const char *binary, uint32_t pid, const char *args,
					       const char *parent_binary, uint32_t ppid)
{
	Tetragon__GetEventsResponse ev = TETRAGON__GET_EVENTS_RESPONSE__INIT;
	Tetragon__ProcessExec exec = TETRAGON__PROCESS_EXEC__INIT;
	Tetragon__Process p = TETRAGON__PROCESS__INIT, parent = TETRAGON__PROCESS__INIT;
	Google__Protobuf__UInt32Value v1 = GOOGLE__PROTOBUF__UINT32_VALUE__INIT, v2 = v1;
	uint8_t buf[4096];
	size_t n;

	p.binary = (char *)binary;
	p.arguments = (char *)args;
	p.exec_id = "id";
	v1.value = pid;
	p.pid = &v1;
	parent.binary = (char *)parent_binary;
	v2.value = ppid;
	parent.pid = &v2;
	exec.process = &p;
	exec.parent = &parent;
	ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	ev.process_exec = &exec;
	ev.node_name = "n1";
	n = tetragon__get_events_response__pack(&ev, buf);
	return tetragon__get_events_response__unpack(NULL, n, buf);
}

static Tetragon__GetEventsResponse *exit_event(const char *binary, uint32_t pid)
{
	Tetragon__GetEventsResponse *e = exec_event(binary, pid, "", "/bin/sh", 1);
	Tetragon__ProcessExec *exec = e->process_exec;

	e->event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT;
	e->process_exit = calloc(1, sizeof(*e->process_exit));
	tetragon__process_exit__init(e->process_exit);
	e->process_exit->process = exec->process;
	e->process_exit->parent = exec->parent;
	exec->process = exec->parent = NULL;
	tetragon__process_exec__free_unpacked(exec, NULL);
	return e;
}

static bool matches(Tetragon__Filter *allow, Tetragon__Filter *deny,
		    Tetragon__GetEventsResponse *ev)
{
	Tetragon__Filter *a[1] = { allow }, *d[1] = { deny };
	struct event_filter *f = NULL;
	char err[128];
	bool m;

	assert_int_equal(event_filter_new(a, allow ? 1 : 0, d, deny ? 1 : 0, &f, err, sizeof(err)),
			 0);
	m = event_filter_match(f, ev);
	event_filter_free(f);
	return m;
}

static void test_filter_empty_allows_everything(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/bin/ls", 10, "-l", "/bin/sh", 1);

	assert_true(matches(NULL, NULL, ev));
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void test_filter_binary_regex(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/usr/bin/curl", 10, "", "/bin/sh", 1);
	Tetragon__Filter f = TETRAGON__FILTER__INIT;
	char *re[] = { "^/usr/bin/(curl|wget)$" }, *other[] = { "nginx" };

	f.binary_regex = re;
	f.n_binary_regex = 1;
	assert_true(matches(&f, NULL, ev));
	f.binary_regex = other;
	assert_false(matches(&f, NULL, ev));
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void test_filter_fields_are_anded_lists_ored(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/usr/bin/curl", 10, "", "/bin/sh", 1);
	Tetragon__Filter f = TETRAGON__FILTER__INIT, g = TETRAGON__FILTER__INIT;
	Tetragon__Filter *list[2] = { &f, &g };
	struct event_filter *ef;
	char *re[] = { "curl" };
	uint32_t pids[] = { 11 }, pid10[] = { 10 };
	char err[64];

	f.binary_regex = re;
	f.n_binary_regex = 1;
	f.pid = pids;
	f.n_pid = 1;
	assert_false(matches(&f, NULL, ev));
	g.pid = pid10;
	g.n_pid = 1;
	assert_int_equal(event_filter_new(list, 2, NULL, 0, &ef, err, sizeof(err)), 0);
	assert_true(event_filter_match(ef, ev));
	event_filter_free(ef);
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void test_filter_deny_wins(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/usr/bin/curl", 10, "", "/bin/sh", 1);
	Tetragon__Filter deny = TETRAGON__FILTER__INIT;
	Tetragon__EventType exec[] = { TETRAGON__EVENT_TYPE__PROCESS_EXEC };

	deny.event_set = exec;
	deny.n_event_set = 1;
	assert_false(matches(NULL, &deny, ev));
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void test_filter_event_set_arguments_and_parent(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/bin/ls", 10, "-la /tmp", "/bin/bash", 1);
	Tetragon__GetEventsResponse *ex = exit_event("/bin/ls", 10);
	Tetragon__Filter f = TETRAGON__FILTER__INIT;
	Tetragon__EventType exit_only[] = { TETRAGON__EVENT_TYPE__PROCESS_EXIT };
	char *args[] = { "-la" }, *parent[] = { "bash$" }, *parent_no[] = { "zsh" };

	f.event_set = exit_only;
	f.n_event_set = 1;
	assert_false(matches(&f, NULL, ev));
	assert_true(matches(&f, NULL, ex));
	f.n_event_set = 0;
	f.arguments_regex = args;
	f.n_arguments_regex = 1;
	assert_true(matches(&f, NULL, ev));
	f.n_arguments_regex = 0;
	f.parent_binary_regex = parent;
	f.n_parent_binary_regex = 1;
	assert_true(matches(&f, NULL, ev));
	f.parent_binary_regex = parent_no;
	assert_false(matches(&f, NULL, ev));
	tetragon__get_events_response__free_unpacked(ev, NULL);
	tetragon__get_events_response__free_unpacked(ex, NULL);
}

static void test_filter_pid_set_follows_children(void **state)
{
	Tetragon__GetEventsResponse *child = exec_event("/bin/sh", 20, "", "/bin/bash", 10);
	Tetragon__GetEventsResponse *grandchild = exec_event("/bin/ls", 30, "", "/bin/sh", 20);
	Tetragon__GetEventsResponse *other = exec_event("/bin/ls", 40, "", "/bin/sh", 99);
	Tetragon__Filter f = TETRAGON__FILTER__INIT, *list[1] = { &f };
	uint32_t set[] = { 10 };
	struct event_filter *ef;
	char err[64];

	f.pid_set = set;
	f.n_pid_set = 1;
	assert_int_equal(event_filter_new(list, 1, NULL, 0, &ef, err, sizeof(err)), 0);
	assert_true(event_filter_match(ef, child));
	assert_true(event_filter_match(ef, grandchild));
	assert_false(event_filter_match(ef, other));
	event_filter_free(ef);
	tetragon__get_events_response__free_unpacked(child, NULL);
	tetragon__get_events_response__free_unpacked(grandchild, NULL);
	tetragon__get_events_response__free_unpacked(other, NULL);
}

static void test_filter_namespace_and_pods_on_a_host(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/bin/ls", 10, "", "/bin/sh", 1);
	Tetragon__Filter f = TETRAGON__FILTER__INIT;
	char *host[] = { "" }, *kube[] = { "kube-system" }, *pod[] = { "." };

	f.namespace_ = host;
	f.n_namespace_ = 1;
	assert_true(matches(&f, NULL, ev));
	f.namespace_ = kube;
	assert_false(matches(&f, NULL, ev));
	f.n_namespace_ = 0;
	f.pod_regex = pod;
	f.n_pod_regex = 1;
	assert_false(matches(&f, NULL, ev));
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void test_filter_rejects_bad_regex_and_unsupported(void **state)
{
	Tetragon__Filter f = TETRAGON__FILTER__INIT, *list[1] = { &f };
	char *bad[] = { "(" }, *cel[] = { "true" };
	struct event_filter *ef = NULL;
	char err[128] = "";

	f.binary_regex = bad;
	f.n_binary_regex = 1;
	assert_int_equal(event_filter_new(list, 1, NULL, 0, &ef, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "binary_regex"));
	f.n_binary_regex = 0;
	f.cel_expression = cel;
	f.n_cel_expression = 1;
	assert_int_equal(event_filter_new(list, 1, NULL, 0, &ef, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cel_expression"));
	assert_null(ef);
}

static void test_filter_event_type_names(void **state)
{
	Tetragon__EventType t;

	assert_int_equal(event_type_from_name("PROCESS_EXEC", &t), 0);
	assert_int_equal(t, TETRAGON__EVENT_TYPE__PROCESS_EXEC);
	assert_int_equal(event_type_from_name("process_exit", &t), 0);
	assert_int_equal(t, TETRAGON__EVENT_TYPE__PROCESS_EXIT);
	assert_int_equal(event_type_from_name("kprobe", &t), 0);
	assert_int_equal(t, TETRAGON__EVENT_TYPE__PROCESS_KPROBE);
	assert_int_equal(event_type_from_name("bogus", &t), -EINVAL);
	assert_string_equal(event_type_name(TETRAGON__EVENT_TYPE__PROCESS_LSM), "PROCESS_LSM");
}

static void test_field_filter_include_and_exclude(void **state)
{
	Tetragon__GetEventsResponse *ev = exec_event("/bin/ls", 10, "-l", "/bin/sh", 1);
	Tetragon__FieldFilter inc = TETRAGON__FIELD_FILTER__INIT, exc = inc;
	Tetragon__FieldFilter *list[2] = { &inc, &exc };
	Google__Protobuf__FieldMask m1 = GOOGLE__PROTOBUF__FIELD_MASK__INIT, m2 = m1;
	char *keep[] = { "process.binary", "process.pid", "parent" }, *drop[] = { "parent.pid" };
	struct field_filter *ff;
	char err[64];

	m1.paths = keep;
	m1.n_paths = 3;
	inc.fields = &m1;
	inc.action = TETRAGON__FIELD_FILTER_ACTION__INCLUDE;
	m2.paths = drop;
	m2.n_paths = 1;
	exc.fields = &m2;
	exc.action = TETRAGON__FIELD_FILTER_ACTION__EXCLUDE;
	assert_int_equal(field_filter_new(list, 2, &ff, err, sizeof(err)), 0);
	assert_true(field_filter_applies(ff, TETRAGON__EVENT_TYPE__PROCESS_EXEC));
	field_filter_apply(ff, ev);
	assert_string_equal(ev->process_exec->process->binary, "/bin/ls");
	assert_int_equal(ev->process_exec->process->pid->value, 10);
	assert_string_equal(ev->process_exec->process->arguments, "");
	assert_string_equal(ev->process_exec->process->exec_id, "");
	assert_non_null(ev->process_exec->parent);
	assert_string_equal(ev->process_exec->parent->binary, "/bin/sh");
	assert_null(ev->process_exec->parent->pid);
	/* node_name is outside the event message: untouched */
	assert_string_equal(ev->node_name, "n1");
	field_filter_free(ff);
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void test_field_filter_event_set_and_invert(void **state)
{
	Tetragon__FieldFilter f = TETRAGON__FIELD_FILTER__INIT, *list[1] = { &f };
	Google__Protobuf__FieldMask m = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	Google__Protobuf__BoolValue yes = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
	Tetragon__EventType exec[] = { TETRAGON__EVENT_TYPE__PROCESS_EXEC };
	char *paths[] = { "parent" };
	struct field_filter *ff;
	char err[64];

	m.paths = paths;
	m.n_paths = 1;
	f.fields = &m;
	f.action = TETRAGON__FIELD_FILTER_ACTION__EXCLUDE;
	f.event_set = exec;
	f.n_event_set = 1;
	assert_int_equal(field_filter_new(list, 1, &ff, err, sizeof(err)), 0);
	assert_true(field_filter_applies(ff, TETRAGON__EVENT_TYPE__PROCESS_EXEC));
	assert_false(field_filter_applies(ff, TETRAGON__EVENT_TYPE__PROCESS_EXIT));
	field_filter_free(ff);
	yes.value = true;
	f.invert_event_set = &yes;
	assert_int_equal(field_filter_new(list, 1, &ff, err, sizeof(err)), 0);
	assert_false(field_filter_applies(ff, TETRAGON__EVENT_TYPE__PROCESS_EXEC));
	assert_true(field_filter_applies(ff, TETRAGON__EVENT_TYPE__PROCESS_EXIT));
	field_filter_free(ff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_empty_allows_everything),
		cmocka_unit_test(test_filter_binary_regex),
		cmocka_unit_test(test_filter_fields_are_anded_lists_ored),
		cmocka_unit_test(test_filter_deny_wins),
		cmocka_unit_test(test_filter_event_set_arguments_and_parent),
		cmocka_unit_test(test_filter_pid_set_follows_children),
		cmocka_unit_test(test_filter_namespace_and_pods_on_a_host),
		cmocka_unit_test(test_filter_rejects_bad_regex_and_unsupported),
		cmocka_unit_test(test_filter_event_type_names),
		cmocka_unit_test(test_field_filter_include_and_exclude),
		cmocka_unit_test(test_field_filter_event_set_and_invert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
