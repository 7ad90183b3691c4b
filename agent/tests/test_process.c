// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent/process.h"
#include "lib/util.h"

static struct process_cache *new_cache(size_t capacity)
{
	struct process_cache_config cfg = {
		.node_name = "node1",
		.boot_time_ns = 1000000000ull,
		.capacity = capacity,
		.process_cred = true,
		.process_ns = true,
	};
	struct process_cache *c = NULL;

	assert_int_equal(process_cache_new(&cfg, &c), 0);
	return c;
}

static struct process *add(struct process_cache *c, uint32_t pid, uint32_t ppid, uint64_t ktime,
			   const char *binary)
{
	struct process_info in = {
		.pid = pid,
		.tid = pid,
		.ppid = ppid,
		.ktime = ktime,
		.flags = PROC_F_EXECVE,
		.binary = binary,
		.args = "-x y",
		.cwd = "/tmp",
		.auid = UINT32_MAX,
	};
	return process_cache_add(c, &in);
}

static void test_process_exec_id_is_base64_of_node_ktime_pid(void **state)
{
	char buf[128], raw[128];
	ssize_t n;

	process_exec_id("kind-worker2", 279294116657333ull, 3008300, buf, sizeof(buf));
	/* the exec_id of the process in Tetragon's documentation example */
	assert_string_equal(buf, "a2luZC13b3JrZXIyOjI3OTI5NDExNjY1NzMzMzozMDA4MzAw");
	n = base64_decode(buf, strlen(buf), raw, sizeof(raw) - 1);
	assert_true(n > 0);
	raw[n] = '\0';
	assert_string_equal(raw, "kind-worker2:279294116657333:3008300");
}

