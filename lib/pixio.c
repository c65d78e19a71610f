#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "io.h"
#include "pixio.h"
#include "pngstream.h"

/* ---- writing ---------------------------------------------------------- */

int
sit_pix_writer_begin(sit_pix_writer *w, const sit_img_sink *sink, int png,
	uint32_t width, uint32_t height, unsigned channels, unsigned depth,
	sit_err *e)
{
	sit_img shape = { width, height, channels, depth, NULL };
	int rc;

	memset(w, 0, sizeof *w);
	w->png = png;
	w->sink = *sink;
	w->size = (uint64_t)sit_img_row_bytes(&shape) * height;
	if (w->size == 0)
		return sit_err_set(e, EX_SOFTWARE, "bad image shape %ux%u", width, height);
	if (png)
		rc = sit_img_png_begin(&w->pngw, sink, width, height, channels, depth,
			SIT_IMG_PNG_FAST, e);
	else
		rc = sit_img_pam_begin(&w->pamw, sink, width, height, channels, depth, e);
	if (rc != 0) {
		sit_pix_writer_abort(w);
		return -1;
	}
	w->started = 1;
	return 0;
}

/* The byte stream is the raster in file order, as PAM and PNG both store
 * it (16-bit samples big-endian), so it goes on as it comes: no row is
 * gathered first, and a writer in turns over several fifos never has to
 * push out more than a pipe holds at once (a row may be longer). */
int
sit_pix_writer_put(sit_pix_writer *w, const void *buf, size_t len, sit_err *e)
{
	if (len > w->size - w->done)
		return sit_err_set(e, EX_SOFTWARE, "more bytes than the image holds");
	w->done += len;
	if (len == 0)
		return 0;
	if (w->png)
		return sit_img_png_stream(&w->pngw, buf, len, e);
	return w->sink.write(w->sink.ctx, buf, len, e);
}

int
sit_pix_sink_writer(void *ctx, const void *buf, size_t len, sit_err *e)
{
	return sit_pix_writer_put(ctx, buf, len, e);
}

uint64_t
sit_pix_writer_left(const sit_pix_writer *w)
{
	return w->size - w->done;
}

int
sit_pix_writer_end(sit_pix_writer *w, sit_err *e)
{
	static const unsigned char zeros[4096];
	int rc = 0;

	while (rc == 0 && w->done < w->size) {
		uint64_t left = w->size - w->done;
		rc = sit_pix_writer_put(w, zeros, left < sizeof zeros ? (size_t)left : sizeof zeros, e);
	}
	/* PAM has no trailer: the raster went straight to the sink. */
	if (rc == 0 && w->png)
		rc = sit_img_png_end(&w->pngw, e);
	sit_pix_writer_abort(w);
	return rc;
}

void
sit_pix_writer_abort(sit_pix_writer *w)
{
	if (w->started) {
		if (w->png)
			sit_img_png_abort(&w->pngw);
		else
			sit_img_pam_abort(&w->pamw);
	}
	memset(w, 0, sizeof *w);
}

size_t
sit_pix_turn(const int *fds, unsigned n, size_t big)
{
	for (unsigned i = 0; i < n; i++) {
		struct stat st;

		if (fstat(fds[i], &st) != 0 || !S_ISREG(st.st_mode))
			return SIT_PIX_INTERLEAVE;
	}
	return big;
}

/* ---- reading ---------------------------------------------------------- */

int
sit_pix_read_rest(int fd, unsigned char **buf, size_t *len, size_t cap, size_t max,
	const char *what, sit_err *e)
{
	for (;;) {
		ssize_t n;

		if (*len == cap) {
			unsigned char *nb;
			if (cap >= max + 1)
				return sit_err_set(e, EX_DATAERR,
					"%s is larger than the limit of %zu bytes", what, max);
			/* One byte past MAX tells "exactly MAX" from "more". */
			cap = cap == 0 ? SIT_PIX_HEAD_LEN : cap > (max + 1) / 2 ? max + 1 : cap * 2;
			nb = realloc(*buf, cap);
			if (nb == NULL)
				return sit_err_set(e, EX_OSERR, "out of memory reading %s", what);
			*buf = nb;
		}
		n = read(fd, *buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sit_err_sys(e, EX_IOERR, "cannot read %s", what);
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > max)
			return sit_err_set(e, EX_DATAERR,
				"%s is larger than the limit of %zu bytes", what, max);
	}
}

/* Bytes the input can still give, HEAD's unread ones included: known for
 * a regular file only (else UINT64_MAX). */
