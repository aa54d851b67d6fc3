#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Backing up file trees and restoring them with their metadata: modes,
# owners, nanosecond times, symlinks, hard links, sparse files, extended
# attributes, fifos; content-defined chunks so that an insertion stores
# little; unreadable entries reported, the rest saved.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/repo.sh"

# describe DIR: every entry's type, mode, size, mtime (ns), link count, owner,
# target and xattrs, relative to DIR, sorted (not atime/ctime/inode numbers)
describe() {
	(cd "$1" && find . -printf '%y %m %s %T@ %n %U:%G %l %p\n' | grep -v '^d .* \.$' | sort &&
		getfattr -R -d -m user. . 2>/dev/null | grep -v '^$' | sort)
}

test_expect_success 'make a tree with every kind of entry' '
	lb init >/dev/null &&
	mkdir -p src/sub/deeper "src/ünïcode dir" src/empty &&
	printf "hello\n" >src/a.txt &&
	openssl enc -aes-128-ctr -pass pass:big -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 9000000 >src/sub/big.bin &&
	truncate -s 50M src/sparse && poke src/sparse 30000000 middle && poke src/sparse 52428790 end &&
	ln -s a.txt src/link && ln -s /nonexistent/target src/dangling &&
	ln src/a.txt src/sub/hardlink &&
	mkfifo src/fifo &&
	chmod 0750 src/sub && chmod 4755 src/sub/big.bin && chmod 0600 src/a.txt &&
	setfattr -n user.color -v blue src/a.txt && setfattr -n user.empty src/sub/big.bin &&
	printf "x" >"src/ünïcode dir/fïle" &&
	touch -h -d "1999-12-31 23:59:59.123456789" src/link &&
	touch -d "2001-02-03 04:05:06.987654321" src/sub/deeper &&
	touch -d "1969-07-20 20:17:40.5" src/old &&
	chown 1234:5678 src/old &&
	describe src >src.desc && test -s src.desc
'

test_expect_success 'back up and restore: identical content and metadata' '
	lb backup --json src >b.json &&
	json_is b.json ".snapshots[0].kind" files &&
	test "$(jq -r ".snapshots[0].bytes_skipped" b.json)" -ge $((40 << 20)) &&
	lb restore src@latest --target dst &&
	describe dst >out.desc &&
	diff src.desc out.desc &&
	cmp src/sub/big.bin dst/sub/big.bin && cmp src/sparse dst/sparse &&
	test "$(stat -c %i dst/a.txt)" = "$(stat -c %i dst/sub/hardlink)" &&
	test "$(du -k dst/sparse | cut -f1)" -lt 200 &&
	test "$(readlink dst/dangling)" = /nonexistent/target &&
	test -p dst/fifo
'

test_expect_success 'ls, cat and find read a file-tree snapshot in place' '
	lb ls src@latest >ls.out &&
	grep_q "file tree (snapshot of src): /" ls.out &&
	grep -q "a.txt$" ls.out && grep -q "link -> a.txt$" ls.out && grep -q " sub$" ls.out &&
	! grep -q "big.bin" ls.out &&
	lb ls -l src@latest sub >lsl.out && grep -q "^-rwsr-xr-x .* 9000000 .*big.bin$" lsl.out &&
	lb cat src@latest sub/big.bin | cmp - src/sub/big.bin &&
	lb cat src@latest sparse | cmp - src/sparse &&
	lb cat src@latest "ünïcode dir/fïle" >f.out && test "$(cat f.out)" = x &&
	lb find src@latest --name "*.bin" >find.out && test "$(cat find.out | cut -d" " -f1)" = 0:sub/big.bin &&
	lb find --json src@latest --type d >findd.json &&
	test "$(jq -r "[.matches[].path] | sort | join(\",\")" findd.json)" = "empty,sub,sub/deeper,ünïcode dir" &&
	lb ls --json src@latest sub >lsj.json && json_is lsj.json ".volumes[0].filesystem" files &&
	test "$(jq -r ".volumes[0].entries[] | select(.name == \"big.bin\") | .mode" lsj.json)" = 4755
'

test_expect_success 'a file-tree snapshot: missing path (exit 4), a folder to cat, no disk to inspect' '
	expect_code 4 lb ls src@latest no/such && grep_q "no such file or folder in the snapshot" err &&
	expect_code 4 lb cat src@latest sub && grep_q "sub" err &&
	expect_code 5 lb inspect src@latest && grep_q "file-tree snapshot has no disk" err &&
	expect_code 4 lb ls --partition 2 src@latest && grep_q "no partitions" err
'

test_expect_success 'owners are restored when run as root' '
	test "$(id -u)" != 0 || test "$(stat -c %u:%g dst/old)" = 1234:5678
'

test_expect_success 'an insertion near the start of a big file stores only a chunk or two' '
	{ printf "INSERTED"; cat src/sub/big.bin; } >big2 && mv big2 src/sub/big.bin &&
	lb backup --json src >i.json &&
	test "$(jq -r ".snapshots[0].bytes_new" i.json)" -lt $((3 << 20)) &&
	lb restore src@latest --target dst2 && cmp src/sub/big.bin dst2/sub/big.bin
'

test_expect_success 'an unreadable file is reported and skipped; the rest is saved (exit 3)' '
	echo secret >src/locked && chmod 000 src/locked &&
	if [ "$(id -u)" = 0 ]; then
		# root reads everything: back up as nobody, who cannot read it
		{ [ "$LB_TEST_STORE" = s3 ] || chmod -R a+rwX repo; } &&
		chmod a+rx . src src/sub && chmod a+r src/a.txt &&
		as=$(command -v setpriv) && as="$as --reuid=nobody --regid=nogroup --clear-groups"
	else
		as=""
	fi &&
	expect_code 3 $as "$LIFEBOAT" backup --json src &&
	grep_q "could not be read" err &&
	json_is out ".snapshots[0].errors" 1 &&
	jq -r ".snapshots[0].first_error" out | grep -q "locked" &&
	chmod 600 src/locked
'

test_expect_success 'restoring into an existing folder needs --overwrite' '
	expect_code 1 lb restore src@latest --target dst && grep_q "overwrite" err
'

test_expect_success 'a folder whose tree blob is larger than a part (4 MiB) round-trips' '
	mkdir big && long=$(printf "%0200d" 0) &&
	(cd big && seq 1 16000 | sed "s/^/${long}_/" | xargs touch) &&
	echo last >"big/${long}_16000" &&
	lb backup --json --name bigdir big >bd.json &&
	lb restore bigdir@latest --target bigout &&
	test "$(ls bigout | wc -l)" = 16000 &&
	test "$(cat "bigout/${long}_16000")" = last &&
	lb check >/dev/null
'

test_done
