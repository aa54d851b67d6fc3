#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bad input: every case gets one error line in the form
#   lifeboat: inspect: <image>: <object>: <problem>; <what to do>
# the documented exit code (4 cannot open, 5 damaged, 7 I/O; 3 when some of
# several images fail), the same error in the JSON document, and the file
# is byte-identical afterwards. Also: what inspect still reports from a
# damaged disk (a GPT backup header, the readable partitions).
. "$(dirname "$0")/lib.sh"

FIX="$HELPERS/mkfixture"

# bad CODE ERRNO FILE PATTERN: inspect FILE fails with exit CODE, one error
# line matching "lifeboat: inspect: FILE: PATTERN", nothing on stdout; with
# --json the same line on stderr and an error object with ERRNO and CODE;
# and FILE (if it exists) is unchanged.
bad() {
	before=$(if [ -f "$3" ]; then fingerprint "$3"; fi)
	expect_code "$1" lb inspect "$3" &&
	error_line err &&
	grep_q "^lifeboat: inspect: $3: $4" err &&
	test ! -s out &&
	cp err text.err &&
	expect_code "$1" lb inspect --json "$3" &&
	cmp text.err err &&
	json_valid out &&
	json_expect ".images[0].path" "$3" &&
	json_expect ".images[0].ok" false &&
	json_expect ".images[0].error.code" "$2" &&
	json_expect ".images[0].error.exit_code" "$1" &&
	json_expect ".images[0].error.problem | length > 0" true &&
	json_expect ".images[0].error.hint | length > 0" true &&
	json_expect ".summary.failed" 1 &&
	json_check out &&
	after=$(if [ -f "$3" ]; then fingerprint "$3"; fi) &&
	if [ "$before" != "$after" ]; then
		say "$3 changed"
		return 1
	fi
}

test_expect_success 'setup: small GPT and MBR disks in several formats' '
	mk_small_gpt gpt.img &&
	mk_small_mbr mbr.img &&
	for f in qcow2 vhdx vhd-fixed vhd-dynamic; do
		convert gpt.img $f gpt.$(suffix $f) || return 1
	done &&
	expect_code 0 lb inspect gpt.img mbr.img gpt.qcow2 gpt.vhdx gpt.fixed.vhd gpt.dynamic.vhd
'

# ---- files that cannot be opened (exit 4) ---------------------------------

test_expect_success 'a missing file: exit 4' '
	bad 4 ENOENT missing.img "no such file; check the path\$" &&
	json_is out ".images[0].error.object" null
'

test_expect_success 'a directory: exit 4' '
	mkdir adir &&
	bad 4 EISDIR adir "is a directory, not a disk image; "
'

test_expect_success 'a character device: exit 4' '
	bad 4 ENODEV /dev/null "not a regular file or block device; "
'

# ---- damaged or wrong content (exit 5) -----------------------------------

test_expect_success 'an empty file: exit 5' '
	: >empty.img &&
	bad 5 ENODATA empty.img "the file is empty (0 bytes)"
'

test_expect_success 'a truncated qcow2: exit 5' '
	head -c 100000 gpt.qcow2 >cut.qcow2 &&
	bad 5 EBADMSG cut.qcow2 "qcow2 header: L1 table (.*) lies outside the file (100000 bytes); the image looks truncated"
'

test_expect_success 'a qcow2 cut after its header: its tables point past the end, exit 5' '
	size=$(stat -c %s gpt.qcow2) &&
	head -c $((size - 65536)) gpt.qcow2 >cut2.qcow2 &&
	bad 5 EBADMSG cut2.qcow2 "qcow2 L[12] table: .* beyond the end of the file ($((size - 65536)) bytes); the image looks truncated"
'

test_expect_success 'a truncated VHDX: exit 5' '
	head -c 300000 gpt.vhdx >cut.vhdx &&
	bad 5 EBADMSG cut.vhdx "VHDX header: the file (300000 bytes) is too short to hold VHDX headers; "
'

test_expect_success 'a truncated dynamic VHD (the footer copy at 0 is left): exit 5' '
	head -c 100000 gpt.dynamic.vhd >cut.vhd &&
	bad 5 EBADMSG cut.vhd "VHD footer: the footer at the end of the file is missing .*truncated"
'

test_expect_success 'a truncated fixed VHD (no footer at all): exit 5' '
	head -c 1000000 gpt.fixed.vhd >cutfixed.vhd &&
	bad 5 EMEDIUMTYPE cutfixed.vhd "the name says vhd but the content is not a known image format .*truncated"
'

