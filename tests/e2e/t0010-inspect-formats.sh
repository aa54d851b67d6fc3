#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# inspect --json, field by field, on a Windows-like GPT disk, a Linux-like
# GPT disk and an MBR disk with logical partitions, each as raw, qcow2,
# VHDX, VMDK, VDI, fixed VHD and dynamic VHD; whole-disk file systems; and
# the text output. Expected values come from the tools that made the images
# (sgdisk, sfdisk, blkid, the boot sectors read with od), not from lifeboat.
. "$(dirname "$0")/lib.sh"

# blk IMAGE OFFSET TAG: what blkid finds at OFFSET ("" if nothing)
blk() {
	blkid -p -O "$2" -o value -s "$3" "$1" || true
}

# cluster_at IMAGE OFFSET: bytes per sector * sectors per cluster from the
# FAT or NTFS boot sector at OFFSET
cluster_at() {
	bps=$(od -An -t u2 -j $(($2 + 11)) -N 2 "$1" | tr -d ' ')
	spc=$(od -An -t u1 -j $(($2 + 13)) -N 1 "$1" | tr -d ' ')
	echo $((bps * spc))
}

# parts_like_sfdisk RAW JSON: number, start and size of every partition
# (and GUIDs and names for GPT, type and boot flag for MBR) are what sfdisk
# reads from RAW
parts_like_sfdisk() {
	sfdisk -J "$1" | jq -S '
		.partitiontable as $t |
		[$t.partitions[] |
		 {number: (.node | capture("(?<n>[0-9]+)$").n | tonumber),
		  start: (.start * 512), size: (.size * 512)} +
		 (if $t.label == "gpt" then
			{type_guid: .type, partition_guid: .uuid, name: (.name // "")}
		  else
			{mbr_type: ("0x" + (if (.type | length) == 1 then "0" else "" end) + .type),
			 bootable: (.bootable // false)}
		  end)]' >"$1.sfdisk.json" &&
	jq -S '.images[0] as $i | [$i.partitions[] |
		{number, start, size} +
		(if $i.partition_table.type == "gpt" then {type_guid, partition_guid, name}
		 else {mbr_type, bootable} end)]' "$2" >"$2.parts.json" &&
	if ! cmp -s "$1.sfdisk.json" "$2.parts.json"; then
		say "partitions differ from sfdisk's view (sfdisk first):"
		diff "$1.sfdisk.json" "$2.parts.json"
		return 1
	fi
}

# The functions below queue assertions (json_expect) on an inspect --json
# document; the caller runs them with json_check FILE.

# fs_like_blkid RAW JSON INDEX: label and UUID of partition INDEX (0-based in
# the JSON array) are what blkid finds at its start
fs_like_blkid() {
	off=$(jq -r ".images[0].partitions[$3].start" "$2")
	json_expect ".images[0].partitions[$3].filesystem.label // \"\"" "$(blk "$1" "$off" LABEL)"
	json_expect ".images[0].partitions[$3].filesystem.uuid // \"\"" "$(blk "$1" "$off" UUID)"
}

# same_as_raw RAW_JSON JSON: everything but the container fields is the same
same_as_raw() {
	filter='.images[0] | del(.path, .format, .subformat, .virtual_size, .file_size,
		.file_allocated, .data_allocated)'
	jq -S "$filter" "$1" >raw.view && jq -S "$filter" "$2" >fmt.view &&
	if ! cmp -s raw.view fmt.view; then
		say "$2 differs from $1 beyond the container fields:"
		diff raw.view fmt.view
		return 1
	fi
}

# container FILE JSON FORMAT SUBFORMAT: the container fields
container() {
	json_expect ".images[0].ok" true
	json_expect ".images[0].path" "$1"
	json_expect ".images[0].format" "$3"
	json_expect ".images[0].subformat" "$4"
	case $3 in vhd) q=vpc ;; *) q=$3 ;; esac
	json_expect ".images[0].virtual_size" "$(qemu_size "$1" $q)"
	json_expect ".images[0].file_size" "$(size_of "$1")"
	json_expect ".images[0].file_allocated" "$(($(stat -c '%b * %B' "$1")))"
	json_expect ".images[0].backing_file" null
	json_expect ".images[0].notes | length" 0
	json_expect ".images[0].partition_errors" 0
	json_expect ".images[0].filesystem" null
	json_expect ".images[0].os" null
	json_expect ".summary.images" 1
	json_expect ".summary.ok" 1
	json_expect ".summary.failed" 0
}

