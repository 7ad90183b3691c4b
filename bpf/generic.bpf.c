// SPDX-License-Identifier: GPL-2.0
/*
 * The generic policy programs: one set serves every TracingPolicy. A program is
 * attached once per hook with the hook's id as its cookie; the hook's argument
 * layout, selectors and actions are a gen_hook entry in the "hooks" map, put
 * there by the agent's compiler. Selectors run here, before anything is written
 * to the ring buffer: a hook whose selectors do not match costs a few map
 * lookups and no event.
 *
 * Steps: raw argument values (hook-kind specific), typed reads into the event's
 * data area, selectors (first match wins), actions, the record. Hooks that wait
 * for a return value keep their entry state in "retstate" until the exit side.
 */
#include "lib/common.bpf.h"
#include "lib/path.bpf.h"
#include "generic.h"
#include "process.h"

char LICENSE[] SEC("license") = "GPL";

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#define AF_UNIX 1
#endif
#ifndef IFNAMSIZ
#define IFNAMSIZ 16
#endif
#define S_IFMT_BITS 0170000

/* Shared with the process sensor: the agent hands over its maps' fds before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROC_INFO_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct proc_info);
} proc_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_scope SEC(".maps");

const volatile __u8 scope_cgroup = 0;
/* Non-zero in a copy of these programs loaded for one hook (no attach cookie there). */
const volatile __u32 fixed_hook_id = 0;
/* a trampoline copy whose hook has an Override: only then may it return an error */
const volatile __u8 may_override = 0;

DEFINE_ERRORS_MAP(gen_errors);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GEN_MAX_HOOKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct gen_hook);
} hooks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GEN_MAX_HOOKS *GEN_MAX_SELECTORS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct gen_selector);
} selectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEN_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct gen_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEN_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct gen_policy_conf);
} policy_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GEN_MAX_POLICIES *GEN_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} policy_stats SEC(".maps");

/* Per-selector counters: key hook_id * 8 + selector, GEN_CNT_* inside. */
struct sel_counters {
	__u64 c[GEN_CNT_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, GEN_MAX_HOOKS *GEN_MAX_SELECTORS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct sel_counters);
} sel_stats SEC(".maps");

/* Values of string and number filters. */
#define STR_MAP(name, keytype)                        \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_HASH);      \
		__uint(max_entries, 16384);           \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, keytype);                 \
		__type(value, __u8);                  \
	} name SEC(".maps")

STR_MAP(str_small, struct str_key_small);
STR_MAP(str_medium, struct str_key_medium);
STR_MAP(str_large, struct str_key_large);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct num_key);
	__type(value, __u8);
} num_set SEC(".maps");

/* Prefixes and reversed postfixes: one trie per filter, found by map_id. */
struct lpm_key {
	__u32 prefixlen;
	char s[STR_PREFIX_MAX];
};

struct lpm_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u8);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__array(values, struct lpm_inner);
} str_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct addr6_key);
	__type(value, __u8);
} addr6 SEC(".maps");

/* FollowFD: paths of followed file descriptors. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fd_key);
	__type(value, struct fd_path);
} fd_follow SEC(".maps");

/* Post rateLimit: when each key last posted. */
struct rl_key {
	__u64 hash;
	__u32 hook_id;
	__u32 id;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rl_key);
	__type(value, __u64);
} ratelimit SEC(".maps");

/* ---------------------------------------------------------------------------------------- */
/* Scratch space */

#define DATA_MAX 16384 /* argument data of one event; one more argument may overflow it */
#define DATA_MASK (DATA_MAX - 1)
#define DATA_SIZE (DATA_MAX + sizeof(struct gen_arg_hdr) + 2 * GEN_ARG_DATA_MAX + 512)
#define SAVE_DATA_MAX 8192

struct gen_scratch {
	struct gen_event ev;
	__u8 data[DATA_SIZE];
};

/* What an event is built from besides its record. */
struct gen_state {
	__u64 raw[GEN_ARG_SLOTS];
	__u64 regs[GEN_ARG_SLOTS]; /* pt_regs hooks: the argument registers */
	__u64 ctx_addr; /* the tracepoint record, for __data_loc strings */
	__u16 arg_off[GEN_ARG_SLOTS]; /* offset of each argument's header in data */
	__u32 off; /* end of the data written so far */
	__u32 hook_id;
	__u32 tgid;
	__s64 override_val; /* Override: the error the hook returns instead */
	__u8 sel; /* selector that matched, 0xff none */
	__u8 post;
	__u8 mode;
	__u8 is_return;
	__u8 override; /* Override was decided (enforce mode) */
	__u8 skip; /* an fd argument that must have been followed was not: no event */
	__u8 pad[2];
};

struct gen_aux {
	struct path_buf path;
	struct path dpath; /* a dentry's path: no mount */
	char zero[STR_BUCKET_LARGE]; /* never written: a source of zeroes */
	struct str_key_large key;
	struct lpm_key lpm;
	char tail[STR_POSTFIX_MAX];
	struct addr6_key a6;
	struct fd_path fdp;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_scratch);
} gen_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_state);
} gen_state_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_aux);
} gen_aux_heap SEC(".maps");

/* Entry state of hooks that wait for the return value. */
struct ret_key {
	__u64 pid_tgid;
	__u32 hook_id;
	__u32 pad;
};

struct ret_saved {
	struct gen_state st;
	struct gen_event ev;
	__u8 data[SAVE_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ret_key);
	__type(value, struct ret_saved);
} retstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ret_saved);
} ret_heap SEC(".maps");

static __always_inline void *heap(void *map)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(map, &zero);
}

static __always_inline void stat_add(__u32 policy_id, __u32 counter)
{
	__u32 k = policy_id * GEN_CNT_MAX + counter;
	__u64 *v;

	if (policy_id >= GEN_MAX_POLICIES)
		return;
	v = bpf_map_lookup_elem(&policy_stats, &k);
	if (v)
		*v += 1;
}

static __always_inline void sel_stat_add(__u32 hook_id, __u32 sel, __u32 counter)
{
	__u32 k = GEN_SEL_KEY(hook_id, sel), zk = 0;
	struct sel_counters *c = bpf_map_lookup_elem(&sel_stats, &k);
	void *zero;

	if (!c) {
		/* zeroes from the scratch area rather than 64 bytes of stack */
		zero = bpf_map_lookup_elem(&gen_aux_heap, &zk);
		if (!zero)
			return;
		bpf_map_update_elem(&sel_stats, &k, ((struct gen_aux *)zero)->zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&sel_stats, &k);
		if (!c)
			return;
	}
	c->c[counter & (GEN_CNT_MAX - 1)] += 1;
}

static __always_inline bool in_scope(void)
{
	if (!scope_cgroup)
		return true;
	return bpf_current_task_under_cgroup(&cgroup_scope, 0) == 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading arguments */

struct read_ctx {
	struct gen_scratch *s;
	struct gen_state *st;
	struct gen_hook *h;
	struct gen_aux *aux;
	__u32 first;
	__u32 last;
};

static __always_inline struct gen_arg_hdr *arg_hdr(struct gen_scratch *s, __u32 off)
{
	return (struct gen_arg_hdr *)&s->data[off & DATA_MASK];
}

/* Room left for an argument's data at off. */
static __always_inline __u32 room(__u32 off, __u32 want)
{
	__u32 left;

	if (off >= DATA_MAX)
		return 0;
	left = DATA_MAX - off;
	if (want > left)
		want = left;
	if (want > GEN_ARG_DATA_MAX)
		want = GEN_ARG_DATA_MAX;
	return want;
}

/* Sizes are masked so the verifier sees them bounded; the data area has the slack. */
#define SIZE_MASK (2 * GEN_ARG_DATA_MAX - 1)

static __always_inline int read_str(void *dst, __u32 size, __u64 ptr, bool user)
{
	barrier_var(size);
	size &= SIZE_MASK;
	if (user)
		return bpf_probe_read_user_str(dst, size, (void *)ptr);
	return bpf_probe_read_kernel_str(dst, size, (void *)ptr);
}

static __always_inline int read_mem(void *dst, __u32 size, __u64 ptr, bool user)
{
	barrier_var(size);
	size &= SIZE_MASK;
	if (user)
		return bpf_probe_read_user(dst, size, (void *)ptr);
	return bpf_probe_read_kernel(dst, size, (void *)ptr);
}

static __always_inline struct file *task_fd_file(struct task_struct *task, __u32 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Resolve a struct path into the argument's data. */
static __always_inline __u32 put_path(struct gen_aux *aux, struct gen_arg_hdr *hd, __u8 *dst,
				      __u32 max, const struct path *path)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct path root;
	__u32 start, n;
	int r;

	bpf_probe_read_kernel(&root, sizeof(root), &BPF_CORE_READ(task, fs)->root);
	r = path_resolve(path, &root, &aux->path, &start);
	if (r == PATH_ERROR) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	if (r == PATH_TRUNCATED)
		hd->flags |= GEN_DF_TRUNCATED;
	n = PATH_MAX_LEN - 1 - start;
	if (n > PATH_MAX_LEN - 1)
		return 0;
	if (n > max) {
		hd->flags |= GEN_DF_TRUNCATED;
		n = max;
	}
	hd->orig_len = n;
	if (bpf_probe_read_kernel(dst, BOUND(n, GEN_ARG_DATA_MAX - 1),
				  &aux->path.buf[BOUND(start, PATH_MAX_LEN - 1)]))
		return 0;
	return n;
}

/*
 * file, path, dentry, linux_binprm and kiocb (and the file an fd names): the path
 * as data and, but for fd, the inode's mode as the header's value. A dentry has no
 * mount: its path ends at the root of its file system.
 */
static __noinline __u32 read_file_arg(struct gen_aux *aux, struct gen_arg_hdr *hd, __u32 max,
				      __u64 v, __u8 type)
{
	__u8 *dst = (__u8 *)(hd + 1);
	const struct path *p;

	if (type == GEN_ARG_LINUX_BINPRM)
		v = (__u64)BPF_CORE_READ((struct linux_binprm *)v, file);
	else if (type == GEN_ARG_KIOCB)
		v = (__u64)BPF_CORE_READ((struct kiocb *)v, ki_filp);
	if (!v) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	if (type == GEN_ARG_PATH) {
		p = (const struct path *)v;
	} else if (type == GEN_ARG_DENTRY) {
		aux->dpath.mnt = NULL;
		aux->dpath.dentry = (struct dentry *)v;
		p = &aux->dpath;
	} else {
		p = &((struct file *)v)->f_path;
	}
	if (type != GEN_ARG_FD)
		hd->value = BPF_CORE_READ(p, dentry, d_inode, i_mode);
	return put_path(aux, hd, dst, max, p);
}

static __always_inline __u32 read_fd(struct gen_aux *aux, struct gen_state *st,
				     struct gen_arg_hdr *hd, __u8 *dst, __u32 max, __u64 fd,
				     bool followed_only)
{
	__u32 tgid = st->tgid;
	struct fd_key k = { .pid = tgid, .fd = (__u32)fd };
	struct fd_path *fp = bpf_map_lookup_elem(&fd_follow, &k);
	struct task_struct *task;
	struct file *f;
	__u32 n;

	if (fp) {
		/* FollowFD named it when it was opened */
		n = fp->len;
		if (n > max)
			n = max;
		if (n > FD_PATH_MAX)
			n = FD_PATH_MAX;
		hd->flags |= GEN_DF_FOLLOWED;
		hd->orig_len = fp->len;
		bpf_probe_read_kernel(dst, BOUND(n, FD_PATH_MAX * 2 - 1), fp->path);
		return n;
	}
	if (followed_only) {
		st->skip = 1;
		return 0;
	}
	task = (struct task_struct *)bpf_get_current_task();
	f = task_fd_file(task, (__u32)fd);
	if (!f) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	return read_file_arg(aux, hd, max, (__u64)f, GEN_ARG_FD);
}

/* struct sockaddr as bytes: family, then what the agent and the selectors decode. */
static __always_inline __u32 read_sockaddr(struct gen_arg_hdr *hd, __u8 *dst, __u64 ptr, bool user)
{
	__u16 family = 0;
	__u32 n;

	if (read_mem(&family, sizeof(family), ptr, user)) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	if (family == AF_INET)
		n = 16;
	else if (family == AF_INET6)
		n = 28;
	else if (family == AF_UNIX)
		n = 110;
	else
		n = 2;
	if (read_mem(dst, n, ptr, user)) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	return n;
}

static __noinline __u32 read_iovec(struct gen_arg_hdr *hd, __u32 max, __u64 iov, __u64 cnt)
{
	__u8 *dst = (__u8 *)(hd + 1);
	__u32 done = 0;
	__u64 total = 0;

	for (int i = 0; i < 8; i++) {
		struct {
			__u64 base;
			__u64 len;
		} v;
		__u32 n;

		if (i >= cnt)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * 16)))
			break;
		total += v.len;
		if (done >= max)
			continue;
		n = max - done;
		if (v.len < n)
			n = v.len;
		if (n > GEN_ARG_DATA_MAX || done > GEN_ARG_DATA_MAX)
			break;
		if (bpf_probe_read_user(&dst[BOUND(done, GEN_ARG_DATA_MAX - 1)],
					BOUND(n, GEN_ARG_DATA_MAX - 1), (void *)v.base))
			break;
		done += n;
	}
	hd->orig_len = total > 0xffffffffull ? 0xffffffff : total;
	if (total > done)
		hd->flags |= GEN_DF_TRUNCATED;
	return done;
}

