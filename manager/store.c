// SPDX-License-Identifier: Apache-2.0
/*
 * The manager's SQLite store. See store.h for the two connections and how events are made
 * durable; this file keeps to it: "pol" (synchronous=FULL) only ever writes the policies
 * table and the generation, "ev" (synchronous=NORMAL) everything else, in one transaction
 * that stays open until store_commit().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/util.h"
#include "manager/store.h"

/*
 * Schema migrations: migrations[i] takes a database from user_version i to i + 1. Never edit
 * one that has shipped; add the next.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the tables */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES ('generation', 0);"
	"CREATE TABLE policies ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL,"
	"  namespace TEXT NOT NULL DEFAULT '',"
	"  yaml TEXT NOT NULL,"
	"  mode INTEGER NOT NULL,"
	"  enabled INTEGER NOT NULL,"
	"  generation INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  UNIQUE (name, namespace)"
	");"
	"CREATE TABLE nodes ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  online INTEGER NOT NULL DEFAULT 0,"
	"  agent_version TEXT NOT NULL DEFAULT '',"
	"  kernel_release TEXT NOT NULL DEFAULT '',"
	"  features TEXT NOT NULL DEFAULT '',"
	"  peer TEXT NOT NULL DEFAULT '',"
	"  applied_generation INTEGER NOT NULL DEFAULT 0,"
	"  events_stored INTEGER NOT NULL DEFAULT 0,"
	"  events_dropped INTEGER NOT NULL DEFAULT 0,"
	"  events_duplicate INTEGER NOT NULL DEFAULT 0,"
	"  last_seq INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE node_policy_status ("
	"  node_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  namespace TEXT NOT NULL,"
	"  generation INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  status BLOB NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (node_id, name, namespace)"
	") WITHOUT ROWID;"
	/* id: the event's time, see store_event_id() */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  policy TEXT,"
	"  binary TEXT,"
	"  pid INTEGER,"
	"  exec_id TEXT,"
	"  action INTEGER,"
	"  data BLOB NOT NULL,"
	"  UNIQUE (node_id, seq)"
	");",
	/*
	 * 1 -> 2: the indexes of the history queries (bench/manager_store measures them). The
	 * table itself is in time order (the id is the time), and every index ends with the
	 * id, so node, type, policy and pid each give their events newest first with no sort;
	 * exec_id finds one process. The type and policy indexes are partial: most events are
	 * exec and exit events (types 1 and 5, which a scan of the table finds at once), and
	 * those have no policy.
	 */
	"CREATE INDEX events_node ON events (node_id);"
	"CREATE INDEX events_type ON events (type) WHERE type > 5;"
	"CREATE INDEX events_policy ON events (policy) WHERE policy IS NOT NULL;"
	"CREATE INDEX events_exec_id ON events (exec_id);"
	"CREATE INDEX events_pid ON events (pid);",
	/*
	 * 2 -> 3: faster ingest (bench/manager_store: ~90k -> ~107k events/s). No UNIQUE
	 * (node_id, seq) index: a node's events arrive in sequence order and nodes.last_seq,
	 * written in the same transaction as the events, drops a replay before it reaches the
	 * table. (A hash of exec_id as a smaller index key was tried: random keys scatter the
	 * inserts over the index and ingest fell to a quarter; exec_ids start with the node
	 * and the time, so their index grows at a few places only.)
	 */
	"CREATE TABLE events_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  policy TEXT,"
	"  binary TEXT,"
	"  pid INTEGER,"
	"  exec_id TEXT,"
	"  action INTEGER,"
	"  data BLOB NOT NULL"
	");"
	"INSERT INTO events_v3 SELECT id, node_id, seq, type, policy, binary, pid, exec_id,"
	"  action, data FROM events ORDER BY id;"
	"DROP TABLE events;"
	"ALTER TABLE events_v3 RENAME TO events;"
	"CREATE INDEX events_node ON events (node_id);"
	"CREATE INDEX events_type ON events (type) WHERE type > 5;"
	"CREATE INDEX events_policy ON events (policy) WHERE policy IS NOT NULL;"
	"CREATE INDEX events_exec_id ON events (exec_id);"
	"CREATE INDEX events_pid ON events (pid);",
};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION, "one migration per version");

struct node_ctr {
	uint64_t stored;
	uint64_t dup;
	uint64_t last_seq;
	int64_t d_stored; /* in the open transaction */
	uint64_t d_dup;
	uint64_t d_last_seq;
	bool dirty;
	bool known;
};

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_NODE_CTR,
	ST_MAX_ID,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT] =
		"INSERT INTO events (id, node_id, seq, type, policy, binary, pid, exec_id, action, "
		"data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_NODE_CTR] = "UPDATE nodes SET events_stored = ?, events_duplicate = ?, last_seq = ? "
			"WHERE id = ?",
	[ST_MAX_ID] = "SELECT max(id) FROM events WHERE id BETWEEN ? AND ?",
};

struct store {
	sqlite3 *pol;
	sqlite3 *ev;
	sqlite3_stmt *stmt[ST_COUNT];
	char *path;
	char *wal_path;
	int version;
	uint64_t generation;
	bool in_txn;
	unsigned txn_rows; /* events inserted in the open transaction */
	uint64_t committed_epoch;
	uint64_t failed_epoch;
	struct node_ctr *ctr;
	size_t n_ctr;
	uint64_t total;
	int64_t d_total;
	pthread_mutex_t sync_lock; /* wal_fd, for store_sync() on a worker thread */
	pthread_mutex_t ckpt_lock; /* ckpt, for store_checkpoint() on a worker thread */
	int wal_fd;
	sqlite3 *ckpt; /* checkpoints, on the sync worker */
	int wal_frames; /* frames in the WAL after the last commit (atomic) */
	int backfilled; /* frames the last checkpoint copied (sync worker) */
	char err[512];
};

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_INTERRUPT:
		return -ETIMEDOUT;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

static int fail(struct store *s, sqlite3 *db, int rc, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what,
		 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return sqlite_errno(rc) ?: -EIO;
}

const char *store_errmsg(struct store *s)
{
	return s->err;
}

int store_schema_version(struct store *s)
{
	return s->version;
}

const char *store_path(struct store *s)
{
	return s->path;
}

