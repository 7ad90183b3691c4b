// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/pin.h"
#include "agent/sensor_exec.h"
#include "agent/sensor_generic.h"
#include "bpf/process.h"
#include "generic.skel.h"
#include "lib/util.h"

#define MAX_MAP_IDS 1024 /* the size of the str_lpm outer map */

struct bitmap {
	uint64_t *bits;
	uint32_t n; /* ids 1..n-1 are usable; 0 is never handed out */
};

/* A tracepoint's one attachment, shared by the hooks listed in its slot. */
struct tp_slot {
	char *key; /* "entry:category:name", "exit:category:name", "raw:name" */
	struct gen_link *link;
	struct gen_slot hooks;
};

struct sensor_generic {
	struct generic_bpf *skel;
	struct tp_slot *slots[GEN_MAX_SLOTS];
	int exec_events_fd, exec_proc_fd, exec_scope_fd, bin_sets_fd;
	bool scoped;
	const char *btf_path;
	int lpm_fds[MAX_MAP_IDS]; /* inner tries by map_id, -1 none */
	struct bitmap policy_ids, hook_ids, map_ids;
	uint64_t bin_bits; /* followChildren bits in use */
	struct kernel_features kf;
	char *pin_dir; /* persistent enforcement: where pins go, or NULL */
};

static int bitmap_init(struct bitmap *b, uint32_t n)
{
	b->bits = calloc((n + 63) / 64, sizeof(uint64_t));
	if (!b->bits)
		return -ENOMEM;
	b->n = n;
	return 0;
}

