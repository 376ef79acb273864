"""Checks a `scaletest run --verify --json` report against a real backend: every accepted span
(or trace, where the backend counts traces) was stored, one root per trace, the span kinds the
backend assigned and token counts. Usage: check_readback.py BACKEND REPORT.json"""

import json
import sys


def main() -> int:
    backend, path = sys.argv[1], sys.argv[2]
    report = json.load(open(path))
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    spans, traces = report["spans"], report["traces"]
    need(spans["created"] > 0, "no span was created")
    need(spans["exported"] == spans["created"], f"accepted {spans['exported']} of {spans['created']} spans")
    need(traces["delivered"] == traces["started"], f"delivered {traces['delivered']} of {traces['started']} traces")
    v = report.get("verification") or {}
    need(v.get("outcome") == "all_visible", f"read-back outcome {v.get('outcome')}: {v.get('reason')}")
    need(v.get("spans_accepted") == spans["exported"], "read-back ledger differs from the exporter's books")
    countable = v.get("countable") or {}
    end = v.get("visible_at_end") or {}
    if countable.get("spans"):
        need(end.get("spans") == v.get("spans_accepted"), f"stored {end.get('spans')} of {v.get('spans_accepted')} spans")
    if countable.get("traces"):
        need(end.get("traces") == v.get("traces_accepted"), f"stored {end.get('traces')} of {v.get('traces_accepted')} traces")
    need(bool(countable.get("spans") or countable.get("traces")), "the backend counted nothing")
    whole = v.get("whole_traces") or {}
    need(whole.get("found", 0) > 0 and whole.get("found") == whole.get("asked"), f"whole traces found {whole.get('found')} of {whole.get('asked')}")
    for key in ("missing", "rootless", "several_roots", "span_count_differs"):
        need(not whole.get(key), f"whole traces {key}: {whole.get(key)}")
    kinds = whole.get("kinds") or {}
    for kind in ("AGENT", "LLM", "TOOL"):
        need(kinds.get(kind, 0) > 0, f"no span stored as {kind} (kinds {kinds})")
    need((whole.get("input_tokens") or 0) > 0 and (whole.get("output_tokens") or 0) > 0, f"tokens in {whole.get('input_tokens')} out {whole.get('output_tokens')}")
    lag = v.get("lag") or {}
    print(f"{backend}: {spans['exported']} spans accepted, stored {end}, lag p50 {lag.get('p50_ms')} ms p99 {lag.get('p99_ms')} ms max {lag.get('p100_ms')} ms, kinds {kinds}")
    if problems:
        for p in problems:
            print(f"{backend}: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
