"""``--format markdown``: rendered with a CommonMark parser (markdown-it-py), as GitHub would.

End to end against the embedded AWS: the example tables created in moto, one changed out of
band, ``driftwatch scan --format markdown`` written to a file as CI writes a job summary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

# The CLI tests' fixtures (the example tables created in the embedded AWS; logging restored).
from test_e2e_cli import MIMIR, REGION, _restore_logging, dynamodb, pitr_off, provisioned  # noqa: F401

from driftwatch.cli import main
from driftwatch.report.markdown import COLLAPSE_AFTER, render_markdown
from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus, TargetError

REPO_URL = "https://github.com/acme/infra"


def parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def html_of(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def text_of(inline: Token) -> str:
    """What a reader sees of an inline token (escapes resolved)."""
    return "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))


def inline_children(tokens: list[Token]) -> list[Token]:
    return [child for token in tokens if token.type == "inline" for child in token.children or []]


@pytest.mark.usefixtures("provisioned")
def test_a_drifted_scan_as_a_ci_job_summary(tmp_path: Path) -> None:
    pitr_off(boto3.client("dynamodb", region_name=REGION))
    summary = tmp_path / "step-summary.md"
    code = main(
        [
            "scan",
            "--config",
            "config/driftwatch.yaml",
            "--format",
            "markdown",
            "--repo-url",
            REPO_URL,
            "-o",
            str(summary),
        ]
    )
    assert code == 2
    text = summary.read_text(encoding="utf-8")
    tokens = parse(text)
    headings = [
        tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"
    ]
    assert headings == ["driftwatch: 4 in sync, 1 drifted, 0 missing, 0 errors, 0 not evaluated"]
    sections = [
        tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h3"
    ]
    assert sections == [f"DRIFTED: {MIMIR}"]
    # the summary table and the section's declared-vs-live table are real tables
    cells = [text_of(tokens[i + 1]) for i, t in enumerate(tokens) if t.type in ("td_open", "th_open")]
    assert cells[:4] == ["tables", "count", "watched", "5"]
    row = cells.index("point_in_time_recovery")
    assert cells[row : row + 3] == ["point_in_time_recovery", "true", "false"]
    # file:line linked into the repository at the scanned commit
    links = [t.attrs["href"] for t in inline_children(tokens) if t.type == "link_open"]
    assert links and all(str(href).startswith(f"{REPO_URL}/blob/") for href in links)
    # config/driftwatch.yaml scans ../examples: a link counts from the checkout's top, where the
    # repository's web address starts (it pointed at modules/... , a file that does not exist)
    under = "/examples" if (Path(__file__).resolve().parents[1] / ".git").exists() else ""
    assert any(str(href).endswith(f"{under}/modules/mimir-index/main.tf#L3") for href in links), links
    # the tables in sync are collapsed
    html = html_of(text)
    assert "<details>" in html and "<summary>4 other tables" in html
    assert "acme-prod-orders (prod): in sync" in html
    assert "Exit code <strong>2</strong>" in html


def _drifted(name: str, drift: tuple[Drift, ...]) -> TableResult:
    return TableResult(
        "prod", "module.t", SourceLocation("main.tf", 7), name, "us-east-1", TableStatus.DRIFTED, drift
    )


def test_values_cannot_inject_links_html_or_break_the_table() -> None:
    evil = "x | y <img src=x onerror=alert(1)> [click](https://evil.example) `code` *em*\n# heading"
    report = ScanReport(
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        (_drifted("acme-orders", (Drift(f"tags.{evil}", evil, "ok"),)),),
        (TargetError("prod", evil, "main.tf", 1, 2),),
    )
    text = render_markdown(report)
    tokens = parse(text)
    children = inline_children(tokens)
    assert not [t for t in children if t.type in ("link_open", "html_inline", "em_open")]
    assert [t.content for t in children if t.type == "code_inline"] == ["module.t"]  # the address only
    assert not [t for t in tokens if t.type == "html_block" and "img" in t.content]
    html = html_of(text)
    assert "<img" not in html and 'href="https://evil.example"' not in html
    # the evil cell is one cell: the drift table still has exactly 4 columns per row
    widths, width = [], 0
    for token in tokens:
        if token.type == "tr_open":
            width = 0
        elif token.type in ("td_open", "th_open"):
            width += 1
        elif token.type == "tr_close":
            widths.append(width)
    widths = set(widths[-2:])  # the drift table's header and its one row
    assert widths == {4}
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_many_drifted_attributes_are_collapsed_and_without_repo_url_there_are_no_links() -> None:
    drift = tuple(Drift(f"tags.K{i}", "a", "b") for i in range(COLLAPSE_AFTER + 1))
    text = render_markdown(ScanReport(datetime(2026, 1, 1, tzinfo=UTC), None, (_drifted("t", drift),)))
    html = html_of(text)
    assert f"<summary>{COLLAPSE_AFTER + 1} attributes differ</summary>" in html
    assert html.count("<td>tags.K") == COLLAPSE_AFTER + 1  # the table inside <details> is still parsed
    assert "<a " not in html and "main.tf:7" in html
