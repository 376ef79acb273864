"""Checks the read load of a `scaletest run --query-rate --json` report against a real backend:
every operation ran, was answered with 2xx and returned rows (a count above 0), no answer was a
5xx or undecodable, nothing was left unanswered, and at most a tenth of each operation's queries
timed out or lost their connection (two cores shared with the generator: these servers answer
some reads in seconds). The only refusal allowed is Phoenix's 404 for a project that its first
spans have not created yet. Usage: check_read_load.py BACKEND REPORT.json"""

import json
import sys

OPERATIONS = ("list", "get", "search", "count")


def main() -> int:
    backend, path = sys.argv[1], sys.argv[2]
    report = json.load(open(path))
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    queries = report.get("queries") or {}
    need(not queries.get("unsupported"), f"operations not run: {queries.get('unsupported')}")
    ops = {o["op"]: o for o in queries.get("operations", [])}
    need(sorted(ops) == sorted(OPERATIONS), f"operations run: {sorted(ops)}")
    for name, o in ops.items():
        need(o["ok"] > 0, f"{name}: no 2xx answer ({o['by_status']})")
        refused = {k: v for k, v in o["by_status"].items() if not (backend == "phoenix" and k == "404")}
        need(not refused, f"{name}: refused {refused}")
        for key in ("http_5xx", "unanswered", "decode_errors"):
            need(o[key] == 0, f"{name}: {key} {o[key]}")
        lost = o["timeout"] + o["transport"]
        need(lost * 10 <= o["started"], f"{name}: {o['timeout']} timeouts, {o['transport']} transport errors of {o['started']}")
        if name == "count":
            need((o.get("max_count") or 0) > 0, f"count: largest count {o.get('max_count')}")
        else:
            need(o["rows"] > 0, f"{name}: no row in {o['ok']} answers")
        lat = o["latency"]
        print(f"{backend} {name}: {o['started']} sent, {o['ok']} ok {o['by_status']}, {o['timeout']} timeouts, "
              f"{o['transport']} transport errors, {o['empty']} empty, "
              f"{o['rows']} rows, p50 {lat['p50_ms']} ms p99 {lat['p99_ms']} ms max {lat['max_ms']} ms")
    if problems:
        for p in problems:
            print(f"{backend}: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
