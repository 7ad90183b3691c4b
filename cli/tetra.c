// SPDX-License-Identifier: Apache-2.0
/* tetra: the command-line client for the agent (tetragon) and the manager. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

#define AGENT_SOCKET "/var/run/tetragon/tetragon.sock"

struct cli_globals cli = { .timeout_ms = 30000 };

static const struct cmd commands[] = {
	{ "getevents", cmd_getevents,
	  "Print events (live from the server, or JSON lines on stdin)" },
	{ "status", cmd_status, "Print the server's health and counters" },
	{ "version", cmd_version, "Print the version of tetra (and with --server, the server's)" },
	{ "tracingpolicy", cmd_tracingpolicy, "Manage tracing policies (alias: tp)" },
	{ "tp", cmd_tracingpolicy, NULL },
	{ "nodes", cmd_nodes, "The nodes of a tetragon-manager's fleet" },
	{ "events", cmd_events, "Query the event history of a tetragon-manager" },
	{ "probe", cmd_probe, "Probe this kernel for the BPF features the agent uses" },
	{ 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: tetra [GLOBAL OPTIONS] COMMAND [ARGS]\n\nCommands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		if (c->help)
			fprintf(f, "  %-16s %s\n", c->name, c->help);
	fprintf(f,
		"\nGlobal options:\n"
		"  --server-address ADDR   gRPC server: unix:///path, host:port (default: the agent's\n"
		"                          socket %s, then localhost:54321)\n"
		"  --timeout DURATION      Timeout of unary calls (default: 30s)\n"
		"  --tls-ca FILE           Talk TLS; the server's certificate is signed by this CA\n"
		"                          (or $TETRA_TLS_CA)\n"
		"  --tls-cert FILE         Client certificate for mutual TLS, with --tls-key\n"
		"                          (or $TETRA_TLS_CERT and $TETRA_TLS_KEY)\n"
		"  --tls-key FILE          The client certificate's private key\n"
		"  -d, --debug             Debug output\n"
		"  -h, --help              This help\n",
		AGENT_SOCKET);
}

int cmd_select(const struct cmd *table, const char *object, int argc, char **argv)
{
	if (argc < 1 || streq(argv[0], "help") || streq(argv[0], "-h") ||
	    streq(argv[0], "--help")) {
		FILE *f = argc < 1 ? stderr : stdout;

		fprintf(f, "Usage: tetra %s COMMAND\n\nCommands:\n", object);
		for (const struct cmd *c = table; c->name; c++)
			fprintf(f, "  %-16s %s\n", c->name, c->help);
		return argc < 1 ? 2 : 0;
	}
	for (const struct cmd *c = table; c->name; c++)
		if (streq(c->name, argv[0]))
			return c->fn(argc, argv);
	fprintf(stderr, "Error: unknown command '%s' for 'tetra %s'\n", argv[0], object);
	return 2;
}

static bool socket_answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

const char *cli_server_address(void)
{
	static char addr[512];
	const char *env;

	if (cli.server_address)
		return cli.server_address;
	env = getenv("TETRA_SERVER_ADDRESS");
	if (env && *env)
		return env;
	if (socket_answers(AGENT_SOCKET)) {
		snprintf(addr, sizeof(addr), "unix://%s", AGENT_SOCKET);
		return addr;
	}
	return "localhost:54321";
}

static const char *env_or(const char *v, const char *name)
{
	const char *e = v ? v : getenv(name);

	return e && *e ? e : NULL;
}

grpc_channel *cli_channel(void)
{
	const char *addr = cli_server_address();
	grpc_channel_credentials *creds = NULL;
	struct tls_files tls = {
		.ca = env_or(cli.tls.ca, "TETRA_TLS_CA"),
		.cert = env_or(cli.tls.cert, "TETRA_TLS_CERT"),
		.key = env_or(cli.tls.key, "TETRA_TLS_KEY"),
	};
	grpc_channel *ch;

	if (tls_wanted(&tls) && tls_channel_credentials(&tls, &creds) < 0)
		exit(1);
	ch = rpc_channel_new(addr, creds, false);
	if (creds)
		grpc_channel_credentials_release(creds);

	if (!ch) {
		fprintf(stderr, "Error: cannot create a channel to '%s'\n", addr);
		exit(1);
	}
	return ch;
}

int cli_call(grpc_channel *ch, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	struct rpc_status st;
	int r;

	r = rpc_unary_sync(ch, method, req, resp_desc, cli.timeout_ms, resp, &st);
	if (r < 0)
		fprintf(stderr, "Error: %s on %s: %s: %s\n", strrchr(method, '/') + 1,
			cli_server_address(), rpc_status_name(st.code), st.message);
	return r;
}

int strv_add_csv(struct strv *s, const char *arg)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char **v = realloc(s->v, (s->n + 1) * sizeof(char *));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->v[s->n] = strdup(t);
		if (!s->v[s->n])
			return -ENOMEM;
		s->n++;
	}
	return 0;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int cli_global_option(int opt, const char *arg)
{
	uint64_t ns;

	switch (opt) {
	case CLI_OPT_SERVER:
		cli.server_address = arg;
		return 0;
	case CLI_OPT_TIMEOUT:
		if (parse_duration(arg, &ns) < 0 || ns == 0) {
			fprintf(stderr, "Error: invalid --timeout '%s'\n", arg);
			return -EINVAL;
		}
		cli.timeout_ms = (int)MIN(ns / 1000000, (uint64_t)INT32_MAX);
		return 0;
	case CLI_OPT_TLS_CA:
		cli.tls.ca = arg;
		return 0;
	case CLI_OPT_TLS_CERT:
		cli.tls.cert = arg;
		return 0;
	case CLI_OPT_TLS_KEY:
		cli.tls.key = arg;
		return 0;
	case CLI_OPT_DEBUG:
		cli.debug = true;
		log_set_level(LOG_LEVEL_DEBUG);
		return 0;
	default:
		return -EINVAL;
	}
}

static void grpc_quiet(gpr_log_func_args *args)
{
	if (cli.debug)
		fprintf(stderr, "grpc: %s\n", args->message);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct cmd *c;
	int o, r;

	log_set_ident("tetra");
	signal(SIGPIPE, SIG_IGN);
	/* global options come before the command; the command parses the rest */
	while ((o = getopt_long(argc, argv, "+dh", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			cli_global_option(CLI_OPT_DEBUG, NULL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (cli_global_option(o, optarg) < 0) {
				usage(stderr);
				return 2;
			}
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (c = commands; c->name; c++)
		if (streq(c->name, argv[optind]))
			break;
	if (!c->name) {
		fprintf(stderr, "Error: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	gpr_set_log_function(grpc_quiet);
	grpc_init();
	/* commands see argv from their own name on, with global options still accepted */
	r = c->fn(argc - optind, argv + optind);
	grpc_shutdown();
	return r;
}
