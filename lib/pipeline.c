/* pipeline.c - see pipeline.h.
 *
 * Every thread, the calling one included, runs the same loop: drain what
 * can be drained, else fill and work the next batch, else wait.  Draining
 * comes first because it frees slots for filling.  One mutex and one
 * condition variable guard all the shared state: with a handful of threads
 * and batches of hundreds of kilobytes, waking everyone on every change
 * costs nothing measurable and keeps the logic in one place.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

enum slot_state { FREE, BUSY, DONE, FAILED };

struct slot {
	enum slot_state state;
	uint64_t batch;                /* the batch it holds, unless FREE */
	unsigned undrained;            /* DONE: parts still to drain it */
	sit_err err;                   /* FAILED: why */
};

struct part {
	uint64_t next;                 /* the next batch this part drains */
	int busy;                      /* a thread is draining it */
};

struct run {
	const sit_pipeline_ops *ops;
	void *ctx;
	void *const *slots;
	unsigned nslots, nparts;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t next_fill;            /* the next batch to fill */
	uint64_t end;                  /* batches in all, once known */
	int filling;                   /* a thread is in fill() */
	int stop;                      /* an error: everyone leaves */
	int failed;                    /* ERR holds the first error */
	uint64_t err_batch;
	unsigned err_part;
	sit_err err;
	struct part *parts;            /* NPARTS of them */
	struct slot st[];              /* NSLOTS of them */
};

/* Under the lock: keep ERR if it comes before the one held, and stop. */
static void
fail(struct run *r, uint64_t batch, unsigned part, const sit_err *err)
{
	if (!r->failed || batch < r->err_batch ||
	    (batch == r->err_batch && part < r->err_part)) {
		r->failed = 1;
		r->err_batch = batch;
		r->err_part = part;
		r->err = *err;
	}
	r->stop = 1;
	pthread_cond_broadcast(&r->changed);
}

/* Under the lock: drain one part's next batch if it is ready.  1 if a
 * drain ran (the lock was let go meanwhile), 0 if none could. */
static int
try_drain(struct run *r)
{
	for (unsigned p = 0; p < r->nparts; p++) {
		struct part *pt = &r->parts[p];
		uint64_t i = pt->next;
		unsigned s = (unsigned)(i % r->nslots);
		struct slot *sl = &r->st[s];
		sit_err err = { 0 };
		int rc;

		if (pt->busy || i >= r->end || sl->state == FREE || sl->state == BUSY ||
		    sl->batch != i)
			continue;
		if (sl->state == FAILED) {
			fail(r, i, 0, &sl->err);
			return 1;
		}
		pt->busy = 1;
		pthread_mutex_unlock(&r->lock);

		rc = r->ops->drain(r->ctx, r->slots[s], i, p, &err);

		pthread_mutex_lock(&r->lock);
		pt->busy = 0;
		pt->next = i + 1;
		if (rc != 0)
			fail(r, i, p, &err);
		else if (--sl->undrained == 0)
			sl->state = FREE;
		pthread_cond_broadcast(&r->changed);
		return 1;
	}
	return 0;
}

/* Under the lock: fill and work the next batch if its slot is free.  1 if
 * that ran (the lock was let go meanwhile), 0 if it could not. */
static int
try_fill(struct run *r)
{
	uint64_t i = r->next_fill;
	unsigned s = (unsigned)(i % r->nslots);
	struct slot *sl = &r->st[s];
	sit_err err = { 0 };
	int rc;

	if (r->filling || i >= r->end || sl->state != FREE)
		return 0;
	r->next_fill = i + 1;
	r->filling = 1;
	sl->state = BUSY;
	sl->batch = i;
	pthread_mutex_unlock(&r->lock);

	rc = r->ops->fill(r->ctx, r->slots[s], i, &err);

	pthread_mutex_lock(&r->lock);
	r->filling = 0;
	if (rc <= 0) {
		/* The end, or an error: nothing is filled after batch i. */
		r->end = rc == 0 ? i : i + 1;
		sl->state = rc == 0 ? FREE : FAILED;
		sl->err = err;
		pthread_cond_broadcast(&r->changed);
		return 1;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);

	rc = r->ops->work(r->ctx, r->slots[s], i, &err);

	pthread_mutex_lock(&r->lock);
	sl->state = rc == 0 ? DONE : FAILED;
	sl->undrained = r->nparts;
	sl->err = err;
	pthread_cond_broadcast(&r->changed);
	return 1;
}

/* Under the lock: every part has drained every batch. */
static int
finished(const struct run *r)
{
	for (unsigned p = 0; p < r->nparts; p++)
		if (r->parts[p].next < r->end)
			return 0;
	return 1;
}

static void *
worker(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop && !finished(r))
		if (!try_drain(r) && !try_fill(r))
			pthread_cond_wait(&r->changed, &r->lock);
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int
run_inline(const sit_pipeline_ops *ops, void *ctx, void *slot, unsigned parts, sit_err *e)
{
	for (uint64_t i = 0;; i++) {
		int rc = ops->fill(ctx, slot, i, e);

		if (rc <= 0)
			return rc;
		if (ops->work(ctx, slot, i, e) != 0)
			return -1;
		for (unsigned p = 0; p < parts; p++)
			if (ops->drain(ctx, slot, i, p, e) != 0)
				return -1;
	}
}

int
sit_pipeline_run(const sit_pipeline_ops *ops, void *ctx, void *const *slots,
	unsigned nslots, unsigned threads, unsigned parts, sit_err *e)
{
	pthread_t tid[SIT_PIPELINE_MAX_THREADS];
	struct run *r;
	unsigned started = 0;
	int rc = 0;

	if (threads > SIT_PIPELINE_MAX_THREADS || nslots < threads + 1 || parts == 0)
		return sit_err_set(e, EX_SOFTWARE, "pipeline: %u slots for %u threads, %u parts",
			nslots, threads, parts);
	if (threads == 0)
		return run_inline(ops, ctx, slots[0], parts, e);
	r = calloc(1, sizeof *r + nslots * sizeof r->st[0]);
	if (r == NULL || (r->parts = calloc(parts, sizeof *r->parts)) == NULL) {
		free(r);
		return sit_err_set(e, EX_OSERR, "out of memory");
	}
	r->ops = ops;
	r->ctx = ctx;
	r->slots = slots;
	r->nslots = nslots;
	r->nparts = parts;
	r->end = UINT64_MAX;
	if (pthread_mutex_init(&r->lock, NULL) != 0 ||
	    pthread_cond_init(&r->changed, NULL) != 0) {
		free(r->parts);
		free(r);
		return sit_err_set(e, EX_OSERR, "cannot set up threads");
	}
	/* No thread at all (out of resources) is not an error: the calling
	 * thread does everything. */
	while (started < threads && pthread_create(&tid[started], NULL, worker, r) == 0)
		started++;
	worker(r);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (r->failed) {
		*e = r->err;
		rc = -1;
	}
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r->parts);
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
