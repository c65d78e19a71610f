#!/bin/bash
# sit(5) interoperability: tests/interop/sitaes.py, written from the man page
# alone, opens every known-answer vector, and streams go both ways between it
# and sit-aes byte-identically.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
C=65536
V=$SIT_ROOT/tests/vectors
# Debian's interpreter: that is where python3-cryptography and python3-argon2 live.
PY=${SIT_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import cryptography, argon2.low_level' 2>/dev/null; then
	skip "interop" "$PY lacks python3-cryptography or python3-argon2 (scripts/install-deps)"
	exit 0
fi
py() { "$PY" "$SIT_ROOT/tests/interop/sitaes.py" "$@"; }

# Every vector opens in Python, or fails with the same message as sit-aes.
while read -r file opt keyfile code want; do
	case $file in '#'* | '') continue ;; esac
	expect "py opens $file $opt" "$code" py -d "$opt" "$V/$keyfile" "$V/$file"
	if [ "$code" = 0 ]; then same "py plaintext of $file $opt" "$T/out" "$V/$want"
	else errmatch "py message for $file" "${want/#^sit-aes:/^sitaes.py:}"; fi
done <"$V/MANIFEST"

# Keys made by sit-aes serve Python and the other way round.
sit-aes --gen-key -o key >/dev/null
sit-aes --gen-identity -o id >id.pub
py --gen-key >pykey
py --gen-identity >pyid
chmod 600 pykey pyid
grep '^# public key: ' pyid | cut -d' ' -f4 >pyid.pub
printf 'interop passphrase\n' >pass; chmod 600 pass
expect "sit-aes derives the public key of a Python identity" 0 sit-aes --public -i pyid
same "public keys agree" "$T/out" pyid.pub
expect "Python derives the public key of a sit-aes identity" 0 py --public -i id
same "public keys agree (2)" "$T/out" id.pub

cost=(--pass-mem 8 --pass-ops 1)
# Sets $seal and $open: the options that seal to / open with KIND of key whose
# files start with PREFIX ("" for sit-aes's keys, "py" for Python's).
key_opts() { # KIND PREFIX
	case $1 in
	key) seal=(-k "$2key") open=(-k "$2key") ;;
	recipient) seal=(-R "$2id.pub") open=(-i "$2id") ;;
	pass) seal=(-p pass "${cost[@]}") open=(-p pass) ;;
	esac
}
# Chunking does not depend on the stanza kind: every size with a key file,
# the other kinds at two sizes, so the test stays quick with Python's start-up.
for n in 0 1 $((C - 1)) $C $((C + 1)) 200000; do
	head -c "$n" /dev/urandom >"p.$n"
	kinds="key"
	case $n in 1 | $((C + 1))) kinds="key recipient pass" ;; esac
	for kind in $kinds; do
		# Python seals (to a sit-aes key), sit-aes opens.
		key_opts "$kind" ""
		py -e "${seal[@]}" "p.$n" >"py.$kind.$n"
		expect "sit-aes opens Python's $n bytes ($kind)" 0 sit-aes -d "${open[@]}" "py.$kind.$n"
		same "byte-identical ($kind, $n bytes)" "$T/out" "p.$n"
		# sit-aes seals (to a Python key), Python opens.
		key_opts "$kind" py
		sit-aes -e "${seal[@]}" "p.$n" >"c.$kind.$n"
		expect "Python opens sit-aes's $n bytes ($kind)" 0 py -d "${open[@]}" "c.$kind.$n"
		same "byte-identical back ($kind, $n bytes)" "$T/out" "p.$n"
	done
	chunks=$((n / C + 1))
	[ $((n % C)) = 0 ] && [ "$n" != 0 ] && chunks=$((chunks - 1))
	check "Python's size for $n bytes matches sit(5)" \
		test "$(stat -c %s "py.key.$n")" = "$((27 + 67 + 32 + n + 16 * chunks))"
done

