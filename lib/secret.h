/* secret.h - process set-up for holding secrets, and reading passphrases.
 *
 * Passphrases never come from the command line: from a file (first line),
 * from a file descriptor (first line), or from the terminal with echo off.
 */
#ifndef SIT_SECRET_H
#define SIT_SECRET_H

#include "err.h"
#include "keys.h"

/* sodium_init().  Core dumps, which would hold keys, are off from the start
 * in every program (sit_cli_init, cli.h). */
int sit_secret_init(sit_err *e);

int sit_pass_from_file(sit_keyring *kr, const char *path, sit_err *e);
int sit_pass_from_fd(sit_keyring *kr, int fd, sit_err *e);
/* Ask on /dev/tty with echo off; CONFIRM asks twice and compares. */
int sit_pass_from_tty(sit_keyring *kr, int confirm, sit_err *e);

#endif
