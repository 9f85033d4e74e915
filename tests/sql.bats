#!/usr/bin/env bats
# nedb-sql: its answers against sqlite3's on the same statements (the
# sqllogictest sample and a seeded differential test), its output modes
# against the sqlite3 command's, writes, time travel, and every error.

load helper

setup_more() {
	ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BIN="$(dirname "$(command -v nedb-sql)")"
}

# The same script through sqlite3 and nedb-sql (a mode given as $1).
same_as_sqlite() {	# mode script
	local mode=$1 script=$2
	run --separate-stderr sqlite3 "-$mode" "$BATS_TEST_TMPDIR/ref.sqlite" \
		<<<"$script"
	assert_success
	local want=$output
	run --separate-stderr nedb-sql --mode "$mode" <<<"$script"
	assert_success
	assert_output "$want"
}

table_t() {
	cat <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b REAL, c TEXT, d);
INSERT INTO t VALUES (1, 3, 3, 'x,y', 3), (2, NULL, 2.5, '', '3'),
  (3, -7, NULL, 'Abc', 3.0), (4, 10, 1e20, 'a"b', NULL),
  (5, 2, 0.1, 'line
two', 'abc');
EOF
}

@test "the sqllogictest sample answers every record as its file expects" {
	run "$ROOT/tests/slt/run" --bin "$BIN" "$ROOT"/tests/slt/data/*.test
	assert_success
	assert_output --partial "3812 passed (100.00%), 0 failed"
}

@test "every shipped sqllogictest file passes in full (NEDB_CHECK_FULL)" {
	local data="$ROOT/../shared/data/sqllogictest/index"
	[ -d "$data" ] || skip "no ../shared/data/sqllogictest in this clone"
	[ -n "${NEDB_CHECK_FULL:-}" ] || skip "make check-full runs the full files"
	run "$ROOT/tests/slt/run" --bin "$BIN" "$data"/*.test
	assert_success
	assert_output --partial " 0 failed"
}

@test "the runner fails a record whose answer differs" {
	head -c 40000 "$ROOT/tests/slt/data/random-10-slt_good_0.test" |
		python3 -c 'import sys
s = sys.stdin.read()
k = s.rindex("\r\n\r\n")
s = s[:k]
i = s.index("----\r\n") + 6
j = s.index("\r\n", i)
print(s[:i] + "999999" + s[j:])' > bad.test
	run "$ROOT/tests/slt/run" --bin "$BIN" bad.test
	assert_failure
	assert_output --partial "1 failed"
}

@test "random queries on NULL-heavy mixed data answer as sqlite3 (seed 1)" {
	run python3 "$ROOT/tests/lib-sql/diff.py" --seed 1 --dir . --queries 250
	assert_success
	assert_output --partial " 0 mismatches"
}

@test "random queries on NULL-heavy mixed data answer as sqlite3 (seed 2)" {
	run python3 "$ROOT/tests/lib-sql/diff.py" --seed 2 --dir . --queries 250
	assert_success
	assert_output --partial " 0 mismatches"
}

@test "AS OF each statement equals sqlite3 replaying the statements up to it" {
	run python3 "$ROOT/tests/lib-sql/diff.py" --asof --seed 1 --dir . \
		--steps 15
	assert_success
	assert_output --partial " 0 mismatches"
}

@test "list mode prints as sqlite3 prints by default" {
	same_as_sqlite list "$(table_t)
SELECT * FROM t;
SELECT a / 2, a * 1.5, b, c || d, -a, a % 4, 7 / 2.0, 1/3.0 FROM t;
SELECT count(*), sum(a), avg(b), total(d), min(c), max(c) FROM t;"
}

@test "csv and table modes print as sqlite3 prints them" {
	same_as_sqlite csv "$(table_t)
SELECT * FROM t;"
	rm -rf "$NEDB_DIR" "$BATS_TEST_TMPDIR/ref.sqlite"
	same_as_sqlite table "$(table_t)
SELECT id, a, c, b * 2 AS twice FROM t ORDER BY b;
SELECT 'héllo' AS x, NULL AS n;"
}

@test "rows print as NDJSON keyed by column name, in column order" {
	nedb-sql "$(table_t)"
	run nedb-sql "SELECT c, a, b AS bee, a + 1 FROM t WHERE id <= 2"
	assert_success
	assert_output '{"c":"x,y","a":3,"bee":3.0,"a + 1":4}
{"c":"","a":null,"bee":2.5,"a + 1":null}'
	run nedb-sql --header -m list "SELECT id, d FROM t WHERE d IS NOT NULL ORDER BY id DESC LIMIT 2 OFFSET 1"
	assert_output 'id|d
3|3.0
2|3'
}

@test "a script on stdin runs statement by statement in one process" {
	run nedb-sql -m list <<'EOF'
CREATE TABLE s(x INTEGER);  -- a comment
INSERT INTO s VALUES (1), (2);
/* more */ SELECT sum(x) FROM s;;
SELECT 'a;b';
EOF
	assert_success
	assert_output '3
a;b'
}

