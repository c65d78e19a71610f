#!/bin/bash
# The seccomp sandbox (lib/sandbox.h): sit-aes works confined, and a confined
# program cannot open, stat, exec, connect, fork or make code executable.
# tests/sandbox-probe.c (built into build/*/tests/) does the forbidden things.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

case "$SIT_BIN" in
*/build/asan/bin) PROBE=$SIT_ROOT/build/asan/tests/sandbox-probe ;;
*) PROBE=$SIT_ROOT/build/release/tests/sandbox-probe ;;
esac
if [ ! -x "$PROBE" ]; then
	fail "sandbox probe" "$PROBE is missing (make builds it)"
	exit 1
fi
unset SIT_NO_SANDBOX
state=$("$PROBE" getuid 2>/dev/null | head -1)
if [ "$state" = unsupported ]; then
	skip "sandbox" "this kernel has no seccomp filters"
	exit 0
fi
# Sanitizer builds: only exec and sockets are denied (sandbox.h says why).
relaxed=0
[ "$state" = relaxed ] && relaxed=1
SIGSYS=$((128 + 31))

sit-aes --gen-key -o key >/dev/null
head -c 300000 /dev/urandom >plain

# sit-aes confined: round trips to files and pipes, -v says it is confined.
expect "encrypt confined to a file" 0 sit-aes -e -v -k key -o sealed plain
if [ $relaxed = 1 ]; then
	errmatch_first() { grep -q 'sandbox: sanitizer build' "$T/err"; }
else
	errmatch_first() { grep -q '^sit-aes: sandbox: confined by seccomp' "$T/err"; }
fi
check "-v reports the sandbox" errmatch_first
expect "decrypt confined to a file" 0 sit-aes -d -v -k key -o opened sealed
same "confined round trip" plain opened
sit-aes -e -k key <plain | sit-aes -d -k key >piped
same "confined round trip through pipes" plain piped
expect "-f replaces a file while confined" 0 sit-aes -d -f -k key -o opened sealed
same "replaced file is right" plain opened
head -c 1000 sealed >short
expect "confined failure with -o" 65 sit-aes -d -k key -o never short
errmatch "confined failure message" '^sit-aes: data corrupted or tampered at byte 126$'
absent "confined failure leaves no output" never
notemp "confined failure leaves no temporary file" .
expect "SIT_NO_SANDBOX=1 turns it off" 0 env SIT_NO_SANDBOX=1 sit-aes -e -v -k key -o free plain
check "-v says it is off" grep -q '^sit-aes: sandbox: not confined, SIT_NO_SANDBOX is set$' "$T/err"

# SIGTERM on a confined, stalled sit-aes still removes its temporary file.
mkfifo stall
sit-aes -d -k key -o late <stall 2>/dev/null &
pid=$!
exec 7>stall
head -c 1000 sealed >&7
for _ in $(seq 50); do
	[ -n "$(find . -maxdepth 1 -name '.late.*')" ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
check "SIGTERM kills the confined program" test $? = $((128 + 15))
exec 7>&-
absent "SIGTERM leaves no output" late
notemp "SIGTERM leaves no temporary file" .

# The probe: each forbidden call is stopped.
probe() { expect "$1" "$2" "$PROBE" "${@:3}"; }
# bash reports "Bad system call" for a child killed by SIGSYS: not ours to show.
probe_killed() { probe "$@" 2>/dev/null; }
if [ $relaxed = 1 ]; then
	skip "open denied" "sanitizer build: open stays allowed for the leak checker"
else
	probe "open of an existing file denied" 0 open "$SIT_ROOT/Makefile"
	check "open fails with EPERM" grep -qx 'open: denied (1 Operation not permitted)' "$T/out"
	probe "stat of a path denied" 0 stat /
	check "stat fails with EPERM" grep -qx 'stat: denied (1 Operation not permitted)' "$T/out"
	probe "executable memory denied" 0 mprotect-exec
	check "PROT_EXEC fails with EPERM" grep -qx 'mprotect-exec: denied (1 Operation not permitted)' "$T/out"
	probe_killed "fork kills" $SIGSYS fork
	check "fork never returned" test "$(cat "$T/out")" = confined
	for call in getuid kill-init ioctl-tiocsti "unlink $T/key"; do
		# shellcheck disable=SC2086 # "unlink PATH" is an action and its argument
		probe "unforeseen call ($call) exits 70" 70 $call
		errmatch "unforeseen call ($call) message" '^sandbox-probe: sandbox: forbidden system call [0-9]+$'
	done
	check "the key file is still there" test -s key
	# Output files: a commit works; without -f nothing may be replaced.
	probe "commit a new file while confined" 0 -o made commit hello
	check "committed file content" test "$(cat made)" = hello
	probe "an existing file is still refused without -f" 73 -o made commit again
	errmatch "refusal message" 'already exists'
	check "file not replaced" test "$(cat made)" = hello
	probe "commit replaces with -f" 0 -o made -f commit again
	check "replaced content" test "$(cat made)" = again
	probe "rename without -f is forbidden" 70 -o other rename made key
	check "rename did not happen" test "$(cat made)" = again
	notemp "probe leaves no temporary file" .
fi
probe_killed "exec kills" $SIGSYS exec
check "exec never returned" test "$(cat "$T/out")" = "$state"
probe_killed "socket kills" $SIGSYS socket
check "socket never returned" test "$(cat "$T/out")" = "$state"
