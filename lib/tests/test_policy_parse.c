// SPDX-License-Identifier: Apache-2.0
/* lib/policy: YAML to model, positions, YAML-level errors, documents, files. */
#include "lib/tests/test_policy.h"

#define DATA TEST_SRCDIR "/lib/tests/data/policy/"

static struct policy *parse_data_file(const char *name)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char path[512];
	struct sbuf sb;
	int r;

	snprintf(path, sizeof(path), DATA "%s", name);
	r = policy_parse_file(path, &p, &errs);
	if (r) {
		sbuf_init(&sb);
		policy_errors_format(&errs, &sb);
		print_error("%s", sb.buf ? sb.buf : "");
		sbuf_free(&sb);
	}
	policy_errors_clear(&errs);
	assert_int_equal(r, 0);
	return p;
}

static void test_policy_parse_seed_enforcement(void **state)
{
	struct policy *p = parse_data_file("seed-enforcement.yaml");
	const struct policy_hook *h;
	const struct policy_selector *s;
	size_t nr;

	assert_string_equal(p->api_version, "cilium.io/v1alpha1");
	assert_int_equal(p->kind, POLICY_KIND_TRACING_POLICY);
	assert_string_equal(p->metadata.name, "enforcement");
	assert_null(p->metadata.namespace);
	h = policy_hooks(p, POLICY_HOOK_KPROBE, &nr);
	assert_int_equal(nr, 1);
	assert_int_equal(h->kind, POLICY_HOOK_KPROBE);
	assert_string_equal(h->kprobe.call, "fd_install");
	assert_false(h->kprobe.syscall);
	assert_false(h->ret);
	assert_int_equal(h->nr_args, 2);
	assert_int_equal(h->args[0].index, 0);
	assert_int_equal(h->args[0].type, POLICY_ARG_INT32);
	assert_string_equal(h->args[0].type_name, "int");
	assert_int_equal(h->args[1].index, 1);
	assert_int_equal(h->args[1].type, POLICY_ARG_FILE);
	assert_int_equal(h->nr_selectors, 1);
	s = &h->selectors[0];
	assert_int_equal(s->nr_match_args, 1);
	assert_int_equal(s->match_args[0].index, 1);
	assert_int_equal(s->match_args[0].op, POLICY_OP_EQUAL);
	assert_int_equal(s->match_args[0].nr_values, 1);
	assert_string_equal(s->match_args[0].values[0].str, "/tmp/tetragon");
	assert_int_equal(s->match_args[0].values[0].kind, POLICY_VALUE_STRING);
	assert_int_equal(s->nr_match_actions, 1);
	assert_int_equal(s->match_actions[0].action, POLICY_ACTION_SIGKILL);
	assert_true(policy_has_enforcement(p));
	assert_int_equal(policy_get_mode(p), POLICY_MODE_ENFORCE);
	/* positions: one-space indentation in this file */
	assert_int_equal(h->node.pos.line, 7);
	assert_int_equal(h->node.pos.col, 4);
	assert_string_equal(h->node.pos.path, "spec.kprobes[0]");
	assert_int_equal(s->match_args[0].values[0].pos.line, 19);
	assert_int_equal(s->match_args[0].values[0].pos.col, 10);
	assert_string_equal(s->match_args[0].values[0].pos.path,
			    "spec.kprobes[0].selectors[0].matchArgs[0].values[0]");
	policy_free(p);
}

static void test_policy_parse_seed_fd_install(void **state)
{
	struct policy *p = parse_data_file("seed-fd-install.yaml");
	size_t nr;
	const struct policy_hook *h = policy_hooks(p, POLICY_HOOK_KPROBE, &nr);

	assert_string_equal(p->metadata.name, "fd-install");
	assert_int_equal(nr, 1);
	assert_int_equal(h->args[0].type, POLICY_ARG_INT32);
	assert_int_equal(h->selectors[0].match_actions[0].action, POLICY_ACTION_SIGKILL);
	policy_free(p);
}

static void test_policy_parse_seed_file_monitoring(void **state)
{
	struct policy *p = parse_data_file("seed-file-monitoring-filtered.yaml");
	size_t nr;
	const struct policy_hook *h = policy_hooks(p, POLICY_HOOK_KPROBE, &nr);
	const struct policy_arg_filter *f;

	assert_string_equal(h->kprobe.call, "security_file_permission");
	assert_string_equal(h->message, "Sensitive file system write operation");
	assert_int_equal(h->nr_tags, 2);
	assert_string_equal(h->tags[0].str, "observability.filesystem");
	assert_string_equal(h->tags[1].str, "observability.process");
	f = &h->selectors[0].match_args[0];
	assert_int_equal(f->op, POLICY_OP_PREFIX);
	assert_int_equal(f->nr_values, 14);
	assert_string_equal(f->values[13].str, "/root/.ssh");
	f = &h->selectors[0].match_args[1];
	assert_int_equal(f->op, POLICY_OP_EQUAL);
	assert_int_equal(f->values[0].kind, POLICY_VALUE_INT);
	assert_int_equal(f->values[0].lo, 2);
	assert_int_equal(h->selectors[0].nr_match_actions, 0);
	assert_false(policy_has_enforcement(p));
	policy_free(p);
}

