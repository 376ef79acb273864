#!/usr/bin/env bash
# Real backends: reads back what Arize Phoenix and MLflow stored of scaletest's traces.
#
# Installs arize-phoenix and mlflow from PyPI into a cached virtualenv (reused when present),
# starts each on 127.0.0.1 on free ports with telemetry off, waits for health, creates an MLflow
# experiment, runs `scenario-runtime/tests/verify_real.rs` once per backend, then `scaletest run
# --verify` against each and checks its report (.ci/check_readback.py), then `scaletest run
# --query-rate` (read load beside ingestion) against each and checks that every read operation
# was answered with rows (.ci/check_read_load.py), and stops each
# backend by the process group it was started in (trap on EXIT). Every wait is bounded; a failure
# names the backend and prints the end of its log.
#
# Environment:
#   SCALETEST_VENV                  virtualenv (default ~/.cache/scaletest/venv-backends)
#   SCALETEST_BACKENDS_INSTALL_TIMEOUT  seconds for a first install (default 900)
#   SCALETEST_BACKENDS_HEALTH_TIMEOUT   seconds for a backend to become healthy (default 120)
#   SCALETEST_BACKENDS_TEST_TIMEOUT     seconds per backend's test run, build included (default 600)
#   CARGO_TARGET_DIR                as for any cargo command
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SCALETEST_VENV:-$HOME/.cache/scaletest/venv-backends}"
INSTALL_TIMEOUT="${SCALETEST_BACKENDS_INSTALL_TIMEOUT:-900}"
HEALTH_TIMEOUT="${SCALETEST_BACKENDS_HEALTH_TIMEOUT:-120}"
TEST_TIMEOUT="${SCALETEST_BACKENDS_TEST_TIMEOUT:-600}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scaletest-backends.XXXXXX")"
STARTED=$SECONDS
PIDS=()

log() { echo "== backends: $*"; }

stop_all() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do
        # Each backend runs in its own session: its process group id is its PID, and the group
        # holds its workers too.
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    if ((rc == 0)); then
        rm -rf "$WORK"
    else
        echo "backends: logs kept in $WORK" >&2
    fi
}
trap stop_all EXIT

