// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/export.h"
#include "agent/generic_events.h"
#include "agent/policies.h"
#include "agent/sensor_generic.h"
#include "agent/observer.h"
#include "agent/sensor_exec.h"
#include "agent/server.h"
#include "agent/uplink.h"
#include "lib/filter.h"
#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/service.h"
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

	s = calloc(1, sizeof(*s));
	if (!s) {
		rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		rpc_call_unref(call);
		return;
	}
	if (service_events_filters(call, req, &s->filter, &s->fields) < 0) {
		free(s);
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
	struct counters c;
	struct process_cache_stats pcs;
	struct uplink_stats us;
	struct observer_stats os;
	uint64_t errs[ERR_COUNT] = { 0 };
	uint64_t drops = a->subscriber_drops, queued = 0, live = 0;

	if (counters_init(&c, 128) < 0)
		return -ENOMEM;
	counters_add(&c, "events.total", a->bus.total, "events built and published");
	counters_add(&c, "events.process_exec",
		     a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_EXEC], NULL);
	counters_add(&c, "events.process_exit",
		     a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_EXIT], NULL);
	counters_add(&c, "events.process_kprobe",
		     a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_KPROBE], NULL);
	counters_add(&c, "events.process_tracepoint",
		     a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_TRACEPOINT], NULL);
	counters_add(&c, "events.process_uprobe",
		     a->bus.published[TETRAGON__EVENT_TYPE__PROCESS_UPROBE], NULL);
	if (a->observer) {
		observer_get_stats(a->observer, &os);
		counters_add(&c, "ringbuf.records", os.records,
			     "records read from the ring buffer");
		counters_add(&c, "ringbuf.bad_records", os.bad_records,
			     "records too short or of an unknown type");
	}
	if (a->exec && sensor_exec_errors(a->exec, errs) == 0) {
		for (int i = 0; i < ERR_COUNT; i++)
			if (err_names[i])
				counters_add(&c, err_names[i], errs[i], NULL);
	}
	counters_add(&c, "decode.errors", a->decode_errors, "records that could not be decoded");
	if (a->gevents) {
		struct generic_events_stats gs;

		generic_events_get_stats(a->gevents, &gs);
		counters_add(&c, "events.policy", gs.events, "events of tracing policies");
		counters_add(&c, "events.policy_unknown_hook", gs.unknown_hook,
			     "records of hooks deleted meanwhile");
		counters_add(&c, "events.policy_process_misses", gs.process_misses, NULL);
		counters_add(&c, "actions.get_url_ok", gs.get_url_ok, NULL);
		counters_add(&c, "actions.get_url_failed", gs.get_url_failed, NULL);
		counters_add(&c, "actions.dns_lookup_ok", gs.dns_ok, NULL);
		counters_add(&c, "actions.dns_lookup_failed", gs.dns_failed, NULL);
	}
	if (a->generic && sensor_generic_errors(a->generic, errs) == 0) {
		counters_add(&c, "bpf.policy_ringbuf_full", errs[ERR_RINGBUF_FULL],
			     "policy events lost to a full ring buffer");
		counters_add(&c, "bpf.policy_map_full", errs[ERR_MAP_FULL], NULL);
	}
	if (a->takeover.active) {
		counters_add(&c, "takeover.replayed", a->takeover.replayed,
			     "records written while no agent ran, delivered after the restart");
		counters_add(&c, "takeover.duplicates", a->takeover.duplicates,
			     "records both the old and the new programs wrote: one copy kept");
		counters_add(&c, "takeover.unconfigured", a->takeover.unknown,
			     "records of policies that were not configured again");
		counters_add(&c, "takeover.lost", a->takeover.lost,
			     "records lost to memory shortage");
		counters_add(&c, "takeover.ringbuf_full", a->takeover.ringbuf_full,
			     "events the previous agent's programs lost to a full ring buffer");
		counters_add(&c, "takeover.old_errors", a->takeover.old_errors,
			     "other failures of the previous agent's programs");
		counters_add(&c, "takeover.overlap_us", a->takeover.overlap_ns / 1000,
			     "old and new programs both attached (the enforcement gap is zero)");
	}
	if (a->uplink && uplink_stats(a->uplink, &us) == 0) {
		counters_add(&c, "uplink.connected", us.connected,
			     "1 while the manager's stream is up");
		counters_add(&c, "uplink.connects", us.connects, NULL);
		counters_add(&c, "uplink.disconnects", us.disconnects, NULL);
		counters_add(&c, "uplink.events", us.events, "events taken for the manager");
		counters_add(&c, "uplink.events_sent", us.events_sent, "replays included");
		counters_add(&c, "uplink.acked_seq", us.acked_seq, NULL);
		counters_add(&c, "uplink.events_dropped", us.events_dropped,
			     "lost before the manager had them (spool full or failing)");
		counters_add(&c, "uplink.memory_events", us.memory_events, NULL);
		counters_add(&c, "uplink.spool_events", us.spool_events, "waiting on disk");
		counters_add(&c, "uplink.spool_bytes", us.spool_bytes, NULL);
		counters_add(&c, "uplink.spool_errors", us.spool_errors, NULL);
		counters_add(&c, "uplink.policy_errors", us.policy_errors,
			     "fleet policy changes that could not be applied");
		counters_add(&c, "uplink.generation", us.generation,
			     "the fleet state applied last");
	}
	process_cache_get_stats(a->cache, &pcs);
	counters_add(&c, "process_cache.size", pcs.size, NULL);
	counters_add(&c, "process_cache.capacity", pcs.capacity, NULL);
	counters_add(&c, "process_cache.evictions", pcs.evictions, NULL);
	counters_add(&c, "process_cache.evicted_alive", pcs.evicted_alive, NULL);
	counters_add(&c, "process_cache.misses", pcs.misses,
		     "events for a pid the cache did not know");
	counters_add(&c, "process_cache.parent_misses", pcs.parent_misses, NULL);
	for (struct subscriber *s = subscribers; s; s = s->next) {
		struct rpc_stream_stats st;

		rpc_call_get_stream_stats(s->call, &st);
		drops += st.dropped;
		queued += st.queued;
		live++;
	}
	counters_add(&c, "grpc.subscribers", live, "GetEvents streams open now");
	counters_add(&c, "grpc.subscribers_total", a->subscribers, NULL);
	counters_add(&c, "grpc.subscriber_dropped", drops,
		     "events dropped because a subscriber's queue was full");
	counters_add(&c, "grpc.subscriber_queued", queued, NULL);
	if (a->exporter) {
		struct exporter_stats es;

		exporter_get_stats(a->exporter, &es);
		counters_add(&c, "export.lines", es.lines, NULL);
		counters_add(&c, "export.bytes", es.bytes, NULL);
		counters_add(&c, "export.errors", es.errors,
			     "lines lost to write or encoding errors");
		counters_add(&c, "export.rotations", es.rotations, NULL);
	}
	resp->daemon = "tetragon";
	resp->version = TETRA_VERSION;
	resp->node_name = (char *)a->cfg.node_name;
	resp->uptime_seconds = (now_monotonic_ns() - a->start_ns) / 1000000000ull;
	counters_to_response(&c, resp);
	return 0;
}

