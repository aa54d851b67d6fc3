# SPDX-License-Identifier: GPL-2.0-or-later
#
# repo.sh - for the backup tests (sourced after lib.sh): a repository in the
# scratch folder, a fast password hash, and test data made at test time.
#
# LB_TEST_STORE selects where repositories live: "local" (the default: folders
# in the scratch folder) or "s3" (a real Ceph RGW started for this script, see
# rgw.sh; 'make check-s3'). Tests name repositories (repo, repo.k, r2, ...)
# and reach them through the repo_* helpers below, so the same tests run on
# both.

export LIFEBOAT_PASSWORD="correct horse battery staple"
export LIFEBOAT_KDF_FAST=1 # Argon2id at its minimum cost: the tests make many repositories
LB_TEST_STORE=${LB_TEST_STORE:-local}
LB_S3_BUCKET=lbtest

case $LB_TEST_STORE in
local) ;;
s3)
	. "$LB_SRCDIR/tests/e2e/rgw.sh"
	if ! rgw_start || ! rgw_bucket "$LB_S3_BUCKET"; then
		say "could not start Ceph RGW (logs: ${RGW_DIR:-?}/log)"
		say "0 passed, 1 failed"
		exit 1
	fi
	;;
*)
	say "LB_TEST_STORE must be local or s3, not '$LB_TEST_STORE'"
	exit 1
	;;
esac

# repo_url NAME: the URL of the test repository NAME
repo_url() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		echo "s3://$LB_S3_BUCKET/$1"
	else
		echo "$TRASH/$1"
	fi
}

LIFEBOAT_REPOSITORY=$(repo_url repo)
export LIFEBOAT_REPOSITORY

# repo_list NAME [PREFIX]: "OBJECT SIZE" for each object of repository NAME,
# sorted by name
repo_list() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		s3_list "$LB_S3_BUCKET" "$1/${2:-}" | sed "s|^$1/||" | cut -d' ' -f1,2 | sort
	else
		[ -d "$TRASH/$1" ] || return 0
		(cd "$TRASH/$1" && find . -type f -path "./${2:-}*" -printf '%P %s\n' | sort)
	fi
}

# repo_objects NAME [PREFIX]: the object names only
repo_objects() {
	repo_list "$@" | cut -d' ' -f1
}

# repo_oldest NAME PREFIX: the object written first
repo_oldest() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		s3_list "$LB_S3_BUCKET" "$1/$2" | sort -k3 | head -1 | cut -d' ' -f1 | sed "s|^$1/||"
	else
		(cd "$TRASH/$1" && ls -tr $(find "$2" -type f) | head -1)
	fi
}

# repo_get NAME OBJECT FILE / repo_put NAME OBJECT FILE (replaces it: for
# tests that damage a repository) / repo_rm NAME OBJECT
repo_get() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		s3_get "$LB_S3_BUCKET" "$1/$2" "$3"
	else
		cp "$TRASH/$1/$2" "$3"
	fi
}
repo_put() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		s3_put "$LB_S3_BUCKET" "$1/$2" "$3"
	else
		cat "$3" >"$TRASH/$1/$2"
	fi
}
repo_rm() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		s3_rm "$LB_S3_BUCKET" "$1/$2"
	else
		rm -f "$TRASH/$1/$2"
	fi
}

# repo_copy FROM TO: TO becomes a copy of repository FROM (what was there goes)
repo_copy() {
	if [ "$LB_TEST_STORE" = s3 ]; then
		for o in $(repo_objects "$2"); do
			s3_rm "$LB_S3_BUCKET" "$2/$o" || return 1
		done
		for o in $(repo_objects "$1"); do
			s3_copy "$LB_S3_BUCKET" "$1/$o" "$2/$o" || return 1
		done
	else
		rm -rf "${TRASH:?}/$2" && cp -a "$TRASH/$1" "$TRASH/$2"
	fi
}

# repo_sums NAME: "SHA256 OBJECT" for every object, sorted
repo_sums() {
	for o in $(repo_objects "$1"); do
		repo_get "$1" "$o" "$TRASH/.obj" || return 1
		printf '%s %s\n' "$(sha "$TRASH/.obj")" "$o"
	done
	rm -f "$TRASH/.obj"
}

# mk_data_image FILE SIZE_MIB SEED: a sparse raw image: random, text-like and
# zero regions at fixed places, holes elsewhere (deterministic for a SEED)
mk_data_image() {
	rm -f "$1"
	truncate -s "${2}M" "$1"
	openssl enc -aes-128-ctr -pass "pass:$3" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 3145728 | dd of="$1" bs=1M seek=1 conv=notrunc status=none
	i=0
	while [ $i -lt 3000 ]; do
		echo "seed $3 line $i: the quick brown fox jumps over the lazy dog"
		i=$((i + 1))
	done | dd of="$1" bs=1M seek=6 conv=notrunc status=none
	dd if=/dev/zero of="$1" bs=1M seek=9 count=2 conv=notrunc status=none
}

# poke FILE OFFSET STRING: overwrite bytes in place
poke() {
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# stored_bytes: what the repository "repo" holds, in bytes
stored_bytes() {
	repo_list repo | awk '{ n += $2 } END { print n + 0 }'
}

# snap_id NAME: the full ID of the newest snapshot of NAME
snap_id() {
	lb snapshots --json --name "$1" | jq -r '.snapshots[-1].id'
}
