/* SPDX-License-Identifier: Apache-2.0 */
/* Includes and helpers every BPF program of the agent uses. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "event.h"

/*
 * v & mask, computed so that clang cannot drop the mask on a value it believes
 * bounded: the verifier, which tracks registers not C values, needs it.
 */
#define BOUND(v, mask)           \
	({                       \
		__u32 _v = (v);  \
		barrier_var(_v); \
		_v &(mask);      \
	})

/* libbpf 1.1 has no sixth-argument accessor */
#ifndef PT_REGS_PARM6
#if defined(__TARGET_ARCH_x86)
#define PT_REGS_PARM6(x) ((x)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define PT_REGS_PARM6(x) (((const struct user_pt_regs *)(x))->regs[5])
#endif
#endif
#ifndef PT_REGS_PARM6_CORE_SYSCALL
#if defined(__TARGET_ARCH_x86)
#define PT_REGS_PARM6_CORE_SYSCALL(x) BPF_CORE_READ(x, r9)
#elif defined(__TARGET_ARCH_arm64)
#define PT_REGS_PARM6_CORE_SYSCALL(x) BPF_CORE_READ((const struct user_pt_regs *)(x), regs[5])
#endif
#endif

#ifndef PF_KTHREAD
#define PF_KTHREAD 0x00200000
#endif
#ifndef SIGNAL_GROUP_EXIT
#define SIGNAL_GROUP_EXIT 0x00000004
#endif

/*
 * Per-CPU error counters, indexed by ERR_*. The agent sums them and reports
 * them; nothing a program fails to do goes uncounted.
 */
#define DEFINE_ERRORS_MAP(name)                          \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, ERR_COUNT);          \
		__type(key, __u32);                      \
		__type(value, __u64);                    \
	} name SEC(".maps")

/*
 * Waking the agent costs more than writing a record (most of an exec's BPF time
 * went to wake-ups): a record wakes the reader only once a batch is waiting, and
 * the agent drains the buffer on a short timer as well (agent/observer.c).
 */
#define RB_WAKEUP_BYTES (64 * 1024)

static __always_inline __u64 rb_wakeup_flags(void *rb)
{
	return bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= RB_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP :
									     BPF_RB_NO_WAKEUP;
}

static __always_inline void count_error(void *map, __u32 kind)
{
	__u64 *v = bpf_map_lookup_elem(map, &kind);

	if (v)
		*v += 1;
}

static __always_inline __u32 task_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, tgid);
}

/* The tgid of the task's real parent, as getppid() would say. */
static __always_inline __u32 task_ppid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid);
}

/* The pid of the task in its own pid namespace. */
static __always_inline __u32 task_nspid(struct task_struct *t)
{
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct upid up;

	if (bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]))
		return 0;
	return up.nr;
}
