#!/usr/bin/env bats
# nedb, the umbrella (exec of nedb-CMD, help, did-you-mean, version), and
# nedb-shell: as a script (stdin not a terminal) and on a real terminal,
# driven through tmux (send-keys, capture-pane), every outcome waited for
# by polling the screen.

load helper

setup_more() {
	BIN="$(dirname "$(command -v nedb-put)")"
	nedb-put -q users alice '{"name":"Alice","age":31}'	# seq 1
	nedb-put -q users bob '{"name":"Bob","age":25}'	# seq 2
	nedb-put -q users alice '{"name":"Alice","age":32}'	# seq 3
	export NEDB_HISTORY="$BATS_TEST_TMPDIR/history"
}

teardown() {
	if [ -n "${HOOKS:-}" ]; then
		hooks_teardown
	fi
	if [ -n "${TMUX_SOCK:-}" ]; then
		tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	fi
}

# The terminal: a tmux server of this test's own, 100x40, running $@.
term_start() {
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux${TERM_N:-}.sock"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 100 -y 40 \
		"$* ; echo \"[exited \$?]\"; sleep 600" 3>&-
	wait_screen 'nedb> $'
}

t() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { t capture-pane -p -J -S -200; }
# Types text literally (a ';' escaped for tmux's parser).
type_text() { t send-keys -l -- "${1//;/\\;}"; }
keys() { t send-keys "$@"; }

# Waits (up to 30 s) until a line of the screen matches the regex $1.
wait_screen() {
	local i
	for ((i = 0; i < 3000; i++)); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.01
	done
	echo "the screen never showed: $1" >&2
	screen >&2
	return 1
}

# Waits until the regex $1 matches $2 lines (or more) of the screen.
wait_count() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(screen | grep -cE -- "$1")" -ge "$2" ] && return 0
		sleep 0.01
	done
	echo "the screen never showed $2 lines of: $1" >&2
	screen >&2
	return 1
}

# The umbrella

@test "nedb put runs nedb-put with its arguments, and the command's exit status is nedb's" {
	run nedb put users carol '{"name":"Carol"}'
	assert_success
	assert_output --regexp '^\{"seq":4,"hash":"[0-9a-f]{64}","op":"put","coll":"users","id":"carol"\}$'
	run nedb get users carol
	assert_output '{"_id":"carol","name":"Carol"}'
	run -1 --separate-stderr nedb get users nobody
	assert_output ""
	assert_equal "$stderr" "nedb-get: no document 'users/nobody'"
	run -2 --separate-stderr nedb query 'FROM users WHERE'
	assert_equal "$stderr" "nedb-query: syntax error at column 17: expected a condition after WHERE"
}

@test "nedb runs the command beside it before one of the same name in PATH, then commands only in PATH" {
	local fake="$BATS_TEST_TMPDIR/fake"
	mkdir -p "$fake"
	printf '#!/bin/sh\necho fake "$@"\n' > "$fake/nedb-get"
	printf '#!/bin/sh\necho "hello [$0] $*"\nexit 7\n' > "$fake/nedb-hello"
	chmod +x "$fake/nedb-get" "$fake/nedb-hello"
	PATH="$fake:$PATH" run nedb get users bob
	assert_output '{"_id":"bob","name":"Bob","age":25}'
	PATH="$fake:$PATH" run -7 "$BIN/nedb" hello a 'b c'
	assert_output "hello [$fake/nedb-hello] a b c"
}

@test "nedb hands the options before the command to it" {
	local dir=$NEDB_DIR
	unset NEDB_DIR
	run nedb -d "$dir" get users bob
	assert_output '{"_id":"bob","name":"Bob","age":25}'
	run nedb --db="$dir" query 'FROM users WHERE age < 30'
	assert_output '{"_id":"bob","name":"Bob","age":25}'
	[ ! -e nedb-data ]
}

@test "an unknown command is a usage error naming the closest command, as git does" {
	run -2 --separate-stderr nedb pt users alice
	assert_output ""
	assert_equal "$stderr" "nedb: 'pt' is not a nedb command. Did you mean 'put'?"
	run -2 --separate-stderr nedb qurey 'FROM users'
	assert_equal "$stderr" "nedb: 'qurey' is not a nedb command. Did you mean 'query'?"
	run -2 --separate-stderr nedb chekpoint
	assert_equal "$stderr" "nedb: 'chekpoint' is not a nedb command. Did you mean 'checkpoint'?"
	run -2 --separate-stderr nedb xyzzy
	assert_equal "$stderr" "nedb: 'xyzzy' is not a nedb command. See 'nedb help'."
	run -2 --separate-stderr nedb ../bin/sh
	assert_equal "$stderr" "nedb: '../bin/sh' is not a nedb command. See 'nedb help'."
	run -2 --separate-stderr nedb --frobnicate
	assert_equal "$stderr" "nedb: unknown option '--frobnicate' (see 'nedb --help')"
	run -2 --separate-stderr nedb -d
	assert_equal "$stderr" "nedb: option '-d' needs an argument (see 'nedb --help')"
}

