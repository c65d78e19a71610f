/* sandbox-probe - a test program, never installed: it enters the sandbox the
 * way a sit program does, then tries one thing a confined program must not
 * be able to do, and says what happened.  tests/t-sandbox.sh drives it.
 *
 *   sandbox-probe [-o FILE [-f]] ACTION
 *
 * The first line on stdout is the sandbox state ("confined", "relaxed",
 * "disabled", "unsupported").  Then, for ACTION:
 *   open FILE  stat FILE  exec  socket  fork  mprotect-exec  unlink FILE
 *   rename A B  link A B  create FILE  kill-init  getuid  ioctl-tiocsti
 *   commit TEXT
 * prints "ACTION: denied (ERRNO TEXT)" and exits 0 when the call failed,
 * "ACTION: allowed" and exits 1 when it worked.  Calls the filter kills
 * (exec, socket, fork) never return: the shell sees 128 + SIGSYS.  Calls the
 * filter traps exit 70 with "sandbox-probe: sandbox: forbidden system call N".
 * "commit TEXT" writes TEXT to the -o output and commits it (exit 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "sandbox.h"

static const char *const state_names[] = { "confined", "relaxed", "disabled", "unsupported" };

/* Report the outcome of one attempt: RC < 0 is a denial with errno. */
static int
report(const char *what, long rc)
{
	if (rc < 0) {
		printf("%s: denied (%d %s)\n", what, errno, strerror(errno));
		return 0;
	}
	printf("%s: allowed\n", what);
	return 1;
}

static int
need(int argc, int n)
{
	if (argc < n)
		sit_cli_usage_error("this action needs %d argument(s)", n - 1);
	return 0;
}

static int
try_action(int argc, char **argv, sit_out *out)
{
	const char *a = argv[0];
	struct stat st;
	sit_err e = { 0 };

	if (strcmp(a, "open") == 0 && need(argc, 2) == 0)
		return report(a, open(argv[1], O_RDONLY | O_CLOEXEC));
	if (strcmp(a, "stat") == 0 && need(argc, 2) == 0)
		return report(a, stat(argv[1], &st));
	if (strcmp(a, "unlink") == 0 && need(argc, 2) == 0)
		return report(a, unlink(argv[1]));
	if (strcmp(a, "rename") == 0 && need(argc, 3) == 0)
		return report(a, rename(argv[1], argv[2]));
	if (strcmp(a, "link") == 0 && need(argc, 3) == 0)
		return report(a, link(argv[1], argv[2]));
	if (strcmp(a, "create") == 0 && need(argc, 2) == 0)
		return report(a, open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
	if (strcmp(a, "exec") == 0) {
		char *const args[] = { "true", NULL };
		return report(a, execve("/bin/true", args, args + 1));
	}
	if (strcmp(a, "socket") == 0)
		return report(a, socket(AF_INET, SOCK_STREAM, 0));
	if (strcmp(a, "fork") == 0)
		return report(a, fork());
	if (strcmp(a, "mprotect-exec") == 0) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return report(a, p == MAP_FAILED ? -1 : 0);
	}
	if (strcmp(a, "kill-init") == 0)
		return report(a, kill(1, 0));
	if (strcmp(a, "getuid") == 0)
		return report(a, syscall(SYS_getuid));
	if (strcmp(a, "ioctl-tiocsti") == 0) {
		char c = 'x';
		return report(a, ioctl(0, TIOCSTI, &c));
	}
	if (strcmp(a, "commit") == 0 && need(argc, 2) == 0) {
		if (sit_out_write(out, argv[1], strlen(argv[1]), &e) != 0
		    || sit_out_commit(out, &e) != 0) {
			sit_out_abort(out);
			sit_die_err(&e);
		}
		printf("commit: done\n");
		return 0;
	}
	sit_cli_usage_error("unknown action '%s'", a);
}

int
main(int argc, char **argv)
{
	const char *output = "-";
	sit_err e = { 0 };
	sit_out out;
	int c, force = 0, state;

	sit_cli_init("sandbox-probe");
	while ((c = getopt(argc, argv, "o:f")) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'f': force = 1; break;
		default: sit_cli_usage_error("usage: sandbox-probe [-o FILE [-f]] ACTION [ARG...]");
		}
	}
	if (optind >= argc)
		sit_cli_usage_error("usage: sandbox-probe [-o FILE [-f]] ACTION [ARG...]");
	if (sit_out_open(&out, output, force, 0666, &e) != 0)
		sit_die_err(&e);
	if ((state = sit_sandbox_enter(sit_sandbox_out_flags(&out), &e)) < 0)
		sit_die_err(&e);
	/* Unbuffered: a report must be out before a call that kills us. */
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("%s\n", state_names[state]);
	c = try_action(argc - optind, argv + optind, &out);
	if (out.fd >= 0)
		sit_out_abort(&out);
	return c;
}
