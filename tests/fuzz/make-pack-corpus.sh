#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make-pack-corpus.sh [BUILD] - regenerate the seed inputs of fuzz_pack_trailer
# and fuzz_index_object: tests/fuzz/corpus/{pack_trailer,index_object}/ (real
# trailers and index objects written by lifeboat's own code; index objects
# sealed with the fixed key of fuzz_index_object.c) and
# tests/fuzz/bad/{pack_trailer,index_object}/ (known-bad inputs, each named
# after the errno the parser must return: EBADMSG-..., EOVERFLOW-...).
#
# The inputs are made and checked by test_trailer_bounds and
# test_pack_roundtrip in tests/unit/test_pack.c and test_object_seeds in tests/unit/test_index.c
# (which fail if a good seed is refused or a bad one accepted with another
# errno); with LB_CORPUS_OUT set they also write them out. Commit the result.
# Index objects have a random salt and nonce, so those files change each run.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build/default}

make --no-print-directory DEVELOPER=1 BUILD="$BUILD" "$BUILD/tests/test_pack" \
	"$BUILD/tests/test_index"
for kind in pack_trailer index_object; do
	rm -rf "tests/fuzz/corpus/$kind" "tests/fuzz/bad/$kind"
	mkdir -p "tests/fuzz/corpus/$kind" "tests/fuzz/bad/$kind"
done
LB_CORPUS_OUT=tests/fuzz "$BUILD/tests/test_pack" test_trailer_bounds
LB_CORPUS_OUT=tests/fuzz "$BUILD/tests/test_pack" test_pack_roundtrip
LB_CORPUS_OUT=tests/fuzz "$BUILD/tests/test_index" test_object_seeds
for kind in pack_trailer index_object; do
	printf '%s: %s good, %s bad\n' "$kind" "$(ls "tests/fuzz/corpus/$kind" | wc -l)" \
		"$(ls "tests/fuzz/bad/$kind" | wc -l)"
done
