#!/bin/bash
# sit-share / sit-unshare: every K-subset rebuilds, K-1 do not, each refusal
# has its own message and exit 65, shares survive lossless conversions, and a
# share of zeros looks uniformly random.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 70
head -c 1048576 /dev/urandom >rand

# Round trips of byte streams at many sizes, 2 of 2, PAM to named files.
bad=""
for n in 0 1 2 3 4 5 15 16 17 100 143 144 145 1000 4097 65535 65536 65537 200000; do
	head -c "$n" rand >in
	sit-share --pam a b <in 2>err && sit-unshare a b >out 2>>err && cmp -s in out ||
		bad="$bad $n"
	rm -f a b
done
if [ -z "$bad" ]; then pass "2-of-2 round trips at many sizes"; else fail "round trips" "at:$bad $(head -c 200 err)"; fi

bad=""
for n in 0 1 100 70000; do
	head -c "$n" rand | sit-share --pam a b && sit-unshare a b | cmp -s - <(head -c "$n" rand) ||
		bad="$bad $n"
	rm -f a b
done
if [ -z "$bad" ]; then pass "round trips from a pipe"; else fail "pipe round trips" "at:$bad"; fi

# Every K-subset of N shares rebuilds, every (K-1)-subset is refused.
head -c 70001 rand >in
subsets() { # print the subsets of size $2 of 1..$1, one per line
	local n=$1 k=$2 m
	for ((m = 0; m < (1 << n); m++)); do
		local c=0 s="" i
		for ((i = 0; i < n; i++)); do
			if (( (m >> i) & 1 )); then c=$((c + 1)); s="$s $((i + 1))"; fi
		done
		[ $c = "$k" ] && echo "$s"
	done
}
for n in 2 3 4 5; do
	for ((k = 2; k <= n; k++)); do
		rm -f s.*
		sit-share -k $k -n $n --pam -o s <in
		good=0 bad="" short=""
		while read -r set; do
			files=$(for i in $set; do printf 's.%s.pam ' "$i"; done)
			# shellcheck disable=SC2086 # a list of file names
			if sit-unshare $files 2>err | cmp -s - in; then good=$((good + 1)); else bad="$bad [$set]"; fi
		done < <(subsets $n $k)
		while read -r set; do
			files=$(for i in $set; do printf 's.%s.pam ' "$i"; done)
			# shellcheck disable=SC2086
			sit-unshare $files >/dev/null 2>err
			rc=$?
			[ $rc = 65 ] && grep -q "fewer than K shares: $((k - 1)) given, $k needed" err ||
				short="$short [$set]"
		done < <(subsets $n $((k - 1)))
		if [ -z "$bad$short" ]; then pass "$k of $n: all $good subsets rebuild, K-1 refused"
		else fail "$k of $n" "failed:$bad refused wrongly:$short"; fi
	done
done

# 1 MiB, 3 of 5, PNG shares, named by prefix.
head -c 1048576 rand >in
expect "3 of 5 with -o PREFIX" 0 sit-share -k 3 -n 5 -o p <in
check "PREFIX.1.png ... PREFIX.5.png" test -s p.1.png -a -s p.5.png
expect "rebuild 1 MiB from shares 2 4 5" 0 sit-unshare p.2.png p.4.png p.5.png
same "1 MiB rebuilt" "$T/out" in
expect "extra shares are fine" 0 sit-unshare p.5.png p.1.png p.2.png p.3.png
same "rebuilt with 4 of 5" "$T/out" in

