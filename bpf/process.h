/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the kernel knows about each process, for the selectors of policy
 * programs (matchBinaries, matchPIDs followForks, matchNamespaceChanges,
 * matchCapabilityChanges). The process sensor keeps it: exec writes an entry,
 * fork copies the parent's, exit removes it; the agent fills it for processes
 * that were running before it started. Keep in sync with agent/sensor_exec.c.
 */
#pragma once

#include "exec.h"

#define PROC_BIN_MAX 256 /* binary paths longer than this are cut (flag PROC_I_BIN_TRUNC) */

/* proc_info.flags */
#define PROC_I_BIN_TRUNC (1u << 0)
#define PROC_I_PROCFS (1u << 1)

struct proc_info {
	__u64 ktime; /* start of this identity: exec (or fork) time */
	__u64 bin_sets; /* matchBinaries followChildren sets this process is in */
	__u64 cap_effective; /* at exec */
	__u64 cap_permitted;
	__u64 cap_inheritable;
	__u32 pid;
	__u32 ppid;
	__u32 exec_pid; /* the process that last exec'd: itself, or the ancestor a fork came from */
	__u32 exec_nspid;
	__u32 flags;
	__u32 ns[NS_COUNT]; /* at exec */
	__u16 bin_len;
	__u8 pad[2];
	char bin[PROC_BIN_MAX];
};

_Static_assert(sizeof(struct proc_info) == 360, "proc_info layout changed");

/* Key of the map from binary paths to the followChildren sets they start. */
struct bin_key {
	char path[PROC_BIN_MAX];
};

#define PROC_INFO_MAX_ENTRIES 65536
