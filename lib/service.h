/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent's and the manager's gRPC services answer alike: GetHealth and GetVersion
 * of tetragon.FineGuidanceSensors, and the counter list of fleet.Diagnostics/GetStats.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fleet/diagnostics.pb-c.h"
#include "tetragon/sensors.pb-c.h"
#include "lib/rpc.h"

/* RPC_UNARY handlers: reply and drop the call's reference. */
void service_get_health(struct rpc_call *call, const ProtobufCMessage *msg, void *ud);
void service_get_version(struct rpc_call *call, const ProtobufCMessage *msg, void *ud);

struct event_filter;
struct field_filter;

/*
 * The filters of a GetEvents request (call is its server stream), the same for the agent
 * and the manager. On success *filter and *fields (NULL when the request has none) are the
 * caller's. On failure the call is failed (UNIMPLEMENTED for aggregation, INVALID_ARGUMENT
 * with the reason for a bad filter, RESOURCE_EXHAUSTED) and unreferenced, and a negative
 * errno is returned.
 */
int service_events_filters(struct rpc_call *call, const Tetragon__GetEventsRequest *req,
			   struct event_filter **filter, struct field_filter **fields);

/* Up to cap counters; a name past cap is counted in `dropped` (and becomes the last row). */
struct counters {
	Fleet__Counter *items;
	Fleet__Counter **ptrs;
	size_t n, cap;
	uint64_t dropped;
};

/* Allocate room for cap counters (-ENOMEM); counters_to_response() hands it over. */
int counters_init(struct counters *c, size_t cap);
/* name and help are not copied: they must outlive the response (string literals). */
void counters_add(struct counters *c, const char *name, uint64_t value, const char *help);
/* Hand the counters to resp; counters_free_response() frees them. */
void counters_to_response(struct counters *c, Fleet__GetStatsResponse *resp);
void counters_free_response(Fleet__GetStatsResponse *resp);
