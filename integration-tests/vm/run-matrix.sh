#!/bin/bash
# The kernel matrix behind `make test-vm`: boot each test kernel once under qemu and
# run every case of integration-tests/vm/cases/ inside that boot.
#
#   integration-tests/vm/run-matrix.sh [O]        (O = build output dir, default build)
#
# Stages O/bin/* (tetragon, tetra, tetragon-manager), O/triggers/*, cases/, lib.sh and
# the guest driver into the guest's /test. Prints one line per case and kernel while it
# runs, then a table per kernel and a last line "N passed, N failed, N skipped".
# Exits 1 if a case failed or a kernel did not boot (a panic or timeout is retried once:
# TCG boots are occasionally flaky). Prints "SKIP: <reason>" and exits 0 only if qemu
# cannot run on this machine at all.
#
# Environment:
#   VMTEST_KERNELS       kernels, see setup-kernels.sh (default "stable backports")
#   VMTEST_CASES         only cases whose name matches one of these globs, e.g. "00-* 1?-exec*"
#   VMTEST_CASES_DIR     take the cases from here (default integration-tests/vm/cases)
#   VMTEST_CASE_TIMEOUT  per-case timeout in seconds (default 120; a case can say
#                        "# vmtest-timeout: SECS")
#   VMTEST_BOOT_TIMEOUT  per-boot timeout (default 60 + the cases' timeouts, at most 480)
#   VMTEST_BUDGET        seconds after which a failed boot is no longer retried (default 540)
#   VMTEST_MODULES       modules to load at boot, e.g. sch_ingress,cls_bpf (run-vm.sh -M)
#   VMTEST_VERBOSE=1     show every case's output, not only the failing ones'
#   VMTEST_SHELL=1       instead of running the cases, boot the first kernel with everything
#                        staged and give this terminal a shell in /test (Ctrl-A X quits)
#   VMTEST_STRIP=0       keep debug info in the staged binaries (default: strip --strip-debug)
#   VMTEST_CACHE         kernel cache (default /var/cache/tetragon-vmtest)
# Serial logs are kept in O/vmtest-logs/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
O=${1:-build}
CASES_DIR=${VMTEST_CASES_DIR:-$HERE/cases}
CASE_TIMEOUT=${VMTEST_CASE_TIMEOUT:-120}
BUDGET=${VMTEST_BUDGET:-540}
QEMU=${VMTEST_QEMU:-qemu-system-x86_64}
T0=$SECONDS

skip_all() {
	echo "SKIP: $*"
	exit 0
}
die() {
	echo "run-matrix: error: $*" >&2
	exit 1
}

# --- can qemu run here at all? ------------------------------------------------------------
if ! [ -c /dev/null ] || ! [ -c /dev/urandom ]; then
	skip_all "no usable /dev (qemu needs /dev/null and /dev/urandom)"
fi
if ! KERNEL_LIST=$("$HERE/setup-kernels.sh"); then
	command -v "$QEMU" >/dev/null || skip_all "$QEMU is not installed and could not be installed"
	busybox=$(command -v busybox || true)
	if [ -z "$busybox" ] || ! file -L "$busybox" | grep -q 'statically linked'; then
		skip_all "busybox-static is not installed and could not be installed"
	fi
	die "setup-kernels.sh failed: the test kernels are not available (see above)"
