/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic policy programs (generic.bpf.c) and the agent's policy compiler
 * (agent/compile.c) share these: how a hook reads its arguments, its selectors
 * (evaluated in the kernel, before any event is written) and actions, and the
 * records it writes. One set of programs serves every policy; a hook is an
 * entry in the "hooks" map, found through the attach cookie. Fixed-width fields
 * only, widest first, explicit padding. Keep in sync with agent/compile.c and
 * agent/generic_events.c.
 */
#pragma once

#include "event.h"

#define GEN_MAX_HOOKS 4096
#define GEN_MAX_POLICIES 1024
#define GEN_MAX_ARGS 6 /* args + data (5), and the return value */
#define GEN_ARG_SLOTS 8 /* arrays indexed by argument are this long: index & 7 is in bounds */
#define GEN_RET_ARG 5 /* slot of the return value */
#define GEN_MAX_SELECTORS 5
#define GEN_MAX_ARG_FILTERS 5
#define GEN_MAX_RET_FILTERS 2
#define GEN_MAX_VALUES 8 /* numbers; or 4 ranges (lo, hi); or 4 addresses (addr, mask) */
#define GEN_MAX_ACTIONS 3
#define GEN_MAX_NS_FILTERS 10
#define GEN_MAX_PIDS 4
#define GEN_ARG_DATA_MAX 4096 /* bytes of one argument's data */
#define GEN_STACK_DEPTH 32

/* Hook kinds: where the raw argument values come from. */
#define GEN_HOOK_TRACEPOINT 1 /* fields of a tracepoint record at known offsets */
#define GEN_HOOK_SYSCALL 2 /* syscalls:sys_enter_* / sys_exit_*: args at 16 + 8 * i */
#define GEN_HOOK_UPROBE 3 /* pt_regs */
#define GEN_HOOK_KPROBE 4 /* pt_regs of a kernel function */
#define GEN_HOOK_FENTRY 5 /* the u64 array of a trampoline */
#define GEN_HOOK_LSM 6

/* Argument types, as the kernel side reads them (gen_arg.type). */
#define GEN_ARG_NONE 0
#define GEN_ARG_INT 1 /* signed, tp_size bytes */
#define GEN_ARG_UINT 2
#define GEN_ARG_STRING 3 /* NUL-terminated, pointer */
#define GEN_ARG_CHAR_BUF 4 /* pointer + size from size_arg (or the return value) */
#define GEN_ARG_CHAR_IOVEC 5 /* struct iovec *, count from size_arg */
#define GEN_ARG_FD 6 /* resolved to the file's path */
#define GEN_ARG_SOCKADDR 7 /* struct sockaddr * */
#define GEN_ARG_DATA_LOC 8 /* tracepoint __data_loc string */
#define GEN_ARG_SKIP 9 /* nop: read nothing */
#define GEN_ARG_FILE 10 /* struct file *: its path, the inode's mode as the value */
#define GEN_ARG_PATH 11 /* struct path *: the same */
#define GEN_ARG_DENTRY 12 /* struct dentry *: the same, the path within its mount */
#define GEN_ARG_LINUX_BINPRM 13 /* struct linux_binprm *: its file's, the same */
#define GEN_ARG_CRED 14 /* struct cred *: gen_cred_rec */
#define GEN_ARG_CAP 15 /* kernel_cap_t value or pointer */
#define GEN_ARG_SOCK 16 /* struct sock *: gen_sock_rec */
#define GEN_ARG_SKB 17 /* struct sk_buff *: gen_skb_rec */
#define GEN_ARG_NET_DEVICE 18 /* struct net_device *: its name */
#define GEN_ARG_SOCKET 19 /* struct socket *: its sock, as GEN_ARG_SOCK */
#define GEN_ARG_USER_NS 20 /* struct user_namespace *: gen_userns_rec */
#define GEN_ARG_BPF_ATTR 21 /* union bpf_attr * of BPF_PROG_LOAD: gen_bpf_prog_rec */
#define GEN_ARG_BPF_PROG 22 /* struct bpf_prog *: gen_bpf_prog_rec */
#define GEN_ARG_BPF_MAP 23 /* struct bpf_map *: gen_bpf_map_rec */
#define GEN_ARG_PERF_EVENT 24 /* struct perf_event *: gen_perf_event_rec */
#define GEN_ARG_MODULE 25 /* struct module *: gen_module_rec */
#define GEN_ARG_LOAD_INFO 26 /* struct load_info *: gen_module_rec */
#define GEN_ARG_KIOCB 27 /* struct kiocb *: its file, as GEN_ARG_FILE */
#define GEN_ARG_TYPES 28

