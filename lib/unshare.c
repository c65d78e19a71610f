/* unshare.c - rebuild what sit-share split (see unshare.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pipeline.h"
#include "shamir.h"
#include "unshare.h"

/* Read one opened share's header and check it, naming the share. */
static int
start_share(sit_unshare_share *s, sit_err *e)
{
	enum sit_pixhdr_status st;

	if (sit_pix_reader_open(&s->r, s->fd, s->name, e) != 0) {
		char why[SIT_ERR_MAX];

		memcpy(why, e->msg, sizeof why);
		return sit_err_set(e, e->code, "%s is not a share: %s", s->name, why);
	}
	if (sit_pix_format_lossy(s->r.format))
		return sit_err_set(e, EX_DATAERR, "share %s was altered (lossy conversion to %s): "
			"checksum mismatch", s->name, sit_img_format_name(s->r.format));
	if (s->r.size < SIT_PIXHDR_LEN)
		return sit_err_set(e, EX_DATAERR, "%s is not a share (too small)", s->name);
	if (sit_pix_reader_get(&s->r, s->hdr, SIT_PIXHDR_LEN, s->name, e) != 0)
		return -1;
	st = sit_pixhdr_parse(s->hdr, s->r.width, s->r.height, s->r.channels, s->r.depth,
		&s->h);
	if (st == SIT_PIXHDR_NOT_OURS)
		return sit_err_set(e, EX_DATAERR, "%s is not a share", s->name);
	if (st != SIT_PIXHDR_OK)
		return sit_err_set(e, EX_DATAERR, "share %s %s", s->name,
			sit_pixhdr_status_text(st));
	if (s->h.kind != SIT_PIXHDR_SHARE)
		return sit_err_set(e, EX_DATAERR, "%s is not a share (a sit-visual image: "
			"use sit-visual -d)", s->name);
	sit_pixhdr_sum_init(&s->sum, s->hdr);
	return 0;
}

/* Same set, no share twice, at least K of them. */
static int
check_set(const sit_unshare_share *sh, unsigned count, sit_err *e)
{
	const sit_pixhdr *a = &sh[0].h;

	for (unsigned i = 1; i < count; i++) {
		const sit_pixhdr *b = &sh[i].h;
		if (memcmp(a->set_id, b->set_id, sizeof a->set_id) != 0 || a->k != b->k ||
		    a->n != b->n || a->length != b->length || a->content != b->content)
			return sit_err_set(e, EX_DATAERR, "shares from different sets: %s and %s",
				sh[0].name, sh[i].name);
	}
	for (unsigned i = 0; i < count; i++)
		for (unsigned j = i + 1; j < count; j++)
			if (sh[i].h.x == sh[j].h.x)
				return sit_err_set(e, EX_DATAERR, "the same share twice: %s and %s "
					"are both share %u of %u", sh[i].name, sh[j].name, sh[i].h.x,
					a->n);
	if (count < a->k)
		return sit_err_set(e, EX_DATAERR, "fewer than K shares: %u given, %u needed",
			count, a->k);
	return 0;
}

int
sit_unshare_open(sit_unshare *u, const int *fds, const char *const *names,
	unsigned count, sit_err *e)
{
	memset(u, 0, sizeof *u);
	if (count == 0 || count > SIT_SHAMIR_MAX_N)
		return sit_err_set(e, EX_SOFTWARE, "sit_unshare_open: %u shares", count);
	if ((u->sh = calloc(count, sizeof *u->sh)) == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory");
	u->count = count;
	for (unsigned i = 0; i < count; i++) {
		u->sh[i].name = names[i];
		u->sh[i].fd = fds[i];
		u->sh[i].r.fd = -1;
	}
	/* One at a time, in the order given: fifos from one sit-share are
	 * written in that order. */
	for (unsigned i = 0; i < count; i++)
		if (start_share(&u->sh[i], e) != 0)
			return -1;
	if (check_set(u->sh, count, e) != 0)
		return -1;
	u->set = &u->sh[0].h;
	return 0;
}

/* Rebuilding goes through lib/pipeline.h: threads read batches from the
 * shares (summing them on the way), rebuild them side by side, and write
 * them out in order.  Between regular files each share is a part of its
 * own, read by whichever thread is free; when any share is a fifo one part
 * reads them all in turns, as sit-share writes them (see pixio.h). */
struct join {
	sit_unshare *u;
	unsigned k;               /* K rebuild; all COUNT are read and checked */
	sit_shamir_join j;
	size_t batch;             /* bytes per share per batch */
	size_t turn;              /* bytes per share per turn when reading */
	unsigned parts;           /* COUNT (a share per part) or 1 (in turns) */
	const sit_img_sink *out;
};

struct batch {
	uint8_t *in[SIT_SHAMIR_MAX_N];  /* BATCH bytes of each share */
	uint8_t *secret;                /* BATCH bytes rebuilt */
};

/* Bytes of each share in batch INDEX. */
static size_t
batch_len(const struct join *jn, uint64_t index)
{
	uint64_t at = index * jn->batch, length = jn->u->set->length;

	if (at >= length)
		return 0;
	return length - at < jn->batch ? (size_t)(length - at) : jn->batch;
}

static int
fill_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;
	sit_unshare *u = jn->u;
	size_t len = batch_len(jn, index);
	unsigned first = jn->parts == 1 ? 0 : part;
	unsigned last = jn->parts == 1 ? u->count : part + 1;

	if (len == 0)
		return 0;
	for (size_t off = 0; off < len; off += jn->turn) {
		size_t m = len - off < jn->turn ? len - off : jn->turn;

		for (unsigned i = first; i < last; i++) {
			sit_unshare_share *s = &u->sh[i];
			if (sit_pix_reader_get(&s->r, b->in[i] + off, m, s->name, e) != 0)
				return -1;
			sit_pixhdr_sum_update(&s->sum, b->in[i] + off, m);
		}
	}
	return 1;
}

