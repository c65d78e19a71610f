/* cksum-probe - the four checksums of lib/cksum.h over stdin, fed in pieces.
 *
 *   cksum-probe [-A NAME] [-L NAME] [-s SEED0,SEED1,SEED2,SEED3]
 *               [-w] [-p N[,N...]]... [-r SEED]...
 *   cksum-probe -l
 *
 * Reads all of stdin, then, for each way of cutting it named by an option
 * in turn, feeds it to each checksum in pieces, chaining the calls, and
 * prints four lines:
 *
 *   crc32 XXXXXXXX
 *   adler32 XXXXXXXX
 *   crc32c XXXXXXXX
 *   lanes XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX   (sit_cksum_lanes_final, hex)
 *
 * Ways: -w the whole input at once (also what no option means); -p N,N,...
 * those piece sizes in turn, over again until the input ends (0 is allowed:
 * an empty call); -r SEED sizes drawn from a fixed generator seeded by SEED,
 * most of them small (cuts inside words and 32-byte groups), some up to
 * 64 KiB.  -s: the four lane seeds in hex (default 0,1,deadbeef,ffffffff).
 * -A, -L: Adler-32 and the lanes by the implementation NAME of
 * sit_cksum_adler32_impls() and sit_cksum_lanes_impls() (exit 69 when this
 * CPU cannot run it) instead of the one the library would choose.
 *
 * -l lists those implementations, one a line, and whether this CPU runs
 * them: "adler32 NAME yes", "lanes NAME no".
 *
 * tests/t-cksum.sh compares the output with independent oracles.  The
 * Makefile builds it twice: build/NAME/tests/cksum-probe with libsit's
 * cksum.c, and cksum-probe-portable with cksum.c compiled with
 * -DSIT_CKSUM_PORTABLE (the fast paths compiled out).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cksum.h"

static void
die(const char *msg)
{
	fprintf(stderr, "cksum-probe: %s\n", msg);
	exit(64);
}

/* All of stdin in one buffer (never NULL, so that empty calls have one). */
static unsigned char *
read_all(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);

	if (buf == NULL)
		die("out of memory");
	for (;;) {
		ssize_t r;

		if (n == cap) {
			unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);

			if (nb == NULL)
				die("out of memory");
			buf = nb;
			cap *= 2;
		}
		r = read(0, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("cannot read stdin");
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

/* Where the next piece size comes from. */
typedef struct pieces {
	const char *list, *next;        /* -p */
	uint64_t state;                 /* -r: xorshift64 */
} pieces;

static size_t
next_piece(pieces *pc)
{
	if (pc->list != NULL) {
		char *end;
		unsigned long v;

		if (*pc->next == '\0')
			pc->next = pc->list;
		errno = 0;
		v = strtoul(pc->next, &end, 10);
		if (errno != 0 || end == pc->next || (*end != ',' && *end != '\0'))
			die("bad -p list");
		pc->next = *end == ',' ? end + 1 : end;
		return v;
	}
	if (pc->state != 0) {
		uint64_t x = pc->state;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pc->state = x;
		switch (x % 8) {
		case 0: return (size_t)(x >> 8) % 65536;
		case 1: return (size_t)(x >> 8) % 4096;
		case 2: return (size_t)(x >> 8) % 300;
		default: return (size_t)(x >> 8) % 40;
		}
	}
	return SIZE_MAX;
}

/* The paths under test. */
typedef struct paths {
	uint32_t (*adler32)(uint32_t adler, const void *buf, size_t len);
	void (*lanes_update)(sit_cksum_lanes *l, const void *buf, size_t len);
} paths;

static void
list_impls(void)
{
	const sit_cksum_adler32_impl *ai;
	const sit_cksum_lanes_impl *li;
	size_t n;

	ai = sit_cksum_adler32_impls(&n);
	for (size_t i = 0; i < n; i++)
		printf("adler32 %s %s\n", ai[i].name, ai[i].available() ? "yes" : "no");
	li = sit_cksum_lanes_impls(&n);
	for (size_t i = 0; i < n; i++)
		printf("lanes %s %s\n", li[i].name, li[i].available() ? "yes" : "no");
}

static void
unavailable(const char *what, const char *name)
{
	fprintf(stderr, "cksum-probe: no %s implementation \"%s\" on this CPU\n", what, name);
	exit(69);
}

static void
choose_adler32(paths *ps, const char *name)
{
	size_t n;
	const sit_cksum_adler32_impl *im = sit_cksum_adler32_impls(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(im[i].name, name) == 0 && im[i].available()) {
			ps->adler32 = im[i].adler32;
			return;
		}
	unavailable("Adler-32", name);
}

static void
choose_lanes(paths *ps, const char *name)
{
	size_t n;
	const sit_cksum_lanes_impl *im = sit_cksum_lanes_impls(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(im[i].name, name) == 0 && im[i].available()) {
			ps->lanes_update = im[i].update;
			return;
		}
	unavailable("lanes", name);
}

/* One way of cutting BUF: the four lines. */
static void
run_way(pieces *pc, const paths *ps, const uint32_t seed[4], const unsigned char *buf, size_t len)
{
	uint32_t crc = SIT_CKSUM_CRC32_INIT, adler = SIT_CKSUM_ADLER32_INIT;
	uint32_t crcc = SIT_CKSUM_CRC32C_INIT;
	sit_cksum_lanes lanes;
	unsigned char out[SIT_CKSUM_LANES_LEN];
	size_t off = 0, empty = 0;

	sit_cksum_lanes_init(&lanes, seed);
	while (off < len) {
		size_t n = next_piece(pc);

		if (n > len - off)
			n = len - off;
		if (n == 0 && ++empty > 100000)
			die("no progress: -p sizes are all 0");
		crc = sit_cksum_crc32(crc, buf + off, n);
		adler = ps->adler32(adler, buf + off, n);
		crcc = sit_cksum_crc32c(crcc, buf + off, n);
		ps->lanes_update(&lanes, buf + off, n);
		off += n;
	}
	sit_cksum_lanes_final(&lanes, out);
	printf("crc32 %08x\nadler32 %08x\ncrc32c %08x\nlanes ", crc, adler, crcc);
	for (size_t i = 0; i < sizeof out; i++)
		printf("%02x", out[i]);
	printf("\n");
}

#define MAX_WAYS 32

int
main(int argc, char **argv)
{
	pieces ways[MAX_WAYS];
	paths ps = { sit_cksum_adler32, sit_cksum_lanes_update };
	uint32_t seed[4] = { 0, 1, 0xdeadbeef, 0xffffffff };
	unsigned char *buf;
	size_t len;
	int opt, nways = 0;

	while ((opt = getopt(argc, argv, "A:L:lwr:p:s:")) != -1) {
		pieces *pc = NULL;

		/* A way of cutting: the next slot (only then, so that the
		 * other options never touch one past the last). */
		if (strchr("wrp", opt) != NULL) {
			if (nways == MAX_WAYS)
				die("too many ways");
			pc = &ways[nways];
			memset(pc, 0, sizeof *pc);
		}
		switch (opt) {
		case 'A':
			choose_adler32(&ps, optarg);
			break;
		case 'L':
			choose_lanes(&ps, optarg);
			break;
		case 'l':
			list_impls();
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 74;
		case 'w':
			nways++;
			break;
		case 'r':
			pc->state = strtoull(optarg, NULL, 10) * 2654435761u + 1;
			nways++;
			break;
		case 'p':
			pc->list = pc->next = optarg;
			nways++;
			break;
		case 's':
			if (sscanf(optarg, "%x,%x,%x,%x", &seed[0], &seed[1], &seed[2], &seed[3]) != 4)
				die("bad -s seeds");
			break;
		default:
			die("usage: cksum-probe [-A NAME] [-L NAME] [-s S0,S1,S2,S3] [-w] [-p N[,N...]]... [-r SEED]... | -l");
		}
	}
	if (nways == 0)
		memset(&ways[nways++], 0, sizeof ways[0]);
	buf = read_all(&len);
	for (int i = 0; i < nways; i++)
		run_way(&ways[i], &ps, seed, buf, len);
	free(buf);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 74;
}
