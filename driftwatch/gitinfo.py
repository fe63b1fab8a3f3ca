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

import contextlib
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from driftwatch.errors import DriftwatchError
from driftwatch.gitenv import offline_env

MAX_GIT_FILE_BYTES = 4096  # a `.git` file, HEAD, a loose ref, commondir: one line each
MAX_PACKED_REFS_BYTES = 64 * 1024 * 1024


def _read_small(path: Path, limit: int = MAX_GIT_FILE_BYTES) -> str:
    """A regular file's text, at most ``limit`` bytes (OSError otherwise). The checkout is
    untrusted input: a HEAD that is a FIFO blocked the scan for ever, one that is a symlink to
    /dev/zero read until memory ran out."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data.decode("utf-8", "replace")


def _git_dir(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.exists():  # a `.git` file (a worktree, git-sync), or something else: no repo
            content = _read_small(dot_git).strip()
            if not content.startswith("gitdir:"):
                return None
            target = Path(content.split(":", 1)[1].strip())
            return target if target.is_absolute() else (candidate / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    common = git_dir / "commondir"
    if common.is_file():
        return (git_dir / _read_small(common).strip()).resolve()
    return git_dir


def head_commit(path: Path) -> str | None:
    """The commit HEAD points at, or None when ``path`` is not in a git checkout (or HEAD is an
    unborn branch, or ``.git`` cannot be read). Every file is read bounded (see _read_small)."""
    try:
        git_dir = _git_dir(path.resolve())
        if git_dir is None:
            return None
        head = _read_small(git_dir / "HEAD").strip()
        last = [value for _, value in _symbolic_refs(git_dir, head)][-1:] or [head]
        return None if last[0] is None else _object_name(last[0])
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        return None


# How many refs git reads resolving HEAD, HEAD included (refs.c: SYMREF_MAXDEPTH); a branch that
# is itself ``ref: refs/heads/trunk`` (``git symbolic-ref``) is one of them. HEAD, its branch and
# three more symbolic refs reach a commit; a fourth and git finds none (checked with git 2.39).
_MAX_SYMREF_DEPTH: Final = 5


def _symbolic_refs(git_dir: Path, head: str) -> Iterator[tuple[str, str | None]]:
    """Each ref git reads after HEAD (which holds ``head``) resolving it, with what it holds
    (None: no such ref), as deep as git goes; it stops at a value that is no ``ref:`` to a
    branch (an object name, or a ref outside ``refs/``, which git refuses)."""
    value: str | None = head
    for _ in range(_MAX_SYMREF_DEPTH - 1):
        if value is None or not value.startswith("ref:"):
            return
        ref = value.split(":", 1)[1].strip()
        if not _is_branch_ref(ref):
            return
        value = _ref_value(git_dir, ref)
        yield ref, value


def _ref_value(git_dir: Path, ref: str) -> str | None:
    """What a ref holds (an object name, or ``ref: …``): its loose file, else packed-refs."""
    for base in (git_dir, _common_dir(git_dir)):
        ref_file = base / ref
        if ref_file.is_file():
            return _read_small(ref_file).strip()
        packed = base / "packed-refs"
        if packed.is_file():
            for line in _read_small(packed, MAX_PACKED_REFS_BYTES).splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    return None


_OBJECT_NAME: Final = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256, as git writes them


def _object_name(text: str) -> str | None:
    """``text`` if it is an object name, else None. ``.git`` is untrusted: a ref file or a
    packed-refs line holding anything else was reported as the scan's commit (in every report,
    link and Slack message); git itself refuses such a ref."""
    return text if _OBJECT_NAME.fullmatch(text) else None


def _is_branch_ref(ref: str) -> bool:
    """Whether ``HEAD``'s ``ref:`` names a ref inside the git dir, as git requires of it
    (``refs/…``, no ``..`` component). ``ref: ../../secret.txt`` read a file outside the
    repository, its first 4 kB reported as the commit."""
    parts = ref.split("/")
    return parts[0] == "refs" and len(parts) > 1 and all(p not in ("", ".", "..") for p in parts)


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


MAX_GIT_CONFIG_BYTES = 1024 * 1024
_REMOTE_ORIGIN = re.compile(r'^\s*\[\s*remote\s+"origin"\s*\]\s*$')
_SECTION = re.compile(r"^\s*\[")
_URL = re.compile(r"^\s*url\s*=\s*(.*?)\s*$", re.IGNORECASE)


def origin_url(path: Path) -> str | None:
    """The ``url`` of the checkout's ``origin`` remote, read from its git config (bounded,
    without running git); None when there is none or it cannot be read."""
    try:
        git_dir = _git_dir(path.resolve())
        if git_dir is None:
            return None
        text = _read_small(_common_dir(git_dir) / "config", MAX_GIT_CONFIG_BYTES)
    except (OSError, ValueError, RuntimeError):
        return None
    in_origin = False
    for line in text.splitlines():
        if _SECTION.match(line):
            in_origin = bool(_REMOTE_ORIGIN.match(line))
        elif in_origin and (match := _URL.match(line)):
            return match.group(1).strip('"') or None
    return None


def path_in_checkout(path: Path) -> str:
    """Where ``path`` lies in its git checkout, as a relative POSIX path ("" at its top, or
    outside any checkout): what links to the repository's web address are counted from."""
    try:
        resolved = path.resolve()
        top = _top_level(resolved)
        if top is None:
            return ""
        relative = resolved.relative_to(top).as_posix()
    except (OSError, ValueError, RuntimeError):
        return ""
    return "" if relative == "." else relative


