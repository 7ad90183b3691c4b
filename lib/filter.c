// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/filter.h"
#include "lib/htable.h"
#include "lib/util.h"

/* ------------------------------------------------------------------------------------ */
/* Event accessors */

Tetragon__EventType event_type_of(const Tetragon__GetEventsResponse *ev)
{
	switch (ev->event_case) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC:
		return TETRAGON__EVENT_TYPE__PROCESS_EXEC;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT:
		return TETRAGON__EVENT_TYPE__PROCESS_EXIT;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		return TETRAGON__EVENT_TYPE__PROCESS_KPROBE;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		return TETRAGON__EVENT_TYPE__PROCESS_TRACEPOINT;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LOADER:
		return TETRAGON__EVENT_TYPE__PROCESS_LOADER;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
		return TETRAGON__EVENT_TYPE__PROCESS_UPROBE;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_THROTTLE:
		return TETRAGON__EVENT_TYPE__PROCESS_THROTTLE;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
		return TETRAGON__EVENT_TYPE__PROCESS_LSM;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
		return TETRAGON__EVENT_TYPE__PROCESS_USDT;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_TEST:
		return TETRAGON__EVENT_TYPE__TEST;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_RATE_LIMIT_INFO:
		return TETRAGON__EVENT_TYPE__RATE_LIMIT_INFO;
	default:
		return TETRAGON__EVENT_TYPE__UNDEF;
	}
}

const Tetragon__Process *event_process(const Tetragon__GetEventsResponse *ev)
{
	switch (ev->event_case) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC:
		return ev->process_exec ? ev->process_exec->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT:
		return ev->process_exit ? ev->process_exit->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		return ev->process_kprobe ? ev->process_kprobe->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		return ev->process_tracepoint ? ev->process_tracepoint->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LOADER:
		return ev->process_loader ? ev->process_loader->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
		return ev->process_uprobe ? ev->process_uprobe->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
		return ev->process_lsm ? ev->process_lsm->process : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
		return ev->process_usdt ? ev->process_usdt->process : NULL;
	default:
		return NULL;
	}
}

const Tetragon__Process *event_parent(const Tetragon__GetEventsResponse *ev)
{
	switch (ev->event_case) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC:
		return ev->process_exec ? ev->process_exec->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXIT:
		return ev->process_exit ? ev->process_exit->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		return ev->process_kprobe ? ev->process_kprobe->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		return ev->process_tracepoint ? ev->process_tracepoint->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LOADER:
		return ev->process_loader ? ev->process_loader->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
		return ev->process_uprobe ? ev->process_uprobe->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
		return ev->process_lsm ? ev->process_lsm->parent : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
		return ev->process_usdt ? ev->process_usdt->parent : NULL;
	default:
		return NULL;
	}
}

const char *event_policy_name(const Tetragon__GetEventsResponse *ev)
{
	switch (ev->event_case) {
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_KPROBE:
		return ev->process_kprobe ? ev->process_kprobe->policy_name : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_TRACEPOINT:
		return ev->process_tracepoint ? ev->process_tracepoint->policy_name : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_UPROBE:
		return ev->process_uprobe ? ev->process_uprobe->policy_name : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_LSM:
		return ev->process_lsm ? ev->process_lsm->policy_name : NULL;
	case TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_USDT:
		return ev->process_usdt ? ev->process_usdt->policy_name : NULL;
	default:
		return NULL;
	}
}

