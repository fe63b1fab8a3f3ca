"""Operator mistakes in the AWS setup: one clear line, no traceback, no echoed secret, and no
crash loop (the daemon keeps running, says it every scan, and heals when the file is fixed)."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from driftwatch.aws.clients import AwsClients, AwsConfigError
from driftwatch.cli import main
from driftwatch.config import parse_config
from driftwatch.daemon import Daemon
from driftwatch.spec import TableStatus

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REGION = "us-east-1"
SECRET = "s3cretPassw0rdInUrl"
PLANTED = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET"  # a secret in the file that does not parse


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_data(tmp_path: Path) -> dict[str, Any]:
    return {
        "repo": str(EXAMPLES),
        "targets": [
            {"name": env, "root": f"envs/{env}", "var_files": [f"{env}.tfvars"], "region": REGION}
            for env in ("prod", "staging")
        ],
        "pending_grace": "0s",
        "http": {"host": "127.0.0.1", "port": closed_port()},  # never started here
        "state": {"path": str(tmp_path / "state.db")},
        "slack": {"webhook_url_env": "DRIFTWATCH_TEST_UNSET_WEBHOOK"},
        "aws": {"max_attempts": 1, "scan_timeout": "20s"},
    }


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "driftwatch.yaml"
    path.write_text(json.dumps(config_data(tmp_path)))  # JSON is YAML
    return path


def broken_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(f"[default\naws_secret_access_key = {PLANTED}\n  = [[ garbage\n")
    return path


MISTAKES = {
    "malformed endpoint URL": (
        "AWS_ENDPOINT_URL",
        lambda tmp: f"admin:{SECRET}@localhost",
        "the AWS endpoint URL (AWS_ENDPOINT_URL) is not a valid URL",
    ),
    "missing profile": ("AWS_PROFILE", lambda tmp: "no-such-profile", "the profile 'no-such-profile'"),
    "broken config file": ("AWS_CONFIG_FILE", lambda tmp: str(broken_file(tmp, "config")), "cannot parse"),
    "broken credentials file": (
        "AWS_SHARED_CREDENTIALS_FILE",
        lambda tmp: str(broken_file(tmp, "credentials")),
        "cannot parse",
    ),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_scan_says_what_is_wrong_in_one_line_and_exits_1(
    aws_env: None,
    mistake: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    variable, value, expected = MISTAKES[mistake]
    monkeypatch.setenv(variable, value(tmp_path))
    code = main(["scan", "--config", str(write_config(tmp_path)), "--format", "json"])
    captured = capsys.readouterr()

    assert code == 1
    assert captured.out == ""  # no report: nothing was read
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("driftwatch: AWS configuration is unusable: ")
    assert expected in lines[0]
    assert "Traceback" not in captured.err and PLANTED not in captured.err and SECRET not in captured.err


def test_the_daemon_keeps_running_reports_it_every_scan_and_heals(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad profile at start: the daemon starts (no crash loop), logs one line, and each
    scan makes every table an error saying so; once the profile is fixed, the next scan
    reads the tables."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with caplog.at_level(logging.ERROR):
        daemon = Daemon(parse_config(config_data(tmp_path)), tmp_path)
    try:
        assert "aws_configuration_invalid" in caplog.text
        report = daemon.scan_once()
        assert report is not None and report.exit_code == 1
        assert {row.status for row in report.tables} == {TableStatus.ERROR}
        assert all("AWS configuration is unusable" in (row.error or "") for row in report.tables)

        monkeypatch.delenv("AWS_PROFILE")
        healed = daemon.scan_once()
        assert healed is not None
        assert not any("AWS configuration" in (row.error or "") for row in healed.tables)
        assert {row.status for row in healed.tables} == {TableStatus.MISSING}  # moto is empty
    finally:
        daemon.history.close()


def test_a_malformed_endpoint_url_is_each_tables_error_without_its_password(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"https://admin:{SECRET}@local host")
    with pytest.raises(AwsConfigError) as caught:
        AwsClients().dynamodb(REGION)
    assert SECRET not in str(caught.value) and "is not a valid URL" in str(caught.value)


def test_check_configuration_accepts_a_sound_setup(aws_env: None) -> None:
    AwsClients().check_configuration()  # nothing raised: fake keys, no files


def test_a_config_error_is_a_live_read_error_of_each_table(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    clients = AwsClients()
    with pytest.raises(AwsConfigError, match="does not exist"):
        clients.dynamodb(REGION)


def test_credentials_in_the_endpoint_url_are_masked_in_reports_and_logs(
    aws_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """botocore quotes the endpoint URL in its connection errors: the report and the log lines
    show ``http://***@127.0.0.1:...``, never the password."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://admin:{SECRET}@127.0.0.1:{closed_port()}")
    output = tmp_path / "report.json"
    code = main(
        ["scan", "--config", str(write_config(tmp_path)), "--format", "json", "--output", str(output)]
    )
    captured = capsys.readouterr()

    assert code == 1
    report = output.read_text()
    errors = [table["error"] for table in json.loads(report)["tables"]]
    assert errors and all(error and "***@127.0.0.1" in error for error in errors), errors
    assert SECRET not in report and "admin:" not in report
    assert SECRET not in captured.err and SECRET not in captured.out
