// SPDX-License-Identifier: Apache-2.0
/*
 * gRPC C core + libuv glue. See rpc.h for the threading model. The call
 * sequences follow the core API's rules: at most one send and one receive op
 * outstanding per call, RECV_CLOSE_ON_SERVER in a batch of its own so that a
 * cancel is seen at once, a catch-all request so unknown methods are answered
 * UNIMPLEMENTED, and no batch is ever started after the queue shut down (live
 * calls are counted so that the queue outlives them).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "lib/rpc.h"
#include "lib/util.h"

#define CQ_DRAIN_BATCH 1024
#define REQUESTS_PER_METHOD 4

/* ------------------------------------------------------------------------------------ */
/* Completion queue + thread + uv_async */

struct cq_item {
	void *tag;
	bool ok;
};

struct rpc_cq {
	grpc_completion_queue *cq;
	uv_loop_t *loop;
	uv_async_t async;
	pthread_t thread;
	pthread_mutex_t lock;
	struct cq_item *items;
	size_t n_items, cap_items;
	struct cq_item *spare;
	size_t cap_spare;
	bool thread_done;
	bool shutdown_called;
	void (*done)(void *);
	void *done_ud;
};

static void dispatch(void *tag, bool ok)
{
	struct rpc_tag *t = tag;

	t->fn(t, ok);
}

static void *cq_thread(void *arg)
{
	struct rpc_cq *q = arg;

	for (;;) {
		grpc_event ev =
			grpc_completion_queue_next(q->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

		pthread_mutex_lock(&q->lock);
		if (ev.type == GRPC_QUEUE_SHUTDOWN) {
			q->thread_done = true;
		} else if (ev.type == GRPC_OP_COMPLETE) {
			if (q->n_items == q->cap_items) {
				size_t cap = q->cap_items ? q->cap_items * 2 : 64;
				struct cq_item *p = realloc(q->items, cap * sizeof(*p));

				if (!p)
					abort(); /* a lost completion would leak a call forever */
				q->items = p;
				q->cap_items = cap;
			}
			q->items[q->n_items].tag = ev.tag;
			q->items[q->n_items].ok = ev.success;
			q->n_items++;
		}
		pthread_mutex_unlock(&q->lock);
		uv_async_send(&q->async);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
	}
	return NULL;
}

static void cq_free(uv_handle_t *h)
{
	struct rpc_cq *q = h->data;
	void (*done)(void *) = q->done;
	void *ud = q->done_ud;

	pthread_mutex_destroy(&q->lock);
	free(q->items);
	free(q->spare);
	free(q);
	if (done)
		done(ud);
}

static void on_async(uv_async_t *h)
{
	struct rpc_cq *q = h->data;
	struct cq_item *items;
	size_t n, cap;
	bool finished;
	int i;

	pthread_mutex_lock(&q->lock);
	items = q->items;
	n = q->n_items;
	cap = q->cap_items;
	q->items = q->spare;
	q->cap_items = q->cap_spare;
	q->n_items = 0;
	finished = q->thread_done;
	pthread_mutex_unlock(&q->lock);

	for (size_t k = 0; k < n; k++)
		dispatch(items[k].tag, items[k].ok);
	q->spare = items;
	q->cap_spare = cap;

	if (finished) {
		pthread_join(q->thread, NULL);
		grpc_completion_queue_destroy(q->cq);
		q->cq = NULL;
		uv_close((uv_handle_t *)&q->async, cq_free);
		return;
	}
	for (i = 0; i < CQ_DRAIN_BATCH; i++) {
		grpc_event ev =
			grpc_completion_queue_next(q->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);

		if (ev.type != GRPC_OP_COMPLETE)
			break;
		dispatch(ev.tag, ev.success);
	}
	if (i == CQ_DRAIN_BATCH)
		uv_async_send(&q->async);
}

int rpc_cq_new(uv_loop_t *loop, struct rpc_cq **ret)
{
	struct rpc_cq *q;
	int r;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->loop = loop;
	q->cq = grpc_completion_queue_create_for_next(NULL);
	if (!q->cq) {
		free(q);
		return -ENOMEM;
	}
	pthread_mutex_init(&q->lock, NULL);
	r = uv_async_init(loop, &q->async, on_async);
	if (r < 0)
		goto err_cq;
	q->async.data = q;
	r = -pthread_create(&q->thread, NULL, cq_thread, q);
	if (r < 0)
		goto err_async;
	*ret = q;
	return 0;

err_async:
	/* the handle is closed by the loop; free the rest there */
	grpc_completion_queue_destroy(q->cq);
	q->cq = NULL;
	uv_close((uv_handle_t *)&q->async, cq_free);
	return r;
err_cq:
	grpc_completion_queue_destroy(q->cq);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return r;
}

grpc_completion_queue *rpc_cq_queue(struct rpc_cq *q)
{
	return q->cq;
}

void rpc_cq_shutdown(struct rpc_cq *q, void (*done)(void *), void *ud)
{
	if (q->shutdown_called)
		return;
	q->shutdown_called = true;
	q->done = done;
	q->done_ud = ud;
	grpc_completion_queue_shutdown(q->cq);
}

/* ------------------------------------------------------------------------------------ */
/* protobuf-c <-> byte buffers */

grpc_slice rpc_pack(const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(n);

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	return s;
}

grpc_byte_buffer *rpc_pack_buffer(const ProtobufCMessage *msg)
{
	grpc_slice s = rpc_pack(msg);
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

	grpc_slice_unref(s);
	return bb;
}

ProtobufCMessage *rpc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader r;
	ProtobufCMessage *m;
	grpc_slice s;

	if (!bb)
		return protobuf_c_message_unpack(desc, NULL, 0, (const uint8_t *)"");
	if (!grpc_byte_buffer_reader_init(&r, bb))
		return NULL;
	s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	return m;
}