static int exec(struct store *s, sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sqlite_errno(rc) ?: -EIO;
	}
	return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int open_conn(struct store *s, const char *path, int flags, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int sys = db ? sqlite3_system_errno(db) : 0;

		snprintf(s->err, sizeof(s->err), "cannot open '%s': %s%s%s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), sys ? ": " : "",
			 sys ? strerror(sys) : "");
		sqlite3_close(db);
		if (sys == EACCES || sys == EPERM)
			return -EACCES;
		if (sys == EROFS)
			return -EROFS;
		return sys ? -sys : sqlite_errno(rc);
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	*ret = db;
	return 0;
}

static int migrate(struct store *s, int target)
{
	int64_t v = 0;
	int rc, r;

	rc = pragma_int(s->pol, "PRAGMA user_version", &v);
	if (rc != SQLITE_OK) {
		r = fail(s, s->pol, rc, "cannot read the schema version");
		if (r == -EBADMSG)
			snprintf(s->err, sizeof(s->err), "'%s' is not a manager database: %s",
				 s->path, sqlite3_errmsg(s->pol));
		return r;
	}
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err),
			 "the database has schema version %" PRId64
			 "; this manager knows up to %d (it was written by a newer manager)",
			 v, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	while (v < target) {
		char sql[64];

		r = exec(s, s->pol, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		r = exec(s, s->pol, migrations[v]);
		if (r == 0) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64, v + 1);
			r = exec(s, s->pol, sql);
		}
		if (r == 0)
			r = exec(s, s->pol, "COMMIT");
		if (r < 0) {
			char msg[400];

			snprintf(msg, sizeof(msg), "%.399s", s->err);
			sqlite3_exec(s->pol, "ROLLBACK", NULL, NULL, NULL);
			snprintf(s->err, sizeof(s->err),
				 "migration to schema version %" PRId64 " failed: %s", v + 1, msg);
			return r;
		}
		v++;
	}
	s->version = (int)v;
	return 0;
}

static int ctr_reserve(struct store *s, int64_t id)
{
	size_t n;
	struct node_ctr *c;

	if (id < 0)
		return -EINVAL;
	if ((size_t)id < s->n_ctr)
		return 0;
	n = MAX((size_t)id + 1, s->n_ctr * 2);
	n = MAX(n, (size_t)16);
	c = realloc(s->ctr, n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(c + s->n_ctr, 0, (n - s->n_ctr) * sizeof(*c));
	s->ctr = c;
	s->n_ctr = n;
	return 0;
}

static int load_counters(struct store *s)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->ev,
				"SELECT id, events_stored, events_duplicate, last_seq FROM nodes",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot read the nodes");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		r = ctr_reserve(s, id);
		if (r < 0)
			break;
		s->ctr[id].stored = (uint64_t)sqlite3_column_int64(st, 1);
		s->ctr[id].dup = (uint64_t)sqlite3_column_int64(st, 2);
		s->ctr[id].last_seq = (uint64_t)sqlite3_column_int64(st, 3);
		s->ctr[id].known = true;
		s->total += s->ctr[id].stored;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(s, s->ev, rc, "cannot read the nodes");
	sqlite3_finalize(st);
	return r;
}

/*
 * Checkpoints (copying the WAL into the database file, then syncing it) are the bulk of the
 * I/O. SQLite's own autocheckpoint would run them on the loop thread after a commit; here a
 * worker runs them (store_checkpoint(), every CKPT_FRAMES frames) while the loop goes on.
 * A checkpoint that runs beside a writer cannot always reset the WAL, so the loop still
 * checkpoints itself past CKPT_FRAMES_MAX: by then the worker has copied almost everything.
 */
#define CKPT_FRAMES 1024 /* 16 MiB of 16 KiB pages */
#define CKPT_FRAMES_MAX 8192

static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	struct store *s = ud;

	__atomic_store_n(&s->wal_frames, frames, __ATOMIC_RELAXED);
	if (frames >= CKPT_FRAMES_MAX)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

