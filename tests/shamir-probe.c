/* shamir-probe - hold every implementation of the splitting arithmetic that
 * this CPU runs against an oracle.
 *
 *   shamir-probe gf256        each sit_gf256_impls() entry against
 *                             sit_gf256_mul(), byte by byte: every constant,
 *                             lengths 0..300 and a long run, every start
 *                             offset within 64 bytes, and the destination
 *                             equal to either source
 *   shamir-probe keystream    each sit_keystream_impls() entry: AES ones
 *                             against libsodium's AES-256-GCM (whose
 *                             ciphertext of zeros is the same counter-mode
 *                             stream from block 2 on), ChaCha20 against
 *                             crypto_stream_chacha20(); and every length is
 *                             a prefix of a longer one
 *   shamir-probe stream NAME KEYHEX NONCEHEX LEN
 *                             write LEN bytes of generator NAME's stream to
 *                             stdout (t-shamir.sh compares it with openssl)
 *
 * Prints "gf256 NAME ok" / "keystream NAME ok" for each implementation
 * checked, "... NAME unavailable" for those the CPU cannot run; exits 1 at
 * the first mismatch, with where it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gf256.h"
#include "keystream.h"

#define LONG_RUN 100003

static void
die(const char *msg)
{
	fprintf(stderr, "shamir-probe: %s\n", msg);
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* Reproducible test data. */
static void
fill_data(uint8_t *buf, size_t len, uint64_t seed)
{
	unsigned char s[randombytes_SEEDBYTES] = { 0 };

	memcpy(s, &seed, sizeof seed);
	randombytes_buf_deterministic(buf, len, s);
}

/* dst = c * src ^ add through IMPL, with dst one of the sources when ALIAS
 * is 1 (src) or 2 (add), checked byte by byte. */
static int
check_muladd(const sit_gf256_impl *im, uint8_t c, size_t off, size_t len, int alias)
{
	sit_gf256_mulc m;
	uint8_t *src = xmalloc(off + len + 64), *add = xmalloc(off + len + 64);
	uint8_t *dst = xmalloc(off + len + 64), *out;
	int ok = 1;

	fill_data(src, off + len + 64, 2 * (uint64_t)len + c);
	fill_data(add, off + len + 64, 3 * (uint64_t)len + off);
	memset(dst, 0xa5, off + len + 64);
	sit_gf256_mulc_init(&m, c);
	out = alias == 1 ? src : alias == 2 ? add : dst;
	{
		uint8_t *want = xmalloc(len);
		uint8_t guard = out[off + len];

		for (size_t i = 0; i < len; i++)
			want[i] = sit_gf256_mul(c, src[off + i]) ^ add[off + i];
		im->muladd(&m, out + off, src + off, add + off, len);
		if (memcmp(out + off, want, len) != 0 || out[off + len] != guard ||
		    (alias == 0 && off > 0 && dst[off - 1] != 0xa5))
			ok = 0;
		free(want);
	}
	free(src);
	free(add);
	free(dst);
	return ok;
}

static void
probe_gf256(void)
{
	size_t count;
	const sit_gf256_impl *impls = sit_gf256_impls(&count);

	for (size_t k = 0; k < count; k++) {
		const sit_gf256_impl *im = &impls[k];

		if (!im->available()) {
			printf("gf256 %s unavailable\n", im->name);
			continue;
		}
		for (unsigned c = 0; c < 256; c++)
			for (size_t len = 0; len <= 300; len += c % 7 + 1)
				if (!check_muladd(im, (uint8_t)c, (c + len) % 64, len, (int)(len % 3))) {
					fprintf(stderr, "shamir-probe: gf256 %s: c=%u len=%zu wrong\n",
						im->name, c, len);
					exit(1);
				}
		for (unsigned c = 0; c < 256; c += 17)
			for (size_t off = 0; off < 64; off += 13)
				if (!check_muladd(im, (uint8_t)c, off, LONG_RUN, (int)(off % 3))) {
					fprintf(stderr, "shamir-probe: gf256 %s: c=%u long run wrong\n",
						im->name, c);
					exit(1);
				}
		printf("gf256 %s ok\n", im->name);
	}
}

