#!/bin/bash
# sit-gui under Xvfb, driven through its real widgets with xdotool (keys and
# typing, as a user would): encrypt a sample image into a cipher image, decrypt
# it with a wrong passphrase (the dialog says so, nothing is written) and with
# the right one (the image comes back byte-identical), a form error, and
# screenshots kept in tests/artifacts/gui-*.png.  Previews: a hostile PNG
# (small file, huge picture) does not make the window's process big and is
# shown as refused; normal images still show; Tk is never asked to read a
# file, only PNG data that sit-load made.
#
# The dialogs' text is checked in the line sit-gui logs to stderr for every
# message box, and the dialog itself by its window title.  The previews are
# checked from inside: wish runs sit-gui through trace.tcl (below), which logs
# every photo image Tk is asked to make and the preview widgets' state.
. "$(dirname "$0")/lib.sh"

need=""
for tool in wish Xvfb xdotool import convert python3; do
	command -v "$tool" >/dev/null 2>&1 || need="$need $tool"
done
if [ -n "$need" ]; then
	skip "sit-gui" "not installed:$need (scripts/install-deps installs tk, xvfb, xdotool, imagemagick)"
	exit 0
fi
gui=$SIT_BIN/sit-gui
[ -x "$gui" ] || gui=$SIT_ROOT/scripts/sit-gui

# sit-gui runs `exec wish`: a wish first in PATH runs the real one on
# trace.tcl, which wraps Tk's `image` command, then sources sit-gui.  Every
# `image create photo` goes to $T/trace/images as one line: the namespace of
# the caller ("by=::gui", or "by=::tk..." for Tk's own icons), "file=PATH"
# for -file, "data=png:WxH:CHUNK,CHUNK,..." for PNG -data (anything else
# "data=other:LEN").  Every 100 ms the four preview boxes go to
# $T/trace/state (when it changed) as "PANE|WxH or -|TEXT|CAPTION", and are
# added to $T/trace/history.
real_wish=$(command -v wish)
mkdir -p "$T/trace"
cat >"$T/trace/wish" <<EOF
#!/bin/sh
exec "$real_wish" "$T/trace/trace.tcl" "\$@"
EOF
chmod +x "$T/trace/wish"
cat >"$T/trace/trace.tcl" <<'EOF'
namespace eval ::trace_gui {
	variable dir [file dirname [info script]]
	variable last ""
}
proc ::trace_gui::describe {d} {
	if {[string range $d 0 7] ne "\x89PNG\r\n\x1a\n"} { return other:[string length $d] }
	binary scan $d @16II w h
	set types {}
	set pos 8
	while {$pos + 8 <= [string length $d]} {
		binary scan $d @${pos}Ia4 n t
		lappend types $t
		set pos [expr {$pos + 12 + ($n & 0xffffffff)}]
	}
	return png:${w}x${h}:[join $types ,]
}
proc ::trace_gui::put {name text} {
	variable dir
	set f [open $dir/$name a]
	puts -nonewline $f $text
	close $f
}
rename ::image ::trace_gui::image
proc ::image {args} {
	if {[lrange $args 0 1] eq {create photo}} {
		set opts [lrange $args 2 end]
		if {[llength $opts] % 2} { set opts [lrange $opts 1 end] }
		set line "create by=[uplevel 1 {namespace current}]"
		foreach {k v} $opts {
			switch -- $k {
				-file { append line " file=$v" }
				-data { append line " data=[::trace_gui::describe $v]" }
				default { append line " $k" }
			}
		}
		::trace_gui::put images $line\n
	}
	uplevel 1 [list ::trace_gui::image {*}$args]
}
proc ::trace_gui::dump {} {
	variable dir
	variable last
	set s ""
	foreach p {enc.pv.left enc.pv.right dec.pv.left dec.pv.right} {
		set w .nb.$p
		if {![winfo exists $w.cap]} continue
		set img [$w.img cget -image]
		set size [expr {$img eq "" ? "-" : "[image width $img]x[image height $img]"}]
		append s "$p|$size|[string map {\n " "} [$w.img cget -text]]|[$w.cap cget -text]\n"
	}
	if {$s ne $last} {
		file delete $dir/state.new
		::trace_gui::put state.new $s
		file rename -force $dir/state.new $dir/state
		::trace_gui::put history $s
		set last $s
	}
	after 100 ::trace_gui::dump
}
after 100 ::trace_gui::dump
set argv0 [lindex $argv 0]
set argv [lrange $argv 1 end]
set argc [llength $argv]
source $argv0
EOF

