// SPDX-License-Identifier: Apache-2.0
/* tetra tracingpolicy (tp): add, delete, list, enable, disable, set-mode, validate */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/pbjson.h"
#include "lib/policy/policy.h"
#include "lib/util.h"
#include "tetragon/sensors.pb-c.h"

struct tp_opts {
	const char *mode;
	const char *domain;
	const char *namespace;
	const char *output;
};

/* Parse the verb's options; positional arguments stay at argv[optind..]. */
static int parse(int argc, char **argv, struct tp_opts *o, const char *usage)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "domain", required_argument, NULL, 'D' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0; /* 0 makes glibc start over, permuting again */
	while ((c = getopt_long(argc, argv, "m:n:o:hd", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->mode = optarg;
			break;
		case 'D':
			o->domain = optarg;
			break;
		case 'n':
			o->namespace = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			printf("%s", usage);
			exit(0);
		case 'd':
			cli_global_option(CLI_OPT_DEBUG, NULL);
			break;
		default:
			if (cli_global_option(c, optarg) < 0) {
				fprintf(stderr, "%s", usage);
				return -EINVAL;
			}
		}
	}
	if (o->mode && !streq(o->mode, "enforce") && !streq(o->mode, "monitor")) {
		fprintf(stderr, "Error: --mode must be enforce or monitor\n");
		return -EINVAL;
	}
	if (o->output && !streq(o->output, "text") && !streq(o->output, "json")) {
		fprintf(stderr, "Error: --output must be text or json\n");
		return -EINVAL;
	}
	return 0;
}

static int need_args(int argc, int n, const char *usage)
{
	if (argc - optind != n) {
		fprintf(stderr, "%s", usage);
		return -EINVAL;
	}
	return 0;
}

/* Parse text as the server will, printing every error; returns how many there were. */
static size_t print_errors(const char *file, const char *text, size_t len)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	size_t n;

	if (policy_parse_buffer(text, len, file, &p, &errs) < 0) {
		struct sbuf sb;

		sbuf_init(&sb);
		policy_errors_format(&errs, &sb);
		fputs(sb.buf ? sb.buf : "", stderr);
		sbuf_free(&sb);
	}
	n = errs.nr;
	policy_free(p);
	policy_errors_clear(&errs);
	return n;
}

/*
 * The server names the policy "policy" in its errors (it has no file name):
 * print them with the file's name instead, as validate does. When the text
 * sent was rewritten (--mode), the positions are the rewritten text's: keep them.
 */
static void print_server_errors(const char *msg, const char *file)
{
	for (const char *line = msg; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (file && n > 7 && strncmp(line, "policy:", 7) == 0)
			fprintf(stderr, "%s:%.*s\n", file, (int)(n - 7), line + 7);
		else
			fprintf(stderr, "%.*s\n", (int)n, line);
		line = nl ? nl + 1 : NULL;
	}
}

