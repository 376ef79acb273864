"""deploy/tools/k8s_validate.py fails for manifests broken on purpose.

Each test copies deploy/kubernetes/ to a temporary directory, breaks one thing and checks
that the validator fails and says what is wrong. Needs kubernetes-validate (the virtualenv of
.ci/k8s-validate.sh); skipped without it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "deploy" / "kubernetes"
sys.path.insert(0, str(REPO / "deploy" / "tools"))

HAVE_VALIDATE = importlib.util.find_spec("kubernetes_validate") is not None


@unittest.skipUnless(HAVE_VALIDATE, "kubernetes-validate is not installed")
class BrokenManifestTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="k8s-validate-test-"))
        self.addCleanup(shutil.rmtree, tmp)
        self.dir = tmp / "kubernetes"
        shutil.copytree(MANIFESTS, self.dir)

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.dir / name
        text = path.read_text()
        self.assertIn(old, text, f"{name} no longer contains {old!r}: update this test")
        path.write_text(text.replace(old, new, 1))

    def validate(self, kustomize: bool = False) -> tuple[int, str]:
        import k8s_validate

        args = ["--repo", str(REPO), "--manifests", str(self.dir)]
        if not kustomize:
            args.append("--no-kustomize")  # quicker; rendering has its own test
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = k8s_validate.main(args)
        return code, out.getvalue()

    def assertFails(self, *needles: str, kustomize: bool = False) -> None:
        code, out = self.validate(kustomize)
        self.assertEqual(code, 1, out)
        verdict = out[out.rindex("manifests: FAIL") :]
        for needle in needles:
            self.assertIn(needle, verdict)

    def test_unchanged_manifests_pass(self) -> None:
        code, out = self.validate(kustomize=True)
        self.assertEqual(code, 0, out)

    def test_misspelt_field_fails_in_strict_mode(self) -> None:
        self.edit("job.yaml", "  parallelism: 4\n", "  paralelism: 4\n")
        self.assertFails("Additional properties are not allowed ('paralelism' was unexpected)")

    def test_wrong_type_fails(self) -> None:
        self.edit("job.yaml", "activeDeadlineSeconds: 7200", 'activeDeadlineSeconds: "2h"')
        self.assertFails("spec.activeDeadlineSeconds: '2h' is not of type 'integer'")

    def test_unknown_api_version_fails(self) -> None:
        self.edit("job.yaml", "apiVersion: batch/v1", "apiVersion: batch/v2")
        self.assertFails("Couldn't find schema for kind Job with api version batch/v2")

    def test_variable_the_cli_does_not_read_fails(self) -> None:
        self.edit("configmap.yaml", '  SCALE_TEST_RATE_LIMIT: "200"', '  SCALE_TEST_RATE: "200"')
        self.assertFails("SCALE_TEST_RATE is not read by the CLI (set in configmap.yaml")

    def test_expected_names_are_accepted_only_while_listed(self) -> None:
        # A name the CLI does not read yet passes only while deploy/kubernetes/EXPECTED_ENV
        # lists it (the file is absent while every name is read).
        self.edit("configmap.yaml", '  SCALE_TEST_RATE_LIMIT: "200"', '  SCALE_TEST_RATE: "200"')
        (self.dir / "EXPECTED_ENV").write_text("# names read soon\nSCALE_TEST_RATE\n")
        code, out = self.validate()
        self.assertEqual(code, 0, out)
        (self.dir / "EXPECTED_ENV").write_text("# names read soon\n")
        self.assertFails("SCALE_TEST_RATE is not read by the CLI")

    def test_shard_count_mismatch_fails(self) -> None:
        self.edit("job.yaml", 'value: "4"', 'value: "3"')
        self.assertFails("SCALE_TEST_SHARDS ['3'] != completions 4")

    def test_retries_fail(self) -> None:
        self.edit("job.yaml", "backoffLimitPerIndex: 0", "backoffLimitPerIndex: 2")
        self.assertFails("set backoffLimitPerIndex: 0")

    def test_writable_root_filesystem_fails(self) -> None:
        self.edit("job.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
        self.assertFails("securityContext needs readOnlyRootFilesystem: true")

    def test_report_outside_the_volume_fails(self) -> None:
        self.edit("job.yaml", "value: /reports/report.json", "value: /tmp/report.json")
        self.assertFails("SCALE_TEST_JSON /tmp/report.json is on no mounted volume")

    def test_marker_collect_does_not_know_fails(self) -> None:
        self.edit("job.yaml", 'echo "----- END SCALETEST REPORT -----"', 'echo "----- END -----"')
        self.assertFails("the command does not print")

    def test_dangling_secret_reference_fails(self) -> None:
        self.edit("job.yaml", "name: scaletest-keys", "name: scaletest-key")
        self.assertFails("envFrom Secret 'scaletest-key' is in no manifest here")

    @unittest.skipUnless(shutil.which("kubectl"), "kubectl not installed")
    def test_kustomize_output_is_checked(self) -> None:
        # The patch sets N = 5; a replacement target removed leaves parallelism at 4.
        self.edit("kustomization.yaml", "value: 4", "value: 5")
        self.edit("kustomization.yaml", "          - spec.parallelism\n", "")
        self.assertFails("kustomize: Job/scaletest: parallelism 4 != completions 5", kustomize=True)


if __name__ == "__main__":
    unittest.main()
