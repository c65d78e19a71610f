#!/bin/bash
# sit-gui under Xvfb, driven through its real widgets with xdotool (keys and
# typing, as a user would): encrypt a sample image into a cipher image, decrypt
# it with a wrong passphrase (the dialog says so, nothing is written) and with
# the right one (the image comes back byte-identical), a form error, and
# screenshots kept in tests/artifacts/gui-*.png.
#
# The dialogs' text is checked in the line sit-gui logs to stderr for every
# message box, and the dialog itself by its window title.
. "$(dirname "$0")/lib.sh"

need=""
for tool in wish Xvfb xdotool import convert; do
	command -v "$tool" >/dev/null 2>&1 || need="$need $tool"
done
if [ -n "$need" ]; then
	skip "sit-gui" "not installed:$need (scripts/install-deps installs tk, xvfb, xdotool, imagemagick)"
	exit 0
fi
gui=$SIT_BIN/sit-gui
[ -x "$gui" ] || gui=$SIT_ROOT/scripts/sit-gui

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
	"$gui" "$@" 2>>"$T/gui.err" &
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
	if tail -1 "$T/gui.err" | grep -Eq -- "$4"; then pass "$1"
	else fail "$1" "logged: $(tail -1 "$T/gui.err"), wanted /$4/"; fi
	xdotool windowfocus --sync "$d" 2>/dev/null
	xdotool key Return
	sleep 0.3
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
		if pgrep -f "$T/tmp/" >/dev/null; then waiting=1; break; fi
		sleep 0.1
	done
	if [ "$waiting" = 1 ]; then pass "cancel: sit was waiting"
	else fail "cancel: sit was waiting" "no sit process names $T/tmp"; fi
	sleep 0.5
	xdotool key Escape
	dialog "cancel: told" "Decryption cancelled" 10 'Decryption cancelled' cancel
	absent "cancel: no output" "$T/recv/stalled"
	notemp "cancel: no temporary file" "$T/recv"
	check "cancel: no work directory left" test -z "$(ls -A "$T/tmp")"
	# sit's processes name its work directory (in $T/tmp) in their arguments.
	sleep 0.5
	left=$( { pgrep -P "$gui_pid"; pgrep -f "$T/tmp/"; } | head -3)
	if [ -n "$left" ]; then fail "cancel: no process left" "$(ps -o args= -p "$(echo "$left" | head -1)")"
	else pass "cancel: no process left"; fi
	stop_gui "cancel window quits"
else
	fail "cancel window opens" "$(tail -c 300 "$T/gui.err")"
fi

# No Tcl stack trace ever reached the user.
if grep -q 'while executing' "$T/gui.err"; then fail "no stack trace" "$(head -5 "$T/gui.err")"
else pass "no stack trace"; fi
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
if [ -s "$T/seen" ]; then fail "passphrase never on a command line" "$(head -2 "$T/seen")"
else pass "passphrase never on a command line"; fi
if grep -qF "$pass" "$T/gui.err"; then fail "passphrase not logged" "it was"
else pass "passphrase not logged"; fi
