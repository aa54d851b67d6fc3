#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# File-system detection and health: a dirty and a hibernated NTFS volume,
# BitLocker (made by Windows, and a patched boot sector), XFS, LUKS1/2,
# ext2/3/4 and their dirty states, FAT12/16 - whole-disk and inside
# partitioned images.
. "$(dirname "$0")/lib.sh"

FIX="$HELPERS/mkfixture"

# fs_of IMAGE: inspect --json IMAGE into IMAGE.json (exit 0 required)
fs_of() {
	lb inspect --json "$1" >"$1.json" &&
	json_is "$1.json" .summary.ok 1
}

F=.images[0].filesystem

test_expect_success 'setup: NTFS volumes: clean, dirty (libntfs-3g), hibernated (ntfscp)' '
	mk_ntfs clean.ntfs 40 Clean &&
	cp clean.ntfs dirty.ntfs &&
	"$FIX" ntfs-dirty dirty.ntfs &&
	ntfsinfo -f -m dirty.ntfs | grep -q "Volume Flags: 0x0001 DIRTY" &&
	ntfsinfo -f -m clean.ntfs | grep -q "Volume Flags: 0x0000" &&
	cp clean.ntfs hibr.ntfs &&
	mk_hibernated hibr.ntfs &&
	cp clean.ntfs resumed.ntfs &&
	truncate -s 8192 zero.bin &&
	ntfscp -f resumed.ntfs zero.bin hiberfil.sys >/dev/null 2>&1
'

test_expect_success 'a dirty NTFS volume: dirty=true, dirty_flag=true' '
	fs_of dirty.ntfs &&
	json_expect "$F.type" ntfs &&
	json_expect "$F.label" Clean &&
	json_expect "$F.dirty" true &&
	json_expect "$F.dirty_flag" true &&
	json_expect "$F.journal_clean" true &&
	json_expect "$F.hibernated" false &&
	json_check dirty.ntfs.json &&
	expect_code 0 lb inspect dirty.ntfs &&
	grep_q "^  file system  ntfs \"Clean\", 4.00 KiB clusters, DIRTY, not hibernated\$" out
'

test_expect_success 'a clean NTFS volume: dirty=false (the fixture changed only the flag)' '
	fs_of clean.ntfs &&
	json_expect "$F.dirty" false &&
	json_expect "$F.dirty_flag" false &&
	json_expect "$F.hibernated" false &&
	json_check clean.ntfs.json
'

test_expect_success 'a hibernated NTFS volume: hibernated=true' '
	fs_of hibr.ntfs &&
	json_expect "$F.type" ntfs &&
	json_expect "$F.hibernated" true &&
	json_expect "$F.dirty" false &&
	json_expect "$F.note" null &&
	json_check hibr.ntfs.json &&
	expect_code 0 lb inspect hibr.ntfs &&
	grep_q "^  file system  ntfs \"Clean\", 4.00 KiB clusters, clean, HIBERNATED\$" out
'

test_expect_success 'an NTFS volume with a zeroed hiberfil.sys is not hibernated' '
	fs_of resumed.ntfs &&
	json_is resumed.ntfs.json "$F.hibernated" false
'

test_expect_success 'dirty and hibernated volumes inside a GPT disk in a qcow2' '
	rm -f win-c.ntfs win-r.ntfs &&
	cp dirty.ntfs win-c.ntfs && truncate -s 150M win-c.ntfs &&
	cp hibr.ntfs win-r.ntfs &&
	mk_win_gpt health.img &&
	convert health.img qcow2 health.qcow2 &&
	fs_of health.qcow2 &&
	P=.images[0].partitions &&
	json_expect "$P[2].filesystem.label" Clean &&
	json_expect "$P[2].filesystem.dirty_flag" true &&
	json_expect "$P[2].filesystem.hibernated" false &&
	json_expect "$P[3].filesystem.hibernated" true &&
	json_expect "$P[3].filesystem.dirty_flag" false &&
	json_check health.qcow2.json
'

