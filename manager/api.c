// SPDX-License-Identifier: Apache-2.0
/*
 * The manager's gRPC services: tetragon.FineGuidanceSensors applied to the whole fleet,
 * fleet.FleetQuery (nodes, per-node policy status, event history), fleet.Fleet/Connect for
 * the agents, and fleet.Diagnostics. Methods not listed answer UNIMPLEMENTED.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/status.h>

#include "fleet/diagnostics.pb-c.h"
#include "lib/filter.h"
#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/service.h"
#include "lib/util.h"
#include "manager/manager.h"

#define SUBSCRIBER_MAX_BYTES (64u << 20)
#define QUERY_MAX_LIMIT 10000
#define QUERY_DEFAULT_LIMIT 100
#define QUERY_MAX_BYTES (3u << 20) /* stays under every client's 4 MiB default */

/* ---------------------------------------------------------------------------------------- */
/* GetEvents: the live events of the whole fleet */

struct subscriber {
	struct manager *m;
	struct rpc_call *call;
	struct event_filter *filter;
	struct field_filter *fields;
	struct subscriber *prev, *next;
};

void api_publish(struct manager *m, const Tetragon__GetEventsResponse *ev, const void *data,
		 size_t len)
{
	grpc_slice slice;
	bool have = false;

	for (struct subscriber *s = m->subscribers; s; s = s->next) {
		Tetragon__GetEventsResponse *copy;
		Tetragon__EventType type;

		if (!event_filter_match(s->filter, ev))
			continue;
		type = event_type_of(ev);
		if (!s->fields || !field_filter_applies(s->fields, type)) {
			if (!have) {
				slice = grpc_slice_from_copied_buffer(data, len);
				have = true;
			}
			rpc_call_send_slice(s->call, slice);
			continue;
		}
		copy = tetragon__get_events_response__unpack(NULL, len, data);
		if (!copy) {
			/* counted like a full queue: the subscriber did not get it */
			m->stats.subscriber_drops++;
			continue;
		}
		field_filter_apply(s->fields, copy);
		rpc_call_send(s->call, &copy->base);
		tetragon__get_events_response__free_unpacked(copy, NULL);
	}
	if (have)
		grpc_slice_unref(slice);
}

static void subscriber_closed(struct rpc_call *call, void *ud)
{
	struct subscriber *s = ud;
	struct rpc_stream_stats st;

	rpc_call_get_stream_stats(call, &st);
	s->m->stats.subscriber_drops += st.dropped;
	if (s->prev)
		s->prev->next = s->next;
	else
		s->m->subscribers = s->next;
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
	struct manager *m = ud;
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
	s->m = m;
	s->call = call;
	rpc_call_set_queue_limit(call, m->cfg.subscriber_queue, SUBSCRIBER_MAX_BYTES);
	s->next = m->subscribers;
	if (m->subscribers)
		m->subscribers->prev = s;
	m->subscribers = s;
	m->stats.subscribers++;
	rpc_call_on_close(call, subscriber_closed, s);
}

/* ---------------------------------------------------------------------------------------- */
/* Health, version, stats */