def _parse_log(output: str) -> dict[str, FileChange]:
    """``git log -z --name-only --format=%x00%x01%H %ct``: each commit is ``\\0\\1<hash> <unix
    time>\\0\\n`` then its file names, each ended by ``\\0``. A header is told from a name by
    its place (the token after an empty one: a name is never empty), never by what it holds:
    a pushed file may be named ``\\x01<sha> <time>`` or start with a newline. Only the newline
    git puts after a header is removed."""
    changes: dict[str, FileChange] = {}
    current: FileChange | None = None
    tokens = output.split("\0")
    after_header = False
    for index, token in enumerate(tokens):
        if not token:
            continue
        if (index == 0 or not tokens[index - 1]) and token.startswith("\1"):
            commit, _, stamp = token[1:].partition(" ")
            current = FileChange(commit, _commit_time(stamp))
            after_header = True
            continue
        if after_header:
            token = token.removeprefix("\n")
            after_header = False
        if current is not None and token:
            # Newest first: the first commit seen for a file is its latest change.
            changes.setdefault(token, current)
    return changes


# The latest time a datetime holds, less a margin for the arithmetic done with it (a grace added).
_LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)


def _commit_time(stamp: str) -> datetime:
    """A committer date (``%ct``) as a time. git accepts dates Python's datetime cannot hold
    (year 3,170,843 from a commit anyone can push): such a date is read as the far future, which
    the pending logic treats as any commit dated in the future (driftwatch.settle)."""
    try:
        seconds = int(stamp)
    except ValueError:
        raise GitUnavailable(f"git log printed a commit time that is not a number: {stamp[:40]!r}") from None
    if seconds >= _LATEST.timestamp():
        return _LATEST
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # before year 1
        return datetime(1, 1, 1, tzinfo=UTC)


# --- the history and objects of a checkout (pending applies) --------------------------------------
#
# Pending applies compare the current declaration with the one at an older commit, read from git
# objects, never from the work tree. Everything here runs the git CLI with fixed arguments (no
# shell), with the checkout trusted as the operator configured it (``safe.directory``: git-sync
# often runs as another uid) and none of its config able to run anything or reach the network
# (driftwatch.gitenv.offline_env and _OVERRIDES), each call with a timeout and bounded output;
# it raises GitUnavailable when the history cannot be read.