static int
join_batch(void *ctx, void *slot, uint64_t index, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;
	const uint8_t *ins[SIT_SHAMIR_MAX_N];

	size_t len = batch_len(jn, index);

	(void)e;
	for (size_t off = 0; off < len; off += SIT_SHAMIR_BLOCK) {
		size_t m = len - off < SIT_SHAMIR_BLOCK ? len - off : SIT_SHAMIR_BLOCK;

		for (unsigned i = 0; i < jn->k; i++)
			ins[i] = b->in[i] + off;
		sit_shamir_join_block(&jn->j, ins, m, b->secret + off);
	}
	return 0;
}

static int
write_batch(void *ctx, void *slot, uint64_t index, unsigned part, sit_err *e)
{
	struct join *jn = ctx;
	struct batch *b = slot;

	(void)part; /* one part: the rebuilt stream */
	return jn->out->write(jn->out->ctx, b->secret, batch_len(jn, index), e);
}

/* Every share's payload checksum, in the order given. */
static int
check_sums(sit_unshare *u, sit_err *e)
{
	unsigned char want[SIT_PIXHDR_SUM_LEN], got[SIT_PIXHDR_SUM_LEN];

	for (unsigned i = 0; i < u->count; i++) {
		sit_unshare_share *s = &u->sh[i];

		sit_pixhdr_sum_final(&s->sum, want);
		if (sit_pix_reader_get(&s->r, got, sizeof got, s->name, e) != 0)
			return -1;
		if (sodium_memcmp(want, got, sizeof want) != 0)
			return sit_err_set(e, EX_DATAERR, "share %s %s", s->name,
				sit_pixhdr_status_text(SIT_PIXHDR_ALTERED));
	}
	return 0;
}

/* Rebuild from the first K shares.  Every share given is read in the same
 * turns and summed, even those beyond K: fifos from one sit-share are
 * written in turns, so a share left unread would stall the others. */
int
sit_unshare_join(sit_unshare *u, unsigned threads, size_t batch,
	const sit_img_sink *out, sit_err *e)
{
	static const sit_pipeline_ops ops = { fill_batch, join_batch, write_batch };
	struct batch batches[SIT_PIPELINE_MAX_THREADS + 2];
	void *slots[SIT_PIPELINE_MAX_THREADS + 2];
	unsigned nslots = threads + 2, count = u->count;
	struct join jn = { u, 0, { 0 }, batch, 0, 1, out };
	uint8_t xs[SIT_SHAMIR_MAX_N];
	int fds[SIT_SHAMIR_MAX_N];
	int rc = -1;

	if (u->set == NULL || threads > SIT_PIPELINE_MAX_THREADS)
		return sit_err_set(e, EX_SOFTWARE, "sit_unshare_join: no set, or %u threads",
			threads);
	jn.k = u->set->k;
	if (jn.batch == 0)
		jn.batch = sit_shamir_batch_len(count + 1);
	/* A short payload needs no bigger buffers (nor a wipe of untouched,
	 * not yet faulted-in pages at the end). */
	if (jn.batch > u->set->length)
		jn.batch = u->set->length > 0 ? (size_t)u->set->length : 1;
	for (unsigned i = 0; i < count; i++) {
		xs[i] = (uint8_t)u->sh[i].h.x;
		fds[i] = u->sh[i].fd;
	}
	if (sit_shamir_join_init(&jn.j, xs, jn.k, e) != 0)
		return -1;
	jn.turn = sit_pix_turn(fds, count, jn.batch);
	if (jn.turn == jn.batch)
		jn.parts = count;
	memset(batches, 0, sizeof batches);
	for (unsigned t = 0; t < nslots; t++) {
		struct batch *b = &batches[t];
		int ok = (b->secret = malloc(jn.batch)) != NULL;

		for (unsigned i = 0; ok && i < count; i++)
			ok = (b->in[i] = malloc(jn.batch)) != NULL;
		if (!ok) {
			sit_err_set(e, EX_OSERR, "out of memory");
			goto done;
		}
		slots[t] = b;
	}
	rc = sit_pipeline_run(&ops, &jn, slots, nslots, threads, jn.parts, 1, e);
	if (rc == 0)
		rc = check_sums(u, e);
done:
	for (unsigned t = 0; t < nslots; t++) {
		if (batches[t].secret != NULL)
			sodium_memzero(batches[t].secret, jn.batch);
		free(batches[t].secret);
		for (unsigned i = 0; i < count; i++)
			free(batches[t].in[i]);
	}
	return rc;
}

int
sit_unshare_drain(sit_unshare *u, sit_err *e)
{
	unsigned char scratch[SIT_PIX_INTERLEAVE];
	int more = 1;

	while (more) {
		more = 0;
		for (unsigned i = 0; i < u->count; i++) {
			sit_unshare_share *s = &u->sh[i];
			uint64_t left = s->r.size - s->r.pos;
			size_t m = left < sizeof scratch ? (size_t)left : sizeof scratch;

			if (m > 0 && sit_pix_reader_get(&s->r, scratch, m, s->name, e) != 0)
				return -1;
			more |= left > m;
		}
	}
	for (unsigned i = 0; i < u->count; i++)
		if (sit_pix_reader_drain(&u->sh[i].r, u->sh[i].name, e) != 0)
			return -1;
	return 0;
}

void
sit_unshare_free(sit_unshare *u)
{
	for (unsigned i = 0; u->sh != NULL && i < u->count; i++)
		sit_pix_reader_close(&u->sh[i].r);
	free(u->sh);
	memset(u, 0, sizeof *u);
}
