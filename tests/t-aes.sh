#!/bin/bash
# sit-aes: round trips, tampering, truncation, keys, limits, deadline, vectors.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
C=65536

sit-aes --gen-key -o key >/dev/null
sit-aes --gen-key -o other >/dev/null
sit-aes --gen-identity -o id >id.pub
sit-aes --gen-identity -o id2 >id2.pub
printf 'correct horse battery staple\n' >pass; chmod 600 pass
printf 'wrong\n' >wrongpass; chmod 600 wrongpass

# Round trips at the sizes where chunk and batch boundaries fall.
for n in 0 1 $((C - 1)) $C $((C + 1)) $((3 * C + 7)) $((16 * C - 1)) $((16 * C)) $((16 * C + 1)) $((33 * C + 5)); do
	head -c "$n" /dev/urandom >p.$n
	sit-aes -e -k key <p.$n >c.$n && sit-aes -d -k key <c.$n >r.$n
	same "round trip $n bytes" p.$n r.$n
	want=$((n + 27 + 67 + 32 + 16 * ( n / C + 1 )))
	[ $((n % C)) = 0 ] && [ "$n" != 0 ] && want=$((want - 16))
	check "sealed size of $n bytes is header + n + 16 per chunk" test "$(stat -c %s c.$n)" = "$want"
done

# 64 MiB through pipes, compared by digest so nothing large is kept twice.
want=$(head -c 64M /dev/zero | tr '\0' 'x' | sha256sum)
got=$(head -c 64M /dev/zero | tr '\0' 'x' | sit-aes -e -k key | sit-aes -d -k key | sha256sum)
check "round trip 64 MiB through pipes" test "$want" = "$got"

# The same plaintext twice gives different ciphertexts (fresh file key and nonce).
sit-aes -e -k key <p.1 >c.1b
check "two encryptions differ" test "$(cmp -s c.1 c.1b; echo $?)" = 1

# Keys: each recipient opens a multi-recipient file; wrong ones do not.
sit-aes -e -r "$(cat id.pub)" -R id2.pub <p.$((C + 1)) >multi
expect "identity 1 opens a multi-recipient file" 0 sit-aes -d -i id -o r.i1 multi
expect "identity 2 opens it" 0 sit-aes -d -i id2 -o r.i2 multi
same "identity 1 gives the plaintext" p.$((C + 1)) r.i1
same "identity 2 gives the plaintext" p.$((C + 1)) r.i2
sit-aes -e -k key <p.$((C + 1)) >keyed
expect "key file opens its file" 0 sit-aes -d -k other -k key -o r.k keyed
same "key file gives the plaintext" p.$((C + 1)) r.k
# The default Argon2id cost, which the default limit of opening accepts.
sit-aes -e -p pass <p.$((C + 1)) >pass.sit
expect "passphrase opens its file (default cost)" 0 sit-aes -d -p pass -o r.p pass.sit
same "passphrase gives the plaintext" p.$((C + 1)) r.p
sit-aes -e -p pass --pass-ops 1 --pass-mem 8 <p.1 >pass8.sit
expect "passphrase from a descriptor" 0 sit-aes -d --passphrase-fd 3 -o r.fd pass8.sit 3<pass
same "descriptor passphrase gives the plaintext" p.1 r.fd
expect "wrong key file refused" 65 sit-aes -d -k other -o r.bad keyed
errmatch "wrong key message" '^sit-aes: wrong passphrase or key \(or not encrypted to it\)$'
absent "no output after a wrong key" r.bad
sit-aes -e -r "$(cat id.pub)" <p.1 >to-id
expect "wrong identity refused" 65 sit-aes -d -i id2 to-id
errmatch "wrong identity message" 'wrong passphrase or key'
expect "wrong passphrase refused" 65 sit-aes -d -p wrongpass pass8.sit
errmatch "wrong passphrase message" 'wrong passphrase or key'

