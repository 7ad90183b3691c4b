/* SPDX-License-Identifier: Apache-2.0 */
/* The agent: what its parts share. One libuv loop thread owns all of it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "agent/bus.h"
#include "agent/compile.h"
#include "agent/process.h"

struct agent_config {
	const char *node_name;
	const char *server_address; /* TCP, "" to disable */
	const char *unix_socket; /* "" to disable */
	const char *export_filename;
	uint64_t export_max_size;
	unsigned export_max_backups;
	int export_perm;
	size_t ringbuf_size;
	size_t process_cache_size;
	size_t subscriber_queue;
	bool process_cred;
	bool process_ns;
	const char *cgroup_scope; /* cgroup v2 directory the agent is confined to, or NULL */
	const char *state_dir;
	const char *procfs;
	const char *btf_path;
	bool keep_sensors; /* --keep-sensors-on-exit: pin, and leave enforcement in the kernel */
	bool release_pinned; /* --release-pinned-bpf: remove an old agent's pins once taken over */
};

struct sensor_exec;
struct sensor_generic;
struct generic_events;
struct policies;
struct observer;
struct rpc_cq;
struct rpc_server;
struct exporter;

struct agent {
	uv_loop_t *loop;
	struct agent_config cfg;
	uint64_t boot_time_ns;
	uint64_t start_ns;
	struct process_cache *cache;
	struct event_bus bus;
	struct sensor_exec *exec;
	struct sensor_generic *generic; /* loaded with the first policy */
	struct generic_events *gevents;
	struct policies *policies;
	struct kernel_features kf;
	int scope_cgroup_fd; /* -1: the whole host */
	struct observer *observer;
	struct rpc_cq *cq;
	struct rpc_server *server;
	struct exporter *exporter;
	struct uplink *uplink; /* --manager-address */
	struct event_sink export_sink;
	uv_prepare_t flush;
	uv_signal_t sigint, sigterm;
	bool stopping;
	bool setup_failed; /* nothing this agent set up is kept at exit */
	int exit_code;
	/* counters for `tetra status` */
	uint64_t decode_errors;
	uint64_t subscribers;
	uint64_t subscriber_drops; /* of subscribers that have gone */
	/* restart takeover (persistent enforcement), for `tetra status` */
	struct {
		bool active; /* an old agent's pins were found at start */
		uint64_t exec_cut_ns; /* process records before this come from the old buffer */
		uint64_t replayed; /* records the old programs wrote while no agent ran */
		uint64_t duplicates; /* seen by both the old and the new programs: one copy kept */
		uint64_t unknown; /* of policies that are not configured any more */
		uint64_t lost; /* out of memory while replaying */
		uint64_t ringbuf_full; /* the old buffer overflowed while no agent ran */
		uint64_t old_errors; /* other failures of the old programs meanwhile */
		uint64_t overlap_ns; /* both program sets attached: no enforcement gap */
	} takeover;
};
