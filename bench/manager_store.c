// SPDX-License-Identifier: Apache-2.0
/*
 * manager_store: the manager's SQLite store without gRPC.
 *
 *   manager_store fill DB EVENTS     insert EVENTS realistic events from 10 nodes over 7 days,
 *                                    1000 per commit and an fdatasync per commit, as the
 *                                    manager does; print the rate
 *   manager_store query DB           time the history queries (newest 100) on DB
 *
 * Events: 45 % exec, 45 % exit, 10 % kprobe of one of 5 policies (a fifth of those with
 * Sigkill), 200 binaries, ~600 bytes each.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rpc.h"
#include "lib/util.h"
#include "manager/manager.h"

#define NODES 10
#define BINARIES 200
#define SPAN_NS (7ull * 86400 * 1000000000ull)

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char payload[700];

static int fill(const char *path, uint64_t n)
{
	struct store *s;
	char err[512], bin[64], exec_id[64], pol[32];
	int64_t nodes[NODES];
	uint64_t t0, t_end, base = now_realtime_ns() - SPAN_NS, seq = 0;
	uint64_t start = now_monotonic_ns(), last_report = start, done = 0;

	if (store_open(path, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (int i = 0; i < NODES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "node-%02d", i);
		store_node_get(s, name, base, &nodes[i]);
		seq = MAX(seq, store_node_last_seq(s, nodes[i]));
	}
	t0 = now_monotonic_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = next_rand();
		int kind = (int)(r % 20);
		struct store_event e = { 0 };

		e.node_id = nodes[i % NODES];
		e.seq = seq + i / NODES + 1;
		e.time_ns = base + (SPAN_NS / n) * i;
		e.type = kind < 9 ? 1 : kind < 18 ? 5 : 9;
		snprintf(bin, sizeof(bin), "/usr/bin/tool-%03d", (int)((r >> 8) % BINARIES));
		snprintf(exec_id, sizeof(exec_id), "node-%02d:%" PRIu64 ":%u", (int)(i % NODES),
			 e.time_ns, (unsigned)(300 + (i / NODES / 2) % 4000000));
		e.binary = bin;
		e.exec_id = exec_id;
		/* pids grow on a node as processes start, and wrap */
		e.pid = (uint32_t)(300 + (i / NODES / 2) % 4000000);
		e.has_pid = true;
		if (e.type == 9) {
			snprintf(pol, sizeof(pol), "policy-%d", (int)((r >> 40) % 5));
			e.policy = pol;
			e.action = (r >> 44) % 5 == 0 ? 3 : 1;
		}
		e.len = 500 + (size_t)((r >> 48) % 200);
		{
			int k = snprintf(payload, sizeof(payload), "exec_id=%s;", exec_id);

			memset(payload + k, 'e', sizeof(payload) - (size_t)k);
		}
		e.data = payload;
		if (store_event_insert(s, &e) < 0) {
			fprintf(stderr, "insert: %s\n", store_errmsg(s));
			return 1;
		}
		if ((i + 1) % 1000 == 0) {
			if (store_commit(s) < 0 || store_sync(s) < 0 ||
			    (store_checkpoint_due(s) && store_checkpoint(s) < 0)) {
				fprintf(stderr, "commit: %s\n", store_errmsg(s));
				return 1;
			}
			done = i + 1;
			if (now_monotonic_ns() - last_report > 10000000000ull) {
				last_report = now_monotonic_ns();
				fprintf(stderr, "  %" PRIu64 " events, %.0f/s\n", done,
					(double)done * 1e9 / (double)(last_report - start));
			}
		}
	}
	store_commit(s);
	store_sync(s);
	t_end = now_monotonic_ns();
	printf("fill events=%" PRIu64 " seconds=%.1f events_per_s=%.0f total_in_db=%" PRIu64 "\n",
	       n, (double)(t_end - t0) / 1e9, (double)n * 1e9 / (double)(t_end - t0),
	       store_event_count(s));
	store_close(s);
	return 0;
}

static int count_rows(void *ud, const struct store_cursor *at, const void *data, size_t len)
{
	(*(int *)ud)++;
	return 0;
}

struct grab {
	struct store_cursor last;
	char exec_id[64];
	int rows;
};

