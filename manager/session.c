// SPDX-License-Identifier: Apache-2.0
/*
 * One agent's fleet.Fleet/Connect stream. The agent says Hello; the manager answers with a
 * Welcome (what it holds of the node's events) and the full desired state, then pushes each
 * change. Status reports replace what the node said before. Event batches go into the open
 * store transaction; the Ack for a batch is sent once the commit that holds it has been
 * synced to disk (session_deliver_acks() after the manager's sync). A node is online while
 * its stream is up; three heartbeat intervals of silence end the stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/status.h>

#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "manager/manager.h"

#define SESSION_QUEUE_MSGS 4096
#define SESSION_QUEUE_BYTES (256u << 20)
#define NODE_NAME_MAX 255

struct pending_ack {
	uint64_t epoch; /* the commit that holds the batch */
	uint64_t seq; /* the batch's last sequence number */
};

struct session {
	struct manager *m;
	struct rpc_call *call;
	struct node *node; /* set by Hello */
	char *peer;
	uint64_t last_recv_ns;
	struct pending_ack *acks;
	size_t n_acks, cap_acks;
	struct sbuf scratch;
	struct ingest_event ingest;
	struct session *prev, *next;
	bool ended; /* we ended it; its messages are ignored */
};

size_t session_count(struct manager *m)
{
	size_t n = 0;

	for (struct session *s = m->sessions; s; s = s->next)
		n++;
	return n;
}

static void session_end(struct session *s, grpc_status_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void session_end(struct session *s, grpc_status_code code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s->ended)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->ended = true;
	s->n_acks = 0;
	log_warn("Ending the stream of %s%s%s (%s): %s", s->node ? "node '" : "",
		 s->node ? s->node->name :
		 s->peer ? s->peer :
			   "an agent",
		 s->node ? "'" : "", rpc_status_name(code), msg);
	rpc_call_fail(s->call, code, "%s", msg);
}

/* Queue a message; a stream whose queue is full is ended (the agent reconnects and resyncs). */
static int session_send(struct session *s, const Fleet__ManagerMessage *mm)
{
	int r;

	if (s->ended)
		return -EPIPE;
	r = rpc_call_send(s->call, &mm->base);
	if (r == -ENOBUFS || r == -ENOMEM) {
		s->m->stats.push_failures++;
		session_end(s, GRPC_STATUS_RESOURCE_EXHAUSTED,
			    "the agent does not read its stream: its send queue is full");
	}
	return r;
}