/* gen_arg.flags */
#define GEN_AF_USER (1 << 0) /* the pointer is to user memory */
#define GEN_AF_RETURN_COPY (1 << 1) /* read the buffer when the function returns */
#define GEN_AF_SIZE_FROM_RET (1 << 2) /* char_buf size is the return value */
#define GEN_AF_DEREF (1 << 3) /* the value is a pointer to the object (kernel_cap_t *) */
#define GEN_AF_INLINE (1 << 4) /* a char array inside the tracepoint record */
/*
 * fd: only a descriptor FollowFD named counts; any other one makes the hook
 * skip the event (Tetragon's semantics for fd arguments of policies that follow fds).
 */
#define GEN_AF_FOLLOWED_ONLY (1 << 5)

/*
 * resolve: a path of struct members, followed from the raw value before the type's
 * reader sees it. The compiler turns the member names into steps with the kernel's
 * BTF: step i adds off[i] to the value and, when bit i of deref is set, reads the
 * pointer (8 bytes) stored there. Then, when load is 1, 2 or 4, the value is the
 * scalar of that size stored at the address (sign-extended when sign is set).
 * Without a load the value is an address: of an embedded struct or array.
 */
#define GEN_RESOLVE_MAX 10

struct gen_resolve {
	__u32 off[GEN_RESOLVE_MAX];
	__u16 deref; /* bit per step */
	__u8 n; /* steps; 0: no resolve */
	__u8 load; /* 0, or the size of the final scalar read: 1, 2, 4 */
	__u8 sign;
	__u8 pad[3];
};

struct gen_arg {
	struct gen_resolve res;
	__u32 max_len; /* bytes of data to read (strings, buffers) */
	__u16 offset; /* tracepoint field offset */
	__u8 type; /* GEN_ARG_* */
	__u8 slot; /* raw value: syscall/function argument index */
	__u8 size; /* tracepoint field size: 1, 2, 4, 8 */
	__u8 size_slot; /* char_buf / char_iovec: slot of the size argument + 1; 0: none */
	__u8 flags; /* GEN_AF_* */
	__u8 pad;
};

_Static_assert(sizeof(struct gen_arg) == 60, "gen_arg layout changed");

/* Filter operators (gen_arg_filter.op): Tetragon's numbers. */
#define GEN_OP_GT 1
#define GEN_OP_LT 2
#define GEN_OP_EQ 3
#define GEN_OP_NEQ 4
#define GEN_OP_IN 5
#define GEN_OP_NOT_IN 6
#define GEN_OP_PREFIX 8
#define GEN_OP_POSTFIX 9
#define GEN_OP_IN_MAP 10
#define GEN_OP_NOT_IN_MAP 11
#define GEN_OP_MASK 12
#define GEN_OP_SADDR 13
#define GEN_OP_DADDR 14
#define GEN_OP_SPORT 15
#define GEN_OP_DPORT 16
#define GEN_OP_PROTOCOL 17
#define GEN_OP_NOT_SPORT 18
#define GEN_OP_NOT_DPORT 19
#define GEN_OP_SPORT_PRIV 20
#define GEN_OP_NOT_SPORT_PRIV 21
#define GEN_OP_DPORT_PRIV 22
#define GEN_OP_NOT_DPORT_PRIV 23
#define GEN_OP_NOT_SADDR 24
#define GEN_OP_NOT_DADDR 25
#define GEN_OP_NOT_PREFIX 26
#define GEN_OP_NOT_POSTFIX 27
#define GEN_OP_FAMILY 28
#define GEN_OP_STATE 29
#define GEN_OP_IN_RANGE 31
#define GEN_OP_NOT_IN_RANGE 32
#define GEN_OP_FILE_TYPE 36
#define GEN_OP_NOT_FILE_TYPE 37

/* How a filter's values are held (gen_arg_filter.kind). */
#define GEN_VK_NUM 0 /* v[0..n) numbers (signed when the argument is); FileType: S_IF* */
#define GEN_VK_RANGE 1 /* n pairs v[2i] <= x <= v[2i+1] */
#define GEN_VK_STR_MAP 2 /* strings in the str_* maps under map_id */
#define GEN_VK_NUM_MAP 3 /* numbers in the num_set map under map_id */
/*
 * Network operators on sockaddr, sock, socket and skb. SAddr, DAddr: IPv4 n pairs
 * (address, mask), host order, IPv6 in the addr6 map. Ports: n ranges (lo, hi).
 * On sock, socket and skb Family, Protocol and State are n ranges too.
 */
