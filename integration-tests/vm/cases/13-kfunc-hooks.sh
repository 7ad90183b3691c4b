#!/bin/sh
# shellcheck shell=dash
# Kernel-function hooks, one of each kind, each with a match, a non-match and an outcome:
# kprobe.multi (where the kernel has it, single kprobes otherwise) with a kretprobe and
# its return value, syscall: true through the syscall wrapper, single kprobes with
# disable-kprobe-multi and Sigkill (and monitor mode), fentries with fexit, and
# ignore.callNotFound.
# vmtest-timeout: 300
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
cat >"$TMPDIR/multi.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kfunc-multi"
spec:
  kprobes:
  - call: "security_file_open"
    syscall: false
    return: true
    args:
    - index: 0
      type: "file"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Postfix"
        values:
        - "/kret-target"
  - call: "sys_openat"
    syscall: true
    args:
    - index: 1
      type: "string"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values:
        - "/tmp/sys-openat-target"
  - call: "no_such_function_in_any_kernel"
    syscall: false
    ignore:
      callNotFound: true
EOF
cat >"$TMPDIR/single.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kfunc-single"
spec:
  options:
  - name: "disable-kprobe-multi"
    value: "1"
  kprobes:
  - call: "security_file_permission"
    syscall: false
    args:
    - index: 0
      type: "file"
    - index: 1
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values:
        - "/tmp/kprobe-kill"
      matchActions:
      - action: Sigkill
EOF
cat >"$TMPDIR/fentry.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kfunc-fentry"
spec:
  fentries:
  - call: "security_inode_getattr"
    syscall: false
    return: true
    args:
    - index: 0
      type: "path"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Postfix"
        values:
        - "/fentry-target"
EOF
cat >"$TMPDIR/missing.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kfunc-missing"
spec:
  kprobes:
  - call: "no_such_function_in_any_kernel"
    syscall: false
EOF
touch /tmp/kret-target /tmp/kret-other /tmp/sys-openat-target /tmp/fentry-target /tmp/fentry-other
trap 'stop_agent >/dev/null 2>&1; rm -f /tmp/kret-* /tmp/sys-openat-target /tmp/fentry-* /tmp/kprobe-kill' EXIT

start_agent --tracing-policy "$TMPDIR/multi.yaml" --tracing-policy "$TMPDIR/single.yaml" \
	--tracing-policy "$TMPDIR/fentry.yaml" || fail "the agent did not start"
tetra tracingpolicy list >"$TMPDIR/list.txt"
cat "$TMPDIR/list.txt"
if grep -q '^CONFIG_FPROBE=y' "/boot/config-$(uname -r)"; then
	assert_file_contains "$TMPDIR/list.txt" "security_file_open via kprobe.multi \+ kretprobe.multi"
	assert_file_contains "$TMPDIR/list.txt" "__x64_sys_openat via kprobe.multi"
else
	assert_file_contains "$TMPDIR/list.txt" "security_file_open via kprobe \+ kretprobe"
	assert_file_contains "$TMPDIR/list.txt" "__x64_sys_openat via kprobe$"
fi
assert_file_contains "$TMPDIR/list.txt" "security_file_permission via kprobe$" "disable-kprobe-multi"
assert_file_contains "$TMPDIR/list.txt" "security_inode_getattr via fentry \+ fexit"
assert_file_contains "$TMPDIR/list.txt" "no_such_function_in_any_kernel: not found, ignored"

out=$(tetra tracingpolicy add "$TMPDIR/missing.yaml" 2>&1) && fail "a missing function was accepted"
assert_contains "$out" "no_such_function_in_any_kernel" "the error names the function"
assert_contains "$out" "missing.yaml:7:11:" "the error has file:line:col"

tetra getevents -o json >"$TMPDIR/events.json" 2>&1 &
events=$!
sleep 2
# one process per file: events carry the process's arguments, which name the file
for f in kret-target kret-other sys-openat-target; do
	./triggers/sysc "open:/tmp/$f" || fail "sysc open:/tmp/$f failed"
done
ls -l /tmp/fentry-target >/dev/null
ls -l /tmp/fentry-other >/dev/null
./triggers/sysc write:/tmp/kprobe-kill:x
rc=$?
assert_eq "$rc" 137 "the write to /tmp/kprobe-kill was not killed"
./triggers/sysc write:/tmp/kprobe-other:x || fail "an unrelated write was killed"

wait_for_line "$TMPDIR/events.json" '"policy_name":"kfunc-fentry"' 60 || fail "no fentry event"
sleep 1
kill "$events" 2>/dev/null
ev() { grep "\"policy_name\":\"$1\"" "$TMPDIR/events.json"; }
ev kfunc-multi | grep -q '"function_name":"security_file_open".*kret-target' ||
	fail "no kretprobe event for kret-target: $(ev kfunc-multi | head -3)"
ev kfunc-multi | grep '"function_name":"security_file_open"' | grep -q '"return":{"int_arg":0' ||
	fail "the kretprobe event has no return value 0: $(ev kfunc-multi | head -2)"
ev kfunc-multi | grep -q 'kret-other' && fail "an event for a file the selector does not match"
ev kfunc-multi | grep -q '"function_name":"__x64_sys_openat".*"/tmp/sys-openat-target"' ||
	fail "no syscall kprobe event with the user-space path"
ev kfunc-single | grep -q '"action":"KPROBE_ACTION_SIGKILL"' || fail "no Sigkill event"
ev kfunc-fentry | grep -q 'fentry-target' || fail "no fentry event for fentry-target"
ev kfunc-fentry | grep -q 'fentry-other' && fail "an fentry event for a non-matching path"

tetra tracingpolicy set-mode kfunc-single monitor || fail "set-mode failed"
./triggers/sysc write:/tmp/kprobe-kill:x || fail "monitor mode killed the writer"
