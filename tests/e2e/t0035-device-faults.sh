#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The device fault filter's short reads and bit flips (LIFEBOAT_FAULT,
# src/io/fault.h) end to end: short reads are invisible (every layer gets
# the bytes it asked for), a flipped bit is caught by the format it lands in
# and reported, and a repair under either never damages the image.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'build the disk, inspect and repair it without faults' '
	mk_cs_disk win.img &&
	sha win.img >sha.orig &&
	lb inspect --json win.img >plain.json &&
	cp win.img r.img && lb repair -r crowdstrike-291 r.img >/dev/null &&
	sha r.img >sha.repaired
'

test_expect_success 'short reads: inspect says exactly the same' '
	LIFEBOAT_FAULT=short-reads lb inspect --json win.img >short.json &&
	: "the host file system may still be settling the fresh file allocation (+-4 KiB):" &&
	: "compare what lifeboat reads, not what the host reports" &&
	jq "del(.images[].file_allocated)" plain.json >plain.cmp &&
	jq "del(.images[].file_allocated)" short.json >short.cmp &&
	cmp plain.cmp short.cmp
'

test_expect_success 'short reads: the repair works, and undo puts back every byte' '
	cp win.img s.img &&
	LIFEBOAT_FAULT=short-reads lb repair -r crowdstrike-291 --json s.img >s.json &&
	json_is s.json "[.images[0].items[] | select(.result==\"deleted\")] | length" 3 &&
	LIFEBOAT_FAULT=short-reads lb undo s.img >/dev/null &&
	test "$(sha s.img)" = "$(cat sha.orig)"
'

test_expect_success 'a flipped bit in the primary GPT header: named, the backup used' '
	LIFEBOAT_FAULT=flip=$((512 + 90)):3 expect_code_in "0 3" lb inspect --json win.img &&
	grep -q "GPT" err out &&
	jq -e ".images[0].partitions | length > 0" out >/dev/null
'

test_expect_success 'a flipped bit in the NTFS boot sector or its $MFT pointer: exit 5, named, image unchanged' '
	off=$(jq -r "[.images[0].partitions[] | select(.filesystem.type==\"ntfs\")][0].start" plain.json) &&
	cp win.img f.img &&
	LIFEBOAT_FAULT=flip=$((off + 12)):0 expect_code 5 lb repair -r crowdstrike-291 f.img &&
	error_line err && grep_q "partition 3: NTFS boot sector: the NTFS boot sector is damaged" err &&
	LIFEBOAT_FAULT=flip=$((off + 48)):0 expect_code 5 lb repair -r crowdstrike-291 f.img &&
	error_line err && grep_q "partition 3: NTFS volume: .*MFT" err &&
	test "$(sha f.img)" = "$(cat sha.orig)"
'

test_expect_success 'short reads and a flip together: inspect never crashes' '
	for off in 0 446 510 512 1024 $((512 + 92)); do
		LIFEBOAT_FAULT=short-reads,flip=$off:7 lb inspect --json win.img >o.json 2>e.txt
		code=$?
		test $code -lt 128 || { say "flip=$off: exit $code"; return 1; }
		grep -q "runtime error\|Sanitizer" e.txt && { cat e.txt; return 1; }
		true
	done
'

test_done
