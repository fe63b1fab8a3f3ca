"""Pending applies end to end: real git repositories (made here, commits with chosen dates) and
tables in the embedded AWS.

A drift item is pending only when the live value is what the declaration said at the last
commit older than the grace and the current declaration changed it (driftwatch.settle has the
exhaustive tests of that rule; these check that the scan reads the right previous declaration
from git and the right times).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from conftest import REQUIRES_GIT
from realestate import REGION, commit_all, git, provision, row, run_scan, table_tf, target, write_repo
from rich.console import Console

from driftwatch import baseline, gitinfo
from driftwatch.cli import main
from driftwatch.config import parse_config
from driftwatch.history import History
from driftwatch.report.json import report_to_dict
from driftwatch.report.text import render_text
from driftwatch.spec import TableStatus
from driftwatch.targets import targets_from_config

pytestmark = REQUIRES_GIT

TABLE = "acme-prod-orders"
GRACE = timedelta(minutes=30)
LONG_AGO = datetime.now(UTC) - timedelta(days=3)

MODULE = """variable "name" {
  type = string
}
variable "read_capacity" {
  type    = number
  default = 5
}
resource "aws_dynamodb_table" "this" {
  name           = var.name
  billing_mode   = "PROVISIONED"
  read_capacity  = var.read_capacity
  write_capacity = 5
  hash_key       = "id"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = {
    "Team" = "obs"
  }
}
"""
ROOT = """module "orders" {
  source        = "../../modules/table"
  name          = var.name
  read_capacity = var.read_capacity
}
variable "name" {
  type = string
}
variable "read_capacity" {
  type = number
}
"""


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


def tfvars(repo: Path, capacity: int = 5, extra: str = "") -> None:
    (repo / "envs/prod/prod.tfvars").write_text(f'name = "{TABLE}"\nread_capacity = {capacity}\n{extra}')


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline, "_WARNED", set())


@pytest.fixture
def repo(embedded_aws: None, tmp_path: Path) -> Path:
    """A git checkout whose only commit is days old; its table created as declared."""
    root = write_repo(
        tmp_path / "infra",
        {"envs/prod/main.tf": ROOT, "modules/table/main.tf": MODULE, "README.md": "not read by any table\n"},
    )
    tfvars(root)
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    provision([prod(root)])
    return root


def prod(repo: Path, **fields: Any) -> Any:
    return target(repo, root="envs/prod", var_files=("prod.tfvars",), **fields)


def merge_capacity(repo: Path, capacity: int = 10) -> tuple[str, datetime]:
    """A merged capacity change that the pipeline has not applied."""
    tfvars(repo, capacity)
    when = just_after(created_at())
    return commit_all(repo, "more read capacity", when), when


# --------------------------------------------------------------------------- the semantics


def test_a_comment_only_commit_does_not_hide_drift(repo: Path) -> None:
    pitr_off()
    tfvars(repo, extra="# a comment\n")
    commit_all(repo, "comment", just_after(created_at()))
    report = run_scan([prod(repo)])
    found = row(report, TABLE)
    assert found.status is TableStatus.DRIFTED and found.pending == () and found.alerts
    assert [d.attribute for d in found.drift] == ["point_in_time_recovery"]
    assert report.exit_code == 2


def test_a_merged_capacity_change_not_yet_applied_is_pending_then_drift(repo: Path) -> None:
    sha, when = merge_capacity(repo)
    report = run_scan([prod(repo)], clock=lambda: when + timedelta(minutes=1))  # the commit is in the past
    found = row(report, TABLE)
    assert found.status is TableStatus.PENDING and found.drift == () and not found.alerts
    assert [(p.attribute, p.declared, p.live) for p in found.pending] == [("read_capacity", 10, 5)]
    assert {(p.file, p.commit, p.changed_at, p.until) for p in found.pending} == {
        ("envs/prod/prod.tfvars", sha, when, when + GRACE)
    }
    assert report.exit_code == 0
    document = report_to_dict(report)
    assert document["summary"]["pending"] == 1
    assert document["tables"][0]["pending"][0]["until"] == (when + GRACE).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = StringIO()
    render_text(report, Console(file=text, width=200))
    assert f"pending apply: envs/prod/prod.tfvars changed in {sha[:12]} at " in text.getvalue()
    summary = "1 table watched: 0 in sync, 0 drifted, 0 missing, 0 errors, 1 pending, 0 not evaluated"
    assert summary in text.getvalue()

    later = run_scan([prod(repo)], clock=lambda: when + GRACE + timedelta(seconds=1))
    assert row(later, TABLE).status is TableStatus.DRIFTED and later.exit_code == 2
    assert row(later, TABLE).drift[0].attribute == "read_capacity"
    off = run_scan([prod(repo, pending_grace=timedelta(0))])
    assert row(off, TABLE).status is TableStatus.DRIFTED

    # Applied: in sync, nothing pending.
    boto3.client("dynamodb", region_name=REGION).update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}
    )
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.IN_SYNC


def test_a_merged_change_to_one_attribute_while_another_drifts(repo: Path) -> None:
    merge_capacity(repo)
    pitr_off()
    report = run_scan([prod(repo)])
    found = row(report, TABLE)
    assert found.status is TableStatus.DRIFTED and report.exit_code == 2
    assert [p.attribute for p in found.pending] == ["read_capacity"]
    assert [d.attribute for d in found.drift] == ["point_in_time_recovery"]


def test_a_live_value_matching_neither_declaration_is_drift(repo: Path) -> None:
    merge_capacity(repo)
    boto3.client("dynamodb", region_name=REGION).update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 5}
    )
    found = row(run_scan([prod(repo)]), TABLE)
    assert found.status is TableStatus.DRIFTED and found.pending == ()


def test_a_table_added_recently_and_not_created_yet_is_pending_then_missing(repo: Path) -> None:
    main_tf = repo / "envs/prod/main.tf"
    main_tf.write_text(main_tf.read_text() + table_tf("acme-prod-invoices"))
    when = datetime.now(UTC) - timedelta(minutes=5)
    commit_all(repo, "a table for invoices", when)

    report = run_scan([prod(repo)])
    found = row(report, "acme-prod-invoices")
    assert found.status is TableStatus.PENDING and report.exit_code == 0
    assert [(p.attribute, p.declared, p.live, p.file) for p in found.pending] == [
        ("table", "acme-prod-invoices", None, "envs/prod/main.tf")
    ]
    assert row(report, TABLE).status is TableStatus.IN_SYNC
    late = run_scan([prod(repo)], clock=lambda: when + GRACE)
    assert row(late, "acme-prod-invoices").status is TableStatus.MISSING


def test_a_table_deleted_out_of_band_after_an_unrelated_commit_is_missing(repo: Path) -> None:
    tfvars(repo, extra="# unrelated\n")
    commit_all(repo, "unrelated", datetime.now(UTC) - timedelta(minutes=1))
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=TABLE)
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.MISSING and report.exit_code == 2


def test_a_change_older_than_the_live_table_is_not_pending(embedded_aws: None, tmp_path: Path) -> None:
    """The table was created after the commit, so the commit has been applied: drift is drift."""
    root = write_repo(tmp_path / "infra", {"main.tf": table_tf(TABLE, tags={"Team": "obs"})})
    git(root, "init", "-q")
    commit_all(root, "old", LONG_AGO)
    (root / "main.tf").write_text(table_tf(TABLE, tags={"Team": "storage"}))
    commit_all(root, "retag", datetime.now(UTC) - timedelta(minutes=5))
    provision([target(root)])
    boto3.client("dynamodb", region_name=REGION).tag_resource(
        ResourceArn=f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}",
        Tags=[{"Key": "Team", "Value": "obs"}],
    )
    assert row(run_scan([target(root)]), TABLE).status is TableStatus.DRIFTED


def test_a_merged_pull_request_counts_at_its_merge_time(repo: Path) -> None:
    """The branch's commit is old; the merge into the checked-out branch is what is new."""
    git(repo, "checkout", "-q", "-b", "feature")
    tfvars(repo, 10)
    commit_all(repo, "written days ago", LONG_AGO + timedelta(hours=1))
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("meanwhile on main\n")
    commit_all(repo, "meanwhile", LONG_AGO + timedelta(hours=2))
    merged_at = just_after(created_at())
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature", at=merged_at)

    found = row(run_scan([prod(repo)], clock=lambda: merged_at + timedelta(minutes=1)), TABLE)
    assert found.status is TableStatus.PENDING
    assert {(p.file, p.changed_at) for p in found.pending} == {("envs/prod/prod.tfvars", merged_at)}


