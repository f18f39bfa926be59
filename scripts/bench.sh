#!/usr/bin/env bash
# Benchmark on the release build (not a test: these machines are shared and noisy).
#  1. short calls per second: sipp places 1-second calls for BENCH_SECONDS at each rate in
#     BENCH_RATES; a rate passes when sipp reports zero failed calls.
#  2. simultaneous announcement calls: sipp holds BENCH_CALLS calls for BENCH_HOLD seconds;
#     once all are up, dumpcap records 10 s of the first 200 streams on the loopback interface
#     and scripts/rtp_gaps.py gives each stream's inter-packet gaps (target: p99 within
#     20 ± 5 ms); the engine's resident memory at the plateau gives the memory per call.
# Results go to bench-out/ and a summary to stdout. Everything runs on 127.0.0.1 and stops by itself.
# Usage: scripts/bench.sh            (env: BENCH_RATES="300 500 700" BENCH_SECONDS=60
#                                          BENCH_CALLS="1000 2000" BENCH_HOLD=25)
set -uo pipefail
cd "$(dirname "$0")/.."
rates=${BENCH_RATES:-"300 500 700"}
seconds=${BENCH_SECONDS:-60}
concurrency=${BENCH_CALLS:-"1000 2000"}
hold=${BENCH_HOLD:-25}
out=bench-out
mkdir -p "$out"

command -v sipp >/dev/null || { apt-get update -qq && apt-get install -y -qq sip-tester >/dev/null; }
cargo build --release --bins --locked || exit 1
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run=0
start_engine() {
  run=$((run + 1))
  rm -f "$out"/bench-*.db*
  target/release/madoguchi serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --database-url "sqlite://$out/bench-$run.db" --dialplan dialplans/examples/bench.toml \
    --rtp-ports 20000-59999 --sip-trusted-networks 127.0.0.1 >"$out/engine.out" 2>"$out/engine.log" &
  pid=$!
  for _ in $(seq 300); do
    grep -q "madoguchi ready" "$out/engine.out" 2>/dev/null && break
    sleep 0.1
  done
  sip=$(sed -n 's/.*sip=\([^ ]*\).*/\1/p' "$out/engine.out")
  http=$(sed -n 's/.*http=\([^ ]*\).*/\1/p' "$out/engine.out")
  [ -n "$sip" ] || { echo "engine did not start"; cat "$out/engine.log"; exit 1; }
}
stop_engine() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "engine exit $? after SIGTERM" >>"$out/engine.exits"
}
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
records() { curl -s "http://$http/api/v1/calls?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' 2>/dev/null; }

echo "== short calls per second (${seconds} s each, 1 s calls, sipp over UDP)"
best=0
for rate in $rates; do
  start_engine
  dir=$(mktemp -d)
  (cd "$dir" && timeout $((seconds + 120)) sipp "$sip" -sf "$OLDPWD/tests/sipp/bench_call.xml" \
      -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -r "$rate" -m $((rate * seconds)) \
      -l $((rate * 5)) -d 1000 -nostdin -timeout $((seconds + 90))s -trace_screen >/dev/null 2>&1)
  code=$?
  screen=$(ls "$dir"/*_screen.log 2>/dev/null | head -1)
  ok=$(awk -F'|' '/Successful call/{gsub(/ /,"",$3); print $3}' "$screen" 2>/dev/null)
  failed=$(awk -F'|' '/Failed call/{gsub(/ /,"",$3); print $3}' "$screen" 2>/dev/null)
  cp "$screen" "$out/sipp_${rate}cps_screen.log" 2>/dev/null
  sleep 2
  stored=$(records)
  stop_engine
  echo "rate=${rate}/s calls=$((rate * seconds)) successful=${ok:-?} failed=${failed:-?} sipp_exit=$code records=${stored:-?}"
  if [ "$code" = 0 ] && [ "${failed:-1}" = 0 ]; then best=$rate; fi
  rm -rf "$dir"
done
echo "sustained: ${best} calls/s with zero failed calls"

echo "== simultaneous announcement calls (sipp holds each call >= ${hold} s; RTP gaps from a capture)"
command -v dumpcap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }
for calls in $concurrency; do
  start_engine
  sleep 1
  idle=$(rss_kib)
  ramp=$(( calls / 200 ))
  # Every call must still be up when the 10 s sample ends.
  hold_run=$(( hold > ramp + 15 ? hold : ramp + 15 ))
  dir=$(mktemp -d)
  (cd "$dir" && timeout $((ramp + hold_run + 90)) sipp "$sip" -sf "$OLDPWD/tests/sipp/bench_call.xml" \
      -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -r 200 -m "$calls" -l $((calls + 100)) \
      -d $((hold_run * 1000)) -nostdin -timeout $((ramp + hold_run + 60))s -trace_screen >/dev/null 2>&1) &
  load=$!
  # All calls are up once the ramp is over; sample the plateau: the first 200 streams' ports
  # (ports are handed out in order), 10 s, kernel timestamps.
  sleep $(( ramp + 2 ))
  peak=$(rss_kib)
  dumpcap -q -P -B 64 -i lo -f "udp src portrange 20000-20399" -s 64 -w "$out/rtp_${calls}.pcap" -a duration:10 2>/dev/null
  now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
  wait "$load"
  code=$?
  screen=$(ls "$dir"/*_screen.log 2>/dev/null | head -1)
  failed=$(awk -F'|' '/Failed call/{gsub(/ /,"",$3); print $3}' "$screen" 2>/dev/null)
  stop_engine
  per_call=$(( (peak - idle) / calls ))
  echo "calls=$calls failed=${failed:-?} sipp_exit=$code engine_rss_idle_kib=$idle engine_rss_plateau_kib=$peak per_call_kib=$per_call $(python3 scripts/rtp_gaps.py "$out/rtp_${calls}.pcap")"
  rm -rf "$dir" "$out/rtp_${calls}.pcap"
done
