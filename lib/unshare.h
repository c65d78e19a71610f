/* unshare.h - rebuild what sit-share split, from K or more of its shares
 * (sit-unshare(1), sit-image(5)), on descriptors the caller has opened.
 *
 * sit-unshare and the fuzz harness fuzz/visual.c both run this, so that the
 * code fuzzed is the code shipped.  Three steps, because the caller acts in
 * between (it starts an image writer shaped as the shares say, and finishes
 * it before the shares are drained):
 *
 *   sit_unshare_open   every share's header read and checked, in the order
 *                      given; one set, no share twice, at least K
 *   sit_unshare_join   the payload rebuilt into a sink: every share read in
 *                      turns and summed, the first K joined, batches written
 *                      in order (lib/pipeline.h); then every share's payload
 *                      checksum compared
 *   sit_unshare_drain  every share read to its end, so that a writer on a
 *                      pipe is not cut off
 *
 * Messages name the shares as the caller does (NAMES) and are the ones
 * sit-unshare prints.  Nothing here closes the caller's descriptors.
 */
#ifndef SIT_UNSHARE_H
#define SIT_UNSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "img.h"
#include "pixhdr.h"
#include "pixio.h"

typedef struct sit_unshare_share {
	const char *name;              /* in messages */
	int fd;                        /* the caller's */
	sit_pix_reader r;
	sit_pixhdr h;                  /* once sit_unshare_open has read it */
	sit_pixhdr_sum sum;            /* of the payload read so far */
	unsigned char hdr[SIT_PIXHDR_LEN];
} sit_unshare_share;

typedef struct sit_unshare {
	sit_unshare_share *sh;         /* COUNT, in the order given */
	unsigned count;
	const sit_pixhdr *set;         /* the set's header (the first share's) */
} sit_unshare;

/* Read and check the headers of the COUNT (1..SIT_SHAMIR_MAX_N) shares open
 * on FDS, named NAMES in messages.  EX_DATAERR for what is not a share of
 * one set with at least K given, the reader's own code otherwise.  Call
 * sit_unshare_free afterwards whatever the result. */
int sit_unshare_open(sit_unshare *u, const int *fds, const char *const *names,
	unsigned count, sit_err *e);

/* Rebuild the payload into OUT, in order, with THREADS workers
 * (sit_pipeline_threads(); 0 runs everything on this thread) and batches of
 * BATCH bytes per share (0: sit_shamir_batch_len(count + 1), about 1 MiB
 * for the whole batch), then compare every share's checksum. */
int sit_unshare_join(sit_unshare *u, unsigned threads, size_t batch,
	const sit_img_sink *out, sit_err *e);

/* Read every share to its end: the padding in turns, as sit-share writes it
 * (a row of padding may be more than a pipe holds), then whatever follows. */
int sit_unshare_drain(sit_unshare *u, sit_err *e);

/* Close the readers and free what sit_unshare_open allocated. */
void sit_unshare_free(sit_unshare *u);

#endif
