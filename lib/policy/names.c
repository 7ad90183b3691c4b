// SPDX-License-Identifier: Apache-2.0
/* Names of the policy language and of the constants its values may use, and suggestions. */
#include <ctype.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/capability.h>

#include "lib/policy/internal.h"

#define N(x)          \
	{             \
#x, x \
	}

static const struct policy_name arg_types[] = {
	{ "auto", POLICY_ARG_AUTO },
	{ "int8", POLICY_ARG_INT8 },
	{ "sint8", POLICY_ARG_INT8 },
	{ "uint8", POLICY_ARG_UINT8 },
	{ "int16", POLICY_ARG_INT16 },
	{ "sint16", POLICY_ARG_INT16 },
	{ "uint16", POLICY_ARG_UINT16 },
	{ "int", POLICY_ARG_INT32 },
	{ "int32", POLICY_ARG_INT32 },
	{ "sint32", POLICY_ARG_INT32 },
	{ "uint32", POLICY_ARG_UINT32 },
	{ "long", POLICY_ARG_INT64 },
	{ "int64", POLICY_ARG_INT64 },
	{ "sint64", POLICY_ARG_INT64 },
	{ "ulong", POLICY_ARG_UINT64 },
	{ "uint64", POLICY_ARG_UINT64 },
	{ "unsigned long", POLICY_ARG_UINT64 },
	{ "size_t", POLICY_ARG_SIZE_T },
	{ "string", POLICY_ARG_STRING },
	{ "char_buf", POLICY_ARG_CHAR_BUF },
	{ "char_iovec", POLICY_ARG_CHAR_IOVEC },
	{ "const_buf", POLICY_ARG_CONST_BUF },
	{ "data_loc", POLICY_ARG_DATA_LOC },
	{ "filename", POLICY_ARG_FILENAME },
	{ "fd", POLICY_ARG_FD },
	{ "file", POLICY_ARG_FILE },
	{ "path", POLICY_ARG_PATH },
	{ "dentry", POLICY_ARG_DENTRY },
	{ "kiocb", POLICY_ARG_KIOCB },
	{ "iov_iter", POLICY_ARG_IOV_ITER },
	{ "linux_binprm", POLICY_ARG_LINUX_BINPRM },
	{ "skb", POLICY_ARG_SKB },
	{ "sock", POLICY_ARG_SOCK },
	{ "socket", POLICY_ARG_SOCKET },
	{ "sockaddr", POLICY_ARG_SOCKADDR },
	{ "sockaddr_un", POLICY_ARG_SOCKADDR_UN },
	{ "net_device", POLICY_ARG_NET_DEVICE },
	{ "cred", POLICY_ARG_CRED },
	{ "capability", POLICY_ARG_CAPABILITY },
	{ "kernel_cap_t", POLICY_ARG_KERNEL_CAP_T },
	{ "cap_inheritable", POLICY_ARG_CAP_INHERITABLE },
	{ "cap_permitted", POLICY_ARG_CAP_PERMITTED },
	{ "cap_effective", POLICY_ARG_CAP_EFFECTIVE },
	{ "user_namespace", POLICY_ARG_USER_NAMESPACE },
	{ "bpf_attr", POLICY_ARG_BPF_ATTR },
	{ "bpf_map", POLICY_ARG_BPF_MAP },
	{ "bpf_prog", POLICY_ARG_BPF_PROG },
	{ "perf_event", POLICY_ARG_PERF_EVENT },
	{ "bpf_cmd", POLICY_ARG_BPF_CMD },
	{ "load_info", POLICY_ARG_LOAD_INFO },
	{ "module", POLICY_ARG_MODULE },
	{ "syscall64", POLICY_ARG_SYSCALL64 },
	{ "nop", POLICY_ARG_NOP },
	{ NULL, 0 },
};

