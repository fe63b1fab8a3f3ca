"""Directories of the repository that declare DynamoDB tables and that no target evaluates.

driftwatch watches the roots its configuration names. A new environment added to the
repository (``envs/qa``) and forgotten in the configuration declares tables that nobody
compares, and every output stays quiet: silence that does not mean "in sync". Argo CD's
ApplicationSet git generator exists for the same reason. So each scan of a configuration also
surveys the repository: a directory is reported when

* it declares DynamoDB tables: a table resource (``aws_dynamodb_table`` and the resources
  driftwatch lists as not evaluated, ``aws_dynamodb_table_replica``...), a remote module whose
  source names DynamoDB (``cloudposse/dynamodb/aws``, ``terraform-aws-modules/dynamodb-table/aws``,
  a git URL with ``dynamo`` in it) or that declared a table where a target called it (the same
  source but its ``?ref=``: ``git::https://github.com/acme/mods.git//tables`` declares tables in
  ``envs/prod``, so ``envs/qa`` calling it does too), or a local module (``./``, ``../``) that
  does, at any depth. Remote modules are not downloaded for the survey: that would be a download
  chosen by repository content for directories nobody asked to watch;
* no module call in the repository calls it (then it is a module, and its caller is the root);
* no target reaches it: neither a target's root nor a local module of one;
* no ``coverage.ignore`` glob matches it or a directory above it (``examples/*``).

The answer is advice, not drift: driftwatch cannot know whether a directory is ever applied,
so it never changes the exit code; it is said in every output and as a metric. Files are read
lexically (``driftwatch.terraform.outline``), bounded per file and in total; a survey cut short
says so, and so does a Terraform file it cannot read (over the per-file limit) in a directory
no target reaches, as a root it could not check would otherwise be a silent one.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from driftwatch.errors import DriftwatchError
from driftwatch.spec import RootNotCovered, SourceLocation
from driftwatch.terraform.outline import BlockHeader, JsonTooDeep, outline, outline_json
from driftwatch.terraform.parse import (
    DEFAULT_MAX_FILE_BYTES,
    LFS_POINTER_REASON,
    is_lfs_pointer,
    read_regular,
)

TABLE_RESOURCES = frozenset(
    {
        "aws_dynamodb_table",
        "aws_dynamodb_table_replica",
        "aws_dynamodb_global_table",
        "awscc_dynamodb_table",
        "awscc_dynamodb_global_table",
    }
)
# Files read in all, and their bytes: a repository of a million files is cut short, and said.
DEFAULT_MAX_FILES = 20_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# Names looked at (files and directories of any kind): a million empty directories cost a
# walk of seconds on every scan; cut short, and said.
DEFAULT_MAX_ENTRIES = 500_000
# Time spent reading: outlining costs ~2 s per MB of files that name a module or DynamoDB, so the
# byte budget alone let a repository hold every scan for minutes while it waited on the survey.
DEFAULT_MAX_SECONDS = 60.0
# Directories no Terraform root lives in, and that can hold hundreds of thousands of files.
_NEVER_ROOTS = frozenset({"node_modules"})
# Shown per reported directory: the declarations that make it one.
_SHOWN = 3


@dataclass(frozen=True)
class Evidence:
    """One declaration that makes a directory declare tables: ``what`` is Terraform's address
    (``aws_dynamodb_table.orders``, ``module.tables``) with the module's source."""

    file: str
    line: int
    what: str


@dataclass
class DirectoryOutline:
    """What the survey keeps of one directory: its own table declarations, its calls of
    local modules (the called directory, relative to the repository, with the call), and its
    calls of remote modules whose address names no DynamoDB (the source, with the call): they
    declare tables if a target's evaluation found tables under the same source."""

    declarations: list[Evidence] = field(default_factory=list)
    calls: list[tuple[str, Evidence]] = field(default_factory=list)
    remote_calls: list[tuple[str, Evidence]] = field(default_factory=list)


