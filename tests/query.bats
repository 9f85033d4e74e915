#!/usr/bin/env bats
# nedb-query: every NQL clause and the comparison semantics of SPEC §6
# (table-driven), EXPLAIN, syntax errors, --filter with every operator,
# --jq, --exit-status, --array/--pretty and the failure paths.

load helper

# A collection t with one document per kind of value in v and s: numbers
# written as 3, 3.0 and beyond double precision, "3", null, absent, an
# array, booleans, an object, non-ASCII and escaped strings.
seed_mixed() {
	nedb-put -q t <<'EOF'
{"_id":"a","v":3,"s":"apple","o":{"k":1,"l":[1,2]},"tags":["red","big"]}
{"_id":"b","v":3.0,"s":"Banana","o":{"k":2}}
{"_id":"c","v":"3","s":"cherry","tags":["red"]}
{"_id":"d","v":null,"s":"","o":{"k":null}}
{"_id":"e","s":"apple pie"}
{"_id":"f","v":[3],"s":"\u00e9clair","tags":[]}
{"_id":"g","v":true,"s":"zebra","tags":["small",3]}
{"_id":"h","v":-1.5,"s":"Äpfel"}
{"_id":"i","v":12345678901234567890,"s":"東京"}
{"_id":"j","v":false}
{"_id":"k","v":{"x":1},"p":{"q":{"r":"deep"}}}
{"_id":"l","v":"abc","s":"Z"}
EOF
}

# ids QUERY...: the _id of every row, space-separated, in $got.
ids() {
	run --separate-stderr nedb-query --jq ._id "$@"
	assert_success
	got="${lines[*]}"
	got="${got//\"/}"
}

# where EXPR IDS: "FROM t WHERE EXPR" returns exactly the documents IDS
# (space-separated, in _id order).  The expression is part of both sides
# so that a failure names it.
where() {
	ids "FROM t WHERE $1"
	assert_equal "WHERE $1 -> $got" "WHERE $1 -> $2"
}

# order CLAUSES IDS: "FROM t CLAUSES" returns the rows IDS in that order.
order() {
	ids "FROM t $1"
	assert_equal "$1 -> $got" "$1 -> $2"
}

# find FILTER IDS [OPTION...]: --filter FILTER on collection $coll (t
# unless set) returns IDS.
find() {
	local f=$1 want=$2
	shift 2
	run --separate-stderr nedb-query --jq ._id --filter "$f" "$@" "${coll:-t}"
	assert_success
	got="${lines[*]}"
	got="${got//\"/}"
	assert_equal "$f $* -> $got" "$f $* -> $want"
}

# assert_syntax_error QUERY COLUMN: exit 2, nothing on stdout, and on
# stderr (not a terminal) the one-line message naming COLUMN.
assert_syntax_error() {
	local q=$1 col=$2
	run --separate-stderr nedb-query "$q"
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "${stderr_lines[0]}" "^nedb-query: syntax error at column $col: [^ ]"
}

# ---- FROM, rows ------------------------------------------------------

@test "FROM prints every document of the collection as NDJSON in _id order" {
	nedb-put -q t <<'EOF'
{"_id":"b","x":2}
{"_id":"a","x":1}
{"_id":"c","x":{"y":[1,2.50]}}
EOF
	nedb-put -q other <<< '{"_id":"z"}'
	run --separate-stderr nedb-query 'FROM t'
	assert_success
	assert_output '{"_id":"a","x":1}
{"_id":"b","x":2}
{"_id":"c","x":{"y":[1,2.50]}}'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "rows keep numbers exactly as they were written" {
	nedb-put t a '{"big":12345678901234567890,"f":1.50,"e":1E+3,"neg":-0.0}'
	run nedb-query 'FROM t WHERE big = 12345678901234567890'
	assert_output '{"_id":"a","big":12345678901234567890,"f":1.50,"e":1E+3,"neg":-0.0}'
	assert_determinism
}

@test "a collection with no documents gives no rows and exit 0" {
	nedb-put t a '{}'
	run --separate-stderr nedb-query 'FROM nothing'
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	assert_determinism
}

@test "the query may come on stdin" {
	seed_users 3
	run nedb-query <<< 'FROM users WHERE n = 2'
	assert_success
	assert_output '{"_id":"u2","n":2}'
	assert_determinism
}

@test "keywords and true, false, null are case-insensitive" {
	seed_mixed
	ids 'from t where v = 3 and s exists order by s desc limit 1'
	assert_equal "$got" "a"
	where 'v = TRUE' "g"
	where 'v = False' "j"
	where 'v = NULL' "d"
	ids 'FrOm t WhErE v In (3) OrDeR bY _id DeSc LiMiT 5 oFfSeT 0'
	assert_equal "$got" "b a"
	assert_determinism
}

@test "a trailing semicolon ends a query" {
	seed_users 2
	ids 'FROM users WHERE n = 2;'
	assert_equal "$got" "u2"
	assert_determinism
}

# ---- comparison semantics (SPEC §6) ---------------------------------

@test "= compares numbers numerically: 3 equals 3.0 and 30e-1" {
	seed_mixed
	where 'v = 3' "a b"
	where 'v = 3.0' "a b"
	where 'v = 30e-1' "a b"
	where 'v = -1.50' "h"
	where 'v = 12345678901234567890' "i"
	where 'v = 12345678901234567890.0' "i"
	assert_determinism
}

@test "= tells apart numbers that share a double" {
	seed_mixed
	where 'v = 12345678901234567891' ""
	where 'v > 12345678901234567889' "i"
	where 'v < 12345678901234567891' "a b h i"
	assert_determinism
}

@test "= never coerces: \"3\" is not 3, true is not 1" {
	seed_mixed
	where 'v = "3"' "c"
	where 'v = true' "g"
	where 'v = 1' ""
	where 'v = false' "j"
	where 'v = 0' ""
	assert_determinism
}

@test "= null matches only a present null" {
	seed_mixed
	where 'v = null' "d"
	where 'o.k = null' "d"
	assert_determinism
}

@test "!= is NOT = and so is true where the path is absent" {
	seed_mixed
	where 'v != 3' "c d e f g h i j k l"
	where 'NOT v = 3' "c d e f g h i j k l"
	where 'v != null' "a b c e f g h i j k l"
	where 's != "apple"' "b c d e f g h i j k l"
	where 'nothing != 1' "a b c d e f g h i j k l"
	assert_determinism
}

@test "< <= > >= hold only between two numbers" {
	seed_mixed
	where 'v < 4' "a b h"
	where 'v <= 3' "a b h"
	where 'v < 3' "h"
	where 'v > 3' "i"
	where 'v >= 3' "a b i"
	where 'v > -2' "a b h i"
	assert_determinism
}