static const struct policy_name operators[] = {
	{ "GT", POLICY_OP_GT },
	{ "gt", POLICY_OP_GT },
	{ "GreaterThan", POLICY_OP_GT },
	{ "LT", POLICY_OP_LT },
	{ "lt", POLICY_OP_LT },
	{ "LessThan", POLICY_OP_LT },
	{ "Equal", POLICY_OP_EQUAL },
	{ "eq", POLICY_OP_EQUAL },
	{ "NotEqual", POLICY_OP_NOT_EQUAL },
	{ "neq", POLICY_OP_NOT_EQUAL },
	{ "In", POLICY_OP_IN },
	{ "NotIn", POLICY_OP_NOT_IN },
	{ "Prefix", POLICY_OP_PREFIX },
	{ "Postfix", POLICY_OP_POSTFIX },
	{ "InMap", POLICY_OP_IN_MAP },
	{ "NotInMap", POLICY_OP_NOT_IN_MAP },
	{ "Mask", POLICY_OP_MASK },
	{ "SAddr", POLICY_OP_SADDR },
	{ "DAddr", POLICY_OP_DADDR },
	{ "SPort", POLICY_OP_SPORT },
	{ "DPort", POLICY_OP_DPORT },
	{ "Protocol", POLICY_OP_PROTOCOL },
	{ "NotSPort", POLICY_OP_NOT_SPORT },
	{ "NotDPort", POLICY_OP_NOT_DPORT },
	{ "SPortPriv", POLICY_OP_SPORT_PRIV },
	{ "NotSPortPriv", POLICY_OP_NOT_SPORT_PRIV },
	{ "DPortPriv", POLICY_OP_DPORT_PRIV },
	{ "NotDPortPriv", POLICY_OP_NOT_DPORT_PRIV },
	{ "NotSAddr", POLICY_OP_NOT_SADDR },
	{ "NotDAddr", POLICY_OP_NOT_DADDR },
	{ "NotPrefix", POLICY_OP_NOT_PREFIX },
	{ "NotPostfix", POLICY_OP_NOT_POSTFIX },
	{ "Family", POLICY_OP_FAMILY },
	{ "State", POLICY_OP_STATE },
	{ "CapabilitiesGained", POLICY_OP_CAPABILITIES_GAINED },
	{ "InRange", POLICY_OP_IN_RANGE },
	{ "NotInRange", POLICY_OP_NOT_IN_RANGE },
	{ "SubString", POLICY_OP_SUBSTRING },
	{ "SubStringIgnCase", POLICY_OP_SUBSTRING_IGN_CASE },
	{ "CelExpr", POLICY_OP_CEL_EXPR },
	{ "FileType", POLICY_OP_FILE_TYPE },
	{ "NotFileType", POLICY_OP_NOT_FILE_TYPE },
	{ NULL, 0 },
};

static const struct policy_name actions[] = {
	{ "Post", POLICY_ACTION_POST },
	{ "FollowFD", POLICY_ACTION_FOLLOW_FD },
	{ "Sigkill", POLICY_ACTION_SIGKILL },
	{ "UnfollowFD", POLICY_ACTION_UNFOLLOW_FD },
	{ "Override", POLICY_ACTION_OVERRIDE },
	{ "CopyFD", POLICY_ACTION_COPY_FD },
	{ "GetUrl", POLICY_ACTION_GET_URL },
	{ "DnsLookup", POLICY_ACTION_DNS_LOOKUP },
	{ "NoPost", POLICY_ACTION_NO_POST },
	{ "Signal", POLICY_ACTION_SIGNAL },
	{ "TrackSock", POLICY_ACTION_TRACK_SOCK },
	{ "UntrackSock", POLICY_ACTION_UNTRACK_SOCK },
	{ "NotifyEnforcer", POLICY_ACTION_NOTIFY_ENFORCER },
	{ "CleanupEnforcerNotification", POLICY_ACTION_CLEANUP_ENFORCER_NOTIFICATION },
	{ "Set", POLICY_ACTION_SET },
	{ NULL, 0 },
};

static const struct policy_name namespaces[] = {
	{ "Uts", POLICY_NS_UTS },
	{ "Ipc", POLICY_NS_IPC },
	{ "Mnt", POLICY_NS_MNT },
	{ "Pid", POLICY_NS_PID },
	{ "PidForChildren", POLICY_NS_PID_FOR_CHILDREN },
	{ "Net", POLICY_NS_NET },
	{ "Time", POLICY_NS_TIME },
	{ "TimeForChildren", POLICY_NS_TIME_FOR_CHILDREN },
	{ "Cgroup", POLICY_NS_CGROUP },
	{ "User", POLICY_NS_USER },
	{ NULL, 0 },
};

static const struct policy_name cap_types[] = {
	{ "Effective", POLICY_CAP_EFFECTIVE },
	{ "Inheritable", POLICY_CAP_INHERITABLE },
	{ "Permitted", POLICY_CAP_PERMITTED },
	{ NULL, 0 },
};

static const struct policy_name modes[] = {
	{ "enforce", POLICY_MODE_ENFORCE },
	{ "monitor", POLICY_MODE_MONITOR },
	{ NULL, 0 },
};

