#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "out.h"

/* The registry of open outputs.  It is process state by nature (a signal
 * handler, and the parent after sit_out_split, have no other way to find
 * them), so it is a static here and nowhere else; it holds pointers into
 * callers' sit_out structs, which the parent has its own copies of. */
#define SLOTS 300
static sit_out *volatile registry[SLOTS];
static char deadline_msg[512];
static size_t deadline_len;

/* The commit gate (sit_out_gate): its descriptor, and 0 unread, 1 open,
 * -1 shut. */
static int gate_fd = -1;
static int gate_state;

/* After sit_out_split: in the child, its socket to the parent; in the
 * parent, the child's pid.  Requests are one slot number, answers one
 * sit_err, a datagram each; threads of the child take turns. */
static int keeper_sock = -1;
static volatile pid_t child_pid;
static pthread_mutex_t keeper_lock = PTHREAD_MUTEX_INITIALIZER;

/* Only async-signal-safe calls: the signal handlers use this. */
static void
unlink_all(void)
{
	for (int i = 0; i < SLOTS; i++) {
		sit_out *o = registry[i];
		if (o != NULL && o->tmp[0] != '\0' && o->dirfd >= 0)
			unlinkat(o->dirfd, o->tmp, 0);
	}
}

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGALRM) {
		if (child_pid > 0)
			kill(child_pid, SIGKILL);
		unlink_all();
		if (deadline_len > 0)
			(void)!write(2, deadline_msg, deadline_len);
		_exit(EX_TEMPFAIL);
	}
	if (child_pid > 0) {
		/* The parent passes it on; the child's end is its own. */
		kill(child_pid, sig);
		errno = saved;
		return;
	}
	unlink_all();
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

