// SPDX-License-Identifier: Apache-2.0
/*
 * Proto3 JSON for protobuf-c messages, driven by the descriptors alone: no generated code is
 * needed for any message type, the well-known types included (they are recognised by name
 * and read through their descriptors' offsets).
 *
 * The encoder is on the agent's hot path (one line per kernel event), so it writes straight
 * into the caller's sbuf: each value reserves its worst-case size once and is then written
 * without further checks, and nothing is allocated except to sort a map of more than 32
 * entries or to print an Any. The decoder parses with jansson and is not performance critical.
 */
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>

#include "lib/pbjson.h"
#include "lib/util.h"

#define MEMBER(type, msg, offset) (*(type *)((char *)(msg) + (offset)))
#define CMEMBER(type, msg, offset) (*(type const *)((const char *)(msg) + (offset)))

/* Ranges protojson enforces: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, +-10000 years. */
#define TIMESTAMP_MIN_SECONDS (-62135596800LL)
#define TIMESTAMP_MAX_SECONDS 253402300799LL
#define DURATION_MAX_SECONDS 315576000000LL
#define NANOS_PER_SECOND 1000000000

#define REGISTRY_MAX 256
/* Protobuf's own default recursion limit. */
#define DECODE_MAX_DEPTH 100
/* decode_value() result for an unknown enum name dropped under PBJSON_DISCARD_UNKNOWN. */
#define SKIPPED 1

enum wkt {
	WKT_NONE,
	WKT_TIMESTAMP,
	WKT_DURATION,
	WKT_FIELD_MASK,
	WKT_ANY,
	WKT_WRAPPER,
};

static enum wkt wkt_kind_by_name(const ProtobufCMessageDescriptor *desc)
{
	static const char prefix[] = "google.protobuf.";
	static const struct {
		const char *name;
		enum wkt kind;
	} wkts[] = {
		{ "Timestamp", WKT_TIMESTAMP },	 { "Duration", WKT_DURATION },
		{ "FieldMask", WKT_FIELD_MASK }, { "Any", WKT_ANY },
		{ "DoubleValue", WKT_WRAPPER },	 { "FloatValue", WKT_WRAPPER },
		{ "Int64Value", WKT_WRAPPER },	 { "UInt64Value", WKT_WRAPPER },
		{ "Int32Value", WKT_WRAPPER },	 { "UInt32Value", WKT_WRAPPER },
		{ "BoolValue", WKT_WRAPPER },	 { "StringValue", WKT_WRAPPER },
		{ "BytesValue", WKT_WRAPPER },
	};

	if (strncmp(desc->name, prefix, sizeof(prefix) - 1) != 0)
		return WKT_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(wkts); i++)
		if (streq(desc->name + sizeof(prefix) - 1, wkts[i].name))
			return wkts[i].kind;
	return WKT_NONE;
}

/*
 * Every message printed or parsed asks, about a dozen per event: cache the answer by
 * descriptor address, per thread so that no locking is needed. Descriptors are static, as
 * protoc-c generates them, so an address never changes its meaning.
 */
static enum wkt wkt_kind(const ProtobufCMessageDescriptor *desc)
{
	static __thread struct {
		const ProtobufCMessageDescriptor *desc;
		enum wkt kind;
	} cache[64];
	size_t h = (uintptr_t)desc / sizeof(*desc) % ARRAY_SIZE(cache);

	if (cache[h].desc != desc) {
		cache[h].kind = wkt_kind_by_name(desc);
		cache[h].desc = desc;
	}
	return cache[h].kind;
}

static bool is_pointer_type(ProtobufCType type)
{
	return type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_MESSAGE;
}

/* Size of one element of a repeated field, as protobuf-c lays the arrays out. */
static size_t slot_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}

/*
 * protobuf-c keeps no map flag: a map<K, V> field is a repeated field of an entry type that
 * protoc nests in the parent and names after the field (pod_labels -> Pod.PodLabelsEntry),
 * with exactly the fields key = 1 and value = 2.
 */
static bool is_map_field(const ProtobufCMessageDescriptor *parent,
			 const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *e = f->descriptor;
	const char *s = e->short_name;
	bool upper = true;
	size_t plen;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
	    !streq(e->fields[0].name, "key") || !streq(e->fields[1].name, "value"))
		return false;
	plen = strlen(parent->name);
	if (strncmp(e->name, parent->name, plen) != 0 || e->name[plen] != '.' ||
	    !streq(e->name + plen + 1, s))
		return false;
	for (const char *p = f->name; *p; p++) {
		char c = *p;

		if (c == '_') {
			upper = true;
			continue;
		}
		if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		upper = false;
		if (*s++ != c)
			return false;
	}
	return streq(s, "Entry");
}

/* ---------------------------------------------------------------------------------------
 * Type registry for Any
 */

static const ProtobufCMessageDescriptor *registry[REGISTRY_MAX];
static size_t registry_len;

static const ProtobufCMessageDescriptor *registry_find(const char *name)
{
	for (size_t i = 0; i < registry_len; i++)
		if (streq(registry[i]->name, name))
			return registry[i];
	return NULL;
}

/* Like protojson's resolver: the type's full name is what follows the last '/'. */
static const ProtobufCMessageDescriptor *resolve_type_url(const char *url)
{
	const char *slash = strrchr(url, '/');

	return registry_find(slash ? slash + 1 : url);
}

int pbjson_register_descriptors(const ProtobufCMessageDescriptor *const *descs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (registry_find(descs[i]->name))
			continue;
		if (registry_len == REGISTRY_MAX)
			return -ENOSPC;
		registry[registry_len++] = descs[i];
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Civil time, proleptic Gregorian, for Timestamps in protojson's range
 */

/* Days since 1970-01-01 of a date; y may be 0 or negative (an offset can reach year 1). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	/* Count years from March so that the leap day ends the year. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse, for days on or after 0000-03-01 (day -719468). */
static void civil_from_days(int64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = (uint64_t)(days + 719468);
	uint64_t era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(era * 400 + yoe + (*m <= 2));
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* ---------------------------------------------------------------------------------------
 * Encoder: output primitives
 */

/* Room for n more bytes and the terminating NUL; the common case is one comparison. */
static inline int reserve(struct sbuf *sb, size_t n)
{
	if (sb->len + n < sb->cap)
		return 0;
	return sbuf_reserve(sb, n);
}

static int put(struct sbuf *sb, const char *s, size_t n)
{
	int r = reserve(sb, n);

	if (r < 0)
		return r;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	return 0;
}

#define put_lit(sb, s) put(sb, s, sizeof(s) - 1)

/* Writes v in decimal at p and returns the number of digits (at most 20). */
static size_t fmt_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, tmp + sizeof(tmp) - n, n);
	return n;
}

