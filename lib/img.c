/* img.c - image formats, pixel buffers, limits, sinks and conversions.
 * Decoding is in imgdec.c, the writers in png.c, pam.c and imgjpeg.c. */
#include <stdlib.h>
#include <string.h>

#include "img_int.h"
#include "out.h"

/* ---- sniffing --------------------------------------------------------- */

static int
starts(const unsigned char *buf, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(buf, magic, n) == 0;
}

/* ISO BMFF "ftyp" box whose major brand is a HEIF/AVIF one. */
static int
is_heif(const unsigned char *b, size_t len)
{
	static const char *const brands[] = { "heic", "heix", "hevc", "mif1",
		"msf1", "avif", "avis" };

	if (len < 12 || memcmp(b + 4, "ftyp", 4) != 0)
		return 0;
	for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
		if (memcmp(b + 8, brands[i], 4) == 0)
			return 1;
	return 0;
}

/* TGA has no magic number: accept a header whose fields all make sense
 * (the same test stb_image applies before decoding). */
static int
is_tga(const unsigned char *b, size_t len)
{
	unsigned cmap, type, bits;

	if (len < 18)
		return 0;
	cmap = b[1];
	type = b[2];
	if (cmap > 1)
		return 0;
	if (cmap == 1) {
		if (type != 1 && type != 9)
			return 0;
		bits = b[7];
		if (bits != 8 && bits != 15 && bits != 16 && bits != 24 && bits != 32)
			return 0;
	} else if (type != 2 && type != 3 && type != 10 && type != 11) {
		return 0;
	}
	if ((b[12] | b[13] << 8) == 0 || (b[14] | b[15] << 8) == 0)
		return 0;
	bits = b[16];
	if (cmap == 1)
		return bits == 8 || bits == 16;
	return bits == 8 || bits == 15 || bits == 16 || bits == 24 || bits == 32;
}

static sit_img_format
sniff_netpbm(const unsigned char *b, size_t len)
{
	if (len < 3 || b[0] != 'P')
		return SIT_IMG_UNKNOWN;
	if (b[2] != ' ' && b[2] != '\t' && b[2] != '\n' && b[2] != '\r' && b[2] != '#')
		return SIT_IMG_UNKNOWN;
	if (b[1] == '5' || b[1] == '6')
		return SIT_IMG_PNM;
	if (b[1] == '7')
		return SIT_IMG_PAM;
	if (b[1] >= '1' && b[1] <= '4')
		return SIT_IMG_PNM_PLAIN;
	return SIT_IMG_UNKNOWN;
}

sit_img_format
sit_img_sniff(const unsigned char *b, size_t len)
{
	sit_img_format f;

	if (starts(b, len, "\x89PNG\r\n\x1a\n", 8))
		return SIT_IMG_PNG;
	if (starts(b, len, "\xff\xd8\xff", 3))
		return SIT_IMG_JPEG;
	if (starts(b, len, "GIF87a", 6) || starts(b, len, "GIF89a", 6))
		return SIT_IMG_GIF;
	if (starts(b, len, "BM", 2) && len >= 26)
		return SIT_IMG_BMP;
	if ((f = sniff_netpbm(b, len)) != SIT_IMG_UNKNOWN)
		return f;
	if (starts(b, len, "II*\0", 4) || starts(b, len, "MM\0*", 4))
		return SIT_IMG_TIFF;
	if (starts(b, len, "RIFF", 4) && len >= 12 && memcmp(b + 8, "WEBP", 4) == 0)
		return SIT_IMG_WEBP;
	if (is_heif(b, len))
		return SIT_IMG_HEIF;
	if (starts(b, len, "\xff\x0a", 2) || starts(b, len, "\0\0\0\x0cJXL ", 8))
		return SIT_IMG_JXL;
	if (starts(b, len, "8BPS", 4))
		return SIT_IMG_PSD;
	if (starts(b, len, "#?RADIANCE", 10) || starts(b, len, "#?RGBE", 6))
		return SIT_IMG_HDR;
	if (starts(b, len, "qoif", 4))
		return SIT_IMG_QOI;
	if (is_tga(b, len))
		return SIT_IMG_TGA;
	return SIT_IMG_UNKNOWN;
}

const char *
sit_img_format_name(sit_img_format f)
{
	switch (f) {
	case SIT_IMG_PNG: return "PNG";
	case SIT_IMG_JPEG: return "JPEG";
	case SIT_IMG_BMP: return "BMP";
	case SIT_IMG_GIF: return "GIF";
	case SIT_IMG_TGA: return "TGA";
	case SIT_IMG_PNM: return "PNM";
	case SIT_IMG_PAM: return "PAM";
	case SIT_IMG_PNM_PLAIN: return "plain or bitmap PNM";
	case SIT_IMG_TIFF: return "TIFF";
	case SIT_IMG_WEBP: return "WebP";
	case SIT_IMG_HEIF: return "HEIF";
	case SIT_IMG_JXL: return "JPEG XL";
	case SIT_IMG_PSD: return "PSD";
	case SIT_IMG_HDR: return "Radiance HDR";
	case SIT_IMG_QOI: return "QOI";
	case SIT_IMG_UNKNOWN: break;
	}
	return "unknown";
}

int
sit_img_format_supported(sit_img_format f)
{
	return f >= SIT_IMG_PNG && f <= SIT_IMG_PAM;
}

/* ---- pixel buffers and limits ----------------------------------------- */