void
sit_out_gate(int fd)
{
	gate_fd = fd;
	gate_state = 0;
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

int
sit_out_named(const sit_out *o)
{
	return !o->direct && o->fd >= 0;
}

/* The number N of /dev/fd/N, /proc/self/fd/N, /dev/stdout or /dev/stderr,
 * or -1: names of descriptors this process already has, which a shell hands
 * over for a process substitution or a redirection. */
static int
descriptor_name(const char *p)
{
	const char *d;
	long n = 0;

	if (strcmp(p, "/dev/stdout") == 0)
		return 1;
	if (strcmp(p, "/dev/stderr") == 0)
		return 2;
	if (strncmp(p, "/dev/fd/", 8) == 0)
		d = p + 8;
	else if (strncmp(p, "/proc/self/fd/", 14) == 0)
		d = p + 14;
	else
		return -1;
	if (*d == '\0')
		return -1;
	for (; *d != '\0'; d++) {
		if (*d < '0' || *d > '9' || n > INT_MAX / 10)
			return -1;
		n = n * 10 + (*d - '0');
	}
	return n <= INT_MAX ? (int)n : -1;
}

static int
open_descriptor(sit_out *o, int n, sit_err *e)
{
	int fl;

	if ((o->fd = fcntl(n, F_DUPFD_CLOEXEC, 3)) < 0)
		return sit_err_sys(e, EX_CANTCREAT, "cannot write %s", o->path);
	fl = fcntl(o->fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
		close(o->fd);
		o->fd = -1;
		return sit_err_set(e, EX_CANTCREAT, "cannot write %s: not open for writing", o->path);
	}
	o->direct = 1;
	return 0;
}

/* A fifo or a character device, written where it is.  O_NOFOLLOW and the
 * second look refuse a link or another file swapped in after the lstat. */
static int
open_in_place(sit_out *o, const struct stat *st, sit_err *e)
{
	struct stat now;

	if (S_ISFIFO(st->st_mode) && st->st_uid != geteuid())
		return sit_err_set(e, EX_CANTCREAT, "%s is a fifo owned by another user", o->path);
	o->fd = open(o->path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (o->fd < 0)
		return sit_err_sys(e, EX_CANTCREAT, "cannot open %s", o->path);
	if (fstat(o->fd, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino
	    || (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		close(o->fd);
		o->fd = -1;
		return sit_err_set(e, EX_CANTCREAT, "%s changed while it was being opened", o->path);
	}
	o->direct = 1;
	return 0;
}

/* ".BASE.XXXXXX" with six random letters, BASE cut to fit a name. */
static void
temp_name(const char *base, char out[NAME_MAX + 1])
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];
	char s[7];

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		/* Only uniqueness is wanted, and O_EXCL checks it. */
		uintptr_t x = (uintptr_t)out ^ (uintptr_t)getpid() ^ (uintptr_t)time(NULL);
		for (size_t i = 0; i < sizeof r; i++, x >>= 5)
			r[i] = (unsigned char)x;
	}
	for (size_t i = 0; i < sizeof r; i++)
		s[i] = abc[r[i] % (sizeof abc - 1)];
	s[6] = '\0';
	snprintf(out, NAME_MAX + 1, ".%.*s.%s", NAME_MAX - 8, base, s);
}

static mode_t
current_umask(void)
{
	mode_t um = umask(0);

	umask(um);
	return um;
}

/* A new file in the directory of o->path, with no name (O_TMPFILE) or, where
 * the file system cannot, a temporary one. */
static int
open_unnamed(sit_out *o, sit_err *e)
{
	char dir[PATH_MAX], base[PATH_MAX];
	const char *d, *b;
	size_t len = strlen(o->path);

	if (o->path[len - 1] == '/')
		return sit_err_set(e, EX_CANTCREAT, "%s names a directory", o->path);
	strcpy(dir, o->path);
	strcpy(base, o->path);
	d = dirname(dir);
	b = basename(base);
	if (strlen(b) > NAME_MAX || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
		return sit_err_set(e, EX_CANTCREAT, "%s: not a file name", o->path);
	strcpy(o->base, b);
	o->umask = current_umask();
	o->dirfd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0)
		return sit_err_sys(e, EX_CANTCREAT, "cannot create %s", o->path);
	/* Register before any file exists, so a signal between the two still
	 * finds it; the handler skips a name that is not there yet. */
	if ((o->slot = register_out(o)) < 0) {
		close(o->dirfd);
		o->dirfd = -1;
		return sit_err_set(e, EX_SOFTWARE, "too many output files at once");
	}
	o->fd = openat(o->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	for (int tries = 0; o->fd < 0 && tries < 100; tries++) {
		if (tries == 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			break;
		if (tries > 0 && errno != EEXIST)
			break;
		temp_name(o->base, o->tmp);
		o->fd = openat(o->dirfd, o->tmp,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (o->fd < 0)
			o->tmp[0] = '\0';
	}
	if (o->fd < 0) {
		int saved = errno;
		sit_out_abort(o);
		errno = saved;
		return sit_err_sys(e, EX_CANTCREAT, "cannot create %s", o->path);
	}
	return 0;
}

int
sit_out_open(sit_out *o, const char *path, int force, mode_t mode, sit_err *e)
{
	struct stat st;
	int n;

	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->slot = -1;
	o->dirfd = -1;
	o->force = force;
	o->mode = mode;

	if (path == NULL || strcmp(path, "-") == 0) {
		o->fd = 1;
		o->direct = 1;
		return 0;
	}
	if (path[0] == '\0' || strlen(path) >= sizeof o->path)
		return sit_err_set(e, EX_CANTCREAT, "output name empty or too long");
	strcpy(o->path, path);
	if ((n = descriptor_name(path)) >= 0)
		return open_descriptor(o, n, e);
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return sit_err_sys(e, EX_CANTCREAT, "cannot create %s", path);
		return open_unnamed(o, e);
	}
	if (S_ISDIR(st.st_mode))
		return sit_err_set(e, EX_CANTCREAT, "%s is a directory", path);
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return open_in_place(o, &st, e);
	if (S_ISLNK(st.st_mode) && !force)
		return sit_err_set(e, EX_CANTCREAT,
			"%s is a symbolic link, not followed (-f replaces the link itself)", path);
	if (S_ISREG(st.st_mode) && !force)
		return sit_err_set(e, EX_CANTCREAT, "%s already exists (use -f to replace it)", path);
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return sit_err_set(e, EX_CANTCREAT, "%s is not a regular file", path);
	return open_unnamed(o, e);
}

/* Read the gate once; 0 if it is open. */
static int
gate_pass(const sit_out *o, sit_err *e)
{
	if (gate_fd < 0)
		return 0;
	if (gate_state == 0) {
		char c = 0;
		ssize_t n;

		while ((n = read(gate_fd, &c, 1)) < 0 && errno == EINTR)
			;
		gate_state = n == 1 && c == 'y' ? 1 : -1;
	}
	if (gate_state > 0)
		return 0;
	return sit_err_set(e, EX_TEMPFAIL, "%s withheld: a stage before this one failed", sit_out_name(o));
}

int
sit_out_write(sit_out *o, const void *buf, size_t len, sit_err *e)
{
	/* A descriptor has no commit: the gate holds its first byte. */
	if (o->direct && gate_pass(o, e) != 0)
		return -1;
	if (sit_io_write(o->fd, buf, len) != 0)
		return sit_err_sys(e, EX_IOERR, "cannot write %s", sit_out_name(o));
	return 0;
}

int
sit_out_writev(sit_out *o, const struct iovec *iov, int n, sit_err *e)
{
	if (o->direct && gate_pass(o, e) != 0)
		return -1;
	if (sit_io_writev(o->fd, iov, n) != 0)
		return sit_err_sys(e, EX_IOERR, "cannot write %s", sit_out_name(o));
	return 0;
}

/* Give the unnamed file FD the name NAME in DIRFD.  AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH; without it (ENOENT) the /proc name of the descriptor
 * does the same.  Never replaces: EEXIST. */
static int
link_fd(int fd, int dirfd, const char *name)
{
	char p[64];

	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -1;
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, p, dirfd, name, AT_SYMLINK_FOLLOW);
}

/* -f: a temporary name first, then rename(2) onto the final name, which
 * replaces the name itself (a link too), never what it points to. */
static int
link_replace(sit_out *o)
{
	char t[NAME_MAX + 1];
	int rc = -1, saved;

	for (int tries = 0; tries < 100; tries++) {
		temp_name(o->base, t);
		if ((rc = link_fd(o->fd, o->dirfd, t)) == 0 || errno != EEXIST)
			break;
	}
	if (rc != 0)
		return -1;
	if (renameat(o->dirfd, t, o->dirfd, o->base) == 0)
		return 0;
	saved = errno;
	unlinkat(o->dirfd, t, 0);
	errno = saved;
	return -1;
}

/* The named fallback without -f: never over an existing name.  Where the
 * file system has no RENAME_NOREPLACE, link() refuses to replace as well. */
static int
rename_noreplace(sit_out *o)
{
	if (renameat2(o->dirfd, o->tmp, o->dirfd, o->base, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -1;
	if (linkat(o->dirfd, o->tmp, o->dirfd, o->base, 0) != 0)
		return -1;
	unlinkat(o->dirfd, o->tmp, 0);
	return 0;
}

/* Name a flushed output: everything that touches a path at commit time.  In
 * the parent after a split, or in the program itself when unconfined.  On
 * failure the temporary name, if any, is removed. */
static int
publish(sit_out *o, sit_err *e)
{
	int rc, saved;

	if (gate_pass(o, e) != 0)
		rc = -1;
	else if (fchmod(o->fd, o->mode & ~o->umask) != 0)
		rc = sit_err_sys(e, EX_IOERR, "cannot write %s", o->path);
	else {
		if (o->tmp[0] != '\0')
			rc = o->force ? renameat(o->dirfd, o->tmp, o->dirfd, o->base) : rename_noreplace(o);
		else
			rc = o->force ? link_replace(o) : link_fd(o->fd, o->dirfd, o->base);
		saved = errno;
		if (rc == 0)
			o->tmp[0] = '\0';
		else if (saved == EEXIST)
			sit_err_set(e, EX_CANTCREAT, "%s already exists (use -f to replace it)", o->path);
		else if (saved == EISDIR)
			sit_err_set(e, EX_CANTCREAT, "%s is a directory", o->path);
		else {
			errno = saved;
			sit_err_sys(e, EX_CANTCREAT, "cannot create %s", o->path);
		}
	}
	if (rc != 0 && o->tmp[0] != '\0') {
		unlinkat(o->dirfd, o->tmp, 0);
		o->tmp[0] = '\0';
	}
	return rc;
}

/* The child's side of publish(): one request, one answer. */
static int
ask_parent(const sit_out *o, sit_err *e)
{
	uint32_t slot = (uint32_t)o->slot;
	sit_err r;
	ssize_t n;

	pthread_mutex_lock(&keeper_lock);
	n = sit_io_write(keeper_sock, &slot, sizeof slot) == 0
		? read(keeper_sock, &r, sizeof r) : -1;
	pthread_mutex_unlock(&keeper_lock);
	if (n != (ssize_t)sizeof r)
		return sit_err_set(e, EX_SOFTWARE, "cannot commit %s: the parent process is gone", o->path);
	if (r.code != 0) {
		r.msg[SIT_ERR_MAX - 1] = '\0';
		*e = r;
		return -1;
	}
	return 0;
}

int
sit_out_commit(sit_out *o, sit_err *e)
{
	int rc;

	if (o->direct) {
		rc = o->fd > 1 && close(o->fd) != 0
			? sit_err_sys(e, EX_IOERR, "cannot write %s", sit_out_name(o)) : 0;
		o->fd = -1;
		return rc;
	}
	if (fsync(o->fd) != 0) {
		int saved = errno;
		sit_out_abort(o);
		errno = saved;
		return sit_err_sys(e, EX_IOERR, "cannot write %s", o->path);
	}
	rc = keeper_sock >= 0 ? ask_parent(o, e) : publish(o, e);
	o->tmp[0] = '\0';
	sit_out_abort(o);
	return rc;
}

struct commit_all {
	sit_out *const *outs;
	sit_err *errs;
	int *rcs;
	unsigned n, next;
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
		c->rcs[i] = sit_out_commit(c->outs[i], &c->errs[i]);
	}
}

int
sit_out_commit_all(sit_out *const *outs, unsigned n, unsigned threads, sit_err *e)
{
	struct commit_all c = { outs, NULL, NULL, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t tid[SIT_OUT_MAX_THREADS];
	unsigned started = 0;
	int rc = 0;

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
	if (!o->direct && o->tmp[0] != '\0' && o->dirfd >= 0)
		unlinkat(o->dirfd, o->tmp, 0);
	o->tmp[0] = '\0';
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->dirfd = -1;
	unregister_out(o);
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

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The parent keeps standard error, the socket, the gate and the outputs'
 * files and directories; nothing else, so that a pipe's other end sees its
 * end when the child is done with it. */
static void
close_all_but_kept(int sock)
{
	int keep[2 * SLOTS + 3], n = 0, from = 0;

	keep[n++] = 2;
	keep[n++] = sock;
	if (gate_fd >= 0)
		keep[n++] = gate_fd;
	for (int i = 0; i < SLOTS; i++) {
		sit_out *o = registry[i];
		if (o != NULL && !o->direct) {
			keep[n++] = o->fd;
			keep[n++] = o->dirfd;
		}
	}
	qsort(keep, (size_t)n, sizeof keep[0], cmp_int);
	for (int i = 0; i < n; i++) {
		if (keep[i] > from)
			close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
		if (keep[i] + 1 > from)
			from = keep[i] + 1;
	}
	close_range((unsigned)from, ~0u, 0);
}

/* The parent: publish what the child asks for, then end as it ended. */
static _Noreturn void
keep_outputs(pid_t pid, int sock)
{
	int status;

	child_pid = pid;
	close_all_but_kept(sock);
	for (;;) {
		uint32_t slot;
		sit_err r = { 0, "" };
		sit_out *o;
		ssize_t n = read(sock, &slot, sizeof slot);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof slot)
			break;
		o = slot < SLOTS ? registry[slot] : NULL;
		if (o == NULL || o->direct || o->fd < 0)
			sit_err_set(&r, EX_SOFTWARE, "commit of an output that is not open");
		else {
			publish(o, &r);
			sit_out_abort(o);
		}
		if (sit_io_write(sock, &r, sizeof r) != 0)
			break;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = EX_SOFTWARE << 8;
			break;
		}
	child_pid = 0;
	unlink_all();
	if (WIFSIGNALED(status)) {
		sigset_t all;

		signal(WTERMSIG(status), SIG_DFL);
		sigemptyset(&all);
		sigaddset(&all, WTERMSIG(status));
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE);
}

int
sit_out_split(sit_err *e)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return sit_err_sys(e, EX_OSERR, "cannot split the process");
	if ((pid = fork()) < 0) {
		int saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return sit_err_sys(e, EX_OSERR, "cannot split the process");
	}
	if (pid > 0) {
		close(sv[1]);
		keep_outputs(pid, sv[0]);
	}
	close(sv[0]);
	keeper_sock = sv[1];
	/* A child left alone would write into files nobody will name. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(EX_OSERR);
	/* The parent names, removes and times: the child keeps no directory,
	 * no temporary name, and no deadline of its own (the parent's alarm
	 * kills it). */
	for (int i = 0; i < SLOTS; i++) {
		sit_out *o = registry[i];
		if (o != NULL && o->dirfd >= 0) {
			close(o->dirfd);
			o->dirfd = -1;
		}
	}
	if (gate_fd >= 0)
		close(gate_fd);
	gate_fd = -1;
	return 0;
}
