#!/bin/bash
# Replay every fuzzer finding under tests/regress/ (see its README) through the
# real program: each must be refused cleanly with exit 65, one line on stderr,
# nothing on stdout and no sanitizer report.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
R=$SIT_ROOT/tests/regress
V=$SIT_ROOT/tests/vectors
for k in key identity passphrase; do cp "$V/$k.txt" "$k"; chmod 600 "$k"; done

# Why a known input is not refused yet, or nothing.
known() { sed -n "s|^$1 \{1,\}||p" "$R/KNOWN"; }

# A sanitizer build sees memory errors; the release build may not.
sanitized=0
case "$SIT_BIN" in */build/asan/bin) sanitized=1 ;; esac

# refused NAME CMD...: a clean exit 65 (one line "CMD: ..." on stderr), or the
# KNOWN bookkeeping: skipped, and a failure once a sanitizer build sees it
# refused cleanly (a release build cannot tell a fixed memory error).
refused() {
	local name=$1 why ok=1
	shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 65 ] || ok=0
	[ -s "$T/out" ] && ok=0
	[ "$(grep -c '' "$T/err")" = 1 ] && grep -q "^$(basename "$1"): " "$T/err" || ok=0
	grep -Eq 'Sanitizer|runtime error|LeakSanitizer' "$T/err" && ok=0
	why=$(known "$name")
	if [ -n "$why" ]; then
		if [ $ok = 1 ] && [ $sanitized = 1 ]; then
			fail "$name" "refused now: remove its line from tests/regress/KNOWN"
		else skip "$name" "known, fix pending: $why"; fi
	elif [ $ok = 1 ]; then pass "$name refused cleanly"
	else fail "$name" "exit $rc, wanted a clean 65; stdout $(wc -c <"$T/out") bytes; stderr: $(head -c 300 "$T/err" | tr '\n' '|')"
	fi
}

n=0
for f in "$R"/seal/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	# Every key the vectors use, so a finding cannot hide behind a wrong key;
	# a low Argon2id limit so a passphrase stanza costs no time.
	refused "seal/$(basename "$f")" sit-aes -d -k key -i identity -p passphrase \
		--max-pass-ops 2 --max-pass-mem 1 "$f"
done
for f in "$R"/keys/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	cp "$f" kf; chmod 600 kf
	case "$(head -c 8 kf)" in
	sitkey1:) refused "keys/$(basename "$f")" sit-aes -d -k kf "$V/keyfile-hello.sit" ;;
	sitsec1:) refused "keys/$(basename "$f")" sit-aes -d -i kf "$V/x25519-hello.sit" ;;
	*) refused "keys/$(basename "$f")" sit-aes -e -R kf -o sealed "$V/hello.txt" ;;
	esac
done
for f in "$R"/img/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	refused "img/$(basename "$f")" sit-load -o result "$f"
	rm -f result
done
for f in "$R"/visual/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	refused "visual/$(basename "$f")" sit-visual -d -o result "$f"
	rm -f result
done
for f in "$R"/share/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	refused "share/$(basename "$f")" sit-unshare -o result "$f"
	rm -f result
done
# stb_image's own crash reports, written again (stb/README); ok-* decode
# (tests/t-stb.sh checks them).
for f in "$R"/stb/*; do
	case "$(basename "$f")" in ok-*|README|*.py) continue ;; esac
	n=$((n + 1))
	refused "stb/$(basename "$f")" sit-load -o result "$f"
	absent "stb/$(basename "$f") leaves no output" result
	rm -f result
done
[ $n -gt 0 ] || skip "regression inputs" "none yet"
# Every KNOWN line names an input that exists.
while read -r name _; do
	case "$name" in ''|'#'*) continue ;; esac
	check "KNOWN entry $name exists" test -f "$R/$name"
done <"$R/KNOWN"