/* The oracle: the first LEN bytes of NAME's stream for KEY and NONCE. */
static void
oracle(const char *name, const unsigned char *key, const unsigned char nonce[8],
	uint8_t *out, size_t len)
{
	if (strcmp(name, "chacha20") == 0) {
		crypto_stream_chacha20(out, len, nonce, key);
		return;
	}
	/* AES-256-GCM with IV N || 0000 encrypts block j of the message with
	 * counter block IV || j + 2: our blocks 0 and 1 are not in it, so
	 * compare from byte 32. */
	unsigned char iv[crypto_aead_aes256gcm_NPUBBYTES] = { 0 };
	uint8_t *zeros = xmalloc(len), *ct = xmalloc(len + crypto_aead_aes256gcm_ABYTES);
	unsigned long long ctlen;

	if (!crypto_aead_aes256gcm_is_available())
		die("libsodium has no AES-256-GCM on this CPU, but our AES ran");
	memcpy(iv, nonce, 8);
	memset(zeros, 0, len);
	if (crypto_aead_aes256gcm_encrypt(ct, &ctlen, zeros, len, NULL, 0, NULL, iv, key) != 0)
		die("AES-256-GCM failed");
	memcpy(out, ct, len);
	free(zeros);
	free(ct);
}

static void
probe_keystream(void)
{
	size_t count;
	const sit_keystream_impl *impls = sit_keystream_impls(&count);
	static const size_t lens[] = { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
		255, 256, 257, 300, 511, 512, 1000, 4096, 65536, 65536 + 7, 1 << 20 };
	const size_t maxlen = (1 << 20) + 32;
	uint8_t *got = xmalloc(maxlen), *full = xmalloc(maxlen), *want = xmalloc(maxlen);
	unsigned char key[SIT_KEYSTREAM_KEYBYTES], nonce[8];

	for (size_t k = 0; k < count; k++) {
		const sit_keystream_impl *im = &impls[k];
		sit_keystream ks;
		int aes = strcmp(im->name, "chacha20") != 0;

		if (!im->available()) {
			printf("keystream %s unavailable\n", im->name);
			continue;
		}
		for (unsigned t = 0; t < 4; t++) {
			fill_data(key, sizeof key, 100 + t);
			fill_data(nonce, sizeof nonce, 200 + t);
			if (t == 1)
				memset(nonce, 0xff, sizeof nonce);
			sit_keystream_init(&ks, key, im);
			sit_keystream_fill(&ks, nonce, full, maxlen);
			for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
				size_t len = lens[i], skip = aes ? 32 : 0;

				memset(got, 0x5a, len + 1);
				sit_keystream_fill(&ks, nonce, got, len);
				if (memcmp(got, full, len) != 0 || got[len] != 0x5a) {
					fprintf(stderr, "shamir-probe: keystream %s: %zu bytes are not a prefix\n",
						im->name, len);
					exit(1);
				}
				if (len < skip)
					continue;
				oracle(im->name, key, nonce, want, len - skip);
				if (memcmp(full + skip, want, len - skip) != 0) {
					fprintf(stderr, "shamir-probe: keystream %s: %zu bytes differ from the oracle\n",
						im->name, len);
					exit(1);
				}
			}
			sit_keystream_wipe(&ks);
		}
		printf("keystream %s ok\n", im->name);
	}
	free(got);
	free(full);
	free(want);
}

static int
unhex(const char *hex, unsigned char *out, size_t len)
{
	size_t got;

	return sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL) == 0 && got == len ? 0 : -1;
}

static void
stream(const char *name, const char *keyhex, const char *noncehex, const char *lenstr)
{
	size_t count, len = strtoul(lenstr, NULL, 10);
	const sit_keystream_impl *impls = sit_keystream_impls(&count), *im = NULL;
	unsigned char key[SIT_KEYSTREAM_KEYBYTES], nonce[8];
	sit_keystream ks;
	uint8_t *out;

	for (size_t k = 0; k < count; k++)
		if (strcmp(impls[k].name, name) == 0)
			im = &impls[k];
	if (im == NULL || !im->available())
		die("no such generator on this CPU");
	if (unhex(keyhex, key, sizeof key) != 0 || unhex(noncehex, nonce, sizeof nonce) != 0)
		die("bad key or nonce");
	out = xmalloc(len);
	sit_keystream_init(&ks, key, im);
	sit_keystream_fill(&ks, nonce, out, len);
	if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)
		die("write error");
	sit_keystream_wipe(&ks);
	free(out);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		die("libsodium cannot be initialised");
	if (argc == 2 && strcmp(argv[1], "gf256") == 0)
		probe_gf256();
	else if (argc == 2 && strcmp(argv[1], "keystream") == 0)
		probe_keystream();
	else if (argc == 6 && strcmp(argv[1], "stream") == 0)
		stream(argv[2], argv[3], argv[4], argv[5]);
	else
		die("usage: shamir-probe gf256 | keystream | stream NAME KEYHEX NONCEHEX LEN");
	return fflush(stdout) == 0 ? 0 : 1;
}
