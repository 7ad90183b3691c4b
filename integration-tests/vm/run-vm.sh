#!/bin/bash
# Boot one kernel under qemu (TCG, no KVM needed) with a busybox initramfs, run COMMAND
# in it as root and power off.
#
#   run-vm.sh [options] DIR COMMAND...
#
# DIR is copied into the guest as /test and COMMAND runs there under busybox sh (cwd /test).
# Every dynamically linked executable in DIR gets its shared libraries (ldd) copied in.
# The guest has proc, sys, dev, tmp, bpffs, tracefs, debugfs, securityfs and cgroup2 at
# /sys/fs/cgroup/unified (the dev host's path) mounted, lo up, and no other network.
#
# Options:
#   -k KERNEL  vmlinuz file, or a kernel tree unpacked by setup-kernels.sh
#              (default: the newest kernel under $VMTEST_CACHE)
#   -t SECS    timeout for the whole run, qemu is killed after it (default 300)
#   -m MEM     guest memory (default 2G)
#   -c CPUS    guest CPUs (default 2)
#   -a ARGS    extra kernel command line arguments (e.g. -a loglevel=7)
#   -l LSMS    lsm= list (default lockdown,capability,landlock,bpf)
#   -M MODS    comma-separated modules to insmod at boot, with their dependencies, from
#              the unpacked kernel tree (e.g. -M sch_ingress,cls_bpf for tc clsact)
#   -o FILE    keep the full serial log in FILE (default: a temporary file, kept and
#              named on stderr only when the run fails)
#   -q         quiet: print only COMMAND's output, no boot messages
#   -i         interactive: COMMAND (e.g. sh) gets this terminal; Ctrl-A X quits qemu
#
# Exit status: COMMAND's status; 124 if the timeout expired; 125 if the guest never
# reported a status (kernel panic, or qemu could not start: the log ends with
# "VMTEST_QEMU_RC=<qemu's status>"). A one-line timing summary goes to stderr.
#
# Environment: VMTEST_CACHE (default /var/cache/tetragon-vmtest), VMTEST_QEMU
# (default qemu-system-x86_64), VMTEST_CPU (default max,la57=off,cx16=off: with cx16
# on, qemu 7.2 TCG with 2 CPUs corrupts the SLUB freelist in about 1 boot in 6).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VMTEST_CACHE:-/var/cache/tetragon-vmtest}
QEMU=${VMTEST_QEMU:-qemu-system-x86_64}
CPU_MODEL=${VMTEST_CPU:-max,la57=off,cx16=off}
KERNEL="" TIMEOUT=300 MEM=2G CPUS=2 APPEND="" LSMS=lockdown,capability,landlock,bpf
MODS="" LOG="" QUIET=0 INTERACTIVE=0

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}
die() {
	echo "run-vm: $*" >&2
	exit 2
}

while getopts "k:t:m:c:a:l:M:o:qih" opt; do
	case $opt in
	k) KERNEL=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	m) MEM=$OPTARG ;;
	c) CPUS=$OPTARG ;;
	a) APPEND=$OPTARG ;;
	l) LSMS=$OPTARG ;;
	M) MODS=$OPTARG ;;
	o) LOG=$OPTARG ;;
	q) QUIET=1 ;;
	i) INTERACTIVE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
DIR=$1
shift
CMD="$*"
[ -d "$DIR" ] || die "not a directory: $DIR"

# --- kernel -----------------------------------------------------------------------------
if [ -z "$KERNEL" ]; then
	KERNEL=$(find "$CACHE" -mindepth 3 -maxdepth 3 -path '*/boot/vmlinuz-*' 2>/dev/null |
		sort -V | tail -1)
	[ -n "$KERNEL" ] || die "no kernel under $CACHE; run setup-kernels.sh or pass -k"
elif [ -d "$KERNEL" ]; then
	KERNEL=$(find "$KERNEL/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -V | tail -1)
	[ -n "$KERNEL" ] || die "no boot/vmlinuz-* in the kernel tree given with -k"
fi
[ -f "$KERNEL" ] || die "no kernel image $KERNEL"
KREL=${KERNEL##*/vmlinuz-}
KTREE=$(cd "$(dirname "$KERNEL")/.." && pwd) # unpacked package root, if it is one
for tool in "$QEMU" cpio file ldd; do
	command -v "$tool" >/dev/null || die "$tool not found; run setup-kernels.sh"
done
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
	die "no static busybox; run setup-kernels.sh (busybox-static)"
fi

T_START=$EPOCHREALTIME
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX")
QEMU_DONE=1
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	# Stop our qemu (through its timeout wrapper) if we are interrupted while it runs.
	if [ "$QEMU_DONE" = 0 ] && [ -s "$WORK/qemu.pid" ]; then
		kill -TERM "$(cat "$WORK/qemu.pid")" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- initramfs --------------------------------------------------------------------------
R=$WORK/root
mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib,etc/vmtest,proc,sys,dev,tmp,run,root,test,boot}
mkdir -p "$R"/var/{lib,log,tmp}
ln -s ../run "$R/var/run"
# Mirror the host's usrmerge links (/bin -> usr/bin, /lib64 -> usr/lib64, ...) so that
# library paths printed by ldd are valid in the guest whichever form they take.
for d in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ]; then
		rm -rf "${R:?}/$d"
		mkdir -p "$R/$(readlink "/$d")"
		ln -s "$(readlink "/$d")" "$R/$d"
	elif [ -d "/$d" ]; then
		mkdir -p "$R/$d"
	fi
