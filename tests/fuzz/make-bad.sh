#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make-bad.sh - regenerate the known-bad inputs in tests/fuzz/bad/<target>/
# from the good seeds in tests/fuzz/corpus/ (run make-corpus.sh first), by
# patching bytes with dd and xxd. Checksums the damage must not trip over are
# recomputed here: CRC32 from gzip's trailer, the VHD byte sum with od and
# awk. Each file is named E<ERRNO>-what-is-wrong: replay (make check) fails
# unless the parser rejects it with exactly that errno.
#
# Files this script does not make (crash-* regression inputs saved by
# tests/fuzz/run.sh) are left alone.
set -eu
cd "$(dirname "$0")"
C=$(pwd)/corpus
B=$(pwd)/bad
for t in xxd gzip od awk dd head tail; do
	command -v $t >/dev/null 2>&1 || { echo "make-bad: missing $t" >&2; exit 1; }
done
mkdir -p "$B/mbr" "$B/ptable" "$B/vhd" "$B/image_probe" "$B/fs_probe" "$B/fault_spec"

# ---- byte helpers ----------------------------------------------------------------

# put FILE OFFSET HEX: write the bytes HEX ("0a0b...") at OFFSET
put() {
	printf '%s' "$3" | xxd -r -p | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# hexle VALUE BYTES / hexbe VALUE BYTES: VALUE as little/big-endian hex
hexbe() { printf "%0$(($2 * 2))x" "$1"; }
hexle() { hexbe "$1" "$2" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i }'; }
# get FILE OFFSET BYTES: a little-endian unsigned value
get() {
	od -An -v -tu1 -j "$2" -N "$3" "$1" |
		awk '{ for (i = 1; i <= NF; i++) b[n++] = $i } END { v = 0; for (i = n - 1; i >= 0; i--) v = v * 256 + b[i]; printf "%d", v }'
}
# crc FILE OFFSET LEN: CRC32 (as GPT stores it, little-endian hex) of a byte range
crc() {
	dd if="$1" bs=1 skip="$2" count="$3" status=none | gzip -c | tail -c 8 | head -c 4 | xxd -p
}
# vhdsum FILE OFFSET LEN FIELD: VHD checksum (big-endian hex) of LEN bytes, FIELD taken as 0
vhdsum() {
	od -An -v -tu1 -j "$2" -N "$3" "$1" |
		awk -v f="$4" '{ for (i = 1; i <= NF; i++) { if (n < f || n >= f + 4) s += $i; n++ } }
			END { printf "%08x", 4294967295 - (s % 4294967296) }'
}
vhd_seal_footer() { put "$1" $(($2 + 64)) "$(vhdsum "$1" "$2" 512 64)"; }
vhd_seal_dyn() { put "$1" $(($2 + 36)) "$(vhdsum "$1" "$2" 1024 36)"; }
# gpt_seal FILE SS: recompute both GPT headers' entry-array and header CRCs
gpt_seal() {
	size=$(wc -c <"$1")
	for lba in 1 $((size / $2 - 1)); do
		h=$((lba * $2))
		n=$(get "$1" $((h + 80)) 4)
		es=$(get "$1" $((h + 84)) 4)
		arr=$(get "$1" $((h + 72)) 8)
		if [ $((n * es)) -le $((4 << 20)) ]; then
			put "$1" $((h + 88)) "$(crc "$1" $((arr * $2)) $((n * es)))"
		fi
		put "$1" $((h + 16)) 00000000
		put "$1" $((h + 16)) "$(crc "$1" "$h" 92)"
	done
}
# mbr_entry TYPE LBA SECTORS: a 16-byte partition entry (status 0, no CHS)
mbr_entry() { printf '00000000%s000000%s%s' "$1" "$(hexle "$2" 4)" "$(hexle "$3" 4)"; }
# new TARGET NAME SEED [BYTES]: start a bad file from a seed (its first BYTES)
new() {
	out=$B/$1/$2
	if [ $# -ge 4 ]; then
		head -c "$4" "$C/$1/$3" >"$out"
	else
		cp "$C/$1/$3" "$out"
	fi
}

# ---- MBR sectors -------------------------------------------------------------------
new mbr EBADMSG-bad-status-byte.bin mbr-two-primaries.bin
put "$out" 446 12
new mbr EMEDIUMTYPE-no-boot-signature.bin mbr-two-primaries.bin
put "$out" 510 0000
new mbr EMEDIUMTYPE-ntfs-boot-sector.bin ntfs-boot-sector.bin
new mbr EMEDIUMTYPE-truncated.bin mbr-two-primaries.bin 300

# ---- partition tables --------------------------------------------------------------
# both GPT headers fail their CRC (a disk GUID byte changed in each)
new ptable EBADMSG-both-gpt-headers-corrupt.img gpt-windows-linux.img
put "$out" $((512 + 60)) ff
put "$out" $((65536 - 512 + 60)) ff
# both entry arrays fail their CRC
new ptable EBADMSG-both-gpt-entry-arrays-corrupt.img gpt-windows-linux.img
put "$out" $((2 * 512 + 40)) ff
put "$out" $((65536 - 33 * 512 + 40)) ff
# impossible sizes in both headers, with correct CRCs
new ptable EOVERFLOW-gpt-entry-count-too-large.img gpt-one-partition.img
put "$out" $((512 + 80)) "$(hexle 65536 4)"
put "$out" $((65536 - 512 + 80)) "$(hexle 65536 4)"
gpt_seal "$out" 512
new ptable EOVERFLOW-gpt-entry-size-too-large.img gpt-one-partition.img
put "$out" $((512 + 84)) "$(hexle 8192 4)"
put "$out" $((65536 - 512 + 84)) "$(hexle 8192 4)"
gpt_seal "$out" 512
new ptable EOVERFLOW-gpt-header-size-larger-than-sector.img gpt-one-partition.img
put "$out" $((512 + 12)) "$(hexle 600 4)"
put "$out" $((65536 - 512 + 12)) "$(hexle 600 4)"
# a partition past the usable area, in both arrays, with every CRC right
new ptable ERANGE-gpt-partition-outside-usable-area.img gpt-one-partition.img
put "$out" $((2 * 512 + 40)) "$(hexle 200 8)"
put "$out" $((65536 - 33 * 512 + 40)) "$(hexle 200 8)"
gpt_seal "$out" 512
# overlapping entries
new ptable ERANGE-gpt-overlapping-partitions.img gpt-windows-linux.img
put "$out" $((2 * 512 + 128 + 32)) "$(hexle 40 8)"
put "$out" $((65536 - 33 * 512 + 128 + 32)) "$(hexle 40 8)"
gpt_seal "$out" 512
# a GPT disk cut in half: the primary describes a larger disk
new ptable ERANGE-gpt-disk-truncated.img gpt-windows-linux.img 32768
# MBR: partition 2 moved onto partition 1; partition 2 grown past the end; a short disk
new ptable ERANGE-mbr-overlapping-partitions.img mbr-two-primaries.img
put "$out" $((446 + 16 + 8)) "$(hexle 30 4)"
new ptable ERANGE-mbr-partition-beyond-disk.img mbr-two-primaries.img
put "$out" $((446 + 16 + 12)) "$(hexle 200 4)"
new ptable ERANGE-mbr-disk-truncated.img mbr-two-primaries.img 32768
# the second EBR links to itself
new ptable EBADMSG-ebr-loop.img mbr-logicals.img
ext=$(get "$out" $((446 + 16 + 8)) 4)
link=$(get "$out" $((ext * 512 + 446 + 16 + 8)) 4)
put "$out" $(((ext + link) * 512 + 446 + 16)) "$(mbr_entry 05 "$link" 1)"
# 129 extended boot records in a chain: one more than LB_MBR_MAX_LOGICAL
out=$B/ptable/EOVERFLOW-ebr-chain-too-long.img
head -c $((131 * 512)) /dev/zero >"$out"
put "$out" 446 "$(mbr_entry 05 1 130)"
put "$out" 510 55aa
i=0
while [ $i -lt 129 ]; do
	put "$out" $(((1 + i) * 512 + 446 + 16)) "$(mbr_entry 05 $((i + 1)) 1)"
	put "$out" $(((1 + i) * 512 + 510)) 55aa
	i=$((i + 1))
done

# ---- VHD ------------------------------------------------------------------------------
fixed_size=$(wc -c <"$C/vhd/fixed-16k.vhd")
fixed_foot=$((fixed_size - 512))
new vhd EBADMSG-bad-checksum.vhd fixed-16k.vhd
put "$out" $((fixed_foot + 100)) 01
new vhd EBADMSG-bad-cookie.vhd fixed-16k.vhd
put "$out" "$fixed_foot" 58 # "Xonectix"
vhd_seal_footer "$out" "$fixed_foot"
new vhd EBADMSG-bad-disk-type.vhd fixed-16k.vhd
put "$out" $((fixed_foot + 60)) "$(hexbe 5 4)"
vhd_seal_footer "$out" "$fixed_foot"
new vhd EOVERFLOW-disk-size-impossible.vhd fixed-16k.vhd
put "$out" $((fixed_foot + 48)) "$(hexbe 1152921504606846976 8)" # 2^60
vhd_seal_footer "$out" "$fixed_foot"
# a fixed disk whose data was cut short: the footer claims more than precedes it
out=$B/vhd/EBADMSG-fixed-size-larger-than-file.vhd
head -c $((fixed_foot - 4096)) "$C/vhd/fixed-16k.vhd" >"$out"
tail -c 512 "$C/vhd/fixed-16k.vhd" >>"$out"
new vhd EBADMSG-truncated.vhd fixed-16k.vhd 300
dyn_size=$(wc -c <"$C/vhd/dynamic-1m.vhd")
dyn_foot=$((dyn_size - 512))
dyn=$(od -An -tx1 -j $((dyn_foot + 16)) -N 8 "$C/vhd/dynamic-1m.vhd" | tr -d ' \n')
dyn=$((0x$dyn))
new vhd EBADMSG-dynamic-header-outside-file.vhd dynamic-1m.vhd
put "$out" $((dyn_foot + 16)) "$(hexbe 1048576 8)"
vhd_seal_footer "$out" "$dyn_foot"
new vhd EBADMSG-dynamic-bat-outside-file.vhd dynamic-1m.vhd
put "$out" $((dyn + 16)) "$(hexbe 65536 8)"
vhd_seal_dyn "$out" "$dyn"
new vhd EBADMSG-dynamic-bat-too-small.vhd dynamic-1m.vhd
put "$out" $((dyn + 28)) 00000000
vhd_seal_dyn "$out" "$dyn"
new vhd EBADMSG-dynamic-block-size-not-power-of-two.vhd dynamic-1m.vhd
put "$out" $((dyn + 32)) "$(hexbe 3145728 4)"
vhd_seal_dyn "$out" "$dyn"
new vhd EOVERFLOW-dynamic-block-size-too-large.vhd dynamic-1m.vhd
put "$out" $((dyn + 32)) "$(hexbe 536870912 4)"
vhd_seal_dyn "$out" "$dyn"
new vhd EBADMSG-dynamic-header-bad-checksum.vhd dynamic-1m.vhd
put "$out" $((dyn + 800)) 01

# ---- image headers (as lb_image_open sees a file) ---------------------------------------
new image_probe EBADMSG-qcow2-l1-beyond-file.qcow2 qcow2-v3-4k-clusters.qcow2
put "$out" 40 "$(hexbe 1048576 8)"
new image_probe EOVERFLOW-qcow2-cluster-bits-63.qcow2 qcow2-v3-4k-clusters.qcow2
put "$out" 20 "$(hexbe 63 4)"
new image_probe EOVERFLOW-qcow2-virtual-size-impossible.qcow2 qcow2-v3-4k-clusters.qcow2
put "$out" 24 "$(hexbe 144115188075855872 8)" # 2^57
new image_probe EBADMSG-qcow2-truncated-header.qcow2 qcow2-v3-4k-clusters.qcow2 50
new image_probe EBADMSG-qcow2-marked-corrupt.qcow2 qcow2-v3-4k-clusters.qcow2
put "$out" 72 "$(hexbe 2 8)"
new image_probe EBADMSG-qcow2-backing-name-too-long.qcow2 qcow2-overlay-backing-file.qcow2
put "$out" 16 "$(hexbe 2000 4)"
# VHDX: the first MiB (the least a VHDX can be), both headers failing their CRC-32C
out=$B/image_probe/EBADMSG-vhdx-both-headers-bad-crc.vhdx
cp "$C/image_probe/vhdx-head.vhdx" "$out"
head -c $((1048576 - $(wc -c <"$out"))) /dev/zero >>"$out"
put "$out" $((65536 + 200)) ff
put "$out" $((131072 + 200)) ff
new image_probe EBADMSG-vhd-fixed-larger-than-file.vhd fixed-16k.vhd
head -c $((fixed_foot - 4096)) "$C/image_probe/fixed-16k.vhd" >"$out"
tail -c 512 "$C/image_probe/fixed-16k.vhd" >>"$out"
new image_probe EBADMSG-vhd-bad-checksum.vhd fixed-16k.vhd
put "$out" $((fixed_foot + 100)) 01
new image_probe EBADMSG-vhd-dynamic-footer-missing.vhd dynamic-1m.vhd $dyn_foot
new image_probe EBADMSG-vmdk-grain-directory-beyond-file.vmdk vmdk-monolithic-sparse.vmdk
put "$out" 56 "$(hexle 1000 8)"
new image_probe EOVERFLOW-vmdk-capacity-impossible.vmdk vmdk-monolithic-sparse.vmdk
put "$out" 12 "$(hexle 281474976710656 8)" # 2^48 sectors
new image_probe EBADMSG-vmdk-truncated-header.vmdk vmdk-monolithic-sparse.vmdk 60

# ---- file systems: signatures cut short must not be taken for a file system ----------------
new fs_probe EMEDIUMTYPE-luks-magic-without-version.bin luks2.bin 7
new fs_probe EMEDIUMTYPE-ext4-superblock-cut-short.bin ext4.bin 2000
new fs_probe EMEDIUMTYPE-ntfs-boot-sector-cut-short.bin ntfs.bin 511
new fs_probe EMEDIUMTYPE-swap-signature-cut-short.bin swap.bin 4095
new fs_probe EMEDIUMTYPE-fat-without-boot-signature.bin fat16.bin 512
put "$out" 510 0000

# ---- fault specs ---------------------------------------------------------------------------
f=$B/fault_spec
printf 'flip=1:8' >"$f/EINVAL-flip-bit-8.txt"
printf 'read-error=1,,flip=2' >"$f/EINVAL-empty-rule.txt"
printf 'explode=1' >"$f/EINVAL-unknown-rule.txt"
printf 'read-error=16E' >"$f/EINVAL-size-overflow.txt"
printf 'read-error=1+0' >"$f/EINVAL-zero-length.txt"
printf 'write-limit=1K' >"$f/EINVAL-write-limit-with-suffix.txt"
printf 'short-reads=yes' >"$f/EINVAL-short-reads-with-value.txt"
i=0
: >"$f/EINVAL-33-rules.txt"
while [ $i -lt 33 ]; do
	printf '%sflip=%d' "$([ $i -gt 0 ] && echo ,)" $i >>"$f/EINVAL-33-rules.txt"
	i=$((i + 1))
done

du -sh "$B"/* >&2