const char *rpc_status_name(grpc_status_code code)
{
	static const char *const names[] = {
		"OK",
		"CANCELLED",
		"UNKNOWN",
		"INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED",
		"NOT_FOUND",
		"ALREADY_EXISTS",
		"PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION",
		"ABORTED",
		"OUT_OF_RANGE",
		"UNIMPLEMENTED",
		"INTERNAL",
		"UNAVAILABLE",
		"DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if ((unsigned)code < ARRAY_SIZE(names))
		return names[code];
	return "UNKNOWN";
}

/* ------------------------------------------------------------------------------------ */
/* Server */

struct rpc_server {
	struct rpc_cq *cq;
	grpc_server *server;
	const struct rpc_method *methods;
	size_t n_methods;
	void **handles;
	void *userdata;
	struct rpc_server_stats stats;
	bool started;
	bool shutting_down;
	bool destroyed;
	struct rpc_tag shutdown_tag;
	void (*done)(void *);
	void *done_ud;
};

struct rpc_call {
	struct rpc_server *srv;
	const struct rpc_method *m; /* NULL: the catch-all for unknown methods */
	size_t midx;
	grpc_call *call;
	gpr_timespec deadline;
	grpc_metadata_array md;
	grpc_call_details details;
	grpc_byte_buffer *payload;
	unsigned refs;
	struct rpc_tag tag_new, tag_close, tag_send, tag_recv;
	int cancelled;
	bool active;
	bool closed;
	bool sending;
	bool sent_initial_md;
	bool finishing;
	bool status_sent;
	bool status_in_flight;
	grpc_status_code fin_code;
	char *fin_details;
	grpc_slice *q;
	size_t q_head, q_len, q_cap, q_bytes;
	size_t max_msgs, max_bytes;
	uint64_t sent, dropped;
	grpc_byte_buffer *in_flight;
	grpc_byte_buffer *recv_bb;
	void (*on_message)(struct rpc_call *, const ProtobufCMessage *, void *);
	void *on_message_ud;
	void (*on_close)(struct rpc_call *, void *);
	void *on_close_ud;
};

static void server_maybe_done(struct rpc_server *s);
static int request_call(struct rpc_server *s, size_t midx, bool catch_all);

static void call_free(struct rpc_call *c)
{
	struct rpc_server *s = c->srv;

	while (c->q_len > 0) {
		grpc_slice_unref(c->q[c->q_head]);
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
	}
	free(c->q);
	if (c->call)
		grpc_call_unref(c->call);
	grpc_metadata_array_destroy(&c->md);
	if (!c->m)
		grpc_call_details_destroy(&c->details);
	if (c->payload)
		grpc_byte_buffer_destroy(c->payload);
	free(c->fin_details);
	free(c);
	s->stats.live_calls--;
	server_maybe_done(s);
}

void rpc_call_ref(struct rpc_call *c)
{
	c->refs++;
}

void rpc_call_unref(struct rpc_call *c)
{
	if (!c)
		return;
	if (--c->refs == 0)
		call_free(c);
}

static void drop_queue(struct rpc_call *c)
{
	while (c->q_len > 0) {
		grpc_slice_unref(c->q[c->q_head]);
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
	}
	c->q_bytes = 0;
}

static void notify_close(struct rpc_call *c)
{
	void (*fn)(struct rpc_call *, void *) = c->on_close;

	c->on_close = NULL;
	if (fn)
		fn(c, c->on_close_ud);
}

static void pump(struct rpc_call *c)
{
	grpc_slice details;
	grpc_op ops[3];
	size_t n = 0;
	grpc_call_error e;

	if (c->sending || c->status_sent || c->closed)
		return;
	memset(ops, 0, sizeof(ops));
	if (c->q_len == 0 && !c->finishing)
		return;
	if (!c->sent_initial_md) {
		ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
		n++;
		c->sent_initial_md = true;
	}
	if (c->q_len > 0) {
		grpc_slice s = c->q[c->q_head];

		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
		c->q_bytes -= GRPC_SLICE_LENGTH(s);
		c->in_flight = grpc_raw_byte_buffer_create(&s, 1);
		grpc_slice_unref(s);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = c->in_flight;
		/* cork only when another message follows right behind */
		if (c->q_len > 0)
			ops[n].flags = GRPC_WRITE_BUFFER_HINT;
		n++;
	}
	if (c->finishing && c->q_len == 0) {
		/* the slice must live until start_batch has copied it */
		details = grpc_slice_from_static_string(c->fin_details ? c->fin_details : "");

		ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
		ops[n].data.send_status_from_server.status = c->fin_code;
		ops[n].data.send_status_from_server.status_details = c->fin_details ? &details :
										      NULL;
		ops[n].data.send_status_from_server.trailing_metadata_count = 0;
		n++;
		c->status_sent = true;
	}
	c->sending = true;
	c->refs++;
	e = grpc_call_start_batch(c->call, ops, n, &c->tag_send, NULL);
	if (e != GRPC_CALL_OK) {
		c->sending = false;
		c->refs--;
		if (c->in_flight) {
			grpc_byte_buffer_destroy(c->in_flight);
			c->in_flight = NULL;
		}
	}
}

static void on_send(struct rpc_tag *t, bool ok)
{
	struct rpc_call *c = container_of(t, struct rpc_call, tag_send);

	c->sending = false;
	if (c->in_flight) {
		grpc_byte_buffer_destroy(c->in_flight);
		c->in_flight = NULL;
		if (ok)
			c->sent++;
	}
	if (!ok) {
		/* the peer is gone: RECV_CLOSE_ON_SERVER reports it */
		drop_queue(c);
	} else {
		pump(c);
	}
	rpc_call_unref(c);
}

static void on_close_op(struct rpc_tag *t, bool ok)
{
	struct rpc_call *c = container_of(t, struct rpc_call, tag_close);

	c->closed = true;
	drop_queue(c);
	notify_close(c);
	rpc_call_unref(c);
}

static void start_recv(struct rpc_call *c);

static void on_recv(struct rpc_tag *t, bool ok)
{
	struct rpc_call *c = container_of(t, struct rpc_call, tag_recv);
	grpc_byte_buffer *bb = c->recv_bb;

	c->recv_bb = NULL;
	if (ok && !c->closed && c->on_message) {
		if (bb) {
			ProtobufCMessage *m = rpc_unpack(c->m->request, bb);

			if (!m) {
				c->srv->stats.bad_requests++;
				rpc_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
					      "Cannot decode %s message", c->m->request->name);
			} else {
				c->on_message(c, m, c->on_message_ud);
				protobuf_c_message_free_unpacked(m, NULL);
				start_recv(c);
			}
		} else {
			/* the client half-closed */
			c->on_message(c, NULL, c->on_message_ud);
		}
	}
	if (bb)
		grpc_byte_buffer_destroy(bb);
	rpc_call_unref(c);
}

