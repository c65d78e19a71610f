#!/bin/bash
# The checksums of lib/cksum.h against independent oracles: Python's
# zlib.crc32 and zlib.adler32, and for CRC-32C and the four lanes a bitwise
# Python implementation written from the definitions in cksum.h.  Both builds
# of tests/cksum-probe.c are checked (the fast paths this CPU takes, and the
# portable code), each fed the input whole and in pieces of given and random
# sizes, so that the calls chain across cuts anywhere: inside 8-byte words,
# 16-byte blocks, 32-byte groups, the Adler-32 runs and the lanes' folding.
# Adler-32 and the lanes have several paths (cksum-probe -l lists them):
# every one this CPU runs is checked, and where /proc/cpuinfo shows the
# features of one, it must have been checked, not skipped.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

case "$SIT_BIN" in
*/build/asan/bin) PD=$SIT_ROOT/build/asan/tests ;;
*) PD=$SIT_ROOT/build/release/tests ;;
esac
PROBES="$PD/cksum-probe $PD/cksum-probe-portable"
for p in $PROBES; do
	if [ ! -x "$p" ]; then
		fail "cksum probe" "$p is missing (make builds it)"
		exit 1
	fi
done
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
	skip "cksum" "no $PY for the oracles"
	exit 0
fi

# The constants in lib/cksum_tables.h are what the generator derives from
# the polynomials.
"$PY" "$SIT_ROOT/scripts/gen-cksum-tables" >tables.h
same "cksum tables are scripts/gen-cksum-tables' output" tables.h "$SIT_ROOT/lib/cksum_tables.h"

# The oracle: makes the inputs and, for each, NAME.want: the probe's four
# lines (with lane seeds SEEDS), WAYS times over.  Inputs: rNNN has NNN
# pseudorandom bytes, fNNN NNN bytes of 0xff.
cat >oracle.py <<'PY'
import random, sys, zlib

def crc32c_raw(reg, data, table):
    for b in data:
        reg = table[(reg ^ b) & 0xff] ^ (reg >> 8)
    return reg

def bitwise_table():
    # One register step per bit, from the definition: reflected polynomial
    # 0x82f63b78.  The table only batches those steps eight at a time.
    t = []
    for i in range(256):
        r = i
        for _ in range(8):
            r = (r >> 1) ^ (0x82F63B78 if r & 1 else 0)
        t.append(r)
    return t

def crc32c_bitwise(data):
    reg = 0xFFFFFFFF
    for b in data:
        reg ^= b
        for _ in range(8):
            reg = (reg >> 1) ^ (0x82F63B78 if reg & 1 else 0)
    return reg ^ 0xFFFFFFFF

T = bitwise_table()
assert crc32c_bitwise(b"123456789") == 0xE3069283
assert crc32c_raw(0xFFFFFFFF, b"123456789", T) ^ 0xFFFFFFFF == 0xE3069283
assert zlib.crc32(b"123456789") == 0xCBF43926
assert zlib.adler32(b"123456789") == 0x091E01DE

seeds = [int(s, 16) for s in sys.argv[1].split(",")]
ways = int(sys.argv[2])
for name in sys.argv[3:]:
    try:
        d = open(name, "rb").read()
    except FileNotFoundError:
        size = int(name[1:])
        d = random.Random(size).randbytes(size) if name[0] == "r" else b"\xff" * size
        open(name, "wb").write(d)
    c = crc32c_raw(0xFFFFFFFF, d, T) ^ 0xFFFFFFFF
    # Word j (8 bytes, the last one maybe partial) goes to lane j mod 4;
    # lane i starts from seed i as its CRC so far.
    lanes = []
    for i in range(4):
        words = b"".join(d[k:k + 8] for k in range(8 * i, len(d), 32))
        lanes.append(crc32c_raw(seeds[i] ^ 0xFFFFFFFF, words, T) ^ 0xFFFFFFFF)
    out = "crc32 %08x\nadler32 %08x\ncrc32c %08x\nlanes %s\n" % (zlib.crc32(d),
        zlib.adler32(d), c, b"".join(v.to_bytes(4, "little") for v in lanes).hex())
    open(name + ".want", "w").write(out * ways)
PY

SEEDS=0,1,deadbeef,ffffffff
# Whole; one byte at a time; cuts everywhere in words, blocks and groups;
# calls under 256 bytes (CRC-32 then folds 128 bits wide, not 512, on a CPU
# with VPCLMULQDQ: both paths run here); calls about the 2 KiB from which
# the lanes fold, starting at and off group boundaries, with whole
# groups left over or not; pseudorandom cuts.
WAYS="-w -p 1 -p 7,1,0,31,33,8,5,16,3 -p 4095,64,17 -p 255,100 -p 2048,2049,2591,3000,511 -r 1 -r 2 -r 3 -r 4"
nways=10
files=""
# Beside the edges of words, blocks and groups: the lanes fold from 2048
# bytes, 512 a step, so 2048 + 512 k + 256 (+ a group, + a word) take
# every way out of the loop; 3 MiB runs it thousands of times.
for n in 0 1 7 8 15 16 17 31 32 33 63 64 65 127 128 255 256 300 320 513 2047 2048 2080 2303 2304 2559 2560 4096 65553 3145733; do
	files="$files r$n"
