// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/generic_events.h"
#include "agent/observer.h"
#include "agent/policies.h"
#include "agent/stacks.h"
#include "lib/log.h"
#include "lib/policy/policy.h"
#include "lib/syscalls.h"
#include "lib/util.h"

#define MAX_STACK 32

struct hook_ref {
	const struct chook *h;
	const char *policy_name;
	const char *policy_namespace;
};

struct generic_events {
	struct agent *a;
	struct hook_ref *hooks; /* by hook id */
	struct stacks *stacks;
	struct generic_events_stats stats;
	/* per-event scratch: strings of the arguments, NUL-terminated */
	struct sbuf strings;
};

int generic_events_new(struct agent *a, struct generic_events **ret)
{
	struct generic_events *ge = calloc(1, sizeof(*ge));

	if (!ge)
		return -ENOMEM;
	ge->hooks = calloc(GEN_MAX_HOOKS, sizeof(*ge->hooks));
	if (!ge->hooks) {
		free(ge);
		return -ENOMEM;
	}
	ge->a = a;
	sbuf_init(&ge->strings);
	*ret = ge;
	return 0;
}

struct generic_events *generic_events_free(struct generic_events *ge)
{
	if (!ge)
		return NULL;
	stacks_free(ge->stacks);
	sbuf_free(&ge->strings);
	free(ge->hooks);
	free(ge);
	return NULL;
}

void generic_events_set_hook(struct generic_events *ge, const struct chook *h,
			     const char *policy_name, const char *policy_namespace)
{
	if (h->gh.hook_id >= GEN_MAX_HOOKS)
		return;
	ge->hooks[h->gh.hook_id].h = h;
	ge->hooks[h->gh.hook_id].policy_name = policy_name;
	ge->hooks[h->gh.hook_id].policy_namespace = policy_namespace;
}

void generic_events_clear_hook(struct generic_events *ge, uint32_t hook_id)
{
	if (hook_id < GEN_MAX_HOOKS)
		memset(&ge->hooks[hook_id], 0, sizeof(ge->hooks[hook_id]));
}

void generic_events_get_stats(struct generic_events *ge, struct generic_events_stats *st)
{
	*st = ge->stats;
}

/* ---------------------------------------------------------------------------------------- */
/* User-space actions */

struct url_req {
	uv_getaddrinfo_t gai;
	uv_tcp_t tcp;
	uv_connect_t conn;
	uv_write_t wr;
	struct generic_events *ge;
	char *host, *port, *path;
	char *request;
	char buf[512];
	bool dns_only;
};

static void url_done(struct url_req *u, bool ok)
{
	if (u->dns_only) {
		if (ok)
			u->ge->stats.dns_ok++;
		else
			u->ge->stats.dns_failed++;
	} else {
		if (ok)
			u->ge->stats.get_url_ok++;
		else
			u->ge->stats.get_url_failed++;
	}
}

static void url_free(struct url_req *u)
{
	free(u->host);
	free(u->port);
	free(u->path);
	free(u->request);
	free(u);
}

static void url_closed(uv_handle_t *h)
{
	url_free(h->data);
}

static void url_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct url_req *u = h->data;

	*buf = uv_buf_init(u->buf, sizeof(u->buf));
}

static void url_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct url_req *u = s->data;

	if (n >= 0)
		return;
	/* the server closed after its answer: that is a completed GET */
	url_done(u, n == UV_EOF);
	uv_close((uv_handle_t *)&u->tcp, url_closed);
}

static void url_written(uv_write_t *w, int status)
{
	struct url_req *u = w->data;

	if (status < 0 || uv_read_start((uv_stream_t *)&u->tcp, url_alloc, url_read) < 0) {
		url_done(u, false);
		uv_close((uv_handle_t *)&u->tcp, url_closed);
	}
}

