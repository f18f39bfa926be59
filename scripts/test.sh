#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real peers the tests use
# (sipp, libfaketime, sox, Chromium, Kamailio) when missing, makes sure PostgreSQL is up, then
# cargo test.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v faketime >/dev/null || need+=(faketime)
command -v sox >/dev/null || need+=(sox)
command -v psql >/dev/null || need+=(postgresql-client)
command -v node >/dev/null || need+=(nodejs)
# tests/jssip.rs installs the JsSIP browser phone (and a bundler) from the npm registry once.
command -v npm >/dev/null || need+=(npm)
# The WebRTC leg is tested against headless Chromium driven over WebDriver.
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
# Japanese glyphs in the console's screenshots (target/test-artifacts/console/).
fc-list :lang=ja 2>/dev/null | grep -q . || need+=(fonts-ipafont-gothic)
# tests/report.rs reads the report XLSX with openpyxl, pip-installed into a venv under target/.
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# tests/report_render.rs prints the report XLSX with headless LibreOffice and reads the PDF
# with poppler (pdftotext, pdffonts, pdftoppm); pages go to target/test-artifacts/report/.
command -v soffice >/dev/null || need+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
# tests/failover.rs puts Kamailio (examples/kamailio) in front of two nodes; never as a service.
[ -x /usr/sbin/kamailio ] || command -v kamailio >/dev/null || need+=(kamailio)
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
# The browser-console load tool's own tests (examples are built, not tested, by the line above).
cargo test --locked --example console_load
# The console page's own logic, and the page in headless Chromium against a stand-in engine.
node --test tests/ui/*.test.mjs