@dataclass(frozen=True)
class Survey:
    """The directories read, and why the walk stopped early (None: it did not). ``unread``:
    directories holding a Terraform file that could not be read (over the per-file limit, not a
    regular file), each with the first such file and why."""

    directories: Mapping[str, DirectoryOutline]
    stopped: str | None = None
    unread: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def _local_call(directory: str, source: str) -> str | None:
    """The repository-relative directory a local module source names; None for a remote source
    or one outside the repository (Terraform's local sources start with ``./`` or ``../``)."""
    if not (source.startswith("./") or source.startswith("../")):
        return None
    called = posixpath.normpath(posixpath.join(directory, source))
    if called == ".." or called.startswith("../"):
        return None
    return called


def _names_dynamodb(source: str) -> bool:
    return "dynamo" in source.lower()


def source_key(source: str) -> str:
    """A remote module source without what selects its version (``?ref=v1``): the same module
    at another ref, as one environment calls it while another has moved on."""
    return source.strip().split("?", 1)[0].rstrip("/").lower()


def _remote_subdir(source: str) -> str | None:
    """The ``//subdir`` of a remote source (after its scheme's ``://``, before ``?ref=``), as
    go-getter splits it; None without one. A monorepo often calls its own modules by git URL at
    a ref (``git::https://github.com/acme/infra.git//modules/table?ref=v1``): the directory of
    that name here is the module's code, called, not a root nobody evaluates."""
    scheme = source.find("://")
    start = scheme + 3 if scheme >= 0 else 0
    split = source.find("//", start)
    if split < 0:
        return None
    subdir = posixpath.normpath(source[split + 2 :].split("?", 1)[0])
    return None if subdir in (".", "") or subdir.startswith("..") or subdir.startswith("/") else subdir


def repository_key(address: str) -> str | None:
    """A git repository's address as host and path, to tell whether a module source's
    repository is the scanned checkout's (``origin``): ``git::https://GitHub.com/acme/infra.git``,
    ``git@github.com:acme/infra``, ``ssh://git@github.com/acme/infra`` and the shorthand
    ``github.com/acme/infra`` are all ``github.com/acme/infra``. None for what names no host
    (a registry address ``acme/tables/aws``: another package, never this checkout)."""
    text = address.strip().split("?", 1)[0]
    text = text.removeprefix("git::")
    scheme = text.find("://")
    if scheme >= 0:
        rest = text[scheme + 3 :]
        rest = rest.split("@", 1)[1] if "@" in rest.split("/", 1)[0] else rest
        host, _, path = rest.partition("/")
        host = host.split(":", 1)[0]
    elif re.match(r"^[\w.-]+@[\w.-]+:", text):  # scp-like: git@github.com:acme/infra.git
        host, _, path = text.split("@", 1)[1].partition(":")
    else:
        host, _, path = text.partition("/")
        if "." not in host:
            return None
    path = path.strip("/").removesuffix(".git").strip("/")
    return f"{host.lower()}/{path.lower()}" if host and path else None


@dataclass(frozen=True)
class Checkout:
    """The scanned repository as module sources may name it: its ``origin`` (repository_key;
    None: unknown) and where ``repo`` lies in it (a source's ``//subdir`` counts from the top)."""

    origin: str | None
    subdir: str = ""

    def local(self, source: str, subdir: str) -> str | None:
        """The directory of ``repo`` that a remote source's ``//subdir`` names when the source
        is this checkout (an unknown origin: any source may be), else None."""
        if self.origin is not None:
            split = source.find("//", source.find("://") + 3 if "://" in source else 0)
            if repository_key(source[:split] if split >= 0 else source) != self.origin:
                return None
        prefix = self.subdir.strip("/")
        if not prefix:
            return subdir
        if subdir == prefix:
            return "."
        return subdir[len(prefix) + 1 :] if subdir.startswith(prefix + "/") else None


