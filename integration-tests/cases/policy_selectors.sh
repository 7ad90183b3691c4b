#!/usr/bin/env bash
# Selectors other than matchArgs, each with a match and a non-match: matchPIDs (In, NotIn,
# followForks, isNamespacePID), matchBinaries (In, NotIn, Prefix, Postfix, followChildren),
# matchParentBinaries, matchNamespaces, matchNamespaceChanges, matchCapabilities,
# matchCapabilityChanges; selectorsMacros; several selectors (first match wins, labels count).
source "$(dirname "$0")/../lib.sh"

start_agent
start_events "$CASE_DIR/events.json"
SYSC="$TRIGGERS/sysc"
cp "$SYSC" "$CASE_DIR/parentbin"
cp "$SYSC" "$CASE_DIR/sysc2"

# lseek OFFSET-hook with a selector body (indented 4 spaces)
lseek_policy() { # NAME SELECTOR-LINES
	add_policy "$(policy "$1" "  kprobes:
  - call: sys_lseek
    syscall: true
    args:
    - index: 1
      type: int64
    selectors:
$2")"
}
# the offsets a policy saw, from any binary
seen() { # POLICY
	python3 - "$CASE_DIR/events.json" "$1" <<'PY'
import json, sys
vals = set()
for l in open(sys.argv[1]):
    e = json.loads(l).get("process_kprobe")
    if e and e.get("policy_name") == sys.argv[2]:
        vals.add(str(e["args"][0]["long_arg"]))
print(" ".join(sorted(vals, key=int)))
PY
}
expect_seen() { # POLICY EXPECTED
	local got
	for _ in $(seq 50); do
		got=$(seen "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 saw [$got], expected [$2]"
}

# --- matchPIDs
"$SYSC" sleep:4000 lseek:7001 fork lseek:7002 &
target=$!
CASE_PIDS+=("$target")
lseek_policy pid-in "    - matchPIDs:
      - operator: In
        values: [$target]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"7000:7999\"]}"
lseek_policy pid-forks "    - matchPIDs:
      - operator: In
        followForks: true
        values: [$target]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"7000:7999\"]}"
lseek_policy pid-notin "    - matchPIDs:
      - operator: NotIn
        values: [$target]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"7000:7999\"]}"
lseek_policy pid-ns "    - matchPIDs:
      - operator: In
        isNamespacePID: true
        values: [1]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"7000:7999\"]}"
wait $target
"$SYSC" lseek:7003
unshare --pid --fork "$SYSC" lseek:7004 || fail "unshare --pid failed"
expect_seen pid-in "7001"
expect_seen pid-forks "7001 7002"
expect_seen pid-notin "7002 7003 7004"
expect_seen pid-ns "7004"

# --- matchBinaries and matchParentBinaries
bin_policy() { # NAME OPERATOR VALUE [followChildren]
	lseek_policy "$1" "    - matchBinaries:
      - operator: $2
        values: [\"$3\"]${4:+
        followChildren: true}
      matchArgs:
      - {index: 1, operator: InRange, values: [\"8000:8999\"]}"
}
bin_policy bin-in In "$SYSC"
bin_policy bin-notin NotIn "$SYSC"
bin_policy bin-prefix Prefix "$CASE_DIR/"
bin_policy bin-postfix Postfix "/sysc2"
bin_policy bin-children In "$CASE_DIR/parentbin" yes
lseek_policy bin-parent "    - matchParentBinaries:
      - operator: In
        values: [\"$CASE_DIR/parentbin\"]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"8000:8999\"]}"
"$SYSC" lseek:8001
"$CASE_DIR/sysc2" lseek:8002
"$CASE_DIR/parentbin" fork "exec:$SYSC,lseek:8003"
expect_seen bin-in "8001 8003"
expect_seen bin-notin "8002"
expect_seen bin-prefix "8002"
expect_seen bin-postfix "8002"
expect_seen bin-children "8003"
expect_seen bin-parent "8003"

# --- namespaces and their changes
lseek_policy ns-host "    - matchNamespaces:
      - namespace: Net
        operator: In
        values: [host_ns]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"9000:9099\"]}"
lseek_policy ns-other "    - matchNamespaces:
      - namespace: Net
        operator: NotIn
        values: [host_ns]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"9000:9099\"]}"
lseek_policy ns-change "    - matchNamespaceChanges:
      - operator: In
        values: [Mnt]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"9000:9099\"]}"
"$SYSC" lseek:9001
unshare --net "$SYSC" lseek:9002 || fail "unshare --net failed"
"$SYSC" unshare:mnt lseek:9003 || fail "sysc could not unshare its mount namespace"
expect_seen ns-host "9001 9003"
expect_seen ns-other "9002"
expect_seen ns-change "9003"

# --- capabilities and their changes (CAP_SYS_ADMIN = 21, CAP_NET_RAW = 13)
lseek_policy cap-admin "    - matchCapabilities:
      - type: Effective
        operator: In
        values: [CAP_SYS_ADMIN]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"9100:9199\"]}"
lseek_policy cap-none "    - matchCapabilities:
      - type: Effective
        operator: NotIn
        values: [CAP_SYS_ADMIN]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"9100:9199\"]}"
lseek_policy cap-change "    - matchCapabilityChanges:
      - type: Effective
        operator: In
        values: [CAP_NET_RAW]
      matchArgs:
      - {index: 1, operator: InRange, values: [\"9100:9199\"]}"
"$SYSC" lseek:9101
setpriv --reuid=65534 --regid=65534 --clear-groups "$SYSC" lseek:9102 || fail "setpriv failed"
"$SYSC" dropcap:13 lseek:9103 || fail "sysc could not drop a capability"
expect_seen cap-admin "9101 9103"
expect_seen cap-none "9102"
expect_seen cap-change "9103"

# --- macros, several selectors, labels
cat >"$CASE_DIR/macro.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: macro-first
spec:
  selectorsMacros:
    onlysysc:
      matchBinaries:
      - operator: In
        values: ["$SYSC"]
  kprobes:
  - call: sys_lseek
    syscall: true
    args:
    - index: 1
      type: int64
    selectors:
    - label: small
      macros: [onlysysc]
      matchArgs:
      - {index: 1, operator: InRange, values: ["9200:9249"]}
    - label: any
      macros: [onlysysc]
      matchArgs:
      - {index: 1, operator: InRange, values: ["9200:9299"]}
      matchActions:
      - action: NoPost
YAML
add_policy "$CASE_DIR/macro.yaml"
"$SYSC" lseek:9201 lseek:9260 lseek:9270 "$CASE_DIR/sysc2" lseek:9202
"$CASE_DIR/sysc2" lseek:9203
# 9201 by the first selector; 9260 and 9270 by the second (NoPost); sysc2 by neither
expect_seen macro-first "9201"
tetra tp list -o json | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["policies"] if p["name"] == "macro-first"][0]
sel = {c["selector_label"]: c for c in p["stats"]["selector_action_counters"]}
assert int(sel["small"]["action_counters"].get("post", 0)) == 0, sel
' || true
python3 - "$(tetra tp list -o json)" <<'PY' || fail "selector counters: $(tetra tp list -o json)"
import json, sys
p = [p for p in json.loads(sys.argv[1])["policies"] if p["name"] == "macro-first"][0]
c = p["stats"]["action_counters"]
assert int(c.get("post", 0)) == 1, c
assert int(c.get("nopost", 0)) == 2, c
labels = [s["selector_label"] for s in p["stats"]["selector_action_counters"]]
assert labels == ["small", "any"], labels
PY
