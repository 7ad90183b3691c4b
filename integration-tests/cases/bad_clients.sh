#!/usr/bin/env bash
# The agent survives clients that misbehave: bytes that are not HTTP/2, methods it
# does not implement (answered UNIMPLEMENTED at once, never left hanging), a
# client that disconnects mid-stream, and a subscriber that never reads (memory
# stays bounded, the drops are counted).
source "$(dirname "$0")/../lib.sh"

start_agent --event-queue-size 200
port=${AGENT_ADDR##*:}

"$TOOLS/rpcprobe" garbage 127.0.0.1 "$port" >/dev/null || fail "garbage client"
tetra status >/dev/null || fail "agent not answering after garbage"

out=$("$TOOLS/rpcprobe" unknown "$AGENT_ADDR") || fail "unknown methods: $out"
log "$out"
# answered promptly, not at the 10 s deadline
echo "$out" | awk '{ sub("ms", "", $3); if ($3 + 0 > 3000) exit 1 }' || fail "slow UNIMPLEMENTED: $out"
out=$("$TOOLS/rpcprobe" unknown "unix://$AGENT_SOCK") || fail "unknown methods over the socket: $out"

# a client that vanishes mid-stream
"$TOOLS/rpcprobe" disconnect "$AGENT_ADDR" 3 >"$CASE_DIR/dc.out" &
dc=$!
CASE_PIDS+=("$dc")
sleep 0.5
for i in 1 2 3 4 5; do /bin/true; done
wait $dc || fail "disconnect client: $(cat "$CASE_DIR/dc.out")"
tetra status >/dev/null || fail "agent not answering after a disconnect"

# a subscriber that never reads (a stopped process) while 30 MB of events happen
"$TOOLS/rpcprobe" stall "$AGENT_ADDR" 120 >"$CASE_DIR/stall.out" &
stalled=$!
CASE_PIDS+=("$stalled")
wait_for 10 grep -q stalling "$CASE_DIR/stall.out" || fail "stall client did not start"
kill -STOP $stalled
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$AGENT_PID/status)
long=$(printf 'x%.0s' $(seq 2500))
for i in $(seq 3000); do /bin/true "$long" "$long"; done
sleep 1
rss_after=$(awk '/VmRSS/ {print $2}' /proc/$AGENT_PID/status)
log "agent RSS ${rss_before} kB -> ${rss_after} kB"
[ "$rss_after" -lt $((rss_before + 30000)) ] || fail "RSS grew from $rss_before to $rss_after kB"
drops=$(tetra status | awk '$1 == "grpc.subscriber_dropped" {print $2}')
log "drops counted: $drops"
[ "${drops:-0}" -gt 0 ] || fail "no drops counted for the stalled subscriber"
kill -0 "$AGENT_PID" || fail "agent died"
kill -CONT $stalled
stop_agent || fail "agent did not exit cleanly"
