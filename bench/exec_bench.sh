#!/usr/bin/env bash
# Exec overhead: a fork+exec+wait loop of /bin/true (bench/forkexec.c), timed with
#   none        nothing watching
#   agent       tetragon with its default sensor, no client
#   agent+out   tetragon exporting JSON lines to a file, with one `tetra getevents -o json`
#   auditd      Debian's auditd with the rule -a always,exit -F arch=b64 -S execve
# Every round runs each way once, in a rotating order. A way's overhead is the median over
# the rounds of its time divided by the "none" time of the same round (runs minutes apart
# would carry the machine's drift). Also: the agent's memory and CPU, and the run time of
# its BPF programs per event (BPF_ENABLE_STATS, exact where wall time is noisy).
#
#   bench/exec_bench.sh [O]
#
# Environment:
#   BENCH_ITERATIONS  loop iterations per run (5000)
#   BENCH_ROUNDS      rounds (3)
#   BENCH_WAYS        the ways, in order ("none agent agent+out auditd")
#   BENCH_CPU         taskset CPU list for the loop; default the last CPU, "" for none
#                     (pinning the loop cut the run-to-run spread here, see README.md)
#   BENCH_NICE        nice increment for the loop (default: none)
#   BENCH_BPF_STATS   1 (default): BPF run-time statistics on during agent runs
#   BENCH_AGENT_ARGS  more tetragon options, e.g. "--rb-size 1048576"
#
# Needs root (BPF, audit). Every process it starts is stopped by its PID; the audit rule it
# adds is deleted (only that rule, tagged -k tetra-bench) and the audit settings it changes
# (enabled, backlog) are put back. BPF statistics are held on through a BPF_ENABLE_STATS
# descriptor (bench/bpf_stats_hold.c), not the global sysctl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
O=$(cd "${1:-build}" && pwd)
ITERATIONS=${BENCH_ITERATIONS:-5000}
ROUNDS=${BENCH_ROUNDS:-3}
read -r -a WAYS <<<"${BENCH_WAYS:-none agent agent+out auditd}"
CPU=${BENCH_CPU-$(($(nproc) - 1))}
NICE=${BENCH_NICE:-}
BPF_STATS=${BENCH_BPF_STATS:-1}
read -r -a AGENT_ARGS <<<"${BENCH_AGENT_ARGS:-}"
WARMUP=100

FORKEXEC="$O/bench/forkexec"
WORK=$(mktemp -d /tmp/tetra-bench.XXXXXX)
RES="$WORK/results"
PIDS=()
CLK_TCK=$(getconf CLK_TCK)
AUDIT_RULE=("always,exit" -F arch=b64 -S execve -k tetra-bench)
AUDIT_UNAVAILABLE=""
audit_rule_added=0
audit_saved=""
AUDITD_PID=""
AUDITD_OURS=0
STATS_PID=""

log() { printf '  %s\n' "$*" >&2; }
die() {
	printf 'exec_bench: %s\n' "$*" >&2
	exit 1
}

# --- processes and cleanup --------------------------------------------------------------

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

forget_pid() {
	local pid=$1 keep=() p
	for p in "${PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	audit_restore
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # SECONDS COMMAND...: poll until COMMAND succeeds
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

proc_status_kb() { # PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

proc_cpu_ticks() { # PID: utime + stime in clock ticks
	# the command name in field 2 may hold spaces: count from the closing parenthesis
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

ticks_to_s() {
	awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f\n", t / hz }'
}

# --- the load ---------------------------------------------------------------------------

build_helpers() {
	local name
	mkdir -p "$O/bench"
	for name in forkexec bpf_stats_hold; do
		if [ ! -x "$O/bench/$name" ] || [ "$here/$name.c" -nt "$O/bench/$name" ]; then
			gcc -O2 -g -Wall -Wextra -o "$O/bench/$name" "$here/$name.c"
		fi
	done
}

# run_loop [N]: one timed loop (N iterations, default ITERATIONS); prints forkexec's
# key=value line.
run_loop() {
	local cmd=("$FORKEXEC" -n "${1:-$ITERATIONS}" -w "$WARMUP" /bin/true)
	[ -z "$NICE" ] || cmd=(nice -n "$NICE" "${cmd[@]}")
	[ -z "$CPU" ] || cmd=(taskset -c "$CPU" "${cmd[@]}")
	"${cmd[@]}"
}

kv() { # LINE KEY: the value of KEY in a key=value line
	tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# --- the agent --------------------------------------------------------------------------

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Rss of the agent's BPF map mappings (the ring buffer) in kB.
bpf_map_rss_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "anon_inode:bpf-map") }
	     m && $1 == "Rss:" { s += $2 } END { print s + 0 }' "/proc/$1/smaps"
}

# The agent's BPF programs: "prog_id run_time_ns run_cnt" per program, from fdinfo.
bpf_prog_stats() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '$1 == "prog_id:" { id = $2 } $1 == "run_time_ns:" { ns = $2 }
		     $1 == "run_cnt:" { n = $2 } END { if (id != "" && ns != "") print id, ns, n }' \
			"$f" 2>/dev/null || true
	done
}

