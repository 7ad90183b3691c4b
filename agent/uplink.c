// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's fleet uplink; see uplink.h for what it does. The parts:
 *  - the event queue: every event gets the next sequence number and waits in memory (a
 *    deque of shared protobuf slices) until acknowledged; the oldest spill to the spool
 *    beyond the memory bound, and all of them while disconnected;
 *  - the sender: from the oldest unsent sequence number, batches come from the spool
 *    first and then from memory, within a window of unacknowledged bytes;
 *  - the stream: Hello, Welcome (where the manager stands), DesiredState, Ack, Heartbeat;
 *  - the policies: the fleet domain made equal to the desired state through policies.h.
 *
 * Sequence numbers must never be reused, even after a restart that lost the spool: the
 * next one is at least the current time in microseconds (faster than any event rate, so
 * a restarted agent starts above everything it sent before), at least one above what the
 * spool holds, and at least the reservation written in <state_dir>/fleet.state, which is
 * advanced in blocks so that a clock set back cannot take numbers twice.
 *
 * The spool and the state live in <state_dir>/fleet/<node name>/ (locked while the agent
 * runs), so that agents of several nodes on one host may share a state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/status.h>

#include "agent/agent.h"
#include "agent/policies.h"
#include "agent/spool.h"
#include "agent/uplink.h"
#include "fleet/fleet.pb-c.h"
#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/tls.h"
#include "lib/util.h"

#define PROTOCOL_VERSION 1
#define BATCH_MAX_EVENTS 2048
#define BATCH_MAX_BYTES (1u << 20) /* well under the manager's 4 MiB receive limit */
#define WINDOW_BYTES (8u << 20) /* sent and not yet acknowledged */
#define WINDOW_BATCHES 16
#define SEGMENT_BYTES (8u << 20)
#define SEQ_RESERVE (1ull << 20)
#define DEFAULT_HEARTBEAT_MS 5000
#define DROP_LOG_INTERVAL_NS (10ull * 1000000000ull)

struct mem_event {
	uint64_t seq;
	grpc_slice slice;
};

struct inflight {
	uint64_t last_seq;
	size_t bytes;
};

/* What the uplink applied for one fleet policy (persisted in fleet.state). */
struct applied {
	uint64_t id;
	char *name;
	char *ns;
	int mode; /* tetragon.TracingPolicyMode */
	bool enabled;
	char *error; /* the last add or configure failed: why */
};

struct uplink {
	struct agent *a;
	struct uplink_config cfg;
	struct uplink_feature *features; /* a copy of cfg's */
	char *dir; /* <state_dir>/fleet/<node> */
	int lock_fd;
	char *state_path;
	grpc_channel *ch;
	struct rpc_client_call *call;
	bool welcomed;
	bool stopping;
	unsigned pending_closes;
	void (*done)(void *);
	void *done_ud;

	uv_timer_t reconnect;
	uv_timer_t heartbeat;
	uv_timer_t status_timer;
	uv_prepare_t flush;
	unsigned attempt;
	unsigned heartbeat_ms;
	uint64_t last_recv_ns;

	struct event_sink sink;
	struct spool *spool;

	/* events not acknowledged: the spool holds the oldest, memory the rest */
	struct mem_event *mem;
	size_t mem_head, mem_len, mem_cap;
	uint64_t mem_bytes;
	uint64_t next_seq;
	uint64_t seq_reserved;
	uint64_t acked;
	uint64_t send_next;
	struct inflight *infl;
	size_t n_infl, cap_infl;
	size_t infl_bytes;
	struct sbuf batch_buf;
	struct batch *batch; /* the one being built */

	/* policies */
	struct applied *applied;
	size_t n_applied;
	uint64_t generation;

	/* counters */
	uint64_t connects, disconnects, events, sent, batches, dropped_mem, policy_errors;
	uint64_t drops_logged;
	uint64_t drop_log_at;
	char last_error[256];
};

/* ---------------------------------------------------------------------------------------- */
/* fleet.state: the sequence-number reservation and the applied policies */

static void applied_free(struct applied *p)
{
	free(p->name);
	free(p->ns);
	free(p->error);
	memset(p, 0, sizeof(*p));
}

