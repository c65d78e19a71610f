#!/bin/bash
# sit-visual: exact round trips at many sizes, lossless conversions by other
# tools, and the messages for lossy conversion, cropping and foreign files.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 70

# Sizes from 0 up, around the header (80 + 16 bytes of overhead), pixel (3
# bytes) and row boundaries of the near-square shapes, and 1 MiB.
sizes="0 1 2 3 4 5 6 7 8 9 15 16 17 29 30 31 32 33 47 48 49 63 64 65 99 100 101
  143 144 145 146 147 148 255 256 257 1000 1023 1024 1025 4095 4096 4097 65535 65536
  65537 1048576"
head -c 1048576 /dev/urandom >rand
bad=""
for n in $sizes; do
	head -c "$n" rand >in
	if ! sit-visual -e --png in >v.png 2>err || ! sit-visual -d v.png >out 2>>err ||
	   ! cmp -s in out; then bad="$bad png:$n"; fi
	if ! sit-visual -e <in >v.pam 2>>err || ! sit-visual -d <v.pam >out 2>>err ||
	   ! cmp -s in out; then bad="$bad pam:$n"; fi
done
rm -f v.png v.pam
if [ -z "$bad" ]; then pass "round trips at $(echo $sizes | wc -w) sizes, PNG and PAM"
else fail "round trips" "failed at:$bad $(head -c 200 err)"; fi

# From a pipe (read into memory) rather than a file (streamed).
bad=""
for n in 0 1 100 70000; do
	head -c "$n" rand | sit-visual -e | sit-visual -d | cmp -s - <(head -c "$n" rand) || bad="$bad $n"
done
if [ -z "$bad" ]; then pass "round trips from a pipe"; else fail "pipe round trips" "at:$bad"; fi

bad=""
for w in 1 2 7 64 1000; do
	for n in 0 1 5 97 3000; do
		head -c "$n" rand >in
		sit-visual -e -w "$w" --png in >v.png && sit-visual -d v.png | cmp -s - in ||
			bad="$bad $w:$n"
	done
done
rm -f v.png
if [ -z "$bad" ]; then pass "-w WIDTH round trips"; else fail "-w WIDTH" "failed at:$bad"; fi

head -c 100000 rand >in
sit-visual -e -o v.png in
sit-visual -e -o v.pam in
expect "PNG shape is near-square RGB 8-bit" 0 pngtopam v.png
check "PNG is 183x183" grep -aq '^183 183$' "$T/out"

# An independent decoder sees in our fast PNG the pixels of our PAM.
pngtopam v.png | pamtopnm >a.ppm
pamtopnm v.pam >b.ppm
same "pngtopam reads the fast PNG as our PAM" a.ppm b.ppm
stream -map rgb -storage-type char v.png - >a.rgb 2>/dev/null
tail -c $((183 * 183 * 3)) v.pam >b.rgb
same "ImageMagick reads the fast PNG as our PAM" a.rgb b.rgb

# Lossless conversions by other tools keep it decodable.
convert v.png bmp:v.bmp
expect "PNG -> BMP (ImageMagick)" 0 sit-visual -d v.bmp
same "PNG -> BMP gives the bytes" "$T/out" in
convert v.bmp png:v2.png
expect "BMP -> PNG (ImageMagick)" 0 sit-visual -d v2.png
same "BMP -> PNG gives the bytes" "$T/out" in
pngtopam v.png >v3.ppm
expect "PNG -> PPM (netpbm)" 0 sit-visual -d v3.ppm
same "PNG -> PPM gives the bytes" "$T/out" in
pnmtopng <v.pam >v4.png 2>/dev/null
expect "PAM -> PNG (netpbm)" 0 sit-visual -d v4.png
same "PAM -> PNG gives the bytes" "$T/out" in
ppmtobmp <v3.ppm >v5.bmp 2>/dev/null
expect "PPM -> BMP (netpbm)" 0 sit-visual -d v5.bmp
same "PPM -> BMP gives the bytes" "$T/out" in
pamdepth 65535 v.pam >v16.pam 2>/dev/null
expect "16-bit conversion (netpbm) is refused, not misread" 65 sit-visual -d v16.pam

# Lossy conversion, cropping, resizing, foreign images.
convert v.png -quality 92 v.jpg
expect "JPEG refused" 65 sit-visual -d -o o1 v.jpg
errmatch "JPEG message" '^sit-visual: image was altered \(lossy conversion to JPEG\)'
absent "nothing written after JPEG" o1
convert v.jpg png:vj.png
expect "JPEG back to PNG refused" 65 sit-visual -d -o o2 vj.png
errmatch "JPEG->PNG message" '^sit-visual: image was altered \(lossy conversion\?\): checksum mismatch$'
absent "nothing written after JPEG->PNG" o2
convert v.png -crop 100x90+0+0 +repage png:vc.png
expect "crop refused" 65 sit-visual -d vc.png
errmatch "crop message" '^sit-visual: image was cropped or resized \(made as 183x183, now 100x90\)$'
# Scaling moves the header itself: it is then not recognised at all.
convert v.png -scale 200% png:vr.png
expect "resize refused" 65 sit-visual -d vr.png
errmatch "resize message" '^sit-visual: (image was (cropped or resized|altered)|vr.png is not a sit-visual image)'
expect "a PNG not made by sit refused" 65 sit-visual -d "$SHARED/corpus/pngsuite/basn2c08.png"
errmatch "foreign PNG message" 'is not a sit-visual image$'
expect "not an image refused" 65 sit-visual -d in
errmatch "not an image message" 'is not a sit-visual image: .*not an image'
head -c 1000 v.pam >vt.pam
expect "truncated PAM refused" 65 sit-visual -d -o o3 vt.pam
absent "nothing written from a truncated PAM" o3
# A flipped payload byte (the PAM raster starts after its 67-byte header).
cp v.pam vf.pam
printf '\x55' | dd of=vf.pam bs=1 seek=5000 conv=notrunc 2>/dev/null
expect "flipped byte refused" 65 sit-visual -d -o o4 vf.pam
errmatch "flipped byte message" 'checksum mismatch$'
absent "nothing written after a flipped byte" o4
# A flipped header byte.
cp v.pam vh.pam
printf '\x55' | dd of=vh.pam bs=1 seek=$((67 + 30)) conv=notrunc 2>/dev/null
expect "flipped header byte refused" 65 sit-visual -d vh.pam
errmatch "flipped header message" 'altered'

# Outputs: atomic, never replacing without -f; PNG by name or --png.
expect "existing output refused" 73 sit-visual -e -o v.png in
expect "existing output replaced with -f" 0 sit-visual -e -f -o v.png in
notemp "no temporary files left" "$T"
sit-visual -e --png in >p.png
expect "--png on a pipe writes PNG" 0 pngtopam p.png
expect "-e and -d together" 64 sit-visual -e -d
expect "neither -e nor -d" 64 sit-visual
expect "-w 0 refused" 64 sit-visual -e -w 0 in
expect "-w on decode refused" 64 sit-visual -d -w 5 v.png
expect "missing input" 66 sit-visual -e -o o5 nosuchfile
absent "nothing written for a missing input" o5
expect "--help" 0 sit-visual --help
expect "--version" 0 sit-visual --version

# Known cipher images made once and kept: version 1 (sit 0.1, Poly1305) and
# version 2 (CRC-32C lanes) both decode to the known bytes.
V=$SIT_ROOT/tests/vectors/image
for v in v1 v2; do
	expect "$v cipher image decodes" 0 sit-visual -d "$V/$v-visual.pam"
	same "$v cipher image gives the known bytes" out "$V/payload-1000.bin"
done