bpf_prog_name() { # ID
	local name
	name=$(bpftool prog show id "$1" 2>/dev/null | sed -n 's/.* name \([^ ]*\) .*/\1/p' || true)
	echo "${name:-prog_$1}"
}

# BPF run-time statistics on while bpf_stats_hold runs (it prints "ready" once they are).
bpf_stats_enable() {
	[ "$BPF_STATS" = 1 ] || return 0
	"$O/bench/bpf_stats_hold" >"$WORK/stats.out" 2>&1 &
	STATS_PID=$!
	PIDS+=("$STATS_PID")
	if ! wait_for 5 grep -q ready "$WORK/stats.out"; then
		log "no BPF statistics: $(cat "$WORK/stats.out")"
		bpf_stats_restore
	fi
}

bpf_stats_restore() {
	[ -n "$STATS_PID" ] || return 0
	stop_pid "$STATS_PID"
	forget_pid "$STATS_PID"
	STATS_PID=""
}

counter() { # NAME: a counter of the running agent (tetra status), 0 if it cannot be read
	local v="" try
	for try in 1 2 3; do
		v=$("$TETRA" --server-address "$AGENT_ADDR" status 2>/dev/null |
			awk -v n="$1" '$1 == n { print $2 }' || true)
		if [ -n "$v" ]; then
			break
		fi
		[ "$try" = 3 ] || sleep 0.2
	done
	echo "${v:-0}"
}

agent_saw() { # N: the agent has counted at least N exec events
	[ "$(counter events.process_exec)" -ge "$1" ]
}

agent_has_subscriber() {
	[ "$(counter grpc.subscribers)" -ge 1 ]
}

# Options that keep the agent to itself: no policies restored from (or pins taken over in)
# the shared default state and BPF directories, for agents that have those options.
agent_private_args() {
	local help
	help=$("$TETRAGON" --help 2>&1 || true)
	if grep -q -- '--state-dir' <<<"$help"; then
		mkdir -p "$WORK/state"
		echo "--state-dir $WORK/state"
	fi
	if grep -q -- '--bpf-dir' <<<"$help"; then
		echo "--bpf-dir tetra-bench-$$"
	fi
}

# start_agent [ARGS...]: sets AGENT_PID AGENT_ADDR.
start_agent() {
	local log="$WORK/agent.log" private
	read -r -a private <<<"$(agent_private_args | tr '\n' ' ')"
	AGENT_ADDR="127.0.0.1:$(free_port)"
	"$TETRAGON" --server-address "$AGENT_ADDR" --server-unix-socket "$WORK/agent.sock" \
		"${private[@]}" "${AGENT_ARGS[@]}" "$@" >"$log" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	if ! wait_for 30 grep -q "Listening for events" "$log"; then
		tail -20 "$log" >&2
		die "the agent did not start"
	fi
}

stop_agent() {
	stop_pid "$AGENT_PID"
	forget_pid "$AGENT_PID"
}

