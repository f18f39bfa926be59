#!/usr/bin/env bash
# Queue benchmark on the release build (issue 3, item 9). Not a test: machines are shared and
# noisy, so the figures come with the load average they were taken under.
#  1. waiting: BENCH_WAITING callers (sipp, bench_call.xml) queue with no operator logged in
#     (dialplans/examples/bench_queue.toml: join_empty, hold music, position/wait announcement
#     every 10 s) and hold >= BENCH_WAIT_HOLD s. On the plateau dumpcap records
#     BENCH_CAPTURE_S (10) s of the first 200 streams on lo; scripts/rtp_gaps.py gives each
#     stream's p99 inter-packet gap (target 20 ± 5 ms). Engine RSS per waiting caller; every
#     call must end with a record.
#  2. bridged: BENCH_BRIDGED operators (users made with `madoguchi user add`, in parallel) all
#     register from one sipp on port P (register_from_csv.xml); a sipp UAS on P answers their
#     calls and echoes the audio (operator_answer.xml, -rtp_echo). As many callers send PCMU
#     (bench_caller_talks.xml; the audio, numbered frames, from rtp_talkers.py) and hold >=
#     BENCH_TALK_HOLD s. Once GET /api/v1/queues shows every operator on a call, dumpcap records
#     the first 200 calls' legs; scripts/bridge_rtp.py gives the gaps of the relayed
#     packets towards callers and operators and the latency the relay adds (same frame in,
#     same frame out). Every call must be recorded as answered.
# The load tools share the cores with the engine: what each used during the captures is
# printed (scripts/cpu_share.py) with the load average; BENCH_TOOLS_NICE=N runs them niced.
# Also printed per capture: how often the engine's media clock woke late (>5 ms, >20 ms) and
# whether dumpcap dropped packets. BENCH_MEDIA_THREADS=N sets the engine's media threads.
# Everything runs on 127.0.0.1 and stops by itself; results in bench-out/queue/.
# Usage: scripts/bench_queue.sh       (env: BENCH_WAITING=1000 BENCH_BRIDGED=500
#                                      BENCH_WAIT_HOLD=30 BENCH_TALK_HOLD=40 BENCH_SKIP_BUILD=)
#        BENCH_WAITING=100 BENCH_BRIDGED=50 scripts/bench_queue.sh    (a quick run)
#        BENCH_WAITING=0 skips part 1, BENCH_BRIDGED=0 part 2; BENCH_BIN=PATH another build.
set -uo pipefail
cd "$(dirname "$0")/.."
waiting=${BENCH_WAITING:-1000}
bridged=${BENCH_BRIDGED:-500}
wait_hold=${BENCH_WAIT_HOLD:-30}
talk_hold=${BENCH_TALK_HOLD:-40}
tools_nice=${BENCH_TOOLS_NICE:-0}
media_threads=${BENCH_MEDIA_THREADS:-1}
# Seconds of each capture (the holds grow with it).
capture_s=${BENCH_CAPTURE_S:-10}
# Streams sampled per side; ports are handed out in order from the bottom of the range.
sampled=200
rtp_low=20000
rtp_high=29999
root=$PWD
out=$root/bench-out/queue
mkdir -p "$out"
rm -f "$out"/*.db* "$out"/engine* "$out"/*_errors.log "$out"/log_problems-* "$out"/*_sip.log "$out"/*.pcap "$out"/summary.txt

need() { command -v "$1" >/dev/null; }
need sipp || { apt-get update -qq && apt-get install -y -qq sip-tester >/dev/null; }
need dumpcap || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }
for tool in sipp dumpcap python3 curl; do need "$tool" || { echo "missing: $tool"; exit 1; }; done
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then cargo build --release --bins --locked || exit 1; fi
bin=${BENCH_BIN:-$root/target/release/madoguchi}
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
rtp_counters() { curl -s --max-time 5 "http://$http/metrics" | awk '/^madoguchi_rtp_[a-z_]+_total/ {sub(/^madoguchi_rtp_/, ""); sub(/_total/, ""); printf "%s=%s ", $1, $2}'; }
# The media clock's late wake-ups so far: "over_5ms over_20ms".
late_ticks() { curl -s --max-time 5 "http://$http/metrics" | awk '/^madoguchi_rtp_ticks_late_total/ {l=$2} /^madoguchi_rtp_ticks_over_a_frame_late_total/ {f=$2} END {printf "%d %d", l, f}'; }
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
json() { curl -s --max-time 5 "http://$http$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>/dev/null; }
waiting_now() { json /api/v1/queues 'sum(len(q["waiting"]) for q in d["queues"])'; }
on_call_now() { json /api/v1/queues 'sum(1 for o in d["operators"] if o.get("state") == "on_call")'; }
logged_in_now() { json /api/v1/queues 'max([q["operators_logged_in"] for q in d["queues"]] or [0])'; }
sipp_field() { awk -F'|' -v k="$2" '$0 ~ k {gsub(/ /,"",$3); v=$3} END {print v}' "$1" 2>/dev/null; }
plain_log() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
# Calls recorded per disposition, from the database once the engine has exited.
dispositions() {
  python3 - "$1" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT disposition, count(*) FROM calls GROUP BY disposition ORDER BY 1").fetchall()
print(" ".join(f"{d}={n}" for d, n in rows) or "none")
PY
}
log_problems() {
  local errors warns
  errors=$(plain_log "$1" | grep -c ' ERROR ')
  # The bench dialplan has no city line; that start-up warning is expected.
  warns=$(plain_log "$1" | grep ' WARN ' | grep -vc 'no city line configured')
  echo "log_errors=$errors log_warnings=$warns (bench-out/queue/log_problems-$run.txt)"
  plain_log "$1" | grep -E ' (ERROR|WARN) ' | grep -v 'no city line configured' \
    | sed -E 's/^[^ ]+ +//' | sort | uniq -c | sort -rn | head -20 >"$out/log_problems-$run.txt"
}

run=0
pid=
# An engine left running would hold its ports and database.
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' EXIT
start_engine() { # DATABASE
  run=$((run + 1))
  log=$out/engine-$run.log
  stdout=$out/engine-$run.out
  rm -f "$stdout"
  MADOGUCHI_MEDIA_THREADS=$media_threads "$bin" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --database-url "sqlite://$1" --dialplan dialplans/examples/bench_queue.toml \
    --rtp-ports "$rtp_low-$rtp_high" --sip-digest MD5,SHA-256 >"$stdout" 2>"$log" &
  pid=$!
  for _ in $(seq 300); do
    grep -q "madoguchi ready" "$stdout" 2>/dev/null && break
    sleep 0.1
  done
  sip=$(sed -n 's/.*sip=\([^ ]*\).*/\1/p' "$stdout")
  http=$(sed -n 's/.*http=\([^ ]*\).*/\1/p' "$stdout")
  [ -n "$sip" ] || { echo "engine did not start"; cat "$log"; exit 1; }
}
stop_engine() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  engine_exit=$?
}
# Captures capture_s seconds of UDP on lo matching FILTER into FILE, with kernel timestamps.
# Meanwhile, who used the CPU (the other users of these cores included): $cpu.
# And how often the engine's media clock woke late meanwhile: $late.
capture() {
  local before after
  read -r -a before <<<"$(late_ticks)"
  python3 scripts/cpu_share.py $((capture_s - 1)) >"$out/cpu.txt" &
  # Not -q: the end of its report says whether the capture itself dropped packets.
  nice -n "$tools_nice" dumpcap -P -B 128 -i lo -f "$1" -s 64 -w "$2" -a duration:"$capture_s" 2>"$out/dumpcap.err"
  wait $!
  cpu=$(cat "$out/cpu.txt")
  read -r -a after <<<"$(late_ticks)"
  late="media clock late >5ms: $(( ${after[0]:-0} - ${before[0]:-0} )) ticks, >20ms: $(( ${after[1]:-0} - ${before[1]:-0} )) ticks (of $((capture_s * 50))); capture: $(grep -o 'Packets received/dropped.*' "$out/dumpcap.err" | tail -1)"
}
summary() { echo "$*" | tee -a "$out/summary.txt"; }

