#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make-corpus.sh - regenerate the fuzz seeds in tests/fuzz/corpus/<target>/
# with the real tools (sgdisk, sfdisk, qemu-img, mkntfs, mke2fs, mkfs.fat,
# mkswap, mkfs.xfs, cryptsetup). Seeds are small prefixes or whole small
# images; the generated files are committed, so this only needs to run when
# a seed is added. Files it does not make are left alone (a crash input that
# turned out to be valid may be kept in corpus/ by hand).
#
# The 4096-byte-sector GPT needs a loop device (root); without one that seed
# is skipped with a message. Formats without a tool here (BitLocker, exFAT,
# LVM2, Btrfs) get synthetic seeds written with printf, named synthetic-*.
set -eu
cd "$(dirname "$0")"
CORPUS=$(pwd)/corpus
tmp=$(mktemp -d)
loopdev=""
cleanup() {
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

say() { echo "make-corpus: $*" >&2; }
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { say "missing $t; install the 'check' packages (scripts/deps.sh check)"; exit 1; }
	done
}
need sgdisk sfdisk qemu-img mkntfs mke2fs mkfs.fat mkswap dd head truncate
mkdir -p "$CORPUS/mbr" "$CORPUS/ptable" "$CORPUS/vhd" "$CORPUS/image_probe" "$CORPUS/fs_probe" \
	"$CORPUS/fault_spec"

