#!/usr/bin/env bash
# Every benchmark, one after the other: each bench/*_bench.sh in name order, called as
# `bench/NAME_bench.sh O`. A benchmark prints its own tables; exit status 77 means it was
# skipped (say why on the last line). Benchmarks report, they do not assert targets.
#
#   bench/run.sh [O] [NAME...]      (make bench; NAME is e.g. exec for exec_bench.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
O=$(cd "${1:-build}" && pwd)
shift || true

scripts=()
if [ $# -eq 0 ]; then
	scripts=("$here"/*_bench.sh)
else
	for name in "$@"; do
		scripts+=("$here/${name}_bench.sh")
	done
fi

failed=()
for script in "${scripts[@]}"; do
	[ -e "$script" ] || { echo "no benchmark $script" >&2; failed+=("$(basename "$script")"); continue; }
	name=$(basename "$script" _bench.sh)
	echo "=== bench: $name"
	rc=0
	bash "$script" "$O" || rc=$?
	case $rc in
	0) ;;
	77) echo "(skipped)" ;;
	*) echo "bench $name failed (rc=$rc)"; failed+=("$name") ;;
	esac
	echo
done
[ ${#failed[@]} -eq 0 ] || { echo "failed benchmarks: ${failed[*]}"; exit 1; }
