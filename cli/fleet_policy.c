// SPDX-License-Identifier: Apache-2.0
/*
 * The fleet-only side of tetra tracingpolicy: against a tetragon-manager, the per-node
 * status of each policy (fleet.FleetQuery/GetPolicyStatus), as a table or as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "fleet/diagnostics.pb-c.h"
#include "fleet/fleet.pb-c.h"
#include "lib/pbjson.h"
#include "lib/util.h"

bool fleet_server_is_manager(grpc_channel *ch)
{
	Fleet__GetStatsRequest req = FLEET__GET_STATS_REQUEST__INIT;
	Fleet__GetStatsResponse *resp = NULL;
	struct rpc_status st;
	bool yes;

	if (rpc_unary_sync(ch, "/fleet.Diagnostics/GetStats", &req.base,
			   &fleet__get_stats_response__descriptor, cli.timeout_ms,
			   (ProtobufCMessage **)&resp, &st) < 0)
		return false;
	yes = streq(resp->daemon, "tetragon-manager");
	fleet__get_stats_response__free_unpacked(resp, NULL);
	return yes;
}

static const char *state_word(const Tetragon__TracingPolicyStatus *st)
{
	if (!st)
		return "not reported";
	switch (st->state) {
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
	default:
		return "unknown";
	}
}

static const char *mode_word(Tetragon__TracingPolicyMode m)
{
	return m == TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR ? "monitor" :
	       m == TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE ? "enforce" :
								     "-";
}

static void print_table(const Fleet__GetPolicyStatusResponse *resp)
{
	printf("%-24s %-16s %-8s %-13s %-8s %6s %8s %8s  %s\n", "POLICY", "NODE", "ONLINE", "STATE",
	       "MODE", "GEN", "NPOST", "NENFORCE", "ERROR");
	for (size_t i = 0; i < resp->n_policies; i++) {
		const Fleet__PolicyDetail *d = resp->policies[i];

		for (size_t k = 0; k < d->n_nodes; k++) {
			const Fleet__NodePolicyStatus *n = d->nodes[k];
			const Tetragon__TracingPolicyStatus *st = n->status;
			const Tetragon__TracingPolicyActionCounters *c =
				st && st->stats ? st->stats->action_counters : NULL;

			printf("%-24s %-16s %-8s %-13s %-8s %6llu %8llu %8llu  %s\n",
			       d->policy->name, n->node, n->online ? "yes" : "no", state_word(st),
			       st ? mode_word(st->mode) : "-", (unsigned long long)n->generation,
			       (unsigned long long)(c ? c->post : 0),
			       (unsigned long long)(c ? c->signal + c->override +
								    c->notify_enforcer + c->set :
							0),
			       st && *st->error ? st->error : "");
		}
		if (!d->n_nodes)
			printf("%-24s %-16s\n", d->policy->name, "(no node)");
	}
}

int fleet_policy_status_print(grpc_channel *ch, const char *name, const char *ns, const char *node,
			      bool json)
{
	Fleet__GetPolicyStatusRequest req = FLEET__GET_POLICY_STATUS_REQUEST__INIT;
	Fleet__GetPolicyStatusResponse *resp = NULL;
	int r;

	req.name = (char *)(name ? name : "");
	req.namespace_ = (char *)(ns ? ns : "");
	req.node = (char *)(node ? node : "");
	r = cli_call(ch, "/fleet.FleetQuery/GetPolicyStatus", &req.base,
		     &fleet__get_policy_status_response__descriptor, (ProtobufCMessage **)&resp);
	if (r < 0)
		return r;
	if (json) {
		struct sbuf sb;

		sbuf_init(&sb);
		r = pbjson_encode(&resp->base, &sb, 0);
		if (r == 0)
			printf("%s\n", sb.buf);
		else
			fprintf(stderr, "Error: cannot print the status as JSON: %s\n",
				strerror(-r));
		sbuf_free(&sb);
	} else {
		print_table(resp);
	}
	fleet__get_policy_status_response__free_unpacked(resp, NULL);
	return r;
}
