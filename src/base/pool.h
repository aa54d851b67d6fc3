/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pool.h - a small fixed pool of worker threads running jobs, for the
 * backup and restore pipelines (read -> chunk -> hash -> compress -> seal ->
 * write on every core).
 *
 *     struct lb_pool *p;
 *     lb_pool_new(0, &p);                   0: one thread per online CPU
 *     lb_pool_submit(p, fn, arg);           runs fn(arg) on some thread
 *     lb_pool_wait(p);                      until every submitted job is done
 *     lb_pool_free(p);                      waits, then stops the threads
 *
 * Jobs must not call lb_pool_wait() on their own pool, nor lb_pool_submit()
 * (with every thread blocked on a full queue nothing would run): a job that
 * wants a follow-up uses lb_pool_try_submit(). Jobs report results through
 * their argument; the pool records nothing. The queue is bounded
 * (LB_POOL_QUEUE jobs): lb_pool_submit() blocks while it is full, which is
 * what keeps a pipeline's memory flat. Jobs start in the order submitted.
 *
 * Any thread may submit and wait; lb_pool_free() must not race with them.
 */
#ifndef LB_BASE_POOL_H
#define LB_BASE_POOL_H

#define LB_POOL_QUEUE 64

struct lb_pool;

/* Start @threads threads (0: the number of online CPUs). Returns 0, -ENOMEM, -EAGAIN. */
int lb_pool_new(unsigned threads, struct lb_pool **out);
unsigned lb_pool_threads(const struct lb_pool *p);
/* Queue a job; blocks while the queue is full. Returns 0 (never fails once the pool exists). */
int lb_pool_submit(struct lb_pool *p, void (*fn)(void *arg), void *arg);
/* Queue a job if there is room. Returns 0, or -EAGAIN (the queue is full; nothing queued). */
int lb_pool_try_submit(struct lb_pool *p, void (*fn)(void *arg), void *arg);
/*
 * Run the oldest queued job on the calling thread, if there is one: what a
 * thread that must wait for a job's result does instead of sleeping, so that
 * it works too (a pipeline's feeding thread plus the pool's threads then keep
 * every core busy). Returns 1 if a job ran, 0 if the queue was empty.
 */
int lb_pool_run_one(struct lb_pool *p);

/*
 * Wait until every job submitted before this call has finished (jobs that
 * other threads submit meanwhile are not waited for).
 */
void lb_pool_wait(struct lb_pool *p);
/* Wait for the jobs, stop the threads, free. NULL-safe. */
void lb_pool_free(struct lb_pool *p);

#endif
