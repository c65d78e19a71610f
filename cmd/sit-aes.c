/* sit-aes - authenticated AES-256-GCM encryption of a stream.
 *
 * A filter: stdin to stdout by default, constant memory, any length.  The
 * format is in lib/seal.c and man/sit.5; this file is the command line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "io.h"
#include "keys.h"
#include "ledger.h"
#include "out.h"
#include "progress.h"
#include "sandbox.h"
#include "seal.h"
#include "secret.h"

/* The keyring, so that every exit path, sit_die() included, wipes it. */
static sit_keyring *keyring;

static void
wipe_keyring(void)
{
	sit_keyring_free(keyring);
	keyring = NULL;
}

enum mode { NONE, ENCRYPT, DECRYPT, GEN_KEY, GEN_IDENTITY, PUBLIC, GEN_SIGNING };

enum {
	OPT_PASS_FD = 256, OPT_GEN_KEY, OPT_GEN_ID, OPT_PUBLIC, OPT_DEADLINE,
	OPT_PASS_OPS, OPT_PASS_MEM, OPT_MAX_OPS, OPT_MAX_MEM, OPT_PROGRESS, OPT_VERSION,
	OPT_GEN_SIGNING, OPT_SIGN, OPT_FROM, OPT_FROM_FILE, OPT_LEDGER, OPT_MAX_AGE,
	OPT_MODE, OPT_COMMIT_FD
};

