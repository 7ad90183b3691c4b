// SPDX-License-Identifier: GPL-2.0
/*
 * The process sensor: exec, fork and exit of every process, from tracepoints
 * that every kernel with BTF has. One record per event into a ring buffer;
 * threads are not processes and produce nothing.
 */
#include "lib/common.bpf.h"
#include "lib/path.bpf.h"
#include "exec.h"
#include "process.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* the agent sets the size at load time */
} events SEC(".maps");

DEFINE_ERRORS_MAP(errors);

/*
 * The record is built here, then copied into the ring buffer at its real size.
 * Each variable part starts at an offset masked to a power of two, so that the
 * verifier can bound every write: binary < 4096, + args < 8192, + cwd < 16384,
 * + cgroup name.
 */
#define DATA_ARGS_MASK 0xfff
#define DATA_CWD_MASK 0x1fff
#define DATA_CGROUP_MASK 0x3fff
#define DATA_SIZE (0x4000 + EXEC_CGROUP_NAME_MAX)

struct exec_scratch {
	struct path_buf path;
	struct proc_info pi;
	struct bin_key bk;
	struct exec_event ev;
	__u8 data[DATA_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_heap SEC(".maps");

/* What the kernel knows about each process, for the selectors of policy programs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROC_INFO_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct proc_info);
} proc_info SEC(".maps");

/* Binary paths that start matchBinaries followChildren sets (written by the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bin_key);
	__type(value, __u64);
} bin_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct proc_info);
} fork_heap SEC(".maps");

/*
 * Scope: when the agent is confined to a cgroup v2 subtree it sets scope_cgroup
 * and puts the subtree's directory into cgroup_scope[0]; only tasks inside it
 * are reported.
 */
const volatile __u8 scope_cgroup = 0;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_scope SEC(".maps");

static __always_inline __u32 ns_inum(struct ns_common *ns)
{
	return ns ? BPF_CORE_READ(ns, inum) : 0;
}

static __always_inline void read_namespaces(struct task_struct *task, struct exec_event *ev)
{
	struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
	unsigned int level;
	struct pid *tp;

	if (nsp) {
		ev->ns[NS_UTS] = ns_inum(&BPF_CORE_READ(nsp, uts_ns)->ns);
		ev->ns[NS_IPC] = ns_inum(&BPF_CORE_READ(nsp, ipc_ns)->ns);
		ev->ns[NS_MNT] = ns_inum(&BPF_CORE_READ(nsp, mnt_ns)->ns);
		ev->ns[NS_PID_FOR_CHILDREN] = ns_inum(&BPF_CORE_READ(nsp, pid_ns_for_children)->ns);
		ev->ns[NS_NET] = ns_inum(&BPF_CORE_READ(nsp, net_ns)->ns);
		if (bpf_core_field_exists(nsp->time_ns)) {
			ev->ns[NS_TIME] = ns_inum(&BPF_CORE_READ(nsp, time_ns)->ns);
			ev->ns[NS_TIME_FOR_CHILDREN] =
				ns_inum(&BPF_CORE_READ(nsp, time_ns_for_children)->ns);
		}
		ev->ns[NS_CGROUP] = ns_inum(&BPF_CORE_READ(nsp, cgroup_ns)->ns);
	}
	tp = BPF_CORE_READ(task, thread_pid);
	if (tp) {
		struct upid up;

		level = BPF_CORE_READ(tp, level);
		if (!bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]))
			ev->ns[NS_PID] = ns_inum(&up.ns->ns);
	}
	ev->ns[NS_USER] = ns_inum(&BPF_CORE_READ(task, cred, user_ns)->ns);
}

static __always_inline void read_creds(struct task_struct *task, struct exec_event *ev)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);

	ev->uid = BPF_CORE_READ(cred, uid.val);
	ev->euid = BPF_CORE_READ(cred, euid.val);
	ev->suid = BPF_CORE_READ(cred, suid.val);
	ev->fsuid = BPF_CORE_READ(cred, fsuid.val);
	ev->gid = BPF_CORE_READ(cred, gid.val);
	ev->egid = BPF_CORE_READ(cred, egid.val);
	ev->sgid = BPF_CORE_READ(cred, sgid.val);
	ev->fsgid = BPF_CORE_READ(cred, fsgid.val);
	ev->securebits = BPF_CORE_READ(cred, securebits);
	/* kernel_cap_t is a u64 (6.3+) or two u32 (before): 8 bytes either way */
	bpf_probe_read_kernel(&ev->cap_permitted, 8, &cred->cap_permitted);
	bpf_probe_read_kernel(&ev->cap_effective, 8, &cred->cap_effective);
	bpf_probe_read_kernel(&ev->cap_inheritable, 8, &cred->cap_inheritable);
}