int event_type_from_name(const char *name, Tetragon__EventType *ret)
{
	const ProtobufCEnumDescriptor *d = &tetragon__event_type__descriptor;
	char upper[64];
	size_t n = strlen(name);

	if (n == 0 || n + sizeof("PROCESS_") >= sizeof(upper))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		upper[i] = (char)toupper((unsigned char)name[i]);
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *v = d->values[i].name;

		if (streq(upper, v) || (startswith(v, "PROCESS_") && streq(upper, v + 8))) {
			*ret = (Tetragon__EventType)d->values[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

const char *event_type_name(Tetragon__EventType t)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&tetragon__event_type__descriptor, (int)t);

	return v ? v->name : "UNDEF";
}

/* ------------------------------------------------------------------------------------ */
/* Event filters */

struct regex_list {
	regex_t *re;
	size_t n;
};

struct pid_node {
	struct hnode node;
	uint32_t pid;
};

struct compiled_filter {
	const Tetragon__Filter *src; /* for the plain lists: pid, event_set, namespace... */
	Tetragon__Filter *own; /* a copy owned by us */
	struct regex_list binary, arguments, parent_binary, parent_arguments, container_id, pod,
		container_name, namespace_re;
	bool has_pid_set;
	struct htable pid_set; /* the configured pids and the children seen since */
};

struct event_filter {
	struct compiled_filter *allow, *deny;
	size_t n_allow, n_deny;
};

static int compile_regexes(char **pats, size_t n, struct regex_list *out, const char *field,
			   char *err, size_t errlen)
{
	out->n = 0;
	if (n == 0)
		return 0;
	out->re = calloc(n, sizeof(regex_t));
	if (!out->re)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = regcomp(&out->re[i], pats[i], REG_EXTENDED | REG_NOSUB);

		if (r != 0) {
			char msg[128];

			regerror(r, &out->re[i], msg, sizeof(msg));
			snprintf(err, errlen, "invalid %s '%s': %s", field, pats[i], msg);
			return -EINVAL;
		}
		out->n++;
	}
	return 0;
}

static void free_regexes(struct regex_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		regfree(&l->re[i]);
	free(l->re);
	l->re = NULL;
	l->n = 0;
}

