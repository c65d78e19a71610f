/* img.h - reading, checking and writing images.
 *
 * Everything an image passes through in sit: format sniffing from bytes,
 * decoding from memory under size limits (stb_image for JPEG, PNG, BMP, GIF
 * and TGA; our own strict reader for netpbm PNM/PAM), and writers for PNG
 * (compressed, or FAST stored-deflate for incompressible noise images), PAM
 * and JPEG.  Writers stream into a sink, so a program can send them straight
 * to an atomic output (lib/out.h) or collect them in memory.
 *
 * Pixels are interleaved, row-major, top row first, without padding:
 * 1 channel grey, 2 grey+alpha, 3 RGB, 4 RGBA; 8-bit samples are uint8_t,
 * 16-bit samples are native-endian uint16_t.
 *
 * Like the rest of libsit: functions return 0 or -1 and fill a sit_err
 * (EX_DATAERR for bad input, EX_OSERR for memory, the sink's own code for
 * output errors).  Nothing here prints, exits or keeps global state.
 */
#ifndef SIT_IMG_H
#define SIT_IMG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct iovec;

/* ---- formats ---------------------------------------------------------- */

typedef enum sit_img_format {
	SIT_IMG_UNKNOWN = 0,   /* not an image we recognise */
	SIT_IMG_PNG,
	SIT_IMG_JPEG,
	SIT_IMG_BMP,
	SIT_IMG_GIF,
	SIT_IMG_TGA,
	SIT_IMG_PNM,           /* binary P5 (PGM) or P6 (PPM) */
	SIT_IMG_PAM,           /* P7 */
	/* Recognised so that the message can name them, but not decoded:
	 * every decoder left out is attack surface we do not carry. */
	SIT_IMG_PNM_PLAIN,     /* P1-P4: plain text or 1-bit netpbm */
	SIT_IMG_TIFF,
	SIT_IMG_WEBP,
	SIT_IMG_HEIF,          /* HEIC and AVIF */
	SIT_IMG_JXL,
	SIT_IMG_PSD,
	SIT_IMG_HDR,
	SIT_IMG_QOI,
} sit_img_format;

/* Guess the format from the first bytes (a few dozen are enough; TGA, which
 * has no magic number, is recognised by a plausible header). */
sit_img_format sit_img_sniff(const unsigned char *buf, size_t len);

/* Short upper-case name: "PNG", "JPEG", ..., "unknown". */
const char *sit_img_format_name(sit_img_format f);

/* 1 when sit_img_decode() can read this format. */
int sit_img_format_supported(sit_img_format f);

/* ---- pixels and limits ------------------------------------------------ */

typedef struct sit_img {
	uint32_t width, height;
	unsigned channels;     /* 1 to 4 */
	unsigned depth;        /* 8 or 16 bits per sample */
	void *pixels;          /* width * height * channels samples */
} sit_img;

/* Bytes in one row / in the whole buffer (0 if the fields are invalid). */
size_t sit_img_row_bytes(const sit_img *img);
size_t sit_img_size(const sit_img *img);

/* Fill IMG and allocate an uninitialised buffer for it. */
int sit_img_alloc(sit_img *img, uint32_t width, uint32_t height,
	unsigned channels, unsigned depth, sit_err *e);

/* Free the pixels and zero the struct; safe on a zeroed or freed struct. */
void sit_img_free(sit_img *img);

/* Checked before any pixel memory is committed.  The defaults take a
 * 100-megapixel camera photo (11648 x 8736) with room to spare, while a
 * decoded image stays under 1.2 GB even at 16-bit RGBA. */
typedef struct sit_img_limits {
	uint32_t max_width;
	uint32_t max_height;
	uint64_t max_pixels;
} sit_img_limits;

#define SIT_IMG_MAX_WIDTH_DEFAULT   65535u
#define SIT_IMG_MAX_HEIGHT_DEFAULT  65535u
#define SIT_IMG_MAX_PIXELS_DEFAULT  150000000u
/* Hard ceiling for either side, also compiled into stb_image. */
#define SIT_IMG_DIM_CEILING         (1u << 20)

#define SIT_IMG_LIMITS_DEFAULT { SIT_IMG_MAX_WIDTH_DEFAULT, \
	SIT_IMG_MAX_HEIGHT_DEFAULT, SIT_IMG_MAX_PIXELS_DEFAULT }

/* 0, or -1 with EX_DATAERR naming the limit that WIDTH x HEIGHT exceeds.
 * LIM NULL means the defaults. */
int sit_img_check_limits(uint32_t width, uint32_t height,
	const sit_img_limits *lim, sit_err *e);

/* ---- reading ---------------------------------------------------------- */

/* What the header says, read without decoding any pixels. */
typedef struct sit_img_header {
	sit_img_format format;
	uint32_t width, height;
	unsigned channels;     /* as decoded: PNG tRNS counts as alpha */
	unsigned depth;        /* 8 or 16 */
} sit_img_header;

