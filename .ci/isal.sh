#!/usr/bin/env bash
# The `isal` feature builds ISA-L from source: install nasm and autotools if they are missing
# (Debian packages), then run the compression tests with ISA-L's gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for tool in nasm autoreconf libtoolize make; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ISA-L's build tools (missing: ${missing[*]})"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends nasm autoconf automake libtool make >/dev/null
fi
cargo test -p scenario-runtime --features isal --locked --lib export::compress