/* Keep the last row's cursor and the exec_id its payload starts with. */
static int grab_row(void *ud, const struct store_cursor *at, const void *data, size_t len)
{
	struct grab *g = ud;
	const char *p = data, *semi;

	g->rows++;
	g->last = *at;
	if (len > 8 && startswith(p, "exec_id=") && (semi = memchr(p, ';', MIN(len, 80)))) {
		size_t n = MIN((size_t)(semi - p - 8), sizeof(g->exec_id) - 1);

		memcpy(g->exec_id, p + 8, n);
		g->exec_id[n] = '\0';
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int query(const char *path)
{
	struct store_reader *rd;
	char err[512];
	char *node[] = { "node-03" }, *policy[] = { "policy-2" };
	int kprobe[] = { 9 }, sigkill[] = { 3 };
	uint32_t pid[] = { 0 };
	struct {
		const char *name;
		struct store_query q;
	} cases[] = {
		{ "no filter", { 0 } },
		{ "node", { .nodes = node, .n_nodes = 1 } },
		{ "type kprobe", { .types = kprobe, .n_types = 1 } },
		{ "policy", { .policies = policy, .n_policies = 1 } },
		{ "action sigkill", { .actions = sigkill, .n_actions = 1 } },
		{ "node + type kprobe",
		  { .nodes = node, .n_nodes = 1, .types = kprobe, .n_types = 1 } },
		{ "binary regex (0.5 % of events)", { .binary_regex = "tool-042$" } },
		{ "exec_id (one process)", { 0 } },
		{ "last hour", { 0 } },
		{ "oldest first since 3 days ago", { .oldest_first = true } },
		{ "node, second page (cursor)", { .nodes = node, .n_nodes = 1 } },
		{ "pid (one process id)", { .pids = pid, .n_pids = 1 } },
	};
	uint64_t now = now_realtime_ns();
	struct grab g = { 0 };

	if (store_reader_open(path, &rd, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* a real process from the middle of the history, and the cursor after a first page */
	{
		struct store_query q = { .limit = 1,
					 .oldest_first = true,
					 .since_ns = now - SPAN_NS / 2 };

		store_query_events(rd, &q, grab_row, &g, err, sizeof(err));
		cases[7].q.exec_id = g.exec_id;
		/* that process's pid: the exec_id is node:time:pid */
		if (strrchr(g.exec_id, ':'))
			pid[0] = (uint32_t)strtoul(strrchr(g.exec_id, ':') + 1, NULL, 10);
		q = cases[10].q;
		q.limit = 100;
		store_query_events(rd, &q, grab_row, &g, err, sizeof(err));
		cases[10].q.has_cursor = true;
		cases[10].q.cursor = g.last;
	}
	cases[8].q.since_ns = now - 3600ull * 1000000000ull;
	cases[9].q.since_ns = now - 3ull * 86400 * 1000000000ull;
	printf("| %-34s | %6s | %8s | %8s | %8s | %8s |\n", "query, 100 rows at most", "rows",
	       "first ms", "p50 ms", "p99 ms", "max ms");
	printf("|------------------------------------|--------|----------|----------|----------|"
	       "----------|\n");
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		uint64_t t[31];
		int rows = 0, runs = 31;

		cases[c].q.limit = 100;
		/* the first run reads from disk (or the page cache); the others are warm */
		for (int i = 0; i < runs; i++) {
			uint64_t t0 = now_monotonic_ns();
			int r;

			rows = 0;
			r = store_query_events(rd, &cases[c].q, count_rows, &rows, err,
					       sizeof(err));
			t[i] = now_monotonic_ns() - t0;
			if (r < 0) {
				fprintf(stderr, "%s: %s\n", cases[c].name, err);
				return 1;
			}
		}
		qsort(t + 1, (size_t)runs - 1, sizeof(t[0]), cmp_u64);
		printf("| %-34s | %6d | %8.2f | %8.2f | %8.2f | %8.2f |\n", cases[c].name, rows,
		       (double)t[0] / 1e6, (double)t[1 + (runs - 1) / 2] / 1e6,
		       (double)t[1 + (size_t)(0.99 * (runs - 2) + 0.5)] / 1e6,
		       (double)t[runs - 1] / 1e6);
	}
	store_reader_close(rd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n;

	if (argc == 4 && streq(argv[1], "fill") && parse_u64(argv[3], &n) == 0)
		return fill(argv[2], n);
	if (argc == 3 && streq(argv[1], "query"))
		return query(argv[2]);
	fprintf(stderr, "usage: %s fill DB EVENTS | query DB\n", argv[0]);
	return 2;
}