static void start_recv(struct rpc_call *c)
{
	grpc_op op;

	if (c->closed || c->status_sent)
		return;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	c->refs++;
	if (grpc_call_start_batch(c->call, &op, 1, &c->tag_recv, NULL) != GRPC_CALL_OK)
		c->refs--;
}

static void on_unimplemented_done(struct rpc_tag *t, bool ok)
{
	struct rpc_call *c = container_of(t, struct rpc_call, tag_send);

	rpc_call_unref(c);
}

static void answer_unimplemented(struct rpc_call *c)
{
	grpc_op ops[3];
	char *method = grpc_slice_to_c_string(c->details.method);
	char msg[512];
	grpc_slice details;

	snprintf(msg, sizeof(msg), "Method %s is not implemented", method);
	gpr_free(method);
	details = grpc_slice_from_copied_string(msg);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[1].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
	ops[1].data.send_status_from_server.status_details = &details;
	ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[2].data.recv_close_on_server.cancelled = &c->cancelled;
	c->tag_send.fn = on_unimplemented_done;
	if (grpc_call_start_batch(c->call, ops, 3, &c->tag_send, NULL) != GRPC_CALL_OK)
		rpc_call_unref(c);
	grpc_slice_unref(details);
}

static void on_new_call(struct rpc_tag *t, bool ok)
{
	struct rpc_call *c = container_of(t, struct rpc_call, tag_new);
	struct rpc_server *s = c->srv;
	grpc_op op;

	if (!ok) {
		/* the server is shutting down: a pending request came back */
		rpc_call_unref(c);
		return;
	}
	if (!s->shutting_down)
		request_call(s, c->midx, c->m == NULL);
	c->active = true;
	s->stats.calls++;
	if (!c->m) {
		s->stats.unimplemented++;
		answer_unimplemented(c);
		return;
	}

	/* every call learns at once when the client goes away */
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	op.data.recv_close_on_server.cancelled = &c->cancelled;
	c->refs++;
	if (grpc_call_start_batch(c->call, &op, 1, &c->tag_close, NULL) != GRPC_CALL_OK) {
		c->refs--;
		c->closed = true;
	}

	if (c->m->kind == RPC_BIDI) {
		/* the handler installs on_message; the first receive starts after it */
		c->m->handler(c, NULL, s->userdata);
		start_recv(c);
		return;
	}

	ProtobufCMessage *req = rpc_unpack(c->m->request, c->payload);

	if (c->payload) {
		grpc_byte_buffer_destroy(c->payload);
		c->payload = NULL;
	}
	if (!req) {
		s->stats.bad_requests++;
		rpc_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "Cannot decode %s",
			      c->m->request->name);
		rpc_call_unref(c);
		return;
	}
	c->m->handler(c, req, s->userdata);
	protobuf_c_message_free_unpacked(req, NULL);
}

static int request_call(struct rpc_server *s, size_t midx, bool catch_all)
{
	grpc_completion_queue *cq = rpc_cq_queue(s->cq);
	struct rpc_call *c;
	grpc_call_error e;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->srv = s;
	c->refs = 1;
	c->midx = midx;
	c->m = catch_all ? NULL : &s->methods[midx];
	c->tag_new.fn = on_new_call;
	c->tag_close.fn = on_close_op;
	c->tag_send.fn = on_send;
	c->tag_recv.fn = on_recv;
	c->max_msgs = 1024;
	c->max_bytes = 16 << 20;
	grpc_metadata_array_init(&c->md);
	s->stats.live_calls++;
	if (catch_all) {
		grpc_call_details_init(&c->details);
		e = grpc_server_request_call(s->server, &c->call, &c->details, &c->md, cq, cq,
					     &c->tag_new);
	} else {
		e = grpc_server_request_registered_call(s->server, s->handles[midx], &c->call,
							&c->deadline, &c->md,
							c->m->kind == RPC_BIDI ? NULL : &c->payload,
							cq, cq, &c->tag_new);
	}
	if (e != GRPC_CALL_OK) {
		c->refs = 0;
		call_free(c);
		return -EIO;
	}
	return 0;
}

