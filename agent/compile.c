// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "agent/compile.h"
#include "agent/procfs.h"
#include "agent/sensor_generic.h"
#include "lib/syscalls.h"
#include "lib/util.h"

#define TRACEFS "/sys/kernel/tracing"
#define STRING_MAX 4096

struct cctx {
	const struct policy *p;
	struct sensor_generic *g;
	const struct kernel_features *kf;
	struct cpolicy *c;
	struct policy_errors *errs;
	int err; /* the first error's errno */
	uint32_t host_ns[NS_COUNT];
	struct btf *btf; /* the kernel's, read when a resolve first needs it */
	int btf_err;
};

static void fail(struct cctx *x, int err, const struct policy_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct cctx *x, int err, const struct policy_pos *pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_errors_add(x->errs, x->p->filename, pos, "%s", msg);
	if (!x->err)
		x->err = err;
}

/* ---------------------------------------------------------------------------------------- */
/* Tracepoint formats */

int tracepoint_format(const char *subsystem, const char *event, struct tp_field *fields, size_t max)
{
	_cleanup_free_ char *text = NULL;
	char path[512];
	size_t n = 0;
	char *line, *save = NULL;
	int r;

	if (strchr(subsystem, '/') || strchr(event, '/') || streq(subsystem, "..") ||
	    streq(event, ".."))
		return -EINVAL;
	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s/format", subsystem, event);
	r = read_file(path, 1 << 16, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f = strstr(line, "field:"), *semi, *o, *sz, *sg;
		struct tp_field *t;
		char *name;

		if (!f)
			continue;
		if (n == max)
			return -E2BIG;
		t = &fields[n];
		memset(t, 0, sizeof(*t));
		f += strlen("field:");
		semi = strchr(f, ';');
		if (!semi)
			continue;
		*semi = '\0';
		/* "const char * filename" or "char comm[16]" or "__data_loc char[] name" */
		name = f + strlen(f);
		while (name > f && (isalnum((unsigned char)name[-1]) || name[-1] == '_' ||
				    name[-1] == '[' || name[-1] == ']'))
			name--;
		snprintf(t->name, sizeof(t->name), "%s", name);
		if (strchr(t->name, '['))
			*strchr(t->name, '[') = '\0';
		snprintf(t->type, sizeof(t->type), "%.*s", (int)(name - f), f);
		/* keep array brackets in the type: they make a string */
		if (strchr(name, '['))
			snprintf(t->type + strlen(t->type), sizeof(t->type) - strlen(t->type), "%s",
				 strchr(name, '['));
		for (size_t k = strlen(t->type); k > 0 && t->type[k - 1] == ' '; k--)
			t->type[k - 1] = '\0';
		o = strstr(semi + 1, "offset:");
		sz = strstr(semi + 1, "size:");
		sg = strstr(semi + 1, "signed:");
		if (!o || !sz)
			continue;
		t->offset = (uint16_t)atoi(o + 7);
		t->size = (uint16_t)atoi(sz + 5);
		t->is_signed = sg && atoi(sg + 7) == 1;
		n++;
	}
	return (int)n;
}

static bool tracepoint_exists(const char *category, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s", category, name);
	return stat(path, &st) == 0;
}

/* The policy type a tracepoint field reads as when the policy says "auto". */
static enum policy_arg_type infer_type(const struct tp_field *f)
{
	const char *t = f->type;

	if (startswith(t, "__data_loc"))
		return POLICY_ARG_DATA_LOC;
	if (strstr(t, "char") && (strchr(t, '*') || strchr(t, '[')))
		return POLICY_ARG_STRING;
	if (strchr(t, '*'))
		return POLICY_ARG_UINT64;
	switch (f->size) {
	case 1:
		return f->is_signed ? POLICY_ARG_INT8 : POLICY_ARG_UINT8;
	case 2:
		return f->is_signed ? POLICY_ARG_INT16 : POLICY_ARG_UINT16;
	case 4:
		return f->is_signed ? POLICY_ARG_INT32 : POLICY_ARG_UINT32;
	default:
		return f->is_signed ? POLICY_ARG_INT64 : POLICY_ARG_UINT64;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* BTF: resolve */

/* Type id without its modifiers and typedefs; NULL for void. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	/* libbpf gives void (id 0) a type of kind BTF_KIND_UNKN */
	return t && btf_kind(t) != BTF_KIND_UNKN ? t : NULL;
}

static const char *type_name(const struct btf *btf, const struct btf_type *t)
{
	const char *n = t ? btf__name_by_offset(btf, t->name_off) : NULL;

	return n && *n ? n : "(anon)";
}

/* What kind of thing t is, for messages: "struct file", "int", "pointer". */
static const char *describe(const struct btf *btf, const struct btf_type *t, char *buf, size_t size)
{
	if (!t)
		snprintf(buf, size, "void");
	else if (btf_is_struct(t))
		snprintf(buf, size, "struct %s", type_name(btf, t));
	else if (btf_is_union(t))
		snprintf(buf, size, "union %s", type_name(btf, t));
	else if (btf_is_ptr(t))
		snprintf(buf, size, "a pointer");
	else if (btf_is_array(t))
		snprintf(buf, size, "an array");
	else if (btf_is_int(t) || btf_is_any_enum(t))
		snprintf(buf, size, "%s", type_name(btf, t));
	else
		snprintf(buf, size, "a %s",
			 btf_kind(t) == BTF_KIND_FUNC_PROTO ? "function" : "type");
	return buf;
}

/*
 * Find member name in the struct or union t, looking into anonymous members. On
 * success *bits is its offset in bits and *id its type.
 */
static bool find_member(const struct btf *btf, const struct btf_type *t, const char *name,
			uint32_t *bits, uint32_t *id, uint32_t *bitfield)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt;
		uint32_t sub;

		if (mn && *mn) {
			if (!streq(mn, name))
				continue;
			*bits = btf_member_bit_offset(t, i);
			*bitfield = btf_member_bitfield_size(t, i);
			*id = m->type;
			return true;
		}
		mt = skip_mods(btf, m->type);
		if (mt && btf_is_composite(mt) && find_member(btf, mt, name, &sub, id, bitfield)) {
			*bits = btf_member_bit_offset(t, i) + sub;
			return true;
		}
	}
	return false;
}

static bool is_char(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = skip_mods(btf, id);

	return t && btf_is_int(t) && t->size == 1;
}

static int add_step(struct gen_resolve *out, uint64_t off, bool deref, char *why, size_t size)
{
	if (out->n >= GEN_RESOLVE_MAX) {
		snprintf(why, size, "the path follows more than %d pointers", GEN_RESOLVE_MAX - 1);
		return -EINVAL;
	}
	if (off > UINT32_MAX) {
		snprintf(why, size, "offset %llu is too large", (unsigned long long)off);
		return -EINVAL;
	}
	out->off[out->n] = (uint32_t)off;
	if (deref)
		out->deref |= (uint16_t)(1u << out->n);
	out->n++;
	return 0;
}