# --------------------------------------------------------------------------- time


def test_a_future_dated_commit_never_extends_the_grace(repo: Path) -> None:
    tfvars(repo, 10)
    future = datetime(2099, 1, 1, tzinfo=UTC)
    sha = commit_all(repo, "from the future", future)
    with structlog.testing.capture_logs() as logs:
        one_shot = run_scan([prod(repo)])
        run_scan([prod(repo)])
    # One-shot: no memory of when it arrived, so it gives no grace at all.
    assert row(one_shot, TABLE).status is TableStatus.DRIFTED and one_shot.exit_code == 2
    warnings = [e for e in logs if e["event"] == "commit_dated_in_future"]
    assert len(warnings) == 1 and warnings[0]["commit"] == sha

    # Daemon: one grace from its first sighting, never until 2099.
    history = History.open(":memory:")
    now = datetime.now(UTC)
    first = run_scan([prod(repo)], seen_commits=history, clock=lambda: now)
    assert row(first, TABLE).status is TableStatus.PENDING
    assert row(first, TABLE).pending[0].until == now + GRACE
    later = run_scan([prod(repo)], seen_commits=history, clock=lambda: now + GRACE)
    assert row(later, TABLE).status is TableStatus.DRIFTED


def test_a_commit_first_seen_while_the_clock_ran_ahead_gets_one_grace_from_the_corrected_clock(
    repo: Path,
) -> None:
    """The daemon saw a merge while the node's clock ran a day ahead, then the clock was set
    right. The recorded sighting stayed in the future, so the merge's unapplied change stayed
    pending (no alert) for a day and a grace instead of a grace. A sighting more than the clock
    skew ahead of now is dated again by the corrected clock: one grace from then, never more."""
    history = History.open(":memory:")
    start = datetime.now(UTC)
    first = row(run_scan([prod(repo)], seen_commits=history, clock=lambda: start), TABLE)
    assert first.status is TableStatus.IN_SYNC
    tfvars(repo, 10)
    sha = commit_all(repo, "merged while the clock ran ahead", just_after(created_at()))
    ahead = start + timedelta(days=1)
    seen = row(run_scan([prod(repo)], seen_commits=history, clock=lambda: ahead), TABLE)
    assert seen.status is TableStatus.PENDING
    corrected = start + timedelta(minutes=5)  # the clock set right
    found = row(run_scan([prod(repo)], seen_commits=history, clock=lambda: corrected), TABLE)
    assert found.status is TableStatus.PENDING and found.pending[0].until == corrected + GRACE
    assert history.commits_first_seen([sha]) == {sha: corrected}
    later = row(run_scan([prod(repo)], seen_commits=history, clock=lambda: corrected + GRACE), TABLE)
    assert later.status is TableStatus.DRIFTED
    history.close()


