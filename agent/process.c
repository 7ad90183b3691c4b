// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/process.h"
#include "lib/util.h"

struct plist {
	struct process *head, *tail;
};

struct process_cache {
	struct process_cache_config cfg;
	char *node_name;
	struct htable by_pid;
	size_t count; /* every entry, alive or not */
	struct plist live; /* alive entries, least recently used first */
	struct plist dead; /* kept for their children, oldest first */
	struct process_cache_stats stats;
};

static const char *const flag_names[] = {
	"execve",	 "procFS",    "clone",	  "truncFilename", "truncArgs",
	"errorFilename", "errorArgs", "errorCWD", "miss",	   "needsAUID",
};

void process_exec_id(const char *node, uint64_t ktime, uint32_t pid, char *buf, size_t size)
{
	char raw[384];
	int n = snprintf(raw, sizeof(raw), "%s:%llu:%u", node, (unsigned long long)ktime, pid);

	if (n < 0 || (size_t)n >= sizeof(raw))
		n = sizeof(raw) - 1;
	if (base64_encoded_len((size_t)n) + 1 > size) {
		buf[0] = '\0';
		return;
	}
	base64_encode(raw, (size_t)n, buf);
}

void process_container_id(const char *name, char *buf, size_t size)
{
	size_t run = 0;

	buf[0] = '\0';
	if (!name)
		return;
	/* docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope, <id> */
	for (const char *p = name;; p++) {
		if (*p && isxdigit((unsigned char)*p)) {
			run++;
			continue;
		}
		if (run == 64) {
			snprintf(buf, size, "%.31s", p - 64);
			return;
		}
		run = 0;
		if (!*p)
			return;
	}
}

char *process_join_args(const char *args, size_t len)
{
	struct sbuf sb;
	size_t i = 0;

	sbuf_init(&sb);
	while (i < len) {
		size_t n = strnlen(args + i, len - i);
		const char *a = args + i;

		if (sb.len)
			sbuf_addc(&sb, ' ');
		if (memchr(a, ' ', n)) {
			sbuf_addc(&sb, '"');
			sbuf_add(&sb, a, n);
			sbuf_addc(&sb, '"');
		} else {
			sbuf_add(&sb, a, n);
		}
		i += n + 1;
	}
	if (sb.oom) {
		sbuf_free(&sb);
		return NULL;
	}
	return sbuf_steal(&sb);
}

