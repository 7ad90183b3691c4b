// SPDX-License-Identifier: Apache-2.0
/*
 * The semantic checks of a decoded policy: limits, references (argument indexes, lists,
 * macros), operator/type fit, filter values, actions and what each hook kind allows. Macros are
 * merged into the selectors that name them first, so that merged filters are checked against
 * the hook that uses them.
 */
#include <ctype.h>
#include <strings.h>

#include "lib/policy/internal.h"

/* Hook kinds as bits, for the tables below. */
#define K (1u << POLICY_HOOK_KPROBE)
#define F (1u << POLICY_HOOK_FENTRY)
#define T (1u << POLICY_HOOK_TRACEPOINT)
#define U (1u << POLICY_HOOK_UPROBE)
#define D (1u << POLICY_HOOK_USDT)
#define L (1u << POLICY_HOOK_LSM)
#define ALL (K | F | T | U | D | L)

/* Where each action may be used and which fields it takes. */
static const struct {
	unsigned int hooks;
	const char *fields[6];
} action_rules[POLICY_ACTION_MAX] = {
	[POLICY_ACTION_POST] = { ALL,
				 { "rateLimit", "rateLimitScope", "kernelStackTrace",
				   "userStackTrace", "imaHash" } },
	[POLICY_ACTION_FOLLOW_FD] = { K | F, { "argFd", "argName" } },
	[POLICY_ACTION_SIGKILL] = { K | T | U | D | L, { NULL } },
	[POLICY_ACTION_UNFOLLOW_FD] = { K | F, { "argFd", "argName" } },
	[POLICY_ACTION_OVERRIDE] = { K | U | L,
				     { "argError", "argRegs", "argNewSymbol", "argNewAddr",
				       "argNewOffset" } },
	[POLICY_ACTION_COPY_FD] = { K | F, { "argFd", "argName" } },
	[POLICY_ACTION_GET_URL] = { K | F | T, { "argUrl" } },
	[POLICY_ACTION_DNS_LOOKUP] = { K | F | T, { "argFqdn" } },
	[POLICY_ACTION_NO_POST] = { ALL, { NULL } },
	[POLICY_ACTION_SIGNAL] = { K | T | U | D | L, { "argSig" } },
	[POLICY_ACTION_TRACK_SOCK] = { K | F | T, { "argSock" } },
	[POLICY_ACTION_UNTRACK_SOCK] = { K | F | T, { "argSock" } },
	[POLICY_ACTION_NOTIFY_ENFORCER] = { K | T, { "argError", "argSig" } },
	[POLICY_ACTION_CLEANUP_ENFORCER_NOTIFICATION] = { K | T, { NULL } },
	[POLICY_ACTION_SET] = { D, { "argIndex", "argValue" } },
};

/* LSM hooks that can compute an IMA hash. */
static const char *const ima_hooks[] = {
	"bprm_check_security",
	"bprm_committed_creds",
	"bprm_committing_creds",
	"bprm_creds_from_file",
	"file_ioctl",
	"file_lock",
	"file_open",
	"file_post_open",
	"file_receive",
	"mmap_file",
	NULL,
};

/* A sorted index of named objects (lists, macros) for lookups by name. */
struct index {
	const void **v;
	size_t n;
	const char *(*name)(const void *);
};

struct validator {
	struct policy_ctx *ctx;
	struct policy *p;
	struct index lists;
	struct index macros;
};

/* The hook being checked. */
struct hook {
	struct validator *v;
	struct policy_hook *h;
	const char *section;
	bool args_ok; /* args and data are within limits: index lookups make sense */
};

#define Q(s) policy_quote((s), q, sizeof(q))

/* ---------------------------------------------------------------------------------------- */
/* Indexes */

static const char *list_name(const void *o)
{
	return ((const struct policy_list *)o)->name;
}

static const char *macro_name(const void *o)
{
	return ((const struct policy_macro *)o)->name;
}

static const char *(*sort_name)(const void *);

static int cmp_index(const void *a, const void *b)
{
	return strcmp(sort_name(*(const void *const *)a), sort_name(*(const void *const *)b));
}

static bool index_build(struct validator *v, struct index *idx, const void *base, size_t n,
			size_t size, const char *(*name)(const void *))
{
	idx->name = name;
	idx->n = 0;
	idx->v = malloc((n ? n : 1) * sizeof(*idx->v));
	if (!idx->v) {
		v->ctx->oom = true;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const void *o = (const char *)base + i * size;

		if (name(o))
			idx->v[idx->n++] = o;
	}
	sort_name = name;
	qsort(idx->v, idx->n, sizeof(*idx->v), cmp_index);
	return true;
}

static const void *index_find(const struct index *idx, const char *name)
{
	size_t lo = 0, hi = idx->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, idx->name(idx->v[mid]));

		if (r == 0)
			return idx->v[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char *index_suggest(const struct index *idx, const char *name, char *hint, size_t size)
{
	struct policy_suggest s;

	policy_suggest_init(&s, name);
	for (size_t i = 0; i < idx->n && i < 1000; i++)
		policy_suggest_add(&s, idx->name(idx->v[i]));
	return policy_suggest_hint(&s, hint, size);
}

/* ---------------------------------------------------------------------------------------- */
/* Small checks */

static const struct policy_pos *at(const struct policy_node *n, const char *key)
{
	return policy_node_pos(n, key);
}

/* The field is absent or was decoded without errors: checks on it make sense. */
static bool ok(const struct policy_node *n, const char *key)
{
	for (size_t i = 0; i < n->nr_keys; i++) {
		if (streq(n->keys[i].name, key))
			return !n->keys[i].invalid;
	}
	return true;
}

/* Too many elements: report at the first one over the limit. */
static bool check_max(struct policy_ctx *ctx, const void *elems, size_t elem_size, size_t nr,
		      size_t max, const char *what)
{
	const struct policy_pos *pos;

	if (nr <= max)
		return true;
	/* Every element type starts with its position (struct policy_node or policy_pos). */
	pos = (const struct policy_pos *)((const char *)elems + max * elem_size);
	policy_error(ctx, pos, "too many %s (%zu, at most %zu)", what, nr, max);
	return false;
}

static bool dns_name(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool edge = i == 0 || i == n - 1 || (dots && (s[i - 1] == '.' || s[i + 1] == '.'));

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (c == '-' && !edge)
			continue;
		if (c == '.' && dots && !edge)
			continue;
		return false;
	}
	return true;
}

static bool string_in(const char *s, const char *const *v)
{
	for (size_t i = 0; v[i]; i++) {
		if (streq(s, v[i]))
			return true;
	}
	return false;
}