static void test_policy_parse_seed_follow_fd(void **state)
{
	struct policy *p = parse_data_file("seed-iris-read-file-sigkill.yaml");
	const struct policy_hook *h;
	const struct policy_pid_filter *pid;
	const struct policy_action *a;
	size_t nr;

	h = policy_hooks(p, POLICY_HOOK_KPROBE, &nr);
	assert_int_equal(nr, 3);
	pid = &h[0].selectors[0].match_pids[0];
	assert_int_equal(pid->op, POLICY_OP_NOT_IN);
	assert_true(pid->follow_forks);
	assert_true(pid->is_namespace_pid);
	assert_int_equal(pid->nr_values, 1);
	assert_int_equal(pid->values[0].val, 1);
	a = &h[0].selectors[0].match_actions[0];
	assert_int_equal(a->action, POLICY_ACTION_FOLLOW_FD);
	assert_int_equal(a->arg_fd, 0);
	assert_int_equal(a->arg_name, 1);
	assert_string_equal(h[1].kprobe.call, "__x64_sys_close");
	assert_true(h[1].kprobe.syscall);
	assert_int_equal(h[1].selectors[0].match_actions[0].action, POLICY_ACTION_UNFOLLOW_FD);
	assert_int_equal(h[2].args[1].type, POLICY_ARG_CHAR_BUF);
	assert_true(h[2].args[1].return_copy);
	assert_int_equal(h[2].args[2].type, POLICY_ARG_SIZE_T);
	assert_int_equal(h[2].selectors[0].match_actions[0].action, POLICY_ACTION_SIGKILL);
	policy_free(p);
}