# gpt_header JSON GUID: a healthy GPT
gpt_header() {
	json_expect ".images[0].partition_table.type" gpt
	json_expect ".images[0].partition_table.sector_size" 512
	json_expect ".images[0].partition_table.disk_guid" "$2"
	json_expect ".images[0].partition_table.primary_header_ok" true
	json_expect ".images[0].partition_table.backup_header_ok" true
	json_expect ".images[0].partition_table.used_backup" false
	json_expect ".images[0].partition_table.entries" 128
}

# part JSON INDEX NUMBER TYPE FSTYPE LABEL: one partition's number, type
# name, file-system type and label ("null" for none)
part() {
	json_expect ".images[0].partitions[$2].number" "$3"
	json_expect ".images[0].partitions[$2].type" "$4"
	json_expect ".images[0].partitions[$2].filesystem.type" "$5"
	json_expect ".images[0].partitions[$2].filesystem.label" "$6"
}

# ntfs_clean JSON INDEX: a healthy NTFS volume
ntfs_clean() {
	p=".images[0].partitions[$2].filesystem"
	json_expect "$p.version" 3.1
	json_expect "$p.dirty" false
	json_expect "$p.dirty_flag" false
	json_expect "$p.journal_clean" true
	json_expect "$p.hibernated" false
	json_expect "$p.encrypted" false
	json_expect "$p.note" null
}

# check_win JSON: the fields of the Windows-like disk
check_win() {
	j=$1
	gpt_header "$j" "$(cat win.guid)"
	json_expect ".images[0].partitions | length" 4
	part "$j" 0 1 "EFI system" fat32 SYSTEM
	json_expect ".images[0].partitions[0].filesystem.cluster_size" "$(cat win.esp.cluster)"
	json_expect ".images[0].partitions[0].filesystem.size" $((100 << 20))
	json_expect ".images[0].partitions[0].name" "EFI system partition"
	part "$j" 1 2 "Microsoft reserved" empty null
	part "$j" 2 3 "Microsoft basic data" ntfs Windows &&
	json_expect ".images[0].partitions[2].start" $((117 << 20))
	json_expect ".images[0].partitions[2].size" $((150 << 20))
	json_expect ".images[0].partitions[2].filesystem.cluster_size" 4096
	ntfs_clean "$j" 2
	part "$j" 3 4 "Windows recovery" ntfs Recovery &&
	ntfs_clean "$j" 3
	json_expect ".images[0].partitions[3].type_guid" DE94BBA4-06D1-4D40-A16A-BFD50179D6AC
}

# check_lin JSON
check_lin() {
	j=$1
	gpt_header "$j" "$(cat lin.guid)"
	json_expect ".images[0].partitions | length" 4
	part "$j" 0 1 "BIOS boot" empty null
	part "$j" 1 2 "EFI system" fat32 EFI &&
	part "$j" 2 3 "Linux filesystem" ext4 root
	json_expect ".images[0].partitions[2].name" root
	json_expect ".images[0].partitions[2].filesystem.cluster_size" "$(cat lin.ext4.block)"
	json_expect ".images[0].partitions[2].filesystem.size" $((150 << 20))
	json_expect ".images[0].partitions[2].filesystem.dirty" false
	json_expect ".images[0].partitions[2].filesystem.encrypted" false
	part "$j" 3 4 "Linux swap" swap swap
}

# check_mbr JSON
check_mbr() {
	j=$1
	json_expect ".images[0].partition_table.type" mbr
	json_expect ".images[0].partition_table.sector_size" 512
	json_expect ".images[0].partition_table.disk_signature" "$(cat mbr.sig)"
	json_expect "[.images[0].partitions[].number] | join(\",\")" 1,2,5,6
	part "$j" 0 1 NTFS/exFAT ntfs Data
	json_expect ".images[0].partitions[0].bootable" true
	json_expect ".images[0].partitions[0].logical" false
	ntfs_clean "$j" 0
	json_expect ".images[0].partitions[1].type" extended
	json_expect ".images[0].partitions[1].mbr_type" 0x05
	json_expect ".images[0].partitions[1].bootable" false
	json_expect ".images[0].partitions[1].filesystem" null
	part "$j" 2 5 Linux ext3 data3
	json_expect ".images[0].partitions[2].logical" true
	json_expect ".images[0].partitions[2].bootable" false
	json_expect ".images[0].partitions[2].filesystem.dirty" false
	part "$j" 3 6 "Linux swap" swap null
	json_expect ".images[0].partitions[3].logical" true
}

