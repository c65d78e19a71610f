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
	if (secret && S_ISREG(st.st_mode) && st.st_uid != geteuid()) {
		close(fd);
		return sit_err_set(e, EX_NOINPUT,
			"%s is owned by another user (uid %u, we are uid %u): chown it or use a copy of your own",
			path, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	/* A pipe or /dev/fd/N from the shell is private to us; a regular file
	 * that others can read has leaked its secret already. */
	if (secret && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		close(fd);
		return sit_err_set(e, EX_NOINPUT,
			"%s is accessible by group or others (mode %04o): chmod 600 it",
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
each_line(const char *path, int secret, int (*fn)(sit_keyring *, const char *, size_t,
	const char *, sit_err *), sit_keyring *kr, sit_err *e)
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
		rc = fn(kr, buf + s, t - s, path, e);
		lines++;
	}
	sodium_free(buf);
	if (rc == 0 && lines == 0)
		return sit_err_set(e, EX_DATAERR, "%s holds no key", path);
	return rc;
}

static int
add_key(sit_keyring *kr, const char *line, size_t len, const char *what, sit_err *e)
{
	if (kr->nkeys == SIT_KEYS_MAX)
		return sit_err_set(e, EX_USAGE, "more than %d key files", SIT_KEYS_MAX);
	if (sit_key_decode("sitkey1:", line, len, kr->keys[kr->nkeys], what, e) != 0)
		return -1;
	kr->nkeys++;
	return 0;
}

static int
add_identity(sit_keyring *kr, const char *line, size_t len, const char *what, sit_err *e)
{
	if (kr->nids == SIT_KEYS_MAX)
		return sit_err_set(e, EX_USAGE, "more than %d identities", SIT_KEYS_MAX);
	if (sit_key_decode("sitsec1:", line, len, kr->ids[kr->nids], what, e) != 0)
		return -1;
	kr->nids++;
	return 0;
}

static int
add_recipient(sit_keyring *kr, const char *line, size_t len, const char *what, sit_err *e)
{
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
	return each_line(path, 1, add_key, kr, e);
}

int
sit_keyring_add_identities(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, 1, add_identity, kr, e);
}

int
sit_keyring_add_recipients_file(sit_keyring *kr, const char *path, sit_err *e)
{
	return each_line(path, 0, add_recipient, kr, e);
}

int
sit_keyring_add_recipient(sit_keyring *kr, const char *text, sit_err *e)
{
	return add_recipient(kr, text, strlen(text), "recipient", e);
}
