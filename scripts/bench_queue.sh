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
#     BENCH_TALK_HOLD s. Once GET /api/v1/queues (with an admin's token) shows every operator
#     on a call, the plateau: BENCH_CAPTURE_S s without capture, over which the engine's CPU
#     seconds per second are read (/proc/PID/stat utime+stime, all threads); then dumpcap
#     records the first 200 calls' legs; scripts/bridge_rtp.py gives the gaps of the relayed
#     packets towards callers and operators and the latency the relay adds (same frame in,
#     same frame out). Every call must be recorded as answered.
#  3. recorded (BENCH_RECORD=1): part 2 runs twice in a row with the same load, first as above,
#     then with every call recorded (a copy of bench_queue.toml with recording = "all" and the
#     consent notice, generated into bench-out/queue/recorded/), so the cost of recording is a
#     difference taken under the same machine conditions. Over each run's plateau, besides the
#     CPU: the engine's write_bytes rate (/proc/PID/io) and the growth of the recordings'
#     files. Then every WAV must be readable (2 channels, 8000 Hz, 16-bit, longer than 0 s),
#     one per answered call, and match its row (size, SHA-256); the recorder's drop and
#     failure counters (/metrics) must be 0. The notice puts every caller's leg before the
#     operators' in port order, so both runs capture all calls' legs; and both holds grow by
#     BENCH_NOTICE_S (5) for the notice.
#  4. early (BENCH_EARLY=1): after part 1, the same BENCH_WAITING callers wait in early media
#     instead (dialplans/examples/bench_early.toml: answer = "operator", nobody logs in;
#     bench_early_caller.xml): 183 with SDP, its refresh at 60 s, BENCH_EARLY_AFTER_REFRESH
#     (15) s more, then CANCEL; a 200 to the INVITE fails the call. Gaps, RSS and engine CPU
#     on a plateau (as part 2) for both modes; the callers' messages are counted per call
#     (183s, 200s to the INVITE, 487s) and the records grouped by answer_mode, answered_by and
#     disposition with their unanswered_ms.
# The load tools share the cores with the engine: what each used during the captures is
# printed (scripts/cpu_share.py) with the load average; BENCH_TOOLS_NICE=N runs them niced.
# Also printed per capture: how often the engine's media clock woke late (>5 ms, >20 ms) and
# whether dumpcap dropped packets. BENCH_MEDIA_THREADS=N sets the engine's media threads.
# Everything runs on 127.0.0.1 and stops by itself; results in bench-out/queue/.
# Usage: scripts/bench_queue.sh       (env: BENCH_WAITING=1000 BENCH_BRIDGED=500
#                                      BENCH_WAIT_HOLD=30 BENCH_TALK_HOLD=40 BENCH_SKIP_BUILD=)
#        BENCH_WAITING=100 BENCH_BRIDGED=50 scripts/bench_queue.sh    (a quick run)
#        BENCH_WAITING=0 skips part 1, BENCH_BRIDGED=0 parts 2 and 3; BENCH_BIN=PATH another build.
#        BENCH_WAITING=0 BENCH_RECORD=1 scripts/bench_queue.sh    (the cost of recording 500 calls)
#        BENCH_BRIDGED=0 BENCH_EARLY=1 scripts/bench_queue.sh     (waiting answered vs in early media)
set -uo pipefail
cd "$(dirname "$0")/.."
waiting=${BENCH_WAITING:-1000}
bridged=${BENCH_BRIDGED:-500}
wait_hold=${BENCH_WAIT_HOLD:-30}
talk_hold=${BENCH_TALK_HOLD:-40}
tools_nice=${BENCH_TOOLS_NICE:-0}
media_threads=${BENCH_MEDIA_THREADS:-1}
record=${BENCH_RECORD:-}
early=${BENCH_EARLY:-}
# Seconds an early caller waits after its 183's refresh at 60 s (at least; under 60).
early_after_s=${BENCH_EARLY_AFTER_REFRESH:-15}
notice_s=0
[ -n "$record" ] && notice_s=${BENCH_NOTICE_S:-5}
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
rm -rf "$out/recordings" "$out/recorded"

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
json() {
  curl -s --max-time 5 -H "Authorization: Bearer $token" "http://$http$1" \
    | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>/dev/null
}
# The API needs a token to read the live state: an admin in DATABASE (migrated if new) and
# its token, in $token.
token=
reader_token() { # DATABASE
  printf '%s\n' "pw-bench-admin-secret" | "$bin" user add --login bench-admin --role admin --password-stdin \
    --database-url "sqlite://$1" >/dev/null 2>>"$out/user_add.err" \
    && token=$("$bin" token create --login bench-admin --database-url "sqlite://$1" 2>>"$out/user_add.err") \
    || { echo "no API token for reading the live state (see bench-out/queue/user_add.err)"; exit 1; }
}
waiting_now() { json /api/v1/queues 'sum(len(q["waiting"]) for q in d["queues"])'; }
on_call_now() { json /api/v1/queues 'sum(1 for o in d["operators"] if o.get("state") == "on_call")'; }
logged_in_now() { json /api/v1/queues 'max([q["operators_logged_in"] for q in d["queues"]] or [0])'; }
# Unexpected messages in sipp's scenario screen: the last column of its receives and pauses.
sipp_unexpected() { awk '/<----------|Pause/ {n += $NF} END {print n + 0}' "$1" 2>/dev/null; }
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
start_engine() { # DATABASE [DIALPLAN]
  run=$((run + 1))
  log=$out/engine-$run.log
  stdout=$out/engine-$run.out
  rm -f "$stdout"
  MADOGUCHI_MEDIA_THREADS=$media_threads "$bin" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --database-url "sqlite://$1" --dialplan "${2:-dialplans/examples/bench_queue.toml}" \
    --recordings-dir "$out/recordings" \
    --rtp-ports "$rtp_low-$rtp_high" --sip-digest MD5,SHA-256 --sip-trusted-networks 127.0.0.1 \
    >"$stdout" 2>"$log" &
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
# What the engine has used and written so far, and what the recordings folder holds:
# "seconds_since_epoch cpu_ticks write_bytes recording_bytes".
plateau_mark() {
  local ticks written files
  # utime and stime are fields 14 and 15; counted after the ")" ending the command name.
  ticks=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
  written=$(awk '/^write_bytes:/ {print $2}' "/proc/$pid/io")
  files=$(find "$out/recordings" -type f -name '*.wav' -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}')
  echo "$(date +%s.%N) ${ticks:-0} ${written:-0} $files"
}
# The engine's threads by name so far: "name=cpu_ticks,context_switches ..." (media, media-main,
# recorder; the rest as other).
thread_mark() {
  python3 - "$pid" <<'PY'
import collections, os, sys
task = f"/proc/{sys.argv[1]}/task"
used = collections.defaultdict(lambda: [0, 0])
for tid in os.listdir(task):
    try:
        stat = open(f"{task}/{tid}/stat").read()
        status = open(f"{task}/{tid}/status").read()
    except OSError:
        continue
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    name = name if name in ("media", "media-main", "recorder") else "other"
    fields = stat[stat.rindex(")") + 2:].split()
    used[name][0] += int(fields[11]) + int(fields[12])
    used[name][1] += sum(int(l.split()[1]) for l in status.splitlines() if "ctxt_switches:" in l)
print(" ".join(f"{n}={t},{c}" for n, (t, c) in sorted(used.items())))
PY
}
# The difference of two thread_mark lines over SECONDS: each group's share of one core and
# its context switches per second.
thread_rates() { # BEFORE AFTER SECONDS
  python3 - "$@" <<'PY'
import os, sys
def parse(line):
    return {n: [int(x) for x in v.split(",")] for n, v in (p.split("=") for p in line.split())}
before, after, s = parse(sys.argv[1]), parse(sys.argv[2]), float(sys.argv[3])
hz = os.sysconf("SC_CLK_TCK")
print(" ".join(f"{n}={100 * (t - before.get(n, [0, 0])[0]) / hz / s:.0f}%,{(c - before.get(n, [0, 0])[1]) / s:.0f}cs/s"
               for n, (t, c) in sorted(after.items())))
PY
}
# The recorder's losses so far: "dropped failures active"; a counter absent from /metrics
# was never incremented, so it is 0.
recorder_counters() {
  curl -s --max-time 5 "http://$http/metrics" | awk '
    /^madoguchi_recording_packets_dropped_total/ {d += $2}
    /^madoguchi_recording_failures_total/ {f += $2}
    /^madoguchi_recordings_active/ {a = $2}
    END {printf "%d %d %d", d, f, a}'
}

summary "# queue benchmark $(date -u +%FT%TZ), $(nproc) cores, release build; load before: $(load)"

# One run of part 1: NAME (waiting, early) prefixes its summary lines and names its files;
# DIALPLAN and SCENARIO default to the answered queue (bench_queue.toml, bench_call.xml).
# The early caller (bench_early_caller.xml) waits past its 183's refresh at 60 s, long
# enough for the plateau, short of a second refresh.
waiting_run() { # NAME [DIALPLAN SCENARIO]
  local name=$1 plan=${2:-dialplans/examples/bench_queue.toml} scenario=${3:-$root/tests/sipp/bench_call.xml}
  local trace=() pause_s
  db=$out/$name.db
  reader_token "$db"
  start_engine "$db" "$plan"
  sleep 1
  idle=$(rss_kib)
  rate=200
  ramp=$(( (waiting + rate - 1) / rate ))
  # Every call must still be up when the plateau and the sample end.
  local least=$((ramp + 2 * capture_s + 8))
  hold=$(( wait_hold > least ? wait_hold : least ))
  pause_s=$hold
  if [ "$name" = early ]; then
    hold=$(( 60 + (least - 60 > early_after_s ? least - 60 : early_after_s) ))
    [ "$hold" -lt 120 ] || { echo "early: a wait of $hold s would see a second refresh"; exit 1; }
    pause_s=$hold
    # Every message, to count the 183s and any 200 to an INVITE per call.
    trace=(-trace_msg -message_file "$out/${name}_callers_sip.log")
  fi
  dir=$(mktemp -d)
  (cd "$dir" && timeout $((ramp + hold + 120)) nice -n "$tools_nice" sipp "$sip" -sf "$scenario" \
      -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -r "$rate" -m "$waiting" -l $((waiting + 100)) \
      -d $((pause_s * 1000)) -nostdin -timeout $((ramp + hold + 90))s -trace_screen -trace_err \
      "${trace[@]}" >/dev/null 2>&1) &
  callers=$!
  sleep $((ramp + 2))
  queued=$(waiting_now)
  peak=$(rss_kib)
  load_at=$(load)
  # The plateau: capture_s seconds of the engine's CPU with every caller waiting, no capture.
  read -r -a mark0 <<<"$(plateau_mark)"
  threads0=$(thread_mark)
  plateau_share=$(python3 scripts/cpu_share.py "$capture_s")
  threads1=$(thread_mark)
  read -r -a mark1 <<<"$(plateau_mark)"
  # Caller legs take ports rtp_low, rtp_low+2, ... in arrival order: the first 200 callers.
  capture "udp src portrange $rtp_low-$((rtp_low + 2 * sampled - 1))" "$out/$name.pcap"
  waiting_after=$(waiting_now)
  now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
  wait "$callers"; sipp_exit=$?
  screen=$(ls "$dir"/*_screen.log 2>/dev/null | head -1)
  ok=$(sipp_field "$screen" "Successful call"); failed=$(sipp_field "$screen" "Failed call")
  cp "$screen" "$out/${name}_sipp_screen.log" 2>/dev/null
  cp "$dir"/*_errors.log "$out/" 2>/dev/null
  sleep 2
  left=$(waiting_now)
  counters=$(rtp_counters)
  stop_engine
  gaps=$(python3 scripts/rtp_gaps.py "$out/$name.pcap")
  summary "$name: callers=$waiting queued_on_plateau=${queued:-?} after_capture=${waiting_after:-?} successful=${ok:-?} failed=${failed:-?} sipp_exit=$sipp_exit still_waiting_after=${left:-?} engine_exit=$engine_exit wait_s=$hold"
  summary "$name: records $(dispositions "$db") $(log_problems "$log")"
  summary "$name: records by answer $(waiting_records "$db")"
  # With sipp's count of unexpected messages (a 200 while waiting is one).
  [ "$name" = early ] && summary "$name: signalling $(early_signalling "$out/${name}_callers_sip.log") unexpected_msg=$(sipp_unexpected "$screen")"
  summary "$name: engine rtp counters: ${counters:-none}"
  summary "$name: rss_idle_kib=$idle rss_plateau_kib=$peak per_waiting_caller_kib=$(( (peak - idle) / waiting )) load_at_capture=$load_at"
  summary "$name: plateau $(python3 - "${mark0[0]}" "${mark0[1]}" "${mark1[0]}" "${mark1[1]}" "$(getconf CLK_TCK)" "$waiting" <<'PY'
import sys
t0, c0, t1, c1, hz, callers = (float(x) for x in sys.argv[1:])
cpu = (c1 - c0) / hz / (t1 - t0)
print(f"plateau_s={t1 - t0:.2f} engine_cpu_s_per_s={cpu:.4f} engine_cpu_pct={100 * cpu:.1f}% "
      f"per_waiting_caller_ms_per_s={cpu / callers * 1000:.3f}")
PY
)"
  summary "$name: plateau $plateau_share"
  summary "$name: plateau engine threads (one core = 100%, context switches/s): $(thread_rates "$threads0" "$threads1" "$capture_s")"
  summary "$name: gaps $gaps"
  summary "$name: during capture $cpu"
  summary "$name: during capture $late"
  rm -rf "$dir"
}
# The records of part 1 grouped by how they were answered: "answer_mode/answered_by/disposition
# =calls (unanswered_s min-max)"; answered_by is null for a call never answered.
waiting_records() { # DATABASE
  python3 - "$1" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT answer_mode, answered_by, disposition, count(*), min(unanswered_ms), max(unanswered_ms)"
    " FROM calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").fetchall()
def s(ms):
    return "-" if ms is None else f"{ms / 1000:.1f}"
print(" ".join(f"answer_mode={m or 'null'}/answered_by={b or 'null'}/disposition={d}={n}"
               f" (unanswered_s {s(lo)}-{s(hi)})" for m, b, d, n, lo, hi in rows) or "none")
PY
}
# From the early callers' messages (sipp -trace_msg): calls with a 183, calls with the 183
# repeated and the interval between their first two, 200s to an INVITE (0 expected), 487s and
# the CANCELs' 200s.
early_signalling() { # MESSAGE_LOG
  python3 - "$1" <<'PY'
import collections, datetime, re, sys
per_call = collections.defaultdict(collections.Counter)
first_183s = collections.defaultdict(list)
text = open(sys.argv[1], errors="replace").read()
# Each message: "----- DATE TIME", "UDP message received [N] bytes :", the message.
for when, kind, message in re.findall(
        r"^-{10,} (\S+ \S+)\n(\S+ message \w+)[^\n]*\n\s*(.*?)(?=^-{10,} |\Z)", text, re.M | re.S):
    lines = message.splitlines()
    status = lines[0].split() if lines else []
    if not kind.endswith("received") or len(status) < 2 or status[0] != "SIP/2.0":
        continue
    call = next((l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("call-id:")), None)
    cseq = next((l.split(":", 1)[1].split()[-1] for l in lines if l.lower().startswith("cseq:")), "")
    if not call:
        continue
    per_call[call][f"{status[1]} {cseq}"] += 1
    if status[1] == "183" and len(first_183s[call]) < 2:
        first_183s[call].append(datetime.datetime.fromisoformat(when))
intervals = sorted((b - a).total_seconds() for a, b in (t for t in first_183s.values() if len(t) == 2))
span = f"{intervals[0]:.1f}-{intervals[-1]:.1f}" if intervals else "-"
def total(key):
    return sum(c[key] for c in per_call.values())
print(f"calls={len(per_call)} with_183={sum(1 for c in per_call.values() if c['183 INVITE'])} "
      f"with_183_refreshed={sum(1 for c in per_call.values() if c['183 INVITE'] >= 2)} "
      f"max_183_per_call={max((c['183 INVITE'] for c in per_call.values()), default=0)} "
      f"refresh_interval_s={span} invite_200={total('200 INVITE')} invite_487={total('487 INVITE')} "
      f"cancel_200={total('200 CANCEL')}")
PY
}

if [ "$waiting" -gt 0 ]; then
  echo "== 1. $waiting callers waiting in the queue, no operator logged in"
  waiting_run waiting
  if [ -n "$early" ]; then
    echo "== 1b. the same $waiting callers waiting in early media (answer = \"operator\"), no 200 OK"
    waiting_run early dialplans/examples/bench_early.toml "$root/tests/sipp/bench_early_caller.xml"
  fi
fi

# One run of part 2 with its own copy of the operators' database: NAME (bridged, recorded)
# prefixes its summary lines; DIALPLAN defaults to bench_queue.toml. Sets plateau_cpu[NAME]
# and the other plateau_* figures for the comparison.
declare -A plateau_cpu plateau_files plateau_written plateau_s
bridged_run() {
  local name=$1 dialplan=${2:-}
  db=$out/$name.db
  python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' \
    "$out/operators.db" "$db" || { echo "copying the operators' database failed"; exit 1; }
  rm -rf "$out/recordings"
  start_engine "$db" "$dialplan"
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
  # Every call must still be up when the sample ends, however long bridging takes (and, when
  # comparing with recording, the notice before the queue: the same hold in both runs).
  local least=$((ramp + 2 * capture_s + 20 + notice_s))
  hold=$(( talk_hold > least ? talk_hold : least ))
  # The phones: one UAS on the port every REGISTER came from, echoing each call's audio.
  (cd "$dir" && timeout $((ramp + hold + 240)) nice -n "$tools_nice" sipp -sf "$root/tests/sipp/operator_answer.xml" \
      -i 127.0.0.1 -p "$phones" -mp "$phones_media" -rtp_echo -m "$bridged" -nostdin \
      -timeout $((ramp + hold + 200))s -trace_screen -trace_err \
      -trace_msg -message_file "$out/${name}_operators_sip.log" >/dev/null 2>&1) &
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
      -trace_msg -message_file "$out/${name}_callers_sip.log" >/dev/null 2>&1) &
  callers=$!
  t0=$(date +%s.%N)
  on_call=0
  for _ in $(seq $((ramp * 5 + notice_s * 5 + 100))); do
    on_call=$(on_call_now); [ "${on_call:-0}" -ge "$bridged" ] && break
    sleep 0.2
  done
  all_bridged_s=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
  peak=$(rss_kib)
  load_at=$(load)
  read -r -a rec_before <<<"$(recorder_counters)"
  # The plateau: capture_s seconds with every call up and no capture (dumpcap's copies of
  # the packets on lo are partly counted as the sender's system time).
  read -r -a mark0 <<<"$(plateau_mark)"
  threads0=$(thread_mark)
  plateau_share=$(python3 scripts/cpu_share.py "$capture_s")
  threads1=$(thread_mark)
  read -r -a mark1 <<<"$(plateau_mark)"
  # Legs take ports in order (caller, then its operator): the first 200 calls' legs. With the
  # recording notice before the queue the callers' legs come first, so all calls are taken,
  # in both runs of the comparison.
  local calls_sampled=$sampled
  [ -n "$record" ] && calls_sampled=$bridged
  capture "udp portrange $rtp_low-$((rtp_low + 4 * calls_sampled - 1))" "$out/$name.pcap"
  on_call_after=$(on_call_now)
  now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
  wait "$callers"; callers_exit=$?
  wait "$operators"; operators_exit=$?
  screen=$(ls "$cdir"/*_screen.log 2>/dev/null | head -1)
  ok=$(sipp_field "$screen" "Successful call"); failed=$(sipp_field "$screen" "Failed call")
  op_ok=$(sipp_field "$(ls -t "$dir"/*_screen.log | head -1)" "Successful call")
  cp "$screen" "$out/${name}_callers_screen.log" 2>/dev/null
  cp "$dir"/*_errors.log "$cdir"/*_errors.log "$out/" 2>/dev/null
  sleep 2
  counters=$(rtp_counters)
  read -r -a rec_after <<<"$(recorder_counters)"
  stop_engine
  relay=$(python3 scripts/bridge_rtp.py "$out/$name.pcap" "$callers_media" "$phones_media" \
    "$out/${name}_callers_sip.log" "$out/${name}_operators_sip.log")
  summary "$name: operators=$bridged users_added_in_s=$users_s (parallel user add) registered=${reg_ok:-?} logged_in=${logged_in:-?} register_sipp_exit=$reg_exit"
  summary "$name: on_call=${on_call:-?} (all after ${all_bridged_s}s) on_call_after_capture=${on_call_after:-?} callers_ok=${ok:-?} callers_failed=${failed:-?} callers_sipp_exit=$callers_exit operator_calls_ok=${op_ok:-?} operators_sipp_exit=$operators_exit engine_exit=$engine_exit hold_s=$hold"
  summary "$name: records $(dispositions "$db") $(log_problems "$log")"
  summary "$name: engine rtp counters: ${counters:-none}"
  summary "$name: rss_idle_kib=$idle rss_plateau_kib=$peak per_bridged_call_kib=$(( (peak - idle) / bridged )) load_at_capture=$load_at"
  while read -r line; do summary "$name: $line"; done <<<"$relay"
  summary "$name: during capture $cpu"
  summary "$name: during capture $late"
  local figures
  figures=$(python3 - "${mark0[@]}" "${mark1[@]}" "$(getconf CLK_TCK)" "${on_call:-0}" <<'PY'
import sys
t0, c0, w0, f0, t1, c1, w1, f1, hz, calls = (float(x) for x in sys.argv[1:])
s = t1 - t0
cpu = (c1 - c0) / hz / s
files = (f1 - f0) / s
written = (w1 - w0) / s
per_call = f" per_call={files / calls / 1000:.1f}kB/s" if calls else ""
print(f"{s:.2f} {cpu:.4f} {files:.0f} {written:.0f} "
      f"plateau_s={s:.2f} engine_cpu_s_per_s={cpu:.4f} "
      f"recordings_growth_bytes_per_s={files:.0f}{per_call} engine_write_bytes_per_s={written:.0f}")
PY
)
  read -r plateau_s[$name] plateau_cpu[$name] plateau_files[$name] plateau_written[$name] figures <<<"$figures"
  summary "$name: plateau $figures"
  summary "$name: plateau $plateau_share"
  summary "$name: plateau engine threads (one core = 100%, context switches/s): $(thread_rates "$threads0" "$threads1" "${plateau_s[$name]}")"
  summary "$name: recorder dropped_packets=$(( ${rec_after[0]:-0} )) failures=$(( ${rec_after[1]:-0} )) recordings_active_on_plateau=$(( ${rec_before[2]:-0} )) (counters absent from /metrics count as 0)"
  if [ -n "$dialplan" ]; then
    summary "$name: files $(check_recordings "$db")"
  else
    summary "$name: files wav=$(find "$out/recordings" -name '*.wav' 2>/dev/null | wc -l) (recording off: 0 expected)"
  fi
  kill "$talkers" 2>/dev/null
  rm -rf "$dir" "$cdir"
}
# The WAV files against the answered calls and the recordings table: each must be readable as
# 2 channels, 8000 Hz, 16-bit, longer than 0 s, and have its row's size and SHA-256.
check_recordings() { # DATABASE
  python3 - "$1" "$out/recordings" <<'PY'
import collections, hashlib, os, sqlite3, sys, wave
db, folder = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
answered = con.execute("SELECT count(*) FROM calls WHERE disposition = 'answered'").fetchone()[0]
rows = {f: (b, h) for f, b, h in con.execute("SELECT file, bytes, sha256 FROM recordings")}
statuses = con.execute("SELECT status, count(*) FROM recordings GROUP BY 1 ORDER BY 1").fetchall()
readable, bad, durations, matched, total = 0, collections.Counter(), [], 0, 0
for top, _, names in os.walk(folder):
    for n in names:
        if not n.endswith('.wav'):
            continue
        path = os.path.join(top, n)
        total += 1
        try:
            with wave.open(path) as w:
                if (w.getnchannels(), w.getframerate(), w.getsampwidth()) != (2, 8000, 2):
                    bad['format'] += 1
                    continue
                if w.getnframes() == 0:
                    bad['empty'] += 1
                    continue
                durations.append(w.getnframes() / 8000)
                readable += 1
        except (wave.Error, EOFError, OSError):
            bad['unreadable'] += 1
            continue
        row = rows.get(os.path.relpath(path, folder))
        if row:
            data = open(path, 'rb').read()
            matched += row == (len(data), hashlib.sha256(data).hexdigest())
durations.sort()
span = f"duration_s min={durations[0]:.2f} max={durations[-1]:.2f}" if durations else "duration_s -"
print(f"wav={total} answered={answered} equal={'yes' if total == answered else 'NO'} "
      f"readable_2ch_8000hz_16bit={readable} bad={dict(bad) or 0} {span} "
      f"rows={' '.join(f'{s}={n}' for s, n in statuses) or 'none'} size_and_sha256_match_row={matched}")
PY
}

if [ "$bridged" -gt 0 ]; then
  echo "== 2. $bridged bridged caller<->operator calls (sipp on both sides)"
  db=$out/operators.db
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
  reader_token "$db"
  bridged_run bridged
  if [ -n "$record" ]; then
    echo "== 3. the same $bridged calls, every one recorded"
    # Under a folder of its own so that its name stays bench_queue.toml (cpu_share.py finds the
    # engine by it); the sounds are the examples' own.
    mkdir -p "$out/recorded"
    recorded_plan=$out/recorded/bench_queue.toml
    sed -e "s|^sounds_dir = .*|sounds_dir = \"$root/sounds/ja\"|" \
        -e 's|^\[prompts\]$|&\nrecording_notice = "recording_notice.wav"|' \
        -e 's|^match = "\*"$|&\nrecording = "all"|' \
        dialplans/examples/bench_queue.toml >"$recorded_plan"
    grep -q '^recording = "all"' "$recorded_plan" && "$bin" dialplan check "$recorded_plan" >/dev/null \
      || { echo "the recorded dialplan is not valid: $recorded_plan"; exit 1; }
    bridged_run recorded "$recorded_plan"
    summary "recording: $(python3 - "${plateau_cpu[bridged]}" "${plateau_cpu[recorded]}" "$bridged" \
      "${plateau_files[recorded]}" "${plateau_written[recorded]}" <<'PY'
import sys
plain, recorded, calls, files, written = (float(x) for x in sys.argv[1:])
print(f"engine_cpu_s_per_s plain={plain:.4f} recorded={recorded:.4f} "
      f"ratio={recorded / plain if plain else float('nan'):.2f} "
      f"difference_per_call_ms_per_s={(recorded - plain) / calls * 1000:.3f} "
      f"folder_growth_per_call_kB_per_s={files / calls / 1000:.1f} "
      f"engine_write_bytes_per_call_kB_per_s={written / calls / 1000:.1f}")
PY
)"
  fi
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
    ("waiting: engine CPU on the plateau, one core = 100%", get(r"waiting: plateau .*?engine_cpu_pct=(\S+)")),
    ("waiting: engine CPU per waiting caller, ms/s", get(r"waiting: plateau .*?per_waiting_caller_ms_per_s=(\S+)")),
    ("waiting: load average at capture", get(r"waiting: rss.*load_at_capture=(.*)")),
    ("bridged calls on the plateau", get(r"bridged: on_call=(\S+)")),
    ("bridged: p99 gap towards callers, ms (20 ± 5)", get(r"bridged: gaps_to_callers: .*?p99=(\S+)")),
    ("bridged: p99 gap towards operators, ms (20 ± 5)", get(r"bridged: gaps_to_operators: .*?p99=(\S+)")),
    ("bridged: p99 gap of what callers send, ms", get(r"bridged: gaps_from_callers: .*?p99=(\S+)")),
    ("bridged: p99 gap of what operators echo, ms", get(r"bridged: gaps_from_operators: .*?p99=(\S+)")),
    ("bridged: relay latency caller→operator p50, ms (< 1)", get(r"bridged: latency_caller_to_operator: .*?p50=(\S+)")),
    ("bridged: relay latency caller→operator p99, ms", get(r"bridged: latency_caller_to_operator: .*?p99=(\S+)")),
    ("bridged: relay latency operator→caller p50, ms", get(r"bridged: latency_operator_to_caller: .*?p50=(\S+)")),
    ("bridged: relay latency operator→caller p99, ms", get(r"bridged: latency_operator_to_caller: .*?p99=(\S+)")),
    ("bridged: engine CPU on the plateau, s/s", get(r"bridged: plateau .*?engine_cpu_s_per_s=(\S+)")),
    ("bridged: engine RSS per bridged call, KiB", get(r"per_bridged_call_kib=(\S+)")),
    ("bridged: records", get(r"bridged: records (.*?) log_")),
    ("bridged: load average at capture", get(r"bridged: rss.*load_at_capture=(.*)")),
]
if "early: callers=" in text:
    rows += [
        ("early: callers waiting in early media on the plateau", get(r"early: callers=\S+ queued_on_plateau=(\S+)")),
        ("early: p99 gap of hold audio, ms (20 ± 5)", get(r"early: gaps .*?p99=(\S+)")),
        ("early: streams with own p99 outside 15-25 ms", get(r"early: gaps .*?outside_15_25ms=(\S+)")),
        ("early: engine RSS per waiting caller, KiB", get(r"early: rss.*?per_waiting_caller_kib=(\S+)")),
        ("early: engine CPU on the plateau, one core = 100%", get(r"early: plateau .*?engine_cpu_pct=(\S+)")),
        ("early: engine CPU per waiting caller, ms/s", get(r"early: plateau .*?per_waiting_caller_ms_per_s=(\S+)")),
        ("early: calls with a 183 / refreshed / 200s to INVITE", get(r"early: signalling .*?with_183=(\S+)")
         + " / " + get(r"early: signalling .*?with_183_refreshed=(\S+)") + " / " + get(r"early: signalling .*?invite_200=(\S+)")),
        ("early: sipp successful / failed / unexpected msg", get(r"early: callers=.*?successful=(\S+)")
         + " / " + get(r"early: callers=.*?failed=(\S+)") + " / " + get(r"early: signalling .*?unexpected_msg=(\S*)")),
        ("early: records", get(r"early: records by answer (.*)")),
        ("early: load average at capture", get(r"early: rss.*load_at_capture=(.*)")),
    ]
if "recorded: on_call=" in text:
    rows += [
        ("recorded calls on the plateau", get(r"recorded: on_call=(\S+)")),
        ("engine CPU s/s on the plateau: plain / recorded", get(r"recording: engine_cpu_s_per_s plain=(\S+)")
         + " / " + get(r"recording: .*? recorded=(\S+)")),
        ("recording: extra engine CPU per call, ms/s", get(r"difference_per_call_ms_per_s=(\S+)")),
        ("recording: folder growth per call, kB/s (≈ 32)", get(r"folder_growth_per_call_kB_per_s=(\S+)")),
        ("recording: engine write_bytes per call, kB/s", get(r"engine_write_bytes_per_call_kB_per_s=(\S+)")),
        ("recording: WAV files / answered calls", get(r"recorded: files wav=(\S+)") + " / " + get(r"recorded: files .*?answered=(\S+)")),
        ("recording: readable WAVs, 2 ch 8 kHz 16-bit", get(r"readable_2ch_8000hz_16bit=(\S+)")),
        ("recording: dropped packets / failures", get(r"recorded: recorder dropped_packets=(\S+)")
         + " / " + get(r"recorded: recorder .*?failures=(\S+)")),
        ("recorded: p99 gap towards callers, ms", get(r"recorded: gaps_to_callers: .*?p99=(\S+)")),
        ("recorded: p99 gap towards operators, ms", get(r"recorded: gaps_to_operators: .*?p99=(\S+)")),
        ("recorded: relay latency caller→operator p50, ms", get(r"recorded: latency_caller_to_operator: .*?p50=(\S+)")),
        ("recorded: relay latency caller→operator p99, ms", get(r"recorded: latency_caller_to_operator: .*?p99=(\S+)")),
        ("recorded: records", get(r"recorded: records (.*?) log_")),
        ("recorded: load average at capture", get(r"recorded: rss.*load_at_capture=(.*)")),
    ]
width = max(len(r[0]) for r in rows)
for name, value in rows:
    print(f"| {name:<{width}} | {value} |")
PY