/* Sniff and read the header, check the limits.  Errors say "not an image",
 * "unsupported format: X", "truncated X", "corrupt X: why" or which limit
 * was exceeded, always with EX_DATAERR. */
int sit_img_probe(const unsigned char *buf, size_t len,
	const sit_img_limits *lim, sit_img_header *h, sit_err *e);

/* Probe, check the file's structure (PNG chunk CRCs and order, JPEG
 * segments through EOI, netpbm raster length), then decode into IMG.
 * 16-bit files (PNG, PNM/PAM with maxval > 255) stay 16-bit; netpbm samples
 * with other maxvals are scaled to 255 or 65535.  GIF: first frame, RGBA.
 * JPEG CMYK comes out as RGB.  On failure IMG is left zeroed. */
int sit_img_decode(const unsigned char *buf, size_t len,
	const sit_img_limits *lim, sit_img *img, sit_img_header *h, sit_err *e);

/* ---- conversions ------------------------------------------------------ */

/* 16 -> 8 bits per sample, rounding (v * 255 + 32767) / 65535, in place.
 * Nothing to do for an 8-bit image.  Callers decide whether losing the
 * bits is acceptable; the library never does it on its own. */
int sit_img_to_8bit(sit_img *img, sit_err *e);

/* Downscale so that neither side exceeds MAX_DIM, keeping the aspect ratio
 * (stb_image_resize, sRGB-aware, alpha-weighted).  No-op when it fits. */
int sit_img_fit(sit_img *img, uint32_t max_dim, sit_err *e);

/* ---- writing ---------------------------------------------------------- */

/* Where encoders put their bytes: WRITE must write all LEN bytes or fill E
 * and return -1. */
typedef struct sit_img_sink {
	int (*write)(void *ctx, const void *buf, size_t len, sit_err *e);
	void *ctx;
	/* Optional (NULL: WRITE only): IOV[0..n) in order, as that many
	 * WRITEs would.  The FAST PNG writer then sends whole stored blocks
	 * from the caller's buffer without copying them. */
	int (*writev)(void *ctx, const struct iovec *iov, int n, sit_err *e);
} sit_img_sink;

/* A sink writing to a sit_out (lib/out.h); CTX is the sit_out pointer.
 * SIT_IMG_SINK_OUT(o) is the whole sink, gathering writes included. */
int sit_img_sink_out(void *ctx, const void *buf, size_t len, sit_err *e);
int sit_img_sinkv_out(void *ctx, const struct iovec *iov, int n, sit_err *e);
#define SIT_IMG_SINK_OUT(o) ((sit_img_sink){ sit_img_sink_out, (o), sit_img_sinkv_out })

/* A growable memory buffer; CTX is a sit_img_buf zero-initialised by the
 * caller, who frees DATA.  MAX (0: no limit) bounds its size. */
typedef struct sit_img_buf {
	unsigned char *data;
	size_t len, cap, max;
} sit_img_buf;
int sit_img_sink_buf(void *ctx, const void *buf, size_t len, sit_err *e);

/* PNG.  COMPRESS: adaptive filters and stb_image_write's deflate (the whole
 * filtered image is held in memory).  FAST: filter 0 and stored deflate
 * blocks, for noise that will not compress: the cost is close to CRC-32 and
 * Adler-32 over the data, and memory is one row plus one 64 KiB block.
 * 8- and 16-bit, 1 to 4 channels. */
typedef enum sit_img_png_mode {
	SIT_IMG_PNG_COMPRESS = 0,
	SIT_IMG_PNG_FAST = 1,
} sit_img_png_mode;

typedef struct sit_img_png_writer {
	sit_img_sink sink;
	sit_img_png_mode mode;
	uint32_t width, height, rows;
	unsigned channels, depth;
	size_t row_bytes;              /* filtered row, without the filter byte */
	size_t col;                    /* FAST streaming: bytes of the row so far */
	int filter_sent;               /* FAST streaming: the row's filter byte is
	                                  out, none of its bytes yet (a block
	                                  ended between them) */
	unsigned char *row;            /* current row, PNG byte order */
	unsigned char *prev;           /* previous row (COMPRESS) */
	unsigned char *data;           /* FAST: pending block; COMPRESS: all rows */
	size_t data_len, data_cap;
	uint32_t adler;                /* FAST: Adler-32 of the raw stream */
	int started;                   /* FAST: zlib header sent */
} sit_img_png_writer;

/* Write the signature and IHDR.  Then exactly HEIGHT calls to _row with
 * one row of pixels in sit_img layout, then _end, which writes the rest and
 * frees the writer.  After any failure, or to give up, call _abort. */