#define GEN_VK_ADDR 4

struct gen_arg_filter {
	__s64 v[GEN_MAX_VALUES];
	__u32 map_id;
	__u8 slot; /* which argument: 0..4, or GEN_RET_ARG */
	__u8 op;
	__u8 kind;
	__u8 n; /* values in v[] */
	__u8 is_signed;
	__u8 pad[7];
};

/* Actions (gen_action.type): Tetragon's ids. */
#define GEN_ACT_POST 0
#define GEN_ACT_FOLLOW_FD 1
#define GEN_ACT_SIGKILL 2
#define GEN_ACT_UNFOLLOW_FD 3
#define GEN_ACT_OVERRIDE 4
#define GEN_ACT_COPY_FD 5
#define GEN_ACT_GET_URL 6
#define GEN_ACT_DNS_LOOKUP 7
#define GEN_ACT_NO_POST 8
#define GEN_ACT_SIGNAL 9

/* gen_action.flags */
#define GEN_ACTF_KSTACK (1 << 0)
#define GEN_ACTF_USTACK (1 << 1)

#define GEN_RL_THREAD 0
#define GEN_RL_PROCESS 1
#define GEN_RL_GLOBAL 2

struct gen_action {
	__u64 rate_limit_ns; /* Post: at most one event per this interval and key */
	__s32 arg; /* Signal: the signal; Override: the error; FollowFD: fd slot */
	__u32 arg2; /* FollowFD, CopyFD: name slot */
	__u8 type;
	__u8 scope; /* GEN_RL_* */
	__u8 flags;
	__u8 pad[5];
};

/* gen_selector.flags: which filters the selector has */
#define GEN_SF_PIDS (1 << 0)
#define GEN_SF_BINARIES (1 << 1)
#define GEN_SF_PARENT_BINARIES (1 << 2)
#define GEN_SF_NAMESPACES (1 << 3)
#define GEN_SF_NS_CHANGES (1 << 4)
#define GEN_SF_CAPS (1 << 5)
#define GEN_SF_CAP_CHANGES (1 << 6)

/* gen_selector.pid_flags */
#define GEN_PF_NAMESPACE_PID (1 << 0)
#define GEN_PF_FOLLOW_FORKS (1 << 1)

/* gen_selector.bin_flags */
#define GEN_BF_FOLLOW_CHILDREN (1 << 0)

struct gen_ns_filter {
	__u32 inum[4];
	__u8 ns; /* NS_* slot */
	__u8 op; /* In / NotIn */
	__u8 n;
	__u8 pad;
};

struct gen_cap_filter {
	__u64 mask;
	__u8 type; /* 0 effective, 1 inheritable, 2 permitted */
	__u8 op;
	__u8 ns_cap; /* isNamespaceCapability */
	__u8 pad[5];
};

struct gen_selector {
	struct gen_arg_filter args[GEN_MAX_ARG_FILTERS];
	struct gen_arg_filter rets[GEN_MAX_RET_FILTERS];
	struct gen_action actions[GEN_MAX_ACTIONS];
	struct gen_action ret_actions[GEN_MAX_ACTIONS];
	struct gen_ns_filter ns[GEN_MAX_NS_FILTERS];
	struct gen_cap_filter caps;
	struct gen_cap_filter cap_changes;
	__u64 bin_set_bit; /* followChildren: the set's bit in proc_info.bin_sets */
	__u32 pids[GEN_MAX_PIDS];
	__u32 bin_map_id;
	__u32 pbin_map_id;
	__u32 flags; /* GEN_SF_* */
	__u16 ns_change_mask; /* matchNamespaceChanges: bit per NS_* slot */
	__u8 n_args;
	__u8 n_rets;
	__u8 n_actions;
	__u8 n_ret_actions;
	__u8 pid_op;
	__u8 n_pids;
	__u8 pid_flags;
	__u8 bin_op;
	__u8 pbin_op;
	__u8 bin_flags;
	__u8 n_ns;
	__u8 ns_change_op;
	__u8 pad[2];
};

/* gen_hook.flags */
#define GEN_HF_RETURN (1 << 0) /* wait for the return value: one event at exit */
/* a syscall's wrapper (__x64_sys_*): the arguments are in the pt_regs it is given */
#define GEN_HF_SYSCALL_WRAPPER (1 << 1)

/*
 * A hook. Its selectors are entries of the "selectors" map under
 * GEN_SEL_KEY(hook_id, i), so that the programs never index an array with a
 * selector number.
 */
