#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ls, find and cat: read files inside images, read-only, checked against
# independent tools (ntfsls/ntfscat from ntfs-3g on the extracted NTFS
# partition, debugfs on the ext4 one): paths in any case, with '\', C: and
# %SystemRoot%; case-insensitive find on NTFS and case-sensitive on ext4;
# every image format; clear errors with documented exit codes; and not one
# byte of any image changed.
. "$(dirname "$0")/lib.sh"

FIX="$HELPERS/ntfs-fixture"

# usage_line FILE: one line, "lifeboat: CMD: <problem>; see 'lifeboat CMD --help'"
usage_line() {
	test "$(wc -l <"$1")" -eq 1 &&
	grep -Eq "^lifeboat: [a-z]+: .+; see 'lifeboat [a-z]+ --help'\$" "$1" || {
		say "not a one-line usage error:"; cat "$1"; return 1
	}
}

# test_cmp_file WANT GOT: the files are equal (a diff is shown otherwise)
test_cmp_file() {
	cmp -s "$1" "$2" || { say "$1 and $2 differ:"; diff -u "$1" "$2"; return 1; }
}
CS=Windows/System32/drivers/CrowdStrike
BAD=C-00000291-00000000-00000032.sys

test_expect_success 'setup: a Windows-like disk with the CrowdStrike folder, a Linux disk' '
	mk_ntfs win-c.ntfs 150 Windows &&
	"$FIX" win-c.ntfs \
		add $CS/$BAD --hex AAAAAAAA01002301 --size 4096 \
			--mtime 2024-07-19T04:09:00Z --btime 2024-07-19T04:09:00Z \
		add $CS/c-00000291-xyz.SYS --hex AAAAAAAA01002301 --size 100 \
			--mtime 2024-07-19T05:27:00.1234567Z \
		add $CS/C-00000290-00000000-00000001.sys --size 50 --mtime 2024-07-18T00:00:00Z \
		mkdir $CS/C-00000291-dir.sys \
		add $CS/LongFileName.dat --short LONGFI~1.DAT --size 10 \
		add Windows/big.bin --size 3000000 \
		add readme.txt --hex 43 &&
	mk_ntfs win-r.ntfs 32 Recovery &&
	"$FIX" win-r.ntfs add readme.txt --hex 52 &&
	mk_win_gpt win.img &&
	dd if=win.img of=p3.ntfs bs=1M skip=117 count=150 status=none &&
	mk_linux_gpt lin.img &&
	mkdir -p rootfs/etc/systemd rootfs/usr/lib &&
	printf "ID=debian\n" >rootfs/etc/os-release &&
	echo upper >rootfs/etc/Hosts.TXT &&
	echo lower >rootfs/etc/hosts.txt &&
	touch -d 2024-07-19T04:09:00Z rootfs/etc/hosts.txt &&
	ln -s ../usr/lib/os-release rootfs/etc/os-link &&
	head -c 2500000 /dev/urandom >rootfs/usr/lib/big.bin &&
	chmod 4755 rootfs/usr/lib/big.bin &&
	mke2fs -q -F -t ext4 -L root -d rootfs root.part 150M &&
	place root.part lin.img 34 &&
	mk_ntfs whole.ntfs 16 Whole &&
	"$FIX" whole.ntfs add Dir/File.TXT --hex 414243 &&
	convert_all win.img win &&
	qemu-img convert -O qcow2 lin.img lin.qcow2 &&
	ls win.img win.* lin.img lin.qcow2 whole.ntfs >images &&
	xargs sha256sum <images >before.sha
'

test_expect_success 'ls without a path lists the root of every volume lifeboat reads' '
	expect_code 0 lb ls win.img &&
	grep_q "^partition 3 (ntfs \"Windows\"): /\$" out &&
	grep_q "^partition 4 (ntfs \"Recovery\"): /\$" out &&
	grep_q "^d  *0  .*  Windows\$" out &&
	test "$(grep -c "^partition" out)" -eq 2 &&
	test ! -s err
'

test_expect_success 'ls a folder: names as stored, sorted as NTFS sorts them, as ntfsls shows' '
	expect_code 0 lb ls win.img $CS &&
	head -n 1 out >header &&
	echo "partition 3 (ntfs \"Windows\"): $CS" >want &&
	test_cmp_file want header &&
	sed 1d out | sed "s/.*  //" >names &&
	ntfsls -p /$CS p3.ntfs | grep -v "^\.\.\?\$" >ntfsls.names &&
	test_cmp_file ntfsls.names names &&
	grep_q "^-  4096  2024-07-19T04:09:00Z  $BAD\$" out &&
	grep_q "^-   100  2024-07-19T05:27:00Z  c-00000291-xyz.SYS\$" out &&
	grep_q "^d     0  .*  C-00000291-dir.sys\$" out
