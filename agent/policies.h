/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's TracingPolicies: parsed with lib/policy, compiled into the generic
 * sensors' maps, attached, and switched between enforce and monitor (or enabled
 * and disabled) by flipping a map value, never by reloading a program.
 *
 * Policies live in domains, as in Tetragon: "static" (--tracing-policy and
 * --tracing-policy-dir), "grpc" (AddTracingPolicy) and "fleet" (pushed by the
 * manager). A name is unique within a domain.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "agent/agent.h"
#include "tetragon/sensors.pb-c.h"

#define POLICY_DOMAIN_STATIC "static"
#define POLICY_DOMAIN_GRPC "grpc"
#define POLICY_DOMAIN_FLEET "fleet"

/* Mode requests; MODE_REQ_KEEP leaves it as the policy (or its options) says. */
enum policy_mode_req {
	MODE_REQ_KEEP = -1,
	MODE_REQ_ENFORCE = 0,
	MODE_REQ_MONITOR = 1,
};

/* Older spelling, kept while callers move to MODE_REQ_KEEP. */
#define POLICY_MODE_KEEP MODE_REQ_KEEP

int policies_init(struct agent *a);
/* Free everything; with keep (persistent enforcement) the kernel side stays as it is. */
void policies_fini(struct agent *a, bool keep);
/*
 * Policies added over gRPC or by the manager survive restarts: they are kept in
 * the state directory. Restore adds them back (called once at start).
 */
int policies_restore(struct agent *a);
/* The hook of a hook id of the previous agent (from its state), or 0. */
uint32_t policies_translate_hook(struct agent *a, uint32_t old_hook_id);
/* Read the previous agent's hook ids (before policies are restored and saved again). */
int policies_load_old_hooks(struct agent *a);

/*
 * Add a policy from YAML text. origin names it in error messages (a file name,
 * "grpc"). On failure nothing is left behind: returns -EINVAL with every parse
 * error, or -EEXIST, -EOPNOTSUPP (the kernel lacks what a hook needs), -ENOENT
 * (a symbol, tracepoint or binary is missing)... and *err (malloc'ed, the caller
 * frees it) says why in one or more lines.
 */
int policies_add(struct agent *a, const char *yaml, size_t len, const char *origin,
		 const char *domain, enum policy_mode_req mode, char **err);
/* -ENOENT when there is no such policy. */
int policies_delete(struct agent *a, const char *name, const char *ns, const char *domain);
/* enable: -1 keep, 0 disable, 1 enable. */
int policies_configure(struct agent *a, const char *name, const char *ns, const char *domain,
		       int enable, enum policy_mode_req mode, char **err);
/*
 * Status of every policy (of one domain, or all when domain is NULL or "").
 * On success *ret is an array of *n statuses; free it with policies_status_free().
 */
int policies_status(struct agent *a, const char *domain, Tetragon__TracingPolicyStatus ***ret,
		    size_t *n);
void policies_status_free(Tetragon__TracingPolicyStatus **list, size_t n);
/* Names of the domains that hold a policy now. */
size_t policies_domains(struct agent *a, const char **out, size_t max);