int api_stats_fill(struct manager *m, Fleet__GetStatsResponse *resp)
{
	struct counters c;
	const struct manager_stats *s = &m->stats;
	uint64_t online = 0, agent_dropped = 0, drops = s->subscriber_drops, live = 0;

	if (counters_init(&c, 64) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_nodes; i++) {
		online += m->nodes[i]->session != NULL;
		agent_dropped += m->nodes[i]->counters.events_dropped;
	}
	for (struct subscriber *sub = m->subscribers; sub; sub = sub->next) {
		struct rpc_stream_stats st;

		rpc_call_get_stream_stats(sub->call, &st);
		drops += st.dropped;
		live++;
	}
	counters_add(&c, "nodes.known", m->n_nodes, NULL);
	counters_add(&c, "nodes.online", online, NULL);
	counters_add(&c, "sessions.total", s->sessions, "agent streams accepted");
	counters_add(&c, "sessions.open", session_count(m), NULL);
	counters_add(&c, "sessions.replaced", s->sessions_replaced,
		     "streams ended because their node connected again");
	counters_add(&c, "sessions.timed_out", s->sessions_timed_out,
		     "streams ended after three silent heartbeat intervals");
	counters_add(&c, "sessions.push_failures", s->push_failures,
		     "streams ended because the agent did not read them");
	counters_add(&c, "sessions.identity_refused", s->identity_refused,
		     "mutual TLS: the node name was not in the client certificate");
	counters_add(&c, "protocol.errors", s->protocol_errors, NULL);
	counters_add(&c, "policies", m->n_policies, NULL);
	counters_add(&c, "policies.generation", store_generation(m->store), NULL);
	counters_add(&c, "policies.pushes", s->policy_pushes, NULL);
	counters_add(&c, "policies.status_reports", s->status_reports, NULL);
	counters_add(&c, "events.received", s->events_received, "events in batches from agents");
	counters_add(&c, "events.stored", s->events_stored, NULL);
	counters_add(&c, "events.duplicate", s->events_duplicate,
		     "replayed events that were stored already");
	counters_add(&c, "events.undecodable", s->events_undecodable,
		     "events that were not a tetragon.GetEventsResponse (not stored)");
	counters_add(&c, "events.renamed", s->events_renamed,
		     "events whose node_name was set to their stream's node");
	counters_add(&c, "events.agent_dropped", agent_dropped,
		     "events the agents lost to spool overflow (as they report)");
	counters_add(&c, "events.batches", s->batches, NULL);
	counters_add(&c, "events.acks", s->acks, NULL);
	counters_add(&c, "store.events", store_event_count(m->store), "events in the history");
	counters_add(&c, "store.commits", s->commits, NULL);
	counters_add(&c, "store.commit_errors", s->commit_errors, NULL);
	counters_add(&c, "store.syncs", s->syncs, NULL);
	counters_add(&c, "store.sync_errors", s->sync_errors, NULL);
	counters_add(&c, "store.checkpoints", s->checkpoints, NULL);
	counters_add(&c, "store.checkpoint_errors", s->checkpoint_errors, NULL);
	counters_add(&c, "store.errors", s->store_errors, NULL);
	counters_add(&c, "retention.deleted", s->retention_deleted, NULL);
	counters_add(&c, "retention.errors", s->retention_errors, NULL);
	counters_add(&c, "grpc.subscribers", live, "GetEvents streams open now");
	counters_add(&c, "grpc.subscribers_total", s->subscribers, NULL);
	counters_add(&c, "grpc.subscriber_dropped", drops,
		     "events dropped because a subscriber's queue was full");
	counters_add(&c, "queries.total", s->queries, NULL);
	counters_add(&c, "queries.errors", s->query_errors, NULL);
	counters_add(&c, "queries.running", m->queries_running, NULL);
	resp->daemon = "tetragon-manager";
	resp->version = TETRA_VERSION;
	resp->node_name = "";
	resp->uptime_seconds = (now_monotonic_ns() - m->start_ns) / 1000000000ull;
	counters_to_response(&c, resp);
	return 0;
}

void api_stats_free(Fleet__GetStatsResponse *resp)
{
	counters_free_response(resp);
}

static void get_stats(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Fleet__GetStatsResponse resp = FLEET__GET_STATS_RESPONSE__INIT;

	if (api_stats_fill(ud, &resp) < 0)
		rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	else
		rpc_call_reply(call, &resp.base);
	api_stats_free(&resp);
	rpc_call_unref(call);
}

/* ---------------------------------------------------------------------------------------- */
/* Policies */