static uint64_t
bytes_left(const sit_pix_reader *r, size_t head_used)
{
	struct stat st;
	off_t at = lseek(r->fd, 0, SEEK_CUR);

	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode) || at < 0 || st.st_size < at)
		return UINT64_MAX;
	return (uint64_t)(r->head_len - head_used) + (uint64_t)(st.st_size - at);
}

/* A PAM or PNM whose raster is already our byte stream: stream it.  From
 * a regular file too short for the raster its header promises, refused
 * now, before a byte of it goes out (on a pipe, the end of the raster
 * shows when it comes). */
static int
open_streamed(sit_pix_reader *r, const sit_img_pam_header *ph, sit_err *e)
{
	uint64_t left = bytes_left(r, ph->header_len);

	if (left < ph->raster_len)
		return sit_err_set(e, EX_DATAERR, "truncated %s: %llu of %zu raster bytes",
			sit_img_format_name(r->format), (unsigned long long)left,
			ph->raster_len);
	r->width = ph->width;
	r->height = ph->height;
	r->channels = ph->channels;
	r->depth = ph->depth;
	r->size = ph->raster_len;
	r->head_pos = ph->header_len;
	return 0;
}

/* 0 if SIZE bytes of samples from LEN bytes of FORMAT can be a cipher
 * image or share (SIT_PIX_NOISE_RATIO in pixio.h). */
static int
noise_fits(uint64_t size, size_t len, sit_img_format format, sit_err *e)
{
	if (size / SIT_PIX_NOISE_RATIO > len + SIT_PIX_NOISE_SLACK / SIT_PIX_NOISE_RATIO)
		return sit_err_set(e, EX_DATAERR, "%s of %zu bytes is too small for %llu "
			"sample bytes of noise (a cipher image or share)",
			sit_img_format_name(format), len, (unsigned long long)size);
	return 0;
}

/* The whole file in memory, decoded: HEAD holds its first bytes (CAP
 * allocated).  The decoders take memory for every sample whatever the
 * file holds (a 146 KB palette PNG of 65535 x 2288 zeros decodes to
 * 450 MB through 735 MB), so with NOISE the shape is looked at first. */
static int
open_decoded(sit_pix_reader *r, size_t cap, int noise, const char *what, sit_err *e)
{
	sit_img_header h;
	size_t len = r->head_len;
	int rc;

	if (sit_pix_read_rest(r->fd, &r->head, &len, cap, SIT_PIX_FILE_MAX, what, e) != 0)
		return -1;
	if (noise) {
		sit_img shape;

		if (sit_img_probe(r->head, len, NULL, &h, e) != 0)
			return -1;
		shape = (sit_img){ h.width, h.height, h.channels, h.depth, NULL };
		if (noise_fits(sit_img_size(&shape), len, h.format, e) != 0)
			return -1;
	}
	rc = sit_img_decode(r->head, len, NULL, &r->img, &h, e);
	free(r->head);
	r->head = NULL;
	r->head_len = 0;
	if (rc != 0)
		return -1;
	r->width = r->img.width;
	r->height = r->img.height;
	r->channels = r->img.channels;
	r->depth = r->img.depth;
	r->size = sit_img_size(&r->img);
	return 0;
}

/* ---- PNG streamed ---------------------------------------------------- */

/* The reader's input: one read(2) of what is there. */
static ssize_t
read_fd(void *ctx, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ctx;

	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0 || errno != EINTR)
			return n;
	}
}

/* 1 streaming, 0 to be decoded whole (HEAD then holds every byte read so
 * far, CAP allocated), -1 error.  A regular file too small for the rows its
 * IHDR promises, even deflated as far as deflate goes, is refused before
 * a sample is read. */
static int
open_png(sit_pix_reader *r, size_t *cap, sit_err *e)
{
	sit_pngs_src src = { read_fd, (void *)(intptr_t)r->fd, 0, SIT_PIX_FILE_MAX };
	uint64_t left = bytes_left(r, 0), rows;
	sit_img_header h;
	int rc;

	/* The end of a regular file can be checked without waiting on
	 * anybody (see lib/pngstream.h). */
	src.check_eof = left != UINT64_MAX;
	*cap = r->head_len;
	rc = sit_pngs_open(&r->png, &src, &r->head, &r->head_len, cap, NULL, &h, e);
	if (rc != SIT_PNGS_STREAM)
		return rc;
	r->width = h.width;
	r->height = h.height;
	r->channels = h.channels;
	r->depth = h.depth;
	r->size = (uint64_t)h.width * h.height * h.channels * (h.depth / 8);
	rows = r->size + h.height;      /* a filter byte a row */
	if (left != UINT64_MAX && rows / SIT_PIX_DEFLATE_RATIO > left)
		return sit_err_set(e, EX_DATAERR, "truncated PNG: %llu bytes cannot hold "
			"%ux%u pixels (deflate packs at most %u bytes into one)",
			(unsigned long long)left, h.width, h.height, SIT_PIX_DEFLATE_RATIO);
	return 1;
}

