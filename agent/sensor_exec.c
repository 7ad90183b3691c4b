// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/observer.h"
#include "agent/pin.h"
#include "agent/sensor_exec.h"
#include "bpf/exec.h"
#include "bpf/process.h"
#include "exec.skel.h"
#include "lib/log.h"
#include "lib/util.h"

struct sensor_exec {
	struct exec_bpf *skel;
};

int sensor_exec_load(const struct sensor_exec_config *cfg, struct sensor_exec **ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = cfg->btf_path);
	struct sensor_exec *s;
	int r, zero = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->skel = exec_bpf__open_opts(&opts);
	if (!s->skel) {
		r = -errno;
		goto err;
	}
	r = bpf_map__set_max_entries(s->skel->maps.events, (uint32_t)cfg->ringbuf_size);
	if (r < 0)
		goto err;
	s->skel->rodata->scope_cgroup = cfg->scope_cgroup_fd >= 0;
	r = exec_bpf__load(s->skel);
	if (r < 0)
		goto err;
	if (cfg->scope_cgroup_fd >= 0) {
		r = bpf_map_update_elem(bpf_map__fd(s->skel->maps.cgroup_scope), &zero,
					&cfg->scope_cgroup_fd, BPF_ANY);
		if (r < 0) {
			r = -errno;
			goto err;
		}
	}
	r = exec_bpf__attach(s->skel);
	if (r < 0)
		goto err;
	*ret = s;
	return 0;
err:
	sensor_exec_free(s);
	return r;
}

int sensor_exec_ringbuf_fd(struct sensor_exec *s)
{
	return bpf_map__fd(s->skel->maps.events);
}

int sensor_exec_map_fd(struct sensor_exec *s, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(s->skel->obj, name);

	return m ? bpf_map__fd(m) : -1;
}

struct seed_ctx {
	int fd;
	int errors;
};

static void seed_one(struct process *p, void *ud)
{
	struct seed_ctx *c = ud;
	struct proc_info pi;
	size_t len = strlen(p->binary);

	memset(&pi, 0, sizeof(pi));
	pi.ktime = p->ktime;
	pi.pid = p->pid;
	pi.ppid = p->ppid;
	pi.exec_pid = p->pid;
	pi.exec_nspid = p->nspid;
	pi.flags = PROC_I_PROCFS;
	pi.cap_effective = p->cap_effective;
	pi.cap_permitted = p->cap_permitted;
	pi.cap_inheritable = p->cap_inheritable;
	memcpy(pi.ns, p->ns, sizeof(pi.ns));
	if (len >= PROC_BIN_MAX) {
		len = PROC_BIN_MAX - 1;
		pi.flags |= PROC_I_BIN_TRUNC;
	}
	memcpy(pi.bin, p->binary, len);
	pi.bin_len = (uint16_t)len;
	/* what the kernel learnt since the scan is newer: do not overwrite it */
	if (bpf_map_update_elem(c->fd, &p->pid, &pi, BPF_NOEXIST) < 0 && errno != EEXIST)
		c->errors++;
}

int sensor_exec_seed(struct sensor_exec *s, struct process_cache *c)
{
	struct seed_ctx ctx = { .fd = bpf_map__fd(s->skel->maps.proc_info) };

	process_cache_walk(c, seed_one, &ctx);
	return ctx.errors ? -ENOSPC : 0;
}

int sensor_exec_errors(struct sensor_exec *s, uint64_t counts[ERR_COUNT])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(s->skel->maps.errors);
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < ERR_COUNT; k++) {
		counts[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			counts[k] += vals[c];
	}
	free(vals);
	return 0;
}

int sensor_exec_pin(struct sensor_exec *s, const char *dir)
{
	struct bpf_link *links[] = { s->skel->links.handle_exec, s->skel->links.handle_fork,
				     s->skel->links.handle_exit };
	static const char *const names[] = { "link_exec", "link_fork", "link_exit" };
	char path[512];
	int r;

	r = pin_object(s->skel->obj, dir);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = pin_link(links[i], path);
	}
	return r;
}

void sensor_exec_disconnect(struct sensor_exec *s)
{
	bpf_link__disconnect(s->skel->links.handle_exec);
	bpf_link__disconnect(s->skel->links.handle_fork);
	bpf_link__disconnect(s->skel->links.handle_exit);
}

struct sensor_exec *sensor_exec_free(struct sensor_exec *s)
{
	if (!s)
		return NULL;
	exec_bpf__destroy(s->skel);
	free(s);
	return NULL;
}

const char *signal_name(int sig, char *buf, size_t size)
{
	const char *abbrev;

	if (sig == 0) {
		buf[0] = '\0';
		return buf;
	}
	abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "SIG%d", sig);
	return buf;
}

static void set_time(Google__Protobuf__Timestamp *t, uint64_t ns)
{
	google__protobuf__timestamp__init(t);
	t->seconds = (int64_t)(ns / 1000000000ull);
	t->nanos = (int32_t)(ns % 1000000000ull);
}

