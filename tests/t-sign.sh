#!/bin/bash
# sit-aes signed streams (#20): signing keys, --sign, --from/--from-file,
# forgeries by a co-recipient, tampering, the replay ledger and its window.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
C=65536
PY=${SIT_PYTHON:-/usr/bin/python3}
havepy=0
"$PY" -c 'import cryptography, argon2.low_level' 2>/dev/null && havepy=1
py() { "$PY" "$SIT_ROOT/tests/interop/sitaes.py" "$@"; }

# Keys: a signing key is a 0600 file with its public key in a comment, and
# --public tells it from an identity by its prefix.
expect "--gen-signing-key -o prints the public key" 0 sit-aes --gen-signing-key -o alice
cp out alice.pub
check "the public key is one sitsig1: line" grep -qxE 'sitsig1:[A-Za-z0-9_-]{48}' alice.pub
check "signing key file is mode 0600" test "$(stat -c %a alice)" = 600
check "signing key file: comment, then sitsigsec1:" \
	grep -qxE 'sitsigsec1:[A-Za-z0-9_-]{48}' alice
check "the comment holds the public key" grep -qx "# public key: $(cat alice.pub)" alice
check "--public of a signing key gives its sitsig1:" test "$(sit-aes --public alice)" = "$(cat alice.pub)"
sit-aes --gen-signing-key -o bob >bob.pub
sit-aes --gen-signing-key >stdout.key
check "--gen-signing-key without -o writes the key to stdout" grep -q '^sitsigsec1:' stdout.key
sit-aes --gen-key -o key >/dev/null
sit-aes --gen-identity -o id >id.pub
sit-aes --gen-identity -o id2 >id2.pub
cat id alice >mixed; chmod 600 mixed
check "--public on a file of both kinds: each by its prefix" \
	test "$(sit-aes --public mixed | tr '\n' ' ')" = "$(cat id.pub) $(cat alice.pub) "
expect "an identity is not a signing key" 65 sit-aes -e -k key --sign id -o x.sit /dev/null
errmatch "identity as --sign: message" 'not a sitsigsec1 key'
cp alice loose; chmod 644 loose
expect "a signing key readable by others is refused" 66 sit-aes -e -k key --sign loose /dev/null
cat alice bob >two; chmod 600 two
expect "a file of two signing keys is refused" 64 sit-aes -e -k key --sign two /dev/null
expect "--sign with -d is a usage error" 64 sit-aes -d -k key --sign alice /dev/null
expect "--from with -e is a usage error" 64 sit-aes -e -k key --from "$(cat alice.pub)" /dev/null
expect "--from takes a sitsig1: key, not a sitpub1:" 65 sit-aes -d -k key --from "$(cat id.pub)" /dev/null
expect "--from with a name is refused (names go in --from-file)" 65 sit-aes -d -k key --from "$(cat alice.pub) alice" /dev/null

# Round trips, signed and not, at chunk and batch boundaries, to a file and
# to standard output (held until verified).
for n in 0 1 $((C - 1)) $C $((C + 1)) $((16 * C + 3)); do
	head -c "$n" /dev/urandom >p.$n
	sit-aes -e -k key --sign alice <p.$n >s.$n
	expect "signed $n bytes open with -o and --from" 0 sit-aes -d -k key --from "$(cat alice.pub)" -o r.$n s.$n
	same "signed $n bytes: plaintext" p.$n r.$n
	expect "signed $n bytes open to standard output" 0 sit-aes -d -k key --from "$(cat alice.pub)" s.$n
	same "signed $n bytes: plaintext on stdout" p.$n out
	chunks=$((n / C + 1)); [ $((n % C)) = 0 ] && [ "$n" != 0 ] && chunks=$((chunks - 1))
	check "signed size of $n bytes: header + 56 + n + 16 per chunk + 64" \
		test "$(stat -c %s s.$n)" = $((27 + 67 + 56 + 32 + n + 16 * chunks + 64))
	rm -f r.$n
