#!/bin/bash
# sit-load: pass-through, conversions against independent decoders (netpbm,
# libjpeg's djpeg, ImageMagick), corrupt input, --strip, limits, -o rules.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SUITE=$SHARED/corpus/pngsuite

# Normalise any netpbm file to a P7 PAM, so that headers compare too.
norm() { pamtopam 2>/dev/null; }
# Largest sample difference between two PAM/PNM files ("" if incomparable).
maxdiff() { pamarith -difference "$1" "$2" 2>/dev/null | pamsumm -max -brief 2>/dev/null; }
field() { sed -n "s/^$1 //p" "$2" | head -1; }
# Summaries: one line for a loop over many files, naming the failures.
summary() { if [ -z "$2" ]; then pass "$1"; else fail "$1" "${2:0:300}"; fi; }

# ---- PngSuite: every valid file -----------------------------------------
# Process start-up dominates here, so each file costs few processes: the
# results go into multi-image netpbm streams compared once at the end.
# The oracle is pngtopam (libpng); it gives 1/2/4-bit samples at their own
# maxval, so both sides are scaled to 65535 (exact for every such maxval).
# pngtopam -alphapam always adds alpha, so it is asked for only when ours
# has it; pngtopam writes sBIT files with fewer bits, scaled back for the
# comparison; and netpbm 11 ignores a colour-key tRNS for alpha, so for those
# files (tb?n2c*) the alpha channel is checked with ImageMagick instead.
wide() { pamdepth 65535 2>/dev/null | pamtopam; }
n=0 bad_pass="" trns=()
: >orig.all; : >pass.all; : >mine.all; : >oracle.all; : >png.all; : >fast.all; : >mine_ok.all
for f in "$SUITE"/[!x]*.png; do
	b=$(basename "$f" .png)
	n=$((n + 1))
	cat "$f" >>orig.all
	sit-load "$f" >>pass.all 2>/dev/null || bad_pass="$bad_pass $b"
	sit-load --to pam "$f" >mine.pam 2>/dev/null || bad_pass="$bad_pass $b(pam)"
	cat mine.pam >>mine.all
	{ read -r _; read -r _; read -r _; read -r depth; } <mine.pam
	case $depth in "DEPTH 2" | "DEPTH 4") a=-alphapam ;; *) a= ;; esac
	case $b in
	tb[bgr]n2c*) trns+=("$f") ;;
	cs[358]n*)  # pngtopam honours sBIT (fewer bits); back to 8 like libpng's data
		{ read -r _; read -r _; read -r _; read -r _; read -r _ mv; } <mine.pam
		pngtopam $a "$f" 2>/dev/null | pamdepth "$mv" >>oracle.all 2>/dev/null
		cat mine.pam >>mine_ok.all ;;
	*) pngtopam $a "$f" >>oracle.all 2>/dev/null; cat mine.pam >>mine_ok.all ;;
	esac
	sit-load --to png "$f" 2>/dev/null | sit-load --to pam >>png.all 2>/dev/null
	# libpng reads our stored-deflate PNGs (and our alpha, tRNS included).
	sit-load --to png:fast "$f" 2>/dev/null | pngtopam $a >>fast.all 2>/dev/null
done
check "pngsuite has valid files" test "$n" -ge 150
same "pngsuite: $n valid files pass through byte-identical" orig.all pass.all
summary "pngsuite: every valid file decodes" "$bad_pass"
wide <mine_ok.all >a.all; wide <oracle.all >b.all
same "pngsuite: --to pam equals pngtopam (16-bit files at 16 bits)" a.all b.all
same "pngsuite: --to png decodes to identical pixels" mine.all png.all
wide <mine.all >a.all; wide <fast.all >b.all
same "pngsuite: --to png:fast read by pngtopam gives identical pixels" a.all b.all
: >alpha_mine.all
for f in "${trns[@]}"; do
	sit-load --to pam "$f" | pamchannel 3 | pamdepth 65535 | pamtopnm -assume | tail -c 2048 >>alpha_mine.all
	sit-load --to pam "$f" | pamchannel 0 1 2 | pamtopnm -assume | wide >>a3.all
	pngtopam "$f" | wide >>b3.all
