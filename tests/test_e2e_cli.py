"""The CLI end to end: ``driftwatch.cli.main(argv)`` against the embedded AWS (moto in-process).

The bundled ``examples/`` repository (config ``config/driftwatch.yaml``: targets prod and
staging, five tables) is created in moto exactly as driftwatch evaluates it -- the part
``terraform apply`` plays -- and then scanned, changed and scanned again through the CLI. The
JSON report is validated against a JSON Schema written here from the README's contract.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import jsonschema
import pytest
import structlog
from botocore.awsrequest import AWSResponse, HTTPHeaders

import driftwatch
from driftwatch.cli import main
from driftwatch.demo.provision import create_table
from driftwatch.scan import declare
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CONFIG = "config/driftwatch.yaml"  # relative to REPO, as a user runs it from a checkout
REGION = "us-east-1"
PROD_TABLES = {"acme-prod-mimir-index", "acme-prod-orders", "acme-prod-sessions"}
STAGING_TABLES = {"acme-staging-mimir-index", "acme-staging-orders"}
MIMIR = "acme-prod-mimir-index"
AD_HOC_PROD = ["--root", "examples/envs/prod", "--var-file", "prod.tfvars"]

# --------------------------------------------------------------------------- the JSON contract

_NULLABLE_STRING = {"type": ["string", "null"]}
# The original four statuses, and the two the real-estates work added (additive).
STATUSES = ["in_sync", "drifted", "missing", "error", "pending", "unmanaged"]
ZERO_NEW = {
    "pending": 0,
    "unmanaged": 0,
    "not_evaluated": 0,
    "target_errors": 0,
    "unresolved": 0,
    "roots_not_covered": 0,
}
# Counts the summary holds besides the statuses (additive: what is not watched).
GAP_COUNTS = ["not_evaluated", "target_errors", "unresolved", "roots_not_covered"]
_SOURCE = {
    "type": "object",
    "required": ["file", "line"],
    "properties": {"file": {"type": "string", "minLength": 1}, "line": {"type": "integer", "minimum": 1}},
}
_TABLE = {
    "type": "object",
    "required": [
        "target",
        "address",
        "source",
        "table_name",
        "region",
        "status",
        "drift",
        "unresolved",
        "error",
        "ignored",
        "pending",
        "alert",
    ],
    "properties": {
        "target": {"type": "string", "minLength": 1},
        # null for an unmanaged table (in AWS, declared nowhere)
        "address": {
            "anyOf": [{"type": "null"}, {"type": "string", "pattern": r"^(module|aws_dynamodb_table)\."}]
        },
        "source": {"anyOf": [{"type": "null"}, _SOURCE]},
        "table_name": _NULLABLE_STRING,
        "region": _NULLABLE_STRING,
        "status": {"enum": STATUSES},
        "drift": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["attribute", "declared", "live"],
                "properties": {"attribute": {"type": "string", "minLength": 1}},
            },
        },
        "unresolved": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["attribute", "reason"],
                "properties": {"attribute": {"type": "string"}, "reason": {"type": "string", "minLength": 1}},
            },
        },
        "error": _NULLABLE_STRING,
        "ignored": {
            "type": "array",
            "items": {"type": "object", "required": ["attribute", "declared", "live", "reason", "until"]},
        },
        "pending": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["attribute", "declared", "live", "file", "commit", "changed_at", "until"],
            },
        },
        "alert": {"type": "boolean"},
    },
    "allOf": [
        # the status and the rest of the row tell the same story
        {
            "if": {"properties": {"status": {"const": "in_sync"}}},
            "then": {"properties": {"drift": {"maxItems": 0}, "error": {"type": "null"}}},
        },
        {
            "if": {"properties": {"status": {"const": "drifted"}}},
            "then": {"properties": {"drift": {"minItems": 1}, "error": {"type": "null"}}},
        },
        {
            "if": {"properties": {"status": {"const": "error"}}},
            "then": {"properties": {"error": {"type": "string", "minLength": 1}}},
        },
    ],
}
_COUNT = {"type": "integer", "minimum": 0}
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "generated_at", "commit", "summary", "tables", "errors"],
    "properties": {
        "version": {"const": "1"},
        "generated_at": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"},
        "commit": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": "^[0-9a-f]{40}$"}]},
        "summary": {
            "type": "object",
            "required": ["tables", *STATUSES, *GAP_COUNTS],
            "additionalProperties": False,
            "properties": {k: _COUNT for k in ("tables", *STATUSES, *GAP_COUNTS)},
        },
        "not_evaluated": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["target", "address", "file", "line", "reason"],
                "additionalProperties": False,
                "properties": {
                    "target": {"type": "string"},
                    "address": {"type": "string", "minLength": 1},
                    "file": _NULLABLE_STRING,
                    "line": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]},
                    "reason": {"type": "string", "minLength": 1},
                },
            },
        },
        "roots_not_covered": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "file", "line", "reason"],
                "additionalProperties": False,
                "properties": {
                    "path": _NULLABLE_STRING,
                    "file": _NULLABLE_STRING,
                    "line": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]},
                    "reason": {"type": "string", "minLength": 1},
                },
            },
        },
        "tables": {"type": "array", "items": _TABLE},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["target", "message", "file", "line"],
                "properties": {
                    "target": {"type": "string"},
                    "message": {"type": "string", "minLength": 1},
                    "file": _NULLABLE_STRING,
                    "line": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]},
                },
            },
        },
    },
}


def valid_report(text: str) -> dict[str, Any]:
    """Parse a JSON report, validate it against the contract and check the summary adds up."""
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    summary, tables = document["summary"], document["tables"]
    assert summary["tables"] == len(tables)
    for status in STATUSES:
        assert summary[status] == sum(1 for t in tables if t["status"] == status), status
    assert summary["not_evaluated"] == len(document["not_evaluated"])
    assert summary["target_errors"] == len(document["errors"])
    assert summary["roots_not_covered"] == len(document["roots_not_covered"])
    declared = [t for t in tables if t["status"] != "unmanaged"]
    assert summary["unresolved"] == sum(len({u["attribute"] for u in t["unresolved"]}) for t in declared)
    return document


def test_schema_itself_is_valid_and_rejects_a_broken_report() -> None:
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    good: dict[str, Any] = {
        "version": "1",
        "generated_at": "2026-01-01T00:00:00Z",
        "commit": None,
        "summary": {"tables": 0, "in_sync": 0, "drifted": 0, "missing": 0, "error": 0, **ZERO_NEW},
        "tables": [],
        "errors": [],
        "not_evaluated": [],
        "roots_not_covered": [],
    }
    valid_report(json.dumps(good))
    for broken in ({"version": 1}, {"generated_at": "2026-01-01 00:00:00"}, {"summary": {"tables": 0}}):
        with pytest.raises(jsonschema.ValidationError):
            valid_report(json.dumps({**good, **broken}))


# --------------------------------------------------------------------------- helpers


@dataclass
class Run:
    code: int
    out: str
    err: str

    def report(self) -> dict[str, Any]:
        return valid_report(self.out)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    capsys.readouterr()  # drop anything printed before
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Run(code, out, err)


def by_table(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["table_name"]: t for t in report["tables"]}


def drifted_attributes(report: dict[str, Any]) -> dict[str, set[str]]:
    return {t["table_name"]: {d["attribute"] for d in t["drift"]} for t in report["tables"] if t["drift"]}


def example_targets(repo: Path) -> list[TargetInput]:
    return [
        TargetInput(
            name=env, repo=repo, root=repo / "envs" / env, var_files=(f"{env}.tfvars",), region=REGION, env={}
        )
        for env in ("prod", "staging")
    ]


def copy_repo(tmp_path: Path) -> Path:
    """examples/ and config/ side by side in tmp_path, so the copy's config works unchanged."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def add_botocore_handler(monkeypatch: pytest.MonkeyPatch, event: str, handler: Any) -> None:
    """Register ``handler`` on every botocore session created from now on (the CLI builds its
    own), the way moto hooks itself in; undone with the monkeypatch."""
    monkeypatch.setattr(
        botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, (event, handler)]
    )