done
check "an unsigned stream is still version 1" test "$(sit-aes -e -k key <p.1 | od -An -tu1 -j8 -N1 | tr -d ' ')" = 1
check "a signed stream is version 2" test "$(od -An -tu1 -j8 -N1 s.1 | tr -d ' ')" = 2
sit-aes -e -k key <p.$C >u.$C
expect "an unsigned stream opens without --from" 0 sit-aes -d -k key -o r.u u.$C
same "unsigned plaintext" p.$C r.u
expect "a signed stream opens without --from" 0 sit-aes -d -v -k key -o r.s s.$C
check "-v without --from names the signer by its key" grep -qx "sit-aes: signed by $(cat alice.pub)" err
check "-v gives the message ID and time" grep -qE '^sit-aes: message [0-9a-f]{32}, made at 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC$' err
expect "64 MiB signed through pipes" 0 bash -c 'head -c 64M /dev/zero | sit-aes -e -k key --sign alice | sit-aes -d -k key --from "$(cat alice.pub)" | sha256sum'
check "64 MiB signed: the same bytes" test "$(cat out)" = "$(head -c 64M /dev/zero | sha256sum)"
head -c $((64 * 1024 * 1024 + 1)) /dev/zero | sit-aes -e -k key --sign alice >big.sit
expect "a signed stream over 64 MiB for standard output is refused" 65 sit-aes -d -k key big.sit
errmatch "over 64 MiB: message says to use -o" '^sit-aes: signed stream of more than 64 MiB for standard output: it is held until its signature verifies; open it with -o FILE$'
check "over 64 MiB: nothing written" test ! -s out
expect "over 64 MiB opens with -o" 0 sit-aes -d -k key --from "$(cat alice.pub)" -o big.out big.sit
check "over 64 MiB: size" test "$(stat -c %s big.out)" = $((64 * 1024 * 1024 + 1))
rm -f big.sit big.out

# --from accepts its signer only; unsigned and other signers are refused,
# before any key work, with no output.
printf '# trusted\n\n%s alice\n  %s\tbob the builder  \n' "$(cat alice.pub)" "$(cat bob.pub)" >trusted
expect "--from-file accepts alice" 0 sit-aes -d -v -k key --from-file trusted -o r.a s.$C
errmatch_any() { grep -qx "$2" err && pass "$1" || fail "$1" "stderr: $(tr '\n' '|' <err)"; }
errmatch_any "-v names the signer from --from-file" "sit-aes: signed by alice"
sit-aes -e -k key --sign bob <p.1 >bob.sit
expect "--from-file accepts bob" 0 sit-aes -d -v -k key --from-file trusted -o r.b bob.sit
errmatch_any "a name with spaces, trimmed" "sit-aes: signed by bob the builder"
expect "--from alice refuses bob" 65 sit-aes -d -k key --from "$(cat alice.pub)" -o r.bob bob.sit
errmatch "unknown signer: message names its key" "^sit-aes: signed by $(cat bob.pub), not a trusted signer \\(--from, --from-file\\)\$"
absent "unknown signer: no output file" r.bob
expect "--from alice refuses an unsigned stream" 65 sit-aes -d -k key --from "$(cat alice.pub)" -o r.un u.$C
errmatch "unsigned: message" '^sit-aes: not signed, and only signed streams are accepted here'
absent "unsigned: no output file" r.un
expect "--from refuses an unsigned stream to stdout: nothing written" 65 sit-aes -d -k key --from "$(cat alice.pub)" u.$C
check "unsigned to stdout under --from: empty" test ! -s out
expect "two --from: either is accepted" 0 sit-aes -d -k key --from "$(cat bob.pub)" --from "$(cat alice.pub)" -o r.2 s.1
chmod 666 trusted
expect "a trusted-signers file writable by others is refused" 66 sit-aes -d -k key --from-file trusted s.1
errmatch "writable trusted file: message" 'trusted is writable by group or others'
chmod 644 trusted
printf '%s \001evil\n' "$(cat alice.pub)" >ctl
expect "a control character in a name is refused" 65 sit-aes -d -k key --from-file ctl s.1
printf '%s %s\n' "$(cat alice.pub)" "$(head -c 65 /dev/zero | tr '\0' n)" >long
expect "a name over 64 bytes is refused" 65 sit-aes -d -k key --from-file long s.1
printf '%s\n' "$(cat alice.pub)" >noname
expect "a line without a name: named by its key" 0 sit-aes -d -v -k key --from-file noname -o r.nn s.1
errmatch_any "nameless signer shown by its key" "sit-aes: signed by $(cat alice.pub)"

