/* keystream.c - see keystream.h.
 *
 * The AES code is the counter-mode loop over the CPU's own AES round
 * instructions (AESENC does a whole round in constant time; there are no
 * tables here), with the textbook AES-256 key schedule of Intel's AES-NI
 * white paper.  The tests compare every byte with libsodium's AES-256-GCM.
 */
#include <string.h>

#include <sodium.h>

#include "keystream.h"

static void
chacha_init(sit_keystream *ks)
{
	(void)ks; /* crypto_stream_chacha20 takes the key as it is */
}

static void
chacha_fill(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out, size_t len)
{
	crypto_stream_chacha20(out, len, nonce, ks->key);
}

static int
always(void)
{
	return 1;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define AES_TARGET __attribute__((target("aes,sse4.1")))

/* One step of the AES-256 key schedule: K xor its three left shifts (the
 * running xor of the previous words) xor the broadcast word T. */
AES_TARGET static __m128i
schedule_mix(__m128i k, __m128i t)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, t);
}

/* The words AESKEYGENASSIST derives from round key K: SubWord(RotWord())
 * xor RCON of its last word for even round keys, SubWord() of it for odd
 * ones.  RCON must be a compile-time constant, hence macros. */
#define EVEN_WORD(k, rcon) _mm_shuffle_epi32(_mm_aeskeygenassist_si128(k, rcon), 0xff)
#define ODD_WORD(k) _mm_shuffle_epi32(_mm_aeskeygenassist_si128(k, 0), 0xaa)

AES_TARGET static void
aes_init(sit_keystream *ks)
{
	__m128i rk[15];

	rk[0] = _mm_loadu_si128((const __m128i *)ks->key);
	rk[1] = _mm_loadu_si128((const __m128i *)(ks->key + 16));
	rk[2] = schedule_mix(rk[0], EVEN_WORD(rk[1], 0x01));
	rk[3] = schedule_mix(rk[1], ODD_WORD(rk[2]));
	rk[4] = schedule_mix(rk[2], EVEN_WORD(rk[3], 0x02));
	rk[5] = schedule_mix(rk[3], ODD_WORD(rk[4]));
	rk[6] = schedule_mix(rk[4], EVEN_WORD(rk[5], 0x04));
	rk[7] = schedule_mix(rk[5], ODD_WORD(rk[6]));
	rk[8] = schedule_mix(rk[6], EVEN_WORD(rk[7], 0x08));
	rk[9] = schedule_mix(rk[7], ODD_WORD(rk[8]));
	rk[10] = schedule_mix(rk[8], EVEN_WORD(rk[9], 0x10));
	rk[11] = schedule_mix(rk[9], ODD_WORD(rk[10]));
	rk[12] = schedule_mix(rk[10], EVEN_WORD(rk[11], 0x20));
	rk[13] = schedule_mix(rk[11], ODD_WORD(rk[12]));
	rk[14] = schedule_mix(rk[12], EVEN_WORD(rk[13], 0x40));
	for (int r = 0; r < 15; r++)
		_mm_store_si128((__m128i *)ks->rk[r], rk[r]);
}

/* The counter block of NONCE with j = 0, the counter held little-endian in
 * the last 32-bit lane so that vector adds step it; SWAP makes it
 * big-endian just before encryption. */
AES_TARGET static __m128i
counter_base(const unsigned char nonce[8])
{
	unsigned char b[16] = { 0 };

	memcpy(b, nonce, 8);
	return _mm_loadu_si128((const __m128i *)b);
}

/* The rounds and blocks below must stay in registers: left as loops over
 * arrays, gcc -O2 keeps the blocks on the stack, and every AESENC then
 * waits on a store and a load (a third of the speed, measured). */
#define UNROLLED _Pragma("GCC unroll 16")

#define SWAP_LAST_WORD _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12)

/* Eight blocks in flight hide AESENC's latency behind its throughput. */
AES_TARGET static void
aesni_fill(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out, size_t len)
{
	const __m128i swap = SWAP_LAST_WORD, one = _mm_setr_epi32(0, 0, 0, 1);
	__m128i ctr = counter_base(nonce), rk[15], x[8];

	for (int r = 0; r < 15; r++)
		rk[r] = _mm_load_si128((const __m128i *)ks->rk[r]);
	while (len > 0) {
		UNROLLED
		for (int b = 0; b < 8; b++) {
			x[b] = _mm_xor_si128(_mm_shuffle_epi8(ctr, swap), rk[0]);
			ctr = _mm_add_epi32(ctr, one);
		}
		UNROLLED
		for (int r = 1; r < 14; r++)
			UNROLLED
			for (int b = 0; b < 8; b++)
				x[b] = _mm_aesenc_si128(x[b], rk[r]);
		UNROLLED
		for (int b = 0; b < 8; b++)
			x[b] = _mm_aesenclast_si128(x[b], rk[14]);
		if (len >= 128) {
			UNROLLED
			for (int b = 0; b < 8; b++)
				_mm_storeu_si128((__m128i *)(out + 16 * b), x[b]);
			out += 128;
			len -= 128;
		} else {
			unsigned char tail[128];

			UNROLLED
			for (int b = 0; b < 8; b++)
				_mm_storeu_si128((__m128i *)(tail + 16 * b), x[b]);
			memcpy(out, tail, len);
			sodium_memzero(tail, sizeof tail);
			len = 0;
		}
	}
}

#define VAES_TARGET __attribute__((target("vaes,avx512f,avx512bw,aes,sse4.1")))
#define VAES_REGS 8

/* Four blocks per 512-bit register, eight registers in flight (with the
 * fifteen round keys, 23 of the 32 vector registers). */
