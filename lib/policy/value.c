// SPDX-License-Identifier: Apache-2.0
/* Which operator fits which argument type, and what the values of a filter mean. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "lib/policy/internal.h"

static bool is_int(enum policy_arg_type t)
{
	return t >= POLICY_ARG_INT8 && t <= POLICY_ARG_SIZE_T;
}

static bool is_kernel_caps(enum policy_arg_type t)
{
	return t == POLICY_ARG_KERNEL_CAP_T || t == POLICY_ARG_CAP_INHERITABLE ||
	       t == POLICY_ARG_CAP_PERMITTED || t == POLICY_ARG_CAP_EFFECTIVE;
}

/* Numbers in the kernel, possibly written with names. */
static bool is_int_like(enum policy_arg_type t)
{
	return is_int(t) || t == POLICY_ARG_CAPABILITY || t == POLICY_ARG_BPF_CMD ||
	       t == POLICY_ARG_SYSCALL64;
}

/* Compared as strings: the types Equal uses the string maps for, and filename. */
static bool is_string(enum policy_arg_type t)
{
	switch (t) {
	case POLICY_ARG_STRING:
	case POLICY_ARG_CHAR_BUF:
	case POLICY_ARG_DATA_LOC:
	case POLICY_ARG_FILENAME:
	case POLICY_ARG_FD:
	case POLICY_ARG_FILE:
	case POLICY_ARG_PATH:
	case POLICY_ARG_DENTRY:
	case POLICY_ARG_KIOCB:
	case POLICY_ARG_LINUX_BINPRM:
	case POLICY_ARG_NET_DEVICE:
	case POLICY_ARG_SOCKADDR_UN:
		return true;
	default:
		return false;
	}
}

static bool is_sock(enum policy_arg_type t)
{
	return t == POLICY_ARG_SOCK || t == POLICY_ARG_SOCKET || t == POLICY_ARG_SKB;
}

bool policy_operator_supports(enum policy_operator op, enum policy_arg_type t)
{
	if (op == POLICY_OP_INVALID || op == POLICY_OP_IN || op == POLICY_OP_NOT_IN ||
	    op >= POLICY_OP_MAX || !policy_operator_name(op))
		return false;
	if (t == POLICY_ARG_AUTO)
		return true;
	switch (op) {
	case POLICY_OP_EQUAL:
	case POLICY_OP_NOT_EQUAL:
		return is_int_like(t) || is_kernel_caps(t) || is_string(t);
	case POLICY_OP_GT:
	case POLICY_OP_LT:
	case POLICY_OP_IN_RANGE:
	case POLICY_OP_NOT_IN_RANGE:
		return is_int(t);
	case POLICY_OP_MASK:
		return is_int(t) || is_kernel_caps(t);
	case POLICY_OP_IN_MAP:
	case POLICY_OP_NOT_IN_MAP:
		return is_int_like(t);
	case POLICY_OP_PREFIX:
	case POLICY_OP_NOT_PREFIX:
	case POLICY_OP_POSTFIX:
	case POLICY_OP_NOT_POSTFIX:
	case POLICY_OP_SUBSTRING:
	case POLICY_OP_SUBSTRING_IGN_CASE:
		return is_string(t);
	case POLICY_OP_FAMILY:
		return is_sock(t) || t == POLICY_ARG_SOCKADDR || t == POLICY_ARG_SOCKADDR_UN;
	case POLICY_OP_SADDR:
	case POLICY_OP_NOT_SADDR:
	case POLICY_OP_SPORT:
	case POLICY_OP_NOT_SPORT:
	case POLICY_OP_SPORT_PRIV:
	case POLICY_OP_NOT_SPORT_PRIV:
		return is_sock(t) || t == POLICY_ARG_SOCKADDR;
	case POLICY_OP_DADDR:
	case POLICY_OP_NOT_DADDR:
	case POLICY_OP_DPORT:
	case POLICY_OP_NOT_DPORT:
	case POLICY_OP_DPORT_PRIV:
	case POLICY_OP_NOT_DPORT_PRIV:
	case POLICY_OP_PROTOCOL:
		return is_sock(t);
	case POLICY_OP_STATE:
		return t == POLICY_ARG_SOCK || t == POLICY_ARG_SOCKET;
	case POLICY_OP_CAPABILITIES_GAINED:
		return is_kernel_caps(t);
	case POLICY_OP_CEL_EXPR:
		return is_int_like(t) || is_kernel_caps(t);
	case POLICY_OP_FILE_TYPE:
	case POLICY_OP_NOT_FILE_TYPE:
		return t == POLICY_ARG_FILE || t == POLICY_ARG_PATH || t == POLICY_ARG_DENTRY;
	default:
		return false;
	}
}

