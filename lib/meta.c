/* meta.c - PNG chunk and JPEG segment walkers: structure checks that
 * stb_image does not make, and lossless metadata removal (--strip).
 *
 * Both walkers go through the file once, bounding every length by what is
 * left of the buffer before using it.  In strip mode they copy the file to
 * the sink in runs, leaving out the dropped pieces, so that the kept bytes
 * (and therefore the decoded pixels) are exactly the original ones.
 */
#include <string.h>

#include "cksum.h"
#include "img_int.h"

/* Copying in runs: everything from RUN up to the start of a dropped piece
 * is written, then the run restarts after it. */
typedef struct copier {
	const sit_img_sink *sink;       /* NULL: check only */
	const unsigned char *buf;
	size_t run;
} copier;

static int
copy_upto(copier *c, size_t end, sit_err *e)
{
	int rc = 0;

	if (c->sink != NULL && end > c->run)
		rc = sit_img_emit(c->sink, c->buf + c->run, end - c->run, e);
	c->run = end;
	return rc;
}

static int
drop(copier *c, size_t start, size_t end, sit_err *e)
{
	if (copy_upto(c, start, e) < 0)
		return -1;
	c->run = end;
	return 0;
}

/* ---- PNG -------------------------------------------------------------- */

static int
png_dropped(const unsigned char *type)
{
	static const char *const meta[] = { "tEXt", "zTXt", "iTXt", "tIME", "eXIf" };

	for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
		if (memcmp(type, meta[i], 4) == 0)
			return 1;
	return 0;
}

static int
png_type_ok(const unsigned char *t)
{
	for (int i = 0; i < 4; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
			return 0;
	return 1;
}

/* Check one chunk at POS (its length already bounded by the caller). */
static int
png_chunk_ok(const unsigned char *buf, size_t pos, uint32_t n, int first, sit_err *e)
{
	const unsigned char *type = buf + pos + 4;
	uint32_t crc = sit_img_get32be(buf + pos + 8 + n);

	if (!png_type_ok(type))
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad chunk type at byte %zu", pos);
	if (sit_cksum_crc32(SIT_CKSUM_CRC32_INIT, type, 4 + (size_t)n) != crc)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: CRC error in the %.4s chunk", type);
	if (first != (memcmp(type, "IHDR", 4) == 0))
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: IHDR is not the first chunk");
	if (first && n != 13)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: IHDR of %u bytes", n);
	return 0;
}

int
sit_img_png_walk(const unsigned char *buf, size_t len, const sit_img_sink *sink, sit_err *e)
{
	copier c = { sink, buf, 0 };
	size_t pos = 8;
	int idat = 0;

	if (len < 8 || memcmp(buf, "\x89PNG\r\n\x1a\n", 8) != 0)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad signature");
	for (;;) {
		uint32_t n;
		const unsigned char *type;

		if (len - pos < 12)
			return sit_err_set(e, EX_DATAERR, "truncated PNG: it ends before IEND");
		n = sit_img_get32be(buf + pos);
		if (n > INT32_MAX)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: chunk length %u", n);
		if (n > len - pos - 12)
			return sit_err_set(e, EX_DATAERR, "truncated PNG: it ends inside a chunk");
		if (png_chunk_ok(buf, pos, n, pos == 8, e) < 0)
			return -1;
		type = buf + pos + 4;
		if (memcmp(type, "IDAT", 4) == 0)
			idat = 1;
		if (png_dropped(type) && drop(&c, pos, pos + 12 + (size_t)n, e) < 0)
			return -1;
		pos += 12 + (size_t)n;
		if (memcmp(type, "IEND", 4) == 0)
			break;
	}
	if (!idat)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: no IDAT chunk");
	/* Anything after IEND is not part of the image: not copied. */
	return copy_upto(&c, pos, e);
}

/* ---- JPEG ------------------------------------------------------------- */

#define M_SOI 0xd8
#define M_EOI 0xd9
#define M_SOS 0xda
#define M_DHT 0xc4
#define M_APP0 0xe0
#define M_APP2 0xe2
#define M_APP14 0xee
#define M_COM 0xfe

static int
is_rst(int m)
{
	return m >= 0xd0 && m <= 0xd7;
}

/* Does the segment (marker M, payload P of N bytes) stay when stripping?
 * Only what changes how the pixels look: JFIF/JFXX APP0 (colour model),
 * ICC profile APP2, Adobe APP14 (colour transform), and every non-APP,
 * non-COM segment (tables, frame, scan headers).  Every other APPn is
 * metadata: EXIF/XMP APP1, MPF/FlashPix APP2, IPTC APP13, maker data. */
static int
jpeg_kept(int m, const unsigned char *p, size_t n)
{
	if (m == M_COM)
		return 0;
	if (m < M_APP0 || m > 0xef)
		return 1;
	if (m == M_APP0)
		return (n >= 5 && memcmp(p, "JFIF\0", 5) == 0) || (n >= 5 && memcmp(p, "JFXX\0", 5) == 0);
	if (m == M_APP2)
		return n >= 12 && memcmp(p, "ICC_PROFILE\0", 12) == 0;
	if (m == M_APP14)
		return n >= 5 && memcmp(p, "Adobe", 5) == 0;
	return 0;
}

/* Skip entropy-coded data from POS: up to a marker that is neither a
 * stuffed 0xFF00 nor a restart marker.  Returns its position (at 0xFF) or
 * LEN when the data runs to the end. */
static size_t
skip_scan(const unsigned char *buf, size_t len, size_t pos)
{
	while (pos < len) {
		const unsigned char *ff = memchr(buf + pos, 0xff, len - pos);
		int m;

		if (ff == NULL || (size_t)(ff - buf) + 1 >= len)
			return len;
		pos = (size_t)(ff - buf);
		m = buf[pos + 1];
		if (m != 0 && m != 0xff && !is_rst(m))
			return pos;
		pos += m == 0xff ? 1 : 2;       /* fill byte, stuffing, restart */
	}
	return len;
}

#define M_END (-1)          /* input ends where a marker should be */
#define M_BAD (-2)          /* something else where a marker should be */

/* Read the marker at POS, skipping fill bytes. */
static int
next_marker(const unsigned char *buf, size_t len, size_t *pos)
{
	while (*pos + 1 < len && buf[*pos] == 0xff && buf[*pos + 1] == 0xff)
		(*pos)++;
	if (*pos + 1 >= len)
		return M_END;
	if (buf[*pos] != 0xff || buf[*pos + 1] == 0)
		return M_BAD;
	*pos += 2;
	return buf[*pos - 1];
}

/* A DHT segment: tables of a class/id byte, 16 code counts and as many
 * values as the counts add up to, at most 256.  stb_image 2.27 (Debian 12)
 * does not check that sum and writes past its tables when it is larger, so
 * every DHT is checked here before stb sees the file. */
static int
dht_ok(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t sum = 0;

		if (n < 17 || (p[0] >> 4) > 1 || (p[0] & 15) > 3)
			return 0;
		for (int i = 1; i <= 16; i++)
			sum += p[i];
		if (sum > 256 || sum > n - 17)
			return 0;
		p += 17 + sum;
		n -= 17 + sum;
	}
	return 1;
}