# agent_before / agent_after WAY: memory, CPU and BPF run time around a loop. One line per
# round in $RES/WAY.agent: idle_rss_kb idle_pss_kb ringbuf_kb idle_hwm_kb rss_kb hwm_kb cpu_s
# execs lost
# and lines "round prog_id ns runs" in $RES/WAY.bpf.
agent_before() {
	sleep 1 # settle: the /proc scan and the first events are done
	A_IDLE_RSS=$(proc_status_kb "$AGENT_PID" VmRSS)
	A_IDLE_PSS=$(awk '$1 == "Pss:" { print $2 }' "/proc/$AGENT_PID/smaps_rollup")
	A_RB=$(bpf_map_rss_kb "$AGENT_PID")
	A_IDLE_HWM=$(proc_status_kb "$AGENT_PID" VmHWM)
	A_EXECS=$(counter events.process_exec)
	A_LOST=$(($(counter bpf.ringbuf_full) + $(counter grpc.subscriber_dropped)))
	bpf_stats_enable
	bpf_prog_stats "$AGENT_PID" >"$WORK/bpf.before"
	A_TICKS=$(proc_cpu_ticks "$AGENT_PID")
}

agent_after() {
	local way=$1 round=$2 ticks execs lost
	wait_for 10 agent_saw $((A_EXECS + ITERATIONS + WARMUP)) || true
	sleep 0.5
	ticks=$(($(proc_cpu_ticks "$AGENT_PID") - A_TICKS))
	bpf_prog_stats "$AGENT_PID" >"$WORK/bpf.after"
	bpf_stats_restore
	execs=$(($(counter events.process_exec) - A_EXECS))
	lost=$(($(counter bpf.ringbuf_full) + $(counter grpc.subscriber_dropped) - A_LOST))
	echo "$A_IDLE_RSS $A_IDLE_PSS $A_RB $A_IDLE_HWM $(proc_status_kb "$AGENT_PID" VmRSS)" \
		"$(proc_status_kb "$AGENT_PID" VmHWM) $(ticks_to_s "$ticks") $execs $lost" \
		>>"$RES/$way.agent"
	join <(sort "$WORK/bpf.before") <(sort "$WORK/bpf.after") |
		while read -r id ns0 n0 ns1 n1; do
			echo "$round $(bpf_prog_name "$id") $((ns1 - ns0)) $((n1 - n0))"
		done >>"$RES/$way.bpf"
	ticks_to_s "$ticks" >>"$RES/$way.daemon"
}

# --- auditd -----------------------------------------------------------------------------

audit_status() { # FIELD: from auditctl -s
	auditctl -s 2>/dev/null | awk -v f="$1" '$1 == f { print $2 }'
}

# Why auditd cannot be measured here, or "" if it can.
audit_check() {
	local err
	if ! command -v auditctl >/dev/null || ! command -v auditd >/dev/null; then
		echo "auditd is not installed (deploy/install-deps.sh --bench)"
	elif ! err=$(auditctl -s 2>&1 >/dev/null) || [ -z "$(audit_status enabled)" ]; then
		echo "auditctl -s failed: ${err:-no status} (no audit in the kernel, or no CAP_AUDIT_CONTROL)"
	elif [ "$(audit_status enabled)" = 2 ]; then
		echo "the audit configuration is locked (enabled 2)"
	elif auditctl -l 2>/dev/null | grep -q -- 'key=tetra-bench'; then
		echo "a tetra-bench audit rule is already loaded (another run?)"
	elif [ ! -r /etc/audit/auditd.conf ]; then
		echo "no /etc/audit/auditd.conf"
	fi
}

# The settings a run changes, saved once and put back by audit_restore.
audit_save() {
	[ -z "$audit_saved" ] || return 0
	audit_saved="$(audit_status enabled) $(audit_status backlog_limit) $(audit_status backlog_wait_time)"
}

audit_restore() {
	local enabled backlog wait_time
	if [ "$audit_rule_added" = 1 ]; then
		auditctl -d "${AUDIT_RULE[@]}" >/dev/null 2>&1 || log "could not delete the audit rule"
		audit_rule_added=0
	fi
	if [ -n "$AUDITD_PID" ] && [ "$AUDITD_OURS" = 1 ]; then
		stop_pid "$AUDITD_PID"
		forget_pid "$AUDITD_PID"
	fi
	AUDITD_PID=""
	[ -n "$audit_saved" ] || return 0
	read -r enabled backlog wait_time <<<"$audit_saved"
	[ "$(audit_status enabled)" = "$enabled" ] || auditctl -e "$enabled" >/dev/null
	[ "$(audit_status backlog_limit)" = "$backlog" ] || auditctl -b "$backlog" >/dev/null
	[ "$(audit_status backlog_wait_time)" = "$wait_time" ] ||
		auditctl --backlog_wait_time "$wait_time" >/dev/null
}