/* A streaming failure: the message gets the input's name. */
static int
png_failed(sit_err *e, const char *what)
{
	char why[SIT_ERR_MAX];

	snprintf(why, sizeof why, "%s", e->msg);
	return sit_err_set(e, e->code, "%s: %s", what, why);
}

/* LEN samples, and after the last one the rest of the file. */
static int
png_get(sit_pix_reader *r, unsigned char *out, size_t len, const char *what, sit_err *e)
{
	if (sit_pngs_get(r->png, out, len, e) != 0 ||
	    (r->pos + len == r->size && sit_pngs_finish(r->png, e) != 0))
		return png_failed(e, what);
	return 0;
}

int
sit_pix_read_head(int fd, unsigned char **head, size_t *len, const char *what,
	sit_err *e)
{
	ssize_t n;

	*head = malloc(SIT_PIX_HEAD_LEN);
	if (*head == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory");
	n = sit_io_read(fd, *head, SIT_PIX_HEAD_LEN);
	if (n < 0) {
		free(*head);
		*head = NULL;
		return sit_err_sys(e, EX_IOERR, "cannot read %s", what);
	}
	*len = (size_t)n;
	return 0;
}

static int open_head(sit_pix_reader *r, int fd, unsigned char *head, size_t head_len,
	int noise, const char *what, sit_err *e);

int
sit_pix_reader_open(sit_pix_reader *r, int fd, const char *what, sit_err *e)
{
	unsigned char *head;
	size_t len;

	if (sit_pix_read_head(fd, &head, &len, what, e) != 0)
		return -1;
	return open_head(r, fd, head, len, 1, what, e);
}

/* NOISE: a cipher image or share is read (sit_pix_reader_open). */
static int
open_head(sit_pix_reader *r, int fd, unsigned char *head, size_t head_len, int noise,
	const char *what, sit_err *e)
{
	sit_img_pam_header ph;
	size_t cap = head_len;
	int rc;

	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->head = head;
	r->head_len = head_len;
	r->format = sit_img_sniff(r->head, r->head_len);
	if (r->format == SIT_IMG_UNKNOWN) {
		rc = sit_err_set(e, EX_DATAERR, "%s is not an image", what);
		goto fail;
	}
	if (r->format == SIT_IMG_PAM || r->format == SIT_IMG_PNM) {
		rc = sit_img_pam_parse_header(r->head, r->head_len, NULL, &ph, e);
		if (rc == 0)
			rc = sit_err_set(e, EX_DATAERR, "truncated or oversized %s header in %s",
				sit_img_format_name(r->format), what);
		if (rc < 0)
			goto fail;
		if (ph.maxval == 255 || ph.maxval == 65535) {
			if ((rc = open_streamed(r, &ph, e)) < 0)
				goto fail;
			return 0;
		}
	}
	if (r->format == SIT_IMG_PNG) {
		if ((rc = open_png(r, &cap, e)) > 0)
			return 0;
		if (rc < 0)
			goto fail;
	}
	rc = open_decoded(r, cap, noise, what, e);
	if (rc == 0)
		return 0;
fail:
	sit_pix_reader_close(r);
	return rc;
}

int
sit_pix_reader_open_head(sit_pix_reader *r, int fd, unsigned char *head,
	size_t head_len, int noise, const char *what, sit_err *e)
{
	return open_head(r, fd, head, head_len, noise, what, e);
}

/* In memory: sample bytes from POS, 16-bit samples turned big-endian. */
static void
copy_decoded(sit_pix_reader *r, unsigned char *out, size_t len)
{
	if (r->depth == 8) {
		memcpy(out, (const unsigned char *)r->img.pixels + r->pos, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		uint64_t b = r->pos + i;
		uint16_t v = ((const uint16_t *)r->img.pixels)[b / 2];
		out[i] = (unsigned char)(b % 2 == 0 ? v >> 8 : v);
	}
}

int
sit_pix_reader_get(sit_pix_reader *r, void *buf, size_t len, const char *what,
	sit_err *e)
{
	unsigned char *out = buf;

	if (len > r->size - r->pos)
		return sit_err_set(e, EX_DATAERR, "%s ends too early", what);
	if (r->img.pixels != NULL) {
		copy_decoded(r, out, len);
	} else if (r->png != NULL) {
		if (png_get(r, out, len, what, e) != 0)
			return -1;
	} else {
		size_t from_head = r->head_len - r->head_pos;
		ssize_t n;

		if (from_head > len)
			from_head = len;
		memcpy(out, r->head + r->head_pos, from_head);
		r->head_pos += from_head;
		n = sit_io_read(r->fd, out + from_head, len - from_head);
		if (n < 0)
			return sit_err_sys(e, EX_IOERR, "cannot read %s", what);
		if ((size_t)n < len - from_head)
			return sit_err_set(e, EX_DATAERR, "%s is truncated", what);
	}
	r->pos += len;
	return 0;
}

int
sit_pix_reader_drain(sit_pix_reader *r, const char *what, sit_err *e)
{
	unsigned char buf[64 * 1024];

	if (r->img.pixels != NULL) {
		r->pos = r->size;
		return 0;
	}
	while (r->pos < r->size) {
		uint64_t left = r->size - r->pos;
		if (sit_pix_reader_get(r, buf, left < sizeof buf ? (size_t)left : sizeof buf,
			what, e) != 0)
			return -1;
	}
	return 0;
}

void
sit_pix_reader_close(sit_pix_reader *r)
{
	free(r->head);
	sit_pngs_free(r->png);
	sit_img_free(&r->img);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

int
sit_pix_format_lossy(sit_img_format format)
{
	return format == SIT_IMG_JPEG;
}

int
sit_pix_path_is_png(const char *path)
{
	size_t n = path != NULL ? strlen(path) : 0;

	return n >= 4 && strcasecmp(path + n - 4, ".png") == 0;
}

/* ---- byte streams of known length ------------------------------------- */

int
sit_pix_src_open(sit_pix_src *s, int fd, unsigned char *head, size_t head_len,
	size_t max, sit_spool *spool, const char *what, sit_err *e)
{
	struct stat st;
	off_t at;

	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->buf = head;
	s->buf_len = head_len;
	at = lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && at >= 0 && st.st_size >= at) {
		/* A regular file says how long it is: stream it. */
		s->length = head_len + (uint64_t)(st.st_size - at);
		s->streamed = 1;
		if (s->length > max) {
			sit_pix_src_close(s);
			return sit_err_set(e, EX_DATAERR,
				"%s is larger than the limit of %zu bytes", what, max);
		}
		return 0;
	}
	/* A pipe has to be read to the end to know its length: into the
	 * spool (on disk, encrypted), or else into memory. */
	if (spool != NULL) {
		int rc = sit_spool_fill(spool, fd, head, head_len, max, what, e);

		sit_pix_src_close(s);
		if (rc != 0)
			return -1;
		s->fd = fd;
		s->spool = spool;
		s->length = spool->len;
		return 0;
	}
	/* HEAD, when given, came from sit_pix_read_head(): SIT_PIX_HEAD_LEN. */
	if (sit_pix_read_rest(fd, &s->buf, &s->buf_len, head != NULL ? SIT_PIX_HEAD_LEN : 0,
		max, what, e) != 0) {
		sit_pix_src_close(s);
		return -1;
	}
	s->length = s->buf_len;
	return 0;
}

int
sit_pix_src_get(sit_pix_src *s, void *buf, size_t len, const char *what, sit_err *e)
{
	unsigned char *out = buf;
	size_t from_buf = s->buf_len - s->buf_pos;
	ssize_t n;

	if (len > s->length - s->pos)
		return sit_err_set(e, EX_SOFTWARE, "read past the end of %s", what);
	if (s->spool != NULL) {
		s->pos += len;
		return sit_spool_read(s->spool, buf, len, e);
	}
	if (from_buf > len)
		from_buf = len;
	if (from_buf > 0) { /* BUF is NULL for a file streamed from its start */
		memcpy(out, s->buf + s->buf_pos, from_buf);
		s->buf_pos += from_buf;
	}
	s->pos += len;
	if (from_buf == len)
		return 0;
	n = sit_io_read(s->fd, out + from_buf, len - from_buf);
	if (n < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read %s", what);
	if ((size_t)n < len - from_buf)
		return sit_err_set(e, EX_IOERR, "%s shrank while being read", what);
	return 0;
}

int
sit_pix_src_end(sit_pix_src *s, const char *what, sit_err *e)
{
	unsigned char extra;
	ssize_t n;

	if (!s->streamed)
		return 0;
	n = sit_io_read(s->fd, &extra, 1);
	if (n < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read %s", what);
	if (n > 0)
		return sit_err_set(e, EX_IOERR, "%s grew while being read", what);
	return 0;
}

void
sit_pix_src_close(sit_pix_src *s)
{
	if (s->buf != NULL) {
		/* The input may be a secret: do not leave it in freed memory. */
		sodium_memzero(s->buf, s->buf_len);
		free(s->buf);
	}
	memset(s, 0, sizeof *s);
}
