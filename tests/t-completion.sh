#!/bin/bash
# bash completion (completion/sit.bash): each program's completion offers
# exactly the options it accepts (its getopt table, sit's and sit-gui's
# --help, by mode for sit), option arguments and operands are narrowed to the
# files they take, and bash-completion loads it under every program's name.
. "$(dirname "$0")/lib.sh"

BC=/usr/share/bash-completion/bash_completion
if [ ! -f "$BC" ]; then
	skip "bash completion" "$BC is missing (Debian package bash-completion; scripts/install-deps)"
	exit 0
fi
cd "$T" || exit 70
mkdir -p files/sub
(cd files && touch a.jpg B.PNG 'my photo.jpg' photo.gif c.sit c.sit.png p.1.png p.2.png key id.txt x.pam)

# The completion of a command line as bash would be asked for it: words split
# at spaces, the last one (possibly empty) being completed.  Prints the
# candidates sorted, joined by "|".
cat >complete.sh <<'EOF'
. /usr/share/bash-completion/bash_completion
. "$SIT_ROOT/completion/sit.bash"
func=$1 line=$2
read -ra COMP_WORDS <<<"$line"
[[ $line == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line COMP_POINT=${#line}
COMPREPLY=()
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort -u | paste -sd '|'
EOF

got() { (cd files && bash ../complete.sh "$@"); }

comp() { # comp NAME WANT FUNC LINE
	local g
	g=$(got "$3" "$4")
	if [ "$g" = "$2" ]; then pass "$1"; else fail "$1" "'$4' gave '$g', wanted '$2'"; fi
}

# ---- the option lists ------------------------------------------------------
# A C program's options: its getopt table's long names and its short letters.
c_opts() { # c_opts SOURCE
	{
		grep -oE '^\s*\{ "[a-z0-9-]+",' "$1" | grep -oE '[a-z0-9-]+' | sed 's/^/--/'
		grep -oE 'getopt_long\(argc, argv, "[^"]*"' "$1" | sed 's/.*"\(.*\)"/\1/' |
			tr -d ':+' | grep -o . | sed 's/^/-/'
	} | LC_ALL=C sort -u | paste -sd '|'
}
for src in "$SIT_ROOT"/cmd/*.c; do
	prog=$(basename "$src" .c)
	want=$(c_opts "$src")
	comp "$prog: every option of its getopt table and no other" "$want" "_${prog//-/_}" "$prog -"
done

# sit's options by mode, from sit --help: the Encrypt and Decrypt sections,
# key options marked "encrypt:" or "decrypt:", the rest for both.
sit --help | awk '
	/^Key options/ { sec = "key"; next }
	/^Signatures/ { sec = "key"; next }
	/^Encrypt:/ { sec = "enc"; next }
	/^Decrypt:/ { sec = "dec"; next }
	/^Both:/ { sec = "both"; next }
	/^Exit:/ { sec = "" }
	sec != "" && /^  +-/ {
		line = $0; sub(/^ +/, "", line)
		split(line, part, /  +/)
		who = sec
		# "-R, --recipients-file FILE encrypt: ..." (one space before it)
		if (sec == "key") who = line ~ / encrypt:/ ? "enc" : line ~ / decrypt:/ ? "dec" : "both"
		n = split(part[1], o, /, /)
		for (i = 1; i <= n; i++) { sub(/ .*/, "", o[i]); if (o[i] ~ /^-/) print who, o[i] }
	}' >sit.opts
for mode in encrypt decrypt; do
	want=$(awk -v m="${mode:0:3}" '$1 == m || $1 == "both" { print $2 }' sit.opts | LC_ALL=C sort -u | paste -sd '|')
	if [ "$(grep -c '' sit.opts)" -lt 20 ]; then fail "sit --help parsed" "$(wc -l <sit.opts) options"; break; fi
	comp "sit $mode: the options sit --help gives for $mode" "$want" _sit "sit $mode -"
done
want=$(sit-gui --help | grep -E '^  +-' | sed 's/^ *//; s/  .*//' | tr ',' '\n' |
	sed 's/^ *//; s/ .*//' | LC_ALL=C sort -u | paste -sd '|')
comp "sit-gui: the options of its --help" "$want" _sit_gui "sit-gui -"
comp "sit: the commands" "--help|--version|decrypt|encrypt" _sit "sit "
comp "sit: nothing after an unknown command" "" _sit "sit frobnicate "

