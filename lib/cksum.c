/* cksum.c - CRC-32, Adler-32 and CRC-32C (see cksum.h).
 *
 * Each checksum has a portable path and, on x86-64, faster ones chosen at
 * run time (__builtin_cpu_supports, which reads what CPUID said when the
 * program started: nothing here is computed lazily), so that one binary
 * runs everywhere:
 *
 *   CRC-32     folding by carry-less multiplication, below: 128 bits wide
 *              with PCLMULQDQ, 512 with VPCLMULQDQ and AVX-512;
 *              portable: slicing-by-8 tables.
 *   Adler-32   AVX-512, 128 bytes a step (with VNNI's vpdpbusd where there
 *              is one); AVX2, 32 bytes a step; portable: zlib's loop, unrolled.
 *   CRC-32C    the SSE4.2 crc32 instruction, 8 bytes a step;
 *              portable: slicing-by-8 tables.
 *   lanes      VPCLMULQDQ folding of the four lanes side by side with the
 *              crc32 instruction; the crc32 instruction alone; portable:
 *              slicing-by-8 tables.
 *
 * Adler-32 and the lanes list their paths in tables (cksum.h: the tests run
 * each one the CPU has).
 *
 * -DSIT_CKSUM_PORTABLE compiles the fast paths out (the tests build a
 * second probe so, and check that both paths agree with the oracles).
 *
 * All the tables and constants are literals in cksum_tables.h, written by
 * scripts/gen-cksum-tables from the polynomials (no table is filled at run
 * time: nothing here is mutable or global).
 */
#include <string.h>

#include "cksum.h"
#include "cksum_tables.h"

#if !defined(SIT_CKSUM_PORTABLE) && defined(__x86_64__) && \
	(defined(__GNUC__) || defined(__clang__))
#define HAVE_X86 1
#include <immintrin.h>
#endif

#define ADLER_MOD 65521u
/* The longest run of bytes whose sums cannot overflow 32 bits before the
 * modulo (zlib's NMAX): 255 n (n + 1) / 2 + (n + 1) (MOD - 1) < 2^32. */
#define ADLER_NMAX 5552u

/* ---- portable -------------------------------------------------------- */

static uint32_t
get32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* The raw register (no pre- or post-inversion) after one 8-byte word: the
 * word's first byte has seven more behind it, hence T[7]. */
static uint32_t
crc_slice_word(const uint32_t t[8][256], uint32_t reg, const unsigned char *p)
{
	uint32_t lo = reg ^ get32le(p), hi = get32le(p + 4);

	return t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
}

