# SPDX-License-Identifier: GPL-2.0-or-later
#
# winimg.sh - Windows-like and Linux-like disks for the repair tests (sourced
# after lib.sh). Files go into NTFS volumes through the ntfs-fixture helper
# (libntfs-3g directly, not lifeboat's code); hives are made with mkhive and
# hivexsh; results are checked with ntfsls, ntfscat, ntfsfix -n, hivexget,
# debugfs and e2fsck.

FIXTURE="$HELPERS/ntfs-fixture"
MKHIVE="$HELPERS/mkhive"
CS=Windows/System32/drivers/CrowdStrike

# mk_system_hive FILE: a SYSTEM hive with Select\Current=1 and CSAgent Start=1
# in ControlSet001, plus other values that a repair must keep
mk_system_hive() {
	"$MKHIVE" "$1" SYSTEM
	cat >hive.script <<'HIVE'
add Select
cd Select
setval 2
Current
dword:1
Default
dword:1
cd ..
add ControlSet001
cd ControlSet001
add Services
cd Services
add CSAgent
cd CSAgent
setval 3
Start
dword:1
ImagePath
expandstring:%SystemRoot%\System32\drivers\CrowdStrike\csagent.sys
DisplayName
string:CrowdStrike Falcon
commit
HIVE
	hivexsh -w -f hive.script "$1" >/dev/null
	rm -f hive.script
}

# mk_software_hive FILE: a SOFTWARE hive saying which Windows this is (what OS
# inspection, ours and libguestfs's, reads)
mk_software_hive() {
	"$MKHIVE" "$1" SOFTWARE
	cat >hive.script <<'HIVE'
add Microsoft
cd Microsoft
add Windows NT
cd Windows NT
add CurrentVersion
cd CurrentVersion
setval 7
ProductName
string:Windows Server 2022 Datacenter
EditionID
string:ServerDatacenter
CurrentVersion
string:6.3
CurrentMajorVersionNumber
dword:10
CurrentMinorVersionNumber
dword:0
CurrentBuild
string:20348
SystemRoot
string:C:\Windows
commit
HIVE
	hivexsh -w -f hive.script "$1" >/dev/null
	rm -f hive.script
}

# pe_header: hex of the start of an x86-64 console PE executable (what
# file(1), and so libguestfs's OS inspection, needs to see in cmd.exe)
pe_header() {
	# "MZ", e_lfanew = 0x40; "PE\0\0", machine 0x8664, 1 section, optional header of
	# 0xf0 bytes; its magic 0x20b (PE32+), subsystem 3 (console) at +68
	printf '4d5a%0116d40000000''50450000''6486''0100''%024d''f000''2200''0b02''%0132d''0300' 0 0 0
}

# mk_cs_volume FILE [SIZE_MIB]: an NTFS "Windows" volume holding the bad
# channel file and decoys:
#   CrowdStrike/C-00000291-00000000-00000032.sys  bad header, 04:09 UTC   -> deleted
#   CrowdStrike/c-00000291-00000000-00000033.SYS  other case, 05:30 UTC   -> deleted
#   CrowdStrike/C-00000291-00000000-00000034.sys  with an 8.3 name        -> deleted
#   CrowdStrike/C-00000290-00000000-00000001.sys  another channel file    -> kept
#   CrowdStrike/C-00000291-dir.sys/inner.sys      a folder that matches   -> kept
#   CrowdStrike/C-00000291-x.sys.bak              another extension       -> kept
#   System32/drivers/C-00000291-elsewhere.sys     another folder          -> kept
#   System32/config/SYSTEM, SOFTWARE              hives (Windows Server 2022, build 20348)
mk_cs_volume() {
	mk_ntfs "$1" "${2:-150}" Windows
	mk_system_hive SYSTEM.hive
	mk_software_hive SOFTWARE.hive
	"$FIXTURE" "$1" \
		add "$CS/C-00000291-00000000-00000032.sys" --hex AAAAAAAA01002301 --size 4096 \
		--mtime 2024-07-19T04:09:00Z --btime 2024-07-19T04:09:00Z \
		add "$CS/c-00000291-00000000-00000033.SYS" --hex 00112233 --size 1000 \
		--mtime 2024-07-19T05:30:00Z \
		add "$CS/C-00000291-00000000-00000034.sys" --hex AAAAAAAA01002301 --size 300 \
		--mtime 2024-07-19T04:10:00Z --short C-0000~1.SYS \
		add "$CS/C-00000290-00000000-00000001.sys" --hex AAAAAAAA01002301 --size 500 \
		add "$CS/C-00000291-dir.sys/inner.sys" --size 10 \
		add "$CS/C-00000291-x.sys.bak" --size 10 \
		add Windows/System32/drivers/C-00000291-elsewhere.sys --size 10 \
		add Windows/System32/config/SYSTEM --content SYSTEM.hive \
		add Windows/System32/config/SOFTWARE --content SOFTWARE.hive \
		add Windows/System32/cmd.exe --hex "$(pe_header)" --size 8192 >/dev/null
	rm -f SYSTEM.hive SOFTWARE.hive
}

# mk_cs_disk IMAGE: the Windows-like GPT disk (mk_win_gpt) with mk_cs_volume as C:
mk_cs_disk() {
	rm -f win-c.ntfs win-r.ntfs
	mk_cs_volume win-c.ntfs
	mk_win_gpt "$1" >/dev/null 2>&1
	rm -f win-c.ntfs win-r.ntfs
}

# mk_cs_mbr IMAGE: an MBR disk whose first partition (NTFS, active) is mk_cs_volume
mk_cs_mbr() {
	rm -f "$1"
	truncate -s 200M "$1"
	printf 'label: dos\nstart=2048, size=262144, type=7, bootable\nstart=264192, type=83\n' |
		sfdisk -q "$1" >/dev/null
	mk_cs_volume mbr-c.ntfs 128
	place mbr-c.ntfs "$1" 1
	rm -f mbr-c.ntfs
}

# part_out IMAGE START_MIB SIZE_MIB OUT: copy a partition of a raw image to OUT
part_out() {
	dd if="$1" of="$4" bs=1M skip="$2" count="$3" status=none
}

# raw_of IMAGE OUT: the guest disk of any image format as a raw file
raw_of() {
	qemu-img convert -O raw "$1" "$2"
}

# cs_names VOLUME: the names in the CrowdStrike folder, sorted, one per line
cs_names() {
	ntfsls -f "$1" -p "/$CS" 2>/dev/null | sort
}