/* ---------------------------------------------------------------------------------------- */

static int fail(int err, char *why, size_t size, const char *fmt, ...) _printf_(4, 5);

static int fail(int err, char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return err;
}

/* The range of an integer type; *is_signed tells how to read min and max. */
static void int_bounds(enum policy_arg_type t, bool *is_signed, int64_t *min, uint64_t *max)
{
	*is_signed = true;
	*min = 0;
	switch (t) {
	case POLICY_ARG_INT8:
		*min = INT8_MIN;
		*max = INT8_MAX;
		break;
	case POLICY_ARG_INT16:
		*min = INT16_MIN;
		*max = INT16_MAX;
		break;
	case POLICY_ARG_INT32:
		*min = INT32_MIN;
		*max = INT32_MAX;
		break;
	case POLICY_ARG_INT64:
		*min = INT64_MIN;
		*max = INT64_MAX;
		break;
	case POLICY_ARG_UINT8:
		*is_signed = false;
		*max = UINT8_MAX;
		break;
	case POLICY_ARG_UINT16:
		*is_signed = false;
		*max = UINT16_MAX;
		break;
	case POLICY_ARG_UINT32:
		*is_signed = false;
		*max = UINT32_MAX;
		break;
	case POLICY_ARG_CAPABILITY:
		*is_signed = false;
		*max = 63;
		break;
	default:
		*is_signed = false;
		*max = UINT64_MAX;
		break;
	}
}

/* An integer of type t (auto: any 64-bit integer, signed when negative). */
static int typed_int(enum policy_arg_type t, const char *s, uint64_t *ret, char *why, size_t size)
{
	const char *tname = policy_arg_type_name(t);
	bool is_signed;
	int64_t min;
	uint64_t max;
	char q[80];
	int r;

	int_bounds(t, &is_signed, &min, &max);
	if (t == POLICY_ARG_AUTO)
		is_signed = s[0] == '-';
	r = policy_parse_int(s, is_signed, ret);
	if (r == -EINVAL)
		return fail(-EINVAL, why, size, "'%s' is not an integer",
			    policy_quote(s, q, sizeof(q)));
	if (t == POLICY_ARG_AUTO && r == 0)
		return 0;
	if (r < 0 ||
	    (is_signed ? (int64_t)*ret < min || (int64_t)*ret > (int64_t)max : *ret > max)) {
		if (is_signed)
			return fail(-ERANGE, why, size,
				    "value '%s' out of range for type '%s' (%lld..%lld)",
				    policy_quote(s, q, sizeof(q)), tname, (long long)min,
				    (long long)max);
		return fail(-ERANGE, why, size, "value '%s' out of range for type '%s' (0..%llu)",
			    policy_quote(s, q, sizeof(q)), tname, (unsigned long long)max);
	}
	return 0;
}

