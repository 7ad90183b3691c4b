// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "agent/bus.h"
#include "lib/filter.h"
#include "lib/rpc.h"

grpc_slice agent_event_slice(struct agent_event *ev)
{
	if (!ev->have_packed) {
		ev->packed = rpc_pack(&ev->msg->base);
		ev->have_packed = true;
	}
	return ev->packed;
}

void bus_init(struct event_bus *b)
{
	memset(b, 0, sizeof(*b));
}

void bus_subscribe(struct event_bus *b, struct event_sink *s)
{
	s->prev = NULL;
	s->next = b->head;
	if (b->head)
		b->head->prev = s;
	b->head = s;
}

void bus_unsubscribe(struct event_bus *b, struct event_sink *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (b->head == s)
		b->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

void bus_publish(struct event_bus *b, Tetragon__GetEventsResponse *msg)
{
	struct agent_event ev = { .msg = msg, .type = event_type_of(msg) };
	struct event_sink *s = b->head;

	b->total++;
	b->published[(unsigned)ev.type % 64]++;
	while (s) {
		struct event_sink *next = s->next;

		s->fn(s, &ev);
		s = next;
	}
	if (ev.have_packed)
		grpc_slice_unref(ev.packed);
}
