/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC C core on a libuv loop, with protobuf-c messages.
 *
 * One thread blocks in grpc_completion_queue_next() and hands completions to the
 * loop through uv_async_send(); when woken, the loop also drains the queue itself
 * with a zero deadline, so under load completions run on the loop thread without
 * a thread hop. Every callback below runs on the loop thread, and every function
 * here must be called from it (the *_sync client calls excepted: they use their
 * own queue and block).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <protobuf-c/protobuf-c.h>
#include <uv.h>

/* A completion: embed one in the object an operation belongs to. */
struct rpc_tag {
	void (*fn)(struct rpc_tag *tag, bool ok);
};

struct rpc_cq;

/* On success *ret owns the queue and its thread; release it with rpc_cq_shutdown(). */
int rpc_cq_new(uv_loop_t *loop, struct rpc_cq **ret);
grpc_completion_queue *rpc_cq_queue(struct rpc_cq *cq);
/*
 * Shut the queue down once nothing uses it any more (servers destroyed, calls
 * finished), then free it and call done. Safe to call once.
 */
void rpc_cq_shutdown(struct rpc_cq *cq, void (*done)(void *userdata), void *userdata);

/* protobuf-c <-> gRPC buffers. */
grpc_slice rpc_pack(const ProtobufCMessage *msg);
grpc_byte_buffer *rpc_pack_buffer(const ProtobufCMessage *msg);
/* Returns NULL for an undecodable buffer; free with protobuf_c_message_free_unpacked(). */
ProtobufCMessage *rpc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb);

/* ------------------------------------------------------------------------------------ */
/* Server */

enum rpc_method_kind {
	RPC_UNARY,
	RPC_SERVER_STREAM,
	RPC_BIDI,
};

struct rpc_call;

struct rpc_method {
	const char *path; /* "/tetragon.FineGuidanceSensors/GetEvents" */
	enum rpc_method_kind kind;
	/* The request type (unary and server streams) or the type of every incoming message (bidi). */
	const ProtobufCMessageDescriptor *request;
	/*
	 * A new call. For unary and server-streaming methods req is the decoded
	 * request (owned by the library, valid during the callback); for bidi
	 * methods it is NULL and messages arrive through rpc_call_on_message().
	 * The handler owns one reference to the call and must eventually answer
	 * (rpc_call_reply(), rpc_call_finish(), rpc_call_fail()) and drop it with
	 * rpc_call_unref().
	 */
	void (*handler)(struct rpc_call *call, const ProtobufCMessage *req, void *userdata);
};

struct rpc_server;

struct rpc_server_stats {
	uint64_t calls;
	uint64_t unimplemented;
	uint64_t bad_requests;
	unsigned live_calls;
};

/*
 * On success *ret owns the server; methods must outlive it. The server is not
 * listening until rpc_server_listen() and rpc_server_start().
 */
int rpc_server_new(struct rpc_cq *cq, const struct rpc_method *methods, size_t n_methods,
		   void *userdata, struct rpc_server **ret);
/*
 * Listen on addr ("127.0.0.1:54321", "unix:///run/x.sock", "[::]:0"); creds may be
 * NULL for plaintext, and are not taken over. A unix socket is created mode 0600.
 * *port gets the bound port (0 for unix sockets). Returns -EADDRINUSE when the
 * address is taken, -EINVAL when it does not parse.
 */
int rpc_server_listen(struct rpc_server *s, const char *addr, grpc_server_credentials *creds,
		      int *port);
int rpc_server_start(struct rpc_server *s);
void rpc_server_get_stats(struct rpc_server *s, struct rpc_server_stats *st);
/* Cancel every call, wait until all are released, destroy the server, then call done. */
void rpc_server_shutdown(struct rpc_server *s, void (*done)(void *userdata), void *userdata);

void rpc_call_ref(struct rpc_call *call);
void rpc_call_unref(struct rpc_call *call);
const char *rpc_call_method(struct rpc_call *call);
/* The value of a request metadata key (lowercase), or NULL. Valid for the call's life. */
const char *rpc_call_metadata(struct rpc_call *call, const char *key, size_t *len);
/* The authenticated peer identity (the certificate's SAN/CN), or NULL; free() it. */
char *rpc_call_peer_identity(struct rpc_call *call);
/*
 * Is name one of the identities of the authenticated peer (every SAN, or the CN when the
 * certificate has none)? False when the peer is not authenticated.
 */
bool rpc_call_peer_has_identity(struct rpc_call *call, const char *name);
/* Peer address for logs ("ipv4:127.0.0.1:4711"); free() it. */
char *rpc_call_peer(struct rpc_call *call);

/* Unary: answer with msg and status OK. */
int rpc_call_reply(struct rpc_call *call, const ProtobufCMessage *msg);
/*
 * Any kind: end the call with an error status, dropping queued messages. The message is cut
 * to RPC_MAX_STATUS_MESSAGE bytes (it travels in a header).
 */
