/* cksum.h - the checksums our formats carry, fast where the CPU allows.
 *
 * All three follow zlib's calling convention: pass the value returned so
 * far (0 for a CRC, 1 for Adler-32, or the *_INIT macros) and more bytes;
 * the result is the finished checksum of everything so far, so calls chain
 * over a stream cut anywhere.  They detect accidents, not forgeries.
 */
#ifndef SIT_CKSUM_H
#define SIT_CKSUM_H

#include <stddef.h>
#include <stdint.h>

#define SIT_CKSUM_CRC32_INIT 0u
#define SIT_CKSUM_ADLER32_INIT 1u
#define SIT_CKSUM_CRC32C_INIT 0u

/* CRC-32 of zlib, PNG and gzip (reflected polynomial 0xedb88320). */
uint32_t sit_cksum_crc32(uint32_t crc, const void *buf, size_t len);

/* Adler-32 of zlib streams (RFC 1950). */
uint32_t sit_cksum_adler32(uint32_t adler, const void *buf, size_t len);

/* CRC-32C, Castagnoli (reflected polynomial 0x82f63b78, iSCSI, ext4). */
uint32_t sit_cksum_crc32c(uint32_t crc, const void *buf, size_t len);

/* Four CRC-32C lanes over one stream: the stream's 8-byte word j (and the
 * bytes of a last, partial word) goes to lane j mod 4.  That makes 128 bits
 * of check from four independent chains, which the CPU's crc32 instruction
 * runs side by side: one chain alone waits on its own latency.  Lane i
 * starts from SEED[i] as its "CRC so far". */
#define SIT_CKSUM_LANES_LEN 16

typedef struct sit_cksum_lanes {
	uint32_t lane[4];
	uint64_t pos;                  /* bytes so far */
} sit_cksum_lanes;

void sit_cksum_lanes_init(sit_cksum_lanes *l, const uint32_t seed[4]);
void sit_cksum_lanes_update(sit_cksum_lanes *l, const void *buf, size_t len);
/* Lanes 0 to 3, each little-endian. */
void sit_cksum_lanes_final(const sit_cksum_lanes *l, unsigned char out[SIT_CKSUM_LANES_LEN]);

/* Every implementation of Adler-32 and of sit_cksum_lanes_update() in this
 * build, fastest first, so that tests can hold each one this CPU runs
 * against the oracles: sit_cksum_adler32() and sit_cksum_lanes_update() use
 * the first whose AVAILABLE() says yes (the last, "portable", always does).
 * Each function behaves as the one it stands for. */
typedef struct sit_cksum_adler32_impl {
	const char *name;
	int (*available)(void);
	uint32_t (*adler32)(uint32_t adler, const void *buf, size_t len);
} sit_cksum_adler32_impl;

typedef struct sit_cksum_lanes_impl {
	const char *name;
	int (*available)(void);
	void (*update)(sit_cksum_lanes *l, const void *buf, size_t len);
} sit_cksum_lanes_impl;

const sit_cksum_adler32_impl *sit_cksum_adler32_impls(size_t *count);
const sit_cksum_lanes_impl *sit_cksum_lanes_impls(size_t *count);

#endif
