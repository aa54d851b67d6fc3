#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input and faults: wrong password, no repository, a pack with one
# flipped byte or cut short, an index missing, a full disk. Clear errors,
# what is damaged named (check --read-data), and nothing else lost.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/repo.sh"

test_expect_success 'a repository with two image snapshots' '
	lb init >/dev/null &&
	mk_data_image a.img 32 one && lb backup --name a a.img >/dev/null &&
	mk_data_image b.img 32 two && lb backup --name b b.img >/dev/null &&
	lb check --read-data >/dev/null
'

test_expect_success 'a wrong password is a clear error (exit 4), nothing changes' '
	repo_sums repo >before.sum && test -s before.sum &&
	LIFEBOAT_PASSWORD=wrong expect_code 4 lb snapshots &&
	error_format err && grep_q "wrong password" err &&
	LIFEBOAT_PASSWORD=wrong expect_code 4 lb backup a.img &&
	repo_sums repo | diff before.sum -
'

test_expect_success 'no repository there / not a repository / no password for an encrypted one' '
	LIFEBOAT_REPOSITORY=$(repo_url nothing) expect_code 4 lb snapshots && grep_q "lifeboat init" err &&
	mkdir notrepo && LIFEBOAT_REPOSITORY=$(repo_url notrepo) expect_code 4 lb snapshots &&
	grep_q "not a lifeboat repository" err &&
	(unset LIFEBOAT_PASSWORD; expect_code 4 lb snapshots </dev/null) &&
	grep_q "no password\|LIFEBOAT_PASSWORD" err
'

test_expect_success 'one flipped byte in a pack: restore stops with the pack named (exit 5)' '
	repo_copy repo repo.good &&
	pack=$(repo_objects repo data/ | head -1) &&
	repo_get repo "$pack" pack.bin &&
	size=$(stat -c %s pack.bin) &&
	od -An -tx1 -j $((size / 2)) -N1 pack.bin | tr -d " " >byte &&
	printf "\\x$(printf %02x $(( 0x$(cat byte) ^ 0x40 )))" |
		dd of=pack.bin bs=1 seek=$((size / 2)) conv=notrunc status=none &&
	repo_put repo "$pack" pack.bin &&
	short=$(basename "$pack" | cut -c1-16) &&
	( lb restore a@latest --target a.out >/dev/null 2>e1; echo $? >c1 ) &&
	( lb restore b@latest --target b.out >/dev/null 2>e2; echo $? >c2 ) &&
	cat c1 c2 | grep -q 5 &&
	cat e1 e2 | grep -q "data/../$short"
'

test_expect_success 'a failed restore leaves no file behind, and --overwrite keeps the old one' '
	if [ "$(cat c1)" = 5 ]; then n=a; else n=b; fi &&
	test ! -e $n.out &&
	test -z "$(ls -A | grep lifeboat-)" &&
	echo precious >$n.out &&
	expect_code 5 lb restore --overwrite $n@latest --target $n.out &&
	test "$(cat $n.out)" = precious &&
	test -z "$(ls -A | grep lifeboat-)" &&
	rm $n.out
'

test_expect_success 'check finds nothing without reading data, names pack, snapshots and ranges with it' '
	short=$(basename "$(repo_objects repo data/ | head -1)" | cut -c1-16) &&
	lb check >c.out && grep_q "no problems" c.out &&
	expect_code 5 lb check --read-data &&
	grep_q "pack $short" err &&
	grep_q "snapshot [0-9a-f]* ([ab]): " err &&
	lb check --read-data --json >cj.json 2>/dev/null || true &&
	json_is cj.json ".ok" false &&
	test "$(jq -r .damaged_packs cj.json)" -ge 1
'

test_expect_success 'damage in a pack of data only: check names the byte ranges of the disk' '
	LIFEBOAT_REPOSITORY=$(repo_url r2) lb init >/dev/null &&
	truncate -s 64M big.img &&
	openssl enc -aes-128-ctr -pass pass:big -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 40000000 | dd of=big.img bs=1M seek=8 conv=notrunc status=none &&
	LIFEBOAT_REPOSITORY=$(repo_url r2) lb backup big.img >/dev/null &&
	test "$(repo_objects r2 data/ | wc -l)" -ge 2 &&
	first=$(repo_oldest r2 data/) &&
	repo_get r2 "$first" first.bin &&
	printf "\377\377\377\377" | dd of=first.bin bs=1 seek=4096 conv=notrunc status=none &&
	repo_put r2 "$first" first.bin &&
	LIFEBOAT_REPOSITORY=$(repo_url r2) expect_code 5 lb check --read-data &&
	grep_q "snapshot [0-9a-f]* (big): bytes of the disk that cannot be restored: [0-9]*-[0-9]*" err &&
	range=$(sed -n "s/.*cannot be restored: \([0-9]*\)-.*/\1/p" err | head -1) &&
	test "$range" -ge $((8 << 20))
'

test_expect_success 'a pack cut short: check names it; the other snapshot still restores' '
	repo_copy repo.good repo &&
	pack=$(repo_objects repo data/ | tail -1) &&
	repo_get repo "$pack" pack.bin &&
	truncate -s $(( $(stat -c %s pack.bin) - 100 )) pack.bin &&
	repo_put repo "$pack" pack.bin &&
	expect_code 5 lb check &&
	grep_q "bytes, the index says" err &&
	ok=0 && for n in a b; do
		rm -f $n.out && lb restore $n@latest --target $n.out >/dev/null 2>&1 &&
		test "$(sha $n.out)" = "$(sha $n.img)" && ok=$((ok + 1)); true
	done && test $ok -ge 1
'

test_expect_success 'the index objects lost: packs are found and indexed again, restores work' '
	repo_copy repo.good repo &&
	for o in $(repo_objects repo index/); do repo_rm repo "$o" || return 1; done &&
	test -z "$(repo_objects repo index/)" &&
	lb check >c2.out 2>c2.err; grep_q "not in any index" c2.err &&
	repo_objects repo index/ | grep -q . &&
	lb restore a@latest --target a2.out && test "$(sha a2.out)" = "$(sha a.img)"
'

if [ "$LB_TEST_STORE" = local ]; then
test_expect_success 'the disk fills up during a backup: a clear error, earlier snapshots intact' '
	repo_copy repo.good repo &&
	mk_data_image c.img 64 three &&
	( ulimit -f 1024; expect_code 7 lb backup c.img ) &&
	error_format err && grep_q "space\|too large" err &&
	rm -f a3.out && lb restore a@latest --target a3.out && test "$(sha a3.out)" = "$(sha a.img)" &&
	lb check >/dev/null &&
	lb backup c.img >/dev/null && lb restore c@latest --target c.img.out &&
	test "$(sha c.img.out)" = "$(sha c.img)"
'
else
	test_skip 'the disk fills up during a backup' 'a local-folder test (ulimit -f)'
fi

test_done