static void test_policy_parse_all_sections(void **state)
{
	struct policy *p = parse_data_file("all-sections.yaml");
	const struct policy_spec *spec = &p->spec;
	const struct policy_hook *h;
	const struct policy_selector *s;
	size_t nr;

	assert_int_equal(p->metadata.nr_labels, 1);
	assert_string_equal(p->metadata.labels[0].key, "app");
	assert_string_equal(p->metadata.annotations[0].value, "every section");
	assert_true(spec->loader);
	assert_true(spec->pod_selector.present);
	assert_string_equal(spec->pod_selector.match_labels[0].value, "web");
	assert_int_equal(spec->pod_selector.match_expressions[0].op, POLICY_LABEL_IN);
	assert_int_equal(spec->pod_selector.match_expressions[0].nr_values, 2);
	assert_int_equal(spec->container_selector.match_expressions[0].op, POLICY_LABEL_NOT_IN);
	assert_true(spec->host_selector.present);
	assert_int_equal(spec->host_selector.nr_match_labels, 0);
	assert_string_equal(spec->node_selector.match_labels[0].key, "kubernetes.io/os");
	assert_string_equal(spec->node_selector.match_labels[0].pos.path,
			    "spec.nodeSelector.matchLabels[\"kubernetes.io/os\"]");
	/* options */
	assert_int_equal(spec->nr_option_list, 4);
	assert_true(spec->options.disable_kprobe_multi);
	assert_false(spec->options.disable_uprobe_multi);
	assert_int_equal(spec->options.mode, POLICY_MODE_MONITOR);
	assert_int_equal(policy_get_mode(p), POLICY_MODE_MONITOR);
	assert_int_equal(spec->options.override_method, POLICY_OVERRIDE_FMOD_RET);
	assert_int_equal(spec->options.sleepable_preload_size, 4096);
	/* lists, enforcers, macros */
	assert_int_equal(spec->nr_lists, 2);
	assert_int_equal(spec->lists[0].type, POLICY_LIST_SYSCALLS);
	assert_string_equal(spec->lists[0].values[1].str, "i386/sys_dup2");
	assert_int_equal(spec->lists[1].type, POLICY_LIST_GENERATED_FTRACE);
	assert_string_equal(spec->lists[1].pattern, "^security_.*");
	assert_ptr_equal(policy_find_list(p, "ftrace"), &spec->lists[1]);
	assert_null(policy_find_list(p, "nope"));
	assert_int_equal(spec->nr_enforcers, 1);
	assert_int_equal(spec->enforcers[0].nr_calls, 2);
	assert_int_equal(spec->nr_macros, 2);
	assert_string_equal(spec->macros[0].name, "only-bash");
	/* kprobes[0]: sockets, data, every selector filter */
	h = policy_hooks(p, POLICY_HOOK_KPROBE, &nr);
	assert_int_equal(nr, 4);
	assert_string_equal(h[0].args[0].label, "sk");
	assert_int_equal(h[0].data[0].source, POLICY_SOURCE_CURRENT_TASK);
	assert_string_equal(h[0].data[0].resolve, "mm.owner.comm");
	s = &h[0].selectors[0];
	assert_string_equal(s->label, "outbound");
	assert_int_equal(s->match_args[0].op, POLICY_OP_DADDR);
	assert_int_equal(s->match_args[0].values[0].kind, POLICY_VALUE_ADDR);
	assert_int_equal(s->match_args[0].values[0].prefix_len, 8);
	assert_int_equal(s->match_args[0].values[0].addr[0], 10);
	assert_int_equal(s->match_args[0].values[1].prefix_len, 8);
	assert_int_equal(s->match_args[1].values[0].kind, POLICY_VALUE_INT);
	assert_int_equal(s->match_args[1].values[0].lo, 80);
	assert_int_equal(s->match_args[1].values[1].kind, POLICY_VALUE_RANGE);
	assert_int_equal(s->match_args[1].values[1].lo, 1024);
	assert_int_equal(s->match_args[1].values[1].hi, 2048);
	assert_int_equal(s->match_args[2].values[0].lo, 2);
	assert_int_equal(s->match_args[2].values[1].lo, 10);
	assert_int_equal(s->match_args[3].values[0].lo, 6);
	assert_int_equal(s->match_data[0].values[0].kind, POLICY_VALUE_STRING);
	assert_int_equal(s->match_actions[0].action, POLICY_ACTION_POST);
	assert_int_equal(s->match_actions[0].rate_limit_ms, 60000);
	assert_int_equal(s->match_actions[0].rate_limit_scope, POLICY_RATE_LIMIT_PROCESS);
	assert_true(s->match_actions[0].kernel_stack_trace);
	assert_true(s->match_actions[0].user_stack_trace);
	assert_int_equal(s->match_actions[1].action, POLICY_ACTION_TRACK_SOCK);
	assert_int_equal(s->match_namespaces[0].ns, POLICY_NS_NET);
	assert_int_equal(s->match_namespaces[0].values[0].kind, POLICY_VALUE_HOST_NS);
	assert_int_equal(s->match_capabilities[0].type, POLICY_CAP_EFFECTIVE);
	assert_int_equal(s->match_capabilities[0].values[0].lo, 13);
	assert_int_equal(s->match_capabilities[0].values[1].lo, 21);
	assert_int_equal(s->match_namespace_changes[0].values[0].lo, POLICY_NS_MNT);
	assert_int_equal(s->match_capability_changes[0].values[0].lo, 21);
	assert_int_equal(s->match_parent_binaries[0].op, POLICY_OP_PREFIX);
	assert_string_equal(s->match_workloads[0].pod_selector.match_labels[0].value, "web");
	/* kprobes[1]: macros merged, return probes */
	assert_true(h[1].kprobe.syscall);
	assert_true(h[1].ret);
	assert_int_equal(h[1].return_arg->type, POLICY_ARG_INT32);
	s = &h[1].selectors[0];
	assert_int_equal(s->nr_match_binaries, 1);
	assert_string_equal(s->match_binaries[0].values[0].str, "/bin/bash");
	assert_int_equal(s->match_actions[0].action, POLICY_ACTION_SIGKILL);
	assert_int_equal(s->match_args[1].values[0].lo, 0x40);
	assert_int_equal(s->match_return_args[0].op, POLICY_OP_LT);
	assert_int_equal(s->match_return_actions[0].arg_error, -1);
	s = &h[1].selectors[1];
	assert_int_equal(s->match_pids[0].nr_values, 4);
	assert_int_equal((int64_t)s->match_args[0].values[1].lo, -5);
	assert_int_equal((int64_t)s->match_args[0].values[1].hi, -1);
	assert_int_equal(s->match_actions[0].action, POLICY_ACTION_NOTIFY_ENFORCER);
	/* kprobes[2]: lists */
	assert_ptr_equal(h[2].kprobe.call_list, &spec->lists[0]);
	assert_true(h[2].ignore.call_not_found);
	s = &h[2].selectors[0];
	assert_int_equal(s->match_args[0].values[0].kind, POLICY_VALUE_LIST);
	assert_ptr_equal(s->match_args[0].values[0].list, &spec->lists[0]);
	assert_int_equal(s->match_args[0].values[1].kind, POLICY_VALUE_RANGE);
	assert_int_equal(s->match_args[0].values[2].lo, 42);
	assert_int_equal(s->match_actions[0].arg_sig, 10);
	assert_string_equal(s->match_actions[1].arg_url, "http://example.com/hit");
	assert_string_equal(s->match_actions[2].arg_fqdn, "example.com");
	assert_int_equal(h[3].args[1].size_arg_index, 3);
	/* other sections */
	h = policy_hooks(p, POLICY_HOOK_FENTRY, &nr);
	assert_int_equal(nr, 1);
	assert_int_equal(h->kind, POLICY_HOOK_FENTRY);
	assert_int_equal(h->selectors[0].match_args[0].op, POLICY_OP_SUBSTRING);
	h = policy_hooks(p, POLICY_HOOK_TRACEPOINT, &nr);
	assert_int_equal(nr, 2);
	assert_string_equal(h[0].tp.subsystem, "raw_syscalls");
	assert_string_equal(h[0].tp.event, "sys_enter");
	assert_int_equal(h[0].selectors[0].match_args[0].values[1].lo, 0x142);
	assert_true(h[1].tp.raw);
	assert_string_equal(h[1].args[0].btf_type, "task_struct");
	h = policy_hooks(p, POLICY_HOOK_UPROBE, &nr);
	assert_int_equal(nr, 2);
	assert_string_equal(h[0].uprobe.path, "/bin/bash");
	assert_int_equal(h[0].uprobe.nr_symbols, 2);
	assert_int_equal(h[0].uprobe.ref_ctr_offsets[1].val, 8);
	assert_true(h[0].ignore.digest_verification_failure);
	assert_int_equal(h[0].selectors[0].match_actions[0].nr_arg_regs, 3);
	assert_int_equal(h[1].uprobe.offsets[0].val, 0x1234);
	assert_int_equal(h[1].data[0].source, POLICY_SOURCE_PT_REGS);
	h = policy_hooks(p, POLICY_HOOK_USDT, &nr);
	assert_int_equal(nr, 1);
	assert_string_equal(h->uprobe.provider, "app");
	assert_string_equal(h->uprobe.name, "probe1");
	assert_int_equal(h->selectors[0].match_actions[0].action, POLICY_ACTION_SET);
	h = policy_hooks(p, POLICY_HOOK_LSM, &nr);
	assert_int_equal(nr, 1);
	assert_string_equal(h->lsm.hook, "file_open");
	assert_int_equal(h->selectors[0].match_args[0].values[0].lo, 0100000);
	assert_true(h->selectors[0].match_actions[0].ima_hash);
	assert_true(policy_has_enforcement(p));
	policy_free(p);
}

