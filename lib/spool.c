/* spool.c - see spool.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "io.h"
#include "spool.h"

static const char *
spool_dir(const char *dir)
{
	const char *t = getenv("TMPDIR");

	if (dir != NULL)
		return dir;
	return t != NULL && t[0] != '\0' ? t : "/tmp";
}

/* A file nobody else can name: O_TMPFILE where the filesystem has it,
 * else a fresh name removed at once. */
static int
nameless_file(const char *dir)
{
	char path[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	if (snprintf(path, sizeof path, "%s/.sit-spool.XXXXXX", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

int
sit_spool_open(sit_spool *sp, const char *dir, sit_err *e)
{
	unsigned char key[SIT_KEYSTREAM_KEYBYTES];

	memset(sp, 0, sizeof *sp);
	sp->fd = -1;
	dir = spool_dir(dir);
	snprintf(sp->dir, sizeof sp->dir, "%s", dir);
	if (sodium_init() < 0)
		return sit_err_set(e, EX_OSERR, "libsodium cannot be initialised");
	/* Both now, before the program confines itself. */
	if ((sp->pad = malloc(SIT_SPOOL_CHUNK)) == NULL ||
	    (sp->buf = malloc(SIT_SPOOL_CHUNK)) == NULL) {
		sit_spool_close(sp);
		return sit_err_set(e, EX_OSERR, "out of memory");
	}
	if ((sp->fd = nameless_file(dir)) < 0) {
		int saved = errno;

		sit_spool_close(sp);
		errno = saved;
		return sit_err_sys(e, EX_CANTCREAT, "cannot create a temporary file in %s", dir);
	}
	randombytes_buf(key, sizeof key);
	sit_keystream_init(&sp->ks, key, NULL);
	sodium_memzero(key, sizeof key);
	return 0;
}

sit_spool *
sit_spool_for(int fd, sit_spool *sp)
{
	struct stat st;
	sit_err e = { 0 };

	sp->fd = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return NULL;
	return sit_spool_open(sp, NULL, &e) == 0 ? sp : NULL;
}

/* BUF[0..len) ^= the keystream at stream offset AT. */
static void
xor_keystream(sit_spool *sp, uint64_t at, unsigned char *buf, size_t len)
{
	while (len > 0) {
		uint64_t chunk = at / SIT_SPOOL_CHUNK;
		size_t off = (size_t)(at % SIT_SPOOL_CHUNK);
		size_t n = SIT_SPOOL_CHUNK - off < len ? SIT_SPOOL_CHUNK - off : len;
		unsigned char nonce[8];

		for (int i = 0; i < 8; i++)
			nonce[i] = (unsigned char)(chunk >> (8 * i));
		sit_keystream_fill(&sp->ks, nonce, sp->pad, off + n);
		for (size_t i = 0; i < n; i++)
			buf[i] ^= sp->pad[off + i];
		buf += n;
		at += n;
		len -= n;
	}
}

static int
store(sit_spool *sp, unsigned char *buf, size_t len, sit_err *e)
{
	xor_keystream(sp, sp->len, buf, len);
	if (sit_io_write(sp->fd, buf, len) != 0)
		return sit_err_sys(e, EX_IOERR, "cannot write a temporary file in %s", sp->dir);
	sp->len += len;
	return 0;
}

int
sit_spool_fill(sit_spool *sp, int fd, const unsigned char *head, size_t head_len,
	uint64_t max, const char *what, sit_err *e)
{
	unsigned char *buf = sp->buf;
	int rc = -1;

	/* HEAD is what the caller sniffed: a few KiB, stored like the rest. */
	if (head_len > SIT_SPOOL_CHUNK || head_len > max)
		return sit_err_set(e, EX_SOFTWARE, "spool: head of %zu bytes", head_len);
	if (head_len > 0) {
		memcpy(buf, head, head_len);
		if (store(sp, buf, head_len, e) != 0)
			goto done;
	}
	for (;;) {
		/* Whole chunks where possible: one keystream call each. */
		size_t room = SIT_SPOOL_CHUNK - (size_t)(sp->len % SIT_SPOOL_CHUNK);
		ssize_t n = sit_io_read(fd, buf, room);

		if (n < 0) {
			sit_err_sys(e, EX_IOERR, "cannot read %s", what);
			goto done;
		}
		if (n == 0)
			break;
		if (sp->len + (uint64_t)n > max) {
			sit_err_set(e, EX_DATAERR, "%s is larger than the limit of %llu bytes",
				what, (unsigned long long)max);
			goto done;
		}
		if (store(sp, buf, (size_t)n, e) != 0)
			goto done;
	}
	if (lseek(sp->fd, 0, SEEK_SET) != 0) {
		sit_err_sys(e, EX_IOERR, "cannot read back a temporary file in %s", sp->dir);
		goto done;
	}
	sp->pos = 0;
	rc = 0;
done:
	sodium_memzero(buf, SIT_SPOOL_CHUNK);
	return rc;
}

int
sit_spool_read(sit_spool *sp, void *buf, size_t len, sit_err *e)
{
	ssize_t n;

	if (len > sp->len - sp->pos)
		return sit_err_set(e, EX_SOFTWARE, "spool: read past the end");
	n = sit_io_read(sp->fd, buf, len);
	if (n < 0 || (size_t)n != len)
		return sit_err_sys(e, EX_IOERR, "cannot read back a temporary file in %s", sp->dir);
	xor_keystream(sp, sp->pos, buf, len);
	sp->pos += len;
	return 0;
}

void
sit_spool_close(sit_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	sit_keystream_wipe(&sp->ks);
	if (sp->pad != NULL)
		sodium_memzero(sp->pad, SIT_SPOOL_CHUNK);
	if (sp->buf != NULL)
		sodium_memzero(sp->buf, SIT_SPOOL_CHUNK);
	free(sp->pad);
	free(sp->buf);
	sp->pad = sp->buf = NULL;
}
