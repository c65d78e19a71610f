#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "io.h"
#include "seal.h"

#define FILE_KEY   32
#define WRAPPED    (FILE_KEY + SIT_SEAL_TAG)
#define MAC_BYTES  crypto_auth_hmacsha256_BYTES
#define FIXED_HEAD (SIT_SEAL_MAGIC_LEN + 2 + SIT_SEAL_NONCE + 1)
#define HEAD_MAX   (FIXED_HEAD + SIT_SEAL_MAX_STANZAS * (3 + SIT_SEAL_MAX_BODY) + SIT_SEAL_SIGNER \
                    + MAC_BYTES)
#define SALT       16
#define BATCH      16          /* chunks per read and write: fewer system calls */
#define CT_CHUNK   (SIT_SEAL_CHUNK + SIT_SEAL_TAG)
#define HASH_BYTES 64          /* BLAKE2b-512 of the signed stream */
#define CTX_LEN    (sizeof SIT_SEAL_SIG_CONTEXT - 1)
#define SIGNED_MSG (CTX_LEN + HASH_BYTES)
#define HOLD_BLOCK (BATCH * SIT_SEAL_CHUNK)
#define HOLD_BLOCKS (SIT_SEAL_HOLD_MAX / HOLD_BLOCK)

#define BODY_X25519   (crypto_scalarmult_BYTES + WRAPPED)
#define BODY_KEYFILE  (SALT + WRAPPED)
#define BODY_ARGON2ID (SALT + 4 + 4 + WRAPPED)

static const unsigned char zero_nonce[crypto_aead_aes256gcm_NPUBBYTES];

/* Secrets of one operation, in one sodium_malloc'ed block. */
struct keys {
	unsigned char file_key[FILE_KEY];
	unsigned char wrap_key[32];
	unsigned char payload_key[32];
	unsigned char header_key[32];
	unsigned char shared[crypto_scalarmult_BYTES];
	unsigned char esk[crypto_scalarmult_SCALARBYTES];
	crypto_aead_aes256gcm_state gcm;
};

void
sit_hkdf_sha256(unsigned char out[32], const unsigned char *ikm, size_t ikmlen,
	const unsigned char *salt, size_t saltlen, const char *info)
{
	static const unsigned char zeros[32];
	unsigned char prk[32], one = 1;
	crypto_auth_hmacsha256_state st;

	if (saltlen == 0) {
		salt = zeros;
		saltlen = sizeof zeros;
	}
	crypto_auth_hmacsha256_init(&st, salt, saltlen);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)info, strlen(info));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(&st, sizeof st);
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* The message an Ed25519 signature is made over (sit(5)): a context string,
 * so that a signature made here means nothing elsewhere, and the BLAKE2b-512
 * hash of every byte of the stream before the signature.  Hashing first
 * lets both ends stream; the hash is collision resistant, so signing it is
 * as good as signing the stream. */
static void
signed_message(unsigned char m[SIGNED_MSG], crypto_generichash_state *hs)
{
	memcpy(m, SIT_SEAL_SIG_CONTEXT, CTX_LEN);
	crypto_generichash_final(hs, m + CTX_LEN, HASH_BYTES);
}

/* The chunk nonce: 88-bit big-endian counter, then 1 on the last chunk. */
static void
chunk_nonce(unsigned char n[12], uint64_t counter, int last)
{
	memset(n, 0, 12);
	for (int i = 0; i < 8; i++)
		n[10 - i] = (unsigned char)(counter >> (8 * i));
	n[11] = last ? 1 : 0;
}

/* The file key sealed under a one-time wrap key; the stanza's own bytes
 * before the wrapped key are the associated data, binding salt and cost. */
static void
wrap(unsigned char *wrapped, const struct keys *k, const unsigned char *ad, size_t adlen)
{
	unsigned long long clen;

	crypto_aead_aes256gcm_encrypt(wrapped, &clen, k->file_key, FILE_KEY, ad, adlen,
		NULL, zero_nonce, k->wrap_key);
}

static int
unwrap(struct keys *k, const unsigned char *wrapped, const unsigned char *ad, size_t adlen)
{
	unsigned long long mlen;

	return crypto_aead_aes256gcm_decrypt(k->file_key, &mlen, NULL, wrapped, WRAPPED,
		ad, adlen, zero_nonce, k->wrap_key);
}

/* X25519 wrap key: HKDF over the shared secret, salted with both public keys.
 * SK with PEER gives the shared secret; -1 on a low-order point. */