done
convert "${trns[@]}" -alpha extract -depth 16 gray:- >alpha_im.all 2>/dev/null
check "pngsuite: ${#trns[@]} colour-key tRNS files" test "${#trns[@]}" = 3
same "pngsuite: colour-key tRNS alpha equals ImageMagick's" alpha_mine.all alpha_im.all
same "pngsuite: colour-key tRNS colours equal pngtopam's" a3.all b3.all

# ---- PngSuite: every corrupt file ----------------------------------------
bad="" n=0
for f in "$SUITE"/x*.png; do
	n=$((n + 1))
	sit-load -o out.png "$f" >/dev/null 2>err
	rc=$?
	[ $rc = 65 ] && [ ! -e out.png ] && [ "$(grep -c '' err)" = 1 ] &&
		grep -Eq '^sit-load: (not an image|corrupt|truncated|unsupported)' err ||
		bad="$bad $(basename "$f")($rc)"
	rm -f out.png
done
summary "pngsuite: $n x* files refused with exit 65, one line, no output" "$bad"
notemp "no temporary files after refusals" .

# ---- a big noise image through the fast PNG writer -----------------------
{ printf 'P6\n1000 700\n255\n'; head -c 2100000 /dev/urandom; } >noise.ppm
sit-load --to png:fast noise.ppm >noise.png
check "fast PNG of noise is stored (not much larger than the pixels)" \
	test "$(stat -c %s noise.png)" -lt 2120000
pngtopam noise.png >n1.ppm 2>/dev/null
same "fast PNG of noise read by pngtopam" noise.ppm n1.ppm
convert noise.png ppm:- >n2.ppm 2>/dev/null
same "fast PNG of noise read by ImageMagick" noise.ppm n2.ppm
sit-load --to pam noise.png | pamtopnm >n3.ppm
same "fast PNG of noise read back by sit-load" noise.ppm n3.ppm

# ---- other formats: lossless ones give the original pixels ----------------
src=$SUITE/basn2c08.png
pngtopam "$src" >rgb.ppm
pngtopam "$SUITE/basn0g08.png" >grey.pgm
pnmquant 256 rgb.ppm 2>/dev/null >q.ppm
ppmtobmp rgb.ppm >x.bmp 2>/dev/null
pamtogif q.ppm >x.gif 2>/dev/null
pamtotga -rgb rgb.ppm >x.tga 2>/dev/null
pamtotga -rgb -norle rgb.ppm >x2.tga 2>/dev/null
cp rgb.ppm x.ppm
cp grey.pgm x.pgm
pamtopam <rgb.ppm >x.pam
for f in x.bmp x.gif x.tga x2.tga x.ppm x.pgm x.pam; do
	want=rgb.ppm
	case $f in x.gif) want=q.ppm ;; x.pgm) want=grey.pgm ;; esac
	sit-load "$f" >pass.out
	same "$f passes through unchanged" "$f" pass.out
	sit-load --to pam "$f" >got.pam
	{ read -r _; read -r _; read -r _; read -r depth; } <got.pam
	[ "$depth" = "DEPTH 4" ] && { pamchannel 0 1 2 <got.pam | pamtopnm -assume >got2.pam; mv got2.pam got.pam; }
	pamtopam <got.pam >a.pam; pamtopam <"$want" >b.pam
	same "$f decodes to the right pixels" a.pam b.pam
done
sit-load --to pam "$SUITE/basn0g16.png" >g16.pam
sit-load --to pam g16.pam >g16b.pam
same "16-bit PAM read back at 16 bits" g16.pam g16b.pam
pamdepth 1000 g16.pam >g1000.pam 2>/dev/null
sit-load --to pam g1000.pam >g1000b.pam
check "PAM with maxval 1000 is scaled to 16 bits" test "$(field MAXVAL g1000b.pam)" = 65535
pamdepth 65535 g1000.pam >g65535.pam 2>/dev/null
maxd=$(maxdiff g1000b.pam g65535.pam)
check "maxval 1000 scaled like pamdepth (max difference ${maxd:-?} <= 1)" test "${maxd:-9}" -le 1

