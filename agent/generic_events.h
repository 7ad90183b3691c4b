/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records of the generic policy programs become process_kprobe,
 * process_tracepoint and process_uprobe events: typed, labelled arguments,
 * the return value, the action taken, the policy's name, message and tags,
 * stack traces. The user-space actions (GetUrl, DnsLookup) run here too.
 */
#pragma once

#include <stdint.h>

#include "agent/agent.h"
#include "agent/compile.h"

struct generic_events;

struct generic_events_stats {
	uint64_t events;
	uint64_t unknown_hook; /* a record for a hook that is gone (deleted meanwhile) */
	uint64_t process_misses; /* the process was not in the cache */
	uint64_t get_url_ok, get_url_failed;
	uint64_t dns_ok, dns_failed;
};

int generic_events_new(struct agent *a, struct generic_events **ret);
struct generic_events *generic_events_free(struct generic_events *ge);
/* Route EVENT_GENERIC records of the agent's ring buffer here. */
int generic_events_register(struct generic_events *ge);
/* Tell which hook a record's hook_id is; h and the strings must live until cleared. */
void generic_events_set_hook(struct generic_events *ge, const struct chook *h,
			     const char *policy_name, const char *policy_namespace);
void generic_events_clear_hook(struct generic_events *ge, uint32_t hook_id);
void generic_events_get_stats(struct generic_events *ge, struct generic_events_stats *st);

/* A record the previous agent's programs wrote while no agent ran: its hook ids are translated. */
void generic_events_handle_old(struct generic_events *ge, const void *data, size_t len);

/* Decode one record (exposed for tests). */
void generic_events_handle(struct generic_events *ge, const void *data, size_t len);
