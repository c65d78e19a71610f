/* sit-load - check an image and pass it on, unchanged, stripped or converted.
 *
 * Where images enter the pipeline (sender) and leave it (receiver): the
 * input is read whole, decoded under limits to prove it is a complete
 * image, and then written out: the original bytes by default (so that the
 * receiver gets exactly what was sent), without metadata (--strip), or
 * re-encoded (--to, --max-dim).  Bad input never produces an output file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "img.h"
#include "io.h"
#include "out.h"
#include "sandbox.h"

#define MAX_INPUT_DEFAULT (512ull << 20)
#define JPEG_QUALITY_DEFAULT 90

enum target { TO_SAME, TO_PNG, TO_PNG_FAST, TO_JPEG, TO_PAM };

typedef struct options {
	const char *input, *output;
	int force, verbose, strip, info, allow_8bit;
	int commitfd;                   /* --commit-fd, or -1 */
	int perm_set;                   /* --mode given */
	mode_t perm;                    /* the -o file's mode before the umask */
	enum target to;
	int quality;
	uint32_t max_dim;               /* 0: no downscaling */
	size_t max_input;
	sit_img_limits lim;
} options;

enum { OPT_TO = 256, OPT_MAX_DIM, OPT_MAX_WIDTH, OPT_MAX_HEIGHT, OPT_MAX_PIXELS,
	OPT_MAX_INPUT, OPT_ALLOW_8BIT, OPT_STRIP, OPT_INFO, OPT_VERSION, OPT_MODE,
	OPT_COMMIT_FD };

