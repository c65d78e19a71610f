/* pngstream.c - PNG samples streamed from stored deflate blocks (see
 * pngstream.h).
 *
 * Three layers, each pulling from the one below:
 *   input    a buffer filled by single reads of what is there;
 *   chunks   length, type, data (CRC-32 over type and data), CRC;
 *   zlib     the IDAT data of every IDAT chunk as one stream: header,
 *            stored blocks (Adler-32 over their contents), Adler-32;
 * and on top the rows: a filter byte, then the filtered samples, undone a
 * byte at a time as they arrive (so a caller never waits for a whole row).
 *
 * What stb_image accepts or refuses, we accept or refuse the same way where
 * the file is valid PNG; we are stricter where stb_image does not look
 * (the Adler-32, data after the zlib stream, data after IEND).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "cksum.h"
#include "img_int.h"
#include "pngstream.h"

#define STREAM_BUF (64 * 1024)  /* one pipe's worth, and one FAST block */
#define WINDOW (32 * 1024)      /* deflate's farthest back-reference */
#define CHUNK_MAX 0x7fffffffu   /* PNG: chunk lengths are at most 2^31-1 */
#define PLTE_MAX (256 * 3)
#define MIXED (-2)              /* block_header(): a compressed block */

static const unsigned char png_signature[8] = { 137, 'P', 'N', 'G', '\r', '\n', 26, '\n' };

struct sit_pngs {
	sit_pngs_src src;
	/* input: in[beg..end) not yet consumed */
	unsigned char *in;
	size_t beg, end, cap;
	int keep;               /* before the decision: consumed bytes stay */
	int eof;
	/* the current chunk */
	unsigned char type[4];
	uint32_t left;          /* data bytes not yet consumed */
	uint32_t crc;           /* over its type and the data consumed */
	/* zlib */
	uint32_t block_left;    /* stored bytes left in the current block */
	int final;              /* the current block is the last one */
	int btype_byte;         /* a compressed block's first byte, read */
	uint32_t adler;
	uint64_t raw_done;      /* bytes of the inflated stream consumed */
	unsigned char *window;  /* its last WINDOW bytes, a ring */
	size_t window_len;
	/* After a compressed block: the rest inflated in memory. */
	unsigned char *tail;
	size_t tail_pos, tail_end;
	/* rows */
	uint32_t width, height, row;    /* ROW: the current row's index */
	unsigned channels, depth;
	size_t row_bytes, bpp;
	unsigned char *cur, *prev;
	size_t done, given;     /* bytes of CUR undone, and handed out */
	int filter;             /* -1: the filter byte is next */
	int finished;
};

/* ---- input ------------------------------------------------------------ */