int compile_resolve(const struct btf *btf, uint32_t type_id, const char *path,
		    struct gen_resolve *out, struct resolve_end *end, char *why, size_t why_size)
{
	const struct btf_type *cur, *t;
	char desc[128], name[128];
	const char *p = path;
	uint64_t acc = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(end, 0, sizeof(*end));
	t = skip_mods(btf, type_id);
	if (t && btf_is_composite(t)) {
		/* btfType: the value points to one of these */
		cur = t;
	} else if (!t || !btf_is_ptr(t)) {
		snprintf(why, why_size, "the argument is %s, not a pointer to a struct or union",
			 describe(btf, t, desc, sizeof(desc)));
		return -EINVAL;
	} else {
		cur = skip_mods(btf, t->type);
	}
	if (!cur || !btf_is_composite(cur)) {
		snprintf(why, why_size, "the argument points to %s, not to a struct or union",
			 describe(btf, cur, desc, sizeof(desc)));
		return -EINVAL;
	}
	while (*p) {
		size_t len = strcspn(p, ".[");
		uint32_t bits = 0, mid = 0, bitfield = 0;
		const struct btf_type *mt;
		bool last;

		if (len == 0 || len >= sizeof(name)) {
			snprintf(why, why_size, "invalid member name at '%s'", p);
			return -EINVAL;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		if (!find_member(btf, cur, name, &bits, &mid, &bitfield)) {
			snprintf(why, why_size, "%s has no member '%s'",
				 describe(btf, cur, desc, sizeof(desc)), name);
			return -EINVAL;
		}
		if (bitfield || bits % 8) {
			snprintf(why, why_size, "'%s' is a bitfield: it cannot be resolved", name);
			return -EINVAL;
		}
		acc += bits / 8;
		while (*p == '[') {
			const struct btf_type *at = skip_mods(btf, mid);
			unsigned long long idx = strtoull(p + 1, NULL, 10);
			const struct btf_array *arr;
			const char *close;
			int64_t esz;

			if (!at || !btf_is_array(at)) {
				snprintf(why, why_size,
					 "'%s' is %s, not an array: it cannot be indexed", name,
					 describe(btf, at, desc, sizeof(desc)));
				return -EINVAL;
			}
			arr = btf_array(at);
			if (arr->nelems && idx >= arr->nelems) {
				snprintf(why, why_size,
					 "index %llu is out of bounds: '%s' has %u elements", idx,
					 name, arr->nelems);
				return -EINVAL;
			}
			esz = btf__resolve_size(btf, arr->type);
			if (esz < 0) {
				snprintf(why, why_size, "the elements of '%s' have no size", name);
				return -EINVAL;
			}
			acc += idx * (uint64_t)esz;
			mid = arr->type;
			close = strchr(p, ']');
			p = close ? close + 1 : p + strlen(p);
		}
		last = *p == '\0';
		if (*p == '.')
			p++;
		mt = skip_mods(btf, mid);
		if (!last) {
			const struct btf_type *pt;

			if (mt && btf_is_composite(mt)) {
				/* embedded: the next member is further on in the same object */
				cur = mt;
				continue;
			}
			pt = mt && btf_is_ptr(mt) ? skip_mods(btf, mt->type) : NULL;
			if (mt && btf_is_ptr(mt) && (!pt || !btf_is_composite(pt))) {
				snprintf(
					why, why_size,
					"'%s' points to %s, not to a struct or union: it has no members",
					name, describe(btf, pt, desc, sizeof(desc)));
				return -EINVAL;
			}
			if (!pt) {
				snprintf(
					why, why_size,
					"'%s' is %s, not a struct, union or pointer to one: it has no members",
					name, describe(btf, mt, desc, sizeof(desc)));
				return -EINVAL;
			}
			r = add_step(out, acc, true, why, why_size);
			if (r < 0)
				return r;
			acc = 0;
			cur = pt;
			continue;
		}
		/* the last member: its value, or its address when it is an object */
		if (mt && btf_is_ptr(mt)) {
			const struct btf_type *pt = skip_mods(btf, mt->type);

			end->is_ptr = true;
			end->is_void_ptr = !pt;
			end->is_char = is_char(btf, mt->type);
			if (pt && btf_is_composite(pt))
				end->struct_name = type_name(btf, pt);
			return add_step(out, acc, true, why, why_size);
		}
		if (mt && (btf_is_int(mt) || btf_is_any_enum(mt))) {
			end->is_scalar = true;
			end->size = mt->size;
			if (mt->size == 8)
				return add_step(out, acc, true, why, why_size);
			if (mt->size != 1 && mt->size != 2 && mt->size != 4) {
				snprintf(
					why, why_size,
					"'%s' is %u bytes: integers of 1, 2, 4 or 8 bytes can be read",
					name, mt->size);
				return -EINVAL;
			}
			out->load = (uint8_t)mt->size;
			out->sign = btf_is_int(mt) ? !!(btf_int_encoding(mt) & BTF_INT_SIGNED) :
						     btf_kflag(mt);
			return add_step(out, acc, false, why, why_size);
		}
		if (mt && (btf_is_composite(mt) || btf_is_array(mt))) {
			if (btf_is_composite(mt))
				end->struct_name = type_name(btf, mt);
			else
				end->is_char = is_char(btf, btf_array(mt)->type);
			return add_step(out, acc, false, why, why_size);
		}
		snprintf(why, why_size, "'%s' is %s, which cannot be read", name,
			 describe(btf, mt, desc, sizeof(desc)));
		return -EINVAL;
	}
	snprintf(why, why_size, "empty path");
	return -EINVAL;
}

/* ---------------------------------------------------------------------------------------- */
/* Arguments */

static bool type_is_signed(enum policy_arg_type t)
{
	return t == POLICY_ARG_INT8 || t == POLICY_ARG_INT16 || t == POLICY_ARG_INT32 ||
	       t == POLICY_ARG_INT64 || t == POLICY_ARG_CAPABILITY;
}

static unsigned type_size(enum policy_arg_type t)
{
	switch (t) {
	case POLICY_ARG_INT8:
	case POLICY_ARG_UINT8:
		return 1;
	case POLICY_ARG_INT16:
	case POLICY_ARG_UINT16:
		return 2;
	case POLICY_ARG_INT32:
	case POLICY_ARG_UINT32:
	case POLICY_ARG_FD:
	case POLICY_ARG_CAPABILITY:
		return 4;
	default:
		return 8;
	}
}

/* The kernel-side reader of a policy type; 0 when this kind of hook cannot read it. */
static uint8_t gen_type(enum policy_arg_type t)
{
	switch (t) {
	case POLICY_ARG_INT8:
	case POLICY_ARG_INT16:
	case POLICY_ARG_INT32:
	case POLICY_ARG_INT64:
	case POLICY_ARG_CAPABILITY:
		return GEN_ARG_INT;
	case POLICY_ARG_UINT8:
	case POLICY_ARG_UINT16:
	case POLICY_ARG_UINT32:
	case POLICY_ARG_UINT64:
	case POLICY_ARG_SIZE_T:
	case POLICY_ARG_SYSCALL64:
	case POLICY_ARG_BPF_CMD:
		return GEN_ARG_UINT;
	case POLICY_ARG_STRING:
	case POLICY_ARG_FILENAME:
		return GEN_ARG_STRING;
	case POLICY_ARG_CHAR_BUF:
	case POLICY_ARG_CONST_BUF:
		return GEN_ARG_CHAR_BUF;
	case POLICY_ARG_CHAR_IOVEC:
		return GEN_ARG_CHAR_IOVEC;
	case POLICY_ARG_FD:
		return GEN_ARG_FD;
	case POLICY_ARG_SOCKADDR:
		return GEN_ARG_SOCKADDR;
	case POLICY_ARG_DATA_LOC:
		return GEN_ARG_DATA_LOC;
	case POLICY_ARG_NOP:
		return GEN_ARG_SKIP;
	case POLICY_ARG_FILE:
		return GEN_ARG_FILE;
	case POLICY_ARG_PATH:
		return GEN_ARG_PATH;
	case POLICY_ARG_DENTRY:
		return GEN_ARG_DENTRY;
	case POLICY_ARG_KIOCB:
		return GEN_ARG_KIOCB;
	case POLICY_ARG_LINUX_BINPRM:
		return GEN_ARG_LINUX_BINPRM;
	case POLICY_ARG_CRED:
		return GEN_ARG_CRED;
	case POLICY_ARG_USER_NAMESPACE:
		return GEN_ARG_USER_NS;
	case POLICY_ARG_KERNEL_CAP_T:
	case POLICY_ARG_CAP_INHERITABLE:
	case POLICY_ARG_CAP_PERMITTED:
	case POLICY_ARG_CAP_EFFECTIVE:
		return GEN_ARG_CAP;
	case POLICY_ARG_SOCK:
		return GEN_ARG_SOCK;
	case POLICY_ARG_SOCKET:
		return GEN_ARG_SOCKET;
	case POLICY_ARG_SKB:
		return GEN_ARG_SKB;
	case POLICY_ARG_NET_DEVICE:
		return GEN_ARG_NET_DEVICE;
	case POLICY_ARG_BPF_ATTR:
		return GEN_ARG_BPF_ATTR;
	case POLICY_ARG_BPF_PROG:
		return GEN_ARG_BPF_PROG;
	case POLICY_ARG_BPF_MAP:
		return GEN_ARG_BPF_MAP;
	case POLICY_ARG_PERF_EVENT:
		return GEN_ARG_PERF_EVENT;
	case POLICY_ARG_MODULE:
		return GEN_ARG_MODULE;
	case POLICY_ARG_LOAD_INFO:
		return GEN_ARG_LOAD_INFO;
	default:
		return 0;
	}
}

/* Compared with the string maps: the data is the string. */
static bool is_string_type(uint8_t gt)
{
	return gt == GEN_ARG_STRING || gt == GEN_ARG_CHAR_BUF || gt == GEN_ARG_CHAR_IOVEC ||
	       gt == GEN_ARG_FD || gt == GEN_ARG_DATA_LOC || gt == GEN_ARG_FILE ||
	       gt == GEN_ARG_PATH || gt == GEN_ARG_DENTRY || gt == GEN_ARG_KIOCB ||
	       gt == GEN_ARG_LINUX_BINPRM || gt == GEN_ARG_NET_DEVICE;
}

/* Read from kernel memory: not the arguments of syscalls and uprobes. */
static bool is_kernel_object(uint8_t gt)
{
	switch (gt) {
	case GEN_ARG_FILE:
	case GEN_ARG_PATH:
	case GEN_ARG_DENTRY:
	case GEN_ARG_KIOCB:
	case GEN_ARG_LINUX_BINPRM:
	case GEN_ARG_CRED:
	case GEN_ARG_USER_NS:
	case GEN_ARG_CAP:
	case GEN_ARG_SOCK:
	case GEN_ARG_SOCKET:
	case GEN_ARG_SKB:
	case GEN_ARG_NET_DEVICE:
	case GEN_ARG_BPF_ATTR:
	case GEN_ARG_BPF_PROG:
	case GEN_ARG_BPF_MAP:
	case GEN_ARG_PERF_EVENT:
	case GEN_ARG_MODULE:
	case GEN_ARG_LOAD_INFO:
		return true;
	default:
		return false;
	}
}

static bool is_net_object(uint8_t gt)
{
	return gt == GEN_ARG_SOCK || gt == GEN_ARG_SOCKET || gt == GEN_ARG_SKB;
}

/* The struct a kernel object type reads, to check what a resolve path ends at. */
static const char *object_struct(enum policy_arg_type t)
{
	switch (t) {
	case POLICY_ARG_FILE:
		return "file";
	case POLICY_ARG_PATH:
		return "path";
	case POLICY_ARG_DENTRY:
		return "dentry";
	case POLICY_ARG_KIOCB:
		return "kiocb";
	case POLICY_ARG_LINUX_BINPRM:
		return "linux_binprm";
	case POLICY_ARG_CRED:
		return "cred";
	case POLICY_ARG_USER_NAMESPACE:
		return "user_namespace";
	case POLICY_ARG_SOCK:
		return "sock";
	case POLICY_ARG_SOCKET:
		return "socket";
	case POLICY_ARG_SKB:
		return "sk_buff";
	case POLICY_ARG_NET_DEVICE:
		return "net_device";
	case POLICY_ARG_BPF_ATTR:
		return "bpf_attr";
	case POLICY_ARG_BPF_PROG:
		return "bpf_prog";
	case POLICY_ARG_BPF_MAP:
		return "bpf_map";
	case POLICY_ARG_PERF_EVENT:
		return "perf_event";
	case POLICY_ARG_MODULE:
		return "module";
	case POLICY_ARG_LOAD_INFO:
		return "load_info";
	default:
		return NULL;
	}
}

/* Where a hook's argument values come from. */
struct hook_src {
	int kind; /* GEN_HOOK_* */
	struct tp_field *fields; /* tracepoints */
	int n_fields;
	bool user_pointers; /* syscalls and uprobes: pointers are to user memory */
};

/* The kernel's BTF, read when the policy first needs it; freed with the compile context. */
static const struct btf *kernel_btf(struct cctx *x, const struct policy_pos *pos)
{
	if (!x->btf && !x->btf_err) {
		x->btf = btf__load_vmlinux_btf();
		if (!x->btf)
			x->btf_err = errno ? -errno : -ENOENT;
	}
	if (!x->btf) {
		errno = -x->btf_err;
		fail(x, -EOPNOTSUPP, pos,
		     "resolve needs the kernel's BTF, which cannot be read: %m");
	}
	return x->btf;
}

/*
 * The BTF type of argument index of the hook's function: a kernel function, an LSM
 * hook (bpf_lsm_<hook>), or a raw tracepoint's TP_PROTO (btf_trace_<event>, whose
 * first parameter is the tracepoint's own data).
 */
static bool param_type(struct cctx *x, const struct btf *btf, const struct chook *h, uint32_t index,
		       const struct policy_pos *pos, uint32_t *id)
{
	const struct btf_type *t = NULL;
	char fn[256];
	unsigned skip = 0;
	int fid;

	if (h->raw) {
		snprintf(fn, sizeof(fn), "btf_trace_%s", h->event);
		fid = btf__find_by_name_kind(btf, fn, BTF_KIND_TYPEDEF);
		if (fid > 0) {
			t = skip_mods(btf, (uint32_t)fid);
			t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
		}
		skip = 1;
	} else {
		snprintf(fn, sizeof(fn), "%s%s", h->gh.kind == GEN_HOOK_LSM ? "bpf_lsm_" : "",
			 h->kfunc ? h->kfunc : "");
		fid = btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC);
		if (fid > 0)
			t = btf__type_by_id(btf, btf__type_by_id(btf, (uint32_t)fid)->type);
	}
	if (!t || !btf_is_func_proto(t)) {
		fail(x, -ENOENT, pos,
		     "'%s' is not in the kernel's BTF: the types of its arguments are unknown", fn);
		return false;
	}
	if (index + skip >= btf_vlen(t)) {
		fail(x, -EINVAL, pos, "'%s' has %u arguments: there is no index %u", fn,
		     btf_vlen(t) - skip, index);
		return false;
	}
	*id = btf_params(t)[index + skip].type;
	return true;
}