@test "nedb --version, --help and help list what there is" {
	run nedb --version
	assert_output "nedb (nedb) $(nedb-put --version | sed 's/.* //')"
	run nedb --help
	assert_success
	assert_line --index 0 "usage: nedb [-d DIR] [--tmk-file FILE]"
	run nedb help
	assert_success
	assert_line --regexp '^  put +insert or replace documents$'
	assert_line --regexp '^  shell +the interactive shell$'
	assert_line --regexp '^  help +list the commands, or show one'"'"'s manual$'
	# every nedb-* command installed is listed
	local cmd
	for cmd in "$BIN"/nedb-*; do
		assert_line --regexp "^  ${cmd##*/nedb-} "
	done
}

@test "nedb help COMMAND shows its manual page, from the pages installed beside nedb" {
	command -v man >/dev/null || skip "man is not installed"
	MANPAGER=cat PAGER=cat MANWIDTH=80 MANPATH=/nonexistent run nedb help put
	assert_success
	assert_output --partial "nedb-put"
	assert_output --partial "insert or replace documents"
	MANPAGER=cat PAGER=cat MANWIDTH=80 MANPATH=/nonexistent run nedb help shell
	assert_output --partial "the interactive shell of nedb"
	MANPAGER=cat PAGER=cat MANWIDTH=80 MANPATH=/nonexistent run nedb help
	assert_output --partial "Commands:"
	run -2 --separate-stderr nedb help pt
	assert_equal "$stderr" "nedb: 'pt' is not a nedb command. Did you mean 'put'?"
}

@test "nedb help without man installed says so in one line and exits 1" {
	run -1 --separate-stderr env PATH="$BIN" "$BIN/nedb" help get
	assert_output ""
	assert_equal "$stderr" "nedb: cannot show the manual of 'nedb-get': 'man' is not installed (try 'nedb get --help')"
}

# The shell as a script

@test "a script on stdin runs NQL and dot-commands, rows as JSON lines" {
	run --separate-stderr nedb <<-'EOF'
		FROM users WHERE age > 30
		-- a comment
		.colls
		FROM users ORDER BY age; FROM users WHERE name = "Bob"
		.indexes
	EOF
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"_id":"alice","name":"Alice","age":32}
{"coll":"users","count":2}
{"_id":"bob","name":"Bob","age":25}
{"_id":"alice","name":"Alice","age":32}
{"_id":"bob","name":"Bob","age":25}'
}

@test "an NQL statement spans lines until ';' or until it is complete" {
	run nedb shell <<-'EOF'
		FROM users WHERE
		  age > 30 AND
		  name IN ("Alice",
		               "Carol");
		FROM users WHERE (age < 30
		  OR name = "x")
		FROM users WHERE age =
		  25
		FROM users
		FROM users ORDER BY
		  age DESC LIMIT
		  1
	EOF
	assert_success
	assert_output '{"_id":"alice","name":"Alice","age":32}
{"_id":"bob","name":"Bob","age":25}
{"_id":"bob","name":"Bob","age":25}
{"_id":"alice","name":"Alice","age":32}
{"_id":"bob","name":"Bob","age":25}
{"_id":"alice","name":"Alice","age":32}'
}

@test "the first error stops a script with its status, naming the line of its statement" {
	run -2 --separate-stderr nedb <<-'EOF'
		FROM users WHERE age > 30
		FROM users WHERE
		  age >> 3
		FROM users
	EOF
	assert_output '{"_id":"alice","name":"Alice","age":32}'
	assert_equal "$stderr" "nedb-shell: line 3: syntax error at column 8: expected a value after '>'"
	run -2 --separate-stderr nedb <<<$'.colls\n.bogus\n.colls'
	assert_output '{"coll":"users","count":2}'
	assert_equal "$stderr" "nedb-shell: line 2: unknown command '.bogus': .help lists them"
	run -2 --separate-stderr nedb <<<'users WHERE a = 1'
	assert_equal "$stderr" "nedb-shell: line 1: unknown statement 'users': NQL starts with FROM, SQL with SELECT, INSERT, UPDATE, DELETE...; .help lists the dot-commands"
	run -2 --separate-stderr nedb <<<$'.mode bogus'
	assert_equal "$stderr" "nedb-shell: line 1: bad .mode 'bogus': want json, table, line or csv"
}

