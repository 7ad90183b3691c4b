/* SPDX-License-Identifier: Apache-2.0 */
/* tetra: the command table and what the commands share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "lib/rpc.h"
#include "lib/tls.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Global options, set before a command runs. */
struct cli_globals {
	const char *server_address; /* NULL: the agent's unix socket, then localhost:54321 */
	int timeout_ms;
	bool debug;
	struct tls_files tls; /* --tls-ca/--tls-cert/--tls-key, or $TETRA_TLS_CA/CERT/KEY */
};

extern struct cli_globals cli;

/* A list of strings from comma-separated option values. */
struct strv {
	char **v;
	size_t n;
};

/* Append each comma-separated item of arg (copies; -ENOMEM). */
int strv_add_csv(struct strv *s, const char *arg);
/* Free the items and empty the list. */
void strv_free(struct strv *s);

/*
 * The global options are accepted after the command too (tetra getevents
 * --server-address X): commands put CLI_GLOBAL_OPTIONS in their getopt table and
 * pass unknown option codes to cli_global_option().
 */
enum {
	CLI_OPT_SERVER = 1000,
	CLI_OPT_TIMEOUT,
	CLI_OPT_DEBUG,
	CLI_OPT_TLS_CA,
	CLI_OPT_TLS_CERT,
	CLI_OPT_TLS_KEY,
};
#define CLI_GLOBAL_OPTIONS                                                 \
	{ "server-address", required_argument, NULL, CLI_OPT_SERVER },     \
		{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },   \
		{ "tls-ca", required_argument, NULL, CLI_OPT_TLS_CA },     \
		{ "tls-cert", required_argument, NULL, CLI_OPT_TLS_CERT }, \
		{ "tls-key", required_argument, NULL, CLI_OPT_TLS_KEY },   \
	{                                                                  \
		"debug", no_argument, NULL, CLI_OPT_DEBUG                  \
	}
/* Returns 0 when opt was a global option and was applied, -EINVAL otherwise. */
int cli_global_option(int opt, const char *arg);

/* Run the subcommand argv[0] from table (bpftool-style); prints help for "help" or nothing. */
int cmd_select(const struct cmd *table, const char *object, int argc, char **argv);

/* The address to dial: --server-address, else the local agent's socket, else localhost:54321. */
const char *cli_server_address(void);
/* A channel to the server; exits the process with a message when it cannot be made. */
grpc_channel *cli_channel(void);
/*
 * A unary call with the global timeout. Prints the error ("Error: ...: UNAVAILABLE: ...")
 * and returns a negative errno on failure.
 */
int cli_call(grpc_channel *ch, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);

int cmd_getevents(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_tracingpolicy(int argc, char **argv);
int cmd_nodes(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_probe(int argc, char **argv);

/* Fleet (cli/fleet_policy.c): is the server a tetragon-manager (fleet.Diagnostics says so)? */
bool fleet_server_is_manager(grpc_channel *ch);
/*
 * Print fleet.FleetQuery/GetPolicyStatus: each policy (name "" for all) on each node ("" for
 * all), as a table or as one JSON object. Returns 0, or a negative errno after printing why.
 */
int fleet_policy_status_print(grpc_channel *ch, const char *name, const char *ns, const char *node,
			      bool json);
