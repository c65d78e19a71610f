/* shamir.h - Shamir's secret sharing over GF(2^8), byte by byte.
 *
 * Share x (1..n) of secret byte s is f(x) = s + a1 x + ... + a(k-1) x^(k-1)
 * with fresh uniformly random a1..a(k-1) for every byte position, so any
 * k-1 shares are independent of s and any k rebuild it by Lagrange
 * interpolation at 0.  The coefficients come from a keystream (keystream.h:
 * AES-256-CTR, or ChaCha20 on CPUs without AES instructions) whose key is
 * drawn from libsodium's randombytes_buf() (the kernel generator) when
 * splitting starts: getrandom() alone runs at about 100 MB/s here, and
 * libsodium's ChaCha20 at 0.6 to 2 GB/s, where AES-256-CTR runs at 7 GB/s
 * with AES-NI and 20 to 28 GB/s with VAES on 512-bit registers (measured
 * in cache on this project's AMD EPYC machines).  Work goes in blocks of
 * at most SIT_SHAMIR_BLOCK bytes so that the coefficients stay in cache.
 */
#ifndef SIT_SHAMIR_H
#define SIT_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gf256.h"
#include "keystream.h"

#define SIT_SHAMIR_MAX_N 255
#define SIT_SHAMIR_BLOCK (64 * 1024)

typedef struct sit_shamir_split {
	unsigned k, n;
	sit_gf256_mulc x[SIT_SHAMIR_MAX_N]; /* share i has x = i + 1 */
	sit_keystream ks;                   /* the coefficients' generator: secret */
	uint64_t nonce;                     /* one keystream per block */
	uint8_t *coef;                      /* (k-1) * SIT_SHAMIR_BLOCK bytes */
} sit_shamir_split;

/* 2 <= K <= N <= 255.  Calls sodium_init().  EX_USAGE for bad K/N,
 * EX_OSERR when out of memory or without a random generator. */
int sit_shamir_split_init(sit_shamir_split *s, unsigned k, unsigned n, sit_err *e);

/* Split LEN <= SIT_SHAMIR_BLOCK bytes of SECRET into OUT[0..n-1], LEN bytes
 * each (share i is OUT[i], with x = i + 1). */
void sit_shamir_split_block(sit_shamir_split *s, const uint8_t *secret, size_t len,
	uint8_t *const *out);

/* The same for block number BLOCK, whose coefficients are its own
 * keystream (distinct blocks never share a keystream byte), with COEF as
 * scratch of SIT_SHAMIR_COEF_LEN(k) bytes.  S is only read: threads may
 * split different blocks at once, each with its own COEF.  A caller that
 * mixes this with sit_shamir_split_block() must keep the block numbers
 * apart. */
#define SIT_SHAMIR_COEF_LEN(k) ((size_t)((k) - 1) * SIT_SHAMIR_BLOCK)
void sit_shamir_split_block_at(const sit_shamir_split *s, uint64_t block, uint8_t *coef,
	const uint8_t *secret, size_t len, uint8_t *const *out);

/* Bytes per buffer when a batch has BUFFERS buffers (the secret and the
 * shares): a multiple of SIT_SHAMIR_BLOCK, at least one, with the whole
 * batch near 1 MiB, so that it is still in the cache when the next stage
 * takes it (measured in sit-share: batches of 4 MiB took half as long
 * again as batches of 1 MiB). */
size_t sit_shamir_batch_len(unsigned buffers);

/* Wipe the key and coefficients and free them. */
void sit_shamir_split_free(sit_shamir_split *s);

typedef struct sit_shamir_join {
	unsigned k;
	sit_gf256_mulc lagrange[SIT_SHAMIR_MAX_N]; /* L_i(0) for each share */
} sit_shamir_join;

/* Prepare to rebuild from the K shares with x values XS[0..k-1] (distinct,
 * nonzero): EX_DATAERR otherwise. */
int sit_shamir_join_init(sit_shamir_join *j, const uint8_t *xs, unsigned k, sit_err *e);

/* OUT[0..len) = the secret from IN[i][0..len) of the k shares. */
void sit_shamir_join_block(const sit_shamir_join *j, const uint8_t *const *in,
	size_t len, uint8_t *out);

#endif
