#!/usr/bin/env bash
# Three agents, each confined to its own cgroup: a policy added at the manager is loaded by
# every agent and reported enabled by all three; a fleet-wide mode toggle switches all three
# without reloading a program (enforce kills the denied binary in every node's cgroup,
# monitor lets it run); disable, enable and delete reach every node.
source "$(dirname "$0")/fleet_lib.sh"

nodes=(pa-$$ pb-$$ pc-$$)
start_manager
confine_nodes "${nodes[@]}"
for n in "${nodes[@]}"; do
	start_node "$n" --cgroup "$(node_cgroup "$n")"
done
wait_online "${nodes[@]}"
cp "$TRIGGERS/marker" "$CASE_DIR/denied"

# expect_killed WHAT / expect_runs WHAT: the denied binary, run in every node's cgroup
expect_killed() {
	local n rc
	for n in "${nodes[@]}"; do
		in_node "$n" "$CASE_DIR/denied" "$CASE_DIR/ran-$n"
		rc=$?
		[ $rc -eq 137 ] || fail "$1: in $n the denied binary exited $rc, not killed"
		[ ! -e "$CASE_DIR/ran-$n" ] || fail "$1: in $n the denied binary ran"
	done
}
expect_runs() {
	local n rc
	for n in "${nodes[@]}"; do
		in_node "$n" "$CASE_DIR/denied" "$CASE_DIR/ran-$n"
		rc=$?
		[ $rc -eq 0 ] && [ -e "$CASE_DIR/ran-$n" ] || fail "$1: in $n the binary did not run (rc=$rc)"
		rm -f "$CASE_DIR/ran-$n"
	done
}

out=$(mtetra tp add "$(policy fleet-deny "  kprobes:
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
      - action: Sigkill")" 2>&1) || fail "the policy was refused: $out"
wait_policy_info fleet-deny "3/3 enabled" || fail "not enabled everywhere: $(mtetra nodes policies)"
fleet_policy_line fleet-deny | grep -q " enabled .* enforce " || fail "$(fleet_policy_line fleet-deny)"
for n in "${nodes[@]}"; do
	"$TETRA" --server-address "${NODE_ADDR[$n]}" tp list | grep -q "fleet-deny .*fleet .*enabled" ||
		fail "$n does not run it: $("$TETRA" --server-address "${NODE_ADDR[$n]}" tp list)"
done
expect_killed "enforce"
# outside every node's cgroup no agent enforces
"$CASE_DIR/denied" "$CASE_DIR/ran-outside" || fail "enforce: killed outside the nodes' cgroups"
[ -e "$CASE_DIR/ran-outside" ] || fail "enforce: the binary did not run outside the nodes"

# fleet-wide toggle to monitor: every node switches, nothing is loaded again
mtetra tp set-mode fleet-deny monitor || fail "set-mode refused"
wait_policy_info fleet-deny "3/3 enabled" || fail "monitor not reported everywhere"
for n in "${nodes[@]}"; do
	wait_for 10 sh -c "'$TETRA' --server-address '${NODE_ADDR[$n]}' tp list | grep -q 'fleet-deny .* monitor '" ||
		fail "$n is not in monitor mode"
	[ "$(grep -c "Loaded policy 'fleet-deny'" "${NODE_LOG[$n]}")" -eq 1 ] ||
		fail "$n loaded the policy again for a mode toggle: $(grep fleet-deny "${NODE_LOG[$n]}")"
done
fleet_policy_line fleet-deny | grep -q " monitor " || fail "$(fleet_policy_line fleet-deny)"
expect_runs "monitor"

# back to enforce, then disabled: it runs; enabled: killed again
mtetra tp set-mode fleet-deny enforce || fail "set-mode refused"
mtetra tp disable fleet-deny || fail "disable refused"
wait_policy_info fleet-deny "3/3 disabled" || fail "not disabled everywhere"
expect_runs "disabled"
mtetra tp enable fleet-deny || fail "enable refused"
wait_policy_info fleet-deny "3/3 enabled" || fail "not enabled again"
expect_killed "enabled again"
for n in "${nodes[@]}"; do
	[ "$(grep -c "Loaded policy 'fleet-deny'" "${NODE_LOG[$n]}")" -eq 1 ] ||
		fail "$n reloaded the policy"
done

# the kills are in the history, attributed to the nodes that killed
for n in "${nodes[@]}"; do
	wait_for 15 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' events query --node $n --policy fleet-deny --action sigkill -o json | grep -q '\"node_name\":\"$n\"'" ||
		fail "no Sigkill event of $n in the history: $(mtetra events query --policy fleet-deny)"
done

# delete: gone from every node
mtetra tp delete fleet-deny || fail "delete refused"
for n in "${nodes[@]}"; do
	wait_for 10 sh -c "! '$TETRA' --server-address '${NODE_ADDR[$n]}' tp list | grep -q fleet-deny" ||
		fail "$n still runs it"
done
expect_runs "deleted"
