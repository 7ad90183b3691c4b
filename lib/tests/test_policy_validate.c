// SPDX-License-Identifier: Apache-2.0
/* lib/policy: semantic checks: limits, references, operators, values, actions, options. */
#include "lib/tests/test_policy.h"

/* A kprobe with two args (0: int, 1: string) and one selector; the selector body follows. */
#define KP(args)                                  \
	HDR "  kprobes:\n"                        \
	    "  - call: sys_x\n"                   \
	    "    args:\n" args "    selectors:\n" \
	    "    - "
#define ARGS2               \
	"    - index: 0\n"  \
	"      type: int\n" \
	"    - index: 1\n"  \
	"      type: string\n"

/* One matchArgs filter on an argument of the given type: line 12 holds the values. */
static char *one_filter(const char *type, const char *op, const char *values)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_printf(&sb,
		    HDR "  kprobes:\n"
			"  - call: sys_x\n"
			"    args: [{index: 0, type: %s}]\n"
			"    selectors:\n"
			"    - matchArgs:\n"
			"      - index: 0\n"
			"        operator: %s\n"
			"        values: %s\n",
		    type, op, values);
	return sbuf_steal(&sb);
}

static void filter_ok(const char *type, const char *op, const char *values)
{
	char *y = one_filter(type, op, values);

	expect_ok(y);
	free(y);
}

static void filter_fails(const char *type, const char *op, const char *values, const char *needle)
{
	char *y = one_filter(type, op, values);

	expect_error_containing(y, needle);
	free(y);
}

static char *repeat(const char *fmt, int n)
{
	struct sbuf sb;

	sbuf_init(&sb);
	for (int i = 0; i < n; i++)
		sbuf_printf(&sb, fmt, i, i);
	return sbuf_steal(&sb);
}

static void test_policy_validate_selector_limit(void **state)
{
	char *five = repeat("    - matchPIDs: [{operator: In, values: [%d]}]\n", 5);
	char *six = repeat("    - matchPIDs: [{operator: In, values: [%d]}]\n", 6);
	char buf[4096];

	snprintf(buf, sizeof(buf), HDR "  kprobes:\n  - call: sys_x\n    selectors:\n%s", five);
	expect_ok(buf);
	snprintf(buf, sizeof(buf), HDR "  kprobes:\n  - call: sys_x\n    selectors:\n%s", six);
	expect_errors(
		buf,
		"p.yaml:14:7: spec.kprobes[0].selectors[5]: too many selectors (6, at most 5)\n");
	free(five);
	free(six);
}

static void test_policy_validate_action_limit(void **state)
{
	expect_ok(
		KP(ARGS2) "matchActions: [{action: Post}, {action: NoPost}, {action: Sigkill}]\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Post}, {action: NoPost}, {action: Sigkill},\n"
			  "                   {action: Post}]\n",
		"p.yaml:15:20: spec.kprobes[0].selectors[0].matchActions[3]: too many actions in matchActions (4, at most 3)\n");
	expect_ok(
		HDR
		"  kprobes:\n  - call: sys_x\n    return: true\n    returnArg: {index: 0, type: int}\n"
		"    selectors:\n    - matchReturnActions: [{action: Post}, {action: Post}, {action: Post}]\n");
	expect_error_containing(
		HDR "  kprobes:\n  - call: sys_x\n    return: true\n"
		    "    returnArg: {index: 0, type: int}\n    selectors:\n"
		    "    - matchReturnActions: [{action: Post}, {action: Post}, {action: Post},\n"
		    "                           {action: Post}]\n",
		"p.yaml:12:28: spec.kprobes[0].selectors[0].matchReturnActions[3]: too many actions in matchReturnActions (4, at most 3)");
}

static void test_policy_validate_args_limit(void **state)
{
	expect_ok(HDR
		  "  kprobes:\n  - call: sys_x\n"
		  "    args: [{index: 0}, {index: 1}, {index: 2}]\n"
		  "    data: [{index: 0, source: current_task}, {index: 1, source: pt_regs}]\n");
	expect_errors(
		HDR "  kprobes:\n  - call: sys_x\n"
		    "    args: [{index: 0}, {index: 1}, {index: 2}]\n"
		    "    data: [{index: 0, source: current_task}, {index: 1, source: pt_regs},\n"
		    "           {index: 2, source: pt_regs}]\n",
		"p.yaml:10:12: spec.kprobes[0].data[2]: too many arguments (6 in args and data, at most 5)\n");
	expect_errors(
		HDR
		"  kprobes:\n  - call: sys_x\n"
		"    args: [{index: 0}, {index: 1}, {index: 2}, {index: 3}, {index: 4}, {index: 5}]\n",
		"p.yaml:8:72: spec.kprobes[0].args[5]: too many arguments (6 in args and data, at most 5)\n");
}

static void test_policy_validate_arg_filter_limit(void **state)
{
	static const char five[] = HDR
		"  kprobes:\n  - call: sys_x\n"
		"    args: [{index: 0, type: int}]\n"
		"    data: [{index: 0, type: int, source: current_task}]\n"
		"    selectors:\n"
		"    - matchArgs: [{index: 0, operator: GT, values: [1]},\n"
		"                  {index: 0, operator: LT, values: [9]},\n"
		"                  {index: 0, operator: NotEqual, values: [5]}]\n"
		"      matchData: [{index: 0, operator: Equal, values: [1]},\n"
		"                  {index: 0, operator: Equal, values: [2]}]\n";
	char buf[2048];

	expect_ok(five);
	snprintf(buf, sizeof(buf),
		 HDR "  kprobes:\n  - call: sys_x\n"
		     "    args: [{index: 0, type: int}]\n"
		     "    data: [{index: 0, type: int, source: current_task}]\n"
		     "    selectors:\n"
		     "    - matchArgs: [{index: 0, operator: GT, values: [1]},\n"
		     "                  {index: 0, operator: LT, values: [9]},\n"
		     "                  {index: 0, operator: NotEqual, values: [5]}]\n"
		     "      matchData: [{index: 0, operator: Equal, values: [1]},\n"
		     "                  {index: 0, operator: Equal, values: [2]},\n"
		     "                  {index: 0, operator: Equal, values: [3]}]\n");
	expect_errors(
		buf,
		"p.yaml:11:7: spec.kprobes[0].selectors[0]: too many argument filters (6 in matchArgs and matchData, at most 5)\n");
}

static void test_policy_validate_numeric_value_limit(void **state)
{
	filter_ok("int", "Equal", "[1, 2, 3, 4]");
	filter_fails(
		"int", "Equal", "[1, 2, 3, 4, 5]",
		"p.yaml:13:30: spec.kprobes[0].selectors[0].matchArgs[0].values[4]: too many values for operator 'Equal' on integers (5, at most 4; use InMap for more)");
	filter_ok("uint64", "Mask", "[1, 2, 4, 8]");
	filter_fails("uint64", "Mask", "[1, 2, 4, 8, 16]", "too many values for operator 'Mask'");
	filter_fails("int", "GT", "[1, 2, 3, 4, 5]", "too many values for operator 'GT'");
	filter_ok("int", "InRange", "['1:2', '3:4', '5:6', '7:8']");
	filter_fails("int", "NotInRange", "['1:2', '3:4', '5:6', '7:8', '9:10']",
		     "too many values for operator 'NotInRange'");
	/* strings and maps are not limited */
	filter_ok("string", "Equal", "[a, b, c, d, e, f]");
	filter_ok("int", "InMap", "[1, 2, 3, 4, 5, 6]");
}

