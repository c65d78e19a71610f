/* keys.h - the keys sit-aes works with, kept in one sodium-guarded keyring.
 *
 * Text forms (one line each, fit to paste; '#' lines and blank lines are
 * ignored in files):
 *   sitkey1:BASE64URL   a 32-byte symmetric key (a key file)
 *   sitsec1:BASE64URL   an X25519 secret key (an identity)
 *   sitpub1:BASE64URL   an X25519 public key (a recipient)
 *   sitsigsec1:BASE64URL an Ed25519 signing key (its 32-byte seed)
 *   sitsig1:BASE64URL   an Ed25519 public key (a signer), in a trusted-signers
 *                       file followed by a name
 * BASE64URL is unpadded base64url of the 32 key bytes followed by 4 check
 * bytes, the first 4 bytes of SHA-256(prefix || key), prefix including the
 * colon, so that a mistyped or truncated key is caught when it is read.
 */
#ifndef SIT_KEYS_H
#define SIT_KEYS_H

#include <stddef.h>

#include "err.h"

#define SIT_KEY_BYTES 32
#define SIT_KEYS_MAX 64           /* of each kind in one keyring */
#define SIT_PASS_MAX 1024         /* bytes of passphrase */
#define SIT_KEY_TEXT_MAX 64       /* longest text form, with NUL */
/* The most --max-pass-ops and --max-pass-mem (MiB) can raise the Argon2id
 * limits of opening to. */
#define SIT_MAX_PASS_OPS_TOP 1000
#define SIT_MAX_PASS_MEM_TOP 4194303
#define SIT_SIGNERS_MAX 256       /* trusted signers in one keyring */
#define SIT_SIGNER_NAME_MAX 64    /* bytes of a signer's name, without NUL */
#define SIT_SIGN_SK_BYTES 64      /* libsodium's Ed25519 secret key: seed || public */

/* How sit_secret_file_read judges a regular file. */
enum {
	SIT_FILE_PUBLIC = 0,   /* anything readable */
	SIT_FILE_SECRET = 1,   /* ours, and no access for group or others */
	SIT_FILE_TRUSTED = 2,  /* ours, and not writable by group or others */
};

typedef struct sit_keyring {
	unsigned char keys[SIT_KEYS_MAX][SIT_KEY_BYTES];   /* key files */
	size_t nkeys;
	unsigned char ids[SIT_KEYS_MAX][SIT_KEY_BYTES];    /* X25519 secret keys */
	size_t nids;
	unsigned char rcpts[SIT_KEYS_MAX][SIT_KEY_BYTES];  /* X25519 public keys */
	size_t nrcpts;
	char pass[SIT_PASS_MAX];
	size_t passlen;                                    /* 0: no passphrase */
	/* Argon2id cost written on encrypt, and the most accepted on decrypt. */
	unsigned long long pass_ops, pass_mem;
	unsigned long long max_pass_ops, max_pass_mem;
	/* The signing key of -e --sign (sign_pk is its public half). */
	unsigned char sign_sk[SIT_SIGN_SK_BYTES];
	unsigned char sign_pk[SIT_KEY_BYTES];
	int can_sign;
	/* The signers -d accepts (--from, --from-file); none: any signer. */
	unsigned char signers[SIT_SIGNERS_MAX][SIT_KEY_BYTES];
	char signer_names[SIT_SIGNERS_MAX][SIT_KEY_TEXT_MAX + SIT_SIGNER_NAME_MAX];
	size_t nsigners;
} sit_keyring;

/* The keyring lives in sodium_malloc'ed memory (guard pages, locked, wiped
 * by sit_keyring_free).  NULL if that memory cannot be had. */
sit_keyring *sit_keyring_new(void);
void sit_keyring_free(sit_keyring *kr);

int sit_keyring_add_keyfile(sit_keyring *kr, const char *path, sit_err *e);
int sit_keyring_add_identities(sit_keyring *kr, const char *path, sit_err *e);
int sit_keyring_add_recipient(sit_keyring *kr, const char *text, sit_err *e);
int sit_keyring_add_recipients_file(sit_keyring *kr, const char *path, sit_err *e);
/* The one signing key of PATH (a sitsigsec1: line). */
int sit_keyring_set_signing_key(sit_keyring *kr, const char *path, sit_err *e);
/* A trusted signer: a sitsig1: key (--from), named by its text; or a file of
 * "sitsig1:... NAME" lines (--from-file), owned by us and writable by no
 * one else, since whoever can add a line there is trusted. */
int sit_keyring_add_signer(sit_keyring *kr, const char *text, sit_err *e);
int sit_keyring_add_signers_file(sit_keyring *kr, const char *path, sit_err *e);
/* The name of the trusted signer PK, or NULL if it is not one. */
const char *sit_keyring_signer_name(const sit_keyring *kr, const unsigned char pk[SIT_KEY_BYTES]);

/* The public form of each secret line of PATH, decided by its prefix
 * (sitsec1: gives sitpub1:, sitsigsec1: gives sitsig1:), through FN. */
int sit_key_public_lines(const char *path, void (*fn)(const char *line, void *ctx),
	void *ctx, sit_err *e);

/* Encode KEY under PREFIX ("sitkey1:", ...) into OUT (SIT_KEY_TEXT_MAX). */
void sit_key_encode(const char *prefix, const unsigned char key[SIT_KEY_BYTES],
	char out[SIT_KEY_TEXT_MAX]);
/* Decode one line; -1 with a message naming WHAT when malformed. */
int sit_key_decode(const char *prefix, const char *text, size_t len,
	unsigned char key[SIT_KEY_BYTES], const char *what, sit_err *e);

/* Read a small file into BUF (at most CAP bytes).  With SIT_FILE_SECRET, a
 * regular file owned by another user than ours (root included), or readable
 * or writable by group or others, is refused; with SIT_FILE_TRUSTED one owned
 * by another user or writable by group or others. */
int sit_secret_file_read(const char *path, int secret, char *buf, size_t cap,
	size_t *len, sit_err *e);

#endif
