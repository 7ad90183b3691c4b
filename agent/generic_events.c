// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

struct decoded_userns {
	Tetragon__UserNamespace un;
	Google__Protobuf__Int32Value level;
	Google__Protobuf__UInt32Value uid, gid;
	Tetragon__Namespace ns;
};

struct decoded_cred {
	Tetragon__ProcessCredentials pc;
	Google__Protobuf__UInt32Value ids[8];
	Tetragon__Capabilities caps;
	Tetragon__CapabilitiesType capv[3][64];
	Tetragon__SecureBitsType securebits[8];
	struct decoded_userns ns;
};

struct decoded_module {
	Tetragon__KernelModule m;
	Google__Protobuf__BoolValue sig_ok;
	Tetragon__TaintedBitsType tainted[64];
};

/*
 * One argument of a record, decoded. The message the argument points at is in u;
 * short strings live in the record itself (names, numbers, addresses), long ones
 * (paths, buffers) in the string space.
 */
struct decoded {
	Tetragon__KprobeArgument arg;
	union {
		Tetragon__KprobeFile file;
		Tetragon__KprobePath path;
		Tetragon__KprobeLinuxBinprm binprm;
		Tetragon__KprobeTruncatedBytes tbytes;
		Tetragon__KprobeSockaddr sa;
		struct {
			Tetragon__KprobeCapability cap;
			Google__Protobuf__Int32Value value;
		} cap;
		Tetragon__SyscallId sys;
		Tetragon__KprobeSock sock;
		Tetragon__KprobeSkb skb;
		Tetragon__KprobeNetDev netdev;
		Tetragon__KprobeBpfAttr bpf_attr;
		Tetragon__KprobeBpfProg bpf_prog;
		Tetragon__KprobeBpfMap bpf_map;
		Tetragon__KprobePerfEvent perf;
		struct decoded_cred cred;
		struct decoded_userns userns;
		struct decoded_module module;
	} u;
	char addr[2][INET6_ADDRSTRLEN];
	char num[4][16]; /* names of values no table has: their numbers */
	char name[GEN_KSYM_NAME + 1];
	char perm[16];
	/* offsets into the string space, resolved once it stops moving */
	ssize_t s1, s2;
};

static const char *const families[] = {
	[0] = "AF_UNSPEC",	[1] = "AF_UNIX",      [2] = "AF_INET",	    [3] = "AF_AX25",
	[4] = "AF_IPX",		[5] = "AF_APPLETALK", [6] = "AF_NETROM",    [7] = "AF_BRIDGE",
	[8] = "AF_ATMPVC",	[9] = "AF_X25",	      [10] = "AF_INET6",    [11] = "AF_ROSE",
	[12] = "AF_DECnet",	[13] = "AF_NETBEUI",  [14] = "AF_SECURITY", [15] = "AF_KEY",
	[16] = "AF_NETLINK",	[17] = "AF_PACKET",   [18] = "AF_ASH",	    [19] = "AF_ECONET",
	[20] = "AF_ATMSVC",	[21] = "AF_RDS",      [22] = "AF_SNA",	    [23] = "AF_IRDA",
	[24] = "AF_PPPOX",	[25] = "AF_WANPIPE",  [26] = "AF_LLC",	    [27] = "AF_IB",
	[28] = "AF_MPLS",	[29] = "AF_CAN",      [30] = "AF_TIPC",	    [31] = "AF_BLUETOOTH",
	[32] = "AF_IUCV",	[33] = "AF_RXRPC",    [34] = "AF_ISDN",	    [35] = "AF_PHONET",
	[36] = "AF_IEEE802154", [37] = "AF_CAIF",     [38] = "AF_ALG",	    [39] = "AF_NFC",
	[40] = "AF_VSOCK",	[41] = "AF_KCM",      [42] = "AF_QIPCRTR",  [43] = "AF_SMC",
	[44] = "AF_XDP",	[45] = "AF_MCTP",
};

