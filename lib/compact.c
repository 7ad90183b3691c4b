// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "lib/compact.h"
#include "lib/filter.h"
#include "lib/syscalls.h"

#define COL_RED "\x1b[31m"
#define COL_BLUE "\x1b[34m"
#define COL_MAGENTA "\x1b[35m"
#define COL_CYAN "\x1b[36m"
#define COL_RESET "\x1b[0m"

/* Column at which the CAP_SYS_ADMIN trailer starts. */
#define CAPS_COLUMN 120

struct line {
	struct sbuf *sb;
	const struct compact_opts *o;
	size_t start;
	size_t visible; /* characters printed, without colour codes */
};

static size_t utf8_len(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			k++;
	return k;
}

static void put(struct line *l, const char *color, const char *s, size_t n)
{
	if (l->o->color && color)
		sbuf_adds(l->sb, color);
	sbuf_add(l->sb, s, n);
	if (l->o->color && color)
		sbuf_adds(l->sb, COL_RESET);
	l->visible += utf8_len(s, n);
}

static void puts_c(struct line *l, const char *color, const char *s)
{
	put(l, color, s ? s : "", s ? strlen(s) : 0);
}

static void putf(struct line *l, const char *color, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void putf(struct line *l, const char *color, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	put(l, color, buf, MIN((size_t)n, sizeof(buf) - 1));
}

static void space(struct line *l)
{
	put(l, NULL, " ", 1);
}

/* The event label: emoji and a name padded to seven columns. */
static void label(struct line *l, const char *emoji, const char *name)
{
	putf(l, COL_BLUE, "%s %-7s", emoji, name);
}

static bool needs_quoting(const char *s)
{
	if (!*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			return true;
	return false;
}

/* A string as Go's strconv.Quote would print it when it contains spaces or controls. */
static void quoted(struct line *l, const char *color, const char *s)
{
	struct sbuf q;

	if (!s || !needs_quoting(s)) {
		puts_c(l, color, s);
		return;
	}
	sbuf_init(&q);
	sbuf_addc(&q, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			sbuf_adds(&q, "\\\"");
			break;
		case '\\':
			sbuf_adds(&q, "\\\\");
			break;
		case '\n':
			sbuf_adds(&q, "\\n");
			break;
		case '\t':
			sbuf_adds(&q, "\\t");
			break;
		case '\r':
			sbuf_adds(&q, "\\r");
			break;
		default:
			if (*p < ' ' || *p == 0x7f)
				sbuf_printf(&q, "\\x%02x", *p);
			else
				sbuf_addc(&q, (char)*p);
		}
	}
	sbuf_addc(&q, '"');
	put(l, color, q.buf, q.len);
	sbuf_free(&q);
}

static bool has_sys_admin(const Tetragon__Process *p)
{
	if (!p || !p->cap)
		return false;
	for (size_t i = 0; i < p->cap->n_effective; i++)
		if (p->cap->effective[i] == TETRAGON__CAPABILITIES_TYPE__CAP_SYS_ADMIN)
			return true;
	return false;
}

/* "<source> <binary>": the pod (namespace/name) if any, else the node. */
static void process_info(struct line *l, const Tetragon__GetEventsResponse *ev,
			 const Tetragon__Process *p)
{
	if (p && p->pod && p->pod->name && *p->pod->name)
		putf(l, NULL, "%s/%s", p->pod->namespace_, p->pod->name);
	else
		puts_c(l, NULL, ev->node_name);
	space(l);
	quoted(l, COL_MAGENTA, p ? p->binary : "");
}

static void caps_trailer(struct line *l, const Tetragon__Process *p)
{
	if (!has_sys_admin(p))
		return;
	while (l->visible < CAPS_COLUMN)
		space(l);
	space(l);
	puts_c(l, COL_RED, "🛑 CAP_SYS_ADMIN");
}

static const Tetragon__KprobeArgument *arg_at(Tetragon__KprobeArgument **args, size_t n, size_t i)
{
	return i < n ? args[i] : NULL;
}

/* The path in a file, path or string argument. */
static const char *arg_path(const Tetragon__KprobeArgument *a)
{
	if (!a)
		return "";
	switch (a->arg_case) {
	case TETRAGON__KPROBE_ARGUMENT__ARG_FILE_ARG:
		return a->file_arg ? a->file_arg->path : "";
	case TETRAGON__KPROBE_ARGUMENT__ARG_PATH_ARG:
		return a->path_arg ? a->path_arg->path : "";
	case TETRAGON__KPROBE_ARGUMENT__ARG_STRING_ARG:
		return a->string_arg;
	case TETRAGON__KPROBE_ARGUMENT__ARG_LINUX_BINPRM_ARG:
		return a->linux_binprm_arg ? a->linux_binprm_arg->path : "";
	default:
		return "";
	}
}

static bool arg_int(const Tetragon__KprobeArgument *a, int64_t *v)
{
	if (!a)
		return false;
	switch (a->arg_case) {
	case TETRAGON__KPROBE_ARGUMENT__ARG_INT_ARG:
		*v = a->int_arg;
		return true;
	case TETRAGON__KPROBE_ARGUMENT__ARG_UINT_ARG:
		*v = a->uint_arg;
		return true;
	case TETRAGON__KPROBE_ARGUMENT__ARG_LONG_ARG:
		*v = a->long_arg;
		return true;
	case TETRAGON__KPROBE_ARGUMENT__ARG_SIZE_ARG:
		*v = (int64_t)a->size_arg;
		return true;
	default:
		return false;
	}
}

/* The function name without the architecture's syscall prefix (__x64_sys_write -> sys_write). */
static const char *base_function(const char *fn)
{
	static const char *const prefixes[] = { "__x64_", "__ia32_", "__arm64_", "__s390x_",
						"__riscv_" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (startswith(fn, prefixes[i]))
			return fn + strlen(prefixes[i]);
	return fn;
}

static void sock_pair(struct line *l, const Tetragon__KprobeArgument *a)
{
	const Tetragon__KprobeSock *s =
		a && a->arg_case == TETRAGON__KPROBE_ARGUMENT__ARG_SOCK_ARG ? a->sock_arg : NULL;

	if (!s)
		return;
	space(l);
	putf(l, COL_CYAN, "%s %s:%u -> %s:%u",
	     strcasecmp(s->protocol, "IPPROTO_TCP") == 0 ? "tcp" :
	     strcasecmp(s->protocol, "IPPROTO_UDP") == 0 ? "udp" :
							   s->protocol,
	     s->saddr, s->sport, s->daddr, s->dport);
}

static void render_kprobe(struct line *l, const Tetragon__GetEventsResponse *ev)
{
	const Tetragon__ProcessKprobe *k = ev->process_kprobe;
	const char *fn = base_function(k->function_name);
	const Tetragon__KprobeArgument *a0 = arg_at(k->args, k->n_args, 0);
	const Tetragon__KprobeArgument *a1 = arg_at(k->args, k->n_args, 1);
	const Tetragon__KprobeArgument *a2 = arg_at(k->args, k->n_args, 2);
	int64_t v;

	if (streq(fn, "sys_write") || streq(fn, "sys_read")) {
		bool w = streq(fn, "sys_write");

		label(l, w ? "📝" : "📚", w ? "write" : "read");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(a0));
		space(l);
		if (arg_int(a2, &v))
			putf(l, COL_CYAN, "%" PRId64 " bytes", v);
	} else if (streq(fn, "fd_install")) {
		label(l, "📬", "open");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(a1));
	} else if (streq(fn, "sys_openat") || streq(fn, "sys_open")) {
		bool at = streq(fn, "sys_openat");

		label(l, "📬️", at ? "openat" : "open");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(at ? a1 : a0));
	} else if (streq(fn, "sys_close")) {
		label(l, "📪", "close");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(a0));
	} else if (streq(fn, "sys_mount")) {
		label(l, "💾", "mount");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		putf(l, COL_CYAN, "%s %s", arg_path(a0), arg_path(a1));
	} else if (streq(fn, "sys_pivot_root")) {
		label(l, "💾", "pivot_root");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		putf(l, COL_CYAN, "%s %s", arg_path(a0), arg_path(a1));
	} else if (streq(fn, "sys_setuid")) {
		label(l, "🔑", "setuid");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		if (arg_int(a0, &v))
			putf(l, COL_CYAN, "%" PRId64, v);
	} else if (streq(fn, "sys_clock_settime")) {
		label(l, "⏰", "clock_settime");
		space(l);
		process_info(l, ev, k->process);
	} else if (streq(fn, "sys_setns")) {
		label(l, "🔧", "setns");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		if (arg_int(a1, &v))
			putf(l, COL_CYAN, "%" PRId64, v);
	} else if (streq(fn, "tcp_connect") || streq(fn, "tcp_close") || streq(fn, "tcp_sendmsg")) {
		if (streq(fn, "tcp_connect"))
			label(l, "🔌", "connect");
		else if (streq(fn, "tcp_close"))
			label(l, "🧹", "close");
		else
			label(l, "📤", "sendmsg");
		space(l);
		process_info(l, ev, k->process);
		sock_pair(l, a0);
		if (streq(fn, "tcp_sendmsg") && arg_int(a1, &v)) {
			space(l);
			putf(l, COL_CYAN, "bytes %" PRId64, v);
		}
	} else if (streq(fn, "bpf_check")) {
		label(l, "🐝", "bpf_load");
		space(l);
		process_info(l, ev, k->process);
		if (a1 && a1->arg_case == TETRAGON__KPROBE_ARGUMENT__ARG_BPF_ATTR_ARG &&
		    a1->bpf_attr_arg) {
			space(l);
			putf(l, COL_CYAN, "%s %s instruction count %u", a1->bpf_attr_arg->progtype,
			     a1->bpf_attr_arg->progname, a1->bpf_attr_arg->insncnt);
		}
	} else if (streq(fn, "security_perf_event_alloc")) {
		label(l, "🐝", "perf_event_alloc");
		space(l);
		process_info(l, ev, k->process);
	} else if (streq(fn, "security_bpf_map_alloc") || streq(fn, "security_bpf_map_create")) {
		label(l, "🗺", "bpf_map_create");
		space(l);
		process_info(l, ev, k->process);
	} else if (streq(fn, "security_file_permission") && arg_int(a1, &v) &&
		   (v & 0x2 || v & 0x4)) {
		bool w = v & 0x2;

		label(l, w ? "📝" : "📚", w ? "write" : "read");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(a0));
	} else if (streq(fn, "security_mmap_file")) {
		label(l, "📝", "mmap-rwx");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(a0));
	} else if (strstr(fn, "truncate")) {
		label(l, "📝", "truncate");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, arg_path(a0));
	} else {
		label(l, "❓", "syscall");
		space(l);
		process_info(l, ev, k->process);
		space(l);
		puts_c(l, COL_CYAN, k->function_name);
	}
	caps_trailer(l, k->process);
}

