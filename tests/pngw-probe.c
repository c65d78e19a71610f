/* pngw-probe - the FAST PNG writer's two paths must write the same bytes.
 *
 *   pngw-probe WIDTH HEIGHT CHANNELS SEED OUT.png
 *
 * Makes a pseudorandom raster (WIDTH x HEIGHT, 8-bit, CHANNELS) and writes
 * it with sit_img_png_stream() twice: once to a sink that gathers (whole
 * stored blocks then go straight from the caller's buffer, png.c), in
 * pieces of up to 1 MiB, and once to a sink without writev (every byte
 * through the block buffer), in pieces of pseudorandom sizes from 1 byte to
 * 200 KiB.  Exits 1 if the two files differ, else writes the first to OUT
 * for an independent decoder (tests/t-pngstream.sh compares its pixels
 * with the raster, written as OUT.raw).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <sodium.h>

#include "img.h"

static void
die(const char *msg)
{
	fprintf(stderr, "pngw-probe: %s\n", msg);
	exit(1);
}

/* A sink into memory that can gather, counting its gathered writes. */
struct mem {
	sit_img_buf b;
	unsigned gathers;
};

static int
mem_write(void *ctx, const void *buf, size_t len, sit_err *e)
{
	return sit_img_sink_buf(&((struct mem *)ctx)->b, buf, len, e);
}

static int
mem_writev(void *ctx, const struct iovec *iov, int n, sit_err *e)
{
	struct mem *m = ctx;

	m->gathers++;
	for (int i = 0; i < n; i++)
		if (sit_img_sink_buf(&m->b, iov[i].iov_base, iov[i].iov_len, e) != 0)
			return -1;
	return 0;
}

static void
write_png(const sit_img_sink *sink, uint32_t w, uint32_t h, unsigned ch,
	const unsigned char *raster, size_t len, uint64_t seed)
{
	sit_img_png_writer pw;
	sit_err e = { 0 };
	size_t off = 0;

	if (sit_img_png_begin(&pw, sink, w, h, ch, 8, SIT_IMG_PNG_FAST, &e) != 0)
		die(e.msg);
	while (off < len) {
		size_t n;

		/* seed 0: large pieces; else sizes from a small LCG. */
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		n = sink->writev != NULL ? 1 << 20 : 1 + (size_t)(seed >> 33) % (200 * 1024);
		if (n > len - off)
			n = len - off;
		if (sit_img_png_stream(&pw, raster + off, n, &e) != 0)
			die(e.msg);
		off += n;
	}
	if (sit_img_png_end(&pw, &e) != 0)
		die(e.msg);
}

int
main(int argc, char **argv)
{
	unsigned char seed[randombytes_SEEDBYTES] = { 0 };
	struct mem gathered = { { 0 }, 0 }, copied = { { 0 }, 0 };
	sit_img_sink gv = { mem_write, &gathered, mem_writev };
	sit_img_sink cv = { mem_write, &copied, NULL };
	unsigned char *raster;
	uint32_t w, h;
	unsigned ch;
	size_t len;
	FILE *f;
	char raw[4096];

	if (argc != 6)
		die("usage: pngw-probe WIDTH HEIGHT CHANNELS SEED OUT.png");
	if (sodium_init() < 0)
		die("libsodium cannot be initialised");
	w = (uint32_t)strtoul(argv[1], NULL, 10);
	h = (uint32_t)strtoul(argv[2], NULL, 10);
	ch = (unsigned)strtoul(argv[3], NULL, 10);
	seed[0] = (unsigned char)strtoul(argv[4], NULL, 10);
	len = (size_t)w * h * ch;
	if (w == 0 || h == 0 || ch == 0 || ch > 4 || (raster = malloc(len)) == NULL)
		die("bad shape");
	randombytes_buf_deterministic(raster, len, seed);
	write_png(&gv, w, h, ch, raster, len, 0);
	write_png(&cv, w, h, ch, raster, len, seed[0] + 1);
	if (gathered.b.len != copied.b.len || memcmp(gathered.b.data, copied.b.data,
	    copied.b.len) != 0)
		die("the gathered and the copied PNG differ");
	printf("%zu bytes, %u gathered writes\n", copied.b.len, gathered.gathers);
	if ((f = fopen(argv[5], "wb")) == NULL ||
	    fwrite(gathered.b.data, 1, gathered.b.len, f) != gathered.b.len || fclose(f) != 0)
		die("cannot write OUT");
	snprintf(raw, sizeof raw, "%s.raw", argv[5]);
	if ((f = fopen(raw, "wb")) == NULL || fwrite(raster, 1, len, f) != len || fclose(f) != 0)
		die("cannot write OUT.raw");
	free(raster);
	free(gathered.b.data);
	free(copied.b.data);
	return 0;
}
