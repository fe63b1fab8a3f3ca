"""``driftwatch inspect``: the declared tables exactly as driftwatch resolved them.

This is the first thing a user runs when a finding surprises them, so every attribute is
shown with its resolved value, and every Unknown with the reason it could not be resolved.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Mapping
from typing import Any, TextIO

from rich.text import Text

from driftwatch.accounts import describe as describe_account
from driftwatch.report.console import make_console
from driftwatch.report.json import not_evaluated_to_dict
from driftwatch.report.safe import escape_controls
from driftwatch.report.text import plural
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
_LIVE_ONLY = ("replica_status", "index_status", "created_at")


def _declared(spec: TableSpec) -> dict[str, Any]:
    data: dict[str, Any] = plain(spec)
    for name in _LIVE_ONLY:
        data.pop(name, None)
    # "unmanaged" is also a table status (a live table git does not declare): here it is the
    # attributes this declaration leaves to others (ignore_changes, the module, an autoscaler).
    data[NOT_COMPARED] = data.pop("unmanaged", [])
    if not spec.ignore_tags:
        data.pop("ignore_tags", None)  # shown only when the provider ignores some tags
    if not spec.restored_tags:
        data.pop("restored_tags", None)  # shown only under ignore_changes on default tags
    if not spec.tag_resources:
        data.pop("tag_resources", None)  # shown only where aws_dynamodb_tag resources tag it
    return data


def not_compared(table: DeclaredTable) -> list[tuple[str, str]]:
    """(attribute, reason) of everything of the declaration a scan will not compare: the
    spec's Unknowns and the declaration's notes (a setting driftwatch does not compare, the
    whole ``tags`` input). One list for the text and the JSON view, so neither says less."""
    return [*unresolved_paths(table.spec), *((n.attribute, n.reason) for n in table.notes)]


def table_to_dict(target: str, table: DeclaredTable) -> dict[str, Any]:
    return {
        "target": target,
        "address": table.address,
        "source": {"file": table.source.file, "line": table.source.line},
        "spec": _declared(table.spec),
        "unresolved": [{"attribute": a, "reason": r} for a, r in not_compared(table)],
        # Rules Terraform would reject the declaration for; `when` says if that depends on the
        # live table (see driftwatch.spec.Rejection).
        "rejections": [{"rule": r.rule, "message": r.message, "when": r.when} for r in table.rejections],
        # The account its provider binds it to (driftwatch.accounts); null: none named.
        "account": plain(table.account) if table.account is not None else None,
    }


# The text view fits this many columns: a laptop terminal split in two, a CI log pane.
WIDTH = 100
_MAX_KEY_COLUMN = 48  # a longer attribute path puts its value on the next line
# The spec's plural collections are shown under the attribute vocabulary's names.
_VOCABULARY = {"gsis": "gsi", "lsis": "lsi"}
NOT_COMPARED = "not_compared"


def flat_rows(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(attribute path, leaf value) of a plain() spec, in the attribute vocabulary's names
    (``ttl.enabled``, ``gsi.tenant-index.read_capacity``, ``tags.Team``): the names that drift,
    ignore rules and metrics use, so what inspect shows can be searched for in a report."""
    if isinstance(value, dict) and set(value) != {"unknown"}:
        rows: list[tuple[str, Any]] = []
        for key, item in value.items():
            rows += flat_rows(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        rows = []
        for item in value:
            rows += flat_rows({k: v for k, v in item.items() if k != "name"}, f"{prefix}.{item['name']}")
        return rows
    return [(prefix, value)]


def _spec_rows(spec: TableSpec) -> list[tuple[str, Any]]:
    data = _declared(spec)
    data.pop("status", None)
    data = {_VOCABULARY.get(k, k): v for k, v in data.items()}
    return [
        (key, value) for key, value in flat_rows(data) if value not in ((), [], {}, None) or key in ("tags",)
    ]


def _leaf_text(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"unknown"}:
        return f"unknown: {value['unknown']}"
    if isinstance(value, list):
        return ", ".join(_leaf_text(v) for v in value) if value else "(none)"
    if isinstance(value, str):
        return value
    if value == {}:
        return "(none)"
    return json.dumps(value, default=str)


_RESTORED = "restored_tags."
_TAG_RESOURCE = "tag_resources."


def _label(key: str) -> str:
    """The row's name: a restored tag (compared only for its presence) or a tag put by an
    ``aws_dynamodb_tag`` resource, under its vocabulary name."""
    if key.startswith(_RESTORED):
        return f"tags.{key.removeprefix(_RESTORED)} (if deleted)"
    if key.startswith(_TAG_RESOURCE):
        return f"tags.{key.removeprefix(_TAG_RESOURCE)} (aws_dynamodb_tag)"
    return key.replace("_", " ") if key == NOT_COMPARED else key


def _row_lines(key: str, value: Any, column: int) -> Text:
    """One attribute, its value wrapped to WIDTH columns under the value column."""
    label = _label(key)
    head = f"  {label:<{column}}" if len(label) < column else f"  {label}\n  {'':<{column}}"
    indent = " " * (2 + column)
    body = _leaf_text(value)
    wrapped = textwrap.wrap(
        body, width=WIDTH - len(indent), break_long_words=True, break_on_hyphens=False
    ) or [""]
    text = Text(head, style="cyan")
    style = "yellow" if body.startswith("unknown:") else ""
    text.append("\n".join([wrapped[0], *(indent + line for line in wrapped[1:])]), style=style)
    return text


def render_inspect(declared: DeclaredSet, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        entries = [(job.target, job.table) for job in declared.jobs]
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
    # Values come from git: a control character in one must not drive the terminal.
    declared = escape_controls(declared)
    entries = [(job.target, job.table) for job in declared.jobs]
    early = {(row.target, row.address): row for row in declared.early}
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
        console.print(Text(f"{table.spec.name}", style="bold"), Text(f"  (target {target})"))
        console.print(Text(f"  {table.address}\n  {table.source}", style="dim"))
        rows = _spec_rows(table.spec)
        if table.account is not None:
            rows.insert(0, ("account", describe_account(table.account)))
        column = min(_MAX_KEY_COLUMN, max((len(_label(key)) for key, _ in rows), default=0) + 2)
        for key, value in rows:
            console.print(_row_lines(key, value, column))
        unresolved = not_compared(table)
        console.print(Text(f"  {len(unresolved)} unresolved" + (":" if unresolved else ""), style="dim"))
        for attribute, reason in unresolved:
            console.print(
                Text(
                    textwrap.fill(
                        f"{attribute}: {reason}", WIDTH, initial_indent="    ", subsequent_indent="      "
                    ),
                    style="yellow",
                )
            )
        for rule in table.rejections:
            when = "" if rule.when == "always" else f" ({rule.when})"
            console.print(
                Text(
                    textwrap.fill(
                        f"Terraform would reject: {rule.message} [{rule.rule}]{when}",
                        WIDTH,
                        initial_indent="  ",
                        subsequent_indent="    ",
                    ),
                    style="red",
                )
            )
        console.print()
    # A table that cannot be checked (declared.early) is an error line above: counted as one.
    tables = plural(len(entries), "table")
    errors = plural(len(declared.errors) + len(declared.early), "error")
    skipped = plural(len(declared.not_evaluated), "module call or resource", "module calls or resources")
    uncompared = sum(len(not_compared(table)) for _, table in entries)
    summary = f"{tables} declared, {errors}, {skipped} not evaluated"
    if uncompared:  # as the scan's summary line: never "declared" alone beside it
        summary += f", {plural(uncompared, 'attribute')} not compared"
    console.print(Text(summary, style="bold"))