static const struct option longopts[] = {
	{ "encrypt",          no_argument,       NULL, 'e' },
	{ "decrypt",          no_argument,       NULL, 'd' },
	{ "recipient",        required_argument, NULL, 'r' },
	{ "recipients-file",  required_argument, NULL, 'R' },
	{ "key",              required_argument, NULL, 'k' },
	{ "identity",         required_argument, NULL, 'i' },
	{ "passphrase-file",  required_argument, NULL, 'p' },
	{ "passphrase-fd",    required_argument, NULL, OPT_PASS_FD },
	{ "ask-passphrase",   no_argument,       NULL, 'P' },
	{ "pass-ops",         required_argument, NULL, OPT_PASS_OPS },
	{ "pass-mem",         required_argument, NULL, OPT_PASS_MEM },
	{ "max-pass-ops",     required_argument, NULL, OPT_MAX_OPS },
	{ "max-pass-mem",     required_argument, NULL, OPT_MAX_MEM },
	{ "deadline",         required_argument, NULL, OPT_DEADLINE },
	{ "gen-key",          no_argument,       NULL, OPT_GEN_KEY },
	{ "gen-identity",     no_argument,       NULL, OPT_GEN_ID },
	{ "public",           no_argument,       NULL, OPT_PUBLIC },
	{ "gen-signing-key",  no_argument,       NULL, OPT_GEN_SIGNING },
	{ "sign",             required_argument, NULL, OPT_SIGN },
	{ "from",             required_argument, NULL, OPT_FROM },
	{ "from-file",        required_argument, NULL, OPT_FROM_FILE },
	{ "replay-ledger",    required_argument, NULL, OPT_LEDGER },
	{ "max-age",          required_argument, NULL, OPT_MAX_AGE },
	{ "output",           required_argument, NULL, 'o' },
	{ "force",            no_argument,       NULL, 'f' },
	{ "mode",             required_argument, NULL, OPT_MODE },
	{ "commit-fd",        required_argument, NULL, OPT_COMMIT_FD },
	{ "verbose",          no_argument,       NULL, 'v' },
	{ "progress",         no_argument,       NULL, OPT_PROGRESS },
	{ "help",             no_argument,       NULL, 'h' },
	{ "version",          no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	puts("usage: sit-aes -e [-r RECIPIENT]... [-R FILE]... [-k KEYFILE]... [-p FILE | --passphrase-fd N | -P]\n"
	     "               [--sign SIGNKEY] [--pass-ops N] [--pass-mem MIB] [-o OUTPUT] [-f]\n"
	     "               [--mode MODE] [--commit-fd N] [-v] [--progress] [INPUT]\n"
	     "       sit-aes -d [-i IDENTITY]... [-k KEYFILE]... [-p FILE | --passphrase-fd N | -P]\n"
	     "               [--from SIGNER]... [--from-file FILE]... [--replay-ledger FILE] [--max-age SECONDS]\n"
	     "               [--deadline SECONDS] [--max-pass-ops N] [--max-pass-mem MIB]\n"
	     "               [-o OUTPUT] [-f] [--mode MODE] [--commit-fd N] [-v] [--progress] [INPUT]\n"
	     "       sit-aes --gen-key [-o KEYFILE] [-f] [--mode MODE] [--commit-fd N]\n"
	     "       sit-aes --gen-identity [-o IDENTITY] [-f] [--mode MODE] [--commit-fd N]\n"
	     "       sit-aes --gen-signing-key [-o SIGNKEY] [-f] [--mode MODE] [--commit-fd N]\n"
	     "       sit-aes --public [-i IDENTITY | SECRETFILE]\n"
	     "Seal or open a stream with AES-256-GCM; see sit-aes(1) and sit(5).\n"
	     "  --mode MODE     permissions of the -o file before the umask, octal (default\n"
	     "                  0666 for -e, 0600 for -d and for keys)\n"
	     "  --commit-fd N   name the -o file only after reading 'y' from descriptor N;\n"
	     "                  anything else withholds it, exit 75 (standard output: its\n"
	     "                  first byte)");
}

struct opts {
	enum mode mode;
	const char *output, *input, *passfile;
	int passfd, ask, force, verbose, progress;
	int commitfd;           /* --commit-fd, or -1 */
	int perm_set;           /* --mode given */
	mode_t perm;            /* the -o file's mode before the umask */
	unsigned deadline;
	const char *ledger;
	unsigned long long max_age;   /* 0: no time window */
};

static void
set_mode(struct opts *o, enum mode m)
{
	if (o->mode != NONE && o->mode != m)
		sit_cli_usage_error("choose one of -e, -d, --gen-key, --gen-identity, --gen-signing-key, --public");
	o->mode = m;
}

/* A key file or a passphrase seals alone (sit(5)): beside another stanza,
 * whoever holds that other key learns the file key and can forge a stream
 * the key-file or passphrase holder takes for one of theirs.  Refused here,
 * before a passphrase is asked for; a key file of several lines counts as
 * several key files. */
static void
check_alone(const struct opts *o, const sit_keyring *kr)
{
	size_t pass = o->passfile != NULL || o->passfd >= 0 || o->ask;

	if ((pass > 0 || kr->nkeys > 0) && pass + kr->nkeys + kr->nrcpts > 1)
		sit_die(EX_USAGE, "a key file or passphrase must be the only key of a stream "
			"(here %zu key file%s, %zu recipient%s%s): any other recipient could forge "
			"streams it accepts; seal once for each",
			kr->nkeys, kr->nkeys == 1 ? "" : "s", kr->nrcpts, kr->nrcpts == 1 ? "" : "s",
			pass ? " and a passphrase" : "");
}

/* Keys are added to the keyring as they come, so a bad one is reported
 * before any input is read. */
static void
parse(int argc, char **argv, struct opts *o, sit_keyring *kr)
{
	sit_err e = { 0 };
	int c;

	o->passfd = -1;
	o->commitfd = -1;
	while ((c = getopt_long(argc, argv, "edr:R:k:i:p:Po:fvh", longopts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 'e': set_mode(o, ENCRYPT); break;
		case 'd': set_mode(o, DECRYPT); break;
		case OPT_GEN_KEY: set_mode(o, GEN_KEY); break;
		case OPT_GEN_ID: set_mode(o, GEN_IDENTITY); break;
		case OPT_PUBLIC: set_mode(o, PUBLIC); break;
		case OPT_GEN_SIGNING: set_mode(o, GEN_SIGNING); break;
		case OPT_SIGN: rc = sit_keyring_set_signing_key(kr, optarg, &e); break;
		case OPT_FROM: rc = sit_keyring_add_signer(kr, optarg, &e); break;
		case OPT_FROM_FILE: rc = sit_keyring_add_signers_file(kr, optarg, &e); break;
		case OPT_LEDGER: o->ledger = optarg; break;
		case OPT_MAX_AGE: o->max_age = sit_cli_number("--max-age", optarg, 1, 86400ULL * 3660); break;
		case 'r': rc = sit_keyring_add_recipient(kr, optarg, &e); break;
		case 'R': rc = sit_keyring_add_recipients_file(kr, optarg, &e); break;
		case 'k': rc = sit_keyring_add_keyfile(kr, optarg, &e); break;
		case 'i': rc = sit_keyring_add_identities(kr, optarg, &e); break;
		case 'p': o->passfile = optarg; break;
		case OPT_PASS_FD: o->passfd = (int)sit_cli_number("--passphrase-fd", optarg, 0, 1 << 20); break;
		case 'P': o->ask = 1; break;
		case OPT_PASS_OPS: kr->pass_ops = sit_cli_number("--pass-ops", optarg, 1, 16); break;
		case OPT_PASS_MEM: kr->pass_mem = sit_cli_number("--pass-mem", optarg, 1, 4096) << 20; break;
		case OPT_MAX_OPS: kr->max_pass_ops = sit_cli_number("--max-pass-ops", optarg, 1, SIT_MAX_PASS_OPS_TOP); break;
		case OPT_MAX_MEM: kr->max_pass_mem = sit_cli_number("--max-pass-mem", optarg, 1,
			SIT_MAX_PASS_MEM_TOP) << 20; break;
		case OPT_DEADLINE: o->deadline = (unsigned)sit_cli_number("--deadline", optarg, 0, 86400 * 365); break;
		case 'o': o->output = optarg; break;
		case 'f': o->force = 1; break;
		case OPT_MODE: o->perm = sit_cli_mode("--mode", optarg); o->perm_set = 1; break;
		case OPT_COMMIT_FD: o->commitfd = sit_cli_read_fd("--commit-fd", optarg); break;
		case 'v': o->verbose = 1; break;
		case OPT_PROGRESS: o->progress = 1; break;
		case 'h': usage(); exit(0);
		case OPT_VERSION: sit_cli_version();
		default: sit_cli_usage_error("unknown option");
		}
		if (rc != 0)
			sit_die_err(&e);
	}
	if (optind < argc)
		o->input = argv[optind++];
	if (optind < argc)
		sit_cli_usage_error("one input at most; '%s' is extra", argv[optind]);
	if (o->mode == NONE)
		sit_cli_usage_error("choose -e to encrypt or -d to decrypt");
	if ((o->passfile != NULL) + (o->passfd >= 0) + o->ask > 1)
		sit_cli_usage_error("one passphrase source at most (-p, --passphrase-fd or -P)");
	if (o->mode == ENCRYPT && (kr->nids > 0))
		sit_cli_usage_error("-i is for decryption; encrypt to its public key with -r");
	if (o->mode == DECRYPT && kr->nrcpts > 0)
		sit_cli_usage_error("-r is for encryption; decrypt with the identity (-i)");
	if (o->deadline > 0 && o->mode != DECRYPT)
		sit_cli_usage_error("--deadline applies to decryption (-d)");
	if (kr->can_sign && o->mode != ENCRYPT)
		sit_cli_usage_error("--sign applies to encryption (-e)");
	if ((kr->nsigners > 0 || o->ledger != NULL || o->max_age > 0) && o->mode != DECRYPT)
		sit_cli_usage_error("--from, --from-file, --replay-ledger and --max-age apply to decryption (-d)");
	/* A ledger only keeps what the window lets in: it needs one. */
	if (o->ledger != NULL && o->max_age == 0)
		o->max_age = SIT_MAX_AGE_DEFAULT;
	if (o->mode == PUBLIC && (o->perm_set || o->commitfd >= 0))
		sit_cli_usage_error("--mode and --commit-fd are for -o; --public writes standard output");
	if (o->commitfd >= 0 && o->commitfd == o->passfd)
		sit_cli_usage_error("--commit-fd and --passphrase-fd need different descriptors");
	/* Plaintext and keys are for their owner alone unless asked. */
	if (!o->perm_set)
		o->perm = o->mode == ENCRYPT ? 0666 : 0600;
	if (o->mode == ENCRYPT)
		check_alone(o, kr);
}

static void
get_passphrase(const struct opts *o, sit_keyring *kr)
{
	sit_err e = { 0 };
	int rc = 0;
	int have_keys = kr->nkeys + kr->nids + kr->nrcpts > 0;

	if (o->passfile != NULL)
		rc = sit_pass_from_file(kr, o->passfile, &e);
	else if (o->passfd >= 0)
		rc = sit_pass_from_fd(kr, o->passfd, &e);
	else if (o->ask || !have_keys)
		rc = sit_pass_from_tty(kr, o->mode == ENCRYPT, &e);
	if (rc != 0)
		sit_die_err(&e);
}

/* The time window and the replay ledger, on a signed stream's claims
 * (FINAL 0: refuse early) and once it verified (FINAL 1: record it, before
 * it is committed or released). */
struct accept {
	const struct opts *o;
	sit_ledger ledger;
};

static int
accept_message(void *ctx, const sit_seal_msg *m, int final, sit_err *e)
{
	struct accept *a = ctx;
	uint64_t now = (uint64_t)time(NULL);

	if (a->o->max_age > 0 && sit_ledger_window(now, a->o->max_age, m->created, e) != 0)
		return -1;
	if (a->o->ledger == NULL)
		return 0;
	if (sit_ledger_check(&a->ledger, m->id, e) != 0)
		return -1;
	return final ? sit_ledger_record(&a->ledger, m->id, m->created, now, e) : 0;
}

static void
report_signer(const sit_seal_msg *m)
{
	char text[SIT_KEY_TEXT_MAX], hex[2 * SIT_SEAL_MSGID + 1], when[SIT_TIME_TEXT];

	sit_key_encode("sitsig1:", m->signer, text);
	sodium_bin2hex(hex, sizeof hex, m->id, sizeof m->id);
	sit_ledger_time(m->created, when);
	sit_warn("signed by %s", m->name != NULL ? m->name : text);
	sit_warn("message %s, made at %s", hex, when);
}

static void
run_stream(const struct opts *o, sit_keyring *kr)
{
	sit_err e = { 0 };
	sit_out out;
	sit_progress p;
	sit_seal_msg sm = { 0 };
	struct accept acc = { .o = o, .ledger = { .fd = -1 } };
	sit_seal_policy policy = { o->ledger != NULL || o->max_age > 0, accept_message, &acc };
	int in, rc;

	if (!crypto_aead_aes256gcm_is_available())
		sit_die(EX_UNAVAILABLE, "this CPU lacks the AES-NI and PCLMUL instructions "
			"that libsodium's AES-256-GCM needs");
	get_passphrase(o, kr);
	if ((in = sit_io_open_in(o->input, &e)) < 0)
		sit_die_err(&e);
	if (o->mode == ENCRYPT && (o->output == NULL || strcmp(o->output, "-") == 0) && isatty(1))
		sit_cli_usage_error("will not write ciphertext to a terminal; use -o or a redirection");
	if (sit_out_open(&out, o->output, o->force, o->perm, &e) != 0)
		sit_die_err(&e);
	sit_io_pipe_bigger(in);
	sit_io_pipe_bigger(out.fd);
	/* Opened and locked before the sandbox, which allows no open() or
	 * flock(); the lock is held to the end (ledger.h). */
	if (o->ledger != NULL
	    && sit_ledger_open(&acc.ledger, o->ledger, (uint64_t)time(NULL), o->max_age, &e) != 0) {
		sit_out_abort(&out);
		sit_die_err(&e);
	}
	/* Everything is open and every key read: from here on only the
	 * descriptors we hold (sandbox.h). */
	if ((rc = sit_sandbox_enter(sit_sandbox_out_flags(&out), &e)) < 0) {
		sit_out_abort(&out);
		sit_die_err(&e);
	}
	if (o->verbose)
		sit_warn("%s", sit_sandbox_describe(rc));
	sit_progress_init(&p, o->progress ? 1 : 0, o->mode == ENCRYPT ? "sealed" : "opened", 0);
	if (o->mode == ENCRYPT)
		rc = sit_seal_encrypt(kr, in, &out, &p, &sm, &e);
	else
		rc = sit_seal_decrypt(kr, in, &out, &p, &policy, &sm, &e);
	sit_progress_end(&p);
	alarm(0);
	if (rc != 0 || sit_out_commit(&out, &e) != 0) {
		sit_out_abort(&out);
		sit_die_err(&e);
	}
	sit_io_close_in(in);
	sit_ledger_close(&acc.ledger);
	if (o->verbose)
		sit_warn("%s %s to %s", o->mode == ENCRYPT ? "sealed" : "opened",
			o->input ? o->input : "standard input", sit_out_name(&out));
	if (o->verbose && sm.is_signed)
		report_signer(&sm);
}

static void
write_text(const struct opts *o, const char *text)
{
	sit_err e = { 0 };
	sit_out out;

	if (sit_out_open(&out, o->output, o->force, o->perm, &e) != 0
	    || sit_out_write(&out, text, strlen(text), &e) != 0
	    || sit_out_commit(&out, &e) != 0) {
		sit_out_abort(&out);
		sit_die_err(&e);
	}
}

/* Key generation: the secret goes to -o (mode 0600 unless --mode) or stdout. */
static void
generate(const struct opts *o)
{
	unsigned char *k = sodium_malloc(2 * SIT_KEY_BYTES);
	char *text = sodium_malloc(3 * SIT_KEY_TEXT_MAX + 64);
	char pub[SIT_KEY_TEXT_MAX], sec[SIT_KEY_TEXT_MAX];

	if (k == NULL || text == NULL)
		sit_die(EX_OSERR, "cannot allocate locked memory");
	randombytes_buf(k, SIT_KEY_BYTES);
	if (o->mode == GEN_KEY) {
		sit_key_encode("sitkey1:", k, sec);
		snprintf(text, 3 * SIT_KEY_TEXT_MAX + 64, "%s\n", sec);
		write_text(o, text);
	} else if (o->mode == GEN_SIGNING) {
		/* The file keeps the 32-byte seed; the key pair derives from it. */
		unsigned char *sk = sodium_malloc(SIT_SIGN_SK_BYTES);
		if (sk == NULL)
			sit_die(EX_OSERR, "cannot allocate locked memory");
		crypto_sign_seed_keypair(k + SIT_KEY_BYTES, sk, k);
		sodium_free(sk);
		sit_key_encode("sitsigsec1:", k, sec);
		sit_key_encode("sitsig1:", k + SIT_KEY_BYTES, pub);
		snprintf(text, 3 * SIT_KEY_TEXT_MAX + 64, "# public key: %s\n%s\n", pub, sec);
		write_text(o, text);
		if (o->output != NULL && strcmp(o->output, "-") != 0)
			printf("%s\n", pub);
	} else {
		crypto_scalarmult_base(k + SIT_KEY_BYTES, k);
		sit_key_encode("sitsec1:", k, sec);
		sit_key_encode("sitpub1:", k + SIT_KEY_BYTES, pub);
		snprintf(text, 3 * SIT_KEY_TEXT_MAX + 64, "# public key: %s\n%s\n", pub, sec);
		write_text(o, text);
		if (o->output != NULL && strcmp(o->output, "-") != 0)
			printf("%s\n", pub);
	}
	sodium_memzero(sec, sizeof sec);
	sodium_free(text);
	sodium_free(k);
}

static void
print_line(const char *line, void *ctx)
{
	(void)ctx;
	printf("%s\n", line);
}

/* -i holds identities; a file operand (or standard input) identities or
 * signing keys, each line told by its prefix. */
static void
print_public(const struct opts *o, sit_keyring *kr)
{
	sit_err e = { 0 };
	char pub[SIT_KEY_TEXT_MAX];

	if (kr->nids == 0 && sit_key_public_lines(o->input ? o->input : "/dev/stdin",
	    print_line, NULL, &e) != 0)
		sit_die_err(&e);
	for (size_t i = 0; i < kr->nids; i++) {
		unsigned char pk[SIT_KEY_BYTES];
		crypto_scalarmult_base(pk, kr->ids[i]);
		sit_key_encode("sitpub1:", pk, pub);
		printf("%s\n", pub);
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	sit_err e = { 0 };
	sit_keyring *kr;

	sit_cli_init("sit-aes");
	if (sit_secret_init(&e) != 0)
		sit_die_err(&e);
	if ((kr = sit_keyring_new()) == NULL)
		sit_die(EX_OSERR, "cannot allocate locked memory");
	keyring = kr;
	atexit(wipe_keyring);
	parse(argc, argv, &o, kr);
	/* Armed before anything can block (a passphrase, a fifo without a
	 * writer, an output fifo without a reader, a stalled pipe), so that
	 * the deadline covers the whole run. */
	if (o.deadline > 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "deadline of %u s passed, output discarded: "
			"ask the sender to resend", o.deadline);
		sit_out_deadline(o.deadline, sit_cli_prog(), msg);
	}
	/* Before the sandbox splits the process: the parent keeps the gate. */
	if (o.commitfd >= 0)
		sit_out_gate(o.commitfd);
	switch (o.mode) {
	case ENCRYPT:
	case DECRYPT:
		run_stream(&o, kr);
		break;
	case GEN_KEY:
	case GEN_IDENTITY:
	case GEN_SIGNING:
		generate(&o);
		break;
	case PUBLIC:
		print_public(&o, kr);
		break;
	case NONE:
		break;
	}
	if (fflush(stdout) != 0)
		sit_die(EX_IOERR, "cannot write standard output");
	return 0;
}
