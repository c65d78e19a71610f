/* png.c - the PNG writer: IHDR, IDAT, IEND written by hand.
 *
 * Why not stbi_write_png(): it writes only 8-bit PNGs, picks filters and
 * the deflate function through process-wide settings, and wants the whole
 * image in memory.  Here the chunks are ours and the deflate stream is
 * either stb_image_write's compressor (stbi_zlib_compress) over adaptively
 * filtered rows, or, for noise images that cannot compress, stored blocks
 * of unfiltered rows streamed as they come, so that the cost is little more
 * than the CRC-32 and Adler-32 passes the format requires.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "cksum.h"
#include "img_int.h"

/* stb_image_write defines this (in stb.c) but declares it only inside its
 * implementation section; same signature as there. */
unsigned char *stbi_zlib_compress(unsigned char *data, int data_len, int *out_len,
	int quality);

#define STORED_MAX 65535u       /* largest stored deflate block */
#define ZHDR 2                  /* zlib header: CMF, FLG */
#define BHDR 5                  /* stored block header: BFINAL/BTYPE, LEN, NLEN */
#define ZLIB_LEVEL 8            /* stb_image_write's own default */

static const unsigned char png_signature[8] = { 137, 'P', 'N', 'G', '\r', '\n', 26, '\n' };

/* One chunk: length, type, data, CRC over type and data.  LEN has been
 * bounded by the callers (at most 2^31 - 1, as PNG requires). */
static int
put_chunk(sit_img_png_writer *w, const char *type, const unsigned char *data,
	size_t len, sit_err *e)
{
	unsigned char head[8], tail[4];
	const struct iovec iov[3] = {
		{ head, sizeof head }, { (void *)data, len }, { tail, sizeof tail },
	};
	uint32_t crc;

	if (len > INT32_MAX)
		return sit_err_set(e, EX_SOFTWARE, "PNG chunk too large");
	sit_img_put32be(head, (uint32_t)len);
	memcpy(head + 4, type, 4);
	crc = sit_cksum_crc32(SIT_CKSUM_CRC32_INIT, head + 4, 4);
	crc = sit_cksum_crc32(crc, data, len);
	sit_img_put32be(tail, crc);
	return sit_img_emitv(&w->sink, iov, 3, e);
}

static int
put_header(sit_img_png_writer *w, sit_err *e)
{
	/* Colour types by channel count: grey 0, grey+alpha 4, RGB 2, RGBA 6. */
	static const unsigned char colour_type[5] = { 0, 0, 4, 2, 6 };
	unsigned char ihdr[13];

	sit_img_put32be(ihdr, w->width);
	sit_img_put32be(ihdr + 4, w->height);
	ihdr[8] = (unsigned char)w->depth;
	ihdr[9] = colour_type[w->channels];
	ihdr[10] = 0;   /* deflate */
	ihdr[11] = 0;   /* adaptive filtering */
	ihdr[12] = 0;   /* not interlaced */
	if (sit_img_emit(&w->sink, png_signature, sizeof png_signature, e) < 0)
		return -1;
	return put_chunk(w, "IHDR", ihdr, sizeof ihdr, e);
}

/* Memory for the data buffer: FAST holds one block with room for the zlib
 * header before it and the Adler-32 after it; COMPRESS holds every
 * filtered row, which stbi_zlib_compress() takes as an int length. */