static void render_tracepoint(struct line *l, const Tetragon__GetEventsResponse *ev)
{
	const Tetragon__ProcessTracepoint *t = ev->process_tracepoint;
	int64_t nr;

	if (streq(t->subsys, "raw_syscalls") && streq(t->event, "sys_enter")) {
		label(l, "☎ ", "syscall");
		space(l);
		process_info(l, ev, t->process);
		space(l);
		if (t->n_args > 0 &&
		    t->args[0]->arg_case == TETRAGON__KPROBE_ARGUMENT__ARG_SYSCALL_ID &&
		    t->args[0]->syscall_id)
			putf(l, COL_CYAN, "%u", t->args[0]->syscall_id->id);
		else if (t->n_args > 0 && arg_int(t->args[0], &nr))
			putf(l, COL_CYAN, "%" PRId64, nr);
	} else {
		label(l, "⁉️", "tracepoint");
		space(l);
		process_info(l, ev, t->process);
		space(l);
		putf(l, COL_CYAN, "%s %s", t->subsys, t->event);
	}
	caps_trailer(l, t->process);
}

static void render(struct line *l, const Tetragon__GetEventsResponse *ev, int *ret)
{
	*ret = 0;
	switch (ev->event_case) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC: {
		const Tetragon__Process *p = ev->process_exec->process;

		label(l, "🚀", "process");
		space(l);
		process_info(l, ev, p);
		space(l);
		puts_c(l, COL_CYAN, p ? p->arguments : "");
		caps_trailer(l, p);
		break;
	}
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT: {
		const Tetragon__ProcessExit *x = ev->process_exit;

		label(l, "💥", "exit");
		space(l);
		process_info(l, ev, x->process);
		space(l);
		puts_c(l, COL_CYAN, x->process ? x->process->arguments : "");
		space(l);
		if (x->signal && *x->signal)
			puts_c(l, COL_RED, x->signal);
		else
			putf(l, COL_RED, "%u", x->status);
		caps_trailer(l, x->process);
		break;
	}
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		render_kprobe(l, ev);
		break;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		render_tracepoint(l, ev);
		break;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE: {
		const Tetragon__ProcessUprobe *u = ev->process_uprobe;

		label(l, "🕵️", "uprobe");
		space(l);
		process_info(l, ev, u->process);
		space(l);
		putf(l, COL_CYAN, "%s %s", u->path, u->symbol);
		caps_trailer(l, u->process);
		break;
	}
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT: {
		const Tetragon__ProcessUsdt *u = ev->process_usdt;

		label(l, "🕵️", "usdt");
		space(l);
		process_info(l, ev, u->process);
		space(l);
		putf(l, COL_CYAN, "%s %s %s", u->path, u->provider, u->name);
		caps_trailer(l, u->process);
		break;
	}
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM: {
		const Tetragon__ProcessLsm *m = ev->process_lsm;

		label(l, "🔒", "LSM");
		space(l);
		process_info(l, ev, m->process);
		space(l);
		puts_c(l, COL_CYAN, m->function_name);
		caps_trailer(l, m->process);
		break;
	}
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LOADER: {
		const Tetragon__ProcessLoader *d = ev->process_loader;

		label(l, "🧬", "loader");
		space(l);
		process_info(l, ev, d->process);
		space(l);
		for (size_t i = 0; i < d->buildid.len; i++)
			putf(l, COL_CYAN, "%02x", d->buildid.data[i]);
		if (d->buildid.len)
			space(l);
		puts_c(l, COL_CYAN, d->path);
		break;
	}
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_THROTTLE: {
		const Tetragon__ProcessThrottle *t = ev->process_throttle;

		label(l, "🧬", "throttle");
		space(l);
		puts_c(l, NULL,
		       t->type == TETRAGON__THROTTLE_TYPE__THROTTLE_START ? "START" :
		       t->type == TETRAGON__THROTTLE_TYPE__THROTTLE_STOP  ? "STOP" :
									    "UNKNOWN");
		space(l);
		puts_c(l, NULL, t->cgroup);
		break;
	}
	default:
		*ret = -ENOENT;
		break;
	}
}

/* Go's RFC3339Nano: up to nine fractional digits, trailing zeros dropped. */
static void timestamp(struct line *l, const Google__Protobuf__Timestamp *t)
{
	char buf[64];
	time_t sec = t ? (time_t)t->seconds : 0;
	int32_t nanos = t ? t->nanos : 0;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (nanos > 0) {
		int digits = 9;

		while (nanos % 10 == 0) {
			nanos /= 10;
			digits--;
		}
		snprintf(buf + n, sizeof(buf) - n, ".%0*dZ", digits, nanos);
	} else {
		snprintf(buf + n, sizeof(buf) - n, "Z");
	}
	puts_c(l, NULL, buf);
	space(l);
}

int compact_render(const Tetragon__GetEventsResponse *ev, const struct compact_opts *o,
		   struct sbuf *out)
{
	struct line l = { .sb = out, .o = o, .start = out->len, .visible = 0 };
	int r;

	if (o->timestamps)
		timestamp(&l, ev->time);
	render(&l, ev, &r);
	if (r < 0) {
		out->len = l.start;
		if (out->buf)
			out->buf[out->len] = '\0';
	}
	return r;
}
