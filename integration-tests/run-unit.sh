#!/usr/bin/env bash
# Run every cmocka unit test binary under O and sum up.
#   integration-tests/run-unit.sh [O]
set -uo pipefail
O=${1:-build}
pass=0 fail=0 failed=()
for t in $(find "$O/lib/tests" "$O/agent/tests" "$O/manager/tests" "$O/cli/tests" -maxdepth 1 \
	-type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
	out=$(cd "$(dirname "$0")/.." && "$t" 2>&1)
	rc=$?
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0} f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)) fail=$((fail + f))
	if [ "$f" -gt 0 ]; then
		failed+=("$(basename "$t")")
		echo "$out" | grep -E 'FAILED|ERROR|LINE' | sed 's/^/  /'
	fi
	printf '%-6s %-32s %3d passed, %d failed\n' "$([ "$f" -eq 0 ] && echo ok || echo FAIL)" \
		"$(basename "$t")" "$p" "$f"
done
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
