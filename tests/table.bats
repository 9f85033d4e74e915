#!/usr/bin/env bats
# --table: rows for people, drawn as sqlite3 -box draws them (cli/table.c),
# the same code for every command; exact layouts at fixed COLUMNS.

load helper

setup_more() {
	nedb-put -q t a '{"name":"Ann","tags":["x","y"],"n":1}'
	nedb-put -q t b '{"name":"Bob","n":-2.5,"addr":{"city":"Paris"}}'
	nedb-put -q t c '{"name":"日本","ok":true,"z":null,"s":"tab\there"}'
	export COLUMNS=80
}

@test "columns are the union of the rows' members in first-seen order, nested values as compact JSON" {
	run nedb-query --table 'FROM t'
	assert_success
	assert_output '┌─────┬──────┬───────────┬──────┬──────────────────┬──────┬──────┬───────────┐
│ _id │ name │   tags    │  n   │       addr       │  ok  │  z   │     s     │
├─────┼──────┼───────────┼──────┼──────────────────┼──────┼──────┼───────────┤
│ a   │ Ann  │ ["x","y"] │    1 │                  │      │      │           │
│ b   │ Bob  │           │ -2.5 │ {"city":"Paris"} │      │      │           │
│ c   │ 日本 │           │      │                  │ true │ null │ tab\there │
└─────┴──────┴───────────┴──────┴──────────────────┴──────┴──────┴───────────┘'
}

@test "widths count terminal columns: CJK and emoji take two, a combining accent none" {
	nedb-put -q u e '{"s":"e\u0301te\u0301","c":"中文字","e":"👍🏽ok"}'
	nedb-put -q u f '{"s":"abcdefghijklmnopq","c":"中文字中文字中文字","e":"x"}'
	local ete=$'e\xcc\x81te\xcc\x81'	# e and a combining acute, twice
	COLUMNS=60 run nedb-query --table 'FROM u'
	assert_output "┌─────┬───────────────────┬────────────────────┬──────┐
│ _id │         s         │         c          │  e   │
├─────┼───────────────────┼────────────────────┼──────┤
│ e   │ $ete               │ 中文字             │ 👍🏽ok │
│ f   │ abcdefghijklmnopq │ 中文字中文字中文字 │ x    │
└─────┴───────────────────┴────────────────────┴──────┘"
	# cut to fit: the widest first, a wide character never halved
	COLUMNS=40 run nedb-query --table 'FROM u'
	assert_output "┌─────┬────────────┬────────────┬──────┐
│ _id │     s      │     c      │  e   │
├─────┼────────────┼────────────┼──────┤
│ e   │ $ete        │ 中文字     │ 👍🏽ok │
│ f   │ abcdefghi… │ 中文字中…  │ x    │
└─────┴────────────┴────────────┴──────┘"
}

@test "with COLUMNS=40 a long cell is cut with '…' and the table fits" {
	nedb-put -q w x '{"text":"a long text that goes on and on well past forty columns","k":1}'
	nedb-put -q w y '{"text":"short","k":22}'
	COLUMNS=40 run nedb-query --table 'FROM w'
	assert_output '┌─────┬───────────────────────────┬────┐
│ _id │           text            │ k  │
├─────┼───────────────────────────┼────┤
│ x   │ a long text that goes on… │  1 │
│ y   │ short                     │ 22 │
└─────┴───────────────────────────┴────┘'
	local line
	while IFS= read -r line; do
		[ "$(printf %s "$line" | wc -m)" -eq 40 ] || fail "not 40 wide: $line"
	done <<<"$output"
}

@test "rows too wide for the terminal are expanded, one member per line" {
	COLUMNS=40 run nedb-query --table 'FROM t'
	assert_output '┌──────┬──────────────────┐
│ _id  │ a                │
│ name │ Ann              │
│ tags │ ["x","y"]        │
│ n    │ 1                │
├──────┼──────────────────┤
│ _id  │ b                │
│ name │ Bob              │
│ n    │ -2.5             │
│ addr │ {"city":"Paris"} │
├──────┼──────────────────┤
│ _id  │ c                │
│ name │ 日本             │
│ ok   │ true             │
│ z    │ null             │
│ s    │ tab\there        │
└──────┴──────────────────┘'
	# a single wide object too: nedb-stats
	run nedb-stats --table
	assert_success
	assert_line --index 0 --regexp '^┌─+┬─+┐$'
	assert_line --regexp '^│ head +│ [0-9a-f]+… │$'
	assert_line --regexp '^│ seq +│ 3 +│$'
	assert_line --regexp '^│ collections +│ \[\{"coll":"t","count":3\}\] +│$'
}

