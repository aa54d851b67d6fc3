#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# reg: read the registry of a Windows disk image offline, read-only. The
# SYSTEM hive is made at test time (mkhive, then hivexsh -w), placed at
# Windows/System32/config/SYSTEM with ntfs-fixture, and what lifeboat reads
# is checked against hivexget on the hive ntfscat extracts from the image.
. "$(dirname "$0")/lib.sh"

FIX="$HELPERS/ntfs-fixture"
MKHIVE="$HELPERS/mkhive"
CSA='HKLM\SYSTEM\CurrentControlSet\Services\CSAgent'

# mk_system HIVE CURRENT: a SYSTEM hive whose Select\Current is CURRENT, with
# CSAgent values in ControlSet001 (Start 4) and ControlSet002 (Start 3). The
# QWORD is written as hex: hivexsh 1.3's "qword:" stores garbage in the upper bytes.
mk_system() {
	"$MKHIVE" "$1" SYSTEM &&
	hivexsh -w "$1" <<-EOF
	add Select
	cd Select
	setval 2
	Current
	dword:$2
	Default
	dword:1
	cd \\
	add ControlSet001
	cd ControlSet001
	add Services
	cd Services
	add CSAgent
	cd CSAgent
	setval 6
	Start
	dword:4
	ImagePath
	expandstring:\\??\\C:\\Windows\\system32\\drivers\\CrowdStrike\\csagent.sys
	DisplayName
	string:CrowdStrike Falcon
	DependOnService
	hex:7:46,00,6c,00,74,00,4d,00,67,00,72,00,00,00,52,00,70,00,63,00,00,00,00,00
	Blob
	hex:3:de,ad,be,ef
	Big
	hex:11:9a,78,56,34,12,00,00,00
	add Sim
	cd \\
	add ControlSet002
	cd ControlSet002
	add Services
	cd Services
	add CSAgent
	cd CSAgent
	setval 1
	Start
	dword:3
	commit
	EOF
}

# le32hex N: N as 8 hex digits, little-endian
le32hex() {
	printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# make_dirty HIVE: primary sequence number one ahead of the secondary (a
# write that the .LOG files hold was not finished), header checksum fixed
make_dirty() {
	seq=$(le32 "$1" 8) &&
	put_hex "$1" 4 "$(le32hex $((seq + 1)))" &&
	x=0 &&
	for v in $(od -An -v -t u4 -N 508 "$1"); do x=$((x ^ v)); done &&
	put_hex "$1" 508 "$(le32hex $x)"
}

# win_with_hive IMAGE HIVE: a Windows-like disk with HIVE as its SYSTEM hive
win_with_hive() {
	rm -f win-c.ntfs &&
	mk_ntfs win-c.ntfs 150 Windows &&
	"$FIX" win-c.ntfs add Windows/System32/config/SYSTEM --content "$2" &&
	mk_win_gpt "$1"
}

test_expect_success 'setup: SYSTEM hives (Current=1, Current=2, dirty) on Windows-like disks' '
	mk_system system1 1 &&
	mk_system system2 2 &&
	test "$(hivexget system1 "ControlSet001\\Services\\CSAgent" Start)" = 4 &&
	cp system1 dirty && make_dirty dirty &&
	test "$(le32 dirty 4)" -ne "$(le32 dirty 8)" &&
	hivexget dirty "Select" Current >/dev/null &&
	win_with_hive win.img system1 &&
	win_with_hive win2.img system2 &&
	win_with_hive dirty.img dirty &&
	convert win.img qcow2 win.qcow2 &&
	mk_linux_gpt lin.img &&
	dd if=win.img of=p3.ntfs bs=1M skip=117 count=150 status=none &&
	ntfscat p3.ntfs /Windows/System32/config/SYSTEM >extracted &&
	cmp extracted system1 &&
	ls win.img win2.img dirty.img win.qcow2 lin.img >images &&
	xargs sha256sum <images >before.sha
'

test_expect_success 'reg get KEY: every value, as reg query shows them' '
	expect_code 0 lb reg win.img get "$CSA" &&
	cat >want <<-\EOF &&
	HKLM\SYSTEM\ControlSet001\Services\CSAgent
	    Start    REG_DWORD    0x4 (4)
	    ImagePath    REG_EXPAND_SZ    \??\C:\Windows\system32\drivers\CrowdStrike\csagent.sys
	    DisplayName    REG_SZ    CrowdStrike Falcon
	    DependOnService    REG_MULTI_SZ    FltMgr\0Rpc
	    Blob    REG_BINARY    DEADBEEF
	    Big    REG_QWORD    0x123456789a (78187493530)
	EOF
	cmp want out &&
	test ! -s err
'

test_expect_success 'reg get KEY VALUE agrees with hivexget on the hive ntfscat extracts' '
	for v in Start Big DisplayName ImagePath; do
		lb reg win.img get "$CSA" $v >got || return 1
		want=$(hivexget extracted "ControlSet001\\Services\\CSAgent" $v) &&
		sed -n "2s/^    $v    REG_[A-Z_]*    //p" got >gotval &&
		case $v in
		Start | Big) test "$(cat gotval)" = "0x$(printf %x "$want") ($want)" ;;
		*) test "$(cat gotval)" = "$want" ;;
		esac || { say "$v: lifeboat says $(cat gotval), hivexget $want"; return 1; }
	done &&
	expect_code 0 lb reg win.img get "hklm\\system\\currentcontrolset\\services\\csagent" start &&
	test "$(sed -n 2p out)" = "    Start    REG_DWORD    0x4 (4)"
