#!/usr/bin/env bash
# One manager, three agents as three nodes, each confined to its own cgroup v2 subtree
# (--cgroup): every node is online, and a workload run in one node's cgroup is in the
# history exactly once, for that node only. The live fleet stream
# (GetEvents at the manager) carries the node name too.
source "$(dirname "$0")/fleet_lib.sh"

nodes=(fa-$$ fb-$$ fc-$$)
start_manager
confine_nodes "${nodes[@]}"
for n in "${nodes[@]}"; do
	start_node "$n" --cgroup "$(node_cgroup "$n")"
done
wait_online "${nodes[@]}"
for n in "${nodes[@]}"; do
	wait_for 20 grep -q "Connected to manager" "${NODE_LOG[$n]}" || fail "$n did not connect"
	"$TETRA" --server-address "${NODE_ADDR[$n]}" status | grep -Eq '^ *uplink\.connected +1' ||
		fail "$n's status does not show the uplink: $("$TETRA" --server-address "${NODE_ADDR[$n]}" status)"
done

# the live stream of the whole fleet
"$TETRA" --server-address "$MANAGER_ADDR" getevents -o json --process hello </dev/null \
	>"$CASE_DIR/live.json" 2>"$CASE_DIR/live.err" &
CASE_PIDS+=("$!")
wait_for 10 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' status | grep -Eq 'grpc.subscribers +[1-9]'" ||
	fail "the fleet GetEvents stream did not open"

# a workload per node, in the node's cgroup
for n in "${nodes[@]}"; do
	in_node "$n" "$TRIGGERS/hello" "ingest-$n"
done

# every node holds its own workload exactly once and nobody else's
want=""
for n in "${nodes[@]}"; do
	for w in "${nodes[@]}"; do
		if [ "$n" = "$w" ]; then want+="1 "; else want+="0 "; fi
	done
done
for _ in $(seq 100); do
	history "$CASE_DIR/h.json" --binary 'hello$' --type exec
	got=""
	for n in "${nodes[@]}"; do
		got+="$(count_args "$CASE_DIR/h.json" "$n" "${nodes[@]/#/ingest-}" | sed "s/\$/ /" | tr -d '\n')"
	done
	[ "$got" = "$want" ] && break
	sleep 0.2
done
[ "$got" = "$want" ] || fail "workload counts per node (node x workload) are '$got', not '$want'"

# the exit events are there as well, and a node filter returns that node's events only
history "$CASE_DIR/exit.json" --binary 'hello$' --type exit --node "${nodes[1]}"
python3 - "$CASE_DIR/exit.json" "${nodes[1]}" "ingest-${nodes[1]}" <<'PY' || fail "exit events of ${nodes[1]}"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert evs and all(e["node_name"] == sys.argv[2] for e in evs), evs[:2]
assert any(e["process_exit"]["process"]["arguments"] == sys.argv[3] for e in evs)
PY

# the live stream saw them with their node names
wait_for 10 json_query "$CASE_DIR/live.json" \
	"all(any(e.get('node_name') == n and e.get('process_exec', {}).get('process', {}).get('arguments') == 'ingest-' + n for e in events) for n in '${nodes[*]}'.split())" ||
	fail "the fleet stream lacks a workload: $(head -c 600 "$CASE_DIR/live.json")"

# nodes list: three online nodes with events
for n in "${nodes[@]}"; do
	[ "$(node_field "$n" online)" = True ] || fail "$n is not online"
	[ "$(node_field "$n" events_stored)" -gt 0 ] || fail "$n has no events stored"
	[ -n "$(node_field "$n" kernel_release)" ] || fail "$n has no kernel release"
done
mtetra nodes list | grep -q "^${nodes[2]} .* online " || fail "nodes list: $(mtetra nodes list)"
