"""The files a module's ``file()`` calls read: where Terraform would look, whether driftwatch may
look there, and the read itself, through the walk's FileSystemView.

Terraform resolves a file function's path against its working directory, the root module's
directory (``path.module`` is relative to it), after cleaning it lexically (Go's
``filepath.Clean``: ``missing/../x`` is ``x``). driftwatch does the same, and then confines the
result as it confines module sources: a path that resolves (symlinks included) outside the
repository, an absolute path and a path in someone's home directory (``~``) are not read, and
the function's value is Unknown with the reason. A module fetched from a remote source is read
from where it was fetched (its ``path.module`` is ``.terraform/modules/<key>``, which the
scanned checkout usually does not hold) and confined to its own package.

Every read goes through the FileSystemView, so the declaration memo sees it (a changed YAML
file invalidates the target's declarations) and a view of a git revision answers it from the
commit's objects, like the .tf files. Each file read is noted as an input of the module
instance that read it (its tables' ``inputs``: a recent commit to the YAML can make their drift
pending). Bounds: the per-file byte limit (the view's), the per-target byte budget shared with
the .tf files, and the step budget charged per character read.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Protocol

from driftwatch.errors import DriftwatchError
from driftwatch.spec import Unknown
from driftwatch.terraform import doublestar, limits, observe
from driftwatch.terraform.doublestar import Refused
from driftwatch.terraform.file_functions import clean
from driftwatch.terraform.functions import FunctionError, TfSet
from driftwatch.terraform.observe import DataProblem, FileSystemView, InvalidPathError, Listing
from driftwatch.terraform.parse import LFS_POINTER_REASON, is_lfs_pointer

_FETCHED = ".terraform/modules"  # where Terraform keeps fetched modules, relative to the root
_INIT = ".terraform"  # what terraform init makes in the root directory before any plan
_INIT_WHY = (
    "made by terraform init before the plan (modules, providers), and this checkout has no "
    ".terraform directory: what Terraform lists there is not known"
)

# Terraform's own words for a file that does not exist (Go's readFileBytes).
_NO_FILE = (
    'no file exists at "{path}"; this function works only with files that are distributed as part '
    "of the configuration source code, so if this file will be created by a resource in this "
    "configuration you must instead obtain this result from an attribute of that resource"
)


class Walk(Protocol):
    """What a reader needs of the module walk (driftwatch.terraform.modules._Walk)."""

    fs: FileSystemView
    root_dir: Path

    def confine(self, path: Path, what: str, within: Path | None = None, *, in_git: bool = False) -> Path: ...

    def rel(self, path: Path) -> str: ...

    def note_data_file(self, directory: Path, rel: str) -> None: ...


class ModuleFiles:
    """The FileReader (driftwatch.terraform.file_functions) of one module instance.

    ``module_path`` is its ``path.module``; ``directory`` where its files really are; ``package``
    the root of the fetched package it belongs to (None: it is in the repository)."""

    def __init__(
        self, walk: Walk, module_path: str, directory: Path, package: Path | None, max_target_bytes: int
    ):
        self.walk = walk
        self.module_path = module_path
        self.directory = directory
        self.package = package
        self.max_target_bytes = max_target_bytes

    def read(self, path: str) -> bytes | Unknown:
        located = self._locate(path)
        if isinstance(located, Unknown):
            return located
        resolved, shown = located
        if in_git_directory(shown, self.walk.rel(resolved)):  # names and existence are no secret
            return Unknown(f"{shown!r} {GIT_DIRECTORY_REASON}")
        fs = self.walk.fs
        if fs.bytes_read > self.max_target_bytes:
            return Unknown(
                f"file({shown!r}) is not read: the target's files hold more than "
                f"{self.max_target_bytes:,} bytes (driftwatch's limit per target)"
            )
        try:
            data = fs.read_data(resolved)
        except DataProblem as problem:
            return _problem(problem, shown)
        limits.charge_size(len(data))
        if is_lfs_pointer(data):  # its content is what Terraform reads: not known here
            return Unknown(f"file({shown!r}) {LFS_POINTER_REASON}")
        return data

    def exists(self, path: str) -> bool | Unknown:
        located = self._locate(path)
        if isinstance(located, Unknown):
            return located
        resolved, shown = located
        kind = self.walk.fs.kind(resolved)
        if kind == "file":
            return True
        if kind == "missing":
            return False
        if kind == "dir":
            raise FunctionError(f'"{shown}" is a directory, not a file')
        if kind in ("not a directory", "error"):
            raise FunctionError(f'failed to stat "{shown}"')
        raise FunctionError(f'"{shown}" is {kind}, not a regular file')

    def fileset(self, path: str, pattern: str) -> TfSet | Unknown:
        """Terraform's ``fileset``: the files under ``path`` that ``pattern`` matches, relative
        to ``path``; Unknown with the reason where driftwatch cannot know Terraform's answer."""
        if path.startswith("/"):
            return Unknown(f"{path!r} is an absolute path; driftwatch reads files inside the repository only")
        tree = _Tree(self)
        try:
            found = doublestar.fileset(path, pattern, tree)
        except Refused as refused:
            return Unknown(f"fileset({path!r}, {pattern!r}) is not evaluated: {refused}")
        for match in found.values():
            resolved = tree.resolve(match)
            if isinstance(resolved, Path):
                self.walk.note_data_file(self.directory, self.walk.rel(resolved))
        return TfSet(sorted(found))

    def physical(self, shown: str) -> tuple[Path, Path | None]:
        """Where the file Terraform names ``shown`` (cleaned, relative to the root directory)
        is, and the fetched package that confines it (None: the repository)."""
        if self.package is not None and (shown == _FETCHED or shown.startswith(_FETCHED + "/")):
            return self.directory / posixpath.relpath(shown, self.module_path), self.package
        return self.walk.root_dir / shown, None

    def _locate(self, path: str) -> tuple[Path, str] | Unknown:
        """Where the file is (resolved, inside the repository or the module's package) and how
        Terraform names it in errors; Unknown when driftwatch does not read there. The file is
        noted as an input whether or not it exists: adding it changes the evaluation too."""
        if path.startswith("~"):
            if path == "~" or path[1] in "/\\":
                return Unknown(
                    f"{path!r} is in the home directory of whoever runs Terraform; driftwatch reads "
                    "files inside the repository only"
                )
            raise FunctionError("failed to expand ~: cannot expand user-specific home dir")
        if path.startswith("/"):
            return Unknown(f"{path!r} is an absolute path; driftwatch reads files inside the repository only")
        shown = clean(path)
        physical, within = self.physical(shown)
        try:
            resolved = self.walk.confine(physical, f"the file {shown!r}", within, in_git=True)
        except DriftwatchError as error:  # OutsideRepositoryError: outside, a loop, an invalid path
            return Unknown(str(error))
        self.walk.note_data_file(self.directory, self.walk.rel(resolved))
        return resolved, shown