# put TARGET NAME FILE [BYTES]: copy FILE (its first BYTES) into the corpus
put() {
	if [ $# -ge 4 ]; then
		head -c "$4" "$3" >"$CORPUS/$1/$2"
	else
		cp "$3" "$CORPUS/$1/$2"
	fi
}

# ---- partition tables (64 KiB disks, 512-byte sectors) --------------------------
# (sgdisk -q leaves the protective MBR out: its output is discarded instead)
GUID_DISK=5A1E0000-0000-4000-8000-00000000D15C
g=$tmp/gpt.img
truncate -s 64K "$g"
sgdisk -U "$GUID_DISK" \
	-n 1:34:43 -t 1:EF00 -c 1:"EFI system partition" -u 1:5A1E0000-0000-4000-8000-000000000001 \
	-n 2:44:51 -t 2:0C01 -c 2:"Microsoft reserved partition" -u 2:5A1E0000-0000-4000-8000-000000000002 \
	-n 3:52:67 -t 3:0700 -c 3:"Données" -u 3:5A1E0000-0000-4000-8000-000000000003 \
	-n 4:68:75 -t 4:2700 -c 4:Recovery -u 4:5A1E0000-0000-4000-8000-000000000004 \
	-n 6:76:83 -t 6:8300 -c 6:root -u 6:5A1E0000-0000-4000-8000-000000000006 \
	-n 7:84:87 -t 7:8200 -c 7:swap -u 7:5A1E0000-0000-4000-8000-000000000007 \
	-n 8:88:94 -t 8:8E00 -c 8:lvm -u 8:5A1E0000-0000-4000-8000-000000000008 "$g" >/dev/null
put ptable gpt-windows-linux.img "$g"
put mbr gpt-protective-mbr.bin "$g" 512
# the backup header lost to truncation: still readable from the primary
put ptable gpt-backup-truncated.img "$g" $((64 * 1024 - 8 * 512))

g2=$tmp/gpt2.img
truncate -s 64K "$g2"
sgdisk -U "$GUID_DISK" -n 1:34:94 -t 1:0700 -u 1:5A1E0000-0000-4000-8000-000000000011 "$g2" >/dev/null
put ptable gpt-one-partition.img "$g2"

m=$tmp/mbr.img
truncate -s 64K "$m"
printf 'label: dos\nlabel-id: 0x5a1e0001\nstart=1, size=20, type=83, bootable\nstart=24, size=96, type=f\nstart=26, size=30, type=7\nstart=60, size=50, type=82\n' |
	sfdisk -q "$m"
put ptable mbr-logicals.img "$m"
put mbr mbr-logicals.bin "$m" 512

m2=$tmp/mbr2.img
truncate -s 64K "$m2"
printf 'label: dos\nlabel-id: 0x5a1e0002\nstart=2, size=40, type=7, bootable\nstart=42, size=80, type=c\n' |
	sfdisk -q "$m2"
put ptable mbr-two-primaries.img "$m2"
put mbr mbr-two-primaries.bin "$m2" 512

# 4096-byte logical sectors: sgdisk on a loop device that presents them
g4=$tmp/gpt4k.img
truncate -s 128K "$g4"
if loopdev=$(losetup --sector-size 4096 -f --show "$g4" 2>/dev/null); then
	sgdisk -U "$GUID_DISK" -n 1:6:15 -t 1:EF00 -c 1:ESP -u 1:5A1E0000-0000-4000-8000-000000000041 \
		-n 2:16:26 -t 2:8300 -c 2:data -u 2:5A1E0000-0000-4000-8000-000000000042 "$loopdev" >/dev/null
	sync
	blockdev --flushbufs "$loopdev" # or the protective MBR may not reach the file
	losetup -d "$loopdev"
	loopdev=""
	put ptable gpt-4k-sectors.img "$g4"
else
	say "no loop device (needs root): gpt-4k-sectors.img not regenerated"
fi

# ---- VHD (qemu-img's vpc driver) -------------------------------------------------
qemu-img create -q -f vpc -o subformat=dynamic "$tmp/dyn.vhd" 1M
put vhd dynamic-1m.vhd "$tmp/dyn.vhd"
put image_probe dynamic-1m.vhd "$tmp/dyn.vhd"
qemu-img create -q -f vpc -o subformat=dynamic,force_size=on "$tmp/dyn8.vhd" 8M
put vhd dynamic-8m-force-size.vhd "$tmp/dyn8.vhd"
qemu-img create -q -f vpc -o subformat=fixed "$tmp/fixed.vhd" 16K
put vhd fixed-16k.vhd "$tmp/fixed.vhd"
put image_probe fixed-16k.vhd "$tmp/fixed.vhd"

# ---- other image formats: whole small files, or the first 136 KiB ----------------
qemu-img create -q -f qcow2 -o cluster_size=4096 "$tmp/v3.qcow2" 1M
put image_probe qcow2-v3-4k-clusters.qcow2 "$tmp/v3.qcow2"
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 "$tmp/v2.qcow2" 1M
put image_probe qcow2-v2.qcow2 "$tmp/v2.qcow2"
(cd "$tmp" && qemu-img create -q -f qcow2 -o cluster_size=4096 -b v3.qcow2 -F qcow2 overlay.qcow2)
put image_probe qcow2-overlay-backing-file.qcow2 "$tmp/overlay.qcow2"
qemu-img create -q -f qcow2 "$tmp/v3-64k.qcow2" 1M
put image_probe qcow2-64k-clusters-head.qcow2 "$tmp/v3-64k.qcow2" 70000
qemu-img create -q -f vhdx "$tmp/x.vhdx" 1M
put image_probe vhdx-head.vhdx "$tmp/x.vhdx" $((136 * 1024))
qemu-img create -q -f vmdk "$tmp/sparse.vmdk" 1M
put image_probe vmdk-monolithic-sparse.vmdk "$tmp/sparse.vmdk"
qemu-img create -q -f vmdk -o subformat=streamOptimized "$tmp/stream.vmdk" 1M
put image_probe vmdk-stream-optimized.vmdk "$tmp/stream.vmdk"
(cd "$tmp" && qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 1M)
put image_probe vmdk-descriptor.vmdk "$tmp/flat.vmdk"
qemu-img create -q -f vdi "$tmp/x.vdi" 1M
put image_probe vdi.vdi "$tmp/x.vdi"
put image_probe raw-mbr.img "$m"

# ---- file systems: the first bytes of a fresh volume --------------------------------
FS_FULL=$((72 * 1024)) # what lb_fs_probe() reads
FS_SHORT=8192          # enough for these formats' signatures; keeps the corpus small
truncate -s 8M "$tmp/ntfs"
mkntfs -q -F -Q -L WinData "$tmp/ntfs" >/dev/null 2>&1
put fs_probe ntfs.bin "$tmp/ntfs" $FS_FULL
put mbr ntfs-boot-sector.bin "$tmp/ntfs" 512
for n in 2 3 4; do
	truncate -s 4M "$tmp/ext$n"
	mke2fs -q -F -t ext$n -L "lb-ext$n" -U 5a1e0000-0000-4000-8000-0000000000e$n "$tmp/ext$n"
done
put fs_probe ext4.bin "$tmp/ext4" $FS_FULL
put fs_probe ext3.bin "$tmp/ext3" $FS_SHORT
put fs_probe ext2.bin "$tmp/ext2" $FS_SHORT
truncate -s 4M "$tmp/fat12"
mkfs.fat -F 12 -n FAT12VOL -i 5a1e0012 "$tmp/fat12" >/dev/null
put fs_probe fat12.bin "$tmp/fat12" $FS_SHORT
truncate -s 20M "$tmp/fat16"
mkfs.fat -F 16 -n FAT16VOL -i 5a1e0016 "$tmp/fat16" >/dev/null
put fs_probe fat16.bin "$tmp/fat16" $FS_SHORT
truncate -s 40M "$tmp/fat32"
mkfs.fat -F 32 -n FAT32VOL -i 5a1e0032 "$tmp/fat32" >/dev/null
put fs_probe fat32.bin "$tmp/fat32" $FS_FULL
put mbr fat32-boot-sector.bin "$tmp/fat32" 512
truncate -s 1M "$tmp/swap"
mkswap -L swapvol -U 5a1e0000-0000-4000-8000-00000000005a "$tmp/swap" >/dev/null 2>&1
put fs_probe swap.bin "$tmp/swap" $FS_FULL
if command -v mkfs.xfs >/dev/null 2>&1; then
	truncate -s 320M "$tmp/xfs" # sparse; mkfs.xfs wants 300 MiB
	mkfs.xfs -q -L xfsvol -m uuid=5a1e0000-0000-4000-8000-0000000000f5 "$tmp/xfs"
	put fs_probe xfs.bin "$tmp/xfs" $FS_SHORT
else
	say "no mkfs.xfs: xfs.bin not regenerated"
fi
if command -v cryptsetup >/dev/null 2>&1; then
	printf 'lifeboat' >"$tmp/key"
	for v in 1 2; do
		extra=""
		[ $v = 2 ] && extra="--pbkdf pbkdf2 --label cryptvol"
		truncate -s 20M "$tmp/luks$v"
		# shellcheck disable=SC2086
		cryptsetup luksFormat -q --type luks$v --pbkdf-force-iterations 1000 $extra \
			--uuid 5a1e0000-0000-4000-8000-00000000001$v --key-file "$tmp/key" "$tmp/luks$v"
		put fs_probe luks$v.bin "$tmp/luks$v" $FS_SHORT
	done
else
	say "no cryptsetup: luks seeds not regenerated"
fi

# formats without a tool here: the signatures their documentation gives, nothing else
z() { head -c "$1" /dev/zero; }
at() { # at FILE OFFSET TEXT: write TEXT (printf format) at OFFSET
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
s=$CORPUS/fs_probe/synthetic-bitlocker.bin
z 512 >"$s"
at "$s" 0 '\353\130\220-FVE-FS-'
at "$s" 510 '\125\252'
s=$CORPUS/fs_probe/synthetic-bitlocker-to-go.bin
head -c 512 "$tmp/fat32" >"$s"
at "$s" 424 '\073\326\147\111\051\056\330\112\203\231\366\243\071\343\320\001'
s=$CORPUS/fs_probe/synthetic-exfat.bin
z 512 >"$s"
at "$s" 0 '\353\166\220EXFAT   '
at "$s" 100 '\044\063\042\021'
at "$s" 108 '\011\003'
at "$s" 510 '\125\252'
s=$CORPUS/fs_probe/synthetic-lvm2.bin
z 2048 >"$s"
at "$s" 512 'LABELONE'
at "$s" 536 'LVM2 001Abcdef0123456789Abcdef0123456789'
s=$CORPUS/fs_probe/synthetic-btrfs.bin
z $FS_FULL >"$s"
at "$s" 65600 '_BHRfS_M'
at "$s" 65835 'btrfsvol'
s=$CORPUS/fs_probe/synthetic-refs.bin
z 512 >"$s"
at "$s" 3 'ReFS\0\0\0\0'

# ---- fault specs: one per rule, and a combination ---------------------------------------
f=$CORPUS/fault_spec
printf 'read-error=1M+4K' >"$f/read-error.txt"
printf 'write-error=2048s+8s' >"$f/write-error.txt"
printf 'enospc=1G' >"$f/enospc.txt"
printf 'flip=510:7' >"$f/flip.txt"
printf 'short-reads' >"$f/short-reads.txt"
printf 'write-limit=10' >"$f/write-limit.txt"
printf 'short-reads,flip=0,read-error=4K+1,write-error=8KiB,enospc=3000,write-limit=2' >"$f/all.txt"

du -sh "$CORPUS"/* >&2
