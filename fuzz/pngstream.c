/* fuzz/pngstream.c - libFuzzer harness: the streaming PNG reader
 * (lib/pngstream.c) that sit-unshare and sit-visual -d read PNGs through,
 * checked against the whole-file decoder (sit_img_decode: our chunk walk,
 * then stb_image).
 *
 * The bytes come through a read callback in pieces of varying sizes, as
 * from a pipe, after a first "head" read of varying length (pixio reads up
 * to 16 KiB first).  Limits are small (1024 x 1024, 2^20 pixels) so a run
 * stays fast; the code paths are those of the defaults.  Properties:
 *   - every refusal carries a message and a sysexits code;
 *   - what the stream accepts to the end (CRCs, Adler-32, IEND, nothing
 *     after) the whole-file decoder accepts too;
 *   - then both give the same shape and the same samples, byte for byte
 *     (differential: our filters and stored blocks against stb_image's);
 *   - the streamed samples can be read in any piece sizes;
 *   - compressed blocks, first or after stored ones (inflated as they
 *     come, in lib/pngstream.c's own inflater), give the samples
 *     stb_image's inflater gives.
 * A mutated chunk fails its CRC and ends a run early, so for most inputs
 * (size not a multiple of 4) the harness first sets every chunk's CRC right;
 * the samples are compared once all are read, even if the Adler-32 or the
 * end of the file is then refused (stb_image does not look at either).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cksum.h"
#include "fuzz.h"
#include "img.h"
#include "pngstream.h"

static const sit_img_limits lim = { 1024, 1024, 1u << 20 };

/* The input as a pipe would give it: pieces of 1 to a few thousand bytes,
 * their sizes from a little generator seeded by the input's size. */
struct feed {
	const uint8_t *data;
	size_t size, pos;
	uint32_t rng;
};

static uint32_t
next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static ssize_t
feed_read(void *ctx, void *buf, size_t len)
{
	struct feed *f = ctx;
	static const size_t sizes[] = { 1, 2, 7, 64, 1000, 4096, 65536 };
	size_t n = sizes[next_rand(&f->rng) % (sizeof sizes / sizeof sizes[0])];

	if (n > len)
		n = len;
	if (n > f->size - f->pos)
		n = f->size - f->pos;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static void
refused(const sit_err *e)
{
	if (e->code == 0 || e->msg[0] == '\0') {
		fprintf(stderr, "refusal without a message\n");
		abort();
	}
}

/* Set the CRC of every whole chunk right, in place. */
static void
fix_crcs(uint8_t *p, size_t size)
{
	size_t pos = 8;

	while (size >= pos && size - pos >= 12) {
		uint32_t n = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 |
			(uint32_t)p[pos + 2] << 8 | p[pos + 3], crc;

		if (n > size - pos - 12)
			return;
		crc = sit_cksum_crc32(0, p + pos + 4, 4 + (size_t)n);
		p[pos + 8 + n] = (uint8_t)(crc >> 24);
		p[pos + 9 + n] = (uint8_t)(crc >> 16);
		p[pos + 10 + n] = (uint8_t)(crc >> 8);
		p[pos + 11 + n] = (uint8_t)crc;
		pos += 12 + (size_t)n;
	}
}

/* Every sample through sit_pngs_get in pieces, then the end of the file:
 * 2 all good, 1 every sample read but the end refused, 0 refused. */
static int
stream_all(sit_pngs *s, unsigned char *out, size_t total, uint32_t *rng)
{
	sit_err e = { 0 };
	size_t pos = 0;

	while (pos < total) {
		size_t n = 1 + next_rand(rng) % 9000;

		if (n > total - pos)
			n = total - pos;
		if (sit_pngs_get(s, out + pos, n, &e) != 0) {
			refused(&e);
			return 0;
		}
		pos += n;
	}
	if (sit_pngs_finish(s, &e) != 0) {
		refused(&e);
		return 1;
	}
	/* Finishing twice is harmless. */
	fuzz_must(sit_pngs_finish(s, &e) == 0, "second sit_pngs_finish");
	return 2;
}

/* The whole-file decoder's samples in file order (16-bit big-endian). */
static void
compare(const uint8_t *data, size_t size, const sit_img_header *sh,
	const unsigned char *got, size_t total, int accepted)
{
	sit_img img;
	sit_img_header h;
	sit_err e = { 0 };
	const unsigned char *p;

	if (sit_img_decode(data, size, &lim, &img, &h, &e) != 0) {
		if (!accepted)
			return;
		fprintf(stderr, "streamed a PNG the whole-file decoder refuses: %s\n", e.msg);
		abort();
	}
	if (img.width != sh->width || img.height != sh->height ||
	    img.channels != sh->channels || img.depth != sh->depth ||
	    sit_img_size(&img) != total) {
		fprintf(stderr, "shapes differ: streamed %ux%u x%u %u-bit, decoded %ux%u x%u %u-bit\n",
			sh->width, sh->height, sh->channels, sh->depth,
			img.width, img.height, img.channels, img.depth);
		abort();
	}
	p = img.pixels;
	for (size_t i = 0; i < total; i++) {
		unsigned char want = p[i];

		if (img.depth == 16) {
			uint16_t v = ((const uint16_t *)img.pixels)[i / 2];
			want = (unsigned char)(i % 2 == 0 ? v >> 8 : v);
		}
		if (got[i] != want) {
			fprintf(stderr, "sample byte %zu differs: streamed %u, decoded %u\n",
				i, got[i], want);
			abort();
		}
	}
	sit_img_free(&img);
}

static int
one(const uint8_t *data, size_t size)
{
	struct feed f = { data, size, 0, (uint32_t)size * 2654435761u | 1 };
	sit_pngs_src src = { feed_read, &f, 1, 1u << 20 };
	sit_pngs *s = NULL;
	sit_img_header h;
	sit_err e = { 0 };
	size_t head = size & 1 ? 16384 : 33, len, cap, total;
	unsigned char *buf, *out;
	int rc;

	/* The first read, as pixio's: up to HEAD bytes at once. */
	if (head > size)
		head = size;
	cap = head > 0 ? head : 1;
	fuzz_must((buf = malloc(cap)) != NULL, "malloc");
	memcpy(buf, data, head);
	f.pos = len = head;
	rc = sit_pngs_open(&s, &src, &buf, &len, &cap, &lim, &h, &e);
	if (rc < 0) {
		refused(&e);
		return 0;
	}
	if (rc == SIT_PNGS_WHOLE) {
		/* Every byte read so far is given back, in order. */
		fuzz_must(len == f.pos && memcmp(buf, data, len) == 0, "kept bytes");
		free(buf);
		return 0;
	}
	fuzz_must(buf == NULL, "buffer taken over");
	total = (size_t)h.width * h.height * h.channels * (h.depth / 8);
	fuzz_must((out = malloc(total)) != NULL, "malloc");
	if ((rc = stream_all(s, out, total, &f.rng)) > 0)
		compare(data, size, &h, out, total, rc == 2);
	free(out);
	sit_pngs_free(s);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size % 4 == 0)
		return one(data, size);
	fuzz_must((copy = malloc(size)) != NULL, "malloc");
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	one(copy, size);
	free(copy);
	return 0;
}
