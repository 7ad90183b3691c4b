// SPDX-License-Identifier: Apache-2.0
/* The answers the agent and the manager share; see service.h. */
#include <errno.h>
#include <stdlib.h>

#include <grpc/status.h>

#include "lib/filter.h"
#include "lib/service.h"

void service_get_health(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Tetragon__GetHealthStatusResponse resp = TETRAGON__GET_HEALTH_STATUS_RESPONSE__INIT;
	Tetragon__HealthStatus st = TETRAGON__HEALTH_STATUS__INIT;
	Tetragon__HealthStatus *list[1] = { &st };

	(void)msg;
	(void)ud;
	st.event = TETRAGON__HEALTH_STATUS_TYPE__HEALTH_STATUS_TYPE_STATUS;
	st.status = TETRAGON__HEALTH_STATUS_RESULT__HEALTH_STATUS_RUNNING;
	st.details = "running";
	resp.n_health_status = 1;
	resp.health_status = list;
	rpc_call_reply(call, &resp.base);
	rpc_call_unref(call);
}

void service_get_version(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Tetragon__GetVersionResponse resp = TETRAGON__GET_VERSION_RESPONSE__INIT;

	(void)msg;
	(void)ud;
	resp.version = TETRA_VERSION;
	rpc_call_reply(call, &resp.base);
	rpc_call_unref(call);
}

int service_events_filters(struct rpc_call *call, const Tetragon__GetEventsRequest *req,
			   struct event_filter **filter, struct field_filter **fields)
{
	char err[256] = "";
	int r;

	*filter = NULL;
	*fields = NULL;
	if (req->aggregation_options) {
		rpc_call_fail(call, GRPC_STATUS_UNIMPLEMENTED,
			      "event aggregation is not supported");
		r = -EOPNOTSUPP;
		goto fail;
	}
	r = event_filter_new(req->allow_list, req->n_allow_list, req->deny_list, req->n_deny_list,
			     filter, err, sizeof(err));
	if (r == 0 && req->n_field_filters)
		r = field_filter_new(req->field_filters, req->n_field_filters, fields, err,
				     sizeof(err));
	if (r == -ENOMEM) {
		rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	if (r < 0) {
		rpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s",
			      *err ? err : "cannot set up the filters");
		goto fail;
	}
	return 0;
fail:
	*filter = event_filter_free(*filter);
	*fields = field_filter_free(*fields);
	rpc_call_unref(call);
	return r;
}

int counters_init(struct counters *c, size_t cap)
{
	/* one block, the pointers first; one more row for the count of those that did not fit */
	c->n = 0;
	c->dropped = 0;
	c->cap = cap;
	c->ptrs = calloc(cap + 1, sizeof(*c->ptrs) + sizeof(*c->items));
	if (!c->ptrs)
		return -ENOMEM;
	c->items = (Fleet__Counter *)(c->ptrs + cap + 1);
	return 0;
}

static void put(struct counters *c, size_t i, const char *name, uint64_t value, const char *help)
{
	fleet__counter__init(&c->items[i]);
	c->items[i].name = (char *)name;
	c->items[i].value = value;
	c->items[i].help = (char *)help;
	c->ptrs[i] = &c->items[i];
}

void counters_add(struct counters *c, const char *name, uint64_t value, const char *help)
{
	if (c->n == c->cap) {
		c->dropped++;
		return;
	}
	put(c, c->n++, name, value, help);
}

void counters_to_response(struct counters *c, Fleet__GetStatsResponse *resp)
{
	if (c->dropped)
		put(c, c->n++, "stats.counters_not_shown", c->dropped,
		    "counters left out of this list (a bug: the list is too short)");
	resp->counters = c->ptrs;
	resp->n_counters = c->n;
}

void counters_free_response(Fleet__GetStatsResponse *resp)
{
	free(resp->counters);
	resp->counters = NULL;
	resp->n_counters = 0;
}