@test "< <= > >= hold only between two strings, never across types" {
	seed_mixed
	where 'v < "b"' "c l"
	where 'v > "3"' "l"
	where 'v >= "3"' "c l"
	where 'v < true' ""
	where 'v > false' ""
	where 'v >= null' ""
	where 'v <= null' ""
	where 'nothing < 1' ""
	where 'nothing >= ""' ""
	assert_determinism
}

@test "strings compare by their UTF-8 bytes" {
	seed_mixed
	where 's < "a"' "b d l"
	where 's > "z"' "f g h i"
	where 's >= "é"' "f i"
	where 's < "Ä"' "a b c d e g l"
	where 's > "apple"' "c e f g h i"
	where 's <= "apple"' "a b d l"
	assert_determinism
}

@test "escaped and raw strings are the same string" {
	seed_mixed
	where 's = "éclair"' "f"
	where 's = "\u00e9clair"' "f"
	where 's = "\u6771\u4eac"' "i"
	where 's = "東京"' "i"
	assert_determinism
}

@test "EXISTS is true for a present path, even when it is null" {
	seed_mixed
	where 'v EXISTS' "a b c d f g h i j k l"
	where 'NOT v EXISTS' "e"
	where 'o.k EXISTS' "a b d"
	where 's EXISTS' "a b c d e f g h i l"
	where 'nothing EXISTS' ""
	assert_determinism
}

@test "CONTAINS is true when an array has an element = the value" {
	seed_mixed
	where 'tags CONTAINS "red"' "a c"
	where 'tags CONTAINS 3' "g"
	where 'tags CONTAINS 3.0' "g"
	where 'tags CONTAINS "3"' ""
	where 'v CONTAINS 3' "f"
	where 'o.l CONTAINS 2' "a"
	where 'tags CONTAINS "re"' ""
	assert_determinism
}

@test "CONTAINS is false on strings and other non-arrays" {
	seed_mixed
	where 's CONTAINS "apple"' ""
	where 'v CONTAINS "abc"' ""
	where 'o CONTAINS 1' ""
	assert_determinism
}

@test "IN is = against any listed value" {
	seed_mixed
	where 'v IN (3, "abc", null)' "a b d l"
	where 'v IN ("3")' "c"
	where 'v IN (3.0)' "a b"
	where 's IN ("apple", "Z", "nothing")' "a l"
	where 'v IN (4, 5)' ""
	where 'NOT v IN (3)' "c d e f g h i j k l"
	assert_determinism
}

@test "AND binds tighter than OR, NOT tighter than AND" {
	seed_mixed
	where 'v = 3 OR s = "cherry" AND v = 3' "a b"
	where 'v = 3 AND s = "apple" OR v = true' "a g"
	where 'NOT v = 3 AND s EXISTS' "c d e f g h i l"
	where 'NOT NOT v = 3' "a b"
	assert_determinism
}

@test "parentheses group conditions" {
	seed_mixed
	where '(v = 3 OR s = "cherry") AND tags EXISTS' "a c"
	where 'NOT (v = 3 OR v = null OR NOT v EXISTS)' "c f g h i j k l"
	where '((v = 3))' "a b"
	where '(v = 3 OR (s = "Z" AND v = "abc")) AND NOT s = "Banana"' "a l"
	assert_determinism
}

@test "dotted paths reach into nested objects" {
	seed_mixed
	where 'o.k = 1' "a"
	where 'o.k > 0' "a b"
	where 'p.q.r = "deep"' "k"
	where 'p.q EXISTS' "k"
	where 'p.q.r.s EXISTS' ""
	where 'v.x = 1' "k"
	where 'v.x.y EXISTS' ""
	assert_determinism
}

@test "WHERE can test _id" {
	seed_mixed
	where '_id = "c"' "c"
	where '_id > "j"' "k l"
	where '_id IN ("a", "z")' "a"
	assert_determinism
}

@test "arrays and objects compare structurally, object member order aside" {
	nedb-put -q t <<'EOF'
{"_id":"a","arr":[1,2,{"x":"y"}],"obj":{"k":1,"l":[1,2]}}
{"_id":"b","arr":[1.0,2,{"x":"y"}],"obj":{"l":[1,2.0],"k":1}}
{"_id":"c","arr":[2,1,{"x":"y"}],"obj":{"k":1}}
{"_id":"d","arr":[1,2],"obj":{"k":1,"l":[1,2],"m":null}}
EOF
	find '{"arr":[1,2,{"x":"y"}]}' "a b"
	find '{"arr":[1,2]}' "d"
	find '{"obj":{"l":[1,2],"k":1}}' "a b"
	find '{"obj":{"k":1}}' "c"
	find '{"obj":{"$eq":{"k":1,"l":[1,2]}}}' "a b"
	find '{"arr":{"$in":[[2,1,{"x":"y"}],[1,2]]}}' "c d"
	assert_determinism
}

# ---- SEARCH ---------------------------------------------------------

@test "SEARCH finds documents that have every word, case-insensitively" {
	nedb-put -q users <<'EOF'
{"_id":"alice","bio":"Systems engineer"}
{"_id":"bob","bio":"database architect"}
{"_id":"carol","bio":"systems-database ENGINEER"}
EOF
	ids 'FROM users SEARCH "systems"'
	assert_equal "$got" "alice carol"
	ids 'FROM users SEARCH "ENGINEER systems"'
	assert_equal "$got" "alice carol"
	ids 'FROM users SEARCH "systems database"'
	assert_equal "$got" "carol"
	ids 'FROM users SEARCH "system"'
	assert_equal "$got" ""
	assert_determinism
}

@test "SEARCH splits the query on everything but letters and digits" {
	nedb-put -q users <<'EOF'
{"_id":"a","bio":"rust, c99 & go"}
{"_id":"b","bio":"rust"}
EOF
	ids 'FROM users SEARCH "Rust/C99!"'
	assert_equal "$got" "a"
	assert_determinism
}

@test "SEARCH combines with WHERE and ORDER BY" {
	nedb-put -q users <<'EOF'
{"_id":"a","bio":"systems engineer","age":40}
{"_id":"b","bio":"systems person","age":20}
{"_id":"c","bio":"systems engineer","age":30}
EOF
	ids 'FROM users WHERE age > 25 SEARCH "systems" ORDER BY age'
	assert_equal "$got" "c a"
	assert_determinism
}

