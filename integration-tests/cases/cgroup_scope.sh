#!/usr/bin/env bash
# --cgroup confines an agent to a cgroup v2 subtree: it reports (and enforces) only for
# tasks inside, so that several agents on one host act as separate nodes. A path that is
# not a cgroup v2 directory is refused.
source "$(dirname "$0")/../lib.sh"

CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG2" ] || { echo "SKIP: no cgroup v2 mount"; exit 77; }
CG="$CG2/tetra-it-scope-$$"
mkdir "$CG" || fail "cannot create $CG"
cleanup_cg() {
	cleanup_case
	rmdir "$CG/sub" "$CG" 2>/dev/null
}
trap cleanup_cg EXIT
mkdir "$CG/sub"

out=$("$BIN/tetragon" --cgroup "$CASE_DIR" --server-address "" --server-unix-socket "" 2>&1) &&
	fail "a directory that is not a cgroup was accepted"
grep -q "is not a cgroup v2 directory" <<<"$out" || fail "unclear error: $out"

start_agent --cgroup "$CG" --export-filename "$CASE_DIR/events.json"
cp "$TRIGGERS/marker" "$CASE_DIR/denied"
add_policy "$(policy deny-in-scope "  kprobes:
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

# inside (a child cgroup too) and outside
bash -c "echo \$\$ > '$CG/sub/cgroup.procs' && exec '$TRIGGERS/hello' scope-inside" >/dev/null ||
	fail "the workload inside failed"
"$TRIGGERS/hello" scope-outside >/dev/null || fail "the workload outside failed"
bash -c "echo \$\$ > '$CG/cgroup.procs' && exec '$CASE_DIR/denied' '$CASE_DIR/ran-inside'"
rc=$?
[ $rc -eq 137 ] || fail "the denied binary inside the cgroup exited $rc, not killed"
"$CASE_DIR/denied" "$CASE_DIR/ran-outside" || fail "the denied binary outside the cgroup was killed"
[ -e "$CASE_DIR/ran-outside" ] || fail "the binary outside did not run"

wait_for 10 json_query "$CASE_DIR/events.json" \
	"any(e['process_exec']['process'].get('arguments') == 'scope-inside' for e in find('process_exec'))" ||
	fail "no exec event for the workload inside the cgroup"
json_query "$CASE_DIR/events.json" \
	"not any(e['process_exec']['process'].get('arguments') == 'scope-outside' for e in find('process_exec'))" ||
	fail "an exec event for a process outside the cgroup"
exit 0
