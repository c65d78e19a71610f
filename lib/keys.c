#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "io.h"
#include "keys.h"

#define CHECK_BYTES 4
#define FILE_MAX 16384

sit_keyring *
sit_keyring_new(void)
{
	sit_keyring *kr = sodium_malloc(sizeof *kr);

	if (kr == NULL)
		return NULL;
	memset(kr, 0, sizeof *kr);
	kr->pass_ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
	kr->pass_mem = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
	/* Opening accepts twice the passes and twice the memory that sealing
	 * writes by default: a hostile header then costs at most about four
	 * times a default one (Argon2id's time grows with passes x memory),
	 * 2 s and 512 MiB here, where the old 16 passes and 1 GiB cost 10 s.
	 * More takes --max-pass-ops and --max-pass-mem. */
	kr->max_pass_ops = 2 * crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
	kr->max_pass_mem = 2 * (unsigned long long)crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
	return kr;
}

void
sit_keyring_free(sit_keyring *kr)
{
	sodium_free(kr);  /* wipes before unmapping */
}

static void
key_check(const char *prefix, const unsigned char key[SIT_KEY_BYTES],
	unsigned char check[CHECK_BYTES])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)prefix, strlen(prefix));
	crypto_hash_sha256_update(&st, key, SIT_KEY_BYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(check, h, CHECK_BYTES);
	sodium_memzero(h, sizeof h);
}

