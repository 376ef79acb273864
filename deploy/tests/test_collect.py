"""Offline tests of deploy/kubernetes/collect.sh and of the Job's container script.

collect.sh runs against a stub `kubectl` (first on PATH) that answers from fixture files and
rejects calls it does not expect, and a stub `scaletest` that records the merge it is asked
for. The Job's container script (job.yaml) runs under /bin/sh with a stub `scaletest run`, and
its output, as a pod's log, goes through collect.sh.

    python3 -m unittest discover -s deploy/tests -v
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECT = REPO / "deploy" / "kubernetes" / "collect.sh"
JOB_YAML = REPO / "deploy" / "kubernetes" / "job.yaml"

BEGIN = "----- BEGIN SCALETEST REPORT shard={} -----"
END = "----- END SCALETEST REPORT -----"

# kubectl stub: answers the three kinds of call collect.sh makes from files in $FAKE_K8S,
# records every call in $FAKE_K8S/calls, and fails (exit 64) on anything else.
KUBECTL_STUB = r'''#!/usr/bin/env python3
import os, sys
from pathlib import Path

d = Path(os.environ["FAKE_K8S"])
args = sys.argv[1:]
with open(d / "calls", "a") as f:
    f.write(" ".join(args) + "\n")

def bad():
    sys.stderr.write("kubectl stub: unexpected call: %r\n" % (args,))
    sys.exit(64)

if args[:2] != ["--namespace", (d / "namespace").read_text().strip()]:
    bad()
rest = args[2:]
job = (d / "jobname").read_text().strip()
if rest[:3] == ["get", "job", job] and rest[3:4] == ["-o"] and len(rest) == 5:
    if rest[4] != 'jsonpath={.spec.completions}{" "}{.status.conditions[?(@.status=="True")].type}':
        bad()
    # One state per call; the last one stays.
    states = (d / "job").read_text().splitlines()
    if len(states) > 1:
        (d / "job").write_text("\n".join(states[1:]) + "\n")
    sys.stdout.write(states[0])
elif rest[:2] == ["get", "job"]:
    sys.stderr.write('Error from server (NotFound): jobs.batch "%s" not found\n' % rest[2])
    sys.exit(1)
elif rest[:4] == ["get", "pods", "-l", "job-name=" + job] and rest[4:5] == ["-o"]:
    sys.stdout.write((d / "pods").read_text())
elif rest[:1] == ["logs"] and rest[2:] == ["-c", "scaletest"] and rest[1].startswith("pod/"):
    pod = rest[1][len("pod/"):]
    log = d / "logs" / (pod + ".log")
    if not log.exists():
        sys.stderr.write('Error from server (NotFound): pods "%s" not found\n' % pod)
        sys.exit(1)
    sys.stdout.buffer.write(log.read_bytes())
else:
    bad()
'''

# scaletest stub for `scaletest merge FILES --json OUT --html OUT`: records its arguments and
# writes both outputs. $FAKE_MERGE_EXIT makes it fail.
SCALETEST_MERGE_STUB = r'''#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_MERGE_ARGS"], "w") as f:
    json.dump(args, f)
if args[0] != "merge":
    sys.exit(2)
code = int(os.environ.get("FAKE_MERGE_EXIT", "0"))
if code == 0:
    out = dict(zip(args[1:], args[2:]))
    open(out["--json"], "w").write("{}\n")
    open(out["--html"], "w").write("<html></html>\n")
sys.exit(code)
'''

# scaletest stub for `scaletest run --json FILE`, standing in for the real run in the Job's
# script: prints some output, writes a report, exits with $FAKE_RUN_EXIT. With
# $FAKE_RUN_UNTIL_SIGINT it runs until SIGINT (as the real run does on Ctrl-C), then writes
# its report. With $FAKE_RUN_NO_REPORT it writes none.
SCALETEST_RUN_STUB = r'''#!/usr/bin/env python3
import json, os, signal, sys, time
args = sys.argv[1:]
assert args[0] == "run" and args[1] == "--json", args
path = args[2]
stopped = []
signal.signal(signal.SIGINT, lambda *_: stopped.append(1))
if os.environ.get("FAKE_RUN_READY"):
    open(os.environ["FAKE_RUN_READY"], "w").close()
print("scaletest: shard %s/%s, starting" % (os.environ.get("JOB_COMPLETION_INDEX"),
      os.environ.get("SCALE_TEST_SHARDS")), flush=True)
print("progress line that mentions ----- END SCALETEST REPORT ----- in passing", flush=True)
if os.environ.get("FAKE_RUN_UNTIL_SIGINT"):
    deadline = time.time() + 20
    while not stopped and time.time() < deadline:
        time.sleep(0.02)
    print("scaletest: stopped early", flush=True)
if not os.environ.get("FAKE_RUN_NO_REPORT"):
    report = {"shard": os.environ.get("JOB_COMPLETION_INDEX"), "stopped_early": bool(stopped),
              "text": "two\nlines and a marker-like ----- BEGIN SCALETEST REPORT shard=9 -----"}
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        if os.environ.get("FAKE_RUN_TRAILING_NEWLINE"):
            f.write("\n")
sys.exit(int(os.environ.get("FAKE_RUN_EXIT", "0")))
'''


def write_exe(path: Path, text: str) -> None:
    # The stubs run with this interpreter, without site packages: quicker than a `python3`
    # found on PATH (which may be a version manager's shim).
    if text.startswith("#!/usr/bin/env python3\n"):
        text = f"#!{sys.executable} -S\n" + text.split("\n", 1)[1]
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def report(shard: int) -> str:
    """A pretty-printed JSON report, as the CLI writes it."""
    return json.dumps({"shard": shard, "totals": {"traces": 100 + shard}}, indent=2)


def pod_log(shard: int, body: str | None = None, end: bool = True) -> str:
    lines = [
        "scaletest: waiting for the start time",
        "  summary line: p99 12 ms",
        BEGIN.format(shard),
        report(shard) if body is None else body,
    ]
    if end:
        lines.append(END)
    return "\n".join(lines) + "\n"


class CollectFixture(unittest.TestCase):
    """A temporary directory with the kubectl and scaletest stubs first on PATH."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="collect-test-"))
        self.addCleanup(shutil.rmtree, self.tmp)
        self.k8s = self.tmp / "k8s"
        (self.k8s / "logs").mkdir(parents=True)
        self.bin = self.tmp / "bin"
        self.bin.mkdir()
        write_exe(self.bin / "kubectl", KUBECTL_STUB)
        write_exe(self.bin / "scaletest", SCALETEST_MERGE_STUB)
        self.work = self.tmp / "work"
        self.work.mkdir()
        self.merge_args = self.tmp / "merge-args.json"
        self.set_job("scaletest", "scaletest")

    # Fixtures

    def set_job(self, name: str, namespace: str) -> None:
        (self.k8s / "jobname").write_text(name)
        (self.k8s / "namespace").write_text(namespace)

    def set_state(self, *states: str) -> None:
        (self.k8s / "job").write_text("\n".join(states) + "\n")

    def set_pods(self, logs: dict[str, str | None], phase: str = "Succeeded") -> None:
        """Pods and their logs (None: the log cannot be read)."""
        (self.k8s / "pods").write_text("".join(f"{pod} {phase}\n" for pod in logs))
        for pod, log in logs.items():
            if log is not None:
                (self.k8s / "logs" / f"{pod}.log").write_text(log)

    def run_collect(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env.update(
            PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            FAKE_K8S=str(self.k8s),
            FAKE_MERGE_ARGS=str(self.merge_args),
            COLLECT_POLL_SECONDS="0",
        )
        full_env.pop("KUBECTL", None)
        full_env.pop("SCALETEST", None)
        full_env.update(env or {})
        return subprocess.run(
            ["bash", str(COLLECT), *args],
            cwd=self.work,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def calls(self) -> list[str]:
        path = self.k8s / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def assertFailed(self, result: subprocess.CompletedProcess, code: int, *needles: str):
        self.assertEqual(result.returncode, code, result.stderr)
        for needle in needles:
            self.assertIn(needle, result.stderr)



class CollectTest(CollectFixture):
    def test_collects_every_shard_and_merges_them_in_order(self) -> None:
        self.set_state("3 SuccessCriteriaMet Complete")
        # Pods listed out of order, with a Windows line ending in one log.
        self.set_pods(
            {
                "scaletest-2-abcde": pod_log(2),
                "scaletest-0-fghij": pod_log(0).replace("\n", "\r\n"),
                "scaletest-1-klmno": pod_log(1),
            }
        )
        result = self.run_collect()
        self.assertEqual(result.returncode, 0, result.stderr)
        out = self.work / "reports"
        for shard in range(3):
            text = (out / f"shard-{shard}.json").read_text()
            self.assertEqual(text, report(shard) + "\n")
            self.assertEqual(json.loads(text)["shard"], shard)
        self.assertEqual(
            json.loads(self.merge_args.read_text()),
            [
                "merge",
                "reports/shard-0.json",
                "reports/shard-1.json",
                "reports/shard-2.json",
                "--json",
                "reports/merged.json",
                "--html",
                "reports/merged.html",
            ],
        )
        self.assertTrue((out / "merged.html").exists())
        self.assertIn("all 3 report(s) in reports/", result.stderr)

    def test_job_name_namespace_and_output_directory(self) -> None:
        self.set_job("load-7", "perf")
        self.set_state("2 Complete")
        self.set_pods({"load-7-0-x": pod_log(0), "load-7-1-y": pod_log(1)})
        result = self.run_collect("--out", "out/run7", "--no-merge", "load-7", "perf")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue((self.work / "out/run7/shard-1.json").exists())
        self.assertFalse(self.merge_args.exists())
        self.assertIn("--namespace perf get pods -l job-name=load-7 -o", "\n".join(self.calls()))

    def test_a_failed_job_with_all_reports_is_collected(self) -> None:
        # A shard that failed its thresholds (exit 3) still printed its report.
        self.set_state("2 FailureTarget Failed")
        self.set_pods({"scaletest-0-a": pod_log(0), "scaletest-1-b": pod_log(1)}, phase="Failed")
        result = self.run_collect()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(self.merge_args.exists())

    def test_missing_report_fails_and_names_the_shard(self) -> None:
        self.set_state("3 Failed")
        self.set_pods(
            {
                "scaletest-0-a": pod_log(0),
                "scaletest-1-b": "error: invalid --rate: expected a number\n",
                "scaletest-2-c": pod_log(2),
            }
        )
        result = self.run_collect()
        self.assertFailed(
            result, 1, "pod scaletest-1-b (Succeeded): no report", "invalid --rate",
            "shard 1: no report collected", "2 of 3 report(s)",
        )
        self.assertFalse(self.merge_args.exists())
        # What was collected is kept.
        self.assertTrue((self.work / "reports/shard-2.json").exists())

    def test_report_cut_short_fails(self) -> None:
        self.set_state("2 Complete")
        self.set_pods({"scaletest-0-a": pod_log(0), "scaletest-1-b": pod_log(1, end=False)})
        result = self.run_collect()
        self.assertFailed(result, 1, "scaletest-1-b (Succeeded): the report has no end marker")
        self.assertFalse((self.work / "reports/shard-1.json").exists())
        self.assertFalse(self.merge_args.exists())

    def test_two_pods_with_the_same_shard_fail(self) -> None:
        self.set_state("2 Complete")
        self.set_pods({"scaletest-0-a": pod_log(0), "scaletest-0-b": pod_log(0)})
        result = self.run_collect()
        self.assertFailed(
            result, 1, "shard 0: reports from two pods (scaletest-0-a and scaletest-0-b)",
            "shard 1: no report collected",
        )

    def test_shard_out_of_range_and_two_reports_in_one_log_fail(self) -> None:
        self.set_state("1 Complete")
        self.set_pods({"scaletest-0-a": pod_log(0) + pod_log(0), "scaletest-5-b": pod_log(5)})
        result = self.run_collect()
        self.assertFailed(
            result, 1, "scaletest-0-a (Succeeded): more than one report",
            "report of shard 5, but the Job has 1 shard(s)",
        )

    def test_unreadable_log_fails(self) -> None:
        self.set_state("1 Complete")
        self.set_pods({"scaletest-0-a": None})
        result = self.run_collect()
        self.assertFailed(result, 1, "pod scaletest-0-a (Succeeded): cannot read its log")

    def test_running_job_is_refused_without_wait(self) -> None:
        self.set_state("2 ")
        result = self.run_collect()
        self.assertFailed(result, 1, "has not finished (conditions: none)", "--wait")
        self.assertFalse(any(" logs " in c for c in self.calls()))

    def test_wait_polls_until_the_job_finishes(self) -> None:
        self.set_state("2 Suspended", "2 ", "2 ", "2 SuccessCriteriaMet Complete")
        self.set_pods({"scaletest-0-a": pod_log(0), "scaletest-1-b": pod_log(1)})
        result = self.run_collect("--wait", "--no-merge")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sum(" get job " in c for c in self.calls()), 4)

    def test_wait_gives_up_after_the_timeout(self) -> None:
        self.set_state("2 ")
        result = self.run_collect(
            "--wait", "--timeout", "1", env={"COLLECT_POLL_SECONDS": "0.2"}
        )
        self.assertFailed(result, 1, "still not finished after 1s")

    def test_job_not_found_and_bad_usage_exit_2(self) -> None:
        self.set_state("2 Complete")
        self.assertFailed(self.run_collect("nosuchjob"), 2, "cannot read job/nosuchjob")
        self.assertFailed(self.run_collect("--bogus"), 2, "unknown option --bogus")
        self.assertFailed(self.run_collect("a", "b", "c"), 2, "at most JOB and NAMESPACE")

    def test_merge_failure_is_the_exit_status(self) -> None:
        self.set_state("1 Complete")
        self.set_pods({"scaletest-0-a": pod_log(0)})
        result = self.run_collect(env={"FAKE_MERGE_EXIT": "1"})
        self.assertEqual(result.returncode, 1, result.stderr)

    def test_missing_scaletest_binary_prints_the_merge_command(self) -> None:
        self.set_state("1 Complete")
        self.set_pods({"scaletest-0-a": pod_log(0)})
        result = self.run_collect(env={"SCALETEST": str(self.tmp / "no-such-scaletest")})
        self.assertFailed(result, 1, "not found", "scaletest merge reports/shard-0.json")
        self.assertTrue((self.work / "reports/shard-0.json").exists())


def job_script() -> str:
    """The container script of job.yaml (the /bin/sh -c argument)."""
    import yaml  # PyYAML: in the validation virtualenv

    for doc in yaml.safe_load_all(JOB_YAML.read_text()):
        if doc and doc.get("kind") == "Job":
            (container,) = doc["spec"]["template"]["spec"]["containers"]
            assert container["command"] == ["/bin/sh", "-c"], container["command"]
            return container["args"][0]
    raise AssertionError("no Job in job.yaml")


@unittest.skipUnless(Path("/bin/sh").exists(), "needs /bin/sh")
class JobScriptTest(CollectFixture):
    """The Job's script prints what collect.sh extracts, passes on exit codes and signals."""

    def run_job_script(self, shard: int, env: dict | None = None, sigterm: bool = False):
        reports = self.tmp / f"reports-{shard}"
        reports.mkdir()
        run_bin = self.tmp / "run-bin"
        run_bin.mkdir(exist_ok=True)
        write_exe(run_bin / "scaletest", SCALETEST_RUN_STUB)
        ready = self.tmp / f"ready-{shard}"
        full_env = {
            "PATH": f"{run_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "JOB_COMPLETION_INDEX": str(shard),
            "SCALE_TEST_SHARDS": "2",
            "SCALE_TEST_JSON": str(reports / "report.json"),
            "FAKE_RUN_READY": str(ready),
        }
        full_env.update(env or {})
        proc = subprocess.Popen(
            ["/bin/sh", "-c", job_script()],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if sigterm:
            deadline = time.time() + 10
            while not ready.exists() and time.time() < deadline:
                time.sleep(0.02)
            time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        return proc.returncode, out

    def test_job_script_output_goes_through_collect(self) -> None:
        code0, log0 = self.run_job_script(0)
        code1, log1 = self.run_job_script(1, {"FAKE_RUN_EXIT": "3", "FAKE_RUN_TRAILING_NEWLINE": "1"})
        self.assertEqual((code0, code1), (0, 3))
        self.assertIn(BEGIN.format(0), log0.splitlines())
        self.assertEqual(log0.splitlines()[-1], END)
        self.set_state("2 Failed")
        self.set_pods({"scaletest-0-a": log0, "scaletest-1-b": log1})
        result = self.run_collect("--no-merge")
        self.assertEqual(result.returncode, 0, result.stderr)
        for shard in (0, 1):
            written = (self.tmp / f"reports-{shard}" / "report.json").read_text()
            collected = (self.work / "reports" / f"shard-{shard}.json").read_text()
            self.assertEqual(collected.rstrip("\n"), written.rstrip("\n"))
            self.assertEqual(json.loads(collected)["shard"], str(shard))

    def test_no_report_keeps_the_exit_code_and_prints_no_markers(self) -> None:
        code, log = self.run_job_script(0, {"FAKE_RUN_NO_REPORT": "1", "FAKE_RUN_EXIT": "2"})
        self.assertEqual(code, 2)
        self.assertNotIn("BEGIN SCALETEST REPORT shard=0", log)
        self.assertIn("exited with code 2 and wrote no report", log)

    def test_sigterm_stops_the_run_with_sigint_and_the_report_is_printed(self) -> None:
        code, log = self.run_job_script(1, {"FAKE_RUN_UNTIL_SIGINT": "1"}, sigterm=True)
        self.assertEqual(code, 0, log)
        self.assertIn("scaletest: stopped early", log)
        body = log.split(BEGIN.format(1) + "\n", 1)[1].split(END, 1)[0]
        self.assertTrue(json.loads(body)["stopped_early"])


if __name__ == "__main__":
    unittest.main()