static int bitmap_alloc(struct bitmap *b, uint32_t *id)
{
	for (uint32_t i = 1; i < b->n; i++) {
		if (!(b->bits[i / 64] & (1ull << (i % 64)))) {
			b->bits[i / 64] |= 1ull << (i % 64);
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static void bitmap_free(struct bitmap *b, uint32_t id)
{
	if (id > 0 && id < b->n)
		b->bits[id / 64] &= ~(1ull << (id % 64));
}

/* Hand the process sensor's shared maps to a skeleton before it loads. */
static int reuse_maps(struct sensor_generic *g, struct generic_bpf *skel, bool all)
{
	int r;

	r = bpf_map__reuse_fd(skel->maps.events, g->exec_events_fd);
	if (r == 0)
		r = bpf_map__reuse_fd(skel->maps.proc_info, g->exec_proc_fd);
	if (r == 0)
		r = bpf_map__reuse_fd(skel->maps.cgroup_scope, g->exec_scope_fd);
	if (r < 0 || !all)
		return r;
	/* a per-hook copy shares everything with the main instance */
	for (struct bpf_map *m = bpf_object__next_map(skel->obj, NULL); m;
	     m = bpf_object__next_map(skel->obj, m)) {
		struct bpf_map *mine;

		if (bpf_map__is_internal(m))
			continue;
		mine = bpf_object__find_map_by_name(g->skel->obj, bpf_map__name(m));
		if (!mine || bpf_map__fd(mine) < 0)
			continue;
		if (m == skel->maps.events || m == skel->maps.proc_info ||
		    m == skel->maps.cgroup_scope)
			continue;
		r = bpf_map__reuse_fd(m, bpf_map__fd(mine));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Programs of the main instance, loaded only where the kernel allows them. */
static bool main_autoload(const struct kernel_features *kf, const char *name)
{
	if (startswith(name, "generic_kprobe_multi") || startswith(name, "generic_kretprobe_multi"))
		return kf->kprobe_multi && (!strstr(name, "override") || kf->override_return);
	if (startswith(name, "generic_kprobe") || startswith(name, "generic_kretprobe"))
		return kf->kprobe && (!strstr(name, "override") || kf->override_return);
	if (streq(name, "generic_rawtp"))
		return kf->raw_tp_cookie;
	/* trampolines are bound to one function each: per-hook copies */
	if (streq(name, "generic_fentry") || streq(name, "generic_fexit") ||
	    streq(name, "generic_fmod_ret") || streq(name, "generic_lsm"))
		return false;
	return true;
}

/*
 * The main instance (keep NULL), or a copy for one hook that loads only the
 * program keep, bound to fixed_hook_id (and, for trampolines, to target).
 */
static int open_skel(struct sensor_generic *g, const char *keep, uint32_t fixed_hook_id,
		     const char *target, bool may_override, struct generic_bpf **ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = g->btf_path);
	struct generic_bpf *skel;
	struct bpf_program *p;
	int r = 0;

	skel = generic_bpf__open_opts(&opts);
	if (!skel)
		return -errno;
	skel->rodata->scope_cgroup = g->scoped;
	skel->rodata->fixed_hook_id = fixed_hook_id;
	skel->rodata->may_override = may_override;
	bpf_object__for_each_program(p, skel->obj)
	{
		const char *name = bpf_program__name(p);
		bool load = keep ? streq(name, keep) : main_autoload(&g->kf, name);

		bpf_program__set_autoload(p, load);
		if (load && keep && target)
			r = bpf_program__set_attach_target(p, 0, target);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = reuse_maps(g, skel, keep != NULL);
	if (r == 0)
		r = generic_bpf__load(skel);
	if (r < 0) {
		generic_bpf__destroy(skel);
		return r;
	}
	*ret = skel;
	return 0;
}

int sensor_generic_load(struct sensor_exec *exec, int scope_cgroup_fd, const char *btf_path,
			const struct kernel_features *kf, struct sensor_generic **ret)
{
	struct sensor_generic *g;
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (int i = 0; i < MAX_MAP_IDS; i++)
		g->lpm_fds[i] = -1;
	g->exec_events_fd = sensor_exec_map_fd(exec, "events");
	g->exec_proc_fd = sensor_exec_map_fd(exec, "proc_info");
	g->exec_scope_fd = sensor_exec_map_fd(exec, "cgroup_scope");
	g->bin_sets_fd = sensor_exec_map_fd(exec, "bin_sets");
	g->scoped = scope_cgroup_fd >= 0;
	g->btf_path = btf_path;
	g->kf = *kf;
	r = bitmap_init(&g->policy_ids, GEN_MAX_POLICIES);
	if (r == 0)
		r = bitmap_init(&g->hook_ids, GEN_MAX_HOOKS);
	if (r == 0)
		r = bitmap_init(&g->map_ids, MAX_MAP_IDS);
	if (r == 0)
		r = open_skel(g, NULL, 0, NULL, false, &g->skel);
	if (r < 0) {
		sensor_generic_free(g);
		return r;
	}
	*ret = g;
	return 0;
}

struct sensor_generic *sensor_generic_free(struct sensor_generic *g)
{
	if (!g)
		return NULL;
	for (int i = 0; i < GEN_MAX_SLOTS; i++) {
		if (!g->slots[i])
			continue;
		gen_link_destroy(g, g->slots[i]->link);
		free(g->slots[i]->key);
		free(g->slots[i]);
	}
	for (int i = 0; i < MAX_MAP_IDS; i++)
		if (g->lpm_fds[i] >= 0)
			close(g->lpm_fds[i]);
	generic_bpf__destroy(g->skel);
	free(g->policy_ids.bits);
	free(g->hook_ids.bits);
	free(g->map_ids.bits);
	free(g->pin_dir);
	free(g);
	return NULL;
}

static void slot_pin_path(struct sensor_generic *g, int id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/links/slot%d", g->pin_dir, id);
}

int sensor_generic_pin(struct sensor_generic *g, const char *dir)
{
	char path[512];
	int r;

	free(g->pin_dir);
	g->pin_dir = strdup(dir);
	if (!g->pin_dir)
		return -ENOMEM;
	r = pin_object(g->skel->obj, dir);
	for (int i = 0; r == 0 && i < GEN_MAX_SLOTS; i++) {
		if (!g->slots[i])
			continue;
		slot_pin_path(g, i, path, sizeof(path));
		r = gen_link_pin(g->slots[i]->link, path);
	}
	return r;
}

int gen_link_pin(struct gen_link *l, const char *path)
{
	if (l->link)
		return pin_link(l->link, path);
	if (l->fd >= 0)
		return pin_fd(l->fd, path);
	return -EINVAL;
}

struct gen_link *gen_link_forget(struct gen_link *l)
{
	if (!l)
		return NULL;
	if (l->link) {
		bpf_link__disconnect(l->link);
		bpf_link__destroy(l->link);
	} else if (l->fd >= 0) {
		close(l->fd);
	}
	/* the pinned link holds the program; the copy's handles may go */
	generic_bpf__destroy(l->copy);
	free(l);
	return NULL;
}

void sensor_generic_disconnect(struct sensor_generic *g)
{
	for (int i = 0; i < GEN_MAX_SLOTS; i++) {
		if (!g->slots[i])
			continue;
		g->slots[i]->link = gen_link_forget(g->slots[i]->link);
	}
}

int sensor_generic_alloc_policy_id(struct sensor_generic *g, uint32_t *id)
{
	return bitmap_alloc(&g->policy_ids, id);
}

void sensor_generic_free_policy_id(struct sensor_generic *g, uint32_t id)
{
	bitmap_free(&g->policy_ids, id);
}

int sensor_generic_alloc_hook_id(struct sensor_generic *g, uint32_t *id)
{
	return bitmap_alloc(&g->hook_ids, id);
}

void sensor_generic_free_hook_id(struct sensor_generic *g, uint32_t id)
{
	bitmap_free(&g->hook_ids, id);
}

int sensor_generic_alloc_map_id(struct sensor_generic *g, uint32_t *id)
{
	return bitmap_alloc(&g->map_ids, id);
}

void sensor_generic_free_map_id(struct sensor_generic *g, uint32_t id)
{
	bitmap_free(&g->map_ids, id);
}

int sensor_generic_alloc_bin_bit(struct sensor_generic *g, uint64_t *bit)
{
	for (int i = 0; i < 64; i++) {
		if (!(g->bin_bits & (1ull << i))) {
			g->bin_bits |= 1ull << i;
			*bit = 1ull << i;
			return 0;
		}
	}
	return -ENOSPC;
}

void sensor_generic_free_bin_bit(struct sensor_generic *g, uint64_t bit)
{
	g->bin_bits &= ~bit;
}

static int update(int fd, const void *k, const void *v, uint64_t flags)
{
	return bpf_map_update_elem(fd, k, v, flags) < 0 ? -errno : 0;
}

int sensor_generic_set_policy(struct sensor_generic *g, uint32_t policy_id, bool enabled,
			      uint8_t mode)
{
	struct gen_policy_conf pc = { .enabled = enabled, .mode = mode };

	return update(bpf_map__fd(g->skel->maps.policy_conf), &policy_id, &pc, BPF_ANY);
}

int sensor_generic_put_hook(struct sensor_generic *g, const struct gen_hook *h,
			    const struct gen_selector *sels, unsigned n_sels)
{
	int r = 0;

	for (unsigned i = 0; i < n_sels && r == 0; i++) {
		uint32_t key = GEN_SEL_KEY(h->hook_id, i);

		r = update(bpf_map__fd(g->skel->maps.selectors), &key, &sels[i], BPF_ANY);
	}
	if (r == 0)
		r = update(bpf_map__fd(g->skel->maps.hooks), &h->hook_id, h, BPF_ANY);
	if (r < 0)
		sensor_generic_del_hook(g, h->hook_id, n_sels);
	return r;
}

void sensor_generic_del_hook(struct sensor_generic *g, uint32_t hook_id, unsigned n_sels)
{
	bpf_map_delete_elem(bpf_map__fd(g->skel->maps.hooks), &hook_id);
	for (unsigned i = 0; i < GEN_MAX_SELECTORS; i++) {
		uint32_t key = GEN_SEL_KEY(hook_id, i);

		bpf_map_delete_elem(bpf_map__fd(g->skel->maps.selectors), &key);
		bpf_map_delete_elem(bpf_map__fd(g->skel->maps.sel_stats), &key);
	}
	(void)n_sels;
}

/* The bucket map and key for a string of len bytes, as bpf/generic.bpf.c looks it up. */
static int string_key(struct sensor_generic *g, uint32_t map_id, const char *s, size_t len,
		      struct str_key_large *k, int *fd)
{
	memset(k, 0, sizeof(*k));
	k->map_id = map_id;
	k->len = (uint32_t)len;
	if (len < STR_BUCKET_SMALL)
		*fd = bpf_map__fd(g->skel->maps.str_small);
	else if (len < STR_BUCKET_MEDIUM)
		*fd = bpf_map__fd(g->skel->maps.str_medium);
	else if (len < STR_BUCKET_LARGE)
		*fd = bpf_map__fd(g->skel->maps.str_large);
	else
		return -E2BIG;
	memcpy(k->s, s, len);
	return 0;
}

int sensor_generic_add_string(struct sensor_generic *g, uint32_t map_id, const char *s, size_t len)
{
	struct str_key_large *k = malloc(sizeof(*k));
	uint8_t one = 1;
	int fd, r;

	if (!k)
		return -ENOMEM;
	r = string_key(g, map_id, s, len, k, &fd);
	if (r == 0)
		r = update(fd, k, &one, BPF_ANY);
	free(k);
	return r;
}

void sensor_generic_del_string(struct sensor_generic *g, uint32_t map_id, const char *s, size_t len)
{
	struct str_key_large *k = malloc(sizeof(*k));
	int fd;

	if (k && string_key(g, map_id, s, len, k, &fd) == 0)
		bpf_map_delete_elem(fd, k);
	free(k);
}

struct lpm_key {
	uint32_t prefixlen;
	char s[STR_PREFIX_MAX];
};

int sensor_generic_add_lpm(struct sensor_generic *g, uint32_t map_id, const char *const *vals,
			   size_t n, bool reverse)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	uint8_t one = 1;
	int fd, r = 0;

	if (map_id >= MAX_MAP_IDS)
		return -EINVAL;
	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "str_lpm_inner", sizeof(struct lpm_key), 1, 1024,
			    &opts);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct lpm_key k;
		size_t len = strlen(vals[i]);

		memset(&k, 0, sizeof(k));
		if (len > (reverse ? STR_POSTFIX_MAX : STR_PREFIX_MAX)) {
			r = -E2BIG;
			break;
		}
		for (size_t c = 0; c < len; c++)
			k.s[c] = reverse ? vals[i][len - 1 - c] : vals[i][c];
		k.prefixlen = (uint32_t)len * 8;
		r = update(fd, &k, &one, BPF_ANY);
	}
	if (r == 0)
		r = update(bpf_map__fd(g->skel->maps.str_lpm), &map_id, &fd, BPF_ANY);
	if (r < 0) {
		close(fd);
		return r;
	}
	g->lpm_fds[map_id] = fd;
	return 0;
}

void sensor_generic_del_lpm(struct sensor_generic *g, uint32_t map_id)
{
	if (map_id >= MAX_MAP_IDS || g->lpm_fds[map_id] < 0)
		return;
	bpf_map_delete_elem(bpf_map__fd(g->skel->maps.str_lpm), &map_id);
	close(g->lpm_fds[map_id]);
	g->lpm_fds[map_id] = -1;
}

int sensor_generic_add_num(struct sensor_generic *g, uint32_t map_id, uint64_t v)
{
	struct num_key k = { .map_id = map_id, .value = v };
	uint8_t one = 1;

	return update(bpf_map__fd(g->skel->maps.num_set), &k, &one, BPF_ANY);
}

void sensor_generic_del_num(struct sensor_generic *g, uint32_t map_id, uint64_t v)
{
	struct num_key k = { .map_id = map_id, .value = v };

	bpf_map_delete_elem(bpf_map__fd(g->skel->maps.num_set), &k);
}

int sensor_generic_add_addr6(struct sensor_generic *g, uint32_t map_id, const uint8_t addr[16],
			     unsigned prefix_len)
{
	struct addr6_key k = { .prefixlen = 32 + prefix_len, .map_id = map_id };
	uint8_t one = 1;

	memcpy(k.addr, addr, 16);
	return update(bpf_map__fd(g->skel->maps.addr6), &k, &one, BPF_ANY);
}

void sensor_generic_del_addr6(struct sensor_generic *g, uint32_t map_id, const uint8_t addr[16],
			      unsigned prefix_len)
{
	struct addr6_key k = { .prefixlen = 32 + prefix_len, .map_id = map_id };

	memcpy(k.addr, addr, 16);
	bpf_map_delete_elem(bpf_map__fd(g->skel->maps.addr6), &k);
}

int sensor_generic_add_bin_set(struct sensor_generic *g, const char *path, uint64_t bit)
{
	struct bin_key k;
	uint64_t bits = 0;

	memset(&k, 0, sizeof(k));
	if (strlen(path) >= sizeof(k.path))
		return -E2BIG;
	strcpy(k.path, path);
	bpf_map_lookup_elem(g->bin_sets_fd, &k, &bits);
	bits |= bit;
	return update(g->bin_sets_fd, &k, &bits, BPF_ANY);
}

void sensor_generic_del_bin_set(struct sensor_generic *g, const char *path, uint64_t bit)
{
	struct bin_key k;
	uint64_t bits = 0;

	memset(&k, 0, sizeof(k));
	if (strlen(path) >= sizeof(k.path))
		return;
	strcpy(k.path, path);
	if (bpf_map_lookup_elem(g->bin_sets_fd, &k, &bits) < 0)
		return;
	bits &= ~bit;
	if (bits)
		bpf_map_update_elem(g->bin_sets_fd, &k, &bits, BPF_ANY);
	else
		bpf_map_delete_elem(g->bin_sets_fd, &k);
}

static int wrap(struct bpf_link *bl, int fd, struct gen_link **ret)
{
	struct gen_link *l;

	if (!bl && fd < 0)
		return -errno;
	l = calloc(1, sizeof(*l));
	if (!l) {
		if (bl)
			bpf_link__destroy(bl);
		else
			close(fd);
		return -ENOMEM;
	}
	l->link = bl;
	l->fd = bl ? -1 : fd;
	l->slot = -1;
	*ret = l;
	return 0;
}

static int write_slot(struct sensor_generic *g, int id)
{
	uint32_t key = (uint32_t)id;

	return update(bpf_map__fd(g->skel->maps.slots), &key, &g->slots[id]->hooks, BPF_ANY);
}

/* Take a hook out of its slot; the last one out detaches the tracepoint. */
static void slot_leave(struct sensor_generic *g, int id, uint32_t hook_id)
{
	struct tp_slot *t = g->slots[id];
	uint32_t w = 0;

	if (!t)
		return;
	for (uint32_t i = 0; i < t->hooks.n; i++)
		if (t->hooks.hooks[i] != hook_id)
			t->hooks.hooks[w++] = t->hooks.hooks[i];
	t->hooks.n = w;
	write_slot(g, id);
	if (w > 0)
		return;
	if (g->pin_dir) {
		char path[512];

		slot_pin_path(g, id, path, sizeof(path));
		unlink(path);
	}
	gen_link_destroy(g, t->link);
	free(t->key);
	free(t);
	g->slots[id] = NULL;
}

struct gen_link *gen_link_destroy(struct sensor_generic *g, struct gen_link *l)
{
	if (!l)
		return NULL;
	if (l->slot >= 0)
		slot_leave(g, l->slot, l->hook_id);
	else if (l->link)
		bpf_link__destroy(l->link);
	else if (l->fd >= 0)
		close(l->fd);
	generic_bpf__destroy(l->copy);
	free(l);
	return NULL;
}

/*
 * Put hook_id into the slot of key, attaching the tracepoint with attach() on
 * first use (the slot's id is the cookie).
 */
static int slot_join(struct sensor_generic *g, const char *key, uint32_t hook_id,
		     int (*attach)(struct sensor_generic *g, void *arg, uint32_t cookie,
				   struct gen_link **ret),
		     void *arg, struct gen_link **ret)
{
	struct tp_slot *t = NULL;
	struct gen_link *l;
	int id = -1, free_id = -1, r;

	for (int i = 1; i < GEN_MAX_SLOTS; i++) {
		if (g->slots[i] && streq(g->slots[i]->key, key)) {
			id = i;
			break;
		}
		if (!g->slots[i] && free_id < 0)
			free_id = i;
	}
	if (id < 0) {
		if (free_id < 0)
			return -ENOSPC;
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->key = strdup(key);
		if (!t->key) {
			free(t);
			return -ENOMEM;
		}
		id = free_id;
		g->slots[id] = t;
		/* the slot must list the hook before the first event can come */
		t->hooks.hooks[t->hooks.n++] = hook_id;
		r = write_slot(g, id);
		if (r == 0)
			r = attach(g, arg, (uint32_t)id, &t->link);
		if (r == 0 && g->pin_dir) {
			char path[512];

			slot_pin_path(g, id, path, sizeof(path));
			r = gen_link_pin(t->link, path);
			if (r < 0)
				t->link = gen_link_destroy(g, t->link);
		}
		if (r < 0) {
			t->hooks.n = 0;
			write_slot(g, id);
			free(t->key);
			free(t);
			g->slots[id] = NULL;
			return r;
		}
	} else {
		t = g->slots[id];
		if (t->hooks.n == GEN_SLOT_HOOKS)
			return -ENOSPC;
		t->hooks.hooks[t->hooks.n++] = hook_id;
		r = write_slot(g, id);
		if (r < 0) {
			t->hooks.n--;
			return r;
		}
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		slot_leave(g, id, hook_id);
		return -ENOMEM;
	}
	l->fd = -1;
	l->slot = id;
	l->hook_id = hook_id;
	*ret = l;
	return 0;
}

struct tp_attach {
	const char *category;
	const char *name;
	bool exit_side;
};

static int attach_tp_cookie(struct sensor_generic *g, void *arg, uint32_t cookie,
			    struct gen_link **ret)
{
	struct tp_attach *a = arg;
	LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = cookie);
	struct bpf_link *bl;

	bl = bpf_program__attach_tracepoint_opts(a->exit_side ? g->skel->progs.generic_tp_exit :
								g->skel->progs.generic_tp,
						 a->category, a->name, &opts);
	return wrap(bl, -1, ret);
}

int sensor_generic_attach_tp(struct sensor_generic *g, const char *category, const char *name,
			     uint32_t hook_id, bool exit_side, struct gen_link **ret)
{
	struct tp_attach a = { category, name, exit_side };
	char key[512];

	snprintf(key, sizeof(key), "%s:%s:%s", exit_side ? "exit" : "entry", category, name);
	return slot_join(g, key, hook_id, attach_tp_cookie, &a, ret);
}

/* BPF_RAW_TRACEPOINT_OPEN with a cookie (6.10+); the UAPI headers here predate the field. */
static int raw_tp_open_cookie(int prog_fd, const char *name, uint64_t cookie)
{
	struct {
		uint64_t name;
		uint32_t prog_fd;
		uint32_t pad;
		uint64_t cookie;
	} attr;

	memset(&attr, 0, sizeof(attr));
	attr.name = (uint64_t)(uintptr_t)name;
	attr.prog_fd = (uint32_t)prog_fd;
	attr.cookie = cookie;
	return (int)syscall(__NR_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
}

static int attach_raw_cookie(struct sensor_generic *g, void *arg, uint32_t cookie,
			     struct gen_link **ret)
{
	int fd = raw_tp_open_cookie(bpf_program__fd(g->skel->progs.generic_rawtp), arg, cookie);

	return wrap(NULL, fd, ret);
}

int sensor_generic_attach_raw_tp(struct sensor_generic *g, const char *name, uint32_t hook_id,
				 struct gen_link **ret)
{
	struct generic_bpf *copy;
	struct bpf_link *bl;
	char key[512];
	int r;

	snprintf(key, sizeof(key), "raw:%s", name);
	if (bpf_program__fd(g->skel->progs.generic_rawtp) >= 0) {
		r = slot_join(g, key, hook_id, attach_raw_cookie, (void *)name, ret);
		if (r != -E2BIG && r != -EINVAL)
			return r;
	}
	/* no cookies for raw tracepoints here: a copy of the program that knows its hook */
	r = open_skel(g, "generic_rawtp", hook_id, NULL, false, &copy);
	if (r < 0)
		return r;
	bl = bpf_program__attach_raw_tracepoint(copy->progs.generic_rawtp, name);
	r = wrap(bl, -1, ret);
	if (r < 0) {
		generic_bpf__destroy(copy);
		return r;
	}
	(*ret)->copy = copy;
	return 0;
}

int sensor_generic_attach_uprobe(struct sensor_generic *g, const char *path, const char *symbol,
				 uint64_t offset, uint32_t hook_id, bool ret_probe,
				 struct gen_link **ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = hook_id, .retprobe = ret_probe,
		    .func_name = symbol);
	struct bpf_link *bl;

	bl = bpf_program__attach_uprobe_opts(ret_probe ? g->skel->progs.generic_uretprobe :
							 g->skel->progs.generic_uprobe,
					     -1, path, (size_t)offset, &opts);
	return wrap(bl, -1, ret);
}

int sensor_generic_attach_kprobe(struct sensor_generic *g, const char *func, uint32_t hook_id,
				 bool ret_probe, bool override, struct gen_link **ret)
{
	LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = hook_id, .retprobe = ret_probe);
	struct bpf_program *p = ret_probe ? g->skel->progs.generic_kretprobe :
				override  ? g->skel->progs.generic_kprobe_override :
					    g->skel->progs.generic_kprobe;
	struct bpf_link *bl;

	if (bpf_program__fd(p) < 0)
		return -EOPNOTSUPP;
	bl = bpf_program__attach_kprobe_opts(p, func, &opts);
	return wrap(bl, -1, ret);
}