def outline_directory(
    directory: str, files: Mapping[str, list[BlockHeader]], checkout: Checkout | None = None
) -> DirectoryOutline:
    """One directory's outline from its files' top-level blocks (file name -> blocks).
    ``checkout``: which remote sources' ``//subdir`` name a directory here (None: any, as is)."""
    found = DirectoryOutline()
    for name in sorted(files):
        file = name if directory == "." else f"{directory}/{name}"
        for block in files[name]:
            if block.kind == "resource" and len(block.labels) == 2 and block.labels[0] in TABLE_RESOURCES:
                found.declarations.append(Evidence(file, block.line, ".".join(block.labels)))
            elif block.kind == "module" and len(block.labels) == 1 and block.source is not None:
                evidence = Evidence(file, block.line, f"module.{block.labels[0]} from {block.source}")
                called = _local_call(directory, block.source)
                if called is not None:
                    found.calls.append((called, evidence))
                    continue
                if _names_dynamodb(block.source):
                    found.declarations.append(evidence)
                else:
                    found.remote_calls.append((block.source, evidence))
                subdir = _remote_subdir(block.source)
                if subdir is not None and checkout is not None:
                    subdir = checkout.local(block.source, subdir)
                if subdir is not None:
                    found.calls.append((subdir, evidence))
    return found


def ignored(directory: str, ignore: Sequence[str]) -> bool:
    """A glob matches the directory or one above it (``examples/*`` and ``examples`` both cover
    ``examples/complete/modules``)."""
    parts = directory.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(prefix, glob) for prefix in prefixes for glob in ignore)


def _declaring(
    survey: Survey, table_sources: Collection[str]
) -> tuple[dict[str, list[Evidence]], dict[str, list[tuple[str, Evidence]]]]:
    """Every directory that declares tables, through local modules at any depth, with what
    makes it one; and each called directory's callers."""
    directories = survey.directories
    known = {source_key(source) for source in table_sources}
    own: dict[str, list[Evidence]] = {
        name: [
            *outline_of.declarations,
            *(evidence for source, evidence in outline_of.remote_calls if source_key(source) in known),
        ]
        for name, outline_of in directories.items()
    }
    # Which directories declare tables, through local modules at any depth: from each
    # declaring directory to its callers, once each (cycles included).
    callers: dict[str, list[tuple[str, Evidence]]] = {}
    for name, outline_of in directories.items():
        for called_name, evidence in outline_of.calls:
            callers.setdefault(called_name, []).append((name, evidence))
    declares: dict[str, list[Evidence]] = {name: list(found) for name, found in own.items() if found}
    pending = list(declares)
    while pending:
        for caller, evidence in callers.get(pending.pop(), ()):
            if caller not in declares:
                declares[caller] = []
                pending.append(caller)
            if not own.get(caller):
                declares[caller].append(evidence)
    return declares, callers


def roots_not_covered(
    survey: Survey,
    target_roots: Iterable[str],
    ignore: Sequence[str] = (),
    table_sources: Collection[str] = (),
) -> list[RootNotCovered]:
    """The directories that declare tables, are no module of another and no target reaches
    (see the module's docstring), each with what it declares; and the survey's early stop, if
    any. ``table_sources``: the remote sources under which the targets' evaluations declared
    tables (``TargetDeclarations.table_sources``). Pure: a function of the survey's outlines."""
    return _not_covered(survey, *_declaring(survey, table_sources), target_roots, ignore)


def _not_covered(
    survey: Survey,
    declares: Mapping[str, list[Evidence]],
    callers: Mapping[str, list[tuple[str, Evidence]]],
    target_roots: Iterable[str],
    ignore: Sequence[str],
) -> list[RootNotCovered]:
    directories = survey.directories
    covered: set[str] = set()
    pending = [posixpath.normpath(root) for root in target_roots]
    while pending:
        name = pending.pop()
        if name in covered:
            continue
        covered.add(name)
        reached = directories.get(name)
        if reached is not None:
            pending.extend(target for target, _ in reached.calls)
    found: list[RootNotCovered] = []
    for name in sorted(declares.keys() | survey.unread.keys()):
        if name in covered or name in callers or ignored(name, ignore):
            continue
        if name not in declares:
            # A file that could not be read may declare tables: unknown, so said, not silence.
            file, why = survey.unread[name]
            reason = (
                f"{file} could not be read ({why}): whether it declares DynamoDB tables, which no "
                "target evaluates, is not known"
            )
            found.append(RootNotCovered(path=name, source=SourceLocation(file, 1), reason=reason))
            continue
        what = declares[name]
        shown = ", ".join(f"{e.what} at {e.file}:{e.line}" for e in what[:_SHOWN])
        more = f" and {len(what) - _SHOWN} more" if len(what) > _SHOWN else ""
        found.append(
            RootNotCovered(
                path=name,
                source=SourceLocation(what[0].file, what[0].line),
                reason=f"declares DynamoDB tables ({shown}{more}) and no target evaluates this directory",
            )
        )
    if survey.stopped is not None:
        found.append(RootNotCovered(path="", source=None, reason=survey.stopped))
    return found