static void test_policy_validate_pid_and_binary_limits(void **state)
{
	expect_ok(KP(ARGS2) "matchPIDs: [{operator: In, values: [1, 2, 3, 4]}]\n");
	expect_errors(
		KP(ARGS2) "matchPIDs: [{operator: In, values: [1, 2, 3, 4, 5]}]\n",
		"p.yaml:14:55: spec.kprobes[0].selectors[0].matchPIDs[0].values[4]: too many matchPIDs values (5, at most 4)\n");
	expect_errors(
		KP(ARGS2) "matchPIDs: [{operator: Equal, values: [1]}]\n",
		"p.yaml:14:30: spec.kprobes[0].selectors[0].matchPIDs[0].operator: operator 'Equal' is not valid in matchPIDs (use In or NotIn)\n");
	expect_ok(KP(
		ARGS2) "matchBinaries: [{operator: In, values: [/bin/sh], followChildren: true}]\n"
		       "      matchParentBinaries: [{operator: NotPostfix, values: [sh]}]\n");
	expect_errors(
		KP(ARGS2) "matchBinaries: [{operator: In, values: [/a]}, {operator: In, values: [/b]}]\n"
			  "      matchParentBinaries: [{operator: In, values: [/a]}, {operator: In, values: [/b]}]\n",
		"p.yaml:14:53: spec.kprobes[0].selectors[0].matchBinaries[1]: too many matchBinaries entries (2, at most 1)\n"
		"p.yaml:15:59: spec.kprobes[0].selectors[0].matchParentBinaries[1]: too many matchParentBinaries entries (2, at most 1)\n");
	expect_errors(
		KP(ARGS2) "matchBinaries: [{operator: Prefix, values: [/bin/], followChildren: true}]\n",
		"p.yaml:14:75: spec.kprobes[0].selectors[0].matchBinaries[0].followChildren: followChildren needs operator In or NotIn\n");
	expect_errors(
		KP(ARGS2) "matchBinaries: [{operator: GT, values: []}]\n",
		"p.yaml:14:23: spec.kprobes[0].selectors[0].matchBinaries[0]: at least one value is required\n"
		"p.yaml:14:34: spec.kprobes[0].selectors[0].matchBinaries[0].operator: operator 'GT' is not valid in matchBinaries (use In, NotIn, Prefix, NotPrefix, Postfix or NotPostfix)\n");
}

static void test_policy_validate_string_lengths(void **state)
{
	char v256[300], v257[300], buf[400];

	memset(v256, 'a', 256);
	v256[0] = '/';
	v256[256] = '\0';
	memcpy(v257, v256, 256);
	v257[256] = 'b';
	v257[257] = '\0';
	snprintf(buf, sizeof(buf), "[\"%s\"]", v256);
	filter_ok("string", "Prefix", buf);
	snprintf(buf, sizeof(buf), "[\"%s\"]", v257);
	filter_fails("string", "Prefix", buf, "too long (257 characters, at most 256)");
	snprintf(buf, sizeof(buf), "[\"%.127s\"]", v256);
	filter_ok("file", "Postfix", buf);
	snprintf(buf, sizeof(buf), "[\"%.128s\"]", v256);
	filter_fails("file", "NotPostfix", buf, "too long (128 characters, at most 127)");
	snprintf(buf, sizeof(buf), "[\"%.99s\"]", v256);
	filter_ok("string", "SubString", buf);
	snprintf(buf, sizeof(buf), "[\"%.100s\"]", v256);
	filter_fails("string", "SubStringIgnCase", buf, "too long (100 characters, at most 99)");
}

static void test_policy_validate_tags_and_message(void **state)
{
	char msg[300], buf[1024];

	expect_ok(HDR
		  "  kprobes:\n  - call: sys_x\n"
		  "    tags: [aa, bb, cc, dd, ee, ff, gg, hh, ii, jj, kk, ll, mm, nn, oo, pp]\n");
	expect_errors(
		HDR
		"  kprobes:\n  - call: sys_x\n"
		"    tags: [aa, bb, cc, dd, ee, ff, gg, hh, ii, jj, kk, ll, mm, nn, oo, pp, qq]\n",
		"p.yaml:8:76: spec.kprobes[0].tags[16]: too many tags (17, at most 16)\n");
	memset(msg, 'm', 129);
	msg[128] = '\0';
	snprintf(buf, sizeof(buf), HDR "  kprobes:\n  - call: sys_x\n    tags: [ab, %s]\n", msg);
	expect_ok(buf);
	msg[128] = 'm';
	msg[129] = '\0';
	snprintf(buf, sizeof(buf), HDR "  kprobes:\n  - call: sys_x\n    tags: [a, ab, %s]\n", msg);
	expect_error_containing(
		buf,
		"p.yaml:8:12: spec.kprobes[0].tags[0]: tag 'a' must be 2 to 128 characters long (it has 1)\n");
	expect_error_containing(buf, "spec.kprobes[0].tags[2]: tag '");
	memset(msg, 'm', sizeof(msg));
	msg[256] = '\0';
	snprintf(buf, sizeof(buf), HDR "  kprobes:\n  - call: sys_x\n    message: %s\n", msg);
	expect_ok(buf);
	msg[256] = 'm';
	msg[257] = '\0';
	snprintf(buf, sizeof(buf), HDR "  kprobes:\n  - call: sys_x\n    message: %s\n", msg);
	expect_errors(
		buf,
		"p.yaml:8:14: spec.kprobes[0].message: message too long (257 characters, at most 256)\n");
}

