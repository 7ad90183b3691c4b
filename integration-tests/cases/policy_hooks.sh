#!/usr/bin/env bash
# The hooks this kernel offers: tracepoints with arguments by their tracefs field index
# (integers, inline char arrays, __data_loc strings), raw tracepoints with BTF-typed
# arguments, uprobes and uretprobes; and policies from --tracing-policy-dir.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$CASE_DIR/tp.d/nested"
cat >"$CASE_DIR/tp.d/signal.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "signals"
spec:
  tracepoints:
  - subsystem: "signal"
    event: "signal_generate"
    args:
    - index: 4
      type: "int"
      label: "sig"
    - index: 7
    - index: 8
      type: "int32"
    selectors:
    - matchArgs:
      - index: 4
        operator: "Equal"
        values: ["10"]
YAML
cat >"$CASE_DIR/tp.d/nested/exec.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "exec-tp"
spec:
  tracepoints:
  - subsystem: "sched"
    event: "sched_process_exec"
    args:
    - index: 4
    selectors:
    - matchArgs:
      - index: 4
        operator: "Postfix"
        values: ["/marker"]
  - subsystem: "sched"
    event: "sched_process_exec"
    raw: true
    args:
    - index: 2
      type: "linux_binprm"
    selectors:
    - matchArgs:
      - index: 2
        operator: "Prefix"
        values: ["$TRIGGERS/"]
YAML
start_agent --tracing-policy-dir "$CASE_DIR/tp.d"
[ "$(tetra tp list | grep -cE '^[0-9]+ +(signals|exec-tp) ')" -eq 2 ] ||
	fail "the directory's policies are not all loaded: $(tetra tp list)"
start_events "$CASE_DIR/events.json"

add_policy "$(policy uprobes "  uprobes:
  - path: \"$TRIGGERS/uprobe_target\"
    symbols:
    - \"tetra_test_func\"
    return: true
    args:
    - index: 0
      type: \"int\"
    - index: 1
      type: \"string\"
    returnArg:
      index: 0
      type: \"int\"
    selectors:
    - matchArgs:
      - index: 0
        operator: \"GT\"
        values: [\"10\"]")"

# ignoring USR1 (inherited through exec), so that the TERM after it is generated too
sh -c 'trap "" USR1; exec sleep 60' &
victim=$!
CASE_PIDS+=("$victim")
wait_for 5 grep -qx sleep /proc/$victim/comm || fail "sleep did not start"
kill -USR1 $victim
kill -TERM $victim
"$TRIGGERS/marker" "$CASE_DIR/m1"
"$TRIGGERS/uprobe_target" 5 small
"$TRIGGERS/uprobe_target" 42 hello

q() { json_query "$CASE_DIR/events.json" "$1"; }
wait_for 10 q "any(e.get('process_tracepoint', {}).get('event') == 'signal_generate' for e in events)" ||
	fail "no signal_generate event"
q "[ [a.get('int_arg'), a.get('string_arg'), a.get('label')] for a in [e['process_tracepoint'] for e in events if e.get('process_tracepoint', {}).get('event') == 'signal_generate'][0]['args'] ] == [[10, None, 'sig'], [None, 'sleep', None], [$victim, None, None]]" ||
	fail "signal_generate args: $(grep signal_generate "$CASE_DIR/events.json" | head -1)"
q "len([e for e in events if e.get('process_tracepoint', {}).get('event') == 'signal_generate']) == 1" ||
	fail "the SIGTERM passed the sig filter"

wait_for 10 q "any(e.get('process_tracepoint', {}).get('event') == 'sched_process_exec' and e['process_tracepoint']['args'][0].get('string_arg') == '$TRIGGERS/marker' for e in events)" ||
	fail "no sched_process_exec event with the __data_loc filename"
wait_for 10 q "any(e.get('process_tracepoint', {}).get('policy_name') == 'exec-tp' and e['process_tracepoint']['args'][0].get('linux_binprm_arg', {}).get('path') == '$TRIGGERS/uprobe_target' for e in events)" ||
	fail "no raw tracepoint event with the linux_binprm path"

wait_for 10 q "any(e.get('process_uprobe', {}).get('symbol') == 'tetra_test_func' for e in events)" ||
	fail "no uprobe event"
q "[ [a.get('int_arg'), a.get('string_arg'), a.get('label')] for a in [e['process_uprobe'] for e in events if 'process_uprobe' in e][0]['args'] ] == [[42, None, None], [None, 'hello', None], [47, None, 'return']]" ||
	fail "uprobe args: $(grep process_uprobe "$CASE_DIR/events.json" | head -1)"
q "len([e for e in events if 'process_uprobe' in e]) == 1" || fail "the uprobe selector let 5 through"
