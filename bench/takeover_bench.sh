#!/usr/bin/env bash
# Restart takeover with persistent enforcement (--keep-sensors-on-exit): while a loop execs
# a binary that a Sigkill policy denies, the agent is killed with SIGKILL and started
# again, BENCH_RESTARTS times. Per restart: how many execs got through (the enforcement
# gap, target 0), how long the old and the new programs were both attached, how long
# the new agent took to be up, and how many records of the downtime it replayed.
#
#   bench/takeover_bench.sh [O]
#
# Environment: BENCH_RESTARTS (5), BENCH_DOWNTIME_MS (500: how long no agent runs).
# Needs root. Stops what it starts by PID; removes its pins (/sys/fs/bpf/tetragon-bench-*).
set -euo pipefail

O=$(cd "${1:-build}" && pwd)
RESTARTS=${BENCH_RESTARTS:-5}
DOWNTIME_MS=${BENCH_DOWNTIME_MS:-500}
WORK=$(mktemp -d /tmp/tetra-takeover.XXXXXX)
BPFDIR=tetragon-bench-$$
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
AGENT_PID=""
LOOP_PID=""

cleanup() {
	[ -n "$LOOP_PID" ] && { touch "$WORK/stop"; wait "$LOOP_PID" 2>/dev/null || true; }
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	rm -rf "/sys/fs/bpf/$BPFDIR" "/sys/fs/bpf/${BPFDIR}_old"; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "takeover_bench: needs root"; exit 77; }

cp "$O/triggers/marker" "$WORK/denied"
cat >"$WORK/deny.yaml" <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "deny"
spec:
  kprobes:
  - call: "sys_execve"
    syscall: true
    args:
    - index: 0
      type: "string"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["$WORK/denied"]
      matchActions:
      - action: Sigkill
EOF

now_ms() { date +%s%3N; }

# start_agent LOG: sets AGENT_PID and UP_MS (time until the agent listens)
start_agent() {
	local log=$1 t0
	t0=$(now_ms)
	"$O/bin/tetragon" --bpf-dir "$BPFDIR" --keep-sensors-on-exit --state-dir "$WORK/state" \
		--server-address "$ADDR" --server-unix-socket "$WORK/agent.sock" \
		--tracing-policy "$WORK/deny.yaml" >"$log" 2>&1 &
	AGENT_PID=$!
	until grep -q "Listening for events" "$log"; do
		kill -0 "$AGENT_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
		sleep 0.01
	done
	UP_MS=$(($(now_ms) - t0))
}

stat_of() {
	"$O/bin/tetra" --server-address "$ADDR" status 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'
}

start_agent "$WORK/agent0.log"

# the loop: every exec of the denied binary that is not killed leaves a file
(
	n=0
	while [ ! -e "$WORK/stop" ]; do
		"$WORK/denied" "$WORK/gap.$n" 2>/dev/null || true
		n=$((n + 1))
	done
	echo "$n" >"$WORK/attempts"
) 2>/dev/null &
LOOP_PID=$!

printf '%-8s %-10s %-12s %-12s %-12s %-10s\n' restart execs_through overlap_ms startup_ms replayed dups
total_gap=0
for ((i = 1; i <= RESTARTS; i++)); do
	before=$(ls "$WORK" | grep -c '^gap\.' || true)
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null || true
	sleep "$(awk -v ms="$DOWNTIME_MS" 'BEGIN { print ms / 1000 }')"
	start_agent "$WORK/agent$i.log"
	sleep 0.2
	after=$(ls "$WORK" | grep -c '^gap\.' || true)
	through=$((after - before))
	total_gap=$((total_gap + through))
	overlap=$(stat_of takeover.overlap_us)
	printf '%-8s %-10s %-12s %-12s %-12s %-10s\n' "$i" "$through" \
		"$(awk -v us="${overlap:-0}" 'BEGIN { printf "%.1f", us / 1000 }')" "$UP_MS" \
		"$(stat_of takeover.replayed)" "$(stat_of takeover.duplicates)"
done
touch "$WORK/stop"
wait "$LOOP_PID" 2>/dev/null || true
LOOP_PID=""
echo
printf 'execs of the denied binary: %s, got through: %s (restarts: %s, downtime %s ms each)\n' \
	"$(cat "$WORK/attempts")" "$total_gap" "$RESTARTS" "$DOWNTIME_MS"
