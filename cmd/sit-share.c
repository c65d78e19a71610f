/* sit-share - split a byte stream or an image into N image shares, any K of
 * which rebuild it (Shamir's scheme over GF(2^8), byte by byte).
 * See sit-share(1) and sit-image(5).
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
#include "pixhdr.h"
#include "pipeline.h"
#include "pixio.h"
#include "sandbox.h"
#include "shamir.h"

struct opts {
	unsigned k, n;
	int format;               /* 0 by name, 'p' PNG, 'm' PAM */
	int bytes;                /* never treat the input as an image */
	int force;
	int verbose;
	int commitfd;             /* --commit-fd, or -1 */
	mode_t perm;              /* the shares' mode before the umask */
	const char *prefix;
	const char *in;
	char **outs;              /* N names, or NULL with a prefix */
};

/* Everything about one share being written. */
struct share {
	char name[4096];
	sit_out out;
	sit_img_sink sink;
	sit_pix_writer w;
	sit_pixhdr_sum sum;
	unsigned char hdr[SIT_PIXHDR_LEN];
};

/* Where the secret comes from: an image's samples or a byte stream. */
struct input {
	int image;
	sit_pix_reader r;
	sit_pix_src src;
	uint64_t length, done;
	const char *what;
};

enum { OPT_MODE = 256, OPT_COMMIT_FD };

static noreturn void
usage(void)
{
	printf("Usage: sit-share [-k K] [-n N] [--png|--pam] [--bytes] [-i INPUT] [-f] [--mode MODE]\n"
		"                 [--commit-fd N] [-v] OUT1 ... OUTN\n"
		"       sit-share [-k K] [-n N] [--png|--pam] [--bytes] [-i INPUT] [-f] [--mode MODE]\n"
		"                 [--commit-fd N] [-v] -o PREFIX\n"
		"Split the input into N image shares, any K of which rebuild it.\n\n"
		"  -k K             shares needed to rebuild (2..N, default 2)\n"
		"  -n N             shares made (K..255; default: the number of OUTs, or 2)\n"
		"  -o PREFIX        write PREFIX.1.png ... PREFIX.N.png (.pam with --pam)\n"
		"  -i, --input F    read F instead of standard input\n"
		"      --png        write every share as PNG whatever its name\n"
		"      --pam        write every share as PAM whatever its name\n"
		"      --bytes      share the input's bytes even when it is a PNG or PAM\n"
		"  -f, --force      replace existing output files\n"
		"      --mode MODE  the shares' permissions before the umask, octal (default 0666)\n"
		"      --commit-fd N\n"
		"                   name the shares only after reading 'y' from descriptor N;\n"
		"                   anything else withholds them all, exit 75 (not for standard\n"
		"                   output or fifos)\n"
		"  -v, --verbose    say whether the sandbox is in force\n"
		"  -h, --help       this help\n"
		"      --version    the version\n");
	exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "png", no_argument, NULL, 'p' },
		{ "pam", no_argument, NULL, 'm' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "commit-fd", required_argument, NULL, OPT_COMMIT_FD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned nargs;
	int c;

	memset(o, 0, sizeof *o);
	o->k = 2;
	o->commitfd = -1;
	o->perm = 0666;
	while ((c = getopt_long(argc, argv, "k:n:i:o:fvh", longs, NULL)) != -1) {
		switch (c) {
		case 'k': o->k = (unsigned)sit_cli_number("-k", optarg, 2, SIT_SHAMIR_MAX_N); break;
		case 'n': o->n = (unsigned)sit_cli_number("-n", optarg, 2, SIT_SHAMIR_MAX_N); break;
		case 'i': o->in = optarg; break;
		case 'o': o->prefix = optarg; break;
		case 'p':
		case 'm': o->format = c; break;
		case 'b': o->bytes = 1; break;
		case 'f': o->force = 1; break;
		case OPT_MODE: o->perm = sit_cli_mode("--mode", optarg); break;
		case OPT_COMMIT_FD: o->commitfd = sit_cli_read_fd("--commit-fd", optarg); break;
		case 'v': o->verbose = 1; break;
		case 'h': usage();
		case 'V': sit_cli_version();
		default: sit_cli_usage_error("unknown option");
		}
	}
	nargs = (unsigned)(argc - optind);
	if (o->prefix != NULL && nargs > 0)
		sit_cli_usage_error("give either -o PREFIX or the output names, not both");
	if (o->prefix == NULL) {
		if (nargs == 0)
			sit_cli_usage_error("name the outputs, or give -o PREFIX");
		if (o->n != 0 && o->n != nargs)
			sit_cli_usage_error("-n %u but %u outputs named", o->n, nargs);
		if (nargs > SIT_SHAMIR_MAX_N)
			sit_cli_usage_error("at most %d shares", SIT_SHAMIR_MAX_N);
		o->n = nargs;
		o->outs = argv + optind;
	} else if (o->n == 0) {
		o->n = 2;
	}
	if (o->k > o->n)
		sit_cli_usage_error("K (%u) is more than N (%u)", o->k, o->n);
}

