#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The states real broken disks are in: a dirty NTFS volume (what a blue
# screen leaves) is repaired like ntfsfix would and undo still restores it
# byte for byte; --no-dirty, hibernated, BitLocker and a corrupt MFT are
# refused with a clear reason and the image untouched.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

# mk_state_disk IMAGE FIXTURE-COMMAND...: the CrowdStrike disk, with the
# fixture commands applied to the Windows volume before it is placed
mk_state_disk() {
	_img=$1
	shift
	rm -f win-c.ntfs win-r.ntfs
	mk_cs_volume win-c.ntfs &&
	"$FIXTURE" win-c.ntfs "$@" >/dev/null &&
	mk_win_gpt "$_img" >/dev/null 2>&1 &&
	rm -f win-c.ntfs win-r.ntfs
}

test_expect_success 'a dirty volume (journal not clean) is seen as dirty' '
	mk_state_disk dirty.img dirty &&
	sha dirty.img >sha.dirty &&
	lb inspect --json dirty.img >i.json &&
	json_is i.json ".images[0].partitions[2].filesystem.dirty" true
'

test_expect_success 'dry run on the dirty volume says the journal would be reset; nothing changes' '
	lb repair -n -r crowdstrike-291 dirty.img >dry.txt &&
	grep_q "dirty" dry.txt &&
	grep_q "would reset" dry.txt &&
	test "$(sha dirty.img)" = "$(cat sha.dirty)"
'

test_expect_success '--no-dirty refuses (exit 6) and changes nothing' '
	expect_code 6 lb repair --no-dirty -r crowdstrike-291 dirty.img &&
	error_format err &&
	grep_q "dirty" err &&
	test "$(sha dirty.img)" = "$(cat sha.dirty)"
'

test_expect_success 'by default the dirty volume is repaired: journal reset, chkdsk scheduled' '
	lb repair -r crowdstrike-291 --json dirty.img >rep.json &&
	json_is rep.json ".images[0].status" changed &&
	json_is rep.json ".images[0].verified" true &&
	json_is rep.json ".images[0].volumes[] | select(.partition==3) | .journal_reset" true &&
	json_is rep.json ".images[0].volumes[] | select(.partition==3) | .marked_for_chkdsk" true &&
	lb inspect --json dirty.img >i2.json &&
	json_is i2.json ".images[0].partitions[2].filesystem.journal_clean" true &&
	json_is i2.json ".images[0].partitions[2].filesystem.dirty_flag" true &&
	part_out dirty.img 117 150 p3 &&
	test "$(cs_names p3 | grep -c "^C-00000291-00000000" || true)" = 0
'

test_expect_success 'undo brings back the dirty volume byte for byte' '
	lb undo dirty.img &&
	test "$(sha dirty.img)" = "$(cat sha.dirty)"
'

test_expect_success 'a hibernated volume is refused (exit 6), image untouched' '
	mk_state_disk hib.img hiberfil &&
	sha hib.img >sha.hib &&
	expect_code 6 lb repair -r crowdstrike-291 hib.img &&
	error_format err &&
	grep_q "hibernated" err &&
	test "$(sha hib.img)" = "$(cat sha.hib)" &&
	test ! -d lifeboat-undo/hib.img.* 2>/dev/null || ! ls -d lifeboat-undo/hib.img.* >/dev/null 2>&1
'

test_expect_success 'a BitLocker volume is refused (exit 6), image untouched' '
	mk_cs_disk bl.img &&
	printf -- "-FVE-FS-" | dd of=bl.img bs=1 seek=$((117 * 1048576 + 3)) conv=notrunc status=none &&
	sha bl.img >sha.bl &&
	expect_code 6 lb repair -r crowdstrike-291 bl.img &&
	error_format err &&
	grep_q "BitLocker" err &&
	test "$(sha bl.img)" = "$(cat sha.bl)"
'

test_expect_success 'a corrupt MFT: a clear error, exit 5, image untouched' '
	mk_cs_disk mft.img &&
	p=$((117 * 1048576)) &&
	clus=$(od -An -tu8 -j $((p + 48)) -N8 mft.img | tr -d " ") &&
	dd if=/dev/urandom of=mft.img bs=1024 seek=$(( (p + clus * 4096) / 1024 )) count=4 \
		conv=notrunc status=none &&
	sha mft.img >sha.mft &&
	expect_code 5 lb repair -r crowdstrike-291 mft.img &&
	error_format err &&
	test "$(sha mft.img)" = "$(cat sha.mft)"
'

test_done