@test "a script on a database that cannot be opened exits 5 before running anything" {
	run -5 --separate-stderr nedb -d "$BATS_TEST_TMPDIR/none" <<<'.colls'
	assert_output ""
	assert_equal "$stderr" "nedb-shell: cannot open database '$BATS_TEST_TMPDIR/none': no such database"
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
}

@test ".open switches to another database, which must exist" {
	nedb-put -q -d other things t1 '{"x":1}'
	run --separate-stderr nedb <<-'EOF'
		.open other
		.colls
		FROM things
		.open missing
		.colls
	EOF
	assert_failure 5
	assert_output '{"coll":"things","count":1}
{"_id":"t1","x":1}'
	assert_equal "$stderr" "nedb-shell: line 4: cannot open database 'missing': no such database"
	[ ! -e missing ]
}

@test "--table starts a script in .mode table, --json a terminal in .mode json" {
	COLUMNS=80 run nedb shell --table <<<'FROM users WHERE age < 30'
	assert_output '┌─────┬──────┬─────┐
│ _id │ name │ age │
├─────┼──────┼─────┤
│ bob │ Bob  │  25 │
└─────┴──────┴─────┘'
	term_start nedb-shell --json
	type_text "FROM users WHERE age < 30"
	keys Enter
	wait_screen '^\{"_id":"bob","name":"Bob","age":25\}$'
}

@test ".mode table, line and csv draw the rows of a statement" {
	run nedb <<-'EOF'
		.mode table
		FROM users ORDER BY age
		.mode line
		FROM users ORDER BY age
		.mode csv
		FROM users ORDER BY age
	EOF
	assert_success
	assert_output $'┌───────┬───────┬─────┐
│  _id  │ name  │ age │
├───────┼───────┼─────┤
│ bob   │ Bob   │  25 │
│ alice │ Alice │  32 │
└───────┴───────┴─────┘
 _id = bob
name = Bob
 age = 25

 _id = alice
name = Alice
 age = 32
_id,name,age\r
bob,Bob,25\r
alice,Alice,32\r'
}

@test ".explain shows plans instead of rows, .timer the time of each statement on stderr" {
	run --separate-stderr nedb <<-'EOF'
		.explain on
		FROM users WHERE age > 30
		.explain off
		.timer on
		FROM users WHERE age > 30
	EOF
	assert_success
	assert_line --index 0 --regexp '^\{.*"coll":"users".*\}$'
	assert_line --index 1 '{"_id":"alice","name":"Alice","age":32}'
	[ "${#lines[@]}" -eq 2 ]
	[[ $stderr =~ ^time:\ [0-9]+\.[0-9]{3}\ ms,\ 1\ row$ ]] || fail "stderr: $stderr"
	run -2 --separate-stderr nedb <<<'.timer maybe'
	assert_equal "$stderr" "nedb-shell: line 1: usage: .timer on|off"
}

@test ".as-of SEQ and @TIME make every later query travel, until .as-of off" {
	local ts
	ts=$(nedb-log --since 2 --until 2 | jq .ts)
	run --separate-stderr nedb <<-EOF
		.as-of 1
		FROM users
		FROM users AS OF 2
		.as-of @$ts
		FROM users ORDER BY age
		.as-of off
		FROM users WHERE name = "Alice"
	EOF
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"_id":"alice","name":"Alice","age":31}
{"_id":"alice","name":"Alice","age":31}
{"_id":"bob","name":"Bob","age":25}
{"_id":"bob","name":"Bob","age":25}
{"_id":"alice","name":"Alice","age":31}
{"_id":"alice","name":"Alice","age":32}'
	# the time .history shows takes .as-of back to that version
	ts=$(nedb <<<'.history users alice' | head -n 1 | jq -r .time)
	run nedb <<<".as-of @$ts"$'\n'"FROM users"
	assert_output '{"_id":"alice","name":"Alice","age":31}'
	run -2 --separate-stderr nedb <<<'.as-of 99'
	assert_equal "$stderr" "nedb-shell: line 1: no op 99 yet: the head is seq 3"
	run -2 --separate-stderr nedb <<<'.as-of yesterday'
	assert_equal "$stderr" "nedb-shell: line 1: bad .as-of 'yesterday': want SEQ, @TIME or off"
}