/* One read of what is there; 1 got some, 0 at the end, -1 error. */
static int
fill(sit_pngs *s, sit_err *e)
{
	ssize_t n;

	if (s->eof)
		return 0;
	if (!s->keep && s->beg > 0) {
		memmove(s->in, s->in + s->beg, s->end - s->beg);
		s->end -= s->beg;
		s->beg = 0;
	}
	if (s->end == s->cap) {
		size_t cap = s->cap < STREAM_BUF ? STREAM_BUF : s->cap * 2;
		unsigned char *p;

		/* Streaming, at most 13 bytes are ever needed at once. */
		if (!s->keep)
			return sit_err_set(e, EX_SOFTWARE, "PNG reader: input buffer full");
		if (s->cap >= s->src.max_keep)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: more than %zu bytes "
				"before the image data", s->src.max_keep);
		if (cap > s->src.max_keep)
			cap = s->src.max_keep;
		if ((p = realloc(s->in, cap)) == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory reading the PNG");
		s->in = p;
		s->cap = cap;
	}
	n = s->src.read(s->src.ctx, s->in + s->end, s->cap - s->end);
	if (n < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read");
	if (n == 0) {
		s->eof = 1;
		return 0;
	}
	s->end += (size_t)n;
	return 1;
}

/* At least N bytes in the buffer (N small), or "truncated". */
static int
need(sit_pngs *s, size_t n, sit_err *e)
{
	while (s->end - s->beg < n) {
		int rc = fill(s, e);

		if (rc < 0)
			return -1;
		if (rc == 0)
			return sit_err_set(e, EX_DATAERR, "truncated PNG: it ends before IEND");
	}
	return 0;
}

/* At least one byte in the buffer; returns how many there are. */
static ssize_t
some(sit_pngs *s, sit_err *e)
{
	if (need(s, 1, e) < 0)
		return -1;
	return (ssize_t)(s->end - s->beg);
}

/* ---- chunks ----------------------------------------------------------- */

static int
is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
type_is(const sit_pngs *s, const char *t)
{
	return memcmp(s->type, t, 4) == 0;
}

/* A chunk the first letter of whose type is upper case must be understood. */
static int
critical(const sit_pngs *s)
{
	return !(s->type[0] & 0x20);
}

/* N bytes of the current chunk's data, at the buffer's start, consumed. */
static void
take(sit_pngs *s, size_t n)
{
	s->crc = sit_cksum_crc32(s->crc, s->in + s->beg, n);
	s->beg += n;
	s->left -= (uint32_t)n;
}

static int
chunk_start(sit_pngs *s, sit_err *e)
{
	const unsigned char *p;
	uint32_t n;

	if (need(s, 8, e) < 0)
		return -1;
	p = s->in + s->beg;
	n = sit_img_get32be(p);
	if (n > CHUNK_MAX)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: chunk length %u", n);
	for (int i = 4; i < 8; i++)
		if (!is_letter(p[i]))
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad chunk type");
	memcpy(s->type, p + 4, 4);
	s->crc = sit_cksum_crc32(SIT_CKSUM_CRC32_INIT, p + 4, 4);
	s->left = n;
	s->beg += 8;
	return 0;
}

/* The CRC after the chunk's data, all of which has been consumed. */
static int
chunk_end(sit_pngs *s, sit_err *e)
{
	if (need(s, 4, e) < 0)
		return -1;
	if (sit_img_get32be(s->in + s->beg) != s->crc)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: CRC error in the %.4s chunk",
			(const char *)s->type);
	s->beg += 4;
	return 0;
}

static int
chunk_skip(sit_pngs *s, sit_err *e)
{
	while (s->left > 0) {
		ssize_t n = some(s, e);

		if (n < 0)
			return -1;
		take(s, (size_t)n < s->left ? (size_t)n : s->left);
	}
	return chunk_end(s, e);
}

/* A chunk that is neither IDAT nor IEND, anywhere after IHDR: refuse what
 * stb_image refuses, else skip it (its CRC checked). */
static int
chunk_other(sit_pngs *s, sit_err *e)
{
	if (type_is(s, "IHDR"))
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: multiple IHDR");
	if (type_is(s, "PLTE")) {
		if (s->left > PLTE_MAX || s->left % 3 != 0)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: invalid PLTE");
	} else if (type_is(s, "tRNS")) {
		/* Before the image data the caller decodes the whole file. */
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: tRNS after IDAT");
	} else if (critical(s)) {
		/* CgBI (Apple's) included: it changes how stb_image reads the
		 * data before it, so it is refused after it. */
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: unknown critical chunk %.4s",
			(const char *)s->type);
	}
	return chunk_skip(s, e);
}

/* The current IDAT's data is consumed: its CRC, then on to the next
 * data, across empty IDATs and ancillary chunks (stb_image joins every
 * IDAT before IEND). */
static int
idat_next(sit_pngs *s, sit_err *e)
{
	if (chunk_end(s, e) < 0)
		return -1;
	for (;;) {
		if (chunk_start(s, e) < 0)
			return -1;
		if (type_is(s, "IDAT")) {
			if (s->left > 0)
				return 0;
			if (chunk_end(s, e) < 0)
				return -1;
			continue;
		}
		if (type_is(s, "IEND"))
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: the image data ends early");
		if (chunk_other(s, e) < 0)
			return -1;
	}
}

/* ---- zlib ------------------------------------------------------------- */

/* At least one byte of IDAT data at the buffer's start; how many (within
 * the chunk). */
static ssize_t
idat_some(sit_pngs *s, sit_err *e)
{
	ssize_t n;

	if (s->left == 0 && idat_next(s, e) < 0)
		return -1;
	if ((n = some(s, e)) < 0)
		return -1;
	return (size_t)n < s->left ? n : (ssize_t)s->left;
}