def test_the_daemon_runs_the_grace_from_when_it_first_saw_a_commit(repo: Path) -> None:
    """A fast-forwarded pull request keeps its old committer date: the daemon still gives it a grace."""
    history = History.open(":memory:")
    start = datetime.now(UTC)
    assert row(run_scan([prod(repo)], seen_commits=history), TABLE).status is TableStatus.IN_SYNC
    tfvars(repo, 10)
    sha = commit_all(
        repo, "written yesterday, fast-forwarded now", just_after(created_at()) - timedelta(days=1)
    )
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.DRIFTED  # one-shot: its date is old
    seen_at = start + timedelta(minutes=1)
    found = row(run_scan([prod(repo)], seen_commits=history, clock=lambda: seen_at), TABLE)
    assert found.status is TableStatus.PENDING and found.pending[0].changed_at == seen_at
    assert history.commits_first_seen([sha]) == {sha: seen_at}
    history.close()


# --------------------------------------------------------------------------- where git comes from


def test_a_shallow_clone_without_the_previous_revision_has_no_pending_applies(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merge_capacity(repo)
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", "shallow")
    with structlog.testing.capture_logs() as logs:
        found = row(run_scan([prod(tmp_path / "shallow")]), TABLE)
        run_scan([prod(tmp_path / "shallow")])
    assert found.status is TableStatus.DRIFTED
    warnings = [e for e in logs if e["event"] == "pending_applies_disabled"]
    assert len(warnings) == 1 and "shallow clone" in warnings[0]["reason"]

    config = tmp_path / "driftwatch.yaml"
    config.write_text(
        f"repo: {tmp_path / 'shallow'}\ntargets:\n  - name: prod\n    root: envs/prod\n"
        f"    var_files: [prod.tfvars]\n    region: {REGION}\n"
    )
    assert main(["validate", "--config", str(config)]) == 0
    assert "pending applies [prod]: off, drift alerts at once: shallow clone" in capsys.readouterr().out

    # Deep enough to hold the last commit older than the grace: pending works.
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", "deeper")
    assert row(run_scan([prod(tmp_path / "deeper")]), TABLE).status is TableStatus.PENDING


def test_without_git_there_is_no_pending_logic(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merge_capacity(repo)
    monkeypatch.setattr(gitinfo.shutil, "which", lambda name: None)
    with structlog.testing.capture_logs() as logs:
        found = row(run_scan([prod(repo)]), TABLE)
        run_scan([prod(repo)])
    assert found.status is TableStatus.DRIFTED
    warnings = [e for e in logs if e["event"] == "pending_applies_disabled"]
    assert len(warnings) == 1 and warnings[0]["reason"] == "the git command is not installed"


def test_a_dirty_tree_is_reported_and_an_uncommitted_edit_is_never_pending(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merge_capacity(repo)
    tfvars(repo, 20)  # not committed
    argv = ["scan", "--root", str(repo / "envs/prod"), "--var-file", "prod.tfvars", "--region", REGION]
    assert main([*argv, "--format", "json"]) == 2
    out = capsys.readouterr().out
    assert '"dirty": true' in out and '"status": "drifted"' in out
    assert main(argv) == 2
    head = git(repo, "rev-parse", "HEAD")
    assert f"at {head[:12]} (modified)" in capsys.readouterr().out

    # Only an unrelated file is modified: the committed change is still pending.
    tfvars(repo, 10)
    (repo / "README.md").write_text("edited\n")
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.PENDING
    assert gitinfo.is_dirty(repo) is True
    git(repo, "checkout", "--", "README.md")
    assert gitinfo.is_dirty(repo) is False


def test_history_neither_alerts_nor_resolves_pending_drift(repo: Path) -> None:
    boto3.client("dynamodb", region_name=REGION).update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}
    )
    history = History.open(":memory:")
    assert [t.attribute for t in history.record_scan(run_scan([prod(repo)]))] == ["read_capacity"]

    merge_capacity(repo, 20)  # merged: the pipeline will set 20; live (10) is neither: drift still
    assert history.record_scan(run_scan([prod(repo)])).items[0].kind == "changed"
    boto3.client("dynamodb", region_name=REGION).update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    )
    report = run_scan([prod(repo)])  # live is back at the applied value; 20 is pending
    assert row(report, TABLE).status is TableStatus.PENDING
    assert history.record_scan(report).items == ()  # no news: still open, not fixed, not re-alerted
    assert [e.attribute for e in history.episodes(open_only=True)] == ["read_capacity"]


