# shellcheck shell=bash
# bash completion for sit(1), sit-aes(1), sit-load(1), sit-visual(1),
# sit-share(1), sit-unshare(1) and sit-gui(1).  Installed as
# share/bash-completion/completions/sit, with a link to it under each other
# program's name, which is the name bash-completion looks for.
#
# The option lists are each program's own (its getopt table, sit --help):
# tests/t-install.sh checks that they agree.  File names are narrowed to what
# an option or operand takes: images, sealed files (*.sit), cipher images and
# shares, key files (anything that is not an image or a sealed file), and
# directories for -O; directories are always offered, to go down into.

# The kinds of file names, as extglob patterns (matched without regard to case).
_sit_img='*.@(jpg|jpeg|png|bmp|gif|tga|pnm|pbm|pgm|ppm|pam)'
# Cipher images and shares survive lossless conversions only.
_sit_lossless='*.@(png|pam|pnm|ppm|pgm|pbm|bmp|tga)'
# What sit decrypt reads: sealed files, cipher images NAME.sit.png, shares
# NAME.N.png.
_sit_dec='@(*.sit|*.sit.@(png|pam|pnm|ppm|pgm|pbm|bmp|tga)|*.+([0-9]).@(png|pam|pnm|ppm|pgm|pbm|bmp|tga))'

# _sit_files KIND: file names of KIND (img, lossless, dec, sealed, key, any)
# and directories into COMPREPLY.
_sit_files() {
	local kind=$1 e keep=() ext nocase
	_filedir
	[[ $kind == any ]] && return
	ext=$(shopt -p extglob)
	nocase=$(shopt -p nocasematch)
	shopt -s extglob nocasematch
	# shellcheck disable=SC2053 # the patterns are meant as patterns
	for e in "${COMPREPLY[@]}"; do
		if [[ -d ${e/#\~/$HOME} ]]; then keep+=("$e"); continue; fi
		case $kind in
		img) [[ $e == $_sit_img ]] && keep+=("$e") ;;
		lossless) [[ $e == $_sit_lossless ]] && keep+=("$e") ;;
		dec) [[ $e == $_sit_dec ]] && keep+=("$e") ;;
		sealed) [[ $e == *.sit ]] && keep+=("$e") ;;
		key) [[ $e != $_sit_img && $e != *.sit ]] && keep+=("$e") ;;
		esac
	done
	$ext
	$nocase
	COMPREPLY=("${keep[@]}")
}

# _sit_opts WORD...: the options among WORDs that start with $cur.
_sit_opts() {
	local IFS=$' \t\n'
	mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur")
}

# True when "--" came before the word being completed: operands only.
_sit_after_dashdash() {
	local i
	for ((i = 1; i < cword; i++)); do
		[[ ${words[i]} == -- ]] && return 0
	done
	return 1
}

# True when one of WORD... is on the command line before the current word.
_sit_given() {
	local i w
	for ((i = 1; i < cword; i++)); do
		for w; do [[ ${words[i]} == "$w" ]] && return 0; done
	done
	return 1
}

_sit_to_formats() {
	_sit_opts png png:fast jpeg jpeg:90 pam
	__ltrim_colon_completions "$cur"
}

_sit() {
	local cur prev words cword split
	_init_completion -s -n : || return

	if ((cword == 1)); then
		_sit_opts encrypt decrypt --help --version
		return
	fi
	local mode
	case ${words[1]} in
	encrypt | enc | e) mode=encrypt ;;
	decrypt | dec | d) mode=decrypt ;;
	*) return ;;
	esac

	if ! _sit_after_dashdash; then
		case $prev in
		-k | --key | -p | --passphrase-file | -R | --recipients-file | -i | --identity | \
			--sign | --from-file)
			_sit_files key
			return ;;
		-r | --recipient | --passphrase-fd | -w | --width | --max-dim | --deadline | --mode | \
			-j | --jobs | --from | --max-age)
			return ;;
		--replay-ledger)
			_sit_files any
			return ;;
		--shares)
			[[ $mode == encrypt ]] && return ;;
		--to)
			_sit_to_formats
			return ;;
		-o | --output)
			_sit_files any
			return ;;
		-O | --output-dir)
			_filedir -d
			return ;;
		--notify)
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
			return ;;
		esac
		$split && return
		if [[ $cur == -* ]]; then
			local both='-k --key -p --passphrase-file --passphrase-fd -P --ask-passphrase
				-o --output -O --output-dir -f --force -j --jobs --notify --syslog
				-v --verbose -h --help --version'
			if [[ $mode == encrypt ]]; then
				_sit_opts "$both" -r --recipient -R --recipients-file --visual --shares \
					-w --width --strip --to --max-dim --sign
			else
				_sit_opts "$both" -i --identity --deadline --shares --mode \
					--from --from-file --replay-ledger --max-age
			fi
			return
		fi
	fi
	if [[ $mode == encrypt ]]; then _sit_files img; else _sit_files dec; fi
}

