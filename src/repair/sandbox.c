/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.c - no new privileges and a seccomp filter for the workers (see
 * sandbox.h). The list was taken from strace -f of the repair tests (raw,
 * VHD, qcow2/VHDX/VMDK through qemu-nbd, NTFS, ext4, hives, undo logs,
 * quarantine), plus the calls glibc and the sanitizers make on paths those
 * tests do not reach (reporting an error, growing the heap, a symbolizer
 * child); the whole suite passes under it in the sanitizer build as well.
 */
#include "repair/sandbox.h"
#include "base/err.h"

#include <errno.h>
#include <linux/fs.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS from SECCOMP_RET_TRAP (linux/signal.h) */
#endif

/* Allowed whatever their arguments. */
static const char *const allowed[] = {
	/* files and folders */
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"preadv",
	"pwritev",
	"preadv2",
	"pwritev2",
	"lseek",
	"open",
	"openat",
	"close",
	"close_range",
	"fstat",
	"stat",
	"lstat",
	"newfstatat",
	"statx",
	"statfs",
	"fstatfs",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"readlinkat",
	"getdents64",
	"mkdir",
	"mkdirat",
	"rmdir",
	"unlink",
	"unlinkat",
	"rename",
	"renameat",
	"renameat2",
	"link",
	"linkat",
	"fsync",
	"fdatasync",
	"sync_file_range",
	"ftruncate",
	"fallocate",
	"fadvise64",
	"flock",
	"fcntl",
	"dup",
	"dup2",
	"dup3",
	"pipe",
	"pipe2",
	"chdir",
	"fchdir",
	"getcwd",
	"umask",
	"fchmod",
	"fchmodat",
	"chmod",
	"utimensat",
	"memfd_create",
	"copy_file_range",
	"sendfile",
	/* memory */
	"mmap",
	"munmap",
	"mprotect",
	"mremap",
	"madvise",
	"brk",
	"mincore",
	/* threads, the qemu-nbd child, waiting */
	"clone",
	"clone3",
	"fork",
	"vfork",
	"execve",
	"wait4",
	"waitid",
	"exit",
	"exit_group",
	"set_tid_address",
	"set_robust_list",
	"get_robust_list",
	"rseq",
	"futex",
	"sched_getaffinity",
	"sched_yield",
	"getpid",
	"getppid",
	"gettid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getresuid",
	"getresgid",
	"getgroups",
	"setpgid",
	"getpgid",
	"getpgrp",
	"setsid",
	"kill",
	"tgkill",
	"tkill",
	"prctl",
	"arch_prctl",
	"prlimit64",
	"getrlimit",
	"uname",
	"sysinfo",
	"getrandom",
	"get_mempolicy",
	"set_mempolicy",
	"getrusage",
	"times",
	/* more filters can only forbid more (lb_sandbox_tighten) */
	"seccomp",
	/* time */
	"clock_gettime",
	"clock_getres",
	"gettimeofday",
	"time",
	"nanosleep",
	"clock_nanosleep",
	/* signals */
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"rt_sigtimedwait",
	"rt_sigsuspend",
	"signalfd",
	"signalfd4",
	"restart_syscall",
	"alarm",
	"setitimer",
	"getitimer",
	/* waiting for descriptors */
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_create",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"eventfd",
	"eventfd2",
	"timerfd_create",
	"timerfd_settime",
	"timerfd_gettime",
	/* sockets (which may be created is checked below) */
	"bind",
	"listen",
	"accept",
	"accept4",
	"connect",
	"getsockname",
	"getpeername",
	"setsockopt",
	"getsockopt",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"shutdown",
};

/* ioctl requests: terminal queries (isatty), non-blocking and close-on-exec, sizes. */
static const unsigned long allowed_ioctls[] = {
	TCGETS,	   TIOCGWINSZ, FIONREAD, FIONBIO,  FIOCLEX,	     FIONCLEX, BLKGETSIZE64,
	BLKSSZGET, BLKPBSZGET, BLKIOMIN, BLKIOOPT, BLKDISCARDZEROES, BLKROGET, FIGETBSZ,
};

static struct lb_sandbox_report *report_page;
static bool entered;

/*
 * SIGSYS from SECCOMP_RET_TRAP: note the call, then die by the one call the
 * filter kills the process for. Async-signal-safe: a store and a syscall.
 */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	if (report_page && si && si->si_code == SYS_SECCOMP)
		report_page->syscall_nr = si->si_syscall;
	syscall(SYS_rt_sigaction, (long)sig, 0L, 0L, 8L);
	_exit(128 + SIGSYS); /* not reached */
}

