/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetEvents filters, as Tetragon applies them: the allow list's filters are
 * ORed (an empty list allows everything), the fields inside one filter are
 * ANDed, and whatever matches a deny-list filter is dropped. Field filters then
 * remove or keep fields of the events that pass.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tetragon/events.pb-c.h"

struct event_filter;

/*
 * Compile allow and deny lists. On error returns -EINVAL and writes the reason
 * (e.g. a bad regular expression) to err. On success *ret owns the filter.
 */
int event_filter_new(Tetragon__Filter *const *allow, size_t n_allow, Tetragon__Filter *const *deny,
		     size_t n_deny, struct event_filter **ret, char *err, size_t errlen);
/* Does the event pass? Not const: pid_set follows the children of matched processes. */
bool event_filter_match(struct event_filter *f, const Tetragon__GetEventsResponse *ev);
struct event_filter *event_filter_free(struct event_filter *f);

/* The EventType of an event (TETRAGON__EVENT_TYPE__UNDEF when none is set). */
Tetragon__EventType event_type_of(const Tetragon__GetEventsResponse *ev);
/* The process and parent of any event kind, or NULL. */
const Tetragon__Process *event_process(const Tetragon__GetEventsResponse *ev);
const Tetragon__Process *event_parent(const Tetragon__GetEventsResponse *ev);
const char *event_policy_name(const Tetragon__GetEventsResponse *ev);
/* "PROCESS_EXEC" <-> type; also accepts the lowercase and short forms ("process_exec", "exec"). */
int event_type_from_name(const char *name, Tetragon__EventType *ret);
const char *event_type_name(Tetragon__EventType t);

struct field_filter;

int field_filter_new(Tetragon__FieldFilter *const *ff, size_t n, struct field_filter **ret,
		     char *err, size_t errlen);
/* Whether any field filter applies to this event type. */
bool field_filter_applies(const struct field_filter *f, Tetragon__EventType type);
/*
 * Apply to ev in place. ev must own its memory as protobuf_c_message_unpack()
 * leaves it (removed fields are freed with the default allocator).
 */
void field_filter_apply(const struct field_filter *f, Tetragon__GetEventsResponse *ev);
struct field_filter *field_filter_free(struct field_filter *f);
