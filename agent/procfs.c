// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/procfs.h"
#include "lib/util.h"

#define PF_KTHREAD 0x00200000

static const char *const ns_files[NS_COUNT] = {
	[NS_UTS] = "uts",
	[NS_IPC] = "ipc",
	[NS_MNT] = "mnt",
	[NS_PID] = "pid",
	[NS_PID_FOR_CHILDREN] = "pid_for_children",
	[NS_NET] = "net",
	[NS_TIME] = "time",
	[NS_TIME_FOR_CHILDREN] = "time_for_children",
	[NS_CGROUP] = "cgroup",
	[NS_USER] = "user",
};

void procfs_namespaces(const char *procfs, uint32_t pid, uint32_t ns[NS_COUNT])
{
	char path[256];
	struct stat st;

	for (int i = 0; i < NS_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%u/ns/%s", procfs, pid, ns_files[i]);
		ns[i] = stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
	}
}

static char *read_link(const char *procfs, uint32_t pid, const char *name)
{
	char path[256], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/%s", procfs, pid, name);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	/* an unlinked binary or directory */
	if (endswith(buf, " (deleted)"))
		buf[n - strlen(" (deleted)")] = '\0';
	return strdup(buf);
}

static int read_proc_file(const char *procfs, uint32_t pid, const char *name, char **ret,
			  size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u/%s", procfs, pid, name);
	return read_file(path, 1 << 20, ret, len);
}

static uint32_t status_field(const char *status, const char *key, int idx)
{
	const char *p = strstr(status, key);
	unsigned long v = 0;

	if (!p)
		return 0;
	p += strlen(key);
	for (int i = 0; i <= idx; i++) {
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		v = strtoul(p, &end, 10);
		if (end == p)
			return 0;
		p = end;
	}
	return (uint32_t)v;
}

static uint64_t status_hex(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	if (!p)
		return 0;
	return strtoull(p + strlen(key), NULL, 16);
}

/* The last number on the NSpid line: the pid in its own namespace. */
static uint32_t status_nspid(const char *status)
{
	const char *p = strstr(status, "\nNSpid:");
	uint32_t v = 0;

	if (!p)
		return 0;
	p += strlen("\nNSpid:");
	while (*p && *p != '\n') {
		char *end;
		unsigned long x;

		while (*p == ' ' || *p == '\t')
			p++;
		x = strtoul(p, &end, 10);
		if (end == p)
			break;
		v = (uint32_t)x;
		p = end;
	}
	return v;
}

void procfs_info_free(struct process_info *in)
{
	free((char *)in->binary);
	free((char *)in->args);
	free((char *)in->cwd);
	free((char *)in->cgroup_name);
	memset(in, 0, sizeof(*in));
}