/* Copy a resolved path from the scratch buffer to dst; returns its length. */
static __always_inline __u32 copy_path(struct exec_scratch *s, __u8 *dst, __u32 start)
{
	__u32 n = PATH_MAX_LEN - 1 - start;

	if (n > PATH_MAX_LEN - 1)
		return 0;
	if (bpf_probe_read_kernel(dst, n & (PATH_MAX_LEN - 1),
				  &s->path.buf[start & (PATH_MAX_LEN - 1)]))
		return 0;
	return n;
}

/* Record the new identity for the policy programs' selectors. */
static __always_inline void update_proc_info(struct exec_scratch *s, struct exec_event *ev)
{
	struct proc_info *pi = &s->pi, *old;
	__u32 len = ev->binary_len;
	__u64 *bits;

	pi->ktime = ev->hdr.ktime;
	pi->pid = ev->pid;
	pi->ppid = ev->ppid;
	pi->exec_pid = ev->pid;
	pi->exec_nspid = ev->nspid;
	pi->flags = 0;
	pi->cap_effective = ev->cap_effective;
	pi->cap_permitted = ev->cap_permitted;
	pi->cap_inheritable = ev->cap_inheritable;
#pragma unroll
	for (int i = 0; i < NS_COUNT; i++)
		pi->ns[i] = ev->ns[i];
	if (len > PROC_BIN_MAX - 1) {
		len = PROC_BIN_MAX - 1;
		pi->flags |= PROC_I_BIN_TRUNC;
	}
	pi->bin_len = len;
	__builtin_memset(s->bk.path, 0, sizeof(s->bk.path));
	bpf_probe_read_kernel(s->bk.path, len & (PROC_BIN_MAX - 1), s->data);
	__builtin_memcpy(pi->bin, s->bk.path, sizeof(pi->bin));
	/* followChildren sets: inherited through fork, and started by this binary */
	old = bpf_map_lookup_elem(&proc_info, &ev->pid);
	pi->bin_sets = old ? old->bin_sets : 0;
	bits = bpf_map_lookup_elem(&bin_sets, &s->bk);
	if (bits)
		pi->bin_sets |= *bits;
	if (bpf_map_update_elem(&proc_info, &ev->pid, pi, BPF_ANY))
		count_error(&errors, ERR_MAP_FULL);
}