/* A capability set: a number (mask) or "CAP_A,CAP_B". */
static int caps_mask(const char *s, uint64_t *ret, char *why, size_t size)
{
	char name[64], q[80];
	uint64_t mask = 0;

	if (policy_parse_int(s, false, ret) == 0)
		return 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *p = s, *e = s + n;
		int cap;

		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) >= sizeof(name))
			return fail(-EINVAL, why, size, "unknown capability '%s'",
				    policy_quote(s, q, sizeof(q)));
		memcpy(name, p, (size_t)(e - p));
		name[e - p] = '\0';
		cap = policy_names_lookup(POLICY_TABLE_CAPABILITY, name, NULL, 0);
		if (cap < 0)
			return fail(-EINVAL, why, size, "unknown capability '%s'",
				    policy_quote(name, q, sizeof(q)));
		mask |= 1ull << cap;
		s += n;
		if (*s == ',')
			s++;
	}
	*ret = mask;
	return 0;
}

/* A number or, with a table, a name from it. */
static int number_or_name(enum policy_table table, const char *s, uint64_t max, uint64_t *ret,
			  char *why, size_t size)
{
	char q[80], hint[128] = "";
	int v;

	if (policy_parse_int(s, false, ret) == 0) {
		if (*ret > max)
			return fail(-ERANGE, why, size, "value '%s' out of range (0..%llu)",
				    policy_quote(s, q, sizeof(q)), (unsigned long long)max);
		return 0;
	}
	if (table == POLICY_TABLE_MAX)
		return fail(-EINVAL, why, size, "'%s' is not a number",
			    policy_quote(s, q, sizeof(q)));
	v = policy_names_lookup(table, s, hint, sizeof(hint));
	if (v < 0)
		return fail(-EINVAL, why, size, "unknown name '%s'%s",
			    policy_quote(s, q, sizeof(q)), hint);
	*ret = (uint64_t)v;
	return 0;
}

/* "N" or "MIN:MAX" where each side is a number or a name of table; bounds checked. */
static int named_range(enum policy_table table, const char *s, uint64_t max, struct policy_value *v,
		       char *why, size_t size)
{
	const char *colon = strchr(s, ':');
	char lo[128];
	int r;

	if (!colon) {
		v->kind = POLICY_VALUE_INT;
		r = number_or_name(table, s, max, &v->lo, why, size);
		v->hi = v->lo;
		return r;
	}
	if ((size_t)(colon - s) >= sizeof(lo))
		return fail(-EINVAL, why, size, "invalid range (expected MIN:MAX)");
	memcpy(lo, s, (size_t)(colon - s));
	lo[colon - s] = '\0';
	v->kind = POLICY_VALUE_RANGE;
	r = number_or_name(table, lo, max, &v->lo, why, size);
	if (r == 0)
		r = number_or_name(table, colon + 1, max, &v->hi, why, size);
	if (r == 0 && v->lo > v->hi)
		r = fail(-EINVAL, why, size, "empty range '%s' (min greater than max)", v->str);
	return r;
}

/* "N" or "MIN:MAX" of integers of type t. */
static int typed_range(enum policy_arg_type t, struct policy_value *v, char *why, size_t size)
{
	const char *s = v->str, *colon = strchr(s, ':');
	bool is_signed;
	int64_t min;
	uint64_t max;
	char lo[128], q[80];
	int r;

	if (!colon) {
		v->kind = POLICY_VALUE_RANGE;
		r = typed_int(t, s, &v->lo, why, size);
		v->hi = v->lo;
		return r;
	}
	if ((size_t)(colon - s) >= sizeof(lo))
		return fail(-EINVAL, why, size, "invalid range '%s' (expected MIN:MAX)",
			    policy_quote(s, q, sizeof(q)));
	memcpy(lo, s, (size_t)(colon - s));
	lo[colon - s] = '\0';
	v->kind = POLICY_VALUE_RANGE;
	r = typed_int(t, lo, &v->lo, why, size);
	if (r == 0)
		r = typed_int(t, colon + 1, &v->hi, why, size);
	if (r < 0)
		return r;
	int_bounds(t, &is_signed, &min, &max);
	if (t == POLICY_ARG_AUTO)
		is_signed = lo[0] == '-' || colon[1] == '-';
	if (is_signed ? (int64_t)v->lo > (int64_t)v->hi : v->lo > v->hi)
		return fail(-EINVAL, why, size, "empty range '%s' (min greater than max)",
			    policy_quote(s, q, sizeof(q)));
	return 0;
}

