#!/usr/bin/env bash
# Times the monthly report over a generated month: `madoguchi seed month` writes BENCH_CALLS
# calls (100,000) of June 2025 into a fresh SQLite database, then `madoguchi report monthly`
# runs BENCH_RUNS times (3) for each format, end to end as a person runs it (process start,
# dialplan, SQL, file written). The target is under 2 s per report. With BENCH_PG_URL set
# (a database URL whose search_path may point at an empty schema), the same on PostgreSQL.
# Usage: scripts/bench_report.sh      (BENCH_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."

calls="${BENCH_CALLS:-100000}"
runs="${BENCH_RUNS:-3}"
bin="${BENCH_BIN:-target/release/madoguchi}"
if [ -z "${BENCH_BIN:-}" ]; then
  cargo build --release --locked --bin madoguchi
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s%N; }
seconds() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }

bench() {
  local label="$1" url="$2" start worst=0 took
  start=$(now)
  "$bin" seed month --month 2025-06 --calls "$calls" --seed 1 --database-url "$url"
  echo "$label: seeding took $(seconds $(( $(now) - start ))) s"
  for format in csv xlsx; do
    for run in $(seq 1 "$runs"); do
      start=$(now)
      "$bin" report monthly --month 2025-06 --format "$format" --out "$work/june.$format" \
        --database-url "$url" >/dev/null
      took=$(( $(now) - start ))
      [ "$took" -gt "$worst" ] && worst=$took
      echo "$label: report monthly --format $format, $calls calls: $(seconds "$took") s" \
        "(run $run, $(stat -c %s "$work/june.$format") bytes)"
    done
  done
  if [ "$worst" -lt 2000000000 ]; then verdict="under"; else verdict="OVER"; fi
  echo "$label: slowest report $(seconds "$worst") s — $verdict the 2 s target"
}

bench sqlite "sqlite://$work/bench.db"
if [ -n "${BENCH_PG_URL:-}" ]; then
  bench postgres "$BENCH_PG_URL"
fi