@test "SEARCH gives the same rows with a search index as without one" {
	nedb-put -q users <<'EOF'
{"_id":"a","bio":"Systems engineer"}
{"_id":"b","bio":"database architect"}
{"_id":"c","bio":"Systems architect"}
EOF
	ids 'FROM users SEARCH "systems architect"'
	assert_equal "$got" "c"
	nedb-index users bio search
	ids 'FROM users SEARCH "systems architect"'
	assert_equal "$got" "c"
	run nedb-query --explain 'FROM users SEARCH "systems architect"'
	assert_output --partial '"plan":"index","index":{"field":"bio","kind":"search"}'
	assert_determinism
}

# ---- GROUP BY -------------------------------------------------------

seed_orders() {
	nedb-put -q orders <<'EOF'
{"_id":"o1","status":"paid","total":10,"region":"EU"}
{"_id":"o2","status":"paid","total":2.5,"region":"US"}
{"_id":"o3","status":"pending","total":7,"region":"EU"}
{"_id":"o4","status":"paid","total":"12","region":"EU"}
{"_id":"o5","status":"cancelled","total":null,"region":"US"}
{"_id":"o6","status":"pending","total":-3,"region":"EU"}
EOF
}

@test "GROUP BY COUNT gives one {field, count} row per group" {
	seed_orders
	run --separate-stderr nedb-query 'FROM orders GROUP BY status COUNT'
	assert_success
	assert_output '{"status":"cancelled","count":1}
{"status":"paid","count":3}
{"status":"pending","count":2}'
	assert_determinism
}

@test "GROUP BY SUM, AVG, MIN and MAX name their fields and skip non-numbers" {
	seed_orders
	run nedb-query 'FROM orders GROUP BY status SUM total'
	assert_output '{"status":"cancelled","count":1,"sum_total":0}
{"status":"paid","count":3,"sum_total":12.5}
{"status":"pending","count":2,"sum_total":4}'
	run nedb-query 'FROM orders WHERE status = "paid" GROUP BY status AVG total'
	assert_output '{"status":"paid","count":3,"avg_total":6.25}'
	run nedb-query 'FROM orders WHERE status != "cancelled" GROUP BY status MIN total MAX total'
	assert_output '{"status":"paid","count":3,"min_total":2.5,"max_total":10}
{"status":"pending","count":2,"min_total":-3,"max_total":7}'
	assert_determinism
}

@test "GROUP BY takes several aggregates in one query" {
	seed_orders
	run nedb-query 'FROM orders WHERE status = "pending" GROUP BY status COUNT SUM total AVG total MIN total MAX total'
	assert_output '{"status":"pending","count":2,"sum_total":4,"avg_total":2,"min_total":-3,"max_total":7}'
	assert_determinism
}

@test "GROUP BY after WHERE groups only the matching rows" {
	seed_orders
	run nedb-query 'FROM orders WHERE region = "EU" GROUP BY status COUNT'
	assert_output '{"status":"paid","count":2}
{"status":"pending","count":2}'
	assert_determinism
}

@test "GROUP BY puts 3 and 3.0 in one group" {
	nedb-put -q t <<'EOF'
{"_id":"a","k":3,"x":1}
{"_id":"b","k":3.0,"x":2}
{"_id":"c","k":"3","x":4}
EOF
	run nedb-query 'FROM t GROUP BY k COUNT SUM x'
	assert_output '{"k":3,"count":2,"sum_x":3}
{"k":"3","count":1,"sum_x":4}'
	assert_determinism
}

@test "GROUP BY prints valid JSON when a sum overflows a double or a value is beyond one" {
	nedb-put -q t a '{"g":1,"x":1e308}'
	nedb-put -q t b '{"g":1,"x":1e308}'
	nedb-put -q t c '{"g":2,"x":1e400}'
	nedb-put -q t d '{"g":2,"x":-1e400}'
	nedb-put -q t e '{"g":3,"x":12345678901234567891}'
	nedb-put -q t f '{"g":3,"x":0.1}'
	run --separate-stderr nedb-query 'FROM t GROUP BY g SUM x AVG x MIN x MAX x'
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"g":1,"count":2,"sum_x":null,"avg_x":null,"min_x":1e+308,"max_x":1e+308}
{"g":2,"count":2,"sum_x":null,"avg_x":null,"min_x":-1e400,"max_x":1e400}
{"g":3,"count":2,"sum_x":1.2345678901234567e+19,"avg_x":6.172839450617284e+18,"min_x":0.1,"max_x":1.2345678901234567e+19}'
	nedb-query 'FROM t GROUP BY g SUM x AVG x MIN x MAX x' > rows
	run jq -c '[.sum_x, .max_x | type]' rows
	assert_output '["null","number"]
["null","number"]
["number","number"]'
}

@test "GROUP BY MIN and MAX beyond a double print the number as stored, compared exactly" {
	nedb-put -q t <<'EOF'
{"_id":"a","x":1.50}
{"_id":"b","x":1E+3}
{"_id":"c","x":-0.25}
{"_id":"d","x":"9999"}
{"_id":"e","x":0.1}
EOF
	run nedb-query 'FROM t GROUP BY k MIN x MAX x SUM x AVG x'
	assert_output '{"k":null,"count":5,"min_x":-0.25,"max_x":1000,"sum_x":1001.35,"avg_x":250.3375}'
	nedb-put -q t f '{"x":1e400}'
	nedb-put -q t g '{"x":2e400}'
	nedb-put -q t h '{"x":-3e400}'
	run nedb-query 'FROM t GROUP BY k MIN x MAX x SUM x'
	assert_output '{"k":null,"count":8,"min_x":-3e400,"max_x":2e400,"sum_x":null}'
}

@test "GROUP BY a dotted path names the group by the path" {
	nedb-put -q t <<'EOF'
{"_id":"a","o":{"c":"x"},"n":1}
{"_id":"b","o":{"c":"x"},"n":2}
{"_id":"c","o":{"c":"y"},"n":5}
EOF
	run nedb-query 'FROM t GROUP BY o.c SUM n'
	assert_output '{"o.c":"x","count":2,"sum_n":3}
{"o.c":"y","count":1,"sum_n":5}'
	assert_determinism
}

@test "GROUP BY rows can be ordered and limited" {
	seed_orders
	run nedb-query 'FROM orders GROUP BY status COUNT ORDER BY count DESC LIMIT 2'
	assert_output '{"status":"paid","count":3}
{"status":"pending","count":2}'
	run nedb-query 'FROM orders GROUP BY region COUNT ORDER BY region DESC'
	assert_output '{"region":"US","count":2}
{"region":"EU","count":4}'
	assert_determinism
}

# ---- ORDER BY -------------------------------------------------------

