#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh [repair|backup|all] - lifeboat side by side with its anchors, on the same
# freshly built data, in one run; prints times and ratios. Run by 'make bench'
# (which installs libguestfs-tools and hyperfine first).
#
#   repair   a 2 GiB Windows-like disk holding the bad CrowdStrike channel
#            file: lifeboat repair vs virt-customize --delete (libguestfs boots
#            an appliance VM per image); one image, a dirty one, and a fleet
#            of 100 images with --jobs 2.
#   backup   a 4 GiB sparse image and v2 of it: lifeboat vs restic, borg and
#            casync: first backup, incremental, restore, peak RSS, growth.
#
# Environment: BENCH_OUT (default bench-out/), BENCH_FLEET (default 100),
# BENCH_RUNS (default 5 lifeboat runs per figure; libguestfs runs 2 times).
set -eu
cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
: "${BUILD:=$SRCDIR/build/default}"
LIFEBOAT="$SRCDIR/lifeboat"
HELPERS="$BUILD/helpers"
OUT=${BENCH_OUT:-$SRCDIR/bench-out}
FLEET=${BENCH_FLEET:-100}
RUNS=${BENCH_RUNS:-5}
what=${1:-all}
export LIBGUESTFS_BACKEND=direct

rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"
LB_SRCDIR=$SRCDIR
. "$SRCDIR/tests/e2e/images.sh"
. "$SRCDIR/tests/e2e/winimg.sh"

now() { date +%s.%N; }
# secs START END
secs() { echo "$2 - $1" | bc -l; }
fmt() { printf '%.3f' "$1"; }
# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

results="$OUT/results.txt"
: >"$results"
say() { printf '%s\n' "$*" | tee -a "$results"; }

