"""The scanned checkout: its commit, and which files recent commits changed.

The commit goes into every report so that a finding can be traced to the exact revision of
the configuration it was computed from; it is read from ``.git`` directly (no git binary
needed). git-sync checkouts use worktrees, where ``.git`` is a file pointing at the real git
directory; both layouts are handled.

Which files recent commits changed (for *pending* drift: merged, not yet applied) needs the
history, which the ``git`` CLI reads; without git there is simply no pending logic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from driftwatch.errors import DriftwatchError


def _git_dir(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            content = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if content.startswith("gitdir:"):
                target = Path(content.split(":", 1)[1].strip())
                return target if target.is_absolute() else (candidate / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    common = git_dir / "commondir"
    if common.is_file():
        return (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
    return git_dir


def head_commit(path: Path) -> str | None:
    """The commit HEAD points at, or None when ``path`` is not in a git checkout."""
    try:
        git_dir = _git_dir(path.resolve())
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.split(":", 1)[1].strip()
        for base in (git_dir, _common_dir(git_dir)):
            ref_file = base / ref
            if ref_file.is_file():
                return ref_file.read_text(encoding="utf-8").strip() or None
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
        return None
    except OSError:
        return None


# --- recent changes (pending applies) ---------------------------------------------------------

GIT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class FileChange:
    """The most recent commit on the checked-out branch that changed a file."""

    commit: str
    at: datetime


class GitUnavailable(DriftwatchError):
    """The history of the checkout cannot be read; the message says why."""


def _top_level(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def recent_changes(repo: Path, since: datetime) -> dict[str, FileChange]:
    """Files (relative to ``repo``) changed by commits of the checked-out branch since ``since``.

    Returns path -> the newest such commit. The git CLI reads the history (``git log`` of the
    first-parent chain, each merge compared with its first parent, so a merged pull request
    counts at its merge time). Raises ``GitUnavailable`` when ``repo`` is not in a git checkout,
    git is not installed, or git fails.

    A shallow clone's oldest commit looks as if it added every file: with ``--depth 1`` every
    file counts as changed by the latest commit. That errs on the quiet side (drift is pending
    for one grace period after each new commit), never on the alarming one.
    """
    top = _top_level(repo.resolve())
    if top is None:
        raise GitUnavailable(f"{repo} is not in a git checkout")
    git = shutil.which("git")
    if git is None:
        raise GitUnavailable("the git command is not installed")
    command = [
        git,
        # The checkout is the one the operator configured: trust it even when another user
        # (git-sync) owns it, and never let its config run anything.
        "-c",
        f"safe.directory={top}",
        "-c",
        "core.fsmonitor=false",
        "-C",
        str(repo),
        "log",
        f"--since=@{int(since.timestamp())}",
        "--first-parent",
        "-m",
        "--name-only",
        "--no-renames",
        "--relative",
        "--no-show-signature",
        "-z",
        "--format=%x00%x01%H %ct",
    ]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(  # fixed arguments, no shell
            command, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(f"git log failed: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitUnavailable(f"git log failed: {message[-1] if message else done.returncode}")
    return _parse_log(done.stdout.decode("utf-8", "surrogateescape"))


def _parse_log(output: str) -> dict[str, FileChange]:
    """``\\0\\1<hash> <unix time>\\0`` headers, each followed by ``\\0``-separated file names."""
    changes: dict[str, FileChange] = {}
    current: FileChange | None = None
    for token in output.split("\0"):
        token = token.lstrip("\n")
        if not token:
            continue
        if token.startswith("\1"):
            commit, _, stamp = token[1:].partition(" ")
            current = FileChange(commit, datetime.fromtimestamp(int(stamp), UTC))
        elif current is not None:
            # Newest first: the first commit seen for a file is its latest change.
            changes.setdefault(token, current)
    return changes