static const struct policy_name override_methods[] = {
	{ "", POLICY_OVERRIDE_DEFAULT },
	{ "override-return", POLICY_OVERRIDE_RETURN },
	{ "fmod-ret", POLICY_OVERRIDE_FMOD_RET },
	{ NULL, 0 },
};

static const struct policy_name rate_limit_scopes[] = {
	{ "thread", POLICY_RATE_LIMIT_THREAD },
	{ "process", POLICY_RATE_LIMIT_PROCESS },
	{ "global", POLICY_RATE_LIMIT_GLOBAL },
	{ NULL, 0 },
};

static const struct policy_name list_types[] = {
	{ "syscalls", POLICY_LIST_SYSCALLS },
	{ "generated_syscalls", POLICY_LIST_GENERATED_SYSCALLS },
	{ "generated_ftrace", POLICY_LIST_GENERATED_FTRACE },
	{ NULL, 0 },
};

static const struct policy_name label_ops[] = {
	{ "In", POLICY_LABEL_IN },
	{ "NotIn", POLICY_LABEL_NOT_IN },
	{ "Exists", POLICY_LABEL_EXISTS },
	{ "DoesNotExist", POLICY_LABEL_DOES_NOT_EXIST },
	{ NULL, 0 },
};

static const struct policy_name capabilities[] = {
	N(CAP_CHOWN),
	N(CAP_DAC_OVERRIDE),
	N(CAP_DAC_READ_SEARCH),
	N(CAP_FOWNER),
	N(CAP_FSETID),
	N(CAP_KILL),
	N(CAP_SETGID),
	N(CAP_SETUID),
	N(CAP_SETPCAP),
	N(CAP_LINUX_IMMUTABLE),
	N(CAP_NET_BIND_SERVICE),
	N(CAP_NET_BROADCAST),
	N(CAP_NET_ADMIN),
	N(CAP_NET_RAW),
	N(CAP_IPC_LOCK),
	N(CAP_IPC_OWNER),
	N(CAP_SYS_MODULE),
	N(CAP_SYS_RAWIO),
	N(CAP_SYS_CHROOT),
	N(CAP_SYS_PTRACE),
	N(CAP_SYS_PACCT),
	N(CAP_SYS_ADMIN),
	N(CAP_SYS_BOOT),
	N(CAP_SYS_NICE),
	N(CAP_SYS_RESOURCE),
	N(CAP_SYS_TIME),
	N(CAP_SYS_TTY_CONFIG),
	N(CAP_MKNOD),
	N(CAP_LEASE),
	N(CAP_AUDIT_WRITE),
	N(CAP_AUDIT_CONTROL),
	N(CAP_SETFCAP),
	N(CAP_MAC_OVERRIDE),
	N(CAP_MAC_ADMIN),
	N(CAP_SYSLOG),
	N(CAP_WAKE_ALARM),
	N(CAP_BLOCK_SUSPEND),
	N(CAP_AUDIT_READ),
	N(CAP_PERFMON),
	N(CAP_BPF),
	N(CAP_CHECKPOINT_RESTORE),
	{ NULL, 0 },
};

static const struct policy_name families[] = {
	N(AF_UNSPEC),	N(AF_UNIX),	 N(AF_LOCAL),	N(AF_INET),	  N(AF_AX25),
	N(AF_IPX),	N(AF_APPLETALK), N(AF_NETROM),	N(AF_BRIDGE),	  N(AF_ATMPVC),
	N(AF_X25),	N(AF_INET6),	 N(AF_ROSE),	N(AF_DECnet),	  N(AF_NETBEUI),
	N(AF_SECURITY), N(AF_KEY),	 N(AF_NETLINK), N(AF_ROUTE),	  N(AF_PACKET),
	N(AF_ASH),	N(AF_ECONET),	 N(AF_ATMSVC),	N(AF_RDS),	  N(AF_SNA),
	N(AF_IRDA),	N(AF_PPPOX),	 N(AF_WANPIPE), N(AF_LLC),	  N(AF_IB),
	N(AF_MPLS),	N(AF_CAN),	 N(AF_TIPC),	N(AF_BLUETOOTH),  N(AF_IUCV),
	N(AF_RXRPC),	N(AF_ISDN),	 N(AF_PHONET),	N(AF_IEEE802154), N(AF_CAIF),
	N(AF_ALG),	N(AF_NFC),	 N(AF_VSOCK),	N(AF_KCM),	  N(AF_QIPCRTR),
	N(AF_SMC),	N(AF_XDP),	 N(AF_MCTP),	{ NULL, 0 },
};

