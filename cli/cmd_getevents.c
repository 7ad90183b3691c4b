// SPDX-License-Identifier: Apache-2.0
/* tetra getevents: stream events from a server, or read JSON lines from stdin. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/compact.h"
#include "lib/filter.h"
#include "lib/pbjson.h"
#include "lib/util.h"
#include "tetragon/events.pb-c.h"
#include "google/protobuf/field_mask.pb-c.h"

struct getevents {
	bool compact;
	struct compact_opts copts;
	struct strv process, namespace, pod, policy, types, include, exclude;
	uint32_t *pids;
	size_t n_pids;
	struct event_filter *filter;
	struct field_filter *fields;
	struct sbuf line;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tetra getevents [OPTIONS]\n"
		"\n"
		"Print events as they happen. When stdin is a pipe or a file, read JSON events from\n"
		"it instead (the lines an export file holds) and print them the same way.\n"
		"\n"
		"Options:\n"
		"  -o, --output FORMAT        json or compact (default: json)\n"
		"      --color WHEN           auto, always or never (default: auto)\n"
		"      --timestamps           Prefix compact lines with the event time\n"
		"      --process REGEX,...    Only events of binaries matching a regular expression\n"
		"      --pid PID,...          Only events of these process ids\n"
		"  -e, --event-types T,...    Only these event types (PROCESS_EXEC, PROCESS_EXIT, ...)\n"
		"  -n, --namespace NS,...     Only events from pods in these Kubernetes namespaces\n"
		"      --pod REGEX,...        Only events from pods matching a regular expression\n"
		"      --policy-names N,...   Only events of these tracing policies\n"
		"  -f, --include-fields F,... Keep only these fields (e.g. process.binary)\n"
		"  -F, --exclude-fields F,... Remove these fields\n"
		"      --server-address ADDR  Server to stream from\n");
}

static int add_pids(struct getevents *g, const char *arg)
{
	struct strv s = { 0 };
	int r = strv_add_csv(&s, arg);

	for (size_t i = 0; r == 0 && i < s.n; i++) {
		uint32_t pid, *v;

		if (parse_u32(s.v[i], &pid) < 0) {
			fprintf(stderr, "Error: invalid --pid '%s'\n", s.v[i]);
			r = -EINVAL;
			break;
		}
		v = realloc(g->pids, (g->n_pids + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		g->pids = v;
		g->pids[g->n_pids++] = pid;
	}
	strv_free(&s);
	return r;
}

/* Build the request the options describe; the filters point into g. */
static int build_request(struct getevents *g, Tetragon__GetEventsRequest *req,
			 Tetragon__Filter *allow, Tetragon__Filter **allow_list,
			 Tetragon__EventType *types, Tetragon__FieldFilter *ff,
			 Tetragon__FieldFilter **ff_list, Google__Protobuf__FieldMask *masks)
{
	size_t n_ff = 0;

	tetragon__get_events_request__init(req);
	tetragon__filter__init(allow);
	for (size_t i = 0; i < g->types.n; i++) {
		if (event_type_from_name(g->types.v[i], &types[i]) < 0) {
			fprintf(stderr, "Error: unknown event type '%s'\n", g->types.v[i]);
			return -EINVAL;
		}
	}
	allow->binary_regex = g->process.v;
	allow->n_binary_regex = g->process.n;
	allow->pid = g->pids;
	allow->n_pid = g->n_pids;
	allow->event_set = types;
	allow->n_event_set = g->types.n;
	allow->namespace_ = g->namespace.v;
	allow->n_namespace_ = g->namespace.n;
	allow->pod_regex = g->pod.v;
	allow->n_pod_regex = g->pod.n;
	allow->policy_names = g->policy.v;
	allow->n_policy_names = g->policy.n;
	if (g->process.n || g->n_pids || g->types.n || g->namespace.n || g->pod.n || g->policy.n) {
		allow_list[0] = allow;
		req->allow_list = allow_list;
		req->n_allow_list = 1;
	}
	if (g->include.n) {
		tetragon__field_filter__init(&ff[n_ff]);
		google__protobuf__field_mask__init(&masks[n_ff]);
		masks[n_ff].paths = g->include.v;
		masks[n_ff].n_paths = g->include.n;
		ff[n_ff].fields = &masks[n_ff];
		ff[n_ff].action = TETRAGON__FIELD_FILTER_ACTION__INCLUDE;
		ff_list[n_ff] = &ff[n_ff];
		n_ff++;
	}
	if (g->exclude.n) {
		tetragon__field_filter__init(&ff[n_ff]);
		google__protobuf__field_mask__init(&masks[n_ff]);
		masks[n_ff].paths = g->exclude.v;
		masks[n_ff].n_paths = g->exclude.n;
		ff[n_ff].fields = &masks[n_ff];
		ff[n_ff].action = TETRAGON__FIELD_FILTER_ACTION__EXCLUDE;
		ff_list[n_ff] = &ff[n_ff];
		n_ff++;
	}
	req->field_filters = ff_list;
	req->n_field_filters = n_ff;
	return 0;
}

