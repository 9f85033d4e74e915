#!/usr/bin/env bats
# nedb-index: creating each kind (backfilled), re-creating, dropping and
# listing indexes; indexes kept up to date by every write and surviving
# a restart and a rebuild of the view.

load helper

# ids QUERY: the _id of every row, space-separated, in $got.
ids() {
	run --separate-stderr nedb-query --jq ._id "$1"
	assert_success
	got="${lines[*]}"
	got="${got//\"/}"
}

# plan QUERY: the plan name (and index field/kind) of QUERY in $plan.
plan() {
	run --separate-stderr nedb-query --explain "$1"
	assert_success
	[[ $output =~ \"plan\":\"([a-z-]+)\",\"index\":(null|\{\"field\":\"([^\"]*)\",\"kind\":\"([a-z]+)\"\}) ]]
	plan="${BASH_REMATCH[1]}${BASH_REMATCH[3]:+ ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}}"
}

# The number of lines of the log (genesis included).
log_lines() {
	wc -l < "$NEDB_DIR/log.aof"
}

seed_people() {
	nedb-put -q users <<'EOF'
{"_id":"alice","age":31,"status":"active","bio":"Systems engineer","tags":["admin","ops"]}
{"_id":"bob","age":40,"status":"active","bio":"database architect","tags":["dev"]}
{"_id":"carol","age":25.0,"status":"inactive","bio":"systems architect","tags":["dev","ops"]}
{"_id":"dave","age":"40","status":null,"bio":"Manager"}
{"_id":"erin","bio":"data engineer","tags":[]}
EOF
}

@test "creating an index prints a receipt and appends an index op" {
	seed_people
	run --separate-stderr nedb-index users status eq
	assert_success
	assert_output --regexp '^\{"seq":6,"hash":"[0-9a-f]{64}","op":"index","coll":"users","field":"status","kind":"eq"\}$'
	assert_equal "$stderr" ""
	run nedb-log -n 1
	assert_output --partial '"op":"index"'
	assert_determinism
}

@test "an eq index is backfilled and answers = and IN as a scan does" {
	seed_people
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	nedb-index users status eq
	plan 'FROM users WHERE status = "active"'
	assert_equal "$plan" "index status eq"
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	ids 'FROM users WHERE status IN ("inactive", null)'
	assert_equal "$got" "carol dave"
	ids 'FROM users WHERE status = null'
	assert_equal "$got" "dave"
	assert_determinism
}

@test "an eq index on an array field indexes each element" {
	seed_people
	nedb-index users tags eq
	run nedb-index --list
	assert_output '{"coll":"users","field":"tags","kind":"eq","entries":5}'
	plan 'FROM users WHERE tags CONTAINS "ops"'
	assert_equal "$plan" "index tags eq"
	ids 'FROM users WHERE tags CONTAINS "ops"'
	assert_equal "$got" "alice carol"
	ids 'FROM users WHERE tags = "dev"'
	assert_equal "$got" ""
	ids 'FROM users WHERE tags CONTAINS "dev" AND age >= 30'
	assert_equal "$got" "bob"
	assert_determinism
}

@test "an ordered index is backfilled and answers ranges as a scan does" {
	seed_people
	ids 'FROM users WHERE age >= 31'
	assert_equal "$got" "alice bob"
	nedb-index users age ordered
	plan 'FROM users WHERE age >= 31'
	assert_equal "$plan" "index age ordered"
	ids 'FROM users WHERE age >= 31'
	assert_equal "$got" "alice bob"
	ids 'FROM users WHERE age < 31'
	assert_equal "$got" "carol"
	ids 'FROM users WHERE age = 25'
	assert_equal "$got" "carol"
	ids 'FROM users WHERE age > "1"'
	assert_equal "$got" "dave"
	assert_determinism
}

@test "an ordered index gives ORDER BY the total order, absent documents first" {
	seed_people
	ids 'FROM users ORDER BY age'
	assert_equal "$got" "erin carol alice bob dave"
	nedb-index users age ordered
	ids 'FROM users ORDER BY age LIMIT 10'
	assert_equal "$got" "erin carol alice bob dave"
	ids 'FROM users ORDER BY age LIMIT 2 OFFSET 1'
	assert_equal "$got" "carol alice"
	ids 'FROM users ORDER BY age DESC LIMIT 2'
	assert_equal "$got" "dave bob"
	assert_determinism
}

@test "a search index is backfilled and answers SEARCH" {
	seed_people
	nedb-index users bio search
	plan 'FROM users SEARCH "systems"'
	assert_equal "$plan" "index bio search"
	ids 'FROM users SEARCH "systems"'
	assert_equal "$got" "alice carol"
	ids 'FROM users SEARCH "ARCHITECT systems"'
	assert_equal "$got" "carol"
	ids 'FROM users SEARCH "engineer"'
	assert_equal "$got" "alice erin"
	assert_determinism
}

@test "an index on a dotted path indexes the nested value" {
	nedb-put -q t <<'EOF'
{"_id":"a","addr":{"city":"Paris"}}
{"_id":"b","addr":{"city":"Oslo"}}
{"_id":"c","addr":"Paris"}
EOF
	nedb-index t addr.city eq
	plan 'FROM t WHERE addr.city = "Paris"'
	assert_equal "$plan" "index addr.city eq"
	ids 'FROM t WHERE addr.city = "Paris"'
	assert_equal "$got" "a"
	assert_determinism
}

@test "an index created before the data gives the same answers as one created after" {
	nedb-index users status eq
	nedb-index users age ordered
	nedb-index users bio search
	seed_people
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	ids 'FROM users WHERE age < 35 ORDER BY age DESC'
	assert_equal "$got" "alice carol"
	ids 'FROM users ORDER BY age LIMIT 3'
	assert_equal "$got" "erin carol alice"
	ids 'FROM users SEARCH "architect"'
	assert_equal "$got" "bob carol"
	run nedb-index --list
	assert_output '{"coll":"users","field":"age","kind":"ordered","entries":5}
{"coll":"users","field":"bio","kind":"search","entries":9}
{"coll":"users","field":"status","kind":"eq","entries":4}'
	assert_determinism
}

@test "creating the same index again prints exists:true and appends nothing" {
	seed_people
	nedb-index users status eq
	n=$(log_lines)
	run --separate-stderr nedb-index users status eq
	assert_success
	assert_output '{"op":"index","coll":"users","field":"status","kind":"eq","exists":true}'
	assert_equal "$stderr" ""
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "a field carries an index of each kind; the planner picks per condition" {
	seed_people
	nedb-index users status eq
	nedb-index users age eq
	run nedb-index users age ordered
	assert_success
	assert_output --regexp '"op":"index","coll":"users","field":"age","kind":"ordered"}$'
	run nedb-index --list --array
	assert_output --partial '{"coll":"users","field":"age","kind":"eq","entries":'
	assert_output --partial '{"coll":"users","field":"age","kind":"ordered","entries":'
	run nedb-query --explain 'FROM users WHERE age = 31'
	assert_output --partial '"index":{"field":"age","kind":"eq"},"use":"="'
	run nedb-query --explain 'FROM users WHERE age > 30'
	assert_output --partial '"index":{"field":"age","kind":"ordered"},"use":">"'
	want=$(nedb-query 'FROM users WHERE age >= 30 ORDER BY _id')
	# dropping one kind keeps the other
	run nedb-index --drop users age ordered
	assert_success
	assert_output --regexp '"op":"unindex","coll":"users","field":"age","kind":"ordered"}$'
	run nedb-query --explain 'FROM users WHERE age = 31'
	assert_output --partial '"kind":"eq"'
	assert_equal "$(nedb-query 'FROM users WHERE age >= 30 ORDER BY _id')" "$want"
	run -1 --separate-stderr nedb-index --drop users age ordered
	assert_equal "$stderr" "nedb-index: no ordered index on users.age"
	# without a kind, every kind goes
	nedb-index users age ordered >/dev/null
	run nedb-index --drop users age
	assert_output --regexp '"op":"unindex","coll":"users","field":"age"}$'
	run nedb-index --list
	refute_output --partial '"field":"age"'
	run -2 nedb-index --drop users age bogus
	assert_determinism
}

@test "--drop removes an index; queries scan again with the same answers" {
	seed_people
	nedb-index users status eq
	run --separate-stderr nedb-index --drop users status
	assert_success
	assert_output --regexp '^\{"seq":7,"hash":"[0-9a-f]{64}","op":"unindex","coll":"users","field":"status"\}$'
	plan 'FROM users WHERE status = "active"'
	assert_equal "$plan" "scan"
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	run nedb-index --list
	assert_output ""
	assert_determinism
}

@test "a dropped index can be created again with another kind" {
	seed_people
	nedb-index users age eq
	nedb-index --drop users age
	run nedb-index users age ordered
	assert_success
	plan 'FROM users WHERE age > 30'
	assert_equal "$plan" "index age ordered"
	ids 'FROM users WHERE age > 30'
	assert_equal "$got" "alice bob"
	assert_determinism
}

@test "--drop of an index that does not exist exits 1" {
	seed_people
	n=$(log_lines)
	run --separate-stderr nedb-index --drop users status
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "nedb-index: no index on users.status"
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "--list prints one {coll, field, kind, entries} per index" {
	seed_people
	nedb-put -q other <<< '{"_id":"x","k":1}'
	nedb-index users status eq
	nedb-index users age ordered
	nedb-index users bio search
	nedb-index other k eq
	run --separate-stderr nedb-index --list
	assert_success
	assert_output '{"coll":"other","field":"k","kind":"eq","entries":1}
{"coll":"users","field":"age","kind":"ordered","entries":5}
{"coll":"users","field":"bio","kind":"search","entries":9}
{"coll":"users","field":"status","kind":"eq","entries":4}'
	run nedb-index --list --array
	assert_output --regexp '^\[\{"coll":"other",.*\}\]$'
	assert_determinism
}

@test "--list with no indexes prints nothing" {
	seed_people
	run --separate-stderr nedb-index --list
	assert_success
	assert_output ""
	run nedb-index --list --array
	assert_output '[]'
	assert_determinism
}

@test "a put keeps every index up to date" {
	seed_people
	nedb-index users status eq
	nedb-index users age ordered
	nedb-index users bio search
	nedb-put users bob '{"age":20,"status":"inactive","bio":"retired"}'
	nedb-put users frank '{"age":35,"status":"active","bio":"systems person"}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice frank"
	ids 'FROM users WHERE age < 30'
	assert_equal "$got" "bob carol"
	ids 'FROM users ORDER BY age LIMIT 3'
	assert_equal "$got" "erin bob carol"
	ids 'FROM users SEARCH "architect"'
	assert_equal "$got" "carol"
	ids 'FROM users SEARCH "systems"'
	assert_equal "$got" "alice carol frank"
	assert_determinism
}

@test "a put --merge keeps every index up to date" {
	seed_people
	nedb-index users status eq
	nedb-put --merge users alice '{"status":"away"}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "bob"
	ids 'FROM users WHERE status = "away"'
	assert_equal "$got" "alice"
	assert_determinism
}

@test "a delete removes the document from every index" {
	seed_people
	nedb-index users status eq
	nedb-index users age ordered
	nedb-index users tags eq
	nedb-delete users alice
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "bob"
	ids 'FROM users ORDER BY age DESC LIMIT 10'
	assert_equal "$got" "dave bob carol erin"
	ids 'FROM users WHERE tags CONTAINS "ops"'
	assert_equal "$got" "carol"
	run nedb-index --list
	assert_output --partial '"field":"tags","kind":"eq","entries":3}'
	assert_determinism
}

@test "an update keeps every index up to date" {
	seed_people
	nedb-index users status eq
	nedb-index users tags eq
	nedb-update --many users '{"status":"active"}' '{"$set":{"status":"paused"},"$push":{"tags":"new"}}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" ""
	ids 'FROM users WHERE status = "paused"'
	assert_equal "$got" "alice bob"
	ids 'FROM users WHERE tags CONTAINS "new"'
	assert_equal "$got" "alice bob"
	assert_determinism
}

@test "a collection drop empties its indexes but keeps them defined" {
	seed_people
	nedb-index users status eq
	nedb-coll --drop users
	run nedb-index --list
	assert_output '{"coll":"users","field":"status","kind":"eq","entries":0}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" ""
	nedb-put users zed '{"status":"active"}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "zed"
	plan 'FROM users WHERE status = "active"'
	assert_equal "$plan" "index status eq"
	assert_determinism
}

@test "an expired document is not returned through an index" {
	seed_people
	nedb-index users status eq
	nedb-index users age ordered
	nedb-put --ttl 1 users temp '{"status":"active","age":1}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob temp"
	sleep 1.1
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	ids 'FROM users ORDER BY age LIMIT 2'
	assert_equal "$got" "erin carol"
	ids 'FROM users WHERE age < 30'
	assert_equal "$got" "carol"
	assert_determinism
}

@test "nedb-sweep removes expired documents from every index" {
	seed_people
	nedb-index users status eq
	nedb-index users age ordered
	nedb-put --ttl 1 users temp '{"status":"active","age":1}'
	run nedb-index --list
	assert_output '{"coll":"users","field":"age","kind":"ordered","entries":6}
{"coll":"users","field":"status","kind":"eq","entries":5}'
	sleep 1.1
	run nedb-sweep
	assert_success
	assert_output '{"deleted":1}'
	run nedb-index --list
	assert_output '{"coll":"users","field":"age","kind":"ordered","entries":5}
{"coll":"users","field":"status","kind":"eq","entries":4}'
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	ids 'FROM users AS OF 8 WHERE status = "active"'
	assert_equal "$got" "alice bob temp"
	assert_determinism
}

@test "indexes survive a restart: a lost view is rebuilt with them" {
	seed_people
	nedb-index users status eq
	nedb-index users age ordered
	before=$(nedb-index --list)
	rm -f "$NEDB_DIR"/view.mdb "$NEDB_DIR"/view.mdb-lock
	run nedb-index --list
	assert_output "$before"
	plan 'FROM users WHERE status = "active"'
	assert_equal "$plan" "index status eq"
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "alice bob"
	assert_determinism
}

@test "indexes survive nedb-checkpoint --rebuild and a checkpoint" {
	seed_people
	nedb-index users status eq
	nedb-index users bio search
	nedb-index --drop users bio
	nedb-index users age ordered
	before=$(nedb-index --list)
	run nedb-checkpoint --rebuild
	assert_success
	run nedb-index --list
	assert_output "$before"
	nedb-checkpoint
	run nedb-index --list
	assert_output "$before"
	plan 'FROM users WHERE age > 30'
	assert_equal "$plan" "index age ordered"
	ids 'FROM users WHERE age > 30'
	assert_equal "$got" "alice bob"
	assert_determinism
}

@test "AS OF before an index existed answers from the past, not the index" {
	seed_people
	nedb-put users alice '{"status":"gone"}'	# 6
	nedb-index users status eq			# 7
	ids 'FROM users AS OF 5 WHERE status = "active"'
	assert_equal "$got" "alice bob"
	plan 'FROM users AS OF 5 WHERE status = "active"'
	assert_equal "$plan" "as-of-scan"
	ids 'FROM users WHERE status = "active"'
	assert_equal "$got" "bob"
	assert_determinism
}

@test "bad arguments: kind exits 2, field or collection exits 4" {
	seed_people
	run --separate-stderr nedb-index users status bogus
	assert_failure 2
	assert_equal "$stderr" "nedb-index: bad index kind 'bogus': want eq, ordered or search (see 'nedb-index --help')"
	run --separate-stderr nedb-index users 'a..b' eq
	assert_failure 4
	assert_equal "$stderr" "nedb-index: bad field 'a..b': want a dotted path of 1-128 bytes"
	run nedb-index users '.a' eq
	assert_failure 4
	run nedb-index users '' eq
	assert_failure 4
	run --separate-stderr nedb-index 1bad x eq
	assert_failure 4
	run nedb-index users status
	assert_failure 2
	run nedb-index --drop users
	assert_failure 2
	run nedb-index --list users
	assert_failure 2
	run nedb-index --bogus
	assert_failure 2
	run nedb-index --list
	assert_output ""
	assert_determinism
}

@test "--client --nonce protect index writes from replay" {
	seed_people
	run nedb-index --client adm --nonce 5 users status eq
	assert_success
	run --separate-stderr nedb-index --client adm --nonce 5 users age ordered
	assert_failure 3
	run nedb-index --list
	refute_output --partial '"field":"age"'
	run nedb-index --client adm --nonce 6 users age ordered
	assert_success
	assert_determinism
}

@test "a missing database exits 5 for --list and --drop" {
	run --separate-stderr nedb-index --list
	assert_failure 5
	run nedb-index --drop users status
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "--help prints usage and exits 0" {
	run nedb-index --help
	assert_success
	assert_line --index 0 'usage: nedb-index [options] COLL FIELD eq|ordered|search'
}
