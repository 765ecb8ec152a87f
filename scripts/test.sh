#!/usr/bin/env bash
# The project's test command: the Python environment of the conformance probes, test PostgreSQL and S3 servers,
# formatting, lints, and every test of the workspace (the msgraph-sdk acceptance test needs the venv and fails without it).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
requirements=tests/python/requirements.txt
if [ ! -x "$venv/bin/python" ]; then
  echo "== creating $venv"
  python3 -m venv "$venv"
fi
# Reinstall only when the pinned requirements change (or the install is broken).
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] || ! "$venv/bin/python" -c 'import msgraph' 2>/dev/null; then
  echo "== installing $requirements"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi
export VAULT365_PYTHON="${VAULT365_PYTHON:-$PWD/$venv/bin/python}"

# Throwaway PostgreSQL and S3-compatible servers on loopback for the scale-out tests (catalog on PostgreSQL, content
# store on S3): the tests read these variables and FAIL when a server is set but unreachable. Both stop on exit.
servers=$(mktemp -d "${TMPDIR:-/tmp}/vault365-test-servers.XXXXXX")
chmod 0755 "$servers" # PostgreSQL runs as user postgres when we are root: it must reach its cluster inside
stop_servers() {
  scripts/pg-test-server.sh stop "$servers/pg" || true
  scripts/s3-test-server.sh stop "$servers/s3" || true
  rm -rf "$servers"
}
trap stop_servers EXIT
echo "== test servers (PostgreSQL, S3)"
VAULT365_TEST_POSTGRES=$(scripts/pg-test-server.sh start "$servers/pg")
VAULT365_TEST_S3=$(scripts/s3-test-server.sh start "$servers/s3")
export VAULT365_TEST_POSTGRES VAULT365_TEST_S3
echo "PostgreSQL at ${VAULT365_TEST_POSTGRES}; S3 at ${VAULT365_TEST_S3%%:*}://…@${VAULT365_TEST_S3#*@}"

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
# With VAULT365_TEST_POSTGRES set the catalog suite runs on PostgreSQL; it runs on SQLite (the default backend) too.
env -u VAULT365_TEST_POSTGRES cargo test -p repo --test suite catalog::
cargo test --workspace
# Short coverage-guided fuzz runs of fuzz/ (libFuzzer through cargo-fuzz on stable, `--sanitizer none`); the same
# properties also ran above, deterministically, in `cargo test -p api --test suite security::`.
echo "== fuzz"
VAULT365_FUZZ_PROFILE=${VAULT365_FUZZ_PROFILE:-dev} scripts/fuzz.sh run "${VAULT365_FUZZ_SECONDS:-25}"