# A free display number: no lock file and no socket.
disp=""
for i in $(seq 0 40); do
	n=$((99 + ($$ + i) % 400))
	if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then disp=$n; break; fi
done
if [ -z "$disp" ]; then
	skip "sit-gui" "no free X display number"
	exit 0
fi
Xvfb ":$disp" -screen 0 1024x768x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
xvfb=$!
gui_pid=""
# Stop what this test started (by pid), then remove $T.
trap '[ -n "$gui_pid" ] && kill "$gui_pid" 2>/dev/null; kill "$xvfb" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
export DISPLAY=":$disp"
up=0
for _ in $(seq 1 50); do
	if xdotool getdisplaygeometry >/dev/null 2>&1; then up=1; break; fi
	sleep 0.1
done
if [ "$up" = 0 ]; then
	skip "sit-gui" "Xvfb would not start: $(head -c 200 "$T/xvfb.log" | tr '\n' ' ')"
	exit 0
fi

arts=$SIT_ROOT/tests/artifacts
mkdir -p "$arts"
rm -f "$arts"/gui-*.png
shot() { # shot NAME: the whole screen, kept as an artifact
	import -window root "$T/gui-$1.png" 2>/dev/null && cp "$T/gui-$1.png" "$arts/gui-$1.png"
}

# Wait up to $2 seconds for a window whose title matches $1; its id on stdout.
window() {
	timeout "$2" xdotool search --sync --onlyvisible --name "$1" 2>/dev/null | head -1
}

start_gui() { # start_gui ARGS...: the window, focused
	rm -f "$T/trace/state"
	PATH=$T/trace:$PATH "$gui" "$@" 2>>"$T/gui.err" &
	gui_pid=$!
	win=$(window '^sit - Secure Image Transfer$' 10)
	[ -n "$win" ] && xdotool windowfocus --sync "$win" 2>/dev/null
	[ -n "$win" ]
}

stop_gui() {
	xdotool key ctrl+q
	for _ in $(seq 1 50); do kill -0 "$gui_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$gui_pid" 2>/dev/null; then fail "$1" "sit-gui did not quit"; kill "$gui_pid"
	else pass "$1"; fi
	wait "$gui_pid" 2>/dev/null
	gui_pid=""
}

# A dialog titled $1 appears within $2 s; the logged line matches $3; then OK.
dialog() { # dialog NAME TITLE SECONDS REGEX SHOT
	local d
	d=$(window "^$2\$" "$3")
	if [ -z "$d" ]; then
		fail "$1" "no '$2' dialog within $3 s; sit-gui said: $(tail -c 300 "$T/gui.err" | tr '\n' '|')"
		shot "$5-missing"
		return
	fi
	sleep 0.3
	shot "$5"
	# The last line about a dialog (a refused preview is logged too, and
	# previews are made while the dialog is up).
	if dialog_line | grep -Eq -- "$4"; then pass "$1"
	else fail "$1" "logged: $(dialog_line), wanted /$4/"; fi
	xdotool windowfocus --sync "$d" 2>/dev/null
	xdotool key Return
	sleep 0.3
}

dialog_line() {
	grep -v '^sit-gui: preview: ' "$T/gui.err" | tail -1
}

# pane PANE FILE SECONDS: the state line of preview box PANE once it is done
# with FILE (its caption ends with FILE, not loading); status 1 if it is not
# within SECONDS.
pane() {
	local line=""
	for _ in $(seq 1 $(($3 * 10))); do
		line=$(grep -F "$1|" "$T/trace/state" 2>/dev/null | head -1)
		case $line in
		*"|Loading preview"*) ;;
		*": $2") echo "$line"; return 0 ;;
		esac
		sleep 0.1
	done
	echo "$line"
	return 1
}

