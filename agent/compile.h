/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy compiler: a parsed TracingPolicy (lib/policy) becomes, per hook,
 * the gen_hook and gen_selector values of the generic programs, the values of
 * its string and number filters, where to attach, and what user space needs to
 * turn the hook's records into events. Errors are reported like the parser's,
 * with the file, line, column and YAML path of what cannot be compiled.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/generic.h"
#include "lib/policy/policy.h"
#include "lib/probe.h"

struct sensor_generic;
struct gen_link;

/* A value set of a filter, inserted into the generic maps under map_id. */
enum cset_kind {
	CSET_STRINGS, /* exact strings */
	CSET_PREFIX,
	CSET_POSTFIX,
	CSET_NUMBERS,
	CSET_ADDR6,
};

struct cset {
	enum cset_kind kind;
	uint32_t map_id;
	char **strs; /* strings, prefixes, postfixes */
	size_t *lens;
	uint64_t *nums;
	uint8_t (*addrs)[16];
	uint8_t *prefix_lens;
	size_t n;
};

/* What decoding a record needs about one argument. */
struct carg {
	enum policy_arg_type type; /* the policy's type (after inference) */
	const char *label; /* points into the policy */
	bool present;
};

/* Per-selector information the kernel does not need. */
struct csel_meta {
	const char *label;
	const char *url; /* GetUrl */
	const char *fqdn; /* DnsLookup */
};

/* How a hook is attached. */
enum chook_attach {
	CATT_TRACEPOINT, /* tracepoints and syscall tracepoints (tp_category, tp_name) */
	CATT_RAW_TP,
	CATT_UPROBE,
	CATT_KPROBE, /* kfunc: kprobe, kretprobe for the return */
	CATT_KPROBE_MULTI, /* the same, in one kprobe.multi link per policy */
	CATT_FENTRY, /* fentry, fexit for the return */
	CATT_FMOD_RET, /* fmod_ret (may override), fexit for the return */
	CATT_LSM, /* BPF LSM on the hook kfunc */
};

struct chook {
	enum policy_hook_kind section; /* kprobes, tracepoints, uprobes... */
	unsigned index; /* in its section */
	struct gen_hook gh;
	struct gen_selector sel[GEN_MAX_SELECTORS];
	struct csel_meta sel_meta[GEN_MAX_SELECTORS];
	struct carg args[GEN_ARG_SLOTS];
	/* where to attach */
	char *tp_category; /* tracepoint and syscall hooks */
	char *tp_name;
	char *tp_exit_name; /* syscalls with return: the sys_exit_ tracepoint */
	bool raw;
	char *uprobe_path;
	char *uprobe_symbol;
	uint64_t uprobe_offset;
	enum chook_attach attach;
	char *kfunc; /* kernel function, or LSM hook name */
	bool override; /* a selector may override the return value */
	char *mechanism; /* "tracepoint", "syscall tracepoint", "kprobe", "BPF LSM"... */
	/* for events */
	char *function_name; /* kprobes: "__x64_sys_openat"; uprobes: the symbol */
	const char *subsys, *event, *path; /* tracepoints, uprobes */
	const char *message;
	char **tags;
	size_t n_tags;
	char *description; /* for hook statuses */
	/* attached */
	struct gen_link *link;
	struct gen_link *exit_link;
	bool attached; /* its own links, or its place in the policy's kprobe.multi links */
	bool installed;
	/*
	 * Restart takeover: the old agent's copy of this hook stayed attached until
	 * this time (CLOCK_BOOTTIME ns); records before it are taken from the old ring
	 * buffer, after it from ours. 0 when there was no old copy.
	 */
	uint64_t takeover_cut_ns;
};

struct cbin_set {
	char *path;
	uint64_t bit;
};

struct cpolicy {
	struct chook *hooks;
	size_t n_hooks;
	struct cset *sets;
	size_t n_sets;
	struct cbin_set *bin_sets;
	size_t n_bin_sets;
	uint64_t bin_bits; /* followChildren bits allocated */
	uint32_t policy_id;
	uint64_t kernel_memory; /* estimate of what the maps hold for this policy */
	bool has_enforcement;
	/* kprobe.multi: one link per policy for entries, overriding entries and returns */
	struct gen_link *multi[3];
	/* hooks skipped because their function is missing (ignore.callNotFound) */
	char **ignored;
	unsigned *ignored_idx; /* their index in the kprobes section */
	size_t n_ignored;
};

/*
 * Compile p. Ids (policy, hooks, value sets, followChildren bits) are allocated
 * from g. On success returns 0 and *ret owns the result (cpolicy_free()). On
 * failure returns -EINVAL (errors in errs), -EOPNOTSUPP (the kernel lacks what a
 * hook needs, said in errs), -ENOENT (no such tracepoint, binary or symbol) or
 * -ENOSPC; nothing stays allocated.
 */
int compile_policy(const struct policy *p, struct sensor_generic *g,
		   const struct kernel_features *kf, struct cpolicy **ret,
		   struct policy_errors *errs);
/* Release the ids and memory (does not touch the kernel: see policies.c). */
struct cpolicy *cpolicy_free(struct cpolicy *c, struct sensor_generic *g);

struct btf;

/* What a resolve path ends at, for checking it against the argument's type. */
struct resolve_end {
	const char *struct_name; /* the struct or union the value points at or is the address of */
	unsigned int size; /* a scalar's size in bytes (is_scalar) */
	bool is_scalar; /* an integer or enum member: the value is its value */
	bool is_ptr; /* a pointer member: the value is the pointer */
	bool is_char; /* a char array (the value is its address) or a pointer to char */
	bool is_void_ptr;
};

/*
 * Turn path ("f_path.dentry", "cred.user_ns", "fds[3]") into the steps of a resolve,
 * following members from type_id (a pointer to a struct or union, or with btfType the
 * struct or union the value points to; modifiers and typedefs allowed) through btf. On success returns 0 and fills *out and *end. On
 * failure returns -EINVAL with the reason in why (lower case, no period).
 */
int compile_resolve(const struct btf *btf, uint32_t type_id, const char *path,
		    struct gen_resolve *out, struct resolve_end *end, char *why, size_t why_size);

/* A tracepoint's record format from tracefs, for argument offsets and types. */
struct tp_field {
	char name[64];
	char type[128];
	uint16_t offset;
	uint16_t size;
	bool is_signed;
};

/* Read the fields of subsystem/event (common fields included). Returns the count or -errno. */
int tracepoint_format(const char *subsystem, const char *event, struct tp_field *fields,
		      size_t max);