'

test_expect_success 'ls takes the path in any case, with \, C:, %SystemRoot%, %windir%, PART:' '
	lb ls win.img $CS >canonical &&
	for p in "windows/system32/DRIVERS/crowdstrike" \
		 "C:\\Windows\\System32\\drivers\\CrowdStrike\\" \
		 "c:/WINDOWS/system32/drivers/crowdstrike" \
		 "%SystemRoot%\\System32\\drivers\\CrowdStrike" \
		 "%WINDIR%/system32/drivers/CROWDSTRIKE" \
		 "/./Windows//System32/drivers/CrowdStrike" \
		 "3:windows\\system32\\drivers\\crowdstrike"; do
		lb ls win.img "$p" >got || return 1
		cmp -s canonical got || { say "differs for $p:"; cat got; return 1; }
	done &&
	lb ls --partition 3 win.img $CS >got && cmp canonical got
'

test_expect_success 'ls --json: entry fields, times with nanoseconds, 8.3 name, attributes' '
	expect_code 0 lb ls --json win.img "c:\\windows\\system32\\drivers\\crowdstrike" &&
	json_valid out &&
	V=".volumes[0]" &&
	E="$V.entries[] | select(.name ==" &&
	json_expect ".version" 1 &&
	json_expect ".image" win.img &&
	json_expect ".error" null &&
	json_expect "$V.partition" 3 &&
	json_expect "$V.filesystem" ntfs &&
	json_expect "$V.label" Windows &&
	json_expect "$V.path" $CS &&
	json_expect "$V.type" dir &&
	json_expect "$V.entries | length" 5 &&
	json_expect "$E \"$BAD\") | .type" file &&
	json_expect "$E \"$BAD\") | .size" 4096 &&
	json_expect "$E \"$BAD\") | .mtime" 2024-07-19T04:09:00.000000000Z &&
	json_expect "$E \"$BAD\") | .btime" 2024-07-19T04:09:00.000000000Z &&
	json_expect "$E \"$BAD\") | .short_name" null &&
	json_expect "$E \"$BAD\") | .mode" null &&
	json_expect "$E \"$BAD\") | .target" null &&
	json_expect "$E \"$BAD\") | .attributes | type" array &&
	json_expect "$E \"c-00000291-xyz.SYS\") | .mtime" 2024-07-19T05:27:00.123456700Z &&
	json_expect "$E \"C-00000291-dir.sys\") | .type" dir &&
	json_expect "$E \"LongFileName.dat\") | .short_name" LONGFI~1.DAT &&
	json_expect "[.skipped[].partition] | join(\",\")" 1,2 &&
	json_check out
'

test_expect_success 'ls -l shows the four times, NTFS attributes and the 8.3 name' '
	expect_code 0 lb ls -l win.img $CS &&
	TS="[-0-9T:Z]*" &&
	grep_q "^-  [RHSATPLCONE-]*  *10  $TS  $TS  $TS  $TS  LONGFI~1.DAT  LongFileName.dat\$" out &&
	grep_q "^-  [RHSATPLCONE-]*  *4096  2024-07-19T04:09:00Z  2024-07-19T04:09:00Z  .*  -  *$BAD\$" out
'

test_expect_success 'ls of a file shows that one entry; a path in two volumes lists both' '
	expect_code 0 lb ls win.img "C:\\Windows\\big.bin" &&
	test "$(wc -l <out)" -eq 2 &&
	grep_q "^-  3000000  .*  big.bin\$" out &&
	expect_code 0 lb ls win.img README.TXT &&
	grep_q "^partition 3 (ntfs \"Windows\"): readme.txt\$" out &&
	grep_q "^partition 4 (ntfs \"Recovery\"): readme.txt\$" out
'

test_expect_success 'find on NTFS matches in any case: exactly the C-00000291 files and folder' '
	expect_code 0 lb find win.img --name "c-00000291*.sys" &&
	cat >want <<-EOF &&
	3:$CS/$BAD  4096  2024-07-19T04:09:00Z
	3:$CS/C-00000291-dir.sys  0  $(sed -n "s/^d  *0  \([^ ]*\)  C-00000291-dir.sys\$/\1/p" canonical)
	3:$CS/c-00000291-xyz.SYS  100  2024-07-19T05:27:00Z
	EOF
	test_cmp_file want out &&
	expect_code 0 lb find win.img --name "C-00000291*.SYS" --type f &&
	test "$(wc -l <out)" -eq 2 &&
	! grep -q "dir.sys\|00000290" out
