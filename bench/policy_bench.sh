#!/usr/bin/env bash
# The TracingPolicy engine's costs, with the real agent and real policies:
#
#  1. overhead   a syscall policy that matches nothing, on an openat+close loop
#                (bench/openclose.c), timed in four ways:
#                  none       no agent
#                  agent      tetragon, no policy
#                  agent+1    tetragon + 1 policy on sys_openat (syscall: true: the
#                             syscalls:sys_enter_openat tracepoint here) whose matchArgs
#                             never match
#                  agent+10   the same with 10 such policies
#                Every round runs each way once, in the given order in even rounds and in
#                the reverse order in odd ones (one agent serves the agent ways of two rounds,
#                policies added and deleted between them). A way's overhead is the median
#                over the rounds of its value / the "none" value of the same round, for the
#                loop's wall time and for its CPU time (user+system: on a shared machine the
#                wall time mostly measures waiting for a CPU). Also the run time per call of
#                the agent's generic_* BPF programs (BPF_ENABLE_STATS held by
#                bench/bpf_stats_hold during the agent runs).
#  2. events     a matching Post policy on sys_getppid, driven by getppid loops
#                (bench/getppid_loop.c): events/s, the agent's CPU per event (utime+stime of
#                /proc/PID/stat over the run / the events it counted), the BPF run time per
#                call, and every loss (ring buffer full, subscriber queue drops), with no
#                subscriber, with one plain gRPC subscriber that decodes and counts
#                (bench/count_events.c) and with one `tetra getevents -o json > /dev/null`. When the
#                last event was published is read by bench/policy_rpc.c polling the
#                agent's counters every 20 ms.
#  3. memory     memlock of the agent's BPF maps and programs (found through its fds in
#                /proc/PID/fdinfo, plus the maps its programs use) with 0, 1, 10, 100
#                policies, against the KERNELMEMORY the agent reports (tetra tp list -o json).
#  4. control    wall time of `tetra tracingpolicy add` (50 distinct policies), `set-mode`
#                (each of them from enforce to monitor) and `delete`, and where the time goes:
#                tetra's start-up, the connection, the RPC alone (bench/policy_rpc.c, one
#                channel), the agent's state files (the same RPCs with --state-dir on tmpfs),
#                the first policy's sensor load and a later add (strace -f -T of the agent).
#
# Helpers, compiled with gcc into O/bench/: openclose, getppid_loop, policy_rpc (linked with
# O/libtetra.a). Policies that must never fire hook rarely called system calls (personality,
# iopl, ...); the agent's state directory is under /tmp (the disk here) except in part 3 and the
# tmpfs comparison of part 4 (/dev/shm).
#
#   bench/policy_bench.sh [O]
#
# Environment:
#   BENCH_PARTS             parts to run, in order ("overhead events memory control")
#   BENCH_ITERATIONS        open/close iterations per overhead run (50000)
#   BENCH_ROUNDS            overhead rounds (4)
#   BENCH_WAYS              overhead ways ("none agent agent+1 agent+10")
#   BENCH_CPU               taskset CPU list for the open/close loop; default the last CPU, ""
#                           for none (the agent and the event generators are never pinned)
#   BENCH_BPF_STATS         1 (default): BPF run-time statistics on during the policy runs
#   BENCH_EVENT_SECONDS     seconds per event run (2)
#   BENCH_EVENT_LOADS       event runs: N = N getppid loops flat out, N@R = N loops sharing R
#                           calls/s ("1 2 4 1@100000 1@200000")
#   BENCH_MEM_COUNTS        policy counts of the memory part ("0 1 10 100")
#   BENCH_POLICIES          policies added in the control part (50)
#   BENCH_STRACE            1 (default): strace the agent during one first add (sensor load)
#                           and one later add (neither counts in the latency rows); 0: none
#   BENCH_AGENT_ARGS        more tetragon options, e.g. "--rb-size 1048576"
#
# Needs root (BPF). Every process it starts is stopped by its PID; no sysctl is written; the
# agents run on free ports, their own unix sockets, --state-dir and --bpf-dir under a
# temporary directory that is removed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
O=$(cd "${1:-build}" && pwd)
read -r -a PARTS <<<"${BENCH_PARTS:-overhead events memory control}"
ITERATIONS=${BENCH_ITERATIONS:-50000}
ROUNDS=${BENCH_ROUNDS:-4}
read -r -a WAYS <<<"${BENCH_WAYS:-none agent agent+1 agent+10}"
CPU=${BENCH_CPU-$(($(nproc) - 1))}
BPF_STATS=${BENCH_BPF_STATS:-1}
EVENT_SECONDS=${BENCH_EVENT_SECONDS:-2}
read -r -a EVENT_LOADS <<<"${BENCH_EVENT_LOADS:-1 2 4 1@100000 1@200000}"
read -r -a MEM_COUNTS <<<"${BENCH_MEM_COUNTS:-0 1 10 100}"
NPOL=${BENCH_POLICIES:-50}
STRACE=${BENCH_STRACE:-1}
read -r -a AGENT_ARGS <<<"${BENCH_AGENT_ARGS:-}"
WARMUP=2000

WORK=$(mktemp -d /tmp/tetra-policy-bench.XXXXXX)
SHM=""
RES="$WORK/results"
POL="$WORK/policies"
PIDS=()
CLK_TCK=$(getconf CLK_TCK)
bpf_stats_pid=""
AGENT_PID="" AGENT_ADDR="" AGENT_N=0 AGENT_SENSOR=0 OH_K=0 STRACE_PID="" NPOL_TRACED=0 RPC_SAMPLES=0 SUB_PID=""

log() { printf '  %s\n' "$*" >&2; }
die() {
	printf 'policy_bench: %s\n' "$*" >&2
	exit 1
}

# --- processes and cleanup --------------------------------------------------------------

