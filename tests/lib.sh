# shellcheck shell=bash
# tests/lib.sh - sourced by every tests/t-*.sh.
#
#   expect NAME CODE CMD...     CMD exits CODE; its stdout is in $T/out, stderr in $T/err
#   same NAME A B               files A and B are byte-identical
#   check NAME CMD...           CMD succeeds
#   errmatch NAME REGEX         the last expect's stderr is one line matching REGEX
#   absent NAME PATH...         no such files (nothing left behind)
#   want_path NAME FILE CHECKED SKIPPED FLAG...
#                               FILE has the line CHECKED where the CPU has
#                               every FLAG, the line SKIPPED otherwise
#   skip NAME WHY
# Programs come from $SIT_BIN (bin/ or the sanitizer build).  $T is a fresh
# directory removed at exit; $SHARED is ../shared beside the project.
set -u
SIT_ROOT=${SIT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SIT_BIN=${SIT_BIN:-$SIT_ROOT/bin}
SHARED=$(cd "$SIT_ROOT/.." && pwd)/shared
PATH=$SIT_BIN:$PATH
export PATH SIT_ROOT SIT_BIN SHARED
# Sanitizer builds: fail loudly on any report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
T=$(mktemp -d "${TMPDIR:-/tmp}/sit-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
rc=0

pass() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "skip $1: $2"; }

expect() {
	local name=$1 want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = "$want" ]; then pass "$name"
	else fail "$name" "exit $rc, wanted $want; stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"; fi
}

same() {
	if cmp -s "$2" "$3"; then pass "$1"
	else fail "$1" "$2 and $3 differ ($(cmp "$2" "$3" 2>&1 | head -1))"; fi
}

check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "'$*' failed"; fi
}

errmatch() {
	local lines
	lines=$(grep -c '' "$T/err")
	if [ "$lines" = 1 ] && grep -Eq -- "$2" "$T/err"; then pass "$1"
	else fail "$1" "stderr was: $(head -c 300 "$T/err" | tr '\n' '|'), wanted one line matching /$2/"; fi
}

absent() {
	local name=$1 p
	shift
	for p in "$@"; do
		if [ -e "$p" ]; then fail "$name" "$p was left behind"; return; fi
	done
	pass "$name"
}

# No temporary ".NAME.XXXXXX" files left in directory $2.
notemp() {
	local left
	left=$(find "$2" -maxdepth 1 -name '.*.??????' 2>/dev/null | head -3)
	if [ -z "$left" ]; then pass "$1"; else fail "$1" "temporary files left: $left"; fi
}

# Every FLAG is in /proc/cpuinfo.
cpu_has() {
	local flags f
	flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
	for f; do
		case "$flags" in *" $f "*) ;; *) return 1 ;; esac
	done
}

# A fast path NAME that needs the CPU flags FLAG...: where the CPU has them
# the probe's report FILE says CHECKED, else SKIPPED, so that a fast path
# that silently stops being taken fails.
want_path() {
	local name=$1 file=$2 checked=$3 skipped=$4
	shift 4
	if cpu_has "$@"; then
		if grep -qx "$checked" "$file"; then pass "$name was checked"
		else fail "$name" "the CPU has $* but the path was not checked: $(tr '\n' ';' <"$file")"; fi
	elif grep -qx "$skipped" "$file"; then pass "$name is left alone without $*"
	else fail "$name" "not listed as skipped: $(tr '\n' ';' <"$file")"; fi
}