static int address(struct policy_value *v, char *why, size_t size)
{
	const char *slash = strchr(v->str, '/');
	char buf[INET6_ADDRSTRLEN + 1], q[80];
	size_t n = slash ? (size_t)(slash - v->str) : strlen(v->str);
	uint64_t prefix;

	v->kind = POLICY_VALUE_ADDR;
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, v->str, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, v->addr) == 1) {
		v->family = AF_INET;
		v->prefix_len = 32;
	} else if (inet_pton(AF_INET6, buf, v->addr) == 1) {
		v->family = AF_INET6;
		v->prefix_len = 128;
	} else {
		goto bad;
	}
	if (slash) {
		if (!isdigit((unsigned char)slash[1]) ||
		    policy_parse_int(slash + 1, false, &prefix) || prefix > v->prefix_len)
			goto bad;
		v->prefix_len = (uint8_t)prefix;
	}
	return 0;
bad:
	return fail(-EINVAL, why, size, "'%s' is not an IP address or CIDR",
		    policy_quote(v->str, q, sizeof(q)));
}

static int string_len(const struct policy_value *v, size_t min, size_t max, char *why, size_t size)
{
	size_t n = strlen(v->str);
	char q[80];

	if (n < min)
		return fail(-EINVAL, why, size, "empty value");
	if (n > max)
		return fail(-ERANGE, why, size, "value '%s' too long (%zu characters, at most %zu)",
			    policy_quote(v->str, q, sizeof(q)), n, max);
	return 0;
}

static int int_value(enum policy_arg_type t, struct policy_value *v, char *why, size_t size)
{
	char q[80];
	int r;

	v->kind = POLICY_VALUE_INT;
	if (is_kernel_caps(t))
		return caps_mask(v->str, &v->lo, why, size);
	if (t == POLICY_ARG_CAPABILITY && !isdigit((unsigned char)v->str[0])) {
		r = policy_names_lookup(POLICY_TABLE_CAPABILITY, v->str, NULL, 0);
		if (r < 0)
			return fail(-EINVAL, why, size, "unknown capability '%s'",
				    policy_quote(v->str, q, sizeof(q)));
		v->lo = (uint64_t)r;
		return 0;
	}
	if (t == POLICY_ARG_BPF_CMD && !isdigit((unsigned char)v->str[0])) {
		r = policy_names_lookup(POLICY_TABLE_BPF_CMD, v->str, NULL, 0);
		if (r < 0)
			return fail(-EINVAL, why, size, "unknown BPF command '%s'",
				    policy_quote(v->str, q, sizeof(q)));
		v->lo = (uint64_t)r;
		return 0;
	}
	if (t == POLICY_ARG_SYSCALL64 && !isdigit((unsigned char)v->str[0])) {
		/* A syscall name, possibly with its ABI ("i386/sys_dup"): resolved when compiled. */
		v->kind = POLICY_VALUE_STRING;
		return v->str[0] ? 0 : fail(-EINVAL, why, size, "empty value");
	}
	r = typed_int(t, v->str, &v->lo, why, size);
	v->hi = v->lo;
	return r;
}

int policy_value_parse(const struct policy *p, enum policy_arg_type type, enum policy_operator op,
		       struct policy_value *v, char *why, size_t why_size)
{
	const struct policy_list *list;
	char q[80];
	int r;

