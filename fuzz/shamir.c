/* fuzz/shamir.c - libFuzzer harness: Shamir's secret sharing (lib/shamir.c)
 * and the GF(2^8) arithmetic under it (lib/gf256.c).
 *
 * Input: N, K, a choice of shares, a list of x values, then the secret:
 *   byte 0      N = 2 + byte % 15 (2..16: splitting costs (K-1) x 64 KiB of
 *               keystream set-up per run, and 16 shares reach every code path
 *               that 255 do)
 *   byte 1      K = 2 + byte % (N - 1), so 2 <= K <= N
 *   bytes 2..   N bytes that shuffle 1..N (Fisher-Yates); the first K, and
 *               when K < N the first K + 1, are the shares given back
 *   next byte   M, then M bytes: x values for sit_shamir_join_init as a
 *               hostile share set would give them (zero, repeated, any M)
 *   the rest    the secret (also the data of the GF(2^8) check)
 * Byte 0's top bit splits with sit_shamir_split_block_at (sit-share's
 * threads), at a block number made from byte 1, instead of split_block.
 * Properties checked:
 *   - any K shares, and any K + 1, rebuild exactly the secret;
 *   - join_init refuses exactly the x lists with a 0, a repeat, or a count
 *     outside 1..255, with a message; an accepted list has Lagrange
 *     coefficients summing to 1 (they rebuild a constant as itself);
 *   - sit_gf256_muladd (GFNI or AVX2 where the CPU has it) agrees with
 *     sit_gf256_mul byte by byte, at every length and alignment, also when
 *     the destination is one of the sources.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gf256.h"
#include "shamir.h"

#define MAXN 16

static void
fail(const char *what)
{
	fprintf(stderr, "shamir: %s\n", what);
	abort();
}

/* muladd against the one-byte multiply, on DATA at offset OFF. */
static void
check_gf256(uint8_t c, const uint8_t *data, size_t size, size_t off)
{
	sit_gf256_mulc m;
	uint8_t *src, *add, *dst;
	size_t n = size > off ? size - off : 0;

	sit_gf256_mulc_init(&m, c);
	src = malloc(size + 1);
	add = malloc(size + 1);
	dst = malloc(size + 1);
	fuzz_must(src != NULL && add != NULL && dst != NULL, "malloc");
	memcpy(src, data, size);
	for (size_t i = 0; i < size; i++)
		add[i] = data[size - 1 - i];
	/* dst = c * src ^ add, at an unaligned start. */
	sit_gf256_muladd(&m, dst + off, src + off, add + off, n);
	for (size_t i = 0; i < n; i++)
		if (dst[off + i] != (sit_gf256_mul(c, src[off + i]) ^ add[off + i]))
			fail("muladd differs from mul");
	/* In place, as splitting (dst = add) and joining (dst = src) do it. */
	memcpy(dst, add, size);
	sit_gf256_muladd(&m, dst + off, src + off, dst + off, n);
	for (size_t i = 0; i < n; i++)
		if (dst[off + i] != (sit_gf256_mul(c, src[off + i]) ^ add[off + i]))
			fail("muladd with dst == add differs from mul");
	memcpy(dst, src, size);
	sit_gf256_muladd(&m, dst + off, dst + off, add + off, n);
	for (size_t i = 0; i < n; i++)
		if (dst[off + i] != (sit_gf256_mul(c, src[off + i]) ^ add[off + i]))
			fail("muladd with dst == src differs from mul");
	if (c != 0 && sit_gf256_mul(c, sit_gf256_inv(c)) != 1)
		fail("inverse is wrong");
	free(src);
	free(add);
	free(dst);
}