int
sit_img_jpeg_walk(const unsigned char *buf, size_t len, const sit_img_sink *sink, sit_err *e)
{
	copier c = { sink, buf, 0 };
	size_t pos = 2;

	if (len < 2 || buf[0] != 0xff || buf[1] != M_SOI)
		return sit_err_set(e, EX_DATAERR, "corrupt JPEG: no start-of-image marker");
	for (;;) {
		size_t start = pos, n;
		int m = next_marker(buf, len, &pos);

		if (m == M_END)
			return sit_err_set(e, EX_DATAERR, "truncated JPEG: no end-of-image marker");
		if (m == M_BAD || m == M_SOI)
			return sit_err_set(e, EX_DATAERR, "corrupt JPEG: bad marker at byte %zu", start);
		if (m == M_EOI)
			break;
		if (is_rst(m) || m == 0x01)     /* standalone markers, no length */
			continue;
		if (len - pos < 2)
			return sit_err_set(e, EX_DATAERR, "truncated JPEG: inside a segment header");
		n = sit_img_get16be(buf + pos);
		if (n < 2)
			return sit_err_set(e, EX_DATAERR, "corrupt JPEG: segment length %zu", n);
		if (n > len - pos)
			return sit_err_set(e, EX_DATAERR, "truncated JPEG: it ends inside a segment");
		if (m == M_DHT && !dht_ok(buf + pos + 2, n - 2))
			return sit_err_set(e, EX_DATAERR, "corrupt JPEG: bad Huffman table at byte %zu", start);
		if (!jpeg_kept(m, buf + pos + 2, n - 2) && drop(&c, start, pos + n, e) < 0)
			return -1;
		pos += n;
		if (m == M_SOS)
			pos = skip_scan(buf, len, pos);
	}
	/* Anything after EOI (phone makers' trailers, appended files) is not
	 * part of the image: not copied. */
	return copy_upto(&c, pos, e);
}

/* ---- stripping -------------------------------------------------------- */

int
sit_img_strip(const unsigned char *buf, size_t len, sit_img_format f,
	const sit_img_sink *sink, sit_err *e)
{
	if (f == SIT_IMG_PNG)
		return sit_img_png_walk(buf, len, sink, e);
	if (f == SIT_IMG_JPEG)
		return sit_img_jpeg_walk(buf, len, sink, e);
	return sit_img_emit(sink, buf, len, e);
}
