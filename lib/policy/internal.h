/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the files of lib/policy only. */
#pragma once

#include <yaml.h>

#include "lib/policy/policy.h"

/* The state of parsing one document. */
struct policy_ctx {
	struct policy *p;
	struct policy_errors *errs; /* may be NULL */
	const char *filename;
	size_t nr_errors; /* found in this call */
	size_t nr_nodes; /* YAML nodes visited */
	size_t nr_substrings;
	bool oom;
	bool stop; /* too many errors or nodes: stop looking */
};

/* Zeroed memory that lives as long as the policy; NULL (and ctx->oom) when memory runs out. */
void *policy_alloc(struct policy_ctx *ctx, size_t size);
void *policy_alloc_array(struct policy_ctx *ctx, size_t n, size_t size);
char *policy_printf(struct policy_ctx *ctx, const char *fmt, ...) _printf_(2, 3);

/* Keep a YAML document alive as long as the policy; the model points into its scalars. */
int policy_keep_document(struct policy_ctx *ctx, yaml_document_t *doc);

/* Record an error at pos (NULL: no position). */
void policy_error(struct policy_ctx *ctx, const struct policy_pos *pos, const char *fmt, ...)
	_printf_(3, 4);
void policy_error_at(struct policy_ctx *ctx, const char *path, unsigned int line, unsigned int col,
		     const char *fmt, ...) _printf_(5, 6);

/* A user string for a message: at most 64 bytes, then "...", into buf. */
const char *policy_quote(const char *s, char *buf, size_t size);

/* "Did you mean" suggestions: feed candidates, keep the closest. */
struct policy_suggest {
	const char *input;
	const char *best;
	size_t best_dist;
};

void policy_suggest_init(struct policy_suggest *s, const char *input);
void policy_suggest_add(struct policy_suggest *s, const char *candidate);
/* " (did you mean 'X'?)" or "" into buf. */
const char *policy_suggest_hint(const struct policy_suggest *s, char *buf, size_t size);

/* Name tables: an entry per spelling; the first entry of a value is its canonical name. */
struct policy_name {
	const char *name;
	int value;
};

enum policy_table {
	POLICY_TABLE_ARG_TYPE,
	POLICY_TABLE_OPERATOR,
	POLICY_TABLE_ACTION,
	POLICY_TABLE_NS,
	POLICY_TABLE_CAP_TYPE,
	POLICY_TABLE_MODE,
	POLICY_TABLE_OVERRIDE_METHOD,
	POLICY_TABLE_RATE_LIMIT_SCOPE,
	POLICY_TABLE_LIST_TYPE,
	POLICY_TABLE_LABEL_OP,
	POLICY_TABLE_CAPABILITY,
	POLICY_TABLE_FAMILY,
	POLICY_TABLE_PROTOCOL,
	POLICY_TABLE_TCP_STATE,
	POLICY_TABLE_FILE_TYPE,
	POLICY_TABLE_BPF_CMD,
	POLICY_TABLE_MAX,
};

/* Look name up in a table (returns the value or -EINVAL); on failure hint gets a suggestion. */
int policy_names_lookup(enum policy_table t, const char *name, char *hint, size_t hint_size);
const char *policy_names_name(enum policy_table t, int value);

/* Integers as YAML and Tetragon write them: decimal, 0x hex, 0o or 0 octal, 0b binary. */
int policy_parse_int(const char *s, bool is_signed, uint64_t *ret);

/* YAML document -> model (structure, types, names), then the semantic checks. */
void policy_decode(struct policy_ctx *ctx, yaml_document_t *doc);
void policy_validate(struct policy_ctx *ctx);
