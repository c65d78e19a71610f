#!/bin/bash
# t-gate: --commit-fd N in every filter.  With 'y' on the gate the named
# output appears, byte for byte what it would be without a gate; with 'n',
# end of file or a closed pipe the program exits 75 and its directory stays
# empty (no output, no temporary file); the program waits at the commit until
# the gate is answered; sit-share names all of its shares or none, also
# unsplit (SIT_NO_SANDBOX); on standard output the gate holds the first
# byte; a bad N is a usage error.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 70

head -c 100000 /dev/urandom >plain
sit-aes --gen-key -o key 2>/dev/null
sit-aes -e -k key -o sealed plain
png=$SHARED/corpus/pngsuite/basn2c08.png
sit-visual -e -o cipher.png sealed
sit-visual -e -o ref.png sealed
sit-share -i sealed s1.png s2.png
printf y >gy
printf n >gn

# CASE DIR ARGS...: run CASE's program with ARGS, its outputs in DIR.
run() {
	local c=$1 d=$2
	shift 2
	case $c in
	sit-load) sit-load "$@" -o "$d/out.png" "$png" ;;
	"sit-aes -d") sit-aes -d -k key "$@" -o "$d/out" sealed ;;
	"sit-aes -e") sit-aes -e -k key "$@" -o "$d/out" plain ;;
	"sit-visual -e") sit-visual -e "$@" -o "$d/out.png" sealed ;;
	"sit-visual -d") sit-visual -d "$@" -o "$d/out" cipher.png ;;
	sit-share) sit-share "$@" -i sealed "$d/s1.png" "$d/s2.png" ;;
	sit-unshare) sit-unshare "$@" -o "$d/out" s1.png s2.png ;;
	esac
}

# CASE: the names it makes, as ls -A lists them.
outs() {
	case $1 in
	sit-load | "sit-visual -e") echo out.png ;;
	sit-share) echo "s1.png s2.png" ;;
	*) echo out ;;
	esac
}

# CASE DIR: the outputs are exactly what the program makes without a gate.
right() {
	case $1 in
	sit-load) cmp -s "$2/out.png" "$png" ;;
	"sit-aes -d") cmp -s "$2/out" plain ;;
	"sit-visual -d" | sit-unshare) cmp -s "$2/out" sealed ;;
	"sit-aes -e") sit-aes -d -k key "$2/out" 2>/dev/null | cmp -s - plain ;;
	"sit-visual -e") cmp -s "$2/out.png" ref.png ;;
	sit-share) sit-unshare "$2/s1.png" "$2/s2.png" 2>/dev/null | cmp -s - sealed ;;
	esac
}

listed() { # NAME DIR WANT: ls -A DIR is WANT (names joined by spaces)
	local got
	got=$(ls -A "$2" | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "ls -A $2: '$got', wanted '$3'"; fi
}

mkfifo gf
n=0
for c in sit-load "sit-aes -d" "sit-aes -e" "sit-visual -e" "sit-visual -d" sit-share sit-unshare; do
	n=$((n + 1))
	mkdir "y$n" "n$n" "e$n" "p$n" "w$n"

	expect "$c: 'y' on the gate, exit 0" 0 run "$c" "y$n" --commit-fd 3 3<gy
	check "$c: 'y': the output is byte-exact" right "$c" "y$n"
	listed "$c: 'y': the output and nothing else" "y$n" "$(outs "$c")"

	expect "$c: 'n' on the gate, exit 75" 75 run "$c" "n$n" --commit-fd 3 3<gn
	errmatch "$c: 'n': one line says it was withheld" 'withheld'
	listed "$c: 'n': nothing in the directory" "n$n" ""

	expect "$c: end of file on the gate, exit 75" 75 run "$c" "e$n" --commit-fd 3 3</dev/null
	listed "$c: end of file: nothing in the directory" "e$n" ""

	expect "$c: a closed pipe as the gate, exit 75" 75 run "$c" "p$n" --commit-fd 3 3< <(:)
	listed "$c: closed pipe: nothing in the directory" "p$n" ""

	# The gate a fifo held open here: the program must wait at the commit.
	exec 5<>gf
	rm -f rc
	( run "$c" "w$n" --commit-fd 3 3<gf >/dev/null 2>werr; echo $? >rc ) &
	sleep 1.5
	check "$c: still waiting for the gate" test ! -e rc
	listed "$c: waiting: no output yet" "w$n" ""
	printf y >&5
	wait
	exec 5>&-
	check "$c: answered 'y': exit 0" test "$(cat rc 2>/dev/null)" = 0
	check "$c: answered 'y': the output is byte-exact" right "$c" "w$n"
	listed "$c: answered 'y': the output and nothing else" "w$n" "$(outs "$c")"
done

# -f with the gate shut: the file it would have replaced stays as it was.
mkdir keep
echo precious >keep/out.png
expect "-f and 'n': exit 75" 75 sit-load -f --commit-fd 3 -o keep/out.png "$png" 3<gn
check "-f and 'n': the old file is untouched" test "$(cat keep/out.png)" = precious
listed "-f and 'n': nothing else in the directory" keep out.png

# Unsplit (SIT_NO_SANDBOX), sit-share commits in this process: still all or
# none, with more shares than threads.
for g in y n; do
	mkdir "u$g"
	want=75 names=""
	[ $g = y ] && want=0 names="a b c d e f"
	expect "SIT_NO_SANDBOX sit-share -n 6, '$g': exit $want" $want env SIT_NO_SANDBOX=1 \
		sit-share --commit-fd 3 -k 2 -i sealed "u$g/a" "u$g/b" "u$g/c" "u$g/d" "u$g/e" "u$g/f" 3<g$g
	listed "SIT_NO_SANDBOX sit-share, '$g': all shares or none" "u$g" "$names"
done

# A descriptor has no commit: the gate holds its first byte instead.
expect "standard output, gate 'y': written" 0 sit-load --commit-fd 3 "$png" 3<gy
same "standard output: the whole image" "$T/out" "$png"
expect "standard output, gate 'n': nothing written, exit 75" 75 sit-load --commit-fd 3 "$png" 3<gn
check "standard output, gate 'n': not a byte" test ! -s "$T/out"
errmatch "standard output withheld: message" '^sit-load: standard output withheld: a stage before this one failed$'

# A bad descriptor is a usage error, before anything is read.
mkdir bad
expect "--commit-fd 9, not open: exit 64" 64 sit-load --commit-fd 9 -o bad/out.png "$png"
check "--commit-fd 9: says it is not open" grep -q 'commit-fd 9: not an open descriptor' "$T/err"
expect "--commit-fd x: exit 64" 64 sit-visual -e --commit-fd x -o bad/out sealed
expect "--commit-fd -1: exit 64" 64 sit-unshare --commit-fd -1 -o bad/out s1.png s2.png
expect "--commit-fd on a write-only descriptor: exit 64" 64 sit-share --commit-fd 3 -i sealed bad/a bad/b 3>wo
check "write-only: says so" grep -q 'commit-fd 3: not open for reading' "$T/err"
expect "--commit-fd and --passphrase-fd the same: exit 64" 64 sit-aes -d --passphrase-fd 3 --commit-fd 3 -o bad/out sealed 3<gy
expect "--commit-fd with --public: exit 64" 64 sit-aes --public --commit-fd 3 3<gy
listed "bad descriptors: nothing written" bad ""
