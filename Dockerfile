# syntax=docker/dockerfile:1
#
# scaletest container image.
#
#   docker build -t scaletest:dev .          # BuildKit (the default builder) is required
#   docker run --rm scaletest:dev            # a 10 s run against the embedded sink
#   docker run --rm --env-file .env scaletest:dev run --rate 100 --duration 1m
#
# The build stage compiles the `scaletest` package with the workspace's Cargo.lock. Cargo's
# registry and the target directory live in BuildKit cache mounts, so a rebuild after a source
# change recompiles only the crates that changed, not the ~300 dependencies.
# Deploying it as a sharded Kubernetes Job: deploy/kubernetes/README.md.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build

# The slim image has gcc and libc6-dev; jemalloc (tikv-jemalloc-sys, the `jemalloc` feature:
# more per CPU-second where pods cost money) also needs make, and ISA-L (the `isal` feature:
# gzip at about twice the speed) nasm and autotools. zstd and libdeflate build with the C
# compiler alone. Package versions follow the Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make nasm autoconf automake libtool \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# The whole workspace: Cargo needs every member's manifest, and scenario-runtime includes
# README.md in its docs. .dockerignore keeps target/, .git, .env and reports out.
COPY . .

RUN --mount=type=cache,id=scaletest-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=scaletest-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=scaletest-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p scaletest --features jemalloc,isal \
    && install -D -m 0755 target/release/scaletest /out/scaletest

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

LABEL org.opencontainers.image.title="scaletest" \
      org.opencontainers.image.description="Load-tests AI-observability backends with OpenTelemetry traces of AI agents" \
      org.opencontainers.image.licenses="Apache-2.0"

# CA certificates for HTTPS backends (rustls reads the system store). /bin/sh stays: the
# Kubernetes Job wraps the run in a short shell script that prints the report to the log.
# The user has a fixed numeric id, so `runAsNonRoot` can verify it without a passwd lookup.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 scaletest \
    && useradd --system --uid 10001 --gid 10001 --home-dir /work --no-create-home \
        --shell /usr/sbin/nologin scaletest \
    && install -d -o 10001 -g 10001 -m 0755 /work /reports

COPY --from=build /out/scaletest /usr/local/bin/scaletest

USER 10001:10001
# The working directory is where `scaletest` looks for `.env`; mount one here, or pass
# variables with --env-file / -e. /reports is a writable place for `--json /reports/...`.
WORKDIR /work
# `scaletest run` stops early on Ctrl-C (SIGINT) and still writes its report: make
# `docker stop` send that signal instead of SIGTERM.
STOPSIGNAL SIGINT
ENTRYPOINT ["scaletest"]
CMD ["run"]