static void test_policy_validate_namespace_limits(void **state)
{
	char *ten = repeat("{namespace: Pid, operator: In, values: [%d]}, ", 10);
	char *eleven = repeat("{namespace: Pid, operator: In, values: [%d]}, ", 11);
	char buf[4096];

	snprintf(buf, sizeof(buf), KP(ARGS2) "matchNamespaces: [%s]\n", ten);
	expect_ok(buf);
	snprintf(buf, sizeof(buf), KP(ARGS2) "matchNamespaces: [%s]\n", eleven);
	expect_error_containing(
		buf,
		"spec.kprobes[0].selectors[0].matchNamespaces[10]: too many matchNamespaces filters (11, at most 10)");
	expect_errors(
		KP(ARGS2) "matchNamespaces: [{namespace: Net, operator: In, values: [1, 2, 3, 4, 5]}]\n",
		"p.yaml:14:77: spec.kprobes[0].selectors[0].matchNamespaces[0].values[4]: too many matchNamespaces values (5, at most 4)\n");
	expect_errors(
		KP(ARGS2) "matchNamespaces: [{namespace: Nett, operator: In, values: [x]}]\n",
		"p.yaml:14:37: spec.kprobes[0].selectors[0].matchNamespaces[0].namespace: unknown namespace 'Nett' (did you mean 'Net'?)\n");
	expect_errors(
		KP(ARGS2) "matchNamespaces: [{namespace: Net, operator: In, values: [x]}]\n",
		"p.yaml:14:65: spec.kprobes[0].selectors[0].matchNamespaces[0].values[0]: invalid namespace value 'x' (expected an inode number or 'host_ns')\n");
	expect_ok(KP(ARGS2) "matchNamespaceChanges: [{operator: In, values: [Mnt, pid]}]\n");
	expect_errors(
		KP(ARGS2) "matchNamespaceChanges: [{operator: In, values: [Mnt]}, {operator: NotIn, values: [Net]}]\n",
		"p.yaml:14:62: spec.kprobes[0].selectors[0].matchNamespaceChanges[1]: too many matchNamespaceChanges filters (2, at most 1)\n");
	free(ten);
	free(eleven);
}

static void test_policy_validate_arg_references(void **state)
{
	expect_errors(
		KP(ARGS2) "matchArgs: [{index: 2, operator: Equal, values: [1]}]\n",
		"p.yaml:14:27: spec.kprobes[0].selectors[0].matchArgs[0].index: no argument with index 2 in args\n");
	expect_errors(
		KP(ARGS2) "matchData: [{index: 0, operator: Equal, values: [1]}]\n",
		"p.yaml:14:27: spec.kprobes[0].selectors[0].matchData[0].index: no data entry at index 0 (data has 0)\n");
	expect_errors(
		KP(ARGS2) "matchArgs: [{args: [0, 2], operator: CelExpr, values: [\"arg0 > 1\"]}]\n",
		"p.yaml:14:30: spec.kprobes[0].selectors[0].matchArgs[0].args[1]: no argument at position 2 (args has 2)\n");
	expect_errors(
		KP(ARGS2) "matchReturnArgs: [{index: 0, operator: Equal, values: [1]}]\n",
		"p.yaml:14:24: spec.kprobes[0].selectors[0].matchReturnArgs: matchReturnArgs needs 'return: true' on the hook\n");
	expect_errors(HDR "  kprobes:\n  - call: sys_x\n    return: true\n",
		      "p.yaml:8:13: spec.kprobes[0].return: 'return: true' needs 'returnArg'\n");
	expect_errors(
		HDR
		"  lsmhooks:\n  - hook: file_open\n    args: [{index: 5, type: file}]\n"
		"    selectors:\n    - matchReturnArgs: [{index: 0, operator: Equal, values: [1]}]\n",
		"p.yaml:8:20: spec.lsmhooks[0].args[0].index: index 5 out of range for an LSM hook (0..4)\n"
		"p.yaml:10:24: spec.lsmhooks[0].selectors[0].matchReturnArgs: matchReturnArgs is not supported on lsmhooks\n");
	expect_errors(
		HDR "  tracepoints:\n  - {subsystem: a, event: b, raw: true, args: [{index: 6}]}\n",
		"p.yaml:7:56: spec.tracepoints[0].args[0].index: index 6 out of range for a raw tracepoint (0..5)\n");
	expect_errors(HDR "  kprobes:\n  - call: sys_x\n    args: [{type: int}]\n",
		      "p.yaml:8:12: spec.kprobes[0].args[0]: missing required field 'index'\n");
	expect_errors(
		HDR
		"  kprobes:\n  - call: sys_x\n    data: [{index: 0}]\n    args: [{index: 0, source: pt_regs}]\n",
		"p.yaml:8:12: spec.kprobes[0].data[0]: missing required field 'source' ('current_task' or 'pt_regs')\n"
		"p.yaml:9:31: spec.kprobes[0].args[0].source: 'source' is only valid in data\n");
}

static void test_policy_validate_arg_fields(void **state)
{
	expect_errors(
		HDR
		"  kprobes:\n  - call: sys_x\n    args:\n"
		"    - {index: 0, type: int, sizeArgIndex: 1, returnCopy: true, maxData: true}\n"
		"    - {index: 1, type: char_buf, returnCopy: true, maxData: true, sizeArgIndex: 0}\n"
		"    - {index: 2, resolve: \"a..b\", btfTypeModule: m}\n",
		"p.yaml:9:43: spec.kprobes[0].args[0].sizeArgIndex: sizeArgIndex is only valid for types 'char_buf' and 'char_iovec'\n"
		"p.yaml:9:58: spec.kprobes[0].args[0].returnCopy: returnCopy is only valid for types 'char_buf' and 'char_iovec'\n"
		"p.yaml:9:73: spec.kprobes[0].args[0].maxData: maxData is only valid for types 'char_buf' and 'char_iovec'\n"
		"p.yaml:9:73: spec.kprobes[0].args[0].maxData: maxData cannot be combined with returnCopy\n"
		"p.yaml:10:61: spec.kprobes[0].args[1].maxData: maxData cannot be combined with returnCopy\n"
		"p.yaml:10:81: spec.kprobes[0].args[1].sizeArgIndex: sizeArgIndex counts from 1 (0 is not an argument)\n"
		"p.yaml:11:27: spec.kprobes[0].args[2].resolve: invalid resolve path 'a..b' (expected field names separated by '.', optionally indexed with [N], at most 10 deep)\n"
		"p.yaml:11:50: spec.kprobes[0].args[2].btfTypeModule: btfTypeModule needs btfType\n");
	expect_ok(HDR
		  "  kprobes:\n  - call: sys_x\n    args:\n"
		  "    - {index: 0, type: linux_binprm, resolve: \"mm.owner.real_parent.comm\"}\n"
		  "    - {index: 1, resolve: \"a[0].b[12].c\", btfType: foo, btfTypeModule: bar}\n"
		  "    - {index: 2, resolve: \"a.b.c.d.e.f.g.h.i.j\"}\n");
	expect_error_containing(HDR "  kprobes:\n  - call: sys_x\n    args:\n"
				    "    - {index: 2, resolve: \"a.b.c.d.e.f.g.h.i.j.k\"}\n",
				"invalid resolve path");
}

