#!/usr/bin/env bash
# A process run with known arguments from a known directory shows up with its
# identity in the exec event and its status in the exit event; a child killed
# with SIGKILL has the signal in its exit event.
source "$(dirname "$0")/../lib.sh"

start_agent --export-filename "$CASE_DIR/export.log"
start_events "$CASE_DIR/events.json"

mkdir -p "$CASE_DIR/work dir"
cd "$CASE_DIR/work dir" || fail "cd"
"$TRIGGERS/hello" --exit 7 alpha "beta gamma" delta
rc=$?
[ $rc -eq 7 ] || fail "hello exited $rc"
"$TRIGGERS/hello" --sleep 30 killme &
victim=$!
sleep 0.3
kill -9 $victim
wait $victim 2>/dev/null
cd / || exit 1

q() { json_query "$CASE_DIR/events.json" "$1"; }
wait_for 10 q "len(find('process_exit', binary='$TRIGGERS/hello')) >= 2" ||
	fail "no exit events for hello: $(cat "$CASE_DIR/events.json.err")"

# the exec event: binary, arguments, cwd, uid, parent = this shell, exec_id
q "len(find('process_exec', binary='$TRIGGERS/hello', arguments='--exit 7 alpha \"beta gamma\" delta')) == 1" ||
	fail "no exec event with the arguments"
ev=$(q "find('process_exec', binary='$TRIGGERS/hello', arguments='--exit 7 alpha \"beta gamma\" delta')[0]['process_exec']")
python3 - "$ev" "$CASE_DIR/work dir" "$$" "$NODE" <<'PY' || fail "exec event fields: $ev"
import json, sys, base64
ev = json.loads(sys.argv[1]); cwd, shell_pid, node = sys.argv[2], int(sys.argv[3]), sys.argv[4]
p, parent = ev["process"], ev["parent"]
assert p["cwd"] == cwd, p["cwd"]
assert p.get("uid", 0) == 0, p
assert "execve" in p["flags"], p["flags"]
assert p["pid"] == p["tid"], p
assert parent["pid"] == shell_pid, (parent["pid"], shell_pid)
assert parent["binary"].endswith("bash"), parent["binary"]
assert p["parent_exec_id"] == parent["exec_id"]
raw = base64.b64decode(p["exec_id"]).decode()
n, ktime, pid = raw.rsplit(":", 2)
assert n == node and int(pid) == p["pid"] and int(ktime) > 0, raw
assert p["start_time"].endswith("Z") and p["auid"] >= 0
PY

# the exit events: a status, and a signal
q "find('process_exit', binary='$TRIGGERS/hello', arguments='--exit 7 alpha \"beta gamma\" delta')[0]['process_exit'].get('status') == 7" ||
	fail "exit status is not 7"
q "find('process_exit', binary='$TRIGGERS/hello', arguments='--sleep 30 killme')[0]['process_exit'].get('signal') == 'SIGKILL'" ||
	fail "killed child has no SIGKILL"

# the export file has the same events, one JSON object per line
stop_agent || fail "agent exit status $?"
python3 - "$CASE_DIR/export.log" "$TRIGGERS/hello" <<'PY' || fail "export file"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "empty export"
objs = [json.loads(l) for l in lines]
for o in objs:
    assert "node_name" in o and "time" in o, o
    assert ("process_exec" in o) != ("process_exit" in o), o
assert any(o.get("process_exec", {}).get("process", {}).get("binary") == sys.argv[2] for o in objs)
PY
