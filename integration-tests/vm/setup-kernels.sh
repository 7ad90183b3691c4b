#!/bin/bash
# Make the VM test kernels available, idempotently.
#
#   integration-tests/vm/setup-kernels.sh
#
# 1. Installs the host tools the runner needs (qemu-system-x86, busybox-static, cpio,
#    kmod, xz-utils, file, zstd), with apt-get, only when one of them is missing.
# 2. Adds the bookworm-backports suite to apt if no source has it yet
#    (/etc/apt/sources.list.d/tetragon-vmtest-backports.sources).
# 3. Downloads each kernel package with `apt-get download` and unpacks it with `dpkg -x`
#    into $VMTEST_CACHE/<package>/. Kernels are never installed: the host's /boot and boot
#    loader are not touched. Runs depmod on the unpacked tree.
#
# When everything is already there it only asks apt-cache (offline) which packages are
# current and returns in well under a second: no apt-get update, no download.
#
# stdout: one line per kernel, "<release> <path to vmlinuz>", e.g.
#   6.1.0-56-cloud-amd64 /var/cache/tetragon-vmtest/linux-image-6.1.0-56-cloud-amd64/boot/vmlinuz-6.1.0-56-cloud-amd64
# Progress and errors go to stderr.
#
# Environment:
#   VMTEST_CACHE    where kernels are unpacked (default /var/cache/tetragon-vmtest)
#   VMTEST_KERNELS  space-separated list of kernels (default "stable backports"):
#                   stable     bookworm's cloud kernel (the linux-image-cloud-amd64 metapackage)
#                   backports  the cloud kernel from bookworm-backports (6.12 when written)
#                   any exact package name, e.g. linux-image-6.1.0-56-cloud-amd64
set -euo pipefail

CACHE=${VMTEST_CACHE:-/var/cache/tetragon-vmtest}
KERNELS=${VMTEST_KERNELS:-stable backports}
BACKPORTS_SOURCE=/etc/apt/sources.list.d/tetragon-vmtest-backports.sources
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup-kernels: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root to $1"
}

APT_UPDATED=0
apt_update_once() {
	[ "$APT_UPDATED" = 1 ] && return 0
	need_root "run apt-get update"
	log "apt-get update"
	apt-get update -qq >&2 || die "apt-get update failed"
	APT_UPDATED=1
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

# missing_tools: print the packages of the host tools that are missing.
missing_tools() {
	have qemu-system-x86_64 || echo qemu-system-x86
	# The guest needs a static busybox; a dynamic one would need its libraries copied in.
	if ! [ -x /bin/busybox ] || ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
		echo busybox-static
	fi
	have cpio || echo cpio
	have depmod || echo kmod
	have xz || echo xz-utils
	have file || echo file
	have zstd || echo zstd
}

install_tools() {
	local need
	need=$(missing_tools | tr '\n' ' ')
	[ -n "$need" ] || return 0
	command -v apt-get >/dev/null || die "missing $need and no apt-get to install them"
	need_root "install $need"
	apt_update_once
	log "installing $need"
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -y -qq --no-install-recommends $need >&2 || die "apt-get install $need failed"
	need=$(missing_tools | tr '\n' ' ')
	[ -z "$need" ] || die "still missing after apt-get install: $need"
}

have_backports_source() {
	# A cheap grep first; `apt-get indextargets` (0.7 s) also sees unusual layouts.
	local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
	grep -qsE '^[^#]*[[:space:]]bookworm-backports([[:space:]]|$)' "${files[@]}" && return 0
	# shellcheck disable=SC2016 # apt's own $(...) format, not a shell expansion
	apt-get indextargets --format '$(RELEASE) $(IDENTIFIER)' 2>/dev/null |
		grep -qx 'bookworm-backports Packages'
}

add_backports_source() {
	have_backports_source && return 0
	need_root "add bookworm-backports to apt"
	log "adding bookworm-backports to apt ($BACKPORTS_SOURCE)"
	cat >"$BACKPORTS_SOURCE" <<-'EOF'
		# Added by integration-tests/vm/setup-kernels.sh: the VM test matrix downloads
		# (never installs) the bookworm-backports cloud kernel from here.
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	APT_UPDATED=0
	apt_update_once
}

# resolve_alias stable|backports: print the kernel package the metapackage depends on.
resolve_alias() {
	local target=() pattern pkg
	case $1 in
	stable) pattern='^linux-image-6\.1\.[0-9].*-cloud-amd64$' ;;
	backports)
		target=(-t bookworm-backports)
		pattern='^linux-image-[0-9].*-cloud-amd64$'
		;;
	esac
	pkg=$(apt-cache depends "${target[@]}" linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	[[ $pkg =~ $pattern ]] || return 1
	printf '%s\n' "$pkg"
}