def test_changes_since_are_relative_to_a_repo_inside_the_checkout(tmp_path: Path) -> None:
    top = write_repo(
        tmp_path / "top", {"infra/main.tf": "a\n", "infra/prod.tfvars": "b\n", "app/x.py": "c\n"}
    )
    git(top, "init", "-q")
    first = commit_all(top, "one", datetime.now(UTC) - timedelta(hours=5))
    (top / "infra/main.tf").write_text("a2\n")
    (top / "app/x.py").write_text("c2\n")
    second = commit_all(top, "two", datetime.now(UTC) - timedelta(minutes=1))

    checkout = gitinfo.checkout_of(top / "infra")
    assert checkout.prefix == "infra"
    assert {f: c for f, (c, _) in gitinfo.changes_since(checkout, first).items()} == {"main.tf": second}
    everything = gitinfo.changes_since(checkout, None)
    assert {f: c for f, (c, _) in everything.items()} == {"main.tf": second, "prod.tfvars": first}


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

    merge_capacity(repo)
    argv = ["scan", "--root", str(repo / "envs/prod"), "--var-file", "prod.tfvars", "--region", REGION]
    assert main([*argv, "--format", "json"]) == 0  # pending: nobody is paged
    assert '"dirty": false' in capsys.readouterr().out
    assert main([*argv, "--format", "json", "--pending-grace", "0"]) == 2
    with pytest.raises(SystemExit):
        main([*argv, "--pending-grace", "soon"])
    assert "--pending-grace: 'soon' is not a duration" in capsys.readouterr().err


