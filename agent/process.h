/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process cache: who every pid is (binary, arguments, cwd, credentials,
 * namespaces, container), with parent links, so that events carry full process
 * identity. Entries are reference counted: one reference while the pid is
 * alive and mapped to the entry, one per cached child that names it as parent,
 * one per event being built. Bounded: past the limit, the least recently used
 * entries that are no longer alive are evicted first (counted), then live ones.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "tetragon/tetragon.pb-c.h"
#include "lib/htable.h"
#include "bpf/exec.h"

/* process.flags, printed in Process.flags as Tetragon names them */
#define PROC_F_EXECVE (1u << 0)
#define PROC_F_PROCFS (1u << 1)
#define PROC_F_CLONE (1u << 2)
#define PROC_F_TRUNC_FILENAME (1u << 3)
#define PROC_F_TRUNC_ARGS (1u << 4)
#define PROC_F_ERROR_FILENAME (1u << 5)
#define PROC_F_ERROR_ARGS (1u << 6)
#define PROC_F_ERROR_CWD (1u << 7)
#define PROC_F_MISS (1u << 8)
#define PROC_F_NEEDS_AUID (1u << 9)

struct process {
	struct hnode by_pid;
	struct process *parent; /* holds a reference, or NULL */
	struct process *first_child, *next_sibling, *prev_sibling;
	struct process *lru_prev, *lru_next; /* on the live or the dead list */
	unsigned refcnt;
	unsigned nchildren;
	bool alive; /* the pid maps to this entry */
	bool exited;

	uint32_t pid, tid, ppid, nspid;
	uint64_t ktime; /* CLOCK_BOOTTIME ns of the exec (or fork): part of exec_id */
	uint32_t flags;
	uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid, auid, securebits;
	uint64_t cap_permitted, cap_effective, cap_inheritable;
	uint32_t ns[NS_COUNT];
	uint64_t cgroup_id;
	int in_init_tree; /* -1 unknown (not in a container) */

	char *exec_id;
	char *parent_exec_id;
	char *binary;
	char *args;
	char *cwd;
	char *docker;
	char *flags_str;

	/* The tetragon.Process view, built once; refcnt is set when an event is built. */
	Tetragon__Process pb;
	Google__Protobuf__UInt32Value pb_pid, pb_uid, pb_auid, pb_tid;
	Google__Protobuf__Timestamp pb_start;
	Google__Protobuf__BoolValue pb_init_tree;
	Tetragon__Capabilities pb_caps;
	Tetragon__CapabilitiesType *cap_list; /* permitted, effective, inheritable back to back */
	Tetragon__Namespaces pb_ns;
	Tetragon__Namespace pb_nss[NS_COUNT];
	Tetragon__ProcessCredentials pb_cred;
	Google__Protobuf__UInt32Value pb_cred_ids[8];
};

struct process_cache_stats {
	uint64_t size;
	uint64_t capacity;
	uint64_t inserts;
	uint64_t evictions; /* entries dropped to stay under the limit */
	uint64_t evicted_alive; /* of which the pid was still alive */
	uint64_t misses; /* lookups of a pid the cache did not know */
	uint64_t parent_misses; /* a process whose parent was unknown */
};

struct process_cache_config {
	const char *node_name;
	uint64_t boot_time_ns; /* wall clock of boot: start_time = boot_time_ns + ktime */
	size_t capacity;
	bool process_cred; /* fill Process.process_credentials and Process.cap */
	bool process_ns; /* fill Process.ns */
	uint32_t host_ns[NS_COUNT]; /* namespaces of pid 1, to set Namespace.is_host */
};

struct process_cache;

/* On success *ret owns the cache; free it with process_cache_free(). Copies cfg. */
int process_cache_new(const struct process_cache_config *cfg, struct process_cache **ret);
struct process_cache *process_cache_free(struct process_cache *c);

/* What a new entry is made of (exec, fork or /proc). Strings are copied. */
struct process_info {
	uint32_t pid, tid, ppid, nspid;
	uint64_t ktime;
	uint32_t flags;
	uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid, auid, securebits;
	uint64_t cap_permitted, cap_effective, cap_inheritable;
	uint32_t ns[NS_COUNT];
	uint64_t cgroup_id;
	const char *binary;
	const char *args; /* already joined for display */
	const char *cwd;
	const char *cgroup_name; /* cgroup v2 leaf name: the container id comes from it */
};

/*
 * Make info the current identity of its pid, linked to the current entry of its
 * ppid. Returns the entry with a reference for the caller (process_put()), or
 * NULL when out of memory.
 */
struct process *process_cache_add(struct process_cache *c, const struct process_info *info);
/*
 * A fork: a new entry for the child that copies the parent's identity (binary,
 * arguments, cwd, credentials) with the child's pid and start time. Returns a
 * reference for the caller, or NULL when the parent is unknown.
 */
struct process *process_cache_fork(struct process_cache *c, uint32_t pid, uint32_t tid,
				   uint32_t ppid, uint32_t nspid, uint64_t ktime);
/* The current entry of pid with a reference for the caller, or NULL (counted as a miss). */
struct process *process_cache_get(struct process_cache *c, uint32_t pid);
/* The pid exited: its entry is no longer alive. Returns it with a reference, or NULL. */
struct process *process_cache_exit(struct process_cache *c, uint32_t pid);
void process_get(struct process *p);
void process_put(struct process_cache *c, struct process *p);
void process_cache_get_stats(struct process_cache *c, struct process_cache_stats *st);
/* Call fn for every live entry. */
void process_cache_walk(struct process_cache *c, void (*fn)(struct process *p, void *ud), void *ud);

/* The protobuf view with refcnt filled in; valid while the caller holds a reference. */
Tetragon__Process *process_pb(struct process *p);

/* "<node>:<ktime>:<pid>" in base64, as Tetragon forms exec ids; buf needs 128 bytes. */
void process_exec_id(const char *node, uint64_t ktime, uint32_t pid, char *buf, size_t size);
/* The container id (its first 31 characters) from a cgroup leaf name, or "" */
void process_container_id(const char *cgroup_name, char *buf, size_t size);
/* Join NUL-separated arguments with spaces, quoting those that contain a space. */
char *process_join_args(const char *args, size_t len);
