/* sandbox.c - the seccomp filter a program enters once its files are open.
 * The policy, and why each call is allowed, is in sandbox.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <seccomp.h>

#include "cli.h"
#include "out.h"
#include "sandbox.h"

/* AddressSanitizer (gcc or clang) needs open, clone and ptrace for its leak
 * check at exit: such builds get the relaxed filter. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

/* Plain calls a filter still needs: its descriptors, memory, signals. */
static const char *const allowed[] = {
	"read", "readv", "pread64", "write", "writev", "pwrite64", "lseek", "close",
	"fsync", "fdatasync", "fstat",
	"brk", "munmap", "mremap", "madvise", "mlock", "munlock",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	"alarm", "setitimer", "getitimer", "getpid", "gettid",
	"getrandom", "clock_gettime", "gettimeofday", "futex",
	"exit", "exit_group",
	/* What a new thread does first (lib/pipeline.c). */
	"set_robust_list", "rseq", "sched_yield",
};

/* Calls that name a file: they fail with EPERM, and the program's ordinary
 * error path reports "cannot open X: Operation not permitted". */
static const char *const refused[] = {
	"open", "openat", "openat2", "creat", "access", "faccessat", "faccessat2",
	"stat", "lstat", "statx", "readlink", "readlinkat", "truncate",
	"mkdir", "mkdirat", "symlink", "symlinkat", "chmod", "fchmodat",
};

/* Calls only a program that was taken over makes: it dies on the spot.
 * Naming a file is among them: every name an output gets is given by the
 * parent that sit_out_split() leaves outside the sandbox. */
static const char *const fatal[] = {
	"execve", "execveat", "fork", "vfork",
	"link", "linkat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	"umask", "fchmod", "chown", "fchown", "fchownat", "lchown",
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
	"sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
	"ptrace", "process_vm_readv", "process_vm_writev",
};

/* Only exec and sockets in a sanitizer build (see sandbox.h). */
static const char *const fatal_relaxed[] = {
	"execve", "execveat",
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
	"sendto", "sendmsg", "sendmmsg",
};

static const unsigned long fcntl_cmds[] = {
	F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETPIPE_SZ, F_SETPIPE_SZ,
};

/* isatty() and the progress line's width query. */
static const unsigned long ioctl_cmds[] = { TCGETS, TIOCGWINSZ };

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* Add one rule for the call NAME.  A call this machine does not have (open on
 * arm64) needs no rule: nothing can make it.  Returns libseccomp's 0 or -errno. */
static int
rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned nargs,
	const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add_array(ctx, action, nr, nargs, args);
}

static int
rules(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = rule(ctx, action, names[i], 0, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* NAME allowed when argument ARG is one of the N values in VALS. */
static int
rule_arg_in(scmp_filter_ctx ctx, const char *name, unsigned arg, const unsigned long *vals,
	size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp c = { arg, SCMP_CMP_EQ, vals[i], 0 };
		int rc = rule(ctx, SCMP_ACT_ALLOW, name, 1, &c);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* NAME allowed when the bits MASK of argument ARG are all clear (CLEAR) or
 * all set (!CLEAR), and failing with EPERM otherwise. */
static int
rule_bits(scmp_filter_ctx ctx, const char *name, unsigned arg, uint64_t mask, int clear)
{
	struct scmp_arg_cmp ok = { arg, SCMP_CMP_MASKED_EQ, mask, clear ? 0 : mask };
	struct scmp_arg_cmp no = { arg, SCMP_CMP_MASKED_EQ, mask, clear ? mask : 0 };
	int rc = rule(ctx, SCMP_ACT_ALLOW, name, 1, &ok);

	return rc != 0 ? rc : rule(ctx, SCMP_ACT_ERRNO(EPERM), name, 1, &no);
}

/* Threads but no processes: clone() with CLONE_VM and CLONE_THREAD is a
 * thread of this process (lib/pipeline.c); without either it would be a
 * new process, and kills.  clone3() passes its flags in memory, where a
 * filter cannot look: it fails with ENOSYS, and the C library falls back
 * to clone(). */
static int
add_threads(scmp_filter_ctx ctx, uint32_t kill)
{
	const uint64_t thread = CLONE_VM | CLONE_THREAD;
	struct scmp_arg_cmp is_thread = { 0, SCMP_CMP_MASKED_EQ, thread, thread };
	struct scmp_arg_cmp no_vm = { 0, SCMP_CMP_MASKED_EQ, CLONE_VM, 0 };
	struct scmp_arg_cmp no_thread = { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0 };
	int rc;

	if ((rc = rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &is_thread)) != 0 ||
	    (rc = rule(ctx, kill, "clone", 1, &no_vm)) != 0 ||
	    (rc = rule(ctx, kill, "clone", 1, &no_thread)) != 0)
		return rc;
	return rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
}

static int
add_strict(scmp_filter_ctx ctx, uint32_t kill)
{
	/* raise() and abort() signal this process, and nothing else may be. */
	const unsigned long self = (unsigned long)getpid();
	int rc;

	if ((rc = rules(ctx, SCMP_ACT_ALLOW, allowed, COUNT(allowed))) != 0
	    || (rc = rules(ctx, SCMP_ACT_ERRNO(EPERM), refused, COUNT(refused))) != 0
	    || (rc = rules(ctx, kill, fatal, COUNT(fatal))) != 0
	    || (rc = add_threads(ctx, kill)) != 0
	    /* No new executable memory: injected code stays data. */
	    || (rc = rule_bits(ctx, "mmap", 2, PROT_EXEC, 1)) != 0
	    || (rc = rule_bits(ctx, "mprotect", 2, PROT_EXEC, 1)) != 0
	    /* fstat() is newfstatat(fd, "", AT_EMPTY_PATH); a path is refused. */
	    || (rc = rule_bits(ctx, "newfstatat", 3, AT_EMPTY_PATH, 0)) != 0
	    || (rc = rule_arg_in(ctx, "fcntl", 1, fcntl_cmds, COUNT(fcntl_cmds))) != 0
	    || (rc = rule_arg_in(ctx, "ioctl", 1, ioctl_cmds, COUNT(ioctl_cmds))) != 0
	    || (rc = rule_arg_in(ctx, "tgkill", 0, &self, 1)) != 0)
		return rc;
	return 0;
}

#define WHAT ": sandbox: forbidden system call "

/* A call nobody foresaw (SCMP_ACT_TRAP): one line, no temporary file left,
 * exit 70.  Only async-signal-safe work: write(2), and close(2) and unlink(2)
 * in sit_out_abort_all(), _exit(2). */
static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[160], num[24];
	const char *prog = sit_cli_prog();
	size_t n = 0, k = 0;
	unsigned v = si != NULL && si->si_syscall >= 0 ? (unsigned)si->si_syscall : 0;

	(void)sig;
	(void)uc;
	do
		num[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && k < sizeof num);
	for (const char *p = prog; *p != '\0' && n < 64; p++)
		msg[n++] = *p;
	memcpy(msg + n, WHAT, sizeof WHAT - 1);
	n += sizeof WHAT - 1;
	while (k > 0)
		msg[n++] = num[--k];
	msg[n++] = '\n';
	(void)!write(2, msg, n);
	sit_out_abort_all();
	_exit(EX_SOFTWARE);
}

static int
install_sigsys(sit_err *e)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	/* Nothing else runs in the middle of the clean-up. */
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return sit_err_sys(e, EX_OSERR, "sandbox: cannot catch SIGSYS");
	return 0;
}