static void test_policy_validate_operator_type_matrix(void **state)
{
	static const struct {
		enum policy_operator op;
		enum policy_arg_type type;
		bool ok;
	} m[] = {
		{ POLICY_OP_EQUAL, POLICY_ARG_INT32, true },
		{ POLICY_OP_EQUAL, POLICY_ARG_FILE, true },
		{ POLICY_OP_EQUAL, POLICY_ARG_SOCK, false },
		{ POLICY_OP_EQUAL, POLICY_ARG_KERNEL_CAP_T, true },
		{ POLICY_OP_EQUAL, POLICY_ARG_CRED, false },
		{ POLICY_OP_GT, POLICY_ARG_UINT8, true },
		{ POLICY_OP_GT, POLICY_ARG_STRING, false },
		{ POLICY_OP_LT, POLICY_ARG_SIZE_T, true },
		{ POLICY_OP_MASK, POLICY_ARG_INT64, true },
		{ POLICY_OP_MASK, POLICY_ARG_CAP_EFFECTIVE, true },
		{ POLICY_OP_MASK, POLICY_ARG_PATH, false },
		{ POLICY_OP_PREFIX, POLICY_ARG_STRING, true },
		{ POLICY_OP_PREFIX, POLICY_ARG_INT32, false },
		{ POLICY_OP_POSTFIX, POLICY_ARG_LINUX_BINPRM, true },
		{ POLICY_OP_NOT_PREFIX, POLICY_ARG_DENTRY, true },
		{ POLICY_OP_IN_MAP, POLICY_ARG_SYSCALL64, true },
		{ POLICY_OP_IN_MAP, POLICY_ARG_UINT32, true },
		{ POLICY_OP_NOT_IN_MAP, POLICY_ARG_STRING, false },
		{ POLICY_OP_SADDR, POLICY_ARG_SOCK, true },
		{ POLICY_OP_SADDR, POLICY_ARG_SKB, true },
		{ POLICY_OP_SADDR, POLICY_ARG_SOCKADDR, true },
		{ POLICY_OP_SADDR, POLICY_ARG_STRING, false },
		{ POLICY_OP_DADDR, POLICY_ARG_SOCKADDR, false },
		{ POLICY_OP_DPORT, POLICY_ARG_SOCKET, true },
		{ POLICY_OP_DPORT, POLICY_ARG_SOCKADDR, false },
		{ POLICY_OP_SPORT, POLICY_ARG_SOCKADDR, true },
		{ POLICY_OP_NOT_SPORT_PRIV, POLICY_ARG_SOCKADDR, true },
		{ POLICY_OP_PROTOCOL, POLICY_ARG_SKB, true },
		{ POLICY_OP_PROTOCOL, POLICY_ARG_SOCKADDR, false },
		{ POLICY_OP_FAMILY, POLICY_ARG_SOCKADDR, true },
		{ POLICY_OP_FAMILY, POLICY_ARG_SOCKADDR_UN, true },
		{ POLICY_OP_SADDR, POLICY_ARG_SOCKADDR_UN, false },
		{ POLICY_OP_EQUAL, POLICY_ARG_SOCKADDR_UN, true },
		{ POLICY_OP_STATE, POLICY_ARG_SOCK, true },
		{ POLICY_OP_STATE, POLICY_ARG_SKB, false },
		{ POLICY_OP_FILE_TYPE, POLICY_ARG_FILE, true },
		{ POLICY_OP_NOT_FILE_TYPE, POLICY_ARG_PATH, true },
		{ POLICY_OP_FILE_TYPE, POLICY_ARG_FD, false },
		{ POLICY_OP_CAPABILITIES_GAINED, POLICY_ARG_CAP_PERMITTED, true },
		{ POLICY_OP_CAPABILITIES_GAINED, POLICY_ARG_INT32, false },
		{ POLICY_OP_IN_RANGE, POLICY_ARG_INT16, true },
		{ POLICY_OP_IN_RANGE, POLICY_ARG_STRING, false },
		{ POLICY_OP_SUBSTRING, POLICY_ARG_CHAR_BUF, true },
		{ POLICY_OP_SUBSTRING_IGN_CASE, POLICY_ARG_INT32, false },
		{ POLICY_OP_IN, POLICY_ARG_INT32, false },
		{ POLICY_OP_NOT_IN, POLICY_ARG_AUTO, false },
		{ POLICY_OP_PREFIX, POLICY_ARG_AUTO, true },
		{ POLICY_OP_SADDR, POLICY_ARG_AUTO, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		if (policy_operator_supports(m[i].op, m[i].type) != m[i].ok)
			fail_msg("%s on %s: expected %d", policy_operator_name(m[i].op),
				 policy_arg_type_name(m[i].type), m[i].ok);
	}
	filter_fails(
		"int", "Prefix", "[/a]",
		"p.yaml:12:19: spec.kprobes[0].selectors[0].matchArgs[0].operator: operator 'Prefix' does not apply to argument type 'int'");
	filter_fails("string", "SAddr", "[1.2.3.4]",
		     "operator 'SAddr' does not apply to argument type 'string'");
	filter_fails("fd", "FileType", "[reg]",
		     "operator 'FileType' does not apply to argument type 'fd'");
	filter_fails("sockaddr", "DPort", "[80]",
		     "operator 'DPort' does not apply to argument type 'sockaddr'");
	filter_fails("int", "In", "[1]", "operator 'In' is not valid in matchArgs");
	filter_ok("auto", "Prefix", "[/a]");
	filter_ok("sockaddr", "SPort", "[80]");
	filter_ok("sockaddr_un", "Family", "[AF_UNIX]");
}

static void test_policy_validate_values(void **state)
{
	filter_ok("uint8", "Equal", "[0, 0xff, 0377, 0b11]");
	filter_ok("uint8", "Equal", "[255]");
	filter_fails(
		"uint8", "Equal", "[256]",
		"p.yaml:13:18: spec.kprobes[0].selectors[0].matchArgs[0].values[0]: value '256' out of range for type 'uint8' (0..255)");
	filter_fails("uint32", "Equal", "[-1]",
		     "value '-1' out of range for type 'uint32' (0..4294967295)");
	filter_ok("int8", "Equal", "[-128, 127]");
	filter_fails("int8", "Equal", "[-129]",
		     "value '-129' out of range for type 'int8' (-128..127)");
	filter_fails("int", "Equal", "[abc]", "'abc' is not an integer");
	filter_ok("int64", "GT", "[-9223372036854775808]");
	filter_ok("uint64", "LT", "[18446744073709551615]");
	filter_fails("uint64", "LT", "[18446744073709551616]", "out of range");
	filter_ok("int", "InRange", "['-5:5', '7']");
	filter_fails("int", "InRange", "['5:1']", "empty range '5:1' (min greater than max)");
	filter_fails("int", "InRange", "['a:1']", "'a' is not an integer");
	filter_ok("syscall64", "InMap", "[sys_dup, 'i386/sys_dup', 59, '1:100']");
	filter_fails("int", "InMap", "['0:100000']", "too large for InMap");
	filter_fails("int", "InMap", "['list:nope']", "unknown list 'nope'");
	filter_ok("capability", "Equal", "[CAP_SYS_ADMIN, 21]");
	filter_fails("capability", "Equal", "[CAP_SYS_ADMN]", "unknown capability 'CAP_SYS_ADMN'");
	filter_ok("kernel_cap_t", "Mask", "['CAP_SYS_ADMIN,CAP_BPF', '0x200000']");
	filter_fails(
		"cap_effective", "CapabilitiesGained", "[CAP_SYS_ADMIN]",
		"operator 'CapabilitiesGained' needs 'args' with the positions of the new and the old capabilities");
	expect_ok(HDR
		  "  kprobes:\n  - call: commit_creds\n    syscall: false\n"
		  "    args: [{index: 0, type: cap_permitted}, {index: 1, type: cap_permitted}]\n"
		  "    selectors: [{matchArgs: [{args: [0, 1], operator: CapabilitiesGained,\n"
		  "                              values: [CAP_SYS_ADMIN]}]}]\n");
	filter_ok("bpf_cmd", "Equal", "[BPF_PROG_LOAD, 0]");
	filter_fails("bpf_cmd", "Equal", "[BPF_NOPE]", "unknown BPF command 'BPF_NOPE'");
	filter_ok("sock", "SAddr", "['192.168.0.0/16', '::1', '2001:db8::/32']");
	filter_fails("sock", "DAddr", "['300.1.1.1']", "'300.1.1.1' is not an IP address or CIDR");
	filter_fails("sock", "DAddr", "['10.0.0.0/33']", "is not an IP address or CIDR");
	filter_ok("sock", "SPort", "['0', '65535', '1024:2048']");
	filter_fails("sock", "SPort", "['65536']", "value '65536' out of range (0..65535)");
	filter_ok("sock", "Protocol", "[IPPROTO_TCP, 17, 'IPPROTO_TCP:IPPROTO_UDP']");
	filter_fails("sock", "Protocol", "[IPPROTO_TPC]",
		     "unknown name 'IPPROTO_TPC' (did you mean 'IPPROTO_TCP'?)");
	filter_ok("sock", "Family", "[AF_INET, 10]");
	filter_ok("socket", "State", "[TCP_ESTABLISHED, TCP_SYN_SENT]");
	filter_fails("sock", "State", "[256]", "out of range (0..255)");
	filter_ok(
		"file", "FileType",
		"[sock, socket, lnk, link, reg, regular, blk, block, dir, chr, char, fifo, pipe]");
	filter_fails("path", "NotFileType", "[dirr]",
		     "unknown file type 'dirr' (did you mean 'dir'?)");
	filter_fails("string", "SubString", "['']", "empty value");
	filter_fails("string", "Equal", "[]", "operator 'Equal' needs at least one value");
	filter_fails("sock", "DPortPriv", "[1]", "operator 'DPortPriv' takes no values");
	filter_ok("sock", "NotDPortPriv", "[]");
	filter_fails("kernel_cap_t", "Equal", "['CAP_BPF,CAP_NOPE']",
		     "unknown capability 'CAP_NOPE'");
	expect_errors(
		KP(ARGS2) "matchCapabilities: [{type: Effectiv, operator: In, values: [CAP_X]}]\n",
		"p.yaml:14:34: spec.kprobes[0].selectors[0].matchCapabilities[0].type: unknown capability type 'Effectiv' (did you mean 'Effective'?)\n");
	expect_errors(
		KP(ARGS2) "matchCapabilities: [{operator: In, values: [CAP_SYS_ADMN]}]\n",
		"p.yaml:14:51: spec.kprobes[0].selectors[0].matchCapabilities[0].values[0]: unknown capability 'CAP_SYS_ADMN' (did you mean 'CAP_SYS_ADMIN'?)\n");
}

static void test_policy_validate_operator_spellings(void **state)
{
	static const char *const ops[] = { "eq",	  "Equal", "neq", "NotEqual", "gt",   "GT",
					   "GreaterThan", "lt",	   "LT",  "LessThan", "Mask", NULL };

	for (size_t i = 0; ops[i]; i++)
		filter_ok("int", ops[i], "[1]");
	filter_fails(
		"int", "Equl", "[1]",
		"p.yaml:12:19: spec.kprobes[0].selectors[0].matchArgs[0].operator: unknown operator 'Equl' (did you mean 'Equal'?)");
	filter_fails("int", "equal", "[1]", "unknown operator 'equal' (did you mean 'Equal'?)");
}

static void test_policy_validate_actions(void **state)
{
	expect_ok(KP(
		ARGS2) "matchActions: [{action: sigkill}, {action: SIGNAL, argSig: 9}, {action: nopost}]\n");
	expect_ok(KP(ARGS2) "matchActions: [{action: Signal, argSig: SIGTERM}]\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Sigkil}]\n",
		"p.yaml:14:31: spec.kprobes[0].selectors[0].matchActions[0].action: unknown action 'Sigkil' (did you mean 'Sigkill'?)\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Signal}, {action: Signal, argSig: 65}, {action: Signal, argSig: 0}]\n",
		"p.yaml:14:22: spec.kprobes[0].selectors[0].matchActions[0]: action 'Signal' needs 'argSig'\n"
		"p.yaml:14:65: spec.kprobes[0].selectors[0].matchActions[1].argSig: argSig 65 out of range (1..64)\n"
		"p.yaml:14:95: spec.kprobes[0].selectors[0].matchActions[2].argSig: argSig 0 out of range (1..64)\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Signal, argSig: SIGFOO}]\n",
		"p.yaml:14:47: spec.kprobes[0].selectors[0].matchActions[0].argSig: expected a signal number or name, got 'SIGFOO'\n");
	expect_ok(KP(ARGS2) "matchActions: [{action: Override, argError: -1}]\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Override}, {action: Override, argError: 0}]\n",
		"p.yaml:14:22: spec.kprobes[0].selectors[0].matchActions[0]: action 'Override' needs 'argError'\n"
		"p.yaml:14:71: spec.kprobes[0].selectors[0].matchActions[1].argError: argError 0 is not a negative errno (for example -1 for EPERM)\n");
	expect_errors(
		HDR "  kprobes:\n  - call: fd_install\n    syscall: false\n    selectors:\n"
		    "    - matchActions: [{action: Override, argError: -1}]\n",
		"p.yaml:10:31: spec.kprobes[0].selectors[0].matchActions[0].action: action 'Override' works only on syscalls and security_* functions, not on 'fd_install'\n");
	expect_ok(HDR
		  "  kprobes:\n  - call: security_file_open\n    syscall: false\n    selectors:\n"
		  "    - matchActions: [{action: Override, argError: -13}]\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: GetUrl}, {action: DnsLookup, argFqdn: ''}]\n",
		"p.yaml:14:22: spec.kprobes[0].selectors[0].matchActions[0]: action 'GetUrl' needs 'argUrl'\n"
		"p.yaml:14:69: spec.kprobes[0].selectors[0].matchActions[1].argFqdn: action 'DnsLookup' needs 'argFqdn'\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: TrackSock}, {action: UntrackSock, argSock: 3}]\n",
		"p.yaml:14:22: spec.kprobes[0].selectors[0].matchActions[0]: action 'TrackSock' needs 'argSock'\n"
		"p.yaml:14:74: spec.kprobes[0].selectors[0].matchActions[1].argSock: no argument with index 3 in args\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: FollowFD, argFd: 0}, {action: CopyFD, argFd: 0, argName: 7}]\n",
		"p.yaml:14:22: spec.kprobes[0].selectors[0].matchActions[0]: action 'FollowFD' needs 'argName'\n"
		"p.yaml:14:88: spec.kprobes[0].selectors[0].matchActions[1].argName: no argument with index 7 in args\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Sigkill, argSig: 9}, {action: Post, argError: -1}]\n",
		"p.yaml:14:48: spec.kprobes[0].selectors[0].matchActions[0].argSig: field 'argSig' does not apply to action 'Sigkill'\n"
		"p.yaml:14:77: spec.kprobes[0].selectors[0].matchActions[1].argError: field 'argError' does not apply to action 'Post'\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: NotifyEnforcer, argSig: 9}, {action: Set, argIndex: 0, argValue: 1}]\n",
		"p.yaml:14:31: spec.kprobes[0].selectors[0].matchActions[0].action: action 'NotifyEnforcer' needs an enforcer in spec.enforcers\n"
		"p.yaml:14:68: spec.kprobes[0].selectors[0].matchActions[1].action: action 'Set' is not supported on kprobes\n");
}

static void test_policy_validate_post_options(void **state)
{
	static const char *const good[] = { "1", "30s", "5m", "2h", NULL };
	static const char *const bad[] = { "0", "1d", "m", "5ms", "-1", NULL };
	char buf[1024];

	for (size_t i = 0; good[i]; i++) {
		snprintf(buf, sizeof(buf),
			 KP(ARGS2) "matchActions: [{action: Post, rateLimit: '%s'}]\n", good[i]);
		expect_ok(buf);
	}
	for (size_t i = 0; bad[i]; i++) {
		snprintf(buf, sizeof(buf),
			 KP(ARGS2) "matchActions: [{action: Post, rateLimit: '%s'}]\n", bad[i]);
		expect_error_containing(buf, "invalid rateLimit");
	}
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Post, rateLimitScope: global}]\n",
		"p.yaml:14:53: spec.kprobes[0].selectors[0].matchActions[0].rateLimitScope: rateLimitScope needs rateLimit\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Post, rateLimit: 1, rateLimitScope: cpu}]\n",
		"p.yaml:14:67: spec.kprobes[0].selectors[0].matchActions[0].rateLimitScope: unknown rateLimitScope 'cpu'\n");
	expect_errors(
		KP(ARGS2) "matchActions: [{action: Post, imaHash: true}]\n",
		"p.yaml:14:46: spec.kprobes[0].selectors[0].matchActions[0].imaHash: imaHash is only supported on the LSM hooks bprm_check_security, bprm_committed_creds, bprm_committing_creds, bprm_creds_from_file, file_ioctl, file_lock, file_open, file_post_open, file_receive and mmap_file\n");
}