test_expect_success 'a patched boot sector ("-FVE-FS-"): bitlocker, locked' '
	cp clean.ntfs fve.img &&
	printf "%s" "-FVE-FS-" | dd of=fve.img bs=1 seek=3 conv=notrunc status=none &&
	fs_of fve.img &&
	json_expect "$F.type" bitlocker &&
	json_expect "$F.encrypted" true &&
	json_expect "$F.to_go" false &&
	json_expect "$F.label" null &&
	json_check fve.img.json &&
	expect_code 0 lb inspect fve.img &&
	grep_q "^  file system  bitlocker, locked\$" out
'

archive=$(bitlocker_archive)
if [ -n "$archive" ]; then
	test_expect_success 'setup: BitLocker volumes made by Windows (cryptsetup test data)' '
		tar xJSf "$archive" bitlk-images/bitlk-aes-xts-128.img \
			bitlk-images/bitlk-togo-aes-xts-128.img bitlk-images/bitlk-aes-cbc-128-4k.img &&
		for v in bitlk-aes-xts-128 bitlk-togo-aes-xts-128 bitlk-aes-cbc-128-4k; do
			mv bitlk-images/$v.img $v.img || return 1
		done &&
		# cryptsetup agrees that they are BitLocker (it wants a 4K-sector
		# device for the 4K one, so that one is left out here)
		cryptsetup bitlkDump bitlk-aes-xts-128.img | grep -q "^Info for BITLK " &&
		cryptsetup bitlkDump bitlk-togo-aes-xts-128.img | grep -q "^Info for BITLK "
	'

	test_expect_success 'Windows BitLocker volumes: bitlocker, To Go or not' '
		for v in bitlk-aes-xts-128 bitlk-aes-cbc-128-4k; do
			fs_of $v.img &&
			json_expect "$F.type" bitlocker &&
			json_expect "$F.to_go" false &&
			json_expect "$F.encrypted" true &&
			json_check $v.img.json || return 1
		done &&
		fs_of bitlk-togo-aes-xts-128.img &&
		json_expect "$F.type" bitlocker &&
		json_expect "$F.to_go" true &&
		json_expect "$F.encrypted" true &&
		json_check bitlk-togo-aes-xts-128.img.json &&
		expect_code 0 lb inspect bitlk-togo-aes-xts-128.img &&
		grep_q "^  file system  bitlocker (To Go), locked\$" out
	'

	test_expect_success 'a Windows BitLocker volume as the C: partition of a VHDX' '
		rm -f win-c.ntfs win-r.ntfs &&
		cp bitlk-aes-xts-128.img win-c.ntfs && truncate -s 150M win-c.ntfs &&
		mk_win_gpt bl.img &&
		convert bl.img vhdx bl.vhdx &&
		fs_of bl.vhdx &&
		json_expect ".images[0].partitions[2].filesystem.type" bitlocker &&
		json_expect ".images[0].partitions[2].filesystem.encrypted" true &&
		json_expect ".images[0].partitions[3].filesystem.type" ntfs &&
		json_check bl.vhdx.json
	'
else
	test_skip 'Windows BitLocker volumes' "no bitlk-images.tar.xz under ../shared/data/bitlocker"
fi

test_expect_success 'XFS (label, UUID, block size, size)' '
	truncate -s 300M xfs.img &&
	mkfs.xfs -q -b size=4096 -L xfsvol xfs.img &&
	fs_of xfs.img &&
	json_expect "$F.type" xfs &&
	json_expect "$F.label" xfsvol &&
	json_expect "$F.uuid" "$(blkid -p -o value -s UUID xfs.img)" &&
	json_expect "$F.cluster_size" 4096 &&
	json_expect "$F.size" $((300 << 20)) &&
	json_expect "$F.encrypted" false &&
	json_check xfs.img.json
'

if command -v cryptsetup >/dev/null 2>&1; then
	test_expect_success 'LUKS1 and LUKS2 (made on files with a key file)' '
		head -c 32 /dev/urandom >keyfile &&
		truncate -s 20M luks2.img luks1.img &&
		cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			--label vault --key-file keyfile luks2.img &&
		cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
			--key-file keyfile luks1.img &&
		fs_of luks2.img &&
		json_expect "$F.type" luks &&
		json_expect "$F.version" 2 &&
		json_expect "$F.label" vault &&
		json_expect "$F.uuid" "$(cryptsetup luksUUID luks2.img)" &&
		json_expect "$F.encrypted" true &&
		json_check luks2.img.json &&
		fs_of luks1.img &&
		json_expect "$F.type" luks &&
		json_expect "$F.version" 1 &&
		json_expect "$F.label" null &&
		json_expect "$F.uuid" "$(cryptsetup luksUUID luks1.img)" &&
		json_expect "$F.encrypted" true &&
		json_check luks1.img.json
	'
