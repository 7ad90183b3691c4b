/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restart takeover. An agent that ran with --keep-sensors-on-exit left its
 * programs attached under /sys/fs/bpf/tetragon. The new agent moves that tree
 * to tetragon_old, attaches its own programs while the old ones still enforce,
 * and only then removes the old tree: there is no moment without enforcement.
 *
 * What the old programs wrote while no agent ran is still in their pinned ring
 * buffer: it is replayed into the new agent (process records first, policy
 * records once the policies are back), and the old error counters say what
 * overflowed meanwhile. Records written while both programs ran are kept once:
 * the old copy before the new program's attach time, the new copy after it.
 */
#pragma once

#include "agent/agent.h"

struct takeover;

/*
 * Look for an old tree and move it aside. *ret is NULL when there is none;
 * otherwise it owns the old ring buffer and is freed by takeover_finish().
 */
int takeover_begin(struct agent *a, struct takeover **ret);
/*
 * After the new process sensor is attached (a->takeover.exec_cut_ns set) and
 * the cache is filled from /proc: replay the old process records. Policy
 * records are held until takeover_replay_policies().
 */
void takeover_replay_processes(struct takeover *t);
/* After the policies are set up again: replay the policy records. */
void takeover_replay_policies(struct takeover *t);
/* Setting up failed: put the old tree back where it was, so that it goes on enforcing. */
void takeover_abort(struct takeover *t);
/* Remove the old tree (unless release is false), take the last records, free t. */
void takeover_finish(struct takeover *t, bool release);