static void test_policy_validate_hook_restrictions(void **state)
{
	expect_errors(
		HDR
		"  lsmhooks:\n  - hook: file_open\n    selectors:\n"
		"    - matchActions: [{action: Post, kernelStackTrace: true}, {action: GetUrl, argUrl: x},\n"
		"                     {action: Override, argError: -1}]\n",
		"p.yaml:9:55: spec.lsmhooks[0].selectors[0].matchActions[0].kernelStackTrace: stack traces are not supported on lsmhooks\n"
		"p.yaml:9:71: spec.lsmhooks[0].selectors[0].matchActions[1].action: action 'GetUrl' is not supported on lsmhooks\n");
	expect_errors(
		HDR
		"  uprobes:\n  - path: /bin/sh\n    symbols: [main]\n    selectors:\n"
		"    - matchActions: [{action: DnsLookup, argFqdn: x}, {action: Override, argRegs: ['rax=1', 'bad']}]\n",
		"p.yaml:10:31: spec.uprobes[0].selectors[0].matchActions[0].action: action 'DnsLookup' is not supported on uprobes\n"
		"p.yaml:10:93: spec.uprobes[0].selectors[0].matchActions[1].argRegs[1]: invalid register assignment 'bad' (expected reg=N, reg=%reg, reg=N%reg, reg=(%reg) or reg=N(%reg))\n");
	expect_errors(
		HDR
		"  fentries:\n  - call: security_file_open\n    syscall: false\n    selectors:\n"
		"    - matchActions: [{action: Sigkill}]\n",
		"p.yaml:10:31: spec.fentries[0].selectors[0].matchActions[0].action: action 'Sigkill' is not supported on fentries (they only observe; use kprobes to enforce)\n");
	expect_errors(
		HDR
		"  tracepoints:\n  - {subsystem: a, event: b}\n    \n  usdts:\n  - {path: /x, provider: p, name: n, selectors: [{matchActions: [{action: Override, argError: -1}]}]}\n",
		"p.yaml:10:75: spec.usdts[0].selectors[0].matchActions[0].action: action 'Override' is not supported on usdts\n");
	expect_errors(
		HDR
		"  kprobes:\n  - call: sys_x\n    returnArgAction: Post\n  - call: sys_y\n    returnArgAction: TrackSock\n",
		"p.yaml:8:22: spec.kprobes[0].returnArgAction: returnArgAction must be 'TrackSock' or 'UntrackSock'\n"
		"p.yaml:10:22: spec.kprobes[1].returnArgAction: returnArgAction needs 'return: true'\n");
}