void agent_stats_free(Fleet__GetStatsResponse *resp)
{
	counters_free_response(resp);
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

static grpc_status_code status_of_errno(int r)
{
	switch (r) {
	case -EINVAL:
		return GRPC_STATUS_INVALID_ARGUMENT;
	case -EEXIST:
		return GRPC_STATUS_ALREADY_EXISTS;
	case -ENOENT:
		return GRPC_STATUS_NOT_FOUND;
	case -EOPNOTSUPP:
		return GRPC_STATUS_FAILED_PRECONDITION;
	case -ENOSPC:
	case -ENOMEM:
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	default:
		return GRPC_STATUS_INTERNAL;
	}
}

static const char *domain_or(const char *d, const char *def)
{
	return d && *d ? d : def;
}

static void add_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__AddTracingPolicyRequest *req = (const void *)msg;
	Tetragon__AddTracingPolicyResponse resp = TETRAGON__ADD_TRACING_POLICY_RESPONSE__INIT;
	char *err = NULL;
	int r;

	r = policies_add(ud, req->yaml, strlen(req->yaml), "policy",
			 domain_or(req->domain, POLICY_DOMAIN_GRPC), MODE_REQ_KEEP, &err);
	if (r < 0)
		rpc_call_fail(call, status_of_errno(r), "%s", err ? err : strerror(-r));
	else
		rpc_call_reply(call, &resp.base);
	free(err);
	rpc_call_unref(call);
}

static void delete_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__DeleteTracingPolicyRequest *req = (const void *)msg;
	Tetragon__DeleteTracingPolicyResponse resp = TETRAGON__DELETE_TRACING_POLICY_RESPONSE__INIT;
	int r;

	r = policies_delete(ud, req->name, req->namespace_, req->domain);
	if (r < 0)
		rpc_call_fail(call, status_of_errno(r), "policy '%s' not found", req->name);
	else
		rpc_call_reply(call, &resp.base);
	rpc_call_unref(call);
}