static uint32_t
crc_slice(const uint32_t t[8][256], uint32_t reg, const unsigned char *p, size_t len)
{
	for (; len >= 8; len -= 8, p += 8)
		reg = crc_slice_word(t, reg, p);
	while (len--)
		reg = t[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
	return reg;
}

static uint32_t
adler32_portable(uint32_t adler, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t a = adler & 0xffff, b = adler >> 16;

	while (len > 0) {
		size_t n = len < ADLER_NMAX ? len : ADLER_NMAX;

		len -= n;
		for (; n >= 4; n -= 4, p += 4) {
			a += p[0];
			b += a;
			a += p[1];
			b += a;
			a += p[2];
			b += a;
			a += p[3];
			b += a;
		}
		while (n--) {
			a += *p++;
			b += a;
		}
		a %= ADLER_MOD;
		b %= ADLER_MOD;
	}
	return b << 16 | a;
}

/* ---- CRC-32 by folding with carry-less multiplication ------------------
 *
 * The method of Intel's "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ Instruction" (Gopal et al., 2009), for the reflected
 * CRC-32.  Polynomials over GF(2); P is the 33-bit CRC polynomial.
 *
 * Reflected layout: in a 128-bit register loaded from 16 message bytes,
 * bit i holds the coefficient of x^(127-i) (the first byte's lowest bit is
 * the highest power).  Call the low quadword H (the first 8 bytes) and the
 * high one L, so the register is V = H x^64 + L.  The raw CRC (register
 * without inversions) of a message M is M x^32 mod P, and xoring the
 * starting register into the first four bytes accounts for it, so all that
 * matters is M modulo P.
 *
 * A constant c holding K (degree < 33) reflected over 33 bits (bit l is the
 * coefficient of x^(32-l)) multiplies a quadword q (bit j: x^(63-j)) into a
 * 128-bit product whose bit i is the coefficient of x^(95-i) of Q K: read
 * as a register (bit i: x^(127-i)) that is Q K x^32.
 *
 * Folding: with a register V at some position and the data D bits later,
 * V x^D = H x^(64+D) + L x^D, which is congruent modulo P to
 * H (x^(64+D-32) mod P) x^32 + L (x^(D-32) mod P) x^32: two carry-less
 * products with the constants x^(D+32) mod P and x^(D-32) mod P, each
 * under 128 bits, xored into the register D bits on.  Four registers
 * advance 64 bytes (D = 512) per step, independent chains that hide the
 * multiplier's latency; then they fold into one (D = 128), which takes in
 * the remaining 16-byte blocks.
 *
 * The 128 bits V that are left stand for the CRC V x^32 mod P:
 *  1. 128 -> 96 bits: V x^32 = H x^96 + L x^32 == H (x^96 mod P) + L x^32.
 *     The product of H with x^96 mod P, plus L shifted down by 8 bytes,
 *     is a 96-bit W in bits 0..95 (bit i: x^(95-i)), W == V x^32.
 *  2. 96 -> 64 bits: W = A x^64 + B with A its first 32 bits; A (moved up
 *     4 bytes so that it is a quadword) times x^64 mod P, xored into W,
 *     with A's own bits cleared, is Y = A (x^64 mod P) + B, of degree < 64.
 *  3. Barrett: Y mod P = Y + floor(Y / P) P mod x^32, and for degree < 64,
 *     floor(Y / P) = floor(floor(Y / x^32) mu / x^32), mu = floor(x^64 / P).
 *     The high half of Y times mu has the quotient in the same place the
 *     high half of Y was; the quotient times P has its low 32 bits where
 *     the low 32 bits of Y are (bits 64..95), and their sum is the CRC.
 *
 * The constants (cksum_tables.h): CRC32_FOLD4_H/L = x^(512+-32) mod P,
 * CRC32_FOLD1_H/L = x^(128+-32) mod P, CRC32_RED96 = x^96 mod P,
 * CRC32_RED64 = x^64 mod P, CRC32_MU = mu and CRC32_P = P, all reflected
 * over 33 bits; the CRC32C_* ones are the same for CRC-32C, which the lanes
 * fold (nothing above depends on which polynomial P is).  tests/t-cksum.sh
 * regenerates them, and checks the results against zlib and a bitwise
 * CRC-32C.
 */

#ifdef HAVE_X86
/* Shorter buffers go to the tables: the folding's set-up and reduction
 * cost about what the tables take for 64 bytes. */
#define CRC32_FOLD_MIN 64

/* What takes 128 folded bits to a CRC register, for one polynomial. */
typedef struct crc_reduction {
	uint64_t red96, red64, mu, p;
} crc_reduction;

static const crc_reduction crc32_reduction = {
	CRC32_RED96, CRC32_RED64, CRC32_MU, CRC32_P
};
static const crc_reduction crc32c_reduction = {
	CRC32C_RED96, CRC32C_RED64, CRC32C_MU, CRC32C_P
};

__attribute__((target("pclmul"))) static inline __m128i
crc_fold_step(__m128i v, __m128i k, __m128i next)
{
	return _mm_xor_si128(next, _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00),
		_mm_clmulepi64_si128(v, k, 0x11)));
}

__attribute__((target("pclmul"))) static uint32_t
crc_reduce(__m128i v, const crc_reduction *r)
{
	const __m128i k = _mm_set_epi64x((long long)r->red64, (long long)r->red96);
	const __m128i mp = _mm_set_epi64x((long long)r->p, (long long)r->mu);
	__m128i w, y, q;

	/* 1: H (x^96 mod P) + L, in bits 0..95. */
	w = _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00), _mm_srli_si128(v, 8));
	/* 2: A, the first 32 bits, as a quadword times x^64 mod P; then A out. */
	y = _mm_xor_si128(w, _mm_clmulepi64_si128(_mm_slli_si128(w, 4), k, 0x10));
	y = _mm_and_si128(y, _mm_set_epi32(-1, -1, -1, 0));
	/* 3: the quotient in bits 32..63, then its product with P. */
	q = _mm_clmulepi64_si128(y, mp, 0x00);
	q = _mm_clmulepi64_si128(q, mp, 0x10);
	return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(_mm_xor_si128(y, q), 8));
}

