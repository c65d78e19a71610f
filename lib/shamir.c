#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "shamir.h"

int
sit_shamir_split_init(sit_shamir_split *s, unsigned k, unsigned n, sit_err *e)
{
	unsigned char key[SIT_KEYSTREAM_KEYBYTES];

	memset(s, 0, sizeof *s);
	if (k < 2 || n < k || n > SIT_SHAMIR_MAX_N)
		return sit_err_set(e, EX_USAGE, "need 2 <= K <= N <= %d (K=%u, N=%u)",
			SIT_SHAMIR_MAX_N, k, n);
	if (sodium_init() < 0)
		return sit_err_set(e, EX_OSERR, "libsodium cannot be initialised");
	s->coef = malloc(SIT_SHAMIR_COEF_LEN(k));
	if (s->coef == NULL)
		return sit_err_set(e, EX_OSERR, "out of memory");
	s->k = k;
	s->n = n;
	for (unsigned i = 0; i < n; i++)
		sit_gf256_mulc_init(&s->x[i], (uint8_t)(i + 1));
	randombytes_buf(key, sizeof key);
	sit_keystream_init(&s->ks, key, NULL);
	sodium_memzero(key, sizeof key);
	return 0;
}

/* Fill coefficient row r (at coef + r * SIT_SHAMIR_BLOCK) with LEN bytes of
 * keystream.  Every row of every block has its own nonce (block counter in
 * bytes 0..6, row in byte 7) under the same key, so no keystream byte is
 * ever used twice. */
static void
draw_coefficients(const sit_shamir_split *s, uint64_t block, uint8_t *coef, size_t len)
{
	unsigned char nonce[8] = { 0 };

	for (size_t i = 0; i < 7; i++)
		nonce[i] = (unsigned char)(block >> (8 * i));
	for (size_t r = 0; r + 1 < s->k; r++) {
		nonce[7] = (unsigned char)r;
		sit_keystream_fill(&s->ks, nonce, coef + r * SIT_SHAMIR_BLOCK, len);
	}
}

void
sit_shamir_split_block(sit_shamir_split *s, const uint8_t *secret, size_t len,
	uint8_t *const *out)
{
	if (len == 0)
		return;
	/* 2^56 blocks of 64 KiB are never reached. */
	sit_shamir_split_block_at(s, s->nonce++, s->coef, secret, len, out);
}

void
sit_shamir_split_block_at(const sit_shamir_split *s, uint64_t block, uint8_t *coef,
	const uint8_t *secret, size_t len, uint8_t *const *out)
{
	size_t top = s->k - 2; /* row of a(k-1), the highest coefficient */

	if (len == 0)
		return;
	draw_coefficients(s, block, coef, len);
	for (unsigned i = 0; i < s->n; i++) {
		const sit_gf256_mulc *x = &s->x[i];
		uint8_t *acc = out[i];
		const uint8_t *hi = coef + top * SIT_SHAMIR_BLOCK;

		/* Horner: acc = ((a(k-1) x + a(k-2)) x + ... + a1) x + s. */
		if (top == 0) {
			sit_gf256_muladd(x, acc, hi, secret, len);
			continue;
		}
		sit_gf256_muladd(x, acc, hi, hi - SIT_SHAMIR_BLOCK, len);
		for (size_t r = top - 1; r > 0; r--)
			sit_gf256_muladd(x, acc, acc, coef + (r - 1) * SIT_SHAMIR_BLOCK, len);
		sit_gf256_muladd(x, acc, acc, secret, len);
	}
}

size_t
sit_shamir_batch_len(unsigned buffers)
{
	size_t b = (size_t)1024 * 1024 / (buffers > 0 ? buffers : 1);

	b -= b % SIT_SHAMIR_BLOCK;
	return b < SIT_SHAMIR_BLOCK ? SIT_SHAMIR_BLOCK : b;
}

void
sit_shamir_split_free(sit_shamir_split *s)
{
	if (s->coef != NULL) {
		sodium_memzero(s->coef, SIT_SHAMIR_COEF_LEN(s->k));
		free(s->coef);
	}
	sit_keystream_wipe(&s->ks);
	s->coef = NULL;
}

int
sit_shamir_join_init(sit_shamir_join *j, const uint8_t *xs, unsigned k, sit_err *e)
{
	memset(j, 0, sizeof *j);
	if (k < 1 || k > SIT_SHAMIR_MAX_N)
		return sit_err_set(e, EX_DATAERR, "bad number of shares: %u", k);
	j->k = k;
	for (unsigned i = 0; i < k; i++) {
		/* L_i(0) = prod over j != i of x_j / (x_j - x_i); minus is xor. */
		uint8_t num = 1, den = 1;

		if (xs[i] == 0)
			return sit_err_set(e, EX_DATAERR, "share index 0 is not valid");
		for (unsigned m = 0; m < k; m++) {
			if (m == i)
				continue;
			if (xs[m] == xs[i])
				return sit_err_set(e, EX_DATAERR, "share %u given twice", xs[i]);
			num = sit_gf256_mul(num, xs[m]);
			den = sit_gf256_mul(den, xs[m] ^ xs[i]);
		}
		sit_gf256_mulc_init(&j->lagrange[i], sit_gf256_mul(num, sit_gf256_inv(den)));
	}
	return 0;
}

void
sit_shamir_join_block(const sit_shamir_join *j, const uint8_t *const *in,
	size_t len, uint8_t *out)
{
	/* out = sum of L_i(0) * y_i, accumulated in place. */
	memset(out, 0, len);
	for (unsigned i = 0; i < j->k; i++)
		sit_gf256_muladd(&j->lagrange[i], out, in[i], out, len);
}
