/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pool.c - a fixed set of threads taking jobs from one bounded ring.
 *
 * One mutex guards the ring and two counters: @submitted (jobs ever queued)
 * and @finished (jobs ever completed). lb_pool_wait() notes @submitted on
 * entry and sleeps until @finished reaches it, so it waits for exactly the
 * jobs submitted before it was called, even while other threads keep
 * submitting.
 */
#include "base/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define LB_POOL_MAX_THREADS 1024

struct job {
	void (*fn)(void *arg);
	void *arg;
};

struct lb_pool {
	pthread_mutex_t lock;
	pthread_cond_t not_empty; /* a job was queued, or stop */
	pthread_cond_t not_full;  /* a job was taken off the ring */
	pthread_cond_t done;	  /* a job finished */
	struct job ring[LB_POOL_QUEUE];
	unsigned head, count; /* ring[head] is the oldest queued job */
	uint64_t submitted, finished;
	bool stop;
	unsigned nthreads; /* threads started */
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct lb_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job j;

		while (!p->count && !p->stop)
			pthread_cond_wait(&p->not_empty, &p->lock);
		if (!p->count)
			break; /* stopping, and nothing left to run */
		j = p->ring[p->head];
		p->head = (p->head + 1) % LB_POOL_QUEUE;
		p->count--;
		pthread_cond_signal(&p->not_full);
		pthread_mutex_unlock(&p->lock);

		j.fn(j.arg);

		pthread_mutex_lock(&p->lock);
		p->finished++;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void stop_threads(struct lb_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->not_empty);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

static void destroy(struct lb_pool *p)
{
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->not_full);
	pthread_cond_destroy(&p->not_empty);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

int lb_pool_new(unsigned threads, struct lb_pool **out)
{
	struct lb_pool *p;

	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > LB_POOL_MAX_THREADS)
		threads = LB_POOL_MAX_THREADS;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->threads = calloc(threads, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->not_empty, NULL);
	pthread_cond_init(&p->not_full, NULL);
	pthread_cond_init(&p->done, NULL);
	for (unsigned i = 0; i < threads; i++) {
		int r = pthread_create(&p->threads[i], NULL, worker, p);

		if (r) {
			stop_threads(p);
			destroy(p);
			return r == ENOMEM ? -ENOMEM : -EAGAIN;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

unsigned lb_pool_threads(const struct lb_pool *p)
{
	return p->nthreads;
}

/* Queue @fn; the lock is held. */
static void push(struct lb_pool *p, void (*fn)(void *arg), void *arg)
{
	p->ring[(p->head + p->count) % LB_POOL_QUEUE] = (struct job){fn, arg};
	p->count++;
	p->submitted++;
	pthread_cond_signal(&p->not_empty);
}

int lb_pool_submit(struct lb_pool *p, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&p->lock);
	while (p->count == LB_POOL_QUEUE)
		pthread_cond_wait(&p->not_full, &p->lock);
	push(p, fn, arg);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int lb_pool_run_one(struct lb_pool *p)
{
	struct job j;

	pthread_mutex_lock(&p->lock);
	if (!p->count) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	j = p->ring[p->head];
	p->head = (p->head + 1) % LB_POOL_QUEUE;
	p->count--;
	pthread_cond_signal(&p->not_full);
	pthread_mutex_unlock(&p->lock);

	j.fn(j.arg);

	pthread_mutex_lock(&p->lock);
	p->finished++;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	return 1;
}

int lb_pool_try_submit(struct lb_pool *p, void (*fn)(void *arg), void *arg)
{
	int r = -EAGAIN;

	pthread_mutex_lock(&p->lock);
	if (p->count < LB_POOL_QUEUE) {
		push(p, fn, arg);
		r = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

void lb_pool_wait(struct lb_pool *p)
{
	uint64_t target;

	pthread_mutex_lock(&p->lock);
	target = p->submitted;
	while (p->finished < target)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void lb_pool_free(struct lb_pool *p)
{
	if (!p)
		return;
	lb_pool_wait(p);
	stop_threads(p);
	destroy(p);
}