@dataclass(frozen=True)
class RepoSurvey:
    """What a scan needs to survey its repository: the repository, every configured target's
    root relative to it (all of them, also when ``--target`` scans fewer: the others are still
    watched), and the ``coverage.ignore`` globs."""

    repo: Path
    roots: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    checkout: Checkout | None = None  # which remote sources are this repository (None: any)

    def run(self, table_sources: Collection[str] = ()) -> list[RootNotCovered]:
        """The roots not covered (``table_sources``: see ``roots_not_covered``)."""
        return self.judge(self.walk(), table_sources)[0]

    def walk(self) -> Survey | list[RootNotCovered]:
        """The repository read (the costly part, which a scan runs beside the evaluation); the
        survey's whole answer instead when it is off (``["*"]``: nothing is walked) or failed."""
        if any(glob and set(glob) == {"*"} for glob in self.ignore):
            return []
        try:
            return survey_repository(self.repo, checkout=self.checkout)
        except Exception as error:  # a survey is advice: it must never cost the scan
            return _failed(error)

    def judge(
        self, walked: Survey | list[RootNotCovered], table_sources: Collection[str] = ()
    ) -> tuple[list[RootNotCovered], frozenset[str] | None]:
        """From ``walk``'s answer and what the targets declared: the roots not covered (a survey
        that fails in any way says so as one entry, and the scan goes on), and every directory
        that declares tables or may (a file could not be read), covered or not -- one announced
        as not covered that is no longer among them left the repository, or its tables did, and
        is not "watched again" (driftwatch.notify.coverage.Listing). None: the survey is off or
        failed."""
        if not isinstance(walked, Survey):
            return walked, None
        try:
            declares, callers = _declaring(walked, table_sources)
            not_covered = _not_covered(walked, declares, callers, self.roots, self.ignore)
        except Exception as error:
            return _failed(error), None
        return not_covered, frozenset(declares.keys() | walked.unread.keys())


def _failed(error: Exception) -> list[RootNotCovered]:
    return [RootNotCovered(path="", source=None, reason=f"the repository survey failed ({error!r})")]


class _Budget(DriftwatchError):
    pass


