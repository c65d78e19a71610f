/* gf256.h - arithmetic in GF(2^8) for Shamir's secret sharing.
 *
 * The field is GF(2)[x] / (x^8 + x^4 + x^3 + x + 1), the polynomial 0x11b of
 * AES, with 3 as generator.  Bulk work multiplies long byte runs by one
 * public constant (a share's x, or a Lagrange coefficient), so the constant
 * is turned once into two 16-entry tables (products with every low and high
 * nibble) that SIMD byte shuffles apply 32 bytes at a time; where the CPU
 * has GFNI, whose GF2P8MULB multiplies in this very field, one instruction
 * does 32 or 64 bytes.  No path indexes memory with secret bytes except
 * through in-register shuffles, and the portable path works bit by bit, so
 * timing does not depend on the data.
 */
#ifndef SIT_GF256_H
#define SIT_GF256_H

#include <stddef.h>
#include <stdint.h>

/* Multiplication by one constant, ready for the bulk functions. */
typedef struct sit_gf256_mulc {
	uint8_t lo[16];        /* c * i for i = 0..15 */
	uint8_t hi[16];        /* c * (i << 4) for i = 0..15 */
	uint8_t c;
} sit_gf256_mulc;

/* a * b, without tables or data-dependent branches. */
uint8_t sit_gf256_mul(uint8_t a, uint8_t b);

/* The inverse of a nonzero A (a^254); 0 for 0. */
uint8_t sit_gf256_inv(uint8_t a);

void sit_gf256_mulc_init(sit_gf256_mulc *m, uint8_t c);

/* dst[i] = c * src[i] ^ add[i] for i < n.  DST may be SRC or ADD (the
 * Horner step of splitting is dst = c*dst ^ add; rebuilding accumulates
 * with dst = c*src ^ dst). */
void sit_gf256_muladd(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n);

/* Every implementation of muladd in this build, fastest first, so that
 * tests can hold each one this CPU runs against sit_gf256_mul():
 * sit_gf256_muladd() uses the first whose AVAILABLE() says yes (the last,
 * "portable", always does). */
typedef struct sit_gf256_impl {
	const char *name;
	int (*available)(void);
	void (*muladd)(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
		const uint8_t *add, size_t n);
} sit_gf256_impl;

const sit_gf256_impl *sit_gf256_impls(size_t *count);

#endif
