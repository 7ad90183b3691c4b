// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/util.h"
#include "manager/store.h"

static char dir[] = "/tmp/test_store.XXXXXX";
static char db_path[256];

static int setup(void **state)
{
	static int n;

	if (n++ == 0)
		assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/m%d.db", dir, n);
	return 0;
}

static int teardown_all(void **state)
{
	rm_rf(dir);
	return 0;
}

static struct store *open_store(void)
{
	struct store *s = NULL;
	char err[512];
	int r = store_open(db_path, &s, err, sizeof(err));

	if (r < 0)
		fail_msg("store_open: %s", err);
	return s;
}

/* A value from the database file, read with a plain SQLite connection. */
static int64_t sql_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_store_creates_schema(void **state)
{
	struct store *s = open_store();

	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_generation(s), 0);
	assert_int_equal(store_event_count(s), 0);
	store_close(s);
	assert_int_equal(sql_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	/* WAL is recorded in the file header: read and write versions 2 */
	{
		unsigned char hdr[20];
		FILE *f = fopen(db_path, "rb");

		assert_non_null(f);
		assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
		fclose(f);
		assert_int_equal(hdr[18], 2);
		assert_int_equal(hdr[19], 2);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
				 "name = 'events_node'"),
			 1);
	/* a second open migrates nothing and keeps everything */
	s = open_store();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
}

static void test_store_migrates_old_schema(void **state)
{
	struct store *s = NULL;
	struct store_policy *p = NULL, **list;
	size_t n;
	int64_t node;
	char err[512];

	assert_int_equal(store_open_version(db_path, 1, &s, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s), 1);
	assert_int_equal(store_policy_add(s, "old", "", "yaml: 1", 1, true, &p), 0);
	assert_int_equal(store_node_get(s, "node-a", 1000, &node), 0);
	assert_int_equal(store_commit(s), 0);
	store_policy_free(p);
	store_close(s);
	assert_int_equal(sql_int("PRAGMA user_version"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'events_node'"),
			 0);

	s = open_store();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_generation(s), 1);
	assert_int_equal(store_policies_load(s, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->name, "old");
	store_policies_free(list, n);
	store_close(s);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'events_node'"),
			 1);
}

static void test_store_refuses_newer_schema(void **state)
{
	struct store *s = NULL;
	char err[512];

	store_close(open_store());
	sql_exec("PRAGMA user_version = 99");
	assert_int_equal(store_open(db_path, &s, err, sizeof(err)), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(err, "99"));
	/* and it was left alone */
	assert_int_equal(sql_int("PRAGMA user_version"), 99);
}

