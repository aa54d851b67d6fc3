#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# lifeboat repair --recipe crowdstrike-291 on a Windows-like raw GPT disk:
# dry run, repair, what was deleted and what was kept (checked with ntfsls and
# ntfsfix from ntfs-3g), quarantine, audit journal, undo byte for byte.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'build a Windows-like disk with the bad channel file and decoys' '
	mk_cs_disk win.img &&
	sha win.img >sha.orig &&
	part_out win.img 117 150 before.p3 &&
	cs_names before.p3 >names.before &&
	grep -q "^C-00000291-00000000-00000032.sys$" names.before
'

test_expect_success 'dry run lists exactly the files the vendor guidance deletes, changes nothing' '
	lb repair --dry-run --recipe crowdstrike-291 --json win.img >dry.json &&
	test "$(sha win.img)" = "$(cat sha.orig)" &&
	test ! -e lifeboat-undo/audit.jsonl &&
	json_is dry.json ".images[0].status" changed &&
	json_is dry.json ".images[0].dry_run" true &&
	jq -r ".images[0].items[] | select(.result==\"would-delete\") | .path" dry.json | sort >got &&
	printf "%s\n" "$CS/C-00000291-00000000-00000032.sys" "$CS/C-00000291-00000000-00000034.sys" \
		"$CS/c-00000291-00000000-00000033.SYS" | sort >want &&
	diff want got &&
	json_is dry.json "[.images[0].items[] | select(.result==\"skipped\")] | length" 1 &&
	json_is dry.json ".images[0].items[] | select(.result==\"skipped\") | .path" \
		"$CS/C-00000291-dir.sys"
'

test_expect_success 'the report says which file is in the bad window and has the header' '
	sel=".images[0].items[] | select(.path==\"$CS/C-00000291-00000000-00000032.sys\")" &&
	json_is dry.json "$sel | .mtime" "2024-07-19T04:09:00.000000000Z" &&
	json_is dry.json "$sel | .head | .[0:16]" "aaaaaaaa01002301" &&
	json_is dry.json "$sel | .flags[0].hit" true &&
	json_is dry.json "$sel | .flags[1].hit" true &&
	late=".images[0].items[] | select(.path==\"$CS/c-00000291-00000000-00000033.SYS\")" &&
	json_is dry.json "$late | .flags[0].hit" false &&
	json_is dry.json "$late | .flags[1].hit" false &&
	json_is dry.json "$late | .size" 1000
'

test_expect_success 'text dry run shows what would change' '
	lb repair -n -r crowdstrike-291 win.img >dry.txt &&
	grep_q "would-delete  $CS/C-00000291-00000000-00000032.sys" dry.txt &&
	grep_q "written in the bad window" dry.txt &&
	test "$(sha win.img)" = "$(cat sha.orig)"
'

test_expect_success 'repair deletes them, keeps every decoy, and the volume checks clean' '
	lb repair --recipe crowdstrike-291 --json win.img >rep.json &&
	json_is rep.json ".images[0].status" changed &&
	json_is rep.json ".images[0].verified" true &&
	json_is rep.json ".images[0].done" 3 &&
	part_out win.img 117 150 after.p3 &&
	cs_names after.p3 >names.after &&
	printf "%s\n" . .. C-00000290-00000000-00000001.sys C-00000291-dir.sys C-00000291-x.sys.bak |
		sort >want &&
	diff want names.after &&
	ntfsls -f after.p3 -p /Windows/System32/drivers | grep -q "^C-00000291-elsewhere.sys$" &&
	ntfsls -f after.p3 -p "/$CS/C-00000291-dir.sys" | grep -q "^inner.sys$" &&
	ntfsfix -n after.p3 >fix.out 2>&1 &&
	! ntfsls -f -x after.p3 -p "/$CS" | grep -q "C-0000~1.SYS"
'

