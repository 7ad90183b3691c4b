// SPDX-License-Identifier: Apache-2.0
/* Policy lifetime, memory, errors, the parse entry points and queries over the model. */
#include <stdarg.h>
#include <stdalign.h>

#include "lib/policy/internal.h"

#define CHUNK_SIZE 16384

struct chunk {
	struct chunk *next;
	size_t used;
	size_t size;
	alignas(16) unsigned char data[];
};

/* Everything a policy points into: allocation chunks and the YAML document. */
struct policy_store {
	struct chunk *chunks;
	yaml_document_t *doc;
};

void *policy_alloc(struct policy_ctx *ctx, size_t size)
{
	struct policy_store *st = ctx->p->store;
	struct chunk *c = st->chunks;
	void *ret;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->size - c->used < size) {
		size_t n = MAX(size, (size_t)CHUNK_SIZE);

		c = malloc(sizeof(*c) + n);
		if (!c) {
			ctx->oom = true;
			ctx->stop = true;
			return NULL;
		}
		c->used = 0;
		c->size = n;
		/* A large block goes behind the current chunk so that its free space stays usable. */
		if (st->chunks && n > CHUNK_SIZE) {
			c->next = st->chunks->next;
			st->chunks->next = c;
		} else {
			c->next = st->chunks;
			st->chunks = c;
		}
	}
	ret = c->data + c->used;
	c->used += size;
	memset(ret, 0, size);
	return ret;
}

void *policy_alloc_array(struct policy_ctx *ctx, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / n) {
		ctx->oom = true;
		ctx->stop = true;
		return NULL;
	}
	return policy_alloc(ctx, n * size);
}

