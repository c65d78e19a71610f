#!/bin/bash
# The seccomp sandbox (lib/sandbox.h): sit-aes, sit-load, sit-visual,
# sit-share and sit-unshare work confined, and a confined
# program cannot open, stat, exec, connect, fork or make code executable.
# tests/sandbox-probe.c (built into build/*/tests/) does the forbidden things;
# tests/noseccomp.c runs programs as on a kernel without seccomp.
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
	for call in getuid kill-init ioctl-tiocsti; do
		probe "unforeseen call ($call) exits 70" 70 $call
		errmatch "unforeseen call ($call) message" '^sandbox-probe: sandbox: forbidden system call [0-9]+$'
	done
	# Output files: a commit works; without -f nothing may be replaced.
	probe "commit a new file while confined" 0 -o made commit hello
	check "committed file content" test "$(cat made)" = hello
	probe "an existing file is still refused without -f" 73 -o made commit again
	errmatch "refusal message" 'already exists'
	check "file not replaced" test "$(cat made)" = hello
	probe "commit replaces with -f" 0 -o made -f commit again
	check "replaced content" test "$(cat made)" = again
	# The parsing process names no path at all, whatever its outputs are:
	# naming kills, creating fails (the parent outside names the outputs).
	outside=$(mktemp -d "${TMPDIR:-/tmp}/sit-outside.XXXXXX")
	echo precious >"$outside/keep"
	for mode in "-o -" "-o other" "-o other -f"; do
		# shellcheck disable=SC2086 # $mode is options
		{
		probe_killed "unlink of a path outside kills ($mode)" $SIGSYS $mode unlink "$outside/keep"
		probe_killed "rename of a path outside kills ($mode)" $SIGSYS $mode rename "$outside/keep" "$outside/moved"
		probe_killed "rename onto a file outside kills ($mode)" $SIGSYS $mode rename made "$outside/keep"
		probe_killed "link to a path outside kills ($mode)" $SIGSYS $mode link "$outside/keep" "$outside/linked"
		probe "create of a path outside denied ($mode)" 0 $mode create "$outside/new"
		check "create fails with EPERM ($mode)" grep -qx 'create: denied (1 Operation not permitted)' "$T/out"
		}
		check "the file outside is untouched ($mode)" test "$(cat "$outside/keep")" = precious
		check "nothing new outside ($mode)" test "$(ls "$outside")" = keep
		absent "no output left by a killed probe ($mode)" other
	done
	rm -rf "$outside"
	check "the key file is still there" test -s key
	check "made is unchanged" test "$(cat made)" = again
	notemp "probe leaves no temporary file" .
fi
probe_killed "exec kills" $SIGSYS exec
check "exec never returned" test "$(cat "$T/out")" = "$state"
probe_killed "socket kills" $SIGSYS socket
check "socket never returned" test "$(cat "$T/out")" = "$state"

# sit-load, sit-visual, sit-share and sit-unshare confine themselves too: a
# normal run works confined and -v says so.
png=$SHARED/corpus/pngsuite/basn2c08.png
if [ $relaxed = 1 ]; then
	says_confined() { grep -q "^$1: sandbox: sanitizer build" "$T/err"; }
else
	says_confined() { grep -q "^$1: sandbox: confined by seccomp" "$T/err"; }
fi
expect "sit-load confined" 0 sit-load -v -o loaded.png "$png"
check "sit-load -v reports the sandbox" says_confined sit-load
same "sit-load confined output" "$png" loaded.png
expect "sit-load --info confined" 0 sit-load -v --info "$png"
check "sit-load --info -v reports the sandbox" says_confined sit-load
cp "$png" notpng
printf 'x' | dd of=notpng bs=1 seek=20 conv=notrunc status=none
expect "sit-load refuses bad input while confined" 65 sit-load -o never.png notpng
absent "sit-load confined failure leaves no output" never.png
notemp "sit-load confined failure leaves no temporary file" .
expect "sit-load with SIT_NO_SANDBOX=1" 0 env SIT_NO_SANDBOX=1 sit-load -v -o free.png "$png"
check "sit-load -v says it is off" grep -q '^sit-load: sandbox: not confined, SIT_NO_SANDBOX is set$' "$T/err"
expect "sit-visual -e confined" 0 sit-visual -e -v -o vis.png plain
check "sit-visual -e -v reports the sandbox" says_confined sit-visual
expect "sit-visual -d confined" 0 sit-visual -d -v -o vis.out vis.png
check "sit-visual -d -v reports the sandbox" says_confined sit-visual
same "sit-visual confined round trip" plain vis.out
expect "sit-share confined" 0 sit-share -v -k 2 -n 3 -i plain -o sh
check "sit-share -v reports the sandbox" says_confined sit-share
expect "sit-unshare confined" 0 sit-unshare -v -o unshared sh.1.png sh.3.png
check "sit-unshare -v reports the sandbox" says_confined sit-unshare
same "sit-share/sit-unshare confined round trip" plain unshared
expect "sit-unshare -f replaces while confined" 0 sit-unshare -f -o unshared sh.2.png sh.1.png
same "sit-unshare replaced file is right" plain unshared
expect "sit-unshare refuses a foreign PNG while confined" 65 sit-unshare -o never sh.1.png "$png"
errmatch "sit-unshare confined refusal message" 'is not a share$'
absent "sit-unshare confined failure leaves no output" never
notemp "confined failures leave no temporary file" .

