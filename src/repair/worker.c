/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * worker.c - one process per job (see worker.h).
 */
#include "repair/worker.h"
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
	bool signalled; /* SIGINT passed on */
};

static int start(struct slot *s, size_t item, lb_worker_fn fn, void *ctx)
{
	int p[2];
	pid_t pid;

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
		int status;

		close(p[0]);
		setpgid(0, 0);
		/* die if the parent dies: nobody would roll us back */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		status = fn(ctx, item, p[1]);
		close(p[1]);
		_exit(status & 0xff);
	}
	setpgid(pid, pid); /* also here, so it holds before kill(-pid) whatever runs first */
	close(p[1]);
	memset(s, 0, sizeof(*s));
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
	reap_group(s->pid);
	close(s->fd);
	done(ctx, s->item, &ex, s->out.data ? s->out.data : "", s->out.len);
	lb_buf_release(&s->out);
	s->pid = 0;
}

int lb_workers_run(size_t n, unsigned jobs, lb_worker_fn fn, lb_worker_done_fn done, void *ctx)
{
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
	if (!slots || !pfd) {
		free(slots);
		free(pfd);
		return -ENOMEM;
	}
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
				struct lb_worker_exit ex = {0};

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
				struct lb_worker_exit ex = {0};

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
	if (r < 0)
		return r;
	return stopped ? -EINTR : 0;
}
