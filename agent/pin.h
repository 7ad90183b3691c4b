/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Persistent enforcement (--keep-sensors-on-exit): programs, maps and links
 * pinned under /sys/fs/bpf/tetragon stay in the kernel after the agent exits.
 * A starting agent moves an old tree aside (tetragon_old), sets itself up, then
 * removes the old tree, so that enforcement never stops in between.
 */
#pragma once

#include <stdbool.h>

struct bpf_object;
struct bpf_link;

#define PIN_BPFFS "/sys/fs/bpf"
#define PIN_DEFAULT_DIR "tetragon"

/* The directory under /sys/fs/bpf (--bpf-dir): a plain name. -EINVAL otherwise. */
int pin_set_dir(const char *name);
/* "/sys/fs/bpf/<dir>" and "/sys/fs/bpf/<dir>_old" */
const char *pin_root(void);
const char *pin_old(void);

/*
 * Move a tree left by a previous agent to pin_old(). Returns 1 when there was
 * one, 0 when not, or a negative errno.
 */
int pin_takeover(void);
/* Pin every map and program of obj under dir (created). */
int pin_object(struct bpf_object *obj, const char *dir);
int pin_link(struct bpf_link *l, const char *path);
int pin_fd(int fd, const char *path);
/* Unpin a tree (rm -rf on bpffs). Missing is fine. */
int pin_remove(const char *dir);