MAX_GIT_OUTPUT = 64 * 1024 * 1024  # what one git command may print (a listing of names)
MAX_GIT_MESSAGES = 64 * 1024  # git's messages (stderr)

# The repository's own config is read (it says how the repository is laid out) but these keys,
# which name a program git would run during a read, are overridden. core.fsmonitor: `git status`
# runs it; core.hooksPath: a read that writes the index runs post-index-change. Filter drivers
# are overridden by name (_filter_overrides); core.pager, diff.external and textconv are off by
# GIT_PAGER and the arguments (--no-ext-diff --no-textconv); the network (core.sshCommand,
# core.gitProxy, remote.*.uploadpack, credential helpers) by offline_env.
_OVERRIDES: Final = {"core.fsmonitor": "false", "core.hooksPath": os.devnull, "core.pager": "cat"}


@dataclass(frozen=True)
class Checkout:
    """A repository path inside a git work tree: the work tree's top and the path below it."""

    top: Path  # the work tree's top level (resolved)
    prefix: str  # the repository path relative to ``top`` ("" when it is the top)
    shallow_file: Path | None = None  # $GIT_DIR/shallow: a shallow clone's boundary commits
    # Config overrides for this repository (_OVERRIDES, safe.directory, its filter drivers off).
    overrides: tuple[tuple[str, str], ...] = ()


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
    return [git, "--no-pager", "-C", str(top), *args]


