#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli.h"
#include "out.h"

static const char *prog_name = "sit";

void
sit_cli_init(const char *prog)
{
	struct rlimit none = { 0, 0 };

	prog_name = prog;
	/* Every program holds plaintext or keys in memory at some point: no
	 * core from here on.  Both: RLIMIT_CORE stops the kernel writing a
	 * core, PR_SET_DUMPABLE also stops a core pipe handler (which ignores
	 * the limit) and ptrace or /proc/PID/mem by other processes of the
	 * same user.  A fork (sit_out_split) keeps both. */
	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0)
		sit_die(EX_OSERR, "cannot disable core dumps: %s", strerror(errno));
	/* A write to a closed pipe must be an error we report, not a silent death
	 * that leaves a temporary file behind. */
	signal(SIGPIPE, SIG_IGN);
	sit_out_install_cleanup();
}

const char *
sit_cli_prog(void)
{
	return prog_name;
}

static void
vmsg(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof line, fmt, ap);
	fprintf(stderr, "%s: %s\n", prog_name, line);
}

void
sit_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

noreturn void
sit_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	sit_out_abort_all();
	exit(code);
}

noreturn void
sit_die_err(const sit_err *e)
{
	sit_die(e->code ? e->code : EX_SOFTWARE, "%s", e->msg[0] ? e->msg : "internal error");
}

noreturn void
sit_cli_version(void)
{
	printf("%s %s\n", prog_name, SIT_VERSION);
	exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
}

noreturn void
sit_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", prog_name);
	exit(EX_USAGE);
}

unsigned long long
sit_cli_number(const char *opt, const char *arg, unsigned long long min,
	unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		sit_cli_usage_error("%s wants a number, not '%s'", opt, arg);
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0')
		sit_cli_usage_error("%s wants a number, not '%s'", opt, arg);
	if (v < min || v > max)
		sit_cli_usage_error("%s must be between %llu and %llu", opt, min, max);
	return v;
}

mode_t
sit_cli_mode(const char *opt, const char *arg)
{
	unsigned long v = 0;
	const char *p;

	for (p = arg; *p >= '0' && *p <= '7' && v <= 0777; p++)
		v = v * 8 + (unsigned long)(*p - '0');
	if (p == arg || *p != '\0' || v > 0777)
		sit_cli_usage_error("%s wants an octal mode from 0 to 0777 (600, 0644), not '%s'",
			opt, arg);
	return (mode_t)v;
}

int
sit_cli_read_fd(const char *opt, const char *arg)
{
	int fd = (int)sit_cli_number(opt, arg, 0, INT_MAX), fl;

	/* Checked now, so that a wrapper's mistake is a usage error at once,
	 * not an output withheld at the end. */
	if (fcntl(fd, F_GETFD) < 0)
		sit_cli_usage_error("%s %d: not an open descriptor", opt, fd);
	if ((fl = fcntl(fd, F_GETFL)) < 0 || (fl & O_ACCMODE) == O_WRONLY)
		sit_cli_usage_error("%s %d: not open for reading", opt, fd);
	return fd;
}
