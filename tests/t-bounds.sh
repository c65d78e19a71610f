#!/bin/bash
# Bounds on every limit read from input, each written here byte by byte and
# refused with exit 65 and its message (and one at each limit taken):
#   sealed headers (lib/seal.c, sit(5)): stanza (recipient) count, stanza
#     size, passphrase stanzas, Argon2id cost, each refused in well under a
#     second of CPU (no work is done on the receiver's behalf);
#   image dimensions (lib/img.h): width, height, pixels, from every format's
#     header;
#   PAM/PNM headers (lib/pam.c): header length, line length, MAXVAL, DEPTH,
#     WIDTH;
#   share and sit-visual headers (sit-image(5)): K, N, x, payload length,
#     rows, version; the number of shares named;
#   the memory an image's declared size makes sit-visual -d and sit-unshare
#     take (lib/pixio.h, lib/pngstream.c): at most 64 MiB for a file whose
#     header promises 450 MB of samples that its body does not hold, from
#     a file and from a pipe.
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

# A passphrase or key-file stanza must be the only one (sit(5)): refused as
# it is read, whatever keys are held, so two passphrase stanzas never cost
# two Argon2id runs, and not even one.
{ fixed 2; pass_stanza 1 8; pass_stanza 1 8; mac; } >twopass
refused "two passphrase stanzas" twopass \
	'^sit-aes: malformed header: a passphrase stanza must be the only stanza \(this header has 2\)$' -p pass
{ fixed 3; stanza 9 0; pass_stanza 1 8; pass_stanza 1 8; mac; } >twopass-key
refused "two passphrase stanzas, with a key file" twopass-key 'a passphrase stanza must be the only stanza \(this header has 3\)' -k key
{ fixed 2; stanza 9 0; stanza 2 64; mac; } >keyfile-unknown
refused "a key-file stanza beside one of an unknown type" keyfile-unknown \
	'^sit-aes: malformed header: a key-file stanza must be the only stanza \(this header has 2\)$' -k key
{ fixed 2; stanza 2 64; stanza 1 80; mac; } >keyfile-x25519
refused "a key-file stanza before an X25519 one" keyfile-x25519 'a key-file stanza must be the only stanza' -k key
{ fixed 2; pass_stanza 16 8; stanza 1 80; mac; } >pass-x25519
refused "a passphrase stanza beside an X25519 one, not even tried:" pass-x25519 \
	'a passphrase stanza must be the only stanza \(this header has 2\)' -p pass
{ fixed 1; stanza 2 64; mac; } >keyfile-alone
refused "a key-file stanza alone (well formed), the key does not fit:" keyfile-alone "$WRONG" -k key

# Argon2id cost: at most 6 passes and 512 MiB unless raised; at least 1 and 8 KiB.
{ fixed 1; pass_stanza 7 1024; mac; } >ops7
refused "7 Argon2id passes" ops7 \
	'^sit-aes: passphrase cost in the header \(7 passes, 1024 KiB\) is above the limit \(6 passes, 524288 KiB\); to accept it, give --max-pass-ops 7$' -p pass
{ fixed 1; pass_stanza 4294967295 8; mac; } >opsmax
refused "2^32-1 Argon2id passes" opsmax 'above the limit' -p pass
{ fixed 1; pass_stanza 1 1048576; mac; } >mem1g
refused "1 GiB of Argon2id memory" mem1g \
	'^sit-aes: passphrase cost in the header \(1 passes, 1048576 KiB\) is above the limit \(6 passes, 524288 KiB\); to accept it, give --max-pass-mem 1024$' -p pass
{ fixed 1; pass_stanza 1 2097152; mac; } >mem2g
refused "2 GiB of Argon2id memory above --max-pass-mem 1024" mem2g \
	'\(1 passes, 2097152 KiB\) is above the limit \(6 passes, 1048576 KiB\); to accept it, give --max-pass-mem 2048$' -p pass --max-pass-mem 1024
{ fixed 1; pass_stanza 1 4294967295; mac; } >memmax
refused "4 TiB of Argon2id memory" memmax 'above the limit' -p pass
{ fixed 1; pass_stanza 1 1025; mac; } >mem1025k
refused "1025 KiB above --max-pass-mem 1" mem1025k 'above the limit \(6 passes, 1024 KiB\); to accept it, give --max-pass-mem 2$' -p pass --max-pass-mem 1
{ fixed 1; pass_stanza 3 8; mac; } >ops3
refused "3 passes above --max-pass-ops 2" ops3 'above the limit \(2 passes, 524288 KiB\)' -p pass --max-pass-ops 2
{ fixed 1; pass_stanza 0 8; mac; } >ops0
refused "0 Argon2id passes" ops0 '^sit-aes: malformed header: passphrase cost too low$' -p pass
{ fixed 1; pass_stanza 1 7; mac; } >mem7k
refused "7 KiB of Argon2id memory" mem7k 'passphrase cost too low' -p pass
# At the limits the work is done (cheaply here) and only the key is wrong.
{ fixed 1; pass_stanza 6 8; mac; } >ops6
refused "6 passes (the limit) tried, the key does not fit:" ops6 "$WRONG" -p pass
{ fixed 1; pass_stanza 1 1024; mac; } >mem1024k
refused "1024 KiB at --max-pass-mem 1 tried, the key does not fit:" mem1024k "$WRONG" -p pass --max-pass-mem 1