def _git_env(top: Path, overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    return offline_env({**_OVERRIDES, "safe.directory": str(top), **dict(overrides)})


def _run_git(
    checkout: Checkout | Path, *args: str, max_output: int = MAX_GIT_OUTPUT, success: tuple[int, ...] = (0,)
) -> str:
    """git's output; GitUnavailable (with git's reason) when it fails, takes longer than
    GIT_TIMEOUT_SECONDS or prints more than ``max_output`` bytes. No stdin; its own process
    group, killed whole (a child git included) when it is stopped."""
    top, overrides = (checkout, ()) if isinstance(checkout, Path) else (checkout.top, checkout.overrides)
    deadline = time.monotonic() + GIT_TIMEOUT_SECONDS
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            process = subprocess.Popen(  # fixed arguments, no shell
                _git_command(top, *args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=_git_env(top, overrides),
                start_new_session=True,
            )
        except OSError as error:
            raise GitUnavailable(f"git {args[0]} failed: {error}") from None
        try:
            while True:
                try:
                    returncode = process.wait(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        raise GitUnavailable(
                            f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS:g} s"
                        ) from None
                    if os.fstat(out.fileno()).st_size > max_output or os.fstat(err.fileno()).st_size > (
                        MAX_GIT_MESSAGES
                    ):
                        raise GitUnavailable(
                            f"git {args[0]} printed too much (over {max_output:,} bytes)"
                        ) from None
        finally:
            _stop(process)
        if os.fstat(out.fileno()).st_size > max_output:
            raise GitUnavailable(f"git {args[0]} printed more than {max_output:,} bytes")
        if returncode not in success:
            raise GitUnavailable(f"git {args[0]} failed: {_reason(err, returncode)}")
        out.seek(0)
        return out.read().decode("utf-8", "surrogateescape")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and whatever it started (its process group), if it still runs."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            process.kill()
        process.wait()


OWNERSHIP_ADVICE: Final = (
    "git refuses the repository: it is owned by another user (detected dubious ownership) and "
    "the path git sees is not the one driftwatch names as safe.directory; run git-sync with "
    "driftwatch's uid (Kubernetes securityContext runAsUser) or share an fsGroup, and set repo: "
    "to the checkout's real path"
)


def _reason(err: Any, returncode: int | None) -> str:
    """git's own reason from its messages (``fatal:``/``error:``, not the advice after it),
    bounded; the known ones explained."""
    err.seek(0)
    lines = [line.strip() for line in err.read(MAX_GIT_MESSAGES).decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    if any("dubious ownership" in line for line in lines):
        return OWNERSHIP_ADVICE
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    found = fatal[0] if fatal else lines[-1] if lines else f"exit code {returncode}"
    return found[:500]


# The files of a git directory that git opens and reads whole on the commands driftwatch runs
# (``status`` reads info/exclude; ``log`` info/grafts, alternates, the commit-graph); HEAD's
# branch too.
_GIT_READS: Final = (
    "HEAD",
    "config",
    "commondir",
    "index",
    "shallow",
    "packed-refs",
    "info/exclude",
    "info/grafts",
    "objects/info/alternates",
    "objects/info/commit-graph",
)


def _refuse_special_files(path: Path) -> None:
    """GitUnavailable when a file git reads is there and not a regular file: git opens a FIFO
    (``.git/shallow``, ``index``, ``HEAD``) and blocks until driftwatch's timeout, on every
    command of every scan; a link to ``/dev/zero`` is read until memory or time runs out."""
    git_dir = _git_dir(path)
    if git_dir is None:
        return
    try:  # HEAD's branch, and the branches it is a symbolic ref to: git opens each
        branches = [ref for ref, _ in _symbolic_refs(git_dir, _read_small(git_dir / "HEAD").strip())]
    except (OSError, ValueError, RuntimeError):  # git says why itself
        branches = []
    for base in dict.fromkeys((git_dir, _common_dir(git_dir))):
        for name in (*_GIT_READS, *branches):
            try:
                mode = os.stat(base / name).st_mode
            except (OSError, ValueError):  # absent (or unreadable: git says so itself)
                continue
            if not stat.S_ISREG(mode):
                kind = (
                    "a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "a device"
                )
                where = base / name
                shown = where.relative_to(path).as_posix() if where.is_relative_to(path) else str(where)
                raise GitUnavailable(f"{shown} is not a regular file ({kind}); git is not run on it")


def checkout_of(repo: Path) -> Checkout:
    """Where ``repo`` sits in its git work tree; GitUnavailable when it is not in one."""
    resolved = repo.resolve()
    top = _top_level(resolved)
    if top is None:
        raise GitUnavailable(f"{repo} is not in a git checkout")
    if shutil.which("git") is None:
        raise GitUnavailable("the git command is not installed")
    try:
        _refuse_special_files(top)
    except (OSError, RuntimeError) as error:  # the .git file or commondir cannot be read
        raise GitUnavailable(f"the git directory cannot be read: {error}") from None
    answer = _run_git(top, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-path", "shallow")
    lines = answer.splitlines()
    if len(lines) != 2:
        raise GitUnavailable(f"git rev-parse failed: unexpected answer {answer[:200]!r}")
    found = Path(lines[0]).resolve()
    try:
        prefix = resolved.relative_to(found).as_posix()
    except ValueError:
        raise GitUnavailable(f"{repo} is outside the work tree {found}") from None
    return Checkout(found, "" if prefix == "." else prefix, Path(lines[1]), _filter_overrides(top))


def _filter_overrides(top: Path) -> tuple[tuple[str, str], ...]:
    """Every filter driver the repository's config defines, turned off: with a `.gitattributes`
    naming it, `git status` ran its ``process`` (or ``clean``) program while checking whether a
    file changed."""
    output = _run_git(
        top,
        "config",
        "-z",
        "--name-only",
        "--get-regexp",
        r"^filter\.",
        max_output=1024 * 1024,
        success=(0, 1),
    )
    drivers = {key[len("filter.") :].rpartition(".")[0] for key in output.split("\0") if key}
    overrides: list[tuple[str, str]] = []
    for driver in sorted(drivers):
        for key, value in (("process", ""), ("clean", ""), ("smudge", ""), ("required", "false")):
            overrides.append((f"filter.{driver}.{key}", value))
    return tuple(overrides)


def first_parent_chain(checkout: Checkout, skip: int, count: int) -> list[ChainCommit]:
    """``count`` commits of HEAD's first-parent history after the newest ``skip``, newest first."""
    if skip == 0 and not _run_git(
        checkout, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", success=(0, 1)
    ):
        raise GitUnavailable("HEAD is a branch without commits (an unborn branch): there is no history")
    shallow = _shallow_commits(checkout)
    output = _run_git(
        checkout,
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
        chain.append(ChainCommit(sha, _commit_time(stamp), bool(parents), sha in shallow))
    return chain


def _shallow_commits(checkout: Checkout) -> frozenset[str]:
    """The commits whose parents a shallow clone does not have (empty for a full clone)."""
    path = checkout.shallow_file
    if path is None:
        answer = _run_git(checkout, "rev-parse", "--path-format=absolute", "--git-path", "shallow")
        path = Path(answer.strip())
    try:  # bounded, never blocking: git-sync may swap the clone after git read it
        return frozenset(_read_small(path, MAX_PACKED_REFS_BYTES).split())
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
        checkout,
        "log",
        "--first-parent",
        "-m",
        "--name-only",
        "--no-renames",
        "--no-show-signature",
        "--no-ext-diff",
        "--no-textconv",
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
            checkout,
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=normal",
            "--ignore-submodules=all",  # a submodule's own config is not checked (_OVERRIDES)
            "--",
            checkout.prefix or ".",
        )
    except GitUnavailable:
        return None
    return bool(output.strip("\0"))


# How long one GitObjects session (one scan's reads of older revisions) may take in all.
OBJECTS_TIMEOUT_SECONDS = 120.0
# The largest object read whole (a tree of ~1 million entries); a caller bounds a blob below it.
MAX_OBJECT_BYTES = 64 * 1024 * 1024


class GitObjects:
    """One ``git cat-file --batch-command`` process reading a repository's objects: every tree and
    blob the evaluation of an older revision needs, without a process per object.

    Trees are cached (parsed); blobs are read only after their size is known to fit. A read
    that git cannot answer, or that takes longer than the session's deadline (the process is
    then killed), raises GitUnavailable, and so does every later read: ``failed`` says so. So
    does an object the clone does not have (a partial clone's blob, which git would otherwise
    fetch from the network, or a damaged repository): the older revision is not evaluated at
    all rather than evaluated without a file. Safe to share between threads (one request at a
    time).
    """

    def __init__(self, checkout: Checkout, timeout: float | None = None) -> None:
        self.checkout = checkout
        self.failed: str | None = None
        self._trees: dict[str, tuple[tuple[str, int, str], ...]] = {}
        self._lock = threading.Lock()
        self._timeout = OBJECTS_TIMEOUT_SECONDS if timeout is None else timeout
        self._process: subprocess.Popen[bytes] | None = None  # started by the first read
        self._timer: threading.Timer | None = None
        self._stderr: Any = None  # git's messages (a temporary file): the reason when it ends

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            try:
                self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (close() closes it)
                self._process = subprocess.Popen(  # fixed arguments, no shell
                    _git_command(self.checkout.top, "cat-file", "--batch-command"),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self._stderr,
                    env=_git_env(self.checkout.top, self.checkout.overrides),
                    start_new_session=True,
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
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except OSError:
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
        if self._stderr is not None:
            self._stderr.close()

    def __enter__(self) -> GitObjects:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, command: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object named in ``command`` (``info X``/``contents X``)."""
        if self.failed is not None:
            raise GitUnavailable(self.failed)
        process = self._start()
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(command.encode("utf-8", "surrogateescape") + b"\n")
            stdin.flush()
            header = stdout.readline(1024).decode("utf-8", "replace").split()
        except (OSError, ValueError) as error:
            self.failed = self.failed or f"git cat-file failed: {error}"
            raise GitUnavailable(self.failed) from None
        if len(header) == 2 and header[1] == "missing":
            name = command.split(" ", 1)[1]
            self.failed = f"{name} is not in the clone (a partial clone, or a damaged repository)"
            raise GitUnavailable(self.failed)
        if not header:  # git ended: killed, an object it cannot read, or too old for --batch-command
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)  # its messages are complete once it has exited
            reason = (
                _reason(self._stderr, process.returncode) if os.fstat(self._stderr.fileno()).st_size else None
            )
            self.failed = self.failed or (
                f"git cat-file failed: {reason}"
                if reason
                else "git cat-file ended (driftwatch needs git 2.36 or newer)"
            )
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
            if found[2] > MAX_OBJECT_BYTES:  # its bytes are on the way: the session ends here
                self.failed = f"{found[1]} {found[0]} is {found[2]:,} bytes, over {MAX_OBJECT_BYTES:,}"
                self._expire()
                raise GitUnavailable(self.failed)
            stdout = self._start().stdout
            assert stdout is not None
            data = stdout.read(found[2] + 1)  # the object and a newline
            if len(data) != found[2] + 1:
                self.failed = self.failed or "git cat-file failed: short read"
                raise GitUnavailable(self.failed)
            return found[0], found[1], data[:-1]

    def info(self, name: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of an object (a sha, or ``<commit>^{tree}``); a missing object ends
        the session (GitUnavailable), see the class."""
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
            self.failed = self.failed or f"tree {sha} is not in the clone"
            raise GitUnavailable(self.failed)
        try:
            entries = tuple(_parse_tree(found[2], len(sha) // 2))
        except ValueError as error:  # a hostile pusher's object: never guessed at
            self.failed = self.failed or f"tree {sha} is malformed ({error})"
            raise GitUnavailable(self.failed) from None
        self._trees[sha] = entries
        return entries

    def blob(self, sha: str) -> bytes:
        found = self._contents(sha)
        if found is None or found[1] != "blob":
            raise GitUnavailable(f"blob {sha} is not in the clone")
        return found[2]


def _parse_tree(data: bytes, hash_bytes: int) -> Iterator[tuple[str, int, str]]:
    """Entries of a raw tree object: ``<octal mode> <name>\\0<binary hash>`` each.

    Anyone who can push can write a tree git never makes (``git hash-object --literally``; a
    server checks pushes only with ``receive.fsckObjects``). ValueError for one that is not
    well formed (a mode that is not octal; a hash cut short: git would read a short hash as
    whatever object has that prefix; a name twice, of which a checkout holds one) or that holds
    a name no checkout could hold as this tree's entry (``.git``, ``..``, which git refuses to
    check out; a ``/``, which git never writes in a tree: ``git fsck`` reports
    ``fullPathname``): no checkout of such a commit was ever applied."""
    at = 0
    names: set[str] = set()
    while at < len(data):
        space = data.find(b" ", at)
        nul = data.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 1 + hash_bytes > len(data):
            raise ValueError("an entry is cut short")
        mode_text = data[at:space]
        if not mode_text or not all(48 <= c <= 55 for c in mode_text):
            raise ValueError(f"mode {mode_text[:16]!r} is not octal")
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        if not _checkout_can_hold(name):
            raise ValueError(f"it holds the name {name[:64]!r}, which no checkout can hold")
        if name in names:  # git fsck: duplicateEntries; a checkout holds one of them
            raise ValueError(f"it holds the name {name[:64]!r} twice")
        names.add(name)
        sha = data[nul + 1 : nul + 1 + hash_bytes].hex()
        at = nul + 1 + hash_bytes
        yield name, int(mode_text, 8), sha


def _checkout_can_hold(name: str) -> bool:
    """Whether git's ``verify_path`` lets a checkout write a tree entry of this name (with the
    default ``core.protectNTFS``: ``.git``, ``.GIT``, ``.git `` and ``git~1`` are refused, as
    ``git read-tree`` 2.39 refuses them)."""
    if name in ("", ".", "..") or "/" in name:
        return False
    folded = name.rstrip(" .").lower()
    return folded not in (".git", "git~1")