/* LEN >= 64 and a multiple of 16; REG is the raw register. */
__attribute__((target("pclmul"))) static uint32_t
crc32_fold(uint32_t reg, const unsigned char *p, size_t len)
{
	const __m128i k4 = _mm_set_epi64x(CRC32_FOLD4_L, CRC32_FOLD4_H);
	const __m128i k1 = _mm_set_epi64x(CRC32_FOLD1_L, CRC32_FOLD1_H);
	__m128i v0, v1, v2, v3;

	v0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p),
		_mm_cvtsi32_si128((int)reg));
	v1 = _mm_loadu_si128((const __m128i *)(p + 16));
	v2 = _mm_loadu_si128((const __m128i *)(p + 32));
	v3 = _mm_loadu_si128((const __m128i *)(p + 48));
	for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
		v0 = crc_fold_step(v0, k4, _mm_loadu_si128((const __m128i *)p));
		v1 = crc_fold_step(v1, k4, _mm_loadu_si128((const __m128i *)(p + 16)));
		v2 = crc_fold_step(v2, k4, _mm_loadu_si128((const __m128i *)(p + 32)));
		v3 = crc_fold_step(v3, k4, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	v0 = crc_fold_step(v0, k1, v1);
	v0 = crc_fold_step(v0, k1, v2);
	v0 = crc_fold_step(v0, k1, v3);
	for (; len >= 16; p += 16, len -= 16)
		v0 = crc_fold_step(v0, k1, _mm_loadu_si128((const __m128i *)p));
	return crc_reduce(v0, &crc32_reduction);
}

/* The same with VPCLMULQDQ: four 512-bit registers, each four independent
 * 128-bit lanes, advance 256 bytes per step (D = 2048); the registers fold
 * into one 64 bytes apart (D = 512, the constants above), which takes in
 * the remaining 64-byte blocks; its lanes fold into one 16 bytes apart. */
#define CRC32_FOLD512_MIN 256

__attribute__((target("avx512f,vpclmulqdq"))) static inline __m512i
crc_fold512_step(__m512i v, __m512i k, __m512i next)
{
	/* 0x96: the three-way exclusive or. */
	return _mm512_ternarylogic_epi64(next, _mm512_clmulepi64_epi128(v, k, 0x00),
		_mm512_clmulepi64_epi128(v, k, 0x11), 0x96);
}

/* LEN >= 256 and a multiple of 16; REG is the raw register. */
__attribute__((target("avx512f,vpclmulqdq,pclmul"))) static uint32_t
crc32_fold512(uint32_t reg, const unsigned char *p, size_t len)
{
	const __m512i k16 = _mm512_broadcast_i32x4(_mm_set_epi64x(CRC32_FOLD16_L, CRC32_FOLD16_H));
	const __m512i k4 = _mm512_broadcast_i32x4(_mm_set_epi64x(CRC32_FOLD4_L, CRC32_FOLD4_H));
	const __m128i k1 = _mm_set_epi64x(CRC32_FOLD1_L, CRC32_FOLD1_H);
	__m512i v0, v1, v2, v3;
	__m128i x;

	v0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_set_epi32(0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (int)reg));
	v1 = _mm512_loadu_si512(p + 64);
	v2 = _mm512_loadu_si512(p + 128);
	v3 = _mm512_loadu_si512(p + 192);
	for (p += 256, len -= 256; len >= 256; p += 256, len -= 256) {
		v0 = crc_fold512_step(v0, k16, _mm512_loadu_si512(p));
		v1 = crc_fold512_step(v1, k16, _mm512_loadu_si512(p + 64));
		v2 = crc_fold512_step(v2, k16, _mm512_loadu_si512(p + 128));
		v3 = crc_fold512_step(v3, k16, _mm512_loadu_si512(p + 192));
	}
	v0 = crc_fold512_step(v0, k4, v1);
	v0 = crc_fold512_step(v0, k4, v2);
	v0 = crc_fold512_step(v0, k4, v3);
	for (; len >= 64; p += 64, len -= 64)
		v0 = crc_fold512_step(v0, k4, _mm512_loadu_si512(p));
	x = crc_fold_step(_mm512_extracti32x4_epi32(v0, 0), k1,
		_mm512_extracti32x4_epi32(v0, 1));
	x = crc_fold_step(x, k1, _mm512_extracti32x4_epi32(v0, 2));
	x = crc_fold_step(x, k1, _mm512_extracti32x4_epi32(v0, 3));
	for (; len >= 16; p += 16, len -= 16)
		x = crc_fold_step(x, k1, _mm_loadu_si128((const __m128i *)p));
	return crc_reduce(x, &crc32_reduction);
}
#endif