test_expect_success 'every deleted file is in the quarantine, with its SHA-256' '
	run=$(jq -r ".images[0].undo.run_dir" rep.json) &&
	test -f "$run/undo.log" &&
	q="$run/quarantine" &&
	test "$(wc -l <"$q/manifest.jsonl")" -eq 3 &&
	for f in C-00000291-00000000-00000032.sys c-00000291-00000000-00000033.SYS; do
		ntfscat -f before.p3 "/$CS/$f" >orig.bin &&
		cmp orig.bin "$q/p3/$CS/$f" &&
		want=$(sha256sum orig.bin | cut -d" " -f1) &&
		json_is rep.json ".images[0].items[] | select(.path==\"$CS/$f\") | .sha256" "$want" ||
		return 1
	done
'

test_expect_success 'the audit journal holds the repair and verifies' '
	lb journal verify lifeboat-undo/audit.jsonl >v.out &&
	grep_q "intact, 1 records" v.out &&
	jq -r .result.status lifeboat-undo/audit.jsonl >st &&
	test "$(cat st)" = changed
'

test_expect_success 'a second repair finds nothing to do and leaves the image alone' '
	sha win.img >sha.repaired &&
	lb repair --recipe crowdstrike-291 --json win.img >again.json &&
	json_is again.json ".images[0].status" clean &&
	json_is again.json ".images[0].undo" null &&
	test "$(sha win.img)" = "$(cat sha.repaired)"
'

test_expect_success 'undo IMAGE puts back every byte' '
	lb undo win.img >undo.out &&
	grep_q "restored" undo.out &&
	test "$(sha win.img)" = "$(cat sha.orig)" &&
	lb journal verify lifeboat-undo/audit.jsonl
'

test_expect_success 'undo again: nothing left to undo (exit 4), image unchanged' '
	expect_code 4 lb undo win.img &&
	error_format err &&
	test "$(sha win.img)" = "$(cat sha.orig)"
'

test_expect_success 'a tampered audit journal is caught (exit 5)' '
	cp lifeboat-undo/audit.jsonl journal.bak &&
	sed -i "1s/\"changed\"/\"clean\"/" lifeboat-undo/audit.jsonl &&
	expect_code 5 lb journal verify lifeboat-undo/audit.jsonl &&
	grep_q "line 2\|line 1" err &&
	cp journal.bak lifeboat-undo/audit.jsonl &&
	head -n 1 journal.bak >lifeboat-undo/audit.jsonl &&
	expect_code 5 lb journal verify lifeboat-undo/audit.jsonl &&
	cp journal.bak lifeboat-undo/audit.jsonl
'

test_expect_success 'ad-hoc --delete with --header deletes only files that start with it' '
	lb repair --delete "C:\\Windows\\System32\\drivers\\CrowdStrike\\c-00000291*.SYS" \
		--header AAAAAAAA01002301 --undo-dir undo2 --json win.img >adhoc.json &&
	json_is adhoc.json "[.images[0].items[] | select(.result==\"deleted\")] | length" 2 &&
	json_is adhoc.json ".images[0].items[] | select(.path==\"$CS/c-00000291-00000000-00000033.SYS\") | .result" kept &&
	lb undo --undo-dir undo2 win.img &&
	test "$(sha win.img)" = "$(cat sha.orig)"
'

test_expect_success '--mtime-after / --mtime-before narrow by time; a time without zone is refused' '
	expect_code 2 lb repair --delete "$CS/*.sys" --mtime-after 2024-07-19T04:09:00 win.img &&
	grep_q "no zone" err &&
	lb repair -n --json --delete "$CS/C-00000291*.sys" --mtime-after 2024-07-19T04:09:00Z \
		--mtime-before 2024-07-19T05:27:00Z win.img >t.json &&
	json_is t.json "[.images[0].items[] | select(.result==\"would-delete\")] | length" 2 &&
	test "$(sha win.img)" = "$(cat sha.orig)"
'

test_expect_success 'usage errors: no action, both --recipe and --delete, unknown recipe' '
	expect_code 2 lb repair win.img && error_format err &&
	expect_code 2 lb repair -r crowdstrike-291 --delete "x/*" win.img &&
	expect_code 2 lb repair -r no-such-recipe win.img && grep_q "crowdstrike-291" err &&
	expect_code 2 lb repair --header AA win.img && grep_q "no .delete. line\|delete" err
'

test_done
