/* fuzz/keys.c - libFuzzer harness: the key-text decoder sit_key_decode.
 *
 * The first byte picks the prefix (key file, identity, recipient, signing
 * key, signer); the rest
 * is the text, as one line of a key file would reach the decoder.  A text
 * that decodes must be exactly what sit_key_encode makes of the key: there
 * is one spelling of each key, so a mistyped key cannot decode to another.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "keys.h"

static const char *const prefixes[] = { "sitkey1:", "sitsec1:", "sitpub1:", "sitsigsec1:",
	"sitsig1:" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[SIT_KEY_BYTES];
	char again[SIT_KEY_TEXT_MAX];
	const char *prefix;
	const char *text;
	size_t len;
	sit_err e = { 0 };

	if (size < 1)
		return 0;
	prefix = prefixes[data[0] % 5];
	/* A copy of exactly the text, so ASan sees any read past its end. */
	len = size - 1;
	text = len > 0 ? memcpy(malloc(len), data + 1, len) : NULL;
	if (len > 0 && text == NULL)
		abort();
	if (sit_key_decode(prefix, text != NULL ? text : "", len, key, "fuzz", &e) == 0) {
		sit_key_encode(prefix, key, again);
		if (strlen(again) != len || memcmp(again, text, len) != 0) {
			fprintf(stderr, "decoded text is not the canonical spelling\n");
			abort();
		}
	} else if (e.code != EX_DATAERR || e.msg[0] == '\0') {
		abort();
	}
	free((void *)text);
	return 0;
}
