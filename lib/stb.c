/* stb.c - the stb_image, stb_image_write and stb_image_resize implementations.
 *
 * Kept apart so that their warnings can be silenced here, and only here,
 * while the project builds with -Werror.  Only the decoders sit reads are
 * compiled in: every other stb_image decoder (PSD, HDR, PIC, and its PNM,
 * replaced by our stricter pam.c) is attack surface we do not need.
 * STBI_MAX_DIMENSIONS makes stb refuse absurd headers itself, as a second
 * line behind sit_img_check_limits().
 */
#include <stdlib.h>

#include "img.h"

/* stb_image's decoders, given a corrupt file, can read buffers they never
 * wrote (the fuzzer saw one JPEG decode two ways from the same bytes).  Zeroed
 * allocations make every decode deterministic and keep stale heap contents out
 * of decoded pixels.  calloc, not malloc and memset: a large block comes as
 * fresh zero pages, which take memory only once written, so an image stb
 * allocates for and then refuses (too little data for its header's size)
 * costs what it was sent, not what it claimed, whatever the compiler makes
 * of a memset. */
static void *
stbi_zalloc(size_t size)
{
	return calloc(1, size);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MALLOC(size) stbi_zalloc(size)
#define STBI_REALLOC(p, size) realloc(p, size)
#define STBI_FREE(p) free(p)
#define STBI_MAX_DIMENSIONS SIT_IMG_DIM_CEILING
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>

#pragma GCC diagnostic pop