static const struct option longopts[] = {
	{ "strip",       no_argument,       NULL, OPT_STRIP },
	{ "to",          required_argument, NULL, OPT_TO },
	{ "max-dim",     required_argument, NULL, OPT_MAX_DIM },
	{ "allow-8bit",  no_argument,       NULL, OPT_ALLOW_8BIT },
	{ "info",        no_argument,       NULL, OPT_INFO },
	{ "max-width",   required_argument, NULL, OPT_MAX_WIDTH },
	{ "max-height",  required_argument, NULL, OPT_MAX_HEIGHT },
	{ "max-pixels",  required_argument, NULL, OPT_MAX_PIXELS },
	{ "max-input",   required_argument, NULL, OPT_MAX_INPUT },
	{ "output",      required_argument, NULL, 'o' },
	{ "force",       no_argument,       NULL, 'f' },
	{ "mode",        required_argument, NULL, OPT_MODE },
	{ "commit-fd",   required_argument, NULL, OPT_COMMIT_FD },
	{ "verbose",     no_argument,       NULL, 'v' },
	{ "help",        no_argument,       NULL, 'h' },
	{ "version",     no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	printf("usage: sit-load [--strip] [--to png[:fast]|jpeg[:QUALITY]|pam] [--max-dim N] [--allow-8bit]\n"
		"                [--max-width N] [--max-height N] [--max-pixels N] [--max-input BYTES]\n"
		"                [-o OUT] [-f] [--mode MODE] [--commit-fd N] [-v] [INPUT]\n"
		"       sit-load --info [INPUT]\n"
		"Check that INPUT (default standard input) is a complete JPEG, PNG, BMP, GIF, TGA or\n"
		"PNM/PAM image within the limits and write its bytes unchanged to OUT (default\n"
		"standard output).  Bad input: exit 65 and nothing is written.\n"
		"  --strip           remove metadata (EXIF, XMP, IPTC, comments, PNG text) losslessly\n"
		"  --to FORMAT       re-encode as png, png:fast (uncompressed), jpeg or jpeg:QUALITY\n"
		"                    (1-100, default %d), or pam\n"
		"  --max-dim N       downscale so that neither side exceeds N pixels\n"
		"  --allow-8bit      let --to jpeg reduce a 16-bit image to 8 bits\n"
		"  --info            print format, width, height, channels, bits, bytes; write no image\n"
		"  --max-width N     refuse wider images (default %u)\n"
		"  --max-height N    refuse taller images (default %u)\n"
		"  --max-pixels N    refuse images with more pixels (default %u)\n"
		"  --max-input BYTES refuse larger input (default %llu)\n"
		"  -o, --output OUT  write OUT atomically; -f replaces an existing file\n"
		"  --mode MODE       OUT's permissions before the umask, octal (default 0666)\n"
		"  --commit-fd N     name OUT only after reading 'y' from descriptor N; anything\n"
		"                    else withholds it, exit 75 (not for standard output or a fifo)\n"
		"  -v, --verbose     say what was done\n",
		JPEG_QUALITY_DEFAULT, SIT_IMG_MAX_WIDTH_DEFAULT, SIT_IMG_MAX_HEIGHT_DEFAULT,
		SIT_IMG_MAX_PIXELS_DEFAULT, MAX_INPUT_DEFAULT);
}

static void
parse_to(options *o, const char *arg)
{
	if (strcmp(arg, "png") == 0) {
		o->to = TO_PNG;
	} else if (strcmp(arg, "png:fast") == 0) {
		o->to = TO_PNG_FAST;
	} else if (strcmp(arg, "pam") == 0) {
		o->to = TO_PAM;
	} else if (strcmp(arg, "jpeg") == 0 || strcmp(arg, "jpg") == 0) {
		o->to = TO_JPEG;
	} else if (strncmp(arg, "jpeg:", 5) == 0) {
		o->to = TO_JPEG;
		o->quality = (int)sit_cli_number("--to jpeg:QUALITY", arg + 5, 1, 100);
	} else {
		sit_cli_usage_error("--to wants png, png:fast, jpeg, jpeg:QUALITY or pam, not '%s'", arg);
	}
}

static void
check_options(const options *o)
{
	if (o->info && (o->strip || o->to != TO_SAME || o->max_dim || o->output || o->perm_set
	    || o->commitfd >= 0))
		sit_cli_usage_error("--info only describes the input; it takes no other output option");
	if (o->strip && o->to != TO_SAME)
		sit_cli_usage_error("--strip keeps the encoding; --to re-encodes, which drops metadata anyway");
	if (o->allow_8bit && o->to != TO_JPEG)
		sit_cli_usage_error("--allow-8bit only matters with --to jpeg");
}

static void
parse_args(int argc, char **argv, options *o)
{
	static const sit_img_limits def = SIT_IMG_LIMITS_DEFAULT;
	int c;

	memset(o, 0, sizeof *o);
	o->quality = JPEG_QUALITY_DEFAULT;
	o->max_input = MAX_INPUT_DEFAULT;
	o->lim = def;
	o->commitfd = -1;
	o->perm = 0666;
	while ((c = getopt_long(argc, argv, "o:fvh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STRIP: o->strip = 1; break;
		case OPT_TO: parse_to(o, optarg); break;
		case OPT_MAX_DIM:
			o->max_dim = (uint32_t)sit_cli_number("--max-dim", optarg, 1, SIT_IMG_DIM_CEILING);
			break;
		case OPT_ALLOW_8BIT: o->allow_8bit = 1; break;
		case OPT_INFO: o->info = 1; break;
		case OPT_MAX_WIDTH:
			o->lim.max_width = (uint32_t)sit_cli_number("--max-width", optarg, 1, SIT_IMG_DIM_CEILING);
			break;
		case OPT_MAX_HEIGHT:
			o->lim.max_height = (uint32_t)sit_cli_number("--max-height", optarg, 1, SIT_IMG_DIM_CEILING);
			break;
		case OPT_MAX_PIXELS:
			o->lim.max_pixels = sit_cli_number("--max-pixels", optarg, 1, 1ull << 32);
			break;
		case OPT_MAX_INPUT:
			/* stb_image takes an int length: at most 2 GiB - 1. */
			o->max_input = (size_t)sit_cli_number("--max-input", optarg, 1, 0x7fffffff);
			break;
		case 'o': o->output = optarg; break;
		case 'f': o->force = 1; break;
		case OPT_MODE: o->perm = sit_cli_mode("--mode", optarg); o->perm_set = 1; break;
		case OPT_COMMIT_FD: o->commitfd = sit_cli_read_fd("--commit-fd", optarg); break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(); exit(0);
		case OPT_VERSION: sit_cli_version();
		default: sit_cli_usage_error("unknown option");
		}
	}
	if (optind < argc)
		o->input = argv[optind++];
	if (optind < argc)
		sit_cli_usage_error("one input at most; '%s' is extra", argv[optind]);
	check_options(o);
}

static void
read_input(const options *o, unsigned char **buf, size_t *len)
{
	sit_err e = { 0, "" };
	const char *name = o->input && strcmp(o->input, "-") != 0 ? o->input : "standard input";
	int fd = sit_io_open_in(o->input, &e);

	if (fd < 0)
		sit_die_err(&e);
	if (sit_io_slurp(fd, o->max_input, buf, len, name, &e) < 0)
		sit_die_err(&e);
	sit_io_close_in(fd);
}

/* --max-dim without --to keeps the kind of file: JPEG stays JPEG, the
 * rest become PNG (lossless, and what every viewer reads). */
static enum target
resolve_target(const options *o, const sit_img_header *h, int resized)
{
	if (o->to != TO_SAME)
		return o->to;
	if (resized)
		return h->format == SIT_IMG_JPEG ? TO_JPEG : TO_PNG;
	return TO_SAME;
}

static int
encode(const options *o, enum target to, sit_img *img, const sit_img_sink *sink, sit_err *e)
{
	switch (to) {
	case TO_PNG:
		return sit_img_write_png(img, SIT_IMG_PNG_COMPRESS, sink, e);
	case TO_PNG_FAST:
		return sit_img_write_png(img, SIT_IMG_PNG_FAST, sink, e);
	case TO_PAM:
		return sit_img_write_pam(img, sink, e);
	case TO_JPEG:
		if (img->depth == 16) {
			/* Never lose bits without being asked. */
			if (!o->allow_8bit)
				return sit_err_set(e, EX_DATAERR, "16-bit image: JPEG holds 8 bits per "
					"sample; use --to png or --to pam, or --allow-8bit");
			if (sit_img_to_8bit(img, e) < 0)
				return -1;
		}
		return sit_img_write_jpeg(img, o->quality, sink, e);
	case TO_SAME:
		break;
	}
	return sit_err_set(e, EX_SOFTWARE, "nothing to encode");
}

static void
print_info(const sit_img_header *h, size_t len)
{
	printf("format=%s width=%u height=%u channels=%u bits=%u bytes=%zu\n",
		sit_img_format_name(h->format), h->width, h->height, h->channels, h->depth, len);
	if (fflush(stdout) != 0 || ferror(stdout))
		sit_die(EX_IOERR, "cannot write to standard output");
}

static const char *
target_name(enum target to)
{
	static const char *const names[] = { "unchanged", "PNG", "uncompressed PNG",
		"JPEG", "PAM" };

	return names[to];
}

int
main(int argc, char **argv)
{
	options o;
	unsigned char *buf = NULL;
	size_t len = 0;
	sit_img img;
	sit_img_header h;
	sit_out out;
	sit_img_sink sink = SIT_IMG_SINK_OUT(&out);
	sit_err e = { 0, "" };
	enum target to;
	int rc, resized;

	sit_cli_init("sit-load");
	parse_args(argc, argv, &o);
	/* Before the sandbox splits the process: the parent keeps the gate. */
	if (o.commitfd >= 0)
		sit_out_gate(o.commitfd);
	read_input(&o, &buf, &len);
	/* Open the output before the decoder sees a byte, so that decoding
	 * runs confined (sandbox.h).  It is a temporary file until the commit:
	 * bad input still leaves nothing behind (sit_die removes it). */
	if (!o.info && sit_out_open(&out, o.output, o.force, o.perm, &e) < 0)
		sit_die_err(&e);
	if ((rc = sit_sandbox_enter(o.info ? 0 : sit_sandbox_out_flags(&out), &e)) < 0)
		sit_die_err(&e);
	if (o.verbose)
		sit_warn("%s", sit_sandbox_describe(rc));
	if (sit_img_decode(buf, len, &o.lim, &img, &h, &e) < 0)
		sit_die_err(&e);
	if (o.info) {
		print_info(&h, len);
		sit_img_free(&img);
		free(buf);
		return 0;
	}
	resized = o.max_dim && (img.width > o.max_dim || img.height > o.max_dim);
	if (resized && sit_img_fit(&img, o.max_dim, &e) < 0)
		sit_die_err(&e);
	to = resolve_target(&o, &h, resized);
	if (to != TO_SAME)
		rc = encode(&o, to, &img, &sink, &e);
	else if (o.strip)
		rc = sit_img_strip(buf, len, h.format, &sink, &e);
	else
		rc = sit_out_write(&out, buf, len, &e);
	if (rc < 0 || sit_out_commit(&out, &e) < 0) {
		sit_out_abort(&out);
		sit_die_err(&e);
	}
	if (o.verbose)
		sit_warn("%s %ux%u, %u channels, %u bits: %s%s", sit_img_format_name(h.format),
			h.width, h.height, h.channels, h.depth, o.strip ? "stripped, " : "",
			to == TO_SAME ? "written unchanged" : target_name(to));
	sit_img_free(&img);
	free(buf);
	return 0;
}