# A co-recipient knows the file key: it can re-seal a chunk, wrap the file
# key anew, or sign with its own key.  Every one is refused by the other
# recipient under --from (made with the Python implementation's test-only
# forger: sit-aes cannot write them).
if [ $havepy = 1 ]; then
	head -c $((2 * C + 5)) /dev/urandom >p.m
	sit-aes -e -R id.pub -R id2.pub --sign alice -o m.sit p.m
	cp p.m evil; printf 'X' | dd of=evil bs=1 seek=$((C + 7)) conv=notrunc status=none
	py -d --unsafe-forge-for-tests chunk -i id2 --forge-plain evil m.sit >f.chunk
	py -d --unsafe-forge-for-tests rewrap -i id2 -R id.pub --forge-plain evil m.sit >f.rewrap
	py -d --unsafe-forge-for-tests resign -i id2 --sign bob --forge-plain evil m.sit >f.resign
	# Two X25519 stanzas: a header of 27 + 2 x 83 + 56 + 32 = 281 bytes.
	check "the chunk forgery differs from the original in chunk 1 only" \
		test "$(cmp -l m.sit f.chunk | awk -v lo=$((281 + C + 16)) -v hi=$((281 + 2 * C + 32)) '$1 <= lo || $1 > hi' | wc -l)" = 0
	for f in chunk rewrap; do
		expect "co-recipient forgery ($f) refused under --from" 65 sit-aes -d -i id --from "$(cat alice.pub)" -o r.$f f.$f
		errmatch "forgery ($f): bad signature" '^sit-aes: bad signature'
		absent "forgery ($f): no output file" r.$f
		expect "forgery ($f) refused without --from too" 65 sit-aes -d -i id f.$f
		check "forgery ($f) to stdout: nothing written" test ! -s out
	done
	expect "co-recipient re-signing with its own key refused under --from" 65 sit-aes -d -i id --from "$(cat alice.pub)" -o r.rs f.resign
	errmatch "re-signed: names the forger's key" "^sit-aes: signed by $(cat bob.pub), not a trusted signer"
	expect "the genuine stream opens for the other recipient" 0 sit-aes -d -i id --from "$(cat alice.pub)" -o r.m m.sit
	same "genuine plaintext" p.m r.m
else
	skip "co-recipient forgeries" "$PY lacks python3-cryptography or python3-argon2"
fi

# Every bit flip (one per byte under the sanitizers) and every truncation of
# a small signed stream is refused, with nothing on stdout.
head -c 40 /dev/urandom >small
sit-aes -e -k key --sign alice <small >small.sit
case $SIT_BIN in */build/asan/bin) every_bit=0 ;; *) every_bit=1 ;; esac
python3 - small.sit "$every_bit" "$(cat alice.pub)" <<'PY' >flips.log
import subprocess, sys
data = open(sys.argv[1], "rb").read()
every_bit, signer = sys.argv[2] == "1", sys.argv[3]
bad = []
def run(blob, *extra):
    r = subprocess.run(["sit-aes", "-d", "-k", "key", *extra], input=blob, capture_output=True)
    return r.returncode, r.stdout
