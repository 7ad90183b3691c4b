#!/bin/sh
# shellcheck shell=dash
# The product's source documents, verbatim: the fd_install kprobe policy that kills any
# process opening /tmp/tetragon (`cat /tmp/tetragon` prints Killed); in monitor mode it
# does not kill; with --keep-sensors-on-exit it still kills after the agent is interrupted.
# vmtest-timeout: 300
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
cat >"$TMPDIR/enforcement.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
 name: "enforcement"
spec:
 kprobes:
 - call: "fd_install"
   syscall: false
   args:
   - index: 0
     type: int
   - index: 1
     type: "file"
   selectors:
   - matchArgs:
     - index: 1
       operator: "Equal"
       values:
       - "/tmp/tetragon"
     matchActions:
     - action: Sigkill
EOF
echo "the secret" >/tmp/tetragon
BPFDIR=tetragon-vmtest
cleanup() {
	stop_agent >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/$BPFDIR" "/sys/fs/bpf/${BPFDIR}_old"
}
trap cleanup EXIT

# `cat /tmp/tetragon` as a shell runs it: prints Killed when the kernel killed cat
cat_it() {
	sh -c 'cat /tmp/tetragon' >"$TMPDIR/cat.out" 2>&1
	echo $? >"$TMPDIR/cat.rc"
	cat "$TMPDIR/cat.out"
}

start_agent --bpf-dir "$BPFDIR" --keep-sensors-on-exit --state-dir "$TMPDIR/state" \
	--tracing-policy "$TMPDIR/enforcement.yaml" || fail "the agent did not start"
tetra tracingpolicy list >"$TMPDIR/list.txt" 2>&1
cat "$TMPDIR/list.txt"
assert_file_contains "$TMPDIR/list.txt" "fd_install via kprobe" "the hook is not on a kprobe"
tetra getevents -o compact >"$TMPDIR/events.txt" 2>&1 &
events=$!
sleep 2

out=$(cat_it)
log "cat /tmp/tetragon: $out (status $(cat "$TMPDIR/cat.rc"))"
assert_contains "$out" "Killed" "cat /tmp/tetragon was not killed"
assert_eq "$(cat "$TMPDIR/cat.rc")" 137 "cat's exit status"
out=$(cat /etc/hostname 2>&1) || fail "an unrelated cat failed: $out"
wait_for_line "$TMPDIR/events.txt" "fd_install.*/tmp/tetragon" 60 || {
	cat "$TMPDIR/events.txt"
	fail "no compact kprobe event for fd_install /tmp/tetragon"
}
grep "fd_install" "$TMPDIR/events.txt" | head -3

# monitor mode: the same policy does not kill, and says what it would have done
tetra tracingpolicy set-mode enforcement monitor || fail "set-mode monitor failed"
out=$(cat_it)
assert_eq "$out" "the secret" "monitor mode: cat did not print the file"
tetra tracingpolicy set-mode enforcement enforce || fail "set-mode enforce failed"
out=$(cat_it)
assert_contains "$out" "Killed" "back in enforce mode, cat was not killed"
kill "$events" 2>/dev/null

# persistent enforcement: interrupt the agent (Ctrl+C), the policy stays
kill -INT "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=""
out=$(cat_it)
log "after the agent exited: $out"
assert_contains "$out" "Killed" "after the agent was interrupted, cat was not killed"
[ -d "/sys/fs/bpf/$BPFDIR/policies/static_enforcement" ] || fail "no pins for the policy"