# Several stanzas in one Python stream, X25519 only: a key file or passphrase
# must stand alone (sit(5)).  Each identity finds its own stanza.
py -e -R pyid.pub -R id.pub p.$((C + 1)) >multi
expect "sit-aes opens Python's multi-recipient stream" 0 sit-aes -d -i id multi
same "multi-recipient plaintext" "$T/out" p.$((C + 1))
sit-aes -e -R id.pub -R pyid.pub -o multi.c p.$((C + 1))
expect "Python opens sit-aes's multi-recipient stream" 0 py -d -i pyid multi.c
same "multi-recipient plaintext back" "$T/out" p.$((C + 1))
# Neither seals a key file or a passphrase beside another key.
expect "Python refuses to seal a key file beside a recipient" 64 py -e -k key -R id.pub p.1
expect "Python refuses to seal a passphrase beside a key file" 64 py -e -k key -p pass p.1
expect "sit-aes refuses to seal a key file beside a recipient" 64 sit-aes -e -k pykey -R pyid.pub p.1

# sit-aes refuses a Python stream with one flipped byte, with the same message
# Python gives; and a stream cut at a chunk boundary is "truncated" for both.
flip() { # FILE OFFSET OUT
	cp "$1" "$3"
	# shellcheck disable=SC2059 # the format is the octal escape of the byte
	printf "$(printf '\\%03o' $(( $(od -An -tu1 -j "$2" -N1 "$1") ^ 0x40 )))" |
		dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
s=py.key.200000
flip $s 126 bad.payload; flip $s $((126 + C + 16 + 5)) bad.chunk1
flip $s 12 bad.nonce; flip $s 30 bad.salt; flip $s 8 bad.version
head -c $((126 + 2 * (C + 16))) $s >bad.cut
for b in payload:'at byte 126' chunk1:"at byte $((126 + C + 16))" nonce:'in the header' \
	salt:'wrong passphrase or key' version:'unsupported version 65' cut:'truncated input'; do
	f=bad.${b%%:*} msg=${b#*:}
	expect "sit-aes refuses $f" 65 sit-aes -d -k key "$f"
	errmatch "sit-aes says $msg" "^sit-aes: .*$msg"
	expect "Python refuses $f" 65 py -d -k key "$f"
	errmatch "Python says $msg" "^sitaes.py: .*$msg"
done

# Where sit(5) is terse, Python follows what sit-aes does: the passphrase is the
# first line of the file without LF or CR LF, and a cut leaving less than a tag,
# or only an empty last chunk after a full one, is "truncated input".
printf 'interop passphrase\r\nsecond line\n' >pass2; chmod 600 pass2
expect "Python takes the first line of a CR LF passphrase file" 0 py -d -p pass2 py.pass.1
same "first-line passphrase plaintext" "$T/out" p.1
s=py.key.$((C + 1))
for n in 9 141 142 $((126 + C + 16)) $((126 + C + 32)); do
	head -c "$n" "$s" >cut.sit
	sit-aes -d -k key cut.sit 2>&1 >/dev/null | sed 's/^sit-aes: //' >cut.c
	py -d -k key cut.sit 2>&1 >/dev/null | sed 's/^sitaes.py: //' >cut.py
	check "cut after $n bytes: same message ($(cat cut.c))" test -s cut.c
	same "cut after $n bytes: same message" cut.c cut.py
done

# sit-image(5): tests/interop/sitimage.py, written from the page, checks the
# header and the version 2 payload checksum of what sit-share and
# sit-visual write, at sizes that end inside a word, a lane group and not.
bad=""
for n in 0 1 7 8 31 33 1000 77777; do
	head -c "$n" /dev/urandom >ip
	sit-share -i ip --pam ia.pam ib.pam && sit-visual -e -o iv.pam ip || bad="$bad $n(make)"
	for f in ia.pam ib.pam iv.pam; do
		/usr/bin/python3 "$SIT_ROOT/tests/interop/sitimage.py" "$f" >/dev/null 2>ierr ||
			bad="$bad $n:$f:$(cat ierr)"
	done
	rm -f ia.pam ib.pam iv.pam
done
if [ -z "$bad" ]; then pass "sit-image(5) checksums match a second implementation"; else fail "sit-image(5) interop" "$bad"; fi