int sensor_generic_attach_kprobe_multi(struct sensor_generic *g, const char **funcs,
				       const uint64_t *cookies, size_t n, bool ret_probe,
				       bool override, struct gen_link **ret)
{
	LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = funcs, .cookies = (const __u64 *)cookies,
		    .cnt = n, .retprobe = ret_probe);
	struct bpf_program *p = ret_probe ? g->skel->progs.generic_kretprobe_multi :
				override  ? g->skel->progs.generic_kprobe_multi_override :
					    g->skel->progs.generic_kprobe_multi;
	struct bpf_link *bl;

	if (bpf_program__fd(p) < 0)
		return -EOPNOTSUPP;
	bl = bpf_program__attach_kprobe_multi_opts(p, NULL, &opts);
	return wrap(bl, -1, ret);
}

int sensor_generic_attach_trampoline(struct sensor_generic *g, enum gen_trampoline kind,
				     const char *func, uint32_t hook_id, bool may_override,
				     struct gen_link **ret)
{
	static const char *const progs[] = {
		[GEN_TRAMP_FENTRY] = "generic_fentry",
		[GEN_TRAMP_FEXIT] = "generic_fexit",
		[GEN_TRAMP_FMOD_RET] = "generic_fmod_ret",
		[GEN_TRAMP_LSM] = "generic_lsm",
	};
	struct generic_bpf *copy;
	struct bpf_program *p;
	struct bpf_link *bl;
	int r;

