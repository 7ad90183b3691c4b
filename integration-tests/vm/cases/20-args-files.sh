#!/bin/sh
# shellcheck shell=dash
# Arguments that are files on kernel-function hooks: file (path, permission, FileType,
# and a resolve of f_path.dentry.d_name.name), path and dentry (security_path_mkdir: a
# dentry's path ends at its mount), kiocb (a tmpfs read), linux_binprm (a setuid
# binary's permission). Matches, non-matches, and Sigkill as the outcome of a file
# selector.
# vmtest-timeout: 180
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
cat >"$TMPDIR/files.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "args-files"
spec:
  kprobes:
  - call: "security_file_open"
    syscall: false
    args:
    - index: 0
      type: "file"
    - index: 0
      type: "string"
      resolve: "f_path.dentry.d_name.name"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Postfix"
        values:
        - "/kill-me"
      matchActions:
      - action: Sigkill
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values:
        - "/tmp/t20/"
      - index: 0
        operator: "FileType"
        values:
        - "reg"
  - call: "security_path_mkdir"
    syscall: false
    args:
    - index: 0
      type: "path"
    - index: 1
      type: "dentry"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values:
        - "/tmp/t20"
  - call: "shmem_file_read_iter"
    syscall: false
    args:
    - index: 0
      type: "kiocb"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "/test/tools/cat"
  - call: "security_bprm_check"
    syscall: false
    args:
    - index: 0
      type: "linux_binprm"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values:
        - "/tmp/t20/"
EOF
mkdir -p /tmp/t20/dir /tmp/t21-other
echo data >/tmp/t20/match
chmod 640 /tmp/t20/match
echo secret >/tmp/t20/kill-me
echo other >/tmp/t21-other/file
cp ./triggers/hello /tmp/t20/hello
chmod 4755 /tmp/t20/hello
trap 'stop_agent >/dev/null 2>&1; rm -rf /tmp/t20 /tmp/t21-other' EXIT

start_agent --tracing-policy "$TMPDIR/files.yaml" || fail "the agent did not start"
tetra getevents -o json >"$TMPDIR/events.json" 2>&1 &
events=$!
subscribed() { tetra status 2>/dev/null | grep -Eq 'grpc.subscribers +[1-9]'; }
wait_until 30 subscribed || fail "tetra getevents did not subscribe"

# the kprobe event of function $1 whose line also matches ERE $2
event() {
	grep "\"function_name\":\"$1\"" "$TMPDIR/events.json" | grep -E -- "$2" | head -1
}

cat /tmp/t20/match >/dev/null || fail "cat /tmp/t20/match failed"
# GNU cat read()s (busybox's sendfile()s)
/test/tools/cat /tmp/t20/match >/dev/null || fail "/test/tools/cat /tmp/t20/match failed"
ls /tmp/t20/dir >/dev/null
cat /tmp/t21-other/file >/dev/null
mkdir /tmp/t20/newdir
/tmp/t20/hello >/dev/null 2>&1
sh -c 'cat /tmp/t20/kill-me' >"$TMPDIR/kill.out" 2>&1
echo $? >"$TMPDIR/kill.rc"

wait_for_line "$TMPDIR/events.json" '"/tmp/t20/kill-me"' 60 || {
	grep -v '"process_ex' "$TMPDIR/events.json"
	tail -n 30 "$AGENT_LOG"
	fail "no event for the Sigkill selector"
}
# the last one: the events before it have arrived too
sleep 1

line=$(event security_file_open '"path":"/tmp/t20/match"')
log "file: $line"
assert_contains "$line" '"file_arg":{"path":"/tmp/t20/match","permission":"-rw-r-----"}' \
	"file argument"
assert_contains "$line" '{"string_arg":"match"}' "resolve f_path.dentry.d_name.name"
assert_eq "$(event security_file_open '"/tmp/t20/dir"')" "" "FileType reg let a directory through"
assert_eq "$(event security_file_open '/tmp/t21-other')" "" "Prefix let another file through"

line=$(event shmem_file_read_iter '"file_arg":\{"path":"/tmp/t20/match"')
log "read: $line"
assert_contains "$line" '{"file_arg":{"path":"/tmp/t20/match","permission":"-rw-r-----"}}' \
	"kiocb argument"

line=$(event security_path_mkdir 'newdir')
log "mkdir: $line"
assert_contains "$line" '{"path_arg":{"path":"/tmp/t20","permission":"drwxr-xr-x"}}' "path argument"
# /tmp is a tmpfs of its own: the dentry's path starts at its root
assert_contains "$line" '{"path_arg":{"path":"/t20/newdir"' "dentry argument"

line=$(event security_bprm_check 'hello')
log "exec: $line"
assert_contains "$line" '"linux_binprm_arg":{"path":"/tmp/t20/hello","permission":"-rwsr-xr-x"}' \
	"linux_binprm argument"

line=$(event security_file_open '"/tmp/t20/kill-me"')
assert_contains "$line" '"action":"KPROBE_ACTION_SIGKILL"' "Sigkill action"
assert_eq "$(cat "$TMPDIR/kill.rc")" 137 "status of the cat that opened kill-me"
assert_not_contains "$(cat "$TMPDIR/kill.out")" "secret" "kill-me was read"
kill "$events" 2>/dev/null
