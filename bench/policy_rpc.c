// SPDX-License-Identifier: Apache-2.0
/*
 * The policy benchmark's gRPC client: the policy RPCs alone, timed, without tetra's
 * process start-up and without a new connection per call.
 *
 *   policy_rpc [-N] ADDR < OPS
 *
 * One operation a line on stdin:
 *   add FILE                 AddTracingPolicy with the file's text
 *   mode NAME enforce|monitor  ConfigureTracingPolicy (set-mode)
 *   delete NAME              DeleteTracingPolicy
 *   version                  GetVersion (a round trip that does nothing)
 *   stats                    fleet.Diagnostics/GetStats: prints "counter NAME VALUE" lines
 *   watch COUNTER FILE       poll GetStats every 20 ms, keeping (time, value) of COUNTER,
 *                            until FILE holds a target number and COUNTER has reached it, or
 *                            grew by at most 100 in 300 ms (a trickle from elsewhere, or the
 *                            rest was lost); prints "value=V at_us=T": T is the CLOCK_REALTIME
 *                            microsecond of the first poll that saw TARGET (or, when it never
 *                            came, the final value less 100). 120 s at most.
 *
 * First it opens the channel and makes one GetVersion call, and prints
 *   connect ns=... (channel creation + connection + that first round trip)
 * then one line per operation:
 *   OP ARG ns=... status=OK|CODE [message]
 * With -N every operation gets a new channel (connect included in its time), as a
 * tetra process would. Exits 1 if any operation failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc.h>

#include "fleet/diagnostics.pb-c.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "tetragon/sensors.pb-c.h"

#define TIMEOUT_MS 60000

static int version(grpc_channel *ch, struct rpc_status *st)
{
	Tetragon__GetVersionRequest req = TETRAGON__GET_VERSION_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r;

	r = rpc_unary_sync(ch, "/tetragon.FineGuidanceSensors/GetVersion", &req.base,
			   &tetragon__get_version_response__descriptor, TIMEOUT_MS, &resp, st);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int op_add(grpc_channel *ch, const char *file, const char *text, struct rpc_status *st)
{
	Tetragon__AddTracingPolicyRequest req = TETRAGON__ADD_TRACING_POLICY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r;

	(void)file;
	req.yaml = (char *)text;
	req.domain = (char *)"";
	r = rpc_unary_sync(ch, "/tetragon.FineGuidanceSensors/AddTracingPolicy", &req.base,
			   &tetragon__add_tracing_policy_response__descriptor, TIMEOUT_MS, &resp,
			   st);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int op_mode(grpc_channel *ch, const char *name, const char *mode, struct rpc_status *st)
{
	Tetragon__ConfigureTracingPolicyRequest req =
		TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r;

	req.name = (char *)name;
	req.namespace_ = (char *)"";
	req.domain = (char *)"";
	req._mode_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE;
	req.mode = streq(mode, "monitor") ? TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR :
					    TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE;
	r = rpc_unary_sync(ch, "/tetragon.FineGuidanceSensors/ConfigureTracingPolicy", &req.base,
			   &tetragon__configure_tracing_policy_response__descriptor, TIMEOUT_MS,
			   &resp, st);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int op_delete(grpc_channel *ch, const char *name, struct rpc_status *st)
{
	Tetragon__DeleteTracingPolicyRequest req = TETRAGON__DELETE_TRACING_POLICY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r;

	req.name = (char *)name;
	req.namespace_ = (char *)"";
	req.domain = (char *)"";
	r = rpc_unary_sync(ch, "/tetragon.FineGuidanceSensors/DeleteTracingPolicy", &req.base,
			   &tetragon__delete_tracing_policy_response__descriptor, TIMEOUT_MS, &resp,
			   st);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int op_stats(grpc_channel *ch, struct rpc_status *st, Fleet__GetStatsResponse **out)
{
	Fleet__GetStatsRequest req = FLEET__GET_STATS_REQUEST__INIT;

	return rpc_unary_sync(ch, "/fleet.Diagnostics/GetStats", &req.base,
			      &fleet__get_stats_response__descriptor, TIMEOUT_MS,
			      (ProtobufCMessage **)out, st);
}

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

static int counter_value(grpc_channel *ch, const char *name, uint64_t *v, struct rpc_status *st)
{
	Fleet__GetStatsResponse *stats = NULL;
	int r = op_stats(ch, st, &stats);

	if (r < 0)
		return r;
	*v = 0;
	for (size_t i = 0; i < stats->n_counters; i++)
		if (streq(stats->counters[i]->name, name))
			*v = stats->counters[i]->value;
	fleet__get_stats_response__free_unpacked(stats, NULL);
	return 0;
}

static bool read_target(const char *file, uint64_t *target)
{
	char buf[64] = "";
	FILE *f = fopen(file, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (ok)
		*target = strtoull(buf, NULL, 10);
	return ok;
}

/* The watch operation: see the top of the file. */
static int op_watch(grpc_channel *ch, const char *name, const char *file, struct rpc_status *st,
		    uint64_t *value, uint64_t *at_us)
{
	size_t n = 0, cap = 1024;
	uint64_t *vals = malloc(cap * sizeof(*vals)), *times = malloc(cap * sizeof(*times));
	uint64_t start = realtime_us(), target = 0;
	bool have_target = false;
	int r = 0;

	if (!vals || !times) {
		free(vals);
		free(times);
		return -1;
	}
	for (;;) {
		uint64_t v, t = realtime_us();

		r = counter_value(ch, name, &v, st);
		if (r < 0)
			break;
		if (n == cap) {
			uint64_t *nv, *nt;

			cap *= 2;
			nv = realloc(vals, cap * sizeof(*vals));
			if (nv)
				vals = nv;
			nt = realloc(times, cap * sizeof(*times));
			if (nt)
				times = nt;
			if (!nv || !nt) {
				r = -1;
				break;
			}
		}
		vals[n] = v;
		times[n] = t;
		n++;
		*value = v;
		if (!have_target)
			have_target = read_target(file, &target);
		if (have_target && v >= target) {
			for (size_t i = 0; i < n; i++) {
				if (vals[i] >= target) {
					*at_us = times[i];
					break;
				}
			}
			break;
		}
		if (have_target) {
			size_t j = n - 1;
			bool quiet = false;

			while (j > 0 && t - times[j] < 300000)
				j--;
			if (t - times[j] >= 300000 && v - vals[j] <= 100)
				quiet = true;
			if (quiet || t - start > 120000000ull) {
				for (size_t i = 0; i < n; i++) {
					if (vals[i] + 100 >= v) {
						*at_us = times[i];
						break;
					}
				}
				break;
			}
		}
		usleep(20000);
	}
	free(vals);
	free(times);
	return r;
}

