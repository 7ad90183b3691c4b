#!/bin/bash
# Tests of the VM runner itself (not part of `make test-vm`; about a minute):
# run-vm.sh's exit statuses, and run-matrix.sh on the cases in selftest/ (pass, fail,
# skip, timeout, leftover processes, agent helpers with a fake agent, kernel panic).
#
#   integration-tests/vm/selftest.sh
#
# Uses one kernel (VMTEST_KERNELS, default "backports") to stay short.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export VMTEST_KERNELS=${VMTEST_KERNELS:-backports}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-selftest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

passed=0 failed=0
check() { # check NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then
		echo "ok    $name"
		passed=$((passed + 1))
	else
		echo "FAIL  $name"
		failed=$((failed + 1))
	fi
}
has() { grep -qF -- "$2" "$1"; }

KERNEL_LINE=$("$HERE/setup-kernels.sh" | head -n 1)
VMLINUZ=${KERNEL_LINE#* }
RELEASE=${KERNEL_LINE%% *}
mkdir -p "$WORK/empty"

# --- run-vm.sh ----------------------------------------------------------------------------
rc=0
"$HERE/run-vm.sh" -q -k "$VMLINUZ" -o "$WORK/rc.log" "$WORK/empty" 'echo out; exit 3' >"$WORK/out" 2>/dev/null || rc=$?
check "run-vm: the command's status (3)" [ "$rc" = 3 ]
check "run-vm -q: only the command's output" [ "$(cat "$WORK/out")" = out ]

rc=0
"$HERE/run-vm.sh" -q -t 8 -k "$VMLINUZ" -o "$WORK/timeout.log" "$WORK/empty" 'sleep 100' >/dev/null 2>&1 || rc=$?
check "run-vm: 124 on timeout" [ "$rc" = 124 ]

rc=0
"$HERE/run-vm.sh" -q -k "$VMLINUZ" -o "$WORK/panic.log" "$WORK/empty" 'echo c >/proc/sysrq-trigger' \
	>/dev/null 2>&1 || rc=$?
check "run-vm: 125 after a kernel panic" [ "$rc" = 125 ]
check "run-vm -o: the serial log has the panic" has "$WORK/panic.log" "Kernel panic"

# --- run-matrix.sh ------------------------------------------------------------------------
# A fake build: bin/tetragon is a dynamically linked program that knows --version.
mkdir -p "$WORK/O/bin" "$WORK/cases"
cp "$(command -v bpftool)" "$WORK/O/bin/tetragon"
cp "$HERE"/selftest/cases/*.sh "$HERE/cases/00-kernel-features.sh" "$WORK/cases/"

rc=0
VMTEST_VERBOSE=1 VMTEST_CASES_DIR=$WORK/cases "$HERE/run-matrix.sh" "$WORK/O" >"$WORK/matrix.out" 2>&1 || rc=$?
sed 's/^/  | /' "$WORK/matrix.out"
out=$WORK/matrix.out
check "matrix: exit 1 when a case fails" [ "$rc" = 1 ]
check "matrix: 00-kernel-features passes" has "$out" "PASS $RELEASE 00-kernel-features"
check "matrix: tetragon --version ran in the guest" has "$out" "tetragon --version: ./bin/tetragon v"
check "matrix: helpers pass" has "$out" "PASS $RELEASE 01-pass"
check "matrix: failing case reported with its reason" has "$out" "FAIL $RELEASE 02-fail"
check "matrix: failing case's output shown" has "$out" "    | some output before the failure"
check "matrix: assert message shown" has "$out" "one is not two: got '1', expected '2'"
check "matrix: skip with its reason" has "$out" "SKIP $RELEASE 03-skip"
check "matrix: skip reason" has "$out" "needs the unobtainium"
check "matrix: per-case timeout" has "$out" "FAIL $RELEASE 04-timeout"
check "matrix: per-case timeout reason" has "$out" "timeout after 3s"
check "matrix: leftover process reported" grep -q "killed processes left behind: sleep" "$out"
check "matrix: state cleaned between cases" has "$out" "PASS $RELEASE 06-clean-state"
check "matrix: start_agent/stop_agent" has "$out" "PASS $RELEASE 07-agent-helpers"
check "matrix: summary line" grep -qx "5 passed, 2 failed, 1 skipped" "$out"

mkdir -p "$WORK/panic"
cp "$HERE"/selftest/panic/*.sh "$WORK/panic/"
rc=0
VMTEST_CASES_DIR=$WORK/panic "$HERE/run-matrix.sh" "$WORK/O" >"$WORK/panic.out" 2>&1 || rc=$?
sed 's/^/  | /' "$WORK/panic.out"
out=$WORK/panic.out
check "panic: exit 1" [ "$rc" = 1 ]
check "panic: retried once" has "$out" "retrying once"
check "panic: names the running case" has "$out" "while running 01-panic"
check "panic: summary line" grep -qx "0 passed, 1 failed, 0 skipped" "$out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
