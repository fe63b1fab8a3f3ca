"""The Markdown report: a CI job summary or a pull-request comment (GitHub-flavoured CommonMark).

Where teams already look: ``driftwatch scan --format markdown >> "$GITHUB_STEP_SUMMARY"``, or
the same text posted as a PR comment. It leads with a summary table (the counts the exit code
is made of), then one section per table that alerts -- drifted or missing -- with declared vs
live and a ``file:line`` link into the repository. What is long or only informational (many
drifted attributes, unresolved values, ignored and pending drift, the tables in sync) sits in
``<details>`` blocks, collapsed.

Every value comes from git or AWS and is escaped: a tag value cannot open a link, inject HTML
or break out of its table cell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from driftwatch.report.links import source_url
from driftwatch.report.safe import printable
from driftwatch.report.text import plural, summary_line
from driftwatch.spec import ScanReport, SourceLocation, TableResult, TableStatus

# More drifted attributes than this and the section's table is collapsed.
COLLAPSE_AFTER = 8
# Punctuation with a meaning inline (emphasis, links, code, HTML, tables, strikethrough) or at
# the start of a line (headings); "<", ">" and "&" become entities instead. The rest (names'
# "-", ".", "/", ":") stays as typed, so the source of a PR comment is readable too.
_PUNCTUATION = set("\\`*_[]|!~#")
# A line that starts like a list item or a numbered one ("- ", "+ ", "12. ", "3) ").
_LIST_START = re.compile(r"^(\d{1,9})([.)])|^([-+])")
_EXIT_MEANING = {
    0: "everything checked and in sync",
    1: "something could not be checked",
    2: "drift or missing tables",
}


def escape(text: str) -> str:
    """Literal text in Markdown: control characters made visible, ASCII punctuation
    backslash-escaped (CommonMark's rule), and ``<``, ``>``, ``&`` as HTML entities."""
    escaped = "".join("\\" + c if c in _PUNCTUATION else c for c in printable(text))
    escaped = _LIST_START.sub(lambda m: (m.group(1) or "") + "\\" + (m.group(2) or m.group(3)), escaped)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _value(value: Any) -> str:
    if value is None:
        return "*(absent)*"
    return escape(value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True))


def _code(text: str) -> str:
    """A code span, or escaped text when the value holds a backtick (it would end the span)."""
    text = printable(text)
    return f"`{text}`" if "`" not in text else escape(text)


@dataclass(frozen=True)
class _Links:
    """Where a report's ``file:line`` points: the repository's web address, the scanned commit,
    and the scanned directory's place in its checkout (ScanReport.repo_subdir)."""

    repo_url: str | None
    commit: str | None
    subdir: str = ""

    def where(self, source: SourceLocation | None) -> str:
        if source is None:
            return ""
        label = escape(str(source))
        if not self.repo_url:
            return label
        url = source_url(self.repo_url, self.commit or "HEAD", source, self.subdir)
        # The URL is percent-encoded by source_url; <> and spaces cannot survive that.
        return f"[{label}](<{url}>)"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _details(summary: str, body: list[str]) -> list[str]:
    # Blank lines around the body: CommonMark then parses it as Markdown inside the HTML block.
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _section(row: TableResult, links: _Links) -> list[str]:
    name = escape(row.table_name or "?")
    lines = [
        f"### {row.status.value.replace('_', ' ').upper()}: {name}",
        "",
        f"Region {escape(row.region or '?')}, target {escape(row.target)}"
        + (f", {_code(row.address)}" if row.address else "")
        + (f", declared at {links.where(row.source)}" if row.source else ""),
        "",
    ]
    if row.error:
        lines += [f"**Error:** {escape(row.error)}", ""]
    if row.status is TableStatus.MISSING:
        lines += ["The table is declared in git but does not exist in AWS.", ""]
    elif row.status is TableStatus.UNMANAGED:
        lines += ["The table exists in AWS but no declaration in git covers it.", ""]
    elif row.drift:
        body = _table(
            ["attribute", "declared (git)", "live (AWS)", "written at"],
            (
                [
                    escape(d.attribute),
                    _value(d.declared),
                    _value(d.live),
                    links.where(row.source_of(d.attribute)),
                ]
                for d in row.drift
            ),
        )
        if len(row.drift) > COLLAPSE_AFTER:
            lines += _details(f"{plural(len(row.drift), 'attribute')} differ", body)
        else:
            lines += [*body, ""]
    lines += _extras(row)
    return lines