else
	test_skip 'LUKS' 'cryptsetup is not installed'
fi

test_expect_success 'ext2, ext3 and ext4 are told apart' '
	for t in ext2 ext3 ext4; do
		mk_ext $t.img $t 16M "L$t" &&
		fs_of $t.img &&
		json_expect "$F.type" $t &&
		json_expect "$F.label" "L$t" &&
		json_expect "$F.uuid" "$(blkid -p -o value -s UUID $t.img)" &&
		json_expect "$F.cluster_size" "$(blkid -p -o value -s BLOCK_SIZE $t.img)" &&
		json_expect "$F.size" $((16 << 20)) &&
		json_expect "$F.dirty" false &&
		json_check $t.img.json || return 1
	done
'

test_expect_success 'ext4 with a journal to replay, ext2 not marked clean: dirty' '
	cp ext4.img ext4-recover.img &&
	debugfs -w -R "feature needs_recovery" ext4-recover.img >/dev/null 2>&1 &&
	dumpe2fs -h ext4-recover.img 2>/dev/null | grep -q "features:.*needs_recovery" &&
	fs_of ext4-recover.img &&
	json_is ext4-recover.img.json "$F.dirty" true &&
	cp ext2.img ext2-unclean.img &&
	debugfs -w -R "ssv state 0" ext2-unclean.img >/dev/null 2>&1 &&
	dumpe2fs -h ext2-unclean.img 2>/dev/null | grep -q "state:  *not clean" &&
	fs_of ext2-unclean.img &&
	json_is ext2-unclean.img.json "$F.dirty" true &&
	expect_code 0 lb inspect ext2-unclean.img &&
	grep_q "^  file system  ext2 \"Lext2\", 1.00 KiB blocks, DIRTY\$" out
'

test_expect_success 'FAT12 and FAT16 (label, cluster size)' '
	mk_fat f12.img 12 4 SMALL &&
	mk_fat f16.img 16 40 MEDIUM &&
	for f in f12 f16; do
		fs_of $f.img &&
		bps=$(od -An -t u2 -j 11 -N 2 $f.img | tr -d " ") &&
		spc=$(od -An -t u1 -j 13 -N 1 $f.img | tr -d " ") &&
		json_expect "$F.cluster_size" $((bps * spc)) &&
		json_expect "$F.uuid" "$(blkid -p -o value -s UUID $f.img)" &&
		json_check $f.img.json || return 1
	done &&
	json_expect "$F.type" fat12 && json_expect "$F.label" SMALL && json_check f12.img.json &&
	json_expect "$F.type" fat16 && json_expect "$F.label" MEDIUM && json_check f16.img.json
'

test_expect_success 'an MBR disk of XFS, LUKS2, FAT16 and ext2 partitions, as a VMDK' '
	truncate -s 420M mix.img &&
	printf "label: dos\nstart=2048, size=614400, type=83\nstart=616448, size=40960, type=83\nstart=657408, size=81920, type=6\nstart=739328, size=32768, type=83\n" |
		sfdisk -q mix.img >/dev/null &&
	place xfs.img mix.img 1 &&
	place luks2.img mix.img 301 &&
	place f16.img mix.img 321 &&
	place ext2.img mix.img 361 &&
	convert mix.img vmdk mix.vmdk &&
	fs_of mix.vmdk &&
	json_expect "[.images[0].partitions[].filesystem.type] | join(\",\")" xfs,luks,fat16,ext2 &&
	json_expect "[.images[0].partitions[].type] | join(\",\")" Linux,Linux,FAT16,Linux &&
	json_expect ".images[0].partitions[1].filesystem.label" vault &&
	json_check mix.vmdk.json
'

test_done