# ---- JPEG against libjpeg (djpeg); IDCTs differ by a little --------------
TOL=3
pamscale -xsize 64 -ysize 48 rgb.ppm >photo.ppm 2>/dev/null
for kind in baseline progressive grey cmyk; do
	case $kind in
	baseline) cjpeg -quality 85 photo.ppm >"$kind.jpg" ;;
	progressive) cjpeg -quality 85 -progressive photo.ppm >"$kind.jpg" ;;
	grey) cjpeg -quality 85 -grayscale photo.ppm >"$kind.jpg" ;;
	cmyk) convert photo.ppm -colorspace CMYK -quality 85 "$kind.jpg" ;;   # cjpeg cannot
	esac
	sit-load "$kind.jpg" >pass.jpg
	same "JPEG $kind passes through unchanged" "$kind.jpg" pass.jpg
	sit-load --to pam "$kind.jpg" | norm >mine.pam
	djpeg -pnm "$kind.jpg" | norm >djpeg.pam
	diff=$(maxdiff mine.pam djpeg.pam)
	check "JPEG $kind within $TOL of djpeg (max difference ${diff:-?})" test "${diff:-999}" -le $TOL
done
head -c 600 baseline.jpg >cut.jpg
expect "truncated JPEG refused" 65 sit-load cut.jpg
errmatch "truncated JPEG message" '^sit-load: truncated JPEG'

# ---- --strip ---------------------------------------------------------------
cp baseline.jpg gps.jpg
exiftool -q -overwrite_original -GPSLatitude=48.8584 -GPSLatitudeRef=N \
	-GPSLongitude=2.2945 -GPSLongitudeRef=E -Artist=someone -Comment=hello gps.jpg
icc=/usr/share/color/icc/ghostscript/srgb.icc
[ -f "$icc" ] && exiftool -q -overwrite_original "-ICC_Profile<=$icc" gps.jpg
check "exiftool wrote a GPS position" sh -c 'exiftool -s -GPSLatitude gps.jpg | grep -q GPS'
expect "--strip JPEG" 0 sit-load --strip -o stripped.jpg gps.jpg
check "no GPS after --strip" sh -c '! exiftool -s -a -G gps stripped.jpg 2>/dev/null | grep -qi gps'
check "no EXIF/comment after --strip" sh -c '[ -z "$(exiftool -s -s -s -Artist -Comment stripped.jpg)" ]'
if [ -f "$icc" ]; then
	check "ICC profile kept by --strip" sh -c 'exiftool -s -ICC_Profile:ProfileDescription stripped.jpg | grep -q .'
else
	skip "ICC profile kept by --strip" "no ICC profile file on this machine"
fi
sit-load --to pam gps.jpg >p1.pam
sit-load --to pam stripped.jpg >p2.pam
same "JPEG pixels identical after --strip" p1.pam p2.pam
djpeg -pnm gps.jpg >d1.pnm
djpeg -pnm stripped.jpg >d2.pnm
same "JPEG pixels identical after --strip (djpeg)" d1.pnm d2.pnm

cp "$SUITE/ct1n0g04.png" text.png      # has tEXt chunks
exiftool -q -overwrite_original -GPSLatitude=1 -Artist=someone text.png 2>/dev/null
expect "--strip PNG" 0 sit-load --strip -o stripped.png text.png
check "no text or EXIF chunks after --strip" sh -c '! grep -aq -e tEXt -e zTXt -e iTXt -e eXIf -e tIME stripped.png'
sit-load --to pam text.png >q1.pam
sit-load --to pam stripped.png >q2.pam
same "PNG pixels identical after --strip" q1.pam q2.pam
sit-load --strip "$SUITE/ccwn2c08.png" >cc.png      # cHRM, gAMA
check "colour chunks kept by --strip" sh -c 'grep -aq cHRM cc.png && grep -aq gAMA cc.png'
pngtopam cc.png >/dev/null 2>&1
check "stripped PNG still valid for libpng" test $? = 0