unsigned
sit_sandbox_out_flags(const sit_out *o)
{
	if (!sit_out_named(o))
		return 0;
	return SIT_SANDBOX_OUTPUT | (o->force ? SIT_SANDBOX_REPLACE : 0u);
}

static int
load(int relaxed, sit_err *e)
{
	/* KILL_PROCESS needs Linux 4.14 (API level 3); before that, the thread,
	 * which in our single-threaded programs is the process. */
	uint32_t kill = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
	scmp_filter_ctx ctx = seccomp_init(relaxed ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP);
	int rc;

	if (ctx == NULL)
		return sit_err_set(e, EX_OSERR, "sandbox: cannot build the seccomp filter");
	/* Real errno values from seccomp_load(), to tell "no seccomp here"
	 * apart; a call from another ABI (int 0x80, x32) kills. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) != 0
	    || (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill)) != 0)
		goto fail;
	rc = relaxed ? rules(ctx, kill, fatal_relaxed, COUNT(fatal_relaxed))
	             : add_strict(ctx, kill);
	if (rc != 0)
		goto fail;
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc == -EINVAL || rc == -ENOSYS)
		return SIT_SANDBOX_UNSUPPORTED;
	if (rc != 0) {
		errno = -rc;
		return sit_err_sys(e, EX_OSERR, "sandbox: cannot load the seccomp filter");
	}
	return relaxed ? SIT_SANDBOX_RELAXED : SIT_SANDBOX_CONFINED;
fail:
	seccomp_release(ctx);
	errno = rc < 0 ? -rc : EINVAL;
	return sit_err_sys(e, EX_OSERR, "sandbox: cannot build the seccomp filter");
}

int
sit_sandbox_enter(unsigned flags, sit_err *e)
{
	const char *off = getenv("SIT_NO_SANDBOX");

	if (off != NULL && off[0] != '\0' && strcmp(off, "0") != 0)
		return SIT_SANDBOX_DISABLED;
	/* Outputs are named by a parent outside the sandbox (out.h). */
	if ((flags & SIT_SANDBOX_OUTPUT) && sit_out_split(e) != 0)
		return -1;
	if (install_sigsys(e) != 0)
		return -1;
	return load(SANITIZER_BUILD, e);
}

const char *
sit_sandbox_describe(int state)
{
	switch (state) {
	case SIT_SANDBOX_CONFINED:
		return "sandbox: confined by seccomp (no open, exec or network from here on)";
	case SIT_SANDBOX_RELAXED:
		return "sandbox: sanitizer build, seccomp denies only exec and sockets";
	case SIT_SANDBOX_DISABLED:
		return "sandbox: not confined, SIT_NO_SANDBOX is set";
	case SIT_SANDBOX_UNSUPPORTED:
		return "sandbox: not confined, this kernel has no seccomp filters";
	default:
		return "sandbox: unknown state";
	}
}