static void test_policy_validate_hook_fields(void **state)
{
	expect_errors(
		HDR "  tracepoints:\n  - {subsystem: '', event: x}\n",
		"p.yaml:7:17: spec.tracepoints[0].subsystem: 'subsystem' must not be empty\n");
	expect_errors(
		HDR
		"  uprobes:\n  - path: /bin/sh\n  - path: /bin/sh\n    symbols: [a]\n    offsets: [1]\n"
		"  - path: /bin/sh\n    symbols: [a, b+x]\n    refCtrOffsets: [1]\n"
		"    binaryDigests: ['sha256:abc', 'md5:00', 'build-id:0aff']\n",
		"p.yaml:7:5: spec.uprobes[0]: one of 'symbols', 'offsets' or 'addrs' is required\n"
		"p.yaml:8:5: spec.uprobes[1]: only one of 'symbols', 'offsets' and 'addrs' can be set\n"
		"p.yaml:12:18: spec.uprobes[2].symbols[1]: invalid symbol 'b+x' (expected NAME or NAME+OFFSET)\n"
		"p.yaml:13:20: spec.uprobes[2].refCtrOffsets: refCtrOffsets has 1 entries but there are 2 probe targets\n"
		"p.yaml:14:21: spec.uprobes[2].binaryDigests[0]: invalid binary digest 'sha256:abc' (expected sha1:, sha256:, sha384:, sha512: or build-id: followed by hex digits)\n"
		"p.yaml:14:35: spec.uprobes[2].binaryDigests[1]: invalid binary digest 'md5:00' (expected sha1:, sha256:, sha384:, sha512: or build-id: followed by hex digits)\n");
	expect_errors(
		HDR
		"  lsmhooks:\n  - hook: security_bprm_check\n  kprobes:\n  - call: ''\n  - call: 'list:missing'\n",
		"p.yaml:7:11: spec.lsmhooks[0].hook: LSM hooks are named without the 'security_' prefix (did you mean 'bprm_check'?)\n"
		"p.yaml:9:11: spec.kprobes[0].call: 'call' must not be empty\n"
		"p.yaml:10:11: spec.kprobes[1].call: unknown list 'missing'\n");
}

