#!/bin/sh
# tests/demo.sh BUILD - a short tour of nedb on a database in a
# temporary directory: put, get, a time-travel read, the log, verify.
set -e
bin="$(cd "${1:-build}/bin" && pwd)"
PATH="$bin:$PATH"
NEDB_DIR=$(mktemp -d)/demo-db
export NEDB_DIR PATH
trap 'rm -rf "$(dirname "$NEDB_DIR")"' EXIT
run() {
	printf '\n$ %s\n' "$*"
	"$@"
}
echo "nedb demo: database in $NEDB_DIR"
run nedb-put users alice '{"name":"Alice","age":31}'
run nedb-put users bob '{"name":"Bob","age":27}'
run nedb-put --merge users alice '{"age":32,"city":"Lyon"}'
run nedb-get users alice bob
run nedb-get --as-of 1 users alice
run nedb-get --history users alice
run nedb-delete users bob
run nedb-log -n 2
run nedb-checkpoint
run nedb-verify --determinism
echo
echo "demo: ok"
