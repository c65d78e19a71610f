/* pam.c - netpbm PAM (P7) writing, PAM/PGM/PPM (P7, P5, P6) reading.
 *
 * The reader is ours rather than stb_image's so that it can be strict:
 * every header field once, in range, checked against the limits before a
 * byte of raster is touched, samples never above MAXVAL, and the raster
 * length the header promises actually present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img_int.h"
#include "io.h"

/* ---- header parsing --------------------------------------------------- */

/* A parse position.  Each step returns 1 (done), 0 (the buffer ends too
 * soon: read more) or -1 (E filled). */
typedef struct cursor {
	const unsigned char *b;
	size_t len, pos;
} cursor;

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skip whitespace and "#..." comments up to the next token. */
static int
skip_blank(cursor *c)
{
	while (c->pos < c->len) {
		if (c->b[c->pos] == '#') {
			const unsigned char *nl = memchr(c->b + c->pos, '\n', c->len - c->pos);

			if (nl == NULL)
				return 0;
			c->pos = (size_t)(nl - c->b) + 1;
		} else if (is_space(c->b[c->pos])) {
			c->pos++;
		} else {
			return 1;
		}
	}
	return 0;
}

/* A decimal number in [1, MAX] ending in whitespace or a comment. */
static int
number(cursor *c, unsigned long max, unsigned long *v, const char *what, sit_err *e)
{
	unsigned long n = 0;
	size_t start;
	int rc = skip_blank(c);

	if (rc <= 0)
		return rc;
	start = c->pos;
	while (c->pos < c->len && c->b[c->pos] >= '0' && c->b[c->pos] <= '9') {
		n = n * 10 + (unsigned long)(c->b[c->pos++] - '0');
		if (n > max)
			return sit_err_set(e, EX_DATAERR, "corrupt PNM: %s over %lu", what, max);
	}
	if (c->pos == c->len)
		return 0;
	if (c->pos == start || (!is_space(c->b[c->pos]) && c->b[c->pos] != '#'))
		return sit_err_set(e, EX_DATAERR, "corrupt PNM: bad %s", what);
	if (n == 0)
		return sit_err_set(e, EX_DATAERR, "corrupt PNM: %s is 0", what);
	*v = n;
	return 1;
}

/* P5 (grey) or P6 (RGB): width, height, maxval, then exactly one
 * whitespace byte before the raster. */
static int
parse_pnm(cursor *c, sit_img_pam_header *h, sit_err *e)
{
	unsigned long w, ht, maxval;
	int rc;

	h->channels = c->b[1] == '5' ? 1 : 3;
	c->pos = 2;
	if ((rc = number(c, SIT_IMG_DIM_CEILING, &w, "width", e)) <= 0 ||
	    (rc = number(c, SIT_IMG_DIM_CEILING, &ht, "height", e)) <= 0 ||
	    (rc = number(c, 65535, &maxval, "maxval", e)) <= 0)
		return rc;
	if (c->b[c->pos] == '#')
		return sit_err_set(e, EX_DATAERR, "corrupt PNM: comment after maxval");
	c->pos++;       /* the single whitespace byte number() stopped at */
	h->width = (uint32_t)w;
	h->height = (uint32_t)ht;
	h->maxval = (unsigned)maxval;
	return 1;
}

/* The P7 tuple types we decode, and the depth each implies. */
static int
tupltype_depth(const char *t)
{
	static const struct { const char *name; int depth; } types[] = {
		{ "BLACKANDWHITE", 1 }, { "GRAYSCALE", 1 }, { "BLACKANDWHITE_ALPHA", 2 },
		{ "GRAYSCALE_ALPHA", 2 }, { "RGB", 3 }, { "RGB_ALPHA", 4 },
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(t, types[i].name) == 0)
			return types[i].depth;
	return -1;
}

/* One "KEY VALUE" line of a P7 header, already cut out as a C string. */
typedef struct pam_fields {
	unsigned long v[4];     /* WIDTH, HEIGHT, DEPTH, MAXVAL; 0: not seen */
	int tupl_depth;         /* 0: no TUPLTYPE */
	int end;                /* ENDHDR seen */
} pam_fields;