static void describe_end(const struct resolve_end *e, char *buf, size_t size)
{
	if (e->struct_name)
		snprintf(buf, size, "%sstruct %s", e->is_ptr ? "a pointer to " : "",
			 e->struct_name);
	else if (e->is_scalar)
		snprintf(buf, size, "an integer of %u bytes", e->size);
	else if (e->is_char)
		snprintf(buf, size, "characters");
	else if (e->is_ptr)
		snprintf(buf, size, "a pointer");
	else
		snprintf(buf, size, "an array");
}

/* Does what the path resolves to suit the argument's type? */
static bool resolve_fits(struct cctx *x, const struct policy_pos *pos, const struct policy_arg *a,
			 enum policy_arg_type type, struct gen_arg *g, const struct resolve_end *e)
{
	const char *want = object_struct(type);
	char desc[128];
	bool ok;

	describe_end(e, desc, sizeof(desc));
	if (g->type == GEN_ARG_CAP) {
		/* an embedded kernel_cap_t or a pointer to one is read through; a u64 is the value */
		ok = e->is_scalar ? e->size == 8 : e->is_ptr || e->struct_name;
		if (e->is_scalar)
			g->flags &= ~GEN_AF_DEREF;
		else
			g->flags |= GEN_AF_DEREF;
	} else if (want) {
		ok = e->is_void_ptr || (e->struct_name && streq(e->struct_name, want));
	} else if (g->type == GEN_ARG_STRING || g->type == GEN_ARG_CHAR_BUF ||
		   g->type == GEN_ARG_CHAR_IOVEC) {
		ok = e->is_char || e->is_void_ptr || (e->is_ptr && !e->struct_name);
	} else if (g->type == GEN_ARG_SOCKADDR) {
		ok = e->is_ptr || e->struct_name;
	} else {
		ok = e->is_scalar || e->is_ptr;
	}
	if (!ok)
		fail(x, -EINVAL, pos, "'%s' resolves to %s, which type '%s' cannot read%s%s",
		     a->resolve, desc, policy_arg_type_name(type),
		     want ? ": it reads a struct " : "", want ? want : "");
	return ok;
}

/* resolve and btfType: the steps from the raw value to what the type's reader gets. */
static bool compile_arg_resolve(struct cctx *x, const struct chook *h, const struct policy_arg *a,
				enum policy_arg_type type, struct gen_arg *g, bool is_return)
{
	const struct policy_pos *rpos =
		policy_node_pos(&a->node, a->resolve ? "resolve" : "btfType");
	const struct btf *btf;
	struct resolve_end end;
	char why[256];
	uint32_t id;

	if (is_return) {
		fail(x, -EOPNOTSUPP, rpos, "resolve is not supported on the return value");
		return false;
	}
	if (a->btf_type_module) {
		fail(x, -EOPNOTSUPP, policy_node_pos(&a->node, "btfTypeModule"),
		     "btfTypeModule is not supported: btfType names a type of the kernel's own BTF");
		return false;
	}
	if (h->gh.kind == GEN_HOOK_SYSCALL || h->gh.flags & GEN_HF_SYSCALL_WRAPPER) {
		fail(x, -EINVAL, rpos,
		     "resolve follows kernel pointers: the arguments of a syscall are user memory "
		     "(hook a kernel function with syscall: false)");
		return false;
	}
	if (h->gh.kind == GEN_HOOK_UPROBE || (h->gh.kind == GEN_HOOK_TRACEPOINT && !h->raw)) {
		fail(x, -EOPNOTSUPP, rpos,
		     "resolve needs the BTF of the hook's arguments: kprobes, fentries, lsmhooks "
		     "and raw tracepoints have it, a %s does not",
		     h->mechanism);
		return false;
	}
	btf = kernel_btf(x, rpos);
	if (!btf)
		return false;
	if (a->btf_type) {
		int tid = btf__find_by_name_kind(btf, a->btf_type, BTF_KIND_STRUCT);

		if (tid < 0)
			tid = btf__find_by_name_kind(btf, a->btf_type, BTF_KIND_UNION);
		if (tid < 0) {
			fail(x, -EINVAL, policy_node_pos(&a->node, "btfType"),
			     "the kernel has no struct or union '%s'", a->btf_type);
			return false;
		}
		id = (uint32_t)tid;
		if (!a->resolve)
			return true;
	} else if (!param_type(x, btf, h, a->index, rpos, &id)) {
		return false;
	}
	if (compile_resolve(btf, id, a->resolve, &g->res, &end, why, sizeof(why)) < 0) {
		fail(x, -EINVAL, rpos, "cannot resolve '%s': %s", a->resolve, why);
		return false;
	}
	return resolve_fits(x, rpos, a, type, g, &end);
}

/*
 * Set up slot of the hook for policy argument a: how to read it. Returns false
 * (after reporting) when it cannot be read on this hook.
 */
static bool compile_arg(struct cctx *x, struct chook *h, const struct hook_src *src,
			const struct policy_arg *a, unsigned slot, bool is_return)
{
	struct gen_arg *g = &h->gh.args[slot];
	enum policy_arg_type type = a->type;
	const struct policy_pos *tpos = policy_node_pos(&a->node, "type");

	memset(g, 0, sizeof(*g));
	if (!is_return && src->kind == GEN_HOOK_TRACEPOINT) {
		const struct tp_field *f;

		if ((int)a->index >= src->n_fields) {
			fail(x, -EINVAL, policy_node_pos(&a->node, "index"),
			     "tracepoint %s/%s has %d fields (common fields included): no index %u",
			     h->subsys, h->event, src->n_fields, a->index);
			return false;
		}
		f = &src->fields[a->index];
		if (type == POLICY_ARG_AUTO)
			type = infer_type(f);
		g->offset = f->offset;
		g->size = (uint8_t)MIN(f->size, 8);
		if (type == POLICY_ARG_DATA_LOC || startswith(f->type, "__data_loc")) {
			type = POLICY_ARG_DATA_LOC;
			g->size = 4;
		} else if (strchr(f->type, '[') && gen_type(type) == GEN_ARG_STRING) {
			/* a char array inside the record */
			g->flags |= GEN_AF_INLINE;
			g->size = 0;
			g->max_len = f->size;
		}
	} else if (!is_return && (src->kind == GEN_HOOK_SYSCALL || src->kind == GEN_HOOK_UPROBE ||
				  src->kind == GEN_HOOK_KPROBE || src->kind == GEN_HOOK_FENTRY ||
				  src->kind == GEN_HOOK_LSM)) {
		if (a->index > 5) {
			fail(x, -EINVAL, policy_node_pos(&a->node, "index"),
			     "argument index %u is out of range: functions have 6 register arguments",
			     a->index);
			return false;
		}
		if (type == POLICY_ARG_AUTO) {
			fail(x, -EINVAL, tpos,
			     "the type of this argument cannot be taken from BTF on a %s hook: give a type",
			     h->mechanism);
			return false;
		}
		g->slot = (uint8_t)a->index;
		g->offset = (uint16_t)(16 + 8 * a->index);
		g->size = (uint8_t)type_size(type);
	} else if (is_return) {
		if (type == POLICY_ARG_AUTO) {
			fail(x, -EINVAL, tpos, "give the type of the return value");
			return false;
		}
	}
	g->type = gen_type(type);
	if (!g->type) {
		fail(x, -EOPNOTSUPP, tpos, "argument type '%s' cannot be read on a %s hook%s",
		     policy_arg_type_name(type), h->mechanism,
		     src->kind == GEN_HOOK_KPROBE ? "" :
						    "; hook a kernel function (kprobes) for it");
		return false;
	}
	if (is_kernel_object(g->type) &&
	    (src->kind == GEN_HOOK_SYSCALL || src->kind == GEN_HOOK_UPROBE)) {
		fail(x, -EINVAL, tpos,
		     "argument type '%s' is a kernel object: %s arguments are not kernel pointers",
		     policy_arg_type_name(type), h->mechanism);
		return false;
	}
	if (g->type == GEN_ARG_DATA_LOC && src->kind != GEN_HOOK_TRACEPOINT) {
		fail(x, -EINVAL, tpos, "data_loc is only for tracepoint fields");
		return false;
	}
	if (src->user_pointers && (g->type == GEN_ARG_STRING || g->type == GEN_ARG_CHAR_BUF ||
				   g->type == GEN_ARG_CHAR_IOVEC || g->type == GEN_ARG_SOCKADDR))
		g->flags |= GEN_AF_USER;
	if (!g->max_len)
		g->max_len = STRING_MAX;
	if (a->return_copy) {
		if (!h->gh.flags) {
			fail(x, -EINVAL, policy_node_pos(&a->node, "returnCopy"),
			     "returnCopy needs the hook's return value (return: true)");
			return false;
		}
		g->flags |= GEN_AF_RETURN_COPY | GEN_AF_SIZE_FROM_RET;
	}
	if (type == POLICY_ARG_CAP_EFFECTIVE || type == POLICY_ARG_CAP_PERMITTED ||
	    type == POLICY_ARG_CAP_INHERITABLE || type == POLICY_ARG_KERNEL_CAP_T) {
		if (src->kind != GEN_HOOK_TRACEPOINT)
			g->flags |= GEN_AF_DEREF;
	}
	if ((a->resolve || a->btf_type) && !compile_arg_resolve(x, h, a, type, g, is_return))
		return false;
	h->args[slot].type = type;
	h->args[slot].label = a->label;
	h->args[slot].present = true;
	return true;
}

/* The slot of the hook argument whose index is idx, or -1. */
static int slot_of_index(const struct policy_hook *ph, uint32_t idx)
{
	for (size_t i = 0; i < ph->nr_args; i++)
		if (ph->args[i].index == idx)
			return (int)i;
	return -1;
}

