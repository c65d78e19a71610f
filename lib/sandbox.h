/* sandbox.h - a program confines itself once its files are open.
 *
 * Everything a receiver reads came from the network.  Once a program has
 * opened its inputs and outputs, read its keys and set its deadline, it calls
 * sit_sandbox_enter() and from then on the kernel (seccomp) lets it do little
 * more than read and write the descriptors it already has, manage memory,
 * handle its signals and finish its output files.  A bug in a parser can then
 * no longer open files, run programs or talk to the network.
 *
 * What a confined program may still do (x86_64 names; the filter is built by
 * libseccomp for the machine it runs on):
 *   descriptors   read readv pread64 write writev pwrite64 lseek close fsync
 *                 fdatasync; fstat (and newfstatat with AT_EMPTY_PATH only);
 *                 fcntl F_GETFD/F_SETFD/F_GETFL/F_SETFL/F_GETPIPE_SZ/F_SETPIPE_SZ;
 *                 ioctl TCGETS (isatty) and TIOCGWINSZ only
 *   memory        brk mmap munmap mremap madvise mprotect mlock munlock
 *                 (sodium_malloc, Argon2id, malloc); never PROT_EXEC
 *   signals       rt_sigaction rt_sigprocmask rt_sigreturn restart_syscall,
 *                 alarm setitimer getitimer (the deadline), getpid gettid,
 *                 tgkill on itself only (raise, abort)
 *   other         getrandom (libsodium), clock_gettime gettimeofday, futex,
 *                 exit exit_group
 *   threads       clone with CLONE_VM and CLONE_THREAD (lib/pipeline.h),
 *                 set_robust_list rseq sched_yield; clone3 fails with ENOSYS
 *                 (its flags are out of a filter's sight) and the C library
 *                 falls back to clone
 *   with SIT_SANDBOX_OUTPUT   umask fchmod renameat2(RENAME_NOREPLACE) link
 *                 linkat unlink unlinkat: sit_out_commit() and the clean-up of
 *                 temporary files (lib/out.h)
 *   with SIT_SANDBOX_REPLACE  also rename/renameat/renameat2 that replace (-f)
 * A filter sees call numbers and flags, not file names: with the OUTPUT flag a
 * confined program can still link, rename (to a new name) and unlink any file
 * it could before, so pass the flag only when an output needs it
 * (sit_sandbox_out_flags), and never for standard output.
 *
 * What happens to the rest:
 *   open openat openat2 creat access faccessat faccessat2, a path stat
 *       fail with EPERM, so the program reports "cannot open X: Operation not
 *       permitted" through its ordinary error path and exits cleanly;
 *   execve execveat, socket and the rest of the network calls, ptrace,
 *   process_vm_readv/writev, fork vfork, clone without CLONE_VM or
 *   CLONE_THREAD (a new process)
 *       kill the whole process at once (SIGSYS): a program that tries them
 *       has been taken over, and nothing it does next can be trusted, even
 *       at the cost of a temporary output file left behind;
 *   anything else
 *       SIGSYS to a handler that writes "prog: sandbox: forbidden system call
 *       N", removes temporary output files and exits 70 (EX_SOFTWARE): a call
 *       we did not foresee is our bug, and the user gets a message, not a core.
 *
 * Sanitizer builds (make SANITIZE=1): AddressSanitizer's leak checker needs
 * to open /proc/self/maps, clone and ptrace at exit, so there the filter is
 * relaxed: everything is allowed except exec and sockets, which still kill.
 *
 * SIT_NO_SANDBOX=1 in the environment turns confinement off, for debugging
 * with strace or gdb; a kernel without seccomp (EINVAL/ENOSYS) leaves the
 * program unconfined.  Either way the program carries on, and -v says so.
 */
#ifndef SIT_SANDBOX_H
#define SIT_SANDBOX_H

#include "err.h"
#include "out.h"

enum {
	SIT_SANDBOX_OUTPUT  = 1u << 0,  /* may commit or remove temporary files */
	SIT_SANDBOX_REPLACE = 1u << 1,  /* ... and replace existing files (-f) */
};

enum sit_sandbox_state {
	SIT_SANDBOX_CONFINED,   /* the full filter is in force */
	SIT_SANDBOX_RELAXED,    /* sanitizer build: only exec and sockets denied */
	SIT_SANDBOX_DISABLED,   /* SIT_NO_SANDBOX is set */
	SIT_SANDBOX_UNSUPPORTED /* the kernel has no seccomp filters */
};

/* The flags an output O needs at commit time: none for standard output, a
 * fifo or a device; SIT_SANDBOX_OUTPUT for a temporary file; with -f also
 * SIT_SANDBOX_REPLACE.  OR them together over all of a program's outputs. */
unsigned sit_sandbox_out_flags(const sit_out *o);

/* Confine the calling process for good (it cannot be undone, and it applies
 * to the calling thread: call it while the program has a single thread).
 * Returns the state reached, or -1 with E filled (EX_OSERR) when the filter
 * could not be built or loaded on a kernel that has seccomp: a program that
 * asked for a sandbox does not run without one by accident.
 * Installs a SIGSYS handler (see above); for programs, not library callers. */
int sit_sandbox_enter(unsigned flags, sit_err *e);

/* One line for -v: "confined by seccomp", "not confined: ...". */
const char *sit_sandbox_describe(int state);

#endif
