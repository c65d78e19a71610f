#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "io.h"
#include "ledger.h"

#define LINE_MAX_LEN 80
#define HEADER_LINE "# sit-aes replay ledger: message ID, created, accepted (seconds since 1970, UTC)\n"

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm): by hand,
 * because gmtime() may open the time zone files, which the sandbox forbids. */
void
sit_ledger_time(uint64_t t, char out[SIT_TIME_TEXT])
{
	int64_t z = (int64_t)(t / 86400) + 719468;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	unsigned s = (unsigned)(t % 86400);

	snprintf(out, SIT_TIME_TEXT, "%04lld-%02u-%02u %02u:%02u:%02u UTC", (long long)y, m, d,
		s / 3600, s / 60 % 60, s % 60);
}

int
sit_ledger_window(uint64_t now, uint64_t max_age, uint64_t created, sit_err *e)
{
	char when[SIT_TIME_TEXT];

	sit_ledger_time(created, when);
	if (created > now + SIT_CLOCK_SKEW)
		return sit_err_set(e, EX_DATAERR, "message from the future: made at %s, more than "
			"%d s ahead of this clock", when, SIT_CLOCK_SKEW);
	if (now > max_age && created < now - max_age)
		return sit_err_set(e, EX_DATAERR, "message too old: made at %s, more than %llu s "
			"ago (--max-age)", when, (unsigned long long)max_age);
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One decimal number of 1 to 19 digits (below 2^63) ending at END or ' '. */
static int
number(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	while (*p < end && **p >= '0' && **p <= '9' && *p - s < 19)
		*v = *v * 10 + (uint64_t)(*(*p)++ - '0');
	return *p > s && (*p == end || **p == ' ') ? 0 : -1;
}

static int
parse_line(const char *s, size_t len, struct sit_ledger_entry *en)
{
	const char *p = s + 2 * SIT_LEDGER_ID + 1, *end = s + len;

	if (len < 2 * SIT_LEDGER_ID + 4 || s[2 * SIT_LEDGER_ID] != ' ')
		return -1;
	for (int i = 0; i < SIT_LEDGER_ID; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		en->id[i] = (unsigned char)(hi << 4 | lo);
	}
	if (number(&p, end, &en->created) != 0 || p == end)
		return -1;
	p++;
	return number(&p, end, &en->accepted) == 0 && p == end ? 0 : -1;
}

static int
push(sit_ledger *l, const struct sit_ledger_entry *en, sit_err *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct sit_ledger_entry *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory reading the ledger");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *en;
	return 0;
}

static size_t
format_line(char *out, const struct sit_ledger_entry *en)
{
	char hex[2 * SIT_LEDGER_ID + 1];

	sodium_bin2hex(hex, sizeof hex, en->id, SIT_LEDGER_ID);
	return (size_t)snprintf(out, LINE_MAX_LEN, "%s %llu %llu\n", hex,
		(unsigned long long)en->created, (unsigned long long)en->accepted);
}

/* Replace the file by one of the entries kept: a new file in the same
 * directory, locked before anyone can see it, flushed, renamed over the old
 * one, and the directory flushed, so that a crash leaves the old file or the
 * new one.  Receivers waiting for the old file's lock find on waking that
 * its name is the new file's now, and wait for that one (open_locked). */
static int
rewrite(sit_ledger *l, sit_err *e)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(l->path, '/');
	const char *base = slash ? slash + 1 : l->path;
	size_t dlen = slash ? (size_t)(slash - l->path) + 1 : 0;
	char *buf = malloc(sizeof HEADER_LINE + l->n * LINE_MAX_LEN);
	size_t len = 0;
	int fd, dfd, rc = -1;

	if (buf == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory rewriting the ledger");
	if (snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", (int)dlen, l->path, base) >= (int)sizeof tmp) {
		free(buf);
		return sit_err_set(e, EX_CANTCREAT, "ledger name too long: %s", l->path);
	}
	snprintf(dir, sizeof dir, "%.*s", dlen ? (int)dlen : 1, dlen ? l->path : ".");
	memcpy(buf, HEADER_LINE, sizeof HEADER_LINE - 1);
	len = sizeof HEADER_LINE - 1;
	for (size_t i = 0; i < l->n; i++)
		len += format_line(buf + len, &l->v[i]);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		free(buf);
		return sit_err_sys(e, EX_CANTCREAT, "cannot rewrite the ledger %s", l->path);
	}
	if (flock(fd, LOCK_EX) != 0 || sit_io_write(fd, buf, len) != 0 || fsync(fd) != 0)
		sit_err_sys(e, EX_IOERR, "cannot rewrite the ledger %s", l->path);
	else if (rename(tmp, l->path) != 0)
		sit_err_sys(e, EX_CANTCREAT, "cannot rewrite the ledger %s", l->path);
	else
		rc = 0;
	free(buf);
	if (rc != 0) {
		unlink(tmp);
		close(fd);
		return -1;
	}
	/* The rename is what makes the old entries go: flush it too. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return sit_err_sys(e, EX_IOERR, "cannot flush the directory of the ledger %s", l->path);
	}
	close(dfd);
	close(l->fd);        /* lets the waiters go, to the new file */
	l->fd = fd;
	return 0;
}

