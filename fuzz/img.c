/* fuzz/img.c - libFuzzer harness: what sit-load does with received bytes.
 *
 *   sit_img_decode   sniffing, the header limits read before stb_image sees
 *                    anything, the structure checks (PNG chunks and CRCs,
 *                    JPEG segments, netpbm raster length), then the stb_image
 *                    decoders we enable (PNG, JPEG, BMP, GIF, TGA, PNM, PAM)
 *   sit_img_strip    the JPEG segment and PNG chunk walkers of --strip
 *
 * Limits are small (1024 x 1024, 2^20 pixels) so a run stays fast; the code
 * paths are the same as with the defaults.  Properties checked:
 *   - every decoded pixel can be read (ASan checks the buffer is as large as
 *     width x height x channels x depth says);
 *   - what strip keeps of a decodable image decodes again to the same shape;
 *   - every refusal carries a message and a sysexits code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "img.h"

static const sit_img_limits lim = { 1024, 1024, 1u << 20 };
static volatile unsigned sink_sum;

static void
refused(const sit_err *e)
{
	if (e->code == 0 || e->msg[0] == '\0') {
		fprintf(stderr, "refusal without a message\n");
		abort();
	}
}

/* Read every byte of the pixels: ASan checks each read.  The sum is
 * returned so the compiler cannot drop the loop. */
static unsigned
touch(const sit_img *img)
{
	const unsigned char *p = img->pixels;
	size_t n = sit_img_size(img);
	unsigned sum = 0;

	if (img->width == 0 || img->height == 0 || img->width > lim.max_width
	    || img->height > lim.max_height || p == NULL) {
		fprintf(stderr, "decoded a %ux%u image past the limits\n", img->width, img->height);
		abort();
	}
	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sit_img img, again;
	sit_img_header h, h2;
	sit_img_buf out = { 0 };
	sit_img_sink sink = { sit_img_sink_buf, &out, NULL };
	sit_err e = { 0 };

	memset(&img, 0, sizeof img);
	memset(&again, 0, sizeof again);
	if (sit_img_decode(data, size, &lim, &img, &h, &e) != 0) {
		refused(&e);
		return 0;
	}
	sink_sum += touch(&img);
	out.max = size;       /* stripping never makes a file larger */
	if (sit_img_strip(data, size, h.format, &sink, &e) != 0) {
		refused(&e);
	} else if (sit_img_decode(out.data, out.len, &lim, &again, &h2, &e) != 0
	    || again.width != img.width || again.height != img.height
	    || again.channels != img.channels || again.depth != img.depth) {
		fprintf(stderr, "stripped %s no longer decodes the same: %s\n",
			sit_img_format_name(h.format), e.msg);
		abort();
	}
	sit_img_free(&again);
	sit_img_free(&img);
	free(out.data);
	return 0;
}