# ---- option arguments and operands -------------------------------------------
img='B.PNG|a.jpg|c.sit.png|my photo.jpg|p.1.png|p.2.png|photo.gif|sub|x.pam'
dec='c.sit|c.sit.png|p.1.png|p.2.png|sub'
lossless='B.PNG|c.sit.png|p.1.png|p.2.png|sub|x.pam'
keys='id.txt|key|sub'
all='B.PNG|a.jpg|c.sit|c.sit.png|id.txt|key|my photo.jpg|p.1.png|p.2.png|photo.gif|sub|x.pam'
comp "sit encrypt: images (and directories)" "$img" _sit "sit encrypt "
comp "sit encrypt: image names by prefix" "my photo.jpg" _sit "sit encrypt -k key m"
comp "sit decrypt: sealed files, cipher images, shares" "$dec" _sit "sit decrypt -v "
comp "sit decrypt --shares takes no argument" "$dec" _sit "sit decrypt --shares "
comp "sit encrypt --shares K/N: no file names" "" _sit "sit encrypt --shares "
comp "sit -k: key files, not images or sealed files" "$keys" _sit "sit encrypt -k "
comp "sit --identity=: key files" "key" _sit "sit decrypt --identity=k"
comp "sit -R: key files" "$keys" _sit "sit encrypt -R "
comp "sit -r PUBKEY: nothing" "" _sit "sit encrypt -r "
comp "sit -O: directories only" "sub" _sit "sit decrypt -O "
comp "sit -o: any file" "$all" _sit "sit decrypt -o "
comp "sit -j N: nothing" "" _sit "sit decrypt -j "
comp "sit --to: the formats" "jpeg|jpeg:90" _sit "sit encrypt --to j"
comp "sit --to jpeg: (a colon in the word)" "90" _sit "sit encrypt --to jpeg:"
comp "sit: after --, operands only" "$img" _sit "sit encrypt -- -k "
g=$(got _sit "sit encrypt --notify logg")
case "|$g|" in *"|logger|"*) pass "sit --notify: commands" ;; *) fail "sit --notify" "gave '$g'" ;; esac
comp "sit-aes -d: sealed files" "c.sit|sub" _sit_aes "sit-aes -d "
comp "sit-aes -e: any file" "$all" _sit_aes "sit-aes -e -k key "
comp "sit-aes --public: identities (key files)" "$keys" _sit_aes "sit-aes --public "
comp "sit-aes -k: key files" "$keys" _sit_aes "sit-aes -d -k "
comp "sit-aes --pass-mem: nothing" "" _sit_aes "sit-aes -e --pass-mem "
comp "sit-aes long options by prefix" "--gen-identity|--gen-key|--gen-signing-key" _sit_aes "sit-aes --gen"
comp "sit-load: images" "$img" _sit_load "sit-load --strip "
comp "sit-load --to png:" "fast" _sit_load "sit-load --to png:"
comp "sit-load --max-dim: nothing" "" _sit_load "sit-load --max-dim "
comp "sit-visual -d: cipher images (lossless formats)" "$lossless" _sit_visual "sit-visual -d "
comp "sit-visual -e: any file" "$all" _sit_visual "sit-visual -e "
comp "sit-share -i: any file" "$all" _sit_share "sit-share -i "
comp "sit-share -n: nothing" "" _sit_share "sit-share -n "
comp "sit-unshare: shares (lossless formats)" "$lossless" _sit_unshare "sit-unshare -o x "
comp "sit-gui: images" "$img" _sit_gui "sit-gui "
comp "sit-gui --decrypt: what sit decrypt reads" "$dec" _sit_gui "sit-gui --decrypt "

# ---- loaded by bash-completion under each name --------------------------------
# make install's layout (a file and links), found through XDG_DATA_DIRS as
# bash-completion looks for it.
mkdir -p share/bash-completion/completions
cp "$SIT_ROOT/completion/sit.bash" share/bash-completion/completions/sit
for p in sit-aes sit-load sit-run sit-visual sit-share sit-unshare sit-gui; do
	ln -s sit "share/bash-completion/completions/$p"
done
for p in sit sit-aes sit-load sit-run sit-visual sit-share sit-unshare sit-gui; do
	g=$(XDG_DATA_DIRS=$T/share BASH_COMPLETION_USER_DIR=$T/none bash -c \
		'. /usr/share/bash-completion/bash_completion; __load_completion "$1" && complete -p "$1"' _ "$p" 2>&1)
	if [ "$g" = "complete -F _${p//-/_} $p" ]; then pass "bash-completion loads the completion of $p"
	else fail "bash-completion loads $p" "gave '$g'"; fi
done
