#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# deps.sh PROFILE... - install the Debian packages a profile needs, only those
# missing. As root it runs apt-get; otherwise it prints the exact command and
# fails. Profiles:
#   build   compile lifeboat
#   demo    build + the tools the demo uses to make images
#   check   demo + what the test suite uses
#   fuzz    clang's libFuzzer
#   lint    cppcheck, clang-tidy, clang-format
#   bench   check + the anchors lifeboat is compared with
#   s3      a Ceph cluster on loopback for 'make check-s3' (mon, OSD, RGW; ~270 MB)
set -eu

pkgs_build="gcc make pkg-config libc6-dev ntfs-3g-dev libnbd-dev zlib1g-dev libext2fs-dev comerr-dev libhivex-dev libssl-dev libzstd-dev libsodium-dev libcurl4-openssl-dev libseccomp-dev"
pkgs_demo="qemu-utils gdisk fdisk ntfs-3g e2fsprogs dosfstools libhivex-bin jq"
pkgs_check="jq xxd xz-utils util-linux xfsprogs cryptsetup-bin libhivex-bin"
pkgs_fuzz="clang libclang-rt-dev"
pkgs_lint="cppcheck clang-tidy clang-format"
pkgs_s3="ceph-mon ceph-osd radosgw curl jq iproute2"
pkgs_bench="libguestfs-tools linux-image-amd64 hyperfine bc restic borgbackup casync time"

want=""
for p in "$@"; do
	case "$p" in
	build) want="$want $pkgs_build" ;;
	demo) want="$want $pkgs_build $pkgs_demo" ;;
	check) want="$want $pkgs_build $pkgs_demo $pkgs_check" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	lint) want="$want $pkgs_lint" ;;
	s3) want="$want $pkgs_s3" ;;
	bench) want="$want $pkgs_build $pkgs_demo $pkgs_check $pkgs_bench" ;;
	*) echo "deps.sh: unknown profile '$p'" >&2; exit 2 ;;
	esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system; install the equivalents of:$want" >&2
	exit 0
fi

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "lifeboat: missing Debian packages:$missing" >&2
	echo "lifeboat: install them with: sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "lifeboat: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $missing >/tmp/lifeboat-apt.log 2>&1; then
	apt-get update >>/tmp/lifeboat-apt.log 2>&1 || true
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing >>/tmp/lifeboat-apt.log 2>&1 || {
		tail -20 /tmp/lifeboat-apt.log >&2
		echo "lifeboat: apt-get install failed; see /tmp/lifeboat-apt.log" >&2
		exit 1
	}
fi