_sit_aes() {
	local cur prev words cword split
	_init_completion -s || return
	if ! _sit_after_dashdash; then
		case $prev in
		-k | --key | -p | --passphrase-file | -R | --recipients-file | -i | --identity | \
			--sign | --from-file)
			_sit_files key
			return ;;
		-r | --recipient | --passphrase-fd | --pass-ops | --pass-mem | --max-pass-ops | \
			--max-pass-mem | --deadline | --from | --max-age | --mode | --commit-fd)
			return ;;
		-o | --output | --replay-ledger)
			_sit_files any
			return ;;
		esac
		$split && return
		if [[ $cur == -* ]]; then
			_sit_opts -e --encrypt -d --decrypt -r --recipient -R --recipients-file \
				-k --key -i --identity -p --passphrase-file --passphrase-fd \
				-P --ask-passphrase --pass-ops --pass-mem --max-pass-ops --max-pass-mem \
				--deadline --gen-key --gen-identity --public -o --output -f --force \
				--gen-signing-key --sign --from --from-file --replay-ledger --max-age \
				--mode --commit-fd -v --verbose --progress -h --help --version
			return
		fi
	fi
	# Opening reads a sealed stream; --public an identity; sealing anything.
	if _sit_given -d --decrypt; then _sit_files sealed
	elif _sit_given --public; then _sit_files key
	else _sit_files any; fi
}

_sit_load() {
	local cur prev words cword split
	_init_completion -s -n : || return
	if ! _sit_after_dashdash; then
		case $prev in
		--to)
			_sit_to_formats
			return ;;
		--max-dim | --max-width | --max-height | --max-pixels | --max-input | --mode | \
			--commit-fd)
			return ;;
		-o | --output)
			_sit_files any
			return ;;
		esac
		$split && return
		if [[ $cur == -* ]]; then
			_sit_opts --strip --to --max-dim --allow-8bit --info --max-width \
				--max-height --max-pixels --max-input -o --output -f --force \
				--mode --commit-fd -v --verbose -h --help --version
			return
		fi
	fi
	_sit_files img
}

_sit_visual() {
	local cur prev words cword split
	_init_completion -s || return
	if ! _sit_after_dashdash; then
		case $prev in
		-w | --width | --mode | --commit-fd)
			return ;;
		-o | --output)
			_sit_files any
			return ;;
		esac
		$split && return
		if [[ $cur == -* ]]; then
			_sit_opts -e --encode -d --decode -w --width --png --pam --pass-sealed \
				-o --output -f --force --mode --commit-fd -v --verbose -h --help --version
			return
		fi
	fi
	# Decoding reads a cipher image; encoding any stream (a sealed one).
	if _sit_given -d --decode; then _sit_files lossless; else _sit_files any; fi
}

_sit_share() {
	local cur prev words cword split
	_init_completion -s || return
	if ! _sit_after_dashdash; then
		case $prev in
		-k | -n | --mode | --commit-fd)
			return ;;
		-i | --input | -o | --output)
			_sit_files any
			return ;;
		esac
		$split && return
		if [[ $cur == -* ]]; then
			_sit_opts -k -n -i --input -o --output --png --pam --bytes -f --force \
				--mode --commit-fd -v --verbose -h --help --version
			return
		fi
	fi
	# The operands are the shares to write.
	_sit_files any
}

_sit_unshare() {
	local cur prev words cword split
	_init_completion -s || return
	if ! _sit_after_dashdash; then
		case $prev in
		--mode | --commit-fd)
			return ;;
		-o | --output)
			_sit_files any
			return ;;
		esac
		$split && return
		if [[ $cur == -* ]]; then
			_sit_opts -o --output --png --pam -f --force --mode --commit-fd -v --verbose \
				-h --help --version
			return
		fi
	fi
	_sit_files lossless
}

_sit_run() {
	local cur prev words cword split
	_init_completion -s || return
	# After "--" come commands and theirs arguments: complete them as a
	# command line of their own.
	local i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == -- || ${words[i]} == '|' ]]; then
			_command_offset $((i + 1))
			return
		fi
	done
	case $prev in
	--deadline | --gate | --while-pid) return ;;
	esac
	$split && return
	[[ $cur == -* ]] && _sit_opts --deadline --gate --while-pid -h --help --version
}

_sit_gui() {
	local cur prev words cword
	_init_completion || return
	if ! _sit_after_dashdash && [[ $cur == -* ]]; then
		_sit_opts --decrypt -h --help --version
		return
	fi
	if _sit_given --decrypt; then _sit_files dec; else _sit_files img; fi
}

complete -F _sit sit
complete -F _sit_aes sit-aes
complete -F _sit_load sit-load
complete -F _sit_run sit-run
complete -F _sit_visual sit-visual
complete -F _sit_share sit-share
complete -F _sit_unshare sit-unshare
complete -F _sit_gui sit-gui
