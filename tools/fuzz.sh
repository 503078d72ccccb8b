#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer, nightly Rust) for SECONDS each (default 60), from a
# scratch copy of its seed corpus (fuzz/corpus/<target>, made by tools/fuzz/make_corpus.py; the committed
# corpora are not changed), with peak RSS capped at 1 GiB (libFuzzer reports going past it as a crash) and
# inputs up to 64 KiB (so that no input can declare, within gzip's 1100:1, more than 72 MB of valid data).
# Prints one line per target: executions, coverage (edges, features), peak RSS; exits non-zero on any crash,
# leaving the crashing input in fuzz/artifacts/<target>/. Usage: tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
secs=${1:-60}
shift || true
cd "$(dirname "$0")/.."
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "SKIPPED fuzzing: no nightly Rust toolchain (cargo-fuzz needs one: rustup toolchain install nightly)"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
cd fuzz
cargo +nightly fuzz build --sanitizer none
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
printf '%-18s %12s %8s %8s %12s %s\n' target executions edges features "peak RSS MB" result
failed=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "corpus/$t/." "$work/" 2>/dev/null || true
  log=$(mktemp)
  if cargo +nightly fuzz run --sanitizer none "$t" "$work" -- -max_total_time="$secs" -rss_limit_mb=1024 -malloc_limit_mb=1024 \
      -max_len=65536 -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see fuzz/artifacts/$t and $log)"
    failed=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  printf '%-18s %12s %8s %8s %12s %s\n' "$t" "${execs:-?}" "$(echo "$cov" | awk '{print $2}')" "$(echo "$cov" | awk '{print $4}')" "${rss:-?}" "$result"
  rm -rf "$work"
  [ "$result" = ok ] && rm -f "$log"
done
exit $failed
