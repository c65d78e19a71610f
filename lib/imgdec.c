/* imgdec.c - probing and decoding images from memory.
 *
 * Order of checks, so that hostile input costs little: sniff the format,
 * read the dimensions from the header (stbi_info_from_memory or our PAM
 * parser), check them against the limits, check the container structure
 * (PNG CRCs, JPEG segments, raster lengths), and only then let stb_image
 * allocate and decode.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "img_int.h"

/* stb's reasons are terse ("bad huffman code"); keep them, but say which
 * format, and separate running out of memory from bad data. */
static int
stb_error(sit_img_format f, sit_err *e)
{
	const char *why = stbi_failure_reason();

	/* stbi_info tries every format and reports the last one's reason. */
	if (why == NULL || strcmp(why, "unknown image type") == 0)
		why = "header not understood";
	if (strcmp(why, "outofmem") == 0)
		return sit_err_set(e, EX_OSERR, "out of memory decoding the %s image",
			sit_img_format_name(f));
	return sit_err_set(e, EX_DATAERR, "corrupt %s: %s", sit_img_format_name(f), why);
}

/* A non-palette PNG with a tRNS chunk decodes with an alpha channel that
 * stbi_info() does not report; look for one before the first IDAT.  The
 * walk is bounded by the buffer; sit_img_png_walk() checks it properly. */
static int
png_has_trns(const unsigned char *buf, size_t len)
{
	size_t pos = 8;

	while (len - pos >= 12) {
		uint32_t n = sit_img_get32be(buf + pos);

		if (memcmp(buf + pos + 4, "tRNS", 4) == 0)
			return 1;
		if (memcmp(buf + pos + 4, "IDAT", 4) == 0 || n > len - pos - 12)
			return 0;
		pos += 12 + (size_t)n;
	}
	return 0;
}

