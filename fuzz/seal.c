/* fuzz/seal.c - libFuzzer harness: the sit-aes header parser and stream
 * decryption (sit_seal_decrypt), fed whole sealed streams.
 *
 * The keyring holds the test-vector key file, identity and passphrase
 * (fuzz_keyring in fuzz.h).  Input comes through a memfd, as from a file;
 * output goes to /dev/null through sit_out, as to a device: a signed stream
 * (version 2, the signed-*.sit seeds) is then held until its signature
 * verifies.  Its claims go through the time window of --max-age, as
 * sit-aes -d --replay-ledger checks them (the ledger itself is a local
 * file, not network input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz.h"
#include "keys.h"
#include "ledger.h"
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

/* The vectors were made on 2026-11-23 12:00 UTC: a fixed clock an hour
 * later, so that the seeds pass the window and their mutations may not. */
static int
check(void *ctx, const sit_seal_msg *m, int final, sit_err *e)
{
	(void)ctx;
	(void)final;
	if (!m->is_signed)
		abort();   /* only signed streams reach the check */
	return sit_ledger_window(1795438800, SIT_MAX_AGE_DEFAULT, m->created, e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const sit_seal_policy policy = { 0, check, NULL };
	sit_seal_msg msg;
	sit_err e = { 0 };

	fuzz_must(ftruncate(in, 0) == 0, "ftruncate");
	fuzz_must(pwrite(in, data, size, 0) == (ssize_t)size, "pwrite");
	fuzz_must(lseek(in, 0, SEEK_SET) == 0, "lseek");
	if (sit_seal_decrypt(kr, in, &out, NULL, &policy, &msg, &e) != 0) {
		/* Every refusal must say why, with a code the program can exit with. */
		if (e.code == 0 || e.msg[0] == '\0')
			abort();
	} else if (msg.is_signed != (data[8] == 2)) {
		abort();   /* an opened stream is signed exactly when it says so */
	}
	return 0;
}
