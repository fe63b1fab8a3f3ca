"""SARIF 2.1.0 output (``--format sarif``): drift as code-scanning results on the declaring line.

One result per drifted attribute, located at the file and line that writes the attribute (the
table's declaration when nothing of its own does), and one per missing table at its
declaration, so GitHub code scanning and other SARIF viewers show the drift on the line to
change. Paths are relative to the top of the git checkout (``uriBaseId``
``%SRCROOT%``), as code scanning reads them: a ``repo`` below the top (``repo: terraform``) puts
its directory before each file.

Only what alerts is an ``error`` result: pending and ignored drift, and unmanaged tables (they
have no declaration to point at), are left out. What is not watched is said too: a module call
or resource not evaluated is a ``warning`` result, an attribute not compared (unresolved) a
``note`` on the line that writes it, and tables and files that could not be checked are
``toolExecutionNotifications`` of the invocation, which is then not ``executionSuccessful``.
Expired ignore rules and targets whose pending applies are off are warning notifications.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from driftwatch import __version__
from driftwatch.spec import (
    Drift,
    NotEvaluated,
    RootNotCovered,
    ScanReport,
    SourceLocation,
    TableResult,
    TableStatus,
    Unresolved,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "driftwatch/v1"

_RULES: tuple[dict[str, Any], ...] = (
    {
        "id": "drift",
        "name": "AttributeDrift",
        "shortDescription": {"text": "A DynamoDB table in AWS differs from its declaration in git"},
        "fullDescription": {
            "text": "An attribute of the live table (read with read-only AWS calls) differs from the "
            "value the Terraform configuration declares, in a way terraform plan would also change."
        },
        "help": {
            "text": "Apply the configuration to put the table back as declared, or change the "
            "declaration to what AWS runs; accepted drift belongs in an ignore rule with a reason."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["drift", "dynamodb", "terraform"]},
    },
    {
        "id": "missing-table",
        "name": "MissingTable",
        "shortDescription": {"text": "A DynamoDB table declared in git does not exist in AWS"},
        "fullDescription": {"text": "The table the Terraform configuration declares was not found in AWS."},
        "help": {
            "text": "Apply the configuration, or remove the declaration if the table is gone on purpose."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["drift", "dynamodb", "terraform"]},
    },
    {
        "id": "not-evaluated",
        "name": "NotEvaluated",
        "shortDescription": {"text": "Tables this module call or resource may declare are not watched"},
        "fullDescription": {
            "text": "driftwatch could not evaluate this module call or resource (a source it could not "
            "fetch or does not fetch, an unknown count or for_each, an unknown module version), so "
            "the tables it declares are not compared with AWS."
        },
        "help": {"text": "The message says why; see the runbook entry DriftwatchModulesNotEvaluated."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["coverage", "terraform"]},
    },
    {
        "id": "not-compared",
        "name": "NotCompared",
        "shortDescription": {"text": "An attribute of a declared table was not compared with AWS"},
        "fullDescription": {
            "text": "driftwatch could not compare this attribute: its declared value is unknown (a variable "
            "without a value, a function it does not evaluate), AWS did not let it read the live value, "
            "the table or index is being changed, or it is a setting driftwatch does not compare. It is "
            "never reported as drift, so drift in it goes unseen."
        },
        "help": {"text": "The message says why; see the README's 'What is not watched is said'."},
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["coverage", "terraform"]},
    },
    {
        "id": "root-not-covered",
        "name": "RootNotCovered",
        "shortDescription": {"text": "A directory declares DynamoDB tables and no target evaluates it"},
        "fullDescription": {
            "text": "This directory of the repository declares DynamoDB tables (a table resource, a "
            "DynamoDB module, or a local module that declares one) and is neither a target's root nor "
            "a module of one, so its tables are compared by nobody."
        },
        "help": {
            "text": "Add a target for it, or list it under coverage.ignore if it is never applied; see "
            "the runbook entry DriftwatchRootsNotCovered."
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["coverage", "terraform"]},
    },
)
_RULE_INDEX = {rule["id"]: index for index, rule in enumerate(_RULES)}


def _value(value: Any) -> str:
    return "absent" if value is None else json.dumps(value, default=str, sort_keys=True)


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/")


def _physical(source: SourceLocation) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": _uri(source.file), "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": max(1, source.line)},
    }


def _table_location(row: TableResult, source: SourceLocation) -> dict[str, Any]:
    """Where a table's result points: the declaring line, and the Terraform address (code
    scanning groups results by their physical location, reviewers read the logical one)."""
    return {
        "physicalLocation": _physical(source),
        "logicalLocations": [
            {"name": row.address, "fullyQualifiedName": f"{row.target}/{row.address}", "kind": "resource"}
        ],
    }


def _fingerprint(identity: str) -> dict[str, str]:
    """Stable across runs and line moves, so code scanning keeps one alert per finding."""
    return {FINGERPRINT: hashlib.sha256(identity.encode()).hexdigest()}


def _result(row: TableResult, source: SourceLocation, drift: Drift) -> dict[str, Any]:
    where = f"{row.table_name} ({row.region}, target {row.target})"
    if drift.attribute == "table":
        rule, text = "missing-table", f"{where}: declared here but not found in AWS"
    else:
        rule = "drift"
        text = (
            f"{where}: {drift.attribute} is {_value(drift.live)} in AWS, "
            f"git declares {_value(drift.declared)}"
        )
    identity = "\0".join((row.target, row.table_name or "", row.region or "", drift.attribute))
    return {
        "ruleId": rule,
        "ruleIndex": _RULE_INDEX[rule],
        "level": "error",
        "message": {"text": text},
        "locations": [_table_location(row, source)],
        "partialFingerprints": _fingerprint(identity),
        "properties": {
            "target": row.target,
            "table": row.table_name,
            "region": row.region,
            "attribute": drift.attribute,
            "declared": drift.declared,
            "live": drift.live,
        },
    }


def _not_evaluated(item: NotEvaluated) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {"name": item.address, "fullyQualifiedName": f"{item.target}/{item.address}", "kind": "module"}
        ]
    }
    if item.source is not None:
        location["physicalLocation"] = _physical(item.source)
    identity = "\0".join((item.target, item.address, "not-evaluated"))
    return {
        "ruleId": "not-evaluated",
        "ruleIndex": _RULE_INDEX["not-evaluated"],
        "level": "warning",
        "message": {"text": f"[{item.target}] {item.address} not evaluated: {item.reason}"},
        "locations": [location],
        "partialFingerprints": _fingerprint(identity),
        "properties": {"target": item.target, "address": item.address, "reason": item.reason},
    }


def _not_compared(row: TableResult, source: SourceLocation, item: Unresolved) -> dict[str, Any]:
    where = (row.target, row.table_name or row.address or "", row.region or "")  # names are regional
    identity = "\0".join((*where, item.attribute, "not-compared"))
    return {
        "ruleId": "not-compared",
        "ruleIndex": _RULE_INDEX["not-compared"],
        "level": "note",
        "message": {
            "text": f"{row.table_name or row.address} ({row.region}, target {row.target}): "
            f"{item.attribute} not compared: {item.reason}"
        },
        "locations": [_table_location(row, source)],
        "partialFingerprints": _fingerprint(identity),
        "properties": {
            "target": row.target,
            "table": row.table_name,
            "region": row.region,
            "attribute": item.attribute,
            "reason": item.reason,
        },
    }


def _notifications(report: ScanReport) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for error in report.errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": f"[{error.target}] {error.message}"}}
        if error.file:
            artifact = {"uri": _uri(error.file), "uriBaseId": "%SRCROOT%"}
            physical: dict[str, Any] = {"artifactLocation": artifact}
            if error.line:
                physical["region"] = {"startLine": max(1, error.line)}
            note["locations"] = [{"physicalLocation": physical}]
        notes.append(note)
    for row in report.tables:
        if row.status is TableStatus.ERROR:
            name = row.table_name or row.address or "?"
            notes.append(
                {"level": "error", "message": {"text": f"[{row.target}] {name} not checked: {row.error}"}}
            )
    for rule in report.expired_ignore_rules:
        text = f"expired ignore rule, no longer applied: {rule.describe()}"
        notes.append({"level": "warning", "message": {"text": text}})
    for off in report.pending_unavailable:
        text = f"[{off.target}] pending applies off, drift alerts at once: {off.reason}"
        notes.append({"level": "warning", "message": {"text": text}})
    if report.checkout_stale:
        text = f"the checkout may be stale: {report.checkout_stale}"
        notes.append({"level": "warning", "message": {"text": text}})
    return notes


def _root_not_covered(root: RootNotCovered) -> dict[str, Any]:
    name = root.path or "."
    location: dict[str, Any] = {"logicalLocations": [{"name": name, "kind": "module"}]}
    if root.source is not None:
        location["physicalLocation"] = _physical(root.source)
    return {
        "ruleId": "root-not-covered",
        "ruleIndex": _RULE_INDEX["root-not-covered"],
        "level": "warning",
        "message": {"text": f"{root.path}: {root.reason}" if root.path else root.reason},
        "locations": [location],
        "partialFingerprints": _fingerprint("\0".join((name, "root-not-covered"))),
        "properties": {"path": root.path or None, "reason": root.reason},
    }


def report_to_sarif(report: ScanReport) -> dict[str, Any]:
    results = [
        # the attribute's own line (``ttl_enabled = ...`` or its tfvars line) where it is known
        _result(row, row.source_of(drift.attribute) or row.source, drift)
        for row in report.tables
        if row.source is not None and row.status in (TableStatus.DRIFTED, TableStatus.MISSING)
        for drift in row.drift
    ]
    results += [_not_evaluated(item) for item in report.not_evaluated]
    results += [_root_not_covered(root) for root in report.roots_not_covered]
    results += [
        _not_compared(row, row.source_of(item.attribute) or row.source, item)
        for row in report.tables
        if row.source is not None and row.status is not TableStatus.UNMANAGED
        for item in {u.attribute: u for u in row.unresolved}.values()
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "driftwatch",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [dict(rule) for rule in _RULES],
            }
        },
        "invocations": [
            {
                "executionSuccessful": report.exit_code != 1,
                "endTimeUtc": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "toolExecutionNotifications": _notifications(report),
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if report.commit:
        run["properties"] = {"commit": report.commit, "dirty": report.dirty}
    if report.repo_subdir.strip("/"):
        _rebase(run, report.repo_subdir.strip("/"))
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rebase(value: Any, subdir: str) -> None:
    """Every ``%SRCROOT%`` artifact of ``value`` counted from the checkout's top: code scanning
    reads a uri from the top of the repository, and a declaration's file is relative to
    ``repo``, which may lie below it (ScanReport.repo_subdir)."""
    if isinstance(value, dict):
        if value.get("uriBaseId") == "%SRCROOT%" and isinstance(value.get("uri"), str):
            value["uri"] = f"{_uri(subdir)}/{value['uri']}"
        for item in value.values():
            _rebase(item, subdir)
    elif isinstance(value, list):
        for item in value:
            _rebase(item, subdir)


def render_sarif(report: ScanReport) -> str:
    return json.dumps(report_to_sarif(report), indent=2, default=str) + "\n"