#define GEN_SEL_KEY(hook_id, i) ((hook_id)*8 + (i))

struct gen_hook {
	struct gen_arg args[GEN_ARG_SLOTS]; /* args, then data; the return value in GEN_RET_ARG */
	__u32 policy_id;
	__u32 hook_id;
	__u8 kind; /* GEN_HOOK_* */
	__u8 n_args; /* args + data */
	__u8 n_selectors;
	__u8 flags; /* GEN_HF_* */
	__u8 pad[4];
};

/*
 * A tracepoint runs one program for every hook on it (the kernel allows a program
 * once per tracepoint): its attach cookie names a slot listing the hooks.
 */
#define GEN_MAX_SLOTS 1024
#define GEN_SLOT_HOOKS 32

struct gen_slot {
	__u32 n;
	__u32 hooks[GEN_SLOT_HOOKS];
};

/* Per-policy switches, flipped at run time without reloading anything. */
#define GEN_MODE_ENFORCE 0
#define GEN_MODE_MONITOR 1

struct gen_policy_conf {
	__u8 enabled;
	__u8 mode;
	__u8 pad[6];
};

/* Per-policy action counters (a per-CPU array indexed policy_id * GEN_CNT_MAX + counter). */
#define GEN_CNT_POST 0
#define GEN_CNT_SIGNAL 1
#define GEN_CNT_MONITOR_SIGNAL 2
#define GEN_CNT_OVERRIDE 3
#define GEN_CNT_MONITOR_OVERRIDE 4
#define GEN_CNT_NOPOST 5
#define GEN_CNT_RATE_LIMITED 6
#define GEN_CNT_MATCHED 7
#define GEN_CNT_MAX 8

/* gen_event.actions: what was done (and, MONITOR_*, what monitor mode left undone) */
#define GEN_DID_POST (1 << 0)
#define GEN_DID_SIGKILL (1 << 1)
#define GEN_DID_SIGNAL (1 << 2)
#define GEN_DID_OVERRIDE (1 << 3)
#define GEN_DID_FOLLOW_FD (1 << 4)
#define GEN_DID_UNFOLLOW_FD (1 << 5)
#define GEN_DID_COPY_FD (1 << 6)
#define GEN_DID_GET_URL (1 << 7)
#define GEN_DID_DNS_LOOKUP (1 << 8)
#define GEN_DID_MONITOR (1 << 15) /* the policy is in monitor mode: enforcement elided */

/* gen_event.flags */
#define GEN_EF_RETURN (1 << 0) /* ret holds the return value */
#define GEN_EF_KSTACK (1 << 1)
#define GEN_EF_USTACK (1 << 2)

/*
 * EVENT_GENERIC: a hook fired and a selector (or none) said Post. The arguments
 * follow the header, each as a gen_arg_hdr and len bytes of data padded to 8;
 * then the stack traces (GEN_STACK_DEPTH addresses at most each) when flagged.
 */
struct gen_event {
	struct event_hdr hdr;
	__s64 ret;
	__u32 hook_id;
	__u32 policy_id;
	__u32 pid;
	__u32 tid;
	__u32 actions; /* GEN_DID_* */
	__u32 data_len;
	__u16 flags; /* GEN_EF_* */
	__u8 sel; /* the selector that matched, or 0xff for none */
	__u8 n_args;
	__u16 kstack_len; /* bytes */
	__u16 ustack_len;
};

_Static_assert(sizeof(struct gen_event) == 56, "gen_event layout changed");

/* gen_arg_hdr.flags */
#define GEN_DF_TRUNCATED (1 << 0) /* orig_len bytes existed, len were read */
#define GEN_DF_ERROR (1 << 1) /* could not be read */
#define GEN_DF_FOLLOWED (1 << 2) /* fd: the path came from FollowFD */

/*
 * The value is the raw value (the number, the pointer, the fd), after resolve.
 * For file, path, dentry, linux_binprm and kiocb it is instead the i_mode of the
 * inode (type and permission bits): FileType filters and the permission string
 * use it, and the pointer itself is of no use to user space.
 */
struct gen_arg_hdr {
	__u32 len; /* bytes of data that follow */
	__u32 orig_len;
	__u64 value;
	__u32 flags;
	__u8 slot; /* which argument; GEN_RET_ARG for the return value */
	__u8 pad[3];
};

/*
 * Records of kernel objects: the data of an argument of these types. Strings are
 * NUL-padded, not always NUL-terminated when they fill their array.
 */

/* user_namespace, and in gen_cred_rec */
struct gen_userns_rec {
	__s32 level;
	__u32 owner; /* uid in the parent namespace */
	__u32 group;
	__u32 inum;
};