static int
probe_netpbm(const unsigned char *buf, size_t len, const sit_img_limits *lim,
	sit_img_header *h, sit_err *e)
{
	sit_img_pam_header ph;
	int rc = sit_img_pam_parse_header(buf, len, lim, &ph, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return sit_err_set(e, EX_DATAERR, "truncated %s: the header is incomplete",
			sit_img_format_name(h->format));
	h->width = ph.width;
	h->height = ph.height;
	h->channels = ph.channels;
	h->depth = ph.depth;
	return 0;
}

static uint32_t
get32le(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* JPEG: the frame header (SOFn) holds the sides; walk the segments to it. */
static int
jpeg_sides(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h)
{
	size_t pos = 2;

	while (len - pos >= 9 && b[pos] == 0xff) {
		unsigned m = b[pos + 1], n = sit_img_get16be(b + pos + 2);

		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			*h = sit_img_get16be(b + pos + 5);
			*w = sit_img_get16be(b + pos + 7);
			return 1;
		}
		if (m == 0xff) {        /* fill byte */
			pos++;
			continue;
		}
		if (n < 2 || n > len - pos - 2)
			return 0;
		pos += 2 + n;
	}
	return 0;
}

/* The sides as the header states them, read by us so that the limits are
 * checked (with a clear message) before stb_image looks at the file.
 * Returns 0 when the header is too short to say; stb then decides. */
static int
header_sides(const sit_img_header *hd, const unsigned char *b, size_t len,
	uint32_t *w, uint32_t *h)
{
	int32_t bh;

	switch (hd->format) {
	case SIT_IMG_PNG:
		if (len < 24 || memcmp(b + 12, "IHDR", 4) != 0)
			return 0;
		*w = sit_img_get32be(b + 16);
		*h = sit_img_get32be(b + 20);
		return 1;
	case SIT_IMG_JPEG:
		return jpeg_sides(b, len, w, h);
	case SIT_IMG_GIF:       /* logical screen, which stb allocates */
		if (len < 10)
			return 0;
		*w = b[6] | b[7] << 8;
		*h = b[8] | b[9] << 8;
		return 1;
	case SIT_IMG_BMP:
		if (get32le(b + 14) == 12) {
			*w = b[18] | b[19] << 8;
			*h = b[20] | b[21] << 8;
			return 1;
		}
		/* Negative height: rows stored top-down. */
		bh = (int32_t)get32le(b + 22);
		*w = get32le(b + 18);
		*h = bh < 0 ? (uint32_t)0 - (uint32_t)bh : (uint32_t)bh;
		return 1;
	case SIT_IMG_TGA:
		*w = b[12] | b[13] << 8;
		*h = b[14] | b[15] << 8;
		return 1;
	default:
		return 0;
	}
}

/* The pixel limit keeps a decoded image within max_pixels x 8 bytes (16-bit
 * RGBA).  stb_image's GIF decoder needs 9 bytes a pixel of the logical
 * screen (two RGBA frames and a history byte), so a GIF may have 8/9 of the
 * pixels: else a 20-byte GIF could make it allocate 1.35 GB. */
static int
gif_over_budget(uint32_t w, uint32_t h, const sit_img_limits *lim, sit_err *e)
{
	static const sit_img_limits def = SIT_IMG_LIMITS_DEFAULT;
	uint64_t max;

	if (lim == NULL)
		lim = &def;
	max = lim->max_pixels / 9 * 8;
	if ((uint64_t)w * h > max)
		return sit_err_set(e, EX_DATAERR, "GIF of %ux%u = %llu pixels is over the limit "
			"of %llu pixels for GIF (its decoder needs 9 bytes a pixel)", w, h,
			(unsigned long long)w * h, (unsigned long long)max);
	return 0;
}

static int
probe_stb(const unsigned char *buf, size_t len, const sit_img_limits *lim,
	sit_img_header *h, sit_err *e)
{
	int x, y, comp;
	uint32_t hw, hh;

	if (header_sides(h, buf, len, &hw, &hh) &&
	    (sit_img_check_limits(hw, hh, lim, e) < 0 ||
	     (h->format == SIT_IMG_GIF && gif_over_budget(hw, hh, lim, e) < 0)))
		return -1;
	/* stb_image takes an int length. */
	if (len > INT_MAX)
		return sit_err_set(e, EX_DATAERR, "%s file of %zu bytes is too large to decode",
			sit_img_format_name(h->format), len);
	/* Walk PNG chunks and JPEG segments before stb parses anything: even its
	 * header reader trusts tables (a JPEG DHT) that our walker checks. */
	if (h->format == SIT_IMG_PNG && sit_img_png_walk(buf, len, NULL, e) < 0)
		return -1;
	if (h->format == SIT_IMG_JPEG && sit_img_jpeg_walk(buf, len, NULL, e) < 0)
		return -1;
	if (!stbi_info_from_memory(buf, (int)len, &x, &y, &comp))
		return stb_error(h->format, e);
	if (x <= 0 || y <= 0 || comp < 1 || comp > 4)
		return sit_err_set(e, EX_DATAERR, "corrupt %s: header says %dx%d, %d channels",
			sit_img_format_name(h->format), x, y, comp);
	if (sit_img_check_limits((uint32_t)x, (uint32_t)y, lim, e) < 0)
		return -1;
	h->width = (uint32_t)x;
	h->height = (uint32_t)y;
	h->channels = (unsigned)comp;
	if (h->format == SIT_IMG_PNG && (comp == 1 || comp == 3) && png_has_trns(buf, len))
		h->channels++;
	h->depth = stbi_is_16_bit_from_memory(buf, (int)len) ? 16 : 8;
	return 0;
}

int
sit_img_probe(const unsigned char *buf, size_t len, const sit_img_limits *lim,
	sit_img_header *h, sit_err *e)
{
	memset(h, 0, sizeof *h);
	h->format = sit_img_sniff(buf, len);
	if (h->format == SIT_IMG_UNKNOWN)
		return sit_err_set(e, EX_DATAERR, len == 0 ? "not an image: the input is empty"
			: "not an image: no known image signature");
	if (!sit_img_format_supported(h->format))
		return sit_err_set(e, EX_DATAERR, "unsupported format: %s",
			sit_img_format_name(h->format));
	if (h->format == SIT_IMG_PNM || h->format == SIT_IMG_PAM)
		return probe_netpbm(buf, len, lim, h, e);
	return probe_stb(buf, len, lim, h, e);
}

/* ---- structure checks stb_image does not make ------------------------ */

/* stb_image reads past the end of a memory buffer as zeros, so a cut-off
 * BMP, TGA or GIF would "decode".  Where the header says how much pixel
 * data follows (uncompressed BMP and TGA), check it is there; a GIF must
 * end with its trailer byte. */
static int
need_bytes(const char *what, size_t len, uint64_t need, sit_err *e)
{
	if (need > len)
		return sit_err_set(e, EX_DATAERR, "truncated %s: %zu of %llu bytes",
			what, len, (unsigned long long)need);
	return 0;
}

static int
check_bmp(const unsigned char *b, size_t len, const sit_img_header *h, sit_err *e)
{
	uint32_t off, hsz, comp = 0, bpp;
	uint64_t stride, need;

	if (len < 30)
		return sit_err_set(e, EX_DATAERR, "truncated BMP");
	off = b[10] | b[11] << 8 | b[12] << 16 | (uint32_t)b[13] << 24;
	hsz = b[14] | b[15] << 8 | b[16] << 16 | (uint32_t)b[17] << 24;
	if (hsz >= 40) {
		bpp = b[28] | b[29] << 8;
		comp = len >= 34 ? (b[30] | b[31] << 8 | b[32] << 16 | (uint32_t)b[33] << 24) : 0;
	} else {
		bpp = len >= 26 ? (uint32_t)(b[24] | b[25] << 8) : 0;
	}
	if (off > len)
		return sit_err_set(e, EX_DATAERR, "truncated BMP: pixel data would start at %u", off);
	if (comp != 0 && comp != 3)     /* RLE and others: sizes not known here */
		return 0;
	stride = ((uint64_t)h->width * bpp + 31) / 32 * 4;
	need = (uint64_t)off + stride * h->height;
	return need_bytes("BMP", len, need, e);
}

/* Run-length TGA from byte POS: each packet is a count byte and one pixel
 * (a run) or COUNT pixels (literal).  stb_image reads zeros past the end,
 * so 19 bytes claiming 4096 x 4096 "decoded" to 64 MiB of black (stb issue
 * #1880, tests/regress/stb): walk the packets until every pixel is there.
 * Each packet takes at least two bytes, so the walk is bounded by LEN. */
static int
check_tga_rle(const unsigned char *b, size_t len, uint64_t pos, uint64_t pixels,
	unsigned px, sit_err *e)
{
	for (uint64_t got = 0; got < pixels;) {
		unsigned count;

		if (pos >= len)
			return sit_err_set(e, EX_DATAERR, "truncated TGA: %llu of %llu pixels",
				(unsigned long long)got, (unsigned long long)pixels);
		count = (b[pos] & 127u) + 1;
		pos += 1 + (uint64_t)px * (b[pos] & 128 ? 1 : count);
		got += count;
	}
	return need_bytes("TGA", len, pos, e);
}

static int
check_tga(const unsigned char *b, size_t len, const sit_img_header *h, sit_err *e)
{
	unsigned type = b[2], cmap = b[1], bits = b[16];
	uint64_t need = 18 + (uint64_t)b[0];

	if (cmap)
		need += (uint64_t)(b[5] | b[6] << 8) * ((b[7] + 7u) / 8);
	if (type > 8)                   /* 9, 10, 11: run-length coded */
		return check_tga_rle(b, len, need, (uint64_t)h->width * h->height,
			(bits + 7u) / 8, e);
	need += (uint64_t)h->width * h->height * ((bits + 7u) / 8);
	return need_bytes("TGA", len, need, e);
}

static int
check_structure(const unsigned char *buf, size_t len, const sit_img_header *h, sit_err *e)
{
	/* PNG and JPEG were walked by probe_stb() already. */
	switch (h->format) {
	case SIT_IMG_BMP:
		return check_bmp(buf, len, h, e);
	case SIT_IMG_TGA:
		return check_tga(buf, len, h, e);
	case SIT_IMG_GIF:
		if (buf[len - 1] != 0x3b)
			return sit_err_set(e, EX_DATAERR, "truncated GIF: no trailer");
		return 0;
	default:
		return 0;
	}
}

/* ---- decoding --------------------------------------------------------- */

static int
decode_stb(const unsigned char *buf, size_t len, sit_img_header *h,
	sit_img *img, sit_err *e)
{
	int x = 0, y = 0, n = 0;
	void *p;

	/* Ask for the file's own channel count (0).  stb then reports in N
	 * what it returned: for PNG that includes a tRNS alpha channel. */
	if (h->depth == 16)
		p = stbi_load_16_from_memory(buf, (int)len, &x, &y, &n, 0);
	else
		p = stbi_load_from_memory(buf, (int)len, &x, &y, &n, 0);
	if (p == NULL)
		return stb_error(h->format, e);
	if ((uint32_t)x != h->width || (uint32_t)y != h->height || n < 1 || n > 4) {
		stbi_image_free(p);
		return sit_err_set(e, EX_DATAERR, "corrupt %s: decoded %dx%d, %d channels, "
			"but the header said %ux%u", sit_img_format_name(h->format),
			x, y, n, h->width, h->height);
	}
	h->channels = (unsigned)n;
	img->width = h->width;
	img->height = h->height;
	img->channels = h->channels;
	img->depth = h->depth;
	img->pixels = p;    /* stbi_image_free() is free(): sit_img_free works */
	return 0;
}

int
sit_img_decode(const unsigned char *buf, size_t len, const sit_img_limits *lim,
	sit_img *img, sit_img_header *hp, sit_err *e)
{
	sit_img_header tmp, *h = hp != NULL ? hp : &tmp;

	memset(img, 0, sizeof *img);
	if (sit_img_probe(buf, len, lim, h, e) < 0)
		return -1;
	if (h->format == SIT_IMG_PNM || h->format == SIT_IMG_PAM)
		return sit_img_pam_decode(buf, len, lim, img, e);
	if (check_structure(buf, len, h, e) < 0)
		return -1;
	return decode_stb(buf, len, h, img, e);
}