# ---- image dimensions (lib/img.h limits: 65535 x 65535, 150000000 pixels) ----
# Over a limit: refused by name before any pixel memory; at the limit: the
# header is taken and only the missing raster is refused.
pam_head() { printf 'P7\nWIDTH %s\nHEIGHT %s\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\nENDHDR\n' "$1" "$2"; }
img_refused() {
	local name=$1 file=$2 re=$3
	expect "$name refused" 65 sit-load -o result "$file"
	errmatch "$name message" "$re"
	absent "$name leaves no output" result
}
pam_head 65536 1 >w65536.pam
img_refused "width 65536" w65536.pam '^sit-load: image width 65536 is over the limit of 65535$'
pam_head 1 65536 >h65536.pam
img_refused "height 65536" h65536.pam '^sit-load: image height 65536 is over the limit of 65535$'
pam_head 12248 12248 >px150m.pam
img_refused "12248 x 12248 pixels" px150m.pam 'is over the limit of 150000000 pixels$'
{ pam_head 65535 1; head -c 65535 /dev/zero; } >w65535.pam
expect "width 65535 (the limit) decodes" 0 sit-load -o result w65535.pam
same "width 65535 passed through" w65535.pam result
rm -f result
pam_head 15000 10000 >px150m-at.pam
img_refused "15000 x 10000 (the pixel limit) read, raster missing:" px150m-at.pam '^sit-load: truncated PNM'
# Every format's own header: the same limits, before stb_image sees it.
{ printf 'BM'; le32 70; le32 0; le32 54; le32 40; le32 65536; le32 1; le16 1; le16 24
  le32 0; le32 0; le32 0; le32 0; le32 0; le32 0; zeros 16; } >w65536.bmp
img_refused "BMP width 65536" w65536.bmp 'width 65536 is over the limit of 65535$'
{ printf 'GIF89a'; le16 65535; le16 65535; printf '\000\000\000,'; zeros 8; printf '\000\002\002\104\001\000;'; } >big.gif
img_refused "GIF screen 65535 x 65535" big.gif 'over the limit of 150000000 pixels$'
# Within the pixel limit, but stb's GIF decoder needs 9 bytes a pixel: a GIF
# may have 8/9 of the pixels (133333328), so 12000 x 12000 is refused.
{ printf 'GIF89a'; le16 12000; le16 12000; printf '\000\000\000,'; zeros 8; printf '\000\002\002\104\001\000;'; } >gif144.gif
img_refused "GIF screen 12000 x 12000 (144 M pixels)" gif144.gif 'over the limit of 133333328 pixels for GIF \(its decoder needs 9 bytes a pixel\)$'
{ printf '\000\000\002'; zeros 9; le16 65535; le16 65535; printf '\030\040'; zeros 64; } >big.tga
img_refused "TGA 65535 x 65535" big.tga 'over the limit of 150000000 pixels$'
{ printf '\377\330\377\300\000\013\010\377\377\377\377\001\001\021\000\377\331'; } >big.jpg
img_refused "JPEG 65535 x 65535" big.jpg 'over the limit of 150000000 pixels$'

# ---- PAM/PNM headers (lib/img.h: at most 4096 bytes, fields in range) --------
{ printf 'P7\n'; for i in $(seq 41); do printf '# %098d\n' 0; done
  printf 'WIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\nx'; } >longhead.pam