void
sit_key_encode(const char *prefix, const unsigned char key[SIT_KEY_BYTES],
	char out[SIT_KEY_TEXT_MAX])
{
	unsigned char raw[SIT_KEY_BYTES + CHECK_BYTES];
	size_t n = strlen(prefix);

	memcpy(raw, key, SIT_KEY_BYTES);
	key_check(prefix, key, raw + SIT_KEY_BYTES);
	memcpy(out, prefix, n);
	sodium_bin2base64(out + n, SIT_KEY_TEXT_MAX - n, raw, sizeof raw,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

static int
is_base64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		|| c == '-' || c == '_';
}

int
sit_key_decode(const char *prefix, const char *text, size_t len,
	unsigned char key[SIT_KEY_BYTES], const char *what, sit_err *e)
{
	unsigned char raw[SIT_KEY_BYTES + CHECK_BYTES], check[CHECK_BYTES];
	size_t plen = strlen(prefix), rawlen = 0;
	const char *end;
	int ok;

	if (len < plen || memcmp(text, prefix, plen) != 0)
		return sit_err_set(e, EX_DATAERR, "%s: not a %.*s key", what,
			(int)(plen - 1), prefix);
	/* libsodium 1.0.18 decodes bytes 0x80-0xff as '_': check the alphabet
	 * ourselves, so that a key has exactly one spelling. */
	for (size_t i = plen; i < len; i++)
		if (!is_base64url(text[i]))
			return sit_err_set(e, EX_DATAERR,
				"%s: damaged %.*s key (mistyped or truncated?)", what,
				(int)(plen - 1), prefix);
	ok = sodium_base642bin(raw, sizeof raw, text + plen, len - plen, NULL,
		&rawlen, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0
		&& end == text + len && rawlen == sizeof raw;
	if (ok) {
		key_check(prefix, raw, check);
		ok = sodium_memcmp(check, raw + SIT_KEY_BYTES, CHECK_BYTES) == 0;
	}
	if (ok)
		memcpy(key, raw, SIT_KEY_BYTES);
	sodium_memzero(raw, sizeof raw);
	if (!ok)
		return sit_err_set(e, EX_DATAERR,
			"%s: damaged %.*s key (mistyped or truncated?)", what,
			(int)(plen - 1), prefix);
	return 0;
}

int
sit_secret_file_read(const char *path, int secret, char *buf, size_t cap,
	size_t *len, sit_err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sit_err_sys(e, EX_NOINPUT, "cannot open %s", path);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return sit_err_sys(e, EX_IOERR, "cannot read %s", path);
	}
	/* A regular file of another user's is a key that user chose and can
	 * swap at will: sealing with it, or trusting what opens with it, is
	 * trusting them.  Root too, as ssh does with authorized_keys: a root
	 * job handed a user's key file is where that matters most.  Whoever
	 * means it can pass the file through a pipe (-k <(cat FILE)). */
	if (secret != SIT_FILE_PUBLIC && S_ISREG(st.st_mode) && st.st_uid != geteuid()) {
		close(fd);
		return sit_err_set(e, EX_NOINPUT,
			"%s is owned by another user (uid %u, we are uid %u): chown it or use a copy of your own",
			path, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	/* A pipe or /dev/fd/N from the shell is private to us; a regular file
	 * that others can read has leaked its secret already. */
	if (secret == SIT_FILE_SECRET && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		close(fd);
		return sit_err_set(e, EX_NOINPUT,
			"%s is accessible by group or others (mode %04o): chmod 600 it",
			path, (unsigned)(st.st_mode & 07777));
	}
	/* A list of trusted signers is public, but whoever can write a line
	 * into it is trusted from then on. */
	if (secret == SIT_FILE_TRUSTED && S_ISREG(st.st_mode) && (st.st_mode & 022) != 0) {
		close(fd);
		return sit_err_set(e, EX_NOINPUT,
			"%s is writable by group or others (mode %04o): chmod go-w it",
			path, (unsigned)(st.st_mode & 07777));
	}
	n = sit_io_read(fd, buf, cap);
	if (n < 0) {
		close(fd);
		return sit_err_sys(e, EX_IOERR, "cannot read %s", path);
	}
	if ((size_t)n == cap) {
		char extra;
		if (read(fd, &extra, 1) > 0) {
			close(fd);
			return sit_err_set(e, EX_DATAERR, "%s is too large for a key file", path);
		}
	}
	close(fd);
	*len = (size_t)n;
	return 0;
}

/* Call FN on each key line of a file: blank lines and '#' comments skipped,
 * surrounding white space ignored. */
static int
each_line(const char *path, int secret, int (*fn)(void *, const char *, size_t,
	const char *, sit_err *), void *ctx, sit_err *e)
{
	char *buf = sodium_malloc(FILE_MAX);
	size_t len = 0, i = 0, lines = 0;
	int rc = 0;

	if (buf == NULL)
		return sit_err_set(e, EX_OSERR, "cannot allocate locked memory");
	if (sit_secret_file_read(path, secret, buf, FILE_MAX, &len, e) != 0) {
		sodium_free(buf);
		return -1;
	}
	while (i < len && rc == 0) {
		size_t s = i, t;
		while (i < len && buf[i] != '\n')
			i++;
		t = i++;
		while (s < t && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r'))
			s++;
		while (t > s && (buf[t - 1] == ' ' || buf[t - 1] == '\t' || buf[t - 1] == '\r'))
			t--;
		if (s == t || buf[s] == '#')
			continue;
		rc = fn(ctx, buf + s, t - s, path, e);
		lines++;
	}
	sodium_free(buf);
	if (rc == 0 && lines == 0)
		return sit_err_set(e, EX_DATAERR, "%s holds no key", path);
	return rc;
}

static int
add_key(void *ctx, const char *line, size_t len, const char *what, sit_err *e)
{
	sit_keyring *kr = ctx;
	if (kr->nkeys == SIT_KEYS_MAX)
		return sit_err_set(e, EX_USAGE, "more than %d key files", SIT_KEYS_MAX);
	if (sit_key_decode("sitkey1:", line, len, kr->keys[kr->nkeys], what, e) != 0)
		return -1;
	kr->nkeys++;
	return 0;
}

static int
add_identity(void *ctx, const char *line, size_t len, const char *what, sit_err *e)
{
	sit_keyring *kr = ctx;
	if (kr->nids == SIT_KEYS_MAX)
		return sit_err_set(e, EX_USAGE, "more than %d identities", SIT_KEYS_MAX);
	if (sit_key_decode("sitsec1:", line, len, kr->ids[kr->nids], what, e) != 0)
		return -1;
	kr->nids++;
	return 0;
}

static int
add_recipient(void *ctx, const char *line, size_t len, const char *what, sit_err *e)
{
	sit_keyring *kr = ctx;
	if (kr->nrcpts == SIT_KEYS_MAX)
		return sit_err_set(e, EX_USAGE, "more than %d recipients", SIT_KEYS_MAX);
	if (sit_key_decode("sitpub1:", line, len, kr->rcpts[kr->nrcpts], what, e) != 0)
		return -1;
	kr->nrcpts++;
	return 0;
}

int
sit_keyring_add_keyfile(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, SIT_FILE_SECRET, add_key, kr, e);
}

int
sit_keyring_add_identities(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, SIT_FILE_SECRET, add_identity, kr, e);
}

int
sit_keyring_add_recipients_file(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, SIT_FILE_PUBLIC, add_recipient, kr, e);
}

int
sit_keyring_add_recipient(sit_keyring *kr, const char *text, sit_err *e)
{
	return add_recipient(kr, text, strlen(text), "recipient", e);
}

static int
set_signing_key(void *ctx, const char *line, size_t len, const char *what, sit_err *e)
{
	sit_keyring *kr = ctx;
	unsigned char seed[SIT_KEY_BYTES];

	/* One key signs: which of several would be a guess. */
	if (kr->can_sign)
		return sit_err_set(e, EX_USAGE, "%s: one signing key only", what);
	if (sit_key_decode("sitsigsec1:", line, len, seed, what, e) != 0)
		return -1;
	crypto_sign_seed_keypair(kr->sign_pk, kr->sign_sk, seed);
	sodium_memzero(seed, sizeof seed);
	kr->can_sign = 1;
	return 0;
}

int
sit_keyring_set_signing_key(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, SIT_FILE_SECRET, set_signing_key, kr, e);
}

