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
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from conftest import REQUIRES_GIT
from realestate import REGION, commit_all, git, provision, row, run_scan, target, write_repo
from rich.console import Console

from driftwatch import baseline, gitinfo
from driftwatch.history import History
from driftwatch.report.json import report_to_dict
from driftwatch.report.markdown import render_markdown
from driftwatch.report.text import render_text
from driftwatch.spec import ScanReport, TableStatus

# Without a git binary there is nothing to test here: these tests build repositories with git, and
# driftwatch says pending applies are off without it (test_without_git_the_report_says_why_pending_is_off
# hides git from driftwatch alone, so that it runs wherever the repositories can be built).
pytestmark = REQUIRES_GIT

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


# --------------------------------------------------------------------------- pending not determinable


def test_a_shallow_clone_says_in_the_report_that_pending_is_off(repo: Path, tmp_path: Path) -> None:
    """git-sync's ``--depth 1``: the previous commit is not in the clone. Before, only the log
    and ``validate`` said so; the report showed the drift with no word on why it was not
    pending."""
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", "shallow")
    report = run_scan([prod(tmp_path / "shallow")])
    assert row(report, TABLE).status is TableStatus.DRIFTED
    said_off(report, "shallow clone")


def test_without_git_the_report_says_why_pending_is_off(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitinfo.shutil, "which", lambda name: None)
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.DRIFTED and report.errors == ()
    said_off(report, "the git command is not installed")
    # A target with pending applies turned off has nothing to explain.
    assert run_scan([prod(repo, pending_grace=timedelta(0))]).pending_unavailable == ()


def test_head_on_an_unborn_branch_says_pending_is_off_and_the_scan_goes_on(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "fresh")  # the files stay, the branch has no commit
    assert gitinfo.head_commit(repo) is None
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.DRIFTED
    said_off(report, "HEAD is a branch without commits (an unborn branch)")


