"""`driftwatch scan`'s progress bar: on a terminal only, never in a pipe or with --no-progress.

The piped case runs the real CLI as a subprocess with stdout and stderr piped (what CI and
`driftwatch scan | jq` do), against moto's server; the terminal cases run ``main()`` in-process
with stderr replaced by a stream that says it is a TTY.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from driftwatch.cli import main
from tests.ports import moto_server_url

REPO = Path(__file__).resolve().parents[1]
SCAN_PROD = ["scan", "--root", "examples/envs/prod", "--var-file", "prod.tfvars", "--region", "us-east-1"]
PROGRESS_TEXT = "reading tables"
ANSI_ESCAPE = "\x1b["


class FakeTerminal(io.StringIO):
    """A stderr that claims to be a terminal, and keeps what was written to it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() points logging at the current stderr; give later tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    structlog_config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**structlog_config)


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> FakeTerminal:
    """Make stderr a fake terminal, from inside the test body: pytest's capture (capsys)
    re-installs its own stderr when the test call starts, after fixtures ran."""
    fake = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", fake)
    return fake


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch, embedded_aws: None) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    with moto_server_url() as url:
        yield url


def test_piped_scan_writes_no_progress(moto_endpoint: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DRIFTWATCH_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto_endpoint,
        TERM="xterm-256color",
    )
    result = subprocess.run(
        [sys.executable, "-m", "driftwatch", *SCAN_PROD],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Nothing is created in moto: every table is missing, which is drift (exit 2), and the
    # report itself is on stdout.
    assert result.returncode == 2, result.stderr
    assert "acme-prod-orders" in result.stdout
    assert PROGRESS_TEXT not in result.stderr
    assert ANSI_ESCAPE not in result.stderr
    assert ANSI_ESCAPE not in result.stdout


def test_terminal_scan_shows_progress(
    terminal_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = on_terminal(monkeypatch)
    assert main(SCAN_PROD) == 2
    assert PROGRESS_TEXT in terminal.getvalue()
    assert "acme-prod-orders" in capsys.readouterr().out  # the report is not on stderr


def test_no_progress_flag_silences_the_terminal(
    terminal_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = on_terminal(monkeypatch)
    assert main([*SCAN_PROD, "--no-progress"]) == 2
    assert PROGRESS_TEXT not in terminal.getvalue()
    assert ANSI_ESCAPE not in terminal.getvalue()
    assert "acme-prod-orders" in capsys.readouterr().out
