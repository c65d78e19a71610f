#!/bin/bash
# t-out: every way a filter publishes a file refuses an output name that is a
# directory or a symbolic link (dangling or not) with exit 73 and a message
# naming it; -f replaces the link itself, never what it points to; a link
# swapped in between the check and the commit is never followed; a fifo of
# another user is not written; descriptor names (/dev/stdout, /dev/fd/N)
# still work; SIGKILL at any moment leaves no file behind.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 70

head -c 100000 /dev/urandom >plain
sit-aes --gen-key -o key 2>/dev/null
sit-aes -e -k key -o sealed plain
png=$SHARED/corpus/pngsuite/basn2c08.png
sit-visual -e -o cipher.png sealed
sit-share -i sealed s1.png s2.png

# NAME ARGS...: each filter, with @ where its output name goes.
cases=(
	"sit-load|-o @ $png"
	"sit-aes -e|-e -k key -o @ plain"
	"sit-aes -d|-d -k key -o @ sealed"
	"sit-visual -e|-e -o @ sealed"
	"sit-visual -d|-d -o @ cipher.png"
	"sit-share|-i sealed @ other.png"
	"sit-share -o|-i sealed -o @"
	"sit-unshare|-o @ s1.png s2.png"
)

run_case() { # PROG ARGS OUT [-f]: run with @ replaced by OUT
	local prog=$1 args=$2 out=$3 force=${4:-} a list=()
	for a in $args; do
		case $a in
		@) list+=("$out") ;;
		*) list+=("$a") ;;
		esac
	done
	# shellcheck disable=SC2086 # $force is one option or none
	"${prog%% *}" $force "${list[@]}"
}

mkdir victim
echo precious >victim/file
for c in "${cases[@]}"; do
	name=${c%%|*} args=${c#*|} prog=${name%% -o}
	# sit-share -o PREFIX names PREFIX.1.png and PREFIX.2.png.
	case $name in "sit-share -o") target=pre.1.png; out=pre ;; *) target=out.png; out=out.png ;; esac
	rm -rf out.png pre.* other.png

	ln -s victim "$target"
	expect "$name: link to a directory refused" 73 run_case "$prog" "$args" "$out"
	errmatch "$name: message names the link" "$target is a symbolic link"
	check "$name: nothing written through the link" test "$(ls victim)" = file
	expect "$name -f: link to a directory replaced" 0 run_case "$prog" "$args" "$out" -f
	check "$name -f: the name is now a file" test -f "$target" -a ! -L "$target"
	check "$name -f: the directory is untouched" test "$(ls victim)" = file
	rm -f "$target" pre.* other.png

	ln -s victim/file "$target"
	expect "$name: link to a file elsewhere refused" 73 run_case "$prog" "$args" "$out"
	errmatch "$name: message names the link" "$target is a symbolic link"
	check "$name: the linked file is untouched" test "$(cat victim/file)" = precious
	expect "$name -f: link to a file replaced" 0 run_case "$prog" "$args" "$out" -f
	check "$name -f: the link is gone, not followed" test -f "$target" -a ! -L "$target"
	check "$name -f: the linked file is untouched" test "$(cat victim/file)" = precious
	rm -f "$target" pre.* other.png

	ln -s victim/new "$target"
	expect "$name: dangling link refused" 73 run_case "$prog" "$args" "$out"
	errmatch "$name: message names the link" "$target is a symbolic link"
	absent "$name: the link's target was not created" victim/new
	rm -f "$target" pre.* other.png

	mkdir "$target"
	expect "$name: existing directory refused" 73 run_case "$prog" "$args" "$out"
	errmatch "$name: message names the directory" "$target is a directory"
	expect "$name -f: existing directory refused" 73 run_case "$prog" "$args" "$out" -f
	check "$name: the directory is left empty" test -z "$(ls -A "$target")"
	rmdir "$target"
	rm -f pre.* other.png
	notemp "$name: no temporary file left" .
	notemp "$name: nothing left in the directory" victim
done