static void fmt_2digits(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* protojson prints 0, 3, 6 or 9 fractional digits: as few as the value needs. */
static char *fmt_nanos(char *p, uint32_t nanos)
{
	int digits = 9;

	if (nanos == 0)
		return p;
	while (digits > 3 && nanos % 1000 == 0) {
		nanos /= 1000;
		digits -= 3;
	}
	*p++ = '.';
	for (int i = digits - 1; i >= 0; i--) {
		p[i] = (char)('0' + nanos % 10);
		nanos /= 10;
	}
	return p + digits;
}

/* An integer given as sign and magnitude; 64-bit types are quoted, as protojson does. */
static int put_int(struct sbuf *sb, bool neg, uint64_t mag, bool quoted)
{
	char *p, *start;
	int r = reserve(sb, 23);

	if (r < 0)
		return r;
	p = start = sb->buf + sb->len;
	if (quoted)
		*p++ = '"';
	if (neg)
		*p++ = '-';
	p += fmt_u64(p, mag);
	if (quoted)
		*p++ = '"';
	sb->len += (size_t)(p - start);
	return 0;
}

static int put_signed(struct sbuf *sb, int64_t v, bool quoted)
{
	return put_int(sb, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v, quoted);
}

/* 1: escape; 2: starts a multi-byte UTF-8 sequence, or is invalid; 0: copy. */
static const unsigned char char_class[256] = {
	[0 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = 2,
};

/*
 * Whether any of the 8 bytes in w is a control character, '"', '\\' or not ASCII. Exact for
 * the word as a whole: a borrow only crosses from a byte that matched itself.
 */
static inline bool word_needs_care(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;

	return ((w - ones * 0x20) | ((w ^ ones * '"') - ones) | ((w ^ ones * '\\') - ones) | w) &
	       ones * 0x80;
}

/* Length of the valid UTF-8 sequence at s, or 0 (overlong, surrogate, > U+10FFFF, cut). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * A JSON string with protojson's escaping: '"', '\\' and control characters only, the
 * short forms where JSON has them. Each byte that is not part of valid UTF-8 becomes U+FFFD,
 * so the output is valid JSON whatever the input.
 */
static int put_string(struct sbuf *sb, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	char *o;
	int r;

	/* At worst every byte becomes \u00XX. */
	if (n > (SIZE_MAX - 2) / 6)
		return -ENOMEM;
	r = reserve(sb, 6 * n + 2);
	if (r < 0)
		return r;
	o = sb->buf + sb->len;
	*o++ = '"';
	while (i < n) {
		size_t start = i, len;
		uint64_t w;

		for (; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, sizeof(w));
			if (word_needs_care(w))
				break;
		}
		while (i < n && !char_class[s[i]])
			i++;
		memcpy(o, s + start, i - start);
		o += i - start;
		if (i == n)
			break;
		if (char_class[s[i]] == 1) {
			*o++ = '\\';
			switch (s[i]) {
			case '"':
			case '\\':
				*o++ = (char)s[i];
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				memcpy(o, "u00", 3);
				o[3] = hex[s[i] >> 4];
				o[4] = hex[s[i] & 15];
				o += 5;
			}
			i++;
		} else if ((len = utf8_seq_len(s + i, n - i)) > 0) {
			memcpy(o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o++ = '"';
	sb->len = (size_t)(o - sb->buf);
	return 0;
}

static int put_cstring(struct sbuf *sb, const char *s)
{
	return s ? put_string(sb, s, strlen(s)) : put_lit(sb, "\"\"");
}

static int put_bytes(struct sbuf *sb, const ProtobufCBinaryData *bd)
{
	size_t n = base64_encoded_len(bd->len);
	int r = reserve(sb, n + 2);

	if (r < 0)
		return r;
	sb->buf[sb->len++] = '"';
	sb->len += base64_encode(bd->data, bd->len, sb->buf + sb->len);
	sb->buf[sb->len++] = '"';
	return 0;
}

/*
 * The fewest significant digits that read back as v (as a float when single): returns their
 * number, with v = d.ddd * 10^*exp10. v is finite and not zero. Only digits are taken from
 * printf's output, so a locale's decimal comma does not matter.
 */
static int shortest_digits(double v, bool single, char *digits, int *exp10)
{
	char buf[40];
	const char *p;
	int prec, n = 0;

	for (prec = 1;; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (prec == 17 || (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v))
			break;
	}
	for (p = buf; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	*exp10 = atoi(p + 1);
	return n;
}

/*
 * Like Go's protojson: the shortest representation that round-trips, in plain notation
 * between 1e-6 and 1e21 and in exponent notation ("1e+21", "1.5e-7") outside; NaN and the
 * infinities as strings.
 */
static int put_float(struct sbuf *sb, double v, bool single)
{
	char digits[20], *p, *start;
	int n, exp10, point;
	double a = fabs(v);
	bool sci;
	int r;

	if (isnan(v))
		return put_lit(sb, "\"NaN\"");
	if (isinf(v))
		return v > 0 ? put_lit(sb, "\"Infinity\"") : put_lit(sb, "\"-Infinity\"");
	r = reserve(sb, 32);
	if (r < 0)
		return r;
	p = start = sb->buf + sb->len;
	if (signbit(v))
		*p++ = '-';
	if (v == 0) {
		*p++ = '0';
		sb->len += (size_t)(p - start);
		return 0;
	}
	n = shortest_digits(v, single, digits, &exp10);
	sci = single ? ((float)a < 1e-6f || (float)a >= 1e21f) : (a < 1e-6 || a >= 1e21);
	if (sci) {
		*p++ = digits[0];
		if (n > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)n - 1);
			p += n - 1;
		}
		*p++ = 'e';
		*p++ = exp10 < 0 ? '-' : '+';
		p += fmt_u64(p, (uint64_t)(exp10 < 0 ? -exp10 : exp10));
	} else {
		point = exp10 + 1;
		if (point <= 0) {
			memcpy(p, "0.", 2);
			p += 2;
			memset(p, '0', (size_t)-point);
			p += -point;
			memcpy(p, digits, (size_t)n);
			p += n;
		} else if (point >= n) {
			memcpy(p, digits, (size_t)n);
			p += n;
			memset(p, '0', (size_t)(point - n));
			p += point - n;
		} else {
			memcpy(p, digits, (size_t)point);
			p += point;
			*p++ = '.';
			memcpy(p, digits + point, (size_t)(n - point));
			p += n - point;
		}
	}
	sb->len += (size_t)(p - start);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Encoder: messages
 */

static int put_message(struct sbuf *sb, const ProtobufCMessage *msg,
		       const ProtobufCMessageDescriptor *desc);
static int put_fields(struct sbuf *sb, const ProtobufCMessage *msg, bool first);

/* One value of field f stored at slot: the member itself, or an element of its array. */
static int put_value(struct sbuf *sb, const ProtobufCFieldDescriptor *f, const void *slot)
{
	const ProtobufCEnumValue *ev;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return put_signed(sb, *(const int32_t *)slot, false);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return put_int(sb, false, *(const uint32_t *)slot, false);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return put_signed(sb, *(const int64_t *)slot, true);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return put_int(sb, false, *(const uint64_t *)slot, true);
	case PROTOBUF_C_TYPE_FLOAT:
		return put_float(sb, *(const float *)slot, true);
	case PROTOBUF_C_TYPE_DOUBLE:
		return put_float(sb, *(const double *)slot, false);
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)slot ? put_lit(sb, "true") :
							   put_lit(sb, "false");
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)slot);
		/* Values the enum does not name print as numbers. */
		if (!ev)
			return put_signed(sb, *(const int *)slot, false);
		return put_cstring(sb, ev->name);
	case PROTOBUF_C_TYPE_STRING:
		return put_cstring(sb, *(char *const *)slot);
	case PROTOBUF_C_TYPE_BYTES:
		return put_bytes(sb, slot);
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
	return put_message(sb, *(ProtobufCMessage *const *)slot, f->descriptor);
}

/* Whether a singular field is printed: set in its oneof, has_ set, or not the default. */
static bool is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const void *member = (const char *)msg + f->offset;
	uint32_t bits32;
	uint64_t bits64;

	/* A set oneof member prints even when zero; protobuf-c packs no NULL pointer. */
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (CMEMBER(uint32_t, msg, f->quantifier_offset) != f->id)
			return false;
		return !is_pointer_type(f->type) || *(void *const *)member;
	}
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (is_pointer_type(f->type))
			return *(void *const *)member && *(void *const *)member != f->default_value;
		return CMEMBER(protobuf_c_boolean, msg, f->quantifier_offset);
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		/* Bitwise, so that -0.0 counts as set, as in protojson. */
		memcpy(&bits64, member, sizeof(bits64));
		return bits64 != 0;
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)member && **(char *const *)member;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)member)->len > 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(void *const *)member;
	default:
		/* 32-bit integers and floats, bool and enum are all 4 bytes. */
		memcpy(&bits32, member, sizeof(bits32));
		return bits32 != 0;
	}
}

