#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A backup killed (SIGKILL) at chosen points of its writes leaves no
# snapshot and no damage: every earlier snapshot restores byte for byte,
# check is clean, and running the backup again completes and reuses what was
# stored. Two backups into one repository at the same time both succeed.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/repo.sh"

test_expect_success 'a repository with one snapshot, and a bigger image to back up' '
	lb init >/dev/null &&
	mk_data_image a.img 16 one && lb backup a.img >/dev/null &&
	truncate -s 96M big.img &&
	openssl enc -aes-128-ctr -pass pass:kill -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 40000000 | dd of=big.img bs=1M seek=4 conv=notrunc status=none &&
	i=0 && while [ $i -lt 40000 ]; do echo "text line $i"; i=$((i + 1)); done |
		dd of=big.img bs=1M seek=60 conv=notrunc status=none
'

# objects a complete backup of big.img makes: packs, an index, a snapshot
for n in 1 2 3 4; do
	for when in at after; do
		test_expect_success "killed $when its commit number $n: nothing lost, the re-run completes" "
			repo_copy repo repo.k && K=\$(repo_url repo.k) &&
			( LIFEBOAT_REPOSITORY=\$K LIFEBOAT_STORE_FAULT=kill-$when-commit=$n \\
				\"\$LIFEBOAT\" backup big.img >/dev/null 2>&1; echo \$? >code ) &&
			test \"\$(cat code)\" = 137 &&
			test \"\$(LIFEBOAT_REPOSITORY=\$K lb snapshots --json | jq '.snapshots | length')\" = 1 &&
			rm -f a.out && LIFEBOAT_REPOSITORY=\$K lb restore a@latest --target a.out >/dev/null &&
			test \"\$(sha a.out)\" = \"\$(sha a.img)\" &&
			LIFEBOAT_REPOSITORY=\$K lb check >/dev/null 2>check.err || grep -q 'not in any index' check.err &&
			LIFEBOAT_REPOSITORY=\$K lb check --read-data >/dev/null &&
			LIFEBOAT_REPOSITORY=\$K lb backup --json big.img >re.json &&
			rm -f big.out && LIFEBOAT_REPOSITORY=\$K lb restore big@latest --target big.out >/dev/null &&
			test \"\$(sha big.out)\" = \"\$(sha big.img)\"
		"
	done
done

test_expect_success 'a re-run after a kill reuses the packs the killed backup stored' '
	repo_copy repo repo.k && K=$(repo_url repo.k) &&
	( LIFEBOAT_REPOSITORY=$K LIFEBOAT_STORE_FAULT=kill-at-commit=3 \
		"$LIFEBOAT" backup big.img >/dev/null 2>&1; true ) &&
	LIFEBOAT_REPOSITORY=$K lb backup --json big.img >re.json &&
	total=$(jq -r ".snapshots[0].bytes_total" re.json) &&
	new=$(jq -r ".snapshots[0].bytes_new" re.json) &&
	test "$new" -lt "$total"
'

test_expect_success 'two backups into one repository at the same time both succeed' '
	mk_data_image c1.img 24 c1 && mk_data_image c2.img 24 c2
	( lb backup c1.img >p1.out 2>&1; echo $? >p1.code ) &
	( lb backup c2.img >p2.out 2>&1; echo $? >p2.code ) &
	wait &&
	test "$(cat p1.code)" = 0 && test "$(cat p2.code)" = 0 &&
	lb check --read-data >/dev/null &&
	lb restore c1@latest --target c1.out && test "$(sha c1.out)" = "$(sha c1.img)" &&
	lb restore c2@latest --target c2.out && test "$(sha c2.out)" = "$(sha c2.img)"
'

test_done
