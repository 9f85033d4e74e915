# bash completion for the nedb commands                    -*- shell-script -*-
#
# One file for every nedb-* command and nedbd: installed as
# bash-completion/completions/nedb with a symlink per command name, so
# that bash-completion loads it on the first TAB after any of them.
# The options mirror each command's --help (and its man page).

_nedb_opts()
{
	local common="-d --db --tmk-file --log --durability --pretty --array -h --help"
	common+=" --version"
	local writer="--client --nonce"

	case $1 in
	nedb-put)
		echo "$common $writer --idem --ttl --merge --if-seq --tag" \
			"--id-field --atomic -q --quiet --caused-by --evidence" \
			"--confidence --valid-from --valid-to --table" \
			"--progress --no-progress"
		;;
	nedb-get)
		echo "$common --as-of --meta --history --verify --proof --table"
		;;
	nedb-delete) echo "$common $writer --idem -q --quiet --table" ;;
	nedb-update) echo "$common $writer --many --upsert -q --quiet --table" ;;
	nedb-query)
		echo "$common --explain --filter --sort --skip --limit --as-of" \
			"--project --jq --verify -e --exit-status --table"
		;;
	nedb-index) echo "$common $writer --drop --list --auto --table" ;;
	nedb-link)
		echo "$common $writer --idem --unlink --out --in --as-of --table"
		;;
	nedb-coll) echo "$common $writer --drop --table" ;;
	nedb-expire) echo "$common $writer --idem --persist" ;;
	nedb-redact) echo "$common $writer --idem --seq --all --reason" ;;
	nedb-log)
		echo "$common -n --since --until --reverse -f --follow --raw" \
			"--table --export --import"
		;;
	nedb-verify)
		echo "$common --view --determinism --files --table" \
			"--progress --no-progress"
		;;
	nedb-diff) echo "$common -e --exit-status --table" ;;
	nedb-stats) echo "$common --table" ;;
	nedb-shell) echo "$common --table --json" ;;
	nedb) echo "-d --db --tmk-file -h --help --version" ;;
	nedb-checkpoint)
		echo "$common --rebuild --prune --sign --origin --progress" \
			"--no-progress"
		;;
	nedb-sql)
		echo "$common -m --mode --header --bail -e --exit-status --table" \
			"--progress --no-progress"
		;;
	nedb-redis) echo "$common --raw" ;;
	nedb-redis-follow)
		echo "$common --map --once --status --progress --no-progress"
		;;
	nedb-key) echo "$common --new-tmk-file --out --passphrase-file --salt" ;;
	nedb-proof)
		echo "$common --size --tlog-proof --root --checkpoint --vkey" \
			"--witness --quorum --leaf -q --quiet"
		;;
	nedb-witness) echo "$common --state --key --vkey --proof" ;;
	nedb-file)
		echo "$common $writer --idem --as-of -o --output --tier --chunk" \
			"--root --chunks --data -q --quiet --chunk-min --chunk-avg" \
			"--chunk-max --progress --no-progress"
		;;
	nedbd) echo "--tmk-file -h --help --version" ;;	# and its environment
	*) echo "$common" ;;
	esac
}

# The number of arguments (not options, nor their values) before the
# word being completed.
_nedb_nargs()
{
	local i n=0

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-d | --db | --tmk-file | --log | --new-tmk-file | --durability | --client | \
			--nonce | --idem | --ttl | --if-seq | --tag | --id-field | --as-of | -n | --since | \
			--until | --filter | --sort | --skip | --limit | --project | \
			--jq | --caused-by | --evidence | --confidence | \
			--valid-from | --valid-to | --auto | --passphrase-file | --salt | \
			--size | --root | --checkpoint | --vkey | --witness | --quorum | --origin | \
			--leaf | --state | --key | --seq | --reason)
			((i++))
			;;
		--proof)	# nedb-witness --proof FILE (nedb-get's is a flag)
			[[ ${words[0]##*/} == nedb-witness ]] && ((i++))
			;;
		--out)	# nedb-key new --out FILE (nedb-link's --out is a flag)
			[[ ${words[0]##*/} == nedb-key ]] && ((i++))
			;;
		--version | -o | --output | --tier | --chunk | --chunks | --data | \
			--chunk-min | --chunk-avg | --chunk-max)
			# nedb-file's: --version V (the others' is a flag)
			[[ ${words[0]##*/} == nedb-file ]] && ((i++))
			;;
		-*) ;;
		*) ((n++)) ;;
		esac
	done
	echo $n
}

# The commands nedb can run: nedb-* in PATH, without the prefix.
_nedb_commands()
{
	compgen -c nedb- | sed 's/^nedb-//' | sort -u
}

# nedb [-d DIR] [--tmk-file FILE] COMMAND ARGS: the command, then as
# nedb-COMMAND (words shifted); returns 1 when done.
_nedb_umbrella()
{
	local i=1

	while ((i < cword)); do
		case ${words[i]} in
		-d | --db | --tmk-file) ((i += 2)) ;;
		-*) ((i++)) ;;
		*) break ;;
		esac
	done
	if ((i >= cword)); then
		case $prev in
		-d | --db) _filedir -d ;;
		--tmk-file) _filedir ;;
		*)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "$(_nedb_opts nedb)" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "help $(_nedb_commands)" -- "$cur"))
			fi
			;;
		esac
		return 1
	fi
	if [[ ${words[i]} == help ]]; then
		((cword == i + 1)) &&
			COMPREPLY=($(compgen -W "$(_nedb_commands)" -- "$cur"))
		return 1
	fi
	words=("nedb-${words[i]}" "${words[@]:i+1}")
	((cword -= i))
	prev=${words[cword - 1]}
	return 0
}