# pane_is NAME PANE FILE REGEX: preview box PANE shows FILE and its state
# line matches REGEX.
pane_is() {
	local line
	line=$(pane "$2" "$3" 15)
	if printf '%s\n' "$line" | grep -Eq -- "$4"; then pass "$1"
	else fail "$1" "the box is '$line', wanted /$4/"; fi
}

# peak NAME: the window's process (wish) has never been over 150 MiB resident.
peak() {
	local kb
	kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$gui_pid/status" 2>/dev/null)
	if [ -z "$kb" ]; then fail "$1" "no /proc/$gui_pid/status"
	elif [ "$kb" -lt $((150 * 1024)) ]; then pass "$1"
	else fail "$1" "peak resident size $((kb / 1024)) MiB, over 150 MiB"; fi
}

type_pass() { # type_pass KEY TEXT: Alt+KEY selects the field, then type
	xdotool key "alt+$1"
	xdotool type --delay 5 "$2"
}

# The passphrase must never be on a command line: look at every process's
# arguments all along (xdotool's own, which types it, excepted).
pass="correct horse battery"
# shellcheck disable=SC2009 # the whole argument lines of every process are wanted
( while :; do ps -eo args= | grep -F "$pass" | grep -v -e '^xdotool ' -e '^grep ' >>"$T/seen"; sleep 0.1; done ) &
watcher=$!
trap '[ -n "$gui_pid" ] && kill "$gui_pid" 2>/dev/null; kill "$watcher" "$xvfb" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

mkdir -p "$T/send" "$T/recv"
convert -seed 7 -size 320x240 plasma: "$T/send/photo.png"
: >"$T/gui.err"

# --- encrypt: the image given on the command line, the default output (a
# cipher image), passphrase and confirmation typed.
if start_gui "$T/send/photo.png"; then
	pass "encrypt window opens"
	pane_is "preview: the original is shown" enc.pv.left photo.png '^[^|]*\|320x240\|'
	# A confirmation that differs is caught before sit runs.
	type_pass p "$pass"
	type_pass c "$pass-typo"
	xdotool key Return
	dialog "mismatch: told" "Check the form" 5 'The two passphrases differ' encrypt-mismatch
	absent "mismatch: nothing written" "$T/send/photo.png.sit.png"
	type_pass c "$pass"
	xdotool key Return
	dialog "encrypt: success dialog names the output" "Encryption done" 30 \
		'Encryption done: Written: photo\.png\.sit\.png' encrypt
	check "encrypt: cipher image written" test -s "$T/send/photo.png.sit.png"
	check "encrypt: it is a PNG" sh -c "head -c 8 '$T/send/photo.png.sit.png' | od -An -tx1 | grep -q '89 50 4e 47'"
	pane_is "preview: the cipher image is shown" enc.pv.right photo.png.sit.png '^[^|]*\|[0-9]+x[0-9]+\|'
	stop_gui "encrypt window quits"
else
	fail "encrypt window opens" "$(tail -c 300 "$T/gui.err")"
fi

