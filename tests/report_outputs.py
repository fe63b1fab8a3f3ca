"""What a scan report looks like in the outputs that are not files: /metrics and the terminal.

Shared by the tests that check a new kind of finding reaches every output (tests/test_roots.py,
tests/test_checkout.py), so each reads the same rendering the daemon and the CLI produce.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from driftwatch.metrics import DriftwatchMetrics
from driftwatch.report.text import render_text
from driftwatch.spec import ScanReport


def metric_samples(report: ScanReport) -> dict[str, float]:
    """Every unlabelled sample of /metrics after the daemon observed ``report`` (name -> value;
    for a labelled family, the last sample rendered)."""
    metrics = DriftwatchMetrics(version="test")
    metrics.observe_scan(
        report, first_seen={}, result="success", duration_seconds=1.0, started_at=datetime.now(UTC)
    )
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }


def plain_text(report: ScanReport) -> str:
    """The text report as piped (no colour), wide enough that no line wraps."""
    out = io.StringIO()
    render_text(report, Console(file=out, width=300, color_system=None))
    return out.getvalue()
