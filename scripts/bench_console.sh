#!/usr/bin/env bash
# Benchmark: BENCH_LEGS operators on browser consoles (WebRTC: ICE, DTLS-SRTP, PCMU), each
# bridged to a caller at the same time; the engine's CPU and memory per bridged browser leg.
#
# The consoles are examples/console_load/, a separate process (its CPU is not the engine's):
# each signs in, opens /ws/agent, sets up a webrtc-crate peer offering like Chromium, goes
# available, answers its call and echoes the audio it receives. The callers are sipp
# (tests/sipp/bench_caller_talks.xml) with scripts/rtp_talkers.py sending their audio, as in
# scripts/bench_queue.sh. Once every operator is on a call, the script samples for
# BENCH_CAPTURE_S seconds: the engine's CPU (utime + stime from /proc/PID/stat, as a share of
# one core), what else used the CPU (scripts/cpu_share.py), and the relayed audio: the packets the
# consoles received (caller → engine → browser) and a capture of what the engine sends the
# callers (browser echo → engine → caller; gaps from scripts/rtp_gaps.py). At the end every
# call must be recorded `answered`. The engine's RSS is read idle, with every console signed
# in and its socket open (sign-in costs an argon2 hash of ~19 MiB while it runs, and the
# allocator keeps some of it: the tool signs in two at a time), with every console's audio up
# (the tool sets it up on SIGUSR1 once all are signed in), and with every console on a call.
# Everything runs on 127.0.0.1 and stops by itself; results in bench-out/console/. Exit 1 when
# a check fails (not every operator on a call, records not all answered, the tool failed).
# Usage: scripts/bench_console.sh              (env: BENCH_LEGS=100 BENCH_CAPTURE_S=10
#                                               BENCH_IDLE_S=5 BENCH_TALK_HOLD=40
#                                               BENCH_MEDIA_THREADS=1 BENCH_SKIP_BUILD=)
#        BENCH_LEGS=10 scripts/bench_console.sh  (a quick run)
set -uo pipefail
cd "$(dirname "$0")/.."
legs=${BENCH_LEGS:-100}
capture_s=${BENCH_CAPTURE_S:-10}
# Seconds the consoles sit available with their audio up and no call, sampled apart.
idle_s=${BENCH_IDLE_S:-5}
talk_hold=${BENCH_TALK_HOLD:-40}
media_threads=${BENCH_MEDIA_THREADS:-1}
tools_nice=${BENCH_TOOLS_NICE:-0}
rtp_low=21000
rtp_high=24999
root=$PWD
out=$root/bench-out/console
mkdir -p "$out"
rm -f "$out"/*.db* "$out"/engine* "$out"/load.* "$out"/*_errors.log "$out"/log_problems.txt \
  "$out"/*.pcap "$out"/summary.txt "$out"/users.txt "$out"/user_add.err

need() { command -v "$1" >/dev/null; }
need sipp || { apt-get update -qq && apt-get install -y -qq sip-tester >/dev/null; }
need dumpcap || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }
for tool in sipp dumpcap python3 curl; do need "$tool" || { echo "missing: $tool"; exit 1; }; done
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  cargo build --release --bins --example console_load --locked || exit 1
fi
bin=${BENCH_BIN:-$root/target/release/madoguchi}
consoles_bin=$root/target/release/examples/console_load
ulimit -n "$(ulimit -Hn)"
hz=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_s() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
# CPU ticks (user + system, all threads) of process $1; fields after the ")" of the command.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
threads() { awk '/^Threads/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
json() {
  curl -s --max-time 5 -H "Authorization: Bearer $token" "http://$http$1" \
    | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>/dev/null
}
operators_in() { json /api/v1/queues "sum(1 for o in d['operators'] if o.get('state') == '$1')"; }
rtp_counters() { curl -s --max-time 5 "http://$http/metrics" | awk '/^madoguchi_rtp_[a-z_]+_total/ {sub(/^madoguchi_rtp_/, ""); sub(/_total/, ""); printf "%s=%s ", $1, $2}'; }
sipp_field() { awk -F'|' -v k="$2" '$0 ~ k {gsub(/ /,"",$3); v=$3} END {print v}' "$1" 2>/dev/null; }
plain_log() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
# A field of the load tool's latest stats line.
load_stat() { grep '^stats ' "$out/load.out" 2>/dev/null | tail -1 | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
# Waits up to $2 seconds until `operators_in $1` reaches the number of legs; prints the count.
wait_for_operators() {
  local count=0 until=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$until" ]; do
    count=$(operators_in "$1"); [ "${count:-0}" -ge "$legs" ] && break
    sleep 0.2
  done
  echo "${count:-0}"
}
dispositions() {
  python3 - "$1" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT disposition, count(*) FROM calls GROUP BY disposition ORDER BY 1").fetchall()
print(" ".join(f"{d}={n}" for d, n in rows) or "none")
PY
}
# Seconds between the first and the last packet of a classic pcap (at least a millisecond).
pcap_span() {
  python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
nano = data[:4] == b'\x4d\x3c\xb2\xa1'
offset, first, last = 24, None, None
while offset + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack_from('<IIII', data, offset)
    t = sec + frac / (1e9 if nano else 1e6)
    first = t if first is None else first
    last = t
    offset += 16 + incl
print(max(0.001, (last or 0) - (first or 0)))
PY
}
summary() { echo "$*" | tee -a "$out/summary.txt"; }

pid=
consoles=
talkers=
stop_all() {
  for p in $consoles $talkers; do kill "$p" 2>/dev/null; done
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
}
# An engine or tool left running would hold ports and the database.
trap stop_all EXIT

summary "# console benchmark $(date -u +%FT%TZ), $(nproc) cores, release build, legs=$legs; load before: $(load)"

# Users: the operators (agents, no SIP phone) and an admin whose token reads the live state.
db=$out/console.db
add_user() { # LOGIN ROLE
  for _ in 1 2 3 4 5; do
    printf '%s\n' "pw-$1-secret" | "$bin" user add --login "$1" --role "$2" --password-stdin \
      --database-url "sqlite://$db" >/dev/null 2>>"$out/user_add.err" && return 0
    sleep 0.2
  done
  echo "user add $1 failed" >&2; return 1
}
export -f add_user; export bin db out
# The first one migrates the database; the rest in parallel (SQLite may be busy: retried).
add_user bench-admin admin || exit 1
seq -f 'op%04g' 1 "$legs" | xargs -P 4 -I{} bash -c 'add_user {} agent'
seq -f 'op%04g' 1 "$legs" | while read -r login; do echo "$login pw-$login-secret"; done >"$out/users.txt"
token=$("$bin" token create --login bench-admin --database-url "sqlite://$db") || exit 1

log=$out/engine.log
MADOGUCHI_MEDIA_THREADS=$media_threads "$bin" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --database-url "sqlite://$db" --dialplan dialplans/examples/bench_queue.toml \
  --rtp-ports "$rtp_low-$rtp_high" --sip-trusted-networks 127.0.0.1 >"$out/engine.out" 2>"$log" &
pid=$!
for _ in $(seq 300); do
  grep -q "madoguchi ready" "$out/engine.out" 2>/dev/null && break
  sleep 0.1
done
sip=$(sed -n 's/.*sip=\([^ ]*\).*/\1/p' "$out/engine.out")
http=$(sed -n 's/.*http=\([^ ]*\).*/\1/p' "$out/engine.out")
[ -n "$sip" ] || { echo "engine did not start"; cat "$log"; exit 1; }
sleep 1
rss_idle=$(rss_kib); threads_idle=$(threads)

