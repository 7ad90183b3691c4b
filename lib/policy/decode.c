// SPDX-License-Identifier: Apache-2.0
/*
 * YAML document -> policy model. Table-driven: each object of the language has a schema that
 * lists its fields, how each is decoded and where it goes. This step checks the shape of the
 * document (mappings, lists, scalar types, unknown and duplicate keys, required fields, names
 * of enumerations); the meaning is checked by validate.c.
 *
 * Scalars follow what Tetragon's YAML -> JSON -> Go path accepts: any scalar where a string is
 * expected, plain integers where a number is expected (a quoted "5" is a string), plain YAML 1.1
 * booleans where a boolean is expected. Null leaves a field at its default.
 */

#include "lib/policy/internal.h"

struct decoder {
	struct policy_ctx *ctx;
	yaml_document_t *doc;
};

struct field;

typedef void (*decode_fn)(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
			  void *obj, const struct field *f);

struct schema {
	size_t size;
	const struct field *fields;
	void (*init)(void *obj);
};

struct field {
	const char *key;
	decode_fn fn;
	size_t off; /* of the destination in the object */
	size_t nr_off; /* of the element count, for lists */
	const struct schema *schema; /* of nested objects */
	enum policy_table table; /* of enumerations */
	int invalid; /* stored when an enumeration name is unknown */
	const char *what; /* names the field's values in messages */
	bool required;
};

#define DST(obj, f, type) ((type *)((char *)(obj) + (f)->off))
#define COUNT(obj, f) (*(size_t *)((char *)(obj) + (f)->nr_off))

/* ---------------------------------------------------------------------------------------- */
/* Nodes */