/* PNG or PAM: the input is an image whose shares keep its shape. */
static int
shares_as_image(sit_img_format f)
{
	return f == SIT_IMG_PNG || f == SIT_IMG_PAM || f == SIT_IMG_PNM;
}

/* Only the descriptor: its bytes are read once the program is confined. */
static int
open_input_fd(const struct opts *o)
{
	sit_err e = { 0 };
	int fd = sit_io_open_in(o->in, &e);

	if (fd < 0)
		sit_die_err(&e);
	return fd;
}

/* Sniff the input: an image whose shares keep its shape, or bytes. */
static void
start_input(const struct opts *o, int fd, sit_spool *spool, struct input *in)
{
	unsigned char *head;
	size_t len;
	sit_err e = { 0 };

	memset(in, 0, sizeof *in);
	in->what = o->in != NULL && strcmp(o->in, "-") != 0 ? o->in : "standard input";
	if (sit_pix_read_head(fd, &head, &len, in->what, &e) != 0)
		sit_die_err(&e);
	in->image = !o->bytes && shares_as_image(sit_img_sniff(head, len));
	if (in->image) {
		if (sit_pix_reader_open_head(&in->r, fd, head, len, 0, in->what, &e) != 0)
			sit_die_err(&e);
		in->length = in->r.size;
	} else {
		if (sit_pix_src_open(&in->src, fd, head, len,
			3 * (size_t)SIT_IMG_MAX_PIXELS_DEFAULT, spool, in->what, &e) != 0)
			sit_die_err(&e);
		in->length = in->src.length;
	}
}

/* The shape of every share, in H (without K, N, x and the set id). */
static void
share_shape(const struct input *in, sit_pixhdr *h)
{
	sit_err e = { 0 };

	h->kind = SIT_PIXHDR_SHARE;
	h->length = in->length;
	if (!in->image) {
		h->content = SIT_PIXHDR_BYTES;
		h->channels = 3;
		h->depth = 8;
		if (sit_pixhdr_geometry(in->length, 0, &h->width, &h->height, &e) != 0)
			sit_die_err(&e);
		return;
	}
	/* The image's own width, channels and depth; its rows, plus enough
	 * rows on top for the header and checksum. */
	uint64_t row = sit_pixhdr_capacity(in->r.width, 1, in->r.channels, in->r.depth);
	uint64_t extra = (SIT_PIXHDR_OVERHEAD + row - 1) / row;

	h->content = SIT_PIXHDR_PIXELS;
	h->width = in->r.width;
	h->rows = in->r.height;
	h->channels = in->r.channels;
	h->depth = in->r.depth;
	if (in->r.height + extra > SIT_IMG_MAX_HEIGHT_DEFAULT)
		sit_die(EX_DATAERR, "%s is too tall to share (at most %u rows)", in->what,
			SIT_IMG_MAX_HEIGHT_DEFAULT - (unsigned)extra);
	h->height = in->r.height + (uint32_t)extra;
	if (sit_img_check_limits(h->width, h->height, NULL, &e) != 0)
		sit_die_err(&e);
}

