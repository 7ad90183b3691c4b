#!/bin/sh
# shellcheck shell=dash
# Runner self-test: nothing from 04 and 05 is left.
# shellcheck source-path=SCRIPTDIR/../..
. ./lib.sh
# shellcheck disable=SC2009 # busybox has no pgrep
if ps | grep -q "[s]leep 1000"; then fail "sleep 1000 still running: $(ps | grep "[s]leep")"; fi
[ ! -e /sys/fs/bpf/selftest-pin-dir ] || fail "bpffs not cleaned"