img_refused "PAM header over 4096 bytes" longhead.pam '^sit-load: corrupt PNM: header longer than 4096 bytes$'
{ printf 'P7\n'; for i in $(seq 39); do printf '# %098d\n' 0; done
  printf 'WIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\nx'; } >head4k.pam
expect "PAM header just under 4096 bytes decodes" 0 sit-load -o result head4k.pam
rm -f result
{ printf 'P7\n# %0260d\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\nx' 0; } >longline.pam
img_refused "PAM header line of 263 bytes" longline.pam 'header line too long$'
printf 'P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 65536\nENDHDR\nxx' >max65536.pam
img_refused "PAM MAXVAL 65536" max65536.pam '^sit-load: corrupt PAM: MAXVAL 65536 out of range$'
printf 'P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 0\nENDHDR\nx' >max0.pam
img_refused "PAM MAXVAL 0" max0.pam 'MAXVAL 0 out of range$'
printf 'P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 65535\nENDHDR\n\377\377' >max65535.pam
expect "PAM MAXVAL 65535 (the limit) decodes" 0 sit-load -o result max65535.pam
rm -f result
printf 'P7\nWIDTH 1\nHEIGHT 1\nDEPTH 5\nMAXVAL 255\nENDHDR\nxxxxx' >depth5.pam
img_refused "PAM DEPTH 5" depth5.pam '^sit-load: unsupported PAM: DEPTH 5 out of range$'
printf 'P7\nWIDTH 0\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\n' >w0.pam
img_refused "PAM WIDTH 0" w0.pam 'WIDTH 0 out of range$'
printf 'P7\nWIDTH 99999999\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\n' >w8digits.pam
img_refused "PAM WIDTH of 8 digits" w8digits.pam '^sit-load: corrupt PAM: bad WIDTH$'
printf 'P5 1 1 65536\nxx' >max65536.pgm
img_refused "PGM maxval 65536" max65536.pgm '^sit-load: corrupt PNM: maxval over 65535$'
printf 'P5 1048577 1 255\nx' >w2p20.pgm
img_refused "PGM width over 2^20" w2p20.pgm '^sit-load: corrupt PNM: width over 1048576$'