int main(int argc, char **argv)
{
	bool fresh = false;
	grpc_channel *ch = NULL;
	struct rpc_status st;
	char line[8192];
	uint64_t t0;
	int rc = 0;

	if (argc > 1 && streq(argv[1], "-N")) {
		fresh = true;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: policy_rpc [-N] ADDR < OPS\n");
		return 2;
	}
	grpc_init();
	if (!fresh) {
		t0 = now_monotonic_ns();
		ch = rpc_channel_new(argv[1], NULL, false);
		if (!ch || version(ch, &st) < 0) {
			fprintf(stderr, "policy_rpc: cannot reach %s\n", argv[1]);
			return 1;
		}
		printf("connect ns=%llu\n", (unsigned long long)(now_monotonic_ns() - t0));
		fflush(stdout);
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *save = NULL, *op, *a1, *a2, *text = NULL;
		Fleet__GetStatsResponse *stats = NULL;
		uint64_t wait_value = 0, wait_at = 0;
		bool waited = false;
		int r;

		line[strcspn(line, "\n")] = '\0';
		op = strtok_r(line, " ", &save);
		if (!op)
			continue;
		a1 = strtok_r(NULL, " ", &save);
		a2 = strtok_r(NULL, " ", &save);
		if (streq(op, "add") && a1 && read_file(a1, 1 << 20, &text, NULL) < 0) {
			fprintf(stderr, "policy_rpc: cannot read %s\n", a1);
			return 1;
		}
		memset(&st, 0, sizeof(st));
		t0 = now_monotonic_ns();
		if (fresh)
			ch = rpc_channel_new(argv[1], NULL, false);
		if (streq(op, "add") && text)
			r = op_add(ch, a1, text, &st);
		else if (streq(op, "mode") && a1 && a2)
			r = op_mode(ch, a1, a2, &st);
		else if (streq(op, "delete") && a1)
			r = op_delete(ch, a1, &st);
		else if (streq(op, "version"))
			r = version(ch, &st);
		else if (streq(op, "stats"))
			r = op_stats(ch, &st, &stats);
		else if (streq(op, "watch") && a1 && a2) {
			r = op_watch(ch, a1, a2, &st, &wait_value, &wait_at);
			waited = r == 0;
		} else {
			fprintf(stderr, "policy_rpc: bad operation '%s'\n", op);
			return 2;
		}
		if (fresh) {
			grpc_channel_destroy(ch);
			ch = NULL;
		}
		printf("%s %s ns=%llu status=%s%s%s\n", op, a1 ? a1 : "-",
		       (unsigned long long)(now_monotonic_ns() - t0),
		       r < 0 ? rpc_status_name(st.code) : "OK", r < 0 ? " " : "",
		       r < 0 ? st.message : "");
		if (waited)
			printf("value=%llu at_us=%llu\n", (unsigned long long)wait_value,
			       (unsigned long long)wait_at);
		if (stats) {
			for (size_t i = 0; i < stats->n_counters; i++)
				printf("counter %s %llu\n", stats->counters[i]->name,
				       (unsigned long long)stats->counters[i]->value);
			fleet__get_stats_response__free_unpacked(stats, NULL);
		}
		fflush(stdout);
		free(text);
		if (r < 0)
			rc = 1;
	}
	if (ch)
		grpc_channel_destroy(ch);
	return rc;
}
