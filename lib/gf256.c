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

/* GFNI multiplies bytes in the AES field itself (GF2P8MULB reduces by
 * 0x11b, our polynomial): one instruction per 32 bytes instead of two
 * shuffles, two masks and a shift. */
__attribute__((target("gfni,avx2"))) static void
muladd_gfni256(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	const __m256i c = _mm256_set1_epi8((char)m->c);
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
		__m256i a = _mm256_loadu_si256((const __m256i *)(add + i));

		_mm256_storeu_si256((__m256i *)(dst + i),
			_mm256_xor_si256(_mm256_gf2p8mul_epi8(v, c), a));
	}
	muladd_portable(m, dst + i, src + i, add + i, n - i);
}

/* The same 64 bytes at a time; the tail goes through masked loads and
 * stores, which touch no byte outside [0, n). */
__attribute__((target("gfni,avx512f,avx512bw"))) static void
muladd_gfni512(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	const __m512i c = _mm512_set1_epi8((char)m->c);
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		__m512i v = _mm512_loadu_si512((const void *)(src + i));
		__m512i a = _mm512_loadu_si512((const void *)(add + i));

		_mm512_storeu_si512((void *)(dst + i),
			_mm512_xor_si512(_mm512_gf2p8mul_epi8(v, c), a));
	}
	if (i < n) {
		__mmask64 k = ((__mmask64)1 << (n - i)) - 1;
		__m512i v = _mm512_maskz_loadu_epi8(k, src + i);
		__m512i a = _mm512_maskz_loadu_epi8(k, add + i);

		_mm512_mask_storeu_epi8(dst + i, k,
			_mm512_xor_si512(_mm512_gf2p8mul_epi8(v, c), a));
	}
}

/* __builtin_cpu_supports reads what CPUID said at start-up (and whether
 * the kernel saves the wider registers); the answer never changes. */
static int
have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}

static int
have_gfni256(void)
{
	return __builtin_cpu_supports("gfni") && __builtin_cpu_supports("avx2");
}

static int
have_gfni512(void)
{
	return __builtin_cpu_supports("gfni") && __builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512bw");
}
#endif

static int
always(void)
{
	return 1;
}

/* Fastest first: sit_gf256_muladd() takes the first this CPU can run. */
static const sit_gf256_impl impls[] = {
#if defined(__x86_64__) && defined(__GNUC__)
	{ "gfni512", have_gfni512, muladd_gfni512 },
	{ "gfni256", have_gfni256, muladd_gfni256 },
	{ "avx2", have_avx2, muladd_avx2 },
#endif
	{ "portable", always, muladd_portable },
};

const sit_gf256_impl *
sit_gf256_impls(size_t *count)
{
	*count = sizeof impls / sizeof impls[0];
	return impls;
}

void
sit_gf256_muladd(const sit_gf256_mulc *m, uint8_t *dst, const uint8_t *src,
	const uint8_t *add, size_t n)
{
	const sit_gf256_impl *im = impls;

	while (!im->available())
		im++;
	im->muladd(m, dst, src, add, n);
}