test_expect_success 'a raw disk named .qcow2: exit 5, the name and the content disagree' '
	cp mbr.img wrong.qcow2 &&
	bad 5 EMEDIUMTYPE wrong.qcow2 "the name says qcow2 but the content is not a known image format (no \"QFI\\\\xfb\" magic at offset 0); if the name is wrong, pass --format"
'

test_expect_success 'a qcow2 named .vhdx: exit 5' '
	cp gpt.qcow2 qcow.vhdx &&
	bad 5 EMEDIUMTYPE qcow.vhdx "the name says vhdx but the content is qcow2; "
'

test_expect_success '--format that contradicts the content: exit 5' '
	expect_code 5 lb inspect --format=qcow2 mbr.img &&
	error_line err &&
	grep_q "^lifeboat: inspect: mbr.img: qcow2 header: no qcow2 magic at offset 0; .*drop --format" err
'

test_expect_success '--format=raw reads a qcow2 container as a raw disk' '
	expect_code 0 lb inspect --json --format=raw gpt.qcow2 &&
	json_is out ".images[0].format" raw &&
	json_is out ".images[0].partition_table.type" none
'

test_expect_success 'qcow2 header: L1 table offset beyond the file: exit 5' '
	cp gpt.qcow2 l1.qcow2 &&
	put_hex l1.qcow2 40 0000000100000000 &&
	bad 5 EBADMSG l1.qcow2 "qcow2 header: L1 table (.* bytes at offset 4294967296) lies outside the file"
'

test_expect_success 'qcow2 header: a virtual size of 2^63: exit 5' '
	cp gpt.qcow2 size.qcow2 &&
	put_hex size.qcow2 24 8000000000000000 &&
	bad 5 EOVERFLOW size.qcow2 "qcow2 header: virtual size 9223372036854775808 is impossibly large; "
'

test_expect_success 'qcow2 header: cluster_bits 40: exit 5' '
	cp gpt.qcow2 cbits.qcow2 &&
	put_hex cbits.qcow2 20 00000028 &&
	bad 5 EOVERFLOW cbits.qcow2 "qcow2 header: cluster size 2^40 "
'

test_expect_success 'qcow2 marked corrupt by qemu: exit 5' '
	cp gpt.qcow2 corrupt.qcow2 &&
	put_hex corrupt.qcow2 79 02 &&
	bad 5 EBADMSG corrupt.qcow2 "qcow2 header: qemu marked the image corrupt; run .qemu-img check -r all."
'

test_expect_success 'an encrypted qcow2: exit 5' '
	cp gpt.qcow2 enc.qcow2 &&
	put_hex enc.qcow2 32 00000001 &&
	bad 5 ENOTSUP enc.qcow2 "the qcow2 image is encrypted; decrypt it first"
'

test_expect_success 'fixed VHD footer with a bad checksum: exit 5' '
	cp gpt.fixed.vhd sum.vhd &&
	put_hex sum.vhd $(($(size_of sum.vhd) - 512 + 64)) 00000000 &&
	bad 5 EBADMSG sum.vhd "VHD footer: checksum mismatch (stored 0x00000000, computed 0x[0-9a-f]*); "
'

test_expect_success 'fixed VHD footer claiming a larger disk: exit 5' '
	cp gpt.fixed.vhd big.vhd &&
	put_hex big.vhd $(($(size_of big.vhd) - 512 + 48)) 0000000100000000 &&
	"$FIX" vhd-footer-sum big.vhd &&
	bad 5 EBADMSG big.vhd "VHD footer: says the disk holds 4294967296 bytes but only .* precede the footer; "
'

test_expect_success 'dynamic VHD whose block table lies beyond the file: exit 5' '
	cp gpt.dynamic.vhd bat.vhd &&
	dyn=$(od -An -t u8 --endian=big -j $(($(size_of bat.vhd) - 512 + 16)) -N 8 bat.vhd | tr -d " ") &&
	put_hex bat.vhd $((dyn + 16)) 0000000100000000 &&
	"$FIX" vhd-dyn-sum bat.vhd &&
	bad 5 EBADMSG bat.vhd "VHD dynamic header: block table (.* at offset 4294967296) extends beyond the end of the file"
'

# ---- partition tables ----------------------------------------------------

last_lba=$((40 * 2048 - 1))

test_expect_success 'GPT: both headers damaged: exit 5' '
	cp gpt.img both.img &&
	put_hex both.img $((512 + 16)) 00000000 &&
	put_hex both.img $((last_lba * 512 + 16)) 00000000 &&
	bad 5 EBADMSG both.img "GPT: both headers are damaged: primary: header CRC32 mismatch at LBA 1 .*; backup: header CRC32 mismatch at LBA $last_lba "
