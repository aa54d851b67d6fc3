#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fail if lifeboat's own C code calls a banned function.
#
# Why each is banned: unbounded copies (strcpy, strcat, strncpy, strncat,
# sprintf, vsprintf, gets), silent parse failures (atoi, atol, atoll, atof),
# hidden static state (strtok, asctime, ctime, gmtime, localtime, strerror_r's
# GNU/XSI split is fine, but readdir_r is deprecated), predictable temporary
# names (tmpnam, tempnam, mktemp), unbounded stack (alloca), getwd. Use
# snprintf, memcpy with explicit lengths, lb_parse_u64(), gmtime_r(),
# mkstemp()/O_TMPFILE, malloc. Runs before every build (the Makefile's
# order-only "banned" prerequisite of each object), so a banned call fails
# 'make' itself, not only 'make lint'.
set -eu
cd "$(dirname "$0")/.."
banned='strcpy|strcat|strncpy|strncat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|asctime|ctime|gmtime|localtime|readdir_r|tmpnam|tempnam|mktemp|alloca|getwd'
# Match a call: the name as a whole word followed by '(' (snprintf, gmtime_r,
# vsnprintf do not match). Comments are not stripped: do not name them there
# with a parenthesis.
hits=$(grep -rnE "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\(" src tests/unit tests/fuzz tests/helpers \
	--include='*.c' --include='*.h' || true)
if [ -n "$hits" ]; then
	echo "banned functions used (see scripts/check-banned.sh for why and what to use):" >&2
	echo "$hits" >&2
	exit 1
fi
