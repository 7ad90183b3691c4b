/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TracingPolicy: parse and validate the YAML policy language shared by the agent, the manager
 * and the CLI, into an in-memory model that a later step compiles into BPF map values.
 *
 * Parsing is strict, as Tetragon's is: unknown fields, wrong YAML types, duplicate keys, values
 * out of range and every semantic rule (limits, operator/type fit, action arguments, hook
 * restrictions, references to lists and macros) are errors. All errors of a document are
 * collected, each with its file, line, column and YAML path.
 *
 * Every object of the model starts with a struct policy_node that records where it came from
 * and where each of its fields' values are, so that the compiler can report its own errors
 * the same way. Strings point into memory owned by the policy; they live until policy_free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define POLICY_API_VERSION "cilium.io/v1alpha1"

/* Limits of the language (Tetragon's, see the TracingPolicy reference). */
#define POLICY_MAX_SELECTORS 5 /* per hook */
#define POLICY_MAX_ACTIONS 3 /* per matchActions / matchReturnActions */
#define POLICY_MAX_ARGS 5 /* len(args) + len(data) per hook */
#define POLICY_MAX_ARG_FILTERS 5 /* matchArgs + matchData per selector */
#define POLICY_MAX_NUMERIC_VALUES 4 /* Equal/NotEqual/GT/LT/Mask on integers, InRange */
#define POLICY_MAX_PID_VALUES 4
#define POLICY_MAX_NS_VALUES 4
#define POLICY_MAX_NS_FILTERS 10
#define POLICY_MAX_PREFIX_LEN 256
#define POLICY_MAX_POSTFIX_LEN 127
#define POLICY_MAX_STRING_LEN 4096 /* Equal on strings: largest string map bucket */
#define POLICY_MAX_BINARY_LEN 255
#define POLICY_MAX_SUBSTRING_LEN 99
#define POLICY_MAX_SUBSTRINGS 100 /* per policy */
#define POLICY_MAX_TAGS 16
#define POLICY_MIN_TAG_LEN 2
#define POLICY_MAX_TAG_LEN 128
#define POLICY_MAX_MESSAGE_LEN 256
#define POLICY_MAX_RESOLVE_DEPTH 10
#define POLICY_MAX_INMAP_RANGE 65536 /* values one InMap range may expand to */

/* Limits of the parser itself, so that no input can make it use unbounded memory or time. */
#define POLICY_MAX_SIZE (2u << 20) /* bytes of YAML */
#define POLICY_MAX_NODES 100000 /* YAML nodes visited, aliases expanded */
#define POLICY_MAX_ERRORS 100 /* reported per call */

/* ---------------------------------------------------------------------------------------- */
/* Enumerations. Operators and actions carry Tetragon's numbers. */

enum policy_kind {
	POLICY_KIND_TRACING_POLICY,
	POLICY_KIND_TRACING_POLICY_NAMESPACED,
};

enum policy_hook_kind {
	POLICY_HOOK_KPROBE,
	POLICY_HOOK_FENTRY,
	POLICY_HOOK_TRACEPOINT,
	POLICY_HOOK_UPROBE,
	POLICY_HOOK_USDT,
	POLICY_HOOK_LSM,
	POLICY_HOOK_KIND_MAX,
};

