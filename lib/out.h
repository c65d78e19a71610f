/* out.h - output files that appear whole or not at all, under their own name.
 *
 * sit_out_open() on a path creates an unnamed file in the path's directory
 * (O_TMPFILE; where the file system has none, a ".NAME.XXXXXX" file beside
 * it); sit_out_commit() flushes it to disk and links it under its final
 * name, refusing to replace an existing name unless FORCE was given.  Until
 * then nothing of it has a name, so an error, a signal, a deadline and even
 * SIGKILL leave nothing behind (the named fallback is removed on every path
 * but SIGKILL).
 *
 * What an output name may be:
 *   missing          a new file is made;
 *   a regular file   replaced with FORCE, else refused (EX_CANTCREAT);
 *   a symbolic link  never followed: with FORCE the link itself is replaced
 *                    by the file, else refused, dangling or not;
 *   a directory      refused, with or without FORCE;
 *   a fifo of ours, a character device
 *                    written in place (mkfifo, /dev/null), never followed
 *                    through a link; a fifo owned by another user is refused
 *                    (it would hand them the output);
 *   "-", NULL, /dev/stdout, /dev/fd/N, /proc/self/fd/N
 *                    the descriptor itself (standard output, a process
 *                    substitution), whatever it is open on.
 * Everything before the last component of the path is the user's choice and
 * is followed as usual.
 *
 * The program that writes the outputs may be split in two (sit_out_split,
 * which sit_sandbox_enter calls): the parent, which never parses input, keeps
 * the directories and does every naming (link, rename, unlink); the child,
 * which parses, holds only the unnamed files and asks the parent to publish
 * them, so that a parser taken over cannot name any path.
 */
#ifndef SIT_OUT_H
#define SIT_OUT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

typedef struct sit_out {
	int fd;
	int direct;            /* a descriptor written in place: nothing to name */
	int force;             /* may replace an existing name */
	mode_t mode;           /* final permissions (before umask) */
	mode_t umask;          /* the umask when opened */
	int slot;              /* place in the registry, or -1 */
	int dirfd;             /* the output's directory (O_PATH), or -1 */
	char path[PATH_MAX];   /* as given, for messages */
	char base[NAME_MAX + 1]; /* the name inside dirfd */
	char tmp[NAME_MAX + 1];  /* the named fallback inside dirfd, or "" */
} sit_out;

/* MODE is the final mode before umask: 0666 for images, 0600 for secrets. */
int sit_out_open(sit_out *o, const char *path, int force, mode_t mode, sit_err *e);
int sit_out_write(sit_out *o, const void *buf, size_t len, sit_err *e);
struct iovec;
int sit_out_writev(sit_out *o, const struct iovec *iov, int n, sit_err *e);
int sit_out_commit(sit_out *o, sit_err *e);
void sit_out_abort(sit_out *o);

/* sit_out_commit() for each of OUTS[0..n), with up to THREADS threads
 * besides the calling one, so that flushing to disk goes side by side.  The
 * error returned is the first in the order of OUTS; outputs committed before
 * a failure stay committed, as with sit_out_commit() one at a time. */
#define SIT_OUT_MAX_THREADS 8
int sit_out_commit_all(sit_out *const *outs, unsigned n, unsigned threads, sit_err *e);

/* Name for messages: the path, or "standard output". */
const char *sit_out_name(const sit_out *o);

/* Nonzero when O will need a name at commit time (not a descriptor). */
int sit_out_named(const sit_out *o);

/* A commit gate: before the first output is named (or the first byte goes
 * to a descriptor), read one byte from FD; 'y' lets the commits go on,
 * anything else (or end of file) withholds every output with EX_TEMPFAIL.
 * For a wrapper that knows whether the stages before this one succeeded
 * (--commit-fd in the programs' man pages); a program that writes a
 * descriptor as it reads must not be gated there (it would wait for stages
 * that wait for it). */
void sit_out_gate(int fd);

/* Split the process (call it single-threaded, after every output is open):
 * returns 0 in the child, which goes on with the program; the parent waits,
 * publishes what the child commits, and exits as the child did (its status,
 * or its signal).  The child dies with the parent.  -1 with E if the split
 * could not be made (nothing changed). */
int sit_out_split(sit_err *e);

/* Remove every unnamed or temporary file still open (sit_die calls this). */
void sit_out_abort_all(void);

/* Install the signal handlers that remove temporary files (sit_cli_init does). */
void sit_out_install_cleanup(void);

/* After SECONDS (0: never), print MSG as "prog: MSG", remove temporary files
 * and exit 75 (EX_TEMPFAIL), even if blocked reading a stalled pipe or
 * opening a fifo. */
void sit_out_deadline(unsigned seconds, const char *prog, const char *msg);

#endif