	v->kind = POLICY_VALUE_STRING;
	v->lo = v->hi = 0;
	v->family = 0;
	v->prefix_len = 0;
	memset(v->addr, 0, sizeof(v->addr));
	v->list = NULL;
	switch (op) {
	case POLICY_OP_EQUAL:
	case POLICY_OP_NOT_EQUAL:
		if (type == POLICY_ARG_AUTO)
			return 0;
		if (is_string(type))
			return string_len(v, 0, POLICY_MAX_STRING_LEN, why, why_size);
		return int_value(type, v, why, why_size);
	case POLICY_OP_GT:
	case POLICY_OP_LT:
	case POLICY_OP_MASK:
		return int_value(type, v, why, why_size);
	case POLICY_OP_IN_RANGE:
	case POLICY_OP_NOT_IN_RANGE:
		return typed_range(type, v, why, why_size);
	case POLICY_OP_IN_MAP:
	case POLICY_OP_NOT_IN_MAP:
		if (startswith(v->str, "list:")) {
			list = p ? policy_find_list(p, v->str + 5) : NULL;
			if (!list)
				return fail(-EINVAL, why, why_size, "unknown list '%s'",
					    policy_quote(v->str + 5, q, sizeof(q)));
			if (type != POLICY_ARG_SYSCALL64 && type != POLICY_ARG_AUTO)
				return fail(-EINVAL, why, why_size,
					    "list values need an argument of type 'syscall64'");
			v->kind = POLICY_VALUE_LIST;
			v->list = list;
			return 0;
		}
		if (!strchr(v->str, ':'))
			return int_value(type, v, why, why_size);
		r = typed_range(type, v, why, why_size);
		if (r == 0 && v->hi - v->lo >= POLICY_MAX_INMAP_RANGE)
			r = fail(
				-ERANGE, why, why_size,
				"range '%s' too large for InMap (more than %d values, use InRange)",
				policy_quote(v->str, q, sizeof(q)), POLICY_MAX_INMAP_RANGE);
		return r;
	case POLICY_OP_PREFIX:
	case POLICY_OP_NOT_PREFIX:
		return string_len(v, 0, POLICY_MAX_PREFIX_LEN, why, why_size);
	case POLICY_OP_POSTFIX:
	case POLICY_OP_NOT_POSTFIX:
		return string_len(v, 0, POLICY_MAX_POSTFIX_LEN, why, why_size);
	case POLICY_OP_SUBSTRING:
	case POLICY_OP_SUBSTRING_IGN_CASE:
		return string_len(v, 1, POLICY_MAX_SUBSTRING_LEN, why, why_size);
	case POLICY_OP_CEL_EXPR:
		return string_len(v, 1, SIZE_MAX, why, why_size);
	case POLICY_OP_SADDR:
	case POLICY_OP_DADDR:
	case POLICY_OP_NOT_SADDR:
	case POLICY_OP_NOT_DADDR:
		return address(v, why, why_size);
	case POLICY_OP_SPORT:
	case POLICY_OP_DPORT:
	case POLICY_OP_NOT_SPORT:
	case POLICY_OP_NOT_DPORT:
		return named_range(POLICY_TABLE_MAX, v->str, UINT16_MAX, v, why, why_size);
	case POLICY_OP_PROTOCOL:
		return named_range(POLICY_TABLE_PROTOCOL, v->str, UINT16_MAX, v, why, why_size);
	case POLICY_OP_FAMILY:
		return named_range(POLICY_TABLE_FAMILY, v->str, UINT16_MAX, v, why, why_size);
	case POLICY_OP_STATE:
		return named_range(POLICY_TABLE_TCP_STATE, v->str, UINT8_MAX, v, why, why_size);
	case POLICY_OP_CAPABILITIES_GAINED:
		v->kind = POLICY_VALUE_INT;
		return caps_mask(v->str, &v->lo, why, why_size);
	case POLICY_OP_FILE_TYPE:
	case POLICY_OP_NOT_FILE_TYPE: {
		char hint[128];

		r = policy_names_lookup(POLICY_TABLE_FILE_TYPE, v->str, hint, sizeof(hint));
		if (r < 0)
			return fail(-EINVAL, why, why_size, "unknown file type '%s'%s",
				    policy_quote(v->str, q, sizeof(q)), hint);
		v->kind = POLICY_VALUE_INT;
		v->lo = v->hi = (uint64_t)r;
		return 0;
	}
	default:
		return fail(-EINVAL, why, why_size, "operator '%s' takes no values",
			    policy_operator_name(op) ? policy_operator_name(op) : "?");
	}
}
