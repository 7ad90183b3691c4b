#!/usr/bin/env bash
# kill -9 one agent: its node shows offline with its last-seen time while the others stay
# online and their events go on being stored. A policy added while the node is offline is
# applied when it comes back (it gets the whole desired state on connect).
source "$(dirname "$0")/fleet_lib.sh"

a=oa-$$
b=ob-$$
start_manager
start_node "$a"
start_node "$b"
wait_online "$a" "$b"

kill -9 "${NODE_PID[$b]}"
wait "${NODE_PID[$b]}" 2>/dev/null
wait_offline "$b"
mtetra nodes list | grep -q "^$a  *online " || fail "$a went offline too: $(mtetra nodes list)"
[ -n "$(node_field "$b" last_seen)" ] || fail "$b has no last-seen time"
mtetra nodes list | grep -Eq "^$b  *offline  *(now|[0-9]+s ago) " ||
	fail "nodes list does not say when $b was last seen: $(mtetra nodes list)"

# the other node goes on
"$TRIGGERS/hello" "after-$$"
for _ in $(seq 100); do
	history "$CASE_DIR/h.json" --binary 'hello$' --type exec --since 5m
	[ "$(count_args "$CASE_DIR/h.json" "$a" "after-$$")" = 1 ] && break
	sleep 0.2
done
[ "$(count_args "$CASE_DIR/h.json" "$a" "after-$$")" = 1 ] || fail "$a's events stopped"
[ "$(count_args "$CASE_DIR/h.json" "$b" "after-$$")" = 0 ] || fail "$b stored events while dead"

# a policy added while b is away: enabled on a, not on b, and b is mentioned as offline
add=$(mtetra tp add "$(policy while-away "  kprobes:
  - call: sys_getppid
    syscall: true")" 2>&1) || fail "the policy was refused: $add"
wait_policy_info while-away "1/1 enabled, 1 offline" || fail "not enabled on $a: $(mtetra tp list)"

# b comes back: it gets the policy and reports it
start_node "$b"
wait_online "$b"
wait_policy_info while-away "2/2 enabled" || fail "not applied when $b returned: $(mtetra tp list)"
grep -q "Applied fleet policy 'while-away'" "${NODE_LOG[$b]}" || fail "$b did not apply it"
mtetra nodes list | grep -q "^$b  *online .* 1/1 ok " || fail "nodes list: $(mtetra nodes list)"
mtetra nodes policies while-away --node "$b" | grep -q "while-away  *$b  *yes  *enabled" ||
	fail "per-node status: $(mtetra nodes policies while-away)"
