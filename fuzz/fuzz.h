/* fuzz/fuzz.h - shared by the libFuzzer harnesses; include it in exactly one
 * file per harness (each harness is its own program). */
#ifndef SIT_FUZZ_H
#define SIT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>
#include <sodium.h>

#include "keys.h"

/* Harness set-up failing is a broken harness, not a finding: stop loudly.
 * (Also used below for a misuse the harness itself detects.) */
static inline void
fuzz_must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz: set-up failed: %s\n", what);
		abort();
	}
}

/* Large blocks, kept for the next run.
 *
 * sit_seal_decrypt allocates two 1 MiB buffers per call (one with malloc, one
 * with sodium_malloc).  On this machine a large ASan allocation costs about
 * 10 ms (a mapping, its shadow poisoned, unmapped again): the seal harness ran
 * at 40 to 85 executions a second, all of it in the kernel.  `make fuzz`
 * therefore renames malloc, free, realloc, sodium_malloc and sodium_free in the fuzzing
 * copy of libsit (objcopy --redefine-sym, see the Makefile) to the functions
 * below; nothing else in the program is affected.  A block of 128 KiB or more
 * (what ASan maps one by one) is kept when freed and handed out again for the
 * same size.  It stays an ASan heap block, so overflows on either side hit its
 * red zones (sodium_malloc's guard page only catches one side), and while it is
 * idle it is poisoned, so a use after free is still reported.  Smaller blocks
 * go straight to ASan.  16-byte alignment throughout, as the AES-GCM state in
 * lib/seal.c wants. */
#define FUZZ_BIG (128u << 10)
/* fuzz/shamir.c alone wants 2 x 15 sizes ((K-1) x 64 KiB, K = 2..16). */
#define FUZZ_SPARES 32
static struct { void *p; size_t size; int busy; } fuzz_spares[FUZZ_SPARES];

void *sit_fuzz_malloc(size_t size);
void sit_fuzz_free(void *p);
void *sit_fuzz_realloc(void *p, size_t size);
void *sit_fuzz_sodium_malloc(size_t size);
void sit_fuzz_sodium_free(void *p);

void *
sit_fuzz_malloc(size_t size)
{
	void *p = NULL;
	int i;

	if (size < FUZZ_BIG)
		return posix_memalign(&p, 16, size == 0 ? 1 : size) == 0 ? p : NULL;
	for (i = 0; i < FUZZ_SPARES; i++) {
		if (fuzz_spares[i].p != NULL && !fuzz_spares[i].busy && fuzz_spares[i].size == size) {
			ASAN_UNPOISON_MEMORY_REGION(fuzz_spares[i].p, size);
			fuzz_spares[i].busy = 1;
			return fuzz_spares[i].p;
		}
	}
	if (posix_memalign(&p, 16, size) != 0)
		return NULL;
	for (i = 0; i < FUZZ_SPARES && fuzz_spares[i].p != NULL; i++)
		;
	if (i < FUZZ_SPARES) {
		fuzz_spares[i].p = p;
		fuzz_spares[i].size = size;
		fuzz_spares[i].busy = 1;
	}
	return p;
}

void
sit_fuzz_free(void *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < FUZZ_SPARES; i++) {
		if (fuzz_spares[i].p == p) {
			/* An idle block freed again: what ASan would call a double free. */
			fuzz_must(fuzz_spares[i].busy, "double free of a kept block");
			ASAN_POISON_MEMORY_REGION(p, fuzz_spares[i].size);
			fuzz_spares[i].busy = 0;
			return;
		}
	}
	free(p);
}

/* stb_image grows its buffers with realloc, and one may be a kept block:
 * then move it to a fresh block and keep the old one for the next run. */
void *
sit_fuzz_realloc(void *p, size_t size)
{
	for (int i = 0; p != NULL && i < FUZZ_SPARES; i++) {
		if (fuzz_spares[i].p == p) {
			void *q = sit_fuzz_malloc(size);
			if (q != NULL) {
				memcpy(q, p, size < fuzz_spares[i].size ? size : fuzz_spares[i].size);
				sit_fuzz_free(p);
			}
			return q;
		}
	}
	return realloc(p, size);
}

void *
sit_fuzz_sodium_malloc(size_t size)
{
	return sit_fuzz_malloc(size);
}

void
sit_fuzz_sodium_free(void *p)
{
	sit_fuzz_free(p);
}

/* Short reads.
 *
 * Pipes and sockets hand out data in pieces: a reader that assumes one
 * read() returns everything asked for works on files and small tests and
 * fails on a slow network.  `make fuzz` also renames read() in the fuzzing
 * libsit to sit_fuzz_read() below.  A harness sets fuzz_read_cap (from its
 * input) and every read libsit makes returns at most that many bytes; with
 * fuzz_read_eintr = N (2 or more), every Nth read fails with EINTR first, as a signal
 * would make it.  Both 0 (the default): read() unchanged. */
static size_t fuzz_read_cap;
static unsigned fuzz_read_eintr, fuzz_read_calls;

ssize_t sit_fuzz_read(int fd, void *buf, size_t len);

ssize_t
sit_fuzz_read(int fd, void *buf, size_t len)
{
	/* 1 would fail every read, and libsit rightly retries forever. */
	if (fuzz_read_eintr > 1 && ++fuzz_read_calls % fuzz_read_eintr == 0) {
		errno = EINTR;
		return -1;
	}
	if (fuzz_read_cap != 0 && len > fuzz_read_cap)
		len = fuzz_read_cap;
	return read(fd, buf, len);
}

/* The keys of the known-answer vectors (tests/vectors), so that seeds taken
 * from there open and the fuzzer reaches the payload, not only the header. */
#define FUZZ_KEY_TEXT "sitkey1:WLgCxGjAV6JQSu8RKR1xTDHwUFx0P_U0Hjzv522aBNu7BNFd"
#define FUZZ_ID_TEXT  "sitsec1:5y2Ix1p0mBoaXCE_QAXLgR1b7MU_P-sTW2ww_eZkEL-vNOQq"
#define FUZZ_PASS     "sit test vector passphrase"

/* sodium_init() and a keyring holding the vectors' key file; with ALL also
 * their identity and passphrase, under an Argon2id limit of 2 passes and
 * 64 KiB so that a mutated passphrase stanza costs microseconds (the
 * vector's own 8 MiB cost is then refused by the limit check: a path worth
 * fuzzing too). */
static inline sit_keyring *
fuzz_keyring(int all)
{
	sit_keyring *kr;
	sit_err e = { 0 };

	fuzz_must(sodium_init() >= 0, "sodium_init");
	fuzz_must((kr = sit_keyring_new()) != NULL, "sit_keyring_new");
	fuzz_must(sit_key_decode("sitkey1:", FUZZ_KEY_TEXT, strlen(FUZZ_KEY_TEXT), kr->keys[0],
		"key", &e) == 0, e.msg);
	kr->nkeys = 1;
	if (!all)
		return kr;
	fuzz_must(sit_key_decode("sitsec1:", FUZZ_ID_TEXT, strlen(FUZZ_ID_TEXT), kr->ids[0],
		"identity", &e) == 0, e.msg);
	kr->nids = 1;
	memcpy(kr->pass, FUZZ_PASS, strlen(FUZZ_PASS));
	kr->passlen = strlen(FUZZ_PASS);
	kr->max_pass_ops = 2;
	kr->max_pass_mem = 64 << 10;
	return kr;
}

#endif
