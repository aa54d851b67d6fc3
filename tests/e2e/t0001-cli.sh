#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The command line: help, version, and usage errors (exit 2, one line on
# stderr in lifeboat's form, nothing on stdout).
. "$(dirname "$0")/lib.sh"

# usage_error FILE: one line "lifeboat: ...; see 'lifeboat [<command> ]--help'"
usage_error() {
	error_line_any "$1" &&
	grep_q "; see 'lifeboat \([a-z]* \)\{0,1\}--help'\$" "$1"
}

# error_line_any FILE: one line starting "lifeboat: " (the command may be
# unknown, so not necessarily "lifeboat: <command>: ")
error_line_any() {
	if [ "$(wc -l <"$1")" -ne 1 ] || ! grep -q '^lifeboat: [^ ]' "$1" ||
		grep -q '^lifeboat: lifeboat:' "$1"; then
		say "expected one 'lifeboat: ...' line in $1:"
		cat "$1"
		return 1
	fi
}

test_expect_success '--help lists the commands on stdout, exit 0' '
	expect_code 0 lb --help &&
	grep_q "^usage: lifeboat " out &&
	grep_q "^  inspect " out &&
	grep_q "^  help " out &&
	grep_q "^  version " out &&
	test ! -s err
'

test_expect_success '-h and "help" print the same' '
	lb --help >main-help &&
	expect_code 0 lb -h && cmp main-help out &&
	expect_code 0 lb help && cmp main-help out
'

test_expect_success '--version and "version" print "lifeboat VERSION"' '
	expect_code 0 lb --version &&
	test "$(wc -l <out)" -eq 1 &&
	grep_q "^lifeboat [0-9a-z][0-9a-zA-Z.+~-]*\$" out &&
	cp out v1 &&
	expect_code 0 lb version &&
	cmp v1 out
'

test_expect_success 'version --json is valid JSON with the same version' '
	expect_code 0 lb version --json &&
	json_valid out &&
	json_is out ".version | type" string &&
	json_is out ".version" "$(cut -d" " -f2 v1)" &&
	expect_code 0 lb --json version &&
	json_is out ".version" "$(cut -d" " -f2 v1)"
'

test_expect_success 'help inspect describes the command and all its options' '
	expect_code 0 lb help inspect &&
	grep_q "^usage: lifeboat inspect \[options\] IMAGE" out &&
	grep_q "read-only" out &&
	grep_q "--format=FMT" out &&
	grep_q "--force-share" out &&
	grep_q "--json" out &&
	grep_q "--progress=MODE" out &&
	grep_q "--quiet" out &&
	grep_q "--help" out &&
	grep_q "exit status: 0 ok" out &&
	test ! -s err
'

test_expect_success 'inspect --help and inspect -h print the same as help inspect' '
	lb help inspect >help-inspect &&
	expect_code 0 lb inspect --help && cmp help-inspect out &&
	expect_code 0 lb inspect -h && cmp help-inspect out &&
	expect_code 0 lb inspect --json --help nothing.img && cmp help-inspect out
'

test_expect_success 'an unknown command: exit 2, one line, nothing on stdout' '
	expect_code 2 lb frobnicate &&
	usage_error err &&
	grep_q "^lifeboat: '"'"'frobnicate'"'"' is not a lifeboat command; see '"'"'lifeboat --help'"'"'\$" err &&
	test ! -s out
'

test_expect_success 'a prefix of a command suggests it' '
	expect_code 2 lb insp &&
	usage_error err &&
	grep_q "did you mean '"'"'inspect'"'"'" err
'

test_expect_success 'an empty command name suggests nothing' '
	expect_code 2 lb "" &&
	usage_error err &&
	! grep -q "did you mean" err
'

test_expect_success 'help for an unknown command: exit 2' '
	expect_code 2 lb help frobnicate &&
	usage_error err &&
	grep_q "^lifeboat: help: " err
'

test_expect_success 'an unknown long option: exit 2, and the operand is not touched' '
	expect_code 2 lb inspect --frobnicate x.img &&
	usage_error err &&
	grep_q "^lifeboat: inspect: unknown option '"'"'--frobnicate'"'"'; see '"'"'lifeboat inspect --help'"'"'\$" err &&
	test ! -s out &&
	test ! -e x.img
'

test_expect_success 'an unknown short option: exit 2' '
	expect_code 2 lb inspect -Z x.img &&
	usage_error err &&
	grep_q "unknown option '"'"'-Z'"'"'" err
'

test_expect_success 'an unknown global option: exit 2' '
	expect_code 2 lb --frobnicate inspect x.img &&
	usage_error err &&
	grep_q "^lifeboat: unknown global option" err
'

test_expect_success 'inspect without an image: exit 2' '
	expect_code 2 lb inspect &&
	usage_error err &&
	grep_q "^lifeboat: inspect: no image given; " err &&
	test ! -s out
'

test_expect_success 'no command at all: usage on stderr, exit 2' '
	expect_code 2 lb &&
	grep_q "^usage: lifeboat " err &&
	test ! -s out
'

test_expect_success 'an option without its value: exit 2' '
	expect_code 2 lb inspect --format &&
	usage_error err &&
	grep_q "needs a value" err
'

test_expect_success 'bad option values: exit 2, naming the option' '
	expect_code 2 lb inspect --format=floppy x.img &&
	usage_error err && grep_q "^lifeboat: inspect: --format: '"'"'floppy'"'"' is not one of" err &&
	expect_code 2 lb inspect --progress=loud x.img &&
	usage_error err && grep_q "^lifeboat: inspect: --progress: '"'"'loud'"'"' is not one of" err &&
	expect_code 2 lb --progress=loud inspect x.img &&
	usage_error err && grep_q "^lifeboat: --progress: '"'"'loud'"'"' is not one of" err &&
	expect_code 2 lb inspect --json=yes x.img &&
	usage_error err && grep_q "takes no value" err
'

test_expect_success 'version takes no operand: exit 2' '
	expect_code 2 lb version now &&
	usage_error err
'

test_expect_success 'global options before the command are accepted' '
	expect_code 4 lb -q --progress none --json inspect missing.img &&
	json_valid out &&
	json_is out ".images[0].ok" false
'

test_expect_success 'options may follow operands; "--" ends options' '
	expect_code 4 lb inspect missing.img --json &&
	json_valid out &&
	json_is out ".images[0].path" missing.img &&
	json_is out ".images[0].error.code" ENOENT &&
	json_is out ".images[0].error.exit_code" 4 &&
	json_is out ".summary.failed" 1 &&
	expect_code 4 lb inspect -- --json &&
	error_line err &&
	grep_q "^lifeboat: inspect: --json: no such file; " err &&
	test ! -s out
'

test_done