static __always_inline bool in_scope(void)
{
	if (!scope_cgroup)
		return true;
	return bpf_current_task_under_cgroup(&cgroup_scope, 0) == 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_scratch *s;
	struct exec_event *ev;
	const char *filename;
	struct kernfs_node *kn;
	unsigned long arg_start, arg_end, n;
	struct mm_struct *mm;
	struct path root, pwd;
	__u32 zero = 0, pos, start, len, size;
	long r;
	int pr;

	if (!in_scope())
		return 0;
	s = bpf_map_lookup_elem(&exec_heap, &zero);
	if (!s)
		return 0;
	ev = &s->ev;
	ev->hdr.type = EVENT_EXEC;
	ev->hdr.flags = 0;
	ev->hdr.ktime = bpf_ktime_get_boot_ns();
	ev->flags = 0;
	ev->pad = 0;
	ev->pid = BPF_CORE_READ(task, tgid);
	ev->tid = BPF_CORE_READ(task, pid);
	ev->ppid = task_ppid(task);
	ev->nspid = task_nspid(task);
	ev->cgroup_id = bpf_get_current_cgroup_id();
	if (bpf_core_field_exists(task->loginuid)) {
		ev->auid = BPF_CORE_READ(task, loginuid.val);
	} else {
		ev->auid = (__u32)-1;
		ev->flags |= EXEC_F_NO_AUID;
	}
	read_creds(task, ev);
	read_namespaces(task, ev);
	bpf_probe_read_kernel(&root, sizeof(root), &task->fs->root);

	/* the binary: the name given to execve when absolute, else the file's path */
	filename = BPF_CORE_READ(bprm, filename);
	r = bpf_probe_read_kernel_str(s->data, EXEC_PATH_MAX, filename);
	if (r > 1 && s->data[0] == '/') {
		len = r - 1;
	} else {
		pr = path_resolve(&BPF_CORE_READ(bprm, file)->f_path, &root, &s->path, &start);
		if (pr == PATH_ERROR)
			ev->flags |= EXEC_F_ERROR_FILENAME;
		else if (pr == PATH_TRUNCATED)
			ev->flags |= EXEC_F_TRUNC_FILENAME;
		len = copy_path(s, s->data, start);
		ev->flags |= EXEC_F_FILENAME_FROM_FILE;
	}
	len &= DATA_ARGS_MASK;
	ev->binary_len = len;
	pos = len;

	/* the arguments after argv[0] */
	mm = BPF_CORE_READ(task, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	len = 0;
	if (arg_end > arg_start) {
		/* skip argv[0]: read it where the arguments go, they overwrite it */
		r = bpf_probe_read_user_str(&s->data[pos & DATA_ARGS_MASK], EXEC_ARGS_MAX,
					    (void *)arg_start);
		if (r > 0)
			arg_start += r;
		n = arg_end > arg_start ? arg_end - arg_start : 0;
		if (n > EXEC_ARGS_MAX) {
			n = EXEC_ARGS_MAX;
			ev->flags |= EXEC_F_TRUNC_ARGS;
		}
		size = n;
		if (size > 0 && size <= EXEC_ARGS_MAX) {
			if (bpf_probe_read_user(&s->data[pos & DATA_ARGS_MASK], size,
						(void *)arg_start)) {
				ev->flags |= EXEC_F_ERROR_ARGS;
				count_error(&errors, ERR_READ_ARGS);
			} else {
				len = size;
			}
		}
	}
	ev->args_len = len;
	pos = (pos + len) & DATA_CWD_MASK;

	/* the working directory */
	bpf_probe_read_kernel(&pwd, sizeof(pwd), &task->fs->pwd);
	pr = path_resolve(&pwd, &root, &s->path, &start);
	if (pr == PATH_ERROR) {
		ev->flags |= EXEC_F_ERROR_CWD;
		count_error(&errors, ERR_READ_CWD);
	} else if (pr == PATH_TRUNCATED) {
		ev->flags |= EXEC_F_TRUNC_CWD;
	}
	len = copy_path(s, &s->data[pos & DATA_CWD_MASK], start);
	ev->cwd_len = len;
	pos = (pos + len) & DATA_CGROUP_MASK;

	/* the cgroup v2 leaf name, for the container id */
	kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	len = 0;
	if (kn) {
		r = bpf_probe_read_kernel_str(&s->data[pos & DATA_CGROUP_MASK],
					      EXEC_CGROUP_NAME_MAX, BPF_CORE_READ(kn, name));
		if (r > 0)
			len = r - 1;
		else
			count_error(&errors, ERR_READ_CGROUP);
	}
	ev->cgroup_len = len;
	pos += len;

	update_proc_info(s, ev);

	/* the record is contiguous: header and data are adjacent in the scratch buffer */
	size = sizeof(struct exec_event) + pos;
	ev->hdr.size = size;
	if (size > sizeof(struct exec_event) + DATA_SIZE)
		return 0;
	if (bpf_ringbuf_output(&events, ev, size, rb_wakeup_flags(&events)))
		count_error(&errors, ERR_RINGBUF_FULL);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct proc_info *pi, *npi;
	struct fork_event ev;
	__u32 zero = 0;

	/* threads share their process's identity; kernel threads never exec */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	if (BPF_CORE_READ(child, flags) & PF_KTHREAD)
		return 0;
	if (!in_scope())
		return 0;
	ev.hdr.type = EVENT_FORK;
	ev.hdr.flags = 0;
	ev.hdr.size = sizeof(ev);
	ev.hdr.ktime = BPF_CORE_READ(child, start_boottime);
	ev.pid = BPF_CORE_READ(child, tgid);
	ev.tid = BPF_CORE_READ(child, pid);
	ev.ppid = BPF_CORE_READ(parent, tgid);
	ev.nspid = task_nspid(child);

	/* the child is its parent's copy until it execs */
	pi = bpf_map_lookup_elem(&proc_info, &ev.ppid);
	npi = bpf_map_lookup_elem(&fork_heap, &zero);
	if (pi && npi) {
		__builtin_memcpy(npi, pi, sizeof(*npi));
		npi->pid = ev.pid;
		npi->ppid = ev.ppid;
		npi->ktime = ev.hdr.ktime;
		if (bpf_map_update_elem(&proc_info, &ev.pid, npi, BPF_ANY))
			count_error(&errors, ERR_MAP_FULL);
	}
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), rb_wakeup_flags(&events)))
		count_error(&errors, ERR_RINGBUF_FULL);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct exit_event ev;

	/* only the last thread of a process ends the process */
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		return 0;
	if (!in_scope())
		return 0;
	ev.hdr.type = EVENT_EXIT;
	ev.hdr.flags = 0;
	ev.hdr.size = sizeof(ev);
	ev.hdr.ktime = bpf_ktime_get_boot_ns();
	ev.pid = BPF_CORE_READ(task, tgid);
	ev.tid = BPF_CORE_READ(task, pid);
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		ev.exit_code = BPF_CORE_READ(sig, group_exit_code);
	else
		ev.exit_code = BPF_CORE_READ(task, exit_code);
	ev.pad = 0;
	bpf_map_delete_elem(&proc_info, &ev.pid);
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), rb_wakeup_flags(&events)))
		count_error(&errors, ERR_RINGBUF_FULL);
	return 0;
}
