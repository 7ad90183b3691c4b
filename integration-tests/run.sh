#!/usr/bin/env bash
# Host integration tests: real agent, real BPF on this kernel, real processes.
# Each case is a bash script in cases/; it exits 0 to pass, 77 to skip.
#   integration-tests/run.sh [O] [CASE-GLOB]
set -uo pipefail
O=$(cd "${1:-build}" && pwd)
pattern=${2:-*}
here=$(cd "$(dirname "$0")" && pwd)
export O

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (they load BPF programs)"
	echo "0 passed, 1 failed"
	exit 1
fi

pass=0 fail=0 skip=0 failed=()
for c in "$here"/cases/$pattern.sh; do
	[ -e "$c" ] || continue
	name=$(basename "$c" .sh)
	start=$EPOCHREALTIME
	out=$(timeout --kill-after=10 300 bash "$c" 2>&1)
	rc=$?
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS  %-40s %5ss\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(echo "$out" | tail -1)" ;;
	*) fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-40s %5ss (rc=%d)\n' "$name" "$secs" "$rc"
	   echo "$out" | tail -40 | sed 's/^/      /' ;;
	esac
done
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
