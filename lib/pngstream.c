/* pngstream.c - PNG samples streamed, their deflate blocks stored or
 * inflated as they come (see pngstream.h).
 *
 * Three layers, each pulling from the one below:
 *   input    a buffer filled by single reads of what is there;
 *   chunks   length, type, data (CRC-32 over type and data), CRC;
 *   zlib     the IDAT data of every IDAT chunk as one stream: header,
 *            stored or compressed blocks (Adler-32 over what they hold),
 *            Adler-32;
 * and on top the rows: a filter byte, then the filtered samples, undone a
 * byte at a time as they arrive (so a caller never waits for a whole row).
 *
 * What stb_image accepts or refuses, we accept or refuse the same way where
 * the file is valid PNG; we are stricter where stb_image does not look
 * (the Adler-32, data after the zlib stream, data after IEND).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cksum.h"
#include "img_int.h"
#include "pngstream.h"

#define STREAM_BUF (64 * 1024)  /* one pipe's worth, and one FAST block */
#define WINDOW (32 * 1024)      /* deflate's farthest back-reference */
#define RING (2 * WINDOW)       /* inflated bytes kept: see inflate_some() */
#define RING_MASK ((uint64_t)RING - 1)
#define CHUNK_MAX 0x7fffffffu   /* PNG: chunk lengths are at most 2^31-1 */
#define PLTE_MAX (256 * 3)
#define HUFF_BITS 15            /* deflate's longest code */
#define LIT_MAX 288             /* literal/length symbols (286, 287 unused) */
#define DIST_MAX 32             /* distance symbols (30, 31 unused) */
#define FAST_BITS 9             /* codes this short: one table look-up */

/* A canonical Huffman code: how many codes of each length, and the
 * symbols in code order; and for the next FAST_BITS bits of input, the
 * symbol whose code they start with and its length (length << 9 | symbol;
 * 0 when the code is longer). */
struct huff {
	unsigned short count[HUFF_BITS + 1];
	unsigned short symbol[LIT_MAX];
	unsigned short fast[1 << FAST_BITS];
};

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
	uint32_t crc;           /* over its type and the data before in[crc_beg] */
	size_t crc_beg;         /* in[crc_beg..beg): consumed, not yet summed */
	/* zlib */
	uint32_t bitbuf;        /* bits of the image data read, not used */
	unsigned bitcnt;
	uint32_t block_left;    /* stored bytes left in the current block */
	int final;              /* the current block is the last one */
	int btype;              /* 1, 2: inside a compressed block; else 0 */
	struct huff lit, dist;  /* its codes */
	uint32_t adler;
	uint64_t raw_done;      /* bytes of the inflated stream consumed */
	uint64_t produced;      /* and inflated (more only in a compressed block) */
	unsigned char *window;  /* the last RING bytes inflated, a ring */
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

/* The chunk's CRC over what has been consumed.  Summed in runs rather than
 * as each byte is taken: the inflater takes its input a byte at a time. */
static void
crc_sync(sit_pngs *s)
{
	s->crc = sit_cksum_crc32(s->crc, s->in + s->crc_beg, s->beg - s->crc_beg);
	s->crc_beg = s->beg;
}