/* sizeArgIndex (1-based function argument) of char_buf and char_iovec arguments. */
static void compile_size_args(struct cctx *x, struct chook *h, const struct policy_hook *ph,
			      const struct hook_src *src)
{
	for (size_t i = 0; i < ph->nr_args; i++) {
		const struct policy_arg *a = &ph->args[i];
		struct gen_arg *g = &h->gh.args[i];
		int s;

		if (!a->size_arg_index)
			continue;
		if (g->type != GEN_ARG_CHAR_BUF && g->type != GEN_ARG_CHAR_IOVEC)
			continue;
		s = slot_of_index(ph, a->size_arg_index - 1);
		if (s < 0) {
			/* read the size argument without showing it */
			if (h->gh.n_args >= GEN_MAX_ARGS - 1) {
				fail(x, -EINVAL, policy_node_pos(&a->node, "sizeArgIndex"),
				     "no room to read argument %u as the size: list it in args",
				     a->size_arg_index - 1);
				continue;
			}
			s = h->gh.n_args++;
			memset(&h->gh.args[s], 0, sizeof(h->gh.args[s]));
			h->gh.args[s].type = GEN_ARG_UINT;
			h->gh.args[s].slot = (uint8_t)(a->size_arg_index - 1);
			h->gh.args[s].offset = (uint16_t)(16 + 8 * (a->size_arg_index - 1));
			h->gh.args[s].size = 8;
			if (src->kind == GEN_HOOK_TRACEPOINT) {
				if ((int)(a->size_arg_index - 1) >= src->n_fields) {
					fail(x, -EINVAL, policy_node_pos(&a->node, "sizeArgIndex"),
					     "no field %u in the tracepoint",
					     a->size_arg_index - 1);
					continue;
				}
				h->gh.args[s].offset = src->fields[a->size_arg_index - 1].offset;
				h->gh.args[s].size =
					(uint8_t)MIN(src->fields[a->size_arg_index - 1].size, 8);
			}
			h->args[s].present = false;
		}
		g->size_slot = (uint8_t)(s + 1);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Value sets */

static struct cset *new_set(struct cctx *x, enum cset_kind kind, const struct policy_pos *pos)
{
	struct cpolicy *c = x->c;
	struct cset *v, *s;
	uint32_t id;
	int r;

	r = sensor_generic_alloc_map_id(x->g, &id);
	if (r < 0) {
		fail(x, r, pos, "too many string, prefix and number filters on this node");
		return NULL;
	}
	v = realloc(c->sets, (c->n_sets + 1) * sizeof(*v));
	if (!v) {
		sensor_generic_free_map_id(x->g, id);
		fail(x, -ENOMEM, pos, "out of memory");
		return NULL;
	}
	c->sets = v;
	s = &c->sets[c->n_sets++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->map_id = id;
	return s;
}

static int set_add_str(struct cset *s, const char *str, size_t len)
{
	char **v = realloc(s->strs, (s->n + 1) * sizeof(*v));
	size_t *l;

	if (!v)
		return -ENOMEM;
	s->strs = v;
	l = realloc(s->lens, (s->n + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	s->lens = l;
	s->strs[s->n] = strndup(str, len);
	if (!s->strs[s->n])
		return -ENOMEM;
	s->lens[s->n] = len;
	s->n++;
	return 0;
}

static int set_add_num(struct cset *s, uint64_t v)
{
	uint64_t *n = realloc(s->nums, (s->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->nums = n;
	s->nums[s->n++] = v;
	return 0;
}

static int set_add_addr6(struct cset *s, const uint8_t addr[16], uint8_t plen)
{
	uint8_t(*a)[16] = realloc(s->addrs, (s->n + 1) * sizeof(*a));
	uint8_t *p;

	if (!a)
		return -ENOMEM;
	s->addrs = a;
	p = realloc(s->prefix_lens, (s->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->prefix_lens = p;
	memcpy(s->addrs[s->n], addr, 16);
	s->prefix_lens[s->n] = plen;
	s->n++;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Selectors */

/* Re-parse a filter value for the argument's real type (auto types are resolved late). */
static bool value_for(struct cctx *x, enum policy_arg_type type, enum policy_operator op,
		      const struct policy_value *in, struct policy_value *out)
{
	char why[256];
	int r;

	*out = *in;
	r = policy_value_parse(x->p, type, op, out, why, sizeof(why));
	if (r < 0) {
		fail(x, -EINVAL, &in->pos, "%s", why);
		return false;
	}
	return true;
}

static bool compile_arg_filter(struct cctx *x, struct chook *h, const struct policy_arg_filter *pf,
			       unsigned slot, struct gen_arg_filter *f)
{
	enum policy_arg_type type = h->args[slot].type;
	uint8_t gt = h->gh.args[slot].type;
	const struct policy_pos *opos = policy_node_pos(&pf->node, "operator");
	struct cset *set = NULL;
	int r = 0;

	memset(f, 0, sizeof(*f));
	f->slot = (uint8_t)slot;
	f->op = (uint8_t)pf->op;
	f->is_signed = type_is_signed(type);
	if (!policy_operator_supports(pf->op, type)) {
		fail(x, -EINVAL, opos, "operator '%s' does not apply to an argument of type '%s'",
		     policy_operator_name(pf->op), policy_arg_type_name(type));
		return false;
	}
	switch (pf->op) {
	case POLICY_OP_SUBSTRING:
	case POLICY_OP_SUBSTRING_IGN_CASE:
	case POLICY_OP_CEL_EXPR:
	case POLICY_OP_CAPABILITIES_GAINED:
		fail(x, -EOPNOTSUPP, opos, "operator '%s' is not supported by this agent",
		     policy_operator_name(pf->op));
		return false;
	case POLICY_OP_FILE_TYPE:
	case POLICY_OP_NOT_FILE_TYPE:
		/* the inode's mode is the header's value (see gen_arg_hdr) */
		if (gt != GEN_ARG_FILE && gt != GEN_ARG_PATH && gt != GEN_ARG_DENTRY) {
			fail(x, -EINVAL, opos, "operator '%s' applies to file, path and dentry",
			     policy_operator_name(pf->op));
			return false;
		}
		if (pf->nr_values > GEN_MAX_VALUES) {
			fail(x, -EINVAL, &pf->values[GEN_MAX_VALUES].pos, "at most %d file types",
			     GEN_MAX_VALUES);
			return false;
		}
		f->kind = GEN_VK_NUM;
		for (size_t i = 0; i < pf->nr_values; i++) {
			struct policy_value v;

			if (!value_for(x, type, pf->op, &pf->values[i], &v))
				return false;
			f->v[f->n++] = (int64_t)v.lo;
		}
		return true;
	default:
		break;
	}

	if (gt == GEN_ARG_SOCKADDR || is_net_object(gt)) {
		bool ports = pf->op == POLICY_OP_SPORT || pf->op == POLICY_OP_DPORT ||
			     pf->op == POLICY_OP_NOT_SPORT || pf->op == POLICY_OP_NOT_DPORT;
		bool addrs = pf->op == POLICY_OP_SADDR || pf->op == POLICY_OP_DADDR ||
			     pf->op == POLICY_OP_NOT_SADDR || pf->op == POLICY_OP_NOT_DADDR;
		/* sock, socket, skb: Family, Protocol and State are ranges like ports */
		bool ranges = ports || (is_net_object(gt) && (pf->op == POLICY_OP_FAMILY ||
							      pf->op == POLICY_OP_PROTOCOL ||
							      pf->op == POLICY_OP_STATE));

		f->kind = GEN_VK_ADDR;
		if (pf->op == POLICY_OP_SPORT_PRIV || pf->op == POLICY_OP_NOT_SPORT_PRIV ||
		    pf->op == POLICY_OP_DPORT_PRIV || pf->op == POLICY_OP_NOT_DPORT_PRIV)
			return true;
		if (pf->nr_values > GEN_MAX_VALUES / 2 && !addrs) {
			fail(x, -EINVAL, opos, "at most %d values", GEN_MAX_VALUES / 2);
			return false;
		}
		for (size_t i = 0; i < pf->nr_values; i++) {
			struct policy_value v;

			if (!value_for(x, type, pf->op, &pf->values[i], &v))
				return false;
			if (ranges) {
				f->v[2 * f->n] = (int64_t)v.lo;
				f->v[2 * f->n + 1] =
					(int64_t)(v.kind == POLICY_VALUE_RANGE ? v.hi : v.lo);
				f->n++;
			} else if (pf->op == POLICY_OP_FAMILY) {
				f->v[f->n++] = (int64_t)v.lo;
			} else if (ports) {
				f->v[2 * f->n] = (int64_t)v.lo;
				f->v[2 * f->n + 1] =
					(int64_t)(v.kind == POLICY_VALUE_RANGE ? v.hi : v.lo);
				f->n++;
			} else if (addrs && v.family == 2 /* AF_INET */) {
				uint32_t a = (uint32_t)v.addr[0] << 24 | (uint32_t)v.addr[1] << 16 |
					     (uint32_t)v.addr[2] << 8 | v.addr[3];
				uint32_t mask = v.prefix_len ? ~0u << (32 - v.prefix_len) : 0;

				if (f->n >= GEN_MAX_VALUES / 2) {
					fail(x, -EINVAL, &v.pos, "at most %d IPv4 addresses",
					     GEN_MAX_VALUES / 2);
					return false;
				}
				f->v[2 * f->n] = a & mask;
				f->v[2 * f->n + 1] = mask;
				f->n++;
			} else if (addrs) {
				if (!set) {
					set = new_set(x, CSET_ADDR6, opos);
					if (!set)
						return false;
					f->map_id = set->map_id;
				}
				r = set_add_addr6(set, v.addr, v.prefix_len);
			} else {
				fail(x, -EINVAL, opos, "operator '%s' does not apply to a %s",
				     policy_operator_name(pf->op), policy_arg_type_name(type));
				return false;
			}
		}
		return r == 0;
	}

	if (is_string_type(gt)) {
		enum cset_kind kind;

		switch (pf->op) {
		case POLICY_OP_EQUAL:
		case POLICY_OP_NOT_EQUAL:
			kind = CSET_STRINGS;
			break;
		case POLICY_OP_PREFIX:
		case POLICY_OP_NOT_PREFIX:
			kind = CSET_PREFIX;
			break;
		case POLICY_OP_POSTFIX:
		case POLICY_OP_NOT_POSTFIX:
			kind = CSET_POSTFIX;
			break;
		default:
			fail(x, -EINVAL, opos, "operator '%s' does not apply to strings",
			     policy_operator_name(pf->op));
			return false;
		}
		set = new_set(x, kind, opos);
		if (!set)
			return false;
		f->kind = GEN_VK_STR_MAP;
		f->map_id = set->map_id;
		for (size_t i = 0; i < pf->nr_values && r == 0; i++) {
			const char *s = pf->values[i].str;
			size_t len = strlen(s);

			if (kind == CSET_STRINGS && len >= STR_BUCKET_LARGE) {
				fail(x, -EINVAL, &pf->values[i].pos,
				     "strings compared with Equal are at most %d bytes",
				     STR_BUCKET_LARGE - 1);
				return false;
			}
			r = set_add_str(set, s, len);
		}
		return r == 0;
	}

	/* numbers */
	switch (pf->op) {
	case POLICY_OP_IN_MAP:
	case POLICY_OP_NOT_IN_MAP:
		set = new_set(x, CSET_NUMBERS, opos);
		if (!set)
			return false;
		f->kind = GEN_VK_NUM_MAP;
		f->map_id = set->map_id;
		for (size_t i = 0; i < pf->nr_values && r == 0; i++) {
			struct policy_value v;

			if (!value_for(x, type, pf->op, &pf->values[i], &v))
				return false;
			if (v.kind == POLICY_VALUE_LIST && v.list) {
				for (size_t k = 0; k < v.list->nr_values && r == 0; k++) {
					int nr = syscall_nr(v.list->values[k].str);

					if (nr < 0) {
						fail(x, -EINVAL, &v.list->values[k].pos,
						     "unknown syscall '%s'", v.list->values[k].str);
						return false;
					}
					r = set_add_num(set, (uint64_t)nr);
				}
			} else if (v.kind == POLICY_VALUE_RANGE) {
				for (uint64_t n = v.lo; n <= v.hi && r == 0; n++)
					r = set_add_num(set, n);
			} else if (v.kind == POLICY_VALUE_STRING && type == POLICY_ARG_SYSCALL64) {
				int nr = syscall_nr(v.str);

				if (nr < 0) {
					fail(x, -EINVAL, &v.pos, "unknown syscall '%s'", v.str);
					return false;
				}
				r = set_add_num(set, (uint64_t)nr);
			} else {
				r = set_add_num(set, v.lo);
			}
		}
		return r == 0;
	case POLICY_OP_IN_RANGE:
	case POLICY_OP_NOT_IN_RANGE:
		f->kind = GEN_VK_RANGE;
		for (size_t i = 0; i < pf->nr_values; i++) {
			struct policy_value v;

			if (!value_for(x, type, pf->op, &pf->values[i], &v))
				return false;
			f->v[2 * i] = (int64_t)v.lo;
			f->v[2 * i + 1] = (int64_t)(v.kind == POLICY_VALUE_RANGE ? v.hi : v.lo);
			f->n++;
		}
		return true;
	case POLICY_OP_EQUAL:
	case POLICY_OP_NOT_EQUAL:
	case POLICY_OP_GT:
	case POLICY_OP_LT:
	case POLICY_OP_MASK:
		f->kind = GEN_VK_NUM;
		for (size_t i = 0; i < pf->nr_values; i++) {
			struct policy_value v;

			if (!value_for(x, type, pf->op, &pf->values[i], &v))
				return false;
			if (v.kind == POLICY_VALUE_STRING && type == POLICY_ARG_SYSCALL64) {
				int nr = syscall_nr(v.str);

				if (nr < 0) {
					fail(x, -EINVAL, &v.pos, "unknown syscall '%s'", v.str);
					return false;
				}
				v.lo = (uint64_t)nr;
			}
			f->v[f->n++] = (int64_t)v.lo;
		}
		return true;
	default:
		fail(x, -EINVAL, opos, "operator '%s' does not apply to numbers",
		     policy_operator_name(pf->op));
		return false;
	}
}

static bool compile_binaries(struct cctx *x, const struct policy_binary_filter *b, uint8_t *op,
			     uint32_t *map_id, uint64_t *bit, uint8_t *flags)
{
	const struct policy_pos *opos = policy_node_pos(&b->node, "operator");
	enum cset_kind kind;
	struct cset *set;
	int r = 0;

	switch (b->op) {
	case POLICY_OP_IN:
	case POLICY_OP_NOT_IN:
		kind = CSET_STRINGS;
		break;
	case POLICY_OP_PREFIX:
	case POLICY_OP_NOT_PREFIX:
		kind = CSET_PREFIX;
		break;
	case POLICY_OP_POSTFIX:
	case POLICY_OP_NOT_POSTFIX:
		kind = CSET_POSTFIX;
		break;
	default:
		fail(x, -EINVAL, opos, "operator '%s' does not apply to binaries",
		     policy_operator_name(b->op));
		return false;
	}
	set = new_set(x, kind, opos);
	if (!set)
		return false;
	*op = (uint8_t)b->op;
	*map_id = set->map_id;
	for (size_t i = 0; i < b->nr_values && r == 0; i++)
		r = set_add_str(set, b->values[i].str, strlen(b->values[i].str));
	if (r == 0 && b->follow_children && bit) {
		struct cbin_set *v;

		r = sensor_generic_alloc_bin_bit(x->g, bit);
		if (r < 0) {
			fail(x, r, policy_node_pos(&b->node, "followChildren"),
			     "no more than 64 followChildren sets on a node");
			return false;
		}
		x->c->bin_bits |= *bit;
		*flags |= GEN_BF_FOLLOW_CHILDREN;
		for (size_t i = 0; i < b->nr_values && r == 0; i++) {
			v = realloc(x->c->bin_sets, (x->c->n_bin_sets + 1) * sizeof(*v));
			if (!v)
				return false;
			x->c->bin_sets = v;
			v[x->c->n_bin_sets].path = strdup(b->values[i].str);
			v[x->c->n_bin_sets].bit = *bit;
			if (!v[x->c->n_bin_sets].path)
				return false;
			x->c->n_bin_sets++;
		}
	}
	return r == 0;
}

static bool compile_action(struct cctx *x, struct chook *h, const struct policy_hook *ph,
			   const struct policy_action *pa, struct gen_action *a,
			   struct csel_meta *meta)
{
	const struct policy_pos *pos = policy_node_pos(&pa->node, "action");
	int s;

	memset(a, 0, sizeof(*a));
	a->type = (uint8_t)pa->action;
	switch (pa->action) {
	case POLICY_ACTION_POST:
		a->rate_limit_ns = pa->rate_limit_ms * 1000000ull;
		a->scope = pa->rate_limit_scope == POLICY_RATE_LIMIT_PROCESS ? GEN_RL_PROCESS :
			   pa->rate_limit_scope == POLICY_RATE_LIMIT_GLOBAL  ? GEN_RL_GLOBAL :
									       GEN_RL_THREAD;
		if (pa->kernel_stack_trace)
			a->flags |= GEN_ACTF_KSTACK;
		if (pa->user_stack_trace)
			a->flags |= GEN_ACTF_USTACK;
		if (pa->ima_hash) {
			fail(x, -EOPNOTSUPP, policy_node_pos(&pa->node, "imaHash"),
			     "imaHash needs BPF LSM hooks, which this agent does not use here");
			return false;
		}
		return true;
	case POLICY_ACTION_NO_POST:
		return true;
	case POLICY_ACTION_SIGKILL:
		a->arg = 9;
		x->c->has_enforcement = true;
		return true;
	case POLICY_ACTION_SIGNAL:
		a->arg = (int32_t)pa->arg_sig;
		x->c->has_enforcement = true;
		return true;
	case POLICY_ACTION_FOLLOW_FD:
	case POLICY_ACTION_UNFOLLOW_FD:
	case POLICY_ACTION_COPY_FD:
		s = slot_of_index(ph, pa->arg_fd);
		if (s < 0) {
			fail(x, -EINVAL, policy_node_pos(&pa->node, "argFd"),
			     "argFd %u names no argument of the hook", pa->arg_fd);
			return false;
		}
		a->arg = s;
		if (pa->action != POLICY_ACTION_UNFOLLOW_FD) {
			int n = slot_of_index(ph, pa->arg_name);

			if (n < 0) {
				fail(x, -EINVAL, policy_node_pos(&pa->node, "argName"),
				     "argName %u names no argument of the hook", pa->arg_name);
				return false;
			}
			a->arg2 = (uint32_t)n;
		}
		return true;
	case POLICY_ACTION_GET_URL:
		if (!startswith(pa->arg_url, "http://")) {
			fail(x, -EOPNOTSUPP, policy_node_pos(&pa->node, "argUrl"),
			     "GetUrl supports http:// URLs only");
			return false;
		}
		meta->url = pa->arg_url;
		return true;
	case POLICY_ACTION_DNS_LOOKUP:
		meta->fqdn = pa->arg_fqdn;
		return true;
	case POLICY_ACTION_OVERRIDE:
		if (h->override) {
			/* the hook's mechanism was chosen for it (see compile_kfunc) */
			a->arg = (int32_t)pa->arg_error;
			x->c->has_enforcement = true;
			return true;
		}
		if (h->gh.kind == GEN_HOOK_SYSCALL)
			fail(x, -EOPNOTSUPP, pos,
			     "Override on a syscall needs bpf_override_return (kprobes with "
			     "CONFIG_BPF_KPROBE_OVERRIDE), which %s",
			     x->kf->kprobe ? "this kernel does not have (no error injection)" :
					     "this kernel does not allow (no kprobes)");
		else
			fail(x, -EOPNOTSUPP, pos, "Override is not possible on a %s hook",
			     h->mechanism);
		return false;
	default:
		fail(x, -EOPNOTSUPP, pos, "action '%s' is not supported on a %s hook",
		     policy_action_name(pa->action), h->mechanism);
		return false;
	}
}

static bool compile_cap_filter(struct cctx *x, const struct policy_cap_filter *pc,
			       struct gen_cap_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->type = pc->type == POLICY_CAP_INHERITABLE ? 1 : pc->type == POLICY_CAP_PERMITTED ? 2 : 0;
	f->op = (uint8_t)pc->op;
	f->ns_cap = pc->is_namespace_capability;
	for (size_t i = 0; i < pc->nr_values; i++)
		f->mask |= 1ull << (pc->values[i].lo & 63);
	return true;
}

static bool compile_selector(struct cctx *x, struct chook *h, const struct policy_hook *ph,
			     const struct policy_selector *ps, struct gen_selector *s,
			     struct csel_meta *meta)
{
	bool ok = true;

	memset(s, 0, sizeof(*s));
	meta->label = ps->label;
	if (ps->nr_match_workloads) {
		fail(x, -EOPNOTSUPP, &ps->match_workloads[0].node.pos,
		     "matchWorkloads needs the Kubernetes API, which this agent does not use");
		return false;
	}
	if (ps->nr_match_args + ps->nr_match_data > GEN_MAX_ARG_FILTERS) {
		fail(x, -EINVAL, &ps->node.pos, "at most %d matchArgs and matchData filters",
		     GEN_MAX_ARG_FILTERS);
		return false;
	}
	for (size_t i = 0; i < ps->nr_match_args && ok; i++) {
		const struct policy_arg_filter *pf = &ps->match_args[i];
		int slot = slot_of_index(ph, pf->index);

		if (pf->nr_args) {
			fail(x, -EOPNOTSUPP, policy_node_pos(&pf->node, "args"),
			     "matchArgs 'args' lists are not supported; use index");
			return false;
		}
		if (slot < 0) {
			fail(x, -EINVAL, policy_node_pos(&pf->node, "index"),
			     "index %u names no argument of the hook", pf->index);
			return false;
		}
		ok = compile_arg_filter(x, h, pf, (unsigned)slot, &s->args[s->n_args++]);
	}
	for (size_t i = 0; i < ps->nr_match_data && ok; i++) {
		const struct policy_arg_filter *pf = &ps->match_data[i];

		if (pf->index >= ph->nr_data) {
			fail(x, -EINVAL, policy_node_pos(&pf->node, "index"),
			     "index %u names no data of the hook", pf->index);
			return false;
		}
		ok = compile_arg_filter(x, h, pf, (unsigned)(ph->nr_args + pf->index),
					&s->args[s->n_args++]);
	}
	if (ps->nr_match_return_args > GEN_MAX_RET_FILTERS) {
		fail(x, -EINVAL, &ps->match_return_args[GEN_MAX_RET_FILTERS].node.pos,
		     "at most %d matchReturnArgs filters", GEN_MAX_RET_FILTERS);
		return false;
	}
	for (size_t i = 0; i < ps->nr_match_return_args && ok; i++)
		ok = compile_arg_filter(x, h, &ps->match_return_args[i], GEN_RET_ARG,
					&s->rets[s->n_rets++]);
	if (!ok)
		return false;

	if (ps->nr_match_pids > 1) {
		fail(x, -EOPNOTSUPP, &ps->match_pids[1].node.pos,
		     "one matchPIDs filter per selector is supported");
		return false;
	}
	if (ps->nr_match_pids) {
		const struct policy_pid_filter *pp = &ps->match_pids[0];

		s->flags |= GEN_SF_PIDS;
		s->pid_op = (uint8_t)pp->op;
		if (pp->is_namespace_pid)
			s->pid_flags |= GEN_PF_NAMESPACE_PID;
		if (pp->follow_forks)
			s->pid_flags |= GEN_PF_FOLLOW_FORKS;
		for (size_t i = 0; i < pp->nr_values && i < GEN_MAX_PIDS; i++)
			s->pids[s->n_pids++] = (uint32_t)pp->values[i].val;
	}
	if (ps->nr_match_binaries) {
		s->flags |= GEN_SF_BINARIES;
		if (!compile_binaries(x, &ps->match_binaries[0], &s->bin_op, &s->bin_map_id,
				      (uint64_t *)&s->bin_set_bit, &s->bin_flags))
			return false;
	}
	if (ps->nr_match_parent_binaries) {
		uint8_t unused = 0;

		s->flags |= GEN_SF_PARENT_BINARIES;
		if (ps->match_parent_binaries[0].follow_children) {
			fail(x, -EOPNOTSUPP,
			     policy_node_pos(&ps->match_parent_binaries[0].node, "followChildren"),
			     "followChildren is for matchBinaries");
			return false;
		}
		if (!compile_binaries(x, &ps->match_parent_binaries[0], &s->pbin_op,
				      &s->pbin_map_id, NULL, &unused))
			return false;
	}
	for (size_t i = 0; i < ps->nr_match_namespaces; i++) {
		const struct policy_ns_filter *pn = &ps->match_namespaces[i];
		struct gen_ns_filter *f = &s->ns[s->n_ns++];

		s->flags |= GEN_SF_NAMESPACES;
		f->ns = (uint8_t)pn->ns;
		f->op = (uint8_t)pn->op;
		for (size_t k = 0; k < pn->nr_values && k < 4; k++)
			f->inum[f->n++] = pn->values[k].kind == POLICY_VALUE_HOST_NS ?
						  x->host_ns[pn->ns] :
						  (uint32_t)pn->values[k].lo;
	}
	if (ps->nr_match_namespace_changes) {
		const struct policy_ns_change_filter *pn = &ps->match_namespace_changes[0];

		s->flags |= GEN_SF_NS_CHANGES;
		s->ns_change_op = (uint8_t)pn->op;
		for (size_t k = 0; k < pn->nr_values; k++)
			s->ns_change_mask |= (uint16_t)(1u << pn->values[k].lo);
	}
	if (ps->nr_match_capabilities) {
		s->flags |= GEN_SF_CAPS;
		compile_cap_filter(x, &ps->match_capabilities[0], &s->caps);
	}
	if (ps->nr_match_capability_changes) {
		s->flags |= GEN_SF_CAP_CHANGES;
		compile_cap_filter(x, &ps->match_capability_changes[0], &s->cap_changes);
	}
	for (size_t i = 0; i < ps->nr_match_actions && ok; i++)
		ok = compile_action(x, h, ph, &ps->match_actions[i], &s->actions[s->n_actions++],
				    meta);
	for (size_t i = 0; i < ps->nr_match_return_actions && ok; i++)
		ok = compile_action(x, h, ph, &ps->match_return_actions[i],
				    &s->ret_actions[s->n_ret_actions++], meta);
	if (ok && (ps->nr_match_return_args || ps->nr_match_return_actions) &&
	    !(h->gh.flags & GEN_HF_RETURN)) {
		fail(x, -EINVAL, &ps->node.pos,
		     "matchReturnArgs and matchReturnActions need return: true and a returnArg");
		return false;
	}
	return ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Hooks */

static struct chook *new_hook(struct cctx *x, enum policy_hook_kind section, unsigned index,
			      const struct policy_hook *ph, int kind, const char *mechanism)
{
	struct cpolicy *c = x->c;
	struct chook *v, *h;
	uint32_t id;
	int r;

	r = sensor_generic_alloc_hook_id(x->g, &id);
	if (r < 0) {
		fail(x, r, &ph->node.pos, "too many hooks on this node");
		return NULL;
	}
	v = realloc(c->hooks, (c->n_hooks + 1) * sizeof(*v));
	if (!v) {
		sensor_generic_free_hook_id(x->g, id);
		fail(x, -ENOMEM, &ph->node.pos, "out of memory");
		return NULL;
	}
	c->hooks = v;
	h = &c->hooks[c->n_hooks++];
	memset(h, 0, sizeof(*h));
	h->section = section;
	h->index = index;
	h->gh.hook_id = id;
	h->gh.policy_id = c->policy_id;
	h->gh.kind = (uint8_t)kind;
	h->mechanism = strdup(mechanism);
	h->message = ph->message;
	if (ph->nr_tags) {
		h->tags = calloc(ph->nr_tags, sizeof(char *));
		if (h->tags)
			for (size_t i = 0; i < ph->nr_tags; i++)
				h->tags[h->n_tags++] = (char *)ph->tags[i].str;
	}
	return h;
}

/* Arguments, selectors: what every kind of hook shares once its source is known. */
static void compile_body(struct cctx *x, struct chook *h, const struct policy_hook *ph,
			 const struct hook_src *src)
{
	bool ok = true;

	/* returnCopy reads a buffer when the function returns: that needs the return side */
	for (size_t i = 0; i < ph->nr_args; i++)
		if (ph->args[i].return_copy)
			h->gh.flags |= GEN_HF_RETURN;
	if (ph->ret) {
		h->gh.flags |= GEN_HF_RETURN;
		if (!ph->return_arg) {
			fail(x, -EINVAL, policy_node_pos(&ph->node, "return"),
			     "return: true needs a returnArg");
			return;
		}
	}
	if (ph->nr_args + ph->nr_data > GEN_MAX_ARGS - 1) {
		fail(x, -EINVAL, &ph->node.pos, "at most %d args and data", GEN_MAX_ARGS - 1);
		return;
	}
	if (ph->nr_data) {
		fail(x, -EOPNOTSUPP, policy_node_pos(&ph->node, "data"),
		     "data (current_task, pt_regs) is not supported on a %s hook", h->mechanism);
		return;
	}
	for (size_t i = 0; i < ph->nr_args && ok; i++)
		ok = compile_arg(x, h, src, &ph->args[i], (unsigned)i, false);
	if (!ok)
		return;
	h->gh.n_args = (uint8_t)ph->nr_args;
	compile_size_args(x, h, ph, src);
	if (ph->return_arg && ph->ret) {
		if (!compile_arg(x, h, src, ph->return_arg, GEN_RET_ARG, true))
			return;
		/* the return value is the raw value; no reading from memory */
		if (h->gh.args[GEN_RET_ARG].type != GEN_ARG_INT &&
		    h->gh.args[GEN_RET_ARG].type != GEN_ARG_UINT) {
			fail(x, -EOPNOTSUPP, policy_node_pos(&ph->return_arg->node, "type"),
			     "the return value is read as a number here");
			return;
		}
	}
	if (ph->nr_selectors > GEN_MAX_SELECTORS) {
		fail(x, -EINVAL, policy_node_pos(&ph->node, "selectors"), "at most %d selectors",
		     GEN_MAX_SELECTORS);
		return;
	}
	for (size_t i = 0; i < ph->nr_selectors && ok; i++)
		ok = compile_selector(x, h, ph, &ph->selectors[i], &h->sel[i], &h->sel_meta[i]);
	h->gh.n_selectors = (uint8_t)ph->nr_selectors;
}

/* return: true, or an argument read at the return (returnCopy) */
static bool hook_needs_return(const struct policy_hook *ph)
{
	if (ph->ret)
		return true;
	for (size_t i = 0; i < ph->nr_args; i++)
		if (ph->args[i].return_copy)
			return true;
	return false;
}

static bool hook_has_override(const struct policy_hook *ph)
{
	for (size_t i = 0; i < ph->nr_selectors; i++) {
		const struct policy_selector *ps = &ph->selectors[i];

		for (size_t k = 0; k < ps->nr_match_actions; k++)
			if (ps->match_actions[k].action == POLICY_ACTION_OVERRIDE)
				return true;
		for (size_t k = 0; k < ps->nr_match_return_actions; k++)
			if (ps->match_return_actions[k].action == POLICY_ACTION_OVERRIDE)
				return true;
	}
	return false;
}

/*
 * The kernel functions kprobes and trampolines can hook, from tracefs'
 * available_filter_functions, read once and kept sorted (reread when a name is
 * missing and the list is older than a few seconds: modules come and go).
 */
static struct {
	char **names;
	size_t n;
	uint64_t read_ns;
	bool unavailable;
} kfuncs;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void kfuncs_load(void)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	size_t cap = 0;
	int r;

	for (size_t i = 0; i < kfuncs.n; i++)
		free(kfuncs.names[i]);
	free(kfuncs.names);
	memset(&kfuncs, 0, sizeof(kfuncs));
	r = read_file(TRACEFS "/available_filter_functions", 64 << 20, &text, NULL);
	if (r < 0)
		r = read_file("/sys/kernel/debug/tracing/available_filter_functions", 64 << 20,
			      &text, NULL);
	kfuncs.read_ns = now_monotonic_ns();
	if (r < 0) {
		kfuncs.unavailable = true;
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (sp)
			*sp = '\0'; /* "name [module]" */
		if (kfuncs.n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char **v = realloc(kfuncs.names, ncap * sizeof(*v));

			if (!v)
				break;
			kfuncs.names = v;
			cap = ncap;
		}
		kfuncs.names[kfuncs.n] = strdup(line);
		if (kfuncs.names[kfuncs.n])
			kfuncs.n++;
	}
	qsort(kfuncs.names, kfuncs.n, sizeof(char *), cmp_str);
}

/* 1: hookable, 0: not, -1: cannot tell (no tracefs list). */
static int kfunc_exists(const char *name)
{
	for (int pass = 0; pass < 2; pass++) {
		if (!kfuncs.read_ns ||
		    (pass == 1 && now_monotonic_ns() - kfuncs.read_ns > 5000000000ull))
			kfuncs_load();
		else if (pass == 1)
			break;
		if (kfuncs.unavailable)
			return -1;
		if (bsearch(&name, kfuncs.names, kfuncs.n, sizeof(char *), cmp_str))
			return 1;
	}
	return 0;
}

static void compile_syscall(struct cctx *x, const struct policy_hook *ph, unsigned index,
			    const char *call)
{
	const char *base = syscall_base_name(call);
	struct hook_src src = { .kind = GEN_HOOK_SYSCALL, .user_pointers = true };
	char enter[128], exit_name[128];
	struct chook *h;

	snprintf(enter, sizeof(enter), "sys_enter_%s", base);
	snprintf(exit_name, sizeof(exit_name), "sys_exit_%s", base);
	if (!tracepoint_exists("syscalls", enter)) {
		if (syscall_nr(base) < 0)
			fail(x, -ENOENT, policy_node_pos(&ph->node, "call"),
			     "'%s' is not a system call of this architecture", call);
		else
			fail(x, -ENOENT, policy_node_pos(&ph->node, "call"),
			     "this kernel has no tracepoint syscalls:%s (CONFIG_FTRACE_SYSCALLS)",
			     enter);
		return;
	}
	h = new_hook(x, POLICY_HOOK_KPROBE, index, ph, GEN_HOOK_SYSCALL, "syscall tracepoint");
	if (!h)
		return;
	h->tp_category = strdup("syscalls");
	h->tp_name = strdup(enter);
	if (hook_needs_return(ph))
		h->tp_exit_name = strdup(exit_name);
	if (asprintf(&h->function_name, "%ssys_%s", syscall_arch_prefix(), base) < 0)
		h->function_name = NULL;
	if (asprintf(&h->description, "syscalls:%s%s%s", enter, hook_needs_return(ph) ? " + " : "",
		     hook_needs_return(ph) ? exit_name : "") < 0)
		h->description = NULL;
	compile_body(x, h, ph, &src);
}

static const char *attach_name(enum chook_attach a)
{
	switch (a) {
	case CATT_KPROBE:
		return "kprobe";
	case CATT_KPROBE_MULTI:
		return "kprobe.multi";
	case CATT_FENTRY:
		return "fentry";
	case CATT_FMOD_RET:
		return "fmod_ret";
	case CATT_LSM:
		return "BPF LSM";
	default:
		return "?";
	}
}

static void ignore_missing(struct cctx *x, const char *func, unsigned index)
{
	char **v = realloc(x->c->ignored, (x->c->n_ignored + 1) * sizeof(*v));
	unsigned *iv;

	if (!v)
		return;
	x->c->ignored = v;
	iv = realloc(x->c->ignored_idx, (x->c->n_ignored + 1) * sizeof(*iv));
	if (!iv)
		return;
	x->c->ignored_idx = iv;
	iv[x->c->n_ignored] = index;
	v[x->c->n_ignored] = strdup(func);
	if (v[x->c->n_ignored])
		x->c->n_ignored++;
}

/*
 * A kernel function (or a syscall's wrapper): kprobe or kprobe.multi first,
 * fentry where kprobes are missing; with Override, bpf_override_return on a
 * kprobe or fmod_ret on security_* functions (fentries: always trampolines).
 */
static void compile_kfunc(struct cctx *x, const struct policy_hook *ph, unsigned index,
			  enum policy_hook_kind section, const char *call)
{
	const struct policy_options *o = &x->p->spec.options;
	bool syscall = ph->kprobe.syscall, override = hook_has_override(ph);
	bool want_fentry = section == POLICY_HOOK_FENTRY;
	struct hook_src src = { .kind = syscall ? GEN_HOOK_SYSCALL : GEN_HOOK_KPROBE,
				.user_pointers = syscall };
	const struct policy_pos *cpos = policy_node_pos(&ph->node, "call");
	enum chook_attach att;
	char func[256];
	struct chook *h;
	int exists;

	if (syscall)
		snprintf(func, sizeof(func), "%ssys_%s", syscall_arch_prefix(),
			 syscall_base_name(call));
	else
		snprintf(func, sizeof(func), "%s", call);

	if (!want_fentry && !x->kf->kprobe && !x->kf->fentry) {
		if (syscall) {
			compile_syscall(x, ph, index, call);
			return;
		}
		fail(x, -EOPNOTSUPP, cpos,
		     "'%s' is a kernel function: hooking it needs kprobes or fentry, and this "
		     "kernel has no kprobes (CONFIG_KPROBES) and refuses fentry programs",
		     call);
		return;
	}
	if (want_fentry && !x->kf->fentry) {
		fail(x, -EOPNOTSUPP, cpos,
		     "fentries need fentry programs (BPF trampolines), which this kernel refuses");
		return;
	}
	exists = kfunc_exists(func);
	if (exists == 0) {
		if (ph->ignore.call_not_found) {
			ignore_missing(x, func, index);
			return;
		}
		fail(x, -ENOENT, cpos,
		     "'%s' cannot be hooked on this kernel: it is not in "
		     "available_filter_functions (set ignore.callNotFound to skip it)",
		     func);
		return;
	}

	if (override) {
		bool security = startswith(func, "security_");
		bool fmod_ok = security && x->kf->fmod_ret &&
			       o->override_method != POLICY_OVERRIDE_RETURN;
		bool kprobe_ok = !want_fentry && x->kf->kprobe && x->kf->override_return &&
				 o->override_method != POLICY_OVERRIDE_FMOD_RET;

		if (kprobe_ok && !(want_fentry && fmod_ok)) {
			att = x->kf->kprobe_multi && !o->disable_kprobe_multi ? CATT_KPROBE_MULTI :
										CATT_KPROBE;
		} else if (fmod_ok) {
			att = CATT_FMOD_RET;
		} else {
			fail(x, -EOPNOTSUPP, cpos, "Override on '%s' needs %s; this kernel %s",
			     func,
			     security ?
				     "bpf_override_return or fmod_ret" :
				     "bpf_override_return (fmod_ret works on security_* functions only)",
			     !x->kf->override_return && !(security && x->kf->fmod_ret) ?
				     "has neither (no CONFIG_BPF_KPROBE_OVERRIDE, no error injection)" :
				     "has them, but not with this policy's override-method");
			return;
		}
	} else if (want_fentry || !x->kf->kprobe) {
		att = CATT_FENTRY;
	} else {
		att = x->kf->kprobe_multi && !o->disable_kprobe_multi ? CATT_KPROBE_MULTI :
									CATT_KPROBE;
	}

	{
		bool ret = hook_needs_return(ph);
		char mech[64];

		snprintf(mech, sizeof(mech), "%s%s", attach_name(att),
			 !ret					    ? "" :
			 att == CATT_FENTRY || att == CATT_FMOD_RET ? " + fexit" :
			 att == CATT_KPROBE_MULTI		    ? " + kretprobe.multi" :
								      " + kretprobe");
		h = new_hook(x, section, index, ph, GEN_HOOK_KPROBE, mech);
	}
	if (!h)
		return;
	if (att == CATT_FENTRY || att == CATT_FMOD_RET)
		h->gh.kind = GEN_HOOK_FENTRY;
	h->attach = att;
	h->override = override;
	h->kfunc = strdup(func);
	h->function_name = strdup(func);
	h->description = strdup(func);
	if (syscall)
		h->gh.flags |= GEN_HF_SYSCALL_WRAPPER;
	compile_body(x, h, ph, &src);
}

static void compile_kprobe(struct cctx *x, const struct policy_hook *ph, unsigned index,
			   enum policy_hook_kind section)
{
	if (ph->kprobe.call_list) {
		const struct policy_list *l = ph->kprobe.call_list;

		for (size_t i = 0; i < l->nr_values; i++)
			compile_kfunc(x, ph, index, section, l->values[i].str);
		return;
	}
	compile_kfunc(x, ph, index, section, ph->kprobe.call);
}

static void compile_lsm(struct cctx *x, const struct policy_hook *ph, unsigned index)
{
	struct hook_src src = { .kind = GEN_HOOK_LSM };
	const struct policy_pos *pos = policy_node_pos(&ph->node, "hook");
	char func[256];
	struct chook *h;

	if (!x->kf->lsm) {
		fail(x, -EOPNOTSUPP, pos,
		     "lsmhooks need BPF LSM programs, which this kernel refuses (CONFIG_BPF_LSM, "
		     "and 'bpf' in the lsm= boot parameter)");
		return;
	}
	snprintf(func, sizeof(func), "bpf_lsm_%s", ph->lsm.hook);
	if (kfunc_exists(func) == 0) {
		fail(x, -ENOENT, pos, "'%s' is not an LSM hook of this kernel", ph->lsm.hook);
		return;
	}
	if (hook_needs_return(ph)) {
		fail(x, -EINVAL, policy_node_pos(&ph->node, "return"),
		     "LSM hooks have no return value to report: they are the verdict");
		return;
	}
	h = new_hook(x, POLICY_HOOK_LSM, index, ph, GEN_HOOK_LSM, "BPF LSM");
	if (!h)
		return;
	h->attach = CATT_LSM;
	h->override = hook_has_override(ph);
	h->kfunc = strdup(ph->lsm.hook);
	h->function_name = strdup(ph->lsm.hook);
	h->description = strdup(ph->lsm.hook);
	compile_body(x, h, ph, &src);
}

static void compile_tracepoint(struct cctx *x, const struct policy_hook *ph, unsigned index)
{
	struct tp_field fields[64];
	struct hook_src src = { .kind = GEN_HOOK_TRACEPOINT, .fields = fields };
	struct chook *h;
	int n;

	if (ph->tp.raw) {
		src.kind = GEN_HOOK_TRACEPOINT;
		h = new_hook(x, POLICY_HOOK_TRACEPOINT, index, ph, GEN_HOOK_TRACEPOINT,
			     "raw tracepoint");
		if (!h)
			return;
		h->raw = true;
		h->attach = CATT_RAW_TP;
		h->subsys = ph->tp.subsystem;
		h->event = ph->tp.event;
		h->tp_category = strdup(ph->tp.subsystem);
		h->tp_name = strdup(ph->tp.event);
		if (asprintf(&h->description, "raw_tp:%s", ph->tp.event) < 0)
			h->description = NULL;
		/* raw arguments are the TP_PROTO ones: registers, as for functions */
		src.kind = GEN_HOOK_FENTRY;
		if (!tracepoint_exists(ph->tp.subsystem, ph->tp.event)) {
			fail(x, -ENOENT, &ph->node.pos, "no tracepoint %s/%s on this kernel",
			     ph->tp.subsystem, ph->tp.event);
			return;
		}
		compile_body(x, h, ph, &src);
		return;
	}
	n = tracepoint_format(ph->tp.subsystem, ph->tp.event, fields, ARRAY_SIZE(fields));
	if (n < 0) {
		fail(x, n == -ENOENT ? -ENOENT : n, &ph->node.pos,
		     n == -ENOENT ? "no tracepoint %s/%s on this kernel" :
				    "cannot read the format of tracepoint %s/%s",
		     ph->tp.subsystem, ph->tp.event);
		return;
	}
	src.n_fields = n;
	h = new_hook(x, POLICY_HOOK_TRACEPOINT, index, ph, GEN_HOOK_TRACEPOINT, "tracepoint");
	if (!h)
		return;
	h->subsys = ph->tp.subsystem;
	h->event = ph->tp.event;
	h->tp_category = strdup(ph->tp.subsystem);
	h->tp_name = strdup(ph->tp.event);
	if (asprintf(&h->description, "%s:%s", ph->tp.subsystem, ph->tp.event) < 0)
		h->description = NULL;
	compile_body(x, h, ph, &src);
}

static void compile_uprobe(struct cctx *x, const struct policy_hook *ph, unsigned index)
{
	struct hook_src src = { .kind = GEN_HOOK_UPROBE, .user_pointers = true };
	size_t n = ph->uprobe.nr_symbols + ph->uprobe.nr_offsets + ph->uprobe.nr_addrs;
	struct stat st;

	if (stat(ph->uprobe.path, &st) < 0) {
		fail(x, -ENOENT, policy_node_pos(&ph->node, "path"), "cannot read '%s': %s",
		     ph->uprobe.path, strerror(errno));
		return;
	}
	if (ph->uprobe.nr_ref_ctr_offsets || ph->uprobe.nr_binary_digests) {
		fail(x, -EOPNOTSUPP, &ph->node.pos,
		     "refCtrOffsets and binaryDigests are not supported by this agent");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct chook *h =
			new_hook(x, POLICY_HOOK_UPROBE, index, ph, GEN_HOOK_UPROBE, "uprobe");

		if (!h)
			return;
		h->path = ph->uprobe.path;
		h->attach = CATT_UPROBE;
		h->uprobe_path = strdup(ph->uprobe.path);
		if (i < ph->uprobe.nr_symbols) {
			h->uprobe_symbol = strdup(ph->uprobe.symbols[i].str);
			h->function_name = strdup(ph->uprobe.symbols[i].str);
		} else if (i < ph->uprobe.nr_symbols + ph->uprobe.nr_offsets) {
			h->uprobe_offset = ph->uprobe.offsets[i - ph->uprobe.nr_symbols].val;
			if (asprintf(&h->function_name, "0x%llx",
				     (unsigned long long)h->uprobe_offset) < 0)
				h->function_name = NULL;
		} else {
			fail(x, -EOPNOTSUPP, policy_node_pos(&ph->node, "addrs"),
			     "uprobe addrs are not supported; give symbols or offsets");
			return;
		}
		if (asprintf(&h->description, "uprobe %s:%s%s", ph->uprobe.path, h->function_name,
			     ph->ret ? " + uretprobe" : "") < 0)
			h->description = NULL;
		compile_body(x, h, ph, &src);
	}
}

static bool selector_empty(const struct policy_label_selector *s)
{
	return !s->present || (!s->nr_match_labels && !s->nr_match_expressions);
}

/*
 * A policy that follows fds (FollowFD) reads its fd arguments from what it
 * followed, and an fd it did not follow makes the hook skip the event, as
 * Tetragon's fd type does.
 */
static void follow_fd_semantics(struct cpolicy *c)
{
	bool follows = false;

	for (size_t i = 0; i < c->n_hooks && !follows; i++)
		for (unsigned k = 0; k < c->hooks[i].gh.n_selectors && !follows; k++)
			for (unsigned a = 0; a < c->hooks[i].sel[k].n_actions; a++)
				if (c->hooks[i].sel[k].actions[a].type == GEN_ACT_FOLLOW_FD)
					follows = true;
	if (!follows)
		return;
	for (size_t i = 0; i < c->n_hooks; i++)
		for (unsigned k = 0; k < GEN_MAX_ARGS - 1; k++)
			if (c->hooks[i].gh.args[k].type == GEN_ARG_FD)
				c->hooks[i].gh.args[k].flags |= GEN_AF_FOLLOWED_ONLY;
}

int compile_policy(const struct policy *p, struct sensor_generic *g,
		   const struct kernel_features *kf, struct cpolicy **ret,
		   struct policy_errors *errs)
{
	struct cctx x = { .p = p, .g = g, .kf = kf, .errs = errs };
	size_t n;
	int r;

	x.c = calloc(1, sizeof(*x.c));
	if (!x.c)
		return -ENOMEM;
	procfs_host_namespaces("/proc", x.host_ns);
	r = sensor_generic_alloc_policy_id(g, &x.c->policy_id);
	if (r < 0) {
		free(x.c);
		return r;
	}
	if (!selector_empty(&p->spec.pod_selector) || !selector_empty(&p->spec.container_selector))
		fail(&x, -EOPNOTSUPP, &p->spec.pod_selector.node.pos,
		     "podSelector and containerSelector need the Kubernetes API, which this agent "
		     "does not use");
	if (p->spec.nr_enforcers)
		fail(&x, -EOPNOTSUPP, &p->spec.enforcers[0].node.pos,
		     "enforcers need bpf_override_return or fmod_ret on syscalls, which this kernel "
		     "does not allow");
	if (p->spec.loader)
		fail(&x, -EOPNOTSUPP, policy_node_pos(&p->spec.node, "loader"),
		     "loader events are not supported by this agent");
	for (size_t i = 0; i < p->spec.nr_hooks[POLICY_HOOK_KPROBE]; i++)
		compile_kprobe(&x, &p->spec.hooks[POLICY_HOOK_KPROBE][i], (unsigned)i,
			       POLICY_HOOK_KPROBE);
	for (size_t i = 0; i < p->spec.nr_hooks[POLICY_HOOK_TRACEPOINT]; i++)
		compile_tracepoint(&x, &p->spec.hooks[POLICY_HOOK_TRACEPOINT][i], (unsigned)i);
	for (size_t i = 0; i < p->spec.nr_hooks[POLICY_HOOK_UPROBE]; i++)
		compile_uprobe(&x, &p->spec.hooks[POLICY_HOOK_UPROBE][i], (unsigned)i);
	for (size_t i = 0; i < p->spec.nr_hooks[POLICY_HOOK_FENTRY]; i++)
		compile_kprobe(&x, &p->spec.hooks[POLICY_HOOK_FENTRY][i], (unsigned)i,
			       POLICY_HOOK_FENTRY);
	for (size_t i = 0; i < p->spec.nr_hooks[POLICY_HOOK_LSM]; i++)
		compile_lsm(&x, &p->spec.hooks[POLICY_HOOK_LSM][i], (unsigned)i);
	n = p->spec.nr_hooks[POLICY_HOOK_USDT];
	if (n)
		fail(&x, -EOPNOTSUPP, &p->spec.hooks[POLICY_HOOK_USDT][0].node.pos,
		     "usdts are not supported by this agent");
	if (!x.err && x.c->n_hooks == 0)
		fail(&x, -EINVAL, &p->spec.node.pos,
		     x.c->n_ignored ? "every hook of the policy was ignored: no such function" :
				      "the policy has no hooks");
	if (!x.err)
		follow_fd_semantics(x.c);
	btf__free(x.btf);
	x.btf = NULL;
	if (x.err) {
		cpolicy_free(x.c, g);
		return x.err;
	}
	/* what the kernel maps will hold for it, roughly: entries plus their overhead */
	x.c->kernel_memory = 0;
	for (size_t i = 0; i < x.c->n_hooks; i++)
		x.c->kernel_memory +=
			sizeof(struct gen_hook) + 64 +
			x.c->hooks[i].gh.n_selectors * (sizeof(struct gen_selector) + 64);
	for (size_t i = 0; i < x.c->n_sets; i++) {
		const struct cset *s = &x.c->sets[i];

		for (size_t k = 0; k < s->n; k++) {
			if (s->kind == CSET_STRINGS)
				x.c->kernel_memory += 64 + (s->lens[k] < STR_BUCKET_SMALL  ? 72 :
							    s->lens[k] < STR_BUCKET_MEDIUM ? 264 :
											     4104);
			else if (s->kind == CSET_PREFIX || s->kind == CSET_POSTFIX)
				x.c->kernel_memory += 64 + 260;
			else
				x.c->kernel_memory += 64 + 24;
		}
		if (s->kind == CSET_PREFIX || s->kind == CSET_POSTFIX)
			x.c->kernel_memory += 512; /* the trie itself */
	}
	*ret = x.c;
	return 0;
}

struct cpolicy *cpolicy_free(struct cpolicy *c, struct sensor_generic *g)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_hooks; i++) {
		struct chook *h = &c->hooks[i];

		sensor_generic_free_hook_id(g, h->gh.hook_id);
		free(h->tp_category);
		free(h->tp_name);
		free(h->tp_exit_name);
		free(h->uprobe_path);
		free(h->uprobe_symbol);
		free(h->mechanism);
		free(h->kfunc);
		free(h->function_name);
		free(h->description);
		free(h->tags);
	}
	free(c->hooks);
	for (size_t i = 0; i < c->n_sets; i++) {
		struct cset *s = &c->sets[i];

		sensor_generic_free_map_id(g, s->map_id);
		for (size_t k = 0; s->strs && k < s->n; k++)
			free(s->strs[k]);
		free(s->strs);
		free(s->lens);
		free(s->nums);
		free(s->addrs);
		free(s->prefix_lens);
	}
	free(c->sets);
	for (size_t i = 0; i < c->n_bin_sets; i++)
		free(c->bin_sets[i].path);
	free(c->bin_sets);
	for (int b = 0; b < 64; b++)
		if (c->bin_bits & (1ull << b))
			sensor_generic_free_bin_bit(g, 1ull << b);
	sensor_generic_free_policy_id(g, c->policy_id);
	for (size_t i = 0; i < c->n_ignored; i++)
		free(c->ignored[i]);
	free(c->ignored);
	free(c->ignored_idx);
	free(c);
	return NULL;
}
