"""Walks a Terraform root module and its local child modules and finds the tables they declare.

Terraform semantics reproduced here, because each changes which table git declares:
variable precedence (default < TF_VAR_ < terraform.tfvars < terraform.tfvars.json <
*.auto.tfvars in lexical order < -var-file < -var), type conversion with ``optional()``
defaults, locals in any order (lazily, cycles reported), module ``count``/``for_each`` with
Terraform's addresses, outputs of local modules, the CloudPosse label module's outputs, and
the ``provider "aws"`` region, tags and account of the root's blocks and of child modules' own
(resolved as Terraform does: driftwatch.terraform.providers).

Everything is evaluated lazily and memoised per scan: a local or output is computed only when
a table needs it, once. A scanned repository can never make driftwatch read outside its root:
module sources and var files that resolve elsewhere (``..``, absolute paths, symlinks) are
refused.

Remote module sources (registry, git, archives) are walked like local modules once fetched
(driftwatch.terraform.sources; modules.json of ``terraform init`` first, see
driftwatch.terraform.remote), each confined to its own package. A module call or resource that
may declare tables and cannot be evaluated is a NotEvaluated entry with its reason, never
silently skipped.

Across scans, a target's declarations are reused while nothing they were evaluated from has
changed: the walk reaches the filesystem only through a FileSystemView, which records every
question it asked so that the memo (driftwatch.terraform.memo) can ask them again.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from driftwatch import accounts
from driftwatch.bounds import is_valid_text, safe_text
from driftwatch.errors import DriftwatchError
from driftwatch.spec import (
    AccountBinding,
    DeclaredTable,
    Maybe,
    NotEvaluated,
    PartlyListed,
    Rejection,
    SourceLocation,
    TagFilter,
    TargetError,
    Unknown,
    Unresolved,
    first_unknown,
)
from driftwatch.terraform import (
    appautoscaling,
    cloudposse,
    cloudposse_autoscaler,
    data_sources,
    limits,
    table_features,
    tfjson,
    validate_table,
)
from driftwatch.terraform import cache as module_cache
from driftwatch.terraform import providers as provider_rules
from driftwatch.terraform.addresses import local_path, redact, version_refusal
from driftwatch.terraform.data_files import GIT_DIRECTORY_REASON, ModuleFiles, in_git_directory
from driftwatch.terraform.evaluate import (
    PATH_CWD,
    EvaluationError,
    NotConstant,
    Scope,
    evaluate,
    evaluate_text,
)
from driftwatch.terraform.expansion import ExpansionError, count_instances, for_each_items, instance_key
from driftwatch.terraform.functions import TfSet, is_number, nfc, to_string
from driftwatch.terraform.label import build_label, label_outputs
from driftwatch.terraform.locations import module_call_locations, resource_locations
from driftwatch.terraform.memo import frozen_key
from driftwatch.terraform.observe import FileSystemView, InvalidPathError
from driftwatch.terraform.override import is_override_file, merge_overrides
from driftwatch.terraform.parse import (
    Block,
    HclSyntaxError,
    ParseCache,
    ParsedFile,
    body_items,
    cyclic_gc_paused,
    file_blocks,
    origin_of,
    parse_json,
)
from driftwatch.terraform.providers import ProviderConfig
from driftwatch.terraform.references import resource_references, whole_values_unknown
from driftwatch.terraform.remote import (
    DYNAMODB_RELEASES,
    LABEL_RELEASES,
    admitted,
    cloudposse_plan,
    same_source,
)
from driftwatch.terraform.resource import ResourceDeclaration, resource_to_spec, uncompared_arguments
from driftwatch.terraform.sources import Fetcher, NotFetched, Package
from driftwatch.terraform.target import TargetDeclarations, TargetInput
from driftwatch.terraform.terragrunt import FILE_NAME as terragrunt_file
from driftwatch.terraform.terragrunt import TerragruntRoot, read_root, unknown_reason
from driftwatch.terraform.types import (
    ANY,
    REFUSED_TYPE,
    InvalidTypeConstraint,
    TypeConversionError,
    TypeSpec,
    convert,
    parse_type,
    string_bool,
)

MAX_MODULE_DEPTH = 32
# Bounds on what one target may make driftwatch do (see driftwatch.terraform.limits): far above
# real configurations, far below what a hostile repository needs to exhaust memory or time.
# A remote module source longer than this is no evidence for the repository survey (a hostile
# 5,000-character source is a module call's error anyway; the set stays small).
MAX_TABLE_SOURCE_CHARS = 2048
MAX_INSTANCES = 10_000  # instances of one count / for_each (AWS allows 2,500 tables per region)
MAX_MODULE_INSTANCES = 5_000  # local module instances in one target (fan-out grows exponentially)
MAX_TARGET_TOKENS = 2_000_000  # tokens of .tf files parsed for one target (~7 MB of HCL)
# .tf files read for one target: each costs a parsed tree and its cache entry, however small
# (60,000 one-line files held ~500 MB). The 2,000-file benchmark repository is one fifth of it.
MAX_TARGET_FILES = 10_000
MAX_TARGET_BYTES = 64 * 1024 * 1024  # bytes of .tf and var files read for one target
_MODULE_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
_RESOURCE_META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on"})
_PRIMITIVE_TYPES = frozenset({"string", "number", "bool"})


class OutsideRepositoryError(DriftwatchError):
    """A path from the scanned repository that resolves outside the repository root (or that
    cannot be resolved at all: a symlink loop)."""


def _is_local_source(source: str) -> bool:
    """Local module paths (``./x``, ``../x`` and Terraform's Windows spellings ``.\\x``,
    ``..\\x``); an absolute path counts too, so that it is confined (and refused)."""
    return local_path(source) is not None or source.startswith("/")


class _Walk:
    """Per-target state shared by all module instances: parse cache, errors, loaded directories."""

    def __init__(self, target: TargetInput, cache: ParseCache, fs: FileSystemView):
        self.target = target
        self.fs = fs
        self.repo = fs.resolve(target.repo)
        self.cache = cache
        self.errors: list[TargetError] = []
        self._files: dict[Path, list[ParsedFile]] = {}
        self._blocks: dict[Path, list[tuple[Block, str]]] = {}  # directory -> its merged blocks
        self.var_files: list[str] = []  # var files of the root that were read, relative to the repo
        # Directories with a file that could not be read: their variable list is incomplete,
        # so an input "not declared" there is a consequence, not a second error to report.
        self.incomplete: set[Path] = set()
        self._rel: dict[Path, str] = {}
        self.tokens = 0  # parsed for this target, against MAX_TARGET_TOKENS
        self.files = 0  # .tf files read for this target, against MAX_TARGET_FILES
        self.module_instances = 0  # against MAX_MODULE_INSTANCES
        # Variable types by id() of their block (kept, so the id cannot be reused meanwhile).
        self.types: dict[int, tuple[Block, TypeSpec]] = {}
        self._file_rels: dict[Path, frozenset[str]] = {}
        self._inputs: dict[tuple[Path, ...], tuple[str, ...]] = {}
        # Files the file functions read, by the directory of the module instance that read them.
        self.data_files: dict[Path, set[str]] = {}
        self._limits_reported: set[str] = set()
        self.fetcher = Fetcher(target.modules, target.env)
        self.environment_tags = provider_rules.EnvironmentTags.read(target.env)
        self.not_evaluated: list[NotEvaluated] = []
        self.volatile = False
        self.packages: dict[Path, str] = {}  # package root -> how its files are named in reports
        self._manifest: dict[str, tuple[str, str | None, str]] | None = None
        self._fetched: dict[tuple[str, str | None], Package | str] = {}
        self.root_dir: Path = self.repo
        self.terragrunt: TerragruntRoot | None = None  # the root's terragrunt.hcl, when it has one
        # The values of each choice of credentials of a provider block -> its number
        # (AccountBinding.credentials_choice); the values stay here, never in a result.
        self.credential_choices: dict[str, int] = {}

    def package_root_of(self, directory: Path) -> Path:
        """The fetched package a directory belongs to, else the repository (what confines it)."""
        for root in self.packages:
            if directory == root or root in directory.parents:
                return root
        return self.repo

    def skip(self, address: str, location: SourceLocation, reason: str) -> None:
        """A module call or resource that may declare tables and is not evaluated (said, counted)."""
        self.not_evaluated.append(NotEvaluated(self.target.name, address, location, reason))

    def manifest(self) -> dict[str, tuple[str, str | None, str]]:
        """``.terraform/modules/modules.json`` of the root (a CI job that ran ``terraform init``):
        module key -> (source, version, directory relative to the root). Empty when absent."""
        if self._manifest is None:
            self._manifest = {}
            path = self.root_dir / ".terraform" / "modules" / "modules.json"
            if self.fs.is_file(path):
                try:
                    data = parse_json(self.fs.read(self.confine(path, "modules.json"), self.rel(path))[0], "")
                except (HclSyntaxError, OutsideRepositoryError):
                    data = None
                modules = data.get("Modules") if isinstance(data, dict) else None
                for entry in modules if isinstance(modules, list) else []:
                    if isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("Key", "Dir")):
                        version = entry.get("Version")
                        self._manifest[entry["Key"]] = (
                            str(entry.get("Source") or ""),
                            version if isinstance(version, str) and version else None,
                            entry["Dir"],
                        )
        return self._manifest

    def package(self, key: str, source: str, version: str | None) -> Package | str:
        """The module of a non-local call: from modules.json when it holds this call with the
        same source (and a version the constraint admits), else fetched; else the reason."""
        entry = self.manifest().get(key)
        if entry is not None and same_source(entry[0], source) and admitted(entry[1], version):
            try:
                directory = self.confine(self.root_dir / entry[2], f"modules.json directory {entry[2]!r}")
            except OutsideRepositoryError as error:
                return str(error)
            if self.fs.is_dir(directory):
                return Package(directory, directory, entry[1], self.rel(directory))
        memo = (source, version)
        if memo not in self._fetched:  # once per walk: 50 instances of a parent fetch once
            try:
                found = self.fetcher.fetch(source, version)
            except NotFetched as error:
                if not self.target.modules.offline:
                    self.volatile = True
                self._fetched[memo] = str(error)
            else:
                self.packages.setdefault(found.root, found.label)
                self._fetched[memo] = found
        return self._fetched[memo]

    def limit_error(self, kind: str, message: str, file: str | None = None, line: int | None = None) -> None:
        """A limit that stops part of the walk is reported once, not once per expression it stops."""
        if kind not in self._limits_reported:
            self._limits_reported.add(kind)
            self.error(message, file, line)

    def admit_file(self, rel: str) -> bool:
        """Count one more file (.tf or var file) read for this target; False, reported once,
        past MAX_TARGET_FILES or MAX_TARGET_BYTES (var files are not token-counted)."""
        if self.files >= MAX_TARGET_FILES:
            self.limit_error(
                "files",
                f"the target has more than {MAX_TARGET_FILES:,} Terraform files (driftwatch's "
                "limit per target); the remaining files are not read",
                rel,
            )
            return False
        if self.fs.bytes_read > MAX_TARGET_BYTES:
            self.limit_error(
                "bytes",
                f"the target's Terraform files hold more than {MAX_TARGET_BYTES:,} bytes (driftwatch's "
                "limit per target); the remaining files are not read",
                rel,
            )
            return False
        self.files += 1
        return True

    def limit(self, error: EvaluationError, file: str | None, line: int | None) -> None:
        """An evaluator limit; an exhausted budget is reported once (every later step fails too)."""
        if isinstance(error, limits.BudgetExceeded):
            if error.budget.reported:
                return
            error.budget.reported = True
        self.error(str(error), file, line)

    def rel(self, path: Path) -> str:
        """``path`` relative to the repository, for reports (memoised: resolving costs syscalls,
        and every expression's scope names its module's path)."""
        known = self._rel.get(path)
        if known is None:
            known = self._rel[path] = self._relative(path)
        return known

    def confine(self, path: Path, what: str, within: Path | None = None, *, in_git: bool = False) -> Path:
        """``path`` fully resolved (symlinks too) if it stays inside the repository (or the fetched
        package ``within``), and out of its ``.git`` directories unless ``in_git`` (the file
        functions, which tell names and existence there and refuse contents themselves); else
        refuse it. Resolved through the walk's view of the filesystem: once per path, and
        recorded."""
        try:
            resolved = self.fs.resolve(path)
        except InvalidPathError as error:  # too long, a NUL byte: it used to lose the whole target
            raise OutsideRepositoryError(f"{what} is not a path driftwatch can read ({error})") from None
        except (RuntimeError, OSError):  # a symlink loop (too many levels of links)
            raise OutsideRepositoryError(f"{what} is a symlink loop and is not read") from None
        root = within if within is not None else self.repo
        if resolved != root and root not in resolved.parents:
            where = "the repository root" if within is None or within == self.repo else "its module package"
            raise OutsideRepositoryError(f"{what} resolves outside {where} and is not read")
        if not in_git and in_git_directory("", resolved.relative_to(root).as_posix()):  # e.g. .git/config
            raise OutsideRepositoryError(f"{what} {GIT_DIRECTORY_REASON}")
        return resolved

    def _relative(self, path: Path) -> str:
        try:
            resolved: Path | None = self.fs.resolve(path)
        except (RuntimeError, OSError):  # a symlink loop
            resolved = None
        if resolved is not None:
            try:
                return str(resolved.relative_to(self.repo))
            except ValueError:
                pass
            for root, label in self.packages.items():  # a fetched module's file: "<source>@<version>/x.tf"
                if resolved == root or root in resolved.parents:
                    inner = str(resolved.relative_to(root))
                    return label if inner == "." else f"{label}/{inner}"
        try:  # where it is written: a symlink out of the repository, or a path with ../
            return str(path.relative_to(self.repo))
        except ValueError:
            return str(path)

    def error(
        self, message: str, file: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        self.errors.append(TargetError(self.target.name, message, file, line or None, column or None))

    def error_once(self, message: str, file: str | None, line: int | None) -> None:
        """An error of what a module's text says (not of one instance's values): said once,
        however many instances of the module evaluate it."""
        if not any((e.message, e.file, e.line) == (message, file, line or None) for e in self.errors):
            self.error(message, file, line)

    def inputs(self, stack: tuple[Path, ...]) -> tuple[str, ...]:
        """The files of the modules on ``stack``, the root's var files (read before any table is
        collected) and the files those modules' file functions read so far, sorted. A table is
        collected right after its evaluation, so what its evaluation read is there; the .tf
        part is computed once per stack, as every table of a module instance shares it."""
        known = self._inputs.get(stack)
        if known is None:
            files = set(self.var_files)
            for directory in stack:
                rels = self._file_rels.get(directory)
                if rels is None:
                    rels = self._file_rels[directory] = frozenset(f.rel for f in self.module_files(directory))
                files |= rels
            known = self._inputs[stack] = tuple(sorted(files))
        data = set().union(*(self.data_files.get(directory, ()) for directory in stack))
        return tuple(sorted(data.union(known))) if data else known

    def note_data_file(self, directory: Path, rel: str) -> None:
        """A file function of the module instance in ``directory`` read (or looked for) ``rel``."""
        self.data_files.setdefault(directory, set()).add(rel)

    def module_blocks(self, directory: Path) -> list[tuple[Block, str]]:
        """The top-level blocks of a module directory with the file each is listed in, once its
        override files are merged into the primary files' blocks as Terraform merges them
        (driftwatch.terraform.override). Once per directory: what an override gets wrong is
        reported once, however many instances the module has."""
        known = self._blocks.get(directory)
        if known is None:
            primary: list[tuple[Block, str]] = []
            overrides: list[tuple[list[Block], str]] = []
            for parsed in self.module_files(directory):
                if is_override_file(parsed.path.name):
                    overrides.append((file_blocks(parsed), parsed.rel))
                else:
                    primary.extend((block, parsed.rel) for block in file_blocks(parsed))
            known, problems = merge_overrides(primary, overrides)
            for problem in problems:
                self.error(problem.message, problem.file, problem.line)
            self._blocks[directory] = known
        return known

    def module_files(self, directory: Path) -> list[ParsedFile]:
        """Parsed ``.tf`` and ``.tf.json`` files of a directory, in lexical order (Terraform's);
        a file that fails to parse is reported and skipped.

        ``directory`` is resolved (confined), so only a symlink in it needs resolving and
        confining: a plain file's path is already its real path."""
        if directory not in self._files:
            parsed: list[ParsedFile] = []
            directory_rel = self.rel(directory)
            unlisted = self.fs.unlisted(directory)
            if unlisted is not None:  # Terraform: "Module directory … cannot be read"
                self.error(
                    f"the module directory cannot be listed ({unlisted}): its files are not read",
                    directory_rel,
                )
                self.incomplete.add(directory)
            for name, is_symlink in self.fs.entries(directory):
                if not _configuration_file(self.fs, directory, name, is_symlink):
                    continue
                path = directory / name
                if not is_valid_text(name):
                    shown = safe_text(name)
                    where = shown if directory_rel == "." else f"{safe_text(directory_rel)}/{shown}"
                    self.error(f"the file name '{shown}' is not valid UTF-8; the file is not read", where)
                    self.incomplete.add(directory)
                    continue
                if is_symlink:
                    rel = self.rel(path)
                else:
                    rel = self._rel[path] = name if directory_rel == "." else f"{directory_rel}/{name}"
                if not self.admit_file(rel):
                    self.incomplete.add(directory)
                    break
                if self.tokens > MAX_TARGET_TOKENS:
                    self.limit_error(
                        "tokens",
                        f"the target's Terraform files hold more than {MAX_TARGET_TOKENS:,} tokens "
                        "(driftwatch's limit per target); the remaining files are not read",
                        rel,
                    )
                    self.incomplete.add(directory)
                    break
                try:
                    if is_symlink:
                        self.confine(path, rel, self.package_root_of(directory))
                    parsed.append(self.cache.parse_source(path, rel, *self.fs.read(path, rel)))
                    self.tokens += parsed[-1].tokens
                except HclSyntaxError as error:
                    self.error(error.message, error.file, error.line, error.column)
                    self.incomplete.add(directory)
                except OutsideRepositoryError as error:
                    self.error(str(error), self.rel(path))
                    self.incomplete.add(directory)
            self._files[directory] = parsed
        return self._files[directory]


class LazyValues(Mapping[str, Any]):
    """Named expressions evaluated on first access and memoised; cycles become Unknown.

    Used for ``local.*`` and module outputs, so that locals can be written in any order
    (evaluation follows references, which is dependency order) and a cycle is reported once
    with its path instead of recursing forever.
    """

    def __init__(
        self,
        kind: str,
        expressions: Mapping[str, tuple[Any, str]],
        scope_of: Any,
        walk: _Walk,
        known: Mapping[str, Any] | None = None,
    ):
        self._kind = kind
        self._expressions = expressions  # name -> (AttributeRule, file)
        self._scope_of = scope_of
        self._walk = walk
        self._values: dict[str, Any] = dict(known or {})  # known: not evaluated (refused)
        self._in_progress: list[str] = []

    def __getitem__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name not in self._expressions:
            raise KeyError(name)
        attribute, file = self._expressions[name]
        if name in self._in_progress:
            cycle = " -> ".join([*self._in_progress[self._in_progress.index(name) :], name])
            self._walk.error(f"cycle in {self._kind}: {cycle}", origin_of(attribute, file), _line(attribute))
            return Unknown(f"{self._kind}.{name} is part of a cycle ({cycle})")
        self._in_progress.append(name)
        try:
            value = _evaluate_attribute(attribute, self._scope_of(file), self._walk, file)
        finally:
            self._in_progress.pop()
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._expressions)

    def __len__(self) -> int:
        return len(self._expressions)