uint32_t
sit_cksum_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t reg = ~crc;

#ifdef HAVE_X86
	if (len >= CRC32_FOLD_MIN && __builtin_cpu_supports("pclmul")) {
		size_t n = len & ~(size_t)15;

		if (n >= CRC32_FOLD512_MIN && __builtin_cpu_supports("avx512f") &&
		    __builtin_cpu_supports("vpclmulqdq"))
			reg = crc32_fold512(reg, p, n);
		else
			reg = crc32_fold(reg, p, n);
		p += n;
		len -= n;
	}
#endif
	return ~crc_slice(crc32_slice, reg, p, len);
}

/* ---- Adler-32 with AVX2 ------------------------------------------------
 *
 * Over n blocks of 32 bytes d[k][i], from (a, b):
 *   a' = a + sum_k S_k,                 S_k = sum_i d[k][i]
 *   b' = b + 32 n a + sum_k (32 sum_{j<k} S_j + sum_i (32 - i) d[k][i])
 * Per block, _mm256_sad_epu8 against zero gives S_k in four partial sums,
 * the running total of the earlier S_j is one add, and maddubs with the
 * weights 32..1 then madd with ones gives the weighted sum in eight.  All in
 * 32-bit lanes: at n blocks a lane of the running totals holds at most
 * 2040 n (n - 1) / 2, under 2^32 for n <= 2048; the runs are 1024 blocks,
 * then the lanes are added up and reduced in 64 bits. */

#ifdef HAVE_X86
#define ADLER_RUN 1024u

__attribute__((target("avx2"))) static uint64_t
sum_lanes32(__m256i v)
{
	uint32_t l[8];
	uint64_t s = 0;

	_mm256_storeu_si256((__m256i *)l, v);
	for (int i = 0; i < 8; i++)
		s += l[i];
	return s;
}

__attribute__((target("avx2"))) static uint32_t
adler32_avx2(uint32_t adler, const void *buf, size_t len)
{
	const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25,
		24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9,
		8, 7, 6, 5, 4, 3, 2, 1);
	const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
	const unsigned char *p = buf;
	uint64_t a = adler & 0xffff, b = adler >> 16;

	while (len >= 32) {
		size_t n = len / 32 < ADLER_RUN ? len / 32 : ADLER_RUN;
		__m256i va = zero, vprev = zero, vb = zero;

		len -= 32 * n;
		for (size_t k = 0; k < n; k++, p += 32) {
			__m256i d = _mm256_loadu_si256((const __m256i *)p);

			vprev = _mm256_add_epi32(vprev, va);
			va = _mm256_add_epi32(va, _mm256_sad_epu8(d, zero));
			vb = _mm256_add_epi32(vb, _mm256_madd_epi16(
				_mm256_maddubs_epi16(d, weights), ones));
		}
		b = (b + 32 * n * a + 32 * sum_lanes32(vprev) + sum_lanes32(vb)) % ADLER_MOD;
		a = (a + sum_lanes32(va)) % ADLER_MOD;
	}
	return adler32_portable((uint32_t)(b << 16 | a), p, len);
}

