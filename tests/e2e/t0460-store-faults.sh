#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The store fault wrapper (LIFEBOAT_STORE_FAULT, src/store/fault.h) fails
# chosen object operations and returns corrupted bytes. A backup that meets
# one stops with a clear error and leaves no snapshot and no partial object;
# restore and check name the damaged object; no command crashes.
. "$(dirname "$0")/lib.sh"
if [ "${LB_TEST_STORE:-local}" = s3 ]; then
	# the wrapper sits above every store; these tests edit the repository folder directly
	test_skip 'store faults on S3' 'they run on a local repository in make check'
	test_done
fi
. "$LB_SRCDIR/tests/e2e/repo.sh"

# snaps [REPO]: how many snapshots the repository lists
snaps() {
	LIFEBOAT_REPOSITORY=${1:-$LIFEBOAT_REPOSITORY} lb snapshots --json | jq '.snapshots | length'
}

test_expect_success 'a repository with one image and one folder snapshot' '
	lb init >/dev/null &&
	mk_data_image a.img 16 one && lb backup a.img >/dev/null &&
	mkdir tree && echo hello >tree/small &&
	openssl enc -aes-128-ctr -pass pass:tree -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 300000 >tree/big &&
	lb backup --name tree tree >/dev/null &&
	mk_data_image b.img 16 two &&
	test "$(snaps)" = 2
'

for spec in 'put-error=data/*' 'put-error=data/*#1/ENOSPC' 'write-error=data/*#2' \
	'write-error=data/*#1/ENOSPC' 'put-error=index/*' 'put-error=snapshots/*' \
	'put-error=snapshots/*/ENOSPC' 'list-error=index/' 'get-error=config' 'get-error=keys/*' \
	'corrupt=keys/*' 'truncate=index/*' 'get-error=index/*/EACCES'; do
	test_expect_success "backup with $spec: a clear error, no snapshot, nothing half-written" "
		rm -rf r.f && cp -a repo r.f &&
		find r.f -type f | sort >before &&
		LIFEBOAT_REPOSITORY=\$TRASH/r.f LIFEBOAT_STORE_FAULT='$spec' \\
			expect_code_in '4 5 7' lb backup --name b b.img &&
		error_line err &&
		test \"\$(snaps \$TRASH/r.f)\" = 2 &&
		test -z \"\$(find r.f -name \"*.tmp.*\")\" &&
		find r.f/snapshots -type f | sort >s.after &&
		grep -F -f s.after before >/dev/null &&
		test \"\$(wc -l <s.after)\" = 2 &&
		LIFEBOAT_REPOSITORY=\$TRASH/r.f lb check --read-data >/dev/null 2>check.err ||
			grep -q 'not in any index' check.err &&
		rm -f a.out && LIFEBOAT_REPOSITORY=\$TRASH/r.f lb restore a@latest --target a.out >/dev/null &&
		test \"\$(sha a.out)\" = \"\$(sha a.img)\" &&
		LIFEBOAT_REPOSITORY=\$TRASH/r.f lb backup --name b b.img >/dev/null &&
		rm -f b.out && LIFEBOAT_REPOSITORY=\$TRASH/r.f lb restore b@latest --target b.out >/dev/null &&
		test \"\$(sha b.out)\" = \"\$(sha b.img)\"
	"
done

test_expect_success 'the injected errors read like real ones' '
	rm -rf r.f && cp -a repo r.f &&
	LIFEBOAT_REPOSITORY=$TRASH/r.f LIFEBOAT_STORE_FAULT="put-error=data/*/ENOSPC" \
		expect_code 7 lb backup --name b b.img &&
	grep_q "^lifeboat: backup: b.img: .*: no space left writing data/[0-9a-f][0-9a-f]/[0-9a-f]* (injected); free space" err &&
	LIFEBOAT_REPOSITORY=$TRASH/r.f LIFEBOAT_STORE_FAULT="put-error=data/*" \
		expect_code 7 lb backup --name b b.img &&
	grep_q "writing data/.*: Input/output error (injected); check the storage" err
'

