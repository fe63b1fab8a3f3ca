# driftwatch container image.
#
#   docker build -t driftwatch:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp -v driftwatch-state:/var/lib/driftwatch \
#     -v "$PWD/driftwatch.yaml:/etc/driftwatch/driftwatch.yaml:ro" driftwatch:0.1.0
#
# Stages:
#  - uv:      the uv installer, pinned (the same version as the `deploy` extra's uv);
#  - build:   a virtualenv at /opt/driftwatch with driftwatch and the dependencies its
#             pyproject.toml declares (no separate requirements file to drift from it), byte-
#             compiled, and python-hcl2's compiled grammar cache written into site-packages;
#  - runtime: the virtualenv (no pip, no uv) and git, run as a numeric non-root user, on the same
#             base image as build (the virtualenv's interpreter symlinks point into it).
#             Nothing is written below / at run time: the state database goes to
#             /var/lib/driftwatch and temp files to /tmp, both volumes, so the root filesystem
#             can be mounted read-only.
#
# tests/test_deploy.py replays the build stage instruction by instruction in a fresh
# virtualenv (CI has no Docker engine) and checks that the result starts without writing to
# its install; CI runs hadolint on this file.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv


FROM ${PYTHON_IMAGE} AS build

COPY --from=uv /uv /usr/local/bin/uv

# Byte-compile at install time (the runtime cannot write __pycache__) and keep no uv cache in
# the layer.
ENV VIRTUAL_ENV=/opt/driftwatch \
    UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never

WORKDIR /src

RUN python -m venv --without-pip "$VIRTUAL_ENV"

# Only what building the package needs (.dockerignore keeps the rest of the context out).
COPY pyproject.toml README.md ./
COPY driftwatch ./driftwatch

# Install driftwatch and its declared dependencies (a regular, non-editable install), then
# parse once through driftwatch's own parser so that lark compiles the HCL grammar into
# site-packages/hcl2/.lark_cache.bin now: otherwise every start of a container with a
# read-only root filesystem pays about 1.4 s to rebuild it (and logs that it cannot save it).
# (-I: import the installed package, not the source tree in the working directory.)
# No extras: the `demo` extra (moto, the demo's embedded AWS) stays out of the image, about half
# of the virtualenv's size (docs/deploy.md, "Image size").
RUN uv pip install --python "$VIRTUAL_ENV/bin/python" . \
    && "$VIRTUAL_ENV/bin/python" -I -c "from driftwatch.terraform.parse import parse_text; parse_text('x = 1', 'warmup.tf')" \
    && test -s "$("$VIRTUAL_ENV/bin/python" -I -c 'import hcl2.parser; print(hcl2.parser.PARSER_FILE)')" \
    && "$VIRTUAL_ENV/bin/driftwatch" --version


FROM ${PYTHON_IMAGE} AS runtime

ENV VIRTUAL_ENV=/opt/driftwatch \
    PATH="/opt/driftwatch/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    HOME=/var/lib/driftwatch \
    DRIFTWATCH_CONFIG=/etc/driftwatch/driftwatch.yaml

# git (bookworm's 2.39; 2.36 or newer is needed): driftwatch reads the checkout's history and the
# files of an older commit with it, to tell a merged change that is not applied yet ("pending")
# from real drift; without git that logic is off. git, ca-certificates and openssh-client also
# fetch remote module sources (git::https://, git::ssh://, github.com/...) into the state
# volume's cache.
# Not version-pinned (DL3008): Debian replaces a package version in its archive with each
# security update, so an exact pin breaks the build; the base image tag pins the release.
# uid/gid 10001: outside the ranges Debian hands out to system and first login accounts.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 driftwatch \
    && useradd --uid 10001 --gid 10001 --no-create-home \
       --home-dir /var/lib/driftwatch --shell /usr/sbin/nologin driftwatch \
    && mkdir -p /var/lib/driftwatch /etc/driftwatch \
    && chown 10001:10001 /var/lib/driftwatch

COPY --from=build /opt/driftwatch /opt/driftwatch

# A relative state.path (the default, driftwatch.db) lands in the state volume.
WORKDIR /var/lib/driftwatch
VOLUME ["/var/lib/driftwatch"]

# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

# /metrics, /healthz and /readyz (http.port in the config).
# No HEALTHCHECK: Kubernetes ignores it (the Deployment's startup, liveness and readiness probes
# use /healthz and /readyz), the port is the config's, and the same image runs one-shot
# `driftwatch scan` containers, which serve no HTTP and would be marked unhealthy.
EXPOSE 9876

ENTRYPOINT ["driftwatch"]
CMD ["run"]