@test "ORDER BY sorts mixed types: absent < null < false < true < numbers < strings < arrays < objects" {
	seed_mixed
	order 'ORDER BY v' "e d j g h a b i c l f k"
	order 'ORDER BY v ASC' "e d j g h a b i c l f k"
	assert_determinism
}

@test "ORDER BY DESC reverses the total order and keeps ties in _id order" {
	seed_mixed
	order 'ORDER BY v DESC' "k f l c i a b h g j d e"
	assert_determinism
}

@test "ORDER BY sorts strings by UTF-8 bytes, absent first" {
	seed_mixed
	order 'ORDER BY s' "j k d b l a e c g h f i"
	assert_determinism
}

@test "ORDER BY orders numbers exactly, beyond double precision" {
	nedb-put -q t <<'EOF'
{"_id":"a","n":12345678901234567891}
{"_id":"b","n":12345678901234567890}
{"_id":"c","n":1e19}
{"_id":"d","n":-12345678901234567891}
{"_id":"e","n":-12345678901234567890}
EOF
	order 'ORDER BY n' "d e c b a"
	order 'ORDER BY n DESC' "a b c e d"
	assert_determinism
}

@test "ORDER BY compares arrays element by element, shorter first" {
	nedb-put -q t <<'EOF'
{"_id":"a","v":[2]}
{"_id":"b","v":[1,2]}
{"_id":"c","v":[1]}
{"_id":"d","v":[]}
{"_id":"e","v":[1,"x"]}
EOF
	order 'ORDER BY v' "d c b e a"
	assert_determinism
}

@test "ORDER BY several keys, each ASC or DESC" {
	nedb-put -q t <<'EOF'
{"_id":"a","g":"x","n":1}
{"_id":"b","g":"y","n":2}
{"_id":"c","g":"x","n":3}
{"_id":"d","g":"y","n":2}
{"_id":"e","g":"x","n":"7"}
{"_id":"f","n":null}
EOF
	order 'ORDER BY g DESC, n ASC' "b d a c e f"
	order 'ORDER BY g, n DESC' "f e c a b d"
	order 'ORDER BY n DESC, g DESC' "e c b d a f"
	order 'ORDER BY g ASC, n DESC LIMIT 2 OFFSET 1' "e c"
	assert_determinism
}

@test "ORDER BY a dotted path" {
	nedb-put -q t <<'EOF'
{"_id":"a","o":{"n":2}}
{"_id":"b","o":{"n":1}}
{"_id":"c","o":{}}
EOF
	order 'ORDER BY o.n' "c b a"
	order 'ORDER BY o.n DESC' "a b c"
	assert_determinism
}

@test "ORDER BY an indexed field answers as a sort does, LIMIT or not" {
	seed_mixed
	nedb-index t v ordered
	order 'ORDER BY v' "e d j g h a b i c l f k"
	order 'ORDER BY v DESC' "k f l c i a b h g j d e"
	order 'ORDER BY v LIMIT 20' "e d j g h a b i c l f k"
	order 'ORDER BY v DESC LIMIT 20' "k f l c i a b h g j d e"
	order 'ORDER BY v LIMIT 3 OFFSET 4' "h a b"
	order 'ORDER BY v DESC LIMIT 3 OFFSET 4' "i a b"
	assert_determinism
}

@test "ORDER BY DESC LIMIT on an ordered index keeps every tie of the top value" {
	nedb-put -q t <<'EOF'
{"_id":"a","n":5}
{"_id":"b","n":5}
{"_id":"c","n":1}
{"_id":"d","n":3}
EOF
	nedb-index t n ordered
	order 'ORDER BY n DESC LIMIT 10' "a b d c"
	order 'ORDER BY n DESC LIMIT 2' "a b"
	order 'ORDER BY n DESC LIMIT 2 OFFSET 1' "b d"
	assert_determinism
}

@test "ORDER BY LIMIT on an ordered index orders numbers that share a double exactly" {
	nedb-put -q t <<'EOF'
{"_id":"a","n":12345678901234567891}
{"_id":"b","n":12345678901234567890}
{"_id":"c","n":1}
EOF
	nedb-index t n ordered
	order 'ORDER BY n LIMIT 3' "c b a"
	order 'ORDER BY n DESC LIMIT 3' "a b c"
	assert_determinism
}

# ---- LIMIT and OFFSET -----------------------------------------------

@test "LIMIT keeps the first n rows and OFFSET skips m before them" {
	seed_users 5
	ids 'FROM users LIMIT 2'
	assert_equal "$got" "u1 u2"
	ids 'FROM users LIMIT 2 OFFSET 1'
	assert_equal "$got" "u2 u3"
	ids 'FROM users ORDER BY n DESC LIMIT 2 OFFSET 2'
	assert_equal "$got" "u3 u2"
	ids 'FROM users LIMIT 10 OFFSET 3'
	assert_equal "$got" "u4 u5"
	assert_determinism
}

@test "LIMIT 0 and an OFFSET past the end give no rows" {
	seed_users 3
	run --separate-stderr nedb-query 'FROM users LIMIT 0'
	assert_success
	assert_output ""
	run --separate-stderr nedb-query 'FROM users LIMIT 5 OFFSET 3'
	assert_success
	assert_output ""
	assert_determinism
}

@test "LIMIT applies after WHERE and ORDER BY" {
	seed_users 6
	ids 'FROM users WHERE n > 2 ORDER BY n DESC LIMIT 2'
	assert_equal "$got" "u6 u5"
	assert_determinism
}

# ---- TRAVERSE -------------------------------------------------------

seed_graph() {
	nedb-put -q users <<'EOF'
{"_id":"alice","name":"Alice","age":31}
{"_id":"bob","name":"Bob","age":40}
{"_id":"carol","name":"Carol","age":25}
{"_id":"dave","name":"Dave","age":50}
EOF
	nedb-link users:alice follows users:bob
	nedb-link users:alice follows users:carol
	nedb-link users:bob follows users:carol
	nedb-link users:dave likes users:alice
}

@test "TRAVERSE returns the documents the matching rows link to" {
	seed_graph
	run --separate-stderr nedb-query 'FROM users WHERE _id = "alice" TRAVERSE follows'
	assert_success
	assert_output '{"_id":"bob","name":"Bob","age":40}
{"_id":"carol","name":"Carol","age":25}'
	assert_determinism
}

@test "TRAVERSE gives each target once and follows only the named relation" {
	seed_graph
	ids 'FROM users TRAVERSE follows'
	assert_equal "$got" "bob carol"
	ids 'FROM users TRAVERSE likes'
	assert_equal "$got" "alice"
	ids 'FROM users TRAVERSE nothing'
	assert_equal "$got" ""
	assert_determinism
}

