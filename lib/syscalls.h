/* SPDX-License-Identifier: Apache-2.0 */
/* System call names and numbers of the architecture the agent was built for. */
#pragma once

/* "openat", "sys_openat" or "__x64_sys_openat" -> 257; -ENOENT when unknown. */
int syscall_nr(const char *name);
/* 257 -> "openat"; NULL when unknown. */
const char *syscall_name(unsigned int nr);
/* The architecture's prefix of syscall functions in the kernel: "__x64_" on x86_64. */
const char *syscall_arch_prefix(void);
/* The ABI name Tetragon reports with syscall ids: "x64", "arm64". */
const char *syscall_abi(void);
/* Strip "__x64_sys_", "__arm64_sys_", "sys_" from a name: the bare syscall name. */
const char *syscall_base_name(const char *name);
