/* pixhdr.h - the header that sit-visual images and sit-share shares carry in
 * their pixels (the full byte layout is in sit-image(5)).
 *
 * The image's samples, read row by row in file order (16-bit samples
 * big-endian, as in PAM), form one byte stream:
 *
 *   header (80 bytes) | payload (L bytes) | payload checksum (16) | zeros
 *
 * The header ends with a BLAKE2b-128 of its first 64 bytes.  The payload
 * checksum is four CRC-32C lanes (lib/cksum.h) seeded with the first 16
 * bytes of BLAKE2b-256 of the whole header, which binds the payload to its
 * header; it comes after the payload so that writer and reader each work in
 * one streaming pass.
 * Why a CRC: BLAKE2b runs at 600 MB/s here and Poly1305 (version 1 images,
 * still read) at 1.5-4 GB/s, while the lanes run at over 20 GB/s, and the
 * shares' throughput target leaves no room for more.  Both checksums only
 * detect accidents (lossy conversion, a flipped bit, a mixed-up file):
 * anyone can recompute them, so they prove nothing about the sender.
 */
#ifndef SIT_PIXHDR_H
#define SIT_PIXHDR_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "cksum.h"
#include "err.h"

#define SIT_PIXHDR_LEN 80
#define SIT_PIXHDR_SUM_LEN 16                  /* payload checksum */
#define SIT_PIXHDR_OVERHEAD (SIT_PIXHDR_LEN + SIT_PIXHDR_SUM_LEN)
#define SIT_PIXHDR_SETID_LEN 16

enum sit_pixhdr_kind {
	SIT_PIXHDR_VISUAL = 'V',
	SIT_PIXHDR_SHARE = 'S',
};

enum sit_pixhdr_content {
	SIT_PIXHDR_BYTES = 0,  /* a byte stream */
	SIT_PIXHDR_PIXELS = 1, /* the samples of an image: width x rows */
};

typedef struct sit_pixhdr {
	int kind;                  /* enum sit_pixhdr_kind */
	uint32_t width, height;    /* of the image carrying the header */
	unsigned channels, depth;  /* 1..4, 8 or 16 */
	int content;               /* enum sit_pixhdr_content */
	uint32_t rows;             /* PIXELS: height of the shared image */
	uint64_t length;           /* payload bytes */
	unsigned char set_id[SIT_PIXHDR_SETID_LEN]; /* shares only */
	unsigned k, n, x;          /* shares only */
	unsigned version;          /* parsed: 1 or 2; encode writes 2 (1 if set) */
} sit_pixhdr;

/* Sample bytes in an image of this shape; 0 if a field is out of range. */
uint64_t sit_pixhdr_capacity(uint32_t width, uint32_t height, unsigned channels,
	unsigned depth);

/* Serialise H (fields checked as by sit_pixhdr_parse) into OUT. */
int sit_pixhdr_encode(const sit_pixhdr *h, unsigned char out[SIT_PIXHDR_LEN],
	sit_err *e);

/* The result of parsing, so that programs can word their own messages. */
enum sit_pixhdr_status {
	SIT_PIXHDR_OK = 0,
	SIT_PIXHDR_NOT_OURS,   /* no magic: not a sit image at all */
	SIT_PIXHDR_ALTERED,    /* magic nearly there, or checksum fails */
	SIT_PIXHDR_RESHAPED,   /* valid header for an image of another size */
	SIT_PIXHDR_INVALID,    /* checksum fine but a field out of range */
	SIT_PIXHDR_NEWER,      /* a version we do not know */
};

/* Parse the 80 bytes IN of an image of the given shape.  Every field is
 * checked against the image and its own range before the caller sees it:
 * payload length against the capacity, K, N, x, channels, depth. */
enum sit_pixhdr_status sit_pixhdr_parse(const unsigned char in[SIT_PIXHDR_LEN],
	uint32_t width, uint32_t height, unsigned channels, unsigned depth,
	sit_pixhdr *h);

/* What went wrong, to follow "image" or "share NAME" in a message: "was
 * altered (lossy conversion?): checksum mismatch" and so on. */
const char *sit_pixhdr_status_text(enum sit_pixhdr_status st);

/* Payload checksum of the header's version: four CRC-32C lanes seeded with
 * the first 16 bytes of BLAKE2b-256 of the encoded header (version 2), or
 * Poly1305 keyed with all 32 bytes of it (version 1). */
typedef struct sit_pixhdr_sum {
	int poly1305;
	crypto_onetimeauth_state st;
	sit_cksum_lanes lanes;
} sit_pixhdr_sum;

void sit_pixhdr_sum_init(sit_pixhdr_sum *s, const unsigned char hdr[SIT_PIXHDR_LEN]);
void sit_pixhdr_sum_update(sit_pixhdr_sum *s, const unsigned char *buf, size_t len);
void sit_pixhdr_sum_final(sit_pixhdr_sum *s, unsigned char out[SIT_PIXHDR_SUM_LEN]);

/* Width and height of a near-square RGB 8-bit image that holds the header,
 * LENGTH payload bytes and the checksum (WIDTH: 0 to choose, else fixed),
 * within the decoders' default limits (lib/img.h).  EX_DATAERR if too big. */
int sit_pixhdr_geometry(uint64_t length, uint32_t width, uint32_t *w, uint32_t *h,
	sit_err *e);

#endif