_nedb()
{
	local cur prev words cword split
	_init_completion -s || return

	if [[ ${words[0]##*/} == nedb ]]; then
		_nedb_umbrella || return
	fi

	case $prev in
	-d | --db)
		_filedir -d
		return
		;;
	--tmk-file | --new-tmk-file | --passphrase-file | --checkpoint | --key | --sign | \
		--map)
		_filedir
		return
		;;
	--state)
		_filedir -d
		return
		;;
	--proof)
		if [[ ${words[0]##*/} == nedb-witness ]]; then
			_filedir
			return
		fi
		;;
	--root | --vkey | --witness | --quorum | --leaf)
		# a hash, a key, a number: nothing to offer
		return
		;;
	--out)
		if [[ ${words[0]##*/} == nedb-key ]]; then
			_filedir
			return
		fi
		;;
	--durability)
		COMPREPLY=($(compgen -W 'durable safe fast' -- "$cur"))
		return
		;;
	-o | --output | --data)
		if [[ ${words[0]##*/} == nedb-file ]]; then
			_filedir
			return
		fi
		;;
	--tier)
		COMPREPLY=($(compgen -W 'warm cold raw' -- "$cur"))
		return
		;;
	--version | --chunk | --chunks | --chunk-min | --chunk-avg | --chunk-max)
		# nedb-file's numbers (the others' --version takes none)
		[[ ${words[0]##*/} == nedb-file ]] && return
		;;
	--client | --nonce | --idem | --ttl | --if-seq | --tag | --id-field | \
		--as-of | -n | --since | --until | --filter | --sort | --skip | \
		--limit | --project | --jq | --caused-by | --evidence | \
		--confidence | --valid-from | --valid-to | --auto | --size)
		# a free-form value: nothing to offer
		return
		;;
	esac
	$split && return
	# nedb-redis: after COMMAND come its arguments, never options
	[[ ${words[0]##*/} == nedb-redis && $(_nedb_nargs) -gt 0 ]] && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_nedb_opts "${words[0]##*/}")" \
			-- "$cur"))
		return
	fi
	# nedb-index [--drop] COLL FIELD KIND: the kinds of index
	if [[ ${words[0]##*/} == nedb-index &&
		" ${words[*]} " != *" --list "* && " ${words[*]} " != *" --auto "* &&
		$(_nedb_nargs) == 2 ]]; then
		COMPREPLY=($(compgen -W 'eq ordered search' -- "$cur"))
		return
	fi
	# nedb-key SUBCOMMAND, and signer's
	if [[ ${words[0]##*/} == nedb-key && $(_nedb_nargs) == 0 ]]; then
		COMPREPLY=($(compgen -W 'status rewrap new derive signer' -- "$cur"))
		return
	fi
	if [[ ${words[0]##*/} == nedb-key && $(_nedb_nargs) == 1 &&
		" ${words[*]} " == *" signer "* ]]; then
		COMPREPLY=($(compgen -W 'new' -- "$cur"))
		return
	fi
	# nedb-proof SUBCOMMAND; verify reads a FILE of proofs
	if [[ ${words[0]##*/} == nedb-proof ]]; then
		if [[ $(_nedb_nargs) == 0 ]]; then
			COMPREPLY=($(compgen -W 'root inclusion consistency verify checkpoint' -- "$cur"))
		elif [[ $(_nedb_nargs) == 1 && " ${words[*]} " == *" verify "* ]]; then
			_filedir
		fi
		return
	fi
	# nedb-file SUBCOMMAND NAME [FILE]; verify reads a FILE proof
	if [[ ${words[0]##*/} == nedb-file ]]; then
		local n=$(_nedb_nargs)
		if [[ $n == 0 ]]; then
			COMPREPLY=($(compgen -W 'put get ls root proof verify stats gc config' -- "$cur"))
		elif [[ $n == 1 && " ${words[*]} " == *" verify "* ]] ||
			[[ $n == 2 && " ${words[*]} " == *" put "* ]]; then
			_filedir
		fi
		return
	fi
	# nedb-witness takes no arguments
	[[ ${words[0]##*/} == nedb-witness ]] && return
	# nedbd takes no arguments
	[[ ${words[0]##*/} == nedbd ]] && return
	# nedb-redis-follow [URL]: the forms of a URL
	if [[ ${words[0]##*/} == nedb-redis-follow ]]; then
		[[ $(_nedb_nargs) == 0 ]] &&
			COMPREPLY=($(compgen -W 'redis:// unix://' -- "$cur"))
		compopt -o nospace 2>/dev/null
		return
	fi
	# nedb-redis COMMAND: the commands of its table, in the case typed
	if [[ ${words[0]##*/} == nedb-redis && $(_nedb_nargs) == 0 ]]; then
		local cmds="APPEND AUTH BGSAVE BITCOUNT BLMOVE BLMPOP BLPOP BRPOP BRPOPLPUSH
			BZMPOP BZPOPMAX BZPOPMIN CLIENT COMMAND COPY DBSIZE DECR
			DECRBY DEL ECHO EVAL EXISTS EXPIRE EXPIREAT EXPIRETIME
			FLUSHALL FLUSHDB GET GETBIT GETDEL GETEX GETRANGE GETSET
			HDEL HELLO HEXISTS HGET HGETALL HINCRBY HINCRBYFLOAT HKEYS HLEN
			HMGET HMSET HRANDFIELD HSCAN HSET HSETNX HSTRLEN HVALS INCR
			INCRBY INCRBYFLOAT INFO KEYS LASTSAVE LCS LINDEX LINSERT LLEN LMOVE
			LMPOP LPOP LPOS LPUSH LPUSHX LRANGE LREM LSET LTRIM MGET MOVE
			MSET MSETNX OBJECT PERSIST PEXPIRE PEXPIREAT PEXPIRETIME PING
			PSETEX PSUBSCRIBE PTTL PUBLISH PUBSUB PUNSUBSCRIBE QUIT RANDOMKEY
			RENAME RENAMENX RPOP RPOPLPUSH RPUSH
			RPUSHX
			SADD SAVE SCAN SCARD SDIFF SDIFFSTORE SELECT SET SETBIT SETEX
			SETNX SETRANGE SHUTDOWN SINTER SINTERCARD SINTERSTORE SISMEMBER
			SMEMBERS SMISMEMBER SMOVE SORT SORT_RO SPOP SRANDMEMBER SREM
			SSCAN STRLEN SUBSCRIBE SUNION SUNIONSTORE SWAPDB TIME TTL TYPE
			UNLINK UNSUBSCRIBE
			ZADD ZCARD ZCOUNT ZDIFF ZDIFFSTORE ZINCRBY ZINTER ZINTERCARD
			ZINTERSTORE ZLEXCOUNT ZMPOP ZMSCORE ZPOPMAX ZPOPMIN
			ZRANDMEMBER ZRANGE ZRANGEBYLEX ZRANGEBYSCORE ZRANGESTORE
			ZRANK ZREM ZREMRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE
			ZREVRANGE ZREVRANGEBYLEX ZREVRANGEBYSCORE ZREVRANK ZSCAN
			ZSCORE ZUNION ZUNIONSTORE"
		[[ $cur == [a-z]* ]] && cmds=${cmds,,}
		COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		return
	fi
	# Collections, ids, documents and queries are not files: offer nothing.
} &&
	complete -F _nedb nedb nedb-shell nedb-put nedb-get nedb-delete nedb-update nedb-query \
		nedb-index nedb-link nedb-coll nedb-expire nedb-sweep nedb-stats \
		nedb-log nedb-verify nedb-checkpoint nedb-redis nedb-key \
		nedb-proof nedb-witness nedb-diff nedb-redact nedb-file nedb-sql nedb-redis-follow nedbd

# ex: filetype=sh