done
# /init links every applet at its usual path (/bin/sh, /usr/bin/env, /sbin/insmod, ...).
cp "$BUSYBOX" "$R/usr/bin/busybox"
mkdir -p "$R/lib/modules/vmtest"

cp -a "$DIR/." "$R/test/"
printf '%s\n' "$CMD" >"$R/etc/vmtest/cmd"
TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN" >"$R/etc/vmtest/token"
install -m 755 "$HERE/guest-init.sh" "$R/init"

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo vmtest >"$R/etc/hostname"
cat >"$R/etc/hosts" <<'EOF'
127.0.0.1	localhost vmtest
::1	localhost ip6-localhost ip6-loopback
EOF
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$R/etc/nsswitch.conf"
: >"$R/etc/resolv.conf"
[ -f "$KTREE/boot/config-$KREL" ] && cp "$KTREE/boot/config-$KREL" "$R/boot/"

# Shared libraries of dynamically linked executables (ldd lists the whole closure).
declare -A LIBS=()
while IFS= read -r -d '' f; do
	file -L -b "$f" | grep -q '^ELF.*dynamically linked' || continue
	deps=$(ldd "$f" 2>&1 || true)
	while read -r lib; do
		[ -e "$lib" ] && LIBS[$lib]=1
	done < <(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$deps")
	if grep -q 'not found' <<<"$deps"; then
		echo "run-vm: warning: ${f#"$R"}: $(grep 'not found' <<<"$deps" | tr -s ' \t\n' ' ')" >&2
	fi
done < <(find "$R/test" -type f -perm -u+x -print0)
# glibc dlopen()s libgcc_s for thread cancellation and backtraces; ldd does not show it.
GCC_S=/lib/x86_64-linux-gnu/libgcc_s.so.1
[ ${#LIBS[@]} -gt 0 ] && [ -e "$GCC_S" ] && LIBS[$GCC_S]=1
# One cp for all (forks are slow on a loaded 2-core machine); --parents keeps the paths.
[ ${#LIBS[@]} -eq 0 ] || cp -L --parents "${!LIBS[@]}" "$R/"

# Kernel modules requested with -M, dependencies first (from modules.dep).
: >"$R/etc/vmtest/modules"
if [ -n "$MODS" ]; then
	MODDIR=$KTREE/lib/modules/$KREL
	[ -f "$MODDIR/modules.dep" ] || die "-M needs $MODDIR/modules.dep (setup-kernels.sh runs depmod)"
	declare -A LOADED=()
	# shellcheck disable=SC2013 # modules.dep lists the dependencies as words
	add_module() { # $1: path relative to MODDIR, as modules.dep has it
		local rel=$1 dep out
		[ -n "${LOADED[$rel]:-}" ] && return 0
		LOADED[$rel]=1
		for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep"); do
			add_module "$dep"
		done
		out=${rel##*/}
		out=${out%.xz}
		out=${out%.zst}
		case $rel in
		*.xz) xz -dc "$MODDIR/$rel" >"$R/lib/modules/vmtest/$out" ;;
		*.zst) zstd -qdc "$MODDIR/$rel" >"$R/lib/modules/vmtest/$out" ;;
		*) cp "$MODDIR/$rel" "$R/lib/modules/vmtest/$out" ;;
		esac
		echo "$out" >>"$R/etc/vmtest/modules"
	}
	for mod in ${MODS//,/ }; do
		# modules.dep spells names with - or _ as the source tree does
		rel=$(grep -oE "^[^:]*/${mod//[-_]/[-_]}\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep" | head -1)
		[ -n "$rel" ] || die "module $mod not found in $MODDIR"
		add_module "${rel%:}"
	done
fi

[ "$INTERACTIVE" = 0 ] || : >"$R/etc/vmtest/interactive"

# Uncompressed: decompressing under TCG costs more than qemu reading a bigger file.
(cd "$R" && find . -print0 | cpio -o -0 -H newc -R 0:0 --quiet) >"$WORK/initrd.cpio"
T_INITRD=$EPOCHREALTIME

# --- boot -------------------------------------------------------------------------------
KEEP_LOG=1
if [ -z "$LOG" ]; then
	LOG=$(mktemp "${TMPDIR:-/tmp}/vmtest-serial.XXXXXX")
	KEEP_LOG=0
fi
: >"$LOG"
# -nodefaults drops the VGA card, NIC, floppy and CD-ROM: about 0.5 s less boot under TCG.
# shellcheck disable=SC2054 # the commas belong to qemu's option syntax
QEMU_ARGS=(-machine pc -accel tcg,thread=multi -cpu "$CPU_MODEL" -smp "$CPUS" -m "$MEM"
	-nographic -no-reboot -net none -nodefaults
	-kernel "$KERNEL" -initrd "$WORK/initrd.cpio"
	-append "console=ttyS0 rdinit=/init panic=-1 lsm=$LSMS quiet loglevel=3 $APPEND")

if [ "$INTERACTIVE" = 1 ]; then
	# The terminal goes straight to the guest's console; mon:stdio gives Ctrl-A X.
	rc=0
	timeout --foreground "$TIMEOUT" "$QEMU" "${QEMU_ARGS[@]}" -serial mon:stdio || rc=$?
	exit "$rc"
fi
QEMU_ARGS+=(-monitor none -serial stdio)

BOOTED="" GUEST_RC="" QEMU_RC="" IN_CMD=0
QEMU_DONE=0
exec {QFD}< <(
	# --foreground: qemu stays in our process group, so signals sent to the group reach it.
	timeout --foreground --kill-after=5 "$TIMEOUT" "$QEMU" "${QEMU_ARGS[@]}" </dev/null 2>&1 &
	echo $! >"$WORK/qemu.pid"
	rc=0
	wait $! || rc=$?
	echo "VMTEST_QEMU_RC=$rc"
)
while IFS= read -r -u "$QFD" line || [ -n "$line" ]; do
	line=${line%$'\r'}
	printf '%s\n' "$line" >>"$LOG"
	case $line in
	*"VMTEST_BOOTED_$TOKEN "*)
		BOOTED=$EPOCHREALTIME
		IN_CMD=1
		[ "$QUIET" = 1 ] || printf '%s\n' "${line/_$TOKEN/}"
		continue
		;;
	*"VMTEST_EXIT_$TOKEN="*)
		GUEST_RC=${line#*"VMTEST_EXIT_$TOKEN="}
		GUEST_RC=${GUEST_RC%% *}
		IN_CMD=0
		[ "$QUIET" = 1 ] || printf '%s\n' "${line/_$TOKEN/}"
		continue
		;;
	VMTEST_QEMU_RC=*)
		QEMU_RC=${line#VMTEST_QEMU_RC=}
		continue
		;;
	esac
	if [ "$QUIET" = 0 ]; then
		printf '%s\n' "$line"
	elif [ "$IN_CMD" = 1 ] && ! [[ $line =~ ^\[\ *[0-9]+\.[0-9]+\]\  ]]; then
		printf '%s\n' "$line" # the command's output, not a kernel message
	fi
done
QEMU_DONE=1
exec {QFD}<&-
T_END=$EPOCHREALTIME

# --- result -----------------------------------------------------------------------------
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
boot="n/a" run="n/a"
[ -n "$BOOTED" ] && boot="$(secs "$T_INITRD" "$BOOTED")s" && run="$(secs "$BOOTED" "$T_END")s"
if [ "${QEMU_RC:-}" = 124 ] || [ "${QEMU_RC:-}" = 137 ]; then
	status=124 why="timeout after ${TIMEOUT}s"
elif [ -z "$GUEST_RC" ]; then
	status=125
	if [ -z "$BOOTED" ] && [ "${QEMU_RC:-1}" != 0 ]; then
		why="qemu failed (status ${QEMU_RC:-?}): $(grep -a -m1 -i 'qemu' "$LOG" || true)"
	else
		why="guest never reported a status (kernel panic?)"
	fi
else
	status=$GUEST_RC why=""
fi
[ "$status" = 0 ] && [ "$KEEP_LOG" = 0 ] && rm -f "$LOG"
if [ "$status" = 125 ] && [ "$QUIET" = 1 ]; then
	echo "run-vm: last lines of the serial log:" >&2
	tail -n 40 "$LOG" | sed 's/^/  | /' >&2
fi
summary="run-vm: $KREL: initramfs $(secs "$T_START" "$T_INITRD")s, boot $boot, command $run"
summary+=", total $(secs "$T_START" "$T_END")s, status $status"
[ -n "$why" ] && summary+=" ($why)"
[ "$status" != 0 ] || [ "$KEEP_LOG" = 1 ] && summary+=", serial log $LOG"
echo "$summary" >&2
exit "$status"