enum policy_arg_type {
	POLICY_ARG_AUTO = 0, /* taken from BTF when the policy is compiled */
	POLICY_ARG_INT8,
	POLICY_ARG_UINT8,
	POLICY_ARG_INT16,
	POLICY_ARG_UINT16,
	POLICY_ARG_INT32,
	POLICY_ARG_UINT32,
	POLICY_ARG_INT64,
	POLICY_ARG_UINT64,
	POLICY_ARG_SIZE_T,
	POLICY_ARG_STRING,
	POLICY_ARG_CHAR_BUF,
	POLICY_ARG_CHAR_IOVEC,
	POLICY_ARG_CONST_BUF,
	POLICY_ARG_DATA_LOC,
	POLICY_ARG_FILENAME,
	POLICY_ARG_FD,
	POLICY_ARG_FILE,
	POLICY_ARG_PATH,
	POLICY_ARG_DENTRY,
	POLICY_ARG_KIOCB,
	POLICY_ARG_IOV_ITER,
	POLICY_ARG_LINUX_BINPRM,
	POLICY_ARG_SKB,
	POLICY_ARG_SOCK,
	POLICY_ARG_SOCKET,
	POLICY_ARG_SOCKADDR,
	POLICY_ARG_SOCKADDR_UN,
	POLICY_ARG_NET_DEVICE,
	POLICY_ARG_CRED,
	POLICY_ARG_CAPABILITY,
	POLICY_ARG_KERNEL_CAP_T,
	POLICY_ARG_CAP_INHERITABLE,
	POLICY_ARG_CAP_PERMITTED,
	POLICY_ARG_CAP_EFFECTIVE,
	POLICY_ARG_USER_NAMESPACE,
	POLICY_ARG_BPF_ATTR,
	POLICY_ARG_BPF_MAP,
	POLICY_ARG_BPF_PROG,
	POLICY_ARG_PERF_EVENT,
	POLICY_ARG_BPF_CMD,
	POLICY_ARG_LOAD_INFO,
	POLICY_ARG_MODULE,
	POLICY_ARG_SYSCALL64,
	POLICY_ARG_NOP,
	POLICY_ARG_TYPE_MAX,
};

enum policy_operator {
	POLICY_OP_INVALID = 0,
	POLICY_OP_GT = 1,
	POLICY_OP_LT = 2,
	POLICY_OP_EQUAL = 3,
	POLICY_OP_NOT_EQUAL = 4,
	POLICY_OP_IN = 5,
	POLICY_OP_NOT_IN = 6,
	POLICY_OP_PREFIX = 8,
	POLICY_OP_POSTFIX = 9,
	POLICY_OP_IN_MAP = 10,
	POLICY_OP_NOT_IN_MAP = 11,
	POLICY_OP_MASK = 12,
	POLICY_OP_SADDR = 13,
	POLICY_OP_DADDR = 14,
	POLICY_OP_SPORT = 15,
	POLICY_OP_DPORT = 16,
	POLICY_OP_PROTOCOL = 17,
	POLICY_OP_NOT_SPORT = 18,
	POLICY_OP_NOT_DPORT = 19,
	POLICY_OP_SPORT_PRIV = 20,
	POLICY_OP_NOT_SPORT_PRIV = 21,
	POLICY_OP_DPORT_PRIV = 22,
	POLICY_OP_NOT_DPORT_PRIV = 23,
	POLICY_OP_NOT_SADDR = 24,
	POLICY_OP_NOT_DADDR = 25,
	POLICY_OP_NOT_PREFIX = 26,
	POLICY_OP_NOT_POSTFIX = 27,
	POLICY_OP_FAMILY = 28,
	POLICY_OP_STATE = 29,
	POLICY_OP_CAPABILITIES_GAINED = 30,
	POLICY_OP_IN_RANGE = 31,
	POLICY_OP_NOT_IN_RANGE = 32,
	POLICY_OP_SUBSTRING = 33,
	POLICY_OP_SUBSTRING_IGN_CASE = 34,
	POLICY_OP_CEL_EXPR = 35,
	POLICY_OP_FILE_TYPE = 36,
	POLICY_OP_NOT_FILE_TYPE = 37,
	POLICY_OP_MAX,
};

enum policy_action_id {
	POLICY_ACTION_NONE = -1, /* returnArgAction not set */
	POLICY_ACTION_POST = 0,
	POLICY_ACTION_FOLLOW_FD = 1,
	POLICY_ACTION_SIGKILL = 2,
	POLICY_ACTION_UNFOLLOW_FD = 3,
	POLICY_ACTION_OVERRIDE = 4,
	POLICY_ACTION_COPY_FD = 5,
	POLICY_ACTION_GET_URL = 6,
	POLICY_ACTION_DNS_LOOKUP = 7,
	POLICY_ACTION_NO_POST = 8,
	POLICY_ACTION_SIGNAL = 9,
	POLICY_ACTION_TRACK_SOCK = 10,
	POLICY_ACTION_UNTRACK_SOCK = 11,
	POLICY_ACTION_NOTIFY_ENFORCER = 12,
	POLICY_ACTION_CLEANUP_ENFORCER_NOTIFICATION = 13,
	POLICY_ACTION_SET = 14,
	POLICY_ACTION_MAX,
};

