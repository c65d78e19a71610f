#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"

ssize_t
sit_io_read(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
sit_io_write(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sit_io_writev(int fd, const struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* Skip what went; finish a vector cut short with plain writes. */
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0 && w > 0) {
			if (sit_io_write(fd, (const char *)iov->iov_base + w, iov->iov_len - (size_t)w) != 0)
				return -1;
			iov++;
			n--;
		}
	}
	return 0;
}

int
sit_io_open_in(const char *path, sit_err *e)
{
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sit_err_sys(e, EX_NOINPUT, "cannot open %s", path);
	return fd;
}

void
sit_io_close_in(int fd)
{
	if (fd > 0)
		close(fd);
}

int
sit_io_slurp(int fd, size_t max, unsigned char **bufp, size_t *lenp,
	const char *what, sit_err *e)
{
	unsigned char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			if (cap >= max + 1) {
				free(buf);
				return sit_err_set(e, EX_DATAERR,
					"%s is larger than the limit of %zu bytes", what, max);
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nbuf = realloc(buf, ncap);
			if (nbuf == NULL) {
				free(buf);
				return sit_err_set(e, EX_OSERR, "out of memory reading %s", what);
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return sit_err_sys(e, EX_IOERR, "cannot read %s", what);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return sit_err_set(e, EX_DATAERR,
				"%s is larger than the limit of %zu bytes", what, max);
		}
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

void
sit_io_pipe_bigger(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}
