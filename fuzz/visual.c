/* fuzz/visual.c - libFuzzer harness: what sit-visual -d and sit-unshare do
 * with the images they receive, on images arriving through pipes.
 *
 *   sit-visual -d   the library calls cmd/sit-visual.c decode() makes, in
 *                   the same order, with the same checks between them:
 *                   sample stream (sit_pix_reader) -> lossy format? -> 80
 *                   header bytes -> sit_pixhdr_parse against the image's
 *                   shape -> kind V -> payload through the checksum
 *                   (sit_pixhdr_sum_*) -> the checksum compared -> drained
 *   sit-unshare     lib/unshare.h, as cmd/sit-unshare.c main() calls it:
 *                   sit_unshare_open (every share's header, kind S, one
 *                   set, no share twice, at least K) -> an image writer
 *                   when the shares carry an image -> sit_unshare_join
 *                   (lib/pipeline.h: every share read in turns and summed,
 *                   the first K joined, batches written in order, every
 *                   checksum compared) -> the writer ended ->
 *                   sit_unshare_drain
 *
 * Input: two control bytes, then one or more netpbm images back to back
 * (the first is sit-visual's; all of them, up to 4, are sit-unshare's
 * shares; each ends where its header says its raster ends).  Byte 0:
 *   bit 0     recompute each image's header checksum (BLAKE2b of bytes 0-63)
 *   bit 1     recompute each image's payload checksum (Poly1305, after the
 *             payload, version 1 or 2 as the header says), so the fuzzer
 *             gets past checks it cannot forge
 *   bit 2     write a rebuilt image as PNG (else PAM)
 *   bit 3     run the pipeline with 2 worker threads (else on this thread)
 *   bits 4-7  cap every read() at that many bytes (fuzz.h; 0: no cap)
 * Byte 1: every Nth read fails with EINTR first (bits 0-3; 0: never).
 * The fix-ups apply to images whose raster is the sample stream (maxval 255
 * or 65535).  Properties checked:
 *   - every refusal has a message;
 *   - a decoded payload has the length the header says, and for a streamed
 *     raster it is exactly the bytes after the header;
 *   - a rebuilt stream has the length the shares say.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "img.h"
#include "io.h"
#include "pixhdr.h"
#include "pixio.h"
#include "shamir.h"
#include "unshare.h"

#define MAX_SHARES 4
#define BLOCK (64 * 1024)     /* sit-visual's block */

static void
fail(const char *what)
{
	fprintf(stderr, "visual: %s\n", what);
	abort();
}