static void
share_name(const struct opts *o, unsigned i, struct share *s)
{
	int n;

	if (o->outs != NULL)
		n = snprintf(s->name, sizeof s->name, "%s", o->outs[i]);
	else
		n = snprintf(s->name, sizeof s->name, "%s.%u.%s", o->prefix, i + 1,
			o->format == 'm' ? "pam" : "png");
	if (n < 0 || (size_t)n >= sizeof s->name)
		sit_die(EX_USAGE, "output name too long");
}

/* Share I's output file (a temporary one until the end). */
static void
open_share(const struct opts *o, unsigned i, struct share *s)
{
	sit_err e = { 0 };

	share_name(o, i, s);
	if (sit_out_open(&s->out, s->name, o->force, o->perm, &e) != 0)
		sit_die_err(&e);
}

/* Start share I's image and write its header. */
static void
start_share(const struct opts *o, unsigned i, sit_pixhdr *h, struct share *s)
{
	sit_err e = { 0 };
	int png;

	h->x = i + 1;
	png = o->format == 'p' || (o->format == 0 && sit_pix_path_is_png(s->name));
	if (sit_pixhdr_encode(h, s->hdr, &e) != 0)
		sit_die_err(&e);
	s->sink = SIT_IMG_SINK_OUT(&s->out);
	if (sit_pix_writer_begin(&s->w, &s->sink, png, h->width, h->height, h->channels,
		h->depth, &e) != 0 ||
	    sit_pix_writer_put(&s->w, s->hdr, SIT_PIXHDR_LEN, &e) != 0)
		sit_die_err(&e);
	sit_pixhdr_sum_init(&s->sum, s->hdr);
}

/* Splitting goes through lib/pipeline.h: threads read batches of the input
 * in order, split them side by side, and sum and write the shares of
 * finished batches in order.  Between regular files every share is a part
 * of its own, written by whichever thread is free (copying the shares into
 * the kernel is most of the work left); when any output is a fifo one part
 * writes them all in turns, as sit-unshare reads them (see pixio.h). */
struct split {
	struct input *in;
	const sit_shamir_split *sp;
	struct share *sh;
	unsigned n;
	size_t batch;             /* bytes per batch, a multiple of the block */
	size_t turn;              /* bytes per share per turn when writing */
	unsigned parts;           /* N (a share per part) or 1 (all in turns) */
};

struct batch {
	uint8_t *secret;          /* BATCH bytes of input */
	size_t len;
	size_t used;              /* the most of SECRET ever filled, to wipe */
	uint8_t *coef;            /* SIT_SHAMIR_COEF_LEN(k) scratch */
	uint8_t *out[SIT_SHAMIR_MAX_N]; /* BATCH bytes of each share */
};

static int
fill_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	struct split *sp = ctx;
	struct batch *b = slot;
	struct input *in = sp->in;
	uint64_t left = in->length - in->done;
	int rc;

	(void)index;
	(void)part; /* one part: the input */
	if (left == 0)
		return 0;
	b->len = left < sp->batch ? (size_t)left : sp->batch;
	rc = in->image ? sit_pix_reader_get(&in->r, b->secret, b->len, in->what, e)
		: sit_pix_src_get(&in->src, b->secret, b->len, in->what, e);
	if (rc != 0)
		return -1;
	in->done += b->len;
	if (b->len > b->used)
		b->used = b->len;
	return 1;
}

static int
split_batch(void *ctx, void *slot, uint64_t index, sit_err *e)
{
	struct split *sp = ctx;
	struct batch *b = slot;
	uint64_t block = index * (sp->batch / SIT_SHAMIR_BLOCK);
	uint8_t *outs[SIT_SHAMIR_MAX_N];

	(void)e;
	for (size_t off = 0; off < b->len; off += SIT_SHAMIR_BLOCK, block++) {
		size_t m = b->len - off < SIT_SHAMIR_BLOCK ? b->len - off : SIT_SHAMIR_BLOCK;

		for (unsigned i = 0; i < sp->n; i++)
			outs[i] = b->out[i] + off;
		sit_shamir_split_block_at(sp->sp, block, b->coef, b->secret + off, m, outs);
	}
	return 0;
}

