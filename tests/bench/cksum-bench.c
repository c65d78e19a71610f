/* cksum-bench - throughput of libsit's checksums, beside zlib's own.
 *
 *   cksum-bench [MIB]        (default 256)
 *
 * For each checksum: MB/s over one MIB-MiB buffer of pseudorandom bytes
 * (memory bound: each byte comes from RAM once), and over a 64 KiB buffer
 * passed over again to the same total (in cache: the code's own speed).
 * Best of three runs each.  zlib's crc32() and adler32() are measured in
 * the same run when built with -DHAVE_ZLIB (zlib is only needed here).
 *
 * Built by scripts/bench: cc -O2 -Ilib tests/bench/cksum-bench.c
 *   build/release/libsit.a [-DHAVE_ZLIB -lz]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cksum.h"
#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

#define SMALL (64 * 1024)

typedef uint32_t (*sum_fn)(const unsigned char *p, size_t len, uint32_t prev);

static uint32_t
sit_crc32(const unsigned char *p, size_t len, uint32_t prev)
{
	return sit_cksum_crc32(prev, p, len);
}

static uint32_t
sit_adler32(const unsigned char *p, size_t len, uint32_t prev)
{
	return sit_cksum_adler32(prev, p, len);
}

static uint32_t
sit_crc32c(const unsigned char *p, size_t len, uint32_t prev)
{
	return sit_cksum_crc32c(prev, p, len);
}

static uint32_t
sit_lanes(const unsigned char *p, size_t len, uint32_t prev)
{
	static const uint32_t seed[4] = { 1, 2, 3, 4 };
	sit_cksum_lanes l;
	unsigned char out[SIT_CKSUM_LANES_LEN];

	sit_cksum_lanes_init(&l, seed);
	sit_cksum_lanes_update(&l, p, len);
	sit_cksum_lanes_final(&l, out);
	return prev ^ out[0];
}

#ifdef HAVE_ZLIB
static uint32_t
z_crc32(const unsigned char *p, size_t len, uint32_t prev)
{
	return (uint32_t)crc32_z(prev, p, len);
}

static uint32_t
z_adler32(const unsigned char *p, size_t len, uint32_t prev)
{
	return (uint32_t)adler32_z(prev, p, len);
}
#endif

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best MB/s of three runs over TOTAL bytes, LEN at a time from BUF. */
static double
measure(sum_fn f, const unsigned char *buf, size_t len, size_t total, uint32_t *sink)
{
	double best = 0;

	for (int run = 0; run < 3; run++) {
		double t0 = now(), t;
		uint32_t v = 0;

		for (size_t done = 0; done < total; done += len)
			v = f(buf, len, v);
		t = now() - t0;
		*sink ^= v;
		if (t > 0 && total / t / 1e6 > best)
			best = total / t / 1e6;
	}
	return best;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, len = mib << 20;
	unsigned char *buf;
	uint64_t x = 88172645463325252u;
	uint32_t sink = 0;
	static const struct {
		const char *name;
		sum_fn f;
	} fns[] = {
		{ "sit_cksum_crc32", sit_crc32 },
#ifdef HAVE_ZLIB
		{ "zlib crc32", z_crc32 },
#endif
		{ "sit_cksum_adler32", sit_adler32 },
#ifdef HAVE_ZLIB
		{ "zlib adler32", z_adler32 },
#endif
		{ "sit_cksum_crc32c", sit_crc32c },
		{ "sit_cksum_lanes", sit_lanes },
	};

	if (mib == 0 || mib > 65536) {
		fprintf(stderr, "usage: cksum-bench [MIB]\n");
		return 64;
	}
	buf = malloc(len);
	if (buf == NULL) {
		fprintf(stderr, "cksum-bench: out of memory\n");
		return 71;
	}
	for (size_t i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
	}
	printf("%-20s %14s %16s\n", "checksum", "MB/s, RAM", "MB/s, in cache");
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		double big = measure(fns[i].f, buf, len, len, &sink);
		double small = measure(fns[i].f, buf, SMALL, len, &sink);

		printf("%-20s %14.0f %16.0f\n", fns[i].name, big, small);
	}
	free(buf);
	/* The check is printed so that no call can be optimised away. */
	printf("(%zu MiB; RAM: one pass over the buffer; in cache: 64 KiB passed over again; best of 3; check %08x)\n",
		mib, sink);
	return 0;
}