int store_open_version(const char *path, int version, struct store **ret, char *err, size_t errlen)
{
	struct store *s;
	int64_t gen = 0;
	char mode[16] = "";
	sqlite3_stmt *st = NULL;
	int rc, r;

	/*
	 * SQLite's memory statistics take a global mutex on every allocation; nothing reads
	 * them. Only possible before SQLite initializes (the first open): later it says
	 * SQLITE_MISUSE, which changes nothing.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->wal_fd = -1;
	pthread_mutex_init(&s->sync_lock, NULL);
	pthread_mutex_init(&s->ckpt_lock, NULL);
	s->path = strdup(path);
	if (!s->path || asprintf(&s->wal_path, "%s-wal", path) < 0) {
		s->wal_path = NULL;
		r = -ENOMEM;
		goto err;
	}

	r = open_conn(s, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->pol);
	if (r < 0)
		goto err;
	/*
	 * 16 KiB pages (a new database only): a row is ~700 bytes, and every commit rewrites
	 * the last page of each index; bench/manager_store measured 4, 16 and 64 KiB.
	 */
	sqlite3_exec(s->pol, "PRAGMA page_size = 16384", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(s->pol, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		r = fail(s, s->pol, rc, "cannot use the database");
		if (r == -EBADMSG)
			snprintf(s->err, sizeof(s->err), "'%s' is not a manager database: %s", path,
				 sqlite3_errmsg(s->pol));
		else if (r == -EROFS || r == -EACCES || (rc & 0xff) == SQLITE_CANTOPEN)
			snprintf(s->err, sizeof(s->err), "cannot write '%s': %s", path,
				 sqlite3_errmsg(s->pol));
		goto err;
	}
	if (strcasecmp(mode, "wal") != 0) {
		snprintf(s->err, sizeof(s->err),
			 "cannot put '%s' in WAL mode (journal mode is '%s'); is it on a "
			 "network file system?",
			 path, mode);
		r = -EOPNOTSUPP;
		goto err;
	}
	r = exec(s, s->pol, "PRAGMA synchronous = FULL");
	if (r < 0)
		goto err;
	r = migrate(s, version);
	if (r < 0)
		goto err;
	rc = pragma_int(s->pol, "SELECT value FROM meta WHERE key = 'generation'", &gen);
	if (rc != SQLITE_OK) {
		r = fail(s, s->pol, rc, "cannot read the generation");
		goto err;
	}
	s->generation = (uint64_t)gen;

	r = open_conn(s, path, SQLITE_OPEN_READWRITE, &s->ev);
	if (r < 0)
		goto err;
	r = exec(s, s->ev,
		 "PRAGMA synchronous = NORMAL;"
		 "PRAGMA cache_size = -16384;"
		 "PRAGMA temp_store = MEMORY;"
		 "PRAGMA journal_size_limit = 67108864;");
	if (r < 0)
		goto err;
	/* checkpoints: see wal_hook() */
	sqlite3_wal_hook(s->ev, wal_hook, s);
	r = open_conn(s, path, SQLITE_OPEN_READWRITE, &s->ckpt);
	if (r == 0)
		r = exec(s, s->ckpt, "PRAGMA synchronous = NORMAL");
	if (r < 0)
		goto err;
	for (int i = 0; i < ST_COUNT; i++) {
		if (!stmt_sql[i])
			continue;
		if ((i == ST_NODE_CTR || i == ST_MAX_ID) && version < 1)
			continue;
		if (i == ST_INSERT && version < 1)
			continue;
		rc = sqlite3_prepare_v3(s->ev, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = fail(s, s->ev, rc, "cannot prepare a statement");
			goto err;
		}
	}
	if (version >= 1) {
		r = load_counters(s);
		if (r < 0)
			goto err;
	}
	*ret = s;
	return 0;
err:
	if (err && errlen)
		snprintf(err, errlen, "%s", s->err[0] ? s->err : strerror(-r));
	store_close(s);
	return r;
}

int store_open(const char *path, struct store **ret, char *err, size_t errlen)
{
	return store_open_version(path, STORE_SCHEMA_VERSION, ret, err, errlen);
}

struct store *store_close(struct store *s)
{
	if (!s)
		return NULL;
	if (s->in_txn)
		store_commit(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->ckpt);
	sqlite3_close(s->ev);
	sqlite3_close(s->pol);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	pthread_mutex_destroy(&s->sync_lock);
	pthread_mutex_destroy(&s->ckpt_lock);
	free(s->ctr);
	free(s->path);
	free(s->wal_path);
	free(s);
	return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The event transaction */

static int step_reset(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, s->ev, rc, what);
	return 0;
}

static int begin(struct store *s)
{
	int r;

	if (s->in_txn)
		return 0;
	r = step_reset(s, s->stmt[ST_BEGIN], "cannot begin a transaction");
	if (r == 0)
		s->in_txn = true;
	return r;
}

bool store_in_transaction(struct store *s)
{
	return s->in_txn;
}

unsigned store_transaction_rows(struct store *s)
{
	return s->in_txn ? s->txn_rows : 0;
}

uint64_t store_open_epoch(struct store *s)
{
	return s->committed_epoch + 1;
}

uint64_t store_committed_epoch(struct store *s)
{
	return s->committed_epoch;
}

uint64_t store_failed_epoch(struct store *s)
{
	return s->failed_epoch;
}

static void discard_deltas(struct store *s)
{
	for (size_t i = 0; i < s->n_ctr; i++) {
		struct node_ctr *c = &s->ctr[i];

		c->d_stored = 0;
		c->d_dup = 0;
		c->d_last_seq = 0;
		c->dirty = false;
	}
	s->d_total = 0;
}

int store_commit(struct store *s)
{
	sqlite3_stmt *up = s->stmt[ST_NODE_CTR];
	int r = 0;

	if (!s->in_txn)
		return 0;
	for (size_t i = 0; up && i < s->n_ctr && r == 0; i++) {
		struct node_ctr *c = &s->ctr[i];

		if (!c->dirty)
			continue;
		sqlite3_bind_int64(up, 1, (int64_t)c->stored + c->d_stored);
		sqlite3_bind_int64(up, 2, (int64_t)(c->dup + c->d_dup));
		sqlite3_bind_int64(up, 3, (int64_t)MAX(c->last_seq, c->d_last_seq));
		sqlite3_bind_int64(up, 4, (int64_t)i);
		r = step_reset(s, up, "cannot update the node counters");
	}
	if (r == 0)
		r = step_reset(s, s->stmt[ST_COMMIT], "cannot commit");
	if (r < 0) {
		/* the transaction is gone either way; nothing of it may be acknowledged */
		sqlite3_step(s->stmt[ST_ROLLBACK]);
		sqlite3_reset(s->stmt[ST_ROLLBACK]);
		s->in_txn = false;
		s->txn_rows = 0;
		s->failed_epoch = s->committed_epoch + 1;
		s->committed_epoch++;
		discard_deltas(s);
		return r;
	}
	s->in_txn = false;
	s->txn_rows = 0;
	s->committed_epoch++;
	for (size_t i = 0; i < s->n_ctr; i++) {
		struct node_ctr *c = &s->ctr[i];

		if (!c->dirty)
			continue;
		c->stored = (uint64_t)((int64_t)c->stored + c->d_stored);
		c->dup += c->d_dup;
		c->last_seq = MAX(c->last_seq, c->d_last_seq);
		c->d_stored = 0;
		c->d_dup = 0;
		c->d_last_seq = 0;
		c->dirty = false;
	}
	s->total = (uint64_t)((int64_t)s->total + s->d_total);
	s->d_total = 0;
	return 0;
}

int store_sync(struct store *s)
{
	int r = 0;

	pthread_mutex_lock(&s->sync_lock);
	if (s->wal_fd < 0) {
		s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
		if (s->wal_fd < 0)
			r = -errno;
	}
	pthread_mutex_unlock(&s->sync_lock);
	if (r == 0 && fdatasync(s->wal_fd) < 0)
		r = -errno;
	return r;
}

bool store_checkpoint_due(struct store *s)
{
	int frames = __atomic_load_n(&s->wal_frames, __ATOMIC_RELAXED);
	int done = __atomic_load_n(&s->backfilled, __ATOMIC_RELAXED);

	/* fewer frames than copied: the WAL started over */
	return frames < done ? frames >= CKPT_FRAMES : frames - done >= CKPT_FRAMES;
}

int store_checkpoint(struct store *s)
{
	int log = 0, done = 0, rc;

	pthread_mutex_lock(&s->ckpt_lock);
	rc = sqlite3_wal_checkpoint_v2(s->ckpt, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	pthread_mutex_unlock(&s->ckpt_lock);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return sqlite_errno(rc) ?: -EIO;
	__atomic_store_n(&s->backfilled, done, __ATOMIC_RELAXED);
	return 0;
}

uint64_t store_event_count(struct store *s)
{
	return (uint64_t)((int64_t)s->total + s->d_total);
}

uint64_t store_node_event_count(struct store *s, int64_t id)
{
	if (id < 0 || (size_t)id >= s->n_ctr)
		return 0;
	return (uint64_t)((int64_t)s->ctr[id].stored + s->ctr[id].d_stored);
}

void store_node_duplicate(struct store *s, int64_t id)
{
	if (id < 0 || (size_t)id >= s->n_ctr)
		return;
	s->ctr[id].d_dup++;
	s->ctr[id].dirty = true;
}

uint64_t store_node_duplicates(struct store *s, int64_t id)
{
	if (id < 0 || (size_t)id >= s->n_ctr)
		return 0;
	return s->ctr[id].dup + s->ctr[id].d_dup;
}

uint64_t store_node_last_seq(struct store *s, int64_t id)
{
	if (id < 0 || (size_t)id >= s->n_ctr)
		return 0;
	return MAX(s->ctr[id].last_seq, s->ctr[id].d_last_seq);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int64_t store_event_id(uint64_t time_ns)
{
	uint64_t us = time_ns / 1000;

	if (us < 1)
		us = 1;
	if (us > STORE_MAX_TIME_US)
		us = STORE_MAX_TIME_US;
	return (int64_t)(us << STORE_ID_SHIFT);
}

uint64_t store_id_time_ns(int64_t id)
{
	return ((uint64_t)id >> STORE_ID_SHIFT) * 1000;
}

/* The extended code of a failed insert: which constraint said no. */
static int insert_once(struct store *s, sqlite3_stmt *st, int64_t id, const struct store_event *e)
{
	int rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, e->node_id);
	sqlite3_bind_int64(st, 3, (int64_t)e->seq);
	sqlite3_bind_int(st, 4, e->type);
	bind_text_or_null(st, 5, e->policy && *e->policy ? e->policy : NULL);
	bind_text_or_null(st, 6, e->binary && *e->binary ? e->binary : NULL);
	if (e->has_pid)
		sqlite3_bind_int64(st, 7, e->pid);
	else
		sqlite3_bind_null(st, 7);
	bind_text_or_null(st, 8, e->exec_id && *e->exec_id ? e->exec_id : NULL);
	if (e->action)
		sqlite3_bind_int(st, 9, e->action);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_blob(st, 10, e->data, (int)e->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc;
}

/* Above the highest id taken in id's microsecond, or in the next one when it is full. */
static int64_t next_free_id(struct store *s, int64_t id)
{
	int64_t base = id & ~(int64_t)((1 << STORE_ID_SHIFT) - 1), top;
	sqlite3_stmt *st = s->stmt[ST_MAX_ID];
	int rc;

	for (;;) {
		top = base + (1 << STORE_ID_SHIFT) - 1;
		sqlite3_bind_int64(st, 1, base);
		sqlite3_bind_int64(st, 2, top);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			return fail(s, s->ev, rc, "cannot insert an event");
		}
		id = sqlite3_column_type(st, 0) == SQLITE_NULL ? base :
								 sqlite3_column_int64(st, 0) + 1;
		sqlite3_reset(st);
		if (id <= top)
			break;
		base += 1 << STORE_ID_SHIFT;
	}
	return id;
}

int store_event_insert(struct store *s, const struct store_event *e)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT];
	struct node_ctr *c;
	int64_t id = store_event_id(e->time_ns);
	int rc, r;

	if (e->node_id <= 0 || (size_t)e->node_id >= s->n_ctr || !s->ctr[e->node_id].known) {
		snprintf(s->err, sizeof(s->err), "no node with id %" PRId64, e->node_id);
		return -ENOENT;
	}
	if (e->seq > INT64_MAX) {
		snprintf(s->err, sizeof(s->err), "sequence number out of range");
		return -ERANGE;
	}
	c = &s->ctr[e->node_id];
	/* a replay of what is stored: events of a node arrive in sequence order */
	if (e->seq <= MAX(c->last_seq, c->d_last_seq)) {
		c->d_dup++;
		c->dirty = true;
		return 0;
	}
	r = begin(s);
	if (r < 0)
		return r;
	rc = insert_once(s, st, id, e);
	/* taken: events of the same microsecond take the next free ids (a later one if full) */
	for (int k = 0; rc == SQLITE_CONSTRAINT_PRIMARYKEY && k < 1000; k++) {
		id = next_free_id(s, id);
		if (id < 0) {
			sqlite3_clear_bindings(st);
			return (int)id;
		}
		rc = insert_once(s, st, id, e);
	}
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		/* (node_id, seq) is there: the same event again */
		c->d_dup++;
		c->dirty = true;
		return 0;
	}
	if (rc != SQLITE_DONE)
		return fail(s, s->ev, rc, "cannot insert an event");
	c->dirty = true;
	c->d_stored++;
	s->d_total++;
	s->txn_rows++;
	if (e->seq > c->d_last_seq)
		c->d_last_seq = e->seq;
	return 1;
}

