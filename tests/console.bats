#!/usr/bin/env bats
# nedbd's web console (SPEC section 12): the page at / and its files,
# served with a strict Content-Security-Policy, and the page itself run
# in a real headless Chromium driven through the DevTools protocol
# (tests/lib-console/drive.py): sign in with the token, pick a
# database, NQL results as a table, a document's history with a time
# slider, the log's tail and the chain's status.  Every wait polls the
# page's DOM for a condition, with a bound; none sleeps and hopes.

load nedbd-helper

DRIVE=$BATS_TEST_DIRNAME/lib-console/drive.py

# The system python3, which has python3-websocket (Debian's).
console_python() {
	local py
	for py in /usr/bin/python3 python3; do
		if "$py" -c 'import websocket' 2>/dev/null; then
			PY=$py
			return 0
		fi
	done
	skip "no python3 with the websocket module (python3-websocket)"
}

needs_browser() {
	command -v chromium >/dev/null || skip "chromium is not installed"
	console_python
}

# drive: runs the steps on stdin in Chromium at the console's page.
drive() {
	"$PY" "$DRIVE" "http://127.0.0.1:$PORT/"
}

# A database "shop" with users of different shapes, one of them holding
# markup, and alice in two versions (age 31, then 32).
shop() {
	TOKEN=s3cret
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"alice","doc":{"age":31}}'
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"bob","doc":{"city":"Lyon","tags":["a","b"]}}'
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"alice","doc":{"age":32}}'
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"mal","doc":{"name":"<img src=x id=pwned>"}}'
	expect 200
}

signin_steps() {
	cat <<-'EOF'
		wait document.readyState === "complete" && document.getElementById("status").textContent !== ""
		eval document.getElementById("token").value = "s3cret"
		eval document.getElementById("signin-go").click()
		wait document.getElementById("db").options.length > 0 && document.querySelectorAll("#log tbody tr").length > 0
	EOF
}

@test "GET / serves the console page; its script and style are its own files under a strict CSP" {
	start_nedbd NEDBD_TOKEN=s3cret
	http GET /
	[ "$CODE" = 200 ]
	assert_equal "$(sed -n 's/^Content-Type: //p' <<<"$HEADERS")" 'text/html; charset=utf-8'
	assert_equal "$(sed -n 's/^Content-Security-Policy: //p' <<<"$HEADERS")" \
		"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	assert_equal "$(sed -n 's/^X-Frame-Options: //p' <<<"$HEADERS")" DENY
	assert_equal "$(sed -n 's/^X-Content-Type-Options: //p' <<<"$HEADERS")" nosniff
	[[ $BODY == *'<script src="console.js" defer></script>'* ]]
	# no inline script or handler the CSP would have to allow
	run grep -cE '<script>|[[:space:]]on[a-z]+=' <<<"$BODY"
	assert_output 0
	http GET /index.html
	[ "$CODE" = 200 ]
	http GET /console.js
	[ "$CODE" = 200 ]
	assert_equal "$(sed -n 's/^Content-Type: //p' <<<"$HEADERS")" 'text/javascript; charset=utf-8'
	cmp -s "$BATS_TEST_TMPDIR/body" "$BATS_TEST_DIRNAME/../cmd/nedbd/console/console.js"
	http GET /console.css
	assert_equal "$(sed -n 's/^Content-Type: //p' <<<"$HEADERS")" 'text/css; charset=utf-8'
	# the page is public; the data is not
	http GET /v1/databases
	expect_error 401
	http POST /
	expect_error 405
	http GET /console.jsx
	expect_error 404
}

@test "GET /v1/databases/NAME/rows/COLL/ID?history=1 lists every version with its seq, op and doc" {
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	http DELETE /v1/databases/shop/rows/users/alice
	http GET '/v1/databases/shop/rows/users/alice?history=1'
	expect 200 '.count == 3' '.seq == 5' '[.versions[].seq] == [1,3,5]' \
		'[.versions[].op] == ["put","put","delete"]' \
		'.versions[0].doc == {"_id":"alice","age":31}' '.versions[2].doc == null' \
		'(.versions[0].hash | length) == 64'
	http GET '/v1/databases/shop/rows/users/nobody?history=1'
	expect_error 404
	http GET '/v1/databases/shop/rows/users/alice?history=maybe'
	expect_error 400
	# a name that cannot be a collection: refused before any read
	http GET '/v1/databases/shop/rows/no%20such/alice?history=1'
	expect_error 400
}

