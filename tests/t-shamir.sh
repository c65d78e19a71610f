#!/bin/bash
# The arithmetic under sit-share, every implementation this CPU runs:
# GF(2^8) multiply-add (GFNI, AVX2 shuffles, portable) against the bitwise
# multiply, and the coefficient generator (AES-256-CTR with VAES or AES-NI,
# ChaCha20) against libsodium inside tests/shamir-probe.c and against
# Python's cryptography package here.  Where /proc/cpuinfo shows a CPU
# feature, the implementation that needs it must have been checked, not
# skipped: a fast path that silently stops being taken fails.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

case "$SIT_BIN" in
*/build/asan/bin) PD=$SIT_ROOT/build/asan/tests ;;
*) PD=$SIT_ROOT/build/release/tests ;;
esac
P=$PD/shamir-probe
if [ ! -x "$P" ]; then
	fail "shamir probe" "$P is missing (make builds it)"
	exit 1
fi

# want KIND NAME FLAGS...: NAME was checked and found right when the CPU
# has every flag, and was at least listed otherwise.
want() {
	local kind=$1 name=$2
	shift 2
	want_path "$kind $name" "$kind.out" "$kind $name ok" "$kind $name unavailable" "$@"
}

for kind in gf256 keystream; do
	if "$P" "$kind" >"$kind.out" 2>"$kind.err"; then
		pass "shamir-probe $kind runs clean"
	else
		fail "shamir-probe $kind" "$(cat "$kind.err")"
	fi
done
want gf256 gfni512 gfni avx512f avx512bw
want gf256 gfni256 gfni avx2
want gf256 avx2 avx2
want gf256 portable
want keystream aes-vaes512 vaes aes avx512f avx512bw sse4_1
want keystream aes-vaes256 vaes aes avx2 sse4_1
want keystream aes-ni aes sse4_1
want keystream chacha20

# The streams against Python's cryptography (OpenSSL underneath): an
# implementation that shares no code with ours or libsodium's.
PY=/usr/bin/python3
if ! "$PY" -c 'import cryptography' 2>/dev/null; then
	skip "keystreams against python3-cryptography" "not installed"
	exit 0
fi
cat >oracle.py <<'PY'
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
name, key, nonce, n = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), int(sys.argv[4])
if name == "chacha20":
    # The original ChaCha20 (64-bit nonce) is words 12-15 = counter, nonce.
    c = Cipher(algorithms.ChaCha20(key, bytes(8) + nonce), mode=None)
else:
    c = Cipher(algorithms.AES(key), modes.CTR(nonce + bytes(8)))
sys.stdout.buffer.write(c.encryptor().update(bytes(n)))
PY
key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
for name in aes-vaes512 aes-vaes256 aes-ni chacha20; do
	grep -qx "keystream $name ok" keystream.out || continue
	bad=""
	for spec in "0 0001020304050607" "1 0001020304050607" "16 ffffffffffffffff" \
	    "255 0000000000000001" "256 8000000000000000" "4097 0102030405060708" \
	    "65536 1122334455667788" "1048581 a5a5a5a5a5a5a5a5"; do
		set -- $spec
		"$P" stream "$name" "$key" "$2" "$1" >got || bad="$bad $1:probe-failed"
		"$PY" oracle.py "$name" "$key" "$2" "$1" >want || bad="$bad $1:oracle-failed"
		cmp -s got want || bad="$bad $1"
	done
	[ -z "$bad" ] && pass "keystream $name matches python3-cryptography at 8 lengths" ||
		fail "keystream $name vs python3-cryptography" "differs at lengths:$bad"
done
