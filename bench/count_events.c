// SPDX-License-Identifier: Apache-2.0
/*
 * The benchmarks' plain GetEvents subscriber: streams tetragon.FineGuidanceSensors/GetEvents
 * from ADDR, decodes every response (what any client must do) and counts them; on SIGTERM
 * or SIGINT it prints "events=N" and exits. It prints "connected" once the stream is open.
 *
 *   count_events ADDR
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <grpc/grpc.h>

#include "lib/rpc.h"
#include "tetragon/events.pb-c.h"

static struct rpc_stream_reader *reader;

static void on_signal(int sig)
{
	(void)sig;
	if (reader)
		rpc_stream_cancel(reader);
}

int main(int argc, char **argv)
{
	Tetragon__GetEventsRequest req = TETRAGON__GET_EVENTS_REQUEST__INIT;
	struct sigaction sa;
	struct rpc_status st;
	ProtobufCMessage *msg;
	unsigned long long n = 0;
	grpc_channel *ch;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: count_events ADDR\n");
		return 2;
	}
	grpc_init();
	ch = rpc_channel_new(argv[1], NULL, false);
	r = ch ? rpc_stream_open_sync(ch, "/tetragon.FineGuidanceSensors/GetEvents", &req.base,
				      &tetragon__get_events_response__descriptor, 10000, &reader) :
		 -1;
	if (r < 0) {
		fprintf(stderr, "count_events: cannot open the stream to %s\n", argv[1]);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("connected\n");
	fflush(stdout);
	while ((r = rpc_stream_read_sync(reader, &msg, &st)) == 1) {
		n++;
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	printf("events=%llu\n", n);
	fflush(stdout);
	reader = rpc_stream_close_sync(reader);
	grpc_channel_destroy(ch);
	grpc_shutdown();
	return 0;
}