static int
pam_line(char *line, pam_fields *f, sit_err *e)
{
	static const char *const keys[4] = { "WIDTH", "HEIGHT", "DEPTH", "MAXVAL" };
	static const unsigned long max[4] = { SIT_IMG_DIM_CEILING, SIT_IMG_DIM_CEILING, 4, 65535 };
	char *save = NULL, *key = strtok_r(line, " \t\r", &save);
	char *val = key ? strtok_r(NULL, " \t\r", &save) : NULL;
	char *extra = val ? strtok_r(NULL, " \t\r", &save) : NULL;

	if (key == NULL || key[0] == '#')
		return 0;       /* blank line or comment */
	if (strcmp(key, "ENDHDR") == 0 && val == NULL) {
		f->end = 1;
		return 0;
	}
	if (val == NULL || extra != NULL)
		return sit_err_set(e, EX_DATAERR, "corrupt PAM: bad header line '%.40s'", key);
	if (strcmp(key, "TUPLTYPE") == 0) {
		if (f->tupl_depth != 0)
			return sit_err_set(e, EX_DATAERR, "corrupt PAM: TUPLTYPE given twice");
		if ((f->tupl_depth = tupltype_depth(val)) < 0)
			return sit_err_set(e, EX_DATAERR, "unsupported PAM tuple type '%.40s'", val);
		return 0;
	}
	for (int i = 0; i < 4; i++) {
		char *end;

		if (strcmp(key, keys[i]) != 0)
			continue;
		if (f->v[i] != 0)
			return sit_err_set(e, EX_DATAERR, "corrupt PAM: %s given twice", key);
		if (val[0] < '0' || val[0] > '9' || strlen(val) > 7)
			return sit_err_set(e, EX_DATAERR, "corrupt PAM: bad %s", key);
		f->v[i] = strtoul(val, &end, 10);
		if (*end != '\0' || f->v[i] == 0 || f->v[i] > max[i])
			return sit_err_set(e, EX_DATAERR, "%s PAM: %s %.10s out of range",
				i == 2 ? "unsupported" : "corrupt", key, val);
		return 0;
	}
	return sit_err_set(e, EX_DATAERR, "corrupt PAM: unknown header key '%.40s'", key);
}

static int
parse_pam(cursor *c, sit_img_pam_header *h, sit_err *e)
{
	pam_fields f = { { 0, 0, 0, 0 }, 0, 0 };
	char line[256];

	c->pos = 3;
	while (!f.end) {
		const unsigned char *nl = memchr(c->b + c->pos, '\n', c->len - c->pos);
		size_t n;

		if (nl == NULL)
			return 0;
		n = (size_t)(nl - (c->b + c->pos));
		if (n >= sizeof line)
			return sit_err_set(e, EX_DATAERR, "corrupt PAM: header line too long");
		memcpy(line, c->b + c->pos, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL)
			return sit_err_set(e, EX_DATAERR, "corrupt PAM: NUL byte in the header");
		c->pos += n + 1;
		if (pam_line(line, &f, e) < 0)
			return -1;
	}
	if (f.v[0] == 0 || f.v[1] == 0 || f.v[2] == 0 || f.v[3] == 0)
		return sit_err_set(e, EX_DATAERR, "corrupt PAM: WIDTH, HEIGHT, DEPTH and MAXVAL are all needed");
	if (f.tupl_depth != 0 && (unsigned long)f.tupl_depth != f.v[2])
		return sit_err_set(e, EX_DATAERR, "corrupt PAM: DEPTH %lu does not match TUPLTYPE", f.v[2]);
	h->width = (uint32_t)f.v[0];
	h->height = (uint32_t)f.v[1];
	h->channels = (unsigned)f.v[2];
	h->maxval = (unsigned)f.v[3];
	return 1;
}

/* Raster size with every product checked (limits bound width * height,
 * but a caller may pass generous ones). */
static int
finish_header(const cursor *c, const sit_img_limits *lim, sit_img_pam_header *h, sit_err *e)
{
	uint64_t px, per;

	if (sit_img_check_limits(h->width, h->height, lim, e) < 0)
		return -1;
	h->depth = h->maxval > 255 ? 16 : 8;
	h->header_len = c->pos;
	px = (uint64_t)h->width * h->height;
	per = (uint64_t)h->channels * (h->depth / 8);
	if (px > SIZE_MAX / per)
		return sit_err_set(e, EX_DATAERR, "PNM raster too large for memory");
	h->raster_len = (size_t)(px * per);
	return 1;
}

