"""A checkout that stops syncing (driftwatch.checkout): git-sync's error file, said in every output.

git-sync writes its last error to ``--error-file`` while its pulls fail and deletes the file
after a successful sync. Before, a daemon whose git-sync could no longer pull compared AWS with
an ageing checkout, every scan a success, and nothing said so.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import boto3
from report_outputs import metric_samples, plain_text

from driftwatch.checkout import describe, sync_error
from driftwatch.config import parse_config
from driftwatch.notify.coverage import Listing, not_watched, reconcile
from driftwatch.report.json import render_json
from driftwatch.report.markdown import render_markdown
from driftwatch.report.sarif import render_sarif
from driftwatch.scan import ScanSettings, scan
from driftwatch.terraform.target import TargetInput

# What git-sync v4 writes (pkg/logging: Msg, Err, Args), with a token in the repository URL.
_GIT_SYNC_ERROR = json.dumps(
    {
        "Msg": "error syncing repo, will retry",
        "Err": "Run(git fetch https://x-access-token:ghp_abcdefghijklmnopqrstuvwxyz0123456789"
        "@github.com/acme/infra.git): exit status 128: remote: Invalid username or token.",
        "Args": {"failCount": 3},
    }
)


def test_git_syncs_error_is_said_in_one_line_without_its_token() -> None:
    said = describe(_GIT_SYNC_ERROR.encode(), datetime(2026, 12, 7, 14, 2, 3, tzinfo=UTC))
    assert said.startswith(
        "the repository's last sync failed (at 2026-12-07 14:02:03 UTC): error syncing repo"
    )
    assert "Invalid username or token" in said
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in said
    assert describe(b"fatal: could not read from remote\nmore", None) == (
        "the repository's last sync failed: fatal: could not read from remote"
    )
    assert describe(b"", None) == "the repository's last sync failed: (empty)"


def test_no_file_configured_or_present_says_nothing(tmp_path: Path) -> None:
    assert sync_error(None) is None
    assert sync_error(tmp_path / "git-sync-error.json") is None


def test_a_present_file_is_said_whatever_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "git-sync-error.json"
    path.write_text(_GIT_SYNC_ERROR)
    said = sync_error(path)
    assert said is not None and "error syncing repo, will retry" in said
    path.write_bytes(b"\xff" * (32 * 1024))  # too large: still a failed sync
    said = sync_error(path)
    assert said is not None and "exists but cannot be read" in said
    path.unlink()
    os.mkfifo(path)  # a FIFO would block a plain open forever
    said = sync_error(path)
    assert said is not None and "FIFO" in said


def test_the_path_is_relative_to_the_config_files_directory(tmp_path: Path) -> None:
    targets = [{"name": "p", "root": "."}]
    relative = parse_config({"targets": targets, "repo_sync_error_file": "sync/error.json"})
    assert relative.sync_error_path(tmp_path) == tmp_path / "sync" / "error.json"
    absolute = parse_config({"targets": targets, "repo_sync_error_file": "/repo/git-sync-error.json"})
    assert absolute.sync_error_path(tmp_path) == Path("/repo/git-sync-error.json")
    assert parse_config({"targets": targets}).sync_error_path(tmp_path) is None


_TABLE_TF = """resource "aws_dynamodb_table" "t" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def test_a_scan_of_a_stale_checkout_says_so_in_every_output(tmp_path: Path, mocked_aws: None) -> None:
    from driftwatch.aws.clients import AwsClients

    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "main.tf").write_text(_TABLE_TF)
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    error_file = tmp_path / "git-sync-error.json"
    error_file.write_text(_GIT_SYNC_ERROR)
    target = TargetInput(name="prod", repo=tmp_path / "repo", root=tmp_path / "repo", region="us-east-1")
    report = scan([target], AwsClients(max_attempts=1), settings=ScanSettings(sync_error_file=error_file))
    assert [row.status.value for row in report.tables] == ["in_sync"] and report.exit_code == 0

    text = plain_text(report)
    assert "checkout may be stale [repository] the repository's last sync failed (at " in text
    assert text.strip().splitlines()[-1].endswith(", checkout may be stale")
    assert "ghp_" not in text
    document = json.loads(render_json(report))
    assert document["checkout_stale"].startswith("the repository's last sync failed (at ")
    assert "### The checkout may be stale" in render_markdown(report)
    notes = json.loads(render_sarif(report))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes if "checkout may be stale" in n["message"]["text"]] == ["warning"]

    samples = metric_samples(report)
    assert samples["driftwatch_checkout_stale"] == 1

    # Slack: announced after two scans (one key whatever the error says), "watched again" after
    items = not_watched(report)
    assert items["checkout"].text.startswith("repository: the checkout may be stale: ")
    first = reconcile(items, {}, Listing.of(report, {"prod"}))
    second = reconcile(items, first.state, Listing.of(report, {"prod"}))
    assert [item.key for item in second.started] == ["checkout"]

    error_file.unlink()  # git-sync's next sync succeeded
    synced = scan([target], AwsClients(max_attempts=1), settings=ScanSettings(sync_error_file=error_file))
    assert synced.checkout_stale is None and json.loads(render_json(synced))["checkout_stale"] is None
    later = reconcile(not_watched(synced), second.state, Listing.of(synced, {"prod"}))
    assert [item.key for item in later.ended] == ["checkout"]