/* Shares FIRST..LAST-1 of a batch, summed and written in turns. */
static int
write_shares(struct split *sp, const struct batch *b, unsigned first, unsigned last,
	sit_err *e)
{
	for (unsigned i = first; i < last; i++)
		sit_pixhdr_sum_update(&sp->sh[i].sum, b->out[i], b->len);
	for (size_t off = 0; off < b->len; off += sp->turn) {
		size_t m = b->len - off < sp->turn ? b->len - off : sp->turn;

		for (unsigned i = first; i < last; i++)
			if (sit_pix_writer_put(&sp->sh[i].w, b->out[i] + off, m, e) != 0)
				return -1;
	}
	return 0;
}

static int
write_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	struct split *sp = ctx;

	(void)index;
	if (sp->parts == 1)
		return write_shares(sp, slot, 0, sp->n, e);
	return write_shares(sp, slot, part, part + 1, e);
}

static void
free_batch(struct batch *b, unsigned k, unsigned n)
{
	/* Only what was filled: wiping the rest would first fault it in. */
	if (b->secret != NULL)
		sodium_memzero(b->secret, b->used);
	if (b->coef != NULL)
		sodium_memzero(b->coef, SIT_SHAMIR_COEF_LEN(k));
	free(b->secret);
	free(b->coef);
	for (unsigned i = 0; i < n; i++)
		free(b->out[i]);
}

static void
split_all(struct input *in, const sit_shamir_split *shamir, struct share *sh,
	unsigned threads)
{
	static const sit_pipeline_ops ops = { fill_batch, split_batch, write_batch };
	struct batch batches[SIT_PIPELINE_MAX_THREADS + 2];
	void *slots[SIT_PIPELINE_MAX_THREADS + 2];
	unsigned nslots = threads + 2;
	int fds[SIT_SHAMIR_MAX_N];
	struct split sp = { in, shamir, sh, shamir->n, sit_shamir_batch_len(shamir->n + 1), 0, 1 };
	sit_err e = { 0 };
	int rc;

	for (unsigned i = 0; i < sp.n; i++)
		fds[i] = sh[i].out.fd;
	/* A small input needs no more than its own length (in whole blocks,
	 * which number the coefficients) in each buffer. */
	if (in->length < sp.batch)
		sp.batch = in->length == 0 ? SIT_SHAMIR_BLOCK :
			(size_t)(in->length + SIT_SHAMIR_BLOCK - 1) / SIT_SHAMIR_BLOCK * SIT_SHAMIR_BLOCK;
	sp.turn = sit_pix_turn(fds, sp.n, sp.batch);
	if (sp.turn == sp.batch)
		sp.parts = sp.n;
	memset(batches, 0, sizeof batches);
	for (unsigned t = 0; t < nslots; t++) {
		struct batch *b = &batches[t];
		int ok = (b->secret = malloc(sp.batch)) != NULL &&
			(b->coef = malloc(SIT_SHAMIR_COEF_LEN(shamir->k))) != NULL;

		for (unsigned i = 0; ok && i < sp.n; i++)
			ok = (b->out[i] = malloc(sp.batch)) != NULL;
		if (!ok)
			sit_die(EX_OSERR, "out of memory");
		slots[t] = b;
	}
	rc = sit_pipeline_run(&ops, &sp, slots, nslots, threads, 1, sp.parts, &e);
	for (unsigned t = 0; t < nslots; t++)
		free_batch(&batches[t], shamir->k, sp.n);
	if (rc != 0)
		sit_die_err(&e);
}