@test "TRAVERSE IN follows edges backwards" {
	seed_graph
	ids 'FROM users WHERE _id = "carol" TRAVERSE follows IN'
	assert_equal "$got" "alice bob"
	ids 'FROM users WHERE _id = "alice" TRAVERSE likes IN'
	assert_equal "$got" "dave"
	ids 'FROM users WHERE _id = "alice" TRAVERSE follows IN'
	assert_equal "$got" ""
	assert_determinism
}

@test "TRAVERSE reaches documents of another collection" {
	nedb-put -q projects <<'EOF'
{"_id":"p1","status":"active"}
{"_id":"p2","status":"done"}
EOF
	nedb-put -q tasks <<'EOF'
{"_id":"t1","title":"design"}
{"_id":"t2","title":"build"}
{"_id":"t3","title":"ship"}
EOF
	nedb-link projects:p1 contains tasks:t1
	nedb-link projects:p1 contains tasks:t2
	nedb-link projects:p2 contains tasks:t3
	run nedb-query 'FROM projects WHERE status = "active" TRAVERSE contains'
	assert_output '{"_id":"t1","title":"design"}
{"_id":"t2","title":"build"}'
	assert_determinism
}

@test "TRAVERSE skips targets that do not exist and unlinked edges" {
	seed_graph
	nedb-link users:alice follows users:ghost
	nedb-delete users carol
	nedb-link --unlink users:alice follows users:bob
	ids 'FROM users WHERE _id = "alice" TRAVERSE follows'
	assert_equal "$got" ""
	assert_determinism
}

@test "TRAVERSE follows the rows in ORDER BY order and LIMIT applies last" {
	seed_graph
	nedb-link users:carol follows users:dave
	ids 'FROM users WHERE age < 45 ORDER BY age TRAVERSE follows'
	assert_equal "$got" "dave bob carol"
	ids 'FROM users WHERE age < 45 ORDER BY age TRAVERSE follows LIMIT 1'
	assert_equal "$got" "dave"
	assert_determinism
}

# ---- TRACE caused_by ------------------------------------------------

@test "TRACE caused_by returns the chain of causing ops" {
	nedb-put ev a '{"k":"a"}'
	nedb-put --caused-by 1 ev b '{"k":"b"}'
	nedb-put --caused-by 2 --evidence inference --confidence 0.97 ev c '{"k":"c"}'
	run --separate-stderr nedb-query --jq '[.seq, .op, .id]' 'FROM ev WHERE _id = "c" TRACE caused_by'
	assert_success
	assert_output '[2,"put","b"]
[1,"put","a"]'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "TRACE caused_by rows are the causing log ops, hash and all" {
	nedb-put ev a '{"k":"a"}'
	nedb-put --caused-by 1 ev b '{"k":"b"}'
	run nedb-query 'FROM ev WHERE _id = "b" TRACE caused_by'
	assert_success
	assert_equal "${#lines[@]}" 1
	run nedb-log --since 1 --until 1
	assert_equal "$output" "$(nedb-query 'FROM ev WHERE _id = "b" TRACE caused_by')"
	assert_determinism
}

@test "TRACE caused_by follows several causes, each op once" {
	nedb-put ev a '{}'
	nedb-put ev b '{}'
	nedb-put --caused-by 1,2 ev c '{}'
	nedb-put --caused-by 3,1 ev d '{}'
	run nedb-query --jq .seq 'FROM ev WHERE _id = "d" TRACE caused_by'
	assert_output '3
1
2'
	assert_determinism
}

@test "TRACE caused_by of an op with no cause gives no rows" {
	nedb-put ev a '{}'
	run --separate-stderr nedb-query 'FROM ev WHERE _id = "a" TRACE caused_by'
	assert_success
	assert_output ""
	assert_determinism
}

@test "a --caused-by seq that does not exist yet is bad input" {
	nedb-put ev a '{}'
	run --separate-stderr nedb-put --caused-by 9 ev b '{}'
	assert_failure 4
	run nedb-get ev b
	assert_failure 1
	assert_determinism
}

# ---- AS OF ----------------------------------------------------------

seed_history() {
	nedb-put users alice '{"age":31,"status":"active"}'	# 1
	nedb-put users bob '{"age":40,"status":"active"}'	# 2
	nedb-put users carol '{"age":25,"status":"inactive"}'	# 3
	nedb-link users:alice follows users:bob		# 4
	nedb-put users alice '{"age":32,"status":"retired"}'	# 5
	nedb-delete users bob					# 6
	nedb-link --unlink users:alice follows users:bob	# 7
}

@test "AS OF answers WHERE as the database stood then" {
	seed_history
	ids 'FROM users AS OF 3 WHERE status = "active"'
	assert_equal "$got" "alice bob"
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" ""
	run nedb-query 'FROM users AS OF 4 WHERE _id = "alice"'
	assert_output '{"_id":"alice","age":31,"status":"active"}'
	run nedb-query 'FROM users AS OF 5 WHERE _id = "alice"'
	assert_output '{"_id":"alice","age":32,"status":"retired"}'
	assert_determinism
}

@test "AS OF 0 sees an empty database" {
	seed_history
	run --separate-stderr nedb-query 'FROM users AS OF 0'
	assert_success
	assert_output ""
	assert_determinism
}

@test "AS OF combines with ORDER BY, LIMIT and GROUP BY" {
	seed_history
	ids 'FROM users AS OF 5 ORDER BY age DESC'
	assert_equal "$got" "bob alice carol"
	ids 'FROM users AS OF 5 ORDER BY age DESC LIMIT 1 OFFSET 1'
	assert_equal "$got" "alice"
	run nedb-query 'FROM users AS OF 3 GROUP BY status COUNT SUM age'
	assert_output '{"status":"active","count":2,"sum_age":71}
{"status":"inactive","count":1,"sum_age":25}'
	assert_determinism
}

@test "AS OF combines with TRAVERSE over the edges and documents of then" {
	seed_history
	ids 'FROM users AS OF 4 WHERE _id = "alice" TRAVERSE follows'
	assert_equal "$got" "bob"
	run nedb-query 'FROM users AS OF 5 WHERE _id = "bob" TRAVERSE follows IN'
	assert_output '{"_id":"alice","age":32,"status":"retired"}'
	ids 'FROM users AS OF 3 WHERE _id = "alice" TRAVERSE follows'
	assert_equal "$got" ""
	ids 'FROM users AS OF 6 WHERE _id = "alice" TRAVERSE follows'
	assert_equal "$got" ""
	ids 'FROM users WHERE _id = "alice" TRAVERSE follows'
	assert_equal "$got" ""
	assert_determinism
}

