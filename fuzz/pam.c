/* fuzz/pam.c - libFuzzer harness: the netpbm reader (lib/pam.c) and the
 * sample stream sit-visual -d and sit-unshare read an image through
 * (lib/pixio.c sit_pix_reader), three ways over the same bytes.
 *
 *   sit_img_pam_parse_header   the P5/P6/P7 header in memory
 *   sit_img_pam_decode         the whole file in memory (what sit-load runs)
 *   sit_img_pam_open/read_row  the streaming reader, on a pipe
 *   sit_pix_reader_open/get/drain   the sample stream, on a pipe
 *
 * Input: two control bytes, then the file.  Byte 0: bits 0-3 cap every
 * read() libsit makes at that many bytes (0: no cap; fuzz.h), bit 4 the
 * small limits (64 x 64, 2048 pixels) instead of the defaults.  Byte 1: every
 * Nth read fails with EINTR first (0: never), bits 4-7 choose the sizes the
 * sample stream is read in.  Pipes hand data out in pieces, and a reader
 * that counts on whole reads works until it meets a slow sender.
 *
 * Properties checked:
 *   - a parsed header is in range: 1-4 channels, maxval 1-65535, depth as
 *     maxval says, within the limits, raster length = w x h x ch x bytes,
 *     header length within what was given and at most 4096 bytes;
 *   - "incomplete" only when fewer than 4096 bytes were given;
 *   - the streaming reader agrees with the parser (same header, or both
 *     refuse) and with the decoder (same rows, or both refuse);
 *   - the sample stream is exactly the decoded samples (16-bit big-endian),
 *     in any read sizes, and it refuses where the decoder refuses.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "img.h"
#include "img_int.h"
#include "io.h"
#include "pixio.h"

static const sit_img_limits small = { 64, 64, 2048 };

static void
fail(const char *what, const char *msg)
{
	fprintf(stderr, "pam: %s%s%s\n", what, msg != NULL ? ": " : "", msg != NULL ? msg : "");
	abort();
}

static void
refused(const sit_err *e)
{
	if (e->code == 0 || e->msg[0] == '\0')
		fail("refusal without a message", NULL);
}

/* A descriptor from which the bytes can be read: a pipe holding them all
 * (written before anything reads: no thread needed), or a memfd when they
 * do not fit in the pipe. */
static int
feed(const uint8_t *data, size_t size)
{
	int p[2];

	if (size <= 65536) {
		fuzz_must(pipe(p) == 0, "pipe");
		fuzz_must(sit_io_write(p[1], data, size) == 0, "write to the pipe");
		close(p[1]);
		return p[0];
	}
	p[0] = memfd_create("pam", 0);
	fuzz_must(p[0] >= 0, "memfd_create");
	fuzz_must(sit_io_write(p[0], data, size) == 0 && lseek(p[0], 0, SEEK_SET) == 0,
		"write to the memfd");
	return p[0];
}

static void
check_header(const sit_img_pam_header *h, size_t len, const sit_img_limits *lim)
{
	uint64_t raster = (uint64_t)h->width * h->height * h->channels * (h->depth / 8);

	if (h->channels < 1 || h->channels > 4 || h->maxval < 1 || h->maxval > 65535 ||
	    h->depth != (h->maxval > 255 ? 16u : 8u))
		fail("header field out of range", NULL);
	if (h->width < 1 || h->height < 1 || h->width > lim->max_width ||
	    h->height > lim->max_height || (uint64_t)h->width * h->height > lim->max_pixels)
		fail("header past the limits", NULL);
	if (h->raster_len != raster)
		fail("raster length is not w x h x channels x bytes", NULL);
	if (h->header_len < 3 || h->header_len > len || h->header_len > SIT_IMG_PAM_HEADER_MAX)
		fail("header length outside the input", NULL);
}

static int
same_header(const sit_img_pam_header *a, const sit_img_pam_header *b)
{
	return a->width == b->width && a->height == b->height && a->channels == b->channels &&
		a->maxval == b->maxval && a->depth == b->depth &&
		a->header_len == b->header_len && a->raster_len == b->raster_len;
}

/* The streaming reader over a pipe: the same header as PARSED (rc 1) or a
 * refusal, and the same rows as IMG (decoded, or NULL when refused). */
static void
check_stream(const uint8_t *data, size_t size, const sit_img_limits *lim, int parsed,
	const sit_img_pam_header *ph, const sit_img *img)
{
	sit_img_pam_reader r;
	sit_err e = { 0 };
	int fd = feed(data, size), ok = 1;
	unsigned char *row = NULL;
	size_t row_bytes = 0;

	if (sit_img_pam_open(&r, fd, lim, &e) != 0) {
		refused(&e);
		if (parsed == 1)
			fail("the streaming reader refuses a header the parser takes", e.msg);
		sit_img_pam_close(&r);
		close(fd);
		return;
	}
	if (parsed != 1)
		fail("the streaming reader takes a header the parser refuses", NULL);
	if (!same_header(&r.h, ph))
		fail("the streaming reader reads another header", NULL);
	row_bytes = (size_t)r.h.width * r.h.channels * (r.h.depth / 8);
	fuzz_must((row = malloc(row_bytes)) != NULL, "malloc");
	for (uint32_t y = 0; y < r.h.height && ok; y++) {
		if (sit_img_pam_read_row(&r, row, &e) != 0) {
			refused(&e);
			ok = 0;
		} else if (img != NULL &&
		    memcmp(row, (const unsigned char *)img->pixels + y * row_bytes, row_bytes) != 0) {
			fail("a streamed row differs from the decoded one", NULL);
		}
	}
	if (ok != (img != NULL))
		fail(ok ? "the streaming reader takes a file the decoder refuses"
			: "the streaming reader refuses a file the decoder takes", e.msg);
	free(row);
	sit_img_pam_close(&r);
	close(fd);
}