/* ---- Adler-32 with AVX-512 ---------------------------------------------
 *
 * The sums above over blocks of 64 bytes, weights 64..1, two blocks a step
 * into two weighted sums (one chain of multiply-adds would wait on its own
 * latency).  The weighted sum of a block is one vpdpbusd with VNNI (about
 * 7% faster here than without), else maddubs then madd with ones as above:
 * maddubs adds two products of at most 255 (64 + 63) = 32385, within its
 * signed 16 bits.  Bounds, in a run of N blocks: sad leaves each block's
 * sums in eight 64-bit lanes, at most 8 * 255 = 2040 each, and those and
 * their running totals (at most 2040 N (N - 1) / 2) are added 64 bits wide;
 * a 32-bit lane of one weighted sum takes four bytes of every other block,
 * at most 255 (64 + 63 + 62 + 61) = 63750 a block, so 65 million for the
 * runs of N = 2048 blocks (128 KiB), far under 2^32.  After a run the lanes
 * are added up in 64 bits and reduced.
 *
 * A block of T < 64 bytes is a masked load (which reads no byte past the
 * T, and faults on none) with zeros after them, and the weights lowered by
 * 64 - T, T..1 for the T bytes: b' = b + T a + sum_i (T - i) d[i], and the
 * zeros add nothing.  The last bytes, fewer than 128, go so in at most two
 * blocks; and so do the first ones up to a 64-byte boundary when the loop
 * after them is long (ADLER512_ALIGN_MIN): loads that cross cache lines
 * took 256 MiB from RAM at 20 GB/s instead of 37, but for a few hundred
 * bytes one more block costs more than the crossings. */

#define ADLER512_RUN 2048u
#define ADLER512_ALIGN_MIN 1024u

/* Weighted sum of one block's bytes D into the 32-bit lanes of ACC. */
typedef __m512i adler_weigh_fn(__m512i acc, __m512i d, __m512i weights);

__attribute__((target("avx512f,avx512bw"))) static inline __m512i
adler_weigh_bw(__m512i acc, __m512i d, __m512i weights)
{
	return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(d, weights),
		_mm512_set1_epi16(1)));
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static inline __m512i
adler_weigh_vnni(__m512i acc, __m512i d, __m512i weights)
{
	return _mm512_dpbusd_epi32(acc, d, weights);
}

/* The sum of the sixteen 32-bit lanes, without overflow. */
__attribute__((target("avx512f"))) static uint64_t
sum_lanes32x16(__m512i v)
{
	return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(
		_mm512_cvtepu32_epi64(_mm512_castsi512_si256(v)),
		_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(v, 1))));
}

#define ADLER512_WEIGHTS _mm512_set_epi8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, \
	11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, \
	28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, \
	45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, \
	62, 63, 64)

/* (A, B) after the T <= 64 bytes at P, both reduced. */
__attribute__((target("avx512f,avx512bw"), always_inline)) static inline void
adler32_block512(uint64_t *a, uint64_t *b, const unsigned char *p, size_t t,
	adler_weigh_fn *weigh)
{
	const __m512i zero = _mm512_setzero_si512();
	__m512i d = _mm512_maskz_loadu_epi8(~0ull >> (64 - t), p);
	__m512i w = _mm512_sub_epi8(ADLER512_WEIGHTS, _mm512_set1_epi8((char)(64 - t)));

	*b = (*b + t * *a + sum_lanes32x16(weigh(zero, d, w))) % ADLER_MOD;
	*a = (*a + (uint64_t)_mm512_reduce_add_epi64(_mm512_sad_epu8(d, zero))) % ADLER_MOD;
}

/* The loop of both AVX-512 paths; WEIGH is a constant where it is inlined,
 * so each path gets its own loop around its own instruction. */
__attribute__((target("avx512f,avx512bw"), always_inline)) static inline uint32_t
adler32_avx512(uint32_t adler, const unsigned char *p, size_t len, adler_weigh_fn *weigh)
{
	const __m512i weights = ADLER512_WEIGHTS, zero = _mm512_setzero_si512();
	size_t head = (size_t)(-(uintptr_t)p % 64);
	uint64_t a = adler & 0xffff, b = adler >> 16;

	if (head > 0 && len >= ADLER512_ALIGN_MIN) {
		adler32_block512(&a, &b, p, head, weigh);
		p += head;
		len -= head;
	}
	while (len >= 128) {
		size_t n = len / 128 < ADLER512_RUN / 2 ? len / 128 : ADLER512_RUN / 2;
		__m512i va = zero, vprev = zero, vb0 = zero, vb1 = zero;

		len -= 128 * n;
		for (size_t k = 0; k < n; k++, p += 128) {
			__m512i d0 = _mm512_loadu_si512(p), d1 = _mm512_loadu_si512(p + 64);

			vprev = _mm512_add_epi64(vprev, va);
			va = _mm512_add_epi64(va, _mm512_sad_epu8(d0, zero));
			vb0 = weigh(vb0, d0, weights);
			vprev = _mm512_add_epi64(vprev, va);
			va = _mm512_add_epi64(va, _mm512_sad_epu8(d1, zero));
			vb1 = weigh(vb1, d1, weights);
		}
		b = (b + 128 * n * a + 64 * (uint64_t)_mm512_reduce_add_epi64(vprev) +
			sum_lanes32x16(vb0) + sum_lanes32x16(vb1)) % ADLER_MOD;
		a = (a + (uint64_t)_mm512_reduce_add_epi64(va)) % ADLER_MOD;
	}
	while (len > 0) {
		size_t t = len < 64 ? len : 64;

		adler32_block512(&a, &b, p, t, weigh);
		p += t;
		len -= t;
	}
	return (uint32_t)(b << 16 | a);
}

