// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "agent/observer.h"
#include "bpf/event.h"

#define OBSERVER_TYPES 16
/* Records handled per loop turn before other handles get their chance. */
#define OBSERVER_BUDGET 4096
/*
 * The programs wake the agent only when RB_WAKEUP_BYTES are waiting: what
 * trickles in below that is read on this period (the events' delay at most).
 */
#define OBSERVER_DRAIN_MS 10

struct observer {
	uv_poll_t poll;
	uv_timer_t drain;
	int open_handles;
	struct ring_buffer *rb;
	struct {
		observer_handler_t fn;
		void *ctx;
	} handlers[OBSERVER_TYPES];
	unsigned budget;
	struct observer_stats stats;
};

static int on_sample(void *ctx, void *data, size_t len)
{
	struct observer *o = ctx;
	const struct event_hdr *h = data;

	o->stats.records++;
	if (len < sizeof(*h) || h->type >= OBSERVER_TYPES || !o->handlers[h->type].fn) {
		o->stats.bad_records++;
	} else {
		o->handlers[h->type].fn(o->handlers[h->type].ctx, data, len);
	}
	/* a negative return stops ring_buffer__consume() after this record */
	if (o->budget && --o->budget == 0)
		return -EAGAIN;
	return 0;
}

static void consume(struct observer *o)
{
	o->budget = OBSERVER_BUDGET;
	ring_buffer__consume(o->rb);
	o->budget = 0;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
	consume(p->data);
}

static void on_drain(uv_timer_t *t)
{
	consume(t->data);
}

int observer_new(uv_loop_t *loop, int fd, struct observer **ret)
{
	struct observer *o;
	int r;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->rb = ring_buffer__new(fd, on_sample, o, NULL);
	if (!o->rb) {
		r = -errno;
		free(o);
		return r;
	}
	r = uv_poll_init(loop, &o->poll, ring_buffer__epoll_fd(o->rb));
	if (r < 0) {
		ring_buffer__free(o->rb);
		free(o);
		return r;
	}
	o->poll.data = o;
	uv_timer_init(loop, &o->drain);
	o->drain.data = o;
	o->open_handles = 2;
	*ret = o;
	return 0;
}

int observer_set_handler(struct observer *o, unsigned type, observer_handler_t fn, void *ctx)
{
	if (type >= OBSERVER_TYPES)
		return -EINVAL;
	o->handlers[type].fn = fn;
	o->handlers[type].ctx = ctx;
	return 0;
}

int observer_start(struct observer *o)
{
	int r = uv_poll_start(&o->poll, UV_READABLE, on_readable);

	if (r == 0)
		r = uv_timer_start(&o->drain, on_drain, OBSERVER_DRAIN_MS, OBSERVER_DRAIN_MS);
	return r;
}

int observer_drain(struct observer *o)
{
	int r;

	o->budget = 0;
	r = ring_buffer__consume(o->rb);
	return r < 0 ? r : 0;
}

void observer_get_stats(struct observer *o, struct observer_stats *st)
{
	*st = o->stats;
}

static void observer_closed(uv_handle_t *h)
{
	struct observer *o = h->data;

	if (--o->open_handles > 0)
		return;
	ring_buffer__free(o->rb);
	free(o);
}

void observer_free(struct observer *o)
{
	if (!o)
		return;
	uv_poll_stop(&o->poll);
	uv_timer_stop(&o->drain);
	uv_close((uv_handle_t *)&o->poll, observer_closed);
	uv_close((uv_handle_t *)&o->drain, observer_closed);
}
