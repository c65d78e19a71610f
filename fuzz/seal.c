/* fuzz/seal.c - libFuzzer harness: the sit-aes header parser and stream
 * decryption (sit_seal_decrypt), fed whole sealed streams.
 *
 * The keyring holds the test-vector key file, identity and passphrase
 * (fuzz_keyring in fuzz.h).  Input comes through a memfd, as from a file;
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

static sit_keyring *kr;
static sit_out out;
static int in = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sit_err e = { 0 };

	(void)argc;
	(void)argv;
	kr = fuzz_keyring(1);
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
	if (sit_seal_decrypt(kr, in, &out, NULL, NULL, NULL, &e) != 0) {
		/* Every refusal must say why, with a code the program can exit with. */
		if (e.code == 0 || e.msg[0] == '\0')
			abort();
	}
	return 0;
}
