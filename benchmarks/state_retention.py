"""Retention soak: the state database over a simulated year, with and without ``state.retention``.

What the daemon writes is driven directly through ``History`` with a simulated clock (a real
daemon would need a year): every simulated hour a scan of ``--tables`` tables in which drift
opens and closes (each table toggles every ``--toggle-hours``), every message delivered at once,
and retention run as the daemon runs it (``History.prune(now - retention)``, hourly). The file
size is measured after a WAL checkpoint at the end of every simulated week.

    python benchmarks/state_retention.py                    # 365 days, 50 tables, 90d retention
    python benchmarks/state_retention.py --days 120 --retention-days 30 --json retention.json

It prints the size per month for both runs and ends with
``TARGET state size flat after retention ... PASS|MISS``: the size in the last quarter may not
exceed the size one retention period in by more than 10 %.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from driftwatch.history import History  # noqa: E402
from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _report(now: datetime, tables: int, hour: int, toggle_hours: int) -> ScanReport:
    rows = []
    for index in range(tables):
        drifted = ((hour + index) // toggle_hours) % 2 == 1
        rows.append(
            TableResult(
                target="prod",
                address=f"module.table_{index}",
                source=SourceLocation("main.tf", index + 1),
                table_name=f"acme-prod-table-{index}",
                region="us-east-1",
                status=TableStatus.DRIFTED if drifted else TableStatus.IN_SYNC,
                drift=(Drift("point_in_time_recovery", True, False),) if drifted else (),
            )
        )
    return ScanReport(generated_at=now, commit=f"{hour:040x}", tables=tuple(rows))


def run(days: int, tables: int, toggle_hours: int, retention: timedelta | None) -> dict[int, int]:
    """Size of the database file (bytes) at the end of each simulated week."""
    sizes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "driftwatch.db"
        with History.open(path, exclusive=True) as history:
            history.add_channel("slack", lambda t: {"text": "x" * 600, "blocks": []}, lambda e, now: None)
            for hour in range(days * 24):
                now = T0 + timedelta(hours=hour)
                history.record_scan(_report(now, tables, hour, toggle_hours), now)
                for message in history.pending("slack", now, limit=500):
                    history.begin_attempt(message.id, now)
                    history.mark_sent(message.id, now)
                if retention is not None:
                    history.prune(now - retention)
                if hour % (24 * 7) == 24 * 7 - 1:
                    with history._read() as conn:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    sizes[hour // 24 + 1] = path.stat().st_size
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument(
        "--toggle-hours", type=int, default=12, help="each table's drift opens/closes this often"
    )
    parser.add_argument("--retention-days", type=int, default=90)
    parser.add_argument("--json", help="write the raw figures here")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    started = time.monotonic()
    retention = timedelta(days=args.retention_days)
    kept = run(args.days, args.tables, args.toggle_hours, retention)
    unbounded = run(args.days, args.tables, args.toggle_hours, None)
    print(f"{args.days} simulated days, {args.tables} tables, drift toggling every {args.toggle_hours} h")
    print(f"{'day':>5} {'retention ' + str(args.retention_days) + 'd':>16} {'no retention':>14}")
    for day in sorted(kept):
        if day % 28 == 0 or day == max(kept):
            print(f"{day:>5} {kept[day] / 1024:>13.0f} KiB {unbounded[day] / 1024:>11.0f} KiB")
    reference_day = min((d for d in kept if d >= args.retention_days + 7), default=max(kept))
    last_quarter = [size for day, size in kept.items() if day >= args.days * 3 // 4]
    limit = kept[reference_day] * 1.10
    ok = max(last_quarter) <= limit
    print(f"({time.monotonic() - started:.0f} s)")
    print(
        f"TARGET state size flat after retention: max {max(last_quarter) / 1024:.0f} KiB in the last quarter "
        f"vs {kept[reference_day] / 1024:.0f} KiB on day {reference_day} (+10% allowed) "
        f"{'PASS' if ok else 'MISS'}"
    )
    if args.json:
        figures: dict[str, Any] = {"args": vars(args), "retention": kept, "unbounded": unbounded, "pass": ok}
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