'

test_expect_success 'GPT: primary damaged, backup good: exit 0, the backup is used and said so' '
	cp gpt.img primary.img &&
	put_hex primary.img $((512 + 16)) 00000000 &&
	before=$(fingerprint primary.img) &&
	expect_code 0 lb inspect --json primary.img &&
	test ! -s err &&
	json_expect ".images[0].partition_table.primary_header_ok" false &&
	json_expect ".images[0].partition_table.backup_header_ok" true &&
	json_expect ".images[0].partition_table.used_backup" true &&
	json_expect ".images[0].partition_table.disk_guid" "$(disk_guid gpt.img)" &&
	json_expect "[.images[0].partitions[].filesystem.type] | join(\",\")" fat16,ntfs,ext2 &&
	json_expect ".images[0].notes | length" 1 &&
	json_expect ".images[0].notes[0] | test(\"primary GPT header is damaged.*the backup at LBA $last_lba is used\")" true &&
	json_check out &&
	expect_code 0 lb inspect primary.img &&
	grep_q "^  note         primary GPT header is damaged" out &&
	grep_q "^  3   25.0 MiB " out &&
	test "$before" = "$(fingerprint primary.img)"
'

test_expect_success 'GPT: overlapping partitions (CRCs recomputed): exit 5' '
	cp gpt.img overlap.img &&
	barr=$(le64 overlap.img $((last_lba * 512 + 72))) &&
	for a in 2 $barr; do
		put_hex overlap.img $((a * 512 + 128 + 32)) 0040000000000000 || return 1
	done &&
	"$FIX" gpt-crc overlap.img &&
	sgdisk -v overlap.img | grep -q "partitions 2 and 1 overlap" &&
	bad 5 ERANGE overlap.img "partition table: partitions 1 and 2 overlap "
'

test_expect_success 'GPT: an image cut short (partitions beyond its end): exit 5' '
	head -c 30M gpt.img >short.img &&
	bad 5 ERANGE short.img "GPT: .*; the image may be truncated; restore it from a backup\$"
'

test_expect_success 'MBR: a partition beyond the end of the disk: exit 5' '
	cp mbr.img beyond.img &&
	put_hex beyond.img $((446 + 12)) 00000100 &&
	bad 5 ERANGE beyond.img "partition table: partition 1 (.*) extends beyond the end of the disk (33554432 bytes); "
'

test_expect_success 'MBR: a primary partition overlapping a logical one: exit 5' '
	cp mbr.img mbroverlap.img &&
	put_hex mbroverlap.img $((446 + 12)) 00580000 &&
	bad 5 ERANGE mbroverlap.img "partition table: partitions 1 and 5 overlap "
'

test_expect_success 'MBR: a chain of logical partitions that loops: exit 5' '
	cp mbr.img loop.img &&
	ext=18432 &&
	next=$(le32 loop.img $((ext * 512 + 446 + 16 + 8))) &&
	test "$next" -gt 0 &&
	put_hex loop.img $(((ext + next) * 512 + 446 + 16 + 4)) 05 &&
	put_hex loop.img $(((ext + next) * 512 + 446 + 16 + 8)) "$(printf "%08x" "$next" | sed "s/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/")" &&
	put_hex loop.img $(((ext + next) * 512 + 446 + 16 + 12)) 00080000 &&
	bad 5 EBADMSG loop.img "MBR extended partition: the chain of logical partitions loops back to sector "
'

# ---- several images --------------------------------------------------------

test_expect_success 'several images, one bad: exit 3, the good ones reported' '
	expect_code 3 lb inspect gpt.qcow2 missing.img mbr.img &&
	error_line err &&
	grep_q "^lifeboat: inspect: missing.img: no such file; " err &&
	grep_q "^gpt.qcow2\$" out &&
	grep_q "^mbr.img\$" out &&
	! grep -q "missing.img" out &&
	expect_code 3 lb inspect --json gpt.qcow2 missing.img mbr.img &&
	json_expect "[.images[].ok] | map(tostring) | join(\",\")" true,false,true &&
	json_expect ".images[1].error.exit_code" 4 &&
	json_expect ".images[2].partition_table.type" mbr &&
	json_expect ".summary.ok" 2 &&
	json_expect ".summary.failed" 1 &&
	json_check out
'

test_expect_success 'several images, all bad for the same reason: that code' '
	expect_code 4 lb inspect missing.img missing2.img &&
	test "$(wc -l <err)" -eq 2 &&
	expect_code 5 lb inspect empty.img cut.qcow2
'

test_expect_success 'several images, all bad for different reasons: exit 1' '
	expect_code 1 lb inspect missing.img empty.img &&
	test "$(wc -l <err)" -eq 2
