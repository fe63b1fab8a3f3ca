"""The JSON report: the stable contract of DESIGN.md that CI jobs and scripts parse."""

from __future__ import annotations

import json
from typing import Any

from driftwatch.spec import ScanReport, TableResult, TableStatus

REPORT_VERSION = "1"


def _table(row: TableResult) -> dict[str, Any]:
    return {
        "target": row.target,
        "address": row.address,
        "source": {"file": row.source.file, "line": row.source.line} if row.source else None,
        "table_name": row.table_name,
        "region": row.region,
        "status": row.status.value,
        "drift": [{"attribute": d.attribute, "declared": d.declared, "live": d.live} for d in row.drift],
        "unresolved": [{"attribute": u.attribute, "reason": u.reason} for u in row.unresolved],
        "error": row.error,
    }


def report_to_dict(report: ScanReport) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "generated_at": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": report.commit,
        "summary": {
            "tables": len(report.tables),
            **{status.value: report.count(status) for status in TableStatus},
        },
        "tables": [_table(row) for row in report.tables],
        "errors": [
            {"target": e.target, "message": e.message, "file": e.file, "line": e.line} for e in report.errors
        ],
    }


def render_json(report: ScanReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False, default=str) + "\n"
