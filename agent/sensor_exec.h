/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process sensor: loads bpf/exec.bpf.c, owns the agent's ring buffer (other
 * sensors write into the same one, so that events keep their order), and turns
 * exec, fork and exit records into process cache updates and events.
 */
#pragma once

#include <stdint.h>

#include "agent/agent.h"
#include "bpf/event.h"

struct sensor_exec;

struct sensor_exec_config {
	size_t ringbuf_size; /* bytes, a power of two */
	int scope_cgroup_fd; /* -1: the whole host */
	const char *btf_path; /* NULL: the running kernel's */
};

/*
 * Load and attach. On success *ret owns the programs and maps; free with
 * sensor_exec_free(). Returns -EPERM without privileges, -ENOENT without BTF.
 */
int sensor_exec_load(const struct sensor_exec_config *cfg, struct sensor_exec **ret);
int sensor_exec_ringbuf_fd(struct sensor_exec *s);
/* The fd of one of its maps ("events", "proc_info", "cgroup_scope", "bin_sets"), or -1. */
int sensor_exec_map_fd(struct sensor_exec *s, const char *name);
/* Tell the kernel about processes that were running before the sensor (from the cache). */
int sensor_exec_seed(struct sensor_exec *s, struct process_cache *c);
/* Sum the per-CPU error counters into counts[ERR_COUNT]. */
int sensor_exec_errors(struct sensor_exec *s, uint64_t counts[ERR_COUNT]);
/* Route the ring buffer's exec, fork and exit records into the agent. */
int sensor_exec_register(struct sensor_exec *s, struct agent *a);
struct sensor_exec *sensor_exec_free(struct sensor_exec *s);
/* Pin maps, programs and links under dir (persistent enforcement). */
int sensor_exec_pin(struct sensor_exec *s, const char *dir);
/* Let the links outlive the agent: closing them will not detach them. */
void sensor_exec_disconnect(struct sensor_exec *s);

/* Process records (exposed for tests and replay). */
void sensor_exec_handle_exec(struct agent *a, const void *data, size_t len);
void sensor_exec_handle_fork(struct agent *a, const void *data, size_t len);
void sensor_exec_handle_exit(struct agent *a, const void *data, size_t len);
/* "SIGKILL" for 9; "" for 0 */
const char *signal_name(int sig, char *buf, size_t size);
