#!/bin/sh
# shellcheck shell=dash
# The product's source documents, verbatim: the policy that kills a `cat` of a secret file
# through fd_install FollowFD (matchPIDs NotIn 1, isNamespacePID, followForks; Prefix on
# the path), __x64_sys_close UnfollowFD and __x64_sys_read Sigkill. Reads of other files
# go on; in monitor mode nothing is killed.
# vmtest-timeout: 300
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
cat >"$TMPDIR/iris.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "iris-read-file-sigkill"
spec:
  kprobes:
  - call: "fd_install"
    syscall: false
    return: false
    args:
    - index: 0
      type: int
    - index: 1
      type: "file"
    selectors:
    - matchPIDs:
      - operator: NotIn
        followForks: true
        isNamespacePID: true
        values:
        - 1
      matchArgs:
      - index: 1
        operator: "Prefix"
        values:
        - "/usr/irissys/secrets/"
        - "/usr/irissys/mgr/iris.key"
      matchActions:
      - action: FollowFD
        argFd: 0
        argName: 1
  - call: "__x64_sys_close"
    syscall: true
    args:
    - index: 0
      type: "int"
    selectors:
    - matchActions:
      - action: UnfollowFD
        argFd: 0
        argName: 0
  - call: "__x64_sys_read"
    syscall: true
    args:
    - index: 0
      type: "fd"
    - index: 1
      type: "char_buf"
      returnCopy: true
    - index: 2
      type: "size_t"
    selectors:
    - matchActions:
      - action: Sigkill
EOF
mkdir -p /usr/irissys/mgr /usr/irissys/secrets
echo "license key" >/usr/irissys/mgr/iris.key
echo "db password" >/usr/irissys/secrets/db
echo "public" >/usr/irissys/mgr/readme
trap 'stop_agent >/dev/null 2>&1; rm -rf /usr/irissys' EXIT

# GNU cat (staged in tools/), which read()s: busybox sh runs its own cat applet, which
# uses sendfile() and never calls read()
run_cat() {
	sh -c "/test/tools/cat $1" >"$TMPDIR/cat.out" 2>&1
	echo $? >"$TMPDIR/cat.rc"
	cat "$TMPDIR/cat.out"
}

start_agent --tracing-policy "$TMPDIR/iris.yaml" || fail "the agent did not start"
tetra tracingpolicy list
tetra getevents -o compact >"$TMPDIR/events.txt" 2>&1 &
events=$!
sleep 2

out=$(run_cat /usr/irissys/mgr/iris.key)
log "cat iris.key: $out (status $(cat "$TMPDIR/cat.rc"))"
case $out in *Killed*) ;; *)
	sleep 2
	grep -E "iris|cat" "$TMPDIR/events.txt" | head -20
	;;
esac
assert_contains "$out" "Killed" "cat of the key file was not killed"
assert_not_contains "$out" "license key" "the key was printed"
out=$(run_cat /usr/irissys/secrets/db)
assert_contains "$out" "Killed" "cat of a secret was not killed"
out=$(run_cat /usr/irissys/mgr/readme)
assert_eq "$out" "public" "cat of another file"
out=$(run_cat /etc/hostname)
assert_eq "$out" "vmtest" "cat of /etc/hostname"
wait_for_line "$TMPDIR/events.txt" "read.*iris.key" 60 || {
	cat "$TMPDIR/events.txt"
	fail "no event for the read of iris.key"
}
grep -E "iris|secrets" "$TMPDIR/events.txt" | head -5

tetra tracingpolicy set-mode iris-read-file-sigkill monitor || fail "set-mode monitor failed"
out=$(run_cat /usr/irissys/mgr/iris.key)
assert_eq "$out" "license key" "monitor mode: cat of the key file"
kill "$events" 2>/dev/null
