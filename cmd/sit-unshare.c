/* sit-unshare - rebuild what sit-share split, from K or more of its shares.
 * See sit-unshare(1) and sit-image(5).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "io.h"
#include "out.h"
#include "pipeline.h"
#include "pixio.h"
#include "sandbox.h"
#include "shamir.h"
#include "unshare.h"

struct opts {
	int format;               /* 0 by name, 'p' PNG, 'm' PAM (image shares) */
	int force;
	int verbose;
	int commitfd;             /* --commit-fd, or -1 */
	mode_t perm;              /* the -o file's mode before the umask */
	const char *out;
	const char *const *shares;
	unsigned count;
};

/* Where the rebuilt stream goes: bytes, or the rows of an image. */
struct sink {
	sit_out out;
	int image;
	sit_img_sink is;          /* the image writer's output: OUT */
	sit_pix_writer w;
	sit_img_sink to;          /* the rebuilt stream: OUT or W */
};

enum { OPT_MODE = 256, OPT_COMMIT_FD };

static noreturn void
usage(void)
{
	printf("Usage: sit-unshare [-o OUT] [-f] [--mode MODE] [--commit-fd N] [-v] [--png|--pam]\n"
		"                   SHARE...\n"
		"Rebuild the stream (or image) that sit-share split, from K of its shares.\n\n"
		"  -o, --output F   write F atomically (default: standard output)\n"
		"      --png        an image rebuilt is written as PNG (default: by name)\n"
		"      --pam        an image rebuilt is written as PAM\n"
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
		{ "output", required_argument, NULL, 'o' },
		{ "png", no_argument, NULL, 'p' },
		{ "pam", no_argument, NULL, 'm' },
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
	while ((c = getopt_long(argc, argv, "o:fvh", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'p':
		case 'm': o->format = c; break;
		case 'f': o->force = 1; break;
		case OPT_MODE: o->perm = sit_cli_mode("--mode", optarg); break;
		case OPT_COMMIT_FD: o->commitfd = sit_cli_read_fd("--commit-fd", optarg); break;
		case 'v': o->verbose = 1; break;
		case 'h': usage();
		case 'V': sit_cli_version();
		default: sit_cli_usage_error("unknown option");
		}
	}
	if (optind >= argc)
		sit_cli_usage_error("name the shares");
	if (argc - optind > SIT_SHAMIR_MAX_N)
		sit_cli_usage_error("at most %d shares", SIT_SHAMIR_MAX_N);
	o->shares = (const char *const *)(argv + optind);
	o->count = (unsigned)(argc - optind);
}

/* The output file (a temporary one with -o); opened before any share
 * header is read, so that the headers are parsed confined. */
static void
open_sink(const struct opts *o, struct sink *k)
{
	sit_err e = { 0 };

	memset(k, 0, sizeof *k);
	if (sit_out_open(&k->out, o->out, o->force, o->perm, &e) != 0)
		sit_die_err(&e);
}

/* Bytes, or an image writer shaped as the shares say. */
static void
start_sink(const struct opts *o, const sit_pixhdr *h, struct sink *k)
{
	sit_err e = { 0 };
	int png;

	k->image = h->content == SIT_PIXHDR_PIXELS;
	k->to = k->image ? (sit_img_sink){ sit_pix_sink_writer, &k->w, NULL }
		: SIT_IMG_SINK_OUT(&k->out);
	if (!k->image)
		return;
	png = o->format == 'p' || (o->format == 0 && sit_pix_path_is_png(o->out));
	k->is = SIT_IMG_SINK_OUT(&k->out);
	if (sit_pix_writer_begin(&k->w, &k->is, png, h->width, h->rows, h->channels,
		h->depth, &e) != 0)
		sit_die_err(&e);
}

int
main(int argc, char **argv)
{
	struct opts o;
	int fds[SIT_SHAMIR_MAX_N];
	struct sink out;
	sit_unshare u;
	sit_err e = { 0 };
	unsigned threads;
	int rc;

	sit_cli_init("sit-unshare");
	parse(argc, argv, &o);
	/* Before the sandbox splits the process: the parent keeps the gate. */
	if (o.commitfd >= 0)
		sit_out_gate(o.commitfd);
	if (sodium_init() < 0)
		sit_die(EX_OSERR, "libsodium cannot be initialised");
	/* Open them all before reading any: fifos fed by one sit-share open
	 * in the order it writes them, and it writes them in turn. */
	for (unsigned i = 0; i < o.count; i++)
		if ((fds[i] = sit_io_open_in(o.shares[i], &e)) < 0)
			sit_die_err(&e);
	open_sink(&o, &out);
	threads = sit_pipeline_threads();
	/* Everything is open: from here on only the descriptors we hold
	 * (sandbox.h), before a byte of any share is parsed. */
	if ((rc = sit_sandbox_enter(sit_sandbox_out_flags(&out.out), &e)) < 0)
		sit_die_err(&e);
	if (o.verbose)
		sit_warn("%s", sit_sandbox_describe(rc));
	if (sit_unshare_open(&u, fds, o.shares, o.count, &e) != 0)
		sit_die_err(&e);
	start_sink(&o, u.set, &out);
	if (sit_unshare_join(&u, threads, 0, &out.to, &e) != 0)
		sit_die_err(&e);
	if (out.image && sit_pix_writer_end(&out.w, &e) != 0)
		sit_die_err(&e);
	if (sit_unshare_drain(&u, &e) != 0)
		sit_die_err(&e);
	sit_unshare_free(&u);
	for (unsigned i = 0; i < o.count; i++)
		sit_io_close_in(fds[i]);
	if (sit_out_commit(&out.out, &e) != 0)
		sit_die_err(&e);
	return 0;
}
