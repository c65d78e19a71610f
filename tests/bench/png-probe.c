/* png-probe - PNG writers on the same pixels: stb_image_write's default
 * against libsit's FAST (stored deflate) writer.
 *
 *   png-probe stb|fast WIDTH HEIGHT CHANNELS RAWFILE OUT.png
 *
 * Reads WIDTH*HEIGHT*CHANNELS bytes of 8-bit interleaved pixels from RAWFILE
 * (the bench gives it noise, what a share or a cipher image holds), then
 * writes them as PNG to OUT.png:
 *   stb   stbi_write_png() with its defaults (what issue 4 calls "stb's time")
 *   fast  sit_img_write_png(..., SIT_IMG_PNG_FAST, ...) from libsit.a; only
 *         when built with -DHAVE_SIT_IMG (the bench does so once lib/img.h
 *         and the writer are in libsit.a)
 * Prints the seconds spent encoding and writing (not reading) on stdout.
 *
 * Built by scripts/bench: cc -O2 -I/usr/include/stb png-probe.c -lm
 *   [-DHAVE_SIT_IMG -Ilib build/release/libsit.a $(pkg-config --libs libsodium)]
 */
#define _GNU_SOURCE
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC  /* libsit.a may carry its own copy */
#include <stb_image_write.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SIT_IMG
#include "img.h"

/* A sink straight to a file descriptor. */
static int
fd_sink(void *ctx, const void *buf, size_t len, sit_err *e)
{
	const unsigned char *p = buf;
	int fd = *(int *)ctx;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0)
			return sit_err_sys(e, 74, "write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
#endif

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *
slurp(const char *path, size_t want)
{
	unsigned char *buf = malloc(want);
	size_t have = 0;
	int fd = open(path, O_RDONLY);

	if (buf == NULL || fd < 0)
		return NULL;
	while (have < want) {
		ssize_t n = read(fd, buf + have, want - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (have != want) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
main(int argc, char **argv)
{
	int w, h, c, ok = 0;
	unsigned char *px;
	double t0, t1;

	if (argc != 7 || (strcmp(argv[1], "stb") != 0 && strcmp(argv[1], "fast") != 0)) {
		fprintf(stderr, "usage: png-probe stb|fast WIDTH HEIGHT CHANNELS RAWFILE OUT.png\n");
		return 64;
	}
	w = atoi(argv[2]);
	h = atoi(argv[3]);
	c = atoi(argv[4]);
	if (w <= 0 || h <= 0 || c < 1 || c > 4) {
		fprintf(stderr, "png-probe: bad dimensions\n");
		return 64;
	}
	px = slurp(argv[5], (size_t)w * (size_t)h * (size_t)c);
	if (px == NULL) {
		fprintf(stderr, "png-probe: cannot read %s (too short?)\n", argv[5]);
		return 66;
	}
	t0 = now();
	if (strcmp(argv[1], "stb") == 0) {
		ok = stbi_write_png(argv[6], w, h, c, px, w * c) != 0;
	} else {
#ifdef HAVE_SIT_IMG
		sit_img img = { (uint32_t)w, (uint32_t)h, (unsigned)c, 8, px };
		sit_err e = { 0, "" };
		int fd = open(argv[6], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		sit_img_sink sink = { fd_sink, &fd, NULL };
		ok = fd >= 0 && sit_img_write_png(&img, SIT_IMG_PNG_FAST, &sink, &e) == 0;
		if (!ok)
			fprintf(stderr, "png-probe: %s\n", e.msg);
		if (fd >= 0 && close(fd) != 0)
			ok = 0;
#else
		fprintf(stderr, "png-probe: built without libsit's image writer\n");
		return 69;
#endif
	}
	t1 = now();
	free(px);
	if (!ok) {
		fprintf(stderr, "png-probe: cannot write %s\n", argv[6]);
		return 73;
	}
	printf("%.6f\n", t1 - t0);
	return 0;
}
