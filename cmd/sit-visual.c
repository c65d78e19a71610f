/* sit-visual - carry a byte stream in the pixels of an image, and back.
 *
 * -e: header, payload and checksum become the samples of an RGB 8-bit image
 * (sit-image(5)); -d gives back exactly the bytes, or says how the image was
 * changed.  See sit-visual(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "io.h"
#include "out.h"
#include "pixhdr.h"
#include "pixio.h"
#include "sandbox.h"
#include "seal.h"

/* On the stack, so that no exit path leaves it allocated; a few PNG blocks
 * long, so that the FAST writer sends most of them gathered (png.c). */
#define BLOCK (256 * 1024)

struct opts {
	int mode;            /* 'e' or 'd' */
	uint32_t width;      /* 0: near-square */
	int format;          /* 0 by the output name, 'p' PNG, 'm' PAM */
	int force;
	int verbose;
	int pass_sealed;     /* -d: a sealed stream goes through unchanged */
	int commitfd;        /* --commit-fd, or -1 */
	mode_t perm;         /* the -o file's mode before the umask */
	const char *out;
	const char *in;
};

enum { OPT_MODE = 256, OPT_COMMIT_FD };

static noreturn void
usage(void)
{
	printf("Usage: sit-visual -e [-w WIDTH] [--png|--pam] [-o OUT] [-f] [--mode MODE]\n"
		"                  [--commit-fd N] [-v] [INPUT]\n"
		"       sit-visual -d [--pass-sealed] [-o OUT] [-f] [--mode MODE] [--commit-fd N]\n"
		"                  [-v] [INPUT]\n"
		"Carry a byte stream in the pixels of an RGB image, and back.\n\n"
		"  -e, --encode     bytes to image (PNG if OUT ends in .png, else PAM)\n"
		"  -d, --decode     image (PNG, PAM, PNM, BMP, ...) back to the bytes\n"
		"  -w, --width N    image width in pixels (default: near-square)\n"
		"      --png        write PNG whatever the output name\n"
		"      --pam        write PAM whatever the output name\n"
		"      --pass-sealed  -d: write a sealed stream (SITAES) through unchanged\n"
		"  -o, --output F   write F atomically (default: standard output)\n"
		"  -f, --force      replace an existing output file\n"
		"      --mode MODE  OUT's permissions before the umask, octal (default 0666)\n"
		"      --commit-fd N\n"
		"                   name OUT only after reading 'y' from descriptor N; anything\n"
		"                   else withholds it, exit 75 (not for standard output or a fifo)\n"
		"  -v, --verbose    say whether the sandbox is in force\n"
		"  -h, --help       this help\n"
		"      --version    the version\n");
	exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "encode", no_argument, NULL, 'e' },
		{ "decode", no_argument, NULL, 'd' },
		{ "width", required_argument, NULL, 'w' },
		{ "png", no_argument, NULL, 'p' },
		{ "pam", no_argument, NULL, 'm' },
		{ "pass-sealed", no_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "commit-fd", required_argument, NULL, OPT_COMMIT_FD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	o->commitfd = -1;
	o->perm = 0666;
	while ((c = getopt_long(argc, argv, "edw:o:fvh", longs, NULL)) != -1) {
		switch (c) {
		case 'e':
		case 'd':
			if (o->mode != 0 && o->mode != c)
				sit_cli_usage_error("-e and -d exclude each other");
			o->mode = c;
			break;
		case 'w':
			o->width = (uint32_t)sit_cli_number("-w", optarg, 1,
				SIT_IMG_MAX_WIDTH_DEFAULT);
			break;
		case 'p':
		case 'm':
			o->format = c;
			break;
		case 'S':
			o->pass_sealed = 1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'f':
			o->force = 1;
			break;
		case OPT_MODE:
			o->perm = sit_cli_mode("--mode", optarg);
			break;
		case OPT_COMMIT_FD:
			o->commitfd = sit_cli_read_fd("--commit-fd", optarg);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage();
		case 'V':
			sit_cli_version();
		default:
			sit_cli_usage_error("unknown option");
		}
	}
	if (o->mode == 0)
		sit_cli_usage_error("say -e (encode) or -d (decode)");
	if (o->mode == 'd' && (o->width != 0 || o->format != 0))
		sit_cli_usage_error("-w, --png and --pam are for -e");
	if (o->mode == 'e' && o->pass_sealed)
		sit_cli_usage_error("--pass-sealed is for -d");
	if (argc - optind > 1)
		sit_cli_usage_error("one input at most");
	o->in = optind < argc ? argv[optind] : NULL;
}

/* Input and output are open: from here on only the descriptors we hold
 * (sandbox.h), before a byte of the untrusted side is parsed. */
