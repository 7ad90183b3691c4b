// SPDX-License-Identifier: Apache-2.0
/* tetra events query: the event history of a tetragon-manager's fleet. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fleet/fleet.pb-c.h"
#include "lib/compact.h"
#include "lib/filter.h"
#include "lib/pbjson.h"
#include "lib/util.h"

enum output { OUT_TABLE, OUT_COMPACT, OUT_JSON };

struct query {
	enum output out;
	struct compact_opts copts;
	struct strv nodes, policies;
	Tetragon__EventType *types;
	size_t n_types;
	Tetragon__KprobeAction *actions;
	size_t n_actions;
	uint32_t *pids;
	size_t n_pids;
	const char *binary;
	const char *exec_id;
	const char *cursor;
	uint64_t since_ns, until_ns;
	unsigned limit;
	bool oldest_first;
	bool all;
	struct sbuf line;
	size_t printed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tetra events query [OPTIONS]\n"
		"\n"
		"Print events from the history a tetragon-manager keeps for the whole fleet,\n"
		"newest first unless --oldest-first. Filters of different kinds must all match;\n"
		"the values of one filter (comma-separated or repeated) are alternatives.\n"
		"\n"
		"Options:\n"
		"  -o, --output FORMAT     table, compact or json (JSON lines) (default: table)\n"
		"      --node NAME,...     Events of these nodes\n"
		"      --type TYPE,...     Event types: PROCESS_EXEC, exec, kprobe, ...\n"
		"      --policy NAME,...   Events of these tracing policies\n"
		"      --binary REGEX      process.binary matches the POSIX regular expression\n"
		"      --pid PID,...       Events of these process ids\n"
		"      --exec-id ID        Events of this process (process.exec_id)\n"
		"      --action A,...      Policy actions: sigkill, post, override, ... \n"
		"      --since TIME        From TIME: a duration back from now (10m, 2h, 7d) or\n"
		"                          RFC 3339 (2026-01-02T15:04:05Z)\n"
		"      --until TIME        Before TIME (same forms)\n"
		"      --limit N           At most N events per page (default: 100, at most 10000)\n"
		"      --oldest-first      Oldest first\n"
		"      --cursor CURSOR     Continue after a page (the cursor it printed)\n"
		"      --all               Follow the cursors to the last page\n"
		"      --color WHEN        compact: auto, always or never (default: auto)\n"
		"      --server-address ADDR  The manager\n"
		"\n"
		"After a full page the cursor of the next one is printed to stderr.\n");
}

/* "sigkill", "SIGKILL", "KPROBE_ACTION_SIGKILL" */
static int action_from_name(const char *name, Tetragon__KprobeAction *ret)
{
	const ProtobufCEnumDescriptor *d = &tetragon__kprobe_action__descriptor;
	char upper[64];
	size_t n = strlen(name);

	if (!n || n >= sizeof(upper))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		upper[i] = (char)toupper((unsigned char)name[i]);
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *v = d->values[i].name;

		if (streq(upper, v) || (startswith(v, "KPROBE_ACTION_") && streq(upper, v + 14))) {
			*ret = (Tetragon__KprobeAction)d->values[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *action_short(int a)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&tetragon__kprobe_action__descriptor, a);

	if (!v || a == 0)
		return "";
	return startswith(v->name, "KPROBE_ACTION_") ? v->name + 14 : v->name;
}

static int add_csv(const char *arg, const char *what, int (*conv)(const char *, void *), void **arr,
		   size_t *n, size_t elem)
{
	struct strv s = { 0 };
	int r = strv_add_csv(&s, arg);

	for (size_t i = 0; r == 0 && i < s.n; i++) {
		char *grown = realloc(*arr, (*n + 1) * elem);

		if (!grown) {
			r = -ENOMEM;
			break;
		}
		*arr = grown;
		if (conv(s.v[i], grown + *n * elem) < 0) {
			fprintf(stderr, "Error: invalid --%s '%s'\n", what, s.v[i]);
			r = -EINVAL;
			break;
		}
		(*n)++;
	}
	strv_free(&s);
	return r;
}

static int conv_type(const char *s, void *out)
{
	return event_type_from_name(s, out);
}

static int conv_action(const char *s, void *out)
{
	return action_from_name(s, out);
}

static int conv_pid(const char *s, void *out)
{
	return parse_u32(s, out);
}

/* A duration back from now, or an RFC 3339 time. */
static int parse_when(const char *s, uint64_t *ns)
{
	uint64_t d;

	if (parse_duration(s, &d) == 0) {
		uint64_t now = now_realtime_ns();

		*ns = d < now ? now - d : 1;
		return 0;
	}
	return parse_rfc3339(s, ns);
}

static void set_ts(Google__Protobuf__Timestamp *ts, uint64_t ns)
{
	google__protobuf__timestamp__init(ts);
	ts->seconds = (int64_t)(ns / 1000000000ull);
	ts->nanos = (int32_t)(ns % 1000000000ull);
}

static const char *type_short(Tetragon__EventType t)
{
	const char *n = event_type_name(t);

	if (!n)
		return "?";
	return startswith(n, "PROCESS_") ? n + 8 : n;
}

static int event_action(const Tetragon__GetEventsResponse *ev)
{
	switch (ev->event_case) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		return ev->process_kprobe->action;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		return ev->process_tracepoint->action;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
		return ev->process_uprobe->action;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
		return ev->process_lsm->action;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
		return ev->process_usdt->action;
	default:
		return 0;
	}
}

