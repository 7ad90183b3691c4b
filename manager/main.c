// SPDX-License-Identifier: Apache-2.0
/*
 * tetragon-manager: one per fleet. Keeps the fleet's TracingPolicies and their mode in
 * SQLite, pushes them to every agent, records what each agent reports, and keeps the
 * event history of the whole fleet.
 *
 * The loop: gRPC completions arrive through lib/rpc; event batches go into an open store
 * transaction; right before the loop sleeps (uv_prepare) the transaction is committed and
 * a worker thread syncs the WAL; when the sync is done the agents get their acks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "manager/manager.h"

#define RETENTION_PERIOD_MS 1000
#define RETENTION_BEHIND_MS 20

static int lock_fd = -1;

struct options {
	struct manager_config cfg;
	const char *log_level;
	const char *log_format;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tetragon-manager [OPTIONS]\n"
		"\n"
		"The fleet manager: stores TracingPolicies and their mode, pushes them to every\n"
		"agent (tetragon --manager-address), and keeps the fleet's event history.\n"
		"\n"
		"Options:\n"
		"  --listen ADDR                gRPC address for agents and tetra (default: %s)\n"
		"  --db FILE                    SQLite database (default: %s)\n"
		"  --retention-age DURATION     Delete events older than this, e.g. 30d, 12h\n"
		"                               (default: 0, keep them)\n"
		"  --retention-events N         Keep at most N events, deleting the oldest\n"
		"                               (default: 0, no limit)\n"
		"  --heartbeat-interval DURATION  Heartbeat to agents; three missed ones end a\n"
		"                               stream (default: 5s)\n"
		"  --event-queue-size N         Events queued per GetEvents subscriber before drops\n"
		"                               (default: 10000)\n"
		"  --query-timeout DURATION     Longest a history query may run (default: 10s)\n"
		"  --tls-cert FILE              Serve TLS with this PEM certificate (with --tls-key)\n"
		"  --tls-key FILE               The certificate's PEM private key\n"
		"  --tls-client-ca FILE         Mutual TLS: every agent and tetra must present a\n"
		"                               certificate this CA signed, and an agent's node name\n"
		"                               must be one of its certificate's names (SAN or CN)\n"
		"  --tls-any-node-name          With --tls-client-ca: do not match node names to\n"
		"                               certificates (one certificate for every node)\n"
		"  --log-level LEVEL            error, warn, info, debug, trace (default: info)\n"
		"  --log-format FORMAT          text or json (default: text)\n"
		"  -d, --debug                  Same as --log-level debug\n"
		"  --version                    Print the version and exit\n"
		"  -h, --help                   Print this help and exit\n",
		MANAGER_DEFAULT_LISTEN, MANAGER_DEFAULT_DB);
}

enum {
	OPT_LISTEN = 256,
	OPT_DB,
	OPT_RETENTION_AGE,
	OPT_RETENTION_EVENTS,
	OPT_HEARTBEAT,
	OPT_EVENT_QUEUE,
	OPT_QUERY_TIMEOUT,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_VERSION,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CLIENT_CA,
	OPT_TLS_ANY_NODE,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "db", required_argument, NULL, OPT_DB },
	{ "retention-age", required_argument, NULL, OPT_RETENTION_AGE },
	{ "retention-events", required_argument, NULL, OPT_RETENTION_EVENTS },
	{ "heartbeat-interval", required_argument, NULL, OPT_HEARTBEAT },
	{ "event-queue-size", required_argument, NULL, OPT_EVENT_QUEUE },
	{ "query-timeout", required_argument, NULL, OPT_QUERY_TIMEOUT },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-client-ca", required_argument, NULL, OPT_TLS_CLIENT_CA },
	{ "tls-any-node-name", no_argument, NULL, OPT_TLS_ANY_NODE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "debug", no_argument, NULL, 'd' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int bad_value(const char *opt, const char *value, const char *what)
{
	log_error("Invalid value '%s' for --%s: %s", value, opt, what);
	return -EINVAL;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->cfg.listen = MANAGER_DEFAULT_LISTEN;
	o->cfg.db_path = MANAGER_DEFAULT_DB;
	o->cfg.heartbeat_ms = 5000;
	o->cfg.subscriber_queue = 10000;
	o->cfg.query_timeout_ms = 10000;
	o->cfg.retention_chunk = 2000;

	while ((c = getopt_long(argc, argv, "dh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			if (!*optarg)
				return bad_value("listen", optarg, "expected HOST:PORT");
			o->cfg.listen = optarg;
			break;
		case OPT_DB:
			if (!*optarg)
				return bad_value("db", optarg, "expected a file name");
			o->cfg.db_path = optarg;
			break;
		case OPT_RETENTION_AGE:
			if (streq(optarg, "0")) {
				o->cfg.retention_age_ns = 0;
				break;
			}
			if (parse_duration(optarg, &v) < 0 || v < 1000000000ull)
				return bad_value("retention-age", optarg,
						 "expected a duration of at least 1s, such as 30d, "
						 "or 0");
			o->cfg.retention_age_ns = v;
			break;
		case OPT_RETENTION_EVENTS:
			if (parse_u64(optarg, &v) < 0 || v > INT64_MAX)
				return bad_value("retention-events", optarg,
						 "expected a number of events, or 0");
			o->cfg.retention_events = v;
			break;
		case OPT_HEARTBEAT:
			if (parse_duration(optarg, &v) < 0 || v < 100000000ull ||
			    v > 600000000000ull)
				return bad_value("heartbeat-interval", optarg,
						 "expected a duration from 100ms to 10m");
			o->cfg.heartbeat_ms = (unsigned)(v / 1000000ull);
			break;
		case OPT_EVENT_QUEUE:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > (1u << 24))
				return bad_value("event-queue-size", optarg,
						 "expected 1 to 16777216");
			o->cfg.subscriber_queue = v;
			break;
		case OPT_QUERY_TIMEOUT:
			if (parse_duration(optarg, &v) < 0 || v < 1000000ull ||
			    v > 3600000000000ull)
				return bad_value("query-timeout", optarg,
						 "expected a duration from 1ms to 1h");
			o->cfg.query_timeout_ms = (unsigned)(v / 1000000ull);
			break;
		case OPT_TLS_CERT:
			o->cfg.tls.cert = optarg;
			break;
		case OPT_TLS_KEY:
			o->cfg.tls.key = optarg;
			break;
		case OPT_TLS_CLIENT_CA:
			o->cfg.tls.ca = optarg;
			break;
		case OPT_TLS_ANY_NODE:
			o->cfg.tls_any_node_name = true;
			break;
		case OPT_LOG_LEVEL:
			o->log_level = optarg;
			break;
		case OPT_LOG_FORMAT:
			o->log_format = optarg;
			break;
		case 'd':
			o->log_level = "debug";
			break;
		case OPT_VERSION:
			printf("tetragon-manager %s\n", TETRA_VERSION);
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("Unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (tls_wanted(&o->cfg.tls) && (!o->cfg.tls.cert || !o->cfg.tls.key)) {
		log_error("TLS needs --tls-cert and --tls-key%s",
			  o->cfg.tls.ca ? " (--tls-client-ca alone is not enough)" : "");
		return -EINVAL;
	}
	if (log_configure(o->log_level, o->log_format) < 0)
		return -EINVAL;
	return 0;
}

static void grpc_log(gpr_log_func_args *args)
{
	if (args->severity == GPR_LOG_SEVERITY_ERROR)
		log_debug("grpc: %s", args->message);
	else
		log_trace("grpc: %s", args->message);
}

static void on_prepare(uv_prepare_t *h)
{
	struct manager *m = h->data;

	durable_commit(m);
	durable_sync(m);
}

static void on_heartbeat(uv_timer_t *t)
{
	struct manager *m = t->data;

	session_tick(m);
	/* a failed sync is retried from here when nothing else wakes the loop */
	durable_sync(m);
}

