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
 *
 * A signed stream (version 2) also carries, after the stanzas and under the
 * header MAC, the signer's Ed25519 public key, a random 128-bit message ID
 * and the creation time; and after the last chunk an Ed25519 signature over
 * a BLAKE2b-512 hash of every byte before it, so that a recipient, who knows
 * the file key, cannot change a byte without breaking it.
 */
#ifndef SIT_SEAL_H
#define SIT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"
#include "out.h"
#include "progress.h"

#define SIT_SEAL_MAGIC        "SITAES\r\n"
#define SIT_SEAL_MAGIC_LEN    8
#define SIT_SEAL_VERSION      1
#define SIT_SEAL_VERSION_SIGNED 2
#define SIT_SEAL_MSGID        16
#define SIT_SEAL_SIGNER       (32 + SIT_SEAL_MSGID + 8)  /* key, message ID, time */
#define SIT_SEAL_SIG          64
/* A signed stream for a descriptor (standard output, a fifo) is held in
 * memory until its signature verifies; this much at most. */
#define SIT_SEAL_HOLD_MAX     (64u << 20)
#define SIT_SEAL_SIG_CONTEXT  "sit-aes/v2 signature"
#define SIT_SEAL_NONCE        16
#define SIT_SEAL_CHUNK        65536
#define SIT_SEAL_TAG          16
#define SIT_SEAL_MAX_STANZAS  64
#define SIT_SEAL_MAX_BODY     512

#define SIT_STANZA_X25519     1
#define SIT_STANZA_KEYFILE    2
#define SIT_STANZA_ARGON2ID   3

/* What the header of a signed stream claims. */
typedef struct sit_seal_msg {
	int is_signed;                       /* 0: a version 1 stream, nothing below */
	unsigned char signer[32];            /* Ed25519 public key */
	unsigned char id[SIT_SEAL_MSGID];    /* random message ID */
	uint64_t created;                    /* seconds since 1970 (UTC), the sender's clock */
	const char *name;                    /* the trusted signer's name, or NULL */
} sit_seal_msg;

/* What opening requires besides a key. */
typedef struct sit_seal_policy {
	int need_signed;     /* refuse an unsigned stream (also when KR has signers) */
	/* If set, called for a signed stream twice: with FINAL 0 on the
	 * header's claims before any key is tried (to refuse early), and with
	 * FINAL 1 once the signature has verified and before any plaintext of
	 * a held stream is released or the call returns (to record the
	 * message).  Returns 0 to go on, or -1 with E to refuse. */
	int (*check)(void *ctx, const sit_seal_msg *m, int final, sit_err *e);
	void *ctx;
} sit_seal_policy;

/* Seal everything read from IN to OUT for every key, recipient and the
 * passphrase in KR (at least one); signed when KR has a signing key (then
 * MSG, if not NULL, gets what the header says).  P and MSG may be NULL. */
int sit_seal_encrypt(const sit_keyring *kr, int in, sit_out *out,
	sit_progress *p, sit_seal_msg *msg, sit_err *e);

/* Open a sealed stream from IN with any key in KR.  A signed stream's
 * signature is always checked; when KR holds trusted signers only a stream
 * signed by one of them opens.  On failure part of the payload may already
 * be written to OUT (an unsigned stream; never a signed one to a descriptor,
 * which is held until verified); the caller discards it (sit_out_abort).
 * POLICY, P and MSG may be NULL; MSG gets what the header said. */
int sit_seal_decrypt(const sit_keyring *kr, int in, sit_out *out,
	sit_progress *p, const sit_seal_policy *policy, sit_seal_msg *msg, sit_err *e);

/* HKDF-SHA256 (RFC 5869) with 32 bytes of output. */
void sit_hkdf_sha256(unsigned char out[32], const unsigned char *ikm, size_t ikmlen,
	const unsigned char *salt, size_t saltlen, const char *info);

#endif
