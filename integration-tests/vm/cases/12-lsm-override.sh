#!/bin/sh
# shellcheck shell=dash
# BPF LSM: an lsmhooks file_open policy with Override makes open() fail with EPERM for the
# file it names and for nothing else; monitor mode lets the open through and counts it.
# Also fmod_ret: Override on security_file_open from the kprobes section.
# vmtest-timeout: 300
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
cat >"$TMPDIR/lsm.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "lsm-file-open"
spec:
  lsmhooks:
  - hook: "file_open"
    args:
    - index: 0
      type: "file"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values:
        - "/tmp/lsm-denied"
      matchActions:
      - action: Override
        argError: -1
EOF
cat >"$TMPDIR/fmodret.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "fmodret-file-open"
spec:
  kprobes:
  - call: "security_file_open"
    syscall: false
    args:
    - index: 0
      type: "file"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Postfix"
        values:
        - "/fmod-denied"
      matchActions:
      - action: Override
        argError: -13
EOF
echo data >/tmp/lsm-denied
echo data >/tmp/lsm-allowed
echo data >/tmp/fmod-denied

start_agent --tracing-policy "$TMPDIR/lsm.yaml" --tracing-policy "$TMPDIR/fmodret.yaml" ||
	fail "the agent did not start"
tetra tracingpolicy list >"$TMPDIR/list.txt"
cat "$TMPDIR/list.txt"
assert_file_contains "$TMPDIR/list.txt" "file_open via BPF LSM" "the LSM hook"
assert_file_contains "$TMPDIR/list.txt" "security_file_open via fmod_ret" "the fmod_ret hook"

out=$(cat /tmp/lsm-denied 2>&1) && fail "the LSM policy let the open through: $out"
assert_contains "$out" "Operation not permitted" "the LSM Override error"
out=$(cat /tmp/lsm-allowed 2>&1) || fail "an unrelated open failed: $out"
out=$(cat /tmp/fmod-denied 2>&1) && fail "the fmod_ret policy let the open through: $out"
assert_contains "$out" "Permission denied" "the fmod_ret Override error (EACCES)"

tetra tracingpolicy set-mode lsm-file-open monitor || fail "set-mode failed"
out=$(cat /tmp/lsm-denied 2>&1) || fail "monitor mode blocked the open: $out"
tetra tracingpolicy list -o json >"$TMPDIR/list.json"
assert_file_contains "$TMPDIR/list.json" '"monitor_override"' "no monitor_override counter"
tetra tracingpolicy set-mode lsm-file-open enforce || fail "set-mode failed"
out=$(cat /tmp/lsm-denied 2>&1) && fail "enforce mode again let the open through"
rm -f /tmp/lsm-denied /tmp/lsm-allowed /tmp/fmod-denied
