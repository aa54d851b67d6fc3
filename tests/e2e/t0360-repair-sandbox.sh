#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Each repair worker runs under no-new-privileges and a seccomp filter
# (src/repair/sandbox.c). A worker that makes a forbidden system call
# (LIFEBOAT_WORKER_FAULT makes it try one before its job) is killed, the
# parent names the call, and the image is byte-identical to before. For a
# raw or fixed-VHD image (no qemu-nbd needed) a second filter forbids starting
# processes once the image is open.
# LIFEBOAT_SANDBOX=off turns the filter off, for debugging.
. "$(dirname "$0")/lib.sh"
. "$LB_SRCDIR/tests/e2e/winimg.sh"

test_expect_success 'build the disk' '
	mk_cs_disk win.img &&
	sha win.img >sha.orig
'

for call in socket ptrace mount; do
	test_expect_success "a worker calling $call is killed by the sandbox and reported" "
		cp win.img s.img &&
		LIFEBOAT_WORKER_FAULT=$call expect_code 1 lb repair -r crowdstrike-291 s.img &&
		grep_q 'lifeboat: repair: s.img: worker killed by the sandbox (forbidden system call [0-9]*/$call); ' err &&
		grep_q 'the image is unchanged' err &&
		test \"\$(sha s.img)\" = \"\$(cat sha.orig)\" &&
		test -z \"\$(find lifeboat-undo -name undo.log)\"
	"
done

test_expect_success 'the JSON report names the call' '
	cp win.img s.img &&
	LIFEBOAT_WORKER_FAULT=socket expect_code 1 lb repair -r crowdstrike-291 --json s.img &&
	json_is out ".images[0].error.code" ESANDBOX &&
	json_is out ".images[0].worker.signal" 31 &&
	json_is out ".images[0].worker.sandboxed" true &&
	json_is out ".images[0].worker.forbidden_syscall" socket &&
	test "$(sha s.img)" = "$(cat sha.orig)"
'

test_expect_success 'a qcow2 image (qemu-nbd started by the worker) is repaired under the sandbox' '
	qemu-img convert -O qcow2 win.img s.qcow2 &&
	cp s.qcow2 s0.qcow2 &&
	lb repair -r crowdstrike-291 --json s.qcow2 >q.json &&
	json_is q.json ".images[0].status" changed &&
	! qemu-img compare -q s0.qcow2 s.qcow2 &&
	LIFEBOAT_WORKER_FAULT=socket expect_code 1 lb repair -r crowdstrike-291 s0.qcow2 &&
	grep_q "forbidden system call [0-9]*/socket" err
'

case $BUILD in
*/san-*)
	# the sanitizers start a symbolizer to report an error: no second filter there
	test_skip 'a raw image: once it is open the worker may not start a process' \
		'a sanitizer build' ;;
*)
	test_expect_success 'a raw image: once it is open the worker may not start a process' '
		cp win.img s.img &&
		LIFEBOAT_WORKER_FAULT=execve expect_code 1 lb repair -r crowdstrike-291 s.img &&
		grep_q "worker killed by the sandbox (forbidden system call [0-9]*/execve); " err &&
		test "$(sha s.img)" = "$(cat sha.orig)"
	'
	;;
esac

test_expect_success 'a qcow2 image: the worker may (qemu-nbd), and the repair works' '
	qemu-img convert -O qcow2 win.img e.qcow2 &&
	LIFEBOAT_WORKER_FAULT=execve lb repair -r crowdstrike-291 --json e.qcow2 >e.json &&
	json_is e.json ".images[0].status" changed
'

test_expect_success 'LIFEBOAT_SANDBOX=off: the call is not stopped, the repair goes on' '
	cp win.img s.img &&
	LIFEBOAT_SANDBOX=off LIFEBOAT_WORKER_FAULT=socket expect_code 0 lb repair -r crowdstrike-291 s.img &&
	grep_q "LIFEBOAT_WORKER_FAULT=socket: the forbidden call was not stopped" err &&
	grep_q "repaired" out &&
	test "$(sha s.img)" != "$(cat sha.orig)"
'

test_expect_success 'an unknown LIFEBOAT_WORKER_FAULT is named' '
	cp win.img s.img &&
	LIFEBOAT_WORKER_FAULT=reboot expect_code 0 lb repair -r crowdstrike-291 s.img &&
	grep_q "lifeboat: LIFEBOAT_WORKER_FAULT: unknown forbidden call .reboot.; use socket, ptrace, mount or execve" err
'

test_done