static void url_connected(uv_connect_t *c, int status)
{
	struct url_req *u = c->data;
	uv_buf_t b;

	if (status < 0) {
		url_done(u, false);
		uv_close((uv_handle_t *)&u->tcp, url_closed);
		return;
	}
	b = uv_buf_init(u->request, (unsigned)strlen(u->request));
	u->wr.data = u;
	if (uv_write(&u->wr, (uv_stream_t *)&u->tcp, &b, 1, url_written) < 0) {
		url_done(u, false);
		uv_close((uv_handle_t *)&u->tcp, url_closed);
	}
}

static void url_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	struct url_req *u = g->data;

	if (status < 0 || !res) {
		url_done(u, false);
		url_free(u);
		if (res)
			uv_freeaddrinfo(res);
		return;
	}
	if (u->dns_only) {
		url_done(u, true);
		uv_freeaddrinfo(res);
		url_free(u);
		return;
	}
	uv_tcp_init(u->ge->a->loop, &u->tcp);
	u->tcp.data = u;
	u->conn.data = u;
	if (uv_tcp_connect(&u->conn, &u->tcp, res->ai_addr, url_connected) < 0) {
		url_done(u, false);
		uv_close((uv_handle_t *)&u->tcp, url_closed);
	}
	uv_freeaddrinfo(res);
}

