/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.h - the least privilege a worker process can give itself without
 * root: no new privileges (PR_SET_NO_NEW_PRIVS) and a seccomp-BPF filter that
 * allows only the system calls a repair worker needs once it is running
 * (files, memory, threads, AF_UNIX sockets and the qemu-nbd child libnbd
 * starts for qcow2/VHDX/VMDK images).
 *
 * Everything else is refused before the kernel runs it, and the worker dies:
 *
 *  - a call outside the list traps (SECCOMP_RET_TRAP) into a SIGSYS handler
 *    that writes the call's number to a page shared with the parent and then
 *    makes the one call the filter answers with SECCOMP_RET_KILL_PROCESS
 *    (changing the SIGSYS handler); the parent sees the worker killed by
 *    SIGSYS and can name the call;
 *  - code that blocks SIGSYS first still dies (the kernel forces a trap
 *    signal through), only the number is then unknown (-1);
 *  - network sockets (anything but AF_UNIX), ptrace, mount, bpf, keyctl,
 *    module loading, namespaces, perf and friends are simply not on the list;
 *  - io_uring_setup fails with ENOSYS (qemu-nbd then uses its thread pool):
 *    it is a large kernel surface that the worker does not need.
 *
 * A child the worker executes (qemu-nbd) inherits the filter (but not the
 * handler: a forbidden call kills it with SIGSYS, and the worker reports the
 * NBD connection failing).
 *
 * Once the image is open, a worker whose image needs no helper stacks a
 * second filter that forbids starting processes (lb_sandbox_tighten()).
 *
 * LIFEBOAT_SANDBOX=off (or 0) skips the filter, for debugging with strace or
 * gdb (ptrace from inside the worker is forbidden; attaching from outside
 * works either way).
 */
#ifndef LB_REPAIR_SANDBOX_H
#define LB_REPAIR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* What a sandboxed process reports to its parent through shared memory. */
struct lb_sandbox_report {
	volatile int syscall_nr; /* the forbidden call, -1 if none was made */
	volatile int enabled;	 /* 1 once the filter is loaded */
};

/* false if $LIFEBOAT_SANDBOX says off (or 0, no). */
bool lb_sandbox_wanted(void);

/*
 * In the process to confine: set no-new-privileges, install the SIGSYS
 * handler that writes to @report (shared with the parent, may be NULL) and
 * load the filter. Irreversible. Returns 0, -ENOMEM, -EINVAL or -errno from
 * prctl()/seccomp() (recorded: -ENOSYS/-EINVAL if the kernel has no seccomp).
 */
int lb_sandbox_enter(struct lb_sandbox_report *report);

/* true once lb_sandbox_enter() succeeded in this process. */
bool lb_sandbox_active(void);

/*
 * Stack a second filter for a worker that will start no helper process (its
 * image is raw or a fixed VHD, which lifeboat reads itself): execve, fork,
 * vfork, clone without CLONE_THREAD and socket creation are then forbidden
 * too (clone3 fails with ENOSYS, so that glibc makes threads with clone,
 * whose flags the filter can see). Returns 0, or a negative errno (recorded);
 * the first filter stays in force either way. With LIFEBOAT_WORKER_FAULT=execve
 * it then tries to run /bin/true, for the tests.
 */
int lb_sandbox_tighten(void);

/*
 * The name of system call @nr on this machine ("socket"), written to @buf;
 * "unknown" if @nr < 0 or has no name. Returns @buf.
 */
const char *lb_sandbox_syscall_name(int nr, char *buf, size_t cap);

/*
 * For the tests: make the forbidden call $LIFEBOAT_WORKER_FAULT names
 * ("socket": an AF_INET socket, "ptrace", "mount"), if set. Under the sandbox it never returns.
 * Returns 0 if the variable is unset, -EINVAL if it names something else
 * (recorded), or the call's -errno when no sandbox stopped it.
 */
int lb_sandbox_test_fault(void);

#endif