@test "the id column is the document id; other commands read the rows" {
	nedb-sql "CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT, age INT)"
	nedb-sql "INSERT INTO users VALUES ('alice', 'Alice', '31')"
	run nedb-get users alice
	assert_output '{"_id":"alice","id":"alice","name":"Alice","age":31}'
	nedb-put -q users bob '{"name":"Bob","age":40,"tags":["x"]}'
	run nedb-sql -m list "SELECT id, name, age FROM users ORDER BY age"
	assert_output 'alice|Alice|31
|Bob|40'
	nedb-sql "CREATE TABLE n(v)"
	nedb-sql "INSERT INTO n VALUES ('a'), ('b')"
	run nedb-sql -m list "SELECT v FROM n"
	assert_output 'a
b'
}

@test "a collection never declared is a table of its documents' members" {
	nedb-put -q pets rex '{"kind":"dog","age":3,"owner":{"name":"ann"}}'
	nedb-put -q pets tom '{"kind":"cat","age":5,"ok":true}'
	run nedb-sql "SELECT _id, owner.name, ok FROM pets ORDER BY age"
	assert_output '{"_id":"rex","owner.name":"ann","ok":null}
{"_id":"tom","owner.name":null,"ok":true}'
	run nedb-sql "SELECT * FROM pets WHERE kind = 'cat'"
	assert_output '{"_id":"tom","kind":"cat","age":5,"ok":true}'
	nedb-sql "INSERT INTO pets(_id, kind) VALUES ('kit', 'cat')"
	run nedb-sql -m list "SELECT count(*) FROM pets WHERE kind LIKE 'CAT'"
	assert_output 2
}

@test "UPDATE and DELETE with any WHERE; each statement is one batch of ops" {
	nedb-sql "$(table_t)"
	seq0=$(nedb-log -n 1 | jq .seq)
	# rows 1, 2 and 4 match; row 2 is left as it was (NULL * 10, '')
	nedb-sql "UPDATE t SET a = a * 10, c = upper(c) WHERE b > 1 OR d IS NULL"
	run nedb-log --since $((seq0 + 1))
	assert_equal "$(echo "$output" | wc -l)" 2
	run nedb-sql -m list "SELECT id, a, c FROM t WHERE id IN (1, 2, 4)"
	assert_output '1|30|X,Y
2||
4|100|A"B'
	nedb-sql "DELETE FROM t WHERE a < 0 OR c = ''"
	run nedb-sql -m list "SELECT id FROM t"
	assert_output '1
4
5'
	assert_determinism
}

@test "a failed statement writes nothing" {
	nedb-sql "CREATE TABLE u(id INTEGER PRIMARY KEY, e TEXT UNIQUE, n INT NOT NULL)"
	nedb-sql "INSERT INTO u VALUES (1, 'a', 1)"
	seq0=$(nedb-log -n 1 | jq .seq)
	run nedb-sql "INSERT INTO u VALUES (2, 'b', 1), (1, 'c', 1)"
	assert_failure 3
	assert_output "nedb-sql: UNIQUE constraint failed: u.id"
	run nedb-sql "INSERT INTO u VALUES (3, 'x', 1), (4, 'a', 1)"
	assert_failure 3
	assert_output "nedb-sql: UNIQUE constraint failed: u.e"
	run nedb-sql "INSERT INTO u VALUES (5, 'y', NULL)"
	assert_failure 3
	assert_output "nedb-sql: NOT NULL constraint failed: u.n"
	run nedb-sql "UPDATE u SET n = NULL"
	assert_failure 3
	run nedb-sql "INSERT INTO u VALUES ('x', 'z', 1)"
	assert_failure 4
	assert_output --partial "datatype mismatch"
	assert_equal "$(nedb-log -n 1 | jq .seq)" "$seq0"
	run nedb-sql -m list "SELECT count(*) FROM u"
	assert_output 1
	nedb-sql "INSERT OR IGNORE INTO u VALUES (1, 'q', 1), (6, 'r', 2)"
	nedb-sql "INSERT OR REPLACE INTO u VALUES (1, 'a2', 7)"
	run nedb-sql -m list "SELECT * FROM u"
	assert_output '1|a2|7
6|r|2'
}

@test "BEGIN ... COMMIT is one batch; ROLLBACK and an unfinished one write nothing" {
	nedb-sql "CREATE TABLE k(x INTEGER)"
	seq0=$(nedb-log -n 1 | jq .seq)
	nedb-sql "BEGIN; INSERT INTO k VALUES (1); INSERT INTO k VALUES (2); ROLLBACK"
	nedb-sql "BEGIN; INSERT INTO k VALUES (3)"
	assert_equal "$(nedb-log -n 1 | jq .seq)" "$seq0"
	run nedb-sql -m list "BEGIN; INSERT INTO k VALUES (4); SELECT count(*) FROM k; COMMIT"
	assert_output 1
	run nedb-sql "COMMIT"
	assert_failure 2
	assert_output "nedb-sql: cannot commit - no transaction is active"
}

