#!/usr/bin/env bash
# The manager's clear errors, never a crash: bad flags, a taken port, a database it cannot
# write or that is not one of its databases (or is newer), a second manager on the same
# database; --version and --help; a clean exit on SIGTERM.
source "$(dirname "$0")/fleet_lib.sh"

M="$BIN/tetragon-manager"
expect_error() { # EXPECTED-TEXT EXPECTED-RC COMMAND...
	local want=$1 want_rc=$2 out rc
	shift 2
	out=$(timeout 30 "$@" 2>&1)
	rc=$?
	[ $rc -eq "$want_rc" ] || fail "'$*' exited $rc, not $want_rc: $out"
	echo "$out" | grep -q -- "$want" || fail "'$*' said: $out"
	log "$(echo "$out" | tail -1)"
}

"$M" --version | grep -q "^tetragon-manager " || fail "--version: $("$M" --version)"
"$M" --help | grep -q -- "--retention-age" || fail "--help"
expect_error "unrecognized option" 2 "$M" --no-such-flag
expect_error "Invalid value 'soon' for --retention-age" 2 "$M" --retention-age soon
expect_error "Invalid value '-1' for --retention-events" 2 "$M" --retention-events -1
expect_error "Invalid value 'x' for --heartbeat-interval" 2 "$M" --heartbeat-interval x
expect_error "Unexpected argument 'extra'" 2 "$M" extra

# a taken port
port=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$port)); s.listen(); time.sleep(60)" &
CASE_PIDS+=("$!")
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" ||
	fail "the blocker did not listen"
expect_error "Failed to listen on '127.0.0.1:$port'" 1 "$M" --listen "127.0.0.1:$port" \
	--db "$CASE_DIR/a.db"

# databases it cannot use
expect_error "Failed to create the database directory '/proc/no-such-dir'" 1 \
	"$M" --listen "127.0.0.1:$(free_port)" --db /proc/no-such-dir/m.db
mkdir "$CASE_DIR/dir.db"
expect_error "dir.db" 1 "$M" --listen "127.0.0.1:$(free_port)" --db "$CASE_DIR/dir.db"
head -c 4096 /dev/urandom >"$CASE_DIR/random.db"
expect_error "is not a manager database" 1 "$M" --listen "127.0.0.1:$(free_port)" \
	--db "$CASE_DIR/random.db"
python3 -c "import sqlite3; c = sqlite3.connect('$CASE_DIR/new.db'); c.execute('PRAGMA user_version = 99'); c.commit()"
expect_error "schema version 99" 1 "$M" --listen "127.0.0.1:$(free_port)" --db "$CASE_DIR/new.db"
python3 -c "import sqlite3; assert sqlite3.connect('$CASE_DIR/new.db').execute('PRAGMA user_version').fetchone()[0] == 99" ||
	fail "a newer database was changed"

# one manager per database
start_manager
expect_error "Another tetragon-manager uses the database" 1 "$M" --listen "127.0.0.1:$(free_port)" \
	--db "$MANAGER_DB"
mtetra status >/dev/null || fail "the first manager was disturbed"

# SIGTERM: a clean exit
kill -TERM "$MANAGER_PID"
rc=0
wait "$MANAGER_PID" || rc=$?
[ $rc -eq 0 ] || fail "the manager exited $rc on SIGTERM: $(tail -5 "$MANAGER_LOG")"
grep -q "Shutting down" "$MANAGER_LOG" || fail "no shutdown message"
