#!/usr/bin/env bash
# Clear errors, not crashes: a taken port, a second agent on the same socket, a
# missing BTF file, bad flags, and no root.
source "$(dirname "$0")/../lib.sh"

expect_error() { # EXPECTED-TEXT COMMAND...
	local want=$1 out rc
	shift
	out=$(timeout 30 "$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || fail "'$*' succeeded"
	[ $rc -lt 128 ] || fail "'$*' crashed (rc=$rc): $out"
	echo "$out" | grep -q "$want" || fail "'$*' said: $out"
	log "$(echo "$out" | tail -1)"
}

port=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$port)); s.listen(); time.sleep(60)" &
CASE_PIDS+=("$!")
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" ||
	fail "the blocker did not listen"
expect_error "127.0.0.1:$port" "$BIN/tetragon" --server-address "127.0.0.1:$port" \
	--server-unix-socket "$CASE_DIR/a.sock"

start_agent
expect_error "another agent" "$BIN/tetragon" --server-address "127.0.0.1:$(free_port)" \
	--server-unix-socket "$AGENT_SOCK"
stat -c %a "$AGENT_SOCK" | grep -qx 600 || fail "socket mode $(stat -c %a "$AGENT_SOCK")"
tetra status >/dev/null || fail "the first agent was disturbed"

expect_error "BTF" "$BIN/tetragon" --btf /nonexistent/vmlinux --server-address "127.0.0.1:$(free_port)" \
	--server-unix-socket "$CASE_DIR/b.sock"
expect_error "rb-size" "$BIN/tetragon" --rb-size 1000
expect_error "unrecognized option" "$BIN/tetragon" --no-such-flag
expect_error "Must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/tetragon" \
	--server-address "127.0.0.1:$(free_port)" --server-unix-socket "$CASE_DIR/c.sock"
expect_error "UNAVAILABLE" "$TETRA" --server-address "127.0.0.1:$(free_port)" status
