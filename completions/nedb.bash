# bash completion for the nedb commands                    -*- shell-script -*-
#
# One file for every nedb-* command: installed as
# bash-completion/completions/nedb with a symlink per command name, so
# that bash-completion loads it on the first TAB after any of them.
# The options mirror each command's --help (and its man page).

_nedb_opts()
{
	local common="-d --db --durability --pretty --array -h --help --version"

	case $1 in
	nedb-put)
		echo "$common --client --nonce --idem --ttl --merge --if-seq" \
			"--tag --id-field --atomic -q --quiet"
		;;
	nedb-get) echo "$common --as-of --meta --history" ;;
	nedb-delete) echo "$common --client --nonce --idem -q --quiet" ;;
	nedb-log) echo "$common -n --since --until --reverse -f --follow" ;;
	nedb-verify) echo "$common --determinism" ;;
	nedb-checkpoint) echo "$common --rebuild" ;;
	*) echo "$common" ;;
	esac
}

_nedb()
{
	local cur prev words cword split
	_init_completion -s || return

	case $prev in
	-d | --db)
		_filedir -d
		return
		;;
	--durability)
		COMPREPLY=($(compgen -W 'durable safe fast' -- "$cur"))
		return
		;;
	--client | --nonce | --idem | --ttl | --if-seq | --tag | --id-field | \
		--as-of | -n | --since | --until)
		# a free-form value: nothing to offer
		return
		;;
	esac
	$split && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_nedb_opts "${words[0]##*/}")" \
			-- "$cur"))
		return
	fi
	# Collections, ids and documents are not files: offer nothing.
} &&
	complete -F _nedb nedb-put nedb-get nedb-delete nedb-log nedb-verify \
		nedb-checkpoint

# ex: filetype=sh