static int
idat_byte(sit_pngs *s, sit_err *e)
{
	int c;

	if (idat_some(s, e) < 0)
		return -1;
	c = s->in[s->beg];
	take(s, 1);
	return c;
}

static int
zlib_header(sit_pngs *s, sit_err *e)
{
	int cmf, flg;

	if ((cmf = idat_byte(s, e)) < 0 || (flg = idat_byte(s, e)) < 0)
		return -1;
	/* stb_image's checks; it ignores the window size, and so do we. */
	if ((cmf * 256 + flg) % 31 != 0 || (flg & 32) || (cmf & 15) != 8)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad zlib header");
	return 0;
}

/* The next block's header; MIXED if the block is compressed
 * (its first byte then kept in BTYPE_BYTE). */
static int
block_header(sit_pngs *s, sit_err *e)
{
	int h, b[4];
	unsigned len, nlen;

	if ((h = idat_byte(s, e)) < 0)
		return -1;
	s->final = h & 1;
	switch ((h >> 1) & 3) {
	case 0:
		break;
	case 3:
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: invalid deflate block type");
	default:
		s->btype_byte = h;
		return MIXED;
	}
	/* A stored block's other five header bits are padding, unread. */
	for (int i = 0; i < 4; i++)
		if ((b[i] = idat_byte(s, e)) < 0)
			return -1;
	len = (unsigned)(b[0] | b[1] << 8);
	nlen = (unsigned)(b[2] | b[3] << 8);
	if (nlen != (len ^ 0xffffu))
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad stored block length "
			"(LEN %u, NLEN %u)", len, nlen);
	s->block_left = len;
	return 0;
}

/* ---- a compressed block after stored ones ---------------------------- */

