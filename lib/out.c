#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "out.h"

/* The registry of temporary files for the signal handlers.  It is process
 * state by nature (a signal has no other way to find them), so it is a static
 * here and nowhere else; it holds pointers into callers' sit_out structs. */
#define SLOTS 300
static sit_out *volatile registry[SLOTS];
static char deadline_msg[512];
static size_t deadline_len;

static void
unlink_all(void)
{
	for (int i = 0; i < SLOTS; i++) {
		sit_out *o = registry[i];
		if (o != NULL && o->tmp[0] != '\0')
			unlink(o->tmp);
	}
}

static void
on_signal(int sig)
{
	int saved = errno;

	unlink_all();
	if (sig == SIGALRM) {
		if (deadline_len > 0)
			(void)!write(2, deadline_msg, deadline_len);
		_exit(EX_TEMPFAIL);
	}
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

void
sit_out_install_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		/* Leave a signal ignored if our parent ignored it (nohup, cron). */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

void
sit_out_deadline(unsigned seconds, const char *prog, const char *msg)
{
	struct sigaction sa;
	int n;

	if (seconds == 0)
		return;
	n = snprintf(deadline_msg, sizeof deadline_msg, "%s: %s\n", prog, msg);
	deadline_len = n < 0 ? 0 : (size_t)n < sizeof deadline_msg ? (size_t)n : sizeof deadline_msg - 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static int
register_out(sit_out *o)
{
	for (int i = 0; i < SLOTS; i++) {
		if (registry[i] == NULL) {
			registry[i] = o;
			return i;
		}
	}
	return -1;
}

static void
unregister_out(sit_out *o)
{
	if (o->slot >= 0 && o->slot < SLOTS && registry[o->slot] == o)
		registry[o->slot] = NULL;
	o->slot = -1;
}

const char *
sit_out_name(const sit_out *o)
{
	return o->path[0] ? o->path : "standard output";
}

/* rename() frees the file it replaces itself, holding the directory's
 * lock, so that replacing big files in one directory goes one at a time
 * (12 ms for 256 MiB on tmpfs here).  Held open (O_PATH: no access, no side
 * effect), the old file is freed by close() after the rename instead,
 * beside the other commits.  Only for big files, and only in the lower half
 * of the descriptor limit, which the outputs themselves may need: without
 * it, replacing is only slower. */
#define HOLD_MIN ((off_t)1 << 20)

static int
hold_old(const char *path, const struct stat *st)
{
	struct rlimit rl;
	int fd;

	if (!S_ISREG(st->st_mode) || st->st_size < HOLD_MIN)
		return -1;
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    (rl.rlim_cur != RLIM_INFINITY && (rlim_t)fd >= rl.rlim_cur / 2))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
sit_out_open(sit_out *o, const char *path, int force, mode_t mode, sit_err *e)
{
	struct stat st;
	char dir[PATH_MAX], base[PATH_MAX];
	char *d, *b;
	int n;

	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->slot = -1;
	o->old = -1;
	o->force = force;
	o->mode = mode;

	if (path == NULL || strcmp(path, "-") == 0) {
		o->fd = 1;
		o->direct = 1;
		return 0;
	}
	if (strlen(path) >= sizeof o->path)
		return sit_err_set(e, EX_CANTCREAT, "output name too long");
	strcpy(o->path, path);

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* A fifo, a device or a process substitution: nothing to rename. */
		o->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (o->fd < 0)
			return sit_err_sys(e, EX_CANTCREAT, "cannot open %s", path);
		o->direct = 1;
		return 0;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return sit_err_set(e, EX_CANTCREAT, "%s is a directory", path);
		if (!force)
			return sit_err_set(e, EX_CANTCREAT,
				"%s already exists (use -f to replace it)", path);
		o->old = hold_old(path, &st);
	}

	strcpy(dir, path);
	strcpy(base, path);
	d = dirname(dir);
	b = basename(base);
	n = snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", d, b);
	if (n < 0 || (size_t)n >= sizeof o->tmp)
		return sit_err_set(e, EX_CANTCREAT, "output name too long");
	/* Register before the file exists, so a signal between the two still
	 * finds it; the handler skips a name that does not exist yet. */
	o->slot = register_out(o);
	if (o->slot < 0)
		return sit_err_set(e, EX_SOFTWARE, "too many output files at once");
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		int saved = errno;
		o->tmp[0] = '\0';
		unregister_out(o);
		errno = saved;
		return sit_err_sys(e, EX_CANTCREAT, "cannot create a file beside %s", path);
	}
	return 0;
}

int
sit_out_write(sit_out *o, const void *buf, size_t len, sit_err *e)
{
	if (sit_io_write(o->fd, buf, len) != 0)
		return sit_err_sys(e, EX_IOERR, "cannot write %s", sit_out_name(o));
	return 0;
}

/* Let go of the file being replaced: after the rename this frees it. */
static void
release_old(sit_out *o)
{
	if (!o->direct && o->old >= 0)
		close(o->old);
	o->old = -1;
}