static const char *const sock_types[] = {
	[1] = "SOCK_STREAM",	[2] = "SOCK_DGRAM", [3] = "SOCK_RAW",	  [4] = "SOCK_RDM",
	[5] = "SOCK_SEQPACKET", [6] = "SOCK_DCCP",  [10] = "SOCK_PACKET",
};

static const char *const tcp_states[] = {
	[1] = "TCP_ESTABLISHED",     [2] = "TCP_SYN_SENT",   [3] = "TCP_SYN_RECV",
	[4] = "TCP_FIN_WAIT1",	     [5] = "TCP_FIN_WAIT2",  [6] = "TCP_TIME_WAIT",
	[7] = "TCP_CLOSE",	     [8] = "TCP_CLOSE_WAIT", [9] = "TCP_LAST_ACK",
	[10] = "TCP_LISTEN",	     [11] = "TCP_CLOSING",   [12] = "TCP_NEW_SYN_RECV",
	[13] = "TCP_BOUND_INACTIVE",
};

static const char *const perf_types[] = {
	"PERF_TYPE_HARDWARE", "PERF_TYPE_SOFTWARE",   "PERF_TYPE_TRACEPOINT", "PERF_TYPE_HW_CACHE",
	"PERF_TYPE_RAW",      "PERF_TYPE_BREAKPOINT", "PERF_TYPE_MAX",
};

static const char *const map_types[] = {
	"BPF_MAP_TYPE_UNSPEC",
	"BPF_MAP_TYPE_HASH",
	"BPF_MAP_TYPE_ARRAY",
	"BPF_MAP_TYPE_PROG_ARRAY",
	"BPF_MAP_TYPE_PERF_EVENT_ARRAY",
	"BPF_MAP_TYPE_PERCPU_HASH",
	"BPF_MAP_TYPE_PERCPU_ARRAY",
	"BPF_MAP_TYPE_STACK_TRACE",
	"BPF_MAP_TYPE_CGROUP_ARRAY",
	"BPF_MAP_TYPE_LRU_HASH",
	"BPF_MAP_TYPE_LRU_PERCPU_HASH",
	"BPF_MAP_TYPE_LPM_TRIE",
	"BPF_MAP_TYPE_ARRAY_OF_MAPS",
	"BPF_MAP_TYPE_HASH_OF_MAPS",
	"BPF_MAP_TYPE_DEVMAP",
	"BPF_MAP_TYPE_SOCKMAP",
	"BPF_MAP_TYPE_CPUMAP",
	"BPF_MAP_TYPE_XSKMAP",
	"BPF_MAP_TYPE_SOCKHASH",
	"BPF_MAP_TYPE_CGROUP_STORAGE",
	"BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
	"BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
	"BPF_MAP_TYPE_QUEUE",
	"BPF_MAP_TYPE_STACK",
	"BPF_MAP_TYPE_SK_STORAGE",
	"BPF_MAP_TYPE_DEVMAP_HASH",
	"BPF_MAP_TYPE_STRUCT_OPS",
	"BPF_MAP_TYPE_RINGBUF",
	"BPF_MAP_TYPE_INODE_STORAGE",
	"BPF_MAP_TYPE_TASK_STORAGE",
	"BPF_MAP_TYPE_BLOOM_FILTER",
	"BPF_MAP_TYPE_USER_RINGBUF",
	"BPF_MAP_TYPE_CGRP_STORAGE",
	"BPF_MAP_TYPE_ARENA",
};

/* The name of v in table, or v as a number in buf (as Tetragon shows unknown values). */
static const char *table_name(const char *const *table, size_t n, unsigned long v, char *buf,
			      size_t size)
{
	if (v < n && table[v])
		return table[v];
	snprintf(buf, size, "%lu", v);
	return buf;
}

#define NAME_OF(table, v, buf) table_name(table, ARRAY_SIZE(table), v, buf, sizeof(buf))

