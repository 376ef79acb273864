#!/usr/bin/env bash
# Checks the HTML report in a real headless Chromium: a short run writes target/report.html,
# then .ci/html_check.py opens it over the DevTools protocol and fails on a console error, an
# exception, any network request, or a chart that drew nothing; it saves a full-page
# screenshot as target/report.png (copy it to docs/report.png to refresh the documentation).
#
# Installs what is missing: chromium (apt-get) and the Python `websockets` package (pip).
# Usage: .ci/html-check.sh   (from anywhere; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
# The DevTools client in a virtualenv of its own (system pip may be externally managed).
venv="${SCALETEST_HTML_VENV:-$HOME/.cache/scaletest/venv-html}"
if ! "$venv/bin/python" -c 'import websockets' >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet websockets
fi

start=$(date +%s)
cargo build --locked -p scaletest
bin="${CARGO_TARGET_DIR:-target}/debug/scaletest"
mkdir -p target
# Exit code 3 (a threshold failed on a busy machine) still leaves a page to check.
"$bin" run --duration 3s --clock synthetic --rate 50 --interval 250ms --query-rate 10 \
    --threshold 'export_p99_ms<1000' --threshold 'error_rate<0.01' \
    --html target/report.html --json target/report.json || [ $? -eq 3 ]
# The same page again from the saved JSON report.
"$bin" report target/report.json --html target/report-from-json.html
"$venv/bin/python" .ci/html_check.py target/report.html target/report.png
"$venv/bin/python" .ci/html_check.py target/report-from-json.html target/report-from-json.png
echo "html-check: done in $(( $(date +%s) - start )) s"