/*
 * kernel_cap_t was a u32[2] and is a u64 since 6.3 (commit f122a08b197d): 8 bytes
 * either way, and on little-endian machines the same bits.
 */
#define CRED_CAPS(c, field)                                                \
	({                                                                 \
		__u64 _caps = 0;                                           \
		bpf_probe_read_kernel(&_caps, sizeof(_caps), &(c)->field); \
		_caps;                                                     \
	})

static __always_inline void read_userns(struct gen_userns_rec *u, const struct user_namespace *ns)
{
	u->level = BPF_CORE_READ(ns, level);
	u->owner = BPF_CORE_READ(ns, owner.val);
	u->group = BPF_CORE_READ(ns, group.val);
	u->inum = BPF_CORE_READ(ns, ns.inum);
}

/* cred: ids, securebits, capabilities and the user namespace; user_namespace alone. */
static __noinline __u32 read_cred(struct gen_arg_hdr *hd, __u32 max, __u64 v, __u8 type)
{
	struct gen_cred_rec *r = (struct gen_cred_rec *)(hd + 1);
	const struct cred *c = (const struct cred *)v;

	if (!v || max < sizeof(*r)) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	if (type == GEN_ARG_USER_NS) {
		read_userns((struct gen_userns_rec *)r, (const struct user_namespace *)v);
		return sizeof(struct gen_userns_rec);
	}
	r->cap_permitted = CRED_CAPS(c, cap_permitted);
	r->cap_effective = CRED_CAPS(c, cap_effective);
	r->cap_inheritable = CRED_CAPS(c, cap_inheritable);
	r->uid = BPF_CORE_READ(c, uid.val);
	r->gid = BPF_CORE_READ(c, gid.val);
	r->suid = BPF_CORE_READ(c, suid.val);
	r->sgid = BPF_CORE_READ(c, sgid.val);
	r->euid = BPF_CORE_READ(c, euid.val);
	r->egid = BPF_CORE_READ(c, egid.val);
	r->fsuid = BPF_CORE_READ(c, fsuid.val);
	r->fsgid = BPF_CORE_READ(c, fsgid.val);
	r->securebits = BPF_CORE_READ(c, securebits);
	r->pad = 0;
	read_userns(&r->user_ns, BPF_CORE_READ(c, user_ns));
	return sizeof(*r);
}