VAES_TARGET static void
vaes512_fill(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out, size_t len)
{
	const __m512i swap = _mm512_broadcast_i32x4(SWAP_LAST_WORD);
	const __m512i four = _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4));
	__m512i ctr = _mm512_add_epi32(_mm512_broadcast_i32x4(counter_base(nonce)),
		_mm512_set_epi32(3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
	__m512i rk[15], x[VAES_REGS];

	for (int r = 0; r < 15; r++)
		rk[r] = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)ks->rk[r]));
	while (len > 0) {
		UNROLLED
		for (int b = 0; b < VAES_REGS; b++) {
			x[b] = _mm512_xor_si512(_mm512_shuffle_epi8(ctr, swap), rk[0]);
			ctr = _mm512_add_epi32(ctr, four);
		}
		UNROLLED
		for (int r = 1; r < 14; r++)
			UNROLLED
			for (int b = 0; b < VAES_REGS; b++)
				x[b] = _mm512_aesenc_epi128(x[b], rk[r]);
		UNROLLED
		for (int b = 0; b < VAES_REGS; b++)
			x[b] = _mm512_aesenclast_epi128(x[b], rk[14]);
		UNROLLED
		for (int b = 0; b < VAES_REGS && len > 0; b++) {
			size_t m = len < 64 ? len : 64;

			_mm512_mask_storeu_epi8(out, m == 64 ? ~(__mmask64)0 : ((__mmask64)1 << m) - 1,
				x[b]);
			out += m;
			len -= m;
		}
	}
}

#define VAES256_TARGET __attribute__((target("vaes,avx2,aes,sse4.1")))

/* CPUs with VAES but without AVX-512 (AMD Zen 3, Intel's client cores):
 * two blocks per 256-bit register, eight registers in flight. */
VAES256_TARGET static void
vaes256_fill(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out, size_t len)
{
	const __m256i swap = _mm256_broadcastsi128_si256(SWAP_LAST_WORD);
	const __m256i two = _mm256_broadcastsi128_si256(_mm_setr_epi32(0, 0, 0, 2));
	__m256i ctr = _mm256_add_epi32(_mm256_broadcastsi128_si256(counter_base(nonce)),
		_mm256_setr_epi32(0, 0, 0, 0, 0, 0, 0, 1));
	__m256i rk[15], x[VAES_REGS];

	for (int r = 0; r < 15; r++)
		rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)ks->rk[r]));
	while (len > 0) {
		UNROLLED
		for (int b = 0; b < VAES_REGS; b++) {
			x[b] = _mm256_xor_si256(_mm256_shuffle_epi8(ctr, swap), rk[0]);
			ctr = _mm256_add_epi32(ctr, two);
		}
		UNROLLED
		for (int r = 1; r < 14; r++)
			UNROLLED
			for (int b = 0; b < VAES_REGS; b++)
				x[b] = _mm256_aesenc_epi128(x[b], rk[r]);
		UNROLLED
		for (int b = 0; b < VAES_REGS; b++)
			x[b] = _mm256_aesenclast_epi128(x[b], rk[14]);
		if (len >= 32 * VAES_REGS) {
			UNROLLED
			for (int b = 0; b < VAES_REGS; b++)
				_mm256_storeu_si256((__m256i *)(out + 32 * b), x[b]);
			out += 32 * VAES_REGS;
			len -= 32 * VAES_REGS;
		} else {
			unsigned char tail[32 * VAES_REGS];

			UNROLLED
			for (int b = 0; b < VAES_REGS; b++)
				_mm256_storeu_si256((__m256i *)(tail + 32 * b), x[b]);
			memcpy(out, tail, len);
			sodium_memzero(tail, sizeof tail);
			len = 0;
		}
	}
}

static int
have_aesni(void)
{
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
}

/* CPUID leaf 7, ECX bit 9, read directly: clang 14 has no "vaes" for
 * __builtin_cpu_supports.  Whether the kernel saves the wider registers is
 * what the avx2 and avx512f checks answer. */
static int
have_vaes(void)
{
	unsigned a, b, c, d;

	return have_aesni() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 9)) != 0;
}

static int
have_vaes256(void)
{
	return have_vaes() && __builtin_cpu_supports("avx2");
}

static int
have_vaes512(void)
{
	return have_vaes() && __builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512bw");
}
#endif

/* Fastest first: sit_keystream_init() takes the first this CPU runs. */
static const sit_keystream_impl impls[] = {
#if defined(__x86_64__) && defined(__GNUC__)
	{ "aes-vaes512", have_vaes512, aes_init, vaes512_fill },
	{ "aes-vaes256", have_vaes256, aes_init, vaes256_fill },
	{ "aes-ni", have_aesni, aes_init, aesni_fill },
#endif
	{ "chacha20", always, chacha_init, chacha_fill },
};

const sit_keystream_impl *
sit_keystream_impls(size_t *count)
{
	*count = sizeof impls / sizeof impls[0];
	return impls;
}

void
sit_keystream_init(sit_keystream *ks, const unsigned char key[SIT_KEYSTREAM_KEYBYTES],
	const sit_keystream_impl *impl)
{
	memset(ks, 0, sizeof *ks);
	if (impl == NULL)
		for (impl = impls; !impl->available(); impl++)
			;
	ks->impl = impl;
	memcpy(ks->key, key, SIT_KEYSTREAM_KEYBYTES);
	impl->init(ks);
}

void
sit_keystream_fill(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out,
	size_t len)
{
	ks->impl->fill(ks, nonce, out, len);
}

const char *
sit_keystream_name(const sit_keystream *ks)
{
	return ks->impl->name;
}

void
sit_keystream_wipe(sit_keystream *ks)
{
	sodium_memzero(ks->rk, sizeof ks->rk);
	sodium_memzero(ks->key, sizeof ks->key);
}