static int retention_delete(struct store *s, sqlite3_stmt *st, unsigned *deleted)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (id >= 0 && (size_t)id < s->n_ctr) {
			s->ctr[id].d_stored--;
			s->ctr[id].dirty = true;
		}
		s->d_total--;
		(*deleted)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, s->ev, rc, "cannot delete old events");
	return 0;
}

int store_retention_step(struct store *s, uint64_t min_time_ns, uint64_t max_events, unsigned chunk,
			 unsigned *deleted)
{
	sqlite3_stmt *st;
	uint64_t total = store_event_count(s);
	int rc, r;

	*deleted = 0;
	if (chunk == 0)
		return 0;
	if (min_time_ns) {
		r = begin(s);
		if (r < 0)
			return r;
		rc = sqlite3_prepare_v2(s->ev,
					"DELETE FROM events WHERE id IN (SELECT id FROM events "
					"WHERE id < ?1 ORDER BY id LIMIT ?2) RETURNING node_id",
					-1, &st, NULL);
		if (rc != SQLITE_OK)
			return fail(s, s->ev, rc, "cannot delete old events");
		sqlite3_bind_int64(st, 1, store_event_id(min_time_ns));
		sqlite3_bind_int64(st, 2, chunk);
		r = retention_delete(s, st, deleted);
		if (r < 0 || *deleted > 0)
			return r;
		total = store_event_count(s);
	}
	if (max_events && total > max_events) {
		r = begin(s);
		if (r < 0)
			return r;
		rc = sqlite3_prepare_v2(s->ev,
					"DELETE FROM events WHERE id IN (SELECT id FROM events "
					"ORDER BY id LIMIT ?1) RETURNING node_id",
					-1, &st, NULL);
		if (rc != SQLITE_OK)
			return fail(s, s->ev, rc, "cannot delete old events");
		sqlite3_bind_int64(st, 1, (int64_t)MIN((uint64_t)chunk, total - max_events));
		return retention_delete(s, st, deleted);
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Policies */

uint64_t store_generation(struct store *s)
{
	return s->generation;
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

struct store_policy *store_policy_free(struct store_policy *p)
{
	if (!p)
		return NULL;
	free(p->name);
	free(p->namespace);
	free(p->yaml);
	free(p);
	return NULL;
}

void store_policies_free(struct store_policy **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_policy_free(list[i]);
	free(list);
}

#define POLICY_COLUMNS "id, name, namespace, yaml, mode, enabled, generation, created, updated"

static struct store_policy *policy_from_row(sqlite3_stmt *st)
{
	struct store_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->id = sqlite3_column_int64(st, 0);
	p->name = col_strdup(st, 1);
	p->namespace = col_strdup(st, 2);
	p->yaml = col_strdup(st, 3);
	p->mode = sqlite3_column_int(st, 4);
	p->enabled = sqlite3_column_int(st, 5) != 0;
	p->generation = (uint64_t)sqlite3_column_int64(st, 6);
	p->created_ns = (uint64_t)sqlite3_column_int64(st, 7);
	p->updated_ns = (uint64_t)sqlite3_column_int64(st, 8);
	if (!p->name || !p->namespace || !p->yaml)
		return store_policy_free(p);
	return p;
}

/* The row of (name, ns) on the policy connection; -ENOENT when there is none. */
static int policy_get(struct store *s, const char *name, const char *ns, struct store_policy **ret)
{
	sqlite3_stmt *st;
	int rc, r;

	rc = sqlite3_prepare_v2(s->pol,
				"SELECT " POLICY_COLUMNS
				" FROM policies WHERE name = ? AND namespace = ?",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->pol, rc, "cannot read a policy");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ns ? ns : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = policy_from_row(st);
		r = *ret ? 0 : -ENOMEM;
	} else if (rc == SQLITE_DONE) {
		snprintf(s->err, sizeof(s->err), "no policy '%s'%s%s", name,
			 ns && *ns ? " in " : "", ns && *ns ? ns : "");
		r = -ENOENT;
	} else {
		r = fail(s, s->pol, rc, "cannot read a policy");
	}
	sqlite3_finalize(st);
	return r;
}

/* BEGIN on the policy connection, after the event transaction is committed. */
static int pol_begin(struct store *s)
{
	int r = store_commit(s);

	if (r < 0)
		return r;
	return exec(s, s->pol, "BEGIN IMMEDIATE");
}

static int pol_bump_commit(struct store *s, uint64_t gen)
{
	sqlite3_stmt *st;
	int rc, r;

	rc = sqlite3_prepare_v2(s->pol, "UPDATE meta SET value = ? WHERE key = 'generation'", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->pol, rc, "cannot update the generation");
	sqlite3_bind_int64(st, 1, (int64_t)gen);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, s->pol, rc, "cannot update the generation");
	r = exec(s, s->pol, "COMMIT");
	if (r == 0)
		s->generation = gen;
	return r;
}

static void pol_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->pol))
		sqlite3_exec(s->pol, "ROLLBACK", NULL, NULL, NULL);
}

