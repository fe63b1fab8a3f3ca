"""The JSON report: the stable contract (README, "JSON report") that CI jobs and scripts parse.

Additions to the original contract are additive only: per drift item ``source`` (where that
attribute is written in git; absent when git does not declare the table), per row ``ignored``
(accepted drift with its reason and expiry), ``pending`` (drift waiting for a recent commit to be applied) and
``alert`` (whether the row pages anyone); ``summary`` counts every status, ``pending`` and
``unmanaged`` included; top-level ``errors``, ``ignore_rules_expired``, ``dirty`` (the work
tree differs from ``commit``) and ``not_evaluated`` (module calls and resources that may
declare tables and were not evaluated, with file, line and reason; counted in
``summary.not_evaluated``); ``summary.target_errors`` counts ``errors`` and
``summary.unresolved`` the attributes of declared tables not compared (each row's
``unresolved``), so that a script reading only the summary sees everything not watched;
``pending_unavailable`` (targets whose pending applies could not be determined, with the
reason: their drift alerts at once); ``roots_not_covered`` (directories of the repository
that declare tables and that no target evaluates, with the first declaration's file and line;
``path`` null for a survey cut short; counted in ``summary.roots_not_covered``);
``checkout_stale`` (why the checkout may be stale: git-sync's error file is present; null
when it is not, or not configured).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from driftwatch.spec import Drift, IgnoreRule, NotEvaluated, ScanReport, TableResult, TableStatus

REPORT_VERSION = "1"


def _time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _drift(row: TableResult, drift: Drift) -> dict[str, Any]:
    item: dict[str, Any] = {"attribute": drift.attribute, "declared": drift.declared, "live": drift.live}
    source = row.source_of(drift.attribute)
    if source is not None:
        # where the attribute is written in git (its own line, else the table's); absent for
        # an unmanaged table, which git does not declare
        item["source"] = {"file": source.file, "line": source.line}
    return item


def _table(row: TableResult) -> dict[str, Any]:
    return {
        "target": row.target,
        "address": row.address,
        "source": {"file": row.source.file, "line": row.source.line} if row.source else None,
        "table_name": row.table_name,
        "region": row.region,
        "status": row.status.value,
        "drift": [_drift(row, d) for d in row.drift],
        "unresolved": [{"attribute": u.attribute, "reason": u.reason} for u in row.unresolved],
        "error": row.error,
        "ignored": [
            {
                "attribute": i.attribute,
                "declared": i.declared,
                "live": i.live,
                "reason": i.reason,
                "until": i.until.isoformat() if i.until else None,
            }
            for i in row.ignored
        ],
        "pending": [
            {
                "attribute": p.attribute,
                "declared": p.declared,
                "live": p.live,
                "file": p.file,
                "commit": p.commit,
                "changed_at": _time(p.changed_at),
                "until": _time(p.until),
            }
            for p in row.pending
        ],
        "alert": row.alerts,
    }


def rule_to_dict(rule: IgnoreRule) -> dict[str, Any]:
    return {
        "table": rule.table,
        "attribute": rule.attribute,
        "reason": rule.reason,
        "until": rule.until.isoformat() if rule.until else None,
    }


def not_evaluated_to_dict(item: NotEvaluated) -> dict[str, Any]:
    return {
        "target": item.target,
        "address": item.address,
        "file": item.source.file if item.source else None,
        "line": item.source.line if item.source else None,
        "reason": item.reason,
    }


def report_to_dict(report: ScanReport) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "generated_at": _time(report.generated_at),
        "commit": report.commit,
        "dirty": report.dirty,
        "summary": {
            "tables": len(report.tables),
            **{status.value: report.count(status) for status in TableStatus},
            "not_evaluated": len(report.not_evaluated),
            "target_errors": len(report.errors),
            "unresolved": report.unresolved_count,
            "roots_not_covered": len(report.roots_not_covered),
        },
        "tables": [_table(row) for row in report.tables],
        "errors": [
            {"target": e.target, "message": e.message, "file": e.file, "line": e.line, "column": e.column}
            for e in report.errors
        ],
        "ignore_rules_expired": [rule_to_dict(rule) for rule in report.expired_ignore_rules],
        "not_evaluated": [not_evaluated_to_dict(item) for item in report.not_evaluated],
        "pending_unavailable": [{"target": p.target, "reason": p.reason} for p in report.pending_unavailable],
        "checkout_stale": report.checkout_stale,
        "roots_not_covered": [
            {
                "path": root.path or None,
                "file": root.source.file if root.source else None,
                "line": root.source.line if root.source else None,
                "reason": root.reason,
            }
            for root in report.roots_not_covered
        ],
    }


def render_json(report: ScanReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False, default=str) + "\n"
