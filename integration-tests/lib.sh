#!/usr/bin/env bash
# Helpers for the host integration cases (sourced by run.sh and each case).
# Every process a case starts is recorded and stopped by its PID when the case ends.

: "${O:=build}"
BIN=$(cd "$O/bin" && pwd)
TRIGGERS=$(cd "$O/triggers" 2>/dev/null && pwd || true)
TOOLS=$(cd "$O/tools" 2>/dev/null && pwd || true)
TETRA="$BIN/tetra"
CASE_DIR=$(mktemp -d /tmp/tetra-it.XXXXXX)
CASE_PIDS=()

log() { printf '    %s\n' "$*" >&2; }
fail() {
	printf '    FAIL: %s\n' "$*" >&2
	exit 1
}

cleanup_case() {
	local pid
	for pid in "${CASE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$CASE_DIR"
}
trap cleanup_case EXIT

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# start_agent [AGENT ARGS...]: start tetragon on a fresh port and socket. Sets AGENT_PID,
# AGENT_ADDR (for tetra --server-address), AGENT_LOG, AGENT_SOCK, NODE.
start_agent() {
	AGENT_PORT=$(free_port)
	AGENT_SOCK="$CASE_DIR/tetragon.sock"
	AGENT_LOG="$CASE_DIR/agent.log"
	AGENT_ADDR="127.0.0.1:$AGENT_PORT"
	NODE=${NODE:-it-node-$$}
	# its own state directory: policies added over gRPC persist there
	"$BIN/tetragon" --node-name "$NODE" --server-address "$AGENT_ADDR" \
		--server-unix-socket "$AGENT_SOCK" --state-dir "$CASE_DIR/state" "$@" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	CASE_PIDS+=("$AGENT_PID")
	if ! wait_for 20 grep -q "Listening for events" "$AGENT_LOG"; then
		cat "$AGENT_LOG" >&2
		fail "the agent did not start"
	fi
}

stop_agent() {
	kill -TERM "$AGENT_PID" 2>/dev/null
	local rc=0
	wait "$AGENT_PID" || rc=$?
	return $rc
}

tetra() { "$TETRA" --server-address "$AGENT_ADDR" "$@"; }

# start_events FILE [tetra getevents ARGS...]: stream events into FILE in the background.
start_events() {
	local out=$1
	shift
	"$TETRA" --server-address "$AGENT_ADDR" getevents "$@" </dev/null >"$out" 2>"$out.err" &
	EVENTS_PID=$!
	CASE_PIDS+=("$EVENTS_PID")
	# the stream is open once the agent counts the subscriber
	wait_for 10 sh -c "'$TETRA' --server-address '$AGENT_ADDR' status | grep -Eq 'grpc.subscribers +[1-9]'" ||
		fail "the GetEvents stream did not open"
}

# json_query FILE PYTHON-EXPR: evaluate EXPR over the list `events` of JSON lines in FILE.
json_query() {
	python3 - "$1" "$2" <<'PY'
import json, sys, base64
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def find(kind, **kw):
    out = []
    for e in events:
        ev = e.get(kind)
        if ev is None:
            continue
        p = ev.get("process", {})
        if all(p.get(k) == v for k, v in kw.items()):
            out.append(e)
    return out
r = eval(sys.argv[2])
if isinstance(r, bool):
    sys.exit(0 if r else 1)
print(json.dumps(r) if not isinstance(r, str) else r)
PY
}

# policy NAME BODY: write a TracingPolicy named NAME with spec BODY (YAML, indented
# two spaces) to $CASE_DIR/NAME.yaml and print its path.
policy() {
	local f="$CASE_DIR/$1.yaml"
	printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: "%s"\nspec:\n%s\n' \
		"$1" "$2" >"$f"
	echo "$f"
}

# add_policy FILE [tetra tp add ARGS]: add a policy to the agent, failing the case if refused.
add_policy() {
	local out
	out=$(tetra tp add "$@" 2>&1) || fail "adding $1 was refused: $out"
}

# policy_values FILE POLICY EXPR: the values of EXPR (over `ev`, one process_* event of POLICY
# by a sysc trigger) for every such event in FILE, one per line, sorted.
policy_values() {
	python3 - "$1" "$2" "$3" "$TRIGGERS/sysc" <<'PY'
import json, sys
path, policy, expr, sysc = sys.argv[1:5]
out = []
for l in open(path):
    if not l.strip():
        continue
    e = json.loads(l)
    for k in ("process_kprobe", "process_tracepoint", "process_uprobe"):
        ev = e.get(k)
        if ev and ev.get("policy_name") == policy and ev["process"].get("binary") == sysc:
            v = eval(expr)
            if v is not None:
                out.append(str(v))
print("\n".join(sorted(out)))
PY
}

# policy_count NAME COUNTER: a counter of `tetra tp list -o json` for policy NAME.
policy_counter() {
	tetra tp list -o json | python3 -c '
import json, sys
name, counter = sys.argv[1], sys.argv[2]
for p in json.load(sys.stdin).get("policies", []):
    if p["name"] == name:
        print(int(p.get("stats", {}).get("action_counters", {}).get(counter, 0)))
        break
else:
    print(-1)' "$1" "$2"
}

# wait_counter POLICY COUNTER MIN: until the policy's counter reaches MIN (10 s).
wait_counter() {
	local v
	for _ in $(seq 100); do
		v=$(policy_counter "$1" "$2")
		[ "$v" -ge "$3" ] && return 0
		sleep 0.1
	done
	log "$1 $2 = $v"
	return 1
}
