/* pngstream.h - the samples of a PNG, streamed from a reader.
 *
 * sit's own PNGs (shares, sit-visual images: lib/png.c FAST mode) carry
 * their rows in stored deflate blocks, as do most conversions of a noise
 * image by other tools; others compress them, or only the zero padding at
 * the end.  This reader walks the chunks as they arrive, checks every CRC,
 * the zlib header, each stored block's LEN/NLEN and the final Adler-32,
 * inflates compressed blocks as their rows are asked for, undoes the five
 * row filters, and hands out the samples in file order (16-bit big-endian,
 * as PNG has them).  Memory: the input buffer (64 KiB, more only while the
 * chunks before the image data are kept, see below), two rows, and the last
 * 64 KiB inflated, whatever the image's size: a 437 KB file of deflated
 * zeros may claim 450 MB of samples, and the first ones (a sit header) are
 * looked at before the rest is inflated.
 *
 * What it does not stream is left to the whole-file decoder (stb_image, in
 * lib/imgdec.c), which the caller runs on every byte read so far plus the
 * rest of the input: interlaced images, palettes, depths under 8, a tRNS
 * chunk (stb_image turns it into an alpha channel), Apple's CgBI files.
 * That is why, until the zlib header has been read, nothing read is dropped.
 *
 * Messages say "corrupt PNG: ..." or "truncated PNG: ..." without naming
 * the input: callers add the name.  Internal to libsit (pixio.c, the fuzz
 * harness fuzz/pngstream.c); programs use lib/pixio.h.
 */
#ifndef SIT_PNGSTREAM_H
#define SIT_PNGSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "img.h"

/* Read at most LEN bytes into BUF: what is there now, at least one byte
 * unless the input has ended (0), or -1 with errno set.  The reader never
 * asks for more than it needs to go on: a caller reading several pipes in
 * turn gets no stall from it. */
typedef ssize_t (*sit_pngs_read_fn)(void *ctx, void *buf, size_t len);

typedef struct sit_pngs_src {
	sit_pngs_read_fn read;
	void *ctx;
	/* After IEND, read once more to make sure the input ends there.  Set
	 * it for a regular file; on a pipe the writer may still be busy with
	 * other outputs before it closes this one, and waiting for the end
	 * could stall both sides (bytes after IEND that arrived with it are
	 * refused either way). */
	int check_eof;
	/* Most bytes kept before the decision (the chunks before the image
	 * data): past it the file is refused as too large. */
	size_t max_keep;
} sit_pngs_src;

typedef struct sit_pngs sit_pngs;

enum {
	SIT_PNGS_WHOLE = 0,     /* open: not streamable, decode the whole file */
	SIT_PNGS_STREAM = 1,    /* open: streaming */
};

/* Start on a PNG whose first *LEN bytes (of *CAP allocated, with malloc)
 * were read already; the buffer is taken over.  Returns
 *   SIT_PNGS_STREAM  *SP is the reader, H the shape (format PNG);
 *   SIT_PNGS_WHOLE   not streamable: *BUF, *LEN, *CAP now hold every byte
 *                    read so far, for the caller to read the rest after;
 *   -1               E filled (EX_DATAERR bad or over LIM (NULL: the
 *                    defaults), EX_IOERR, EX_OSERR); the buffer is freed.
 * On SIT_PNGS_STREAM and -1, *BUF is NULL afterwards. */
int sit_pngs_open(sit_pngs **sp, const sit_pngs_src *src, unsigned char **buf,
	size_t *len, size_t *cap, const sit_img_limits *lim, sit_img_header *h,
	sit_err *e);

/* Exactly LEN more sample bytes: 0, or -1 with E filled. */
int sit_pngs_get(sit_pngs *s, void *buf, size_t len, sit_err *e);

/* After the last sample: the end of the zlib stream, its Adler-32, the
 * chunks through IEND, and nothing after it.  0 or -1; calling it again
 * after success does nothing. */
int sit_pngs_finish(sit_pngs *s, sit_err *e);

void sit_pngs_free(sit_pngs *s);

#endif