static bool regex_any(const struct regex_list *l, const char *s)
{
	if (!s)
		s = "";
	for (size_t i = 0; i < l->n; i++)
		if (regexec(&l->re[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

static bool pid_set_has(struct htable *t, uint32_t pid)
{
	htable_for_each_hash(n, t, hash_u64(pid))
	{
		if (container_of(n, struct pid_node, node)->pid == pid)
			return true;
	}
	return false;
}

static void pid_set_add(struct htable *t, uint32_t pid)
{
	struct pid_node *n;

	if (pid_set_has(t, pid))
		return;
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	n->pid = pid;
	htable_insert(t, &n->node, hash_u64(pid));
}

static void free_pid_node(struct hnode *n, void *ud)
{
	(void)ud;
	free(container_of(n, struct pid_node, node));
}

static void filter_destroy(struct compiled_filter *c)
{
	free_regexes(&c->binary);
	free_regexes(&c->arguments);
	free_regexes(&c->parent_binary);
	free_regexes(&c->parent_arguments);
	free_regexes(&c->container_id);
	free_regexes(&c->pod);
	free_regexes(&c->container_name);
	free_regexes(&c->namespace_re);
	if (c->has_pid_set) {
		htable_walk(&c->pid_set, free_pid_node, NULL);
		htable_free(&c->pid_set);
	}
	if (c->own)
		protobuf_c_message_free_unpacked(&c->own->base, NULL);
}

static Tetragon__Filter *copy_filter(const Tetragon__Filter *f)
{
	size_t n = protobuf_c_message_get_packed_size(&f->base);
	uint8_t *buf = malloc(n ? n : 1);
	Tetragon__Filter *copy;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(&f->base, buf);
	copy = tetragon__filter__unpack(NULL, n, buf);
	free(buf);
	return copy;
}

static int filter_compile(const Tetragon__Filter *f, struct compiled_filter *c, char *err,
			  size_t errlen)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->own = copy_filter(f);
	if (!c->own)
		return -ENOMEM;
	c->src = c->own;
	f = c->own;
	if (f->n_cel_expression > 0) {
		snprintf(err, errlen, "cel_expression filters are not supported");
		return -EINVAL;
	}
	if (f->n_ancestor_binary_regex > 0) {
		snprintf(err, errlen, "ancestor_binary_regex filters are not supported");
		return -EINVAL;
	}
	r = compile_regexes(f->binary_regex, f->n_binary_regex, &c->binary, "binary_regex", err,
			    errlen);
	if (r == 0)
		r = compile_regexes(f->arguments_regex, f->n_arguments_regex, &c->arguments,
				    "arguments_regex", err, errlen);
	if (r == 0)
		r = compile_regexes(f->parent_binary_regex, f->n_parent_binary_regex,
				    &c->parent_binary, "parent_binary_regex", err, errlen);
	if (r == 0)
		r = compile_regexes(f->parent_arguments_regex, f->n_parent_arguments_regex,
				    &c->parent_arguments, "parent_arguments_regex", err, errlen);
	if (r == 0)
		r = compile_regexes(f->container_id, f->n_container_id, &c->container_id,
				    "container_id", err, errlen);
	if (r == 0)
		r = compile_regexes(f->pod_regex, f->n_pod_regex, &c->pod, "pod_regex", err,
				    errlen);
	if (r == 0)
		r = compile_regexes(f->container_name_regex, f->n_container_name_regex,
				    &c->container_name, "container_name_regex", err, errlen);
	if (r == 0)
		r = compile_regexes(f->namespace_regex, f->n_namespace_regex, &c->namespace_re,
				    "namespace_regex", err, errlen);
	if (r == 0 && f->n_pid_set > 0) {
		r = htable_init(&c->pid_set, f->n_pid_set);
		if (r == 0) {
			c->has_pid_set = true;
			for (size_t i = 0; i < f->n_pid_set; i++)
				pid_set_add(&c->pid_set, f->pid_set[i]);
		}
	}
	return r;
}

static bool caps_match(const Tetragon__CapFilterSet *set, const Tetragon__CapabilitiesType *have,
		       size_t n_have)
{
	uint64_t mask = 0, want;

	if (!set)
		return true;
	for (size_t i = 0; i < n_have; i++)
		mask |= 1ull << (have[i] & 63);
	if (set->n_any) {
		want = 0;
		for (size_t i = 0; i < set->n_any; i++)
			want |= 1ull << (set->any[i] & 63);
		if (!(mask & want))
			return false;
	}
	if (set->n_all) {
		want = 0;
		for (size_t i = 0; i < set->n_all; i++)
			want |= 1ull << (set->all[i] & 63);
		if ((mask & want) != want)
			return false;
	}
	if (set->n_exactly) {
		want = 0;
		for (size_t i = 0; i < set->n_exactly; i++)
			want |= 1ull << (set->exactly[i] & 63);
		if (mask != want)
			return false;
	}
	if (set->n_none) {
		want = 0;
		for (size_t i = 0; i < set->n_none; i++)
			want |= 1ull << (set->none[i] & 63);
		if (mask & want)
			return false;
	}
	return true;
}

static uint32_t pid_of(const Tetragon__Process *p)
{
	return p && p->pid ? p->pid->value : 0;
}

static bool filter_match(struct compiled_filter *c, const Tetragon__GetEventsResponse *ev)
{
	const Tetragon__Filter *f = c->src;
	const Tetragon__Process *p = event_process(ev);
	const Tetragon__Process *parent = event_parent(ev);
	bool found;

	if (f->n_event_set) {
		Tetragon__EventType t = event_type_of(ev);

		found = false;
		for (size_t i = 0; i < f->n_event_set && !found; i++)
			found = f->event_set[i] == t;
		if (!found)
			return false;
	}
	if (f->n_pid) {
		uint32_t pid = pid_of(p);

		found = false;
		for (size_t i = 0; i < f->n_pid && !found; i++)
			found = p && f->pid[i] == pid;
		if (!found)
			return false;
	}
	if (c->has_pid_set) {
		uint32_t pid = pid_of(p), ppid = pid_of(parent);

		if (!p)
			return false;
		if (!pid_set_has(&c->pid_set, pid)) {
			if (!parent || !pid_set_has(&c->pid_set, ppid))
				return false;
			/* a child of a followed process: follow it too */
			pid_set_add(&c->pid_set, pid);
		}
	}
	if (c->binary.n && (!p || !regex_any(&c->binary, p->binary)))
		return false;
	if (c->arguments.n && (!p || !regex_any(&c->arguments, p->arguments)))
		return false;
	if (c->parent_binary.n && (!parent || !regex_any(&c->parent_binary, parent->binary)))
		return false;
	if (c->parent_arguments.n &&
	    (!parent || !regex_any(&c->parent_arguments, parent->arguments)))
		return false;
	if (c->container_id.n && (!p || !*p->docker || !regex_any(&c->container_id, p->docker)))
		return false;
	if (f->n_namespace_) {
		const char *ns = p && p->pod ? p->pod->namespace_ : "";

		found = false;
		for (size_t i = 0; i < f->n_namespace_ && !found; i++)
			found = streq(f->namespace_[i], ns);
		if (!found)
			return false;
	}
	/* pods exist only on Kubernetes nodes; pod filters match nothing elsewhere */
	if (c->pod.n && (!p || !p->pod || !regex_any(&c->pod, p->pod->name)))
		return false;
	if (c->namespace_re.n &&
	    (!p || !p->pod || !regex_any(&c->namespace_re, p->pod->namespace_)))
		return false;
	if (c->container_name.n && (!p || !p->pod || !p->pod->container ||
				    !regex_any(&c->container_name, p->pod->container->name)))
		return false;
	if (f->n_labels && (!p || !p->pod))
		return false;
	if (f->n_policy_names) {
		const char *name = event_policy_name(ev);

		found = false;
		for (size_t i = 0; name && i < f->n_policy_names && !found; i++)
			found = streq(f->policy_names[i], name);
		if (!found)
			return false;
	}
	if (f->health_check && f->health_check->value)
		return false; /* no event here comes from a container health check */
	if (f->in_init_tree) {
		bool v = p && p->in_init_tree && p->in_init_tree->value;

		if (v != f->in_init_tree->value)
			return false;
	}
	if (f->capabilities) {
		const Tetragon__Capabilities *cap = p ? p->cap : NULL;

		if (!cap)
			return false;
		if (!caps_match(f->capabilities->permitted, cap->permitted, cap->n_permitted) ||
		    !caps_match(f->capabilities->effective, cap->effective, cap->n_effective) ||
		    !caps_match(f->capabilities->inheritable, cap->inheritable, cap->n_inheritable))
			return false;
	}
	return true;
}

int event_filter_new(Tetragon__Filter *const *allow, size_t n_allow, Tetragon__Filter *const *deny,
		     size_t n_deny, struct event_filter **ret, char *err, size_t errlen)
{
	struct event_filter *f;
	int r = 0;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->allow = calloc(n_allow ? n_allow : 1, sizeof(*f->allow));
	f->deny = calloc(n_deny ? n_deny : 1, sizeof(*f->deny));
	if (!f->allow || !f->deny) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n_allow && r == 0; i++) {
		r = filter_compile(allow[i], &f->allow[i], err, errlen);
		f->n_allow++;
	}
	for (size_t i = 0; i < n_deny && r == 0; i++) {
		r = filter_compile(deny[i], &f->deny[i], err, errlen);
		f->n_deny++;
	}
	if (r < 0)
		goto fail;
	*ret = f;
	return 0;
fail:
	event_filter_free(f);
	return r;
}

bool event_filter_match(struct event_filter *f, const Tetragon__GetEventsResponse *ev)
{
	bool allowed = f->n_allow == 0;

	for (size_t i = 0; i < f->n_allow && !allowed; i++)
		allowed = filter_match(&f->allow[i], ev);
	if (!allowed)
		return false;
	for (size_t i = 0; i < f->n_deny; i++)
		if (filter_match(&f->deny[i], ev))
			return false;
	return true;
}

struct event_filter *event_filter_free(struct event_filter *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n_allow; i++)
		filter_destroy(&f->allow[i]);
	for (size_t i = 0; i < f->n_deny; i++)
		filter_destroy(&f->deny[i]);
	free(f->allow);
	free(f->deny);
	free(f);
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Field filters */

struct field_rule {
	bool include;
	bool invert;
	Tetragon__EventType *types;
	size_t n_types;
	char **paths; /* relative to the event message, e.g. "process.exec_id" */
	size_t n_paths;
};

struct field_filter {
	struct field_rule *rules;
	size_t n_rules;
};

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
						  const char *name, size_t len)
{
	char buf[128];

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *fname = d->fields[i].name;
		char camel[128];
		size_t k = 0;
		bool up = false;

		if (streq(fname, buf))
			return &d->fields[i];
		/* lowerCamelCase, as FieldMask paths may be written */
		for (const char *p = fname; *p && k + 1 < sizeof(camel); p++) {
			if (*p == '_') {
				up = true;
				continue;
			}
			camel[k++] = up ? (char)toupper((unsigned char)*p) : *p;
			up = false;
		}
		camel[k] = '\0';
		if (streq(camel, buf))
			return &d->fields[i];
	}
	return NULL;
}