/* join_init on a hostile x list: refused exactly when invalid. */
static void
check_join_init(const uint8_t *xs, unsigned m)
{
	sit_shamir_join j;
	sit_err e = { 0 };
	int valid = m >= 1 && m <= SIT_SHAMIR_MAX_N;
	uint8_t sum = 0;

	for (unsigned i = 0; i < m && valid; i++) {
		if (xs[i] == 0)
			valid = 0;
		for (unsigned k = 0; k < i && valid; k++)
			if (xs[k] == xs[i])
				valid = 0;
	}
	if (sit_shamir_join_init(&j, xs, m, &e) != 0) {
		if (valid)
			fail("join_init refuses a valid x list");
		if (e.code != EX_DATAERR || e.msg[0] == '\0')
			fail("join_init refusal without EX_DATAERR and a message");
		return;
	}
	if (!valid)
		fail("join_init takes an x list with 0 or a repeat");
	for (unsigned i = 0; i < m; i++)
		sum ^= j.lagrange[i].c;
	if (sum != 1)
		fail("Lagrange coefficients do not sum to 1");
}

/* Split SECRET k-of-n and rebuild it from the shares in PICK order. */
static void
check_split_join(unsigned k, unsigned n, const uint8_t *pick, uint64_t at_block,
	const uint8_t *secret, size_t len)
{
	sit_shamir_split s;
	sit_shamir_join j;
	sit_err e = { 0 };
	uint8_t *shares[MAXN], *out, xs[MAXN];
	const uint8_t *ins[MAXN];

	if (sit_shamir_split_init(&s, k, n, &e) != 0)
		fail(e.msg);
	out = malloc(len + 1);
	fuzz_must(out != NULL, "malloc");
	for (unsigned i = 0; i < n; i++)
		fuzz_must((shares[i] = malloc(len + 1)) != NULL, "malloc");
	if (at_block == 0) {
		sit_shamir_split_block(&s, secret, len, shares);
	} else {
		/* The threads' entry: block AT_BLOCK - 1 with its own scratch. */
		uint8_t *coef = malloc(SIT_SHAMIR_COEF_LEN(k));

		fuzz_must(coef != NULL, "malloc");
		sit_shamir_split_block_at(&s, at_block - 1, coef, secret, len, shares);
		free(coef);
	}
	sit_shamir_split_free(&s);
	for (unsigned use = k; use <= n && use <= k + 1; use++) {
		for (unsigned i = 0; i < use; i++) {
			xs[i] = (uint8_t)(pick[i] + 1);
			ins[i] = shares[pick[i]];
		}
		if (sit_shamir_join_init(&j, xs, use, &e) != 0)
			fail(e.msg);
		memset(out, 0xa5, len);
		sit_shamir_join_block(&j, ins, len, out);
		if (memcmp(out, secret, len) != 0) {
			fprintf(stderr, "shamir: %u of %u-of-%u shares rebuild another secret\n",
				use, k, n);
			abort();
		}
	}
	for (unsigned i = 0; i < n; i++)
		free(shares[i]);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pick[MAXN];
	unsigned n, k, m;
	size_t at;

	if (size < 2)
		return 0;
	fuzz_must(sodium_init() >= 0, "sodium_init");
	n = 2 + data[0] % (MAXN - 1);
	k = 2 + data[1] % (n - 1);
	at = 2;
	for (unsigned i = 0; i < n; i++)
		pick[i] = (uint8_t)i;
	for (unsigned i = n - 1; i > 0; i--, at++) {
		unsigned r = at < size ? data[at] % (i + 1) : 0;
		uint8_t t = pick[i];
		pick[i] = pick[r];
		pick[r] = t;
	}
	m = at < size ? data[at++] : 0;
	if (m > size - at)
		m = (unsigned)(size - at);
	check_join_init(data + at, m);
	at += m;
	if (at > size)
		at = size;
	/* Byte 0's top bit: split with sit_shamir_split_block_at (as sit-share's
	 * threads do), at a block number from byte 1, else split_block. */
	check_split_join(k, n, pick, data[0] & 0x80 ? 1 + ((uint64_t)data[1] << 40) : 0,
		data + at, size - at);
	check_gf256(data[1], data, size, (size_t)(data[0] & 31) < size ? (size_t)(data[0] & 31) : 0);
	return 0;
}
