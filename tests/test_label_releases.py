"""Which null-label release a ``cloudposse/label/null`` call is, and how it is evaluated.

driftwatch emulates null-label 0.25.0 (the newest release, pinned by every CloudPosse module's
context.tf). Older releases named tables and tags differently (their inputs, tag keys and
casing changed over the 0.1x-0.24 series), so a call that resolves to another release was
emulated with rules that are not its own: a wrong table watched, or false tag drift. Now such a
call is evaluated from its source (installed, or fetched where fetching is on), or its values
are unknown with the reason, as for a ``cloudposse/dynamodb/aws`` release driftwatch does not
know.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.modules import TargetInput, declare_target
from driftwatch.terraform.sources import ModuleSettings

TABLE = """
resource "aws_dynamodb_table" "t" {
  name         = module.label.id
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def _declared_name(tmp_path: Path, call: str, files: dict[str, str] | None = None) -> object:
    root = tmp_path / "repo" / "root"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        f'module "label" {{\n{call}\n  namespace = "acme"\n  name      = "orders"\n}}\n' + TABLE
    )
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    target = TargetInput(
        name="t", repo=tmp_path / "repo", root=root, region="us-east-1", env={},
        modules=ModuleSettings(offline=True),
    )  # fmt: skip
    result = declare_target(target)
    assert result.errors == [] and result.not_evaluated == []
    (table,) = result.tables
    return table.spec.name


@pytest.mark.parametrize(
    "call",
    [
        '  source = "cloudposse/label/null"\n  version = "0.25.0"',
        '  source = "cloudposse/label/null"\n  version = "~> 0.25"',
        '  source = "cloudposse/label/null"\n  version = ">= 0.20.0"',
        '  source = "cloudposse/label/null"',
        '  source = "registry.terraform.io/cloudposse/label/null"\n  version = "= 0.25.0"',
        '  source = "git::https://github.com/cloudposse/terraform-null-label.git?ref=tags/0.25.0"',
        '  source = "github.com/cloudposse/terraform-null-label?ref=0.25.0"',
        '  source = "git::https://github.com/cloudposse/terraform-null-label.git"',
    ],
)
def test_a_call_of_null_label_0_25_0_is_emulated(tmp_path: Path, call: str) -> None:
    assert _declared_name(tmp_path, call) == "acme-orders"


@pytest.mark.parametrize(
    ("call", "what"),
    [
        ('  source = "cloudposse/label/null"\n  version = "0.24.1"', "the version constraint '0.24.1'"),
        ('  source = "cloudposse/label/null"\n  version = "~> 0.24.0"', "the version constraint '~> 0.24.0'"),
        ('  source = "cloudposse/label/null"\n  version = "< 0.25.0"', "the version constraint '< 0.25.0'"),
        (
            '  source = "git::https://github.com/cloudposse/terraform-null-label.git?ref=tags/0.19.2"',
            "release tags/0.19.2",
        ),
        ('  source = "github.com/cloudposse/terraform-null-label?ref=0.24.1"', "release 0.24.1"),
    ],
)
def test_another_null_label_release_is_never_emulated_as_0_25_0(tmp_path: Path, call: str, what: str) -> None:
    name = _declared_name(tmp_path, call)
    assert isinstance(name, Unknown)
    assert f"module.label was not evaluated: {what} is not one driftwatch knows (0.25.0)" in name.reason
    assert "modules.offline" in name.reason  # why its source could not be read instead


def test_an_installed_older_null_label_is_evaluated_from_its_source(tmp_path: Path) -> None:
    """``terraform init`` installed 0.24.1 (modules.json): its own code names the table."""
    legacy = (
        'variable "namespace" {\n  type = string\n}\nvariable "name" {\n  type = string\n}\n'
        'output "id" {\n  value = "legacy_${var.namespace}_${var.name}"\n}\n'
    )
    manifest = {
        "Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {
                "Key": "label",
                "Source": "registry.terraform.io/cloudposse/label/null",
                "Version": "0.24.1",
                "Dir": ".terraform/modules/label",
            },
        ]
    }
    files = {
        ".terraform/modules/modules.json": json.dumps(manifest),
        ".terraform/modules/label/main.tf": legacy,
    }
    call = '  source = "cloudposse/label/null"\n  version = "0.24.1"'
    assert _declared_name(tmp_path, call, files) == "legacy_acme_orders"
