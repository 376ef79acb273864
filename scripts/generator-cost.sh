#!/usr/bin/env bash
# What the generator costs, measured from outside: `scaletest sink` in its own process,
# `/usr/bin/time -v` around `scaletest run`, bytes from the run's JSON report. Prints GB of OTLP
# (before compression) per CPU-second (user + system) of the generator, its kernel share, peak
# RSS, late starts and dropped spans, and the most traces in flight with the RSS per trace then.
# Usage: scripts/generator-cost.sh [RUN FLAGS...]
#   default flags: --clock synthetic --compression none --rate 2000 --duration 10s
# REPEAT=N runs it N times (default 1). SCALETEST=path picks the binary (default target/release).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
bin=${SCALETEST:-$target/release/scaletest}
repeat=${REPEAT:-1}
if [ $# -eq 0 ]; then
    set -- --clock synthetic --compression none --rate 2000 --duration 10s
fi
work=$(mktemp -d)
sink_pid=
cleanup() {
    if [ -n "$sink_pid" ]; then kill -TERM "$sink_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" sink --listen "127.0.0.1:$port" --report-every 0s --json >"$work/sink.out" 2>&1 &
sink_pid=$!
for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
echo "binary: $bin; run flags: $*"
for i in $(seq "$repeat"); do
    /usr/bin/time -v -o "$work/time.txt" "$bin" run --endpoint "http://127.0.0.1:$port" \
        --verify off --json "$work/run.json" "$@" >/dev/null 2>"$work/run.err" || true
    python3 - "$work/time.txt" "$work/run.json" "$i" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
num = lambda label: float(re.search(re.escape(label) + r":\s*([\d.]+)", t).group(1))
user, sys_ = num("User time (seconds)"), num("System time (seconds)")
# time -v reports KiB; MB here are 10^6 bytes, as the report's series figures are.
rss_mb = num("Maximum resident set size (kbytes)") * 1024 / 1e6
r = json.load(open(sys.argv[2]))
raw, wire = r["bytes"]["raw"], r["bytes"]["wire"]
cpu = user + sys_
s, tr = r["spans"], r["traces"]
print(f"run {sys.argv[3]}: {raw / 1e9:.2f} GB raw ({wire / 1e9:.2f} GB wire) for {cpu:.2f} CPU-s "
      f"(user {user:.2f}, sys {sys_:.2f}, {100 * sys_ / cpu:.0f}% kernel): "
      f"{raw / 1e9 / cpu:.3f} GB raw per CPU-s; peak RSS {rss_mb:.0f} MB; "
      f"traces started {tr['started']}, late {tr['late']} (lag p99 {r['start_lag']['p99_ms']:.1f} ms), "
      f"missed {tr['missed']}, dropped starts {tr['dropped_starts']}, held {tr.get('held', 0)} "
      f"({tr.get('held_s', 0):.1f} s); spans created {s['created']}, "
      f"exported {s['exported']}, dropped {s['dropped']}")
rows = r.get("measurements", {}).get("series", {}).get("rows", [])
if rows:
    peak = max(rows, key=lambda row: row["traces_in_flight"])
    n = max(peak["traces_in_flight"], 1)
    print(f"  most traces in flight {peak['traces_in_flight']}, RSS then {peak['rss_bytes'] / 1e6:.0f} MB "
          f"({rows[0]['rss_bytes'] / 1e6:.0f} MB at the start): {peak['rss_bytes'] / n / 1e3:.1f} KB per trace "
          f"in flight, {(peak['rss_bytes'] - rows[0]['rss_bytes']) / n / 1e3:.1f} KB beyond the start; "
          f"peak RSS / most in flight {rss_mb * 1e3 / n:.1f} KB")
PY
done
kill -TERM "$sink_pid"
wait "$sink_pid" || true
sink_pid=
python3 -c 'import json,sys; t=open(sys.argv[1]).read(); j=json.loads(t[t.index("{"):]); print("sink: %d spans, %d orphans, %d traces without root" % (j["spans"], j["orphan_spans"], j["traces_without_root"]))' "$work/sink.out"
