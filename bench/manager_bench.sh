#!/usr/bin/env bash
# Manager benchmarks; each prints a table (numbers, never assertions).
#   bench/manager_bench.sh [O] [ingest|policy|query|rss|all] [QUERY_EVENTS...]
# ingest: events/s the manager acknowledged (committed and synced) with 1 and 10 simulated
#         agents; and the store alone. policy: policy add and mode toggle until 100 simulated
#         agents reported status. query: history queries at 1M and 10M stored events (set
#         QUERY_EVENTS="1000000" to skip the 10M fill, which takes minutes and ~7 GB of disk).
#         rss: manager RSS with 1000 simulated agents connected.
# Runs on 127.0.0.1 with free ports; the databases live in a temporary directory removed at
# the end. Builds bench/manager_*.c against the project's libraries.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
O=$(cd "${1:-$top/build}" && pwd)
what=${2:-all}
QUERY_EVENTS=${QUERY_EVENTS:-"1000000 10000000"}
cd "$top"
make -s -j2 O="$O" all "$O/libmanager.a" >/dev/null

WORK=$(mktemp -d /tmp/manager-bench.XXXXXX)
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

PKGS=(libbpf libelf zlib grpc libprotobuf-c libuv sqlite3 yaml-0.1 jansson)
read -ra PKG_CFLAGS <<<"$(pkg-config --cflags "${PKGS[@]}")"
read -ra PKG_LIBS <<<"$(pkg-config --libs "${PKGS[@]}")"
for b in manager_sim manager_store; do
	gcc -O2 -g -std=gnu11 -Wall -D_GNU_SOURCE '-DTETRA_VERSION="bench"' -I"$O/gen" -I. \
		"${PKG_CFLAGS[@]}" -o "$WORK/$b" "bench/$b.c" "$O/libmanager.a" "$O/libtetra.a" \
		"${PKG_LIBS[@]}" -lpthread -lm
done

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_manager NAME [ARGS]: a fresh manager on a free port; sets ADDR and MPID.
start_manager() {
	local name=$1
	shift
	local port
	port=$(free_port)
	ADDR="127.0.0.1:$port"
	"$O/bin/tetragon-manager" --listen "$ADDR" --db "$WORK/$name.db" --log-level warn "$@" \
		>"$WORK/$name.log" 2>&1 &
	MPID=$!
	PIDS+=("$MPID")
	for _ in $(seq 100); do
		"$O/bin/tetra" --server-address "$ADDR" --timeout 1s version -s >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$WORK/$name.log" >&2
	echo "the manager did not start" >&2
	exit 1
}

stop_manager() {
	kill "$MPID"
	wait "$MPID" || true
}

rss_mb() {
	awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

bench_ingest() {
	echo
	echo "### Ingest: events persisted (acknowledged after commit + fdatasync)"
	echo
	echo "| setup | events/s |"
	echo "|---|---|"
	for n in 1 10; do
		start_manager "ingest$n"
		line=$("$WORK/manager_sim" ingest "$ADDR" "$n" 10)
		rate=$(echo "$line" | sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p')
		echo "| manager, $n simulated agent(s), 1000-event batches, ~650 B events | $rate |"
		stop_manager
	done
	line=$("$WORK/manager_store" fill "$WORK/store-only.db" 1000000)
	rate=$(echo "$line" | sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p')
	echo "| store alone (no gRPC), 1000 per commit + fdatasync, 1M events | $rate |"
}

bench_policy() {
	echo
	echo "### Policy add and mode toggle until 100 simulated agents reported status"
	echo
	start_manager policy
	"$WORK/manager_sim" policy "$ADDR" 100 50
	stop_manager
}

bench_query() {
	local total=0 n
	rm -f "$WORK/query.db"*
	for n in $QUERY_EVENTS; do
		echo
		echo "### History queries at $n stored events (store_query_events, the manager's query code)"
		echo
		"$WORK/manager_store" fill "$WORK/query.db" $((n - total)) >"$WORK/fill.out"
		total=$n
		echo "(filled at $(sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p' "$WORK/fill.out") events/s;" \
			"database $(du -sh "$WORK/query.db" | cut -f1))"
		echo
		"$WORK/manager_store" query "$WORK/query.db"
	done
}

bench_rss() {
	echo
	echo "### Manager memory with 1000 connected simulated agents"
	echo
	start_manager rss
	local idle
	idle=$(rss_mb "$MPID")
	"$WORK/manager_sim" idle "$ADDR" 1000 20 >"$WORK/idle.out" &
	local sim=$!
	PIDS+=("$sim")
	for _ in $(seq 1200); do
		grep -q connected "$WORK/idle.out" 2>/dev/null && break
		sleep 0.1
	done
	sleep 5
	echo "| state | manager RSS (MB) |"
	echo "|---|---|"
	echo "| started, no agent | $idle |"
	echo "| 1000 agents connected (plaintext), 5 s after the last connected | $(rss_mb "$MPID") |"
	wait "$sim" || true
	stop_manager
}

case $what in
ingest) bench_ingest ;;
policy) bench_policy ;;
query) bench_query ;;
rss) bench_rss ;;
all)
	bench_ingest
	bench_policy
	bench_rss
	bench_query
	;;
*)
	echo "unknown benchmark '$what'" >&2
	exit 2
	;;
esac
