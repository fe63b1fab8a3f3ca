"""``driftwatch inspect``: the declared tables exactly as driftwatch resolved them.

This is the first thing a user runs when a finding surprises them, so every attribute is
shown with its resolved value, and every Unknown with the reason it could not be resolved.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from driftwatch.report.console import make_console
from driftwatch.report.json import not_evaluated_to_dict
from driftwatch.scan import DeclaredSet
from driftwatch.spec import DeclaredTable, TableSpec, Unknown


def plain(value: Any) -> Any:
    """A JSON-ready form of a spec value; an Unknown becomes {"unknown": reason}."""
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (frozenset, set)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def unresolved_paths(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(attribute path, reason) of every Unknown inside a spec."""
    if isinstance(value, Unknown):
        return [(path, value.reason)]
    found: list[tuple[str, str]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += unresolved_paths(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found += unresolved_paths(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            name = getattr(item, "name", None)
            found += unresolved_paths(item, f"{path}.{name}" if name else path)
    return found


# Fields only the live side fills in: noise in a view of what git declares.
_LIVE_ONLY = ("replica_status", "created_at")


def _declared(spec: TableSpec) -> dict[str, Any]:
    data: dict[str, Any] = plain(spec)
    for name in _LIVE_ONLY:
        data.pop(name, None)
    if not spec.ignore_tags:
        data.pop("ignore_tags", None)  # shown only when the provider ignores some tags
    return data


def table_to_dict(target: str, table: DeclaredTable) -> dict[str, Any]:
    return {
        "target": target,
        "address": table.address,
        "source": {"file": table.source.file, "line": table.source.line},
        "spec": _declared(table.spec),
        "unresolved": [
            {"attribute": a, "reason": r}
            for a, r in [*unresolved_paths(table.spec), *((n.attribute, n.reason) for n in table.notes)]
        ],
        # Rules Terraform would reject the declaration for; `when` says if that depends on the
        # live table (see driftwatch.spec.Rejection).
        "rejections": [{"rule": r.rule, "message": r.message, "when": r.when} for r in table.rejections],
    }


def _spec_rows(spec: TableSpec) -> list[tuple[str, Any]]:
    data = _declared(spec)
    skip = {"status"}
    return [
        (k, v) for k, v in data.items() if (k not in skip and v not in ((), [], {}, None)) or k in ("tags",)
    ]


def _render_value(value: Any) -> Text:
    if isinstance(value, dict) and set(value) == {"unknown"}:
        return Text(f"unknown: {value['unknown']}", style="yellow")
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    style = "yellow" if "unknown" in text else ""
    return Text(text, style=style)


def render_inspect(declared: DeclaredSet, fmt: str, out: TextIO) -> None:
    entries = [(job.target, job.table) for job in declared.jobs]
    early = {(row.target, row.address): row for row in declared.early}
    if fmt == "json":
        payload = {
            "tables": [table_to_dict(t, table) for t, table in entries],
            "not_checkable": [
                {"target": r.target, "address": r.address, "error": r.error} for r in declared.early
            ],
            "errors": [
                {"target": e.target, "message": e.message, "file": e.file, "line": e.line}
                for e in declared.errors
            ],
            "not_evaluated": [not_evaluated_to_dict(item) for item in declared.not_evaluated],
        }
        out.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    console = make_console(out)
    for error in declared.errors:
        where = f"{error.location}: " if error.location else ""
        console.print(Text(f"error [{error.target}] {where}{error.message}", style="yellow"))
    for row in early.values():
        console.print(Text(f"error [{row.target}] {row.address}: {row.error}", style="yellow"))
    for item in declared.not_evaluated:
        where = f"{item.source}: " if item.source else ""
        text = f"not evaluated [{item.target}] {where}{item.address}: {item.reason}"
        console.print(Text(text, style="yellow"))
    for target, table in entries:
        console.print(
            Text(f"{table.spec.name}", style="bold"), Text(f" ({target}) {table.address}  {table.source}")
        )
        grid = Table(show_header=False, box=None, padding=(0, 2), pad_edge=False)
        grid.add_column(style="cyan", overflow="fold")
        grid.add_column(overflow="fold")
        for key, value in _spec_rows(table.spec):
            grid.add_row(key, _render_value(value))
        console.print(grid)
        unresolved = unresolved_paths(table.spec)
        console.print(Text(f"  {len(unresolved)} unresolved" + (":" if unresolved else ""), style="dim"))
        for attribute, reason in unresolved:
            console.print(Text(f"    {attribute}: {reason}", style="yellow"))
        for rule in table.rejections:
            when = "" if rule.when == "always" else f" ({rule.when})"
            console.print(Text(f"  Terraform would reject: {rule.message} [{rule.rule}]{when}", style="red"))
        console.print()
    console.print(
        Text(
            f"{len(entries)} tables declared, {len(declared.errors)} errors, "
            f"{len(declared.not_evaluated)} module calls or resources not evaluated",
            style="bold",
        )
    )
