/* pipeline.c - see pipeline.h.
 *
 * One mutex and one condition variable guard all the shared state: with at
 * most a handful of threads and batches of hundreds of kilobytes, waking
 * everyone on every change costs nothing measurable and keeps the logic in
 * one place.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

enum slot_state { FREE, BUSY, DONE, FAILED };

struct slot {
	enum slot_state state;
	sit_err err;                   /* FAILED: why */
};

struct run {
	const sit_pipeline_ops *ops;
	void *ctx;
	void *const *slots;
	unsigned nslots;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t next_fill;            /* the next batch to fill */
	uint64_t end;                  /* batches in all, once known */
	int filling;                   /* a worker is in fill() */
	int stop;                      /* the calling thread gave up */
	struct slot st[];              /* NSLOTS of them */
};

/* Under the lock: record how batch I in slot S ended, wake everyone. */
static void
finish(struct run *r, unsigned s, enum slot_state state, const sit_err *err)
{
	r->st[s].state = state;
	if (state == FAILED)
		r->st[s].err = *err;
	pthread_cond_broadcast(&r->changed);
}

static void *
worker(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		uint64_t i = r->next_fill;
		unsigned s = (unsigned)(i % r->nslots);
		sit_err err = { 0 };
		int rc;

		if (r->stop || i >= r->end)
			break;
		if (r->filling || r->st[s].state != FREE) {
			pthread_cond_wait(&r->changed, &r->lock);
			continue;
		}
		r->next_fill = i + 1;
		r->filling = 1;
		r->st[s].state = BUSY;
		pthread_mutex_unlock(&r->lock);

		rc = r->ops->fill(r->ctx, r->slots[s], i, &err);

		pthread_mutex_lock(&r->lock);
		r->filling = 0;
		if (rc <= 0) {
			/* The end, or an error: nothing is filled after batch i. */
			r->end = rc == 0 ? i : i + 1;
			finish(r, s, rc == 0 ? FREE : FAILED, &err);
			continue;
		}
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);

		rc = r->ops->work(r->ctx, r->slots[s], i, &err);

		pthread_mutex_lock(&r->lock);
		finish(r, s, rc == 0 ? DONE : FAILED, &err);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* The calling thread: drain batches in order until the end or an error. */
static int
drain_all(struct run *r, sit_err *e)
{
	for (uint64_t i = 0;; i++) {
		unsigned s = (unsigned)(i % r->nslots);
		int rc;

		pthread_mutex_lock(&r->lock);
		while (i < r->end && r->st[s].state != DONE && r->st[s].state != FAILED)
			pthread_cond_wait(&r->changed, &r->lock);
		if (i >= r->end) {
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
		if (r->st[s].state == FAILED) {
			*e = r->st[s].err;
			pthread_mutex_unlock(&r->lock);
			return -1;
		}
		pthread_mutex_unlock(&r->lock);

		rc = r->ops->drain(r->ctx, r->slots[s], i, e);

		pthread_mutex_lock(&r->lock);
		r->st[s].state = FREE;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		if (rc != 0)
			return -1;
	}
}

static int
run_inline(const sit_pipeline_ops *ops, void *ctx, void *slot, sit_err *e)
{
	for (uint64_t i = 0;; i++) {
		int rc = ops->fill(ctx, slot, i, e);

		if (rc <= 0)
			return rc;
		if (ops->work(ctx, slot, i, e) != 0 || ops->drain(ctx, slot, i, e) != 0)
			return -1;
	}
}

int
sit_pipeline_run(const sit_pipeline_ops *ops, void *ctx, void *const *slots,
	unsigned nslots, unsigned threads, sit_err *e)
{
	pthread_t tid[SIT_PIPELINE_MAX_THREADS];
	struct run *r;
	unsigned started = 0;
	int rc;

	if (threads > SIT_PIPELINE_MAX_THREADS || nslots < threads + 1)
		return sit_err_set(e, EX_SOFTWARE, "pipeline: %u slots for %u threads",
			nslots, threads);
	if (threads == 0)
		return run_inline(ops, ctx, slots[0], e);
	r = calloc(1, sizeof *r + nslots * sizeof r->st[0]);
	if (r == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory");
	r->ops = ops;
	r->ctx = ctx;
	r->slots = slots;
	r->nslots = nslots;
	r->end = UINT64_MAX;
	if (pthread_mutex_init(&r->lock, NULL) != 0 ||
	    pthread_cond_init(&r->changed, NULL) != 0) {
		free(r);
		return sit_err_set(e, EX_OSERR, "cannot set up threads");
	}
	while (started < threads && pthread_create(&tid[started], NULL, worker, r) == 0)
		started++;
	/* No thread at all (out of resources): the same work, one stage at a
	 * time, rather than a failure. */
	rc = started == 0 ? run_inline(ops, ctx, slots[0], e) : drain_all(r, e);
	/* Whatever happened, stop the workers before the slots go away. */
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return rc;
}

unsigned
sit_pipeline_threads(void)
{
	cpu_set_t set;
	int n;

	/* The CPUs this process may run on (taskset, cpusets), not all the
	 * machine has: one CPU means no threads at all. */
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 0;
	n = CPU_COUNT(&set);
	if (n <= 1)
		return 0;
	return n > 4 ? 4 : (unsigned)n;
}