/* The inner event message of ev (process_exec etc.), or NULL. */
static ProtobufCMessage *event_inner(Tetragon__GetEventsResponse *ev,
				     const ProtobufCFieldDescriptor **fd)
{
	const ProtobufCMessageDescriptor *d = ev->base.descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].id != ev->event_case)
			continue;
		*fd = &d->fields[i];
		return *(ProtobufCMessage **)((char *)ev + d->fields[i].offset);
	}
	return NULL;
}

static void clear_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	char *base = (char *)m;
	void *member = base + f->offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *qcase = (uint32_t *)(base + f->quantifier_offset);

		if (*qcase != f->id)
			return;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = (size_t *)(base + f->quantifier_offset);
		void **arr = (void **)member;

		for (size_t i = 0; i < *n; i++) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE)
				protobuf_c_message_free_unpacked(((ProtobufCMessage **)*arr)[i],
								 NULL);
			else if (f->type == PROTOBUF_C_TYPE_STRING)
				free(((char **)*arr)[i]);
			else if (f->type == PROTOBUF_C_TYPE_BYTES)
				free(((ProtobufCBinaryData *)*arr)[i].data);
		}
		free(*arr);
		*arr = NULL;
		*n = 0;
		return;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage **)member)
			protobuf_c_message_free_unpacked(*(ProtobufCMessage **)member, NULL);
		*(ProtobufCMessage **)member = NULL;
		break;
	case PROTOBUF_C_TYPE_STRING: {
		char **s = member;

		if (*s && *s != (char *)protobuf_c_empty_string && *s != f->default_value)
			free(*s);
		*s = (char *)protobuf_c_empty_string;
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = member;

		free(b->data);
		b->data = NULL;
		b->len = 0;
		break;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		memset(member, 0, 8);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		memset(member, 0, sizeof(protobuf_c_boolean));
		break;
	default:
		memset(member, 0, 4);
		break;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		*(uint32_t *)(base + f->quantifier_offset) = 0;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 0;
}