static bool enter(struct decoder *d, const yaml_node_t *n, const struct policy_pos *pos)
{
	struct policy_ctx *ctx = d->ctx;

	if (ctx->stop)
		return false;
	if (++ctx->nr_nodes > POLICY_MAX_NODES) {
		policy_error(ctx, pos,
			     "policy too complex (more than %d YAML nodes, aliases expanded)",
			     POLICY_MAX_NODES);
		ctx->stop = true;
		return false;
	}
	return true;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return false;
	s = text(n);
	return !*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static void type_error(struct decoder *d, const yaml_node_t *n, const struct policy_pos *pos,
		       const char *expected)
{
	char q[80];

	if (n->type == YAML_MAPPING_NODE)
		policy_error(d->ctx, pos, "expected %s, got a mapping", expected);
	else if (n->type == YAML_SEQUENCE_NODE)
		policy_error(d->ctx, pos, "expected %s, got a list", expected);
	else if (is_null(n))
		policy_error(d->ctx, pos, "expected %s, got null", expected);
	else if (is_plain(n))
		policy_error(d->ctx, pos, "expected %s, got '%s'", expected,
			     policy_quote(text(n), q, sizeof(q)));
	else
		policy_error(d->ctx, pos, "expected %s, got the quoted string '%s'", expected,
			     policy_quote(text(n), q, sizeof(q)));
}

/* The text of a scalar, or NULL (with an error) for anything else. */
static const char *scalar(struct decoder *d, const yaml_node_t *n, const struct policy_pos *pos,
			  const char *expected)
{
	if (n->type != YAML_SCALAR_NODE) {
		type_error(d, n, pos, expected);
		return NULL;
	}
	if (strlen(text(n)) != n->data.scalar.length) {
		policy_error(d->ctx, pos, "string contains a NUL character");
		return NULL;
	}
	return text(n);
}

static void node_pos(struct decoder *d, const yaml_node_t *n, const char *path,
		     struct policy_pos *pos)
{
	pos->path = path ? path : "";
	pos->line = (unsigned int)n->start_mark.line + 1;
	pos->col = (unsigned int)n->start_mark.column + 1;
}

/* parent.key, or parent["key"] for keys that are not plain identifiers; long keys are cut. */
static const char *key_path(struct decoder *d, const char *parent, const char *key)
{
	const char *sep = parent[0] ? "." : "";
	char buf[80];
	size_t i, n = 0;
	bool plain = key[0] != '\0';

	for (i = 0; key[i] && n < 64; i++) {
		unsigned char c = (unsigned char)key[i];

		if (!(c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			plain = false;
		buf[n++] = (c < 0x20 || c == '"') ? '?' : (char)c;
	}
	buf[n] = '\0';
	if (key[i]) {
		plain = false;
		strcpy(buf + n, "...");
	}
	if (plain)
		return policy_printf(d->ctx, "%s%s%s", parent, sep, buf);
	return policy_printf(d->ctx, "%s[\"%s\"]", parent, buf);
}

static const char *index_path(struct decoder *d, const char *parent, size_t i)
{
	return policy_printf(d->ctx, "%s[%zu]", parent, i);
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct decoder *d, const yaml_node_t *n, size_t i)
{
	return yaml_document_get_node(d->doc, n->data.sequence.items.start[i]);
}

/* ---------------------------------------------------------------------------------------- */
/* Mappings */

struct pair {
	const char *key;
	yaml_node_t *value;
	struct policy_pos pos; /* of the value */
	struct policy_pos key_pos;
};

struct sorted_key {
	const char *key;
	size_t i;
};

static int cmp_sorted_key(const void *a, const void *b)
{
	const struct sorted_key *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	return r ? r : (x->i > y->i) - (x->i < y->i);
}

/*
 * The pairs of a mapping with their keys and positions, or NULL (with errors) when n is not a
 * mapping. Duplicate keys are reported and dropped. *nr is set to the number of pairs.
 */
static struct pair *mapping_pairs(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
				  size_t *nr)
{
	size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start), k = 0;
	struct sorted_key *sorted;
	struct pair *pairs;
	bool *dup;

	*nr = 0;
	if (n->type != YAML_MAPPING_NODE) {
		type_error(d, n, pos, "a mapping");
		return NULL;
	}
	pairs = policy_alloc_array(d->ctx, count, sizeof(*pairs));
	sorted = calloc(count ? count : 1, sizeof(*sorted));
	dup = calloc(count ? count : 1, sizeof(*dup));
	if (!pairs || !sorted || !dup) {
		d->ctx->oom = true;
		d->ctx->stop = true;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
		yaml_node_t *kn = yaml_document_get_node(d->doc, p->key);
		struct policy_pos kpos;
		const char *key;

		node_pos(d, kn, pos->path, &kpos);
		if (!enter(d, kn, &kpos))
			goto out;
		key = scalar(d, kn, &kpos, "a string as mapping key");
		if (!key)
			continue;
		kpos.path = key_path(d, pos->path, key);
		if (!kpos.path)
			goto out;
		if (streq(key, "<<") && is_plain(kn)) {
			policy_error(d->ctx, &kpos, "YAML merge keys ('<<') are not supported");
			continue;
		}
		pairs[k].key = key;
		pairs[k].key_pos = kpos;
		pairs[k].value = yaml_document_get_node(d->doc, p->value);
		node_pos(d, pairs[k].value, kpos.path, &pairs[k].pos);
		sorted[k].key = key;
		sorted[k].i = k;
		k++;
	}
	qsort(sorted, k, sizeof(*sorted), cmp_sorted_key);
	for (size_t i = 1; i < k; i++) {
		if (streq(sorted[i].key, sorted[i - 1].key)) {
			struct pair *first = &pairs[sorted[i - 1].i], *again = &pairs[sorted[i].i];
			char q[80];

			/* sorted[i - 1] is the first occurrence of a run of equal keys */
			for (size_t j = i; j > 0 && streq(sorted[j - 1].key, sorted[i].key); j--)
				first = &pairs[sorted[j - 1].i];
			policy_error(d->ctx, &again->key_pos,
				     "duplicate key '%s' (first at line %u)",
				     policy_quote(again->key, q, sizeof(q)), first->key_pos.line);
			dup[sorted[i].i] = true;
		}
	}
	*nr = 0;
	for (size_t i = 0; i < k; i++) {
		if (!dup[i])
			pairs[(*nr)++] = pairs[i];
	}
out:
	free(sorted);
	free(dup);
	return pairs;
}

static void decode_object(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
			  void *obj, const struct schema *schema)
{
	struct policy_node *pn = obj;
	struct policy_key *keys = NULL;
	struct pair *pairs = NULL;
	size_t errors = d->ctx->nr_errors;
	uint64_t seen = 0;
	size_t nr = 0, nk = 0;

	if (schema->init)
		schema->init(obj);
	pn->pos = *pos;
	if (!enter(d, n, pos))
		return;
	if (!is_null(n)) {
		pairs = mapping_pairs(d, n, pos, &nr);
		keys = pairs ? policy_alloc_array(d->ctx, nr, sizeof(*keys)) : NULL;
		if (!keys) {
			pn->invalid = true;
			return;
		}
	}
	for (size_t i = 0; i < nr && !d->ctx->stop; i++) {
		const struct field *f = NULL;
		struct policy_suggest s;
		size_t fi, before;

		policy_suggest_init(&s, pairs[i].key);
		for (fi = 0; schema->fields[fi].key; fi++) {
			if (streq(schema->fields[fi].key, pairs[i].key)) {
				f = &schema->fields[fi];
				break;
			}
			policy_suggest_add(&s, schema->fields[fi].key);
		}
		if (!f) {
			char q[80], hint[128];

			policy_error(d->ctx, &pairs[i].key_pos, "unknown field '%s'%s",
				     policy_quote(pairs[i].key, q, sizeof(q)),
				     policy_suggest_hint(&s, hint, sizeof(hint)));
			continue;
		}
		seen |= 1ull << fi;
		keys[nk].name = pairs[i].key;
		keys[nk].pos = pairs[i].pos;
		before = d->ctx->nr_errors;
		f->fn(d, pairs[i].value, &pairs[i].pos, obj, f);
		keys[nk++].invalid = d->ctx->nr_errors != before;
	}
	pn->keys = keys;
	pn->nr_keys = nk;
	for (size_t fi = 0; schema->fields[fi].key && !d->ctx->stop; fi++) {
		if (schema->fields[fi].required && !(seen & (1ull << fi)))
			policy_error(d->ctx, pos, "missing required field '%s'",
				     schema->fields[fi].key);
	}
	pn->invalid = d->ctx->nr_errors != errors;
}

/* ---------------------------------------------------------------------------------------- */
/* Field decoders */

static void dec_str(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		    const struct field *f)
{
	if (!enter(d, n, pos) || is_null(n))
		return;
	*DST(obj, f, const char *) = scalar(d, n, pos, "a string");
}

static void dec_skip(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		     const struct field *f)
{
}

static void dec_bool(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		     const struct field *f)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on",   "On",   "ON",   "y",	  "Y",	 NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off",   "Off",   "OFF",   "n",  "N",	 NULL };

	if (!enter(d, n, pos) || is_null(n))
		return;
	if (is_plain(n)) {
		for (size_t i = 0; yes[i]; i++) {
			if (streq(text(n), yes[i])) {
				*DST(obj, f, bool) = true;
				return;
			}
			if (streq(text(n), no[i])) {
				*DST(obj, f, bool) = false;
				return;
			}
		}
	}
	type_error(d, n, pos, "a boolean");
}