stop_pid() { # PID: SIGTERM, up to 10 s, then SIGKILL
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
	bpf_stats_restore
	rm -rf "$WORK"
	[ -z "$SHM" ] || rm -rf "$SHM"
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

proc_cpu_ticks() { # PID: utime + stime in clock ticks (all threads)
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

now_us() { # wall clock in microseconds, without a fork
	local t=${EPOCHREALTIME/./}
	echo "$t"
}

kv() { # LINE KEY: the value of KEY in a key=value line
	tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

median() { # of the numbers on stdin, one a line
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Nearest-rank percentiles of the numbers on stdin: "n p50 p95 p99 max".
percentiles() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print 0, 0, 0, 0, 0; exit }
		split("50 95 99", q, " ")
		printf "%d", NR
		for (i = 1; i <= 3; i++) { r = int((q[i] * NR + 99) / 100); if (r < 1) r = 1; printf " %s", v[r] }
		printf " %s\n", v[NR] }'
}

col() { # FILE N: column N of FILE
	awk -v n="$2" '{ print $n }' "$1"
}

# --- build ------------------------------------------------------------------------------

build_helpers() {
	local pkgs="libbpf libelf zlib grpc libprotobuf-c libuv sqlite3 yaml-0.1 jansson" f
	mkdir -p "$O/bench"
	for f in openclose getppid_loop bpf_stats_hold; do
		if [ ! -x "$O/bench/$f" ] || [ "$here/$f.c" -nt "$O/bench/$f" ]; then
			gcc -O2 -g -Wall -Wextra -o "$O/bench/$f" "$here/$f.c"
		fi
	done
	[ -f "$O/libtetra.a" ] || die "no $O/libtetra.a: run make first"
	for f in policy_rpc count_events; do
		if [ ! -x "$O/bench/$f" ] || [ "$here/$f.c" -nt "$O/bench/$f" ] ||
			[ "$O/libtetra.a" -nt "$O/bench/$f" ]; then
			# shellcheck disable=SC2046,SC2086
			gcc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
				-I"$O/gen" -I"$root" $(pkg-config --cflags $pkgs) \
				-o "$O/bench/$f" "$here/$f.c" "$O/libtetra.a" \
				$(pkg-config --libs $pkgs) -lpthread -lm
		fi
	done
	mkdir -p "$WORK/bin"
	# copies, so that a rebuild of O during the run does not swap binaries under it
	cp "$O/bin/tetragon" "$O/bin/tetra" "$O/bench/openclose" "$O/bench/getppid_loop" \
		"$O/bench/policy_rpc" "$O/bench/count_events" "$WORK/bin/"
	TETRAGON="$WORK/bin/tetragon" TETRA="$WORK/bin/tetra" RPC="$WORK/bin/policy_rpc"
	OPENCLOSE="$WORK/bin/openclose" GETPPID="$WORK/bin/getppid_loop"
}

# --- policies ---------------------------------------------------------------------------

# Rarely called system calls with a tracepoint here, for policies that must not fire
# (a tracepoint holds up to 32 hooks of this agent; 10 of them hold 320).
pick_quiet_syscalls() {
	local s
	QUIET=()
	for s in personality iopl ioperm vhangup swapoff syslog sysfs ustat settimeofday \
		quotactl umount acct sethostname setdomainname chroot pivot_root swapon reboot; do
		[ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$s" ] && QUIET+=("$s")
		[ ${#QUIET[@]} -lt 10 ] || break
	done
	[ ${#QUIET[@]} -gt 0 ] || die "no syscall tracepoints in /sys/kernel/tracing/events/syscalls"
}

# openat_policy I: a policy on sys_openat whose filename filter never matches.
openat_policy() {
	local f="$POL/openat-$1.yaml"
	[ -f "$f" ] || cat >"$f" <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "bench-openat-$1"
spec:
  kprobes:
  - call: sys_openat
    syscall: true
    args:
    - index: 1
      type: string
    selectors:
    - matchArgs:
      - index: 1
        operator: Equal
        values: ["/nonexistent/policy-bench/$1"]
EOF
	echo "$f"
}

# quiet_policy PREFIX I: policy PREFIX-I on a rarely called syscall (the I-th of QUIET,
# round robin), one hook, one selector with one value that never matches and a Sigkill
# action (an enforcement action, so that the mode can be switched).
quiet_policy() {
	local f="$POL/$1-$2.yaml" s=${QUIET[$(($2 % ${#QUIET[@]}))]}
	[ -f "$f" ] || cat >"$f" <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "$1-$2"
spec:
  kprobes:
  - call: sys_$s
    syscall: true
    args:
    - index: 0
      type: int
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: ["$((900000 + $2))"]
      matchActions:
      - action: Sigkill
EOF
	echo "$f"
}

getppid_policy() {
	local f="$POL/getppid.yaml"
	cat >"$f" <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "bench-getppid"
spec:
  kprobes:
  - call: sys_getppid
    syscall: true
EOF
	echo "$f"
}

# --- the agent --------------------------------------------------------------------------

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A state directory on tmpfs when there is one (no fsync cost), else under WORK. SHM is
# made once by main.
state_dir_fast() {
	echo "${SHM:-$WORK}/state.$AGENT_N"
}

# start_agent [STATE_DIR]: sets AGENT_PID AGENT_ADDR AGENT_LOG. A fresh state directory
# (no policies restored) and its own pin directory each time.
start_agent() {
	local state=${1:-$WORK/state.$AGENT_N}
	AGENT_N=$((AGENT_N + 1))
	AGENT_LOG="$WORK/agent.$AGENT_N.log"
	AGENT_ADDR="127.0.0.1:$(free_port)"
	rm -rf "$state"
	"$TETRAGON" --server-address "$AGENT_ADDR" --server-unix-socket "$WORK/agent.$AGENT_N.sock" \
		--state-dir "$state" --bpf-dir "tetra-policy-bench-$$" "${AGENT_ARGS[@]}" \
		>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	AGENT_SENSOR=0
	PIDS+=("$AGENT_PID")
	if ! wait_for 30 grep -q "Listening for events" "$AGENT_LOG"; then
		tail -20 "$AGENT_LOG" >&2
		die "the agent did not start"
	fi
}

stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	stop_pid "$AGENT_PID"
	forget_pid "$AGENT_PID"
	AGENT_PID=""
}

# skip_if_refused OUTPUT: when the agent cannot load its policy programs at all (a broken
# build, a kernel without what they need), say so and exit 77 (skipped).
skip_if_refused() {
	local why
	why=$(grep -o 'cannot load the policy programs.*' <<<"$1" | head -1 || true)
	[ -n "$why" ] || return 0
	echo "policy_bench: skipped: the agent of $O refuses every policy here: $why"
	exit 77
}

# note_first_add RPC_OUTPUT: the first add an agent gets loads the generic sensor: keep its
# time ("rpc.first us" in $RES/ctl).
note_first_add() {
	[ "$AGENT_SENSOR" = 0 ] || return 0
	grep '^add ' <<<"$1" | head -1 | sed -n 's/.* ns=\([0-9]*\) .*/rpc.first \1/p' |
		awk '{ print $1, int($2 / 1000) }' >>"$RES/ctl"
	AGENT_SENSOR=1
}

# rpc OPS...: run policy_rpc on the agent with one operation per argument; its output
# (connect + one line per op) on stdout. Fails if an operation failed.
rpc() {
	local op
	for op in "$@"; do
		echo "$op"
	done | "$RPC" "$AGENT_ADDR"
}

# add_policies FILE...: add them over one channel; dies on a refusal.
add_policies() {
	local out f ops=()
	for f in "$@"; do
		ops+=("add $f")
	done
	out=$(rpc "${ops[@]}") || {
		skip_if_refused "$out"
		die "adding policies failed: $(grep -v 'status=OK' <<<"$out" | head -3)"
	}
	note_first_add "$out"
}

# snap FILE: the agent's counters as "NAME VALUE" lines.
snap() {
	rpc stats | sed -n 's/^counter //p' >"$1"
}

cval() { # FILE NAME
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

counter() { # NAME: one counter of the running agent
	local f="$WORK/snap.tmp"
	snap "$f"
	cval "$f" "$1"
}

# The agent's BPF programs: "prog_id run_time_ns run_cnt" per program fd.
bpf_prog_stats() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '$1 == "prog_id:" { id = $2 } $1 == "run_time_ns:" { ns = $2 }
		     $1 == "run_cnt:" { n = $2 } $1 == "link_id:" { link = 1 }
		     END { if (id != "" && ns != "" && !link) print id, ns, n }' "$f" 2>/dev/null || true
	done
}

# Program names by id, from one bpftool call; call prog_names_refresh in the main shell
# (not in a pipeline) before looking names up with bpf_prog_name.
declare -A PROG_NAMES=()
prog_names_refresh() {
	local id name
	while read -r id name; do
		PROG_NAMES[$id]=$name
	done < <(bpftool -j prog show 2>/dev/null | python3 -c 'import json, sys
for p in json.load(sys.stdin): print(p["id"], p.get("name", "prog_%d" % p["id"]))' || true)
}

bpf_prog_name() { # ID
	echo "${PROG_NAMES[$1]:-prog_$1}"
}

# BPF run-time statistics on while bench/bpf_stats_hold holds a BPF_ENABLE_STATS descriptor
# (it prints "ready" once they are): no sysctl is written, nobody else's setting undone.
bpf_stats_enable() {
	[ "$BPF_STATS" = 1 ] && [ -z "$bpf_stats_pid" ] || return 0
	"$O/bench/bpf_stats_hold" >"$WORK/stats.out" 2>&1 &
	bpf_stats_pid=$!
	PIDS+=("$bpf_stats_pid")
	if ! wait_for 5 grep -q ready "$WORK/stats.out"; then
		log "no BPF statistics: $(cat "$WORK/stats.out")"
		bpf_stats_restore
	fi
}

bpf_stats_restore() {
	[ -n "$bpf_stats_pid" ] || return 0
	stop_pid "$bpf_stats_pid"
	forget_pid "$bpf_stats_pid"
	bpf_stats_pid=""
}

# Tracepoints of the system-call class that other processes' BPF programs use: any of them
# puts every task of the machine on the slow system-call path, in every way of part 1.
foreign_syscall_tracers() {
	bpftool perf list 2>/dev/null |
		awk -v me="${AGENT_PID:-0}" '$2 != me && ($NF ~ /^sys_(enter|exit)/ || $NF ~ /^(sys_enter|sys_exit)$/) {
			split($2, a, " "); print $2 ":" $NF }' | sort -u | tr '\n' ' '
}

# ========================================================================================
# 1. overhead of a policy that matches nothing

overhead_loop() {
	local cmd=("$OPENCLOSE" -n "$ITERATIONS" -w "$WARMUP" "$WORK/openclose.file")
	[ -z "$CPU" ] || cmd=(taskset -c "$CPU" "${cmd[@]}")
	"${cmd[@]}"
}

# oh_policies K: make the running agent hold exactly the policies bench-openat-0..K-1.
oh_policies() {
	local k=$1 i ops=()
	for ((i = OH_K; i < k; i++)); do
		ops+=("add $(openat_policy "$i")")
	done
	for ((i = k; i < OH_K; i++)); do
		ops+=("delete bench-openat-$i")
	done
	[ ${#ops[@]} -gt 0 ] || return 0
	if ! rpc "${ops[@]}" >"$WORK/oh.rpc.out"; then
		skip_if_refused "$(cat "$WORK/oh.rpc.out")"
		die "policy changes failed: $(grep -v status=OK "$WORK/oh.rpc.out" | head -3)"
	fi
	note_first_add "$(cat "$WORK/oh.rpc.out")"
	OH_K=$k
}

# One agent serves the agent ways that follow each other (policies added or deleted
# between them); "none" stops it.
overhead_measure() {
	local way=$1 round=$2 n=0 line ev0=0 ev1
	case $way in
	none) ;;
	agent) n=0 ;;
	agent+*) n=${way#agent+} ;;
	*) die "unknown way $way" ;;
	esac
	if [ "$way" = none ]; then
		stop_agent
	else
		if [ -z "$AGENT_PID" ]; then
			start_agent
			OH_K=0
		fi
		oh_policies "$n"
		sleep 0.3
		ev0=$(counter events.process_kprobe)
		bpf_stats_enable
		bpf_prog_stats "$AGENT_PID" >"$WORK/bpf.before"
	fi
	line=$(overhead_loop)
	echo "$(kv "$line" ns_per_iter) $(kv "$line" user_us) $(kv "$line" sys_us)" >>"$RES/oh.$way.time"
	if [ "$way" != none ]; then
		bpf_prog_stats "$AGENT_PID" >"$WORK/bpf.after"
		bpf_stats_restore
		ev1=$(counter events.process_kprobe)
		echo $((ev1 - ev0)) >>"$RES/oh.$way.events"
		prog_names_refresh
		join <(sort "$WORK/bpf.before") <(sort "$WORK/bpf.after") |
			while read -r id ns0 n0 ns1 n1; do
				echo "$round $(bpf_prog_name "$id") $((ns1 - ns0)) $((n1 - n0))"
			done >>"$RES/oh.$way.bpf"
	fi
}

oh_ratios() { # WAY COLUMN: per-round ratios WAY/none of column 1 (wall) or 2 (CPU)
	paste -d' ' "$RES/oh.$1.t" "$RES/oh.none.t" | awk -v c="$2" '{ printf "%.5f\n", $c / $(c + 2) }'
}

pct() { awk -v r="$1" 'BEGIN { printf "%+.1f %%", (r - 1) * 100 }'; }

oh_label() {
	case $1 in
	none) echo "no agent" ;;
	agent) echo "tetragon, no policy" ;;
	agent+1) echo "tetragon + 1 openat policy" ;;
	agent+*) echo "tetragon + ${1#agent+} openat policies" ;;
	esac
}

part_overhead() {
	local r i n=${#WAYS[@]} way us lo hi cpu ovh range covh crange events ons t
	echo
	echo "--- 1. a syscall policy that matches nothing: openat+close of one file, $ITERATIONS" \
		"iterations x $ROUNDS rounds (loop $([ -n "$CPU" ] && echo "pinned to CPU $CPU" || echo "not pinned"))"
	: >"$WORK/openclose.file"
	for ((r = 0; r < ROUNDS; r++)); do
		for ((i = 0; i < n; i++)); do
			# forward in even rounds, reversed in odd ones (A B C D, D C B A, ...): a linear
			# drift of the machine cancels out, and one agent serves the agent ways of two
			# rounds in a row
			if ((r % 2 == 0)); then
				way=${WAYS[$i]}
			else
				way=${WAYS[$((n - 1 - i))]}
			fi
			printf '  round %d/%d  %-10s' $((r + 1)) "$ROUNDS" "$way" >&2
			overhead_measure "$way" "$r"
			tail -1 "$RES/oh.$way.time" | awk '{ printf " %8.1f ns/iter\n", $1 }' >&2
		done
	done
	stop_agent
	# per round: wall ns/iter and CPU ns/iter of each way
	for way in "${WAYS[@]}"; do
		[ ! -s "$RES/oh.$way.time" ] ||
			awk -v n="$ITERATIONS" '{ print $1, ($2 + $3) * 1000 / n }' "$RES/oh.$way.time" >"$RES/oh.$way.t"
	done
	printf '\n%-30s %8s %13s %8s %22s %8s %8s %22s %6s\n' way 'wall' '(min-max)' overhead \
		'(min .. max)' 'CPU' overhead '(min .. max)' events
	printf '%-30s %8s %13s %8s %22s %8s %8s %22s %6s\n' '' 'ns/iter' '' 'wall' '' 'ns/iter' 'CPU' '' ''
	for way in "${WAYS[@]}"; do
		[ -s "$RES/oh.$way.t" ] || continue
		us=$(col "$RES/oh.$way.t" 1 | median)
		lo=$(col "$RES/oh.$way.t" 1 | sort -g | head -1)
		hi=$(col "$RES/oh.$way.t" 1 | sort -g | tail -1)
		cpu=$(col "$RES/oh.$way.t" 2 | median)
		ovh=- range='' covh=- crange='' events=-
		if [ "$way" != none ] && [ -s "$RES/oh.none.t" ]; then
			ovh=$(pct "$(oh_ratios "$way" 1 | median)")
			range="($(pct "$(oh_ratios "$way" 1 | sort -g | head -1)") .. $(pct "$(oh_ratios "$way" 1 | sort -g | tail -1)"))"
			covh=$(pct "$(oh_ratios "$way" 2 | median)")
			crange="($(pct "$(oh_ratios "$way" 2 | sort -g | head -1)") .. $(pct "$(oh_ratios "$way" 2 | sort -g | tail -1)"))"
			events=$(awk '{ s += $1 } END { print s + 0 }' "$RES/oh.$way.events")
		fi
		printf '%-30s %8.0f %13s %8s %22s %8.0f %8s %22s %6s\n' "$(oh_label "$way")" "$us" \
			"($(printf '%.0f-%.0f' "$lo" "$hi"))" "$ovh" "$range" "$cpu" "$covh" "$crange" "$events"
	done
	echo "(wall: the loop's elapsed time per iteration; CPU: its user+system time per iteration,"
	echo " which leaves out the time it waited for a CPU on this shared machine; overhead: median"
	echo " over the rounds of the way's value / the no-agent value of the same round; events:"
	echo " policy events the agent counted over all rounds, 0 = nothing matched)"

	[ -s "$RES/oh.none.t" ] || return 0
	ons=$(col "$RES/oh.none.t" 2 | median)
	if [ "$(wc -l <"$RES/oh.none.t")" -ge 2 ]; then
		for i in 1 2; do
			col "$RES/oh.none.t" $i | sort -g | awk '{ v[NR] = $1 } END {
				m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "%.1f\n", (v[NR] - v[1]) / 2 / m * 100 }'
		done | paste -sd' ' | while read -r nw nc; do
			echo "noise: the no-agent runs spread +-$nw % (wall) and +-$nc % (CPU) around their" \
				"medians (shared machine, load $(cut -d' ' -f1-3 /proc/loadavg)); smaller" \
				"differences are not resolved"
		done
	fi

	[ "$BPF_STATS" = 1 ] || return 0
	printf '\nBPF run time of the agent'"'"'s generic_* programs (BPF_ENABLE_STATS), medians of the rounds\n'
	printf '  %-30s %-16s %10s %9s %9s %12s\n' way program 'calls/iter' 'ns/call' 'ns/iter' '% of none CPU'
	for way in "${WAYS[@]}"; do
		[ -s "$RES/oh.$way.bpf" ] || continue
		t=$(awk '$2 ~ /^generic_/ && $4 > 0' "$RES/oh.$way.bpf")
		if [ -z "$t" ]; then
			printf '  %-30s %-16s\n' "$(oh_label "$way")" '(none attached)'
			continue
		fi
		awk '{ print $2 }' <<<"$t" | sort -u | while read -r p; do
			awk -v p="$p" '$2 == p' <<<"$t" >"$WORK/bpf.sel"
			awk -v n="$((ITERATIONS + WARMUP))" -v l="$(oh_label "$way")" -v p="$p" -v none="$ons" \
				-v c="$(awk -v n="$((ITERATIONS + WARMUP))" '{ print $4 / n }' "$WORK/bpf.sel" | median)" \
				-v ns="$(awk '{ print $3 / $4 }' "$WORK/bpf.sel" | median)" \
				-v it="$(awk -v n="$((ITERATIONS + WARMUP))" '{ print $3 / n }' "$WORK/bpf.sel" | median)" \
				'BEGIN { printf "  %-30s %-16s %10.2f %9.0f %9.0f %11.1f %%\n", l, p, c, ns, it, it / none * 100 }'
		done
	done
	echo "  (calls/iter above 1: other processes' openat calls on the machine count too; the"
	echo "   program runs inside the calling task, so ns/iter is what the loop pays in BPF; % of"
	echo "   none CPU: ns/iter over the no-agent loop's CPU ns/iter)"
	awk -v n="$((ITERATIONS + WARMUP))" -v none="$ons" '$2 ~ /^generic_/ { ns[$1] += $3 }
		END { for (r in ns) print ns[r] / n / none * 100 }' "$RES/oh.agent+1.bpf" 2>/dev/null |
		median 2>/dev/null | awk '{ printf "target: a policy that matches nothing costs <= 5 %%: BPF run time alone %.1f %% of an open+close (1 policy): %s\n", $1, ($1 <= 5 ? "met" : "MISSED") }' || true
}

# ========================================================================================
# 2. event throughput and CPU per event

has_subscriber() { [ "$(counter grpc.subscribers)" -ge 1 ]; }
sub_queue_empty() { [ "$(counter grpc.subscriber_queued)" -eq 0 ]; }

# start_subscriber KIND / stop_subscriber: one subscriber (SUB_PID): grpc, a plain gRPC
# client that decodes and counts the responses (bench/count_events.c); json,
# `tetra getevents -o json > /dev/null`, which renders every event as JSON.
start_subscriber() {
	if [ "$1" = grpc ]; then
		"$WORK/bin/count_events" "$AGENT_ADDR" >/dev/null 2>"$WORK/getevents.err" &
	else
		"$TETRA" --server-address "$AGENT_ADDR" getevents -o json </dev/null >/dev/null \
			2>"$WORK/getevents.err" &
	fi
	SUB_PID=$!
	PIDS+=("$SUB_PID")
	wait_for 30 has_subscriber ||
		die "tetra getevents did not connect: $(tail -3 "$WORK/getevents.err")"
	sleep 0.3
}

stop_subscriber() {
	stop_pid "$SUB_PID"
	forget_pid "$SUB_PID"
	SUB_PID=""
}

# event_run SUB LOAD: SUB none|grpc|json; LOAD N or N@RATE. Appends a line to $RES/ev.
event_run() {
	local sub=$1 load=$2 gens rate=0 per=0 i pids=() outs=() t0 t1 tick0 tick1 stick0=0 stick1=0
	local calls=0 sub_pid="" line f gen_ns=0 watch_pid bpf tcpu
	gens=${load%@*}
	[ "$load" = "$gens" ] || rate=${load#*@}
	[ "$rate" = 0 ] || per=$((rate / gens))
	if [ "$sub" != none ]; then
		sub_pid=$SUB_PID
		# what the previous run left in the subscriber's queue goes first
		wait_for 30 sub_queue_empty || true
		stick0=$(proc_cpu_ticks "$sub_pid")
	fi
	# a watcher polls the event count every 20 ms from before the loops start, so that the
	# moment the last event was published is known to 20 ms
	rm -f "$WORK/target" "$WORK/watch.out"
	"$RPC" "$AGENT_ADDR" <<<"watch events.process_kprobe $WORK/target" >"$WORK/watch.out" &
	watch_pid=$!
	PIDS+=("$watch_pid")
	wait_for 30 grep -q '^connect' "$WORK/watch.out" || die "policy_rpc watch did not connect"
	snap "$WORK/ev.before"
	bpf_stats_enable
	bpf_prog_stats "$AGENT_PID" >"$WORK/bpf.before"
	tick0=$(proc_cpu_ticks "$AGENT_PID")
	t0=$(now_us)
	for ((i = 0; i < gens; i++)); do
		f="$WORK/gen.$i.out"
		outs+=("$f")
		if [ "$per" -gt 0 ]; then
			"$GETPPID" -t $((EVENT_SECONDS * 1000)) -r "$per" >"$f" &
		else
			"$GETPPID" -t $((EVENT_SECONDS * 1000)) >"$f" &
		fi
		pids+=($!)
		PIDS+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || die "getppid_loop failed"
		forget_pid "$i"
	done
	for f in "${outs[@]}"; do
		line=$(cat "$f")
		calls=$((calls + $(kv "$line" calls)))
		[ "$(kv "$line" wall_ns)" -le "$gen_ns" ] || gen_ns=$(kv "$line" wall_ns)
	done
	# until the agent has published an event for every call (or stopped getting them: the
	# rest was lost); t1 is when it got there
	echo $(($(cval "$WORK/ev.before" events.process_kprobe) + calls)) >"$WORK/target.tmp"
	mv "$WORK/target.tmp" "$WORK/target"
	wait "$watch_pid" || die "policy_rpc watch failed: $(cat "$WORK/watch.out")"
	forget_pid "$watch_pid"
	t1=$(kv "$(grep '^value=' "$WORK/watch.out")" at_us)
	tick1=$(proc_cpu_ticks "$AGENT_PID")
	tcpu=$t1
	bpf_prog_stats "$AGENT_PID" >"$WORK/bpf.after"
	bpf_stats_restore
	snap "$WORK/ev.after"
	# the generic_* programs' run time and runs
	prog_names_refresh
	bpf=$(join <(sort "$WORK/bpf.before") <(sort "$WORK/bpf.after") |
		while read -r id ns0 n0 ns1 n1; do
			case $(bpf_prog_name "$id") in
			generic_*) echo "$((ns1 - ns0)) $((n1 - n0))" ;;
			esac
		done | awk '{ ns += $1; n += $2 } END { print ns + 0, n + 0 }')
	if [ -n "$sub_pid" ]; then
		# the drop count is final once the subscriber's queue has drained
		wait_for 30 sub_queue_empty || true
		# the agent's CPU includes sending them
		tick1=$(proc_cpu_ticks "$AGENT_PID")
		tcpu=$(now_us)
		stick1=$(proc_cpu_ticks "$sub_pid")
		snap "$WORK/ev.after"
	fi
	d() { echo $(($(cval "$WORK/ev.after" "$1") - $(cval "$WORK/ev.before" "$1"))); }
	# 1 sub, 2 load, 3 calls, 4 wall_us (loops' start to drained), 5 events, 6 other events,
	# 7 rb_full, 8 policy_rb_full, 9 sub_dropped, 10 queued, 11 agent_ticks, 12 sub_ticks,
	# 13 the loops' own time in us, 14 15 BPF run time (ns) and runs of the generic_* programs,
	# 16 the time (us) over which the agent's CPU was counted
	echo "$sub $load $calls $((t1 - t0)) $(d events.process_kprobe)" \
		"$(($(d events.total) - $(d events.process_kprobe)))" "$(d bpf.ringbuf_full)" \
		"$(d bpf.policy_ringbuf_full)" "$(d grpc.subscriber_dropped)" \
		"$(cval "$WORK/ev.after" grpc.subscriber_queued)" "$((tick1 - tick0))" \
		"$((stick1 - stick0))" "$((gen_ns / 1000))" "$bpf" "$((tcpu - t0))" >>"$RES/ev"
}

part_events() {
	local sub load
	echo
	echo "--- 2. events of a matching Post policy (sys_getppid, no selector), getppid loops of" \
		"${EVENT_SECONDS} s"
	start_agent
	add_policies "$(getppid_policy)"
	sleep 0.5
	for sub in none grpc json; do
		stop_subscriber
		[ "$sub" = none ] || start_subscriber "$sub"
		for load in "${EVENT_LOADS[@]}"; do
			printf '  subscriber %-5s load %-10s' "$sub" "$load" >&2
			event_run "$sub" "$load"
			tail -1 "$RES/ev" | awk '{ printf " %9d events %6.0f k/s\n", $5, $5 / $4 * 1000 }' >&2
		done
	done
	stop_subscriber
	stop_agent
	printf '\n%-10s %-8s %9s %8s %9s %8s %6s %8s %7s %8s %9s %8s %6s %7s\n' subscriber load \
		'calls/s' 'events' 'events/s' 'agent' 'agent' 'BPF' 'rb full' 'sub' 'sub' 'sub' 'other' 'lost'
	printf '%-10s %-8s %9s %8s %9s %8s %6s %8s %7s %8s %9s %8s %6s %7s\n' '' '(loops)' 'offered' \
		'counted' 'counted' 'us/event' 'CPU' 'ns/call' '(lost)' 'dropped' 'events/s' 'us/event' \
		'events' 'total'
	awk -v hz="$CLK_TCK" '{
		s = $4 / 1e6
		lost = $7 + $8 + $9
		asec = $11 / hz
		del = $5 - $9
		printf "%-10s %-8s %9.0f %8d %9.0f %8.2f %5.0f%% %8.0f %7d %8s %9s %8s %6d %6.2f%%\n",
			($1 == "none" ? "none" : "1 " $1), $2, $3 / ($13 / 1e6), $5, $5 / s,
			($5 > 0 ? asec * 1e6 / $5 : 0), asec / ($16 / 1e6) * 100, ($15 > 0 ? $14 / $15 : 0), $7 + $8,
			($1 != "none" ? $9 : "-"), ($1 != "none" ? sprintf("%.0f", del / s) : "-"),
			($1 != "none" ? sprintf("%.2f", (del > 0 ? $12 / hz * 1e6 / del : 0)) : "-"),
			$6, ($3 > 0 ? lost / $3 * 100 : 0)
	}' "$RES/ev"
	echo "(calls/s offered: the loops' getppid calls per second of their own run time; events"
	echo " counted: policy events the agent published; events/s: those over the time from the"
	echo " loops' start until the agent had published the last one; agent us/event and CPU:"
	echo " the agent's utime+stime (all threads, /proc/PID/stat, 10 ms ticks) from the loops'"
	echo " start until it had published them (with a subscriber: and sent them), per event"
	echo " counted and as a share of one CPU (the few other events of the machine, exec/exit,"
	echo " and the 20 ms stats polls of the watcher add to it);"
	echo " BPF ns/call: run time per run of the generic_* programs (BPF_ENABLE_STATS),"
	echo " paid inside each getppid call; rb full: records the BPF programs could not write"
	echo " (bpf.ringbuf_full + bpf.policy_ringbuf_full); sub dropped: grpc.subscriber_dropped;"
	echo " sub events/s: counted - dropped over the same time; sub us/event: tetra getevents'"
	echo " CPU per event it received; lost total: (rb full + sub dropped) / calls)"
	awk -v hz="$CLK_TCK" '
		{ s = $4 / 1e6; r = $5 / s }
		$1 == "none" && $7 + $8 == 0 && r > best { best = r; bl = $2 }
		$1 == "none" && $5 > 0 { u = $11 / hz * 1e6 / $5; if (umin == "" || u < umin) { umin = u; ul = $2 } }
		$1 == "json" && ($5 - $9) / s > sbest { sbest = ($5 - $9) / s }
		$1 == "grpc" && $9 == 0 && $7 + $8 == 0 && $5 / s > gbest { gbest = $5 / s; gl = $2 }
		$1 == "grpc" && $5 > 0 { g = $11 / hz * 1e6 / $5; if (gmin == "" || g < gmin) gmin = g }
		($7 + $8) > 0 { rb = rb sprintf(" %s/%s", $1 == "none" ? "none" : "1 " $1, $2) }
		$9 > 0 { sd = sd sprintf(" %s/%s", $1, $2) }
		END {
			printf "target: >= 300k events/s: %.0f k/s delivered without loss (no subscriber, load %s)", best / 1000, bl
			if (best >= 300000) print ": met"
			else printf ": not reached by this load; at its lowest measured CPU cost per event the agent (one loop thread) would take %.0f k/s\n", (umin > 0 ? 1000 / umin : 0)
			printf "target: agent CPU <= 2 us/event (no subscriber): %.2f us at best (load %s): %s\n", umin,
				ul, (umin <= 2 ? "met" : "MISSED")
			printf "target: >= 300k events/s delivered to a GetEvents subscriber: %.0f k/s without loss (1 grpc, load %s): %s\n",
				gbest / 1000, gl, (gbest >= 300000 ? "met" : "MISSED")
			printf "agent CPU per event with that subscriber (encode + send): %.2f us at best\n", gmin
			printf "one json subscriber (tetra getevents -o json, rendering each event) received at most %.0f k events/s\n", sbest / 1000
			printf "ring buffer full in:%s\n", (rb != "" ? rb : " none of the runs")
			printf "subscriber drops in loads:%s\n", (sd != "" ? sd : " none")
		}' "$RES/ev"
}

# ========================================================================================
# 3. kernel memory per policy

# mem_of PID: "progs prog_memlock maps map_memlock ringbuf_memlock" of the agent's BPF
# objects: its map and program fds (/proc/PID/fdinfo), the programs behind its link fds
# and the maps those programs use (bpftool), each id once.
mem_of() {
	python3 - "$1" <<'PY'
import json, os, subprocess, sys
pid = sys.argv[1]
maps, progs, link_progs = {}, {}, set()
for fd in os.listdir(f"/proc/{pid}/fdinfo"):
    try:
        kv = {}
        for l in open(f"/proc/{pid}/fdinfo/{fd}"):
            if ":" in l:
                k, v = l.split(":", 1)
                kv[k.strip()] = v.strip()
    except OSError:
        continue
    if "map_id" in kv:
        maps[int(kv["map_id"])] = (kv.get("map_type"), int(kv.get("memlock", 0)))
    elif "link_id" in kv:
        if "prog_id" in kv:
            link_progs.add(int(kv["prog_id"]))
    elif "prog_id" in kv:
        progs[int(kv["prog_id"])] = int(kv.get("memlock", 0))
allp = {p["id"]: p for p in json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"]))}
allm = {m["id"]: m for m in json.loads(subprocess.check_output(["bpftool", "-j", "map", "show"]))}
for p in link_progs:
    if p not in progs and p in allp:
        progs[p] = allp[p].get("bytes_memlock", 0)
for p in list(progs):
    for m in allp.get(p, {}).get("map_ids", []):
        if m not in maps and m in allm:
            maps[m] = (str(allm[m].get("type")), allm[m].get("bytes_memlock", 0))
rb = sum(v for t, v in maps.values() if t in ("27", "ringbuf"))
print(len(progs), sum(progs.values()), len(maps), sum(v for _, v in maps.values()) - rb, rb)
PY
}

# The sum of kernel_memory_bytes over the agent's policies (tetra tp list -o json).
agent_kernel_memory() {
	"$TETRA" --server-address "$AGENT_ADDR" tracingpolicy list -o json |
		python3 -c 'import json, sys
print(sum(int(p.get("kernel_memory_bytes", 0)) for p in json.load(sys.stdin).get("policies", [])))'
}

part_memory() {
	local have=0 want i files line
	echo
	echo "--- 3. kernel memory (memlock) of the agent's BPF maps and programs, by policies loaded"
	echo "    (policy i: one hook on sys_${QUIET[0]}..sys_${QUIET[${#QUIET[@]} - 1]} round robin, one" \
		"matchArgs Equal selector with one value and a Sigkill action; state dir on tmpfs,"
	echo "    so that filling it is quick)"
	start_agent "$(state_dir_fast)"
	sleep 0.5
	: >"$RES/mem"
	for want in "${MEM_COUNTS[@]}"; do
		files=()
		for ((i = have; i < want; i++)); do
			files+=("$(quiet_policy bench-mem "$i")")
		done
		[ ${#files[@]} -eq 0 ] || add_policies "${files[@]}"
		have=$want
		sleep 0.3
		echo "$want $(mem_of "$AGENT_PID") $(agent_kernel_memory)" >>"$RES/mem"
		printf '  %4d policies: %s\n' "$want" "$(tail -1 "$RES/mem")" >&2
	done
	stop_agent
	printf '\n%8s %6s %12s %5s %12s %12s %13s %16s %12s %12s\n' policies progs 'prog memlock' \
		maps 'map memlock' 'ringbuf' 'total' 'delta/policy' 'KERNELMEMORY' 'KM/policy'
	printf '%8s %6s %12s %5s %12s %12s %13s %16s %12s %12s\n' '' '' '' '' '(no ringbuf)' '' '' \
		'vs prev. row' '(agent sum)' ''
	awk 'function kb(b) { return sprintf("%.1f kB", b / 1024) }
	{
		tot = $3 + $5 + $6
		d = "-"
		if (NR > 1 && $1 > pn) d = sprintf("%.0f B", (tot - pt) / ($1 - pn))
		if (NR > 1 && pn == 0 && $1 > 0) d = sprintf("%s (1st)", kb(tot - pt))
		km = ($1 > 0) ? sprintf("%.0f B", $7 / $1) : "-"
		printf "%8d %6d %12s %5d %12s %12s %13s %16s %12s %12s\n", $1, $2, kb($3), $4, kb($5),
			kb($6), kb(tot), d, kb($7), km
		pn = $1; pt = tot
	}' "$RES/mem"
	echo "(memlock as the kernel reports it per map and program (fdinfo / bpftool bytes_memlock);"
	echo " the first policy loads the generic sensor: its programs and its preallocated maps;"
	echo " later policies add map entries only, the programs are shared. KERNELMEMORY is the"
	echo " agent's own estimate per policy (tetra tracingpolicy list), summed)"
}

# ========================================================================================
# 4. policy add, mode toggle and delete latency, and where the time goes

# timed LABEL COMMAND...: run COMMAND (stdout discarded), append "LABEL us" to $RES/ctl.
timed() {
	local label=$1 t0 t1
	shift
	t0=$(now_us)
	if ! "$@" >/dev/null 2>"$WORK/timed.err"; then
		skip_if_refused "$(cat "$WORK/timed.err")"
		die "$* failed: $(cat "$WORK/timed.err")"
	fi
	t1=$(now_us)
	echo "$label $((t1 - t0))" >>"$RES/ctl"
}

tetra_agent() { "$TETRA" --server-address "$AGENT_ADDR" "$@"; }

# rpc_ctl LABEL OUT OPS...: run the operations over one channel into OUT and append their
# times to $RES/ctl as "LABEL.add|mode|delete us" (and "LABEL.addk K us": the K-th add of the
# label, counted over calls through the file $WORK/LABEL.k).
rpc_ctl() {
	local l=$1 out=$2 k=0
	shift 2
	rpc "$@" >"$out" || die "policy RPCs failed: $(grep -v status=OK "$out" | head -3)"
	[ ! -f "$WORK/$l.k" ] || k=$(cat "$WORK/$l.k")
	awk -v p="$l" -v k="$k" -v n="$NPOL" -v q="${#QUIET[@]}" '
		$1 == "connect" { split($2, a, "="); print p ".connect", a[2] / 1000; next }
		{ split($3, a, "="); us = a[2] / 1000 }
		$1 == "add" { k++; print p ".add", us; print p ".addk", k, us; next }
		$1 == "mode" { print p ".mode", us; next }
		$1 == "delete" { d++; print p ".delete", us
			print p ".delete." (d > n - q && p !~ /disk/ ? "detach" : "shared"), us }' "$out" >>"$RES/ctl"
	{ grep -c '^add ' "$out" || true; } | awk -v k="$k" '{ print k + $1 }' >"$WORK/$l.k"
}

# strace_start FILE / strace_stop: strace -f -T the agent into FILE.
strace_start() {
	strace -f -tt -T -qq -p "$AGENT_PID" -o "$1" &
	STRACE_PID=$!
	PIDS+=("$STRACE_PID")
	sleep 1 # attached to every thread
}

strace_stop() {
	sleep 0.3
	stop_pid "$STRACE_PID"
	forget_pid "$STRACE_PID"
}

# strace_sum FILE: the traced add's system calls summed by kind, one line:
# prog_loads ms map_creates ms map_ops ms attach_calls ms fsyncs ms btf_ms
strace_sum() {
	awk '
	function t(s) { split(s, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
	/<unfinished \.\.\.>$/ { pend[$1] = $0; next }
	/ resumed>/ { if ($1 in pend) { $0 = pend[$1] " " $0; delete pend[$1] } }
	{
		d = 0
		if (match($0, /<[0-9.]+>$/)) d = substr($0, RSTART + 1, RLENGTH - 2)
		ts = t($2)
	}
	/BPF_PROG_LOAD/ { pl += d; npl++ }
	/BPF_MAP_CREATE/ { mc += d; nmc++ }
	/BPF_MAP_UPDATE_ELEM|BPF_MAP_DELETE_ELEM|BPF_MAP_LOOKUP_ELEM/ { mu += d; nmu++ }
	/perf_event_open|BPF_LINK_CREATE|PERF_EVENT_IOC/ { at += d; nat++ }
	/fsync\(/ { fs += d; nfs++ }
	/\/sys\/kernel\/btf\/vmlinux/ && !btf0 { btf0 = ts }
	/BPF_BTF_LOAD/ && btf0 && !btf1 { btf1 = ts }
	END {
		printf "%d %.1f %d %.1f %d %.1f %d %.1f %d %.1f %.1f\n", npl, pl * 1000, nmc, mc * 1000,
			nmu, mu * 1000, nat, at * 1000, nfs, fs * 1000, (btf1 > btf0 ? (btf1 - btf0) * 1000 : 0)
	}' "$1"
}

rpc_ns() { sed -n 's/^add .* ns=\([0-9]*\) .*/\1/p' "$1" | tail -1; }

print_strace() {
	[ -s "$WORK/strace.first" ] && [ -s "$WORK/strace.later" ] || return 0
	printf '\n  the agent'"'"'s system calls during one AddTracingPolicy (strace -f -T attached to the agent,\n'
	printf '  which slows every system call; durations are the time inside each call)\n'
	printf '  %-50s %15s %15s\n' '' 'first policy' "policy $((NPOL_TRACED + 1)), disk"
	paste -d' ' <(strace_sum "$WORK/strace.first") <(strace_sum "$WORK/strace.later") |
		awk -v f1="$(rpc_ns "$WORK/st.first.out")" -v f2="$(rpc_ns "$WORK/st.later.out")" '{
		printf "  %-50s %12.1f ms %12.1f ms\n", "the RPC, as the client saw it (traced)", f1 / 1e6, f2 / 1e6
		printf "  %-50s %12.1f ms %12.1f ms\n", "BPF_PROG_LOAD (verifier + JIT), " $1 " / " $12 " calls", $2, $13
		printf "  %-50s %12.1f ms %12.1f ms\n", "kernel BTF read + parse (open to BPF_BTF_LOAD)", $11, $22
		printf "  %-50s %12.1f ms %12.1f ms\n", "BPF_MAP_CREATE, " $3 " / " $14 " calls", $4, $15
		printf "  %-50s %12.1f ms %12.1f ms\n", "BPF map updates/deletes, " $5 " / " $16 " calls", $6, $17
		printf "  %-50s %12.1f ms %12.1f ms\n", "attach (perf_event_open, link, ioctl), " $7 " / " $18 " calls", $8, $19
		printf "  %-50s %12.1f ms %12.1f ms\n", "fsync of the state files, " $9 " / " $20 " calls", $10, $21
	}'
	echo "  (the BTF row is wall time between opening /sys/kernel/btf/vmlinux and loading the"
	echo "   object's BTF: libbpf reads and parses the kernel's 5-6 MB BTF for CO-RE; strace"
	echo "   inflates it, as it is thousands of read(2) calls)"
}

ctl_row() { # LABEL KEY...: percentiles of the "KEY us" lines of $RES/ctl, in ms
	local label=$1 k
	shift
	for k in "$@"; do
		awk -v k="$k" '$1 == k { print $2 / 1000 }' "$RES/ctl"
	done | percentiles | awk -v l="$label" '$1 > 0 {
		printf "  %-56s %4d %9.1f %9.1f %9.1f %9.1f\n", l, $1, $2, $3, $4, $5 }'
}

part_control() {
	local i s files=() ops=() k1
	declare -A attached
	echo
	echo "--- 4. policy add / mode toggle / delete latency ($NPOL distinct policies, each one hook" \
		"on one of sys_${QUIET[*]}; state dir on $(df -T "$WORK" | awk 'NR == 2 { print $2 }'))"
	for ((i = 0; i < NPOL; i++)); do
		files+=("$(quiet_policy bench-ctl "$i")")
	done

	# tetra, as a user runs it: one process (and connection) per command
	start_agent
	timed tetra.first tetra_agent tracingpolicy add "$(quiet_policy bench-ctl-first 0)"
	attached=(["${QUIET[0]}"]=1)
	log "tetra: $NPOL adds, $NPOL mode toggles (enforce -> monitor), $NPOL deletes"
	for ((i = 0; i < NPOL; i++)); do
		s=${QUIET[$((i % ${#QUIET[@]}))]}
		if [ -z "${attached[$s]:-}" ]; then
			timed tetra.add.new tetra_agent tracingpolicy add "${files[$i]}"
			attached[$s]=1
		else
			timed tetra.add.shared tetra_agent tracingpolicy add "${files[$i]}"
		fi
	done
	for ((i = 0; i < NPOL; i++)); do
		timed tetra.mode tetra_agent tracingpolicy set-mode "bench-ctl-$i" monitor
	done
	# deleted in order: the last NQUIET deletes take the last hook off their tracepoint
	for ((i = 0; i < NPOL; i++)); do
		if [ "$i" -ge $((NPOL - ${#QUIET[@]})) ]; then
			timed tetra.delete.detach tetra_agent tracingpolicy delete "bench-ctl-$i"
		else
			timed tetra.delete.shared tetra_agent tracingpolicy delete "bench-ctl-$i"
		fi
	done
	# tetra's own parts: start-up; start-up + reading and validating a policy file (what add
	# does before it connects); start-up + connection + one trivial round trip
	for ((i = 0; i < 10; i++)); do
		timed tetra.help "$TETRA" --help
		timed tetra.validate "$TETRA" tracingpolicy validate "${files[$((i % NPOL))]}"
		timed tetra.version tetra_agent version --server
	done

	# the same RPCs alone over one channel, on the same agent (its sensor is loaded); one
	# add in the middle under strace
	log "policy_rpc: the same RPCs over one channel, state dir on disk"
	NPOL_TRACED=$((NPOL / 2))
	RPC_SAMPLES=$((NPOL < 10 ? NPOL : 10))
	ops=()
	for ((i = 0; i < NPOL_TRACED; i++)); do
		ops+=("add $(quiet_policy bench-rpcd "$i")")
	done
	rpc_ctl rpc.disk "$WORK/rpc.disk.1" "${ops[@]}"
	[ "$STRACE" != 1 ] || strace_start "$WORK/strace.later"
	rpc "add $(quiet_policy bench-rpcd "$NPOL_TRACED")" >"$WORK/st.later.out" ||
		die "policy RPC failed: $(cat "$WORK/st.later.out")"
	[ "$STRACE" != 1 ] || strace_stop
	echo $((NPOL_TRACED + 1)) >"$WORK/rpc.disk.k"
	ops=()
	for ((i = NPOL_TRACED + 1; i < NPOL; i++)); do
		ops+=("add $(quiet_policy bench-rpcd "$i")")
	done
	# fewer toggles and deletes than with tetra: the first
	# RPC_SAMPLES policies', none of them the last hook of its tracepoint
	for ((i = 0; i < RPC_SAMPLES; i++)); do
		ops+=("mode bench-rpcd-$i monitor")
	done
	for ((i = 0; i < RPC_SAMPLES; i++)); do
		ops+=("delete bench-rpcd-$i")
	done
	rpc_ctl rpc.disk "$WORK/rpc.disk.2" "${ops[@]}"
	stop_agent

	# a fresh agent with its state on tmpfs: the first add under strace, then the RPCs
	if [ -n "$SHM" ]; then
		start_agent "$(state_dir_fast)"
		log "policy_rpc: the same, state dir on tmpfs ($SHM)"
		[ "$STRACE" != 1 ] || strace_start "$WORK/strace.first"
		rpc "add $(quiet_policy bench-rpct-first 0)" >"$WORK/st.first.out" ||
			die "policy RPC failed: $(cat "$WORK/st.first.out")"
		if [ "$STRACE" = 1 ]; then
			strace_stop
		else
			note_first_add "$(cat "$WORK/st.first.out")"
		fi
		ops=()
		for ((i = 0; i < NPOL; i++)); do
			ops+=("add $(quiet_policy bench-rpct "$i")")
		done
		for ((i = 0; i < NPOL; i++)); do
			ops+=("mode bench-rpct-$i monitor")
		done
		for ((i = 0; i < NPOL; i++)); do
			ops+=("delete bench-rpct-$i")
		done
		rpc_ctl rpc.tmpfs "$WORK/rpc.tmpfs" "${ops[@]}"
		stop_agent
	fi

	printf '\n  %-56s %4s %9s %9s %9s %9s\n' 'wall time, ms' n p50 p95 p99 max
	ctl_row "tetra tp add: first policy (loads the sensor)" tetra.first
	ctl_row "tetra tp add: $NPOL policies" tetra.add.new tetra.add.shared
	ctl_row "  of which first hook on its tracepoint" tetra.add.new
	ctl_row "  of which joining an attached tracepoint" tetra.add.shared
	ctl_row "tetra tp set-mode NAME monitor (from enforce)" tetra.mode
	ctl_row "tetra tp delete" tetra.delete.shared tetra.delete.detach
	ctl_row "  of which the tracepoint keeps other hooks" tetra.delete.shared
	ctl_row "  of which the last hook: detaches the tracepoint" tetra.delete.detach
	echo "  where it goes:"
	ctl_row "tetra --help (process start-up, no connection)" tetra.help
	ctl_row "tetra tp validate FILE (start-up + local parse)" tetra.validate
	ctl_row "tetra version --server (start-up + connect + 1 RPC)" tetra.version
	ctl_row "policy_rpc: channel + connect + 1st RPC (in-process)" rpc.disk.connect rpc.tmpfs.connect
	ctl_row "RPC alone: AddTracingPolicy, first policy of an agent" rpc.first
	ctl_row "RPC alone: AddTracingPolicy" rpc.disk.add
	ctl_row "RPC alone: ConfigureTracingPolicy (mode)" rpc.disk.mode
	ctl_row "RPC alone: DeleteTracingPolicy (tracepoint keeps hooks)" rpc.disk.delete
	ctl_row "RPC alone, state dir on tmpfs: AddTracingPolicy" rpc.tmpfs.add
	ctl_row "RPC alone, state dir on tmpfs: Configure (mode)" rpc.tmpfs.mode
	ctl_row "RPC alone, state dir on tmpfs: DeleteTracingPolicy" rpc.tmpfs.delete
	ctl_row "  of which the tracepoint keeps other hooks" rpc.tmpfs.delete.shared
	ctl_row "  of which the last hook: detaches the tracepoint" rpc.tmpfs.delete.detach
	echo "  (nearest-rank percentiles: with $NPOL samples p99 is the largest or the largest but"
	echo "   one; \"first policy of an agent\": every agent this benchmark started, parts 1-4; the"
	echo "   disk RPC rows leave out the one add made under strace; their mode and delete rows"
	echo "   are the first $RPC_SAMPLES policies, with all $NPOL loaded)"

	printf '\n  AddTracingPolicy RPC alone by policies already loaded (medians, ms)\n'
	printf '  %-14s %12s %12s\n' 'policies' 'state: disk' 'tmpfs'
	for ((i = 0; i < NPOL; i += 10)); do
		k1=$((i + 10 < NPOL ? i + 10 : NPOL))
		printf '  %-14s %12s %12s\n' "$i-$((k1 - 1))" \
			"$(awk -v a=$i -v b="$k1" '$1 == "rpc.disk.addk" && $2 > a && $2 <= b { print $3 / 1000 }' "$RES/ctl" | median 2>/dev/null | awk '{ printf "%.1f", $1 }')" \
			"$(awk -v a=$i -v b="$k1" '$1 == "rpc.tmpfs.addk" && $2 > a && $2 <= b { print $3 / 1000 }' "$RES/ctl" | median 2>/dev/null | awk '{ printf "%.1f", $1 }')"
	done
	echo "  (an add writes the policy's .yaml and .state files and the hooks file, each with"
	echo "   fsync; a mode change its .state and the hooks file; a delete the hooks file)"
	[ "$STRACE" != 1 ] || print_strace
}

# ========================================================================================

main() {
	local part fts
	[ "$(id -u)" -eq 0 ] || die "needs root (BPF programs)"
	if [ ! -x "$O/bin/tetragon" ] || [ ! -x "$O/bin/tetra" ]; then
		die "no $O/bin/tetragon or $O/bin/tetra: run make first"
	fi
	command -v bpftool >/dev/null || die "needs bpftool"
	mkdir -p "$RES" "$POL"
	: >"$RES/ctl"
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		SHM=$(mktemp -d /dev/shm/tetra-policy-bench.XXXXXX)
	fi
	build_helpers
	pick_quiet_syscalls
	echo "policy_bench: $(nproc) CPUs, kernel $(uname -r), $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?')," \
		"load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other sessions build and test" \
		"meanwhile), bpf_stats $([ "$BPF_STATS" = 1 ] && echo on || echo off) in policy runs${AGENT_ARGS[*]:+, agent options: ${AGENT_ARGS[*]}}"
	fts=$(foreign_syscall_tracers)
	if [ -n "$fts" ]; then
		echo "warning: other processes have BPF programs on system-call tracepoints (pid:tracepoint" \
			"$fts): every task already takes the slow system-call path, in every way"
	fi
	for part in "${PARTS[@]}"; do
		log "part $part: $(date +%T)"
		case $part in
		overhead) part_overhead ;;
		events) part_events ;;
		memory) part_memory ;;
		control) part_control ;;
		*) die "unknown part $part" ;;
		esac
	done
	log "done: $(date +%T)"
}

main