# A link swapped in between the check and the commit: the program checks
# the name, then blocks reading a fifo while the link appears.  Without -f
# the commit refuses (exit 73), with -f it replaces the link; the file the
# link points to is never written.  Several times, the link made at
# different moments of the run.
mkfifo feed
swapped=0 kept=0
for i in $(seq 20); do
	rm -f out.png
	[ $((i % 2)) = 0 ] && f=-f || f=
	# shellcheck disable=SC2086 # $f is -f or nothing
	sit-aes -e $f -k key -o out.png feed 2>"$T/race.err" &
	pid=$!
	exec 9>feed
	head -c $((i * 20000)) plain >&9
	sleep 0.0$((i % 5))
	ln -s victim/file out.png
	exec 9>&-
	wait "$pid"
	rc=$?
	if [ -z "$f" ] && [ "$rc" = 73 ] && [ -L out.png ]; then kept=$((kept + 1)); fi
	if [ -n "$f" ] && [ "$rc" = 0 ] && [ -f out.png ] && [ ! -L out.png ]; then swapped=$((swapped + 1)); fi
done
check "a link swapped in is refused at the commit (10 runs)" test "$kept" = 10
check "with -f the swapped-in link itself is replaced (10 runs)" test "$swapped" = 10
check "the swapped-in link's target is never written" test "$(cat victim/file)" = precious
notemp "the race leaves no temporary file" .
rm -f out.png feed

# Fifos and devices are written in place, but only a fifo of our own: one of
# another user's would hand them the output.  A link to a fifo is a link.
mkfifo ours
cat ours >fromfifo &
expect "a fifo of ours is written in place" 0 sit-aes -e -k key -o ours plain
wait
check "the fifo's reader got the sealed stream" test -s fromfifo
expect "a character device is written in place" 0 sit-aes -e -k key -o /dev/null plain
if id nobody >/dev/null 2>&1; then
	mkfifo theirs && chown nobody theirs
	expect "a fifo of another user is refused" 73 sit-aes -e -k key -o theirs plain
	errmatch "fifo refusal message" 'theirs is a fifo owned by another user'
else
	skip "fifo of another user" "no user nobody"
fi
ln -s ours linkfifo
expect "a link to a fifo is refused" 73 sit-aes -e -k key -o linkfifo plain
errmatch "link to a fifo message" 'linkfifo is a symbolic link'

# Names of descriptors the program already has: the descriptor itself.
expect "-o /dev/stdout writes standard output" 0 sit-aes -e -k key -o /dev/stdout plain
check "/dev/stdout got the sealed stream" test "$(stat -c %s "$T/out")" = "$(stat -c %s sealed)"
expect "-o /dev/fd/N of a process substitution" 0 sit-aes -d -k key -o >(cat >subst) sealed
for _ in $(seq 50); do cmp -s subst plain && break; sleep 0.1; done
same "the process substitution got the plaintext" plain subst
expect "-o /dev/fd/N of a closed descriptor" 73 sit-aes -e -k key -o /dev/fd/57 plain
errmatch "closed descriptor message" '/dev/fd/57'

