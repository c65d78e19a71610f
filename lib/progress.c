#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
sit_progress_init(sit_progress *p, int force, const char *label, uint64_t total)
{
	p->enabled = force > 0 || (force == 0 && isatty(2));
	p->shown = 0;
	p->label = label;
	p->total = total;
	p->start = p->last = now();
}

void
sit_progress_update(sit_progress *p, uint64_t done)
{
	double t;

	if (!p->enabled)
		return;
	t = now();
	if (t - p->start < 1.0 || t - p->last < 0.2)
		return;
	p->last = t;
	p->shown = 1;
	if (p->total > 0)
		fprintf(stderr, "\r%s: %s %llu/%llu MiB (%.0f%%) ", sit_cli_prog(), p->label,
			(unsigned long long)(done >> 20), (unsigned long long)(p->total >> 20),
			100.0 * (double)done / (double)p->total);
	else
		fprintf(stderr, "\r%s: %s %llu MiB, %.0f MiB/s ", sit_cli_prog(), p->label,
			(unsigned long long)(done >> 20), (double)done / 1048576.0 / (t - p->start));
}

void
sit_progress_end(sit_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}
