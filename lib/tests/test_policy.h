/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the test_policy_*.c files. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/policy/policy.h"

/* The first five lines of most test policies; the body starts on line 6. */
#define HDR                                \
	"apiVersion: cilium.io/v1alpha1\n" \
	"kind: TracingPolicy\n"            \
	"metadata:\n"                      \
	"  name: p\n"                      \
	"spec:\n"

/* Parse yaml as "p.yaml"; fail the test with the errors if it does not parse. */
static inline struct policy *parse_ok(const char *yaml)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct sbuf sb;
	int r;

	sbuf_init(&sb);
	r = policy_parse_buffer(yaml, strlen(yaml), "p.yaml", &p, &errs);
	if (r != 0) {
		policy_errors_format(&errs, &sb);
		print_error("unexpected errors:\n%s", sb.buf ? sb.buf : "");
	}
	sbuf_free(&sb);
	policy_errors_clear(&errs);
	assert_int_equal(r, 0);
	assert_non_null(p);
	return p;
}

/* The formatted errors of parsing yaml as "p.yaml" (caller frees), asserting -EINVAL. */
static inline char *parse_errors(const char *yaml)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct sbuf sb;
	int r;

	sbuf_init(&sb);
	r = policy_parse_buffer(yaml, strlen(yaml), "p.yaml", &p, &errs);
	assert_int_equal(r, -EINVAL);
	assert_null(p);
	assert_true(errs.nr > 0);
	policy_errors_format(&errs, &sb);
	policy_errors_clear(&errs);
	return sbuf_steal(&sb);
}

/* Parsing yaml gives exactly the error lines in expected. */
#define expect_errors(yaml, expected)                \
	do {                                         \
		char *_out = parse_errors(yaml);     \
		assert_string_equal(_out, expected); \
		free(_out);                          \
	} while (0)

/* Parsing yaml fails with an error whose line contains needle. */
#define expect_error_containing(yaml, needle)                       \
	do {                                                        \
		char *_out = parse_errors(yaml);                    \
		if (!strstr(_out, needle))                          \
			fail_msg("'%s' not in:\n%s", needle, _out); \
		free(_out);                                         \
	} while (0)

#define expect_ok(yaml) policy_free(parse_ok(yaml))