def test_a_detached_head_has_pending_applies(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD")
    assert gitinfo.head_commit(repo) == git(repo, "rev-parse", "HEAD")
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.PENDING


def with_git_env(monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> None:
    """git run by driftwatch sees ``changes`` in its environment (None: removed)."""
    original = gitinfo._git_env

    def patched(*args: Any) -> dict[str, str]:
        env = original(*args)
        for name, value in changes.items():
            if value is None:
                env = {k: v for k, v in env.items() if not (k.startswith("GIT_CONFIG_") or k == name)}
            else:
                env[name] = value
        return env

    monkeypatch.setattr(gitinfo, "_git_env", patched)


def test_a_checkout_owned_by_another_uid_keeps_pending_applies(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git-sync often runs as another uid; git then refuses the repository ("detected dubious
    ownership") unless safe.directory names it. driftwatch names the checkout it was configured
    with (its config cannot run anything, see above): plain and worktree layouts work."""
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "linked"), "HEAD")
    with_git_env(monkeypatch, GIT_TEST_ASSUME_DIFFERENT_OWNER="1")
    for checkout in (repo, tmp_path / "linked"):
        report = run_scan([prod(checkout)])
        assert row(report, TABLE).status is TableStatus.PENDING and report.pending_unavailable == ()


def test_git_refusing_a_checkout_it_does_not_trust_is_said_with_the_fix(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should git still refuse (an older git, a path git sees otherwise): pending is off, logged
    once and in the report with what to do; the scan goes on. Before, the reason was git's
    last line, ``git config --global --add safe.directory …``, and in the log only."""
    with_git_env(monkeypatch, GIT_TEST_ASSUME_DIFFERENT_OWNER="1", GIT_CONFIG_COUNT=None)
    with structlog.testing.capture_logs() as logs:
        report = run_scan([prod(repo)])
        run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.DRIFTED and report.errors == ()
    said_off(report, lambda reason: "owned by another user" in reason and "safe.directory" in reason)
    assert "fsGroup" in report.pending_unavailable[0].reason
    assert len(disabled_warnings(logs)) == 1


# --------------------------------------------------------------------------- hostile and damaged .git


def finishes(call: Callable[[], Any], within: float = 120.0) -> Any:
    """``call()``'s result; fails (instead of hanging the suite) when it blocks."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(within)
    assert not worker.is_alive(), "blocked"
    return result[0]


@pytest.mark.parametrize(
    "layout", ["missing", "proc", "fifo-head", "zero-head", "fifo-gitdir", "huge-file", "loop-gitdir"]
)
def test_a_hostile_dot_git_never_hangs_the_scan(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """``.git`` is a file whose ``gitdir:`` names a path that does not exist, a /proc path, a
    FIFO, or a git directory whose HEAD is a FIFO or /dev/zero (reading HEAD blocked for ever /
    ran out of memory), or the file is enormous, or ``gitdir:`` is a symlink loop (resolving it
    raised RuntimeError out of head_commit: a CLI traceback, a daemon scan failed as a whole).
    Commit unknown, pending off with a reason, every table still checked."""
    # Every git call here blocks or fails (a timeout is the same outcome as an error: pending
    # off), so a short bound only shortens the test.
    monkeypatch.setattr(gitinfo, "GIT_TIMEOUT_SECONDS", 2.0)
    checkout = tmp_path / "checkout"
    shutil.copytree(repo, checkout, ignore=shutil.ignore_patterns(".git"))
    gitdir = tmp_path / "gitdir"
    shutil.copytree(repo / ".git", gitdir)
    pointer = {
        "missing": str(tmp_path / "nowhere"),
        "proc": "/proc/self/fd/0",
        "fifo-gitdir": str(tmp_path / "fifo"),
        "fifo-head": str(gitdir),
        "zero-head": str(gitdir),
        "loop-gitdir": "loop",  # relative: resolved against the checkout
    }.get(layout)
    if layout == "loop-gitdir":
        (checkout / "loop").symlink_to("loop")
    if layout in ("fifo-head", "fifo-gitdir"):
        where = gitdir / "HEAD" if layout == "fifo-head" else tmp_path / "fifo"
        where.unlink(missing_ok=True)
        os.mkfifo(where)
    if layout == "zero-head":
        (gitdir / "HEAD").unlink()
        (gitdir / "HEAD").symlink_to("/dev/zero")
    if layout == "huge-file":
        (checkout / ".git").write_bytes(b"gitdir: " + b"x" * 50_000_000)
    else:
        (checkout / ".git").write_text(f"gitdir: {pointer}\n")

    assert finishes(lambda: gitinfo.head_commit(checkout)) is None
    assert finishes(lambda: gitinfo.is_dirty(checkout)) is None
    report = finishes(lambda: run_scan([prod(checkout)]))
    assert row(report, TABLE).status is TableStatus.DRIFTED and report.errors == ()
    assert [p.target for p in report.pending_unavailable] == ["prod"]
    assert stat.S_ISREG((checkout / ".git").stat().st_mode)


def test_a_corrupt_object_of_the_previous_revision_is_the_reason_pending_is_off(repo: Path) -> None:
    """A damaged object of the previous revision's var file: that revision is not evaluated
    without it (its defaults would have stood for the file's values)."""
    blob = git(repo, "rev-parse", "HEAD~1:prod.tfvars")
    loose = repo / ".git/objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not zlib at all")
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.DRIFTED
    said_off(report, f"{blob} is not in the clone (a partial clone, or a damaged repository)")


# --------------------------------------------------------------------------- sizes


def test_a_long_history_costs_a_bounded_walk(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 commits merged inside the grace (a history of any length costs the same): the
    walk reads pages of CHAIN_PAGE commits up to MAX_CHAIN and stops; pending is off with the
    reason. When HEAD is older than the grace one page is read."""
    now = int(datetime.now(UTC).timestamp()) - 60
    stream = "".join(
        f"commit refs/heads/main\ncommitter t <t@example.com> {now} +0000\ndata 0\n"
        + ("from refs/heads/main^0\n" if i == 0 else "")
        + "\n"
        for i in range(20_000)
    )
    done = subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"], input=stream.encode(), check=False
    )
    assert done.returncode == 0
    git(repo, "reset", "-q", "--hard", "main")
    pages: list[int] = []
    original = gitinfo.first_parent_chain

    def counted(checkout: gitinfo.Checkout, skip: int, count: int) -> list[gitinfo.ChainCommit]:
        found = original(checkout, skip, count)
        pages.append(len(found))
        return found

    monkeypatch.setattr(gitinfo, "first_parent_chain", counted)
    report = run_scan([prod(repo)])
    assert row(report, TABLE).status is TableStatus.DRIFTED
    said_off(report, f"more than {baseline.MAX_CHAIN} commits inside the pending grace")
    assert sum(pages) == baseline.MAX_CHAIN and len(pages) == baseline.MAX_CHAIN // baseline.CHAIN_PAGE

    pages.clear()
    run_scan([prod(repo)], clock=lambda: datetime.now(UTC) + timedelta(days=1))
    assert pages == [baseline.CHAIN_PAGE]


def test_a_file_name_like_git_logs_commit_header_is_a_file_name(repo: Path) -> None:
    """Anyone who can push names files: ``\\x01<sha> <time>`` is how driftwatch marks a commit
    in ``git log -z``'s output. A file so named in the commit that changed prod.tfvars ended
    the scan with a ValueError (a CLI traceback; the daemon's scan failed for every target),
    and one naming the base commit moved prod.tfvars's change onto the base: pending lost.
    Headers are told from names by their place in git's output, never by what they hold."""
    base = git(repo, "rev-parse", "HEAD~1")
    when = datetime.fromtimestamp(int(git(repo, "log", "-1", "--format=%ct")), UTC)
    (repo / "\x01zz not-a-time").write_text("x\n")
    (repo / f"\x01{base} 0").write_text("x\n")  # sorts before prod.tfvars in the same commit
    (repo / "\nlead.txt").write_text("x\n")  # git's own newline after a header is one byte
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--amend", "--no-edit", at=when)
    changes = gitinfo.changes_since(gitinfo.checkout_of(repo), base)
    head = git(repo, "rev-parse", "HEAD")
    assert {name: sha for name, (sha, _) in changes.items()} == {
        "prod.tfvars": head,
        "\x01zz not-a-time": head,
        f"\x01{base} 0": head,
        "\nlead.txt": head,
    }
    assert row(run_scan([prod(repo)]), TABLE).status is TableStatus.PENDING


def test_a_commit_dated_past_the_year_9999_is_a_commit_from_the_future(repo: Path) -> None:
    """A committer date git accepts and Python's datetime cannot hold (year 3,170,843, from a
    commit anyone can push) raised ValueError out of the history walk: a CLI traceback, the
    daemon's scan failed for every target. It is now what a commit dated 2099 is
    (tests/test_pending.py::test_a_future_dated_commit_never_extends_the_grace): no grace in a
    one-shot scan, one grace from its first sighting in the daemon."""
    stream = "commit refs/heads/main\ncommitter t <t@example.com> 99999999999999 +0000\ndata 0\n"
    stream += "from refs/heads/main^0\n\n"
    done = subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"], input=stream.encode(), check=False
    )
    assert done.returncode == 0
    git(repo, "reset", "-q", "--hard", "main")
    assert git(repo, "log", "-1", "--format=%ct") == "99999999999999"
    chain = gitinfo.first_parent_chain(gitinfo.checkout_of(repo), 0, 10)
    assert chain[0].committed_at > datetime.now(UTC) + timedelta(days=365_000) and len(chain) == 3
    with structlog.testing.capture_logs() as logs:
        one_shot = run_scan([prod(repo)])
    assert row(one_shot, TABLE).status is TableStatus.DRIFTED and one_shot.pending_unavailable == ()
    assert [e["commit"] for e in logs if e["event"] == "commit_dated_in_future"] == [chain[0].sha]
    daemon = run_scan([prod(repo)], seen_commits=History.open(":memory:"))
    assert row(daemon, TABLE).status is TableStatus.PENDING


def test_a_huge_object_ends_the_session_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An object over MAX_OBJECT_BYTES (a caller asking for a blob it did not size first, or a
    tree of millions of entries) is not read into memory: the session ends with the reason."""
    top = write_repo(tmp_path / "top", {"big.tf": "#" * 5_000 + "\n"})
    git(top, "init", "-q")
    commit_all(top, "big", LONG_AGO)
    monkeypatch.setattr(gitinfo, "MAX_OBJECT_BYTES", 1_000)
    with gitinfo.GitObjects(gitinfo.checkout_of(top)) as objects:
        entries = objects.tree(objects.root_tree("HEAD"))
        with pytest.raises(gitinfo.GitUnavailable, match="5,001 bytes, over 1,000"):
            objects.blob(entries[0][2])
        assert objects.failed is not None and "over 1,000" in objects.failed


def test_rewritten_history_is_judged_by_the_chain_head_has_now(repo: Path) -> None:
    """A force-push: the merged commit is replaced, the commits the daemon saw are no longer
    ancestors of HEAD. Pending reads HEAD's chain only: a replacement commit (whatever its date)
    arrived now and gets one grace; a history rewritten down to its root is as on a first scan
    (committer dates: old, so its drift alerts). Stale sightings never make anything pending."""
    history = History.open(":memory:")
    assert row(run_scan([prod(repo)], seen_commits=history), TABLE).status is TableStatus.PENDING
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    tfvars(repo, 20)
    replaced = commit_all(repo, "rewritten: even more capacity", LONG_AGO + timedelta(hours=1))
    found = row(run_scan([prod(repo)], seen_commits=history), TABLE)
    assert found.status is TableStatus.PENDING and {p.commit for p in found.pending} == {replaced}
    assert [(p.declared, p.live) for p in found.pending] == [(20, 5)]

    git(repo, "checkout", "-q", "--orphan", "rewritten")
    commit_all(repo, "squashed history", LONG_AGO)
    report = run_scan([prod(repo)], seen_commits=history)
    assert row(report, TABLE).status is TableStatus.DRIFTED and report.pending_unavailable == ()