flips = range(len(data) * 8) if every_bit else [8 * j + j % 8 for j in range(len(data))]
for i in flips:
    b = bytearray(data); b[i // 8] ^= 1 << (i % 8)
    rc, out = run(bytes(b))
    if rc != 65 or out: bad.append(("flip", i, rc))
for n in range(len(data)):
    rc, out = run(data[:n], "--from", signer)
    if rc != 65 or out: bad.append(("cut", n, rc))
for extra in (b"\0", bytes(64)):
    rc, out = run(data + extra)
    if rc != 65 or out: bad.append(("trailing", len(extra), rc))
print(len(flips), len(data), len(bad), bad[:5])
PY
read -r nflips ncuts nbad rest <flips.log
check "$nflips bit flips and all $ncuts truncations of a signed stream refused, no output ($rest)" test "$nbad" = 0

# A hostile header: a signer key of small order, the neutral element, not a
# point, non-canonical; the signer block cut; a huge stanza length.
mkhdr() { # OFFSET HEXBYTES IN OUT: overwrite bytes at OFFSET
	python3 -c 'import sys; d=bytearray(open(sys.argv[3],"rb").read()); b=bytes.fromhex(sys.argv[2]); o=int(sys.argv[1]); d[o:o+len(b)]=b; open(sys.argv[4],"wb").write(d)' "$@"
}
SB=$((27 + 67))   # the signer block of a key-file stream
mkhdr $SB "$(printf '00%.0s' $(seq 32))" s.1 h.zero
mkhdr $SB "01$(printf '00%.0s' $(seq 31))" s.1 h.neutral
mkhdr $SB "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" s.1 h.minus1
mkhdr $SB "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" s.1 h.noncanon
mkhdr $SB "02$(printf '00%.0s' $(seq 31))" s.1 h.notpoint
mkhdr 28 "ffff" s.1 h.huge
for h in zero neutral minus1 noncanon notpoint; do
	expect "hostile signer key ($h) refused" 65 sit-aes -d -k key -o r.h h.$h
	errmatch "hostile signer key ($h): malformed header" "^sit-aes: malformed header: the signer's key is not an Ed25519 public key\$"
	absent "hostile signer key ($h): no output" r.h
done
expect "a huge stanza length in a signed header refused" 65 sit-aes -d -k key h.huge
errmatch "huge stanza: message" 'malformed header: stanza of 65535 bytes'
head -c $((SB + 20)) s.1 >h.cut
expect "a signer block cut short is truncated input" 65 sit-aes -d -k key h.cut
errmatch "cut signer block: message" '^sit-aes: truncated input$'
head -c $((SB + 56 + 32 + 16 + 63)) s.0 >h.nosig
expect "a signature cut short is truncated input" 65 sit-aes -d -k key h.nosig
errmatch "cut signature: message" '^sit-aes: truncated input$'
# Version 1 with the signer block left in: the stanzas end, then what a
# version 1 reader takes for the MAC does not match.
mkhdr 8 01 s.1 h.v1
expect "a signed stream relabelled version 1 refused" 65 sit-aes -d -k key h.v1
errmatch "relabelled: header MAC" 'tampered in the header'

# Replays: the ledger refuses a second delivery, keeps the first copy.
sit-aes -e -k key --sign alice <p.1 >once.sit
expect "first delivery accepted" 0 sit-aes -d -k key --from "$(cat alice.pub)" --replay-ledger L -o first once.sit
same "first delivery: plaintext" p.1 first
check "ledger is mode 0600" test "$(stat -c %a L)" = 600
check "ledger holds one entry: ID CREATED ACCEPTED" test "$(grep -cE '^[0-9a-f]{32} [0-9]+ [0-9]+$' L)" = 1
expect "replay refused" 65 sit-aes -d -k key --from "$(cat alice.pub)" --replay-ledger L -o second once.sit
errmatch "replay: message says when it was received" '^sit-aes: replayed: message [0-9a-f]{32} was already received at 20[0-9-]{8} [0-9:]{8} UTC$'
absent "replay: no second output" second
same "replay: the first copy is kept" p.1 first
expect "replay to stdout refused, nothing written" 65 sit-aes -d -k key --replay-ledger L once.sit
check "replay to stdout: empty" test ! -s out
expect "the same plaintext sealed again is a new message" 0 sit-aes -d -k key --replay-ledger L -o again <(sit-aes -e -k key --sign alice <p.1)
check "ledger: two entries" test "$(grep -vc '^#' L)" = 2
expect "without the ledger the replay opens (no ledger, no memory)" 0 sit-aes -d -k key -o r.nol once.sit
expect "an unsigned stream is refused under --replay-ledger" 65 sit-aes -d -k key --replay-ledger L u.$C
errmatch "unsigned under the ledger: message" 'not signed, and only signed streams are accepted here'
sit-aes -e -k key --sign alice <p.1 >bad.sit
printf 'x' | dd of=bad.sit bs=1 seek=$((27 + 67 + 56 + 32 + 3)) conv=notrunc status=none
before=$(grep -vc '^#' L)
expect "a tampered stream is refused under the ledger" 65 sit-aes -d -k key --replay-ledger L bad.sit
check "a refused stream is not recorded" test "$(grep -vc '^#' L)" = "$before"
chmod 622 L
expect "a ledger writable by others is refused" 73 sit-aes -d -k key --replay-ledger L s.1
errmatch "writable ledger: message" 'is writable by group or others'
chmod 600 L
ln -s L Llink
expect "a ledger that is a symbolic link is refused" 73 sit-aes -d -k key --replay-ledger Llink s.1
printf 'not a ledger line\n' >Lbad
expect "a malformed ledger is refused" 65 sit-aes -d -k key --replay-ledger Lbad s.1
errmatch "malformed ledger: names the line" '^sit-aes: the ledger Lbad: line 1 is not'
# A line cut by a crash is dropped, and the ledger written anew.
cp L Ltorn; printf '0123456789abcdef' >>Ltorn
expect "a torn last line is tolerated" 0 sit-aes -d -k key --replay-ledger Ltorn -o r.torn s.1
check "the torn line is gone, the entries kept, the new one added" \
	test "$(grep -vc '^#' Ltorn)" = 3 -a "$(grep -c 0123456789abcdef Ltorn)" = 0
expect "a replay is still refused after the rewrite" 65 sit-aes -d -k key --replay-ledger Ltorn once.sit
notemp "no temporary ledger left" .

# The window: made more than --max-age ago, or over 10 minutes ahead.
if [ $havepy = 1 ]; then
	now=$(date +%s)
	at() { py -e -k key --sign alice --created "$1" p.1 >"$2"; }
	at $((now - 1000 + 30)) w.inside-old
	at $((now - 1000 - 30)) w.outside-old
	at $((now + 600 - 30)) w.inside-new
	at $((now + 600 + 30)) w.outside-new
	expect "made just within --max-age: accepted" 0 sit-aes -d -k key --replay-ledger W --max-age 1000 -o r.w1 w.inside-old
	expect "made just over --max-age ago: refused" 65 sit-aes -d -k key --replay-ledger W --max-age 1000 -o r.w2 w.outside-old
	errmatch "too old: message" '^sit-aes: message too old: made at .* UTC, more than 1000 s ago \(--max-age\)$'
	absent "too old: no output" r.w2
	expect "made just within the clock skew ahead: accepted" 0 sit-aes -d -k key --replay-ledger W --max-age 1000 -o r.w3 w.inside-new
	expect "made over 10 minutes ahead: refused" 65 sit-aes -d -k key --replay-ledger W --max-age 1000 -o r.w4 w.outside-new
	errmatch "from the future: message" '^sit-aes: message from the future: made at .* UTC, more than 600 s ahead of this clock$'
	expect "--max-age alone checks the window" 65 sit-aes -d -k key --max-age 1000 w.outside-old
	check "--max-age alone records nothing" test "$(grep -vc '^#' W)" = 2
	at $((now - 8 * 86400)) w.week
	expect "the default --max-age with a ledger is 7 days" 65 sit-aes -d -k key --replay-ledger W w.week
	# Entries outside the window are dropped when the ledger is opened.
	printf '%s %s %s\n' 00000000000000000000000000000001 $((now - 2000)) $((now - 2000)) >>W
	expect "an entry older than the window is dropped on the next open" 0 sit-aes -d -k key --replay-ledger W --max-age 1000 -o r.w5 s.1
	check "the old entry is gone, the recent ones kept" \
		test "$(grep -c '^00000000000000000000000000000001 ' W)" = 0 -a "$(grep -vc '^#' W)" = 3
	# sitaes.py reads the same ID and time from a sit-aes stream.
	sit-aes -d -v -k key -o /dev/null s.1 2>c.v; grep -E 'signed by|message' c.v | sed 's/^sit-aes: //' >c.claims
	py -d -v -k key s.1 2>p.v >/dev/null; sed 's/^sitaes.py: //' p.v >p.claims
	same "Python reads the signer, message ID and time sit-aes reports" c.claims p.claims
else
	skip "time window" "$PY lacks python3-cryptography or python3-argon2"
fi

# Two receivers on one ledger at once: the same stream is accepted once;
# two different streams both, and both recorded.
sit-aes -e -k key --sign alice <p.$((C + 1)) >race.sit
sit-aes -e -k key --sign alice <p.$((C + 1)) >race2.sit
for round in 1 2 3; do
	rm -f R r1 r2
	sit-aes -d -k key --replay-ledger R -o r1 race.sit 2>e1 & a=$!
	sit-aes -d -k key --replay-ledger R -o r2 race.sit 2>e2 & b=$!
	wait $a; ra=$?; wait $b; rb=$?
	check "round $round: one receiver accepts the stream, the other refuses it ($ra, $rb)" \
		test "$(( (ra == 0) + (rb == 0) ))" = 1 -a "$(( (ra == 65) + (rb == 65) ))" = 1
	check "round $round: the refusal is a replay" grep -q 'replayed' e1 e2
	check "round $round: one output, one ledger line" test "$(ls r1 r2 2>/dev/null | wc -l)" = 1 -a "$(grep -vc '^#' R)" = 1
done
rm -f R
sit-aes -d -k key --replay-ledger R -o d1 race.sit & a=$!
sit-aes -d -k key --replay-ledger R -o d2 race2.sit & b=$!
wait $a; ra=$?; wait $b; rb=$?
check "two different streams at once: both accepted ($ra, $rb)" test "$ra$rb" = 00
check "two different streams at once: both recorded" test "$(grep -vc '^#' R)" = 2

# Known-answer vectors with --from-file (tests/vectors/MANIFEST.sign), in
# sit-aes and in sitaes.py.
V=$SIT_ROOT/tests/vectors
while read -r file keyopt keyfile signers want msg; do
	case "$file" in ''|'#'*) continue ;; esac
	cp "$V/$keyfile" kf; chmod 600 kf
	cp "$V/$signers" sg
	if [ "$want" = 0 ]; then
		expect "vector $file opens with --from-file" 0 sit-aes -d "$keyopt" kf --from-file sg -o vec.out "$V/$file"
		same "vector $file plaintext" "$V/$msg" vec.out
		rm -f vec.out
	else
		expect "vector $file refused with --from-file" "$want" sit-aes -d "$keyopt" kf --from-file sg "$V/$file"
		errmatch "vector $file message" "$msg"
	fi
	if [ $havepy = 1 ]; then
		expect "py: vector $file with --from-file" "$want" py -d "$keyopt" kf --from-file sg "$V/$file"
		if [ "$want" = 0 ]; then same "py: vector $file plaintext" "$V/$msg" out
		else errmatch "py: vector $file message" "${msg/#^sit-aes:/^sitaes.py:}"; fi
	fi
done <"$V/MANIFEST.sign"
