#!/usr/bin/env bash
# gRPC interop: the daemons answer clients no one here wrote. @grpc/grpc-js and
# @grpc/proto-loader from npm load proto/ and talk to a real agent over TCP and its unix
# socket; the cases are in client.js, one node process each.
#
#   integration-tests/interop/run.sh [O] [TARGET...]     (default O=build, every target)
#
# Needs root (the agent loads BPF programs), node >= 16 and npm; node_modules is installed
# here with `npm ci` from package-lock.json when missing or outdated. Ends with the line
# "N passed, N failed" that integration-tests/run-all.sh reads.
#
# A target is a daemon the cases run against, one function target_NAME each: it starts
# the daemon on a free port and a temporary socket, runs its cases with run_case, and
# stops it by PID. To add one (e.g. the manager), write target_manager and add it to
# TARGETS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
O=$(cd "${1:-build}" && pwd)
shift || true
TARGETS=(agent)
[ $# -eq 0 ] || TARGETS=("$@")

WORK=$(mktemp -d /tmp/tetra-interop.XXXXXX)
PIDS=()
pass=0
fail=0
failed=()

# --- plumbing ---------------------------------------------------------------------------

# stop_pid PID: SIGTERM, up to 10 s to exit, then SIGKILL. Returns the exit status.
stop_pid() {
	local pid=$1 rc=0 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "    pid $pid ignored SIGTERM for 10 s; SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && { stop_pid "$pid" || true; }
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# setup_failed MESSAGE: nothing could run; say why and count it as one failure.
setup_failed() {
	echo "interop: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# run_case NAME COMMAND...: one case; its output is shown when it fails.
run_case() {
	local name=$1 out rc=0 start secs
	shift
	start=$EPOCHREALTIME
	out=$("$@" 2>&1) || rc=$?
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		printf 'PASS  %-34s %5ss  %s\n' "$name" "$secs" "$(tail -1 <<<"$out")"
	else
		fail=$((fail + 1))
		failed+=("$name")
		printf 'FAIL  %-34s %5ss (rc=%d)\n' "$name" "$secs" "$rc"
		tail -30 <<<"$out" | sed 's/^/      /'
	fi
}

# client CASE ARGS...: one case of client.js, bounded in time.
client() {
	timeout --kill-after=5 60 node "$here/client.js" "$@"
}

free_port() {
	node -e 'const s = require("net").createServer();
		 s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# wait_for_line SECONDS FILE PATTERN PID: poll until FILE has PATTERN; fail early if PID dies.
wait_for_line() {
	local secs=$1 file=$2 pattern=$3 pid=$4 i
	for ((i = 0; i < secs * 10; i++)); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- node_modules -----------------------------------------------------------------------

# The checksum of what npm ci installs from; node_modules carries the one it was built from.
lock_sum() {
	cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1
}

node_modules_current() {
	[ "$(cat "$here/node_modules/.interop-lock-sum" 2>/dev/null)" = "$(lock_sum)" ] &&
		(cd "$here" && node -e 'require("@grpc/grpc-js"); require("@grpc/proto-loader");
					 require("protobufjs")') >/dev/null 2>&1
}

ensure_node_modules() {
	local registry log="$WORK/npm.log" rc=0

	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		setup_failed "node and npm are needed (deploy/install-deps.sh installs them)"
	fi
	node -e 'process.exit(+process.versions.node.split(".")[0] >= 16 ? 0 : 1)' ||
		setup_failed "node >= 16 is needed, this is $(node --version)"
	node_modules_current && return 0

	# one installer at a time (parallel runs share this directory)
	exec 9<"$here"
	flock 9
	if ! node_modules_current; then
		registry=$(cd "$here" && npm config get registry 2>/dev/null || echo '?')
		echo "interop: npm ci (node_modules missing or outdated; registry $registry)"
		# exact versions with integrity hashes: the local npm cache may serve them
		(cd "$here" && timeout 600 npm ci --prefer-offline --no-audit --no-fund \
			--ignore-scripts --loglevel=error --fetch-retries=1 \
			--fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 \
			--fetch-timeout=60000) >"$log" 2>&1 || rc=$?
		if [ "$rc" -ne 0 ]; then
			grep -v '^npm error  *at ' "$log" | head -12 | sed 's/^/    /' >&2
			if grep -Eq 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|proxy' "$log" ||
				[ "$rc" -eq 124 ]; then
				setup_failed "cannot reach the npm registry $registry to install" \
					"@grpc/grpc-js and @grpc/proto-loader; set npm_config_registry to a" \
					"reachable mirror, or run npm ci in $here while online"
			fi
			setup_failed "npm ci failed (rc=$rc) in $here"
		fi
		lock_sum >"$here/node_modules/.interop-lock-sum"
	fi
	flock -u 9
	exec 9<&-
}

# --- target: the agent ------------------------------------------------------------------

# Options that keep the agent to itself: no policies restored from (or pins taken over in)
# the shared default state and BPF directories, for agents that have those options.
agent_private_args() {
	local help
	help=$("$TETRAGON" --help 2>&1 || true)
	if grep -q -- '--state-dir' <<<"$help"; then
		mkdir -p "$WORK/agent-state"
		echo "--state-dir $WORK/agent-state"
	fi
	if grep -q -- '--bpf-dir' <<<"$help"; then
		echo "--bpf-dir tetra-interop-$$"
	fi
}

# start_agent: tetragon on a free port and a temporary socket, exporting JSON to a file.
# Sets AGENT_PID AGENT_TCP AGENT_UNIX AGENT_EXPORT AGENT_LOG.
start_agent() {
	local port private
	read -r -a private <<<"$(agent_private_args | tr '\n' ' ')"
	port=$(free_port)
	AGENT_TCP="127.0.0.1:$port"
	AGENT_UNIX="unix://$WORK/agent.sock"
	AGENT_EXPORT="$WORK/agent-export.json"
	AGENT_LOG="$WORK/agent.log"
	"$TETRAGON" --node-name "interop-$$" --server-address "$AGENT_TCP" \
		--server-unix-socket "$WORK/agent.sock" --export-filename "$AGENT_EXPORT" \
		"${private[@]}" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	if ! wait_for_line 30 "$AGENT_LOG" "Listening for events" "$AGENT_PID"; then
		sed 's/^/    /' "$AGENT_LOG" | tail -20 >&2
		return 1
	fi
}

# stop_agent: SIGTERM, in this shell (only it can wait for the agent). Sets AGENT_RC.
stop_agent() {
	AGENT_RC=0
	stop_pid "$AGENT_PID" || AGENT_RC=$?
}

# The agent's exit status on SIGTERM must be 0 (a clean shutdown).
agent_exited_cleanly() {
	if [ "$AGENT_RC" -ne 0 ]; then
		echo "the agent exited with status $AGENT_RC"
		tail -20 "$AGENT_LOG"
		return 1
	fi
	echo "exit status 0"
}

target_agent() {
	local version hello="$HELLO" addr where
	echo "--- agent ($O/bin/tetragon)"
	if ! start_agent; then
		run_case "agent/start" false
		return
	fi
	version=$("$TETRAGON" --version | awk '{ print $NF }')

	for addr in "$AGENT_TCP" "$AGENT_UNIX"; do
		where=tcp
		[[ $addr == unix://* ]] && where=unix
		run_case "agent/$where GetVersion" client version --target "$addr" \
			--expect-version "$version"
		run_case "agent/$where GetHealth" client health --target "$addr"
		run_case "agent/$where GetStats" client stats --target "$addr"
		run_case "agent/$where GetEvents exec+exit" client events --target "$addr" \
			--hello "$hello"
		run_case "agent/$where unimplemented" client unimplemented --target "$addr"
	done
	run_case "agent/tcp GetEvents allow_list" client filter --target "$AGENT_TCP" --hello "$hello"
	run_case "agent/tcp GetEvents deny_list" client deny --target "$AGENT_TCP" --hello "$hello"
	run_case "agent/tcp deadline" client deadline --target "$AGENT_TCP"
	run_case "agent/tcp cancel" client cancel --target "$AGENT_TCP"
	run_case "agent/unix cancel" client cancel --target "$AGENT_UNIX"
	run_case "agent/export JSON = gRPC" client export --target "$AGENT_TCP" --hello "$hello" \
		--export "$AGENT_EXPORT"
	run_case "agent/still serving" client health --target "$AGENT_TCP"
	stop_agent
	run_case "agent/SIGTERM" agent_exited_cleanly
}

# --- main -------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || setup_failed "needs root (the agent loads BPF programs)"
if [ ! -x "$O/bin/tetragon" ] || [ ! -x "$O/triggers/hello" ]; then
	setup_failed "no $O/bin/tetragon or $O/triggers/hello: run make first"
fi
# copies, so that a rebuild of O during the run does not swap binaries under it
mkdir -p "$WORK/bin"
cp "$O/bin/tetragon" "$O/triggers/hello" "$WORK/bin/"
TETRAGON="$WORK/bin/tetragon" HELLO="$WORK/bin/hello"
ensure_node_modules

for t in "${TARGETS[@]}"; do
	declare -F "target_$t" >/dev/null || setup_failed "unknown target $t"
	"target_$t"
done

[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