/* Open and lock the file under PATH now: a rewrite by another receiver may
 * rename a new file over the one we opened while we waited for its lock. */
static int
open_locked(sit_ledger *l, struct stat *st, sit_err *e)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat now;
		int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return sit_err_sys(e, EX_CANTCREAT, "cannot open the ledger %s", l->path);
		while (flock(fd, LOCK_EX) != 0) {
			if (errno != EINTR) {
				sit_err_sys(e, EX_IOERR, "cannot lock the ledger %s", l->path);
				close(fd);
				return -1;
			}
		}
		if (fstat(fd, st) != 0) {
			sit_err_sys(e, EX_IOERR, "cannot read the ledger %s", l->path);
			close(fd);
			return -1;
		}
		if (fstatat(AT_FDCWD, l->path, &now, AT_SYMLINK_NOFOLLOW) == 0
		    && now.st_dev == st->st_dev && now.st_ino == st->st_ino) {
			l->fd = fd;
			return 0;
		}
		close(fd);
	}
	return sit_err_set(e, EX_TEMPFAIL, "the ledger %s keeps being replaced", l->path);
}

int
sit_ledger_open(sit_ledger *l, const char *path, uint64_t now, uint64_t max_age, sit_err *e)
{
	struct stat st;
	char *buf;
	size_t i = 0, lineno = 0, dropped = 0;
	ssize_t got;
	int torn = 0;

	memset(l, 0, sizeof *l);
	l->fd = -1;
	l->path = path;
	if (open_locked(l, &st, e) != 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return sit_err_set(e, EX_CANTCREAT, "the ledger %s is not a regular file", path);
	if (st.st_uid != geteuid())
		return sit_err_set(e, EX_CANTCREAT, "the ledger %s is owned by another user (uid %u, "
			"we are uid %u)", path, (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 022) != 0)
		return sit_err_set(e, EX_CANTCREAT, "the ledger %s is writable by group or others "
			"(mode %04o): chmod go-w it", path, (unsigned)(st.st_mode & 07777));
	if ((uint64_t)st.st_size > SIT_LEDGER_MAX_BYTES)
		return sit_err_set(e, EX_DATAERR, "the ledger %s is over %u MiB", path,
			SIT_LEDGER_MAX_BYTES >> 20);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory reading the ledger");
	got = sit_io_read(l->fd, buf, (size_t)st.st_size);
	if (got < 0) {
		free(buf);
		return sit_err_sys(e, EX_IOERR, "cannot read the ledger %s", path);
	}
	while (i < (size_t)got) {
		size_t s = i;
		struct sit_ledger_entry en;
		while (i < (size_t)got && buf[i] != '\n')
			i++;
		lineno++;
		/* A last line without its newline is an append cut by a crash,
		 * before its fsync returned, so before the output it guarded
		 * was committed: nothing was accepted on it. */
		if (i == (size_t)got) {
			torn = 1;
			break;
		}
		i++;
		if (i - s == 1 || buf[s] == '#')
			continue;
		if (parse_line(buf + s, i - s - 1, &en) != 0) {
			free(buf);
			return sit_err_set(e, EX_DATAERR, "the ledger %s: line %zu is not "
				"'ID CREATED ACCEPTED'", path, lineno);
		}
		if (now > max_age && en.created < now - max_age) {
			dropped++;
			continue;
		}
		if (push(l, &en, e) != 0) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	if ((dropped > 0 || torn) && rewrite(l, e) != 0)
		return -1;
	return 0;
}

int
sit_ledger_check(const sit_ledger *l, const unsigned char id[SIT_LEDGER_ID], sit_err *e)
{
	char hex[2 * SIT_LEDGER_ID + 1], when[SIT_TIME_TEXT];

	for (size_t i = 0; i < l->n; i++) {
		if (memcmp(l->v[i].id, id, SIT_LEDGER_ID) != 0)
			continue;
		sodium_bin2hex(hex, sizeof hex, id, SIT_LEDGER_ID);
		sit_ledger_time(l->v[i].accepted, when);
		return sit_err_set(e, EX_DATAERR, "replayed: message %s was already received at %s",
			hex, when);
	}
	return 0;
}

int
sit_ledger_record(sit_ledger *l, const unsigned char id[SIT_LEDGER_ID], uint64_t created,
	uint64_t now, sit_err *e)
{
	struct sit_ledger_entry en;
	char line[LINE_MAX_LEN];
	size_t len;

	memcpy(en.id, id, SIT_LEDGER_ID);
	en.created = created;
	en.accepted = now;
	len = format_line(line, &en);
	/* We hold the lock: the end is ours.  Accepted only once on disk. */
	if (lseek(l->fd, 0, SEEK_END) < 0 || sit_io_write(l->fd, line, len) != 0
	    || fsync(l->fd) != 0)
		return sit_err_sys(e, EX_IOERR, "cannot record the message in the ledger %s", l->path);
	return push(l, &en, e);
}

void
sit_ledger_close(sit_ledger *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(l->v);
	l->v = NULL;
	l->fd = -1;
}