auditd_registered() { # PID: the kernel sends its audit records to PID
	[ "$(audit_status pid)" = "$1" ]
}

# start_auditd: the system's auditd if one runs, else ours: the system's auditd.conf but
# with its log (and no plugins) in the work directory. Then the backlog settings of
# Debian's /etc/audit/rules.d/audit.rules (what the auditd service loads) and the rule.
start_auditd() {
	local conf="$WORK/auditd" pid backlog
	audit_save
	pid=$(audit_status pid)
	if [ -n "$pid" ] && [ "$pid" != 0 ]; then
		AUDITD_PID=$pid AUDITD_OURS=0
	else
		mkdir -p "$conf/plugins.d"
		sed -e "s|^log_file *=.*|log_file = $conf/audit.log|" \
			-e "s|^plugin_dir *=.*|plugin_dir = $conf/plugins.d|" \
			/etc/audit/auditd.conf >"$conf/auditd.conf"
		chmod 0640 "$conf/auditd.conf"
		rm -f "$conf/audit.log"
		auditd -n -c "$conf" >"$conf/out.log" 2>&1 &
		AUDITD_PID=$! AUDITD_OURS=1
		PIDS+=("$AUDITD_PID")
		if ! wait_for 10 auditd_registered "$AUDITD_PID"; then
			cat "$conf/out.log" >&2
			audit_restore
			return 1
		fi
	fi
	backlog=$(sed -n 's/^-b \([0-9]*\).*/\1/p' /etc/audit/rules.d/audit.rules 2>/dev/null | tail -1)
	auditctl -b "${backlog:-8192}" >/dev/null
	auditctl --backlog_wait_time 60000 >/dev/null 2>&1 || true
	auditctl -a "${AUDIT_RULE[@]}" >/dev/null
	audit_rule_added=1
	AUDIT_LOST0=$(audit_status lost)
	KAUDITD_PID=$(pgrep -x kauditd | head -1 || true)
	AUDIT_TICKS=$(audit_ticks)
}

# CPU of auditd and of the kernel thread kauditd that hands it the records.
audit_ticks() {
	local t
	t=$(proc_cpu_ticks "$AUDITD_PID")
	[ -z "$KAUDITD_PID" ] || t=$((t + $(proc_cpu_ticks "$KAUDITD_PID")))
	echo "$t"
}

stop_auditd() {
	sleep 0.5 # auditd writes its backlog
	ticks_to_s $(($(audit_ticks) - AUDIT_TICKS)) >>"$RES/auditd.daemon"
	echo $(($(audit_status lost) - AUDIT_LOST0)) >>"$RES/auditd.lost"
	audit_restore
}

# --- one round of one way ---------------------------------------------------------------

measure() {
	local way=$1 round=$2 line events_pid=""
	case $way in
	none) ;;
	agent)
		start_agent
		agent_before
		;;
	agent+out)
		start_agent --export-filename "$WORK/export.json"
		"$TETRA" --server-address "$AGENT_ADDR" getevents -o json </dev/null >/dev/null \
			2>"$WORK/getevents.err" &
		events_pid=$!
		PIDS+=("$events_pid")
		if ! wait_for 30 agent_has_subscriber; then
			tail -5 "$WORK/getevents.err" "$WORK/agent.log" >&2 || true
			die "tetra getevents did not connect"
		fi
		agent_before
		;;
	auditd)
		[ -z "$AUDIT_UNAVAILABLE" ] || return 0
		if ! start_auditd; then
			AUDIT_UNAVAILABLE="auditd did not start"
			return 0
		fi
		;;
	*) die "unknown way $way" ;;
	esac

	line=$(run_loop)
	echo "$(kv "$line" us_per_iter) $(kv "$line" wall_ns)" \
		"$(($(kv "$line" self_user_us) + $(kv "$line" self_sys_us) + $(kv "$line" child_user_us) + $(kv "$line" child_sys_us)))" \
		>>"$RES/$way.time"

	case $way in
	agent | agent+out)
		agent_after "$way" "$round"
		if [ -n "$events_pid" ]; then
			stop_pid "$events_pid"
			forget_pid "$events_pid"
		fi
		stop_agent
		;;
	auditd) stop_auditd ;;
	esac
}