'

test_expect_success 'reg --json: typed data (number, string, array, hex)' '
	expect_code 0 lb reg --json win.img get "$CSA" &&
	json_valid out &&
	V=".values[] | select(.name ==" &&
	json_expect ".version" 1 &&
	json_expect ".image" win.img &&
	json_expect ".partition" 3 &&
	json_expect ".hive" Windows/System32/config/SYSTEM &&
	json_expect ".hive_dirty" false &&
	json_expect ".key" "HKLM\\SYSTEM\\ControlSet001\\Services\\CSAgent" &&
	json_expect ".error" null &&
	json_expect ".values | length" 6 &&
	json_expect "$V \"Start\") | .type" REG_DWORD &&
	json_expect "$V \"Start\") | .data" 4 &&
	json_expect "$V \"Big\") | .data" 78187493530 &&
	json_expect "$V \"DisplayName\") | .data" "CrowdStrike Falcon" &&
	json_expect "$V \"ImagePath\") | .type" REG_EXPAND_SZ &&
	json_expect "$V \"DependOnService\") | .data | join(\",\")" FltMgr,Rpc &&
	json_expect "$V \"Blob\") | .data" deadbeef &&
	json_expect "$V \"Blob\") | .size" 4 &&
	json_check out
'

test_expect_success 'CurrentControlSet follows Select\Current' '
	lb reg win2.img get "$CSA" Start >out &&
	test "$(head -n 1 out)" = "HKLM\\SYSTEM\\ControlSet002\\Services\\CSAgent" &&
	test "$(sed -n 2p out)" = "    Start    REG_DWORD    0x3 (3)" &&
	lb reg win2.img get "HKLM\\SYSTEM\\ControlSet001\\Services\\CSAgent" Start >out &&
	test "$(sed -n 2p out)" = "    Start    REG_DWORD    0x4 (4)"
'

test_expect_success 'reg ls KEY lists the subkeys' '
	expect_code 0 lb reg win.img ls "HKLM\\SYSTEM" &&
	printf "ControlSet001\nControlSet002\nSelect\n" >want &&
	cmp want out &&
	expect_code 0 lb reg --json win.img ls "$CSA" &&
	json_expect ".subkeys | join(\",\")" Sim &&
	json_check out
'

test_expect_success 'a hive with changes left in its logs: read, with a warning' '
	expect_code 0 lb reg dirty.img get "$CSA" Start &&
	test "$(sed -n 2p out)" = "    Start    REG_DWORD    0x4 (4)" &&
	grep_q "warning: .*transaction logs" err &&
	expect_code 0 lb reg --json dirty.img get "$CSA" Start &&
	json_is out .hive_dirty true
'

test_expect_success 'qcow2 and --partition work; a partition without the hive is exit 4' '
	lb reg win.qcow2 get "$CSA" Start >q.out &&
	lb reg win.img get "$CSA" Start >r.out &&
	cmp q.out r.out &&
	lb reg --partition 3 win.img get "$CSA" Start >p.out &&
	cmp p.out r.out &&
	expect_code 4 lb reg --partition 4 win.img get "$CSA" Start &&
	error_line err
'

test_expect_success 'no such key or value: exit 4, with the key named' '
	expect_code 4 lb reg win.img get "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Nope" &&
	error_line err && grep_q "Nope" err &&
	expect_code 4 lb reg win.img get "$CSA" Nope &&
	error_line err && grep_q "Nope" err &&
	expect_code 4 lb reg --json win.img get "$CSA" Nope &&
	json_expect ".error.code" ENOENT &&
	json_expect ".values" null &&
	json_expect ".partition" 3 &&
	json_check out
'

test_expect_success 'a hive that is not there: exit 4, asking whether this is a Windows disk' '
	expect_code 4 lb reg win.img get "HKLM\\SOFTWARE\\Microsoft" &&
	error_line err && grep_q "Windows/System32/config/SOFTWARE: not found" err &&
	grep_q "is this a Windows disk" err &&
	expect_code 4 lb reg lin.img get "$CSA" &&
	error_line err
'

test_expect_success 'usage errors: exit 2' '
	expect_code 2 lb reg win.img &&
	expect_code 2 lb reg win.img get &&
	expect_code 2 lb reg win.img frob "$CSA" &&
	expect_code 2 lb reg win.img ls "$CSA" extra &&
	expect_code 2 lb reg win.img get "HKXX\\SYSTEM" &&
	error_line err
'

test_expect_success 'no image was changed' '
	xargs sha256sum <images >after.sha &&
	cmp before.sha after.sha
'

test_done