@test "console: a wrong token is refused; the right one lists the databases and the log's tail" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	run drive <<-'EOF'
		wait document.readyState === "complete" && document.getElementById("status").textContent !== ""
		eval document.getElementById("status").textContent
		eval document.getElementById("token").value = "wrong"
		eval document.getElementById("signin-go").click()
		wait document.getElementById("status").textContent.startsWith("sign-in failed")
		eval document.getElementById("status").textContent
		eval document.getElementById("db").options.length
		eval document.getElementById("run").disabled
		eval document.getElementById("token").value = "s3cret"
		eval document.getElementById("signin-go").click()
		wait document.getElementById("db").options.length > 0 && document.querySelectorAll("#log tbody tr").length > 0
		eval [...document.getElementById("db").options].map(o => o.value)
		eval [...document.querySelectorAll("#log thead th")].map(th => th.textContent).join(" ")
		eval [...document.querySelectorAll("#log tbody tr")].map(tr => tr.cells[0].textContent + " " + tr.cells[1].textContent).join(",")
	EOF
	assert_success
	assert_output '"sign in with the server'"'"'s token"
"wrong"
null
"sign-in failed: unauthorized: bad token"
0
true
"s3cret"
null
["shop"]
"seq op coll id time hash"
"4 put,3 put,2 put,1 put,0 genesis"'
}

@test "console: an NQL query's rows are a table over the union of their fields, markup shown as text" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	run drive < <(signin_steps; cat <<-'EOF'
		eval document.getElementById("query").value = "FROM users ORDER BY _id"
		eval document.getElementById("run").click()
		wait document.querySelectorAll("#results tbody tr").length === 3
		eval [...document.querySelectorAll("#results thead th")].map(th => th.textContent)
		eval [...document.querySelectorAll("#results tbody tr")].map(tr => [...tr.cells].map(td => td.textContent))
		eval document.getElementById("query-info").textContent.replace(/\(\d+ ms\)/, "(T)")
		eval document.getElementById("pwned") === null
		eval document.querySelectorAll("#results thead th")[1].click()
		eval [[...document.querySelectorAll("#results thead th")].map(th => th.textContent).join("|"), [...document.querySelectorAll("#results tbody tr")].map(tr => tr.cells[0].textContent).join(",")]
		eval document.querySelectorAll("#results thead th")[1].click()
		eval [document.querySelectorAll("#results thead th")[1].textContent, [...document.querySelectorAll("#results tbody tr")].map(tr => tr.cells[0].textContent).join(",")]
		eval document.querySelectorAll("#results thead th")[0].click()
		eval [document.querySelectorAll("#results thead th")[1].getAttribute("aria-sort"), [...document.querySelectorAll("#results tbody tr")].map(tr => tr.cells[0].textContent).join(",")]
		eval document.getElementById("query").value = "FROM users WHERE"
		eval document.getElementById("run").click()
		wait !document.getElementById("query-error").hidden
		eval document.getElementById("query-error").textContent.length > 0
		eval document.querySelectorAll("#results tr").length
	EOF
	)
	assert_success
	assert_line --index 4 '["_id", "age", "city", "tags", "name"]'
	assert_line --index 5 '[["alice", "32", "", "", ""], ["bob", "", "Lyon", "[\"a\",\"b\"]", ""], ["mal", "", "", "", "<img src=x id=pwned>"]]'
	assert_line --index 6 '"3 rows at seq 4 (T)"'
	assert_line --index 7 'true'
	# sorted by a click on a column's header, absent values first; again,
	# the other way
	assert_line --index 9 '["_id|age ▲|city|tags|name", "bob,mal,alice"]'
	assert_line --index 11 '["age ▼", "alice,bob,mal"]'
	assert_line --index 13 '["none", "alice,bob,mal"]'
	assert_line --index 16 'true'
	assert_line --index 17 '0'
}

@test "console: a SQL statement runs at /sql and its rows are a table too" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	run drive < <(signin_steps; cat <<-'EOF'
		eval document.getElementById("query").value = "SELECT _id, age FROM users WHERE age IS NOT NULL ORDER BY _id"
		eval document.getElementById("run").click()
		wait document.querySelectorAll("#results tbody tr").length === 1
		eval [...document.querySelectorAll("#results tr")].map(tr => [...tr.cells].map(td => td.textContent).join("|"))
		eval document.getElementById("query").value = "DELETE FROM users"
		eval document.getElementById("run").click()
		wait !document.getElementById("query-error").hidden
		eval document.getElementById("query-error").textContent
	EOF
	)
	assert_success
	assert_line --index 4 '["_id|age", "alice|32"]'
	assert_line --index 7 '"only SELECT, VALUES and EXPLAIN are served here: write with nedb-sql(1) or the write routes"'
}

