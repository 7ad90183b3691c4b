#!/usr/bin/env bash
# Everything `make test` runs, in order, with one summary line at the end:
# the format check, unit tests, a short fuzz pass, gRPC interop, host integration tests,
# and the qemu kernel matrix.
#   integration-tests/run-all.sh [O]
set -uo pipefail
O=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

total_pass=0 total_fail=0 suites_failed=()
run_suite() { # NAME COMMAND...
	local name=$1 out rc p f
	shift
	echo "=== $name"
	out=$("$@" 2>&1 | tee /dev/stderr)
	rc=${PIPESTATUS[0]}
	p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' | tail -1)
	if [ -z "$p" ]; then
		p=$([ $rc -eq 0 ] && echo 1 || echo 0)
		f=$([ $rc -eq 0 ] && echo 0 || echo 1)
	fi
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	[ $rc -eq 0 ] || suites_failed+=("$name")
}

run_suite format make --no-print-directory -s O="$O" check-format
run_suite unit ./integration-tests/run-unit.sh "$O"
run_suite fuzz make --no-print-directory -s O="$O" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
# interop first: it installs the npm client that the fleet_interop case uses too
if [ -x ./integration-tests/interop/run.sh ]; then
	run_suite interop ./integration-tests/interop/run.sh "$O"
fi
run_suite integration ./integration-tests/run.sh "$O"
run_suite vm ./integration-tests/vm/run-matrix.sh "$O"

echo "==="
[ ${#suites_failed[@]} -eq 0 ] || echo "failed suites: ${suites_failed[*]}"
echo "$total_pass passed, $total_fail failed"
[ ${#suites_failed[@]} -eq 0 ]