int
sit_img_pam_parse_header(const unsigned char *buf, size_t len,
	const sit_img_limits *lim, sit_img_pam_header *h, sit_err *e)
{
	cursor c = { buf, len > SIT_IMG_PAM_HEADER_MAX ? SIT_IMG_PAM_HEADER_MAX : len, 0 };
	int rc;

	memset(h, 0, sizeof *h);
	if (len < 3)
		return 0;
	if (buf[0] != 'P' || (buf[1] != '5' && buf[1] != '6' && buf[1] != '7') || !is_space(buf[2]))
		return sit_err_set(e, EX_DATAERR, "not a binary PGM, PPM or PAM file");
	if (buf[1] == '7' && buf[2] != '\n')
		return sit_err_set(e, EX_DATAERR, "corrupt PAM: no newline after P7");
	rc = buf[1] == '7' ? parse_pam(&c, h, e) : parse_pnm(&c, h, e);
	if (rc == 0 && len >= SIT_IMG_PAM_HEADER_MAX)
		return sit_err_set(e, EX_DATAERR, "corrupt PNM: header longer than %d bytes",
			SIT_IMG_PAM_HEADER_MAX);
	if (rc <= 0)
		return rc;
	return finish_header(&c, lim, h, e);
}

/* ---- samples ---------------------------------------------------------- */

/* Convert one raw row (big-endian for 16-bit) to sit_img layout, scaling
 * MAXVAL to 255 or 65535 and refusing samples above MAXVAL. */