# Signature of apt's package lists: a resolved alias stays valid until they change.
# (Each apt-cache call parses all lists, about 1 s here, since there is no pkgcache.bin.)
lists_signature() {
	stat -c '%n %Y %s' /var/lib/apt/lists/*_Packages* 2>/dev/null | cksum | cut -d' ' -f1
}

# resolve NAME: set PKG to the kernel package for a VMTEST_KERNELS entry.
resolve() {
	local name=$1 sig memo=$CACHE/.resolved
	case $name in
	stable | backports) ;;
	linux-image-*) PKG=$name && return 0 ;;
	*) die "unknown kernel '$name' in VMTEST_KERNELS (use stable, backports or a package name)" ;;
	esac
	sig=$(lists_signature)
	PKG=$(awk -v n="$name" -v s="$sig" '$1 == n && $3 == s { print $2; exit }' "$memo" 2>/dev/null || true)
	[ -n "$PKG" ] && return 0
	if ! PKG=$(resolve_alias "$name"); then
		# The package lists may be missing or older than the backports source.
		apt_update_once
		PKG=$(resolve_alias "$name") ||
			die "cannot resolve the $name cloud kernel from linux-image-cloud-amd64"
		sig=$(lists_signature)
	fi
	[ -w "$CACHE" ] || return 0
	{
		grep -v "^$name " "$memo" 2>/dev/null || true
		printf '%s %s %s\n' "$name" "$PKG" "$sig"
	} >"$memo.tmp" && mv "$memo.tmp" "$memo"
}

# fetch PACKAGE: download and unpack into $CACHE/PACKAGE unless it is already there.
fetch() {
	local pkg=$1 dest=$CACHE/$1 tmp
	if compgen -G "$dest/boot/vmlinuz-*" >/dev/null; then
		return 0
	fi
	need_root "download $pkg into $CACHE"
	log "downloading $pkg"
	tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
	TMP_DIRS+=("$tmp")
	# apt downloads as the unprivileged _apt user when that user can write here.
	chmod 755 "$tmp"
	chown _apt "$tmp" 2>/dev/null || true
	if ! (cd "$tmp" && apt-get download -qq "$pkg" >&2); then
		apt_update_once
		(cd "$tmp" && apt-get download -qq "$pkg" >&2) || die "apt-get download $pkg failed"
	fi
	log "unpacking $pkg"
	mkdir "$tmp/root"
	dpkg -x "$tmp"/*.deb "$tmp/root"
	compgen -G "$tmp/root/boot/vmlinuz-*" >/dev/null || die "$pkg has no boot/vmlinuz-*"
	rm -rf "$dest"
	mv "$tmp/root" "$dest" # atomic: an interrupted run never leaves a half tree behind
	rm -rf "$tmp"
}

run_depmod() {
	local tree=$1 moddir
	for moddir in "$tree"/lib/modules/*; do
		[ -d "$moddir" ] || continue
		[ -s "$moddir/modules.dep" ] && continue
		need_root "run depmod in $tree"
		log "depmod $(basename "$moddir")"
		PATH=$PATH:/usr/sbin:/sbin depmod -b "$tree" "$(basename "$moddir")" ||
			die "depmod failed for $moddir"
	done
}

TMP_DIRS=()
cleanup() { [ ${#TMP_DIRS[@]} -eq 0 ] || rm -rf "${TMP_DIRS[@]}"; }
trap cleanup EXIT

# Root is needed only to change something: a finished setup also works for other users.
[ -d "$CACHE" ] || need_root "create $CACHE"
mkdir -p "$CACHE"
# One setup at a time (two matrix runs started together would both download).
if [ -w "$CACHE" ]; then
	exec 9>"$CACHE/.lock"
	flock 9
fi

install_tools
case " $KERNELS " in
*" backports "*) add_backports_source ;;
esac

for name in $KERNELS; do
	resolve "$name"
	fetch "$PKG"
	run_depmod "$CACHE/$PKG"
	for vmlinuz in "$CACHE/$PKG"/boot/vmlinuz-*; do
		printf '%s %s\n' "${vmlinuz##*/vmlinuz-}" "$vmlinuz"
	done
done
