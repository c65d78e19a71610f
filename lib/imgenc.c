/* imgenc.c - JPEG writing and downscaling, through stb_image_write and
 * stb_image_resize (their implementations are compiled in stb.c). */
#include <stdlib.h>
#include <string.h>

#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "img_int.h"

#define JPEG_MAX_SIDE 65535u    /* the format stores sides in 16 bits */

/* stb_image_write's callback cannot fail, so the first sink error is kept
 * here and later writes are skipped. */
typedef struct jpeg_ctx {
	const sit_img_sink *sink;
	sit_err *e;
	int failed;
} jpeg_ctx;

static void
jpeg_put(void *ctx, void *data, int size)
{
	jpeg_ctx *j = ctx;

	if (j->failed || size <= 0)
		return;
	if (sit_img_emit(j->sink, data, (size_t)size, j->e) < 0)
		j->failed = 1;
}

int
sit_img_write_jpeg(const sit_img *img, int quality, const sit_img_sink *sink, sit_err *e)
{
	jpeg_ctx j = { sink, e, 0 };

	if (sit_img_size(img) == 0)
		return sit_err_set(e, EX_SOFTWARE, "JPEG writer: invalid image");
	if (img->depth != 8)
		return sit_err_set(e, EX_SOFTWARE, "JPEG writer: 8-bit samples only");
	if (quality < 1 || quality > 100)
		return sit_err_set(e, EX_SOFTWARE, "JPEG quality %d is not in 1..100", quality);
	if (img->width > JPEG_MAX_SIDE || img->height > JPEG_MAX_SIDE)
		return sit_err_set(e, EX_DATAERR, "a %ux%u image is too large for JPEG (at most "
			"%u per side)", img->width, img->height, JPEG_MAX_SIDE);
	if (!stbi_write_jpg_to_func(jpeg_put, &j, (int)img->width, (int)img->height,
	    (int)img->channels, img->pixels, quality)) {
		if (!j.failed)
			sit_err_set(e, EX_SOFTWARE, "JPEG writer failed");
		return -1;
	}
	return j.failed ? -1 : 0;
}

/* New sides for fitting W x H into MAX_DIM, rounded, at least 1. */
static void
fit_sides(uint32_t w, uint32_t h, uint32_t max_dim, uint32_t *nw, uint32_t *nh)
{
	uint32_t big = w > h ? w : h;

	*nw = (uint32_t)(((uint64_t)w * max_dim + big / 2) / big);
	*nh = (uint32_t)(((uint64_t)h * max_dim + big / 2) / big);
	if (*nw == 0)
		*nw = 1;
	if (*nh == 0)
		*nh = 1;
}

int
sit_img_fit(sit_img *img, uint32_t max_dim, sit_err *e)
{
	sit_img out;
	uint32_t nw, nh;
	int alpha, ok;

	if (max_dim == 0)
		return sit_err_set(e, EX_SOFTWARE, "fit: maximum side 0");
	if (img->width <= max_dim && img->height <= max_dim)
		return 0;
	fit_sides(img->width, img->height, max_dim, &nw, &nh);
	if (sit_img_alloc(&out, nw, nh, img->channels, img->depth, e) < 0)
		return -1;
	/* Grey+alpha and RGBA: let stb weight colour by alpha. */
	alpha = img->channels == 2 || img->channels == 4 ? (int)img->channels - 1
		: STBIR_ALPHA_CHANNEL_NONE;
	if (img->depth == 8)
		ok = stbir_resize_uint8_generic(img->pixels, (int)img->width, (int)img->height, 0,
			out.pixels, (int)nw, (int)nh, 0, (int)img->channels, alpha, 0,
			STBIR_EDGE_CLAMP, STBIR_FILTER_DEFAULT, STBIR_COLORSPACE_SRGB, NULL);
	else
		ok = stbir_resize_uint16_generic(img->pixels, (int)img->width, (int)img->height, 0,
			out.pixels, (int)nw, (int)nh, 0, (int)img->channels, alpha, 0,
			STBIR_EDGE_CLAMP, STBIR_FILTER_DEFAULT, STBIR_COLORSPACE_SRGB, NULL);
	if (!ok) {
		sit_img_free(&out);
		return sit_err_set(e, EX_OSERR, "out of memory resizing to %ux%u", nw, nh);
	}
	sit_img_free(img);
	*img = out;
	return 0;
}
