#!/usr/bin/env bash
# Short coverage-guided runs of the libFuzzer targets in fuzz/ (see fuzz/Cargo.toml), on the stable toolchain.
#
#   scripts/fuzz.sh install         # builds cargo-fuzz once into a cache reused across runs; prints the binary path
#   scripts/fuzz.sh run [SECONDS]   # builds the targets and runs each for SECONDS (default $VAULT365_FUZZ_SECONDS or 25; 0 skips)
#
# Why this works without nightly: cargo-fuzz only needs nightly for the sanitizers (-Zsanitizer). With
# `--sanitizer none` it passes stable -C flags only (sancov instrumentation for libFuzzer's coverage); a panic is
# still a crash for libFuzzer, which is the property we check (src/lib.rs asserts). RUSTC_BOOTSTRAP=1 is set anyway so
# a cargo-fuzz release that adds an -Z flag keeps working on stable.
#
# The cache is $VAULT365_TOOLS_CACHE (default ~/.cache/vault365-tools), shared with scripts/s3-test-server.sh.
# The targets build into $cache/fuzz-target (their own workspace and flags, kept across runs); crashes land in fuzz/artifacts/<target>/ and
# the corpus grows in fuzz/target/corpus/<target>/ (the seeds in fuzz/corpus/ are committed). The same properties also run deterministically in
# `cargo test -p api --test suite security::`.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
cache=${VAULT365_TOOLS_CACHE:-$HOME/.cache/vault365-tools}
root="$cache/cargo-fuzz-$CARGO_FUZZ_VERSION"
bin="$root/bin/cargo-fuzz"
TARGETS=(action_body zip_names)

die() {
  echo "fuzz: $*" >&2
  exit 1
}

install() {
  if [ -x "$bin" ]; then
    echo "$bin"
    return 0
  fi
  echo "fuzz: building cargo-fuzz $CARGO_FUZZ_VERSION into $root (once; reused by later runs)" >&2
  mkdir -p "$cache"
  CARGO_TARGET_DIR="$cache/build-cargo-fuzz" cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked \
    --root "$root" >&2 || die "cargo install cargo-fuzz failed"
  rm -rf "$cache/build-cargo-fuzz"
  [ -x "$bin" ] || die "cargo-fuzz built but $bin is missing"
  echo "$bin"
}

run() {
  local seconds=${1:-${VAULT365_FUZZ_SECONDS:-25}}
  if [ "$seconds" = 0 ]; then
    echo "fuzz: skipped (0 seconds)"
    return 0
  fi
  local fuzz
  fuzz=$(install)
  export RUSTC_BOOTSTRAP=1
  # cargo-fuzz is run as a cargo subcommand: put it on PATH.
  export PATH="$(dirname "$fuzz"):$PATH"
  # The instrumented build is kept in the cache, so later runs (and CI on the same machine) only rebuild what
  # changed; 16 codegen units build much faster than cargo-fuzz's default of 1 and fuzz nearly as fast.
  local opts=(--sanitizer none --codegen-units 16 --target-dir "$cache/fuzz-target")
  # VAULT365_FUZZ_PROFILE=dev (what scripts/test.sh uses): an unoptimised build, twice as quick to build on a fresh
  # machine and still tens of thousands of runs in a short run; the default optimised build fuzzes ~15x faster.
  if [ "${VAULT365_FUZZ_PROFILE:-release}" = dev ]; then
    opts+=(--dev)
  fi
  (cd fuzz && cargo fuzz build "${opts[@]}") || die "building the fuzz targets failed"
  for t in "${TARGETS[@]}"; do
    echo "== fuzz $t (${seconds}s)"
    # New inputs go to the scratch corpus (first directory, not committed); the committed seeds are read only.
    mkdir -p "fuzz/target/corpus/$t"
    # -max_len keeps inputs request-sized; a crash exits non-zero with the input saved under fuzz/artifacts/.
    # libFuzzer reports every new coverage unit on stderr: keep that in a log, show the summary (or, on failure,
    # the end of the log with the crash).
    local log="fuzz/target/$t.log"
    if (cd fuzz && cargo fuzz run "${opts[@]}" "$t" "target/corpus/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1) >"$log" 2>&1; then
      grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" || true
    else
      tail -n 80 "$log" >&2
      die "target $t found a failing input (see fuzz/artifacts/$t/ and $log)"
    fi
  done
}

case "${1:-run}" in
  install) install ;;
  run) shift || true; run "$@" ;;
  *) die "usage: $0 install | run [SECONDS]" ;;
esac