def test_git_failing_while_reading_an_older_revision_means_no_pending(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cat-file session past its deadline is killed: drift is drift, said once, and nothing
    half-read is memoised."""
    merge_capacity(repo)
    monkeypatch.setattr(gitinfo, "OBJECTS_TIMEOUT_SECONDS", 0.0)
    with structlog.testing.capture_logs() as logs:
        assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.DRIFTED
    warnings = [e for e in logs if e["event"] == "pending_applies_disabled"]
    assert len(warnings) == 1 and "git cat-file" in warnings[0]["reason"]
    monkeypatch.setattr(gitinfo, "OBJECTS_TIMEOUT_SECONDS", 120.0)
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.PENDING


def test_each_target_of_a_dirty_checkout_is_judged_against_its_own_committed_declaration(
    embedded_aws: None, tmp_path: Path
) -> None:
    files = {"modules/table/main.tf": MODULE}
    for env in ("prod", "staging"):
        files[f"envs/{env}/main.tf"] = ROOT
        files[f"envs/{env}/{env}.tfvars"] = f'name = "acme-{env}-orders"\nread_capacity = 5\n'
    root = write_repo(tmp_path / "infra", files)
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    targets = [
        target(root, name=env, root=f"envs/{env}", var_files=(f"{env}.tfvars",))
        for env in ("prod", "staging")
    ]
    provision(targets)
    for env in ("prod", "staging"):
        (root / f"envs/{env}/{env}.tfvars").write_text(f'name = "acme-{env}-orders"\nread_capacity = 10\n')
    when = just_after(max(created_at("acme-prod-orders"), created_at("acme-staging-orders")))
    commit_all(root, "more capacity everywhere", when)
    (root / "README.md").write_text("uncommitted\n")
    report = run_scan(targets, clock=lambda: when + timedelta(minutes=1))
    assert report.dirty is False  # run_scan does not ask; the CLI and the daemon do
    for env in ("prod", "staging"):
        found = row(report, f"acme-{env}-orders")
        assert found.status is TableStatus.PENDING, env


def test_a_missing_table_named_by_an_untracked_var_file_is_never_pending(
    embedded_aws: None, tmp_path: Path
) -> None:
    """git does not have the var file, so the previous revision cannot say it did not declare
    the table: missing, not pending."""
    root = write_repo(
        tmp_path / "infra",
        {
            "main.tf": table_tf("x", resource="this").replace('"x"', "var.name")
            + 'variable "name" {\n  type = string\n}\n',
            ".gitignore": "*.auto.tfvars\n",
        },
    )
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    (root / "local.auto.tfvars").write_text(f'name = "{TABLE}"\n')
    (root / "main.tf").write_text((root / "main.tf").read_text() + "# touched\n")
    commit_all(root, "recent", datetime.now(UTC) - timedelta(minutes=2))
    found = row(run_scan([target(root)]), TABLE)
    assert found.status is TableStatus.MISSING


def test_an_unusable_state_database_costs_the_first_sightings_not_the_scan(repo: Path) -> None:
    class Broken:
        def commits_first_seen(self, commits: Any) -> dict[str, datetime]:
            raise RuntimeError("database is locked")

        def remember_commits(self, first_seen: Any) -> None:
            raise RuntimeError("database is locked")

    _, when = merge_capacity(repo)
    with structlog.testing.capture_logs() as logs:
        report = run_scan([prod(repo)], seen_commits=Broken(), clock=lambda: when + timedelta(minutes=1))
    assert row(report, TABLE).status is TableStatus.PENDING  # timed as a one-shot scan would
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["commit_sightings_unavailable"]


YAML_ROOT = """locals {
  tables = yamldecode(file("${path.module}/tables.yaml"))
}
module "orders" {
  for_each      = local.tables
  source        = "../../modules/table"
  name          = each.key
  read_capacity = each.value.read
}
"""


def test_a_commit_changing_only_the_yaml_the_tables_are_read_from_is_pending(
    embedded_aws: None, tmp_path: Path
) -> None:
    """Tables declared from ``yamldecode(file(...))`` are scanned against AWS, and the YAML file
    is an input of theirs: a merged commit that changes only it is a pending apply, as a .tf
    change would be, and the previous value is read from the YAML at the older commit."""
    root = write_repo(
        tmp_path / "infra",
        {
            "envs/prod/main.tf": YAML_ROOT,
            "envs/prod/tables.yaml": f"{TABLE}:\n  read: 5\n",
            "modules/table/main.tf": MODULE,
        },
    )
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    prod_yaml = target(root, root="envs/prod")
    provision([prod_yaml])
    assert row(run_scan([prod_yaml]), TABLE).status is TableStatus.IN_SYNC

    (root / "envs/prod/tables.yaml").write_text(f"{TABLE}:\n  read: 10\n")
    when = just_after(created_at())
    sha = commit_all(root, "more read capacity, in the YAML", when)
    found = row(run_scan([prod_yaml], clock=lambda: when + timedelta(minutes=1)), TABLE)
    assert found.status is TableStatus.PENDING and found.drift == ()
    assert [(p.attribute, p.declared, p.live) for p in found.pending] == [("read_capacity", 10, 5)]
    assert {(p.file, p.commit) for p in found.pending} == {("envs/prod/tables.yaml", sha)}
    later = row(run_scan([prod_yaml], clock=lambda: when + GRACE + timedelta(seconds=1)), TABLE)
    assert later.status is TableStatus.DRIFTED


FILESET_ROOT = """module "tables" {
  for_each      = fileset("${path.module}/tables", "*.yaml")
  source        = "../../modules/table"
  name          = yamldecode(file("${path.module}/tables/${each.value}")).name
  read_capacity = 5
}
"""


def test_a_commit_adding_a_file_to_a_fileset_directory_makes_its_new_table_pending(
    embedded_aws: None, tmp_path: Path
) -> None:
    """``for_each = fileset("${path.module}/tables", "*.yaml")``: a merged commit that adds a YAML
    file declares a table not created yet; it is pending (the file is its input, and the older
    revision's listing, read from git, did not have it), then missing after the grace."""
    root = write_repo(
        tmp_path / "infra",
        {
            "envs/prod/main.tf": FILESET_ROOT,
            "envs/prod/tables/orders.yaml": f"name: {TABLE}\n",
            "modules/table/main.tf": MODULE,
        },
    )
    git(root, "init", "-q")
    commit_all(root, "initial", LONG_AGO)
    prod_tables = target(root, root="envs/prod")
    provision([prod_tables])
    assert row(run_scan([prod_tables]), TABLE).status is TableStatus.IN_SYNC

    (root / "envs/prod/tables/invoices.yaml").write_text("name: acme-prod-invoices\n")
    when = datetime.now(UTC) - timedelta(minutes=5)
    sha = commit_all(root, "a table for invoices", when)
    report = run_scan([prod_tables])
    found = row(report, "acme-prod-invoices")
    assert found.status is TableStatus.PENDING and report.exit_code == 0
    assert [(p.attribute, p.declared, p.live, p.file, p.commit) for p in found.pending] == [
        ("table", "acme-prod-invoices", None, "envs/prod/tables/invoices.yaml", sha)
    ]
    assert row(report, TABLE).status is TableStatus.IN_SYNC
    late = run_scan([prod_tables], clock=lambda: when + GRACE)
    assert row(late, "acme-prod-invoices").status is TableStatus.MISSING