static void test_policy_validate_lists(void **state)
{
	expect_errors(
		HDR
		"  lists:\n  - {name: a, values: [sys_dup]}\n  - {name: a, values: [sys_dup]}\n"
		"  - {name: b}\n  - {name: c, type: generated_ftrace}\n"
		"  - {name: d, type: generated_syscalls, values: [x]}\n  - {name: e, type: generated}\n"
		"  kprobes:\n  - call: 'list:aa'\n",
		"p.yaml:8:12: spec.lists[1].name: duplicate list name 'a' (first at line 7)\n"
		"p.yaml:9:5: spec.lists[2]: a list of type 'syscalls' needs values\n"
		"p.yaml:10:5: spec.lists[3]: a list of type 'generated_ftrace' needs a 'pattern'\n"
		"p.yaml:11:49: spec.lists[4].values: a list of type 'generated_syscalls' is generated and takes no values\n"
		"p.yaml:12:21: spec.lists[5].type: unknown list type 'generated'\n"
		"p.yaml:14:11: spec.kprobes[0].call: unknown list 'aa'\n");
	expect_error_containing(
		HDR
		"  lists: [{name: l, values: [sys_dup]}]\n"
		"  kprobes:\n  - call: sys_x\n    args: [{index: 0, type: int}]\n"
		"    selectors: [{matchArgs: [{index: 0, operator: InMap, values: ['list:l']}]}]\n",
		"list values need an argument of type 'syscall64'");
	expect_errors(HDR "  enforcers:\n  - calls: ['list:x']\n  - calls: [a]\n",
		      "p.yaml:7:13: spec.enforcers[0].calls[0]: unknown list 'x'\n"
		      "p.yaml:8:5: spec.enforcers[1]: only one enforcer is allowed (2 given)\n");
}

static void test_policy_validate_options(void **state)
{
	struct policy *p = parse_ok(HDR "  options:\n  - {name: disable-uprobe-multi, value: '1'}\n"
					"  - {name: override-method, value: override-return}\n");

	assert_true(p->spec.options.disable_uprobe_multi);
	assert_int_equal(p->spec.options.override_method, POLICY_OVERRIDE_RETURN);
	assert_int_equal(policy_get_mode(p), POLICY_MODE_ENFORCE);
	policy_free(p);
	expect_errors(
		HDR "  options:\n  - {name: disable-kprobe-multi, value: maybe}\n"
		    "  - {name: override-method, value: kprobe}\n"
		    "  - {name: sleepable-preload-size, value: '0'}\n"
		    "  - {name: policy-mode, value: Monitor}\n"
		    "  - {name: policy-mode}\n"
		    "  - {name: disable-kprobe-mult, value: true}\n",
		"p.yaml:7:41: spec.options[0].value: invalid value 'maybe' for option 'disable-kprobe-multi' (expected true or false)\n"
		"p.yaml:8:36: spec.options[1].value: invalid value 'kprobe' for option 'override-method' (expected 'override-return' or 'fmod-ret')\n"
		"p.yaml:9:43: spec.options[2].value: invalid value '0' for option 'sleepable-preload-size' (expected a positive integer)\n"
		"p.yaml:10:32: spec.options[3].value: invalid value 'Monitor' for option 'policy-mode' (expected 'enforce' or 'monitor')\n"
		"p.yaml:11:5: spec.options[4]: option 'policy-mode' needs a value\n"
		"p.yaml:11:12: spec.options[4].name: duplicate option 'policy-mode' (first at line 10)\n"
		"p.yaml:12:12: spec.options[5].name: unknown option 'disable-kprobe-mult' (did you mean 'disable-kprobe-multi'?)\n");
}

static void test_policy_validate_macros(void **state)
{
	struct policy *p = parse_ok(
		HDR "  selectorsMacros:\n"
		    "    bins: {matchBinaries: [{operator: In, values: [/bin/sh]}]}\n"
		    "    args: {matchArgs: [{index: 0, operator: Equal, values: ['5']}]}\n"
		    "  kprobes:\n"
		    "  - call: sys_a\n"
		    "    args: [{index: 0, type: int}]\n"
		    "    selectors: [{macros: [bins, args], matchActions: [{action: Sigkill}]}]\n"
		    "  - call: sys_b\n"
		    "    args: [{index: 0, type: string}]\n"
		    "    selectors: [{macros: [args]}]\n");
	const struct policy_hook *h = p->spec.hooks[POLICY_HOOK_KPROBE];

	assert_int_equal(h[0].selectors[0].nr_match_binaries, 1);
	assert_int_equal(h[0].selectors[0].nr_match_actions, 1);
	/* the macro's values are parsed for each hook's argument type */
	assert_int_equal(h[0].selectors[0].match_args[0].values[0].kind, POLICY_VALUE_INT);
	assert_int_equal(h[0].selectors[0].match_args[0].values[0].lo, 5);
	assert_int_equal(h[1].selectors[0].match_args[0].values[0].kind, POLICY_VALUE_STRING);
	assert_string_equal(h[1].selectors[0].match_args[0].values[0].pos.path,
			    "spec.selectorsMacros.args.matchArgs[0].values[0]");
	assert_true(policy_has_enforcement(p));
	policy_free(p);

	expect_errors(
		HDR "  selectorsMacros:\n"
		    "    a: {matchActions: [{action: Post}], label: x}\n"
		    "    b: {matchActions: [{action: Sigkill}]}\n"
		    "  kprobes:\n"
		    "  - call: sys_a\n"
		    "    selectors:\n"
		    "    - macros: [a, b, c]\n"
		    "      label: y\n",
		"p.yaml:12:16: spec.kprobes[0].selectors[0].macros[0]: field 'label' is set both in the selector and in macro 'a'\n"
		"p.yaml:12:19: spec.kprobes[0].selectors[0].macros[1]: field 'matchActions' is set in both macro 'a' and macro 'b'\n"
		"p.yaml:12:22: spec.kprobes[0].selectors[0].macros[2]: unknown macro 'c'\n");
	/* a macro's values are checked against the hook that uses it */
	expect_errors(
		HDR "  selectorsMacros:\n"
		    "    m: {matchArgs: [{index: 0, operator: Prefix, values: [/x]}]}\n"
		    "  kprobes:\n"
		    "  - call: sys_a\n"
		    "    args: [{index: 0, type: int}]\n"
		    "    selectors: [{macros: [m]}]\n",
		"p.yaml:7:42: spec.selectorsMacros.m.matchArgs[0].operator: operator 'Prefix' does not apply to argument type 'int'\n");
}