echo "== $legs consoles sign in and open their sockets"
rate=50
ramp=$(( (legs + rate - 1) / rate ))
# Every call must still be up when the sample ends, however long bridging takes.
hold=$(( talk_hold > ramp + capture_s + 20 ? talk_hold : ramp + capture_s + 20 ))
t0=$(now_s)
nice -n "$tools_nice" "$consoles_bin" --http "$http" --users "$out/users.txt" --media-on-signal \
  --deadline $(( 300 + idle_s + ramp + hold )) >"$out/load.out" 2>"$out/load.err" &
consoles=$!
for _ in $(seq 1200); do
  [ "$(load_stat signed_in)" = "$legs" ] && break
  kill -0 "$consoles" 2>/dev/null || break
  sleep 0.2
done
signed_in=$(load_stat signed_in)
signed_in_s=$(calc "f'{$(now_s) - $t0:.1f}'")
echo "signed in: ${signed_in:-0}/$legs after ${signed_in_s}s"
sleep 1
rss_signed_in=$(rss_kib); threads_signed_in=$(threads)
echo "== the consoles set up their audio (WebRTC) and go available"
t0=$(now_s)
kill -USR1 "$consoles"
available=$(wait_for_operators available 240)
consoles_up_s=$(calc "f'{$(now_s) - $t0:.1f}'")
echo "available: $available/$legs after ${consoles_up_s}s"
sleep 1
rss_consoles=$(rss_kib); threads_consoles=$(threads)
# The consoles' cost with their audio up and no call: the browsers' 50 frames/s of silence
# (decrypted, then dropped), ICE consent checks, RTCP.
e0=$(cpu_ticks "$pid"); w0=$(now_s)
sleep "$idle_s"
e1=$(cpu_ticks "$pid"); w1=$(now_s)
idle_consoles_pct=$(calc "f'{100 * ($e1 - $e0) / $hz / ($w1 - $w0):.1f}'")

