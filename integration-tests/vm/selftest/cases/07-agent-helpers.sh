#!/bin/sh
# shellcheck shell=dash
# Runner self-test: start_agent/stop_agent with a fake agent and a fake tetra.
# shellcheck source-path=SCRIPTDIR/../..
. ./lib.sh
cat >"$TMPDIR/agent" <<'AGENT'
#!/bin/sh
echo "agent starting $*"
trap 'echo "agent got TERM"; rm -f "$TMPDIR/ready"; exit 0' TERM
sleep 1
: >"$TMPDIR/ready"
echo "agent ready"
while :; do sleep 0.1; done
AGENT
# shellcheck disable=SC2016 # $1 belongs to the fake tetra
printf '#!/bin/sh\n[ "$1" = status ] && [ -e "%s/ready" ]\n' "$TMPDIR" >"$TMPDIR/tetra"
printf '#!/bin/sh\necho "broken agent"; exit 3\n' >"$TMPDIR/broken"
chmod +x "$TMPDIR/agent" "$TMPDIR/tetra" "$TMPDIR/broken"
TETRAGON=$TMPDIR/agent TETRA=$TMPDIR/tetra

start_agent --flag1 value || fail "start_agent"
assert_file_contains "$AGENT_LOG" '^agent starting --flag1 value$'
wait_for_line "$AGENT_LOG" '^agent ready' 10 || fail "no ready line"
stop_agent || fail "stop_agent needed SIGKILL"
assert_eq "$AGENT_EXIT" 0 "agent exit status"
assert_file_contains "$AGENT_LOG" '^agent got TERM'

TETRAGON=$TMPDIR/broken
if start_agent; then fail "start_agent succeeded with a broken agent"; fi
assert_eq "$AGENT_EXIT" 3 "broken agent's status"
assert_eq "$AGENT_PID" "" "AGENT_PID after a failed start"

# An agent that never answers: start_agent times out and stops it.
TETRAGON=$TMPDIR/agent AGENT_START_TIMEOUT=2
rm -f "$TMPDIR/tetra"
printf '#!/bin/sh\nexit 1\n' >"$TMPDIR/tetra"
chmod +x "$TMPDIR/tetra"
if start_agent; then fail "start_agent succeeded without an answer"; fi
assert_eq "$AGENT_PID" "" "AGENT_PID after a timed-out start"
