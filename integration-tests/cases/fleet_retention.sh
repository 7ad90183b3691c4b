#!/usr/bin/env bash
# Retention runs in the background while events keep coming: with --retention-events the
# history stays near the limit, with --retention-age nothing older stays; ingest goes on.
source "$(dirname "$0")/fleet_lib.sh"

node=ra-$$
start_manager --retention-events 200
start_node "$node"
wait_online "$node"
for i in $(seq 1 300); do "$TRIGGERS/hello" "ret-$$-$i"; done
stored() { mtetra status | awk '$1 == "store.events" { print $2 }'; }
deleted() { mtetra status | awk '$1 == "retention.deleted" { print $2 }'; }
wait_for 20 sh -c "[ \$('$TETRA' --server-address '$MANAGER_ADDR' status | awk '\$1 == \"retention.deleted\" { print \$2 }') -gt 0 ]" ||
	fail "retention deleted nothing: $(mtetra status | grep -E 'store|retention')"
# the count comes back to the limit (between steps new events may be in)
wait_for 20 sh -c "[ \$('$TETRA' --server-address '$MANAGER_ADDR' status | awk '\$1 == \"store.events\" { print \$2 }') -le 400 ]" ||
	fail "the history is not kept near 200 events: $(stored)"
# the newest survive: the last workload event is there
wait_for 10 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' events query --binary 'hello\$' --type exec -o json --limit 1 | grep -q '\"ret-$$-300\"'" ||
	fail "the newest event is gone"
[ "$(node_field "$node" events_stored)" -le 400 ] || fail "the node's count was not kept up"
log "stored $(stored), deleted $(deleted)"

# by age: a restart with 2s keeps nothing older than that
kill -TERM "$MANAGER_PID"
wait "$MANAGER_PID"
start_manager --retention-age 2s
wait_online "$node"
sleep 3
"$TRIGGERS/hello" "fresh-$$"
wait_for 20 sh -c "[ -z \"\$('$TETRA' --server-address '$MANAGER_ADDR' events query --until 4s -o json --limit 1)\" ]" ||
	fail "events older than the age limit stay: $(mtetra events query --until 4s --limit 3)"
wait_for 10 sh -c "'$TETRA' --server-address '$MANAGER_ADDR' events query --binary 'hello\$' -o json | grep -q '\"fresh-$$\"'" ||
	fail "new events are not stored"
