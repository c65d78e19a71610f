#!/bin/bash
# PNG shares and sit-visual images are streamed (lib/pngstream.c): round
# trips at many sizes and through fifos, memory stays small on big files,
# PNGs re-encoded by other tools (other filters, chunk and block sizes,
# compressed blocks) still rebuild, and every kind of damage is refused
# with exit 65, one line naming the share, and no output left.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 70
pngtool() { python3 "$SIT_ROOT/tests/pngtool.py" "$@"; }
head -c 3000001 /dev/urandom >rand

# Round trips, 2 of 3, PNG shares.
bad=""
for n in 0 1 2 17 4095 65535 65536 65537 200001 3000001; do
	head -c "$n" rand >in
	sit-share -k 2 -n 3 -o s <in 2>err && sit-unshare s.3.png s.1.png >out 2>>err &&
		cmp -s in out || bad="$bad $n"
	rm -f s.*
done
if [ -z "$bad" ]; then pass "PNG shares round-trip at many sizes"
else fail "PNG round trips" "at:$bad $(head -c 200 err)"; fi

# Both shares through fifos at once: sit-share writes them in turns, and
# sit-unshare must read them in the same turns, never far ahead on one.
mkfifo f1.png f2.png
head -c 3000001 rand >in
sit-share f1.png f2.png <in &
expect "PNG shares through two fifos" 0 sit-unshare f1.png f2.png
wait
same "rebuilt through fifos" "$T/out" in
rm -f f1.png f2.png

# Re-encoded shares: the pixels stay, the layout changes.
head -c 200001 rand >in
sit-share a.png b.png <in
conv() { # conv NAME CMD...: CMD makes x.png from a.png; rebuild from file and pipe
	local name=$1
	shift
	rm -f x.png
	"$@" 2>/dev/null
	expect "$name: rebuilt from a file" 0 sit-unshare x.png b.png
	same "$name: same bytes" "$T/out" in
	expect "$name: rebuilt from a pipe" 0 sit-unshare <(cat x.png) b.png
	same "$name: same bytes from a pipe" "$T/out" in
}
conv "ImageMagick, level 0, adaptive filters" convert a.png -define png:compression-level=0 \
	-define png:compression-filter=5 x.png
conv "ImageMagick, level 0, Paeth" convert a.png -define png:compression-level=0 \
	-define png:compression-filter=4 x.png
conv "pnmtopng, no compression" sh -c 'pngtopnm a.png | pnmtopng -compression=0 >x.png'
conv "pnmtopng, Paeth" sh -c 'pngtopnm a.png | pnmtopng -compression=0 -paeth >x.png'
head -c 30001 rand >in
sit-share a.png b.png -f <in
conv "filters 0-4 by turns, 1000-byte IDATs, 3000-byte blocks" \
	pngtool a.png x.png --filter cycle --idat 1000 --block 3000
conv "Average filter, 1-byte blocks, 7-byte IDATs, ancillary chunks" \
	pngtool a.png x.png --filter 3 --block 1 --idat 7 --chunk teXt
conv "first block compressed (whole-file decoding)" pngtool a.png x.png --first fixed --block 2000

# 16-bit RGBA image shares, filtered (8 bytes a pixel).
convert -size 40x30 gradient:red-blue -depth 16 -define png:color-type=6 g16.png
sit-share -f a.png b.png <g16.png
pngtool a.png x.png --filter cycle --block 999 --idat 500
expect "16-bit RGBA share, filters 0-4" 0 sit-unshare -o r.pam x.png b.png
pngtopam -alphapam g16.png >g16.pam
same "16-bit samples identical" r.pam g16.pam
rm -f r.pam

# Stored blocks, then compressed ones (zlib's choice for noise with zero
# padding at its end), or compressed first: inflated as they come, from
# files and pipes.
head -c 70001 rand >in
sit-share -f a.png b.png <in
conv "ImageMagick, default compression" convert a.png x.png
conv "ImageMagick -quality 95" convert a.png -quality 95 x.png
conv "last 40000 bytes in a compressed block" pngtool a.png x.png --last fixed --block 40000
conv "compressed block across IDATs" pngtool a.png x.png --last fixed --block 9000 --idat 1000
conv "compressed, then stored, Paeth" pngtool a.png x.png --first fixed --last fixed \
	--block 3000 --filter 4
pngtool a.png x.png --last fixed --block 5000 --adler
expect "compressed end, wrong Adler-32" 65 sit-unshare -o o1 <(cat x.png) b.png
errmatch "compressed end, wrong Adler-32: message" \
	"^sit-unshare: /dev/fd/[0-9]+: corrupt PNG: Adler-32 mismatch in the image data$"
absent "compressed end, wrong Adler-32: nothing written" o1
pngtool a.png x.png --last fixed --block 5000 --extra 2
expect "compressed end, too much data" 65 sit-unshare -o o1 x.png b.png
errmatch "compressed end, too much data: message" \
	"^sit-unshare: x.png: corrupt PNG: more image data than the image holds$"
absent "compressed end, too much data: nothing written" o1