static int put_key(struct sbuf *sb, bool *first, const char *name)
{
	size_t n = strlen(name);
	int r = reserve(sb, n + 4);

	if (r < 0)
		return r;
	if (!*first)
		sb->buf[sb->len++] = ',';
	*first = false;
	sb->buf[sb->len++] = '"';
	memcpy(sb->buf + sb->len, name, n);
	sb->len += n;
	sb->buf[sb->len++] = '"';
	sb->buf[sb->len++] = ':';
	return 0;
}

static int put_repeated(struct sbuf *sb, const ProtobufCFieldDescriptor *f, const void *arr,
			size_t n)
{
	size_t size = slot_size(f->type);
	int r = put_lit(sb, "[");

	for (size_t i = 0; i < n && r == 0; i++) {
		if (i > 0)
			r = put_lit(sb, ",");
		if (r == 0)
			r = put_value(sb, f, (const char *)arr + i * size);
	}
	return r < 0 ? r : put_lit(sb, "]");
}

static int key_cmp(const ProtobufCFieldDescriptor *kf, const ProtobufCMessage *a,
		   const ProtobufCMessage *b)
{
#define CMP(type)                                                        \
	((CMEMBER(type, a, kf->offset) > CMEMBER(type, b, kf->offset)) - \
	 (CMEMBER(type, a, kf->offset) < CMEMBER(type, b, kf->offset)))
	const char *s, *t;

	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING:
		s = CMEMBER(char *, a, kf->offset);
		t = CMEMBER(char *, b, kf->offset);
		return strcmp(s ? s : "", t ? t : "");
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return CMP(int32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return CMP(int64_t);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return CMP(uint32_t);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return CMP(uint64_t);
	default:
		/* bool: any non-zero value is true */
		return !!CMEMBER(protobuf_c_boolean, a, kf->offset) -
		       !!CMEMBER(protobuf_c_boolean, b, kf->offset);
	}
#undef CMP
}

struct map_sort {
	ProtobufCMessage *const *entries;
	const ProtobufCFieldDescriptor *key;
};

/* By key, then by position, so that of equal keys the last one sorts last. */
static int map_sort_cmp(const void *a, const void *b, void *arg)
{
	const struct map_sort *ms = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = key_cmp(ms->key, ms->entries[i], ms->entries[j]);

	return c ? c : (i < j ? -1 : 1);
}

static int put_map_key(struct sbuf *sb, const ProtobufCFieldDescriptor *kf,
		       const ProtobufCMessage *entry)
{
	const void *slot = (const char *)entry + kf->offset;

	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING:
		return put_cstring(sb, *(char *const *)slot);
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)slot ? put_lit(sb, "\"true\"") :
							   put_lit(sb, "\"false\"");
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return put_signed(sb, *(const int32_t *)slot, true);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return put_int(sb, false, *(const uint32_t *)slot, true);
	default:
		/* The 64-bit types already print quoted. */
		return put_value(sb, kf, slot);
	}
}

/*
 * A JSON object with the keys sorted as protojson sorts them (strings bytewise, numbers by
 * value, false before true). Of entries with equal keys only the last is printed: that is
 * the one a parser of the wire format keeps.
 */
static int put_map(struct sbuf *sb, const ProtobufCFieldDescriptor *f,
		   ProtobufCMessage *const *entries, size_t n)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	struct map_sort ms = { entries, &ed->fields[0] };
	const ProtobufCFieldDescriptor *vf = &ed->fields[1];
	size_t stack[32], *order = stack;
	bool first = true;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		if (!entries[i])
			return -EINVAL;
	if (n > ARRAY_SIZE(stack)) {
		order = reallocarray(NULL, n, sizeof(*order));
		if (!order)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), map_sort_cmp, &ms);
	r = put_lit(sb, "{");
	for (size_t i = 0; i < n && r == 0; i++) {
		const ProtobufCMessage *e = entries[order[i]];

		if (i + 1 < n && key_cmp(ms.key, e, entries[order[i + 1]]) == 0)
			continue;
		if (!first)
			r = put_lit(sb, ",");
		first = false;
		if (r == 0)
			r = put_map_key(sb, ms.key, e);
		if (r == 0)
			r = put_lit(sb, ":");
		if (r == 0)
			r = put_value(sb, vf, (const char *)e + vf->offset);
	}
	if (r == 0)
		r = put_lit(sb, "}");
	if (order != stack)
		free(order);
	return r;
}