static int
convert_row(const sit_img_pam_header *h, const unsigned char *raw, void *out, sit_err *e)
{
	size_t n = (size_t)h->width * h->channels;
	unsigned m = h->maxval, full = h->depth == 16 ? 65535 : 255;

	/* The usual case: full-range samples cannot exceed MAXVAL. */
	if (m == full && h->depth == 8) {
		memcpy(out, raw, n);
		return 0;
	}
	if (m == full) {
		sit_img_samples_from_be16(out, raw, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v = h->depth == 16 ? sit_img_get16be(raw + 2 * i) : raw[i];

		if (v > m)
			return sit_err_set(e, EX_DATAERR, "corrupt PNM: sample %u over maxval %u", v, m);
		if (m != full)
			v = (v * full + m / 2) / m;
		if (h->depth == 16) {
			uint16_t s = (uint16_t)v;

			memcpy((unsigned char *)out + 2 * i, &s, 2);
		} else {
			((unsigned char *)out)[i] = (unsigned char)v;
		}
	}
	return 0;
}

int
sit_img_pam_decode(const unsigned char *buf, size_t len, const sit_img_limits *lim,
	sit_img *img, sit_err *e)
{
	sit_img_pam_header h;
	const unsigned char *raw;
	unsigned char *out;
	size_t in_row, out_row;
	int rc = sit_img_pam_parse_header(buf, len, lim, &h, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return sit_err_set(e, EX_DATAERR, "truncated PNM: the header is incomplete");
	if (len - h.header_len < h.raster_len)
		return sit_err_set(e, EX_DATAERR, "truncated PNM: %zu of %zu raster bytes",
			len - h.header_len, h.raster_len);
	if (sit_img_alloc(img, h.width, h.height, h.channels, h.depth, e) < 0)
		return -1;
	raw = buf + h.header_len;
	out = img->pixels;
	in_row = out_row = sit_img_row_bytes(img);
	for (uint32_t y = 0; y < h.height; y++, raw += in_row, out += out_row) {
		if (convert_row(&h, raw, out, e) < 0) {
			sit_img_free(img);
			return -1;
		}
	}
	return 0;
}

/* ---- streaming reader ------------------------------------------------- */

int
sit_img_pam_open(sit_img_pam_reader *r, int fd, const sit_img_limits *lim, sit_err *e)
{
	unsigned char head[SIT_IMG_PAM_HEADER_MAX];
	size_t len = 0;
	int rc = 0;

	memset(r, 0, sizeof *r);
	r->fd = fd;
	/* A byte at a time, so that nothing after the header is consumed
	 * (the descriptor may be a pipe we cannot seek back on).  A header
	 * can only end after a whitespace byte, so parse only then. */
	while (rc == 0 && len < sizeof head) {
		ssize_t n = sit_io_read(fd, head + len, 1);

		if (n < 0)
			return sit_err_sys(e, EX_IOERR, "cannot read the PAM header");
		if (n == 0)
			return sit_err_set(e, EX_DATAERR, len ? "truncated PNM: the header is incomplete"
				: "not an image: the input is empty");
		len++;
		if (len >= 3 && is_space(head[len - 1]))
			rc = sit_img_pam_parse_header(head, len, lim, &r->h, e);
		else if (len == 3)      /* fail early on something else */
			rc = sit_img_pam_parse_header(head, len, lim, &r->h, e);
	}
	if (rc <= 0)
		return rc < 0 ? -1 : sit_err_set(e, EX_DATAERR, "corrupt PNM: header too long");
	r->raw = malloc(r->h.raster_len / r->h.height);
	if (r->raw == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory for a PAM row");
	return 0;
}

int
sit_img_pam_read_row(sit_img_pam_reader *r, void *row, sit_err *e)
{
	size_t n = r->h.raster_len / r->h.height;
	ssize_t got;

	if (r->rows >= r->h.height)
		return sit_err_set(e, EX_SOFTWARE, "PAM reader: no rows left");
	got = sit_io_read(r->fd, r->raw, n);
	if (got < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read the PAM raster");
	if ((size_t)got < n)
		return sit_err_set(e, EX_DATAERR, "truncated PNM: row %u of %u is incomplete",
			r->rows + 1, r->h.height);
	r->rows++;
	return convert_row(&r->h, r->raw, row, e);
}

void
sit_img_pam_close(sit_img_pam_reader *r)
{
	free(r->raw);
	r->raw = NULL;
}

/* ---- writer ----------------------------------------------------------- */

int
sit_img_pam_begin(sit_img_pam_writer *w, const sit_img_sink *sink,
	uint32_t width, uint32_t height, unsigned channels, unsigned depth, sit_err *e)
{
	static const char *const tupltype[5] = { "", "GRAYSCALE", "GRAYSCALE_ALPHA",
		"RGB", "RGB_ALPHA" };
	char head[160];
	size_t row_bytes;
	int n;

	memset(w, 0, sizeof *w);
	if (sit_img_check_shape(width, height, channels, depth, &row_bytes, e) < 0)
		return -1;
	w->sink = *sink;
	w->width = width;
	w->height = height;
	w->channels = channels;
	w->depth = depth;
	if (depth == 16 && (w->row = malloc(row_bytes)) == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory for a PAM row");
	n = snprintf(head, sizeof head, "P7\nWIDTH %u\nHEIGHT %u\nDEPTH %u\nMAXVAL %u\n"
		"TUPLTYPE %s\nENDHDR\n", width, height, channels,
		depth == 16 ? 65535u : 255u, tupltype[channels]);
	if (n < 0 || (size_t)n >= sizeof head)
		return sit_err_set(e, EX_SOFTWARE, "PAM header does not fit");
	return sit_img_emit(&w->sink, head, (size_t)n, e);
}

int
sit_img_pam_row(sit_img_pam_writer *w, const void *row, sit_err *e)
{
	size_t n = (size_t)w->width * w->channels;

	if (w->rows >= w->height)
		return sit_err_set(e, EX_SOFTWARE, "PAM writer: more rows than the height");
	w->rows++;
	if (w->depth == 8)
		return sit_img_emit(&w->sink, row, n, e);
	sit_img_samples_to_be16(w->row, row, n);
	return sit_img_emit(&w->sink, w->row, 2 * n, e);
}

int
sit_img_pam_end(sit_img_pam_writer *w, sit_err *e)
{
	uint32_t rows = w->rows;

	sit_img_pam_abort(w);
	if (rows != w->height)
		return sit_err_set(e, EX_SOFTWARE, "PAM writer: %u of %u rows given", rows, w->height);
	return 0;
}

void
sit_img_pam_abort(sit_img_pam_writer *w)
{
	free(w->row);
	w->row = NULL;
}

int
sit_img_write_pam(const sit_img *img, const sit_img_sink *sink, sit_err *e)
{
	sit_img_pam_writer w;
	const unsigned char *p = img->pixels;
	size_t stride = sit_img_row_bytes(img);

	if (sit_img_pam_begin(&w, sink, img->width, img->height, img->channels, img->depth, e) < 0) {
		sit_img_pam_abort(&w);
		return -1;
	}
	for (uint32_t y = 0; y < img->height; y++, p += stride) {
		if (sit_img_pam_row(&w, p, e) < 0) {
			sit_img_pam_abort(&w);
			return -1;
		}
	}
	return sit_img_pam_end(&w, e);
}
