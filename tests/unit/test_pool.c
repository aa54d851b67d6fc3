/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pool - the thread pool: every job runs once, lb_pool_wait() waits for
 * exactly the jobs submitted before it, and a full queue makes submit block
 * (checked with jobs held on a gate the test opens: no sleeps).
 */
#include "harness.h"

#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ---- sums -------------------------------------------------------------------------- */

static atomic_ullong sum;
static atomic_uint ran;

static void add_job(void *arg)
{
	atomic_fetch_add(&sum, (unsigned long long)(uintptr_t)arg);
	atomic_fetch_add(&ran, 1);
}

static void test_many_jobs(void)
{
	struct lb_pool *p = NULL;
	const unsigned n = 100000;

	CHECK_INT(lb_pool_new(4, &p), 0);
	if (!p)
		return;
	CHECK_INT(lb_pool_threads(p), 4);
	atomic_store(&sum, 0);
	atomic_store(&ran, 0);
	for (unsigned i = 1; i <= n; i++)
		CHECK_INT(lb_pool_submit(p, add_job, (void *)(uintptr_t)i), 0);
	lb_pool_wait(p);
	CHECK_U64(atomic_load(&sum), (unsigned long long)n * (n + 1) / 2);
	CHECK_INT(atomic_load(&ran), n);

	/* a second round after a wait, then a wait with nothing queued */
	for (unsigned i = 0; i < 1000; i++)
		lb_pool_submit(p, add_job, (void *)(uintptr_t)2);
	lb_pool_wait(p);
	CHECK_INT(atomic_load(&ran), n + 1000);
	lb_pool_wait(p);
	lb_pool_free(p);
	lb_pool_free(NULL);
}

static void test_default_threads(void)
{
	struct lb_pool *p = NULL;

	CHECK_INT(lb_pool_new(0, &p), 0);
	if (!p)
		return;
	CHECK(lb_pool_threads(p) >= 1);
	atomic_store(&ran, 0);
	for (unsigned i = 0; i < 10; i++)
		lb_pool_submit(p, add_job, (void *)(uintptr_t)1);
	/* free waits for the jobs */
	lb_pool_free(p);
	CHECK_INT(atomic_load(&ran), 10);
}

/* ---- a gate the test opens ------------------------------------------------------------ */

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	unsigned arrived; /* jobs that reached the gate */
	unsigned passed;  /* jobs that went through it */
};

static struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0};

static void gate_reset(void)
{
	g.open = false;
	g.arrived = 0;
	g.passed = 0;
}

static void gate_job(void *arg)
{
	pthread_mutex_lock(&g.lock);
	g.arrived++;
	pthread_cond_broadcast(&g.cond);
	while (!g.open)
		pthread_cond_wait(&g.cond, &g.lock);
	g.passed++;
	pthread_mutex_unlock(&g.lock);
}

static void gate_wait_arrived(unsigned n)
{
	pthread_mutex_lock(&g.lock);
	while (g.arrived < n)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&g.lock);
	g.open = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

static unsigned gate_passed(void)
{
	unsigned n;

	pthread_mutex_lock(&g.lock);
	n = g.passed;
	pthread_mutex_unlock(&g.lock);
	return n;
}

struct submitter {
	struct lb_pool *p;
	atomic_int returned;
};

static void *submit_thread(void *arg)
{
	struct submitter *s = arg;

	lb_pool_submit(s->p, add_job, (void *)(uintptr_t)1);
	atomic_store(&s->returned, 1);
	return NULL;
}

/*
 * One thread held at the gate, the queue filled to LB_POOL_QUEUE: try_submit
 * refuses, a blocking submit does not return until the gate opens.
 */
static void test_queue_full(void)
{
	struct lb_pool *p = NULL;
	struct submitter s = {0};
	pthread_t t;

	gate_reset();
	atomic_store(&ran, 0);
	CHECK_INT(lb_pool_new(1, &p), 0);
	if (!p)
		return;
	CHECK_INT(lb_pool_submit(p, gate_job, NULL), 0);
	gate_wait_arrived(1); /* the only thread is busy: the queue is empty */
	for (unsigned i = 0; i < LB_POOL_QUEUE; i++)
		CHECK_INT(lb_pool_try_submit(p, gate_job, NULL), 0);
	CHECK_INT(lb_pool_try_submit(p, add_job, (void *)(uintptr_t)1), -EAGAIN);
	CHECK_INT(lb_pool_try_submit(p, add_job, (void *)(uintptr_t)1), -EAGAIN);

	s.p = p;
	CHECK_INT(pthread_create(&t, NULL, submit_thread, &s), 0);
	/* nothing can leave the queue while the gate is closed */
	CHECK_INT(atomic_load(&s.returned), 0);
	CHECK_INT(gate_passed(), 0);
	CHECK_INT(atomic_load(&ran), 0);
	gate_open();
	pthread_join(t, NULL);
	CHECK_INT(atomic_load(&s.returned), 1);
	lb_pool_wait(p);
	CHECK_INT(gate_passed(), 1 + LB_POOL_QUEUE);
	CHECK_INT(atomic_load(&ran), 1); /* the blocked submit's job, not the refused ones */
	lb_pool_free(p);
}

/*
 * lb_pool_wait() waits for the jobs submitted before it, not for later ones:
 * with one job held at the gate, a wait started after it returns only once
 * the gate is open.
 */
struct waiter {
	struct lb_pool *p;
	atomic_int done;
	unsigned passed_seen;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	lb_pool_wait(w->p);
	w->passed_seen = gate_passed();
	atomic_store(&w->done, 1);
	return NULL;
}

static void test_wait_semantics(void)
{
	struct lb_pool *p = NULL;
	struct waiter w = {0};
	pthread_t t;

	gate_reset();
	CHECK_INT(lb_pool_new(2, &p), 0);
	if (!p)
		return;
	lb_pool_submit(p, gate_job, NULL);
	lb_pool_submit(p, gate_job, NULL);
	gate_wait_arrived(2);
	w.p = p;
	CHECK_INT(pthread_create(&t, NULL, wait_thread, &w), 0);
	CHECK_INT(atomic_load(&w.done), 0);
	gate_open();
	pthread_join(t, NULL);
	/* when the wait returned, both jobs had finished */
	CHECK_INT(w.passed_seen, 2);
	lb_pool_free(p);
}

LB_TEST_MAIN(T(test_many_jobs), T(test_default_threads), T(test_queue_full), T(test_wait_semantics))