/* Checksums, padding, then every share gets its final name.  The padding
 * (up to a row, which may be longer than a pipe holds) goes in the same
 * turns as the payload: sit-unshare may be reading the shares from fifos. */
static void
finish_all(struct share *sh, unsigned n, unsigned threads)
{
	static const unsigned char zeros[SIT_PIX_INTERLEAVE];
	sit_out *outs[SIT_SHAMIR_MAX_N];
	unsigned char sum[SIT_PIXHDR_SUM_LEN];
	sit_err e = { 0 };
	uint64_t left;

	for (unsigned i = 0; i < n; i++) {
		sit_pixhdr_sum_final(&sh[i].sum, sum);
		if (sit_pix_writer_put(&sh[i].w, sum, sizeof sum, &e) != 0)
			sit_die_err(&e);
	}
	/* Every share has the same shape, so the same padding left. */
	for (left = sit_pix_writer_left(&sh[0].w); left > 0;) {
		size_t m = left < sizeof zeros ? (size_t)left : sizeof zeros;

		for (unsigned i = 0; i < n; i++)
			if (sit_pix_writer_put(&sh[i].w, zeros, m, &e) != 0)
				sit_die_err(&e);
		left -= m;
	}
	for (unsigned i = 0; i < n; i++)
		if (sit_pix_writer_end(&sh[i].w, &e) != 0)
			sit_die_err(&e);
	for (unsigned i = 0; i < n; i++)
		outs[i] = &sh[i].out;
	if (sit_out_commit_all(outs, n, threads, &e) != 0)
		sit_die_err(&e);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct input in;
	struct share *sh;
	sit_shamir_split sp;
	sit_spool spool_mem, *spool;
	sit_pixhdr h;
	sit_err e = { 0 };
	unsigned flags = 0, threads, commit_threads;
	int rc, fd;

	sit_cli_init("sit-share");
	parse(argc, argv, &o);
	/* Before the sandbox splits the process: the parent keeps the gate. */
	if (o.commitfd >= 0)
		sit_out_gate(o.commitfd);
	if (sit_shamir_split_init(&sp, o.k, o.n, &e) != 0)
		sit_die_err(&e);
	fd = open_input_fd(&o);
	sh = calloc(o.n, sizeof *sh);
	if (sh == NULL)
		sit_die(EX_OSERR, "out of memory");
	for (unsigned i = 0; i < o.n; i++) {
		open_share(&o, i, &sh[i]);
		flags |= sit_sandbox_out_flags(&sh[i].out);
	}
	threads = sit_pipeline_threads();
	spool = sit_spool_for(fd, &spool_mem);
	/* Everything is open: from here on only the descriptors we hold
	 * (sandbox.h), before a byte of the input is looked at. */
	if ((rc = sit_sandbox_enter(flags, &e)) < 0)
		sit_die_err(&e);
	if (o.verbose)
		sit_warn("%s", sit_sandbox_describe(rc));
	/* Unsplit (SIT_NO_SANDBOX), the commits read the gate themselves, and
	 * two threads reading it at once could let one share through and
	 * withhold the next: one at a time then, all or none. */
	commit_threads = o.commitfd >= 0 && rc == SIT_SANDBOX_DISABLED ? 0 : threads;
	start_input(&o, fd, spool, &in);
	memset(&h, 0, sizeof h);
	share_shape(&in, &h);
	h.k = o.k;
	h.n = o.n;
	randombytes_buf(h.set_id, sizeof h.set_id);
	for (unsigned i = 0; i < o.n; i++)
		start_share(&o, i, &h, &sh[i]);
	split_all(&in, &sp, sh, threads);
	if (!in.image && sit_pix_src_end(&in.src, in.what, &e) != 0)
		sit_die_err(&e);
	finish_all(sh, o.n, commit_threads);
	sit_shamir_split_free(&sp);
	if (spool != NULL)
		sit_spool_close(spool);
	if (in.image)
		sit_pix_reader_close(&in.r);
	else
		sit_pix_src_close(&in.src);
	free(sh);
	return 0;
}
