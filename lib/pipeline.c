/* pipeline.c - see pipeline.h.
 *
 * Every thread, the calling one included, runs the same loop: drain what
 * can be drained, else fill what can be filled (and work a batch once its
 * last part is filled), else wait.  Draining comes first because it frees
 * slots for filling.  One mutex and one condition variable guard all the
 * shared state, which keeps the logic in one place.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

enum slot_state { FREE, FILLING, WORKING, DONE, FAILED };

struct slot {
	enum slot_state state;
	uint64_t batch;                /* the batch it holds, unless FREE */
	unsigned left;                 /* FILLING: parts still filling it;
	                                  DONE: parts still to drain it */
	int ended;                     /* FILLING: a part found the end */
	unsigned err_part;             /* FAILED: which part failed */
	sit_err err;                   /* FAILED: why */
};

struct part {
	uint64_t next;                 /* the next batch this part fills or drains */
	int busy;                      /* a thread is in it */
};

struct run {
	const sit_pipeline_ops *ops;
	void *ctx;
	void *const *slots;
	unsigned nslots, nfill, ndrain;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t end;                  /* batches in all, once known */
	int stop;                      /* an error: everyone leaves */
	unsigned sleeping;             /* threads in pthread_cond_wait */
	int failed;                    /* ERR holds the first error */
	uint64_t err_batch;
	unsigned err_part;
	sit_err err;
	struct part *fills;            /* NFILL of them */
	struct part *drains;           /* NDRAIN of them */
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

/* Under the lock, as a thread starts a job: wake one sleeping thread, which
 * takes the next job if there is one and wakes another in turn.  Jobs only
 * become possible when one ends, and the thread that ended it looks for the
 * next one itself, so ending wakes nobody; waking everyone on every change
 * cost 5% of sit-share's time in futex calls. */
static void
wake_one(struct run *r)
{
	if (r->sleeping > 0)
		pthread_cond_signal(&r->changed);
}

/* Under the lock: drain one part's next batch if it is ready.  1 if a
 * drain ran (the lock was let go meanwhile), 0 if none could. */
static int
try_drain(struct run *r)
{
	for (unsigned p = 0; p < r->ndrain; p++) {
		struct part *pt = &r->drains[p];
		uint64_t i = pt->next;
		struct slot *sl = &r->st[i % r->nslots];
		sit_err err = { 0 };
		int rc;

		if (pt->busy || i >= r->end || sl->batch != i ||
		    (sl->state != DONE && sl->state != FAILED))
			continue;
		if (sl->state == FAILED) {
			fail(r, i, sl->err_part, &sl->err);
			return 1;
		}
		pt->busy = 1;
		wake_one(r);
		pthread_mutex_unlock(&r->lock);

		rc = r->ops->drain(r->ctx, r->slots[i % r->nslots], i, p, &err);

		pthread_mutex_lock(&r->lock);
		pt->busy = 0;
		pt->next = i + 1;
		if (rc != 0)
			fail(r, i, p, &err);
		else if (--sl->left == 0)
			sl->state = FREE;
		return 1;
	}
	return 0;
}

/* Under the lock: the last part has filled SL; work it (the lock is let
 * go meanwhile). */
static void
work_slot(struct run *r, struct slot *sl)
{
	uint64_t i = sl->batch;
	sit_err err = { 0 };
	int rc;

	sl->state = WORKING;
	wake_one(r);
	pthread_mutex_unlock(&r->lock);

	rc = r->ops->work(r->ctx, r->slots[i % r->nslots], i, &err);

	pthread_mutex_lock(&r->lock);
	if (rc == 0) {
		sl->state = DONE;
		sl->left = r->ndrain;
	} else {
		sl->state = FAILED;
		sl->err_part = 0;
		sl->err = err;
	}
}

/* Under the lock: fill one part's next batch if its slot is free or being
 * filled with that batch, and work the batch if that was the last part.
 * 1 if a fill ran (the lock was let go meanwhile), 0 if none could. */
static int
try_fill(struct run *r)
{
	for (unsigned p = 0; p < r->nfill; p++) {
		struct part *pt = &r->fills[p];
		uint64_t i = pt->next;
		struct slot *sl = &r->st[i % r->nslots];
		sit_err err = { 0 };
		int rc;

		if (pt->busy || i >= r->end)
			continue;
		if (sl->state == FREE) {
			sl->state = FILLING;
			sl->batch = i;
			sl->left = r->nfill;
			sl->ended = 0;
		} else if (sl->batch != i || (sl->state != FILLING && sl->state != FAILED)) {
			continue;
		}
		pt->busy = 1;
		pt->next = i + 1;
		wake_one(r);
		/* A part that already failed this batch: the others skip it. */
		if (sl->state == FAILED) {
			rc = 1;
		} else {
			pthread_mutex_unlock(&r->lock);
			rc = r->ops->fill(r->ctx, r->slots[i % r->nslots], i, p, &err);
			pthread_mutex_lock(&r->lock);
		}
		pt->busy = 0;
		if (rc < 0 && (sl->state != FAILED || p < sl->err_part)) {
			sl->state = FAILED;
			sl->err_part = p;
			sl->err = err;
		}
		if (rc == 0)
			sl->ended = 1;
		if (--sl->left == 0) {
			if (sl->state == FAILED) {
				/* Nothing is filled after a failed batch. */
				if (r->end > i + 1)
					r->end = i + 1;
			} else if (sl->ended) {
				/* The end: batch i holds nothing. */
				if (r->end > i)
					r->end = i;
				sl->state = FREE;
			} else {
				work_slot(r, sl);
			}
		}
		return 1;
	}
	return 0;
}

/* Under the lock: every part has drained every batch. */
static int
finished(const struct run *r)
{
	for (unsigned p = 0; p < r->ndrain; p++)
		if (r->drains[p].next < r->end)
			return 0;
	return 1;
}

static void *
worker(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop && !finished(r))
		if (!try_drain(r) && !try_fill(r)) {
			r->sleeping++;
			pthread_cond_wait(&r->changed, &r->lock);
			r->sleeping--;
		}
	/* Finished or stopped: everyone leaves. */
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int
run_inline(const sit_pipeline_ops *ops, void *ctx, void *slot, unsigned nfill,
	unsigned ndrain, sit_err *e)
{
	for (uint64_t i = 0;; i++) {
		int ended = 0;

		for (unsigned p = 0; p < nfill; p++) {
			int rc = ops->fill(ctx, slot, i, p, e);

			if (rc < 0)
				return -1;
			ended |= rc == 0;
		}
		if (ended)
			return 0;
		if (ops->work(ctx, slot, i, e) != 0)
			return -1;
		for (unsigned p = 0; p < ndrain; p++)
			if (ops->drain(ctx, slot, i, p, e) != 0)
				return -1;
	}
}

int
sit_pipeline_run(const sit_pipeline_ops *ops, void *ctx, void *const *slots,
	unsigned nslots, unsigned threads, unsigned fill_parts, unsigned drain_parts,
	sit_err *e)
{
	pthread_t tid[SIT_PIPELINE_MAX_THREADS];
	struct run *r;
	unsigned started = 0;
	int rc = 0;

	if (threads > SIT_PIPELINE_MAX_THREADS || nslots < threads + 1 || fill_parts == 0 ||
	    drain_parts == 0)
		return sit_err_set(e, EX_SOFTWARE, "pipeline: %u slots for %u threads, "
			"%u and %u parts", nslots, threads, fill_parts, drain_parts);
	if (threads == 0)
		return run_inline(ops, ctx, slots[0], fill_parts, drain_parts, e);
	r = calloc(1, sizeof *r + nslots * sizeof r->st[0]);
	if (r == NULL || (r->fills = calloc(fill_parts, sizeof *r->fills)) == NULL ||
	    (r->drains = calloc(drain_parts, sizeof *r->drains)) == NULL) {
		if (r != NULL)
			free(r->fills);
		free(r);
		return sit_err_set(e, EX_OSERR, "out of memory");
	}
	r->ops = ops;
	r->ctx = ctx;
	r->slots = slots;
	r->nslots = nslots;
	r->nfill = fill_parts;
	r->ndrain = drain_parts;
	r->end = UINT64_MAX;
	if (pthread_mutex_init(&r->lock, NULL) != 0 ||
	    pthread_cond_init(&r->changed, NULL) != 0) {
		free(r->fills);
		free(r->drains);
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
	free(r->fills);
	free(r->drains);
	free(r);
	return rc;
}

unsigned
sit_pipeline_threads(void)
{
	cpu_set_t set;
	int n;

	/* The CPUs this process may run on (taskset, cpusets), not all the
	 * machine has; the calling thread works too, so one thread fewer
	 * (measured on 2 CPUs: a third thread made sit-share 2-of-2 15%
	 * slower, 3-of-5 9%, sit-unshare 10%). */
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 0;
	n = CPU_COUNT(&set);
	if (n <= 1)
		return 0;
	return n > 4 ? 3 : (unsigned)n - 1;
}
