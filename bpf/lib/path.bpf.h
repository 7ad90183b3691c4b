/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Full paths from kernel objects, for programs that cannot call bpf_d_path
 * (tracepoints, raw tracepoints): walk the dentries up to the task's root,
 * crossing mount points, writing names from the end of a scratch buffer.
 * One step per bpf_loop() iteration (5.17+), so the verifier checks the step
 * once instead of every combination of mount crossings and names.
 */
#pragma once

#include "lib/common.bpf.h"

#define PATH_BUF_SIZE 8192 /* names are written into the first half */
#define PATH_MAX_LEN 4096
#define PATH_MAX_DEPTH 256
#define PATH_NAME_MAX 255

struct path_buf {
	char buf[PATH_BUF_SIZE];
};

/* Outcome of path_resolve(). */
#define PATH_OK 0
#define PATH_TRUNCATED 1 /* too deep or too long: the leading components are missing */
#define PATH_ERROR 2

struct path_walk {
	struct path_buf *pb;
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 off;
	int ret;
};

static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	return container_of(mnt, struct mount, mnt);
}

static long path_step(__u32 i, void *data)
{
	struct path_walk *w = data;
	struct path_buf *pb = w->pb;
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct dentry *mnt_root, *parent;
	struct qstr name;
	__u32 len, off = w->off;

	if (!pb)
		return 1;
	if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
		w->ret = PATH_OK;
		return 1;
	}
	mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt = real_mount(vfsmnt);
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (dentry != mnt_root || mnt == mnt_parent) {
			/* the global root, or an unreachable (lazily unmounted) dentry */
			w->ret = PATH_OK;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->vfsmnt = &mnt_parent->mnt;
		return 0;
	}
	if (bpf_probe_read_kernel(&name, sizeof(name), &dentry->d_name)) {
		w->ret = PATH_ERROR;
		return 1;
	}
	len = name.len & PATH_NAME_MAX;
	if (off > PATH_MAX_LEN - 1 || off < len + 1) {
		w->ret = PATH_TRUNCATED;
		return 1;
	}
	off -= len;
	if (bpf_probe_read_kernel(&pb->buf[off & (PATH_MAX_LEN - 1)], len, name.name)) {
		w->ret = PATH_ERROR;
		return 1;
	}
	off -= 1;
	pb->buf[off & (PATH_MAX_LEN - 1)] = '/';
	w->off = off;
	w->dentry = parent;
	return 0;
}

/*
 * Resolve @path against @root (NULL: the global root) into pb. On return *start
 * is the offset of the first byte of the path in pb->buf; the path runs up to
 * PATH_MAX_LEN - 1, where a NUL ends it. Returns PATH_OK, PATH_TRUNCATED or
 * PATH_ERROR.
 */
static __always_inline int path_resolve(const struct path *path, const struct path *root,
					struct path_buf *pb, __u32 *start)
{
	struct path_walk w = {
		.pb = pb,
		.dentry = BPF_CORE_READ(path, dentry),
		.vfsmnt = BPF_CORE_READ(path, mnt),
		.off = PATH_MAX_LEN - 1,
		.ret = PATH_TRUNCATED,
	};

	if (root) {
		w.root_dentry = BPF_CORE_READ(root, dentry);
		w.root_mnt = BPF_CORE_READ(root, mnt);
	}
	pb->buf[PATH_MAX_LEN - 1] = '\0';
	bpf_loop(PATH_MAX_DEPTH, path_step, &w, 0);
	if (w.off == PATH_MAX_LEN - 1 && w.ret == PATH_OK) {
		/* the root itself */
		w.off -= 1;
		pb->buf[w.off] = '/';
	}
	*start = w.off;
	return w.ret;
}
