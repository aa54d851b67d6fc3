#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-slow: a backup killed (SIGKILL) at LB_KILL_POINTS (default 50)
# distinct random points of its writes (the store fault wrapper's kill switches:
# before or after an object becomes visible, or halfway through a pack;
# LB_SEED=N replays a run). Every time: either no new snapshot is listed, or
# it restores byte for byte (the index comes after the snapshot), at most
# one temporary file is left (the object being written; never listed), every
# earlier snapshot restores byte for byte (sha256), check --read-data finds
# no damage, and every 5th time the backup run again completes and restores.
. "$(dirname "$0")/../e2e/lib.sh"
. "$LB_SRCDIR/tests/e2e/repo.sh"

seed=${LB_SEED:-$$}
points=${LB_KILL_POINTS:-50}
say "# seed $seed (LB_SEED=$seed replays this run), $points kill points"

test_expect_success 'a repository with an image and a folder snapshot, and an image to back up' '
	lb init >/dev/null &&
	mk_data_image a.img 16 one && lb backup a.img >/dev/null &&
	mkdir tree && echo small >tree/s &&
	openssl enc -aes-128-ctr -pass pass:t -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 2000000 >tree/big &&
	lb backup --name tree tree >/dev/null &&
	truncate -s 64M big.img &&
	openssl enc -aes-128-ctr -pass pass:kill -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 30000000 | dd of=big.img bs=1M seek=4 conv=notrunc status=none &&
	i=0 && while [ $i -lt 30000 ]; do echo "text line $i"; i=$((i + 1)); done |
		dd of=big.img bs=1M seek=40 conv=notrunc status=none
'

# killed SPEC: does the backup die with SPEC?
killed() {
	rm -rf repo.c && cp -a repo repo.c
	( LIFEBOAT_REPOSITORY=$TRASH/repo.c LIFEBOAT_STORE_FAULT=$1 "$LIFEBOAT" backup big.img \
		>/dev/null 2>&1; echo $? >c.code ) 2>/dev/null
	test "$(cat c.code)" = 137
}

# count SPEC-PREFIX: the largest N for which SPEC-PREFIX=N kills the backup
count() {
	hi=1 && while killed "$1=$hi"; do hi=$((hi * 2)); [ $hi -lt 100000 ] || return 1; done
	lo=$((hi / 2))
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2)); if killed "$1=$mid"; then lo=$mid; else hi=$mid; fi
	done
	echo $lo
}

test_expect_success 'count the objects and the pack writes of the backup' '
	commits=$(count kill-at-commit) && writes=$(count kill-at-write) &&
	say "the backup stores $commits objects in $writes pack writes" &&
	test "$commits" -ge 2 && test "$writes" -ge 2 &&
	echo "$commits $writes" >counts
'
read -r commits writes <counts || { commits=1; writes=1; }
say "# the backup stores $commits objects in $writes pack writes"

# every kill point (before/after each commit, each pack write) in an order
# shuffled from the seed, distinct until they run out
awk -v seed="$seed" -v n="$points" -v c="$commits" -v w="$writes" 'BEGIN {
	srand(seed)
	for (i = 1; i <= c; i++) { p[++t] = "kill-at-commit=" i; p[++t] = "kill-after-commit=" i }
	for (i = 1; i <= w; i++) p[++t] = "kill-at-write=" i
	for (i = t; i > 1; i--) { j = int(rand() * i) + 1; x = p[i]; p[i] = p[j]; p[j] = x }
	for (i = 0; i < n; i++) print p[i % t + 1]
}' >points

i=0
while read -r spec; do
	i=$((i + 1))
	test_expect_success "point $i: $spec: nothing lost" "
		rm -rf repo.k && cp -a repo repo.k &&
		( LIFEBOAT_REPOSITORY=\$TRASH/repo.k LIFEBOAT_STORE_FAULT=$spec \"\$LIFEBOAT\" backup big.img \\
			>/dev/null 2>&1; echo \$? >code ) 2>/dev/null &&
		test \"\$(cat code)\" = 137 &&
		export LIFEBOAT_REPOSITORY=\$TRASH/repo.k &&
		n=\$(lb snapshots --json | jq '.snapshots | length') &&
		if [ \"\$n\" = 3 ]; then
			rm -f big.out && lb restore big@latest --target big.out >/dev/null &&
			test \"\$(sha big.out)\" = \"\$(sha big.img)\"
		else
			test \"\$n\" = 2
		fi &&
		test \"\$(find repo.k -name '*.tmp.*' | wc -l)\" -le 1 &&
		rm -f a.out && lb restore a@latest --target a.out >/dev/null &&
		test \"\$(sha a.out)\" = \"\$(sha a.img)\" &&
		rm -rf t.out && lb restore tree@latest --target t.out >/dev/null &&
		diff -r tree t.out &&
		{ lb check --read-data >/dev/null 2>check.err || ! grep -v 'not in any index' check.err | grep -q .; } &&
		if [ \$(($i % 5)) = 0 ]; then
			lb backup big.img >/dev/null &&
			rm -f big.out && lb restore big@latest --target big.out >/dev/null &&
			test \"\$(sha big.out)\" = \"\$(sha big.img)\"
		fi
	"
done <points

test_done
