/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tetragon-manager: what its parts share. One libuv loop thread owns all of it; worker
 * threads only run store_sync() and history queries on their own connections.
 *
 *   fleet.c    the desired state (policies), the nodes and their reported statuses
 *   session.c  one agent's Connect stream: hello, desired state, statuses, events, acks
 *   durable.c  commit before the loop sleeps, sync on a worker, then ack
 *   api.c      the gRPC services: FineGuidanceSensors, FleetQuery, Diagnostics
 *   ingest.c   the indexed columns of an event, and its node name
 *   store.c    SQLite
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "fleet/diagnostics.pb-c.h"
#include "fleet/fleet.pb-c.h"
#include "lib/htable.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "manager/store.h"
#include "tetragon/sensors.pb-c.h"

#define MANAGER_DEFAULT_LISTEN "0.0.0.0:54322"
#define MANAGER_DEFAULT_DB "/var/lib/tetragon-manager/manager.db"
#define MANAGER_PROTOCOL_VERSION 1
#define MANAGER_MAX_QUERIES 4 /* history queries running at once, each on a worker thread */

struct manager_config {
	const char *listen;
	const char *db_path;
	uint64_t retention_age_ns; /* 0: keep forever */
	uint64_t retention_events; /* 0: no limit */
	unsigned heartbeat_ms;
	size_t subscriber_queue; /* events queued per GetEvents subscriber before drops */
	unsigned query_timeout_ms;
	unsigned retention_chunk;
	struct tls_files tls; /* no file: plaintext */
	bool tls_any_node_name; /* mutual TLS without matching node names to certificates */
};

/* What a node last reported about one fleet policy. */
struct node_status {
	Tetragon__TracingPolicyStatus *st; /* unpacked copy, owned */
	uint64_t updated_ns;
};

struct session;

struct node {
	struct hnode hn; /* by name */
	int64_t id;
	char *name;
	struct session *session; /* NULL while offline */
	uint64_t first_seen_ns;
	uint64_t last_seen_ns;
	char *agent_version;
	char *kernel_release;
	char *features;
	char *peer;
	uint64_t applied_generation; /* of its last status report */
	uint64_t acked_seq; /* every event up to it is durably stored */
	Fleet__AgentCounters counters; /* scalars only */
	struct node_status *status;
	size_t n_status;
	bool dirty; /* descriptive fields to write at the next heartbeat tick */
};

struct manager_stats {
	uint64_t sessions;
	uint64_t sessions_replaced;
	uint64_t sessions_timed_out;
	uint64_t identity_refused; /* mTLS: a node name its certificate does not hold */
	uint64_t protocol_errors;
	uint64_t events_received;
	uint64_t events_stored;
	uint64_t events_duplicate;
	uint64_t events_undecodable;
	uint64_t events_renamed; /* node_name set to the node the stream belongs to */
	uint64_t batches;
	uint64_t acks;
	uint64_t commits;
	uint64_t commit_errors;
	uint64_t syncs;
	uint64_t sync_errors;
	uint64_t checkpoints;
	uint64_t checkpoint_errors;
	uint64_t retention_deleted;
	uint64_t retention_errors;
	uint64_t store_errors;
	uint64_t status_reports;
	uint64_t policy_pushes;
	uint64_t push_failures; /* a session's send queue was full: the session was ended */
	uint64_t subscribers;
	uint64_t subscriber_drops; /* of subscribers that have gone */
	uint64_t queries;
	uint64_t query_errors;
};

struct rpc_cq;
struct rpc_server;
struct subscriber;
struct query_job;

struct manager {
	uv_loop_t *loop;
	struct manager_config cfg;
	struct store *store;
	struct rpc_cq *cq;
	struct rpc_server *server;
	uint64_t start_ns;

	/* the desired state, ordered by id */
	struct store_policy **policies;
	size_t n_policies;

	/* every node ever seen */
	struct htable nodes_by_name;
	struct node **nodes;
	size_t n_nodes;
	struct session *sessions;

	struct subscriber *subscribers;

	/* commit before the loop sleeps; sync on a worker; ack after the sync */
	uv_prepare_t commit;
	uv_work_t sync_work;
	bool sync_running;
	uv_work_t ckpt_work;
	bool ckpt_running;
	int ckpt_result;
	uint64_t sync_retry_at;
	int sync_result;
	uint64_t sync_target;
	uint64_t synced_epoch;
	uv_timer_t heartbeat;
	uv_timer_t retention;
	bool retention_behind;

	/* history queries */
	struct query_job *queries_waiting;
	unsigned queries_running;
	void *readers[MANAGER_MAX_QUERIES]; /* struct store_reader *, reused */
	uv_mutex_t readers_lock;

	uv_signal_t sigint, sigterm;
	bool stopping;
	int exit_code;
	struct manager_stats stats;
};

/* fleet.c ---------------------------------------------------------------------------------- */

/*
 * Load the policies, nodes and statuses from m->store (all nodes start offline) into m,
 * which owns them until fleet_free().
 */
int fleet_load(struct manager *m);
void fleet_free(struct manager *m);