static void test_policy_parse_defaults(void **state)
{
	struct policy *p = parse_ok(HDR "  kprobes:\n"
					"  - call: sys_kill\n"
					"    args:\n"
					"    - index: 0\n"
					"    selectors:\n"
					"    - matchCapabilities:\n"
					"      - operator: In\n"
					"        values: [CAP_KILL]\n"
					"      matchActions:\n"
					"      - action: post\n"
					"  lists:\n"
					"  - name: l\n"
					"    values: [sys_kill]\n");
	const struct policy_hook *h = &p->spec.hooks[POLICY_HOOK_KPROBE][0];
	const struct policy_action *a = &h->selectors[0].match_actions[0];

	assert_true(h->kprobe.syscall);
	assert_false(h->ret);
	assert_null(h->return_arg);
	assert_int_equal(h->kprobe.return_arg_action, POLICY_ACTION_NONE);
	assert_int_equal(h->args[0].type, POLICY_ARG_AUTO);
	assert_null(h->args[0].type_name);
	assert_int_equal(h->args[0].source, POLICY_SOURCE_NONE);
	assert_int_equal(h->selectors[0].match_capabilities[0].type, POLICY_CAP_EFFECTIVE);
	assert_int_equal(a->action, POLICY_ACTION_POST);
	assert_int_equal(a->rate_limit_scope, POLICY_RATE_LIMIT_THREAD);
	assert_int_equal(a->rate_limit_ms, 0);
	assert_int_equal(p->spec.lists[0].type, POLICY_LIST_SYSCALLS);
	assert_int_equal(p->spec.options.mode, POLICY_MODE_ENFORCE);
	assert_int_equal(p->spec.options.override_method, POLICY_OVERRIDE_DEFAULT);
	assert_false(p->spec.pod_selector.present);
	assert_false(p->spec.host_selector.present);
	/* a default has the position of its mapping */
	assert_false(policy_node_has(&h->node, "syscall"));
	assert_ptr_equal(policy_node_pos(&h->node, "syscall"), &h->node.pos);
	assert_true(policy_node_has(&h->node, "call"));
	assert_int_equal(policy_node_pos(&h->node, "call")->line, 7);
	assert_int_equal(policy_node_pos(&h->node, "call")->col, 11);
	assert_string_equal(policy_node_pos(&h->node, "call")->path, "spec.kprobes[0].call");
	policy_free(p);
}

static void test_policy_parse_flow_style_and_aliases(void **state)
{
	struct policy *p =
		parse_ok(HDR "  kprobes:\n"
			     "  - {call: sys_openat, args: &a [{index: 1, type: string}],\n"
			     "     selectors: &s [{matchArgs: [{index: 1, operator: Prefix,\n"
			     "                                  values: [/etc]}]}]}\n"
			     "  - {call: sys_open, args: *a, selectors: *s}\n");
	const struct policy_hook *h = p->spec.hooks[POLICY_HOOK_KPROBE];

	assert_int_equal(p->spec.nr_hooks[POLICY_HOOK_KPROBE], 2);
	assert_int_equal(h[1].args[0].type, POLICY_ARG_STRING);
	assert_string_equal(h[1].selectors[0].match_args[0].values[0].str, "/etc");
	/* each use of a shared node gets its own path */
	assert_string_equal(h[1].selectors[0].match_args[0].values[0].pos.path,
			    "spec.kprobes[1].selectors[0].matchArgs[0].values[0]");
	policy_free(p);
}

static void test_policy_parse_scalar_types(void **state)
{
	/* plain scalars become strings where strings are expected */
	struct policy *p = parse_ok(HDR "  kprobes:\n"
					"  - call: 123\n"
					"    syscall: yes\n"
					"    message: true\n"
					"    args:\n"
					"    - index: 0x1\n"
					"      type: int\n"
					"    selectors:\n"
					"    - matchArgs:\n"
					"      - index: 01\n"
					"        operator: eq\n"
					"        values: [7, 0x10, 010]\n");
	const struct policy_hook *h = p->spec.hooks[POLICY_HOOK_KPROBE];
	const struct policy_value *v = h->selectors[0].match_args[0].values;

	assert_string_equal(h->kprobe.call, "123");
	assert_true(h->kprobe.syscall);
	assert_string_equal(h->message, "true");
	assert_int_equal(h->args[0].index, 1);
	assert_int_equal(v[0].lo, 7);
	assert_int_equal(v[1].lo, 16);
	assert_int_equal(v[2].lo, 8);
	assert_string_equal(v[2].str, "010");
	policy_free(p);
}