int store_policy_add(struct store *s, const char *name, const char *ns, const char *yaml, int mode,
		     bool enabled, struct store_policy **ret)
{
	uint64_t gen = s->generation + 1, now = now_realtime_ns();
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = pol_begin(s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s->pol,
				"INSERT INTO policies (name, namespace, yaml, mode, enabled, "
				"generation, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = fail(s, s->pol, rc, "cannot add a policy");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ns ? ns : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, yaml, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, mode);
	sqlite3_bind_int(st, 5, enabled);
	sqlite3_bind_int64(st, 6, (int64_t)gen);
	sqlite3_bind_int64(st, 7, (int64_t)now);
	sqlite3_bind_int64(st, 8, (int64_t)now);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		snprintf(s->err, sizeof(s->err), "policy '%s'%s%s exists", name,
			 ns && *ns ? " in namespace " : "", ns && *ns ? ns : "");
		r = -EEXIST;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		r = fail(s, s->pol, rc, "cannot add a policy");
		goto out;
	}
	r = pol_bump_commit(s, gen);
	if (r == 0 && ret) {
		r = policy_get(s, name, ns, ret);
	}
out:
	sqlite3_finalize(st);
	if (r < 0)
		pol_rollback(s);
	return r;
}

int store_policy_delete(struct store *s, const char *name, const char *ns, uint64_t *generation)
{
	uint64_t gen = s->generation + 1;
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = pol_begin(s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s->pol, "DELETE FROM policies WHERE name = ? AND namespace = ?", -1,
				&st, NULL);
	if (rc != SQLITE_OK) {
		r = fail(s, s->pol, rc, "cannot delete a policy");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ns ? ns : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = fail(s, s->pol, rc, "cannot delete a policy");
		goto out;
	}
	if (sqlite3_changes(s->pol) == 0) {
		snprintf(s->err, sizeof(s->err), "no policy '%s'%s%s", name,
			 ns && *ns ? " in namespace " : "", ns && *ns ? ns : "");
		r = -ENOENT;
		goto out;
	}
	r = pol_bump_commit(s, gen);
	if (r == 0 && generation)
		*generation = gen;
out:
	sqlite3_finalize(st);
	if (r < 0)
		pol_rollback(s);
	return r;
}

int store_policy_configure(struct store *s, const char *name, const char *ns, int enabled, int mode,
			   struct store_policy **ret)
{
	struct store_policy *p = NULL;
	uint64_t gen = s->generation + 1, now = now_realtime_ns();
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = pol_begin(s);
	if (r < 0)
		return r;
	r = policy_get(s, name, ns, &p);
	if (r < 0)
		goto out;
	if ((enabled < 0 || (enabled != 0) == p->enabled) && (mode < 0 || mode == p->mode)) {
		/* nothing changes: no new generation */
		exec(s, s->pol, "ROLLBACK");
		goto out;
	}
	rc = sqlite3_prepare_v2(s->pol,
				"UPDATE policies SET enabled = ?, mode = ?, generation = ?, "
				"updated = ? WHERE id = ?",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = fail(s, s->pol, rc, "cannot change a policy");
		goto out;
	}
	if (enabled >= 0)
		p->enabled = enabled != 0;
	if (mode >= 0)
		p->mode = mode;
	p->generation = gen;
	p->updated_ns = now;
	sqlite3_bind_int(st, 1, p->enabled);
	sqlite3_bind_int(st, 2, p->mode);
	sqlite3_bind_int64(st, 3, (int64_t)gen);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	sqlite3_bind_int64(st, 5, p->id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = fail(s, s->pol, rc, "cannot change a policy");
		goto out;
	}
	r = pol_bump_commit(s, gen);
out:
	sqlite3_finalize(st);
	if (r < 0) {
		pol_rollback(s);
		store_policy_free(p);
	} else if (ret) {
		*ret = p;
	} else {
		store_policy_free(p);
	}
	return r;
}