/* Order of the Namespaces message in tetragon.proto (uts = 1 there). */
enum policy_ns {
	POLICY_NS_UTS,
	POLICY_NS_IPC,
	POLICY_NS_MNT,
	POLICY_NS_PID,
	POLICY_NS_PID_FOR_CHILDREN,
	POLICY_NS_NET,
	POLICY_NS_TIME,
	POLICY_NS_TIME_FOR_CHILDREN,
	POLICY_NS_CGROUP,
	POLICY_NS_USER,
	POLICY_NS_MAX,
};

enum policy_cap_type {
	POLICY_CAP_EFFECTIVE, /* default */
	POLICY_CAP_INHERITABLE,
	POLICY_CAP_PERMITTED,
};

enum policy_mode {
	POLICY_MODE_ENFORCE, /* default */
	POLICY_MODE_MONITOR,
};

enum policy_override_method {
	POLICY_OVERRIDE_DEFAULT, /* not set: the agent chooses */
	POLICY_OVERRIDE_RETURN, /* override-return */
	POLICY_OVERRIDE_FMOD_RET, /* fmod-ret */
};

enum policy_rate_limit_scope {
	POLICY_RATE_LIMIT_THREAD, /* default */
	POLICY_RATE_LIMIT_PROCESS,
	POLICY_RATE_LIMIT_GLOBAL,
};

enum policy_arg_source {
	POLICY_SOURCE_NONE, /* args and returnArg */
	POLICY_SOURCE_CURRENT_TASK,
	POLICY_SOURCE_PT_REGS,
};

enum policy_list_type {
	POLICY_LIST_SYSCALLS, /* default */
	POLICY_LIST_GENERATED_SYSCALLS,
	POLICY_LIST_GENERATED_FTRACE,
};

enum policy_label_op {
	POLICY_LABEL_IN,
	POLICY_LABEL_NOT_IN,
	POLICY_LABEL_EXISTS,
	POLICY_LABEL_DOES_NOT_EXIST,
};

/* ---------------------------------------------------------------------------------------- */
/* Source positions. */

struct policy_pos {
	const char *path; /* YAML path: "spec.kprobes[0].args[1].type"; "" for the root */
	unsigned int line; /* 1-based; 0 for a value that is not in the source (a default) */
	unsigned int col; /* 1-based */
};

/* One key of a mapping as written in the source, and where its value is. */
struct policy_key {
	const char *name;
	struct policy_pos pos;
	bool invalid; /* decoding the value failed: only while parsing, never in a parsed policy */
};

struct policy_node {
	struct policy_pos pos; /* the mapping (or scalar) itself */
	const struct policy_key *keys; /* keys present in the source, in source order */
	size_t nr_keys;
	bool invalid; /* decoding the object failed: as for policy_key */
};

/* A scalar element of a list, with its position. */
struct policy_str {
	struct policy_pos pos;
	const char *str;
};

struct policy_uint {
	struct policy_pos pos;
	uint64_t val;
};

/* ---------------------------------------------------------------------------------------- */
/* The model. Absent strings are NULL, absent lists have nr == 0. */

enum policy_value_kind {
	POLICY_VALUE_STRING, /* compared as a string (or left for the compiler: type auto) */
	POLICY_VALUE_INT, /* lo */
	POLICY_VALUE_RANGE, /* lo..hi, inclusive */
	POLICY_VALUE_ADDR, /* family, addr, prefix_len */
	POLICY_VALUE_LIST, /* list (InMap "list:NAME") */
	POLICY_VALUE_HOST_NS, /* matchNamespaces "host_ns" */
};

