// SPDX-License-Identifier: Apache-2.0
/*
 * rpcprobe: misbehaving gRPC clients for the integration tests.
 *   rpcprobe unknown ADDR            call methods the server does not implement
 *   rpcprobe stall ADDR SECONDS      open GetEvents and never read from it
 *   rpcprobe disconnect ADDR N       read N events, then drop the connection
 *   rpcprobe garbage HOST PORT       send bytes that are not HTTP/2, then close
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "lib/rpc.h"
#include "lib/util.h"
#include "tetragon/events.pb-c.h"
#include "tetragon/sensors.pb-c.h"

static int unknown(const char *addr)
{
	static const char *const methods[] = {
		"/tetragon.FineGuidanceSensors/NoSuchMethod",
		"/tetragon.FineGuidanceSensors/GetInfo",
		"/no.such.Service/Call",
	};
	Tetragon__GetVersionRequest req = TETRAGON__GET_VERSION_REQUEST__INIT;
	grpc_channel *ch = rpc_channel_new(addr, NULL, false);
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		ProtobufCMessage *resp = NULL;
		struct rpc_status st;
		uint64_t t0 = now_monotonic_ns();

		rpc_unary_sync(ch, methods[i], &req.base,
			       &tetragon__get_version_response__descriptor, 10000, &resp, &st);
		printf("%s %s %llums\n", methods[i], rpc_status_name(st.code),
		       (unsigned long long)((now_monotonic_ns() - t0) / 1000000));
		if (st.code != GRPC_STATUS_UNIMPLEMENTED)
			rc = 1;
		if (resp)
			protobuf_c_message_free_unpacked(resp, NULL);
	}
	grpc_channel_destroy(ch);
	return rc;
}

static int stall(const char *addr, int seconds)
{
	Tetragon__GetEventsRequest req = TETRAGON__GET_EVENTS_REQUEST__INIT;
	grpc_channel *ch = rpc_channel_new(addr, NULL, true);
	struct rpc_stream_reader *r;

	if (rpc_stream_open_sync(ch, "/tetragon.FineGuidanceSensors/GetEvents", &req.base,
				 &tetragon__get_events_response__descriptor, 5000, &r) < 0)
		return 1;
	printf("stalling\n");
	fflush(stdout);
	/* keep the connection alive, never take a message */
	for (int i = 0; i < seconds && rpc_stream_idle_sync(r, 1000); i++)
		;
	rpc_stream_close_sync(r);
	grpc_channel_destroy(ch);
	return 0;
}

static int disconnect(const char *addr, int n)
{
	Tetragon__GetEventsRequest req = TETRAGON__GET_EVENTS_REQUEST__INIT;
	grpc_channel *ch = rpc_channel_new(addr, NULL, true);
	struct rpc_stream_reader *r;
	struct rpc_status st;

	if (rpc_stream_open_sync(ch, "/tetragon.FineGuidanceSensors/GetEvents", &req.base,
				 &tetragon__get_events_response__descriptor, 5000, &r) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		ProtobufCMessage *m = NULL;

		if (rpc_stream_read_sync(r, &m, &st) <= 0)
			return 1;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	printf("read %d events, leaving\n", n);
	fflush(stdout);
	/* no goodbye: the process just ends with the stream open */
	_exit(0);
}

static int garbage(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char junk[4096];
	int fd;

	inet_pton(AF_INET, host, &sa.sin_addr);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 + 13);
	for (int k = 0; k < 20; k++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("connect");
			return 1;
		}
		if (k % 2)
			(void)!write(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
		else
			(void)!write(fd, junk, sizeof(junk));
		close(fd);
	}
	printf("sent garbage\n");
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: rpcprobe unknown|stall|disconnect|garbage ...\n");
		return 2;
	}
	grpc_init();
	if (!strcmp(argv[1], "unknown"))
		rc = unknown(argv[2]);
	else if (!strcmp(argv[1], "stall") && argc > 3)
		rc = stall(argv[2], atoi(argv[3]));
	else if (!strcmp(argv[1], "disconnect") && argc > 3)
		rc = disconnect(argv[2], atoi(argv[3]));
	else if (!strcmp(argv[1], "garbage") && argc > 3)
		rc = garbage(argv[2], atoi(argv[3]));
	grpc_shutdown();
	return rc;
}
