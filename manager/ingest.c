// SPDX-License-Identifier: Apache-2.0
/*
 * The indexed columns of an event, read straight from its encoding, and the node it is
 * attributed to. Decoding a whole GetEventsResponse with protobuf-c allocates every string
 * and sub-message; at 100k events a second that is most of what ingest costs outside
 * SQLite, and the manager needs only a handful of fields (the full decode happens only for
 * live GetEvents subscribers). So the encoding is walked twice, allocating nothing: once
 * against the descriptors, to accept only what protobuf-c would decode, and once for the
 * fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/filter.h"
#include "manager/manager.h"

#define MAX_DEPTH 64

struct wire {
	const uint8_t *p;
	const uint8_t *end;
};

static int get_varint(struct wire *w, uint64_t *v)
{
	uint64_t r = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (w->p >= w->end)
			return -EBADMSG;
		b = *w->p++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -EBADMSG;
}

/* The next field: number, wire type, and its varint value or its bytes. */
static int next_field(struct wire *w, uint32_t *num, int *wt, uint64_t *v, struct wire *sub)
{
	uint64_t key, n;

	if (get_varint(w, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return -EBADMSG;
	*num = (uint32_t)(key >> 3);
	*wt = (int)(key & 7);
	switch (*wt) {
	case 0:
		return get_varint(w, v);
	case 1:
		if (w->end - w->p < 8)
			return -EBADMSG;
		w->p += 8;
		return 0;
	case 5:
		if (w->end - w->p < 4)
			return -EBADMSG;
		w->p += 4;
		return 0;
	case 2:
		if (get_varint(w, &n) < 0 || n > (uint64_t)(w->end - w->p))
			return -EBADMSG;
		sub->p = w->p;
		sub->end = w->p + n;
		w->p += n;
		return 0;
	default:
		return -EBADMSG; /* groups: protobuf-c refuses them too */
	}
}

static int wire_type_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	default:
		return 0;
	}
}

/* Is this a well-formed encoding of d, as far as decoding it goes? */
static int validate(const ProtobufCMessageDescriptor *d, struct wire w, int depth)
{
	if (depth > MAX_DEPTH)
		return -EBADMSG;
	while (w.p < w.end) {
		const ProtobufCFieldDescriptor *fd;
		struct wire sub = { 0 };
		uint32_t num;
		uint64_t v;
		int wt, want;

		if (next_field(&w, &num, &wt, &v, &sub) < 0)
			return -EBADMSG;
		fd = protobuf_c_message_descriptor_get_field(d, num);
		if (!fd)
			continue; /* an unknown field is kept aside, not an error */
		want = wire_type_of(fd->type);
		if (wt != want) {
			/* a repeated scalar may come packed */
			if (!(wt == 2 && want != 2 && fd->label == PROTOBUF_C_LABEL_REPEATED))
				return -EBADMSG;
			continue;
		}
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    validate(fd->descriptor, sub, depth + 1) < 0)
			return -EBADMSG;
	}
	return 0;
}

/* Keep a copy of a string field, NUL-terminated, at an offset into strings. */
static ssize_t keep(struct sbuf *strings, struct wire s)
{
	size_t off = strings->len;

	sbuf_add(strings, s.p, (size_t)(s.end - s.p));
	sbuf_addc(strings, '\0');
	return strings->oom ? -ENOMEM : (ssize_t)off;
}

/* The field numbers of policy_name and action in each event kind (0: none). */
static void event_fields(uint32_t kind, uint32_t *policy, uint32_t *action)
{
	*policy = *action = 0;
	switch (kind) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		*policy = 8;
		*action = 6;
		break;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		*policy = 7;
		*action = 8;
		break;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
		*policy = 5;
		*action = 12;
		break;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
		*policy = 5;
		*action = 8;
		break;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
		*policy = 6;
		*action = 11;
		break;
	default:
		break;
	}
}

static bool is_event_field(uint32_t num)
{
	switch (num) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LOADER:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_THROTTLE:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_TEST:
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_RATE_LIMIT_INFO:
		return true;
	default:
		return false;
	}
}

