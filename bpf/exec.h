/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records that the process sensor (exec.bpf.c) writes to its ring buffer, shared
 * with the agent (agent/sensor_exec.c). Fixed-width fields only, widest first,
 * explicit padding; sizes are checked on both sides. Keep in sync with the agent.
 */
#pragma once

#include "event.h"

/* Sizes of the variable parts of an exec record. */
#define EXEC_PATH_MAX 4096
#define EXEC_ARGS_MAX 4096
#define EXEC_CGROUP_NAME_MAX 128

/* exec_event.flags */
#define EXEC_F_TRUNC_FILENAME (1u << 0)
#define EXEC_F_TRUNC_ARGS (1u << 1)
#define EXEC_F_TRUNC_CWD (1u << 2)
#define EXEC_F_ERROR_FILENAME (1u << 3)
#define EXEC_F_ERROR_ARGS (1u << 4)
#define EXEC_F_ERROR_CWD (1u << 5)
#define EXEC_F_NO_AUID (1u << 6)
#define EXEC_F_FILENAME_FROM_FILE (1u << 7)

/* Namespace slots in exec_event.ns, in the order of tetragon.Namespaces. */
#define NS_UTS 0
#define NS_IPC 1
#define NS_MNT 2
#define NS_PID 3
#define NS_PID_FOR_CHILDREN 4
#define NS_NET 5
#define NS_TIME 6
#define NS_TIME_FOR_CHILDREN 7
#define NS_CGROUP 8
#define NS_USER 9
#define NS_COUNT 10

/*
 * EVENT_EXEC: a successful execve. The record continues after the struct with,
 * back to back and without NULs
 * between them: the binary path (binary_len), the arguments after argv[0] as the
 * kernel keeps them, NUL-separated (args_len), the working directory (cwd_len),
 * the name of the task's cgroup v2 leaf (cgroup_len).
 */
struct exec_event {
	struct event_hdr hdr;
	__u64 cgroup_id;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_inheritable;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 nspid;
	__u32 uid;
	__u32 euid;
	__u32 suid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 sgid;
	__u32 fsgid;
	__u32 auid;
	__u32 securebits;
	__u32 flags;
	__u32 pad;
	__u32 ns[NS_COUNT];
	__u16 binary_len;
	__u16 args_len;
	__u16 cwd_len;
	__u16 cgroup_len;
};

_Static_assert(sizeof(struct exec_event) == 160, "exec_event layout changed");

/* EVENT_FORK: a new process (not a thread). hdr.ktime is the child's start time. */
struct fork_event {
	struct event_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 nspid;
};

_Static_assert(sizeof(struct fork_event) == 32, "fork_event layout changed");

/* EVENT_EXIT: the last thread of a process exited. */
struct exit_event {
	struct event_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u32 exit_code; /* wait(2) status: exit status << 8, or the signal number */
	__u32 pad;
};

_Static_assert(sizeof(struct exit_event) == 32, "exit_event layout changed");
