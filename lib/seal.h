/* seal.h - the sit-aes sealed stream: authenticated AES-256-GCM in chunks.
 *
 * The byte layout is specified in sit(5); in short:
 *   header   magic "SITAES\r\n", version 1, flags 0, 16-byte nonce,
 *            stanza count, stanzas (the file key wrapped once per recipient),
 *            HMAC-SHA256 of all the header before it
 *   payload  64 KiB chunks, each sealed with AES-256-GCM under a payload key
 *            derived from the file key and the nonce; the 96-bit chunk nonce
 *            is an 88-bit big-endian counter and a last-chunk flag byte.
 * Nothing of the payload is released before the header MAC is checked, and
 * no chunk is released before its tag is.
 */
#ifndef SIT_SEAL_H
#define SIT_SEAL_H

#include <stddef.h>

#include "err.h"
#include "keys.h"
#include "out.h"
#include "progress.h"

#define SIT_SEAL_MAGIC        "SITAES\r\n"
#define SIT_SEAL_MAGIC_LEN    8
#define SIT_SEAL_VERSION      1
#define SIT_SEAL_NONCE        16
#define SIT_SEAL_CHUNK        65536
#define SIT_SEAL_TAG          16
#define SIT_SEAL_MAX_STANZAS  64
#define SIT_SEAL_MAX_BODY     512

#define SIT_STANZA_X25519     1
#define SIT_STANZA_KEYFILE    2
#define SIT_STANZA_ARGON2ID   3

/* Seal everything read from IN to OUT for every key, recipient and the
 * passphrase in KR (at least one).  P may be NULL. */
int sit_seal_encrypt(const sit_keyring *kr, int in, sit_out *out,
	sit_progress *p, sit_err *e);

/* Open a sealed stream from IN with any key in KR.  On failure part of the
 * payload may already be written to OUT; the caller discards it (sit_out_abort). */
int sit_seal_decrypt(const sit_keyring *kr, int in, sit_out *out,
	sit_progress *p, sit_err *e);

/* HKDF-SHA256 (RFC 5869) with 32 bytes of output. */
void sit_hkdf_sha256(unsigned char out[32], const unsigned char *ikm, size_t ikmlen,
	const unsigned char *salt, size_t saltlen, const char *info);

#endif
