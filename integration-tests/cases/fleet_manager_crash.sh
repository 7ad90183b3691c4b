#!/usr/bin/env bash
# kill -9 the manager in the middle of event traffic and start it again on the same
# database: the agents reconnect and replay what was not acknowledged; in the end every
# event of the workload is in the history exactly once per node (nothing acknowledged was
# lost, nothing replayed was stored twice). Policies survive the crash as well.
source "$(dirname "$0")/fleet_lib.sh"

nodes=(ka-$$ kb-$$)
N=600
start_manager
for n in "${nodes[@]}"; do
	start_node "$n"
done
wait_online "${nodes[@]}"

# a policy the manager must still hold after the crash
add=$(mtetra tp add "$(policy crash-keep "  kprobes:
  - call: sys_getppid
    syscall: true")" 2>&1) || fail "the policy was refused: $add"

(for i in $(seq 1 $N); do "$TRIGGERS/hello" "crash-$$-$i"; done) &
traffic=$!
CASE_PIDS+=("$traffic")

# let part of the traffic be stored and acknowledged, then crash the manager
wait_for 30 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' events query --node ${nodes[0]} --binary 'hello$' --limit 50 -o json 2>/dev/null | grep -c crash-$$- | grep -qx 50" ||
	fail "no traffic reached the manager"
kill9_manager
log "manager killed during the traffic"
sleep 1.5
start_manager
wait_pid "$traffic" 120
wait_online "${nodes[@]}"

# stall the manager (SIGSTOP) past three heartbeats during more traffic: the agents give up
# on their streams, reconnect once it runs again and replay what was not acknowledged,
# some of which the manager had stored already
(for i in $(seq $((N + 1)) $((2 * N))); do "$TRIGGERS/hello" "crash-$$-$i"; done) &
traffic=$!
CASE_PIDS+=("$traffic")
sleep 0.5
kill -STOP "$MANAGER_PID"
sleep 4
kill -CONT "$MANAGER_PID"
wait_pid "$traffic" 120
wait_online "${nodes[@]}"
N=$((2 * N))

# every event exactly once, for each node
args=()
for i in $(seq 1 $N); do args+=("crash-$$-$i"); done
for _ in $(seq 60); do
	history "$CASE_DIR/h.json" --binary 'hello$' --type exec
	bad=0
	for n in "${nodes[@]}"; do
		counts=$(count_args "$CASE_DIR/h.json" "$n" "${args[@]}" | sort | uniq -c | tr -s ' ')
		[ "$counts" = " $N 1" ] || bad=1
	done
	[ $bad -eq 0 ] && break
	sleep 0.5
done
if [ $bad -ne 0 ]; then
	for n in "${nodes[@]}"; do
		log "$n: occurrences (count x times): $(count_args "$CASE_DIR/h.json" "$n" "${args[@]}" | sort | uniq -c | tr '\n' ' ')"
	done
	fail "after the crash the history does not hold each of the $N events exactly once per node"
fi

log "restarted manager: $(mtetra status | grep -E 'events\.(received|stored|duplicate) ' | tr -s ' ' | tr '\n' ' ')"
for n in "${nodes[@]}"; do
	[ "$(grep -c "Connected to manager" "${NODE_LOG[$n]}")" -ge 2 ] ||
		fail "$n did not reconnect: $(tail -5 "${NODE_LOG[$n]}")"
done
fleet_policy_line crash-keep >/dev/null || fail "the policy did not survive the crash: $(mtetra tp list)"
grep -q "1 policies at generation 1" "$MANAGER_LOG" || fail "the restarted manager did not load the policy"