static void test_store_refuses_other_files(void **state)
{
	struct store *s = NULL;
	char err[512], path[300];

	assert_int_equal(
		write_file(db_path, "this is not a database, not at all..........", 45, 0600), 0);
	assert_true(store_open(db_path, &s, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a manager database"));
	assert_null(s);

	snprintf(path, sizeof(path), "%s/no/such/dir/x.db", dir);
	assert_true(store_open(path, &s, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, path));
}

static void test_store_policy_crud_and_generations(void **state)
{
	struct store *s = open_store();
	struct store_policy *a = NULL, *b = NULL, *p = NULL, **list;
	uint64_t gen;
	int64_t first_id;
	size_t n;

	assert_int_equal(store_policy_add(s, "a", "", "A", 1, true, &a), 0);
	assert_int_equal(a->generation, 1);
	assert_int_equal(store_policy_add(s, "b", "ns1", "B", 2, false, &b), 0);
	assert_int_equal(b->generation, 2);
	assert_string_equal(b->namespace, "ns1");
	assert_false(b->enabled);
	first_id = a->id;

	/* a duplicate changes nothing, the same name in another namespace is another policy */
	assert_int_equal(store_policy_add(s, "a", "", "A2", 1, true, NULL), -EEXIST);
	assert_non_null(strstr(store_errmsg(s), "exists"));
	assert_int_equal(store_generation(s), 2);
	assert_int_equal(store_policy_add(s, "a", "ns1", "A3", 1, true, NULL), 0);
	assert_int_equal(store_generation(s), 3);

	/* mode toggle: a new generation; the same mode again: none */
	assert_int_equal(store_policy_configure(s, "a", "", -1, 2, &p), 0);
	assert_int_equal(p->mode, 2);
	assert_int_equal(p->generation, 4);
	p = store_policy_free(p);
	assert_int_equal(store_policy_configure(s, "a", "", -1, 2, &p), 0);
	assert_int_equal(p->generation, 4);
	assert_int_equal(store_generation(s), 4);
	p = store_policy_free(p);
	assert_int_equal(store_policy_configure(s, "a", "", 0, -1, &p), 0);
	assert_false(p->enabled);
	assert_int_equal(p->mode, 2);
	assert_int_equal(p->generation, 5);
	p = store_policy_free(p);
	assert_int_equal(store_policy_configure(s, "zz", "", 1, -1, &p), -ENOENT);
	assert_null(p);

	assert_int_equal(store_policy_delete(s, "b", "ns1", &gen), 0);
	assert_int_equal(gen, 6);
	assert_int_equal(store_policy_delete(s, "b", "ns1", &gen), -ENOENT);
	assert_int_equal(store_generation(s), 6);
	store_close(s);

	/* all of it on disk */
	s = open_store();
	assert_int_equal(store_generation(s), 6);
	assert_int_equal(store_policies_load(s, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "a");
	assert_string_equal(list[0]->namespace, "");
	assert_string_equal(list[0]->yaml, "A");
	assert_int_equal(list[0]->mode, 2);
	assert_false(list[0]->enabled);
	assert_string_equal(list[1]->namespace, "ns1");
	store_policies_free(list, n);

	/* ids are never reused */
	assert_int_equal(store_policy_delete(s, "a", "", NULL), 0);
	assert_int_equal(store_policy_add(s, "a", "", "A4", 1, true, &p), 0);
	assert_true(p->id > first_id + 2);
	store_policy_free(p);
	store_policy_free(a);
	store_policy_free(b);
	store_close(s);
}

static void insert(struct store *s, int64_t node, uint64_t seq, uint64_t time_ns, int type,
		   const char *policy, const char *binary, uint32_t pid, const char *exec_id,
		   int action, int want)
{
	char data[64];
	struct store_event e = {
		.node_id = node,
		.seq = seq,
		.time_ns = time_ns,
		.type = type,
		.policy = policy,
		.binary = binary,
		.pid = pid,
		.has_pid = pid != 0,
		.exec_id = exec_id,
		.action = action,
		.data = data,
	};

	e.len = (size_t)snprintf(data, sizeof(data), "%lld:%llu", (long long)node,
				 (unsigned long long)seq);
	assert_int_equal(store_event_insert(s, &e), want);
}

static void test_store_events_dedupe_by_node_and_seq(void **state)
{
	struct store *s = open_store();
	struct store_node **nodes;
	int64_t a, b;
	uint64_t epoch;
	size_t n;

	assert_int_equal(store_node_get(s, "a", 1, &a), 0);
	assert_int_equal(store_node_get(s, "b", 1, &b), 0);
	assert_true(a != b);
	epoch = store_open_epoch(s);
	for (uint64_t i = 1; i <= 100; i++)
		insert(s, a, i, i * 1000, 1, NULL, "/bin/true", 1, "x", 0, 1);
	/* the same sequence numbers from another node are other events */
	for (uint64_t i = 1; i <= 10; i++)
		insert(s, b, i, i * 1000, 1, NULL, "/bin/true", 1, "x", 0, 1);
	/* a replay before the commit: every one already there */
	for (uint64_t i = 91; i <= 100; i++)
		insert(s, a, i, i * 1000, 1, NULL, "/bin/true", 1, "x", 0, 0);
	assert_true(store_in_transaction(s));
	assert_int_equal(store_commit(s), 0);
	assert_false(store_in_transaction(s));
	assert_int_equal(store_committed_epoch(s), epoch);
	assert_int_equal(store_sync(s), 0);
	/* and after it */
	for (uint64_t i = 95; i <= 120; i++)
		insert(s, a, i, i * 1000, 1, NULL, "/bin/true", 1, "x", 0, i > 100);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_event_count(s), 130);
	assert_int_equal(store_node_event_count(s, a), 120);
	assert_int_equal(store_node_last_seq(s, a), 120);
	assert_int_equal(store_node_last_seq(s, b), 10);
	store_close(s);

	assert_int_equal(sql_int("SELECT count(*) FROM events"), 130);
	s = open_store();
	assert_int_equal(store_event_count(s), 130);
	assert_int_equal(store_nodes_load(s, &nodes, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nodes[0]->name, "a");
	assert_int_equal(nodes[0]->events_stored, 120);
	assert_int_equal(nodes[0]->events_duplicate, 16);
	assert_int_equal(nodes[0]->last_seq, 120);
	assert_int_equal(nodes[1]->events_stored, 10);
	store_nodes_free(nodes, n);
	/* an unknown node id is refused */
	insert(s, 999, 1, 1, 1, NULL, NULL, 0, NULL, 0, -ENOENT);
	store_close(s);
}

static void test_store_nodes_and_statuses(void **state)
{
	struct store *s = open_store();
	struct store_node nd = { 0 }, **nodes;
	struct store_status st[2] = { 0 }, *loaded;
	int64_t id, id2;
	size_t n;

	assert_int_equal(store_node_get(s, "n1", 1000, &id), 0);
	assert_int_equal(store_node_get(s, "n1", 2000, &id2), 0);
	assert_int_equal(id, id2);
	nd.id = id;
	nd.online = true;
	nd.last_seen_ns = 5000;
	nd.agent_version = "v1";
	nd.kernel_release = "6.18";
	nd.features = "bpf_lsm=0,kprobe_multi=1";
	nd.peer = "ipv4:127.0.0.1:1";
	nd.applied_generation = 7;
	nd.events_dropped = 3;
	assert_int_equal(store_node_update(s, &nd), 0);

	st[0].name = "p1";
	st[0].namespace = "";
	st[0].generation = 7;
	st[0].state = 1;
	st[0].status = "\x12\x02p1";
	st[0].status_len = 4;
	st[1].name = "p2";
	st[1].namespace = "ns";
	st[1].generation = 7;
	st[1].state = 3;
	st[1].status = "";
	st[1].status_len = 0;
	assert_int_equal(store_status_replace(s, id, st, 2, 6000), 0);
	/* a new report replaces the old one entirely */
	assert_int_equal(store_status_replace(s, id, st, 1, 7000), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);

	s = open_store();
	assert_int_equal(store_nodes_all_offline(s, 8000), 0);
	assert_int_equal(store_nodes_load(s, &nodes, &n), 0);
	assert_int_equal(n, 1);
	assert_false(nodes[0]->online);
	assert_int_equal(nodes[0]->first_seen_ns, 1000);
	assert_int_equal(nodes[0]->last_seen_ns, 5000);
	assert_string_equal(nodes[0]->features, "bpf_lsm=0,kprobe_multi=1");
	assert_string_equal(nodes[0]->kernel_release, "6.18");
	assert_int_equal(nodes[0]->applied_generation, 7);
	assert_int_equal(nodes[0]->events_dropped, 3);
	store_nodes_free(nodes, n);
	assert_int_equal(store_status_load(s, &loaded, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(loaded[0].name, "p1");
	assert_int_equal(loaded[0].status_len, 4);
	assert_memory_equal(loaded[0].status, "\x12\x02p1", 4);
	assert_int_equal(loaded[0].updated_ns, 7000);
	store_status_free(loaded, n);
	store_close(s);
}

static void test_store_retention_by_age_and_count(void **state)
{
	struct store *s = open_store();
	unsigned deleted, total = 0;
	int64_t a, b;

	assert_int_equal(store_node_get(s, "a", 1, &a), 0);
	assert_int_equal(store_node_get(s, "b", 1, &b), 0);
	for (uint64_t i = 1; i <= 1000; i++)
		insert(s, i % 2 ? a : b, i, i * 1000000, 1, NULL, NULL, 0, NULL, 0, 1);
	assert_int_equal(store_commit(s), 0);

	/* age: everything before 500 ms, in chunks of 64 */
	do {
		assert_int_equal(store_retention_step(s, 500 * 1000000ull, 0, 64, &deleted), 0);
		assert_true(deleted <= 64);
		total += deleted;
		assert_int_equal(store_commit(s), 0);
	} while (deleted == 64);
	assert_int_equal(total, 499);
	assert_int_equal(store_event_count(s), 501);
	assert_int_equal(sql_int("SELECT min(id) FROM events"), store_event_id(500 * 1000000ull));

	/* count: keep the newest 100 */
	total = 0;
	do {
		assert_int_equal(store_retention_step(s, 0, 100, 64, &deleted), 0);
		total += deleted;
	} while (deleted > 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(total, 401);
	assert_int_equal(store_event_count(s), 100);
	assert_int_equal(store_node_event_count(s, a) + store_node_event_count(s, b), 100);
	assert_int_equal(store_node_event_count(s, a), 50);
	assert_int_equal(sql_int("SELECT min(seq) FROM events"), 901);
	/* nothing to do: nothing deleted */
	assert_int_equal(store_retention_step(s, 1, 1000, 64, &deleted), 0);
	assert_int_equal(deleted, 0);
	store_close(s);
	/* the per-node counts were written with the deletes */
	assert_int_equal(sql_int("SELECT sum(events_stored) FROM nodes"), 100);
}

struct rows {
	uint64_t seq[2000];
	size_t n;
	struct store_cursor last;
};

static int collect(void *ud, const struct store_cursor *at, const void *data, size_t len)
{
	struct rows *r = ud;
	char buf[64];
	long long node;
	unsigned long long seq;

	assert_true(len < sizeof(buf));
	memcpy(buf, data, len);
	buf[len] = '\0';
	assert_int_equal(sscanf(buf, "%lld:%llu", &node, &seq), 2);
	r->seq[r->n++] = seq;
	r->last = *at;
	return 0;
}

static int query(struct store_reader *rd, const struct store_query *q, struct rows *out)
{
	char err[256];
	int r;

	memset(out, 0, sizeof(*out));
	r = store_query_events(rd, q, collect, out, err, sizeof(err));
	if (r < 0 && r != -EINVAL)
		fail_msg("query: %s", err);
	return r;
}

/* Version 2 -> 3 rebuilds the events table: every row stays, found as before. */
static void test_store_migrates_v2_events(void **state)
{
	struct store *s = NULL;
	struct store_reader *rd;
	struct store_query q;
	struct rows *rows = calloc(1, sizeof(*rows));
	int64_t node;
	char err[512];

	assert_non_null(rows);
	assert_int_equal(store_open_version(db_path, 2, &s, err, sizeof(err)), 0);
	assert_int_equal(store_node_get(s, "node-a", 1000, &node), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	sql_exec("INSERT INTO events (id, node_id, seq, type, exec_id, data) VALUES "
		 "(1000, 1, 1, 1, 'exec-a', '1:1'), (2000, 1, 2, 1, 'exec-b', '1:2'),"
		 "(3000, 1, 3, 5, 'exec-a', '1:3'), (4000, 1, 4, 9, NULL, '1:4');"
		 "UPDATE nodes SET last_seq = 4, events_stored = 4;");
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE name = "
				 "'sqlite_autoindex_events_1'"),
			 1);

	s = open_store();
	assert_int_equal(store_schema_version(s), 3);
	/* a replay of what version 2 stored is still dropped, without the unique index */
	assert_int_equal(store_node_last_seq(s, node), 4);
	store_close(s);
	assert_int_equal(sql_int("SELECT count(*) FROM events"), 4);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE name = "
				 "'sqlite_autoindex_events_1'"),
			 0);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE name = "
				 "'events_exec_id'"),
			 1);

	assert_int_equal(store_reader_open(db_path, &rd, err, sizeof(err)), 0);
	memset(&q, 0, sizeof(q));
	q.exec_id = "exec-a";
	q.oldest_first = true;
	q.limit = 10;
	assert_int_equal(query(rd, &q, rows), 2);
	assert_int_equal(rows->seq[0], 1);
	assert_int_equal(rows->seq[1], 3);
	store_reader_close(rd);
	free(rows);
}

static void test_store_query_filters_and_cursors(void **state)
{
	struct store *s = open_store();
	struct store_reader *rd;
	struct store_query q;
	struct rows *rows = calloc(1, sizeof(*rows));
	char err[256], *nodes[] = { "b" }, *nodes2[] = { "a", "b" }, *unknown[] = { "zz" };
	char *pols[] = { "p1" };
	int types[] = { 9 }, actions[] = { 3 };
	uint32_t pids[] = { 42 };
	uint64_t seen[200] = { 0 };
	int64_t a, b;
	size_t total = 0;

	assert_non_null(rows);
	assert_int_equal(store_node_get(s, "a", 1, &a), 0);
	assert_int_equal(store_node_get(s, "b", 1, &b), 0);
	/* 100 events per node; time = seq ms; every 10th a kprobe of policy p1 with Sigkill */
	for (uint64_t i = 1; i <= 100; i++) {
		bool kp = i % 10 == 0;

		insert(s, a, i, i * 1000000, kp ? 9 : 1, kp ? "p1" : NULL,
		       i % 2 ? "/usr/bin/curl" : "/bin/sh", (uint32_t)(40 + i % 5),
		       i == 7 ? "exec-7" : "other", kp ? 3 : 0, 1);
		insert(s, b, i, i * 1000000 + 500, 1, NULL, "/bin/sh", 1, "other", 0, 1);
	}
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_reader_open(db_path, &rd, err, sizeof(err)), 0);

	/* newest first by default, limit */
	memset(&q, 0, sizeof(q));
	q.limit = 5;
	assert_int_equal(query(rd, &q, rows), 5);
	assert_int_equal(rows->seq[0], 100); /* b's 100 is 500 ns after a's */
	assert_true(rows->last.time_ns < 100 * 1000000ull);

	/* node */
	q.nodes = nodes;
	q.n_nodes = 1;
	q.limit = 1000;
	assert_int_equal(query(rd, &q, rows), 100);
	q.nodes = unknown;
	assert_int_equal(query(rd, &q, rows), 0);
	q.nodes = nodes2;
	q.n_nodes = 2;
	assert_int_equal(query(rd, &q, rows), 200);
	q.nodes = NULL;
	q.n_nodes = 0;

	/* type, policy, action */
	q.types = types;
	q.n_types = 1;
	assert_int_equal(query(rd, &q, rows), 10);
	assert_int_equal(rows->seq[0], 100);
	q.types = NULL;
	q.n_types = 0;
	q.policies = pols;
	q.n_policies = 1;
	assert_int_equal(query(rd, &q, rows), 10);
	q.policies = NULL;
	q.n_policies = 0;
	q.actions = actions;
	q.n_actions = 1;
	assert_int_equal(query(rd, &q, rows), 10);
	q.actions = NULL;
	q.n_actions = 0;

	/* pid, exec_id, binary regex */
	q.pids = pids;
	q.n_pids = 1;
	assert_int_equal(query(rd, &q, rows), 20);
	q.pids = NULL;
	q.n_pids = 0;
	q.exec_id = "exec-7";
	assert_int_equal(query(rd, &q, rows), 1);
	assert_int_equal(rows->seq[0], 7);
	q.exec_id = NULL;
	q.binary_regex = "curl$";
	assert_int_equal(query(rd, &q, rows), 50);
	q.binary_regex = "^/bin/(sh|bash)$";
	assert_int_equal(query(rd, &q, rows), 150);
	q.binary_regex = "([unclosed";
	assert_int_equal(store_query_events(rd, &q, collect, rows, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "regular expression"));
	q.binary_regex = NULL;

	/* time range: [10 ms, 20 ms) holds a's 10..19 and b's 10..19 */
	q.since_ns = 10 * 1000000ull;
	q.until_ns = 20 * 1000000ull;
	assert_int_equal(query(rd, &q, rows), 20);
	q.oldest_first = true;
	assert_int_equal(query(rd, &q, rows), 20);
	assert_int_equal(rows->seq[0], 10);
	q.since_ns = q.until_ns = 0;

	/* paging: every event exactly once, in order, both directions */
	for (int dir = 0; dir < 2; dir++) {
		struct store_cursor c = { 0 };
		bool have = false;
		uint64_t prev_t = dir ? 0 : UINT64_MAX;

		memset(seen, 0, sizeof(seen));
		total = 0;
		memset(&q, 0, sizeof(q));
		q.oldest_first = dir == 1;
		q.limit = 7;
		for (;;) {
			int n;

			q.has_cursor = have;
			q.cursor = c;
			n = query(rd, &q, rows);
			if (n == 0)
				break;
			for (int i = 0; i < n; i++)
				seen[rows->seq[i] - 1]++;
			total += (size_t)n;
			if (dir)
				assert_true(rows->last.time_ns >= prev_t);
			else
				assert_true(rows->last.time_ns <= prev_t);
			prev_t = rows->last.time_ns;
			c = rows->last;
			have = true;
		}
		assert_int_equal(total, 200);
		for (int i = 0; i < 100; i++)
			assert_int_equal(seen[i], 2);
	}
	store_reader_close(rd);
	free(rows);
	store_close(s);
}

