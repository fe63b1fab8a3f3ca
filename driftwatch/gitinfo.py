"""The scanned checkout: its commit, whether the work tree is modified, its history and objects.

The commit goes into every report so that a finding can be traced to the exact revision of
the configuration it was computed from; it is read from ``.git`` directly (no git binary
needed). git-sync checkouts use worktrees, where ``.git`` is a file pointing at the real git
directory; both layouts are handled.

Pending applies (merged, not yet applied; driftwatch.baseline) need the history -- HEAD's
first-parent chain, which files changed after a commit -- and the objects of an older commit,
which the ``git`` CLI reads. Every git access of driftwatch is in this module; without git
there is simply no pending logic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
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


# --- the history and objects of a checkout (pending applies) --------------------------------------
#
# Pending applies compare the current declaration with the one at an older commit, read from git
# objects, never from the work tree. Everything here runs the git CLI with fixed arguments (no
# shell), with the checkout trusted as the operator configured it and none of its config able to
# run anything, and raises GitUnavailable when the history cannot be read.


@dataclass(frozen=True)
class Checkout:
    """A repository path inside a git work tree: the work tree's top and the path below it."""

    top: Path  # the work tree's top level (resolved)
    prefix: str  # the repository path relative to ``top`` ("" when it is the top)
    shallow_file: Path | None = None  # $GIT_DIR/shallow: a shallow clone's boundary commits


@dataclass(frozen=True)
class ChainCommit:
    sha: str
    committed_at: datetime
    has_parent: bool  # False at a root commit or at a shallow clone's boundary
    shallow: bool  # its parents are not in the clone (a shallow clone's boundary)