def access_denied(action: str, table: str | None = None) -> Callable[..., Any]:
    """A ``before-call`` handler that answers like IAM does when ``action`` is not allowed
    (only for ``table`` when given), before anything is sent: botocore raises the ClientError."""

    def handler(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if table is not None and json.loads(params["body"] or b"{}").get("TableName") != table:
            return None
        resource = f" on resource: arn:aws:dynamodb:{REGION}:123456789012:table/{table}" if table else ""
        message = (
            "User: arn:aws:sts::123456789012:assumed-role/driftwatch/ci is not authorized to perform: "
            f"{action}{resource} because no identity-based policy allows the {action} action"
        )
        parsed = {
            "Error": {"Code": "AccessDeniedException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse(params["url"], 400, HTTPHeaders(), None), parsed

    return handler


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() points the root logger at the captured stderr; give later tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    structlog_config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**structlog_config)


@pytest.fixture
def dynamodb(embedded_aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def provisioned(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example tables created in moto exactly as declared; cwd is the repository root."""
    declared = declare(example_targets(EXAMPLES), ParseCache())
    assert declared.errors == [] and declared.early == []
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    for job in declared.jobs:
        create_table(dynamodb, autoscaling, job.table.spec)
    assert {job.name for job in declared.jobs} == PROD_TABLES | STAGING_TABLES
    monkeypatch.chdir(REPO)


def pitr_off(dynamodb: Any, table: str = MIMIR) -> None:
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )


# --------------------------------------------------------------------------- scan


def test_scan_in_sync_then_pitr_drift(
    provisioned: None, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(capsys, "scan", "--config", CONFIG, "--format", "json")
    assert first.code == 0, first.out + first.err
    report = first.report()
    assert report["summary"] == {
        "tables": 5,
        "in_sync": 5,
        "drifted": 0,
        "missing": 0,
        "error": 0,
        **ZERO_NEW,
    }
    assert set(by_table(report)) == PROD_TABLES | STAGING_TABLES
    assert report["errors"] == []
    mimir = by_table(report)[MIMIR]
    assert (mimir["target"], mimir["region"]) == ("prod", REGION)
    assert mimir["address"] == "module.mimir_index.module.mimir_index_table"
    assert mimir["source"] == {"file": "modules/mimir-index/main.tf", "line": 3}

    pitr_off(dynamodb)
    second = run(capsys, "scan", "--config", CONFIG, "--format", "json")
    assert second.code == 2
    report = second.report()
    assert report["summary"] == {
        "tables": 5,
        "in_sync": 4,
        "drifted": 1,
        "missing": 0,
        "error": 0,
        **ZERO_NEW,
    }
    assert by_table(report)[MIMIR]["status"] == "drifted"
    assert by_table(report)[MIMIR]["drift"] == [
        {
            "attribute": "point_in_time_recovery",
            "declared": True,
            "live": False,
            # the line of `enable_point_in_time_recovery = ...` in the module call
            "source": {"file": "modules/mimir-index/main.tf", "line": 44},
        }
    ]


def test_scan_text_report_shows_the_drift_with_its_file_and_line(
    provisioned: None, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pitr_off(dynamodb)
    result = run(capsys, "scan", "--config", CONFIG)
    assert result.code == 2
    drifted = next(line for line in result.out.splitlines() if line.startswith("DRIFTED"))
    assert MIMIR in drifted and "target prod" in drifted
    assert "modules/mimir-index/main.tf:3" in result.out
    assert any(
        line.split() == ["point_in_time_recovery", "true", "false", "modules/mimir-index/main.tf:44"]
        for line in result.out.splitlines()
    )
    assert "5 tables watched" in result.out and "1 drifted" in result.out
    assert "acme-prod-orders" not in result.out  # in-sync tables are listed only with --verbose


def test_deleted_table_is_missing_exit_2(
    provisioned: None, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb.delete_table(TableName="acme-staging-orders")  # prod tables are deletion-protected
    result = run(capsys, "scan", "--config", CONFIG, "--format", "json")
    assert result.code == 2
    report = result.report()
    assert report["summary"]["missing"] == 1 and report["summary"]["in_sync"] == 4
    missing = by_table(report)["acme-staging-orders"]
    assert missing["status"] == "missing"
    assert [d["attribute"] for d in missing["drift"]] == ["table"]


def break_syntax(repo: Path) -> tuple[str, str, int | None]:
    """A bracket never closed on line 21 of the prod root: prod cannot be evaluated."""
    main_tf = repo / "examples" / "envs" / "prod" / "main.tf"
    lines = main_tf.read_text().splitlines()
    lines.insert(20, "locals { broken = [1, 2 }")
    main_tf.write_text("\n".join(lines) + "\n")
    return "prod", "envs/prod/main.tf", 21


def remove_var_file(repo: Path) -> tuple[str, str, int | None]:
    (repo / "examples" / "envs" / "staging" / "staging.tfvars").unlink()
    return "staging", "envs/staging/staging.tfvars", None


@pytest.mark.parametrize(
    "breakage", [break_syntax, remove_var_file], ids=["syntax-error", "missing-var-file"]
)
def test_unreadable_target_exits_1_and_names_the_file(
    provisioned: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], breakage: Any
) -> None:
    repo = copy_repo(tmp_path)
    broken_target, file, line = breakage(repo)
    config = str(repo / CONFIG)

    result = run(capsys, "scan", "--config", config, "--format", "json")
    assert result.code == 1
    report = result.report()
    assert report["commit"] is None  # the copy is not a git checkout
    errors = [e for e in report["errors"] if e["target"] == broken_target]
    assert [(e["file"], e["line"]) for e in errors] == [(file, line)]
    assert "Traceback" not in result.err
    # The other target is still checked, completely.
    healthy = {"prod": PROD_TABLES, "staging": STAGING_TABLES}[
        "staging" if broken_target == "prod" else "prod"
    ]
    checked = {t["table_name"]: t["status"] for t in report["tables"] if t["target"] != broken_target}
    assert checked == dict.fromkeys(healthy, "in_sync")

    text = run(capsys, "scan", "--config", config)
    assert text.code == 1
    where = f"{file}:{line}" if line else file
    assert any(where in out_line and out_line.startswith("error") for out_line in text.out.splitlines())
    assert "Traceback" not in text.err


def test_syntax_error_in_a_shared_child_module_spares_the_roots_other_tables(
    provisioned: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(tmp_path)
    variables = repo / "examples" / "modules" / "mimir-index" / "variables.tf"
    broken_from = len(variables.read_text().splitlines()) + 2
    variables.write_text(variables.read_text() + '\nvariable "broken" {\n  default = [1,\n')

    result = run(capsys, "scan", "--config", str(repo / CONFIG), "--format", "json")
    assert result.code == 1
    report = result.report()
    located = {(e["target"], e["file"]) for e in report["errors"] if e["line"] and e["line"] >= broken_from}
    assert located == {
        ("prod", "modules/mimir-index/variables.tf"),
        ("staging", "modules/mimir-index/variables.tf"),
    }
    statuses = {t["table_name"] or t["address"]: t["status"] for t in report["tables"]}
    others = (PROD_TABLES | STAGING_TABLES) - {MIMIR, "acme-staging-mimir-index"}
    assert {name: statuses[name] for name in others} == dict.fromkeys(others, "in_sync")
    assert [t["status"] for t in report["tables"] if "mimir_index" in t["address"]] == ["error", "error"]
    assert "Traceback" not in result.err


def test_access_denied_on_one_table_is_an_error_row_and_the_rest_is_checked(
    provisioned: None, dynamodb: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    denied = "acme-prod-orders"
    add_botocore_handler(
        monkeypatch, "before-call.dynamodb.DescribeTable", access_denied("dynamodb:DescribeTable", denied)
    )
    pitr_off(dynamodb)  # drift elsewhere is still found, but "could not check" wins: exit 1

    result = run(capsys, "scan", "--config", CONFIG, "--format", "json")
    assert result.code == 1
    report = result.report()
    row = by_table(report)[denied]
    assert row["status"] == "error"
    assert (
        "AccessDeniedException" in row["error"] and "DescribeTable" in row["error"] and denied in row["error"]
    )
    statuses = {name: t["status"] for name, t in by_table(report).items() if name != denied}
    others = (PROD_TABLES | STAGING_TABLES) - {denied, MIMIR}
    assert statuses == {**dict.fromkeys(others, "in_sync"), MIMIR: "drifted"}
    assert report["summary"]["error"] == 1
    assert "Traceback" not in result.err


# --------------------------------------------------------------------------- flags and commands


def comparable(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Rows without file paths, which are relative to a different repository root ad hoc."""
    return {
        t["table_name"]: (
            t["target"],
            t["address"],
            t["region"],
            t["status"],
            [{k: v for k, v in d.items() if k != "source"} for d in t["drift"]],
            t["unresolved"],
        )
        for t in report["tables"]
    }


def test_ad_hoc_flags_give_the_same_tables_as_the_config(
    provisioned: None, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pitr_off(dynamodb)
    configured = run(capsys, "scan", "--config", CONFIG, "--target", "prod", "--format", "json")
    ad_hoc = run(
        capsys, "scan", *AD_HOC_PROD, "--var", "environment=prod", "--region", REGION, "--format", "json"
    )
    assert configured.code == ad_hoc.code == 2
    config_report, ad_hoc_report = configured.report(), ad_hoc.report()
    assert set(comparable(config_report)) == PROD_TABLES
    assert comparable(ad_hoc_report) == comparable(config_report)
    # Ad hoc, the repository is the git checkout holding --root: same file, one level up.
    for name, row in by_table(ad_hoc_report).items():
        source = by_table(config_report)[name]["source"]
        assert row["source"] == {"file": f"examples/{source['file']}", "line": source["line"]}


def test_var_flag_overrides_the_var_file(provisioned: None, capsys: pytest.CaptureFixture[str]) -> None:
    """-var has the highest precedence: prod.tfvars says STANDARD_INFREQUENT_ACCESS."""
    result = run(capsys, "scan", *AD_HOC_PROD, "--var", "mimir_table_class=STANDARD", "--format", "json")
    assert result.code == 2
    assert by_table(result.report())[MIMIR]["drift"] == [
        {
            "attribute": "table_class",
            "declared": "STANDARD",
            "live": "STANDARD_INFREQUENT_ACCESS",
            # --var has no line: the module argument that passes var.mimir_table_class on
            "source": {"file": "examples/envs/prod/main.tf", "line": 38},
        }
    ]


def test_output_file_receives_the_report(
    provisioned: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "drift.json"
    result = run(capsys, "scan", "--config", CONFIG, "--format", "json", "--output", str(out_file))
    assert result.code == 0
    assert result.out.strip() == ""
    report = valid_report(out_file.read_text())
    assert report["summary"]["in_sync"] == 5


def test_inspect_lists_the_prod_tables_fully_resolved_without_aws_calls(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []
    add_botocore_handler(monkeypatch, "before-call", lambda model, **_: calls.append(model.name))
    monkeypatch.chdir(REPO)
    for argv in (
        AD_HOC_PROD,
        ["--config", CONFIG, "--target", "prod"],
    ):
        result = run(capsys, "inspect", *argv, "--format", "json")
        assert result.code == 0, result.err
        payload = json.loads(result.out)
        assert {t["spec"]["name"] for t in payload["tables"]} == PROD_TABLES
        assert [t["unresolved"] for t in payload["tables"]] == [[], [], []]
        assert payload["errors"] == [] and payload["not_checkable"] == []
    assert calls == []


def test_validate_accepts_the_example_config(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(REPO)
    result = run(capsys, "validate", "--config", CONFIG)
    assert result.code == 0, result.err
    assert "2 targets, 5 tables declared, 0 errors" in result.out


def test_validate_rejects_an_unknown_key_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(tmp_path)
    config = repo / CONFIG
    config.write_text(config.read_text().replace("var_files: [prod.tfvars]", "var_file: [prod.tfvars]"))
    for command in ("validate", "scan"):
        result = run(capsys, command, "--config", str(config))
        assert result.code == 1
        assert "targets.0.var_file" in result.err
        assert "Traceback" not in result.err


def test_demo_reports_exactly_the_console_changes(
    aws_env: None, moto_patches_undone: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """driftwatch/demo/run.py console_changes(): PITR off and GSI capacity 80/60 (beyond 5-40)
    on mimir-index, TTL attribute renamed on orders, tag Team changed on sessions."""
    result = run(capsys, "demo", "--format", "json")
    assert result.code == 0, result.err
    report = result.report()
    assert drifted_attributes(report) == {
        MIMIR: {
            "point_in_time_recovery",
            "gsi.tenant-index.read_capacity",
            "gsi.tenant-index.write_capacity",
        },
        "acme-prod-orders": {"ttl.attribute"},
        "acme-prod-sessions": {"tags.Team"},
    }
    assert report["summary"] == {
        "tables": 5,
        "in_sync": 2,
        "drifted": 3,
        "missing": 0,
        "error": 0,
        **ZERO_NEW,
    }
    drift = {
        d["attribute"]: (d["declared"], d["live"]) for d in by_table(report)["acme-prod-orders"]["drift"]
    }
    assert drift == {"ttl.attribute": ("expires_at", "ttl")}


def test_version_flag(aws_env: None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "driftwatch", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"driftwatch {driftwatch.__version__}"


def test_access_denied_on_autoscaling_is_reported_and_exits_1(
    provisioned: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README (exit codes): exit 1 when anything could not be checked, including an AWS error. Without
    DescribeScalableTargets the autoscaling targets and the GSI capacity they own cannot be
    judged: they are unresolved (never drift), the cause is reported, and CI must not go green."""
    add_botocore_handler(
        monkeypatch,
        "before-call.application-autoscaling.DescribeScalableTargets",
        access_denied("application-autoscaling:DescribeScalableTargets"),
    )
    result = run(capsys, "scan", "--config", CONFIG, "--format", "json")
    assert result.code == 1, "autoscaling could not be read, yet the scan reports success"
    report = result.report()
    assert any(
        "DescribeScalableTargets" in e["message"] and "AccessDeniedException" in e["message"]
        for e in report["errors"]
    ), report["errors"]
    mimir = by_table(report)[MIMIR]
    assert mimir["status"] == "in_sync" and mimir["drift"] == []
    unresolved = {u["attribute"]: u["reason"] for u in mimir["unresolved"]}
    assert "autoscaling.read.min" in unresolved and "gsi.tenant-index.read_capacity" in unresolved
    assert "AccessDeniedException" in unresolved["autoscaling.read.min"]
    # Every table is still compared on everything else.
    assert {t["table_name"]: t["status"] for t in report["tables"]} == dict.fromkeys(
        PROD_TABLES | STAGING_TABLES, "in_sync"
    )
    assert "Traceback" not in result.err