@test "AS OF sees deleted documents and documents of a dropped collection" {
	seed_history
	nedb-coll --drop users					# 8
	run nedb-query 'FROM users'
	assert_output ""
	ids 'FROM users AS OF 5'
	assert_equal "$got" "alice bob carol"
	ids 'FROM users AS OF 7'
	assert_equal "$got" "alice carol"
	run nedb-query 'FROM users AS OF 8'
	assert_output ""
	assert_determinism
}

@test "AS OF ignores indexes, which describe HEAD only" {
	seed_history
	nedb-index users status eq
	nedb-index users age ordered
	ids 'FROM users AS OF 3 WHERE status = "active"'
	assert_equal "$got" "alice bob"
	ids 'FROM users AS OF 3 WHERE age > 30 ORDER BY age DESC LIMIT 5'
	assert_equal "$got" "bob alice"
	ids 'FROM users AS OF 5 ORDER BY age LIMIT 1'
	assert_equal "$got" "carol"
	run nedb-query --explain 'FROM users AS OF 3 WHERE status = "active"'
	assert_output --regexp '"plan":"as-of-scan".*"as_of":3'
	assert_determinism
}

@test "AS OF beyond the head exits 2" {
	seed_history
	run --separate-stderr nedb-query 'FROM users AS OF 8'
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^nedb-query: .*8'
	run nedb-query 'FROM users AS OF 7'
	assert_success
	assert_determinism
}

# ---- EXPLAIN --------------------------------------------------------