# A key file or a passphrase seals alone (sit(5), issue #15): beside another
# stanza, that recipient learns the file key and could forge a stream the
# key-file or passphrase holder accepts.  Refused before any passphrase is
# asked for (-P here has no terminal); opening such a stream is refused by
# the vectors at the end (mixed-*, two-keyfile, forged-by-identity).
ALONE='^sit-aes: a key file or passphrase must be the only key of a stream \(here '
alone() { # NAME SIT-AES-OPTIONS...
	local name=$1
	shift
	expect "sealing $name refused" 64 setsid sit-aes -e "$@" -o mixed.sit p.1
	errmatch "sealing $name: message" "$ALONE"
	absent "sealing $name: no output" mixed.sit
}
alone "for a key file and a recipient" -k key -r "$(cat id.pub)"
errmatch "mixed sealing message says why" \
	'^sit-aes: a key file or passphrase must be the only key of a stream \(here 1 key file, 1 recipient\): any other recipient could forge streams it accepts; seal once for each$'
alone "for a key file and a recipients file" -k key -R id2.pub
alone "for a passphrase and a recipient" -p pass -r "$(cat id.pub)"
alone "for a passphrase from a descriptor and a key file" --passphrase-fd 3 -k key 3<pass
alone "for a key file and -P" -k key -P
alone "for two key files" -k key -k other
cat key other >twokeys; chmod 600 twokeys
alone "for a key file of two keys" -k twokeys
errmatch "two-key message counts them" '\(here 2 key files, 0 recipients\)'
check "--public gives the recipient" test "$(sit-aes --public -i id)" = "$(cat id.pub)"

# A key, identity or passphrase file owned by another user is refused, root
# included: its owner can swap it for a key of their choosing.  The tests run
# as root, who can read a 0600 file of nobody's: only the owner check stops it.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && cp key theirs && chown nobody theirs; then
	chmod 600 theirs
	nobody=$(id -u nobody)
	expect "key file of another user refused, also for root" 66 sit-aes -e -k theirs -o o.sit p.1
	errmatch "other user's key file: message names the file and why" \
		"^sit-aes: theirs is owned by another user \\(uid $nobody, we are uid 0\\): chown it or use a copy of your own\$"
	absent "other user's key file: no output" o.sit
	cp id theirid; chown nobody theirid
	expect "identity of another user refused" 66 sit-aes -d -i theirid to-id
	errmatch "other user's identity: message" '^sit-aes: theirid is owned by another user'
	cp pass theirpass; chown nobody theirpass
	expect "passphrase file of another user refused" 66 sit-aes -d -p theirpass pass8.sit
	errmatch "other user's passphrase file: message" '^sit-aes: theirpass is owned by another user'
	expect "another user's key through a pipe, deliberately, is accepted" 0 \
		sit-aes -d -k <(cat theirs) -o r.pipe keyed
	chown 0 theirs
	expect "the same file, owned by us, is accepted" 0 sit-aes -d -k theirs -o r.own keyed
else
	skip "key files of another user" "needs root and a nobody user to chown to"
fi
cp key loose; chmod 640 loose
expect "group-readable key file refused" 66 sit-aes -e -k loose p.1
errmatch "loose key message names the file" '^sit-aes: loose is accessible by group or others'
cp pass loosepass; chmod 604 loosepass
expect "world-readable passphrase file refused" 66 sit-aes -e -p loosepass p.1
sed 's/sitkey1:./sitkey1:A/' key >typo; chmod 600 typo
[ "$(cmp -s key typo; echo $?)" = 1 ] || sed -i 's/sitkey1:./sitkey1:B/' typo
expect "mistyped key caught by its checksum" 65 sit-aes -e -k typo p.1
errmatch "mistyped key message" 'damaged sitkey1 key'
expect "a recipient with a typo is refused" 65 sit-aes -e -r "sitpub1:AAAA" p.1
expect "no key and no terminal is a usage error" 64 setsid sit-aes -e p.1
expect "-r with -d is a usage error" 64 sit-aes -d -r "$(cat id.pub)" c.1
expect "unknown option" 64 sit-aes -e -k key --frobnicate

# Tampering: every single-bit flip of a small sealed file is refused, and
# so is every truncation.  One Python process drives all the runs.  Under
# the sanitizers (start-up is slow there) one flip per byte, rotating the
# bit, covers every byte in an eighth of the time; the release run flips
# every bit.
head -c 16 /dev/urandom >small
sit-aes -e -k key <small >small.sit
case $SIT_BIN in */build/asan/bin) every_bit=0 ;; *) every_bit=1 ;; esac
python3 - small.sit "$every_bit" <<'PY' >flips.log
import subprocess, sys
data = open(sys.argv[1], "rb").read()
every_bit = sys.argv[2] == "1"
bad = []
def run(blob):
    r = subprocess.run(["sit-aes", "-d", "-k", "key"], input=blob, capture_output=True)
    return r.returncode, r.stdout