/* One read of what is there; 1 got some, 0 at the end, -1 error. */
static int
fill(sit_pngs *s, sit_err *e)
{
	ssize_t n;

	if (s->eof)
		return 0;
	if (!s->keep && s->beg > 0) {
		crc_sync(s);
		memmove(s->in, s->in + s->beg, s->end - s->beg);
		s->end -= s->beg;
		s->beg = s->crc_beg = 0;
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

/* N bytes of the current chunk's data, at the buffer's start, consumed
 * (summed by crc_sync()). */
static void
take(sit_pngs *s, size_t n)
{
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
	s->crc_beg = s->beg;
	return 0;
}

/* The CRC after the chunk's data, all of which has been consumed. */
static int
chunk_end(sit_pngs *s, sit_err *e)
{
	crc_sync(s);
	if (need(s, 4, e) < 0)
		return -1;
	if (sit_img_get32be(s->in + s->beg) != s->crc)
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: CRC error in the %.4s chunk",
			(const char *)s->type);
	s->beg += 4;
	s->crc_beg = s->beg;
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

/* Bits of the image data, least significant first (deflate's order), N at
 * most 13.  A byte is read only when a bit of it is needed, so fewer than 8
 * are ever left over: dropping them aligns to the next byte. */
static int
bits(sit_pngs *s, unsigned n, sit_err *e)
{
	int v;

	while (s->bitcnt < n) {
		int c;

		if (s->left > 0 && s->beg < s->end) {   /* at hand */
			c = s->in[s->beg];
			take(s, 1);
		} else if ((c = idat_byte(s, e)) < 0) {
			return -1;
		}
		s->bitbuf |= (uint32_t)c << s->bitcnt;
		s->bitcnt += 8;
	}
	v = (int)(s->bitbuf & ((1u << n) - 1));
	s->bitbuf >>= n;
	s->bitcnt -= n;
	return v;
}

/* The look-up table of H's short codes.  Codes of a length are consecutive
 * numbers, the shorter ones first; they arrive most significant bit first,
 * so each is entered bit-reversed, under every value of the bits after it. */
static void
huff_fast(struct huff *h, const unsigned char *len, unsigned n)
{
	unsigned next[HUFF_BITS + 2], code = 0;

	memset(h->fast, 0, sizeof h->fast);
	for (unsigned l = 1; l <= HUFF_BITS; l++) {
		next[l] = code;
		code = (code + h->count[l]) << 1;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned l = len[i], c, r = 0;

		if (l == 0)
			continue;
		c = next[l]++;
		if (l > FAST_BITS)
			continue;
		for (unsigned b = 0; b < l; b++)
			r |= ((c >> b) & 1) << (l - 1 - b);
		for (; r < (1u << FAST_BITS); r += 1u << l)
			h->fast[r] = (unsigned short)(l << 9 | i);
	}
}

/* A canonical Huffman code from the code lengths LEN[0..n): the number of
 * codes of each length and the symbols in code order.  Over-subscribed
 * lengths are refused (as stb_image does); an incomplete code is not, but
 * its unused codes are refused where they occur (as stb_image does). */
static int
huff_build(struct huff *h, const unsigned char *len, unsigned n, sit_err *e)
{
	unsigned short offs[HUFF_BITS + 2];
	int left = 1;

	memset(h->count, 0, sizeof h->count);
	for (unsigned i = 0; i < n; i++)
		h->count[len[i]]++;
	h->count[0] = 0;
	for (unsigned l = 1; l <= HUFF_BITS; l++) {
		left = left * 2 - h->count[l];
		if (left < 0)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad Huffman code lengths");
	}
	offs[1] = 0;
	for (unsigned l = 1; l <= HUFF_BITS; l++)
		offs[l + 1] = (unsigned short)(offs[l] + h->count[l]);
	for (unsigned i = 0; i < n; i++)
		if (len[i] != 0)
			h->symbol[offs[len[i]]++] = (unsigned short)i;
	huff_fast(h, len, n);
	return 0;
}

/* One symbol.  Most codes are short: the next FAST_BITS bits, those not
 * yet taken from the input buffer peeked at (within the chunk, without
 * consuming them, so that no byte is taken before it is needed), look it
 * up at once.  Else a bit at a time: codes of each length are consecutive
 * numbers, the shorter ones first (RFC 1951, 3.2.2). */
static int
huff_decode(sit_pngs *s, const struct huff *h, sit_err *e)
{
	int code = 0, first = 0, index = 0;
	uint32_t v = s->bitbuf;
	unsigned n = s->bitcnt;
	size_t avail = s->end - s->beg, k = 0;

	if (avail > s->left)
		avail = s->left;
	for (; n < FAST_BITS && k < avail; n += 8, k++)
		v |= (uint32_t)s->in[s->beg + k] << n;
	if (n >= FAST_BITS) {
		unsigned f = h->fast[v & ((1u << FAST_BITS) - 1)];

		if (f != 0)
			return bits(s, f >> 9, e) < 0 ? -1 : (int)(f & 511);
	}
	for (unsigned l = 1; l <= HUFF_BITS; l++) {
		int b = bits(s, 1, e), count;

		if (b < 0)
			return -1;
		code |= b;
		count = h->count[l];
		if (code - first < count)
			return h->symbol[index + code - first];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad Huffman code");
}

/* The codes of a fixed-Huffman block (RFC 1951, 3.2.6); the distance code
 * has 32 symbols, 30 and 31 refused where they occur (as stb_image). */
static int
huff_fixed(sit_pngs *s, sit_err *e)
{
	unsigned char len[LIT_MAX + DIST_MAX];
	unsigned i = 0;

	for (; i < 144; i++)
		len[i] = 8;
	for (; i < 256; i++)
		len[i] = 9;
	for (; i < 280; i++)
		len[i] = 7;
	for (; i < LIT_MAX; i++)
		len[i] = 8;
	memset(len + LIT_MAX, 5, DIST_MAX);
	if (huff_build(&s->lit, len, LIT_MAX, e) < 0)
		return -1;
	return huff_build(&s->dist, len + LIT_MAX, DIST_MAX, e);
}

/* The code lengths of a dynamic block, coded with a code of their own
 * (RFC 1951, 3.2.7). */
static int
huff_dynamic(sit_pngs *s, sit_err *e)
{
	static const unsigned char order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
		11, 4, 12, 3, 13, 2, 14, 1, 15 };
	unsigned char len[LIT_MAX + DIST_MAX], cl[19] = { 0 };
	struct huff clh;
	int nlit, ndist, ncl;
	unsigned n = 0;

	if ((nlit = bits(s, 5, e)) < 0 || (ndist = bits(s, 5, e)) < 0 ||
	    (ncl = bits(s, 4, e)) < 0)
		return -1;
	nlit += 257;
	ndist += 1;
	ncl += 4;
	for (int i = 0; i < ncl; i++) {
		int v = bits(s, 3, e);

		if (v < 0)
			return -1;
		cl[order[i]] = (unsigned char)v;
	}
	if (huff_build(&clh, cl, 19, e) < 0)
		return -1;
	while (n < (unsigned)(nlit + ndist)) {
		int sym = huff_decode(s, &clh, e), rep, v = 0;

		if (sym < 0)
			return -1;
		if (sym < 16) {
			len[n++] = (unsigned char)sym;
			continue;
		}
		if (sym == 16) {
			if (n == 0)
				return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad Huffman "
					"code lengths");
			v = len[n - 1];
			rep = bits(s, 2, e);
			rep = rep < 0 ? rep : rep + 3;
		} else if (sym == 17) {
			rep = bits(s, 3, e);
			rep = rep < 0 ? rep : rep + 3;
		} else {
			rep = bits(s, 7, e);
			rep = rep < 0 ? rep : rep + 11;
		}
		if (rep < 0)
			return -1;
		if ((unsigned)rep > (unsigned)(nlit + ndist) - n)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad Huffman code lengths");
		memset(len + n, v, (size_t)rep);
		n += (unsigned)rep;
	}
	if (huff_build(&s->lit, len, (unsigned)nlit, e) < 0)
		return -1;
	return huff_build(&s->dist, len + nlit, (unsigned)ndist, e);
}

/* The next block's header: a stored block's lengths, or a compressed
 * block's codes. */
static int
block_header(sit_pngs *s, sit_err *e)
{
	int h, b[4];
	unsigned len, nlen;

	if ((h = bits(s, 3, e)) < 0)
		return -1;
	s->final = h & 1;
	s->btype = h >> 1;
	switch (s->btype) {
	case 0:
		break;
	case 1:
		return huff_fixed(s, e);
	case 2:
		return huff_dynamic(s, e);
	default:
		return sit_err_set(e, EX_DATAERR, "corrupt PNG: invalid deflate block type");
	}
	/* A stored block starts at the next byte. */
	s->bitbuf = 0;
	s->bitcnt = 0;
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

/* ---- a compressed block ---------------------------------------------- */

/* Inflate into the ring, after what is not yet handed out, until WINDOW
 * bytes wait there or the block ends.  The ring holds twice WINDOW, so the
 * bytes a back-reference reaches and those waiting never overlap the ones
 * being written; memory stays at the ring whatever the image's size. */
static int
inflate_some(sit_pngs *s, sit_err *e)
{
	static const unsigned short lbase[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13,
		15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
		227, 258 };
	static const unsigned char lextra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1,
		1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
	static const unsigned short dbase[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25,
		33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
		4097, 6145, 8193, 12289, 16385, 24577 };
	static const unsigned char dextra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4,
		4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

	while (s->produced - s->raw_done < WINDOW) {
		int sym = huff_decode(s, &s->lit, e), x;
		unsigned len, dist;

		if (sym < 0)
			return -1;
		if (sym < 256) {
			s->window[s->produced++ & RING_MASK] = (unsigned char)sym;
			continue;
		}
		if (sym == 256) {
			s->btype = 0;   /* the block has ended */
			return 0;
		}
		if ((sym -= 257) >= 29)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad length code");
		if ((x = bits(s, lextra[sym], e)) < 0)
			return -1;
		len = lbase[sym] + (unsigned)x;
		if ((sym = huff_decode(s, &s->dist, e)) < 0)
			return -1;
		if (sym >= 30)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: bad distance code");
		if ((x = bits(s, dextra[sym], e)) < 0)
			return -1;
		dist = dbase[sym] + (unsigned)x;
		if (dist > s->produced)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: distance %u "
				"before the start of the image data", dist);
		/* Byte by byte: source and copy may overlap (a run). */
		for (; len > 0; len--, s->produced++)
			s->window[s->produced & RING_MASK] =
				s->window[(s->produced - dist) & RING_MASK];
	}
	return 0;
}

/* ---- the inflated stream --------------------------------------------- */

/* At least one byte of inflated data at *P; how many. */
static ssize_t
stored_some(sit_pngs *s, const unsigned char **p, sit_err *e)
{
	ssize_t n;

	for (;;) {
		if (s->produced > s->raw_done) {        /* inflated, waiting */
			size_t at = (size_t)(s->raw_done & RING_MASK);
			uint64_t k = s->produced - s->raw_done;

			*p = s->window + at;
			return (ssize_t)(k < RING - at ? k : RING - at);
		}
		if (s->btype != 0) {
			if (inflate_some(s, e) < 0)
				return -1;
			continue;
		}
		if (s->block_left > 0)
			break;
		if (s->final)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: too little image data "
				"(%u of %u rows)", s->row, s->height);
		if (block_header(s, e) < 0)
			return -1;
	}
	if ((n = idat_some(s, e)) < 0)
		return -1;
	*p = s->in + s->beg;
	return (size_t)n < s->block_left ? n : (ssize_t)s->block_left;
}

