#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The CrowdStrike repair on every image format and on MBR: the file is gone
# from the guest disk (checked on a raw conversion with ntfsls), the decoys
# stay, and undo restores identical guest content (qemu-img compare); raw and
# fixed VHD come back byte-identical.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'build the disk and convert it to every format' '
	mk_cs_disk win.img &&
	convert win.img qcow2 win.qcow2 &&
	convert win.img vhdx win.vhdx &&
	convert win.img vmdk win.vmdk &&
	convert win.img vhd-fixed win.fixed.vhd &&
	convert win.img vhd-dynamic win.dynamic.vhd &&
	for f in win.qcow2 win.vhdx win.vmdk win.fixed.vhd win.dynamic.vhd; do
		cp "$f" "$f.orig" || return 1
	done
'

check_repaired() { # IMAGE: the three files are gone from partition 3, decoys stay
	raw_of "$1" check.raw &&
	part_out check.raw 117 150 check.p3 &&
	cs_names check.p3 >names &&
	printf "%s\n" . .. C-00000290-00000000-00000001.sys C-00000291-dir.sys C-00000291-x.sys.bak |
		sort >want &&
	diff want names &&
	ntfsfix -n check.p3 >/dev/null 2>&1 &&
	rm -f check.raw check.p3
}

for img in win.qcow2 win.vhdx win.vmdk win.dynamic.vhd; do
	test_expect_success "repair and undo $img" "
		lb repair -r crowdstrike-291 --json $img >rep.json &&
		json_is rep.json '.images[0].status' changed &&
		json_is rep.json '.images[0].verified' true &&
		check_repaired $img &&
		! qemu-img compare -q $img.orig $img &&
		lb undo $img &&
		qemu-img compare $img.orig $img
	"
done

test_expect_success 'fixed VHD: repaired, the footer untouched, undo byte-identical' '
	tail -c 512 win.fixed.vhd >footer.before &&
	lb repair -r crowdstrike-291 --json win.fixed.vhd >rep.json &&
	json_is rep.json ".images[0].format" vhd &&
	tail -c 512 win.fixed.vhd | cmp - footer.before &&
	qemu-img convert -f vpc -O raw win.fixed.vhd fixed.raw &&
	part_out fixed.raw 117 150 p3 && test "$(cs_names p3 | grep -c "^C-00000291-00000000" || true)" = 0 &&
	lb undo win.fixed.vhd &&
	test "$(sha win.fixed.vhd)" = "$(sha win.fixed.vhd.orig)"
'

test_expect_success 'MBR disk: the NTFS partition 1 is repaired; undo byte-identical' '
	mk_cs_mbr mbr.img &&
	sha mbr.img >sha.mbr &&
	lb repair -r crowdstrike-291 --json mbr.img >rep.json &&
	json_is rep.json ".images[0].items[0].partition" 1 &&
	json_is rep.json "[.images[0].items[] | select(.result==\"deleted\")] | length" 3 &&
	part_out mbr.img 1 128 m1 && test "$(cs_names m1 | grep -c "^C-00000291-00000000" || true)" = 0 &&
	lb undo mbr.img &&
	test "$(sha mbr.img)" = "$(cat sha.mbr)"
'

test_expect_success 'a volume without a partition table (the NTFS file itself)' '
	mk_cs_volume vol.ntfs 64 &&
	sha vol.ntfs >sha.vol &&
	lb repair -r crowdstrike-291 --json vol.ntfs >rep.json &&
	json_is rep.json ".images[0].items[0].partition" 0 &&
	test "$(cs_names vol.ntfs | grep -c "^C-00000291-00000000" || true)" = 0 &&
	lb undo vol.ntfs &&
	test "$(sha vol.ntfs)" = "$(cat sha.vol)"
'

test_expect_success '--partition limits the repair; a missing partition is an error' '
	cp win.img w2.img &&
	lb repair -r crowdstrike-291 --partition 4 --json w2.img >p4.json &&
	json_is p4.json ".images[0].status" clean &&
	test "$(sha w2.img)" = "$(sha win.img)" &&
	expect_code 4 lb repair -r crowdstrike-291 --partition 9 w2.img &&
	grep_q "no partition 9" err
'

test_done