# Refusals: each one line, exit 65, nothing written.
head -c 5000 rand >in
sit-share a.png b.png <in
sit-share c.png d.png <in
expect "different sets" 65 sit-unshare -o o1 a.png d.png
errmatch "different sets message" '^sit-unshare: shares from different sets: a.png and d.png$'
absent "nothing written (different sets)" o1
expect "same share twice" 65 sit-unshare -o o2 a.png a.png
errmatch "same share message" '^sit-unshare: the same share twice: a.png and a.png are both share 1 of 2$'
cp b.png b2.png
expect "same share under two names" 65 sit-unshare b.png b2.png
errmatch "same share, two names" 'the same share twice: b.png and b2.png'
expect "fewer than K" 65 sit-unshare -o o3 a.png
errmatch "fewer than K message" '^sit-unshare: fewer than K shares: 1 given, 2 needed$'
absent "nothing written (fewer than K)" o3
expect "not a share" 65 sit-unshare in a.png
errmatch "not a share message" '^sit-unshare: in is not a share'
expect "a foreign PNG" 65 sit-unshare a.png "$SHARED/corpus/pngsuite/basn2c08.png"
errmatch "foreign PNG message" 'basn2c08.png is not a share$'
sit-visual -e -o v.png in
expect "a sit-visual image is not a share" 65 sit-unshare a.png v.png
errmatch "sit-visual image message" 'v.png is not a share \(a sit-visual image'
sit-share --pam e.pam f.pam <in
cp f.pam g.pam
printf '\x55' | dd of=g.pam bs=1 seek=3000 conv=notrunc 2>/dev/null
expect "flipped byte" 65 sit-unshare -o o4 e.pam g.pam
errmatch "flipped byte names the share" '^sit-unshare: share g.pam was altered \(lossy conversion\?\): checksum mismatch$'
absent "nothing written (flipped byte)" o4
cp b.png h.png
printf '\x55' | dd of=h.png bs=1 seek=3000 conv=notrunc 2>/dev/null
expect "flipped byte in a PNG" 65 sit-unshare a.png h.png
errmatch "flipped PNG byte names the share" 'h.png'
convert b.png -quality 95 b.jpg
expect "JPEG share" 65 sit-unshare -o o5 a.png b.jpg
errmatch "JPEG share message" '^sit-unshare: share b.jpg was altered \(lossy conversion to JPEG\): checksum mismatch$'
absent "nothing written (JPEG)" o5
convert b.jpg png:bj.png
expect "JPEG share back to PNG" 65 sit-unshare a.png bj.png
errmatch "JPEG->PNG share message" '^sit-unshare: share bj.png (was altered|is not a share)'

# Lossless conversions keep shares usable.
convert b.png bmp:b.bmp
pngtopam a.png >a.ppm
expect "BMP and PPM shares (ImageMagick, netpbm)" 0 sit-unshare a.ppm b.bmp
same "rebuilt from converted shares" "$T/out" in
pngtopam a.png | pamtopnm >a1.ppm
pamtopnm e.pam >e1.ppm
stream -map rgb -storage-type char a.png - >/dev/null 2>&1
expect "fast PNG share read by pngtopam" 0 pngtopam a.png

# An image input: shares keep its width; height grows by the header rows.
sit-visual -e --png in >v.png
sit-share -o vs <v.png
pngtopam v.png | head -2 | tail -1 >dim.v
pngtopam vs.1.png | head -2 | tail -1 >dim.s
w=$(cut -d' ' -f1 dim.v) h=$(cut -d' ' -f2 dim.v)
check "share of an image keeps the width, one header row" grep -q "^$w $((h + 1))$" dim.s
sit-unshare vs.1.png vs.2.png | sit-visual -d >out
same "sit-unshare | sit-visual -d" out in
sit-unshare -o r.png vs.2.png vs.1.png
pngtopam r.png | pamtopnm >r.ppm
pngtopam v.png | pamtopnm >v.ppm
same "rebuilt image as PNG has the same pixels" r.ppm v.ppm
png16=$SHARED/corpus/pngsuite/basn2c16.png
sit-share -k 2 -n 3 -o x <"$png16"
expect "16-bit image rebuilt" 0 sit-unshare -o x.png x.3.png x.1.png
pngtopam "$png16" >x0.pam
pngtopam x.png >x1.pam
same "16-bit pixels identical" x0.pam x1.pam
sit-share --bytes -o y <"$png16"
sit-unshare y.1.png y.2.png >y.png
same "--bytes keeps the PNG file's exact bytes" y.png "$png16"

# Outputs may be fifos and process substitutions.
mkfifo f1 f2
head -c 300000 rand >in
sit-share f1 f2 <in &
expect "fifos in and out" 0 sit-unshare f1 f2
wait
same "rebuilt through fifos" "$T/out" in
sit-share --png >(cat >q1) >(cat >q2) <in
sleep 0.3
expect "process substitutions" 0 sit-unshare <(cat q1) <(cat q2)
same "rebuilt through process substitutions" "$T/out" in

# Batches (lib/pipeline.h): several batches per stream, split on worker
# threads or, with one CPU (taskset), by the main thread alone; either way
# any K shares rebuild, whichever way they were made, and through fifos the
# 8 KiB turns still line up across batch boundaries.
head -c 4048577 /dev/urandom >big
if command -v taskset >/dev/null; then
	one() { taskset -c 0 "$@"; }
else
	one() { "$@"; }
fi
sit-share -k 3 -n 5 --pam -o th <big
one sit-unshare th.5.pam th.1.pam th.3.pam >out
same "threads split, one CPU rebuilds" out big
one sit-share -k 3 -n 5 --pam -o tone <big
sit-unshare tone.2.pam tone.4.pam tone.5.pam >out
same "one CPU splits, threads rebuild" out big
mkfifo g1 g2 g3
sit-share -k 2 -n 3 --pam g1 g2 g3 <big &
expect "fifos, several batches, more than K" 0 sit-unshare g1 g2 g3
wait
same "rebuilt through fifos, several batches" "$T/out" big
rm -f g1 g2 g3