# --- statistics and the tables ----------------------------------------------------------

median() { # of the numbers on stdin, one a line
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

col() { # FILE N: column N of FILE
	awk -v n="$2" '{ print $n }' "$1"
}

# Per-round ratios WAY/none (the same line number is the same round).
ratios() {
	paste -d' ' "$RES/$1.time" "$RES/none.time" | awk '{ printf "%.5f\n", $1 / $4 }'
}

overhead_of() { # WAY: the median over the rounds of WAY's time / none's time
	ratios "$1" | median
}

pct() { # a ratio as a signed percentage of overhead
	awk -v r="$1" 'BEGIN { printf "%+.1f %%", (r - 1) * 100 }'
}

label() {
	case $1 in
	none) echo "no agent" ;;
	agent) echo "tetragon (default sensor)" ;;
	agent+out) echo "tetragon + export + 1 client" ;;
	auditd) echo "auditd, execve rule" ;;
	esac
}

print_table() {
	local way us lo hi total cpu daemon ovh range
	printf '\nfork+exec+wait of /bin/true, %s iterations x %s rounds: medians (min-max)\n' \
		"$ITERATIONS" "$ROUNDS"
	printf '%-30s %8s %13s %8s %10s %9s %9s %19s\n' way 'us/iter' '(min-max)' 'total s' \
		'loop CPU' 'daemon' overhead '(min .. max)'
	printf '%-30s %8s %13s %8s %10s %9s %9s %19s\n' '' '' '' '' 'us/iter' 'CPU s' '' ''
	for way in "${WAYS[@]}"; do
		if [ "$way" = auditd ] && [ -n "$AUDIT_UNAVAILABLE" ]; then
			printf '%-30s unavailable: %s\n' "$(label "$way")" "$AUDIT_UNAVAILABLE"
			continue
		fi
		[ -s "$RES/$way.time" ] || continue
		us=$(col "$RES/$way.time" 1 | median)
		lo=$(col "$RES/$way.time" 1 | sort -g | head -1)
		hi=$(col "$RES/$way.time" 1 | sort -g | tail -1)
		total=$(col "$RES/$way.time" 2 | median | awk '{ printf "%.2f", $1 / 1e9 }')
		cpu=$(col "$RES/$way.time" 3 | median | awk -v n="$ITERATIONS" '{ printf "%.0f", $1 / n }')
		daemon=-
		[ ! -s "$RES/$way.daemon" ] || daemon=$(median <"$RES/$way.daemon")
		ovh=- range=
		if [ "$way" != none ] && [ -s "$RES/none.time" ]; then
			ovh=$(pct "$(overhead_of "$way")")
			range="($(pct "$(ratios "$way" | sort -g | head -1)") .. $(pct "$(ratios "$way" | sort -g | tail -1)"))"
		fi
		printf '%-30s %8.1f %13s %8s %10s %9s %9s %19s\n' "$(label "$way")" "$us" \
			"($(printf '%.0f-%.0f' "$lo" "$hi"))" "$total" "$cpu" "$daemon" "$ovh" "$range"
	done
	echo "(loop CPU: the loop's and its children's user+system time; daemon CPU: the agent's,"
	echo " or auditd's + kauditd's, user+system time during the loop; overhead: vs no agent"
	echo " in the same round)"
}

print_agent() {
	local way f c m
	[ -s "$RES/agent.agent" ] || [ -s "$RES/agent+out.agent" ] || return 0
	printf '\n%-30s %8s %8s %8s %8s %9s %9s %9s %6s %4s\n' 'agent memory, events' 'idle RSS' \
		'idle PSS' 'ringbuf' 'idle HWM' 'RSS after' 'HWM after' 'CPU/event' 'events' 'lost'
	for way in agent agent+out; do
		f="$RES/$way.agent"
		[ -s "$f" ] || continue
		m=()
		for c in 1 2 3 4 5 6 7 8 9; do
			m+=("$(col "$f" "$c" | median)")
		done
		awk -v l="$(label "$way")" -v m="${m[*]}" '
			function mb(kb) { return sprintf("%.1f MB", kb / 1024) }
			BEGIN {
				split(m, v, " ")
				printf "%-30s %8s %8s %8s %8s %9s %9s %6.0f us %6d %4d\n", l, mb(v[1]),
					mb(v[2]), mb(v[3]), mb(v[4]), mb(v[5]), mb(v[6]),
					(v[8] > 0 ? v[7] * 1e6 / v[8] : 0), v[8], v[9]
			}'
	done
	echo "(RSS includes the BPF ring buffer (\"ringbuf\": its data pages are mapped twice) and"
	echo " the resident pages of shared libraries; PSS divides shared pages among their users."
	echo " CPU/event: the agent's user+system time per exec event; lost: ring buffer + queue drops)"
}