int ingest_scan(const void *data, size_t len, uint64_t now_ns, struct ingest_event *ie)
{
	struct wire w = { data, (const uint8_t *)data + len }, ev = { 0 }, proc = { 0 };
	struct wire node = { 0 }, pol = { 0 }, exec_id = { 0 }, binary = { 0 };
	uint32_t kind = 0, policy_field, action_field, num;
	int64_t seconds = 0, nanos = 0;
	bool have_time = false, have_node = false, have_pid = false;
	uint64_t v, pid = 0, action = 0;
	ssize_t o_pol = -1, o_exec = -1, o_bin = -1, o_node = -1;
	int wt;

	memset(&ie->e, 0, sizeof(ie->e));
	sbuf_reset(&ie->strings);
	if (validate(&tetragon__get_events_response__descriptor, w, 0) < 0)
		return -EBADMSG;
	while (w.p < w.end) {
		struct wire sub = { 0 };

		if (next_field(&w, &num, &wt, &v, &sub) < 0)
			return -EBADMSG;
		if (wt != 2)
			continue;
		if (is_event_field(num)) {
			/* a oneof: the last one wins */
			kind = num;
			ev = sub;
		} else if (num == 1000) {
			node = sub;
			have_node = true;
		} else if (num == 1001) {
			/* a message field given twice is merged, field by field */
			while (sub.p < sub.end) {
				struct wire x;
				uint32_t n;
				int t;

				if (next_field(&sub, &n, &t, &v, &x) < 0)
					return -EBADMSG;
				if (n == 1 && t == 0)
					seconds = (int64_t)v;
				else if (n == 2 && t == 0)
					nanos = (int32_t)v;
			}
			have_time = true;
		}
	}
	event_fields(kind, &policy_field, &action_field);
	while (ev.p && ev.p < ev.end) {
		struct wire sub = { 0 };

		if (next_field(&ev, &num, &wt, &v, &sub) < 0)
			return -EBADMSG;
		if (num == 1 && wt == 2 && kind != TETRAGON__GET_EVENTS_RESPONSE__EVENT_TEST &&
		    kind != TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_THROTTLE &&
		    kind != TETRAGON__GET_EVENTS_RESPONSE__EVENT_RATE_LIMIT_INFO)
			proc = sub;
		else if (policy_field && num == policy_field && wt == 2)
			pol = sub;
		else if (action_field && num == action_field && wt == 0)
			action = v;
	}
	while (proc.p && proc.p < proc.end) {
		struct wire sub = { 0 };

		if (next_field(&proc, &num, &wt, &v, &sub) < 0)
			return -EBADMSG;
		if (num == 1 && wt == 2) {
			exec_id = sub;
		} else if (num == 5 && wt == 2) {
			binary = sub;
		} else if (num == 2 && wt == 2) {
			/* google.protobuf.UInt32Value */
			have_pid = true;
			while (sub.p < sub.end) {
				struct wire x;
				uint32_t n;
				int t;

				if (next_field(&sub, &n, &t, &v, &x) < 0)
					return -EBADMSG;
				if (n == 1 && t == 0)
					pid = v;
			}
		}
	}
	if (pol.p && (o_pol = keep(&ie->strings, pol)) < 0)
		return -ENOMEM;
	if (exec_id.p && (o_exec = keep(&ie->strings, exec_id)) < 0)
		return -ENOMEM;
	if (binary.p && (o_bin = keep(&ie->strings, binary)) < 0)
		return -ENOMEM;
	if (have_node && (o_node = keep(&ie->strings, node)) < 0)
		return -ENOMEM;

	ie->e.type = (int)kind; /* EventType numbers are the oneof's field numbers */
	ie->e.time_ns = now_ns;
	if (have_time && seconds > 0 && seconds < INT64_MAX / 1000000000 && nanos >= 0 &&
	    nanos < 1000000000)
		ie->e.time_ns = (uint64_t)seconds * 1000000000ull + (uint64_t)nanos;
	ie->e.policy = o_pol >= 0 ? ie->strings.buf + o_pol : NULL;
	ie->e.exec_id = o_exec >= 0 ? ie->strings.buf + o_exec : NULL;
	ie->e.binary = o_bin >= 0 ? ie->strings.buf + o_bin : NULL;
	ie->e.has_pid = have_pid;
	ie->e.pid = (uint32_t)pid;
	ie->e.action = (int)(uint32_t)action;
	ie->e.data = data;
	ie->e.len = len;
	ie->node_name = o_node >= 0 ? ie->strings.buf + o_node : "";
	return 0;
}

static void add_varint(struct sbuf *b, uint64_t v)
{
	while (v >= 0x80) {
		sbuf_addc(b, (char)(v | 0x80));
		v >>= 7;
	}
	sbuf_addc(b, (char)v);
}

bool ingest_set_node(struct ingest_event *ie, const char *node, struct sbuf *out)
{
	size_t n = strlen(node);

	if (strcmp(ie->node_name, node) == 0)
		return false;
	sbuf_reset(out);
	sbuf_add(out, ie->e.data, ie->e.len);
	/* field 1000 (node_name), wire type 2: a later occurrence wins when it is decoded */
	add_varint(out, (1000u << 3) | 2);
	add_varint(out, n);
	sbuf_add(out, node, n);
	if (out->oom)
		return false;
	ie->e.data = out->buf;
	ie->e.len = out->len;
	ie->node_name = node;
	return true;
}
