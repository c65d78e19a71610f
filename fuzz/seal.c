/* fuzz/seal.c - libFuzzer harness: the sit-aes header parser and stream
 * decryption (sit_seal_decrypt), fed whole sealed streams.
 *
 * The keyring holds the test-vector key file, identity and passphrase
 * (tests/vectors), so seeds from there open and the fuzzer reaches the
 * payload code, not only the header checks.  The Argon2id limit is tiny
 * (2 passes, 64 KiB) so a mutated passphrase stanza costs microseconds;
 * the vector's own 8 MiB cost is refused by the limit check, which is a
 * path worth fuzzing too.  Input comes through a memfd, as from a file;
 * output goes to /dev/null through sit_out, as to a device.
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

#define KEY_TEXT "sitkey1:WLgCxGjAV6JQSu8RKR1xTDHwUFx0P_U0Hjzv522aBNu7BNFd"
#define ID_TEXT  "sitsec1:5y2Ix1p0mBoaXCE_QAXLgR1b7MU_P-sTW2ww_eZkEL-vNOQq"
#define PASS     "sit test vector passphrase"

static sit_keyring *kr;
static sit_out out;
static int in = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sit_err e = { 0 };

	(void)argc;
	(void)argv;
	fuzz_must(sodium_init() >= 0, "sodium_init");
	fuzz_must((kr = sit_keyring_new()) != NULL, "sit_keyring_new");
	fuzz_must(sit_key_decode("sitkey1:", KEY_TEXT, strlen(KEY_TEXT), kr->keys[0], "key", &e) == 0,
		e.msg);
	kr->nkeys = 1;
	fuzz_must(sit_key_decode("sitsec1:", ID_TEXT, strlen(ID_TEXT), kr->ids[0], "identity", &e) == 0,
		e.msg);
	kr->nids = 1;
	memcpy(kr->pass, PASS, strlen(PASS));
	kr->passlen = strlen(PASS);
	kr->max_pass_ops = 2;
	kr->max_pass_mem = 64 << 10;
	fuzz_must((in = memfd_create("fuzz-seal-in", MFD_CLOEXEC)) >= 0, "memfd_create");
	/* A device: written in place, one open descriptor for every run. */
	fuzz_must(sit_out_open(&out, "/dev/null", 0, 0666, &e) == 0 && out.direct, e.msg);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sit_err e = { 0 };

	fuzz_must(ftruncate(in, 0) == 0, "ftruncate");
	fuzz_must(pwrite(in, data, size, 0) == (ssize_t)size, "pwrite");
	fuzz_must(lseek(in, 0, SEEK_SET) == 0, "lseek");
	if (sit_seal_decrypt(kr, in, &out, NULL, &e) != 0) {
		/* Every refusal must say why, with a code the program can exit with. */
		if (e.code == 0 || e.msg[0] == '\0')
			abort();
	}
	return 0;
}