static bool required_string(struct policy_ctx *ctx, const struct policy_node *n, const char *key,
			    const char *s)
{
	if (s && !s[0]) {
		policy_error(ctx, at(n, key), "'%s' must not be empty", key);
		return false;
	}
	return s != NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Metadata, options, lists, enforcers, workload selectors */

static void check_metadata(struct validator *v)
{
	struct policy_ctx *ctx = v->ctx;
	struct policy *p = v->p;
	const struct policy_metadata *m = &p->metadata;
	char q[80];

	if (p->api_version && !streq(p->api_version, POLICY_API_VERSION))
		policy_error(ctx, at(&p->node, "apiVersion"),
			     "unsupported apiVersion '%s' (expected '%s')", Q(p->api_version),
			     POLICY_API_VERSION);
	if (m->name && !dns_name(m->name, 253, true))
		policy_error(
			ctx, at(&m->node, "name"),
			"invalid name '%s': lower case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters",
			Q(m->name));
	if (m->namespace && !dns_name(m->namespace, 63, false))
		policy_error(
			ctx, at(&m->node, "namespace"),
			"invalid namespace '%s': lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
			Q(m->namespace));
	if (p->kind == POLICY_KIND_TRACING_POLICY_NAMESPACED &&
	    policy_node_has(&p->node, "metadata") && !m->namespace)
		policy_error(ctx, &m->node.pos, "a TracingPolicyNamespaced needs 'namespace'");
	if (p->kind == POLICY_KIND_TRACING_POLICY_NAMESPACED && p->spec.host_selector.present)
		policy_error(ctx, &p->spec.host_selector.node.pos,
			     "hostSelector is not allowed in a TracingPolicyNamespaced");
}

static bool go_bool(const char *s, bool *ret)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False", NULL };

	if (string_in(s, t))
		*ret = true;
	else if (string_in(s, f))
		*ret = false;
	else
		return false;
	return true;
}

static void check_options(struct validator *v)
{
	static const char *const names[] = { "disable-kprobe-multi",   "disable-uprobe-multi",
					     "override-method",	       "policy-mode",
					     "sleepable-preload-size", NULL };
	struct policy_spec *spec = &v->p->spec;
	struct policy_options *o = &spec->options;
	struct policy_ctx *ctx = v->ctx;
	char q[80], hint[128];

	for (size_t i = 0; i < spec->nr_option_list; i++) {
		const struct policy_option *opt = &spec->option_list[i];
		const struct policy_pos *vpos = at(&opt->node, "value");
		const char *val = opt->value ? opt->value : "";
		struct policy_suggest s;
		uint64_t n;
		int r;

		if (!opt->name || opt->node.invalid)
			continue;
		for (size_t j = 0; j < i && j < 64; j++) {
			if (spec->option_list[j].name &&
			    streq(spec->option_list[j].name, opt->name)) {
				policy_error(ctx, at(&opt->node, "name"),
					     "duplicate option '%s' (first at line %u)",
					     Q(opt->name), spec->option_list[j].node.pos.line);
				break;
			}
		}
		if (!string_in(opt->name, names)) {
			policy_suggest_init(&s, opt->name);
			for (size_t j = 0; names[j]; j++)
				policy_suggest_add(&s, names[j]);
			policy_error(ctx, at(&opt->node, "name"), "unknown option '%s'%s",
				     Q(opt->name), policy_suggest_hint(&s, hint, sizeof(hint)));
			continue;
		}
		if (!opt->value) {
			policy_error(ctx, &opt->node.pos, "option '%s' needs a value", opt->name);
			continue;
		}
		if (streq(opt->name, "disable-kprobe-multi") ||
		    streq(opt->name, "disable-uprobe-multi")) {
			bool b;

			if (!go_bool(val, &b))
				policy_error(
					ctx, vpos,
					"invalid value '%s' for option '%s' (expected true or false)",
					Q(val), opt->name);
			else if (streq(opt->name, "disable-kprobe-multi"))
				o->disable_kprobe_multi = b;
			else
				o->disable_uprobe_multi = b;
		} else if (streq(opt->name, "override-method")) {
			r = policy_override_method_from_name(val);
			if (r <= 0)
				policy_error(
					ctx, vpos,
					"invalid value '%s' for option 'override-method' (expected 'override-return' or 'fmod-ret')",
					Q(val));
			else
				o->override_method = r;
		} else if (streq(opt->name, "policy-mode")) {
			r = policy_mode_from_string(val);
			if (r < 0)
				policy_error(
					ctx, vpos,
					"invalid value '%s' for option 'policy-mode' (expected 'enforce' or 'monitor')",
					Q(val));
			else
				o->mode = r;
		} else if (policy_parse_int(val, false, &n) < 0 || n == 0 || n > UINT32_MAX) {
			policy_error(
				ctx, vpos,
				"invalid value '%s' for option 'sleepable-preload-size' (expected a positive integer)",
				Q(val));
		} else {
			o->sleepable_preload_size = n;
		}
	}
}

static void check_lists(struct validator *v)
{
	struct policy_spec *spec = &v->p->spec;
	struct policy_ctx *ctx = v->ctx;
	char q[80];

	for (size_t i = 1; i < v->lists.n; i++) {
		const struct policy_list *a = v->lists.v[i - 1], *b = v->lists.v[i];

		if (streq(a->name, b->name)) {
			const struct policy_list *later = a->node.pos.line > b->node.pos.line ? a :
												b;

			policy_error(ctx, at(&later->node, "name"),
				     "duplicate list name '%s' (first at line %u)", Q(a->name),
				     (later == a ? b : a)->node.pos.line);
		}
	}
	for (size_t i = 0; i < spec->nr_lists; i++) {
		const struct policy_list *l = &spec->lists[i];

		if (l->node.invalid)
			continue;
		required_string(ctx, &l->node, "name", l->name);
		if (l->type == POLICY_LIST_SYSCALLS) {
			if (!l->nr_values)
				policy_error(ctx, &l->node.pos,
					     "a list of type 'syscalls' needs values");
			if (l->pattern)
				policy_error(
					ctx, at(&l->node, "pattern"),
					"'pattern' is only valid for lists of type 'generated_ftrace'");
		} else {
			if (l->nr_values)
				policy_error(ctx, at(&l->node, "values"),
					     "a list of type '%s' is generated and takes no values",
					     policy_list_type_name(l->type));
			if (l->type == POLICY_LIST_GENERATED_FTRACE &&
			    (!l->pattern || !l->pattern[0]))
				policy_error(ctx, &l->node.pos,
					     "a list of type 'generated_ftrace' needs a 'pattern'");
			if (l->type == POLICY_LIST_GENERATED_SYSCALLS && l->pattern)
				policy_error(
					ctx, at(&l->node, "pattern"),
					"'pattern' is only valid for lists of type 'generated_ftrace'");
		}
		for (size_t j = 0; j < l->nr_values; j++) {
			if (!l->values[j].str[0])
				policy_error(ctx, &l->values[j].pos, "empty value");
		}
	}
}

/* A "list:NAME" reference: the list, or NULL with an error. */
static const struct policy_list *list_ref(struct validator *v, const struct policy_pos *pos,
					  const char *s)
{
	const struct policy_list *l = index_find(&v->lists, s + 5);
	char q[80], hint[128];

	if (!l)
		policy_error(v->ctx, pos, "unknown list '%s'%s", Q(s + 5),
			     index_suggest(&v->lists, s + 5, hint, sizeof(hint)));
	return l;
}

static void check_enforcers(struct validator *v)
{
	struct policy_spec *spec = &v->p->spec;

	if (spec->nr_enforcers > 1)
		policy_error(v->ctx, &spec->enforcers[1].node.pos,
			     "only one enforcer is allowed (%zu given)", spec->nr_enforcers);
	for (size_t i = 0; i < spec->nr_enforcers && i < 1; i++) {
		const struct policy_enforcer *e = &spec->enforcers[i];

		if (!e->nr_calls)
			policy_error(v->ctx, &e->node.pos, "an enforcer needs 'calls'");
		for (size_t j = 0; j < e->nr_calls; j++) {
			if (!e->calls[j].str[0])
				policy_error(v->ctx, &e->calls[j].pos, "empty call");
			else if (startswith(e->calls[j].str, "list:"))
				list_ref(v, &e->calls[j].pos, e->calls[j].str);
		}
	}
}

