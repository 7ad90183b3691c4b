#!/bin/sh
# shellcheck shell=dash
# The guest kernel has what the VM matrix exists for: BTF, BPF LSM active, kprobes,
# and the agent binary runs in the guest (its shared libraries were copied in).
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

log "kernel $(uname -r)"
assert_file_exists /sys/kernel/btf/vmlinux "no kernel BTF"

lsm=$(cat /sys/kernel/security/lsm)
log "lsm: $lsm"
assert_contains ",$lsm," ",bpf," "BPF LSM is not active"

# CONFIG_KPROBES + CONFIG_KPROBE_EVENTS; the dev host's kernel has neither.
assert_file_exists /sys/kernel/tracing/kprobe_events "no kprobes (CONFIG_KPROBE_EVENTS)"

assert_file_contains /proc/mounts '^cgroup2 /sys/fs/cgroup/unified ' "cgroup2 not mounted"
assert_file_contains /proc/mounts '^bpf /sys/fs/bpf ' "bpffs not mounted"

if [ -x "$TETRAGON" ]; then
	version=$("$TETRAGON" --version 2>&1) || fail "'$TETRAGON --version' failed: $version"
	log "tetragon --version: $version"
else
	log "$TETRAGON is not built yet: not checking 'tetragon --version'"
fi
