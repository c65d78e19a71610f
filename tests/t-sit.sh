#!/bin/bash
# sit (the wrapper) on one machine: every mode's round trip byte for byte,
# failures in the first, a middle and the last stage reported with that
# stage's message and code and nothing written, existing files, the deadline,
# notification, signals, batches with -j and two runs at once.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 70
mkdir -p tmp && export SIT_TMPDIR=$T/tmp   # sit's work directories go here
convert -seed 7 -size 120x90 plasma: a.png 2>/dev/null &&
	convert -seed 8 -size 96x64 plasma: -quality 85 b.jpg 2>/dev/null ||
	{ fail "setup" "ImageMagick cannot make test images"; exit 1; }
sit-aes --gen-key -o key && sit-aes --gen-key -o other ||
	{ fail "setup" "sit-aes --gen-key failed"; exit 1; }

# Nothing at all on stdout and stderr, exit 0.
quiet() {
	local name=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc = 0 ] && [ ! -s "$T/out" ] && [ ! -s "$T/err" ]; then pass "$name"
	else fail "$name" "exit $rc, stdout $(wc -c <"$T/out") bytes, stderr: $(head -c 300 "$T/err")"; fi
}

# ---- round trips --------------------------------------------------------
mkdir d1 r1
cp a.png b.jpg d1/
quiet "encrypt: sealed files, silent" sit encrypt -k key d1/a.png d1/b.jpg
check "encrypt: sealed file starts with SITAES magic" \
	sh -c "head -c 8 d1/a.png.sit | od -An -c | grep -q 'S   I   T   A   E   S  \\\\r  \\\\n'"
quiet "decrypt: sealed files into -O DIR" sit decrypt -k key -O r1 d1/a.png.sit d1/b.jpg.sit
same "sealed round trip PNG" a.png r1/a.png
same "sealed round trip JPEG" b.jpg r1/b.jpg
notemp "no temporary files beside the outputs" r1
notemp "no temporary files beside the sealed files" d1

mkdir d2 r2
cp a.png d2/
quiet "encrypt --visual" sit encrypt --visual -k key d2/a.png
check "cipher image is a PNG" sh -c "pngtopam d2/a.png.sit.png >/dev/null"
quiet "decrypt a cipher image" sit decrypt -k key -O r2 d2/a.png.sit.png
same "visual round trip" a.png r2/a.png

mkdir d3
cp b.jpg d3/
quiet "encrypt --shares 2/3" sit encrypt --shares 2/3 -k key d3/b.jpg
bad=""
for pair in "1 2" "1 3" "2 3"; do
	set -- $pair
	rm -f d3/out.jpg
	sit decrypt -k key -o d3/out.jpg "d3/b.jpg.$1.png" "d3/b.jpg.$2.png" 2>>err.shares &&
		cmp -s b.jpg d3/out.jpg || bad="$bad ($pair)"
done
if [ -z "$bad" ]; then pass "shares: every 2 of 3 rebuild the image"; else fail "shares 2 of 3" "failed:$bad $(head -c 200 err.shares)"; fi
rm -f d3/out.jpg
expect "one share of 2 needed: 65" 65 sit decrypt -k key -o d3/out.jpg d3/b.jpg.2.png
errmatch "one share: sit-unshare's message" '^sit-unshare: fewer than K shares'
absent "one share: nothing written" d3/out.jpg

mkdir d4
quiet "encrypt --visual --shares 2/2 -o PREFIX" sit encrypt --visual --shares 2/2 -k key -o d4/s a.png
quiet "decrypt --visual shares" sit decrypt -k key -o d4/a.png d4/s.1.png d4/s.2.png
same "visual shares round trip" a.png d4/a.png

sit encrypt -k key - <b.jpg >pipe.sit 2>err.pipe &&
	sit decrypt -k key - <pipe.sit >pipe.jpg 2>>err.pipe
same "stdin to stdout and back" b.jpg pipe.jpg
sit encrypt --visual -k key - <a.png | sit decrypt -k key - >pipe.png 2>>err.pipe
same "cipher image through a pipe" a.png pipe.png

# Public keys: the sender holds no secret.
sit-aes --gen-identity -o id >pub 2>/dev/null
mkdir d5
sit encrypt -r "$(cat pub)" -o d5/b.sit b.jpg 2>err.pub && sit decrypt -i id -o d5/b.jpg d5/b.sit 2>>err.pub
same "recipient -r and identity -i" b.jpg d5/b.jpg

# A passphrase from a descriptor, never from argv; a 0600 file on decrypt.
printf 'correct horse\n' >pass && chmod 600 pass
mkdir d6
sit encrypt --passphrase-fd 4 -o d6/a.sit a.png 4<pass 2>err.pass &&
	sit decrypt -p pass -o d6/a.png d6/a.sit 2>>err.pass
