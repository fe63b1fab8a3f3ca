"""The scanned checkout's git side is untrusted input too: hostile and unusual checkouts.

Pending applies read HEAD's history and the objects of an older commit with the git CLI
(driftwatch.gitinfo). A checkout comes from git-sync (worktrees, ``--depth 1``, another uid) or
from anyone with push access: its ``.git/config`` must not run a command, a partial clone must
not reach the network, a hostile ``.git`` must not hang the scan, and whenever pending cannot be
determined the report says so (the drift alerts at once), never "everything applied".
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from realestate import REGION, commit_all, git, provision, row, run_scan, target, write_repo
from rich.console import Console

from driftwatch import baseline, gitinfo
from driftwatch.report.json import report_to_dict
from driftwatch.report.markdown import render_markdown
from driftwatch.report.text import render_text
from driftwatch.spec import ScanReport, TableStatus

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pending applies read history with git")

TABLE = "acme-prod-orders"
LONG_AGO = datetime.now(UTC) - timedelta(days=3)
MAIN_TF = f"""resource "aws_dynamodb_table" "orders" {{
  name           = "{TABLE}"
  billing_mode   = "PROVISIONED"
  read_capacity  = var.read_capacity
  write_capacity = 5
  hash_key       = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
}}
variable "read_capacity" {{
  type = number
}}
"""


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline, "_WARNED", set())


def tfvars(repo: Path, capacity: int) -> None:
    (repo / "prod.tfvars").write_text(f"read_capacity = {capacity}\n")


def prod(repo: Path, **fields: Any) -> Any:
    return target(repo, var_files=("prod.tfvars",), **fields)


@pytest.fixture
def repo(embedded_aws: None, tmp_path: Path) -> Path:
    """A checkout whose first commit is days old (its table created as declared), and a merged
    capacity change (5 -> 10) the pipeline has not applied: pending, when git can tell."""
    root = write_repo(tmp_path / "infra", {"main.tf": MAIN_TF})
    tfvars(root, 5)
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    provision([prod(root)])
    created: datetime = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=TABLE)["Table"][
        "CreationDateTime"
    ]
    tfvars(root, 10)
    commit_all(root, "more read capacity", created.astimezone(UTC) + timedelta(seconds=1))
    assert row(run_scan([prod(root)]), TABLE).status is TableStatus.PENDING  # the healthy case
    return root


def said_off(report: ScanReport, reason: str | Callable[[str], bool]) -> None:
    """The report says, in every format, that target prod has no pending applies and why."""
    assert [p.target for p in report.pending_unavailable] == ["prod"]
    found = report.pending_unavailable[0].reason
    assert reason(found) if callable(reason) else reason in found, found
    assert report_to_dict(report)["pending_unavailable"] == [{"target": "prod", "reason": found}]
    text = StringIO()
    render_text(report, Console(file=text, width=400))
    assert f"pending applies off [prod], drift alerts at once: {found}" in text.getvalue()
    assert "Pending applies off" in render_markdown(report)


def disabled_warnings(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "pending_applies_disabled"]


# --------------------------------------------------------------------------- no network, no commands


def test_a_partial_clone_never_fetches_a_missing_object_and_says_pending_is_off(
    repo: Path, tmp_path: Path
) -> None:
    """``clone --filter=blob:none``: the previous revision's prod.tfvars is not in the clone. git
    fetched it from the promisor remote (in production a network request, possibly a hang),
    running the ``remote.origin.uploadpack`` the repository's config names. Now nothing runs,
    and that revision is not evaluated without the file: pending is off, said in the report."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    git(origin, "config", "uploadpack.allowFilter", "true")
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{origin}", "partial")
    partial = tmp_path / "partial"
    marker = tmp_path / "fetched"
    git(partial, "config", "remote.origin.uploadpack", f'touch "{marker}"; git-upload-pack')

    with structlog.testing.capture_logs() as logs:
        report = run_scan([prod(partial)])
    assert not marker.exists(), "git fetched a missing object from the promisor remote"
    assert row(report, TABLE).status is TableStatus.DRIFTED  # not pending, not "applied"
    said_off(report, "promisor remote")
    assert len(disabled_warnings(logs)) == 1

    # The origin gone (unreachable): the same, without a hang.
    shutil.rmtree(origin)
    report = run_scan([prod(partial)])
    assert row(report, TABLE).status is TableStatus.DRIFTED
    said_off(report, "promisor remote")


HOSTILE_CONFIG = {
    "core.fsmonitor": "{run} fsmonitor",
    "core.hooksPath": "{hooks}",
    "diff.external": "{run} diff-external",
    "diff.evil.textconv": "{run} textconv",
    "diff.evil.command": "{run} diff-command",
    "core.pager": "{run} pager",
    "pager.log": "{run} pager-log",
    "core.sshCommand": "{run} ssh",
    "core.gitProxy": "{run} git-proxy",
    "core.askPass": "{run} askpass",
    "credential.helper": "!{run} credential",
    "filter.evil.process": "{run} filter-process",
    "filter.evil.clean": "{run} filter-clean",
    "filter.evil.smudge": "{run} filter-smudge",
    "filter.evil.required": "true",
    "uploadpack.packObjectsHook": "{run} pack-objects-hook",
    "remote.origin.uploadpack": "{run} upload-pack",
    "log.showSignature": "true",
    "gpg.program": "{run} gpg",
    "core.editor": "{run} editor",
}


def test_the_scanned_repositorys_git_config_runs_nothing(repo: Path, tmp_path: Path) -> None:
    """Each key of .git/config that names a program, with a `.gitattributes` that selects the
    filter and diff driver and hooks for every event: a scan (head, dirty state, history,
    previous revision) runs none of them. Before, ``git status`` ran ``filter.evil.process``."""
    marks = tmp_path / "marks"
    marks.mkdir()
    run = tmp_path / "mark.sh"
    run.write_text(f'#!/bin/sh\ntouch "{marks}/$1"\nexit 1\n')
    run.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for event in ("post-index-change", "reference-transaction", "post-checkout", "pre-auto-gc"):
        (hooks / event).write_text(f'#!/bin/sh\ntouch "{marks}/hook-{event}"\n')
        (hooks / event).chmod(0o755)
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    merged = datetime.fromtimestamp(int(git(repo, "log", "-1", "--format=%ct")), UTC)
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes", at=merged)  # committed before the filter exists
    git(repo, "remote", "add", "origin", f"file://{tmp_path}/nowhere.git")
    for key, value in HOSTILE_CONFIG.items():
        git(repo, "config", key, value.format(run=run, hooks=hooks))
    # An mtime git's index does not know: `git status` reads (and would filter) the file again.
    os.utime(repo / "prod.tfvars", (0, 0))

    assert gitinfo.head_commit(repo) is not None
    assert gitinfo.is_dirty(repo) is False  # read again, unfiltered: unchanged (was None: filter failed)
    report = run_scan([prod(repo)])
    assert sorted(p.name for p in marks.iterdir()) == []
    # The previous revision was read and evaluated through the same config: still pending.
    assert row(report, TABLE).status is TableStatus.PENDING and report.pending_unavailable == ()


def test_git_variables_in_driftwatchs_environment_do_not_redirect_git(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI job or hook that runs driftwatch with GIT_DIR / GIT_CONFIG_PARAMETERS set: git read
    another repository (or ran a command) instead of the one scanned."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    marker = tmp_path / "ran"
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='touch {marker}; false'")
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.PENDING and report.pending_unavailable == ()
    assert not marker.exists()
