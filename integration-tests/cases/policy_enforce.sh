#!/usr/bin/env bash
# Enforcement on this kernel: Sigkill on execve means the binary never runs, Sigkill on
# write means zero bytes are written. Monitor mode lets the process live, counts what it
# would have done and says so in the event; switching to enforce at run time starts
# killing without reloading a program; disable and enable work the same way.
source "$(dirname "$0")/../lib.sh"

start_agent
start_events "$CASE_DIR/events.json"
cp "$TRIGGERS/marker" "$CASE_DIR/denied"

add_policy "$(policy deny-exec "  kprobes:
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
      - action: Sigkill")"
"$CASE_DIR/denied" "$CASE_DIR/ran"
rc=$?
[ $rc -eq 137 ] || fail "the denied binary exited $rc, not killed"
[ ! -e "$CASE_DIR/ran" ] || fail "the denied binary ran"
"$TRIGGERS/marker" "$CASE_DIR/allowed" || fail "an allowed binary was stopped"
[ -e "$CASE_DIR/allowed" ] || fail "the allowed binary did not run"

add_policy "$(policy deny-write "  kprobes:
  - call: sys_write
    syscall: true
    args:
    - index: 0
      type: fd
    - index: 2
      type: size_t
    selectors:
    - matchArgs:
      - index: 0
        operator: Postfix
        values: [\"/victim\"]
      matchActions:
      - action: Sigkill")" --mode monitor
tetra tp list | grep -q "deny-write .* monitor " || fail "deny-write is not in monitor mode: $(tetra tp list)"

# monitor: the write happens, the counter moves, the event says what would have happened
"$TRIGGERS/sysc" "write:$CASE_DIR/victim:hello"
rc=$?
[ $rc -eq 0 ] || fail "monitor mode killed the writer (rc=$rc)"
[ "$(cat "$CASE_DIR/victim")" = hello ] || fail "monitor mode: the write did not happen"
wait_counter deny-write monitor_signal 1 || fail "monitor_signal did not move"
[ "$(policy_counter deny-write signal)" -eq 0 ] || fail "a signal was counted in monitor mode"
wait_for 10 json_query "$CASE_DIR/events.json" \
	"any(e['process_kprobe']['action'] == 'KPROBE_ACTION_SIGKILL' and 'monitor-mode' in e['process_kprobe'].get('tags', []) for e in events if e.get('process_kprobe', {}).get('policy_name') == 'deny-write')" ||
	fail "no monitor-mode event saying SIGKILL"

# enforce at run time: same programs, same links
progs_before=$(bpftool prog show | grep -c 'name generic_tp ')
ids_before=$(bpftool prog show | awk '/name generic_tp /{print $1}' | sort | tr '\n' ' ')
tetra tp set-mode deny-write enforce >/dev/null || fail "set-mode enforce failed"
rm -f "$CASE_DIR/victim"
"$TRIGGERS/sysc" "write:$CASE_DIR/victim:hello"
rc=$?
[ $rc -eq 137 ] || fail "enforce mode did not kill the writer (rc=$rc)"
[ ! -s "$CASE_DIR/victim" ] || fail "enforce mode: $(stat -c %s "$CASE_DIR/victim") bytes were written"
ids_after=$(bpftool prog show | awk '/name generic_tp /{print $1}' | sort | tr '\n' ' ')
[ "$ids_before" = "$ids_after" ] || fail "programs were reloaded: [$ids_before] -> [$ids_after]"
log "programs kept: $progs_before generic_tp [$ids_after]"
[ "$(policy_counter deny-write signal)" -ge 1 ] || fail "signal counter did not move"

# disable: nothing happens; enable: enforcement is back
tetra tp disable deny-write >/dev/null || fail "disable failed"
tetra tp list | grep -q "deny-write .*disabled" || fail "not disabled: $(tetra tp list)"
"$TRIGGERS/sysc" "write:$CASE_DIR/victim:again" || fail "a disabled policy killed"
[ "$(cat "$CASE_DIR/victim")" = again ] || fail "disabled: the write did not happen"
tetra tp enable deny-write >/dev/null || fail "enable failed"
"$TRIGGERS/sysc" "write:$CASE_DIR/victim:third"
[ $? -eq 137 ] || fail "an enabled policy did not kill"

# delete: gone from the list and from the kernel
tetra tp delete deny-write >/dev/null || fail "delete failed"
tetra tp delete deny-exec >/dev/null || fail "delete failed"
[ "$(tetra tp list | wc -l)" -eq 1 ] || fail "policies left: $(tetra tp list)"
"$TRIGGERS/sysc" "write:$CASE_DIR/victim:fourth" || fail "a deleted policy still kills"
"$CASE_DIR/denied" "$CASE_DIR/ran" || fail "a deleted policy still kills on exec"
[ -e "$CASE_DIR/ran" ] || fail "the formerly denied binary did not run"
stop_agent || fail "agent exit status"
