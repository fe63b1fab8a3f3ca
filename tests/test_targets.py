"""Which workspace a target is evaluated in when nothing names one: Terraform's choice.

``terraform plan`` selects the workspace ``TF_WORKSPACE`` names, else ``default``. A CI job
that plans with ``TF_WORKSPACE=prod`` and then runs driftwatch in the same environment used to
have its tables evaluated as ``default``: names and settings derived from
``terraform.workspace`` were another environment's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftwatch.cli import main
from driftwatch.config import parse_config
from driftwatch.targets import targets_from_config, terraform_workspace

TABLE = """
resource "aws_dynamodb_table" "t" {
  name         = "t-${terraform.workspace}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "default"), ({"TF_WORKSPACE": "prod"}, "prod"), ({"TF_WORKSPACE": ""}, "default")],
)
def test_the_workspace_nothing_names_is_terraforms(environ: dict[str, str], expected: str) -> None:
    assert terraform_workspace(environ) == expected


def test_a_configured_target_takes_tf_workspace_unless_it_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_WORKSPACE", "prod")
    config = parse_config(
        {
            "targets": [
                {"name": "unnamed", "root": "a"},
                {"name": "named", "root": "b", "workspace": "staging"},
            ]
        }
    )
    workspaces = {t.name: t.workspace for t in targets_from_config(config, tmp_path)}
    assert workspaces == {"unnamed": "prod", "named": "staging"}


def _inspected_names(capsys: pytest.CaptureFixture[str], *flags: str) -> list[str]:
    assert main(["inspect", "--root", "root", "--region", "us-east-1", "--format", "json", *flags]) == 0
    return [table["spec"]["name"] for table in json.loads(capsys.readouterr().out)["tables"]]


def test_an_ad_hoc_target_evaluates_terraform_workspace_as_terraform_plan_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text(TABLE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    assert _inspected_names(capsys) == ["t-default"]
    monkeypatch.setenv("TF_WORKSPACE", "blue")
    assert _inspected_names(capsys) == ["t-blue"]
    assert _inspected_names(capsys, "--workspace", "green") == ["t-green"]  # the flag wins