/* Clear the field at path (dotted) inside m. */
static void exclude_path(ProtobufCMessage *m, const char *path)
{
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);
	const ProtobufCFieldDescriptor *f = find_field(m->descriptor, path, len);

	if (!f)
		return;
	if (!dot) {
		clear_field(m, f);
		return;
	}
	if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
		return;
	m = *(ProtobufCMessage **)((char *)m + f->offset);
	if (m)
		exclude_path(m, dot + 1);
}

/* Keep only the fields named by paths (each relative to m). */
static void include_paths(ProtobufCMessage *m, char **paths, size_t n)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool whole = false, partial = false;

		for (size_t k = 0; k < n; k++) {
			const char *dot = strchr(paths[k], '.');
			size_t len = dot ? (size_t)(dot - paths[k]) : strlen(paths[k]);

			if (find_field(d, paths[k], len) != f)
				continue;
			if (dot)
				partial = true;
			else
				whole = true;
		}
		if (whole)
			continue;
		if (!partial) {
			clear_field(m, f);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) {
			ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)m + f->offset);
			char **sub_paths = calloc(n, sizeof(char *));
			size_t ns = 0;

			if (!sub || !sub_paths) {
				free(sub_paths);
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				const char *dot = strchr(paths[k], '.');

				if (dot && find_field(d, paths[k], (size_t)(dot - paths[k])) == f)
					sub_paths[ns++] = (char *)dot + 1;
			}
			include_paths(sub, sub_paths, ns);
			free(sub_paths);
		}
	}
}