int process_cache_new(const struct process_cache_config *cfg, struct process_cache **ret)
{
	struct process_cache *c;
	int r;

	if (cfg->capacity == 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->node_name = strdup(cfg->node_name);
	if (!c->node_name) {
		free(c);
		return -ENOMEM;
	}
	c->cfg.node_name = c->node_name;
	r = htable_init(&c->by_pid, 1024);
	if (r < 0) {
		free(c->node_name);
		free(c);
		return r;
	}
	c->stats.capacity = cfg->capacity;
	*ret = c;
	return 0;
}

static void plist_unlink(struct plist *l, struct process *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else
		l->head = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else
		l->tail = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void plist_append(struct plist *l, struct process *p)
{
	p->lru_prev = l->tail;
	p->lru_next = NULL;
	if (l->tail)
		l->tail->lru_next = p;
	else
		l->head = p;
	l->tail = p;
}

static struct plist *list_of(struct process_cache *c, struct process *p)
{
	return p->alive ? &c->live : &c->dead;
}

static void process_free(struct process *p)
{
	free(p->exec_id);
	free(p->parent_exec_id);
	free(p->binary);
	free(p->args);
	free(p->cwd);
	free(p->docker);
	free(p->flags_str);
	free(p->cap_list);
	free(p);
}

static void unlink_child(struct process *parent, struct process *child)
{
	if (child->prev_sibling)
		child->prev_sibling->next_sibling = child->next_sibling;
	else
		parent->first_child = child->next_sibling;
	if (child->next_sibling)
		child->next_sibling->prev_sibling = child->prev_sibling;
	child->prev_sibling = child->next_sibling = NULL;
	child->parent = NULL;
	parent->nchildren--;
}

void process_get(struct process *p)
{
	p->refcnt++;
}

void process_put(struct process_cache *c, struct process *p)
{
	while (p && --p->refcnt == 0) {
		struct process *parent = p->parent;

		plist_unlink(list_of(c, p), p);
		if (parent)
			unlink_child(parent, p);
		c->count--;
		process_free(p);
		/* the child's reference on its parent goes with it */
		p = parent;
	}
}

static void unmap_pid(struct process_cache *c, struct process *p)
{
	if (!p->alive)
		return;
	htable_remove(&c->by_pid, &p->by_pid);
	plist_unlink(&c->live, p);
	p->alive = false;
	plist_append(&c->dead, p);
	process_put(c, p);
}

static struct process *lookup(struct process_cache *c, uint32_t pid)
{
	uint64_t h = hash_u64(pid);

	htable_for_each_hash(n, &c->by_pid, h)
	{
		struct process *p = container_of(n, struct process, by_pid);

		if (p->pid == pid)
			return p;
	}
	return NULL;
}

/*
 * Drop an entry the cache holds only for itself: unmap its pid, cut its
 * children loose (they keep their parent_exec_id) and free it. Entries that
 * something else holds (an event being built) are skipped.
 */
static bool evict_one(struct process_cache *c, struct plist *l)
{
	for (struct process *p = l->head; p; p = p->lru_next) {
		if (p->refcnt != p->nchildren + (p->alive ? 1 : 0))
			continue;
		if (p->alive)
			c->stats.evicted_alive++;
		c->stats.evictions++;
		process_get(p);
		unmap_pid(c, p);
		while (p->first_child) {
			unlink_child(p, p->first_child);
			p->refcnt--;
		}
		process_put(c, p);
		return true;
	}
	return false;
}

static void evict(struct process_cache *c)
{
	while (c->count > c->cfg.capacity) {
		if (!evict_one(c, &c->dead) && !evict_one(c, &c->live))
			return;
	}
}

static char *flags_string(uint32_t flags)
{
	struct sbuf sb;

	sbuf_init(&sb);
	for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (!(flags & (1u << i)))
			continue;
		if (sb.len)
			sbuf_addc(&sb, ' ');
		sbuf_adds(&sb, flag_names[i]);
	}
	return sbuf_steal(&sb);
}

static size_t add_caps(Tetragon__CapabilitiesType *out, uint64_t mask)
{
	size_t n = 0;

	for (int i = 0; i <= 40; i++)
		if (mask & (1ull << i))
			out[n++] = (Tetragon__CapabilitiesType)i;
	return n;
}

static void u32value(Google__Protobuf__UInt32Value *v, uint32_t x)
{
	google__protobuf__uint32_value__init(v);
	v->value = x;
}

/* Build the protobuf view of an entry; the strings stay owned by the entry. */
static int build_pb(struct process_cache *c, struct process *p)
{
	Tetragon__Process *pb = &p->pb;
	Tetragon__Namespace **slots[NS_COUNT];
	uint64_t start = c->cfg.boot_time_ns + p->ktime;
	size_t n;

	tetragon__process__init(pb);
	pb->exec_id = p->exec_id;
	u32value(&p->pb_pid, p->pid);
	pb->pid = &p->pb_pid;
	u32value(&p->pb_uid, p->uid);
	pb->uid = &p->pb_uid;
	pb->cwd = p->cwd;
	pb->binary = p->binary;
	pb->arguments = p->args;
	pb->flags = p->flags_str;
	google__protobuf__timestamp__init(&p->pb_start);
	p->pb_start.seconds = (int64_t)(start / 1000000000ull);
	p->pb_start.nanos = (int32_t)(start % 1000000000ull);
	pb->start_time = &p->pb_start;
	u32value(&p->pb_auid, p->auid);
	pb->auid = &p->pb_auid;
	pb->docker = p->docker;
	pb->parent_exec_id = p->parent_exec_id;
	u32value(&p->pb_tid, p->tid);
	pb->tid = &p->pb_tid;
	if (p->in_init_tree >= 0) {
		google__protobuf__bool_value__init(&p->pb_init_tree);
		p->pb_init_tree.value = p->in_init_tree;
		pb->in_init_tree = &p->pb_init_tree;
	}

	if (c->cfg.process_cred) {
		Tetragon__ProcessCredentials *cr = &p->pb_cred;
		uint32_t ids[8] = { p->uid,  p->gid,  p->euid,	p->egid,
				    p->suid, p->sgid, p->fsuid, p->fsgid };
		Google__Protobuf__UInt32Value **fields[8] = {
			&cr->uid,  &cr->gid,  &cr->euid,  &cr->egid,
			&cr->suid, &cr->sgid, &cr->fsuid, &cr->fsgid,
		};

		p->cap_list = calloc(3 * 41, sizeof(*p->cap_list));
		if (!p->cap_list)
			return -ENOMEM;
		tetragon__capabilities__init(&p->pb_caps);
		p->pb_caps.permitted = p->cap_list;
		p->pb_caps.n_permitted = add_caps(p->pb_caps.permitted, p->cap_permitted);
		p->pb_caps.effective = p->cap_list + 41;
		p->pb_caps.n_effective = add_caps(p->pb_caps.effective, p->cap_effective);
		p->pb_caps.inheritable = p->cap_list + 82;
		p->pb_caps.n_inheritable = add_caps(p->pb_caps.inheritable, p->cap_inheritable);
		pb->cap = &p->pb_caps;

		tetragon__process_credentials__init(cr);
		for (int i = 0; i < 8; i++) {
			u32value(&p->pb_cred_ids[i], ids[i]);
			*fields[i] = &p->pb_cred_ids[i];
		}
		cr->caps = &p->pb_caps;
		pb->process_credentials = cr;
	}

	if (c->cfg.process_ns) {
		Tetragon__Namespaces *ns = &p->pb_ns;

		tetragon__namespaces__init(ns);
		slots[NS_UTS] = &ns->uts;
		slots[NS_IPC] = &ns->ipc;
		slots[NS_MNT] = &ns->mnt;
		slots[NS_PID] = &ns->pid;
		slots[NS_PID_FOR_CHILDREN] = &ns->pid_for_children;
		slots[NS_NET] = &ns->net;
		slots[NS_TIME] = &ns->time;
		slots[NS_TIME_FOR_CHILDREN] = &ns->time_for_children;
		slots[NS_CGROUP] = &ns->cgroup;
		slots[NS_USER] = &ns->user;
		for (n = 0; n < NS_COUNT; n++) {
			if (!p->ns[n])
				continue;
			tetragon__namespace__init(&p->pb_nss[n]);
			p->pb_nss[n].inum = p->ns[n];
			p->pb_nss[n].is_host = p->ns[n] == c->cfg.host_ns[n];
			*slots[n] = &p->pb_nss[n];
		}
		pb->ns = ns;
	}
	return 0;
}

static struct process *new_entry(struct process_cache *c, const struct process_info *in,
				 struct process *parent, const char *docker)
{
	char exec_id[512];
	struct process *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = in->pid;
	p->tid = in->tid;
	p->ppid = in->ppid;
	p->nspid = in->nspid;
	p->ktime = in->ktime;
	p->flags = in->flags;
	p->uid = in->uid;
	p->euid = in->euid;
	p->suid = in->suid;
	p->fsuid = in->fsuid;
	p->gid = in->gid;
	p->egid = in->egid;
	p->sgid = in->sgid;
	p->fsgid = in->fsgid;
	p->auid = in->auid;
	p->securebits = in->securebits;
	p->cap_permitted = in->cap_permitted;
	p->cap_effective = in->cap_effective;
	p->cap_inheritable = in->cap_inheritable;
	memcpy(p->ns, in->ns, sizeof(p->ns));
	p->cgroup_id = in->cgroup_id;
	if (!parent && in->ppid != 0)
		p->flags |= PROC_F_MISS;

	process_exec_id(c->cfg.node_name, in->ktime, in->pid, exec_id, sizeof(exec_id));
	p->exec_id = strdup(exec_id);
	p->binary = strdup(in->binary ? in->binary : "");
	p->args = strdup(in->args ? in->args : "");
	p->cwd = strdup(in->cwd ? in->cwd : "");
	p->docker = strdup(docker);
	p->flags_str = flags_string(p->flags);
	p->parent_exec_id = strdup(parent ? parent->exec_id : "");
	if (!p->exec_id || !p->binary || !p->args || !p->cwd || !p->docker || !p->flags_str ||
	    !p->parent_exec_id)
		goto err;

	/* the container's init process and what it starts, not what is exec'd into it */
	p->in_init_tree = -1;
	if (*p->docker) {
		bool pidns_init = p->nspid == 1 && p->ns[NS_PID] != c->cfg.host_ns[NS_PID];

		p->in_init_tree = pidns_init || (parent && parent->in_init_tree == 1 &&
						 streq(parent->docker, p->docker));
	}
	if (build_pb(c, p) < 0)
		goto err;
	if (parent) {
		process_get(parent);
		parent->nchildren++;
		p->parent = parent;
		p->next_sibling = parent->first_child;
		if (parent->first_child)
			parent->first_child->prev_sibling = p;
		parent->first_child = p;
	}
	return p;

err:
	process_free(p);
	return NULL;
}

static struct process *install(struct process_cache *c, struct process *p)
{
	struct process *old = lookup(c, p->pid);

	if (old)
		unmap_pid(c, old);
	/* one reference for being mapped, one for the caller */
	p->refcnt += 2;
	p->alive = true;
	htable_insert(&c->by_pid, &p->by_pid, hash_u64(p->pid));
	plist_append(&c->live, p);
	c->count++;
	c->stats.inserts++;
	evict(c);
	return p;
}

struct process *process_cache_add(struct process_cache *c, const struct process_info *in)
{
	struct process *parent = in->ppid ? lookup(c, in->ppid) : NULL;
	struct process *old = lookup(c, in->pid);
	struct process_info info = *in;
	char docker[64];
	struct process *p;

	if (!parent && in->ppid)
		c->stats.parent_misses++;
	/* a process that forked while we watched carries "clone" through its exec */
	if (old && (old->flags & PROC_F_CLONE) && (in->flags & PROC_F_EXECVE))
		info.flags |= PROC_F_CLONE;
	process_container_id(in->cgroup_name, docker, sizeof(docker));
	p = new_entry(c, &info, parent, docker);
	if (!p)
		return NULL;
	return install(c, p);
}

struct process *process_cache_fork(struct process_cache *c, uint32_t pid, uint32_t tid,
				   uint32_t ppid, uint32_t nspid, uint64_t ktime)
{
	struct process *parent = lookup(c, ppid);
	struct process_info in;
	struct process *p;

	if (!parent) {
		c->stats.parent_misses++;
		return NULL;
	}
	memset(&in, 0, sizeof(in));
	in.pid = pid;
	in.tid = tid;
	in.ppid = ppid;
	in.nspid = nspid;
	in.ktime = ktime;
	in.flags = PROC_F_CLONE | (parent->flags & (PROC_F_TRUNC_FILENAME | PROC_F_TRUNC_ARGS));
	in.uid = parent->uid;
	in.euid = parent->euid;
	in.suid = parent->suid;
	in.fsuid = parent->fsuid;
	in.gid = parent->gid;
	in.egid = parent->egid;
	in.sgid = parent->sgid;
	in.fsgid = parent->fsgid;
	in.auid = parent->auid;
	in.securebits = parent->securebits;
	in.cap_permitted = parent->cap_permitted;
	in.cap_effective = parent->cap_effective;
	in.cap_inheritable = parent->cap_inheritable;
	memcpy(in.ns, parent->ns, sizeof(in.ns));
	in.cgroup_id = parent->cgroup_id;
	in.binary = parent->binary;
	in.args = parent->args;
	in.cwd = parent->cwd;
	p = new_entry(c, &in, parent, parent->docker);
	if (!p)
		return NULL;
	return install(c, p);
}

struct process *process_cache_get(struct process_cache *c, uint32_t pid)
{
	struct process *p = lookup(c, pid);

	if (!p) {
		c->stats.misses++;
		return NULL;
	}
	/* recently used: last to be evicted */
	plist_unlink(&c->live, p);
	plist_append(&c->live, p);
	process_get(p);
	return p;
}

struct process *process_cache_exit(struct process_cache *c, uint32_t pid)
{
	struct process *p = lookup(c, pid);

	if (!p) {
		c->stats.misses++;
		return NULL;
	}
	process_get(p);
	p->exited = true;
	unmap_pid(c, p);
	return p;
}

void process_cache_get_stats(struct process_cache *c, struct process_cache_stats *st)
{
	*st = c->stats;
	st->size = c->count;
}

struct walk_ctx {
	void (*fn)(struct process *, void *);
	void *ud;
};

static void walk_one(struct hnode *n, void *ud)
{
	struct walk_ctx *w = ud;

	w->fn(container_of(n, struct process, by_pid), w->ud);
}

void process_cache_walk(struct process_cache *c, void (*fn)(struct process *, void *), void *ud)
{
	struct walk_ctx w = { fn, ud };

	htable_walk(&c->by_pid, walk_one, &w);
}

Tetragon__Process *process_pb(struct process *p)
{
	/* what holds it besides the event being built: alive, children, other events */
	p->pb.refcnt = p->refcnt > 0 ? p->refcnt - 1 : 0;
	return &p->pb;
}

struct process_cache *process_cache_free(struct process_cache *c)
{
	if (!c)
		return NULL;
	/* everything must go, whoever still points at it */
	while (c->live.head || c->dead.head) {
		struct process *p = c->live.head ? c->live.head : c->dead.head;

		if (p->alive) {
			htable_remove(&c->by_pid, &p->by_pid);
			plist_unlink(&c->live, p);
			p->alive = false;
			plist_append(&c->dead, p);
		}
		while (p->first_child)
			unlink_child(p, p->first_child);
		if (p->parent)
			unlink_child(p->parent, p);
		plist_unlink(&c->dead, p);
		process_free(p);
	}
	htable_free(&c->by_pid);
	free(c->node_name);
	free(c);
	return NULL;
}