@test ".history, .log, .schema and .verify show a document's versions, the log, the fields and the chain" {
	nedb-index -q users age ordered 2>/dev/null || nedb-index users age ordered >/dev/null
	run --separate-stderr nedb <<-'EOF'
		.mode json
		.history users alice
		.log 2
		.schema users
		.verify
	EOF
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 --regexp '^\{"seq":1,"op":"put","time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z","doc":\{"_id":"alice","name":"Alice","age":31\}\}$'
	assert_line --index 1 --regexp '^\{"seq":3,"op":"put","time":"[^"]+","doc":\{"_id":"alice","name":"Alice","age":32\}\}$'
	assert_line --index 2 --regexp '^\{"seq":3,"prev":"[0-9a-f]{64}","op":"put",'
	assert_line --index 3 --regexp '^\{"seq":4,"prev":"[0-9a-f]{64}","op":"index",'
	assert_line --index 4 '{"field":"_id","types":"string","in":"2/2"}'
	assert_line --index 5 '{"field":"name","types":"string","in":"2/2"}'
	assert_line --index 6 '{"field":"age","types":"number","in":"2/2"}'
	assert_line --index 7 --regexp '^\{"coll":"users","field":"age","kind":"ordered","entries":2\}$'
	assert_line --index 8 --regexp '^\{"ok":true,"seq":4,"head":"[0-9a-f]{64}"\}$'
}

@test ".verify on a broken chain prints the verdict and a script exits 1" {
	python3 - "$NEDB_DIR/log.aof" <<-'EOF'
		import sys
		p = sys.argv[1]
		b = bytearray(open(p, "rb").read())
		b[b.index(b'"age":25') + 6] ^= 0x01
		open(p, "wb").write(b)
	EOF
	run -1 nedb <<<'.verify'
	assert_output '{"ok":false,"seq":2,"error":"hash mismatch"}'
}

@test ".read FILE runs its statements, and an error in it names the file and line" {
	printf 'FROM users WHERE age < 30\n.colls\n' > ok.nql
	printf '.colls\nFROM users LIMIT x\n.colls\n' > bad.nql
	run --separate-stderr nedb <<<$'.read ok.nql\nFROM users WHERE age > 30'
	assert_success
	assert_output '{"_id":"bob","name":"Bob","age":25}
{"coll":"users","count":2}
{"_id":"alice","name":"Alice","age":32}'
	run -2 --separate-stderr nedb <<<$'.read bad.nql\n.colls'
	assert_output '{"coll":"users","count":2}'
	assert_equal "$stderr" "nedb-shell: bad.nql:2: syntax error at column 18: expected a non-negative integer after LIMIT"
	run -5 --separate-stderr nedb <<<'.read missing.nql'
	assert_equal "$stderr" "nedb-shell: line 1: cannot open 'missing.nql': No such file or directory"
}

@test "SQL runs in the shell through the library, its rows drawn in the shell's mode as nedb-sql prints them" {
	run --separate-stderr nedb <<-'EOF'
		CREATE TABLE t(n INTEGER PRIMARY KEY, s TEXT);
		INSERT INTO t VALUES (1, 'x'), (2, 'y');
		SELECT n, s FROM t
		  WHERE n > 0;
		.mode csv
		select * from t;
		SELECT _id, age FROM users WHERE age > 30;
	EOF
	assert_success
	assert_equal "$stderr" ""
	assert_output $'{"n":1,"s":"x"}\n{"n":2,"s":"y"}\nn,s\r\n1,x\r\n2,y\r\n_id,age\r\nalice,32\r'
	run nedb-sql "SELECT n, s FROM t WHERE n > 0"
	assert_output $'{"n":1,"s":"x"}\n{"n":2,"s":"y"}'
}

@test "a failing SQL statement stops a script with its status and message, and writes nothing" {
	nedb-sql "CREATE TABLE t(n INTEGER PRIMARY KEY, s TEXT); INSERT INTO t VALUES (1, 'x')"
	run -2 --separate-stderr nedb <<<$'SELECT * FRM t;\n.colls'
	assert_output ""
	assert_equal "$stderr" "nedb-shell: line 1: syntax error: unexpected 'FRM' after the statement"
	run -3 --separate-stderr nedb <<<$'INSERT INTO t VALUES (2, \'y\'), (2, \'dup\');\n.colls'
	assert_output ""
	assert_equal "$stderr" "nedb-shell: line 1: UNIQUE constraint failed: t.n"
	run nedb-sql "SELECT count(*) FROM t"
	assert_output '{"count(*)":1}'
}

# The shell on a terminal

