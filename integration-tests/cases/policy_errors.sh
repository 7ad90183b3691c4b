#!/usr/bin/env bash
# Bad policies get every error with its line and column, change nothing, and the agent
# keeps running: parse errors, load errors (a missing uprobe symbol), and what this kernel
# cannot do (kernel functions, Override, LSM hooks), each refused with the reason.
source "$(dirname "$0")/../lib.sh"

start_agent
cat >"$CASE_DIR/many.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "many-mistakes"
spec:
  kprobes:
  - call: "sys_openat"
    syscal: true
    args:
    - index: 1
      type: "strng"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equl"
        values: ["/etc/passwd"]
      matchActions:
      - action: Sigkil
    - matchPIDs:
      - operator: In
        values: [1, 2, 3, 4, 5]
  tracepoints:
  - subsystem: "sched"
YAML
out=$("$TETRA" tp validate "$CASE_DIR/many.yaml" 2>&1) && fail "validate accepted the bad file"
log "$out"
for want in "many.yaml:8:5: spec.kprobes\[0\].syscal" "many.yaml:11:13: spec.kprobes\[0\].args\[0\].type" \
	"many.yaml:15:19: spec.kprobes\[0\].selectors\[0\].matchArgs\[0\].operator" \
	"many.yaml:18:17: spec.kprobes\[0\].selectors\[0\].matchActions\[0\].action" \
	"spec.kprobes\[0\].selectors\[1\].matchPIDs\[0\].values" "spec.tracepoints\[0\]"; do
	echo "$out" | grep -q "$want" || fail "no error matching '$want'"
done
[ "$(echo "$out" | grep -c 'many.yaml:[0-9]*:[0-9]*:')" -ge 6 ] || fail "not every error was reported"
out=$(tetra tp add "$CASE_DIR/many.yaml" 2>&1) && fail "add accepted the bad file"
echo "$out" | grep -q "many.yaml:15:19" || fail "add did not say where: $out"
tetra status >/dev/null || fail "agent down after a bad policy"

refused() { # WANTED-TEXT POLICY-FILE
	local out
	out=$(tetra tp add "$2" 2>&1) && fail "$(basename "$2") was accepted"
	echo "$out" | grep -q "$1" || fail "$(basename "$2"): expected '$1' in: $out"
	log "$(echo "$out" | tail -1)"
	tetra status >/dev/null || fail "agent down after $(basename "$2")"
}

refused "kprobes or fentry" "$(policy kfunc '  kprobes:
  - call: "fd_install"
    syscall: false
    args:
    - index: 0
      type: "int"')"
refused "bpf_override_return" "$(policy override '  kprobes:
  - call: "sys_openat"
    syscall: true
    args:
    - index: 1
      type: "string"
    selectors:
    - matchActions:
      - action: Override
        argError: -1')"
refused "BPF LSM" "$(policy lsm '  lsmhooks:
  - hook: "file_open"
    args:
    - index: 0
      type: "file"')"
refused "no tracepoint" "$(policy notp '  tracepoints:
  - subsystem: "nosuch"
    event: "event"')"
# compiles, then fails to attach: nothing of it may stay behind
refused "cannot attach a uprobe" "$(policy nosym "  uprobes:
  - path: \"$TRIGGERS/uprobe_target\"
    symbols:
    - \"no_such_function\"
    - \"tetra_test_func\"")"
[ "$(tetra tp list | wc -l)" -eq 1 ] || fail "a refused policy is listed: $(tetra tp list)"
python3 - "$AGENT_PID" <<'PY' || fail "a refused policy left hooks in the kernel"
import glob, json, subprocess, sys
# only this agent's programs: other agents may run on the machine
mine = set()
for f in glob.glob("/proc/%s/fdinfo/*" % sys.argv[1]):
    try:
        for line in open(f):
            if line.startswith("prog_id:"):
                mine.add(int(line.split()[1]))
    except OSError:
        pass
progs = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"]))
for p in progs:
    if p.get("name") != "generic_uprobe" or p.get("id") not in mine:
        continue
    for mid in p.get("map_ids", []):
        m = json.loads(subprocess.check_output(["bpftool", "-j", "map", "show", "id", str(mid)]))
        if m.get("name") in ("hooks", "selectors"):
            entries = json.loads(subprocess.check_output(["bpftool", "-j", "map", "dump", "id", str(mid)]))
            assert entries == [], (m["name"], entries)
PY

# the same name twice
ok=$(policy twice '  kprobes:
  - call: "sys_lseek"
    syscall: true')
add_policy "$ok"
refused "already exists" "$ok"
[ "$(tetra tp list | grep -c twice)" -eq 1 ] || fail "twice is listed twice"

# a bad --tracing-policy keeps the agent from starting, saying where
out=$("$BIN/tetragon" --server-address "127.0.0.1:$(free_port)" --server-unix-socket "$CASE_DIR/b.sock" \
	--tracing-policy "$CASE_DIR/many.yaml" 2>&1) && fail "the agent started with a bad policy"
echo "$out" | grep -q "many.yaml:15:19" || fail "agent start error: $out"
stop_agent || fail "agent exit status"
