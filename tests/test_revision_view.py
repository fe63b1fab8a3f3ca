"""The evaluator reading a git revision (driftwatch.terraform.revision) sees what it would see in
a checkout of that revision: the same declarations, the same errors, the same refusals.

Every case of the hostile-input corpus is committed to a real repository (symlinks included) and
evaluated twice: through the filesystem and through a RevisionView of HEAD. Then an older
revision is read while the work tree holds a newer one.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REQUIRES_GIT
from realestate import commit_all, git, table_tf, write_repo
from test_hostile_input import CORPUS, REGION, materialise

from driftwatch.gitinfo import GitObjects, GitUnavailable, checkout_of
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.revision import RevisionView

pytestmark = REQUIRES_GIT

CASES = sorted(
    p.name
    for p in CORPUS.iterdir()
    if (p / "case.json").is_file() and not json.loads((p / "case.json").read_text()).get("isolate")
)
WHEN = datetime.now(UTC) - timedelta(days=1)


def through_git(
    target: TargetInput, revision: str = "HEAD", cache: ParseCache | None = None
) -> TargetDeclarations:
    cache = cache or ParseCache()
    checkout = checkout_of(target.repo)
    with GitObjects(checkout) as objects:
        sha = git(checkout.top, "rev-parse", revision)
        view = RevisionView(checkout.top, sha, objects, cache.max_file_bytes)
        found = declare_target(target, cache, view)
        assert objects.failed is None
    return found


def comparable(result: TargetDeclarations) -> tuple[object, object]:
    return (
        [(t.address, t.source, t.spec, t.notes, t.inputs) for t in result.tables],
        sorted((e.message, e.file or "", e.line or 0) for e in result.errors),
    )


@pytest.mark.parametrize("name", CASES)
def test_a_committed_case_evaluates_the_same_from_git_as_from_disk(name: str, tmp_path: Path) -> None:
    case = materialise(name, tmp_path)
    git(case.repo, "init", "-q")
    commit_all(case.repo, "the case", WHEN)
    target = case.target()
    assert comparable(through_git(target)) == comparable(declare_target(target, ParseCache()))


def test_an_older_revision_is_read_from_git_not_from_the_work_tree(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "infra",
        {
            "main.tf": 'module "t" {\n  source = "./modules/t"\n  name = var.name\n}\n'
            'variable "name" {\n  type = string\n}\n',
            "terraform.tfvars": 'name = "orders"\n',
            "modules/t/main.tf": 'variable "name" {\n  type = string\n}\n'
            + table_tf("x", resource="this").replace('"x"', "var.name"),
        },
    )
    git(repo, "init", "-q")
    first = commit_all(repo, "one", WHEN)
    (repo / "terraform.tfvars").write_text('name = "invoices"\n')
    (repo / "modules/t/extra.tf").write_text(table_tf("audit"))
    os.symlink("t", repo / "modules/link")
    commit_all(repo, "two", WHEN + timedelta(hours=1))
    (repo / "terraform.tfvars").write_text('name = "uncommitted"\n')  # a dirty work tree
    target = TargetInput(name="t", repo=repo, root=repo, region=REGION, env={})

    def names(result: TargetDeclarations) -> list[object]:
        return sorted(str(t.spec.name) for t in result.tables)

    cache = ParseCache()
    assert names(through_git(target, first, cache)) == ["orders"]
    assert names(through_git(target, "HEAD", cache)) == ["audit", "invoices"]
    assert names(declare_target(target, cache)) == ["audit", "uncommitted"]
    # Memoised per slot and revision: asking again reads nothing (no git process is started).
    checkout = checkout_of(repo)
    head = git(repo, "rev-parse", "HEAD")
    with GitObjects(checkout) as objects:
        again = declare_target(target, cache, RevisionView(checkout.top, head, objects, cache.max_file_bytes))
        assert objects._process is None
        older = RevisionView(checkout.top, first, objects, cache.max_file_bytes, slot="head")
        assert names(declare_target(target, cache, older)) == ["orders"]
        assert objects._process is not None
    assert names(again) == ["audit", "invoices"]


def test_a_symlink_loop_in_a_revision_behaves_as_on_disk(tmp_path: Path) -> None:
    """Path.resolve raises RuntimeError on a loop, and so does the view: the walk makes it the
    same error from git as from disk."""
    repo = write_repo(tmp_path / "infra", {"main.tf": 'module "m" {\n  source = "./loop"\n}\n'})
    os.symlink("loop2", repo / "loop")
    os.symlink("loop", repo / "loop2")
    git(repo, "init", "-q")
    commit_all(repo, "loop", WHEN)
    target = TargetInput(name="t", repo=repo, root=repo, region=REGION, env={})
    on_disk = declare_target(target, ParseCache())
    from_git = through_git(target)
    assert not on_disk.tables and any("symlink loop" in e.message for e in on_disk.errors)
    assert [e.message for e in from_git.errors] == [e.message for e in on_disk.errors]


def test_objects_that_are_not_in_the_clone_fail_the_reader(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "infra", {"main.tf": table_tf("orders")})
    git(repo, "init", "-q")
    commit_all(repo, "one", WHEN)
    with GitObjects(checkout_of(repo)) as objects:
        with pytest.raises(GitUnavailable, match="not in the clone"):
            objects.root_tree("0" * 40)
        with pytest.raises(GitUnavailable):
            objects.tree("1" * 40)
    with pytest.raises(GitUnavailable, match="not in a git checkout"):
        checkout_of(tmp_path)


def test_the_previous_declaration_of_a_repository_below_a_symlinked_checkout(tmp_path: Path) -> None:
    """git-sync publishes the checkout as a symlink, and a repository may be a subdirectory of it."""
    from driftwatch.baseline import baselines
    from driftwatch.terraform.worker import InProcessEvaluator

    top = write_repo(tmp_path / "worktrees/abc", {"infra/main.tf": table_tf("orders"), "app/x.py": "x\n"})
    git(top, "init", "-q")
    old = commit_all(top, "one", WHEN)
    (top / "infra/main.tf").write_text(table_tf("orders", pitr=False))
    # Both times from WHEN (taken at import): under a slow suite the wall clock passed the
    # scan's "now" below, and the second commit was dated after it.
    scanned_at = WHEN + timedelta(days=1, minutes=5)
    new = commit_all(top, "two", scanned_at - timedelta(minutes=2))
    os.symlink(top, tmp_path / "checkout")
    repo = tmp_path / "checkout/infra"
    found = baselines(
        [TargetInput(name="t", repo=repo, root=repo, region=REGION, env={})],
        InProcessEvaluator(ParseCache()),
        scanned_at,
    )
    base = found["t"]
    assert base is not None and base.base == old and not base.head
    assert base.tables[(REGION, "orders")].spec.point_in_time_recovery is True
    assert {f: (c.commit, c.file) for f, c in base.changes.items()} == {"main.tf": (new, "main.tf")}


def test_a_file_read_by_file_comes_from_the_same_revision(tmp_path: Path) -> None:
    """file() in an older revision reads the file as committed then, from git objects, not the
    work tree; a file added later does not exist there (Terraform's error, which try() sees)."""
    main = (
        'locals {\n  names = yamldecode(file("names.yaml"))\n'
        '  extra = try(file("extra.txt"), "none")\n'
        '  through = try(fileexists("names.yaml/x"), "error")\n'
        '  gone = try(file("names.yaml/x"), "error")\n}\n'
        + table_tf("x", resource="this")
        .replace(
            'resource "aws_dynamodb_table" "this" {',
            (
                'resource "aws_dynamodb_table" "this" {\n'
                "  for_each = toset(concat(local.names, [local.extra, local.through, local.gone]))"
            ),
        )
        .replace('"x"', "each.key", 1)
    )
    repo = write_repo(tmp_path / "infra", {"main.tf": main, "names.yaml": "[orders]\n"})
    git(repo, "init", "-q")
    first = commit_all(repo, "one", WHEN)
    write_repo(repo, {"names.yaml": "[orders, users]\n", "extra.txt": "audit"})
    commit_all(repo, "two", WHEN + timedelta(hours=1))
    (repo / "names.yaml").write_text("[uncommitted]\n")
    target = TargetInput(name="t", repo=repo, root=repo, region=REGION, env={})

    def names(result: TargetDeclarations) -> list[object]:
        return sorted(str(t.spec.name) for t in result.tables)

    cache = ParseCache()
    old = through_git(target, first, cache)
    assert names(old) == ["error", "none", "orders"] and not old.errors  # as on disk: errors
    assert "names.yaml" in old.tables[0].inputs and "extra.txt" in old.tables[0].inputs
    assert names(through_git(target, "HEAD", cache)) == ["audit", "error", "orders", "users"]
    assert names(declare_target(target, cache)) == ["audit", "error", "uncommitted"]
