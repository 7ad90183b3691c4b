#!/usr/bin/env bash
# A process that was running before the agent started is known from /proc: its
# exit event carries its identity and the procFS flag.
source "$(dirname "$0")/../lib.sh"

cd "$CASE_DIR" || exit 1
"$TRIGGERS/hello" --sleep 60 before-the-agent &
early=$!
CASE_PIDS+=("$early")
sleep 0.2
start_agent
start_events "$CASE_DIR/events.json"
kill -9 $early
wait $early 2>/dev/null

q() { json_query "$CASE_DIR/events.json" "$1"; }
wait_for 10 q "len(find('process_exit', binary='$TRIGGERS/hello')) == 1" || fail "no exit event"
ev=$(q "find('process_exit', binary='$TRIGGERS/hello')[0]['process_exit']")
python3 - "$ev" "$early" "$CASE_DIR" "$$" <<'PY' || fail "exit event: $ev"
import json, sys
ev = json.loads(sys.argv[1]); pid, cwd, shell = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
p = ev["process"]
assert "procFS" in p["flags"].split(), p["flags"]
assert p["pid"] == pid and p["arguments"] == "--sleep 60 before-the-agent", p
assert p["cwd"] == cwd, p["cwd"]
assert ev["signal"] == "SIGKILL", ev
assert ev["parent"]["pid"] == shell, ev["parent"]
PY
