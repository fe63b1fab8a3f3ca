"""Every layout git itself writes still yields the scan's commit and the older revision.

The hostile-metadata checks (driftwatch.gitinfo ``_object_name``, ``_is_branch_ref``,
``_parse_tree``) must refuse only what git refuses: these are repositories built by real git,
SHA-1 and SHA-256, with the HEAD spellings, ref places and tree entries git produces or
accepts. A check that refused one of them would turn pending applies off (or report no commit)
for a correct repository.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REQUIRES_GIT
from realestate import REGION, commit_all, git, table_tf, write_repo

from driftwatch.baseline import declare_at_revision
from driftwatch.gitinfo import checkout_of, first_parent_chain, head_commit
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache

pytestmark = REQUIRES_GIT

WHEN = datetime.now(UTC) - timedelta(days=1)

# Names git 2.39 adds and checks out (it refuses ".git ", "git~1": test_hostile_git_objects).
ODD_NAMES = ("sub dir/ünï còde.txt", "-dash.txt", " .git", ".gitx", "git~2", "x.git", ".github/ci.yml")


def _repo(tmp_path: Path, object_format: str) -> tuple[Path, str, str]:
    """A repository on branch ``feature/x`` with two commits; the older one holds a symlink, an
    executable, a submodule (gitlink) and the odd names above beside the table."""
    files = {"envs/prød/main.tf": table_tf("good"), ".gitignore": "*.tfstate\n"}
    repo = write_repo(tmp_path / object_format, files)
    git(repo, "init", "-q", f"--object-format={object_format}", "-b", "feature/x")
    for name in ODD_NAMES:
        write_repo(repo / "envs/prød", {name: "x\n"})
    os.symlink("main.tf", repo / "envs/prød/link")
    (repo / "envs/prød/run.sh").write_text("#!/bin/sh\n")
    (repo / "envs/prød/run.sh").chmod(0o755)
    first = commit_all(repo, "one", WHEN)
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},envs/prød/mod")
    git(repo, "commit", "-q", "-m", "gitlink", at=WHEN)  # not `add -A`: it would drop the gitlink
    older = git(repo, "rev-parse", "HEAD")
    assert "160000 commit" in git(repo, "ls-tree", "-r", "HEAD")
    assert first != older
    (repo / "envs/prød/main.tf").write_text(table_tf("good") + "# later\n")
    git(repo, "commit", "-q", "-a", "-m", "two", at=WHEN)
    return repo, older, git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_every_layout_git_writes_yields_the_commit_and_the_older_revision(
    object_format: str, tmp_path: Path
) -> None:
    repo, older, head = _repo(tmp_path, object_format)
    root = repo / "envs/prød"
    checkout = checkout_of(root)
    assert [c.sha for c in first_parent_chain(checkout, 0, 2)] == [head, older]
    target = TargetInput(name="t", repo=repo, root=root, region=REGION, env={})
    found = declare_at_revision(checkout, older, "previous", target, ParseCache())
    assert not isinstance(found, str), found
    assert [str(t.spec.name) for t in found.tables] == ["good"]

    dot_git = repo / ".git"
    assert head_commit(root) == head
    ref = "refs/heads/feature/x"
    for spelling in (f"ref: {ref}\r\n", f"ref:{ref}", f"ref: {ref} \n\n"):
        (dot_git / "HEAD").write_text(spelling)
        assert head_commit(root) == head, spelling
    git(repo, "tag", "-a", "v1", "-m", "release")  # packed with its peeled ^<sha> line
    git(repo, "update-ref", "refs/remotes/origin/main", head)
    git(repo, "pack-refs", "--all")
    assert "# pack-refs with: peeled fully-peeled sorted" in (dot_git / "packed-refs").read_text()
    for ref in ("refs/heads/feature/x", "refs/remotes/origin/main"):
        (dot_git / "HEAD").write_text(f"ref: {ref}\n")
        assert head_commit(root) == head, ref
    (dot_git / "HEAD").write_text(f"{head}\r\n")  # detached
    assert head_commit(root) == head
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / f"linked-{object_format}"), older)
    assert head_commit(tmp_path / f"linked-{object_format}/envs/prød") == older
