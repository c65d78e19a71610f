/* cli.h - the conventions every sit program shares.
 *
 * Messages are one line on stderr, "prog: what went wrong".  Exit codes are
 * from sysexits.h and mean the same in every program:
 *   0 ok, 64 usage, 65 bad data (not ours, corrupt, tampered, wrong key),
 *   66 cannot open input, 69 unavailable, 70 internal, 73 cannot create output,
 *   74 I/O error, 75 temporary failure (deadline passed: ask for a resend).
 *
 * This module is for programs, not for library callers: it keeps the program
 * name in a static set once by sit_cli_init() and its functions may exit.
 */
#ifndef SIT_CLI_H
#define SIT_CLI_H

#include <stdnoreturn.h>
#include <sys/types.h>

#include "err.h"

#define SIT_VERSION "0.2.0"

/* Remember the program name for messages; turn core dumps off (RLIMIT_CORE 0
 * and not dumpable: every program holds plaintext or keys; exit 71 if that
 * cannot be done); ignore SIGPIPE so that a closed pipe shows up as an EPIPE
 * write error we can report and clean up after; install the signal handlers
 * that remove temporary output files. */
void sit_cli_init(const char *prog);
const char *sit_cli_prog(void);

noreturn void sit_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void sit_die_err(const sit_err *e);
void sit_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "--version": prints "prog 0.2.0" and exits 0. */
noreturn void sit_cli_version(void);

/* For a bad command line: "prog: MSG" then "Try 'prog --help'.", exit 64. */
noreturn void sit_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a decimal number in [min, max] for option OPT, or die with exit 64. */
unsigned long long sit_cli_number(const char *opt, const char *arg,
	unsigned long long min, unsigned long long max);

/* Parse an octal file mode in [0, 0777] ("600", "0644") for option OPT
 * (--mode), or die with exit 64. */
mode_t sit_cli_mode(const char *opt, const char *arg);

/* Parse a descriptor number for option OPT that is open for reading
 * (--commit-fd), or die with exit 64. */
int sit_cli_read_fd(const char *opt, const char *arg);

#endif
