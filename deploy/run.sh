#!/usr/bin/env bash
# make run: the whole product on this machine, as root on Debian 12.
#
#   1. installs the Debian packages that are missing (deploy/install-deps.sh),
#   2. builds (make all),
#   3. starts tetragon-manager with its SQLite database and one agent joined to it,
#   4. prints the fleet's live events in compact form until Ctrl-C, then stops both.
#
# Environment:
#   RUN_DIR         state, database and logs (default /var/lib/tetragon-run)
#   MANAGER_LISTEN  the manager's address (default 127.0.0.1:54322)
#   NODE_NAME       the agent's node name (default: the host name)
#   AGENT_ARGS      more tetragon options, e.g. "--tracing-policy-dir /etc/tetragon/tp.d"
#   O               build directory (default build)
set -euo pipefail

cd "$(dirname "$0")/.."
O=${1:-${O:-build}}
RUN_DIR=${RUN_DIR:-/var/lib/tetragon-run}
MANAGER_LISTEN=${MANAGER_LISTEN:-127.0.0.1:54322}
NODE=${NODE_NAME:-$(hostname)}
read -r -a EXTRA <<<"${AGENT_ARGS:-}"

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'make run: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root: the agent loads BPF programs"

say "Installing missing packages"
deploy/install-deps.sh
say "Building"
make -j"$(nproc)" O="$O" all >/dev/null

mkdir -p "$RUN_DIR"
MANAGER_PID=""
AGENT_PID=""
stop() {
	trap - EXIT INT TERM
	for pid in $AGENT_PID $MANAGER_PID; do
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	say "Stopped; logs and the database are in $RUN_DIR"
}
trap stop EXIT
trap 'exit 0' INT TERM

# wait_up SECONDS LOG PID CMD...: until CMD answers, or the process dies
wait_up() {
	local secs=$1 log=$2 pid=$3 i
	shift 3
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || {
			tail -n 20 "$log" >&2
			die "it exited (log: $log)"
		}
		sleep 0.1
	done
	tail -n 20 "$log" >&2
	die "no answer after ${secs}s (log: $log)"
}

say "Starting tetragon-manager on $MANAGER_LISTEN (database $RUN_DIR/manager.db)"
"$O/bin/tetragon-manager" --listen "$MANAGER_LISTEN" --db "$RUN_DIR/manager.db" \
	>"$RUN_DIR/manager.log" 2>&1 &
MANAGER_PID=$!
wait_up 30 "$RUN_DIR/manager.log" "$MANAGER_PID" \
	"$O/bin/tetra" --server-address "$MANAGER_LISTEN" status

say "Starting the agent, node $NODE, joined to the manager"
"$O/bin/tetragon" --node-name "$NODE" --manager-address "$MANAGER_LISTEN" \
	--state-dir "$RUN_DIR/agent" --export-filename "$RUN_DIR/events.json" "${EXTRA[@]}" \
	>"$RUN_DIR/agent.log" 2>&1 &
AGENT_PID=$!
wait_up 60 "$RUN_DIR/agent.log" "$AGENT_PID" "$O/bin/tetra" status
for _ in $(seq 100); do
	"$O/bin/tetra" --server-address "$MANAGER_LISTEN" nodes list 2>/dev/null | grep -q "$NODE" && break
	sleep 0.1
done

cat >&2 <<EOF
==> Running. In another terminal:
      $O/bin/tetra --server-address $MANAGER_LISTEN nodes list
      $O/bin/tetra --server-address $MANAGER_LISTEN tracingpolicy add deploy/examples/open-etc.yaml
      $O/bin/tetra --server-address $MANAGER_LISTEN events query --since 10m -o compact
    A second node: see "Several nodes" in README.md. Ctrl-C stops everything.
==> Live events of the fleet:
EOF
"$O/bin/tetra" --server-address "$MANAGER_LISTEN" getevents -o compact || true
