#!/usr/bin/env bash
# Measures sharding on this machine (loopback only; nothing leaves it):
#   1. one process at RATE traces/s vs N processes of RATE/N each (same total), synthetic clock,
#      all against one `scaletest sink`: the merged accepted spans/s of the N vs the one;
#   2. how long `scaletest merge` takes on 100 shard reports of a 10-minute run, synthesized
#      from one real report (its series copied to 600 one-second rows; every shard the same
#      apart from its index);
#   3. a capacity sweep: `scaletest run --clock synthetic --rate R` (and real, briefly) for
#      increasing R until late, missed or dropped starts appear.
# Usage: scripts/shard-bench.sh [RATE] [SECONDS] [N]   (defaults 2000 10 2)
# SCALETEST=path/to/scaletest picks the binary (default: target/release, else target/debug).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-2000}
secs=${2:-10}
n=${3:-2}
target=${CARGO_TARGET_DIR:-target}
bin=${SCALETEST:-}
if [ -z "$bin" ]; then
    if [ -x "$target/release/scaletest" ]; then bin=$target/release/scaletest; else bin=$target/debug/scaletest; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "binary: $bin"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sink_pid=
start_sink() {
    "$bin" sink --listen "127.0.0.1:$port" --report-every 0s --json >"$work/sink.out" 2>&1 &
    sink_pid=$!
    for _ in $(seq 100); do
        (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
        sleep 0.1
    done
    echo "sink did not start" >&2
    exit 1
}
stop_sink() {
    kill -TERM "$sink_pid"
    wait "$sink_pid" || true
    python3 -c 'import json,sys; t=open(sys.argv[1]).read(); print(json.loads(t[t.index("{"):])["spans"])' "$work/sink.out"
}
field() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"r": r}))' "$@"; }

echo
echo "== 1. one process at $rate/s vs $n processes at $rate/$n/s each, ${secs}s, synthetic clock"
common=(--endpoint "http://127.0.0.1:$port" --clock synthetic --duration "${secs}s" --verify off)
start_sink
"$bin" run "${common[@]}" --rate "$rate" --json "$work/one.json" >/dev/null 2>&1 || true
one_sink=$(stop_sink)
one_rate=$(field "$work/one.json" 'round(r["spans"]["exported"] / r["duration_s"])')
echo "one process: $(field "$work/one.json" 'r["traces"]["started"]') traces, accepted $one_rate spans/s (sink received $one_sink spans; late $(field "$work/one.json" 'r["traces"]["late"]'), dropped starts $(field "$work/one.json" 'r["traces"]["dropped_starts"]'))"
start_sink
at=$(( $(date +%s) + 3 ))
for i in $(seq 0 $((n - 1))); do
    "$bin" run "${common[@]}" --rate "$rate" --shard "$i/$n" --start-at "$at" --json "$work/s$i.json" >/dev/null 2>&1 &
done
for pid in $(jobs -p); do
    [ "$pid" = "$sink_pid" ] || wait "$pid" || true
done
sleep 0.5
n_sink=$(stop_sink)
shard_files=()
for i in $(seq 0 $((n - 1))); do shard_files+=("$work/s$i.json"); done
"$bin" merge "${shard_files[@]}" --json "$work/merged.json" >/dev/null
n_rate=$(field "$work/merged.json" 'round(r["spans"]["exported"] / r["duration_s"])')
echo "$n processes, merged: $(field "$work/merged.json" 'r["traces"]["started"]') traces, accepted $n_rate spans/s (sink received $n_sink spans; late $(field "$work/merged.json" 'r["traces"]["late"]'), dropped starts $(field "$work/merged.json" 'r["traces"]["dropped_starts"]'))"
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'$n processes / one: {b/a:.3f}')" "$one_rate" "$n_rate"

echo
echo "== 2. scaletest merge of 100 synthesized shard reports of a 10-minute run (600 rows each)"
python3 - "$work/s0.json" "$work/big" <<'PY'
import copy, json, os, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
r = json.load(open(src))
rows = r["measurements"]["series"]["rows"]
step = r["measurements"]["series"]["interval_ms"] or 1000
base = rows[0]["start_unix_ms"]
model = rows[len(rows) // 2]
series = []
for k in range(600):
    row = copy.deepcopy(model)
    row["start_unix_ms"] = base + k * step
    series.append(row)
r["measurements"]["series"]["rows"] = series
r["measurements"]["window"]["duration_s"] = 600.0
r["measurements"]["window"]["start_window_s"] = 600.0
r["shard"]["count"] = 100
for i in range(100):
    r["shard"]["index"] = i
    json.dump(r, open(f"{out}/shard-{i}.json", "w"))
print(f"100 reports of {os.path.getsize(out + '/shard-0.json') / 1e6:.2f} MB each")
PY
began=$(date +%s.%N)
"$bin" merge "$work"/big/shard-*.json --json "$work/big-merged.json" >/dev/null
ended=$(date +%s.%N)
python3 -c "import sys; print(f'merge of 100 reports: {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$began" "$ended"

echo
echo "== 3. capacity of one process (reference mix): late/missed/dropped starts by rate"
sweep() {
    local clock=$1 dur=$2
    shift 2
    for r in "$@"; do
        "$bin" run --clock "$clock" --rate "$r" --duration "$dur" --verify off --json "$work/cap.json" >/dev/null 2>&1 || true
        echo "$clock $r/s: $(python3 -c 'import json,sys
r = json.load(open(sys.argv[1])); t = r["traces"]
print("%.0f traces/s started, late %d, missed %d, dropped starts %d, CPU %.0f%%" % (r["throughput"]["traces_per_s"], t["late"], t["missed"], t["dropped_starts"], r["generator"]["cpu_percent"]))' "$work/cap.json")"
    done
}
read -r -a synthetic_rates <<<"${SYNTHETIC_RATES:-500 1000 2000 4000 8000}"
read -r -a real_rates <<<"${REAL_RATES:-100 200 400 800}"
sweep synthetic "${secs}s" "${synthetic_rates[@]}"
sweep real 5s "${real_rates[@]}"