# bpf_medians WAY: per BPF program of the agent "name calls/iteration us/call us/iteration",
# medians over the rounds. An iteration is one loop pass (the warm-up ones included, as the
# counters ran through them); calls from other processes of the machine count too, so the
# cost of one fork+exec+exit is taken as one call of each program.
bpf_medians() {
	local f="$RES/$1.bpf" name c n=$((ITERATIONS + WARMUP)) m
	for name in $(col "$f" 2 | sort -u); do
		m=()
		for c in 1 2 3; do
			m+=("$(awk -v x="$name" -v c="$c" -v n="$n" '$2 == x && $4 > 0 {
				if (c == 1) printf "%.3f\n", $4 / n
				else if (c == 2) printf "%.3f\n", $3 / $4 / 1000
				else printf "%.3f\n", $3 / n / 1000 }' "$f" | median || echo 0)")
		done
		echo "$name ${m[*]}"
	done
}

bpf_total_us() { # WAY: the agent's BPF run time for one call of each program
	bpf_medians "$1" | awk '{ s += $3 } END { printf "%.2f\n", s }'
}

print_bpf() {
	local way total
	for way in agent agent+out; do
		[ -s "$RES/$way.bpf" ] || continue
		printf '\n%s: BPF programs (medians of the rounds)\n' "$(label "$way")"
		printf '  %-14s %10s %9s %9s\n' program 'calls/iter' 'us/call' 'us/iter'
		bpf_medians "$way" | awk '{ printf "  %-14s %10.2f %9.2f %9.2f\n", $1, $2, $3, $4 }'
		total=$(bpf_total_us "$way")
		if [ -s "$RES/none.time" ]; then
			awk -v b="$total" -v t="$(col "$RES/none.time" 1 | median)" 'BEGIN {
				printf "  %-14s %20.2f            = %.2f %% of a no-agent iteration\n",
					"one each", b, b / t * 100 }'
		fi
	done
}

# The no-agent runs' half range around their median, in percent: wall-clock differences
# below it are not resolved by this run.
noise_pct() {
	col "$RES/none.time" 1 | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f\n", (v[NR] - v[1]) / 2 / m * 100 }'
}

print_summary() {
	local a b noise bpf rss rb
	echo
	if [ -s "$RES/agent.time" ] && [ -s "$RES/none.time" ]; then
		a=$(overhead_of agent)
		noise=$(noise_pct)
		bpf=$(bpf_total_us agent 2>/dev/null || echo 0)
		if [ "$(wc -l <"$RES/none.time")" -lt 2 ]; then
			echo "noise: not estimated (one round)"
		else
			echo "noise: the no-agent runs spread +-$noise % around their median;" \
				"smaller wall-clock differences are not resolved by this run"
		fi
		awk -v a="$a" -v z="$noise" -v b="$bpf" -v t="$(col "$RES/none.time" 1 | median)" 'BEGIN {
			o = (a - 1) * 100
			v = (o < z && o > -z) ? "not resolved, within noise" : (o <= 2 ? "met" : "MISSED")
			printf "target: agent overhead <= 2 %%: wall clock %+.1f %% (%s)", o, v
			if (b > 0) printf "; BPF run time %.2f %% of an iteration (%s)", b / t * 100, b / t * 100 <= 2 ? "met" : "MISSED"
			printf "\n" }'
		if [ -s "$RES/auditd.time" ] && [ -z "$AUDIT_UNAVAILABLE" ]; then
			b=$(overhead_of auditd)
			awk -v a="$a" -v b="$b" -v z="$noise" 'BEGIN {
				oa = (a - 1) * 100; ob = (b - 1) * 100
				printf "target: agent overhead <= 1/5 of auditd'"'"'s: agent %+.1f %%, auditd %+.1f %%", oa, ob
				if (ob <= z || (oa < z && oa > -z)) print " (not resolved, within noise)"
				else printf ", ratio %.2f (%s)\n", oa / ob, oa / ob <= 0.2 ? "met" : "MISSED"
			}'
		fi
	fi
	if [ -s "$RES/agent.agent" ]; then
		rss=$(col "$RES/agent.agent" 1 | median)
		rb=$(col "$RES/agent.agent" 3 | median)
		awk -v k="$rss" -v rb="$rb" 'BEGIN {
			printf "target: agent idle RSS <= 20 MB: %.1f MB (%s), of which the ring buffer mapping %.1f MB\n",
				k / 1024, k <= 20 * 1024 ? "met" : "MISSED", rb / 1024 }'
	fi
	if [ -s "$RES/auditd.lost" ]; then
		echo "audit records the kernel lost during the auditd runs:" \
			"$(awk '{ s += $1 } END { print s + 0 }' "$RES/auditd.lost")"
	fi
}

