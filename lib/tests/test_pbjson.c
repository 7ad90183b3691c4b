// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "tetragon/events.pb-c.h"
#include "tetragon/sensors.pb-c.h"
#include "tetragon/tetragon.pb-c.h"

#include "lib/pbjson.h"
#include "lib/util.h"

#define FIXTURES TEST_SRCDIR "/lib/tests/data/json/"
/* U+FFFD, what each byte of invalid UTF-8 becomes. */
#define REPL "\xef\xbf\xbd"

/* ---------------------------------------------------------------------------------------
 * A message with every scalar type, proto2 labels and maps with non-string keys, which the
 * tetragon protos do not have: its descriptors are written out as protoc-c would generate
 * them, in package pbjson.test.
 */

struct int_map_entry {
	ProtobufCMessage base;
	int64_t key;
	char *value;
};

struct bool_map_entry {
	ProtobufCMessage base;
	protobuf_c_boolean key;
	int value;
};

struct u32_map_entry {
	ProtobufCMessage base;
	uint32_t key;
	Google__Protobuf__Timestamp *value;
};

struct i32_map_entry {
	ProtobufCMessage base;
	int32_t key;
	ProtobufCBinaryData value;
};

struct u64_map_entry {
	ProtobufCMessage base;
	uint64_t key;
	double value;
};

struct all_types {
	ProtobufCMessage base;
	int32_t f_int32;
	int64_t f_int64;
	uint32_t f_uint32;
	uint64_t f_uint64;
	int32_t f_sint32;
	int64_t f_sint64;
	uint32_t f_fixed32;
	uint64_t f_fixed64;
	int32_t f_sfixed32;
	int64_t f_sfixed64;
	float f_float;
	double f_double;
	protobuf_c_boolean f_bool;
	char *f_string;
	ProtobufCBinaryData f_bytes;
	int f_enum;
	size_t n_r_sint64;
	int64_t *r_sint64;
	size_t n_r_float;
	float *r_float;
	size_t n_r_double;
	double *r_double;
	size_t n_r_bool;
	protobuf_c_boolean *r_bool;
	size_t n_r_string;
	char **r_string;
	size_t n_r_bytes;
	ProtobufCBinaryData *r_bytes;
	size_t n_r_timestamp;
	Google__Protobuf__Timestamp **r_timestamp;
	size_t n_int_map;
	struct int_map_entry **int_map;
	size_t n_bool_map;
	struct bool_map_entry **bool_map;
	size_t n_u32_map;
	struct u32_map_entry **u32_map;
	protobuf_c_boolean has_opt_int32;
	int32_t opt_int32;
	char *opt_string;
	int32_t req_int32;
	uint32_t choice_case;
	union {
		uint64_t choice_u64;
		char *choice_str;
		Google__Protobuf__Timestamp *choice_ts;
	};
	/* Entry types, but not maps: wrong name, nested elsewhere. */
	size_t n_pairs;
	struct int_map_entry **pairs;
	size_t n_pod_labels;
	Tetragon__Pod__PodLabelsEntry **pod_labels;
	size_t n_i32_map;
	struct i32_map_entry **i32_map;
	size_t n_u64_map;
	struct u64_map_entry **u64_map;
};

enum {
	CHOICE_U64 = 30,
	CHOICE_STR = 31,
	CHOICE_TS = 32,
};

#define FIELD(name, id, label, type, quantifier, offset, desc, def, flags)                      \
	{                                                                                       \
		name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, quantifier, offset, \
			desc, def, flags, 0, NULL, NULL                                         \
	}
