/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads the agent's ring buffer on the loop (its epoll fd in a uv_poll_t) and
 * hands each record to the handler registered for its event type.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct observer;

typedef void (*observer_handler_t)(void *ctx, const void *data, size_t len);

struct observer_stats {
	uint64_t records;
	uint64_t bad_records; /* too short, or of an unknown type */
};

/* On success *ret owns the reader; the map fd stays the caller's. */
int observer_new(uv_loop_t *loop, int ringbuf_fd, struct observer **ret);
int observer_set_handler(struct observer *o, unsigned type, observer_handler_t fn, void *ctx);
int observer_start(struct observer *o);
/* Read everything that is in the buffer now. */
int observer_drain(struct observer *o);
void observer_get_stats(struct observer *o, struct observer_stats *st);
/* Stops reading; frees once the loop has closed the handle. */
void observer_free(struct observer *o);
