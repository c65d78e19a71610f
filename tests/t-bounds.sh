#!/bin/bash
# Bounds on what a sealed header may ask for (lib/seal.c, sit(5)): stanza
# count, stanza size, passphrase stanzas, Argon2id cost.  Each hostile header
# is written here byte by byte and must be refused with exit 65, its message,
# and in well under a second of CPU (no work is done on the receiver's behalf).
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

sit-aes --gen-key -o key >/dev/null
printf 'pw\n' >pass; chmod 600 pass

# One byte of value $1, little-endian fields, zero filler.
byte() { printf '%b' "\\x$(printf %02x "$1")"; }
le16() { byte $(($1 & 255)); byte $(($1 >> 8 & 255)); }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }
zeros() { head -c "$1" /dev/zero; }
# Fixed part: magic "SITAES\r\n", version 1, flags 0, 16-byte nonce, count.
fixed() { printf 'SITAES\r\n\001\000'; zeros 16; byte "$1"; }
# A stanza: type byte, 16-bit body length, then LEN bytes of zeros.
stanza() { byte "$1"; le16 "$2"; zeros "$2"; }
# A passphrase stanza: 16-byte salt, ops, memory in KiB, 48-byte wrapped key.
pass_stanza() { printf '\003'; le16 72; zeros 16; le32 "$1"; le32 "$2"; zeros 48; }
mac() { zeros 32; }
# N empty stanzas of the unknown type 9 (builtins only: this runs 129 times).
unknown_stanzas() { local i; for ((i = 0; i < $1; i++)); do printf '\011\000\000'; done; }

# refused NAME FILE REGEX [sit-aes options]: exit 65, that message, and less
# than a second of CPU (user + system).  CPU, not wall-clock time: a loaded
# machine or a sanitizer build must not fail the test, while the work a
# hostile cost would cause (2 GiB of Argon2id, 2^32 passes) still does.
refused() {
	local name=$1 file=$2 re=$3 cpu TIMEFORMAT='%3U %3S'
	shift 3
	cpu=$( { time expect "$name refused" 65 sit-aes -d "$@" -o result "$file" \
		>"$T/expect.log"; } 2>&1 )
	cat "$T/expect.log"
	check "$name refused in under a second of CPU ($cpu s)" \
		awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { exit !(u + s < 1) }'
	errmatch "$name message" "$re"
	absent "$name leaves no output" result
}
WRONG='^sit-aes: wrong passphrase or key \(or not encrypted to it\)$'

# Stanza count: 1 to 64.
{ fixed 0; mac; } >count0
refused "0 stanzas" count0 '^sit-aes: malformed header: 0 stanzas \(1 to 64 allowed\)$' -k key
{ fixed 65; unknown_stanzas 65; mac; } >count65
refused "65 stanzas" count65 '^sit-aes: malformed header: 65 stanzas \(1 to 64 allowed\)$' -k key
{ fixed 255; mac; } >count255
refused "255 stanzas" count255 'malformed header: 255 stanzas' -k key
# 64 stanzas of an unknown type are read to the end: only then "wrong key".
{ fixed 64; unknown_stanzas 64; mac; } >count64
refused "64 stanzas (the limit) read, no key fits:" count64 "$WRONG" -k key

# Stanza body: at most 512 bytes, checked before it is read.
{ fixed 1; stanza 9 513; mac; } >body513
refused "stanza body of 513 bytes" body513 \
	'^sit-aes: malformed header: stanza of 513 bytes \(at most 512\)$' -k key
{ fixed 1; printf '\011'; le16 65535; } >body65535
refused "stanza body of 65535 bytes" body65535 'stanza of 65535 bytes \(at most 512\)' -k key
{ fixed 1; stanza 9 512; mac; } >body512
refused "stanza body of 512 bytes (the limit) read, no key fits:" body512 "$WRONG" -k key
{ fixed 1; printf '\011'; le16 512; zeros 100; } >bodycut
refused "stanza body cut short" bodycut '^sit-aes: truncated input$' -k key
# Known types have exactly one body size.
{ fixed 1; stanza 2 63; mac; } >keyfile63
refused "key-file stanza of 63 bytes" keyfile63 'malformed header: bad key-file stanza' -k key
{ fixed 1; stanza 1 79; mac; } >x25519short
refused "X25519 stanza of 79 bytes" x25519short 'malformed header: bad X25519 stanza' -k key
{ fixed 1; stanza 3 71; mac; } >pass71
refused "passphrase stanza of 71 bytes" pass71 'malformed header: bad passphrase stanza' -p pass

# Several passphrase stanzas: each would cost an Argon2id run.
{ fixed 2; pass_stanza 1 8; pass_stanza 1 8; mac; } >twopass
refused "two passphrase stanzas" twopass '^sit-aes: malformed header: several passphrase stanzas$' -p pass
{ fixed 3; stanza 9 0; pass_stanza 1 8; pass_stanza 1 8; mac; } >twopass-key
refused "two passphrase stanzas, with a key file" twopass-key 'several passphrase stanzas' -k key

# Argon2id cost: at most 16 passes and 1 GiB unless raised; at least 1 and 8 KiB.
{ fixed 1; pass_stanza 17 1024; mac; } >ops17
refused "17 Argon2id passes" ops17 \
	'^sit-aes: passphrase cost in the header \(17 passes, 1024 KiB\) is above the limit \(16 passes, 1048576 KiB\); see --max-pass-ops and --max-pass-mem$' -p pass
{ fixed 1; pass_stanza 4294967295 8; mac; } >opsmax
refused "2^32-1 Argon2id passes" opsmax 'above the limit' -p pass
{ fixed 1; pass_stanza 1 2097152; mac; } >mem2g
refused "2 GiB of Argon2id memory" mem2g \
	'^sit-aes: passphrase cost in the header \(1 passes, 2097152 KiB\) is above the limit \(16 passes, 1048576 KiB\); see --max-pass-ops and --max-pass-mem$' -p pass
{ fixed 1; pass_stanza 1 4294967295; mac; } >memmax
refused "4 TiB of Argon2id memory" memmax 'above the limit' -p pass
{ fixed 1; pass_stanza 1 1025; mac; } >mem1025k
refused "1025 KiB above --max-pass-mem 1" mem1025k 'above the limit \(16 passes, 1024 KiB\)' -p pass --max-pass-mem 1
{ fixed 1; pass_stanza 3 8; mac; } >ops3
refused "3 passes above --max-pass-ops 2" ops3 'above the limit \(2 passes, 1048576 KiB\)' -p pass --max-pass-ops 2
{ fixed 1; pass_stanza 0 8; mac; } >ops0
refused "0 Argon2id passes" ops0 '^sit-aes: malformed header: passphrase cost too low$' -p pass
{ fixed 1; pass_stanza 1 7; mac; } >mem7k
refused "7 KiB of Argon2id memory" mem7k 'passphrase cost too low' -p pass
# At the limits the work is done (cheaply here) and only the key is wrong.
{ fixed 1; pass_stanza 16 8; mac; } >ops16
refused "16 passes (the limit) tried, the key does not fit:" ops16 "$WRONG" -p pass
{ fixed 1; pass_stanza 1 1024; mac; } >mem1024k
refused "1024 KiB at --max-pass-mem 1 tried, the key does not fit:" mem1024k "$WRONG" -p pass --max-pass-mem 1