/* The decoded samples as the sample stream has them: file order,
 * 16-bit big-endian. */
static unsigned char *
expected_stream(const sit_img *img, size_t *len)
{
	size_t n = sit_img_size(img);
	unsigned char *out = malloc(n ? n : 1);

	fuzz_must(out != NULL, "malloc");
	if (img->depth == 8)
		memcpy(out, img->pixels, n);
	else
		sit_img_samples_to_be16(out, img->pixels, n / 2);
	*len = n;
	return out;
}

/* sit_pix_reader over a pipe, read in pieces of sizes drawn from STEP: the
 * bytes of WANT (what the decoder gave with default limits), or a refusal
 * somewhere when WANT is NULL. */
static void
check_pix_reader(const uint8_t *data, size_t size, unsigned step,
	const unsigned char *want, size_t want_len)
{
	static const size_t steps[16] = { 1, 2, 3, 7, 16, 80, 96, 255, 256, 1000, 4095,
		4096, 8192, 16384, 65536, 100000 };
	sit_pix_reader r;
	sit_err e = { 0 };
	unsigned char *buf;
	int fd = feed(data, size), ok = 1;
	size_t chunk = steps[step & 15];

	if (sit_pix_reader_open(&r, fd, "input", &e) != 0) {
		refused(&e);
		if (want != NULL)
			fail("the sample stream refuses an image the decoder takes", e.msg);
		close(fd);
		return;
	}
	if (want != NULL && r.size != want_len)
		fail("the sample stream has another length", NULL);
	fuzz_must((buf = malloc(chunk)) != NULL, "malloc");
	/* At most two steps past the end: a stream that outgrows its size
	 * must be refused, and that is also checked. */
	while (ok && r.pos < r.size) {
		size_t n = r.size - r.pos < chunk ? (size_t)(r.size - r.pos) : chunk;
		uint64_t at = r.pos;

		if (sit_pix_reader_get(&r, buf, n, "input", &e) != 0) {
			refused(&e);
			ok = 0;
		} else if (want != NULL && memcmp(buf, want + at, n) != 0) {
			fail("the sample stream differs from the decoded samples", NULL);
		}
		if (r.pos > r.size)
			fail("the sample stream reads past its size", NULL);
	}
	if (ok && sit_pix_reader_get(&r, buf, 1, "input", &e) == 0)
		fail("the sample stream gives a byte past its size", NULL);
	if (ok && sit_pix_reader_drain(&r, "input", &e) != 0) {
		refused(&e);
		ok = 0;
	}
	if (ok != (want != NULL))
		fail(ok ? "the sample stream takes an image the decoder refuses"
			: "the sample stream refuses an image the decoder takes", e.msg);
	free(buf);
	sit_pix_reader_close(&r);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const sit_img_limits deflt = SIT_IMG_LIMITS_DEFAULT;
	const sit_img_limits *lim;
	sit_img_pam_header ph;
	sit_img img = { 0 }, full = { 0 };
	sit_err e = { 0 };
	sit_img_format f;
	int parsed, decoded;
	unsigned step;
	unsigned char *want = NULL;
	size_t want_len = 0;

	if (size < 2)
		return 0;
	fuzz_read_cap = data[0] & 15;
	fuzz_read_eintr = data[1] & 15;
	fuzz_read_calls = 0;
	lim = data[0] & 16 ? &small : &deflt;
	step = data[1] >> 4;
	data += 2;
	size -= 2;

	parsed = sit_img_pam_parse_header(data, size, lim, &ph, &e);
	if (parsed == 1)
		check_header(&ph, size, lim);
	else if (parsed == 0 && size >= SIT_IMG_PAM_HEADER_MAX)
		fail("a header incomplete after 4096 bytes", NULL);
	else if (parsed < 0)
		refused(&e);
	else if (parsed != 0)
		fail("parse returned something else than 1, 0 or -1", NULL);

	decoded = sit_img_pam_decode(data, size, lim, &img, &e) == 0;
	if (decoded) {
		if (parsed != 1 || img.width != ph.width || img.height != ph.height ||
		    img.channels != ph.channels || img.depth != ph.depth)
			fail("decoded an image its header does not describe", NULL);
	} else {
		refused(&e);
	}
	check_stream(data, size, lim, parsed, &ph, decoded ? &img : NULL);

	/* sit-visual and sit-unshare read with the default limits. */
	f = sit_img_sniff(data, size);
	if (f == SIT_IMG_PAM || f == SIT_IMG_PNM) {
		if (sit_img_pam_decode(data, size, &deflt, &full, &e) == 0)
			want = expected_stream(&full, &want_len);
		check_pix_reader(data, size, step, want, want_len);
	}
	fuzz_read_cap = fuzz_read_eintr = 0;
	free(want);
	sit_img_free(&full);
	sit_img_free(&img);
	return 0;
}
