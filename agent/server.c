// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/export.h"
#include "agent/observer.h"
#include "agent/sensor_exec.h"
#include "agent/server.h"
#include "lib/filter.h"
#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "tetragon/sensors.pb-c.h"

#define SUBSCRIBER_MAX_BYTES (64u << 20)

struct subscriber {
	struct event_sink sink;
	struct agent *a;
	struct rpc_call *call;
	struct event_filter *filter;
	struct field_filter *fields;
	struct subscriber *prev, *next;
};

static struct subscriber *subscribers;

static void subscriber_send(struct event_sink *sink, struct agent_event *ev)
{
	struct subscriber *s = container_of(sink, struct subscriber, sink);
	Tetragon__GetEventsResponse *copy;
	grpc_slice slice;

	if (!event_filter_match(s->filter, ev->msg))
		return;
	if (!s->fields || !field_filter_applies(s->fields, ev->type)) {
		rpc_call_send_slice(s->call, agent_event_slice(ev));
		return;
	}
	slice = agent_event_slice(ev);
	copy = tetragon__get_events_response__unpack(NULL, GRPC_SLICE_LENGTH(slice),
						     GRPC_SLICE_START_PTR(slice));
	if (!copy)
		return;
	field_filter_apply(s->fields, copy);
	rpc_call_send(s->call, &copy->base);
	tetragon__get_events_response__free_unpacked(copy, NULL);
}

static void subscriber_closed(struct rpc_call *call, void *ud)
{
	struct subscriber *s = ud;
	struct rpc_stream_stats st;

	rpc_call_get_stream_stats(call, &st);
	s->a->subscriber_drops += st.dropped;
	bus_unsubscribe(&s->a->bus, &s->sink);
	if (s->prev)
		s->prev->next = s->next;
	else
		subscribers = s->next;
	if (s->next)
		s->next->prev = s->prev;
	log_debug("GetEvents subscriber left (sent %llu, dropped %llu)",
		  (unsigned long long)st.sent, (unsigned long long)st.dropped);
	event_filter_free(s->filter);
	field_filter_free(s->fields);
	rpc_call_unref(s->call);
	free(s);
}

static void get_events(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__GetEventsRequest *req = (const Tetragon__GetEventsRequest *)msg;
	struct agent *a = ud;
	struct subscriber *s;
	char err[256] = "";
	int r;

	if (req->aggregation_options) {
		rpc_call_fail(call, GRPC_STATUS_UNIMPLEMENTED,
			      "event aggregation is not supported");
		rpc_call_unref(call);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		rpc_call_unref(call);
		return;
	}
	r = event_filter_new(req->allow_list, req->n_allow_list, req->deny_list, req->n_deny_list,
			     &s->filter, err, sizeof(err));
	if (r == 0 && req->n_field_filters)
		r = field_filter_new(req->field_filters, req->n_field_filters, &s->fields, err,
				     sizeof(err));
	if (r < 0) {
		rpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s",
			      *err ? err : "cannot set up the filters");
		event_filter_free(s->filter);
		free(s);
		rpc_call_unref(call);
		return;
	}
	s->a = a;
	s->call = call;
	s->sink.fn = subscriber_send;
	rpc_call_set_queue_limit(call, a->cfg.subscriber_queue, SUBSCRIBER_MAX_BYTES);
	s->next = subscribers;
	if (subscribers)
		subscribers->prev = s;
	subscribers = s;
	a->subscribers++;
	bus_subscribe(&a->bus, &s->sink);
	rpc_call_on_close(call, subscriber_closed, s);
}

static void get_health(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Tetragon__GetHealthStatusResponse resp = TETRAGON__GET_HEALTH_STATUS_RESPONSE__INIT;
	Tetragon__HealthStatus st = TETRAGON__HEALTH_STATUS__INIT;
	Tetragon__HealthStatus *list[1] = { &st };

	st.event = TETRAGON__HEALTH_STATUS_TYPE__HEALTH_STATUS_TYPE_STATUS;
	st.status = TETRAGON__HEALTH_STATUS_RESULT__HEALTH_STATUS_RUNNING;
	st.details = "running";
	resp.n_health_status = 1;
	resp.health_status = list;
	rpc_call_reply(call, &resp.base);
	rpc_call_unref(call);
}

