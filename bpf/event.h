/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every record in the agent's ring buffers starts with, and the error
 * counters every BPF program keeps. Shared by BPF and user space: fixed-width
 * fields only, widest first, explicit padding. Type numbers are never reused.
 */
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EVENT_EXEC 1
#define EVENT_FORK 2
#define EVENT_EXIT 3
#define EVENT_GENERIC 4

struct event_hdr {
	__u16 type;
	__u16 flags;
	__u32 size; /* the whole record, header included */
	__u64 ktime; /* CLOCK_BOOTTIME, ns */
};

/* Indexes into a program's per-CPU "errors" array. */
#define ERR_RINGBUF_FULL 0
#define ERR_READ_ARGS 1
#define ERR_READ_PATH 2
#define ERR_PATH_DEPTH 3
#define ERR_READ_CWD 4
#define ERR_READ_CGROUP 5
#define ERR_READ_KERNEL 6
#define ERR_MAP_FULL 7
#define ERR_READ_USER 8
#define ERR_COUNT 16
