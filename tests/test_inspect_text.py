"""``driftwatch inspect``: readable at 100 columns, in the attribute vocabulary's names, and
without the word "unmanaged" (a table status) for the attributes a declaration does not manage."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from driftwatch.cli import main

REPO = Path(__file__).resolve().parents[1]
PROD = ["--root", "examples/envs/prod", "--var-file", "prod.tfvars"]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def test_inspect_text_fits_100_columns_and_names_attributes_as_reports_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["inspect", *PROD]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all(line == line.rstrip() for line in lines), "lines padded with trailing spaces"
    assert "unmanaged" not in out
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("  ") and line.split()}
    # the names drift, ignore rules and metrics use
    assert rows["gsi.tenant-index.read_capacity"] == ["5"]
    assert rows["ttl.attribute"] == ["expires_at"]
    assert rows["tags.Team"] == ["observability"]
    assert any(line.startswith("  not compared") and "read_capacity" in line for line in lines)
    assert lines[-1] == "3 tables declared, 0 errors, 0 module calls or resources not evaluated"


def test_inspect_json_calls_them_not_compared(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["inspect", *PROD, "--format", "json"]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    mimir = next(t for t in tables if t["spec"]["name"] == "acme-prod-mimir-index")
    assert "unmanaged" not in mimir["spec"]
    assert set(mimir["spec"]["not_compared"]) >= {"read_capacity", "write_capacity"}


def test_inspect_names_default_tags_compared_only_when_deleted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Under ``ignore_changes = [tags]`` the default tags are still compared for their presence:
    inspect says so in both views, and says nothing of it for a table that manages its tags."""
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n  default_tags {\n    tags = { Env = "prod" }\n  }\n}\n'
        + "".join(
            f'resource "aws_dynamodb_table" "{name}" {{\n  name = "{name}"\n  hash_key = "id"\n'
            '  billing_mode = "PAY_PER_REQUEST"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
            f"  lifecycle {{\n    ignore_changes = {ignored}\n  }}\n}}\n"
            for name, ignored in (("kept", "[tags]"), ("plain", "[ttl]"))
        )
    )
    assert main(["inspect", "--root", str(tmp_path), "--repo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    kept, plain = out.split("\nplain")
    assert "  tags.Env (if deleted)   prod" in kept.splitlines()
    assert "if deleted" not in plain
    assert main(["inspect", "--root", str(tmp_path), "--repo", str(tmp_path), "--format", "json"]) == 0
    specs = {t["spec"]["name"]: t["spec"] for t in json.loads(capsys.readouterr().out)["tables"]}
    assert specs["kept"]["restored_tags"] == {"Env": "prod"}
    assert "restored_tags" not in specs["plain"]


def test_a_table_that_cannot_be_checked_counts_as_an_error_in_the_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A tag value AWS refuses makes the table an error line: the summary must not say 0 errors."""
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  hash_key = "id"\n'
        '  billing_mode = "PAY_PER_REQUEST"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
        f'  tags = {{ Long = "{"x" * 300}" }}\n}}\n'
    )
    assert main(["inspect", "--root", str(tmp_path), "--repo", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("error [") and "at most 256" in lines[0]
    assert lines[-1] == "0 tables declared, 1 error, 0 module calls or resources not evaluated"
