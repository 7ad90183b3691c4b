#!/bin/sh
# shellcheck shell=dash
# Runner self-test: the helpers pass on good input, under busybox sh.
# shellcheck source-path=SCRIPTDIR/../..
. ./lib.sh
assert_eq "$((1 + 1))" 2
assert_ne a b
assert_contains "hello world" "lo wo"
assert_not_contains "hello" "xyz"
assert_ok true
assert_fails false
assert_status 3 sh -c 'exit 3'
assert_eq "$(pwd)" /test "cwd"
case $TMPDIR in /tmp/vmtest/01-pass) ;; *) fail "TMPDIR=$TMPDIR" ;; esac
assert_eq "$VMTEST_KERNEL" "$(uname -r)" "VMTEST_KERNEL"
assert_file_exists /etc/passwd
assert_file_contains /etc/hosts '^127\.0\.0\.1[[:space:]]+localhost'
assert_eq "$(hostname)" vmtest
assert_ok /usr/bin/env true
(sleep 1 && echo "ready now" >"$TMPDIR/f") &
wait_for_line "$TMPDIR/f" '^ready' 10 || fail "wait_for_line"
if wait_for_line "$TMPDIR/f" '^never' 1 2>/dev/null; then fail "wait_for_line matched nothing"; fi
wait_until 5 test -e "$TMPDIR/f" || fail "wait_until"
if command -v bpftool >/dev/null; then
	assert_ok bpftool version >/dev/null # tools/ is on PATH, its libraries were copied
fi
