#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# inspect never changes an image: content (SHA-256), size, mtime and ctime
# are the same before and after, for every format, for images qemu-nbd
# serves and images lifeboat reads itself, for healthy and damaged ones.
. "$(dirname "$0")/lib.sh"

# fingerprint_all LIST OUT: SHA-256, size, mtime and ctime (to the
# nanosecond) of every file named in LIST (hashed two at a time)
fingerprint_all() {
	xargs -P 2 -n 4 sha256sum <"$1" | sort -k2 >"$2.sha" &&
	test "$(wc -l <"$2.sha")" -eq "$(wc -l <"$1")" &&
	xargs stat -c "%n %s %y %z" <"$1" | sort >"$2.stat" &&
	cat "$2.sha" "$2.stat" >"$2"
}

test_expect_success 'setup: GPT and MBR disks in every format, whole-disk volumes, odd cases' '
	mk_small_gpt gpt.img &&
	mk_small_mbr mbr.img &&
	for d in gpt mbr; do
		convert_all $d.img $d && echo $d.img || return 1
		for f in $FORMATS; do echo $d.$(suffix $f); done
	done >images &&
	mk_ntfs whole.ntfs 32 Whole && echo whole.ntfs >>images &&
	mk_ext whole.ext4 ext4 16M Whole && echo whole.ext4 >>images &&
	cp gpt.qcow2 dirty.qcow2 &&
	put_hex dirty.qcow2 79 01 && echo dirty.qcow2 >>images &&
	head -c 100000 gpt.qcow2 >truncated.qcow2 && echo truncated.qcow2 >>images &&
	cp gpt.img wrong.qcow2 && echo wrong.qcow2 >>images &&
	test "$(wc -l <images)" -eq 19
'

test_expect_success 'a qcow2 with the dirty bit is reported, and stays dirty' '
	expect_code 0 lb inspect --json dirty.qcow2 &&
	json_is out ".images[0].notes[0]" "the image was not closed cleanly (dirty qcow2 metadata)" &&
	test "$(od -An -t x1 -j 79 -N 1 dirty.qcow2 | tr -d " ")" = 01
'

test_expect_success 'inspect and inspect --json change no byte, size, mtime or ctime' '
	fingerprint_all images before &&
	set +e
	lb inspect $(cat images) >text.out 2>text.err
	lb inspect --json $(cat images) >json.out 2>json.err
	set -e
	fingerprint_all images after &&
	if ! cmp -s before after; then
		say "images changed:"
		diff before after
		false
	fi
'

test_expect_success 'and the runs did inspect them: 17 read, 2 refused' '
	json_valid json.out &&
	json_is json.out ".summary.images" 19 &&
	json_is json.out ".summary.ok" 17 &&
	json_is json.out ".summary.failed" 2 &&
	json_is json.out "[.images[] | select(.ok | not) | .path] | join(\",\")" truncated.qcow2,wrong.qcow2 &&
	test "$(grep -c "^lifeboat: inspect: " text.err)" -eq 2 &&
	test "$(grep -c "^  table " text.out)" -eq 17
'

if [ "$(id -u)" -ne 0 ]; then
	test_expect_success 'images without write permission can be inspected' '
		cp mbr.qcow2 ro.qcow2 && cp gpt.img ro.img &&
		chmod 0444 ro.qcow2 ro.img &&
		expect_code 0 lb inspect --json ro.qcow2 ro.img &&
		json_is out ".summary.ok" 2
	'
else
	test_skip 'images without write permission' 'root may write to any file'
fi

test_done