/* Append N bytes to a growing buffer, at most MAX in all. */
static int
append(unsigned char **buf, size_t *len, size_t *cap, const void *p, size_t n,
	size_t max, sit_err *e)
{
	if (n > max - *len)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: more than %zu bytes of "
			"compressed image data", max);
	if (*len + n > *cap) {
		size_t c = *cap < 4096 ? 4096 : *cap;
		unsigned char *q;

		while (c < *len + n)
			c = c > max / 2 ? max : c * 2;
		if ((q = realloc(*buf, c)) == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory reading the PNG");
		*buf = q;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

/* The rest of the image data, from the compressed block's first byte
 * (read already) to the last IDAT, CRCs checked, into Z; the chunk layer
 * is left at IEND, its data not read. */
static int
collect_rest(sit_pngs *s, unsigned char **z, size_t *zlen, sit_err *e)
{
	size_t cap = 0;
	unsigned char h = (unsigned char)s->btype_byte;

	if (append(z, zlen, &cap, &h, 1, s->src.max_keep, e) < 0)
		return -1;
	for (;;) {
		while (s->left > 0) {
			ssize_t n = some(s, e);
			size_t k;

			if (n < 0)
				return -1;
			k = (size_t)n < s->left ? (size_t)n : s->left;
			if (append(z, zlen, &cap, s->in + s->beg, k, s->src.max_keep, e) < 0)
				return -1;
			take(s, k);
		}
		if (chunk_end(s, e) < 0 || chunk_start(s, e) < 0)
			return -1;
		while (!type_is(s, "IDAT") && !type_is(s, "IEND")) {
			if (chunk_other(s, e) < 0 || chunk_start(s, e) < 0)
				return -1;
		}
		if (type_is(s, "IEND"))
			return 0;
	}
}

/* Inflate the rest of the stream in memory with stb_image's inflater: a
 * stored block holding the last 32 KiB already inflated (what compressed
 * blocks may refer back to), then the rest as it is.  That stored block
 * ends on a byte boundary, as did the stored block before the compressed
 * one, so the bits line up.  Where a compressed stream ends is not known
 * without inflating it, so the Adler-32 is taken from the last four bytes
 * of the image data.  Memory: the rest of the file and what it inflates
 * to, as when the whole file is decoded (a PNG compressed by another tool
 * usually has only its zero padding, at the end, in compressed blocks). */
static int
inflate_rest(sit_pngs *s, sit_err *e)
{
	uint64_t left = (uint64_t)s->height * (s->row_bytes + 1) - s->raw_done;
	unsigned char *rest = NULL, *z = NULL, *p;
	size_t rlen = 0, wl = s->window_len, at = (size_t)(s->raw_done % WINDOW), olen;
	uint32_t want;
	const char *why;
	int n, rc = -1;

	if (collect_rest(s, &rest, &rlen, e) < 0)
		goto out;
	if (rlen < 5) {
		sit_err_set(e, EX_DATAERR, "corrupt PNG: the image data ends early");
		goto out;
	}
	if (left > INT_MAX - WINDOW - 1 || rlen > (size_t)INT_MAX - WINDOW - 5) {
		sit_err_set(e, EX_DATAERR, "corrupt PNG: too much compressed image data");
		goto out;
	}
	want = sit_img_get32be(rest + rlen - 4);
	if ((p = z = malloc(5 + wl + rlen)) == NULL ||
	    (s->tail = malloc((size_t)left + wl + 1)) == NULL) {
		sit_err_set(e, EX_OSERR, "out of memory inflating the PNG");
		goto out;
	}
	*p++ = 0;                       /* not final, stored */
	*p++ = (unsigned char)wl;
	*p++ = (unsigned char)(wl >> 8);
	*p++ = (unsigned char)~wl;
	*p++ = (unsigned char)(~wl >> 8);
	if (wl < WINDOW) {              /* the ring has not turned yet */
		memcpy(p, s->window, wl);
	} else {
		memcpy(p, s->window + at, WINDOW - at);
		memcpy(p + WINDOW - at, s->window, at);
	}
	p += wl;
	/* The Adler-32 too: stb_image refuses to decode the last codes of a
	 * stream with fewer than 16 bits of input left after them. */
	memcpy(p, rest, rlen);
	p += rlen;
	/* One byte of room past what the image holds tells "too much". */
	olen = (size_t)left + wl;
	n = stbi_zlib_decode_noheader_buffer((char *)s->tail, (int)olen + 1,
		(const char *)z, (int)(p - z));
	if (n < 0) {
		why = stbi_failure_reason();
		if (why != NULL && strcmp(why, "output buffer limit") == 0)
			sit_err_set(e, EX_DATAERR, "corrupt PNG: more image data than the "
				"image holds");
		else
			sit_err_set(e, EX_DATAERR, "corrupt PNG: compressed image data: %s",
				why != NULL ? why : "not understood");
		goto out;
	}
	if ((size_t)n != olen) {
		if ((size_t)n > olen)
			sit_err_set(e, EX_DATAERR, "corrupt PNG: more image data than the "
				"image holds");
		else
			sit_err_set(e, EX_DATAERR, "corrupt PNG: too little image data "
				"(%llu bytes short)", (unsigned long long)(olen - (size_t)n));
		goto out;
	}
	s->tail_pos = wl;
	s->tail_end = olen;
	s->adler = sit_cksum_adler32(s->adler, s->tail + wl, olen - wl);
	if (s->adler != want) {
		sit_err_set(e, EX_DATAERR, "corrupt PNG: Adler-32 mismatch in the image data");
		goto out;
	}
	rc = 0;
out:
	free(rest);
	free(z);
	if (rc < 0) {
		free(s->tail);
		s->tail = NULL;
	}
	return rc;
}

/* ---- the inflated stream --------------------------------------------- */

/* At least one byte of inflated data at *P; how many. */
static ssize_t
stored_some(sit_pngs *s, const unsigned char **p, sit_err *e)
{
	ssize_t n;

	if (s->tail != NULL) {
		if (s->tail_pos == s->tail_end)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: too little image data "
				"(%u of %u rows)", s->row, s->height);
		*p = s->tail + s->tail_pos;
		return (ssize_t)(s->tail_end - s->tail_pos);
	}
	while (s->block_left == 0) {
		int rc;

		if (s->final)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: too little image data "
				"(%u of %u rows)", s->row, s->height);
		rc = block_header(s, e);
		if (rc == MIXED) {
			if (inflate_rest(s, e) < 0)
				return -1;
			return stored_some(s, p, e);
		}
		if (rc != 0)
			return -1;
	}
	if ((n = idat_some(s, e)) < 0)
		return -1;
	*p = s->in + s->beg;
	return (size_t)n < s->block_left ? n : (ssize_t)s->block_left;
}