enum selector_kind { SEL_POD, SEL_CONTAINER, SEL_HOST, SEL_NODE };

static void check_label_selector(struct validator *v, const struct policy_label_selector *ls,
				 enum selector_kind kind)
{
	static const char *const container_keys[] = { "name", "repo", NULL };
	struct policy_ctx *ctx = v->ctx;
	char q[80];

	if (!ls->present)
		return;
	if (kind == SEL_HOST && (ls->nr_match_labels || ls->nr_match_expressions)) {
		policy_error(ctx, &ls->node.pos, "hostSelector can only be null or {}");
		return;
	}
	for (size_t i = 0; i < ls->nr_match_labels; i++) {
		const struct policy_label *l = &ls->match_labels[i];

		if (!l->key[0])
			policy_error(ctx, &l->pos, "empty label key");
		else if (kind == SEL_CONTAINER && !string_in(l->key, container_keys))
			policy_error(ctx, &l->pos,
				     "unknown container field '%s' (expected 'name' or 'repo')",
				     Q(l->key));
	}
	for (size_t i = 0; i < ls->nr_match_expressions; i++) {
		const struct policy_label_requirement *r = &ls->match_expressions[i];
		bool needs_values = r->op == POLICY_LABEL_IN || r->op == POLICY_LABEL_NOT_IN;

		if (!r->key || r->node.invalid)
			continue;
		if (!r->key[0])
			policy_error(ctx, at(&r->node, "key"), "empty label key");
		else if (kind == SEL_CONTAINER && !string_in(r->key, container_keys))
			policy_error(ctx, at(&r->node, "key"),
				     "unknown container field '%s' (expected 'name' or 'repo')",
				     Q(r->key));
		if (!policy_node_has(&r->node, "operator"))
			continue;
		if (needs_values && !r->nr_values)
			policy_error(ctx, at(&r->node, "operator"),
				     "operator '%s' needs at least one value",
				     policy_label_op_name(r->op));
		else if (!needs_values && r->nr_values)
			policy_error(ctx, at(&r->node, "values"), "operator '%s' takes no values",
				     policy_label_op_name(r->op));
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Arguments */

static bool resolve_ok(const char *s)
{
	size_t depth = 0;

	while (*s) {
		if (!(isalpha((unsigned char)*s) || *s == '_'))
			return false;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
		while (*s == '[') {
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			while (isdigit((unsigned char)*s))
				s++;
			if (*s++ != ']')
				return false;
		}
		if (++depth > POLICY_MAX_RESOLVE_DEPTH)
			return false;
		if (*s == '.' && s[1])
			s++;
		else if (*s)
			return false;
	}
	return depth > 0;
}

static bool is_buffer(enum policy_arg_type t)
{
	return t == POLICY_ARG_CHAR_BUF || t == POLICY_ARG_CHAR_IOVEC || t == POLICY_ARG_AUTO;
}

static void check_arg(struct hook *hk, const struct policy_arg *a, bool is_data)
{
	struct policy_ctx *ctx = hk->v->ctx;
	const struct policy_node *n = &a->node;
	char q[80];

	if (n->invalid)
		return;
	if (!is_data && a != hk->h->return_arg && !policy_node_has(n, "index"))
		policy_error(ctx, &n->pos, "missing required field 'index'");
	if (is_data && a->source == POLICY_SOURCE_NONE && !policy_node_has(n, "source"))
		policy_error(ctx, &n->pos,
			     "missing required field 'source' ('current_task' or 'pt_regs')");
	if (!is_data && policy_node_has(n, "source"))
		policy_error(ctx, at(n, "source"), "'source' is only valid in data");
	if (a->resolve && !resolve_ok(a->resolve))
		policy_error(
			ctx, at(n, "resolve"),
			"invalid resolve path '%s' (expected field names separated by '.', optionally indexed with [N], at most %d deep)",
			Q(a->resolve), POLICY_MAX_RESOLVE_DEPTH);
	if (policy_node_has(n, "sizeArgIndex")) {
		if (!is_buffer(a->type))
			policy_error(
				ctx, at(n, "sizeArgIndex"),
				"sizeArgIndex is only valid for types 'char_buf' and 'char_iovec'");
		else if (a->size_arg_index == 0)
			policy_error(ctx, at(n, "sizeArgIndex"),
				     "sizeArgIndex counts from 1 (0 is not an argument)");
	}
	if (a->return_copy && !is_buffer(a->type))
		policy_error(ctx, at(n, "returnCopy"),
			     "returnCopy is only valid for types 'char_buf' and 'char_iovec'");
	if (a->max_data && !is_buffer(a->type))
		policy_error(ctx, at(n, "maxData"),
			     "maxData is only valid for types 'char_buf' and 'char_iovec'");
	if (a->max_data && a->return_copy)
		policy_error(ctx, at(n, "maxData"), "maxData cannot be combined with returnCopy");
	if (a->btf_type_module && !a->btf_type)
		policy_error(ctx, at(n, "btfTypeModule"), "btfTypeModule needs btfType");
	if (a->btf_type && !a->btf_type[0])
		policy_error(ctx, at(n, "btfType"), "'btfType' must not be empty");
	if (hk->h->kind == POLICY_HOOK_LSM && !is_data && a->index > 4)
		policy_error(ctx, at(n, "index"), "index %u out of range for an LSM hook (0..4)",
			     a->index);
	if (hk->h->kind == POLICY_HOOK_TRACEPOINT && hk->h->tp.raw && a->index > 5)
		policy_error(ctx, at(n, "index"),
			     "index %u out of range for a raw tracepoint (0..5)", a->index);
}

static const struct policy_arg *find_arg(const struct policy_hook *h, uint32_t index)
{
	for (size_t i = 0; i < h->nr_args; i++) {
		if (h->args[i].index == index)
			return &h->args[i];
	}
	return NULL;
}

/* An action field naming an argument by its index: the argument must be in args. */
static void check_arg_ref(struct hook *hk, const struct policy_action *a, const char *key,
			  uint32_t index)
{
	if (!policy_node_has(&a->node, key)) {
		policy_error(hk->v->ctx, &a->node.pos, "action '%s' needs '%s'",
			     policy_action_name(a->action), key);
		return;
	}
	if (hk->args_ok && !find_arg(hk->h, index))
		policy_error(hk->v->ctx, at(&a->node, key), "no argument with index %u in args",
			     index);
}

/* ---------------------------------------------------------------------------------------- */
/* Filters */

static const char *filter_name[] = { "matchArgs", "matchData", "matchReturnArgs" };

enum arg_filter_kind { FILTER_ARGS, FILTER_DATA, FILTER_RETURN };

static bool numeric_limit(enum policy_operator op, enum policy_arg_type t)
{
	switch (op) {
	case POLICY_OP_EQUAL:
	case POLICY_OP_NOT_EQUAL:
	case POLICY_OP_GT:
	case POLICY_OP_LT:
	case POLICY_OP_MASK:
		return t != POLICY_ARG_AUTO && policy_operator_supports(POLICY_OP_MASK, t);
	case POLICY_OP_IN_RANGE:
	case POLICY_OP_NOT_IN_RANGE:
		return true;
	default:
		return false;
	}
}

static bool takes_no_values(enum policy_operator op)
{
	return op == POLICY_OP_SPORT_PRIV || op == POLICY_OP_NOT_SPORT_PRIV ||
	       op == POLICY_OP_DPORT_PRIV || op == POLICY_OP_NOT_DPORT_PRIV;
}

/* The argument a filter applies to, or NULL (with an error unless nothing can be known). */
static const struct policy_arg *filter_arg(struct hook *hk, const struct policy_arg_filter *f,
					   enum arg_filter_kind kind)
{
	const struct policy_hook *h = hk->h;
	struct policy_ctx *ctx = hk->v->ctx;
	const struct policy_arg *arg = NULL;

	if (kind == FILTER_RETURN)
		return h->return_arg;
	if (!hk->args_ok)
		return NULL;
	if (kind == FILTER_DATA) {
		if (f->index >= h->nr_data) {
			policy_error(ctx, at(&f->node, "index"),
				     "no data entry at index %u (data has %zu)", f->index,
				     h->nr_data);
			return NULL;
		}
		return &h->data[f->index];
	}
	if (f->nr_args) {
		for (size_t i = 0; i < f->nr_args; i++) {
			if (f->args[i].val >= h->nr_args) {
				policy_error(ctx, &f->args[i].pos,
					     "no argument at position %llu (args has %zu)",
					     (unsigned long long)f->args[i].val, h->nr_args);
				return NULL;
			}
		}
		return &h->args[f->args[0].val];
	}
	arg = find_arg(h, f->index);
	if (!arg)
		policy_error(ctx, at(&f->node, "index"), "no argument with index %u in args",
			     f->index);
	return arg;
}

static void check_arg_filter(struct hook *hk, const struct policy_arg_filter *f,
			     enum arg_filter_kind kind)
{
	struct policy_ctx *ctx = hk->v->ctx;
	const char *opname = policy_operator_name(f->op);
	const struct policy_arg *arg;
	enum policy_arg_type type;
	char why[256];

	if (f->node.invalid)
		return;
	if (f->op == POLICY_OP_IN || f->op == POLICY_OP_NOT_IN) {
		policy_error(ctx, at(&f->node, "operator"), "operator '%s' is not valid in %s",
			     opname, filter_name[kind]);
		return;
	}
	arg = filter_arg(hk, f, kind);
	if (!arg || f->op == POLICY_OP_INVALID)
		return;
	type = arg->type;
	if (!policy_operator_supports(f->op, type)) {
		policy_error(ctx, at(&f->node, "operator"),
			     "operator '%s' does not apply to argument type '%s'", opname,
			     policy_arg_type_name(type));
		return;
	}
	if (f->op == POLICY_OP_CAPABILITIES_GAINED && f->nr_args != 2)
		policy_error(
			ctx, &f->node.pos,
			"operator 'CapabilitiesGained' needs 'args' with the positions of the new and the old capabilities");
	if (takes_no_values(f->op)) {
		if (f->nr_values)
			policy_error(ctx, at(&f->node, "values"), "operator '%s' takes no values",
				     opname);
		return;
	}
	if (!f->nr_values) {
		policy_error(ctx, &f->node.pos, "operator '%s' needs at least one value", opname);
		return;
	}
	if (numeric_limit(f->op, type) && f->nr_values > POLICY_MAX_NUMERIC_VALUES) {
		policy_error(
			ctx, &f->values[POLICY_MAX_NUMERIC_VALUES].pos,
			"too many values for operator '%s' on integers (%zu, at most %d; use InMap for more)",
			opname, f->nr_values, POLICY_MAX_NUMERIC_VALUES);
		return;
	}
	for (size_t i = 0; i < f->nr_values && !ctx->stop; i++) {
		if (policy_value_parse(hk->v->p, type, f->op, &f->values[i], why, sizeof(why)) < 0)
			policy_error(ctx, &f->values[i].pos, "%s", why);
	}
	if (f->op == POLICY_OP_SUBSTRING || f->op == POLICY_OP_SUBSTRING_IGN_CASE) {
		ctx->nr_substrings += f->nr_values;
		if (ctx->nr_substrings > POLICY_MAX_SUBSTRINGS &&
		    ctx->nr_substrings - f->nr_values <= POLICY_MAX_SUBSTRINGS)
			policy_error(ctx, at(&f->node, "values"),
				     "too many SubString values in the policy (at most %d)",
				     POLICY_MAX_SUBSTRINGS);
	}
}

static bool in_or_not_in(struct policy_ctx *ctx, const struct policy_node *n,
			 enum policy_operator op, const char *filter)
{
	if (op == POLICY_OP_IN || op == POLICY_OP_NOT_IN || op == POLICY_OP_INVALID)
		return op != POLICY_OP_INVALID;
	policy_error(ctx, at(n, "operator"), "operator '%s' is not valid in %s (use In or NotIn)",
		     policy_operator_name(op), filter);
	return false;
}

static bool needs_values(struct policy_ctx *ctx, const struct policy_node *n, size_t nr)
{
	if (!nr)
		policy_error(ctx, n->pos.line ? &n->pos : NULL, "at least one value is required");
	return nr > 0;
}

static void check_pid_filter(struct policy_ctx *ctx, const struct policy_pid_filter *f)
{
	if (f->node.invalid)
		return;
	in_or_not_in(ctx, &f->node, f->op, "matchPIDs");
	if (needs_values(ctx, &f->node, f->nr_values))
		check_max(ctx, f->values, sizeof(*f->values), f->nr_values, POLICY_MAX_PID_VALUES,
			  "matchPIDs values");
}

static void check_binary_filter(struct policy_ctx *ctx, const struct policy_binary_filter *f,
				const char *filter)
{
	char q[80];

	if (f->node.invalid)
		return;
	switch (f->op) {
	case POLICY_OP_IN:
	case POLICY_OP_NOT_IN:
	case POLICY_OP_PREFIX:
	case POLICY_OP_NOT_PREFIX:
	case POLICY_OP_POSTFIX:
	case POLICY_OP_NOT_POSTFIX:
	case POLICY_OP_INVALID:
		break;
	default:
		policy_error(
			ctx, at(&f->node, "operator"),
			"operator '%s' is not valid in %s (use In, NotIn, Prefix, NotPrefix, Postfix or NotPostfix)",
			policy_operator_name(f->op), filter);
	}
	if (f->follow_children && f->op != POLICY_OP_IN && f->op != POLICY_OP_NOT_IN)
		policy_error(ctx, at(&f->node, "followChildren"),
			     "followChildren needs operator In or NotIn");
	if (!needs_values(ctx, &f->node, f->nr_values))
		return;
	for (size_t i = 0; i < f->nr_values; i++) {
		size_t len = strlen(f->values[i].str);
		size_t max = f->op == POLICY_OP_POSTFIX || f->op == POLICY_OP_NOT_POSTFIX ?
				     POLICY_MAX_POSTFIX_LEN :
				     POLICY_MAX_BINARY_LEN;

		if (!len)
			policy_error(ctx, &f->values[i].pos, "empty value");
		else if (len > max)
			policy_error(ctx, &f->values[i].pos,
				     "value '%s' too long (%zu characters, at most %zu)",
				     Q(f->values[i].str), len, max);
	}
}

static void check_ns_filter(struct policy_ctx *ctx, struct policy_ns_filter *f)
{
	char q[80];

	if (f->node.invalid)
		return;
	in_or_not_in(ctx, &f->node, f->op, "matchNamespaces");
	if (!needs_values(ctx, &f->node, f->nr_values) ||
	    !check_max(ctx, f->values, sizeof(*f->values), f->nr_values, POLICY_MAX_NS_VALUES,
		       "matchNamespaces values"))
		return;
	for (size_t i = 0; i < f->nr_values; i++) {
		struct policy_value *v = &f->values[i];

		if (streq(v->str, "host_ns")) {
			v->kind = POLICY_VALUE_HOST_NS;
		} else if (policy_parse_int(v->str, false, &v->lo) == 0 && v->lo <= UINT32_MAX) {
			v->kind = POLICY_VALUE_INT;
			v->hi = v->lo;
		} else {
			policy_error(
				ctx, &v->pos,
				"invalid namespace value '%s' (expected an inode number or 'host_ns')",
				Q(v->str));
		}
	}
}

static void check_ns_change_filter(struct policy_ctx *ctx, struct policy_ns_change_filter *f)
{
	char q[80], hint[128];

	if (f->node.invalid)
		return;
	in_or_not_in(ctx, &f->node, f->op, "matchNamespaceChanges");
	if (!needs_values(ctx, &f->node, f->nr_values))
		return;
	for (size_t i = 0; i < f->nr_values; i++) {
		struct policy_value *v = &f->values[i];
		int ns = policy_names_lookup(POLICY_TABLE_NS, v->str, hint, sizeof(hint));

		if (ns < 0) {
			policy_error(ctx, &v->pos, "unknown namespace '%s'%s", Q(v->str), hint);
			continue;
		}
		v->kind = POLICY_VALUE_INT;
		v->lo = v->hi = (uint64_t)ns;
	}
}

static void check_cap_filter(struct policy_ctx *ctx, struct policy_cap_filter *f,
			     const char *filter)
{
	char q[80], hint[128];

	if (f->node.invalid)
		return;
	in_or_not_in(ctx, &f->node, f->op, filter);
	if (!needs_values(ctx, &f->node, f->nr_values))
		return;
	for (size_t i = 0; i < f->nr_values; i++) {
		struct policy_value *v = &f->values[i];
		int cap = policy_names_lookup(POLICY_TABLE_CAPABILITY, v->str, hint, sizeof(hint));

		if (cap < 0 && policy_parse_int(v->str, false, &v->lo) == 0 && v->lo <= 63)
			cap = (int)v->lo;
		if (cap < 0) {
			policy_error(ctx, &v->pos, "unknown capability '%s'%s", Q(v->str), hint);
			continue;
		}
		v->kind = POLICY_VALUE_INT;
		v->lo = v->hi = (uint64_t)cap;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Actions */

/* "N", "Ns", "Nm" or "Nh" (N > 0) in milliseconds. */
static bool rate_limit(const char *s, uint64_t *ms)
{
	uint64_t n = 0, mult = 1000;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		if (n > UINT32_MAX)
			return false;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == 'm')
		mult = 60 * 1000;
	else if (*p == 'h')
		mult = 3600 * 1000;
	else if (*p && *p != 's')
		return false;
	if (*p && p[1])
		return false;
	*ms = n * mult;
	return n > 0;
}

/* reg=value: value is a number, %reg, N%reg, (%reg) or N(%reg). */
static bool arg_reg_ok(const char *s)
{
	const char *p = s;
	bool paren;

	if (!islower((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p))
		p++;
	if (*p++ != '=')
		return false;
	if (*p == '-')
		p++;
	while (isdigit((unsigned char)*p))
		p++;
	if (!*p)
		return isdigit((unsigned char)p[-1]);
	paren = *p == '(';
	if (paren)
		p++;
	if (*p++ != '%' || !islower((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p))
		p++;
	if (paren && *p++ != ')')
		return false;
	return *p == '\0';
}

static bool signal_ok(struct policy_ctx *ctx, const struct policy_action *a)
{
	if (a->arg_sig < 1 || a->arg_sig > 64) {
		policy_error(ctx, at(&a->node, "argSig"), "argSig %u out of range (1..64)",
			     a->arg_sig);
		return false;
	}
	return true;
}

static void check_action(struct hook *hk, struct policy_action *a)
{
	struct policy_ctx *ctx = hk->v->ctx;
	const struct policy_hook *h = hk->h;
	const char *name = policy_action_name(a->action);
	const struct policy_node *n = &a->node;
	char q[80];

	if (a->action == POLICY_ACTION_NONE || n->invalid)
		return;
	if (!(action_rules[a->action].hooks & (1u << h->kind))) {
		if (h->kind == POLICY_HOOK_FENTRY && policy_action_is_enforcement(a->action))
			policy_error(
				ctx, at(n, "action"),
				"action '%s' is not supported on fentries (they only observe; use kprobes to enforce)",
				name);
		else
			policy_error(ctx, at(n, "action"), "action '%s' is not supported on %s",
				     name, hk->section);
		return;
	}
	for (size_t i = 0; i < n->nr_keys; i++) {
		const char *key = n->keys[i].name;
		bool ok = streq(key, "action");

		for (size_t j = 0; !ok && action_rules[a->action].fields[j]; j++)
			ok = streq(key, action_rules[a->action].fields[j]);
		if (!ok)
			policy_error(ctx, &n->keys[i].pos,
				     "field '%s' does not apply to action '%s'", key, name);
	}
	switch (a->action) {
	case POLICY_ACTION_POST:
		if (a->rate_limit && !rate_limit(a->rate_limit, &a->rate_limit_ms))
			policy_error(
				ctx, at(n, "rateLimit"),
				"invalid rateLimit '%s' (expected a positive number of seconds, optionally followed by s, m or h)",
				Q(a->rate_limit));
		if (policy_node_has(n, "rateLimitScope") && !a->rate_limit)
			policy_error(ctx, at(n, "rateLimitScope"),
				     "rateLimitScope needs rateLimit");
		if (h->kind == POLICY_HOOK_LSM && (a->kernel_stack_trace || a->user_stack_trace))
			policy_error(ctx,
				     at(n, a->kernel_stack_trace ? "kernelStackTrace" :
								   "userStackTrace"),
				     "stack traces are not supported on lsmhooks");
		if (a->ima_hash && (h->kind != POLICY_HOOK_LSM || !h->lsm.hook ||
				    !string_in(h->lsm.hook, ima_hooks)))
			policy_error(
				ctx, at(n, "imaHash"),
				"imaHash is only supported on the LSM hooks bprm_check_security, bprm_committed_creds, bprm_committing_creds, bprm_creds_from_file, file_ioctl, file_lock, file_open, file_post_open, file_receive and mmap_file");
		break;
	case POLICY_ACTION_FOLLOW_FD:
	case POLICY_ACTION_UNFOLLOW_FD:
	case POLICY_ACTION_COPY_FD:
		check_arg_ref(hk, a, "argFd", a->arg_fd);
		check_arg_ref(hk, a, "argName", a->arg_name);
		break;
	case POLICY_ACTION_SIGNAL:
		if (!policy_node_has(n, "argSig"))
			policy_error(ctx, &n->pos, "action 'Signal' needs 'argSig'");
		else
			signal_ok(ctx, a);
		break;
	case POLICY_ACTION_OVERRIDE:
		if (h->kind == POLICY_HOOK_UPROBE) {
			size_t nr_new = policy_node_has(n, "argNewSymbol") +
					policy_node_has(n, "argNewAddr") +
					policy_node_has(n, "argNewOffset");

			if (nr_new > 1)
				policy_error(
					ctx, &n->pos,
					"only one of argNewSymbol, argNewAddr and argNewOffset can be set");
			if (!nr_new && !policy_node_has(n, "argError") && !a->nr_arg_regs)
				policy_error(
					ctx, &n->pos,
					"action 'Override' needs argError, argRegs or one of argNewSymbol, argNewAddr and argNewOffset");
			for (size_t i = 0; i < a->nr_arg_regs; i++) {
				if (!arg_reg_ok(a->arg_regs[i].str))
					policy_error(
						ctx, &a->arg_regs[i].pos,
						"invalid register assignment '%s' (expected reg=N, reg=%%reg, reg=N%%reg, reg=(%%reg) or reg=N(%%reg))",
						Q(a->arg_regs[i].str));
			}
			break;
		}
		for (size_t i = 0; i < n->nr_keys; i++) {
			const char *key = n->keys[i].name;

			if (streq(key, "argRegs") || startswith(key, "argNew"))
				policy_error(ctx, &n->keys[i].pos,
					     "field '%s' is only valid on uprobes", key);
		}
		if (!policy_node_has(n, "argError"))
			policy_error(ctx, &n->pos, "action 'Override' needs 'argError'");
		else if (a->arg_error >= 0)
			policy_error(
				ctx, at(n, "argError"),
				"argError %d is not a negative errno (for example -1 for EPERM)",
				a->arg_error);
		if (h->kind == POLICY_HOOK_KPROBE && h->kprobe.call && !h->kprobe.syscall &&
		    !startswith(h->kprobe.call, "security_") &&
		    !startswith(h->kprobe.call, "list:"))
			policy_error(
				ctx, at(n, "action"),
				"action 'Override' works only on syscalls and security_* functions, not on '%s'",
				Q(h->kprobe.call));
		break;
	case POLICY_ACTION_GET_URL:
		if (!a->arg_url || !a->arg_url[0])
			policy_error(ctx, at(n, "argUrl"), "action 'GetUrl' needs 'argUrl'");
		break;
	case POLICY_ACTION_DNS_LOOKUP:
		if (!a->arg_fqdn || !a->arg_fqdn[0])
			policy_error(ctx, at(n, "argFqdn"), "action 'DnsLookup' needs 'argFqdn'");
		break;
	case POLICY_ACTION_TRACK_SOCK:
	case POLICY_ACTION_UNTRACK_SOCK:
		check_arg_ref(hk, a, "argSock", a->arg_sock);
		break;
	case POLICY_ACTION_NOTIFY_ENFORCER:
		if (!policy_node_has(n, "argError") && !policy_node_has(n, "argSig"))
			policy_error(ctx, &n->pos,
				     "action 'NotifyEnforcer' needs argError or argSig");
		if (policy_node_has(n, "argSig"))
			signal_ok(ctx, a);
		if (policy_node_has(n, "argError") && a->arg_error >= 0)
			policy_error(
				ctx, at(n, "argError"),
				"argError %d is not a negative errno (for example -1 for EPERM)",
				a->arg_error);
		if (!hk->v->p->spec.nr_enforcers)
			policy_error(ctx, at(n, "action"),
				     "action 'NotifyEnforcer' needs an enforcer in spec.enforcers");
		break;
	case POLICY_ACTION_SET:
		check_arg_ref(hk, a, "argIndex", a->arg_index);
		if (!policy_node_has(n, "argValue"))
			policy_error(ctx, &n->pos, "action 'Set' needs 'argValue'");
		else if (a->arg_value < INT32_MIN || a->arg_value > UINT32_MAX)
			policy_error(ctx, at(n, "argValue"),
				     "argValue %lld does not fit in 4 bytes",
				     (long long)a->arg_value);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Macros */

#define SEL_FIELD(key, m, deep)                                         \
	{                                                               \
		key, offsetof(struct policy_selector, m),               \
			offsetof(struct policy_selector, nr_##m),       \
			sizeof(*((struct policy_selector *)0)->m), deep \
	}

static const struct {
	const char *key;
	size_t off;
	size_t nr_off;
	size_t size;
	bool deep; /* arg filters: values are parsed per hook, so each use needs a copy */
} sel_fields[] = {
	SEL_FIELD("matchPIDs", match_pids, false),
	SEL_FIELD("matchArgs", match_args, true),
	SEL_FIELD("matchData", match_data, true),
	SEL_FIELD("matchReturnArgs", match_return_args, true),
	SEL_FIELD("matchActions", match_actions, false),
	SEL_FIELD("matchReturnActions", match_return_actions, false),
	SEL_FIELD("matchBinaries", match_binaries, false),
	SEL_FIELD("matchParentBinaries", match_parent_binaries, false),
	SEL_FIELD("matchNamespaces", match_namespaces, false),
	SEL_FIELD("matchNamespaceChanges", match_namespace_changes, false),
	SEL_FIELD("matchCapabilities", match_capabilities, false),
	SEL_FIELD("matchCapabilityChanges", match_capability_changes, false),
	SEL_FIELD("matchWorkloads", match_workloads, false),
	{ "label", offsetof(struct policy_selector, label), 0, 0, false },
};

static void merge_field(struct validator *v, struct policy_selector *sel,
			const struct policy_selector *m, size_t fi)
{
	size_t off = sel_fields[fi].off, nr_off = sel_fields[fi].nr_off;
	void **dst = (void **)((char *)sel + off);
	void *const *src = (void *const *)((const char *)m + off);
	size_t nr;

	if (!sel_fields[fi].size) {
		*dst = *src;
		return;
	}
	nr = *(const size_t *)((const char *)m + nr_off);
	*(size_t *)((char *)sel + nr_off) = nr;
	*dst = *src;
	if (sel_fields[fi].deep) {
		struct policy_arg_filter *f = policy_alloc_array(v->ctx, nr, sizeof(*f));

		if (!f)
			return;
		memcpy(f, *src, nr * sizeof(*f));
		for (size_t i = 0; i < nr; i++) {
			struct policy_value *vals =
				policy_alloc_array(v->ctx, f[i].nr_values, sizeof(*vals));

			if (!vals)
				return;
			memcpy(vals, f[i].values, f[i].nr_values * sizeof(*vals));
			f[i].values = vals;
		}
		*dst = f;
	}
}

static void merge_macros(struct validator *v, struct policy_selector *sel)
{
	const char *owner[ARRAY_SIZE(sel_fields)] = { NULL };
	char q[80], hint[128];

	if (!sel->nr_macros)
		return;
	for (size_t fi = 0; fi < ARRAY_SIZE(sel_fields); fi++) {
		if (policy_node_has(&sel->node, sel_fields[fi].key))
			owner[fi] = "";
	}
	for (size_t i = 0; i < sel->nr_macros && !v->ctx->stop; i++) {
		const struct policy_str *name = &sel->macros[i];
		const struct policy_macro *m = index_find(&v->macros, name->str);

		if (!m) {
			policy_error(v->ctx, &name->pos, "unknown macro '%s'%s", Q(name->str),
				     index_suggest(&v->macros, name->str, hint, sizeof(hint)));
			continue;
		}
		for (size_t fi = 0; fi < ARRAY_SIZE(sel_fields); fi++) {
			if (!policy_node_has(&m->selector.node, sel_fields[fi].key))
				continue;
			if (owner[fi] && !owner[fi][0])
				policy_error(
					v->ctx, &name->pos,
					"field '%s' is set both in the selector and in macro '%s'",
					sel_fields[fi].key, Q(name->str));
			else if (owner[fi])
				policy_error(v->ctx, &name->pos,
					     "field '%s' is set in both macro '%s' and macro '%s'",
					     sel_fields[fi].key, owner[fi], Q(name->str));
			else {
				owner[fi] = m->name;
				merge_field(v, sel, &m->selector, fi);
			}
		}
	}
}

static void check_macros(struct validator *v)
{
	const struct policy_spec *spec = &v->p->spec;

	for (size_t i = 0; i < spec->nr_macros; i++) {
		const struct policy_macro *m = &spec->macros[i];

		if (!m->name[0])
			policy_error(v->ctx, &m->node.pos, "empty macro name");
		if (m->selector.nr_macros)
			policy_error(v->ctx, at(&m->selector.node, "macros"),
				     "a macro cannot use other macros");
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Selectors and hooks */

static bool has_return(const struct policy_hook *h)
{
	return h->kind == POLICY_HOOK_KPROBE || h->kind == POLICY_HOOK_FENTRY ||
	       h->kind == POLICY_HOOK_UPROBE;
}

static void check_return_filter(struct hook *hk, const struct policy_selector *sel, const char *key,
				size_t nr)
{
	const struct policy_hook *h = hk->h;

	if (!nr)
		return;
	if (!has_return(h))
		policy_error(hk->v->ctx, at(&sel->node, key), "%s is not supported on %s", key,
			     hk->section);
	else if (!h->ret)
		policy_error(hk->v->ctx, at(&sel->node, key), "%s needs 'return: true' on the hook",
			     key);
}

static void check_selector(struct hook *hk, struct policy_selector *sel)
{
	struct policy_ctx *ctx = hk->v->ctx;
	const struct policy_hook *h = hk->h;

	merge_macros(hk->v, sel);
	if (ctx->stop)
		return;

	for (size_t i = 0; i < sel->nr_match_pids; i++)
		check_pid_filter(ctx, &sel->match_pids[i]);

	if (sel->nr_match_args + sel->nr_match_data > POLICY_MAX_ARG_FILTERS)
		policy_error(
			ctx, &sel->node.pos,
			"too many argument filters (%zu in matchArgs and matchData, at most %d)",
			sel->nr_match_args + sel->nr_match_data, POLICY_MAX_ARG_FILTERS);
	else {
		for (size_t i = 0; i < sel->nr_match_args; i++)
			check_arg_filter(hk, &sel->match_args[i], FILTER_ARGS);
		for (size_t i = 0; i < sel->nr_match_data; i++)
			check_arg_filter(hk, &sel->match_data[i], FILTER_DATA);
	}
	check_return_filter(hk, sel, "matchReturnArgs", sel->nr_match_return_args);
	check_return_filter(hk, sel, "matchReturnActions", sel->nr_match_return_actions);
	if (h->ret && has_return(h) &&
	    check_max(ctx, sel->match_return_args, sizeof(*sel->match_return_args),
		      sel->nr_match_return_args, POLICY_MAX_ARG_FILTERS,
		      "matchReturnArgs filters")) {
		for (size_t i = 0; i < sel->nr_match_return_args && h->return_arg; i++)
			check_arg_filter(hk, &sel->match_return_args[i], FILTER_RETURN);
	}

	if (check_max(ctx, sel->match_actions, sizeof(*sel->match_actions), sel->nr_match_actions,
		      POLICY_MAX_ACTIONS, "actions in matchActions")) {
		for (size_t i = 0; i < sel->nr_match_actions; i++)
			check_action(hk, &sel->match_actions[i]);
	}
	if (h->ret && has_return(h) &&
	    check_max(ctx, sel->match_return_actions, sizeof(*sel->match_return_actions),
		      sel->nr_match_return_actions, POLICY_MAX_ACTIONS,
		      "actions in matchReturnActions")) {
		for (size_t i = 0; i < sel->nr_match_return_actions; i++)
			check_action(hk, &sel->match_return_actions[i]);
	}

	if (check_max(ctx, sel->match_binaries, sizeof(*sel->match_binaries),
		      sel->nr_match_binaries, 1, "matchBinaries entries")) {
		for (size_t i = 0; i < sel->nr_match_binaries; i++)
			check_binary_filter(ctx, &sel->match_binaries[i], "matchBinaries");
	}
	if (check_max(ctx, sel->match_parent_binaries, sizeof(*sel->match_parent_binaries),
		      sel->nr_match_parent_binaries, 1, "matchParentBinaries entries")) {
		for (size_t i = 0; i < sel->nr_match_parent_binaries; i++)
			check_binary_filter(ctx, &sel->match_parent_binaries[i],
					    "matchParentBinaries");
	}
	if (check_max(ctx, sel->match_namespaces, sizeof(*sel->match_namespaces),
		      sel->nr_match_namespaces, POLICY_MAX_NS_FILTERS, "matchNamespaces filters")) {
		for (size_t i = 0; i < sel->nr_match_namespaces; i++)
			check_ns_filter(ctx, &sel->match_namespaces[i]);
	}
	if (check_max(ctx, sel->match_namespace_changes, sizeof(*sel->match_namespace_changes),
		      sel->nr_match_namespace_changes, 1, "matchNamespaceChanges filters")) {
		for (size_t i = 0; i < sel->nr_match_namespace_changes; i++)
			check_ns_change_filter(ctx, &sel->match_namespace_changes[i]);
	}
	for (size_t i = 0; i < sel->nr_match_capabilities; i++)
		check_cap_filter(ctx, &sel->match_capabilities[i], "matchCapabilities");
	for (size_t i = 0; i < sel->nr_match_capability_changes; i++)
		check_cap_filter(ctx, &sel->match_capability_changes[i], "matchCapabilityChanges");
	for (size_t i = 0; i < sel->nr_match_workloads; i++) {
		const struct policy_workload_filter *w = &sel->match_workloads[i];

		check_label_selector(hk->v, &w->pod_selector, SEL_POD);
		check_label_selector(hk->v, &w->container_selector, SEL_CONTAINER);
		check_label_selector(hk->v, &w->host_selector, SEL_HOST);
	}
}

static void check_common(struct hook *hk)
{
	struct policy_ctx *ctx = hk->v->ctx;
	struct policy_hook *h = hk->h;
	char q[80];

	if (h->message && strlen(h->message) > POLICY_MAX_MESSAGE_LEN)
		policy_error(ctx, at(&h->node, "message"),
			     "message too long (%zu characters, at most %d)", strlen(h->message),
			     POLICY_MAX_MESSAGE_LEN);
	if (check_max(ctx, h->tags, sizeof(*h->tags), h->nr_tags, POLICY_MAX_TAGS, "tags")) {
		for (size_t i = 0; i < h->nr_tags; i++) {
			size_t len = strlen(h->tags[i].str);

			if (len < POLICY_MIN_TAG_LEN || len > POLICY_MAX_TAG_LEN)
				policy_error(
					ctx, &h->tags[i].pos,
					"tag '%s' must be %d to %d characters long (it has %zu)",
					Q(h->tags[i].str), POLICY_MIN_TAG_LEN, POLICY_MAX_TAG_LEN,
					len);
		}
	}
	/* Lookups by index make sense when the lists decoded and every index is known. */
	hk->args_ok = (ok(&h->node, "args") || h->nr_args) && (ok(&h->node, "data") || h->nr_data);
	for (size_t i = 0; i < h->nr_args; i++)
		hk->args_ok &= ok(&h->args[i].node, "index") &&
			       policy_node_has(&h->args[i].node, "index");
	if (h->nr_args + h->nr_data > POLICY_MAX_ARGS) {
		const struct policy_pos *pos =
			h->nr_args > POLICY_MAX_ARGS ?
				&h->args[POLICY_MAX_ARGS].node.pos :
				&h->data[POLICY_MAX_ARGS - h->nr_args].node.pos;

		policy_error(ctx, pos, "too many arguments (%zu in args and data, at most %d)",
			     h->nr_args + h->nr_data, POLICY_MAX_ARGS);
		hk->args_ok = false;
		return;
	}
	for (size_t i = 0; i < h->nr_args; i++)
		check_arg(hk, &h->args[i], false);
	for (size_t i = 0; i < h->nr_data; i++)
		check_arg(hk, &h->data[i], true);
	if (h->return_arg)
		check_arg(hk, h->return_arg, false);
	if (h->ret && !h->return_arg && ok(&h->node, "returnArg"))
		policy_error(ctx, at(&h->node, "return"), "'return: true' needs 'returnArg'");
}

static void check_kprobe(struct hook *hk)
{
	struct policy_ctx *ctx = hk->v->ctx;
	struct policy_hook *h = hk->h;

	if (required_string(ctx, &h->node, "call", h->kprobe.call) &&
	    startswith(h->kprobe.call, "list:"))
		h->kprobe.call_list = list_ref(hk->v, at(&h->node, "call"), h->kprobe.call);
	if (h->kprobe.return_arg_action != POLICY_ACTION_NONE) {
		if (h->kprobe.return_arg_action != POLICY_ACTION_TRACK_SOCK &&
		    h->kprobe.return_arg_action != POLICY_ACTION_UNTRACK_SOCK)
			policy_error(ctx, at(&h->node, "returnArgAction"),
				     "returnArgAction must be 'TrackSock' or 'UntrackSock'");
		else if (!h->ret)
			policy_error(ctx, at(&h->node, "returnArgAction"),
				     "returnArgAction needs 'return: true'");
	}
}

static bool hex_string(const char *s, size_t len)
{
	if (strlen(s) != len && len)
		return false;
	for (; *s; s++) {
		if (!isxdigit((unsigned char)*s))
			return false;
	}
	return true;
}

static void check_uprobe(struct hook *hk)
{
	static const struct {
		const char *prefix;
		size_t hex_len;
	} digests[] = { { "sha1:", 40 },
			{ "sha256:", 64 },
			{ "sha384:", 96 },
			{ "sha512:", 128 },
			{ "build-id:", 0 } };
	struct policy_ctx *ctx = hk->v->ctx;
	struct policy_hook *h = hk->h;
	size_t nr_targets, nr_kinds;
	char q[80];

	required_string(ctx, &h->node, "path", h->uprobe.path);
	nr_kinds = !!h->uprobe.nr_symbols + !!h->uprobe.nr_offsets + !!h->uprobe.nr_addrs;
	nr_targets = h->uprobe.nr_symbols + h->uprobe.nr_offsets + h->uprobe.nr_addrs;
	if (nr_kinds == 0)
		policy_error(ctx, &h->node.pos,
			     "one of 'symbols', 'offsets' or 'addrs' is required");
	else if (nr_kinds > 1)
		policy_error(ctx, &h->node.pos,
			     "only one of 'symbols', 'offsets' and 'addrs' can be set");
	for (size_t i = 0; i < h->uprobe.nr_symbols; i++) {
		const char *s = h->uprobe.symbols[i].str, *plus = strchr(s, '+');
		uint64_t off;

		if (!s[0] || plus == s || (plus && policy_parse_int(plus + 1, false, &off) < 0))
			policy_error(ctx, &h->uprobe.symbols[i].pos,
				     "invalid symbol '%s' (expected NAME or NAME+OFFSET)", Q(s));
	}
	if (h->uprobe.nr_ref_ctr_offsets && nr_kinds == 1 &&
	    h->uprobe.nr_ref_ctr_offsets != nr_targets)
		policy_error(ctx, at(&h->node, "refCtrOffsets"),
			     "refCtrOffsets has %zu entries but there are %zu probe targets",
			     h->uprobe.nr_ref_ctr_offsets, nr_targets);
	for (size_t i = 0; i < h->uprobe.nr_binary_digests; i++) {
		const char *s = h->uprobe.binary_digests[i].str;
		bool ok = false;

		for (size_t j = 0; j < ARRAY_SIZE(digests) && !ok; j++) {
			size_t n = strlen(digests[j].prefix);

			ok = strncmp(s, digests[j].prefix, n) == 0 && s[n] &&
			     hex_string(s + n, digests[j].hex_len);
		}
		if (!ok)
			policy_error(
				ctx, &h->uprobe.binary_digests[i].pos,
				"invalid binary digest '%s' (expected sha1:, sha256:, sha384:, sha512: or build-id: followed by hex digits)",
				Q(s));
	}
}

static void check_hook(struct validator *v, struct policy_hook *h)
{
	struct hook hk = { .v = v, .h = h, .section = policy_hook_kind_name(h->kind) };
	struct policy_ctx *ctx = v->ctx;
	char q[80];

	check_common(&hk);
	switch (h->kind) {
	case POLICY_HOOK_KPROBE:
	case POLICY_HOOK_FENTRY:
		check_kprobe(&hk);
		break;
	case POLICY_HOOK_TRACEPOINT:
		required_string(ctx, &h->node, "subsystem", h->tp.subsystem);
		required_string(ctx, &h->node, "event", h->tp.event);
		break;
	case POLICY_HOOK_UPROBE:
		check_uprobe(&hk);
		break;
	case POLICY_HOOK_USDT:
		required_string(ctx, &h->node, "path", h->uprobe.path);
		required_string(ctx, &h->node, "provider", h->uprobe.provider);
		required_string(ctx, &h->node, "name", h->uprobe.name);
		break;
	case POLICY_HOOK_LSM:
		if (required_string(ctx, &h->node, "hook", h->lsm.hook) &&
		    startswith(h->lsm.hook, "security_"))
			policy_error(
				ctx, at(&h->node, "hook"),
				"LSM hooks are named without the 'security_' prefix (did you mean '%s'?)",
				Q(h->lsm.hook + 9));
		break;
	default:
		break;
	}
	if (!check_max(ctx, h->selectors, sizeof(*h->selectors), h->nr_selectors,
		       POLICY_MAX_SELECTORS, "selectors"))
		return;
	for (size_t i = 0; i < h->nr_selectors && !ctx->stop; i++)
		check_selector(&hk, &h->selectors[i]);
}

void policy_validate(struct policy_ctx *ctx)
{
	struct validator v = { .ctx = ctx, .p = ctx->p };
	struct policy_spec *spec = &ctx->p->spec;

	if (!index_build(&v, &v.lists, spec->lists, spec->nr_lists, sizeof(*spec->lists),
			 list_name) ||
	    !index_build(&v, &v.macros, spec->macros, spec->nr_macros, sizeof(*spec->macros),
			 macro_name))
		goto out;
	check_metadata(&v);
	check_options(&v);
	check_lists(&v);
	check_macros(&v);
	check_enforcers(&v);
	check_label_selector(&v, &spec->pod_selector, SEL_POD);
	check_label_selector(&v, &spec->container_selector, SEL_CONTAINER);
	check_label_selector(&v, &spec->host_selector, SEL_HOST);
	check_label_selector(&v, &spec->node_selector, SEL_NODE);
	for (int k = 0; k < POLICY_HOOK_KIND_MAX; k++) {
		for (size_t i = 0; i < spec->nr_hooks[k] && !ctx->stop; i++)
			check_hook(&v, &spec->hooks[k][i]);
	}
out:
	free(v.lists.v);
	free(v.macros.v);
}