fi
[ -n "$KERNEL_LIST" ] || die "setup-kernels.sh gave no kernel"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-matrix.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOGDIR=$O/vmtest-logs
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log "$LOGDIR"/*.stderr

# --- stage /test ----------------------------------------------------------------------------
STAGE=$WORK/stage
mkdir -p "$STAGE"/{bin,triggers,cases,tools}
if compgen -G "$O/bin/*" >/dev/null; then
	cp -a "$O"/bin/* "$STAGE/bin/"
else
	echo "note: nothing in $O/bin (run make first); cases that need the agent skip"
fi
compgen -G "$O/triggers/*" >/dev/null && cp -a "$O"/triggers/* "$STAGE/triggers/"
# Debug info only makes the initramfs bigger (about 1 s of boot per 100 MB under TCG).
if [ "${VMTEST_STRIP:-1}" = 1 ] && command -v strip >/dev/null; then
	for f in "$STAGE"/bin/* "$STAGE"/triggers/*; do
		[ -f "$f" ] && file -b "$f" | grep -q '^ELF' && strip --strip-debug "$f"
	done
fi
BPFTOOL=$(command -v bpftool || true)
[ -n "$BPFTOOL" ] && cp "$BPFTOOL" "$STAGE/tools/"
# GNU cat, first on the guest's PATH: the scenarios of the product's documents run it, and it
# read()s where busybox cat uses sendfile()
cp /usr/bin/cat "$STAGE/tools/cat"
cp "$HERE/lib.sh" "$HERE/guest-driver.sh" "$STAGE/"

CASES=()
for f in "$CASES_DIR"/*.sh; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .sh)
	if [ -n "${VMTEST_CASES:-}" ]; then
		match=0
		for pattern in $VMTEST_CASES; do
			# shellcheck disable=SC2053 # a glob on purpose
			[[ $name == $pattern ]] && match=1
		done
		[ "$match" = 1 ] || continue
	fi
	cp "$f" "$STAGE/cases/"
	CASES+=("$name")
done
[ ${#CASES[@]} -gt 0 ] || die "no test case in $CASES_DIR${VMTEST_CASES:+ matching: $VMTEST_CASES}"

if [ "${VMTEST_SHELL:-0}" = 1 ]; then
	read -r release vmlinuz <<<"$KERNEL_LIST"
	echo "interactive shell on $release: the cases are in cases/, run one with: sh cases/NAME.sh"
	rc=0
	"$HERE/run-vm.sh" -i -t 3600 -k "$vmlinuz" ${VMTEST_MODULES:+-M "$VMTEST_MODULES"} "$STAGE" \
		"export PATH=/test/tools:\$PATH TMPDIR=/tmp VMTEST_KERNEL=$release; dmesg -n 1; sh" || rc=$?
	exit "$rc"
fi

# Boot timeout: time to boot plus every case running into its own timeout.
if [ -n "${VMTEST_BOOT_TIMEOUT:-}" ]; then
	BOOT_TIMEOUT=$VMTEST_BOOT_TIMEOUT
else
	BOOT_TIMEOUT=60
	for name in "${CASES[@]}"; do
		t=$(sed -n 's/^#[[:space:]]*vmtest-timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
			"$STAGE/cases/$name.sh" | head -n 1)
		BOOT_TIMEOUT=$((BOOT_TIMEOUT + ${t:-$CASE_TIMEOUT}))
	done
	[ "$BOOT_TIMEOUT" -le 480 ] || BOOT_TIMEOUT=480
fi

# --- boot each kernel -------------------------------------------------------------------------
declare -A RESULT=() DETAIL=() CRASHED_IN=()
KERNELS=() BOOT_NOTE=() BOOT_OK=() FAILED_BOOTS=0
n_kernels=$(wc -l <<<"$KERNEL_LIST")
echo "VM matrix: $n_kernels kernels x ${#CASES[@]} cases, boot timeout ${BOOT_TIMEOUT}s, logs in $LOGDIR/"

# driver_lines 'WORD|WORD' RELEASE LOG: guest-driver.sh's lines of these kinds for RELEASE
# (compared as strings: releases such as 6.12.95+deb12-cloud-amd64 are not regex-safe).
driver_lines() {
	[ -f "$3" ] || return 0
	awk -v kinds="|$1|" -v k="$2" 'index(kinds, "|" $1 "|") && $2 == k' "$3"
}

# boot_once RELEASE VMLINUZ LOG: one boot running all cases. Sets BOOT_RC.
boot_once() {
	local release=$1 vmlinuz=$2 log=$3
	local args=(-q -k "$vmlinuz" -t "$BOOT_TIMEOUT" -o "$log")
	[ -n "${VMTEST_MODULES:-}" ] && args+=(-M "$VMTEST_MODULES")
	local cmd="VMTEST_CASE_TIMEOUT=$CASE_TIMEOUT VMTEST_VERBOSE=${VMTEST_VERBOSE:-0}"
	cmd+=" PATH=/test/tools:\$PATH sh ./guest-driver.sh $release"
	BOOT_RC=0
	"$HERE/run-vm.sh" "${args[@]}" "$STAGE" "$cmd" 2>"$log.stderr" | sed -u 's/^/  /' || BOOT_RC=${PIPESTATUS[0]}
	sed 's/^/  /' "$log.stderr"
}

for idx in $(seq 1 "$n_kernels"); do
	read -r release vmlinuz < <(sed -n "${idx}p" <<<"$KERNEL_LIST")
	KERNELS+=("$release")
	note="" running=""
	for attempt in 1 2; do
		t_attempt=$SECONDS
		log=$LOGDIR/$release.$attempt.log
		echo "== $release (boot attempt $attempt)"
		boot_once "$release" "$vmlinuz" "$log"
		if [ -n "$(driver_lines DONE "$release" "$log")" ] && [ "$BOOT_RC" -le 1 ]; then
			boot_ok=1
		else
			boot_ok=0
		fi
		# qemu exiting with an error before the kernel said anything: this machine cannot
		# run qemu (e.g. no TCG, no memory). Only the very first boot can tell.
		qemu_rc=$(grep -a -o '^VMTEST_QEMU_RC=[0-9]*' "$log" 2>/dev/null | tail -n 1 | cut -d= -f2)
		if [ "$boot_ok" = 0 ] && [ "$idx" = 1 ] && [ "$attempt" = 1 ] &&
			[ -n "$qemu_rc" ] && [ "$qemu_rc" != 0 ] && [ "$qemu_rc" != 124 ] && [ "$qemu_rc" != 137 ] &&
			! grep -aq 'VMTEST_BOOTED\|Linux version\|Run /init' "$log"; then
			skip_all "$QEMU cannot run here: $(grep -a -m 1 . "$log")"
		fi
		if [ "$boot_ok" = 1 ]; then
			# what a whole kernel's run takes, to judge whether a later retry fits the budget
			LAST_RUN=$((SECONDS - t_attempt))
			break
		fi

		case $BOOT_RC in
		124) why="timeout after ${BOOT_TIMEOUT}s" ;;
		125) why="no exit status from the guest (kernel panic?)" ;;
		*) why="run-vm.sh exited with $BOOT_RC" ;;
		esac
		running=$(driver_lines RUN "$release" "$log" | tail -n 1 | cut -d' ' -f3)
		if [ -n "$running" ] && ! driver_lines 'PASS|FAIL|SKIP' "$release" "$log" | grep -q "^[A-Z]* [^ ]* $running "; then
			why+=" while running $running"
		else
			running=""
		fi
		note="boot failed: $why, serial log $log"
		echo "  $note"
		# a retry costs about what a kernel's whole run took (half again for safety), or the
		# boot timeout when no kernel has run yet
		retry_cost=$BOOT_TIMEOUT
		[ -n "${LAST_RUN:-}" ] && retry_cost=$((LAST_RUN * 3 / 2))
		if [ "$attempt" = 1 ] && [ $((SECONDS - T0 + retry_cost)) -gt "$BUDGET" ]; then
			echo "  not retrying: the matrix would exceed its ${BUDGET}s budget"
			break
		fi
		[ "$attempt" = 1 ] && echo "  retrying once"
	done
	BOOT_OK+=("$boot_ok")
	if [ "$boot_ok" = 1 ]; then
		note=${note:+"the first boot failed, the retry worked"}
	else
		FAILED_BOOTS=$((FAILED_BOOTS + 1))
		CRASHED_IN[$release]=$running
	fi
	timing=$(grep -ao 'boot [0-9.]*s, command [0-9.]*s, total [0-9.]*s' "$log.stderr" 2>/dev/null || true)
	BOOT_NOTE+=("${timing:-no timing}${note:+; $note}")
	[ "$boot_ok" = 0 ] || rm -f "$LOGDIR/$release".*.stderr
	# Results of the last attempt.
	while read -r status _ name rest; do
		RESULT[$release/$name]=$status
		DETAIL[$release/$name]=$rest
	done < <(driver_lines 'PASS|FAIL|SKIP' "$release" "$log")
done

# --- report -------------------------------------------------------------------------------
passed=0 failed=0 skipped=0
width=4
for name in "${CASES[@]}"; do [ ${#name} -le "$width" ] || width=${#name}; done
echo
echo "VM matrix results"
for i in "${!KERNELS[@]}"; do
	release=${KERNELS[$i]}
	echo "  $release: ${BOOT_NOTE[$i]}"
	for name in "${CASES[@]}"; do
		status=${RESULT[$release/$name]:-FAIL}
		detail=${DETAIL[$release/$name]:-(not run: the boot failed)}
		[ "${CRASHED_IN[$release]:-}" != "$name" ] || detail="(the boot failed while it ran)"
		case $status in
		PASS) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
		printf '    %-4s  %-*s  %s\n' "$status" "$width" "$name" "$detail"
	done
done
echo "  matrix time $((SECONDS - T0))s"
# A boot that failed after all its cases had reported still counts as a failure.
for i in "${!KERNELS[@]}"; do
	[ "${BOOT_OK[$i]}" = 0 ] || continue
	release=${KERNELS[$i]}
	all_reported=1
	for name in "${CASES[@]}"; do [ -n "${RESULT[$release/$name]:-}" ] || all_reported=0; done
	[ "$all_reported" = 0 ] || failed=$((failed + 1))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$FAILED_BOOTS" = 0 ]