/*
 * A value of a filter: the text as written and, where numeric, the number. For signed argument
 * types lo and hi hold int64_t values. Capabilities are numbers (CAP_*), kernel capability sets
 * masks, FileType values S_IF* bits, matchNamespaceChanges values enum policy_ns.
 */
struct policy_value {
	struct policy_pos pos;
	const char *str;
	enum policy_value_kind kind;
	uint64_t lo;
	uint64_t hi;
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order */
	uint8_t prefix_len; /* 32 or 128 for a single address */
	const struct policy_list *list;
};

/* An element of args, data or returnArg (KProbeArg). */
struct policy_arg {
	struct policy_node node;
	uint32_t index;
	enum policy_arg_type type; /* POLICY_ARG_AUTO when absent */
	const char *type_name; /* as written (an alias such as "sint32"); NULL when absent */
	const char *resolve;
	uint32_t size_arg_index; /* 1-based; 0 = none */
	bool return_copy;
	bool max_data;
	const char *label;
	enum policy_arg_source source;
	const char *btf_type;
	const char *btf_type_module;
};

/* matchArgs, matchData and matchReturnArgs. */
struct policy_arg_filter {
	struct policy_node node;
	uint32_t index; /* matchArgs: an args[].index; matchData: position in data */
	struct policy_uint *args; /* "args": positions in the hook's args list */
	size_t nr_args;
	enum policy_operator op;
	struct policy_value *values;
	size_t nr_values;
};

struct policy_pid_filter {
	struct policy_node node;
	enum policy_operator op; /* In or NotIn */
	struct policy_uint *values;
	size_t nr_values;
	bool is_namespace_pid;
	bool follow_forks;
};

/* matchBinaries and matchParentBinaries. */
struct policy_binary_filter {
	struct policy_node node;
	enum policy_operator op; /* In NotIn Prefix NotPrefix Postfix NotPostfix */
	struct policy_str *values;
	size_t nr_values;
	bool follow_children;
};

struct policy_ns_filter {
	struct policy_node node;
	enum policy_ns ns;
	enum policy_operator op;
	struct policy_value *values; /* INT (inode) or HOST_NS */
	size_t nr_values;
};

struct policy_ns_change_filter {
	struct policy_node node;
	enum policy_operator op;
	struct policy_value *values; /* INT: lo is an enum policy_ns */
	size_t nr_values;
};

/* matchCapabilities and matchCapabilityChanges. */
struct policy_cap_filter {
	struct policy_node node;
	enum policy_cap_type type;
	enum policy_operator op;
	bool is_namespace_capability;
	struct policy_value *values; /* INT: lo is a capability number */
	size_t nr_values;
};

struct policy_label {
	struct policy_pos pos; /* of the value */
	const char *key;
	const char *value;
};

struct policy_label_requirement {
	struct policy_node node;
	const char *key;
	enum policy_label_op op;
	struct policy_str *values;
	size_t nr_values;
};

/* A Kubernetes label selector. present: the field was given and not null ("{}" selects all). */
struct policy_label_selector {
	struct policy_node node;
	bool present;
	struct policy_label *match_labels;
	size_t nr_match_labels;
	struct policy_label_requirement *match_expressions;
	size_t nr_match_expressions;
};

struct policy_workload_filter {
	struct policy_node node;
	struct policy_label_selector pod_selector;
	struct policy_label_selector container_selector;
	struct policy_label_selector host_selector;
};

struct policy_action {
	struct policy_node node;
	enum policy_action_id action;
	uint32_t arg_fd;
	uint32_t arg_name;
	const char *arg_url;
	const char *arg_fqdn;
	int32_t arg_error;
	uint32_t arg_sig;
	uint32_t arg_sock;
	const char *rate_limit;
	uint64_t rate_limit_ms;
	enum policy_rate_limit_scope rate_limit_scope;
	bool kernel_stack_trace;
	bool user_stack_trace;
	bool ima_hash;
	struct policy_str *arg_regs;
	size_t nr_arg_regs;
	const char *arg_new_symbol;
	uint64_t arg_new_addr;
	uint64_t arg_new_offset;
	uint32_t arg_index;
	int64_t arg_value;
};

