// SPDX-License-Identifier: Apache-2.0
/* tetra status, tetra version */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "fleet/diagnostics.pb-c.h"
#include "lib/util.h"
#include "tetragon/sensors.pb-c.h"

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	Tetragon__GetHealthStatusRequest hreq = TETRAGON__GET_HEALTH_STATUS_REQUEST__INIT;
	Fleet__GetStatsRequest sreq = FLEET__GET_STATS_REQUEST__INIT;
	Tetragon__GetHealthStatusResponse *h = NULL;
	Fleet__GetStatsResponse *s = NULL;
	grpc_channel *ch;
	struct rpc_status st;
	int o, rc = 0;

	optind = 0; /* 0 makes glibc start over, permuting again */
	while ((o = getopt_long(argc, argv, "hd", opts, NULL)) != -1) {
		if (o == 'h') {
			printf("Usage: tetra status\n\nPrint the server's health and its counters "
			       "(events, drops, errors).\n");
			return 0;
		}
		if (o == 'd')
			o = CLI_OPT_DEBUG;
		if (cli_global_option(o, optarg) < 0)
			return 2;
	}
	ch = cli_channel();
	if (cli_call(ch, "/tetragon.FineGuidanceSensors/GetHealth", &hreq.base,
		     &tetragon__get_health_status_response__descriptor,
		     (ProtobufCMessage **)&h) < 0) {
		grpc_channel_destroy(ch);
		return 1;
	}
	for (size_t i = 0; i < h->n_health_status; i++)
		printf("Health Status: %s\n", h->health_status[i]->details);
	tetragon__get_health_status_response__free_unpacked(h, NULL);

	/* our own counters; a Tetragon server does not have them */
	if (rpc_unary_sync(ch, "/fleet.Diagnostics/GetStats", &sreq.base,
			   &fleet__get_stats_response__descriptor, cli.timeout_ms,
			   (ProtobufCMessage **)&s, &st) == 0) {
		printf("Daemon:        %s %s\n", s->daemon, s->version);
		if (*s->node_name)
			printf("Node:          %s\n", s->node_name);
		printf("Uptime:        %llus\n", (unsigned long long)s->uptime_seconds);
		printf("Counters:\n");
		for (size_t i = 0; i < s->n_counters; i++)
			printf("  %-36s %llu\n", s->counters[i]->name,
			       (unsigned long long)s->counters[i]->value);
		fleet__get_stats_response__free_unpacked(s, NULL);
	} else if (st.code != GRPC_STATUS_UNIMPLEMENTED) {
		fprintf(stderr, "Error: GetStats: %s: %s\n", rpc_status_name(st.code), st.message);
		rc = 1;
	}
	grpc_channel_destroy(ch);
	return rc;
}

int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	Tetragon__GetVersionRequest req = TETRAGON__GET_VERSION_REQUEST__INIT;
	Tetragon__GetVersionResponse *resp = NULL;
	bool server = false;
	grpc_channel *ch;
	int o, rc = 0;

	optind = 0; /* 0 makes glibc start over, permuting again */
	while ((o = getopt_long(argc, argv, "shd", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			server = true;
			break;
		case 'h':
			printf("Usage: tetra version [--server]\n");
			return 0;
		case 'd':
			cli_global_option(CLI_OPT_DEBUG, NULL);
			break;
		default:
			if (cli_global_option(o, optarg) < 0)
				return 2;
		}
	}
	printf("CLI version: %s\n", TETRA_VERSION);
	if (!server)
		return 0;
	ch = cli_channel();
	if (cli_call(ch, "/tetragon.FineGuidanceSensors/GetVersion", &req.base,
		     &tetragon__get_version_response__descriptor, (ProtobufCMessage **)&resp) < 0) {
		rc = 1;
	} else {
		printf("Server version: %s\n", resp->version);
		tetragon__get_version_response__free_unpacked(resp, NULL);
	}
	grpc_channel_destroy(ch);
	return rc;
}