done
# All 0xff bytes: Adler-32's sums grow fastest, so the modulo's place
# matters most at multiples of 5552 (zlib's run), of 32 KiB (the AVX2 run)
# and of 128 KiB (the AVX-512 run).
for n in 63 64 127 128 191 5551 5552 5553 11104 11105 16656 32767 32768 32800 65553 131071 131072 131073 262272 1048579; do
	files="$files f$n"
done
# shellcheck disable=SC2086 # a list of file names
"$PY" oracle.py "$SEEDS" $nways $files

# The paths: "-A NAME" or "-L NAME" for each one the fast probe's CPU runs;
# the portable probe has only its own (what it chooses unasked).
"$PD/cksum-probe" -l >impls || fail "cksum-probe -l" "exit $?"
paths=$(awk '$3 == "yes" { print ($1 == "adler32" ? "-A" : "-L") "=" $2 }' impls)
runs="portable:"
for a in $paths; do
	runs="$runs fast:$a"
done

# Every probe and path, every way of cutting, gives NAME.want.
for f in $files; do
	bad=""
	for run in $runs; do
		p=$PD/cksum-probe
		[ "${run%%:*}" = portable ] && p=$PD/cksum-probe-portable
		opt=${run#*:}
		# shellcheck disable=SC2086 # options and their arguments
		"$p" ${opt%%=*} ${opt#*=} $WAYS <"$f" >got 2>err || { bad="$bad $run exit $?: $(cat err)"; continue; }
		cmp -s got "$f.want" || bad="$bad $run: $(diff got "$f.want" | head -4 | tr '\n' ' ')"
	done
	if [ -z "$bad" ]; then pass "cksum $f ($(wc -c <"$f") bytes, $nways ways, every path)"
	else fail "cksum $f" "$bad"; fi
done

# want KIND NAME FLAGS...: with every flag, the probe ran path NAME (and
# the loop above held it against the oracles); without, it said no.
want() {
	local kind=$1 name=$2
	shift 2
	want_path "cksum $kind $name" impls "$kind $name yes" "$kind $name no" "$@"
}
want adler32 avx512vnni avx512f avx512bw avx512_vnni
want adler32 avx512bw avx512f avx512bw
want adler32 avx2 avx2
want adler32 portable
want lanes vpclmul-crc32 avx512f vpclmulqdq pclmulqdq sse4_2
want lanes crc32 sse4_2
want lanes portable

# The check values of the definitions (cksum.h); the lanes of "123456789"
# from seeds 0: lane 0 is CRC-32C of "12345678", lane 1 of "9", lanes 2, 3 0.
printf 123456789 >check
"$PY" oracle.py 0,0,0,0 1 check
printf 'crc32 cbf43926\nadler32 091e01de\ncrc32c e3069283\n' >check.head
for p in $PROBES; do
	expect "check values (${p##*/})" 0 "$p" -s 0,0,0,0 <check
	head -3 "$T/out" >got
	same "check values (${p##*/}) are right" got check.head
	same "check value lanes (${p##*/})" "$T/out" check.want
done

# Other lane seeds.
"$PY" oracle.py 12345678,9abcdef0,0,7 1 r65553
for p in $PROBES; do
	expect "lane seeds (${p##*/})" 0 "$p" -r 9 -s 12345678,9abcdef0,0,7 <r65553
	same "lane seeds (${p##*/}) are used" "$T/out" r65553.want
done

# A long all-0xff run (the sums' worst case over many runs), 64 MiB + 1,
# through every path, in one call (so that a run longer than its bounds
# allow would show) and in pseudorandom pieces: CRC-32 and Adler-32
# against zlib, CRC-32C and the lanes against the portable build.
big() { head -c $((64 * 1048576 + 1)) /dev/zero | tr '\0' '\377'; }
"$PY" -c 'import zlib; d = b"\xff" * (64 * 1048576 + 1)
print(2 * ("crc32 %08x\nadler32 %08x\n" % (zlib.crc32(d), zlib.adler32(d))), end="")' >big.want
big | "$PD/cksum-probe-portable" -w -r 4 >big.port
for a in $paths; do
	big | "$PD/cksum-probe" "${a%%=*}" "${a#*=}" -w -r 4 >big.simd
	grep -E '^(crc32|adler32) ' big.simd >big.simd2
	same "64 MiB of 0xff ($a): CRC-32, Adler-32 as zlib" big.simd2 big.want
	same "64 MiB of 0xff ($a): as the portable build" big.simd big.port
done