static void list_policies(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__ListTracingPoliciesRequest *req = (const void *)msg;
	Tetragon__ListTracingPoliciesResponse resp = TETRAGON__LIST_TRACING_POLICIES_RESPONSE__INIT;
	Tetragon__TracingPolicyStatus **list;
	size_t n;
	int r;

	r = policies_status(ud, req->domain, &list, &n);
	if (r < 0) {
		rpc_call_fail(call, status_of_errno(r), "%s", strerror(-r));
	} else {
		resp.policies = list;
		resp.n_policies = n;
		rpc_call_reply(call, &resp.base);
		policies_status_free(list, n);
	}
	rpc_call_unref(call);
}

static void configure(struct rpc_call *call, const char *name, const char *ns, const char *domain,
		      int enable, enum policy_mode_req mode, struct agent *a,
		      const ProtobufCMessage *resp)
{
	char *err = NULL;
	int r;

	r = policies_configure(a, name, ns, domain, enable, mode, &err);
	if (r < 0)
		rpc_call_fail(call, status_of_errno(r), "policy '%s': %s", name,
			      err ? err : strerror(-r));
	else
		rpc_call_reply(call, resp);
	free(err);
	rpc_call_unref(call);
}

static void configure_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__ConfigureTracingPolicyRequest *req = (const void *)msg;
	Tetragon__ConfigureTracingPolicyResponse resp =
		TETRAGON__CONFIGURE_TRACING_POLICY_RESPONSE__INIT;
	enum policy_mode_req mode = MODE_REQ_KEEP;
	int enable = -1;

	if (req->_enable_case == TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___ENABLE_ENABLE)
		enable = req->enable;
	if (req->_mode_case == TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE) {
		if (req->mode == TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE) {
			mode = MODE_REQ_ENFORCE;
		} else if (req->mode == TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR) {
			mode = MODE_REQ_MONITOR;
		} else {
			rpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				      "mode must be enforce or monitor");
			rpc_call_unref(call);
			return;
		}
	}
	configure(call, req->name, req->namespace_, req->domain, enable, mode, ud, &resp.base);
}

static void enable_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__EnableTracingPolicyRequest *req = (const void *)msg;
	Tetragon__EnableTracingPolicyResponse resp = TETRAGON__ENABLE_TRACING_POLICY_RESPONSE__INIT;

	configure(call, req->name, req->namespace_, req->domain, 1, MODE_REQ_KEEP, ud, &resp.base);
}

static void disable_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__DisableTracingPolicyRequest *req = (const void *)msg;
	Tetragon__DisableTracingPolicyResponse resp =
		TETRAGON__DISABLE_TRACING_POLICY_RESPONSE__INIT;

	configure(call, req->name, req->namespace_, req->domain, 0, MODE_REQ_KEEP, ud, &resp.base);
}

static void list_domains(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Tetragon__ListDomainsResponse resp = TETRAGON__LIST_DOMAINS_RESPONSE__INIT;
	const char *domains[8];

	resp.n_domains = policies_domains(ud, domains, ARRAY_SIZE(domains));
	resp.domains = (char **)domains;
	rpc_call_reply(call, &resp.base);
	rpc_call_unref(call);
}

static const struct rpc_method methods[] = {
	{ "/tetragon.FineGuidanceSensors/GetEvents", RPC_SERVER_STREAM,
	  &tetragon__get_events_request__descriptor, get_events },
	{ "/tetragon.FineGuidanceSensors/GetHealth", RPC_UNARY,
	  &tetragon__get_health_status_request__descriptor, service_get_health },
	{ "/tetragon.FineGuidanceSensors/GetVersion", RPC_UNARY,
	  &tetragon__get_version_request__descriptor, service_get_version },
	{ "/tetragon.FineGuidanceSensors/AddTracingPolicy", RPC_UNARY,
	  &tetragon__add_tracing_policy_request__descriptor, add_policy },
	{ "/tetragon.FineGuidanceSensors/DeleteTracingPolicy", RPC_UNARY,
	  &tetragon__delete_tracing_policy_request__descriptor, delete_policy },
	{ "/tetragon.FineGuidanceSensors/ListTracingPolicies", RPC_UNARY,
	  &tetragon__list_tracing_policies_request__descriptor, list_policies },
	{ "/tetragon.FineGuidanceSensors/ConfigureTracingPolicy", RPC_UNARY,
	  &tetragon__configure_tracing_policy_request__descriptor, configure_policy },
	{ "/tetragon.FineGuidanceSensors/EnableTracingPolicy", RPC_UNARY,
	  &tetragon__enable_tracing_policy_request__descriptor, enable_policy },
	{ "/tetragon.FineGuidanceSensors/DisableTracingPolicy", RPC_UNARY,
	  &tetragon__disable_tracing_policy_request__descriptor, disable_policy },
	{ "/tetragon.FineGuidanceSensors/ListDomains", RPC_UNARY,
	  &tetragon__list_domains_request__descriptor, list_domains },
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