/* sit_out_commit with the umask UM already read: umask() can only be read
 * by setting it, which threads committing side by side must not do. */
static int
commit_um(sit_out *o, mode_t um, sit_err *e)
{
	if (o->direct) {
		if (o->fd > 1 && close(o->fd) != 0) {
			o->fd = -1;
			return sit_err_sys(e, EX_IOERR, "cannot write %s", sit_out_name(o));
		}
		o->fd = -1;
		return 0;
	}
	if (fchmod(o->fd, o->mode & ~um) != 0 || fsync(o->fd) != 0) {
		int saved = errno;
		sit_out_abort(o);
		errno = saved;
		return sit_err_sys(e, EX_IOERR, "cannot write %s", o->path);
	}
	if (close(o->fd) != 0) {
		int saved = errno;
		o->fd = -1;
		sit_out_abort(o);
		errno = saved;
		return sit_err_sys(e, EX_IOERR, "cannot write %s", o->path);
	}
	o->fd = -1;
	if (o->force) {
		if (rename(o->tmp, o->path) != 0)
			goto fail;
	} else if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) != 0) {
		/* Filesystems without RENAME_NOREPLACE: link() also refuses to
		 * replace, so a file that appeared meanwhile is never lost. */
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			goto fail;
		if (link(o->tmp, o->path) != 0)
			goto fail;
		unlink(o->tmp);
	}
	o->tmp[0] = '\0';
	unregister_out(o);
	release_old(o);
	return 0;
fail:
	{
		int saved = errno;
		release_old(o);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		unregister_out(o);
		if (saved == EEXIST)
			return sit_err_set(e, EX_CANTCREAT,
				"%s already exists (use -f to replace it)", o->path);
		errno = saved;
		return sit_err_sys(e, EX_CANTCREAT, "cannot create %s", o->path);
	}
}

static mode_t
current_umask(void)
{
	mode_t um = umask(0);

	umask(um);
	return um;
}

/* Only for a temporary file: the sandbox of a program writing standard
 * output or a fifo need not allow umask(). */
int
sit_out_writev(sit_out *o, const struct iovec *iov, int n, sit_err *e)
{
	if (sit_io_writev(o->fd, iov, n) != 0)
		return sit_err_sys(e, EX_IOERR, "cannot write %s", sit_out_name(o));
	return 0;
}

int
sit_out_commit(sit_out *o, sit_err *e)
{
	return commit_um(o, o->direct ? 0 : current_umask(), e);
}

struct commit_all {
	sit_out *const *outs;
	sit_err *errs;
	int *rcs;
	unsigned n, next;
	mode_t um;
	pthread_mutex_t lock;
};

static void *
commit_some(void *arg)
{
	struct commit_all *c = arg;

	for (;;) {
		unsigned i;

		pthread_mutex_lock(&c->lock);
		i = c->next < c->n ? c->next++ : c->n;
		pthread_mutex_unlock(&c->lock);
		if (i == c->n)
			return NULL;
		c->rcs[i] = commit_um(c->outs[i], c->um, &c->errs[i]);
	}
}

int
sit_out_commit_all(sit_out *const *outs, unsigned n, unsigned threads, sit_err *e)
{
	struct commit_all c = { outs, NULL, NULL, n, 0, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t tid[SIT_OUT_MAX_THREADS];
	unsigned started = 0;
	int rc = 0;

	for (unsigned i = 0; i < n; i++)
		if (!outs[i]->direct) {
			c.um = current_umask();
			break;
		}

	c.errs = calloc(n > 0 ? n : 1, sizeof *c.errs);
	c.rcs = calloc(n > 0 ? n : 1, sizeof *c.rcs);
	if (c.errs == NULL || c.rcs == NULL) {
		free(c.errs);
		free(c.rcs);
		return sit_err_set(e, EX_OSERR, "out of memory");
	}
	if (threads > SIT_OUT_MAX_THREADS)
		threads = SIT_OUT_MAX_THREADS;
	if (threads > n - (n > 0))
		threads = n - (n > 0);
	/* Fewer threads than asked (out of resources) only means less at once. */
	while (started < threads && pthread_create(&tid[started], NULL, commit_some, &c) == 0)
		started++;
	commit_some(&c);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	for (unsigned i = 0; i < n && rc == 0; i++)
		if (c.rcs[i] != 0) {
			*e = c.errs[i];
			rc = -1;
		}
	free(c.errs);
	free(c.rcs);
	return rc;
}

void
sit_out_abort(sit_out *o)
{
	if (o->fd > 1)
		close(o->fd);
	o->fd = -1;
	if (!o->direct && o->tmp[0] != '\0')
		unlink(o->tmp);
	o->tmp[0] = '\0';
	unregister_out(o);
	release_old(o);
}

void
sit_out_abort_all(void)
{
	for (int i = 0; i < SLOTS; i++) {
		sit_out *o = registry[i];
		if (o != NULL)
			sit_out_abort(o);
	}
}