# fail BACKEND REASON: says which backend failed and why, with the end of its log.
fail() {
    echo "backends: $1 FAILED: $2" >&2
    if [[ -f "$WORK/$1.log" ]]; then
        echo "---- last lines of the $1 log ($WORK/$1.log)" >&2
        tail -n 40 "$WORK/$1.log" >&2
        echo "----" >&2
    fi
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_healthy BACKEND URL PID
wait_healthy() {
    local deadline=$((SECONDS + HEALTH_TIMEOUT))
    while ((SECONDS < deadline)); do
        kill -0 "$3" 2>/dev/null || fail "$1" "the server exited before it was healthy"
        if curl -fs -o /dev/null --max-time 2 "$2"; then
            return 0
        fi
        sleep 0.5
    done
    fail "$1" "not healthy at $2 after ${HEALTH_TIMEOUT}s"
}

# 1. The virtualenv, installed once.
if [[ -x "$VENV/bin/phoenix" && -x "$VENV/bin/mlflow" ]]; then
    log "reusing $VENV"
else
    log "installing arize-phoenix and mlflow into $VENV (first run only)"
    python3 -m venv "$VENV"
    timeout "$INSTALL_TIMEOUT" "$VENV/bin/pip" install --quiet arize-phoenix mlflow \
        || { echo "backends: pip install of arize-phoenix and mlflow failed or took over ${INSTALL_TIMEOUT}s" >&2; exit 1; }
fi

# 2. Phoenix (its gRPC listener binds every interface; the tests use 127.0.0.1 only).
PHOENIX_HTTP=$(free_port)
PHOENIX_GRPC=$(free_port)
mkdir -p "$WORK/phoenix"
PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$PHOENIX_HTTP" PHOENIX_GRPC_PORT="$PHOENIX_GRPC" \
    PHOENIX_WORKING_DIR="$WORK/phoenix" PHOENIX_TELEMETRY_ENABLED=false \
    PHOENIX_ALLOW_EXTERNAL_RESOURCES=false DO_NOT_TRACK=1 \
    setsid "$VENV/bin/phoenix" serve >"$WORK/phoenix.log" 2>&1 </dev/null &
PIDS+=($!)
PHOENIX_PID=$!

# 3. MLflow, started at the same time (both take seconds to import).
MLFLOW_PORT=$(free_port)
mkdir -p "$WORK/mlflow/art"
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 \
    setsid "$VENV/bin/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 2 \
    --backend-store-uri "sqlite:///$WORK/mlflow/db" --default-artifact-root "$WORK/mlflow/art" \
    >"$WORK/mlflow.log" 2>&1 </dev/null &
PIDS+=($!)
MLFLOW_PID=$!

wait_healthy phoenix "http://127.0.0.1:$PHOENIX_HTTP/healthz" "$PHOENIX_PID"
log "phoenix healthy on 127.0.0.1:$PHOENIX_HTTP (gRPC $PHOENIX_GRPC) after $((SECONDS - STARTED))s"
wait_healthy mlflow "http://127.0.0.1:$MLFLOW_PORT/health" "$MLFLOW_PID"
log "mlflow healthy on 127.0.0.1:$MLFLOW_PORT after $((SECONDS - STARTED))s"

EXPERIMENT_ID=$(curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' \
    -d "{\"name\": \"scaletest-verify-$$-$RANDOM\"}" \
    "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow/experiments/create" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["experiment_id"])') \
    || fail mlflow "could not create an experiment through /api/2.0/mlflow/experiments/create"
log "mlflow experiment $EXPERIMENT_ID"

# 4. The real-backend tests, one backend at a time so a failure names its backend.
run_tests() {
    local backend=$1
    shift
    log "verify_real: $backend"
    env "$@" timeout "$TEST_TIMEOUT" cargo test -p scenario-runtime --features engine \
        --test verify_real --locked -- --nocapture --test-threads 1 "$backend" \
        || fail "$backend" "the read-back test failed (output above)"
}
run_tests phoenix SCALETEST_PHOENIX_URL="http://127.0.0.1:$PHOENIX_HTTP" \
    SCALETEST_PHOENIX_GRPC_PORT="$PHOENIX_GRPC"
run_tests mlflow SCALETEST_MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT" \
    SCALETEST_MLFLOW_EXPERIMENT_ID="$EXPERIMENT_ID"

# 5. scaletest itself, as a user runs it: `run --verify` against each backend, the report checked.
log "building scaletest"
timeout "$TEST_TIMEOUT" cargo build -p scaletest --locked --quiet || { echo "backends: cargo build failed" >&2; exit 1; }
SCALETEST="${CARGO_TARGET_DIR:-target}/debug/scaletest"
# run_cli BACKEND ARGS...: a short verified run; the report must show everything stored.
run_cli() {
    local backend=$1
    shift
    log "scaletest run --platform $backend --verify"
    env "$@" timeout 300 "$SCALETEST" run --platform "$backend" --count 14 --rate 7 \
        --clock synthetic --seed 11 --verify --verify-timeout 240s --json "$WORK/$backend-run.json" \
        >"$WORK/$backend-run.txt" 2>&1 \
        || { cat "$WORK/$backend-run.txt" >&2; fail "$backend" "scaletest run --verify exited non-zero"; }
    python3 .ci/check_readback.py "$backend" "$WORK/$backend-run.json" \
        || { cat "$WORK/$backend-run.txt" >&2; fail "$backend" "the read-back report does not show everything stored"; }
}
CLI_EXPERIMENT=$(curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' \
    -d "{\"name\": \"scaletest-run-$$-$RANDOM\"}" \
    "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow/experiments/create" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["experiment_id"])') \
    || fail mlflow "could not create an experiment for the scaletest run"
run_cli phoenix PHOENIX_COLLECTOR_ENDPOINT="http://127.0.0.1:$PHOENIX_HTTP" \
    PHOENIX_GRPC_PORT="$PHOENIX_GRPC" PHOENIX_PROJECT_NAME="scaletest-run-$$"
run_cli mlflow MLFLOW_TRACKING_URI="http://127.0.0.1:$MLFLOW_PORT" \
    MLFLOW_EXPERIMENT_ID="$CLI_EXPERIMENT"

# 6. Read load beside ingestion: every operation answered 2xx with rows while traces are written.
# A 30 s query timeout: on two shared cores these servers answer some reads in seconds.
run_read_load() {
    local backend=$1
    shift
    log "scaletest run --platform $backend --query-rate 2"
    env "$@" timeout 300 "$SCALETEST" run --platform "$backend" --duration 20s --rate 2 \
        --seed 12 --query-rate 2 --timeout-ms 30000 --no-verify --json "$WORK/$backend-read.json" \
        >"$WORK/$backend-read.txt" 2>&1 \
        || { cat "$WORK/$backend-read.txt" >&2; fail "$backend" "scaletest run --query-rate exited non-zero"; }
    python3 .ci/check_read_load.py "$backend" "$WORK/$backend-read.json" \
        || { cat "$WORK/$backend-read.txt" >&2; fail "$backend" "a read operation was not answered with rows"; }
}
READ_EXPERIMENT=$(curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' \
    -d "{\"name\": \"scaletest-read-$$-$RANDOM\"}" \
    "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow/experiments/create" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["experiment_id"])') \
    || fail mlflow "could not create an experiment for the read-load run"
run_read_load phoenix PHOENIX_COLLECTOR_ENDPOINT="http://127.0.0.1:$PHOENIX_HTTP" \
    PHOENIX_GRPC_PORT="$PHOENIX_GRPC" PHOENIX_PROJECT_NAME="scaletest-read-$$"
run_read_load mlflow MLFLOW_TRACKING_URI="http://127.0.0.1:$MLFLOW_PORT" \
    MLFLOW_EXPERIMENT_ID="$READ_EXPERIMENT"

# 7. A suite (suites/ci.toml): scaletest starts its own Phoenix on free ports, one short verified
#    run, resources sampled, every process stopped at the end.
log "scaletest suite suites/ci.toml"
SUITE_STARTED=$SECONDS
mkdir -p "$WORK/suite"
SUITE_PHOENIX_PORT=$(free_port)
SUITE_PHOENIX_GRPC_PORT=$(free_port)
env SCALETEST_VENV="$VENV" SUITE_WORK="$WORK/suite" SUITE_PHOENIX_PORT="$SUITE_PHOENIX_PORT" \
    SUITE_PHOENIX_GRPC_PORT="$SUITE_PHOENIX_GRPC_PORT" \
    PHOENIX_COLLECTOR_ENDPOINT="http://127.0.0.1:$SUITE_PHOENIX_PORT" \
    PHOENIX_GRPC_PORT="$SUITE_PHOENIX_GRPC_PORT" \
    timeout 300 "$SCALETEST" suite suites/ci.toml --out "$WORK/suite/out" \
    --json "$WORK/suite.json" --html "$WORK/suite.html" >"$WORK/suite.txt" 2>&1 \
    || { cat "$WORK/suite.txt" >&2; fail suite "scaletest suite suites/ci.toml exited non-zero"; }
python3 - "$WORK/suite.json" <<'PY' || { cat "$WORK/suite.txt" >&2; fail suite "the suite report is not as expected"; }
import json, sys
report = json.load(open(sys.argv[1]))
assert report["status"] == "passed", report["status"]
assert [r["name"] for r in report["runs"]] == ["phoenix"], report["runs"]
for run in report["runs"]:
    assert run["stored_rate"] is not None and run["stored_rate"] >= 0.99, run
    (component,) = run["components"]
    assert component["samples"] > 0 and component["rss_bytes_max"] > 0, component
PY
log "suite passed in $((SECONDS - SUITE_STARTED))s"

log "done in $((SECONDS - STARTED))s"
