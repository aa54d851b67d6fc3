#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What only an S3 repository has (against a real Ceph RGW; 'make check-s3'):
# connection reuse, multipart uploads (none left behind), paged listings,
# wrong or missing credentials, a missing bucket, an unreachable endpoint,
# --s3-endpoint, virtual-host addressing, create-only at the server (two
# inits race: one wins), the gateway killed (SIGKILL) and restarted in the
# middle of a backup, frozen (SIGSTOP: timeouts), down past the retries.
. "$(dirname "$0")/lib.sh"
if [ "${LB_TEST_STORE:-local}" != s3 ]; then
	test_skip 'S3 tests' 'run them with make check-s3 (LB_TEST_STORE=s3)'
	test_done
fi
. "$LB_SRCDIR/tests/e2e/repo.sh"

test_expect_success 'init, back up and restore on S3; nothing but the repository under the prefix' '
	lb init >/dev/null &&
	mk_data_image a.img 24 one && lb backup a.img >/dev/null &&
	lb restore a@latest --target a.out && test "$(sha a.out)" = "$(sha a.img)" &&
	repo_objects repo | grep -qx config &&
	test -z "$(repo_objects repo | grep -v "^\(config\|keys/.*\|data/../.*\|index/.*\|snapshots/.*\)$")"
'

test_expect_success 'connections are kept and reused (LIFEBOAT_S3_TRACE shows libcurl at work)' '
	rm -f a.out && LIFEBOAT_S3_TRACE=1 lb restore a@latest --target a.out 2>trace &&
	test "$(sha a.out)" = "$(sha a.img)" &&
	requests=$(grep -c "^> [A-Z]* /" trace) && connects=$(grep -c "Connected to" trace) &&
	say "$requests requests over $connects connections" &&
	test "$requests" -ge 10 && test "$connects" -ge 1 &&
	test "$connects" -le $(( $(nproc) + 4 )) && test $((connects * 3)) -lt "$requests" &&
	grep -q "x-amz-content-sha256: e3b0c442" trace && grep -q "^Authorization: AWS4-HMAC-SHA256" trace
'

test_expect_success 'a big object goes up in parts; no multipart upload is left behind' '
	truncate -s 64M big.img &&
	openssl enc -aes-128-ctr -pass pass:big -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 40000000 | dd of=big.img bs=1M seek=4 conv=notrunc status=none &&
	lb backup big.img >/dev/null &&
	big=$(repo_list repo data/ | sort -k2 -n | tail -1 | cut -d" " -f2) &&
	test "$big" -gt $((8 << 20)) &&
	s3curl GET "/$LB_S3_BUCKET?uploads=" >uploads.xml &&
	! grep -q "<Upload>" uploads.xml &&
	lb restore big@latest --target big.out && test "$(sha big.out)" = "$(sha big.img)"
'

test_expect_success 'listings come in pages (continuation tokens): the same with 2 keys a page' '
	test "$(repo_objects repo | wc -l)" -gt 6 &&
	lb snapshots --json >s1.json && lb check >c1.out &&
	LIFEBOAT_S3_LIST_PAGE=2 lb snapshots --json >s2.json &&
	LIFEBOAT_S3_LIST_PAGE=2 LIFEBOAT_S3_TRACE=1 lb check >c2.out 2>trace2 &&
	cmp s1.json s2.json && cmp c1.out c2.out &&
	grep -q "continuation-token=" trace2
'

test_expect_success 'an object over the size its reader allows: refused in one GET, nothing else changes' '
	head -c $((17 << 20)) /dev/zero >big.snap &&
	name=snapshots/$(printf "%064d" 0) &&
	repo_put repo "$name" big.snap &&
	( set +e; lb snapshots >out 2>err; echo $? >code ) &&
	repo_rm repo "$name" &&
	test "$(cat code)" = 1 && error_line err && grep_q "more than the 16777216 bytes allowed" err &&
	lb snapshots >/dev/null
'

test_expect_success 'a wrong secret, an unknown key id, no credentials: exit 4, what to check' '
	AWS_SECRET_ACCESS_KEY=wrong expect_code 4 lb snapshots &&
	error_line err && grep_q "SignatureDoesNotMatch" err && grep_q "AWS_SECRET_ACCESS_KEY" err &&
	AWS_ACCESS_KEY_ID=nobody expect_code 4 lb snapshots &&
	error_line err && grep_q "InvalidAccessKeyId" err && grep_q "AWS_ACCESS_KEY_ID" err &&
	(unset AWS_ACCESS_KEY_ID; expect_code 4 lb snapshots) &&
	error_line err && grep_q "no S3 credentials" err &&
	AWS_SECRET_ACCESS_KEY=wrong expect_code 4 lb backup a.img &&
	test "$(lb snapshots --json | jq ".snapshots | length")" = 2
'

test_expect_success 'a missing bucket: exit 4, the bucket named; a bad bucket name: exit 1' '
	LIFEBOAT_REPOSITORY=s3://nosuchbucket/repo expect_code 4 lb snapshots &&
	error_line err && grep_q "no bucket .nosuchbucket." err &&
	LIFEBOAT_REPOSITORY=s3://nosuchbucket/repo expect_code 4 lb init &&
	error_line err && grep_q "create the bucket" err &&
	LIFEBOAT_REPOSITORY=s3://x/repo expect_code 1 lb snapshots &&
	error_line err && grep_q "not a bucket name" err
'

test_expect_success 'init refuses a prefix that holds other objects, and an existing repository' '
	printf junk >junk && s3_put "$LB_S3_BUCKET" other/file junk &&
	LIFEBOAT_REPOSITORY=$(repo_url other) expect_code 1 lb init &&
	error_line err && grep_q "no repository" err && grep_q "empty prefix" err &&
	expect_code 1 lb init && grep_q "a repository exists here already" err
