// SPDX-License-Identifier: GPL-2.0
/*
 * Tiny programs the agent loads one at a time at start to learn what the
 * running kernel allows (libbpf's own probes answer wrongly on some kernels).
 * None of them is ever attached except by the probe itself, briefly.
 */
#include "lib/common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_sys_openat2")
int probe_kprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("kprobe.multi/do_sys_openat2")
int probe_kprobe_multi(struct pt_regs *ctx)
{
	return 0;
}

SEC("kprobe/__x64_sys_getpgid")
int probe_override(struct pt_regs *ctx)
{
	bpf_override_return(ctx, -1);
	return 0;
}

SEC("fentry/do_sys_openat2")
int BPF_PROG(probe_fentry, int dfd)
{
	return 0;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(probe_fmod_ret, struct file *file)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int probe_signal(void *ctx)
{
	if (bpf_get_current_pid_tgid() == 0)
		bpf_send_signal(0);
	return 0;
}

/* bpf_get_attach_cookie() in raw tracepoints (6.10+) */
SEC("raw_tp/sys_enter")
int probe_raw_tp_cookie(void *ctx)
{
	return bpf_get_attach_cookie(ctx) == 1;
}

/* bpf_get_func_arg(): the trampolines read any function's arguments with it (5.17+) */
SEC("fentry/do_sys_openat2")
int probe_func_args(void *ctx)
{
	__u64 v = 0;

	bpf_get_func_arg(ctx, 0, &v);
	return 0;
}