static int put_timestamp(struct sbuf *sb, const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *fs = msg->descriptor->fields;
	int64_t secs = CMEMBER(int64_t, msg, fs[0].offset), days, rem;
	int32_t nanos = CMEMBER(int32_t, msg, fs[1].offset);
	unsigned y, m, d;
	char *p;
	int r;

	if (secs < TIMESTAMP_MIN_SECONDS || secs > TIMESTAMP_MAX_SECONDS || nanos < 0 ||
	    nanos >= NANOS_PER_SECOND)
		return -EINVAL;
	r = reserve(sb, sizeof("\"2024-10-01T02:39:42.761250372Z\""));
	if (r < 0)
		return r;
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	p = sb->buf + sb->len;
	*p++ = '"';
	fmt_2digits(p, y / 100);
	fmt_2digits(p + 2, y % 100);
	p[4] = '-';
	fmt_2digits(p + 5, m);
	p[7] = '-';
	fmt_2digits(p + 8, d);
	p[10] = 'T';
	fmt_2digits(p + 11, (unsigned)(rem / 3600));
	p[13] = ':';
	fmt_2digits(p + 14, (unsigned)(rem / 60 % 60));
	p[16] = ':';
	fmt_2digits(p + 17, (unsigned)(rem % 60));
	p = fmt_nanos(p + 19, (uint32_t)nanos);
	*p++ = 'Z';
	*p++ = '"';
	sb->len = (size_t)(p - sb->buf);
	return 0;
}

/* "1.500s", "-0.000000001s": seconds and nanos share the sign. */
static int put_duration(struct sbuf *sb, const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *fs = msg->descriptor->fields;
	int64_t secs = CMEMBER(int64_t, msg, fs[0].offset);
	int32_t nanos = CMEMBER(int32_t, msg, fs[1].offset);
	char *p;
	int r;

	if (secs < -DURATION_MAX_SECONDS || secs > DURATION_MAX_SECONDS ||
	    nanos <= -NANOS_PER_SECOND || nanos >= NANOS_PER_SECOND || (secs > 0 && nanos < 0) ||
	    (secs < 0 && nanos > 0))
		return -EINVAL;
	r = reserve(sb, 32);
	if (r < 0)
		return r;
	p = sb->buf + sb->len;
	*p++ = '"';
	if (secs < 0 || nanos < 0)
		*p++ = '-';
	p += fmt_u64(p, (uint64_t)(secs < 0 ? -secs : secs));
	p = fmt_nanos(p, (uint32_t)(nanos < 0 ? -nanos : nanos));
	*p++ = 's';
	*p++ = '"';
	sb->len = (size_t)(p - sb->buf);
	return 0;
}

/*
 * A field mask path prints in lowerCamelCase, which protojson allows only when the path is
 * a valid dotted name that converts back unchanged: lower case, each '_' before a letter.
 */
static bool camel_convertible(const char *s)
{
	bool start = true;

	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return false;
			start = true;
			continue;
		}
		if (*s == '_' ? !(s[1] >= 'a' && s[1] <= 'z') :
				!((*s >= 'a' && *s <= 'z') || (!start && *s >= '0' && *s <= '9')))
			return false;
		start = false;
	}
	return !start;
}

static int put_field_mask(struct sbuf *sb, const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
	size_t n = CMEMBER(size_t, msg, f->quantifier_offset), total = 2 + n;
	char *const *paths = CMEMBER(char **, msg, f->offset);
	char *p;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!paths[i] || !camel_convertible(paths[i]))
			return -EINVAL;
		total += strlen(paths[i]);
	}
	r = reserve(sb, total);
	if (r < 0)
		return r;
	p = sb->buf + sb->len;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		for (const char *s = paths[i]; *s; s++) {
			if (*s == '_')
				*p++ = (char)(*++s - 'a' + 'A');
			else
				*p++ = *s;
		}
	}
	*p++ = '"';
	sb->len = (size_t)(p - sb->buf);
	return 0;
}

/* {"@type": url, fields...}, or {"@type": url, "value": ...} for a well-known type. */
static int put_any(struct sbuf *sb, const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *fs = msg->descriptor->fields;
	const char *url = CMEMBER(char *, msg, fs[0].offset);
	const ProtobufCBinaryData *value = &CMEMBER(ProtobufCBinaryData, msg, fs[1].offset);
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *inner;
	int r;

	if (!url || !*url)
		return value->len ? -EINVAL : put_lit(sb, "{}");
	desc = resolve_type_url(url);
	if (!desc)
		return -EINVAL;
	inner = protobuf_c_message_unpack(desc, NULL, value->len, value->data);
	if (!inner)
		return -EINVAL;
	r = put_lit(sb, "{\"@type\":");
	if (r == 0)
		r = put_cstring(sb, url);
	if (r == 0 && wkt_kind(desc) != WKT_NONE) {
		r = put_lit(sb, ",\"value\":");
		if (r == 0)
			r = put_message(sb, inner, desc);
	} else if (r == 0) {
		r = put_fields(sb, inner, false);
	}
	if (r == 0)
		r = put_lit(sb, "}");
	protobuf_c_message_free_unpacked(inner, NULL);
	return r;
}