#define AT(m) offsetof(struct all_types, m)
#define SCALAR(name, id, type) FIELD(#name, id, NONE, type, 0, AT(name), NULL, NULL, 0)
#define REPEATED(name, id, type, desc, flags) \
	FIELD(#name, id, REPEATED, type, AT(n_##name), AT(name), desc, NULL, flags)
#define ONEOF(name, id, type, desc)                                         \
	FIELD(#name, id, NONE, type, AT(choice_case), AT(name), desc, NULL, \
	      PROTOBUF_C_FIELD_FLAG_ONEOF)

static const ProtobufCMessageDescriptor all_types_desc, int_map_entry_desc, bool_map_entry_desc,
	u32_map_entry_desc, i32_map_entry_desc, u64_map_entry_desc;

static const ProtobufCFieldDescriptor all_types_fields[] = {
	SCALAR(f_int32, 1, INT32),
	SCALAR(f_int64, 2, INT64),
	SCALAR(f_uint32, 3, UINT32),
	SCALAR(f_uint64, 4, UINT64),
	SCALAR(f_sint32, 5, SINT32),
	SCALAR(f_sint64, 6, SINT64),
	SCALAR(f_fixed32, 7, FIXED32),
	SCALAR(f_fixed64, 8, FIXED64),
	SCALAR(f_sfixed32, 9, SFIXED32),
	SCALAR(f_sfixed64, 10, SFIXED64),
	SCALAR(f_float, 11, FLOAT),
	SCALAR(f_double, 12, DOUBLE),
	SCALAR(f_bool, 13, BOOL),
	FIELD("f_string", 14, NONE, STRING, 0, AT(f_string), NULL, &protobuf_c_empty_string, 0),
	SCALAR(f_bytes, 15, BYTES),
	FIELD("f_enum", 16, NONE, ENUM, 0, AT(f_enum), &tetragon__health_status_result__descriptor,
	      NULL, 0),
	REPEATED(r_sint64, 17, SINT64, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	REPEATED(r_float, 18, FLOAT, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	REPEATED(r_double, 19, DOUBLE, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	REPEATED(r_bool, 20, BOOL, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	REPEATED(r_string, 21, STRING, NULL, 0),
	REPEATED(r_bytes, 22, BYTES, NULL, 0),
	REPEATED(r_timestamp, 23, MESSAGE, &google__protobuf__timestamp__descriptor, 0),
	REPEATED(int_map, 24, MESSAGE, &int_map_entry_desc, 0),
	REPEATED(bool_map, 25, MESSAGE, &bool_map_entry_desc, 0),
	REPEATED(u32_map, 26, MESSAGE, &u32_map_entry_desc, 0),
	FIELD("opt_int32", 27, OPTIONAL, INT32, AT(has_opt_int32), AT(opt_int32), NULL, NULL, 0),
	FIELD("opt_string", 28, OPTIONAL, STRING, 0, AT(opt_string), NULL, NULL, 0),
	FIELD("req_int32", 29, REQUIRED, INT32, 0, AT(req_int32), NULL, NULL, 0),
	ONEOF(choice_u64, CHOICE_U64, UINT64, NULL),
	ONEOF(choice_str, CHOICE_STR, STRING, NULL),
	ONEOF(choice_ts, CHOICE_TS, MESSAGE, &google__protobuf__timestamp__descriptor),
	REPEATED(pairs, 33, MESSAGE, &int_map_entry_desc, 0),
	REPEATED(pod_labels, 34, MESSAGE, &tetragon__pod__pod_labels_entry__descriptor, 0),
	REPEATED(i32_map, 35, MESSAGE, &i32_map_entry_desc, 0),
	REPEATED(u64_map, 36, MESSAGE, &u64_map_entry_desc, 0),
};

static const ProtobufCFieldDescriptor int_map_entry_fields[] = {
	FIELD("key", 1, NONE, SINT64, 0, offsetof(struct int_map_entry, key), NULL, NULL, 0),
	FIELD("value", 2, NONE, STRING, 0, offsetof(struct int_map_entry, value), NULL,
	      &protobuf_c_empty_string, 0),
};

static const ProtobufCFieldDescriptor bool_map_entry_fields[] = {
	FIELD("key", 1, NONE, BOOL, 0, offsetof(struct bool_map_entry, key), NULL, NULL, 0),
	FIELD("value", 2, NONE, ENUM, 0, offsetof(struct bool_map_entry, value),
	      &tetragon__health_status_result__descriptor, NULL, 0),
};

static const ProtobufCFieldDescriptor u32_map_entry_fields[] = {
	FIELD("key", 1, NONE, FIXED32, 0, offsetof(struct u32_map_entry, key), NULL, NULL, 0),
	FIELD("value", 2, NONE, MESSAGE, 0, offsetof(struct u32_map_entry, value),
	      &google__protobuf__timestamp__descriptor, NULL, 0),
};

static const ProtobufCFieldDescriptor i32_map_entry_fields[] = {
	FIELD("key", 1, NONE, INT32, 0, offsetof(struct i32_map_entry, key), NULL, NULL, 0),
	FIELD("value", 2, NONE, BYTES, 0, offsetof(struct i32_map_entry, value), NULL, NULL, 0),
};

static const ProtobufCFieldDescriptor u64_map_entry_fields[] = {
	FIELD("key", 1, NONE, UINT64, 0, offsetof(struct u64_map_entry, key), NULL, NULL, 0),
	FIELD("value", 2, NONE, DOUBLE, 0, offsetof(struct u64_map_entry, value), NULL, NULL, 0),
};

/* Filled in by setup(): the field indices sorted by name. */
static unsigned all_types_by_name[ARRAY_SIZE(all_types_fields)];
static const unsigned entry_by_name[] = { 0, 1 };
static const ProtobufCIntRange all_types_ranges[] = { { 1, 0 },
						      { 0, ARRAY_SIZE(all_types_fields) } };
static const ProtobufCIntRange entry_ranges[] = { { 1, 0 }, { 0, 2 } };

static void all_types_init(ProtobufCMessage *m)
{
	const struct all_types init = {
		.base = PROTOBUF_C_MESSAGE_INIT(&all_types_desc),
		.f_string = (char *)protobuf_c_empty_string,
	};

	memcpy(m, &init, sizeof(init));
}

static void int_map_entry_init(ProtobufCMessage *m)
{
	const struct int_map_entry init = {
		.base = PROTOBUF_C_MESSAGE_INIT(&int_map_entry_desc),
		.value = (char *)protobuf_c_empty_string,
	};

	memcpy(m, &init, sizeof(init));
}

static void bool_map_entry_init(ProtobufCMessage *m)
{
	const struct bool_map_entry init = { .base = PROTOBUF_C_MESSAGE_INIT(
						     &bool_map_entry_desc) };

	memcpy(m, &init, sizeof(init));
}

static void u32_map_entry_init(ProtobufCMessage *m)
{
	const struct u32_map_entry init = { .base = PROTOBUF_C_MESSAGE_INIT(&u32_map_entry_desc) };

	memcpy(m, &init, sizeof(init));
}

static void i32_map_entry_init(ProtobufCMessage *m)
{
	const struct i32_map_entry init = { .base = PROTOBUF_C_MESSAGE_INIT(&i32_map_entry_desc) };

	memcpy(m, &init, sizeof(init));
}

static void u64_map_entry_init(ProtobufCMessage *m)
{
	const struct u64_map_entry init = { .base = PROTOBUF_C_MESSAGE_INIT(&u64_map_entry_desc) };

	memcpy(m, &init, sizeof(init));
}

#define DESCRIPTOR(full, short, type, fields, by_name, ranges, init)                               \
	{                                                                                          \
		PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, full, short, short, "pbjson.test",           \
			sizeof(type), ARRAY_SIZE(fields), fields, by_name, ARRAY_SIZE(ranges) - 1, \
			ranges, init, NULL, NULL, NULL                                             \
	}

static const ProtobufCMessageDescriptor all_types_desc =
	DESCRIPTOR("pbjson.test.AllTypes", "AllTypes", struct all_types, all_types_fields,
		   all_types_by_name, all_types_ranges, all_types_init);
static const ProtobufCMessageDescriptor int_map_entry_desc =
	DESCRIPTOR("pbjson.test.AllTypes.IntMapEntry", "IntMapEntry", struct int_map_entry,
		   int_map_entry_fields, entry_by_name, entry_ranges, int_map_entry_init);
static const ProtobufCMessageDescriptor bool_map_entry_desc =
	DESCRIPTOR("pbjson.test.AllTypes.BoolMapEntry", "BoolMapEntry", struct bool_map_entry,
		   bool_map_entry_fields, entry_by_name, entry_ranges, bool_map_entry_init);
static const ProtobufCMessageDescriptor u32_map_entry_desc =
	DESCRIPTOR("pbjson.test.AllTypes.U32MapEntry", "U32MapEntry", struct u32_map_entry,
		   u32_map_entry_fields, entry_by_name, entry_ranges, u32_map_entry_init);
static const ProtobufCMessageDescriptor i32_map_entry_desc =
	DESCRIPTOR("pbjson.test.AllTypes.I32MapEntry", "I32MapEntry", struct i32_map_entry,
		   i32_map_entry_fields, entry_by_name, entry_ranges, i32_map_entry_init);
static const ProtobufCMessageDescriptor u64_map_entry_desc =
	DESCRIPTOR("pbjson.test.AllTypes.U64MapEntry", "U64MapEntry", struct u64_map_entry,
		   u64_map_entry_fields, entry_by_name, entry_ranges, u64_map_entry_init);

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(all_types_fields[*(const unsigned *)a].name,
		      all_types_fields[*(const unsigned *)b].name);
}

static int setup(void **state)
{
	static const ProtobufCMessageDescriptor *const types[] = {
		&tetragon__get_version_response__descriptor,
		&google__protobuf__uint32_value__descriptor,
		&google__protobuf__duration__descriptor,
		&google__protobuf__any__descriptor,
		&all_types_desc,
	};

	for (unsigned i = 0; i < ARRAY_SIZE(all_types_by_name); i++)
		all_types_by_name[i] = i;
	qsort(all_types_by_name, ARRAY_SIZE(all_types_by_name), sizeof(unsigned), by_name_cmp);
	return pbjson_register_descriptors(types, ARRAY_SIZE(types));
}

/* ---------------------------------------------------------------------------------------
 * Helpers
 */

static char *fixture(const char *name)
{
	char path[4096], *s = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	assert_int_equal(read_file(path, 1 << 20, &s, &len), 0);
	while (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	return s;
}

static void assert_encodes(const void *msg, const char *expected)
{
	struct sbuf sb;

	sbuf_init(&sb);
	assert_int_equal(pbjson_encode(msg, &sb, 0), 0);
	assert_string_equal(sb.buf, expected);
	assert_int_equal(sb.len, strlen(expected));
	sbuf_free(&sb);
}

static void assert_encode_fails(const void *msg, int expected)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_adds(&sb, "kept");
	assert_int_equal(pbjson_encode(msg, &sb, 0), expected);
	assert_string_equal(sb.buf, "kept");
	sbuf_free(&sb);
}

static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc, const char *json,
				   unsigned flags)
{
	ProtobufCMessage *msg = NULL;
	char err[256];
	int r = pbjson_decode(desc, json, strlen(json), flags, &msg, err, sizeof(err));

	if (r < 0)
		print_error("decoding %s: %s\n", json, err);
	assert_int_equal(r, 0);
	assert_non_null(msg);
	return msg;
}

/* Decodes json and checks that it encodes back as expected. */
static void assert_decodes(const ProtobufCMessageDescriptor *desc, const char *json, unsigned flags,
			   const char *expected)
{
	ProtobufCMessage *msg = decode_ok(desc, json, flags);

	assert_encodes(msg, expected);
	protobuf_c_message_free_unpacked(msg, NULL);
}

static void assert_decode_fails(const ProtobufCMessageDescriptor *desc, const char *json,
				unsigned flags, int expected, const char *message)
{
	ProtobufCMessage *msg = (ProtobufCMessage *)0x1;
	char err[256];
	int r = pbjson_decode(desc, json, strlen(json), flags, &msg, err, sizeof(err));

	if (r != expected || !streq(err, message))
		print_error("decoding %s: %d %s\n", json, r, err);
	assert_int_equal(r, expected);
	assert_string_equal(err, message);
	assert_ptr_equal(msg, (ProtobufCMessage *)0x1);
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(msg);
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(msg, buf), *len);
	return buf;
}

/* encode -> decode -> pack gives the bytes of the original, and encodes the same again. */
static void assert_roundtrip(const void *orig)
{
	const ProtobufCMessage *msg = orig;
	ProtobufCMessage *back;
	size_t n1, n2;
	uint8_t *p1, *p2;
	struct sbuf sb;

	sbuf_init(&sb);
	assert_int_equal(pbjson_encode(msg, &sb, 0), 0);
	back = decode_ok(msg->descriptor, sb.buf, 0);
	p1 = pack(msg, &n1);
	p2 = pack(back, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(p1, p2, n1);
	assert_encodes(back, sb.buf);
	free(p1);
	free(p2);
	protobuf_c_message_free_unpacked(back, NULL);
	sbuf_free(&sb);
}

/* ---------------------------------------------------------------------------------------
 * Messages used by several tests
 */

struct exec_event {
	Tetragon__GetEventsResponse resp;
	Tetragon__ProcessExec exec;
	Tetragon__Process proc, parent;
	Google__Protobuf__UInt32Value pid, uid, auid, tid, ppid, ptid;
	Google__Protobuf__Timestamp start, pstart, time;
};

/* The first process_exec of the seed walkthrough, without its pod. */
static void exec_event_init(struct exec_event *e)
{
	*e = (struct exec_event){
		.resp = TETRAGON__GET_EVENTS_RESPONSE__INIT,
		.exec = TETRAGON__PROCESS_EXEC__INIT,
		.proc = TETRAGON__PROCESS__INIT,
		.parent = TETRAGON__PROCESS__INIT,
		.pid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.uid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.auid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.tid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.ppid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.ptid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.start = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
		.pstart = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
		.time = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
	};
	e->pid.value = e->tid.value = 3008300;
	e->ppid.value = e->ptid.value = 2978344;
	e->uid.value = 51773;
	e->auid.value = 4294967295u;
	e->start.seconds = 1727750382;
	e->start.nanos = 761250745;
	e->pstart.seconds = 1727748921;
	e->pstart.nanos = 272075833;
	e->time.seconds = 1727750382;
	e->time.nanos = 761250372;

	e->proc.exec_id = "a2luZC13b3JrZXIyOjI3OTI5NDExNjY1NzMzMzozMDA4MzAw";
	e->proc.pid = &e->pid;
	e->proc.uid = &e->uid;
	e->proc.cwd = "/usr/irissys/mgr/user";
	e->proc.binary = "/usr/bin/pwd";
	e->proc.flags = "execve clone";
	e->proc.start_time = &e->start;
	e->proc.auid = &e->auid;
	e->proc.docker = "5f5df2f9ff01fc737c88f83254ca37c";
	e->proc.parent_exec_id = "a2luZC13b3JrZXIyOjI3NzgzMjYyNzQ1NzA1ODoyOTc4MzQ0";
	e->proc.tid = &e->tid;

	e->parent.exec_id = "a2luZC13b3JrZXIyOjI3NzgzMjYyNzQ1NzA1ODoyOTc4MzQ0";
	e->parent.pid = &e->ppid;
	e->parent.uid = &e->uid;
	e->parent.cwd = "/usr/irissys/bin";
	e->parent.binary = "/usr/irissys/bin/irisdb";
	e->parent.arguments = "-w /home/irisowner -s /usr/irissys/mgr";
	e->parent.flags = "execve";
	e->parent.start_time = &e->pstart;
	e->parent.auid = &e->auid;
	e->parent.docker = "5f5df2f9ff01fc737c88f83254ca37c";
	e->parent.parent_exec_id = "a2luZC13b3JrZXIyOjI3NzgzMjYyNjUzMzA5NzoyOTc4MzQ0";
	e->parent.tid = &e->ptid;

	e->exec.process = &e->proc;
	e->exec.parent = &e->parent;
	e->resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	e->resp.process_exec = &e->exec;
	e->resp.node_name = "kind-worker2";
	e->resp.time = &e->time;
}

struct exit_event {
	Tetragon__GetEventsResponse resp;
	Tetragon__ProcessExit exit;
	Tetragon__Process proc, anc[2], *ancestors[2];
	Google__Protobuf__UInt32Value pid, uid, auid, apid[2];
	Google__Protobuf__BoolValue init_tree;
	Google__Protobuf__Timestamp start, exit_time, time;
};

static void exit_event_init(struct exit_event *e)
{
	*e = (struct exit_event){
		.resp = TETRAGON__GET_EVENTS_RESPONSE__INIT,
		.exit = TETRAGON__PROCESS_EXIT__INIT,
		.proc = TETRAGON__PROCESS__INIT,
		.anc = { TETRAGON__PROCESS__INIT, TETRAGON__PROCESS__INIT },
		.pid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.uid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.auid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
		.apid = { GOOGLE__PROTOBUF__UINT32_VALUE__INIT,
			  GOOGLE__PROTOBUF__UINT32_VALUE__INIT },
		.init_tree = GOOGLE__PROTOBUF__BOOL_VALUE__INIT,
		.start = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
		.exit_time = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
		.time = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
	};
	e->pid.value = 3008300;
	e->auid.value = 4294967295u;
	e->apid[0].value = 1;
	e->apid[1].value = 2978344;
	e->start.seconds = 1727750382;
	e->start.nanos = 761250000;
	e->exit_time.seconds = 1727750383;
	e->exit_time.nanos = 500000000;
	e->time.seconds = 1727750383;

	/* uid 0 and in_init_tree false are set wrappers: printed although zero */
	e->proc.exec_id = "a2luZC13b3JrZXIyOjI3OTI5NDExNjY1NzMzMzozMDA4MzAw";
	e->proc.pid = &e->pid;
	e->proc.uid = &e->uid;
	e->proc.binary = "/usr/bin/pwd";
	e->proc.arguments = "-L \"dir\"\twith tab";
	e->proc.start_time = &e->start;
	e->proc.auid = &e->auid;
	e->proc.tid = &e->pid;
	e->proc.in_init_tree = &e->init_tree;
	e->anc[0].exec_id = "a";
	e->anc[0].pid = &e->apid[0];
	e->anc[0].binary = "/sbin/init";
	e->anc[1].exec_id = "b";
	e->anc[1].pid = &e->apid[1];
	e->ancestors[0] = &e->anc[0];
	e->ancestors[1] = &e->anc[1];

	e->exit.process = &e->proc;
	e->exit.signal = "SIGKILL";
	e->exit.status = 137;
	e->exit.time = &e->exit_time;
	e->exit.n_ancestors = 2;
	e->exit.ancestors = e->ancestors;
	e->resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT;
	e->resp.process_exit = &e->exit;
	e->resp.node_name = "kind-worker2";
	e->resp.time = &e->time;
}

/* ---------------------------------------------------------------------------------------
 * Encoder
 */

static void test_pbjson_encode_exec_golden(void **state)
{
	_cleanup_free_ char *expected = fixture("exec.json");
	struct exec_event e;

	exec_event_init(&e);
	assert_encodes(&e.resp, expected);
}

static void test_pbjson_encode_exit_golden(void **state)
{
	_cleanup_free_ char *expected = fixture("exit.json");
	struct exit_event e;

	exit_event_init(&e);
	assert_encodes(&e.resp, expected);
}

static void test_pbjson_encode_appends_without_newline(void **state)
{
	_cleanup_free_ char *expected = fixture("exec.json");
	struct exec_event e;
	struct sbuf sb;

	exec_event_init(&e);
	sbuf_init(&sb);
	sbuf_adds(&sb, "[");
	assert_int_equal(pbjson_encode(&e.resp.base, &sb, 0), 0);
	assert_int_equal(pbjson_encode(&e.resp.base, &sb, 0), 0);
	assert_int_equal(sb.len, 1 + 2 * strlen(expected));
	assert_memory_equal(sb.buf + 1, expected, strlen(expected));
	assert_string_equal(sb.buf + 1 + strlen(expected), expected);
	assert_int_equal(pbjson_encode(&e.resp.base, &sb, 1), -EINVAL);
	assert_int_equal(sb.len, 1 + 2 * strlen(expected));
	sbuf_free(&sb);
}

static void test_pbjson_encode_out_of_memory(void **state)
{
	Tetragon__KprobeArgument arg = TETRAGON__KPROBE_ARGUMENT__INIT;
	struct sbuf sb;

	/* Claims 2^61 bytes: the output buffer cannot grow to hold their base64. */
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG;
	arg.bytes_arg = (ProtobufCBinaryData){ 1ull << 61, (uint8_t *)"" };
	sbuf_init(&sb);
	sbuf_adds(&sb, "kept");
	assert_int_equal(pbjson_encode(&arg.base, &sb, 0), -ENOMEM);
	assert_string_equal(sb.buf, "kept");
	assert_int_equal(sb.len, 4);
	assert_false(sb.oom);
	sbuf_free(&sb);
}

static void test_pbjson_encode_defaults_omitted(void **state)
{
	Tetragon__GetEventsResponse resp = TETRAGON__GET_EVENTS_RESPONSE__INIT;
	Tetragon__ProcessExec exec = TETRAGON__PROCESS_EXEC__INIT;
	Tetragon__Process proc = TETRAGON__PROCESS__INIT;
	Tetragon__HealthStatus hs = TETRAGON__HEALTH_STATUS__INIT;
	Tetragon__Capabilities caps = TETRAGON__CAPABILITIES__INIT;

	assert_encodes(&resp, "{}");
	assert_encodes(&proc, "{}");
	assert_encodes(&hs, "{}");
	assert_encodes(&caps, "{}");
	/* Set messages print even when empty. */
	resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	resp.process_exec = &exec;
	assert_encodes(&resp, "{\"process_exec\":{}}");
	exec.process = &proc;
	assert_encodes(&resp, "{\"process_exec\":{\"process\":{}}}");
	/* A NULL string is the empty string. */
	proc.cwd = NULL;
	assert_encodes(&proc, "{}");
}

static void test_pbjson_encode_other_google_types_as_messages(void **state)
{
	/* Static, like every descriptor: pbjson caches facts about them by address. */
	static ProtobufCMessageDescriptor desc;
	Tetragon__GetVersionResponse ver = TETRAGON__GET_VERSION_RESPONSE__INIT;

	/* Only the well-known types with a JSON form of their own are special. */
	desc = tetragon__get_version_response__descriptor;
	desc.name = "google.protobuf.Version";
	ver.base.descriptor = &desc;
	ver.version = "1";
	assert_encodes(&ver, "{\"version\":\"1\"}");
}

static void test_pbjson_encode_all_scalar_types(void **state)
{
	_cleanup_free_ char *expected = fixture("all_types.json");
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Timestamp *tss[] = { &ts, NULL };
	int64_t s64[] = { 1, -1 };
	protobuf_c_boolean bools[] = { 1, 0 };
	char *strs[] = { "a", "" };
	ProtobufCBinaryData bytes[] = { { 0, NULL }, { 2, (uint8_t *)"hi" } };
	struct int_map_entry im[2], *ims[] = { &im[0], &im[1] };
	struct bool_map_entry bm[2], *bms[] = { &bm[0], &bm[1] };
	struct u32_map_entry um, *ums[] = { &um };
	struct int_map_entry pair, *pairs[] = { &pair };
	Tetragon__Pod__PodLabelsEntry label = TETRAGON__POD__POD_LABELS_ENTRY__INIT;
	Tetragon__Pod__PodLabelsEntry *labels[] = { &label };
	struct i32_map_entry i32m[2], *i32ms[] = { &i32m[0], &i32m[1] };
	struct u64_map_entry u64m[2], *u64ms[] = { &u64m[0], &u64m[1] };
	struct all_types m;

	all_types_init(&m.base);
	int_map_entry_init(&pair.base);
	i32_map_entry_init(&i32m[0].base);
	i32_map_entry_init(&i32m[1].base);
	u64_map_entry_init(&u64m[0].base);
	u64_map_entry_init(&u64m[1].base);
	int_map_entry_init(&im[0].base);
	int_map_entry_init(&im[1].base);
	bool_map_entry_init(&bm[0].base);
	bool_map_entry_init(&bm[1].base);
	u32_map_entry_init(&um.base);
	ts.seconds = 1727750382;
	ts.nanos = 761250372;
	m.f_int32 = INT32_MIN;
	m.f_int64 = INT64_MIN;
	m.f_uint32 = UINT32_MAX;
	m.f_uint64 = UINT64_MAX;
	m.f_sint32 = -1;
	m.f_sint64 = -9000000000;
	m.f_fixed32 = 7;
	m.f_fixed64 = 8;
	m.f_sfixed32 = -9;
	m.f_sfixed64 = -10;
	m.f_float = 1.5f;
	m.f_double = -0.25;
	m.f_bool = 1;
	m.f_string = "x";
	m.f_bytes = (ProtobufCBinaryData){ 3, (uint8_t *)"\x00\xff\x10" };
	m.f_enum = TETRAGON__HEALTH_STATUS_RESULT__HEALTH_STATUS_RUNNING;
	m.n_r_sint64 = 2;
	m.r_sint64 = s64;
	m.n_r_bool = 2;
	m.r_bool = bools;
	m.n_r_string = 2;
	m.r_string = strs;
	m.n_r_bytes = 2;
	m.r_bytes = bytes;
	/* A NULL element prints as the empty message, here the epoch. */
	m.n_r_timestamp = 2;
	m.r_timestamp = tss;
	/* Keys sort by value, not as text. */
	im[0].key = 5;
	im[0].value = "five";
	im[1].key = -3;
	im[1].value = "minus three";
	m.n_int_map = 2;
	m.int_map = ims;
	bm[0].key = 1;
	bm[0].value = TETRAGON__HEALTH_STATUS_RESULT__HEALTH_STATUS_RUNNING;
	bm[1].key = 0;
	bm[1].value = TETRAGON__HEALTH_STATUS_RESULT__HEALTH_STATUS_STOPPED;
	m.n_bool_map = 2;
	m.bool_map = bms;
	um.key = 7;
	m.n_u32_map = 1;
	m.u32_map = ums;
	/* proto2 presence: has_ set to a zero value, a set string, a required field */
	m.has_opt_int32 = 1;
	m.opt_string = "o";
	m.req_int32 = 3;
	/* a oneof member set to zero */
	m.choice_case = CHOICE_U64;
	/* repeated entry-shaped messages that are not maps print as arrays */
	pair.key = 1;
	pair.value = "one";
	m.n_pairs = 1;
	m.pairs = pairs;
	label.key = "k";
	label.value = "v";
	m.n_pod_labels = 1;
	m.pod_labels = labels;
	i32m[0].key = 2;
	i32m[1].key = -1;
	i32m[1].value = (ProtobufCBinaryData){ 2, (uint8_t *)"hi" };
	m.n_i32_map = 2;
	m.i32_map = i32ms;
	u64m[0].key = UINT64_MAX;
	u64m[0].value = 0.5;
	u64m[1].key = 3;
	u64m[1].value = -1;
	m.n_u64_map = 2;
	m.u64_map = u64ms;
	assert_encodes(&m, expected);

	/* A oneof member set to a NULL message is left out, as protobuf-c packs it. */
	all_types_init(&m.base);
	m.choice_case = CHOICE_TS;
	assert_encodes(&m, "{\"req_int32\":0}");
}

static void test_pbjson_encode_tetragon_scalars(void **state)
{
	Tetragon__TracingPolicyStatus tp = TETRAGON__TRACING_POLICY_STATUS__INIT;
	Tetragon__HealthStatus hs = TETRAGON__HEALTH_STATUS__INIT;
	Tetragon__Test t = TETRAGON__TEST__INIT;
	Tetragon__KprobeArgument arg = TETRAGON__KPROBE_ARGUMENT__INIT;
	char *sensors[] = { "gkp-sensor-1", "exec" };

	tp.id = 7;
	tp.name = "file-monitoring";
	tp.n_sensors = 2;
	tp.sensors = sensors;
	tp.enabled = 1;
	tp.filter_id = 18446744073709551615ull;
	tp.state = TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED;
	tp.kernel_memory_bytes = 4096;
	tp.mode = TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR;
	assert_encodes(&tp, "{\"id\":\"7\",\"name\":\"file-monitoring\","
			    "\"sensors\":[\"gkp-sensor-1\",\"exec\"],\"enabled\":true,"
			    "\"filter_id\":\"18446744073709551615\",\"state\":\"TP_STATE_ENABLED\","
			    "\"kernel_memory_bytes\":\"4096\",\"mode\":\"TP_MODE_MONITOR\"}");

	hs.event = TETRAGON__HEALTH_STATUS_TYPE__HEALTH_STATUS_TYPE_STATUS;
	hs.status = TETRAGON__HEALTH_STATUS_RESULT__HEALTH_STATUS_ERROR;
	hs.details = "bpf";
	assert_encodes(&hs, "{\"event\":\"HEALTH_STATUS_TYPE_STATUS\","
			    "\"status\":\"HEALTH_STATUS_ERROR\",\"details\":\"bpf\"}");
	/* Values the enum does not name print as numbers. */
	hs.status = 42;
	hs.event = -1;
	assert_encodes(&hs, "{\"event\":-1,\"status\":42,\"details\":\"bpf\"}");

	t.arg0 = 1;
	t.arg3 = 9007199254740993ull;
	assert_encodes(&t, "{\"arg0\":\"1\",\"arg3\":\"9007199254740993\"}");

	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_INT_ARG;
	arg.int_arg = -2147483647 - 1;
	arg.label = "fd";
	assert_encodes(&arg, "{\"int_arg\":-2147483648,\"label\":\"fd\"}");
	arg.label = "";
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_LONG_ARG;
	arg.long_arg = INT64_MIN;
	assert_encodes(&arg, "{\"long_arg\":\"-9223372036854775808\"}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_UINT_ARG;
	arg.uint_arg = UINT32_MAX;
	assert_encodes(&arg, "{\"uint_arg\":4294967295}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
	arg.size_arg = 4096;
	assert_encodes(&arg, "{\"size_arg\":\"4096\"}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG;
	arg.bytes_arg = (ProtobufCBinaryData){ 5, (uint8_t *)"\x01\x02\x03\xfe\xff" };
	assert_encodes(&arg, "{\"bytes_arg\":\"AQID/v8=\"}");
	arg.bytes_arg.len = 4;
	assert_encodes(&arg, "{\"bytes_arg\":\"AQID/g==\"}");
}

static void test_pbjson_encode_zero_oneof_members(void **state)
{
	Tetragon__KprobeArgument arg = TETRAGON__KPROBE_ARGUMENT__INIT;
	Tetragon__KprobeSkb skb = TETRAGON__KPROBE_SKB__INIT;
	Tetragon__ConfigureTracingPolicyRequest req =
		TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST__INIT;
	Tetragon__GetDebugResponse dbg = TETRAGON__GET_DEBUG_RESPONSE__INIT;

	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_INT_ARG;
	assert_encodes(&arg, "{\"int_arg\":0}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
	arg.size_arg = 0;
	assert_encodes(&arg, "{\"size_arg\":\"0\"}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG;
	arg.bytes_arg = (ProtobufCBinaryData){ 0, NULL };
	assert_encodes(&arg, "{\"bytes_arg\":\"\"}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG;
	arg.string_arg = "";
	assert_encodes(&arg, "{\"string_arg\":\"\"}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BPF_CMD_ARG;
	arg.bpf_cmd_arg = TETRAGON__BPF_CMD__BPF_MAP_CREATE;
	assert_encodes(&arg, "{\"bpf_cmd_arg\":\"BPF_MAP_CREATE\"}");
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SKB_ARG;
	arg.skb_arg = &skb;
	assert_encodes(&arg, "{\"skb_arg\":{}}");
	/* protobuf-c packs no NULL pointer for a set oneof member, nor do we. */
	arg.skb_arg = NULL;
	assert_encodes(&arg, "{}");

	/* proto3 optional, spelled as one-field oneofs */
	assert_encodes(&req, "{}");
	req._enable_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___ENABLE_ENABLE;
	req._mode_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE;
	assert_encodes(&req, "{\"enable\":false,\"mode\":\"TP_MODE_UNKNOWN\"}");

	dbg.arg_case = TETRAGON__GET_DEBUG_RESPONSE__ARG_LEVEL;
	assert_encodes(&dbg, "{\"level\":\"LOG_LEVEL_PANIC\"}");
}

static void test_pbjson_encode_escaping(void **state)
{
	Tetragon__KprobeArgument arg = TETRAGON__KPROBE_ARGUMENT__INIT;

	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG;
	arg.string_arg = "q\"b\\s/ n\n t\t r\r b\b f\f x\x01\x1f del\x7f <&> é€😀";
	assert_encodes(&arg, "{\"string_arg\":\"q\\\"b\\\\s/ n\\n t\\t r\\r b\\b f\\f "
			     "x\\u0001\\u001f del\x7f <&> é€😀\"}");
	assert_roundtrip(&arg);

	/* Invalid UTF-8: every byte that is not part of a valid sequence becomes U+FFFD. */
	arg.string_arg = "lone\x80|cut\xe2\x82X|overlong\xc0\xaf|surrogate\xed\xa0\x80|"
			 "f5\xf5|big\xf4\x90\x80\x80|end\xe2\x82";
	assert_encodes(&arg, "{\"string_arg\":\"lone" REPL "|cut" REPL REPL "X|overlong" REPL REPL
			     "|surrogate" REPL REPL REPL "|f5" REPL "|big" REPL REPL REPL REPL
			     "|end" REPL REPL "\"}");
	/* Longest valid sequences at the range edges are kept. */
	arg.string_arg = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf\xf0\x90\x80\x80"
			 "\xf4\x8f\xbf\xbf";
	assert_encodes(&arg, "{\"string_arg\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xef"
			     "\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}");
}

static void test_pbjson_encode_floats(void **state)
{
	static const struct {
		double v;
		const char *json;
	} doubles[] = {
		{ 0.1, "0.1" },
		{ -2.5, "-2.5" },
		{ 123456789.125, "123456789.125" },
		{ 1e20, "100000000000000000000" },
		{ 1e21, "1e+21" },
		{ 1.5e300, "1.5e+300" },
		{ 1e-6, "0.000001" },
		{ 1e-7, "1e-7" },
		{ 1.5e-7, "1.5e-7" },
		{ 1.25e-10, "1.25e-10" },
		{ 5e-324, "5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 0.30000000000000004, "0.30000000000000004" },
	};
	static const struct {
		float v;
		const char *json;
	} floats[] = {
		{ 0.1f, "0.1" },
		{ 16777216.0f, "16777216" },
		{ 3.4028235e38f, "3.4028235e+38" },
		{ 1e-7f, "1e-7" },
		{ 1.17549435e-38f, "1.1754944e-38" },
		{ 1.4e-45f, "1e-45" },
	};
	Google__Protobuf__DoubleValue d = GOOGLE__PROTOBUF__DOUBLE_VALUE__INIT;
	Google__Protobuf__FloatValue f = GOOGLE__PROTOBUF__FLOAT_VALUE__INIT;
	struct all_types m;

	for (size_t i = 0; i < ARRAY_SIZE(doubles); i++) {
		d.value = doubles[i].v;
		assert_encodes(&d, doubles[i].json);
		assert_roundtrip(&d);
	}
	for (size_t i = 0; i < ARRAY_SIZE(floats); i++) {
		f.value = floats[i].v;
		assert_encodes(&f, floats[i].json);
		assert_roundtrip(&f);
	}
	d.value = NAN;
	assert_encodes(&d, "\"NaN\"");
	d.value = INFINITY;
	assert_encodes(&d, "\"Infinity\"");
	f.value = -INFINITY;
	assert_encodes(&f, "\"-Infinity\"");

	/*
	 * -0.0 is not the default: protojson prints it. jansson reads a bare -0 as the integer
	 * 0, so only the quoted form keeps the sign when read back.
	 */
	d.value = -0.0;
	assert_encodes(&d, "-0");
	all_types_init(&m.base);
	m.f_double = -0.0;
	m.f_float = 0.0f;
	assert_encodes(&m, "{\"f_double\":-0,\"req_int32\":0}");
	assert_decodes(&all_types_desc, "{\"f_double\":-0,\"f_float\":\"-0\"}", 0,
		       "{\"f_float\":-0,\"req_int32\":0}");
}

static void test_pbjson_encode_map(void **state)
{
	Tetragon__Pod pod = TETRAGON__POD__INIT;
	Tetragon__Pod__PodLabelsEntry e[4], *labels[4];
	Tetragon__ProcessInternal pi = TETRAGON__PROCESS_INTERNAL__INIT;
	Tetragon__ProcessInternal__RefcntOpsEntry op =
		TETRAGON__PROCESS_INTERNAL__REFCNT_OPS_ENTRY__INIT;
	Tetragon__ProcessInternal__RefcntOpsEntry *ops[] = { &op };
	static const char *kv[][2] = {
		{ "b", "1" }, { "a\"", "x" }, { "b", "2" }, { "app", "iris" }
	};

	for (int i = 0; i < 4; i++) {
		tetragon__pod__pod_labels_entry__init(&e[i]);
		e[i].key = (char *)kv[i][0];
		e[i].value = (char *)kv[i][1];
		labels[i] = &e[i];
	}
	pod.name = "iris-priv";
	pod.n_pod_labels = 4;
	pod.pod_labels = labels;
	/* Sorted bytewise; of equal keys the last one wins, as on the wire. */
	assert_encodes(&pod, "{\"name\":\"iris-priv\",\"pod_labels\":"
			     "{\"a\\\"\":\"x\",\"app\":\"iris\",\"b\":\"2\"}}");
	labels[2] = NULL;
	assert_encode_fails(&pod, -EINVAL);

	op.key = "exec";
	pi.n_refcnt_ops = 1;
	pi.refcnt_ops = ops;
	assert_encodes(&pi, "{\"refcnt_ops\":{\"exec\":0}}");
}

static void test_pbjson_encode_large_map(void **state)
{
	Tetragon__Pod pod = TETRAGON__POD__INIT;
	Tetragon__Pod__PodLabelsEntry e[40], *labels[40];
	char keys[40][8];
	struct sbuf expected;

	sbuf_init(&expected);
	sbuf_adds(&expected, "{\"pod_labels\":{");
	for (int i = 0; i < 40; i++) {
		tetragon__pod__pod_labels_entry__init(&e[39 - i]);
		snprintf(keys[i], sizeof(keys[i]), "k%02d", i);
		e[39 - i].key = keys[i];
		e[39 - i].value = "v";
		labels[39 - i] = &e[39 - i];
		sbuf_printf(&expected, "%s\"k%02d\":\"v\"", i ? "," : "", i);
	}
	sbuf_adds(&expected, "}}");
	pod.n_pod_labels = 40;
	pod.pod_labels = labels;
	assert_encodes(&pod, expected.buf);
	sbuf_free(&expected);
}

static void test_pbjson_encode_repeated_enums(void **state)
{
	Tetragon__Capabilities caps = TETRAGON__CAPABILITIES__INIT;
	Tetragon__CapabilitiesType permitted[] = { TETRAGON__CAPABILITIES_TYPE__CAP_CHOWN,
						   TETRAGON__CAPABILITIES_TYPE__CAP_NET_RAW,
						   TETRAGON__CAPABILITIES_TYPE__CAP_SYS_ADMIN, 99 };

	caps.n_permitted = ARRAY_SIZE(permitted);
	caps.permitted = permitted;
	caps.n_effective = 1;
	caps.effective = permitted;
	assert_encodes(&caps, "{\"permitted\":[\"CAP_CHOWN\",\"CAP_NET_RAW\",\"CAP_SYS_ADMIN\",99],"
			      "\"effective\":[\"CAP_CHOWN\"]}");
	assert_roundtrip(&caps);
}

static void test_pbjson_encode_field_mask(void **state)
{
	Tetragon__FieldFilter ff = TETRAGON__FIELD_FILTER__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	Tetragon__EventType events[] = { TETRAGON__EVENT_TYPE__PROCESS_EXEC };
	char *paths[] = { "process_exec.process.pid", "node_name", "_x.a1" };
	static const char *const bad[] = { "foo_1", "fooBar", "a__b", "a_",  "a..b",
					   ".a",    "a.",     "1a",   "a-b", "" };

	ff.n_event_set = 1;
	ff.event_set = events;
	ff.fields = &mask;
	ff.action = TETRAGON__FIELD_FILTER_ACTION__EXCLUDE;
	assert_encodes(&ff, "{\"event_set\":[\"PROCESS_EXEC\"],\"fields\":\"\","
			    "\"action\":\"EXCLUDE\"}");
	mask.n_paths = ARRAY_SIZE(paths);
	mask.paths = paths;
	assert_encodes(&ff, "{\"event_set\":[\"PROCESS_EXEC\"],"
			    "\"fields\":\"processExec.process.pid,nodeName,X.a1\","
			    "\"action\":\"EXCLUDE\"}");
	assert_roundtrip(&ff);
	/* Paths that would not come back unchanged from lowerCamelCase are refused. */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		paths[1] = (char *)bad[i];
		assert_encode_fails(&ff, -EINVAL);
	}
}

static void test_pbjson_encode_timestamps(void **state)
{
	static const struct {
		int64_t seconds;
		int32_t nanos;
		const char *json;
	} ok[] = {
		{ 0, 0, "\"1970-01-01T00:00:00Z\"" },
		{ 1727750382, 761250372, "\"2024-10-01T02:39:42.761250372Z\"" },
		{ 1727750382, 761250000, "\"2024-10-01T02:39:42.761250Z\"" },
		{ 1727750382, 761000000, "\"2024-10-01T02:39:42.761Z\"" },
		{ 1727750382, 1, "\"2024-10-01T02:39:42.000000001Z\"" },
		{ 951782400, 1000, "\"2000-02-29T00:00:00.000001Z\"" },
		{ -1, 500000000, "\"1969-12-31T23:59:59.500Z\"" },
		{ -62135596800, 0, "\"0001-01-01T00:00:00Z\"" },
		{ 253402300799, 999999999, "\"9999-12-31T23:59:59.999999999Z\"" },
		{ 4107542400, 0, "\"2100-03-01T00:00:00Z\"" },
	};
	static const struct {
		int64_t seconds;
		int32_t nanos;
	} bad[] = { { -62135596801, 0 }, { 253402300800, 0 }, { 0, -1 }, { 0, 1000000000 } };
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		ts.seconds = ok[i].seconds;
		ts.nanos = ok[i].nanos;
		assert_encodes(&ts, ok[i].json);
		assert_roundtrip(&ts);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ts.seconds = bad[i].seconds;
		ts.nanos = bad[i].nanos;
		assert_encode_fails(&ts, -EINVAL);
	}
}

static void test_pbjson_encode_durations(void **state)
{
	static const struct {
		int64_t seconds;
		int32_t nanos;
		const char *json;
	} ok[] = {
		{ 0, 0, "\"0s\"" },
		{ 1, 500000000, "\"1.500s\"" },
		{ 60, 0, "\"60s\"" },
		{ -1, -500, "\"-1.000000500s\"" },
		{ 0, -1, "\"-0.000000001s\"" },
		{ 0, 250000, "\"0.000250s\"" },
		{ 315576000000, 999999999, "\"315576000000.999999999s\"" },
		{ -315576000000, 0, "\"-315576000000s\"" },
	};
	static const struct {
		int64_t seconds;
		int32_t nanos;
	} bad[] = { { 1, -1 }, { -1, 1 }, { 315576000001, 0 }, { 0, 1000000000 } };
	Tetragon__AggregationOptions ao = TETRAGON__AGGREGATION_OPTIONS__INIT;
	Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		d.seconds = ok[i].seconds;
		d.nanos = ok[i].nanos;
		assert_encodes(&d, ok[i].json);
		assert_roundtrip(&d);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		d.seconds = bad[i].seconds;
		d.nanos = bad[i].nanos;
		assert_encode_fails(&d, -EINVAL);
	}
	d.seconds = 1;
	d.nanos = 500000000;
	ao.window_size = &d;
	ao.channel_buffer_size = 100;
	assert_encodes(&ao, "{\"window_size\":\"1.500s\",\"channel_buffer_size\":\"100\"}");
}

static void test_pbjson_encode_wrappers(void **state)
{
	Google__Protobuf__DoubleValue dv = GOOGLE__PROTOBUF__DOUBLE_VALUE__INIT;
	Google__Protobuf__FloatValue fv = GOOGLE__PROTOBUF__FLOAT_VALUE__INIT;
	Google__Protobuf__Int64Value i64 = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
	Google__Protobuf__UInt64Value u64 = GOOGLE__PROTOBUF__UINT64_VALUE__INIT;
	Google__Protobuf__Int32Value i32 = GOOGLE__PROTOBUF__INT32_VALUE__INIT;
	Google__Protobuf__UInt32Value u32 = GOOGLE__PROTOBUF__UINT32_VALUE__INIT;
	Google__Protobuf__BoolValue b = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
	Google__Protobuf__StringValue s = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	Google__Protobuf__BytesValue by = GOOGLE__PROTOBUF__BYTES_VALUE__INIT;
	Tetragon__UserNamespace ns = TETRAGON__USER_NAMESPACE__INIT;

	/* Zero values print: a set wrapper is never the default. */
	assert_encodes(&dv, "0");
	assert_encodes(&fv, "0");
	assert_encodes(&i64, "\"0\"");
	assert_encodes(&u64, "\"0\"");
	assert_encodes(&i32, "0");
	assert_encodes(&u32, "0");
	assert_encodes(&b, "false");
	assert_encodes(&s, "\"\"");
	assert_encodes(&by, "\"\"");
	dv.value = 1.5;
	fv.value = -0.5f;
	i64.value = -5;
	u64.value = UINT64_MAX;
	i32.value = -7;
	u32.value = 7;
	b.value = 1;
	s.value = "s\n";
	by.value = (ProtobufCBinaryData){ 2, (uint8_t *)"hi" };
	assert_encodes(&dv, "1.5");
	assert_encodes(&fv, "-0.5");
	assert_encodes(&i64, "\"-5\"");
	assert_encodes(&u64, "\"18446744073709551615\"");
	assert_encodes(&i32, "-7");
	assert_encodes(&u32, "7");
	assert_encodes(&b, "true");
	assert_encodes(&s, "\"s\\n\"");
	assert_encodes(&by, "\"aGk=\"");
	assert_roundtrip(&dv);
	assert_roundtrip(&fv);
	assert_roundtrip(&i64);
	assert_roundtrip(&u64);
	assert_roundtrip(&i32);
	assert_roundtrip(&u32);
	assert_roundtrip(&b);
	assert_roundtrip(&s);
	assert_roundtrip(&by);

	i32.value = 0;
	u32.value = 0;
	ns.level = &i32;
	ns.uid = &u32;
	assert_encodes(&ns, "{\"level\":0,\"uid\":0}");
}

static void test_pbjson_encode_any(void **state)
{
	Tetragon__GetInfoResponse info = TETRAGON__GET_INFO_RESPONSE__INIT;
	Tetragon__GetInfoResponse__ConfVal cv[3], *conf[3];
	Google__Protobuf__Any any[3];
	Tetragon__GetVersionResponse ver = TETRAGON__GET_VERSION_RESPONSE__INIT;
	Google__Protobuf__UInt32Value u32 = GOOGLE__PROTOBUF__UINT32_VALUE__INIT;
	Tetragon__GetHealthStatusRequest unregistered = TETRAGON__GET_HEALTH_STATUS_REQUEST__INIT;
	uint8_t buf[3][64];

	ver.version = "1.2";
	u32.value = 5;
	for (int i = 0; i < 3; i++) {
		tetragon__get_info_response__conf_val__init(&cv[i]);
		google__protobuf__any__init(&any[i]);
		cv[i].value = &any[i];
		conf[i] = &cv[i];
	}
	cv[0].key = "a";
	any[0].type_url = "type.googleapis.com/tetragon.GetVersionResponse";
	any[0].value = (ProtobufCBinaryData){ protobuf_c_message_pack(&ver.base, buf[0]), buf[0] };
	cv[1].key = "b";
	any[1].type_url = "type.googleapis.com/google.protobuf.UInt32Value";
	any[1].value = (ProtobufCBinaryData){ protobuf_c_message_pack(&u32.base, buf[1]), buf[1] };
	cv[2].key = "c";
	info.n_conf = 3;
	info.conf = conf;
	assert_encodes(&info,
		       "{\"conf\":[{\"key\":\"a\",\"value\":{\"@type\":\"type.googleapis.com/"
		       "tetragon.GetVersionResponse\",\"version\":\"1.2\"}},{\"key\":\"b\","
		       "\"value\":{\"@type\":\"type.googleapis.com/google.protobuf.UInt32Value\","
		       "\"value\":5}},{\"key\":\"c\",\"value\":{}}]}");
	assert_roundtrip(&info);

	/* A type name without a URL prefix resolves too. */
	any[0].type_url = "tetragon.GetVersionResponse";
	assert_encodes(&any[0], "{\"@type\":\"tetragon.GetVersionResponse\",\"version\":\"1.2\"}");

	/* Unregistered type, value without a type, bytes that do not parse. */
	any[2].type_url = "type.googleapis.com/tetragon.GetHealthStatusRequest";
	any[2].value = (ProtobufCBinaryData){ protobuf_c_message_pack(&unregistered.base, buf[2]),
					      buf[2] };
	assert_encode_fails(&info, -EINVAL);
	any[2].type_url = "";
	any[2].value = (ProtobufCBinaryData){ 1, (uint8_t *)"\x08" };
	assert_encode_fails(&any[2], -EINVAL);
	any[2].type_url = "type.googleapis.com/tetragon.GetVersionResponse";
	any[2].value = (ProtobufCBinaryData){ 2, (uint8_t *)"\x0a\x05" };
	assert_encode_fails(&any[2], -EINVAL);
}

static void test_pbjson_register_descriptors(void **state)
{
	static ProtobufCMessageDescriptor fakes[300];
	static const ProtobufCMessageDescriptor *ptrs[300];
	static char names[300][32];
	const ProtobufCMessageDescriptor *again = &tetragon__get_version_response__descriptor;

	assert_int_equal(pbjson_register_descriptors(&again, 1), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "fake.T%d", i);
		fakes[i] = tetragon__get_version_response__descriptor;
		fakes[i].name = names[i];
		ptrs[i] = &fakes[i];
	}
	assert_int_equal(pbjson_register_descriptors(ptrs, 300), -ENOSPC);
	/* What was registered before still resolves. */
	test_pbjson_encode_any(state);
}

/* ---------------------------------------------------------------------------------------
 * Decoder
 */

static void test_pbjson_decode_tetragon_line(void **state)
{
	_cleanup_free_ char *line = fixture("tetragon_exec_pod.json");
	Tetragon__GetEventsResponse *resp;

	/* A line as Tetragon writes it comes back byte for byte. */
	resp = (Tetragon__GetEventsResponse *)decode_ok(&tetragon__get_events_response__descriptor,
							line, 0);
	assert_int_equal(resp->event_case, TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC);
	assert_int_equal(resp->process_exec->process->pid->value, 3008300);
	assert_int_equal(resp->process_exec->process->pod->n_pod_labels, 1);
	assert_string_equal(resp->process_exec->process->pod->pod_labels[0]->key, "app");
	assert_int_equal(resp->time->seconds, 1727750382);
	assert_int_equal(resp->time->nanos, 761250372);
	assert_encodes(resp, line);
	assert_roundtrip(resp);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
}

static void test_pbjson_decode_golden_lines(void **state)
{
	static const char *const names[] = { "exec.json", "exit.json" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *line = fixture(names[i]);

		assert_decodes(&tetragon__get_events_response__descriptor, line, 0, line);
	}
}

static void test_pbjson_decode_sets_presence(void **state)
{
	Tetragon__ConfigureTracingPolicyRequest *req;
	Tetragon__FieldFilter *ff;
	struct all_types *m;

	req = (Tetragon__ConfigureTracingPolicyRequest *)decode_ok(
		&tetragon__configure_tracing_policy_request__descriptor,
		"{\"enable\":false,\"mode\":0,\"name\":\"\"}", 0);
	assert_int_equal(req->_enable_case,
			 TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___ENABLE_ENABLE);
	assert_int_equal(req->_mode_case, TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE);
	assert_string_equal(req->name, "");
	protobuf_c_message_free_unpacked(&req->base, NULL);

	ff = (Tetragon__FieldFilter *)decode_ok(&tetragon__field_filter__descriptor,
						"{\"fields\":\"processExec.process.pid,X\"}", 0);
	assert_int_equal(ff->fields->n_paths, 2);
	assert_string_equal(ff->fields->paths[0], "process_exec.process.pid");
	assert_string_equal(ff->fields->paths[1], "_x");
	protobuf_c_message_free_unpacked(&ff->base, NULL);

	m = (struct all_types *)decode_ok(
		&all_types_desc,
		"{\"opt_int32\":0,\"opt_string\":\"\",\"choice_str\":\"\","
		"\"r_bool\":[false],\"f_bytes\":\"\"}",
		0);
	assert_true(m->has_opt_int32);
	assert_non_null(m->opt_string);
	assert_int_equal(m->choice_case, CHOICE_STR);
	assert_string_equal(m->choice_str, "");
	assert_int_equal(m->n_r_bool, 1);
	assert_int_equal(m->f_bytes.len, 0);
	assert_encodes(m, "{\"r_bool\":[false],\"opt_int32\":0,\"opt_string\":\"\","
			  "\"req_int32\":0,\"choice_str\":\"\"}");
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_pbjson_decode_accepts(void **state)
{
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		const char *json, *expected;
	} cases[] = {
		/* lowerCamelCase names, numbers as strings, timestamps with offsets */
		{ &tetragon__get_events_response__descriptor,
		  "{\"processExec\":{\"process\":{\"execId\":\"x\",\"pid\":\"42\",\"startTime\":"
		  "\"2024-10-01T04:39:42.5+02:00\",\"parentExecId\":\"p\"}},\"nodeName\":\"n\"}",
		  "{\"process_exec\":{\"process\":{\"exec_id\":\"x\",\"pid\":42,\"start_time\":"
		  "\"2024-10-01T02:39:42.500Z\",\"parent_exec_id\":\"p\"}},\"node_name\":\"n\"}" },
		/* null is the default, for any field */
		{ &tetragon__get_events_response__descriptor,
		  "{\"process_exec\":null,\"node_name\":null,\"time\":null,\"node_labels\":null}",
		  "{}" },
		/* a null oneof member does not count as set */
		{ &tetragon__get_events_response__descriptor,
		  "{\"process_exec\":null,\"process_exit\":{}}", "{\"process_exit\":{}}" },
		{ &tetragon__get_events_response__descriptor, " {\"test\":{}} \n",
		  "{\"test\":{}}" },
		/* enums by name or number, unknown numbers kept */
		{ &tetragon__health_status__descriptor,
		  "{\"event\":1,\"status\":\"HEALTH_STATUS_ERROR\"}",
		  "{\"event\":\"HEALTH_STATUS_TYPE_STATUS\",\"status\":\"HEALTH_STATUS_ERROR\"}" },
		{ &tetragon__health_status__descriptor, "{\"status\":7,\"event\":-3.0}",
		  "{\"event\":-3,\"status\":7}" },
		/* 64-bit integers as numbers or strings, in every JSON number form */
		{ &tetragon__test__descriptor,
		  "{\"arg0\":1e2,\"arg1\":\"18446744073709551615\",\"arg2\":2.0,\"arg3\":\"1.5e1\"}",
		  "{\"arg0\":\"100\",\"arg1\":\"18446744073709551615\",\"arg2\":\"2\","
		  "\"arg3\":\"15\"}" },
		{ &tetragon__test__descriptor,
		  "{\"arg0\":\"0.00\",\"arg1\":\"-0\",\"arg2\":9223372036854775807,"
		  "\"arg3\":\"100000000000000000000e-1\"}",
		  "{\"arg2\":\"9223372036854775807\",\"arg3\":\"10000000000000000000\"}" },
		{ &tetragon__kprobe_argument__descriptor, "{\"intArg\":\"-5\"}",
		  "{\"int_arg\":-5}" },
		{ &tetragon__kprobe_argument__descriptor, "{\"long_arg\":\"-9223372036854775808\"}",
		  "{\"long_arg\":\"-9223372036854775808\"}" },
		{ &tetragon__kprobe_argument__descriptor, "{\"long_arg\":-9223372036854775808}",
		  "{\"long_arg\":\"-9223372036854775808\"}" },
		{ &tetragon__kprobe_argument__descriptor, "{\"uint_arg\":\"4294967295\"}",
		  "{\"uint_arg\":4294967295}" },
		/* bytes: standard or URL-safe base64, padded or not */
		{ &tetragon__kprobe_argument__descriptor, "{\"bytes_arg\":\"_-8\"}",
		  "{\"bytes_arg\":\"/+8=\"}" },
		{ &tetragon__kprobe_argument__descriptor, "{\"bytes_arg\":\"aGk\"}",
		  "{\"bytes_arg\":\"aGk=\"}" },
		{ &tetragon__kprobe_argument__descriptor, "{\"bytes_arg\":\"\"}",
		  "{\"bytes_arg\":\"\"}" },
		/* repeated scalars */
		{ &tetragon__filter__descriptor,
		  "{\"pid\":[1,\"2\",3.0],\"eventSet\":[\"PROCESS_EXIT\",1],\"healthCheck\":false}",
		  "{\"health_check\":false,\"pid\":[1,2,3],\"event_set\":[\"PROCESS_EXIT\","
		  "\"PROCESS_EXEC\"]}" },
		{ &tetragon__filter__descriptor, "{\"pid\":[],\"binary_regex\":[]}", "{}" },
		/* maps */
		{ &tetragon__pod__descriptor, "{\"podLabels\":{\"b\":\"2\",\"a\":\"1\",\"\":\"\"}}",
		  "{\"pod_labels\":{\"\":\"\",\"a\":\"1\",\"b\":\"2\"}}" },
		{ &tetragon__pod__descriptor, "{\"pod_labels\":{}}", "{}" },
		{ &all_types_desc,
		  "{\"i32Map\":{\"-2147483648\":\"_w\",\"0\":\"\"},\"u64_map\":{"
		  "\"18446744073709551615\":1,\"0\":2},\"pairs\":[{\"key\":\"-1\"}],"
		  "\"podLabels\":[{\"value\":\"v\"}]}",
		  "{\"req_int32\":0,\"pairs\":[{\"key\":\"-1\"}],\"pod_labels\":[{\"value\":"
		  "\"v\"}],\"i32_map\":{\"-2147483648\":\"/w==\",\"0\":\"\"},\"u64_map\":{"
		  "\"0\":2,\"18446744073709551615\":1}}" },
		{ &tetragon__process_internal__descriptor, "{\"refcnt_ops\":{\"x\":\"5\"}}",
		  "{\"refcnt_ops\":{\"x\":5}}" },
		{ &all_types_desc,
		  "{\"int_map\":{\"10\":\"t\",\"-3\":\"m\"},\"boolMap\":{\"true\":1,\"false\":0},"
		  "\"u32_map\":{\"4294967295\":\"1970-01-01T00:00:01Z\",\"0\":\"1970-01-01T00:00:00Z\"},"
		  "\"reqInt32\":5}",
		  "{\"int_map\":{\"-3\":\"m\",\"10\":\"t\"},\"bool_map\":{\"false\":"
		  "\"HEALTH_STATUS_UNDEF\",\"true\":\"HEALTH_STATUS_RUNNING\"},\"u32_map\":{\"0\":"
		  "\"1970-01-01T00:00:00Z\",\"4294967295\":\"1970-01-01T00:00:01Z\"},"
		  "\"req_int32\":5}" },
		/* floats from numbers and strings */
		{ &all_types_desc,
		  "{\"f_float\":\"NaN\",\"f_double\":\"-Infinity\",\"r_double\":[1,\"2.5\",-1e-7,"
		  "\"Infinity\",\"1E+2\"],\"r_float\":[3.4028234663852886e38,\"-0\"]}",
		  "{\"f_float\":\"NaN\",\"f_double\":\"-Infinity\",\"r_float\":[3.4028235e+38,-0],"
		  "\"r_double\":[1,2.5,-1e-7,\"Infinity\",100],\"req_int32\":0}" },
		/* all the integer types at their limits */
		{ &all_types_desc,
		  "{\"fInt32\":-2147483648,\"fInt64\":\"-9223372036854775808\",\"fUint32\":"
		  "4294967295,\"fUint64\":\"18446744073709551615\",\"fSint32\":2147483647,"
		  "\"fSint64\":\"9223372036854775807\",\"fFixed32\":\"4294967295\",\"fFixed64\":"
		  "\"18446744073709551615\",\"fSfixed32\":-2147483648,\"fSfixed64\":"
		  "-9223372036854775808}",
		  "{\"f_int32\":-2147483648,\"f_int64\":\"-9223372036854775808\",\"f_uint32\":"
		  "4294967295,\"f_uint64\":\"18446744073709551615\",\"f_sint32\":2147483647,"
		  "\"f_sint64\":\"9223372036854775807\",\"f_fixed32\":4294967295,\"f_fixed64\":"
		  "\"18446744073709551615\",\"f_sfixed32\":-2147483648,\"f_sfixed64\":"
		  "\"-9223372036854775808\",\"req_int32\":0}" },
		/* doubles printed as integer literals beyond 64 bits, next to integers */
		{ &all_types_desc,
		  "{\"f_double\":100000000000000000000,\"f_int64\":9007199254740991,"
		  "\"f_uint32\":5,\"r_double\":[-9223372036854775809]}",
		  "{\"f_int64\":\"9007199254740991\",\"f_uint32\":5,\"f_double\":"
		  "100000000000000000000,\"r_double\":[-9223372036854776000],\"req_int32\":0}" },
		/* well-known types as fields and at the top level */
		{ &tetragon__aggregation_options__descriptor,
		  "{\"windowSize\":\"-0.5s\",\"channelBufferSize\":10}",
		  "{\"window_size\":\"-0.500s\",\"channel_buffer_size\":\"10\"}" },
		{ &google__protobuf__duration__descriptor, "\"315576000000.123456789s\"",
		  "\"315576000000.123456789s\"" },
		{ &google__protobuf__duration__descriptor, "\"1.0s\"", "\"1s\"" },
		{ &google__protobuf__timestamp__descriptor, "\"0001-01-01T00:00:00Z\"",
		  "\"0001-01-01T00:00:00Z\"" },
		{ &google__protobuf__timestamp__descriptor, "\"0000-12-31T23:00:00-01:00\"",
		  "\"0001-01-01T00:00:00Z\"" },
		{ &google__protobuf__timestamp__descriptor, "\"9999-12-31T23:59:59.999999999Z\"",
		  "\"9999-12-31T23:59:59.999999999Z\"" },
		{ &google__protobuf__timestamp__descriptor, "\"1969-12-31T23:59:59.5Z\"",
		  "\"1969-12-31T23:59:59.500Z\"" },
		{ &google__protobuf__timestamp__descriptor, "\"2024-02-29T12:00:00.1-00:30\"",
		  "\"2024-02-29T12:30:00.100Z\"" },
		{ &google__protobuf__int64_value__descriptor, "-5", "\"-5\"" },
		{ &google__protobuf__string_value__descriptor, "\"\"", "\"\"" },
		{ &google__protobuf__bool_value__descriptor, "true", "true" },
		{ &google__protobuf__field_mask__descriptor, "\"\"", "\"\"" },
		{ &google__protobuf__field_mask__descriptor, "\"a.bC,d\"", "\"a.bC,d\"" },
		{ &tetragon__user_namespace__descriptor, "{\"level\":\"0\",\"uid\":0}",
		  "{\"level\":0,\"uid\":0}" },
		/* Any */
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"version\":\"1\",\"@type\":\"x/tetragon.GetVersionResponse\"}}",
		  "{\"value\":{\"@type\":\"x/tetragon.GetVersionResponse\",\"version\":\"1\"}}" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/google.protobuf.Duration\",\"value\":\"2s\"}}",
		  "{\"value\":{\"@type\":\"x/google.protobuf.Duration\",\"value\":\"2s\"}}" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/google.protobuf.Any\",\"value\":{\"@type\":"
		  "\"x/google.protobuf.UInt32Value\",\"value\":3}}}",
		  "{\"value\":{\"@type\":\"x/google.protobuf.Any\",\"value\":{\"@type\":"
		  "\"x/google.protobuf.UInt32Value\",\"value\":3}}}" },
		{ &tetragon__get_info_response__conf_val__descriptor, "{\"value\":{}}",
		  "{\"value\":{}}" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/tetragon.GetVersionResponse\"}}",
		  "{\"value\":{\"@type\":\"x/tetragon.GetVersionResponse\"}}" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_decodes(cases[i].desc, cases[i].json, 0, cases[i].expected);
}

static void test_pbjson_decode_discard_unknown(void **state)
{
	assert_decodes(&tetragon__get_events_response__descriptor,
		       "{\"foo\":1,\"process_exec\":{\"process\":{\"bar\":[1,{}],\"pid\":5}}}",
		       PBJSON_DISCARD_UNKNOWN, "{\"process_exec\":{\"process\":{\"pid\":5}}}");
	/* Unknown enum names are dropped, in singular fields, arrays and maps. */
	assert_decodes(&tetragon__health_status__descriptor,
		       "{\"status\":\"NOPE\",\"event\":\"HEALTH_STATUS_TYPE_STATUS\"}",
		       PBJSON_DISCARD_UNKNOWN, "{\"event\":\"HEALTH_STATUS_TYPE_STATUS\"}");
	assert_decodes(&tetragon__capabilities__descriptor,
		       "{\"permitted\":[\"CAP_CHOWN\",\"CAP_NOPE\",\"CAP_NET_RAW\"]}",
		       PBJSON_DISCARD_UNKNOWN, "{\"permitted\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"]}");
	assert_decodes(&all_types_desc,
		       "{\"bool_map\":{\"true\":\"NOPE\",\"false\":\"HEALTH_STATUS_ERROR\"}}",
		       PBJSON_DISCARD_UNKNOWN,
		       "{\"bool_map\":{\"false\":\"HEALTH_STATUS_ERROR\"},\"req_int32\":0}");
	assert_decodes(&tetragon__get_info_response__conf_val__descriptor,
		       "{\"value\":{\"@type\":\"x/google.protobuf.UInt32Value\",\"value\":1,"
		       "\"extra\":2}}",
		       PBJSON_DISCARD_UNKNOWN,
		       "{\"value\":{\"@type\":\"x/google.protobuf.UInt32Value\",\"value\":1}}");
	/* Known fields of the wrong type are still errors. */
	assert_decode_fails(&tetragon__get_events_response__descriptor,
			    "{\"foo\":1,\"node_name\":5}", PBJSON_DISCARD_UNKNOWN, -EINVAL,
			    "at 'node_name': expected a string, got 5");
}

static void test_pbjson_decode_errors(void **state)
{
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		const char *json;
		int r;
		const char *err;
	} cases[] = {
#define EV &tetragon__get_events_response__descriptor
#define ARG &tetragon__kprobe_argument__descriptor
#define ALL &all_types_desc
		/* wrong types and numbers out of range */
		{ EV, "{\"process_exec\":{\"process\":{\"pid\":\"abc\"}}}", -EINVAL,
		  "at 'process_exec.process.pid': expected an unsigned 32-bit integer, "
		  "got \"abc\"" },
		{ EV, "{\"process_exec\":{\"process\":{\"pid\":4294967296}}}", -ERANGE,
		  "at 'process_exec.process.pid': expected an unsigned 32-bit integer, "
		  "got 4294967296" },
		{ EV, "{\"processExec\":{\"process\":{\"pid\":-1}}}", -ERANGE,
		  "at 'process_exec.process.pid': expected an unsigned 32-bit integer, got -1" },
		{ EV, "{\"process_exec\":{\"ancestors\":[{},{\"uid\":\"1.5\"}]}}", -EINVAL,
		  "at 'process_exec.ancestors[1].uid': expected an unsigned 32-bit integer, "
		  "got \"1.5\"" },
		{ EV, "{\"process_exec\":\"x\"}", -EINVAL,
		  "at 'process_exec': expected an object, got \"x\"" },
		{ EV, "{\"node_name\":[\"a\"]}", -EINVAL,
		  "at 'node_name': expected a string, got [\"a\"]" },
		{ EV, "{\"process_exec\":{\"ancestors\":{}}}", -EINVAL,
		  "at 'process_exec.ancestors': expected an array, got {}" },
		{ EV, "{\"process_exec\":{\"ancestors\":[{},null]}}", -EINVAL,
		  "at 'process_exec.ancestors[1]': null is not allowed in an array" },
		{ ARG, "{\"int_arg\":2147483648}", -ERANGE,
		  "at 'int_arg': expected a signed 32-bit integer, got 2147483648" },
		{ ARG, "{\"int_arg\":-2147483649}", -ERANGE,
		  "at 'int_arg': expected a signed 32-bit integer, got -2147483649" },
		{ ARG, "{\"int_arg\":1.5}", -EINVAL,
		  "at 'int_arg': expected a signed 32-bit integer, got 1.5" },
		{ ARG, "{\"int_arg\":\"1e-1\"}", -EINVAL,
		  "at 'int_arg': expected a signed 32-bit integer, got \"1e-1\"" },
		{ ARG, "{\"size_arg\":\"18446744073709551616\"}", -ERANGE,
		  "at 'size_arg': expected an unsigned 64-bit integer, "
		  "got \"18446744073709551616\"" },
		{ ARG, "{\"size_arg\":\"1e20\"}", -ERANGE,
		  "at 'size_arg': expected an unsigned 64-bit integer, got \"1e20\"" },
		{ ARG, "{\"size_arg\":2e19}", -ERANGE,
		  "at 'size_arg': expected an unsigned 64-bit integer, got 2e19" },
		{ ARG, "{\"size_arg\":\"99999999999999999999\"}", -ERANGE,
		  "at 'size_arg': expected an unsigned 64-bit integer, "
		  "got \"99999999999999999999\"" },
		{ ARG, "{\"size_arg\":\"2e19\"}", -ERANGE,
		  "at 'size_arg': expected an unsigned 64-bit integer, got \"2e19\"" },
		{ ARG, "{\"size_arg\":-1}", -ERANGE,
		  "at 'size_arg': expected an unsigned 64-bit integer, got -1" },
		{ ARG, "{\"int_arg\":\"1.\"}", -EINVAL,
		  "at 'int_arg': expected a signed 32-bit integer, got \"1.\"" },
		{ ARG, "{\"int_arg\":\"1e+\"}", -EINVAL,
		  "at 'int_arg': expected a signed 32-bit integer, got \"1e+\"" },
		{ ARG, "{\"int_arg\":\"-\"}", -EINVAL,
		  "at 'int_arg': expected a signed 32-bit integer, got \"-\"" },
		{ ARG, "{\"long_arg\":\"9223372036854775808\"}", -ERANGE,
		  "at 'long_arg': expected a signed 64-bit integer, got \"9223372036854775808\"" },
		{ ARG, "{\"long_arg\":\" 1\"}", -EINVAL,
		  "at 'long_arg': expected a signed 64-bit integer, got \" 1\"" },
		{ ARG, "{\"long_arg\":\"0x10\"}", -EINVAL,
		  "at 'long_arg': expected a signed 64-bit integer, got \"0x10\"" },
		{ ARG, "{\"long_arg\":\"01\"}", -EINVAL,
		  "at 'long_arg': expected a signed 64-bit integer, got \"01\"" },
		{ ARG, "{\"long_arg\":\"+1\"}", -EINVAL,
		  "at 'long_arg': expected a signed 64-bit integer, got \"+1\"" },
		{ ARG, "{\"uint_arg\":true}", -EINVAL,
		  "at 'uint_arg': expected an unsigned 32-bit integer, got true" },
		{ ARG, "{\"string_arg\":5}", -EINVAL, "at 'string_arg': expected a string, got 5" },
		{ ARG, "{\"bytes_arg\":\"abc!\"}", -EINVAL,
		  "at 'bytes_arg': expected a base64 string, got \"abc!\"" },
		{ ARG, "{\"bytes_arg\":\"aGk=a\"}", -EINVAL,
		  "at 'bytes_arg': expected a base64 string, got \"aGk=a\"" },
		{ ARG, "{\"bytes_arg\":\"aGk\\u003d\\u003d\"}", -EINVAL,
		  "at 'bytes_arg': expected a base64 string, got \"aGk==\"" },
		{ ARG, "{\"bytes_arg\":\"a\"}", -EINVAL,
		  "at 'bytes_arg': expected a base64 string, got \"a\"" },
		{ ARG, "{\"bytes_arg\":4}", -EINVAL,
		  "at 'bytes_arg': expected a base64 string, got 4" },
		{ ALL, "{\"f_bool\":\"true\"}", -EINVAL,
		  "at 'f_bool': expected a boolean, got \"true\"" },
		{ ALL, "{\"f_float\":\"1e39\"}", -ERANGE,
		  "at 'f_float': expected a 32-bit float, got \"1e39\"" },
		{ ALL, "{\"f_float\":-1e39}", -ERANGE,
		  "at 'f_float': expected a 32-bit float, got -9.9999999999999994e38" },
		{ ALL, "{\"f_double\":\"1e400\"}", -ERANGE,
		  "at 'f_double': expected a 64-bit float, got \"1e400\"" },
		{ ALL, "{\"f_double\":\"nan\"}", -EINVAL,
		  "at 'f_double': expected a 64-bit float, got \"nan\"" },
		{ ALL, "{\"f_double\":\".5\"}", -EINVAL,
		  "at 'f_double': expected a 64-bit float, got \".5\"" },
		{ ALL, "{\"f_double\":{}}", -EINVAL,
		  "at 'f_double': expected a 64-bit float, got {}" },
		{ ALL, "{\"f_sint32\":\"2147483648\"}", -ERANGE,
		  "at 'f_sint32': expected a signed 32-bit integer, got \"2147483648\"" },
		{ ALL, "{\"f_fixed32\":-1}", -ERANGE,
		  "at 'f_fixed32': expected an unsigned 32-bit integer, got -1" },
		{ ALL, "{\"f_sfixed64\":\"-9223372036854775809\"}", -ERANGE,
		  "at 'f_sfixed64': expected a signed 64-bit integer, "
		  "got \"-9223372036854775809\"" },
		{ ALL, "{\"r_string\":[\"a\",1]}", -EINVAL,
		  "at 'r_string[1]': expected a string, got 1" },
		/* unknown fields and enum names */
		{ EV, "{\"process_exec\":{\"process\":{\"foo\":1}}}", -EINVAL,
		  "at 'process_exec.process': unknown field \"foo\" in tetragon.Process" },
		{ EV, "{\"Node_name\":\"x\"}", -EINVAL,
		  "unknown field \"Node_name\" in tetragon.GetEventsResponse" },
		{ &tetragon__health_status__descriptor, "{\"status\":\"RUNNING\"}", -EINVAL,
		  "at 'status': unknown value \"RUNNING\" for enum tetragon.HealthStatusResult" },
		{ &tetragon__health_status__descriptor, "{\"status\":4294967296}", -ERANGE,
		  "at 'status': expected an enum value name or number, got 4294967296" },
		{ &tetragon__health_status__descriptor, "{\"status\":\"1\"}", -EINVAL,
		  "at 'status': unknown value \"1\" for enum tetragon.HealthStatusResult" },
		{ &tetragon__capabilities__descriptor, "{\"permitted\":[\"CAP_CHOWN\",\"X\"]}",
		  -EINVAL,
		  "at 'permitted[1]': unknown value \"X\" for enum tetragon.CapabilitiesType" },
		/* oneofs and duplicates */
		{ EV, "{\"process_exec\":{},\"process_exit\":{}}", -EINVAL,
		  "at 'process_exit': 'process_exec' of the same oneof is already set" },
		{ ALL, "{\"choice_ts\":\"1970-01-01T00:00:00Z\",\"choiceU64\":1}", -EINVAL,
		  "at 'choice_u64': 'choice_ts' of the same oneof is already set" },
		{ EV, "{\"node_name\":\"a\",\"nodeName\":\"b\"}", -EINVAL,
		  "field 'node_name' is given twice, as \"node_name\" and \"nodeName\"" },
		{ EV, "{\"node_name\":\"a\",\"node_name\":\"b\"}", -EINVAL,
		  "invalid JSON at line 1 column 28: duplicate object key near '\"node_name\"'" },
		/* malformed JSON */
		{ EV, "{\"node_name\": }", -EINVAL,
		  "invalid JSON at line 1 column 15: unexpected token near '}'" },
		{ EV, "{\"node_name\":\"a\"} {}", -EINVAL,
		  "invalid JSON at line 1 column 19: end of file expected near '{'" },
		{ EV, "", -EINVAL,
		  "invalid JSON at line 1 column 0: unexpected token near end of file" },
		{ EV, "{\"node_name\":\"a\\u0000b\"}", -EINVAL,
		  "invalid JSON at line 1 column 23: \\u0000 is not allowed without "
		  "JSON_ALLOW_NUL near '\"a\\u0000b\"'" },
		{ EV, "{\"node_name\":\"\xff\"}", -EINVAL,
		  "invalid JSON at line 1 column 14: unable to decode byte 0xff near '\"'" },
		/* jansson takes bare integers up to the signed 64-bit range only */
		{ &tetragon__test__descriptor, "{\"arg0\":18446744073709551615}", -ERANGE,
		  "at 'arg0': expected an unsigned 64-bit integer, got a bare number too large "
		  "to read exactly (quote it)" },
		{ ALL, "{\"f_double\":100000000000000000000,\"f_int64\":9007199254740993}", -ERANGE,
		  "at 'f_int64': expected a signed 64-bit integer, got a bare number too large "
		  "to read exactly (quote it)" },
		{ ALL, "{\"f_double\":-100000000000000000000,\"f_int32\":1.5}", -EINVAL,
		  "at 'f_int32': expected a signed 32-bit integer, got 1.5" },
		{ ALL, "{\"f_double\":100000000000000000000,\"f_float\":1e400}", -EINVAL,
		  "invalid JSON at line 1 column 49: real number overflow near '1e400'" },
		{ EV, "5", -EINVAL, "expected an object, got 5" },
		{ EV, "null", -EINVAL, "expected an object, got null" },
		/* well-known types */
		{ EV, "{\"time\":\"2024-13-01T00:00:00Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-13-01T00:00:00Z\"" },
		{ EV, "{\"time\":\"2024-10-01 02:39:42Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01 02:39:42Z\"" },
		{ EV, "{\"time\":\"2024-10-01T02:39:42.1234567890Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, "
		  "got \"2024-10-01T02:39:42.1234567890Z\"" },
		{ EV, "{\"time\":\"2024-10-01T02:39:42.Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01T02:39:42.Z\"" },
		{ EV, "{\"time\":\"2023-02-29T00:00:00Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2023-02-29T00:00:00Z\"" },
		{ EV, "{\"time\":\"2024-10-01T02:39:42\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01T02:39:42\"" },
		{ EV, "{\"time\":\"2024-10-01T02:39:42+1:00\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01T02:39:42+1:00\"" },
		{ EV, "{\"time\":\"2024-10-01T24:00:00Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01T24:00:00Z\"" },
		{ EV, "{\"time\":\"2024-10-01T02:39:60Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01T02:39:60Z\"" },
		{ EV, "{\"time\":\"2024-10-01T02:39:42Zjunk\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"2024-10-01T02:39:42Zjunk\"" },
		{ EV, "{\"time\":\"0000-12-31T23:59:59Z\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"0000-12-31T23:59:59Z\"" },
		{ EV, "{\"time\":\"9999-12-31T23:59:59-00:01\"}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got \"9999-12-31T23:59:59-00:01\"" },
		{ EV, "{\"time\":1727750382}", -EINVAL,
		  "at 'time': expected an RFC 3339 timestamp, got 1727750382" },
		{ &tetragon__aggregation_options__descriptor, "{\"window_size\":\"1.5\"}", -EINVAL,
		  "at 'window_size': expected a duration like \"1.5s\", got \"1.5\"" },
		{ &tetragon__aggregation_options__descriptor, "{\"window_size\":\"315576000001s\"}",
		  -EINVAL,
		  "at 'window_size': expected a duration like \"1.5s\", got \"315576000001s\"" },
		{ &tetragon__aggregation_options__descriptor, "{\"window_size\":\"1.0000000001s\"}",
		  -EINVAL,
		  "at 'window_size': expected a duration like \"1.5s\", got \"1.0000000001s\"" },
		{ &tetragon__aggregation_options__descriptor, "{\"window_size\":\"1.s\"}", -EINVAL,
		  "at 'window_size': expected a duration like \"1.5s\", got \"1.s\"" },
		{ &tetragon__aggregation_options__descriptor, "{\"window_size\":\"01s\"}", -EINVAL,
		  "at 'window_size': expected a duration like \"1.5s\", got \"01s\"" },
		{ &tetragon__aggregation_options__descriptor, "{\"window_size\":\"-s\"}", -EINVAL,
		  "at 'window_size': expected a duration like \"1.5s\", got \"-s\"" },
		{ &tetragon__field_filter__descriptor, "{\"fields\":\"process_exec\"}", -EINVAL,
		  "at 'fields': invalid field mask path \"process_exec\"" },
		{ &tetragon__field_filter__descriptor, "{\"fields\":\"a,,b\"}", -EINVAL,
		  "at 'fields': invalid field mask path \"\"" },
		{ &tetragon__field_filter__descriptor, "{\"fields\":\".a\"}", -EINVAL,
		  "at 'fields': invalid field mask path \".a\"" },
		{ &tetragon__field_filter__descriptor, "{\"fields\":\"a.\"}", -EINVAL,
		  "at 'fields': invalid field mask path \"a.\"" },
		{ &tetragon__field_filter__descriptor, "{\"fields\":\"a.1b\"}", -EINVAL,
		  "at 'fields': invalid field mask path \"a.1b\"" },
		{ &tetragon__field_filter__descriptor, "{\"fields\":[\"a\"]}", -EINVAL,
		  "at 'fields': expected a string of comma-separated paths, got [\"a\"]" },
		{ &tetragon__user_namespace__descriptor, "{\"uid\":{\"value\":1}}", -EINVAL,
		  "at 'uid': expected an unsigned 32-bit integer, got {\"value\":1}" },
		/* Any */
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"type.googleapis.com/tetragon.Nope\"}}", -EINVAL,
		  "at 'value': unknown type \"type.googleapis.com/tetragon.Nope\" in "
		  "google.protobuf.Any" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"version\":\"1\"}}", -EINVAL,
		  "at 'value': missing \"@type\" in google.protobuf.Any" },
		{ &tetragon__get_info_response__conf_val__descriptor, "{\"value\":{\"@type\":5}}",
		  -EINVAL, "at 'value': expected a type URL string in \"@type\", got 5" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/tetragon.GetVersionResponse\",\"version\":1}}",
		  -EINVAL, "at 'value.version': expected a string, got 1" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/google.protobuf.Duration\"}}", -EINVAL,
		  "at 'value': missing \"value\" in google.protobuf.Any of "
		  "google.protobuf.Duration" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/google.protobuf.Duration\",\"value\":\"1s\",\"x\":1}}",
		  -EINVAL, "at 'value': unknown field \"x\" in google.protobuf.Any" },
		{ &tetragon__get_info_response__conf_val__descriptor,
		  "{\"value\":{\"@type\":\"x/google.protobuf.Duration\",\"value\":1}}", -EINVAL,
		  "at 'value.value': expected a duration like \"1.5s\", got 1" },
		{ &tetragon__get_info_response__conf_val__descriptor, "{\"value\":[]}", -EINVAL,
		  "at 'value': expected an object, got []" },
		/* maps */
		{ &tetragon__pod__descriptor, "{\"pod_labels\":{\"app\":5}}", -EINVAL,
		  "at 'pod_labels[\"app\"]': expected a string, got 5" },
		{ &tetragon__pod__descriptor, "{\"pod_labels\":{\"app\":null}}", -EINVAL,
		  "at 'pod_labels[\"app\"]': null is not allowed as a map value" },
		{ &tetragon__pod__descriptor, "{\"pod_labels\":[]}", -EINVAL,
		  "at 'pod_labels': expected an object, got []" },
		{ ALL, "{\"int_map\":{\"x\":\"a\"}}", -EINVAL,
		  "at 'int_map[\"x\"]': expected a signed 64-bit integer map key, got \"x\"" },
		{ ALL, "{\"int_map\":{\"1e2\":\"a\"}}", -EINVAL,
		  "at 'int_map[\"1e2\"]': expected a signed 64-bit integer map key, "
		  "got \"1e2\"" },
		{ ALL, "{\"int_map\":{\"1.0\":\"a\"}}", -EINVAL,
		  "at 'int_map[\"1.0\"]': expected a signed 64-bit integer map key, "
		  "got \"1.0\"" },
		{ ALL, "{\"i32_map\":{\"2147483648\":\"\"}}", -ERANGE,
		  "at 'i32_map[\"2147483648\"]': expected a signed 32-bit integer map key, "
		  "got \"2147483648\"" },
		{ ALL, "{\"pairs\":{\"1\":\"a\"}}", -EINVAL,
		  "at 'pairs': expected an array, got {\"1\":\"a\"}" },
		{ ALL, "{\"bool_map\":{\"yes\":1}}", -EINVAL,
		  "at 'bool_map[\"yes\"]': expected a boolean map key, got \"yes\"" },
		{ ALL, "{\"u32_map\":{\"-1\":\"1970-01-01T00:00:00Z\"}}", -ERANGE,
		  "at 'u32_map[\"-1\"]': expected an unsigned 32-bit integer map key, "
		  "got \"-1\"" },
		{ ALL, "{\"u32_map\":{\"1\":\"x\"}}", -EINVAL,
		  "at 'u32_map[\"1\"]': expected an RFC 3339 timestamp, got \"x\"" },
		{ ALL, "{\"bool_map\":{\"true\":\"NOPE\"}}", -EINVAL,
		  "at 'bool_map[\"true\"]': unknown value \"NOPE\" for enum "
		  "tetragon.HealthStatusResult" },
#undef EV
#undef ARG
#undef ALL
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_decode_fails(cases[i].desc, cases[i].json, 0, cases[i].r, cases[i].err);
}

static void test_pbjson_decode_limits(void **state)
{
	ProtobufCMessage *msg = NULL;
	struct sbuf sb;
	char err[8];
	int depth;

	/* Any inside Any: 100 levels of messages are fine, 101 are not. */
	for (depth = 99; depth <= 100; depth++) {
		sbuf_init(&sb);
		for (int i = 0; i < depth; i++)
			sbuf_adds(&sb, "{\"@type\":\"x/google.protobuf.Any\",\"value\":");
		sbuf_adds(&sb, "{}");
		for (int i = 0; i < depth; i++)
			sbuf_adds(&sb, "}");
		if (depth == 99) {
			assert_decodes(&google__protobuf__any__descriptor, sb.buf, 0, sb.buf);
		} else {
			assert_int_equal(pbjson_decode(&google__protobuf__any__descriptor, sb.buf,
						       strlen(sb.buf), 0, &msg, NULL, 0),
					 -EINVAL);
		}
		sbuf_free(&sb);
	}
	assert_decode_fails(&google__protobuf__any__descriptor, "{}", 2, -EINVAL,
			    "unknown flags 0x2");
	/* A short error buffer gets a cut, terminated message. */
	assert_int_equal(pbjson_decode(&tetragon__pod__descriptor, "{\"x\":1}", 7, 0, &msg, err,
				       sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown");
	/* The length is honoured: no NUL needed. */
	assert_int_equal(pbjson_decode(&tetragon__pod__descriptor, "{}garbage", 2, 0, &msg, err,
				       sizeof(err)),
			 0);
	assert_encodes(msg, "{}");
	protobuf_c_message_free_unpacked(msg, NULL);
}

/* ---------------------------------------------------------------------------------------
 * Round trips
 */

static void test_pbjson_roundtrip(void **state)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Timestamp *tss[] = { &ts, &ts };
	int64_t s64[] = { INT64_MIN, -1, 0, INT64_MAX };
	float fl[] = { 0.1f, -3.4028235e38f, 1.4e-45f, 0.0f };
	double db[] = { 0.1, 1e300, -5e-324, 1.0 / 3 };
	protobuf_c_boolean bools[] = { 1, 0, 1 };
	char *strs[] = { "a", "", "é\n\x01" };
	ProtobufCBinaryData bytes[] = { { 0, NULL }, { 2, (uint8_t *)"hi" }, { 1, (uint8_t *)"" } };
	struct int_map_entry im[2], *ims[] = { &im[0], &im[1] };
	struct bool_map_entry bm, *bms[] = { &bm };
	struct u32_map_entry um, *ums[] = { &um };
	struct i32_map_entry i32m[2], *i32ms[] = { &i32m[0], &i32m[1] };
	struct u64_map_entry u64m, *u64ms[] = { &u64m };
	struct exec_event exec;
	struct exit_event ex;
	struct all_types m;

	exec_event_init(&exec);
	assert_roundtrip(&exec.resp);
	exit_event_init(&ex);
	assert_roundtrip(&ex.resp);

	all_types_init(&m.base);
	assert_roundtrip(&m);
	int_map_entry_init(&im[0].base);
	int_map_entry_init(&im[1].base);
	bool_map_entry_init(&bm.base);
	u32_map_entry_init(&um.base);
	ts.seconds = -1;
	ts.nanos = 1;
	m.f_int32 = -5;
	m.f_int64 = INT64_MAX;
	m.f_uint32 = 1;
	m.f_uint64 = 1ull << 63;
	m.f_sint32 = INT32_MIN;
	m.f_sint64 = INT64_MIN;
	m.f_fixed32 = UINT32_MAX;
	m.f_fixed64 = UINT64_MAX;
	m.f_sfixed32 = INT32_MAX;
	m.f_sfixed64 = -1;
	m.f_float = 3.14159f;
	m.f_double = 2.718281828459045;
	m.f_bool = 1;
	m.f_string = "\"quoted\" \\ \t";
	m.f_bytes = (ProtobufCBinaryData){ 3, (uint8_t *)"\0\0\0" };
	m.f_enum = 77;
	m.n_r_sint64 = ARRAY_SIZE(s64);
	m.r_sint64 = s64;
	m.n_r_float = ARRAY_SIZE(fl);
	m.r_float = fl;
	m.n_r_double = ARRAY_SIZE(db);
	m.r_double = db;
	m.n_r_bool = ARRAY_SIZE(bools);
	m.r_bool = bools;
	m.n_r_string = ARRAY_SIZE(strs);
	m.r_string = strs;
	m.n_r_bytes = ARRAY_SIZE(bytes);
	m.r_bytes = bytes;
	m.n_r_timestamp = 2;
	m.r_timestamp = tss;
	im[0].key = INT64_MIN;
	im[0].value = "min";
	im[1].key = 0;
	m.n_int_map = 2;
	m.int_map = ims;
	bm.key = 1;
	bm.value = 2;
	m.n_bool_map = 1;
	m.bool_map = bms;
	um.key = 1;
	um.value = &ts;
	m.n_u32_map = 1;
	m.u32_map = ums;
	m.has_opt_int32 = 1;
	m.opt_int32 = -1;
	m.opt_string = "";
	m.req_int32 = 1;
	i32_map_entry_init(&i32m[0].base);
	i32_map_entry_init(&i32m[1].base);
	u64_map_entry_init(&u64m.base);
	i32m[0].key = INT32_MIN;
	i32m[0].value = (ProtobufCBinaryData){ 1, (uint8_t *)"\xff" };
	i32m[1].key = INT32_MAX;
	m.n_i32_map = 2;
	m.i32_map = i32ms;
	u64m.key = UINT64_MAX;
	u64m.value = 1e-300;
	m.n_u64_map = 1;
	m.u64_map = u64ms;
	m.n_pairs = 2;
	m.pairs = ims;
	m.choice_case = CHOICE_STR;
	m.choice_str = "";
	assert_roundtrip(&m);
	m.choice_case = CHOICE_TS;
	m.choice_ts = &ts;
	assert_roundtrip(&m);
	m.choice_case = CHOICE_U64;
	m.choice_u64 = 0;
	assert_roundtrip(&m);
}

static void test_pbjson_roundtrip_tetragon(void **state)
{
	Tetragon__KprobeArgument arg = TETRAGON__KPROBE_ARGUMENT__INIT;
	Tetragon__TracingPolicyStatus tp = TETRAGON__TRACING_POLICY_STATUS__INIT;
	Tetragon__ConfigureTracingPolicyRequest req =
		TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST__INIT;
	Tetragon__Filter filter = TETRAGON__FILTER__INIT;
	Google__Protobuf__BoolValue no = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
	Tetragon__ProcessInternal pi = TETRAGON__PROCESS_INTERNAL__INIT;
	Tetragon__ProcessInternal__RefcntOpsEntry op[2], *ops[] = { &op[0], &op[1] };
	Tetragon__Pod pod = TETRAGON__POD__INIT;
	Tetragon__Pod__PodLabelsEntry label, *labels[] = { &label };
	uint32_t pids[] = { 1, 4294967295u };
	Tetragon__EventType events[] = { TETRAGON__EVENT_TYPE__PROCESS_EXEC,
					 TETRAGON__EVENT_TYPE__RATE_LIMIT_INFO };
	char *regexes[] = { "^/usr/bin/.*$", "\\d+" };

	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG;
	arg.string_arg = "/etc/passwd";
	assert_roundtrip(&arg);
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG;
	arg.bytes_arg = (ProtobufCBinaryData){ 3, (uint8_t *)"\xff\x00\x01" };
	assert_roundtrip(&arg);
	/* Zero values of set oneof members survive. */
	arg.bytes_arg = (ProtobufCBinaryData){ 0, NULL };
	assert_roundtrip(&arg);
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_INT_ARG;
	assert_roundtrip(&arg);
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
	assert_roundtrip(&arg);
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_LONG_ARG;
	arg.long_arg = -1;
	assert_roundtrip(&arg);
	arg.arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_UINT_ARG;
	arg.label = "count";
	assert_roundtrip(&arg);

	tp.id = UINT64_MAX;
	tp.state = TETRAGON__TRACING_POLICY_STATE__TP_STATE_LOAD_ERROR;
	tp.error = "failed: \"x\"";
	assert_roundtrip(&tp);

	req.name = "p";
	req._enable_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___ENABLE_ENABLE;
	assert_roundtrip(&req);

	filter.n_pid = 2;
	filter.pid = pids;
	filter.n_event_set = 2;
	filter.event_set = events;
	filter.n_binary_regex = 2;
	filter.binary_regex = regexes;
	filter.health_check = &no;
	assert_roundtrip(&filter);

	for (int i = 0; i < 2; i++)
		tetragon__process_internal__refcnt_ops_entry__init(&op[i]);
	op[0].key = "a";
	op[0].value = -1;
	op[1].key = "b";
	pi.color = "pink";
	pi.n_refcnt_ops = 2;
	pi.refcnt_ops = ops;
	assert_roundtrip(&pi);

	tetragon__pod__pod_labels_entry__init(&label);
	label.key = "app";
	label.value = "iris";
	pod.n_pod_labels = 1;
	pod.pod_labels = labels;
	assert_roundtrip(&pod);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbjson_encode_exec_golden),
		cmocka_unit_test(test_pbjson_encode_exit_golden),
		cmocka_unit_test(test_pbjson_encode_appends_without_newline),
		cmocka_unit_test(test_pbjson_encode_out_of_memory),
		cmocka_unit_test(test_pbjson_encode_defaults_omitted),
		cmocka_unit_test(test_pbjson_encode_other_google_types_as_messages),
		cmocka_unit_test(test_pbjson_encode_all_scalar_types),
		cmocka_unit_test(test_pbjson_encode_tetragon_scalars),
		cmocka_unit_test(test_pbjson_encode_zero_oneof_members),
		cmocka_unit_test(test_pbjson_encode_escaping),
		cmocka_unit_test(test_pbjson_encode_floats),
		cmocka_unit_test(test_pbjson_encode_map),
		cmocka_unit_test(test_pbjson_encode_large_map),
		cmocka_unit_test(test_pbjson_encode_repeated_enums),
		cmocka_unit_test(test_pbjson_encode_field_mask),
		cmocka_unit_test(test_pbjson_encode_timestamps),
		cmocka_unit_test(test_pbjson_encode_durations),
		cmocka_unit_test(test_pbjson_encode_wrappers),
		cmocka_unit_test(test_pbjson_encode_any),
		cmocka_unit_test(test_pbjson_decode_tetragon_line),
		cmocka_unit_test(test_pbjson_decode_golden_lines),
		cmocka_unit_test(test_pbjson_decode_sets_presence),
		cmocka_unit_test(test_pbjson_decode_accepts),
		cmocka_unit_test(test_pbjson_decode_discard_unknown),
		cmocka_unit_test(test_pbjson_decode_errors),
		cmocka_unit_test(test_pbjson_decode_limits),
		cmocka_unit_test(test_pbjson_roundtrip),
		cmocka_unit_test(test_pbjson_roundtrip_tetragon),
		/* Last: it fills the type registry. */
		cmocka_unit_test(test_pbjson_register_descriptors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