static void print_event(struct getevents *g, const Tetragon__GetEventsResponse *ev)
{
	int r;

	sbuf_reset(&g->line);
	if (g->compact)
		r = compact_render(ev, &g->copts, &g->line);
	else
		r = pbjson_encode(&ev->base, &g->line, 0);
	if (r < 0)
		return;
	sbuf_addc(&g->line, '\n');
	fwrite(g->line.buf, 1, g->line.len, stdout);
	fflush(stdout);
}

static bool stdin_has_events(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return false;
	return S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode);
}

static int read_stdin(struct getevents *g, const Tetragon__GetEventsRequest *req)
{
	char *buf = NULL, err[256];
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0, bad = 0;
	int r;

	r = event_filter_new(req->allow_list, req->n_allow_list, req->deny_list, req->n_deny_list,
			     &g->filter, err, sizeof(err));
	if (r == 0 && req->n_field_filters)
		r = field_filter_new(req->field_filters, req->n_field_filters, &g->fields, err,
				     sizeof(err));
	if (r < 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	while ((n = getline(&buf, &cap, stdin)) > 0) {
		Tetragon__GetEventsResponse *ev = NULL;

		lineno++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n == 0)
			continue;
		r = pbjson_decode(&tetragon__get_events_response__descriptor, buf, (size_t)n,
				  PBJSON_DISCARD_UNKNOWN, (ProtobufCMessage **)&ev, err,
				  sizeof(err));
		if (r < 0) {
			fprintf(stderr, "Warning: stdin line %lu is not an event: %s\n", lineno,
				err);
			bad++;
			continue;
		}
		if (event_filter_match(g->filter, ev)) {
			if (g->fields)
				field_filter_apply(g->fields, ev);
			print_event(g, ev);
		}
		tetragon__get_events_response__free_unpacked(ev, NULL);
	}
	free(buf);
	return bad ? 1 : 0;
}

static struct rpc_stream_reader *active_reader;

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0 && active_reader)
		rpc_stream_cancel(active_reader);
	return NULL;
}

