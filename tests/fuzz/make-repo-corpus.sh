#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make-repo-corpus.sh [BUILD] - regenerate the seed inputs of fuzz_imagemap,
# fuzz_tree and fuzz_snapshot: tests/fuzz/corpus/{imagemap,tree,snapshot}/
# (blobs and objects that must decode) and tests/fuzz/bad/.../ (known-bad
# ones, each named after the errno the decoder must return: EBADMSG-...).
#
# The inputs are made and checked by tests/unit/test_imagemap.c, test_tree.c
# and test_snapshot.c (which fail if a good seed is refused or a bad one
# accepted, or rejected with another errno); with LB_CORPUS_OUT set they also
# write them out. Commit the result. Everything is deterministic except
# corpus/snapshot/encoded-image (the encoder picks a random salt).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build/default}

make --no-print-directory DEVELOPER=1 BUILD="$BUILD" "$BUILD/tests/test_imagemap" \
	"$BUILD/tests/test_tree" "$BUILD/tests/test_snapshot"
for kind in imagemap tree snapshot; do
	rm -rf "tests/fuzz/corpus/$kind" "tests/fuzz/bad/$kind"
	mkdir -p "tests/fuzz/corpus/$kind" "tests/fuzz/bad/$kind"
	LB_CORPUS_OUT=tests/fuzz "$BUILD/tests/test_$kind" >/dev/null
	printf '%s: %s good, %s bad\n' "$kind" "$(ls "tests/fuzz/corpus/$kind" | wc -l)" \
		"$(ls "tests/fuzz/bad/$kind" | wc -l)"
done