static int put_fields(struct sbuf *sb, const ProtobufCMessage *msg, bool first)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	int r;

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const void *member = (const char *)msg + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = CMEMBER(size_t, msg, f->quantifier_offset);
			const void *arr = *(void *const *)member;

			if (n == 0)
				continue;
			r = put_key(sb, &first, f->name);
			if (r == 0 && f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_field(desc, f))
				r = put_map(sb, f, arr, n);
			else if (r == 0)
				r = put_repeated(sb, f, arr, n);
		} else {
			if (!is_present(msg, f))
				continue;
			r = put_key(sb, &first, f->name);
			if (r == 0)
				r = put_value(sb, f, member);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* msg may be NULL (a map value, an array element): that prints as the empty message. */
static int put_message(struct sbuf *sb, const ProtobufCMessage *msg,
		       const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *empty;
	int r;

	if (!msg) {
		empty = malloc(desc->sizeof_message);
		if (!empty)
			return -ENOMEM;
		desc->message_init(empty);
		r = put_message(sb, empty, desc);
		free(empty);
		return r;
	}
	switch (wkt_kind(msg->descriptor)) {
	case WKT_TIMESTAMP:
		return put_timestamp(sb, msg);
	case WKT_DURATION:
		return put_duration(sb, msg);
	case WKT_FIELD_MASK:
		return put_field_mask(sb, msg);
	case WKT_ANY:
		return put_any(sb, msg);
	case WKT_WRAPPER:
		return put_value(sb, &msg->descriptor->fields[0],
				 (const char *)msg + msg->descriptor->fields[0].offset);
	case WKT_NONE:
		break;
	}
	r = put_lit(sb, "{");
	if (r == 0)
		r = put_fields(sb, msg, true);
	return r < 0 ? r : put_lit(sb, "}");
}

int pbjson_encode(const ProtobufCMessage *msg, struct sbuf *out, unsigned flags)
{
	size_t len = out->len;
	bool oom = out->oom;
	int r;

	if (!msg || flags)
		return -EINVAL;
	r = put_message(out, msg, msg->descriptor);
	if (r < 0) {
		out->len = len;
		out->oom = oom;
	}
	/* Every reserve() kept room for the NUL. */
	if (out->buf)
		out->buf[out->len] = '\0';
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Decoder: errors and the path to the current value
 */

struct dec {
	unsigned flags;
	unsigned depth;
	bool ints_as_reals;
	char *err;
	size_t errlen;
	size_t pathlen;
	char path[256];
};

static int _printf_(3, 4) fail(struct dec *d, int r, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (d->errlen == 0)
		return r;
	if (d->pathlen)
		n = snprintf(d->err, d->errlen, "at '%s': ", d->path);
	if (n >= 0 && (size_t)n < d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* "expected <what>, got <the value as JSON, shortened>" */
static int fail_got(struct dec *d, int r, const char *what, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	size_t n;

	if (!s)
		return fail(d, r, "expected %s", what);
	n = strlen(s);
	r = fail(d, r, "expected %s, got %.*s%s", what, (int)MIN(n, 60), s, n > 60 ? "..." : "");
	free(s);
	return r;
}

static int fail_oom(struct dec *d)
{
	return fail(d, -ENOMEM, "out of memory");
}

/* Appends to the path (cut at its size) and returns the length to restore. */
static size_t _printf_(2, 3) path_push(struct dec *d, const char *fmt, ...)
{
	size_t old = d->pathlen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->path + old, sizeof(d->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->pathlen = MIN(old + (size_t)n, sizeof(d->path) - 1);
	return old;
}

static void path_pop(struct dec *d, size_t old)
{
	d->pathlen = old;
	d->path[old] = '\0';
}

/* ---------------------------------------------------------------------------------------
 * Decoder: scalars
 */

static const char *expected(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return "a signed 32-bit integer";
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return "an unsigned 32-bit integer";
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return "a signed 64-bit integer";
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return "an unsigned 64-bit integer";
	case PROTOBUF_C_TYPE_FLOAT:
		return "a 32-bit float";
	case PROTOBUF_C_TYPE_DOUBLE:
		return "a 64-bit float";
	case PROTOBUF_C_TYPE_BOOL:
		return "a boolean";
	case PROTOBUF_C_TYPE_ENUM:
		return "an enum value name or number";
	case PROTOBUF_C_TYPE_STRING:
		return "a string";
	case PROTOBUF_C_TYPE_BYTES:
		return "a base64 string";
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
	return "an object";
}

/* A JSON number literal, taken apart: [-] int [. frac] [e exp]. */
struct num_lit {
	bool neg;
	const char *ip, *fp;
	size_t ni, nf;
	long exp;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool parse_num_lit(const char *s, size_t n, struct num_lit *nl)
{
	size_t i = 0;
	bool eneg = false;

	memset(nl, 0, sizeof(*nl));
	if (i < n && s[i] == '-') {
		nl->neg = true;
		i++;
	}
	nl->ip = s + i;
	if (i < n && s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	nl->ni = (size_t)(s + i - nl->ip);
	if (nl->ni == 0)
		return false;
	if (i < n && s[i] == '.') {
		nl->fp = s + ++i;
		while (i < n && is_digit(s[i]))
			i++;
		nl->nf = (size_t)(s + i - nl->fp);
		if (nl->nf == 0)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i == n || !is_digit(s[i]))
			return false;
		/* Saturate: anything this large is out of every range anyway. */
		for (; i < n && is_digit(s[i]); i++)
			nl->exp = MIN(nl->exp * 10 + (s[i] - '0'), 100000L);
		if (eneg)
			nl->exp = -nl->exp;
	}
	return i == n;
}

/* The exact integer a literal denotes: -EINVAL if it has a fraction, -ERANGE past 64 bits. */
static int num_lit_to_u64(const struct num_lit *nl, uint64_t *mag)
{
#define DIGIT(k) ((k) < nl->ni ? nl->ip[k] : nl->fp[(k)-nl->ni])
	size_t first = 0, last = nl->ni + nl->nf;
	long scale = nl->exp - (long)nl->nf;
	uint64_t v = 0;

	while (first < last && DIGIT(first) == '0')
		first++;
	while (last > first && DIGIT(last - 1) == '0') {
		last--;
		scale++;
	}
	if (first < last && scale < 0)
		return -EINVAL;
	if (first < last && (long)(last - first) + scale > 20)
		return -ERANGE;
	for (size_t k = first; k < last; k++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, DIGIT(k) - '0', &v))
			return -ERANGE;
	for (; first < last && scale > 0; scale--)
		if (__builtin_mul_overflow(v, 10, &v))
			return -ERANGE;
	*mag = v;
	return 0;
#undef DIGIT
}

/* An integer from a JSON number, or from a string holding a JSON number, as protojson takes. */
static int json_to_int(const json_t *v, bool *neg, uint64_t *mag)
{
	struct num_lit nl;
	json_int_t i;
	double x;

	if (json_is_integer(v)) {
		i = json_integer_value(v);
		*neg = i < 0;
		*mag = i < 0 ? -(uint64_t)i : (uint64_t)i;
		return 0;
	}
	if (json_is_real(v)) {
		x = json_real_value(v);
		if (x != floor(x))
			return -EINVAL;
		if (fabs(x) >= 0x1p64)
			return -ERANGE;
		*neg = x < 0;
		*mag = (uint64_t)fabs(x);
		return 0;
	}
	if (json_is_string(v) && parse_num_lit(json_string_value(v), json_string_length(v), &nl)) {
		*neg = nl.neg;
		return num_lit_to_u64(&nl, mag);
	}
	return -EINVAL;
}

/* Stores a sign and magnitude into an integer slot of the given type, if in range. */
static int store_int(ProtobufCType type, bool neg, uint64_t mag, void *slot)
{
	/* mag - 1 first, so that INT64_MIN does not overflow; -0 stays 0. */
	int64_t s = neg ? -(int64_t)(mag - 1) - 1 : 0;

	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		if (mag > (neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX))
			return -ERANGE;
		*(int32_t *)slot = neg ? (int32_t)s : (int32_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
			return -ERANGE;
		*(int64_t *)slot = neg ? s : (int64_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((neg && mag) || mag > UINT32_MAX)
			return -ERANGE;
		*(uint32_t *)slot = (uint32_t)mag;
		return 0;
	default:
		if (neg && mag)
			return -ERANGE;
		*(uint64_t *)slot = mag;
		return 0;
	}
}

static int decode_int(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v, void *slot)
{
	uint64_t mag;
	bool neg;
	int r;

	/* See pbjson_decode(): such a number may have been rounded by jansson. */
	if (d->ints_as_reals && json_is_real(v) && fabs(json_real_value(v)) >= 0x1p53)
		return fail(d, -ERANGE,
			    "expected %s, got a bare number too large to read exactly (quote it)",
			    expected(f->type));
	r = json_to_int(v, &neg, &mag);
	if (r == 0)
		r = store_int(f->type, neg, mag, slot);
	return r < 0 ? fail_got(d, r, expected(f->type), v) : 0;
}

/* strtod()/strtof() in the C locale: JSON's decimal point is '.' whatever LC_NUMERIC says. */
static int strto_c(const char *s, bool single, double *ret)
{
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);

	if (c == (locale_t)0)
		return -ENOMEM;
	*ret = single ? strtof_l(s, NULL, c) : strtod_l(s, NULL, c);
	freelocale(c);
	return 0;
}

static int decode_float(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v,
			void *slot)
{
	bool single = f->type == PROTOBUF_C_TYPE_FLOAT;
	const char *s;
	struct num_lit nl;
	double x;
	int r;

	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (!json_is_string(v)) {
		return fail_got(d, -EINVAL, expected(f->type), v);
	} else if (streq((s = json_string_value(v)), "NaN")) {
		x = NAN;
	} else if (streq(s, "Infinity")) {
		x = INFINITY;
	} else if (streq(s, "-Infinity")) {
		x = -INFINITY;
	} else if (!parse_num_lit(s, json_string_length(v), &nl)) {
		return fail_got(d, -EINVAL, expected(f->type), v);
	} else {
		r = strto_c(s, single, &x);
		if (r < 0)
			return fail_oom(d);
		if (isinf(x))
			return fail_got(d, -ERANGE, expected(f->type), v);
	}
	if (!single) {
		*(double *)slot = x;
		return 0;
	}
	if (isinf((float)x) && !isinf(x))
		return fail_got(d, -ERANGE, expected(f->type), v);
	*(float *)slot = (float)x;
	return 0;
}

/* Standard or URL-safe base64, padded or not, as protojson reads bytes. */
static int decode_base64(const char *s, size_t n, ProtobufCBinaryData *bd)
{
	size_t pad = 0, cap;
	ssize_t len;
	uint8_t *buf;

	while (pad < n && s[n - 1 - pad] == '=')
		pad++;
	/* Padding completes a group of four; one character alone never encodes a byte. */
	if (pad > 2 || (pad && n % 4) || (n - pad) % 4 == 1)
		return -EINVAL;
	if (n == 0)
		return 0;
	cap = (n - pad) / 4 * 3 + 2;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	len = base64_decode(s, n, buf, cap);
	if (len < 0) {
		free(buf);
		return -EINVAL;
	}
	bd->data = buf;
	bd->len = (size_t)len;
	return 0;
}

static int decode_message(struct dec *d, const ProtobufCMessageDescriptor *desc, json_t *v,
			  ProtobufCMessage **ret);

/*
 * One value of field f into slot (the member, an array element or a map entry member):
 * returns 0, SKIPPED for an enum name discarded under PBJSON_DISCARD_UNKNOWN, or a negative
 * errno with the error message set. Strings, bytes and messages are allocated.
 */
static int decode_value(struct dec *d, const ProtobufCFieldDescriptor *f, json_t *v, void *slot)
{
	const ProtobufCEnumValue *ev;
	const char *s;
	char *copy;
	int r;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return decode_float(d, f, v, slot);
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail_got(d, -EINVAL, expected(f->type), v);
		*(protobuf_c_boolean *)slot = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		if (!json_is_string(v))
			return decode_int(d, f, v, slot);
		s = json_string_value(v);
		ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, s);
		if (ev) {
			*(int *)slot = ev->value;
			return 0;
		}
		if (d->flags & PBJSON_DISCARD_UNKNOWN)
			return SKIPPED;
		return fail(d, -EINVAL, "unknown value \"%s\" for enum %s", s,
			    ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return fail_got(d, -EINVAL, expected(f->type), v);
		copy = strdup(json_string_value(v));
		if (!copy)
			return fail_oom(d);
		*(char **)slot = copy;
		return 0;
	case PROTOBUF_C_TYPE_BYTES:
		if (!json_is_string(v))
			return fail_got(d, -EINVAL, expected(f->type), v);
		r = decode_base64(json_string_value(v), json_string_length(v), slot);
		if (r == -ENOMEM)
			return fail_oom(d);
		return r < 0 ? fail_got(d, r, expected(f->type), v) : 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return decode_message(d, f->descriptor, v, slot);
	default:
		return decode_int(d, f, v, slot);
	}
}

/* Map keys are JSON strings: the text itself, "true"/"false", or a decimal integer. */
static int decode_map_key(struct dec *d, const ProtobufCFieldDescriptor *kf, const char *key,
			  void *slot)
{
	struct num_lit nl;
	uint64_t mag;
	char *copy;
	int r = -EINVAL;

	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING:
		copy = strdup(key);
		if (!copy)
			return fail_oom(d);
		*(char **)slot = copy;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!streq(key, "true") && !streq(key, "false"))
			return fail(d, -EINVAL, "expected a boolean map key, got \"%s\"", key);
		*(protobuf_c_boolean *)slot = streq(key, "true");
		return 0;
	default:
		if (parse_num_lit(key, strlen(key), &nl) && !nl.nf && !nl.exp)
			r = num_lit_to_u64(&nl, &mag);
		if (r == 0)
			r = store_int(kf->type, nl.neg, mag, slot);
		if (r < 0)
			return fail(d, r, "expected %s map key, got \"%s\"", expected(kf->type),
				    key);
		return 0;
	}
}

/* ---------------------------------------------------------------------------------------
 * Decoder: fields and messages
 */

/* After a singular field's value is stored: select it in its oneof, or set its has_. */
static void mark_present(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		MEMBER(uint32_t, msg, f->quantifier_offset) = f->id;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_pointer_type(f->type))
		MEMBER(protobuf_c_boolean, msg, f->quantifier_offset) = 1;
}

/*
 * The array is attached before it is filled and n_ counts the elements filled, so that on
 * failure protobuf_c_message_free_unpacked() releases exactly what was allocated.
 */
static int decode_repeated(struct dec *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
			   json_t *v)
{
	size_t n, size = slot_size(f->type), *count;
	char *arr;
	int r;

	if (!json_is_array(v))
		return fail_got(d, -EINVAL, "an array", v);
	n = json_array_size(v);
	if (n == 0)
		return 0;
	arr = calloc(n, size);
	if (!arr)
		return fail_oom(d);
	MEMBER(void *, msg, f->offset) = arr;
	count = &MEMBER(size_t, msg, f->quantifier_offset);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i);
		size_t old = path_push(d, "[%zu]", i);

		if (json_is_null(e))
			return fail(d, -EINVAL, "null is not allowed in an array");
		r = decode_value(d, f, e, arr + *count * size);
		if (r < 0)
			return r;
		if (r != SKIPPED)
			(*count)++;
		path_pop(d, old);
	}
	return 0;
}

