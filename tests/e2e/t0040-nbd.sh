#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# NBD: inspect an image exported by a running qemu-nbd (nbd+unix:// URI),
# and images that a running VM (stood in for by a writable qemu-nbd) holds
# locked: refused with exit 6 and a clear message, read with --force-share.
#
# The servers are children of this script (started outside the test
# bodies), so they are killed by PID and reaped with wait; nothing sleeps.
. "$(dirname "$0")/lib.sh"

servers=""
trap 'for p in $servers; do kill "$p" 2>/dev/null; done' EXIT

# serve NAME QEMU_FORMAT IMAGE [QEMU_NBD_OPTION...]: start a qemu-nbd on the
# unix socket $PWD/NAME.sock in the background; its PID is in $pid_NAME
serve() {
	name=$1 fmt=$2 img=$3
	shift 3
	rm -f "$name.sock"
	qemu-nbd --persistent -f "$fmt" -k "$PWD/$name.sock" "$@" "$PWD/$img" >"$name.log" 2>&1 &
	eval "pid_$name=$!"
	servers="$servers $!"
}

# listening NAME: wait until the server made its socket (a bounded loop on
# test -S, with no sleep: this waits for an event, it times nothing)
listening() {
	n=0
	while [ ! -S "$1.sock" ]; do
		n=$((n + 1))
		if [ $n -gt 5000000 ]; then
			say "qemu-nbd did not listen on $1.sock:"
			cat "$1.log"
			return 1
		fi
	done
}

# stop NAME: kill the server by its PID and reap it
stop() {
	eval "kill \$pid_$1 && wait \$pid_$1"
	true
}

mk_small_gpt disk.img && convert disk.img qcow2 disk.qcow2 && serve ro qcow2 disk.qcow2 --read-only -x disk

test_expect_success 'setup: a GPT disk as qcow2, exported read-only by qemu-nbd' '
	lb inspect --json disk.qcow2 >direct.json &&
	listening ro
'

uri="nbd+unix:///disk?socket=$PWD/ro.sock"

test_expect_success 'inspect nbd+unix://: the disk, as qemu-nbd serves it' '
	expect_code 0 lb inspect --json "$uri" &&
	test ! -s err &&
	json_expect ".images[0].path" "$uri" &&
	json_expect ".images[0].ok" true &&
	json_expect ".images[0].format" nbd &&
	json_expect ".images[0].subformat" null &&
	json_expect ".images[0].virtual_size" $((40 << 20)) &&
	json_expect ".images[0].file_size" 0 &&
	json_expect ".images[0].data_allocated > 0" true &&
	json_expect ".images[0].data_allocated < $((40 << 20))" true &&
	json_expect ".images[0].partition_table.type" gpt &&
	json_expect ".images[0].partition_table.disk_guid" "$(disk_guid disk.img)" &&
	json_expect "[.images[0].partitions[].filesystem.type] | join(\",\")" fat16,ntfs,ext2 &&
	json_expect "[.images[0].partitions[].filesystem.label] | join(\",\")" ESP,Data,small &&
	json_expect ".images[0].partitions[1].filesystem.dirty" false &&
	json_expect ".images[0].partitions[1].filesystem.hibernated" false &&
	json_check out
'

test_expect_success 'through NBD the disk reads the same as the image file' '
	filter=".images[0] | {partition_table, partitions, notes}" &&
	jq -S "$filter" direct.json >direct.view &&
	jq -S "$filter" out >nbd.view &&
	cmp direct.view nbd.view
'

test_expect_success 'text output for an NBD disk: no file line' '
	expect_code 0 lb inspect "$uri" &&
	grep_q "^  format       nbd\$" out &&
	grep_q "^  disk size    40.0 MiB (41943040 bytes)\$" out &&
	! grep -q "^  file " out &&
	grep_q "^  2   9.00 MiB   16.0 MiB   Microsoft basic data   ntfs \"Data\"" out
'

test_expect_success 'the image file is inspected directly while a read-only server has it' '
	expect_code 0 lb inspect --json disk.qcow2 &&
	json_is out ".images[0].partition_table.type" gpt
'

test_expect_success 'an export the server does not have: exit 4' '
	expect_code 4 lb inspect "nbd+unix:///nothing?socket=$PWD/ro.sock" &&
	error_line err &&
	grep_q "^lifeboat: inspect: nbd+unix:///nothing?socket=$PWD/ro.sock: cannot connect: .*nothing.*; check that the NBD server is running" err
'

test_expect_success 'a socket nobody listens on: exit 4' '
	expect_code 4 lb inspect --json "nbd+unix:///disk?socket=$PWD/nobody.sock" &&
	error_line err &&
	grep_q "cannot connect: " err &&
	json_is out ".images[0].error.exit_code" 4
'

test_expect_success 'a TCP port nobody listens on: exit 4 (connection refused)' '
	expect_code 4 lb inspect --json "nbd://127.0.0.1:1/disk" &&
	error_line err &&
	json_is out ".images[0].error.code" ECONNREFUSED
'

cp disk.qcow2 busy.qcow2 && cp disk.img busy.img && convert disk.img vhd-fixed busy.vhd &&
	serve rwq qcow2 busy.qcow2 && serve rwr raw busy.img && serve rwv vpc busy.vhd

test_expect_success 'setup: a qcow2, a raw and a fixed VHD in use by writable servers' '
	listening rwq && listening rwr && listening rwv
'

test_expect_success 'a qcow2 in use: exit 6, the lock named, --force-share suggested' '
	before=$(fingerprint busy.qcow2) &&
	expect_code 6 lb inspect busy.qcow2 &&
	error_line err &&
	grep_q "^lifeboat: inspect: busy.qcow2: the image is in use by another process (a running VM?): qemu: .*lock" err &&
	grep_q "; stop the VM that uses it first; to read it anyway, pass --force-share" err &&
	test ! -s out &&
	expect_code 6 lb inspect --json busy.qcow2 &&
	json_is out ".images[0].error.code" EBUSY &&
	json_is out ".images[0].error.exit_code" 6 &&
	test "$before" = "$(fingerprint busy.qcow2)"
'

test_expect_success 'a raw image and a fixed VHD in use: exit 6 as well' '
	expect_code 6 lb inspect busy.img &&
	error_line err &&
	grep_q "^lifeboat: inspect: busy.img: the image is in use by another process (a running VM?): it holds qemu.s write lock; .*--force-share" err &&
	expect_code 6 lb inspect busy.vhd &&
	error_line err
'

test_expect_success 'with --force-share (-U) they are read anyway' '
	before=$(fingerprint busy.qcow2) &&
	expect_code 0 lb inspect --force-share --json busy.qcow2 busy.img busy.vhd &&
	test ! -s err &&
	json_expect ".summary.ok" 3 &&
	json_expect "[.images[].partitions[1].filesystem.label] | join(\",\")" Data,Data,Data &&
	json_check out &&
	expect_code 0 lb inspect -U busy.img &&
	test "$before" = "$(fingerprint busy.qcow2)"
'

for n in ro rwq rwr rwv; do
	stop $n
done
servers=""

test_expect_success 'the servers were killed by PID: sockets gone' '
	for n in ro rwq rwr rwv; do
		test ! -e $n.sock || return 1
	done
'

test_expect_success 'once the VM is gone, the images open without --force-share' '
	expect_code 0 lb inspect busy.qcow2 busy.img busy.vhd
'

test_done
