# SPDX-License-Identifier: GPL-2.0-or-later
#
# images.sh - build test disk images with the real tools (sourced by lib.sh).
# Every builder writes sparse files and uses dd conv=notrunc,sparse to place
# a file system made on a scratch file at its partition's offset.

# place PART_FILE IMAGE OFFSET_MIB
place() {
	dd if="$1" of="$2" bs=1M seek="$3" conv=notrunc,sparse status=none
}

# mk_ntfs FILE SIZE_MIB LABEL: an NTFS volume in a file
mk_ntfs() {
	rm -f "$1"
	truncate -s "$2M" "$1"
	mkntfs -F -Q -q -L "$3" "$1" >/dev/null 2>&1
}

# mk_win_gpt IMAGE: a 300 MiB Windows-like GPT disk:
#   1 EFI system (FAT32 "SYSTEM", 100 MiB), 2 Microsoft reserved (16 MiB),
#   3 basic data (NTFS "Windows", 150 MiB), 4 Windows recovery (NTFS "Recovery", rest)
# NTFS volumes can be prepared by the caller as win-c.ntfs / win-r.ntfs first.
mk_win_gpt() {
	rm -f "$1"
	truncate -s 300M "$1"
	sgdisk -n1:1M:+100M -t1:EF00 -c1:"EFI system partition" \
		-n2:0:+16M -t2:0C01 -c2:"Microsoft reserved partition" \
		-n3:0:+150M -t3:0700 -c3:"Basic data partition" \
		-n4:0:0 -t4:2700 "$1" >/dev/null
	rm -f esp.part
	truncate -s 100M esp.part
	mkfs.fat -F32 -n SYSTEM esp.part >/dev/null 2>&1
	place esp.part "$1" 1
	[ -f win-c.ntfs ] || mk_ntfs win-c.ntfs 150 Windows
	place win-c.ntfs "$1" 117
	[ -f win-r.ntfs ] || mk_ntfs win-r.ntfs 32 Recovery
	place win-r.ntfs "$1" 267
	rm -f esp.part
}

# mk_linux_gpt IMAGE: a 200 MiB Linux-like GPT disk:
#   1 BIOS boot (1 MiB), 2 EFI system (FAT32, 32 MiB), 3 Linux filesystem (ext4 "root",
#   150 MiB, with /etc/os-release), 4 Linux swap (rest)
mk_linux_gpt() {
	rm -f "$1"
	truncate -s 200M "$1"
	sgdisk -n1:1M:+1M -t1:EF02 -n2:0:+32M -t2:EF00 -n3:0:+150M -t3:8300 -c3:root \
		-n4:0:0 -t4:8200 "$1" >/dev/null
	rm -rf rootfs && mkdir -p rootfs/etc
	printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
		>rootfs/etc/os-release
	rm -f esp.part root.part swap.part
	truncate -s 32M esp.part && mkfs.fat -F32 -n EFI esp.part >/dev/null 2>&1
	place esp.part "$1" 2
	mke2fs -q -F -t ext4 -L root -d rootfs root.part 150M >/dev/null
	place root.part "$1" 34
	truncate -s 15M swap.part && mkswap -L swap swap.part >/dev/null 2>&1
	place swap.part "$1" 184
	rm -rf rootfs esp.part root.part swap.part
}

# mk_mbr IMAGE: a 200 MiB MBR disk with an extended partition:
#   1 NTFS (0x07, "Data", 60 MiB, active), 2 extended, 5 Linux (ext3, 60 MiB), 6 swap
mk_mbr() {
	rm -f "$1"
	truncate -s 200M "$1"
	# sfdisk 2.38 cannot place a logical partition without an explicit start
	printf 'label: dos\nstart=2048, size=122880, type=7, bootable\nstart=126976, type=5\nstart=129024, size=122880, type=83\nstart=253952, size=61440, type=82\n' |
		sfdisk -q "$1" >/dev/null
	mk_ntfs mbr-ntfs.part 60 Data
	place mbr-ntfs.part "$1" 1
	rm -f ext3.part && mke2fs -q -F -t ext3 -L data3 ext3.part 60M >/dev/null
	place ext3.part "$1" 63
	rm -f swap.part && truncate -s 30M swap.part && mkswap swap.part >/dev/null 2>&1
	place swap.part "$1" 124
	rm -f mbr-ntfs.part ext3.part swap.part
}

# convert RAW FORMAT OUT: FORMAT is qcow2, vhdx, vmdk, vdi, vhd-fixed, vhd-dynamic
convert() {
	case "$2" in
	vhd-fixed) qemu-img convert -O vpc -o subformat=fixed,force_size=on "$1" "$3" ;;
	vhd-dynamic) qemu-img convert -O vpc -o subformat=dynamic "$1" "$3" ;;
	*) qemu-img convert -O "$2" "$1" "$3" ;;
	esac
}