static void get_version(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Tetragon__GetVersionResponse resp = TETRAGON__GET_VERSION_RESPONSE__INIT;

	resp.version = TETRA_VERSION;
	rpc_call_reply(call, &resp.base);
	rpc_call_unref(call);
}

struct counters {
	Fleet__Counter *items;
	Fleet__Counter **ptrs;
	size_t n, cap;
};

static void counter(struct counters *c, const char *name, uint64_t value, const char *help)
{
	if (c->n == c->cap)
		return;
	fleet__counter__init(&c->items[c->n]);
	c->items[c->n].name = (char *)name;
	c->items[c->n].value = value;
	c->items[c->n].help = (char *)help;
	c->ptrs[c->n] = &c->items[c->n];
	c->n++;
}

int agent_stats_fill(struct agent *a, Fleet__GetStatsResponse *resp)
{
	static const char *const err_names[ERR_COUNT] = {
		[ERR_RINGBUF_FULL] = "bpf.ringbuf_full",
		[ERR_READ_ARGS] = "bpf.read_args_errors",
		[ERR_READ_PATH] = "bpf.read_path_errors",
		[ERR_PATH_DEPTH] = "bpf.path_too_deep",
		[ERR_READ_CWD] = "bpf.read_cwd_errors",
		[ERR_READ_CGROUP] = "bpf.read_cgroup_errors",
		[ERR_READ_KERNEL] = "bpf.read_kernel_errors",
		[ERR_MAP_FULL] = "bpf.map_full",
		[ERR_READ_USER] = "bpf.read_user_errors",
	};
	struct counters c = { .cap = 64 };
	struct process_cache_stats pcs;
	struct observer_stats os;
	uint64_t errs[ERR_COUNT] = { 0 };
	uint64_t drops = a->subscriber_drops, queued = 0, live = 0;

	c.items = calloc(c.cap, sizeof(*c.items));
	c.ptrs = calloc(c.cap, sizeof(*c.ptrs));
	if (!c.items || !c.ptrs) {
		free(c.items);
		free(c.ptrs);
		return -ENOMEM;
	}
	counter(&c, "events.total", a->bus.total, "events built and published");
	counter(&c, "events.process_exec", a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_EXEC],
		NULL);
	counter(&c, "events.process_exit", a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_EXIT],
		NULL);
	if (a->observer) {
		observer_get_stats(a->observer, &os);
		counter(&c, "ringbuf.records", os.records, "records read from the ring buffer");
		counter(&c, "ringbuf.bad_records", os.bad_records,
			"records too short or of an unknown type");
	}
	if (a->exec && sensor_exec_errors(a->exec, errs) == 0) {
		for (int i = 0; i < ERR_COUNT; i++)
			if (err_names[i])
				counter(&c, err_names[i], errs[i], NULL);
	}
	counter(&c, "decode.errors", a->decode_errors, "records that could not be decoded");
	process_cache_get_stats(a->cache, &pcs);
	counter(&c, "process_cache.size", pcs.size, NULL);
	counter(&c, "process_cache.capacity", pcs.capacity, NULL);
	counter(&c, "process_cache.evictions", pcs.evictions, NULL);
	counter(&c, "process_cache.evicted_alive", pcs.evicted_alive, NULL);
	counter(&c, "process_cache.misses", pcs.misses, "events for a pid the cache did not know");
	counter(&c, "process_cache.parent_misses", pcs.parent_misses, NULL);
	for (struct subscriber *s = subscribers; s; s = s->next) {
		struct rpc_stream_stats st;

		rpc_call_get_stream_stats(s->call, &st);
		drops += st.dropped;
		queued += st.queued;
		live++;
	}
	counter(&c, "grpc.subscribers", live, "GetEvents streams open now");
	counter(&c, "grpc.subscribers_total", a->subscribers, NULL);
	counter(&c, "grpc.subscriber_dropped", drops,
		"events dropped because a subscriber's queue was full");
	counter(&c, "grpc.subscriber_queued", queued, NULL);
	if (a->exporter) {
		struct exporter_stats es;

		exporter_get_stats(a->exporter, &es);
		counter(&c, "export.lines", es.lines, NULL);
		counter(&c, "export.bytes", es.bytes, NULL);
		counter(&c, "export.errors", es.errors, "lines lost to write or encoding errors");
		counter(&c, "export.rotations", es.rotations, NULL);
	}
	resp->daemon = "tetragon";
	resp->version = TETRA_VERSION;
	resp->node_name = (char *)a->cfg.node_name;
	resp->uptime_seconds = (now_monotonic_ns() - a->start_ns) / 1000000000ull;
	resp->counters = c.ptrs;
	resp->n_counters = c.n;
	return 0;
}

