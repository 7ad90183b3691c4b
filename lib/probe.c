// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/probe.h"
#include "probe.skel.h"

/* Load only the program called name; attach it when asked. 0 or a negative errno. */
static int try_prog(const char *btf_path, const char *name, bool attach)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path);
	struct probe_bpf *skel = probe_bpf__open_opts(&opts);
	struct bpf_program *p, *want = NULL;
	struct bpf_link *l;
	int r;

	if (!skel)
		return -errno;
	bpf_object__for_each_program(p, skel->obj)
	{
		bool me = strcmp(bpf_program__name(p), name) == 0;

		bpf_program__set_autoload(p, me);
		if (me)
			want = p;
	}
	r = probe_bpf__load(skel);
	if (r == 0 && attach && want) {
		l = bpf_program__attach(want);
		if (!l)
			r = -errno;
		else
			bpf_link__destroy(l);
	}
	probe_bpf__destroy(skel);
	return r;
}

/* The ring buffer the agent's events go through (5.8+). */
static int try_ringbuf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "probe_rb", 0, 0, 4096, NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Programs of more than 4096 instructions (5.2+): the policy programs are. */
static int try_large_program(void)
{
	enum { N = 5000 };
	struct bpf_insn *insns = calloc(N + 1, sizeof(*insns));
	int fd, r = 0;

	if (!insns)
		return -ENOMEM;
	for (int i = 0; i < N; i++)
		insns[i] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 };
	insns[N] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "probe_large", "GPL", insns, N + 1, NULL);
	if (fd < 0)
		r = -errno;
	else
		close(fd);
	free(insns);
	return r;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void row(struct probe_result *res, size_t max, size_t *n, const char *name, bool ok, int err,
		const char *why)
{
	if (!res || *n >= max)
		return;
	res[*n].name = name;
	res[*n].ok = ok;
	res[*n].detail[0] = '\0';
	if (!ok && why)
		snprintf(res[*n].detail, sizeof(res[*n].detail), "%s", why);
	else if (!ok && err)
		snprintf(res[*n].detail, sizeof(res[*n].detail), "%s", strerror(-err));
	(*n)++;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

size_t probe_kernel(struct kernel_features *kf, const char *btf_path, struct probe_result *res,
		    size_t max)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	size_t n = 0;
	int r;

	memset(kf, 0, sizeof(*kf));
	r = try_prog(btf_path, "probe_kprobe", true);
	kf->kprobe = r == 0;
	row(res, max, &n, "kprobe", kf->kprobe, r,
	    r == -ENOENT || !exists("/sys/bus/event_source/devices/kprobe") ?
		    "no kprobe PMU (CONFIG_KPROBES is off)" :
		    NULL);
	r = kf->kprobe ? try_prog(btf_path, "probe_kprobe_multi", true) : -ENOENT;
	kf->kprobe_multi = r == 0;
	row(res, max, &n, "kprobe_multi", kf->kprobe_multi, r,
	    !kf->kprobe	     ? "needs kprobes" :
	    r == -EOPNOTSUPP ? "attach refused (CONFIG_FPROBE is off)" :
			       NULL);
	r = try_prog(btf_path, "probe_fentry", true);
	kf->fentry = r == 0;
	row(res, max, &n, "fentry", kf->fentry, r,
	    r == -EPERM ? "BPF_PROG_LOAD refused (EPERM): the kernel does not allow trampolines" :
			  NULL);
	r = kf->fentry ? try_prog(btf_path, "probe_func_args", false) : -EOPNOTSUPP;
	kf->func_args = r == 0;
	row(res, max, &n, "fentry_func_args", kf->func_args, r,
	    r == -EOPNOTSUPP ? "needs fentry" : NULL);
	r = try_prog(btf_path, "probe_fmod_ret", false);
	kf->fmod_ret = r == 0;
	row(res, max, &n, "fmodret", kf->fmod_ret, r,
	    r == -EPERM ? "BPF_PROG_LOAD refused (EPERM)" : NULL);
	r = try_prog(btf_path, "probe_lsm", true);
	kf->lsm = r == 0;
	row(res, max, &n, "lsm", kf->lsm, r,
	    r == -EPERM ? "BPF_PROG_LOAD refused (EPERM), or 'bpf' is not in the lsm= list" : NULL);
	r = try_prog(btf_path, "probe_override", false);
	kf->override_return = r == 0;
	row(res, max, &n, "override_return", kf->override_return, r,
	    r ? "the verifier refuses bpf_override_return (no CONFIG_BPF_KPROBE_OVERRIDE or no kprobes)" :
		NULL);
	r = try_prog(btf_path, "probe_raw_tp_cookie", false);
	kf->raw_tp_cookie = r == 0;
	row(res, max, &n, "raw_tp_cookie", kf->raw_tp_cookie, r,
	    r ? "no bpf_get_attach_cookie() in raw tracepoints (before 6.10): a program copy per hook" :
		NULL);
	r = try_prog(btf_path, "probe_signal", false);
	kf->send_signal = r == 0;
	row(res, max, &n, "signal", kf->send_signal, r, NULL);
	r = try_ringbuf();
	kf->ringbuf = r == 0;
	row(res, max, &n, "ringbuf", kf->ringbuf, r, NULL);
	r = try_large_program();
	kf->large_programs = r == 0;
	row(res, max, &n, "large_programs", kf->large_programs, r,
	    r ? "programs over 4096 instructions are refused (before 5.2)" : NULL);
	kf->syscall_tracepoints =
		exists("/sys/kernel/tracing/events/syscalls/sys_enter_openat") ||
		exists("/sys/kernel/debug/tracing/events/syscalls/sys_enter_openat");
	row(res, max, &n, "syscall_tracepoints", kf->syscall_tracepoints, 0,
	    kf->syscall_tracepoints ? NULL : "no syscalls:sys_enter_* (CONFIG_FTRACE_SYSCALLS)");
	libbpf_set_print(old);
	return n;
}
