"""The module walker's only door to the filesystem, so that what a target's evaluation depended on
can be proven unchanged later without evaluating it again.

Evaluating a target is a pure function of its TargetInput, the parse cache's limits and the
answers the filesystem gave: which paths resolve where, which are directories or files, which
Terraform files a directory holds, and what each file read contained. Every one of those
questions goes through a :class:`FileSystemView`, which records the question and its answer.
If asking all of them again gives the same answers (:meth:`Fingerprint.unchanged`), a new
evaluation would ask the same questions in the same order and reach the same result, so the
previous result can be reused.

The answers are memoised for the walk, too: a directory resolved for 200 module instances is
resolved once, and every part of the walk sees one consistent view of a checkout that git may
be updating underneath it.

Reading a file is recorded as the SHA-256 of its bytes (the parse cache's key, so nothing is
hashed twice) or as the error that reading it gave; replaying it costs a read and a hash, not
a parse.

Files the configuration reads with Terraform's file functions (``file("tables.yaml")``) are
*data*: any bytes, not necessarily UTF-8 (``filebase64``). They are asked for as "data" (their
SHA-256, or why they could not be read) and "kind" (what ``stat`` says: ``fileexists``), so that
a change to a YAML file the tables are declared from invalidates the memo like a .tf change.
``fileset`` asks "listing" (every entry of a directory, with what ``lstat`` says of it) and
"lstat": a file added to the directory a ``for_each = fileset(...)`` lists invalidates it too.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from driftwatch.errors import DriftwatchError
from driftwatch.terraform.parse import HclSyntaxError, read_regular, read_text

# A directory's entries that can change a target: .tf and .tf.json files (override files too),
# and *.auto.tfvars(.json). Other files (README.md, .terraform.lock.hcl) may come and go
# without invalidating an evaluation.
_TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


class InvalidPathError(DriftwatchError, ValueError):
    """A path the operating system refuses (too long, a NUL byte): not a symlink loop."""


Entries = tuple[tuple[str, bool], ...]  # (name, is a symlink), sorted by name
# A directory's entries for fileset(): (name, what lstat says: "dir", "file", "symlink", "other"),
# sorted by name; or why it was not listed ("error:<why>", "too many").
Listing = tuple[tuple[str, str], ...]
MAX_LISTING = 50_000  # entries of one directory that fileset() lists (doublestar.MAX_ENTRIES)


def _resolve(path: Path) -> Path | str:
    """The resolved path, or the error resolving gave (a symlink loop) as text: recorded like
    any answer, so that the memo of a target with a loop still holds while the loop does."""
    try:
        return path.resolve()
    except RuntimeError as error:  # a symlink loop, up to Python 3.12
        return f"error:{error}"
    except OSError as error:
        if error.errno == errno.ELOOP:  # a symlink loop, from Python 3.13
            return f"error:{error}"
        return f"invalid:{error.strerror or error}"
    except ValueError as error:  # a NUL byte in a path a repository wrote
        return f"invalid:{error}"


def _is_dir(path: Path) -> bool:
    try:  # pathlib answers False for a missing path, but raises for one too long or with a NUL
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _entries(path: Path) -> Entries | str:
    """The Terraform files of a directory, as ``Path.glob`` would list them (hidden names too;
    directories named ``x.tf`` too), with whether each is a symlink: a plain file of a resolved
    directory needs no resolving of its own. Why not (``error:<reason>``) when the directory
    exists and cannot be listed: read as empty, a module whose directory another uid owns
    (mode 0700) declared nothing, its tables unwatched in silence."""
    try:
        with os.scandir(path) as scan:
            found = [(e.name, e.is_symlink()) for e in scan if e.name.endswith(_TERRAFORM_SUFFIXES)]
        return tuple(sorted(found))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    except OSError as error:
        return f"error:{error.strerror or error}"


def _lstat_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def _lstat(path: Path) -> str:
    """What ``lstat`` says of a path (Go's ``os.Lstat``): "missing" for any error."""
    try:
        return _lstat_kind(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return "missing"


def _entry_kind(entry: os.DirEntry[str]) -> str:
    try:
        if entry.is_symlink():
            return "symlink"
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        return "file" if entry.is_file(follow_symlinks=False) else "other"
    except OSError:
        return "other"


def _listing(path: Path) -> Listing | str:
    """Every entry of a directory (hidden ones too), at most MAX_LISTING: a directory of a
    million files is not listed ("too many"), and stops being read at the first one over."""
    found: list[tuple[str, str]] = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                if len(found) >= MAX_LISTING:
                    return "too many"
                found.append((entry.name, _entry_kind(entry)))
    except (OSError, ValueError) as error:
        return f"error:{getattr(error, 'strerror', None) or error}"
    return tuple(sorted(found))


def _read(path: Path, max_bytes: int) -> tuple[str | None, str]:
    """(text, what was read): the SHA-256 of the bytes, or the error that reading gave (with
    its line: a non-UTF-8 file's error depends on where the bad byte is)."""
    try:
        text, data = read_text(path, "", max_bytes)
    except HclSyntaxError as error:
        return None, _unreadable(error)
    return text, hashlib.sha256(data).hexdigest()


def _unreadable(error: HclSyntaxError) -> str:
    return f"error:{error.line}:{error.message}"


class DataProblem(DriftwatchError):
    """Why a data file (``file()``'s) was not read. ``kind`` says what the file functions make of
    it: "missing" (Terraform: no file exists), "directory", "not a directory" (a path through a
    file), "special" (a FIFO, device or socket: Terraform would block on or stream it),
    "too large" (over the per-file byte limit) or "unreadable" (any other OS error)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind


_SPECIAL = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a device node",
    stat.S_IFBLK: "a device node",
    stat.S_IFSOCK: "a unix domain socket",
}


def _kind(path: Path) -> str:
    """What ``stat`` (following symlinks) says of a path: "file", "dir", "missing", "not a
    directory" (a path through a file), a special file's name ("a named pipe") or "error"."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "not a directory"
    except (OSError, ValueError):
        return "error"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return _SPECIAL.get(stat.S_IFMT(mode), "not a regular file")


def _read_data(path: Path, max_bytes: int) -> bytes:
    """A data file's bytes, at most ``max_bytes``; DataProblem when it cannot be read. Opened
    without blocking and checked on the descriptor (read_regular), so a FIFO never hangs."""
    try:
        return read_regular(path, "", max_bytes)
    except HclSyntaxError as error:
        message = error.message
        if message.startswith("not a regular file (a directory)"):
            raise DataProblem("directory", "is a directory") from None
        if message.startswith("not a regular file"):
            kind = message.partition("(")[2].partition(")")[0]  # "a FIFO", "a device or socket"
            raise DataProblem("special", kind) from None
        raise DataProblem("too large", message) from None
    except FileNotFoundError:
        raise DataProblem("missing", "no such file or directory") from None
    except NotADirectoryError:
        raise DataProblem("not a directory", "not a directory") from None
    except IsADirectoryError:
        raise DataProblem("directory", "is a directory") from None
    except (OSError, ValueError) as error:
        raise DataProblem("unreadable", getattr(error, "strerror", None) or str(error)) from None


def _data_answer(data: bytes | DataProblem) -> str:
    if isinstance(data, DataProblem):
        return f"{data.kind}:{data}"
    return hashlib.sha256(data).hexdigest()


def _replay_data(path: Path, max_bytes: int) -> str:
    try:
        return _data_answer(_read_data(path, max_bytes))
    except DataProblem as problem:
        return _data_answer(problem)


_QUESTIONS: dict[str, Callable[[Path], object]] = {
    "resolve": _resolve,
    "is_dir": _is_dir,
    "is_file": _is_file,
    "entries": _entries,
    "kind": _kind,
    "lstat": _lstat,
    "listing": _listing,
}
# Replayed cheapest first, so that a changed listing is found before any file is read.
_ORDER = {
    **dict.fromkeys(("is_dir", "is_file", "kind", "lstat"), 0),
    **dict.fromkeys(("entries", "listing"), 1),
    "resolve": 2,
    **dict.fromkeys(("read", "data"), 3),
}


@dataclass(frozen=True)
class Fingerprint:
    """Every filesystem question one evaluation asked, with the answer it got."""

    answers: tuple[tuple[str, Path, object], ...]
    max_file_bytes: int
    # The answers came from something that never changes (a git revision): always unchanged.
    immutable: bool = False
    # time.time() from which the evaluation is stale whatever the files say: a module fetched
    # from a branch or a version range is due to be resolved again (driftwatch.terraform.sources).
    expires_at: float | None = None

    def unchanged(self) -> bool:
        """True when the filesystem still gives every answer. An error while asking (a symlink
        loop where there was none) counts as a change: the evaluation will meet it again."""
        if self.expires_at is not None and time.time() >= self.expires_at:
            return False
        if self.immutable:
            return True
        try:
            for kind, path, answer in self.answers:
                if kind == "read":
                    if _read(path, self.max_file_bytes)[1] != answer:
                        return False
                elif kind == "data":
                    if _replay_data(path, self.max_file_bytes) != answer:
                        return False
                elif _QUESTIONS[kind](path) != answer:
                    return False
        except (OSError, RuntimeError, ValueError):
            return False
        return True

    def paths(self) -> Iterable[Path]:
        """The files read (Terraform files and data files)."""
        return (path for kind, path, _ in self.answers if kind in ("read", "data"))

    def digests(self) -> Iterable[str]:
        """The content hashes of the files read (the parse cache's keys)."""
        return (str(answer) for kind, _, answer in self.answers if kind == "read")


class FileSystemView:
    """What one target's evaluation sees of the filesystem; see the module docstring."""

    def __init__(self, max_file_bytes: int):
        self.max_file_bytes = max_file_bytes
        self.bytes_read = 0  # by read(): what the walk bounds per target
        self._answers: dict[tuple[str, Path], object] = {}
        # Data files, read once per view: the bytes, or why not as (kind, detail), raised anew
        # each time (re-raising one exception object would grow its traceback on every call).
        self._data: dict[Path, bytes | tuple[str, str]] = {}
        # False when a file read twice gave two answers: the walk saw no single state of the
        # checkout, and its result must not be reused.
        self.consistent = True

    def _ask(self, kind: str, path: Path) -> object:
        key = (kind, path)
        if key in self._answers:
            return self._answers[key]
        answer = self._answer(kind, path)
        self._answers[key] = answer
        return answer

    def _answer(self, kind: str, path: Path) -> object:
        """Ask the filesystem (a view of something else overrides this and ``_load``)."""
        return _QUESTIONS[kind](path)

    def _load(self, path: Path, rel: str) -> tuple[str, bytes]:
        return read_text(path, rel, self.max_file_bytes)

    def resolve(self, path: Path) -> Path:
        """``path.resolve()``; a symlink loop raises RuntimeError, whatever the Python version."""
        answer = self._ask("resolve", path)
        if isinstance(answer, str) and answer.startswith("invalid:"):
            raise InvalidPathError(answer.removeprefix("invalid:"))
        if isinstance(answer, str):
            raise RuntimeError(answer.removeprefix("error:"))
        assert isinstance(answer, Path)
        return answer

    def is_dir(self, path: Path) -> bool:
        return bool(self._ask("is_dir", path))

    def is_file(self, path: Path) -> bool:
        return bool(self._ask("is_file", path))

    def entries(self, directory: Path) -> Entries:
        """The directory's Terraform files; none when it cannot be listed (``unlisted`` says why)."""
        answer = self._ask("entries", directory)
        return answer if isinstance(answer, tuple) else ()

    def unlisted(self, directory: Path) -> str | None:
        """Why the directory exists and its files cannot be listed (permission denied), or None."""
        answer = self._ask("entries", directory)
        return answer.removeprefix("error:") if isinstance(answer, str) else None

    def read(self, path: Path, rel: str) -> tuple[str, str]:
        """(text, SHA-256) of a file; HclSyntaxError naming ``rel`` when it cannot be read."""
        try:
            text, data = self._load(path, rel)
        except HclSyntaxError as error:
            self._record_read(path, _unreadable(error))
            raise
        self.bytes_read += len(data)
        digest = hashlib.sha256(data).hexdigest()
        self._record_read(path, digest)
        return text, digest

    def kind(self, path: Path) -> str:
        """What ``stat`` says of ``path`` (see ``_kind``): ``fileexists``'s question."""
        return str(self._ask("kind", path))

    def lstat(self, path: Path) -> str:
        """What ``lstat`` says of ``path`` (see ``_lstat``): fileset's question."""
        return str(self._ask("lstat", path))

    def listing(self, directory: Path) -> Listing | str:
        """Every entry of a directory, or why not (see ``_listing``): fileset's question."""
        answer = self._ask("listing", directory)
        assert isinstance(answer, (tuple, str))
        return answer

    def read_data(self, path: Path) -> bytes:
        """The bytes of a data file (one ``file()`` reads), at most ``max_file_bytes``; raises
        DataProblem. Read once per view: a module with 50 instances reading one YAML file reads
        it, and counts its bytes against the target's budget, once."""
        known = self._data.get(path)
        if known is None:
            try:
                data = self._load_data(path)
            except DataProblem as problem:
                known = (problem.kind, str(problem))
                self._answers[("data", path)] = _data_answer(problem)
            else:
                self.bytes_read += len(data)
                known = data
                self._answers[("data", path)] = _data_answer(data)
            self._data[path] = known
        if isinstance(known, tuple):
            raise DataProblem(*known)
        return known

    def _load_data(self, path: Path) -> bytes:
        """Read a data file (a view of something else overrides this, like ``_load``)."""
        return _read_data(path, self.max_file_bytes)

    def _record_read(self, path: Path, answer: str) -> None:
        previous = self._answers.setdefault(("read", path), answer)
        if previous != answer:
            self.consistent = False

    def fingerprint(self) -> Fingerprint:
        answers = sorted(self._answers.items(), key=lambda item: _ORDER[item[0][0]])
        return Fingerprint(
            tuple((kind, path, answer) for (kind, path), answer in answers), self.max_file_bytes
        )