# FORMATS: every format convert() makes, and the file name it gets in
# convert_all (BASE.<suffix>)
FORMATS="qcow2 vhdx vmdk vdi vhd-fixed vhd-dynamic"

# suffix FORMAT: the file name suffix for FORMAT
suffix() {
	case "$1" in
	vhd-fixed) echo fixed.vhd ;;
	vhd-dynamic) echo dynamic.vhd ;;
	*) echo "$1" ;;
	esac
}

# convert_all RAW BASE: BASE.qcow2, BASE.vhdx, BASE.vmdk, BASE.vdi,
# BASE.fixed.vhd, BASE.dynamic.vhd from RAW
convert_all() {
	for _conv_fmt in $FORMATS; do
		convert "$1" "$_conv_fmt" "$2.$(suffix "$_conv_fmt")" || return 1
	done
}

# disk_guid IMAGE: the disk GUID as sgdisk prints it
disk_guid() {
	sgdisk -p "$1" | sed -n 's/^Disk identifier (GUID): //p'
}

# qemu_size IMAGE [QEMU_FORMAT]: the virtual size qemu gives the image (for
# dynamic VHD, rounded to the CHS geometry; a fixed VHD needs "vpc", as qemu
# takes it for raw otherwise)
qemu_size() {
	qemu-img info ${2:+-f "$2"} --output=json "$1" | jq -r '."virtual-size"'
}

# mk_ext FILE TYPE SIZE LABEL: an ext2/3/4 file system in a file
mk_ext() {
	rm -f "$1"
	mke2fs -q -F -t "$2" -L "$4" "$1" "$3" >/dev/null
}

# mk_fat FILE BITS SIZE_MIB LABEL [MKFS_OPTION...]: a FAT12/16/32 file
# system in a file
mk_fat() {
	_fat_file=$1 _fat_bits=$2 _fat_mib=$3 _fat_label=$4
	shift 4
	rm -f "$_fat_file"
	truncate -s "${_fat_mib}M" "$_fat_file"
	mkfs.fat -F "$_fat_bits" -n "$_fat_label" "$@" "$_fat_file" >/dev/null 2>&1
}

# mk_hibernated VOLUME: put a hiberfil.sys holding a hibernation image
# header ("hibr") on an NTFS volume, with ntfs-3g's ntfscp
mk_hibernated() {
	rm -f hibr.bin
	printf 'hibr' >hibr.bin
	truncate -s 4096 hibr.bin
	ntfscp -f "$1" hibr.bin hiberfil.sys >/dev/null 2>&1
	rm -f hibr.bin
}

# bitlocker_archive: the archive of BitLocker volumes made by Windows
# (cryptsetup's test data; see ../shared/data/bitlocker/README.md), or ""
bitlocker_archive() {
	a="${LB_SHARED_DATA:-$LB_SRCDIR/../shared/data}/bitlocker/bitlk-images.tar.xz"
	if [ -f "$a" ]; then echo "$a"; else echo ""; fi
}

# mk_small_gpt IMAGE: a 40 MiB GPT disk, quick to make and to hash:
#   1 EFI system (FAT16 "ESP", 8 MiB at 1 MiB), 2 basic data (NTFS "Data",
#   16 MiB at 9 MiB), 3 Linux filesystem (ext2 "small", 14 MiB at 25 MiB)
mk_small_gpt() {
	rm -f "$1"
	truncate -s 40M "$1"
	sgdisk -n1:1M:+8M -t1:EF00 -n2:0:+16M -t2:0700 -n3:0:0 -t3:8300 "$1" >/dev/null
	mk_fat small-esp.part 16 8 ESP -s 1 && place small-esp.part "$1" 1 &&
	mk_ntfs small-ntfs.part 16 Data && place small-ntfs.part "$1" 9 &&
	mk_ext small-ext2.part ext2 14M small && place small-ext2.part "$1" 25 &&
	rm -f small-esp.part small-ntfs.part small-ext2.part
}

# mk_small_mbr IMAGE: a 32 MiB MBR disk:
#   1 FAT16 "BOOT" (8 MiB at 1 MiB, active), 2 extended (from 9 MiB),
#   5 ext2 "five" (8 MiB at 10 MiB), 6 ext2 "six" (8 MiB at 19 MiB)
mk_small_mbr() {
	rm -f "$1"
	truncate -s 32M "$1"
	printf 'label: dos\nstart=2048, size=16384, type=6, bootable\nstart=18432, type=5\nstart=20480, size=16384, type=83\nstart=38912, size=16384, type=83\n' |
		sfdisk -q "$1" >/dev/null
	mk_fat small-fat.part 16 8 BOOT -s 1 && place small-fat.part "$1" 1 &&
	mk_ext small-five.part ext2 8M five && place small-five.part "$1" 10 &&
	mk_ext small-six.part ext2 8M six && place small-six.part "$1" 19 &&
	rm -f small-fat.part small-five.part small-six.part
}
