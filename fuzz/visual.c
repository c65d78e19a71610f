/* fuzz/visual.c - libFuzzer harness: what sit-visual -d and sit-unshare do
 * with the images they receive (cmd/sit-visual.c decode(), cmd/sit-unshare.c
 * main()): the library calls they make, in the same order, with the same
 * checks between them, on images arriving through pipes.
 *
 *   sit-visual -d   sample stream (sit_pix_reader) -> lossy format? -> 80
 *                   header bytes -> sit_pixhdr_parse against the image's
 *                   shape -> kind V -> payload through the checksum
 *                   (sit_pixhdr_sum_*) -> the checksum compared -> drained
 *   sit-unshare     the same up to the header for every share (kind S) ->
 *                   one set, no share twice, at least K -> an image writer
 *                   when the shares carry an image -> lib/pipeline.h: every
 *                   share read in turns (sit_pix_turn) and summed, the first
 *                   K joined (sit_shamir_join_*), batches written in order
 *                   -> every checksum compared -> drained
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
#include "pipeline.h"
#include "pixio.h"
#include "shamir.h"

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

/* Up to the parsed header: sit-visual's read_header and sit-unshare's
 * start_share.  KIND is what the program wants. */
static int
open_image(sit_pix_reader *r, int fd, unsigned char *hdr, sit_pixhdr *h, int kind)
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
	if (st != SIT_PIXHDR_OK || h->kind != kind)
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
	sit_img_sink sink = { sit_img_sink_buf, out };
	sit_pixhdr_sum st;
	sit_pix_reader r;
	sit_pixhdr h;
	sit_err e = { 0 };
	unsigned char *buf = malloc(BLOCK);
	int fd = feed(im->bytes, im->len), rc = -1;

	fuzz_must(buf != NULL, "malloc");
	memset(&r, 0, sizeof r);
	if (open_image(&r, fd, hdr, &h, SIT_PIXHDR_VISUAL) != 0)
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

struct share {
	int fd;
	sit_pix_reader r;
	sit_pixhdr h;
	sit_pixhdr_sum sum;
	unsigned char hdr[SIT_PIXHDR_LEN];
};

/* sit-unshare's check_set. */
static int
check_set(const struct share *sh, unsigned count)
{
	const sit_pixhdr *a = &sh[0].h;

	for (unsigned i = 1; i < count; i++) {
		const sit_pixhdr *b = &sh[i].h;
		if (memcmp(a->set_id, b->set_id, sizeof a->set_id) != 0 || a->k != b->k ||
		    a->n != b->n || a->length != b->length || a->content != b->content)
			return -1;
	}
	for (unsigned i = 0; i < count; i++)
		for (unsigned j = i + 1; j < count; j++)
			if (sh[i].h.x == sh[j].h.x)
				return -1;
	return count < a->k ? -1 : 0;
}

/* sit-unshare's join_all, on lib/pipeline.h: every share given is read in
 * turns and summed, the first K rebuild, batches are written in order.
 * Batches of one Shamir block (the program's are about 1 MiB: the same
 * code, more memory per run). */
struct join {
	struct share *sh;
	unsigned k, count;
	sit_shamir_join j;
	uint64_t length, done;
	size_t turn;
	int image;
	sit_pix_writer *w;
	sit_img_buf *out;
};

struct batch {
	uint8_t *in[MAX_SHARES];
	uint8_t secret[SIT_SHAMIR_BLOCK];
	size_t len;
};

static int
fill_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;
	uint64_t left = jn->length - jn->done;

	(void)index;
	(void)part;
	if (left == 0)
		return 0;
	b->len = left < SIT_SHAMIR_BLOCK ? (size_t)left : SIT_SHAMIR_BLOCK;
	for (size_t off = 0; off < b->len; off += jn->turn) {
		size_t m = b->len - off < jn->turn ? b->len - off : jn->turn;

		for (unsigned i = 0; i < jn->count; i++) {
			if (sit_pix_reader_get(&jn->sh[i].r, b->in[i] + off, m, "share", e) != 0)
				return refuse(e);
			sit_pixhdr_sum_update(&jn->sh[i].sum, b->in[i] + off, m);
		}
	}
	jn->done += b->len;
	return 1;
}

static int
join_batch(void *ctx, void *slot, uint64_t index, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;
	const uint8_t *ins[MAX_SHARES];

	(void)index;
	(void)e;
	for (unsigned i = 0; i < jn->k; i++)
		ins[i] = b->in[i];
	sit_shamir_join_block(&jn->j, ins, b->len, b->secret);
	return 0;
}

