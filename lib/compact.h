/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compact one-line rendering of events that `tetra getevents -o compact`
 * prints, in Tetragon's format:
 *	🚀 process node1 /usr/bin/curl https://example.com
 *	💥 exit    node1 /usr/bin/curl https://example.com 0
 */
#pragma once

#include <stdbool.h>

#include "tetragon/events.pb-c.h"
#include "lib/util.h"

struct compact_opts {
	bool color;
	bool timestamps; /* prefix the event time, RFC 3339 with nanoseconds, UTC */
};

/*
 * Append the line for ev (without a newline) to out. Returns 0, or -ENOENT for
 * events that have no compact form (nothing is appended).
 */
int compact_render(const Tetragon__GetEventsResponse *ev, const struct compact_opts *o,
		   struct sbuf *out);