/* A plain integer within [min, max] (signed when min < 0). */
static bool plain_int(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, int64_t min,
		      uint64_t max, uint64_t *ret)
{
	bool is_signed = min < 0;
	char q[80];
	int r;

	if (!is_plain(n) || is_null(n)) {
		type_error(d, n, pos, "an integer");
		return false;
	}
	r = policy_parse_int(text(n), is_signed, ret);
	if (r == -EINVAL) {
		type_error(d, n, pos, "an integer");
		return false;
	}
	if (r < 0 ||
	    (is_signed ? ((int64_t)*ret < min || (int64_t)*ret > (int64_t)max) : *ret > max)) {
		if (is_signed)
			policy_error(d->ctx, pos, "value '%s' out of range (%lld..%llu)",
				     policy_quote(text(n), q, sizeof(q)), (long long)min,
				     (unsigned long long)max);
		else
			policy_error(d->ctx, pos, "value '%s' out of range (0..%llu)",
				     policy_quote(text(n), q, sizeof(q)), (unsigned long long)max);
		return false;
	}
	return true;
}

static void dec_u32(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		    const struct field *f)
{
	uint64_t v;

	if (enter(d, n, pos) && !is_null(n) && plain_int(d, n, pos, 0, UINT32_MAX, &v))
		*DST(obj, f, uint32_t) = (uint32_t)v;
}

static void dec_u64(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		    const struct field *f)
{
	uint64_t v;

	if (enter(d, n, pos) && !is_null(n) && plain_int(d, n, pos, 0, UINT64_MAX, &v))
		*DST(obj, f, uint64_t) = v;
}

static void dec_s32(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		    const struct field *f)
{
	uint64_t v;

	if (enter(d, n, pos) && !is_null(n) && plain_int(d, n, pos, INT32_MIN, INT32_MAX, &v))
		*DST(obj, f, int32_t) = (int32_t)(int64_t)v;
}

static void dec_s64(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		    const struct field *f)
{
	uint64_t v;

	if (enter(d, n, pos) && !is_null(n) && plain_int(d, n, pos, INT64_MIN, INT64_MAX, &v))
		*DST(obj, f, int64_t) = (int64_t)v;
}

/* argSig: a number, or a signal name as an extension ("SIGKILL", "KILL"). */
static void dec_signal(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		       const struct field *f)
{
	uint64_t v;
	int sig;

	if (!enter(d, n, pos) || is_null(n))
		return;
	if (n->type == YAML_SCALAR_NODE && (sig = policy_signal_from_name(text(n))) > 0) {
		*DST(obj, f, uint32_t) = (uint32_t)sig;
		return;
	}
	if (is_plain(n) && policy_parse_int(text(n), false, &v) == -EINVAL) {
		type_error(d, n, pos, "a signal number or name");
		return;
	}
	if (plain_int(d, n, pos, 0, UINT32_MAX, &v))
		*DST(obj, f, uint32_t) = (uint32_t)v;
}

static void dec_enum(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		     const struct field *f)
{
	char q[80], hint[128];
	const char *s;
	int v;

	*DST(obj, f, int) = f->invalid;
	if (!enter(d, n, pos) || is_null(n))
		return;
	s = scalar(d, n, pos, "a string");
	if (!s)
		return;
	v = policy_names_lookup(f->table, s, hint, sizeof(hint));
	if (v < 0) {
		policy_error(d->ctx, pos, "unknown %s '%s'%s", f->what ? f->what : f->key,
			     policy_quote(s, q, sizeof(q)), hint);
		return;
	}
	*DST(obj, f, int) = v;
}