# Rows longer than a pipe holds (20000 px of 16-bit RGBA: 160000 bytes):
# share, padding and reading all go in turns, so fifos do not deadlock.
python3 -c "
import os, sys
w, h = 20000, 3
sys.stdout.buffer.write(b'P7\\nWIDTH %d\\nHEIGHT %d\\nDEPTH 4\\nMAXVAL 65535\\nTUPLTYPE RGB_ALPHA\\nENDHDR\\n' % (w, h) + os.urandom(w * h * 8))" >wide.pam
for ext in pam png; do
	mkfifo "wa.$ext" "wb.$ext"
	timeout 60 sit-share -i wide.pam "wa.$ext" "wb.$ext" &
	expect "rows longer than a pipe, $ext fifos" 0 timeout 60 sit-unshare --pam "wa.$ext" "wb.$ext"
	wait
	same "rows longer than a pipe, $ext fifos: the image back" "$T/out" wide.pam
	rm -f "wa.$ext" "wb.$ext"
done

# An error in a late batch: the message of that share, exit 65, no output.
head -c 2500000 th.2.pam >cut.pam
expect "share cut short in a late batch" 65 sit-unshare -o late th.1.pam cut.pam th.3.pam
errmatch "cut share named" '^sit-unshare: .*cut\.pam'
absent "nothing written (cut share)" late
cp th.4.pam flip.pam
printf '\x33' | dd of=flip.pam bs=1 seek=3900000 conv=notrunc 2>/dev/null
expect "flip in a late batch" 65 sit-unshare -o late th.1.pam th.2.pam flip.pam
errmatch "flipped share named" '^sit-unshare: share flip\.pam was altered \(lossy conversion\?\): checksum mismatch$'
absent "nothing written (flip)" late
rm -f th.* tone.* cut.pam flip.pam big

# A filesystem that fills up while the shares are written (several threads
# write them side by side): exit 74 naming a share, and no share, whole or
# partial, left behind.  Needs a small tmpfs of its own, so root.
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=3m tmpfs small 2>/dev/null; then
	head -c 4000000 /dev/urandom >in4
	expect "disk full while writing PNG shares" 74 sit-share -k 2 -n 2 -o small/df <in4
	errmatch "disk full names a share" '^sit-share: cannot write small/df\.[12]\.png: No space left on device$'
	expect "disk full while writing 3 PAM shares" 74 sit-share --pam -k 2 -n 3 small/a small/b small/c <in4
	errmatch "disk full names a PAM share" '^sit-share: cannot write small/[abc]: No space left on device$'
	check "nothing left in the full filesystem" test -z "$(ls -A small)"
	umount small
	rm -f in4
else
	skip "disk full while writing shares" "needs root to mount a small tmpfs"
fi

# A byte stream from a pipe waits in a nameless file in $TMPDIR until its
# end (spool.h), encrypted: looked at while sit-share waits for the rest,
# the file holds the bytes so far, but not the words the input is made of.
# The writer holds the end back until the look is over (file "go").
mkdir -p sp
mkfifo spin
{ yes SITSPOOLMARKER | head -c 2000000
  for _ in $(seq 600); do [ -e go ] && break; sleep 0.1; done
  printf end; } >spin &