# SIGKILL at any moment: the outputs have no name until they are complete,
# so nothing exists afterwards but the inputs and complete outputs.
head -c 3000000 /dev/urandom >big
sit-aes -e -k key -o big.sit big
mkdir kill
ok=0
for i in $(seq 140); do
	case $((i % 3)) in
	0) sit-aes -e -k key -o kill/out big & ;;
	1) sit-aes -d -k key -o kill/out big.sit & ;;
	2) sit-share -i big.sit kill/a.png kill/b.png & ;;
	esac
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	bad=0
	for f in kill/* kill/.[!.]*; do
		[ -e "$f" ] || continue
		case $f in
		kill/out) { cmp -s "$f" big || cmp -s "$f" big.sit || sit-aes -d -k key "$f" | cmp -s - big; } || bad=1 ;;
		kill/a.png|kill/b.png) ;;
		*) bad=1 ;;
		esac
	done
	[ $bad = 0 ] && ok=$((ok + 1)) || ls -la kill
	rm -f kill/* kill/.[!.]*
done
check "SIGKILL at random moments leaves only complete outputs (140 runs)" test "$ok" = 140

# The wrapper publishes through the filters, so the same holds for it: the
# inbox link of the review (inbox/p.png -> a directory), -o a directory,
# -O with a link among the default names, -f replacing the link itself.
convert -size 64x48 plasma: photo.png 2>/dev/null
sit encrypt -k key -o p.png.sit photo.png
mkdir inbox
ln -s "$T/victim" inbox/p.png
expect "sit decrypt -o a link to a directory: 73" 73 sit decrypt -k key -o inbox/p.png p.png.sit
errmatch "sit decrypt: the link is named" '^sit-load: inbox/p.png is a symbolic link'
check "sit decrypt: nothing written through the link" test "$(ls victim)" = file
expect "sit decrypt -O with a link at the default name: 73" 73 sit decrypt -k key -O inbox p.png.sit
check "sit decrypt -O: nothing through the link" test "$(ls victim)" = file
expect "sit decrypt -o an existing directory: 73" 73 sit decrypt -k key -o victim p.png.sit
errmatch "sit decrypt: the directory is named" 'victim is a directory'
expect "sit decrypt -f: the link itself replaced" 0 sit decrypt -f -k key -o inbox/p.png p.png.sit
check "sit decrypt -f: a file now, not a link" test -f inbox/p.png -a ! -L inbox/p.png
same "sit decrypt -f: the image" photo.png inbox/p.png
check "sit decrypt -f: the directory untouched" test "$(ls victim)" = file
check "sit decrypt: mode 0600 by default" test "$(stat -c %a inbox/p.png)" = 600
ln -s victim/file photo.png.sit
expect "sit encrypt onto a link: 73" 73 sit encrypt -k key photo.png
check "sit encrypt: the linked file untouched" test "$(cat victim/file)" = precious
rm photo.png.sit
ln -s victim photo.png.1.png
expect "sit encrypt --shares onto a link: 73" 73 sit encrypt --shares 2/2 -k key photo.png
absent "sit encrypt --shares: no other share made" photo.png.2.png
rm photo.png.1.png
notemp "the wrapper leaves no temporary file" .
notemp "nor in the inbox" inbox

# SIGKILL of the wrapper, with a passphrase, at random moments: nothing but
# the inputs and complete outputs, and nothing of sit's in /dev/shm.
printf 'horse battery\n' >pass && chmod 600 pass
sit encrypt -p pass --shares 2/2 -o s big.sit 2>/dev/null
shm_count() { local n=0 f; for f in /dev/shm/sit*; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }
shm_before=$(shm_count)
mkdir wk
ok=0
for i in $(seq 60); do
	case $((i % 3)) in
	0) sit encrypt --passphrase-fd 4 -O wk photo.png 4<pass & ;;
	1) sit decrypt --passphrase-fd 4 -o wk/out s.1.png s.2.png 4<pass & ;;
	2) sit decrypt -p pass -O wk big.sit.sit 2>/dev/null & ;;
	esac
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 0.05
	bad=0
	for f in wk/* wk/.[!.]*; do
		[ -e "$f" ] || continue
		case $f in
		wk/photo.png.sit) sit-aes -d -p pass "$f" | cmp -s - photo.png || bad=1 ;;
		wk/out) cmp -s "$f" big.sit || bad=1 ;;
		*) bad=1 ;;
		esac
	done
	[ $bad = 0 ] && ok=$((ok + 1)) || ls -la wk
	rm -f wk/* wk/.[!.]*
done
check "SIGKILL of the wrapper leaves only complete outputs (60 runs)" test "$ok" = 60
shm_after=$(shm_count)
check "nothing of sit's left in /dev/shm" test "$shm_after" -le "$shm_before"
# Each chain ends when its wrapper does (sit-run --while-pid): give the
# stages their moment to see the signal and go.
for _ in $(seq 30); do [ -z "$(pgrep -f -- "-O wk|s.1.png s.2.png|wk/out")" ] && break; sleep 0.1; done
check "no process of a killed wrapper left" test -z "$(pgrep -f -- "-O wk|s.1.png s.2.png|wk/out")"

exit 0
