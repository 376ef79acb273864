#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests in deploy/kubernetes/.

Run by .ci/k8s-validate.sh inside a virtualenv that has kubernetes-validate (and so PyYAML and
jsonschema). No cluster is needed. Checks:

1. schema: every manifest (and the output of `kubectl kustomize`, when kubectl is installed)
   against the OpenAPI schemas of the pinned Kubernetes versions, in strict mode (an unknown
   field fails). A kind or apiVersion with no schema fails too (kubernetes-validate itself only
   warns about it).
2. env: every environment variable the manifests set (Job env, ConfigMap and Secret keys) is
   one the CLI reads: `env = "..."` attributes and env lookups in cli/src, .env.example, and the
   platform variables of scenario-runtime/src/platform. Names set by Kubernetes are allowed, and
   so are the names in deploy/kubernetes/EXPECTED_ENV (read by the CLI soon).
3. job: Indexed Jobs agree with themselves and with the other files: completions, parallelism
   and SCALE_TEST_SHARDS equal; no retries; references to ConfigMaps and Secrets resolve; the
   report path is on a writable volume; non-root with the Dockerfile's numeric user; the
   report markers are the ones collect.sh looks for.

Exit status 0 when every check passes, 1 otherwise; the last line is the verdict.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

# Kubernetes versions the manifests are validated against: the oldest one they support
# (podFailurePolicy is GA from 1.31; backoffLimitPerIndex is on by default from 1.29, GA in
# 1.33) and the newest whose schemas the pinned kubernetes-validate bundles.
K8S_VERSIONS = ("1.31", "1.37")

# Set by Kubernetes in the pods of an Indexed Job, never by the manifests' authors.
SET_BY_KUBERNETES = {"JOB_COMPLETION_INDEX"}

ENV_NAME = r"[A-Z][A-Z0-9_]*"
BEGIN_MARKER = "----- BEGIN SCALETEST REPORT shard="
END_MARKER = "----- END SCALETEST REPORT -----"


class Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.passed = 0

    def ok(self, what: str) -> None:
        self.passed += 1
        print(f"  ok    {what}")

    def fail(self, what: str) -> None:
        self.problems.append(what)
        print(f"  FAIL  {what}")

    def note(self, what: str) -> None:
        print(f"  note  {what}")


# ---------------------------------------------------------------------------------------------
# Loading


def load_manifests(directory: Path) -> list[tuple[str, dict]]:
    """Every resource in the directory's *.yaml files except kustomization.yaml, with its file."""
    docs = []
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        if path.name in ("kustomization.yaml", "kustomization.yml"):
            continue
        with path.open() as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    docs.append((path.name, doc))
    return docs