static void print_event(struct query *q, const Tetragon__GetEventsResponse *ev)
{
	int r = 0;

	sbuf_reset(&q->line);
	switch (q->out) {
	case OUT_JSON:
		r = pbjson_encode(&ev->base, &q->line, 0);
		break;
	case OUT_COMPACT:
		r = compact_render(ev, &q->copts, &q->line);
		break;
	case OUT_TABLE: {
		const Tetragon__Process *p = event_process(ev);
		const char *pol = event_policy_name(ev);
		char when[64] = "-";

		if (ev->time)
			format_rfc3339((uint64_t)ev->time->seconds * 1000000000ull +
					       (uint64_t)ev->time->nanos,
				       when, sizeof(when));
		sbuf_printf(&q->line, "%-30s %-16s %-10s %8u %-20s %-9s %s", when,
			    *ev->node_name ? ev->node_name : "-", type_short(event_type_of(ev)),
			    p && p->pid ? p->pid->value : 0, pol && *pol ? pol : "-",
			    action_short(event_action(ev)), p && *p->binary ? p->binary : "-");
		break;
	}
	}
	if (r < 0)
		return;
	sbuf_addc(&q->line, '\n');
	fwrite(q->line.buf, 1, q->line.len, stdout);
	q->printed++;
}

static int run(struct query *q)
{
	Fleet__QueryEventsRequest req = FLEET__QUERY_EVENTS_REQUEST__INIT;
	Google__Protobuf__Timestamp since, until;
	_cleanup_free_ char *cursor = q->cursor ? strdup(q->cursor) : NULL;
	grpc_channel *ch = cli_channel();
	int rc = 0;

	req.nodes = q->nodes.v;
	req.n_nodes = q->nodes.n;
	req.policy_names = q->policies.v;
	req.n_policy_names = q->policies.n;
	req.types = q->types;
	req.n_types = q->n_types;
	req.actions = q->actions;
	req.n_actions = q->n_actions;
	req.pids = q->pids;
	req.n_pids = q->n_pids;
	req.binary_regex = (char *)(q->binary ? q->binary : "");
	req.exec_id = (char *)(q->exec_id ? q->exec_id : "");
	req.oldest_first = q->oldest_first;
	req.limit = q->limit;
	if (q->since_ns) {
		set_ts(&since, q->since_ns);
		req.since = &since;
	}
	if (q->until_ns) {
		set_ts(&until, q->until_ns);
		req.until = &until;
	}
	if (q->out == OUT_TABLE)
		printf("%-30s %-16s %-10s %8s %-20s %-9s %s\n", "TIME", "NODE", "TYPE", "PID",
		       "POLICY", "ACTION", "BINARY");
	for (;;) {
		Fleet__QueryEventsResponse *resp = NULL;

		req.cursor = cursor ? cursor : "";
		if (cli_call(ch, "/fleet.FleetQuery/QueryEvents", &req.base,
			     &fleet__query_events_response__descriptor,
			     (ProtobufCMessage **)&resp) < 0) {
			rc = 1;
			break;
		}
		for (size_t i = 0; i < resp->n_events; i++)
			print_event(q, resp->events[i]);
		fflush(stdout);
		free(cursor);
		cursor = *resp->next_cursor ? strdup(resp->next_cursor) : NULL;
		fleet__query_events_response__free_unpacked(resp, NULL);
		if (!cursor || !q->all)
			break;
	}
	if (cursor && !q->all && rc == 0)
		fprintf(stderr, "More: --cursor %s\n", cursor);
	grpc_channel_destroy(ch);
	return rc;
}