static bool domain_ok(struct rpc_call *call, const char *domain)
{
	if (!domain || !*domain || streq(domain, "fleet"))
		return true;
	rpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		      "the manager holds the fleet's policies only (domain \"fleet\"), not domain "
		      "\"%s\"",
		      domain);
	rpc_call_unref(call);
	return false;
}

/* Answer a policy RPC: OK with an empty response, or code with msg. */
static void policy_reply(struct rpc_call *call, int code, char *msg, const ProtobufCMessage *empty)
{
	if (code == GRPC_STATUS_OK)
		rpc_call_reply(call, empty);
	else
		rpc_call_fail(call, (grpc_status_code)code, "%s", msg ? msg : "error");
	free(msg);
	rpc_call_unref(call);
}

static void add_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__AddTracingPolicyRequest *req = (const void *)msg;
	Tetragon__AddTracingPolicyResponse resp = TETRAGON__ADD_TRACING_POLICY_RESPONSE__INIT;
	char *err = NULL;
	int code;

	if (!domain_ok(call, req->domain))
		return;
	code = fleet_policy_add(ud, req->yaml, strlen(req->yaml), &err);
	policy_reply(call, code, err, &resp.base);
}

static void delete_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__DeleteTracingPolicyRequest *req = (const void *)msg;
	Tetragon__DeleteTracingPolicyResponse resp = TETRAGON__DELETE_TRACING_POLICY_RESPONSE__INIT;
	char *err = NULL;
	int code;

	if (!domain_ok(call, req->domain))
		return;
	code = fleet_policy_delete(ud, req->name, req->namespace_, &err);
	policy_reply(call, code, err, &resp.base);
}

static void configure_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__ConfigureTracingPolicyRequest *req = (const void *)msg;
	Tetragon__ConfigureTracingPolicyResponse resp =
		TETRAGON__CONFIGURE_TRACING_POLICY_RESPONSE__INIT;
	int enable = -1, mode = -1, code;
	char *err = NULL;

	if (!domain_ok(call, req->domain))
		return;
	if (req->_enable_case == TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___ENABLE_ENABLE)
		enable = req->enable;
	if (req->_mode_case == TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE)
		mode = (int)req->mode;
	code = fleet_policy_configure(ud, req->name, req->namespace_, enable, mode, &err);
	policy_reply(call, code, err, &resp.base);
}

static void enable_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__EnableTracingPolicyRequest *req = (const void *)msg;
	Tetragon__EnableTracingPolicyResponse resp = TETRAGON__ENABLE_TRACING_POLICY_RESPONSE__INIT;
	char *err = NULL;
	int code;

	if (!domain_ok(call, req->domain))
		return;
	code = fleet_policy_configure(ud, req->name, req->namespace_, 1, -1, &err);
	policy_reply(call, code, err, &resp.base);
}

static void disable_policy(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__DisableTracingPolicyRequest *req = (const void *)msg;
	Tetragon__DisableTracingPolicyResponse resp =
		TETRAGON__DISABLE_TRACING_POLICY_RESPONSE__INIT;
	char *err = NULL;
	int code;

	if (!domain_ok(call, req->domain))
		return;
	code = fleet_policy_configure(ud, req->name, req->namespace_, 0, -1, &err);
	policy_reply(call, code, err, &resp.base);
}