static void test_policy_parse_rejects_unknown_field(void **state)
{
	expect_errors(
		HDR "  kprobes:\n"
		    "  - call: sys_kill\n"
		    "    selector: []\n"
		    "    foo: 1\n",
		"p.yaml:8:5: spec.kprobes[0].selector: unknown field 'selector' (did you mean 'selectors'?)\n"
		"p.yaml:9:5: spec.kprobes[0].foo: unknown field 'foo'\n");
	expect_errors(
		HDR "  kprobes:\n"
		    "  - call: sys_kill\n"
		    "    selectors:\n"
		    "    - matchArg: []\n"
		    "      MatchActions: []\n",
		"p.yaml:9:7: spec.kprobes[0].selectors[0].matchArg: unknown field 'matchArg' (did you mean 'matchArgs'?)\n"
		"p.yaml:10:7: spec.kprobes[0].selectors[0].MatchActions: unknown field 'MatchActions' (did you mean 'matchActions'?)\n");
	/* fields of another hook kind are unknown too */
	expect_errors(HDR "  tracepoints:\n"
			  "  - subsystem: a\n"
			  "    event: b\n"
			  "    call: c\n",
		      "p.yaml:9:5: spec.tracepoints[0].call: unknown field 'call'\n");
	expect_errors(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: p\n  nam: q\nspec: {}\nextra: 1\n",
		"p.yaml:5:3: metadata.nam: unknown field 'nam' (did you mean 'name'?)\n"
		"p.yaml:7:1: extra: unknown field 'extra'\n");
}

static void test_policy_parse_rejects_wrong_types(void **state)
{
	expect_errors(HDR "  kprobes:\n"
			  "    call: sys_kill\n",
		      "p.yaml:7:5: spec.kprobes: expected a list, got a mapping\n");
	expect_errors(
		HDR "  kprobes:\n"
		    "  - call: [a]\n"
		    "    syscall: \"true\"\n"
		    "    return: maybe\n"
		    "    args:\n"
		    "    - index: one\n"
		    "    - index: \"1\"\n"
		    "    - index: -1\n"
		    "    - index: 4294967296\n"
		    "    - index: 1.5\n"
		    "    tags: notalist\n"
		    "    selectors: {}\n",
		"p.yaml:7:11: spec.kprobes[0].call: expected a string, got a list\n"
		"p.yaml:8:14: spec.kprobes[0].syscall: expected a boolean, got the quoted string 'true'\n"
		"p.yaml:9:13: spec.kprobes[0].return: expected a boolean, got 'maybe'\n"
		"p.yaml:11:14: spec.kprobes[0].args[0].index: expected an integer, got 'one'\n"
		"p.yaml:12:14: spec.kprobes[0].args[1].index: expected an integer, got the quoted string '1'\n"
		"p.yaml:13:14: spec.kprobes[0].args[2].index: value '-1' out of range (0..4294967295)\n"
		"p.yaml:14:14: spec.kprobes[0].args[3].index: value '4294967296' out of range (0..4294967295)\n"
		"p.yaml:15:14: spec.kprobes[0].args[4].index: expected an integer, got '1.5'\n"
		"p.yaml:16:11: spec.kprobes[0].tags: expected a list, got 'notalist'\n"
		"p.yaml:17:16: spec.kprobes[0].selectors: expected a list, got a mapping\n");
	expect_errors("- a\n- b\n", "p.yaml:1:1: expected a mapping, got a list\n");
	expect_errors(
		HDR "  kprobes:\n  - call: x\n    selectors:\n    - matchActions:\n"
		    "      - action: Override\n        argError: -2147483649\n",
		"p.yaml:11:19: spec.kprobes[0].selectors[0].matchActions[0].argError: value '-2147483649' out of range (-2147483648..2147483647)\n");
}

static void test_policy_parse_rejects_duplicate_keys(void **state)
{
	expect_errors(
		HDR "  kprobes:\n"
		    "  - call: a\n"
		    "    args: []\n"
		    "    call: b\n"
		    "    args: []\n",
		"p.yaml:9:5: spec.kprobes[0].call: duplicate key 'call' (first at line 7)\n"
		"p.yaml:10:5: spec.kprobes[0].args: duplicate key 'args' (first at line 8)\n");
	expect_errors("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\n"
		      "metadata:\n  name: p\n  labels: {a: b, a: c}\nspec: {}\n",
		      "p.yaml:5:18: metadata.labels.a: duplicate key 'a' (first at line 5)\n");
	expect_errors(HDR "  selectorsMacros:\n    m: {}\n    m: {}\n",
		      "p.yaml:8:5: spec.selectorsMacros.m: duplicate key 'm' (first at line 7)\n");
}

static void test_policy_parse_rejects_missing_required(void **state)
{
	expect_errors("kind: TracingPolicy\n", "p.yaml:1:1: missing required field 'apiVersion'\n"
					       "p.yaml:1:1: missing required field 'metadata'\n"
					       "p.yaml:1:1: missing required field 'spec'\n");
	expect_errors(HDR
		      "  kprobes:\n  - syscall: true\n  tracepoints:\n  - {}\n"
		      "  uprobes:\n  - symbols: [a]\n  usdts:\n  - path: /x\n  lsmhooks:\n  -\n",
		      "p.yaml:7:5: spec.kprobes[0]: missing required field 'call'\n"
		      "p.yaml:9:5: spec.tracepoints[0]: missing required field 'subsystem'\n"
		      "p.yaml:9:5: spec.tracepoints[0]: missing required field 'event'\n"
		      "p.yaml:11:5: spec.uprobes[0]: missing required field 'path'\n"
		      "p.yaml:13:5: spec.usdts[0]: missing required field 'provider'\n"
		      "p.yaml:13:5: spec.usdts[0]: missing required field 'name'\n"
		      "p.yaml:15:4: spec.lsmhooks[0]: missing required field 'hook'\n");
	expect_errors(
		HDR "  kprobes:\n  - call: x\n    selectors:\n    - matchArgs:\n"
		    "      - index: 0\n",
		"p.yaml:10:9: spec.kprobes[0].selectors[0].matchArgs[0]: missing required field 'operator'\n");
}

