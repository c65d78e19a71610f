/* img_int.h - helpers shared by the img*.c, png.c, pam.c and meta.c files
 * of libsit; not part of the public image API (img.h). */
#ifndef SIT_IMG_INT_H
#define SIT_IMG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "img.h"

/* Big-endian loads and stores (PNG and JPEG are big-endian formats). */
static inline uint32_t
sit_img_get32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static inline unsigned
sit_img_get16be(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline void
sit_img_put32be(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* PNG's Paeth predictor of a byte from its left (A), upper (B) and
 * upper-left (C) neighbours: the writer filters with it, the streaming
 * reader undoes it. */
static inline int
sit_img_paeth(int a, int b, int c)
{
	int p = a + b - c;
	int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;

	if (pa <= pb && pa <= pc)
		return a;
	return pb <= pc ? b : c;
}

/* Copy N native uint16_t samples from SRC to big-endian bytes in DST, or
 * back; SRC and DST need not be aligned. */
void sit_img_samples_to_be16(unsigned char *dst, const void *src, size_t n);
void sit_img_samples_from_be16(void *dst, const unsigned char *src, size_t n);

/* Check the arguments a streaming writer's _begin gets; ROW_BYTES gets the
 * size of one row of samples. */
int sit_img_check_shape(uint32_t width, uint32_t height, unsigned channels,
	unsigned depth, size_t *row_bytes, sit_err *e);

/* Call the sink. */
static inline int
sit_img_emit(const sit_img_sink *s, const void *buf, size_t len, sit_err *e)
{
	return s->write(s->ctx, buf, len, e);
}

/* IOV[0..n) in order: one system call where the sink gathers, since a
 * call costs about as much as copying a few KiB. */
static inline int
sit_img_emitv(const sit_img_sink *s, const struct iovec *iov, int n, sit_err *e)
{
	if (s->writev != NULL)
		return s->writev(s->ctx, iov, n, e);
	for (int i = 0; i < n; i++)
		if (iov[i].iov_len > 0 && s->write(s->ctx, iov[i].iov_base, iov[i].iov_len, e) < 0)
			return -1;
	return 0;
}

/* Walk a PNG / JPEG and check its structure.  With a SINK, also write the
 * file without its metadata (sit_img_strip); with NULL, only check.
 * EX_DATAERR "truncated PNG" / "corrupt PNG: why" and the like. */
int sit_img_png_walk(const unsigned char *buf, size_t len,
	const sit_img_sink *sink, sit_err *e);
int sit_img_jpeg_walk(const unsigned char *buf, size_t len,
	const sit_img_sink *sink, sit_err *e);

/* Read a P5/P6/P7 file in memory (pam.c). */
int sit_img_pam_decode(const unsigned char *buf, size_t len,
	const sit_img_limits *lim, sit_img *img, sit_err *e);

#endif