same "passphrase by descriptor, then by file" a.png d6/a.png

# --strip and --to: the GPS position does not travel; the name follows the format.
mkdir d7
cp b.jpg d7/gps.jpg
if exiftool -q -overwrite_original -GPSLatitude=48.8584 -GPSLatitudeRef=N \
	-GPSLongitude=2.2945 -GPSLongitudeRef=E d7/gps.jpg >/dev/null 2>&1; then
	sit encrypt --strip -k key -o d7/gps.sit d7/gps.jpg && sit decrypt -k key -o d7/out.jpg d7/gps.sit
	if [ -z "$(exiftool -q -s -GPSLatitude d7/out.jpg)" ] && [ -n "$(exiftool -q -s -GPSLatitude d7/gps.jpg)" ]; then
		pass "--strip: the GPS position is gone"
	else fail "--strip" "GPS still there: $(exiftool -q -s -GPSLatitude d7/out.jpg)"; fi
else skip "--strip" "exiftool cannot write EXIF here"; fi
quiet "--to png names the result a.png.sit... from a.jpg" sit encrypt --to png -k key -O d7 b.jpg
check "--to png: b.png.sit exists" test -f d7/b.png.sit
sit decrypt -k key -o d7/b.png d7/b.png.sit 2>/dev/null
sit-load --to pam b.jpg >pix.want 2>/dev/null
sit-load --to pam d7/b.png >pix.got 2>/dev/null
same "--to png: pixel-identical" pix.want pix.got

# Signed by the sender, checked by the receiver, and not twice.
sit-aes --gen-signing-key -o signer >signer.pub 2>/dev/null
sit-aes --gen-signing-key -o other-signer >/dev/null 2>&1
printf '%s alice\n' "$(cat signer.pub)" >trusted && chmod 600 trusted
mkdir d8
quiet "encrypt --sign" sit encrypt --sign signer -k key -o d8/a.sit a.png
quiet "decrypt --from-file: the signer is trusted" sit decrypt --from-file trusted -k key -o d8/a.png d8/a.sit
same "signed round trip" a.png d8/a.png
expect "decrypt --from another signer: 65" 65 sit decrypt --from "$(sit-aes --public other-signer)" -k key -o d8/b.png d8/a.sit
absent "another signer: nothing written" d8/b.png
quiet "decrypt with a ledger: accepted" sit decrypt --replay-ledger d8/ledger -k key -o d8/c.png d8/a.sit
expect "the same message again: 65" 65 sit decrypt --replay-ledger d8/ledger -k key -o d8/d.png d8/a.sit
errmatch "replay: sit-aes says so" '^sit-aes: replayed'
absent "replay: nothing written" d8/d.png

# ---- failures: code and message of the stage that failed, nothing written -------
mkdir f
cp a.png f/
sit encrypt -k key f/a.png
expect "wrong key: 65" 65 sit decrypt -k other -o f/out.png f/a.png.sit
errmatch "wrong key: sit-aes's message" '^sit-aes: wrong passphrase or key'
absent "wrong key: nothing written" f/out.png
notemp "wrong key: no temporary file" f

cp f/a.png.sit f/t.png.sit
printf 'X' | dd of=f/t.png.sit bs=1 seek=3000 conv=notrunc 2>/dev/null
expect "tampered: 65" 65 sit decrypt -k key f/t.png.sit
errmatch "tampered: sit-aes names it" '^sit-aes: data corrupted or tampered'
absent "tampered: nothing written" f/t.png

# First stage fails while the later ones would succeed: sit-aes -e would seal
# the empty stream it got, but no .sit may appear.
head -c 5000 /dev/urandom >f/noise.png
expect "not an image: 65" 65 sit encrypt -k key f/noise.png
errmatch "not an image: sit-load's message" '^sit-load: '
absent "not an image: no sealed file" f/noise.png.sit
notemp "not an image: no temporary file" f

# A middle stage: a cipher image made lossy (JPEG) fails in sit-visual, not later.
sit encrypt --visual -k key f/a.png
convert f/a.png.sit.png -quality 90 f/lossy.sit.jpg
expect "lossy cipher image: 65" 65 sit decrypt -k key -o f/lossy.png f/lossy.sit.jpg
errmatch "lossy cipher image: sit-visual's message" '^sit-visual: '
absent "lossy cipher image: nothing written" f/lossy.png

# A middle stage in a share set: one share damaged.
sit encrypt --shares 2/2 -k key -o f/s f/a.png
cp f/s.2.png f/s2.good
size=$(stat -c %s f/s.2.png)
printf 'X' | dd of=f/s.2.png bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect "damaged share: 65" 65 sit decrypt -k key -o f/s.out f/s.1.png f/s.2.png
errmatch "damaged share: sit-unshare or a decoder says so" '^sit-(unshare|visual|load): '
absent "damaged share: nothing written" f/s.out