/* GetUrl (http only) and DnsLookup, in the background on the loop. */
static void start_request(struct generic_events *ge, const char *url, const char *fqdn)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct url_req *u = calloc(1, sizeof(*u));
	const char *rest, *slash, *colon;
	int r;

	if (!u)
		return;
	u->ge = ge;
	u->gai.data = u;
	if (fqdn) {
		u->dns_only = true;
		u->host = strdup(fqdn);
		u->port = strdup("80");
	} else {
		rest = url + strlen("http://");
		slash = strchr(rest, '/');
		u->path = strdup(slash ? slash : "/");
		u->host = strndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
		colon = u->host ? strrchr(u->host, ':') : NULL;
		if (colon) {
			u->port = strdup(colon + 1);
			u->host[colon - u->host] = '\0';
		} else {
			u->port = strdup("80");
		}
		if (u->host && u->path &&
		    asprintf(&u->request,
			     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: tetragon\r\nConnection: "
			     "close\r\n\r\n",
			     u->path, u->host) < 0)
			u->request = NULL;
	}
	if (!u->host || !u->port || (!fqdn && !u->request)) {
		url_done(u, false);
		url_free(u);
		return;
	}
	r = uv_getaddrinfo(ge->a->loop, &u->gai, url_resolved, u->host, u->port, &hints);
	if (r < 0) {
		url_done(u, false);
		url_free(u);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Arguments */

/* Copy len bytes into the per-event string space; the result is NUL-terminated. */
static size_t stash(struct generic_events *ge, const void *p, size_t len)
{
	size_t off = ge->strings.len;

	sbuf_add(&ge->strings, p, len);
	sbuf_addc(&ge->strings, '\0');
	return off;
}

#define STASHED(ge, off) ((ge)->strings.buf + (off))

struct decoded {
	Tetragon__KprobeArgument arg;
	Tetragon__KprobeFile file;
	Tetragon__KprobePath path;
	Tetragon__KprobeLinuxBinprm binprm;
	Tetragon__KprobeTruncatedBytes tbytes;
	Tetragon__KprobeSockaddr sa;
	Tetragon__KprobeCapability cap;
	Google__Protobuf__Int32Value cap_value;
	Tetragon__SyscallId sys;
	Tetragon__KprobeCred cred;
	Tetragon__CapabilitiesType caps[3][41];
	/* offsets into the string space, resolved once it stops moving */
	ssize_t s1, s2;
};

static const char *family_name(unsigned f)
{
	switch (f) {
	case 1:
		return "AF_UNIX";
	case 2:
		return "AF_INET";
	case 10:
		return "AF_INET6";
	default:
		return "AF_UNSPEC";
	}
}

static void cap_names(struct sbuf *sb, uint64_t mask)
{
	for (int i = 0; i <= 40; i++) {
		const char *n;

		if (!(mask & (1ull << i)))
			continue;
		n = policy_capability_name((unsigned)i);
		if (sb->len)
			sbuf_addc(sb, ' ');
		sbuf_adds(sb, n ? n : "CAP_UNKNOWN");
	}
}

static size_t cap_list(Tetragon__CapabilitiesType *out, uint64_t mask)
{
	size_t n = 0;

	for (int i = 0; i <= 40; i++)
		if (mask & (1ull << i))
			out[n++] = (Tetragon__CapabilitiesType)i;
	return n;
}

/*
 * Fill d from one argument of a record. Strings are stashed (their offsets in
 * d->s1/s2) and pointed at by fixup() once every argument is decoded.
 */
static void decode_arg(struct generic_events *ge, enum policy_arg_type type,
		       const struct gen_arg_hdr *hd, const uint8_t *data, struct decoded *d)
{
	Tetragon__KprobeArgument *a = &d->arg;
	bool trunc = hd->flags & GEN_DF_TRUNCATED;
	uint64_t v = hd->value;

	tetragon__kprobe_argument__init(a);
	d->s1 = d->s2 = -1;
	switch (type) {
	case POLICY_ARG_INT8:
	case POLICY_ARG_INT16:
	case POLICY_ARG_INT32:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_INT_ARG;
		a->int_arg = (int32_t)v;
		break;
	case POLICY_ARG_UINT8:
	case POLICY_ARG_UINT16:
	case POLICY_ARG_UINT32:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_UINT_ARG;
		a->uint_arg = (uint32_t)v;
		break;
	case POLICY_ARG_INT64:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_LONG_ARG;
		a->long_arg = (int64_t)v;
		break;
	case POLICY_ARG_UINT64:
	case POLICY_ARG_SIZE_T:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
		a->size_arg = v;
		break;
	case POLICY_ARG_CAPABILITY:
		tetragon__kprobe_capability__init(&d->cap);
		google__protobuf__int32_value__init(&d->cap_value);
		d->cap_value.value = (int32_t)v;
		d->cap.value = &d->cap_value;
		d->cap.name = (char *)(policy_capability_name((unsigned)v) ?: "");
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_CAPABILITY_ARG;
		a->capability_arg = &d->cap;
		break;
	case POLICY_ARG_SYSCALL64:
		tetragon__syscall_id__init(&d->sys);
		d->sys.id = (uint32_t)v;
		d->sys.abi = (char *)syscall_abi();
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SYSCALL_ID;
		a->syscall_id = &d->sys;
		break;
	case POLICY_ARG_BPF_CMD:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BPF_CMD_ARG;
		a->bpf_cmd_arg = (Tetragon__BpfCmd)v;
		break;
	case POLICY_ARG_STRING:
	case POLICY_ARG_FILENAME:
	case POLICY_ARG_DATA_LOC:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_CHAR_BUF:
	case POLICY_ARG_CONST_BUF:
	case POLICY_ARG_CHAR_IOVEC:
		if (trunc) {
			tetragon__kprobe_truncated_bytes__init(&d->tbytes);
			d->tbytes.orig_size = hd->orig_len;
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_TRUNCATED_BYTES_ARG;
			a->truncated_bytes_arg = &d->tbytes;
		} else {
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG;
		}
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		d->s2 = hd->len; /* length: bytes are not strings */
		break;
	case POLICY_ARG_FD:
	case POLICY_ARG_FILE:
		tetragon__kprobe_file__init(&d->file);
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG;
		a->file_arg = &d->file;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_PATH:
		tetragon__kprobe_path__init(&d->path);
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_PATH_ARG;
		a->path_arg = &d->path;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_LINUX_BINPRM:
		tetragon__kprobe_linux_binprm__init(&d->binprm);
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_LINUX_BINPRM_ARG;
		a->linux_binprm_arg = &d->binprm;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_SOCKADDR: {
		char addr[INET6_ADDRSTRLEN] = "";
		uint16_t family = hd->len >= 2 ? *(const uint16_t *)data : 0;

		tetragon__kprobe_sockaddr__init(&d->sa);
		d->sa.family = (char *)family_name(family);
		if (family == 2 && hd->len >= 8) {
			inet_ntop(AF_INET, data + 4, addr, sizeof(addr));
			d->sa.port = ntohs(*(const uint16_t *)(data + 2));
		} else if (family == 10 && hd->len >= 24) {
			inet_ntop(AF_INET6, data + 8, addr, sizeof(addr));
			d->sa.port = ntohs(*(const uint16_t *)(data + 2));
		} else if (family == 1 && hd->len > 2) {
			snprintf(addr, sizeof(addr), "%.*s",
				 (int)strnlen((const char *)data + 2, hd->len - 2),
				 (const char *)data + 2);
		}
		d->s1 = (ssize_t)stash(ge, addr, strlen(addr));
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SOCKADDR_ARG;
		a->sockaddr_arg = &d->sa;
		break;
	}
	case POLICY_ARG_KERNEL_CAP_T:
	case POLICY_ARG_CAP_INHERITABLE:
	case POLICY_ARG_CAP_PERMITTED:
	case POLICY_ARG_CAP_EFFECTIVE: {
		struct sbuf sb;

		sbuf_init(&sb);
		cap_names(&sb, v);
		d->s1 = (ssize_t)stash(ge, sb.buf ? sb.buf : "", sb.len);
		sbuf_free(&sb);
		a->arg_case = type == POLICY_ARG_KERNEL_CAP_T ?
				      TETRAGON__KPROBE_ARGUMENT__ARG_KERNEL_CAP_T_ARG :
			      type == POLICY_ARG_CAP_INHERITABLE ?
				      TETRAGON__KPROBE_ARGUMENT__ARG_CAP_INHERITABLE_ARG :
			      type == POLICY_ARG_CAP_PERMITTED ?
				      TETRAGON__KPROBE_ARGUMENT__ARG_CAP_PERMITTED_ARG :
				      TETRAGON__KPROBE_ARGUMENT__ARG_CAP_EFFECTIVE_ARG;
		break;
	}
	case POLICY_ARG_CRED:
		tetragon__kprobe_cred__init(&d->cred);
		if (hd->len >= 24) {
			const uint64_t *c = (const uint64_t *)data;

			d->cred.permitted = d->caps[0];
			d->cred.n_permitted = cap_list(d->caps[0], c[0]);
			d->cred.effective = d->caps[1];
			d->cred.n_effective = cap_list(d->caps[1], c[1]);
			d->cred.inheritable = d->caps[2];
			d->cred.n_inheritable = cap_list(d->caps[2], c[2]);
		}
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_CRED_ARG;
		a->cred_arg = &d->cred;
		break;
	default:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
		a->size_arg = v;
		break;
	}
	if (hd->flags & GEN_DF_ERROR && d->s1 < 0)
		d->s1 = (ssize_t)stash(ge, "", 0);
}

/* Point the decoded strings at their final place in the string space. */
static void fixup(struct generic_events *ge, struct decoded *d)
{
	Tetragon__KprobeArgument *a = &d->arg;
	char *s = d->s1 >= 0 ? STASHED(ge, d->s1) : NULL;

	if (!s)
		return;
	switch (a->arg_case) {
	case TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG:
		a->string_arg = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG:
		a->bytes_arg.data = (uint8_t *)s;
		a->bytes_arg.len = (size_t)d->s2;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_TRUNCATED_BYTES_ARG:
		d->tbytes.bytes_arg.data = (uint8_t *)s;
		d->tbytes.bytes_arg.len = (size_t)d->s2;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG:
		d->file.path = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_PATH_ARG:
		d->path.path = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_LINUX_BINPRM_ARG:
		d->binprm.path = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_SOCKADDR_ARG:
		d->sa.addr = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_KERNEL_CAP_T_ARG:
		a->kernel_cap_t_arg = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_CAP_INHERITABLE_ARG:
		a->cap_inheritable_arg = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_CAP_PERMITTED_ARG:
		a->cap_permitted_arg = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_CAP_EFFECTIVE_ARG:
		a->cap_effective_arg = s;
		break;
	default:
		break;
	}
}

static Tetragon__KprobeAction action_of(uint32_t did)
{
	if (did & GEN_DID_SIGKILL)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_SIGKILL;
	if (did & GEN_DID_SIGNAL)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_SIGNAL;
	if (did & GEN_DID_OVERRIDE)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_OVERRIDE;
	if (did & GEN_DID_FOLLOW_FD)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_FOLLOWFD;
	if (did & GEN_DID_UNFOLLOW_FD)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_UNFOLLOWFD;
	if (did & GEN_DID_COPY_FD)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_COPYFD;
	if (did & GEN_DID_GET_URL)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_GETURL;
	if (did & GEN_DID_DNS_LOOKUP)
		return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_DNSLOOKUP;
	return TETRAGON__KPROBE_ACTION__KPROBE_ACTION_POST;
}

/* ---------------------------------------------------------------------------------------- */
/* Records */

static void set_time(Google__Protobuf__Timestamp *t, uint64_t ns)
{
	google__protobuf__timestamp__init(t);
	t->seconds = (int64_t)(ns / 1000000000ull);
	t->nanos = (int32_t)(ns % 1000000000ull);
}

/* A process the cache does not know: what the record says about it. */
struct unknown_process {
	Tetragon__Process pb;
	Google__Protobuf__UInt32Value pid, tid;
};

static void decode(struct generic_events *ge, const void *data, size_t len)
{
	const struct gen_event *ev = data;
	struct agent *a = ge->a;
	const struct hook_ref *ref;
	const struct chook *h;
	struct decoded d[GEN_ARG_SLOTS];
	Tetragon__KprobeArgument *args[GEN_ARG_SLOTS];
	Tetragon__StackTraceEntry *kstack[MAX_STACK], *ustack[MAX_STACK];
	Tetragon__StackTraceEntry kst[MAX_STACK], ust[MAX_STACK];
	char *tags[POLICY_MAX_TAGS + 1];
	size_t n_args = 0, n_tags = 0, nk = 0, nu = 0;
	Tetragon__GetEventsResponse resp;
	Tetragon__ProcessKprobe kp;
	Tetragon__ProcessTracepoint tp;
	Tetragon__ProcessUprobe up;
	Google__Protobuf__Timestamp ts;
	struct unknown_process unk;
	struct process *proc, *parent = NULL;
	Tetragon__Process *ppb, *parent_pb = NULL;
	const uint8_t *p, *end;
	size_t ret_index = SIZE_MAX;
	int slot_at[GEN_ARG_SLOTS];
	int di = -1;

	if (len < sizeof(*ev) || ev->data_len > len - sizeof(*ev)) {
		a->decode_errors++;
		return;
	}
	ref = ev->hook_id < GEN_MAX_HOOKS ? &ge->hooks[ev->hook_id] : NULL;
	if (!ref || !ref->h) {
		ge->stats.unknown_hook++;
		return;
	}
	h = ref->h;
	ge->stats.events++;
	sbuf_reset(&ge->strings);
	/* the string space may move while it grows: reserve what this record can need */
	sbuf_reserve(&ge->strings, ev->data_len + 1024);

	/* the arguments, in the order they were read; a later read of a slot wins (returnCopy) */
	p = (const uint8_t *)(ev + 1);
	end = p + ev->data_len - ev->kstack_len - ev->ustack_len;
	for (unsigned k = 0; k < GEN_ARG_SLOTS; k++)
		slot_at[k] = -1;
	while ((size_t)(end - p) >= sizeof(struct gen_arg_hdr)) {
		const struct gen_arg_hdr *hd = (const struct gen_arg_hdr *)p;
		unsigned slot = hd->slot;

		if (hd->len > (size_t)(end - p) - sizeof(*hd) || slot >= GEN_ARG_SLOTS)
			break;
		if (h->args[slot].present || slot == GEN_RET_ARG) {
			if (slot_at[slot] < 0)
				slot_at[slot] = ++di;
			decode_arg(ge, h->args[slot].type, hd, p + sizeof(*hd), &d[slot_at[slot]]);
			if (h->args[slot].label)
				d[slot_at[slot]].arg.label = (char *)h->args[slot].label;
		}
		p += sizeof(*hd) + ((hd->len + 7) & ~7u);
	}
	for (unsigned slot = 0; slot < GEN_ARG_SLOTS; slot++) {
		if (slot_at[slot] < 0)
			continue;
		fixup(ge, &d[slot_at[slot]]);
		if (slot == GEN_RET_ARG)
			ret_index = (size_t)slot_at[slot];
		else
			args[n_args++] = &d[slot_at[slot]].arg;
	}

	if (ev->kstack_len || ev->ustack_len) {
		const uint64_t *addrs = (const uint64_t *)end;

		if (!ge->stacks)
			stacks_new(&ge->stacks);
		for (size_t i = 0; i < ev->kstack_len / 8 && nk < MAX_STACK; i++) {
			tetragon__stack_trace_entry__init(&kst[nk]);
			stacks_kernel(ge->stacks, addrs[i], &kst[nk]);
			kstack[nk] = &kst[nk];
			nk++;
		}
		addrs += ev->kstack_len / 8;
		for (size_t i = 0; i < ev->ustack_len / 8 && nu < MAX_STACK; i++) {
			tetragon__stack_trace_entry__init(&ust[nu]);
			stacks_user(ge->stacks, ev->pid, addrs[i], &ust[nu]);
			ustack[nu] = &ust[nu];
			nu++;
		}
	}

	proc = process_cache_get(a->cache, ev->pid);
	if (proc) {
		ppb = process_pb(proc);
		parent = proc->parent;
		if (parent) {
			process_get(parent);
			parent_pb = process_pb(parent);
		}
	} else {
		ge->stats.process_misses++;
		tetragon__process__init(&unk.pb);
		google__protobuf__uint32_value__init(&unk.pid);
		google__protobuf__uint32_value__init(&unk.tid);
		unk.pid.value = ev->pid;
		unk.tid.value = ev->tid;
		unk.pb.pid = &unk.pid;
		unk.pb.tid = &unk.tid;
		unk.pb.flags = "miss";
		ppb = &unk.pb;
	}

	for (size_t i = 0; i < h->n_tags && n_tags < POLICY_MAX_TAGS; i++)
		tags[n_tags++] = h->tags[i];
	if (ev->actions & GEN_DID_MONITOR)
		tags[n_tags++] = "monitor-mode";

	tetragon__get_events_response__init(&resp);
	resp.node_name = (char *)a->cfg.node_name;
	set_time(&ts, a->boot_time_ns + ev->hdr.ktime);
	resp.time = &ts;
	switch (h->section) {
	case POLICY_HOOK_TRACEPOINT:
		tetragon__process_tracepoint__init(&tp);
		tp.process = ppb;
		tp.parent = parent_pb;
		tp.subsys = (char *)h->subsys;
		tp.event = (char *)h->event;
		tp.args = args;
		tp.n_args = n_args;
		tp.policy_name = (char *)ref->policy_name;
		tp.action = action_of(ev->actions);
		tp.message = (char *)(h->message ? h->message : "");
		tp.tags = tags;
		tp.n_tags = n_tags;
		resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT;
		resp.process_tracepoint = &tp;
		break;
	case POLICY_HOOK_UPROBE:
		tetragon__process_uprobe__init(&up);
		up.process = ppb;
		up.parent = parent_pb;
		up.path = (char *)h->path;
		up.symbol = h->uprobe_symbol ? h->uprobe_symbol : "";
		up.offset = h->uprobe_offset;
		/* ProcessUprobe has no return field: the return value ends the arguments */
		if (ret_index != SIZE_MAX && n_args < GEN_ARG_SLOTS) {
			if (!d[ret_index].arg.label || !*d[ret_index].arg.label)
				d[ret_index].arg.label = "return";
			args[n_args++] = &d[ret_index].arg;
		}
		up.args = args;
		up.n_args = n_args;
		up.policy_name = (char *)ref->policy_name;
		up.action = action_of(ev->actions);
		up.message = (char *)(h->message ? h->message : "");
		up.tags = tags;
		up.n_tags = n_tags;
		resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE;
		resp.process_uprobe = &up;
		break;
	default:
		tetragon__process_kprobe__init(&kp);
		kp.process = ppb;
		kp.parent = parent_pb;
		kp.function_name = h->function_name ? h->function_name : "";
		kp.args = args;
		kp.n_args = n_args;
		if (ret_index != SIZE_MAX)
			kp.return_ = &d[ret_index].arg;
		kp.action = action_of(ev->actions);
		kp.policy_name = (char *)ref->policy_name;
		kp.message = (char *)(h->message ? h->message : "");
		kp.tags = tags;
		kp.n_tags = n_tags;
		kp.kernel_stack_trace = kstack;
		kp.n_kernel_stack_trace = nk;
		kp.user_stack_trace = ustack;
		kp.n_user_stack_trace = nu;
		resp.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE;
		resp.process_kprobe = &kp;
		break;
	}
	bus_publish(&a->bus, &resp);

	if (ev->sel < GEN_MAX_SELECTORS && !(ev->actions & GEN_DID_MONITOR)) {
		const struct csel_meta *m = &h->sel_meta[ev->sel];

		if (ev->actions & GEN_DID_GET_URL && m->url)
			start_request(ge, m->url, NULL);
		if (ev->actions & GEN_DID_DNS_LOOKUP && m->fqdn)
			start_request(ge, NULL, m->fqdn);
	}
	if (parent)
		process_put(a->cache, parent);
	if (proc)
		process_put(a->cache, proc);
}

void generic_events_handle(struct generic_events *ge, const void *data, size_t len)
{
	const struct gen_event *ev = data;
	const struct chook *h;

	/* a restart takeover: the old agent's program saw this one too, its copy is kept */
	if (len >= sizeof(*ev) && ev->hook_id < GEN_MAX_HOOKS) {
		h = ge->hooks[ev->hook_id].h;
		if (h && h->takeover_cut_ns && ev->hdr.ktime < h->takeover_cut_ns) {
			ge->a->takeover.duplicates++;
			return;
		}
	}
	decode(ge, data, len);
}

void generic_events_handle_old(struct generic_events *ge, const void *data, size_t len)
{
	const struct chook *h;
	struct gen_event *copy;
	uint32_t id;

	if (len < sizeof(struct gen_event)) {
		ge->a->decode_errors++;
		return;
	}
	id = policies_translate_hook(ge->a, ((const struct gen_event *)data)->hook_id);
	h = id && id < GEN_MAX_HOOKS ? ge->hooks[id].h : NULL;
	if (!h) {
		/* its policy is not configured any more: nobody asked for this event now */
		ge->a->takeover.unknown++;
		return;
	}
	/* from here on the new programs write their own copy */
	if (((const struct gen_event *)data)->hdr.ktime >= h->takeover_cut_ns) {
		ge->a->takeover.duplicates++;
		return;
	}
	copy = malloc(len);
	if (!copy) {
		ge->a->takeover.lost++;
		return;
	}
	memcpy(copy, data, len);
	copy->hook_id = id;
	ge->a->takeover.replayed++;
	decode(ge, copy, len);
	free(copy);
}

static void on_generic(void *ctx, const void *data, size_t len)
{
	generic_events_handle(ctx, data, len);
}

int generic_events_register(struct generic_events *ge)
{
	return observer_set_handler(ge->a->observer, EVENT_GENERIC, on_generic, ge);
}
