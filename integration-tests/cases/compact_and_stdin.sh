#!/usr/bin/env bash
# tetra getevents -o compact prints Tetragon's compact lines, live and from JSON
# lines on stdin, with its filters applied to both.
source "$(dirname "$0")/../lib.sh"

start_agent --export-filename "$CASE_DIR/export.log"
start_events "$CASE_DIR/compact.txt" -o compact --process hello
"$TRIGGERS/hello" --exit 3 compact-test one
wait_for 10 grep -q "exit    $NODE $TRIGGERS/hello --exit 3 compact-test one 3" "$CASE_DIR/compact.txt" ||
	fail "compact: $(cat "$CASE_DIR/compact.txt")"
grep -qx "🚀 process $NODE $TRIGGERS/hello --exit 3 compact-test one" "$CASE_DIR/compact.txt" ||
	fail "no compact exec line: $(cat "$CASE_DIR/compact.txt")"
# the --process filter let nothing else through
[ "$(grep -vc "$TRIGGERS/hello" "$CASE_DIR/compact.txt")" -eq 0 ] || fail "filter leaked"

stop_agent
# the export file through stdin, filtered by event type
"$TETRA" getevents -o compact -e PROCESS_EXIT --process hello <"$CASE_DIR/export.log" >"$CASE_DIR/stdin.txt" ||
	fail "stdin mode failed"
[ "$(wc -l <"$CASE_DIR/stdin.txt")" -eq 1 ] || fail "stdin: $(cat "$CASE_DIR/stdin.txt")"
grep -q "^💥 exit    $NODE $TRIGGERS/hello --exit 3 compact-test one 3$" "$CASE_DIR/stdin.txt" || fail "stdin line"
# and back to JSON with timestamps untouched
"$TETRA" getevents -o json --process hello <"$CASE_DIR/export.log" | python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
assert len(objs) == 2 and all(o["time"].endswith("Z") for o in objs), objs' || fail "stdin json"
