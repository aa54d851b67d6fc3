# SPDX-License-Identifier: GPL-2.0-or-later
#
# repo.sh - for the backup tests (sourced after lib.sh): a repository in the
# scratch folder, a fast password hash, and test data made at test time.

export LIFEBOAT_REPOSITORY="$TRASH/repo"
export LIFEBOAT_PASSWORD="correct horse battery staple"
export LIFEBOAT_KDF_FAST=1 # Argon2id at its minimum cost: the tests make many repositories

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

# stored_bytes: what the repository holds, in bytes
stored_bytes() {
	du -sb "$LIFEBOAT_REPOSITORY" | cut -f1
}

# snap_id NAME: the full ID of the newest snapshot of NAME
snap_id() {
	lb snapshots --json --name "$1" | jq -r '.snapshots[-1].id'
}
