#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static int
vset(sit_err *e, int code, int errnum, const char *fmt, va_list ap)
{
	int n;

	if (e == NULL)
		return -1;
	e->code = code;
	n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (n < 0)
		e->msg[0] = '\0';
	if (errnum != 0 && n >= 0 && (size_t)n < sizeof e->msg)
		snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(errnum));
	return -1;
}

int
sit_err_set(sit_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
sit_err_sys(sit_err *e, int code, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, errnum, fmt, ap);
	va_end(ap);
	return -1;
}
