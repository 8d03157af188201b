#!/bin/bash
# A throwaway PostgreSQL cluster for the store and integration tests.
#
#   tests/pgcluster.sh start DIR    create a cluster in DIR, start it, print its URL
#   tests/pgcluster.sh stop DIR     stop it (fast) and remove DIR; idempotent
#   tests/pgcluster.sh pause DIR    stop the server, keep the data
#   tests/pgcluster.sh resume DIR   start it again on the same port
#   tests/pgcluster.sh url DIR      print the URL of the cluster in DIR
#
# The server runs as the unprivileged `postgres` user when called as root
# (initdb refuses root), with trust authentication on 127.0.0.1 only,
# fsync off, and its socket inside DIR.  Only the URL goes to stdout.
set -euo pipefail

prog=${0##*/}
marker=.whiteglove-pgcluster

usage() {
	cat <<EOF
usage: $prog start|stop|pause|resume|url DIR
       $prog --help

start DIR    create a throwaway PostgreSQL cluster in DIR (created if
             absent; e.g. DIR=\$(mktemp -d /tmp/wgpg.XXXXXX)), start it on a
             free port on 127.0.0.1 and print its URL
             (postgresql://postgres@127.0.0.1:PORT/postgres), also written to
             DIR/url
stop DIR     stop the server (fast mode) and remove DIR; a DIR that is gone
             already is not an error
pause DIR    stop the server but keep its data
resume DIR   start a paused server again on the same port
url DIR      print the URL of the cluster in DIR

Environment: PG_BINDIR overrides the PostgreSQL programs' folder (default:
the highest /usr/lib/postgresql/*/bin).  The server log is DIR/log.
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

bindir() {
	local d
	if [ -n "${PG_BINDIR:-}" ]; then
		d=$PG_BINDIR
	else
		d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V |
		    tail -n 1 || true)
	fi
	[ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] ||
	    die "no PostgreSQL server programs found (install the" \
		"postgresql package or set PG_BINDIR)"
	echo "$d"
}

# Runs a command as the cluster's owner: `postgres` when we are root.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! port_busy "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free TCP port found on 127.0.0.1"
}

write_conf() {
	local dir=$1 port=$2
	cat >"$dir/data/whiteglove.conf" <<EOF
# written by $prog; throwaway test cluster, never for real data
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF
	chown --reference="$dir/data" "$dir/data/whiteglove.conf"
	echo "$port" >"$dir/port"
}

# Starts the server; returns 1 if it did not come up (the log says why).
server_start() {
	local dir=$1 bin port
	bin=$(bindir)
	port=$(cat "$dir/port")
	(cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" \
	    -w -t 30 start >/dev/null) || return 1
	for _ in $(seq 1 100); do
		if as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

server_running() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] &&
	    (cd "$dir" && as_owner "$(bindir)/pg_ctl" -D "$dir/data" status \
		>/dev/null 2>&1)
}

server_stop() {
	local dir=$1
	if server_running "$dir"; then
		(cd "$dir" && as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast \
		    -w -t 60 stop >/dev/null) ||
		    die "pg_ctl could not stop the server in $dir (see $dir/log)"
	fi
}

url_of() {
	echo "postgresql://postgres@127.0.0.1:$(cat "$1/port")/postgres"
}

ours() {
	[ -f "$1/$marker" ] ||
	    die "$1 was not made by $prog; refusing to touch it"
}

cmd_start() {
	local dir=$1 bin tries
	bin=$(bindir)
	[ -z "$(ls -A "$dir")" ] ||
	    die "$dir is not empty (stop the old cluster first, or pick a new" \
		"folder with mktemp -d)"
	touch "$dir/$marker"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres: "$dir"
		runuser -u postgres -- test -w "$dir" ||
		    die "user postgres cannot reach $dir: every parent folder" \
			"must be traversable (use mktemp -d under /tmp)"
	fi
	(cd "$dir" && as_owner "$bin/initdb" -D "$dir/data" -U postgres \
	    -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1) ||
	    die "initdb failed; see $dir/initdb.log"
	echo "include 'whiteglove.conf'" >>"$dir/data/postgresql.conf"
	for tries in 1 2 3 4 5; do
		write_conf "$dir" "$(pick_port)"
		if server_start "$dir"; then
			url_of "$dir" | tee "$dir/url"
			return 0
		fi
		# Someone may have taken the port between the check and the bind.
		grep -q "could not bind\|Address already in use" "$dir/log" ||
		    break
		echo "$prog: port $(cat "$dir/port") taken, retrying" >&2
	done
	die "the server did not start; see $dir/log"
}

cmd_stop() {
	local dir=$1
	if [ ! -e "$dir" ]; then
		return 0
	fi
	ours "$dir"
	server_stop "$dir"
	rm -rf -- "$dir"
}

cmd_pause() {
	local dir=$1
	[ -d "$dir" ] || die "no cluster in $dir"
	ours "$dir"
	server_stop "$dir"
}

cmd_resume() {
	local dir=$1
	[ -d "$dir" ] || die "no cluster in $dir"
	ours "$dir"
	if server_running "$dir"; then
		return 0
	fi
	port_busy "$(cat "$dir/port")" &&
	    die "port $(cat "$dir/port") is taken by another program"
	server_start "$dir" || die "the server did not start; see $dir/log"
}

cmd_url() {
	local dir=$1
	ours "$dir"
	url_of "$dir"
}

main() {
	case "${1:-}" in
	-h | --help | help)
		usage
		exit 0
		;;
	start | stop | pause | resume | url) ;;
	*)
		usage >&2
		exit 2
		;;
	esac
	[ $# -eq 2 ] && [ -n "$2" ] || {
		usage >&2
		exit 2
	}
	local dir=$2
	if [ "$1" = start ]; then
		mkdir -p -- "$dir" || die "cannot create $dir"
	fi
	if [ -d "$dir" ]; then
		dir=$(cd -- "$dir" && pwd -P)
	fi
	"cmd_$1" "$dir"
}

main "$@"