'

test_expect_success 'find --json: partition, path, entry fields and the count' '
	expect_code 0 lb find --json win.img --name "C-00000291*" --type f --path "%windir%" &&
	json_valid out &&
	json_expect ".count" 2 &&
	json_expect ".matches | length" 2 &&
	json_expect ".matches[0].partition" 3 &&
	json_expect ".matches[0].path" $CS/$BAD &&
	json_expect ".matches[0].name" $BAD &&
	json_expect ".matches[0].size" 4096 &&
	json_expect ".matches[0].mtime" 2024-07-19T04:09:00.000000000Z &&
	json_expect ".matches[1].path" $CS/c-00000291-xyz.SYS &&
	json_expect ".searched | join(\",\")" 3 &&
	json_expect ".error" null &&
	json_check out
'

test_expect_success 'find --path and --max-depth narrow the walk; a name in two volumes: twice' '
	expect_code 0 lb find win.img --name "*.sys" --path 3:Windows/System32/drivers/CrowdStrike &&
	test "$(wc -l <out)" -eq 4 &&
	expect_code 0 lb find win.img --name "*.bin" --max-depth 1 &&
	test ! -s out &&
	expect_code 0 lb find win.img --name "*.bin" --max-depth 2 &&
	grep_q "^3:Windows/big.bin  3000000  " out &&
	expect_code 0 lb find win.img --name readme.txt &&
	grep_q "^3:readme.txt  1  " out &&
	grep_q "^4:readme.txt  1  " out &&
	expect_code 0 lb find win.img --name "*" --type d --partition 3 &&
	grep_q "^3:$CS/C-00000291-dir.sys  " out &&
	! grep -q "big.bin" out
'

test_expect_success 'cat writes exactly the bytes ntfscat reads, also past 1 MiB' '
	lb cat win.img "C:\\Windows\\System32\\drivers\\CrowdStrike\\$BAD" >bad.sys &&
	ntfscat p3.ntfs /$CS/$BAD >bad.ntfscat &&
	test "$(sha bad.sys)" = "$(sha bad.ntfscat)" &&
	test "$(head -c 8 bad.sys | xxd -p)" = aaaaaaaa01002301 &&
	lb cat win.img "%SystemRoot%/BIG.BIN" >big.out &&
	ntfscat p3.ntfs /Windows/big.bin >big.ntfscat &&
	test "$(size_of big.out)" -eq 3000000 &&
	test "$(sha big.out)" = "$(sha big.ntfscat)" &&
	lb cat win.img 4:readme.txt >r.txt && test "$(cat r.txt)" = R
'

test_expect_success 'cat into a pipe that closes early is not an error' '
	lb cat win.img Windows/big.bin | head -c 10 >/dev/null &&
	test "$(lb cat win.img Windows/big.bin | head -c 4 | wc -c)" -eq 4
'

test_expect_success 'ext4: ls matches debugfs, with mode, owner and symlink target' '
	expect_code 0 lb ls lin.img /etc &&
	grep_q "^partition 3 (ext4 \"root\"): etc\$" out &&
	sed 1d out | sed "s/.*  //; s/ -> .*//" >names &&
	debugfs -R "ls -p /etc" root.part 2>/dev/null |
		awk -F/ "\$6 != \".\" && \$6 != \"..\" && \$6 != \"\" { print \$6 }" |
		LC_ALL=C sort >debugfs.names &&
	test_cmp_file debugfs.names names &&
	grep_q "^l  *21  .*  os-link -> ../usr/lib/os-release\$" out &&
	grep_q "^-  *6  2024-07-19T04:09:00Z  hosts.txt\$" out &&
	expect_code 0 lb ls -l lin.img usr/lib/big.bin &&
	grep_q "^-rwsr-xr-x  0  0  2500000  " out &&
	expect_code 0 lb ls --json lin.img etc/os-link &&
	json_expect ".volumes[0].entries[0].type" symlink &&
	json_expect ".volumes[0].entries[0].target" ../usr/lib/os-release &&
	json_expect ".volumes[0].entries[0].mode" 0777 &&
	json_expect ".volumes[0].entries[0].uid" 0 &&
	json_expect ".volumes[0].entries[0].attributes" null &&
	json_expect ".volumes[0].entries[0].short_name" null &&
	json_check out
'

test_expect_success 'ext4: names compare byte for byte (find and ls are case-sensitive)' '
	expect_code 0 lb find lin.img --name "hosts*" &&
	test "$(cat out)" = "3:etc/hosts.txt  6  2024-07-19T04:09:00Z" &&
	expect_code 0 lb find lin.img --name "[Hh]osts.*" &&
	test "$(wc -l <out)" -eq 2 &&
	expect_code 4 lb ls lin.img ETC/hosts.txt &&
	error_line err
