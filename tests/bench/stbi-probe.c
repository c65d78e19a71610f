/* stbi-probe - a bare stb_image decode of one file, the reference for sit-load.
 *
 *   stbi-probe FILE
 *
 * stbi_load() with the file's own channel count, nothing else: no limits, no
 * structure checks, no output.  Prints "WIDTH HEIGHT CHANNELS" on stdout;
 * exit 65 when stb_image cannot decode the file.
 *
 * Built by scripts/bench: cc -O2 -I/usr/include/stb stbi-probe.c -lm
 */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb_image.h>

#include <stdio.h>

int
main(int argc, char **argv)
{
	int w, h, c;
	unsigned char *px;

	if (argc != 2) {
		fprintf(stderr, "usage: stbi-probe FILE\n");
		return 64;
	}
	px = stbi_load(argv[1], &w, &h, &c, 0);
	if (px == NULL) {
		fprintf(stderr, "stbi-probe: %s: %s\n", argv[1], stbi_failure_reason());
		return 65;
	}
	printf("%d %d %d\n", w, h, c);
	stbi_image_free(px);
	return 0;
}