static void test_store_query_timeout(void **state)
{
	struct store *s = open_store();
	struct store_reader *rd;
	struct store_query q = { .limit = 10, .timeout_ms = 1 };
	struct rows *rows = calloc(1, sizeof(*rows));
	char err[256];
	int64_t a;
	int r;

	assert_int_equal(store_node_get(s, "a", 1, &a), 0);
	for (uint64_t i = 1; i <= 20000; i++)
		insert(s, a, i, i * 1000, 1, NULL, "/bin/sh", 1, "x", 0, 1);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_reader_open(db_path, &rd, err, sizeof(err)), 0);
	/* a regular expression that matches nothing scans everything: slow enough */
	q.binary_regex = "^(a|b|c|d|e)*(f|g)*zzzz$";
	q.timeout_ms = 0;
	r = store_query_events(rd, &q, collect, rows, err, sizeof(err));
	assert_int_equal(r, 0);
	q.timeout_ms = 1;
	/* scanning 20000 rows through a regular expression takes more than 1 ms */
	for (int i = 0; i < 50; i++) {
		r = store_query_events(rd, &q, collect, rows, err, sizeof(err));
		if (r == -ETIMEDOUT)
			break;
	}
	assert_int_equal(r, -ETIMEDOUT);
	assert_non_null(strstr(err, "longer than"));
	store_reader_close(rd);
	free(rows);
	store_close(s);
}