def _git_command(top: Path, *args: str) -> list[str]:
    git = shutil.which("git")
    if git is None:
        raise GitUnavailable("the git command is not installed")
    return [git, "-c", f"safe.directory={top}", "-c", "core.fsmonitor=false", "-C", str(top), *args]


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _run_git(top: Path, *args: str) -> str:
    try:
        done = subprocess.run(  # fixed arguments, no shell
            _git_command(top, *args),
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=_git_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(f"git {args[0]} failed: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitUnavailable(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8", "surrogateescape")


def checkout_of(repo: Path) -> Checkout:
    """Where ``repo`` sits in its git work tree; GitUnavailable when it is not in one."""
    resolved = repo.resolve()
    top = _top_level(resolved)
    if top is None:
        raise GitUnavailable(f"{repo} is not in a git checkout")
    if shutil.which("git") is None:
        raise GitUnavailable("the git command is not installed")
    answer = _run_git(top, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-path", "shallow")
    lines = answer.splitlines()
    if len(lines) != 2:
        raise GitUnavailable(f"git rev-parse failed: unexpected answer {answer!r}")
    found = Path(lines[0]).resolve()
    try:
        prefix = resolved.relative_to(found).as_posix()
    except ValueError:
        raise GitUnavailable(f"{repo} is outside the work tree {found}") from None
    return Checkout(found, "" if prefix == "." else prefix, Path(lines[1]))


def first_parent_chain(checkout: Checkout, skip: int, count: int) -> list[ChainCommit]:
    """``count`` commits of HEAD's first-parent history after the newest ``skip``, newest first."""
    shallow = _shallow_commits(checkout)
    output = _run_git(
        checkout.top,
        "log",
        "--first-parent",
        "--no-show-signature",
        f"--skip={skip}",
        f"--max-count={count}",
        "--format=%H %ct %P",
        "HEAD",
    )
    chain: list[ChainCommit] = []
    for line in output.splitlines():
        sha, stamp, *parents = line.split()
        chain.append(ChainCommit(sha, datetime.fromtimestamp(int(stamp), UTC), bool(parents), sha in shallow))
    return chain


def _shallow_commits(checkout: Checkout) -> frozenset[str]:
    """The commits whose parents a shallow clone does not have (empty for a full clone)."""
    path = checkout.shallow_file
    if path is None:
        answer = _run_git(checkout.top, "rev-parse", "--path-format=absolute", "--git-path", "shallow")
        path = Path(answer.strip())
    try:
        return frozenset(path.read_text(encoding="ascii").split())
    except FileNotFoundError:
        return frozenset()
    except OSError as error:
        raise GitUnavailable(f"cannot read {path}: {error}") from None


def changes_since(checkout: Checkout, base: str | None) -> dict[str, tuple[str, datetime]]:
    """Files below the repository path changed on the first-parent chain after ``base`` (all of
    HEAD's history when None): path relative to the repository -> (newest such commit, its
    committer date). A merge counts as its diff to its first parent."""
    revisions = [f"{base}..HEAD"] if base is not None else ["HEAD"]
    output = _run_git(
        checkout.top,
        "log",
        "--first-parent",
        "-m",
        "--name-only",
        "--no-renames",
        "--no-show-signature",
        "-z",
        "--format=%x00%x01%H %ct",
        *revisions,
        "--",
        checkout.prefix or ".",
    )
    prefix = f"{checkout.prefix}/" if checkout.prefix else ""
    changes: dict[str, tuple[str, datetime]] = {}
    for path, change in _parse_log(output).items():
        if path.startswith(prefix):
            changes.setdefault(path[len(prefix) :], (change.commit, change.at))
    return changes


def is_dirty(repo: Path, checkout: Checkout | None = None) -> bool | None:
    """Whether the work tree below ``repo`` differs from HEAD (tracked changes or new files that
    are not ignored); None when that cannot be told (not a git checkout, no git). ``checkout``:
    where ``repo`` is, when the caller knows already."""
    try:
        checkout = checkout or checkout_of(repo)
        output = _run_git(
            checkout.top,
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=normal",
            "--",
            checkout.prefix or ".",
        )
    except GitUnavailable:
        return None
    return bool(output.strip("\0"))


# How long one GitObjects session (one scan's reads of older revisions) may take in all.
OBJECTS_TIMEOUT_SECONDS = 120.0


class GitObjects:
    """One ``git cat-file --batch-command`` process reading a repository's objects: every tree and
    blob the evaluation of an older revision needs, without a process per object.

    Trees are cached (parsed); blobs are read only after their size is known to fit. A read
    that git cannot answer, or that takes longer than the session's deadline (the process is
    then killed), raises GitUnavailable, and so does every later read: ``failed`` says so.
    Safe to share between threads (one request at a time).
    """

    def __init__(self, checkout: Checkout, timeout: float | None = None) -> None:
        self.checkout = checkout
        self.failed: str | None = None
        self._trees: dict[str, tuple[tuple[str, int, str], ...]] = {}
        self._lock = threading.Lock()
        self._timeout = OBJECTS_TIMEOUT_SECONDS if timeout is None else timeout
        self._process: subprocess.Popen[bytes] | None = None  # started by the first read
        self._timer: threading.Timer | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            try:
                self._process = subprocess.Popen(  # fixed arguments, no shell
                    _git_command(self.checkout.top, "cat-file", "--batch-command"),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=_git_env(),
                )
            except OSError as error:
                self.failed = f"git cat-file failed: {error}"
                raise GitUnavailable(self.failed) from None
            self._timer = threading.Timer(self._timeout, self._expire)
            self._timer.daemon = True
            self._timer.start()
        return self._process

    def _expire(self) -> None:
        self.failed = self.failed or f"git cat-file took longer than {self._timeout:g} s"
        if self._process is not None:
            self._process.kill()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._process is None:
            return
        if self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.close()
                self._process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> GitObjects:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, command: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object named in ``command`` (``info X``/``contents X``);
        None when it does not exist."""
        if self.failed is not None:
            raise GitUnavailable(self.failed)
        process = self._start()
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(command.encode("utf-8", "surrogateescape") + b"\n")
            stdin.flush()
            header = stdout.readline().decode("utf-8", "replace").split()
        except (OSError, ValueError) as error:
            self.failed = self.failed or f"git cat-file failed: {error}"
            raise GitUnavailable(self.failed) from None
        if len(header) == 2 and header[1] == "missing":
            return None
        if not header:  # git ended: killed, or too old to know --batch-command
            self.failed = self.failed or "git cat-file ended (driftwatch needs git 2.36 or newer)"
            raise GitUnavailable(self.failed)
        if len(header) != 3:
            self.failed = self.failed or "git cat-file failed: unexpected answer"
            raise GitUnavailable(self.failed)
        return header[0], header[1], int(header[2])

    def _contents(self, name: str) -> tuple[str, str, bytes] | None:
        with self._lock:
            found = self._request(f"contents {name}")
            if found is None:
                return None
            stdout = self._start().stdout
            assert stdout is not None
            data = stdout.read(found[2] + 1)  # the object and a newline
            if len(data) != found[2] + 1:
                self.failed = self.failed or "git cat-file failed: short read"
                raise GitUnavailable(self.failed)
            return found[0], found[1], data[:-1]

    def info(self, name: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of an object (a sha, or ``<commit>^{tree}``), None when missing."""
        with self._lock:
            return self._request(f"info {name}")

    def root_tree(self, commit: str) -> str:
        found = self.info(f"{commit}^{{tree}}")
        if found is None:
            raise GitUnavailable(f"commit {commit} is not in the clone")
        return found[0]

    def tree(self, sha: str) -> tuple[tuple[str, int, str], ...]:
        """A tree's entries: (name, mode, sha), in git's order."""
        known = self._trees.get(sha)
        if known is not None:
            return known
        found = self._contents(sha)
        if found is None or found[1] != "tree":
            raise GitUnavailable(f"tree {sha} is not in the clone")
        entries = tuple(_parse_tree(found[2], len(sha) // 2))
        self._trees[sha] = entries
        return entries

    def blob(self, sha: str) -> bytes:
        found = self._contents(sha)
        if found is None or found[1] != "blob":
            raise GitUnavailable(f"blob {sha} is not in the clone")
        return found[2]


def _parse_tree(data: bytes, hash_bytes: int) -> Iterator[tuple[str, int, str]]:
    """Entries of a raw tree object: ``<octal mode> <name>\\0<binary hash>`` each."""
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        mode = int(data[at:space], 8)
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        sha = data[nul + 1 : nul + 1 + hash_bytes].hex()
        at = nul + 1 + hash_bytes
        yield name, mode, sha
