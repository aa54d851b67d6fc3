#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Registry edits offline: --reg-set and the crowdstrike-csagent-disable
# recipe change CSAgent\Start in the control set Select\Current names, keep
# every other value (checked with hivexget on the hive read out with ntfscat),
# and undo restores the disk.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

hive_of() { # IMAGE OUT: the SYSTEM hive of partition 3
	part_out "$1" 117 150 hp3 &&
	ntfscat -f hp3 /Windows/System32/config/SYSTEM >"$2" &&
	rm -f hp3
}

test_expect_success 'build the disk; reg get sees Start=1 through CurrentControlSet' '
	mk_cs_disk win.img &&
	sha win.img >sha.orig &&
	lb reg win.img get "HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent" Start >get.txt &&
	grep_q "REG_DWORD" get.txt
'

test_expect_success 'dry run shows old and new value, changes nothing' '
	lb repair -n --json --reg-set "HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent\\Start=dword:4" \
		win.img >dry.json &&
	json_is dry.json ".images[0].items[0].result" would-set &&
	json_is dry.json ".images[0].items[0].key" "ControlSet001\\Services\\CSAgent" &&
	jq -r ".images[0].items[0].old" dry.json | grep -q "0x00000001" &&
	test "$(sha win.img)" = "$(cat sha.orig)"
'

test_expect_success 'the recipe sets Start=4 and keeps the other values' '
	lb repair -r crowdstrike-csagent-disable --json win.img >rep.json &&
	json_is rep.json ".images[0].items[0].result" set &&
	json_is rep.json ".images[0].verified" true &&
	hive_of win.img SYSTEM.after &&
	test "$(hivexget SYSTEM.after "\\ControlSet001\\Services\\CSAgent" Start)" = 4 &&
	test "$(hivexget SYSTEM.after "\\ControlSet001\\Services\\CSAgent" DisplayName)" = "CrowdStrike Falcon" &&
	hivexget SYSTEM.after "\\ControlSet001\\Services\\CSAgent" ImagePath | grep -q csagent.sys &&
	test "$(hivexget SYSTEM.after "\\Select" Current)" = 1
'

test_expect_success 'running it again finds the value already set' '
	lb repair -r crowdstrike-csagent-disable --json win.img >again.json &&
	json_is again.json ".images[0].status" clean &&
	json_is again.json ".images[0].items[0].result" kept
'

test_expect_success '--reg-delete removes one value, keeps the rest' '
	lb repair --reg-delete "HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent\\DisplayName" \
		--undo-dir u2 --json win.img >del.json &&
	json_is del.json ".images[0].items[0].result" deleted-value &&
	hive_of win.img SYSTEM.del &&
	! hivexget SYSTEM.del "\\ControlSet001\\Services\\CSAgent" DisplayName 2>/dev/null &&
	test "$(hivexget SYSTEM.del "\\ControlSet001\\Services\\CSAgent" Start)" = 4
'

test_expect_success 'undo both repairs: the disk is byte-identical again' '
	lb undo --undo-dir u2 win.img &&
	lb undo win.img &&
	test "$(sha win.img)" = "$(cat sha.orig)"
'

test_expect_success 'a hive whose .LOG holds unapplied changes is refused unless allowed' '
	rm -f win-c.ntfs win-r.ntfs &&
	mk_ntfs win-c.ntfs 150 Windows &&
	mk_system_hive DIRTY.hive && "$MKHIVE" --dirty DIRTY.hive &&
	"$FIXTURE" win-c.ntfs add Windows/System32/config/SYSTEM --content DIRTY.hive >/dev/null &&
	mk_win_gpt dh.img >/dev/null 2>&1 && rm -f win-c.ntfs win-r.ntfs &&
	sha dh.img >sha.dh &&
	expect_code 6 lb repair -r crowdstrike-csagent-disable dh.img &&
	error_format err && grep_q "allow-dirty-hive" err &&
	test "$(sha dh.img)" = "$(cat sha.dh)" &&
	lb repair -r crowdstrike-csagent-disable --allow-dirty-hive --json dh.img >dh.json &&
	json_is dh.json ".images[0].items[0].hive_dirty" true &&
	json_is dh.json ".images[0].items[0].result" set
'

test_expect_success 'a bad value spec or key is a usage error naming the problem' '
	expect_code 2 lb repair --reg-set "HKLM\\SYSTEM\\X\\Y=dword:nope" win.img &&
	grep_q "reg-set" err &&
	expect_code 2 lb repair --reg-set "HKCU\\X\\Y=dword:1" win.img &&
	error_format err
'

test_done