int store_policies_load(struct store *s, struct store_policy ***ret, size_t *n)
{
	struct store_policy **list = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->pol, "SELECT " POLICY_COLUMNS " FROM policies ORDER BY id", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->pol, rc, "cannot read the policies");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			struct store_policy **l;

			cap = cap ? cap * 2 : 16;
			l = realloc(list, cap * sizeof(*l));
			if (!l) {
				r = -ENOMEM;
				break;
			}
			list = l;
		}
		list[cnt] = policy_from_row(st);
		if (!list[cnt]) {
			r = -ENOMEM;
			break;
		}
		cnt++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(s, s->pol, rc, "cannot read the policies");
	sqlite3_finalize(st);
	if (r < 0) {
		store_policies_free(list, cnt);
		return r;
	}
	*ret = list;
	*n = cnt;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Nodes */

int store_node_get(struct store *s, const char *name, uint64_t now_ns, int64_t *id)
{
	sqlite3_stmt *st;
	int rc, r;

	rc = sqlite3_prepare_v2(s->ev, "SELECT id FROM nodes WHERE name = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot read a node");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return ctr_reserve(s, *id);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, s->ev, rc, "cannot read a node");
	r = begin(s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s->ev,
				"INSERT INTO nodes (name, first_seen, last_seen) VALUES (?, ?, ?)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot add a node");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)now_ns);
	sqlite3_bind_int64(st, 3, (int64_t)now_ns);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, s->ev, rc, "cannot add a node");
	*id = sqlite3_last_insert_rowid(s->ev);
	r = ctr_reserve(s, *id);
	if (r < 0)
		return r;
	memset(&s->ctr[*id], 0, sizeof(s->ctr[*id]));
	s->ctr[*id].known = true;
	return 0;
}

int store_node_update(struct store *s, const struct store_node *n)
{
	sqlite3_stmt *st;
	int rc, r;

	r = begin(s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(
		s->ev,
		"UPDATE nodes SET online = ?, last_seen = ?, agent_version = ?, "
		"kernel_release = ?, features = ?, peer = ?, applied_generation = ?, "
		"events_dropped = ? WHERE id = ?",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot update a node");
	sqlite3_bind_int(st, 1, n->online);
	sqlite3_bind_int64(st, 2, (int64_t)n->last_seen_ns);
	sqlite3_bind_text(st, 3, n->agent_version ? n->agent_version : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->kernel_release ? n->kernel_release : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->features ? n->features : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->peer ? n->peer : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (int64_t)n->applied_generation);
	sqlite3_bind_int64(st, 8, (int64_t)n->events_dropped);
	sqlite3_bind_int64(st, 9, n->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, s->ev, rc, "cannot update a node");
	return 0;
}

struct store_node *store_node_free(struct store_node *n)
{
	if (!n)
		return NULL;
	free(n->name);
	free(n->agent_version);
	free(n->kernel_release);
	free(n->features);
	free(n->peer);
	free(n);
	return NULL;
}

void store_nodes_free(struct store_node **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_node_free(list[i]);
	free(list);
}

int store_nodes_load(struct store *s, struct store_node ***ret, size_t *n)
{
	struct store_node **list = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(
		s->ev,
		"SELECT id, name, first_seen, last_seen, online, agent_version, "
		"kernel_release, features, peer, applied_generation, events_dropped "
		"FROM nodes ORDER BY name",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot read the nodes");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_node *nd;

		if (cnt == cap) {
			struct store_node **l;

			cap = cap ? cap * 2 : 16;
			l = realloc(list, cap * sizeof(*l));
			if (!l) {
				r = -ENOMEM;
				break;
			}
			list = l;
		}
		nd = calloc(1, sizeof(*nd));
		if (!nd) {
			r = -ENOMEM;
			break;
		}
		list[cnt++] = nd;
		nd->id = sqlite3_column_int64(st, 0);
		nd->name = col_strdup(st, 1);
		nd->first_seen_ns = (uint64_t)sqlite3_column_int64(st, 2);
		nd->last_seen_ns = (uint64_t)sqlite3_column_int64(st, 3);
		nd->online = sqlite3_column_int(st, 4) != 0;
		nd->agent_version = col_strdup(st, 5);
		nd->kernel_release = col_strdup(st, 6);
		nd->features = col_strdup(st, 7);
		nd->peer = col_strdup(st, 8);
		nd->applied_generation = (uint64_t)sqlite3_column_int64(st, 9);
		nd->events_dropped = (uint64_t)sqlite3_column_int64(st, 10);
		if (!nd->name || !nd->agent_version || !nd->kernel_release || !nd->features ||
		    !nd->peer) {
			r = -ENOMEM;
			break;
		}
		if (nd->id >= 0 && (size_t)nd->id < s->n_ctr) {
			struct node_ctr *c = &s->ctr[nd->id];

			nd->events_stored = (uint64_t)((int64_t)c->stored + c->d_stored);
			nd->events_duplicate = c->dup + c->d_dup;
			nd->last_seq = MAX(c->last_seq, c->d_last_seq);
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(s, s->ev, rc, "cannot read the nodes");
	sqlite3_finalize(st);
	if (r < 0) {
		store_nodes_free(list, cnt);
		return r;
	}
	*ret = list;
	*n = cnt;
	return 0;
}

int store_nodes_all_offline(struct store *s, uint64_t now_ns)
{
	sqlite3_stmt *st;
	int rc, r;

	r = begin(s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s->ev, "UPDATE nodes SET online = 0 WHERE online != 0", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot update the nodes");
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, s->ev, rc, "cannot update the nodes");
	(void)now_ns;
	return 0;
}

int store_status_replace(struct store *s, int64_t node_id, const struct store_status *list,
			 size_t n, uint64_t now_ns)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	int rc, r;

	r = begin(s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s->ev, "DELETE FROM node_policy_status WHERE node_id = ?", -1, &del,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->ev,
					"INSERT OR REPLACE INTO node_policy_status (node_id, name, "
					"namespace, generation, state, status, updated) VALUES "
					"(?, ?, ?, ?, ?, ?, ?)",
					-1, &ins, NULL);
	if (rc != SQLITE_OK) {
		r = fail(s, s->ev, rc, "cannot store policy statuses");
		goto out;
	}
	sqlite3_bind_int64(del, 1, node_id);
	rc = sqlite3_step(del);
	if (rc != SQLITE_DONE) {
		r = fail(s, s->ev, rc, "cannot store policy statuses");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(ins, 1, node_id);
		sqlite3_bind_text(ins, 2, list[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, list[i].namespace ? list[i].namespace : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, (int64_t)list[i].generation);
		sqlite3_bind_int(ins, 5, list[i].state);
		sqlite3_bind_blob(ins, 6, list[i].status ? list[i].status : "",
				  (int)list[i].status_len, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 7, (int64_t)now_ns);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE) {
			r = fail(s, s->ev, rc, "cannot store policy statuses");
			goto out;
		}
	}
out:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return r;
}

void store_status_free(struct store_status *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].namespace);
		free(list[i].status);
	}
	free(list);
}

