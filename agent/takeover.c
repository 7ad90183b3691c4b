// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/generic_events.h"
#include "agent/pin.h"
#include "agent/sensor_exec.h"
#include "agent/takeover.h"
#include "bpf/event.h"
#include "lib/log.h"
#include "lib/util.h"

/* A policy record held until the policies are back. */
struct held {
	struct held *next;
	size_t len;
	unsigned char data[];
};

struct takeover {
	struct agent *a;
	int rb_fd;
	struct ring_buffer *rb;
	bool policies_ready;
	struct held *head, **tail;
};

static void replay_process(struct agent *a, const struct event_hdr *h, size_t len)
{
	if (h->ktime >= a->takeover.exec_cut_ns) {
		/* the new programs were attached: they wrote their own copy */
		a->takeover.duplicates++;
		return;
	}
	a->takeover.replayed++;
	switch (h->type) {
	case EVENT_EXEC:
		sensor_exec_handle_exec(a, h, len);
		break;
	case EVENT_FORK:
		sensor_exec_handle_fork(a, h, len);
		break;
	default:
		sensor_exec_handle_exit(a, h, len);
		break;
	}
}

static int on_old(void *ctx, void *data, size_t len)
{
	struct takeover *t = ctx;
	const struct event_hdr *h = data;
	struct held *r;

	if (len < sizeof(*h)) {
		t->a->decode_errors++;
		return 0;
	}
	switch (h->type) {
	case EVENT_EXEC:
	case EVENT_FORK:
	case EVENT_EXIT:
		replay_process(t->a, h, len);
		break;
	case EVENT_GENERIC:
		if (t->policies_ready) {
			if (t->a->gevents)
				generic_events_handle_old(t->a->gevents, data, len);
			else
				t->a->takeover.unknown++;
			break;
		}
		r = malloc(sizeof(*r) + len);
		if (!r) {
			t->a->takeover.lost++;
			break;
		}
		r->next = NULL;
		r->len = len;
		memcpy(r->data, data, len);
		*t->tail = r;
		t->tail = &r->next;
		break;
	default:
		t->a->decode_errors++;
		break;
	}
	return 0;
}

/* Sum a per-CPU error array of the old programs, pinned at path. */
static void old_errors(const char *path, uint64_t counts[ERR_COUNT])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	int fd;

	memset(counts, 0, ERR_COUNT * sizeof(*counts));
	fd = bpf_obj_get(path);
	if (fd < 0 || ncpu <= 0)
		goto out;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	for (uint32_t k = 0; vals && k < ERR_COUNT; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			counts[k] += vals[c];
	}
	free(vals);
out:
	if (fd >= 0)
		close(fd);
}

static void count_old_errors(struct agent *a)
{
	static const char *const maps[] = { "base/errors", "generic/gen_errors" };
	uint64_t counts[ERR_COUNT];
	char path[256];

	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_old(), maps[i]);
		old_errors(path, counts);
		a->takeover.ringbuf_full += counts[ERR_RINGBUF_FULL];
		for (int k = 0; k < ERR_COUNT; k++)
			if (k != ERR_RINGBUF_FULL)
				a->takeover.old_errors += counts[k];
	}
}

int takeover_begin(struct agent *a, struct takeover **ret)
{
	struct takeover *t;
	char path[256];
	int r;

	*ret = NULL;
	r = pin_takeover();
	if (r <= 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->a = a;
	t->tail = &t->head;
	snprintf(path, sizeof(path), "%s/base/events", pin_old());
	t->rb_fd = bpf_obj_get(path);
	if (t->rb_fd >= 0)
		t->rb = ring_buffer__new(t->rb_fd, on_old, t, NULL);
	if (!t->rb)
		log_warn("The previous agent's ring buffer cannot be read (%s): the events of "
			 "its downtime are lost",
			 strerror(errno));
	a->takeover.active = true;
	log_info("Taking over from a previous agent: its programs enforce until ours are set up");
	*ret = t;
	return 0;
}

static void drain(struct takeover *t)
{
	if (t->rb)
		ring_buffer__consume(t->rb);
}

void takeover_replay_processes(struct takeover *t)
{
	if (t)
		drain(t);
}

void takeover_replay_policies(struct takeover *t)
{
	struct held *r;

	if (!t)
		return;
	t->policies_ready = true;
	while ((r = t->head)) {
		t->head = r->next;
		on_old(t, r->data, r->len);
		free(r);
	}
	t->tail = &t->head;
	drain(t);
}

static void takeover_free(struct takeover *t)
{
	struct held *r;

	while ((r = t->head)) {
		t->head = r->next;
		free(r);
	}
	if (t->rb)
		ring_buffer__free(t->rb);
	if (t->rb_fd >= 0)
		close(t->rb_fd);
	free(t);
}

void takeover_abort(struct takeover *t)
{
	if (!t)
		return;
	takeover_free(t);
	if (rename(pin_old(), pin_root()) < 0)
		log_warn_errno(-errno, "Failed to move %s back to %s: %m", pin_old(), pin_root());
	else
		log_info("The previous agent's programs stay attached under %s", pin_root());
}

void takeover_finish(struct takeover *t, bool release)
{
	struct agent *a;

	if (!t)
		return;
	a = t->a;
	takeover_replay_policies(t);
	count_old_errors(a);
	/* from our process sensor's attach to the old programs' removal: both enforce */
	a->takeover.overlap_ns = now_boottime_ns() - a->takeover.exec_cut_ns;
	if (release) {
		int r = pin_remove(pin_old());

		if (r < 0)
			log_warn_errno(r, "Failed to remove %s: %m", pin_old());
	} else {
		log_info("Keeping %s (--release-pinned-bpf=false): its programs stay attached",
			 pin_old());
	}
	/* what the old programs wrote up to their detachment */
	drain(t);
	takeover_free(t);
	log_info("Took over: %" PRIu64 " records of the downtime replayed, %" PRIu64
		 " seen twice and kept once, %" PRIu64 " of policies no longer configured; "
		 "old and new programs overlapped for %" PRIu64 " ms (no gap)",
		 a->takeover.replayed, a->takeover.duplicates, a->takeover.unknown,
		 a->takeover.overlap_ns / 1000000);
	if (a->takeover.ringbuf_full)
		log_warn("The previous agent's ring buffer overflowed %" PRIu64
			 " times (over its lifetime, the downtime included): those events are "
			 "lost",
			 a->takeover.ringbuf_full);
}
