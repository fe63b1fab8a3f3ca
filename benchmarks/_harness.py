"""Shared pieces of the benchmarks: moto + latency proxy processes, generated repositories,
provisioning, machine description and small statistics helpers.

Nothing here talks to anything but 127.0.0.1. Fake credentials are set for every boto3 client
and subprocess, so no benchmark can reach a real AWS account.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
REGION = "us-east-1"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
)


def use_fake_aws_env() -> None:
    """Fake credentials for this process (and its children); never a real account."""
    for key in _CLEARED_ENV:
        os.environ.pop(key, None)
    os.environ.update(FAKE_AWS_ENV)


def cli_env(endpoint: str, pycache: Path, code: Path = REPO_ROOT) -> dict[str, str]:
    """The environment to run ``code``'s CLI as a user runs an installed driftwatch: against
    ``endpoint``, with its bytecode cached in ``pycache`` (``pip install`` compiles every
    module; without a cache each run compiles driftwatch's ~75 modules again, ~0.1 s here)."""
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(code), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# --------------------------------------------------------------------------- processes


def _start(argv: Sequence[str], what: str) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"{what} did not start (said {line!r})")
    return process, int(line.split()[1])


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Services:
    """moto's server and delay proxies in front of it (one per latency model), each a process."""

    moto_port: int
    moto_pid: int
    delay_ms: float
    proxies: dict[str, tuple[int, int]]  # latency model -> (port, pid); the first is the default

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def model(self) -> str:
        return next(iter(self.proxies))

    def proxy_url_for(self, model: str | None = None) -> str:
        if not self.proxies:
            raise RuntimeError("no proxy was started")
        port, _ = self.proxies[model or self.model]
        return f"http://127.0.0.1:{port}"

    @property
    def proxy_url(self) -> str:
        return self.proxy_url_for()

    def proxy_calls(self, reset: bool = False, model: str | None = None) -> dict[str, int]:
        request = urllib.request.Request(
            f"{self.proxy_url_for(model)}/__proxy_stats", method="POST" if reset else "GET"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data: dict[str, int] = json.loads(response.read())
        return data

    def reset_moto(self) -> None:
        request = urllib.request.Request(f"{self.moto_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by moto, the proxies and this process."""
        return {
            "moto": cpu_seconds(self.moto_pid),
            "proxy": sum(cpu_seconds(pid) for _, pid in self.proxies.values()),
            "driftwatch": time.process_time(),
        }


@contextlib.contextmanager
def services(
    delay_ms: float | None = 30.0, models: Sequence[str] = ("before",), proxy_args: Sequence[str] = ()
) -> Iterator[Services]:
    """Start moto and, unless ``delay_ms`` is None, one delay proxy per latency model in front
    of it (see _delay_proxy.py: ``before`` adds the delay to moto's time, ``total`` makes each
    call take max(delay, moto's time)); stop them all on exit. ``proxy_args`` go to every
    proxy (``--replay``, the throttling models)."""
    moto, moto_port = _start([str(HERE / "_moto_server.py")], "moto server")
    started: list[subprocess.Popen[str]] = []
    try:
        proxies: dict[str, tuple[int, int]] = {}
        for model in models if delay_ms is not None else ():
            argv = [str(HERE / "_delay_proxy.py"), "--upstream-port", str(moto_port)]
            argv += ["--delay-ms", str(delay_ms), "--model", model, *proxy_args]
            proxy, port = _start(argv, "delay proxy")
            started.append(proxy)
            proxies[model] = (port, proxy.pid)
        yield Services(moto_port, moto.pid, delay_ms or 0.0, proxies)
    finally:
        for proxy in started:
            _stop(proxy)
        _stop(moto)


def boto_client(service: str, endpoint: str, max_pool: int = 32) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=max_pool, retries={"mode": "standard", "total_max_attempts": 3}),
    )


def make_clients(endpoint: str, *, concurrency: int, recorder: Any = None) -> Any:
    """driftwatch's AwsClients, pointed at ``endpoint`` like AWS_ENDPOINT_URL does."""
    import boto3

    from driftwatch.aws.clients import AwsClients

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        clients = AwsClients(boto3.Session(), max_pool_connections=max(16, concurrency), recorder=recorder)
        # Build the clients now, in this thread, while AWS_ENDPOINT_URL points at `endpoint`
        # (AwsClients caches them; the scan reuses these).
        clients.dynamodb(REGION)
        clients.autoscaling(REGION)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    return clients


