#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Linux recipe on ext4: systemd-unit-disable removes a unit's *.wants/
# symlinks and nothing else (checked with debugfs; e2fsck clean); undo
# restores the image byte for byte.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'build a Linux disk whose falcon-sensor unit is enabled twice' '
	mkdir -p root/etc/systemd/system/multi-user.target.wants root/etc/systemd/system/graphical.target.wants \
		root/usr/lib/systemd/system &&
	printf "[Unit]\n" >root/usr/lib/systemd/system/falcon-sensor.service &&
	printf "[Unit]\n" >root/usr/lib/systemd/system/ssh.service &&
	ln -s /usr/lib/systemd/system/falcon-sensor.service root/etc/systemd/system/multi-user.target.wants/falcon-sensor.service &&
	ln -s /usr/lib/systemd/system/falcon-sensor.service root/etc/systemd/system/graphical.target.wants/falcon-sensor.service &&
	ln -s /usr/lib/systemd/system/ssh.service root/etc/systemd/system/multi-user.target.wants/ssh.service &&
	printf "PRETTY_NAME=\"Test Linux\"\n" >root/etc/os-release &&
	truncate -s 64M lin.img &&
	sgdisk -n1:1M:0 -t1:8300 lin.img >/dev/null &&
	mke2fs -q -F -t ext4 -d root -E offset=1048576 lin.img 60M >/dev/null &&
	sha lin.img >sha.orig
'

test_expect_success 'a missing --param is a usage error naming it' '
	expect_code 2 lb repair -r systemd-unit-disable lin.img &&
	grep_q "UNIT" err
'

test_expect_success 'the recipe removes both symlinks of the unit, and only those' '
	lb repair -r systemd-unit-disable --param UNIT=falcon-sensor.service --json lin.img >rep.json &&
	json_is rep.json "[.images[0].items[] | select(.result==\"deleted\")] | length" 2 &&
	dd if=lin.img of=p1 bs=1M skip=1 count=60 status=none &&
	debugfs -R "ls -l /etc/systemd/system/multi-user.target.wants" p1 2>/dev/null >wants &&
	! grep -q falcon-sensor wants &&
	grep -q ssh.service wants &&
	debugfs -R "ls -l /etc/systemd/system/graphical.target.wants" p1 2>/dev/null | { ! grep -q falcon-sensor; } &&
	debugfs -R "stat /usr/lib/systemd/system/falcon-sensor.service" p1 >/dev/null 2>&1 &&
	e2fsck -fn p1 >fsck.out 2>&1
'

test_expect_success 'a regular file with the name is not deleted by a symlink action' '
	lb undo lin.img &&
	lb repair -n --json --delete "usr/lib/systemd/system/falcon-sensor.service" --type symlink lin.img >t.json &&
	json_is t.json ".images[0].items[0].result" skipped
'

test_expect_success 'undo restores the image byte for byte' '
	test "$(sha lin.img)" = "$(cat sha.orig)"
'

test_done
