# shellcheck shell=dash
# Helpers for VM test cases (integration-tests/vm/cases/*.sh). Busybox sh, POSIX only.
#
# A case starts with
#     . ./lib.sh
# and runs with cwd /test, where bin/ holds tetragon, tetra and tetragon-manager (when they
# were built), triggers/ the helper programs from integration-tests/triggers/, and
# tools/ bpftool. It exits 0 to pass, 77 to skip (skip "why"), anything else to fail
# (fail "why"). Every case gets its own empty $TMPDIR; $VMTEST_KERNEL is the kernel's
# release. Leftover processes, /sys/fs/bpf pins and kprobe/uprobe events are removed
# by the driver after each case, but a case should clean up after itself.
#
# Helpers:
#   log MSG...                    print "# MSG" (shown when the case fails)
#   fail MSG... / skip MSG...     end the case: exit 1 / exit 77
#   require_file PATH [WHY]       skip unless PATH exists
#   assert_eq ACTUAL EXPECTED [MSG]     assert_ne ACTUAL UNEXPECTED [MSG]
#   assert_contains HAYSTACK NEEDLE [MSG]   assert_not_contains HAYSTACK NEEDLE [MSG]
#   assert_file_exists PATH       assert_file_contains FILE ERE [MSG]
#   assert_ok CMD [ARGS...]       CMD must exit 0 (its output is shown)
#   assert_fails CMD [ARGS...]    CMD must exit non-zero
#   assert_status N CMD [ARGS...] CMD must exit N
#   wait_for_line FILE ERE [SECS]     wait until a line of FILE matches ERE (default 30 s)
#   wait_until SECS CMD [ARGS...]     wait until CMD exits 0, polling 5 times a second
#   start_agent [FLAGS...]        start ./bin/tetragon FLAGS in the background, log in
#                                 $AGENT_LOG, wait until `./bin/tetra status` answers
#   stop_agent                    SIGTERM the agent, SIGKILL after $AGENT_STOP_TIMEOUT s;
#                                 sets AGENT_EXIT to its exit status
#   tetra ARGS...                 run ./bin/tetra $TETRA_ARGS ARGS
#
# Settings (environment, with defaults): TETRAGON=./bin/tetragon, TETRA=./bin/tetra,
# TETRA_ARGS= (e.g. "--server-address localhost:54321"), AGENT_LOG=$TMPDIR/tetragon.log,
# AGENT_START_TIMEOUT=120 (BPF loading under TCG is slow), AGENT_STOP_TIMEOUT=20.

: "${TMPDIR:=/tmp}"
: "${TETRAGON:=./bin/tetragon}"
: "${TETRA:=./bin/tetra}"
: "${TETRA_ARGS:=}"
: "${AGENT_LOG:=$TMPDIR/tetragon.log}"
: "${AGENT_START_TIMEOUT:=120}"
: "${AGENT_STOP_TIMEOUT:=20}"
AGENT_PID=""
AGENT_EXIT=""

log() { echo "# $*"; }
fail() {
	echo "FAIL: $*"
	exit 1
}
skip() {
	echo "SKIP: $*"
	exit 77
}

require_file() {
	[ -e "$1" ] || skip "${2:-$1 is missing}"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"
}
assert_ne() {
	[ "$1" != "$2" ] || fail "${3:-values are equal}: got '$1'"
}
assert_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "${3:-missing text}: '$2' not in '$1'" ;;
	esac
}
assert_not_contains() {
	case $1 in
	*"$2"*) fail "${3:-unexpected text}: '$2' in '$1'" ;;
	esac
}
assert_file_exists() {
	[ -e "$1" ] || fail "${2:-file missing}: $1"
}
assert_file_contains() {
	grep -qE -- "$2" "$1" 2>/dev/null || fail "${3:-no line matches} '$2' in $1"
}
assert_ok() {
	"$@" || fail "command failed (status $?): $*"
}
assert_fails() {
	if "$@"; then
		fail "command succeeded but should have failed: $*"
	fi
}
assert_status() {
	_want=$1
	shift
	_got=0
	"$@" || _got=$?
	[ "$_got" = "$_want" ] || fail "status $_got, expected $_want: $*"
}

# Uptime in centiseconds, without forking (timeouts must work when fork is expensive).
_now_cs() {
	read -r _up _ </proc/uptime
	echo $((${_up%.*} * 100 + 1${_up#*.} - 100))
}

wait_until() {
	_deadline=$(($(_now_cs) + $1 * 100))
	shift
	while ! "$@"; do
		[ "$(_now_cs)" -lt "$_deadline" ] || return 1
		sleep 0.2
	done
}

wait_for_line() {
	_file=$1 _re=$2 _secs=${3:-30}
	if ! wait_until "$_secs" grep -qE -- "$_re" "$_file" 2>/dev/null; then
		echo "wait_for_line: no line matching '$_re' in $_file after ${_secs}s" >&2
		return 1
	fi
}

tetra() {
	# shellcheck disable=SC2086 # TETRA_ARGS is a list of words
	"$TETRA" $TETRA_ARGS "$@"
}

_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	read -r _stat <"/proc/$1/stat" || return 1
	_stat=${_stat##*) }
	[ "${_stat%% *}" != Z ]
}

_agent_log_tail() {
	echo "--- last lines of $AGENT_LOG:"
	tail -n 30 "$AGENT_LOG" 2>/dev/null
	echo "---"
}

start_agent() {
	[ -x "$TETRAGON" ] || fail "start_agent: $TETRAGON is missing"
	[ -x "$TETRA" ] || fail "start_agent: $TETRA is missing"
	[ -z "$AGENT_PID" ] || fail "start_agent: the agent is already running (pid $AGENT_PID)"
	log "starting $TETRAGON $*"
	"$TETRAGON" "$@" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	_deadline=$(($(_now_cs) + AGENT_START_TIMEOUT * 100))
	until tetra status >/dev/null 2>&1; do
		if ! _alive "$AGENT_PID"; then
			wait "$AGENT_PID"
			AGENT_EXIT=$?
			AGENT_PID=""
			echo "start_agent: the agent exited with status $AGENT_EXIT before it answered"
			_agent_log_tail
			return 1
		fi
		if [ "$(_now_cs)" -ge "$_deadline" ]; then
			echo "start_agent: '$TETRA status' got no answer after ${AGENT_START_TIMEOUT}s"
			_agent_log_tail
			stop_agent
			return 1
		fi
		sleep 0.2
	done
	log "agent running (pid $AGENT_PID)"
}

stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null
	_deadline=$(($(_now_cs) + AGENT_STOP_TIMEOUT * 100))
	_killed=0
	while _alive "$AGENT_PID"; do
		if [ "$(_now_cs)" -ge "$_deadline" ]; then
			echo "stop_agent: still running ${AGENT_STOP_TIMEOUT}s after SIGTERM, sending SIGKILL"
			kill -KILL "$AGENT_PID" 2>/dev/null
			_killed=1
			break
		fi
		sleep 0.1
	done
	AGENT_EXIT=0
	wait "$AGENT_PID" || AGENT_EXIT=$?
	log "agent stopped (status $AGENT_EXIT)"
	AGENT_PID=""
	return "$_killed"
}

# A case that fails half-way must not leave its agent running.
trap 'stop_agent >/dev/null 2>&1' EXIT
