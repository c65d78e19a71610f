#!/bin/bash
# t-core: every program turns core dumps off at its start (RLIMIT_CORE 0 and
# not dumpable), before it opens anything: caught while blocked opening an
# input fifo nobody writes.  Run as user nobody, so that "not dumpable"
# shows: the kernel then gives the process's /proc files to root.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 70
if ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
	skip "core dumps off" "no user nobody or no setpriv"
	exit 0
fi
d=$(mktemp -d "${TMPDIR:-/tmp}/sit-core.XXXXXX")
trap 'rm -rf "$d" "$T"' EXIT
chmod 755 "$d"
mkfifo -m 666 "$d/in"
for c in "sit-load @" "sit-aes --public -i @" "sit-visual -d @" \
	"sit-share -i @ /dev/null /dev/null" "sit-unshare @"; do
	prog=${c%% *}
	args=${c#"$prog"}
	# shellcheck disable=SC2086 # $args are options and operands
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$SIT_BIN/$prog" ${args//@/$d/in} \
		>/dev/null 2>&1 &
	pid=$!
	lim='' owner=''
	for _ in $(seq 50); do
		lim=$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$pid/limits" 2>/dev/null)
		owner=$(stat -c %U "/proc/$pid/status" 2>/dev/null)
		[ "$lim" = "0 0" ] && [ "$owner" = root ] && break
		sleep 0.05
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check "$prog: core file size 0 ($lim)" test "$lim" = "0 0"
	check "$prog: not dumpable (its /proc owned by $owner)" test "$owner" = root
done
exit 0