int store_status_load(struct store *s, struct store_status **ret, size_t *n)
{
	struct store_status *list = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(
		s->ev,
		"SELECT node_id, name, namespace, generation, state, status, updated "
		"FROM node_policy_status ORDER BY node_id, name, namespace",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, s->ev, rc, "cannot read policy statuses");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_status *e;
		int len;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			e = realloc(list, cap * sizeof(*e));
			if (!e) {
				r = -ENOMEM;
				break;
			}
			list = e;
		}
		e = &list[cnt++];
		memset(e, 0, sizeof(*e));
		e->node_id = sqlite3_column_int64(st, 0);
		e->name = col_strdup(st, 1);
		e->namespace = col_strdup(st, 2);
		e->generation = (uint64_t)sqlite3_column_int64(st, 3);
		e->state = sqlite3_column_int(st, 4);
		len = sqlite3_column_bytes(st, 5);
		e->status = malloc(len ? (size_t)len : 1);
		if (e->status && len)
			memcpy(e->status, sqlite3_column_blob(st, 5), (size_t)len);
		e->status_len = (size_t)len;
		e->updated_ns = (uint64_t)sqlite3_column_int64(st, 6);
		if (!e->name || !e->namespace || !e->status) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(s, s->ev, rc, "cannot read policy statuses");
	sqlite3_finalize(st);
	if (r < 0) {
		store_status_free(list, cnt);
		return r;
	}
	*ret = list;
	*n = cnt;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Readers */

struct store_reader {
	sqlite3 *db;
	uint64_t deadline_ns;
};

static void regex_free(void *p)
{
	regfree(p);
	free(p);
}

/* regexp(pattern, value): the REGEXP operator, POSIX extended, compiled once per statement. */
static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *pat = (const char *)sqlite3_value_text(argv[0]);
	const char *val = (const char *)sqlite3_value_text(argv[1]);
	regex_t *re = sqlite3_get_auxdata(ctx, 0);

	if (!pat) {
		sqlite3_result_error(ctx, "regexp: no pattern", -1);
		return;
	}
	if (!re) {
		re = malloc(sizeof(*re));
		if (!re) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
		if (regcomp(re, pat, REG_EXTENDED | REG_NOSUB) != 0) {
			free(re);
			sqlite3_result_error(ctx, "regexp: invalid regular expression", -1);
			return;
		}
		sqlite3_set_auxdata(ctx, 0, re, regex_free);
		re = sqlite3_get_auxdata(ctx, 0);
		if (!re) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
	}
	sqlite3_result_int(ctx, val && regexec(re, val, 0, NULL, 0) == 0);
}

static int on_progress(void *ud)
{
	struct store_reader *r = ud;

	return r->deadline_ns && now_monotonic_ns() > r->deadline_ns;
}

int store_reader_open(const char *path, struct store_reader **ret, char *err, size_t errlen)
{
	struct store tmp = { .wal_fd = -1 };
	struct store_reader *r;
	int rc, e;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	e = open_conn(&tmp, path, SQLITE_OPEN_READONLY, &r->db);
	if (e < 0) {
		snprintf(err, errlen, "%s", tmp.err);
		free(r);
		return e;
	}
	rc = sqlite3_create_function(r->db, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				     fn_regexp, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(r->db, "PRAGMA cache_size = -8192", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(r->db));
		sqlite3_close(r->db);
		free(r);
		return sqlite_errno(rc) ?: -EIO;
	}
	sqlite3_progress_handler(r->db, 4096, on_progress, r);
	*ret = r;
	return 0;
}

struct store_reader *store_reader_close(struct store_reader *r)
{
	if (r) {
		sqlite3_close(r->db);
		free(r);
	}
	return NULL;
}

enum param_kind { P_INT, P_TEXT };

struct param {
	enum param_kind kind;
	int64_t i;
	const char *s;
};

struct qbuild {
	struct sbuf sql;
	struct param *p;
	size_t n, cap;
	bool oom;
};

static void add_param(struct qbuild *b, enum param_kind kind, int64_t i, const char *s)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct param *p = realloc(b->p, cap * sizeof(*p));

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = (struct param){ kind, i, s };
}

/* " AND col = ?" or " AND col IN (?, ?, ...)" */
/*
 * " AND col = ?", or for several values " AND +col IN (?, ...)": an index would give each
 * value's rows in id order but not all of them, and sorting every row of several nodes is
 * slower than walking the table newest first ("+" keeps SQLite off the index).
 */
static void add_in_int(struct qbuild *b, const char *col, const int64_t *v, size_t n)
{
	sbuf_printf(&b->sql, " AND %s%s %s", n == 1 ? "" : "+", col, n == 1 ? "= ?" : "IN (");
	for (size_t i = 0; i < n; i++) {
		if (n > 1)
			sbuf_adds(&b->sql, i ? ", ?" : "?");
		add_param(b, P_INT, v[i], NULL);
	}
	if (n > 1)
		sbuf_addc(&b->sql, ')');
}

static void add_in_text(struct qbuild *b, const char *col, char **v, size_t n)
{
	sbuf_printf(&b->sql, " AND %s%s %s", n == 1 ? "" : "+", col, n == 1 ? "= ?" : "IN (");
	for (size_t i = 0; i < n; i++) {
		if (n > 1)
			sbuf_adds(&b->sql, i ? ", ?" : "?");
		add_param(b, P_TEXT, 0, v[i]);
	}
	if (n > 1)
		sbuf_addc(&b->sql, ')');
}