static const struct policy_name protocols[] = {
	N(IPPROTO_IP),	   N(IPPROTO_ICMP),	N(IPPROTO_IGMP),   N(IPPROTO_IPIP),
	N(IPPROTO_TCP),	   N(IPPROTO_EGP),	N(IPPROTO_PUP),	   N(IPPROTO_UDP),
	N(IPPROTO_IDP),	   N(IPPROTO_TP),	N(IPPROTO_DCCP),   N(IPPROTO_IPV6),
	N(IPPROTO_RSVP),   N(IPPROTO_GRE),	N(IPPROTO_ESP),	   N(IPPROTO_AH),
	N(IPPROTO_ICMPV6), N(IPPROTO_MTP),	N(IPPROTO_BEETPH), N(IPPROTO_ENCAP),
	N(IPPROTO_PIM),	   N(IPPROTO_COMP),	N(IPPROTO_SCTP),   N(IPPROTO_UDPLITE),
	N(IPPROTO_MPLS),   N(IPPROTO_ETHERNET), N(IPPROTO_RAW),	   N(IPPROTO_MPTCP),
	{ NULL, 0 },
};

/* The kernel's TCP states (include/net/tcp_states.h); glibc lacks some of them. */
static const struct policy_name tcp_states[] = {
	{ "TCP_ESTABLISHED", 1 },     { "TCP_SYN_SENT", 2 },
	{ "TCP_SYN_RECV", 3 },	      { "TCP_FIN_WAIT1", 4 },
	{ "TCP_FIN_WAIT2", 5 },	      { "TCP_TIME_WAIT", 6 },
	{ "TCP_CLOSE", 7 },	      { "TCP_CLOSE_WAIT", 8 },
	{ "TCP_LAST_ACK", 9 },	      { "TCP_LISTEN", 10 },
	{ "TCP_CLOSING", 11 },	      { "TCP_NEW_SYN_RECV", 12 },
	{ "TCP_BOUND_INACTIVE", 13 }, { NULL, 0 },
};

static const struct policy_name file_types[] = {
	{ "sock", S_IFSOCK }, { "socket", S_IFSOCK },
	{ "lnk", S_IFLNK },   { "link", S_IFLNK },
	{ "reg", S_IFREG },   { "regular", S_IFREG },
	{ "blk", S_IFBLK },   { "block", S_IFBLK },
	{ "dir", S_IFDIR },   { "chr", S_IFCHR },
	{ "char", S_IFCHR },  { "fifo", S_IFIFO },
	{ "pipe", S_IFIFO },  { NULL, 0 },
};

static const struct policy_name bpf_cmds[] = {
	N(BPF_MAP_CREATE),
	N(BPF_MAP_LOOKUP_ELEM),
	N(BPF_MAP_UPDATE_ELEM),
	N(BPF_MAP_DELETE_ELEM),
	N(BPF_MAP_GET_NEXT_KEY),
	N(BPF_PROG_LOAD),
	N(BPF_OBJ_PIN),
	N(BPF_OBJ_GET),
	N(BPF_PROG_ATTACH),
	N(BPF_PROG_DETACH),
	N(BPF_PROG_TEST_RUN),
	N(BPF_PROG_GET_NEXT_ID),
	N(BPF_MAP_GET_NEXT_ID),
	N(BPF_PROG_GET_FD_BY_ID),
	N(BPF_MAP_GET_FD_BY_ID),
	N(BPF_OBJ_GET_INFO_BY_FD),
	N(BPF_PROG_QUERY),
	N(BPF_RAW_TRACEPOINT_OPEN),
	N(BPF_BTF_LOAD),
	N(BPF_BTF_GET_FD_BY_ID),
	N(BPF_TASK_FD_QUERY),
	N(BPF_MAP_LOOKUP_AND_DELETE_ELEM),
	N(BPF_MAP_FREEZE),
	N(BPF_BTF_GET_NEXT_ID),
	N(BPF_MAP_LOOKUP_BATCH),
	N(BPF_MAP_LOOKUP_AND_DELETE_BATCH),
	N(BPF_MAP_UPDATE_BATCH),
	N(BPF_MAP_DELETE_BATCH),
	N(BPF_LINK_CREATE),
	N(BPF_LINK_UPDATE),
	N(BPF_LINK_GET_FD_BY_ID),
	N(BPF_LINK_GET_NEXT_ID),
	N(BPF_ENABLE_STATS),
	N(BPF_ITER_CREATE),
	N(BPF_LINK_DETACH),
	N(BPF_PROG_BIND_MAP),
	{ NULL, 0 },
};

