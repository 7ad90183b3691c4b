// SPDX-License-Identifier: Apache-2.0
/* The fleet's desired state and how the nodes' reports fold into it (no gRPC server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/status.h>

#include "lib/util.h"
#include "manager/manager.h"

static char dir[] = "/tmp/test_fleet.XXXXXX";
static char db_path[256];
static struct manager m;
/* fold only asks whether a node has a stream; it never looks into it */
static struct session *const ONLINE = (struct session *)&m;

static const char good[] = "apiVersion: cilium.io/v1alpha1\n"
			   "kind: TracingPolicy\n"
			   "metadata:\n"
			   "  name: deny-exec\n"
			   "spec:\n"
			   "  kprobes:\n"
			   "  - call: sys_execve\n"
			   "    syscall: true\n"
			   "    args:\n"
			   "    - index: 0\n"
			   "      type: string\n";

static const char monitor[] = "apiVersion: cilium.io/v1alpha1\n"
			      "kind: TracingPolicy\n"
			      "metadata:\n"
			      "  name: watch\n"
			      "spec:\n"
			      "  options:\n"
			      "  - name: policy-mode\n"
			      "    value: monitor\n"
			      "  kprobes:\n"
			      "  - call: sys_openat\n"
			      "    syscall: true\n";

/* two errors: an unknown field and a bad operator */
static const char bad[] = "apiVersion: cilium.io/v1alpha1\n"
			  "kind: TracingPolicy\n"
			  "metadata:\n"
			  "  name: broken\n"
			  "spec:\n"
			  "  kprobes:\n"
			  "  - call: sys_execve\n"
			  "    syscal: true\n"
			  "    args:\n"
			  "    - index: 0\n"
			  "      type: string\n"
			  "    selectors:\n"
			  "    - matchArgs:\n"
			  "      - index: 0\n"
			  "        operator: Equalz\n"
			  "        values: [\"/bin/sh\"]\n";