echo "== $legs callers call; every console answers"
callers_media=$(free_port)
nice -n "$tools_nice" python3 scripts/rtp_talkers.py "$callers_media" "$legs" $((ramp + hold + 30)) &
talkers=$!
cdir=$(mktemp -d)
sleep 1
(cd "$cdir" && timeout $((ramp + hold + 180)) nice -n "$tools_nice" sipp "$sip" -sf "$root/tests/sipp/bench_caller_talks.xml" \
    -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -key talker_port "$callers_media" \
    -r "$rate" -m "$legs" -l $((legs + 100)) \
    -d $((hold * 1000)) -nostdin -timeout $((ramp + hold + 150))s -trace_screen -trace_err >/dev/null 2>&1) &
callers=$!
t0=$(now_s)
on_call=$(wait_for_operators on_call $((ramp + 60)))
all_on_call_s=$(calc "f'{$(now_s) - $t0:.1f}'")
echo "on call: $on_call/$legs after ${all_on_call_s}s; sampling ${capture_s}s"
sleep 1
load_at=$(load)
python3 scripts/cpu_share.py "$capture_s" >"$out/cpu.txt" &
shares=$!
in0=$(load_stat rtp_in); out0=$(load_stat rtp_echoed); s0=$(load_stat t)
e0=$(cpu_ticks "$pid"); c0=$(cpu_ticks "$consoles"); w0=$(now_s)
# What the engine sends the callers: the consoles' echo, relayed.
dumpcap -P -B 64 -i lo -f "udp dst port $callers_media" -s 64 -w "$out/to_callers.pcap" \
  -a duration:"$capture_s" 2>"$out/dumpcap.err"
e1=$(cpu_ticks "$pid"); c1=$(cpu_ticks "$consoles"); w1=$(now_s)
sleep 1.1 # the stats line after the window
in1=$(load_stat rtp_in); out1=$(load_stat rtp_echoed); s1=$(load_stat t)
wait "$shares"
rss_calls=$(rss_kib); threads_calls=$(threads)
on_call_after=$(operators_in on_call)
counters=$(rtp_counters)

