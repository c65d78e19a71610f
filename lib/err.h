/* err.h - error values that library functions fill in and programs report.
 *
 * Library functions never print and never exit: they return 0 on success and
 * -1 on failure, after filling a caller-owned sit_err with a sysexits.h code
 * and a one-line message.  Programs turn that into "prog: message" and exit
 * with the code (see cli.h).
 */
#ifndef SIT_ERR_H
#define SIT_ERR_H

#include <sysexits.h>

#define SIT_ERR_MAX 256

typedef struct sit_err {
	int code;              /* a sysexits.h code, 0 when no error */
	char msg[SIT_ERR_MAX]; /* one line, no program name, no newline */
} sit_err;

/* Record an error; always returns -1 so callers can `return sit_err_set(...)`. */
int sit_err_set(sit_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with ": strerror(errno)" appended (errno as it was on entry). */
int sit_err_sys(sit_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
