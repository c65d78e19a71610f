#!/bin/bash
# Every man page is valid mdoc/man (mandoc's lint), every program has one, and
# every long option a program accepts is in its page.
. "$(dirname "$0")/lib.sh"
for m in "$SIT_ROOT"/man/*.[157]; do
	out=$(mandoc -Tlint -W warning "$m" 2>&1)
	if [ -z "$out" ]; then pass "mandoc lint $(basename "$m")"
	else fail "mandoc lint $(basename "$m")" "$(echo "$out" | head -3 | tr '\n' ' ')"; fi
done
for src in "$SIT_ROOT"/cmd/*.c; do
	prog=$(basename "$src" .c)
	page="$SIT_ROOT/man/$prog.1"
	check "$prog has a man page" test -f "$page"
	[ -f "$page" ] || continue
	# Long options from the getopt table: { "name", ...
	missing=""
	for opt in $(grep -oE '^\s*\{ "[a-z0-9-]+",' "$src" | grep -oE '[a-z0-9-]+'); do
		grep -qE "Fl -$opt( |\$)" "$page" || missing="$missing --$opt"
	done
	if [ -z "$missing" ]; then pass "$prog: every long option documented"
	else fail "$prog: every long option documented" "missing:$missing"; fi
done
