/* pipeline.h - batches through three stages: read in order, work in
 * parallel, write in order.
 *
 * sit-share and sit-unshare spend their time in three kinds of work: reading
 * (one descriptor, or several in turns, in order), computing (keystream and
 * GF(2^8) arithmetic, independent from batch to batch) and writing (in
 * order again).  One thread doing all three in turn leaves a second core
 * idle; here threads fill batches in order, compute them side by side and
 * write the finished ones out in order.
 *
 * Reading and writing may each be cut into PARTS that are independent of
 * one another (sit-unshare reads K share files, sit-share writes N): each
 * part fills, or drains, the batches in order, but different parts may run
 * at once on different threads, so that no single thread has to copy every
 * byte through the kernel.
 *
 * The caller owns SLOTS: NSLOTS buffers, each big enough for one batch.
 * Batch i always goes through slot i mod NSLOTS, so a slot is reused only
 * after every part has drained it.
 *
 *   fill(ctx, slot, i, part, e)
 *                           for each part, for i = 0, 1, 2... in order (one
 *                           call at a time per part; different parts at
 *                           once): put the part's share of batch i into
 *                           SLOT.  Return 1 when it holds data, 0 when the
 *                           input has ended (the slot is then unused; the
 *                           part may still be asked for later batches, and
 *                           must answer 0 again), -1 with E set on error.
 *   work(ctx, slot, i, e)   once every part has filled batch i; several at
 *                           once on different slots: 0 or -1 with E set.
 *   drain(ctx, slot, i, part, e)
 *                           for each part, for i = 0, 1, 2... in order (one
 *                           call at a time per part; different parts at
 *                           once): 0 or -1 with E set.
 *
 * Any stage may run on any thread, the calling one included: a stage must
 * not depend on which thread runs it.  An error stops the run.  With one
 * part, the error returned is the first in batch order (so messages do not
 * depend on timing); with several, the first in (batch, part) order of
 * those that happened before every thread stopped.  A failed fill is
 * reported once every batch before it has been drained.  With THREADS = 0 the
 * stages run one after the other on the calling thread.
 */
#ifndef SIT_PIPELINE_H
#define SIT_PIPELINE_H

#include <stdint.h>

#include "err.h"

#define SIT_PIPELINE_MAX_THREADS 8

typedef struct sit_pipeline_ops {
	int (*fill)(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e);
	int (*work)(void *ctx, void *slot, uint64_t index, sit_err *e);
	int (*drain)(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e);
} sit_pipeline_ops;

/* Run to the end of the input: THREADS threads besides the calling one,
 * FILL_PARTS and DRAIN_PARTS (each >= 1) per batch.  NSLOTS >= THREADS + 1
 * (THREADS + 2 keeps every thread busy) and THREADS <=
 * SIT_PIPELINE_MAX_THREADS, else EX_SOFTWARE. */
int sit_pipeline_run(const sit_pipeline_ops *ops, void *ctx, void *const *slots,
	unsigned nslots, unsigned threads, unsigned fill_parts, unsigned drain_parts,
	sit_err *e);

/* Threads worth starting besides the calling one: one fewer than the CPUs
 * this process may use, at most 3; 0 on one CPU (then the stages take
 * turns on the calling thread). */
unsigned sit_pipeline_threads(void);

#endif
