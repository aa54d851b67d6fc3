#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-slow: a repair killed at LB_KILL_POINTS (default 50) distinct
# random (write, way) points (the device fault filter's kill switches, so
# that the point is exact and reproducible: LB_SEED=N replays a run). Three
# ways to die:
#   worker   the worker is killed before write N: the parent rolls back;
#   after    the worker is killed right after write N reached the image;
#   all      the worker and the lifeboat process are killed (kill -9 of the
#            whole repair): nobody rolls back, 'lifeboat undo' does.
# Every time the image must be byte-identical to the original (sha256)
# after the rollback or the undo, and a repair afterwards must still work.
. "$(dirname "$0")/../e2e/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

seed=${LB_SEED:-$$}
points=${LB_KILL_POINTS:-50}
say "# seed $seed (LB_SEED=$seed replays this run), $points kill points"

test_expect_success 'build the disk' '
	mk_cs_disk win.img &&
	sha win.img >sha.orig
'

# killed N: does kill-at-write=N kill the worker (N <= the writes a repair makes)?
killed() {
	cp win.img w.img
	LIFEBOAT_FAULT=kill-at-write=$1 lb repair -r crowdstrike-291 w.img >/dev/null 2>w.err
	grep -q "worker crashed (signal 9" w.err
}

test_expect_success 'count the writes of a repair' '
	hi=1 && while killed $hi; do hi=$((hi * 2)); test $hi -lt 100000; done &&
	lo=$((hi / 2)) &&
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2)); if killed $mid; then lo=$mid; else hi=$mid; fi
	done &&
	echo $lo >writes && say "a repair makes $lo writes" && test $lo -ge 3
'
writes=$(cat writes 2>/dev/null || echo 1)
say "# a repair of the test disk makes $writes writes"

# points: "N MODE" lines, N in [1, writes]: every (write, way) pair in an
# order shuffled from the seed, distinct until they run out
awk -v seed="$seed" -v n="$points" -v w="$writes" 'BEGIN {
	srand(seed); split("worker after all", m, " ")
	for (i = 1; i <= w; i++) for (k = 1; k <= 3; k++) p[++t] = i " " m[k]
	for (i = t; i > 1; i--) { j = int(rand() * i) + 1; x = p[i]; p[i] = p[j]; p[j] = x }
	for (i = 0; i < n; i++) print p[i % t + 1]
}' >points

i=0
while read -r n mode; do
	i=$((i + 1))
	case $mode in
	worker) spec=kill-at-write=$n ;;
	after) spec=kill-after-write=$n ;;
	all) spec=kill-all-at-write=$n ;;
	esac
	test_expect_success "point $i: $spec, then rollback or undo: byte for byte" "
		rm -rf lifeboat-undo && cp win.img k.img &&
		( LIFEBOAT_FAULT=$spec \"\$LIFEBOAT\" repair -r crowdstrike-291 k.img >k.out 2>k.err
		  echo \$? >code ) 2>/dev/null;
		code=\$(cat code) &&
		if [ $mode = all ]; then
			test \"\$code\" = 137 &&
			logs=\$(find lifeboat-undo -name undo.log 2>/dev/null | wc -l) &&
			if [ \"\$logs\" -gt 0 ]; then lb undo k.img >/dev/null; fi
		elif grep -q 'repaired' k.out; then
			lb undo k.img >/dev/null
		else
			test \"\$code\" = 1 && grep -q 'worker crashed (signal 9' k.err &&
			grep -q 'restored to its original state\|it had written nothing' k.err
		fi &&
		test \"\$(sha k.img)\" = \"\$(cat sha.orig)\" &&
		if [ \$(($i % 10)) = 0 ]; then
			lb repair -r crowdstrike-291 --json k.img >r.json &&
			json_is r.json '.images[0].status' changed
		fi
	"
done <points

test_done
