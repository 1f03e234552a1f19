#!/usr/bin/env bats
# spotenv completion bash|zsh|fish: scripts made from the command and option
# tables.  bash is driven for real through Debian's bash-completion (the
# completion function is called as readline would, COMPREPLY printed), fish
# through `complete -C`; zsh is checked to parse and to name every command.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	cd "$BATS_TEST_DIRNAME/../.." || return 1
	[ -r /usr/share/bash-completion/bash_completion ] ||
		skip "bash-completion is not installed (make deps-test)"
}

# complete LINE: what bash offers for the last word of LINE (a trailing space
# starts a new word), one candidate a line, sorted.
complete_bash() {
	bash --norc --noprofile -c '
		exe=$1 line="$1 ${2#spotenv }"
		source /usr/share/bash-completion/bash_completion
		source <("$exe" completion bash) || exit 1
		COMP_LINE=$line
		COMP_POINT=${#line}
		read -ra COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_spotenv spotenv "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete_bash "$SPOTENV" "$1" | sed '/^$/d' | sort
}

@test "completion: bash completes command names" {
	run complete_bash "spotenv a"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'api\napply')" ]
	run complete_bash "spotenv "
	for c in api apply completion destroy help observe plan show sim status validate version; do
		grep -qx "$c" <<<"$output"
	done
}

@test "completion: bash completes a command's options from its table" {
	run complete_bash "spotenv apply --"
	[ "$status" -eq 0 ]
	for o in --auto-approve --until-converged --metrics-file --env --max-release --help; do
		grep -qx -- "$o" <<<"$output"
	done
	# plan's options are not apply's: --detailed-exitcode is plan's alone
	if grep -qx -- --detailed-exitcode <<<"$output"; then false; fi
	run complete_bash "spotenv apply --a"
	[ "$output" = "--auto-approve" ]
}

@test "completion: bash completes fixed option values" {
	run complete_bash "spotenv plan --format "
	[ "$output" = "$(printf 'json\nmarkdown\ntext')" ]
	run complete_bash "spotenv status --format "
	[ "$output" = "$(printf 'json\ntext')" ]
	run complete_bash "spotenv plan --format=m"
	[ "$output" = "markdown" ]
	run complete_bash "spotenv sim ctl --rate-limits o"
	[ "$output" = "$(printf 'off\non')" ]
	run complete_bash "spotenv completion "
	[ "$output" = "$(printf 'bash\nfish\nzsh')" ]
	# an option whose value is free gets no candidates (not files)
	run complete_bash "spotenv apply --max-release "
	[ -z "$output" ]
}

@test "completion: bash completes the global options before the command" {
	run complete_bash "spotenv --log"
	[ "$output" = "--log-format" ]
	run complete_bash "spotenv --log-format "
	[ "$output" = "$(printf 'json\ntext')" ]
	run complete_bash "spotenv plan --log-format j"
	[ "$output" = "json" ]
	# a global option's value is skipped: the command comes after it
	run complete_bash "spotenv --endpoint http://127.0.0.1:1 -v pl"
	[ "$output" = "plan" ]
	run complete_bash "spotenv --no-color plan --det"
	[ "$output" = "--detailed-exitcode" ]
}

@test "completion: bash completes environment names from the specs on the line" {
	run complete_bash "spotenv plan specs/examples/ --env "
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'batch-etl\nbatch-reports\nguangzhou-single\nrender-farm')" ]
	run complete_bash "spotenv status specs/examples/render-farm.yaml --env r"
	[ "$output" = "render-farm" ]
	# no specs yet, or specs that do not load: nothing, and no noise
	run --separate-stderr complete_bash "spotenv plan --env "
	[ -z "$output" ]
	[ -z "$stderr" ]
	run --separate-stderr complete_bash "spotenv plan /nonexistent --env "
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "completion: bash completes spec paths and files" {
	mkdir -p "$BATS_TEST_TMPDIR/w/sub"
	touch "$BATS_TEST_TMPDIR/w/a.yaml" "$BATS_TEST_TMPDIR/w/b.yml" "$BATS_TEST_TMPDIR/w/notes.txt"
	cd "$BATS_TEST_TMPDIR/w"
	# specs: directories and YAML files
	run complete_bash "spotenv plan "
	[ "$output" = "$(printf 'a.yaml\nb.yml\nsub')" ]
	# a FILE-valued option and a plan file: any file
	run complete_bash "spotenv plan a.yaml -o "
	[ "$output" = "$(printf 'a.yaml\nb.yml\nnotes.txt\nsub')" ]
	run complete_bash "spotenv show n"
	[ "$output" = "notes.txt" ]
}

