/* spool.h - a byte stream parked on disk, encrypted, until its length is
 * known.
 *
 * sit-share and sit-visual -e must know a stream's length before they
 * write the first pixel: the header holds it, and the image's shape follows
 * from it.  A regular file says its size; a pipe has to be read to its end
 * first.  Holding it in memory made memory grow with the input (up to
 * 450 MB).  Instead it goes to a temporary file without a name (O_TMPFILE,
 * or unlinked the moment it is made), encrypted with a keystream
 * (keystream.h) under a random key that exists only in this process's
 * memory: what reaches the disk is noise even when the input is the secret
 * itself, and nothing is left behind however the process ends.
 *
 * The encryption is for the disk, not against this process's own user: it
 * has no authenticator, and whoever can open /proc/PID/fd can also read
 * the process's memory.
 *
 * Layout: byte i of the stream is stored at offset i, XORed with byte
 * i mod 64 KiB of the keystream of nonce i / 64 KiB (little-endian).
 */
#ifndef SIT_SPOOL_H
#define SIT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keystream.h"

#define SIT_SPOOL_CHUNK (64 * 1024)

typedef struct sit_spool {
	int fd;                        /* -1 when not open */
	char dir[4096];                /* for messages */
	sit_keystream ks;              /* secret */
	unsigned char *pad;            /* SIT_SPOOL_CHUNK of keystream: secret */
	unsigned char *buf;            /* SIT_SPOOL_CHUNK read from the pipe */
	uint64_t len, pos;             /* bytes stored, and read back */
} sit_spool;

/* Create the nameless file in DIR (NULL: $TMPDIR, else /tmp) and draw its
 * key.  EX_CANTCREAT when DIR takes no file. */
int sit_spool_open(sit_spool *sp, const char *dir, sit_err *e);

/* What a program reading FD calls before it confines itself: SP opened
 * when FD is not a regular file (whose size is known without reading it),
 * else NULL; NULL too when no temporary file can be made, and the stream
 * then waits in memory as before. */
sit_spool *sit_spool_for(int fd, sit_spool *sp);

/* Store HEAD[0..head_len) and then everything FD gives until its end.
 * EX_DATAERR, naming WHAT, once more than MAX bytes came; EX_IOERR when
 * reading fails or the disk is full. */
int sit_spool_fill(sit_spool *sp, int fd, const unsigned char *head, size_t head_len,
	uint64_t max, const char *what, sit_err *e);

/* The next LEN stored bytes, in the clear (never past the end). */
int sit_spool_read(sit_spool *sp, void *buf, size_t len, sit_err *e);

/* Close the file (the kernel frees it) and wipe the key. */
void sit_spool_close(sit_spool *sp);

#endif
