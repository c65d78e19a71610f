/* noseccomp - a test program, never installed: run a command as on a kernel
 * without seccomp filters, to test that sit's programs then carry on
 * unconfined and say so (tests/t-sandbox.sh).
 *
 *   noseccomp PROGRAM [ARG]...
 *
 * It loads its own seccomp filter, which execve() keeps for PROGRAM: the
 * seccomp() system call fails with ENOSYS (a kernel built without it) and
 * prctl(PR_SET_SECCOMP, ...) with EINVAL (what such a kernel answers);
 * everything else is allowed.  libseccomp in PROGRAM then finds no way to
 * load a filter, exactly as on such a kernel.  Exits 70 if its own filter
 * cannot be loaded (this kernel has no seccomp: nothing to simulate), 127 if
 * PROGRAM cannot be run, 64 without one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

int
main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: noseccomp PROGRAM [ARG]...\n");
		return 64;
	}
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		fprintf(stderr, "noseccomp: cannot build a filter\n");
		return 70;
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(seccomp), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(prctl), 1,
			SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		fprintf(stderr, "noseccomp: cannot load the filter: %s\n", strerror(-rc));
		return 70;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "noseccomp: cannot run %s: %s\n", argv[1], strerror(errno));
	return 127;
}
