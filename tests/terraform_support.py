"""What the real-Terraform tests share: finding terraform and the provider mirror, a moto server
on 127.0.0.1 for the provider to talk to, the provider block pointing at it, and running
terraform with a CLI config of its own (the machine's TF_CLI_CONFIG_FILE may name a file that
does not exist, and no test may reach the registry).

Where terraform or the mirror is absent the tests skip with the reason (``REQUIRES_TERRAFORM``);
where both are present, a failing ``init`` or ``plan`` is a test failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from moto_state import moto_classes_restored

from driftwatch.demo import moto_patches
from tests.ports import free_port

PLUGIN_DIR = Path(os.environ.get("DRIFTWATCH_TF_PLUGINS", "/opt/tf-plugins"))
PROVIDER_DIR = PLUGIN_DIR / "registry.terraform.io" / "hashicorp" / "aws"

# Why a test that needs Terraform skips: an environment that lacks it, never a failure hidden.
# Where the mirror exists but is unusable, .ci/terraform-mirror fails CI instead of skipping.
NO_TERRAFORM = (
    "runs the terraform CLI (terraform itself is the oracle here), and this machine has no "
    "terraform on PATH; install it to run this test"
)
NO_PROVIDER_MIRROR = (
    f"needs the hashicorp/aws provider in a filesystem mirror at {PLUGIN_DIR} (or "
    "DRIFTWATCH_TF_PLUGINS): terraform plan cannot run offline without it"
)
REQUIRES_TERRAFORM_CLI = pytest.mark.skipif(shutil.which("terraform") is None, reason=NO_TERRAFORM)
REQUIRES_PROVIDER_MIRROR = pytest.mark.skipif(not PROVIDER_DIR.is_dir(), reason=NO_PROVIDER_MIRROR)
REQUIRES_TERRAFORM = [pytest.mark.terraform, REQUIRES_TERRAFORM_CLI, REQUIRES_PROVIDER_MIRROR]

REGION = "us-east-1"
TERRAFORM_BLOCK = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
"""


def provider_block(port: int, extra: str = "") -> str:
    """The aws provider pointed at moto on ``port``, with fake credentials and no lookups that
    would leave 127.0.0.1; ``extra`` goes inside the block (``default_tags``...)."""
    return f"""
provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    dynamodb = "http://127.0.0.1:{port}"
    sts      = "http://127.0.0.1:{port}"
    kms      = "http://127.0.0.1:{port}"
  }}
{extra}
}}
"""


@contextmanager
def moto_server() -> Iterator[int]:
    """A moto server on 127.0.0.1, yielding its port.

    The same moto corrections as the demo: TableClass honoured, on-demand tables report 0/0
    throughput as AWS does (so a plan sees what it would see against real AWS). They are
    undone when the server stops.
    """
    from moto.server import ThreadedMotoServer

    with moto_classes_restored():  # the worker's next tests may need plain moto
        moto_patches.apply()
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
        server.start()
        try:
            yield port
        finally:
            server.stop()


def write_cli_config(workdir: Path) -> Path:
    """A CLI config installing providers only from the mirror (so ``init`` never goes online)."""
    path = workdir / "cli.tfrc"
    mirror = f'  filesystem_mirror {{\n    path = "{PLUGIN_DIR}"\n  }}\n'
    path.write_text(f"provider_installation {{\n{mirror}}}\n")
    return path


def terraform(
    workdir: Path, *args: str, ok: tuple[int, ...] = (0,), stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``terraform args`` in ``workdir`` with its ``cli.tfrc`` (``stdin``: what ``console`` reads);
    an exit code not in ``ok`` fails the test with terraform's stderr.

    300 s only bounds a hang: with four suites applying to moto at once on a loaded 2-core
    machine, a sound ``apply`` took over 120 s (test_terraform_plain_resource, full run at load 12).
    """
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(workdir / "cli.tfrc"), TF_IN_AUTOMATION="1")
    # The suite is CPU-bound, and each start of the AWS provider plugin costs ~2.4 s of CPU, a
    # sixth of it Go's garbage collector walking the schemas the plugin builds at start. Letting
    # the heap grow 4x between collections (a provider then peaks near 400 MB, not 300) cut the
    # CPU of the four heaviest terraform suites from 184 s to 154 s. Terraform passes its
    # environment to the plugins. (GOGC=off with GOMEMLIMIT saved no more, with 1 GB plugins.)
    env.update(GOGC="400")
    env.pop("TF_CLI_ARGS", None)
    env.pop("TF_WORKSPACE", None)  # the tests choose their workspace with `terraform workspace`
    result = subprocess.run(
        ["terraform", *args],
        cwd=workdir,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        errors="replace",  # an error quoting a source line may cut a character in two
        timeout=300,
        check=False,
    )
    if result.returncode not in ok:
        raise AssertionError(f"terraform {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def write_files(root: Path, files: dict[str, str]) -> None:
    """A Terraform root: each relative path with its text, folders made as needed."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def changed_arguments(change: dict[str, Any]) -> set[str]:
    """The top-level arguments a planned resource change (``terraform show -json``) changes.

    Computed-only outputs (a new stream ARN follows from stream_enabled) are not arguments.
    """
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    keys = set(before) | set(after)
    changed = {k for k in keys if before.get(k) != after.get(k) or unknown.get(k) is True}
    return changed - {"timeouts", "arn", "id", "stream_arn", "stream_label"}