TMPDIR=$T/sp sit-share -f -o spo -i spin &
pid=$!
spooled="" size=0
for _ in $(seq 600); do
	for f in /proc/$pid/fd/*; do
		case "$(readlink "$f" 2>/dev/null)" in "$T/sp/"*"(deleted)") spooled=$f ;; esac
	done
	[ -n "$spooled" ] && size=$(stat -L -c %s "$spooled" 2>/dev/null || echo 0)
	[ "${size:-0}" -ge 1048576 ] && break
	sleep 0.1
done
if [ -n "$spooled" ] && [ -r "$spooled" ]; then
	check "the spool holds what came so far ($size bytes)" test "$size" -ge 1048576
	if grep -q SITSPOOLMARKER "$spooled"; then fail "spool encrypted" "plaintext in $spooled"
	else pass "the spool holds no plaintext"; fi
else
	skip "spool contents" "cannot open sit-share's nameless file through /proc"
fi
touch go
wait $pid
check "sit-share from a slow pipe ends well" test -s spo.1.png -a -s spo.2.png
{ yes SITSPOOLMARKER | head -c 2000000; printf end; } >spin.want
sit-unshare spo.1.png spo.2.png >spo.out
same "rebuilt from the spooled pipe" spo.out spin.want
check "nothing left in TMPDIR" test -z "$(ls -A sp)"
rm -f spin spin.want spo.* go

# Shares of 1 MiB of zeros: byte frequencies uniform.  Chi-square with 255
# degrees of freedom: mean 255, sd 22.6; P(chi2 > 415) is about 1e-9
# (Wilson-Hilferty, z = 6.0), so a false failure is practically impossible.
head -c 1048576 /dev/zero >zero
sit-share --pam z1.pam z2.pam <zero
for z in z1 z2; do
	# The PAM header is 67 bytes, then our 80-byte header, then the payload.
	chi=$(tail -c +$((67 + 80 + 1)) $z.pam | head -c 1048576 | od -An -v -tu1 -w65536 |
		tr -s ' ' '\n' | awk 'NF { c[$1]++; n++ }
		END { e = n / 256; for (i = 0; i < 256; i++) x += (c[i] - e) ^ 2 / e; printf "%d", x }')
	if [ "$chi" -lt 415 ]; then pass "share $z of zeros looks uniform (chi2 $chi)"
	else fail "uniformity of $z" "chi2 $chi >= 415"; fi
done

# Command line and outputs.
expect "K > N" 64 sit-share -k 3 -n 2 -o k <in
expect "N > 255" 64 sit-share -n 256 -o k <in
expect "-n and a different number of names" 64 sit-share -n 3 a1 a2 <in
expect "no outputs" 64 sit-share <in
expect "no shares" 64 sit-unshare
sit-share -o m <in
expect "existing output refused" 73 sit-share m.1.png m2.png <in
absent "no partial share left" m2.png
expect "missing input" 66 sit-share -i nosuch n1 n2
absent "nothing written for a missing input" n1 n2
notemp "no temporary files left" "$T"
# -f replaces existing shares as rename(2) does: a hard link to an old share
# keeps its bytes, a read-only share is replaced, a symbolic link is replaced
# by the share and its target is left alone.  (sit-share holds each old file
# of 1 MiB or more open until after the rename, so that freeing it runs
# beside the others.)
head -c 1200000 /dev/urandom >rA
head -c 1200000 /dev/urandom >rB
sit-share -o rp <rA && ln rp.1.png rkeep && cp rp.1.png rkeep.want && chmod 0400 rp.2.png &&
	echo target >rtarget && ln -s rtarget rp.3.png
expect "-f over shares, a hard link, a read-only and a symlink" 0 sit-share -f -n 3 -o rp <rB
sit-unshare rp.1.png rp.3.png >rout 2>/dev/null
same "-f: the new shares rebuild the new input" rout rB
same "-f: the hard link keeps the old share" rkeep rkeep.want
if [ -f rp.3.png ] && [ ! -L rp.3.png ] && [ "$(cat rtarget)" = target ]; then
	pass "-f: a symlink is replaced, its target untouched"
else
	fail "-f over a symlink" "rp.3.png: $(ls -l rp.3.png 2>&1); rtarget: $(head -c 40 rtarget)"
fi
notemp "-f: no temporary files left" "$T"
rm -f rA rB rp.* rkeep rkeep.want rtarget rout

expect "--help" 0 sit-share --help
expect "--version" 0 sit-unshare --version

# Known shares made once and kept (tests/vectors/image): version 1 (Poly1305
# payload checksum, sit 0.1) and version 2 (CRC-32C lanes) both rebuild, and
# a flip anywhere in a version 2 payload or its checksum is caught.
V=$SIT_ROOT/tests/vectors/image
for v in v1 v2; do
	expect "$v shares rebuild" 0 sit-unshare "$V/$v-share.1.pam" "$V/$v-share.2.pam"
	same "$v shares give the known bytes" out "$V/payload-1000.bin"
done
bad=""
for off in 67 141 600 1140 1141 1156; do # PAM header 61 bytes, sit header 80, payload 1000, sum 16
	cp "$V/v2-share.2.pam" vf.pam
	python3 -c "import sys; b=bytearray(open('vf.pam','rb').read()); b[$off]^=0x10; open('vf.pam','wb').write(b)"
	sit-unshare "$V/v2-share.1.pam" vf.pam >/dev/null 2>vf.err && bad="$bad $off"
	grep -q '^sit-unshare: share vf.pam ' vf.err || bad="$bad $off(msg)"
done
if [ -z "$bad" ]; then pass "flips in a version 2 share are caught"; else fail "version 2 flips" "not caught at:$bad"; fi