void agent_stats_free(Fleet__GetStatsResponse *resp)
{
	if (resp->n_counters)
		free(resp->counters[0]);
	free(resp->counters);
	resp->counters = NULL;
	resp->n_counters = 0;
}

static void get_stats(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Fleet__GetStatsResponse resp = FLEET__GET_STATS_RESPONSE__INIT;

	if (agent_stats_fill(ud, &resp) < 0)
		rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	else
		rpc_call_reply(call, &resp.base);
	agent_stats_free(&resp);
	rpc_call_unref(call);
}

static const struct rpc_method methods[] = {
	{ "/tetragon.FineGuidanceSensors/GetEvents", RPC_SERVER_STREAM,
	  &tetragon__get_events_request__descriptor, get_events },
	{ "/tetragon.FineGuidanceSensors/GetHealth", RPC_UNARY,
	  &tetragon__get_health_status_request__descriptor, get_health },
	{ "/tetragon.FineGuidanceSensors/GetVersion", RPC_UNARY,
	  &tetragon__get_version_request__descriptor, get_version },
	{ "/fleet.Diagnostics/GetStats", RPC_UNARY, &fleet__get_stats_request__descriptor,
	  get_stats },
};

int agent_server_start(struct agent *a)
{
	int r, port;

	r = rpc_server_new(a->cq, methods, ARRAY_SIZE(methods), a, &a->server);
	if (r < 0)
		return log_error_errno(r, "Failed to create the gRPC server: %m");
	if (a->cfg.unix_socket && *a->cfg.unix_socket) {
		char addr[4200];

		snprintf(addr, sizeof(addr), "unix://%s", a->cfg.unix_socket);
		r = rpc_server_listen(a->server, addr, NULL, &port);
		if (r == -EADDRINUSE)
			return log_error_errno(
				r, "Failed to listen on '%s': another agent is serving it", addr);
		if (r < 0)
			return log_error_errno(r, "Failed to listen on '%s': %m", addr);
		log_info("Listening on %s", addr);
	}
	if (a->cfg.server_address && *a->cfg.server_address) {
		r = rpc_server_listen(a->server, a->cfg.server_address, NULL, &port);
		if (r == -EADDRINUSE)
			return log_error_errno(
				r, "Failed to listen on '%s': the address is in use or invalid",
				a->cfg.server_address);
		if (r < 0)
			return log_error_errno(r, "Failed to listen on '%s': %m",
					       a->cfg.server_address);
		log_info("Listening on %s (port %d)", a->cfg.server_address, port);
	}
	r = rpc_server_start(a->server);
	if (r < 0)
		return log_error_errno(r, "Failed to start the gRPC server: %m");
	return 0;
}

void agent_server_stop(struct agent *a, void (*done)(void *), void *ud)
{
	struct rpc_server *s = a->server;

	a->server = NULL;
	if (!s) {
		done(ud);
		return;
	}
	rpc_server_shutdown(s, done, ud);
}