static int stream(struct getevents *g, const Tetragon__GetEventsRequest *req)
{
	grpc_channel *ch;
	struct rpc_status st = { 0 };
	static sigset_t set;
	pthread_t thr;
	bool interrupted = false;
	int r, rc = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ch = cli_channel();
	r = rpc_stream_open_sync(ch, "/tetragon.FineGuidanceSensors/GetEvents", &req->base,
				 &tetragon__get_events_response__descriptor, cli.timeout_ms,
				 &active_reader);
	if (r < 0) {
		fprintf(stderr, "Error: cannot start GetEvents on %s\n", cli_server_address());
		grpc_channel_destroy(ch);
		return 1;
	}
	pthread_create(&thr, NULL, signal_thread, &set);
	pthread_detach(thr);
	for (;;) {
		ProtobufCMessage *m = NULL;

		r = rpc_stream_read_sync(active_reader, &m, &st);
		if (r <= 0)
			break;
		print_event(g, (Tetragon__GetEventsResponse *)m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (r < 0 || st.code != GRPC_STATUS_OK) {
		interrupted = st.code == GRPC_STATUS_CANCELLED;
		if (!interrupted) {
			fprintf(stderr, "Error: GetEvents on %s: %s: %s\n", cli_server_address(),
				rpc_status_name(st.code), st.message);
			rc = 1;
		}
	}
	active_reader = rpc_stream_close_sync(active_reader);
	grpc_channel_destroy(ch);
	return rc;
}

enum {
	OPT_COLOR = 256,
	OPT_TIMESTAMPS,
	OPT_PROCESS,
	OPT_PID,
	OPT_POD,
	OPT_POLICY,
};

int cmd_getevents(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "timestamps", no_argument, NULL, OPT_TIMESTAMPS },
		{ "process", required_argument, NULL, OPT_PROCESS },
		{ "processes", required_argument, NULL, OPT_PROCESS },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "event-types", required_argument, NULL, 'e' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "namespaces", required_argument, NULL, 'n' },
		{ "pod", required_argument, NULL, OPT_POD },
		{ "pods", required_argument, NULL, OPT_POD },
		{ "policy-names", required_argument, NULL, OPT_POLICY },
		{ "include-fields", required_argument, NULL, 'f' },
		{ "exclude-fields", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	Tetragon__GetEventsRequest req;
	Tetragon__Filter allow, *allow_list[1];
	Tetragon__FieldFilter ff[2], *ff_list[2];
	Google__Protobuf__FieldMask masks[2];
	Tetragon__EventType *types = NULL;
	struct getevents g;
	const char *color = "auto";
	int o, r = 0;

	memset(&g, 0, sizeof(g));
	sbuf_init(&g.line);
	optind = 0; /* 0 makes glibc start over, permuting again */
	while ((o = getopt_long(argc, argv, "o:e:n:f:F:hd", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			if (streq(optarg, "compact"))
				g.compact = true;
			else if (streq(optarg, "json"))
				g.compact = false;
			else {
				fprintf(stderr, "Error: invalid --output '%s': json or compact\n",
					optarg);
				return 2;
			}
			break;
		case OPT_COLOR:
			if (!streq(optarg, "auto") && !streq(optarg, "always") &&
			    !streq(optarg, "never")) {
				fprintf(stderr,
					"Error: invalid --color '%s': auto, always or never\n",
					optarg);
				return 2;
			}
			color = optarg;
			break;
		case OPT_TIMESTAMPS:
			g.copts.timestamps = true;
			break;
		case OPT_PROCESS:
			r = strv_add_csv(&g.process, optarg);
			break;
		case OPT_PID:
			r = add_pids(&g, optarg);
			break;
		case 'e':
			r = strv_add_csv(&g.types, optarg);
			break;
		case 'n':
			r = strv_add_csv(&g.namespace, optarg);
			break;
		case OPT_POD:
			r = strv_add_csv(&g.pod, optarg);
			break;
		case OPT_POLICY:
			r = strv_add_csv(&g.policy, optarg);
			break;
		case 'f':
			r = strv_add_csv(&g.include, optarg);
			break;
		case 'F':
			r = strv_add_csv(&g.exclude, optarg);
			break;
		case 'd':
			cli_global_option(CLI_OPT_DEBUG, NULL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (cli_global_option(o, optarg) < 0) {
				usage(stderr);
				return 2;
			}
		}
		if (r < 0)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	g.copts.color = streq(color, "always") || (streq(color, "auto") && isatty(STDOUT_FILENO));
	types = calloc(g.types.n + 1, sizeof(*types));
	if (!types)
		return 1;
	r = build_request(&g, &req, &allow, allow_list, types, ff, ff_list, masks);
	if (r < 0) {
		r = 2;
		goto out;
	}
	if (stdin_has_events())
		r = read_stdin(&g, &req);
	else
		r = stream(&g, &req);
out:
	free(types);
	free(g.pids);
	strv_free(&g.process);
	strv_free(&g.namespace);
	strv_free(&g.pod);
	strv_free(&g.policy);
	strv_free(&g.types);
	strv_free(&g.include);
	strv_free(&g.exclude);
	event_filter_free(g.filter);
	field_filter_free(g.fields);
	sbuf_free(&g.line);
	return r;
}