/* cred: ProcessCredentials */
struct gen_cred_rec {
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_inheritable;
	__u32 uid;
	__u32 gid;
	__u32 suid;
	__u32 sgid;
	__u32 euid;
	__u32 egid;
	__u32 fsuid;
	__u32 fsgid;
	__u32 securebits;
	struct gen_userns_rec user_ns;
	__u32 pad;
};

_Static_assert(sizeof(struct gen_cred_rec) == 80, "gen_cred_rec layout changed");

/*
 * The addresses of a sock or a packet. It opens both gen_sock_rec and gen_skb_rec,
 * so that the network filters find it at the start of the data of either.
 */
struct gen_net_tuple {
	__u8 saddr[16]; /* network order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 family; /* AF_INET, AF_INET6 (skb: from the IP header's version) */
	__u16 sport; /* host order */
	__u16 dport;
	__u16 protocol; /* IPPROTO_* */
	__u8 state; /* TCP_* (sock only) */
	__u8 pad[7];
};

/* sock, socket */
struct gen_sock_rec {
	struct gen_net_tuple t;
	__u64 cookie; /* the struct sock's address, as Tetragon's cookie */
	__u32 mark;
	__u32 priority;
	__u16 type; /* SOCK_* */
	__u8 pad[6];
};

_Static_assert(sizeof(struct gen_sock_rec) == 72, "gen_sock_rec layout changed");

/* skb */
struct gen_skb_rec {
	struct gen_net_tuple t;
	__u32 hash;
	__u32 len;
	__u32 priority;
	__u32 mark;
	__u32 sec_path_len;
	__u32 sec_path_olen;
};

_Static_assert(sizeof(struct gen_skb_rec) == 72, "gen_skb_rec layout changed");

#define GEN_BPF_NAME 16 /* BPF_OBJ_NAME_LEN */

/* bpf_attr (BPF_PROG_LOAD), bpf_prog */
struct gen_bpf_prog_rec {
	__u32 prog_type;
	__u32 insn_cnt;
	char name[GEN_BPF_NAME];
};

/* bpf_map */
struct gen_bpf_map_rec {
	__u32 map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	char name[GEN_BPF_NAME];
};

#define GEN_KSYM_NAME 128

/* perf_event: the attr it was opened with; func is a kprobe's function */
struct gen_perf_event_rec {
	__u64 config;
	__u64 probe_offset;
	__u32 type;
	__u32 pad;
	char func[GEN_KSYM_NAME];
};

#define GEN_MODULE_NAME 64 /* MODULE_NAME_LEN is 56 on 64-bit */

/* gen_module_rec.sig_ok */
#define GEN_SIG_NO 0
#define GEN_SIG_OK 1
#define GEN_SIG_UNKNOWN 2 /* no CONFIG_MODULE_SIG */

/* module, load_info */
struct gen_module_rec {
	__u64 taints; /* TAINT_* bits */
	char name[GEN_MODULE_NAME];
	__u8 sig_ok; /* GEN_SIG_* */
	__u8 pad[7];
};

_Static_assert(sizeof(struct gen_module_rec) == 80, "gen_module_rec layout changed");

/* FollowFD: the path a process's fd was opened with. */
struct fd_key {
	__u32 pid;
	__u32 fd;
};

#define FD_PATH_MAX 256

struct fd_path {
	__u32 len;
	__u32 pad;
	char path[FD_PATH_MAX];
};

/* String maps: exact matches bucketed by length, prefix and postfix tries. */
#define STR_BUCKET_SMALL 64
#define STR_BUCKET_MEDIUM 256
#define STR_BUCKET_LARGE 4096
#define STR_PREFIX_MAX 256
#define STR_POSTFIX_MAX 128

struct str_key_small {
	__u32 map_id;
	__u32 len;
	char s[STR_BUCKET_SMALL];
};

struct str_key_medium {
	__u32 map_id;
	__u32 len;
	char s[STR_BUCKET_MEDIUM];
};

struct str_key_large {
	__u32 map_id;
	__u32 len;
	char s[STR_BUCKET_LARGE];
};

struct str_lpm_key {
	__u32 prefixlen; /* bits, the map_id's 32 included */
	__u32 map_id;
	char s[STR_PREFIX_MAX];
};

struct num_key {
	__u32 map_id;
	__u32 pad;
	__u64 value;
};

struct addr6_key {
	__u32 prefixlen; /* 32 + the address's prefix */
	__u32 map_id;
	__u8 addr[16];
};
