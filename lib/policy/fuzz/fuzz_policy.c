// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: any input must parse or fail cleanly, without leaks or undefined behaviour. */
#include "lib/policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct sbuf out;

	sbuf_init(&out);
	if (policy_parse_buffer_all((const char *)data, size, "fuzz.yaml", &p, &errs) == 0)
		p = policy_free(p);
	policy_errors_format(&errs, &out);
	sbuf_free(&out);
	policy_errors_clear(&errs);
	return 0;
}
