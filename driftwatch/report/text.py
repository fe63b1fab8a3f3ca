"""The terminal report: a summary line, then one declared-vs-live table per drifted table.

Rendered with rich so that it is readable on a terminal and degrades to plain text when piped
(rich drops colour and styling when the output is not a TTY).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from driftwatch.spec import ScanReport, TableResult, TableStatus

_STATUS_STYLE = {
    TableStatus.IN_SYNC: "green",
    TableStatus.DRIFTED: "bold red",
    TableStatus.MISSING: "bold magenta",
    TableStatus.ERROR: "bold yellow",
}


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _heading(row: TableResult) -> Text:
    text = Text()
    text.append(f"{row.status.value.upper():9}", style=_STATUS_STYLE[row.status])
    text.append(f" {row.table_name or '?'}", style="bold")
    text.append(f"  ({row.region or '?'}, target {row.target})")
    text.append(f"\n          {row.address}")
    if row.source:
        text.append(f"  {row.source}", style="cyan")
    return text


def _drift_table(row: TableResult) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2), pad_edge=False)
    table.add_column("attribute")
    table.add_column("declared (git)")
    table.add_column("live (AWS)")
    for drift in row.drift:
        table.add_row(drift.attribute, _value(drift.declared), _value(drift.live))
    return table


def render_row(row: TableResult, verbose: bool) -> Group | None:
    parts: list[Any] = []
    if row.status is TableStatus.IN_SYNC and not verbose and not row.unresolved:
        return None
    parts.append(_heading(row))
    if row.error:
        parts.append(Text(f"          error: {row.error}", style="yellow"))
    if row.drift and row.status is not TableStatus.MISSING:
        parts.append(_drift_table(row))
    for unresolved in row.unresolved:
        parts.append(Text(f"          unresolved {unresolved.attribute}: {unresolved.reason}", style="dim"))
    return Group(*parts, Text(""))


def render_text(report: ScanReport, console: Console, verbose: bool = False) -> None:
    for error in report.errors:
        where = f"{error.file}:{error.line}" if error.file and error.line else (error.file or "")
        console.print(
            Text(f"error [{error.target}] {where + ': ' if where else ''}{error.message}", style="yellow")
        )
    if report.errors:
        console.print()
    for row in report.tables:
        rendered = render_row(row, verbose)
        if rendered is not None:
            console.print(rendered)
    counts = ", ".join(f"{report.count(s)} {s.value.replace('_', ' ')}" for s in TableStatus)
    commit = f" at {report.commit[:12]}" if report.commit else ""
    console.print(Text(f"{len(report.tables)} tables checked{commit}: {counts}", style="bold"))