def _line(attribute: Any) -> int:
    from driftwatch.terraform.parse import node_line

    return node_line(attribute)


_TARGET_SCOPE = "target"  # the name of the target's budget (see _evaluate_attribute)


def _evaluate_attribute(attribute: Any, scope: Scope, walk: _Walk, file: str) -> Any:
    """Evaluate an attribute's expression; a hard evaluator limit becomes an error and Unknown.

    An attribute merged from an override file is reported in that file (``origin_of``), not in
    the file of the block it was merged into.

    Evaluated outside any table (a variable's default or validation, a var file's value, a
    provider's region, the count, for_each or inputs of a call), it has a step budget of its
    own inside the target's (VALUE_STEPS, half of it), as a table has: a loop of 10^9
    iterations there spent the whole target's budget, and every table of the target was
    Unknown."""
    own = origin_of(attribute, file)
    if own != file:
        file, scope = own, Scope(scope.names, own, scope.files)
    outside_tables = getattr(limits.current(), "scope", None) == _TARGET_SCOPE
    try:
        if outside_tables:
            with limits.budget(limits.VALUE_STEPS, "value"):
                return evaluate(attribute.expression, scope)
        return evaluate(attribute.expression, scope)
    except NotConstant as refusal:
        line = refusal.line or _line(attribute)
        walk.error_once(f"{refusal.message} (Terraform refuses the configuration)", file, line)
        return Unknown(f"{file}:{line}: {refusal.message}")
    except EvaluationError as error:
        line = getattr(error, "line", None) or _line(attribute)
        walk.limit(error, file, line)
        return Unknown(f"{file}:{line}: {error}")
    except Exception as error:  # anything else the expression makes Python raise: this value only
        line = _line(attribute)
        walk.error(f"cannot evaluate this expression ({_describe(error)})", file, line)
        return Unknown(f"{file}:{line}: cannot evaluate ({type(error).__name__})")