int procfs_read(const char *procfs, uint32_t pid, struct process_info *in)
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL, *cgroup = NULL,
			    *loginuid = NULL;
	unsigned long long starttime = 0;
	unsigned long flags = 0;
	size_t cmdlen = 0;
	const char *p;
	char *comm_end;
	int ppid = 0, r;
	long ticks = sysconf(_SC_CLK_TCK);

	memset(in, 0, sizeof(*in));
	r = read_proc_file(procfs, pid, "stat", &stat, NULL);
	if (r < 0)
		return r;
	/* the command name may contain spaces and parentheses: parse after the last ')' */
	comm_end = strrchr(stat, ')');
	if (!comm_end)
		return -EINVAL;
	if (sscanf(comm_end + 2,
		   "%*c %d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ppid, &flags, &starttime) != 3)
		return -EINVAL;
	if (flags & PF_KTHREAD)
		return -ECHILD;
	r = read_proc_file(procfs, pid, "status", &status, NULL);
	if (r < 0)
		return r;

	in->pid = pid;
	in->tid = pid;
	in->ppid = (uint32_t)ppid;
	in->nspid = status_nspid(status);
	in->ktime = starttime * (1000000000ull / (uint64_t)(ticks > 0 ? ticks : 100));
	in->flags = PROC_F_PROCFS;
	in->uid = status_field(status, "\nUid:", 0);
	in->euid = status_field(status, "\nUid:", 1);
	in->suid = status_field(status, "\nUid:", 2);
	in->fsuid = status_field(status, "\nUid:", 3);
	in->gid = status_field(status, "\nGid:", 0);
	in->egid = status_field(status, "\nGid:", 1);
	in->sgid = status_field(status, "\nGid:", 2);
	in->fsgid = status_field(status, "\nGid:", 3);
	in->cap_inheritable = status_hex(status, "\nCapInh:");
	in->cap_permitted = status_hex(status, "\nCapPrm:");
	in->cap_effective = status_hex(status, "\nCapEff:");
	in->auid = UINT32_MAX;
	if (read_proc_file(procfs, pid, "loginuid", &loginuid, NULL) == 0)
		in->auid = (uint32_t)strtoul(loginuid, NULL, 10);
	procfs_namespaces(procfs, pid, in->ns);

	in->binary = read_link(procfs, pid, "exe");
	in->cwd = read_link(procfs, pid, "cwd");
	if (read_proc_file(procfs, pid, "cmdline", &cmdline, &cmdlen) == 0 && cmdlen > 0) {
		size_t first = strnlen(cmdline, cmdlen);

		if (first < cmdlen)
			in->args = process_join_args(cmdline + first + 1, cmdlen - first - 1);
	}
	if (!in->args)
		in->args = strdup("");
	if (read_proc_file(procfs, pid, "cgroup", &cgroup, NULL) == 0) {
		/* the unified hierarchy's line: "0::/system.slice/docker-<id>.scope" */
		p = strstr(cgroup, "0::");
		if (p == cgroup || (p && p[-1] == '\n')) {
			const char *end = strchr(p, '\n');
			const char *slash;
			size_t n = end ? (size_t)(end - p) : strlen(p);

			slash = memrchr(p, '/', n);
			if (slash)
				in->cgroup_name = strndup(slash + 1, n - (size_t)(slash + 1 - p));
		}
	}
	if (!in->binary || !in->cwd || !in->args) {
		/* it exited while we read it, or it is a zombie */
		procfs_info_free(in);
		return -ESRCH;
	}
	return 0;
}

struct scanned {
	struct process_info in;
	bool added;
};

static int cmp_pid(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;

	return x->in.pid < y->in.pid ? -1 : x->in.pid > y->in.pid;
}

static struct scanned *find(struct scanned *v, size_t n, uint32_t pid)
{
	struct scanned key = { .in.pid = pid };

	return bsearch(&key, v, n, sizeof(*v), cmp_pid);
}

/* Add s after its ancestors, so every entry finds its parent in the cache. */
static void add_in_order(struct process_cache *c, struct scanned *v, size_t n, struct scanned *s,
			 unsigned depth)
{
	struct scanned *parent;
	struct process *p;

	if (s->added)
		return;
	s->added = true;
	parent = s->in.ppid ? find(v, n, s->in.ppid) : NULL;
	if (parent && depth < 4096)
		add_in_order(c, v, n, parent, depth + 1);
	p = process_cache_add(c, &s->in);
	if (p)
		process_put(c, p);
}

void procfs_host_namespaces(const char *procfs, uint32_t ns[NS_COUNT])
{
	uint32_t self[NS_COUNT];
	char path[256];
	struct stat st;

	procfs_namespaces(procfs, 1, ns);
	/* pid 1 may hide its namespaces (a sandbox's init): ours are the host's then */
	for (int i = 0; i < NS_COUNT; i++) {
		if (ns[i])
			continue;
		snprintf(path, sizeof(path), "%s/self/ns/%s", procfs, ns_files[i]);
		self[i] = stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
		ns[i] = self[i];
	}
}

int procfs_scan(struct process_cache *c, const char *procfs, struct procfs_stats *st)
{
	struct scanned *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	memset(st, 0, sizeof(*st));
	d = opendir(procfs);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint32_t pid;

		if (!isdigit((unsigned char)de->d_name[0]) || parse_u32(de->d_name, &pid) < 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct scanned *nv = realloc(v, ncap * sizeof(*v));

			if (!nv)
				break;
			v = nv;
			cap = ncap;
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (procfs_read(procfs, pid, &v[n].in) < 0) {
			st->skipped++;
			continue;
		}
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_pid);
	for (size_t i = 0; i < n; i++)
		add_in_order(c, v, n, &v[i], 0);
	st->processes = (unsigned)n;
	for (size_t i = 0; i < n; i++)
		procfs_info_free(&v[i].in);
	free(v);
	return 0;
}
