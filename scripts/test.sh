#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real peers the tests use
# (sipp, libfaketime, sox, Chromium) when missing, makes sure PostgreSQL is up, then cargo test.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v faketime >/dev/null || need+=(faketime)
command -v sox >/dev/null || need+=(sox)
command -v psql >/dev/null || need+=(postgresql-client)
command -v node >/dev/null || need+=(nodejs)
# The WebRTC leg is tested against headless Chromium driven over WebDriver.
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test peers: ${need[*]}"
  as_root=""
  [ "$(id -u)" = 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The store tests run against the PostgreSQL on 127.0.0.1:5432 (database `test`) as well.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters --no-header | while read -r version cluster _port status _rest; do
    if [ "$status" != "online" ]; then
      pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
    fi
  done
fi
export MADOGUCHI_TEST_PG_URL="${MADOGUCHI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

cargo test --workspace --locked "$@"
# The console's own logic; tests/ui/browser.test.mjs (the console in headless Chromium) is
# still being written for issue 4 and is run by hand until it passes reliably.
node --test $(ls tests/ui/*.test.mjs | grep -v '/browser\.test\.mjs$')
