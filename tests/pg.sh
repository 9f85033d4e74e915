#!/bin/bash
# tests/pg.sh - throwaway PostgreSQL servers for the tests (pglog.bats,
# the unit tests of lib/log/pglog.c, make bench): real servers on
# loopback, each in a directory of its own, run as an unprivileged user
# (initdb refuses root: as root, the user postgres of Debian's package).
#
#   pg.sh start DIR            initdb and start a primary on a free port
#   pg.sh standby PRIMARY DIR  a streaming standby of PRIMARY, made the
#                              primary's synchronous standby
#   pg.sh stop DIR             fast shutdown
#   pg.sh kill DIR             kill -9 the postmaster (and its children)
#   pg.sh restart DIR          start a stopped or killed server again
#   pg.sh promote DIR          promote a standby (pg_ctl promote)
#   pg.sh psql DIR [ARG...]    psql as the cluster's superuser
#
# DIR is made (mode 0755, owned by the server's user) and holds data/,
# the unix socket, log, port, and url (a libpq URI for nedb's --log,
# without the #name).  DIR should be under /tmp: the server's user must
# reach it.
set -euo pipefail

bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	done
	echo "pg.sh: no PostgreSQL server (apt-get install postgresql)" >&2
	exit 1
}
BIN=$(bindir)

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir_for_pg() {
	mkdir -p "$1"
	chmod 0755 "$1"
	[ "$(id -u)" = 0 ] && chown postgres: "$1"
	return 0
}

start_server() {
	local dir=$1
	as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start \
		>/dev/null
}

configure() {
	local dir=$1 port=$2
	cat >>"$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 8
max_replication_slots = 8
hot_standby = on
max_connections = 200
shared_buffers = 32MB
wal_sender_timeout = 5s
wal_receiver_status_interval = 1s
wal_retrieve_retry_interval = 200ms
logging_collector = off
EOF
	echo "$port" >"$dir/port"
	echo "postgresql://nedb@127.0.0.1:$port/postgres" >"$dir/url"
}

cmd=${1:-}
shift || true
case $cmd in
start)
	dir=$1
	mkdir_for_pg "$dir"
	as_pg "$BIN/initdb" -D "$dir/data" -A trust -U nedb -E UTF8 \
		--no-sync >"$dir/initdb.log" 2>&1
	configure "$dir" "$(free_port)"
	start_server "$dir"
	;;
standby)
	primary=$1 dir=$2
	mkdir_for_pg "$dir"
	as_pg "$BIN/pg_basebackup" -h "$primary" -p "$(cat "$primary/port")" \
		-U nedb -D "$dir/data" -X stream --no-sync >/dev/null 2>&1
	# the copy of the primary's settings, then this server's own
	sed -i '/^port = /d; /^unix_socket_directories = /d' \
		"$dir/data/postgresql.conf"
	configure "$dir" "$(free_port)"
	cat >>"$dir/data/postgresql.conf" <<EOF
primary_conninfo = 'host=127.0.0.1 port=$(cat "$primary/port") user=nedb application_name=standby1'
EOF
	as_pg touch "$dir/data/standby.signal"
	start_server "$dir"
	# synchronous: a commit returns once the standby flushed it
	"$0" psql "$primary" -c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" \
		-c "SELECT pg_reload_conf()" >/dev/null
	for ((i = 0; i < 300; i++)); do
		s=$("$0" psql "$primary" -At -c \
			"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")
		[ "$s" = sync ] && exit 0
		sleep 0.1
	done
	echo "pg.sh: the standby in $dir did not become synchronous" >&2
	exit 1
	;;
stop)
	as_pg "$BIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
	;;
kill)
	dir=$1
	if [ -f "$dir/data/postmaster.pid" ]; then
		pid=$(head -1 "$dir/data/postmaster.pid")
		# the postmaster and its children, at once
		pkill -9 -P "$pid" 2>/dev/null || true
		kill -9 "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
	fi
	;;
restart)
	start_server "$1"
	;;
promote)
	as_pg "$BIN/pg_ctl" -D "$1/data" -w -t 60 promote >/dev/null
	;;
psql)
	dir=$1
	shift
	psql -X -q -h "$dir" -p "$(cat "$dir/port")" -U nedb -d postgres "$@"
	;;
*)
	sed -n '2,20p' "$0" >&2
	exit 2
	;;
esac
