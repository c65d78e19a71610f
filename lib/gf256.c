#include <string.h>

#include "gf256.h"

/* The AES reduction, without the x^8 term that falls off a byte. */
#define GF_REDUCE 0x1b

uint8_t
sit_gf256_mul(uint8_t a, uint8_t b)
{
	unsigned r = 0, x = a;

	for (int i = 0; i < 8; i++) {
		/* Masks instead of branches: constant time in both operands. */
		r ^= x & (0u - ((b >> i) & 1u));
		x = ((x << 1) ^ (GF_REDUCE & (0u - (x >> 7)))) & 0xff;
	}
	return (uint8_t)r;
}

uint8_t
sit_gf256_inv(uint8_t a)
{
	/* a^254 = a^-1 in a field of 256 elements (and 0^254 = 0). */
	uint8_t r = 1, p = a;

	for (int e = 254; e > 0; e >>= 1) {
		if (e & 1)
			r = sit_gf256_mul(r, p);
		p = sit_gf256_mul(p, p);
	}
	return r;
}

void
sit_gf256_mulc_init(sit_gf256_mulc *m, uint8_t c)
{
	m->c = c;
	for (unsigned i = 0; i < 16; i++) {
		m->lo[i] = sit_gf256_mul(c, (uint8_t)i);
		m->hi[i] = sit_gf256_mul(c, (uint8_t)(i << 4));
	}
}

/* Eight bytes at once: multiply each byte lane by x (the AES "xtime"). */
static uint64_t
xtime64(uint64_t v)
{
	uint64_t top = (v >> 7) & 0x0101010101010101u;

	return ((v & 0x7f7f7f7f7f7f7f7fu) << 1) ^ (top * GF_REDUCE);
}

/* c * v in each byte lane: shift-and-add over the bits of the public c. */
static uint64_t
mul64(uint8_t c, uint64_t v)
{
	uint64_t r = 0;

	for (; c != 0; c >>= 1) {
		if (c & 1)
			r ^= v;
		v = xtime64(v);
	}
	return r;
}

static void
muladd_portable(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t s, a;
		memcpy(&s, src + i, 8);
		memcpy(&a, add + i, 8);
		s = mul64(m->c, s) ^ a;
		memcpy(dst + i, &s, 8);
	}
	for (; i < n; i++)
		dst[i] = sit_gf256_mul(m->c, src[i]) ^ add[i];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Two byte shuffles per 32 bytes: the product is lo[v & 15] ^ hi[v >> 4]. */
__attribute__((target("avx2"))) static void
muladd_avx2(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	const __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)m->lo));
	const __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)m->hi));
	const __m256i nib = _mm256_set1_epi8(0x0f);
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
		__m256i a = _mm256_loadu_si256((const __m256i *)(add + i));
		__m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nib));
		__m256i h = _mm256_shuffle_epi8(hi,
			_mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
		_mm256_storeu_si256((__m256i *)(dst + i),
			_mm256_xor_si256(_mm256_xor_si256(l, h), a));
	}
	muladd_portable(m, dst + i, src + i, add + i, n - i);
}

static int
have_avx2(void)
{
	/* __builtin_cpu_supports reads CPUID once; the answer never changes. */
	return __builtin_cpu_supports("avx2");
}
#else
static void
muladd_avx2(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	muladd_portable(m, dst, src, add, n);
}

static int
have_avx2(void)
{
	return 0;
}
#endif

void
sit_gf256_muladd(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	if (have_avx2())
		muladd_avx2(m, dst, src, add, n);
	else
		muladd_portable(m, dst, src, add, n);
}
