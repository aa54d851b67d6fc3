/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * worker.h - run one job per item in its own process, at most N at a time,
 * so that a crash while parsing one image's bytes (a corrupt volume can crash
 * a file-system library) is contained and reported, never fatal to the run.
 *
 * Each worker is forked, becomes the leader of its own process group, runs
 * @fn and writes its result to a pipe. The parent reads every pipe as data
 * arrives (so a large result never blocks a worker), reaps the worker, then
 * kills and reaps whatever the worker left in its process group (qemu-nbd
 * children: the parent is their subreaper), and only then calls @done, so
 * that @done can safely reopen the worker's image (to roll it back, say).
 *
 * Each worker confines itself before @fn runs: no new privileges and a
 * seccomp filter (sandbox.h; LIFEBOAT_SANDBOX=off skips it). A worker that
 * makes a forbidden system call is killed (SIGSYS), and @done learns which
 * call it was.
 *
 * While lb_stop_requested is set the parent starts no new worker and passes
 * SIGINT on to the running ones (only to the worker, not its children), which
 * stop at a safe point.
 */
#ifndef LB_REPAIR_WORKER_H
#define LB_REPAIR_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#define LB_WORKER_MAX_OUTPUT (64u << 20) /* bytes a worker may report */

struct lb_worker_exit {
	bool exited; /* exited normally with @status */
	int status;
	int signal;	/* killed by this signal (0 if exited) */
	bool truncated; /* wrote more than LB_WORKER_MAX_OUTPUT: the rest was dropped */
	bool started;	/* false: the job was never started (interrupted, or fork failed) */
	bool sandboxed;	/* the worker ran under the seccomp filter (sandbox.h) */
	bool sandbox_kill; /* killed by the sandbox: it made a forbidden system call */
	int syscall_nr;	   /* that call's number, -1 if unknown */
};

/* Exit status of a worker whose sandbox could not be set up. */
#define LB_WORKER_EXIT_SANDBOX 125

/* In the child: do the job for @item, write the result to @fd. The return value is the exit status. */
typedef int (*lb_worker_fn)(void *ctx, size_t item, int fd);
/* In the parent, once per item, in order of completion. @data holds what the worker wrote. */
typedef void (*lb_worker_done_fn)(void *ctx, size_t item, const struct lb_worker_exit *ex,
				  const char *data, size_t len);

/*
 * Run @n jobs, at most @jobs at a time (>= 1). Returns 0 when every job was
 * run (whatever each one's outcome), -EINTR if interrupted (@done was called
 * for every item, with started false for those never run), -ENOMEM.
 */
int lb_workers_run(size_t n, unsigned jobs, lb_worker_fn fn, lb_worker_done_fn done, void *ctx);

#endif
