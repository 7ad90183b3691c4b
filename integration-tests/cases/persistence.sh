#!/usr/bin/env bash
# Persistent enforcement and restart takeover. With --keep-sensors-on-exit a Sigkill policy
# on execve keeps killing after kill -9 of the agent; a restarted agent takes over with no
# moment in between where an exec of the denied binary gets through; what happened while no
# agent ran is delivered after the restart, once; policies added over gRPC come back with
# their mode and state; a restart leaves exactly one set of pins, and a restart without the
# flag removes them.
source "$(dirname "$0")/../lib.sh"

BPFDIR=tetragon-it-$$
PINS=/sys/fs/bpf/$BPFDIR
cleanup_pins() {
	cleanup_case
	rm -rf "$PINS" "${PINS}_old"
}
trap cleanup_pins EXIT

STATE="$CASE_DIR/state"
AGENT_ARGS=(--bpf-dir "$BPFDIR" --state-dir "$STATE")
cp "$TRIGGERS/marker" "$CASE_DIR/denied"
cp "$TRIGGERS/marker" "$CASE_DIR/denied2"
cp "$TRIGGERS/marker" "$CASE_DIR/watched"

deny=$(policy deny-exec "  kprobes:
  - call: sys_execve
    syscall: true
    args:
    - index: 0
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: [\"$CASE_DIR/denied\"]
      matchActions:
      - action: Sigkill")

# the ids of the programs pinned under a tree, sorted
pinned_prog_ids() {
	local f
	for f in $(find "$1" -name 'prog_*' 2>/dev/null); do
		bpftool prog show pinned "$f" | awk -F: 'NR == 1 { print $1 }'
	done | sort -n
}

start_agent "${AGENT_ARGS[@]}" --keep-sensors-on-exit --tracing-policy "$deny" \
	--export-filename "$CASE_DIR/export1.json"
add_policy "$(policy grpc-watch "  kprobes:
  - call: sys_execve
    syscall: true
    args:
    - index: 0
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: [\"$CASE_DIR/watched\"]
      matchActions:
      - action: Post")"
add_policy "$(policy grpc-off "  kprobes:
  - call: sys_execve
    syscall: true
    args:
    - index: 0
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: [\"$CASE_DIR/denied2\"]
      matchActions:
      - action: Sigkill")" --mode monitor
tetra tp disable grpc-off >/dev/null || fail "disabling grpc-off failed"
before=$(tetra tp list -o json | python3 -c '
import json, sys
for p in sorted(json.load(sys.stdin)["policies"], key=lambda p: p["name"]):
    print(p["name"], p.get("state"), p.get("mode"))')

"$CASE_DIR/denied" "$CASE_DIR/ran"
[ $? -eq 137 ] || fail "the denied binary was not killed with the agent running"
[ -d "$PINS/base" ] && [ -d "$PINS/generic" ] && [ -d "$PINS/policies/static_deny-exec" ] ||
	fail "nothing pinned under $PINS: $(find "$PINS" -maxdepth 2 2>&1)"
old_ids=$(pinned_prog_ids "$PINS")
[ -n "$old_ids" ] || fail "no programs pinned"

# the agent dies; the kernel goes on enforcing, and goes on recording
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
"$CASE_DIR/denied" "$CASE_DIR/ran"
rc=$?
[ $rc -eq 137 ] || fail "after kill -9 of the agent the denied binary exited $rc, not killed"
[ ! -e "$CASE_DIR/ran" ] || fail "after kill -9 of the agent the denied binary ran"
"$TRIGGERS/marker" "$CASE_DIR/downtime-marker" downtime-arg || fail "marker failed"
"$CASE_DIR/watched" "$CASE_DIR/watched-ran" || fail "watched failed"

# execs of the denied binary all through the restart: not one may get through
(
	n=0
	while [ ! -e "$CASE_DIR/stop-loop" ]; do
		"$CASE_DIR/denied" "$CASE_DIR/gap" 2>/dev/null
		n=$((n + 1))
		echo $n >"$CASE_DIR/attempts"
	done
) 2>/dev/null &
LOOP_PID=$!
CASE_PIDS+=("$LOOP_PID")
wait_for 10 test -s "$CASE_DIR/attempts" || fail "the exec loop did not start"

cp "$AGENT_LOG" "$CASE_DIR/agent1.log"
start_agent "${AGENT_ARGS[@]}" --keep-sensors-on-exit --tracing-policy "$deny" \
	--export-filename "$CASE_DIR/export2.json"
sleep 0.5
touch "$CASE_DIR/stop-loop"
wait "$LOOP_PID" 2>/dev/null
attempts=$(cat "$CASE_DIR/attempts")
log "$attempts execs of the denied binary across the restart"
[ "$attempts" -gt 1 ] || fail "the exec loop did not run across the restart"
[ ! -e "$CASE_DIR/gap" ] || fail "an exec of the denied binary got through during the takeover"
grep -q "Taking over from a previous agent" "$AGENT_LOG" || fail "no takeover: $(cat "$AGENT_LOG")"

# the downtime's events, delivered once
e2="$CASE_DIR/export2.json"
wait_for 10 json_query "$e2" \
	"len([e for e in find('process_exec') if e['process_exec']['process'].get('arguments','').endswith('downtime-marker downtime-arg')]) >= 1" ||
	fail "the exec of the downtime was not delivered after the restart"
json_query "$e2" \
	"len([e for e in find('process_exec') if e['process_exec']['process'].get('arguments','').endswith('downtime-marker downtime-arg')]) == 1" ||
	fail "the exec of the downtime was delivered more than once"
json_query "$e2" \
	"len([e for e in find('process_exit') if e['process_exit']['process'].get('arguments','').endswith('downtime-marker downtime-arg')]) == 1" ||
	fail "the exit of the downtime was not delivered exactly once"
json_query "$e2" \
	"any(e['process_kprobe'].get('policy_name') == 'grpc-watch' for e in events if 'process_kprobe' in e)" ||
	fail "the grpc-watch event of the downtime was not delivered: $(cat "$AGENT_LOG")"
json_query "$e2" \
	"any(e['process_kprobe'].get('policy_name') == 'deny-exec' and e['process_kprobe'].get('action') == 'KPROBE_ACTION_SIGKILL' for e in events if 'process_kprobe' in e)" ||
	fail "the Sigkill event of the downtime was not delivered"
tetra status | grep -Eq 'takeover.replayed +[1-9]' || fail "takeover.replayed is not counted: $(tetra status)"

# policies of the gRPC API came back as they were
after=$(tetra tp list -o json | python3 -c '
import json, sys
for p in sorted(json.load(sys.stdin)["policies"], key=lambda p: p["name"]):
    print(p["name"], p.get("state"), p.get("mode"))')
[ "$before" = "$after" ] || fail "policies differ after the restart: before [$before] after [$after]"
"$CASE_DIR/denied2" "$CASE_DIR/denied2-ran" || fail "grpc-off came back enabled"

# exactly one set of pins: the old programs are gone, the new ones pinned once
[ ! -e "${PINS}_old" ] || fail "${PINS}_old is still there"
new_ids=$(pinned_prog_ids "$PINS")
[ "$(echo "$new_ids" | wc -l)" -eq "$(echo "$old_ids" | wc -l)" ] ||
	fail "a different number of programs is pinned: before $(echo $old_ids) now $(echo $new_ids)"
for id in $old_ids; do
	! bpftool prog show id "$id" >/dev/null 2>&1 || fail "program $id of the old agent is still loaded"
done
"$CASE_DIR/denied" "$CASE_DIR/ran"
[ $? -eq 137 ] || fail "the denied binary was not killed after the takeover"

# a clean exit keeps enforcing too; a start without the flag takes over and removes it all
stop_agent || fail "the agent did not exit cleanly"
"$CASE_DIR/denied" "$CASE_DIR/ran"
[ $? -eq 137 ] || fail "after a clean exit the denied binary was not killed"
start_agent "${AGENT_ARGS[@]}" --tracing-policy "$deny"
[ ! -e "$PINS" ] && [ ! -e "${PINS}_old" ] || fail "pins left with the flag off: $(find "$PINS" "${PINS}_old" -maxdepth 1 2>&1)"
"$CASE_DIR/denied" "$CASE_DIR/ran"
[ $? -eq 137 ] || fail "the denied binary was not killed by the agent without the flag"
stop_agent || fail "the agent did not exit cleanly"
[ ! -e "$PINS" ] || fail "pins left after an exit without the flag"
"$CASE_DIR/denied" "$CASE_DIR/ran" || fail "enforcement outlived an agent without the flag"
exit 0