char *policy_printf(struct policy_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = policy_alloc(ctx, (size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int policy_keep_document(struct policy_ctx *ctx, yaml_document_t *doc)
{
	yaml_document_t *d = malloc(sizeof(*d));

	if (!d) {
		ctx->oom = true;
		return -ENOMEM;
	}
	*d = *doc;
	ctx->p->store->doc = d;
	return 0;
}

struct policy *policy_free(struct policy *p)
{
	while (p) {
		struct policy *next = p->next;

		if (p->store) {
			struct chunk *c = p->store->chunks;

			while (c) {
				struct chunk *n = c->next;

				free(c);
				c = n;
			}
			if (p->store->doc) {
				yaml_document_delete(p->store->doc);
				free(p->store->doc);
			}
			free(p->store);
		}
		free(p);
		p = next;
	}
	return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Errors */

const char *policy_quote(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n <= 64 || size < 68)
		snprintf(buf, size, "%s", s);
	else
		snprintf(buf, size, "%.64s...", s);
	return buf;
}

static void add_error(struct policy_ctx *ctx, const char *path, unsigned int line, unsigned int col,
		      const char *fmt, va_list ap)
{
	struct policy_errors *errs = ctx->errs;
	struct policy_error *e;
	char msg[512];
	size_t nf, np, nm;
	char *mem;

	if (ctx->nr_errors >= POLICY_MAX_ERRORS) {
		ctx->stop = true;
		if (errs)
			errs->truncated = true;
		return;
	}
	ctx->nr_errors++;
	if (!errs)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errs->nr == errs->cap) {
		size_t cap = errs->cap ? errs->cap * 2 : 16;
		struct policy_error *v = realloc(errs->errors, cap * sizeof(*v));

		if (!v) {
			ctx->oom = true;
			ctx->stop = true;
			return;
		}
		errs->errors = v;
		errs->cap = cap;
	}
	nf = ctx->filename ? strlen(ctx->filename) + 1 : 0;
	np = strlen(path) + 1;
	nm = strlen(msg) + 1;
	mem = malloc(nf + np + nm);
	if (!mem) {
		ctx->oom = true;
		ctx->stop = true;
		return;
	}
	e = &errs->errors[errs->nr++];
	e->path = memcpy(mem, path, np);
	e->msg = memcpy(mem + np, msg, nm);
	e->file = nf ? memcpy(mem + np + nm, ctx->filename, nf) : NULL;
	e->line = line;
	e->col = col;
}

int policy_errors_add(struct policy_errors *errs, const char *file, const struct policy_pos *pos,
		      const char *fmt, ...)
{
	struct policy_error *e;
	const char *path = pos && pos->path ? pos->path : "";
	char msg[512];
	size_t nf, np, nm;
	va_list ap;
	char *mem;

	if (!errs)
		return 0;
	if (errs->nr >= POLICY_MAX_ERRORS) {
		errs->truncated = true;
		return 0;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errs->nr == errs->cap) {
		size_t cap = errs->cap ? errs->cap * 2 : 16;
		struct policy_error *v = realloc(errs->errors, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		errs->errors = v;
		errs->cap = cap;
	}
	nf = file ? strlen(file) + 1 : 0;
	np = strlen(path) + 1;
	nm = strlen(msg) + 1;
	mem = malloc(nf + np + nm);
	if (!mem)
		return -ENOMEM;
	e = &errs->errors[errs->nr++];
	e->path = memcpy(mem, path, np);
	e->msg = memcpy(mem + np, msg, nm);
	e->file = nf ? memcpy(mem + np + nm, file, nf) : NULL;
	e->line = pos ? pos->line : 0;
	e->col = pos ? pos->col : 0;
	return 0;
}

void policy_error_at(struct policy_ctx *ctx, const char *path, unsigned int line, unsigned int col,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(ctx, path ? path : "", line, col, fmt, ap);
	va_end(ap);
}

void policy_error(struct policy_ctx *ctx, const struct policy_pos *pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (pos)
		add_error(ctx, pos->path ? pos->path : "", pos->line, pos->col, fmt, ap);
	else
		add_error(ctx, "", 0, 0, fmt, ap);
	va_end(ap);
}

void policy_errors_clear(struct policy_errors *errs)
{
	for (size_t i = 0; i < errs->nr; i++)
		free(errs->errors[i].path); /* one block per error, path first */
	free(errs->errors);
	memset(errs, 0, sizeof(*errs));
}

int policy_errors_format(const struct policy_errors *errs, struct sbuf *out)
{
	for (size_t i = 0; i < errs->nr; i++) {
		const struct policy_error *e = &errs->errors[i];

		if (e->file)
			sbuf_printf(out, "%s:", e->file);
		if (e->line)
			sbuf_printf(out, "%u:%u:", e->line, e->col);
		if (e->file || e->line)
			sbuf_addc(out, ' ');
		if (e->path[0])
			sbuf_printf(out, "%s: ", e->path);
		sbuf_printf(out, "%s\n", e->msg);
	}
	if (errs->truncated)
		sbuf_printf(out, "too many errors (more than %d), the rest are not shown\n",
			    POLICY_MAX_ERRORS);
	return out->oom ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing */

static void yaml_failure(struct policy_ctx *ctx, const yaml_parser_t *parser, const char *buf,
			 size_t len)
{
	unsigned int line = (unsigned int)parser->problem_mark.line + 1;
	unsigned int col = (unsigned int)parser->problem_mark.column + 1;
	const char *problem = parser->problem ? parser->problem : "unknown error";

	if (parser->error == YAML_MEMORY_ERROR) {
		ctx->oom = true;
		return;
	}
	if (parser->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset rather than a mark. */
		line = 1;
		col = 1;
		for (size_t i = 0; i < parser->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		policy_error_at(ctx, "", line, col, "invalid YAML: %s", problem);
	} else if (parser->context) {
		policy_error_at(ctx, "", line, col, "invalid YAML: %s %s (line %zu, column %zu)",
				problem, parser->context, parser->context_mark.line + 1,
				parser->context_mark.column + 1);
	} else {
		policy_error_at(ctx, "", line, col, "invalid YAML: %s", problem);
	}
}

static bool document_is_empty(yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);

	return root->type == YAML_SCALAR_NODE &&
	       root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (root->data.scalar.length == 0 || streq((char *)root->data.scalar.value, "~") ||
		streq((char *)root->data.scalar.value, "null"));
}

static int policy_new(struct policy_ctx *ctx)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p || !(p->store = calloc(1, sizeof(*p->store)))) {
		free(p);
		ctx->oom = true;
		return -ENOMEM;
	}
	p->filename = ctx->filename;
	ctx->p = p;
	return 0;
}

static int cmp_policy_key(const struct policy *x, const struct policy *y)
{
	int r = strcmp(x->metadata.namespace ? x->metadata.namespace : "",
		       y->metadata.namespace ? y->metadata.namespace : "");

	return r ? r : strcmp(x->metadata.name, y->metadata.name);
}

/* By namespace and name, then by position. */
static int cmp_policy(const void *a, const void *b)
{
	const struct policy *x = *(struct policy *const *)a, *y = *(struct policy *const *)b;
	int r = cmp_policy_key(x, y);

	return r ? r :
		   (x->node.pos.line > y->node.pos.line) - (x->node.pos.line < y->node.pos.line);
}

static void check_unique_names(struct policy_ctx *ctx, struct policy *head)
{
	struct policy **v;
	size_t n = 0, i = 0;

	for (struct policy *p = head; p; p = p->next)
		n += p->metadata.name != NULL;
	if (n < 2)
		return;
	v = malloc(n * sizeof(*v));
	if (!v) {
		ctx->oom = true;
		return;
	}
	for (struct policy *p = head; p; p = p->next) {
		if (p->metadata.name)
			v[i++] = p;
	}
	qsort(v, n, sizeof(*v), cmp_policy);
	for (size_t first = 0, j = 1; j < n; j++) {
		char q[80];

		if (cmp_policy_key(v[first], v[j]) != 0) {
			first = j;
			continue;
		}
		policy_error(ctx, policy_node_pos(&v[j]->metadata.node, "name"),
			     "duplicate policy name '%s' (first at line %u)",
			     policy_quote(v[j]->metadata.name, q, sizeof(q)),
			     v[first]->node.pos.line);
	}
	free(v);
}

/* Sort the errors from index start on by position, keeping the order of equal positions. */
static void sort_errors(struct policy_errors *errs, size_t start)
{
	for (size_t i = start + 1; errs && i < errs->nr; i++) {
		struct policy_error e = errs->errors[i];
		size_t j = i;

		while (j > start &&
		       (errs->errors[j - 1].line > e.line ||
			(errs->errors[j - 1].line == e.line && errs->errors[j - 1].col > e.col))) {
			errs->errors[j] = errs->errors[j - 1];
			j--;
		}
		errs->errors[j] = e;
	}
}

static int parse(const char *buf, size_t len, const char *filename, bool all, struct policy **ret,
		 struct policy_errors *errs)
{
	struct policy_ctx ctx = { .errs = errs, .filename = filename };
	struct policy *head = NULL, **tail = &head;
	size_t nr_docs = 0, first_error = errs ? errs->nr : 0;
	yaml_parser_t parser;

	if (len > POLICY_MAX_SIZE) {
		policy_error_at(&ctx, "", 0, 0, "policy too large (%zu bytes, at most %u)", len,
				POLICY_MAX_SIZE);
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!ctx.stop) {
		yaml_document_t doc;

		if (!yaml_parser_load(&parser, &doc)) {
			yaml_failure(&ctx, &parser, buf, len);
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		if (document_is_empty(&doc)) {
			yaml_document_delete(&doc);
			continue;
		}
		if (++nr_docs > 1 && !all) {
			policy_error_at(&ctx, "", (unsigned int)doc.start_mark.line + 1,
					(unsigned int)doc.start_mark.column + 1,
					"expected one policy, found a second document");
			yaml_document_delete(&doc);
			break;
		}
		if (policy_new(&ctx) < 0) {
			yaml_document_delete(&doc);
			break;
		}
		*tail = ctx.p;
		tail = &ctx.p->next;
		if (policy_keep_document(&ctx, &doc) < 0) {
			yaml_document_delete(&doc);
			break;
		}
		ctx.nr_substrings = 0;
		policy_decode(&ctx, ctx.p->store->doc);
		if (!ctx.stop)
			policy_validate(&ctx);
	}
	yaml_parser_delete(&parser);
	if (!ctx.nr_errors && !ctx.oom && nr_docs == 0)
		policy_error_at(&ctx, "", 0, 0, "no policy in the input");
	if (!ctx.oom)
		check_unique_names(&ctx, head);
	sort_errors(errs, first_error);
	if (ctx.oom) {
		policy_free(head);
		return -ENOMEM;
	}
	if (ctx.nr_errors) {
		policy_free(head);
		return -EINVAL;
	}
	*ret = head;
	return 0;
}

int policy_parse_buffer(const char *buf, size_t len, const char *filename, struct policy **ret,
			struct policy_errors *errs)
{
	return parse(buf, len, filename, false, ret, errs);
}

int policy_parse_buffer_all(const char *buf, size_t len, const char *filename, struct policy **ret,
			    struct policy_errors *errs)
{
	return parse(buf, len, filename, true, ret, errs);
}

static int parse_file(const char *path, bool all, struct policy **ret, struct policy_errors *errs)
{
	struct policy_ctx ctx = { .errs = errs, .filename = path };
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file(path, POLICY_MAX_SIZE, &buf, &len);
	if (r == -EFBIG) {
		policy_error_at(&ctx, "", 0, 0, "policy too large (more than %u bytes)",
				POLICY_MAX_SIZE);
		return -EINVAL;
	}
	if (r < 0) {
		policy_error_at(&ctx, "", 0, 0, "cannot read the file: %s", strerror(-r));
		return r;
	}
	return parse(buf, len, path, all, ret, errs);
}

int policy_parse_file(const char *path, struct policy **ret, struct policy_errors *errs)
{
	return parse_file(path, false, ret, errs);
}

int policy_parse_file_all(const char *path, struct policy **ret, struct policy_errors *errs)
{
	return parse_file(path, true, ret, errs);
}

/* ---------------------------------------------------------------------------------------- */
/* Queries */

struct policy_hook *policy_hooks(const struct policy *p, enum policy_hook_kind kind, size_t *nr)
{
	*nr = p->spec.nr_hooks[kind];
	return p->spec.hooks[kind];
}

const struct policy_pos *policy_node_pos(const struct policy_node *n, const char *key)
{
	for (size_t i = 0; i < n->nr_keys; i++) {
		if (streq(n->keys[i].name, key))
			return &n->keys[i].pos;
	}
	return &n->pos;
}

bool policy_node_has(const struct policy_node *n, const char *key)
{
	return policy_node_pos(n, key) != &n->pos;
}

enum policy_mode policy_get_mode(const struct policy *p)
{
	return p->spec.options.mode;
}

bool policy_action_is_enforcement(enum policy_action_id action)
{
	switch (action) {
	case POLICY_ACTION_SIGKILL:
	case POLICY_ACTION_SIGNAL:
	case POLICY_ACTION_OVERRIDE:
	case POLICY_ACTION_NOTIFY_ENFORCER:
	case POLICY_ACTION_SET:
		return true;
	default:
		return false;
	}
}

static bool actions_enforce(const struct policy_action *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (policy_action_is_enforcement(a[i].action))
			return true;
	}
	return false;
}

bool policy_has_enforcement(const struct policy *p)
{
	for (int k = 0; k < POLICY_HOOK_KIND_MAX; k++) {
		for (size_t h = 0; h < p->spec.nr_hooks[k]; h++) {
			const struct policy_hook *hook = &p->spec.hooks[k][h];

			for (size_t s = 0; s < hook->nr_selectors; s++) {
				const struct policy_selector *sel = &hook->selectors[s];

				if (actions_enforce(sel->match_actions, sel->nr_match_actions) ||
				    actions_enforce(sel->match_return_actions,
						    sel->nr_match_return_actions))
					return true;
			}
		}
	}
	return false;
}

const struct policy_list *policy_find_list(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->spec.nr_lists; i++) {
		if (p->spec.lists[i].name && streq(p->spec.lists[i].name, name))
			return &p->spec.lists[i];
	}
	return NULL;
}