flips = range(len(data) * 8) if every_bit else [8 * j + j % 8 for j in range(len(data))]
for i in flips:
    b = bytearray(data); b[i // 8] ^= 1 << (i % 8)
    rc, out = run(bytes(b))
    if rc != 65 or out: bad.append(("flip", i, rc))
for n in range(len(data)):
    rc, out = run(data[:n])
    if rc != 65 or out: bad.append(("cut", n, rc))
rc, out = run(data + b"\0")
if rc != 65: bad.append(("trailing", 1, rc))
print(len(flips), len(data), len(bad), bad[:5])
PY
read -r nflips ncuts nbad rest <flips.log
check "$nflips bit flips (every byte) and all $ncuts truncations refused with 65 and no output ($rest)" test "$nbad" = 0

# Chunks reordered, dropped, duplicated or cut at a boundary.
H=$((27 + 67 + 32)); CT=$((C + 16))
head -c $((3 * C)) /dev/urandom >p3; sit-aes -e -k key <p3 >c3
chunk() { tail -c +$((H + $1 * CT + 1)) c3 | head -c $CT; }
head -c $H c3 >hdr
{ cat hdr; chunk 1; chunk 0; chunk 2; } >swapped
{ cat hdr; chunk 0; chunk 2; } >dropped
{ cat hdr; chunk 0; chunk 0; chunk 1; chunk 2; } >duplicated
{ cat hdr; chunk 0; chunk 1; } >cutoff
expect "swapped chunks refused" 65 sit-aes -d -k key -o res swapped
errmatch "swapped chunks message gives the offset" "^sit-aes: data corrupted or tampered at byte $H\$"
absent "no output after swapped chunks" res
expect "dropped chunk refused" 65 sit-aes -d -k key dropped
errmatch "dropped chunk message" "tampered at byte $((H + CT))"
expect "duplicated chunk refused" 65 sit-aes -d -k key duplicated
expect "stream cut at a chunk boundary refused" 65 sit-aes -d -k key cutoff
errmatch "cut stream message" '^sit-aes: truncated input$'
{ cat c3; printf 'x'; } >trailing
expect "trailing byte after the last chunk refused" 65 sit-aes -d -k key trailing
expect "empty input is not a sealed stream" 65 sit-aes -d -k key </dev/null
errmatch "empty input message" 'not a sit-aes stream'
printf 'SITAES\r\n\003' >v3
expect "version 3 refused" 65 sit-aes -d -k key v3
errmatch "version message" '^sit-aes: unsupported version 3 \(this sit-aes reads versions 1 and 2\)$'
head -c 5 c3 >short
expect "5 bytes of magic are truncated input" 65 sit-aes -d -k key short
errmatch "short magic message" 'truncated input'
expect "header only is truncated input" 65 sit-aes -d -k key hdr
errmatch "header only message" 'truncated input'

# -o: never a partial or unauthenticated file; no replacement without -f.
expect "tampered stream with -o" 65 sit-aes -d -k key -o got swapped
absent "-o leaves nothing after tampering" got
notemp "no temporary files left" .
echo precious >exists
expect "existing output not replaced" 73 sit-aes -e -k key -o exists p.1
errmatch "existing output message" 'exists already|already exists'
check "existing file untouched" grep -q precious exists
expect "-f replaces it" 0 sit-aes -e -k key -f -o exists p.1
expect "missing input" 66 sit-aes -e -k key no-such-file

# Passphrase cost: a header asking for more than the limit is refused before
# any Argon2id work; the limit can be raised.
sit-aes -e -p pass --pass-mem 64 --pass-ops 1 <p.1 >cost64
expect "cost above --max-pass-mem refused" 65 sit-aes -d -p pass --max-pass-mem 32 cost64
errmatch "cost message" 'above the limit'
expect "cost within a raised limit accepted" 0 sit-aes -d -p pass --max-pass-mem 64 -o r.cost cost64
# The default limit is twice the passes and twice the memory that -e writes
# by default (3 and 256 MiB): 6 passes and 512 MiB, about four times the
# work.  Above it (and below the old 16 passes and 1 GiB) is refused, naming
# the option that accepts it.
sit-aes -e -p pass --pass-ops 7 --pass-mem 8 <p.1 >ops7
expect "7 passes, over the default limit, refused" 65 sit-aes -d -p pass -o r.ops7 ops7
errmatch "7 passes: message names --max-pass-ops" \
	'^sit-aes: passphrase cost in the header \(7 passes, 8192 KiB\) is above the limit \(6 passes, 524288 KiB\); to accept it, give --max-pass-ops 7$'
absent "7 passes: no output" r.ops7
expect "7 passes accepted with --max-pass-ops 7" 0 sit-aes -d -p pass --max-pass-ops 7 -o r.ops7 ops7
same "7 passes: plaintext" p.1 r.ops7
sit-aes -e -p pass --pass-ops 6 --pass-mem 8 <p.1 >ops6
expect "6 passes, the default limit, accepted" 0 sit-aes -d -p pass -o r.ops6 ops6
sit-aes -e -p pass --pass-ops 1 --pass-mem 513 <p.1 >mem513
expect "513 MiB, over the default limit, refused" 65 sit-aes -d -p pass -o r.mem513 mem513
errmatch "513 MiB: message names --max-pass-mem" \
	'^sit-aes: passphrase cost in the header \(1 passes, 525312 KiB\) is above the limit \(6 passes, 524288 KiB\); to accept it, give --max-pass-mem 513$'
expect "513 MiB accepted with --max-pass-mem 513" 0 sit-aes -d -p pass --max-pass-mem 513 -o r.mem513 mem513
same "513 MiB: plaintext" p.1 r.mem513
# Both over: the old limit exactly (16 passes, 1 GiB), forged into ops7.
python3 -c 'import sys; d=bytearray(open("ops7","rb").read()); d[46:54]=(16).to_bytes(4,"little")+(1<<20).to_bytes(4,"little"); sys.stdout.buffer.write(d)' >old-limit
expect "16 passes and 1 GiB (the old limit) refused" 65 sit-aes -d -p pass old-limit
errmatch "16 passes and 1 GiB: message names both options" \
	'\(16 passes, 1048576 KiB\) is above the limit \(6 passes, 524288 KiB\); to accept it, give --max-pass-ops 16 --max-pass-mem 1024$'
# Forge a cost of 2^32-1 KiB in the stanza (bytes 27+3+16+4.. of the file).
python3 -c 'import sys; d=bytearray(open("cost64","rb").read()); d[50:54]=b"\xff\xff\xff\xff"; sys.stdout.buffer.write(d)' >hostile
start=$(date +%s%N)
expect "hostile 4 TiB cost refused" 65 sit-aes -d -p pass hostile
check "refused in under a second" test $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000
errmatch "4 TiB: no option can accept it" \
	'above the limit \(6 passes, 524288 KiB\); more than --max-pass-ops and --max-pass-mem can allow \(1000 passes, 4194303 MiB\)$'

# The deadline: a sender that stalls mid-stream.
( head -c 1000 c3; sleep 4 ) | { expect "deadline fires on a stalled pipe" 75 sit-aes -d -k key --deadline 1 -o late; }
errmatch "deadline message asks for a resend" '^sit-aes: deadline of 1 s passed, output discarded: ask the sender to resend$'
absent "no output after the deadline" late
notemp "no temporary file after the deadline" .
expect "--deadline only with -d" 64 sit-aes -e -k key --deadline 3 p.1

# Known-answer vectors committed under tests/vectors: they must keep opening.
V=$SIT_ROOT/tests/vectors
while read -r file keyopt keyfile want msg; do
	case "$file" in ''|'#'*) continue ;; esac
	cp "$V/$keyfile" kf; chmod 600 kf
	if [ "$want" = 0 ]; then
		expect "vector $file opens" 0 sit-aes -d "$keyopt" kf -o vec.out "$V/$file"
		same "vector $file plaintext" "$V/$msg" vec.out
		rm -f vec.out
	else
		expect "vector $file refused" "$want" sit-aes -d "$keyopt" kf "$V/$file"
		errmatch "vector $file message" "$msg"
	fi
done <"$V/MANIFEST"