static int state_save(struct uplink *u)
{
	_cleanup_free_ char *tmp = NULL;
	struct sbuf b;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp", u->state_path) < 0)
		return -ENOMEM;
	sbuf_init(&b);
	sbuf_printf(&b, "seq %" PRIu64 "\ngeneration %" PRIu64 "\n", u->seq_reserved,
		    u->generation);
	for (size_t i = 0; i < u->n_applied; i++) {
		const struct applied *p = &u->applied[i];

		if (p->error)
			continue; /* nothing was applied */
		sbuf_printf(&b, "policy %" PRIu64 " %d %d %s %s\n", p->id, p->mode, p->enabled,
			    *p->ns ? p->ns : "-", p->name);
	}
	if (b.oom) {
		sbuf_free(&b);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (write(fd, b.buf, b.len) != (ssize_t)b.len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (r == 0 && rename(tmp, u->state_path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
out:
	sbuf_free(&b);
	return r;
}

static int state_load(struct uplink *u)
{
	_cleanup_free_ char *data = NULL;
	char *save = NULL;
	size_t len;
	int r;

	r = read_file(u->state_path, 1 << 20, &data, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;
		char ns[256], name[256];
		int mode, en;

		if (sscanf(line, "seq %llu", &a) == 1) {
			u->seq_reserved = a;
		} else if (sscanf(line, "generation %llu", &b) == 1) {
			u->generation = b;
		} else if (sscanf(line, "policy %llu %d %d %255s %255s", &a, &mode, &en, ns,
				  name) == 5) {
			struct applied *p = realloc(u->applied, (u->n_applied + 1) * sizeof(*p));

			if (!p)
				return -ENOMEM;
			u->applied = p;
			p = &u->applied[u->n_applied];
			memset(p, 0, sizeof(*p));
			p->id = a;
			p->mode = mode;
			p->enabled = en != 0;
			p->name = strdup(name);
			p->ns = strdup(streq(ns, "-") ? "" : ns);
			if (!p->name || !p->ns) {
				applied_free(p);
				return -ENOMEM;
			}
			u->n_applied++;
		}
	}
	return 0;
}

static uint64_t take_seq(struct uplink *u)
{
	uint64_t seq = u->next_seq++;

	if (u->next_seq > u->seq_reserved) {
		/* reserve the next block before any number of it goes out */
		u->seq_reserved = u->next_seq + SEQ_RESERVE;
		if (state_save(u) < 0)
			log_warn("Failed to save the uplink state to '%s', ignoring",
				 u->state_path);
	}
	return seq;
}

/* ---------------------------------------------------------------------------------------- */
/* The event queue */

static struct mem_event *mem_at(struct uplink *u, size_t i)
{
	return &u->mem[(u->mem_head + i) % u->mem_cap];
}

static void mem_pop(struct uplink *u)
{
	struct mem_event *e = mem_at(u, 0);

	u->mem_bytes -= GRPC_SLICE_LENGTH(e->slice);
	grpc_slice_unref(e->slice);
	u->mem_head = (u->mem_head + 1) % u->mem_cap;
	u->mem_len--;
}

static uint64_t total_dropped(struct uplink *u)
{
	struct spool_stats st = { 0 };

	if (u->spool)
		spool_get_stats(u->spool, &st);
	return st.dropped + u->dropped_mem;
}

static void note_drops(struct uplink *u)
{
	uint64_t now = now_monotonic_ns(), d;

	if (now < u->drop_log_at)
		return;
	d = total_dropped(u);
	if (d > u->drops_logged) {
		log_warn("Uplink: %" PRIu64 " events lost so far because the spool is full or "
			 "failing (manager %s)",
			 d, u->welcomed ? "connected" : "unreachable");
		u->drops_logged = d;
		u->drop_log_at = now + DROP_LOG_INTERVAL_NS;
	}
}

/* Move the oldest events from memory to the spool until at most keep_bytes stay. */
static void spill(struct uplink *u, uint64_t keep_bytes)
{
	while (u->mem_len && u->mem_bytes > keep_bytes) {
		struct mem_event *e = mem_at(u, 0);

		if (e->seq > u->acked) {
			if (!u->spool) {
				u->dropped_mem++;
			} else {
				int r = spool_append(u->spool, e->seq,
						     GRPC_SLICE_START_PTR(e->slice),
						     GRPC_SLICE_LENGTH(e->slice));

				if (r == -E2BIG || r == -EINVAL)
					u->dropped_mem++; /* cannot be spooled at all */
			}
		}
		mem_pop(u);
	}
	note_drops(u);
}

static void pump(struct uplink *u);

static void on_event(struct event_sink *sink, struct agent_event *ev)
{
	struct uplink *u = container_of(sink, struct uplink, sink);
	grpc_slice s = agent_event_slice(ev);
	struct mem_event *e;

	u->events++;
	if (u->mem_len == u->mem_cap) {
		size_t cap = u->mem_cap ? u->mem_cap * 2 : 1024;
		struct mem_event *m = malloc(cap * sizeof(*m));

		if (!m) {
			u->dropped_mem++;
			take_seq(u);
			return;
		}
		for (size_t i = 0; i < u->mem_len; i++)
			m[i] = *mem_at(u, i);
		free(u->mem);
		u->mem = m;
		u->mem_cap = cap;
		u->mem_head = 0;
	}
	e = &u->mem[(u->mem_head + u->mem_len) % u->mem_cap];
	e->seq = take_seq(u);
	e->slice = grpc_slice_ref(s);
	u->mem_len++;
	u->mem_bytes += GRPC_SLICE_LENGTH(s);
	if (u->mem_bytes > u->cfg.memory_max_bytes)
		spill(u, u->cfg.memory_max_bytes / 4 * 3);
	if (u->welcomed && u->mem_len >= BATCH_MAX_EVENTS)
		pump(u);
}

/* Everything up to seq is stored at the manager. */
static void acknowledge(struct uplink *u, uint64_t seq)
{
	if (seq <= u->acked)
		return;
	u->acked = seq;
	while (u->mem_len && mem_at(u, 0)->seq <= seq)
		mem_pop(u);
	if (u->spool)
		spool_ack(u->spool, seq);
	while (u->n_infl && u->infl[0].last_seq <= seq) {
		u->infl_bytes -= u->infl[0].bytes;
		memmove(u->infl, u->infl + 1, (u->n_infl - 1) * sizeof(*u->infl));
		u->n_infl--;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* The sender */

struct batch {
	uint64_t first;
	uint64_t next; /* the sequence number the next record must have */
	size_t n;
	size_t bytes;
	ProtobufCBinaryData items[BATCH_MAX_EVENTS];
	size_t offs[BATCH_MAX_EVENTS];
	struct sbuf *buf;
};

static int from_spool(void *ud, uint64_t seq, const void *data, size_t len)
{
	struct batch *b = ud;

	if (b->n && seq != b->next)
		return 1; /* a gap: this batch ends before it */
	if (!b->n)
		b->first = seq;
	b->offs[b->n] = b->buf->len;
	b->items[b->n].len = len;
	sbuf_add(b->buf, data, len);
	b->n++;
	b->bytes += len;
	b->next = seq + 1;
	return b->n >= BATCH_MAX_EVENTS || b->bytes >= BATCH_MAX_BYTES;
}

static int send_batch(struct uplink *u, struct batch *b)
{
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__EventBatch eb = FLEET__EVENT_BATCH__INIT;
	struct inflight *in;
	int r;

	if (u->n_infl == u->cap_infl) {
		size_t cap = u->cap_infl ? u->cap_infl * 2 : 32;

		in = realloc(u->infl, cap * sizeof(*in));
		if (!in)
			return -ENOMEM;
		u->infl = in;
		u->cap_infl = cap;
	}
	am.msg_case = FLEET__AGENT_MESSAGE__MSG_EVENTS;
	am.events = &eb;
	eb.first_seq = b->first;
	eb.events = b->items;
	eb.n_events = b->n;
	r = rpc_client_call_send(u->call, &am.base);
	if (r < 0)
		return r;
	u->infl[u->n_infl].last_seq = b->first + b->n - 1;
	u->infl[u->n_infl].bytes = b->bytes;
	u->n_infl++;
	u->infl_bytes += b->bytes;
	u->send_next = b->first + b->n;
	u->sent += b->n;
	u->batches++;
	return 0;
}

static void pump(struct uplink *u)
{
	struct batch *b = u->batch;

	if (!u->welcomed || !u->call)
		return;
	while (u->infl_bytes < WINDOW_BYTES && u->n_infl < WINDOW_BATCHES) {
		uint64_t mem_first = u->mem_len ? mem_at(u, 0)->seq : u->next_seq;
		int r;

		memset(b, 0, offsetof(struct batch, items));
		b->buf = &u->batch_buf;
		sbuf_reset(b->buf);
		if (u->send_next < mem_first && u->spool &&
		    spool_last_seq(u->spool) >= u->send_next) {
			r = spool_read(u->spool, u->send_next, BATCH_MAX_EVENTS, BATCH_MAX_BYTES,
				       from_spool, b);
			if (r < 0) {
				log_warn_errno(r, "Uplink: failed to read the spool: %m");
				u->send_next = mem_first;
				continue;
			}
			if (b->buf->oom)
				return;
			for (size_t i = 0; i < b->n; i++)
				b->items[i].data = (uint8_t *)b->buf->buf + b->offs[i];
			if (!b->n) {
				u->send_next = mem_first;
				continue;
			}
		} else {
			size_t i = u->send_next > mem_first ? (size_t)(u->send_next - mem_first) :
							      0;

			if (i >= u->mem_len)
				return;
			b->first = mem_at(u, i)->seq;
			for (; i < u->mem_len && b->n < BATCH_MAX_EVENTS &&
			       b->bytes < BATCH_MAX_BYTES;
			     i++) {
				struct mem_event *e = mem_at(u, i);

				b->items[b->n].data = GRPC_SLICE_START_PTR(e->slice);
				b->items[b->n].len = GRPC_SLICE_LENGTH(e->slice);
				b->bytes += GRPC_SLICE_LENGTH(e->slice);
				b->n++;
			}
		}
		if (send_batch(u, b) < 0)
			return;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Policies */

static struct applied *applied_find(struct uplink *u, const char *name, const char *ns)
{
	for (size_t i = 0; i < u->n_applied; i++)
		if (streq(u->applied[i].name, name) && streq(u->applied[i].ns, ns ? ns : ""))
			return &u->applied[i];
	return NULL;
}

static void applied_forget(struct uplink *u, struct applied *p)
{
	size_t i = (size_t)(p - u->applied);

	applied_free(p);
	memmove(&u->applied[i], &u->applied[i + 1], (u->n_applied - i - 1) * sizeof(*p));
	u->n_applied--;
}

static struct applied *applied_get(struct uplink *u, const char *name, const char *ns)
{
	struct applied *p = applied_find(u, name, ns);

	if (p)
		return p;
	p = realloc(u->applied, (u->n_applied + 1) * sizeof(*p));
	if (!p)
		return NULL;
	u->applied = p;
	p = &u->applied[u->n_applied];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->ns = strdup(ns ? ns : "");
	if (!p->name || !p->ns) {
		applied_free(p);
		return NULL;
	}
	u->n_applied++;
	return p;
}

static enum policy_mode_req mode_req(int mode)
{
	return mode == TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR ? MODE_REQ_MONITOR :
									MODE_REQ_ENFORCE;
}

static bool runs(Tetragon__TracingPolicyStatus **list, size_t n, const char *name, const char *ns)
{
	for (size_t i = 0; i < n; i++)
		if (streq(list[i]->name, name) &&
		    streq(list[i]->namespace_ ? list[i]->namespace_ : "", ns ? ns : ""))
			return true;
	return false;
}

static void set_error(struct applied *p, char *err, const char *what, int r)
{
	free(p->error);
	if (err && *err) {
		p->error = err;
		return;
	}
	free(err);
	if (asprintf(&p->error, "%s: %s", what, strerror(-r)) < 0)
		p->error = NULL;
}

static void apply_one(struct uplink *u, Tetragon__TracingPolicyStatus **have, size_t n_have,
		      const Fleet__FleetPolicy *fp)
{
	struct agent *a = u->a;
	struct applied *p = applied_get(u, fp->name, fp->namespace_);
	bool present = runs(have, n_have, fp->name, fp->namespace_);
	char *err = NULL;
	int r;

	if (!p) {
		u->policy_errors++;
		return;
	}
	if (present && p->id == fp->id && !p->error) {
		/* the same YAML: flip mode and enabled, nothing is reloaded */
		if (p->mode == (int)fp->mode && p->enabled == fp->enabled)
			return;
		r = policies_configure(
			a, fp->name, fp->namespace_, POLICY_DOMAIN_FLEET, fp->enabled ? 1 : 0,
			p->mode == (int)fp->mode ? MODE_REQ_KEEP : mode_req(fp->mode), &err);
		if (r < 0) {
			u->policy_errors++;
			log_warn("Failed to configure fleet policy '%s': %s", fp->name,
				 err ? err : strerror(-r));
			set_error(p, err, "configure", r);
			return;
		}
		free(err);
		p->mode = (int)fp->mode;
		p->enabled = fp->enabled;
		return;
	}
	if (present) {
		r = policies_delete(a, fp->name, fp->namespace_, POLICY_DOMAIN_FLEET);
		if (r < 0 && r != -ENOENT)
			log_warn_errno(r, "Failed to replace fleet policy '%s': %m", fp->name);
	}
	r = policies_add(a, fp->yaml, strlen(fp->yaml), "fleet", POLICY_DOMAIN_FLEET,
			 mode_req(fp->mode), &err);
	if (r == 0 && !fp->enabled) {
		free(err);
		err = NULL;
		r = policies_configure(a, fp->name, fp->namespace_, POLICY_DOMAIN_FLEET, 0,
				       MODE_REQ_KEEP, &err);
	}
	p->id = fp->id;
	p->mode = (int)fp->mode;
	p->enabled = fp->enabled;
	if (r < 0) {
		u->policy_errors++;
		log_warn("Failed to load fleet policy '%s': %s", fp->name,
			 err ? err : strerror(-r));
		set_error(p, err, "load", r);
		return;
	}
	free(err);
	free(p->error);
	p->error = NULL;
	log_info("Applied fleet policy '%s' (%s%s)", fp->name,
		 fp->mode == TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR ? "monitor" : "enforce",
		 fp->enabled ? "" : ", disabled");
}

static void send_status(struct uplink *u);

static void apply_desired(struct uplink *u, const Fleet__DesiredState *ds)
{
	Tetragon__TracingPolicyStatus **have = NULL;
	size_t n_have = 0;
	int r;

	r = policies_status(u->a, POLICY_DOMAIN_FLEET, &have, &n_have);
	if (r < 0) {
		log_warn_errno(r, "Failed to list the fleet policies: %m");
		have = NULL;
		n_have = 0;
	}
	if (ds->full) {
		/* exactly the snapshot: whatever else is in the fleet domain goes */
		for (size_t i = 0; i < n_have; i++) {
			bool wanted = false;

			for (size_t k = 0; k < ds->n_policies && !wanted; k++)
				wanted = streq(ds->policies[k]->name, have[i]->name) &&
					 streq(ds->policies[k]->namespace_,
					       have[i]->namespace_ ? have[i]->namespace_ : "");
			if (!wanted) {
				r = policies_delete(u->a, have[i]->name, have[i]->namespace_,
						    POLICY_DOMAIN_FLEET);
				if (r < 0 && r != -ENOENT)
					log_warn_errno(r, "Failed to delete fleet policy '%s': %m",
						       have[i]->name);
				else
					log_info("Removed fleet policy '%s'", have[i]->name);
			}
		}
		for (size_t i = 0; i < u->n_applied;) {
			bool wanted = false;

			for (size_t k = 0; k < ds->n_policies && !wanted; k++)
				wanted = streq(ds->policies[k]->name, u->applied[i].name) &&
					 streq(ds->policies[k]->namespace_, u->applied[i].ns);
			if (wanted)
				i++;
			else
				applied_forget(u, &u->applied[i]);
		}
	} else {
		for (size_t i = 0; i < ds->n_removed; i++) {
			const Fleet__PolicyRef *ref = ds->removed[i];
			struct applied *p = applied_find(u, ref->name, ref->namespace_);

			if (runs(have, n_have, ref->name, ref->namespace_)) {
				r = policies_delete(u->a, ref->name, ref->namespace_,
						    POLICY_DOMAIN_FLEET);
				if (r < 0 && r != -ENOENT)
					log_warn_errno(r, "Failed to delete fleet policy '%s': %m",
						       ref->name);
				else
					log_info("Removed fleet policy '%s'", ref->name);
			}
			if (p)
				applied_forget(u, p);
		}
	}
	for (size_t i = 0; i < ds->n_policies; i++)
		apply_one(u, have, n_have, ds->policies[i]);
	if (have)
		policies_status_free(have, n_have);
	u->generation = ds->generation;
	if (state_save(u) < 0)
		log_warn("Failed to save the uplink state to '%s', ignoring", u->state_path);
	send_status(u);
}

/* The fleet domain's statuses, plus one for every policy that failed to load. */
static void send_status(struct uplink *u)
{
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__PolicyStatusReport rep = FLEET__POLICY_STATUS_REPORT__INIT;
	Tetragon__TracingPolicyStatus **have = NULL, **all = NULL, *failed = NULL;
	size_t n_have = 0, n = 0;

	if (!u->welcomed || !u->call)
		return;
	if (policies_status(u->a, POLICY_DOMAIN_FLEET, &have, &n_have) < 0) {
		have = NULL;
		n_have = 0;
	}
	all = calloc(n_have + u->n_applied + 1, sizeof(*all));
	failed = calloc(u->n_applied + 1, sizeof(*failed));
	if (!all || !failed)
		goto out;
	for (size_t i = 0; i < n_have; i++)
		all[n++] = have[i];
	for (size_t i = 0; i < u->n_applied; i++) {
		const struct applied *p = &u->applied[i];
		Tetragon__TracingPolicyStatus *st = &failed[i];

		if (!p->error || runs(have, n_have, p->name, p->ns))
			continue;
		tetragon__tracing_policy_status__init(st);
		st->name = p->name;
		st->namespace_ = p->ns;
		st->domain = POLICY_DOMAIN_FLEET;
		st->state = TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOAD_ERROR;
		st->error = p->error;
		st->mode = (Tetragon__TracingPolicyMode)p->mode;
		all[n++] = st;
	}
	am.msg_case = FLEET__AGENT_MESSAGE__MSG_STATUS;
	am.status = &rep;
	rep.generation = u->generation;
	rep.policies = all;
	rep.n_policies = n;
	rpc_client_call_send(u->call, &am.base);
out:
	free(all);
	free(failed);
	if (have)
		policies_status_free(have, n_have);
}

/* ---------------------------------------------------------------------------------------- */
/* The stream */

static void fill_counters(struct uplink *u, Fleet__AgentCounters *c)
{
	struct uplink_stats st;

	uplink_stats(u, &st);
	fleet__agent_counters__init(c);
	c->events = st.events;
	c->events_dropped = st.events_dropped;
	c->spool_bytes = st.spool_bytes;
	c->spool_events = st.spool_events;
	c->memory_events = st.memory_events;
	c->spool_errors = st.spool_errors;
	c->policy_errors = st.policy_errors;
}

static void on_welcome(struct uplink *u, const Fleet__Welcome *w)
{
	u->welcomed = true;
	u->attempt = 0;
	u->connects++;
	if (w->heartbeat_interval_ms >= 100 && w->heartbeat_interval_ms != u->heartbeat_ms) {
		u->heartbeat_ms = w->heartbeat_interval_ms;
		uv_timer_start(&u->heartbeat, u->heartbeat.timer_cb, u->heartbeat_ms,
			       u->heartbeat_ms);
	}
	if (w->committed_seq >= u->next_seq) {
		/*
		 * The manager holds numbers we have not used: the state here was lost (and the
		 * clock set back). What waits now has numbers the manager would take for
		 * replays: it is lost, and counted.
		 */
		log_warn("Uplink: the manager holds events up to %" PRIu64
			 " of this node, above ours (%" PRIu64 "); continuing above it, %zu "
			 "waiting events lost",
			 w->committed_seq, u->next_seq, u->mem_len);
		u->dropped_mem += u->mem_len;
		u->next_seq = w->committed_seq + 1;
		if (u->next_seq > u->seq_reserved) {
			u->seq_reserved = u->next_seq + SEQ_RESERVE;
			if (state_save(u) < 0)
				log_warn("Failed to save the uplink state to '%s', ignoring",
					 u->state_path);
		}
	}
	acknowledge(u, w->committed_seq);
	/* replay from the oldest event the manager does not have */
	u->send_next = u->acked + 1;
	u->n_infl = 0;
	u->infl_bytes = 0;
	{
		struct spool_stats ss = { 0 };

		if (u->spool)
			spool_get_stats(u->spool, &ss);
		log_info("Connected to manager %s (version %s); %" PRIu64
			 " events waiting to be sent",
			 u->cfg.address, w->manager_version, ss.records + u->mem_len);
	}
	pump(u);
}

static void on_message(struct rpc_client_call *c, const ProtobufCMessage *msg, void *ud)
{
	struct uplink *u = ud;
	const Fleet__ManagerMessage *mm = (const Fleet__ManagerMessage *)msg;

	if (c != u->call)
		return;
	u->last_recv_ns = now_monotonic_ns();
	switch (mm->msg_case) {
	case FLEET__MANAGER_MESSAGE__MSG_WELCOME:
		on_welcome(u, mm->welcome);
		break;
	case FLEET__MANAGER_MESSAGE__MSG_DESIRED:
		if (u->welcomed)
			apply_desired(u, mm->desired);
		break;
	case FLEET__MANAGER_MESSAGE__MSG_ACK:
		acknowledge(u, mm->ack->seq);
		pump(u);
		break;
	case FLEET__MANAGER_MESSAGE__MSG_HEARTBEAT:
	default:
		break;
	}
}

static void schedule_reconnect(struct uplink *u);
static void maybe_done(struct uplink *u);

static void on_close(struct rpc_client_call *c, const struct rpc_status *st, void *ud)
{
	struct uplink *u = ud;
	bool was = u->welcomed;

	if (c != u->call)
		return;
	u->welcomed = false;
	u->call = NULL;
	u->n_infl = 0;
	u->infl_bytes = 0;
	rpc_client_call_unref(c);
	if (was)
		u->disconnects++;
	snprintf(u->last_error, sizeof(u->last_error), "%s: %.200s", rpc_status_name(st->code),
		 st->message);
	if (u->stopping) {
		maybe_done(u);
		return;
	}
	if (was || u->attempt == 0)
		log_warn("Uplink to manager %s lost: %s: %s; reconnecting", u->cfg.address,
			 rpc_status_name(st->code), st->message);
	else
		log_debug("Uplink to manager %s: %s: %s", u->cfg.address, rpc_status_name(st->code),
			  st->message);
	schedule_reconnect(u);
}

/* Without the agent's probes: what sysfs says without loading anything. */
static size_t sysfs_features(struct uplink_feature *out)
{
	_cleanup_free_ char *lsm = NULL;
	size_t len;

	out[0].name = "btf";
	out[0].available = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	out[1].name = "bpf_lsm";
	out[1].available = read_file("/sys/kernel/security/lsm", 4096, &lsm, &len) == 0 &&
			   strstr(lsm, "bpf") != NULL;
	return 2;
}

static void connect_now(struct uplink *u)
{
	static const struct rpc_client_handlers handlers = {
		.on_message = on_message,
		.on_close = on_close,
	};
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__Hello h = FLEET__HELLO__INIT;
	Fleet__AgentCounters counters;
	Fleet__KernelFeature *feat = NULL, **featl = NULL;
	Tetragon__TracingPolicyStatus **have = NULL;
	size_t n_have = 0;
	struct uplink_feature sysfs[2];
	const struct uplink_feature *features = u->cfg.features;
	size_t n_features = u->cfg.n_features;
	struct utsname uts;
	int r;

	if (uname(&uts) < 0)
		snprintf(uts.release, sizeof(uts.release), "unknown");
	if (!features) {
		n_features = sysfs_features(sysfs);
		features = sysfs;
	}
	feat = calloc(n_features + 1, sizeof(*feat));
	featl = calloc(n_features + 1, sizeof(*featl));
	for (size_t i = 0; feat && featl && i < n_features; i++) {
		fleet__kernel_feature__init(&feat[i]);
		feat[i].name = (char *)features[i].name;
		feat[i].available = features[i].available;
		featl[i] = &feat[i];
		h.n_features++;
	}
	h.features = featl;
	if (policies_status(u->a, NULL, &have, &n_have) < 0) {
		have = NULL;
		n_have = 0;
	}
	fill_counters(u, &counters);
	am.msg_case = FLEET__AGENT_MESSAGE__MSG_HELLO;
	am.hello = &h;
	h.protocol_version = PROTOCOL_VERSION;
	h.node_name = (char *)u->cfg.node_name;
	h.agent_version = TETRA_VERSION;
	h.kernel_release = uts.release;
	h.policies = have;
	h.n_policies = n_have;
	h.applied_generation = u->generation;
	h.counters = &counters;
	h.first_seq = u->spool && spool_first_seq(u->spool) ? spool_first_seq(u->spool) :
		      u->mem_len			    ? mem_at(u, 0)->seq :
							      0;
	u->last_recv_ns = now_monotonic_ns();
	r = rpc_client_call_start(u->a->cq, u->ch, "/fleet.Fleet/Connect",
				  &fleet__manager_message__descriptor, NULL, &am.base, false,
				  &handlers, u, &u->call);
	if (have)
		policies_status_free(have, n_have);
	free(feat);
	free(featl);
	if (r < 0) {
		u->call = NULL;
		log_warn_errno(r, "Failed to start the uplink to manager %s: %m", u->cfg.address);
		schedule_reconnect(u);
	}
}

static void on_reconnect(uv_timer_t *t)
{
	struct uplink *u = t->data;

	if (!u->stopping && !u->call)
		connect_now(u);
}

static void schedule_reconnect(struct uplink *u)
{
	uint64_t base = u->cfg.backoff_min_ms, delay;
	uint32_t rnd = 0;

	for (unsigned i = 0; i < u->attempt && base < u->cfg.backoff_max_ms; i++)
		base *= 2;
	base = MIN(base, (uint64_t)u->cfg.backoff_max_ms);
	/* jitter: anywhere from half to all of it, so a fleet does not come back in step */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)now_monotonic_ns();
	delay = base / 2 + rnd % (base / 2 + 1);
	u->attempt++;
	uv_timer_start(&u->reconnect, on_reconnect, delay, 0);
}

static void on_heartbeat(uv_timer_t *t)
{
	struct uplink *u = t->data;
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__Heartbeat hb = FLEET__HEARTBEAT__INIT;
	Fleet__AgentCounters counters;

	note_drops(u);
	if (!u->call || !u->welcomed)
		return;
	if (now_monotonic_ns() - u->last_recv_ns > 3ull * u->heartbeat_ms * 1000000ull) {
		log_warn("Uplink: nothing from manager %s for %u ms; reconnecting", u->cfg.address,
			 3 * u->heartbeat_ms);
		rpc_client_call_cancel(u->call);
		return;
	}
	fill_counters(u, &counters);
	am.msg_case = FLEET__AGENT_MESSAGE__MSG_HEARTBEAT;
	am.heartbeat = &hb;
	hb.time_ns = now_realtime_ns();
	hb.counters = &counters;
	rpc_client_call_send(u->call, &am.base);
}

static void on_status_timer(uv_timer_t *t)
{
	send_status(t->data);
}

static void on_flush(uv_prepare_t *h)
{
	struct uplink *u = h->data;

	/* the manager is away: on disk, all of it (without a spool, memory holds what fits) */
	if (!u->welcomed && u->spool)
		spill(u, 0);
	if (u->spool && spool_flush(u->spool) < 0)
		note_drops(u);
	pump(u);
}

/* ---------------------------------------------------------------------------------------- */

/* The node name as a directory name: anything but [A-Za-z0-9._-] becomes '_'. */
static const char *node_dir_name(const char *node, char *buf, size_t size)
{
	size_t i;

	for (i = 0; node[i] && i + 1 < size; i++) {
		char c = node[i];

		buf[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					 (c >= '0' && c <= '9') || c == '.' || c == '-' ||
					 c == '_' ?
				 c :
				 '_';
	}
	buf[i] = '\0';
	if (streq(buf, ".") || streq(buf, ".."))
		buf[0] = '_';
	return buf;
}

static int lock_dir(struct uplink *u)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/lock", u->dir) < 0)
		return -ENOMEM;
	u->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (u->lock_fd < 0)
		return log_error_errno(-errno, "Failed to open '%s': %m", path);
	if (flock(u->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;

		if (r == -EWOULDBLOCK)
			return log_error_errno(r,
					       "Another agent runs as node '%s' with the state "
					       "directory '%s'",
					       u->cfg.node_name, u->cfg.state_dir);
		return log_error_errno(r, "Failed to lock '%s': %m", path);
	}
	return 0;
}

int uplink_start(struct agent *a, const struct uplink_config *cfg, struct uplink **ret)
{
	char name[256];
	struct spool_config sc = { 0 };
	_cleanup_free_ char *spool_dir = NULL;
	struct uplink *u;
	uint64_t now_us = now_realtime_ns() / 1000;
	int r;

	if (!cfg->address || !*cfg->address || !cfg->node_name || !*cfg->node_name ||
	    !cfg->state_dir)
		return log_error_errno(-EINVAL, "The uplink needs a manager address, a node name "
						"and a state directory");
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->a = a;
	u->cfg = *cfg;
	u->lock_fd = -1;
	if (!u->cfg.spool_max_bytes)
		u->cfg.spool_max_bytes = 256ull << 20;
	if (!u->cfg.memory_max_bytes)
		u->cfg.memory_max_bytes = 16ull << 20;
	if (!u->cfg.status_interval_ms)
		u->cfg.status_interval_ms = 10000;
	if (!u->cfg.backoff_min_ms)
		u->cfg.backoff_min_ms = 250;
	if (!u->cfg.backoff_max_ms)
		u->cfg.backoff_max_ms = 30000;
	u->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
	sbuf_init(&u->batch_buf);
	u->batch = malloc(sizeof(*u->batch));
	if (!u->batch) {
		r = -ENOMEM;
		goto err;
	}
	if (cfg->n_features) {
		u->features = calloc(cfg->n_features, sizeof(*u->features));
		if (!u->features) {
			r = -ENOMEM;
			goto err;
		}
		memcpy(u->features, cfg->features, cfg->n_features * sizeof(*u->features));
		u->cfg.features = u->features;
	}
	/* one directory per node name: agents of several nodes may share a state directory */
	if (asprintf(&u->dir, "%s/fleet/%s", cfg->state_dir,
		     node_dir_name(cfg->node_name, name, sizeof(name))) < 0) {
		u->dir = NULL;
		r = -ENOMEM;
		goto err;
	}
	r = mkdir_p(u->dir, 0700);
	if (r < 0) {
		log_error_errno(r, "Failed to create the uplink directory '%s': %m", u->dir);
		goto err;
	}
	r = lock_dir(u);
	if (r < 0)
		goto err;
	if (asprintf(&u->state_path, "%s/state", u->dir) < 0 ||
	    asprintf(&spool_dir, "%s/spool", u->dir) < 0) {
		u->state_path = NULL;
		r = -ENOMEM;
		goto err;
	}
	r = state_load(u);
	if (r < 0)
		log_warn_errno(r, "Failed to read '%s', starting afresh: %m", u->state_path);

	sc.dir = spool_dir;
	sc.max_bytes = u->cfg.spool_max_bytes;
	sc.segment_bytes = MIN((uint64_t)SEGMENT_BYTES, u->cfg.spool_max_bytes / 4);
	r = spool_open(&sc, &u->spool);
	if (r < 0) {
		/* events then wait in memory only, and what does not fit is counted as dropped */
		log_error_errno(r,
				"Failed to open the spool '%s', keeping events in memory only: %m",
				spool_dir);
		u->spool = NULL;
	} else {
		struct spool_stats st;

		spool_get_stats(u->spool, &st);
		if (st.records)
			log_info("Spool %s holds %" PRIu64 " events (%" PRIu64 " to %" PRIu64
				 ") to send",
				 spool_dir, st.records, st.first_seq, st.last_seq);
		if (st.recovered_bytes)
			log_warn("Spool %s: cut %" PRIu64 " bytes of torn records", spool_dir,
				 st.recovered_bytes);
	}
	u->next_seq = MAX(now_us, u->seq_reserved);
	if (u->spool)
		u->next_seq = MAX(u->next_seq, spool_last_seq(u->spool) + 1);
	u->seq_reserved = u->next_seq + SEQ_RESERVE;
	r = state_save(u);
	if (r < 0)
		log_warn_errno(r, "Failed to write '%s', ignoring: %m", u->state_path);

	if (tls_wanted(&cfg->tls)) {
		grpc_channel_credentials *creds = NULL;

		r = tls_channel_credentials(&cfg->tls, &creds);
		if (r < 0)
			goto err;
		u->ch = rpc_channel_new(cfg->address, creds, false);
		grpc_channel_credentials_release(creds);
	} else {
		u->ch = rpc_channel_new(cfg->address, NULL, false);
	}
	if (!u->ch) {
		r = log_error_errno(-EINVAL, "Failed to create a channel to manager '%s'",
				    cfg->address);
		goto err;
	}
	uv_timer_init(a->loop, &u->reconnect);
	uv_timer_init(a->loop, &u->heartbeat);
	uv_timer_init(a->loop, &u->status_timer);
	uv_prepare_init(a->loop, &u->flush);
	u->reconnect.data = u->heartbeat.data = u->status_timer.data = u->flush.data = u;
	uv_timer_start(&u->heartbeat, on_heartbeat, u->heartbeat_ms, u->heartbeat_ms);
	uv_timer_start(&u->status_timer, on_status_timer, u->cfg.status_interval_ms,
		       u->cfg.status_interval_ms);
	uv_prepare_start(&u->flush, on_flush);
	u->sink.fn = on_event;
	bus_subscribe(&a->bus, &u->sink);
	log_info("Uplink to manager %s as node '%s' (events from %" PRIu64 ")", cfg->address,
		 cfg->node_name, u->next_seq);
	connect_now(u);
	*ret = u;
	return 0;
err:
	u->spool = spool_close(u->spool);
	sbuf_free(&u->batch_buf);
	free(u->batch);
	free(u->features);
	free(u->dir);
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	free(u->state_path);
	free(u);
	return r;
}

static void finish(struct uplink *u)
{
	void (*done)(void *) = u->done;
	void *ud = u->done_ud;

	/* what the manager did not acknowledge waits on disk for the next start */
	spill(u, 0);
	u->spool = spool_close(u->spool);
	while (u->mem_len)
		mem_pop(u);
	free(u->mem);
	free(u->infl);
	for (size_t i = 0; i < u->n_applied; i++)
		applied_free(&u->applied[i]);
	free(u->applied);
	if (u->ch)
		grpc_channel_destroy(u->ch);
	sbuf_free(&u->batch_buf);
	free(u->batch);
	free(u->features);
	free(u->dir);
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	free(u->state_path);
	free(u);
	if (done)
		done(ud);
}

static void maybe_done(struct uplink *u)
{
	if (u->stopping && !u->call && u->pending_closes == 0)
		finish(u);
}

static void handle_closed(uv_handle_t *h)
{
	struct uplink *u = h->data;

	u->pending_closes--;
	maybe_done(u);
}

void uplink_stop(struct uplink *u, void (*done)(void *), void *ud)
{
	if (u->stopping)
		return;
	u->stopping = true;
	u->done = done;
	u->done_ud = ud;
	bus_unsubscribe(&u->a->bus, &u->sink);
	u->pending_closes = 4;
	uv_close((uv_handle_t *)&u->reconnect, handle_closed);
	uv_close((uv_handle_t *)&u->heartbeat, handle_closed);
	uv_close((uv_handle_t *)&u->status_timer, handle_closed);
	uv_close((uv_handle_t *)&u->flush, handle_closed);
	if (u->call)
		rpc_client_call_cancel(u->call);
}

int uplink_stats(struct uplink *u, struct uplink_stats *st)
{
	struct spool_stats ss = { 0 };

	memset(st, 0, sizeof(*st));
	if (u->spool)
		spool_get_stats(u->spool, &ss);
	st->connected = u->welcomed;
	st->connects = u->connects;
	st->disconnects = u->disconnects;
	st->events = u->events;
	st->events_sent = u->sent;
	st->events_dropped = ss.dropped + u->dropped_mem;
	st->batches_sent = u->batches;
	st->acked_seq = u->acked;
	st->next_seq = u->next_seq;
	st->memory_events = u->mem_len;
	st->memory_bytes = u->mem_bytes;
	st->spool_events = ss.records;
	st->spool_bytes = ss.bytes;
	st->spool_errors = ss.write_errors;
	st->policy_errors = u->policy_errors;
	st->generation = u->generation;
	return 0;
}
