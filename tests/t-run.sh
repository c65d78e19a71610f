#!/bin/bash
# t-run: sit-run, the pipeline runner under sit(1): the bytes through, the
# first failure's code and message (a broken pipe yields to the stage that
# caused it), the commit gate, the deadline, signals, no process left.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 70

head -c 300000 /dev/urandom >data
expect "three stages: exit 0" 0 sit-run -- cat data '|' cat '|' cat
same "three stages: the bytes through" data "$T/out"
expect "stages' standard error shown on success, in order" 0 \
	sit-run -- sh -c 'echo one >&2' '|' sh -c 'cat >/dev/null; echo two >&2'
check "both lines, in stage order" test "$(cat "$T/err")" = "one${IFS:2:1}two"

expect "first failure decides: 65" 65 \
	sit-run -- sh -c 'echo "first: bad data" >&2; exit 65' '|' sh -c 'cat >/dev/null; echo "second: no input" >&2; exit 66'
errmatch "first failure: its message only" '^first: bad data$'
expect "a broken pipe yields to the stage that stopped reading" 65 \
	sit-run -- sh -c 'while :; do echo x; done' '|' sh -c 'head -c 10 >/dev/null; echo "reader: bad" >&2; exit 65'
errmatch "broken pipe: the reader's message" '^reader: bad$'
expect "a code outside sysexits becomes 70" 70 sit-run -- sh -c 'echo oops >&2; exit 3'
expect "a stage killed by a signal: 70" 70 sit-run -- sh -c 'kill -SEGV $$'
errmatch "killed stage named" '^sit-run: sh was killed by signal 11$'
expect "an unknown command: 69" 69 sit-run -- ./no-such-program
errmatch "unknown command message" '^sit-run: cannot run ./no-such-program: No such file or directory$'
expect "no command: 64" 64 sit-run --
expect "a '|' with nothing after it: 64" 64 sit-run -- cat '|'

# The gate: 'y' once every stage before the last succeeded, else nothing.
gate_reader='read -r -n 1 g <&3; printf "[%s]" "$g"'
expect "gate: y after the others succeeded" 0 sit-run --gate 3 -- true '|' true '|' bash -c "$gate_reader"
check "gate: the last stage read y" test "$(cat "$T/out")" = "[y]"
expect "gate: nothing when one failed" 65 sit-run --gate 3 -- sh -c 'exit 65' '|' bash -c "$gate_reader"
check "gate: the last stage read end of file" test "$(cat "$T/out")" = "[]"
# The gate waits for the stage before, however long it takes.
expect "gate: waits for a slow stage" 0 sit-run --gate 3 -- sleep 1 '|' bash -c "$gate_reader"
check "gate: y after the slow stage" test "$(cat "$T/out")" = "[y]"

# The deadline reaches every stage, even one that ignores its input.
start=$(date +%s%N)
expect "deadline: 75" 75 sit-run --deadline 1 -- sleep 30 '|' sleep 30
ms=$((($(date +%s%N) - start) / 1000000))
check "deadline: over within 3 s (${ms} ms)" test "$ms" -lt 3000
errmatch "deadline: the resend message" '^sit-run: deadline of 1 s passed, output discarded: ask the sender to resend$'
expect "deadline: a stage deaf to SIGTERM is killed" 75 \
	sit-run --deadline 1 -- bash -c 'trap "" TERM; sleep 4; sleep 30'
expect "deadline: a stage's own 75 and message win" 75 \
	sit-run --deadline 5 -- sh -c 'echo "stage: my own deadline" >&2; exit 75'
errmatch "deadline: the stage's message" '^stage: my own deadline$'
check "deadline: no stage left" test -z "$(pgrep -f 'sleep 30')"

# Signals are passed on; sit-run ends by the same signal.
sit-run -- sleep 31 '|' sleep 32 &
pid=$!
sleep 0.3
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: sit-run ends by it" test $? = 143
sleep 0.2
check "SIGTERM: every stage ended" test -z "$(pgrep -f 'sleep 3[12]')"
# When its parent dies, sit-run and its stages go too.
bash -c 'sit-run -- sleep 33 & wait' &
parent=$!
sleep 0.3
kill -KILL "$parent"
wait "$parent" 2>/dev/null
for _ in $(seq 20); do [ -z "$(pgrep -f 'sleep 33')" ] && break; sleep 0.1; done
check "parent killed: the stages ended" test -z "$(pgrep -f 'sleep 33')"

# --while-pid: the chain ends with the process it serves, even by SIGKILL.
sleep 60 &
watched=$!
sit-run --while-pid "$watched" -- sleep 34 '|' sleep 35 &
pid=$!
sleep 0.3
kill -KILL "$watched"
wait "$pid"
check "--while-pid: sit-run ends by SIGTERM when the process dies" test $? = 143
sleep 0.2
check "--while-pid: every stage ended" test -z "$(pgrep -f 'sleep 3[45]')"
expect "--while-pid of a process that is gone: 75" 75 sit-run --while-pid "$watched" -- true

# --while-pid: the chain ends with the process it serves, even by SIGKILL.
sleep 60 &
watched=$!
sit-run --while-pid "$watched" -- sleep 34 '|' sleep 35 &
pid=$!
sleep 0.3
kill -KILL "$watched"
wait "$pid"
check "--while-pid: sit-run ends by SIGTERM when the process dies" test $? = 143
sleep 0.2
check "--while-pid: every stage ended" test -z "$(pgrep -f 'sleep 3[45]')"
expect "--while-pid of a process that is gone: 75" 75 sit-run --while-pid "$watched" -- true


exit 0
