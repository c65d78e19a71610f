/* pipeline.h - batches through three stages: read in order, work in
 * parallel, write in order.
 *
 * sit-share and sit-unshare spend their time in three kinds of work: reading
 * (one descriptor, or several in turns, in order), computing (keystream and
 * GF(2^8) arithmetic, independent from batch to batch) and writing (in
 * order again).  One thread doing all three in turn leaves a second core
 * idle; here worker threads fill batches in order and compute them side by
 * side while the calling thread writes the finished ones out, in order.
 *
 * The caller owns SLOTS: NSLOTS buffers, each big enough for one batch.
 * Batch i always goes through slot i mod NSLOTS, so a slot is reused only
 * after the calling thread has drained it.
 *
 *   fill(ctx, slot, i, e)   called for i = 0, 1, 2... one at a time (never
 *                           two at once), from a worker thread: put batch i
 *                           into SLOT.  Return 1 when it holds data, 0 when
 *                           the input has ended (the slot is then unused),
 *                           -1 with E set on error.
 *   work(ctx, slot, i, e)   on a worker thread, several at once on
 *                           different slots: 0 or -1 with E set.
 *   drain(ctx, slot, i, e)  on the calling thread, for i = 0, 1, 2... in
 *                           order: 0 or -1 with E set.
 *
 * The first error in batch order is the one returned (so messages do not
 * depend on timing), after every thread has stopped.  With THREADS = 0 the
 * three stages run one after the other on the calling thread.
 */
#ifndef SIT_PIPELINE_H
#define SIT_PIPELINE_H

#include <stdint.h>

#include "err.h"

#define SIT_PIPELINE_MAX_THREADS 8

typedef struct sit_pipeline_ops {
	int (*fill)(void *ctx, void *slot, uint64_t index, sit_err *e);
	int (*work)(void *ctx, void *slot, uint64_t index, sit_err *e);
	int (*drain)(void *ctx, void *slot, uint64_t index, sit_err *e);
} sit_pipeline_ops;

/* Run to the end of the input.  NSLOTS >= THREADS + 1 and THREADS <=
 * SIT_PIPELINE_MAX_THREADS, else EX_SOFTWARE. */
int sit_pipeline_run(const sit_pipeline_ops *ops, void *ctx, void *const *slots,
	unsigned nslots, unsigned threads, sit_err *e);

/* Worker threads worth starting: the CPUs this process may use, at most
 * 4; 0 on one CPU (then the stages take turns on the calling thread). */
unsigned sit_pipeline_threads(void);

#endif
