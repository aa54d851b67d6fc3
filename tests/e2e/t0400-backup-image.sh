#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Backing up disk images and restoring them: byte for byte (sha256), sparse,
# every image format, incremental backups that store only what changed,
# deduplication across VMs, and restoring to qcow2/VHD/VHDX.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/repo.sh"

test_expect_success 'init an encrypted repository' '
	lb init >out &&
	grep_q "encrypted" out &&
	repo_objects repo | grep -qx config && repo_objects repo keys/ | grep -q . &&
	expect_code 1 lb init && grep_q "a repository exists here already" err
'

test_expect_success 'back up a sparse raw image; restore it byte for byte, sparse' '
	mk_data_image a.img 64 one &&
	lb backup --json a.img >b.json &&
	json_is b.json ".snapshots[0].kind" image &&
	json_is b.json ".snapshots[0].virtual_size" 67108864 &&
	skipped=$(jq -r ".snapshots[0].bytes_skipped" b.json) &&
	test "$skipped" -ge $((50 << 20)) &&
	lb restore a@latest --target a.out &&
	test "$(sha a.out)" = "$(sha a.img)" &&
	test "$(du -k a.out | cut -f1)" -le $(( $(du -k a.img | cut -f1) + 64 ))
'

test_expect_success 'a size that is not a multiple of the chunk size, and an all-zero image' '
	truncate -s 10000123 odd.img && poke odd.img 10000000 tail-bytes && poke odd.img 5 head &&
	lb backup odd.img && lb restore odd@latest --target odd.out &&
	test "$(sha odd.out)" = "$(sha odd.img)" &&
	before=$(stored_bytes) &&
	truncate -s 32M zero.img && dd if=/dev/zero of=zero.img bs=1M count=8 conv=notrunc status=none &&
	lb backup --json zero.img >z.json &&
	json_is z.json ".snapshots[0].bytes_new" "$(jq -r ".snapshots[0].bytes_new" z.json)" &&
	test "$(jq -r ".snapshots[0].chunks_new" z.json)" -le 2 &&
	test $(( $(stored_bytes) - before )) -lt 65536 &&
	lb restore zero@latest --target zero.out && test "$(sha zero.out)" = "$(sha zero.img)"
'

test_expect_success 'an incremental backup stores only the changed chunks' '
	cp --sparse=always a.img a2.img &&
	for off in 1048576 2097152 3145728 4194304 7340032; do poke a2.img $off CHANGED || return 1; done &&
	lb backup --name a --json a2.img >inc.json &&
	new=$(jq -r ".snapshots[0].bytes_new" inc.json) &&
	test "$new" -le $((5 * 8192 + 40000)) &&
	lb restore a@latest --target a2.out &&
	test "$(sha a2.out)" = "$(sha a2.img)" &&
	id1=$(lb snapshots --json --name a | jq -r ".snapshots[0].id") &&
	lb restore "$id1" --target a1.out && test "$(sha a1.out)" = "$(sha a.img)"
'

test_expect_success 'two VMs made from one base image: the second stores almost nothing' '
	cp --sparse=always a.img vm1.img && cp --sparse=always a.img vm2.img &&
	poke vm2.img 2000000 vm2-only &&
	lb backup vm1.img >/dev/null &&
	before=$(stored_bytes) &&
	lb backup --json vm2.img >vm2.json &&
	test $(( $(stored_bytes) - before )) -lt 100000 &&
	test "$(jq -r ".snapshots[0].chunks_new" vm2.json)" -le 3
'

for fmt in qcow2 vhdx vmdk vpc; do
	test_expect_success "back up a $fmt image as the guest disk it holds" "
		qemu-img convert -O $fmt a.img a.$fmt &&
		qemu-img convert -f $fmt -O raw a.$fmt a.$fmt.raw &&
		lb backup --name fmt-$fmt a.$fmt &&
		lb restore fmt-$fmt@latest --target a.$fmt.out &&
		test \"\$(sha a.$fmt.out)\" = \"\$(sha a.$fmt.raw)\"
	"
done

for fmt in qcow2 vhd vhdx; do
	test_expect_success "restore --format $fmt writes that format, identical content" "
		lb restore a@latest --format $fmt --target r.$fmt &&
		qemu-img info r.$fmt | grep -q 'file format: \(qcow2\|vpc\|vhdx\)' &&
		qemu-img convert -O raw r.$fmt r.$fmt.raw &&
		cmp r.$fmt.raw a2.img
	"
done

test_expect_success 'an existing target is not overwritten without --overwrite' '
	sha a.out >s && expect_code 1 lb restore a@latest --target a.out &&
	error_format err && grep_q "overwrite" err && test "$(sha a.out)" = "$(cat s)" &&
	lb restore a@latest --overwrite --target a.out && test "$(sha a.out)" = "$(sha a2.img)"
'

test_expect_success 'snapshots --json lists them, oldest first, with their statistics' '
	lb snapshots --json >s.json &&
	test "$(jq ".snapshots | length" s.json)" -ge 8 &&
	json_is s.json ".encrypted" true &&
	jq -e "[.snapshots[].time] == ([.snapshots[].time] | sort)" s.json >/dev/null
'

test_expect_success 'check --read-data: no problems' '
	lb check --read-data >c.out && grep_q "no problems" c.out
'

test_expect_success 'check --read-data=PERCENT reads a random sample of that size, at least one pack' '
	lb check --read-data --json >all.json &&
	n=$(jq -r .packs all.json) && test "$n" -ge 2 &&
	json_is all.json .packs_read "$n" &&
	lb check --read-data=0.1 --json >one.json && json_is one.json .packs_read 1 &&
	lb check --read-data=50 --json >half.json &&
	json_is half.json .packs_read $(( (n + 1) / 2 )) &&
	expect_code 2 lb check --read-data=0
'

test_expect_success 'the sample differs between runs (packs of different sizes are read)' '
	repo_list repo data/ | cut -d" " -f2 | sort -u | wc -l >nsizes &&
	test "$(cat nsizes)" -ge 2 &&
	for i in $(seq 20); do
		lb check --read-data=0.1 --json | jq -r .bytes_read >>sizes || return 1
	done &&
	test "$(wc -l <sizes)" = 20 && test "$(sort -u sizes | wc -l)" -ge 2
'

test_done