/* A refusal: it must say why.  Returns -1 for the caller to pass on. */
static int
refuse(const sit_err *e)
{
	if (e != NULL && (e->code == 0 || e->msg[0] == '\0'))
		fail("refusal without a message");
	return -1;
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One received image: its bytes (a mutable copy), where its raster is. */
struct image {
	unsigned char *bytes;
	size_t len;
	int streamed;              /* raster == sample stream */
	size_t raster, raster_len; /* offset, bytes present */
};

static int
feed(const unsigned char *b, size_t len)
{
	int p[2];

	fuzz_must(len <= 65536 && pipe(p) == 0, "pipe");
	fuzz_must(sit_io_write(p[1], b, len) == 0, "write to the pipe");
	close(p[1]);
	return p[0];
}

/* Cut DATA into images; returns how many. */
static unsigned
split_images(const uint8_t *data, size_t size, struct image *im)
{
	unsigned n = 0;

	while (size > 0 && n < MAX_SHARES) {
		sit_img_pam_header h;
		sit_err e = { 0 };
		size_t len = size;
		int rc = sit_img_pam_parse_header(data, size, NULL, &h, &e);

		memset(&im[n], 0, sizeof im[n]);
		if (rc == 1 && h.raster_len <= size - h.header_len)
			len = h.header_len + h.raster_len;
		if (rc == 1) {
			im[n].streamed = h.maxval == 255 || h.maxval == 65535;
			im[n].raster = h.header_len;
			im[n].raster_len = len - h.header_len;
		}
		fuzz_must((im[n].bytes = malloc(len)) != NULL, "malloc");
		memcpy(im[n].bytes, data, len);
		im[n].len = len;
		n++;
		data += len;
		size -= len;
	}
	return n;
}

/* The checksums the fuzzer cannot forge, made right on request. */
static void
fix_up(struct image *im, unsigned flags)
{
	unsigned char *s = im->bytes + im->raster;
	sit_pixhdr_sum st;
	uint64_t len;

	if (!im->streamed || im->raster_len < SIT_PIXHDR_LEN)
		return;
	if (flags & 1)
		crypto_generichash(s + 64, 16, s, 64, NULL, 0);
	len = le64(s + 24);
	if ((flags & 2) && len <= im->raster_len - SIT_PIXHDR_OVERHEAD &&
	    im->raster_len >= SIT_PIXHDR_OVERHEAD) {
		sit_pixhdr_sum_init(&st, s);
		sit_pixhdr_sum_update(&st, s + SIT_PIXHDR_LEN, (size_t)len);
		sit_pixhdr_sum_final(&st, s + SIT_PIXHDR_LEN + len);
	}
}

/* Up to the parsed header: sit-visual's read_header. */
static int
open_image(sit_pix_reader *r, int fd, unsigned char *hdr, sit_pixhdr *h)
{
	sit_err e = { 0 };
	enum sit_pixhdr_status st;

	if (sit_pix_reader_open(r, fd, "image", &e) != 0)
		return refuse(&e);
	if (sit_pix_format_lossy(r->format) || r->size < SIT_PIXHDR_LEN)
		return -1;
	if (sit_pix_reader_get(r, hdr, SIT_PIXHDR_LEN, "image", &e) != 0)
		return refuse(&e);
	st = sit_pixhdr_parse(hdr, r->width, r->height, r->channels, r->depth, h);
	if (sit_pixhdr_status_text(st) == NULL)
		fail("a status without a text");
	if (st != SIT_PIXHDR_OK || h->kind != SIT_PIXHDR_VISUAL)
		return -1;
	/* What the programs rely on from here. */
	if (h->length > r->size - SIT_PIXHDR_OVERHEAD)
		fail("a payload larger than the image's samples passed the header check");
	return 0;
}

/* sit-visual -d on IM; the payload goes to OUT. */
static int
visual_decode(const struct image *im, sit_img_buf *out)
{
	unsigned char hdr[SIT_PIXHDR_LEN], sum[SIT_PIXHDR_SUM_LEN], got[SIT_PIXHDR_SUM_LEN];
	sit_img_sink sink = { sit_img_sink_buf, out, NULL };
	sit_pixhdr_sum st;
	sit_pix_reader r;
	sit_pixhdr h;
	sit_err e = { 0 };
	unsigned char *buf = malloc(BLOCK);
	int fd = feed(im->bytes, im->len), rc = -1;

	fuzz_must(buf != NULL, "malloc");
	memset(&r, 0, sizeof r);
	if (open_image(&r, fd, hdr, &h) != 0)
		goto done;
	sit_pixhdr_sum_init(&st, hdr);
	for (uint64_t left = h.length; left > 0;) {
		size_t n = left < BLOCK ? (size_t)left : BLOCK;

		if (sit_pix_reader_get(&r, buf, n, "image", &e) != 0 ||
		    sink.write(sink.ctx, buf, n, &e) != 0) {
			refuse(&e);
			goto done;
		}
		sit_pixhdr_sum_update(&st, buf, n);
		left -= n;
	}
	sit_pixhdr_sum_final(&st, sum);
	if (sit_pix_reader_get(&r, got, sizeof got, "image", &e) != 0) {
		refuse(&e);
		goto done;
	}
	if (sodium_memcmp(sum, got, sizeof sum) != 0)
		goto done;
	if (sit_pix_reader_drain(&r, "image", &e) != 0) {
		refuse(&e);
		goto done;
	}
	if (out->len != h.length)
		fail("decoded payload of another length than the header says");
	if (im->streamed && out->len > 0 && memcmp(out->data, im->bytes + im->raster + SIT_PIXHDR_LEN,
	    out->len) != 0)
		fail("decoded payload is not the bytes after the header");
	rc = 0;
done:
	sit_pix_reader_close(&r);
	close(fd);
	free(buf);
	return rc;
}

/* sit-unshare on the COUNT images, through the same lib/unshare.h calls
 * and the same image writer; the rebuilt stream or image to OUT.  THREADS:
 * the pipeline's workers (0: all on this thread).  Batches of one Shamir
 * block (the program's are about 1 MiB: the same code, less memory per
 * run). */
static int
unshare(const struct image *im, unsigned count, int png, unsigned threads,
	sit_img_buf *out)
{
	static const char *const names[MAX_SHARES] = { "share 1", "share 2", "share 3",
		"share 4" };
	int fds[MAX_SHARES];
	sit_img_sink sink = { sit_img_sink_buf, out, NULL }, to = sink;
	sit_pix_writer w;
	sit_unshare u;
	sit_err e = { 0 };
	int writing = 0, rc = -1;

	for (unsigned i = 0; i < count; i++)
		fds[i] = feed(im[i].bytes, im[i].len);
	if (sit_unshare_open(&u, fds, names, count, &e) != 0) {
		refuse(&e);
		goto done;
	}
	/* What the rest relies on from the headers. */
	for (unsigned i = 0; i < count; i++)
		if (u.sh[i].h.length > u.sh[i].r.size - SIT_PIXHDR_OVERHEAD)
			fail("a payload larger than the share's samples passed the header check");
	if (u.set->content == SIT_PIXHDR_PIXELS) {
		if (sit_pix_writer_begin(&w, &sink, png, u.set->width, u.set->rows,
		    u.set->channels, u.set->depth, &e) != 0) {
			refuse(&e);
			goto done;
		}
		writing = 1;
		to.write = sit_pix_sink_writer;
		to.ctx = &w;
	}
	if (sit_unshare_join(&u, threads, SIT_SHAMIR_BLOCK, &to, &e) != 0) {
		refuse(&e);
		goto done;
	}
	if (writing) {
		writing = 0;
		if (sit_pix_writer_end(&w, &e) != 0) {
			refuse(&e);
			goto done;
		}
	}
	if (sit_unshare_drain(&u, &e) != 0) {
		refuse(&e);
		goto done;
	}
	if (to.ctx == &w ? out->len < u.set->length : out->len != u.set->length)
		fail("rebuilt output of another length than the shares say");
	rc = 0;
done:
	if (writing)
		sit_pix_writer_abort(&w);
	sit_unshare_free(&u);
	for (unsigned i = 0; i < count; i++)
		close(fds[i]);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im[MAX_SHARES];
	sit_img_buf out = { 0 };
	unsigned n, flags;

	if (size < 3 || size - 2 > 65536)
		return 0;
	fuzz_must(sodium_init() >= 0, "sodium_init");
	flags = data[0];
	n = split_images(data + 2, size - 2, im);
	for (unsigned i = 0; i < n; i++) {
		sit_img_format f = sit_img_sniff(im[i].bytes, im[i].len);

		/* PAM and PNM only: fuzz/img.c covers the other decoders. */
		if (f != SIT_IMG_PAM && f != SIT_IMG_PNM)
			goto done;
		fix_up(&im[i], flags);
	}
	fuzz_read_cap = flags >> 4;
	fuzz_read_eintr = data[1] & 15;
	fuzz_read_calls = 0;
	visual_decode(&im[0], &out);
	free(out.data);
	memset(&out, 0, sizeof out);
	unshare(im, n, flags & 4, flags & 8 ? 2 : 0, &out);
	free(out.data);
	fuzz_read_cap = fuzz_read_eintr = 0;
done:
	for (unsigned i = 0; i < n; i++)
		free(im[i].bytes);
	return 0;
}