static int decode_map(struct dec *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
		      json_t *v)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	ProtobufCMessage **arr, *entry;
	const char *key;
	size_t *count;
	json_t *e;
	int r;

	if (!json_is_object(v))
		return fail_got(d, -EINVAL, "an object", v);
	if (json_object_size(v) == 0)
		return 0;
	arr = calloc(json_object_size(v), sizeof(*arr));
	if (!arr)
		return fail_oom(d);
	MEMBER(void *, msg, f->offset) = arr;
	count = &MEMBER(size_t, msg, f->quantifier_offset);
	json_object_foreach(v, key, e)
	{
		size_t old = path_push(d, "[\"%s\"]", key);

		if (json_is_null(e))
			return fail(d, -EINVAL, "null is not allowed as a map value");
		entry = malloc(ed->sizeof_message);
		if (!entry)
			return fail_oom(d);
		ed->message_init(entry);
		arr[(*count)++] = entry;
		r = decode_map_key(d, kf, key, (char *)entry + kf->offset);
		if (r < 0)
			return r;
		mark_present(entry, kf);
		r = decode_value(d, vf, e, (char *)entry + vf->offset);
		if (r < 0)
			return r;
		if (r == SKIPPED)
			protobuf_c_message_free_unpacked(arr[--(*count)], NULL);
		else
			mark_present(entry, vf);
		path_pop(d, old);
	}
	return 0;
}