	r = open_skel(g, progs[kind], hook_id, func, may_override, &copy);
	if (r < 0)
		return r;
	p = bpf_object__find_program_by_name(copy->obj, progs[kind]);
	bl = kind == GEN_TRAMP_LSM ? bpf_program__attach_lsm(p) : bpf_program__attach_trace(p);
	r = wrap(bl, -1, ret);
	if (r < 0) {
		generic_bpf__destroy(copy);
		return r;
	}
	(*ret)->copy = copy;
	return 0;
}

static int sum_percpu(int fd, const void *key, size_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	int r = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu * n, sizeof(uint64_t));
	if (!vals)
		return -ENOMEM;
	memset(out, 0, n * sizeof(uint64_t));
	if (bpf_map_lookup_elem(fd, key, vals) < 0) {
		r = -errno;
	} else {
		for (int c = 0; c < ncpu; c++)
			for (size_t i = 0; i < n; i++)
				out[i] += vals[(size_t)c * n + i];
	}
	free(vals);
	return r;
}

int sensor_generic_policy_counters(struct sensor_generic *g, uint32_t policy_id,
				   uint64_t out[GEN_CNT_MAX])
{
	int fd = bpf_map__fd(g->skel->maps.policy_stats);

	for (uint32_t i = 0; i < GEN_CNT_MAX; i++) {
		uint32_t k = policy_id * GEN_CNT_MAX + i;
		int r = sum_percpu(fd, &k, 1, &out[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

int sensor_generic_selector_counters(struct sensor_generic *g, uint32_t hook_id, uint32_t sel,
				     uint64_t out[GEN_CNT_MAX])
{
	uint32_t k = GEN_SEL_KEY(hook_id, sel);
	int r = sum_percpu(bpf_map__fd(g->skel->maps.sel_stats), &k, GEN_CNT_MAX, out);

	return r == -ENOENT ? 0 : r;
}

void sensor_generic_clear_counters(struct sensor_generic *g, uint32_t policy_id)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(g->skel->maps.policy_stats);
	uint64_t *zero;

	if (ncpu <= 0)
		return;
	zero = calloc((size_t)ncpu, sizeof(uint64_t));
	if (!zero)
		return;
	for (uint32_t i = 0; i < GEN_CNT_MAX; i++) {
		uint32_t k = policy_id * GEN_CNT_MAX + i;

		bpf_map_update_elem(fd, &k, zero, BPF_ANY);
	}
	free(zero);
}

int sensor_generic_errors(struct sensor_generic *g, uint64_t counts[ERR_COUNT])
{
	int fd = bpf_map__fd(g->skel->maps.gen_errors);

	for (uint32_t k = 0; k < ERR_COUNT; k++) {
		int r = sum_percpu(fd, &k, 1, &counts[k]);

		if (r < 0)
			return r;
	}
	return 0;
}