bool lb_sandbox_wanted(void)
{
	const char *v = getenv("LIFEBOAT_SANDBOX");

	return !v || !(!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"));
}

/* Add one rule; a call this architecture does not have is skipped. */
static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
		const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	r = seccomp_rule_add_array(ctx, action, nr, n, args);
	return r == -EDOM || r == -EOPNOTSUPP ? 0 : r;
}

static int build(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp a;
	int r = 0;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r >= 0; i++)
		r = rule(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
	for (size_t i = 0; i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]) && r >= 0; i++) {
		a = SCMP_A1(SCMP_CMP_EQ, allowed_ioctls[i]);
		r = rule(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &a);
	}
	if (r < 0)
		return r;
	/* sockets: AF_UNIX only (libnbd's socket to qemu-nbd) */
	a = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
	r = rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &a);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_ALLOW, "socketpair", 1, &a);
	/* any handler but SIGSYS's; changing that one is how on_sigsys() dies */
	a = SCMP_A0(SCMP_CMP_NE, SIGSYS);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_ALLOW, "rt_sigaction", 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, SIGSYS);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_KILL_PROCESS, "rt_sigaction", 1, &a);
	/* a large kernel surface qemu-nbd can do without */
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "io_uring_setup", 0, NULL);
	return r;
}

int lb_sandbox_enter(struct lb_sandbox_report *report)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int r;

	if (report)
		report->syscall_nr = -1;
	report_page = report;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return lb_err(-errno, "worker sandbox",
			      "set LIFEBOAT_SANDBOX=off to run without it",
			      "cannot set no-new-privileges: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r >= 0)
		r = build(ctx);
	if (r >= 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return lb_err(r, "worker sandbox", "set LIFEBOAT_SANDBOX=off to run without it",
			      "cannot load the seccomp filter: %s", strerror(-r));
	entered = true;
	return 0;
}

bool lb_sandbox_active(void)
{
	return entered;
}

int lb_sandbox_tighten(void)
{
	static const char *const no_helpers[] = {"execve", "execveat", "fork", "vfork"};
	const char *fault = getenv("LIFEBOAT_WORKER_FAULT");
	struct scmp_arg_cmp a;
	scmp_filter_ctx ctx;
	int r = 0;

	if (!entered)
		return 0;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	/* a sanitizer reports an error through a symbolizer it starts: let it */
	(void)fault;
	(void)a;
	(void)ctx;
	(void)r;
	(void)no_helpers;
	return 0;
#else
	ctx = seccomp_init(SCMP_ACT_ALLOW); /* the first filter still decides the rest */
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(no_helpers) / sizeof(no_helpers[0]) && r >= 0; i++)
		r = rule(ctx, SCMP_ACT_TRAP, no_helpers[i], 0, NULL);
	/* a new process, not a thread */
	a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_TRAP, "clone", 1, &a);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_TRAP, "socket", 0, NULL);
	if (r >= 0)
		r = rule(ctx, SCMP_ACT_TRAP, "socketpair", 0, NULL);
	if (r >= 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return lb_err(r, "worker sandbox", NULL,
			      "cannot load the second seccomp filter: %s", strerror(-r));
	if (fault && !strcmp(fault, "execve")) {
		char *const argv[] = {(char *)"true", NULL};

		execve("/bin/true", argv, environ);
	}
	return 0;
#endif
}

const char *lb_sandbox_syscall_name(int nr, char *buf, size_t cap)
{
	char *name = nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) : NULL;

	snprintf(buf, cap, "%s", name ? name : "unknown");
	free(name);
	return buf;
}

int lb_sandbox_test_fault(void)
{
	const char *v = getenv("LIFEBOAT_WORKER_FAULT");
	long r;

	if (!v || !*v || !strcmp(v, "execve")) /* execve: see lb_sandbox_tighten() */
		return 0;
	if (!strcmp(v, "socket"))
		r = socket(AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(v, "ptrace"))
		r = ptrace(PTRACE_PEEKUSER, 1, NULL, NULL); /* harmless without the sandbox */
	else if (!strcmp(v, "mount"))
		r = mount("none", "/nonexistent/lifeboat-test", "tmpfs", 0, NULL); /* ditto */
	else
		return lb_err(-EINVAL, "LIFEBOAT_WORKER_FAULT",
			      "use socket, ptrace, mount or execve", "unknown forbidden call '%s'",
			      v);
	if (r < 0)
		return -errno;
	if (!strcmp(v, "socket"))
		close((int)r);
	return -EPERM; /* it ran: no sandbox */
}
