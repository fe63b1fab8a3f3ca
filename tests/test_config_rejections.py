"""A bad configuration stops ``driftwatch run`` at start: exit 1, one message naming the key
(or the file) and the reason, no traceback, no scan, and nothing of the operator's overwritten.

``Daemon.run`` and ``Daemon.scan_once`` are replaced by tripwires, so a configuration that is
wrongly accepted fails the test at once instead of starting a daemon that never returns.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwatch.cli import main
from tests.ports import free_port

SLACK_SECRET = "https://hooks.example.invalid/services/T0/B0/not-a-real-token-but-secret"


@pytest.fixture(autouse=True)
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    from driftwatch.daemon import Daemon

    started: list[str] = []

    def tripwire(self: Daemon, *args: object, **kwargs: object) -> int:
        started.append("run")
        raise AssertionError("the daemon started with a configuration that should have been rejected")

    def no_scan(self: Daemon) -> None:
        started.append("scan")
        raise AssertionError("a scan started")

    monkeypatch.setattr(Daemon, "run", tripwire)
    monkeypatch.setattr(Daemon, "scan_once", no_scan)
    yield started
    assert started == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "root"
    root.mkdir(parents=True)
    (root / "main.tf").write_text("locals {\n  a = 1\n}\n")
    return tmp_path / "repo"


def write_config(tmp_path: Path, repo: Path, extra: str = "", state: str | None = None) -> Path:
    """A valid configuration, except for ``extra``: top-level keys that replace the defaults."""
    sections = {
        "repo": f"repo: {repo}\n",
        "targets": "targets:\n  - {name: t, root: root, region: us-east-1}\n",
        "http": f"http: {{host: 127.0.0.1, port: {free_port()}}}\n",
        "state": f"state: {{path: {state if state is not None else tmp_path / 'state.db'}}}\n",
        "slack": "slack: {webhook_url_env: DRIFTWATCH_TEST_NO_SUCH_VARIABLE}\n",
    }
    for line in extra.splitlines(keepends=True):
        sections[line.split(":", 1)[0]] = line
    path = tmp_path / "driftwatch.yaml"
    path.write_text("".join(sections.values()))
    return path


def run_rejected(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["run", "--config", str(config), "--log-format", "json"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return err


# --------------------------------------------------------------------------- the config file


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ("bogus: 1\n", "bogus", "unknown key"),
        ("schedule: {interval: 5m, jiter: 1s}\n", "schedule.jiter", "unknown key"),
        ("aws: {concurency: 4}\n", "aws.concurency", "unknown key"),
        ("schedule: {interval: 5 minutes}\n", "schedule.interval", "is not a duration"),
        ("schedule: {interval: -5m}\n", "schedule.interval", "is not a duration"),
        ("slack: {remind_after: soon}\n", "slack.remind_after", "is not a duration"),
        ("aws: {concurrency: many}\n", "aws.concurrency", "valid integer"),
        ("aws: {concurrency: 0}\n", "aws.concurrency", "greater than or equal to 1"),
        ("terraform_parity: exact\n", "terraform_parity", "'default' or 'strict'"),
        ("ignore: [{table: x}]\n", "ignore.0.reason", "required key is missing"),
    ],
    ids=lambda value: str(value).split(":")[0].strip()[:30],
)
def test_invalid_keys_and_values_are_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str], extra: str, key: str, reason: str
) -> None:
    config = write_config(tmp_path, repo, extra)
    err = run_rejected(config, capsys)
    assert str(config) in err
    assert f"  {key}: " in err and reason in err, err


def test_a_wrong_type_for_the_port_is_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, repo, "http: {host: 127.0.0.1, port: x, p: 1}\n")
    err = run_rejected(config, capsys)
    assert "http.port: Input should be a valid integer" in err
    assert "http.p: unknown key" in err


def test_a_misspelt_target_key_is_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, repo, "targets: [{name: t, root: root, var_file: [x]}]\n")
    assert "targets.0.var_file: unknown key" in run_rejected(config, capsys)


def test_missing_targets_and_broken_yaml_are_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "driftwatch.yaml"
    config.write_text(f"repo: {repo}\n")
    assert "targets: required key is missing" in run_rejected(config, capsys)
    config.write_text(f"repo: {repo}\ntargets: [\n")
    assert f"{config}:3: not valid YAML" in run_rejected(config, capsys)
    config.write_text("- just\n- a list\n")
    assert "must be a YAML mapping" in run_rejected(config, capsys)
    assert "cannot read the configuration" in run_rejected(tmp_path / "absent.yaml", capsys)


def test_a_zero_interval_is_rejected(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str], no_daemon: list[str]
) -> None:
    config = write_config(tmp_path, repo, "schedule: {interval: 0s}\n")
    try:
        err = run_rejected(config, capsys)
    finally:
        no_daemon.clear()  # the tripwire fired: that is this test's failure, not teardown's
    assert "schedule.interval" in err


# --------------------------------------------------------------------------- what the daemon opens


def test_a_missing_slack_secret_file_is_named_never_its_content(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secrets" / "slack"
    config = write_config(tmp_path, repo, f"slack: {{webhook_url_file: {secret}}}\n")
    err = run_rejected(config, capsys)
    assert f"slack.webhook_url_file {secret}: cannot read it (No such file or directory)" in err
    secret.parent.mkdir()
    secret.write_text("\n")
    assert f"slack.webhook_url_file {secret} is empty" in run_rejected(config, capsys)
    secret.write_text("not a URL " + SLACK_SECRET[8:])  # a broken secret is not echoed either
    err = run_rejected(config, capsys)
    assert "is not an http(s) URL" in err and "not-a-real-token" not in err


def test_a_slack_url_that_is_not_a_url_is_named_not_echoed(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTWATCH_TEST_NO_SUCH_VARIABLE", "ftp" + SLACK_SECRET[5:])
    err = run_rejected(write_config(tmp_path, repo), capsys)
    assert "environment variable DRIFTWATCH_TEST_NO_SUCH_VARIABLE is not an http(s) URL" in err
    assert "not-a-real-token" not in err


def test_a_state_path_under_a_file_is_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("an ordinary file\n")
    err = run_rejected(write_config(tmp_path, repo, state=str(blocker / "state.db")), capsys)
    assert f"{blocker / 'state.db'} (state.path)" in err
    assert blocker.read_text() == "an ordinary file\n"


def test_a_state_path_that_is_a_directory_is_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    err = run_rejected(write_config(tmp_path, repo, state=str(folder)), capsys)
    assert f"{folder} (state.path) is a directory" in err


def test_a_state_path_that_is_not_sqlite_is_refused_not_overwritten(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite would quietly turn a short text file into a database: the operator's file is kept."""
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    err = run_rejected(write_config(tmp_path, repo, state=str(notes)), capsys)
    assert f"{notes} (state.path) is not a SQLite database" in err
    assert notes.read_text() == "x"


def test_a_state_path_that_cannot_be_written_is_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/proc is read-only even for root: the directory cannot be made."""
    err = run_rejected(write_config(tmp_path, repo, state="/proc/driftwatch/state.db"), capsys)
    assert "/proc/driftwatch/state.db (state.path): cannot create its directory" in err


def test_a_port_in_use_is_named(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_config(tmp_path, repo, f"http: {{host: 127.0.0.1, port: {port}}}\n")
        err = run_rejected(config, capsys)
    assert f"http.host/http.port 127.0.0.1:{port}: cannot listen: Address already in use" in err


def test_an_address_this_host_does_not_have_is_named(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, repo, "http: {host: 192.0.2.1, port: 9876}\n")  # TEST-NET-1
    err = run_rejected(config, capsys)
    assert "http.host/http.port 192.0.2.1:" in err and "cannot listen" in err