static int
alloc_buffers(sit_img_png_writer *w, sit_err *e)
{
	size_t line = w->row_bytes + 1;

	if (w->mode == SIT_IMG_PNG_FAST) {
		w->data_cap = ZHDR + BHDR + STORED_MAX + 4;
	} else {
		if (line > (size_t)INT_MAX / w->height)
			return sit_err_set(e, EX_DATAERR, "image too large for a compressed PNG "
				"(%zu bytes per row, %u rows)", line, w->height);
		w->data_cap = line * w->height;
	}
	w->row = malloc(line);
	w->prev = calloc(1, line);
	w->data = malloc(w->data_cap);
	if (w->row == NULL || w->prev == NULL || w->data == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory for the PNG writer");
	return 0;
}

int
sit_img_png_begin(sit_img_png_writer *w, const sit_img_sink *sink,
	uint32_t width, uint32_t height, unsigned channels, unsigned depth,
	sit_img_png_mode mode, sit_err *e)
{
	memset(w, 0, sizeof *w);
	if (sit_img_check_shape(width, height, channels, depth, &w->row_bytes, e) < 0)
		return -1;
	if (width > INT32_MAX || height > INT32_MAX)
		return sit_err_set(e, EX_DATAERR, "PNG sides are at most 2^31-1");
	w->sink = *sink;
	w->mode = mode;
	w->width = width;
	w->height = height;
	w->channels = channels;
	w->depth = depth;
	w->adler = SIT_CKSUM_ADLER32_INIT;
	if (alloc_buffers(w, e) < 0) {
		sit_img_png_abort(w);
		return -1;
	}
	return put_header(w, e);
}

/* ---- FAST: stored blocks --------------------------------------------- */

/* Send the pending block as one IDAT chunk.  The block's data sits at
 * data + ZHDR + BHDR; its headers are filled in in front of it. */
static int
flush_block(sit_img_png_writer *w, int final, sit_err *e)
{
	unsigned char *blk = w->data + ZHDR;
	size_t n = w->data_len, start = ZHDR, end = ZHDR + BHDR + n;

	blk[0] = final ? 1 : 0;     /* BFINAL, BTYPE 00 = stored */
	blk[1] = (unsigned char)n;
	blk[2] = (unsigned char)(n >> 8);
	blk[3] = (unsigned char)~n;
	blk[4] = (unsigned char)(~n >> 8);
	if (!w->started) {
		/* CMF 0x78: deflate, 32 KiB window; FLG 0x01 makes the pair a
		 * multiple of 31 and says "fastest", which is honest. */
		w->data[0] = 0x78;
		w->data[1] = 0x01;
		start = 0;
		w->started = 1;
	}
	if (final) {
		sit_img_put32be(w->data + end, w->adler);
		end += 4;
	}
	w->data_len = 0;
	return put_chunk(w, "IDAT", w->data + start, end - start, e);
}

static int
stored_append(sit_img_png_writer *w, const unsigned char *p, size_t len, sit_err *e)
{
	w->adler = sit_cksum_adler32(w->adler, p, len);
	while (len > 0) {
		size_t room = STORED_MAX - w->data_len;
		size_t n = len < room ? len : room;

		memcpy(w->data + ZHDR + BHDR + w->data_len, p, n);
		w->data_len += n;
		p += n;
		len -= n;
		if (w->data_len == STORED_MAX && flush_block(w, 0, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- COMPRESS: adaptive filters -------------------------------------- */

/* Filter CUR (with PREV above it) with filter TYPE into OUT; BPP is the
 * distance to the corresponding byte of the previous pixel. */
static void
filter_row(unsigned char *out, const unsigned char *cur, const unsigned char *prev,
	size_t n, size_t bpp, int type)
{
	for (size_t i = 0; i < n; i++) {
		int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i];
		int c = i >= bpp ? prev[i - bpp] : 0, pred = 0;

		switch (type) {
		case 1: pred = a; break;
		case 2: pred = b; break;
		case 3: pred = (a + b) / 2; break;
		case 4: pred = sit_img_paeth(a, b, c); break;
		default: break;
		}
		out[i] = (unsigned char)(cur[i] - pred);
	}
}

/* The usual heuristic (libpng's, stb's): the filter whose output has the
 * smallest sum of absolute values, read as signed bytes. */
static unsigned long
filter_cost(const unsigned char *p, size_t n)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (unsigned long)abs((int)(signed char)p[i]);
	return sum;
}

static void
filter_append(sit_img_png_writer *w)
{
	size_t n = w->row_bytes, bpp = w->channels * (w->depth / 8);
	unsigned char *cur = w->row + 1, *out = w->data + w->data_len;
	unsigned long best = (unsigned long)-1;
	int best_type = 0;

	for (int type = 0; type <= 4; type++) {
		unsigned long cost;

		filter_row(out + 1, cur, w->prev, n, bpp, type);
		cost = filter_cost(out + 1, n);
		if (cost < best) {
			best = cost;
			best_type = type;
		}
	}
	out[0] = (unsigned char)best_type;
	filter_row(out + 1, cur, w->prev, n, bpp, best_type);
	memcpy(w->prev, cur, n);
	w->data_len += n + 1;
}

static int
compress_and_flush(sit_img_png_writer *w, sit_err *e)
{
	int zlen = 0, rc;
	unsigned char *z;

	/* alloc_buffers() made sure data_len fits an int. */
	z = stbi_zlib_compress(w->data, (int)w->data_len, &zlen, ZLIB_LEVEL);
	if (z == NULL || zlen <= 0) {
		free(z);
		return sit_err_set(e, EX_OSERR, "out of memory compressing the PNG");
	}
	rc = put_chunk(w, "IDAT", z, (size_t)zlen, e);
	free(z);
	return rc;
}

/* ---- rows and the end ------------------------------------------------ */

int
sit_img_png_row(sit_img_png_writer *w, const void *row, sit_err *e)
{
	if (w->rows >= w->height)
		return sit_err_set(e, EX_SOFTWARE, "PNG writer: more rows than the height");
	w->row[0] = 0;  /* filter type None */
	if (w->depth == 16)
		sit_img_samples_to_be16(w->row + 1, row, w->row_bytes / 2);
	else
		memcpy(w->row + 1, row, w->row_bytes);
	w->rows++;
	if (w->mode == SIT_IMG_PNG_FAST)
		return stored_append(w, w->row, w->row_bytes + 1, e);
	filter_append(w);
	return 0;
}

/* ---- FAST, gathered: whole blocks straight from the caller ----------- */

/* The copying path above moves every byte twice (into the block buffer,
 * then to the sink) in three writes per 64 KiB block.  When the sink can
 * gather and no block is pending, whole blocks go out instead as lists of
 * pieces of the caller's buffer, between their own headers, filter bytes
 * and CRCs, many blocks per system call.  The bytes written are exactly
 * the copying path's: the same blocks, every one STORED_MAX long but the
 * final one, which _end writes from the block buffer as before. */
#define DIRECT_MIN_ROW 1024     /* shorter rows: too many pieces per block */
#define DIRECT_BLOCKS 16        /* at most this many blocks per gathered write */
#define DIRECT_IOV 1024         /* and this many pieces (Linux's IOV_MAX) */

struct direct {
	struct iovec iov[DIRECT_IOV];
	int n;
	unsigned char head[DIRECT_BLOCKS][8 + ZHDR + BHDR];
	unsigned char crc[DIRECT_BLOCKS][4];
};

static void
piece(struct direct *d, const void *p, size_t len)
{
	d->iov[d->n].iov_base = (void *)p;
	d->iov[d->n].iov_len = len;
	d->n++;
}

/* Raster bytes the next block takes (STORED_MAX stream bytes from where the
 * writer is), or -1 when the image ends inside it: that is the final
 * block, which _end writes. */
static int
block_raster(const sit_img_png_writer *w, size_t *raster)
{
	size_t k = STORED_MAX, c = w->col, got = 0;
	uint32_t r = w->rows;
	int sent = w->filter_sent;

	while (k > 0) {
		size_t n;

		if (c == 0 && !sent) {
			if (r >= w->height)
				return -1;
			k--;
			sent = 1;
			continue;
		}
		n = w->row_bytes - c < k ? w->row_bytes - c : k;
		got += n;
		k -= n;
		c += n;
		if (c == w->row_bytes) {
			c = 0;
			r++;
			sent = 0;
		}
	}
	*raster = got;
	return 0;
}

/* Block B of this gathered write, from *P (*LEFT bytes of raster there):
 * its chunk header, block header, the pieces of raster with filter bytes
 * where rows start, and the chunk's CRC.  0, or -1 when the caller's bytes
 * do not reach the block's end, or it is the final block (nothing is then
 * changed). */
static int
direct_block(sit_img_png_writer *w, struct direct *d, int b, const unsigned char **p,
	size_t *left)
{
	static const unsigned char filter_none = 0;
	unsigned char *h = d->head[b];
	size_t need = STORED_MAX, raster, hlen = 8 + BHDR;
	const unsigned char *q = *p;
	uint32_t crc;

	if (block_raster(w, &raster) < 0 || raster > *left)
		return -1;
	sit_img_put32be(h, (uint32_t)(STORED_MAX + BHDR + (w->started ? 0 : ZHDR)));
	memcpy(h + 4, "IDAT", 4);
	if (!w->started) {
		/* The zlib header, as flush_block writes it. */
		h[8] = 0x78;
		h[9] = 0x01;
		hlen += ZHDR;
		w->started = 1;
	}
	h[hlen - 5] = 0;                        /* BFINAL 0, BTYPE 00 = stored */
	h[hlen - 4] = (unsigned char)STORED_MAX;
	h[hlen - 3] = (unsigned char)(STORED_MAX >> 8);
	h[hlen - 2] = (unsigned char)~STORED_MAX;
	h[hlen - 1] = (unsigned char)(~STORED_MAX >> 8);
	piece(d, h, hlen);
	crc = sit_cksum_crc32(SIT_CKSUM_CRC32_INIT, h + 4, hlen - 4);
	while (need > 0) {
		size_t n;

		if (w->col == 0 && !w->filter_sent) {
			piece(d, &filter_none, 1);
			crc = sit_cksum_crc32(crc, &filter_none, 1);
			w->adler = sit_cksum_adler32(w->adler, &filter_none, 1);
			w->filter_sent = 1;
			need--;
			continue;
		}
		n = w->row_bytes - w->col < need ? w->row_bytes - w->col : need;
		piece(d, q, n);
		crc = sit_cksum_crc32(crc, q, n);
		w->adler = sit_cksum_adler32(w->adler, q, n);
		q += n;
		need -= n;
		w->col += n;
		if (w->col == w->row_bytes) {
			w->col = 0;
			w->rows++;
			w->filter_sent = 0;
		}
	}
	sit_img_put32be(d->crc[b], crc);
	piece(d, d->crc[b], 4);
	*left -= raster;
	*p = q;
	return 0;
}

/* As many whole blocks of P[0..*LEFT) as there are, gathered; advances *P
 * and *LEFT past what was written. */
static int
direct_blocks(sit_img_png_writer *w, const unsigned char **p, size_t *left, sit_err *e)
{
	struct direct d;

	/* Pieces of one block: its header and CRC, the raster before the
	 * first row that starts in it, and a filter byte and raster for each
	 * row that does. */
	size_t per_block = 3 + 2 * (STORED_MAX / (w->row_bytes + 1) + 1);
	int most = (int)(DIRECT_IOV / per_block);

	if (most > DIRECT_BLOCKS)
		most = DIRECT_BLOCKS;
	for (;;) {
		int b = 0;

		d.n = 0;
		while (b < most && direct_block(w, &d, b, p, left) == 0)
			b++;
		if (b == 0)
			return 0;
		if (w->sink.writev(w->sink.ctx, d.iov, d.n, e) < 0)
			return -1;
		if (b < most)
			return 0;
	}
}

int
sit_img_png_stream(sit_img_png_writer *w, const void *buf, size_t len, sit_err *e)
{
	static const unsigned char filter_none = 0;
	const unsigned char *p = buf;

	if (w->mode != SIT_IMG_PNG_FAST)
		return sit_err_set(e, EX_SOFTWARE, "PNG writer: only FAST mode streams");
	while (len > 0) {
		size_t n;

		if (w->data_len == 0 && w->sink.writev != NULL && w->row_bytes >= DIRECT_MIN_ROW) {
			if (direct_blocks(w, &p, &len, e) < 0)
				return -1;
			if (len == 0)
				break;
		}
		if (w->col == 0 && !w->filter_sent) {
			if (w->rows >= w->height)
				return sit_err_set(e, EX_SOFTWARE,
					"PNG writer: more rows than the height");
			if (stored_append(w, &filter_none, 1, e) < 0)
				return -1;
			w->filter_sent = 1;
			continue;
		}
		/* Up to the end of the row, and of the block, so that a block
		 * ends between appends and the next can go gathered. */
		n = w->row_bytes - w->col;
		if (n > len)
			n = len;
		if (n > STORED_MAX - w->data_len)
			n = STORED_MAX - w->data_len;
		if (stored_append(w, p, n, e) < 0)
			return -1;
		p += n;
		len -= n;
		w->col += n;
		w->filter_sent = 0;
		if (w->col == w->row_bytes) {
			w->col = 0;
			w->rows++;
		}
	}
	return 0;
}

int
sit_img_png_end(sit_img_png_writer *w, sit_err *e)
{
	int rc;

	if (w->rows != w->height) {
		sit_img_png_abort(w);
		return sit_err_set(e, EX_SOFTWARE, "PNG writer: %u of %u rows given",
			w->rows, w->height);
	}
	if (w->mode == SIT_IMG_PNG_FAST)
		rc = flush_block(w, 1, e);
	else
		rc = compress_and_flush(w, e);
	if (rc == 0)
		rc = put_chunk(w, "IEND", NULL, 0, e);
	sit_img_png_abort(w);
	return rc;
}

void
sit_img_png_abort(sit_img_png_writer *w)
{
	free(w->row);
	free(w->prev);
	free(w->data);
	w->row = w->prev = w->data = NULL;
	w->data_len = w->data_cap = 0;
}

int
sit_img_write_png(const sit_img *img, sit_img_png_mode mode,
	const sit_img_sink *sink, sit_err *e)
{
	sit_img_png_writer w;
	const unsigned char *p = img->pixels;
	size_t stride = sit_img_row_bytes(img);

	if (sit_img_png_begin(&w, sink, img->width, img->height, img->channels,
	    img->depth, mode, e) < 0) {
		sit_img_png_abort(&w);
		return -1;
	}
	for (uint32_t y = 0; y < img->height; y++, p += stride) {
		if (sit_img_png_row(&w, p, e) < 0) {
			sit_img_png_abort(&w);
			return -1;
		}
	}
	return sit_img_png_end(&w, e);
}