/* A selector; macros named in it are merged in when the policy is parsed. */
struct policy_selector {
	struct policy_node node;
	const char *label;
	struct policy_str *macros;
	size_t nr_macros;
	struct policy_pid_filter *match_pids;
	size_t nr_match_pids;
	struct policy_arg_filter *match_args;
	size_t nr_match_args;
	struct policy_arg_filter *match_data;
	size_t nr_match_data;
	struct policy_arg_filter *match_return_args;
	size_t nr_match_return_args;
	struct policy_action *match_actions;
	size_t nr_match_actions;
	struct policy_action *match_return_actions;
	size_t nr_match_return_actions;
	struct policy_binary_filter *match_binaries;
	size_t nr_match_binaries;
	struct policy_binary_filter *match_parent_binaries;
	size_t nr_match_parent_binaries;
	struct policy_ns_filter *match_namespaces;
	size_t nr_match_namespaces;
	struct policy_ns_change_filter *match_namespace_changes;
	size_t nr_match_namespace_changes;
	struct policy_cap_filter *match_capabilities;
	size_t nr_match_capabilities;
	struct policy_cap_filter *match_capability_changes;
	size_t nr_match_capability_changes;
	struct policy_workload_filter *match_workloads;
	size_t nr_match_workloads;
};

/* "ignore": callNotFound for kprobes and fentries, digestVerificationFailure for uprobes. */
struct policy_ignore {
	struct policy_node node;
	bool call_not_found;
	bool digest_verification_failure;
};

/*
 * One hook of any section. The fields common to all kinds come first; the kind-specific ones
 * are grouped and zero for other kinds.
 */
struct policy_hook {
	struct policy_node node;
	enum policy_hook_kind kind;
	const char *message;
	struct policy_str *tags;
	size_t nr_tags;
	struct policy_arg *args;
	size_t nr_args;
	struct policy_arg *data;
	size_t nr_data;
	bool ret; /* "return" */
	struct policy_arg *return_arg; /* NULL when absent */
	struct policy_selector *selectors;
	size_t nr_selectors;

	struct policy_ignore ignore;

	struct { /* kprobes, fentries */
		const char *call; /* may be "list:NAME" */
		const struct policy_list *call_list;
		bool syscall; /* default true */
		enum policy_action_id return_arg_action; /* TrackSock, UntrackSock or NONE */
	} kprobe;
	struct { /* tracepoints */
		const char *subsystem;
		const char *event;
		bool raw;
	} tp;
	struct { /* uprobes and usdts */
		const char *path;
		const char *btf_path;
		struct policy_str *symbols;
		size_t nr_symbols;
		struct policy_uint *offsets;
		size_t nr_offsets;
		struct policy_uint *addrs;
		size_t nr_addrs;
		struct policy_uint *ref_ctr_offsets;
		size_t nr_ref_ctr_offsets;
		struct policy_str *binary_digests;
		size_t nr_binary_digests;
		const char *provider; /* usdts */
		const char *name; /* usdts */
	} uprobe;
	struct { /* lsmhooks */
		const char *hook;
	} lsm;
};

struct policy_list {
	struct policy_node node;
	const char *name;
	enum policy_list_type type;
	struct policy_str *values;
	size_t nr_values;
	const char *pattern;
	bool validated;
};

struct policy_enforcer {
	struct policy_node node;
	struct policy_str *calls;
	size_t nr_calls;
};

struct policy_option {
	struct policy_node node;
	const char *name;
	const char *value;
};

struct policy_macro {
	struct policy_node node; /* the selector */
	const char *name;
	struct policy_selector selector;
};

/* spec.options, parsed. */
struct policy_options {
	enum policy_mode mode;
	bool disable_kprobe_multi;
	bool disable_uprobe_multi;
	enum policy_override_method override_method;
	uint64_t sleepable_preload_size; /* 0: not set */
};

