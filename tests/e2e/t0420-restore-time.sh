#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Point in time: "the newest snapshot of this VM captured strictly before T",
# at the boundaries and in other zones; a time without a zone refused;
# "the newest snapshot clean of a recipe", found by reading snapshots in
# place; single files read from a whole-disk backup without restoring it.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/repo.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'three backups of one VM at known capture times' '
	lb init >/dev/null &&
	mk_data_image v.img 16 t1 && lb backup --name vm --time 2024-07-19T03:00:00Z v.img >/dev/null &&
	sha v.img >t1.sha &&
	poke v.img 2000000 second && lb backup --name vm --time 2024-07-19T04:09:00Z v.img >/dev/null &&
	sha v.img >t2.sha &&
	poke v.img 3000000 third && lb backup --name vm --time 2024-07-19T05:27:00Z v.img >/dev/null &&
	sha v.img >t3.sha &&
	lb snapshots --name vm --json >s.json && test "$(jq ".snapshots | length" s.json)" = 3
'

restore_is() { # TIME EXPECTED-SHA-FILE
	rm -f r.img && lb restore --name vm --before "$1" --target r.img >/dev/null &&
	test "$(sha r.img)" = "$(cat "$2")"
}

test_expect_success '--before picks the newest snapshot strictly before TIME' '
	restore_is 2024-07-19T04:09:00Z t1.sha &&          # exactly at T2: T1
	restore_is 2024-07-19T04:09:01Z t2.sha &&          # one second after T2: T2
	restore_is 2024-07-19T04:08:59Z t1.sha &&
	restore_is 2024-07-19T06:09:00+02:00 t1.sha &&     # the same instant as 04:09Z
	restore_is 2024-07-19T07:27:00.5+02:00 t3.sha &&
	restore_is 2030-01-01T00:00:00Z t3.sha
'

test_expect_success 'a time without a zone is refused; before the first snapshot is an error' '
	expect_code 2 lb restore --name vm --before 2024-07-19T04:09:00 --target x.img &&
	grep_q "no zone" err && test ! -e x.img &&
	expect_code 4 lb restore --name vm --before 2024-07-19T02:00:00Z --target x.img &&
	error_format err && grep_q "before 2024-07-19T02:00:00Z" err && test ! -e x.img &&
	expect_code 4 lb restore --name nosuchvm --target x.img
'

test_expect_success 'references: ID prefix, NAME@latest, NAME@TIME; ambiguous and unknown ones' '
	id=$(jq -r ".snapshots[0].id" s.json) &&
	rm -f r.img && lb restore "$(echo $id | cut -c1-8)" --target r.img && test "$(sha r.img)" = "$(cat t1.sha)" &&
	rm -f r.img && lb restore vm@latest --target r.img && test "$(sha r.img)" = "$(cat t3.sha)" &&
	rm -f r.img && lb restore vm@2024-07-19T05:00:00Z --target r.img && test "$(sha r.img)" = "$(cat t2.sha)" &&
	expect_code 2 lb restore zz --target r2.img &&
	expect_code 4 lb restore ffffffffff --target r2.img
'

test_expect_success 'a Windows VM backed up before and after the bad channel file' '
	rm -f win-c.ntfs win-r.ntfs && mk_ntfs win-c.ntfs 150 Windows &&
	mk_win_gpt win.img >/dev/null 2>&1 && rm -f win-c.ntfs win-r.ntfs &&
	sha win.img >clean.sha &&
	lb backup --name web01 --time 2024-07-18T22:00:00Z win.img >/dev/null &&
	mk_cs_disk win.img &&
	lb backup --name web01 --time 2024-07-19T04:30:00Z win.img >/dev/null &&
	lb backup --name web01 --time 2024-07-19T04:45:00Z win.img >/dev/null
'

test_expect_success 'files are read from a whole-disk backup without restoring it' '
	lb ls web01@latest "3:$CS" >ls.out &&
	grep_q "C-00000291-00000000-00000032.sys" ls.out &&
	lb cat web01@latest "C:\\Windows\\System32\\drivers\\CrowdStrike\\C-00000291-00000000-00000032.sys" |
		head -c 8 | od -An -tx1 | tr -d " \n" >head.hex &&
	test "$(cat head.hex)" = aaaaaaaa01002301 &&
	lb find web01@latest --name "c-00000291*.sys" >f.out && test "$(wc -l <f.out)" -ge 3 &&
	lb inspect --json web01@latest >i.json &&
	json_is i.json ".images[0].format" snapshot &&
	json_is i.json ".images[0].partitions[2].filesystem.label" Windows
'

test_expect_success 'repair refuses a snapshot (exit 6); the repository is unchanged' '
	repo_sums repo >before.sums && test -s before.sums &&
	expect_code 6 lb repair --recipe crowdstrike-291 web01@latest &&
	grep_q "cannot be changed in place" err &&
	repo_sums repo | diff before.sums -
'

test_expect_success 'reg reads the registry of a snapshot, the repository given with -r' '
	(r=$LIFEBOAT_REPOSITORY && unset LIFEBOAT_REPOSITORY && lb reg -r "$r" web01@latest ls "HKLM\\SYSTEM" >reg.out) &&
	grep_q "Select" reg.out
'

test_expect_success '--clean-of restores the newest snapshot the recipe finds clean' '
	lb restore --name web01 --clean-of crowdstrike-291 --json --target c.img >c.json &&
	test "$(sha c.img)" = "$(cat clean.sha)" &&
	json_is c.json ".snapshots_examined" 3 &&
	expect_code 4 lb restore --name web01 --clean-of crowdstrike-291 --before 2024-07-18T00:00:00Z --target n.img
'

test_done