static void test_policy_parse_rejects_bad_yaml(void **state)
{
	expect_errors(
		HDR "  kprobes:\n  - call: \"fd_install\n    syscall: false\n",
		"p.yaml:9:1: invalid YAML: found unexpected end of stream while scanning a quoted scalar (line 7, column 11)\n");
	expect_errors(
		HDR "  kprobes:\n  - call: a\n   bad: 1\n",
		"p.yaml:8:4: invalid YAML: did not find expected key while parsing a block mapping (line 6, column 3)\n");
	expect_errors(
		HDR "\tkprobes: []\n",
		"p.yaml:6:1: invalid YAML: found character that cannot start any token while scanning for the next token (line 6, column 1)\n");
	expect_errors(
		HDR "  kprobes:\n  - <<: {call: x}\n",
		"p.yaml:7:5: spec.kprobes[0][\"<<\"]: YAML merge keys ('<<') are not supported\n"
		"p.yaml:7:5: spec.kprobes[0]: missing required field 'call'\n");
}

static void test_policy_parse_rejects_nul_and_binary(void **state)
{
	static const char nul[] = HDR "  kprobes:\n  - call: \"a\\0b\"\n";
	static const char bin[] = "apiVersion: \x01\n";
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;

	expect_errors(nul, "p.yaml:7:11: spec.kprobes[0].call: string contains a NUL character\n");
	assert_int_equal(policy_parse_buffer(bin, sizeof(bin) - 1, NULL, &p, &errs), -EINVAL);
	assert_int_equal(errs.nr, 1);
	assert_null(errs.errors[0].file);
	assert_int_equal(errs.errors[0].line, 1);
	assert_int_equal(errs.errors[0].col, 13);
	assert_string_equal(errs.errors[0].path, "");
	assert_string_equal(errs.errors[0].msg, "invalid YAML: control characters are not allowed");
	policy_errors_clear(&errs);
}

static void test_policy_parse_bounds_alias_expansion(void **state)
{
	struct sbuf sb;
	char *out;

	/* 10^5 values from a few lines: stops at the node limit instead of expanding */
	sbuf_init(&sb);
	sbuf_adds(&sb, "status:\n"
		       "  v: &v [x, x, x, x, x, x, x, x, x, x]\n"
		       "  a: &a {index: 0, operator: Equal, values: *v}\n"
		       "  as: &as [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		       "  s: &s {matchArgs: *as}\n"
		       "  ss: &ss [*s, *s, *s, *s, *s, *s, *s, *s, *s, *s]\n"
		       "  h: &h {call: x, selectors: *ss}\n" HDR "  kprobes: [");
	for (int i = 0; i < 100; i++)
		sbuf_adds(&sb, i ? ", *h" : "*h");
	sbuf_adds(&sb, "]\n");
	out = parse_errors(sb.buf);
	assert_non_null(strstr(out, "policy too complex (more than 100000 YAML nodes"));
	free(out);
	sbuf_free(&sb);

	/* a node that contains itself */
	expect_errors(
		HDR "  kprobes: &k\n  - call: x\n    selectors: *k\n",
		"p.yaml:7:5: spec.kprobes[0].selectors[0].call: unknown field 'call'\n"
		"p.yaml:8:5: spec.kprobes[0].selectors[0].selectors: unknown field 'selectors'\n");
}

static void test_policy_parse_multi_document(void **state)
{
	static const char two[] = "---\n" HDR "  kprobes: [{call: a}]\n"
				  "---\n"
				  "# nothing in this one\n"
				  "---\n"
				  "apiVersion: cilium.io/v1alpha1\n"
				  "kind: TracingPolicyNamespaced\n"
				  "metadata: {name: p, namespace: ns}\n"
				  "spec: {}\n";
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct sbuf sb;

	assert_int_equal(policy_parse_buffer_all(two, strlen(two), "p.yaml", &p, &errs), 0);
	assert_int_equal(errs.nr, 0);
	assert_non_null(p->next);
	assert_null(p->next->next);
	assert_string_equal(p->spec.hooks[POLICY_HOOK_KPROBE][0].kprobe.call, "a");
	assert_int_equal(p->next->kind, POLICY_KIND_TRACING_POLICY_NAMESPACED);
	assert_string_equal(p->next->metadata.namespace, "ns");
	assert_int_equal(p->next->node.pos.line, 11);
	p = policy_free(p);
	assert_null(p);

	assert_int_equal(policy_parse_buffer(two, strlen(two), "p.yaml", &p, &errs), -EINVAL);
	assert_null(p);
	sbuf_init(&sb);
	policy_errors_format(&errs, &sb);
	assert_string_equal(sb.buf, "p.yaml:10:1: expected one policy, found a second document\n");
	sbuf_free(&sb);
	policy_errors_clear(&errs);

	/* errors from every document, names unique across documents */
	{
		static const char bad[] = HDR "  kprobes: [{cal: a}]\n"
					      "---\n" HDR "  kprobe: []\n"
					      "---\n" HDR "  kprobes: []\n";

		assert_int_equal(policy_parse_buffer_all(bad, strlen(bad), "p.yaml", &p, &errs),
				 -EINVAL);
		sbuf_init(&sb);
		policy_errors_format(&errs, &sb);
		assert_string_equal(
			sb.buf,
			"p.yaml:6:13: spec.kprobes[0]: missing required field 'call'\n"
			"p.yaml:6:14: spec.kprobes[0].cal: unknown field 'cal' (did you mean 'call'?)\n"
			"p.yaml:11:9: metadata.name: duplicate policy name 'p' (first at line 1)\n"
			"p.yaml:13:3: spec.kprobe: unknown field 'kprobe' (did you mean 'kprobes'?)\n"
			"p.yaml:18:9: metadata.name: duplicate policy name 'p' (first at line 1)\n");
		sbuf_free(&sb);
		policy_errors_clear(&errs);
	}
	expect_errors("", "p.yaml: no policy in the input\n");
	expect_errors("---\n...\n# only comments\n", "p.yaml: no policy in the input\n");
}

