/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the running kernel lets the agent do, found by loading (and where that
 * is what matters, attaching) tiny programs: libbpf's feature probes answer
 * wrongly on some kernels. Each hook of a policy picks its mechanism from this.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What the kernel offers; the agent's compiler picks each hook's mechanism from it. */
struct kernel_features {
	bool kprobe;
	bool kprobe_multi;
	bool fentry;
	bool fmod_ret;
	bool lsm;
	bool override_return;
	bool send_signal;
	bool syscall_tracepoints;
	bool raw_tp_cookie;
	bool ringbuf;
	bool large_programs;
	bool func_args; /* bpf_get_func_arg(): trampolines read arguments the same way everywhere */
};

struct probe_result {
	const char *name; /* as `tetra probe` prints it */
	bool ok;
	char detail[128]; /* why not, when not */
};

/* Run every probe; fills kf and, when res is not NULL, up to max rows. Returns the rows. */
size_t probe_kernel(struct kernel_features *kf, const char *btf_path, struct probe_result *res,
		    size_t max);