void sensor_exec_handle_exec(struct agent *a, const void *data, size_t len)
{
	const struct exec_event *ev = data;
	_cleanup_free_ char *binary = NULL, *args = NULL, *cwd = NULL, *cgroup = NULL;
	Tetragon__GetEventsResponse resp;
	Tetragon__ProcessExec exec;
	Google__Protobuf__Timestamp ts;
	struct process_info in;
	const char *p;
	struct process *proc;

	if (len < sizeof(*ev) ||
	    (size_t)ev->binary_len + ev->args_len + ev->cwd_len + ev->cgroup_len >
		    len - sizeof(*ev)) {
		a->decode_errors++;
		return;
	}
	p = (const char *)(ev + 1);
	binary = strndup(p, ev->binary_len);
	p += ev->binary_len;
	args = process_join_args(p, ev->args_len);
	p += ev->args_len;
	cwd = strndup(p, ev->cwd_len);
	p += ev->cwd_len;
	cgroup = strndup(p, ev->cgroup_len);
	if (!binary || !args || !cwd || !cgroup) {
		a->decode_errors++;
		return;
	}

	memset(&in, 0, sizeof(in));
	in.pid = ev->pid;
	in.tid = ev->tid;
	in.ppid = ev->ppid;
	in.nspid = ev->nspid;
	in.ktime = ev->hdr.ktime;
	in.flags = PROC_F_EXECVE;
	if (ev->flags & EXEC_F_TRUNC_FILENAME)
		in.flags |= PROC_F_TRUNC_FILENAME;
	if (ev->flags & EXEC_F_TRUNC_ARGS)
		in.flags |= PROC_F_TRUNC_ARGS;
	if (ev->flags & EXEC_F_ERROR_FILENAME)
		in.flags |= PROC_F_ERROR_FILENAME;
	if (ev->flags & EXEC_F_ERROR_ARGS)
		in.flags |= PROC_F_ERROR_ARGS;
	if (ev->flags & EXEC_F_ERROR_CWD)
		in.flags |= PROC_F_ERROR_CWD;
	if (ev->flags & EXEC_F_NO_AUID)
		in.flags |= PROC_F_NEEDS_AUID;
	in.uid = ev->uid;
	in.euid = ev->euid;
	in.suid = ev->suid;
	in.fsuid = ev->fsuid;
	in.gid = ev->gid;
	in.egid = ev->egid;
	in.sgid = ev->sgid;
	in.fsgid = ev->fsgid;
	in.auid = ev->auid;
	in.securebits = ev->securebits;
	in.cap_permitted = ev->cap_permitted;
	in.cap_effective = ev->cap_effective;
	in.cap_inheritable = ev->cap_inheritable;
	memcpy(in.ns, ev->ns, sizeof(in.ns));
	in.cgroup_id = ev->cgroup_id;
	in.binary = binary;
	in.args = args;
	in.cwd = cwd;
	in.cgroup_name = cgroup;

	proc = process_cache_add(a->cache, &in);
	if (!proc) {
		a->decode_errors++;
		return;
	}
	tetragon__get_events_response__init(&resp);
	tetragon__process_exec__init(&exec);
	exec.process = process_pb(proc);
	exec.parent = proc->parent ? process_pb(proc->parent) : NULL;
	resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	resp.process_exec = &exec;
	resp.node_name = (char *)a->cfg.node_name;
	set_time(&ts, a->boot_time_ns + ev->hdr.ktime);
	resp.time = &ts;
	bus_publish(&a->bus, &resp);
	process_put(a->cache, proc);
}

void sensor_exec_handle_fork(struct agent *a, const void *data, size_t len)
{
	const struct fork_event *ev = data;
	struct process *p;

	if (len < sizeof(*ev)) {
		a->decode_errors++;
		return;
	}
	p = process_cache_fork(a->cache, ev->pid, ev->tid, ev->ppid, ev->nspid, ev->hdr.ktime);
	if (p)
		process_put(a->cache, p);
}

void sensor_exec_handle_exit(struct agent *a, const void *data, size_t len)
{
	const struct exit_event *ev = data;
	Tetragon__GetEventsResponse resp;
	Tetragon__ProcessExit ex;
	Google__Protobuf__Timestamp ts, ts2;
	char sig[32];
	struct process *p;

	if (len < sizeof(*ev)) {
		a->decode_errors++;
		return;
	}
	p = process_cache_exit(a->cache, ev->pid);
	if (!p)
		return; /* counted as a cache miss */
	tetragon__get_events_response__init(&resp);
	tetragon__process_exit__init(&ex);
	ex.process = process_pb(p);
	ex.parent = p->parent ? process_pb(p->parent) : NULL;
	ex.signal = (char *)signal_name(ev->exit_code & 0x7f, sig, sizeof(sig));
	ex.status = (ev->exit_code >> 8) & 0xff;
	set_time(&ts, a->boot_time_ns + ev->hdr.ktime);
	ts2 = ts;
	ex.time = &ts2;
	resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT;
	resp.process_exit = &ex;
	resp.node_name = (char *)a->cfg.node_name;
	resp.time = &ts;
	bus_publish(&a->bus, &resp);
	process_put(a->cache, p);
}

/* Restart takeover: the old agent's programs saw this record too, and its copy is kept. */
static bool seen_by_old(struct agent *a, const void *data, size_t len)
{
	const struct event_hdr *h = data;

	if (len < sizeof(*h) || h->ktime >= a->takeover.exec_cut_ns)
		return false;
	a->takeover.duplicates++;
	return true;
}

static void on_exec(void *ctx, const void *data, size_t len)
{
	if (!seen_by_old(ctx, data, len))
		sensor_exec_handle_exec(ctx, data, len);
}

static void on_fork(void *ctx, const void *data, size_t len)
{
	if (!seen_by_old(ctx, data, len))
		sensor_exec_handle_fork(ctx, data, len);
}

static void on_exit_record(void *ctx, const void *data, size_t len)
{
	if (!seen_by_old(ctx, data, len))
		sensor_exec_handle_exit(ctx, data, len);
}

int sensor_exec_register(struct sensor_exec *s, struct agent *a)
{
	int r;

	r = observer_set_handler(a->observer, EVENT_EXEC, on_exec, a);
	if (r == 0)
		r = observer_set_handler(a->observer, EVENT_FORK, on_fork, a);
	if (r == 0)
		r = observer_set_handler(a->observer, EVENT_EXIT, on_exit_record, a);
	return r;
}
