#!/bin/sh
# shellcheck shell=dash
# Runner self-test: a daemon left behind in its own session is killed by the driver,
# and bpffs pins are removed.
setsid sleep 1000 &
mkdir /sys/fs/bpf/selftest-pin-dir
echo "started"
