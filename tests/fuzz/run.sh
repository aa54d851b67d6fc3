#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh BUILD_DIR [SECONDS] - run every libFuzzer target in BUILD_DIR
# (fuzz_<name>, built by 'make fuzz-build') for SECONDS each (default 60).
#
# Each target starts from tests/fuzz/corpus/<name>/ and tests/fuzz/bad/<name>/,
# copied to a scratch directory so that what the fuzzer adds never lands in
# the repository. For each target it prints the executions and the coverage
# of libFuzzer's final stats line. An input that crashes a target (or leaks,
# times out, runs out of memory) is copied to tests/fuzz/bad/<name>/ as a
# regression input, and the script exits 1 after running the rest.
#
# Environment: LB_FUZZ_KEEP=1 keeps the scratch directory (logs, new inputs).
set -u
cd "$(dirname "$0")/../.."
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [SECONDS]" >&2
	exit 2
fi
build=$1
secs=${2:-60}
case $secs in '' | *[!0-9]*) echo "run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;; esac
scratch=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-fuzz.XXXXXX")
if [ -n "${LB_FUZZ_KEEP:-}" ]; then
	echo "scratch directory: $scratch"
else
	trap 'rm -rf "$scratch"' EXIT
fi

# The longest input worth trying: what each parser looks at, plus room to grow.
max_len() {
	case $1 in
	mbr) echo 1024 ;;
	fault_spec) echo 512 ;;
	vhd) echo 81920 ;;                # small VHD files: a footer, a header, a BAT, 16 KiB of data
	fs_probe) echo 81920 ;;           # LB_FS_PROBE_LEN is 72 KiB
	ptable | image_probe) echo 163840 ;; # 64-128 KiB disks; 136 KiB read by lb_image_open
	*) echo 65536 ;;
	esac
}

found=0
crashed=""
printf '%-20s %12s %8s %8s %8s  %s\n' target execs cov ft corpus result
for bin in "$build"/fuzz_*; do
	[ -x "$bin" ] || continue
	target=$(basename "$bin")
	name=${target#fuzz_}
	found=$((found + 1))
	work=$scratch/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	for d in "tests/fuzz/corpus/$name" "tests/fuzz/bad/$name"; do
		[ -d "$d" ] && find "$d" -maxdepth 1 -type f -exec cp {} "$work/corpus/" \;
	done
	log=$work/log
	"$bin" -max_total_time="$secs" -max_len="$(max_len "$name")" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
	status=$?
	# the final stats line: "#N  DONE  cov: C ft: F corp: K/..." (or the last status line)
	line=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{ print $2 }')
	[ -n "$execs" ] || execs=$(printf '%s\n' "$line" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$line" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	result=ok
	saved=""
	for a in "$work"/artifacts/*; do
		[ -f "$a" ] || continue
		case $(basename "$a") in slow-unit-*) continue ;; esac
		mkdir -p "tests/fuzz/bad/$name"
		cp "$a" "tests/fuzz/bad/$name/$(basename "$a")"
		saved="$saved tests/fuzz/bad/$name/$(basename "$a")"
	done
	if [ -n "$saved" ] || [ "$status" -ne 0 ]; then
		result="FAILED (exit $status)"
		crashed="$crashed $target"
	fi
	printf '%-20s %12s %8s %8s %8s  %s\n' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$result"
	if [ "$result" != ok ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*fuzz invariant failed|.*runtime error)' "$log" |
			head -5 | sed 's/^/    /'
		for f in $saved; do
			echo "    saved $f as a regression input: reproduce with '$bin $f'"
			echo "    (or the replay build: build/default/replay/$target $f). After the fix, rename it"
			echo "    E<ERRNO>-what-is-wrong if it must be rejected, or move it to"
			echo "    tests/fuzz/corpus/$name/ if it turns out to be valid input."
		done
		[ -z "$saved" ] && echo "    no input saved; the whole log: $log (LB_FUZZ_KEEP=1 keeps it)"
	fi
done

if [ "$found" -eq 0 ]; then
	echo "run.sh: no fuzz targets in $build (run 'make fuzz-build')" >&2
	exit 1
fi
if [ -n "$crashed" ]; then
	echo "failed:$crashed"
	exit 1
fi
echo "$found targets, no crashes in ${secs}s each"
