/* pixio.h - an image's samples as one byte stream, in both directions.
 *
 * The byte stream is the samples row by row in file order, 16-bit samples
 * big-endian (exactly a PAM raster).  sit-visual and sit-share write their
 * header, payload and checksum through a pixio writer and read them back
 * through a pixio reader, whatever the image format in between.
 */
#ifndef SIT_PIXIO_H
#define SIT_PIXIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "img.h"
#include "spool.h"

/* ---- writing ---------------------------------------------------------- */

typedef struct sit_pix_writer {
	int png;                       /* 1: FAST PNG, 0: PAM */
	int started;                   /* the encoder below is set up */
	sit_img_sink sink;
	sit_img_png_writer pngw;
	sit_img_pam_writer pamw;
	uint64_t size, done;           /* raster bytes in all, written so far */
} sit_pix_writer;

/* Start an image on SINK: PNG (fast stored deflate) if PNG, else PAM. */
int sit_pix_writer_begin(sit_pix_writer *w, const sit_img_sink *sink, int png,
	uint32_t width, uint32_t height, unsigned channels, unsigned depth,
	sit_err *e);
/* Append LEN bytes; more than the image holds is EX_SOFTWARE. */
int sit_pix_writer_put(sit_pix_writer *w, const void *buf, size_t len, sit_err *e);
/* A sit_img_sink appending to a started writer: CTX is the sit_pix_writer. */
int sit_pix_sink_writer(void *ctx, const void *buf, size_t len, sit_err *e);
/* Bytes the image still has room for. */
uint64_t sit_pix_writer_left(const sit_pix_writer *w);
/* Fill the rest with zero bytes, finish the file and free the writer. */
int sit_pix_writer_end(sit_pix_writer *w, sit_err *e);
void sit_pix_writer_abort(sit_pix_writer *w);

/* ---- reading ---------------------------------------------------------- */

/* Input larger than this is refused before decoding (a PNG of the largest
 * image the default limits allow, 16-bit RGBA, is below it). */
#define SIT_PIX_FILE_MAX ((size_t)1300 * 1024 * 1024)

/* The most bytes deflate makes of one (a 258-byte match in two 1-bit
 * codes): a PNG from a file smaller than its rows over this is refused
 * before a sample is read. */
#define SIT_PIX_DEFLATE_RATIO 1032u

/* A cipher image or share (sit_pix_reader_open) decoded in memory (not
 * streamed: see below) may have at most this many times as many sample
 * bytes as its file has bytes, plus SLACK: its samples are noise, which no
 * lossless format shrinks, but for its zero padding (less than a row, at
 * most 512 KiB) and a sit-visual payload that is not ciphertext.  The
 * decoders take memory for every sample before any can be looked at; this
 * keeps that within 16 times the input, plus a few MiB. */
#define SIT_PIX_NOISE_RATIO 16u
#define SIT_PIX_NOISE_SLACK ((uint64_t)1 << 20)

struct sit_pngs;

typedef struct sit_pix_reader {
	sit_img_format format;         /* as sniffed */
	uint32_t width, height;
	unsigned channels, depth;
	uint64_t size, pos;            /* sample bytes in all, read so far */
	/* PAM/PNM with maxval 255 or 65535: the raster streams from FD, after
	 * the HEAD bytes already read.  A PNG of 8 or 16 bits, not
	 * interlaced, with no palette or tRNS (ours, and most conversions)
	 * streams through PNG (lib/pngstream.h), its deflate blocks stored
	 * or compressed.  Anything else: decoded in memory. */
	int fd;
	unsigned char *head;
	size_t head_len, head_pos;
	struct sit_pngs *png;
	sit_img img;
} sit_pix_reader;

/* The first read from an input: enough for any format's header (a PAM
 * header is at most 4 KiB), and for sit-share to tell an image from a byte
 * stream; small, so that reading several fifos in turn never waits on one
 * while its writer waits for room in another. */
#define SIT_PIX_HEAD_LEN (16 * 1024)

/* sit-share writes its shares, and sit-unshare reads them, in turns of
 * this many bytes each: with each share in its own fifo, neither side may
 * get a pipe's worth (64 KiB) ahead on one share while the other waits on
 * another share. */
