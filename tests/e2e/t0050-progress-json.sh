#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Progress reporting: --progress=json writes one JSON object per line on
# stderr (start, progress per image, end); the bar appears only on a
# terminal (or when asked for), never mixes into stdout, and -q silences it.
. "$(dirname "$0")/lib.sh"

# json_lines FILE: every line of FILE that starts with "{" is one valid JSON
# object; prints how many
json_lines() {
	n=0
	while IFS= read -r line; do
		case "$line" in
		"{"*)
			printf '%s\n' "$line" | jq -e 'type == "object"' >/dev/null || {
				say "not a JSON object: $line"
				return 1
			}
			n=$((n + 1))
			;;
		esac
	done <"$1"
	echo "$n"
}

test_expect_success 'setup: two small disks' '
	mk_small_gpt a.img &&
	mk_small_mbr b.img &&
	convert b.img qcow2 b.qcow2 &&
	lb inspect a.img b.qcow2 >plain.out 2>plain.err &&
	test ! -s plain.err
'

test_expect_success '--progress=json: start, one progress line per image, end' '
	expect_code 0 lb inspect --progress=json a.img b.qcow2 &&
	cmp plain.out out &&
	test "$(json_lines err)" -eq "$(wc -l <err)" &&
	jq -s . err >events.json &&
	json_expect "length" 5 &&
	json_expect "[.[].event] | join(\",\")" start,progress,progress,progress,end &&
	json_expect "[.[].task] | unique | join(\",\")" inspect &&
	json_expect ".[0].total_items" 2 &&
	json_expect "[.[1:4][].done_items] | map(tostring) | join(\",\")" 0,1,2 &&
	json_expect "[.[1:4][].current] | map(tostring) | join(\",\")" a.img,b.qcow2,null &&
	json_expect "[.[1:4][].total_items] | unique | map(tostring) | join(\",\")" 2 &&
	json_expect ".[4].done_items" 2 &&
	json_expect "[.[1:][].elapsed | . >= 0] | all" true &&
	json_expect "[.[1:4][] | has(\"rate\") and has(\"eta\") and has(\"done_bytes\")] | all" true &&
	json_check events.json
'

test_expect_success '--progress=json as a global option, and with --json output' '
	expect_code 0 lb --progress=json inspect --json a.img &&
	json_valid out &&
	json_is out ".summary.ok" 1 &&
	test "$(json_lines err)" -eq 4 &&
	test "$(wc -l <err)" -eq 4
'

test_expect_success '--progress=json with a failing image: errors stay text lines' '
	expect_code 3 lb inspect --progress=json a.img missing.img &&
	test "$(json_lines err)" -eq 5 &&
	test "$(grep -vc "^{" err)" -eq 1 &&
	grep -v "^{" err >error.line &&
	error_line error.line &&
	grep_q "^lifeboat: inspect: missing.img: no such file" error.line &&
	tail -1 err | jq -e ".event == \"end\" and .done_items == 2" >/dev/null
'

test_expect_success 'auto (the default) draws nothing when stderr is not a terminal' '
	expect_code 0 lb inspect --progress=auto a.img b.qcow2 &&
	test ! -s err &&
	cmp plain.out out
'

test_expect_success '--progress=none: nothing on stderr' '
	expect_code 0 lb inspect --progress=none a.img &&
	test ! -s err
'

test_expect_success '--progress=bar draws a bar on stderr even when not a terminal' '
	expect_code 0 lb inspect --progress=bar a.img b.qcow2 &&
	cmp plain.out out &&
	grep_q "inspect \[" err &&
	tr "\r" "\n" <err | grep -q "100%"
'

if command -v script >/dev/null 2>&1; then
	test_expect_success 'on a terminal the bar appears by default, and -q hides it' '
		script -qec "$LIFEBOAT inspect a.img b.qcow2 >/dev/null" /dev/null >tty.out &&
		grep_q "inspect \[" tty.out &&
		script -qec "$LIFEBOAT inspect -q a.img b.qcow2 >/dev/null" /dev/null >tty-q.out &&
		! grep -q "inspect \[" tty-q.out
	'
else
	test_skip 'the bar on a terminal' 'script(1) is not installed'
fi

test_done
