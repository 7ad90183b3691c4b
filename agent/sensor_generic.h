/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic policy programs (bpf/generic.bpf.c), loaded once, on the first
 * policy, sharing the process sensor's ring buffer and process map. Policies
 * are entries in its maps and links of its programs; this module owns the ids
 * that name them and the map operations, the compiler decides what goes in.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bpf/generic.h"

struct sensor_exec;
struct sensor_generic;
struct bpf_link;
struct generic_bpf;

/* On success *ret owns the programs and maps; free with sensor_generic_free(). */
int sensor_generic_load(struct sensor_exec *exec, int scope_cgroup_fd, const char *btf_path,
			const struct kernel_features *kf, struct sensor_generic **ret);
struct sensor_generic *sensor_generic_free(struct sensor_generic *g);
/*
 * Persistent enforcement: pin the maps and programs under dir now, and every
 * tracepoint attachment made later (and unpin those that go).
 */
int sensor_generic_pin(struct sensor_generic *g, const char *dir);
/* At exit with persistent enforcement: let every link outlive the agent. */
void sensor_generic_disconnect(struct sensor_generic *g);

/* Id allocation; ids are small integers, reused after release. */
int sensor_generic_alloc_policy_id(struct sensor_generic *g, uint32_t *id);
void sensor_generic_free_policy_id(struct sensor_generic *g, uint32_t id);
int sensor_generic_alloc_hook_id(struct sensor_generic *g, uint32_t *id);
void sensor_generic_free_hook_id(struct sensor_generic *g, uint32_t id);
int sensor_generic_alloc_map_id(struct sensor_generic *g, uint32_t *id);
void sensor_generic_free_map_id(struct sensor_generic *g, uint32_t id);
/* A matchBinaries followChildren set: one bit of proc_info.bin_sets. */
int sensor_generic_alloc_bin_bit(struct sensor_generic *g, uint64_t *bit);
void sensor_generic_free_bin_bit(struct sensor_generic *g, uint64_t bit);

/* Map contents. Each returns 0 or a negative errno. */
int sensor_generic_set_policy(struct sensor_generic *g, uint32_t policy_id, bool enabled,
			      uint8_t mode);
int sensor_generic_put_hook(struct sensor_generic *g, const struct gen_hook *h,
			    const struct gen_selector *sels, unsigned n_sels);
void sensor_generic_del_hook(struct sensor_generic *g, uint32_t hook_id, unsigned n_sels);
int sensor_generic_add_string(struct sensor_generic *g, uint32_t map_id, const char *s, size_t len);
void sensor_generic_del_string(struct sensor_generic *g, uint32_t map_id, const char *s,
			       size_t len);
/* A trie of prefixes (or of reversed postfixes) under map_id. */
int sensor_generic_add_lpm(struct sensor_generic *g, uint32_t map_id, const char *const *vals,
			   size_t n, bool reverse);
void sensor_generic_del_lpm(struct sensor_generic *g, uint32_t map_id);
int sensor_generic_add_num(struct sensor_generic *g, uint32_t map_id, uint64_t v);
void sensor_generic_del_num(struct sensor_generic *g, uint32_t map_id, uint64_t v);
int sensor_generic_add_addr6(struct sensor_generic *g, uint32_t map_id, const uint8_t addr[16],
			     unsigned prefix_len);
void sensor_generic_del_addr6(struct sensor_generic *g, uint32_t map_id, const uint8_t addr[16],
			      unsigned prefix_len);
/* matchBinaries followChildren: exec of path puts a process into the set of bit. */
int sensor_generic_add_bin_set(struct sensor_generic *g, const char *path, uint64_t bit);
void sensor_generic_del_bin_set(struct sensor_generic *g, const char *path, uint64_t bit);

/*
 * An attachment of a hook: its own link (uprobes, raw tracepoint copies), or a
 * place in a tracepoint's slot (the tracepoint's one link is shared).
 */
struct gen_link {
	struct bpf_link *link;
	int fd;
	int slot; /* -1: not in a slot */
	uint32_t hook_id;
	struct generic_bpf *copy; /* a program loaded for this hook alone, or NULL */
};

/* Programs bound to one kernel function when they load. */
enum gen_trampoline {
	GEN_TRAMP_FENTRY,
	GEN_TRAMP_FEXIT,
	GEN_TRAMP_FMOD_RET,
	GEN_TRAMP_LSM,
};

/* Attach. 0, or a negative errno; *ret is freed with gen_link_destroy(). */
int sensor_generic_attach_tp(struct sensor_generic *g, const char *category, const char *name,
			     uint32_t hook_id, bool exit_side, struct gen_link **ret);
int sensor_generic_attach_raw_tp(struct sensor_generic *g, const char *name, uint32_t hook_id,
				 struct gen_link **ret);
int sensor_generic_attach_uprobe(struct sensor_generic *g, const char *path, const char *symbol,
				 uint64_t offset, uint32_t hook_id, bool ret_probe,
				 struct gen_link **ret);
/* A kprobe (or kretprobe) on a kernel function; override: the program may override its return. */
int sensor_generic_attach_kprobe(struct sensor_generic *g, const char *func, uint32_t hook_id,
				 bool ret_probe, bool override, struct gen_link **ret);
/* One kprobe.multi link for n functions, each with its cookie (its hook id). */
int sensor_generic_attach_kprobe_multi(struct sensor_generic *g, const char **funcs,
				       const uint64_t *cookies, size_t n, bool ret_probe,
				       bool override, struct gen_link **ret);
/* A copy of a trampoline program loaded for func and this hook alone (LSM: the hook name). */
int sensor_generic_attach_trampoline(struct sensor_generic *g, enum gen_trampoline kind,
				     const char *func, uint32_t hook_id, bool may_override,
				     struct gen_link **ret);
/* Detach and free; NULL-safe, returns NULL. */
struct gen_link *gen_link_destroy(struct sensor_generic *g, struct gen_link *l);
/* Pin an attachment of its own (not a tracepoint slot) at path. */
int gen_link_pin(struct gen_link *l, const char *path);
/* Close without detaching (it is pinned). */
struct gen_link *gen_link_forget(struct gen_link *l);

/* Counters summed over CPUs (GEN_CNT_*). */
int sensor_generic_policy_counters(struct sensor_generic *g, uint32_t policy_id,
				   uint64_t out[GEN_CNT_MAX]);
int sensor_generic_selector_counters(struct sensor_generic *g, uint32_t hook_id, uint32_t sel,
				     uint64_t out[GEN_CNT_MAX]);
void sensor_generic_clear_counters(struct sensor_generic *g, uint32_t policy_id);
int sensor_generic_errors(struct sensor_generic *g, uint64_t counts[ERR_COUNT]);
