"""The terminal report written to a pipe or file (a CI log) shows every value in full."""

import io
from datetime import UTC, datetime

from driftwatch.report.console import make_console
from driftwatch.report.text import render_text
from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus

LONG_ARN = "arn:aws:kms:us-east-1:123456789012:key/" + "0123456789abcdef" * 4


def test_piped_report_keeps_long_attributes_and_values_whole() -> None:
    row = TableResult(
        target="prod",
        address='module.tables["a-rather-long-table-key"]',
        source=SourceLocation("envs/prod/main.tf", 46),
        table_name="acme-prod-a-rather-long-table-name-for-orders",
        region="us-east-1",
        status=TableStatus.DRIFTED,
        drift=(
            Drift("gsi.tenant-by-creation-date-index.autoscaling.write.target", 50.0, 70.0),
            Drift("sse.kms_key_arn", LONG_ARN, LONG_ARN.replace("0123", "ffff")),
        ),
    )
    report = ScanReport(generated_at=datetime.now(UTC), commit=None, tables=(row,))
    out = io.StringIO()
    render_text(report, make_console(out))
    text = out.getvalue()
    assert "…" not in text
    assert "gsi.tenant-by-creation-date-index.autoscaling.write.target" in text
    assert LONG_ARN in text
    assert "envs/prod/main.tf:46" in text
