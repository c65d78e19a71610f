#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "secret.h"

int
sit_secret_init(sit_err *e)
{
	/* Core dumps are off already: every program turns them off in
	 * sit_cli_init, before it holds anything. */
	if (sodium_init() < 0)
		return sit_err_set(e, EX_SOFTWARE, "cannot initialise libsodium");
	return 0;
}

/* Keep the first line of BUF[0..LEN) as the passphrase. */
static int
take_line(sit_keyring *kr, const char *buf, size_t len, const char *what, sit_err *e)
{
	size_t n = 0;

	while (n < len && buf[n] != '\n')
		n++;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return sit_err_set(e, EX_DATAERR, "empty passphrase from %s", what);
	if (n >= SIT_PASS_MAX)
		return sit_err_set(e, EX_DATAERR, "passphrase from %s is longer than %d bytes",
			what, SIT_PASS_MAX - 1);
	memcpy(kr->pass, buf, n);
	kr->passlen = n;
	return 0;
}

int
sit_pass_from_file(sit_keyring *kr, const char *path, sit_err *e)
{
	char *buf = sodium_malloc(SIT_PASS_MAX + 2);
	size_t len;
	int rc;

	if (buf == NULL)
		return sit_err_set(e, EX_OSERR, "cannot allocate locked memory");
	rc = sit_secret_file_read(path, 1, buf, SIT_PASS_MAX + 2, &len, e);
	if (rc == 0)
		rc = take_line(kr, buf, len, path, e);
	sodium_free(buf);
	return rc;
}

/* Read up to and including the first newline, one byte at a time, so that
 * nothing after it is consumed from a descriptor the caller may share. */
static int
read_line_fd(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || buf[n++] == '\n')
			break;
	}
	*len = n;
	return 0;
}

int
sit_pass_from_fd(sit_keyring *kr, int fd, sit_err *e)
{
	char *buf = sodium_malloc(SIT_PASS_MAX + 2);
	char what[32];
	size_t len;
	int rc;

	if (buf == NULL)
		return sit_err_set(e, EX_OSERR, "cannot allocate locked memory");
	snprintf(what, sizeof what, "descriptor %d", fd);
	if (read_line_fd(fd, buf, SIT_PASS_MAX + 2, &len) != 0)
		rc = sit_err_sys(e, EX_NOINPUT, "cannot read the passphrase from %s", what);
	else
		rc = take_line(kr, buf, len, what, e);
	sodium_free(buf);
	return rc;
}

static int
ask(int tty, const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct termios old, quiet;
	int rc;

	if (tcgetattr(tty, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ICANON;
	if (write(tty, prompt, strlen(prompt)) < 0 || tcsetattr(tty, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line_fd(tty, buf, cap, len);
	tcsetattr(tty, TCSAFLUSH, &old);
	(void)!write(tty, "\n", 1);
	return rc;
}

int
sit_pass_from_tty(sit_keyring *kr, int confirm, sit_err *e)
{
	char *a = sodium_malloc(2 * (SIT_PASS_MAX + 2)), *b;
	size_t alen = 0, blen = 0;
	int tty, rc = -1;

	if (a == NULL)
		return sit_err_set(e, EX_OSERR, "cannot allocate locked memory");
	b = a + SIT_PASS_MAX + 2;
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0) {
		sodium_free(a);
		return sit_err_set(e, EX_USAGE,
			"no terminal to ask for a passphrase: give -p FILE, --passphrase-fd N, -k or -i");
	}
	if (ask(tty, "Passphrase: ", a, SIT_PASS_MAX + 2, &alen) != 0)
		rc = sit_err_sys(e, EX_IOERR, "cannot read the passphrase from the terminal");
	else if (confirm && ask(tty, "Passphrase again: ", b, SIT_PASS_MAX + 2, &blen) != 0)
		rc = sit_err_sys(e, EX_IOERR, "cannot read the passphrase from the terminal");
	else if (confirm && (alen != blen || sodium_memcmp(a, b, alen) != 0))
		rc = sit_err_set(e, EX_DATAERR, "the passphrases do not match");
	else
		rc = take_line(kr, a, alen, "the terminal", e);
	close(tty);
	sodium_free(a);
	return rc;
}
