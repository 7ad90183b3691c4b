/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's event bus: each event is built once as a tetragon.GetEventsResponse
 * and handed to every sink (gRPC subscribers, the export file, the manager
 * uplink). The protobuf encoding is made at most once, on first use, and shared.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <grpc/slice.h>

#include "tetragon/events.pb-c.h"

struct agent_event {
	Tetragon__GetEventsResponse *msg;
	Tetragon__EventType type;
	grpc_slice packed;
	bool have_packed;
};

/* The protobuf encoding of ev, shared: take a reference with grpc_slice_ref() to keep it. */
grpc_slice agent_event_slice(struct agent_event *ev);

struct event_sink {
	struct event_sink *prev, *next;
	void (*fn)(struct event_sink *sink, struct agent_event *ev);
};

struct event_bus {
	struct event_sink *head;
	uint64_t published[64]; /* by EventType index, see bus_type_slot() */
	uint64_t total;
};

void bus_init(struct event_bus *b);
/* The sink must stay valid until bus_unsubscribe(); a sink may unsubscribe itself from fn. */
void bus_subscribe(struct event_bus *b, struct event_sink *s);
void bus_unsubscribe(struct event_bus *b, struct event_sink *s);
/* Hand msg to every sink; msg stays owned by the caller. */
void bus_publish(struct event_bus *b, Tetragon__GetEventsResponse *msg);
