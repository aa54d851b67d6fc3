/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * worker.c - one process per job (see worker.h).
 */
#include "repair/worker.h"
#include "repair/sandbox.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct slot {
	pid_t pid; /* 0: free */
	int fd;
	size_t item;
	struct lb_buf out;
	bool truncated;
	bool eof;
	bool signalled;			  /* SIGINT passed on */
	struct lb_sandbox_report *report; /* shared with the worker */
};

/* In the worker: confine it, then do the job. Never returns. */
static void run_child(struct lb_sandbox_report *report, size_t item, lb_worker_fn fn, void *ctx,
		      int fd)
{
	int status;

	setpgid(0, 0);
	/* die if the parent dies: nobody would roll us back */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (lb_sandbox_wanted()) {
		if (lb_sandbox_enter(report) < 0) {
			const struct lb_error *e = lb_err_last();

			/* the parent reports a worker that ends without a report */
			dprintf(2, "lifeboat: %s: %s; %s\n", e->object, e->problem, e->hint);
			_exit(LB_WORKER_EXIT_SANDBOX);
		}
		report->enabled = 1;
	}
	status = lb_sandbox_test_fault();
	if (status == -EINVAL)
		dprintf(2, "lifeboat: %s: %s; %s\n", lb_err_last()->object, lb_err_last()->problem,
			lb_err_last()->hint);
	else if (status < 0)
		dprintf(2,
			"lifeboat: LIFEBOAT_WORKER_FAULT=%s: the forbidden call was not stopped\n",
			getenv("LIFEBOAT_WORKER_FAULT"));
	status = fn(ctx, item, fd);
	close(fd);
	_exit(status & 0xff);
}

static int start(struct slot *s, size_t item, lb_worker_fn fn, void *ctx)
{
	struct lb_sandbox_report *report = s->report;
	int p[2];
	pid_t pid;

	report->syscall_nr = -1;
	report->enabled = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(p[0]);
		close(p[1]);
		return e;
	}
	if (pid == 0) {
		close(p[0]);
		run_child(report, item, fn, ctx, p[1]);
	}
	setpgid(pid, pid); /* also here, so it holds before kill(-pid) whatever runs first */
	close(p[1]);
	memset(s, 0, sizeof(*s));
	s->report = report;
	s->pid = pid;
	s->fd = p[0];
	s->item = item;
	lb_buf_init(&s->out, LB_WORKER_MAX_OUTPUT);
	return 0;
}

/* Kill and reap what the worker left in its process group (we are their subreaper). */
static void reap_group(pid_t pgid)
{
	int st;

	if (kill(-pgid, SIGKILL) < 0 && errno == ESRCH)
		return;
	while (waitpid(-pgid, &st, 0) > 0 || errno == EINTR)
		;
}

static void finish(struct slot *s, lb_worker_done_fn done, void *ctx)
{
	struct lb_worker_exit ex = {.started = true, .truncated = s->truncated};
	int st;

	while (waitpid(s->pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = 0;
			ex.signal = SIGKILL; /* lost: treat as killed */
			break;
		}
	}
	if (!ex.signal) {
		if (WIFEXITED(st)) {
			ex.exited = true;
			ex.status = WEXITSTATUS(st);
		} else if (WIFSIGNALED(st)) {
			ex.signal = WTERMSIG(st);
		}
	}
	ex.sandboxed = s->report->enabled != 0;
	ex.sandbox_kill = ex.sandboxed && ex.signal == SIGSYS;
	ex.syscall_nr = ex.sandbox_kill ? s->report->syscall_nr : -1;
	reap_group(s->pid);
	close(s->fd);
	done(ctx, s->item, &ex, s->out.data ? s->out.data : "", s->out.len);
	lb_buf_release(&s->out);
	s->pid = 0;
}

int lb_workers_run(size_t n, unsigned jobs, lb_worker_fn fn, lb_worker_done_fn done, void *ctx)
{
	struct lb_sandbox_report *reports;
	struct slot *slots;
	struct pollfd *pfd;
	size_t next = 0, finished = 0;
	unsigned running = 0;
	bool stopped = false;
	int r = 0;

	if (!jobs)
		jobs = 1;
	if (jobs > n)
		jobs = n ? (unsigned)n : 1;
	slots = calloc(jobs, sizeof(*slots));
	pfd = calloc(jobs, sizeof(*pfd));
	/* what each worker's sandbox says about its death, shared across fork */
	reports = mmap(NULL, jobs * sizeof(*reports), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!slots || !pfd || reports == MAP_FAILED) {
		free(slots);
		free(pfd);
		if (reports != MAP_FAILED)
			munmap(reports, jobs * sizeof(*reports));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < jobs; i++)
		slots[i].report = &reports[i];
	/* orphaned grandchildren (qemu-nbd) become ours, so we can wait for them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	while (finished < n) {
		unsigned k = 0;

		if (lb_interrupted_check())
			stopped = true;
		/* fill free slots */
		for (unsigned i = 0; i < jobs && !stopped && next < n; i++) {
			if (slots[i].pid)
				continue;
			int e = start(&slots[i], next, fn, ctx);

			if (e < 0) {
				struct lb_worker_exit ex = {.syscall_nr = -1};

				lb_err(e, "worker", NULL, "cannot start a worker process: %s",
				       strerror(-e));
				done(ctx, next, &ex, "", 0);
				finished++;
				next++;
				continue;
			}
			running++;
			next++;
		}
		if (stopped) {
			/* never started: report them */
			while (next < n) {
				struct lb_worker_exit ex = {.syscall_nr = -1};

				done(ctx, next++, &ex, "", 0);
				finished++;
			}
			for (unsigned i = 0; i < jobs; i++)
				if (slots[i].pid && !slots[i].signalled) {
					kill(slots[i].pid, SIGINT);
					slots[i].signalled = true;
				}
		}
		if (!running)
			continue;
		for (unsigned i = 0; i < jobs; i++) {
			if (!slots[i].pid)
				continue;
			pfd[k].fd = slots[i].fd;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
			k++;
		}
		if (poll(pfd, k, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		k = 0;
		for (unsigned i = 0; i < jobs; i++) {
			struct slot *s = &slots[i];
			char buf[65536];
			ssize_t got;

			if (!s->pid)
				continue;
			if (!pfd[k++].revents)
				continue;
			got = read(s->fd, buf, sizeof(buf));
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got > 0) {
				if (!s->truncated && lb_buf_append(&s->out, buf, (size_t)got) < 0)
					s->truncated = true;
				continue;
			}
			finish(s, done, ctx);
			running--;
			finished++;
		}
	}
	free(slots);
	free(pfd);
	munmap(reports, jobs * sizeof(*reports));
	if (r < 0)
		return r;
	return stopped ? -EINTR : 0;
}