# --- decrypt on the "receiving side": the cipher image chosen in the file
# dialog (Alt+A, a path typed into its name field), a wrong passphrase, then
# the right one.
cp "$T/send/photo.png.sit.png" "$T/recv/"
if [ -s "$T/recv/photo.png.sit.png" ] && start_gui --decrypt; then
	pass "decrypt window opens"
	xdotool key alt+a
	fd=$(window '^Sealed files, cipher images or shares to decrypt$' 5)
	if [ -n "$fd" ]; then
		pass "file dialog opens"
		xdotool windowfocus --sync "$fd" 2>/dev/null
		xdotool type --delay 5 "$T/recv/photo.png.sit.png"
		xdotool key Return
		sleep 0.5
	else
		fail "file dialog opens" "no dialog"
	fi
	xdotool windowfocus --sync "$win" 2>/dev/null
	type_pass p "not the passphrase"
	xdotool key Return
	dialog "wrong passphrase: plain sentence" "Decryption failed" 30 \
		'Decryption failed: Wrong passphrase or key \(or not encrypted to it\)\.$' wrong-passphrase
	absent "wrong passphrase: nothing written" "$T/recv/photo.png"
	notemp "wrong passphrase: no temporary file" "$T/recv"
	xdotool windowfocus --sync "$win" 2>/dev/null
	type_pass p "$pass"
	xdotool key Return
	dialog "decrypt: success dialog names the output" "Decryption done" 30 \
		'Decryption done: Written: photo\.png ' decrypt
	same "decrypt: identical to the original" "$T/send/photo.png" "$T/recv/photo.png"
	pane_is "preview: the received cipher image is shown" dec.pv.left photo.png.sit.png '^[^|]*\|[0-9]+x[0-9]+\|'
	pane_is "preview: the decrypted image is shown" dec.pv.right photo.png '^[^|]*\|320x240\|'
	notemp "decrypt: no temporary file" "$T/recv"
	stop_gui "decrypt window quits"
else
	fail "decrypt window opens" "no cipher image to decrypt, or: $(tail -c 300 "$T/gui.err")"
fi

# --- cancel: a decryption from a fifo that nobody writes to would wait for
# the deadline; Escape stops it, and nothing is left behind: no output, no
# temporary file, no work directory, no process.
mkfifo "$T/recv/stalled.sit"
mkdir "$T/tmp"
if SIT_TMPDIR=$T/tmp start_gui --decrypt "$T/recv/stalled.sit"; then
	type_pass p "$pass"
	xdotool key Return
	# Wait until sit's job is waiting on the fifo (so that "no process left"
	# below means something).
	waiting=0
	for _ in $(seq 1 100); do
		if pgrep -f -- "-- $T/recv/stalled.sit" >/dev/null; then waiting=1; break; fi
		sleep 0.1
	done
	if [ "$waiting" = 1 ]; then pass "cancel: sit was waiting"
	else fail "cancel: sit was waiting" "no sit process reads $T/recv/stalled.sit"; fi
	sleep 0.5
	xdotool key Escape
	dialog "cancel: told" "Decryption cancelled" 10 'Decryption cancelled' cancel
	absent "cancel: no output" "$T/recv/stalled"
	notemp "cancel: no temporary file" "$T/recv"
	check "cancel: no work directory left" test -z "$(ls -A "$T/tmp")"
	# sit's processes name the fifo in their arguments.
	sleep 0.5
	left=$( { pgrep -P "$gui_pid"; pgrep -f -- "-- $T/recv/stalled.sit"; } | head -3)
	if [ -n "$left" ]; then fail "cancel: no process left" "$(ps -o args= -p "$(echo "$left" | head -1)")"
	else pass "cancel: no process left"; fi
	stop_gui "cancel window quits"
else
	fail "cancel window opens" "$(tail -c 300 "$T/gui.err")"
fi