/* A signer's key, then optionally white space and a name of printable
 * characters (bytes 0x20-0x7e, or any byte of 0x80 and above: UTF-8), which
 * messages show; without a name, the key's text is its name. */
static int
add_signer(void *ctx, const char *line, size_t len, const char *what, sit_err *e)
{
	sit_keyring *kr = ctx;
	size_t klen = 0, s;
	char *name;

	if (kr->nsigners == SIT_SIGNERS_MAX)
		return sit_err_set(e, EX_USAGE, "more than %d trusted signers", SIT_SIGNERS_MAX);
	while (klen < len && line[klen] != ' ' && line[klen] != '\t')
		klen++;
	if (sit_key_decode("sitsig1:", line, klen, kr->signers[kr->nsigners], what, e) != 0)
		return -1;
	for (s = klen; s < len && (line[s] == ' ' || line[s] == '\t'); s++)
		;
	if (len - s > SIT_SIGNER_NAME_MAX)
		return sit_err_set(e, EX_DATAERR, "%s: a signer's name is at most %d bytes",
			what, SIT_SIGNER_NAME_MAX);
	for (size_t i = s; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return sit_err_set(e, EX_DATAERR, "%s: control character in a signer's name", what);
	name = kr->signer_names[kr->nsigners];
	if (s == len)
		s = 0;                  /* no name: the key text */
	else
		klen = len;
	memcpy(name, line + s, klen - s);
	name[klen - s] = '\0';
	kr->nsigners++;
	return 0;
}

int
sit_keyring_add_signer(sit_keyring *kr, const char *text, sit_err *e)
{
	size_t len = strlen(text);

	/* On the command line the key alone: a name there would be the only
	 * thing -v shows, and anyone can pick a name. */
	for (size_t i = 0; i < len; i++)
		if (text[i] == ' ' || text[i] == '\t')
			return sit_err_set(e, EX_DATAERR, "--from: a sitsig1 key alone (names go in --from-file)");
	return add_signer(kr, text, len, "--from", e);
}

int
sit_keyring_add_signers_file(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, SIT_FILE_TRUSTED, add_signer, kr, e);
}

const char *
sit_keyring_signer_name(const sit_keyring *kr, const unsigned char pk[SIT_KEY_BYTES])
{
	for (size_t i = 0; i < kr->nsigners; i++)
		if (sodium_memcmp(kr->signers[i], pk, SIT_KEY_BYTES) == 0)
			return kr->signer_names[i];
	return NULL;
}

struct public_ctx {
	void (*fn)(const char *line, void *ctx);
	void *ctx;
};

static int
public_line(void *ctx, const char *line, size_t len, const char *what, sit_err *e)
{
	struct public_ctx *pc = ctx;
	unsigned char sk[SIT_KEY_BYTES], pk[SIT_KEY_BYTES], ssk[SIT_SIGN_SK_BYTES];
	char text[SIT_KEY_TEXT_MAX];
	int rc;

	/* The prefix says what the line is; decoding checks the rest. */
	if (len >= 11 && memcmp(line, "sitsigsec1:", 11) == 0) {
		rc = sit_key_decode("sitsigsec1:", line, len, sk, what, e);
		if (rc == 0) {
			crypto_sign_seed_keypair(pk, ssk, sk);
			sit_key_encode("sitsig1:", pk, text);
		}
	} else {
		rc = sit_key_decode("sitsec1:", line, len, sk, what, e);
		if (rc == 0) {
			crypto_scalarmult_base(pk, sk);
			sit_key_encode("sitpub1:", pk, text);
		}
	}
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(ssk, sizeof ssk);
	if (rc == 0)
		pc->fn(text, pc->ctx);
	return rc;
}

int
sit_key_public_lines(const char *path, void (*fn)(const char *line, void *ctx),
	void *ctx, sit_err *e)
{
	struct public_ctx pc = { fn, ctx };

	return each_line(path, SIT_FILE_SECRET, public_line, &pc, e);
}
