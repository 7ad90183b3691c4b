/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stack trace symbolization for the Post action's kernelStackTrace and
 * userStackTrace: kernel addresses through /proc/kallsyms, user addresses
 * through the process's mappings and the ELF symbol tables of its files.
 */
#pragma once

#include <stdint.h>

#include "tetragon/tetragon.pb-c.h"

struct stacks;

int stacks_new(struct stacks **ret);
struct stacks *stacks_free(struct stacks *s);
/* Fill e (address, symbol, offset); strings belong to s and live until stacks_free(). */
void stacks_kernel(struct stacks *s, uint64_t addr, Tetragon__StackTraceEntry *e);
/* Fill e (address, module, symbol, offset) for an address in process pid. */
void stacks_user(struct stacks *s, uint32_t pid, uint64_t addr, Tetragon__StackTraceEntry *e);