def _extras(row: TableResult) -> list[str]:
    """Shown, never alerted: collapsed."""
    lines: list[str] = []
    if row.pending:
        lines += _details(
            f"{plural(len(row.pending), 'attribute')} pending apply",
            [
                f"- {escape(p.attribute)}: {_value(p.declared)} → {_value(p.live)} "
                f"({escape(p.file)} changed in {escape(p.commit[:12])})"
                for p in row.pending
            ],
        )
    if row.ignored:
        lines += _details(
            f"{plural(len(row.ignored), 'attribute')} ignored",
            [
                f"- {escape(i.attribute)}: {_value(i.declared)} → {_value(i.live)} ({escape(i.reason)})"
                for i in row.ignored
            ],
        )
    if row.unresolved:
        lines += _details(
            f"{plural(len(row.unresolved), 'value')} not resolved (not compared)",
            [f"- {escape(u.attribute)}: {escape(u.reason)}" for u in row.unresolved],
        )
    return lines


def render_markdown(report: ScanReport, repo_url: str | None = None, *, demo: bool = False) -> str:
    """The report as Markdown. ``demo``: the report of ``driftwatch demo``, which exits 0 when it
    ran (its drift is on purpose), so the line says what a scan would exit with instead of
    claiming the exit code of this run."""
    links = _Links(repo_url, report.commit, report.repo_subdir)
    code = report.exit_code
    commit = f" at `{report.commit[:12]}`" if report.commit else ""
    if demo:
        outcome = (
            f"`driftwatch scan` exits **{code}** on these tables: {_EXIT_MEANING.get(code, '')}; "
            "`driftwatch demo` exits 0, its drift being on purpose."
        )
    else:
        outcome = f"Exit code **{code}**: {_EXIT_MEANING.get(code, '')}."
    lines = [
        f"## driftwatch: {escape(summary_line(report).split(': ', 1)[1])}",
        "",
        f"Scanned{commit} on {report.generated_at.strftime('%Y-%m-%d %H:%M UTC')}. {outcome}",
        "",
    ]
    counts = [
        ("watched", len(report.tables)),
        *((status.value.replace("_", " "), report.count(status)) for status in TableStatus),
        ("not evaluated", len(report.errors) + len(report.not_evaluated)),
        *((("attributes not compared", report.unresolved_count),) if report.unresolved_count else ()),
        *((("directories not covered", len(report.roots_not_covered)),) if report.roots_not_covered else ()),
    ]
    lines += [*_table(["tables", "count"], ([label, str(n)] for label, n in counts)), ""]
    if report.errors or report.not_evaluated:
        # Said in the open, never collapsed: the tables behind these are not watched.
        lines += ["### Not evaluated", ""]
        for error in report.errors:
            where = f"{escape(error.location)}: " if error.location else ""
            lines.append(f"- {escape(error.target)}: {where}{escape(error.message)}")
        for item in report.not_evaluated:
            where = f" at {links.where(item.source)}" if item.source else ""
            lines.append(f"- {escape(item.target)}: {_code(item.address)}{where}: {escape(item.reason)}")
        lines.append("")
    if report.checkout_stale:
        # Every comparison is against the last commit that synced: said first, never collapsed.
        lines += ["### The checkout may be stale", "", f"- {escape(report.checkout_stale)}", ""]
    if report.roots_not_covered:
        # Tables in directories nobody asked driftwatch to watch: said, never collapsed.
        lines += ["### Directories no target evaluates", ""]
        for root in report.roots_not_covered:
            where = f" at {links.where(root.source)}" if root.source else ""
            name = _code(root.path) if root.path else "the repository survey"
            lines.append(f"- {name}{where}: {escape(root.reason)}")
        lines.append("")
    if report.pending_unavailable:
        lines += ["### Pending applies off (drift alerts at once)", ""]
        lines += [f"- {escape(p.target)}: {escape(p.reason)}" for p in report.pending_unavailable]
        lines.append("")
    if report.expired_ignore_rules:
        lines += ["### Expired ignore rules (no longer applied)", ""]
        lines += [f"- {escape(rule.describe())}" for rule in report.expired_ignore_rules]
        lines.append("")
    shown = [r for r in report.tables if r.alerts or r.status is TableStatus.ERROR]
    for row in shown:
        lines += _section(row, links)
    rest = [r for r in report.tables if r not in shown]
    if rest:
        body = [
            f"- {escape(r.table_name or '?')} ({escape(r.target)}): {r.status.value.replace('_', ' ')}"
            for r in rest
        ]
        for row in rest:
            extra = _extras(row)
            if extra:
                body += ["", f"**{escape(row.table_name or '?')}**", "", *extra]
        lines += _details(f"{plural(len(rest), 'other table')} (in sync, pending or not alerted)", body)
    return "\n".join(lines).rstrip("\n") + "\n"
