/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proto3 JSON mapping for protobuf-c messages, driven by their descriptors.
 *
 * The encoder prints what Go's protojson prints with UseProtoNames: original field names,
 * fields at their default value left out, 64-bit integers quoted, enums by name, bytes as
 * base64, maps as objects, and the well-known types Timestamp, Duration, FieldMask, Any and
 * the wrappers in their special forms. The decoder accepts what protojson accepts and builds
 * a message that protobuf_c_message_free_unpacked(msg, NULL) releases.
 *
 * pbjson_encode() and pbjson_decode() may run in several threads at once; descriptors are
 * taken to be static, as protoc-c generates them.
 *
 * Known limits: Struct, Value, ListValue and NullValue are not special-cased (the build does
 * not generate them). Reading goes through jansson, which has no exact number type beyond
 * int64 and double: a bare (unquoted) integer above INT64_MAX is refused, quoted it reads
 * exactly; and a bare -0 reads as 0, "-0" keeps the sign.
 */
#pragma once

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct sbuf;

/* pbjson_decode(): skip fields and enum value names the descriptor does not know. */
#define PBJSON_DISCARD_UNKNOWN (1u << 0)

/*
 * Makes message types known by full name, so that google.protobuf.Any values holding them can
 * be printed and parsed. The descriptors must outlive every later pbjson call; registering is
 * not thread-safe against concurrent encoding or decoding, so do it at start-up. Registering a
 * type twice is harmless. Returns 0, or -ENOSPC when the registry (256 types) is full.
 */
int pbjson_register_descriptors(const ProtobufCMessageDescriptor *const *descs, size_t n);

/*
 * Appends msg as one compact JSON value (an object, or a string or number for the well-known
 * types that map to one) to out, with no trailing newline. flags must be 0. Returns 0,
 * -ENOMEM when out could not grow, or -EINVAL when msg holds something JSON cannot express:
 * an Any of an unregistered type, a Timestamp or Duration out of range, a FieldMask path that
 * is not a lowerCamelCase-convertible name, a NULL map entry. On failure out is left as it
 * was. The caller keeps ownership of msg and out.
 */
int pbjson_encode(const ProtobufCMessage *msg, struct sbuf *out, unsigned flags);

/*
 * Parses len bytes of JSON as a message of type desc. On success *ret owns a new message;
 * release it with protobuf_c_message_free_unpacked(*ret, NULL). On failure *ret is left
 * alone, and err (when errlen > 0) receives a message naming the offending field, such as
 * "at 'process_exec.process.pid': expected an unsigned 32-bit integer, got "abc"".
 * Returns 0, -EINVAL for input that is not valid JSON for desc, -ERANGE for a number out of
 * range for its field, or -ENOMEM.
 */
int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
		  unsigned flags, ProtobufCMessage **ret, char *err, size_t errlen);