#define SIT_PIX_INTERLEAVE (8 * 1024)

/* The turn to use over the N descriptors FDS: SIT_PIX_INTERLEAVE when any
 * of them is a pipe, fifo, socket or device (another process may be
 * reading or writing the others in step), else BIG, since turns between
 * regular files only cost system calls. */
size_t sit_pix_turn(const int *fds, unsigned n, size_t big);

/* Read the first (up to) SIT_PIX_HEAD_LEN bytes of FD into a new *HEAD. */
int sit_pix_read_head(int fd, unsigned char **head, size_t *len, const char *what,
	sit_err *e);

/* Read FD to its end, appending to *BUF (LEN bytes used of CAP, grown with
 * realloc); more than MAX bytes in all is EX_DATAERR. */
int sit_pix_read_rest(int fd, unsigned char **buf, size_t *len, size_t cap,
	size_t max, const char *what, sit_err *e);

/* Read enough of FD to know the format and shape (WHAT names it in
 * messages).  Any format lib/img.h decodes is accepted.  EX_DATAERR for
 * what is not an image, and for a regular file too short for the samples
 * its header promises (a streamed PAM or PNM: shorter than its raster; a
 * PNG: its rows over SIT_PIX_DEFLATE_RATIO).  For cipher images and
 * shares: one decoded in memory is held to SIT_PIX_NOISE_RATIO. */
int sit_pix_reader_open(sit_pix_reader *r, int fd, const char *what, sit_err *e);
/* The same after sit_pix_read_head(); takes HEAD over (frees it).  NOISE:
 * nonzero for a cipher image or share (held to SIT_PIX_NOISE_RATIO as
 * above), 0 for any image (sit-share's input). */
int sit_pix_reader_open_head(sit_pix_reader *r, int fd, unsigned char *head,
	size_t head_len, int noise, const char *what, sit_err *e);
/* Exactly LEN more sample bytes into BUF (EX_DATAERR if the image ends).
 * A streamed PNG is checked as it goes, to the end of the file once the
 * last sample has been read: a CRC, the Adler-32, the length of the image
 * data or a truncation can fail any call, with EX_DATAERR naming WHAT. */
int sit_pix_reader_get(sit_pix_reader *r, void *buf, size_t len, const char *what,
	sit_err *e);
/* Read what is left of a streamed raster, so that a writer on the other
 * end of a pipe is not cut off, and check it is all there. */
int sit_pix_reader_drain(sit_pix_reader *r, const char *what, sit_err *e);
void sit_pix_reader_close(sit_pix_reader *r);

/* ---- byte streams of known length ------------------------------------ */

/* The payload's length goes into the header, before the payload, so it
 * must be known first: a regular file is streamed (its size says it, memory
 * stays bounded); a pipe is read to its end into SPOOL (spool.h: on disk,
 * encrypted, memory stays bounded) or, with SPOOL NULL, into memory; at
 * most MAX bytes. */
typedef struct sit_pix_src {
	int fd;
	int streamed;
	sit_spool *spool;              /* the pipe's bytes, when spooled */
	unsigned char *buf;            /* head bytes, or the whole pipe */
	size_t buf_len, buf_pos;
	uint64_t length, pos;
} sit_pix_src;

/* HEAD (taken over, may be NULL) holds the first bytes already read. */
int sit_pix_src_open(sit_pix_src *s, int fd, unsigned char *head, size_t head_len,
	size_t max, sit_spool *spool, const char *what, sit_err *e);
/* Exactly LEN more bytes (never past the length). */
int sit_pix_src_get(sit_pix_src *s, void *buf, size_t len, const char *what,
	sit_err *e);
/* After the last byte: check a streamed file did not grow meanwhile. */
int sit_pix_src_end(sit_pix_src *s, const char *what, sit_err *e);
void sit_pix_src_close(sit_pix_src *s);

/* 1 when FORMAT lost information on the way (JPEG): the bytes are gone. */
int sit_pix_format_lossy(sit_img_format format);

/* 1 when PATH ends in ".png" (any case). */
int sit_pix_path_is_png(const char *path);

#endif