int rpc_server_new(struct rpc_cq *cq, const struct rpc_method *methods, size_t n_methods,
		   void *userdata, struct rpc_server **ret)
{
	grpc_arg args[2];
	grpc_channel_args ca;
	struct rpc_server *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->handles = calloc(n_methods ? n_methods : 1, sizeof(void *));
	if (!s->handles) {
		free(s);
		return -ENOMEM;
	}
	s->cq = cq;
	s->methods = methods;
	s->n_methods = n_methods;
	s->userdata = userdata;

	/* two daemons must never share a port */
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = (char *)GRPC_ARG_ALLOW_REUSEPORT;
	args[0].value.integer = 0;
	/* agents keep streams open for days and ping every minute */
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = (char *)GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
	args[1].value.integer = 10000;
	ca.num_args = 2;
	ca.args = args;
	s->server = grpc_server_create(&ca, NULL);
	grpc_server_register_completion_queue(s->server, rpc_cq_queue(cq), NULL);
	for (size_t i = 0; i < n_methods; i++) {
		s->handles[i] = grpc_server_register_method(
			s->server, methods[i].path, NULL,
			methods[i].kind == RPC_BIDI ? GRPC_SRM_PAYLOAD_NONE :
						      GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
			0);
		if (!s->handles[i]) {
			grpc_server_destroy(s->server);
			free(s->handles);
			free(s);
			return -EINVAL;
		}
	}
	*ret = s;
	return 0;
}

/* Is something already answering on this unix socket? */
static bool unix_socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

int rpc_server_listen(struct rpc_server *s, const char *addr, grpc_server_credentials *creds,
		      int *port)
{
	grpc_server_credentials *own = NULL;
	const char *upath = NULL;
	mode_t old_umask = 0;
	int p;

	if (startswith(addr, "unix://"))
		upath = addr + strlen("unix://");
	else if (startswith(addr, "unix:"))
		upath = addr + strlen("unix:");
	if (upath) {
		if (!*upath)
			return -EINVAL;
		if (unix_socket_in_use(upath))
			return -EADDRINUSE;
		/* a stale socket from a crashed daemon */
		unlink(upath);
		old_umask = umask(0077);
	}
	if (!creds)
		creds = own = grpc_insecure_server_credentials_create();
	p = grpc_server_add_http2_port(s->server, addr, creds);
	if (upath) {
		umask(old_umask);
		if (p > 0)
			chmod(upath, 0600);
	}
	if (own)
		grpc_server_credentials_release(own);
	if (p <= 0)
		return upath ? -EADDRNOTAVAIL : -EADDRINUSE;
	if (port)
		*port = upath ? 0 : p;
	return 0;
}

int rpc_server_start(struct rpc_server *s)
{
	int r;

	grpc_server_start(s->server);
	s->started = true;
	for (size_t i = 0; i < s->n_methods; i++) {
		for (int k = 0; k < REQUESTS_PER_METHOD; k++) {
			r = request_call(s, i, false);
			if (r < 0)
				return r;
		}
	}
	for (int k = 0; k < 2; k++) {
		r = request_call(s, 0, true);
		if (r < 0)
			return r;
	}
	return 0;
}

void rpc_server_get_stats(struct rpc_server *s, struct rpc_server_stats *st)
{
	*st = s->stats;
}

static void server_maybe_done(struct rpc_server *s)
{
	void (*done)(void *);
	void *ud;

	if (!s->destroyed || s->stats.live_calls > 0)
		return;
	done = s->done;
	ud = s->done_ud;
	free(s->handles);
	free(s);
	if (done)
		done(ud);
}

static void on_server_shutdown(struct rpc_tag *t, bool ok)
{
	struct rpc_server *s = container_of(t, struct rpc_server, shutdown_tag);

	grpc_server_destroy(s->server);
	s->server = NULL;
	s->destroyed = true;
	server_maybe_done(s);
}

void rpc_server_shutdown(struct rpc_server *s, void (*done)(void *), void *ud)
{
	if (s->shutting_down)
		return;
	s->shutting_down = true;
	s->done = done;
	s->done_ud = ud;
	s->shutdown_tag.fn = on_server_shutdown;
	if (!s->started) {
		/* nothing was ever requested; the core still wants the shutdown call */
		grpc_server_start(s->server);
	}
	grpc_server_shutdown_and_notify(s->server, rpc_cq_queue(s->cq), &s->shutdown_tag);
	grpc_server_cancel_all_calls(s->server);
}

const char *rpc_call_method(struct rpc_call *c)
{
	return c->m ? c->m->path : "";
}

const char *rpc_call_metadata(struct rpc_call *c, const char *key, size_t *len)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < c->md.count; i++) {
		grpc_slice k = c->md.metadata[i].key;

		if (GRPC_SLICE_LENGTH(k) == klen &&
		    memcmp(GRPC_SLICE_START_PTR(k), key, klen) == 0) {
			if (len)
				*len = GRPC_SLICE_LENGTH(c->md.metadata[i].value);
			return (const char *)GRPC_SLICE_START_PTR(c->md.metadata[i].value);
		}
	}
	return NULL;
}