expect "not ours: 65" 65 sit decrypt -k key f/noise.png
errmatch "not ours: says what it is not" '^sit: f/noise.png is not a sealed file, a cipher image or a share'

expect "existing output without -f: 73" 73 sit encrypt -k key f/a.png
errmatch "existing output: says -f" 'already exists \(use -f'
cp f/a.png.sit before.sit
expect "existing output with -f: replaced" 0 sit encrypt -f -k key f/a.png
check "-f: the file was replaced (fresh nonce)" sh -c '! cmp -s before.sit f/a.png.sit'

expect "no key and no terminal: 64" 64 setsid sit encrypt f/a.png </dev/null
expect "an empty passphrase on a descriptor: 64" 64 sit encrypt --passphrase-fd 4 -o f/empty.sit f/a.png 4< <(echo)
errmatch "empty passphrase: said so" '^sit: empty passphrase$'
absent "empty passphrase: nothing written" f/empty.sit
expect "bad --shares: 64" 64 sit encrypt --shares 3/2 -k key f/a.png
expect "no command: 64" 64 sit
expect "--help: 0" 0 sit --help

# ---- deadline, notification, syslog ------------------------------------------
mkdir n
cat >n/notify.sh <<'EOF'
#!/bin/sh
printf 'STATUS=%s\nINPUT=%s\nOUTPUT=%s\nMESSAGE=%s\n' "$SIT_STATUS" "$SIT_INPUT" "$SIT_OUTPUT" "$SIT_MESSAGE" >>"$NOTIFY_LOG"
EOF
chmod +x n/notify.sh
export NOTIFY_LOG=$T/n/log
cp a.png n/
sit encrypt -k key --notify "$T/n/notify.sh" n/a.png
check "notify ok: environment" grep -qx 'STATUS=ok' n/log
check "notify ok: input and output" sh -c "grep -qx 'INPUT=n/a.png' n/log && grep -qx 'OUTPUT=n/a.png.sit' n/log"
: >n/log
sit decrypt -k other --notify "$T/n/notify.sh" -o n/x.png n/a.png.sit 2>/dev/null
check "notify failed: status and message" sh -c "grep -qx 'STATUS=failed' n/log && grep -q '^MESSAGE=sit-aes: wrong passphrase' n/log"

# The deadline: a sender that never finishes.
: >n/log
start=$(date +%s%N)
sit decrypt -k key --deadline 1 --notify "$T/n/notify.sh" -o n/late.png - < <(sleep 6) >out 2>err
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc = 75 ] && [ $ms -lt 4000 ]; then pass "deadline 1 s: exit 75 after ${ms} ms"
else fail "deadline" "exit $rc after $ms ms (wanted 75 within 4 s): $(cat err)"; fi
errmatch "deadline: the resend message" 'deadline of 1 s passed, output discarded: ask the sender to resend'
absent "deadline: nothing written" n/late.png
check "deadline: notify says resend" grep -qx 'STATUS=resend' n/log

# Stalled shares (fifos whose writers never write) hit the deadline too.
mkfifo n/f1 n/f2
(exec 5>n/f1 6>n/f2; sleep 6) &
hold=$!
expect "stalled shares: 75" 75 timeout 8 sit decrypt --shares -k key --deadline 1 -o n/late2.png n/f1 n/f2
errmatch "stalled shares: resend" 'deadline of 1 s passed.*resend'
kill $hold 2>/dev/null
wait $hold 2>/dev/null
absent "stalled shares: nothing written" n/late2.png

mkdir n/bin
cat >n/bin/logger <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >>"$NOTIFY_LOG.syslog"
EOF
chmod +x n/bin/logger
PATH=$T/n/bin:$PATH sit encrypt -k key --syslog -o n/s.sit a.png
PATH=$T/n/bin:$PATH sit decrypt -k other --syslog -o n/s.png n/s.sit 2>/dev/null
check "--syslog: success logged" grep -q -- '-p user.notice -- ok: a.png -> n/s.sit' n/log.syslog
check "--syslog: failure logged as an error" grep -q -- '-p user.err -- failed: n/s.sit: sit-aes: wrong' n/log.syslog