static void dec_arg_type(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
			 const struct field *f)
{
	struct policy_arg *arg = obj;
	char q[80], hint[128];
	int v;

	if (!enter(d, n, pos) || is_null(n))
		return;
	arg->type_name = scalar(d, n, pos, "a string");
	if (!arg->type_name)
		return;
	v = policy_names_lookup(POLICY_TABLE_ARG_TYPE, arg->type_name, hint, sizeof(hint));
	if (v < 0) {
		policy_error(d->ctx, pos, "unknown type '%s'%s",
			     policy_quote(arg->type_name, q, sizeof(q)), hint);
		return;
	}
	arg->type = v;
}

static void dec_kind(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		     const struct field *f)
{
	struct policy *p = obj;
	const char *s;
	char q[80];

	if (!enter(d, n, pos))
		return;
	s = scalar(d, n, pos, "a string");
	if (!s)
		return;
	if (streq(s, "TracingPolicy"))
		p->kind = POLICY_KIND_TRACING_POLICY;
	else if (streq(s, "TracingPolicyNamespaced"))
		p->kind = POLICY_KIND_TRACING_POLICY_NAMESPACED;
	else
		policy_error(
			d->ctx, pos,
			"unknown kind '%s' (expected 'TracingPolicy' or 'TracingPolicyNamespaced')",
			policy_quote(s, q, sizeof(q)));
}

static void dec_arg_source(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
			   void *obj, const struct field *f)
{
	struct policy_arg *arg = obj;
	const char *s;
	char q[80];

	if (!enter(d, n, pos) || is_null(n))
		return;
	s = scalar(d, n, pos, "a string");
	if (!s)
		return;
	if (streq(s, "current_task"))
		arg->source = POLICY_SOURCE_CURRENT_TASK;
	else if (streq(s, "pt_regs"))
		arg->source = POLICY_SOURCE_PT_REGS;
	else
		policy_error(d->ctx, pos,
			     "unknown source '%s' (expected 'current_task' or 'pt_regs')",
			     policy_quote(s, q, sizeof(q)));
}

static void dec_object(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		       const struct field *f)
{
	decode_object(d, n, pos, DST(obj, f, void), f->schema);
}

static void dec_object_ptr(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
			   void *obj, const struct field *f)
{
	void *o;

	if (is_null(n))
		return;
	o = policy_alloc(d->ctx, f->schema->size);
	if (!o)
		return;
	decode_object(d, n, pos, o, f->schema);
	*DST(obj, f, void *) = o;
}

static void dec_label_selector(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
			       void *obj, const struct field *f)
{
	struct policy_label_selector *ls = DST(obj, f, struct policy_label_selector);

	decode_object(d, n, pos, ls, f->schema);
	ls->present = !is_null(n);
}

/* A list: calls elem() for each item with its position; returns the item count. */
static bool list_begin(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos,
		       size_t *count)
{
	*count = 0;
	if (!enter(d, n, pos) || is_null(n))
		return false;
	if (n->type != YAML_SEQUENCE_NODE) {
		type_error(d, n, pos, "a list");
		return false;
	}
	*count = seq_len(n);
	return true;
}

static bool list_item(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, size_t i,
		      yaml_node_t **item, struct policy_pos *ipos)
{
	if (d->ctx->stop)
		return false;
	*item = seq_item(d, n, i);
	node_pos(d, *item, index_path(d, pos->path, i), ipos);
	return !d->ctx->stop;
}

static void dec_list(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		     const struct field *f)
{
	size_t count, size = f->schema->size;
	char *v;

	if (!list_begin(d, n, pos, &count))
		return;
	v = policy_alloc_array(d->ctx, count, size);
	if (!v)
		return;
	*DST(obj, f, void *) = v;
	COUNT(obj, f) = count;
	for (size_t i = 0; i < count; i++) {
		struct policy_pos ipos;
		yaml_node_t *item;

		if (!list_item(d, n, pos, i, &item, &ipos))
			return;
		decode_object(d, item, &ipos, v + i * size, f->schema);
	}
}

static void dec_str_list(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
			 const struct field *f)
{
	struct policy_str *v;
	size_t count;

	if (!list_begin(d, n, pos, &count))
		return;
	v = policy_alloc_array(d->ctx, count, sizeof(*v));
	if (!v)
		return;
	*DST(obj, f, struct policy_str *) = v;
	COUNT(obj, f) = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item;

		if (!list_item(d, n, pos, i, &item, &v[i].pos) || !enter(d, item, &v[i].pos))
			return;
		v[i].str = is_null(item) ? "" : scalar(d, item, &v[i].pos, "a string");
		if (!v[i].str)
			v[i].str = "";
	}
}

static void uint_list(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		      const struct field *f, uint64_t max)
{
	struct policy_uint *v;
	size_t count;

	if (!list_begin(d, n, pos, &count))
		return;
	v = policy_alloc_array(d->ctx, count, sizeof(*v));
	if (!v)
		return;
	*DST(obj, f, struct policy_uint *) = v;
	COUNT(obj, f) = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item;

		if (!list_item(d, n, pos, i, &item, &v[i].pos) || !enter(d, item, &v[i].pos))
			return;
		plain_int(d, item, &v[i].pos, 0, max, &v[i].val);
	}
}

