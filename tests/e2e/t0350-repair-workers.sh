#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Each image is repaired in its own worker process. A worker that is killed
# or crashes at a chosen write (the fault filter's kill-at-write / crash-at-
# write) is rolled back from its undo log: the image is byte-identical to
# before. Many images with --jobs, one of them damaged: exit 3, the others
# repaired. A folder of thousands of files.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'build the disk' '
	mk_cs_disk win.img &&
	sha win.img >sha.orig
'

for n in 1 2 3 5 8 13 21; do
	test_expect_success "worker killed at write $n: rolled back byte for byte" "
		cp win.img k.img &&
		LIFEBOAT_FAULT=kill-at-write=$n expect_code 1 lb repair -r crowdstrike-291 k.img ||
		{ grep -q 'repaired' out && lb undo k.img && exit 0; } &&
		grep_q 'worker crashed (signal 9' err &&
		grep_q 'restored to its original state' err &&
		test \"\$(sha k.img)\" = \"\$(cat sha.orig)\"
	"
done

test_expect_success 'a worker that segfaults is contained and rolled back' '
	cp win.img k.img &&
	# under AddressSanitizer the crash must stay a signal, not become an ASan report
	ASAN_OPTIONS="handle_segv=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" LIFEBOAT_FAULT=crash-at-write=2 \
		expect_code 1 lb repair -r crowdstrike-291 --json k.img &&
	json_is out ".images[0].worker.signal" 11 &&
	json_is out ".images[0].worker.rolled_back" true &&
	test "$(sha k.img)" = "$(cat sha.orig)"
'

test_expect_success 'a qcow2 worker killed mid-repair: guest content identical' '
	convert win.img k.qcow2 qcow2 2>/dev/null || qemu-img convert -O qcow2 win.img k.qcow2 &&
	cp k.qcow2 k0.qcow2 &&
	LIFEBOAT_FAULT=kill-at-write=3 expect_code 1 lb repair -r crowdstrike-291 k.qcow2 &&
	qemu-img compare k0.qcow2 k.qcow2 &&
	lb repair -r crowdstrike-291 k.qcow2 >/dev/null &&
	! qemu-img compare -q k0.qcow2 k.qcow2
'

test_expect_success 'a fleet with --jobs 2 and one damaged image: exit 3, the rest repaired' '
	mkdir fleet &&
	for i in 1 2 3 4 5; do cp --sparse=always win.img fleet/vm$i.img || return 1; done &&
	head -c 1000000 win.img >fleet/vm6.img &&
	: >fleet/vm6.img.keep &&
	convert win.img qcow2 fleet/vm7.qcow2 &&
	expect_code 3 lb repair --jobs 2 -r crowdstrike-291 fleet/vm*.img fleet/vm7.qcow2 &&
	grep_q "repaired" out &&
	grep -c "  repaired  " out >n || true &&
	test "$(grep -c "^fleet/vm[0-9].*  repaired " out)" = 6 &&
	grep_q "^fleet/vm6.img .* failed" out &&
	grep_q "lifeboat: repair: fleet/vm6.img: " err &&
	lb repair --jobs 2 -r crowdstrike-291 --json fleet/vm1.img fleet/vm2.img >again.json &&
	json_is again.json ".summary.ok" 2 &&
	json_is again.json "[.images[] | select(.status==\"clean\")] | length" 2
'

test_expect_success 'thousands of files in the CrowdStrike folder: only the 291 ones go' '
	rm -f win-c.ntfs win-r.ntfs &&
	mk_cs_volume win-c.ntfs &&
	"$FIXTURE" win-c.ntfs add-many "$CS" C-00000290- 3000 --size 64 >/dev/null &&
	mk_win_gpt many.img >/dev/null 2>&1 && rm -f win-c.ntfs win-r.ntfs &&
	lb repair -r crowdstrike-291 --json many.img >many.json &&
	json_is many.json "[.images[0].items[] | select(.result==\"deleted\")] | length" 3 &&
	part_out many.img 117 150 mp3 &&
	test "$(cs_names mp3 | grep -c "^C-00000290-" || true)" = 3001
'

test_expect_success 'the audit journal of the fleet verifies' '
	lb journal verify fleet/lifeboat-undo/audit.jsonl
'

test_done
