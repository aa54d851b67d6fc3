#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh - the main job on the embedded default (a local folder, demo-out/):
# build a small fleet of Windows-like and Linux-like VM images in the formats
# clouds and hypervisors use, with the real tools, and inspect them all.
# Run by 'make demo' after the packages are installed and lifeboat is built.
set -eu
cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
LIFEBOAT="$SRCDIR/lifeboat"
OUT="$SRCDIR/demo-out"
: "${BUILD:=$SRCDIR/build/default}"
HELPERS="$BUILD/helpers"

step() {
	printf '\n== %s\n' "$*"
}

rm -rf "$OUT"
mkdir -p "$OUT/work"
cd "$OUT/work"
# shellcheck source=../tests/e2e/images.sh
. "$SRCDIR/tests/e2e/images.sh"

step "building a small fleet of VM images with sgdisk, sfdisk, mkntfs, mke2fs, mkfs.fat, qemu-img"
mk_win_gpt win.raw >/dev/null 2>&1
mk_linux_gpt linux.raw >/dev/null 2>&1
mk_mbr legacy.raw >/dev/null 2>&1
cd "$OUT"
mv work/win.raw win-01.img
convert win-01.img qcow2 win-02.qcow2
convert win-01.img vhdx win-03.vhdx
convert win-01.img vhd-fixed win-04.vhd
convert work/linux.raw qcow2 linux-01.qcow2
convert work/linux.raw vmdk linux-02.vmdk
convert work/legacy.raw vhd-dynamic legacy-01.vhd
rm -rf work
ls -ls --block-size=K . | sed 's/^/  /'

step "sha256 of every image before lifeboat looks at them"
sha256sum ./* >../demo-out.sha256.before
sed 's/^/  /' ../demo-out.sha256.before

step "lifeboat inspect (read-only)"
"$LIFEBOAT" inspect win-01.img win-02.qcow2 win-03.vhdx win-04.vhd linux-01.qcow2 \
	linux-02.vmdk legacy-01.vhd

step "lifeboat inspect --json, summarised with jq"
"$LIFEBOAT" inspect --json ./* >inspect.json
if command -v jq >/dev/null 2>&1; then
	jq -r '.images[] | "  \(.path): \(.format) \(.virtual_size) bytes, \(.partition_table.type), " +
		([.partitions[] | select(.filesystem != null) | .filesystem.type] | join(" "))' inspect.json
else
	echo "  (jq not installed; see $OUT/inspect.json)"
fi

step "the images are byte-identical afterwards"
sha256sum -c ../demo-out.sha256.before | sed 's/^/  /'
mv ../demo-out.sha256.before sha256.before

step "a damaged image gets a clear error and is left alone"
head -c 200000 win-02.qcow2 >damaged.qcow2
set +e
"$LIFEBOAT" inspect damaged.qcow2
code=$?
set -e
echo "  exit code $code (see 'man ./docs/lifeboat.1', EXIT STATUS)"
rm -f damaged.qcow2

# ---- part 2: the 19 July 2024 outage, fixed offline --------------------------------
step "a fleet of Windows VMs stuck in a boot loop: each disk holds the bad channel file"
mkdir -p fleet && cd fleet
LB_SRCDIR=$SRCDIR
# shellcheck source=../tests/e2e/winimg.sh
. "$SRCDIR/tests/e2e/winimg.sh"
mk_cs_disk vm01.img                            # raw, GPT
mk_cs_mbr vm02.img                             # raw, MBR
cp --sparse=always vm01.img tmp.img
convert tmp.img vhd-fixed vm03.vhd             # fixed VHD (Azure, Hyper-V)
convert tmp.img qcow2 vm04.qcow2               # qcow2 (KVM, OpenStack, Proxmox)
convert tmp.img vhdx vm05.vhdx                 # VHDX (Hyper-V)
rm -f tmp.img win-c.ntfs win-r.ntfs
mk_cs_volume win-c.ntfs
"$FIXTURE" win-c.ntfs dirty >/dev/null         # vm06: blue-screened, journal not clean
mk_win_gpt vm06.img >/dev/null 2>&1
rm -f win-c.ntfs win-r.ntfs
sha256sum ./* >../fleet.sha256
cd "$OUT"
echo "  fleet/: $(ls fleet | tr '\n' ' ')"
"$LIFEBOAT" ls fleet/vm01.img 'C:\Windows\System32\drivers\CrowdStrike'

step "lifeboat recipes show crowdstrike-291"
"$LIFEBOAT" recipes show crowdstrike-291 | grep -v '^#' | sed '/^$/d'

step "lifeboat repair --dry-run: what would change (nothing is written)"
"$LIFEBOAT" repair --dry-run --recipe crowdstrike-291 fleet/vm01.img
(cd fleet && sha256sum -c --quiet ../fleet.sha256) && echo "  (every image unchanged)"

step "lifeboat repair --recipe crowdstrike-291 --jobs 2 fleet/*"
"$LIFEBOAT" repair --recipe crowdstrike-291 --jobs 2 --progress=bar fleet/* >repair.txt
sed -n '/^image /,$p' repair.txt
echo "  (full report: $OUT/repair.txt)"

step "checked with ntfs-3g's own tools: the channel file is gone, the decoys stay"
part_out fleet/vm01.img 117 150 p3.tmp
ntfsls -f p3.tmp -p "/$CS" | sed 's/^/  /'
ntfsfix -n p3.tmp | tail -1 | sed 's/^/  /'
rm -f p3.tmp

step "the audit journal, tamper-evident"
"$LIFEBOAT" journal verify fleet/lifeboat-undo/audit.jsonl

step "lifeboat undo fleet/vm04.qcow2: every byte back"
"$LIFEBOAT" undo fleet/vm04.qcow2
( cd fleet && grep vm04.qcow2 ../fleet.sha256 | sha256sum -c - ) | sed 's/^/  /' ||
	echo "  (qcow2 metadata may differ; guest content is what undo restores)"

printf '\nDemo done. Images, inspect.json and repair.txt are in %s\n' "$OUT"