# ---- share and sit-visual headers (sit-image(5)): K, N, x, length, rows -----
# Real PAM shares and a cipher image, with header fields patched and the
# header checksum (BLAKE2b-128 of bytes 0-63) made right again, so that the
# field checks, not the checksum, must catch them.
head -c 1000 /dev/urandom >payload
sit-share --pam -k 2 -n 3 -i payload -o sh
sit-visual -e --pam -o vis.pam payload
# Offset of the raster (the sit header) in a PAM file.
raster_at() { echo $(( $(grep -abo ENDHDR "$1" | head -1 | cut -d: -f1) + 7 )); }
# patch FILE OFFSET BYTE...: header bytes from OFFSET, checksum redone.
patch() {
	local f=$1 at b
	at=$(( $(raster_at "$1") + $2 ))
	shift 2
	for b; do
		byte "$b" | dd of="$f" bs=1 seek="$at" conv=notrunc status=none
		at=$((at + 1))
	done
	at=$(raster_at "$f")
	dd if="$f" bs=1 skip="$at" count=64 status=none | b2sum -l 128 | cut -c1-32 | xxd -r -p |
		dd of="$f" bs=1 seek=$((at + 64)) conv=notrunc status=none
}
# share_refused NAME FILE... REGEX
share_refused() {
	local name=$1 re=${!#}
	set -- "${@:2:$#-2}"
	expect "$name refused" 65 sit-unshare -o result "$@"
	errmatch "$name message" "$re"
	absent "$name leaves no output" result
}
INVALID='has an invalid header$'
cp sh.1.pam k1.pam; patch k1.pam 48 1
share_refused "share with K 1" k1.pam sh.2.pam "$INVALID"
cp sh.1.pam k4.pam; patch k4.pam 48 4
share_refused "share with K 4 over N 3" k4.pam sh.2.pam "$INVALID"
cp sh.1.pam x0.pam; patch x0.pam 50 0
share_refused "share with x 0" x0.pam sh.2.pam "$INVALID"
cp sh.1.pam x4.pam; patch x4.pam 50 4
share_refused "share with x 4 over N 3" x4.pam sh.2.pam "$INVALID"
cp sh.1.pam n255.pam; patch n255.pam 48 255 255 255
share_refused "share 255 of 255 (the limit), K 255, beside a 2-of-3 share:" n255.pam sh.2.pam \
	'^sit-unshare: shares from different sets'
share_refused "a lone share 255 of 255, K 255:" n255.pam \
	'^sit-unshare: fewer than K shares: 1 given, 255 needed$'
# Payload length: at most the image's samples less 96 (header, checksum).
w=$(sed -n 's/^WIDTH //p' sh.1.pam); h=$(sed -n 's/^HEIGHT //p' sh.1.pam)
cap=$((w * h * 3 - 96))
le64() { le32 $(($1 & 0xffffffff)); le32 $(($1 >> 32)); }
lenbytes() { le64 "$1" | od -An -tu1; }
cp sh.1.pam long.pam
# shellcheck disable=SC2046 # one argument per byte
patch long.pam 24 $(lenbytes $((cap + 1)))
share_refused "share with a payload one byte over its image" long.pam sh.2.pam "$INVALID"
cp sh.1.pam rows.pam; patch rows.pam 18 1; patch rows.pam 20 1
share_refused "share of image rows with a byte length" rows.pam sh.2.pam "$INVALID"
cp sh.1.pam ver.pam; patch ver.pam 7 3
share_refused "share of format version 3" ver.pam sh.2.pam 'was made by a newer version of sit$'
w2=$(sed -n 's/^WIDTH //p' vis.pam); h2=$(sed -n 's/^HEIGHT //p' vis.pam)
vcap=$((w2 * h2 * 3 - 96))
cp vis.pam vlong.pam
# shellcheck disable=SC2046
patch vlong.pam 24 $(lenbytes $((vcap + 1)))
expect "sit-visual payload one byte over its image refused" 65 sit-visual -d -o result vlong.pam
errmatch "sit-visual over-long payload message" '^sit-visual: image has an invalid header$'
cp vis.pam vcap.pam
# shellcheck disable=SC2046
patch vcap.pam 24 $(lenbytes "$vcap")
expect "sit-visual payload filling its image (the limit) read, checksum wrong:" 65 sit-visual -d -o result vcap.pam
errmatch "sit-visual full payload message" 'checksum mismatch$'
absent "sit-visual refusals leave no output" result
cp vis.pam vk.pam; patch vk.pam 48 2 3 1
expect "sit-visual image with share fields refused" 65 sit-visual -d -o result vk.pam
errmatch "sit-visual share fields message" '^sit-visual: image has an invalid header$'
# More shares than N can be: a usage error before any is read.
# shellcheck disable=SC2046 # 256 names
expect "256 shares named" 64 sit-unshare $(for i in $(seq 256); do echo sh.1.pam; done)
check "256 shares message" grep -q '^sit-unshare: at most 255 shares$' "$T/err"

# ---- declared size against the bytes that follow (lib/pixio.h) --------------
# 65535 x 2288 RGB: 449832240 sample bytes, from bodies of 3 KB to 437 KB
# (tests/hostile.py: each starts with a valid header, sit-visual's or a
# 2-of-2 share's, for an empty payload).  Each is refused with exit 65 and
# its message, leaves no output, and peaks under 64 MiB (they took 735 MB to
# 1.1 GB when the image data was inflated, or the image decoded, whole).
if [ -x /usr/bin/time ]; then
	for k in png-zeros png-adam7 png-palette png-tiny pam-short; do
		x=${k%%-*}
		python3 "$SIT_ROOT/tests/hostile.py" "$k" 65535 2288 "$k.0.$x" "$k.1.$x" "$k.2.$x"
	done
fi
# mem_refused NAME REGEX CMD...: as share_refused, and the peak resident set
# size of CMD under 64 MiB.
mem_refused() {
	local name=$1 re=$2 kb
	shift 2
	expect "$name refused" 65 /usr/bin/time -f %M -o "$T/rss" "$@"
	errmatch "$name message" "$re"
	absent "$name leaves no output" result
	kb=$(tail -1 "$T/rss")
	check "$name peaks under 64 MiB ($kb KiB)" test "$kb" -lt 65536
}
SUM='was altered \(lossy conversion\?\): checksum mismatch$'
NOISE='is too small for 449832240 sample bytes of noise \(a cipher image or share\)$'
if [ ! -x /usr/bin/time ]; then
	skip "declared image sizes against the data" "no /usr/bin/time"
else
	# Deflated zeros, 1030:1 (437 KB): streamed, refused at the checksum.
	mem_refused "PNG of deflated zeros to sit-visual -d" "^sit-visual: image $SUM" \
		sit-visual -d -o result png-zeros.0.png
	mem_refused "PNG of deflated zeros to sit-visual -d from a pipe" "^sit-visual: image $SUM" \
		sit-visual -d -o result < <(cat png-zeros.0.png)
	mem_refused "PNGs of deflated zeros to sit-unshare" "^sit-unshare: share png-zeros.1.png $SUM" \
		sit-unshare -o result png-zeros.1.png png-zeros.2.png
	mem_refused "PNGs of deflated zeros to sit-unshare from pipes" "^sit-unshare: share /dev/fd/[0-9]+ $SUM" \
		sit-unshare -o result <(cat png-zeros.1.png) <(cat png-zeros.2.png)
	# Interlaced and palette: decoded in memory, so held to 16:1 first.
	for k in adam7 palette; do
		mem_refused "$k PNG of deflated zeros to sit-visual -d" \
			"^sit-visual: png-$k.0.png is not a sit-visual image: PNG of [0-9]+ bytes $NOISE" \
			sit-visual -d -o result "png-$k.0.png"
		mem_refused "$k PNG of deflated zeros to sit-visual -d from a pipe" \
			"^sit-visual: standard input is not a sit-visual image: PNG of [0-9]+ bytes $NOISE" \
			sit-visual -d -o result < <(cat "png-$k.0.png")
		mem_refused "$k PNGs of deflated zeros to sit-unshare" \
			"^sit-unshare: png-$k.1.png is not a share: PNG of [0-9]+ bytes $NOISE" \
			sit-unshare -o result "png-$k.1.png" "png-$k.2.png"
		mem_refused "$k PNGs of deflated zeros to sit-unshare from pipes" \
			"^sit-unshare: /dev/fd/[0-9]+ is not a share: PNG of [0-9]+ bytes $NOISE" \
			sit-unshare -o result <(cat "png-$k.1.png") <(cat "png-$k.2.png")
	done
	# Two rows deflated (3 KB), and two rows of PAM raster: a file is
	# refused before a sample is read; a pipe at the checksum, streamed.
	TINY='truncated PNG: [0-9]+ bytes cannot hold 65535x2288 pixels \(deflate packs at most 1032 bytes into one\)$'
	mem_refused "PNG of two rows for 2288 to sit-visual -d" \
		"^sit-visual: png-tiny.0.png is not a sit-visual image: $TINY" \
		sit-visual -d -o result png-tiny.0.png
	mem_refused "PNG of two rows for 2288 to sit-visual -d from a pipe" "^sit-visual: image $SUM" \
		sit-visual -d -o result < <(cat png-tiny.0.png)
	mem_refused "PNGs of two rows for 2288 to sit-unshare" \
		"^sit-unshare: png-tiny.1.png is not a share: $TINY" \
		sit-unshare -o result png-tiny.1.png png-tiny.2.png
	mem_refused "PNGs of two rows for 2288 to sit-unshare from pipes" \
		"^sit-unshare: share /dev/fd/[0-9]+ $SUM" \
		sit-unshare -o result <(cat png-tiny.1.png) <(cat png-tiny.2.png)
	SHORT='truncated PAM: 393290 of 449832240 raster bytes$'
	mem_refused "PAM of two rows for 2288 to sit-visual -d" \
		"^sit-visual: pam-short.0.pam is not a sit-visual image: $SHORT" \
		sit-visual -d -o result pam-short.0.pam
	mem_refused "PAM of two rows for 2288 to sit-visual -d from a pipe" "^sit-visual: image $SUM" \
		sit-visual -d -o result < <(cat pam-short.0.pam)
	mem_refused "PAMs of two rows for 2288 to sit-unshare" \
		"^sit-unshare: pam-short.1.pam is not a share: $SHORT" \
		sit-unshare -o result pam-short.1.pam pam-short.2.pam
	mem_refused "PAMs of two rows for 2288 to sit-unshare from pipes" \
		"^sit-unshare: share /dev/fd/[0-9]+ $SUM" \
		sit-unshare -o result <(cat pam-short.1.pam) <(cat pam-short.2.pam)
fi