summary "# queue benchmark $(date -u +%FT%TZ), $(nproc) cores, release build; load before: $(load)"

if [ "$waiting" -gt 0 ]; then
  echo "== 1. $waiting callers waiting in the queue, no operator logged in"
  db=$out/waiting.db
  start_engine "$db"
  sleep 1
  idle=$(rss_kib)
  rate=200
  ramp=$(( (waiting + rate - 1) / rate ))
  # Every call must still be up when the sample ends.
  hold=$(( wait_hold > ramp + capture_s + 6 ? wait_hold : ramp + capture_s + 6 ))
  dir=$(mktemp -d)
  (cd "$dir" && timeout $((ramp + hold + 120)) nice -n "$tools_nice" sipp "$sip" -sf "$root/tests/sipp/bench_call.xml" \
      -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -r "$rate" -m "$waiting" -l $((waiting + 100)) \
      -d $((hold * 1000)) -nostdin -timeout $((ramp + hold + 90))s -trace_screen -trace_err >/dev/null 2>&1) &
  callers=$!
  sleep $((ramp + 2))
  queued=$(waiting_now)
  peak=$(rss_kib)
  load_at=$(load)
  # Caller legs take ports rtp_low, rtp_low+2, ... in arrival order: the first 200 callers.
  capture "udp src portrange $rtp_low-$((rtp_low + 2 * sampled - 1))" "$out/waiting.pcap"
  now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
  wait "$callers"; sipp_exit=$?
  screen=$(ls "$dir"/*_screen.log 2>/dev/null | head -1)
  ok=$(sipp_field "$screen" "Successful call"); failed=$(sipp_field "$screen" "Failed call")
  cp "$screen" "$out/waiting_sipp_screen.log" 2>/dev/null
  cp "$dir"/*_errors.log "$out/" 2>/dev/null
  sleep 2
  left=$(waiting_now)
  counters=$(rtp_counters)
  stop_engine
  gaps=$(python3 scripts/rtp_gaps.py "$out/waiting.pcap")
  summary "waiting: callers=$waiting queued_on_plateau=${queued:-?} successful=${ok:-?} failed=${failed:-?} sipp_exit=$sipp_exit still_waiting_after=${left:-?} engine_exit=$engine_exit"
  summary "waiting: records $(dispositions "$db") $(log_problems "$log")"
  summary "waiting: engine rtp counters: ${counters:-none}"
  summary "waiting: rss_idle_kib=$idle rss_plateau_kib=$peak per_waiting_caller_kib=$(( (peak - idle) / waiting )) load_at_capture=$load_at"
  summary "waiting: gaps $gaps"
  summary "waiting: during capture $cpu"
  summary "waiting: during capture $late"
  rm -rf "$dir"
fi

if [ "$bridged" -gt 0 ]; then
  echo "== 2. $bridged bridged caller<->operator calls (sipp on both sides)"
  db=$out/bridged.db
  rm -f "$db"*
  users=$out/operators.csv
  echo SEQUENTIAL >"$users"
  for i in $(seq -f '%04g' 1 "$bridged"); do
    echo "op$i;[authentication username=op$i password=pw-op$i-secret]" >>"$users"
  done
  # The first one migrates the database; the rest in parallel (SQLite may be busy: retried).
  add_user() {
    for _ in 1 2 3 4 5; do
      printf '%s\n' "pw-$1-secret" | "$bin" user add --login "$1" --role agent --password-stdin --sip \
        --database-url "sqlite://$db" >/dev/null 2>>"$out/user_add.err" && return 0
      sleep 0.2
    done
    echo "user add $1 failed" >&2; return 1
  }
  export -f add_user; export bin db out
  started=$(date +%s.%N)
  add_user op0001
  seq -f 'op%04g' 2 "$bridged" | xargs -P 4 -I{} bash -c 'add_user {}'
  users_s=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  start_engine "$db"
  sleep 1
  idle=$(rss_kib)
  phones=$(free_port); phones_media=$(free_port)
  dir=$(mktemp -d)
  (cd "$dir" && timeout 120 sipp "$sip" -sf "$root/tests/sipp/register_from_csv.xml" -inf "$users" \
      -i 127.0.0.1 -p "$phones" -mp "$(free_port)" -r 100 -m "$bridged" -l 200 -nostdin -timeout 100s \
      -trace_screen -trace_err >/dev/null 2>&1)
  reg_exit=$?
  reg_ok=$(sipp_field "$(ls "$dir"/*_screen.log | head -1)" "Successful call")
  # The live state is published a little after the change.
  for _ in $(seq 50); do
    logged_in=$(logged_in_now); [ "${logged_in:-0}" -ge "$bridged" ] && break
    sleep 0.2
  done
  echo "registered ${reg_ok:-?}/$bridged (sipp exit $reg_exit), logged in: ${logged_in:-?}"
  rate=100
  ramp=$(( (bridged + rate - 1) / rate ))
  # Every call must still be up when the sample ends, however long bridging takes.
  hold=$(( talk_hold > ramp + capture_s + 20 ? talk_hold : ramp + capture_s + 20 ))
  # The phones: one UAS on the port every REGISTER came from, echoing each call's audio.
  (cd "$dir" && timeout $((ramp + hold + 240)) nice -n "$tools_nice" sipp -sf "$root/tests/sipp/operator_answer.xml" \
      -i 127.0.0.1 -p "$phones" -mp "$phones_media" -rtp_echo -m "$bridged" -nostdin \
      -timeout $((ramp + hold + 200))s -trace_screen -trace_err \
      -trace_msg -message_file "$out/operators_sip.log" >/dev/null 2>&1) &
  operators=$!
  cdir=$(mktemp -d)
  callers_media=$(free_port)
  nice -n "$tools_nice" python3 scripts/rtp_talkers.py "$callers_media" "$bridged" $((ramp + hold + 30)) &
  talkers=$!
  sleep 1
  (cd "$cdir" && timeout $((ramp + hold + 180)) nice -n "$tools_nice" sipp "$sip" -sf "$root/tests/sipp/bench_caller_talks.xml" \
      -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -key talker_port "$callers_media" \
      -r "$rate" -m "$bridged" -l $((bridged + 100)) \
      -d $((hold * 1000)) -nostdin -timeout $((ramp + hold + 150))s -trace_screen -trace_err \
      -trace_msg -message_file "$out/callers_sip.log" >/dev/null 2>&1) &
  callers=$!
  t0=$(date +%s.%N)
  on_call=0
  for _ in $(seq $((ramp * 5 + 100))); do
    on_call=$(on_call_now); [ "${on_call:-0}" -ge "$bridged" ] && break
    sleep 0.2
  done
  all_bridged_s=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
  peak=$(rss_kib)
  load_at=$(load)
  # Legs take ports in order (caller, then its operator): the first 200 calls' legs.
  capture "udp portrange $rtp_low-$((rtp_low + 4 * sampled - 1))" "$out/bridged.pcap"
  on_call_after=$(on_call_now)
  now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
  wait "$callers"; callers_exit=$?
  wait "$operators"; operators_exit=$?
  screen=$(ls "$cdir"/*_screen.log 2>/dev/null | head -1)
  ok=$(sipp_field "$screen" "Successful call"); failed=$(sipp_field "$screen" "Failed call")
  op_ok=$(sipp_field "$(ls -t "$dir"/*_screen.log | head -1)" "Successful call")
  cp "$screen" "$out/bridged_callers_screen.log" 2>/dev/null
  cp "$dir"/*_errors.log "$cdir"/*_errors.log "$out/" 2>/dev/null
  sleep 2
  counters=$(rtp_counters)
  stop_engine
  relay=$(python3 scripts/bridge_rtp.py "$out/bridged.pcap" "$callers_media" "$phones_media" \
    "$out/callers_sip.log" "$out/operators_sip.log")
  summary "bridged: operators=$bridged users_added_in_s=$users_s (parallel user add) registered=${reg_ok:-?} logged_in=${logged_in:-?} register_sipp_exit=$reg_exit"
  summary "bridged: on_call=${on_call:-?} (all after ${all_bridged_s}s) on_call_after_capture=${on_call_after:-?} callers_ok=${ok:-?} callers_failed=${failed:-?} callers_sipp_exit=$callers_exit operator_calls_ok=${op_ok:-?} operators_sipp_exit=$operators_exit engine_exit=$engine_exit"
  summary "bridged: records $(dispositions "$db") $(log_problems "$log")"
  summary "bridged: engine rtp counters: ${counters:-none}"
  summary "bridged: rss_idle_kib=$idle rss_plateau_kib=$peak per_bridged_call_kib=$(( (peak - idle) / bridged )) load_at_capture=$load_at"
  while read -r line; do summary "bridged: $line"; done <<<"$relay"
  summary "bridged: during capture $cpu"
  summary "bridged: during capture $late"
  kill "$talkers" 2>/dev/null
  rm -rf "$dir" "$cdir"
fi

summary "load after: $(load)"
echo
echo "== summary (bench-out/queue/summary.txt)"
python3 - "$out/summary.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def get(pattern):
    m = re.search(pattern, text)
    return m.group(1) if m else "-"
rows = [
    ("waiting callers queued on the plateau", get(r"queued_on_plateau=(\S+)")),
    ("waiting: p99 gap of hold audio, ms (20 ± 5)", get(r"waiting: gaps .*?p99=(\S+)")),
    ("waiting: streams with own p99 outside 15-25 ms", get(r"waiting: gaps .*?outside_15_25ms=(\S+)")),
    ("waiting: engine RSS per waiting caller, KiB", get(r"per_waiting_caller_kib=(\S+)")),
    ("waiting: load average at capture", get(r"waiting: rss.*load_at_capture=(.*)")),
    ("bridged calls on the plateau", get(r"bridged: on_call=(\S+)")),
    ("bridged: p99 gap towards callers, ms (20 ± 5)", get(r"gaps_to_callers: .*?p99=(\S+)")),
    ("bridged: p99 gap towards operators, ms (20 ± 5)", get(r"gaps_to_operators: .*?p99=(\S+)")),
    ("bridged: p99 gap of what callers send, ms", get(r"gaps_from_callers: .*?p99=(\S+)")),
    ("bridged: p99 gap of what operators echo, ms", get(r"gaps_from_operators: .*?p99=(\S+)")),
    ("bridged: relay latency caller→operator p50, ms (< 1)", get(r"latency_caller_to_operator: .*?p50=(\S+)")),
    ("bridged: relay latency caller→operator p99, ms", get(r"latency_caller_to_operator: .*?p99=(\S+)")),
    ("bridged: relay latency operator→caller p50, ms", get(r"latency_operator_to_caller: .*?p50=(\S+)")),
    ("bridged: relay latency operator→caller p99, ms", get(r"latency_operator_to_caller: .*?p99=(\S+)")),
    ("bridged: engine RSS per bridged call, KiB", get(r"per_bridged_call_kib=(\S+)")),
    ("bridged: records", get(r"bridged: records (.*?) log_")),
    ("bridged: load average at capture", get(r"bridged: rss.*load_at_capture=(.*)")),
]
width = max(len(r[0]) for r in rows)
for name, value in rows:
    print(f"| {name:<{width}} | {value} |")
PY
