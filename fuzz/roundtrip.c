/* fuzz/roundtrip.c - libFuzzer harness: seal then open (sit_seal_encrypt and
 * sit_seal_decrypt) must give back exactly the input, with the sealed size the
 * format promises (sit(5)), whatever the length.
 *
 * The chunk (64 KiB) and batch (16 chunks) boundaries are where a streaming
 * encoder goes wrong, and libFuzzer rarely makes inputs that long, so the
 * first two bytes choose the length: a number of chunks (0 to 34) and a
 * signed offset from there (-128 to 127 bytes), and the rest is repeated to
 * fill it.  Streams go through memfds, as through files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz.h"
#include "keys.h"
#include "out.h"
#include "seal.h"

#define MAX_CHUNKS 34
#define MAX_LEN  (MAX_CHUNKS * SIT_SEAL_CHUNK + 127)
/* Header with one key-file stanza: fixed part, stanza, MAC (sit(5)). */
#define HEADER   (27 + 3 + 16 + 48 + 32)

static sit_keyring *kr;
static int plain_fd = -1, sealed_fd = -1, opened_fd = -1;
static unsigned char *plain, *back;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kr = fuzz_keyring(0);
	fuzz_must((plain_fd = memfd_create("plain", MFD_CLOEXEC)) >= 0
		&& (sealed_fd = memfd_create("sealed", MFD_CLOEXEC)) >= 0
		&& (opened_fd = memfd_create("opened", MFD_CLOEXEC)) >= 0, "memfd_create");
	fuzz_must((plain = malloc(MAX_LEN)) != NULL && (back = malloc(MAX_LEN + 1)) != NULL, "malloc");
	return 0;
}

/* Empty FD and rewind it. */
static void
reset(int fd)
{
	fuzz_must(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0, "reset memfd");
}

/* A sit_out writing straight to FD, as to a device: nothing to rename. */
static void
out_on(sit_out *o, int fd)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->direct = 1;
	o->slot = -1;
	o->dirfd = -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sit_err e = { 0 };
	sit_out o;
	size_t len, chunks;
	off_t sealed_len;
	long at;

	if (size < 2)
		return 0;
	at = (long)(data[0] % (MAX_CHUNKS + 1)) * SIT_SEAL_CHUNK + (int8_t)data[1];
	len = at < 0 ? 0 : (size_t)at;
	for (size_t i = 0; i < len; i++)
		plain[i] = size > 2 ? data[2 + i % (size - 2)] : 0;
	reset(plain_fd);
	reset(sealed_fd);
	reset(opened_fd);
	fuzz_must(pwrite(plain_fd, plain, len, 0) == (ssize_t)len, "pwrite");

	out_on(&o, sealed_fd);
	if (sit_seal_encrypt(kr, plain_fd, &o, NULL, NULL, &e) != 0) {
		fprintf(stderr, "encrypt failed: %s\n", e.msg);
		abort();
	}
	/* One tag per 64 KiB chunk, and an empty last chunk only for empty input. */
	chunks = len == 0 ? 1 : (len + SIT_SEAL_CHUNK - 1) / SIT_SEAL_CHUNK;
	sealed_len = lseek(sealed_fd, 0, SEEK_END);
	if (sealed_len != (off_t)(HEADER + len + chunks * SIT_SEAL_TAG)) {
		fprintf(stderr, "%zu bytes sealed to %lld bytes\n", len, (long long)sealed_len);
		abort();
	}
	fuzz_must(lseek(sealed_fd, 0, SEEK_SET) == 0, "lseek");
	out_on(&o, opened_fd);
	if (sit_seal_decrypt(kr, sealed_fd, &o, NULL, NULL, NULL, &e) != 0) {
		fprintf(stderr, "decrypt of our own stream failed: %s\n", e.msg);
		abort();
	}
	if (pread(opened_fd, back, MAX_LEN + 1, 0) != (ssize_t)len || memcmp(plain, back, len) != 0) {
		fprintf(stderr, "%zu bytes did not come back\n", len);
		abort();
	}
	return 0;
}