/* Keep the last WINDOW bytes of the inflated stream. */
static void
window_add(sit_pngs *s, const unsigned char *p, size_t n)
{
	size_t at;

	if (n > WINDOW) {
		p += n - WINDOW;
		s->raw_done += n - WINDOW;
		n = WINDOW;
	}
	at = s->raw_done % WINDOW;
	while (n > 0) {
		size_t k = WINDOW - at < n ? WINDOW - at : n;

		memcpy(s->window + at, p, k);
		p += k;
		n -= k;
		s->raw_done += k;
		at = 0;
	}
	s->window_len = s->raw_done < WINDOW ? (size_t)s->raw_done : WINDOW;
}

static void
stored_take(sit_pngs *s, size_t n)
{
	if (s->tail != NULL) {
		s->tail_pos += n;
		return;
	}
	s->adler = sit_cksum_adler32(s->adler, s->in + s->beg, n);
	window_add(s, s->in + s->beg, n);
	s->block_left -= (uint32_t)n;
	take(s, n);
}

/* ---- rows ------------------------------------------------------------- */

/* Undo filter TYPE on N bytes RAW that go to CUR from index AT; PREV is
 * the row above (zeros above the first row, which is what the first row's
 * special cases in PNG amount to). */
static void
unfilter(unsigned char *cur, const unsigned char *prev, size_t at,
	const unsigned char *raw, size_t n, size_t bpp, int type)
{
	size_t i = at, end = at + n;

	raw -= at;
	switch (type) {
	case 0:
		memcpy(cur + at, raw + at, n);
		break;
	case 1:
		for (; i < end && i < bpp; i++)
			cur[i] = raw[i];
		for (; i < end; i++)
			cur[i] = (unsigned char)(raw[i] + cur[i - bpp]);
		break;
	case 2:
		for (; i < end; i++)
			cur[i] = (unsigned char)(raw[i] + prev[i]);
		break;
	case 3:
		for (; i < end && i < bpp; i++)
			cur[i] = (unsigned char)(raw[i] + (prev[i] >> 1));
		for (; i < end; i++)
			cur[i] = (unsigned char)(raw[i] + ((cur[i - bpp] + prev[i]) >> 1));
		break;
	default:
		for (; i < end && i < bpp; i++)
			cur[i] = (unsigned char)(raw[i] + prev[i]);
		for (; i < end; i++)
			cur[i] = (unsigned char)(raw[i] + sit_img_paeth(cur[i - bpp], prev[i], prev[i - bpp]));
		break;
	}
}

/* More of the current row undone (at least one byte, or its filter type). */
static int
row_more(sit_pngs *s, sit_err *e)
{
	const unsigned char *p = NULL;
	ssize_t n = stored_some(s, &p, e);
	size_t k;

	if (n < 0)
		return -1;
	if (s->filter < 0) {
		unsigned f = p[0];

		if (f > 4)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: invalid filter type %u "
				"in row %u", f, s->row);
		s->filter = (int)f;
		stored_take(s, 1);
		return 0;
	}
	k = s->row_bytes - s->done;
	if ((size_t)n < k)
		k = (size_t)n;
	unfilter(s->cur, s->prev, s->done, p, k, s->bpp, s->filter);
	stored_take(s, k);
	s->done += k;
	return 0;
}

int
sit_pngs_get(sit_pngs *s, void *buf, size_t len, sit_err *e)
{
	unsigned char *out = buf;

	while (len > 0) {
		int rc;

		if (s->given < s->done) {
			size_t n = s->done - s->given;

			if (n > len)
				n = len;
			memcpy(out, s->cur + s->given, n);
			s->given += n;
			out += n;
			len -= n;
			continue;
		}
		if (s->done == s->row_bytes) {
			unsigned char *t = s->prev;

			if (s->row + 1 >= s->height)
				return sit_err_set(e, EX_SOFTWARE, "PNG reader: read past the image");
			s->prev = s->cur;
			s->cur = t;
			s->row++;
			s->done = s->given = 0;
			s->filter = -1;
		}
		if ((rc = row_more(s, e)) != 0)
			return rc;
	}
	return 0;
}