enum {
	OPT_NODE = 256,
	OPT_TYPE,
	OPT_POLICY,
	OPT_BINARY,
	OPT_PID,
	OPT_EXEC_ID,
	OPT_ACTION,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_OLDEST,
	OPT_CURSOR,
	OPT_ALL,
	OPT_COLOR,
};

static int events_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "binary", required_argument, NULL, OPT_BINARY },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "exec-id", required_argument, NULL, OPT_EXEC_ID },
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "oldest-first", no_argument, NULL, OPT_OLDEST },
		{ "cursor", required_argument, NULL, OPT_CURSOR },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct query q;
	const char *color = "auto";
	uint64_t v;
	int c, r = 0;

	memset(&q, 0, sizeof(q));
	sbuf_init(&q.line);
	optind = 0;
	while (r == 0 && (c = getopt_long(argc, argv, "o:hd", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (streq(optarg, "json"))
				q.out = OUT_JSON;
			else if (streq(optarg, "compact"))
				q.out = OUT_COMPACT;
			else if (streq(optarg, "table"))
				q.out = OUT_TABLE;
			else {
				fprintf(stderr,
					"Error: invalid --output '%s': table, compact or json\n",
					optarg);
				r = -EINVAL;
			}
			break;
		case OPT_NODE:
			r = strv_add_csv(&q.nodes, optarg);
			break;
		case OPT_TYPE:
			r = add_csv(optarg, "type", conv_type, (void **)&q.types, &q.n_types,
				    sizeof(*q.types));
			break;
		case OPT_POLICY:
			r = strv_add_csv(&q.policies, optarg);
			break;
		case OPT_BINARY:
			q.binary = optarg;
			break;
		case OPT_PID:
			r = add_csv(optarg, "pid", conv_pid, (void **)&q.pids, &q.n_pids,
				    sizeof(*q.pids));
			break;
		case OPT_EXEC_ID:
			q.exec_id = optarg;
			break;
		case OPT_ACTION:
			r = add_csv(optarg, "action", conv_action, (void **)&q.actions,
				    &q.n_actions, sizeof(*q.actions));
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (parse_when(optarg, c == OPT_SINCE ? &q.since_ns : &q.until_ns) < 0) {
				fprintf(stderr,
					"Error: invalid --%s '%s': a duration (10m) or an RFC 3339 "
					"time\n",
					c == OPT_SINCE ? "since" : "until", optarg);
				r = -EINVAL;
			}
			break;
		case OPT_LIMIT:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 10000) {
				fprintf(stderr, "Error: invalid --limit '%s': 1 to 10000\n",
					optarg);
				r = -EINVAL;
			}
			q.limit = (unsigned)v;
			break;
		case OPT_OLDEST:
			q.oldest_first = true;
			break;
		case OPT_CURSOR:
			q.cursor = optarg;
			break;
		case OPT_ALL:
			q.all = true;
			break;
		case OPT_COLOR:
			if (!streq(optarg, "auto") && !streq(optarg, "always") &&
			    !streq(optarg, "never")) {
				fprintf(stderr, "Error: invalid --color '%s'\n", optarg);
				r = -EINVAL;
			}
			color = optarg;
			break;
		case 'h':
			usage(stdout);
			goto out;
		case 'd':
			cli_global_option(CLI_OPT_DEBUG, NULL);
			break;
		default:
			if (cli_global_option(c, optarg) < 0) {
				usage(stderr);
				r = -EINVAL;
			}
		}
	}
	if (r == 0 && optind < argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[optind]);
		r = -EINVAL;
	}
	if (r == 0 && q.since_ns && q.until_ns && q.since_ns >= q.until_ns) {
		fprintf(stderr, "Error: --since must be before --until\n");
		r = -EINVAL;
	}
	if (r < 0) {
		r = 2;
		goto out;
	}
	q.copts.color = streq(color, "always") || (streq(color, "auto") && isatty(STDOUT_FILENO));
	r = run(&q);
out:
	strv_free(&q.nodes);
	strv_free(&q.policies);
	free(q.types);
	free(q.actions);
	free(q.pids);
	sbuf_free(&q.line);
	return r;
}

int cmd_events(int argc, char **argv)
{
	static const struct cmd verbs[] = {
		{ "query", events_query, "Query the fleet's event history (tetragon-manager)" },
		{ 0 },
	};

	return cmd_select(verbs, "events", argc - 1, argv + 1);
}