static int
x25519_wrap_key(struct keys *k, const unsigned char *sk, const unsigned char *peer,
	const unsigned char *epk, const unsigned char *rpk)
{
	unsigned char salt[2 * crypto_scalarmult_BYTES];

	if (crypto_scalarmult(k->shared, sk, peer) != 0)
		return -1;
	memcpy(salt, epk, crypto_scalarmult_BYTES);
	memcpy(salt + crypto_scalarmult_BYTES, rpk, crypto_scalarmult_BYTES);
	sit_hkdf_sha256(k->wrap_key, k->shared, sizeof k->shared, salt, sizeof salt,
		"sit-aes/v1 x25519");
	return 0;
}

static void
keyfile_wrap_key(struct keys *k, const unsigned char *key, const unsigned char *salt)
{
	sit_hkdf_sha256(k->wrap_key, key, SIT_KEY_BYTES, salt, SALT, "sit-aes/v1 keyfile");
}

static int
argon2id_wrap_key(struct keys *k, const sit_keyring *kr, const unsigned char *salt,
	uint32_t ops, uint32_t mem_kib)
{
	return crypto_pwhash(k->wrap_key, sizeof k->wrap_key, kr->pass, kr->passlen, salt,
		ops, (size_t)mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13);
}

/* ---- encryption ---- */

/* Append one stanza header (type, body length) to H at *N. */
static unsigned char *
stanza_start(unsigned char *h, size_t *n, int type, size_t len)
{
	unsigned char *s = h + *n;

	s[0] = (unsigned char)type;
	s[1] = (unsigned char)len;
	s[2] = (unsigned char)(len >> 8);
	*n += 3 + len;
	return s;
}

static int
build_header(const sit_keyring *kr, struct keys *k, unsigned char *h, size_t *hlen,
	sit_seal_msg *msg, sit_err *e)
{
	size_t n = 0, count = 0;

	memcpy(h, SIT_SEAL_MAGIC, SIT_SEAL_MAGIC_LEN);
	n = SIT_SEAL_MAGIC_LEN;
	/* Unsigned streams stay version 1, which every reader opens. */
	h[n++] = kr->can_sign ? SIT_SEAL_VERSION_SIGNED : SIT_SEAL_VERSION;
	h[n++] = 0;                                   /* flags, reserved */
	randombytes_buf(h + n, SIT_SEAL_NONCE);
	n += SIT_SEAL_NONCE;
	n++;                                          /* stanza count, below */

	/* A key file or passphrase seals alone (check_stanza says why); the
	 * command line refuses the mix first, this keeps any other caller
	 * from writing a stream every reader refuses. */
	if ((kr->passlen > 0 || kr->nkeys > 0)
	    && (kr->passlen > 0) + kr->nkeys + kr->nrcpts > 1)
		return sit_err_set(e, EX_USAGE, "a key file or passphrase must be the only key "
			"of a stream");
	if (kr->passlen > 0) {
		unsigned char *s = stanza_start(h, &n, SIT_STANZA_ARGON2ID, BODY_ARGON2ID);
		uint32_t mem_kib = (uint32_t)(kr->pass_mem / 1024);
		randombytes_buf(s + 3, SALT);
		put_le32(s + 3 + SALT, (uint32_t)kr->pass_ops);
		put_le32(s + 3 + SALT + 4, mem_kib);
		if (argon2id_wrap_key(k, kr, s + 3, (uint32_t)kr->pass_ops, mem_kib) != 0)
			return sit_err_set(e, EX_OSERR,
				"cannot stretch the passphrase (out of memory for Argon2id?)");
		wrap(s + 3 + SALT + 8, k, s, 3 + SALT + 8);
		count++;
	}
	for (size_t i = 0; i < kr->nkeys; i++) {
		unsigned char *s = stanza_start(h, &n, SIT_STANZA_KEYFILE, BODY_KEYFILE);
		randombytes_buf(s + 3, SALT);
		keyfile_wrap_key(k, kr->keys[i], s + 3);
		wrap(s + 3 + SALT, k, s, 3 + SALT);
		count++;
	}
	for (size_t i = 0; i < kr->nrcpts; i++) {
		unsigned char *s = stanza_start(h, &n, SIT_STANZA_X25519, BODY_X25519);
		unsigned char *epk = s + 3;
		randombytes_buf(k->esk, sizeof k->esk);
		crypto_scalarmult_base(epk, k->esk);
		if (x25519_wrap_key(k, k->esk, kr->rcpts[i], epk, kr->rcpts[i]) != 0)
			return sit_err_set(e, EX_DATAERR, "recipient %zu is not a usable public key", i + 1);
		wrap(s + 3 + crypto_scalarmult_BYTES, k, s, 3 + crypto_scalarmult_BYTES);
		count++;
	}
	if (count == 0 || count > SIT_SEAL_MAX_STANZAS)
		return sit_err_set(e, EX_USAGE, "between 1 and %d keys, recipients or passphrases are needed",
			SIT_SEAL_MAX_STANZAS);
	h[FIXED_HEAD - 1] = (unsigned char)count;
	if (kr->can_sign) {
		struct timespec ts;
		if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
			return sit_err_sys(e, EX_OSERR, "cannot read the clock");
		memcpy(h + n, kr->sign_pk, 32);
		randombytes_buf(h + n + 32, SIT_SEAL_MSGID);
		put_le64(h + n + 32 + SIT_SEAL_MSGID, (uint64_t)ts.tv_sec);
		if (msg != NULL) {
			msg->is_signed = 1;
			memcpy(msg->signer, kr->sign_pk, 32);
			memcpy(msg->id, h + n + 32, SIT_SEAL_MSGID);
			msg->created = (uint64_t)ts.tv_sec;
			msg->name = NULL;
		}
		n += SIT_SEAL_SIGNER;
	}

	sit_hkdf_sha256(k->header_key, k->file_key, FILE_KEY, NULL, 0, "sit-aes/v1 header");
	crypto_auth_hmacsha256(h + n, h, n, k->header_key);
	*hlen = n + MAC_BYTES;
	return 0;
}

