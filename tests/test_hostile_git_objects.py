"""Hostile git objects in an older revision (driftwatch.terraform.revision, driftwatch.gitinfo).

Pending applies evaluate an older commit from its git objects. Anyone who can push can write
tree objects git itself would refuse to check out (``git hash-object -t tree --literally``; a
server does not fsck pushes unless ``receive.fsckObjects`` is set). Such objects must never be
read as the repository's content: an entry no checkout could hold is not there, and a tree
that cannot be parsed ends the git session with its reason (pending applies off, said), never a
guess.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REQUIRES_GIT
from realestate import REGION, commit_all, git, table_tf, write_repo

from driftwatch import gitinfo
from driftwatch.baseline import declare_at_revision
from driftwatch.gitinfo import GitObjects, GitUnavailable, checkout_of, head_commit
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache

pytestmark = REQUIRES_GIT

WHEN = datetime.now(UTC) - timedelta(days=1)


def _objects(repo: Path, data: bytes, kind: str = "blob") -> str:
    """Write any bytes as an object of ``kind``, unchecked, as a hostile pusher can."""
    return (
        subprocess.run(
            ["git", "-C", str(repo), "hash-object", "-w", "-t", kind, "--literally", "--stdin"],
            input=data,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


def _tree(repo: Path, entries: list[tuple[str, bytes, str]]) -> str:
    raw = b"".join(mode.encode() + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in entries)
    return _objects(repo, raw, "tree")


def _commit(repo: Path, tree: str) -> str:
    return git(repo, "-c", "user.name=a", "-c", "user.email=a@example.com", "commit-tree", tree, "-m", "x")


def _repo(tmp_path: Path) -> Path:
    repo = write_repo(tmp_path / "infra", {"main.tf": table_tf("good")})
    git(repo, "init", "-q")
    commit_all(repo, "one", WHEN)
    return repo


def _declare_at(repo: Path, commit: str) -> tuple[list[str], str | None]:
    """What pending applies get for ``commit``: its tables, or why git could not answer."""
    target = TargetInput(name="t", repo=repo, root=repo, region=REGION, env={})
    found = declare_at_revision(checkout_of(repo), commit, "previous", target, ParseCache())
    if isinstance(found, str):
        return [], found
    return sorted(str(t.spec.name) for t in found.tables), None


@pytest.mark.parametrize("name", [b".git", b".GIT", b".git ", b"git~1", b"..", b"sub/x.tf"])
def test_a_commit_no_checkout_could_hold_is_not_evaluated(name: bytes, tmp_path: Path) -> None:
    """git refuses to check out a tree entry named ``.git`` (any case, NTFS variants), ``..``
    (``git read-tree`` 2.39: "invalid path"), and never writes a name holding ``/`` (``git
    fsck``: fullPathname): such a commit is no checkout anyone applied. The view read them: a
    table under ``.git/`` declared through ``source = "./.git"``; ``sub/x.tf`` read in the root.
    Now the git session ends with the reason (pending applies off for the target, said)."""
    repo = _repo(tmp_path)
    hidden = _tree(repo, [("100644", b"x.tf", _objects(repo, table_tf("hidden").encode()))])
    caller = _objects(repo, b'module "a" {\n  source = "./%s"\n}\n' % name)
    if b"/" in name:
        entry = ("100644", name, _objects(repo, table_tf("slashed").encode()))
    else:
        entry = ("40000", name, hidden)
    good = ("100644", b"main.tf", _objects(repo, table_tf("good").encode()))
    root = _tree(repo, sorted([entry, ("100644", b"calls.tf", caller), good], key=lambda e: e[1]))
    tables, failed = _declare_at(repo, _commit(repo, root))
    assert "hidden" not in tables and "slashed" not in tables
    assert failed is not None and "which no checkout can hold" in failed


def test_a_tree_that_cannot_be_parsed_ends_the_session_with_its_reason(tmp_path: Path) -> None:
    """A tree whose mode is not octal raised ValueError out of the evaluation; one whose last
    hash is cut short was read as a short hash, which git resolves to whatever object has that
    prefix: another file's content read as this one's. One holding ``main.tf`` twice (``git
    fsck``: duplicateEntries; ``git read-tree`` keeps one) was read as two files declaring the
    same table: "declared 2 times (main.tf:1, main.tf:1)", not evaluated."""
    repo = _repo(tmp_path)
    good = _objects(repo, table_tf("good").encode())
    other = _objects(repo, table_tf("other").encode())
    bad_mode = _tree(repo, [("100644", b"main.tf", good), ("9x9", b"b.tf", good)])
    raw = b"100644 main.tf\0" + bytes.fromhex(good) + b"100644 z.tf\0" + bytes.fromhex(other)[:3]
    short_hash = _objects(repo, raw, "tree")
    checkout = checkout_of(repo)
    twice = _tree(repo, [("100644", b"main.tf", good), ("100644", b"main.tf", other)])
    for tree in (bad_mode, short_hash, twice):
        with GitObjects(checkout) as objects:
            with pytest.raises(GitUnavailable, match=f"tree {tree} is malformed"):
                objects.tree(tree)
            assert objects.failed is not None and "malformed" in objects.failed


@pytest.mark.parametrize(
    ("head", "files"),
    [
        ("ref: ../../secret.txt", {}),  # a ref out of the git dir: any file's first 4 kB
        ("ref: refs/heads/../../../../secret.txt", {}),
        ("ref: refs/heads/main", {"refs/heads/main": "<!channel> not a commit\n"}),
        ("ref: refs/heads/packed", {"packed-refs": "TOPSECRET refs/heads/packed\n"}),
        ("deadbeef; not a commit", {}),  # a detached HEAD of garbage
    ],
)
def test_a_head_that_is_not_a_commit_is_no_commit(head: str, files: dict[str, str], tmp_path: Path) -> None:
    """``.git/HEAD``, a loose ref and packed-refs are read without git (before every scan). A
    ref naming a path out of the git dir read that file (``TOPSECRET``) as the scan's commit:
    into the JSON and SARIF reports, Markdown links and Slack; so did a ref or packed-refs line
    holding anything. git accepts only ``ref: refs/…`` and a hexadecimal object name; so does
    driftwatch now: anything else is no commit (unknown), as an unreadable HEAD is."""
    repo = _repo(tmp_path)
    (tmp_path / "secret.txt").write_text("TOPSECRET\n")
    sha = git(repo, "rev-parse", "HEAD")
    assert head_commit(repo) == sha
    (repo / ".git/refs/heads/packed").unlink(missing_ok=True)
    for name, text in files.items():
        (repo / ".git" / name).write_text(text)
    (repo / ".git/HEAD").write_text(head + "\n")
    assert head_commit(repo) is None


def test_a_packed_ref_is_still_read(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    sha = git(repo, "rev-parse", "HEAD")
    (repo / ".git/packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/packed\n^{sha}\n")
    (repo / ".git/HEAD").write_text("ref: refs/heads/packed\n")
    assert head_commit(repo) == sha


@pytest.mark.parametrize("name", ["shallow", "index", "HEAD", "packed-refs"])
def test_a_git_file_that_is_no_regular_file_is_refused_before_git_blocks_on_it(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO at ``.git/shallow`` (``index``, ``HEAD``, ``packed-refs``): every git command
    reading it blocked until its 30 s timeout, two or three of them a scan (a 5 s scan took 70
    s, every scan). Refused at once, naming the file; pending applies are off, said."""
    repo = _repo(tmp_path)
    monkeypatch.setattr(gitinfo, "GIT_TIMEOUT_SECONDS", 5.0)
    path = repo / ".git" / name
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    with pytest.raises(GitUnavailable, match=rf"\.git/{name} is not a regular file \(a FIFO\)"):
        gitinfo.first_parent_chain(checkout_of(repo), 0, 10)
    assert gitinfo.is_dirty(repo) is None