def _describe(error: Exception) -> str:
    """An unexpected exception, as a short message (its text may quote repository content)."""
    if isinstance(error, MemoryError):
        return "out of memory"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    text = safe_text(str(error), 200)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ModuleInstance:
    """One instance of a module directory, with its variables bound, evaluated lazily."""

    def __init__(
        self,
        walk: _Walk,
        directory: Path,
        address: str,
        inputs: Mapping[str, Any] | None,
        caller: str | None,
        providers: Mapping[str | None, ProviderConfig],
        stack: tuple[Path, ...] = (),
        input_sources: Mapping[str, SourceLocation] | None = None,
        module_path: str = ".",
        *,
        package_root: Path | None = None,
        anchor: SourceLocation | None = None,
        anchor_source: str | None = None,
        key: tuple[str, ...] = (),
    ):
        self.walk = walk
        # Where each variable's value is written: the tfvars line (root) or the line of the
        # module call's argument (child), for attribute-level locations; see written_at.
        self.variable_sources: dict[str, SourceLocation] = {}
        self._input_sources = input_sources or {}
        self._assignment_lines: dict[tuple[str, str], int] = {}
        self.directory = directory
        # path.module as Terraform computes it: the call's source joined to the caller's, lexically.
        self.module_path = module_path
        self.address = address
        self.caller = caller
        self._providers = providers
        # False until the caller has resolved the providers (after the module's own provider
        # blocks are evaluated, in this module's scope): data sources wait for it.
        self.providers_resolved = False
        # Where its first own provider configuration is written (a legacy module, which
        # Terraform refuses under count / for_each / depends_on); None: it has none.
        self.legacy: SourceLocation | None = None
        # Instances of its module calls Terraform refuses (a providers map overriding the
        # module's own provider configuration): address -> why, listed as not evaluated.
        self.refusals: dict[str, str] = {}
        self.stack = (*stack, directory)
        # The tree local sources may not leave: the repository, or the fetched package.
        self.package_root = package_root if package_root is not None else walk.repo
        # Inside a fetched module: the call in the repository that leads there, which is where
        # its tables are reported (the module's own files are not in the repository).
        self.anchor = anchor
        self.anchor_source = anchor_source  # that call's source, as written
        self.key = key  # module names from the root (modules.json's Key)
        # What its file functions read through; a module fetched out of the repository (the
        # module cache) reads from its package, confined to it. One in the root's .terraform is
        # in the repository, where Terraform reads it too.
        inside = self.package_root == walk.repo or walk.repo in self.package_root.parents
        fetched = None if inside else self.package_root
        self.file_reader = ModuleFiles(walk, module_path, directory, fetched, MAX_TARGET_BYTES)
        self._packages: dict[str, Package | str] = {}
        self._cloudposse: dict[str, str | Package] = {}
        self._inputs_checked: set[str] = set()  # emulated calls whose input names were checked
        self.files = walk.module_files(directory)
        self.blocks: list[tuple[Block, str]] = walk.module_blocks(directory)
        # aws_dynamodb_table.t.name and the like: configuration copied into resource attributes.
        self.resources = resource_references(self.blocks, address, self._expand, self._reference_value)
        # data.aws_region.current.name and the like: what the provider's configuration fixes.
        self.data_sources = data_sources.DataSources(
            {
                (block.labels[0], block.labels[1]): (block, file)
                for block, file in self.blocks
                if block.type == "data" and len(block.labels) == 2 and block.labels[0] in data_sources.KINDS
            },
            self._data_source,
        )
        self.variables = self._bind_variables(inputs)
        locals_expressions: dict[str, tuple[Any, str]] = {}
        refused: dict[str, Any] = {}
        for block, file in self.blocks:
            if block.type != "locals":
                continue
            for name, attribute in block.items[0].items():
                if name not in locals_expressions:
                    locals_expressions[name] = (attribute, file)
                    continue
                # Terraform refuses the configuration; which value it would have had is moot
                before, before_file = locals_expressions[name]
                first = f"{origin_of(before, before_file)}:{_line(before)}"
                message = f"Duplicate local value definition: local.{name} is also defined at {first}"
                walk.error_once(f"{message} (Terraform refuses the configuration)", file, _line(attribute))
                refused[name] = Unknown(message)
        self.locals = LazyValues("local", locals_expressions, self.scope, walk, refused)
        # A provider block reads ephemeral variables (see _bind_variables), through locals too:
        # those locals evaluated again with them, only where there are any.
        self.provider_locals = self.locals
        if self.provider_variables is not self.variables:
            self.provider_locals = LazyValues(
                "local",
                locals_expressions,
                lambda file: self.scope(file, var=self.provider_variables, local=self.provider_locals),
                walk,
                refused,
            )
        self.calls = {
            block.labels[0]: (block, file)
            for block, file in self.blocks
            if block.type == "module" and block.labels
        }
        self._modules = _ModuleOutputs(self)
        self._children: dict[tuple[str, Any], ModuleInstance | Mapping[str, Any] | Unknown] = {}

    @property
    def providers(self) -> Mapping[str | None, ProviderConfig]:
        """The aws provider configurations its resources use, by alias (None: the default)."""
        return self._providers

    @providers.setter
    def providers(self, resolved: Mapping[str | None, ProviderConfig]) -> None:
        self._providers = resolved
        self.providers_resolved = True

    # --- scope ---

    def scope(self, file: str | None = None, **extra: Any) -> Scope:
        names: dict[str, Any] = {
            "var": self.variables,
            "local": self.locals,
            "module": self._modules,
            "terraform": {"workspace": self.walk.target.workspace},
            "path": {"module": self.module_path, "root": ".", "cwd": PATH_CWD},
        }
        names.update(self.resources)
        names["data"] = self.data_sources
        names.update(extra)
        return Scope(names, file, self.file_reader, self.required_providers)

    @functools.cached_property
    def required_providers(self) -> dict[str, str]:
        """The module's ``required_providers``: local name -> provider type (``aws`` for
        ``{ source = "hashicorp/aws" }``, the local name itself for a bare version string),
        for the provider-defined functions Terraform offers the module."""
        found: dict[str, str] = {}
        for block, file in self.blocks:
            if block.type != "terraform":
                continue
            for nested in block.items[1]:
                if nested.type != "required_providers":
                    continue
                for local, attribute in nested.items[0].items():
                    value = _evaluate_attribute(attribute, Scope({}, file), self.walk, file)
                    source = value.get("source") if isinstance(value, dict) else None
                    kind = source.rsplit("/", 1)[-1].lower() if isinstance(source, str) else local
                    found[local] = kind
        return found

    def _data_source(self, declared: tuple[Block, str]) -> Any:
        """The value of one ``data "aws_region"`` / ``aws_partition`` / ``aws_caller_identity``
        block (driftwatch.terraform.data_sources), with the provider it uses."""
        block, file = declared
        kind, name = block.labels
        address = f"{self.address}data.{kind}.{name}"
        if not self.providers_resolved:  # a provider block (or a local it reads) reads it
            return Unknown(f"{address} is read by a provider configuration, which driftwatch evaluates first")
        attributes, blocks = block.items
        scope = self.scope(file)
        arguments: dict[str, Any] = {
            key: _evaluate_attribute(attribute, scope, self.walk, file) if key in ("name", "region") else True
            for key, attribute in attributes.items()
        }
        arguments.update((nested.type, True) for nested in blocks)
        alias = _provider_alias(block)
        config = self.providers.get(alias)
        provider: Maybe[data_sources.Provider]
        if alias is not None and config is None:
            where = f"module {self.caller}" if self.caller else "the root module"
            provider = Unknown(f"provider aws.{alias} is not configured in {where}")
        else:
            region = config.region if config is not None and config.region else None
            account = config.account if config is not None else None
            provider = data_sources.Provider(
                region if region is not None else _environment_region(self.walk.target),
                data_sources.fixed_account(account.assumed, account.allowed) if account is not None else None,
                *_provider_tags(self.walk, config),
            )
        return data_sources.result(kind, address, arguments, provider)

    def _reference_value(self, attribute: Any, file: str, extra: Mapping[str, Any]) -> Any:
        return _evaluate_attribute(attribute, self.scope(file, **extra), self.walk, file)

    # --- variables ---

    def _bind_variables(self, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
        declared: dict[str, tuple[Block, str]] = {}
        duplicated: dict[str, Unknown] = {}
        for block, file in self.blocks:
            if block.type != "variable" or not block.labels:
                continue
            name = block.labels[0]
            if name in declared:  # Terraform refuses the configuration
                first = f"{declared[name][1]}:{declared[name][0].line}"
                message = f'Duplicate variable declaration: variable "{name}" is also declared at {first}'
                self.walk.error_once(f"{message} (Terraform refuses the configuration)", file, block.line)
                duplicated[name] = Unknown(message)
            else:
                declared[name] = (block, file)
        empty = Scope({}, None, constant=True)  # a -var / TF_VAR_ string: no context either
        values: dict[str, Any] = {}
        types: dict[str, TypeSpec] = {}
        not_nullable: set[str] = set()
        ephemeral: set[str] = set()
        for name, (block, file) in declared.items():
            attributes, _ = block.items
            types[name] = self._variable_type(name, block, file)
            # Terraform reads both with no evaluation context (a function call is refused)
            constant = Scope({}, file, constant=True)
            if "default" in attributes:
                values[name] = _evaluate_attribute(attributes["default"], constant, self.walk, file)
            # Both decoded as a bool as cty converts one: ``"false"`` is false for Terraform.
            if "nullable" in attributes:
                nullable = _evaluate_attribute(attributes["nullable"], constant, self.walk, file)
                if nullable is False or string_bool(nullable) is False:
                    not_nullable.add(name)
            if "ephemeral" in attributes:
                marked = _evaluate_attribute(attributes["ephemeral"], constant, self.walk, file)
                if marked is True or string_bool(marked) is True:
                    ephemeral.add(name)
        defaults = dict(values)
        if inputs is None:
            assignments = self._root_assignments(declared, types, empty)
        else:
            assignments = [(name, value, f"the module call {self.caller}") for name, value in inputs.items()]
        for name, value, origin in assignments:
            if name in declared:
                values[name] = value
                self._note_source(name, origin, inputs is None)
            elif inputs is not None and self.directory not in self.walk.incomplete:
                self.walk.error(f"{origin} sets {name!r}, which the module does not declare", None)
        for name in not_nullable & values.keys():
            if values[name] is None:
                # Terraform: a null for a non-nullable variable means its default; a null
                # default (or none) is refused, so the value is not known.
                default = defaults.get(name)
                values[name] = (
                    default
                    if default is not None
                    else Unknown(f"var.{name} is null but nullable = false (Terraform refuses it)")
                )
        bound: dict[str, Any] = {}
        for name, (block, file) in declared.items():
            if name not in values:
                bound[name] = Unknown(
                    f"var.{name} has no value (no default, not set by "
                    + ("a tfvars file, --var or TF_VAR_)" if inputs is None else f"{self.caller})")
                )
                continue
            if types[name] is REFUSED_TYPE:
                bound[name] = Unknown(f"var.{name} has a type Terraform refuses")
                continue
            try:
                bound[name] = convert(values[name], types[name], f"var.{name}", literal=inputs is None)
            except TypeConversionError as error:
                self.walk.error(f"invalid value for variable {name!r}: {error}", file, block.line)
                bound[name] = Unknown(f"var.{name}: {error}")
            except RecursionError:
                self.walk.error(f"the value of variable {name!r} is nested too deeply", file, block.line)
                bound[name] = Unknown(f"var.{name} is nested too deeply")
        bound.update(duplicated)
        # Validated with its value, ephemeral or not: Terraform refuses to plan either way.
        self._validate(declared, bound, ephemeral)
        # Terraform 1.10+: an ephemeral value is never in a plan or state, and Terraform refuses
        # it in a table's arguments ("Invalid use of ephemeral value"): not known there. A
        # provider block may read it (its region, default tags): provider_variables.
        self.provider_variables: dict[str, Any] = dict(bound) if ephemeral else bound
        for name in ephemeral:
            bound[name] = Unknown(
                f"var.{name} is ephemeral: Terraform keeps it out of plans and state and refuses "
                "it in a table's arguments"
            )
        return bound

    def _validate(
        self, declared: Mapping[str, tuple[Block, str]], bound: dict[str, Any], ephemeral: set[str]
    ) -> None:
        """A variable whose ``validation`` condition is false: Terraform refuses to plan ("Invalid
        value for variable"), so it is an error at the validation and the value is Unknown. A
        condition may read any variable (Terraform 1.9); one that reads anything else, or whose
        value is not known, decides nothing. An error message that reads an ``ephemeral``
        variable (a token, often) is not shown, as Terraform does not show it."""
        hidden = {name: Unknown("ephemeral") for name in ephemeral}
        for name, (block, file) in declared.items():
            if isinstance(bound.get(name), Unknown):
                continue
            for check in block.items[1]:
                if check.type != "validation":
                    continue
                scope = Scope({"var": bound}, file, self.file_reader)
                failed = _failed_condition(check, scope, self.walk, file)
                if failed is None:
                    continue
                message = check.items[0].get("error_message")
                if hidden and message is not None:
                    masked = Scope({"var": {**bound, **hidden}}, file, self.file_reader)
                    if not isinstance(_evaluate_attribute(message, masked, self.walk, file), str):
                        failed = "its error message reads an ephemeral value, so it is not shown"
                self.walk.error(
                    f"invalid value for variable {name!r}: {failed} (its validation fails: "
                    "Terraform refuses to plan)",
                    file,
                    check.line,
                )
                reason = f"var.{name} fails its validation ({failed}): Terraform refuses to plan"
                bound[name] = Unknown(reason)
                break

    def _note_source(self, name: str, origin: str, root: bool) -> None:
        line = self._assignment_lines.get((origin, name)) if root else None
        where = SourceLocation(origin, line) if line else None if root else self._input_sources.get(name)
        if where is None:
            self.variable_sources.pop(name, None)  # -var, TF_VAR_ or JSON: no line to point at
        else:
            self.variable_sources[name] = where

    def written_at(self, attribute: Any, file: str) -> SourceLocation:
        """Where an argument's value is written: the line of a tfvars assignment or of the
        calling module's argument when the expression is exactly ``var.<name>``, else its own
        line."""
        reference = reference_text(attribute.expression)
        if reference and reference.startswith("var.") and reference.count(".") == 1:
            found = self.variable_sources.get(reference[4:])
            if found is not None:
                return found
        return SourceLocation(origin_of(attribute, file), _line(attribute) or 1)

    def _variable_type(self, name: str, block: Block, file: str) -> TypeSpec:
        """The variable's type constraint, read once per walk: a module instantiated 200 times
        would otherwise parse each of its types 200 times."""
        known = self.walk.types.get(id(block))
        if known is not None:
            return known[1]
        type_node = block.items[0].get("type")
        try:
            type_spec = (
                parse_type(type_node.expression, lambda node: evaluate(node, Scope({}, file)))
                if type_node is not None
                else ANY
            )
        except (RecursionError, EvaluationError):  # a hostile type: no conversion, like `any`
            message = f"the type of variable {name!r} is nested too deeply to read"
            self.walk.error(message, file, block.line)
            return ANY
        except InvalidTypeConstraint as error:
            # terraform plan stops here, so the variable has no value it would use (REFUSED_TYPE).
            message = f"invalid type of variable {name!r}: {error} (Terraform refuses the configuration)"
            self.walk.error(message, file, _line(type_node) or block.line)
            type_spec = REFUSED_TYPE
        self.walk.types[id(block)] = (block, type_spec)
        return type_spec

    def _root_assignments(
        self, declared: Mapping[str, tuple[Block, str]], types: Mapping[str, TypeSpec], empty: Scope
    ) -> list[tuple[str, Any, str]]:
        target = self.walk.target
        assignments: list[tuple[str, Any, str]] = []
        terragrunt = self.walk.terragrunt
        if terragrunt is not None:
            # Terragrunt's inputs are TF_VAR_ values: below everything else, above the default.
            set_by = declared.keys() if terragrunt.inputs is None else terragrunt.inputs & declared.keys()
            assignments.extend((name, unknown_reason(name), "terragrunt.hcl") for name in sorted(set_by))
        for key, raw in sorted(target.env.items()):
            if key.startswith("TF_VAR_") and key[7:] in declared:
                name = key[7:]
                value = self._raw_value(raw, declared[name][0], types[name], empty, key)
                assignments.append((name, value, key))
        auto = [
            name
            for name, _ in self.walk.fs.entries(self.directory)
            if name.endswith((".auto.tfvars", ".auto.tfvars.json"))
        ]
        # Listed, not only regular files: a FIFO or device named terraform.tfvars is read as one
        # (and refused, with an error naming it), never skipped in silence.
        listed = {name for name, _ in self.walk.fs.entries(self.directory)}
        defaults = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in listed]
        for file_name in (*defaults, *auto):
            assignments.extend(self._file_assignments(file_name, False, declared))
        if terragrunt is not None and terragrunt.extra_arguments:
            # Terragrunt's extra_arguments (-var-file, -var) come after the automatic files.
            assignments.extend((name, unknown_reason(name), "terragrunt.hcl") for name in sorted(declared))
        for file_name in target.var_files:
            assignments.extend(self._file_assignments(file_name, True, declared))
        for name, raw in target.vars.items():
            if name not in declared:
                # terraform plan stops; ignoring it would watch the default's tables in silence
                if self.directory not in self.walk.incomplete:
                    self.walk.error(
                        f"--var {name}: the root module declares no variable {name!r} (terraform plan "
                        'refuses it: "Value for undeclared variable")'
                    )
                continue
            value = self._raw_value(raw, declared[name][0], types[name], empty, f"--var {name}")
            assignments.append((name, value, f"--var {name}"))
        return assignments

    def _file_assignments(
        self, file_name: str, explicit: bool, declared: Mapping[str, tuple[Block, str]]
    ) -> list[tuple[str, Any, str]]:
        found = self._var_file(self.directory / file_name, explicit)
        if found is None:
            # It may set any variable: the default, TF_VAR_ or an earlier file's value is not
            # the one Terraform would use (it would stop). Unknown, never a false alarm; a
            # later file or --var still decides.
            rel = self.walk.rel(self.directory / file_name)
            reason = f"var file {safe_text(rel)} could not be read, and may set it"
            found = [(name, Unknown(f"var.{name}: {reason}"), rel) for name in declared]
        return found

    def _raw_value(self, raw: str, block: Block, type_spec: TypeSpec, scope: Scope, origin: str) -> Any:
        """A string from ``-var``/``TF_VAR_``, read by Terraform's parsing mode: taken as it is
        for a variable without ``type`` or with a primitive one, else (``any`` included) parsed
        as HCL. So ``-var 'v="q"'`` is ``q`` for ``type = any`` and ``"q"`` with its quotes for
        an untyped variable, ``-var v=[1]`` the text ``[1]`` for an untyped one. Parsed, it has
        no evaluation context: a function call in it is Terraform's error, and the target's."""
        if "type" not in block.items[0] or type_spec.kind in _PRIMITIVE_TYPES:
            return nfc(raw)  # a cty string
        try:
            return evaluate_text(raw, scope)
        except NotConstant as refusal:
            self.walk.error(f"{origin}: {refusal.message} (Terraform refuses it)")
            return Unknown(f"{origin}: {refusal.message}")

    def _var_file(self, path: Path, explicit: bool = False) -> list[tuple[str, Any, str]] | None:
        """The assignments of a var file; None when it cannot be read (it was reported)."""
        if not is_valid_text(path.name):
            shown = safe_text(path.name)
            where = f"{self.walk.rel(path.parent)}/{shown}"
            self.walk.error(f"the file name '{shown}' is not valid UTF-8; the file is not read", where)
            return None
        rel = self.walk.rel(path)
        if not self.walk.admit_file(rel):
            return None
        self.walk.var_files.append(rel)
        try:
            resolved = self.walk.confine(path, f"var file {rel}")
            if explicit and not self.walk.fs.is_file(resolved):
                self.walk.error("var file not found", rel)
                return None
            if path.name.endswith(".json"):
                data = parse_json(self.walk.fs.read(resolved, rel)[0], rel)
                if not isinstance(data, dict):
                    self.walk.error("a .tfvars.json file must hold a JSON object", rel, 1)
                    return None
                return [(name, nfc(value), rel) for name, value in data.items()]
            parsed = self.walk.cache.parse_source(resolved, rel, *self.walk.fs.read(resolved, rel))
        except HclSyntaxError as error:
            self.walk.error(error.message, error.file, error.line, error.column)
            return None
        except OutsideRepositoryError as error:
            self.walk.error(str(error), rel)
            return None
        attributes, blocks = body_items(parsed.tree.body)
        for block in blocks:
            self.walk.error(
                f"a var file holds only assignments, found a {block.type!r} block", rel, block.line
            )
        empty = Scope({}, rel, constant=True)  # Terraform reads var files with no context
        for name, attr in attributes.items():
            self._assignment_lines[(rel, name)] = _line(attr)
        return [
            (name, _evaluate_attribute(attr, empty, self.walk, rel), rel) for name, attr in attributes.items()
        ]

    # --- module calls ---

    def call_instances(self, name: str) -> Maybe[list[tuple[Any, str, dict[str, Any]]]]:
        """(instance key, address, extra scope names) for each instance of a module call.

        The key is None for a single instance, an int for ``count``, a string for ``for_each``.
        An unknown count/for_each is Unknown: we cannot tell which tables exist.
        """
        block, file = self.calls[name]
        return self._expand(block, file, f"{self.address}module.{name}")

    def _expand(self, block: Block, file: str, address: str) -> Maybe[list[tuple[Any, str, dict[str, Any]]]]:
        attributes, _ = block.items
        scope = self.scope(file)
        if "count" in attributes:
            value = _evaluate_attribute(attributes["count"], scope, self.walk, file)
            if isinstance(value, Unknown):
                return Unknown(f"count of {address} is unknown: {value.reason}")
            try:
                count = count_instances(value)
            except ExpansionError as error:
                return self._refused(address, "count", error, file, block)
            if count > MAX_INSTANCES:
                return self._too_many(address, f"count = {count}")
            return [(i, f"{address}[{i}]", {"count": {"index": i}}) for i in range(count)]
        if "for_each" in attributes:
            collection = _evaluate_attribute(attributes["for_each"], scope, self.walk, file)
            if isinstance(collection, Unknown):
                return Unknown(f"for_each of {address} is unknown: {collection.reason}")
            try:
                items = for_each_items(collection)
            except ExpansionError as error:
                return self._refused(address, "for_each", error, file, block)
            if isinstance(items, Unknown):
                return Unknown(f"for_each of {address} is unknown: {items.reason}")
            unknown_key = next((k for k, _ in items if isinstance(k, Unknown)), None)
            if unknown_key is not None:
                return Unknown(f"a for_each key of {address} is unknown")
            if len(items) > MAX_INSTANCES:
                return self._too_many(address, f"for_each over {len(items)} elements")
            return [(k, address + instance_key(str(k)), {"each": {"key": k, "value": v}}) for k, v in items]
        return [(None, address, {})]

    def _refused(
        self, address: str, argument: str, error: ExpansionError, file: str, block: Block
    ) -> Unknown:
        """A value Terraform refuses: an error at the block's line, and the block not evaluated."""
        reason = f"{argument} of {address} is invalid: {error}"
        self.walk.error(reason, file, block.line)
        return Unknown(reason)

    @staticmethod
    def _too_many(address: str, what: str) -> Unknown:
        """Too many instances: Unknown, reported by the collector as "cannot tell which tables"."""
        return Unknown(f"{address} has {what}: more than the {MAX_INSTANCES:,} instances driftwatch expands")

    def call_inputs(self, name: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        block, file = self.calls[name]
        attributes, _ = block.items
        scope = self.scope(file, **extra)
        return {
            key: _evaluate_attribute(attr, scope, self.walk, file)
            for key, attr in attributes.items()
            if key not in _MODULE_META_ARGUMENTS
        }

    def call_meta(self, name: str) -> tuple[str | None, str | None]:
        """The call's literal ``source`` and ``version`` (Terraform requires both to be literals:
        it reads them with no variables and no functions, so ``lower("./x")`` is refused)."""
        source = self._call_constant(name, "source")
        version = _version_text(self._call_constant(name, "version"))
        return source if isinstance(source, str) else None, None if isinstance(version, Unknown) else version

    def _call_constant(self, name: str, key: str) -> Any:
        """The call's ``key`` read as Terraform reads ``source`` and ``version``: with no
        variables and no functions (None: absent or null)."""
        block, file = self.calls[name]
        attributes, _ = block.items
        if key not in attributes:
            return None
        return _evaluate_attribute(attributes[key], Scope({}, file, constant=True), self.walk, file)

    def call_refusal(self, name: str) -> str | None:
        """Why Terraform refuses this call's ``source`` or ``version`` (it fails ``init``), else
        None: the call is then not evaluated, with this reason."""
        block, _ = self.calls[name]
        source, _ = self.call_meta(name)
        if source is None:
            return "its source is not a literal string (Terraform requires one)"
        has_version = "version" in block.items[0]
        if isinstance(_version_text(self._call_constant(name, "version")), Unknown):
            return "its version is not a literal string (Terraform requires one)"
        return version_refusal(source, has_version)

    def child(
        self, name: str, key: Any, address: str, extra: Mapping[str, Any]
    ) -> ModuleInstance | Mapping[str, Any] | Unknown:
        """The instance of a module call: a ModuleInstance for a local source, else its outputs."""
        memo_key = (name, key)
        if memo_key in self._children:
            return self._children[memo_key]
        block, file = self.calls[name]
        source, _ = self.call_meta(name)
        inputs = self.call_inputs(name, extra)
        result: ModuleInstance | Mapping[str, Any] | Unknown
        refusal = self.call_refusal(name)
        if source is None:
            self.walk.error(f"module {name!r} has no literal source", file, block.line)
            result = _unknown_outputs(f"module.{name} has no literal source")
        elif refusal is not None:
            result = _unknown_outputs(f"module.{name} was not evaluated: {refusal}")
        elif cloudposse.is_label_module_source(source):
            plan = self.cloudposse_plan(name)
            if isinstance(plan, Package):
                result = self._enter(name, plan.directory, address, inputs, block, file, plan)
            elif plan == cloudposse.LABEL_VERSION:
                result = label_outputs(build_label(_emulated(inputs)))
            else:
                result = _unknown_outputs(f"module.{name} was not evaluated: {plan}")
        elif cloudposse.is_dynamodb_module_source(source):
            plan = self.cloudposse_plan(name)
            if isinstance(plan, Package):
                result = self._enter(name, plan.directory, address, inputs, block, file, plan)
            elif plan in cloudposse.KNOWN_VERSIONS:
                result = _dynamodb_outputs(_emulated(inputs), plan)
            else:
                result = _unknown_outputs(f"module.{name} was not evaluated: {plan}")
        elif _is_local_source(source):
            result = self._local_child(name, source, address, inputs, block, file)
        else:
            package = self.remote_package(name)
            if isinstance(package, str):
                result = _unknown_outputs(f"module.{name} ({redact(source)}) was not evaluated: {package}")
            else:
                result = self._enter(name, package.directory, address, inputs, block, file, package)
        self._children[memo_key] = result
        return result

    def remote_package(self, name: str) -> Package | str:
        """The fetched module of a non-local call, or why it cannot be had (once per call: every
        instance of a call uses the same module, as in Terraform)."""
        if name not in self._packages:
            source, version = self.call_meta(name)
            self._packages[name] = self.walk.package(".".join((*self.key, name)), source or "", version)
        return self._packages[name]

    def cloudposse_plan(self, name: str) -> str | Package:
        """How a ``cloudposse/dynamodb/aws`` or ``cloudposse/label/null`` call is evaluated: a
        known release (emulated by driftwatch.terraform.cloudposse or .label), the fetched source
        (a release driftwatch does not know), or why neither is possible (a sentence, never a
        known release name)."""
        if name not in self._cloudposse:
            source, constraint = self.call_meta(name)
            label = cloudposse.is_label_module_source(source or "")
            releases = LABEL_RELEASES if label else DYNAMODB_RELEASES
            self._cloudposse[name] = cloudposse_plan(self, name, source or "", constraint, releases)
        return self._cloudposse[name]

    def _local_child(
        self, name: str, source: str, address: str, inputs: dict[str, Any], block: Block, file: str
    ) -> ModuleInstance | Unknown:
        try:
            path = self.directory / (local_path(source) or source)
            directory = self.walk.confine(path, f"module source {source!r}", self.package_root)
        except OutsideRepositoryError as error:
            self.walk.error(str(error), file, block.line)
            return _unknown_outputs(str(error))
        if not self.walk.fs.is_dir(directory):
            self.walk.error(f"module source {source!r} is not a directory", file, block.line)
            return _unknown_outputs(f"module source {source!r} not found")
        return self._enter(name, directory, address, inputs, block, file, None)

    def _enter(
        self,
        name: str,
        directory: Path,
        address: str,
        inputs: dict[str, Any],
        block: Block,
        file: str,
        package: Package | None,
    ) -> ModuleInstance | Unknown:
        """A child instance in ``directory``: a local module (package None) or a fetched one."""
        if directory in self.stack:
            chain = " -> ".join(self.walk.rel(p) for p in (*self.stack, directory))
            self.walk.error(f"module calls itself: {chain}", file, block.line)
            return _unknown_outputs("recursive module call")
        if len(self.stack) >= MAX_MODULE_DEPTH:
            self.walk.error(f"modules nested deeper than {MAX_MODULE_DEPTH}", file, block.line)
            return _unknown_outputs("module nesting too deep")
        self.walk.module_instances += 1
        if self.walk.module_instances > MAX_MODULE_INSTANCES:
            message = f"more than {MAX_MODULE_INSTANCES:,} module instances (driftwatch's limit per target)"
            self.walk.limit_error("instances", message, file, block.line)
            return _unknown_outputs(message)
        anchor, anchor_source = self.anchor, self.anchor_source
        if package is not None and anchor is None:
            anchor, anchor_source = SourceLocation(file, block.line), self.call_meta(name)[0]
        sources = {
            key: self.written_at(attribute, file)
            for key, attribute in block.items[0].items()
            if key not in _MODULE_META_ARGUMENTS
        }
        # path.module as Terraform computes it: relative to the root module's directory; a
        # fetched module lives under .terraform/modules/<the calls' names, dot-joined>.
        if package is not None:
            module_path = _fetched_module_path(package, self.walk.root_dir, ".".join((*self.key, name)))
        else:
            module_path = os.path.normpath(os.path.join(self.module_path, self.call_meta(name)[0] or "."))
        child = ModuleInstance(
            self.walk,
            directory,
            f"{address}.",
            inputs,
            address,
            {},
            self.stack,
            sources,
            module_path,
            package_root=package.root if package is not None else self.package_root,
            anchor=anchor,
            anchor_source=anchor_source,
            key=(*self.key, name),
        )
        # Its own provider blocks (a legacy module), evaluated in its scope, then Terraform's
        # choice between them, what the call passes and what it inherits.
        missing = self.missing_providers(block)
        if missing:  # Terraform refuses the call ("missing provider"); the collector says so
            reason = self.refusals[address] = self.missing_reason(address, missing)
            return _unknown_outputs(reason)
        own = _own_providers(child)
        refused = provider_rules.overridden(own, self._passed_names(block))
        if refused:  # Terraform refuses the call; the collector says so where it meets it
            reason = self.refusals[address] = provider_rules.override_reason(address, own, refused)
            return _unknown_outputs(reason)
        child.providers = provider_rules.resolve(self.providers.get(None), self._passed(block), own)
        child.legacy = provider_rules.first_configured(own)
        return child

    def _child_providers(self, block: Block, file: str) -> Mapping[str | None, ProviderConfig]:
        """The aws providers a child without provider blocks of its own uses (the emulated
        CloudPosse modules): what the call's ``providers`` map passes, and the default inherited
        unless the map passes one -- also when the map passes only aliases, as in Terraform."""
        return provider_rules.resolve(self.providers.get(None), self._passed(block), {})

    def _passed(self, block: Block) -> dict[str | None, ProviderConfig]:
        """The configurations the call's ``providers`` map passes, by the child's alias (None:
        its default), as this module resolves them (a name it does not have passes nothing)."""
        result: dict[str | None, ProviderConfig] = {}
        for child_alias, parent_ref in self._providers_map(block).items():
            parent_alias = parent_ref.split(".", 1)[1] if "." in parent_ref else None
            if parent_ref.split(".")[0] == "aws" and parent_alias in self.providers:
                result[child_alias] = self.providers[parent_alias]
        return result

    def missing_providers(self, block: Block) -> list[str]:
        """The ``aws.<alias>`` references of the call's ``providers`` map that this module has
        no configuration for (neither a ``provider`` block of its own nor one passed to it).
        Terraform refuses such a call ("missing provider"); driftwatch used to pass nothing, so
        the child's tables fell back to the default provider: the wrong region, in silence."""
        return sorted(
            {
                parent_ref
                for parent_ref in self._providers_map(block).values()
                if parent_ref.startswith("aws.") and parent_ref.split(".", 1)[1] not in self.providers
            }
        )

    def missing_reason(self, address: str, missing: list[str]) -> str:
        where = f"module {self.caller}" if self.caller else "the root module"
        return (
            f"Terraform refuses this configuration (missing provider): the providers map of {address} "
            f"passes {', '.join(missing)}, which {where} does not configure (no provider block with "
            "that alias, and none passed to it); its tables are not watched"
        )

    def _passed_names(self, block: Block) -> set[str | None]:
        """The child's aws provider names the call's ``providers`` map sets (None: ``aws``)."""
        return set(self._providers_map(block))

    @staticmethod
    def _providers_map(block: Block) -> dict[str | None, str]:
        """The call's ``providers = { aws = aws.x, aws.y = aws }`` entries for aws: the child's
        alias (None: its default) -> the caller's reference (``aws`` / ``aws.x``)."""
        attributes, _ = block.items
        if "providers" not in attributes:
            return {}
        result: dict[str | None, str] = {}
        for child_name, parent_ref in reference_map(attributes["providers"].expression).items():
            if child_name.split(".")[0] == "aws":
                result[child_name.split(".", 1)[1] if "." in child_name else None] = parent_ref
        return result

    # --- resources ---

    def resource_blocks(self, resource_type: str) -> list[tuple[Block, str]]:
        return [(b, f) for b, f in self.blocks if b.type == "resource" and b.labels[:1] == (resource_type,)]


def _fetched_module_path(package: Package, root_dir: Path, key: str) -> str:
    """``path.module`` of a fetched module as Terraform sets it (modules.json's ``Dir``): where
    ``terraform init`` put it below the root -- the package under ``.terraform/modules/<key>``,
    then the source's subdirectory (``//modules/table``). A package found in the root's own
    ``.terraform`` is named by where it is. ``file("${path.module}/../../VERSION")`` depends on it."""
    if package.directory == root_dir or root_dir in package.directory.parents:
        return package.directory.relative_to(root_dir).as_posix()
    inner = package.directory.relative_to(package.root).as_posix()
    return f".terraform/modules/{key}" + ("" if inner == "." else f"/{inner}")


class _ModuleOutputs(Mapping[str, Any]):
    """``module.<name>`` as the evaluator sees it: outputs per instance, shaped like Terraform's."""

    def __init__(self, instance: ModuleInstance):
        self._instance = instance

    def __getitem__(self, name: str) -> Any:
        instance = self._instance
        if name not in instance.calls:
            raise KeyError(name)
        expansion = instance.call_instances(name)
        if isinstance(expansion, Unknown):
            return expansion
        outputs = {
            key: _outputs_of(instance.child(name, key, address, extra)) for key, address, extra in expansion
        }
        block, _ = instance.calls[name]
        attributes, _ = block.items
        if "count" in attributes:
            return [outputs[i] for i in range(len(outputs))]
        if "for_each" in attributes:
            return outputs
        return outputs[None]

    def __iter__(self) -> Iterator[str]:
        return iter(self._instance.calls)

    def __len__(self) -> int:
        return len(self._instance.calls)


def _outputs_of(child: ModuleInstance | Mapping[str, Any] | Unknown) -> Mapping[str, Any] | Unknown:
    if isinstance(child, ModuleInstance):
        expressions = {
            block.labels[0]: (block.items[0]["value"], file)
            for block, file in child.blocks
            if block.type == "output" and block.labels and "value" in block.items[0]
        }
        return LazyValues("output", expressions, child.scope, child.walk)
    return child


def _version_text(value: Any) -> str | Unknown | None:
    """A call's ``version`` as Terraform decodes it (configs' decodeVersionConstraint): converted
    to a string (``version = 1`` is the constraint "1"), null as no constraint at all; Unknown
    for what is no constant primitive (a reference, a function, a list)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or is_number(value):
        return to_string(value)
    return Unknown("the version is not a literal string")


def _unknown_outputs(reason: str) -> Unknown:
    """Outputs of a module driftwatch cannot evaluate: the module value itself is Unknown, so both
    ``module.x.out`` and ``module.x`` used whole are Unknown with the reason."""
    return Unknown(reason)


def _dynamodb_outputs(inputs: Mapping[str, Any], version: str) -> Mapping[str, Any] | Unknown:
    """Outputs of a CloudPosse table module that other expressions may reference."""
    try:
        declaration = cloudposse.module_to_resource(inputs, version)
    except Exception as error:  # a module input error is reported where the table is declared
        return _unknown_outputs(f"the table module's inputs are invalid: {error}")
    if declaration is None:
        return {"table_name": "", "table_id": "", "table_arn": "", "global_secondary_index_names": []}
    name = declaration.arguments.get("name")
    gsis = declaration.arguments.get("global_secondary_index") or []
    arn = Unknown("table ARNs are known only after apply")
    return {
        "table_name": name,
        "table_id": name,
        "table_arn": arn,
        "global_secondary_index_names": [g.get("name") for g in gsis if isinstance(g, dict)],
        "local_secondary_index_names": [
            g.get("name")
            for g in declaration.arguments.get("local_secondary_index") or []
            if isinstance(g, dict)
        ],
        "table_stream_arn": arn,
        "table_stream_label": arn,
    }


def reference_text(node: Any) -> str | None:
    """``aws.west`` / ``read_capacity`` / ``ttl[0].enabled`` as text: Terraform uses bare references
    (not values) in ``providers`` maps and ``lifecycle.ignore_changes``."""
    from hcl2.rules.expressions import ExprTermRule
    from hcl2.rules.indexing import GetAttrExprTermRule, IndexExprTermRule
    from hcl2.rules.literal_rules import IdentifierRule
    from hcl2.rules.strings import StringRule

    from driftwatch.terraform.parse import label_text

    while isinstance(node, ExprTermRule):
        node = node.expression
    if isinstance(node, IdentifierRule):
        return str(node.token.value)
    if isinstance(node, StringRule):
        return label_text(node)
    if isinstance(node, GetAttrExprTermRule):
        head = reference_text(node.expr_term)
        return None if head is None else f"{head}.{node.get_attr.identifier.token.value}"
    if isinstance(node, IndexExprTermRule):
        head = reference_text(node.children[0])
        return None if head is None else head + _index_text(node.children[1])
    return None


def _index_text(node: Any) -> str:
    """``["Touched"]`` / ``[0]`` of a reference, kept because ``ignore_changes = [tags["K"]]``
    ignores one key, not every tag. An index that is not a literal gives "" (the whole argument:
    silencing more than Terraform costs a finding, never a false alarm)."""
    from hcl2.rules.expressions import ExprTermRule
    from hcl2.rules.indexing import ShortIndexRule, SqbIndexRule
    from hcl2.rules.literal_rules import IntLitRule
    from hcl2.rules.strings import StringRule

    from driftwatch.terraform.parse import label_text

    if isinstance(node, ShortIndexRule):
        return f"[{node.index.serialize()}]"
    if not isinstance(node, SqbIndexRule):
        return ""
    inner = node.index_expression
    while isinstance(inner, ExprTermRule):
        inner = inner.expression
    if isinstance(inner, StringRule) and all(hasattr(part.content, "value") for part in inner.string_parts):
        return json.dumps(label_text(inner)).join("[]")
    if isinstance(inner, IntLitRule):
        return f"[{inner.serialize()}]"
    return ""


def reference_list(node: Any) -> list[str]:
    return [text for text in reference_entries(node) if text is not None]


def reference_entries(node: Any) -> list[str | None]:
    """Each element of a list of references (``ignore_changes = [a, b]``, or one reference) as
    text; None for an element that is not a plain reference."""
    from hcl2.rules.containers import TupleRule
    from hcl2.rules.expressions import ExprTermRule

    while isinstance(node, ExprTermRule):
        node = node.expression
    if isinstance(node, TupleRule):
        return [reference_text(e) for e in node.elements]
    return [reference_text(node)]


def _restricting_argument(block: Block) -> str | None:
    """The meta-argument of a module call under which Terraform refuses modules with their own
    provider configuration: ``count`` or ``for_each`` whatever their value (``count = null``
    too), ``depends_on`` unless it lists nothing (measured with terraform 1.11.4)."""
    attributes, _ = block.items
    for name in ("count", "for_each"):
        if name in attributes:
            return name
    depends_on = attributes.get("depends_on")
    if depends_on is not None and not _is_empty_tuple(depends_on.expression):
        return "depends_on"
    return None


def _is_empty_tuple(node: Any) -> bool:
    from hcl2.rules.containers import TupleRule
    from hcl2.rules.expressions import ExprTermRule

    while isinstance(node, ExprTermRule):
        node = node.expression
    return isinstance(node, TupleRule) and not node.elements


def _provider_alias(block: Block) -> str | None:
    """The alias of a resource's ``provider = aws.<alias>`` meta-argument (None: the default)."""
    attributes, _ = block.items
    if "provider" not in attributes:
        return None
    reference = reference_text(attributes["provider"].expression) or ""
    return reference.split(".", 1)[1] if reference.startswith("aws.") else None


def reference_map(node: Any) -> dict[str, str]:
    from hcl2.rules.containers import ObjectRule
    from hcl2.rules.expressions import ExprTermRule

    while isinstance(node, ExprTermRule):
        node = node.expression
    result: dict[str, str] = {}
    if isinstance(node, ObjectRule):
        for element in node.elements:
            key_node = getattr(element.key, "value", None) or getattr(element.key, "expression", None)
            key = reference_text(key_node)
            value = reference_text(element.expression)
            if key and value:
                result[key] = value
    return result


def _own_providers(instance: ModuleInstance) -> dict[str | None, provider_rules.OwnProvider]:
    """The module's own ``provider "aws"`` blocks by alias, evaluated in its scope (a child's
    ``region = var.region`` is its own variable): the root's configurations, or a legacy
    module's (driftwatch.terraform.providers decides which one each resource uses)."""
    found: dict[str | None, provider_rules.OwnProvider] = {}
    for block, file in instance.blocks:
        if block.type != "provider" or block.labels[:1] != ("aws",):
            continue
        attributes, nested = block.items
        scope = instance.scope(file, var=instance.provider_variables, local=instance.provider_locals)
        # A literal name for Terraform ("Variables not allowed"): read with no names in scope,
        # so that ``alias = var.x`` is refused below rather than taken for a name.
        alias = (
            _evaluate_attribute(attributes["alias"], Scope({}, file), instance.walk, file)
            if "alias" in attributes
            else None
        )
        region = (
            _evaluate_attribute(attributes["region"], scope, instance.walk, file)
            if "region" in attributes
            else None
        )
        default_tags: Maybe[Mapping[str, Any]] | None = None
        ignore_tags: dict[str, Any] | None = None
        for inner in nested:
            inner_attributes, _ = inner.items
            if inner.type == "default_tags" and "tags" in inner_attributes:
                default_tags = _evaluate_attribute(inner_attributes["tags"], scope, instance.walk, file)
            if inner.type == "ignore_tags":
                ignore_tags = {
                    k: _evaluate_attribute(v, scope, instance.walk, file) for k, v in inner_attributes.items()
                }
        if alias is not None and not isinstance(alias, str):
            # Terraform refuses an alias that is not a literal name; read as the default, this
            # block would silently replace the module's default configuration.
            _refused_provider(instance.walk, "the provider's alias must be a literal name", file, block.line)
            continue
        name = alias
        if name in found:
            first = found[name].where
            _refused_provider(
                instance.walk,
                f'Duplicate provider configuration: provider "aws"{f" alias {name!r}" if name else ""} '
                f"is also configured at {first.file}:{first.line}; Terraform refuses this configuration, "
                "driftwatch uses the first",
                file,
                block.line,
            )
            continue
        label = provider_rules.provider_name(name, instance.address)
        account = _account_binding(block, scope, instance.walk, file, label)
        found[name] = provider_rules.OwnProvider(
            ProviderConfig(region, default_tags, ignore_tags, account),
            provider_rules.is_configured(attributes, len(nested)),
            SourceLocation(file, block.line),
        )
    return found


def _refused_provider(walk: _Walk, message: str, file: str, line: int) -> None:
    """A provider block Terraform refuses: an error at its line, once however many instances of
    its module there are (each instance evaluates the module's provider blocks)."""
    walk.error_once(message, file, line)


_ROLE_BLOCKS = ("assume_role", "assume_role_with_web_identity")


def _account_binding(
    block: Block, scope: Scope, walk: _Walk, file: str, provider: str
) -> AccountBinding | None:
    """The account a provider block binds its tables to (None: it names none).

    The provider acts in the account of its role: ``assume_role`` when it has a role_arn (the
    last block's, as the provider chains several), else ``assume_role_with_web_identity``'s
    (assume_role is assumed on top of it). An empty role_arn is no role, as in the provider.
    ``dynamic`` blocks of either are expanded; anything that cannot be evaluated is Unknown."""
    attributes, nested = block.items
    assumed: Maybe[str] | None = None
    via = "assume_role"
    for kind in _ROLE_BLOCKS:  # assume_role wins: it is assumed last
        arns = _role_arns(nested, kind, scope, walk, file)
        if arns is not None:
            assumed, via = arns, kind
            break
    lists = {
        name: accounts.account_set(
            _evaluate_attribute(attributes[name], scope, walk, file) if name in attributes else None, name
        )
        for name in ("allowed_account_ids", "forbidden_account_ids")
    }
    allowed, forbidden = lists["allowed_account_ids"], lists["forbidden_account_ids"]
    credentials, choice = _chosen_credentials(attributes, scope, walk, file)
    if assumed is None and allowed is None and forbidden is None and not credentials:
        return None
    return AccountBinding(provider, assumed, via, allowed, forbidden, credentials, choice)


# Arguments with which a provider block picks its own credentials (hashicorp/aws 5.x). Only
# ``profile`` is shown with its value: the others are secrets or local paths.
_CREDENTIAL_ARGUMENTS = (
    "profile",
    "shared_credentials_files",
    "shared_config_files",
    "access_key",
    "secret_key",
    "token",
)


def _chosen_credentials(
    attributes: Mapping[str, Any], scope: Scope, walk: _Walk, file: str
) -> tuple[tuple[str, ...], int]:
    """The credentials a provider block chooses itself, as shown to users (``profile "prod"``),
    and the number of that choice among the target's (the same values, the same number: keys
    are shown by name only, yet two providers' keys may differ).

    Unset, null or empty is the environment's credentials, as for the provider; a value that
    cannot be evaluated may choose some, so it is named too."""
    chosen: list[str] = []
    values: list[tuple[str, str]] = []
    for name in _CREDENTIAL_ARGUMENTS:
        if name not in attributes:
            continue
        value = _as_strings(_evaluate_attribute(attributes[name], scope, walk, file))
        if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
            continue
        shown = name == "profile" and isinstance(value, str) and len(value) <= 64 and value.isprintable()
        chosen.append(f'profile "{value}"' if shown else name)
        values.append((name, repr(value)))
    if not chosen:
        return (), 0
    key = repr(values)
    choice = walk.credential_choices.setdefault(key, len(walk.credential_choices) + 1)
    return tuple(chosen), choice


def _as_strings(value: Any) -> Any:
    """A credentials argument as the provider receives it: every one is a string or a list of
    strings, so Terraform converts ``profile = 123`` to ``"123"`` (the same choice as
    ``profile = "123"``, not a second one)."""
    if isinstance(value, bool) or is_number(value):
        return to_string(value)
    if isinstance(value, (list, tuple)):
        return tuple(_as_strings(item) for item in value)
    return value


def _role_arns(nested: list[Block], kind: str, scope: Scope, walk: _Walk, file: str) -> Maybe[str] | None:
    """The account of the role the provider's ``kind`` blocks end in (None: no role)."""
    bodies: list[Any] = []
    for inner in nested:
        if inner.type == kind:
            inner_attributes, _ = inner.items
            arn = inner_attributes.get("role_arn")
            bodies.append(
                {"role_arn": _evaluate_attribute(arn, scope, walk, file) if arn is not None else None}
            )
        elif inner.type == "dynamic" and inner.labels[:1] == (kind,):
            expanded = _expand_dynamic(inner, scope, walk, file)
            if isinstance(expanded, Unknown):
                return Unknown(f"dynamic {kind}: {expanded.reason}")
            bodies.extend(expanded)
    for body in reversed(bodies):  # the last role of a chain is the one the provider acts as
        arn = body.get("role_arn") if isinstance(body, Mapping) else None
        if isinstance(arn, Unknown):
            return Unknown(f"{kind}.role_arn: {arn.reason}")
        if arn is None or arn == "":
            continue
        if not isinstance(arn, str):
            return Unknown(f"{kind}.role_arn is not a string")
        account = accounts.role_account(arn)
        if account is None:
            return Unknown(f"{kind}.role_arn {safe_text(arn, 100)!r} is not an IAM role ARN")
        return account
    return None


def _provider_tags(
    walk: _Walk, config: ProviderConfig | None
) -> tuple[Maybe[Mapping[str, Any]] | None, Maybe[TagFilter]]:
    """The default tags and the ``ignore_tags`` filter of a provider configuration (None: the
    implicit one, where the module has no block), with what the environment adds to both."""
    environment = walk.environment_tags
    if config is None:
        return environment.default_tags_under(None), environment.ignoring(TagFilter())
    ignored = _tag_filter(config.ignore_tags)
    return environment.default_tags_under(config.default_tags), environment.ignoring(ignored)


def _tag_filter(ignore_tags: Mapping[str, Any] | None) -> Maybe[TagFilter]:
    """The provider's ``ignore_tags { keys = [...], key_prefixes = [...] }`` as a TagFilter."""
    if not ignore_tags:
        return TagFilter()
    unknown = first_unknown(dict(ignore_tags))
    if unknown is not None:
        return unknown
    parts: dict[str, tuple[str, ...]] = {}
    for name in ("keys", "key_prefixes"):
        value = ignore_tags.get(name)
        if value is None:
            parts[name] = ()
        elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
            parts[name] = tuple(sorted(value))
        else:
            return Unknown(f"ignore_tags.{name} is not a list of strings")
    return TagFilter(keys=frozenset(parts["keys"]), key_prefixes=parts["key_prefixes"])


def _failed_condition(check: Block, scope: Scope, walk: _Walk, file: str) -> str | None:
    """The error message of a ``validation`` or ``precondition`` block whose condition is known
    to be false (``"false"`` converts to false, as in Terraform); None when it holds or cannot be
    evaluated."""
    attributes, _ = check.items
    if "condition" not in attributes:
        return None
    if _evaluate_attribute(attributes["condition"], scope, walk, file) not in (False, "false"):
        return None
    message = attributes.get("error_message")
    text = _evaluate_attribute(message, scope, walk, file) if message is not None else None
    return text if isinstance(text, str) else "its condition is false"


def failed_preconditions(block: Block, scope: Scope, walk: _Walk, file: str) -> tuple[Rejection, ...]:
    """A resource's ``lifecycle { precondition }`` blocks whose condition is false: Terraform
    refuses to plan ("Resource precondition failed"), even when the resource has no change, so
    the table is rejected like a declaration the provider refuses. Postconditions (read after
    apply, with ``self``) are not evaluated."""
    found = []
    for lifecycle in block.items[1]:
        if lifecycle.type != "lifecycle":
            continue
        for check in lifecycle.items[1]:
            if check.type == "precondition":
                failed = _failed_condition(check, scope, walk, file)
                if failed is not None:
                    found.append(Rejection("precondition", f"Resource precondition failed: {failed}"))
    return tuple(found)


def _evaluate_body(block: Block, scope: Scope, walk: _Walk, file: str) -> dict[str, Any]:
    """A resource body as the resource mapping expects it: nested blocks become lists of dicts.

    ``dynamic`` blocks are expanded; ``lifecycle.ignore_changes`` is kept as reference names.
    """
    attributes, blocks = block.items
    result: dict[str, Any] = {
        name: whole_values_unknown(_evaluate_attribute(attribute, scope, walk, file))
        for name, attribute in attributes.items()
        if name not in _RESOURCE_META_ARGUMENTS
    }
    for block in blocks:
        if block.type == "lifecycle":
            lifecycle_attributes, _ = block.items
            ignore = lifecycle_attributes.get("ignore_changes")
            entry = {"ignore_changes": reference_list(ignore.expression) if ignore is not None else []}
            result.setdefault("lifecycle", []).append(entry)
        elif block.type == "dynamic" and block.labels:
            result.setdefault(block.labels[0], [])
            expanded = _expand_dynamic(block, scope, walk, file)
            if isinstance(expanded, Unknown):
                result[block.labels[0]] = expanded
            elif isinstance(result[block.labels[0]], list):
                result[block.labels[0]].extend(expanded)
        else:
            existing = result.setdefault(block.type, [])
            if isinstance(existing, list):
                existing.append(_evaluate_body(block, scope, walk, file))
    return result


def _expand_dynamic(block: Block, scope: Scope, walk: _Walk, file: str) -> Maybe[list[dict[str, Any]]]:
    attributes, nested = block.items
    iterator = block.labels[0]
    if "iterator" in attributes:
        iterator = reference_text(attributes["iterator"].expression) or iterator
    collection = (
        _evaluate_attribute(attributes["for_each"], scope, walk, file) if "for_each" in attributes else None
    )
    if isinstance(collection, PartlyListed):  # a resource instance or data source, taken whole
        collection = collection.unlisted()
    if isinstance(collection, Unknown):
        return Unknown(f"dynamic {block.labels[0]!r}: for_each is unknown ({collection.reason})")
    if isinstance(collection, dict):
        items = list(collection.items())
    elif isinstance(collection, TfSet):  # a set's key is the element itself, as in Terraform
        items = [(element, element) for element in collection]
    elif isinstance(collection, list):
        items = list(enumerate(collection))
    else:
        walk.error(
            f"dynamic {block.labels[0]!r} needs a for_each collection", origin_of(block, file), block.line
        )
        return Unknown(f"dynamic {block.labels[0]!r} has no usable for_each")
    content = next((b for b in nested if b.type == "content"), None)
    if content is None:
        return []
    return [
        _evaluate_body(content, scope.child(**{iterator: {"key": k, "value": v}}), walk, file)
        for k, v in items
    ]


# Resources that manage a DynamoDB table of their own which driftwatch does not compare, and what
# that table is: each instance is listed as not evaluated. The replica of
# aws_dynamodb_table_replica lives in its provider's region; aws_dynamodb_global_table is the
# 2017 global tables API; the awscc provider (Cloud Control) declares tables with its own schema.
UNCOMPARED_TABLE_RESOURCES: dict[str, str] = {
    "aws_dynamodb_table_replica": "the replica table",
    "aws_dynamodb_global_table": "the global table (2017 version)",
    "awscc_dynamodb_table": "the table",
    "awscc_dynamodb_global_table": "the global table",
}


class _TableCollector:
    """Finds every table declaration below the root and turns it into a DeclaredTable."""

    def __init__(self, walk: _Walk, result: TargetDeclarations):
        self.walk = walk
        self.result = result
        self.scaling: list[appautoscaling.ScalingResource] = []
        self.features: list[table_features.FeatureResource] = []
        self._experiment_lines: set[tuple[str, int]] = set()
        # One entry per enclosing module call with count / for_each / depends_on (innermost
        # last): the legacy modules found under it, as (module address, its provider block).
        self._restricted: list[list[tuple[str, SourceLocation]]] = []

    def collect(self, instance: ModuleInstance) -> None:
        if instance.legacy is not None and self._restricted:
            # Under count / for_each / depends_on: Terraform refuses the configuration, and
            # which provider its tables would use is unknowable. The call is not evaluated.
            self._restricted[-1].append((instance.address.rstrip("."), instance.legacy))
            return
        duplicated = self._duplicates(instance) | self._removed_yet_declared(instance)
        self._imports_outside_the_root(instance)
        self._experiments(instance)
        for name in instance.calls:
            block, file = instance.calls[name]
            if f"module.{name}" in duplicated:
                continue
            with self._guard(f"module.{name}", block, file):
                self._module_call(instance, name)
        for block, file in instance.resource_blocks("aws_dynamodb_table"):
            if f"aws_dynamodb_table.{block.labels[-1]}" in duplicated:
                continue
            with self._guard(f"aws_dynamodb_table.{block.labels[-1]}", block, file):
                self._resource(instance, block, file)
        for kind, table in UNCOMPARED_TABLE_RESOURCES.items():
            for block, file in instance.resource_blocks(kind):
                with self._guard(f"{kind}.{block.labels[-1]}", block, file):
                    self._uncompared(instance, kind, table, block, file)
        for kind in appautoscaling.RESOURCE_TYPES:
            for block, file in instance.resource_blocks(kind):
                with self._guard(f"{kind}.{block.labels[-1]}", block, file):
                    self._scaling_resource(instance, kind, block, file)
        for kind in (*table_features.FEATURES, table_features.TAG_RESOURCE):
            for block, file in instance.resource_blocks(kind):
                with self._guard(f"{kind}.{block.labels[-1]}", block, file):
                    self._feature_resource(instance, kind, block, file)

    def _duplicates(self, instance: ModuleInstance) -> set[str]:
        """Tables and module calls declared more than once in a module: Terraform refuses the
        configuration. Both were compared under one address (one surely 'missing': a false
        alarm), or the last module call silently hid the first; each is not evaluated."""
        places: dict[str, list[tuple[Block, str]]] = {}
        for block, file in instance.blocks:
            if block.type == "module" and block.labels:
                places.setdefault(f"module.{block.labels[0]}", []).append((block, file))
            elif block.type == "resource" and block.labels[:1] == ("aws_dynamodb_table",):
                places.setdefault(f"aws_dynamodb_table.{block.labels[-1]}", []).append((block, file))
        duplicated = {key: found for key, found in places.items() if len(found) > 1}
        for key, found in duplicated.items():
            where = ", ".join(f"{file}:{block.line}" for block, file in found)
            reason = f"declared {len(found)} times ({where}): Terraform refuses the configuration"
            self.walk.skip(f"{instance.address}{key}", self._location(instance, *found[-1]), reason)
        return set(duplicated)

    def _removed_yet_declared(self, instance: ModuleInstance) -> set[str]:
        """Tables and module calls a ``removed`` block (Terraform 1.7) names while the module
        still declares them: Terraform refuses the configuration ("Removed resource still
        exists"). Before, such a table was compared as if the block were not there; each is
        not evaluated, as a duplicate is."""
        declared = {
            f"module.{block.labels[0]}"
            if block.type == "module"
            else f"aws_dynamodb_table.{block.labels[-1]}"
            for block, _ in instance.blocks
            if (block.type == "module" and block.labels)
            or (block.type == "resource" and block.labels[:1] == ("aws_dynamodb_table",))
        }
        found: set[str] = set()
        for block, file in instance.blocks:
            if block.type != "removed" or "from" not in block.items[0]:
                continue
            named = reference_text(block.items[0]["from"].expression)
            if named not in declared:
                continue
            what = "module" if named.startswith("module.") else "resource"
            reason = (
                f"a removed block ({file}:{block.line}) says {named} was removed, but it is still "
                f'declared: Terraform refuses the configuration ("Removed {what} still exists")'
            )
            self.walk.skip(f"{instance.address}{named}", self._location(instance, block, file), reason)
            found.add(named)
        return found

    def _imports_outside_the_root(self, instance: ModuleInstance) -> None:
        """An ``import`` block in a child module: Terraform refuses the whole configuration
        ("Import blocks are only allowed in the root module"); said as an error of the target
        (before, nothing was)."""
        if not instance.address:
            return
        for block, file in instance.blocks:
            if block.type == "import":
                module = instance.address.rstrip(".")
                self.walk.error(
                    f'an import block was detected in "{module}": import blocks are only allowed in the '
                    "root module, and Terraform refuses the configuration",
                    file,
                    block.line,
                )

    def _experiments(self, instance: ModuleInstance) -> None:
        """``terraform { experiments = [...] }`` (``module_variable_optional_attrs`` of the
        Terraform 0.14-1.2 years, in public modules): a release that is not an alpha refuses the
        whole configuration ("Module uses experimental features", terraform 1.11.4, even for
        ``[]``). Said as an error of the target at the argument, once per file and line (a module
        called several times is one module); before, its tables were compared as if it planned."""
        for block, file in instance.blocks:
            if block.type != "terraform" or "experiments" not in block.items[0]:
                continue
            line = _line(block.items[0]["experiments"]) or block.line
            if (file, line) in self._experiment_lines:
                continue
            self._experiment_lines.add((file, line))
            self.walk.error(
                'terraform { experiments = [...] }: Terraform refuses the configuration ("Module uses '
                'experimental features": experiments are available only in its alpha releases)',
                file,
                line,
            )

    def _scaling_resource(self, instance: ModuleInstance, kind: str, block: Block, file: str) -> None:
        """Every instance of a scalable target or policy, evaluated, for ``finish`` to join."""

        def keep(address: str, arguments: dict[str, Any], region: Maybe[str] | None) -> None:
            resource = appautoscaling.ScalingResource(
                kind, address, file, block.line, region, arguments, self._inputs(instance)
            )
            self.scaling.append(resource)

        unknown = self._each_instance(instance, kind, block, file, keep)
        if unknown is not None:
            address = _resource_address(instance, kind, block)
            message = f"cannot tell which {kind} {address} declares: {unknown.reason}"
            self.walk.error(message, file, block.line)

    def _feature_resource(self, instance: ModuleInstance, kind: str, block: Block, file: str) -> None:
        """Every instance of a resource managing a feature of a table (table_features), for
        ``finish`` to name on its table. One whose instances cannot be told stands for all of
        them, saying so: a table it names outright may have the feature managed."""

        unknown: Unknown | None = None
        uncertain = self._unresolved_alias_region(instance, kind, block)

        def keep(address: str, arguments: dict[str, Any], region: Maybe[str] | None) -> None:
            if uncertain is not None and arguments.get("region") is None:
                region = uncertain
            linked = table_features.table_address(arguments)
            maybe = unknown.reason if unknown is not None else None
            resource = table_features.FeatureResource(kind, address, region, arguments, linked, maybe)
            self.features.append(resource)

        unknown = self._each_instance(instance, kind, block, file, keep)
        if unknown is not None:
            # Which instances exist cannot be told (count or for_each unknown, or too many): one
            # stand-in, whose count.index and each are that Unknown, still names a table it
            # names outright (table_name = "orders"); one named through them is passed over.
            stand_in = {"count": {"index": unknown}, "each": {"key": unknown, "value": unknown}}
            address = _resource_address(instance, kind, block)
            self._each_instance(instance, kind, block, file, keep, [(None, address, stand_in)])

    @staticmethod
    def _unresolved_alias_region(instance: ModuleInstance, kind: str, block: Block) -> Unknown | None:
        """Why a tag resource's region is not known, where its aliased provider's region cannot
        be resolved: ``_region`` gives the target's region there, which is the main table's, and
        a replica's tag (``provider = aws.replica``, the ARN made with ``replace()``) was then
        compared on the main table. None where it is known, or the resource is of another kind."""
        alias = _provider_alias(block)
        if kind != table_features.TAG_RESOURCE or alias is None:
            return None
        provider = instance.providers.get(alias)
        if provider is None or not isinstance(provider.region, Unknown):
            return None  # a missing alias is Unknown already (_region)
        return Unknown(f"the region of provider aws.{alias} cannot be resolved: {provider.region.reason}")

    def _each_instance(
        self,
        instance: ModuleInstance,
        kind: str,
        block: Block,
        file: str,
        keep: Callable[[str, dict[str, Any], Maybe[str] | None], None],
        expansion: Any = None,
    ) -> Unknown | None:
        """Evaluate each instance of a resource beside the tables (its own step budget and
        guard) and ``keep`` it with its address and region; the Unknown when its instances
        cannot be told. ``expansion``: the instances to evaluate instead of the block's own."""
        if expansion is None:
            expansion = instance._expand(block, file, _resource_address(instance, kind, block))
        if isinstance(expansion, Unknown):
            return expansion
        alias = _provider_alias(block)
        region = self._region(instance.providers.get(alias), alias, instance)
        for _key, instance_address, extra in expansion:
            with self._table(instance_address, block, file):
                arguments = _evaluate_body(block, instance.scope(file, **extra), self.walk, file)
                # hashicorp/aws 6 lets a resource name its own region.
                where = arguments.get("region") if arguments.get("region") is not None else region
                keep(instance_address, arguments, where)
        return None

    @staticmethod
    def _written_rejections(block: Block) -> tuple[Rejection, ...]:
        """What Terraform refuses in how the table's resource block is written (Terraform 0.11's
        forms, arguments and block types the resource does not have), before the provider sees
        it. A CloudPosse table's block is the module call: its inputs are the module's
        (``import_table = {...}`` is an input there), so none of this applies to it."""
        if block.type != "resource":
            return ()
        body_arguments, body_blocks = block.items
        schema = tfjson.RESOURCE_BLOCKS["aws_dynamodb_table"]
        return (
            *validate_table.block_arguments(body_arguments, schema),
            *validate_table.unsupported_arguments(block),
            *validate_table.unknown_blocks(
                (b.type for b in body_blocks),
                schema,
                (b.labels[0] for b in body_blocks if b.type == "dynamic" and b.labels),
            ),
        )

    def _autoscaler_call(self, instance: ModuleInstance, name: str, block: Block, file: str) -> None:
        """A call of CloudPosse's autoscaler module (a vendored copy of the dynamodb module makes
        one): the targets and policies it would declare, joined like hand-written ones."""
        expansion = instance.call_instances(name)
        if isinstance(expansion, Unknown):
            message = f"cannot tell which scalable targets module.{name} declares: {expansion.reason}"
            self.walk.error(message, file, block.line)
            return
        provider = instance._child_providers(block, file).get(None)
        region = self._region(provider, None, instance)
        for _key, address, extra in expansion:
            with self._table(address, block, file):
                inputs = _emulated(instance.call_inputs(name, extra))
                where = (file, block.line, region, self._inputs(instance))
                try:
                    self.scaling.extend(cloudposse_autoscaler.scaling_resources(inputs, address, where))
                except (cloudposse.TableNotDetermined, ValueError, TypeError) as error:
                    self.walk.error(f"{address}: {error}", file, block.line)

    def finish(self) -> None:
        """Join the scaling resources of the whole target to its tables (they may live in
        different modules); one that cannot be joined is reported with its file and line."""
        tables, problems = appautoscaling.attach(self.result.tables, self.scaling)
        self.result.tables[:] = table_features.attach(tables, self.features)
        for problem in problems:
            self.walk.error(problem.message, problem.file, problem.line)

    @contextmanager
    def _guard(self, what: str, block: Block, file: str) -> Iterator[None]:
        """One declaration that cannot be evaluated (nesting beyond the Python stack, a limit that
        stops evaluation) is that declaration's error; the other declarations are still read."""
        try:
            yield
        except RecursionError:
            self.walk.error(f"{what} is nested too deeply to evaluate", file, block.line)
        except EvaluationError as error:
            self.walk.limit(error, file, error.line or block.line)
        except MemoryError:
            raise  # the worker's limit: the target's error, reported by the worker
        except Exception as error:  # any crash is this declaration's, not the whole target's
            detail = safe_text(f"{type(error).__name__}: {error}", 200)
            self.walk.error(f"{what} could not be evaluated ({detail})", file, block.line)

    @contextmanager
    def _table(self, address: str, block: Block, file: str) -> Iterator[None]:
        """One table (one instance of a block): its own step budget inside the target's, so that
        a hostile table stops alone and the tables after it are still evaluated."""
        with limits.budget(limits.TABLE_STEPS, "table"), self._guard(address, block, file):
            yield

    def _location(self, instance: ModuleInstance, block: Block, file: str) -> SourceLocation:
        return instance.anchor or SourceLocation(file, block.line)

    def _module_call(self, instance: ModuleInstance, name: str) -> None:
        block, file = instance.calls[name]
        source, _ = instance.call_meta(name)
        call = f"{instance.address}module.{name}"
        where = self._location(instance, block, file)
        refusal = instance.call_refusal(name)
        if source is None or refusal is not None:
            self.walk.skip(call, where, refusal or "its source is not a literal string")
            return
        if cloudposse.is_label_module_source(source):
            return
        if cloudposse_autoscaler.is_autoscaler_module_source(source):
            self._autoscaler_call(instance, name, block, file)
            return
        expansion = instance.call_instances(name)
        if isinstance(expansion, Unknown):
            self.walk.skip(call, where, f"cannot tell which tables it declares: {expansion.reason}")
            return
        if not expansion:  # count = 0 / an empty for_each: nothing to fetch or evaluate
            return
        plan: str | Package | None = None
        if cloudposse.is_dynamodb_module_source(source):
            plan = instance.cloudposse_plan(name)
            if isinstance(plan, str) and plan not in cloudposse.KNOWN_VERSIONS:
                self.walk.skip(call, where, f"source {redact(source)!r}: {plan}")
                return
        elif not _is_local_source(source):
            package = instance.remote_package(name)
            if isinstance(package, str):
                self.walk.skip(call, where, f"source {redact(source)!r}: {package}")
                return
        restricting = _restricting_argument(block)
        if restricting is None:
            self._instances(instance, name, plan, expansion, block, file)
            return
        # Terraform refuses a module with its own provider configuration anywhere under this
        # call: what it finds below is kept only if no such module is met (see collect).
        marks = (len(self.result.tables), len(self.scaling), len(self.walk.not_evaluated))
        self._restricted.append([])
        try:
            self._instances(instance, name, plan, expansion, block, file)
        finally:
            legacy = self._restricted.pop()
        if legacy:
            del self.result.tables[marks[0] :], self.scaling[marks[1] :], self.walk.not_evaluated[marks[2] :]
            module, written = legacy[0]
            self.walk.skip(call, where, provider_rules.legacy_reason(module, restricting, written))

    def _instances(
        self,
        instance: ModuleInstance,
        name: str,
        plan: str | Package | None,
        expansion: list[tuple[Any, str, dict[str, Any]]],
        block: Block,
        file: str,
    ) -> None:
        """Each instance of a module call: a table of an emulated CloudPosse release, else the
        child module's tables (until a legacy module is met under a restricting call)."""
        for key, address, extra in expansion:
            if self._restricted and self._restricted[-1]:
                return  # the whole call is not evaluated: the rest would be dropped too
            if isinstance(plan, str):
                with self._table(address, block, file):
                    self._cloudposse_table(instance, name, plan, address, extra, block, file)
            else:
                child = instance.child(name, key, address, extra)
                if isinstance(child, ModuleInstance):
                    self.collect(child)
                elif address in instance.refusals:
                    self.walk.skip(address, self._location(instance, block, file), instance.refusals[address])

    def _cloudposse_table(
        self,
        instance: ModuleInstance,
        name: str,
        module_version: str,
        address: str,
        extra: Mapping[str, Any],
        block: Block,
        file: str,
    ) -> None:
        missing = instance.missing_providers(block)
        if missing:
            reason = instance.missing_reason(address, missing)
            self.walk.skip(address, self._location(instance, block, file), reason)
            return
        inputs = _emulated(instance.call_inputs(name, extra))
        if name not in instance._inputs_checked:  # once per call, not per instance
            instance._inputs_checked.add(name)
            for undeclared in cloudposse.undeclared_inputs(inputs):
                call = f"the module call {instance.address}module.{name}"
                self.walk.error(
                    f"{call} sets {undeclared!r}, which the module does not declare", file, block.line
                )
        try:
            declaration = cloudposse.module_to_resource(inputs, module_version)
        except cloudposse.TableNotDetermined as error:
            self.walk.error(f"{address}: {error}", file, block.line)
            return
        except (ValueError, TypeError, KeyError) as error:
            self.walk.error(f"{address}: {error}", file, block.line)
            return
        if declaration is not None:
            where = module_call_locations(block, file, inputs, instance.written_at)
            # The module's resource uses the providers the call passes it, as any child does.
            providers = instance._child_providers(block, file)
            self._declare(instance, declaration, address, block, file, locations=where, providers=providers)

    def _resource(self, instance: ModuleInstance, block: Block, file: str) -> None:
        address = f"{instance.address}aws_dynamodb_table.{block.labels[1] if len(block.labels) > 1 else '?'}"
        expansion = instance._expand(block, file, address)
        if isinstance(expansion, Unknown):
            self.walk.skip(
                address,
                self._location(instance, block, file),
                f"cannot tell which tables it declares: {expansion.reason}",
            )
            return
        alias = _provider_alias(block)
        for _key, instance_address, extra in expansion:
            with self._table(instance_address, block, file):
                scope = instance.scope(file, **extra)
                arguments = _evaluate_body(block, scope, self.walk, file)
                declaration = ResourceDeclaration(arguments=arguments)
                where = resource_locations(block, file, arguments, instance.written_at)
                failed = failed_preconditions(block, scope, self.walk, file)
                self._declare(
                    instance, declaration, instance_address, block, file, alias, where, conditions=failed
                )

    def _uncompared(self, instance: ModuleInstance, kind: str, table: str, block: Block, file: str) -> None:
        """A resource that manages a DynamoDB table of its own which ``terraform plan`` compares
        and driftwatch does not (UNCOMPARED_TABLE_RESOURCES): each instance is not evaluated
        (said, exit 1), never an unwatched table nobody is told of."""
        address = f"{instance.address}{kind}.{block.labels[-1]}"
        expansion = instance._expand(block, file, address)
        where = self._location(instance, block, file)
        reason = f"{table} this {kind} manages is not compared by driftwatch (terraform plan compares it)"
        if isinstance(expansion, Unknown):
            self.walk.skip(address, where, f"{reason}; {expansion.reason}")
            return
        for _key, instance_address, _extra in expansion:
            self.walk.skip(instance_address, where, reason)

    def _declare(
        self,
        instance: ModuleInstance,
        declaration: ResourceDeclaration,
        address: str,
        block: Block,
        file: str,
        alias: str | None = None,
        locations: Mapping[str, SourceLocation] | None = None,
        providers: Mapping[str | None, ProviderConfig] | None = None,
        conditions: tuple[Rejection, ...] = (),
    ) -> None:
        provider = (providers if providers is not None else instance.providers).get(alias)
        region = self._region(provider, alias, instance)
        default_tags, ignore_tags = _provider_tags(self.walk, provider)
        try:
            spec = resource_to_spec(
                declaration,
                region=region,
                default_tags=None if isinstance(default_tags, Unknown) else default_tags,
            )
        except (ValueError, TypeError, KeyError) as error:
            self.walk.error(f"{address}: {error}", file, block.line)
            return
        if isinstance(default_tags, Unknown):
            # Provider default_tags add keys we cannot know: no tag can be judged.
            spec = dataclasses.replace(spec, tags=Unknown(f"provider default_tags: {default_tags.reason}"))
        if isinstance(ignore_tags, Unknown):
            # Which keys the provider ignores is unknown: no tag can be judged either.
            spec = dataclasses.replace(spec, tags=Unknown(f"provider ignore_tags: {ignore_tags.reason}"))
        else:
            spec = dataclasses.replace(spec, ignore_tags=ignore_tags)
        notes = uncompared_arguments(declaration.arguments)
        if isinstance(region, Unknown):
            notes = (Unresolved("region", region.reason), *notes)
        account = provider.account if provider is not None else None
        notes = (*notes, *accounts.unresolved(account))
        rejections = (
            *self._written_rejections(block),
            *validate_table.check(declaration.arguments),
            *conditions,
        )
        if instance.anchor_source and len(instance.anchor_source) <= MAX_TABLE_SOURCE_CHARS:
            self.result.table_sources.add(instance.anchor_source)
        self.result.tables.append(
            DeclaredTable(
                address,
                self._location(instance, block, file),
                spec,
                notes,
                self._inputs(instance),
                rejections=rejections,
                locations=dict(locations or {}),
                account=account,
            )
        )

    def _inputs(self, instance: ModuleInstance) -> tuple[str, ...]:
        """The files the table's evaluation read: each module on the way, and the var files."""
        return self.walk.inputs(instance.stack)

    def _region(
        self,
        provider: ProviderConfig | None,
        alias: str | None = None,
        instance: ModuleInstance | None = None,
    ) -> Maybe[str] | None:
        """The region the table lives in, as Terraform decides it: the provider's ``region``
        argument (the alias' for ``provider = aws.west``) when it evaluates. The target's
        ``region`` stands where Terraform would use ``AWS_REGION``: when the provider has no
        region, or one that cannot be resolved. It used to override a provider's literal region,
        which read the table in another region: a false ``missing``, or -- a global table has the
        same name in each replica region -- a replica compared in its place. An alias the module
        does not have is Unknown: reading the table in another region would report it missing,
        a false alarm."""
        target = self.walk.target
        if alias is not None and provider is None:
            caller = instance.caller if instance is not None else None
            where = f"module {caller}" if caller else "the root module"
            return Unknown(f"provider aws.{alias} is not configured in {where}")
        if provider is not None and isinstance(provider.region, str) and provider.region:
            return provider.region
        if target.region:
            return target.region
        if provider is not None and provider.region is not None:
            return provider.region
        return _environment_region(target)


def declare_target(
    target: TargetInput, cache: ParseCache | None = None, view: FileSystemView | None = None
) -> TargetDeclarations:
    """Every table the target's root module declares, with every problem met (never raises).

    With a cache kept between calls (the daemon's), a target is evaluated again only when one of
    its inputs changed (see driftwatch.terraform.memo); otherwise the previous result is returned.

    ``view`` is what the evaluation reads through (default: the filesystem). A view of a git
    revision (driftwatch.terraform.revision) evaluates the target as it was at that commit --
    the previous declaration of pending applies -- with the same limits and caches; its result
    is memoised in the view's slot (one per target and slot), so the current declaration and
    the previous one never evict each other.
    """
    cache = cache if cache is not None else ParseCache()
    revision = getattr(view, "revision", None)
    slot = target.name if revision is None else f"{target.name}\0{getattr(view, 'slot', 'revision')}"
    key = _memo_key(target, cache)
    if key is not None and revision is not None:
        key = (key, revision)
    if key is not None:
        known = cache.declarations.recall(slot, key)
        if known is not None:
            declarations, fingerprint = known
            cache.touch(fingerprint.digests())
            if target.modules.cache_dir is not None:  # its fetched modules were used, unread
                module_cache.touch_used(Path(target.modules.cache_dir), fingerprint.paths())
            return _copy(declarations)
    fs = view if view is not None else FileSystemView(cache.max_file_bytes)
    with cyclic_gc_paused():
        result = _evaluate_target(target, cache, fs)
    # Only a finished evaluation gets here (an exception leaves the memo as it was).
    if key is not None and fs.consistent and not result.volatile:
        fingerprint = fs.fingerprint()
        if result.expires_at is not None:  # a branch's module is looked at again by then
            fingerprint = dataclasses.replace(fingerprint, expires_at=result.expires_at)
        cache.declarations.remember(slot, key, fingerprint, _copy(result))
    return result


def _emulated(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs of a module driftwatch emulates (CloudPosse's table, label and autoscaler):
    there they are the arguments of its resources, so a resource instance or data source
    result taken whole is Unknown (references.whole_values_unknown), as in a resource body.
    A module evaluated from its code gets them as they are: it may read one attribute."""
    return {name: whole_values_unknown(value) for name, value in inputs.items()}


def _configuration_file(fs: FileSystemView, directory: Path, name: str, is_symlink: bool) -> bool:
    """Whether Terraform reads the entry ``name`` of a module directory as a configuration file:
    a ``.tf`` or ``.tf.json`` name, not hidden, not a directory (Terraform lists only the files
    of a module directory; a symlink is read, and fails as Terraform's read fails). A root with
    none has "No configuration files" for Terraform, whatever else it holds."""
    if name.startswith(".") or not name.endswith((".tf", ".tf.json")):
        return False
    return is_symlink or fs.kind(directory / name) != "dir"


def _terragrunt(walk: _Walk, root_dir: Path) -> TerragruntRoot | None:
    """The root's ``terragrunt.hcl``, read (driftwatch.terraform.terragrunt says why); an error
    of the target when Terragrunt plans another module (``terraform { source }``) or the file
    cannot be read (then every variable may be set by it)."""
    path = root_dir / terragrunt_file
    if not walk.fs.is_file(path):  # asked, not listed: the listing holds Terraform's files only
        return None
    rel = walk.rel(path)
    try:
        resolved = walk.confine(path, rel)
        parsed = walk.cache.parse_source(resolved, rel, *walk.fs.read(resolved, rel))
        found = read_root(parsed.tree.body, rel)
    except HclSyntaxError as error:
        walk.error(error.message, error.file, error.line, error.column)
        return TerragruntRoot(None, None)
    except (OutsideRepositoryError, EvaluationError, RecursionError) as error:
        walk.error(f"cannot read {terragrunt_file}: {error}", rel)
        return TerragruntRoot(None, None)
    if found.source is not None:
        walk.error(
            f"Terragrunt plans the module at {safe_text(found.source)} (terraform {{ source }}), not the "
            ".tf files of this directory, and driftwatch does not run Terragrunt: point the target's "
            "root at that module and give Terragrunt's inputs as its vars or var_files",
            rel,
            found.source_line,
        )
    return found


def _environment_region(target: TargetInput) -> str | None:
    """The region Terraform takes from its environment when a provider names none: the
    target's ``region`` stands for it, else the environment driftwatch runs in."""
    return target.region or target.env.get("AWS_REGION") or target.env.get("AWS_DEFAULT_REGION") or None


def _resource_address(instance: ModuleInstance, kind: str, block: Block) -> str:
    return f"{instance.address}{kind}.{block.labels[1] if len(block.labels) > 1 else '?'}"


def _noted_credentials(tables: list[DeclaredTable]) -> list[DeclaredTable]:
    """Each table read by a provider with credentials of its own, in a target whose tables use
    more than one choice of them, notes its account as not checked (accounts.mixed_credentials)."""
    notes = accounts.mixed_credentials(table.account for table in tables)
    return [
        dataclasses.replace(table, notes=(*table.notes, notes[table.account.provider]))
        if table.account is not None and table.account.provider in notes
        else table
        for table in tables
    ]


def _memo_key(target: TargetInput, cache: ParseCache) -> Hashable | None:
    """What, besides the filesystem, a target's declarations are a function of: every field of
    the TargetInput and the cache's per-file limits. None (no memo) inside an enclosing step
    budget, whose remaining steps the result would depend on, or for an unhashable input."""
    if limits.current() is not None:
        return None
    try:
        return (frozen_key(target), cache.max_file_bytes, cache.max_file_tokens)
    except TypeError:
        return None


def _copy(declarations: TargetDeclarations) -> TargetDeclarations:
    """The lists copied (their items are frozen): a caller adding to them cannot change the memo."""
    return TargetDeclarations(
        list(declarations.tables),
        list(declarations.errors),
        list(declarations.not_evaluated),
        table_sources=set(declarations.table_sources),
    )


def _evaluate_target(target: TargetInput, cache: ParseCache, fs: FileSystemView) -> TargetDeclarations:
    walk = _Walk(target, cache, fs)
    try:
        return _walk_target(walk, target, fs)
    finally:
        walk.fetcher.close()  # the cached modules it read may be evicted again


def _walk_target(walk: _Walk, target: TargetInput, fs: FileSystemView) -> TargetDeclarations:
    result = TargetDeclarations()
    try:
        root_dir = walk.confine(target.root, f"root module {target.root}")
    except OutsideRepositoryError as error:
        walk.error(str(error))
        result.errors = walk.errors
        return result
    if not fs.is_dir(root_dir):
        # relative to the repository, unless it is the repository (an ad-hoc --root outside a
        # git checkout): "." would name nothing
        where = walk.rel(target.root)
        walk.error(f"root module directory {target.root if where == '.' else where} does not exist")
        result.errors = walk.errors
        return result
    walk.root_dir = root_dir
    walk.terragrunt = _terragrunt(walk, root_dir)
    listed = fs.entries(root_dir)
    if fs.unlisted(root_dir) is None and not any(_configuration_file(fs, root_dir, n, s) for n, s in listed):
        walk.error(f"no .tf or .tf.json files in {walk.rel(root_dir)}")
    # One budget for the whole target: its evaluation is bounded however the work is spread.
    with limits.budget(limits.TARGET_STEPS, _TARGET_SCOPE):
        try:
            root = ModuleInstance(walk, root_dir, "", None, None, {})
            root.providers = {alias: own.config for alias, own in _own_providers(root).items()}
        except (RecursionError, EvaluationError) as error:
            cause = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            walk.error(f"the root module's variables or providers cannot be evaluated: {cause}")
        else:
            collector = _TableCollector(walk, result)
            collector.collect(root)
            collector.finish()
            result.tables = _noted_credentials(result.tables)
    result.errors = walk.errors
    result.not_evaluated = walk.not_evaluated
    result.volatile = walk.volatile
    result.expires_at = walk.fetcher.expires_at
    return result