static void test_store_cursor_text(void **state)
{
	struct store_cursor c = { .id = store_event_id(1700000000123456789ull) + 3 }, d;
	char buf[64];

	store_cursor_format(&c, buf, sizeof(buf));
	assert_int_equal(store_cursor_parse(buf, &d), 0);
	assert_int_equal(d.id, c.id);
	assert_int_equal(d.time_ns, 1700000000123456000ull);
	assert_int_equal(store_cursor_parse("", &d), -EINVAL);
	assert_int_equal(store_cursor_parse("0", &d), -EINVAL);
	assert_int_equal(store_cursor_parse("5.", &d), -EINVAL);
	assert_int_equal(store_cursor_parse("5x", &d), -EINVAL);
	assert_int_equal(store_cursor_parse("-5", &d), -EINVAL);
	assert_int_equal(store_cursor_parse("0x10", &d), -EINVAL);
	assert_int_equal(store_cursor_parse("99999999999999999999", &d), -EINVAL);
}

static void test_store_ids_are_time_ordered(void **state)
{
	struct store *s = open_store();
	struct store_reader *rd;
	struct store_query q = { .limit = 7, .oldest_first = true };
	struct rows *rows = calloc(1, sizeof(*rows));
	char err[256];
	int64_t a, b;

	/* ids follow time, not arrival; one microsecond holds many events */
	assert_true(store_event_id(2000) > store_event_id(1000));
	assert_int_equal(store_event_id(1999), store_event_id(1000));
	assert_int_equal(store_event_id(0), store_event_id(1000)); /* clamped */
	assert_int_equal(store_node_get(s, "a", 1, &a), 0);
	assert_int_equal(store_node_get(s, "b", 1, &b), 0);
	insert(s, a, 1, 5000, 1, NULL, NULL, 0, NULL, 0, 1);
	insert(s, a, 2, 3000, 1, NULL, NULL, 0, NULL, 0, 1); /* older, arrives later */
	for (uint64_t i = 1; i <= 5; i++)
		insert(s, b, i, 3000, 1, NULL, NULL, 0, NULL, 0, 1); /* the same microsecond */
	/* the order of a node's sequence numbers is the protocol's: at or below the last
	 * stored one is a replay */
	insert(s, a, 2, 9000, 1, NULL, NULL, 0, NULL, 0, 0);
	/* more events in one microsecond than its ids: they go on into the next ones */
	for (uint64_t i = 10; i < 2500; i++)
		insert(s, b, i, 7000, 1, NULL, NULL, 0, NULL, 0, 1);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_reader_open(db_path, &rd, err, sizeof(err)), 0);
	assert_int_equal(query(rd, &q, rows), 7);
	assert_int_equal(rows->seq[0], 2); /* a's seq 2 at 3 us comes first */
	assert_int_equal(rows->seq[6], 1); /* a's seq 1 at 5 us, then b's at 7 us */
	q.limit = 3000;
	q.oldest_first = false;
	assert_int_equal(query(rd, &q, rows), 7 + 2490);
	assert_int_equal(rows->seq[0], 2499);
	store_reader_close(rd);
	free(rows);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_store_creates_schema, setup),
		cmocka_unit_test_setup(test_store_migrates_old_schema, setup),
		cmocka_unit_test_setup(test_store_migrates_v2_events, setup),
		cmocka_unit_test_setup(test_store_refuses_newer_schema, setup),
		cmocka_unit_test_setup(test_store_refuses_other_files, setup),
		cmocka_unit_test_setup(test_store_policy_crud_and_generations, setup),
		cmocka_unit_test_setup(test_store_events_dedupe_by_node_and_seq, setup),
		cmocka_unit_test_setup(test_store_nodes_and_statuses, setup),
		cmocka_unit_test_setup(test_store_retention_by_age_and_count, setup),
		cmocka_unit_test_setup(test_store_query_filters_and_cursors, setup),
		cmocka_unit_test_setup(test_store_query_timeout, setup),
		cmocka_unit_test_setup(test_store_cursor_text, setup),
		cmocka_unit_test_setup(test_store_ids_are_time_ordered, setup),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