def test_a_branch_that_is_a_symbolic_ref_is_followed_as_git_follows_it(tmp_path: Path) -> None:
    """``refs/heads/main`` holding ``ref: refs/heads/trunk`` (``git symbolic-ref``): git reads
    HEAD's commit through it, up to 5 levels; driftwatch said no commit. A loop is none."""
    repo = _repo(tmp_path)
    sha = git(repo, "rev-parse", "HEAD")
    branch = git(repo, "symbolic-ref", "--short", "HEAD")
    git(repo, "update-ref", "refs/heads/trunk", sha)
    git(repo, "symbolic-ref", f"refs/heads/{branch}", "refs/heads/trunk")
    assert git(repo, "rev-parse", "HEAD") == sha and head_commit(repo) == sha
    (repo / ".git/refs/heads/trunk").write_text(f"ref: refs/heads/{branch}\n")
    assert head_commit(repo) is None


@pytest.mark.parametrize(
    "name", ["info/exclude", "info/grafts", "objects/info/alternates", "objects/info/commit-graph", "BRANCH"]
)
def test_a_fifo_git_reads_for_status_or_log_is_refused_before_git_blocks_on_it(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``git status`` opens ``info/exclude``, ``git log`` ``info/grafts``, ``alternates``, the
    commit-graph and HEAD's branch (checked with git 2.39: each a FIFO blocked the command to its timeout)."""
    repo = _repo(tmp_path)
    monkeypatch.setattr(gitinfo, "GIT_TIMEOUT_SECONDS", 3.0)
    if name == "BRANCH":
        name = f"refs/heads/{git(repo, 'symbolic-ref', '--short', 'HEAD')}"
    path = repo / ".git" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    with pytest.raises(GitUnavailable, match=rf"\.git/{name} is not a regular file \(a FIFO\)"):
        checkout_of(repo)


def test_symbolic_refs_are_followed_as_deep_as_git_follows_them(tmp_path: Path) -> None:
    """git reads at most 5 refs resolving HEAD (HEAD included): HEAD, its branch and three
    symbolic refs reach a commit; one more and git finds none, nor may driftwatch."""
    repo = _repo(tmp_path)
    sha = git(repo, "rev-parse", "HEAD")
    branch = git(repo, "symbolic-ref", "--short", "HEAD")
    for depth, expected in ((3, sha), (4, None)):
        git(repo, "update-ref", f"refs/heads/d{depth}-{depth}", sha)
        for level in range(depth - 1, 0, -1):
            git(repo, "symbolic-ref", f"refs/heads/d{depth}-{level}", f"refs/heads/d{depth}-{level + 1}")
        git(repo, "symbolic-ref", f"refs/heads/{branch}", f"refs/heads/d{depth}-1")
        command = ["git", "-C", str(repo), "rev-parse", "-q", "--verify", "HEAD"]
        resolved = subprocess.run(command, capture_output=True, text=True)
        assert (resolved.stdout.strip() or None) == expected == head_commit(repo)