@test "--explain without an index prints a scan plan with its counts" {
	seed_users 5
	run --separate-stderr nedb-query --explain 'FROM users WHERE n > 3'
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^\{"coll":"users","plan":"scan","index":null,.*"estimated":5,"scanned":5,"rows":2'
	assert_determinism
}

@test "EXPLAIN at the start of a query is --explain" {
	seed_users 5
	run nedb-query 'EXPLAIN FROM users WHERE n > 3'
	assert_success
	assert_equal "$output" "$(nedb-query --explain 'FROM users WHERE n > 3')"
	assert_determinism
}

@test "--explain names the eq index used for = and IN" {
	seed_users 50
	nedb-index users n eq
	run nedb-query --explain 'FROM users WHERE n = 7'
	assert_output --regexp '"plan":"index","index":\{"field":"n","kind":"eq"\}.*"scanned":1,"rows":1'
	run nedb-query --explain 'FROM users WHERE n IN (7, 9, 100)'
	assert_output --regexp '"plan":"index","index":\{"field":"n","kind":"eq"\}.*"scanned":2,"rows":2'
	run nedb-query 'FROM users WHERE n IN (7, 9, 100)'
	assert_output '{"_id":"u7","n":7}
{"_id":"u9","n":9}'
	assert_determinism
}

@test "--explain names the ordered index used for a range" {
	seed_users 50
	nedb-index users n ordered
	run nedb-query --explain 'FROM users WHERE n >= 48'
	assert_output --regexp '"plan":"index","index":\{"field":"n","kind":"ordered"\}.*"scanned":3,"rows":3'
	assert_determinism
}

@test "--explain shows ORDER BY LIMIT walking an ordered index, scanning few rows" {
	seed_users 100
	nedb-index users n ordered
	run nedb-query --explain 'FROM users ORDER BY n DESC LIMIT 3'
	assert_output --regexp '"plan":"index-order","index":\{"field":"n","kind":"ordered"\}'
	[[ $output =~ \"scanned\":([0-9]+), ]]
	(( BASH_REMATCH[1] <= 10 ))
	ids 'FROM users ORDER BY n DESC LIMIT 3'
	assert_equal "$got" "u100 u99 u98"
	assert_determinism
}

@test "--explain shows a scan for a condition no index can answer" {
	seed_users 10
	nedb-index users n eq
	run nedb-query --explain 'FROM users WHERE n != 3'
	assert_output --partial '"plan":"scan"'
	run nedb-query --explain 'FROM users WHERE n > 3'
	assert_output --partial '"plan":"scan"'
	run nedb-query --explain 'FROM users WHERE n = 3 OR n = 4'
	assert_output --partial '"plan":"scan"'
	run nedb-query --explain 'FROM users ORDER BY n LIMIT 2'
	assert_output --partial '"plan":"scan"'
	assert_determinism
}

@test "--explain shows an as-of-scan for AS OF even when indexes exist" {
	seed_users 10
	nedb-index users n eq
	run nedb-query --explain 'FROM users AS OF 5 WHERE n = 3'
	assert_output --regexp '"plan":"as-of-scan","index":null.*"rows":1.*"as_of":5'
	assert_determinism
}

@test "--explain prints the plan instead of the rows, under --jq too" {
	seed_users 3
	run nedb-query --explain --jq ._id 'FROM users'
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --partial '"plan":"scan"'
	assert_determinism
}

@test "an index never changes the answer of the query it serves" {
	local want=() at q
	seed_mixed
	for q in 'v = 3' 'v IN (3, "3", true)' 'tags CONTAINS "red"' 'tags CONTAINS 3' 's > "b"' 'v >= 3' 'v < "b"' 'v = 12345678901234567891' 'v > 12345678901234567889'; do
		ids "FROM t WHERE $q"
		want+=("$q -> $got")
	done
	nedb-index t v eq
	nedb-index t tags eq
	nedb-index t s ordered
	at=0
	for q in 'v = 3' 'v IN (3, "3", true)' 'tags CONTAINS "red"' 'tags CONTAINS 3' 's > "b"'; do
		ids "FROM t WHERE $q"
		assert_equal "$q -> $got" "${want[$at]}"
		at=$((at + 1))
	done
	nedb-index --drop t v
	nedb-index t v ordered
	for q in 'v >= 3' 'v < "b"' 'v = 12345678901234567891' 'v > 12345678901234567889'; do
		ids "FROM t WHERE $q"
		assert_equal "$q -> $got" "${want[$at]}"
		at=$((at + 1))
	done
	assert_determinism
}

# ---- syntax errors --------------------------------------------------

@test "a syntax error exits 2 with one line, naming the column" {
	nedb-put t a '{}'
	run --separate-stderr nedb-query 'FROM users WHERE age >'
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-query: syntax error at column 23: expected a value after '>'"
	assert_determinism
}

@test "on a terminal a syntax error also shows the query and a caret" {
	nedb-put t a '{}'
	# script(1) gives the command a terminal; its output is the screen
	run script -qec "nedb-query 'FROM users WHERE age >'" /dev/null
	assert_equal "$(printf '%s' "$output" | tr -d '\r')" "nedb-query: syntax error at column 23: expected a value after '>'
  FROM users WHERE age >
                        ^"
	# the query travels in the environment: script(1) runs its command
	# with $SHELL, which may be sh, where $'..' means nothing
	Q=$'FROM users\tWHERE age >' run script -qec 'nedb-query "$Q"' /dev/null
	assert_equal "$(printf '%s' "$output" | tr -d '\r' | sed -n 2p)" "  FROM users WHERE age >"
}

@test "every kind of syntax error points at the bad token" {
	nedb-put t a '{}'
	assert_syntax_error 'FROM' 5
	assert_syntax_error 'SELECT * FROM t' 1
	assert_syntax_error 'FROM t WHERE' 13
	assert_syntax_error 'FROM t WHERE a = foo' 18
	assert_syntax_error 'FROM t WHERE a == 1' 17
	assert_syntax_error 'FROM t WHERE (a = 1' 20
	assert_syntax_error 'FROM t WHERE a = "x' 18
	assert_syntax_error 'FROM t WHERE a = 01' 18
	assert_syntax_error 'FROM t WHERE a IN ()' 20
	assert_syntax_error 'FROM t WHERE a IN (1, 2' 24
	assert_syntax_error 'FROM t WHERE a CONTAINS' 24
	assert_syntax_error 'FROM t WHERE a = 1 AND' 23
	assert_syntax_error 'FROM t LIMIT x' 14
	assert_syntax_error 'FROM t LIMIT -1' 14
	assert_syntax_error 'FROM t ORDER BY' 16
	assert_syntax_error 'FROM t ORDER age' 14
	assert_syntax_error 'FROM t LIMIT 1 WHERE a = 1' 16
	assert_syntax_error 'FROM t GROUP BY a' 18
	assert_syntax_error 'FROM t GROUP BY a SUM' 22
	assert_syntax_error 'FROM t TRACE foo' 14
	assert_syntax_error 'FROM t TRAVERSE' 16
	assert_syntax_error 'FROM t AS OF -1' 14
	assert_syntax_error 'FROM 1t' 6
	assert_syntax_error 'FROM t extra' 8
	assert_syntax_error 'FROM t SEARCH foo' 15
	assert_syntax_error 'FROM t WHERE a. = 1' 16
	assert_determinism
}

@test "a syntax error in a query on stdin is reported the same way" {
	nedb-put t a '{}'
	run --separate-stderr nedb-query <<< 'FROM t WHERE a = foo'
	assert_failure 2
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "${stderr_lines[0]}" '^nedb-query: syntax error at column 18: '
	assert_determinism
}

# ---- --filter -------------------------------------------------------

@test "--filter with plain members is = on each, ANDed" {
	seed_mixed
	find '{}' "a b c d e f g h i j k l"
	find '{"v":3}' "a b"
	find '{"v":3.0}' "a b"
	find '{"v":"3"}' "c"
	find '{"v":null}' "d"
	find '{"v":3,"s":"apple"}' "a"
	find '{"tags":"red"}' ""
	find '{"tags":["red"]}' "c"
	find '{"v":12345678901234567891}' ""
	assert_determinism
}

@test "--filter \$eq \$ne \$gt \$gte \$lt \$lte follow NQL's comparison" {
	seed_mixed
	find '{"v":{"$eq":3}}' "a b"
	find '{"v":{"$ne":3}}' "c d e f g h i j k l"
	find '{"v":{"$gt":3}}' "i"
	find '{"v":{"$gte":3}}' "a b i"
	find '{"v":{"$lt":3}}' "h"
	find '{"v":{"$lte":3}}' "a b h"
	find '{"v":{"$lt":"b"}}' "c l"
	find '{"s":{"$gt":"z"}}' "f g h i"
	find '{"v":{"$gt":-2,"$lt":4}}' "a b h"
	find '{"v":{"$gte":null}}' ""
	assert_determinism
}

@test "--filter \$in and \$nin" {
	seed_mixed
	find '{"v":{"$in":[3,"abc",null]}}' "a b d l"
	find '{"v":{"$in":[]}}' ""
	find '{"v":{"$nin":[3,"abc",null]}}' "c e f g h i j k"
	find '{"v":{"$in":[[3]]}}' "f"
	assert_determinism
}

@test "--filter \$exists true and false" {
	seed_mixed
	find '{"v":{"$exists":true}}' "a b c d f g h i j k l"
	find '{"v":{"$exists":false}}' "e"
	find '{"o.k":{"$exists":true}}' "a b d"
	assert_determinism
}

@test "--filter \$and \$or \$nor and \$not" {
	seed_mixed
	find '{"$and":[{"v":{"$gte":3}},{"s":{"$exists":true}}]}' "a b i"
	find '{"$or":[{"v":3},{"s":"Z"}]}' "a b l"
	find '{"$nor":[{"v":3},{"s":{"$exists":true}}]}' "j k"
	find '{"v":{"$not":{"$gt":3}}}' "a b c d e f g h j k l"
	find '{"$or":[{"$and":[{"v":3},{"s":"apple"}]},{"v":true}]}' "a g"
	assert_determinism
}

@test "--filter dotted paths reach into nested objects" {
	seed_mixed
	find '{"o.k":1}' "a"
	find '{"o.k":{"$gt":0}}' "a b"
	find '{"p.q.r":"deep"}' "k"
	find '{"o":{"k":2}}' "b"
	assert_determinism
}

@test "--filter --sort orders by one or more keys" {
	seed_mixed
	find '{}' "k f l c i a b h g j d e" --sort '{"v":-1}'
	find '{"v":{"$exists":true}}' "d j g h a b i c l f k" --sort '{"v":1}'
	nedb-put -q g <<'EOF'
{"_id":"a","g":1,"n":1}
{"_id":"b","g":2,"n":1}
{"_id":"c","g":1,"n":2}
EOF
	run nedb-query --jq ._id --filter '{}' --sort '{"g":1,"n":-1}' g
	assert_output '"c"
"a"
"b"'
	assert_determinism
}

@test "--filter --skip and --limit page through the rows" {
	seed_users 5
	run nedb-query --jq ._id --filter '{}' --skip 1 --limit 2 users
	assert_output '"u2"
"u3"'
	run nedb-query --jq ._id --filter '{}' --sort '{"n":-1}' --limit 1 users
	assert_output '"u5"'
	run nedb-query --filter '{}' --skip 9 users
	assert_success
	assert_output ""
	assert_determinism
}

@test "--filter --project keeps or drops members" {
	nedb-put t a '{"x":1,"y":{"z":2},"w":12345678901234567890}'
	run nedb-query --filter '{}' --project '{"x":1}' t
	assert_output '{"_id":"a","x":1}'
	run nedb-query --filter '{}' --project '{"x":1,"_id":0}' t
	assert_output '{"x":1}'
	run nedb-query --filter '{}' --project '{"x":0}' t
	assert_output '{"_id":"a","y":{"z":2},"w":12345678901234567890}'
	run nedb-query --project '{"y":1}' 'FROM t'
	assert_output '{"_id":"a","y":{"z":2}}'
	assert_determinism
}

@test "--filter --as-of reads the past" {
	local coll=users
	seed_history
	find '{"status":"active"}' "alice bob" --as-of 3
	find '{"status":"active"}' ""
	run --separate-stderr nedb-query --filter '{}' --as-of 99 users
	assert_failure 2
	assert_determinism
}

@test "a bad filter exits 2 naming the problem" {
	seed_mixed
	run --separate-stderr nedb-query --filter '{"v":{"$foo":1}}' t
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-query: unknown filter operator '\$foo' (field 'v')"
	for f in '{bad' '[]' '42' '{"$and":{}}' '{"v":{"$in":3}}' '{"v":{"$exists":1}}' '{"$where":"x"}'; do
		run --separate-stderr nedb-query --filter "$f" t
		assert_failure 2
		assert_equal "${#stderr_lines[@]}" 1
	done
	assert_determinism
}

@test "a bad --sort or --project exits 2 with a clean one-line message" {
	seed_users 2
	run --separate-stderr nedb-query --filter '{}' --sort '{"n":2}' users
	assert_failure 2
	assert_equal "$stderr" 'nedb-query: bad --sort: want {"field":1 or -1, ...}'
	run --separate-stderr nedb-query --filter '{}' --sort 'xx' users
	assert_failure 2
	assert_regex "$stderr" '^nedb-query: bad --sort: not JSON: Invalid'
	refute_regex "$stderr" 'bad --sort: bad --sort'
	run --separate-stderr nedb-query --filter '{}' --project 'xx' users
	assert_failure 2
	assert_regex "$stderr" '^nedb-query: bad --project: not JSON: Invalid'
	refute_regex "$stderr" 'bad --project: bad --project'
	run --separate-stderr nedb-query --filter '{}' --project '{"a":1,"b":0}' users
	assert_failure 2
	assert_determinism
}

@test "--sort, --skip, --limit and --as-of need --filter" {
	seed_users 2
	for o in '--sort={"n":1}' --skip=1 --limit=1 --as-of=1; do
		run --separate-stderr nedb-query "$o" 'FROM users'
		assert_failure 2
		assert_output ""
	done
	assert_determinism
}

# ---- --jq, --exit-status, --array, --pretty ------------------------

@test "--jq runs a jq program on each row and prints its outputs" {
	nedb-put -q t <<'EOF'
{"_id":"a","n":1,"t":["x","y"]}
{"_id":"b","n":2}
EOF
	run --separate-stderr nedb-query --jq '.n' 'FROM t'
	assert_success
	assert_output '1
2'
	run nedb-query --jq '.t[]?' 'FROM t'
	assert_output '"x"
"y"'
	run nedb-query --jq '{id: ._id, twice: (.n * 2)}' 'FROM t WHERE n = 2'
	assert_output '{"id":"b","twice":4}'
	run nedb-query --jq 'empty' 'FROM t'
	assert_success
	assert_output ""
	assert_determinism
}

@test "--jq works with --filter" {
	seed_users 3
	run nedb-query --jq '.n' --filter '{"n":{"$gte":2}}' users
	assert_output '2
3'
	assert_determinism
}

@test "a bad --jq program is a usage error" {
	seed_users 1
	run --separate-stderr nedb-query --jq '.[' 'FROM users'
	assert_failure 2
	assert_output ""
	assert_determinism
}

@test "--exit-status exits 1 when there are no rows" {
	seed_users 3
	run --separate-stderr nedb-query --exit-status 'FROM users WHERE n = 9'
	assert_failure 1
	assert_output ""
	run nedb-query -e 'FROM users WHERE n = 2'
	assert_success
	run nedb-query -e --filter '{"n":9}' users
	assert_failure 1
	run nedb-query -e --jq 'select(.n > 5)' 'FROM users'
	assert_failure 1
	run nedb-query 'FROM users WHERE n = 9'
	assert_success
	assert_determinism
}

@test "--array prints one JSON array and --pretty indents" {
	seed_users 2
	run nedb-query --array 'FROM users'
	assert_output '[{"_id":"u1","n":1},{"_id":"u2","n":2}]'
	run nedb-query --array 'FROM users WHERE n = 9'
	assert_output '[]'
	run nedb-query --array --jq .n 'FROM users'
	assert_output '[1,2]'
	run nedb-query --pretty 'FROM users WHERE n = 2'
	assert_output '{
  "_id": "u2",
  "n": 2
}'
	assert_determinism
}

# ---- failures -------------------------------------------------------

@test "a missing database exits 5" {
	run --separate-stderr nedb-query 'FROM users'
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr nedb-query --filter '{}' users
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "usage errors exit 2" {
	seed_users 1
	run --separate-stderr nedb-query --bogus 'FROM users'
	assert_failure 2
	assert_equal "$stderr" "nedb-query: unknown option '--bogus' (see 'nedb-query --help')"
	run nedb-query 'FROM users' extra
	assert_failure 2
	run nedb-query --filter '{}'
	assert_failure 2
	run nedb-query --filter '{}' a b
	assert_failure 2
	run nedb-query < /dev/null
	assert_failure 2
	run nedb-query --filter '{}' 'bad-coll'
	assert_failure 4
	assert_determinism
}

@test "--help prints usage and exits 0" {
	run nedb-query --help
	assert_success
	assert_line --index 0 'usage: nedb-query [options] [NQL]'
	run nedb-query --version
	assert_success
	assert_output --regexp '^nedb-query \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "queries never write" {
	seed_mixed
	before=$(cksum < "$NEDB_DIR/log.aof")
	nedb-query 'FROM t WHERE v = 3' > /dev/null
	nedb-query --filter '{}' t > /dev/null
	nedb-query 'FROM t GROUP BY v COUNT' > /dev/null
	assert_equal "$(cksum < "$NEDB_DIR/log.aof")" "$before"
	assert_determinism
}

@test "a --jq program that fails on a row exits 5 with one line, after the rows before it" {
	nedb-put -q t a '{"n":1}'
	nedb-put -q t b '{"n":"x"}'
	run --separate-stderr nedb-query --jq '.n + 1' 'FROM t'
	assert_failure 5
	assert_output '2'
	assert_equal "$stderr" 'nedb-query: jq: string ("x") and number (1) cannot be added'
}