/* sock, and socket (its sock). */
static __noinline __u32 read_sock(struct gen_arg_hdr *hd, __u32 max, __u64 v, __u8 type)
{
	struct gen_sock_rec *r = (struct gen_sock_rec *)(hd + 1);
	struct sock *sk;

	if (type == GEN_ARG_SOCKET && v)
		v = (__u64)BPF_CORE_READ((struct socket *)v, sk);
	sk = (struct sock *)v;
	if (!sk || max < sizeof(*r)) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->cookie = v;
	r->t.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->t.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	r->t.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->t.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* bitfields before 5.6 (commit bf9765145b85): read them as such wherever they are */
	r->t.protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	r->type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
	r->mark = BPF_CORE_READ(sk, sk_mark);
	r->priority = BPF_CORE_READ(sk, sk_priority);
	if (r->t.family == AF_INET) {
		bpf_probe_read_kernel(r->t.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_probe_read_kernel(r->t.daddr, 4, &sk->__sk_common.skc_daddr);
	} else if (r->t.family == AF_INET6 &&
		   bpf_core_field_exists(sk->__sk_common.skc_v6_rcv_saddr)) {
		bpf_probe_read_kernel(r->t.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(r->t.daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	return sizeof(*r);
}

/* Kernels without CONFIG_XFRM (or skb extensions) lack these: local definitions for CO-RE. */
struct sec_path___gen {
	int len;
	int olen;
} __attribute__((preserve_access_index));

struct sk_buff___ext {
	__u8 active_extensions;
	struct skb_ext *extensions;
} __attribute__((preserve_access_index));

enum skb_ext_id___gen {
	SKB_EXT_SEC_PATH___gen = 1,
};

#define IPV6_EXT_HDRS 4

/*
 * skb: what the packet's IP header and ports say, read from its network header
 * (IPv6 extension headers skipped, up to IPV6_EXT_HDRS), with the skb's own fields.
 */
static __noinline __u32 read_skb(struct gen_arg_hdr *hd, __u32 max, __u64 v)
{
	struct gen_skb_rec *r = (struct gen_skb_rec *)(hd + 1);
	struct sk_buff *skb = (struct sk_buff *)v;
	unsigned char *head;
	__u16 nh;
	__u8 b[8] = {};
	__u64 l4 = 0;

	if (!skb || max < sizeof(*r)) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->hash = BPF_CORE_READ(skb, hash);
	r->len = BPF_CORE_READ(skb, len);
	r->priority = BPF_CORE_READ(skb, priority);
	r->mark = BPF_CORE_READ(skb, mark);
	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	if (head && nh != (__u16)~0U && !bpf_probe_read_kernel(b, 1, head + nh)) {
		if (b[0] >> 4 == 4) {
			r->t.family = AF_INET;
			bpf_probe_read_kernel(&r->t.protocol, 1, head + nh + 9);
			bpf_probe_read_kernel(r->t.saddr, 4, head + nh + 12);
			bpf_probe_read_kernel(r->t.daddr, 4, head + nh + 16);
			l4 = (__u64)head + nh + (b[0] & 0xf) * 4;
		} else if (b[0] >> 4 == 6) {
			__u8 next = 0;

			r->t.family = AF_INET6;
			bpf_probe_read_kernel(&next, 1, head + nh + 6);
			bpf_probe_read_kernel(r->t.saddr, 16, head + nh + 8);
			bpf_probe_read_kernel(r->t.daddr, 16, head + nh + 24);
			l4 = (__u64)head + nh + 40;
			for (int i = 0; i < IPV6_EXT_HDRS; i++) {
				/* hop-by-hop, routing, fragment, destination options */
				if (next != 0 && next != 43 && next != 44 && next != 60)
					break;
				if (bpf_probe_read_kernel(b, 2, (void *)l4))
					break;
				l4 += next == 44 ? 8 : (b[1] + 1) * 8;
				next = b[0];
			}
			r->t.protocol = next;
		}
	}
	if (l4 &&
	    (r->t.protocol == IPPROTO_TCP || r->t.protocol == IPPROTO_UDP ||
	     r->t.protocol == IPPROTO_SCTP || r->t.protocol == IPPROTO_UDPLITE) &&
	    !bpf_probe_read_kernel(b, 4, (void *)l4)) {
		r->t.sport = (__u16)b[0] << 8 | b[1];
		r->t.dport = (__u16)b[2] << 8 | b[3];
	}
	if (bpf_core_field_exists(((struct sk_buff___ext *)skb)->active_extensions) &&
	    bpf_core_enum_value_exists(enum skb_ext_id___gen, SKB_EXT_SEC_PATH___gen)) {
		struct sk_buff___ext *sx = (struct sk_buff___ext *)skb;
		__u32 id = bpf_core_enum_value(enum skb_ext_id___gen, SKB_EXT_SEC_PATH___gen);
		struct sec_path___gen *sp;
		struct skb_ext *ext;
		__u8 off = 0;

		if (BPF_CORE_READ(sx, active_extensions) & (1 << (id & 7))) {
			ext = BPF_CORE_READ(sx, extensions);
			bpf_probe_read_kernel(&off, 1, &ext->offset[id & 7]);
			/* SKB_EXT_ALIGN_SHIFT: offsets count 8-byte chunks */
			sp = (struct sec_path___gen *)((void *)ext + ((__u32)off << 3));
			r->sec_path_len = BPF_CORE_READ(sp, len);
			r->sec_path_olen = BPF_CORE_READ(sp, olen);
		}
	}
	return sizeof(*r);
}

/* Kernels without CONFIG_MODULE_SIG lack sig_ok; load_info is not in every kernel's BTF. */
struct module___sig {
	bool sig_ok;
} __attribute__((preserve_access_index));

struct load_info___gen {
	const char *name;
	struct module *mod;
	bool sig_ok;
} __attribute__((preserve_access_index));

/*
 * bpf_attr (of BPF_PROG_LOAD), bpf_prog, bpf_map, perf_event, module and
 * load_info: fixed records.
 */
static __noinline __u32 read_object(struct gen_arg_hdr *hd, __u32 max, __u64 v, __u8 type)
{
	void *dst = (void *)(hd + 1);

	if (!v || max < sizeof(struct gen_perf_event_rec)) {
		hd->flags |= GEN_DF_ERROR;
		return 0;
	}
	switch (type) {
	case GEN_ARG_BPF_ATTR: {
		struct gen_bpf_prog_rec *r = dst;
		const union bpf_attr *attr = (const union bpf_attr *)v;

		r->prog_type = BPF_CORE_READ(attr, prog_type);
		r->insn_cnt = BPF_CORE_READ(attr, insn_cnt);
		bpf_probe_read_kernel(r->name, GEN_BPF_NAME, &attr->prog_name);
		return sizeof(*r);
	}
	case GEN_ARG_BPF_PROG: {
		struct gen_bpf_prog_rec *r = dst;
		const struct bpf_prog *prog = (const struct bpf_prog *)v;
		struct bpf_prog_aux *aux = BPF_CORE_READ(prog, aux);

		r->prog_type = BPF_CORE_READ(prog, type);
		r->insn_cnt = BPF_CORE_READ(prog, len);
		__builtin_memset(r->name, 0, GEN_BPF_NAME);
		if (aux)
			bpf_probe_read_kernel(r->name, GEN_BPF_NAME, &aux->name);
		return sizeof(*r);
	}
	case GEN_ARG_BPF_MAP: {
		struct gen_bpf_map_rec *r = dst;
		const struct bpf_map *map = (const struct bpf_map *)v;

		r->map_type = BPF_CORE_READ(map, map_type);
		r->key_size = BPF_CORE_READ(map, key_size);
		r->value_size = BPF_CORE_READ(map, value_size);
		r->max_entries = BPF_CORE_READ(map, max_entries);
		bpf_probe_read_kernel(r->name, GEN_BPF_NAME, &map->name);
		return sizeof(*r);
	}
	case GEN_ARG_PERF_EVENT: {
		struct gen_perf_event_rec *r = dst;
		const struct perf_event *ev = (const struct perf_event *)v;
		__u64 func;

		r->type = BPF_CORE_READ(ev, attr.type);
		r->config = BPF_CORE_READ(ev, attr.config);
		r->probe_offset = BPF_CORE_READ(ev, attr.probe_offset);
		r->pad = 0;
		r->func[0] = '\0';
		/*
		 * Dynamic PMUs (kprobe, uprobe) take the function's name from the
		 * user pointer in config1; the caller's memory while it opens the event.
		 */
		func = BPF_CORE_READ(ev, attr.kprobe_func);
		if (r->type >= PERF_TYPE_MAX && func &&
		    bpf_probe_read_user_str(r->func, GEN_KSYM_NAME, (void *)func) < 0)
			bpf_probe_read_kernel_str(r->func, GEN_KSYM_NAME, (void *)func);
		return sizeof(*r);
	}
	case GEN_ARG_MODULE:
	case GEN_ARG_LOAD_INFO: {
		struct gen_module_rec *r = dst;
		struct module *mod = (struct module *)v;

		__builtin_memset(r, 0, sizeof(*r));
		r->sig_ok = GEN_SIG_UNKNOWN;
		if (type == GEN_ARG_LOAD_INFO) {
			struct load_info___gen *li = (struct load_info___gen *)v;

			if (!bpf_core_type_exists(struct load_info___gen)) {
				hd->flags |= GEN_DF_ERROR;
				return 0;
			}
			bpf_probe_read_kernel_str(r->name, GEN_MODULE_NAME,
						  BPF_CORE_READ(li, name));
			if (bpf_core_field_exists(li->sig_ok))
				r->sig_ok = BPF_CORE_READ(li, sig_ok) ? GEN_SIG_OK : GEN_SIG_NO;
			mod = BPF_CORE_READ(li, mod);
			if (mod)
				r->taints = BPF_CORE_READ(mod, taints);
			return sizeof(*r);
		}
		bpf_probe_read_kernel_str(r->name, GEN_MODULE_NAME, &mod->name);
		r->taints = BPF_CORE_READ(mod, taints);
		if (bpf_core_field_exists(((struct module___sig *)mod)->sig_ok))
			r->sig_ok = BPF_CORE_READ((struct module___sig *)mod, sig_ok) ? GEN_SIG_OK :
											GEN_SIG_NO;
		return sizeof(*r);
	}
	default:
		return 0;
	}
}

/*
 * resolve: follow the steps the compiler made of the member path (struct
 * gen_resolve). A read that fails on the way makes the argument an error.
 */
static __noinline __u64 resolve_value(const struct gen_resolve *res, struct gen_arg_hdr *hd,
				      __u64 v)
{
	__u64 x = 0;

	for (int i = 0; i < GEN_RESOLVE_MAX; i++) {
		if (i >= res->n)
			break;
		v += res->off[i];
		if (!(res->deref & (1 << i)))
			continue;
		if (bpf_probe_read_kernel(&x, sizeof(x), (void *)v))
			goto err;
		v = x;
	}
	x = 0;
	switch (res->load) {
	case 1:
		if (bpf_probe_read_kernel(&x, 1, (void *)v))
			goto err;
		return res->sign ? (__u64)(__s64)(__s8)x : x;
	case 2:
		if (bpf_probe_read_kernel(&x, 2, (void *)v))
			goto err;
		return res->sign ? (__u64)(__s64)(__s16)x : x;
	case 4:
		if (bpf_probe_read_kernel(&x, 4, (void *)v))
			goto err;
		return res->sign ? (__u64)(__s64)(__s32)x : x;
	default:
		return v;
	}
err:
	hd->flags |= GEN_DF_ERROR;
	return 0;
}

/*
 * Read argument slot of hook h into the event data. A global function: the
 * verifier checks it once, not once per caller and state. Readers with large
 * temporaries are subprograms of their own, so that their stack counts only on
 * their path.
 */
__noinline int gen_read_arg(struct gen_scratch *s, struct gen_state *st, struct gen_hook *h,
			    __u32 slot)
{
	struct gen_aux *aux;
	struct gen_arg *a;
	struct gen_arg_hdr *hd;
	__u32 off, n = 0, max;
	__u64 v;
	__u8 *dst;
	bool user;

	/*
	 * Keys of map lookups must be map values or stack on older kernels (6.1):
	 * the argument is plain memory to the verifier, the lookup is a map value.
	 */
	aux = heap(&gen_aux_heap);
	if (!s || !st || !aux || !h || slot >= GEN_MAX_ARGS)
		return -1;
	slot = BOUND(slot, GEN_ARG_SLOTS - 1);
	a = &h->args[slot];
	off = st->off;
	if (off > DATA_MAX - sizeof(*hd))
		return -1;
	st->arg_off[slot] = off;
	hd = arg_hdr(s, off);
	hd->flags = 0;
	hd->orig_len = 0;
	hd->slot = slot;
	v = st->raw[slot];
	if (a->res.n)
		v = resolve_value(&a->res, hd, v);
	hd->value = v;
	off += sizeof(*hd);
	dst = &s->data[off & DATA_MASK];
	max = room(off, a->max_len ? a->max_len : GEN_ARG_DATA_MAX);
	user = a->flags & GEN_AF_USER;
	if (hd->flags & GEN_DF_ERROR)
		goto out;

	switch (a->type) {
	case GEN_ARG_STRING: {
		long r;

		if (!max)
			break;
		r = read_str(dst, max, v, user);
		if (r < 0) {
			hd->flags |= GEN_DF_ERROR;
		} else if (r > 0) {
			n = r - 1;
			if ((__u32)r >= max)
				hd->flags |= GEN_DF_TRUNCATED;
		}
		hd->orig_len = n;
		break;
	}
	case GEN_ARG_DATA_LOC: {
		__u32 loc = (__u32)v, len = loc >> 16;

		hd->orig_len = len;
		if (len > max) {
			len = max;
			hd->flags |= GEN_DF_TRUNCATED;
		}
		if (len && bpf_probe_read_kernel(dst, BOUND(len, GEN_ARG_DATA_MAX - 1),
						 (void *)(st->ctx_addr + (loc & 0xffff))))
			hd->flags |= GEN_DF_ERROR;
		else
			n = len;
		/* tracepoint strings carry their NUL */
		if (n > 0 && dst[(n - 1) & (GEN_ARG_DATA_MAX - 1)] == '\0')
			n--;
		break;
	}
	case GEN_ARG_CHAR_BUF: {
		__u64 size;

		if (a->flags & GEN_AF_RETURN_COPY && !st->is_return)
			break; /* read when the function returns */
		if (a->flags & GEN_AF_SIZE_FROM_RET)
			size = st->raw[GEN_RET_ARG];
		else if (a->size_slot && a->size_slot <= GEN_MAX_ARGS)
			size = st->raw[(a->size_slot - 1) & 7];
		else
			size = max;
		if ((__s64)size < 0)
			size = 0;
		hd->orig_len = size > 0xffffffffull ? 0xffffffff : size;
		if (size > max) {
			size = max;
			hd->flags |= GEN_DF_TRUNCATED;
		}
		if (size && read_mem(dst, BOUND(size, GEN_ARG_DATA_MAX - 1), v, user))
			hd->flags |= GEN_DF_ERROR;
		else
			n = size;
		break;
	}
	case GEN_ARG_CHAR_IOVEC:
		n = read_iovec(hd, max, v, a->size_slot ? st->raw[(a->size_slot - 1) & 7] : 1);
		break;
	case GEN_ARG_FD:
		n = read_fd(aux, st, hd, dst, max, v, a->flags & GEN_AF_FOLLOWED_ONLY);
		break;
	case GEN_ARG_SOCKADDR:
		if (max >= 128)
			n = read_sockaddr(hd, dst, v, user);
		break;
	case GEN_ARG_FILE:
	case GEN_ARG_PATH:
	case GEN_ARG_DENTRY:
	case GEN_ARG_LINUX_BINPRM:
	case GEN_ARG_KIOCB:
		n = read_file_arg(aux, hd, max, v, a->type);
		break;
	case GEN_ARG_CAP:
		if (a->flags & GEN_AF_DEREF) {
			__u64 caps = 0;

			bpf_probe_read_kernel(&caps, sizeof(caps), (void *)v);
			hd->value = caps;
		}
		break;
	case GEN_ARG_CRED:
	case GEN_ARG_USER_NS:
		n = read_cred(hd, max, v, a->type);
		break;
	case GEN_ARG_SOCK:
	case GEN_ARG_SOCKET:
		n = read_sock(hd, max, v, a->type);
		break;
	case GEN_ARG_SKB:
		n = read_skb(hd, max, v);
		break;
	case GEN_ARG_NET_DEVICE: {
		long r = -1;

		if (v && max >= IFNAMSIZ)
			r = bpf_probe_read_kernel_str(dst, IFNAMSIZ,
						      &((struct net_device *)v)->name);
		if (r > 0)
			n = r - 1;
		else
			hd->flags |= GEN_DF_ERROR;
		hd->orig_len = n;
		break;
	}
	case GEN_ARG_BPF_ATTR:
	case GEN_ARG_BPF_PROG:
	case GEN_ARG_BPF_MAP:
	case GEN_ARG_PERF_EVENT:
	case GEN_ARG_MODULE:
	case GEN_ARG_LOAD_INFO:
		n = read_object(hd, max, v, a->type);
		break;
	default:
		/* integers and the rest: the value in the header is all */
		break;
	}
out:
	if (n > GEN_ARG_DATA_MAX)
		n = GEN_ARG_DATA_MAX;
	hd->len = n;
	st->off = off + ((n + 7) & ~7u);
	return 0;
}

static long read_one(__u32 i, void *data)
{
	struct read_ctx *rc = data;
	__u32 slot = rc->first + i;

	if (slot > rc->last)
		return 1;
	if (gen_read_arg(rc->s, rc->st, rc->h, slot) < 0)
		return 1;
	return 0;
}

/* Sign-extend a tracepoint field of size bytes. */
static __always_inline __u64 extend(__u64 v, __u8 size, bool sign)
{
	switch (size) {
	case 1:
		return sign ? (__u64)(__s64)(__s8)v : (__u8)v;
	case 2:
		return sign ? (__u64)(__s64)(__s16)v : (__u16)v;
	case 4:
		return sign ? (__u64)(__s64)(__s32)v : (__u32)v;
	default:
		return v;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Selectors */

struct sel_ctx {
	struct gen_scratch *s;
	struct gen_state *st;
	struct gen_hook *h;
	struct gen_aux *aux;
	struct proc_info *pi; /* looked up when a selector first needs it */
	__u8 pi_done;
	__u8 matched; /* the selector that matched, 0xff none */
	__u8 at_return; /* evaluating the exit side of a hook */
};

static __always_inline bool num_match(struct gen_arg_filter *f, __u64 x)
{
	__s64 sx = (__s64)x;
	bool any = false;

	switch (f->op) {
	case GEN_OP_EQ:
	case GEN_OP_NEQ:
#pragma unroll
		for (int i = 0; i < GEN_MAX_VALUES; i++)
			if (i < f->n && f->v[i] == sx)
				any = true;
		return f->op == GEN_OP_EQ ? any : !any;
	case GEN_OP_GT:
		return f->is_signed ? sx > f->v[0] : x > (__u64)f->v[0];
	case GEN_OP_LT:
		return f->is_signed ? sx < f->v[0] : x < (__u64)f->v[0];
	case GEN_OP_MASK:
#pragma unroll
		for (int i = 0; i < GEN_MAX_VALUES; i++)
			if (i < f->n && (x & (__u64)f->v[i]))
				any = true;
		return any;
	case GEN_OP_IN_RANGE:
	case GEN_OP_NOT_IN_RANGE:
#pragma unroll
		for (int i = 0; i < GEN_MAX_VALUES / 2; i++) {
			if (i >= f->n)
				break;
			if (f->is_signed ? (sx >= f->v[2 * i] && sx <= f->v[2 * i + 1]) :
					   (x >= (__u64)f->v[2 * i] && x <= (__u64)f->v[2 * i + 1]))
				any = true;
		}
		return f->op == GEN_OP_IN_RANGE ? any : !any;
	case GEN_OP_IN_MAP:
	case GEN_OP_NOT_IN_MAP: {
		struct num_key k = { .map_id = f->map_id, .value = x };

		any = bpf_map_lookup_elem(&num_set, &k) != NULL;
		return f->op == GEN_OP_IN_MAP ? any : !any;
	}
	case GEN_OP_FILE_TYPE:
	case GEN_OP_NOT_FILE_TYPE:
		/* x is the inode's mode (see gen_arg_hdr) */
#pragma unroll
		for (int i = 0; i < GEN_MAX_VALUES; i++)
			if (i < f->n && (x & S_IFMT_BITS) == (__u64)f->v[i])
				any = true;
		return f->op == GEN_OP_FILE_TYPE ? any : !any;
	default:
		return false;
	}
}

/* Is data[0..len) one of the strings of map_id? */
static __always_inline bool str_in(struct gen_aux *aux, __u32 map_id, const __u8 *data, __u32 len)
{
	struct str_key_large *k = &aux->key;

	if (len < STR_BUCKET_SMALL) {
		struct str_key_small *ks = (struct str_key_small *)k;

		__builtin_memset(ks, 0, sizeof(*ks));
		ks->map_id = map_id;
		ks->len = len;
		bpf_probe_read_kernel(ks->s, BOUND(len, STR_BUCKET_SMALL - 1), data);
		return bpf_map_lookup_elem(&str_small, ks) != NULL;
	}
	if (len < STR_BUCKET_MEDIUM) {
		struct str_key_medium *km = (struct str_key_medium *)k;

		__builtin_memset(km, 0, sizeof(*km));
		km->map_id = map_id;
		km->len = len;
		bpf_probe_read_kernel(km->s, BOUND(len, STR_BUCKET_MEDIUM - 1), data);
		return bpf_map_lookup_elem(&str_medium, km) != NULL;
	}
	if (len < STR_BUCKET_LARGE) {
		/* zeroing 4 KiB is too long for the verifier: copy the zeroes */
		k->map_id = map_id;
		k->len = len;
		bpf_probe_read_kernel(k->s, STR_BUCKET_LARGE, aux->zero);
		bpf_probe_read_kernel(k->s, BOUND(len, STR_BUCKET_LARGE - 1), data);
		return bpf_map_lookup_elem(&str_large, k) != NULL;
	}
	return false;
}

/* Does a prefix (or, reversed, a postfix) of map_id match? */
static __always_inline bool lpm_match(struct gen_aux *aux, __u32 map_id, const __u8 *data,
				      __u32 len, bool reverse)
{
	struct lpm_key *k = &aux->lpm;
	void *inner = bpf_map_lookup_elem(&str_lpm, &map_id);

	if (!inner)
		return false;
	if (len > GEN_ARG_DATA_MAX)
		return false;
	if (!reverse) {
		if (len > STR_PREFIX_MAX)
			len = STR_PREFIX_MAX;
		bpf_probe_read_kernel(k->s, BOUND(len, STR_PREFIX_MAX * 2 - 1), data);
	} else {
		__u32 n = len > STR_POSTFIX_MAX ? STR_POSTFIX_MAX : len;

		/* the last n bytes, reversed: a postfix is a prefix of the reversed string */
		bpf_probe_read_kernel(aux->tail, BOUND(n, STR_POSTFIX_MAX * 2 - 1),
				      data + BOUND(len - n, GEN_ARG_DATA_MAX - 1));
		for (int i = 0; i < STR_POSTFIX_MAX; i++) {
			if (i >= n)
				break;
			k->s[i] = aux->tail[(n - 1 - i) & (STR_POSTFIX_MAX - 1)];
		}
		len = n;
	}
	k->prefixlen = len * 8;
	return bpf_map_lookup_elem(inner, k) != NULL;
}

static __always_inline bool str_match(struct gen_aux *aux, struct gen_arg_filter *f,
				      const __u8 *data, __u32 len)
{
	switch (f->op) {
	case GEN_OP_EQ:
		return str_in(aux, f->map_id, data, len);
	case GEN_OP_NEQ:
		return !str_in(aux, f->map_id, data, len);
	case GEN_OP_PREFIX:
		return lpm_match(aux, f->map_id, data, len, false);
	case GEN_OP_NOT_PREFIX:
		return !lpm_match(aux, f->map_id, data, len, false);
	case GEN_OP_POSTFIX:
		return lpm_match(aux, f->map_id, data, len, true);
	case GEN_OP_NOT_POSTFIX:
		return !lpm_match(aux, f->map_id, data, len, true);
	default:
		return false;
	}
}

static __always_inline bool port_match(struct gen_arg_filter *f, __u16 port)
{
	bool any = false, priv = port < 1024;

	switch (f->op) {
	case GEN_OP_SPORT_PRIV:
	case GEN_OP_DPORT_PRIV:
		return priv;
	case GEN_OP_NOT_SPORT_PRIV:
	case GEN_OP_NOT_DPORT_PRIV:
		return !priv;
	}
#pragma unroll
	for (int i = 0; i < GEN_MAX_VALUES / 2; i++)
		if (i < f->n && port >= f->v[2 * i] && port <= f->v[2 * i + 1])
			any = true;
	return f->op == GEN_OP_SPORT || f->op == GEN_OP_DPORT ? any : !any;
}

/* Is the address (network order) of family in the filter's set? */
static __always_inline bool addr_match(struct gen_aux *aux, struct gen_arg_filter *f, __u16 family,
				       const __u8 *a)
{
	struct addr6_key *k = &aux->a6;
	bool any = false;
	__u32 a4;

	if (family == AF_INET) {
		a4 = bpf_ntohl(*(__u32 *)a);
#pragma unroll
		for (int i = 0; i < GEN_MAX_VALUES / 2; i++)
			if (i < f->n && (a4 & (__u32)f->v[2 * i + 1]) == (__u32)f->v[2 * i])
				any = true;
	} else if (family == AF_INET6) {
		k->prefixlen = 32 + 128;
		k->map_id = f->map_id;
		__builtin_memcpy(k->addr, a, 16);
		any = bpf_map_lookup_elem(&addr6, k) != NULL;
	}
	return f->op == GEN_OP_SADDR || f->op == GEN_OP_DADDR ? any : !any;
}

static __always_inline bool sockaddr_match(struct gen_aux *aux, struct gen_arg_filter *f,
					   const __u8 *d, __u32 len)
{
	__u16 family, port;
	bool any = false;

	if (len < 2)
		return false;
	family = *(__u16 *)d;
	switch (f->op) {
	case GEN_OP_FAMILY:
#pragma unroll
		for (int i = 0; i < GEN_MAX_VALUES; i++)
			if (i < f->n && f->v[i] == family)
				any = true;
		return any;
	case GEN_OP_SPORT:
	case GEN_OP_NOT_SPORT:
	case GEN_OP_SPORT_PRIV:
	case GEN_OP_NOT_SPORT_PRIV:
	case GEN_OP_DPORT:
	case GEN_OP_NOT_DPORT:
	case GEN_OP_DPORT_PRIV:
	case GEN_OP_NOT_DPORT_PRIV:
		if ((family != AF_INET && family != AF_INET6) || len < 4)
			return f->op == GEN_OP_NOT_SPORT || f->op == GEN_OP_NOT_DPORT;
		port = bpf_ntohs(*(__u16 *)(d + 2));
		return port_match(f, port);
	case GEN_OP_SADDR:
	case GEN_OP_NOT_SADDR:
	case GEN_OP_DADDR:
	case GEN_OP_NOT_DADDR:
		if (family == AF_INET && len >= 8)
			return addr_match(aux, f, family, d + 4);
		if (family == AF_INET6 && len >= 24)
			return addr_match(aux, f, family, d + 8);
		return f->op == GEN_OP_NOT_SADDR || f->op == GEN_OP_NOT_DADDR;
	default:
		return false;
	}
}

/* Is x in one of the filter's n ranges? */
static __always_inline bool in_ranges(struct gen_arg_filter *f, __u64 x)
{
	bool any = false;

#pragma unroll
	for (int i = 0; i < GEN_MAX_VALUES / 2; i++)
		if (i < f->n && x >= (__u64)f->v[2 * i] && x <= (__u64)f->v[2 * i + 1])
			any = true;
	return any;
}

/* The network operators on sock, socket and skb: their gen_net_tuple. */
static __always_inline bool net_match(struct gen_aux *aux, struct gen_arg_filter *f,
				      const struct gen_net_tuple *t, __u32 len)
{
	if (len < sizeof(*t))
		return false;
	switch (f->op) {
	case GEN_OP_FAMILY:
		return in_ranges(f, t->family);
	case GEN_OP_PROTOCOL:
		return in_ranges(f, t->protocol);
	case GEN_OP_STATE:
		return in_ranges(f, t->state);
	case GEN_OP_SPORT:
	case GEN_OP_NOT_SPORT:
	case GEN_OP_SPORT_PRIV:
	case GEN_OP_NOT_SPORT_PRIV:
		return port_match(f, t->sport);
	case GEN_OP_DPORT:
	case GEN_OP_NOT_DPORT:
	case GEN_OP_DPORT_PRIV:
	case GEN_OP_NOT_DPORT_PRIV:
		return port_match(f, t->dport);
	case GEN_OP_SADDR:
	case GEN_OP_NOT_SADDR:
		return addr_match(aux, f, t->family, t->saddr);
	case GEN_OP_DADDR:
	case GEN_OP_NOT_DADDR:
		return addr_match(aux, f, t->family, t->daddr);
	default:
		return false;
	}
}

/* Does the argument filter f match? A global function, checked once. */
__noinline int gen_filter_match(struct gen_scratch *s, struct gen_state *st, struct gen_hook *h,
				struct gen_arg_filter *f)
{
	struct gen_aux *aux;
	struct gen_arg_hdr *hd;
	struct gen_arg *a;
	__u32 slot, off;
	const __u8 *data;

	/*
	 * Keys of map lookups must be map values or stack on older kernels (6.1):
	 * the argument is plain memory to the verifier, the lookup is a map value.
	 */
	aux = heap(&gen_aux_heap);
	if (!s || !st || !aux || !h || !f)
		return 0;
	slot = f->slot;
	if (slot >= GEN_MAX_ARGS)
		return 0;
	a = &h->args[slot];
	off = st->arg_off[slot];
	if (off > DATA_MAX - sizeof(*hd))
		return 0;
	hd = arg_hdr(s, off);
	data = &s->data[(off + sizeof(*hd)) & DATA_MASK];
	switch (f->kind) {
	case GEN_VK_NUM:
	case GEN_VK_RANGE:
	case GEN_VK_NUM_MAP:
		return num_match(f, hd->value);
	case GEN_VK_STR_MAP:
		if (hd->flags & GEN_DF_ERROR)
			return 0;
		return str_match(aux, f, data, hd->len);
	case GEN_VK_ADDR:
		if (hd->flags & GEN_DF_ERROR)
			return 0;
		if (a->type == GEN_ARG_SOCKADDR)
			return sockaddr_match(aux, f, data, hd->len);
		if (a->type == GEN_ARG_SOCK || a->type == GEN_ARG_SOCKET || a->type == GEN_ARG_SKB)
			return net_match(aux, f, (const struct gen_net_tuple *)data, hd->len);
		return 0;
	default:
		return 0;
	}
}

static __always_inline bool pid_match(struct gen_selector *sel, struct proc_info *pi, __u32 tgid,
				      __u32 nspid)
{
	bool any = false;
	__u32 pid;

	if (sel->pid_flags & GEN_PF_FOLLOW_FORKS && pi)
		pid = sel->pid_flags & GEN_PF_NAMESPACE_PID ? pi->exec_nspid : pi->exec_pid;
	else
		pid = sel->pid_flags & GEN_PF_NAMESPACE_PID ? nspid : tgid;
#pragma unroll
	for (int i = 0; i < GEN_MAX_PIDS; i++)
		if (i < sel->n_pids && sel->pids[i] == pid)
			any = true;
	return sel->pid_op == GEN_OP_IN ? any : !any;
}

static __always_inline bool bin_match(struct gen_aux *aux, __u8 op, __u32 map_id,
				      struct proc_info *pi)
{
	bool r;

	if (!pi)
		return op == GEN_OP_NOT_IN || op == GEN_OP_NOT_PREFIX || op == GEN_OP_NOT_POSTFIX;
	switch (op) {
	case GEN_OP_IN:
	case GEN_OP_NOT_IN:
		r = str_in(aux, map_id, (const __u8 *)pi->bin, pi->bin_len & (PROC_BIN_MAX - 1));
		return op == GEN_OP_IN ? r : !r;
	case GEN_OP_PREFIX:
	case GEN_OP_NOT_PREFIX:
		r = lpm_match(aux, map_id, (const __u8 *)pi->bin, pi->bin_len & (PROC_BIN_MAX - 1),
			      false);
		return op == GEN_OP_PREFIX ? r : !r;
	case GEN_OP_POSTFIX:
	case GEN_OP_NOT_POSTFIX:
		r = lpm_match(aux, map_id, (const __u8 *)pi->bin, pi->bin_len & (PROC_BIN_MAX - 1),
			      true);
		return op == GEN_OP_POSTFIX ? r : !r;
	default:
		return false;
	}
}

/* The current task's namespace inode of kind which (NS_*). */
__noinline int gen_task_ns(__u32 which)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);

	switch (which) {
	case NS_UTS:
		return BPF_CORE_READ(nsp, uts_ns, ns.inum);
	case NS_IPC:
		return BPF_CORE_READ(nsp, ipc_ns, ns.inum);
	case NS_MNT:
		return BPF_CORE_READ(nsp, mnt_ns, ns.inum);
	case NS_PID: {
		struct pid *tp = BPF_CORE_READ(task, thread_pid);
		unsigned int level = BPF_CORE_READ(tp, level);
		struct upid up = {};

		bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]);
		return BPF_CORE_READ(up.ns, ns.inum);
	}
	case NS_PID_FOR_CHILDREN:
		return BPF_CORE_READ(nsp, pid_ns_for_children, ns.inum);
	case NS_NET:
		return BPF_CORE_READ(nsp, net_ns, ns.inum);
	case NS_TIME:
		if (bpf_core_field_exists(nsp->time_ns))
			return BPF_CORE_READ(nsp, time_ns, ns.inum);
		return 0;
	case NS_TIME_FOR_CHILDREN:
		if (bpf_core_field_exists(nsp->time_ns_for_children))
			return BPF_CORE_READ(nsp, time_ns_for_children, ns.inum);
		return 0;
	case NS_CGROUP:
		return BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
	case NS_USER:
		return BPF_CORE_READ(task, cred, user_ns, ns.inum);
	default:
		return 0;
	}
}

static __always_inline __u64 task_caps(struct task_struct *task, __u8 type)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	__u64 caps = 0;

	if (type == 1)
		bpf_probe_read_kernel(&caps, 8, &cred->cap_inheritable);
	else if (type == 2)
		bpf_probe_read_kernel(&caps, 8, &cred->cap_permitted);
	else
		bpf_probe_read_kernel(&caps, 8, &cred->cap_effective);
	return caps;
}

static __always_inline bool in_init_user_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, cred, user_ns, level) == 0;
}