# Damage: exit 65, one line naming the share, no output left behind.
damaged() { # damaged NAME REGEX PNGTOOL-OPTIONS...
	local name=$1 re=$2
	shift 2
	pngtool a.png bad.png "$@"
	expect "$name: refused" 65 sit-unshare -o o2 bad.png b.png
	errmatch "$name: message" "^sit-unshare: bad.png(:| is not a share:) $re"
	absent "$name: nothing written" o2
	expect "$name: refused from a pipe" 65 sit-unshare -o o2 <(cat bad.png) b.png
	absent "$name: nothing written (pipe)" o2
}
damaged "flipped IDAT byte" "corrupt PNG: CRC error in the IDAT chunk$" --flip
damaged "wrong Adler-32" "corrupt PNG: Adler-32 mismatch in the image data$" --adler
damaged "bad NLEN" "corrupt PNG: bad stored block length \(LEN [0-9]+, NLEN [0-9]+\)$" --nlen
damaged "one byte too many" "corrupt PNG: more image data than the image holds$" --extra 1
damaged "one byte too few" "corrupt PNG: too little image data" --short 1
damaged "bytes after IEND" "corrupt PNG: data after IEND$" --trailing
damaged "last byte cut" "truncated PNG: it ends before IEND$" --cut 1
damaged "cut in the middle" "truncated PNG: it ends before IEND$" --cut 30000
damaged "unknown critical chunk" "corrupt PNG: unknown critical chunk ABCD$" --chunk ABCD
notemp "no temporary files left" "$T"

# Memory: two 64 MiB PNG shares, and PAM shares as before; sit-visual -d;
# sit-share and sit-visual -e of a stream from a pipe.
# Reading whole, a 64 MiB share took over 128 MiB.  The sanitizer build
# starts at about 20 MiB, so it is allowed more.
max=32768
case "$SIT_BIN" in */build/asan/bin) max=98304 ;; esac
if [ -x /usr/bin/time ]; then
	rss() { # rss NAME CMD...: peak RSS under $max KiB
		local name=$1 kib
		shift
		/usr/bin/time -f %M -o rss.txt "$@" >/dev/null 2>err
		kib=$(tail -1 rss.txt)
		if [ "${kib:-999999}" -lt $max ] 2>/dev/null; then pass "$name: peak RSS $kib KiB"
		else fail "$name" "peak RSS ${kib:-?} KiB ($max KiB allowed); $(head -c 200 err)"; fi
	}
	head -c 67108864 /dev/urandom >big
	sit-share big.1.png big.2.png <big
	rss "sit-unshare of two 64 MiB PNG shares" sit-unshare -o big.out big.1.png big.2.png
	same "64 MiB rebuilt from PNG" big.out big
	rm -f big.1.png big.2.png big.out
	sit-share --pam big.1.pam big.2.pam <big
	rss "sit-unshare of two 64 MiB PAM shares" sit-unshare -o big.out big.1.pam big.2.pam
	same "64 MiB rebuilt from PAM" big.out big
	rm -f big.1.pam big.2.pam big.out
	head -c 33554432 big >mid
	sit-visual -e -o v.png mid
	rss "sit-visual -d of a 32 MiB PNG" sit-visual -d -o v.out v.png
	same "32 MiB back from the PNG" v.out mid
	rss "sit-visual -d of a 32 MiB PNG from a pipe" sit-visual -d -o v2.out <(cat v.png)
	same "32 MiB back from the piped PNG" v2.out mid
	# A byte stream from a pipe: its length is known only at its end, so it
	# waits in an encrypted nameless file (spool.h), not in memory (it took
	# 64 MiB and more before).
	mkdir -p tmp
	TMPDIR=$T/tmp rss "sit-share of 64 MiB from a pipe" sit-share -o pp -i <(cat big)
	sit-unshare pp.1.png pp.2.png >pp.out
	same "64 MiB from a pipe rebuilt" pp.out big
	TMPDIR=$T/tmp rss "sit-visual -e of 64 MiB from a pipe" sit-visual -e -o pv.png <(cat big)
	sit-visual -d pv.png >pv.out
	same "64 MiB from a pipe back from its cipher image" pv.out big
	check "nothing left in TMPDIR" test -z "$(ls -A tmp)"
	# No usable TMPDIR: the stream waits in memory, as it used to.
	head -c 1000000 big >small
	TMPDIR=$T/nosuch sit-share -f -o pp -i <(cat small)
	sit-unshare pp.1.png pp.2.png >pp.out
	same "without a TMPDIR, still shared" pp.out small
	rm -f big mid small v.png v.out v2.out pp.* pv.png pv.out
else
	skip "peak RSS" "/usr/bin/time is missing (Debian package time)"
fi

# The FAST writer sends whole stored blocks straight from the caller's
# buffer when its sink can gather (png.c): the bytes must be exactly those
# of the copying path (pieces of random sizes, no gathering), whatever the
# row length and wherever a block ends (rows of 352 and 824 RGB pixels: the
# first and second blocks end just after a row's filter byte), and pngtopam
# must see the raster.
case "$SIT_BIN" in
*/build/asan/bin) PW=$SIT_ROOT/build/asan/tests/pngw-probe ;;
*) PW=$SIT_ROOT/build/release/tests/pngw-probe ;;
esac
for shape in "352 100 3" "824 80 3" "349 400 3" "342 300 3" "1000 150 1" "5000 40 3" "100 700 3" "21846 3 3"; do
	set -- $shape
	if "$PW" "$1" "$2" "$3" 7 w.png >w.out 2>w.err; then
		pass "FAST PNG ${1}x${2}x${3}: gathered and copied writes give the same bytes"
	else
		fail "FAST PNG ${1}x${2}x${3}" "$(cat w.err)"
		continue
	fi
	# Rows of 1024 bytes or more go gathered; shorter ones never do.
	if [ $(($1 * $3)) -ge 1024 ]; then
		grep -q ", [1-9][0-9]* gathered writes" w.out && pass "FAST PNG ${1}x${2}x${3} went gathered" ||
			fail "FAST PNG ${1}x${2}x${3} gathered" "$(cat w.out)"
	fi
	pngtopam w.png | tail -c $(($1 * $2 * $3)) >w.pix
	same "FAST PNG ${1}x${2}x${3}: pngtopam sees the raster" w.pix w.png.raw
done
rm -f w.png w.png.raw w.out w.err w.pix
