#!/bin/sh
# shellcheck shell=dash
# Runs every VM test case inside one boot (busybox sh, cwd /test). Started by
# run-matrix.sh through run-vm.sh as:  sh ./guest-driver.sh KERNEL
#
# For each cases/*.sh, in order, it prints (on the serial console):
#   RUN <kernel> <case>
#   PASS <kernel> <case> (<secs>s)
#   SKIP <kernel> <case> (<secs>s): <reason>
#   FAIL <kernel> <case> (<secs>s): <reason>      followed by the case's output as "    | ..."
# and at the end:
#   DONE <kernel> passed=N failed=N skipped=N
# It exits 1 if a case failed, else 0.
#
# Each case runs in its own session (so a timeout kills all its processes) with
# TMPDIR=/tmp/vmtest/<case>, a timeout of $VMTEST_CASE_TIMEOUT seconds (default 120)
# or the one in a "# vmtest-timeout: SECS" line of the case. Afterwards the driver
# kills processes the case left behind, removes /sys/fs/bpf pins and kprobe/uprobe
# events, and fails the case if the kernel logged an oops, BUG or WARNING during it.
# VMTEST_VERBOSE=1 shows the output of passing cases too; VMTEST_OUTPUT_LINES (default
# 200) caps the output shown per case.
KERNEL=${1:-$(uname -r)}
DEFAULT_TIMEOUT=${VMTEST_CASE_TIMEOUT:-120}
OUTPUT_LINES=${VMTEST_OUTPUT_LINES:-200}
VERBOSE=${VMTEST_VERBOSE:-0}
cd /test || exit 1

# Kernel messages go to the per-case report, not between the result lines.
dmesg -n 1

now_cs() {
	read -r up _ </proc/uptime
	echo $((${up%.*} * 100 + 1${up#*.} - 100))
}
secs() { # centiseconds -> "1.23"
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# Processes that must survive the sweep: init, this shell and its ancestors.
KEEP=" 1 $$ "
pid=$$
while [ "$pid" -gt 1 ]; do
	read -r stat <"/proc/$pid/stat" || break
	# shellcheck disable=SC2086 # split the fields after "(comm)"
	set -- ${stat##*) }
	pid=$2
	KEEP="$KEEP$pid "
done

# Kill every user-space process the case left behind; print their names.
sweep() {
	left=""
	read -r self </proc/self/stat # the shell running this, in case it is a subshell
	self=${self%% *}
	for dir in /proc/[0-9]*; do
		p=${dir#/proc/}
		case "$KEEP$self " in *" $p "*) continue ;; esac
		read -r stat <"$dir/stat" 2>/dev/null || continue
		comm=${stat#*(}
		comm=${comm%)*}
		# shellcheck disable=SC2086 # split the fields after "(comm)"
		set -- ${stat##*) }
		# kernel threads: kthreadd (2) and its children
		{ [ "$p" = 2 ] || [ "$2" = 2 ]; } && continue
		[ "$1" = Z ] && continue
		kill -KILL "$p" 2>/dev/null && left="$left $comm($p)"
	done
	[ -z "$left" ] || echo "driver: killed processes left behind:$left"
}

reset_kernel_state() {
	rm -rf /sys/fs/bpf/* 2>/dev/null
	echo >/sys/kernel/tracing/kprobe_events 2>/dev/null
	echo >/sys/kernel/tracing/uprobe_events 2>/dev/null
}

passed=0 failed=0 skipped=0
mkdir -p /tmp/vmtest
for case in cases/*.sh; do
	[ -f "$case" ] || continue
	name=${case##*/}
	name=${name%.sh}
	timeout=$(sed -n 's/^#[[:space:]]*vmtest-timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$case" | head -n 1)
	timeout=${timeout:-$DEFAULT_TIMEOUT}
	tmp=/tmp/vmtest/$name
	out=/tmp/vmtest/$name.out
	timed_out=/tmp/vmtest/$name.timeout
	mkdir -p "$tmp"
	echo "RUN $KERNEL $name"
	dmesg -c >/dev/null
	start=$(now_cs)

	(
		export TMPDIR="$tmp" VMTEST_KERNEL="$KERNEL" VMTEST_CASE="$name"
		exec setsid sh "$case"
	) </dev/null >"$out" 2>&1 &
	case_pid=$!
	# The watchdog has its own session too, so that stopping it also stops its sleep.
	# shellcheck disable=SC2016 # expanded by the watchdog's shell
	setsid sh -c 'sleep "$1"; : >"$2"; kill -TERM -"$3"; sleep 5; kill -KILL -"$3"' \
		watchdog "$timeout" "$timed_out" "$case_pid" 2>/dev/null &
	watchdog=$!
	wait "$case_pid" 2>/dev/null # no "Terminated" from the shell on a timeout
	rc=$?
	kill -KILL -"$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	elapsed=$(secs $(($(now_cs) - start)))

	sweep >>"$out"
	reset_kernel_state
	dmesg >"$tmp.dmesg"
	kernel_warn=$(grep -m 1 -E 'BUG:|WARNING:|Oops|general protection fault|Call Trace:' "$tmp.dmesg")

	if [ -e "$timed_out" ]; then
		result=FAIL reason="timeout after ${timeout}s"
	elif [ -n "$kernel_warn" ]; then
		result=FAIL reason="kernel: $kernel_warn (status $rc)"
	elif [ "$rc" = 0 ]; then
		result=PASS reason=""
	elif [ "$rc" = 77 ]; then
		result=SKIP
		reason=$(sed -n 's/^SKIP: //p' "$out" | tail -n 1)
		reason=${reason:-$(tail -n 1 "$out")}
	else
		result=FAIL reason="exit status $rc"
		last=$(grep '^FAIL: ' "$out" | tail -n 1)
		[ -z "$last" ] || reason="${last#FAIL: }"
	fi
	case $result in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	esac

	line="$result $KERNEL $name (${elapsed}s)"
	[ -z "$reason" ] || line="$line: $reason"
	echo "$line"
	if [ "$result" = FAIL ] || [ "$VERBOSE" = 1 ]; then
		if [ -s "$tmp.dmesg" ] && [ "$result" = FAIL ]; then
			{
				echo "--- kernel log during the case:"
				cat "$tmp.dmesg"
			} >>"$out"
		fi
		total=$(wc -l <"$out")
		[ "$total" -le "$OUTPUT_LINES" ] ||
			echo "    | ... ($((total - OUTPUT_LINES)) earlier lines not shown)"
		tail -n "$OUTPUT_LINES" "$out" | sed 's/^/    | /'
	fi
done

echo "DONE $KERNEL passed=$passed failed=$failed skipped=$skipped"
[ "$failed" = 0 ]