struct policy_spec {
	struct policy_node node;
	struct policy_hook *hooks[POLICY_HOOK_KIND_MAX]; /* per section, see policy_hooks() */
	size_t nr_hooks[POLICY_HOOK_KIND_MAX];
	bool loader;
	struct policy_enforcer *enforcers;
	size_t nr_enforcers;
	struct policy_list *lists;
	size_t nr_lists;
	struct policy_option *option_list;
	size_t nr_option_list;
	struct policy_options options;
	struct policy_macro *macros; /* selectorsMacros */
	size_t nr_macros;
	struct policy_label_selector pod_selector;
	struct policy_label_selector container_selector;
	struct policy_label_selector host_selector;
	struct policy_label_selector node_selector;
};

struct policy_metadata {
	struct policy_node node;
	const char *name;
	const char *namespace; /* NULL when absent */
	struct policy_label *labels;
	size_t nr_labels;
	struct policy_label *annotations;
	size_t nr_annotations;
};

struct policy_store;

struct policy {
	struct policy_node node;
	const char *filename;
	const char *api_version;
	enum policy_kind kind;
	struct policy_metadata metadata;
	struct policy_spec spec;
	struct policy *next; /* the next document, for policy_parse_buffer_all() */
	struct policy_store *store; /* private: the memory behind the model */
};

/* ---------------------------------------------------------------------------------------- */
/* Errors. */

struct policy_error {
	char *file; /* NULL when parsing a buffer without a name */
	unsigned int line; /* 1-based; 0 when the error has no position */
	unsigned int col;
	char *path; /* YAML path; "" when none */
	char *msg;
};

/* Zero-initialise; errors accumulate over calls until policy_errors_clear(). */
struct policy_errors {
	struct policy_error *errors;
	size_t nr;
	size_t cap;
	bool truncated; /* more than POLICY_MAX_ERRORS in one call: the rest were dropped */
};

/*
 * Append an error found after parsing (by a compiler), in the same form: file
 * (may be NULL), the position of the node at fault (may be NULL), the reason.
 * Returns 0 or -ENOMEM. NULL errs is allowed and does nothing.
 */