/*
 * The process filters of a selector: matchPIDs, matchBinaries,
 * matchParentBinaries, matchNamespaces, matchNamespaceChanges,
 * matchCapabilities, matchCapabilityChanges. A global function, checked once.
 */
__noinline int gen_process_match(struct gen_selector *sel, struct proc_info *pi, __u32 tgid)
{
	struct gen_aux *aux;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	/*
	 * Keys of map lookups must be map values or stack on older kernels (6.1):
	 * the argument is plain memory to the verifier, the lookup is a map value.
	 */
	aux = heap(&gen_aux_heap);
	if (!sel || !aux)
		return 0;
	if (sel->flags & GEN_SF_PIDS && !pid_match(sel, pi, tgid, task_nspid(task)))
		return 0;
	if (sel->flags & GEN_SF_BINARIES) {
		bool in = bin_match(aux, sel->bin_op, sel->bin_map_id, pi);

		if (sel->bin_flags & GEN_BF_FOLLOW_CHILDREN && pi && !in &&
		    sel->bin_op == GEN_OP_IN)
			in = pi->bin_sets & sel->bin_set_bit;
		if (!in)
			return 0;
	}
	if (sel->flags & GEN_SF_PARENT_BINARIES) {
		struct proc_info *ppi = NULL;
		__u32 ppid;

		if (pi) {
			ppid = pi->ppid; /* a key on the stack: 6.1 takes no plain memory */
			ppi = bpf_map_lookup_elem(&proc_info, &ppid);
		}
		if (!bin_match(aux, sel->pbin_op, sel->pbin_map_id, ppi))
			return 0;
	}
	for (int k = 0; k < GEN_MAX_NS_FILTERS; k++) {
		struct gen_ns_filter *f = &sel->ns[k];
		__u32 inum;
		bool any = false;

		if (!(sel->flags & GEN_SF_NAMESPACES) || k >= sel->n_ns)
			break;
		inum = (__u32)gen_task_ns(f->ns);
		for (int v = 0; v < 4; v++)
			if (v < f->n && f->inum[v] == inum)
				any = true;
		if ((f->op == GEN_OP_IN) != any)
			return 0;
	}
	if (sel->flags & GEN_SF_NS_CHANGES) {
		__u16 changed = 0;
		bool any;

		if (!pi)
			return 0;
		for (int k = 0; k < NS_COUNT; k++)
			if (sel->ns_change_mask & (1 << k) && (__u32)gen_task_ns(k) != pi->ns[k])
				changed |= 1 << k;
		any = changed != 0;
		if ((sel->ns_change_op == GEN_OP_IN) != any)
			return 0;
	}
	if (sel->flags & GEN_SF_CAPS) {
		bool any;

		if (sel->caps.ns_cap && in_init_user_ns(task))
			return 0;
		any = task_caps(task, sel->caps.type) & sel->caps.mask;
		if ((sel->caps.op == GEN_OP_IN) != any)
			return 0;
	}
	if (sel->flags & GEN_SF_CAP_CHANGES) {
		__u64 then, now;
		bool any;

		if (!pi)
			return 0;
		then = sel->cap_changes.type == 1 ? pi->cap_inheritable :
		       sel->cap_changes.type == 2 ? pi->cap_permitted :
						    pi->cap_effective;
		now = task_caps(task, sel->cap_changes.type);
		any = (then ^ now) & sel->cap_changes.mask;
		if ((sel->cap_changes.op == GEN_OP_IN) != any)
			return 0;
	}
	return 1;
}