static int tp_add(int argc, char **argv)
{
	static const char usage[] = "Usage: tetra tracingpolicy add FILE [-m enforce|monitor]\n";
	Tetragon__AddTracingPolicyRequest req = TETRAGON__ADD_TRACING_POLICY_REQUEST__INIT;
	_cleanup_free_ char *text = NULL, *moded = NULL;
	ProtobufCMessage *resp = NULL;
	struct rpc_status st;
	struct tp_opts o;
	grpc_channel *ch;
	size_t len;
	int r;

	if (parse(argc, argv, &o, usage) < 0 || need_args(argc, 1, usage) < 0)
		return 2;
	r = read_file(argv[optind], POLICY_MAX_SIZE, &text, &len);
	if (r < 0) {
		fprintf(stderr, "Error: cannot read '%s': %s\n", argv[optind], strerror(-r));
		return 1;
	}
	/* the server would say the same, but without the file's name */
	if (print_errors(argv[optind], text, len) > 0)
		return 1;
	if (o.mode) {
		r = policy_yaml_set_mode(text, len, o.mode, &moded);
		if (r < 0) {
			fprintf(stderr, "Error: cannot set the mode of '%s': it is not a policy\n",
				argv[optind]);
			return 1;
		}
	}
	req.yaml = moded ? moded : text;
	req.domain = (char *)(o.domain ? o.domain : "");
	ch = cli_channel();
	r = rpc_unary_sync(ch, "/tetragon.FineGuidanceSensors/AddTracingPolicy", &req.base,
			   &tetragon__add_tracing_policy_response__descriptor, cli.timeout_ms,
			   &resp, &st);
	grpc_channel_destroy(ch);
	if (r < 0) {
		fprintf(stderr, "Error: AddTracingPolicy on %s: %s: ", cli_server_address(),
			rpc_status_name(st.code));
		print_server_errors(st.message, moded ? NULL : argv[optind]);
		return 1;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	printf("Policy added\n");
	return 0;
}

static int tp_delete(int argc, char **argv)
{
	static const char usage[] = "Usage: tetra tracingpolicy delete NAME [-n NAMESPACE]\n";
	Tetragon__DeleteTracingPolicyRequest req = TETRAGON__DELETE_TRACING_POLICY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	struct tp_opts o;
	grpc_channel *ch;
	int r;

	if (parse(argc, argv, &o, usage) < 0 || need_args(argc, 1, usage) < 0)
		return 2;
	req.name = argv[optind];
	req.namespace_ = (char *)(o.namespace ? o.namespace : "");
	req.domain = (char *)(o.domain ? o.domain : "");
	ch = cli_channel();
	r = cli_call(ch, "/tetragon.FineGuidanceSensors/DeleteTracingPolicy", &req.base,
		     &tetragon__delete_tracing_policy_response__descriptor, &resp);
	grpc_channel_destroy(ch);
	if (r < 0)
		return 1;
	protobuf_c_message_free_unpacked(resp, NULL);
	printf("Policy deleted\n");
	return 0;
}

/* enable, disable and set-mode are ConfigureTracingPolicy calls. */
static int configure(int argc, char **argv, int enable, const char *usage, int nargs)
{
	Tetragon__ConfigureTracingPolicyRequest req =
		TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	struct tp_opts o;
	grpc_channel *ch;
	int r;

	if (parse(argc, argv, &o, usage) < 0 || need_args(argc, nargs, usage) < 0)
		return 2;
	req.name = argv[optind];
	req.namespace_ = (char *)(o.namespace ? o.namespace : "");
	req.domain = (char *)(o.domain ? o.domain : "");
	if (enable >= 0) {
		req._enable_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___ENABLE_ENABLE;
		req.enable = enable;
	}
	if (nargs == 2) {
		const char *mode = argv[optind + 1];

		req._mode_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE;
		if (streq(mode, "enforce")) {
			req.mode = TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE;
		} else if (streq(mode, "monitor")) {
			req.mode = TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR;
		} else {
			fprintf(stderr, "Error: mode must be enforce or monitor\n");
			return 2;
		}
	}
	ch = cli_channel();
	r = cli_call(ch, "/tetragon.FineGuidanceSensors/ConfigureTracingPolicy", &req.base,
		     &tetragon__configure_tracing_policy_response__descriptor, &resp);
	grpc_channel_destroy(ch);
	if (r < 0)
		return 1;
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

static int tp_enable(int argc, char **argv)
{
	return configure(argc, argv, 1, "Usage: tetra tracingpolicy enable NAME [-n NAMESPACE]\n",
			 1);
}

static int tp_disable(int argc, char **argv)
{
	return configure(argc, argv, 0, "Usage: tetra tracingpolicy disable NAME [-n NAMESPACE]\n",
			 1);
}

static int tp_set_mode(int argc, char **argv)
{
	return configure(
		argc, argv, -1,
		"Usage: tetra tracingpolicy set-mode NAME enforce|monitor [-n NAMESPACE]\n", 2);
}

static const char *state_name(Tetragon__TracingPolicyState s)
{
	switch (s) {
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED:
		return "enabled";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED:
		return "disabled";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOAD_ERROR:
		return "load_error";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_ERROR:
		return "error";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOADING:
		return "loading";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_UNLOADING:
		return "unloading";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_SKIPPED:
		return "skipped";
	case TETRAGON__TRACING_POLICY_STATE__TP_STATE_PARTIALLY_ENABLED:
		return "partially_enabled";
	default:
		return "unknown";
	}
}

static const char *mode_name(Tetragon__TracingPolicyMode m)
{
	switch (m) {
	case TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE:
		return "enforce";
	case TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR:
		return "monitor";
	case TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR_ONLY:
		return "monitor_only";
	default:
		return "unknown";
	}
}

static void human_bytes(uint64_t n, char *buf, size_t size)
{
	if (n >= 1 << 20)
		snprintf(buf, size, "%.2f MB", (double)n / (1 << 20));
	else if (n >= 1 << 10)
		snprintf(buf, size, "%.2f kB", (double)n / (1 << 10));
	else
		snprintf(buf, size, "%llu B", (unsigned long long)n);
}

static void print_text(const Tetragon__ListTracingPoliciesResponse *resp)
{
	bool fleet = false;

	for (size_t i = 0; i < resp->n_policies; i++)
		fleet |= resp->policies[i]->info && *resp->policies[i]->info;
	printf("%-4s %-24s %-7s %-9s %-9s %-30s %-12s %-12s %8s %8s %8s%s\n", "ID", "NAME",
	       "DOMAIN", "STATE", "NAMESPACE", "SENSORS", "KERNELMEMORY", "MODE", "NPOST",
	       "NENFORCE", "NMONITOR", fleet ? "  FLEET" : "");
	for (size_t i = 0; i < resp->n_policies; i++) {
		const Tetragon__TracingPolicyStatus *p = resp->policies[i];
		const Tetragon__TracingPolicyActionCounters *c =
			p->stats ? p->stats->action_counters : NULL;
		char sensors[256] = "", mem[32];
		uint64_t enf = 0, mon = 0;

		for (size_t k = 0; k < p->n_sensors; k++)
			snprintf(sensors + strlen(sensors), sizeof(sensors) - strlen(sensors),
				 "%s%s", k ? "," : "", p->sensors[k]);
		human_bytes(p->kernel_memory_bytes, mem, sizeof(mem));
		if (c) {
			enf = c->signal + c->override + c->notify_enforcer + c->set;
			mon = c->monitor_signal + c->monitor_override + c->monitor_notify_enforcer +
			      c->monitor_set;
		}
		printf("%-4llu %-24s %-7s %-9s %-9s %-30s %-12s %-12s %8llu %8llu %8llu%s%s\n",
		       (unsigned long long)p->id, p->name, *p->domain ? p->domain : "-",
		       state_name(p->state), *p->namespace_ ? p->namespace_ : "(global)", sensors,
		       mem, mode_name(p->mode), (unsigned long long)(c ? c->post : 0),
		       (unsigned long long)enf, (unsigned long long)mon, fleet ? "  " : "",
		       fleet ? p->info : "");
		if (*p->error)
			printf("     error: %s\n", p->error);
		for (size_t k = 0; k < p->n_hook_statuses; k++) {
			const Tetragon__HookStatus *h = p->hook_statuses[k];

			printf("     %s[%u] %s: %s\n", h->section, h->hook_idx,
			       h->state == TETRAGON__HOOK_STATE__STATUS_LOADED ? "loaded" :
										 "not loaded",
			       h->hook_description);
		}
	}
}

static int tp_list(int argc, char **argv)
{
	static const char usage[] = "Usage: tetra tracingpolicy list [-o text|json]\n";
	Tetragon__ListTracingPoliciesRequest req = TETRAGON__LIST_TRACING_POLICIES_REQUEST__INIT;
	Tetragon__ListTracingPoliciesResponse *resp = NULL;
	struct tp_opts o;
	grpc_channel *ch;
	int r;

	if (parse(argc, argv, &o, usage) < 0 || need_args(argc, 0, usage) < 0)
		return 2;
	req.domain = (char *)(o.domain ? o.domain : "");
	ch = cli_channel();
	r = cli_call(ch, "/tetragon.FineGuidanceSensors/ListTracingPolicies", &req.base,
		     &tetragon__list_tracing_policies_response__descriptor,
		     (ProtobufCMessage **)&resp);
	grpc_channel_destroy(ch);
	if (r < 0)
		return 1;
	if (o.output && streq(o.output, "json")) {
		struct sbuf sb;

		sbuf_init(&sb);
		if (pbjson_encode(&resp->base, &sb, 0) == 0)
			printf("%s\n", sb.buf);
		sbuf_free(&sb);
	} else {
		print_text(resp);
	}
	tetragon__list_tracing_policies_response__free_unpacked(resp, NULL);
	return 0;
}

static int tp_validate(int argc, char **argv)
{
	static const char usage[] = "Usage: tetra tracingpolicy validate FILE...\n";
	struct tp_opts o;
	int bad = 0;

	if (parse(argc, argv, &o, usage) < 0)
		return 2;
	if (optind >= argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		struct policy_errors errs = { 0 };
		struct policy *p = NULL;
		size_t n = 0;
		int r;

		r = policy_parse_file_all(argv[i], &p, &errs);
		if (r < 0) {
			struct sbuf sb;

			sbuf_init(&sb);
			policy_errors_format(&errs, &sb);
			fputs(sb.buf ? sb.buf : "", stderr);
			if (!errs.nr)
				fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
			sbuf_free(&sb);
			bad++;
		} else {
			for (struct policy *q = p; q; q = q->next)
				n++;
			printf("%s: ok (%zu %s)\n", argv[i], n, n == 1 ? "policy" : "policies");
		}
		policy_free(p);
		policy_errors_clear(&errs);
	}
	return bad ? 1 : 0;
}

static const struct cmd tp_commands[] = {
	{ "add", tp_add, "Add a tracing policy from a YAML file" },
	{ "delete", tp_delete, "Delete a tracing policy" },
	{ "list", tp_list, "List tracing policies with their state, mode and counters" },
	{ "enable", tp_enable, "Enable a tracing policy" },
	{ "disable", tp_disable, "Disable a tracing policy (its programs stay loaded)" },
	{ "set-mode", tp_set_mode, "Switch a tracing policy between enforce and monitor" },
	{ "validate", tp_validate, "Check policy files and print every error with its line" },
	{ 0 },
};

int cmd_tracingpolicy(int argc, char **argv)
{
	return cmd_select(tp_commands, "tracingpolicy", argc - 1, argv + 1);
}