int policy_errors_add(struct policy_errors *errs, const char *file, const struct policy_pos *pos,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Free every error; errs can be reused afterwards. */
void policy_errors_clear(struct policy_errors *errs);

/*
 * Append one line per error to out: "FILE:LINE:COL: PATH: message". Parts that are unknown are
 * left out. Returns 0 or -ENOMEM.
 */
int policy_errors_format(const struct policy_errors *errs, struct sbuf *out);

/* ---------------------------------------------------------------------------------------- */
/* Parsing. */

/*
 * Parse and validate one policy from buf (len bytes, need not be NUL-terminated). filename
 * names the source in errors and may be NULL. On success returns 0 and *ret owns the policy;
 * release it with policy_free(). On a policy error returns -EINVAL, leaves *ret alone and
 * appends every error found to errs (which may be NULL). A second YAML document is an error.
 * Returns -ENOMEM when memory runs out.
 */
int policy_parse_buffer(const char *buf, size_t len, const char *filename, struct policy **ret,
			struct policy_errors *errs);

/*
 * Like policy_parse_buffer() for a stream of one or more documents ("---"); empty documents
 * are skipped, and at least one policy is required. On success *ret owns the first policy,
 * the others follow through ->next; policy_free() releases the whole list. Names (with their
 * namespace) must be unique across the documents.
 */
int policy_parse_buffer_all(const char *buf, size_t len, const char *filename, struct policy **ret,
			    struct policy_errors *errs);

/*
 * Read path (at most POLICY_MAX_SIZE bytes) and parse it like policy_parse_buffer() or
 * policy_parse_buffer_all(), naming it path in errors. Returns what those return, or a negative
 * errno when the file cannot be read (with an error in errs too).
 */
int policy_parse_file(const char *path, struct policy **ret, struct policy_errors *errs);
int policy_parse_file_all(const char *path, struct policy **ret, struct policy_errors *errs);

/*
 * Rewrite policy YAML so that every document's spec.options sets policy-mode to mode
 * ("enforce" or "monitor"), replacing a policy-mode option that is there. Comments and
 * formatting are not kept. On success *ret is the new text (free() it). Returns -EINVAL
 * for text that is not YAML with a spec mapping.
 */
int policy_yaml_set_mode(const char *yaml, size_t len, const char *mode, char **ret);

/* Free a policy and the policies after it (->next). NULL-safe; returns NULL. */
struct policy *policy_free(struct policy *p);

/* ---------------------------------------------------------------------------------------- */
/* Queries. None of them allocates; returned pointers live as long as the policy. */

/* The hooks of one section (kprobes, fentries, ...), *nr set to their number. */
struct policy_hook *policy_hooks(const struct policy *p, enum policy_hook_kind kind, size_t *nr);

/* Where the value of key is in n, or n's own position when key was not in the source. */
const struct policy_pos *policy_node_pos(const struct policy_node *n, const char *key);
bool policy_node_has(const struct policy_node *n, const char *key);

/* The policy-mode option (enforce unless spec.options says monitor). */
enum policy_mode policy_get_mode(const struct policy *p);

/* Whether any selector has Sigkill, Signal, Override, NotifyEnforcer or Set. */
bool policy_has_enforcement(const struct policy *p);
bool policy_action_is_enforcement(enum policy_action_id action);

/* Find a list of spec.lists by name, or NULL. */
const struct policy_list *policy_find_list(const struct policy *p, const char *name);

/*
 * Whether op can filter an argument of type (POLICY_ARG_AUTO accepts every argument operator;
 * the compiler asks again once BTF told the real type).
 */
bool policy_operator_supports(enum policy_operator op, enum policy_arg_type type);

/*
 * Parse v->str as a value for op on an argument of type, setting kind, lo, hi, family, addr,
 * prefix_len and list. p resolves "list:NAME" (may be NULL: no lists). Returns 0, or -EINVAL or
 * -ERANGE with the reason (lower case, no period) in why.
 */
int policy_value_parse(const struct policy *p, enum policy_arg_type type, enum policy_operator op,
		       struct policy_value *v, char *why, size_t why_size);

/* ---------------------------------------------------------------------------------------- */
/* Names. *_name() returns the canonical spelling (NULL when out of range); *_from_name()
 * returns the value or -EINVAL. Operators and types are case-sensitive like Tetragon's; action,
 * namespace and capability-type names are not. Aliases such as "eq", "gt", "GreaterThan",
 * "sint32", "unsigned long" are accepted. */

const char *policy_hook_kind_name(enum policy_hook_kind kind); /* the spec section: "kprobes" */
const char *policy_arg_type_name(enum policy_arg_type type);
int policy_arg_type_from_name(const char *name);
const char *policy_operator_name(enum policy_operator op);
int policy_operator_from_name(const char *name);
const char *policy_action_name(enum policy_action_id action);
int policy_action_from_name(const char *name);
const char *policy_ns_name(enum policy_ns ns);
int policy_ns_from_name(const char *name);
const char *policy_cap_type_name(enum policy_cap_type type);
int policy_cap_type_from_name(const char *name);
const char *policy_mode_name(enum policy_mode mode);
int policy_mode_from_string(const char *s);
const char *policy_override_method_name(enum policy_override_method m);
int policy_override_method_from_name(const char *name);
const char *policy_rate_limit_scope_name(enum policy_rate_limit_scope scope);
int policy_rate_limit_scope_from_name(const char *name);
const char *policy_list_type_name(enum policy_list_type type);
int policy_list_type_from_name(const char *name);
const char *policy_label_op_name(enum policy_label_op op);
int policy_label_op_from_name(const char *name);
/* "CAP_SYS_ADMIN" <-> 21 */
const char *policy_capability_name(unsigned int cap);
int policy_capability_from_name(const char *name);
/* "SIGKILL" or "KILL" -> 9 */
int policy_signal_from_name(const char *name);
/* "AF_INET", "IPPROTO_TCP", "TCP_ESTABLISHED", FileType names ("reg", "dir", ...). */
int policy_family_from_name(const char *name);
int policy_protocol_from_name(const char *name);
int policy_tcp_state_from_name(const char *name);
int policy_file_type_from_name(const char *name);
int policy_bpf_cmd_from_name(const char *name);