def kustomize_render(directory: Path) -> tuple[list[tuple[str, dict]] | None, str]:
    """The resources `kubectl kustomize` renders, or None and why not."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None, "kubectl not found"
    proc = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0:
        return [], proc.stderr.strip() or f"exit code {proc.returncode}"
    docs = [("kustomize", doc) for doc in yaml.safe_load_all(proc.stdout) if doc]
    return docs, ""


def resource_name(doc: dict) -> str:
    return f"{doc.get('kind', '?')}/{(doc.get('metadata') or {}).get('name', '?')}"


# ---------------------------------------------------------------------------------------------
# 1. Schema


def check_schema(c: Checker, docs: list[tuple[str, dict]], versions: tuple[str, ...]) -> None:
    from kubernetes_validate import utils as kv

    for source, doc in docs:
        for version in versions:
            what = f"{source}: {resource_name(doc)} valid against Kubernetes {version} (strict)"
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "(top level)"
                c.fail(f"{what}: {path}: {e.message}")
            except kv.SchemaNotFoundError as e:
                c.fail(f"{what}: {e.message}")
            except kv.VersionNotSupportedError:
                c.fail(f"{what}: this kubernetes-validate has no schemas for {version}")
            else:
                c.ok(what)


# ---------------------------------------------------------------------------------------------
# 2. Environment variable names


def names_read_by_cli(repo: Path) -> dict[str, set[str]]:
    """The variable names the CLI reads, by where they were found."""
    found: dict[str, set[str]] = {}

    cli = set()
    for path in sorted((repo / "cli" / "src").rglob("*.rs")):
        text = path.read_text()
        # clap attributes: #[arg(long, env = "NAME")]
        cli.update(re.findall(rf'\benv\s*=\s*"({ENV_NAME})"', text))
        # lookups: std::env::var("NAME"), var_os("NAME"), ...
        cli.update(re.findall(rf'\bvars?(?:_os)?\(\s*"({ENV_NAME})"', text))
    found["cli/src"] = cli

    example = repo / ".env.example"
    found[".env.example"] = set(
        re.findall(rf"^\s*#?\s*({ENV_NAME})=", example.read_text(), flags=re.MULTILINE)
    )

    platform = set()
    platform_dir = repo / "scenario-runtime" / "src" / "platform"
    mod = platform_dir / "mod.rs"
    # The match arms of PlatformSettings::field_mut: "NAME" | "NAME" => ...
    platform.update(re.findall(rf'"({ENV_NAME})"(?=\s*(?:\||=>))', mod.read_text()))
    profiles = platform_dir / "profiles.rs"
    if profiles.exists():
        # settings_env tables: ("NAME", "description")
        platform.update(re.findall(rf'\(\s*"({ENV_NAME})"\s*,', profiles.read_text()))
    found["scenario-runtime/src/platform"] = platform
    return found


def read_expected(path: Path) -> set[str]:
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    return names


def names_set_by(docs: list[tuple[str, dict]]) -> list[tuple[str, str]]:
    """(name, where) for every variable the manifests set."""
    out = []
    for source, doc in docs:
        kind = doc.get("kind")
        where = f"{source}: {resource_name(doc)}"
        if kind == "ConfigMap":
            for key in (doc.get("data") or {}) | (doc.get("binaryData") or {}):
                out.append((key, where))
        elif kind == "Secret":
            for key in (doc.get("data") or {}) | (doc.get("stringData") or {}):
                out.append((key, where))
        for container in pod_containers(doc):
            for env in container.get("env") or []:
                out.append((env.get("name", ""), f"{where} container {container.get('name')}"))
    return out


def check_env_names(c: Checker, repo: Path, docs: list[tuple[str, dict]], expected_file: Path):
    found = names_read_by_cli(repo)
    known = set().union(*found.values())
    counts = ", ".join(f"{where}: {len(names)}" for where, names in found.items())
    c.note(f"names the CLI reads: {len(known)} ({counts})")
    for where, names in found.items():
        if not names:
            c.fail(f"no variable names found in {where}: has the code moved?")
    expected = read_expected(expected_file)
    if expected:
        c.note(f"names expected soon ({expected_file.name}): {', '.join(sorted(expected))}")
    for name in sorted(expected & known):
        c.note(f"{name} is now read by the CLI: delete it from {expected_file.name}")

    unknown: dict[str, list[str]] = {}
    checked = 0
    for name, where in names_set_by(docs):
        checked += 1
        if name in known or name in expected or name in SET_BY_KUBERNETES:
            continue
        unknown.setdefault(name, []).append(where)
    for name, wheres in sorted(unknown.items()):
        c.fail(f"{name} is not read by the CLI (set in {'; '.join(sorted(set(wheres)))})")
    if not unknown:
        c.ok(f"all {checked} variables set by the manifests are read by the CLI")


# ---------------------------------------------------------------------------------------------
# 3. Jobs


def pod_spec(doc: dict) -> dict:
    if doc.get("kind") == "Job":
        return ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    return {}


def pod_containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc)
    return (spec.get("containers") or []) + (spec.get("initContainers") or [])


def dockerfile_user(repo: Path) -> str | None:
    dockerfile = repo / "Dockerfile"
    if not dockerfile.exists():
        return None
    users = re.findall(r"^\s*USER\s+(\S+)", dockerfile.read_text(), flags=re.MULTILINE)
    return users[-1] if users else None


def check_jobs(
    c: Checker,
    repo: Path,
    docs: list[tuple[str, dict]],
    collect: Path,
    others: list[tuple[str, dict]] = (),
) -> None:
    """Checks the Jobs among `docs`; their references may point to `docs` or `others`."""
    by_kind: dict[str, set[str]] = {}
    for _, doc in list(docs) + list(others):
        by_kind.setdefault(doc.get("kind", ""), set()).add(resource_name(doc).split("/", 1)[1])
    jobs = [(s, d) for s, d in docs if d.get("kind") == "Job"]
    if not jobs:
        c.fail("no Job among the manifests")
    image_user = dockerfile_user(repo)
    collect_text = collect.read_text() if collect.exists() else ""

    for source, job in jobs:
        name = f"{source}: {resource_name(job)}"
        spec = job.get("spec") or {}
        pod = pod_spec(job)

        if spec.get("completionMode") != "Indexed":
            c.fail(f"{name}: completionMode must be Indexed (shards get JOB_COMPLETION_INDEX)")
            continue
        n = spec.get("completions")
        par = spec.get("parallelism")
        shard_values = [
            env.get("value")
            for ct in pod_containers(job)
            for env in ct.get("env") or []
            if env.get("name") == "SCALE_TEST_SHARDS"
        ]
        if not isinstance(n, int) or n < 1:
            c.fail(f"{name}: completions must be N >= 1, found {n!r}")
        elif par != n:
            c.fail(f"{name}: parallelism {par!r} != completions {n}: shards would not run together")
        elif shard_values != [str(n)]:
            c.fail(f"{name}: SCALE_TEST_SHARDS {shard_values} != completions {n}")
        else:
            c.ok(f"{name}: completions = parallelism = SCALE_TEST_SHARDS = {n}")

        if spec.get("backoffLimitPerIndex") == 0 or spec.get("backoffLimit") == 0:
            c.ok(f"{name}: a failed shard is not retried")
        else:
            c.fail(f"{name}: set backoffLimitPerIndex: 0 (a retried shard starts late)")
        if pod.get("restartPolicy") != "Never":
            c.fail(f"{name}: restartPolicy must be Never (a restarted container starts late)")

        # References to ConfigMaps and Secrets.
        refs_ok = True
        for ct in pod_containers(job):
            for src in ct.get("envFrom") or []:
                for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    ref = (src.get(field) or {}).get("name")
                    if ref is not None and ref not in by_kind.get(kind, set()):
                        refs_ok = False
                        c.fail(f"{name}: envFrom {kind} {ref!r} is in no manifest here")
        if refs_ok:
            c.ok(f"{name}: envFrom references resolve")

        # Security context: non-root with the image's numeric user, read-only root, no caps.
        psc = pod.get("securityContext") or {}
        for ct in pod.get("containers") or []:
            csc = ct.get("securityContext") or {}

            def setting(key: str, csc: dict = csc):
                return csc.get(key, psc.get(key))

            cname = f"{name} container {ct.get('name')}"
            bad = []
            if setting("runAsNonRoot") is not True:
                bad.append("runAsNonRoot: true")
            if csc.get("readOnlyRootFilesystem") is not True:
                bad.append("readOnlyRootFilesystem: true")
            if csc.get("allowPrivilegeEscalation") is not False:
                bad.append("allowPrivilegeEscalation: false")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                bad.append("capabilities.drop: [ALL]")
            uid = setting("runAsUser")
            if image_user is not None and uid is not None and str(uid) != image_user.split(":")[0]:
                bad.append(f"runAsUser {uid} = the Dockerfile's USER {image_user}")
            if bad:
                c.fail(f"{cname}: securityContext needs {', '.join(bad)}")
            else:
                c.ok(f"{cname}: non-root (uid {uid}), read-only root, no capabilities")

            res = ct.get("resources") or {}
            if not (res.get("requests") or {}).get("cpu") or not (res.get("limits") or {}).get(
                "memory"
            ):
                c.fail(f"{cname}: set resources (requests.cpu and limits.memory at least)")

            # The report is written on a mounted volume (the root filesystem is read-only).
            report = next(
                (e.get("value") for e in ct.get("env") or [] if e.get("name") == "SCALE_TEST_JSON"),
                None,
            )
            mounts = [m.get("mountPath", "") for m in ct.get("volumeMounts") or []]
            if report is None:
                c.fail(f"{cname}: set SCALE_TEST_JSON to the report's path")
            elif not any(report.startswith(m.rstrip("/") + "/") for m in mounts):
                c.fail(f"{cname}: SCALE_TEST_JSON {report} is on no mounted volume")
            else:
                c.ok(f"{cname}: report {report} on a mounted volume")

            # The container prints the markers collect.sh extracts.
            script = "\n".join((ct.get("command") or []) + (ct.get("args") or []))
            missing = [m for m in (BEGIN_MARKER, END_MARKER) if m not in script]
            unknown_to_collect = [m for m in (BEGIN_MARKER, END_MARKER) if m not in collect_text]
            if missing:
                c.fail(f"{cname}: the command does not print {missing}")
            elif unknown_to_collect:
                c.fail(f"{cname}: {collect.name} does not look for {unknown_to_collect}")
            else:
                c.ok(f"{cname}: prints the report markers {collect.name} extracts")
            check_shell_script(c, cname, ct)


def check_shell_script(c: Checker, cname: str, container: dict) -> None:
    """shellcheck on a container's `sh -c SCRIPT`, when shellcheck is installed."""
    command = (container.get("command") or []) + (container.get("args") or [])
    if len(command) < 3 or command[0] not in ("/bin/sh", "sh") or command[1] != "-c":
        return
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        c.note(f"{cname}: shellcheck not found, its script is not checked")
        return
    proc = subprocess.run(
        [shellcheck, "--shell=sh", "--format=gcc", "-"],
        input=command[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        findings = "; ".join(line.strip() for line in proc.stdout.splitlines() if line.strip())
        c.fail(f"{cname}: shellcheck on its script (line numbers within args[0]): {findings}")
    else:
        c.ok(f"{cname}: shellcheck finds nothing in its script")


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    repo_default = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=repo_default, help="repository root")
    parser.add_argument(
        "--manifests", type=Path, help="manifest directory (default REPO/deploy/kubernetes)"
    )
    parser.add_argument(
        "--k8s-version",
        action="append",
        help=f"Kubernetes version to validate against (repeatable; default {' '.join(K8S_VERSIONS)})",
    )
    parser.add_argument(
        "--no-kustomize", action="store_true", help="do not render kustomization.yaml"
    )
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    manifests = (args.manifests or repo / "deploy" / "kubernetes").resolve()
    versions = tuple(args.k8s_version or K8S_VERSIONS)

    c = Checker()
    docs = load_manifests(manifests)
    print(f"== manifests in {manifests}: {len(docs)} resources")
    if not docs:
        c.fail("no manifests found")

    rendered: list[tuple[str, dict]] = []
    if (manifests / "kustomization.yaml").exists() and not args.no_kustomize:
        result, why = kustomize_render(manifests)
        if result is None:
            c.note(f"kustomization.yaml not rendered: {why}")
        elif why:
            c.fail(f"kubectl kustomize failed: {why}")
        else:
            rendered = result
            c.ok(f"kubectl kustomize renders {len(rendered)} resources")

    print(f"== schema (Kubernetes {', '.join(versions)}, strict)")
    check_schema(c, docs + rendered, versions)

    print("== environment variable names")
    check_env_names(c, repo, docs, manifests / "EXPECTED_ENV")

    print("== jobs")
    check_jobs(c, repo, docs, manifests / "collect.sh")
    if rendered:
        # The Secret is created by hand, so it is not in the kustomization: look it up in the
        # directory's manifests (secret.example.yaml).
        check_jobs(c, repo, rendered, manifests / "collect.sh", others=docs)

    print()
    if c.problems:
        print(f"manifests: FAIL: {len(c.problems)} problem(s), {c.passed} checks passed")
        for p in c.problems:
            print(f"  - {p}")
        return 1
    print(f"manifests: PASS: {c.passed} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
