/* progress.h - a one-line byte counter on a terminal for long work.
 *
 * Shown when forced (--progress) or when stderr is a terminal, and only once
 * the work has run for a second, so short runs and pipelines stay silent.
 * The line is erased when the work ends.
 */
#ifndef SIT_PROGRESS_H
#define SIT_PROGRESS_H

#include <stdint.h>

typedef struct sit_progress {
	int enabled;
	int shown;
	const char *label;
	uint64_t total;        /* 0 when unknown (a pipe) */
	double start, last;
} sit_progress;

/* FORCE: 1 always, 0 only on a terminal, -1 never. */
void sit_progress_init(sit_progress *p, int force, const char *label, uint64_t total);
void sit_progress_update(sit_progress *p, uint64_t done);
void sit_progress_end(sit_progress *p);

#endif
