/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity for the processes that were running before the agent started:
 * read from /proc once at start, parents before children, flagged "procFS".
 */
#pragma once

#include <stdint.h>

#include "agent/process.h"

struct procfs_stats {
	unsigned processes;
	unsigned skipped; /* gone while being read, or kernel threads */
};

/* Add every user-space process under procfs (normally "/proc") to the cache. */
int procfs_scan(struct process_cache *c, const char *procfs, struct procfs_stats *st);
/* Read one process; strings in *in point into buffers the caller frees with procfs_info_free(). */
int procfs_read(const char *procfs, uint32_t pid, struct process_info *in);
void procfs_info_free(struct process_info *in);
/* The namespace inodes of a process, in NS_* order (0 where absent). */
void procfs_namespaces(const char *procfs, uint32_t pid, uint32_t ns[NS_COUNT]);
/* The host's namespaces: those of pid 1, or our own where pid 1 hides them. */
void procfs_host_namespaces(const char *procfs, uint32_t ns[NS_COUNT]);