static void
confine(const struct opts *o, const sit_out *out)
{
	sit_err e = { 0 };
	int rc = sit_sandbox_enter(sit_sandbox_out_flags(out), &e);

	if (rc < 0)
		sit_die_err(&e);
	if (o->verbose)
		sit_warn("%s", sit_sandbox_describe(rc));
}

static const char *
in_name(const struct opts *o)
{
	return o->in != NULL && strcmp(o->in, "-") != 0 ? o->in : "standard input";
}

/* Header, payload (checksummed on the way) and checksum into W. */
static int
encode_stream(sit_pix_src *src, sit_pix_writer *w, const unsigned char *hdr,
	const char *what, unsigned char *buf, sit_err *e)
{
	unsigned char sum[SIT_PIXHDR_SUM_LEN];
	sit_pixhdr_sum st;

	if (sit_pix_writer_put(w, hdr, SIT_PIXHDR_LEN, e) != 0)
		return -1;
	sit_pixhdr_sum_init(&st, hdr);
	while (src->pos < src->length) {
		uint64_t left = src->length - src->pos;
		size_t n = left < BLOCK ? (size_t)left : BLOCK;

		if (sit_pix_src_get(src, buf, n, what, e) != 0)
			return -1;
		sit_pixhdr_sum_update(&st, buf, n);
		if (sit_pix_writer_put(w, buf, n, e) != 0)
			return -1;
	}
	sit_pixhdr_sum_final(&st, sum);
	if (sit_pix_src_end(src, what, e) != 0 || sit_pix_writer_put(w, sum, sizeof sum, e) != 0)
		return -1;
	return sit_pix_writer_end(w, e);
}

static void
encode(const struct opts *o)
{
	unsigned char hdr[SIT_PIXHDR_LEN];
	sit_pixhdr h = { .kind = SIT_PIXHDR_VISUAL, .channels = 3, .depth = 8 };
	sit_img_sink sink;
	sit_pix_writer w;
	sit_pix_src src;
	sit_spool spool_mem, *spool;
	sit_out out;
	sit_err e = { 0 };
	unsigned char buf[BLOCK];
	int fd, png;

	if ((fd = sit_io_open_in(o->in, &e)) < 0)
		sit_die_err(&e);
	spool = sit_spool_for(fd, &spool_mem);
	if (sit_pix_src_open(&src, fd, NULL, 0, 3 * (size_t)SIT_IMG_MAX_PIXELS_DEFAULT,
		spool, in_name(o), &e) != 0 ||
	    sit_pixhdr_geometry(src.length, o->width, &h.width, &h.height, &e) != 0)
		sit_die_err(&e);
	h.length = src.length;
	if (sit_pixhdr_encode(&h, hdr, &e) != 0 ||
	    sit_out_open(&out, o->out, o->force, o->perm, &e) != 0)
		sit_die_err(&e);
	confine(o, &out);
	png = o->format == 'p' || (o->format == 0 && sit_pix_path_is_png(o->out));
	sink = SIT_IMG_SINK_OUT(&out);
	if (sit_pix_writer_begin(&w, &sink, png, h.width, h.height, 3, 8, &e) != 0)
		sit_die_err(&e);
	if (encode_stream(&src, &w, hdr, in_name(o), buf, &e) != 0) {
		sit_pix_writer_abort(&w);
		sit_die_err(&e);
	}
	if (sit_out_commit(&out, &e) != 0)
		sit_die_err(&e);
	sit_pix_src_close(&src);
	if (spool != NULL)
		sit_spool_close(spool);
	sit_io_close_in(fd);
	sodium_memzero(buf, sizeof buf);
}

/* Read and check the header; dies with a message saying what is wrong. */
static void
read_header(sit_pix_reader *r, const char *what, unsigned char *hdr, sit_pixhdr *h)
{
	enum sit_pixhdr_status st;
	sit_err e = { 0 };

	if (sit_pix_format_lossy(r->format))
		sit_die(EX_DATAERR, "image was altered (lossy conversion to %s): "
			"the bytes cannot be recovered", sit_img_format_name(r->format));
	if (r->size < SIT_PIXHDR_LEN)
		sit_die(EX_DATAERR, "%s is not a sit-visual image (too small)", what);
	if (sit_pix_reader_get(r, hdr, SIT_PIXHDR_LEN, what, &e) != 0)
		sit_die_err(&e);
	st = sit_pixhdr_parse(hdr, r->width, r->height, r->channels, r->depth, h);
	if (st == SIT_PIXHDR_NOT_OURS)
		sit_die(EX_DATAERR, "%s is not a sit-visual image", what);
	if (st == SIT_PIXHDR_RESHAPED)
		sit_die(EX_DATAERR, "image was cropped or resized (made as %ux%u, now %ux%u)",
			h->width, h->height, r->width, r->height);
	if (st != SIT_PIXHDR_OK)
		sit_die(EX_DATAERR, "image %s", sit_pixhdr_status_text(st));
	if (h->kind != SIT_PIXHDR_VISUAL)
		sit_die(EX_DATAERR, "%s is a share, not a sit-visual image (use sit-unshare)",
			what);
}

