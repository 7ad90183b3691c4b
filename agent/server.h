/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's gRPC service: tetragon.FineGuidanceSensors (GetEvents, GetHealth,
 * GetVersion; other methods answer UNIMPLEMENTED) and fleet.Diagnostics.
 */
#pragma once

#include "agent/agent.h"
#include "fleet/diagnostics.pb-c.h"

/* Create the server, listen on the configured addresses and start serving. */
int agent_server_start(struct agent *a);
/* Stop serving: cancel every call; done runs once all are released. */
void agent_server_stop(struct agent *a, void (*done)(void *ud), void *ud);
/* Fill a GetStats response (counters array allocated; free with agent_stats_free()). */
int agent_stats_fill(struct agent *a, Fleet__GetStatsResponse *resp);
void agent_stats_free(Fleet__GetStatsResponse *resp);
