# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib.sh - the end-to-end test library (git's t/test-lib.sh idea).
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'inspect sees the NTFS partition' '
#           lb inspect --json disk.img >out.json &&
#           json_is out.json ".images[0].partitions[2].filesystem.type" ntfs
#   '
#   test_done
#
# Each script runs in its own scratch directory (removed when every test
# passed, kept with LB_TEST_KEEP=1). A test body is evaluated by sh with
# "set -e"; it passes when it exits 0. test_done prints "N passed, N failed".
# Images are built at test time with the real tools; see images.sh.

set -u
LB_SRCDIR=${LB_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILD:=$LB_SRCDIR/build/default}"
: "${LIFEBOAT:=$BUILD/lifeboat}"
HELPERS="$BUILD/helpers"
export LB_SRCDIR BUILD LIFEBOAT HELPERS
unset LIFEBOAT_FAULT LIFEBOAT_REPOSITORY LIFEBOAT_PASSWORD LIFEBOAT_PASSWORD_FILE

test_name=$(basename "$0" .sh)
TRASH="$BUILD/trash/$test_name"
rm -rf "$TRASH"
mkdir -p "$TRASH"
cd "$TRASH" || exit 1

test_count=0
test_pass=0
test_fail=0

. "$LB_SRCDIR/tests/e2e/images.sh"

say() {
	printf '%s\n' "$*"
}

# test_expect_success TITLE BODY
test_expect_success() {
	test_count=$((test_count + 1))
	if (set -e; eval "$2") >"$TRASH/.out.$test_count" 2>&1; then
		test_pass=$((test_pass + 1))
		say "ok $test_count - $1"
	else
		test_fail=$((test_fail + 1))
		say "not ok $test_count - $1"
		sed 's/^/#   /' "$TRASH/.out.$test_count" | tail -40
	fi
}

test_done() {
	say "$test_pass passed, $test_fail failed"
	if [ "$test_fail" -eq 0 ] && [ -z "${LB_TEST_KEEP:-}" ]; then
		cd / && rm -rf "$TRASH"
	fi
	[ "$test_fail" -eq 0 ]
	exit $?
}

# lb ARGS...: the binary under test
lb() {
	"$LIFEBOAT" "$@"
}

# expect_code CODE CMD...: run CMD, stdout to ./out, stderr to ./err, and
# check its exit status
expect_code() {
	want=$1
	shift
	set +e
	"$@" >out 2>err
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		say "expected exit $want, got $got from: $*"
		say "--- stdout"; cat out
		say "--- stderr"; cat err
		return 1
	fi
}

# json_is FILE JQ-EXPR EXPECTED: jq -r EXPR must print EXPECTED exactly
json_is() {
	got=$(jq -r "$2" "$1") || { say "jq failed on $1 for $2"; return 1; }
	if [ "$got" != "$3" ]; then
		say "$1: $2 is '$got', expected '$3'"
		return 1
	fi
}

# grep_q PATTERN FILE: like grep -q, but shows the file on failure
grep_q() {
	if ! grep -q -e "$1" "$2"; then
		say "'$1' not found in $2:"
		cat "$2"
		return 1
	fi
}

# error_format FILE: every line is "lifeboat: <cmd>: <object>: <problem>; <what to do>"
error_format() {
	if ! grep -Eq '^lifeboat: [a-z-]+: .+: .+; .+' "$1"; then
		say "error message not in the 'lifeboat: <command>: <object>: <problem>; <what to do>' form:"
		cat "$1"
		return 1
	fi
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}