test_expect_success 'setup: three disks, made by sgdisk/sfdisk, mkntfs, mke2fs, mkfs.fat, mkswap' '
	mk_win_gpt win.img &&
	mk_linux_gpt lin.img &&
	mk_mbr mbr.img &&
	disk_guid win.img >win.guid && grep -q "^[0-9A-F-]\{36\}\$" win.guid &&
	disk_guid lin.img >lin.guid && grep -q "^[0-9A-F-]\{36\}\$" lin.guid &&
	sfdisk -J mbr.img | jq -r .partitiontable.id >mbr.sig && grep -q "^0x[0-9a-f]\{8\}\$" mbr.sig &&
	cluster_at win.img $((1 << 20)) >win.esp.cluster &&
	blk lin.img $((34 << 20)) BLOCK_SIZE >lin.ext4.block &&
	test -s lin.ext4.block
'

test_expect_success 'raw Windows disk: every field' '
	lb inspect --json win.img >win.img.json &&
	container win.img win.img.json raw null &&
	check_win win.img.json &&
	fs_like_blkid win.img win.img.json 0 &&
	fs_like_blkid win.img win.img.json 2 &&
	fs_like_blkid win.img win.img.json 3 &&
	json_check win.img.json &&
	parts_like_sfdisk win.img win.img.json
'

test_expect_success 'raw Linux disk: every field' '
	lb inspect --json lin.img >lin.img.json &&
	container lin.img lin.img.json raw null &&
	check_lin lin.img.json &&
	fs_like_blkid lin.img lin.img.json 1 &&
	fs_like_blkid lin.img lin.img.json 2 &&
	fs_like_blkid lin.img lin.img.json 3 &&
	json_check lin.img.json &&
	parts_like_sfdisk lin.img lin.img.json
'

test_expect_success 'raw MBR disk: primary, extended and logical partitions' '
	lb inspect --json mbr.img >mbr.img.json &&
	container mbr.img mbr.img.json raw null &&
	check_mbr mbr.img.json &&
	fs_like_blkid mbr.img mbr.img.json 0 &&
	fs_like_blkid mbr.img mbr.img.json 2 &&
	fs_like_blkid mbr.img mbr.img.json 3 &&
	json_check mbr.img.json &&
	parts_like_sfdisk mbr.img mbr.img.json
'

test_expect_success 'sparse raw disks: guest data allocated is less than the disk' '
	for d in win lin mbr; do
		a=$(jq .images[0].data_allocated $d.img.json) &&
		v=$(jq .images[0].virtual_size $d.img.json) &&
		test "$a" -gt 0 && test "$a" -lt "$v" || { say "$d: $a of $v"; return 1; }
	done
'

test_expect_success 'setup: every disk in every format (qemu-img convert)' '
	for d in win lin mbr; do
		convert_all $d.img $d || return 1
	done
'

for d in win lin mbr; do
	for f in $FORMATS; do
		case $f in
		qcow2) fmt=qcow2 sub=v3 ;;
		vhdx) fmt=vhdx sub=null ;;
		vmdk) fmt=vmdk sub=monolithicSparse ;;
		vdi) fmt=vdi sub=null ;;
		vhd-fixed) fmt=vhd sub=fixed ;;
		vhd-dynamic) fmt=vhd sub=dynamic ;;
		esac
		file=$d.$(suffix $f)
		test_expect_success "$file: format $fmt ($sub) and every field" "
			lb inspect --json $file >$file.json &&
			container $file $file.json $fmt $sub &&
			check_$d $file.json &&
			json_check $file.json &&
			same_as_raw $d.img.json $file.json
		"
	done
done

test_expect_success 'qcow2: guest data allocated is less than the disk' '
	a=$(jq .images[0].data_allocated win.qcow2.json) &&
	test "$a" -gt 0 && test "$a" -lt $((300 << 20))
'

test_expect_success 'dynamic VHD: the size qemu rounds to the CHS geometry' '
	test "$(qemu_size win.dynamic.vhd)" -ne $((300 << 20)) &&
	json_is win.dynamic.vhd.json .images[0].virtual_size "$(qemu_size win.dynamic.vhd)" &&
	json_is win.fixed.vhd.json .images[0].virtual_size $((300 << 20))
'

