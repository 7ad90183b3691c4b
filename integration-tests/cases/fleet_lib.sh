#!/usr/bin/env bash
# Helpers for the fleet_* cases: one tetragon-manager and several agents on this host, each
# agent its own node (name, ports, socket, --state-dir under the case's directory, so its
# fleet policies and uplink spool go away with the case). Sourced by the cases; run on its own it is not a case.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "helpers for the fleet_* cases, not a case"
	exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MANAGER_PORT=$(free_port)
MANAGER_ADDR="127.0.0.1:$MANAGER_PORT"
MANAGER_DB="$CASE_DIR/manager.db"
MANAGER_LOG="$CASE_DIR/manager.log"
MANAGER_PID=
declare -A NODE_PID NODE_LOG NODE_ADDR
FLEET_NODES=()

cleanup_fleet() {
	cleanup_case
	if [ -n "${FLEET_CGROUP:-}" ] && [ -d "$FLEET_CGROUP" ]; then
		find "$FLEET_CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null
	fi
}
trap cleanup_fleet EXIT

mtetra() { "$TETRA" --server-address "$MANAGER_ADDR" "$@"; }

# start_manager [ARGS]: the manager on MANAGER_PORT with MANAGER_DB (again after a kill).
start_manager() {
	local before=0
	[ -f "$MANAGER_LOG" ] && before=$(grep -c "Manager ready" "$MANAGER_LOG")
	"$BIN/tetragon-manager" --listen "$MANAGER_ADDR" --db "$MANAGER_DB" \
		--heartbeat-interval 1s "$@" >>"$MANAGER_LOG" 2>&1 &
	MANAGER_PID=$!
	CASE_PIDS+=("$MANAGER_PID")
	wait_for 20 sh -c "[ \$(grep -c 'Manager ready' '$MANAGER_LOG') -gt $before ]" || {
		cat "$MANAGER_LOG" >&2
		fail "the manager did not start"
	}
}

# wait_pid PID SECONDS: until the background process PID ends, failing after SECONDS.
wait_pid() {
	wait_for "$2" sh -c "! kill -0 $1 2>/dev/null" || fail "process $1 still runs after $2 s"
	wait "$1" 2>/dev/null
}

kill9_manager() {
	kill -9 "$MANAGER_PID"
	wait "$MANAGER_PID" 2>/dev/null
}

# agent_supports FLAG: the agent has the option (some arrive with later work).
agent_supports() { "$BIN/tetragon" --help 2>&1 | grep -q -- "$1"; }

# node_state NAME: node NAME's --state-dir (kept across its restarts within the case).
node_state() { echo "$CASE_DIR/state-$1"; }

# start_node NAME [AGENT ARGS]: an agent that is node NAME of the manager's fleet.
start_node() {
	local name=$1 port
	shift
	port=$(free_port)
	NODE_ADDR[$name]="127.0.0.1:$port"
	NODE_LOG[$name]="$CASE_DIR/agent-$name.log"
	[[ " ${FLEET_NODES[*]} " == *" $name "* ]] || FLEET_NODES+=("$name")
	"$BIN/tetragon" --node-name "$name" --server-address "${NODE_ADDR[$name]}" \
		--server-unix-socket "$CASE_DIR/$name.sock" --manager-address "$MANAGER_ADDR" \
		--state-dir "$(node_state "$name")" "$@" >>"${NODE_LOG[$name]}" 2>&1 &
	NODE_PID[$name]=$!
	CASE_PIDS+=("${NODE_PID[$name]}")
	wait_for 30 grep -q "Listening for events" "${NODE_LOG[$name]}" || {
		tail -20 "${NODE_LOG[$name]}" >&2
		fail "agent $name did not start"
	}
}

# confine_nodes NAME...: a cgroup v2 directory per node under FLEET_CGROUP (removed at the end);
# start the node with --cgroup "$(node_cgroup NAME)" and run its workloads with in_node.
confine_nodes() {
	local cgroup2 n
	cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$cgroup2" ] || fail "no cgroup v2 mount: nodes cannot be confined"
	FLEET_CGROUP=$cgroup2/fleet-it-$$
	for n in "$@"; do
		mkdir -p "$FLEET_CGROUP/$n" || fail "cannot create cgroup $FLEET_CGROUP/$n"
	done
}
node_cgroup() { echo "$FLEET_CGROUP/$1"; }

# in_node NAME CMD...: run CMD inside node NAME's cgroup; its exit status is CMD's.
in_node() {
	local n=$1
	shift
	(echo $BASHPID >"$FLEET_CGROUP/$n/cgroup.procs" && exec "$@")
}

# node_json: the manager's ListNodes as JSON.
node_json() { mtetra nodes list -o json; }

# node_field NAME FIELD: a field of one node in ListNodes ("" when absent).
node_field() {
	node_json | python3 -c '
import json, sys
name, field = sys.argv[1], sys.argv[2]
for n in json.load(sys.stdin).get("nodes", []):
    if n["name"] == name:
        print(n.get(field, ""))' "$1" "$2"
}

# wait_online NAME...: every node online at the manager (20 s).
wait_online() {
	local n
	for n in "$@"; do
		wait_for 20 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' nodes list | grep -q '^$n  *online '" ||
			fail "node $n did not come online: $(mtetra nodes list 2>&1)"
	done
}

# wait_offline NAME: the node is offline at the manager (20 s).
wait_offline() {
	wait_for 20 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' nodes list | grep -q '^$1  *offline '" ||
		fail "node $1 did not go offline: $(mtetra nodes list 2>&1)"
}

# history FILE [tetra events query ARGS]: every stored event matching, as JSON lines.
history() {
	local out=$1
	shift
	timeout 120 "$TETRA" --server-address "$MANAGER_ADDR" events query --all --limit 10000 \
		-o json "$@" >"$out" 2>"$out.err" || fail "events query failed: $(cat "$out.err")"
}

# count_args FILE NODE ARGS...: for each ARGS, how many exec events of NODE in FILE have
# exactly these arguments, one number per line.
count_args() {
	python3 - "$@" <<'PY'
import collections, json, sys
path, node, want = sys.argv[1], sys.argv[2], sys.argv[3:]
seen = collections.Counter()
for l in open(path):
    if not l.strip():
        continue
    e = json.loads(l)
    if e.get("node_name") == node:
        seen[e.get("process_exec", {}).get("process", {}).get("arguments")] += 1
for a in want:
    print(seen[a])
PY
}

# fleet_policy_line NAME: the line of policy NAME in `tetra tp list` at the manager.
fleet_policy_line() { mtetra tp list | grep -E "^[0-9]+ +$1 "; }

# wait_policy_info NAME TEXT: until the fleet column of NAME reads TEXT (30 s).
wait_policy_info() {
	local i line
	for ((i = 0; i < 300; i++)); do
		line=$(fleet_policy_line "$1")
		[[ "$line" == *"  $2" ]] && return 0
		sleep 0.1
	done
	log "policy $1: '$line', not '$2'"
	return 1
}
