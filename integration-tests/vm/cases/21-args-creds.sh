#!/bin/sh
# shellcheck shell=dash
# Credentials on kernel-function hooks: cred (process_credentials_arg: ids,
# capabilities, user namespace), user_namespace, capability, and kernel_cap_t,
# cap_effective and cap_permitted (security_capset when a capability is dropped; and
# the old cred's effective set through resolve). A match, a non-match, and Sigkill of a copy of sysc
# when it asks for CAP_SYS_ADMIN.
# vmtest-timeout: 180
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
mkdir -p /tmp/t21
cp ./triggers/sysc /tmp/t21/sysc-kill
trap 'stop_agent >/dev/null 2>&1; rm -rf /tmp/t21' EXIT
cat >"$TMPDIR/creds.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "args-creds"
spec:
  kprobes:
  - call: "cap_capable"
    syscall: false
    args:
    - index: 0
      type: "cred"
    - index: 1
      type: "user_namespace"
    - index: 2
      type: "capability"
    - index: 3
      type: "uint32"
    selectors:
    # capable() itself (opts 0), not the silent checks of exec and mmap
    - matchArgs:
      - index: 2
        operator: "Equal"
        values:
        - "CAP_SYS_ADMIN"
      - index: 3
        operator: "Equal"
        values:
        - "0"
      matchBinaries:
      - operator: "In"
        values:
        - "/tmp/t21/sysc-kill"
      matchActions:
      - action: Sigkill
    - matchArgs:
      - index: 2
        operator: "Equal"
        values:
        - "CAP_SYS_ADMIN"
      - index: 3
        operator: "Equal"
        values:
        - "0"
      matchBinaries:
      - operator: "In"
        values:
        - "/test/triggers/sysc"
  - call: "security_capset"
    syscall: false
    args:
    - index: 0
      type: "cred"
    - index: 2
      type: "cap_effective"
    - index: 4
      type: "cap_permitted"
    - index: 1
      type: "kernel_cap_t"
      resolve: "cap_effective"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "/test/triggers/sysc"
EOF

start_agent --tracing-policy "$TMPDIR/creds.yaml" || fail "the agent did not start"
tetra getevents -o json >"$TMPDIR/events.json" 2>&1 &
events=$!
subscribed() { tetra status 2>/dev/null | grep -Eq 'grpc.subscribers +[1-9]'; }
wait_until 30 subscribed || fail "tetra getevents did not subscribe"

event() {
	grep "\"function_name\":\"$1\"" "$TMPDIR/events.json" | grep -E -- "$2" | head -1
}

./triggers/sysc unshare:mnt || fail "sysc unshare:mnt failed"
./triggers/sysc getppid
./triggers/sysc dropcap:21 || fail "sysc dropcap:21 failed"
/tmp/t21/sysc-kill unshare:mnt
echo $? >"$TMPDIR/kill.rc"
wait_for_line "$TMPDIR/events.json" '"binary":"/tmp/t21/sysc-kill"' 60 || {
	grep -v '"process_ex' "$TMPDIR/events.json"
	tail -n 30 "$AGENT_LOG"
	fail "no event for the Sigkill selector"
}
# the last trigger's event is in: the earlier ones are too (let its line end)
sleep 0.5

userns=$(readlink /proc/self/ns/user)
userns=${userns#user:[}
userns=${userns%]}
line=$(event cap_capable '"arguments":"unshare:mnt"')
log "cap_capable: $line"
assert_contains "$line" '{"capability_arg":{"value":21,"name":"CAP_SYS_ADMIN"}}' "capability argument"
assert_contains "$line" '"process_credentials_arg":{"uid":0,"gid":0,"euid":0,"egid":0,"suid":0,"sgid":0,"fsuid":0,"fsgid":0,' \
	"cred argument: ids"
assert_contains "$line" '"effective":["CAP_CHOWN",' "cred argument: capabilities"
assert_contains "$line" '"CAP_SYS_ADMIN",' "cred argument: CAP_SYS_ADMIN"
assert_contains "$line" "\"user_ns\":{\"level\":0,\"uid\":0,\"gid\":0,\"ns\":{\"inum\":$userns,\"is_host\":true}}" \
	"cred argument: user namespace"
assert_contains "$line" "{\"user_ns_arg\":{\"level\":0,\"uid\":0,\"gid\":0,\"ns\":{\"inum\":$userns,\"is_host\":true}}}" \
	"user_namespace argument"
assert_eq "$(event cap_capable '"arguments":"getppid"')" "" "a sysc that asked for no capability"

# all 41 capabilities but CAP_SYS_ADMIN (21) in the new effective set
line=$(event security_capset '"arguments":"dropcap:21"')
log "capset: $line"
assert_contains "$line" '{"cap_effective_arg":"000001ffffdfffff"}' "cap_effective argument"
assert_contains "$line" '{"cap_permitted_arg":"000001ffffffffff"}' "cap_permitted argument"
# the old cred's, through resolve: all of them
assert_contains "$line" '{"kernel_cap_t_arg":"000001ffffffffff"}' "kernel_cap_t through resolve"

line=$(event cap_capable '"binary":"/tmp/t21/sysc-kill"')
assert_contains "$line" '"action":"KPROBE_ACTION_SIGKILL"' "Sigkill action"
assert_eq "$(cat "$TMPDIR/kill.rc")" 137 "status of the killed sysc"
kill "$events" 2>/dev/null
