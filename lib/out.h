/* out.h - output files that appear whole or not at all.
 *
 * sit_out_open() on a regular path creates a temporary file beside it
 * (".NAME.XXXXXX", same directory so the final rename is atomic);
 * sit_out_commit() flushes it to disk and gives it its final name, refusing
 * to replace an existing file unless FORCE was given.  sit_out_abort(), any
 * sit_die(), SIGINT/SIGTERM/SIGHUP and a deadline all remove the temporary
 * file, so a partial, corrupt or unauthenticated result never appears under
 * the final name.  "-" or NULL is standard output (nothing to remove there);
 * an existing fifo or character device (/dev/fd/N of a process substitution)
 * is written in place.
 */
#ifndef SIT_OUT_H
#define SIT_OUT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

typedef struct sit_out {
	int fd;
	int direct;            /* stdout, fifo or device: no temporary file */
	int force;             /* may replace an existing file */
	mode_t mode;           /* final permissions (before umask) */
	int slot;              /* place in the cleanup registry, or -1 */
	int old;               /* the regular file -f replaces (O_PATH), or -1 */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
} sit_out;

/* MODE is the final mode before umask: 0666 for images, 0600 for secrets. */
int sit_out_open(sit_out *o, const char *path, int force, mode_t mode, sit_err *e);
int sit_out_write(sit_out *o, const void *buf, size_t len, sit_err *e);
struct iovec;
int sit_out_writev(sit_out *o, const struct iovec *iov, int n, sit_err *e);
int sit_out_commit(sit_out *o, sit_err *e);
void sit_out_abort(sit_out *o);

/* sit_out_commit() for each of OUTS[0..n), with up to THREADS threads
 * besides the calling one: flushing to disk, and freeing the files that -f
 * replaces (12 ms for 256 MiB on tmpfs here), go side by side.  The error
 * returned is the first in the order of OUTS; outputs committed before a
 * failure stay committed, as with sit_out_commit() one at a time. */
#define SIT_OUT_MAX_THREADS 8
int sit_out_commit_all(sit_out *const *outs, unsigned n, unsigned threads, sit_err *e);

/* Name for messages: the path, or "standard output". */
const char *sit_out_name(const sit_out *o);

/* Remove every temporary file still open (sit_die calls this). */
void sit_out_abort_all(void);

/* Install the signal handlers that remove temporary files (sit_cli_init does). */
void sit_out_install_cleanup(void);

/* After SECONDS (0: never), print MSG as "prog: MSG", remove temporary files
 * and exit 75 (EX_TEMPFAIL), even if blocked reading a stalled pipe. */
void sit_out_deadline(unsigned seconds, const char *prog, const char *msg);

#endif
