#!/usr/bin/env bash
# A throwaway S3-compatible server for tests (s3s-fs from crates.io), on 127.0.0.1 only.
#
#   scripts/s3-test-server.sh install     # builds s3s-fs once into a cache reused across runs; prints the binary path
#   scripts/s3-test-server.sh start DIR   # serves DIR/root on a free loopback port, creates the bucket, prints
#                                         # the test URL: s3+http://KEY:SECRET@127.0.0.1:PORT/vault365-test
#   scripts/s3-test-server.sh stop DIR    # stops the server of DIR (no error if none runs) and removes DIR
#
# The cache is $VAULT365_TOOLS_CACHE (default ~/.cache/vault365-tools). s3s-fs is pinned to a version whose
# rust-version this toolchain meets (0.15+ need Rust 1.96). Keys are fixed test values: the server listens on loopback
# only and lives as long as one test run.
set -euo pipefail

S3S_VERSION=0.14.1
ACCESS_KEY=vault365
SECRET_KEY=vault365-test-secret
BUCKET=vault365-test
cache=${VAULT365_TOOLS_CACHE:-$HOME/.cache/vault365-tools}
root="$cache/s3s-fs-$S3S_VERSION"
bin="$root/bin/s3s-fs"

die() {
  echo "s3-test-server: $*" >&2
  exit 1
}

install() {
  if [ -x "$bin" ]; then
    echo "$bin"
    return 0
  fi
  echo "s3-test-server: building s3s-fs $S3S_VERSION into $root (once; reused by later runs)" >&2
  mkdir -p "$cache"
  # A target dir of its own so the build neither touches nor waits on the workspace's target/.
  CARGO_TARGET_DIR="$cache/build" cargo install s3s-fs --version "$S3S_VERSION" --features binary --locked \
    --root "$root" >&2 || die "cargo install s3s-fs failed"
  rm -rf "$cache/build"
  [ -x "$bin" ] || die "s3s-fs built but $bin is missing"
  echo "$bin"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Whether the server answers on PORT (any HTTP answer counts; unauthenticated requests get 403).
answers() {
  python3 - "$1" <<'EOF'
import sys, http.client
try:
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=1)
    c.request("GET", "/")
    c.getresponse()
except Exception:
    sys.exit(1)
EOF
}

url() {
  echo "s3+http://$ACCESS_KEY:$SECRET_KEY@127.0.0.1:$1/$BUCKET"
}

start() {
  local dir=$1
  install >/dev/null
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/port" ] && [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    url "$(cat "$dir/port")"
    return 0
  fi
  # s3s-fs serves each top-level directory of its root as a bucket.
  mkdir -p "$dir/root/$BUCKET"
  local attempt port pid i
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # setsid: the server must not hold the caller's stdout open (the caller reads our output until EOF).
    setsid "$bin" --host 127.0.0.1 --port "$port" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
      "$dir/root" </dev/null >"$dir/server.log" 2>&1 &
    pid=$!
    for i in $(seq 1 100); do
      if answers "$port"; then
        echo "$pid" >"$dir/pid"
        echo "$port" >"$dir/port"
        url "$port"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
  done
  die "s3s-fs did not start: $(tail -n 20 "$dir/server.log" 2>/dev/null)"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pid" ]; then
    kill "$(cat "$dir/pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
install) [ $# = 1 ] || die "usage: $0 install"; install ;;
start) [ $# = 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# = 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 install | start DIR | stop DIR" ;;
esac
