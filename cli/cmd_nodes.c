// SPDX-License-Identifier: Apache-2.0
/* tetra nodes list|policies: the nodes of a tetragon-manager's fleet. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "fleet/fleet.pb-c.h"
#include "lib/pbjson.h"
#include "lib/util.h"

struct nodes_opts {
	bool json;
	const char *node;
	const char *ns;
};

static int parse(int argc, char **argv, struct nodes_opts *o, const char *usage)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, 'N' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:n:hd", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (streq(optarg, "json"))
				o->json = true;
			else if (!streq(optarg, "text") && !streq(optarg, "table")) {
				fprintf(stderr, "Error: invalid --output '%s': text or json\n",
					optarg);
				return -1;
			}
			break;
		case 'N':
			o->node = optarg;
			break;
		case 'n':
			o->ns = optarg;
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
				return -1;
			}
		}
	}
	return 0;
}

/* "now", "12s ago", "3m ago", "2h ago", "4d ago" */
static void ago(const Google__Protobuf__Timestamp *ts, char *buf, size_t size)
{
	int64_t now = (int64_t)(now_realtime_ns() / 1000000000ull), d;

	if (!ts || ts->seconds <= 0) {
		snprintf(buf, size, "never");
		return;
	}
	d = now - ts->seconds;
	if (d < 2)
		snprintf(buf, size, "now");
	else if (d < 120)
		snprintf(buf, size, "%llds ago", (long long)d);
	else if (d < 7200)
		snprintf(buf, size, "%lldm ago", (long long)(d / 60));
	else if (d < 172800)
		snprintf(buf, size, "%lldh ago", (long long)(d / 3600));
	else
		snprintf(buf, size, "%lldd ago", (long long)(d / 86400));
}

static int nodes_list(int argc, char **argv)
{
	static const char usage[] =
		"Usage: tetra nodes list [-o text|json]\n"
		"\n"
		"The nodes of the manager's fleet: online or not, last seen, "
		"agent and kernel,\n"
		"fleet policies in their desired state, events stored and events "
		"the node lost.\n";
	Fleet__ListNodesRequest req = FLEET__LIST_NODES_REQUEST__INIT;
	Fleet__ListNodesResponse *resp = NULL;
	struct nodes_opts o;
	grpc_channel *ch;
	int r;

	if (parse(argc, argv, &o, usage) < 0)
		return 2;
	if (optind < argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	ch = cli_channel();
	r = cli_call(ch, "/fleet.FleetQuery/ListNodes", &req.base,
		     &fleet__list_nodes_response__descriptor, (ProtobufCMessage **)&resp);
	grpc_channel_destroy(ch);
	if (r < 0)
		return 1;
	if (o.json) {
		struct sbuf sb;

		sbuf_init(&sb);
		r = pbjson_encode(&resp->base, &sb, 0);
		if (r == 0)
			printf("%s\n", sb.buf);
		sbuf_free(&sb);
	} else {
		printf("%-20s %-8s %-10s %-16s %-24s %-18s %10s %8s\n", "NAME", "STATE",
		       "LAST-SEEN", "AGENT", "KERNEL", "POLICIES", "EVENTS", "DROPPED");
		for (size_t i = 0; i < resp->n_nodes; i++) {
			const Fleet__Node *n = resp->nodes[i];
			char seen[32], pol[64];
			unsigned total = n->policies_ok + n->policies_failed + n->policies_pending;

			ago(n->last_seen, seen, sizeof(seen));
			if (n->policies_failed)
				snprintf(pol, sizeof(pol), "%u/%u ok, %u failed", n->policies_ok,
					 total, n->policies_failed);
			else
				snprintf(pol, sizeof(pol), "%u/%u ok", n->policies_ok, total);
			printf("%-20s %-8s %-10s %-16s %-24s %-18s %10llu %8llu\n", n->name,
			       n->online ? "online" : "offline", n->online ? "now" : seen,
			       *n->agent_version ? n->agent_version : "-",
			       *n->kernel_release ? n->kernel_release : "-", pol,
			       (unsigned long long)n->events_stored,
			       (unsigned long long)n->events_dropped);
		}
	}
	fleet__list_nodes_response__free_unpacked(resp, NULL);
	return r < 0 ? 1 : 0;
}

static int nodes_policies(int argc, char **argv)
{
	static const char usage[] =
		"Usage: tetra nodes policies [POLICY] [-n NAMESPACE] [--node NODE] [-o text|json]\n"
		"\n"
		"Each fleet policy on each node: its state, mode, the generation the node applied,\n"
		"its counters and its error.\n";
	struct nodes_opts o;
	grpc_channel *ch;
	const char *name = NULL;
	int r;

	if (parse(argc, argv, &o, usage) < 0)
		return 2;
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	ch = cli_channel();
	r = fleet_policy_status_print(ch, name, o.ns, o.node, o.json);
	grpc_channel_destroy(ch);
	return r < 0 ? 1 : 0;
}

int cmd_nodes(int argc, char **argv)
{
	static const struct cmd verbs[] = {
		{ "list", nodes_list, "List the fleet's nodes (tetragon-manager)" },
		{ "policies", nodes_policies, "Show each fleet policy on each node" },
		{ 0 },
	};

	return cmd_select(verbs, "nodes", argc - 1, argv + 1);
}
