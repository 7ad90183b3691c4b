#!/usr/bin/busybox sh
# shellcheck shell=dash
# /init of the VM test initramfs (busybox sh, PID 1). Built into the initramfs by
# run-vm.sh, together with /etc/vmtest/{cmd,token,modules}.
#
# Serial console protocol (parsed by run-vm.sh, TOKEN is random per run so that test
# output cannot fake these lines):
#   VMTEST_BOOTED_<TOKEN> kernel=<uname -r> uptime=<s> lsm=<list>   before the command
#   VMTEST_EXIT_<TOKEN>=<status> uptime=<s>                         after it
# Then the guest powers off. A kernel panic reboots (panic=-1), which qemu -no-reboot
# turns into an exit without the EXIT line.
/usr/bin/busybox --install -s
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
TOKEN=$(cat /etc/vmtest/token)

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security
# cgroup2 where the dev host has it (hybrid layout): /sys/fs/cgroup/unified
mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/unified
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
chmod 1777 /tmp

while read -r mod; do
	[ -n "$mod" ] || continue
	insmod "/lib/modules/vmtest/$mod" || echo "vmtest: insmod $mod failed"
done </etc/vmtest/modules

hostname -F /etc/hostname
ip link set lo up
# shellcheck disable=SC3045 # busybox ash has ulimit -l
ulimit -l unlimited

echo "VMTEST_BOOTED_$TOKEN kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)" \
	"lsm=$(cat /sys/kernel/security/lsm)"
cd /test || echo "vmtest: no /test"
if [ -e /etc/vmtest/interactive ]; then
	# run-vm.sh -i: the console is the command's terminal (cttyhack makes it the
	# controlling tty, so that ^C works).
	setsid cttyhack sh -c "$(cat /etc/vmtest/cmd)"
else
	sh -c "$(cat /etc/vmtest/cmd)" </dev/null
fi
rc=$?
echo "VMTEST_EXIT_$TOKEN=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