static const char *protocol_name(unsigned p, char *buf, size_t size)
{
	static const struct {
		unsigned nr;
		const char *name;
	} protos[] = {
		{ 0, "IPPROTO_IP" },	  { 1, "IPPROTO_ICMP" },       { 2, "IPPROTO_IGMP" },
		{ 4, "IPPROTO_IPIP" },	  { 6, "IPPROTO_TCP" },	       { 8, "IPPROTO_EGP" },
		{ 12, "IPPROTO_PUP" },	  { 17, "IPPROTO_UDP" },       { 22, "IPPROTO_IDP" },
		{ 29, "IPPROTO_TP" },	  { 33, "IPPROTO_DCCP" },      { 41, "IPPROTO_IPV6" },
		{ 46, "IPPROTO_RSVP" },	  { 47, "IPPROTO_GRE" },       { 50, "IPPROTO_ESP" },
		{ 51, "IPPROTO_AH" },	  { 58, "IPPROTO_ICMPV6" },    { 92, "IPPROTO_MTP" },
		{ 94, "IPPROTO_BEETPH" }, { 98, "IPPROTO_ENCAP" },     { 103, "IPPROTO_PIM" },
		{ 108, "IPPROTO_COMP" },  { 132, "IPPROTO_SCTP" },     { 136, "IPPROTO_UDPLITE" },
		{ 137, "IPPROTO_MPLS" },  { 143, "IPPROTO_ETHERNET" }, { 255, "IPPROTO_RAW" },
		{ 262, "IPPROTO_MPTCP" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].nr == p)
			return protos[i].name;
	snprintf(buf, size, "%u", p);
	return buf;
}

static const char *family_name(unsigned f)
{
	return f < ARRAY_SIZE(families) && families[f] ? families[f] : "AF_UNSPEC";
}

/* A name from one of the proto's enums (BPF program types), else the number. */
static const char *enum_name(const ProtobufCEnumDescriptor *desc, int v, char *buf, size_t size)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(desc, v);

	if (ev)
		return ev->name;
	snprintf(buf, size, "%d", v);
	return buf;
}

/*
 * ls -l's permission column of an inode's mode, as Tetragon shows it: "-rw-r--r--".
 * A mode without a known file type (a negative dentry's 0) has no type letter.
 */
static void permission(uint32_t mode, char *buf)
{
	static const char rwx[] = "rwxrwxrwx";
	char *p = buf;

	switch (mode & S_IFMT) {
	case S_IFBLK:
		*p++ = 'b';
		break;
	case S_IFCHR:
		*p++ = 'c';
		break;
	case S_IFDIR:
		*p++ = 'd';
		break;
	case S_IFIFO:
		*p++ = 'p';
		break;
	case S_IFLNK:
		*p++ = 'l';
		break;
	case S_IFREG:
		*p++ = '-';
		break;
	case S_IFSOCK:
		*p++ = 's';
		break;
	}
	for (int i = 0; i < 9; i++)
		p[i] = mode & (0400 >> i) ? rwx[i] : '-';
	/* set-user-ID, set-group-ID and sticky bits replace the x of their column */
	if (mode & S_ISUID)
		p[2] = mode & S_IXUSR ? 's' : 'S';
	if (mode & S_ISGID)
		p[5] = mode & S_IXGRP ? 's' : 'S';
	if (mode & S_ISVTX)
		p[8] = mode & S_IXOTH ? 't' : 'T';
	p[9] = '\0';
}

static size_t cap_list(Tetragon__CapabilitiesType *out, uint64_t mask)
{
	size_t n = 0;

	for (int i = 0; i < 64; i++)
		if (mask & (1ull << i))
			out[n++] = (Tetragon__CapabilitiesType)i;
	return n;
}

/* NUL-terminated copy of a fixed-size string field of a record. */
static char *fixed_str(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);

	memcpy(dst, src, len);
	dst[len] = '\0';
	return dst;
}