# ---- signals: no temporary file, no work directory, no process left ---------
mkdir g
cp key g/sigkey
for sig in INT TERM; do
	rm -rf tmp/* g/out.png
	timeout -s $sig 1 sit decrypt -k g/sigkey --deadline 0 -o g/out.png - < <(sleep 5) 2>/dev/null
	rc=$?
	sleep 0.3
	left=$(pgrep -f 'g/sigkey' | head -3)
	if [ $rc -ge 124 ] && [ -z "$left" ] && [ -z "$(ls -A tmp)" ] && [ ! -e g/out.png ]; then
		pass "SIG$sig during decrypt: exit $rc, nothing left"
	else fail "SIG$sig during decrypt" "exit $rc, processes '$left', tmp: $(ls -A tmp), out: $(ls g)"; fi
	notemp "SIG$sig: no temporary file beside the output" g
done
timeout -s TERM 1 sit encrypt -k g/sigkey -o g/x.sit - < <(sleep 5) 2>/dev/null
sleep 0.3
if [ -z "$(pgrep -f g/sigkey)" ] && [ -z "$(ls -A tmp)" ] && [ ! -e g/x.sit ]; then
	pass "SIGTERM during encrypt: nothing left"
else fail "SIGTERM during encrypt" "tmp: $(ls -A tmp), g: $(ls -A g)"; fi
notemp "SIGTERM during encrypt: no temporary file" g

# ---- batches ------------------------------------------------------------------
mkdir j jr
# Six different images from one ImageMagick run (each process start is slow).
convert -seed 1 -size 240x120 plasma: -crop 80x60 +repage -scene 1 j/p%d.png
quiet "batch -j 3: silent on success" sit encrypt -j 3 -k key j/p1.png j/p2.png j/p3.png j/p4.png j/p5.png j/p6.png
quiet "batch decrypt -j 3 -O DIR" sit decrypt -j 3 -k key -O jr j/p1.png.sit j/p2.png.sit j/p3.png.sit j/p4.png.sit j/p5.png.sit j/p6.png.sit
bad=""
for i in 1 2 3 4 5 6; do cmp -s j/p$i.png jr/p$i.png || bad="$bad $i"; done
if [ -z "$bad" ]; then pass "batch -j 3: every image identical"; else fail "batch -j 3" "differ:$bad"; fi
notemp "batch: no temporary files" jr

rm -f jr/*
cp f/noise.png j/bad.sit
expect "batch with one bad file: 65" 65 sit decrypt -j 2 -k key -O jr j/p1.png.sit j/bad.sit j/p2.png.sit
check "batch failure: the bad file named" grep -q '^sit: j/bad.sit' err
check "batch failure: one-line summary" grep -qx 'sit: 2 of 3 images decrypted, 1 failed' err
check "batch failure: the good ones done" sh -c 'cmp -s j/p1.png jr/p1.png && cmp -s j/p2.png jr/p2.png'
expect "-v: a summary on success" 0 sit decrypt -v -f -k key -O jr j/p1.png.sit j/p2.png.sit
check "-v: summary line" grep -qx 'sit: 2 of 2 images decrypted, 0 failed' err

# Two runs at once on one directory: every result whole and right, nothing left.
mkdir c cr
cp j/p?.png c/
sit encrypt -f -k key c/*.png 2>c1.err &
p1=$!
sit encrypt -f -k key c/*.png 2>c2.err &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ $r1 = 0 ] && [ $r2 = 0 ]; then pass "two runs at once with -f: both succeed"
else fail "two runs at once with -f" "exits $r1 $r2: $(cat c1.err c2.err | head -3)"; fi
sit decrypt -k key -j 2 -O cr c/*.sit 2>c3.err &
p1=$!
sit decrypt -k key -j 2 -O cr c/*.sit 2>c4.err &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
bad=""
for i in 1 2 3 4 5 6; do cmp -s c/p$i.png cr/p$i.png || bad="$bad $i"; done
others=$(cat c3.err c4.err | grep -v 'already exists' | grep -v 'images decrypted')
if [ -z "$bad" ] && [ -z "$others" ] && [ $r1 != 1 ] && [ $r2 != 1 ]; then
	pass "two decrypt runs at once: every image whole (exits $r1 $r2)"
else fail "two decrypt runs at once" "differ:$bad exits $r1 $r2 $others"; fi
notemp "two runs at once: no temporary files" cr
notemp "two runs at once: none beside the inputs" c
check "no work directory left in SIT_TMPDIR" test -z "$(ls -A tmp)"

# Every long option of the wrapper is in its man page.
missing=""
for opt in $(sed -n '/^parse_args() {/,/^}/p' "$SIT_ROOT/scripts/sit" | grep -oE '^\s+[-a-zA-Z |]+\)' | grep -oE -- '--[a-z-]+' | sort -u); do
	grep -qE "Fl -${opt#--}( |\$)" "$SIT_ROOT/man/sit.1" || missing="$missing $opt"
done
if [ -z "$missing" ]; then pass "sit: every long option documented in sit.1"
else fail "sit: every long option documented" "missing:$missing"; fi