__attribute__((target("avx512f,avx512bw"))) static uint32_t
adler32_avx512bw(uint32_t adler, const void *buf, size_t len)
{
	return adler32_avx512(adler, buf, len, adler_weigh_bw);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static uint32_t
adler32_avx512vnni(uint32_t adler, const void *buf, size_t len)
{
	return adler32_avx512(adler, buf, len, adler_weigh_vnni);
}

static int
have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}

static int
have_avx512bw(void)
{
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

static int
have_avx512vnni(void)
{
	return have_avx512bw() && __builtin_cpu_supports("avx512vnni");
}
#endif

static int
always(void)
{
	return 1;
}

/* Fastest first: sit_cksum_adler32() takes the first this CPU runs. */
static const sit_cksum_adler32_impl adler32_impls[] = {
#ifdef HAVE_X86
	{ "avx512vnni", have_avx512vnni, adler32_avx512vnni },
	{ "avx512bw", have_avx512bw, adler32_avx512bw },
	{ "avx2", have_avx2, adler32_avx2 },
#endif
	{ "portable", always, adler32_portable },
};

const sit_cksum_adler32_impl *
sit_cksum_adler32_impls(size_t *count)
{
	*count = sizeof adler32_impls / sizeof adler32_impls[0];
	return adler32_impls;
}

uint32_t
sit_cksum_adler32(uint32_t adler, const void *buf, size_t len)
{
	const sit_cksum_adler32_impl *im = adler32_impls;

	while (!im->available())
		im++;
	return im->adler32(adler, buf, len);
}

/* ---- CRC-32C ---------------------------------------------------------- */

/* Raw register updates: a stretch of bytes, and whole 32-byte groups of the
 * four lanes (one word each) starting at a group boundary. */
typedef uint32_t crc_update_fn(uint32_t reg, const unsigned char *p, size_t len);
typedef void lanes_groups_fn(uint32_t reg[4], const unsigned char *p, size_t len);

static uint32_t
crc32c_table(uint32_t reg, const unsigned char *p, size_t len)
{
	return crc_slice(crc32c_slice, reg, p, len);
}

static void
lanes_table_groups(uint32_t reg[4], const unsigned char *p, size_t len)
{
	for (; len >= 32; len -= 32, p += 32)
		for (int i = 0; i < 4; i++)
			reg[i] = crc_slice_word(crc32c_slice, reg[i], p + 8 * i);
}

#ifdef HAVE_X86
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t reg, const unsigned char *p, size_t len)
{
	uint64_t r = reg, w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		r = _mm_crc32_u64(r, w);
	}
	reg = (uint32_t)r;
	while (len--)
		reg = _mm_crc32_u8(reg, *p++);
	return reg;
}

/* LEN is a multiple of 32: whole groups of one word per lane. */
__attribute__((target("sse4.2"))) static void
lanes_hw_groups(uint32_t reg[4], const unsigned char *p, size_t len)
{
	uint64_t r0 = reg[0], r1 = reg[1], r2 = reg[2], r3 = reg[3], w[4];

	for (; len >= 32; len -= 32, p += 32) {
		memcpy(w, p, sizeof w);
		r0 = _mm_crc32_u64(r0, w[0]);
		r1 = _mm_crc32_u64(r1, w[1]);
		r2 = _mm_crc32_u64(r2, w[2]);
		r3 = _mm_crc32_u64(r3, w[3]);
	}
	reg[0] = (uint32_t)r0;
	reg[1] = (uint32_t)r1;
	reg[2] = (uint32_t)r2;
	reg[3] = (uint32_t)r3;
}

