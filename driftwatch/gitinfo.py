"""The commit of the scanned checkout, read from ``.git`` directly (no git binary needed).

The commit goes into every report so that a finding can be traced to the exact revision of
the configuration it was computed from. git-sync checkouts use worktrees, where ``.git`` is a
file pointing at the real git directory; both layouts are handled.
"""

from __future__ import annotations

from pathlib import Path


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
