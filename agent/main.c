// SPDX-License-Identifier: Apache-2.0
/*
 * tetragon: the agent. Loads the BPF sensors, keeps the process cache, and
 * serves events over gRPC and to the export file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include "agent/agent.h"
#include "agent/export.h"
#include "agent/observer.h"
#include "agent/policies.h"
#include "lib/probe.h"
#include "agent/procfs.h"
#include "agent/sensor_exec.h"
#include "agent/server.h"
#include "agent/pin.h"
#include "agent/takeover.h"
#include "agent/uplink.h"
#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/util.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define MAX_POLICY_FILES 64

struct options {
	struct agent_config cfg;
	const char *policy_files[MAX_POLICY_FILES];
	size_t n_policy_files;
	const char *policy_dir;
	const char *btf;
	const char *bpf_lib;
	const char *log_level;
	const char *log_format;
	uint64_t export_max_size_mb;
	const char *manager_address;
	uint64_t manager_spool_mb;
	struct tls_files manager_tls;
	char node_name[256];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tetragon [OPTIONS]\n"
		"\n"
		"eBPF security observability and runtime enforcement agent.\n"
		"\n"
		"Options:\n"
		"  --node-name NAME               Node name in events (default: $NODE_NAME or the host name)\n"
		"  --server-address ADDR          gRPC TCP address (default: localhost:54321; \"\" disables)\n"
		"  --server-unix-socket PATH      gRPC unix socket, mode 0600 (default: /var/run/tetragon/tetragon.sock;\n"
		"                                 \"\" disables)\n"
		"  --export-filename FILE         Write events as JSON lines to FILE\n"
		"  --export-file-max-size-mb N    Rotate the export file at N MiB (default: 10)\n"
		"  --export-file-max-backups N    Keep N rotated files (default: 5)\n"
		"  --export-file-perm MODE        Export file permissions, octal (default: 600)\n"
		"  --rb-size BYTES                Ring buffer size, a power of two (default: 2097152)\n"
		"  --process-cache-size N         Process cache entries (default: 65536)\n"
		"  --event-queue-size N           Events queued per GetEvents subscriber before drops (default: 10000)\n"
		"  --enable-process-cred          Include process credentials and capabilities in events\n"
		"  --enable-process-ns            Include process namespaces in events\n"
		"  --tracing-policy FILE          Load the TracingPolicies in FILE (repeatable)\n"
		"  --tracing-policy-dir DIR       Load every *.yaml/*.yml policy file under DIR\n"
		"  --keep-sensors-on-exit[=BOOL]  Pin programs and links under /sys/fs/bpf/tetragon so that\n"
		"                                 enforcement stays in the kernel when the agent exits\n"
		"  --release-pinned-bpf[=BOOL]    Remove what a previous agent pinned once this one has taken\n"
		"                                 over (default: true)\n"
		"  --cgroup DIR                   Observe and enforce only for tasks in this cgroup v2 subtree\n"
		"                                 (several agents on one host act as separate nodes)\n"
		"  --bpf-dir NAME                 Pin directory under /sys/fs/bpf (default: tetragon)\n"
		"  --state-dir DIR                Policies added over gRPC are kept here (default: /var/lib/tetragon)\n"
		"  --manager-address HOST:PORT    Join the fleet of this tetragon-manager: apply its policies,\n"
		"                                 report status and send every event (spooled while it is away)\n"
		"  --manager-spool-max-mb N       Events kept on disk while the manager is away (default: 256)\n"
		"  --manager-tls-ca FILE          Talk TLS to the manager; its certificate is signed by this CA\n"
		"  --manager-tls-cert FILE        This node's certificate for mutual TLS (with --manager-tls-key)\n"
		"  --manager-tls-key FILE         The private key of --manager-tls-cert\n"
		"  --btf FILE                     Kernel BTF (default: /sys/kernel/btf/vmlinux)\n"
		"  --bpf-lib DIR                  Accepted for compatibility; BPF objects are built into the agent\n"
		"  --procfs DIR                   procfs mount (default: /proc)\n"
		"  --log-level LEVEL              error, warn, info, debug, trace (default: info)\n"
		"  --log-format FORMAT            text or json (default: text)\n"
		"  -d, --debug                    Same as --log-level debug\n"
		"  --version                      Print the version and exit\n"
		"  -h, --help                     Print this help and exit\n");
}

enum {
	OPT_NODE_NAME = 256,
	OPT_SERVER_ADDRESS,
	OPT_UNIX_SOCKET,
	OPT_EXPORT_FILENAME,
	OPT_EXPORT_MAX_SIZE,
	OPT_EXPORT_MAX_BACKUPS,
	OPT_EXPORT_PERM,
	OPT_RB_SIZE,
	OPT_CACHE_SIZE,
	OPT_EVENT_QUEUE,
	OPT_PROCESS_CRED,
	OPT_PROCESS_NS,
	OPT_POLICY,
	OPT_POLICY_DIR,
	OPT_BTF,
	OPT_BPF_LIB,
	OPT_PROCFS,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_VERSION,
	OPT_KEEP_SENSORS,
	OPT_RELEASE_PINNED,
	OPT_STATE_DIR,
	OPT_BPF_DIR,
	OPT_CGROUP,
	OPT_MANAGER_ADDRESS,
	OPT_MANAGER_SPOOL,
	OPT_MANAGER_TLS_CA,
	OPT_MANAGER_TLS_CERT,
	OPT_MANAGER_TLS_KEY,
};

static const struct option long_options[] = {
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "server-address", required_argument, NULL, OPT_SERVER_ADDRESS },
	{ "server-unix-socket", required_argument, NULL, OPT_UNIX_SOCKET },
	{ "export-filename", required_argument, NULL, OPT_EXPORT_FILENAME },
	{ "export-file-max-size-mb", required_argument, NULL, OPT_EXPORT_MAX_SIZE },
	{ "export-file-max-backups", required_argument, NULL, OPT_EXPORT_MAX_BACKUPS },
	{ "export-file-perm", required_argument, NULL, OPT_EXPORT_PERM },
	{ "rb-size", required_argument, NULL, OPT_RB_SIZE },
	{ "process-cache-size", required_argument, NULL, OPT_CACHE_SIZE },
	{ "event-queue-size", required_argument, NULL, OPT_EVENT_QUEUE },
	{ "enable-process-cred", no_argument, NULL, OPT_PROCESS_CRED },
	{ "enable-process-ns", no_argument, NULL, OPT_PROCESS_NS },
	{ "tracing-policy", required_argument, NULL, OPT_POLICY },
	{ "tracing-policy-dir", required_argument, NULL, OPT_POLICY_DIR },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "bpf-lib", required_argument, NULL, OPT_BPF_LIB },
	{ "procfs", required_argument, NULL, OPT_PROCFS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "keep-sensors-on-exit", optional_argument, NULL, OPT_KEEP_SENSORS },
	{ "release-pinned-bpf", optional_argument, NULL, OPT_RELEASE_PINNED },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "bpf-dir", required_argument, NULL, OPT_BPF_DIR },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "manager-address", required_argument, NULL, OPT_MANAGER_ADDRESS },
	{ "manager-spool-max-mb", required_argument, NULL, OPT_MANAGER_SPOOL },
	{ "manager-tls-ca", required_argument, NULL, OPT_MANAGER_TLS_CA },
	{ "manager-tls-cert", required_argument, NULL, OPT_MANAGER_TLS_CERT },
	{ "manager-tls-key", required_argument, NULL, OPT_MANAGER_TLS_KEY },
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

/* "--flag" alone is true; "--flag=false" as the Go flags of Tetragon take it. */
static int parse_flag(const char *opt, const char *value, bool *out)
{
	if (!value || streq(value, "true") || streq(value, "1")) {
		*out = true;
		return 0;
	}
	if (streq(value, "false") || streq(value, "0")) {
		*out = false;
		return 0;
	}
	return bad_value(opt, value, "expected true or false");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	const char *env;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->cfg.server_address = "localhost:54321";
	o->cfg.unix_socket = "/var/run/tetragon/tetragon.sock";
	o->cfg.export_max_backups = 5;
	o->cfg.export_perm = 0600;
	o->cfg.ringbuf_size = 2u << 20;
	o->cfg.process_cache_size = 65536;
	o->cfg.subscriber_queue = 10000;
	o->cfg.state_dir = "/var/lib/tetragon";
	o->cfg.procfs = "/proc";
	o->cfg.release_pinned = true;
	o->export_max_size_mb = 10;

	while ((c = getopt_long(argc, argv, "dh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_NODE_NAME:
			if (!*optarg || strlen(optarg) >= sizeof(o->node_name))
				return bad_value("node-name", optarg,
						 "must be 1 to 255 characters");
			o->cfg.node_name = optarg;
			break;
		case OPT_SERVER_ADDRESS:
			o->cfg.server_address = optarg;
			break;
		case OPT_UNIX_SOCKET:
			o->cfg.unix_socket = optarg;
			break;
		case OPT_EXPORT_FILENAME:
			o->cfg.export_filename = optarg;
			break;
		case OPT_EXPORT_MAX_SIZE:
			if (parse_u64(optarg, &o->export_max_size_mb) < 0 ||
			    o->export_max_size_mb > (1u << 20))
				return bad_value("export-file-max-size-mb", optarg,
						 "expected a number of MiB");
			break;
		case OPT_EXPORT_MAX_BACKUPS:
			if (parse_u64(optarg, &v) < 0 || v > 10000)
				return bad_value("export-file-max-backups", optarg,
						 "expected 0 to 10000");
			o->cfg.export_max_backups = (unsigned)v;
			break;
		case OPT_EXPORT_PERM: {
			char *end;
			long m = strtol(optarg, &end, 8);

			if (!*optarg || *end || m < 0 || m > 0777)
				return bad_value("export-file-perm", optarg,
						 "expected an octal mode such as 600");
			o->cfg.export_perm = (int)m;
			break;
		}
		case OPT_RB_SIZE:
			if (parse_u64(optarg, &v) < 0 || v < 4096 || v > (1u << 30) ||
			    (v & (v - 1)))
				return bad_value("rb-size", optarg,
						 "expected a power of two from 4096 to 1073741824");
			o->cfg.ringbuf_size = v;
			break;
		case OPT_CACHE_SIZE:
			if (parse_u64(optarg, &v) < 0 || v < 64 || v > (1u << 24))
				return bad_value("process-cache-size", optarg,
						 "expected 64 to 16777216");
			o->cfg.process_cache_size = v;
			break;
		case OPT_EVENT_QUEUE:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > (1u << 24))
				return bad_value("event-queue-size", optarg,
						 "expected 1 to 16777216");
			o->cfg.subscriber_queue = v;
			break;
		case OPT_PROCESS_CRED:
			o->cfg.process_cred = true;
			break;
		case OPT_PROCESS_NS:
			o->cfg.process_ns = true;
			break;
		case OPT_POLICY:
			if (o->n_policy_files == MAX_POLICY_FILES)
				return bad_value("tracing-policy", optarg, "too many policy files");
			o->policy_files[o->n_policy_files++] = optarg;
			break;
		case OPT_POLICY_DIR:
			o->policy_dir = optarg;
			break;
		case OPT_BTF:
			o->btf = optarg;
			o->cfg.btf_path = optarg;
			break;
		case OPT_BPF_LIB:
			o->bpf_lib = optarg;
			break;
		case OPT_PROCFS:
			o->cfg.procfs = optarg;
			break;
		case OPT_LOG_LEVEL:
			o->log_level = optarg;
			break;
		case OPT_LOG_FORMAT:
			o->log_format = optarg;
			break;
		case OPT_KEEP_SENSORS:
			if (parse_flag("keep-sensors-on-exit", optarg, &o->cfg.keep_sensors) < 0)
				return -EINVAL;
			break;
		case OPT_RELEASE_PINNED:
			if (parse_flag("release-pinned-bpf", optarg, &o->cfg.release_pinned) < 0)
				return -EINVAL;
			break;
		case OPT_CGROUP:
			if (!*optarg)
				return bad_value("cgroup", optarg,
						 "expected a cgroup v2 directory");
			o->cfg.cgroup_scope = optarg;
			break;
		case OPT_BPF_DIR:
			if (pin_set_dir(optarg) < 0)
				return bad_value(
					"bpf-dir", optarg,
					"expected a name of 1 to 64 characters without '/'");
			break;
		case OPT_MANAGER_ADDRESS:
			if (!*optarg || !strchr(optarg, ':'))
				return bad_value("manager-address", optarg, "expected HOST:PORT");
			o->manager_address = optarg;
			break;
		case OPT_MANAGER_SPOOL:
			if (parse_u64(optarg, &o->manager_spool_mb) < 0 || !o->manager_spool_mb ||
			    o->manager_spool_mb > (1u << 20))
				return bad_value("manager-spool-max-mb", optarg,
						 "expected 1 to 1048576 (MiB)");
			break;
		case OPT_MANAGER_TLS_CA:
			o->manager_tls.ca = optarg;
			break;
		case OPT_MANAGER_TLS_CERT:
			o->manager_tls.cert = optarg;
			break;
		case OPT_MANAGER_TLS_KEY:
			o->manager_tls.key = optarg;
			break;
		case OPT_STATE_DIR:
			if (!*optarg)
				return bad_value("state-dir", optarg, "expected a directory");
			o->cfg.state_dir = optarg;
			break;
		case 'd':
			o->log_level = "debug";
			break;
		case OPT_VERSION:
			printf("tetragon %s\n", TETRA_VERSION);
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
	if (tls_wanted(&o->manager_tls) && !o->manager_address) {
		log_error("--manager-tls-* need --manager-address");
		return -EINVAL;
	}
	if (!o->manager_tls.cert != !o->manager_tls.key) {
		log_error("--manager-tls-cert and --manager-tls-key go together");
		return -EINVAL;
	}
	if (log_configure(o->log_level, o->log_format) < 0)
		return -EINVAL;
	o->cfg.export_max_size = o->export_max_size_mb << 20;

	if (!o->cfg.node_name) {
		env = getenv("HUBBLE_NODE_NAME");
		if (!env || !*env)
			env = getenv("NODE_NAME");
		if (env && *env && strlen(env) < sizeof(o->node_name)) {
			snprintf(o->node_name, sizeof(o->node_name), "%s", env);
		} else if (gethostname(o->node_name, sizeof(o->node_name) - 1) < 0) {
			snprintf(o->node_name, sizeof(o->node_name), "localhost");
		}
		o->cfg.node_name = o->node_name;
	}
	if (streq(o->cfg.server_address, "localhost:54321"))
		o->cfg.server_address = "127.0.0.1:54321";
	return 0;
}

/*
 * libbpf's messages; a verifier log can be megabytes: at warn level only its
 * last lines (where the reason is) are printed, all of it at trace level.
 */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level l = level == LIBBPF_WARN ? LOG_LEVEL_WARN :
			   level == LIBBPF_INFO ? LOG_LEVEL_DEBUG :
						  LOG_LEVEL_TRACE;
	char *buf = NULL, *start, *end;
	int lines = 0, max_lines;

	if (log_get_level() < l || vasprintf(&buf, fmt, ap) < 0)
		return 0;
	end = buf + strlen(buf);
	while (end > buf && end[-1] == '\n')
		*--end = '\0';
	max_lines = log_get_level() >= LOG_LEVEL_TRACE ? INT32_MAX : 40;
	start = end;
	while (start > buf && lines < max_lines) {
		start--;
		if (*start == '\n')
			lines++;
	}
	if (start > buf) {
		int left = 0;

		for (const char *c = buf; c < start; c++)
			left += *c == '\n';
		log_internal(l, 0, "libbpf", 0, "(the first %d lines of this log are left out)",
			     left + 1);
		start++;
	}
	for (char *line = start, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		log_internal(l, 0, "libbpf", 0, "%s", line);
	}
	free(buf);
	return 0;
}

static void grpc_log(gpr_log_func_args *args)
{
	if (args->severity == GPR_LOG_SEVERITY_ERROR)
		log_debug("grpc: %s", args->message);
	else
		log_trace("grpc: %s", args->message);
}

/* Mount fstype at path unless something of that type is already there. */
static int ensure_mount(const char *path, const char *fstype, long magic)
{
	struct statfs sfs;

	if (statfs(path, &sfs) == 0 && (long)sfs.f_type == magic)
		return 0;
	if (mkdir_p(path, 0755) < 0)
		return -errno;
	if (mount(fstype, path, fstype, 0, NULL) < 0)
		return -errno;
	log_info("Mounted %s at %s", fstype, path);
	return 0;
}

/* Every policy document of a file goes in, or the agent does not start. */
static int load_policy_file(struct agent *a, const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t len, start = 0;
	int r;

	r = read_file(path, 2 << 20, &text, &len);
	if (r < 0)
		return log_error_errno(r, "Failed to read policy file '%s': %m", path);
	/* one document at a time, so that each is added (and named in errors) on its own */
	while (start < len) {
		char *next = strstr(text + start, "\n---");
		size_t end = next ? (size_t)(next - text) + 1 : len;
		char *err = NULL;
		bool blank = true;

		for (size_t i = start; i < end && blank; i++)
			blank = text[i] == ' ' || text[i] == '\n' || text[i] == '\t' ||
				(text[i] == '-' && i + 2 < end && text[i + 1] == '-' &&
				 text[i + 2] == '-');
		if (!blank) {
			r = policies_add(a, text + start, end - start, path, POLICY_DOMAIN_STATIC,
					 MODE_REQ_KEEP, &err);
			if (r < 0) {
				log_error("Failed to load policy file '%s':\n%s", path,
					  err ? err : strerror(-r));
				free(err);
				return r;
			}
		}
		start = next ? end + 3 : len;
	}
	return 0;
}

static int load_policy_dir(struct agent *a, const char *dir)
{
	struct dirent **names = NULL;
	int n, r = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		return log_error_errno(-errno, "Failed to read policy directory '%s': %m", dir);
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (r == 0 &&
		    (endswith(names[i]->d_name, ".yaml") || endswith(names[i]->d_name, ".yml"))) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				r = load_policy_file(a, path);
		} else if (r == 0 && names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				r = load_policy_dir(a, path);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static void export_event(struct event_sink *s, struct agent_event *ev)
{
	struct agent *a = container_of(s, struct agent, export_sink);

	exporter_write(a->exporter, &ev->msg->base);
}

static void on_prepare(uv_prepare_t *h)
{
	struct agent *a = h->data;

	if (a->exporter && exporter_pending(a->exporter))
		exporter_flush(a->exporter);
}

static void cq_done(void *ud)
{
	(void)ud;
}

static void server_stopped(void *ud)
{
	struct agent *a = ud;

	rpc_cq_shutdown(a->cq, cq_done, a);
	a->cq = NULL;
}

static void uplink_stopped(void *ud)
{
	struct agent *a = ud;

	agent_server_stop(a, server_stopped, a);
}

static void stop(struct agent *a)
{
	struct uplink *u = a->uplink;

	if (a->stopping)
		return;
	a->stopping = true;
	log_info("Shutting down");
	if (a->observer) {
		/* what is in the buffer now still reaches the export file */
		observer_drain(a->observer);
		observer_free(a->observer);
		a->observer = NULL;
	}
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_prepare_stop(&a->flush);
	uv_close((uv_handle_t *)&a->flush, NULL);
	/* the uplink's call runs on our completion queue: it ends first */
	a->uplink = NULL;
	if (u)
		uplink_stop(u, uplink_stopped, a);
	else
		agent_server_stop(a, server_stopped, a);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct agent *a = h->data;

	log_info("Received %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
	stop(a);
}

static int setup(struct agent *a, const struct options *o)
{
	struct process_cache_config pcc = { 0 };
	struct sensor_exec_config sec = { .scope_cgroup_fd = -1 };
	struct takeover *t = NULL;
	struct procfs_stats ps;
	struct stat st;
	int r;

	a->cfg = o->cfg;
	a->scope_cgroup_fd = -1;
	a->start_ns = now_monotonic_ns();
	a->boot_time_ns = boot_time_ns();
	bus_init(&a->bus);

	if (o->btf) {
		if (stat(o->btf, &st) < 0)
			return log_error_errno(-errno, "Cannot read the BTF file '%s': %m", o->btf);
	} else if (stat("/sys/kernel/btf/vmlinux", &st) < 0) {
		return log_error_errno(
			-ENOENT,
			"Kernel BTF not found at /sys/kernel/btf/vmlinux: the kernel needs "
			"CONFIG_DEBUG_INFO_BTF=y, or pass --btf FILE");
	}
	if (o->bpf_lib)
		log_info("BPF objects are built into this agent; --bpf-lib '%s' is not needed",
			 o->bpf_lib);
	if (a->cfg.cgroup_scope) {
		struct statfs sfs;

		a->scope_cgroup_fd = open(a->cfg.cgroup_scope, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (a->scope_cgroup_fd < 0)
			return log_error_errno(-errno, "Cannot open the cgroup '%s': %m",
					       a->cfg.cgroup_scope);
		if (fstatfs(a->scope_cgroup_fd, &sfs) < 0 ||
		    (long)sfs.f_type != CGROUP2_SUPER_MAGIC)
			return log_error_errno(-EINVAL, "'%s' is not a cgroup v2 directory",
					       a->cfg.cgroup_scope);
		log_info("Confined to the tasks of cgroup %s", a->cfg.cgroup_scope);
	}
	r = ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC);
	if (r < 0)
		return log_error_errno(r, "Failed to mount bpffs at /sys/fs/bpf: %m");
	r = ensure_mount("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);
	if (r < 0)
		log_warn_errno(r, "Failed to mount tracefs at /sys/kernel/tracing, ignoring: %m");
	if (a->cfg.unix_socket && *a->cfg.unix_socket) {
		char dir[4096];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", a->cfg.unix_socket);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			r = mkdir_p(dir, 0755);
			if (r < 0)
				return log_error_errno(r, "Failed to create '%s': %m", dir);
		}
	}

	pcc.node_name = a->cfg.node_name;
	pcc.boot_time_ns = a->boot_time_ns;
	pcc.capacity = a->cfg.process_cache_size;
	pcc.process_cred = a->cfg.process_cred;
	pcc.process_ns = a->cfg.process_ns;
	procfs_host_namespaces(a->cfg.procfs, pcc.host_ns);
	r = process_cache_new(&pcc, &a->cache);
	if (r < 0)
		return log_error_errno(r, "Failed to create the process cache: %m");

	r = rpc_cq_new(a->loop, &a->cq);
	if (r < 0)
		return log_error_errno(r, "Failed to start the gRPC completion queue: %m");
	r = agent_server_start(a);
	if (r < 0)
		return r;

	probe_kernel(&a->kf, o->btf, NULL, 0);
	log_debug("Kernel: kprobe %d, kprobe.multi %d, fentry %d, lsm %d, override %d, signal %d",
		  a->kf.kprobe, a->kf.kprobe_multi, a->kf.fentry, a->kf.lsm, a->kf.override_return,
		  a->kf.send_signal);
	r = policies_init(a);
	if (r < 0)
		return log_error_errno(r, "Failed to set up policies: %m");

	/* replayed events of a takeover go to the export file too */
	if (a->cfg.export_filename) {
		r = exporter_open(a->cfg.export_filename, a->cfg.export_max_size,
				  a->cfg.export_max_backups, a->cfg.export_perm, &a->exporter);
		if (r < 0)
			return log_error_errno(r, "Failed to open the export file '%s': %m",
					       a->cfg.export_filename);
		a->export_sink.fn = export_event;
		bus_subscribe(&a->bus, &a->export_sink);
		log_info("Exporting events to %s", a->cfg.export_filename);
	}

	/* a previous agent's pinned programs go on enforcing until ours are attached */
	r = takeover_begin(a, &t);
	if (r < 0)
		return log_error_errno(r, "Failed to move %s aside: %m", pin_root());
	if (t) {
		r = policies_load_old_hooks(a);
		if (r < 0)
			log_warn_errno(r, "Failed to read the previous agent's hooks: %m");
	}

	sec.ringbuf_size = a->cfg.ringbuf_size;
	sec.btf_path = o->btf;
	sec.scope_cgroup_fd = a->scope_cgroup_fd;
	r = sensor_exec_load(&sec, &a->exec);
	if (r == -EPERM)
		r = log_error_errno(r, "Failed to load the process sensor: %m (CAP_BPF, "
				       "CAP_PERFMON and CAP_SYS_ADMIN are needed)");
	else if (r < 0)
		r = log_error_errno(r, "Failed to load the process sensor: %m");
	if (r < 0)
		goto out;
	if (t)
		a->takeover.exec_cut_ns = now_boottime_ns();
	if (a->cfg.keep_sensors) {
		char dir[256];

		snprintf(dir, sizeof(dir), "%s/base", pin_root());
		r = sensor_exec_pin(a->exec, dir);
		if (r < 0) {
			r = log_error_errno(r, "Failed to pin the process sensor under %s: %m",
					    pin_root());
			goto out;
		}
	}
	r = observer_new(a->loop, sensor_exec_ringbuf_fd(a->exec), &a->observer);
	if (r < 0) {
		r = log_error_errno(r, "Failed to read the ring buffer: %m");
		goto out;
	}
	r = sensor_exec_register(a->exec, a);
	if (r < 0) {
		r = log_error_errno(r, "Failed to register the process sensor: %m");
		goto out;
	}

	/* after the programs are attached, so nothing falls between the scan and the events */
	r = procfs_scan(a->cache, a->cfg.procfs, &ps);
	if (r < 0) {
		r = log_error_errno(r, "Failed to read processes from '%s': %m", a->cfg.procfs);
		goto out;
	}
	log_info("Read %u processes from %s", ps.processes, a->cfg.procfs);
	/* what happened while no agent ran, in order, on top of what /proc says now */
	takeover_replay_processes(t);
	r = sensor_exec_seed(a->exec, a->cache);
	if (r < 0)
		log_warn_errno(r, "Failed to tell the kernel about every running process: %m");

	for (size_t i = 0; i < o->n_policy_files; i++) {
		r = load_policy_file(a, o->policy_files[i]);
		if (r < 0)
			goto out;
	}
	if (o->policy_dir) {
		r = load_policy_dir(a, o->policy_dir);
		if (r < 0)
			goto out;
	}
	r = policies_restore(a);
	if (r < 0)
		log_warn_errno(r, "Failed to restore the policies of the state directory: %m");
	if (t) {
		takeover_replay_policies(t);
		takeover_finish(t, a->cfg.release_pinned);
		t = NULL;
	}

	r = observer_start(a->observer);
	if (r < 0)
		return log_error_errno(r, "Failed to poll the ring buffer: %m");
	uv_prepare_init(a->loop, &a->flush);
	a->flush.data = a;
	uv_prepare_start(&a->flush, on_prepare);
	uv_signal_init(a->loop, &a->sigint);
	uv_signal_init(a->loop, &a->sigterm);
	a->sigint.data = a->sigterm.data = a;
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	if (o->manager_address) {
		const struct uplink_feature features[] = {
			{ "kprobe", a->kf.kprobe },
			{ "kprobe_multi", a->kf.kprobe_multi },
			{ "fentry", a->kf.fentry },
			{ "fmod_ret", a->kf.fmod_ret },
			{ "bpf_lsm", a->kf.lsm },
			{ "override_return", a->kf.override_return },
			{ "send_signal", a->kf.send_signal },
			{ "syscall_tracepoints", a->kf.syscall_tracepoints },
			{ "large_programs", a->kf.large_programs },
		};
		struct uplink_config uc = {
			.address = o->manager_address,
			.tls = o->manager_tls,
			.node_name = a->cfg.node_name,
			.state_dir = a->cfg.state_dir,
			.spool_max_bytes = o->manager_spool_mb << 20,
			.features = features,
			.n_features = ARRAY_SIZE(features),
		};

		r = uplink_start(a, &uc, &a->uplink);
		if (r < 0)
			return log_error_errno(r, "Failed to join the fleet of manager %s: %m",
					       o->manager_address);
		log_info("Joining the fleet of manager %s", o->manager_address);
	}
	/* what loading BTF and the scan allocated is not needed any more */
	malloc_trim(0);
	log_info("Listening for events on node %s", a->cfg.node_name);
	return 0;
out:
	/* nothing of ours stays; the old programs do, they are the only ones enforcing */
	if (a->cfg.keep_sensors)
		pin_remove(pin_root());
	takeover_abort(t);
	return r;
}

static void teardown(struct agent *a)
{
	if (a->uplink) {
		uplink_stop(a->uplink, cq_done, a);
		a->uplink = NULL;
		uv_run(a->loop, UV_RUN_DEFAULT);
	}
	if (a->observer) {
		observer_free(a->observer);
		a->observer = NULL;
	}
	if (a->server) {
		agent_server_stop(a, server_stopped, a);
		uv_run(a->loop, UV_RUN_DEFAULT);
	} else if (a->cq) {
		rpc_cq_shutdown(a->cq, cq_done, a);
		a->cq = NULL;
		uv_run(a->loop, UV_RUN_DEFAULT);
	}
	a->exporter = exporter_close(a->exporter);
	/* with --keep-sensors-on-exit the kernel goes on enforcing what is pinned */
	policies_fini(a, a->cfg.keep_sensors && !a->setup_failed);
	if (a->exec && a->cfg.keep_sensors && !a->setup_failed)
		sensor_exec_disconnect(a->exec);
	a->exec = sensor_exec_free(a->exec);
	a->cache = process_cache_free(a->cache);
	if (a->scope_cgroup_fd >= 0)
		close(a->scope_cgroup_fd);
	a->scope_cgroup_fd = -1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct agent a;
	int r;

	log_set_ident("tetragon");
	signal(SIGPIPE, SIG_IGN);
	r = parse_options(argc, argv, &o);
	if (r < 0)
		return 2;
	if (geteuid() != 0) {
		log_error("Must run as root: the agent loads BPF programs");
		return 1;
	}
	libbpf_set_print(libbpf_log);
	gpr_set_log_function(grpc_log);
	grpc_init();

	memset(&a, 0, sizeof(a));
	a.loop = uv_default_loop();
	r = setup(&a, &o);
	if (r < 0) {
		a.setup_failed = true;
		teardown(&a);
		grpc_shutdown();
		return 1;
	}
	uv_run(a.loop, UV_RUN_DEFAULT);
	teardown(&a);
	uv_loop_close(a.loop);
	grpc_shutdown();
	return a.exit_code;
}