static void test_policy_validate_label_selectors(void **state)
{
	expect_errors(
		HDR "  podSelector:\n    matchExpressions:\n"
		    "    - {key: a, operator: In}\n"
		    "    - {key: b, operator: Exists, values: [x]}\n"
		    "    - {key: c, operator: Equals, values: [x]}\n"
		    "  containerSelector:\n    matchLabels: {image: x}\n"
		    "  hostSelector:\n    matchLabels: {a: b}\n",
		"p.yaml:8:26: spec.podSelector.matchExpressions[0].operator: operator 'In' needs at least one value\n"
		"p.yaml:9:42: spec.podSelector.matchExpressions[1].values: operator 'Exists' takes no values\n"
		"p.yaml:10:26: spec.podSelector.matchExpressions[2].operator: unknown operator 'Equals'\n"
		"p.yaml:12:26: spec.containerSelector.matchLabels.image: unknown container field 'image' (expected 'name' or 'repo')\n"
		"p.yaml:14:5: spec.hostSelector: hostSelector can only be null or {}\n");
}

static void test_policy_validate_many_mistakes(void **state)
{
	expect_errors(
		HDR "  kprobes:\n"
		    "  - call: sys_openat\n"
		    "    syscal: true\n"
		    "    args:\n"
		    "    - index: 1\n"
		    "      type: strng\n"
		    "    - index: 2\n"
		    "      type: int\n"
		    "    selectors:\n"
		    "    - matchArgs:\n"
		    "      - index: 1\n"
		    "        operator: Prefx\n"
		    "        values: [/etc]\n"
		    "      - index: 2\n"
		    "        operator: Prefix\n"
		    "        values: [/x]\n"
		    "      - index: 3\n"
		    "        operator: Equal\n"
		    "        values: [1]\n"
		    "      matchActions:\n"
		    "      - action: Sigkill\n"
		    "      - action: Signal\n"
		    "        argSig: 100\n"
		    "  options:\n"
		    "  - name: policy-mode\n"
		    "    value: audit\n",
		"p.yaml:8:5: spec.kprobes[0].syscal: unknown field 'syscal' (did you mean 'syscall'?)\n"
		"p.yaml:11:13: spec.kprobes[0].args[0].type: unknown type 'strng' (did you mean 'string'?)\n"
		"p.yaml:17:19: spec.kprobes[0].selectors[0].matchArgs[0].operator: unknown operator 'Prefx' (did you mean 'Prefix'?)\n"
		"p.yaml:20:19: spec.kprobes[0].selectors[0].matchArgs[1].operator: operator 'Prefix' does not apply to argument type 'int'\n"
		"p.yaml:22:16: spec.kprobes[0].selectors[0].matchArgs[2].index: no argument with index 3 in args\n"
		"p.yaml:28:17: spec.kprobes[0].selectors[0].matchActions[1].argSig: argSig 100 out of range (1..64)\n"
		"p.yaml:31:12: spec.options[0].value: invalid value 'audit' for option 'policy-mode' (expected 'enforce' or 'monitor')\n");
}

static void test_policy_validate_enforcement(void **state)
{
	static const char *const enforcing[] = {
		"matchActions: [{action: Sigkill}]\n",
		"matchActions: [{action: Signal, argSig: 1}]\n",
		"matchActions: [{action: Override, argError: -1}]\n",
	};
	struct policy *p;

	for (size_t i = 0; i < ARRAY_SIZE(enforcing); i++) {
		char buf[1024];

		snprintf(buf, sizeof(buf), KP(ARGS2) "%s", enforcing[i]);
		p = parse_ok(buf);
		assert_true(policy_has_enforcement(p));
		policy_free(p);
	}
	p = parse_ok(KP(
		ARGS2) "matchActions: [{action: Post}, {action: NoPost}, {action: GetUrl, argUrl: u}]\n");
	assert_false(policy_has_enforcement(p));
	policy_free(p);
	assert_true(policy_action_is_enforcement(POLICY_ACTION_NOTIFY_ENFORCER));
	assert_true(policy_action_is_enforcement(POLICY_ACTION_SET));
	assert_false(policy_action_is_enforcement(POLICY_ACTION_FOLLOW_FD));
}

static void test_policy_validate_value_parse_for_compiler(void **state)
{
	struct policy *p = parse_ok(
		HDR
		"  kprobes:\n  - call: sys_x\n    args: [{index: 0}]\n"
		"    selectors: [{matchArgs: [{index: 0, operator: Equal, values: ['0x10']}]}]\n");
	struct policy_value *v =
		&p->spec.hooks[POLICY_HOOK_KPROBE][0].selectors[0].match_args[0].values[0];
	char why[256];

	/* type auto: kept as written until BTF gives the type */
	assert_int_equal(v->kind, POLICY_VALUE_STRING);
	assert_int_equal(
		policy_value_parse(p, POLICY_ARG_UINT16, POLICY_OP_EQUAL, v, why, sizeof(why)), 0);
	assert_int_equal(v->kind, POLICY_VALUE_INT);
	assert_int_equal(v->lo, 16);
	assert_int_equal(policy_value_parse(p, POLICY_ARG_SOCK, POLICY_OP_SPORT_PRIV, v, why,
					    sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "operator 'SPortPriv' takes no values");
	v->str = "70000";
	assert_int_equal(policy_value_parse(p, POLICY_ARG_UINT16, POLICY_OP_EQUAL, v, why,
					    sizeof(why)),
			 -ERANGE);
	assert_string_equal(why, "value '70000' out of range for type 'uint16' (0..65535)");
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_validate_selector_limit),
		cmocka_unit_test(test_policy_validate_action_limit),
		cmocka_unit_test(test_policy_validate_args_limit),
		cmocka_unit_test(test_policy_validate_arg_filter_limit),
		cmocka_unit_test(test_policy_validate_numeric_value_limit),
		cmocka_unit_test(test_policy_validate_pid_and_binary_limits),
		cmocka_unit_test(test_policy_validate_string_lengths),
		cmocka_unit_test(test_policy_validate_tags_and_message),
		cmocka_unit_test(test_policy_validate_namespace_limits),
		cmocka_unit_test(test_policy_validate_arg_references),
		cmocka_unit_test(test_policy_validate_arg_fields),
		cmocka_unit_test(test_policy_validate_operator_type_matrix),
		cmocka_unit_test(test_policy_validate_values),
		cmocka_unit_test(test_policy_validate_operator_spellings),
		cmocka_unit_test(test_policy_validate_actions),
		cmocka_unit_test(test_policy_validate_post_options),
		cmocka_unit_test(test_policy_validate_hook_restrictions),
		cmocka_unit_test(test_policy_validate_hook_fields),
		cmocka_unit_test(test_policy_validate_lists),
		cmocka_unit_test(test_policy_validate_options),
		cmocka_unit_test(test_policy_validate_macros),
		cmocka_unit_test(test_policy_validate_label_selectors),
		cmocka_unit_test(test_policy_validate_many_mistakes),
		cmocka_unit_test(test_policy_validate_enforcement),
		cmocka_unit_test(test_policy_validate_value_parse_for_compiler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