@test "on a terminal: a banner, Tab completes a collection after FROM and a field, rows as a table" {
	term_start nedb
	screen | grep -q "database $NEDB_DIR"
	type_text "FROM us"
	keys Tab
	wait_screen '^nedb> FROM users $'
	type_text "WHERE na"
	keys Tab
	wait_screen '^nedb> FROM users WHERE name $'
	type_text '= "Bob"'
	keys Enter
	wait_screen '^│ bob │ Bob  │  25 │$'
	run screen
	assert_line '┌─────┬──────┬─────┐'
	assert_line '│ _id │ name │ age │'
	wait_count '^nedb> $' 1
	# dot-commands complete too
	type_text ".sch"
	keys Tab
	wait_screen '^nedb> \.schema $'
	type_text "u"
	keys Tab
	wait_screen '^nedb> \.schema users $'
}

@test "on a terminal: a multi-line statement, an error, then a working statement" {
	term_start nedb
	type_text "FROM users WHERE"
	keys Enter
	wait_screen '^ \.\.\.> $'
	type_text "age > 30"
	keys Enter
	wait_screen '^│ alice │ Alice │  32 │$'
	run screen
	refute_output --partial "│ bob"
	type_text "FROM users WHERE age >> 3"
	keys Enter
	wait_screen "^error: syntax error at column 23: expected a value after '>'$"
	type_text ".mode json"
	keys Enter
	type_text "FROM users ORDER BY age DESC LIMIT 1"
	keys Enter
	wait_screen '^\{"_id":"alice","name":"Alice","age":32\}$'
}

@test "on a terminal: .as-of shows in the prompt and makes queries read the past" {
	term_start nedb
	type_text ".as-of 1"
	keys Enter
	wait_screen '^as of seq 1: every query reads the past until \.as-of off$'
	wait_screen '^nedb \(as of seq 1\)> $'
	type_text "FROM users"
	keys Enter
	wait_screen '^│ alice │ Alice │  31 │$'
	type_text ".as-of off"
	keys Enter
	type_text "FROM users"
	keys Enter
	wait_screen '^│ alice │ Alice │  32 │$'
}

@test "on a terminal: Ctrl-C drops the statement being typed, Ctrl-D leaves" {
	term_start nedb
	type_text "FROM users WHERE"
	keys Enter
	wait_screen '^ \.\.\.> $'
	type_text "age >"
	keys C-c
	wait_count '^nedb> $' 1
	# the dropped lines are gone: this is a statement of its own
	type_text "FROM users WHERE age < 30"
	keys Enter
	wait_screen '^│ bob │ Bob  │  25 │$'
	keys C-d
	wait_screen '^\[exited 0\]$'
}

@test "on a terminal: Ctrl-C stops a running NQL query, and the next one runs" {
	hooks_init
	export NEDB_TEST_PAUSE=query NEDB_TEST_DIR="$HOOKS"
	term_start nedb
	type_text "FROM users"
	keys Enter
	wait_reached query
	# the terminal echoes ^C once the signal is the shell's: only then
	# may the query go on, to find it
	keys C-c
	wait_screen '\^C'
	touch "$HOOKS/query.go"
	wait_screen '^error: interrupted$'
	run screen
	refute_output --partial "│ alice"
	type_text "FROM users WHERE age < 30"
	keys Enter
	wait_screen '^│ bob │ Bob  │  25 │$'
}

@test "on a terminal: Ctrl-C stops a running SQL statement and the shell goes on" {
	hooks_init
	export NEDB_TEST_PAUSE=query NEDB_TEST_DIR="$HOOKS"
	term_start nedb
	type_text "SELECT * FROM users;"
	keys Enter
	wait_reached query
	keys C-c
	wait_screen '\^C'
	touch "$HOOKS/query.go"
	wait_screen '^error: interrupted$'
	run screen
	refute_output --partial "│ alice"
	type_text ".colls"
	keys Enter
	wait_screen '^│ users │     2 │$'
}

@test "on a terminal: history is written to NEDB_HISTORY and recalled after a restart" {
	term_start nedb
	type_text "FROM users WHERE age > 31"
	keys Enter
	wait_screen '^│ alice │ Alice │  32 │$'
	keys C-d
	wait_screen '^\[exited 0\]$'
	run cat "$NEDB_HISTORY"
	assert_output --partial "FROM users WHERE age > 31"
	t kill-server
	TERM_N=2 term_start nedb
	keys Up
	wait_screen '^nedb> FROM users WHERE age > 31$'
	keys Enter
	wait_count '^│ alice │ Alice │  32 │$' 1
}
