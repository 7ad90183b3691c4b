/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manager's SQLite database: the fleet's policies, the nodes and what each node reports
 * about them, and the event history.
 *
 * One file in WAL mode, two connections on the loop thread:
 *  - "pol" writes the policies and the desired-state generation with synchronous=FULL: a
 *    policy change is on disk (WAL fsync'ed) before the caller hears it succeeded.
 *  - "ev" writes events, nodes and node statuses with synchronous=NORMAL, in one open
 *    transaction that store_commit() ends (the manager commits right before its loop
 *    sleeps). A NORMAL commit survives a crash of the process but not of the machine, so
 *    durability comes from store_sync(): an fdatasync() of the WAL file, done by a worker
 *    thread, one for every group of commits. The manager acknowledges events only once the
 *    sync that covers their commit is done. synchronous is a per-connection setting, which
 *    is why the two writers are two connections and never one connection that is switched.
 * The two never write at the same time: every policy write first commits the open event
 * transaction. History queries use their own read-only connections (struct store_reader), on
 * worker threads, so a slow query never stalls ingest.
 *
 * Library code: returns 0 or a negative errno, and puts SQLite's message in store_errmsg().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 3

struct store;

/*
 * Open (creating when missing) and migrate the database at path. On success *ret owns the
 * store; release it with store_close(). On failure err gets a message such as
 * "cannot open '/x/manager.db': unable to open database file" or "the database has schema
 * version 7; this manager knows up to 2". Returns -EACCES, -ENOENT, -EROFS, -EPROTO (newer
 * schema), -EIO...
 */
int store_open(const char *path, struct store **ret, char *err, size_t errlen);
/* Migrate only up to version (tests); store_open() migrates to STORE_SCHEMA_VERSION. */
int store_open_version(const char *path, int version, struct store **ret, char *err, size_t errlen);
/* Commit what is open and close. NULL-safe; returns NULL. */
struct store *store_close(struct store *s);
const char *store_errmsg(struct store *s);
int store_schema_version(struct store *s);
const char *store_path(struct store *s);

/* ---------------------------------------------------------------------------------------- */
/* Policies (the "pol" connection, synchronous=FULL). */

struct store_policy {
	int64_t id; /* never reused (AUTOINCREMENT) */
	char *name;
	char *namespace; /* "" for a cluster-wide TracingPolicy */
	char *yaml;
	int mode; /* tetragon.TracingPolicyMode: 1 enforce, 2 monitor */
	bool enabled;
	uint64_t generation; /* of its last change */
	uint64_t created_ns;
	uint64_t updated_ns;
};

/* The current desired-state generation (0 on a new database). */
uint64_t store_generation(struct store *s);

/*
 * Add a policy at a new generation. On success *ret (may be NULL) owns a copy of the new row:
 * release it with store_policy_free(). -EEXIST when (name, namespace) exists.
 */
int store_policy_add(struct store *s, const char *name, const char *ns, const char *yaml, int mode,
		     bool enabled, struct store_policy **ret);
/* -ENOENT when there is no such policy. *generation (may be NULL) gets the new generation. */
int store_policy_delete(struct store *s, const char *name, const char *ns, uint64_t *generation);
/*
 * Change enabled (-1 keeps it) and/or mode (-1 keeps it). A change that changes nothing
 * bumps no generation and returns 0 with *ret describing the row as it is. -ENOENT when
 * there is no such policy.
 */
int store_policy_configure(struct store *s, const char *name, const char *ns, int enabled, int mode,
			   struct store_policy **ret);
/* Every policy, ordered by id. *ret is an array of *n pointers; store_policies_free() it. */
int store_policies_load(struct store *s, struct store_policy ***ret, size_t *n);
struct store_policy *store_policy_free(struct store_policy *p);
void store_policies_free(struct store_policy **list, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Nodes and their policy statuses (the "ev" connection, in the open transaction). */

struct store_node {
	int64_t id;
	char *name;
	uint64_t first_seen_ns;
	uint64_t last_seen_ns;
	bool online;
	char *agent_version;
	char *kernel_release;
	char *features; /* "name=1,name=0,..." */
	char *peer;
	uint64_t applied_generation;
	uint64_t events_stored;
	uint64_t events_dropped; /* reported by the agent */
	uint64_t events_duplicate;
	uint64_t last_seq;
};

/* The node called name, created (first seen now) when it is new. */
int store_node_get(struct store *s, const char *name, uint64_t now_ns, int64_t *id);
/*
 * Write a node's descriptive fields (online, last_seen, agent_version, kernel_release,
 * features, peer, applied_generation, events_dropped) from n; id and name select it.
 * The counters the store keeps itself (events_stored, events_duplicate, last_seq) are not
 * taken from n.
 */
int store_node_update(struct store *s, const struct store_node *n);
/* Every node, ordered by name, with the store's counters as they are now. */
int store_nodes_load(struct store *s, struct store_node ***ret, size_t *n);
struct store_node *store_node_free(struct store_node *n);
void store_nodes_free(struct store_node **list, size_t n);
/* Mark every node offline (at start-up: no stream survives a restart). */
int store_nodes_all_offline(struct store *s, uint64_t now_ns);

struct store_status {
	int64_t node_id;
	char *name;
	char *namespace;
	uint64_t generation;
	int state; /* tetragon.TracingPolicyState */
	void *status; /* packed tetragon.TracingPolicyStatus */
	size_t status_len;
	uint64_t updated_ns;
};

/* Replace every status row of node_id with list (name, namespace, generation, state, status). */
int store_status_replace(struct store *s, int64_t node_id, const struct store_status *list,
			 size_t n, uint64_t now_ns);
int store_status_load(struct store *s, struct store_status **ret, size_t *n);
void store_status_free(struct store_status *list, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Events (the "ev" connection). */

struct store_event {
	int64_t node_id;
	uint64_t seq;
	uint64_t time_ns;
	int type; /* tetragon.EventType */
	const char *policy; /* NULL: none */
	const char *binary; /* NULL: none */
	uint32_t pid;
	bool has_pid;
	const char *exec_id; /* NULL: none */
	int action; /* tetragon.KprobeAction, 0: none */
	const void *data; /* the packed tetragon.GetEventsResponse */
	size_t len;
};

/*
 * Insert into the open transaction (opening one when needed). Returns 1 when stored, 0 when
 * (node_id, seq) is stored already (counted as a duplicate), or a negative errno. A node's
 * events arrive in sequence order, so one at or below the node's last stored sequence
 * number is known to be a duplicate without a look at the table; UNIQUE (node_id, seq)
 * catches any other.
 */
int store_event_insert(struct store *s, const struct store_event *e);

/*
 * Commit the open transaction, if any. Returns 0 or a negative errno; on failure the
 * transaction is rolled back and every insert since the last commit is gone (the epoch
 * that failed is then reported by store_failed_epoch()).
 */
int store_commit(struct store *s);
bool store_in_transaction(struct store *s);
/* Events inserted in the open transaction (0 when none is open). */
unsigned store_transaction_rows(struct store *s);
/*
 * Epochs number the commits: what is inserted now becomes durable with the commit of epoch
 * store_open_epoch(), and a sync started after that commit covers it.
 */
uint64_t store_open_epoch(struct store *s);
uint64_t store_committed_epoch(struct store *s);
uint64_t store_failed_epoch(struct store *s);
/*
 * Make every commit made before the call durable (fdatasync of the WAL). Thread-safe: the
 * manager runs it on a worker thread while the loop goes on committing.
 */
int store_sync(struct store *s);
/*
 * Checkpoints: whether enough of the WAL waits to be copied into the database file, and
 * the copy (PASSIVE: it never blocks the writer). Thread-safe, for a worker thread; the
 * loop thread checkpoints by itself only when the WAL grows far beyond that.
 */
bool store_checkpoint_due(struct store *s);
int store_checkpoint(struct store *s);

/*
 * An event's row id is its time, in microseconds shifted left by STORE_ID_SHIFT: the table
 * is in time order, and the low bits keep events of the same microsecond apart.
 */
#define STORE_ID_SHIFT 10
#define STORE_MAX_TIME_US ((1ull << (63 - STORE_ID_SHIFT)) - 1)
int64_t store_event_id(uint64_t time_ns);
uint64_t store_id_time_ns(int64_t id);

/* Events stored now, all nodes. */
uint64_t store_event_count(struct store *s);
/* The store's counters of one node (0 for an unknown id). */
uint64_t store_node_event_count(struct store *s, int64_t node_id);
uint64_t store_node_last_seq(struct store *s, int64_t node_id);
/* Events of the node received again and not stored a second time. */
uint64_t store_node_duplicates(struct store *s, int64_t node_id);
/* Count one such event that the caller recognised itself (written with the next commit). */
void store_node_duplicate(struct store *s, int64_t node_id);

/*
 * Retention, one small step in the open transaction: delete at most chunk events older than
 * min_time_ns (0: no age limit), else at most chunk of the oldest while more than
 * max_events are stored (0: no count limit). *deleted gets the number deleted; call again
 * while it equals chunk. Both walk the table from its oldest row.
 */
int store_retention_step(struct store *s, uint64_t min_time_ns, uint64_t max_events, unsigned chunk,
			 unsigned *deleted);

/* ---------------------------------------------------------------------------------------- */
/* History queries: read-only connections for worker threads. */

struct store_reader;

int store_reader_open(const char *path, struct store_reader **ret, char *err, size_t errlen);
struct store_reader *store_reader_close(struct store_reader *r);

struct store_cursor {
	int64_t id;
	uint64_t time_ns; /* the row's time, to the microsecond */
};

struct store_query {
	uint64_t since_ns; /* inclusive; 0: none */
	uint64_t until_ns; /* exclusive; 0: none */
	char **nodes;
	size_t n_nodes;
	const int *types;
	size_t n_types;
	char **policies;
	size_t n_policies;
	const char *binary_regex; /* POSIX ERE; NULL or "": none */
	const uint32_t *pids;
	size_t n_pids;
	const char *exec_id; /* NULL or "": none */
	const int *actions;
	size_t n_actions;
	bool oldest_first;
	unsigned limit;
	bool has_cursor;
	struct store_cursor cursor; /* rows strictly after it in the query's order */
	uint64_t timeout_ms; /* 0: none */
};

/*
 * Run q; fn gets each row in order and returns 0 to go on or 1 to stop early. Returns the
 * number of rows given to fn, -EINVAL (a bad regular expression, err says why), -ETIMEDOUT,
 * or another negative errno.
 */
int store_query_events(struct store_reader *r, const struct store_query *q,
		       int (*fn)(void *ud, const struct store_cursor *at, const void *data,
				 size_t len),
		       void *ud, char *err, size_t errlen);

/* Cursors as text for the API: the row id in decimal. */
void store_cursor_format(const struct store_cursor *c, char *buf, size_t size);
int store_cursor_parse(const char *s, struct store_cursor *c);
