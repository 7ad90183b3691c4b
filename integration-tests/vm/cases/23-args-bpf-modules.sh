#!/bin/sh
# shellcheck shell=dash
# BPF, perf and module arguments on kernel-function hooks: bpf_map (bpftool map create),
# bpf_prog (bpftool prog show opens the agent's programs), bpf_attr of a BPF_PROG_LOAD
# and perf_event of a kprobe (the agent loading a second policy: an fentry program and a
# single kprobe), module and load_info when a module can be loaded (VMTEST_MODULES),
# else module through module_refcount when one is loaded. Non-matches: bpf() commands
# other than BPF_PROG_LOAD; and a copy of bpftool is killed when it creates a map.
# vmtest-timeout: 180
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
command -v bpftool >/dev/null || skip "no bpftool in the guest"
BPFTOOL=$(command -v bpftool)
mkdir -p /tmp/t23
cp "$BPFTOOL" /tmp/t23/bpftool-deny
trap 'stop_agent >/dev/null 2>&1; rm -rf /tmp/t23 /sys/fs/bpf/t23map /sys/fs/bpf/t23deny' EXIT
cat >"$TMPDIR/bpf.yaml" <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "args-bpf"
spec:
  kprobes:
  - call: "security_bpf"
    syscall: false
    args:
    - index: 0
      type: "bpf_cmd"
    - index: 1
      type: "bpf_attr"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values:
        - "BPF_PROG_LOAD"
      matchBinaries:
      - operator: "In"
        values:
        - "$(pwd)/bin/tetragon"
  - call: "security_bpf_map"
    syscall: false
    args:
    - index: 0
      type: "bpf_map"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "/tmp/t23/bpftool-deny"
      matchActions:
      - action: Sigkill
    - matchBinaries:
      - operator: "In"
        values:
        - "$BPFTOOL"
  - call: "security_bpf_prog"
    syscall: false
    args:
    - index: 0
      type: "bpf_prog"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "$BPFTOOL"
  - call: "security_perf_event_alloc"
    syscall: false
    args:
    - index: 0
      type: "perf_event"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "$(pwd)/bin/tetragon"
  - call: "mod_sysfs_setup"
    syscall: false
    args:
    - index: 0
      type: "module"
    - index: 1
      type: "load_info"
  - call: "module_refcount"
    syscall: false
    args:
    - index: 0
      type: "module"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "/test/tools/cat"
EOF
# loaded by the agent while the first policy watches: an fentry program (BPF_PROG_LOAD)
# and a single kprobe (a perf event of the kprobe PMU)
cat >"$TMPDIR/second.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "args-bpf-second"
spec:
  options:
  - name: "disable-kprobe-multi"
    value: "1"
  fentries:
  - call: "security_task_prctl"
    syscall: false
  kprobes:
  - call: "security_task_getsid"
    syscall: false
EOF

start_agent --tracing-policy "$TMPDIR/bpf.yaml" || fail "the agent did not start"
tetra getevents -o json >"$TMPDIR/events.json" 2>&1 &
events=$!
subscribed() { tetra status 2>/dev/null | grep -Eq 'grpc.subscribers +[1-9]'; }
wait_until 30 subscribed || fail "tetra getevents did not subscribe"

event() {
	grep "\"function_name\":\"$1\"" "$TMPDIR/events.json" | grep -E -- "$2" | head -1
}

bpftool map create /sys/fs/bpf/t23map type hash key 4 value 8 entries 16 name t23map ||
	fail "bpftool map create failed"
bpftool prog show >/dev/null || fail "bpftool prog show failed"
tetra tracingpolicy add "$TMPDIR/second.yaml" || fail "adding the second policy failed"

# a module: reload one of those loaded at boot (VMTEST_MODULES), or read /proc/modules
module=""
for ko in /lib/modules/vmtest/*.ko; do
	[ -e "$ko" ] || break
	m=$(basename "$ko" .ko)
	if rmmod "$m" 2>/dev/null; then
		insmod "$ko" || fail "insmod $ko failed"
		module=$m
		break
	fi
done
if [ -z "$module" ] && [ -s /proc/modules ]; then
	/test/tools/cat /proc/modules >/dev/null
	read -r module _ </proc/modules
	module_hook=module_refcount
else
	module_hook=mod_sysfs_setup
fi

/tmp/t23/bpftool-deny map create /sys/fs/bpf/t23deny type array key 4 value 4 entries 1 \
	name t23deny >/dev/null 2>&1
echo $? >"$TMPDIR/kill.rc"
wait_for_line "$TMPDIR/events.json" '"binary":"/tmp/t23/bpftool-deny"' 60 || {
	grep -v '"process_ex' "$TMPDIR/events.json"
	tail -n 30 "$AGENT_LOG"
	fail "no event for the Sigkill selector"
}
# the last trigger's event is in: the earlier ones are too (let its line end)
sleep 0.5

line=$(event security_bpf_map '"MapName":"t23map"')
log "bpf_map: $line"
assert_contains "$line" \
	'{"bpf_map_arg":{"MapType":"BPF_MAP_TYPE_HASH","KeySize":4,"ValueSize":8,"MaxEntries":16,"MapName":"t23map"}}' \
	"bpf_map argument"

line=$(event security_bpf_prog '"ProgName":"generic_kprobe"')
log "bpf_prog: $line"
echo "$line" | grep -qE '\{"bpf_prog_arg":\{"ProgType":"BPF_PROG_TYPE_KPROBE","InsnCnt":[1-9][0-9]*,"ProgName":"generic_kprobe"\}\}' ||
	fail "bpf_prog argument: $line"

line=$(event security_bpf '"ProgName":"generic_fentry"')
log "bpf_attr: $line"
echo "$line" | grep -qE '\{"bpf_cmd_arg":"BPF_PROG_LOAD"\},\{"bpf_attr_arg":\{"ProgType":"BPF_PROG_TYPE_TRACING","InsnCnt":[1-9][0-9]*,"ProgName":"generic_fentry"\}\}' ||
	fail "bpf_attr argument: $line"
assert_eq "$(event security_bpf 'BPF_MAP_CREATE')" "" "a bpf() command other than BPF_PROG_LOAD"

line=$(event security_perf_event_alloc '"KprobeFunc":"security_task_getsid"')
log "perf_event: $line"
assert_contains "$line" '{"perf_event_arg":{"KprobeFunc":"security_task_getsid","Type":' \
	"perf_event argument"

if [ -n "$module" ]; then
	line=$(event $module_hook "\"name\":\"$module\"")
	log "module ($module_hook): $line"
	assert_contains "$line" "{\"module_arg\":{\"name\":\"$module\"" "module argument"
	if [ "$module_hook" = mod_sysfs_setup ]; then
		# Debian's modules are signed with a key the kernel has
		assert_contains "$line" "{\"module_arg\":{\"name\":\"$module\",\"signature_ok\":true}},{\"module_arg\":{\"name\":\"$module\",\"signature_ok\":true}}" \
			"module and load_info arguments"
	fi
else
	log "no module is loaded and none can be: module and load_info not exercised (set VMTEST_MODULES)"
fi

line=$(event security_bpf_map '"binary":"/tmp/t23/bpftool-deny"')
assert_contains "$line" '"action":"KPROBE_ACTION_SIGKILL"' "Sigkill action"
assert_eq "$(cat "$TMPDIR/kill.rc")" 137 "status of the killed bpftool"
[ -e /sys/fs/bpf/t23deny ] && fail "the killed bpftool pinned its map"
kill "$events" 2>/dev/null