static void
derive_payload(struct keys *k, const unsigned char nonce[SIT_SEAL_NONCE])
{
	sit_hkdf_sha256(k->payload_key, k->file_key, FILE_KEY, nonce, SIT_SEAL_NONCE,
		"sit-aes/v1 payload");
	crypto_aead_aes256gcm_beforenm(&k->gcm, k->payload_key);
}

struct bufs {
	unsigned char *plain;   /* BATCH chunks of plaintext + 1 byte of look-ahead */
	unsigned char *cipher;  /* BATCH sealed chunks + 1 byte of look-ahead */
};

/* Everything one operation needs: its keys, and its buffers.  Secrets (the
 * keys and the plaintext) are in sodium_malloc'ed memory: guarded, locked,
 * and wiped on free.  The ciphertext needs none of that. */
static int
work_new(struct keys **k, struct bufs *b, sit_err *e)
{
	*k = sodium_malloc(sizeof **k);
	b->plain = sodium_malloc(BATCH * SIT_SEAL_CHUNK + 1);
	b->cipher = malloc(BATCH * CT_CHUNK + SIT_SEAL_SIG + 1);
	if (*k == NULL || b->plain == NULL || b->cipher == NULL) {
		sodium_free(*k);
		sodium_free(b->plain);
		free(b->cipher);
		return sit_err_set(e, EX_OSERR, "out of memory");
	}
	return 0;
}

static void
work_free(struct keys *k, struct bufs *b)
{
	sodium_free(k);
	sodium_free(b->plain);
	free(b->cipher);
}

/* Fill BUF with up to WANT bytes: a batch of chunks and CARRY bytes of
 * look-ahead, which tell whether the input ends in this batch (*LAST) and
 * which, when it does not, are carried to the front for the next batch
 * (*HAVE).  *N is the byte count, look-ahead included.  The look-ahead is
 * one byte, and for a signed stream being opened also the signature's 64,
 * which are not payload: the last chunk ends 64 bytes before the input. */
