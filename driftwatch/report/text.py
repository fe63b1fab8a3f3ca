"""The terminal report: a summary line, then one declared-vs-live table per drifted table.

Rendered with rich so that it is readable on a terminal and degrades to plain text when piped
(rich drops colour and styling when the output is not a TTY). Besides drift, a row shows its
pending drift (waiting for a recent commit to be applied), its ignored drift with the rule's
reason, and unmanaged tables; none of those alert, except unmanaged tables of a target that
asks for it.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from driftwatch.report.safe import escape_controls
from driftwatch.spec import RootNotCovered, ScanReport, TableResult, TableStatus

_STATUS_STYLE = {
    TableStatus.IN_SYNC: "green",
    TableStatus.DRIFTED: "bold red",
    TableStatus.MISSING: "bold magenta",
    TableStatus.ERROR: "bold yellow",
    TableStatus.PENDING: "bold cyan",
    TableStatus.UNMANAGED: "bold blue",
}
_INDENT = " " * 10


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
    if row.address:
        text.append(f"\n{_INDENT}{row.address}")
    if row.source:
        text.append(f"  {row.source}", style="cyan")
    return text


# Past this many characters per row a three-column table would fold values (ARNs, long tag
# values) across lines, which breaks copy and paste and grep; such rows are listed vertically.
_TABLE_MAX_ROW = 120


def _drift_table(items: Any, row: TableResult | None = None) -> Table | Group:
    rows = [(d.attribute, _value(d.declared), _value(d.live)) for d in items]
    # Where each attribute is written, when that is not the table's own line (shown above it).
    where = [_written_at(row, d.attribute) for d in items]
    if any(sum(len(cell) for cell in r) > _TABLE_MAX_ROW for r in rows):
        return Group(
            *(
                Text(
                    "\n".join(
                        (
                            f"{_INDENT}{attribute}",
                            f"{_INDENT}  declared (git): {declared}",
                            f"{_INDENT}  live (AWS):     {live}",
                            *((f"{_INDENT}  written at:     {at}",) if at else ()),
                        )
                    )
                )
                for (attribute, declared, live), at in zip(rows, where, strict=True)
            )
        )
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2), pad_edge=False)
    table.add_column("attribute", overflow="fold")
    table.add_column("declared (git)", overflow="fold")
    table.add_column("live (AWS)", overflow="fold")
    if any(where):
        table.add_column("written at", overflow="fold", style="cyan")
    for r, at in zip(rows, where, strict=True):
        table.add_row(*r, *((at,) if any(where) else ()))
    return table


def _written_at(row: TableResult | None, attribute: str) -> str:
    if row is None:
        return ""
    source = row.source_of(attribute)
    return str(source) if source is not None and source != row.source else ""


def _when(value: Any) -> str:
    return str(value.strftime("%Y-%m-%d %H:%M UTC"))


def render_row(row: TableResult, verbose: bool) -> Group | None:
    parts: list[Any] = []
    quiet = row.status is TableStatus.IN_SYNC and not row.unresolved and not row.ignored
    if quiet and not verbose:
        return None
    parts.append(_heading(row))
    if row.error:
        parts.append(Text(f"{_INDENT}error: {row.error}", style="yellow"))
    if row.status is TableStatus.UNMANAGED:
        alert = "alerted" if row.alert_unmanaged else "not alerted"
        parts.append(Text(f"{_INDENT}in AWS but not declared in git ({alert})"))
    elif row.drift and row.status is not TableStatus.MISSING:
        parts.append(_drift_table(row.drift, row))
    if row.pending:
        first = row.pending[0]
        parts.append(
            Text(
                f"{_INDENT}pending apply: {first.file} changed in {first.commit[:12]} at "
                f"{_when(first.changed_at)}; drift from {_when(first.until)} if still there",
                style="cyan",
            )
        )
        parts.append(_drift_table(row.pending))
    for ignored in row.ignored:
        until = f", until {ignored.until.isoformat()}" if ignored.until else ""
        parts.append(
            Text(
                f"{_INDENT}ignored {ignored.attribute}: {_value(ignored.declared)} -> "
                f"{_value(ignored.live)} ({ignored.reason}{until})",
                style="dim",
            )
        )
    for unresolved in row.unresolved:
        parts.append(Text(f"{_INDENT}unresolved {unresolved.attribute}: {unresolved.reason}", style="dim"))
    return Group(*parts, Text(""))


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 table``, ``2 tables``, ``0 errors``."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def summary_line(report: ScanReport) -> str:
    """What was watched and what the exit code counts, in words.

    ``errors`` counts the tables that could not be read; ``not evaluated`` counts the problems
    that kept part of a target from being evaluated at all (a file that does not parse, a
    missing var file, a module call whose source cannot be had): the tables it declares are
    not in the count of tables watched. Either makes the exit code 1. Unmanaged tables are
    listed but not watched. ``attributes not compared`` (unresolved values of declared tables)
    is there whenever it is not 0: a table "in sync" may still hold a value nobody compared.
    """
    parts = [
        f"{report.count(TableStatus.IN_SYNC)} in sync",
        f"{report.count(TableStatus.DRIFTED)} drifted",
        f"{report.count(TableStatus.MISSING)} missing",
        plural(report.count(TableStatus.ERROR), "error"),
    ]
    parts += [
        f"{report.count(status)} {status.value.replace('_', ' ')}"
        for status in (TableStatus.PENDING, TableStatus.UNMANAGED)
        if report.count(status)
    ]
    # Target errors and the module calls or resources listed as not evaluated: either way,
    # tables git may declare that nothing watches.
    parts.append(f"{len(report.errors) + len(report.not_evaluated)} not evaluated")
    if report.unresolved_count:
        parts.append(f"{plural(report.unresolved_count, 'attribute')} not compared")
    if report.roots_not_covered:
        parts.append(f"{plural(len(report.roots_not_covered), 'directory', 'directories')} not covered")
    if report.checkout_stale:
        parts.append("checkout may be stale")
    commit = f" at {report.commit[:12]}{' (modified)' if report.dirty else ''}" if report.commit else ""
    watched = sum(1 for row in report.tables if row.status is not TableStatus.UNMANAGED)
    return f"{plural(watched, 'table')} watched{commit}: {', '.join(parts)}"


def root_line(root: RootNotCovered) -> str:
    """``envs/qa: declares ... (... at envs/qa/main.tf:12) ...``; a survey cut short is its
    reason alone."""
    return f"{root.path}: {root.reason}" if root.path else root.reason


def render_text(report: ScanReport, console: Console, verbose: bool = False) -> None:
    # Values come from git and AWS: a control character in one must not drive the terminal.
    report = escape_controls(report)
    for error in report.errors:
        where = error.location
        console.print(
            Text(f"error [{error.target}] {where + ': ' if where else ''}{error.message}", style="yellow")
        )
    for rule in report.expired_ignore_rules:
        console.print(Text(f"expired ignore rule, no longer applied: {rule.describe()}", style="yellow"))
    for item in report.not_evaluated:
        where = f"{item.source}: " if item.source else ""
        console.print(
            Text(f"not evaluated [{item.target}] {where}{item.address}: {item.reason}", style="yellow")
        )
    for off in report.pending_unavailable:
        console.print(
            Text(f"pending applies off [{off.target}], drift alerts at once: {off.reason}", style="yellow")
        )
    for root in report.roots_not_covered:
        console.print(Text(f"not covered [repository] {root_line(root)}", style="yellow"))
    if report.checkout_stale:
        console.print(Text(f"checkout may be stale [repository] {report.checkout_stale}", style="yellow"))
    if (
        report.checkout_stale
        or report.errors
        or report.expired_ignore_rules
        or report.not_evaluated
        or report.pending_unavailable
        or report.roots_not_covered
    ):
        console.print()
    for row in report.tables:
        rendered = render_row(row, verbose)
        if rendered is not None:
            console.print(rendered)
    console.print(Text(summary_line(report), style="bold"))