@test "completion: bash completes subcommands, and their options after them" {
	run complete_bash "spotenv sim "
	[ "$output" = "ctl" ]
	run complete_bash "spotenv sim ctl --prot"
	[ "$output" = "--protected" ]
	# sim ctl's verbs, after its options too
	run complete_bash "spotenv sim ctl re"
	[ "$output" = "$(printf 'reclaim\nreset')" ]
	run complete_bash "spotenv sim ctl --endpoint http://127.0.0.1:1 st"
	[ "$output" = "$(printf 'state\nstats\nsts')" ]
	run complete_bash "spotenv sim ctl reclaim "
	[ -z "$output" ]
	# sim's own options are not sim ctl's
	run complete_bash "spotenv sim --port"
	[ "$output" = "--port-file" ]
}

@test "completion: __envs lists environment names, quietly and offline" {
	run --separate-stderr "$SPOTENV" completion __envs -- specs/examples/
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "batch-etl" ]
	run --separate-stderr "$SPOTENV" completion __envs -- /nonexistent
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "completion: unknown shell is a usage error" {
	run --separate-stderr "$SPOTENV" completion tcsh
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown shell 'tcsh' (expected bash, zsh or fish)"* ]]
	run --separate-stderr "$SPOTENV" completion
	[ "$status" -eq 64 ]
}

# complete_zsh LINE: the candidates zsh's completion function adds for the
# last word of LINE, one a line, sorted; compadd, _files and _describe are
# stand-ins that print what they are given (no prefix filtering: that is
# zsh's), so this checks the script's choice of candidates.
complete_zsh() {
	zsh -f -c '
		exe=$1 line=$2
		compadd() { [[ $1 == -- ]] && shift; print -l -- "$@" }
		_files() { print -- "<files $*>" }
		_describe() { local -a a; a=("${(@P)4}"); print -l -- "${a[@]%%:*}" }
		compset() { : }
		source <("$exe" completion zsh) >/dev/null 2>&1 || exit 1
		words=(${(z)line})
		[[ $line == *" " ]] && words+=("")
		words[1]=$exe
		CURRENT=${#words}
		_spotenv
	' complete_zsh "$SPOTENV" "$1" | sort
}

@test "completion: zsh offers the same candidates" {
	command -v zsh >/dev/null || skip "zsh is not installed (make deps-test)"
	run complete_zsh "spotenv plan --format "
	[ "$output" = "$(printf 'json\nmarkdown\ntext')" ]
	run complete_zsh "spotenv plan specs/examples/ --env "
	[ "$output" = "$(printf 'batch-etl\nbatch-reports\nguangzhou-single\nrender-farm')" ]
	run complete_zsh "spotenv plan "
	[ "$output" = "<files -g *.(yaml|yml)>" ]
	run complete_zsh "spotenv --log-format "
	[ "$output" = "$(printf 'json\ntext')" ]
	run complete_zsh "spotenv "
	grep -qx apply <<<"$output"
	grep -qx completion <<<"$output"
	run complete_zsh "spotenv sim ctl "
	grep -qx reclaim <<<"$output"
	run complete_zsh "spotenv apply --"
	grep -qx -- --auto-approve <<<"$output"
	grep -qx -- --log-format <<<"$output"
}

@test "completion: zsh script parses and names every command and option" {
	command -v zsh >/dev/null || skip "zsh is not installed (make deps-test)"
	"$SPOTENV" completion zsh >"$BATS_TEST_TMPDIR/_spotenv"
	zsh -n "$BATS_TEST_TMPDIR/_spotenv"
	head -1 "$BATS_TEST_TMPDIR/_spotenv" | grep -qx '#compdef spotenv'
	for c in api apply completion destroy observe plan show sim status validate; do
		grep -q "^	$c) opts=" "$BATS_TEST_TMPDIR/_spotenv"
	done
	grep -q '"plan --format") what=list vals="text json markdown"' "$BATS_TEST_TMPDIR/_spotenv"
}

@test "completion: fish script parses and completes" {
	command -v fish >/dev/null || skip "fish is not installed (make deps-test)"
	"$SPOTENV" completion fish >"$BATS_TEST_TMPDIR/spotenv.fish"
	fish -n "$BATS_TEST_TMPDIR/spotenv.fish"
	run fish --no-config -c "source '$BATS_TEST_TMPDIR/spotenv.fish'; complete -C'spotenv plan --format '"
	[ "$status" -eq 0 ]
	[ "$(cut -f1 <<<"$output" | sort | tr '\n' ' ')" = "json markdown text " ]
	run fish --no-config -c "source '$BATS_TEST_TMPDIR/spotenv.fish'; complete -C'spotenv a'"
	[ "$(cut -f1 <<<"$output" | sort | tr '\n' ' ')" = "api apply " ]
}