@test "the width is the terminal's without COLUMNS, 80 for a pipe or a file" {
	unset COLUMNS
	nedb-put -q w x '{"text":"'"$(printf 'y%.0s' {1..100})"'"}'
	nedb-put -q w y '{"text":"y"}'
	run nedb-query --table 'FROM w'
	assert_line --index 2 --regexp '^├─+┼─+┤$'
	[ "$(printf %s "${lines[2]}" | wc -m)" -eq 80 ]
}

@test "rows that are not objects are one column, value" {
	nedb-link -q t:a knows t:b 2>/dev/null || nedb-link t:a knows t:b >/dev/null
	nedb-link t:a knows t:c >/dev/null
	run nedb-link --table --out t:a
	assert_output '┌───────┐
│ value │
├───────┤
│ t:b   │
│ t:c   │
└───────┘'
	run nedb-query --table --jq '.n' 'FROM t WHERE n EXISTS'
	assert_output '┌───────┐
│ value │
├───────┤
│     1 │
│  -2.5 │
└───────┘'
}

@test "no rows print nothing and the exit status stays the command's" {
	run nedb-query --table 'FROM t WHERE name = "nobody"'
	assert_success
	assert_output ""
	run -1 --separate-stderr nedb-get --table t a nobody c
	assert_equal "$stderr" "nedb-get: no document 't/nobody'"
	assert_output '┌─────┬──────┬───────────┬───┬──────┬──────┬───────────┐
│ _id │ name │   tags    │ n │  ok  │  z   │     s     │
├─────┼──────┼───────────┼───┼──────┼──────┼───────────┤
│ a   │ Ann  │ ["x","y"] │ 1 │      │      │           │
│ c   │ 日本 │           │   │ true │ null │ tab\there │
└─────┴──────┴───────────┴───┴──────┴──────┴───────────┘'
}

@test "--table draws the rows of the log, the collections, the indexes, a diff and a verdict" {
	run nedb-coll --table
	assert_output '┌──────┬───────┐
│ coll │ count │
├──────┼───────┤
│ t    │     3 │
└──────┴───────┘'
	nedb-index t n ordered >/dev/null
	run nedb-index --table --list
	assert_output '┌──────┬───────┬─────────┬─────────┐
│ coll │ field │  kind   │ entries │
├──────┼───────┼─────────┼─────────┤
│ t    │ n     │ ordered │       3 │
└──────┴───────┴─────────┴─────────┘'
	COLUMNS=200 run nedb-diff --table 1 2
	assert_line --index 1 --regexp '^│ coll │ id │ change │ before │ +after +│$'
	assert_line --index 3 '│ t    │ b  │ added  │ null   │ {"_id":"b","name":"Bob","n":-2.5,"addr":{"city":"Paris"}} │'
	# too wide for 80 columns: expanded
	run nedb-diff --table 1 2
	assert_line --index 1 --regexp '^│ coll +│ t +│$'
	COLUMNS=250 run nedb-log --table -n 1
	assert_line --index 1 --regexp '^│ seq │ +prev +│ +op +│ +ts +│ client │ nonce │ coll │ +field +│ +kind +│ +hash +│$'
	COLUMNS=100 run nedb-verify --table
	assert_success
	assert_line --index 1 --regexp '^│  ok  │ seq │ +head +│$'
	assert_line --index 3 --regexp '^│ true │   4 │ [0-9a-f]{64} │$'
}

@test "--table does not go with --follow, and every command that prints rows takes it" {
	run -2 --separate-stderr nedb-log --table --follow
	assert_equal "$stderr" "nedb-log: --follow cannot be combined with --table: a table is drawn once every row is known (see 'nedb-log --help')"
	local cmd
	for cmd in get query log coll stats index diff link verify delete update put; do
		run nedb-$cmd --help
		assert_line --regexp '^      --table +print the rows as a table for people$'
	done
	run -2 --separate-stderr nedb-sweep --table
	assert_equal "$stderr" "nedb-sweep: unknown option '--table' (see 'nedb-sweep --help')"
}

@test "write receipts can be drawn too" {
	COLUMNS=200 run nedb-put --table t d '{"x":1}'
	assert_success
	assert_line --index 1 --regexp '^│ seq │ +hash +│ op  │ coll │ id │$'
	assert_line --index 3 --regexp '^│   4 │ [0-9a-f]+ │ put │ t    │ d  │$'
}