GIT_DIRECTORY_REASON = (
    "is in a .git directory, which driftwatch does not read: git keeps credentials there (a token "
    "in a remote's URL, the authorization header CI checkouts write into .git/config), and a value "
    "read from it would reach every report and Slack message"
)


def in_git_directory(shown: str, where: str) -> bool:
    """Whether a file a file function reads, as written (``shown``) or where it resolves in the
    repository (``where``, a symlink followed), is in a ``.git`` directory (or is the ``.git``
    file of a worktree). Terraform reads it, but repository content that copies the runner's git
    credentials into a declared tag is what driftwatch's outputs must never carry: the value is
    Unknown instead. Listing (``fileset``) and ``fileexists`` tell names only, as before."""
    return any(part.lower() == ".git" for part in (*shown.split("/"), *where.split("/")))


class _Tree:
    """A module's files as fileset's glob asks for them (doublestar.GlobTree), by Terraform
    path: confined as ``file()``'s are, every question through the walk's view."""

    def __init__(self, files: ModuleFiles):
        self.files = files
        self.fs = files.walk.fs

    def resolve(self, shown: str) -> Path | str:
        """Where ``shown`` really is, inside the repository (or the module's package); "loop" or
        "error" (Go's stat fails too) when it cannot be resolved; Refused when outside."""
        physical, within = self.files.physical(shown)
        if within is None and (shown == _INIT or shown.startswith(_INIT + "/")) and self._no_init():
            raise Refused(f"{shown!r} is {_INIT_WHY}")
        try:
            self.fs.resolve(physical)
        except InvalidPathError:
            return "error"
        except (RuntimeError, OSError):
            return "loop"
        try:
            resolved = self.files.walk.confine(physical, f"the path {shown!r}", within, in_git=True)
        except DriftwatchError as error:
            raise Refused(str(error)) from None
        return resolved

    def stat(self, path: str) -> str:
        resolved = self.resolve(path)
        if isinstance(resolved, str):
            return resolved
        kind = self.fs.kind(resolved)
        return kind if kind in ("file", "dir", "missing", "not a directory", "error") else "other"

    def lstat(self, path: str) -> str:
        name = posixpath.basename(path)
        if name in ("", ".", ".."):  # "." or "../..": no link of its own
            kind = self.stat(path)
            return kind if kind in ("file", "dir", "other") else "missing"
        try:
            parent = self.resolve(posixpath.dirname(path) or ".")
        except Refused:  # a fetched package's root, the repository's as "../repo": confined itself
            kind = self.stat(path)
            return kind if kind in ("file", "dir", "other") else "missing"
        if isinstance(parent, str):
            return "missing"
        return self.fs.lstat(parent / name)

    def listdir(self, path: str) -> Listing | None:
        resolved = self.resolve(path)
        if isinstance(resolved, str):
            return None
        listing = self.fs.listing(resolved)
        if listing == "too many":
            raise Refused(
                f"{path!r} holds more than {observe.MAX_LISTING:,} entries (driftwatch's limit per directory)"
            )
        return None if isinstance(listing, str) else listing

    def identity(self, path: str) -> object:
        return self.resolve(path)

    def lacks_init(self, path: str) -> bool:
        """Is ``path`` the root module's directory, without the .terraform that Terraform's has?"""
        resolved = self.resolve(path)
        if not isinstance(resolved, Path) or not self._no_init():
            return False
        return resolved == self.fs.resolve(self.files.walk.root_dir)

    def _no_init(self) -> bool:
        return not self.fs.is_dir(self.files.walk.root_dir / _INIT)


def _problem(problem: DataProblem, shown: str) -> Unknown:
    """A file that was not read: Terraform's error where Terraform has one, else Unknown."""
    if problem.kind == "missing":
        raise FunctionError(_NO_FILE.format(path=shown))
    if problem.kind == "directory":
        raise FunctionError(f"failed to read file: read {shown}: is a directory")
    if problem.kind == "not a directory":
        raise FunctionError(f"open {shown}: not a directory")
    if problem.kind == "unreadable":
        raise FunctionError(f'failed to read file "{shown}": {problem}')
    if problem.kind == "special":
        return Unknown(f"{shown!r} is {problem}, not a regular file; driftwatch does not read it")
    return Unknown(f"{shown!r} is not read: {problem} (driftwatch's limit per file)")
