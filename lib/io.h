/* io.h - reading and writing whole buffers on file descriptors. */
#ifndef SIT_IO_H
#define SIT_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Read until LEN bytes or end of input; returns the count (less than LEN only
 * at end of input) or -1 with errno set.  Retries on EINTR. */
ssize_t sit_io_read(int fd, void *buf, size_t len);

/* Write all LEN bytes; 0 or -1 with errno set.  Retries on EINTR. */
int sit_io_write(int fd, const void *buf, size_t len);
/* All of IOV[0..n) in order, through as few writev() calls as the kernel
 * takes (IOV is left as it was); 0, or -1 with errno. */
struct iovec;
int sit_io_writev(int fd, const struct iovec *iov, int n);

/* Open PATH for reading ("-" or NULL is standard input, returned as 0).
 * Returns the descriptor, or -1 with EX_NOINPUT in E. */
int sit_io_open_in(const char *path, sit_err *e);

/* Close a descriptor from sit_io_open_in (standard input is left open). */
void sit_io_close_in(int fd);

/* Read everything from FD into a malloc'ed buffer of at most MAX bytes.
 * WHAT names the input in messages.  More than MAX is EX_DATAERR. */
int sit_io_slurp(int fd, size_t max, unsigned char **buf, size_t *len,
	const char *what, sit_err *e);

/* Ask for a 1 MiB kernel buffer if FD is a pipe: fewer context switches
 * between the stages of a pipeline.  Failure is harmless and ignored. */
void sit_io_pipe_bigger(int fd);

#endif