test_expect_success 'several images in one run: one JSON document, in order' '
	expect_code 0 lb inspect --json win.qcow2 lin.vhdx mbr.vmdk &&
	json_valid out &&
	json_is out "[.images[].path] | join(\",\")" win.qcow2,lin.vhdx,mbr.vmdk &&
	json_is out ".summary.images" 3 &&
	json_is out ".summary.ok" 3 &&
	json_is out ".summary.failed" 0 &&
	json_is out ".summary.incomplete" 0 &&
	json_is out ".version" 1
'

test_expect_success 'a whole-disk NTFS volume (no partition table)' '
	mk_ntfs whole.ntfs 64 Whole &&
	lb inspect --json whole.ntfs >whole.json &&
	json_is whole.json .images[0].format raw &&
	json_is whole.json .images[0].partition_table.type none &&
	json_is whole.json ".images[0].partitions | length" 0 &&
	json_is whole.json .images[0].filesystem.type ntfs &&
	json_is whole.json .images[0].filesystem.label Whole &&
	json_is whole.json .images[0].filesystem.uuid "$(blk whole.ntfs 0 UUID)" &&
	json_is whole.json .images[0].filesystem.cluster_size "$(cluster_at whole.ntfs 0)" &&
	json_is whole.json .images[0].filesystem.dirty false &&
	json_is whole.json .images[0].filesystem.hibernated false
'

test_expect_success 'a whole-disk ext4 file system, also inside a qcow2' '
	mk_ext whole.ext4 ext4 48M Flat &&
	convert whole.ext4 qcow2 whole-ext4.qcow2 &&
	for f in whole.ext4 whole-ext4.qcow2; do
		lb inspect --json $f >$f.json &&
		json_is $f.json .images[0].partition_table.type none &&
		json_is $f.json .images[0].filesystem.type ext4 &&
		json_is $f.json .images[0].filesystem.label Flat &&
		json_is $f.json .images[0].filesystem.uuid "$(blk whole.ext4 0 UUID)" &&
		json_is $f.json .images[0].filesystem.size $((48 << 20)) || return 1
	done
'

test_expect_success 'text output: the key lines of a GPT disk' '
	expect_code 0 lb inspect win.qcow2 &&
	test ! -s err &&
	grep_q "^win.qcow2\$" out &&
	grep_q "^  format       qcow2 (v3)\$" out &&
	grep_q "^  disk size    300 MiB (314572800 bytes)\$" out &&
	grep_q "^  file         .*allocated on the host\$" out &&
	grep_q "^  guest data   .* allocated\$" out &&
	grep_q "^  table        GPT, 512-byte sectors, disk GUID $(cat win.guid)\$" out &&
	grep_q "^  1   1.00 MiB   100 MiB    EFI system             fat32 \"SYSTEM\", 512 B clusters\$" out &&
	grep_q "^  2   101 MiB    16.0 MiB   Microsoft reserved     empty\$" out &&
	grep_q "^  3   117 MiB    150 MiB    Microsoft basic data   ntfs \"Windows\", 4.00 KiB clusters, clean, not hibernated\$" out &&
	grep_q "^  4   267 MiB    33.0 MiB   Windows recovery       ntfs \"Recovery\", 4.00 KiB clusters, clean, not hibernated\$" out &&
	! grep -q "note" out
'

test_expect_success 'text output: ext4 has blocks, not clusters; MBR lines' '
	expect_code 0 lb inspect lin.img mbr.vdi &&
	grep_q "^  3   34.0 MiB   150 MiB    Linux filesystem       ext4 \"root\", 1.00 KiB blocks, clean\(, .*\)\{0,1\}\$" out &&
	grep_q "^  4   184 MiB    16.0 MiB   Linux swap             swap \"swap\"\$" out &&
	grep_q "^  table        MBR, disk signature $(cat mbr.sig)\$" out &&
	grep_q "^  1   1.00 MiB   60.0 MiB   NTFS/exFAT             ntfs \"Data\"" out &&
	grep_q "^  2   62.0 MiB   138 MiB    extended               -\$" out &&
	grep_q "^  5   63.0 MiB   60.0 MiB   Linux                  ext3 \"data3\", 1.00 KiB blocks, clean\$" out &&
	grep_q "^  6   124 MiB    30.0 MiB   Linux swap             swap\$" out &&
	grep_q "^  format       vdi\$" out &&
	test "$(grep -c "^\$" out)" -eq 1
'

test_expect_success 'text output: a whole-disk file system' '
	expect_code 0 lb inspect whole.ntfs &&
	grep_q "^  table        none\$" out &&
	grep_q "^  file system  ntfs \"Whole\", 4.00 KiB clusters, clean, not hibernated\$" out
'

test_done