char *rpc_call_peer_identity(struct rpc_call *c)
{
	grpc_auth_context *ctx = grpc_call_auth_context(c->call);
	grpc_auth_property_iterator it;
	const grpc_auth_property *p;
	char *id = NULL;

	if (!ctx)
		return NULL;
	if (grpc_auth_context_peer_is_authenticated(ctx)) {
		it = grpc_auth_context_peer_identity(ctx);
		p = grpc_auth_property_iterator_next(&it);
		if (p)
			id = strndup(p->value, p->value_length);
	}
	grpc_auth_context_release(ctx);
	return id;
}

bool rpc_call_peer_has_identity(struct rpc_call *c, const char *name)
{
	grpc_auth_context *ctx = grpc_call_auth_context(c->call);
	grpc_auth_property_iterator it;
	const grpc_auth_property *p;
	size_t len = strlen(name);
	bool found = false;

	if (!ctx)
		return false;
	if (grpc_auth_context_peer_is_authenticated(ctx)) {
		it = grpc_auth_context_peer_identity(ctx);
		while (!found && (p = grpc_auth_property_iterator_next(&it)))
			found = p->value_length == len && memcmp(p->value, name, len) == 0;
	}
	grpc_auth_context_release(ctx);
	return found;
}

char *rpc_call_peer(struct rpc_call *c)
{
	char *p = grpc_call_get_peer(c->call);
	char *r = p ? strdup(p) : NULL;

	gpr_free(p);
	return r;
}

int rpc_call_reply(struct rpc_call *c, const ProtobufCMessage *msg)
{
	int r = rpc_call_send(c, msg);

	if (r < 0)
		return r;
	return rpc_call_finish(c);
}

int rpc_call_fail(struct rpc_call *c, grpc_status_code code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (c->finishing || c->closed)
		return -EPIPE;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	/* a status message travels in a header: keep it well under the peers' 8 KiB limit */
	if (msg && strlen(msg) > RPC_MAX_STATUS_MESSAGE)
		msg[RPC_MAX_STATUS_MESSAGE] = '\0';
	/* an error status does not wait for queued messages */
	drop_queue(c);
	c->finishing = true;
	c->fin_code = code;
	c->fin_details = msg;
	pump(c);
	return 0;
}

void rpc_call_on_message(struct rpc_call *c,
			 void (*fn)(struct rpc_call *, const ProtobufCMessage *, void *), void *ud)
{
	c->on_message = fn;
	c->on_message_ud = ud;
}

void rpc_call_on_close(struct rpc_call *c, void (*fn)(struct rpc_call *, void *), void *ud)
{
	c->on_close = fn;
	c->on_close_ud = ud;
	if (c->closed)
		notify_close(c);
}

void rpc_call_set_queue_limit(struct rpc_call *c, size_t max_msgs, size_t max_bytes)
{
	c->max_msgs = max_msgs;
	c->max_bytes = max_bytes;
}

int rpc_call_send_slice(struct rpc_call *c, grpc_slice slice)
{
	if (c->closed || c->finishing)
		return -EPIPE;
	if (c->q_len >= c->max_msgs || c->q_bytes + GRPC_SLICE_LENGTH(slice) > c->max_bytes) {
		c->dropped++;
		return -ENOBUFS;
	}
	if (c->q_len == c->q_cap) {
		size_t cap = c->q_cap ? c->q_cap * 2 : 16;
		grpc_slice *q = malloc(cap * sizeof(*q));

		if (!q) {
			c->dropped++;
			return -ENOMEM;
		}
		for (size_t i = 0; i < c->q_len; i++)
			q[i] = c->q[(c->q_head + i) % c->q_cap];
		free(c->q);
		c->q = q;
		c->q_cap = cap;
		c->q_head = 0;
	}
	c->q[(c->q_head + c->q_len) % c->q_cap] = grpc_slice_ref(slice);
	c->q_len++;
	c->q_bytes += GRPC_SLICE_LENGTH(slice);
	pump(c);
	return 0;
}

int rpc_call_send(struct rpc_call *c, const ProtobufCMessage *msg)
{
	grpc_slice s;
	int r;

	if (c->closed || c->finishing)
		return -EPIPE;
	s = rpc_pack(msg);
	r = rpc_call_send_slice(c, s);
	grpc_slice_unref(s);
	return r;
}

int rpc_call_finish(struct rpc_call *c)
{
	if (c->finishing || c->closed)
		return -EPIPE;
	c->finishing = true;
	c->fin_code = GRPC_STATUS_OK;
	pump(c);
	return 0;
}

bool rpc_call_closed(struct rpc_call *c)
{
	return c->closed;
}

void rpc_call_get_stream_stats(struct rpc_call *c, struct rpc_stream_stats *st)
{
	st->sent = c->sent;
	st->dropped = c->dropped;
	st->queued = c->q_len;
	st->queued_bytes = c->q_bytes;
}

/* ------------------------------------------------------------------------------------ */
/* Client: channels and blocking calls */