static const struct {
	const struct policy_name *names;
	bool icase;
} tables[POLICY_TABLE_MAX] = {
	[POLICY_TABLE_ARG_TYPE] = { arg_types, false },
	[POLICY_TABLE_OPERATOR] = { operators, false },
	[POLICY_TABLE_ACTION] = { actions, true },
	[POLICY_TABLE_NS] = { namespaces, true },
	[POLICY_TABLE_CAP_TYPE] = { cap_types, true },
	[POLICY_TABLE_MODE] = { modes, false },
	[POLICY_TABLE_OVERRIDE_METHOD] = { override_methods, false },
	[POLICY_TABLE_RATE_LIMIT_SCOPE] = { rate_limit_scopes, true },
	[POLICY_TABLE_LIST_TYPE] = { list_types, false },
	[POLICY_TABLE_LABEL_OP] = { label_ops, false },
	[POLICY_TABLE_CAPABILITY] = { capabilities, false },
	[POLICY_TABLE_FAMILY] = { families, false },
	[POLICY_TABLE_PROTOCOL] = { protocols, false },
	[POLICY_TABLE_TCP_STATE] = { tcp_states, false },
	[POLICY_TABLE_FILE_TYPE] = { file_types, false },
	[POLICY_TABLE_BPF_CMD] = { bpf_cmds, false },
};

int policy_names_lookup(enum policy_table t, const char *name, char *hint, size_t hint_size)
{
	const struct policy_name *v = tables[t].names;
	struct policy_suggest s;

	for (size_t i = 0; v[i].name; i++) {
		if (tables[t].icase ? !strcasecmp(v[i].name, name) : streq(v[i].name, name))
			return v[i].value;
	}
	if (hint) {
		policy_suggest_init(&s, name);
		for (size_t i = 0; v[i].name; i++) {
			if (v[i].name[0])
				policy_suggest_add(&s, v[i].name);
		}
		policy_suggest_hint(&s, hint, hint_size);
	}
	return -EINVAL;
}

const char *policy_names_name(enum policy_table t, int value)
{
	const struct policy_name *v = tables[t].names;

	for (size_t i = 0; v[i].name; i++) {
		if (v[i].value == value)
			return v[i].name;
	}
	return NULL;
}

const char *policy_hook_kind_name(enum policy_hook_kind kind)
{
	static const char *const names[POLICY_HOOK_KIND_MAX] = {
		[POLICY_HOOK_KPROBE] = "kprobes",
		[POLICY_HOOK_FENTRY] = "fentries",
		[POLICY_HOOK_TRACEPOINT] = "tracepoints",
		[POLICY_HOOK_UPROBE] = "uprobes",
		[POLICY_HOOK_USDT] = "usdts",
		[POLICY_HOOK_LSM] = "lsmhooks",
	};

	return (unsigned int)kind < POLICY_HOOK_KIND_MAX ? names[kind] : NULL;
}

#define NAME_FUNCS(fname, tname, type)                            \
	const char *policy_##fname##_name(type v)                 \
	{                                                         \
		return policy_names_name(tname, (int)v);          \
	}                                                         \
	int policy_##fname##_from_name(const char *name)          \
	{                                                         \
		return policy_names_lookup(tname, name, NULL, 0); \
	}

NAME_FUNCS(arg_type, POLICY_TABLE_ARG_TYPE, enum policy_arg_type)
NAME_FUNCS(operator, POLICY_TABLE_OPERATOR, enum policy_operator)
NAME_FUNCS(action, POLICY_TABLE_ACTION, enum policy_action_id)
NAME_FUNCS(ns, POLICY_TABLE_NS, enum policy_ns)
NAME_FUNCS(cap_type, POLICY_TABLE_CAP_TYPE, enum policy_cap_type)
NAME_FUNCS(override_method, POLICY_TABLE_OVERRIDE_METHOD, enum policy_override_method)
NAME_FUNCS(rate_limit_scope, POLICY_TABLE_RATE_LIMIT_SCOPE, enum policy_rate_limit_scope)
NAME_FUNCS(list_type, POLICY_TABLE_LIST_TYPE, enum policy_list_type)
NAME_FUNCS(label_op, POLICY_TABLE_LABEL_OP, enum policy_label_op)
NAME_FUNCS(capability, POLICY_TABLE_CAPABILITY, unsigned int)

