"""Control characters from git or AWS values are shown escaped, never sent to the terminal.

A table name, tag value, file name or error message may carry ESC sequences (clear the screen,
recolour), a carriage return (overwrite the line) or a newline (forge a report line). Text
reports, ``inspect`` and ``history`` print them as visible escapes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from driftwatch.cli import main
from driftwatch.history import Episode
from driftwatch.report.console import make_console
from driftwatch.report.history import render_history
from driftwatch.report.safe import escape_controls, printable
from driftwatch.report.text import render_text
from driftwatch.spec import (
    Drift,
    ScanReport,
    SourceLocation,
    TableResult,
    TableStatus,
    TargetError,
    Unresolved,
)

ESC = "\x1b[2J\x1b[H"  # clear the screen, cursor home
FORGED = "\nIN_SYNC   acme-prod-orders  (forged)"
C1 = "\x9b31m"  # CSI as one C1 character
BIDI = "\u202e"  # right-to-left override
NASTY = f"v{ESC}{FORGED}\r{C1}{BIDI}\x00\x07"


def _clean(text: str) -> None:
    for char in ("\x1b", "\r", "\x9b", "\u202e", "\x00", "\x07"):
        assert char not in text, repr(char)
    assert not any(line.startswith("IN_SYNC") for line in text.splitlines()), "a forged report line"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x9b31m", "\\x9b31m"),
        ("\x7f\x00", "\\x7f\\x00"),
        ("x\u202ey\u2028", "x\\u202ey\\u2028"),
        ("plain ünïcode, tags.Team: ok", "plain ünïcode, tags.Team: ok"),
    ],
)
def test_printable_escapes_c0_c1_esc_cr_newlines_and_bidi_overrides(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_escape_controls_copies_only_what_changes() -> None:
    clean = TableResult(
        "prod", "module.a", SourceLocation("main.tf", 1), "t", "us-east-1", TableStatus.IN_SYNC
    )
    assert escape_controls(clean) is clean
    dirty = TableResult(
        "prod",
        "module.a",
        None,
        "t\n",
        "us-east-1",
        TableStatus.DRIFTED,
        (Drift("tags.A", "x", {"k": "\x1b"}),),
    )
    escaped = escape_controls(dirty)
    assert escaped.table_name == "t\\n" and escaped.drift[0].live == {"k": "\\x1b"}
    assert escaped.status is TableStatus.DRIFTED


def test_the_text_report_escapes_every_value_from_git_and_aws() -> None:
    row = TableResult(
        target=f"prod{ESC}",
        address=f'module.tables["{NASTY}"]',
        source=SourceLocation(f"envs/{NASTY}.tf", 3),
        table_name=f"acme{NASTY}",
        region="us-east-1",
        status=TableStatus.DRIFTED,
        drift=(Drift(f"tags.{NASTY}", NASTY, [NASTY]),),
        unresolved=(Unresolved("sse.kms_key_arn", NASTY),),
    )
    errored = TableResult(
        "prod", "module.b", None, "b", "us-east-1", TableStatus.ERROR, error=f"AWS said {NASTY}"
    )
    report = ScanReport(
        datetime.now(UTC), None, (row, errored), (TargetError("prod", NASTY, f"{NASTY}.tf", 1, 2),)
    )
    out = io.StringIO()
    render_text(report, make_console(out))
    text = out.getvalue()
    _clean(text)
    assert "\\x1b[2J" in text and "\\nIN_SYNC" in text


def test_history_escapes_values(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    episode = Episode(
        1,
        "prod",
        f"acme{NASTY}",
        f"tags.{NASTY}",
        "us-east-1",
        None,
        SourceLocation(f"{NASTY}.tf", 1),
        NASTY,
        NASTY,
        now,
        now,
        None,
        None,
        None,
        None,
        None,
    )
    out = io.StringIO()
    render_history([episode], "text", out)
    _clean(out.getvalue())
    assert "\\x1b[2J" in out.getvalue()


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.mark.usefixtures("_restore_logging")
def test_inspect_escapes_values_declared_in_git(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_dynamodb_table" "t" {\n'
        '  name         = "evil\x1b[2Jtable"\n'
        '  hash_key     = "id"\n'
        '  billing_mode = "PAY_PER_REQUEST"\n'
        '  attribute {\n    name = "id"\n    type = "S"\n  }\n'
        '  tags = { Team = "a\\nIN_SYNC   forged\\r\u009b31m\u202e" }\n'
        "}\n",
        encoding="utf-8",
    )
    assert main(["inspect", "--root", str(tmp_path), "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    _clean(out)
    assert "evil\\x1b[2Jtable" in out and "a\\nIN_SYNC   forged\\r\\x9b31m\\u202e" in out
    assert max(len(line) for line in out.splitlines()) <= 100