'

test_expect_success 'ext4: cat equals debugfs cat; a symlink and a folder are refused' '
	lb cat lin.img /usr/lib/big.bin >big.ext &&
	debugfs -R "cat /usr/lib/big.bin" root.part 2>/dev/null >big.debugfs &&
	test "$(sha big.ext)" = "$(sha big.debugfs)" &&
	test "$(sha big.ext)" = "$(sha rootfs/usr/lib/big.bin)" &&
	expect_code 4 lb cat lin.img etc/os-link &&
	error_line err && grep_q "symbolic link to .../usr/lib/os-release" err &&
	expect_code 4 lb cat lin.img etc &&
	error_line err && grep_q "is a folder" err
'

test_expect_success 'every format reads the same (qcow2, vhdx, vmdk, vdi, VHD fixed and dynamic)' '
	lb ls win.img $CS >raw.ls &&
	lb find win.img --name "c-00000291*" >raw.find &&
	for f in $FORMATS; do
		img=win.$(suffix $f)
		lb ls "$img" $CS >fmt.ls || { say "ls $img failed"; return 1; }
		cmp -s raw.ls fmt.ls || { say "ls $img differs"; cat fmt.ls; return 1; }
		lb find "$img" --name "c-00000291*" >fmt.find || return 1
		cmp -s raw.find fmt.find || { say "find $img differs"; return 1; }
		lb cat "$img" $CS/$BAD >fmt.cat || return 1
		test "$(sha fmt.cat)" = "$(sha bad.ntfscat)" || { say "cat $img differs"; return 1; }
	done &&
	lb ls lin.qcow2 etc >q.ls && lb ls lin.img etc >r.ls && cmp q.ls r.ls
'

test_expect_success 'a disk without a partition table: the whole disk is volume 0' '
	expect_code 0 lb ls whole.ntfs dir &&
	grep_q "^whole disk (ntfs \"Whole\"): Dir\$" out &&
	expect_code 0 lb find whole.ntfs --name "*.txt" &&
	grep_q "^0:Dir/File.TXT  3  " out &&
	lb cat whole.ntfs 0:dir/file.txt >f && test "$(cat f)" = ABC &&
	expect_code 4 lb ls whole.ntfs 1:Dir && error_line err
'

test_expect_success 'a crashed (dirty) and a hibernated NTFS volume are read, and left as they are' '
	mk_ntfs crashed.ntfs 16 Crashed &&
	"$FIX" crashed.ntfs add $CS/$BAD --hex AAAAAAAA01002301 --size 4096 \
		symlink Windows/link.sys $CS/$BAD symlink Windows/abs C:/Windows dirty &&
	mk_ntfs hib.ntfs 16 Hib &&
	"$FIX" hib.ntfs add $CS/$BAD --hex AAAAAAAA01002301 hiberfil &&
	lb inspect --json crashed.ntfs >i.json && json_is i.json .images[0].filesystem.dirty true &&
	lb inspect --json hib.ntfs >i.json && json_is i.json .images[0].filesystem.hibernated true &&
	fingerprint crashed.ntfs >c.before && fingerprint hib.ntfs >h.before &&
	expect_code 0 lb find crashed.ntfs --name "C-00000291*" &&
	grep_q "^0:$CS/$BAD  4096  " out &&
	expect_code 0 lb ls --json crashed.ntfs Windows &&
	json_expect ".volumes[0].entries[] | select(.name == \"link.sys\") | .type" symlink &&
	json_expect ".volumes[0].entries[] | select(.name == \"link.sys\") | .target" $CS/$BAD &&
	json_expect ".volumes[0].entries[] | select(.name == \"abs\") | .target" C:/Windows &&
	json_check out &&
	expect_code 0 lb ls crashed.ntfs Windows &&
	grep_q "^l  *[0-9]*  .*  link.sys -> $CS/$BAD\$" out &&
	lb cat crashed.ntfs $CS/$BAD >c.sys && test "$(head -c 8 c.sys | xxd -p)" = aaaaaaaa01002301 &&
	expect_code 4 lb cat crashed.ntfs Windows/link.sys && error_line err &&
	expect_code 0 lb ls hib.ntfs && grep_q "hiberfil.sys\$" out &&
	lb cat hib.ntfs $CS/$BAD >h.sys && test "$(xxd -p h.sys)" = aaaaaaaa01002301 &&
	fingerprint crashed.ntfs >c.after && fingerprint hib.ntfs >h.after &&
	cmp c.before c.after && cmp h.before h.after