/* The node called name, or NULL; owned by m (nodes are never removed). */
struct node *fleet_node_find(struct manager *m, const char *name);
/* The node called name, created (and stored) when new; owned by m. */
int fleet_node_get(struct manager *m, const char *name, struct node **ret);
/* Replace what node reported (a copy is taken of each status of the fleet domain). */
int fleet_node_set_status(struct manager *m, struct node *n, uint64_t generation,
			  Tetragon__TracingPolicyStatus *const *list, size_t count);
/* Write the node's descriptive fields to the store now. */
int fleet_node_save(struct manager *m, struct node *n);

/* The desired-state policy (name, ns), or NULL; owned by m, valid until the next change. */
struct store_policy *fleet_policy_find(struct manager *m, const char *name, const char *ns);

/*
 * The policy RPCs, applied fleet-wide: each returns a gRPC status code, and *msg (malloc'ed,
 * the caller frees it) says why when it is not OK.
 */
int fleet_policy_add(struct manager *m, const char *yaml, size_t len, char **msg);
int fleet_policy_delete(struct manager *m, const char *name, const char *ns, char **msg);
/* enable: -1 keep, 0, 1; mode: -1 keep, or a tetragon.TracingPolicyMode. */
int fleet_policy_configure(struct manager *m, const char *name, const char *ns, int enable,
			   int mode, char **msg);

/* How a node stands with a policy. */
enum node_policy_state {
	NODE_POLICY_OK, /* reported at the current generation, as desired */
	NODE_POLICY_ERROR, /* reported an error */
	NODE_POLICY_PENDING, /* not (yet) reported as desired */
};

enum node_policy_state fleet_node_policy_state(const struct node *n, const struct store_policy *p,
					       const Tetragon__TracingPolicyStatus **st);
/*
 * The fleet state of p folded into a TracingPolicyStatus (state, info "3/3 enabled", mode,
 * summed counters). Strings in *out are owned by *buf; release both with
 * fleet_status_fold_free().
 */
struct fold_buf {
	char *info;
	char *error;
	Tetragon__TracingPolicyStats stats;
	Tetragon__TracingPolicyActionCounters counters;
};
void fleet_status_fold(struct manager *m, const struct store_policy *p,
		       Tetragon__TracingPolicyStatus *out, struct fold_buf *buf);
void fleet_status_fold_free(struct fold_buf *buf);

/* A FleetPolicy message for p (pointing into p). */
void fleet_policy_message(const struct store_policy *p, Fleet__FleetPolicy *out);

/* durable.c -------------------------------------------------------------------------------- */

#define DURABLE_MAX_ROWS 4096 /* events in one transaction before it is committed */

/* Commit the open transaction (right before the loop sleeps). */
void durable_commit(struct manager *m);
/* Start a sync of what is committed, unless one runs; acks follow when it is done. */
void durable_sync(struct manager *m);
/* After a batch of events: commit and sync early when the transaction is big. */
void durable_batch_done(struct manager *m);

/* session.c -------------------------------------------------------------------------------- */

struct rpc_call;

/* fleet.Fleet/Connect */
void session_connect(struct rpc_call *call, const ProtobufCMessage *req, void *userdata);
/* Send a packed ManagerMessage(DesiredState delta) to every session past its hello. */
void session_broadcast(struct manager *m, const Fleet__ManagerMessage *msg);
/* Heartbeats out, silent streams ended, dirty nodes saved. */
void session_tick(struct manager *m);
/* Acks for everything made durable up to m->synced_epoch. */
void session_deliver_acks(struct manager *m);
/* The commit of epoch failed: end the streams whose events were in it (they replay them). */
void session_commit_failed(struct manager *m, uint64_t epoch);
/* Streams open now. */
size_t session_count(struct manager *m);

/* ingest.c --------------------------------------------------------------------------------- */

/* An event as the manager stores it. */
struct ingest_event {
	struct store_event e; /* the columns; strings point into strings, data at the event */
	const char *node_name; /* "" when the event has none */
	struct sbuf strings;
};

/*
 * Read the columns of the packed tetragon.GetEventsResponse in data (which must outlive
 * ie->e) without decoding it; time falls back to now_ns. Returns -EBADMSG for an encoding
 * that protobuf-c would not decode (nothing of it is stored then).
 */
int ingest_scan(const void *data, size_t len, uint64_t now_ns, struct ingest_event *ie);
/*
 * When the event's node_name is not node, append a node_name field to its encoding (a
 * later occurrence of a field wins when protobuf is decoded) into out, and point ie at it.
 * Returns true when it did.
 */
bool ingest_set_node(struct ingest_event *ie, const char *node, struct sbuf *out);

/* api.c ------------------------------------------------------------------------------------ */

/* Create the server (m->server), listen on m->cfg.listen and serve. */
int api_start(struct manager *m);
/* Cancel every call; done(ud) runs once the server is gone (m->server is NULL at once). */
void api_stop(struct manager *m, void (*done)(void *ud), void *ud);
/* Hand a stored event to every live GetEvents subscriber whose filters match. */
void api_publish(struct manager *m, const Tetragon__GetEventsResponse *ev, const void *data,
		 size_t len);
/* The manager's counters, for fleet.Diagnostics/GetStats; release with api_stats_free(). */
int api_stats_fill(struct manager *m, Fleet__GetStatsResponse *resp);
void api_stats_free(Fleet__GetStatsResponse *resp);
/* Answer the queries that wait for a worker UNAVAILABLE, and close the idle readers. */
void api_queries_free(struct manager *m);