static void test_process_container_id_from_cgroup_names(void **state)
{
	const char *id = "5f5df2f9ff01fc737c88f83254ca37c0c214ff7a648c9eabd5f01edcc0804e56";
	char name[256], buf[64];

	snprintf(name, sizeof(name), "docker-%s.scope", id);
	process_container_id(name, buf, sizeof(buf));
	assert_string_equal(buf, "5f5df2f9ff01fc737c88f83254ca37c");
	snprintf(name, sizeof(name), "cri-containerd-%s.scope", id);
	process_container_id(name, buf, sizeof(buf));
	assert_string_equal(buf, "5f5df2f9ff01fc737c88f83254ca37c");
	process_container_id(id, buf, sizeof(buf));
	assert_string_equal(buf, "5f5df2f9ff01fc737c88f83254ca37c");
	process_container_id("session-3.scope", buf, sizeof(buf));
	assert_string_equal(buf, "");
	process_container_id("user@0.service", buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* 65 hex digits is not a container id */
	snprintf(name, sizeof(name), "%sa", id);
	process_container_id(name, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_process_join_args_quotes_spaces(void **state)
{
	static const char args[] = "-c\0echo hello\0x";
	char *s = process_join_args(args, sizeof(args) - 1);

	assert_string_equal(s, "-c \"echo hello\" x");
	free(s);
	s = process_join_args("", 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_process_cache_links_parents_and_counts_refs(void **state)
{
	struct process_cache *c = new_cache(16);
	struct process *parent, *child, *got;
	Tetragon__Process *pb;

	parent = add(c, 100, 1, 1000, "/bin/bash");
	child = add(c, 101, 100, 2000, "/bin/ls");
	assert_non_null(parent);
	assert_non_null(child);
	assert_ptr_equal(child->parent, parent);
	assert_string_equal(child->parent_exec_id, parent->exec_id);
	/* 1 mapped + 1 child + 1 ours */
	assert_int_equal(parent->refcnt, 3);
	pb = process_pb(child);
	assert_string_equal(pb->binary, "/bin/ls");
	assert_int_equal(pb->pid->value, 101);
	assert_string_equal(pb->parent_exec_id, parent->exec_id);
	assert_int_equal(pb->start_time->seconds, 1);
	assert_int_equal(pb->start_time->nanos, 2000);
	assert_string_equal(pb->flags, "execve");
	got = process_cache_get(c, 101);
	assert_ptr_equal(got, child);
	process_put(c, got);
	process_put(c, child);
	process_put(c, parent);
	process_cache_free(c);
}

static void test_process_cache_exit_releases_entries(void **state)
{
	struct process_cache *c = new_cache(16);
	struct process_cache_stats st;
	struct process *p, *q;

	p = add(c, 100, 1, 1000, "/bin/bash");
	process_put(c, p);
	q = add(c, 101, 100, 2000, "/bin/ls");
	process_put(c, q);
	process_cache_get_stats(c, &st);
	assert_int_equal(st.size, 2);

	/* the parent exits first: the child still holds it */
	p = process_cache_exit(c, 100);
	assert_non_null(p);
	assert_true(p->exited);
	process_put(c, p);
	assert_null(process_cache_get(c, 100));
	process_cache_get_stats(c, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.misses, 1);

	/* then the child: both go */
	q = process_cache_exit(c, 101);
	process_put(c, q);
	process_cache_get_stats(c, &st);
	assert_int_equal(st.size, 0);
	process_cache_free(c);
}

static void test_process_cache_exec_replaces_identity(void **state)
{
	struct process_cache *c = new_cache(16);
	struct process *p, *q, *forked;

	p = add(c, 100, 1, 1000, "/bin/bash");
	forked = process_cache_fork(c, 200, 200, 100, 200, 1500);
	assert_non_null(forked);
	assert_string_equal(forked->binary, "/bin/bash");
	assert_string_equal(forked->flags_str, "clone");
	process_put(c, forked);
	q = add(c, 200, 100, 3000, "/usr/bin/cat");
	/* a process that was forked while watched keeps "clone" through its exec */
	assert_string_equal(q->flags_str, "execve clone");
	assert_ptr_equal(q->parent, p);
	assert_string_equal(process_cache_get(c, 200)->binary, "/usr/bin/cat");
	process_put(c, q);
	process_put(c, q);
	process_put(c, p);
	process_cache_free(c);
}

static void test_process_cache_evicts_dead_entries_first(void **state)
{
	struct process_cache *c = new_cache(4);
	struct process_cache_stats st;
	struct process *p;

	/* a long-lived process and a dead one kept for its child */
	p = add(c, 1, 0, 1, "/sbin/init");
	process_put(c, p);
	p = add(c, 10, 1, 10, "/bin/sh");
	process_put(c, p);
	p = add(c, 11, 10, 11, "/bin/sleep");
	process_put(c, p);
	p = process_cache_exit(c, 10);
	process_put(c, p);
	p = add(c, 12, 1, 12, "/bin/true");
	process_put(c, p);
	process_cache_get_stats(c, &st);
	assert_int_equal(st.size, 4);
	assert_int_equal(st.evictions, 0);

	/* one more: the dead /bin/sh goes, not a live process */
	p = add(c, 13, 1, 13, "/bin/false");
	process_put(c, p);
	process_cache_get_stats(c, &st);
	assert_int_equal(st.size, 4);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.evicted_alive, 0);
	p = process_cache_get(c, 11);
	assert_non_null(p);
	/* the orphan lost its link but keeps its parent's exec_id */
	assert_null(p->parent);
	assert_true(strlen(p->parent_exec_id) > 0);
	process_put(c, p);

	/* past the limit with only live entries: the least recently used live one goes (12) */
	assert_non_null(p = process_cache_get(c, 1));
	process_put(c, p);
	p = add(c, 14, 1, 14, "/bin/echo");
	process_put(c, p);
	process_cache_get_stats(c, &st);
	assert_int_equal(st.size, 4);
	assert_int_equal(st.evicted_alive, 1);
	assert_non_null(p = process_cache_get(c, 1));
	process_put(c, p);
	assert_non_null(p = process_cache_get(c, 11));
	process_put(c, p);
	assert_null(process_cache_get(c, 12));
	process_cache_free(c);
}

static void test_process_cache_stays_bounded(void **state)
{
	struct process_cache *c = new_cache(64);
	struct process_cache_stats st;

	for (uint32_t i = 0; i < 10000; i++) {
		struct process *p = add(c, 1000 + i, i ? 1000 + i - 1 : 1, i + 1, "/bin/x");

		assert_non_null(p);
		process_put(c, p);
		if (i % 3 == 0) {
			p = process_cache_exit(c, 1000 + i);
			process_put(c, p);
		}
	}
	process_cache_get_stats(c, &st);
	assert_true(st.size <= 64);
	assert_true(st.evictions > 0);
	process_cache_free(c);
}

static void test_process_credentials_and_namespaces(void **state)
{
	struct process_cache_config cfg = {
		.node_name = "n",
		.capacity = 8,
		.process_cred = true,
		.process_ns = true,
		.host_ns = { [NS_NET] = 4026531840u },
	};
	struct process_info in = {
		.pid = 5,
		.tid = 5,
		.binary = "/bin/x",
		.cap_effective = (1ull << 21) | (1ull << 0),
		.cap_permitted = 1ull << 39,
		.uid = 1000,
		.euid = 0,
		.ns = { [NS_NET] = 4026531840u, [NS_MNT] = 4026532000u },
	};
	struct process_cache *c;
	struct process *p;
	Tetragon__Process *pb;

	assert_int_equal(process_cache_new(&cfg, &c), 0);
	p = process_cache_add(c, &in);
	pb = process_pb(p);
	assert_int_equal(pb->cap->n_effective, 2);
	assert_int_equal(pb->cap->effective[0], TETRAGON__CAPABILITIES_TYPE__CAP_CHOWN);
	assert_int_equal(pb->cap->effective[1], TETRAGON__CAPABILITIES_TYPE__CAP_SYS_ADMIN);
	assert_int_equal(pb->cap->permitted[0], TETRAGON__CAPABILITIES_TYPE__CAP_BPF);
	assert_int_equal(pb->process_credentials->uid->value, 1000);
	assert_int_equal(pb->process_credentials->euid->value, 0);
	assert_true(pb->ns->net->is_host);
	assert_false(pb->ns->mnt->is_host);
	assert_null(pb->ns->uts);
	process_put(c, p);
	process_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_exec_id_is_base64_of_node_ktime_pid),
		cmocka_unit_test(test_process_container_id_from_cgroup_names),
		cmocka_unit_test(test_process_join_args_quotes_spaces),
		cmocka_unit_test(test_process_cache_links_parents_and_counts_refs),
		cmocka_unit_test(test_process_cache_exit_releases_entries),
		cmocka_unit_test(test_process_cache_exec_replaces_identity),
		cmocka_unit_test(test_process_cache_evicts_dead_entries_first),
		cmocka_unit_test(test_process_cache_stays_bounded),
		cmocka_unit_test(test_process_credentials_and_namespaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