@test "console: a document's history with a slider that travels to any seq" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	http DELETE /v1/databases/shop/rows/users/alice
	run drive < <(signin_steps; cat <<-'EOF'
		eval document.getElementById("hist-coll").value = "users"
		eval document.getElementById("hist-id").value = "alice"
		eval document.getElementById("hist-go").click()
		wait !document.getElementById("history").hidden
		eval [document.getElementById("hist-slider").min, document.getElementById("hist-slider").max, document.getElementById("hist-seq").textContent]
		eval document.getElementById("hist-doc").textContent
		eval (() => { const s = document.getElementById("hist-slider"); s.value = 2; s.dispatchEvent(new Event("input")); return document.getElementById("hist-doc").textContent; })()
		eval document.getElementById("hist-meta").textContent.replace(/, .*/, "")
		eval (() => { const s = document.getElementById("hist-slider"); s.value = 4; s.dispatchEvent(new Event("input")); return JSON.parse(document.getElementById("hist-doc").textContent); })()
		eval document.getElementById("hist-id").value = "nobody"
		eval document.getElementById("hist-go").click()
		wait !document.getElementById("history-error").hidden
		eval document.getElementById("history-error").textContent
	EOF
	)
	assert_success
	assert_line --index 5 '["1", "5", "5"]'
	assert_line --index 6 '"(deleted)"'
	assert_line --index 7 '"{\n  \"_id\": \"alice\",\n  \"age\": 31\n}"'
	assert_line --index 8 '"put at seq 1"'
	assert_line --index 9 '{"_id": "alice", "age": 32}'
	assert_line --index 12 "\"no document 'nobody' in 'users', ever\""
}

@test "console: Verify shows the chain ok, then the first bad seq of a tampered log" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	run drive < <(signin_steps; cat <<-'EOF'
		eval document.getElementById("verify").click()
		wait document.getElementById("chain").textContent.startsWith("chain")
		eval document.getElementById("chain").textContent.replace(/head [0-9a-f]{16}/, "head H")
		eval document.getElementById("chain").className
	EOF
	)
	assert_success
	assert_line --index 3 '"chain ok: 5 ops, head H…"'
	assert_line --index 4 '"ok"'
	# bob's city, changed in the log behind nedbd's back
	sed -i 's/"Lyon"/"Nice"/' "$DATA/shop/log.aof"
	run drive <<-'EOF'
		wait document.readyState === "complete" && document.getElementById("status").textContent !== ""
		eval document.getElementById("token").value = "s3cret"
		eval document.getElementById("signin-go").click()
		wait document.getElementById("db").options.length > 0 && document.getElementById("status").className === "bad"
		eval document.getElementById("status").textContent
		eval document.querySelectorAll("#log tr").length
		eval document.getElementById("verify").click()
		wait document.getElementById("chain").textContent.startsWith("chain")
		eval document.getElementById("chain").textContent.replace(/: .*/, "")
		eval document.getElementById("chain").className
	EOF
	assert_success
	# the log's tail is not shown from a log that does not check
	assert_line --index 2 --regexp '^"corrupt.*seq 2'
	assert_line --index 3 '0'
	assert_line --index 5 '"chain BROKEN at seq 2"'
	assert_line --index 6 '"bad"'
}

@test "console: a sign-in is kept across a reload of the page, and Sign out forgets it" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	run drive < <(signin_steps; cat <<-'EOF'
		eval window.before = true; location.reload()
		wait !window.before && document.readyState === "complete" && document.getElementById("db").options.length > 0
		eval document.getElementById("status").textContent
		eval document.getElementById("signout").click()
		eval [document.getElementById("db").options.length, sessionStorage.getItem("nedb-token")]
		eval window.before = true; location.reload()
		wait !window.before && document.readyState === "complete" && document.getElementById("status").textContent !== ""
		eval document.getElementById("status").textContent
	EOF
	)
	assert_success
	assert_line --index 3 '"signed in"'
	assert_line --index 5 '[0, null]'
	assert_line --index 7 '"sign in with the server'"'"'s token"'
}

@test "console: a whole session has no page errors, asks nothing of anyone but nedbd, and leaves a screenshot" {
	needs_browser
	start_nedbd NEDBD_TOKEN=s3cret
	shop
	local shot=${NEDB_ARTIFACTS:-$BATS_TEST_TMPDIR}/console.png
	rm -f "$shot"
	run drive < <(signin_steps; cat <<-EOF
		eval document.getElementById("query").value = "FROM users ORDER BY _id"
		eval document.getElementById("run").click()
		wait document.querySelectorAll("#results tbody tr").length === 3
		eval document.getElementById("hist-coll").value = "users"
		eval document.getElementById("hist-id").value = "alice"
		eval document.getElementById("hist-go").click()
		wait !document.getElementById("history").hidden
		eval (() => { const s = document.getElementById("hist-slider"); s.value = 1; s.dispatchEvent(new Event("input")); return document.getElementById("hist-meta").textContent.replace(/, .*/, ""); })()
		eval document.getElementById("verify").click()
		wait document.getElementById("chain").className === "ok"
		shot $shot
		errors
		requests
	EOF
	)
	assert_success
	assert_line --index 7 '"put at seq 1"'
	assert_line --index 9 '[]'
	assert_line --index 10 "[\"http://127.0.0.1:$PORT\"]"
	# a PNG of the page as it was
	run sh -c "head -c 8 '$shot' | od -An -tx1"
	assert_output ' 89 50 4e 47 0d 0a 1a 0a'
	[ "$(stat -c %s "$shot")" -gt 10000 ]
}
