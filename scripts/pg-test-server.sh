#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, on 127.0.0.1 only.
#
#   scripts/pg-test-server.sh start DIR   # creates a cluster in DIR (empty or missing), starts it on a free loopback
#                                         # port and prints its URL: postgres://vault365@127.0.0.1:PORT
#   scripts/pg-test-server.sh stop DIR    # stops the server of DIR (no error if none runs) and removes DIR
#   scripts/pg-test-server.sh install     # only makes sure PostgreSQL's server programs are installed
#
# Idempotent: `start` on a DIR whose server already runs prints the same URL again; PostgreSQL is installed with
# apt-get when no initdb is found. initdb refuses to run as root, so as root the cluster belongs to the `postgres`
# system user (created by the Debian package). Authentication is `trust`: the server listens on loopback only and
# lives as long as one test run.
set -euo pipefail

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

ensure_installed() {
  if find_bindir >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  echo "pg-test-server: installing postgresql" >&2
  # Without this the package would create and start a "main" cluster on port 5432 that nobody uses.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/vault365-no-main.conf
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  find_bindir >/dev/null || die "postgresql installed but no initdb found"
}

# Runs a PostgreSQL program as the cluster owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  ensure_installed
  local bin
  bin=$(find_bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local data="$dir/data" port_file="$dir/port"
  if [ -f "$port_file" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "postgres://vault365@127.0.0.1:$(cat "$port_file")"
    return 0
  fi
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user to own the cluster (is the postgresql package installed?)"
    chown postgres: "$dir"
    chmod 0755 "$dir"
    runuser -u postgres -- test -w "$dir" ||
      die "user postgres cannot reach $dir: a parent directory is private (mktemp -d makes 0700 directories)"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$data" -U vault365 --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      die "initdb failed: $(cat "$dir/initdb.log")"
  fi
  # A port picked free can be taken before the server binds it: retry a few times with another one.
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "$port" >"$port_file"
      echo "postgres://vault365@127.0.0.1:$port"
      return 0
    fi
  done
  die "the server did not start: $(tail -n 20 "$dir/server.log" 2>/dev/null)"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  local bin
  if bin=$(find_bindir) && [ -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
install) [ $# = 1 ] || die "usage: $0 install"; ensure_installed ;;
start) [ $# = 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# = 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 install | start DIR | stop DIR" ;;
esac
