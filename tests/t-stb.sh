#!/bin/bash
# stb_image crash replays that are images a decoder may take (tests/regress/
# stb/ok-*, see the README there): sit-load checks and passes each through,
# and its pixels (--to pam) are exactly the expected ones on every run, in
# particular no stack or heap bytes where the file's palette has no entry.
# (The replays that must be refused are in tests/t-regress.sh.)
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
S=$SIT_ROOT/tests/regress/stb
n=0
for f in "$S"/ok-*; do
	case "$f" in *.pam) continue ;; esac
	name=$(basename "$f")
	want=$S/${name%.*}.pam
	n=$((n + 1))
	expect "$name passes through" 0 sit-load -o passed "$f"
	same "$name passed through unchanged" "$f" passed
	rm -f passed
	rm -f pixels1 pixels2 pixels3
	for run in 1 2 3; do
		expect "$name decodes (run $run)" 0 sit-load --to pam -o "pixels$run" "$f"
		same "$name pixels are the expected ones (run $run)" "$want" "pixels$run"
	done
done
[ $n -gt 0 ] || fail "stb replays" "no ok-* file in $S"
