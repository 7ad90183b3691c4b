// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/filter.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "manager/manager.h"

static struct ingest_event ie;

static int setup(void **state)
{
	sbuf_init(&ie.strings);
	return 0;
}

static int teardown(void **state)
{
	sbuf_free(&ie.strings);
	return 0;
}

/* An exec event with a parent, packed as an agent sends it. */
static grpc_slice exec_event(const char *node, bool with_time)
{
	Tetragon__GetEventsResponse ev = TETRAGON__GET_EVENTS_RESPONSE__INIT;
	Tetragon__ProcessExec ex = TETRAGON__PROCESS_EXEC__INIT;
	Tetragon__Process p = TETRAGON__PROCESS__INIT, parent = TETRAGON__PROCESS__INIT;
	Google__Protobuf__UInt32Value pid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT, ppid = pid;
	Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	pid.value = 4242;
	ppid.value = 1;
	p.pid = &pid;
	p.binary = "/usr/bin/curl";
	p.exec_id = "bjE6MTIzOjQyNDI=";
	p.arguments = "https://example.com";
	parent.pid = &ppid;
	parent.binary = "/usr/bin/bash";
	parent.exec_id = "parent-id";
	ex.process = &p;
	ex.parent = &parent;
	ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	ev.process_exec = &ex;
	ev.node_name = (char *)node;
	t.seconds = 1700000000;
	t.nanos = 123;
	if (with_time)
		ev.time = &t;
	return rpc_pack(&ev.base);
}

static grpc_slice kprobe_event(void)
{
	Tetragon__GetEventsResponse ev = TETRAGON__GET_EVENTS_RESPONSE__INIT;
	Tetragon__ProcessKprobe kp = TETRAGON__PROCESS_KPROBE__INIT;
	Tetragon__Process p = TETRAGON__PROCESS__INIT;
	Tetragon__KprobeArgument arg = TETRAGON__KPROBE_ARGUMENT__INIT, *args[1] = { &arg };
	char *tags[] = { "a", "b" };

	p.binary = "/bin/dd";
	kp.process = &p;
	kp.function_name = "sys_write";
	kp.policy_name = "deny-write";
	kp.action = TETRAGON__KPROBE_ACTION__KPROBE_ACTION_SIGKILL;
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG;
	arg.string_arg = "/etc/passwd";
	kp.args = args;
	kp.n_args = 1;
	kp.tags = tags;
	kp.n_tags = 2;
	ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE;
	ev.process_kprobe = &kp;
	ev.node_name = "n1";
	return rpc_pack(&ev.base);
}

static void test_ingest_scans_exec(void **state)
{
	grpc_slice s = exec_event("n1", true);

	assert_int_equal(ingest_scan(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), 5, &ie), 0);
	assert_int_equal(ie.e.type, TETRAGON__EVENT_TYPE__PROCESS_EXEC);
	assert_int_equal(ie.e.time_ns, 1700000000ull * 1000000000ull + 123);
	assert_string_equal(ie.e.binary, "/usr/bin/curl");
	assert_string_equal(ie.e.exec_id, "bjE6MTIzOjQyNDI=");
	assert_true(ie.e.has_pid);
	assert_int_equal(ie.e.pid, 4242);
	assert_null(ie.e.policy);
	assert_int_equal(ie.e.action, 0);
	assert_string_equal(ie.node_name, "n1");
	assert_ptr_equal(ie.e.data, GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);

	/* no time: the time it arrived */
	s = exec_event("", false);
	assert_int_equal(ingest_scan(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), 777, &ie), 0);
	assert_int_equal(ie.e.time_ns, 777);
	assert_string_equal(ie.node_name, "");
	grpc_slice_unref(s);
}