int sit_img_png_begin(sit_img_png_writer *w, const sit_img_sink *sink,
	uint32_t width, uint32_t height, unsigned channels, unsigned depth,
	sit_img_png_mode mode, sit_err *e);
int sit_img_png_row(sit_img_png_writer *w, const void *row, sit_err *e);
/* FAST only, instead of _row: LEN more bytes of the raster in PNG order
 * (16-bit samples big-endian), cut anywhere; each row gets its filter byte
 * as it starts, so nothing waits for a whole row. */
int sit_img_png_stream(sit_img_png_writer *w, const void *buf, size_t len, sit_err *e);
int sit_img_png_end(sit_img_png_writer *w, sit_err *e);
void sit_img_png_abort(sit_img_png_writer *w);

/* The whole image in one call. */
int sit_img_write_png(const sit_img *img, sit_img_png_mode mode,
	const sit_img_sink *sink, sit_err *e);

/* PAM (P7) with TUPLTYPE GRAYSCALE, GRAYSCALE_ALPHA, RGB or RGB_ALPHA and
 * MAXVAL 255 or 65535 (samples big-endian in the file).  Streaming like the
 * PNG writer: begin writes the header, each _row converts one row. */
typedef struct sit_img_pam_writer {
	sit_img_sink sink;
	uint32_t width, height, rows;
	unsigned channels, depth;
	unsigned char *row;            /* 16-bit rows in file byte order */
} sit_img_pam_writer;

int sit_img_pam_begin(sit_img_pam_writer *w, const sit_img_sink *sink,
	uint32_t width, uint32_t height, unsigned channels, unsigned depth,
	sit_err *e);
int sit_img_pam_row(sit_img_pam_writer *w, const void *row, sit_err *e);
int sit_img_pam_end(sit_img_pam_writer *w, sit_err *e);
void sit_img_pam_abort(sit_img_pam_writer *w);
int sit_img_write_pam(const sit_img *img, const sit_img_sink *sink, sit_err *e);

/* JPEG through stb_image_write, QUALITY 1 to 100.  8-bit only (convert
 * with sit_img_to_8bit first); an alpha channel is dropped. */
int sit_img_write_jpeg(const sit_img *img, int quality,
	const sit_img_sink *sink, sit_err *e);

/* ---- netpbm reading --------------------------------------------------- */

/* A parsed P5, P6 or P7 header.  The parser is strict: one header only,
 * WIDTH/HEIGHT/DEPTH/MAXVAL each once and in range, a known TUPLTYPE (or
 * none, then DEPTH decides), comments only where netpbm allows them. */
typedef struct sit_img_pam_header {
	uint32_t width, height;
	unsigned channels;             /* PAM DEPTH, 1 to 4 */
	unsigned maxval;               /* 1 to 65535 */
	unsigned depth;                /* 8 when maxval < 256, else 16 */
	size_t header_len;             /* bytes before the raster */
	size_t raster_len;             /* bytes of raster the header promises */
} sit_img_pam_header;

/* Parse the header at the start of BUF and check LIM.  Returns 1 with H
 * filled, 0 when BUF ends before the header does (read more and call again;
 * a header is at most SIT_IMG_PAM_HEADER_MAX bytes), -1 on error. */
#define SIT_IMG_PAM_HEADER_MAX 4096
int sit_img_pam_parse_header(const unsigned char *buf, size_t len,
	const sit_img_limits *lim, sit_img_pam_header *h, sit_err *e);

/* Streaming reader on a file descriptor: reads the header (a byte at a
 * time, so nothing past it is consumed), then one row per call, scaled to
 * 255/65535 and converted to sit_img layout. */
typedef struct sit_img_pam_reader {
	int fd;
	sit_img_pam_header h;
	uint32_t rows;
	unsigned char *raw;            /* one row as in the file */
} sit_img_pam_reader;

int sit_img_pam_open(sit_img_pam_reader *r, int fd,
	const sit_img_limits *lim, sit_err *e);
/* ROW holds width * channels samples of h.depth bits. */
int sit_img_pam_read_row(sit_img_pam_reader *r, void *row, sit_err *e);
void sit_img_pam_close(sit_img_pam_reader *r);

/* ---- metadata --------------------------------------------------------- */

/* Write BUF without metadata, losslessly (no re-encoding).  JPEG: drops
 * APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), COM and anything after EOI;
 * keeps JFIF APP0, ICC APP2, Adobe APP14 and every coding segment.  PNG:
 * drops tEXt, zTXt, iTXt, tIME, eXIf and anything after IEND; keeps every
 * other chunk (PLTE, tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, ...).  Other
 * formats are written unchanged.  The structure is checked on the way
 * (EX_DATAERR for truncated or corrupt files). */
int sit_img_strip(const unsigned char *buf, size_t len, sit_img_format f,
	const sit_img_sink *sink, sit_err *e);

#endif