static int setup(void **state)
{
	static int n;
	char err[512];

	if (n++ == 0)
		assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/f%d.db", dir, n);
	memset(&m, 0, sizeof(m));
	m.cfg.heartbeat_ms = 5000;
	if (store_open(db_path, &m.store, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(fleet_load(&m), 0);
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < m.n_nodes; i++)
		m.nodes[i]->session = NULL;
	fleet_free(&m);
	m.store = store_close(m.store);
	return 0;
}

static int teardown_all(void **state)
{
	rm_rf(dir);
	return 0;
}

static void test_fleet_refuses_bad_policy_with_every_error(void **state)
{
	char *msg = NULL;
	regex_t re;

	assert_int_equal(fleet_policy_add(&m, bad, strlen(bad), &msg),
			 GRPC_STATUS_INVALID_ARGUMENT);
	assert_non_null(msg);
	/* one line per error, each with line:col and the YAML path */
	assert_int_equal(
		regcomp(&re, "^8:5: spec.kprobes\\[0\\].*syscal", REG_EXTENDED | REG_NEWLINE), 0);
	assert_int_equal(regexec(&re, msg, 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(
		regcomp(&re, "^15:[0-9]+: spec.kprobes\\[0\\].selectors\\[0\\].matchArgs\\[0\\]",
			REG_EXTENDED | REG_NEWLINE),
		0);
	assert_int_equal(regexec(&re, msg, 0, NULL, 0), 0);
	regfree(&re);
	assert_non_null(strchr(msg, '\n'));
	free(msg);
	/* nothing stored, no generation */
	assert_int_equal(m.n_policies, 0);
	assert_int_equal(store_generation(m.store), 0);

	assert_int_equal(fleet_policy_add(&m, "{", 1, &msg), GRPC_STATUS_INVALID_ARGUMENT);
	free(msg);
	assert_int_equal(m.n_policies, 0);

	/* many errors: as many lines as a status message carries, and how many more there were */
	{
		struct sbuf y;

		sbuf_init(&y);
		sbuf_adds(&y, "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\n"
			      "metadata:\n  name: many\nspec:\n  kprobes:\n");
		for (int i = 0; i < 90; i++)
			sbuf_printf(
				&y,
				"  - call: sys_execve%d_with_a_rather_long_name_to_fill_the_lines\n"
				"    syscal: true\n",
				i);
		assert_int_equal(fleet_policy_add(&m, y.buf, y.len, &msg),
				 GRPC_STATUS_INVALID_ARGUMENT);
		assert_true(strlen(msg) < 6100);
		assert_non_null(strstr(msg, "more errors"));
		free(msg);
		sbuf_free(&y);
	}
}

static void test_fleet_add_configure_delete(void **state)
{
	char *msg = NULL, two[2048];
	struct store_policy *p;

	assert_int_equal(fleet_policy_add(&m, good, strlen(good), &msg), GRPC_STATUS_OK);
	assert_null(msg);
	assert_int_equal(m.n_policies, 1);
	p = fleet_policy_find(&m, "deny-exec", "");
	assert_non_null(p);
	assert_true(p->enabled);
	assert_int_equal(p->mode, TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE);
	assert_string_equal(p->yaml, good);
	assert_int_equal(p->generation, 1);

	/* the mode in the YAML's options is the initial mode */
	assert_int_equal(fleet_policy_add(&m, monitor, strlen(monitor), &msg), GRPC_STATUS_OK);
	assert_int_equal(fleet_policy_find(&m, "watch", "")->mode,
			 TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR);

	assert_int_equal(fleet_policy_add(&m, good, strlen(good), &msg),
			 GRPC_STATUS_ALREADY_EXISTS);
	assert_non_null(strstr(msg, "deny-exec"));
	free(msg);
	snprintf(two, sizeof(two), "%s---\n%s", good, monitor);
	assert_int_equal(fleet_policy_add(&m, two, strlen(two), &msg),
			 GRPC_STATUS_INVALID_ARGUMENT);
	free(msg);
	assert_int_equal(store_generation(m.store), 2);

	assert_int_equal(fleet_policy_configure(&m, "deny-exec", "", -1,
						TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR,
						&msg),
			 GRPC_STATUS_OK);
	p = fleet_policy_find(&m, "deny-exec", "");
	assert_int_equal(p->mode, TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR);
	assert_int_equal(p->generation, 3);
	/* the same again changes nothing */
	assert_int_equal(fleet_policy_configure(&m, "deny-exec", "", -1,
						TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR,
						&msg),
			 GRPC_STATUS_OK);
	assert_int_equal(store_generation(m.store), 3);
	assert_int_equal(fleet_policy_configure(&m, "deny-exec", "", 0, -1, &msg), GRPC_STATUS_OK);
	assert_false(fleet_policy_find(&m, "deny-exec", "")->enabled);
	assert_int_equal(fleet_policy_configure(&m, "deny-exec", "", -1, 7, &msg),
			 GRPC_STATUS_INVALID_ARGUMENT);
	free(msg);
	assert_int_equal(fleet_policy_configure(&m, "nope", "", 1, -1, &msg),
			 GRPC_STATUS_NOT_FOUND);
	free(msg);

	assert_int_equal(fleet_policy_delete(&m, "watch", "", &msg), GRPC_STATUS_OK);
	assert_int_equal(m.n_policies, 1);
	assert_int_equal(fleet_policy_delete(&m, "watch", "", &msg), GRPC_STATUS_NOT_FOUND);
	free(msg);
	assert_int_equal(store_generation(m.store), 5);

	/* a restart finds the same desired state */
	teardown(state);
	{
		char err[512];

		memset(&m, 0, sizeof(m));
		assert_int_equal(store_open(db_path, &m.store, err, sizeof(err)), 0);
		assert_int_equal(fleet_load(&m), 0);
	}
	assert_int_equal(m.n_policies, 1);
	p = fleet_policy_find(&m, "deny-exec", "");
	assert_false(p->enabled);
	assert_int_equal(p->mode, TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR);
	assert_int_equal(store_generation(m.store), 5);
}

/* A node's report: one status for deny-exec. */
static void report(struct node *n, uint64_t gen, Tetragon__TracingPolicyState state,
		   Tetragon__TracingPolicyMode mode, const char *error, uint64_t post)
{
	Tetragon__TracingPolicyStatus st = TETRAGON__TRACING_POLICY_STATUS__INIT,
				      *list[1] = { &st };
	Tetragon__TracingPolicyStats stats = TETRAGON__TRACING_POLICY_STATS__INIT;
	Tetragon__TracingPolicyActionCounters c = TETRAGON__TRACING_POLICY_ACTION_COUNTERS__INIT;

	st.name = "deny-exec";
	st.domain = "fleet";
	st.state = state;
	st.mode = mode;
	st.error = (char *)(error ? error : "");
	c.post = post;
	stats.action_counters = &c;
	st.stats = &stats;
	assert_int_equal(fleet_node_set_status(&m, n, gen, list, state ? 1 : 0), 0);
}

static void fold(Tetragon__TracingPolicyStatus *out, struct fold_buf *buf)
{
	fleet_status_fold(&m, fleet_policy_find(&m, "deny-exec", ""), out, buf);
}

static void test_fleet_folds_node_reports(void **state)
{
	struct node *a, *b, *c;
	Tetragon__TracingPolicyStatus st;
	struct fold_buf buf;
	char *msg = NULL;

	assert_int_equal(fleet_policy_add(&m, good, strlen(good), &msg), GRPC_STATUS_OK);
	fold(&st, &buf);
	assert_string_equal(st.info, "no node online");
	fleet_status_fold_free(&buf);

	assert_int_equal(fleet_node_get(&m, "node-a", &a), 0);
	assert_int_equal(fleet_node_get(&m, "node-b", &b), 0);
	assert_int_equal(fleet_node_get(&m, "node-c", &c), 0);
	a->session = b->session = c->session = ONLINE;

	/* a: enabled; b: failed to load; c: not reported yet */
	report(a, 1, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE, NULL, 5);
	report(b, 1, TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOAD_ERROR,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE, "no BPF LSM", 0);
	fold(&st, &buf);
	assert_int_equal(st.state, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ERROR);
	assert_string_equal(st.info, "1/3 enabled, 1 pending, 1 error: node-b: no BPF LSM");
	assert_string_equal(st.error, "no BPF LSM");
	assert_string_equal(st.domain, "fleet");
	fleet_status_fold_free(&buf);

	report(b, 1, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE, NULL, 1);
	report(c, 1, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE, NULL, 1);
	fold(&st, &buf);
	assert_int_equal(st.state, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED);
	assert_string_equal(st.info, "3/3 enabled");
	assert_int_equal(st.stats->action_counters->post, 7);
	fleet_status_fold_free(&buf);

	/* a mode toggle: pending until each node reports the new generation with the new mode */
	assert_int_equal(fleet_policy_configure(&m, "deny-exec", "", -1,
						TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR,
						&msg),
			 GRPC_STATUS_OK);
	fold(&st, &buf);
	assert_int_equal(st.state, TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOADING);
	assert_string_equal(st.info, "0/3 enabled, 3 pending");
	assert_int_equal(st.mode, TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR);
	fleet_status_fold_free(&buf);
	report(a, 2, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR, NULL, 5);
	/* the right generation but still the old mode is not done either */
	report(b, 2, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE, NULL, 1);
	fold(&st, &buf);
	assert_string_equal(st.info, "1/3 enabled, 2 pending");
	fleet_status_fold_free(&buf);

	/* a policy without an enforcing action reports monitor_only: any mode is reached */
	report(b, 2, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR_ONLY, NULL, 1);
	assert_int_equal(fleet_node_policy_state(b, fleet_policy_find(&m, "deny-exec", ""), NULL),
			 NODE_POLICY_OK);

	/* an offline node does not hold the fleet back; it is mentioned */
	report(b, 2, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR, NULL, 1);
	c->session = NULL;
	fold(&st, &buf);
	assert_int_equal(st.state, TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED);
	assert_string_equal(st.info, "2/2 enabled, 1 offline");
	fleet_status_fold_free(&buf);
	assert_int_equal(fleet_node_policy_state(c, fleet_policy_find(&m, "deny-exec", ""), NULL),
			 NODE_POLICY_PENDING);

	/* disabled: done when every node says disabled */
	assert_int_equal(fleet_policy_configure(&m, "deny-exec", "", 0, -1, &msg), GRPC_STATUS_OK);
	report(a, 3, TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR, NULL, 5);
	report(b, 3, TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED,
	       TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR, NULL, 5);
	fold(&st, &buf);
	assert_int_equal(st.state, TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED);
	assert_string_equal(st.info, "2/2 disabled, 1 offline");
	fleet_status_fold_free(&buf);

	/* the reports survive a restart, as the last thing each node said */
	teardown(state);
	{
		char err[512];

		memset(&m, 0, sizeof(m));
		assert_int_equal(store_open(db_path, &m.store, err, sizeof(err)), 0);
		assert_int_equal(fleet_load(&m), 0);
	}
	a = fleet_node_find(&m, "node-a");
	assert_non_null(a);
	assert_null(a->session);
	assert_int_equal(a->applied_generation, 3);
	assert_int_equal(a->n_status, 1);
	assert_int_equal(a->status[0].st->state, TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED);
	assert_non_null(fleet_node_find(&m, "node-c"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fleet_refuses_bad_policy_with_every_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet_add_configure_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet_folds_node_reports, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