/* HEAD (taken over) and the rest of FD, unchanged, to OUT. */
static void
pass_through(int fd, unsigned char *head, size_t head_len, sit_out *out, const char *what)
{
	unsigned char buf[BLOCK];
	sit_err e = { 0 };
	ssize_t n;

	if (sit_out_write(out, head, head_len, &e) != 0)
		sit_die_err(&e);
	free(head);
	while ((n = sit_io_read(fd, buf, sizeof buf)) > 0)
		if (sit_out_write(out, buf, (size_t)n, &e) != 0)
			sit_die_err(&e);
	if (n < 0)
		sit_die(EX_IOERR, "cannot read %s: %s", what, strerror(errno));
	if (sit_out_commit(out, &e) != 0)
		sit_die_err(&e);
	sit_io_close_in(fd);
}

static void
decode(const struct opts *o)
{
	unsigned char hdr[SIT_PIXHDR_LEN], sum[SIT_PIXHDR_SUM_LEN], got[SIT_PIXHDR_SUM_LEN];
	sit_pixhdr_sum st;
	sit_pix_reader r;
	sit_pixhdr h;
	sit_out out;
	sit_err e = { 0 };
	unsigned char buf[BLOCK], *head;
	size_t head_len;
	uint64_t left;
	int fd;

	if ((fd = sit_io_open_in(o->in, &e)) < 0)
		sit_die_err(&e);
	/* The output before the image header: the header is parsed confined,
	 * and a bad image only ever leaves a temporary file, which sit_die
	 * removes. */
	if (sit_out_open(&out, o->out, o->force, o->perm, &e) != 0)
		sit_die_err(&e);
	confine(o, &out);
	if (sit_pix_read_head(fd, &head, &head_len, in_name(o), &e) != 0)
		sit_die_err(&e);
	/* A stream that may be a cipher image or already the sealed stream
	 * (what sit-unshare rebuilds, what arrives on a pipe): the second kind
	 * goes through as it is, and sit-aes judges it. */
	if (o->pass_sealed && head_len >= SIT_SEAL_MAGIC_LEN
	    && memcmp(head, SIT_SEAL_MAGIC, SIT_SEAL_MAGIC_LEN) == 0) {
		pass_through(fd, head, head_len, &out, in_name(o));
		return;
	}
	if (sit_pix_reader_open_head(&r, fd, head, head_len, 1, in_name(o), &e) != 0)
		sit_die(e.code, "%s is not a sit-visual image: %s", in_name(o), e.msg);
	read_header(&r, in_name(o), hdr, &h);
	sit_pixhdr_sum_init(&st, hdr);
	for (left = h.length; left > 0;) {
		size_t n = left < BLOCK ? (size_t)left : BLOCK;

		if (sit_pix_reader_get(&r, buf, n, in_name(o), &e) != 0 ||
		    sit_out_write(&out, buf, n, &e) != 0)
			sit_die_err(&e);
		sit_pixhdr_sum_update(&st, buf, n);
		left -= n;
	}
	sit_pixhdr_sum_final(&st, sum);
	if (sit_pix_reader_get(&r, got, sizeof got, in_name(o), &e) != 0)
		sit_die_err(&e);
	if (sodium_memcmp(sum, got, sizeof sum) != 0)
		sit_die(EX_DATAERR, "image %s", sit_pixhdr_status_text(SIT_PIXHDR_ALTERED));
	if (sit_pix_reader_drain(&r, in_name(o), &e) != 0 || sit_out_commit(&out, &e) != 0)
		sit_die_err(&e);
	sit_pix_reader_close(&r);
	sit_io_close_in(fd);
}

int
main(int argc, char **argv)
{
	struct opts o;

	sit_cli_init("sit-visual");
	parse(argc, argv, &o);
	/* Before the sandbox splits the process: the parent keeps the gate. */
	if (o.commitfd >= 0)
		sit_out_gate(o.commitfd);
	if (sodium_init() < 0)
		sit_die(EX_OSERR, "libsodium cannot be initialised");
	if (o.mode == 'e')
		encode(&o);
	else
		decode(&o);
	return 0;
}