grpc_channel *rpc_channel_new(const char *target, grpc_channel_credentials *creds,
			      bool own_subchannel)
{
	grpc_channel_credentials *own = NULL;
	grpc_arg args[4];
	grpc_channel_args ca = { .num_args = 0, .args = args };
	grpc_channel *ch;

	args[ca.num_args].type = GRPC_ARG_INTEGER;
	args[ca.num_args].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[ca.num_args].value.integer = 64 << 20;
	ca.num_args++;
	args[ca.num_args].type = GRPC_ARG_INTEGER;
	args[ca.num_args].key = (char *)GRPC_ARG_KEEPALIVE_TIME_MS;
	args[ca.num_args].value.integer = 60000;
	ca.num_args++;
	args[ca.num_args].type = GRPC_ARG_INTEGER;
	args[ca.num_args].key = (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
	args[ca.num_args].value.integer = 20000;
	ca.num_args++;
	if (own_subchannel) {
		/* each simulated agent its own TCP connection */
		args[ca.num_args].type = GRPC_ARG_INTEGER;
		args[ca.num_args].key = (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
		args[ca.num_args].value.integer = 1;
		ca.num_args++;
	}
	if (!creds)
		creds = own = grpc_insecure_credentials_create();
	ch = grpc_channel_create(target, creds, &ca);
	if (own)
		grpc_channel_credentials_release(own);
	return ch;
}

static gpr_timespec deadline_in(int ms)
{
	if (ms <= 0)
		return gpr_inf_future(GPR_CLOCK_REALTIME);
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static void set_status(struct rpc_status *st, grpc_status_code code, grpc_slice details,
		       const char *error_string)
{
	size_t n = GRPC_SLICE_LENGTH(details);

	st->code = code;
	if (n >= sizeof(st->message))
		n = sizeof(st->message) - 1;
	memcpy(st->message, GRPC_SLICE_START_PTR(details), n);
	st->message[n] = '\0';
	if (n == 0 && error_string && code != GRPC_STATUS_OK)
		snprintf(st->message, sizeof(st->message), "%s", error_string);
}

int rpc_unary_sync(grpc_channel *ch, const char *path, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
		   ProtobufCMessage **resp, struct rpc_status *st)
{
	grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *send = NULL, *recv = NULL;
	grpc_status_code code = GRPC_STATUS_UNKNOWN;
	grpc_slice details = grpc_empty_slice();
	const char *error_string = NULL;
	gpr_timespec deadline = deadline_in(timeout_ms);
	grpc_op ops[6];
	grpc_call *call;
	grpc_event ev;
	int r = 0;

	grpc_metadata_array_init(&init_md);
	grpc_metadata_array_init(&trail_md);
	call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
					grpc_slice_from_static_string(path), NULL, deadline, NULL);
	send = rpc_pack_buffer(req);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
	ops[5].data.recv_status_on_client.status = &code;
	ops[5].data.recv_status_on_client.status_details = &details;
	ops[5].data.recv_status_on_client.error_string = &error_string;
	if (grpc_call_start_batch(call, ops, 6, (void *)1, NULL) != GRPC_CALL_OK) {
		r = -EIO;
		st->code = GRPC_STATUS_INTERNAL;
		snprintf(st->message, sizeof(st->message), "cannot start the call");
		goto out;
	}
	ev = grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	(void)ev;
	set_status(st, code, details, error_string);
	if (code != GRPC_STATUS_OK) {
		r = -EIO;
		goto out;
	}
	*resp = rpc_unpack(resp_desc, recv);
	if (!*resp) {
		st->code = GRPC_STATUS_INTERNAL;
		snprintf(st->message, sizeof(st->message), "cannot decode the %s response",
			 resp_desc->name);
		r = -EIO;
	}
out:
	if (send)
		grpc_byte_buffer_destroy(send);
	if (recv)
		grpc_byte_buffer_destroy(recv);
	grpc_slice_unref(details);
	gpr_free((void *)error_string);
	grpc_metadata_array_destroy(&init_md);
	grpc_metadata_array_destroy(&trail_md);
	grpc_call_unref(call);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
		       .type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	return r;
}

enum { SR_START = 1, SR_STATUS = 2, SR_READ = 3 };

struct rpc_stream_reader {
	grpc_completion_queue *cq;
	grpc_call *call;
	const ProtobufCMessageDescriptor *desc;
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *send;
	grpc_byte_buffer *recv;
	grpc_status_code code;
	grpc_slice details;
	const char *error_string;
	bool done[4];
	bool read_pending;
	bool ended;
};

static void wait_tag(struct rpc_stream_reader *r, intptr_t tag)
{
	while (!r->done[tag]) {
		grpc_event ev =
			grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

		if (ev.type != GRPC_OP_COMPLETE)
			return;
		r->done[(intptr_t)ev.tag] = true;
	}
}

int rpc_stream_open_sync(grpc_channel *ch, const char *path, const ProtobufCMessage *req,
			 const ProtobufCMessageDescriptor *resp_desc, int connect_timeout_ms,
			 struct rpc_stream_reader **ret)
{
	struct rpc_stream_reader *r;
	grpc_op ops[4];

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cq = grpc_completion_queue_create_for_next(NULL);
	r->desc = resp_desc;
	r->details = grpc_empty_slice();
	grpc_metadata_array_init(&r->init_md);
	grpc_metadata_array_init(&r->trail_md);
	r->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, r->cq,
					   grpc_slice_from_static_string(path), NULL,
					   gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	r->send = rpc_pack_buffer(req);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = r->send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &r->init_md;
	if (grpc_call_start_batch(r->call, ops, 4, (void *)SR_START, NULL) != GRPC_CALL_OK)
		goto err;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &r->trail_md;
	ops[0].data.recv_status_on_client.status = &r->code;
	ops[0].data.recv_status_on_client.status_details = &r->details;
	ops[0].data.recv_status_on_client.error_string = &r->error_string;
	if (grpc_call_start_batch(r->call, ops, 1, (void *)SR_STATUS, NULL) != GRPC_CALL_OK)
		goto err;
	(void)connect_timeout_ms;
	*ret = r;
	return 0;
err:
	rpc_stream_close_sync(r);
	return -EIO;
}

int rpc_stream_read_sync(struct rpc_stream_reader *r, ProtobufCMessage **msg, struct rpc_status *st)
{
	grpc_op op;

	if (r->ended)
		goto end;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &r->recv;
	r->done[SR_READ] = false;
	if (grpc_call_start_batch(r->call, &op, 1, (void *)SR_READ, NULL) != GRPC_CALL_OK) {
		r->ended = true;
		goto end;
	}
	r->read_pending = true;
	wait_tag(r, SR_READ);
	r->read_pending = false;
	if (r->recv) {
		*msg = rpc_unpack(r->desc, r->recv);
		grpc_byte_buffer_destroy(r->recv);
		r->recv = NULL;
		if (!*msg) {
			st->code = GRPC_STATUS_INTERNAL;
			snprintf(st->message, sizeof(st->message), "cannot decode a %s message",
				 r->desc->name);
			return -EBADMSG;
		}
		return 1;
	}
	r->ended = true;
end:
	wait_tag(r, SR_STATUS);
	set_status(st, r->code, r->details, r->error_string);
	return 0;
}

bool rpc_stream_idle_sync(struct rpc_stream_reader *r, int ms)
{
	gpr_timespec deadline = deadline_in(ms);

	for (;;) {
		grpc_event ev = grpc_completion_queue_next(r->cq, deadline, NULL);

		if (ev.type != GRPC_OP_COMPLETE)
			break;
		r->done[(intptr_t)ev.tag] = true;
	}
	return !r->done[SR_STATUS];
}

void rpc_stream_cancel(struct rpc_stream_reader *r)
{
	grpc_call_cancel(r->call, NULL);
}

struct rpc_stream_reader *rpc_stream_close_sync(struct rpc_stream_reader *r)
{
	if (!r)
		return NULL;
	if (r->call) {
		grpc_call_cancel(r->call, NULL);
		wait_tag(r, SR_START);
		wait_tag(r, SR_STATUS);
		grpc_call_unref(r->call);
	}
	grpc_completion_queue_shutdown(r->cq);
	while (grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(r->cq);
	if (r->send)
		grpc_byte_buffer_destroy(r->send);
	if (r->recv)
		grpc_byte_buffer_destroy(r->recv);
	grpc_slice_unref(r->details);
	gpr_free((void *)r->error_string);
	grpc_metadata_array_destroy(&r->init_md);
	grpc_metadata_array_destroy(&r->trail_md);
	free(r);
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Client: asynchronous calls on the loop */

struct rpc_client_call {
	grpc_call *call;
	const ProtobufCMessageDescriptor *desc;
	struct rpc_client_handlers h;
	void *ud;
	unsigned refs;
	struct rpc_tag tag_start, tag_status, tag_send, tag_recv;
	grpc_metadata *md;
	size_t n_md;
	grpc_metadata_array init_md, trail_md;
	grpc_status_code code;
	grpc_slice details;
	const char *error_string;
	grpc_byte_buffer *first;
	grpc_byte_buffer *in_flight;
	grpc_byte_buffer *recv;
	grpc_slice *q;
	size_t q_head, q_len, q_cap;
	bool sending;
	bool ended;
	bool half_close;
};

static void cc_free(struct rpc_client_call *c)
{
	while (c->q_len > 0) {
		grpc_slice_unref(c->q[c->q_head]);
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
	}
	free(c->q);
	for (size_t i = 0; i < c->n_md; i++) {
		grpc_slice_unref(c->md[i].key);
		grpc_slice_unref(c->md[i].value);
	}
	free(c->md);
	if (c->first)
		grpc_byte_buffer_destroy(c->first);
	if (c->recv)
		grpc_byte_buffer_destroy(c->recv);
	grpc_metadata_array_destroy(&c->init_md);
	grpc_metadata_array_destroy(&c->trail_md);
	grpc_slice_unref(c->details);
	gpr_free((void *)c->error_string);
	if (c->call)
		grpc_call_unref(c->call);
	free(c);
}

void rpc_client_call_unref(struct rpc_client_call *c)
{
	if (c && --c->refs == 0)
		cc_free(c);
}

static void cc_pump(struct rpc_client_call *c)
{
	grpc_op op;
	grpc_slice s;

	if (c->sending || c->ended || c->q_len == 0)
		return;
	s = c->q[c->q_head];
	c->q_head = (c->q_head + 1) % c->q_cap;
	c->q_len--;
	c->in_flight = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = c->in_flight;
	if (c->q_len > 0)
		op.flags = GRPC_WRITE_BUFFER_HINT;
	c->sending = true;
	c->refs++;
	if (grpc_call_start_batch(c->call, &op, 1, &c->tag_send, NULL) != GRPC_CALL_OK) {
		c->sending = false;
		c->refs--;
		grpc_byte_buffer_destroy(c->in_flight);
		c->in_flight = NULL;
	}
}

static void cc_on_send(struct rpc_tag *t, bool ok)
{
	struct rpc_client_call *c = container_of(t, struct rpc_client_call, tag_send);

	c->sending = false;
	grpc_byte_buffer_destroy(c->in_flight);
	c->in_flight = NULL;
	if (ok)
		cc_pump(c);
	rpc_client_call_unref(c);
}

static void cc_start_recv(struct rpc_client_call *c)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv;
	c->refs++;
	if (grpc_call_start_batch(c->call, &op, 1, &c->tag_recv, NULL) != GRPC_CALL_OK)
		c->refs--;
}

static void cc_on_recv(struct rpc_tag *t, bool ok)
{
	struct rpc_client_call *c = container_of(t, struct rpc_client_call, tag_recv);
	grpc_byte_buffer *bb = c->recv;

	c->recv = NULL;
	if (ok && bb && !c->ended) {
		ProtobufCMessage *m = rpc_unpack(c->desc, bb);

		if (m) {
			if (c->h.on_message)
				c->h.on_message(c, m, c->ud);
			protobuf_c_message_free_unpacked(m, NULL);
		} else {
			grpc_call_cancel_with_status(c->call, GRPC_STATUS_INTERNAL,
						     "cannot decode a message", NULL);
		}
		if (!c->ended)
			cc_start_recv(c);
	}
	if (bb)
		grpc_byte_buffer_destroy(bb);
	rpc_client_call_unref(c);
}

static void cc_on_start(struct rpc_tag *t, bool ok)
{
	struct rpc_client_call *c = container_of(t, struct rpc_client_call, tag_start);

	if (c->first) {
		grpc_byte_buffer_destroy(c->first);
		c->first = NULL;
	}
	rpc_client_call_unref(c);
}

static void cc_on_status(struct rpc_tag *t, bool ok)
{
	struct rpc_client_call *c = container_of(t, struct rpc_client_call, tag_status);
	struct rpc_status st;

	c->ended = true;
	while (c->q_len > 0) {
		grpc_slice_unref(c->q[c->q_head]);
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
	}
	set_status(&st, c->code, c->details, c->error_string);
	if (c->h.on_close)
		c->h.on_close(c, &st, c->ud);
	rpc_client_call_unref(c);
}

int rpc_client_call_start(struct rpc_cq *cq, grpc_channel *ch, const char *path,
			  const ProtobufCMessageDescriptor *resp_desc, const char *const *metadata,
			  const ProtobufCMessage *first, bool half_close,
			  const struct rpc_client_handlers *h, void *ud,
			  struct rpc_client_call **ret)
{
	struct rpc_client_call *c;
	grpc_op ops[4];
	size_t n = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->desc = resp_desc;
	c->h = *h;
	c->ud = ud;
	c->refs = 1;
	c->details = grpc_empty_slice();
	c->tag_start.fn = cc_on_start;
	c->tag_status.fn = cc_on_status;
	c->tag_send.fn = cc_on_send;
	c->tag_recv.fn = cc_on_recv;
	grpc_metadata_array_init(&c->init_md);
	grpc_metadata_array_init(&c->trail_md);
	for (size_t i = 0; metadata && metadata[i]; i += 2)
		c->n_md++;
	if (c->n_md) {
		c->md = calloc(c->n_md, sizeof(*c->md));
		if (!c->md) {
			cc_free(c);
			return -ENOMEM;
		}
		for (size_t i = 0; i < c->n_md; i++) {
			c->md[i].key = grpc_slice_from_copied_string(metadata[2 * i]);
			c->md[i].value = grpc_slice_from_copied_string(metadata[2 * i + 1]);
		}
	}
	c->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, rpc_cq_queue(cq),
					   grpc_slice_from_static_string(path), NULL,
					   gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	memset(ops, 0, sizeof(ops));
	ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[n].data.send_initial_metadata.count = c->n_md;
	ops[n].data.send_initial_metadata.metadata = c->md;
	n++;
	ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[n].data.recv_initial_metadata.recv_initial_metadata = &c->init_md;
	n++;
	if (first) {
		c->first = rpc_pack_buffer(first);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = c->first;
		n++;
	}
	if (half_close) {
		ops[n].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		n++;
		c->half_close = true;
	}
	c->refs++;
	if (grpc_call_start_batch(c->call, ops, n, &c->tag_start, NULL) != GRPC_CALL_OK) {
		cc_free(c);
		return -EIO;
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &c->trail_md;
	ops[0].data.recv_status_on_client.status = &c->code;
	ops[0].data.recv_status_on_client.status_details = &c->details;
	ops[0].data.recv_status_on_client.error_string = &c->error_string;
	c->refs++;
	if (grpc_call_start_batch(c->call, ops, 1, &c->tag_status, NULL) != GRPC_CALL_OK) {
		c->refs--;
		grpc_call_cancel(c->call, NULL);
		rpc_client_call_unref(c);
		return -EIO;
	}
	cc_start_recv(c);
	*ret = c;
	return 0;
}

int rpc_client_call_send_slice(struct rpc_client_call *c, grpc_slice slice)
{
	if (c->ended || c->half_close)
		return -EPIPE;
	if (c->q_len == c->q_cap) {
		size_t cap = c->q_cap ? c->q_cap * 2 : 16;
		grpc_slice *q = malloc(cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < c->q_len; i++)
			q[i] = c->q[(c->q_head + i) % c->q_cap];
		free(c->q);
		c->q = q;
		c->q_cap = cap;
		c->q_head = 0;
	}
	c->q[(c->q_head + c->q_len) % c->q_cap] = grpc_slice_ref(slice);
	c->q_len++;
	cc_pump(c);
	return 0;
}

int rpc_client_call_send(struct rpc_client_call *c, const ProtobufCMessage *msg)
{
	grpc_slice s = rpc_pack(msg);
	int r = rpc_client_call_send_slice(c, s);

	grpc_slice_unref(s);
	return r;
}

size_t rpc_client_call_queued(struct rpc_client_call *c)
{
	return c->q_len + (c->sending ? 1 : 0);
}

void rpc_client_call_cancel(struct rpc_client_call *c)
{
	if (!c->ended)
		grpc_call_cancel(c->call, NULL);
}