static void dec_u32_list(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
			 const struct field *f)
{
	uint_list(d, n, pos, obj, f, UINT32_MAX);
}

static void dec_u64_list(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
			 const struct field *f)
{
	uint_list(d, n, pos, obj, f, UINT64_MAX);
}

/* Filter values: strings here, parsed by validate.c once the argument type is known. */
static void dec_values(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		       const struct field *f)
{
	struct policy_value *v;
	size_t count;

	if (!list_begin(d, n, pos, &count))
		return;
	v = policy_alloc_array(d->ctx, count, sizeof(*v));
	if (!v)
		return;
	*DST(obj, f, struct policy_value *) = v;
	COUNT(obj, f) = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item;

		if (!list_item(d, n, pos, i, &item, &v[i].pos) || !enter(d, item, &v[i].pos))
			return;
		v[i].str = scalar(d, item, &v[i].pos, "a string");
		if (!v[i].str)
			v[i].str = "";
	}
}

/* A map of strings to strings (labels, annotations, matchLabels). */
static void dec_labels(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		       const struct field *f)
{
	struct policy_label *v;
	struct pair *pairs;
	size_t nr;

	if (!enter(d, n, pos) || is_null(n))
		return;
	pairs = mapping_pairs(d, n, pos, &nr);
	if (!pairs)
		return;
	v = policy_alloc_array(d->ctx, nr, sizeof(*v));
	if (!v)
		return;
	*DST(obj, f, struct policy_label *) = v;
	COUNT(obj, f) = nr;
	for (size_t i = 0; i < nr; i++) {
		if (!enter(d, pairs[i].value, &pairs[i].pos))
			return;
		v[i].pos = pairs[i].pos;
		v[i].key = pairs[i].key;
		v[i].value = is_null(pairs[i].value) ?
				     "" :
				     scalar(d, pairs[i].value, &pairs[i].pos, "a string");
		if (!v[i].value)
			v[i].value = "";
	}
}

static const struct schema selector_schema;