static void list_policies(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Tetragon__ListTracingPoliciesRequest *req = (const void *)msg;
	Tetragon__ListTracingPoliciesResponse resp = TETRAGON__LIST_TRACING_POLICIES_RESPONSE__INIT;
	struct manager *m = ud;
	Tetragon__TracingPolicyStatus *st = NULL, **list = NULL;
	struct fold_buf *bufs = NULL;
	size_t n = m->n_policies;

	if (!domain_ok(call, req->domain))
		return;
	if (n) {
		st = calloc(n, sizeof(*st));
		list = calloc(n, sizeof(*list));
		bufs = calloc(n, sizeof(*bufs));
		if (!st || !list || !bufs) {
			rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		fleet_status_fold(m, m->policies[i], &st[i], &bufs[i]);
		list[i] = &st[i];
	}
	resp.policies = list;
	resp.n_policies = n;
	rpc_call_reply(call, &resp.base);
out:
	for (size_t i = 0; bufs && i < n; i++)
		fleet_status_fold_free(&bufs[i]);
	free(bufs);
	free(list);
	free(st);
	rpc_call_unref(call);
}

/* ---------------------------------------------------------------------------------------- */
/* FleetQuery: nodes and per-node policy status */

static void set_ts(Google__Protobuf__Timestamp *ts, uint64_t ns)
{
	google__protobuf__timestamp__init(ts);
	ts->seconds = (int64_t)(ns / 1000000000ull);
	ts->nanos = (int32_t)(ns % 1000000000ull);
}

/* Features "a=1,b=0" back into messages; *ret and *names are freed by the caller. */
static size_t parse_features(const char *text, Fleet__KernelFeature ***ret,
			     Fleet__KernelFeature **items, char **copy)
{
	size_t n = 0, cap = 0;
	char *save = NULL;

	*ret = NULL;
	*items = NULL;
	*copy = strdup(text ? text : "");
	if (!*copy)
		return 0;
	for (const char *p = *copy; *p; p++)
		cap += *p == ',';
	cap++;
	*items = calloc(cap, sizeof(**items));
	*ret = calloc(cap, sizeof(**ret));
	if (!*items || !*ret)
		return 0;
	for (char *t = strtok_r(*copy, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');

		fleet__kernel_feature__init(&(*items)[n]);
		if (eq)
			*eq = '\0';
		(*items)[n].name = t;
		(*items)[n].available = eq && eq[1] == '1';
		(*ret)[n] = &(*items)[n];
		n++;
	}
	return n;
}

struct node_msg {
	Fleet__Node node;
	Google__Protobuf__Timestamp first, last;
	Fleet__AgentCounters counters;
	Fleet__KernelFeature **features;
	Fleet__KernelFeature *feature_items;
	char *features_copy;
};

static void list_nodes(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	Fleet__ListNodesResponse resp = FLEET__LIST_NODES_RESPONSE__INIT;
	struct manager *m = ud;
	struct node_msg *nm = NULL;
	Fleet__Node **list = NULL;
	size_t n = m->n_nodes;

	if (n) {
		nm = calloc(n, sizeof(*nm));
		list = calloc(n, sizeof(*list));
		if (!nm || !list) {
			rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = m->nodes[i];
		Fleet__Node *o = &nm[i].node;

		fleet__node__init(o);
		o->name = nd->name;
		o->online = nd->session != NULL;
		set_ts(&nm[i].first, nd->first_seen_ns);
		set_ts(&nm[i].last, nd->session ? now_realtime_ns() : nd->last_seen_ns);
		o->first_seen = &nm[i].first;
		o->last_seen = &nm[i].last;
		o->agent_version = nd->agent_version;
		o->kernel_release = nd->kernel_release;
		o->n_features = parse_features(nd->features, &nm[i].features, &nm[i].feature_items,
					       &nm[i].features_copy);
		o->features = nm[i].features;
		for (size_t k = 0; k < m->n_policies; k++) {
			switch (fleet_node_policy_state(nd, m->policies[k], NULL)) {
			case NODE_POLICY_OK:
				o->policies_ok++;
				break;
			case NODE_POLICY_ERROR:
				o->policies_failed++;
				break;
			case NODE_POLICY_PENDING:
				o->policies_pending++;
				break;
			}
		}
		o->events_stored = store_node_event_count(m->store, nd->id);
		o->events_dropped = nd->counters.events_dropped;
		o->events_duplicate = store_node_duplicates(m->store, nd->id);
		o->last_seq = store_node_last_seq(m->store, nd->id);
		o->applied_generation = nd->applied_generation;
		o->peer = nd->peer;
		nm[i].counters = nd->counters;
		o->counters = &nm[i].counters;
		list[i] = o;
	}
	resp.nodes = list;
	resp.n_nodes = n;
	resp.generation = store_generation(m->store);
	rpc_call_reply(call, &resp.base);
out:
	for (size_t i = 0; nm && i < n; i++) {
		free(nm[i].features);
		free(nm[i].feature_items);
		free(nm[i].features_copy);
	}
	free(nm);
	free(list);
	rpc_call_unref(call);
}

static void get_policy_status(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Fleet__GetPolicyStatusRequest *req = (const void *)msg;
	Fleet__GetPolicyStatusResponse resp = FLEET__GET_POLICY_STATUS_RESPONSE__INIT;
	struct manager *m = ud;
	size_t np = m->n_policies, nn = m->n_nodes, k = 0;
	Fleet__PolicyDetail *det = NULL, **dl = NULL;
	Fleet__FleetPolicy *fp = NULL;
	Tetragon__TracingPolicyStatus *folded = NULL;
	struct fold_buf *bufs = NULL;
	Fleet__NodePolicyStatus *ns = NULL, **nsl = NULL;
	Google__Protobuf__Timestamp *ts = NULL;
	size_t used = 0;

	if (*req->node && !fleet_node_find(m, req->node)) {
		rpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no node '%s'", req->node);
		rpc_call_unref(call);
		return;
	}
	if (np) {
		det = calloc(np, sizeof(*det));
		dl = calloc(np, sizeof(*dl));
		fp = calloc(np, sizeof(*fp));
		folded = calloc(np, sizeof(*folded));
		bufs = calloc(np, sizeof(*bufs));
		ns = calloc(np * (nn ? nn : 1), sizeof(*ns));
		nsl = calloc(np * (nn ? nn : 1), sizeof(*nsl));
		ts = calloc(np * (nn ? nn : 1), sizeof(*ts));
		if (!det || !dl || !fp || !folded || !bufs || !ns || !nsl || !ts) {
			rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < np; i++) {
		const struct store_policy *p = m->policies[i];
		Fleet__PolicyDetail *d;

		if (*req->name && (!streq(req->name, p->name) ||
				   !streq(req->namespace_ ? req->namespace_ : "", p->namespace)))
			continue;
		d = &det[k];
		fleet__policy_detail__init(d);
		fleet_policy_message(p, &fp[k]);
		fp[k].yaml = "";
		d->policy = &fp[k];
		fleet_status_fold(m, p, &folded[k], &bufs[k]);
		d->fleet = &folded[k];
		d->nodes = &nsl[used];
		for (size_t j = 0; j < nn; j++) {
			const struct node *n = m->nodes[j];
			const Tetragon__TracingPolicyStatus *st;
			Fleet__NodePolicyStatus *o = &ns[used];
			enum node_policy_state s;

			if (*req->node && !streq(req->node, n->name))
				continue;
			fleet__node_policy_status__init(o);
			s = fleet_node_policy_state(n, p, &st);
			o->node = n->name;
			o->online = n->session != NULL;
			o->generation = n->applied_generation;
			o->converged = s == NODE_POLICY_OK;
			o->status = (Tetragon__TracingPolicyStatus *)st;
			for (size_t q = 0; st && q < n->n_status; q++)
				if (n->status[q].st == st) {
					set_ts(&ts[used], n->status[q].updated_ns);
					o->updated = &ts[used];
				}
			nsl[used++] = o;
			d->n_nodes++;
		}
		dl[k++] = d;
	}
	if (*req->name && k == 0) {
		rpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no policy '%s'", req->name);
		goto out;
	}
	resp.generation = store_generation(m->store);
	resp.policies = dl;
	resp.n_policies = k;
	rpc_call_reply(call, &resp.base);
out:
	for (size_t i = 0; bufs && i < k; i++)
		fleet_status_fold_free(&bufs[i]);
	free(det);
	free(dl);
	free(fp);
	free(folded);
	free(bufs);
	free(ns);
	free(nsl);
	free(ts);
	rpc_call_unref(call);
}

/* ---------------------------------------------------------------------------------------- */
/* FleetQuery: history, on worker threads */

struct query_job {
	struct manager *m;
	struct rpc_call *call;
	uv_work_t work;
	struct store_query q;
	char **nodes;
	char **policies;
	int *types;
	int *actions;
	uint32_t *pids;
	char *regex;
	char *exec_id;
	/* results */
	struct sbuf data;
	size_t *off;
	size_t *len;
	size_t n, cap;
	struct store_cursor last;
	bool full; /* stopped at QUERY_MAX_BYTES */
	int result;
	char err[256];
	struct query_job *next;
};

static void job_free(struct query_job *j)
{
	for (size_t i = 0; i < j->q.n_nodes; i++)
		free(j->nodes[i]);
	for (size_t i = 0; i < j->q.n_policies; i++)
		free(j->policies[i]);
	free(j->nodes);
	free(j->policies);
	free(j->types);
	free(j->actions);
	free(j->pids);
	free(j->regex);
	free(j->exec_id);
	free(j->off);
	free(j->len);
	sbuf_free(&j->data);
	free(j);
}

static char **strv_copy(char **v, size_t n)
{
	char **out = calloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			for (size_t k = 0; k < i; k++)
				free(out[k]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static int take_row(void *ud, const struct store_cursor *at, const void *data, size_t len)
{
	struct query_job *j = ud;

	if (j->n && j->data.len + len > QUERY_MAX_BYTES) {
		j->full = true;
		return 1;
	}
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		size_t *off = realloc(j->off, cap * sizeof(*off));
		size_t *l;

		if (!off)
			return 1;
		j->off = off;
		l = realloc(j->len, cap * sizeof(*l));
		if (!l)
			return 1;
		j->len = l;
		j->cap = cap;
	}
	j->off[j->n] = j->data.len;
	j->len[j->n] = len;
	sbuf_add(&j->data, data, len);
	if (j->data.oom)
		return 1;
	j->n++;
	j->last = *at;
	return 0;
}

static void query_work(uv_work_t *w)
{
	struct query_job *j = container_of(w, struct query_job, work);
	struct manager *m = j->m;
	struct store_reader *rd = NULL;

	uv_mutex_lock(&m->readers_lock);
	for (int i = 0; i < MANAGER_MAX_QUERIES; i++) {
		if (m->readers[i]) {
			rd = m->readers[i];
			m->readers[i] = NULL;
			break;
		}
	}
	uv_mutex_unlock(&m->readers_lock);
	if (!rd) {
		j->result = store_reader_open(m->cfg.db_path, &rd, j->err, sizeof(j->err));
		if (j->result < 0)
			return;
	}
	j->result = store_query_events(rd, &j->q, take_row, j, j->err, sizeof(j->err));
	if (j->result >= 0 && j->data.oom) {
		j->result = -ENOMEM;
		snprintf(j->err, sizeof(j->err), "out of memory");
	}
	uv_mutex_lock(&m->readers_lock);
	for (int i = 0; i < MANAGER_MAX_QUERIES && rd; i++) {
		if (!m->readers[i]) {
			m->readers[i] = rd;
			rd = NULL;
		}
	}
	uv_mutex_unlock(&m->readers_lock);
	store_reader_close(rd);
}

static void query_start_next(struct manager *m);

static void query_done(uv_work_t *w, int status)
{
	struct query_job *j = container_of(w, struct query_job, work);
	struct manager *m = j->m;
	Fleet__QueryEventsResponseRaw resp = FLEET__QUERY_EVENTS_RESPONSE_RAW__INIT;
	ProtobufCBinaryData *ev = NULL;
	char cursor[64] = "";

	m->queries_running--;
	if (status < 0 || j->result < 0) {
		grpc_status_code code = j->result == -EINVAL	? GRPC_STATUS_INVALID_ARGUMENT :
					j->result == -ETIMEDOUT ? GRPC_STATUS_DEADLINE_EXCEEDED :
								  GRPC_STATUS_INTERNAL;

		m->stats.query_errors++;
		rpc_call_fail(j->call, code, "%s", j->err[0] ? j->err : "the query failed");
		goto out;
	}
	if (j->n) {
		ev = calloc(j->n, sizeof(*ev));
		if (!ev) {
			rpc_call_fail(j->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < j->n; i++) {
		ev[i].data = (uint8_t *)j->data.buf + j->off[i];
		ev[i].len = j->len[i];
	}
	resp.events = ev;
	resp.n_events = j->n;
	if (j->n && (j->full || j->n >= j->q.limit))
		store_cursor_format(&j->last, cursor, sizeof(cursor));
	resp.next_cursor = cursor;
	rpc_call_reply(j->call, &resp.base);
out:
	free(ev);
	rpc_call_unref(j->call);
	job_free(j);
	if (!m->stopping)
		query_start_next(m);
}

static void query_start_next(struct manager *m)
{
	while (m->queries_waiting && m->queries_running < MANAGER_MAX_QUERIES) {
		struct query_job *j = m->queries_waiting;
		int r;

		m->queries_waiting = j->next;
		r = uv_queue_work(m->loop, &j->work, query_work, query_done);
		if (r < 0) {
			m->stats.query_errors++;
			rpc_call_fail(j->call, GRPC_STATUS_INTERNAL, "cannot start the query: %s",
				      uv_strerror(r));
			rpc_call_unref(j->call);
			job_free(j);
			continue;
		}
		m->queries_running++;
	}
}

static uint64_t ts_ns(const Google__Protobuf__Timestamp *t)
{
	if (!t || t->seconds < 0)
		return 0;
	return (uint64_t)t->seconds * 1000000000ull + (uint64_t)(t->nanos > 0 ? t->nanos : 0);
}

static void query_events(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	const Fleet__QueryEventsRequest *req = (const void *)msg;
	struct manager *m = ud;
	struct query_job *j, **tail;
	const char *bad = NULL;

	m->stats.queries++;
	if (req->limit > QUERY_MAX_LIMIT)
		bad = "limit is at most 10000";
	else if (req->since && req->until && ts_ns(req->since) >= ts_ns(req->until))
		bad = "since must be before until";
	if (bad) {
		m->stats.query_errors++;
		rpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
		rpc_call_unref(call);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		goto oom;
	j->m = m;
	j->call = call;
	sbuf_init(&j->data);
	if (*req->cursor) {
		if (store_cursor_parse(req->cursor, &j->q.cursor) < 0) {
			m->stats.query_errors++;
			rpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "invalid cursor '%s'",
				      req->cursor);
			rpc_call_unref(call);
			job_free(j);
			return;
		}
		j->q.has_cursor = true;
	}
	j->q.since_ns = ts_ns(req->since);
	j->q.until_ns = ts_ns(req->until);
	j->q.oldest_first = req->oldest_first;
	j->q.limit = req->limit ? req->limit : QUERY_DEFAULT_LIMIT;
	j->q.timeout_ms = m->cfg.query_timeout_ms;
	j->nodes = strv_copy(req->nodes, req->n_nodes);
	j->policies = strv_copy(req->policy_names, req->n_policy_names);
	j->types = calloc(req->n_types + 1, sizeof(int));
	j->actions = calloc(req->n_actions + 1, sizeof(int));
	j->pids = calloc(req->n_pids + 1, sizeof(uint32_t));
	j->regex = strdup(req->binary_regex);
	j->exec_id = strdup(req->exec_id);
	if (!j->nodes || !j->policies || !j->types || !j->actions || !j->pids || !j->regex ||
	    !j->exec_id) {
		job_free(j);
		goto oom;
	}
	j->q.nodes = j->nodes;
	j->q.n_nodes = req->n_nodes;
	j->q.policies = j->policies;
	j->q.n_policies = req->n_policy_names;
	for (size_t i = 0; i < req->n_types; i++)
		j->types[i] = (int)req->types[i];
	j->q.types = j->types;
	j->q.n_types = req->n_types;
	for (size_t i = 0; i < req->n_actions; i++)
		j->actions[i] = (int)req->actions[i];
	j->q.actions = j->actions;
	j->q.n_actions = req->n_actions;
	memcpy(j->pids, req->pids, req->n_pids * sizeof(uint32_t));
	j->q.pids = j->pids;
	j->q.n_pids = req->n_pids;
	j->q.binary_regex = j->regex;
	j->q.exec_id = j->exec_id;
	/* first in, first out; the jobs run on worker threads, a few at a time */
	for (tail = &m->queries_waiting; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	query_start_next(m);
	return;
oom:
	m->stats.query_errors++;
	rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	rpc_call_unref(call);
}

void api_queries_free(struct manager *m)
{
	while (m->queries_waiting) {
		struct query_job *j = m->queries_waiting;

		m->queries_waiting = j->next;
		rpc_call_fail(j->call, GRPC_STATUS_UNAVAILABLE, "the manager is shutting down");
		rpc_call_unref(j->call);
		job_free(j);
	}
	for (int i = 0; i < MANAGER_MAX_QUERIES; i++)
		m->readers[i] = store_reader_close(m->readers[i]);
}

/* ---------------------------------------------------------------------------------------- */

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
	{ "/fleet.Fleet/Connect", RPC_BIDI, &fleet__agent_message__descriptor, session_connect },
	{ "/fleet.FleetQuery/ListNodes", RPC_UNARY, &fleet__list_nodes_request__descriptor,
	  list_nodes },
	{ "/fleet.FleetQuery/GetPolicyStatus", RPC_UNARY,
	  &fleet__get_policy_status_request__descriptor, get_policy_status },
	{ "/fleet.FleetQuery/QueryEvents", RPC_UNARY, &fleet__query_events_request__descriptor,
	  query_events },
	{ "/fleet.Diagnostics/GetStats", RPC_UNARY, &fleet__get_stats_request__descriptor,
	  get_stats },
};

int api_start(struct manager *m)
{
	grpc_server_credentials *creds = NULL;
	int r, port;

	r = rpc_server_new(m->cq, methods, ARRAY_SIZE(methods), m, &m->server);
	if (r < 0)
		return log_error_errno(r, "Failed to create the gRPC server: %m");
	if (tls_wanted(&m->cfg.tls)) {
		r = tls_server_credentials(&m->cfg.tls, &creds);
		if (r < 0)
			return r;
	}
	r = rpc_server_listen(m->server, m->cfg.listen, creds, &port);
	if (creds)
		grpc_server_credentials_release(creds);
	if (r == -EADDRINUSE)
		return log_error_errno(r,
				       "Failed to listen on '%s': the address is in use or invalid",
				       m->cfg.listen);
	if (r < 0)
		return log_error_errno(r, "Failed to listen on '%s': %m", m->cfg.listen);
	r = rpc_server_start(m->server);
	if (r < 0)
		return log_error_errno(r, "Failed to start the gRPC server: %m");
	log_info("Listening on %s (port %d, %s)", m->cfg.listen, port,
		 !m->cfg.tls.cert ? "plaintext" :
		 m->cfg.tls.ca	  ? "mutual TLS" :
				    "TLS");
	return 0;
}

void api_stop(struct manager *m, void (*done)(void *), void *ud)
{
	struct rpc_server *s = m->server;

	m->server = NULL;
	if (!s) {
		done(ud);
		return;
	}
	rpc_server_shutdown(s, done, ud);
}