/* ---- the lanes by folding, beside the crc32 instruction ----------------
 *
 * Each lane is a CRC-32C stream of its own, and folding (above) works for
 * any polynomial, so the four lanes fold side by side in 512-bit
 * registers, one lane in each 128-bit quarter.  A 64-byte load holds the
 * words of lanes 0 1 2 3 0 1 2 3; putting them in the order 0 4 1 5 2 6 3 7
 * makes quarter i 16 consecutive bytes of lane i.  Four such registers, 256
 * bytes of the stream, are the usual four chains (64 bytes of each lane).
 *
 * Alone that is bound by VPCLMULQDQ's throughput (about 50 GB/s here, one
 * 512-bit product per two cycles), and the crc32 instruction (33 GB/s)
 * runs on other ports.  So they take turns within each 512 bytes: the first
 * 256 fold, the second 256 go through the crc32 instruction, four chains
 * started from zero, and the two together ran at 72 GB/s against 51 for
 * folding alone (Zen 5, in cache).  The CRC is linear: a lane's register is
 * the xor of what its folded bytes give with the others taken as zeros and
 * what the crc32 stretches give likewise.  A stretch's register R, started
 * from zero, counts exactly as the bytes R would in the 4 bytes after the
 * stretch (how a starting register enters a message), and those are the
 * first bytes of the next folded block of the lane: R is xored there.  So
 * every chain moves 128 bytes of its lane a step, 64 folded and 64 not:
 * D = 1024 (CRC32C_FOLD8).  At the end the chains fold into one 16 bytes
 * apart (CRC32C_FOLD1) and each quarter reduces to its lane's register.
 *
 * Short calls would spend more on the start and the four reductions than
 * they save: below LANES_FOLD_MIN bytes the crc32 instruction does it all
 * (the two cross at about 1.3 KiB here). */
#define LANES_FOLD_MIN 2048

/* REG[i] as the first 4 bytes of quarter i. */
__attribute__((target("avx512f"))) static inline __m512i
lanes_spread(const uint32_t reg[4])
{
	return _mm512_set_epi32(0, 0, 0, (int)reg[3], 0, 0, 0, (int)reg[2],
		0, 0, 0, (int)reg[1], 0, 0, 0, (int)reg[0]);
}

/* 64 bytes at a group boundary, quarter i holding lane i's two words. */
__attribute__((target("avx512f"))) static inline __m512i
lanes_load(const unsigned char *p)
{
	return _mm512_permutexvar_epi64(_mm512_set_epi64(7, 3, 6, 2, 5, 1, 4, 0),
		_mm512_loadu_si512(p));
}

/* LEN >= 256, a multiple of 32, from a group boundary: returns how many
 * bytes were taken (the rest is under 512, and whole groups). */
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) static size_t
lanes_fold(uint32_t reg[4], const unsigned char *p, size_t len)
{
	const __m512i k8 = _mm512_broadcast_i32x4(_mm_set_epi64x(CRC32C_FOLD8_L, CRC32C_FOLD8_H));
	const __m512i k1 = _mm512_broadcast_i32x4(_mm_set_epi64x(CRC32C_FOLD1_L, CRC32C_FOLD1_H));
	const unsigned char *start = p;
	__m512i v0, v1, v2, v3;

	v0 = _mm512_xor_si512(lanes_load(p), lanes_spread(reg));
	v1 = lanes_load(p + 64);
	v2 = lanes_load(p + 128);
	v3 = lanes_load(p + 192);
	for (p += 256, len -= 256; len >= 512; p += 512, len -= 512) {
		uint32_t stretch[4] = { 0, 0, 0, 0 };

		lanes_hw_groups(stretch, p, 256);
		v0 = crc_fold512_step(v0, k8, _mm512_xor_si512(lanes_load(p + 256),
			lanes_spread(stretch)));
		v1 = crc_fold512_step(v1, k8, lanes_load(p + 320));
		v2 = crc_fold512_step(v2, k8, lanes_load(p + 384));
		v3 = crc_fold512_step(v3, k8, lanes_load(p + 448));
	}
	v0 = crc_fold512_step(v0, k1, v1);
	v0 = crc_fold512_step(v0, k1, v2);
	v0 = crc_fold512_step(v0, k1, v3);
	reg[0] = crc_reduce(_mm512_extracti32x4_epi32(v0, 0), &crc32c_reduction);
	reg[1] = crc_reduce(_mm512_extracti32x4_epi32(v0, 1), &crc32c_reduction);
	reg[2] = crc_reduce(_mm512_extracti32x4_epi32(v0, 2), &crc32c_reduction);
	reg[3] = crc_reduce(_mm512_extracti32x4_epi32(v0, 3), &crc32c_reduction);
	return (size_t)(p - start);
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) static void
lanes_fold_groups(uint32_t reg[4], const unsigned char *p, size_t len)
{
	size_t n = len >= LANES_FOLD_MIN ? lanes_fold(reg, p, len) : 0;

	lanes_hw_groups(reg, p + n, len - n);
}