/* spec.selectorsMacros: a map of names to selectors. */
static void dec_macros(struct decoder *d, yaml_node_t *n, const struct policy_pos *pos, void *obj,
		       const struct field *f)
{
	struct policy_spec *spec = obj;
	struct pair *pairs;
	size_t nr;

	if (!enter(d, n, pos) || is_null(n))
		return;
	pairs = mapping_pairs(d, n, pos, &nr);
	if (!pairs)
		return;
	spec->macros = policy_alloc_array(d->ctx, nr, sizeof(*spec->macros));
	if (!spec->macros)
		return;
	spec->nr_macros = nr;
	for (size_t i = 0; i < nr && !d->ctx->stop; i++) {
		struct policy_macro *m = &spec->macros[i];

		m->name = pairs[i].key;
		decode_object(d, pairs[i].value, &pairs[i].pos, &m->selector, &selector_schema);
		m->node = m->selector.node;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Schemas */

#define FIELD(k, func, type, member, ...)                                        \
	{                                                                        \
		.key = k, .fn = func, .off = offsetof(type, member), __VA_ARGS__ \
	}
#define STR(k, type, m, ...) FIELD(k, dec_str, type, m, __VA_ARGS__)
#define BOOL(k, type, m) FIELD(k, dec_bool, type, m)
#define U32(k, type, m) FIELD(k, dec_u32, type, m)
#define U64(k, type, m) FIELD(k, dec_u64, type, m)
#define S32(k, type, m) FIELD(k, dec_s32, type, m)
#define S64(k, type, m) FIELD(k, dec_s64, type, m)
#define ENUM(k, type, m, t, ...) FIELD(k, dec_enum, type, m, .table = t, __VA_ARGS__)
#define OBJ(k, type, m, s, ...) FIELD(k, dec_object, type, m, .schema = &s, __VA_ARGS__)
#define PTR(k, type, m, s) FIELD(k, dec_object_ptr, type, m, .schema = &s)
#define LABELSEL(k, type, m) FIELD(k, dec_label_selector, type, m, .schema = &label_selector_schema)
#define LIST(k, type, m, s) \
	FIELD(k, dec_list, type, m, .nr_off = offsetof(type, nr_##m), .schema = &s)
#define STRS(k, type, m) FIELD(k, dec_str_list, type, m, .nr_off = offsetof(type, nr_##m))
#define U32S(k, type, m) FIELD(k, dec_u32_list, type, m, .nr_off = offsetof(type, nr_##m))
#define U64S(k, type, m) FIELD(k, dec_u64_list, type, m, .nr_off = offsetof(type, nr_##m))
#define VALUES(k, type, m) FIELD(k, dec_values, type, m, .nr_off = offsetof(type, nr_##m))
#define LABELS(k, type, m) FIELD(k, dec_labels, type, m, .nr_off = offsetof(type, nr_##m))
#define SKIP(k)                          \
	{                                \
		.key = k, .fn = dec_skip \
	}
#define REQ .required = true
#define END          \
	{            \
		NULL \
	}

#define SCHEMA(name, type, init_fn, ...)                                  \
	static const struct field name##_fields[] = { __VA_ARGS__, END }; \
	static const struct schema name##_schema = { sizeof(type), name##_fields, init_fn }

SCHEMA(label_requirement, struct policy_label_requirement, NULL,
       STR("key", struct policy_label_requirement, key, REQ),
       ENUM("operator", struct policy_label_requirement, op, POLICY_TABLE_LABEL_OP, REQ),
       STRS("values", struct policy_label_requirement, values));

SCHEMA(label_selector, struct policy_label_selector, NULL,
       LABELS("matchLabels", struct policy_label_selector, match_labels),
       LIST("matchExpressions", struct policy_label_selector, match_expressions,
	    label_requirement_schema));

static void arg_init(void *obj)
{
	struct policy_arg *a = obj;

	a->type = POLICY_ARG_AUTO;
}

SCHEMA(arg, struct policy_arg, arg_init, U32("index", struct policy_arg, index),
       FIELD("type", dec_arg_type, struct policy_arg, type),
       STR("resolve", struct policy_arg, resolve),
       U32("sizeArgIndex", struct policy_arg, size_arg_index),
       BOOL("returnCopy", struct policy_arg, return_copy),
       BOOL("maxData", struct policy_arg, max_data), STR("label", struct policy_arg, label),
       FIELD("source", dec_arg_source, struct policy_arg, source),
       STR("btfType", struct policy_arg, btf_type),
       STR("btfTypeModule", struct policy_arg, btf_type_module));

SCHEMA(arg_filter, struct policy_arg_filter, NULL, U32("index", struct policy_arg_filter, index),
       U32S("args", struct policy_arg_filter, args),
       ENUM("operator", struct policy_arg_filter, op, POLICY_TABLE_OPERATOR, REQ),
       VALUES("values", struct policy_arg_filter, values));

SCHEMA(pid_filter, struct policy_pid_filter, NULL,
       ENUM("operator", struct policy_pid_filter, op, POLICY_TABLE_OPERATOR, REQ),
       U32S("values", struct policy_pid_filter, values),
       BOOL("isNamespacePID", struct policy_pid_filter, is_namespace_pid),
       BOOL("followForks", struct policy_pid_filter, follow_forks));

SCHEMA(binary_filter, struct policy_binary_filter, NULL,
       ENUM("operator", struct policy_binary_filter, op, POLICY_TABLE_OPERATOR, REQ),
       STRS("values", struct policy_binary_filter, values),
       BOOL("followChildren", struct policy_binary_filter, follow_children));

static void ns_filter_init(void *obj)
{
	struct policy_ns_filter *f = obj;

	f->ns = (enum policy_ns) - 1;
}

SCHEMA(ns_filter, struct policy_ns_filter, ns_filter_init,
       ENUM("namespace", struct policy_ns_filter, ns, POLICY_TABLE_NS, REQ, .invalid = -1),
       ENUM("operator", struct policy_ns_filter, op, POLICY_TABLE_OPERATOR, REQ),
       VALUES("values", struct policy_ns_filter, values));

SCHEMA(ns_change_filter, struct policy_ns_change_filter, NULL,
       ENUM("operator", struct policy_ns_change_filter, op, POLICY_TABLE_OPERATOR, REQ),
       VALUES("values", struct policy_ns_change_filter, values));

SCHEMA(cap_filter, struct policy_cap_filter, NULL,
       ENUM("type", struct policy_cap_filter, type, POLICY_TABLE_CAP_TYPE,
	    .what = "capability type"),
       ENUM("operator", struct policy_cap_filter, op, POLICY_TABLE_OPERATOR, REQ),
       BOOL("isNamespaceCapability", struct policy_cap_filter, is_namespace_capability),
       VALUES("values", struct policy_cap_filter, values));

SCHEMA(workload_filter, struct policy_workload_filter, NULL,
       LABELSEL("podSelector", struct policy_workload_filter, pod_selector),
       LABELSEL("containerSelector", struct policy_workload_filter, container_selector),
       LABELSEL("hostSelector", struct policy_workload_filter, host_selector));

static void action_init(void *obj)
{
	struct policy_action *a = obj;

	a->action = POLICY_ACTION_NONE;
}

SCHEMA(action, struct policy_action, action_init,
       ENUM("action", struct policy_action, action, POLICY_TABLE_ACTION, REQ,
	    .invalid = POLICY_ACTION_NONE),
       U32("argFd", struct policy_action, arg_fd), U32("argName", struct policy_action, arg_name),
       STR("argUrl", struct policy_action, arg_url), STR("argFqdn", struct policy_action, arg_fqdn),
       S32("argError", struct policy_action, arg_error),
       FIELD("argSig", dec_signal, struct policy_action, arg_sig),
       U32("argSock", struct policy_action, arg_sock),
       STR("rateLimit", struct policy_action, rate_limit),
       ENUM("rateLimitScope", struct policy_action, rate_limit_scope,
	    POLICY_TABLE_RATE_LIMIT_SCOPE),
       BOOL("kernelStackTrace", struct policy_action, kernel_stack_trace),
       BOOL("userStackTrace", struct policy_action, user_stack_trace),
       BOOL("imaHash", struct policy_action, ima_hash),
       STRS("argRegs", struct policy_action, arg_regs),
       STR("argNewSymbol", struct policy_action, arg_new_symbol),
       U64("argNewAddr", struct policy_action, arg_new_addr),
       U64("argNewOffset", struct policy_action, arg_new_offset),
       U32("argIndex", struct policy_action, arg_index),
       S64("argValue", struct policy_action, arg_value));

#define SEL struct policy_selector
SCHEMA(selector, SEL, NULL, STR("label", SEL, label), STRS("macros", SEL, macros),
       LIST("matchPIDs", SEL, match_pids, pid_filter_schema),
       LIST("matchArgs", SEL, match_args, arg_filter_schema),
       LIST("matchData", SEL, match_data, arg_filter_schema),
       LIST("matchReturnArgs", SEL, match_return_args, arg_filter_schema),
       LIST("matchActions", SEL, match_actions, action_schema),
       LIST("matchReturnActions", SEL, match_return_actions, action_schema),
       LIST("matchBinaries", SEL, match_binaries, binary_filter_schema),
       LIST("matchParentBinaries", SEL, match_parent_binaries, binary_filter_schema),
       LIST("matchNamespaces", SEL, match_namespaces, ns_filter_schema),
       LIST("matchNamespaceChanges", SEL, match_namespace_changes, ns_change_filter_schema),
       LIST("matchCapabilities", SEL, match_capabilities, cap_filter_schema),
       LIST("matchCapabilityChanges", SEL, match_capability_changes, cap_filter_schema),
       LIST("matchWorkloads", SEL, match_workloads, workload_filter_schema));
#undef SEL

#define HOOK struct policy_hook
SCHEMA(kprobe_ignore, struct policy_ignore, NULL,
       BOOL("callNotFound", struct policy_ignore, call_not_found));
SCHEMA(uprobe_ignore, struct policy_ignore, NULL,
       BOOL("digestVerificationFailure", struct policy_ignore, digest_verification_failure));

#define HOOK_COMMON                                              \
	STR("message", HOOK, message), STRS("tags", HOOK, tags), \
		LIST("args", HOOK, args, arg_schema),            \
		LIST("selectors", HOOK, selectors, selector_schema)

static const struct field kprobe_fields[] = {
	STR("call", HOOK, kprobe.call, REQ),
	BOOL("syscall", HOOK, kprobe.syscall),
	BOOL("return", HOOK, ret),
	HOOK_COMMON,
	LIST("data", HOOK, data, arg_schema),
	PTR("returnArg", HOOK, return_arg, arg_schema),
	ENUM("returnArgAction", HOOK, kprobe.return_arg_action, POLICY_TABLE_ACTION,
	     .invalid = POLICY_ACTION_NONE, .what = "action"),
	OBJ("ignore", HOOK, ignore, kprobe_ignore_schema),
	END,
};

static const struct field tracepoint_fields[] = {
	STR("subsystem", HOOK, tp.subsystem, REQ),
	STR("event", HOOK, tp.event, REQ),
	BOOL("raw", HOOK, tp.raw),
	HOOK_COMMON,
	END,
};

static const struct field uprobe_fields[] = {
	STR("path", HOOK, uprobe.path, REQ),
	STR("btfPath", HOOK, uprobe.btf_path),
	FIELD("symbols", dec_str_list, HOOK, uprobe.symbols,
	      .nr_off = offsetof(HOOK, uprobe.nr_symbols)),
	FIELD("offsets", dec_u64_list, HOOK, uprobe.offsets,
	      .nr_off = offsetof(HOOK, uprobe.nr_offsets)),
	FIELD("addrs", dec_u64_list, HOOK, uprobe.addrs, .nr_off = offsetof(HOOK, uprobe.nr_addrs)),
	FIELD("refCtrOffsets", dec_u64_list, HOOK, uprobe.ref_ctr_offsets,
	      .nr_off = offsetof(HOOK, uprobe.nr_ref_ctr_offsets)),
	HOOK_COMMON,
	LIST("data", HOOK, data, arg_schema),
	BOOL("return", HOOK, ret),
	PTR("returnArg", HOOK, return_arg, arg_schema),
	FIELD("binaryDigests", dec_str_list, HOOK, uprobe.binary_digests,
	      .nr_off = offsetof(HOOK, uprobe.nr_binary_digests)),
	OBJ("ignore", HOOK, ignore, uprobe_ignore_schema),
	END,
};

static const struct field usdt_fields[] = {
	STR("path", HOOK, uprobe.path, REQ),
	STR("btfPath", HOOK, uprobe.btf_path),
	STR("provider", HOOK, uprobe.provider, REQ),
	STR("name", HOOK, uprobe.name, REQ),
	HOOK_COMMON,
	END,
};

static const struct field lsm_fields[] = {
	STR("hook", HOOK, lsm.hook, REQ),
	HOOK_COMMON,
	END,
};

#define HOOK_INIT(name, k, extra)                                 \
	static void name##_init(void *obj)                        \
	{                                                         \
		struct policy_hook *h = obj;                      \
		h->kind = k;                                      \
		h->kprobe.return_arg_action = POLICY_ACTION_NONE; \
		extra;                                            \
	}

HOOK_INIT(kprobe, POLICY_HOOK_KPROBE, h->kprobe.syscall = true)
HOOK_INIT(fentry, POLICY_HOOK_FENTRY, h->kprobe.syscall = true)
HOOK_INIT(tracepoint, POLICY_HOOK_TRACEPOINT, )
HOOK_INIT(uprobe, POLICY_HOOK_UPROBE, )
HOOK_INIT(usdt, POLICY_HOOK_USDT, )
HOOK_INIT(lsm, POLICY_HOOK_LSM, )

static const struct schema kprobe_schema = { sizeof(HOOK), kprobe_fields, kprobe_init };
static const struct schema fentry_schema = { sizeof(HOOK), kprobe_fields, fentry_init };
static const struct schema tracepoint_schema = { sizeof(HOOK), tracepoint_fields, tracepoint_init };
static const struct schema uprobe_schema = { sizeof(HOOK), uprobe_fields, uprobe_init };
static const struct schema usdt_schema = { sizeof(HOOK), usdt_fields, usdt_init };
static const struct schema lsm_schema = { sizeof(HOOK), lsm_fields, lsm_init };
#undef HOOK

SCHEMA(list, struct policy_list, NULL, STR("name", struct policy_list, name, REQ),
       STRS("values", struct policy_list, values),
       ENUM("type", struct policy_list, type, POLICY_TABLE_LIST_TYPE, .what = "list type"),
       STR("pattern", struct policy_list, pattern),
       BOOL("validated", struct policy_list, validated));

SCHEMA(enforcer, struct policy_enforcer, NULL, STRS("calls", struct policy_enforcer, calls));

SCHEMA(option, struct policy_option, NULL, STR("name", struct policy_option, name, REQ),
       STR("value", struct policy_option, value));

#define SPEC struct policy_spec
#define HOOKS(k, kind, s)                                                               \
	FIELD(k, dec_list, SPEC, hooks[kind], .nr_off = offsetof(SPEC, nr_hooks[kind]), \
	      .schema = &s)
SCHEMA(spec, SPEC, NULL, HOOKS("kprobes", POLICY_HOOK_KPROBE, kprobe_schema),
       HOOKS("fentries", POLICY_HOOK_FENTRY, fentry_schema),
       HOOKS("tracepoints", POLICY_HOOK_TRACEPOINT, tracepoint_schema),
       HOOKS("uprobes", POLICY_HOOK_UPROBE, uprobe_schema),
       HOOKS("usdts", POLICY_HOOK_USDT, usdt_schema),
       HOOKS("lsmhooks", POLICY_HOOK_LSM, lsm_schema), BOOL("loader", SPEC, loader),
       LIST("enforcers", SPEC, enforcers, enforcer_schema), LIST("lists", SPEC, lists, list_schema),
       FIELD("options", dec_list, SPEC, option_list, .nr_off = offsetof(SPEC, nr_option_list),
	     .schema = &option_schema),
       FIELD("selectorsMacros", dec_macros, SPEC, macros),
       LABELSEL("podSelector", SPEC, pod_selector),
       LABELSEL("containerSelector", SPEC, container_selector),
       LABELSEL("hostSelector", SPEC, host_selector),
       LABELSEL("nodeSelector", SPEC, node_selector));
#undef SPEC

#define META struct policy_metadata
SCHEMA(metadata, META, NULL, STR("name", META, name, REQ), STR("namespace", META, namespace),
       LABELS("labels", META, labels), LABELS("annotations", META, annotations),
       /* set by Kubernetes, kept out of the model */
       SKIP("uid"), SKIP("resourceVersion"), SKIP("generation"), SKIP("creationTimestamp"),
       SKIP("deletionTimestamp"), SKIP("deletionGracePeriodSeconds"), SKIP("generateName"),
       SKIP("ownerReferences"), SKIP("finalizers"), SKIP("managedFields"), SKIP("selfLink"));
#undef META

SCHEMA(policy, struct policy, NULL, STR("apiVersion", struct policy, api_version, REQ),
       FIELD("kind", dec_kind, struct policy, kind, REQ),
       OBJ("metadata", struct policy, metadata, metadata_schema, REQ),
       OBJ("spec", struct policy, spec, spec_schema, REQ), SKIP("status"));

void policy_decode(struct policy_ctx *ctx, yaml_document_t *doc)
{
	struct decoder d = { .ctx = ctx, .doc = doc };
	yaml_node_t *root = yaml_document_get_root_node(doc);
	struct policy_pos pos;

	node_pos(&d, root, "", &pos);
	decode_object(&d, root, &pos, ctx->p, &policy_schema);
}
