// SPDX-License-Identifier: Apache-2.0
/*
 * The fleet: the desired state (every policy with its mode, enabled flag and generation),
 * the nodes, and what each node reports about each policy. A policy change is written to
 * the store (synchronous=FULL) before it is pushed to the connected nodes; a node that
 * connects later gets the whole desired state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/status.h>

#include "lib/log.h"
#include "lib/policy/policy.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "manager/manager.h"

#define MAX_ERROR_TEXT 6000 /* gRPC carries the status message in a header */
#define FOLD_MAX_ERRORS 3

static uint64_t name_hash(const char *name)
{
	return hash_bytes(name, strlen(name));
}

struct node *fleet_node_find(struct manager *m, const char *name)
{
	uint64_t h = name_hash(name);

	htable_for_each_hash(pos, &m->nodes_by_name, h)
	{
		struct node *n = container_of(pos, struct node, hn);

		if (streq(n->name, name))
			return n;
	}
	return NULL;
}

static void node_status_clear(struct node *n)
{
	for (size_t i = 0; i < n->n_status; i++)
		tetragon__tracing_policy_status__free_unpacked(n->status[i].st, NULL);
	free(n->status);
	n->status = NULL;
	n->n_status = 0;
}

static void node_free(struct node *n)
{
	node_status_clear(n);
	free(n->name);
	free(n->agent_version);
	free(n->kernel_release);
	free(n->features);
	free(n->peer);
	free(n);
}

static int node_add(struct manager *m, struct node *n)
{
	struct node **list = realloc(m->nodes, (m->n_nodes + 1) * sizeof(*list));

	if (!list)
		return -ENOMEM;
	m->nodes = list;
	m->nodes[m->n_nodes++] = n;
	htable_insert(&m->nodes_by_name, &n->hn, name_hash(n->name));
	return 0;
}