'

test_expect_success 'two inits of one prefix at the same time: exactly one wins (create-only)' '
	for i in 1 2 3; do
		R=$(repo_url race$i)
		( set +e; LIFEBOAT_REPOSITORY=$R lb init >i1.out 2>&1; echo $? >i1.code ) &
		( set +e; LIFEBOAT_REPOSITORY=$R lb init >i2.out 2>&1; echo $? >i2.code ) &
		wait &&
		codes="$(cat i1.code) $(cat i2.code)" &&
		{ test "$codes" = "0 1" || test "$codes" = "1 0" || { say "exit codes: $codes"; return 1; }; } &&
		LIFEBOAT_REPOSITORY=$R lb snapshots >/dev/null || return 1
	done
'

test_expect_success '--s3-endpoint instead of AWS_ENDPOINT_URL; an endpoint that is down: exit 7' '
	ep=$AWS_ENDPOINT_URL &&
	(unset AWS_ENDPOINT_URL; lb snapshots --s3-endpoint "$ep" >s.out) && grep_q "^[0-9a-f]\{8\} " s.out &&
	port=$(rgw_free_port) &&
	LIFEBOAT_S3_RETRIES=1 expect_code 7 lb snapshots --s3-endpoint http://127.0.0.1:$port &&
	error_line err && grep_q "127.0.0.1:$port" err && grep_q "reachable" err &&
	expect_code 1 lb snapshots --s3-endpoint ftp://127.0.0.1 && error_line err
'

test_expect_success 'virtual-host addressing (BUCKET.localhost)' '
	vep=$(echo "$AWS_ENDPOINT_URL" | sed "s/127.0.0.1/localhost/") &&
	AWS_ENDPOINT_URL=$vep LIFEBOAT_S3_ADDRESSING=virtual lb snapshots >v.out &&
	grep_q "^[0-9a-f]\{8\} " v.out &&
	AWS_ENDPOINT_URL=$vep LIFEBOAT_S3_ADDRESSING=sideways expect_code 1 lb snapshots &&
	error_line err && grep_q "LIFEBOAT_S3_ADDRESSING" err
'

test_expect_success 'the gateway killed and restarted during a backup: retried through, or a clear failure; nothing lost' '
	repo_copy repo repo.k && K=$(repo_url repo.k) &&
	truncate -s 400M huge.img &&
	openssl enc -aes-128-ctr -pass pass:huge -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
		head -c 300000000 | dd of=huge.img bs=1M seek=8 conv=notrunc status=none &&
	before=$(repo_objects repo.k data/ | wc -l)
	( set +e; LIFEBOAT_REPOSITORY=$K "$LIFEBOAT" backup huge.img >bk.out 2>bk.err; echo $? >bk.code ) &
	bg=$!
	n=0 && while [ "$(repo_objects repo.k data/ | wc -l)" -le "$before" ]; do
		n=$((n + 1)) && test $n -lt 600 && sleep 0.1 || return 1
	done &&
	test ! -s bk.code &&
	rgw_kill_gateway && ! rgw_answers && rgw_start_gateway &&
	wait $bg &&
	code=$(cat bk.code) &&
	say "backup exit status: $code" && cat bk.err &&
	{ test "$code" = 0 || { test "$code" -ne 137 && error_line bk.err; }; } &&
	rm -f a.out && LIFEBOAT_REPOSITORY=$K lb restore a@latest --target a.out &&
	test "$(sha a.out)" = "$(sha a.img)" &&
	LIFEBOAT_REPOSITORY=$K lb check --read-data >/dev/null 2>ck.err || grep -q "not in any index" ck.err &&
	LIFEBOAT_REPOSITORY=$K lb backup huge.img >/dev/null &&
	LIFEBOAT_REPOSITORY=$K lb restore huge@latest --target huge.out &&
	test "$(sha huge.out)" = "$(sha huge.img)"
'

test_expect_success 'the gateway frozen (SIGSTOP): requests time out and are retried until it answers again' '
	rm -f fz.code &&
	kill -STOP "$(cat "$RGW_DIR/gw.pid")"
	( set +e; LIFEBOAT_S3_TIMEOUT=1 LIFEBOAT_S3_TRACE=1 lb snapshots >fz.out 2>fz.err; echo $? >fz.code ) &
	bg=$!
	n=0 && while ! grep -q "Operation too slow\|timed out" fz.err 2>/dev/null; do
		n=$((n + 1)) && test $n -lt 300 && sleep 0.1 || { kill -CONT "$(cat "$RGW_DIR/gw.pid")"; return 1; }
	done
	kill -CONT "$(cat "$RGW_DIR/gw.pid")" &&
	wait $bg &&
	test "$(cat fz.code)" = 0 && grep_q "^[0-9a-f]\{8\} " fz.out
'

test_expect_success 'the gateway down for longer than the retries: a clear failure (exit 7); a re-run completes' '
	K=$(repo_url repo.k) &&
	mk_data_image d.img 24 down &&
	rgw_kill_gateway &&
	LIFEBOAT_REPOSITORY=$K LIFEBOAT_S3_RETRIES=2 expect_code 7 lb backup d.img &&
	error_line err && grep_q "reachable" err &&
	rgw_start_gateway &&
	LIFEBOAT_REPOSITORY=$K lb backup d.img >/dev/null &&
	LIFEBOAT_REPOSITORY=$K lb restore d@latest --target d.out && test "$(sha d.out)" = "$(sha d.img)"
'

test_done