/* Evaluate selector j; one bpf_loop step. Stops at the first that matches. */
static __noinline long sel_step(__u32 j, void *data)
{
	struct sel_ctx *c = data;
	struct gen_hook *h = c->h;
	struct gen_selector *sel;
	bool at_return = c->at_return;
	__u32 key;

	if (j >= h->n_selectors || j >= GEN_MAX_SELECTORS)
		return 1;
	key = GEN_SEL_KEY(c->st->hook_id, j);
	sel = bpf_map_lookup_elem(&selectors, &key);
	if (!sel)
		return 1;
	if (at_return) {
		/* at the exit side only the selector chosen at entry is looked at */
		if (j != c->st->sel)
			return 0;
	} else {
		if (sel->flags) {
			/* only process filters need the process: argument filters go first */
			if (!c->pi_done) {
				c->pi = bpf_map_lookup_elem(&proc_info, &c->st->tgid);
				c->pi_done = 1;
			}
			if (!gen_process_match(sel, c->pi, c->st->tgid))
				return 0;
		}
		for (int k = 0; k < GEN_MAX_ARG_FILTERS; k++) {
			if (k >= sel->n_args)
				break;
			if (!gen_filter_match(c->s, c->st, h, &sel->args[k]))
				return 0;
		}
		if (h->flags & GEN_HF_RETURN) {
			/* a selector with return filters decides at the exit */
			c->st->sel = j;
			c->matched = j;
			return 1;
		}
	}
	for (int k = 0; k < GEN_MAX_RET_FILTERS; k++) {
		if (!at_return || k >= sel->n_rets)
			break;
		if (!gen_filter_match(c->s, c->st, h, &sel->rets[k]))
			return 0;
	}
	c->matched = j;
	c->st->sel = j;
	return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Actions */

static __always_inline __u64 hash_args(struct gen_scratch *s, __u32 len)
{
	__u64 h = 0xcbf29ce484222325ull;

	/* the first 40 bytes of the arguments, as Tetragon compares them */
	if (len > 40)
		len = 40;
	for (int i = 0; i < 40; i++) {
		if (i >= len)
			break;
		h ^= s->data[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static __always_inline bool rate_limited(struct gen_scratch *s, struct gen_state *st,
					 struct gen_action *a)
{
	struct rl_key k = {};
	__u64 now = bpf_ktime_get_ns(), *last;

	if (!a->rate_limit_ns)
		return false;
	k.hook_id = st->hook_id;
	k.hash = hash_args(s, st->off);
	if (a->scope == GEN_RL_THREAD)
		k.id = (__u32)bpf_get_current_pid_tgid();
	else if (a->scope == GEN_RL_PROCESS)
		k.id = st->tgid;
	last = bpf_map_lookup_elem(&ratelimit, &k);
	if (last && now - *last < a->rate_limit_ns)
		return true;
	bpf_map_update_elem(&ratelimit, &k, &now, BPF_ANY);
	return false;
}

static __always_inline void do_signal(struct gen_scratch *s, struct gen_state *st, __u32 sig,
				      __u32 did)
{
	__u32 pid = s->ev.policy_id;

	if (st->mode == GEN_MODE_MONITOR) {
		s->ev.actions |= did | GEN_DID_MONITOR;
		stat_add(pid, GEN_CNT_MONITOR_SIGNAL);
		return;
	}
	bpf_send_signal(sig);
	s->ev.actions |= did;
	stat_add(pid, GEN_CNT_SIGNAL);
}

static __always_inline void follow_fd(struct gen_scratch *s, struct gen_state *st,
				      struct gen_aux *aux, struct gen_action *a)
{
	struct fd_key k = { .pid = st->tgid };
	struct fd_path *fp = &aux->fdp;
	struct gen_arg_hdr *hd;
	__u32 off, slot = a->arg2, n;

	if ((__u32)a->arg >= GEN_MAX_ARGS || slot >= GEN_MAX_ARGS)
		return;
	k.fd = (__u32)st->raw[a->arg & (GEN_ARG_SLOTS - 1)];
	if (a->type == GEN_ACT_UNFOLLOW_FD) {
		bpf_map_delete_elem(&fd_follow, &k);
		return;
	}
	if (a->type == GEN_ACT_COPY_FD) {
		/* the name argument holds the new fd; the old one's path is copied */
		struct fd_key nk = { .pid = st->tgid, .fd = (__u32)st->raw[slot & 7] };
		struct fd_path *old = bpf_map_lookup_elem(&fd_follow, &k);

		if (old)
			bpf_map_update_elem(&fd_follow, &nk, old, BPF_ANY);
		return;
	}
	off = st->arg_off[slot & 7];
	if (off > DATA_MAX - sizeof(*hd))
		return;
	hd = arg_hdr(s, off);
	n = hd->len;
	if (n > FD_PATH_MAX - 1)
		n = FD_PATH_MAX - 1;
	fp->len = n;
	__builtin_memset(fp->path, 0, sizeof(fp->path));
	bpf_probe_read_kernel(fp->path, BOUND(n, FD_PATH_MAX - 1),
			      &s->data[(off + sizeof(*hd)) & DATA_MASK]);
	if (bpf_map_update_elem(&fd_follow, &k, fp, BPF_ANY))
		count_error(&gen_errors, ERR_MAP_FULL);
}

/* Subprograms (__noinline) keep each frame small: the kernels of 6.1 and 6.12 allow 512
 * bytes of stack for the deepest chain of calls, bpf_loop callbacks included. */
static __noinline void run_actions(struct gen_scratch *s, struct gen_state *st, struct gen_aux *aux,
				   struct gen_action *acts, __u8 n)
{
	bool post = true;

	for (int i = 0; i < GEN_MAX_ACTIONS; i++) {
		struct gen_action *a = &acts[i];

		if (i >= n)
			break;
		switch (a->type) {
		case GEN_ACT_POST:
			if (rate_limited(s, st, a)) {
				stat_add(s->ev.policy_id, GEN_CNT_RATE_LIMITED);
				post = false;
			}
			if (a->flags & GEN_ACTF_KSTACK)
				s->ev.flags |= GEN_EF_KSTACK;
			if (a->flags & GEN_ACTF_USTACK)
				s->ev.flags |= GEN_EF_USTACK;
			break;
		case GEN_ACT_NO_POST:
			post = false;
			stat_add(s->ev.policy_id, GEN_CNT_NOPOST);
			break;
		case GEN_ACT_SIGKILL:
			do_signal(s, st, 9, GEN_DID_SIGKILL);
			break;
		case GEN_ACT_SIGNAL:
			do_signal(s, st, (__u32)a->arg, GEN_DID_SIGNAL);
			break;
		case GEN_ACT_OVERRIDE:
			if (st->mode == GEN_MODE_MONITOR) {
				s->ev.actions |= GEN_DID_OVERRIDE | GEN_DID_MONITOR;
				stat_add(s->ev.policy_id, GEN_CNT_MONITOR_OVERRIDE);
				break;
			}
			/* the program performs it: bpf_override_return, or its return value */
			st->override = 1;
			st->override_val = a->arg;
			s->ev.actions |= GEN_DID_OVERRIDE;
			stat_add(s->ev.policy_id, GEN_CNT_OVERRIDE);
			break;
		case GEN_ACT_FOLLOW_FD:
		case GEN_ACT_UNFOLLOW_FD:
		case GEN_ACT_COPY_FD:
			follow_fd(s, st, aux, a);
			s->ev.actions |= a->type == GEN_ACT_FOLLOW_FD	? GEN_DID_FOLLOW_FD :
					 a->type == GEN_ACT_UNFOLLOW_FD ? GEN_DID_UNFOLLOW_FD :
									  GEN_DID_COPY_FD;
			break;
		case GEN_ACT_GET_URL:
			s->ev.actions |= GEN_DID_GET_URL;
			break;
		case GEN_ACT_DNS_LOOKUP:
			s->ev.actions |= GEN_DID_DNS_LOOKUP;
			break;
		}
	}
	/* user space performs GetUrl and DnsLookup: they need the record */
	if (s->ev.actions & (GEN_DID_GET_URL | GEN_DID_DNS_LOOKUP))
		post = true;
	st->post = post;
}

/* Append the stack traces the Post action asked for, and write the record. */
static __noinline void emit(void *ctx, struct gen_scratch *s, struct gen_state *st)
{
	__u32 off = st->off, size;
	long n;

	if (!st->post)
		return;
	if (s->ev.flags & GEN_EF_KSTACK && off <= DATA_MAX) {
		n = bpf_get_stack(ctx, &s->data[off & DATA_MASK], GEN_STACK_DEPTH * 8, 0);
		s->ev.kstack_len = n > 0 ? n : 0;
		off += s->ev.kstack_len & 0x1ff;
	}
	if (s->ev.flags & GEN_EF_USTACK && off <= DATA_MAX) {
		n = bpf_get_stack(ctx, &s->data[off & DATA_MASK], GEN_STACK_DEPTH * 8,
				  BPF_F_USER_STACK);
		s->ev.ustack_len = n > 0 ? n : 0;
		off += s->ev.ustack_len & 0x1ff;
	}
	s->ev.data_len = off;
	size = sizeof(struct gen_event) + off;
	s->ev.hdr.size = size;
	if (size > sizeof(*s))
		return;
	stat_add(s->ev.policy_id, GEN_CNT_POST);
	if (bpf_ringbuf_output(&events, s, size, rb_wakeup_flags(&events)))
		count_error(&gen_errors, ERR_RINGBUF_FULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Entry and exit */

static __always_inline struct gen_hook *hook_of(void *ctx, __u32 *id)
{
	*id = fixed_hook_id ? fixed_hook_id : (__u32)bpf_get_attach_cookie(ctx);
	return bpf_map_lookup_elem(&hooks, id);
}

static __always_inline bool policy_on(struct gen_hook *h, __u8 *mode)
{
	struct gen_policy_conf *pc = bpf_map_lookup_elem(&policy_conf, &h->policy_id);

	if (!pc || !pc->enabled)
		return false;
	*mode = pc->mode;
	return true;
}

/*
 * The common part once the raw argument values are in st->raw: read the typed
 * arguments, evaluate the selectors, act, and write the record (or keep the
 * state until the return for hooks that wait for it).
 */
/* Keep the entry's state until the exit side of the hook runs. */
static __noinline void save_return(struct gen_scratch *s, struct gen_state *st, __u32 hook_id,
				   __u64 pid_tgid)
{
	struct ret_key k = { .pid_tgid = pid_tgid, .hook_id = hook_id };
	struct ret_saved *rs = heap(&ret_heap);
	__u32 n = st->off;

	if (!rs)
		return;
	__builtin_memcpy(&rs->st, st, sizeof(*st));
	__builtin_memcpy(&rs->ev, &s->ev, sizeof(s->ev));
	if (n > SAVE_DATA_MAX)
		n = SAVE_DATA_MAX;
	bpf_probe_read_kernel(rs->data, BOUND(n, SAVE_DATA_MAX * 2 - 1), s->data);
	rs->st.off = n;
	if (bpf_map_update_elem(&retstate, &k, rs, BPF_ANY))
		count_error(&gen_errors, ERR_MAP_FULL);
}

static __noinline int generic_entry(void *ctx, struct gen_hook *h, __u32 hook_id, __u32 mode,
				    __u64 ctx_addr)
{
	struct gen_scratch *s = heap(&gen_heap);
	struct gen_state *st = heap(&gen_state_heap);
	struct gen_aux *aux = heap(&gen_aux_heap);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct {
		struct sel_ctx sc;
	} u;
	if (!s || !st || !aux || !h)
		return 0;
	st->tgid = pid_tgid >> 32;
	st->hook_id = hook_id;
	st->mode = mode;
	st->sel = 0xff;
	st->off = 0;
	st->is_return = 0;
	st->override = 0;
	st->override_val = 0;
	st->skip = 0;
	s->ev.hdr.type = EVENT_GENERIC;
	s->ev.hdr.flags = 0;
	s->ev.hook_id = hook_id;
	s->ev.policy_id = h->policy_id;
	s->ev.pid = st->tgid;
	s->ev.tid = (__u32)pid_tgid;
	s->ev.actions = 0;
	s->ev.flags = 0;
	s->ev.ret = 0;
	s->ev.kstack_len = 0;
	s->ev.ustack_len = 0;
	s->ev.n_args = h->n_args;

	st->ctx_addr = ctx_addr;
	/* gen_read_arg is a global function: verified once, however often it is called */
	for (__u32 i = 0; i < GEN_MAX_ARGS - 1; i++) {
		if (i >= h->n_args || gen_read_arg(s, st, h, i) < 0)
			break;
	}
	if (st->skip)
		return 0;

	u.sc.s = s;
	u.sc.st = st;
	u.sc.h = h;
	u.sc.aux = aux;
	u.sc.pi = NULL;
	u.sc.pi_done = 0;
	u.sc.matched = 0xff;
	u.sc.at_return = 0;
	if (h->n_selectors) {
		for (__u32 j = 0; j < GEN_MAX_SELECTORS; j++)
			if (sel_step(j, &u.sc))
				break;
		if (u.sc.matched >= GEN_MAX_SELECTORS)
			return 0;
	}
	/* the clock is read only for what matched (a read costs as much as a map lookup) */
	s->ev.hdr.ktime = bpf_ktime_get_boot_ns();
	s->ev.sel = u.sc.matched;
	stat_add(h->policy_id, GEN_CNT_MATCHED);
	if (u.sc.matched < GEN_MAX_SELECTORS) {
		__u32 key = GEN_SEL_KEY(hook_id, u.sc.matched);
		struct gen_selector *sel = bpf_map_lookup_elem(&selectors, &key);

		if (!sel)
			return 0;
		sel_stat_add(hook_id, u.sc.matched, GEN_CNT_MATCHED);
		run_actions(s, st, aux, sel->actions, sel->n_actions);
	} else {
		st->post = 1;
	}

	if (h->flags & GEN_HF_RETURN) {
		save_return(s, st, hook_id, pid_tgid);
		return 0;
	}
	emit(ctx, s, st);
	return 0;
}

/* The exit side of a hook that waits for its return value. */
static __noinline int generic_exit(void *ctx, __u32 hook_id, __s64 ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ret_key k = { .pid_tgid = pid_tgid, .hook_id = hook_id };
	struct gen_scratch *s = heap(&gen_heap);
	struct gen_state *st = heap(&gen_state_heap);
	struct gen_aux *aux = heap(&gen_aux_heap);
	struct ret_saved *rs;
	struct gen_hook *h;
	struct read_ctx rc;
	struct sel_ctx sc;
	__u32 n;

	if (!s || !st || !aux)
		return 0;
	rs = bpf_map_lookup_elem(&retstate, &k);
	if (!rs)
		return 0;
	h = bpf_map_lookup_elem(&hooks, &hook_id);
	if (!h) {
		bpf_map_delete_elem(&retstate, &k);
		return 0;
	}
	__builtin_memcpy(st, &rs->st, sizeof(*st));
	__builtin_memcpy(&s->ev, &rs->ev, sizeof(s->ev));
	n = st->off;
	bpf_probe_read_kernel(s->data, BOUND(n, SAVE_DATA_MAX * 2 - 1), rs->data);
	bpf_map_delete_elem(&retstate, &k);

	st->is_return = 1;
	st->raw[GEN_RET_ARG] = ret;
	s->ev.ret = ret;
	s->ev.flags |= GEN_EF_RETURN;
	/* buffers read at the return (returnCopy), then the return value itself */
	rc.s = s;
	rc.st = st;
	rc.h = h;
	rc.aux = aux;
	st->ctx_addr = 0;
	rc.first = 0;
	rc.last = h->n_args ? h->n_args - 1 : 0;
	for (int i = 0; i < GEN_MAX_ARGS - 1; i++) {
		if (i >= h->n_args)
			break;
		if (h->args[i & (GEN_ARG_SLOTS - 1)].flags & GEN_AF_RETURN_COPY) {
			/* re-read it in place of its (empty) entry data, at the end */
			rc.first = i;
			rc.last = i;
			read_one(0, &rc);
		}
	}
	rc.first = GEN_RET_ARG;
	rc.last = GEN_RET_ARG;
	read_one(0, &rc);

	if (st->sel < GEN_MAX_SELECTORS) {
		__u32 key = GEN_SEL_KEY(hook_id, st->sel);
		struct gen_selector *sel = bpf_map_lookup_elem(&selectors, &key);

		if (!sel)
			return 0;
		sc.s = s;
		sc.st = st;
		sc.h = h;
		sc.aux = aux;
		sc.pi = NULL;
		sc.pi_done = 1;
		sc.matched = 0xff;
		sc.at_return = 1;
		for (__u32 j = 0; j < GEN_MAX_SELECTORS; j++)
			if (sel_step(j, &sc))
				break;
		if (sc.matched >= GEN_MAX_SELECTORS)
			return 0;
		if (sel->n_ret_actions)
			run_actions(s, st, aux, sel->ret_actions, sel->n_ret_actions);
	}
	emit(ctx, s, st);
	return 0;
}

/* Tracepoints: raw values from the record's fields. */
static __always_inline void tp_raw(void *ctx, struct gen_hook *h, struct gen_state *st)
{
	for (int i = 0; i < GEN_MAX_ARGS - 1; i++) {
		struct gen_arg *a = &h->args[i];
		__u64 v = 0;

		if (i >= h->n_args)
			break;
		if (a->flags & GEN_AF_INLINE) {
			st->raw[i] = (__u64)ctx + (a->offset & 0xfff);
			continue;
		}
		bpf_probe_read_kernel(&v, a->size & 8 ? 8 : a->size & 7, ctx + (a->offset & 0xfff));
		st->raw[i] = extend(v, a->size, a->type == GEN_ARG_INT);
	}
}

/* pt_regs hooks: raw values from the argument registers, each read at a constant offset. */
static __always_inline void regs_raw(struct pt_regs *ctx, struct gen_hook *h, struct gen_state *st)
{
	__u64 *regs = st->regs;

	regs[0] = PT_REGS_PARM1(ctx);
	regs[1] = PT_REGS_PARM2(ctx);
	regs[2] = PT_REGS_PARM3(ctx);
	regs[3] = PT_REGS_PARM4(ctx);
	regs[4] = PT_REGS_PARM5(ctx);
	regs[5] = PT_REGS_PARM6(ctx);
	for (int i = 0; i < GEN_MAX_ARGS - 1; i++) {
		if (i >= h->n_args)
			break;
		st->raw[i] = regs[BOUND(h->args[i].slot, GEN_ARG_SLOTS - 1)];
	}
}

/* One hook of a tracepoint's slot: raw values from the record's fields (or registers). */
static __always_inline int run_tp_hook(void *ctx, __u32 id, bool raw)
{
	struct gen_scratch *s;
	struct gen_state *st;
	struct gen_hook *h;
	__u8 mode;

	h = bpf_map_lookup_elem(&hooks, &id);
	if (!h || !policy_on(h, &mode))
		return 0;
	s = heap(&gen_heap);
	st = heap(&gen_state_heap);
	if (!s || !st)
		return 0;
	if (!raw) {
		tp_raw(ctx, h, st);
		return generic_entry(ctx, h, id, mode, (__u64)ctx);
	}
	bpf_probe_read_kernel(st->regs, 6 * sizeof(__u64),
			      ((struct bpf_raw_tracepoint_args *)ctx)->args);
	for (int i = 0; i < GEN_MAX_ARGS - 1; i++) {
		if (i >= h->n_args)
			break;
		st->raw[i] = st->regs[BOUND(h->args[i].slot, GEN_ARG_SLOTS - 1)];
	}
	return generic_entry(ctx, h, id, mode, 0);
}

struct slot_ctx {
	void *ctx;
	struct gen_slot *slot;
	__s64 ret;
	__u8 raw;
	__u8 exit_side;
};

static long slot_step(__u32 i, void *data)
{
	struct slot_ctx *sc = data;
	__u32 id;

	if (i >= sc->slot->n || i >= GEN_SLOT_HOOKS)
		return 1;
	id = sc->slot->hooks[BOUND(i, GEN_SLOT_HOOKS - 1)];
	if (sc->exit_side)
		generic_exit(sc->ctx, id, sc->ret);
	else
		run_tp_hook(sc->ctx, id, sc->raw);
	return 0;
}

/* Run every hook of the slot the cookie names (or the one hook of a per-hook copy). */
static __always_inline int run_slot(void *ctx, bool raw, bool exit_side, __s64 ret)
{
	struct slot_ctx sc = { .ctx = ctx, .ret = ret, .raw = raw, .exit_side = exit_side };
	__u32 slot_id;

	if (!in_scope())
		return 0;
	if (fixed_hook_id) {
		if (exit_side)
			return generic_exit(ctx, fixed_hook_id, ret);
		return run_tp_hook(ctx, fixed_hook_id, raw);
	}
	slot_id = (__u32)bpf_get_attach_cookie(ctx);
	sc.slot = bpf_map_lookup_elem(&slots, &slot_id);
	if (!sc.slot || !sc.slot->n)
		return 0;
	bpf_loop(GEN_SLOT_HOOKS, slot_step, &sc, 0);
	return 0;
}

SEC("tracepoint")
int generic_tp(void *ctx)
{
	return run_slot(ctx, false, false, 0);
}

/* syscalls:sys_exit_*: the return value is at offset 16. */
SEC("tracepoint")
int generic_tp_exit(void *ctx)
{
	__s64 ret = 0;

	bpf_probe_read_kernel(&ret, sizeof(ret), ctx + 16);
	return run_slot(ctx, false, true, ret);
}

/* raw: true tracepoints: the TP_PROTO arguments, read without touching ctx past them. */
SEC("raw_tp")
int generic_rawtp(struct bpf_raw_tracepoint_args *ctx)
{
	return run_slot(ctx, true, false, 0);
}

SEC("uprobe")
int generic_uprobe(struct pt_regs *ctx)
{
	struct gen_scratch *s;
	struct gen_state *st;
	struct gen_hook *h;
	__u32 id;
	__u8 mode;

	h = hook_of(ctx, &id);
	if (!h || !policy_on(h, &mode) || !in_scope())
		return 0;
	s = heap(&gen_heap);
	st = heap(&gen_state_heap);
	if (!s || !st)
		return 0;
	regs_raw(ctx, h, st);
	return generic_entry(ctx, h, id, mode, 0);
}

SEC("uretprobe")
int generic_uretprobe(struct pt_regs *ctx)
{
	__u32 id = fixed_hook_id ? fixed_hook_id : (__u32)bpf_get_attach_cookie(ctx);

	return generic_exit(ctx, id, (__s64)PT_REGS_RC(ctx));
}

/* ---------------------------------------------------------------------------------------- */
/* Kernel functions: kprobes, kprobe.multi, and trampolines (fentry, fexit, fmod_ret, LSM) */

/* The arguments of a syscall wrapper's pt_regs (the syscall ABI: di, si, dx, r10, r8, r9). */
static __always_inline void syscall_regs(struct pt_regs *r, __u64 *regs)
{
	regs[0] = PT_REGS_PARM1_CORE_SYSCALL(r);
	regs[1] = PT_REGS_PARM2_CORE_SYSCALL(r);
	regs[2] = PT_REGS_PARM3_CORE_SYSCALL(r);
	regs[3] = PT_REGS_PARM4_CORE_SYSCALL(r);
	regs[4] = PT_REGS_PARM5_CORE_SYSCALL(r);
	regs[5] = PT_REGS_PARM6_CORE_SYSCALL(r);
}

static __always_inline void pick_args(struct gen_hook *h, struct gen_state *st)
{
	for (int i = 0; i < GEN_MAX_ARGS - 1; i++) {
		if (i >= h->n_args)
			break;
		st->raw[i] = st->regs[BOUND(h->args[i].slot, GEN_ARG_SLOTS - 1)];
	}
}

/* A kprobe's entry; returns the state when an Override was decided, else NULL. */
static __always_inline struct gen_state *kprobe_entry(struct pt_regs *ctx)
{
	struct gen_scratch *s;
	struct gen_state *st;
	struct gen_hook *h;
	__u32 id;
	__u8 mode;

	h = hook_of(ctx, &id);
	if (!h || !policy_on(h, &mode) || !in_scope())
		return NULL;
	s = heap(&gen_heap);
	st = heap(&gen_state_heap);
	if (!s || !st)
		return NULL;
	if (h->flags & GEN_HF_SYSCALL_WRAPPER) {
		syscall_regs((struct pt_regs *)PT_REGS_PARM1(ctx), st->regs);
	} else {
		st->regs[0] = PT_REGS_PARM1(ctx);
		st->regs[1] = PT_REGS_PARM2(ctx);
		st->regs[2] = PT_REGS_PARM3(ctx);
		st->regs[3] = PT_REGS_PARM4(ctx);
		st->regs[4] = PT_REGS_PARM5(ctx);
		st->regs[5] = PT_REGS_PARM6(ctx);
	}
	pick_args(h, st);
	generic_entry(ctx, h, id, mode, 0);
	return st->override ? st : NULL;
}

SEC("kprobe")
int generic_kprobe(struct pt_regs *ctx)
{
	kprobe_entry(ctx);
	return 0;
}

SEC("kretprobe")
int generic_kretprobe(struct pt_regs *ctx)
{
	__u32 id = fixed_hook_id ? fixed_hook_id : (__u32)bpf_get_attach_cookie(ctx);

	return generic_exit(ctx, id, (__s64)PT_REGS_RC(ctx));
}

/* Loaded only where the kernel has bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE). */
SEC("kprobe")
int generic_kprobe_override(struct pt_regs *ctx)
{
	struct gen_state *st = kprobe_entry(ctx);

	if (st)
		bpf_override_return(ctx, (__s64)st->override_val);
	return 0;
}

/* The same, for all functions of a policy in one kprobe.multi link (the cookie per function). */
SEC("kprobe.multi")
int generic_kprobe_multi(struct pt_regs *ctx)
{
	kprobe_entry(ctx);
	return 0;
}

SEC("kretprobe.multi")
int generic_kretprobe_multi(struct pt_regs *ctx)
{
	return generic_exit(ctx, (__u32)bpf_get_attach_cookie(ctx), (__s64)PT_REGS_RC(ctx));
}

SEC("kprobe.multi")
int generic_kprobe_multi_override(struct pt_regs *ctx)
{
	struct gen_state *st = kprobe_entry(ctx);

	if (st)
		bpf_override_return(ctx, (__s64)st->override_val);
	return 0;
}

/*
 * Trampolines are bound to one function when they load: a copy of the program is
 * loaded per hook, with the hook's id in fixed_hook_id. The arguments come from
 * bpf_get_func_arg(), so one program text fits every function.
 */
static __always_inline struct gen_state *trampoline_entry(void *ctx)
{
	__u32 id = fixed_hook_id;
	struct gen_scratch *s;
	struct gen_state *st;
	struct gen_hook *h;
	__u8 mode;

	h = bpf_map_lookup_elem(&hooks, &id);
	if (!h || !policy_on(h, &mode) || !in_scope())
		return NULL;
	s = heap(&gen_heap);
	st = heap(&gen_state_heap);
	if (!s || !st)
		return NULL;
	for (int i = 0; i < 6; i++) {
		__u64 v = 0;

		bpf_get_func_arg(ctx, i, &v);
		st->regs[i] = v;
	}
	if (h->flags & GEN_HF_SYSCALL_WRAPPER)
		syscall_regs((struct pt_regs *)st->regs[0], st->regs);
	pick_args(h, st);
	generic_entry(ctx, h, id, mode, 0);
	return st->override ? st : NULL;
}

SEC("fentry")
int generic_fentry(void *ctx)
{
	trampoline_entry(ctx);
	return 0;
}

SEC("fexit")
int generic_fexit(void *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return generic_exit(ctx, fixed_hook_id, (__s64)ret);
}

/* fmod_ret on security_* (and error-injectable functions): a non-zero return replaces the call. */
SEC("fmod_ret")
int generic_fmod_ret(void *ctx)
{
	struct gen_state *st = trampoline_entry(ctx);

	if (!may_override || !st)
		return 0;
	return st->override_val;
}

/*
 * BPF LSM: the hook's verdict is the return value, an errno in [-4095, 0] that
 * 6.12 checks on all 64 bits of R0 (an int -1 would be 0xffffffff there).
 */
SEC("lsm")
__s64 generic_lsm(void *ctx)
{
	struct gen_state *st = trampoline_entry(ctx);
	__s64 ret;

	if (!may_override || !st)
		return 0;
	/* 64-bit, so that the verifier sees the very register it checked returned */
	ret = st->override_val;
	if (ret > 0)
		return -1;
	barrier_var(ret);
	if (ret < -4095)
		return -1;
	return ret;
}
