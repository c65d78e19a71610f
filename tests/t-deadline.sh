#!/bin/bash
# t-deadline: sit-aes -d --deadline S counts from the start, so that nothing
# can make it wait longer: an input fifo without a writer, an output fifo
# without a reader, a pipe whose writer never writes, a passphrase descriptor
# that never gives a line, and a commit gate nobody answers each end with
# exit 75, the resend message and nothing left.  Every run is under
# timeout 20, so that a regression fails instead of hanging.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 70

head -c 100000 /dev/urandom >plain
sit-aes --gen-key -o key 2>/dev/null
sit-aes -e -k key -o sealed plain
msg='^sit-aes: deadline of 1 s passed, output discarded: ask the sender to resend$'

# NAME: the last expect took less than 10 s and said to resend.
resend() {
	errmatch "$1: the resend message" "$msg"
	if [ "$secs" -lt 10 ]; then pass "$1: over in $secs s"
	else fail "$1" "took $secs s"; fi
}

timed() { # NAME ARGS...: expect 75 from timeout 20 ARGS..., timed
	local name=$1 start
	shift
	start=$(date +%s)
	expect "$name: exit 75" 75 timeout 20 "$@"
	secs=$(( $(date +%s) - start ))
}

mkdir d1 d2 d3 d4 d5
mkfifo nowriter d2/noreader

timed "input fifo without a writer" sit-aes -d --deadline 1 -k key -o d1/out nowriter
resend "input fifo without a writer"
check "input fifo without a writer: nothing in the directory" test -z "$(ls -A d1)"

timed "output fifo without a reader" sit-aes -d --deadline 1 -k key -o d2/noreader sealed
resend "output fifo without a reader"
check "output fifo without a reader: only the fifo" test "$(ls -A d2)" = noreader

# A pipe held open by a writer that never writes.
exec 6< <(sleep 30)
stall=$!
timed "a stalled pipe" sit-aes -d --deadline 1 -k key -o d3/out <&6
resend "a stalled pipe"
check "a stalled pipe: nothing in the directory" test -z "$(ls -A d3)"

# The same for the passphrase.
timed "a passphrase that never comes" sit-aes -d --deadline 1 --passphrase-fd 6 -o d4/out sealed
resend "a passphrase that never comes"
check "a passphrase that never comes: nothing in the directory" test -z "$(ls -A d4)"

# A commit gate never answered: the whole stream is opened, then the wait for
# the gate runs into the deadline.
timed "a gate never answered" sit-aes -d --deadline 1 -k key --commit-fd 6 -o d5/out sealed
resend "a gate never answered"
check "a gate never answered: nothing in the directory" test -z "$(ls -A d5)"

exec 6<&-
kill "$stall" 2>/dev/null

# Within the deadline all is as before.
expect "in time: exit 0" 0 timeout 20 sit-aes -d --deadline 5 -k key -o intime sealed
same "in time: the plaintext" intime plain
