#!/usr/bin/env bash
# While the manager is away the agent spools its events on disk; a kill -9 of the agent
# keeps what was written, a restarted agent picks the spool up, and when the manager comes
# the events arrive, every one exactly once, in order; acknowledged segments are deleted.
source "$(dirname "$0")/fleet_lib.sh"

node=sa-$$
spool="$(node_state "$node")/fleet/$node/spool"
start_node "$node"
wait_for 10 grep -q "Uplink to manager" "${NODE_LOG[$node]}" || fail "no uplink"
for i in $(seq 1 50); do "$TRIGGERS/hello" "spool-$$-$i"; done
sleep 1
ls "$spool"/*.seg >/dev/null 2>&1 || fail "nothing was spooled in $spool"

kill -9 "${NODE_PID[$node]}"
wait "${NODE_PID[$node]}" 2>/dev/null
start_node "$node"
wait_for 10 grep -q "Spool $spool holds" "${NODE_LOG[$node]}" ||
	fail "the restarted agent did not find its spool: $(grep -i spool "${NODE_LOG[$node]}")"
for i in $(seq 51 60); do "$TRIGGERS/hello" "spool-$$-$i"; done
sleep 0.5

start_manager
wait_online "$node"
args=()
for i in $(seq 1 60); do args+=("spool-$$-$i"); done
for _ in $(seq 100); do
	history "$CASE_DIR/h.json" --node "$node" --binary 'hello$' --type exec --oldest-first
	counts=$(count_args "$CASE_DIR/h.json" "$node" "${args[@]}" | sort | uniq -c | tr -s ' ')
	[ "$counts" = " 60 1" ] && break
	sleep 0.2
done
[ "$counts" = " 60 1" ] || fail "not every spooled event arrived exactly once: $counts"
# in order: the oldest-first history lists them by their number
python3 - "$CASE_DIR/h.json" "$$" <<'PY' || fail "the replay is out of order"
import json, sys
tag = "spool-%s-" % sys.argv[2]
seq = [int(a[len(tag):]) for a in (json.loads(l)["process_exec"]["process"]["arguments"]
       for l in open(sys.argv[1]) if l.strip()) if a.startswith(tag)]
assert seq == sorted(seq), seq
PY
# acknowledged: the spool empties
wait_for 20 sh -c "! ls '$spool'/*.seg >/dev/null 2>&1" || fail "the spool kept acknowledged segments: $(ls -la "$spool")"
[ "$(node_field "$node" events_dropped)" = "" ] || fail "events were counted as dropped"
