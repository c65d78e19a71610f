/* keys.h - the keys sit-aes works with, kept in one sodium-guarded keyring.
 *
 * Text forms (one line each, fit to paste; '#' lines and blank lines are
 * ignored in files):
 *   sitkey1:BASE64URL   a 32-byte symmetric key (a key file)
 *   sitsec1:BASE64URL   an X25519 secret key (an identity)
 *   sitpub1:BASE64URL   an X25519 public key (a recipient)
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
} sit_keyring;

/* The keyring lives in sodium_malloc'ed memory (guard pages, locked, wiped
 * by sit_keyring_free).  NULL if that memory cannot be had. */
sit_keyring *sit_keyring_new(void);
void sit_keyring_free(sit_keyring *kr);

int sit_keyring_add_keyfile(sit_keyring *kr, const char *path, sit_err *e);
int sit_keyring_add_identities(sit_keyring *kr, const char *path, sit_err *e);
int sit_keyring_add_recipient(sit_keyring *kr, const char *text, sit_err *e);
int sit_keyring_add_recipients_file(sit_keyring *kr, const char *path, sit_err *e);

/* Encode KEY under PREFIX ("sitkey1:", ...) into OUT (SIT_KEY_TEXT_MAX). */
void sit_key_encode(const char *prefix, const unsigned char key[SIT_KEY_BYTES],
	char out[SIT_KEY_TEXT_MAX]);
/* Decode one line; -1 with a message naming WHAT when malformed. */
int sit_key_decode(const char *prefix, const char *text, size_t len,
	unsigned char key[SIT_KEY_BYTES], const char *what, sit_err *e);

/* Read a small file into BUF (at most CAP bytes).  With SECRET, a regular
 * file owned by another user than ours (root included), or readable or
 * writable by group or others, is refused. */
int sit_secret_file_read(const char *path, int secret, char *buf, size_t cap,
	size_t *len, sit_err *e);

#endif