bench_repair() {
	say "== repair: one 2 GiB Windows-like image (raw GPT), the CrowdStrike fix"
	say "   machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -r)"
	# a 2 GiB disk: ESP, MSR, a 1.8 GiB C: with a Windows-like tree
	rm -f win-c.ntfs win-r.ntfs
	mk_cs_volume win-c.ntfs 1800
	"$FIXTURE" win-c.ntfs add-many Windows/System32 f 3000 --size 4096 \
		add-many Windows/System32/drivers d 400 --size 16384 >/dev/null
	rm -f base.img && truncate -s 2G base.img
	sgdisk -n1:1M:+100M -t1:EF00 -n2:0:+16M -t2:0C01 -n3:0:+1800M -t3:0700 -n4:0:0 -t4:2700 \
		base.img >/dev/null
	truncate -s 100M esp.part && mkfs.fat -F32 -n SYSTEM esp.part >/dev/null 2>&1
	place esp.part base.img 1 && place win-c.ntfs base.img 117
	mk_ntfs win-r.ntfs 100 Recovery && place win-r.ntfs base.img 1917
	"$FIXTURE" win-c.ntfs dirty >/dev/null && cp base.img dirty.img && place win-c.ntfs dirty.img 117
	rm -f esp.part win-c.ntfs win-r.ntfs
	say "   image: $(du -h --apparent-size base.img | cut -f1) virtual, $(du -h base.img | cut -f1) allocated"

	# lifeboat, one image: fresh copy each run, median of RUNS
	: >lb.times
	for i in $(seq "$RUNS"); do
		cp --sparse=always base.img one.img && rm -rf lifeboat-undo && sync
		t0=$(now)
		"$LIFEBOAT" -q repair --recipe crowdstrike-291 one.img
		t1=$(now)
		secs "$t0" "$t1" >>lb.times
	done
	lb_one=$(median <lb.times)
	"$LIFEBOAT" repair --json --recipe crowdstrike-291 one.img >/dev/null
	say "   lifeboat repair:                $(fmt "$lb_one") s per image (median of $RUNS)"

	# lifeboat on the dirty volume (the state a blue screen leaves)
	cp --sparse=always dirty.img d1.img && rm -rf lifeboat-undo
	t0=$(now)
	"$LIFEBOAT" -q repair --recipe crowdstrike-291 d1.img && dstat=ok || dstat="failed ($?)"
	t1=$(now)
	lb_dirty=$(secs "$t0" "$t1")
	say "   lifeboat repair, dirty volume:  $(fmt "$lb_dirty") s, $dstat"

	# libguestfs: virt-customize --delete with the exact name (its globs are case-sensitive)
	gf_one=""
	if command -v virt-customize >/dev/null 2>&1; then
		: >gf.times
		for i in 1 2; do
			cp --sparse=always base.img gf.img
			t0=$(now)
			if virt-customize -q --no-network -a gf.img \
				--delete "/$CS/C-00000291-00000000-00000032.sys" >gf.log 2>&1; then
				t1=$(now)
				secs "$t0" "$t1" >>gf.times
			else
				say "   virt-customize failed: $(tail -1 gf.log)"
			fi
		done
		[ -s gf.times ] && gf_one=$(median <gf.times)
		cp --sparse=always dirty.img gfd.img
		t0=$(now)
		if virt-customize -q --no-network -a gfd.img \
			--delete "/$CS/C-00000291-00000000-00000032.sys" >gfd.log 2>&1; then
			gfd="ok"
		else
			gfd="failed: $(grep -i -m1 'error\|read-only' gfd.log | cut -c1-100)"
		fi
		t1=$(now)
		say "   virt-customize --delete, dirty: $(fmt "$(secs "$t0" "$t1")") s, $gfd"
	fi
	# guestfish, no OS inspection: mount the partition and rm (libguestfs's fastest path)
	gfi_one=""
	if command -v guestfish >/dev/null 2>&1; then
		: >gfi.times
		for i in 1 2; do
			cp --sparse=always base.img gfi.img
			t0=$(now)
			if guestfish --rw -a gfi.img -m /dev/sda3 \
				rm-f "/$CS/C-00000291-00000000-00000032.sys" >gfi.log 2>&1; then
				t1=$(now)
				secs "$t0" "$t1" >>gfi.times
			else
				say "   guestfish failed: $(grep -m1 -i error gfi.log)"
			fi
		done
		[ -s gfi.times ] && gfi_one=$(median <gfi.times)
		[ -n "$gfi_one" ] &&
			say "   guestfish -m /dev/sda3 rm-f:    $(fmt "$gfi_one") s per image (median of 2; no OS inspection)"
		[ -n "$gfi_one" ] &&
			say "   ratio: lifeboat is $(printf '%.0f' "$(echo "$gfi_one / $lb_one" | bc -l)")x faster than guestfish"
	fi
	if [ -n "$gf_one" ]; then
		say "   virt-customize --delete:        $(fmt "$gf_one") s per image (median of 2)"
		say "   ratio: lifeboat is $(printf '%.0f' "$(echo "$gf_one / $lb_one" | bc -l)")x faster than virt-customize per image (goal: 300x)"
	else
		say "   virt-customize: not installed (apt-get install libguestfs-tools), no ratio"
	fi

	# the fleet
	rm -rf fleet lifeboat-undo && mkdir fleet
	for i in $(seq -w 1 "$FLEET"); do cp --sparse=always base.img "fleet/vm$i.img"; done
	sync
	t0=$(now)
	"$LIFEBOAT" -q repair --recipe crowdstrike-291 --jobs 2 fleet/*.img
	t1=$(now)
	fleet=$(secs "$t0" "$t1")
	say "   lifeboat repair --jobs 2, $FLEET images: $(fmt "$fleet") s ($(fmt "$(echo "$fleet / $FLEET" | bc -l)") s per image; goal: 100 in under 10 s)"
	if [ -n "$gf_one" ]; then
		say "   virt-customize, $FLEET images (estimated from one): $(fmt "$(echo "$gf_one * $FLEET" | bc -l)") s"
	fi
	"$LIFEBOAT" -q repair --recipe crowdstrike-291 --jobs 2 --dry-run fleet/vm001.img >/dev/null
	rm -rf fleet gf.img gfd.img gfi.img one.img d1.img
}

# measure LABEL CMD...: run CMD with /usr/bin/time; append "LABEL seconds rss_kib" to times.txt.
# The page cache is flushed before, and the time includes flushing what CMD
# wrote (sync): a backup or a restore is done when its data is on disk, and
# tools differ in whether they fsync themselves.
measure() {
	_label=$1
	shift
	sync
	_t0=$(date +%s.%N)
	/usr/bin/time -f "%e %M" -o time.out "$@" >"$_label.log" 2>&1 && sync && {
		_t1=$(date +%s.%N)
		echo "$(echo "$_t1 - $_t0" | bc -l | xargs printf '%.2f') $(cut -d' ' -f2 time.out)" >time.out
	} || {
		say "   $_label FAILED: $(tail -2 "$_label.log" | tr '\n' ' ')"
		echo "$_label 0 0" >>times.txt
		return 0
	}
	echo "$_label $(cat time.out)" >>times.txt
}

col() { # LABEL FIELD(2 secs, 3 rss)
	awk -v l="$1" -v f="$2" '$1 == l { print $f }' times.txt
}

bench_backup() {
	size=${BENCH_SIZE_MIB:-4096}
	say "== backup: a ${size} MiB sparse image (40 % holes, 30 % text-like, 30 % random, 2 % zeros),"
	say "   then v2 of it (2 % of its 4 KiB pages rewritten at scattered places, and one 16 MiB region)"
	say "   machine: $(nproc) cores; source in the page cache; times include a final sync (data on disk);"
	say "   every tool backs up the same path twice"
	cc -O2 -o mkdata "$SRCDIR/bench/mkdata.c"
	./mkdata v1 disk.img "$size"
	cp --sparse=always disk.img v1.img
	./mkdata v2 v2.img "$size" 2>/dev/null || { cp --sparse=always disk.img v2.img && ./mkdata v2 v2.img "$size"; }
	cat disk.img v2.img >/dev/null
	export LIFEBOAT_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
	export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
	: >times.txt
	sizes=""
	for tool in lifeboat restic borg casync; do
		cp --sparse=always v1.img disk.img
		rm -rf "repo-$tool" "out-$tool" && mkdir -p "out-$tool"
		case $tool in
		lifeboat)
			"$LIFEBOAT" -q init -r repo-lifeboat >/dev/null
			measure lifeboat-v1 "$LIFEBOAT" -q backup -r repo-lifeboat --name disk disk.img ;;
		restic)
			command -v restic >/dev/null || continue
			restic -q init --repo repo-restic >/dev/null
			measure restic-v1 restic -q --repo repo-restic backup disk.img ;;
		borg)
			command -v borg >/dev/null || continue
			borg init -e repokey repo-borg >/dev/null 2>&1
			measure borg-v1 borg create --compression zstd,3 repo-borg::v1 disk.img ;;
		casync)
			command -v casync >/dev/null || continue
			mkdir -p repo-casync
			measure casync-v1 casync make --store=repo-casync/store repo-casync/v1.caibx disk.img ;;
		esac
		g1=$(du -sb "repo-$tool" | cut -f1)
		cp --sparse=always v2.img disk.img
		case $tool in
		lifeboat) measure lifeboat-v2 "$LIFEBOAT" -q backup -r repo-lifeboat --name disk disk.img ;;
		restic) measure restic-v2 restic -q --repo repo-restic backup disk.img ;;
		borg) measure borg-v2 borg create --compression zstd,3 repo-borg::v2 disk.img ;;
		casync) measure casync-v2 casync make --store=repo-casync/store repo-casync/v2.caibx disk.img ;;
		esac
		g2=$(du -sb "repo-$tool" | cut -f1)
		sizes="$sizes $tool:$g1:$g2"
		case $tool in
		lifeboat) measure lifeboat-restore "$LIFEBOAT" -q restore -r repo-lifeboat disk@latest --target "out-$tool/disk.img" ;;
		restic) measure restic-restore restic -q --repo repo-restic restore latest --target "out-$tool" ;;
		borg) measure borg-restore sh -c "cd out-borg && borg extract $OUT/repo-borg::v2" ;;
		casync) measure casync-restore casync extract --store=repo-casync/store repo-casync/v2.caibx "out-$tool/disk.img" ;;
		esac
		restored=$(find "out-$tool" -name disk.img | head -1)
		if [ -n "$restored" ] && cmp -s "$restored" v2.img; then ok="identical"; else ok="DIFFERS"; fi
		sizes="$sizes:$ok:$(du -k "$restored" 2>/dev/null | cut -f1)"
		rm -rf "out-$tool"
	done
	say ""
	say "   | tool | first backup | incremental (v2) | restore | peak RSS | repo after v1 | growth for v2 | restored allocation |"
	say "   |---|---|---|---|---|---|---|---|"
	for entry in $sizes; do
		t=${entry%%:*}; rest=${entry#*:}; g1=${rest%%:*}; rest=${rest#*:}; g2=${rest%%:*}; rest=${rest#*:}
		ok=${rest%%:*}; alloc=${rest#*:}
		rss=$(for k in v1 v2 restore; do col "$t-$k" 3; done | sort -n | tail -1)
		say "   | $t | $(col "$t-v1" 2) s | $(col "$t-v2" 2) s | $(col "$t-restore" 2) s | $((rss / 1024)) MB | $((g1 >> 20)) MiB | $(((g2 - g1) >> 20)) MiB | $((alloc / 1024)) MiB, $ok |"
	done
	r1=$(col restic-v1 2); r2=$(col restic-v2 2); rr=$(col restic-restore 2)
	l1=$(col lifeboat-v1 2); l2=$(col lifeboat-v2 2); lr=$(col lifeboat-restore 2)
	if [ -n "$r1" ] && [ "$r1" != 0 ]; then
		say ""
		say "   lifeboat vs restic: first backup $(echo "$r1 / $l1" | bc -l | xargs printf '%.1f')x (goal 5x), incremental $(echo "$r2 / $l2" | bc -l | xargs printf '%.1f')x (goal 8x), restore $(echo "$rr / $lr" | bc -l | xargs printf '%.1f')x (goal 5x)"
	fi
	rm -f disk.img v1.img v2.img
}

case "$what" in
repair) bench_repair ;;
backup) bench_backup ;;
all) bench_repair && bench_backup ;;
*) echo "bench/run.sh: unknown benchmark '$what'" >&2; exit 2 ;;
esac
say ""
say "results: $results"