int fleet_node_get(struct manager *m, const char *name, struct node **ret)
{
	struct node *n = fleet_node_find(m, name);
	uint64_t now = now_realtime_ns();
	int r;

	if (n) {
		*ret = n;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->name = strdup(name);
	n->agent_version = strdup("");
	n->kernel_release = strdup("");
	n->features = strdup("");
	n->peer = strdup("");
	if (!n->name || !n->agent_version || !n->kernel_release || !n->features || !n->peer) {
		node_free(n);
		return -ENOMEM;
	}
	r = store_node_get(m->store, name, now, &n->id);
	if (r < 0) {
		node_free(n);
		return r;
	}
	n->first_seen_ns = n->last_seen_ns = now;
	r = node_add(m, n);
	if (r < 0) {
		node_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

int fleet_node_save(struct manager *m, struct node *n)
{
	struct store_node sn = {
		.id = n->id,
		.name = n->name,
		.online = n->session != NULL,
		.last_seen_ns = n->last_seen_ns,
		.agent_version = n->agent_version,
		.kernel_release = n->kernel_release,
		.features = n->features,
		.peer = n->peer,
		.applied_generation = n->applied_generation,
		.events_dropped = n->counters.events_dropped,
	};
	int r = store_node_update(m->store, &sn);

	if (r == 0)
		n->dirty = false;
	return r;
}

static bool status_is_fleet(const Tetragon__TracingPolicyStatus *st)
{
	return !st->domain || !*st->domain || streq(st->domain, "fleet");
}

int fleet_node_set_status(struct manager *m, struct node *n, uint64_t generation,
			  Tetragon__TracingPolicyStatus *const *list, size_t count)
{
	struct node_status *copies = NULL;
	struct store_status *rows = NULL;
	uint64_t now = now_realtime_ns();
	size_t k = 0;
	int r = 0;

	if (count) {
		copies = calloc(count, sizeof(*copies));
		rows = calloc(count, sizeof(*rows));
		if (!copies || !rows) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < count; i++) {
		grpc_slice s;

		if (!status_is_fleet(list[i]) || !list[i]->name || !*list[i]->name)
			continue;
		s = rpc_pack(&list[i]->base);
		copies[k].st = tetragon__tracing_policy_status__unpack(NULL, GRPC_SLICE_LENGTH(s),
								       GRPC_SLICE_START_PTR(s));
		rows[k].status = malloc(GRPC_SLICE_LENGTH(s) + 1);
		if (!copies[k].st || !rows[k].status) {
			grpc_slice_unref(s);
			k++;
			r = -ENOMEM;
			goto out;
		}
		memcpy(rows[k].status, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
		rows[k].status_len = GRPC_SLICE_LENGTH(s);
		grpc_slice_unref(s);
		copies[k].updated_ns = now;
		rows[k].name = copies[k].st->name;
		rows[k].namespace = copies[k].st->namespace_;
		rows[k].generation = generation;
		rows[k].state = copies[k].st->state;
		k++;
	}
	r = store_status_replace(m->store, n->id, rows, k, now);
	if (r < 0)
		goto out;
	node_status_clear(n);
	n->status = copies;
	n->n_status = k;
	copies = NULL;
	n->applied_generation = generation;
	r = fleet_node_save(m, n);
out:
	for (size_t i = 0; i < k; i++) {
		if (copies && copies[i].st)
			tetragon__tracing_policy_status__free_unpacked(copies[i].st, NULL);
		free(rows[i].status);
	}
	free(copies);
	free(rows);
	return r;
}

int fleet_load(struct manager *m)
{
	struct store_node **nodes = NULL;
	struct store_status *st = NULL;
	size_t n_nodes = 0, n_st = 0;
	uint64_t now = now_realtime_ns();
	int r;

	r = htable_init(&m->nodes_by_name, 64);
	if (r < 0)
		return r;
	r = store_policies_load(m->store, &m->policies, &m->n_policies);
	if (r < 0)
		return r;
	r = store_nodes_all_offline(m->store, now);
	if (r == 0)
		r = store_nodes_load(m->store, &nodes, &n_nodes);
	if (r == 0)
		r = store_status_load(m->store, &st, &n_st);
	for (size_t i = 0; r == 0 && i < n_nodes; i++) {
		struct node *n = calloc(1, sizeof(*n));

		if (!n) {
			r = -ENOMEM;
			break;
		}
		n->id = nodes[i]->id;
		n->name = TAKE_PTR(nodes[i]->name);
		n->agent_version = TAKE_PTR(nodes[i]->agent_version);
		n->kernel_release = TAKE_PTR(nodes[i]->kernel_release);
		n->features = TAKE_PTR(nodes[i]->features);
		n->peer = TAKE_PTR(nodes[i]->peer);
		n->first_seen_ns = nodes[i]->first_seen_ns;
		n->last_seen_ns = nodes[i]->last_seen_ns;
		n->applied_generation = nodes[i]->applied_generation;
		n->acked_seq = nodes[i]->last_seq;
		fleet__agent_counters__init(&n->counters);
		n->counters.events_dropped = nodes[i]->events_dropped;
		r = node_add(m, n);
		if (r < 0) {
			node_free(n);
			break;
		}
	}
	for (size_t i = 0; r == 0 && i < n_st; i++) {
		struct node *n = NULL;
		struct node_status *ns;

		for (size_t k = 0; k < m->n_nodes; k++)
			if (m->nodes[k]->id == st[i].node_id)
				n = m->nodes[k];
		if (!n)
			continue;
		ns = realloc(n->status, (n->n_status + 1) * sizeof(*ns));
		if (!ns) {
			r = -ENOMEM;
			break;
		}
		n->status = ns;
		ns = &n->status[n->n_status];
		ns->st = tetragon__tracing_policy_status__unpack(NULL, st[i].status_len,
								 st[i].status);
		ns->updated_ns = st[i].updated_ns;
		if (ns->st)
			n->n_status++;
	}
	store_nodes_free(nodes, n_nodes);
	store_status_free(st, n_st);
	if (r == 0)
		r = store_commit(m->store);
	return r;
}

void fleet_free(struct manager *m)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		node_free(m->nodes[i]);
	free(m->nodes);
	m->nodes = NULL;
	m->n_nodes = 0;
	htable_free(&m->nodes_by_name);
	store_policies_free(m->policies, m->n_policies);
	m->policies = NULL;
	m->n_policies = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Policies */

static const char *ns_or_empty(const char *ns)
{
	return ns ? ns : "";
}

static ssize_t policy_index(struct manager *m, const char *name, const char *ns)
{
	for (size_t i = 0; i < m->n_policies; i++)
		if (streq(m->policies[i]->name, name) &&
		    streq(m->policies[i]->namespace, ns_or_empty(ns)))
			return (ssize_t)i;
	return -1;
}

struct store_policy *fleet_policy_find(struct manager *m, const char *name, const char *ns)
{
	ssize_t i = policy_index(m, name, ns);

	return i < 0 ? NULL : m->policies[i];
}

void fleet_policy_message(const struct store_policy *p, Fleet__FleetPolicy *out)
{
	fleet__fleet_policy__init(out);
	out->id = (uint64_t)p->id;
	out->name = p->name;
	out->namespace_ = p->namespace;
	out->yaml = p->yaml;
	out->mode = (Tetragon__TracingPolicyMode)p->mode;
	out->enabled = p->enabled;
	out->generation = p->generation;
}

/* Tell every connected node: the policy p was added or changed, or (p NULL) removed. */
static void push_change(struct manager *m, const struct store_policy *p, const char *name,
			const char *ns)
{
	Fleet__ManagerMessage mm = FLEET__MANAGER_MESSAGE__INIT;
	Fleet__DesiredState ds = FLEET__DESIRED_STATE__INIT;
	Fleet__FleetPolicy fp, *fpl[1] = { &fp };
	Fleet__PolicyRef ref = FLEET__POLICY_REF__INIT, *refl[1] = { &ref };

	mm.msg_case = FLEET__MANAGER_MESSAGE__MSG_DESIRED;
	mm.desired = &ds;
	ds.generation = store_generation(m->store);
	if (p) {
		fleet_policy_message(p, &fp);
		ds.policies = fpl;
		ds.n_policies = 1;
	} else {
		ref.name = (char *)name;
		ref.namespace_ = (char *)ns_or_empty(ns);
		ds.removed = refl;
		ds.n_removed = 1;
	}
	m->stats.policy_pushes++;
	session_broadcast(m, &mm);
}

static char *strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int store_error(struct manager *m, const char *what, int r, char **msg)
{
	log_error("Failed to %s: %s", what, store_errmsg(m->store));
	*msg = strdupf("cannot %s: %s", what, store_errmsg(m->store));
	(void)r;
	return GRPC_STATUS_INTERNAL;
}

/* Every parse error, one per line, within what a status message can carry. */
static char *format_errors(const struct policy_errors *errs)
{
	struct sbuf all, out;
	size_t lines = 0, shown = 0;

	sbuf_init(&all);
	sbuf_init(&out);
	policy_errors_format(errs, &all);
	for (char *p = all.buf; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lines++;
		if (out.len + len + 64 < MAX_ERROR_TEXT) {
			if (out.len)
				sbuf_addc(&out, '\n');
			sbuf_add(&out, p, len);
			shown++;
		}
		p = nl ? nl + 1 : p + len;
	}
	if (shown < lines)
		sbuf_printf(&out, "\n... and %zu more errors", lines - shown);
	if (errs->truncated)
		sbuf_adds(&out, "\n... and more errors (the parser stopped counting)");
	sbuf_free(&all);
	if (!out.len)
		sbuf_adds(&out, "invalid policy");
	return sbuf_steal(&out);
}

int fleet_policy_add(struct manager *m, const char *yaml, size_t len, char **msg)
{
	struct policy_errors errs = { 0 };
	struct policy *pol = NULL;
	struct store_policy *row = NULL, **list;
	const char *name, *ns;
	int mode, r, code = GRPC_STATUS_OK;
	size_t count = 0;
	_cleanup_free_ char *text = NULL;

	*msg = NULL;
	if (len > POLICY_MAX_SIZE) {
		*msg = strdupf("the policy is %zu bytes; at most %u are accepted", len,
			       POLICY_MAX_SIZE);
		return GRPC_STATUS_INVALID_ARGUMENT;
	}
	r = policy_parse_buffer_all(yaml, len, NULL, &pol, &errs);
	if (r == -EINVAL) {
		*msg = format_errors(&errs);
		code = GRPC_STATUS_INVALID_ARGUMENT;
		goto out;
	}
	if (r < 0) {
		*msg = strdupf("cannot parse the policy: %s", strerror(-r));
		code = GRPC_STATUS_INTERNAL;
		goto out;
	}
	for (struct policy *p = pol; p; p = p->next)
		count++;
	if (count != 1) {
		*msg = strdupf("the YAML holds %zu policies; add them one at a time", count);
		code = GRPC_STATUS_INVALID_ARGUMENT;
		goto out;
	}
	name = pol->metadata.name;
	ns = ns_or_empty(pol->metadata.namespace);
	mode = policy_get_mode(pol) == POLICY_MODE_MONITOR ?
		       TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR :
		       TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE;
	/* the text as it came: what the agents parse is exactly what was validated here */
	text = strndup(yaml, len);
	if (!text) {
		code = GRPC_STATUS_RESOURCE_EXHAUSTED;
		*msg = strdupf("out of memory");
		goto out;
	}
	list = realloc(m->policies, (m->n_policies + 1) * sizeof(*list));
	if (!list) {
		code = GRPC_STATUS_RESOURCE_EXHAUSTED;
		*msg = strdupf("out of memory");
		goto out;
	}
	m->policies = list;
	r = store_policy_add(m->store, name, ns, text, mode, true, &row);
	if (r == -EEXIST) {
		*msg = strdupf("policy '%s'%s%s already exists", name, *ns ? " in namespace " : "",
			       ns);
		code = GRPC_STATUS_ALREADY_EXISTS;
		goto out;
	}
	if (r < 0) {
		code = store_error(m, "store the policy", r, msg);
		goto out;
	}
	m->policies[m->n_policies++] = row;
	log_info("Added policy '%s'%s%s (%s) at generation %llu", name, *ns ? " in namespace " : "",
		 ns, mode == TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR ? "monitor" : "enforce",
		 (unsigned long long)row->generation);
	push_change(m, row, NULL, NULL);
out:
	policy_free(pol);
	policy_errors_clear(&errs);
	if (code != GRPC_STATUS_OK && !*msg)
		*msg = strdupf("out of memory");
	return code;
}

int fleet_policy_delete(struct manager *m, const char *name, const char *ns, char **msg)
{
	ssize_t i;
	uint64_t gen;
	int r;

	*msg = NULL;
	ns = ns_or_empty(ns);
	r = store_policy_delete(m->store, name, ns, &gen);
	if (r == -ENOENT) {
		*msg = strdupf("policy '%s'%s%s not found", name, *ns ? " in namespace " : "", ns);
		return GRPC_STATUS_NOT_FOUND;
	}
	if (r < 0)
		return store_error(m, "delete the policy", r, msg);
	i = policy_index(m, name, ns);
	if (i >= 0) {
		store_policy_free(m->policies[i]);
		memmove(&m->policies[i], &m->policies[i + 1],
			(m->n_policies - (size_t)i - 1) * sizeof(*m->policies));
		m->n_policies--;
	}
	log_info("Deleted policy '%s'%s%s at generation %llu", name, *ns ? " in namespace " : "",
		 ns, (unsigned long long)gen);
	push_change(m, NULL, name, ns);
	return GRPC_STATUS_OK;
}

int fleet_policy_configure(struct manager *m, const char *name, const char *ns, int enable,
			   int mode, char **msg)
{
	struct store_policy *row = NULL;
	uint64_t before = store_generation(m->store);
	ssize_t i;
	int r;

	*msg = NULL;
	ns = ns_or_empty(ns);
	if (mode >= 0 && mode != TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE &&
	    mode != TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR) {
		*msg = strdupf("mode %d is not TP_MODE_ENFORCE or TP_MODE_MONITOR", mode);
		return GRPC_STATUS_INVALID_ARGUMENT;
	}
	r = store_policy_configure(m->store, name, ns, enable, mode, &row);
	if (r == -ENOENT) {
		*msg = strdupf("policy '%s'%s%s not found", name, *ns ? " in namespace " : "", ns);
		return GRPC_STATUS_NOT_FOUND;
	}
	if (r < 0)
		return store_error(m, "change the policy", r, msg);
	if (store_generation(m->store) == before) {
		store_policy_free(row);
		return GRPC_STATUS_OK;
	}
	i = policy_index(m, name, ns);
	if (i >= 0) {
		store_policy_free(m->policies[i]);
		m->policies[i] = row;
	} else {
		/* cannot happen: memory follows the store */
		store_policy_free(row);
		return GRPC_STATUS_INTERNAL;
	}
	log_info("Policy '%s'%s%s is now %s, %s (generation %llu)", name,
		 *ns ? " in namespace " : "", ns, row->enabled ? "enabled" : "disabled",
		 row->mode == TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR ? "monitor" :
									       "enforce",
		 (unsigned long long)row->generation);
	push_change(m, row, NULL, NULL);
	return GRPC_STATUS_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Folding the nodes' reports */

enum node_policy_state fleet_node_policy_state(const struct node *n, const struct store_policy *p,
					       const Tetragon__TracingPolicyStatus **ret)
{
	const Tetragon__TracingPolicyStatus *st = NULL;

	for (size_t i = 0; i < n->n_status; i++) {
		const Tetragon__TracingPolicyStatus *s = n->status[i].st;

		if (streq(s->name, p->name) && streq(ns_or_empty(s->namespace_), p->namespace)) {
			st = s;
			break;
		}
	}
	if (ret)
		*ret = st;
	/* a report older than the policy's last change says nothing about it */
	if (!st || n->applied_generation < p->generation)
		return NODE_POLICY_PENDING;
	if (st->state == TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOAD_ERROR ||
	    st->state == TETRAGON__TRACING_POLICY_STATE__TP_STATE_ERROR)
		return NODE_POLICY_ERROR;
	if (!p->enabled)
		return st->state == TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED ?
			       NODE_POLICY_OK :
			       NODE_POLICY_PENDING;
	if (st->state != TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED)
		return NODE_POLICY_PENDING;
	/* MONITOR_ONLY: the policy has no enforcing action, so either mode is reached */
	if (st->mode != TETRAGON__TRACING_POLICY_MODE__TP_MODE_UNKNOWN &&
	    st->mode != TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR_ONLY &&
	    (int)st->mode != p->mode)
		return NODE_POLICY_PENDING;
	return NODE_POLICY_OK;
}

static void add_counters(Tetragon__TracingPolicyActionCounters *sum,
			 const Tetragon__TracingPolicyActionCounters *c)
{
	sum->post += c->post;
	sum->signal += c->signal;
	sum->monitor_signal += c->monitor_signal;
	sum->override += c->override;
	sum->monitor_override += c->monitor_override;
	sum->notify_enforcer += c->notify_enforcer;
	sum->monitor_notify_enforcer += c->monitor_notify_enforcer;
	sum->set += c->set;
	sum->monitor_set += c->monitor_set;
	sum->nopost += c->nopost;
}

void fleet_status_fold(struct manager *m, const struct store_policy *p,
		       Tetragon__TracingPolicyStatus *out, struct fold_buf *buf)
{
	size_t online = 0, ok = 0, err = 0, pending = 0, offline = 0;
	struct sbuf info, errors;
	const char *first_error = NULL;
	uint64_t kmem = 0;

	memset(buf, 0, sizeof(*buf));
	tetragon__tracing_policy_stats__init(&buf->stats);
	tetragon__tracing_policy_action_counters__init(&buf->counters);
	sbuf_init(&info);
	sbuf_init(&errors);
	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct node *n = m->nodes[i];
		const Tetragon__TracingPolicyStatus *st;
		enum node_policy_state s;

		if (!n->session) {
			offline++;
			continue;
		}
		online++;
		s = fleet_node_policy_state(n, p, &st);
		if (st && st->stats && st->stats->action_counters)
			add_counters(&buf->counters, st->stats->action_counters);
		if (st)
			kmem += st->kernel_memory_bytes;
		switch (s) {
		case NODE_POLICY_OK:
			ok++;
			break;
		case NODE_POLICY_PENDING:
			pending++;
			break;
		case NODE_POLICY_ERROR:
			if (err < FOLD_MAX_ERRORS) {
				const char *e = st->error && *st->error ? st->error : "error";

				sbuf_printf(&errors, "%s%s: %s", err ? "; " : "", n->name, e);
				if (!first_error)
					first_error = e;
			}
			err++;
			break;
		}
	}
	tetragon__tracing_policy_status__init(out);
	out->id = (uint64_t)p->id;
	out->name = p->name;
	out->namespace_ = p->namespace;
	out->enabled = p->enabled;
	out->mode = (Tetragon__TracingPolicyMode)p->mode;
	out->domain = "fleet";
	out->kernel_memory_bytes = kmem;
	buf->stats.action_counters = &buf->counters;
	out->stats = &buf->stats;
	if (online == 0) {
		out->state = TETRAGON__TRACING_POLICY_STATE__TP_STATE_UNKNOWN;
		sbuf_adds(&info, "no node online");
	} else {
		sbuf_printf(&info, "%zu/%zu %s", ok, online, p->enabled ? "enabled" : "disabled");
		if (pending)
			sbuf_printf(&info, ", %zu pending", pending);
		if (err)
			sbuf_printf(&info, ", %zu error%s: %s", err, err == 1 ? "" : "s",
				    errors.buf);
		if (err)
			out->state = TETRAGON__TRACING_POLICY_STATE__TP_STATE_ERROR;
		else if (ok == online)
			out->state = p->enabled ? TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED :
						  TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED;
		else
			out->state = p->enabled ?
					     TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOADING :
					     TETRAGON__TRACING_POLICY_STATE__TP_STATE_UNLOADING;
	}
	if (offline)
		sbuf_printf(&info, ", %zu offline", offline);
	buf->info = sbuf_steal(&info);
	buf->error = first_error ? strdup(first_error) : NULL;
	out->info = buf->info ? buf->info : "";
	out->error = buf->error ? buf->error : "";
	sbuf_free(&errors);
}

void fleet_status_fold_free(struct fold_buf *buf)
{
	free(buf->info);
	free(buf->error);
	buf->info = buf->error = NULL;
}