static void decode_userns(struct decoded_userns *u, const struct gen_userns_rec *r)
{
	tetragon__user_namespace__init(&u->un);
	google__protobuf__int32_value__init(&u->level);
	google__protobuf__uint32_value__init(&u->uid);
	google__protobuf__uint32_value__init(&u->gid);
	tetragon__namespace__init(&u->ns);
	u->level.value = r->level;
	u->uid.value = r->owner;
	u->gid.value = r->group;
	u->ns.inum = r->inum;
	/* the initial user namespace is the host's */
	u->ns.is_host = r->level == 0;
	u->un.level = &u->level;
	u->un.uid = &u->uid;
	u->un.gid = &u->gid;
	u->un.ns = &u->ns;
}

static void decode_cred(struct decoded_cred *c, const struct gen_cred_rec *r)
{
	Google__Protobuf__UInt32Value **ids[8] = { &c->pc.uid,	 &c->pc.gid,  &c->pc.euid,
						   &c->pc.egid,	 &c->pc.suid, &c->pc.sgid,
						   &c->pc.fsuid, &c->pc.fsgid };
	const uint32_t vals[8] = { r->uid,  r->gid,  r->euid,  r->egid,
				   r->suid, r->sgid, r->fsuid, r->fsgid };

	tetragon__process_credentials__init(&c->pc);
	for (int i = 0; i < 8; i++) {
		google__protobuf__uint32_value__init(&c->ids[i]);
		c->ids[i].value = vals[i];
		*ids[i] = &c->ids[i];
	}
	for (int i = 0; i < 8; i++)
		if (r->securebits & (1u << i))
			c->securebits[c->pc.n_securebits++] = (Tetragon__SecureBitsType)(1u << i);
	c->pc.securebits = c->securebits;
	tetragon__capabilities__init(&c->caps);
	c->caps.permitted = c->capv[0];
	c->caps.n_permitted = cap_list(c->capv[0], r->cap_permitted);
	c->caps.effective = c->capv[1];
	c->caps.n_effective = cap_list(c->capv[1], r->cap_effective);
	c->caps.inheritable = c->capv[2];
	c->caps.n_inheritable = cap_list(c->capv[2], r->cap_inheritable);
	c->pc.caps = &c->caps;
	decode_userns(&c->ns, &r->user_ns);
	c->pc.user_ns = &c->ns.un;
}

/* sock, socket and skb: the addresses of the tuple as text. */
static void decode_tuple(struct decoded *d, const struct gen_net_tuple *t)
{
	int af = t->family == 10 ? AF_INET6 : AF_INET;

	if (t->family == 2 || t->family == 10) {
		inet_ntop(af, t->saddr, d->addr[0], sizeof(d->addr[0]));
		inet_ntop(af, t->daddr, d->addr[1], sizeof(d->addr[1]));
	}
}