static int decode_field(struct dec *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
			json_t *v)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	uint32_t other;
	int r;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_field(desc, f))
			return decode_map(d, msg, f, v);
		return decode_repeated(d, msg, f, v);
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		other = MEMBER(uint32_t, msg, f->quantifier_offset);
		if (other)
			return fail(d, -EINVAL, "'%s' of the same oneof is already set",
				    protobuf_c_message_descriptor_get_field(desc, other)->name);
	}
	r = decode_value(d, f, v, (char *)msg + f->offset);
	if (r < 0)
		return r;
	if (r != SKIPPED)
		mark_present(msg, f);
	return 0;
}

/* Whether key is the lowerCamelCase name protoc derives from a field name (exec_id: execId). */
static bool is_json_name(const char *name, const char *key)
{
	bool upper = false;

	for (; *name; name++) {
		char c = *name;

		if (c == '_') {
			upper = true;
			continue;
		}
		if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		upper = false;
		if (*key++ != c)
			return false;
	}
	return *key == '\0';
}

/* The object's members into msg; in_any skips the "@type" of an Any's embedded message. */
static int decode_fields(struct dec *d, json_t *obj, ProtobufCMessage *msg, bool in_any)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	const ProtobufCFieldDescriptor *f;
	const char *key;
	json_t *v;
	int r;

	json_object_foreach(obj, key, v)
	{
		size_t old;

		f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
		for (unsigned i = 0; !f && i < desc->n_fields; i++) {
			if (!is_json_name(desc->fields[i].name, key))
				continue;
			f = &desc->fields[i];
			/* Duplicate keys are jansson's to reject; both spellings are ours. */
			if (json_object_get(obj, f->name))
				return fail(d, -EINVAL,
					    "field '%s' is given twice, as \"%s\" and \"%s\"",
					    f->name, f->name, key);
		}
		if (!f) {
			if ((in_any && streq(key, "@type")) || (d->flags & PBJSON_DISCARD_UNKNOWN))
				continue;
			return fail(d, -EINVAL, "unknown field \"%s\" in %s", key, desc->name);
		}
		if (json_is_null(v))
			continue;
		old = path_push(d, "%s%s", d->pathlen ? "." : "", f->name);
		r = decode_field(d, msg, f, v);
		if (r < 0)
			return r;
		path_pop(d, old);
	}
	return 0;
}

/* YYYY-MM-DDTHH:MM:SS[.fraction]Z or with an offset +HH:MM, as RFC 3339 and protojson want. */
static int parse_timestamp(const char *s, int64_t *secs, int32_t *nanos)
{
	unsigned v[8] = { 0 }, frac = 0;
	/* year month day hour minute second, then the offset's hours and minutes */
	static const struct {
		unsigned char width, sep;
	} parts[] = { { 4, '-' }, { 2, '-' }, { 2, 'T' }, { 2, ':' }, { 2, ':' }, { 2, 0 } };
	int digits = 0, sign = 0;
	int64_t t;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		for (unsigned k = 0; k < parts[i].width; k++, s++) {
			if (!is_digit(*s))
				return -EINVAL;
			v[i] = v[i] * 10 + (unsigned)(*s - '0');
		}
		if (parts[i].sep && *s++ != parts[i].sep)
			return -EINVAL;
	}
	if (*s == '.') {
		for (s++; is_digit(*s); s++, digits++) {
			if (digits == 9)
				return -EINVAL;
			frac = frac * 10 + (unsigned)(*s - '0');
		}
		if (digits == 0)
			return -EINVAL;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' || !is_digit(s[3]) ||
		    !is_digit(s[4]))
			return -EINVAL;
		v[6] = (unsigned)((s[0] - '0') * 10 + s[1] - '0');
		v[7] = (unsigned)((s[3] - '0') * 10 + s[4] - '0');
		s += 5;
	} else if (*s++ != 'Z') {
		return -EINVAL;
	}
	if (*s || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > days_in_month(v[0], v[1]) ||
	    v[3] > 23 || v[4] > 59 || v[5] > 59 || v[6] > 23 || v[7] > 59)
		return -EINVAL;
	t = days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	t -= sign * (int64_t)(v[6] * 3600 + v[7] * 60);
	if (t < TIMESTAMP_MIN_SECONDS || t > TIMESTAMP_MAX_SECONDS)
		return -EINVAL;
	*secs = t;
	*nanos = (int32_t)frac;
	return 0;
}

/* [-]seconds[.fraction]s, the fraction at most 9 digits. */
static int parse_duration_json(const char *s, int64_t *secs, int32_t *nanos)
{
	bool neg = *s == '-';
	int64_t v = 0;
	int32_t frac = 0;
	int digits = 0;

	s += neg;
	if (!is_digit(*s) || (s[0] == '0' && is_digit(s[1])))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > DURATION_MAX_SECONDS)
			return -EINVAL;
	}
	if (*s == '.') {
		for (s++; is_digit(*s); s++, digits++) {
			if (digits == 9)
				return -EINVAL;
			frac = frac * 10 + (*s - '0');
		}
		if (digits == 0)
			return -EINVAL;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (s[0] != 's' || s[1])
		return -EINVAL;
	*secs = neg ? -v : v;
	*nanos = neg ? -frac : frac;
	return 0;
}

static int decode_seconds_nanos(struct dec *d, json_t *v, ProtobufCMessage *msg,
				int (*parse)(const char *, int64_t *, int32_t *), const char *what)
{
	const ProtobufCFieldDescriptor *fs = msg->descriptor->fields;
	int64_t secs;
	int32_t nanos;

	if (!json_is_string(v) || parse(json_string_value(v), &secs, &nanos) < 0)
		return fail_got(d, -EINVAL, what, v);
	MEMBER(int64_t, msg, fs[0].offset) = secs;
	MEMBER(int32_t, msg, fs[1].offset) = nanos;
	return 0;
}

