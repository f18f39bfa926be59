#!/bin/sh
# A counter device's heartbeat for madoguchi (design §3): POST /api/v1/devices/heartbeat
# every 30 s with the device's own token (from `madoguchi device add`).
#
#   MADOGUCHI_URL=https://madoguchi.example MADOGUCHI_DEVICE_TOKEN=mdg_dev_… \
#     sh heartbeat.sh [--once] [--state FILE] [--check CMD]
#
# --once        one beat, then exit: 0 when it was accepted, 3 when the token was refused,
#               1 otherwise (for a timer).
# --state FILE  keep the last round trip and sequence number in FILE, so that runs of
#               --once (a systemd timer, cron) still report the previous beat's round trip.
# --check CMD   run CMD (with sh -c) before each beat: the status is "error" with the first
#               line of its output as detail (at most 200 characters) when it fails, else
#               "ok".
#
# rtt_ms is the previous beat's HTTP round trip as curl measured it (`-w %{time_total}`):
# an application-level figure, server time included, not a ping. The first beat has none.
# The token is handed to curl on its standard input, so `ps` does not show it.
# Needs only a POSIX shell, curl, and (optionally) iconv.

set -u

usage() {
    sed -n '5,14s/^# \{0,1\}//p' "$0"
}

once=0
state=""
check=""
while [ $# -gt 0 ]; do
    case $1 in
    --once) once=1 ;;
    --state)
        [ $# -ge 2 ] || { usage >&2; exit 2; }
        state=$2
        shift
        ;;
    --check)
        [ $# -ge 2 ] || { usage >&2; exit 2; }
        check=$2
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
    shift
done

url=${MADOGUCHI_URL:-}
token=${MADOGUCHI_DEVICE_TOKEN:-}
if [ -z "$url" ] || [ -z "$token" ]; then
    echo "heartbeat: set MADOGUCHI_URL and MADOGUCHI_DEVICE_TOKEN" >&2
    exit 2
fi
endpoint="${url%/}/api/v1/devices/heartbeat"

rtt=null
seq=0
if [ -n "$state" ] && [ -r "$state" ]; then
    # Two lines: the previous beat's round trip in ms (or null), its sequence number.
    { read -r rtt && read -r seq; } <"$state" || true
    case $rtt in '' | *[!0-9]*) rtt=null ;; esac
    case $seq in '' | *[!0-9]*) seq=0 ;; esac
fi

# A JSON string of the first line of its input: control characters dropped, at most 200
# characters, an incomplete UTF-8 sequence at the cut removed, `\` and `"` escaped.
json_string() {
    line=$(head -n 1 | tr -d '\000-\037' | cut -c 1-200)
    if command -v iconv >/dev/null 2>&1; then
        line=$(printf '%s' "$line" | iconv -c -f UTF-8 -t UTF-8 2>/dev/null)
    fi
    printf '"%s"' "$(printf '%s' "$line" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

beat() {
    status=ok
    detail=null
    if [ -n "$check" ]; then
        if output=$(sh -c "$check" 2>&1); then
            :
        else
            code=$?
            status=error
            [ -n "$output" ] || output="check failed with exit $code"
            detail=$(printf '%s\n' "$output" | json_string)
        fi
    fi
    seq=$((seq + 1))
    body=$(printf '{"status":"%s","detail":%s,"rtt_ms":%s,"seq":%s}' \
        "$status" "$detail" "$rtt" "$seq")
    # The last line is "HTTP-STATUS TIME-TOTAL"; the lines before it, the answer.
    answer=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
        curl --silent --show-error --max-time 20 --config - \
            --header 'Content-Type: application/json' \
            --data-binary "$body" \
            --write-out '\n%{http_code} %{time_total}' \
            "$endpoint")
    result=$?
    if [ $result -ne 0 ]; then
        rtt=null
        echo "heartbeat: no answer from $endpoint (curl exit $result)" >&2
        return 1
    fi
    last=$(printf '%s\n' "$answer" | tail -n 1)
    http=${last%% *}
    reply=$(printf '%s\n' "$answer" | sed '$d')
    rtt=$(printf '%s\n' "${last#* }" | LC_ALL=C awk '{ printf "%d", $1 * 1000 + 0.5 }')
    case $rtt in '' | *[!0-9]*) rtt=null ;; esac
    if [ -n "$state" ]; then
        printf '%s\n%s\n' "$rtt" "$seq" >"$state" ||
            echo "heartbeat: cannot write $state" >&2
    fi
    case $http in
    200) return 0 ;;
    401)
        echo "heartbeat: token refused (401): $reply" >&2
        return 3
        ;;
    *)
        echo "heartbeat: $http: $reply" >&2
        return 1
        ;;
    esac
}

if [ $once -eq 1 ]; then
    beat
    exit $?
fi
while :; do
    beat
    # A refused token will not come right by itself: stop, so the service shows it.
    [ $? -eq 3 ] && exit 1
    sleep 30
done
