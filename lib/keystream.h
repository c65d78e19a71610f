/* keystream.h - the random coefficients of sit-share: a fast keystream
 * under a fresh random key.
 *
 * Splitting k-of-n needs k-1 random bytes for every byte of the secret, and
 * the generator producing them was half of sit-share's time (libsodium's
 * ChaCha20, 0.6 to 2 GB/s here).  Where the CPU has AES instructions the
 * stream is AES-256 in counter mode instead, 4 to 40 times faster; without
 * them it stays ChaCha20.  The key comes from randombytes_buf() for every
 * run and the stream never leaves the process, so which of the two a machine
 * uses is invisible in the shares.
 *
 * AES-256-CTR (SP 800-38A): keystream block j of nonce N is
 * AES-256(key, N[0..7] || 00 00 00 00 || j as 32 bits big-endian), j from 0,
 * which is exactly the counter block AES-256-GCM uses with the 12-byte IV
 * N[0..7] || 00 00 00 00 (from j = 2 on), so libsodium's AES-256-GCM is the
 * tests' oracle.  ChaCha20: crypto_stream_chacha20() with the 8-byte nonce N.
 * One call gives at most 2^32 blocks of 16 bytes from a nonce.
 */
#ifndef SIT_KEYSTREAM_H
#define SIT_KEYSTREAM_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#define SIT_KEYSTREAM_KEYBYTES 32
#define SIT_KEYSTREAM_MAX ((uint64_t)16 << 32)

typedef struct sit_keystream_impl sit_keystream_impl;

typedef struct sit_keystream {
	const sit_keystream_impl *impl;
	alignas(16) unsigned char rk[15][16];      /* AES-256 round keys: secret */
	unsigned char key[SIT_KEYSTREAM_KEYBYTES]; /* ChaCha20 key: secret */
} sit_keystream;

struct sit_keystream_impl {
	const char *name;
	int (*available)(void);
	void (*init)(sit_keystream *ks);
	void (*fill)(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out,
		size_t len);
};

/* Set KS up for KEY with the fastest generator this CPU runs, or with IMPL
 * when it is not NULL (tests: one of sit_keystream_impls()). */
void sit_keystream_init(sit_keystream *ks, const unsigned char key[SIT_KEYSTREAM_KEYBYTES],
	const sit_keystream_impl *impl);

/* OUT[0..len) = the keystream of NONCE from its start; LEN at most
 * SIT_KEYSTREAM_MAX.  KS is only read: threads may fill at once. */
void sit_keystream_fill(const sit_keystream *ks, const unsigned char nonce[8], uint8_t *out,
	size_t len);

/* The generator in use ("aes-vaes512", "aes-vaes256", "aes-ni", "chacha20"). */
const char *sit_keystream_name(const sit_keystream *ks);

/* Wipe the key and round keys. */
void sit_keystream_wipe(sit_keystream *ks);

/* Every generator in this build, fastest first (tests hold each one this
 * CPU runs against its oracle). */
const sit_keystream_impl *sit_keystream_impls(size_t *count);

#endif