def survey_repository(
    repo: Path,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    checkout: Checkout | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Survey:
    """Every directory of ``repo`` with Terraform files, outlined. Hidden directories
    (``.git``, ``.terraform``: Terraform's own module copies) and ``node_modules`` are skipped, symlinked
    directories are not followed, a symlinked file is read only inside the repository, and a
    file that cannot be read (too large, a FIFO) is kept in ``Survey.unread``: it may declare
    tables, so a directory no target reaches is named for it rather than passed over."""
    directories: dict[str, DirectoryOutline] = {}
    unread: dict[str, tuple[str, str]] = {}
    budget = _ReadBudget(max_files, max_bytes, max_seconds, clock)
    unlisted: dict[str, str] = {}  # directories that could not be listed -> why
    root = repo.resolve()
    seen = 0

    try:
        for path, subdirectories, names in _walk(root, unlisted):
            subdirectories[:] = sorted(
                d for d in subdirectories if not d.startswith(".") and d not in _NEVER_ROOTS
            )
            here = Path(path)
            relative = here.relative_to(root).as_posix()
            seen += len(subdirectories) + len(names)
            if seen > max_entries:
                raise _Budget(
                    f"the repository survey stopped in {relative}: over {max_entries} files and "
                    "directories looked at; directories after it were not checked for tables no "
                    "target evaluates"
                )
            files: dict[str, list[BlockHeader]] = {}
            for name in sorted(names):
                if not (name.endswith(".tf") or name.endswith(".tf.json")):
                    continue
                blocks = _read_blocks(here / name, root, budget, max_file_bytes)
                if isinstance(blocks, str):
                    file = name if relative == "." else f"{relative}/{name}"
                    unread.setdefault(relative, (file, blocks))
                elif blocks:
                    files[name] = blocks
            if files:
                found = outline_directory(relative, files, checkout)
                if found.declarations or found.calls or found.remote_calls:
                    directories[relative] = found
    except _Budget as stop:
        return Survey(directories, str(stop), {**_unlisted(unlisted, root), **unread})
    return Survey(directories, None, {**_unlisted(unlisted, root), **unread})


def _unlisted(unlisted: Mapping[str, str], root: Path) -> dict[str, tuple[str, str]]:
    """Directories that could not be listed, as unread: they may declare tables."""
    found: dict[str, tuple[str, str]] = {}
    for path, why in unlisted.items():
        relative = Path(path).relative_to(root).as_posix()
        found[relative] = (relative, f"the directory cannot be listed: {why}")
    return found


def _walk(root: Path, unlisted: dict[str, str]) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(root)`` top-down, symlinked directories listed and not followed, a directory
    that cannot be listed kept in ``unlisted`` with why (it may declare tables), without
    recursion: Python 3.11's os.walk recurses once per level, and a tree deeper than the
    interpreter's recursion limit (1,500 levels is a path of 3,000 characters) raised
    RecursionError, which lost the whole survey. The caller may prune the directories list, as
    with os.walk; they are walked in its order."""
    pending = [str(root)]
    while pending:
        top = pending.pop()
        directories: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    try:
                        is_directory = entry.is_dir()
                    except OSError:
                        is_directory = False
                    (directories if is_directory else files).append(entry.name)
        except FileNotFoundError:  # gone since its parent was listed
            continue
        except OSError as error:
            unlisted[top] = error.strerror or str(error)
            continue
        yield top, directories, files
        for name in reversed(directories):
            path = os.path.join(top, name)
            if not os.path.islink(path):
                pending.append(path)


class _ReadBudget:
    """The survey's budget for reading files: their number, their bytes and the time taken."""

    def __init__(self, max_files: int, max_bytes: int, max_seconds: float, clock: Callable[[], float]):
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.clock = clock
        self.deadline = clock() + max_seconds
        self.files = 0
        self.bytes = 0

    def exceeded(self) -> str | None:
        """What is spent, in the survey's words, or None while there is budget left."""
        if self.files >= self.max_files or self.bytes >= self.max_bytes:
            return f"over {self.max_files} Terraform files or {self.max_bytes} bytes read"
        if self.clock() > self.deadline:
            return f"it took longer than {self.max_seconds:g} s"
        return None


def _read_blocks(path: Path, root: Path, budget: _ReadBudget, max_file_bytes: int) -> list[BlockHeader] | str:
    """The file's top-level blocks; why it could not be read (a string) where it exists and
    cannot be (over the per-file limit, not a regular file, a link loop): it may declare tables.
    A link out of the repository is not read, by design, and says nothing."""
    spent = budget.exceeded()
    if spent is not None:
        where = path.relative_to(root).as_posix()
        raise _Budget(
            f"the repository survey stopped at {where}: {spent}; directories after it were not "
            "checked for tables no target evaluates"
        )
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            return []
        data = read_regular(path, path.name, max_file_bytes)
    except FileNotFoundError:
        return []  # gone since the directory was listed (a dangling link, a checkout moving)
    except (OSError, DriftwatchError, RuntimeError) as error:  # RuntimeError: a symlink loop
        return str(getattr(error, "message", None) or getattr(error, "strerror", None) or error)
    budget.files += 1
    budget.bytes += len(data)
    if is_lfs_pointer(data):  # what it declares is in LFS, not in the checkout
        return f"the file {LFS_POINTER_REASON}"
    text = data.decode("utf-8", errors="replace")
    lowered = text.lower()
    if "module" not in lowered and "dynamodb" not in lowered:
        return []
    if not path.name.endswith(".json"):
        return outline(text)
    try:
        return outline_json(text)
    except JsonTooDeep as error:
        return str(error)