'

# ---- unreadable sectors (the fault filter) --------------------------------

test_expect_success 'unreadable primary GPT header: the backup is used' '
	LIFEBOAT_FAULT="read-error=512+512" expect_code 0 lb inspect --json gpt.img &&
	json_is out ".images[0].partition_table.used_backup" true &&
	json_is out ".images[0].partitions | length" 3
'

test_expect_success 'both GPT headers unreadable: exit 7, one line' '
	LIFEBOAT_FAULT="read-error=512+512,read-error=$((last_lba * 512))+512" \
		expect_code 7 lb inspect gpt.qcow2 &&
	error_line err &&
	grep_q "^lifeboat: inspect: gpt.qcow2: GPT .*header: read error at offset [0-9]* (injected); " err
'

test_expect_success 'unreadable MBR: exit 7' '
	LIFEBOAT_FAULT="read-error=0" expect_code 7 lb inspect mbr.img &&
	error_line err &&
	grep_q "^lifeboat: inspect: mbr.img: MBR: read error at offset 0 (injected); " err
'

test_expect_success 'an unreadable boot sector: the other partitions are reported, exit 7' '
	before=$(fingerprint gpt.img) &&
	LIFEBOAT_FAULT="read-error=$((9 << 20))+512" expect_code 7 lb inspect gpt.img &&
	error_line err &&
	grep_q "^lifeboat: inspect: gpt.img: partition 2: read error at offset $((9 << 20)) (injected); the disk holding the image may be failing\$" err &&
	grep_q "^  1   1.00 MiB   8.00 MiB   EFI system             fat16 \"ESP\"" out &&
	grep_q "^  2   9.00 MiB   16.0 MiB   Microsoft basic data   unreadable: read error at offset $((9 << 20)) (injected)\$" out &&
	grep_q "^  3   25.0 MiB   15.0 MiB   Linux filesystem       ext2 \"small\"" out &&
	LIFEBOAT_FAULT="read-error=$((9 << 20))+512" expect_code 7 lb inspect --json gpt.img &&
	error_line err &&
	json_expect ".images[0].ok" true &&
	json_expect ".images[0].partition_errors" 1 &&
	json_expect ".images[0].partitions[0].filesystem.type" fat16 &&
	json_expect ".images[0].partitions[1].filesystem.type" null &&
	json_expect ".images[0].partitions[1].filesystem.error.code" EIO &&
	json_expect ".images[0].partitions[1].filesystem.error.exit_code" 7 &&
	json_expect ".images[0].partitions[1].filesystem.error.object" "partition 2" &&
	json_expect ".images[0].partitions[2].filesystem.type" ext2 &&
	json_expect ".summary.ok" 1 &&
	json_expect ".summary.failed" 0 &&
	json_expect ".summary.incomplete" 1 &&
	json_check out &&
	test "$before" = "$(fingerprint gpt.img)"
'

test_expect_success 'a read error inside NTFS metadata is an error, not a note' '
	# the boot sector reads, $MFTMirr (past the first 72 KiB) does not
	LIFEBOAT_FAULT="read-error=$(((9 << 20) + 73728))+$(((16 << 20) - 73728))" \
		expect_code 7 lb inspect --json gpt.img &&
	json_is out ".images[0].partitions[1].filesystem.error.code" EIO
'

test_expect_success 'an unreadable boot sector in a qcow2 (through qemu-nbd) too' '
	LIFEBOAT_FAULT="read-error=$((25 << 20))+512" expect_code 7 lb inspect --json gpt.qcow2 &&
	error_line err &&
	grep_q "^lifeboat: inspect: gpt.qcow2: partition 3: read error" err &&
	json_is out ".images[0].partitions[1].filesystem.label" Data
'

test_expect_success 'an unreadable whole-disk volume: exit 7' '
	mk_ext flat.ext2 ext2 4M flat &&
	LIFEBOAT_FAULT="read-error=1024" expect_code 7 lb inspect --json flat.ext2 &&
	error_line err &&
	grep_q "^lifeboat: inspect: flat.ext2: read error at offset 1024 (injected); " err &&
	json_is out ".images[0].filesystem.error.code" EIO
'

test_expect_success 'an unreadable partition in one of several images: exit 3' '
	LIFEBOAT_FAULT="read-error=$((25 << 20))+512" expect_code 3 lb inspect --json gpt.img mbr.img &&
	json_expect ".summary.ok" 2 &&
	json_expect ".summary.incomplete" 1 &&
	json_expect ".images[1].partition_errors" 0 &&
	json_check out
'

test_done