int field_filter_new(Tetragon__FieldFilter *const *ff, size_t n, struct field_filter **ret,
		     char *err, size_t errlen)
{
	struct field_filter *f;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->rules = calloc(n ? n : 1, sizeof(*f->rules));
	if (!f->rules) {
		free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct field_rule *r = &f->rules[i];
		const Tetragon__FieldFilter *src = ff[i];
		size_t np = src->fields ? src->fields->n_paths : 0;

		f->n_rules++;
		r->include = src->action == TETRAGON__FIELD_FILTER_ACTION__INCLUDE;
		r->invert = src->invert_event_set && src->invert_event_set->value;
		r->types = calloc(src->n_event_set ? src->n_event_set : 1, sizeof(*r->types));
		r->paths = calloc(np ? np : 1, sizeof(char *));
		if (!r->types || !r->paths)
			goto oom;
		memcpy(r->types, src->event_set, src->n_event_set * sizeof(*r->types));
		r->n_types = src->n_event_set;
		for (size_t k = 0; k < np; k++) {
			r->paths[k] = strdup(src->fields->paths[k]);
			if (!r->paths[k])
				goto oom;
			r->n_paths++;
		}
		if (np == 0) {
			snprintf(err, errlen, "field filter %zu has no fields", i);
			field_filter_free(f);
			return -EINVAL;
		}
	}
	*ret = f;
	return 0;
oom:
	field_filter_free(f);
	return -ENOMEM;
}

static bool rule_applies(const struct field_rule *r, Tetragon__EventType type)
{
	bool in = r->n_types == 0;

	for (size_t i = 0; i < r->n_types && !in; i++)
		in = r->types[i] == type;
	return r->invert ? !in : in;
}

bool field_filter_applies(const struct field_filter *f, Tetragon__EventType type)
{
	for (size_t i = 0; i < f->n_rules; i++)
		if (rule_applies(&f->rules[i], type))
			return true;
	return false;
}

void field_filter_apply(const struct field_filter *f, Tetragon__GetEventsResponse *ev)
{
	Tetragon__EventType type = event_type_of(ev);
	const ProtobufCFieldDescriptor *fd;
	ProtobufCMessage *inner = event_inner(ev, &fd);

	if (!inner)
		return;
	/* includes first, then excludes: an exclusion always wins */
	for (size_t i = 0; i < f->n_rules; i++)
		if (f->rules[i].include && rule_applies(&f->rules[i], type))
			include_paths(inner, f->rules[i].paths, f->rules[i].n_paths);
	for (size_t i = 0; i < f->n_rules; i++) {
		if (f->rules[i].include || !rule_applies(&f->rules[i], type))
			continue;
		for (size_t k = 0; k < f->rules[i].n_paths; k++)
			exclude_path(inner, f->rules[i].paths[k]);
	}
}

struct field_filter *field_filter_free(struct field_filter *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n_rules; i++) {
		for (size_t k = 0; k < f->rules[i].n_paths; k++)
			free(f->rules[i].paths[k]);
		free(f->rules[i].paths);
		free(f->rules[i].types);
	}
	free(f->rules);
	free(f);
	return NULL;
}