static void send_snapshot(struct session *s)
{
	struct manager *m = s->m;
	Fleet__ManagerMessage mm = FLEET__MANAGER_MESSAGE__INIT;
	Fleet__DesiredState ds = FLEET__DESIRED_STATE__INIT;
	Fleet__FleetPolicy *fp = NULL, **fpl = NULL;

	if (m->n_policies) {
		fp = calloc(m->n_policies, sizeof(*fp));
		fpl = calloc(m->n_policies, sizeof(*fpl));
		if (!fp || !fpl) {
			free(fp);
			free(fpl);
			session_end(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
	}
	for (size_t i = 0; i < m->n_policies; i++) {
		fleet_policy_message(m->policies[i], &fp[i]);
		fpl[i] = &fp[i];
	}
	mm.msg_case = FLEET__MANAGER_MESSAGE__MSG_DESIRED;
	mm.desired = &ds;
	ds.generation = store_generation(m->store);
	ds.full = true;
	ds.policies = fpl;
	ds.n_policies = m->n_policies;
	session_send(s, &mm);
	free(fp);
	free(fpl);
}

void session_broadcast(struct manager *m, const Fleet__ManagerMessage *mm)
{
	grpc_slice slice = rpc_pack(&mm->base);

	for (struct session *s = m->sessions; s; s = s->next) {
		int r;

		if (!s->node || s->ended)
			continue;
		r = rpc_call_send_slice(s->call, slice);
		if (r == -ENOBUFS || r == -ENOMEM) {
			m->stats.push_failures++;
			session_end(s, GRPC_STATUS_RESOURCE_EXHAUSTED,
				    "the agent does not read its stream: its send queue is full");
		}
	}
	grpc_slice_unref(slice);
}

static bool valid_node_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static char *join_features(const Fleet__Hello *h)
{
	struct sbuf b;

	sbuf_init(&b);
	for (size_t i = 0; i < h->n_features; i++)
		sbuf_printf(&b, "%s%s=%d", i ? "," : "", h->features[i]->name,
			    h->features[i]->available ? 1 : 0);
	if (!b.buf)
		sbuf_adds(&b, "");
	return sbuf_steal(&b);
}

static void set_str(char **dst, const char *v)
{
	char *c = strdup(v ? v : "");

	if (c) {
		free(*dst);
		*dst = c;
	}
}

static void copy_counters(Fleet__AgentCounters *dst, const Fleet__AgentCounters *src)
{
	fleet__agent_counters__init(dst);
	if (!src)
		return;
	dst->events = src->events;
	dst->events_dropped = src->events_dropped;
	dst->spool_bytes = src->spool_bytes;
	dst->spool_events = src->spool_events;
	dst->memory_events = src->memory_events;
	dst->spool_errors = src->spool_errors;
	dst->policy_errors = src->policy_errors;
}

static void on_hello(struct session *s, const Fleet__Hello *h)
{
	struct manager *m = s->m;
	Fleet__ManagerMessage mm = FLEET__MANAGER_MESSAGE__INIT;
	Fleet__Welcome w = FLEET__WELCOME__INIT;
	struct node *n;
	char *features;
	int r;

	if (h->protocol_version > MANAGER_PROTOCOL_VERSION) {
		session_end(s, GRPC_STATUS_FAILED_PRECONDITION,
			    "protocol version %u is not supported: this manager speaks %u",
			    h->protocol_version, MANAGER_PROTOCOL_VERSION);
		return;
	}
	if (!valid_node_name(h->node_name)) {
		session_end(s, GRPC_STATUS_INVALID_ARGUMENT,
			    "the node name must be 1 to %d printable characters", NODE_NAME_MAX);
		return;
	}
	/* with mutual TLS a node may only call itself what its certificate says */
	if (m->cfg.tls.ca && !m->cfg.tls_any_node_name &&
	    !rpc_call_peer_has_identity(s->call, h->node_name)) {
		m->stats.identity_refused++;
		session_end(s, GRPC_STATUS_PERMISSION_DENIED,
			    "node name '%s' is not an identity of the client certificate "
			    "(its subjectAltName or CN must name the node)",
			    h->node_name);
		return;
	}
	r = fleet_node_get(m, h->node_name, &n);
	if (r < 0) {
		m->stats.store_errors++;
		session_end(s, GRPC_STATUS_UNAVAILABLE, "cannot record the node: %s",
			    store_errmsg(m->store));
		return;
	}
	if (n->session && n->session != s) {
		struct session *old = n->session;

		m->stats.sessions_replaced++;
		old->node = NULL;
		n->session = NULL;
		session_end(old, GRPC_STATUS_ABORTED,
			    "node '%s' connected again from %s; this stream is replaced", n->name,
			    s->peer ? s->peer : "elsewhere");
	}
	n->session = s;
	s->node = n;
	set_str(&n->agent_version, h->agent_version);
	set_str(&n->kernel_release, h->kernel_release);
	set_str(&n->peer, s->peer);
	features = join_features(h);
	if (features) {
		free(n->features);
		n->features = features;
	}
	copy_counters(&n->counters, h->counters);
	n->last_seen_ns = now_realtime_ns();
	r = fleet_node_set_status(m, n, h->applied_generation, h->policies, h->n_policies);
	if (r == 0)
		r = fleet_node_save(m, n);
	if (r < 0) {
		m->stats.store_errors++;
		log_error("Failed to record node '%s': %s", n->name, store_errmsg(m->store));
	}
	log_info("Node '%s' connected from %s (agent %s, kernel %s, %zu policies)", n->name,
		 s->peer ? s->peer : "?", n->agent_version, n->kernel_release, h->n_policies);

	mm.msg_case = FLEET__MANAGER_MESSAGE__MSG_WELCOME;
	mm.welcome = &w;
	w.manager_version = TETRA_VERSION;
	w.committed_seq = n->acked_seq;
	w.heartbeat_interval_ms = m->cfg.heartbeat_ms;
	if (session_send(s, &mm) == 0)
		send_snapshot(s);
}

static void on_status(struct session *s, const Fleet__PolicyStatusReport *rep)
{
	struct manager *m = s->m;
	int r;

	m->stats.status_reports++;
	r = fleet_node_set_status(m, s->node, rep->generation, rep->policies, rep->n_policies);
	if (r < 0) {
		m->stats.store_errors++;
		log_error("Failed to record the policy status of node '%s': %s", s->node->name,
			  r == -ENOMEM ? "out of memory" : store_errmsg(m->store));
	}
}

static void queue_ack(struct session *s, uint64_t epoch, uint64_t seq)
{
	struct pending_ack *a;

	if (s->n_acks && s->acks[s->n_acks - 1].epoch == epoch) {
		a = &s->acks[s->n_acks - 1];
		a->seq = MAX(a->seq, seq);
		return;
	}
	if (s->n_acks == s->cap_acks) {
		size_t cap = s->cap_acks ? s->cap_acks * 2 : 8;

		a = realloc(s->acks, cap * sizeof(*a));
		if (!a) {
			session_end(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		s->acks = a;
		s->cap_acks = cap;
	}
	s->acks[s->n_acks].epoch = epoch;
	s->acks[s->n_acks].seq = seq;
	s->n_acks++;
}

static void send_ack(struct session *s, uint64_t seq)
{
	Fleet__ManagerMessage mm = FLEET__MANAGER_MESSAGE__INIT;
	Fleet__Ack ack = FLEET__ACK__INIT;

	mm.msg_case = FLEET__MANAGER_MESSAGE__MSG_ACK;
	mm.ack = &ack;
	ack.seq = seq;
	if (session_send(s, &mm) == 0) {
		s->m->stats.acks++;
		if (s->node && seq > s->node->acked_seq)
			s->node->acked_seq = seq;
	}
}

/* Live GetEvents subscribers filter on the decoded event. */
static void publish(struct manager *m, const struct ingest_event *ie)
{
	Tetragon__GetEventsResponse *ev =
		tetragon__get_events_response__unpack(NULL, ie->e.len, ie->e.data);

	if (!ev) {
		/* ingest_scan() accepts only what decodes: this is out of memory */
		m->stats.subscriber_drops++;
		return;
	}
	api_publish(m, ev, ie->e.data, ie->e.len);
	tetragon__get_events_response__free_unpacked(ev, NULL);
}

static void on_events(struct session *s, const Fleet__EventBatch *b)
{
	struct manager *m = s->m;
	struct node *n = s->node;
	uint64_t now = now_realtime_ns(), last;
	bool wrote = false;

	m->stats.batches++;
	if (b->n_events == 0)
		return;
	if (b->first_seq == 0 || b->first_seq > INT64_MAX - b->n_events) {
		m->stats.protocol_errors++;
		session_end(s, GRPC_STATUS_INVALID_ARGUMENT,
			    "event batch with sequence numbers out of range (first %llu)",
			    (unsigned long long)b->first_seq);
		return;
	}
	for (size_t i = 0; i < b->n_events; i++) {
		uint64_t seq = b->first_seq + i;
		struct ingest_event *ie = &s->ingest;
		int r;

		m->stats.events_received++;
		if (seq <= n->acked_seq) {
			/* a replay of what is durably stored */
			m->stats.events_duplicate++;
			store_node_duplicate(m->store, n->id);
			continue;
		}
		if (ingest_scan(b->events[i].data, b->events[i].len, now, ie) < 0) {
			m->stats.events_undecodable++;
			log_debug("Node '%s' sent an undecodable event (seq %llu, %zu bytes)",
				  n->name, (unsigned long long)seq, b->events[i].len);
			continue;
		}
		if (ingest_set_node(ie, n->name, &s->scratch))
			m->stats.events_renamed++;
		ie->e.node_id = n->id;
		ie->e.seq = seq;
		r = store_event_insert(m->store, &ie->e);
		if (r < 0) {
			m->stats.store_errors++;
			session_end(s, GRPC_STATUS_UNAVAILABLE, "cannot store events: %s",
				    store_errmsg(m->store));
			return;
		}
		wrote = true;
		if (r == 0) {
			m->stats.events_duplicate++;
			continue;
		}
		m->stats.events_stored++;
		if (m->subscribers)
			publish(m, ie);
	}
	last = b->first_seq + b->n_events - 1;
	if (!wrote && !store_in_transaction(m->store) &&
	    store_committed_epoch(m->store) <= m->synced_epoch) {
		/* nothing new and nothing waiting: durable already */
		send_ack(s, last);
		return;
	}
	queue_ack(s,
		  store_in_transaction(m->store) ? store_open_epoch(m->store) :
						   store_committed_epoch(m->store),
		  last);
	durable_batch_done(m);
}

static void on_heartbeat(struct session *s, const Fleet__Heartbeat *hb)
{
	if (hb->counters) {
		copy_counters(&s->node->counters, hb->counters);
		s->node->dirty = true;
	}
}

static void on_message(struct rpc_call *call, const ProtobufCMessage *msg, void *ud)
{
	struct session *s = ud;
	const Fleet__AgentMessage *am = (const Fleet__AgentMessage *)msg;
	struct manager *m = s->m;

	if (s->ended)
		return;
	if (!msg) {
		/* the agent half-closed: it is going away */
		rpc_call_finish(call);
		return;
	}
	s->last_recv_ns = now_monotonic_ns();
	if (s->node) {
		s->node->last_seen_ns = now_realtime_ns();
		s->node->dirty = true;
	}
	if (!s->node && am->msg_case != FLEET__AGENT_MESSAGE__MSG_HELLO) {
		m->stats.protocol_errors++;
		session_end(s, GRPC_STATUS_FAILED_PRECONDITION, "the first message must be Hello");
		return;
	}
	switch (am->msg_case) {
	case FLEET__AGENT_MESSAGE__MSG_HELLO:
		if (s->node) {
			m->stats.protocol_errors++;
			session_end(s, GRPC_STATUS_FAILED_PRECONDITION, "Hello sent twice");
			return;
		}
		on_hello(s, am->hello);
		break;
	case FLEET__AGENT_MESSAGE__MSG_STATUS:
		on_status(s, am->status);
		break;
	case FLEET__AGENT_MESSAGE__MSG_EVENTS:
		on_events(s, am->events);
		break;
	case FLEET__AGENT_MESSAGE__MSG_HEARTBEAT:
		on_heartbeat(s, am->heartbeat);
		break;
	default:
		/* a newer agent's message: nothing to do with it */
		m->stats.protocol_errors++;
		break;
	}
}

static void on_close(struct rpc_call *call, void *ud)
{
	struct session *s = ud;
	struct manager *m = s->m;
	struct node *n = s->node;

	if (s->prev)
		s->prev->next = s->next;
	else
		m->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (n && n->session == s) {
		n->session = NULL;
		n->last_seen_ns = now_realtime_ns();
		if (fleet_node_save(m, n) < 0) {
			m->stats.store_errors++;
			n->dirty = true;
		}
		log_info("Node '%s' disconnected", n->name);
	}
	free(s->acks);
	free(s->peer);
	sbuf_free(&s->scratch);
	sbuf_free(&s->ingest.strings);
	rpc_call_unref(call);
	free(s);
}

void session_connect(struct rpc_call *call, const ProtobufCMessage *req, void *userdata)
{
	struct manager *m = userdata;
	struct session *s;

	if (m->stopping) {
		rpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "the manager is shutting down");
		rpc_call_unref(call);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		rpc_call_unref(call);
		return;
	}
	s->m = m;
	s->call = call;
	s->peer = rpc_call_peer(call);
	s->last_recv_ns = now_monotonic_ns();
	sbuf_init(&s->scratch);
	sbuf_init(&s->ingest.strings);
	s->next = m->sessions;
	if (m->sessions)
		m->sessions->prev = s;
	m->sessions = s;
	m->stats.sessions++;
	rpc_call_set_queue_limit(call, SESSION_QUEUE_MSGS, SESSION_QUEUE_BYTES);
	rpc_call_on_message(call, on_message, s);
	rpc_call_on_close(call, on_close, s);
}

void session_deliver_acks(struct manager *m)
{
	for (struct session *s = m->sessions; s; s = s->next) {
		uint64_t seq = 0;
		size_t k = 0;

		while (k < s->n_acks && s->acks[k].epoch <= m->synced_epoch) {
			seq = MAX(seq, s->acks[k].seq);
			k++;
		}
		if (!k)
			continue;
		memmove(s->acks, s->acks + k, (s->n_acks - k) * sizeof(*s->acks));
		s->n_acks -= k;
		send_ack(s, seq);
	}
}

void session_commit_failed(struct manager *m, uint64_t epoch)
{
	for (struct session *s = m->sessions; s; s = s->next) {
		for (size_t k = 0; k < s->n_acks; k++) {
			if (s->acks[k].epoch == epoch) {
				session_end(s, GRPC_STATUS_UNAVAILABLE,
					    "the manager could not commit events: %s; replay them",
					    store_errmsg(m->store));
				break;
			}
		}
	}
}

void session_tick(struct manager *m)
{
	uint64_t now = now_monotonic_ns();
	uint64_t limit = 3ull * m->cfg.heartbeat_ms * 1000000ull;
	Fleet__ManagerMessage mm = FLEET__MANAGER_MESSAGE__INIT;
	Fleet__Heartbeat hb = FLEET__HEARTBEAT__INIT;

	mm.msg_case = FLEET__MANAGER_MESSAGE__MSG_HEARTBEAT;
	mm.heartbeat = &hb;
	hb.time_ns = now_realtime_ns();
	for (struct session *s = m->sessions; s; s = s->next) {
		if (s->ended)
			continue;
		if (now - s->last_recv_ns > limit) {
			m->stats.sessions_timed_out++;
			session_end(s, GRPC_STATUS_DEADLINE_EXCEEDED,
				    "no message from the agent for %u ms", 3 * m->cfg.heartbeat_ms);
			continue;
		}
		if (s->node)
			session_send(s, &mm);
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct node *n = m->nodes[i];

		if (n->dirty && fleet_node_save(m, n) < 0)
			m->stats.store_errors++;
	}
}