def attach_rate_limit(clients: Any, rate: float, burst: int) -> list[Any]:
    """Wire a RateLimiter per client from outside, until AwsClients does it itself."""
    from driftwatch.aws.ratelimit import RateLimiter

    limiters = []
    for client in (clients.dynamodb(REGION), clients.autoscaling(REGION)):
        limiter = RateLimiter(rate, burst)
        limiter.attach(client)
        limiters.append(limiter)
    return limiters


# --------------------------------------------------------------------------- generated repositories

PROVIDER_TF = """\
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "aws_endpoint" {
  type    = string
  default = "http://127.0.0.1:4566"
}

provider "aws" {
  region                      = "%(region)s"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    dynamodb = var.aws_endpoint
    sts      = var.aws_endpoint
  }
}

locals {
  common_tags = {
    Team      = "platform"
    ManagedBy = "terraform"
  }
}
"""


def plain_table_hcl(index: int) -> str:
    """One on-demand table; a mix of range keys, GSIs, TTL and PITR across the set."""
    name = f"bench-t{index:04d}"
    lines = [
        f'resource "aws_dynamodb_table" "t{index:04d}" {{',
        f'  name         = "{name}"',
        '  billing_mode = "PAY_PER_REQUEST"',
        '  hash_key     = "pk"',
    ]
    if index % 2 == 0:
        lines.append('  range_key    = "sk"')
    attributes = ["pk"] + (["sk"] if index % 2 == 0 else []) + (["gsi_pk"] if index % 3 == 0 else [])
    for attribute in attributes:
        lines += ["", "  attribute {", f'    name = "{attribute}"', '    type = "S"', "  }"]
    if index % 3 == 0:
        lines += [
            "",
            "  global_secondary_index {",
            '    name            = "by-gsi-pk"',
            '    hash_key        = "gsi_pk"',
            '    projection_type = "KEYS_ONLY"',
            "  }",
        ]
    if index % 4 == 0:
        lines += ["", "  ttl {", '    attribute_name = "expires_at"', "    enabled        = true", "  }"]
    if index % 5 == 0:
        lines += ["", "  point_in_time_recovery {", "    enabled = true", "  }"]
    lines += ["", f'  tags = merge(local.common_tags, {{ Name = "{name}" }})', "}", ""]
    return "\n".join(lines)


def write_plain_repo(root: Path, tables: int, per_file: int = 50) -> Path:
    """A Terraform root with ``tables`` plain ``aws_dynamodb_table`` resources."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "providers.tf").write_text(PROVIDER_TF % {"region": REGION})
    for start in range(0, tables, per_file):
        body = "\n".join(plain_table_hcl(i) for i in range(start, min(start + per_file, tables)))
        (root / f"tables_{start // per_file:03d}.tf").write_text(body)
    return root


def target_for(root: Path, name: str = "bench") -> Any:
    from driftwatch.terraform.modules import TargetInput

    return TargetInput(name=name, repo=root, root=root, region=REGION, env={})


def provision(root: Path, endpoint: str) -> int:
    """Create every table ``root`` declares in moto, exactly as declared (terraform apply's part)."""
    from driftwatch.demo.provision import create_table
    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    declared = declare([target_for(root)], ParseCache())
    if declared.errors or declared.early:
        raise RuntimeError(
            f"generated repository does not evaluate: {declared.errors[:3]} {declared.early[:3]}"
        )
    dynamodb = boto_client("dynamodb", endpoint)
    autoscaling = boto_client("application-autoscaling", endpoint)
    for job in declared.jobs:
        create_table(dynamodb, autoscaling, job.table.spec)
    return len(declared.jobs)


# --------------------------------------------------------------------------- reporting


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        # Other work on the machine skews timings: recorded so a reader can judge a run.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def print_machine() -> None:
    info = machine()
    print(
        f"# {info['date']} | {info['cores']} cores, {info['cpu']} | Python {info['python']} | "
        f"{info['os']} | load average {info['load_average_1m']}"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result). For single-threaded CPU-bound work
    CPU time is what the code costs; wall time also counts other processes on the machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not available")


def write_json(path: str | None, data: Any) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")
