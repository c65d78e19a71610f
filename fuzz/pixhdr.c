/* fuzz/pixhdr.c - libFuzzer harness: the 80-byte header of sit-visual images
 * and sit-share shares (lib/pixhdr.c, sit-image(5)).
 *
 * Input: a flags byte, the shape of the image said to carry the header
 * (width and height as 32-bit little-endian, channels, depth), then the 80
 * header bytes (zeros when the input is shorter).  Flags:
 *   bit 0  recompute the header's BLAKE2b over its first 64 bytes before
 *          parsing: the fuzzer cannot forge a hash, and without this only
 *          the magic and checksum tests would ever run;
 *   bit 1  take the image shape from the header's own fields, so that the
 *          field checks, not the shape comparison, decide.
 * Properties checked:
 *   - a header parsed OK is consistent: the image shape is the one given,
 *     kind V or S, channels 1..4, depth 8 or 16, the payload and its
 *     checksum fit the capacity, K/N/x in range for a share and all zero
 *     for a sit-visual image, ROWS as the content says;
 *   - encoding what was parsed gives back exactly the 80 bytes: one header,
 *     one spelling;
 *   - every status has its text;
 *   - sit_pixhdr_geometry (with the length and width from the same bytes)
 *     gives an image that holds header, payload and checksum, within limits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "img.h"
#include "pixhdr.h"

#define SUMMED 64 /* header bytes under the header's own checksum */

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void
bad(const char *what, const sit_pixhdr *h)
{
	fprintf(stderr, "pixhdr: %s (kind %d, %ux%u, %u ch, %u bit, content %d, rows %u, "
		"length %llu, k %u n %u x %u)\n", what, h->kind, h->width, h->height,
		h->channels, h->depth, h->content, h->rows, (unsigned long long)h->length,
		h->k, h->n, h->x);
	abort();
}

/* The header H was parsed OK from IN for an image of this shape. */
static void
check_ok(const unsigned char *in, const sit_pixhdr *h, uint32_t w, uint32_t ht,
	unsigned ch, unsigned depth)
{
	static const unsigned char zero[SIT_PIXHDR_SETID_LEN];
	unsigned char again[SIT_PIXHDR_LEN];
	uint64_t cap = sit_pixhdr_capacity(w, ht, ch, depth);
	sit_err e = { 0 };

	if (h->width != w || h->height != ht || h->channels != ch || h->depth != depth)
		bad("OK for an image of another shape", h);
	if (ch < 1 || ch > 4 || (depth != 8 && depth != 16))
		bad("OK with channels or depth out of range", h);
	if (cap < SIT_PIXHDR_OVERHEAD || h->length > cap - SIT_PIXHDR_OVERHEAD)
		bad("OK with a payload larger than the image", h);
	if (h->kind == SIT_PIXHDR_VISUAL) {
		if (h->k != 0 || h->n != 0 || h->x != 0 || h->content != SIT_PIXHDR_BYTES ||
		    h->rows != 0 || memcmp(h->set_id, zero, sizeof zero) != 0)
			bad("OK sit-visual header with share fields", h);
	} else if (h->kind == SIT_PIXHDR_SHARE) {
		if (h->k < 2 || h->k > h->n || h->n > 255 || h->x < 1 || h->x > h->n)
			bad("OK share with K, N or x out of range", h);
		if (h->content == SIT_PIXHDR_BYTES ? h->rows != 0
		    : h->content != SIT_PIXHDR_PIXELS || h->rows < 1 || h->rows >= ht ||
		      h->length != sit_pixhdr_capacity(w, h->rows, ch, depth))
			bad("OK share with content and rows that do not agree", h);
	} else {
		bad("OK with an unknown kind", h);
	}
	if (sit_pixhdr_encode(h, again, &e) != 0)
		bad("a parsed header does not encode again", h);
	if (memcmp(again, in, SIT_PIXHDR_LEN) != 0)
		bad("a parsed header encodes to other bytes (two spellings of one header)", h);
}

/* Whatever geometry returns must hold everything, within the limits. */
static void
check_geometry(uint64_t length, uint32_t width)
{
	uint32_t w = 0, h = 0;
	sit_err e = { 0 };

	/* Two lengths: as fuzzed, and folded into the range that fits. */
	for (int i = 0; i < 2; i++, length %= (uint64_t)3 * SIT_IMG_MAX_PIXELS_DEFAULT + 1) {
		if (sit_pixhdr_geometry(length, width, &w, &h, &e) != 0) {
			if (e.code == 0 || e.msg[0] == '\0')
				abort();
			continue;
		}
		if (w == 0 || h == 0 || w > SIT_IMG_MAX_WIDTH_DEFAULT || h > SIT_IMG_MAX_HEIGHT_DEFAULT ||
		    (uint64_t)w * h > SIT_IMG_MAX_PIXELS_DEFAULT || (width != 0 && w != width) ||
		    (uint64_t)w * h * 3 < length + SIT_PIXHDR_OVERHEAD) {
			fprintf(stderr, "pixhdr: geometry(%llu, %u) gave %ux%u\n",
				(unsigned long long)length, width, w, h);
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char in[SIT_PIXHDR_LEN] = { 0 };
	uint32_t w, ht;
	unsigned ch, depth, flags;
	enum sit_pixhdr_status st;
	sit_pixhdr h;

	if (size < 11)
		return 0;
	fuzz_must(sodium_init() >= 0, "sodium_init");
	flags = data[0];
	w = le32(data + 1);
	ht = le32(data + 5);
	ch = data[9];
	depth = data[10];
	memcpy(in, data + 11, size - 11 < sizeof in ? size - 11 : sizeof in);
	if (flags & 1)
		crypto_generichash(in + SUMMED, SIT_PIXHDR_LEN - SUMMED, in, SUMMED, NULL, 0);
	if (flags & 2) {
		w = le32(in + 8);
		ht = le32(in + 12);
		ch = in[16];
		depth = in[17];
	}
	st = sit_pixhdr_parse(in, w, ht, ch, depth, &h);
	if (sit_pixhdr_status_text(st) == NULL)
		abort();
	if (st == SIT_PIXHDR_OK)
		check_ok(in, &h, w, ht, ch, depth);
	check_geometry(le64(in + 24), flags & 4 ? le32(data + 1) % (SIT_IMG_MAX_WIDTH_DEFAULT + 2) : 0);
	return 0;
}