static void on_retention(uv_timer_t *t)
{
	struct manager *m = t->data;
	uint64_t min_time = 0, now = now_realtime_ns();
	unsigned deleted = 0;
	int r;

	if (m->cfg.retention_age_ns && now > m->cfg.retention_age_ns)
		min_time = now - m->cfg.retention_age_ns;
	r = store_retention_step(m->store, min_time, m->cfg.retention_events,
				 m->cfg.retention_chunk, &deleted);
	if (r < 0) {
		m->stats.retention_errors++;
		log_error("Failed to delete old events: %s", store_errmsg(m->store));
	}
	m->stats.retention_deleted += deleted;
	/* behind: come back soon, after the loop has served everything else */
	uv_timer_start(
		t, on_retention,
		deleted == m->cfg.retention_chunk ? RETENTION_BEHIND_MS : RETENTION_PERIOD_MS, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Start and stop */

static void cq_done(void *ud)
{
	(void)ud;
}

static void server_stopped(void *ud)
{
	struct manager *m = ud;

	rpc_cq_shutdown(m->cq, cq_done, m);
	m->cq = NULL;
	durable_commit(m);
	uv_prepare_stop(&m->commit);
	uv_close((uv_handle_t *)&m->commit, NULL);
}

static void stop(struct manager *m)
{
	if (m->stopping)
		return;
	m->stopping = true;
	log_info("Shutting down");
	uv_close((uv_handle_t *)&m->sigint, NULL);
	uv_close((uv_handle_t *)&m->sigterm, NULL);
	uv_close((uv_handle_t *)&m->heartbeat, NULL);
	uv_close((uv_handle_t *)&m->retention, NULL);
	api_queries_free(m);
	api_stop(m, server_stopped, m);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct manager *m = h->data;

	log_info("Received %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
	stop(m);
}

static int prepare_db_dir(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	const char *dir;
	struct stat st;
	int r;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return log_error_errno(-ENOTDIR,
					       "Cannot use the database '%s': '%s' is "
					       "not a directory",
					       path, dir);
		return 0;
	}
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return log_error_errno(r, "Failed to create the database directory '%s': %m", dir);
	return 0;
}

/* One manager per database: a second one would keep its own idea of the fleet. */
static int lock_db(const char *path, int *ret)
{
	_cleanup_free_ char *lock = NULL;
	int fd;

	if (asprintf(&lock, "%s.lock", path) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(-errno, "Failed to open the lock file '%s': %m", lock);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;

		close(fd);
		if (r == -EWOULDBLOCK)
			return log_error_errno(r, "Another tetragon-manager uses the database '%s'",
					       path);
		return log_error_errno(r, "Failed to lock '%s': %m", lock);
	}
	*ret = fd;
	return 0;
}

/* Every agent holds a connection: the soft limit (often 1024) would cap the fleet. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn_errno(-errno,
				       "Failed to raise the open file limit to %llu, ignoring: %m",
				       (unsigned long long)rl.rlim_max);
	}
}

static int setup(struct manager *m, const struct options *o)
{
	char err[600];
	int r;

	m->cfg = o->cfg;
	m->start_ns = now_monotonic_ns();
	raise_fd_limit();
	uv_mutex_init(&m->readers_lock);
	r = prepare_db_dir(m->cfg.db_path);
	if (r < 0)
		return r;
	r = lock_db(m->cfg.db_path, &lock_fd);
	if (r < 0)
		return r;
	r = store_open(m->cfg.db_path, &m->store, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "Failed to open the database '%s': %s", m->cfg.db_path,
				       err);
	r = fleet_load(m);
	if (r < 0)
		return log_error_errno(r, "Failed to load the fleet from '%s': %s", m->cfg.db_path,
				       r == -ENOMEM ? "out of memory" : store_errmsg(m->store));
	m->synced_epoch = store_committed_epoch(m->store);
	log_info("Database %s: %zu policies at generation %llu, %zu nodes, %llu events",
		 m->cfg.db_path, m->n_policies, (unsigned long long)store_generation(m->store),
		 m->n_nodes, (unsigned long long)store_event_count(m->store));

	r = rpc_cq_new(m->loop, &m->cq);
	if (r < 0)
		return log_error_errno(r, "Failed to start the gRPC completion queue: %m");
	uv_prepare_init(m->loop, &m->commit);
	m->commit.data = m;
	uv_prepare_start(&m->commit, on_prepare);
	r = api_start(m);
	if (r < 0)
		return r;

	uv_timer_init(m->loop, &m->heartbeat);
	m->heartbeat.data = m;
	uv_timer_start(&m->heartbeat, on_heartbeat, m->cfg.heartbeat_ms, m->cfg.heartbeat_ms);
	uv_timer_init(m->loop, &m->retention);
	m->retention.data = m;
	if (m->cfg.retention_age_ns || m->cfg.retention_events)
		uv_timer_start(&m->retention, on_retention, RETENTION_BEHIND_MS, 0);
	uv_signal_init(m->loop, &m->sigint);
	uv_signal_init(m->loop, &m->sigterm);
	m->sigint.data = m->sigterm.data = m;
	uv_signal_start(&m->sigint, on_signal, SIGINT);
	uv_signal_start(&m->sigterm, on_signal, SIGTERM);
	malloc_trim(0);
	log_info("Manager ready");
	return 0;
}

static void teardown(struct manager *m)
{
	if (m->server) {
		api_queries_free(m);
		api_stop(m, server_stopped, m);
		uv_run(m->loop, UV_RUN_DEFAULT);
	} else if (m->cq) {
		rpc_cq_shutdown(m->cq, cq_done, m);
		m->cq = NULL;
		if (!uv_is_closing((uv_handle_t *)&m->commit) && m->commit.data)
			uv_close((uv_handle_t *)&m->commit, NULL);
		uv_run(m->loop, UV_RUN_DEFAULT);
	}
	api_queries_free(m);
	if (m->store) {
		int r = store_commit(m->store);

		if (r == 0)
			r = store_sync(m->store);
		if (r < 0)
			log_error_errno(r, "Failed to write the last changes to the database: %s",
					store_errmsg(m->store));
	}
	fleet_free(m);
	m->store = store_close(m->store);
	uv_mutex_destroy(&m->readers_lock);
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct manager m;
	int r;

	log_set_ident("tetragon-manager");
	signal(SIGPIPE, SIG_IGN);
	r = parse_options(argc, argv, &o);
	if (r < 0)
		return 2;
	/* history queries take at most MANAGER_MAX_QUERIES threads; syncs always find one */
	setenv("UV_THREADPOOL_SIZE", "8", 0);
	gpr_set_log_function(grpc_log);
	grpc_init();

	memset(&m, 0, sizeof(m));
	m.loop = uv_default_loop();
	r = setup(&m, &o);
	if (r < 0) {
		teardown(&m);
		uv_loop_close(m.loop);
		grpc_shutdown();
		return 1;
	}
	uv_run(m.loop, UV_RUN_DEFAULT);
	teardown(&m);
	uv_loop_close(m.loop);
	grpc_shutdown();
	return m.exit_code;
}
