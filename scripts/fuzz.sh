#!/usr/bin/env bash
# Fuzzes the parsers that read outside input (see README "Fuzzing"): each target runs for a
# bounded time under libFuzzer with AddressSanitizer, then a line per target says how many
# inputs it ran, the coverage reached and what it found.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (300)] [TARGET...]
#   targets: sip_message sdp rtp_rfc4733 dialplan_toml console_json (default: all)
# Seeds: fuzz/corpus/<target>/ (committed). The corpus libFuzzer grows: fuzz/work/<target>/.
# Findings: fuzz/artifacts/<target>/ (crash-*, timeout-*, oom-*); logs: fuzz/work/logs/.
# Exit status 1 when a target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sip_message sdp rtp_rfc4733 dialplan_toml console_json)
case $seconds in '' | *[!0-9]*) echo "SECONDS_PER_TARGET must be a number" >&2; exit 2 ;; esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes -Z flags (sanitizer, coverage) that only nightly accepts; the stable
# toolchain accepts them under RUSTC_BOOTSTRAP. Only this script's builds see the variable.
export RUSTC_BOOTSTRAP=1

# Larger inputs where the format needs them (a dialplan file, a SIP exchange), else 4 KiB.
max_len() {
  case $1 in
    sip_message) echo 8192 ;;
    dialplan_toml) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

status=0
summary=()
mkdir -p fuzz/work/logs
for target in "${targets[@]}"; do
  seeds=fuzz/corpus/$target
  [ -d "$seeds" ] || { echo "unknown target $target" >&2; exit 2; }
  mkdir -p "fuzz/work/$target" "fuzz/artifacts/$target"
  log=fuzz/work/logs/$target.log
  before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  echo "== $target: ${seconds}s"
  # One fuzzing process on purpose (no -jobs/-workers): the machine's two cores are shared.
  # New inputs go to the first corpus folder (work), the seeds are only read.
  set +e
  cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/work/$target" "$seeds" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$target")" \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  after=$(find "fuzz/artifacts/$target" -type f | wc -l)
  found=$((after - before))
  [ $rc -eq 0 ] || [ $found -gt 0 ] || found=1 # it stopped on something it did not save
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corpus=$(find "fuzz/work/$target" -type f | wc -l)
  line=$(printf '%-14s %4ss  executions %-9s coverage %-6s features %-7s corpus %-6s findings %s' \
    "$target" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$found")
  echo "$line"
  summary+=("$line")
  if [ $found -gt 0 ]; then
    status=1
    grep -m1 -A3 -E "panicked at|ERROR: (libFuzzer|AddressSanitizer)" "$log" || true
    echo "   see $log and fuzz/artifacts/$target/"
  fi
done
echo
echo "fuzz summary ($(date -u '+%Y-%m-%d %H:%M UTC'))"
printf '%s\n' "${summary[@]}"
exit $status