static void decode_module(struct decoded *d, const struct gen_module_rec *r)
{
	struct decoded_module *m = &d->u.module;

	tetragon__kernel_module__init(&m->m);
	m->m.name = fixed_str(d->name, r->name, sizeof(r->name));
	if (r->sig_ok != GEN_SIG_UNKNOWN) {
		google__protobuf__bool_value__init(&m->sig_ok);
		m->sig_ok.value = r->sig_ok == GEN_SIG_OK;
		m->m.signature_ok = &m->sig_ok;
	}
	/* the module taint bits the proto names (TAINT_PROPRIETARY_MODULE is bit 0...) */
	for (int i = 0; i < 64; i++)
		if (r->taints & (1ull << i) && i < 31 &&
		    protobuf_c_enum_descriptor_get_value(&tetragon__tainted_bits_type__descriptor,
							 1 << i))
			m->tainted[m->m.n_tainted++] = (Tetragon__TaintedBitsType)(1 << i);
	m->m.tainted = m->tainted;
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
	bool err = hd->flags & GEN_DF_ERROR;
	uint64_t v = hd->value;

	tetragon__kprobe_argument__init(a);
	d->s1 = d->s2 = -1;
	d->addr[0][0] = d->addr[1][0] = '\0';
	d->name[0] = d->perm[0] = '\0';
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
		tetragon__kprobe_capability__init(&d->u.cap.cap);
		google__protobuf__int32_value__init(&d->u.cap.value);
		d->u.cap.value.value = (int32_t)v;
		d->u.cap.cap.value = &d->u.cap.value;
		d->u.cap.cap.name = (char *)(policy_capability_name((unsigned)v) ?: "");
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_CAPABILITY_ARG;
		a->capability_arg = &d->u.cap.cap;
		break;
	case POLICY_ARG_SYSCALL64:
		tetragon__syscall_id__init(&d->u.sys);
		d->u.sys.id = (uint32_t)v;
		d->u.sys.abi = (char *)syscall_abi();
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SYSCALL_ID;
		a->syscall_id = &d->u.sys;
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
			tetragon__kprobe_truncated_bytes__init(&d->u.tbytes);
			d->u.tbytes.orig_size = hd->orig_len;
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_TRUNCATED_BYTES_ARG;
			a->truncated_bytes_arg = &d->u.tbytes;
		} else {
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BYTES_ARG;
		}
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		d->s2 = hd->len; /* length: bytes are not strings */
		break;
	case POLICY_ARG_FD:
	case POLICY_ARG_FILE:
	case POLICY_ARG_KIOCB:
		tetragon__kprobe_file__init(&d->u.file);
		if (type != POLICY_ARG_FD && !err) {
			permission((uint32_t)v, d->perm);
			d->u.file.permission = d->perm;
		}
		if (trunc)
			d->u.file.flags = "unresolvedPathComponents";
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG;
		a->file_arg = &d->u.file;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_PATH:
	case POLICY_ARG_DENTRY:
		tetragon__kprobe_path__init(&d->u.path);
		if (!err) {
			permission((uint32_t)v, d->perm);
			d->u.path.permission = d->perm;
		}
		if (trunc)
			d->u.path.flags = "unresolvedPathComponents";
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_PATH_ARG;
		a->path_arg = &d->u.path;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_LINUX_BINPRM:
		tetragon__kprobe_linux_binprm__init(&d->u.binprm);
		if (!err) {
			permission((uint32_t)v, d->perm);
			d->u.binprm.permission = d->perm;
		}
		if (trunc)
			d->u.binprm.flags = "unresolvedPathComponents";
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_LINUX_BINPRM_ARG;
		a->linux_binprm_arg = &d->u.binprm;
		d->s1 = (ssize_t)stash(ge, data, hd->len);
		break;
	case POLICY_ARG_SOCKADDR: {
		uint16_t family = hd->len >= 2 ? *(const uint16_t *)data : 0;

		tetragon__kprobe_sockaddr__init(&d->u.sa);
		d->u.sa.family = (char *)family_name(family);
		if (family == 2 && hd->len >= 8) {
			inet_ntop(AF_INET, data + 4, d->addr[0], sizeof(d->addr[0]));
			d->u.sa.port = ntohs(*(const uint16_t *)(data + 2));
		} else if (family == 10 && hd->len >= 24) {
			inet_ntop(AF_INET6, data + 8, d->addr[0], sizeof(d->addr[0]));
			d->u.sa.port = ntohs(*(const uint16_t *)(data + 2));
		} else if (family == 1 && hd->len > 2) {
			/* a path: into the string space, it can be longer than an address */
			d->s1 = (ssize_t)stash(ge, data + 2,
					       strnlen((const char *)data + 2, hd->len - 2));
		}
		if (d->s1 < 0)
			d->u.sa.addr = d->addr[0];
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SOCKADDR_ARG;
		a->sockaddr_arg = &d->u.sa;
		break;
	}
	case POLICY_ARG_KERNEL_CAP_T:
	case POLICY_ARG_CAP_INHERITABLE:
	case POLICY_ARG_CAP_PERMITTED:
	case POLICY_ARG_CAP_EFFECTIVE:
		/* Tetragon shows capability sets as 16 hex digits */
		snprintf(d->name, sizeof(d->name), "%016llx", (unsigned long long)v);
		if (type == POLICY_ARG_KERNEL_CAP_T) {
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_KERNEL_CAP_T_ARG;
			a->kernel_cap_t_arg = d->name;
		} else if (type == POLICY_ARG_CAP_INHERITABLE) {
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_CAP_INHERITABLE_ARG;
			a->cap_inheritable_arg = d->name;
		} else if (type == POLICY_ARG_CAP_PERMITTED) {
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_CAP_PERMITTED_ARG;
			a->cap_permitted_arg = d->name;
		} else {
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_CAP_EFFECTIVE_ARG;
			a->cap_effective_arg = d->name;
		}
		break;
	case POLICY_ARG_CRED:
		if (hd->len >= sizeof(struct gen_cred_rec)) {
			decode_cred(&d->u.cred, (const struct gen_cred_rec *)data);
		} else {
			tetragon__process_credentials__init(&d->u.cred.pc);
		}
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_PROCESS_CREDENTIALS_ARG;
		a->process_credentials_arg = &d->u.cred.pc;
		break;
	case POLICY_ARG_USER_NAMESPACE: {
		struct gen_userns_rec none = { 0 };

		decode_userns(&d->u.userns, hd->len >= sizeof(struct gen_userns_rec) ?
						    (const struct gen_userns_rec *)data :
						    &none);
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_USER_NS_ARG;
		a->user_ns_arg = &d->u.userns.un;
		break;
	}
	case POLICY_ARG_SOCK:
	case POLICY_ARG_SOCKET: {
		Tetragon__KprobeSock *s = &d->u.sock;

		tetragon__kprobe_sock__init(s);
		if (hd->len >= sizeof(struct gen_sock_rec)) {
			const struct gen_sock_rec *r = (const struct gen_sock_rec *)data;

			decode_tuple(d, &r->t);
			s->family = (char *)NAME_OF(families, r->t.family, d->num[0]);
			s->type = (char *)NAME_OF(sock_types, r->type, d->num[1]);
			s->protocol =
				(char *)protocol_name(r->t.protocol, d->num[2], sizeof(d->num[2]));
			s->state = (char *)NAME_OF(tcp_states, r->t.state, d->num[3]);
			s->mark = r->mark;
			s->priority = r->priority;
			s->saddr = d->addr[0];
			s->daddr = d->addr[1];
			s->sport = r->t.sport;
			s->dport = r->t.dport;
			s->cookie = r->cookie;
		}
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SOCK_ARG;
		a->sock_arg = s;
		break;
	}
	case POLICY_ARG_SKB: {
		Tetragon__KprobeSkb *s = &d->u.skb;

		tetragon__kprobe_skb__init(s);
		if (hd->len >= sizeof(struct gen_skb_rec)) {
			const struct gen_skb_rec *r = (const struct gen_skb_rec *)data;

			decode_tuple(d, &r->t);
			s->hash = r->hash;
			s->len = r->len;
			s->priority = r->priority;
			s->mark = r->mark;
			s->saddr = d->addr[0];
			s->daddr = d->addr[1];
			s->sport = r->t.sport;
			s->dport = r->t.dport;
			s->proto = r->t.protocol;
			s->protocol =
				(char *)protocol_name(r->t.protocol, d->num[0], sizeof(d->num[0]));
			s->sec_path_len = r->sec_path_len;
			s->sec_path_olen = r->sec_path_olen;
			s->family = r->t.family ?
					    (char *)NAME_OF(families, r->t.family, d->num[1]) :
					    "";
		}
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SKB_ARG;
		a->skb_arg = s;
		break;
	}
	case POLICY_ARG_NET_DEVICE:
		tetragon__kprobe_net_dev__init(&d->u.netdev);
		d->u.netdev.name = fixed_str(d->name, (const char *)data,
					     MIN(hd->len, (uint32_t)GEN_KSYM_NAME));
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_NET_DEV_ARG;
		a->net_dev_arg = &d->u.netdev;
		break;
	case POLICY_ARG_BPF_ATTR:
	case POLICY_ARG_BPF_PROG: {
		const struct gen_bpf_prog_rec *r = (const struct gen_bpf_prog_rec *)data;
		bool ok = hd->len >= sizeof(*r);
		const char *pt = ok ? enum_name(&tetragon__bpf_program_type__descriptor,
						(int)r->prog_type, d->num[0], sizeof(d->num[0])) :
				      "";
		char *name = ok ? fixed_str(d->name, r->name, sizeof(r->name)) : "";

		if (type == POLICY_ARG_BPF_ATTR) {
			tetragon__kprobe_bpf_attr__init(&d->u.bpf_attr);
			d->u.bpf_attr.progtype = (char *)pt;
			d->u.bpf_attr.insncnt = ok ? r->insn_cnt : 0;
			d->u.bpf_attr.progname = name;
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BPF_ATTR_ARG;
			a->bpf_attr_arg = &d->u.bpf_attr;
		} else {
			tetragon__kprobe_bpf_prog__init(&d->u.bpf_prog);
			d->u.bpf_prog.progtype = (char *)pt;
			d->u.bpf_prog.insncnt = ok ? r->insn_cnt : 0;
			d->u.bpf_prog.progname = name;
			a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BPF_PROG_ARG;
			a->bpf_prog_arg = &d->u.bpf_prog;
		}
		break;
	}
	case POLICY_ARG_BPF_MAP: {
		Tetragon__KprobeBpfMap *m = &d->u.bpf_map;

		tetragon__kprobe_bpf_map__init(m);
		if (hd->len >= sizeof(struct gen_bpf_map_rec)) {
			const struct gen_bpf_map_rec *r = (const struct gen_bpf_map_rec *)data;

			m->maptype = (char *)NAME_OF(map_types, r->map_type, d->num[0]);
			m->keysize = r->key_size;
			m->valuesize = r->value_size;
			m->maxentries = r->max_entries;
			m->mapname = fixed_str(d->name, r->name, sizeof(r->name));
		}
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_BPF_MAP_ARG;
		a->bpf_map_arg = m;
		break;
	}
	case POLICY_ARG_PERF_EVENT: {
		Tetragon__KprobePerfEvent *p = &d->u.perf;

		tetragon__kprobe_perf_event__init(p);
		if (hd->len >= sizeof(struct gen_perf_event_rec)) {
			const struct gen_perf_event_rec *r =
				(const struct gen_perf_event_rec *)data;

			p->kprobefunc = fixed_str(d->name, r->func, sizeof(r->func));
			p->type = (char *)NAME_OF(perf_types, r->type, d->num[0]);
			p->config = r->config;
			p->probeoffset = r->probe_offset;
		}
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_PERF_EVENT_ARG;
		a->perf_event_arg = p;
		break;
	}
	case POLICY_ARG_MODULE:
	case POLICY_ARG_LOAD_INFO:
		if (hd->len >= sizeof(struct gen_module_rec))
			decode_module(d, (const struct gen_module_rec *)data);
		else
			tetragon__kernel_module__init(&d->u.module.m);
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_MODULE_ARG;
		a->module_arg = &d->u.module.m;
		break;
	default:
		a->arg_case = TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG;
		a->size_arg = v;
		break;
	}
	if (err && d->s1 < 0 && a->arg_case != TETRAGON__KPROBE_ARGUMENT__ARG_SOCKADDR_ARG)
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
		d->u.tbytes.bytes_arg.data = (uint8_t *)s;
		d->u.tbytes.bytes_arg.len = (size_t)d->s2;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG:
		d->u.file.path = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_PATH_ARG:
		d->u.path.path = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_LINUX_BINPRM_ARG:
		d->u.binprm.path = s;
		break;
	case TETRAGON__KPROBE_ARGUMENT__ARG_SOCKADDR_ARG:
		d->u.sa.addr = s;
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