/* ---- the end ---------------------------------------------------------- */

/* After the last stored byte: empty blocks up to the final one (a
 * compressed one is inflated in memory, and must hold nothing), then the
 * Adler-32. */
static int
zlib_end(sit_pngs *s, sit_err *e)
{
	uint32_t want = 0;

	for (;;) {
		int rc;

		if (s->block_left > 0)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: more image data than "
				"the image holds");
		if (s->final)
			break;
		rc = block_header(s, e);
		if (rc == MIXED)
			return inflate_rest(s, e);
		if (rc != 0)
			return -1;
	}
	for (int i = 0; i < 4; i++) {
		int c = idat_byte(s, e);

		if (c < 0)
			return -1;
		want = want << 8 | (uint32_t)c;
	}
	if (want != s->adler)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: Adler-32 mismatch in the "
			"image data");
	return 0;
}

/* After the zlib stream: nothing more in IDATs, the other chunks through
 * IEND, and nothing after it. */
static int
chunks_end(sit_pngs *s, sit_err *e)
{
	/* The zlib stream ended in this IDAT. */
	if (s->left > 0)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: data after the end of the "
			"image data");
	if (chunk_end(s, e) < 0)
		return -1;
	for (;;) {
		if (chunk_start(s, e) < 0)
			return -1;
		if (type_is(s, "IEND"))
			break;
		if (type_is(s, "IDAT")) {
			if (s->left > 0)
				return sit_err_set(e, EX_DATAERR, "corrupt PNG: data after the "
					"end of the image data");
			if (chunk_end(s, e) < 0)
				return -1;
		} else if (chunk_other(s, e) < 0) {
			return -1;
		}
	}
	return 0;
}

/* IEND has begun: its data and CRC, and nothing after it. */
static int
iend_end(sit_pngs *s, sit_err *e)
{
	/* IEND's data, if any, is not looked at (as sit_img_png_walk). */
	if (chunk_skip(s, e) < 0)
		return -1;
	if (s->end > s->beg)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: data after IEND");
	if (s->src.check_eof) {
		int rc = fill(s, e);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: data after IEND");
	}
	return 0;
}

int
sit_pngs_finish(sit_pngs *s, sit_err *e)
{
	int rc;

	if (s->finished)
		return 0;
	if (s->row + 1 != s->height || s->done != s->row_bytes || s->given != s->done)
		return sit_err_set(e, EX_SOFTWARE, "PNG reader: finished before the last sample");
	/* With the rest inflated in memory, the chunks are read to IEND. */
	if (s->tail == NULL && (rc = zlib_end(s, e)) != 0)
		return rc;
	if (s->tail == NULL && (rc = chunks_end(s, e)) != 0)
		return rc;
	if (s->tail != NULL && s->tail_pos != s->tail_end)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: more image data than the "
			"image holds");
	if ((rc = iend_end(s, e)) != 0)
		return rc;
	s->finished = 1;
	return 0;
}

/* ---- the start -------------------------------------------------------- */

/* IHDR's fields: 1 streamable (shape filled in), 0 not (the whole-file
 * decoder takes it, and says what is wrong if anything is). */
static int
ihdr_parse(sit_pngs *s, const unsigned char *p, const sit_img_limits *lim, sit_err *e)
{
	static const unsigned channels[7] = { 1, 0, 3, 0, 2, 0, 4 };
	uint32_t w = sit_img_get32be(p), h = sit_img_get32be(p + 4);
	unsigned depth = p[8], colour = p[9];

	/* The limits first, before anything is allocated for any decoder. */
	if (sit_img_check_limits(w, h, lim, e) < 0)
		return -1;
	if ((depth != 8 && depth != 16) || colour > 6 || channels[colour] == 0 ||
	    p[10] != 0 || p[11] != 0 || p[12] != 0)
		return 0;
	s->width = w;
	s->height = h;
	s->depth = depth;
	s->channels = channels[colour];
	s->bpp = s->channels * (depth / 8);
	s->row_bytes = (size_t)w * s->bpp;
	return 1;
}