#define RPC_MAX_STATUS_MESSAGE 6144
int rpc_call_fail(struct rpc_call *call, grpc_status_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Streams. */
struct rpc_stream_stats {
	uint64_t sent;
	uint64_t dropped;
	size_t queued;
	size_t queued_bytes;
};

void rpc_call_on_message(struct rpc_call *call,
			 void (*fn)(struct rpc_call *call, const ProtobufCMessage *msg, void *ud),
			 void *ud);
/*
 * fn runs once when the call ends for any reason (client cancel, disconnect,
 * deadline, status sent). After it the call sends nothing more.
 */
void rpc_call_on_close(struct rpc_call *call, void (*fn)(struct rpc_call *call, void *ud),
		       void *ud);
/* Bound the send queue (messages and bytes); messages beyond it are dropped and counted. */
void rpc_call_set_queue_limit(struct rpc_call *call, size_t max_msgs, size_t max_bytes);
/*
 * Queue a message. rpc_call_send_slice() takes its own reference on slice. Returns
 * -ENOBUFS (and counts a drop) when the queue is full, -EPIPE after the call ended.
 */
int rpc_call_send(struct rpc_call *call, const ProtobufCMessage *msg);
int rpc_call_send_slice(struct rpc_call *call, grpc_slice slice);
/* End a stream with OK once the queue has drained. */
int rpc_call_finish(struct rpc_call *call);
bool rpc_call_closed(struct rpc_call *call);
void rpc_call_get_stream_stats(struct rpc_call *call, struct rpc_stream_stats *st);

/* ------------------------------------------------------------------------------------ */
/* Client */

struct rpc_status {
	grpc_status_code code;
	char message[RPC_MAX_STATUS_MESSAGE + 1];
};

/*
 * A channel to target ("127.0.0.1:54321", "unix:///run/x.sock"). creds may be NULL
 * for plaintext. Release with grpc_channel_destroy().
 */
grpc_channel *rpc_channel_new(const char *target, grpc_channel_credentials *creds,
			      bool own_subchannel);

/*
 * Blocking unary call with its own completion queue; usable from any thread.
 * On status OK returns 0 and *resp owns the response (free_unpacked). Otherwise
 * returns -EIO (or -ENOMEM) and st says why.
 */
int rpc_unary_sync(grpc_channel *ch, const char *path, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
		   ProtobufCMessage **resp, struct rpc_status *st);

/* Blocking server-stream reader. */
struct rpc_stream_reader;

int rpc_stream_open_sync(grpc_channel *ch, const char *path, const ProtobufCMessage *req,
			 const ProtobufCMessageDescriptor *resp_desc, int connect_timeout_ms,
			 struct rpc_stream_reader **ret);
/*
 * Next message: 1 and *msg (free_unpacked) when one arrived, 0 at the end of the
 * stream (st has the final status), negative errno on a local error.
 */
int rpc_stream_read_sync(struct rpc_stream_reader *r, ProtobufCMessage **msg,
			 struct rpc_status *st);
/*
 * Keep the connection going for ms without reading a message (the transport
 * needs a thread polling the queue). Returns false once the call has ended.
 */
bool rpc_stream_idle_sync(struct rpc_stream_reader *r, int ms);
/* Cancel (thread-safe; a blocked read returns) */
void rpc_stream_cancel(struct rpc_stream_reader *r);
struct rpc_stream_reader *rpc_stream_close_sync(struct rpc_stream_reader *r);

/* Asynchronous client calls on the loop: bidi streams (agent -> manager) and unary. */
struct rpc_client_call;

struct rpc_client_handlers {
	void (*on_message)(struct rpc_client_call *c, const ProtobufCMessage *msg, void *ud);
	/* The call ended; st is the final status. Called once; release the call after it. */
	void (*on_close)(struct rpc_client_call *c, const struct rpc_status *st, void *ud);
};

/*
 * Start a bidi (or server-streaming when first is non-NULL and half_close is true)
 * call. metadata is a NULL-terminated key, value, key, value... list or NULL.
 * On success *ret holds a reference for the caller (rpc_client_call_unref()).
 */
int rpc_client_call_start(struct rpc_cq *cq, grpc_channel *ch, const char *path,
			  const ProtobufCMessageDescriptor *resp_desc, const char *const *metadata,
			  const ProtobufCMessage *first, bool half_close,
			  const struct rpc_client_handlers *h, void *ud,
			  struct rpc_client_call **ret);
int rpc_client_call_send(struct rpc_client_call *c, const ProtobufCMessage *msg);
int rpc_client_call_send_slice(struct rpc_client_call *c, grpc_slice slice);
size_t rpc_client_call_queued(struct rpc_client_call *c);
void rpc_client_call_cancel(struct rpc_client_call *c);
void rpc_client_call_unref(struct rpc_client_call *c);

const char *rpc_status_name(grpc_status_code code);
