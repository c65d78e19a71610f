/* ledger.h - the replay ledger of sit-aes -d --replay-ledger.
 *
 * A text file of the messages already accepted, one a line:
 *   ID CREATED ACCEPTED
 * ID the 32 lowercase hex digits of the 128-bit message ID, CREATED the
 * time the header claims and ACCEPTED the time it was accepted, both in
 * decimal seconds since 1970 (UTC); '#' lines are comments.
 *
 * sit_ledger_open() runs before the sandbox (it opens, locks and may
 * rewrite the file): it takes an exclusive flock(2) that the process holds
 * until it exits, so receivers sharing a ledger take turns, and a message
 * checked and recorded by one is seen by the next.  Entries whose CREATED is
 * outside the window are dropped when it is rewritten (a message that old is
 * refused by its age anyway), which keeps the file bounded; a line cut by a
 * crash in the middle of an append is dropped too.  Rewriting is a new file
 * renamed over the old one.  sit_ledger_record() appends and fsyncs, with
 * only the descriptor it holds, so it works inside the sandbox.
 */
#ifndef SIT_LEDGER_H
#define SIT_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SIT_LEDGER_ID 16
#define SIT_LEDGER_MAX_BYTES (64u << 20)   /* about a million entries */
#define SIT_MAX_AGE_DEFAULT (7u * 86400)   /* --max-age */
#define SIT_CLOCK_SKEW 600                 /* how far into the future a message may be */

struct sit_ledger_entry {
	unsigned char id[SIT_LEDGER_ID];
	uint64_t created, accepted;
};

typedef struct sit_ledger {
	int fd;
	const char *path;
	struct sit_ledger_entry *v;
	size_t n, cap;
} sit_ledger;

/* Open (creating, mode 0600), lock and read PATH, dropping entries created
 * before NOW - MAX_AGE.  A ledger of another user's, or that group or others
 * may write, is refused: whoever can change it can make a replay pass. */
int sit_ledger_open(sit_ledger *l, const char *path, uint64_t now, uint64_t max_age,
	sit_err *e);

/* 0 if ID is not in the ledger; else -1 with "already received at TIME". */
int sit_ledger_check(const sit_ledger *l, const unsigned char id[SIT_LEDGER_ID], sit_err *e);

/* Append ID to the file and flush it to disk. */
int sit_ledger_record(sit_ledger *l, const unsigned char id[SIT_LEDGER_ID], uint64_t created,
	uint64_t now, sit_err *e);

void sit_ledger_close(sit_ledger *l);

/* 0 if CREATED is within [NOW - MAX_AGE, NOW + SIT_CLOCK_SKEW]; else -1
 * saying which way it is out. */
int sit_ledger_window(uint64_t now, uint64_t max_age, uint64_t created, sit_err *e);

/* "2026-11-23 10:00:00 UTC" (never opens a file: safe in the sandbox). */
#define SIT_TIME_TEXT 64
void sit_ledger_time(uint64_t t, char out[SIT_TIME_TEXT]);

#endif