echo "== calls end; consoles sign out"
wait "$callers"; callers_exit=$?
screen=$(ls "$cdir"/*_screen.log 2>/dev/null | head -1)
callers_ok=$(sipp_field "$screen" "Successful call"); callers_failed=$(sipp_field "$screen" "Failed call")
cp "$screen" "$out/callers_screen.log" 2>/dev/null
cp "$cdir"/*_errors.log "$out/" 2>/dev/null
wait "$consoles"; consoles_exit=$?
consoles=
kill "$talkers" 2>/dev/null; talkers=
sleep 1
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null; engine_exit=$?
pid=
rm -rf "$cdir"

gaps=$(python3 scripts/rtp_gaps.py "$out/to_callers.pcap")
window=$(calc "$w1 - $w0")
engine_s=$(calc "($e1 - $e0) / $hz")
to_consoles=$(( ${in1:-0} - ${in0:-0} ))
to_callers=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' <<<"$gaps")
records=$(dispositions "$db")
errors=$(plain_log "$log" | grep -c ' ERROR ')
warnings=$(plain_log "$log" | grep ' WARN ' | grep -vc 'no city line configured')
plain_log "$log" | grep -E ' (ERROR|WARN) ' | grep -v 'no city line configured' \
  | sed -E 's/^[^ ]+ +//' | sort | uniq -c | sort -rn | head -20 >"$out/log_problems.txt"

summary "consoles: signed_in=${signed_in:-0}/$legs (all after ${signed_in_s}s) available=$available/$legs (audio up, all after ${consoles_up_s}s) on_call=$on_call/$legs (all after ${all_on_call_s}s) on_call_after_sample=${on_call_after:-?}"
summary "consoles: tool $(grep '^done ' "$out/load.out" | sed 's/^done //') exit=$consoles_exit (stderr: bench-out/console/load.err, $(wc -l <"$out/load.err") lines)"
summary "callers: ok=${callers_ok:-?} failed=${callers_failed:-?} sipp_exit=$callers_exit engine_exit=$engine_exit"
summary "records: $records log_errors=$errors log_warnings=$warnings (bench-out/console/log_problems.txt)"
summary "engine rtp counters: ${counters:-none}"
summary "memory: rss_idle_kib=$rss_idle rss_signed_in_kib=$rss_signed_in rss_consoles_up_kib=$rss_consoles rss_on_calls_kib=$rss_calls engine_threads=$threads_idle/$threads_signed_in/$threads_consoles/$threads_calls (idle/signed in/audio up/on calls)"
summary "memory: per_sign_in_kib=$(( (rss_signed_in - rss_idle) / legs )) (session, socket, argon2 leftovers) per_webrtc_leg_kib=$(( (rss_consoles - rss_signed_in) / legs )) per_call_kib=$(( (rss_calls - rss_consoles) / legs )) per_bridged_browser_leg_kib=$(( (rss_calls - rss_signed_in) / legs )) (audio up and on a call, sign-in apart)"
summary "cpu: window_s=$(calc "f'{$window:.2f}'") engine_one_core_pct=$(calc "f'{100 * $engine_s / $window:.1f}'") per_leg_us_per_s=$(calc "f'{1e6 * $engine_s / $window / $legs:.0f}'") per_100_legs_pct=$(calc "f'{100 * $engine_s / $window * 100 / $legs:.1f}'") console_tool_one_core_pct=$(calc "f'{100 * ($c1 - $c0) / $hz / $window:.1f}'") consoles_idle_engine_pct=$idle_consoles_pct load_at_sample=$load_at"
summary "cpu: during sample $(cat "$out/cpu.txt") (the console tool is in other)"
stats_window=$(calc "max(0.001, ${s1:-0} - ${s0:-0})")
to_consoles_per_s=$(calc "$to_consoles / $stats_window")
to_callers_per_s=$(calc "${to_callers:-0} / $(pcap_span "$out/to_callers.pcap")")
summary "relay: to_consoles=$(calc "f'{$to_consoles_per_s / $legs:.1f}'")/s per leg (caller -> browser; $to_consoles packets over the tool's ${stats_window}s) to_callers=$(calc "f'{$to_callers_per_s / $legs:.1f}'")/s per leg (browser echo -> caller; ${to_callers:-0} packets captured) echoed_by_consoles=$(( ${out1:-0} - ${out0:-0} )) engine_us_per_relayed_packet=$(calc "f'{1e6 * $engine_s / $window / max(1, $to_consoles_per_s + $to_callers_per_s):.1f}'")"
summary "relay: gaps towards callers $gaps"
summary "relay: capture $(grep -o 'Packets received/dropped.*' "$out/dumpcap.err" | tail -1)"
summary "load after: $(load)"

failed=()
[ "${on_call:-0}" -ge "$legs" ] || failed+=("on_call $on_call of $legs")
[ "$records" = "answered=$legs" ] || failed+=("records $records")
[ "$consoles_exit" -eq 0 ] || failed+=("console tool exit $consoles_exit")
[ "$(( to_consoles / legs ))" -gt 0 ] || failed+=("no audio reached the consoles")
[ "${to_callers:-0}" -gt 0 ] || failed+=("no echo reached the callers")
if [ ${#failed[@]} -eq 0 ]; then summary "checks: ok"; else summary "checks FAILED: ${failed[*]}"; exit 1; fi
