""".ci/terraform-mirror, the step of .ci/run that proves the provider mirror usable: where the
mirror and terraform exist, a failing ``terraform init`` fails CI instead of letting the
real-Terraform tests skip; where either is truly absent, CI goes on and those tests skip.

Each case runs the script alone against a mirror directory of its own (DRIFTWATCH_TF_PLUGINS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from terraform_support import PLUGIN_DIR, REQUIRES_PROVIDER_MIRROR, REQUIRES_TERRAFORM_CLI

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "terraform-mirror"
BASH = shutil.which("bash") or "/bin/bash"


def _probe(
    tmp_path: Path, mirror: Path, path: str | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    config = tmp_path / "terraformrc"
    env = dict(os.environ, DRIFTWATCH_TF_PLUGINS=str(mirror))
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        [BASH, str(SCRIPT), str(config)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done, config


def test_an_absent_mirror_lets_ci_go_on_and_says_the_tests_will_skip(tmp_path: Path) -> None:
    done, config = _probe(tmp_path, tmp_path / "no-such-mirror")
    assert done.returncode == 0
    assert "no provider mirror" in done.stderr and "skip" in done.stderr
    assert not config.exists()


def test_an_absent_terraform_lets_ci_go_on_and_says_the_tests_will_skip(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    bin_dir = tmp_path / "bin"  # a PATH with the shell's tools but no terraform
    bin_dir.mkdir()
    for tool in ("ls", "mktemp", "rm", "env", "printf", "cat"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    done, config = _probe(tmp_path, mirror, path=str(bin_dir))
    assert done.returncode == 0, done.stderr
    assert "terraform is not on PATH" in done.stderr
    assert not config.exists()


@REQUIRES_TERRAFORM_CLI
def test_a_mirror_without_the_aws_provider_fails_ci(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "random").mkdir(parents=True)
    done, _ = _probe(tmp_path, mirror)
    assert done.returncode == 1
    assert "holds no hashicorp/aws provider" in done.stderr


@REQUIRES_TERRAFORM_CLI
def test_a_mirror_terraform_cannot_install_from_fails_ci_with_terraforms_reason(tmp_path: Path) -> None:
    # The provider is there, but only for another platform: `terraform init` refuses it.
    mirror = tmp_path / "mirror"
    other = mirror / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "plan9_arm"
    other.mkdir(parents=True)
    (other / "terraform-provider-aws_v5.100.0_x5").write_text("not a provider")
    done, config = _probe(tmp_path, mirror)
    assert done.returncode == 1
    assert "is unusable: terraform init of hashicorp/aws failed" in done.stderr
    assert "Error" in done.stderr  # terraform's own message follows
    assert str(mirror) in config.read_text()


@pytest.mark.terraform
@REQUIRES_TERRAFORM_CLI
@REQUIRES_PROVIDER_MIRROR
def test_the_machines_mirror_passes_the_probe(tmp_path: Path) -> None:
    done, config = _probe(tmp_path, PLUGIN_DIR)
    assert done.returncode == 0, done.stderr
    assert "the real-Terraform tests will run" in done.stderr
    assert 'filesystem_mirror {\n    path = "' in config.read_text()