/* Keep the last WINDOW bytes of a stored block's data in the ring, where a
 * later compressed block may refer back to them. */
static void
window_add(sit_pngs *s, const unsigned char *p, size_t n)
{
	if (n > WINDOW) {
		p += n - WINDOW;
		s->raw_done += n - WINDOW;
		n = WINDOW;
	}
	while (n > 0) {
		size_t at = (size_t)(s->raw_done & RING_MASK);
		size_t k = RING - at < n ? RING - at : n;

		memcpy(s->window + at, p, k);
		p += k;
		n -= k;
		s->raw_done += k;
	}
	s->produced = s->raw_done;
}

/* N bytes of what stored_some() gave consumed. */
static void
stored_take(sit_pngs *s, size_t n)
{
	if (s->produced > s->raw_done) {
		s->adler = sit_cksum_adler32(s->adler, s->window +
			(size_t)(s->raw_done & RING_MASK), n);
		s->raw_done += n;
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

/* After the last sample: the rest of the current block and any blocks up
 * to the final one must hold nothing, then the Adler-32, from the next
 * byte. */
static int
zlib_end(sit_pngs *s, sit_err *e)
{
	uint32_t want = 0;

	for (;;) {
		if (s->block_left > 0 || s->produced > s->raw_done)
			return sit_err_set(e, EX_DATAERR, "corrupt PNG: more image data than "
				"the image holds");
		if (s->btype != 0) {
			if (inflate_some(s, e) < 0)
				return -1;
			continue;
		}
		if (s->final)
			break;
		if (block_header(s, e) < 0)
			return -1;
	}
	s->bitbuf = 0;
	s->bitcnt = 0;
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
	if ((rc = zlib_end(s, e)) != 0 || (rc = chunks_end(s, e)) != 0 ||
	    (rc = iend_end(s, e)) != 0)
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

/* Signature, IHDR, the chunks before the first IDAT and the zlib header:
 * SIT_PNGS_STREAM, SIT_PNGS_WHOLE or -1. */
static int
decide(sit_pngs *s, const sit_img_limits *lim, sit_err *e)
{
	int rc;

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
	/* Whatever its blocks, stored or compressed, the stream is read as
	 * it comes: inflating it whole would take memory for every sample
	 * before the first could be looked at (a 437 KB PNG of zeros holds
	 * 450 MB of them). */
	if (zlib_header(s, e) < 0)
		return -1;
	return SIT_PNGS_STREAM;
}

/* From keeping every byte to streaming through a fixed buffer. */
static int
start_streaming(sit_pngs *s, sit_err *e)
{
	size_t cap;
	unsigned char *p;

	s->keep = 0;
	crc_sync(s);
	memmove(s->in, s->in + s->beg, s->end - s->beg);
	s->end -= s->beg;
	s->beg = s->crc_beg = 0;
	cap = s->end > STREAM_BUF ? s->end : STREAM_BUF;
	if (cap != s->cap) {
		if ((p = realloc(s->in, cap)) == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory reading the PNG");
		s->in = p;
		s->cap = cap;
	}
	s->cur = malloc(s->row_bytes);
	s->prev = calloc(1, s->row_bytes);
	s->window = malloc(RING);
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
	free(s);
}