static void test_ingest_scans_kprobe(void **state)
{
	grpc_slice s = kprobe_event();

	assert_int_equal(ingest_scan(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), 9, &ie), 0);
	assert_int_equal(ie.e.type, TETRAGON__EVENT_TYPE__PROCESS_KPROBE);
	assert_string_equal(ie.e.policy, "deny-write");
	assert_int_equal(ie.e.action, TETRAGON__KPROBE_ACTION__KPROBE_ACTION_SIGKILL);
	assert_string_equal(ie.e.binary, "/bin/dd");
	assert_false(ie.e.has_pid);
	grpc_slice_unref(s);
}

static void test_ingest_sets_node_name(void **state)
{
	grpc_slice s = exec_event("wrong", true);
	Tetragon__GetEventsResponse *back;
	struct sbuf out;

	sbuf_init(&out);
	assert_int_equal(ingest_scan(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), 1, &ie), 0);
	assert_true(ingest_set_node(&ie, "node-a", &out));
	assert_string_equal(ie.node_name, "node-a");
	assert_ptr_equal(ie.e.data, out.buf);
	/* the new encoding decodes to the same event, attributed to node-a */
	back = tetragon__get_events_response__unpack(NULL, ie.e.len, ie.e.data);
	assert_non_null(back);
	assert_string_equal(back->node_name, "node-a");
	assert_string_equal(back->process_exec->process->binary, "/usr/bin/curl");
	assert_int_equal(back->process_exec->process->pid->value, 4242);
	assert_int_equal(back->time->seconds, 1700000000);
	tetragon__get_events_response__free_unpacked(back, NULL);
	/* and it scans the same */
	assert_int_equal(ingest_scan(out.buf, out.len, 1, &ie), 0);
	assert_string_equal(ie.node_name, "node-a");
	assert_string_equal(ie.e.binary, "/usr/bin/curl");
	/* already right: nothing to do */
	assert_false(ingest_set_node(&ie, "node-a", &out));
	grpc_slice_unref(s);
	sbuf_free(&out);
}

static void test_ingest_refuses_what_does_not_decode(void **state)
{
	grpc_slice s = exec_event("n1", true);
	const uint8_t *good = GRPC_SLICE_START_PTR(s);
	size_t len = GRPC_SLICE_LENGTH(s);
	uint8_t *buf = malloc(len + 16);
	uint64_t rnd = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0, refused = 0;

	/* cut short anywhere inside a field: refused */
	assert_int_equal(ingest_scan(good, len - 1, 1, &ie), -EBADMSG);
	assert_int_equal(ingest_scan("\x0a\x05\x0a", 3, 1, &ie), -EBADMSG);
	/* a string where a message must be: protobuf-c refuses, so do we */
	assert_int_equal(ingest_scan("\x8a\x3e\x00\x0a\x01\x80", 6, 1, &ie), -EBADMSG);
	assert_int_equal(ingest_scan("", 0, 1, &ie), 0); /* an empty message decodes */

	/* random damage: whatever the scan accepts, protobuf-c decodes */
	for (int i = 0; i < 20000; i++) {
		size_t n = len;
		Tetragon__GetEventsResponse *ev;
		int r;

		memcpy(buf, good, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			buf[rnd % len] = (uint8_t)(rnd >> 32);
		}
		if (i % 5 == 0)
			n = rnd % len;
		r = ingest_scan(buf, n, 1, &ie);
		ev = tetragon__get_events_response__unpack(NULL, n, buf);
		if (r == 0) {
			accepted++;
			if (!ev)
				fail_msg("scan accepted what protobuf-c refuses (round %d)", i);
		} else {
			refused++;
		}
		if (ev)
			tetragon__get_events_response__free_unpacked(ev, NULL);
	}
	assert_true(accepted > 1000 && refused > 1000);
	free(buf);
	grpc_slice_unref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest_scans_exec),
		cmocka_unit_test(test_ingest_scans_kprobe),
		cmocka_unit_test(test_ingest_sets_node_name),
		cmocka_unit_test(test_ingest_refuses_what_does_not_decode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
