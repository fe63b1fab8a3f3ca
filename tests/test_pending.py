"""Pending applies: drift of a table whose declaring files changed in a commit younger than
``pending_grace`` is ``pending``, not ``drifted`` -- a merge the apply pipeline has not applied
yet pages nobody -- and it is drift once the grace is over.

The commits are real (a git repository in tmp_path, with chosen commit dates); the tables are
in the embedded AWS. A change older than the live table's creation is never pending: the
apply that created the table came after it.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from realestate import REGION, commit_all, git, provision, row, run_scan, table_tf, target, write_repo
from rich.console import Console

from driftwatch import gitinfo
from driftwatch.cli import main
from driftwatch.config import parse_config
from driftwatch.history import History
from driftwatch.report.json import report_to_dict
from driftwatch.report.text import render_text
from driftwatch.spec import TableStatus
from driftwatch.targets import targets_from_config

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pending applies read history with git")

TABLE = "acme-prod-orders"
GRACE = timedelta(minutes=30)
LONG_AGO = datetime.now(UTC) - timedelta(days=3)


def created_at(name: str = TABLE) -> datetime:
    created: datetime = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=name)["Table"][
        "CreationDateTime"
    ]
    return created.astimezone(UTC)


def just_after(moment: datetime) -> datetime:
    """The first whole second after ``moment`` (commit times have whole seconds)."""
    return datetime.fromtimestamp(math.floor(moment.timestamp()) + 1, UTC)


def pitr_off(name: str = TABLE) -> None:
    boto3.client("dynamodb", region_name=REGION).update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )


@pytest.fixture
def repo(embedded_aws: None, tmp_path: Path) -> Path:
    """A git checkout whose only commit is days old; its table created as declared."""
    root = write_repo(
        tmp_path / "infra",
        {
            "envs/prod/main.tf": 'module "orders" {\n  source = "../../modules/table"\n  name = var.name\n}\n'
            'variable "name" {\n  type = string\n}\n',
            "envs/prod/prod.tfvars": f'name = "{TABLE}"\n',
            "modules/table/main.tf": 'variable "name" {\n  type = string\n}\n'
            + table_tf("x", resource="this").replace('"x"', "var.name"),
            "README.md": "not read by any table\n",
        },
    )
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    provision([prod(root)])
    return root


def touch(repo: Path) -> None:
    """A change to a file the table's evaluation reads (a comment in the var file)."""
    tfvars = repo / "envs/prod/prod.tfvars"
    tfvars.write_text(tfvars.read_text() + "# touched\n")


def prod(repo: Path, **fields: Any) -> Any:
    return target(repo, root="envs/prod", var_files=("prod.tfvars",), **fields)


# --------------------------------------------------------------------------- pending, then drift