static int
read_batch(int in, unsigned char *buf, size_t want, size_t carry, size_t *have,
	size_t *n, int *last, sit_err *e)
{
	ssize_t got;

	if (*have > 0)
		memmove(buf, buf + want - *have, *have);
	got = sit_io_read(in, buf + *have, want - *have);
	if (got < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read input");
	*n = *have + (size_t)got;
	*last = *n < want;
	*have = *last ? 0 : carry;
	return 0;
}

/* HS, when not NULL, hashes every sealed byte for the signature. */
static int
encrypt_payload(struct keys *k, struct bufs *b, int in, sit_out *out, sit_progress *p,
	crypto_generichash_state *hs, sit_err *e)
{
	const size_t want = BATCH * SIT_SEAL_CHUNK + 1;
	uint64_t counter = 0, done = 0;
	size_t have = 0;

	for (;;) {
		size_t n = 0, nchunks, outlen = 0;
		int last = 1;

		if (read_batch(in, b->plain, want, 1, &have, &n, &last, e) != 0)
			return -1;
		nchunks = last ? (n + SIT_SEAL_CHUNK - 1) / SIT_SEAL_CHUNK : BATCH;
		if (last && nchunks == 0)
			nchunks = 1;                  /* empty input: one empty last chunk */
		for (size_t i = 0; i < nchunks; i++) {
			size_t off = i * SIT_SEAL_CHUNK;
			size_t len = (last && i == nchunks - 1) ? n - off : SIT_SEAL_CHUNK;
			unsigned char nonce[12];
			unsigned long long maclen;

			chunk_nonce(nonce, counter++, last && i == nchunks - 1);
			crypto_aead_aes256gcm_encrypt_detached_afternm(b->cipher + outlen,
				b->cipher + outlen + len, &maclen, b->plain + off, len,
				NULL, 0, NULL, nonce, &k->gcm);
			outlen += len + SIT_SEAL_TAG;
		}
		if (hs != NULL)
			crypto_generichash_update(hs, b->cipher, outlen);
		if (sit_out_write(out, b->cipher, outlen, e) != 0)
			return -1;
		done += n - (last ? 0 : 1);
		if (p != NULL)
			sit_progress_update(p, done);
		if (last)
			return 0;
	}
}

int
sit_seal_encrypt(const sit_keyring *kr, int in, sit_out *out, sit_progress *p,
	sit_seal_msg *msg, sit_err *e)
{
	unsigned char h[HEAD_MAX];
	size_t hlen = 0;
	struct keys *k;
	struct bufs b;
	crypto_generichash_state hs;
	int rc = -1;

	if (msg != NULL)
		memset(msg, 0, sizeof *msg);
	if (work_new(&k, &b, e) != 0)
		return -1;
	randombytes_buf(k->file_key, FILE_KEY);
	crypto_generichash_init(&hs, NULL, 0, HASH_BYTES);
	if (build_header(kr, k, h, &hlen, msg, e) == 0
	    && sit_out_write(out, h, hlen, e) == 0) {
		derive_payload(k, h + SIT_SEAL_MAGIC_LEN + 2);
		crypto_generichash_update(&hs, h, hlen);
		rc = encrypt_payload(k, &b, in, out, p, kr->can_sign ? &hs : NULL, e);
	}
	if (rc == 0 && kr->can_sign) {
		unsigned char m[SIGNED_MSG], sig[SIT_SEAL_SIG];
		signed_message(m, &hs);
		crypto_sign_detached(sig, NULL, m, sizeof m, kr->sign_sk);
		rc = sit_out_write(out, sig, sizeof sig, e);
	}
	work_free(k, &b);
	return rc;
}

/* ---- decryption ---- */

static int
read_exact(int in, unsigned char *buf, size_t len, sit_err *e)
{
	ssize_t got = sit_io_read(in, buf, len);

	if (got < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read input");
	if ((size_t)got < len)
		return sit_err_set(e, EX_DATAERR, "truncated input");
	return 0;
}

/* The shape of one stanza of a header of COUNT: a known type has its fixed
 * body length, a passphrase stanza a sane cost.  A key-file or passphrase
 * stanza must be the only stanza (sit(5)): every recipient of a stream
 * learns its file key, so with a second stanza beside it any other
 * recipient (an X25519 identity, another key file) could forge a stream
 * that the key-file or passphrase holder accepts as coming from one who
 * knows that secret.  As in age, where an scrypt stanza stands alone.  This
 * also leaves at most one Argon2id run per stream.  Unknown types are left
 * alone. */
static int
check_stanza(const unsigned char *s, size_t count, sit_err *e)
{
	size_t len = (size_t)s[1] | (size_t)s[2] << 8;

	switch (s[0]) {
	case SIT_STANZA_X25519:
		if (len != BODY_X25519)
			return sit_err_set(e, EX_DATAERR, "malformed header: bad X25519 stanza");
		return 0;
	case SIT_STANZA_KEYFILE:
		if (len != BODY_KEYFILE)
			return sit_err_set(e, EX_DATAERR, "malformed header: bad key-file stanza");
		if (count > 1)
			return sit_err_set(e, EX_DATAERR, "malformed header: a key-file stanza "
				"must be the only stanza (this header has %zu)", count);
		return 0;
	case SIT_STANZA_ARGON2ID:
		if (len != BODY_ARGON2ID)
			return sit_err_set(e, EX_DATAERR, "malformed header: bad passphrase stanza");
		if (count > 1)
			return sit_err_set(e, EX_DATAERR, "malformed header: a passphrase stanza "
				"must be the only stanza (this header has %zu)", count);
		if (get_le32(s + 3 + SALT) < crypto_pwhash_argon2id_OPSLIMIT_MIN
		    || get_le32(s + 3 + SALT + 4) < 8)
			return sit_err_set(e, EX_DATAERR, "malformed header: passphrase cost too low");
		return 0;
	default:
		return 0;
	}
}

/* Read the fixed part of the header and every stanza into H. */
static int
read_header(int in, unsigned char *h, size_t *hlen, size_t *count, sit_err *e)
{
	size_t n = 0;
	ssize_t got;

	got = sit_io_read(in, h, SIT_SEAL_MAGIC_LEN);
	if (got < 0)
		return sit_err_sys(e, EX_IOERR, "cannot read input");
	if (memcmp(h, SIT_SEAL_MAGIC, (size_t)got) != 0 || got == 0)
		return sit_err_set(e, EX_DATAERR, "not a sit-aes stream");
	if ((size_t)got < SIT_SEAL_MAGIC_LEN)
		return sit_err_set(e, EX_DATAERR, "truncated input");
	/* The version first: a later version may lay out the rest differently. */
	if (read_exact(in, h + SIT_SEAL_MAGIC_LEN, 1, e) != 0)
		return -1;
	if (h[SIT_SEAL_MAGIC_LEN] != SIT_SEAL_VERSION && h[SIT_SEAL_MAGIC_LEN] != SIT_SEAL_VERSION_SIGNED)
		return sit_err_set(e, EX_DATAERR, "unsupported version %d (this sit-aes reads versions %d and %d)",
			h[SIT_SEAL_MAGIC_LEN], SIT_SEAL_VERSION, SIT_SEAL_VERSION_SIGNED);
	if (read_exact(in, h + SIT_SEAL_MAGIC_LEN + 1, FIXED_HEAD - SIT_SEAL_MAGIC_LEN - 1, e) != 0)
		return -1;
	if (h[SIT_SEAL_MAGIC_LEN + 1] != 0)
		return sit_err_set(e, EX_DATAERR, "unsupported header flags 0x%02x",
			h[SIT_SEAL_MAGIC_LEN + 1]);
	*count = h[FIXED_HEAD - 1];
	if (*count == 0 || *count > SIT_SEAL_MAX_STANZAS)
		return sit_err_set(e, EX_DATAERR, "malformed header: %zu stanzas (1 to %d allowed)",
			*count, SIT_SEAL_MAX_STANZAS);
	n = FIXED_HEAD;
	for (size_t i = 0; i < *count; i++) {
		size_t len;
		if (read_exact(in, h + n, 3, e) != 0)
			return -1;
		len = (size_t)h[n + 1] | (size_t)h[n + 2] << 8;
		if (len > SIT_SEAL_MAX_BODY)
			return sit_err_set(e, EX_DATAERR, "malformed header: stanza of %zu bytes (at most %d)",
				len, SIT_SEAL_MAX_BODY);
		if (read_exact(in, h + n + 3, len, e) != 0)
			return -1;
		/* Whether a header is well formed must not depend on the keys
		 * the reader holds: every stanza is checked, tried or not. */
		if (check_stanza(h + n, *count, e) != 0)
			return -1;
		n += 3 + len;
	}
	if (h[SIT_SEAL_MAGIC_LEN] == SIT_SEAL_VERSION_SIGNED) {
		if (read_exact(in, h + n, SIT_SEAL_SIGNER, e) != 0)
			return -1;
		/* Not a key that any signature verifies under (of small order,
		 * outside the prime-order group, or not a point at all): the
		 * header is malformed whoever reads it. */
		if (crypto_core_ed25519_is_valid_point(h + n) != 1)
			return sit_err_set(e, EX_DATAERR, "malformed header: the signer's key is "
				"not an Ed25519 public key");
		n += SIT_SEAL_SIGNER;
	}
	if (read_exact(in, h + n, MAC_BYTES, e) != 0)
		return -1;
	*hlen = n;
	return 0;
}

/* The refusal of a passphrase cost above the limits of KR, naming the
 * option that would accept it, or saying that none would. */
static int
cost_refused(const sit_keyring *kr, uint32_t ops, uint32_t mem_kib, sit_err *e)
{
	unsigned long long mib = ((unsigned long long)mem_kib + 1023) / 1024;
	int over_ops = ops > kr->max_pass_ops;
	int over_mem = (uint64_t)mem_kib * 1024 > kr->max_pass_mem;
	char advice[96];

	if ((over_ops && ops > SIT_MAX_PASS_OPS_TOP) || (over_mem && mib > SIT_MAX_PASS_MEM_TOP))
		snprintf(advice, sizeof advice, "more than --max-pass-ops and --max-pass-mem "
			"can allow (%d passes, %d MiB)", SIT_MAX_PASS_OPS_TOP, SIT_MAX_PASS_MEM_TOP);
	else if (over_ops && over_mem)
		snprintf(advice, sizeof advice, "to accept it, give --max-pass-ops %u "
			"--max-pass-mem %llu", ops, mib);
	else if (over_ops)
		snprintf(advice, sizeof advice, "to accept it, give --max-pass-ops %u", ops);
	else
		snprintf(advice, sizeof advice, "to accept it, give --max-pass-mem %llu", mib);
	return sit_err_set(e, EX_DATAERR, "passphrase cost in the header (%u passes, %u KiB) "
		"is above the limit (%llu passes, %llu KiB); %s",
		ops, mem_kib, kr->max_pass_ops, kr->max_pass_mem >> 10, advice);
}

/* Try the keys in KR on one stanza S, already checked by check_stanza(); 0
 * when one of them unwraps the file key, 1 when none does, -1 on a refused
 * cost or a failure. */
static int
try_stanza(const sit_keyring *kr, struct keys *k, const unsigned char *s, sit_err *e)
{
	const unsigned char *body = s + 3;

	switch (s[0]) {
	case SIT_STANZA_X25519:
		for (size_t i = 0; i < kr->nids; i++) {
			unsigned char pk[crypto_scalarmult_BYTES];
			crypto_scalarmult_base(pk, kr->ids[i]);
			if (x25519_wrap_key(k, kr->ids[i], body, body, pk) == 0
			    && unwrap(k, body + crypto_scalarmult_BYTES, s, 3 + crypto_scalarmult_BYTES) == 0)
				return 0;
		}
		return 1;
	case SIT_STANZA_KEYFILE:
		for (size_t i = 0; i < kr->nkeys; i++) {
			keyfile_wrap_key(k, kr->keys[i], body);
			if (unwrap(k, body + SALT, s, 3 + SALT) == 0)
				return 0;
		}
		return 1;
	case SIT_STANZA_ARGON2ID: {
		uint32_t ops, mem_kib;
		if (kr->passlen == 0)
			return 1;
		ops = get_le32(body + SALT);
		mem_kib = get_le32(body + SALT + 4);
		/* A hostile header must not make us spend gigabytes or hours. */
		if (ops > kr->max_pass_ops || (uint64_t)mem_kib * 1024 > kr->max_pass_mem)
			return cost_refused(kr, ops, mem_kib, e);
		if (argon2id_wrap_key(k, kr, body, ops, mem_kib) != 0)
			return sit_err_set(e, EX_OSERR, "cannot stretch the passphrase (out of memory?)");
		return unwrap(k, body + SALT + 8, s, 3 + SALT + 8) == 0 ? 0 : 1;
	}
	default:
		return 1;  /* a stanza type from a later version: not for us */
	}
}

static int
open_header(const sit_keyring *kr, struct keys *k, const unsigned char *h, size_t hlen,
	size_t count, sit_err *e)
{
	unsigned char mac[MAC_BYTES];
	size_t n = FIXED_HEAD;
	int found = 1;

	for (size_t i = 0; i < count; i++) {
		size_t len = (size_t)h[n + 1] | (size_t)h[n + 2] << 8;
		if (found == 1) {
			found = try_stanza(kr, k, h + n, e);
			if (found < 0)
				return -1;
		}
		n += 3 + len;
	}
	if (found != 0)
		return sit_err_set(e, EX_DATAERR, "wrong passphrase or key (or not encrypted to it)");
	sit_hkdf_sha256(k->header_key, k->file_key, FILE_KEY, NULL, 0, "sit-aes/v1 header");
	crypto_auth_hmacsha256(mac, h, hlen, k->header_key);
	if (sodium_memcmp(mac, h + hlen, MAC_BYTES) != 0)
		return sit_err_set(e, EX_DATAERR, "data corrupted or tampered in the header");
	return 0;
}

static int
open_chunk(struct keys *k, unsigned char *plain, const unsigned char *c, size_t clen,
	uint64_t counter, int last)
{
	unsigned char nonce[12];

	chunk_nonce(nonce, counter, last);
	return crypto_aead_aes256gcm_decrypt_detached_afternm(plain, NULL, c, clen - SIT_SEAL_TAG,
		c + clen - SIT_SEAL_TAG, NULL, 0, nonce, &k->gcm);
}

/* Where opened plaintext goes: OUT, or for a signed stream to a descriptor
 * (nothing to commit later) HOLD, until its signature verifies. */
struct sink {
	sit_out *out;
	int holding;
	unsigned char *block[HOLD_BLOCKS];   /* sodium_malloc'ed as needed */
	size_t held;
};

static int
sink_write(struct sink *s, const unsigned char *buf, size_t len, sit_err *e)
{
	if (!s->holding)
		return sit_out_write(s->out, buf, len, e);
	while (len > 0) {
		size_t i = s->held / HOLD_BLOCK, at = s->held % HOLD_BLOCK, n = HOLD_BLOCK - at;
		if (i == HOLD_BLOCKS)
			return sit_err_set(e, EX_DATAERR, "signed stream of more than %u MiB for %s: "
				"it is held until its signature verifies; open it with -o FILE",
				SIT_SEAL_HOLD_MAX >> 20, sit_out_name(s->out));
		if (s->block[i] == NULL && (s->block[i] = sodium_malloc(HOLD_BLOCK)) == NULL)
			return sit_err_set(e, EX_OSERR, "out of memory holding a signed stream");
		if (n > len)
			n = len;
		memcpy(s->block[i] + at, buf, n);
		s->held += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int
sink_release(struct sink *s, sit_err *e)
{
	for (size_t i = 0; s->holding && i * HOLD_BLOCK < s->held; i++) {
		size_t n = s->held - i * HOLD_BLOCK;
		if (sit_out_write(s->out, s->block[i], n < HOLD_BLOCK ? n : HOLD_BLOCK, e) != 0)
			return -1;
	}
	return 0;
}

static void
sink_free(struct sink *s)
{
	for (size_t i = 0; i < HOLD_BLOCKS; i++)
		sodium_free(s->block[i]);  /* wipes */
}

/* HS, when not NULL, is a signed stream's hash: it takes every sealed
 * byte, and the 64 bytes after the last chunk are the signature, SIG. */
static int
decrypt_payload(struct keys *k, struct bufs *b, int in, struct sink *sink, uint64_t offset,
	sit_progress *p, crypto_generichash_state *hs, unsigned char *sig, sit_err *e)
{
	const size_t tail = hs != NULL ? SIT_SEAL_SIG : 0;
	const size_t want = BATCH * CT_CHUNK + tail + 1;
	uint64_t counter = 0, done = 0;
	size_t have = 0;

	for (;;) {
		size_t n = 0, body, nchunks, outlen = 0;
		int last = 1;

		if (read_batch(in, b->cipher, want, tail + 1, &have, &n, &last, e) != 0)
			return -1;
		/* Not even an empty last chunk and the signature. */
		if (last && n < tail + SIT_SEAL_TAG)
			return sit_err_set(e, EX_DATAERR, "truncated input");
		body = last ? n - tail : BATCH * CT_CHUNK;
		if (hs != NULL) {
			crypto_generichash_update(hs, b->cipher, body);
			if (last)
				memcpy(sig, b->cipher + body, SIT_SEAL_SIG);
		}
		nchunks = last ? (body + CT_CHUNK - 1) / CT_CHUNK : BATCH;
		for (size_t i = 0; i < nchunks; i++) {
			size_t off = i * CT_CHUNK;
			int is_last = last && i == nchunks - 1;
			size_t clen = is_last ? body - off : CT_CHUNK;
			uint64_t at = offset + off;

			/* Only the very first chunk may be empty (an empty input). */
			if (clen < SIT_SEAL_TAG || (clen == SIT_SEAL_TAG && counter > 0))
				return sit_err_set(e, EX_DATAERR, "truncated input");
			if (open_chunk(k, b->plain + outlen, b->cipher + off, clen, counter, is_last) != 0) {
				/* A full chunk that opens as a middle chunk at the end of
				 * input: the rest of the stream was cut off. */
				if (is_last && clen == CT_CHUNK
				    && open_chunk(k, b->plain + outlen, b->cipher + off, clen, counter, 0) == 0)
					return sit_err_set(e, EX_DATAERR, "truncated input");
				return sit_err_set(e, EX_DATAERR,
					"data corrupted or tampered at byte %llu", (unsigned long long)at);
			}
			counter++;
			outlen += clen - SIT_SEAL_TAG;
		}
		if (sink_write(sink, b->plain, outlen, e) != 0)
			return -1;
		offset += body;
		done += outlen;
		if (p != NULL)
			sit_progress_update(p, done);
		if (last)
			return 0;
	}
}

/* What a signed header claims, and whether this reader takes it: a signer
 * it trusts (when it trusts any), and whatever POLICY checks.  All before any
 * key is tried: refusing is cheap, and these claims, not yet verified,
 * never let anything through by themselves. */
static int
check_claims(const sit_keyring *kr, const sit_seal_policy *policy, const unsigned char *h,
	size_t hlen, sit_seal_msg *m, sit_err *e)
{
	const unsigned char *sb = h + hlen - SIT_SEAL_SIGNER;
	char text[SIT_KEY_TEXT_MAX];

	m->is_signed = h[SIT_SEAL_MAGIC_LEN] == SIT_SEAL_VERSION_SIGNED;
	if (!m->is_signed) {
		if (kr->nsigners > 0 || (policy != NULL && policy->need_signed))
			return sit_err_set(e, EX_DATAERR, "not signed, and only signed streams are "
				"accepted here (--from, --from-file, --replay-ledger)");
		return 0;
	}
	memcpy(m->signer, sb, 32);
	memcpy(m->id, sb + 32, SIT_SEAL_MSGID);
	m->created = get_le64(sb + 32 + SIT_SEAL_MSGID);
	m->name = sit_keyring_signer_name(kr, m->signer);
	if (kr->nsigners > 0 && m->name == NULL) {
		sit_key_encode("sitsig1:", m->signer, text);
		return sit_err_set(e, EX_DATAERR, "signed by %s, not a trusted signer "
			"(--from, --from-file)", text);
	}
	if (policy != NULL && policy->check != NULL && policy->check(policy->ctx, m, 0, e) != 0)
		return -1;
	return 0;
}

int
sit_seal_decrypt(const sit_keyring *kr, int in, sit_out *out, sit_progress *p,
	const sit_seal_policy *policy, sit_seal_msg *msg, sit_err *e)
{
	unsigned char h[HEAD_MAX], sig[SIT_SEAL_SIG], m[SIGNED_MSG];
	size_t hlen = 0, count = 0;
	struct keys *k;
	struct bufs b;
	struct sink sink;
	sit_seal_msg claims;
	crypto_generichash_state hs;
	int rc = -1;

	memset(&claims, 0, sizeof claims);
	memset(&sink, 0, sizeof sink);
	sink.out = out;
	if (work_new(&k, &b, e) != 0)
		return -1;
	if (read_header(in, h, &hlen, &count, e) != 0
	    || check_claims(kr, policy, h, hlen, &claims, e) != 0
	    || open_header(kr, k, h, hlen, count, e) != 0)
		goto done;
	derive_payload(k, h + SIT_SEAL_MAGIC_LEN + 2);
	if (!claims.is_signed) {
		rc = decrypt_payload(k, &b, in, &sink, hlen + MAC_BYTES, p, NULL, NULL, e);
		goto done;
	}
	/* An output file is committed only after we return; what goes to a
	 * descriptor cannot be taken back, so it waits for the signature. */
	sink.holding = !sit_out_named(out);
	crypto_generichash_init(&hs, NULL, 0, HASH_BYTES);
	crypto_generichash_update(&hs, h, hlen + MAC_BYTES);
	if (decrypt_payload(k, &b, in, &sink, hlen + MAC_BYTES, p, &hs, sig, e) != 0)
		goto done;
	signed_message(m, &hs);
	if (crypto_sign_verify_detached(sig, m, sizeof m, claims.signer) != 0) {
		sit_err_set(e, EX_DATAERR, "bad signature: the stream was changed after it was "
			"signed (a recipient can do that), or the signature is not its signer's");
		goto done;
	}
	if (policy != NULL && policy->check != NULL && policy->check(policy->ctx, &claims, 1, e) != 0)
		goto done;
	rc = sink_release(&sink, e);
done:
	if (msg != NULL)
		*msg = claims;
	sink_free(&sink);
	work_free(k, &b);
	return rc;
}