# A kernel without seccomp filters, simulated by tests/noseccomp.c (seccomp()
# fails with ENOSYS, prctl(PR_SET_SECCOMP) with EINVAL, for the program it
# runs): every program carries on unconfined, does its job to the exact byte,
# and -v says it is not confined.
NOSEC=$(dirname "$PROBE")/noseccomp
unconfined() { grep -qx "$1: sandbox: not confined, this kernel has no seccomp filters" "$T/err"; }
nosec() { local name=$1; shift; expect "$name without seccomp" 0 "$NOSEC" "$@"; }
if [ ! -x "$NOSEC" ]; then
	fail "no-seccomp helper" "$NOSEC is missing (make builds it)"
else
	check "the probe sees no seccomp" test "$("$NOSEC" "$PROBE" getuid 2>/dev/null | head -1)" = unsupported
	expect "the probe is not confined without seccomp" 1 "$NOSEC" "$PROBE" open "$SIT_ROOT/Makefile"
	check "an open works unconfined" grep -qx 'open: allowed' "$T/out"
	nosec "sit-aes -e" sit-aes -e -v -k key -o ns-sealed plain
	check "sit-aes -e -v says it is not confined" unconfined sit-aes
	nosec "sit-aes -d" sit-aes -d -v -k key -o ns-opened ns-sealed
	check "sit-aes -d -v says it is not confined" unconfined sit-aes
	same "sit-aes round trip without seccomp" plain ns-opened
	nosec "sit-load" sit-load -v -o ns-loaded.png "$png"
	check "sit-load -v says it is not confined" unconfined sit-load
	same "sit-load output without seccomp" "$png" ns-loaded.png
	expect "sit-load refuses bad input without seccomp" 65 "$NOSEC" sit-load -o ns-never.png notpng
	absent "sit-load failure without seccomp leaves no output" ns-never.png
	nosec "sit-visual -e" sit-visual -e -v -o ns-vis.png plain
	check "sit-visual -e -v says it is not confined" unconfined sit-visual
	nosec "sit-visual -d" sit-visual -d -v -o ns-vis.out ns-vis.png
	check "sit-visual -d -v says it is not confined" unconfined sit-visual
	same "sit-visual round trip without seccomp" plain ns-vis.out
	nosec "sit-share" sit-share -v -k 2 -n 3 -i plain -o ns-sh
	check "sit-share -v says it is not confined" unconfined sit-share
	nosec "sit-unshare" sit-unshare -v -o ns-unshared ns-sh.3.png ns-sh.1.png
	check "sit-unshare -v says it is not confined" unconfined sit-unshare
	same "sit-share/sit-unshare round trip without seccomp" plain ns-unshared
	notemp "no temporary file left without seccomp" .
fi

# The filter is really in force while each program is at work: started on
# fifos nobody reads or writes, each blocks mid-stream after entering the
# sandbox, and the kernel shows its filter (Seccomp: 2 in /proc/PID/status).
# Opened read-write here, a fifo never blocks the program's own open.
for f in f1 f2 f3 f4 f5 f6 f7; do mkfifo "$f"; done
exec 11<>f1 12<>f2 13<>f3 14<>f4 15<>f5 16<>f6 17<>f7
# Big enough to fill a fifo: every writer below blocks on its output.
sit-visual -e -o big.pam plain
confined_while_blocked() {
	local name=$1 mode="" rc
	shift
	"$@" 2>/dev/null &
	local pid=$! work
	# A program with a file to name is two processes: the parent outside
	# the sandbox names outputs, its child does the work.
	for _ in $(seq 100); do
		work=$(pgrep -P "$pid" | head -n 1)
		mode=$(awk '/^Seccomp:/ { print $2 }' "/proc/${work:-$pid}/status" 2>/dev/null)
		[ "$mode" = 2 ] && break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	check "$name: seccomp filter in force mid-stream" test "$mode" = 2
	check "$name: was still at work" test "$rc" = $((128 + 15))
}
confined_while_blocked "sit-load writing" sit-load -o f1 big.pam
confined_while_blocked "sit-visual -e writing" sit-visual -e -o f2 plain
confined_while_blocked "sit-visual -d reading the header" sit-visual -d -o vd f3
confined_while_blocked "sit-share writing" sit-share -i plain f4 f5
confined_while_blocked "sit-unshare reading the headers" sit-unshare -o ud f6 f7
exec 11>&- 12>&- 13>&- 14>&- 15>&- 16>&- 17>&-
absent "ended programs leave no output" vd ud
notemp "ended programs leave no temporary file" .

# With strace: the filter is loaded before the input is parsed, and no file
# is opened after it (sanitizer builds open files at exit, and their leak
# checker does not run under a tracer).
no_open_after_filter() {
	awk '/seccomp\(SECCOMP_SET_MODE_FILTER, [^{]*\{len=.*= 0$/ { on = 1; next }
		on && /openat\(/ { bad = 1 } END { exit !(on && !bad) }' "$1"
}
traced() {
	local name=$1
	shift
	expect "$name under strace" 0 strace -f -qq -o trace -e trace=openat,seccomp "$@"
	check "$name: no openat after the filter is loaded" no_open_after_filter trace
}
if [ $relaxed = 1 ]; then
	skip "strace checks" "sanitizer build: the leak checker opens files and cannot run traced"
elif ! command -v strace >/dev/null; then
	skip "strace checks" "strace is not installed"
else
	traced "sit-load" sit-load -f -o loaded.png "$png"
	traced "sit-load --info" sit-load --info "$png"
	traced "sit-visual -e" sit-visual -e -f -o vis.png plain
	traced "sit-visual -d" sit-visual -d -f -o vis.out vis.png
	traced "sit-share" sit-share -f -k 2 -n 3 -i plain -o sh
	traced "sit-unshare" sit-unshare -f -o unshared sh.1.png sh.2.png
	same "traced round trip" plain unshared
fi