def test_a_recent_change_to_the_declaration_is_pending_until_the_grace_is_over(repo: Path) -> None:
    pitr_off()
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.DRIFTED  # the commit is old

    module = repo / "modules/table/main.tf"
    module.write_text(module.read_text().replace('"Team" = "obs"', '"Team" = "storage"'))
    when = just_after(created_at())
    sha = commit_all(repo, "hand the table to storage", when)

    report = run_scan([prod(repo)])
    found = row(report, TABLE)
    assert found.status is TableStatus.PENDING and found.drift == () and not found.alerts
    assert {(p.attribute, p.declared, p.live) for p in found.pending} == {
        ("point_in_time_recovery", True, False),
        ("tags.Team", "storage", "obs"),
    }
    assert {(p.file, p.commit, p.changed_at, p.until) for p in found.pending} == {
        ("modules/table/main.tf", sha, when, when + GRACE)
    }
    assert report.exit_code == 0
    document = report_to_dict(report)
    assert document["summary"]["pending"] == 1
    assert document["tables"][0]["pending"][0] == {
        "attribute": "point_in_time_recovery",
        "declared": True,
        "live": False,
        "file": "modules/table/main.tf",
        "commit": sha,
        "changed_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "until": (when + GRACE).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    text = StringIO()
    render_text(report, Console(file=text, width=200))
    assert f"pending apply: modules/table/main.tf changed in {sha[:12]} at " in text.getvalue()
    summary = "1 table watched: 0 in sync, 0 drifted, 0 missing, 0 errors, 1 pending, 0 not evaluated"
    assert summary in text.getvalue()

    later = run_scan([prod(repo)], clock=lambda: when + GRACE + timedelta(seconds=1))
    assert row(later, TABLE).status is TableStatus.DRIFTED and later.exit_code == 2
    shorter = run_scan(
        [prod(repo, pending_grace=timedelta(minutes=1))], clock=lambda: when + timedelta(minutes=2)
    )
    assert row(shorter, TABLE).status is TableStatus.DRIFTED
    assert row(run_scan([prod(repo, pending_grace=timedelta(0))]), TABLE).status is TableStatus.DRIFTED


def test_a_var_file_counts_and_an_unrelated_file_does_not(repo: Path) -> None:
    pitr_off()
    when = just_after(created_at())
    (repo / "README.md").write_text("changed\n")
    commit_all(repo, "docs", when)
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.DRIFTED

    (repo / "envs/prod/prod.tfvars").write_text(f'name = "{TABLE}" # same table\n')
    commit_all(repo, "touch the var file", when + timedelta(seconds=1))
    found = row(run_scan([prod(repo)]), TABLE)
    assert found.status is TableStatus.PENDING
    assert {p.file for p in found.pending} == {"envs/prod/prod.tfvars"}


def test_a_newly_declared_table_not_yet_created_is_pending(repo: Path) -> None:
    main_tf = repo / "envs/prod/main.tf"
    main_tf.write_text(main_tf.read_text() + table_tf("acme-prod-invoices"))
    when = datetime.now(UTC) - timedelta(minutes=5)
    commit_all(repo, "a table for invoices", when)

    report = run_scan([prod(repo)])
    found = row(report, "acme-prod-invoices")
    assert found.status is TableStatus.PENDING
    assert [(p.attribute, p.declared, p.live, p.file) for p in found.pending] == [
        ("table", "acme-prod-invoices", None, "envs/prod/main.tf")
    ]
    assert report.exit_code == 0
    assert row(report, TABLE).status is TableStatus.IN_SYNC
    late = run_scan([prod(repo)], clock=lambda: when + GRACE)
    assert row(late, "acme-prod-invoices").status is TableStatus.MISSING


def test_a_change_older_than_the_live_table_is_not_pending(embedded_aws: None, tmp_path: Path) -> None:
    """The table was created after the commit, so the commit has been applied: drift is drift."""
    root = write_repo(tmp_path / "infra", {"main.tf": table_tf(TABLE)})
    git(root, "init", "-q")
    commit_all(root, "new table", datetime.now(UTC) - timedelta(minutes=5))
    provision([target(root)])
    pitr_off()
    assert row(run_scan([target(root)]), TABLE).status is TableStatus.DRIFTED


def test_a_merged_pull_request_counts_at_its_merge_time(repo: Path) -> None:
    """The branch's commit is old; the merge into the checked-out branch is what is new."""
    pitr_off()
    git(repo, "checkout", "-q", "-b", "feature")
    module = repo / "modules/table/main.tf"
    module.write_text(module.read_text().replace('"Team" = "obs"', '"Team" = "storage"'))
    commit_all(repo, "written days ago", LONG_AGO + timedelta(hours=1))
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("meanwhile on main\n")
    commit_all(repo, "meanwhile", LONG_AGO + timedelta(hours=2))
    merged_at = just_after(created_at())
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature", at=merged_at)

    found = row(run_scan([prod(repo)]), TABLE)
    assert found.status is TableStatus.PENDING
    assert {(p.file, p.changed_at) for p in found.pending} == {("modules/table/main.tf", merged_at)}


def test_history_neither_alerts_nor_resolves_pending_drift(repo: Path) -> None:
    pitr_off()
    history = History.open(":memory:")
    assert [t.attribute for t in history.record_scan(run_scan([prod(repo)]))] == ["point_in_time_recovery"]

    (repo / "envs/prod/prod.tfvars").write_text(f'name = "{TABLE}"\n# pitr back on, next apply\n')
    commit_all(repo, "pending", just_after(created_at()))
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.PENDING
    assert history.record_scan(report).items == ()  # no news: still open, not fixed, not re-alerted
    assert [e.attribute for e in history.episodes(open_only=True)] == ["point_in_time_recovery"]


# --------------------------------------------------------------------------- where git comes from


def test_without_git_there_is_no_pending_logic(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pitr_off()
    touch(repo)
    commit_all(repo, "recent", just_after(created_at()))
    monkeypatch.setattr(gitinfo.shutil, "which", lambda name: None)
    monkeypatch.setattr("driftwatch.scan._GIT_WARNED", set())
    with structlog.testing.capture_logs() as logs:
        found = row(run_scan([prod(repo)]), TABLE)
        run_scan([prod(repo)])
    assert found.status is TableStatus.DRIFTED
    warnings = [e for e in logs if e["event"] == "pending_applies_disabled"]
    assert len(warnings) == 1 and warnings[0]["reason"] == "the git command is not installed"


def test_recent_changes_are_relative_to_a_repo_inside_the_checkout(tmp_path: Path) -> None:
    top = write_repo(
        tmp_path / "top", {"infra/main.tf": "a\n", "infra/prod.tfvars": "b\n", "app/x.py": "c\n"}
    )
    git(top, "init", "-q")
    first = commit_all(top, "one", datetime.now(UTC) - timedelta(hours=5))
    (top / "infra/main.tf").write_text("a2\n")
    (top / "app/x.py").write_text("c2\n")
    second = commit_all(top, "two", datetime.now(UTC) - timedelta(minutes=1))

    changes = gitinfo.recent_changes(top / "infra", datetime.now(UTC) - timedelta(hours=1))
    assert {f: c.commit for f, c in changes.items()} == {"main.tf": second}
    older = gitinfo.recent_changes(top / "infra", datetime.now(UTC) - timedelta(days=1))
    assert {f: c.commit for f, c in older.items()} == {"main.tf": second, "prod.tfvars": first}
    with pytest.raises(gitinfo.GitUnavailable, match="not in a git checkout"):
        gitinfo.recent_changes(tmp_path, datetime.now(UTC))


def test_a_shallow_clone_errs_on_the_quiet_side(tmp_path: Path) -> None:
    """With --depth 1 every file looks changed by the latest commit: pending, never alarming."""
    source = write_repo(tmp_path / "source", {"main.tf": "a\n", "prod.tfvars": "b\n"})
    git(source, "init", "-q")
    commit_all(source, "old", datetime.now(UTC) - timedelta(days=9))
    (source / "main.tf").write_text("a2\n")
    head = commit_all(source, "new", datetime.now(UTC) - timedelta(minutes=2))
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{source}", "shallow")

    changes = gitinfo.recent_changes(tmp_path / "shallow", datetime.now(UTC) - timedelta(hours=1))
    assert {f: c.commit for f, c in changes.items()} == {"main.tf": head, "prod.tfvars": head}


def test_config_and_flag_set_the_grace(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = parse_config(
        {
            "repo": str(repo),
            "pending_grace": "2h",
            "targets": [
                {"name": "prod", "root": "envs/prod", "var_files": ["prod.tfvars"]},
                {"name": "fast", "root": "envs/prod", "var_files": ["prod.tfvars"], "pending_grace": "5m"},
            ],
        }
    )
    assert config.pending_grace == timedelta(hours=2)
    graces = {t.name: t.pending_grace for t in targets_from_config(config, tmp_path)}
    assert graces == {"prod": timedelta(hours=2), "fast": timedelta(minutes=5)}
    overridden = {t.pending_grace for t in targets_from_config(config, tmp_path, pending_grace=timedelta(0))}
    assert overridden == {timedelta(0)}
    assert parse_config({"targets": [{"name": "p", "root": "."}]}).pending_grace == GRACE

    pitr_off()
    touch(repo)
    commit_all(repo, "recent", just_after(created_at()))
    argv = ["scan", "--root", str(repo / "envs/prod"), "--var-file", "prod.tfvars", "--region", REGION]
    assert main([*argv, "--format", "json"]) == 0  # pending: nobody is paged
    assert main([*argv, "--format", "json", "--pending-grace", "0"]) == 2
    with pytest.raises(SystemExit):
        main([*argv, "--pending-grace", "soon"])
    assert "--pending-grace: 'soon' is not a duration" in capsys.readouterr().err
