#!/usr/bin/env bash
# Offline checks of the container image and Kubernetes files (no Docker, no cluster):
#   1. hadolint on Dockerfile
#   2. shellcheck on the deployment's shell scripts
#   3. deploy/tools/k8s_validate.py: every manifest in deploy/kubernetes/ (and the kustomize
#      output, when kubectl is installed) against the OpenAPI schemas of pinned Kubernetes
#      versions in strict mode; every environment variable the manifests set is one the CLI
#      reads (or is listed in deploy/kubernetes/EXPECTED_ENV); the Job's shards, retries,
#      security context and report markers agree
#   4. deploy/tests: collect.sh against a stub kubectl, and the Job's container script
# The tools (deploy/tools/requirements-k8s.txt, all versions pinned) go into a virtualenv that
# is kept between runs: $SCALETEST_K8S_VENV, by default ~/.cache/scaletest/venv-k8s. It is
# rebuilt when that file changes. Every step runs even when one fails; the last line is the
# verdict and the exit status is non-zero when any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

requirements=deploy/tools/requirements-k8s.txt
venv=${SCALETEST_K8S_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/scaletest/venv-k8s}
python=${PYTHON:-python3}

stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "== installing the tools into $venv"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --requirement "$requirements"
    echo "$want" >"$stamp"
else
    echo "== tools: cached in $venv"
fi
export PATH="$venv/bin:$PATH"

failed=()
step() {
    local name=$1
    shift
    echo
    echo "== $name"
    if "$@"; then
        echo "-- $name: ok"
    else
        echo "-- $name: FAILED"
        failed+=("$name")
    fi
}

step "hadolint Dockerfile" hadolint Dockerfile
step "shellcheck" shellcheck deploy/kubernetes/collect.sh .ci/k8s-validate.sh
step "manifests" "$venv/bin/python" deploy/tools/k8s_validate.py
step "collect.sh and job script tests" \
    "$venv/bin/python" -m unittest discover --start-directory deploy/tests

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "k8s-validate: FAIL (${failed[*]}) in $((SECONDS - started))s"
    exit 1
fi
echo "k8s-validate: PASS (hadolint, shellcheck, manifests, tests) in $((SECONDS - started))s"
