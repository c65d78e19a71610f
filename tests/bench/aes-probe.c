/* aes-probe - raw libsodium AES-256-GCM throughput, the ceiling for sit-aes.
 *
 *   aes-probe -e|-d BYTES
 *
 * Seals (-e) or opens (-d) BYTES of data as 64 KiB chunks with
 * crypto_aead_aes256gcm_{en,de}crypt_detached_afternm and a precomputed
 * state, from one 1 MiB buffer into another (16 chunks, cycled: the same
 * working set as sit-aes's batches), no I/O at all.  Prints the seconds spent
 * in the loop on stdout.  Decrypt checks every tag (the chunks are sealed
 * once before the clock starts), so a failure would show.
 *
 * Built by scripts/bench: cc -O2 aes-probe.c $(pkg-config --cflags --libs libsodium)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define CHUNK  65536
#define TAG    crypto_aead_aes256gcm_ABYTES
#define NCHUNK 16

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nonce of chunk I: a counter, like sit-aes's (the value does not matter for speed). */
static void
nonce_of(unsigned char n[crypto_aead_aes256gcm_NPUBBYTES], uint64_t i)
{
	memset(n, 0, crypto_aead_aes256gcm_NPUBBYTES);
	memcpy(n, &i, sizeof i);
}

int
main(int argc, char **argv)
{
	unsigned char key[crypto_aead_aes256gcm_KEYBYTES], nonce[crypto_aead_aes256gcm_NPUBBYTES];
	unsigned char *plain, *cipher, *tags;
	crypto_aead_aes256gcm_state *st;
	unsigned long long total, nchunks, maclen;
	double t0, t1;
	int enc;

	if (argc != 3 || (strcmp(argv[1], "-e") != 0 && strcmp(argv[1], "-d") != 0)) {
		fprintf(stderr, "usage: aes-probe -e|-d BYTES\n");
		return 64;
	}
	enc = argv[1][1] == 'e';
	total = strtoull(argv[2], NULL, 10);
	nchunks = (total + CHUNK - 1) / CHUNK;
	if (sodium_init() < 0 || !crypto_aead_aes256gcm_is_available()) {
		fprintf(stderr, "aes-probe: AES-256-GCM not available on this CPU\n");
		return 69;
	}
	st = sodium_malloc(sizeof *st);
	plain = malloc(NCHUNK * CHUNK);
	cipher = malloc(NCHUNK * CHUNK);
	tags = malloc(NCHUNK * TAG);
	if (st == NULL || plain == NULL || cipher == NULL || tags == NULL) {
		fprintf(stderr, "aes-probe: out of memory\n");
		return 70;
	}
	randombytes_buf(key, sizeof key);
	randombytes_buf(plain, NCHUNK * CHUNK);
	crypto_aead_aes256gcm_beforenm(st, key);

	if (enc) {
		t0 = now();
		for (unsigned long long i = 0; i < nchunks; i++) {
			size_t slot = i % NCHUNK;
			nonce_of(nonce, i);
			crypto_aead_aes256gcm_encrypt_detached_afternm(cipher + slot * CHUNK,
				tags + slot * TAG, &maclen, plain + slot * CHUNK, CHUNK,
				NULL, 0, NULL, nonce, st);
		}
		t1 = now();
	} else {
		for (size_t slot = 0; slot < NCHUNK; slot++) {
			nonce_of(nonce, slot);
			crypto_aead_aes256gcm_encrypt_detached_afternm(cipher + slot * CHUNK,
				tags + slot * TAG, &maclen, plain + slot * CHUNK, CHUNK,
				NULL, 0, NULL, nonce, st);
		}
		t0 = now();
		for (unsigned long long i = 0; i < nchunks; i++) {
			size_t slot = i % NCHUNK;
			nonce_of(nonce, slot);
			if (crypto_aead_aes256gcm_decrypt_detached_afternm(plain + slot * CHUNK, NULL,
				cipher + slot * CHUNK, CHUNK, tags + slot * TAG, NULL, 0,
				nonce, st) != 0) {
				fprintf(stderr, "aes-probe: tag check failed at chunk %llu\n", i);
				return 70;
			}
		}
		t1 = now();
	}
	printf("%.6f\n", t1 - t0);
	sodium_free(st);
	free(plain);
	free(cipher);
	free(tags);
	return 0;
}
