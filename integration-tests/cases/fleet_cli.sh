#!/usr/bin/env bash
# tetra against the manager: nodes list (text and JSON), events query in its three output
# forms, its filters (node, type, binary, pid, exec_id, time range), both orders and cursor
# paging (every event once), and clear errors for bad input or a server that is no manager.
source "$(dirname "$0")/fleet_lib.sh"

node=ca-$$
start_manager
start_node "$node"
wait_online "$node"
for i in $(seq 1 25); do
	"$TRIGGERS/hello" "cli-$$-$i"
done
q() { mtetra events query --node "$node" --binary 'hello$' --type exec "$@"; }
wait_for 20 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' events query --node $node --binary 'hello\$' --type exec --all -o json | grep -c 'cli-$$-' | grep -qx 25" ||
	fail "the 25 events did not arrive: $(q --all -o json | grep -c "cli-$$-")"

# json: a page of 10, newest first, and the cursor to the next
q --limit 10 -o json >"$CASE_DIR/p1.json" 2>"$CASE_DIR/p1.err" || fail "query failed"
[ "$(grep -c "cli-$$-" "$CASE_DIR/p1.json")" -eq 10 ] || fail "page 1: $(cat "$CASE_DIR/p1.json")"
cursor=$(sed -n 's/^More: --cursor //p' "$CASE_DIR/p1.err")
[ -n "$cursor" ] || fail "no cursor after a full page: $(cat "$CASE_DIR/p1.err")"
python3 - "$CASE_DIR/p1.json" "$$" <<'PY' || fail "page 1 is not newest first"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
args = [e["process_exec"]["process"]["arguments"] for e in evs]
assert args[0] == "cli-%s-25" % sys.argv[2], args
times = [e["time"] for e in evs]
assert times == sorted(times, reverse=True), times
PY
q --limit 10 -o json --cursor "$cursor" >"$CASE_DIR/p2.json" 2>/dev/null || fail "page 2"
[ "$(grep -c "cli-$$-" "$CASE_DIR/p2.json")" -eq 10 ] || fail "page 2 size"
grep -q "\"cli-$$-15\"" "$CASE_DIR/p2.json" || fail "page 2 does not follow page 1"
grep -q "\"cli-$$-16\"" "$CASE_DIR/p2.json" && fail "page 2 repeats page 1"
# --all follows the cursors: every event exactly once
q --limit 4 --all -o json | grep -o "\"cli-$$-[0-9]*\"" | sort | uniq -c | awk '$1 != 1 { bad = 1 } END { exit bad }' ||
	fail "paging repeated an event"
[ "$(q --limit 4 --all -o json | grep -c "cli-$$-")" -eq 25 ] || fail "paging lost an event"
q --oldest-first --limit 1 -o json | grep -q "\"cli-$$-1\"" || fail "--oldest-first"

# compact and table
q --limit 3 -o compact --color never | grep -q "^🚀 process $node .*/hello cli-$$-25$" ||
	fail "compact: $(q --limit 3 -o compact --color never)"
q --limit 3 | head -1 | grep -q "^TIME  *NODE  *TYPE  *PID  *POLICY  *ACTION  *BINARY" || fail "table header"
q --limit 3 | sed -n 2p | grep -q " $node  *EXEC .*/hello$" || fail "table: $(q --limit 3)"

# pid and exec_id find the process's exec and exit; a time range
line=$(q --limit 1 -o json)
pid=$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["process_exec"]["process"]["pid"])')
exec_id=$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["process_exec"]["process"]["exec_id"])')
[ "$(mtetra events query --node "$node" --exec-id "$exec_id" -o json | grep -c .)" -eq 2 ] ||
	fail "--exec-id: $(mtetra events query --node "$node" --exec-id "$exec_id")"
mtetra events query --node "$node" --pid "$pid" --type exit -o json | grep -q "\"cli-$$-25\"" || fail "--pid"
[ "$(q --since 1h -o json --all | grep -c "cli-$$-")" -eq 25 ] || fail "--since 1h"
[ "$(q --until 2000-01-01T00:00:00Z -o json | grep -c .)" -eq 0 ] || fail "--until 2000"
[ "$(mtetra events query --node no-such-node -o json | grep -c .)" -eq 0 ] || fail "unknown node"

# nodes list
mtetra nodes list | head -1 | grep -q "^NAME  *STATE  *LAST-SEEN  *AGENT  *KERNEL  *POLICIES  *EVENTS  *DROPPED" ||
	fail "nodes list header: $(mtetra nodes list)"
mtetra nodes list | grep -q "^$node  *online  *now .* 0/0 ok " || fail "nodes list: $(mtetra nodes list)"
mtetra nodes list -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
n = [x for x in d["nodes"] if x["name"] == sys.argv[1]][0]
assert n["online"] and int(n["events_stored"]) >= 50 and n["kernel_release"] and n["features"], n' "$node" ||
	fail "nodes list -o json: $(mtetra nodes list -o json)"
mtetra status | grep -q "^Daemon: *tetragon-manager" || fail "status: $(mtetra status)"

# errors: clear, and the right exit codes
out=$(mtetra events query --binary '([' 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "INVALID_ARGUMENT: invalid regular expression" || fail "bad regex: $out"
out=$(mtetra events query --cursor nonsense 2>&1)
echo "$out" | grep -q "INVALID_ARGUMENT: invalid cursor" || fail "bad cursor: $out"
for bad in "--limit 0" "--type nosuch" "--since yesterday" "--action nosuch" "-o xml"; do
	# shellcheck disable=SC2086
	out=$(mtetra events query $bad 2>&1)
	[ $? -eq 2 ] || fail "'events query $bad' did not exit 2: $out"
done
out=$("$TETRA" --server-address "${NODE_ADDR[$node]}" events query 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q UNIMPLEMENTED || fail "events query against an agent: $out"
out=$("$TETRA" --server-address "127.0.0.1:$(free_port)" nodes list 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q UNAVAILABLE || fail "nodes list without a manager: $out"
