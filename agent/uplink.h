/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's link to tetragon-manager (--manager-address): one fleet.Fleet/Connect stream
 * on the agent's loop.
 *
 *  - Says Hello (node name, version, kernel release and features, the policies it runs),
 *    then applies every DesiredState the manager sends to the "fleet" policy domain
 *    (a snapshot makes the domain exactly equal to it; a delta adds, deletes or
 *    reconfigures) and reports the status of each fleet policy after every change and
 *    every status_interval_ms.
 *  - Takes every event from the bus, numbers it (sequence numbers only grow, across
 *    restarts too) and sends it in batches; an event is forgotten only once the manager
 *    acknowledged it. Unacknowledged events stay in memory up to memory_max_bytes, then
 *    spill to the spool under <state_dir>/fleet/<node>/spool (all of them while the manager is
 *    away),
 *    and are replayed from the oldest unacknowledged one after every reconnect. What the
 *    bounded spool has to drop is counted and reported (AgentCounters, uplink_stats()).
 *  - Reconnects with jittered exponential backoff; three silent heartbeat intervals end
 *    a stream.
 *
 * Everything runs on the agent's loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/tls.h"

struct agent;

struct uplink_feature {
	const char *name;
	bool available;
};

struct uplink_config {
	const char *address; /* the manager, "host:port" */
	struct tls_files
		tls; /* no file: plaintext; copied with the config, the files are read at start */
	const char *node_name;
	const char *state_dir; /* the spool and the state live in <state_dir>/fleet/<node>/ */
	uint64_t spool_max_bytes; /* 0: 256 MiB */
	uint64_t memory_max_bytes; /* 0: 16 MiB */
	unsigned status_interval_ms; /* 0: 10 s */
	unsigned backoff_min_ms; /* 0: 250 ms */
	unsigned backoff_max_ms; /* 0: 30 s */
	/* kernel features to announce (the agent's probes; copied); NULL: what sysfs tells */
	const struct uplink_feature *features;
	size_t n_features;
};

struct uplink_stats {
	bool connected;
	uint64_t connects; /* streams that got the manager's Welcome */
	uint64_t disconnects;
	uint64_t events; /* taken from the bus */
	uint64_t events_sent; /* in batches, replays included */
	uint64_t events_dropped; /* lost: spool full, spool write errors, no memory */
	uint64_t batches_sent;
	uint64_t acked_seq;
	uint64_t next_seq;
	uint64_t memory_events; /* waiting in memory */
	uint64_t memory_bytes;
	uint64_t spool_events; /* in the spool */
	uint64_t spool_bytes;
	uint64_t spool_errors; /* failed spool writes */
	uint64_t policy_errors; /* desired-state changes that could not be applied */
	uint64_t generation; /* the desired-state generation applied last */
};

struct uplink;

/*
 * Start the uplink on a's loop: open the spool, subscribe to a's event bus and connect
 * (in the background; a manager that is down is retried). On success *ret owns the uplink;
 * stop it with uplink_stop() before the agent's completion queue shuts down.
 */
int uplink_start(struct agent *a, const struct uplink_config *cfg, struct uplink **ret);
/*
 * End the stream, put what is still in memory into the spool, close everything and free
 * the uplink; done(ud) runs once nothing of it is left (after the loop ran a little).
 */
void uplink_stop(struct uplink *u, void (*done)(void *ud), void *ud);
/* The counters, for the agent's GetStats. */
int uplink_stats(struct uplink *u, struct uplink_stats *st);