@test "AS OF, AS OF TIMESTAMP and FOR SYSTEM_TIME AS OF read the past" {
	nedb-sql "CREATE TABLE p(id INTEGER PRIMARY KEY, v TEXT)"
	nedb-sql "INSERT INTO p VALUES (1, 'old')"
	seq=$(nedb-log -n 1 | jq .seq)
	sleep 0.01
	t=$(date -u +%FT%T.%3NZ)
	sleep 0.01
	nedb-sql "UPDATE p SET v = 'new'"
	nedb-sql "DROP TABLE p"
	run nedb-sql -m list "SELECT v FROM p AS OF $seq"
	assert_output old
	run nedb-sql -m list "SELECT v FROM p FOR SYSTEM_TIME AS OF $seq x WHERE x.id = 1"
	assert_output old
	run nedb-sql -m list "SELECT v FROM p AS OF TIMESTAMP '$t'"
	assert_output old
	run nedb-sql -m list "SELECT v FROM p FOR SYSTEM_TIME AS OF '$t'"
	assert_output old
	run nedb-sql -m list "SELECT v FROM p AS OF $((seq + 1))"
	assert_output new
	run nedb-sql "SELECT v FROM p"
	assert_failure 2
	assert_output "nedb-sql: no such table: p"
	run nedb-sql "SELECT v FROM p AS OF 999"
	assert_failure 2
	assert_output --partial "no op 999 yet"
}

@test "EXPLAIN shows the plan: the id, an index, or a scan" {
	nedb-sql "$(table_t)"
	nedb-sql "CREATE INDEX ta ON t(a)"
	run nedb-sql "EXPLAIN SELECT * FROM t WHERE id = 3"
	assert_output --partial '"plan":"id"'
	run nedb-sql "EXPLAIN SELECT * FROM t WHERE a = 3 AND c > 'a'"
	assert_output --partial '"index":{"field":"a","kind":"ordered"}'
	assert_output --partial '"scanned":1'
	run nedb-sql "EXPLAIN SELECT * FROM t WHERE c = 'x'"
	assert_output --partial '"estimated":5'
	run nedb-sql -m list "SELECT id FROM t WHERE a > 2"
	assert_output '1
4'
}

@test "a syntax error names the column, exits 2, and shows a caret on a terminal" {
	run nedb-sql "SELECT a FROM t WHERE"
	assert_failure 2
	assert_output "nedb-sql: syntax error at column 22: the statement ended where an expression was expected"
	run script -qec "nedb-sql 'SELECT a +* 2 FROM t'" /dev/null
	assert_output --partial "SELECT a +* 2 FROM t"
	assert_output --partial "            ^"
	run nedb-sql <<'EOF'
SELECT 1;
SELECT 2 2;
SELECT 3;
EOF
	assert_failure 2
	assert_line '{"1":1}'
	assert_line '{"3":3}'
	assert_line "nedb-sql: syntax error at line 2, column 10: unexpected '2' after the statement"
	run nedb-sql --bail <<'EOF'
SELECT 2 2;
SELECT 3;
EOF
	refute_line '{"3":3}'
}

@test "an unknown table or column, and SQL nedb does not support, are refused" {
	nedb-sql "$(table_t)"
	run nedb-sql "SELECT * FROM nope"
	assert_failure 2
	assert_output "nedb-sql: no such table: nope"
	run nedb-sql "SELECT zz FROM t"
	assert_failure 2
	assert_output "nedb-sql: no such column: zz"
	run nedb-sql "SELECT * FROM t JOIN t AS u"
	assert_failure 2
	assert_output "nedb-sql: joins are not supported: nedb-sql reads one table"
	run nedb-sql "SELECT a FROM t UNION SELECT a FROM t"
	assert_output "nedb-sql: compound SELECTs (UNION) are not supported"
	run nedb-sql "SELECT a, count(*) FROM t"
	assert_failure 2
	assert_output --partial "column a must appear in GROUP BY"
	run nedb-sql "SELECT x'00'"
	assert_output "nedb-sql: BLOB literals are not supported"
	run nedb-sql "SELECT * FROM t WHERE a IN (SELECT a FROM t AS u WHERE u.a = t.a)"
	assert_failure 2
	assert_output --partial "correlated subqueries are not supported"
	run nedb-sql "SELECT round(1.5)"
	assert_output "nedb-sql: function round() is not supported"
	run nedb-sql "CREATE TABLE nedb_x(a)"
	assert_failure 2
	run nedb-sql "SELECT abs(-9223372036854775808)"
	assert_failure 4
	assert_output "nedb-sql: integer overflow"
}

@test "usage errors exit 2; --help prints the usage" {
	run nedb-sql --mode nope "SELECT 1"
	assert_failure 2
	assert_output --partial "bad mode 'nope'"
	run nedb-sql "SELECT 1" extra
	assert_failure 2
	run nedb-sql --help
	assert_success
	assert_output --partial "usage: nedb-sql [options] [SQL]"
	run nedb-sql -e "SELECT 1 WHERE 0"
	assert_failure 1
}