# --- previews of hostile files.  wide.png is a valid PNG of 10 KB, 66000 x
# 1200 pixels, one bit each: over sit-load's width limit (65535), and a
# decoder that believes it allocates 66000 * 1200 * 4 bytes (Tk: 460 MiB).
# junk.png is not an image.  Received (Decrypt tab) or to be sent (Encrypt
# tab), each is refused with sit-load's words, and the window stays small.
python3 - "$T/recv/wide.png" 66000 1200 <<'PY'
import struct, sys, zlib
out, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
z = zlib.compressobj(9)
row = bytes(1 + (w + 7) // 8)
idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
open(out, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
                      + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY
head -c 3000 /dev/urandom >"$T/recv/junk.png"
for tab in dec enc; do
	if [ $tab = dec ]; then box=dec.pv.left opt=--decrypt; else box=enc.pv.left opt=; fi
	# shellcheck disable=SC2086 # $opt is one option or none
	if start_gui $opt "$T/recv/wide.png"; then
		pane "$box" wide.png 15 >/dev/null
		peak "hostile preview ($tab): the window's process stays under 150 MiB"
		pane_is "hostile preview ($tab): refused, in sit-load's words" "$box" wide.png \
			'^[^|]*\|-\|[0-9]+ bytes, not shown: Image width 66000 is over the limit of 65535\.\|'
		if grep -q '^sit-gui: preview: wide\.png: Image width 66000 is over the limit' "$T/gui.err"; then
			pass "hostile preview ($tab): logged"
		else fail "hostile preview ($tab): logged" "$(tail -2 "$T/gui.err" | tr '\n' '|')"; fi
		stop_gui "hostile preview ($tab): window quits"
	else
		fail "hostile preview ($tab): window opens" "$(tail -c 300 "$T/gui.err")"
	fi
done
if start_gui "$T/recv/junk.png"; then
	pane_is "junk preview: refused, in sit-load's words" enc.pv.left junk.png \
		'^[^|]*\|-\|3000 bytes, not shown: Not an image: no known image signature\.\|'
	stop_gui "junk preview: window quits"
else
	fail "junk preview: window opens" "$(tail -c 300 "$T/gui.err")"
fi

# --- a large photo (12 megapixels, 24 MB of noise): the window's event loop
# goes on while sit-load decodes it (the box said "Loading preview..." at a
# moment the loop ran), then the preview shows.
convert -size 4000x3000 xc:gray50 -seed 3 +noise random "$T/send/big.png"
if start_gui "$T/send/big.png"; then
	pane_is "large preview: shown, scaled to the box" enc.pv.left big.png '^[^|]*\|320x240\|'
	if grep -q '^enc\.pv\.left|-|Loading preview\.\.\.|Original: big\.png$' "$T/trace/history"; then
		pass "large preview: the window did not wait for it"
	else fail "large preview: the window did not wait for it" "never seen loading"; fi
	stop_gui "large preview: window quits"
else
	fail "large preview: window opens" "$(tail -c 300 "$T/gui.err")"
fi

# --- Tk never read a file, and every picture it decoded in all the runs
# above was a PNG that sit-load wrote (sit's encoder writes IHDR, IDAT and
# IEND, nothing else; convert's photo.png has other chunks) and small.
if grep -q 'file=' "$T/trace/images"; then
	fail "previews: Tk never reads a file" "$(grep -m2 'file=' "$T/trace/images" | tr '\n' '|')"
else pass "previews: Tk never reads a file"; fi
# (Tk's own message box icons, GIF data in Tk's library, are left aside.)
grep -v '^create by=::tk' "$T/trace/images" >"$T/trace/ours"
bad=$(grep -o 'data=[^ ]*' "$T/trace/ours" | grep -vE '^data=png:[0-9]+x[0-9]+:IHDR(,IDAT)+,IEND$' | head -2)
big=$(grep -o 'data=png:[0-9]*x[0-9]*' "$T/trace/ours" | tr 'x:' '  ' | awk '$2 > 1280 || $3 > 1280' | head -1)
made=$(grep -c 'data=' "$T/trace/ours")
if [ -n "$bad$big" ] || [ "$made" -lt 5 ]; then
	fail "previews: only small PNGs from sit-load" "$made made; not ours: ${bad//$'\n'/ }; too big: $big"
else pass "previews: only small PNGs from sit-load"; fi
# And in the script: no -file (so no photo made, read or configured from a file).
if grep -nE -- '-file([^a-z]|$)' "$gui" | head -2 | grep .; then
	fail "previews: sit-gui has no -file" "see above"
else pass "previews: sit-gui has no -file"; fi

# No Tcl stack trace ever reached the user.
if grep -q 'while executing' "$T/gui.err"; then fail "no stack trace" "$(head -5 "$T/gui.err")"
else pass "no stack trace"; fi
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
if [ -s "$T/seen" ]; then fail "passphrase never on a command line" "$(head -2 "$T/seen")"
else pass "passphrase never on a command line"; fi
if grep -qF "$pass" "$T/gui.err"; then fail "passphrase not logged" "it was"
else pass "passphrase not logged"; fi
