#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make-repair-corpus.sh [BUILD] - regenerate the seed inputs of fuzz_undo and
# fuzz_audit: tests/fuzz/corpus/{undo,audit}/ (real logs and journals written
# by lifeboat's own code) and tests/fuzz/bad/{undo,audit}/ (known-bad inputs,
# each named after the errno the reader must return: EBADMSG-...).
#
# The inputs are made and checked by test_corpus in tests/unit/test_undo.c
# and tests/unit/test_audit.c (which fail if a good seed is refused or a bad
# one accepted); with LB_CORPUS_OUT set they also write them out. Commit the
# result. The logs hold random bytes from a seeded generator, but the run id
# and timestamps differ from run to run, so the files change each time.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build/default}

make --no-print-directory DEVELOPER=1 BUILD="$BUILD" "$BUILD/tests/test_undo" \
	"$BUILD/tests/test_audit"
for kind in undo audit; do
	rm -rf "tests/fuzz/corpus/$kind" "tests/fuzz/bad/$kind"
	mkdir -p "tests/fuzz/corpus/$kind" "tests/fuzz/bad/$kind"
done
LB_CORPUS_OUT=tests/fuzz "$BUILD/tests/test_undo" test_corpus
LB_CORPUS_OUT=tests/fuzz "$BUILD/tests/test_audit" test_corpus
for kind in undo audit; do
	printf '%s: %s good, %s bad\n' "$kind" "$(ls "tests/fuzz/corpus/$kind" | wc -l)" \
		"$(ls "tests/fuzz/bad/$kind" | wc -l)"
done
