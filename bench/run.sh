#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh [repair] - lifeboat side by side with its anchors, on the same
# freshly built data, in one run; prints times and ratios. Run by 'make bench'
# (which installs libguestfs-tools and hyperfine first).
#
#   repair   a 2 GiB Windows-like disk holding the bad CrowdStrike channel
#            file: lifeboat repair vs virt-customize --delete (libguestfs boots
#            an appliance VM per image); one image, a dirty one, and a fleet
#            of 100 images with --jobs 2.
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
what=${1:-repair}
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

case "$what" in
repair) bench_repair ;;
*) echo "bench/run.sh: unknown benchmark '$what'" >&2; exit 2 ;;
esac
say ""
say "results: $results"