/* A path in JSON is lowerCamelCase: dotted names of letters and digits, no '_'. */
static bool is_camel_path(const char *s, size_t n)
{
	bool start = true;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (start)
				return false;
			start = true;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (!start && is_digit(s[i]))))
			return false;
		start = false;
	}
	return !start;
}

/* The stored form: snake_case (processExec.nodeName: process_exec.node_name). */
static char *snake_path(const char *s, size_t n)
{
	size_t upper = 0;
	char *ret, *p;

	for (size_t i = 0; i < n; i++)
		upper += s[i] >= 'A' && s[i] <= 'Z';
	p = ret = malloc(n + upper + 1);
	if (!ret)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z') {
			*p++ = '_';
			*p++ = (char)(s[i] - 'A' + 'a');
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return ret;
}

static int decode_field_mask(struct dec *d, json_t *v, ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
	const char *s, *end;
	size_t n = 1, *count;
	char **paths;

	if (!json_is_string(v))
		return fail_got(d, -EINVAL, "a string of comma-separated paths", v);
	s = json_string_value(v);
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	paths = calloc(n, sizeof(*paths));
	if (!paths)
		return fail_oom(d);
	MEMBER(char **, msg, f->offset) = paths;
	count = &MEMBER(size_t, msg, f->quantifier_offset);
	for (;; s = end + 1) {
		end = strchrnul(s, ',');
		if (!is_camel_path(s, (size_t)(end - s)))
			return fail(d, -EINVAL, "invalid field mask path \"%.*s\"", (int)(end - s),
				    s);
		paths[*count] = snake_path(s, (size_t)(end - s));
		if (!paths[*count])
			return fail_oom(d);
		(*count)++;
		if (!*end)
			return 0;
	}
}

/*
 * {"@type": url, fields...}: the fields are those of the type url names, which must have
 * been registered; a well-known type comes as {"@type": url, "value": ...} instead. The
 * message is packed into the Any's value.
 */
static int decode_any(struct dec *d, json_t *v, ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *fs = msg->descriptor->fields;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *inner;
	ProtobufCBinaryData *value;
	json_t *type, *e;
	const char *key;
	char *url;
	size_t old;
	int r;

	if (json_object_size(v) == 0)
		return 0;
	type = json_object_get(v, "@type");
	if (!type)
		return fail(d, -EINVAL, "missing \"@type\" in google.protobuf.Any");
	if (!json_is_string(type))
		return fail_got(d, -EINVAL, "a type URL string in \"@type\"", type);
	desc = resolve_type_url(json_string_value(type));
	if (!desc)
		return fail(d, -EINVAL, "unknown type \"%s\" in google.protobuf.Any",
			    json_string_value(type));
	if (wkt_kind(desc) == WKT_NONE) {
		inner = malloc(desc->sizeof_message);
		if (!inner)
			return fail_oom(d);
		desc->message_init(inner);
		r = decode_fields(d, v, inner, true);
		if (r < 0) {
			protobuf_c_message_free_unpacked(inner, NULL);
			return r;
		}
	} else {
		json_object_foreach(v, key, e)
		{
			if (!streq(key, "@type") && !streq(key, "value") &&
			    !(d->flags & PBJSON_DISCARD_UNKNOWN))
				return fail(d, -EINVAL,
					    "unknown field \"%s\" in google.protobuf.Any", key);
		}
		e = json_object_get(v, "value");
		if (!e)
			return fail(d, -EINVAL, "missing \"value\" in google.protobuf.Any of %s",
				    desc->name);
		old = path_push(d, "%svalue", d->pathlen ? "." : "");
		r = decode_message(d, desc, e, &inner);
		if (r < 0)
			return r;
		path_pop(d, old);
	}
	url = strdup(json_string_value(type));
	value = &MEMBER(ProtobufCBinaryData, msg, fs[1].offset);
	value->len = protobuf_c_message_get_packed_size(inner);
	value->data = value->len ? malloc(value->len) : NULL;
	if (!url || (value->len && !value->data)) {
		free(url);
		protobuf_c_message_free_unpacked(inner, NULL);
		return fail_oom(d);
	}
	MEMBER(char *, msg, fs[0].offset) = url;
	protobuf_c_message_pack(inner, value->data);
	protobuf_c_message_free_unpacked(inner, NULL);
	return 0;
}

/* On success *ret owns a new message; on failure nothing is left allocated. */
static int decode_message(struct dec *d, const ProtobufCMessageDescriptor *desc, json_t *v,
			  ProtobufCMessage **ret)
{
	enum wkt kind = wkt_kind(desc);
	ProtobufCMessage *msg;
	int r;

	if ((kind == WKT_NONE || kind == WKT_ANY) && !json_is_object(v))
		return fail_got(d, -EINVAL, expected(PROTOBUF_C_TYPE_MESSAGE), v);
	if (d->depth == DECODE_MAX_DEPTH)
		return fail(d, -EINVAL, "messages nested deeper than %d", DECODE_MAX_DEPTH);
	msg = malloc(desc->sizeof_message);
	if (!msg)
		return fail_oom(d);
	desc->message_init(msg);
	d->depth++;
	switch (kind) {
	case WKT_TIMESTAMP:
		r = decode_seconds_nanos(d, v, msg, parse_timestamp, "an RFC 3339 timestamp");
		break;
	case WKT_DURATION:
		r = decode_seconds_nanos(d, v, msg, parse_duration_json,
					 "a duration like \"1.5s\"");
		break;
	case WKT_FIELD_MASK:
		r = decode_field_mask(d, v, msg);
		break;
	case WKT_ANY:
		r = decode_any(d, v, msg);
		break;
	case WKT_WRAPPER:
		r = decode_value(d, &desc->fields[0], v, (char *)msg + desc->fields[0].offset);
		break;
	default:
		r = decode_fields(d, v, msg, false);
		break;
	}
	d->depth--;
	if (r < 0) {
		protobuf_c_message_free_unpacked(msg, NULL);
		return r;
	}
	*ret = msg;
	return 0;
}

int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
		  unsigned flags, ProtobufCMessage **ret, char *err, size_t errlen)
{
	struct dec d = { .flags = flags, .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	int r;

	if (errlen)
		err[0] = '\0';
	if (flags & ~PBJSON_DISCARD_UNKNOWN)
		return fail(&d, -EINVAL, "unknown flags 0x%x", flags);
	root = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	/*
	 * jansson refuses integer literals beyond 64 bits, and protojson prints doubles from 2^63
	 * up to 1e21 as such literals ("100000000000000000000"). Read the document again with
	 * every number as a double; decode_int() then refuses integers that may have been rounded.
	 */
	if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
		d.ints_as_reals = true;
		root = json_loadb(
			json, len,
			JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	}
	if (!root)
		return fail(&d,
			    json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL,
			    "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
	r = decode_message(&d, desc, root, ret);
	json_decref(root);
	return r;
}