# ---- limits ----------------------------------------------------------------
# A PNG whose IHDR (with a correct CRC) declares 100000 x 100000 pixels.
ihdr=$(printf 'IHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00' | xxd -p)
crc=$(printf '%s' "$ihdr" | xxd -r -p | gzip -c | tail -c 8 | head -c 4 | xxd -p |
	sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')
{ head -c 8 "$SUITE/basn2c08.png"; printf '\x00\x00\x00\x0d'; echo "$ihdr$crc" | xxd -r -p
  tail -c +34 "$SUITE/basn2c08.png"; } >huge.png
start=$(date +%s%N)
expect "PNG declaring 100000x100000 refused" 65 sit-load -o out.png huge.png
ms=$(( ($(date +%s%N) - start) / 1000000 ))
errmatch "huge PNG message names the limit" 'over the limit'
check "huge PNG refused quickly (${ms} ms)" test "$ms" -lt 2000
absent "nothing written for the huge PNG" out.png
printf 'P7\nWIDTH 200000\nHEIGHT 200000\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\nxyz' >huge.pam
expect "PAM declaring 200000x200000 refused" 65 sit-load huge.pam
errmatch "huge PAM message" 'over the limit'
expect "--max-width 31 refuses a 32-pixel-wide image" 65 sit-load --max-width 31 "$src"
errmatch "--max-width message" 'width 32 is over the limit of 31'
expect "--max-height 31" 65 sit-load --max-height 31 "$src"
expect "--max-pixels 1023" 65 sit-load --max-pixels 1023 "$src"
expect "--max-pixels 1024 accepts 32x32" 0 sit-load --max-pixels 1024 "$src"
expect "--max-input below the file size" 65 sit-load --max-input 100 "$src"
errmatch "--max-input message" 'larger than the limit'

# ---- bad input of every kind ------------------------------------------------
printf 'hello, world\n' >text.txt
expect "text refused" 65 sit-load text.txt
errmatch "text message" '^sit-load: not an image'
: >empty
expect "empty input refused" 65 sit-load empty
pamtotiff rgb.ppm >x.tiff 2>/dev/null
expect "TIFF refused" 65 sit-load x.tiff
errmatch "TIFF message" '^sit-load: unsupported format: TIFF$'
head -c -20 "$SUITE/basn2c08.png" >cut.png
expect "truncated PNG refused" 65 sit-load cut.png
errmatch "truncated PNG message" '^sit-load: truncated PNG'
head -c 1000 x.bmp >cut.bmp
expect "truncated BMP refused" 65 sit-load cut.bmp
head -c 300 x.gif >cut.gif
expect "truncated GIF refused" 65 sit-load cut.gif
head -c 3000 x.pam >cut.pam
expect "truncated PAM refused" 65 sit-load cut.pam
errmatch "truncated PAM message" '^sit-load: truncated PNM'
# Run-length TGA, 5x3 BGR: a run of 4, a literal of 3 crossing a row, a run
# of 7, a literal of 1.  Every packet is walked before decoding: the whole
# file decodes, one byte less is truncated (stb_image would read a zero).
printf '\0\0\n\0\0\0\0\0\0\0\0\0\5\0\3\0\30\40\203\1\2\3\2\4\5\6\7\10\11\12\13\14\206\11\11\11\0\5\5\5' >rle.tga
expect "run-length TGA decodes" 0 sit-load --to pam -o rle.pam rle.tga
check "run-length TGA pixels" test "$(tail -c 45 rle.pam | od -An -tu1 | tr -s ' \n' ' ')" = \
	" 3 2 1 3 2 1 3 2 1 3 2 1 6 5 4 9 8 7 12 11 10 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 5 5 5 "
head -c -1 rle.tga >rle-cut.tga
expect "run-length TGA one byte short refused" 65 sit-load rle-cut.tga
errmatch "run-length TGA truncation message" '^sit-load: truncated TGA: 39 of 40 bytes$'
printf 'P5\n2 1\n3\n\x01\x07' >over.pgm
expect "PGM sample over maxval refused" 65 sit-load over.pgm
printf 'P7\nWIDTH 2\nWIDTH 2\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\nab' >dup.pam
expect "PAM with WIDTH twice refused" 65 sit-load dup.pam

# ---- conversions and 16 bits -----------------------------------------------
expect "16-bit to JPEG refused" 65 sit-load --to jpeg -o o.jpg "$SUITE/basn2c16.png"
errmatch "16-bit refusal says why" '16-bit'
absent "nothing written for the 16-bit refusal" o.jpg
# stb_image_write's JPEG bit writer shifts signed ints past their range
# (undefined behaviour that GCC compiles as intended); UBSan builds abort
# there.  Detect it rather than guess from the path of the binaries.
jpeg_ok=1
sit-load --to jpeg "$src" >/dev/null 2>probe.err || jpeg_ok=0
if [ $jpeg_ok = 1 ]; then
	expect "16-bit to JPEG with --allow-8bit" 0 sit-load --to jpeg:80 --allow-8bit -o o.jpg "$SUITE/basn2c16.png"
	check "the JPEG is readable by djpeg" sh -c 'djpeg o.jpg >/dev/null'
else
	why="JPEG writer fails here: $(grep -m1 -o 'runtime error: [a-z ]*' probe.err)"
	skip "16-bit to JPEG with --allow-8bit" "$why"
	skip "the JPEG is readable by djpeg" "$why"
fi
sit-load --to png "$SUITE/basn2c16.png" | sit-load --info >info
check "--to png keeps 16 bits" grep -q 'bits=16' info
expect "--info" 0 sit-load --info "$SUITE/basn6a16.png"
check "--info line" test "$(cat "$T/out")" = \
	"format=PNG width=32 height=32 channels=4 bits=16 bytes=$(stat -c %s "$SUITE/basn6a16.png")"
pamscale -xsize 400 -ysize 100 rgb.ppm 2>/dev/null | pnmtopng >wide.png 2>/dev/null
sit-load --max-dim 50 wide.png | sit-load --info >info
check "--max-dim 50 on 400x100 gives 50x13 PNG" grep -q 'format=PNG width=50 height=13 ' info
if [ $jpeg_ok = 1 ]; then
	sit-load --max-dim 20 baseline.jpg | sit-load --info >info
	check "--max-dim keeps JPEG as JPEG" grep -q 'format=JPEG width=20 height=15 ' info
else
	skip "--max-dim keeps JPEG as JPEG" "$why"
fi
sit-load --max-dim 5000 baseline.jpg >same.jpg
same "--max-dim larger than the image passes through" baseline.jpg same.jpg
expect "--to jpeg:0 is a usage error" 64 sit-load --to jpeg:0 "$src"
expect "--to gif is a usage error" 64 sit-load --to gif "$src"

# ---- -o: atomic, no overwrite without -f, stdin ------------------------------
expect "-o from stdin" 0 sit-load -o fromstdin.png <"$src"
same "-o output identical" "$src" fromstdin.png
echo old >exists.png
expect "-o refuses to replace without -f" 73 sit-load -o exists.png "$src"
check "existing file untouched" test "$(cat exists.png)" = old
expect "-f replaces" 0 sit-load -f -o exists.png "$src"
same "-f replaced the file" "$src" exists.png
expect "bad input with -f keeps the old file" 65 sit-load -f -o exists.png text.txt
same "old file still there after refusal" "$src" exists.png
expect "missing input" 66 sit-load nosuchfile.png
notemp "no temporary files left" .
