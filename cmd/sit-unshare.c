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
#include "pixhdr.h"
#include "pipeline.h"
#include "pixio.h"
#include "sandbox.h"
#include "shamir.h"

struct opts {
	int format;               /* 0 by name, 'p' PNG, 'm' PAM (image shares) */
	int force;
	int verbose;
	const char *out;
	char **shares;
	unsigned count;
};

struct share {
	const char *name;
	int fd;
	sit_pix_reader r;
	sit_pixhdr h;
	sit_pixhdr_sum sum;
	unsigned char hdr[SIT_PIXHDR_LEN];
};

/* Where the rebuilt stream goes: bytes, or the rows of an image. */
struct sink {
	sit_out out;
	int image;
	sit_img_sink is;
	sit_pix_writer w;
};

static noreturn void
usage(void)
{
	printf("Usage: sit-unshare [-o OUT] [-f] [-v] [--png|--pam] SHARE...\n"
		"Rebuild the stream (or image) that sit-share split, from K of its shares.\n\n"
		"  -o, --output F   write F atomically (default: standard output)\n"
		"      --png        an image rebuilt is written as PNG (default: by name)\n"
		"      --pam        an image rebuilt is written as PAM\n"
		"  -f, --force      replace an existing output file\n"
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	while ((c = getopt_long(argc, argv, "o:fvh", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'p':
		case 'm': o->format = c; break;
		case 'f': o->force = 1; break;
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
	o->shares = argv + optind;
	o->count = (unsigned)(argc - optind);
}

/* Read one opened share's header and check it; dies naming the file. */
static void
start_share(struct share *s, const char *name)
{
	enum sit_pixhdr_status st;
	sit_err e = { 0 };

	if (sit_pix_reader_open(&s->r, s->fd, name, &e) != 0)
		sit_die(e.code, "%s is not a share: %s", name, e.msg);
	if (sit_pix_format_lossy(s->r.format))
		sit_die(EX_DATAERR, "share %s was altered (lossy conversion to %s): "
			"checksum mismatch", name, sit_img_format_name(s->r.format));
	if (s->r.size < SIT_PIXHDR_LEN)
		sit_die(EX_DATAERR, "%s is not a share (too small)", name);
	if (sit_pix_reader_get(&s->r, s->hdr, SIT_PIXHDR_LEN, name, &e) != 0)
		sit_die_err(&e);
	st = sit_pixhdr_parse(s->hdr, s->r.width, s->r.height, s->r.channels, s->r.depth,
		&s->h);
	if (st == SIT_PIXHDR_NOT_OURS)
		sit_die(EX_DATAERR, "%s is not a share", name);
	if (st != SIT_PIXHDR_OK)
		sit_die(EX_DATAERR, "share %s %s", name, sit_pixhdr_status_text(st));
	if (s->h.kind != SIT_PIXHDR_SHARE)
		sit_die(EX_DATAERR, "%s is not a share (a sit-visual image: use sit-visual -d)",
			name);
	sit_pixhdr_sum_init(&s->sum, s->hdr);
}

/* Same set, no share twice, at least K of them. */
static void
check_set(const struct share *sh, unsigned count)
{
	const sit_pixhdr *a = &sh[0].h;

	for (unsigned i = 1; i < count; i++) {
		const sit_pixhdr *b = &sh[i].h;
		if (memcmp(a->set_id, b->set_id, sizeof a->set_id) != 0 || a->k != b->k ||
		    a->n != b->n || a->length != b->length || a->content != b->content)
			sit_die(EX_DATAERR, "shares from different sets: %s and %s",
				sh[0].name, sh[i].name);
	}
	for (unsigned i = 0; i < count; i++)
		for (unsigned j = i + 1; j < count; j++)
			if (sh[i].h.x == sh[j].h.x)
				sit_die(EX_DATAERR, "the same share twice: %s and %s are both "
					"share %u of %u", sh[i].name, sh[j].name, sh[i].h.x, a->n);
	if (count < a->k)
		sit_die(EX_DATAERR, "fewer than K shares: %u given, %u needed", count, a->k);
}

/* The output file (a temporary one with -o); opened before any share
 * header is read, so that the headers are parsed confined. */
static void
open_sink(const struct opts *o, struct sink *k)
{
	sit_err e = { 0 };

	memset(k, 0, sizeof *k);
	if (sit_out_open(&k->out, o->out, o->force, 0666, &e) != 0)
		sit_die_err(&e);
}

/* Bytes, or an image writer shaped as the shares say. */
static void
start_sink(const struct opts *o, const sit_pixhdr *h, struct sink *k)
{
	sit_err e = { 0 };
	int png;

	k->image = h->content == SIT_PIXHDR_PIXELS;
	if (!k->image)
		return;
	png = o->format == 'p' || (o->format == 0 && sit_pix_path_is_png(o->out));
	k->is.write = sit_img_sink_out;
	k->is.ctx = &k->out;
	if (sit_pix_writer_begin(&k->w, &k->is, png, h->width, h->rows, h->channels,
		h->depth, &e) != 0)
		sit_die_err(&e);
}

static int
sink_put(struct sink *k, const uint8_t *buf, size_t len, sit_err *e)
{
	return k->image ? sit_pix_writer_put(&k->w, buf, len, e)
		: sit_out_write(&k->out, buf, len, e);
}

/* Rebuilding goes through lib/pipeline.h: a worker thread reads a batch
 * from the K shares in order (summing them on the way), workers rebuild
 * batches side by side, and the main thread writes them out in order. */
struct join {
	struct share *sh;
	unsigned k, count;        /* K rebuild; all COUNT are read and checked */
	sit_shamir_join j;
	uint64_t length, done;
	size_t batch;             /* bytes per batch, a multiple of the block */
	size_t turn;              /* bytes per share per turn when reading */
	struct sink *out;
};

struct batch {
	uint8_t *in[SIT_SHAMIR_MAX_N];  /* BATCH bytes of each share */
	uint8_t *secret;                /* BATCH bytes rebuilt */
	size_t len;
};

static int
fill_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;
	uint64_t left = jn->length - jn->done;

	(void)index;
	(void)part;
	if (left == 0)
		return 0;
	b->len = left < jn->batch ? (size_t)left : jn->batch;
	/* In turns, as sit-share writes them (see pixio.h). */
	for (size_t off = 0; off < b->len; off += jn->turn) {
		size_t m = b->len - off < jn->turn ? b->len - off : jn->turn;

		for (unsigned i = 0; i < jn->count; i++) {
			struct share *s = &jn->sh[i];
			if (sit_pix_reader_get(&s->r, b->in[i] + off, m, s->name, e) != 0)
				return -1;
			sit_pixhdr_sum_update(&s->sum, b->in[i] + off, m);
		}
	}
	jn->done += b->len;
	return 1;
}

static int
join_batch(void *ctx, void *slot, uint64_t index, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;
	const uint8_t *ins[SIT_SHAMIR_MAX_N];

	(void)index;
	(void)e;
	for (size_t off = 0; off < b->len; off += SIT_SHAMIR_BLOCK) {
		size_t m = b->len - off < SIT_SHAMIR_BLOCK ? b->len - off : SIT_SHAMIR_BLOCK;

		for (unsigned i = 0; i < jn->k; i++)
			ins[i] = b->in[i] + off;
		sit_shamir_join_block(&jn->j, ins, m, b->secret + off);
	}
	return 0;
}

static int
write_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	(void)part; /* one part: the rebuilt stream */
	struct join *jn = ctx;
	struct batch *b = slot;

	(void)index;
	return sink_put(jn->out, b->secret, b->len, e);
}

/* Rebuild from the first K shares.  Every share given is read in the same
 * turns and summed, even those beyond K: fifos from one sit-share are
 * written in turns, so a share left unread would stall the others. */
static void
join_all(struct share *sh, unsigned k, unsigned count, uint64_t length,
	struct sink *out, unsigned threads)
{
	static const sit_pipeline_ops ops = { fill_batch, join_batch, write_batch };
	struct batch batches[SIT_PIPELINE_MAX_THREADS + 2];
	void *slots[SIT_PIPELINE_MAX_THREADS + 2];
	unsigned nslots = threads + 2;
	struct join jn = { sh, k, count, { 0 }, length, 0, sit_shamir_batch_len(count + 1), 0, out };
	uint8_t xs[SIT_SHAMIR_MAX_N];
	int fds[SIT_SHAMIR_MAX_N];
	sit_err e = { 0 };
	int rc;

	for (unsigned i = 0; i < count; i++) {
		xs[i] = (uint8_t)sh[i].h.x;
		fds[i] = sh[i].fd;
	}
	if (sit_shamir_join_init(&jn.j, xs, k, &e) != 0)
		sit_die_err(&e);
	jn.turn = sit_pix_turn(fds, count, jn.batch);
	memset(batches, 0, sizeof batches);
	for (unsigned t = 0; t < nslots; t++) {
		struct batch *b = &batches[t];
		int ok = (b->secret = malloc(jn.batch)) != NULL;

		for (unsigned i = 0; ok && i < count; i++)
			ok = (b->in[i] = malloc(jn.batch)) != NULL;
		if (!ok)
			sit_die(EX_OSERR, "out of memory");
		slots[t] = b;
	}
	rc = sit_pipeline_run(&ops, &jn, slots, nslots, threads, 1, 1, &e);
	for (unsigned t = 0; t < nslots; t++) {
		if (batches[t].secret != NULL)
			sodium_memzero(batches[t].secret, jn.batch);
		free(batches[t].secret);
		for (unsigned i = 0; i < count; i++)
			free(batches[t].in[i]);
	}
	if (rc != 0)
		sit_die_err(&e);
}

static void
check_sums(struct share *sh, unsigned k)
{
	unsigned char want[SIT_PIXHDR_SUM_LEN], got[SIT_PIXHDR_SUM_LEN];
	sit_err e = { 0 };

	for (unsigned i = 0; i < k; i++) {
		sit_pixhdr_sum_final(&sh[i].sum, want);
		if (sit_pix_reader_get(&sh[i].r, got, sizeof got, sh[i].name, &e) != 0)
			sit_die_err(&e);
		if (sodium_memcmp(want, got, sizeof want) != 0)
			sit_die(EX_DATAERR, "share %s %s", sh[i].name,
				sit_pixhdr_status_text(SIT_PIXHDR_ALTERED));
	}
}

/* Read every share to its end, so that a writer on a pipe is not cut off:
 * the padding in turns, as sit-share writes it (a row of padding may be
 * more than a pipe holds), then whatever follows the samples. */
static void
drain_all(struct share *sh, unsigned count)
{
	unsigned char scratch[SIT_PIX_INTERLEAVE];
	sit_err e = { 0 };
	int more = 1;

	while (more) {
		more = 0;
		for (unsigned i = 0; i < count; i++) {
			uint64_t left = sh[i].r.size - sh[i].r.pos;
			size_t m = left < sizeof scratch ? (size_t)left : sizeof scratch;

			if (m > 0 && sit_pix_reader_get(&sh[i].r, scratch, m, sh[i].name, &e) != 0)
				sit_die_err(&e);
			more |= left > m;
		}
	}
	for (unsigned i = 0; i < count; i++) {
		if (sit_pix_reader_drain(&sh[i].r, sh[i].name, &e) != 0)
			sit_die_err(&e);
		sit_pix_reader_close(&sh[i].r);
		sit_io_close_in(sh[i].fd);
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct share *sh;
	struct sink out;
	sit_err e = { 0 };
	unsigned threads;
	int rc;

	sit_cli_init("sit-unshare");
	parse(argc, argv, &o);
	if (sodium_init() < 0)
		sit_die(EX_OSERR, "libsodium cannot be initialised");
	sh = calloc(o.count, sizeof *sh);
	if (sh == NULL)
		sit_die(EX_OSERR, "out of memory");
	/* Open them all before reading any: fifos fed by one sit-share open
	 * in the order it writes them, and it writes them in turn. */
	for (unsigned i = 0; i < o.count; i++) {
		sh[i].name = o.shares[i];
		if ((sh[i].fd = sit_io_open_in(sh[i].name, &e)) < 0)
			sit_die_err(&e);
	}
	open_sink(&o, &out);
	threads = sit_pipeline_threads();
	/* Everything is open: from here on only the descriptors we hold
	 * (sandbox.h), before a byte of any share is parsed. */
	if ((rc = sit_sandbox_enter(sit_sandbox_out_flags(&out.out), &e)) < 0)
		sit_die_err(&e);
	if (o.verbose)
		sit_warn("%s", sit_sandbox_describe(rc));
	for (unsigned i = 0; i < o.count; i++)
		start_share(&sh[i], sh[i].name);
	check_set(sh, o.count);
	start_sink(&o, &sh[0].h, &out);
	join_all(sh, sh[0].h.k, o.count, sh[0].h.length, &out, threads);
	check_sums(sh, o.count);
	if (out.image && sit_pix_writer_end(&out.w, &e) != 0)
		sit_die_err(&e);
	drain_all(sh, o.count);
	if (sit_out_commit(&out.out, &e) != 0)
		sit_die_err(&e);
	free(sh);
	return 0;
}
