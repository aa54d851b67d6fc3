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

# test_expect_failure TITLE BODY: a known bug (named in TITLE) that BODY
# shows; counted as passed while BODY fails, and reported when it starts to
# pass so that the marker can be turned into test_expect_success.
test_expect_failure() {
	test_count=$((test_count + 1))
	if (set -e; eval "$2") >"$TRASH/.out.$test_count" 2>&1; then
		test_pass=$((test_pass + 1))
		say "ok $test_count - $1 # TODO known breakage vanished: use test_expect_success"
	else
		test_pass=$((test_pass + 1))
		say "ok $test_count - $1 # TODO known breakage"
	fi
}

# test_skip TITLE REASON: say why a test cannot run here (not counted)
test_skip() {
	say "# skip - $1: $2"
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

# expect_code_in "CODES" CMD...: like expect_code, for any of the exit statuses
# in the space-separated list CODES
expect_code_in() {
	want=$1
	shift
	set +e
	"$@" >out 2>err
	got=$?
	set -e
	case " $want " in *" $got "*) return 0 ;; esac
	say "expected exit status in ($want), got $got from: $*"
	say "--- stdout"; cat out
	say "--- stderr"; cat err
	return 1
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

# error_line FILE: FILE holds exactly one line, and it is an error in the
# "lifeboat: <command>: <object>: <problem>; <what to do>" form
error_line() {
	if [ "$(wc -l <"$1")" -ne 1 ]; then
		say "expected exactly one line in $1:"
		cat "$1"
		return 1
	fi
	error_format "$1"
}

# json_valid FILE: FILE is one JSON document (jq -e . fails on invalid JSON)
json_valid() {
	if ! jq -e . "$1" >/dev/null; then
		say "$1 is not valid JSON:"
		cat "$1"
		return 1
	fi
}

# put_hex FILE OFFSET HEX: overwrite bytes at OFFSET with the bytes HEX spells
# ("00000000", "400d030000000000"), in place
put_hex() {
	printf '%s' "$3" | xxd -r -p | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# le32 / le64 FILE OFFSET: the little-endian integer at OFFSET, in decimal
le32() {
	od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '
}
le64() {
	od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}

# size_of FILE: bytes
size_of() {
	stat -c %s "$1"
}

# fingerprint FILE: one line with FILE's SHA-256, its mtime (to the
# nanosecond) and its size, to compare before and after a command
fingerprint() {
	printf '%s %s\n' "$(sha "$1")" "$(stat -c '%y %s' "$1")"
}

# json_expect EXPR VALUE ... then json_check FILE: like json_is for each
# queued pair, with one jq run for them all (jq starts slowly: a few
# hundred json_is calls add seconds). Strings compare raw, everything else
# as JSON text (null, true, 3). The queue is cleared by json_check.
lb_json_queue=""
json_expect() {
	lb_json_queue="$lb_json_queue$1	$2
"
}

json_check() {
	printf '%s' "$lb_json_queue" | cut -f1 >"$TRASH/.jq.exprs"
	printf '%s' "$lb_json_queue" | cut -f2- >"$TRASH/.jq.want"
	lb_json_queue=""
	prog=$(sed 's/.*/((&) | if type == "string" then . else tojson end),/' "$TRASH/.jq.exprs")
	if ! jq -r "${prog%,}" "$1" >"$TRASH/.jq.got"; then
		say "jq failed on $1 for:"
		cat "$TRASH/.jq.exprs"
		return 1
	fi
	if [ "$(wc -l <"$TRASH/.jq.got")" -ne "$(wc -l <"$TRASH/.jq.want")" ]; then
		say "$1: an expression gave more or less than one value"
		return 1
	fi
	paste "$TRASH/.jq.exprs" "$TRASH/.jq.want" "$TRASH/.jq.got" | awk -F '\t' -v f="$1" '
		($2 "") != ($3 "") { printf "%s: %s is '\''%s'\'', expected '\''%s'\''\n", f, $1, $3, $2; bad = 1 }
		END { exit bad }'
}