static void test_policy_parse_file_errors(void **state)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char path[] = "/tmp/test_policy_parse.XXXXXX";
	char *big;
	int fd;

	assert_int_equal(policy_parse_file_all("/nonexistent/p.yaml", &p, &errs), -ENOENT);
	assert_int_equal(errs.nr, 1);
	assert_string_equal(errs.errors[0].file, "/nonexistent/p.yaml");
	assert_string_equal(errs.errors[0].msg, "cannot read the file: No such file or directory");
	policy_errors_clear(&errs);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	big = malloc(POLICY_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, '#', POLICY_MAX_SIZE + 1);
	assert_int_equal(write(fd, big, POLICY_MAX_SIZE + 1), POLICY_MAX_SIZE + 1);
	close(fd);
	assert_int_equal(policy_parse_file(path, &p, &errs), -EINVAL);
	assert_int_equal(errs.nr, 1);
	assert_non_null(strstr(errs.errors[0].msg, "policy too large"));
	policy_errors_clear(&errs);
	assert_int_equal(policy_parse_buffer(big, POLICY_MAX_SIZE + 1, "b", &p, &errs), -EINVAL);
	assert_non_null(strstr(errs.errors[0].msg, "policy too large"));
	policy_errors_clear(&errs);
	unlink(path);
	free(big);
	assert_null(p);
}

static void test_policy_parse_error_format_and_limit(void **state)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct sbuf sb;
	char *out, *last;
	size_t lines = 0;

	sbuf_init(&sb);
	sbuf_adds(&sb, HDR);
	for (int i = 0; i < 150; i++)
		sbuf_printf(&sb, "  bogus%d: 1\n", i);
	assert_int_equal(policy_parse_buffer(sb.buf, sb.len, "p.yaml", &p, &errs), -EINVAL);
	sbuf_free(&sb);
	assert_int_equal(errs.nr, POLICY_MAX_ERRORS);
	assert_true(errs.truncated);
	sbuf_init(&sb);
	assert_int_equal(policy_errors_format(&errs, &sb), 0);
	out = sb.buf;
	for (char *c = out; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, POLICY_MAX_ERRORS + 1);
	assert_true(startswith(out, "p.yaml:6:3: spec.bogus0: unknown field 'bogus0'\n"));
	last = strrchr(out, '\n');
	*last = '\0';
	assert_string_equal(strrchr(out, '\n') + 1,
			    "too many errors (more than 100), the rest are not shown");
	sbuf_free(&sb);
	policy_errors_clear(&errs);
	assert_int_equal(errs.nr, 0);
	assert_false(errs.truncated);
	policy_errors_clear(&errs);

	/* errs may be NULL */
	assert_int_equal(policy_parse_buffer("x: 1\n", 5, NULL, &p, NULL), -EINVAL);
	assert_null(p);
	assert_null(policy_free(NULL));
}

static void test_policy_parse_metadata(void **state)
{
	struct policy *p = parse_ok("apiVersion: cilium.io/v1alpha1\n"
				    "kind: TracingPolicy\n"
				    "metadata:\n"
				    "  name: a.b-c\n"
				    "  uid: 0e5c\n"
				    "  resourceVersion: \"1\"\n"
				    "  generation: 2\n"
				    "  creationTimestamp: \"2024-01-01T00:00:00Z\"\n"
				    "  managedFields: [{manager: kubectl}]\n"
				    "spec: {}\n"
				    "status: {anything: [1]}\n");

	assert_string_equal(p->metadata.name, "a.b-c");
	policy_free(p);
	expect_errors(
		"apiVersion: cilium.io/v1\nkind: TracingPolicyX\nmetadata: {name: -a}\nspec: {}\n",
		"p.yaml:1:13: apiVersion: unsupported apiVersion 'cilium.io/v1' (expected 'cilium.io/v1alpha1')\n"
		"p.yaml:2:7: kind: unknown kind 'TracingPolicyX' (expected 'TracingPolicy' or 'TracingPolicyNamespaced')\n"
		"p.yaml:3:18: metadata.name: invalid name '-a': lower case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters\n");
	expect_errors(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\n"
		"metadata: {name: a}\nspec:\n  hostSelector: {}\n",
		"p.yaml:3:11: metadata: a TracingPolicyNamespaced needs 'namespace'\n"
		"p.yaml:5:17: spec.hostSelector: hostSelector is not allowed in a TracingPolicyNamespaced\n");
	expect_errors(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\n"
		"metadata: {name: a, namespace: Bad.NS}\nspec: {}\n",
		"p.yaml:3:32: metadata.namespace: invalid namespace 'Bad.NS': lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters\n");
}