# --- main -------------------------------------------------------------------------------

# williams N ROUND I: the way run I-th in ROUND. Rows of a Williams square: every way runs
# first in some round and follows every other way equally often, so neither the position
# nor the way before (a daemon's teardown, a warm cache) favours one way.
williams() {
	local n=$1 r=$2 i=$3 k
	if ((i == 0)); then
		k=0
	elif ((i % 2 == 1)); then
		k=$(((i + 1) / 2))
	else
		k=$((n - i / 2))
	fi
	echo $(((k + r) % n))
}

# BPF programs of other processes on the process tracepoints (other agents) slow every way.
foreign_tracers() {
	local n
	n=$(bpftool link list 2>/dev/null | grep -c "tp 'sched_process_" || true)
	if [ "$n" -gt 0 ]; then
		echo "warning: $n BPF links of other processes are attached to sched_process_*" \
			"tracepoints (tetragon processes: $(pgrep -d' ' -x tetragon || echo none));" \
			"every way includes their cost"
	fi
}

main() {
	local r i n way
	[ "$(id -u)" -eq 0 ] || die "needs root (BPF programs, audit rules)"
	if [ ! -x "$O/bin/tetragon" ] || [ ! -x "$O/bin/tetra" ]; then
		die "no $O/bin/tetragon or $O/bin/tetra: run make first"
	fi
	# copies, so that a rebuild of O during the run does not swap binaries under it
	mkdir -p "$WORK/bin"
	cp "$O/bin/tetragon" "$O/bin/tetra" "$WORK/bin/"
	TETRAGON="$WORK/bin/tetragon" TETRA="$WORK/bin/tetra"
	mkdir -p "$RES"
	build_helpers
	for way in "${WAYS[@]}"; do
		[ "$way" != auditd ] || AUDIT_UNAVAILABLE=$(audit_check)
	done

	echo "exec_bench: $(nproc) CPUs, kernel $(uname -r), $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?')," \
		"loop $([ -n "$CPU" ] && echo "pinned to CPU $CPU" || echo "not pinned")${NICE:+, nice $NICE}," \
		"bpf_stats $([ "$BPF_STATS" = 1 ] && echo on || echo off) in agent runs${AGENT_ARGS[*]:+, agent options: ${AGENT_ARGS[*]}}"
	foreign_tracers
	n=${#WAYS[@]}
	printf '  warm-up (not counted)' >&2
	run_loop $((ITERATIONS / 5 + 1)) >/dev/null
	echo >&2
	for ((r = 0; r < ROUNDS; r++)); do
		for ((i = 0; i < n; i++)); do
			way=${WAYS[$(williams "$n" "$r" "$i")]}
			printf '  round %d/%d  %-10s' $((r + 1)) "$ROUNDS" "$way" >&2
			measure "$way" "$r"
			sleep 1 # let the last daemon's teardown finish before the next way
			if [ -s "$RES/$way.time" ] && [ "$(wc -l <"$RES/$way.time")" -gt "$r" ]; then
				tail -1 "$RES/$way.time" | awk '{ printf " %8.1f us/iter\n", $1 }' >&2
			else
				echo " skipped" >&2
			fi
		done
	done
	print_table
	print_agent
	print_bpf
	print_summary
}

main