/* Signature, IHDR, the chunks before the first IDAT, the zlib header and
 * the first block's header: SIT_PNGS_STREAM, SIT_PNGS_WHOLE or -1. */
static int
decide(sit_pngs *s, const sit_img_limits *lim, sit_err *e)
{
	int rc, h;

	if (need(s, 8, e) < 0)
		return -1;
	if (memcmp(s->in + s->beg, png_signature, 8) != 0)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad signature");
	s->beg += 8;
	if (chunk_start(s, e) < 0)
		return -1;
	if (!type_is(s, "IHDR"))
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: IHDR is not the first chunk");
	if (s->left != 13)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: IHDR of %u bytes", s->left);
	if (need(s, 13, e) < 0)
		return -1;
	if ((rc = ihdr_parse(s, s->in + s->beg, lim, e)) <= 0)
		return rc;
	take(s, 13);
	if (chunk_end(s, e) < 0)
		return -1;
	for (;;) {
		if (chunk_start(s, e) < 0)
			return -1;
		if (type_is(s, "IDAT"))
			break;
		if (type_is(s, "IEND"))
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: no IDAT chunk");
		if (type_is(s, "tRNS") || type_is(s, "CgBI"))
			return SIT_PNGS_WHOLE;
		if (chunk_other(s, e) < 0)
			return -1;
	}
	if (zlib_header(s, e) < 0)
		return -1;
	/* Peek at the first block's type: a compressed one is inflated by
	 * the whole-file decoder, which reads it from the start (and no row
	 * would be read before all of the file was in memory anyway). */
	if (idat_some(s, e) < 0)
		return -1;
	h = s->in[s->beg];
	if (((h >> 1) & 3) != 0)
		return SIT_PNGS_WHOLE;
	return SIT_PNGS_STREAM;
}

/* From keeping every byte to streaming through a fixed buffer. */
static int
start_streaming(sit_pngs *s, sit_err *e)
{
	size_t cap;
	unsigned char *p;

	s->keep = 0;
	memmove(s->in, s->in + s->beg, s->end - s->beg);
	s->end -= s->beg;
	s->beg = 0;
	cap = s->end > STREAM_BUF ? s->end : STREAM_BUF;
	if (cap != s->cap) {
		if ((p = realloc(s->in, cap)) == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory reading the PNG");
		s->in = p;
		s->cap = cap;
	}
	s->cur = malloc(s->row_bytes);
	s->prev = calloc(1, s->row_bytes);
	s->window = malloc(WINDOW);
	if (s->cur == NULL || s->prev == NULL || s->window == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory for %zu-byte PNG rows",
			s->row_bytes);
	s->adler = SIT_CKSUM_ADLER32_INIT;
	s->filter = -1;
	return 0;
}

int
sit_pngs_open(sit_pngs **sp, const sit_pngs_src *src, unsigned char **buf,
	size_t *len, size_t *cap, const sit_img_limits *lim, sit_img_header *h,
	sit_err *e)
{
	sit_pngs *s = calloc(1, sizeof *s);
	int rc;

	*sp = NULL;
	if (s == NULL) {
		free(*buf);
		*buf = NULL;
		return sit_err_set(e, EX_OSERR, "out of memory");
	}
	s->src = *src;
	s->in = *buf;
	s->end = *len;
	s->cap = *cap;
	s->keep = 1;
	*buf = NULL;
	rc = decide(s, lim, e);
	if (rc == SIT_PNGS_WHOLE) {
		*buf = s->in;
		*len = s->end;
		*cap = s->cap;
		s->in = NULL;
		sit_pngs_free(s);
		return SIT_PNGS_WHOLE;
	}
	if (rc < 0 || start_streaming(s, e) < 0) {
		sit_pngs_free(s);
		return -1;
	}
	memset(h, 0, sizeof *h);
	h->format = SIT_IMG_PNG;
	h->width = s->width;
	h->height = s->height;
	h->channels = s->channels;
	h->depth = s->depth;
	*sp = s;
	return SIT_PNGS_STREAM;
}

void
sit_pngs_free(sit_pngs *s)
{
	if (s == NULL)
		return;
	free(s->in);
	free(s->cur);
	free(s->prev);
	free(s->window);
	free(s->tail);
	free(s);
}