int
sit_img_check_shape(uint32_t width, uint32_t height, unsigned channels,
	unsigned depth, size_t *row_bytes, sit_err *e)
{
	if (width == 0 || height == 0)
		return sit_err_set(e, EX_DATAERR, "image has no pixels (%ux%u)", width, height);
	if (channels < 1 || channels > 4)
		return sit_err_set(e, EX_SOFTWARE, "%u channels: 1 to 4 are possible", channels);
	if (depth != 8 && depth != 16)
		return sit_err_set(e, EX_SOFTWARE, "%u bits per sample: 8 or 16 are possible", depth);
	/* 2^32 * 4 * 2 fits a 64-bit size_t; a 32-bit one is checked. */
	if ((uint64_t)width * channels * (depth / 8) > SIZE_MAX / 2)
		return sit_err_set(e, EX_DATAERR, "image rows too long (%u pixels)", width);
	*row_bytes = (size_t)width * channels * (depth / 8);
	return 0;
}

size_t
sit_img_row_bytes(const sit_img *img)
{
	size_t n = 0;
	sit_err e;

	if (sit_img_check_shape(img->width, img->height, img->channels, img->depth, &n, &e) < 0)
		return 0;
	return n;
}

size_t
sit_img_size(const sit_img *img)
{
	size_t row = sit_img_row_bytes(img);

	if (row == 0 || img->height > SIZE_MAX / row)
		return 0;
	return row * img->height;
}

int
sit_img_alloc(sit_img *img, uint32_t width, uint32_t height,
	unsigned channels, unsigned depth, sit_err *e)
{
	size_t row, size;

	memset(img, 0, sizeof *img);
	if (sit_img_check_shape(width, height, channels, depth, &row, e) < 0)
		return -1;
	if (height > SIZE_MAX / row)
		return sit_err_set(e, EX_DATAERR, "image too large (%ux%u)", width, height);
	size = row * height;
	img->pixels = malloc(size);
	if (img->pixels == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory for a %ux%u image (%zu bytes)",
			width, height, size);
	img->width = width;
	img->height = height;
	img->channels = channels;
	img->depth = depth;
	return 0;
}

void
sit_img_free(sit_img *img)
{
	free(img->pixels);
	memset(img, 0, sizeof *img);
}

int
sit_img_check_limits(uint32_t width, uint32_t height,
	const sit_img_limits *lim, sit_err *e)
{
	static const sit_img_limits def = SIT_IMG_LIMITS_DEFAULT;

	if (lim == NULL)
		lim = &def;
	if (width == 0 || height == 0)
		return sit_err_set(e, EX_DATAERR, "image has no pixels (%ux%u)", width, height);
	if (width > lim->max_width)
		return sit_err_set(e, EX_DATAERR, "image width %u is over the limit of %u",
			width, lim->max_width);
	if (height > lim->max_height)
		return sit_err_set(e, EX_DATAERR, "image height %u is over the limit of %u",
			height, lim->max_height);
	if ((uint64_t)width * height > lim->max_pixels)
		return sit_err_set(e, EX_DATAERR, "image of %ux%u = %llu pixels is over the "
			"limit of %llu pixels", width, height,
			(unsigned long long)width * height, (unsigned long long)lim->max_pixels);
	return 0;
}

/* ---- sample conversions ----------------------------------------------- */

void
sit_img_samples_to_be16(unsigned char *dst, const void *src, size_t n)
{
	const unsigned char *s = src;

	for (size_t i = 0; i < n; i++) {
		uint16_t v;

		memcpy(&v, s + 2 * i, 2);
		dst[2 * i] = (unsigned char)(v >> 8);
		dst[2 * i + 1] = (unsigned char)v;
	}
}

void
sit_img_samples_from_be16(void *dst, const unsigned char *src, size_t n)
{
	unsigned char *d = dst;

	for (size_t i = 0; i < n; i++) {
		uint16_t v = (uint16_t)(src[2 * i] << 8 | src[2 * i + 1]);

		memcpy(d + 2 * i, &v, 2);
	}
}

int
sit_img_to_8bit(sit_img *img, sit_err *e)
{
	size_t n = sit_img_size(img) / 2;
	const uint16_t *src = img->pixels;
	unsigned char *dst = img->pixels, *shrunk;

	if (img->depth == 8)
		return 0;
	if (n == 0)
		return sit_err_set(e, EX_SOFTWARE, "to_8bit: invalid image");
	/* In place: byte i is written after sample i has been read. */
	for (size_t i = 0; i < n; i++)
		dst[i] = (unsigned char)(((uint32_t)src[i] * 255 + 32767) / 65535);
	img->depth = 8;
	shrunk = realloc(img->pixels, n);
	if (shrunk != NULL)
		img->pixels = shrunk;   /* failing to give memory back is harmless */
	return 0;
}

/* ---- sinks ------------------------------------------------------------ */

int
sit_img_sink_out(void *ctx, const void *buf, size_t len, sit_err *e)
{
	return sit_out_write(ctx, buf, len, e);
}

int
sit_img_sinkv_out(void *ctx, const struct iovec *iov, int n, sit_err *e)
{
	return sit_out_writev(ctx, iov, n, e);
}

int
sit_img_sink_buf(void *ctx, const void *buf, size_t len, sit_err *e)
{
	sit_img_buf *b = ctx;

	if (b->max != 0 && (len > b->max || b->len > b->max - len))
		return sit_err_set(e, EX_DATAERR, "output over the limit of %zu bytes", b->max);
	if (len > SIZE_MAX / 2 - b->len)
		return sit_err_set(e, EX_OSERR, "output too large for memory");
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory for %zu bytes of output", cap);
		b->data = p;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}