static int
write_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	(void)part; /* one part: the rebuilt stream */
	struct join *jn = ctx;
	struct batch *b = slot;

	(void)index;
	if ((jn->image ? sit_pix_writer_put(jn->w, b->secret, b->len, e)
	    : sit_img_sink_buf(jn->out, b->secret, b->len, e)) != 0)
		return refuse(e);
	return 0;
}

#define SLOTS 4

/* sit-unshare on the COUNT images; the rebuilt stream or image to OUT.
 * THREADS: the pipeline's workers (0: all on this thread). */
static int
unshare(const struct image *im, unsigned count, int png, unsigned threads,
	sit_img_buf *out)
{
	static const sit_pipeline_ops ops = { fill_batch, join_batch, write_batch };
	struct share sh[MAX_SHARES];
	struct batch *batches = NULL;
	void *slots[SLOTS];
	uint8_t xs[MAX_SHARES];
	int fds[MAX_SHARES];
	sit_img_sink sink = { sit_img_sink_buf, out };
	sit_pix_writer w;
	struct join jn;
	sit_err e = { 0 };
	unsigned opened = 0;
	int writing = 0, rc = -1;

	memset(sh, 0, sizeof sh);
	memset(&jn, 0, sizeof jn);
	for (unsigned i = 0; i < count; i++)
		sh[i].fd = fds[i] = feed(im[i].bytes, im[i].len);
	for (; opened < count; opened++)
		if (open_image(&sh[opened].r, sh[opened].fd, sh[opened].hdr, &sh[opened].h,
		    SIT_PIXHDR_SHARE) != 0) {
			opened++; /* its reader is open (or zeroed): close it below */
			goto done;
		}
	for (unsigned i = 0; i < count; i++)
		sit_pixhdr_sum_init(&sh[i].sum, sh[i].hdr);
	if (check_set(sh, count) != 0)
		goto done;
	jn.sh = sh;
	jn.k = sh[0].h.k;
	jn.count = count;
	jn.length = sh[0].h.length;
	jn.image = sh[0].h.content == SIT_PIXHDR_PIXELS;
	jn.w = &w;
	jn.out = out;
	if (jn.image) {
		if (sit_pix_writer_begin(&w, &sink, png, sh[0].h.width, sh[0].h.rows,
		    sh[0].h.channels, sh[0].h.depth, &e) != 0) {
			refuse(&e);
			goto done;
		}
		writing = 1;
	}
	for (unsigned i = 0; i < jn.k; i++)
		xs[i] = (uint8_t)sh[i].h.x;
	if (sit_shamir_join_init(&jn.j, xs, jn.k, &e) != 0) {
		refuse(&e);
		goto done;
	}
	jn.turn = sit_pix_turn(fds, count, SIT_SHAMIR_BLOCK);
	fuzz_must((batches = calloc(SLOTS, sizeof *batches)) != NULL, "calloc");
	for (unsigned t = 0; t < SLOTS; t++) {
		for (unsigned i = 0; i < count; i++)
			fuzz_must((batches[t].in[i] = malloc(SIT_SHAMIR_BLOCK)) != NULL, "malloc");
		slots[t] = &batches[t];
	}
	if (sit_pipeline_run(&ops, &jn, slots, SLOTS, threads, 1, 1, &e) != 0) {
		refuse(&e);
		goto done;
	}
	if (jn.done != jn.length)
		fail("the pipeline stopped before the length the shares say");
	for (unsigned i = 0; i < count; i++) {
		unsigned char want[SIT_PIXHDR_SUM_LEN], got[SIT_PIXHDR_SUM_LEN];

		sit_pixhdr_sum_final(&sh[i].sum, want);
		if (sit_pix_reader_get(&sh[i].r, got, sizeof got, "share", &e) != 0) {
			refuse(&e);
			goto done;
		}
		if (sodium_memcmp(want, got, sizeof want) != 0)
			goto done;
	}
	if (jn.image) {
		writing = 0;
		if (sit_pix_writer_end(&w, &e) != 0) {
			refuse(&e);
			goto done;
		}
	}
	for (unsigned i = 0; i < count; i++)
		if (sit_pix_reader_drain(&sh[i].r, "share", &e) != 0) {
			refuse(&e);
			goto done;
		}
	if (jn.image ? out->len < jn.length : out->len != jn.length)
		fail("rebuilt output of another length than the shares say");
	rc = 0;
done:
	if (writing)
		sit_pix_writer_abort(&w);
	for (unsigned t = 0; batches != NULL && t < SLOTS; t++)
		for (unsigned i = 0; i < count; i++)
			free(batches[t].in[i]);
	free(batches);
	for (unsigned i = 0; i < count; i++) {
		if (i < opened)
			sit_pix_reader_close(&sh[i].r);
		close(sh[i].fd);
	}
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
