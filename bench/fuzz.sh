#!/usr/bin/env bash
# Fuzzes frase's input parsers (fuzz/fuzz_targets/parsers.rs: words, names, room codes and
# titles, settings JSON) with cargo fuzz for a fixed time and prints how many inputs it ran.
# A benchmark-style check, not part of CI: it fails only when the fuzzer finds a crash, and then
# names the input that caused it (in fuzz/artifacts/).
#
#   bench/fuzz.sh [SECONDS]      default 60
#
# cargo-fuzz is installed from crates.io when missing. libFuzzer needs nightly flags, so the
# stable compiler is told to accept them (RUSTC_BOOTSTRAP=1); no sanitizer is used, since
# Debian's Rust ships no sanitizer runtimes (Rust's own bounds checks and the targets' assertions
# do the checking).

set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[ -f .toolchain.env ] || scripts/bootstrap.sh
. ./.toolchain.env

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz (once)" >&2
  cargo install cargo-fuzz --locked >&2
fi

echo "==> building the fuzz target (release, with coverage instrumentation)" >&2
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none parsers >&2

echo "==> fuzzing for ${seconds} s" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p fuzz/corpus/parsers
status=0
cargo fuzz run --sanitizer none parsers -- -max_total_time="$seconds" -print_final_stats=1 \
  >"$log" 2>&1 || status=$?
runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n1 || true)
execs_per_sec=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || true)
corpus=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n1 || true)
if [ "$status" -ne 0 ]; then
  tail -n 40 "$log" >&2
  echo "fuzz: a crash was found (see above and fuzz/artifacts/parsers/)" >&2
  exit "$status"
fi
echo "fuzz parsers: ${runs:-? runs}s, ${execs_per_sec:-?} execs/s, ${corpus:-corpus ?}, no crash"