static void test_policy_parse_names(void **state)
{
	assert_int_equal(policy_operator_from_name("Equal"), POLICY_OP_EQUAL);
	assert_int_equal(policy_operator_from_name("eq"), POLICY_OP_EQUAL);
	assert_int_equal(policy_operator_from_name("neq"), POLICY_OP_NOT_EQUAL);
	assert_int_equal(policy_operator_from_name("GreaterThan"), POLICY_OP_GT);
	assert_int_equal(policy_operator_from_name("gt"), 1);
	assert_int_equal(policy_operator_from_name("LessThan"), 2);
	assert_int_equal(policy_operator_from_name("NotFileType"), 37);
	assert_int_equal(policy_operator_from_name("SubStringIgnCase"), 34);
	assert_int_equal(policy_operator_from_name("SubStringIgnoreCase"), -EINVAL);
	assert_int_equal(policy_operator_from_name("equal"), -EINVAL);
	assert_string_equal(policy_operator_name(POLICY_OP_GT), "GT");
	assert_string_equal(policy_operator_name(POLICY_OP_NOT_IN_RANGE), "NotInRange");
	assert_null(policy_operator_name(7));
	assert_int_equal(policy_action_from_name("SIGKILL"), 2);
	assert_int_equal(policy_action_from_name("followfd"), 1);
	assert_int_equal(policy_action_from_name("Set"), 14);
	assert_int_equal(policy_action_from_name("Kill"), -EINVAL);
	assert_string_equal(policy_action_name(POLICY_ACTION_CLEANUP_ENFORCER_NOTIFICATION),
			    "CleanupEnforcerNotification");
	assert_int_equal(policy_arg_type_from_name("unsigned long"), POLICY_ARG_UINT64);
	assert_int_equal(policy_arg_type_from_name("sint8"), POLICY_ARG_INT8);
	assert_int_equal(policy_arg_type_from_name("auto"), POLICY_ARG_AUTO);
	assert_int_equal(policy_arg_type_from_name("Int"), -EINVAL);
	assert_string_equal(policy_arg_type_name(POLICY_ARG_INT32), "int");
	assert_string_equal(policy_arg_type_name(POLICY_ARG_SOCKADDR_UN), "sockaddr_un");
	assert_int_equal(policy_mode_from_string("monitor"), POLICY_MODE_MONITOR);
	assert_int_equal(policy_mode_from_string("enforce"), POLICY_MODE_ENFORCE);
	assert_int_equal(policy_mode_from_string("monitor_only"), -EINVAL);
	assert_string_equal(policy_mode_name(POLICY_MODE_MONITOR), "monitor");
	assert_int_equal(policy_ns_from_name("pidforchildren"), POLICY_NS_PID_FOR_CHILDREN);
	assert_string_equal(policy_ns_name(POLICY_NS_TIME_FOR_CHILDREN), "TimeForChildren");
	assert_int_equal(policy_cap_type_from_name("permitted"), POLICY_CAP_PERMITTED);
	assert_int_equal(policy_capability_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(policy_capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_string_equal(policy_capability_name(39), "CAP_BPF");
	assert_int_equal(policy_signal_from_name("SIGKILL"), 9);
	assert_int_equal(policy_signal_from_name("TERM"), 15);
	assert_int_equal(policy_signal_from_name("SIGNOPE"), -EINVAL);
	assert_int_equal(policy_family_from_name("AF_INET6"), 10);
	assert_int_equal(policy_protocol_from_name("IPPROTO_UDP"), 17);
	assert_int_equal(policy_tcp_state_from_name("TCP_LISTEN"), 10);
	assert_int_equal(policy_file_type_from_name("fifo"), 0010000);
	assert_int_equal(policy_bpf_cmd_from_name("BPF_PROG_LOAD"), 5);
	assert_string_equal(policy_hook_kind_name(POLICY_HOOK_LSM), "lsmhooks");
	assert_string_equal(policy_override_method_name(POLICY_OVERRIDE_RETURN), "override-return");
	assert_int_equal(policy_rate_limit_scope_from_name("Global"), POLICY_RATE_LIMIT_GLOBAL);
	assert_int_equal(policy_list_type_from_name("generated_syscalls"),
			 POLICY_LIST_GENERATED_SYSCALLS);
	assert_int_equal(policy_label_op_from_name("DoesNotExist"), POLICY_LABEL_DOES_NOT_EXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_parse_seed_enforcement),
		cmocka_unit_test(test_policy_parse_seed_fd_install),
		cmocka_unit_test(test_policy_parse_seed_file_monitoring),
		cmocka_unit_test(test_policy_parse_seed_follow_fd),
		cmocka_unit_test(test_policy_parse_all_sections),
		cmocka_unit_test(test_policy_parse_defaults),
		cmocka_unit_test(test_policy_parse_flow_style_and_aliases),
		cmocka_unit_test(test_policy_parse_scalar_types),
		cmocka_unit_test(test_policy_parse_rejects_unknown_field),
		cmocka_unit_test(test_policy_parse_rejects_wrong_types),
		cmocka_unit_test(test_policy_parse_rejects_duplicate_keys),
		cmocka_unit_test(test_policy_parse_rejects_missing_required),
		cmocka_unit_test(test_policy_parse_rejects_bad_yaml),
		cmocka_unit_test(test_policy_parse_rejects_nul_and_binary),
		cmocka_unit_test(test_policy_parse_bounds_alias_expansion),
		cmocka_unit_test(test_policy_parse_multi_document),
		cmocka_unit_test(test_policy_parse_file_errors),
		cmocka_unit_test(test_policy_parse_error_format_and_limit),
		cmocka_unit_test(test_policy_parse_metadata),
		cmocka_unit_test(test_policy_parse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