test_expect_success 'a bad LIFEBOAT_STORE_FAULT is named' '
	LIFEBOAT_STORE_FAULT="rename-error=x" expect_code_in "1 2" lb snapshots &&
	error_line err &&
	grep_q "LIFEBOAT_STORE_FAULT: cannot parse store fault rule .rename-error=x." err
'

pack=""
test_expect_success 'restore of an image through corrupted pack reads: exit 5, the pack named' '
	rm -f a.out &&
	LIFEBOAT_STORE_FAULT="corrupt=data/*" expect_code 5 lb restore a@latest --target a.out &&
	error_line err &&
	grep_q "lifeboat: restore: .*data/[0-9a-f][0-9a-f]/[0-9a-f]*: frame [0-9]*: .*; run .lifeboat check." err
'

test_expect_success 'restore when a pack read fails: exit 7, the object named' '
	rm -f a.out &&
	LIFEBOAT_STORE_FAULT="get-error=data/*#2" expect_code 7 lb restore a@latest --target a.out &&
	error_line err && grep_q "reading data/.*(injected)" err &&
	rm -f a.out && LIFEBOAT_STORE_FAULT="truncate=data/*" expect_code 5 lb restore a@latest --target a.out &&
	error_line err && grep_q "data/.*: the object is shorter than expected" err
'

test_expect_failure 'restore of an image names the damaged byte range of the disk (restore.c)' '
	rm -f a.out &&
	LIFEBOAT_STORE_FAULT="corrupt=data/*" expect_code 5 lb restore a@latest --target a.out &&
	grep -q "bytes [0-9]*-[0-9]*\|range" err
'

test_expect_success 'a failed image restore leaves no target behind' '
	rm -f a.out &&
	LIFEBOAT_STORE_FAULT="corrupt=data/*" expect_code 5 lb restore a@latest --target a.out &&
	! test -e a.out
'

test_expect_failure 'restore of a folder names the damaged file and restores the others (restore.c)' '
	rm -rf t.out &&
	LIFEBOAT_STORE_FAULT="corrupt=data/*#2" expect_code 5 lb restore tree@latest --target t.out &&
	grep -q "big\|small" err && test -e t.out/small -o -e t.out/big
'

test_expect_success 'check --read-data through corrupted reads names the damaged pack and snapshot' '
	LIFEBOAT_STORE_FAULT="corrupt=data/*" expect_code 5 lb check --read-data &&
	grep_q "^lifeboat: check: pack [0-9a-f]\{16\}: " err &&
	grep_q "snapshot [0-9a-f]* (a): .*damaged pack" err &&
	grep_q "[0-9] damaged pack" err &&
	LIFEBOAT_STORE_FAULT="get-error=data/*#1" expect_code 5 lb check --read-data &&
	grep_q "^lifeboat: check: pack [0-9a-f]\{16\}: reading data/" err &&
	LIFEBOAT_STORE_FAULT="corrupt=index/*" expect_code 5 lb check &&
	grep_q "the index: the content does not match its name" err &&
	lb check --read-data >/dev/null
'

# every command against every kind of fault: an exit status the tool chose,
# never a crash (a signal, or a sanitizer report: exit 1 with no message)
test_expect_success 'no command crashes, whatever the store does' '
	for spec in "get-error=*" "corrupt=*" "truncate=*" "list-error=*" "stat-error=*" \
		"corrupt=snapshots/*" "corrupt=index/*" "corrupt=data/*#2" "get-error=snapshots/*/ENOENT" \
		"put-error=*" "write-error=*/ENOSPC" "delete-error=*"; do
		for cmd in "snapshots" "snapshots --json" "check" "check --read-data" \
			"restore a@latest --target x.out" "restore tree@latest --target x.dir" \
			"backup --name c b.img" "backup --name t2 tree"; do
			rm -rf x.out x.dir r.f && cp -a repo r.f &&
			LIFEBOAT_REPOSITORY=$TRASH/r.f LIFEBOAT_STORE_FAULT="$spec" lb $cmd >/dev/null 2>err.any
			code=$?
			if [ $code -ge 128 ] || grep -q "Sanitizer\|runtime error" err.any ||
				{ [ $code -ne 0 ] && ! grep -q "^lifeboat: " err.any; }; then
				say "$spec: lifeboat $cmd: exit $code"; cat err.any; return 1
			fi
		done
	done
'

test_done