const char *policy_mode_name(enum policy_mode mode)
{
	return policy_names_name(POLICY_TABLE_MODE, (int)mode);
}

int policy_mode_from_string(const char *s)
{
	return policy_names_lookup(POLICY_TABLE_MODE, s, NULL, 0);
}

int policy_family_from_name(const char *name)
{
	return policy_names_lookup(POLICY_TABLE_FAMILY, name, NULL, 0);
}

int policy_protocol_from_name(const char *name)
{
	return policy_names_lookup(POLICY_TABLE_PROTOCOL, name, NULL, 0);
}

int policy_tcp_state_from_name(const char *name)
{
	return policy_names_lookup(POLICY_TABLE_TCP_STATE, name, NULL, 0);
}

int policy_file_type_from_name(const char *name)
{
	return policy_names_lookup(POLICY_TABLE_FILE_TYPE, name, NULL, 0);
}

int policy_bpf_cmd_from_name(const char *name)
{
	return policy_names_lookup(POLICY_TABLE_BPF_CMD, name, NULL, 0);
}

int policy_signal_from_name(const char *name)
{
	static const struct policy_name signals[] = {
		N(SIGHUP),  N(SIGINT),	  N(SIGQUIT), N(SIGILL),    N(SIGTRAP), N(SIGABRT),
		N(SIGBUS),  N(SIGFPE),	  N(SIGKILL), N(SIGUSR1),   N(SIGSEGV), N(SIGUSR2),
		N(SIGPIPE), N(SIGALRM),	  N(SIGTERM), N(SIGSTKFLT), N(SIGCHLD), N(SIGCONT),
		N(SIGSTOP), N(SIGTSTP),	  N(SIGTTIN), N(SIGTTOU),   N(SIGURG),	N(SIGXCPU),
		N(SIGXFSZ), N(SIGVTALRM), N(SIGPROF), N(SIGWINCH),  N(SIGIO),	N(SIGPWR),
		N(SIGSYS),  { NULL, 0 },
	};

	for (size_t i = 0; signals[i].name; i++) {
		if (streq(signals[i].name, name) || streq(signals[i].name + 3, name))
			return signals[i].value;
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------------------------------- */
/* Suggestions by edit distance, case-insensitive. */

#define SUGGEST_MAX_LEN 64

/* Edit distance where swapping two adjacent characters counts as one edit. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t del = (size_t)d[i - 1][j] + 1, ins = (size_t)d[i][j - 1] + 1;
			size_t v = MIN(MIN(del, ins), (size_t)d[i - 1][j - 1] + (ca != cb));

			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb)
				v = MIN(v, (size_t)d[i - 2][j - 2] + 1);
			d[i][j] = (unsigned char)v;
		}
	}
	return d[la][lb];
}

void policy_suggest_init(struct policy_suggest *s, const char *input)
{
	s->input = input;
	s->best = NULL;
	s->best_dist = SIZE_MAX;
}

void policy_suggest_add(struct policy_suggest *s, const char *candidate)
{
	size_t len = strlen(s->input), d, limit;

	if (len < 3 || len > SUGGEST_MAX_LEN || strlen(candidate) > SUGGEST_MAX_LEN)
		return;
	d = distance(s->input, candidate);
	limit = MAX((size_t)1, MIN((size_t)3, len / 3));
	if (d <= limit && d < s->best_dist) {
		s->best = candidate;
		s->best_dist = d;
	}
}

const char *policy_suggest_hint(const struct policy_suggest *s, char *buf, size_t size)
{
	if (s->best)
		snprintf(buf, size, " (did you mean '%s'?)", s->best);
	else if (size)
		buf[0] = '\0';
	return buf;
}

/* ---------------------------------------------------------------------------------------- */

int policy_parse_int(const char *s, bool is_signed, uint64_t *ret)
{
	bool neg = false;
	uint64_t v = 0;
	unsigned int base = 10;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d;

		if (isdigit((unsigned char)*s))
			d = (unsigned int)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned int)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (neg) {
		if (!is_signed && v)
			return -ERANGE;
		if (v > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		v = (uint64_t)(-(int64_t)(v - 1) - 1);
	} else if (is_signed && v > (uint64_t)INT64_MAX) {
		return -ERANGE;
	}
	*ret = v;
	return 0;
}
