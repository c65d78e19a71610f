#!/bin/bash
# t-mode: --mode MODE (octal, 0 to 0777) sets the permissions of every named
# output, the umask still applying; the defaults are 0666 (before the umask)
# but 0600 for what sit-aes decrypts and for its keys; a bad MODE exits 64.
# Checked with stat -c %a under umask 022 and 077.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 70

head -c 50000 /dev/urandom >plain
sit-aes --gen-key -o key 2>/dev/null
sit-aes -e -k key -o sealed plain
png=$SHARED/corpus/pngsuite/basn2c08.png
sit-visual -e -o cipher.png sealed
sit-share -i sealed s1.png s2.png

# CASE OUT ARGS...: run CASE writing OUT (sit-share: OUT.1 and OUT.2).
run() {
	local c=$1 o=$2
	shift 2
	case $c in
	sit-load) sit-load "$@" -o "$o" "$png" ;;
	"sit-aes -d") sit-aes -d -k key "$@" -o "$o" sealed ;;
	"sit-aes -e") sit-aes -e -k key "$@" -o "$o" plain ;;
	"sit-aes --gen-key") sit-aes --gen-key "$@" -o "$o" ;;
	"sit-aes --gen-identity") sit-aes --gen-identity "$@" -o "$o" >/dev/null ;;
	"sit-visual -e") sit-visual -e "$@" -o "$o" sealed ;;
	"sit-visual -d") sit-visual -d "$@" -o "$o" cipher.png ;;
	sit-share) sit-share "$@" -i sealed "$o.1" "$o.2" ;;
	sit-unshare) sit-unshare "$@" -o "$o" s1.png s2.png ;;
	esac
}

modes() { # CASE OUT: the mode of each output
	if [ "$1" = sit-share ]; then stat -c %a "$2.1" "$2.2" | sort -u | tr '\n' ' ' | sed 's/ $//'
	else stat -c %a "$2"; fi
}

# NAME UMASK WANT CASE ARGS...: under UMASK, CASE with ARGS writes mode WANT.
mode_is() {
	local name=$1 um=$2 want=$3 c=$4 o got
	shift 4
	n=$((n + 1))
	o=out$n
	if (umask "$um" && run "$c" "$o" "$@") 2>"$T/err"; then
		got=$(modes "$c" "$o")
		if [ "$got" = "$want" ]; then pass "$name"
		else fail "$name" "mode $got, wanted $want"; fi
	else
		fail "$name" "exit $?: $(head -c 200 "$T/err")"
	fi
}

n=0
for c in sit-load "sit-aes -e" "sit-visual -e" "sit-visual -d" sit-share sit-unshare; do
	mode_is "$c: default 0666, umask 022" 022 644 "$c"
	mode_is "$c: default 0666, umask 077" 077 600 "$c"
	mode_is "$c --mode 600, umask 022" 022 600 "$c" --mode 600
	mode_is "$c --mode 0640, umask 022" 022 640 "$c" --mode 0640
	mode_is "$c --mode 0640, umask 077" 077 600 "$c" --mode 0640
	mode_is "$c --mode 755, umask 022" 022 755 "$c" --mode 755
	mode_is "$c --mode 0, umask 022" 022 0 "$c" --mode 0
done
# What sit-aes opens and the keys it makes are for their owner alone.
for c in "sit-aes -d" "sit-aes --gen-key" "sit-aes --gen-identity"; do
	mode_is "$c: default 0600, umask 022" 022 600 "$c"
	mode_is "$c: default 0600, umask 077" 077 600 "$c"
	mode_is "$c --mode 0644, umask 022" 022 644 "$c" --mode 0644
	mode_is "$c --mode 0644, umask 077" 077 600 "$c" --mode 0644
	mode_is "$c --mode 0640, umask 022" 022 640 "$c" --mode 0640
done
mode_is "sit-share -o PREFIX --mode 0604" 022 604 sit-share --mode 0604
check "sit-share -o PREFIX: both shares" test -f out$n.1 -a -f out$n.2

# -f: the file that replaces the old one has the mode asked for.
echo old >repl
chmod 600 repl
(umask 022 && sit-load -f --mode 0640 -o repl "$png")
check "-f: the replacement has --mode 0640" test "$(stat -c %a repl)" = 640
same "-f: the replacement is the image" repl "$png"

# A fifo is written in place and keeps its own mode.
mkfifo ff
chmod 620 ff
# (timeout: a program that fails before opening the fifo leaves cat waiting)
timeout 20 cat ff >fromfifo &
expect "a fifo with --mode 0600: exit 0" 0 sit-load --mode 0600 -o ff "$png"
wait
check "the fifo keeps its mode" test "$(stat -c %a ff)" = 620
same "the fifo carried the image" fromfifo "$png"

mkdir bad
for m in 800 1000 01000 0o644 abc "" -1 " 644" 644x 0x1ff 77777777777777777777; do
	expect "--mode '$m': exit 64" 64 sit-unshare --mode "$m" -o bad/out s1.png s2.png
	check "--mode '$m': says what it wants" grep -q "mode wants an octal mode from 0 to 0777" "$T/err"
done
expect "--mode with --public: exit 64" 64 sit-aes --public --mode 600 key
expect "--mode with --info: exit 64" 64 sit-load --info --mode 600 "$png"
check "bad modes: nothing written" test -z "$(ls -A bad)"
