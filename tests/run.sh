#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [unit|fuzz|e2e|slow|PATTERN] - run lifeboat's test suites and add up
# the results ("slow": only the kill loops in tests/slow/, make check-slow). Every test program ends its output with "N passed, N failed"; this
# script sums those lines and ends with the same line for the whole run.
#
# Environment: LIFEBOAT (the binary under test), BUILD (the build directory),
# VALGRIND=1 (unit tests under valgrind), LB_TEST_KEEP=1 (keep scratch dirs),
# LB_TEST_VERBOSE=1 (show each test's output).
set -u
cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
export LB_SRCDIR="$SRCDIR"
: "${BUILD:=$SRCDIR/build/default}"
: "${LIFEBOAT:=$BUILD/lifeboat}"
export LIFEBOAT BUILD
filter=${1:-}
logdir="$BUILD/test-logs"
rm -rf "$logdir"
mkdir -p "$logdir"

total_pass=0
total_fail=0
failed_names=""

# run_one NAME LOG CMD...: run, parse the last "N passed, N failed" line
run_one() {
	name=$1
	log=$2
	shift 2
	"$@" >"$log" 2>&1
	status=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	if [ -z "$line" ]; then
		p=0
		f=1
		line="no result line (exit $status)"
	else
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed*}
		if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			line="$line, but exit status $status"
		fi
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ]; then
		printf '  FAIL %-40s %s (log: %s)\n' "$name" "$line" "$log"
		grep -E '^(not ok|#)' "$log" | head -20 | sed 's/^/       /'
		failed_names="$failed_names $name"
	else
		printf '  ok   %-40s %s\n' "$name" "$line"
	fi
	[ -n "${LB_TEST_VERBOSE:-}" ] && sed 's/^/       | /' "$log"
	return 0
}

want() {
	[ -z "$filter" ] || [ "$filter" = "$1" ] || case "$2" in *"$filter"*) return 0 ;; *) return 1 ;; esac
}

echo "unit tests:"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	want unit "$n" || continue
	if [ -n "${VALGRIND:-}" ]; then
		# somalloc=nouserintercepts: leave the harness's malloc wrappers (the
		# allocation-failure knob) in place; valgrind still tracks what they allocate
		run_one "$n" "$logdir/$n.log" valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite --soname-synonyms=somalloc=nouserintercepts \
			--suppressions="$SRCDIR/tests/valgrind.supp" "$t"
	else
		run_one "$n" "$logdir/$n.log" "$t"
	fi
done

if [ -z "${VALGRIND:-}" ]; then
	echo "fuzz corpus replay:"
	for t in "$BUILD"/replay/fuzz_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		want fuzz "$n" || continue
		corpus="tests/fuzz/corpus/${n#fuzz_}"
		bad="tests/fuzz/bad/${n#fuzz_}"
		run_one "$n" "$logdir/$n.log" "$t" "$corpus" --expect-reject "$bad"
	done

	echo "end-to-end tests:"
	for t in tests/e2e/t[0-9]*.sh; do
		[ "$filter" = slow ] && break
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		want e2e "$n" || continue
		run_one "$n" "$logdir/$n.log" sh "$t"
	done

	if [ "$filter" = slow ]; then
		echo "slow tests (kill loops):"
		for t in tests/slow/t[0-9]*.sh; do
			[ -f "$t" ] || continue
			n=$(basename "$t" .sh)
			run_one "$n" "$logdir/$n.log" sh "$t"
		done
	fi
fi

echo
if [ -n "$failed_names" ]; then
	echo "failed:$failed_names"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
