#include <math.h>
#include <string.h>

#include "cksum.h"
#include "img.h"
#include "pixhdr.h"

static const unsigned char magic[6] = { 'S', 'I', 'T', 'I', 'M', 'G' };
/* Version 1 summed the payload with Poly1305; version 2 (written since
 * 0.2.0) with four CRC-32C lanes, which the CPU runs ten times as fast.
 * Both are read. */
#define VERSION 2
#define VERSION_POLY1305 1
#define SUMMED 64 /* header bytes covered by the header checksum */

/* How far (per byte) the magic and version may be from ours and still be
 * taken for ours after a lossy conversion, so that the message says
 * "altered" rather than "not ours": JPEG at usual qualities moves samples of
 * a noise image by a few dozen levels.  A noise image that is not ours
 * comes this close in all 7 bytes with probability (97/256)^7, about 1e-3;
 * it is then called altered instead of foreign, with the same exit code. */
#define MAGIC_SLACK 48

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

uint64_t
sit_pixhdr_capacity(uint32_t width, uint32_t height, unsigned channels,
	unsigned depth)
{
	if (channels < 1 || channels > 4 || (depth != 8 && depth != 16))
		return 0;
	/* At most 2^32 * 2^32 * 8 would overflow: limit each side first. */
	if (width > SIT_IMG_DIM_CEILING || height > SIT_IMG_DIM_CEILING)
		return 0;
	return (uint64_t)width * height * channels * (depth / 8);
}

/* The checks shared by encoding and parsing: 0 when H is consistent. */
static int
fields_valid(const sit_pixhdr *h)
{
	uint64_t cap = sit_pixhdr_capacity(h->width, h->height, h->channels, h->depth);

	if (cap < SIT_PIXHDR_OVERHEAD || h->length > cap - SIT_PIXHDR_OVERHEAD)
		return 0;
	if (h->kind == SIT_PIXHDR_VISUAL)
		return h->content == SIT_PIXHDR_BYTES && h->rows == 0 &&
			h->k == 0 && h->n == 0 && h->x == 0;
	if (h->kind != SIT_PIXHDR_SHARE)
		return 0;
	if (h->k < 2 || h->n < h->k || h->n > 255 || h->x < 1 || h->x > h->n)
		return 0;
	if (h->content == SIT_PIXHDR_BYTES)
		return h->rows == 0;
	/* PIXELS: the payload is exactly ROWS rows of this image's width. */
	return h->content == SIT_PIXHDR_PIXELS && h->rows >= 1 && h->rows < h->height &&
		h->length == sit_pixhdr_capacity(h->width, h->rows, h->channels, h->depth);
}

int
sit_pixhdr_encode(const sit_pixhdr *h, unsigned char out[SIT_PIXHDR_LEN], sit_err *e)
{
	if (!fields_valid(h))
		return sit_err_set(e, EX_SOFTWARE, "inconsistent image header");
	memset(out, 0, SIT_PIXHDR_LEN);
	memcpy(out, magic, sizeof magic);
	out[6] = (unsigned char)h->kind;
	out[7] = h->version == VERSION_POLY1305 ? VERSION_POLY1305 : VERSION;
	put32(out + 8, h->width);
	put32(out + 12, h->height);
	out[16] = (unsigned char)h->channels;
	out[17] = (unsigned char)h->depth;
	out[18] = (unsigned char)h->content;
	put32(out + 20, h->rows);
	put64(out + 24, h->length);
	if (h->kind == SIT_PIXHDR_SHARE) {
		memcpy(out + 32, h->set_id, SIT_PIXHDR_SETID_LEN);
		out[48] = (unsigned char)h->k;
		out[49] = (unsigned char)h->n;
		out[50] = (unsigned char)h->x;
	}
	crypto_generichash(out + SUMMED, SIT_PIXHDR_LEN - SUMMED, out, SUMMED, NULL, 0);
	return 0;
}

static int
magic_close(const unsigned char *in)
{
	for (size_t i = 0; i <= sizeof magic + 1; i++) {
		int want = i < sizeof magic ? magic[i] : i == 7 ? VERSION : in[i];
		int d = (int)in[i] - want;
		if (d < -MAGIC_SLACK || d > MAGIC_SLACK)
			return 0;
	}
	return 1;
}

static int
reserved_zero(const unsigned char *in)
{
	static const unsigned char zero[13];

	return in[19] == 0 && memcmp(in + 51, zero, sizeof zero) == 0;
}

