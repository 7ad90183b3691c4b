#!/usr/bin/env bash
# Install every Debian package that building, running and testing this project needs.
# Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing. Run as root on Debian 12 (bookworm).
#
#   deploy/install-deps.sh          build + run + test dependencies
#   deploy/install-deps.sh --bench  also what bench/ compares against (auditd)
#   deploy/install-deps.sh --vm     also what the qemu kernel matrix needs
set -euo pipefail

want=(
	# toolchain
	make gcc clang llvm pkg-config clang-format git ca-certificates
	# BPF
	libbpf-dev bpftool libelf-dev zlib1g-dev
	# RPC, storage, config
	libgrpc-dev protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
	libuv1-dev libsqlite3-dev libyaml-dev libjansson-dev
	# tests
	libcmocka-dev libclang-rt-14-dev iproute2 procps psmisc util-linux python3 openssl
)
for arg in "$@"; do
	case "$arg" in
	--bench) want+=(auditd hyperfine strace) ;;
	--vm) want+=(qemu-system-x86 busybox-static cpio kmod xz-utils file zstd) ;;
	--all) want+=(auditd hyperfine strace qemu-system-x86 busybox-static cpio kmod xz-utils file zstd) ;;
	*) echo "usage: $0 [--bench] [--vm] [--all]" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm for the gRPC interop tests: any node >= 16 will do, from Debian or elsewhere.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}: run as root (apt-get needs it)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