static int
have_hw_crc32c(void)
{
	return __builtin_cpu_supports("sse4.2");
}

static int
have_lanes_fold(void)
{
	return have_hw_crc32c() && __builtin_cpu_supports("pclmul") &&
		__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
}
#endif

/* Raw register update, with the instruction when there is one. */
static uint32_t
crc32c_update(uint32_t reg, const unsigned char *p, size_t len)
{
#ifdef HAVE_X86
	if (have_hw_crc32c())
		return crc32c_hw(reg, p, len);
#endif
	return crc32c_table(reg, p, len);
}

uint32_t
sit_cksum_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return ~crc32c_update(~crc, buf, len);
}

void
sit_cksum_lanes_init(sit_cksum_lanes *l, const uint32_t seed[4])
{
	for (int i = 0; i < 4; i++)
		l->lane[i] = ~seed[i];          /* the raw register */
	l->pos = 0;
}

/* sit_cksum_lanes_update() with GROUPS for whole groups and STRETCH for
 * the bytes of one word (inlined into each path with its own two). */
static inline void
lanes_update_with(sit_cksum_lanes *l, const unsigned char *p, size_t len,
	lanes_groups_fn *groups, crc_update_fn *stretch)
{
	while (len > 0) {
		size_t n;

		if (l->pos % 32 == 0 && len >= 32) {
			n = len - len % 32;
			groups(l->lane, p, n);
		} else {
			/* Up to the end of the current word. */
			n = 8 - l->pos % 8;
			if (n > len)
				n = len;
			l->lane[l->pos / 8 % 4] = stretch(l->lane[l->pos / 8 % 4], p, n);
		}
		l->pos += n;
		p += n;
		len -= n;
	}
}

#ifdef HAVE_X86
static void
lanes_update_fold(sit_cksum_lanes *l, const void *buf, size_t len)
{
	lanes_update_with(l, buf, len, lanes_fold_groups, crc32c_hw);
}

static void
lanes_update_hw(sit_cksum_lanes *l, const void *buf, size_t len)
{
	lanes_update_with(l, buf, len, lanes_hw_groups, crc32c_hw);
}
#endif

static void
lanes_update_table(sit_cksum_lanes *l, const void *buf, size_t len)
{
	lanes_update_with(l, buf, len, lanes_table_groups, crc32c_table);
}

/* Fastest first: sit_cksum_lanes_update() takes the first this CPU runs. */
static const sit_cksum_lanes_impl lanes_impls[] = {
#ifdef HAVE_X86
	{ "vpclmul-crc32", have_lanes_fold, lanes_update_fold },
	{ "crc32", have_hw_crc32c, lanes_update_hw },
#endif
	{ "portable", always, lanes_update_table },
};

const sit_cksum_lanes_impl *
sit_cksum_lanes_impls(size_t *count)
{
	*count = sizeof lanes_impls / sizeof lanes_impls[0];
	return lanes_impls;
}

void
sit_cksum_lanes_update(sit_cksum_lanes *l, const void *buf, size_t len)
{
	const sit_cksum_lanes_impl *im = lanes_impls;

	while (!im->available())
		im++;
	im->update(l, buf, len);
}

void
sit_cksum_lanes_final(const sit_cksum_lanes *l, unsigned char out[SIT_CKSUM_LANES_LEN])
{
	for (int i = 0; i < 4; i++) {
		uint32_t v = ~l->lane[i];

		out[4 * i] = (unsigned char)v;
		out[4 * i + 1] = (unsigned char)(v >> 8);
		out[4 * i + 2] = (unsigned char)(v >> 16);
		out[4 * i + 3] = (unsigned char)(v >> 24);
	}
}