enum sit_pixhdr_status
sit_pixhdr_parse(const unsigned char in[SIT_PIXHDR_LEN], uint32_t width,
	uint32_t height, unsigned channels, unsigned depth, sit_pixhdr *h)
{
	unsigned char sum[SIT_PIXHDR_LEN - SUMMED];

	memset(h, 0, sizeof *h);
	if (memcmp(in, magic, sizeof magic) != 0)
		return magic_close(in) ? SIT_PIXHDR_ALTERED : SIT_PIXHDR_NOT_OURS;
	crypto_generichash(sum, sizeof sum, in, SUMMED, NULL, 0);
	if (sodium_memcmp(sum, in + SUMMED, sizeof sum) != 0)
		return SIT_PIXHDR_ALTERED;
	if (in[7] != VERSION && in[7] != VERSION_POLY1305)
		return SIT_PIXHDR_NEWER;
	h->version = in[7];
	h->kind = in[6];
	h->width = get32(in + 8);
	h->height = get32(in + 12);
	h->channels = in[16];
	h->depth = in[17];
	h->content = in[18];
	h->rows = get32(in + 20);
	h->length = get64(in + 24);
	if (h->kind == SIT_PIXHDR_SHARE) {
		memcpy(h->set_id, in + 32, SIT_PIXHDR_SETID_LEN);
		h->k = in[48];
		h->n = in[49];
		h->x = in[50];
	}
	if (!reserved_zero(in) || !fields_valid(h))
		return SIT_PIXHDR_INVALID;
	if (h->width != width || h->height != height || h->channels != channels ||
	    h->depth != depth)
		return SIT_PIXHDR_RESHAPED;
	return SIT_PIXHDR_OK;
}

const char *
sit_pixhdr_status_text(enum sit_pixhdr_status st)
{
	switch (st) {
	case SIT_PIXHDR_OK:
		return "is fine";
	case SIT_PIXHDR_NOT_OURS:
		return "carries no sit header";
	case SIT_PIXHDR_ALTERED:
		return "was altered (lossy conversion?): checksum mismatch";
	case SIT_PIXHDR_RESHAPED:
		return "was cropped or resized";
	case SIT_PIXHDR_INVALID:
		return "has an invalid header";
	case SIT_PIXHDR_NEWER:
		return "was made by a newer version of sit";
	}
	return "has an unknown problem";
}

void
sit_pixhdr_sum_init(sit_pixhdr_sum *s, const unsigned char hdr[SIT_PIXHDR_LEN])
{
	unsigned char key[crypto_onetimeauth_KEYBYTES];
	uint32_t seed[4];

	/* Keyed by the whole header, so that a payload cannot pass under
	 * another header (another set, another share, another length). */
	crypto_generichash(key, sizeof key, hdr, SIT_PIXHDR_LEN, NULL, 0);
	s->poly1305 = hdr[7] == VERSION_POLY1305;
	if (s->poly1305) {
		crypto_onetimeauth_init(&s->st, key);
		return;
	}
	for (int i = 0; i < 4; i++)
		seed[i] = get32(key + 4 * i);
	sit_cksum_lanes_init(&s->lanes, seed);
}

void
sit_pixhdr_sum_update(sit_pixhdr_sum *s, const unsigned char *buf, size_t len)
{
	if (s->poly1305)
		crypto_onetimeauth_update(&s->st, buf, len);
	else
		sit_cksum_lanes_update(&s->lanes, buf, len);
}

void
sit_pixhdr_sum_final(sit_pixhdr_sum *s, unsigned char out[SIT_PIXHDR_SUM_LEN])
{
	if (s->poly1305)
		crypto_onetimeauth_final(&s->st, out);
	else
		sit_cksum_lanes_final(&s->lanes, out);
}

int
sit_pixhdr_geometry(uint64_t length, uint32_t width, uint32_t *w, uint32_t *h,
	sit_err *e)
{
	uint64_t need, pixels, rows;

	/* Bounded first so that nothing below can overflow. */
	if (length > (uint64_t)3 * SIT_IMG_MAX_PIXELS_DEFAULT)
		goto too_big;
	need = length + SIT_PIXHDR_OVERHEAD;
	pixels = (need + 2) / 3;
	if (width == 0) {
		/* Near-square: the smallest width whose square holds it all. */
		width = (uint32_t)sqrt((double)pixels);
		while ((uint64_t)width * width < pixels)
			width++;
	}
	if (width > SIT_IMG_MAX_WIDTH_DEFAULT)
		return sit_err_set(e, EX_USAGE, "width %u is over the limit of %u",
			width, SIT_IMG_MAX_WIDTH_DEFAULT);
	rows = (pixels + width - 1) / width;
	if (rows > SIT_IMG_MAX_HEIGHT_DEFAULT || rows * width > SIT_IMG_MAX_PIXELS_DEFAULT)
		goto too_big;
	*w = width;
	*h = (uint32_t)rows;
	return 0;
too_big:
	return sit_err_set(e, EX_DATAERR, "input of %llu bytes does not fit in one image "
		"(limits %ux%u, %u pixels)", (unsigned long long)length,
		SIT_IMG_MAX_WIDTH_DEFAULT, SIT_IMG_MAX_HEIGHT_DEFAULT,
		SIT_IMG_MAX_PIXELS_DEFAULT);
}