/* The ids of the named nodes; unknown names are left out. */
static int resolve_nodes(sqlite3 *db, char **names, size_t n, int64_t *ids, size_t *n_ids)
{
	sqlite3_stmt *st;
	int rc;

	*n_ids = 0;
	rc = sqlite3_prepare_v2(db, "SELECT id FROM nodes WHERE name = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			ids[(*n_ids)++] = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			break;
		rc = SQLITE_OK;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int64_t *int_array(const int *v, size_t n)
{
	int64_t *out = calloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++)
		out[i] = v[i];
	return out;
}

int store_query_events(struct store_reader *rd, const struct store_query *q,
		       int (*fn)(void *ud, const struct store_cursor *at, const void *data,
				 size_t len),
		       void *ud, char *err, size_t errlen)
{
	struct qbuild b = { 0 };
	int64_t *ids = NULL, *tmp = NULL;
	size_t n_ids = 0;
	sqlite3_stmt *st = NULL;
	const char *cmp = q->oldest_first ? ">" : "<";
	int rc, r = 0, rows = 0;

	err[0] = '\0';
	sbuf_init(&b.sql);
	if (q->binary_regex && *q->binary_regex) {
		regex_t re;
		int e = regcomp(&re, q->binary_regex, REG_EXTENDED | REG_NOSUB);

		if (e != 0) {
			char why[128];

			regerror(e, &re, why, sizeof(why));
			snprintf(err, errlen, "invalid regular expression '%s': %s",
				 q->binary_regex, why);
			return -EINVAL;
		}
		regfree(&re);
	}
	rd->deadline_ns = q->timeout_ms ? now_monotonic_ns() + q->timeout_ms * 1000000ull : 0;

	sbuf_adds(&b.sql, "SELECT id, data FROM events WHERE 1");
	if (q->n_nodes) {
		ids = calloc(q->n_nodes, sizeof(*ids));
		if (!ids) {
			r = -ENOMEM;
			goto out;
		}
		rc = resolve_nodes(rd->db, q->nodes, q->n_nodes, ids, &n_ids);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(rd->db));
			r = sqlite_errno(rc) ?: -EIO;
			goto out;
		}
		if (n_ids == 0)
			goto out; /* no such node: nothing */
		add_in_int(&b, "node_id", ids, n_ids);
	}
	if (q->since_ns) {
		sbuf_adds(&b.sql, " AND id >= ?");
		add_param(&b, P_INT, store_event_id(q->since_ns), NULL);
	}
	if (q->until_ns) {
		sbuf_adds(&b.sql, " AND id < ?");
		add_param(&b, P_INT, store_event_id(q->until_ns), NULL);
	}
	if (q->n_types) {
		tmp = int_array(q->types, q->n_types);
		if (!tmp) {
			r = -ENOMEM;
			goto out;
		}
		add_in_int(&b, "type", tmp, q->n_types);
		/* the partial index covers these: say so in the terms SQLite matches */
		{
			bool above = true;

			for (size_t i = 0; i < q->n_types; i++)
				above &= q->types[i] > 5;
			if (above)
				sbuf_adds(&b.sql, " AND type > 5");
		}
		free(tmp);
		tmp = NULL;
	}
	if (q->n_policies)
		add_in_text(&b, "policy", q->policies, q->n_policies);
	if (q->n_pids) {
		tmp = calloc(q->n_pids, sizeof(*tmp));
		if (!tmp) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < q->n_pids; i++)
			tmp[i] = q->pids[i];
		add_in_int(&b, "pid", tmp, q->n_pids);
		free(tmp);
		tmp = NULL;
	}
	if (q->exec_id && *q->exec_id) {
		sbuf_adds(&b.sql, " AND exec_id = ?");
		add_param(&b, P_TEXT, 0, q->exec_id);
	}
	if (q->n_actions) {
		tmp = int_array(q->actions, q->n_actions);
		if (!tmp) {
			r = -ENOMEM;
			goto out;
		}
		add_in_int(&b, "action", tmp, q->n_actions);
		free(tmp);
		tmp = NULL;
	}
	if (q->binary_regex && *q->binary_regex) {
		sbuf_adds(&b.sql, " AND binary REGEXP ?");
		add_param(&b, P_TEXT, 0, q->binary_regex);
	}
	if (q->has_cursor) {
		sbuf_printf(&b.sql, " AND id %s ?", cmp);
		add_param(&b, P_INT, q->cursor.id, NULL);
	}
	sbuf_printf(&b.sql, " ORDER BY id %s LIMIT ?", q->oldest_first ? "ASC" : "DESC");
	add_param(&b, P_INT, q->limit ? q->limit : 100, NULL);
	if (b.oom || b.sql.oom) {
		r = -ENOMEM;
		goto out;
	}

	rc = sqlite3_prepare_v2(rd->db, b.sql.buf, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(rd->db));
		r = sqlite_errno(rc) ?: -EIO;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		if (b.p[i].kind == P_INT)
			sqlite3_bind_int64(st, (int)i + 1, b.p[i].i);
		else
			sqlite3_bind_text(st, (int)i + 1, b.p[i].s, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_cursor at = { .id = sqlite3_column_int64(st, 0) };

		at.time_ns = store_id_time_ns(at.id);
		rows++;
		if (fn(ud, &at, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_INTERRUPT)
			snprintf(err, errlen, "the query took longer than %llu ms",
				 (unsigned long long)q->timeout_ms);
		else
			snprintf(err, errlen, "%s", sqlite3_errmsg(rd->db));
		r = sqlite_errno(rc) ?: -EIO;
	}
out:
	sqlite3_finalize(st);
	free(ids);
	free(tmp);
	free(b.p);
	sbuf_free(&b.sql);
	return r < 0 ? r : rows;
}

void store_cursor_format(const struct store_cursor *c, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRId64, c->id);
}

int store_cursor_parse(const char *s, struct store_cursor *c)
{
	uint64_t id = 0;

	if (!*s || strlen(s) > 19)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		id = id * 10 + (uint64_t)(*p - '0');
	}
	if (id == 0 || id > INT64_MAX)
		return -EINVAL;
	c->id = (int64_t)id;
	c->time_ns = store_id_time_ns(c->id);
	return 0;
}