'

test_expect_success 'MBR: a logical partition is read; the extended container is refused' '
	mk_mbr mbr.img &&
	fingerprint mbr.img >m.before &&
	expect_code 0 lb ls mbr.img &&
	grep_q "^partition 1 (ntfs \"Data\"): /\$" out &&
	grep_q "^partition 5 (ext3 \"data3\"): /\$" out &&
	grep_q "^d  *12288  .*  lost+found\$" out &&
	expect_code 0 lb find mbr.img --name "LOST*" &&
	test ! -s out &&
	expect_code 0 lb find mbr.img --name "lost*" --type d &&
	grep_q "^5:lost+found  12288  " out &&
	expect_code 4 lb ls mbr.img 2: &&
	error_line err && grep_q "partition 2: an extended partition holds no file system" err &&
	fingerprint mbr.img >m.after && cmp m.before m.after
'

test_expect_success 'a path that is nowhere: exit 4, naming the partitions searched' '
	expect_code 4 lb ls win.img "C:\\Windows\\Nope" &&
	error_line err &&
	grep_q "^lifeboat: ls: win.img: C:\\\\Windows\\\\Nope: not found in partitions 3 and 4; " err &&
	expect_code 4 lb cat win.img Windows/Nope.sys && error_line err &&
	expect_code 4 lb find win.img --name x --path Nope && error_line err &&
	expect_code 4 lb ls --json win.img Nope &&
	json_expect ".error.code" ENOENT &&
	json_expect ".error.exit_code" 4 &&
	json_expect ".volumes | length" 0 &&
	json_check out
'

test_expect_success 'a partition that does not exist, or holds no NTFS/ext: exit 4 / 5' '
	expect_code 4 lb ls win.img 9:Windows &&
	error_line err && grep_q "partition 9: no such partition (the image has 1, 2, 3, 4)" err &&
	expect_code 4 lb find win.img --name x --partition 7 && error_line err &&
	expect_code 5 lb ls win.img 1: &&
	error_line err &&
	grep_q "partition 1: fat32: lifeboat reads files on NTFS and ext2/3/4 only; " err &&
	expect_code 5 lb cat --partition 2 win.img x && error_line err &&
	expect_code 5 lb ls lin.img 4: && error_line err && grep_q "swap" err
'

test_expect_success 'usage errors: exit 2, one line each' '
	expect_code 2 lb ls && usage_line err &&
	expect_code 2 lb cat win.img && usage_line err &&
	expect_code 2 lb cat win.img a b && usage_line err &&
	expect_code 2 lb ls win.img 3:x --partition 4 && usage_line err &&
	expect_code 2 lb ls --partition x win.img && usage_line err &&
	expect_code 2 lb ls -f qcow3 win.img && usage_line err &&
	expect_code 2 lb find win.img --name "a/b" && usage_line err &&
	expect_code 2 lb find win.img --type z && usage_line err &&
	expect_code 2 lb find win.img --max-depth 0 && usage_line err &&
	expect_code 2 lb find win.img x && usage_line err &&
	expect_code 2 lb cat --json win.img x && usage_line err &&
	expect_code 2 lb ls win.img "Windows/../x" &&
	error_line err && grep_q "not allowed" err &&
	expect_code 2 lb cat win.img readme.txt &&
	error_line err && grep_q "found in partitions 3 and 4; name one, e.g. .3:readme.txt." err &&
	test ! -s out
'

test_expect_success 'an unreadable volume is reported: an error without PATH, a warning with one' '
	cp win.img locked.img &&
	put_hex locked.img $((267 * 1048576 + 3)) 2d4656452d46532d &&
	expect_code 3 lb ls locked.img &&
	grep_q "^partition 3 " out &&
	error_line err && grep_q "partition 4: .*BitLocker" err &&
	expect_code 0 lb ls locked.img Windows &&
	grep_q "warning: not searched: partition 4: " err &&
	expect_code 4 lb ls locked.img Nope &&
	grep_q "not found in partition 3 (not searched: 4)" err &&
	expect_code 6 lb ls locked.img 4: && error_line err &&
	expect_code 3 lb find locked.img --name "*.sys" &&
	test "$(wc -l <out)" -eq 4 &&
	expect_code 3 lb ls --json locked.img &&
	json_expect ".volumes | length" 1 &&
	json_expect ".skipped[] | select(.partition == 4) | .error.code" EPERM &&
	json_check out
'

test_expect_success 'no image was changed by any of this' '
	xargs sha256sum <images >after.sha &&
	cmp before.sha after.sha
'

test_done
