"""Module source addresses and version constraints, read as ``terraform init`` reads them.

Pure functions only (no network, no filesystem): what kind of source a ``source = "..."``
string is (local path, registry address, git repository, HTTP archive, or a kind driftwatch
does not fetch), and which version of a module a ``version = "..."`` constraint selects from a
list. The fetching itself is in driftwatch.terraform.sources.

Terraform's own order is followed (its ``addrs.ParseModuleSource`` and go-getter's detectors):
a local path first (``./``, ``../``), then a registry address (``[host/]namespace/name/system``,
where ``github.com`` and ``bitbucket.org`` are never registry hosts), then go-getter's forced
getters (``git::``, ``hg::``, ``s3::``, ``gcs::``, ``http::``...) and detectors (``github.com/...``,
``git@host:path``, S3 and GCS URLs, ``http(s)://`` URLs). ``//`` splits off a subdirectory of
the package; ``?ref=`` and ``?depth=`` belong to git.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from typing import Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from driftwatch.errors import DriftwatchError

PUBLIC_REGISTRY = "registry.terraform.io"
_LABEL = re.compile(r"^[0-9A-Za-z](?:[0-9A-Za-z_-]{0,62}[0-9A-Za-z])?$")
_SYSTEM = re.compile(r"^[0-9a-z]{1,64}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}(?::\d{1,5})?$)[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+(?::\d{1,5})?$")
_NOT_REGISTRY_HOSTS = frozenset({"github.com", "bitbucket.org"})
_ARCHIVES = (".tar.gz", ".tgz", ".zip")
_UNSUPPORTED_GETTERS = {
    "hg": "Mercurial",
    "s3": "Amazon S3",
    "gcs": "Google Cloud Storage",
    "file": "a file:: path",
}


class SourceError(DriftwatchError, ValueError):
    """A source string or constraint Terraform itself would reject."""


@dataclass(frozen=True)
class LocalSource:
    path: str

    @property
    def display(self) -> str:
        return self.path


@dataclass(frozen=True)
class RegistrySource:
    host: str
    namespace: str
    name: str
    system: str
    subdir: str = ""

    @property
    def package(self) -> str:
        """The address Terraform writes in modules.json (host included, lower-case host)."""
        return f"{self.host}/{self.namespace}/{self.name}/{self.system}"

    @property
    def display(self) -> str:
        return self.package + (f"//{self.subdir}" if self.subdir else "")


@dataclass(frozen=True)
class GitSource:
    url: str  # without ref/depth, e.g. https://github.com/acme/tables.git or ssh://git@host/x.git
    ref: str | None = None
    depth: int | None = None
    subdir: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def display(self) -> str:
        query = urlencode([(k, v) for k, v in (("ref", self.ref), ("depth", self.depth)) if v is not None])
        return (
            f"git::{self.url}" + (f"//{self.subdir}" if self.subdir else "") + (f"?{query}" if query else "")
        )


@dataclass(frozen=True)
class ArchiveSource:
    url: str
    archive: str  # "zip" or "tar.gz"
    subdir: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def display(self) -> str:
        return self.url + (f"//{self.subdir}" if self.subdir else "")


@dataclass(frozen=True)
class HttpSource:
    """An HTTP(S) URL that is not an archive: Terraform asks it (``?terraform-get=1``) for the
    real source, in an ``X-Terraform-Get`` header or a ``terraform-get`` meta tag."""

    url: str
    subdir: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def display(self) -> str:
        return self.url + (f"//{self.subdir}" if self.subdir else "")


@dataclass(frozen=True)
class UnsupportedSource:
    """A source Terraform can fetch but driftwatch does not (S3, GCS, Mercurial...): reported."""

    source: str
    reason: str

    @property
    def display(self) -> str:
        return self.source


ModuleSource = Union[  # noqa: UP007
    LocalSource, RegistrySource, GitSource, ArchiveSource, HttpSource, UnsupportedSource
]


def redact(source: str) -> str:
    """A source for messages: credentials written into a URL (``https://user:token@host``) and
    signed query strings are not repeated in reports."""
    source = re.sub(r"(://)[^/@\s]+@", r"\1***@", source)
    return re.sub(
        r"([?&](?:X-Amz-[A-Za-z-]+|token|signature|sig)=)[^&\s]*", r"\1***", source, flags=re.IGNORECASE
    )


def split_subdir(source: str) -> tuple[str, str]:
    """go-getter's SourceDirSubdir: ``url//sub/dir?query`` -> (``url?query``, ``sub/dir``)."""
    start = source.find("://")
    start = start + 3 if start >= 0 else 0
    index = source.find("//", start)
    if index < 0:
        return source, ""
    subdir = source[index + 2 :]
    query = ""
    if "?" in subdir:
        subdir, query = subdir.split("?", 1)
        query = "?" + query
    return source[:index] + query, subdir.strip("/")


def parse_registry(source: str) -> RegistrySource | None:
    """``[host/]namespace/name/system[//subdir]``, else None (not a registry address)."""
    if "::" in source or "://" in source or "?" in source:
        return None
    address, subdir = split_subdir(source)
    parts = address.split("/")
    host = PUBLIC_REGISTRY
    if len(parts) == 4:
        host = parts[0].lower()
        if not _HOSTNAME.match(host) or host in _NOT_REGISTRY_HOSTS:
            return None
        parts = parts[1:]
    if len(parts) != 3:
        return None
    namespace, name, system = parts
    if not (_LABEL.match(namespace) and _LABEL.match(name) and _SYSTEM.match(system.lower())):
        return None
    return RegistrySource(host, namespace, name, system.lower(), subdir)


def _git(url: str, subdir: str) -> GitSource:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - {"ref", "depth"})
    if unknown:
        raise SourceError(f"git source parameter {', '.join(unknown)} is not supported")
    depth: int | None = None
    if "depth" in query:
        if not query["depth"].isdigit() or int(query["depth"]) < 1:
            raise SourceError(f"?depth= must be a positive whole number, not {query['depth']!r}")
        depth = int(query["depth"])
    ref = query.get("ref") or None
    if ref is not None and (ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref)):
        raise SourceError(f"?ref={ref!r} is not a git reference")
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if parts.scheme not in ("https", "ssh", "file", "http"):
        raise SourceError(f"git over {parts.scheme or 'this kind of URL'} is not supported")
    return GitSource(bare, ref, depth, subdir)


def _scp_like(url: str) -> str | None:
    """``git@github.com:org/repo.git`` -> ``ssh://git@github.com/org/repo.git``."""
    found = re.match(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>[^/].*)$", url)
    if found is None:
        return None
    return f"ssh://{found['user']}@{found['host']}/{found['path']}"


def parse_source(source: str) -> ModuleSource:
    """What a module call's ``source`` names; raises SourceError for what Terraform rejects."""
    text = source.strip()
    if not text:
        raise SourceError("the module source is empty")
    if text.startswith(("./", "../", "/")) or text in (".", ".."):
        return LocalSource(text)
    registry = parse_registry(text)
    if registry is not None:
        return registry
    forced = None
    found = re.match(r"^([A-Za-z0-9]+)::(.*)$", text)
    if found is not None:
        forced, text = found.group(1).lower(), found.group(2)
    url, subdir = split_subdir(text)
    if forced in _UNSUPPORTED_GETTERS:
        return UnsupportedSource(
            source, f"{_UNSUPPORTED_GETTERS[forced]} sources are not fetched by driftwatch"
        )
    if forced == "git" or forced is None:
        scp = _scp_like(url)
        if scp is not None:
            return _git(scp, subdir)
        for host in ("github.com/", "bitbucket.org/"):
            if url.startswith(host) and forced is None:
                path, _, query = url[len(host) :].partition("?")
                path = path if path.endswith(".git") else path + ".git"
                return _git(f"https://{host}{path}" + (f"?{query}" if query else ""), subdir)
    if forced == "git":
        return _git(url, subdir)
    lowered = url.lower()
    if forced is None and re.match(r"^(https?://)?[\w.-]*s3[\w.-]*\.amazonaws\.com/", lowered):
        return UnsupportedSource(source, "Amazon S3 sources are not fetched by driftwatch")
    if forced is None and re.match(r"^(https?://)?www\.googleapis\.com/storage/", lowered):
        return UnsupportedSource(source, "Google Cloud Storage sources are not fetched by driftwatch")
    if forced in (None, "http", "https") and lowered.startswith(("https://", "http://")):
        parts = urlsplit(url)
        archive = dict(parse_qsl(parts.query)).get("archive")
        path = parts.path.lower()
        if archive is None:
            archive = next((kind for kind in _ARCHIVES if path.endswith(kind)), None)
        if archive in ("tgz", ".tgz", ".tar.gz", "tar.gz"):
            return ArchiveSource(url, "tar.gz", subdir)
        if archive in ("zip", ".zip"):
            return ArchiveSource(url, "zip", subdir)
        return HttpSource(url, subdir)
    if forced is not None:
        return UnsupportedSource(source, f"the {forced}:: getter is not supported by driftwatch")
    raise SourceError(f"{source!r} is not a module source Terraform recognises")


# --- versions ----------------------------------------------------------------------------------

_VERSION = re.compile(
    r"^v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


@total_ordering
@dataclass(frozen=True)
class Version:
    """A semantic version; ``text`` is how the registry or the tag spells it."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    text: str = ""

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def _pre_key(self) -> tuple[tuple[int, int | str], ...]:
        return tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and (self.core, self.pre) == (other.core, other.pre)

    def __hash__(self) -> int:
        return hash((self.core, self.pre))

    def __lt__(self, other: Version) -> bool:
        if self.core != other.core:
            return self.core < other.core
        if not self.pre or not other.pre:
            return bool(self.pre) and not other.pre  # a prerelease sorts before its release
        return self._pre_key() < other._pre_key()

    def __str__(self) -> str:
        return self.text or ".".join(map(str, self.core)) + (f"-{'.'.join(self.pre)}" if self.pre else "")


def parse_version(text: str) -> Version | None:
    found = _VERSION.match(text.strip())
    if found is None:
        return None
    pre = tuple(found.group("pre").split(".")) if found.group("pre") else ()
    return Version(
        int(found.group("major")),
        int(found.group("minor") or 0),
        int(found.group("patch") or 0),
        pre,
        text.strip(),
    )


_CONSTRAINT = re.compile(r"^\s*(?P<op>=|!=|>=|<=|>|<|~>)?\s*(?P<version>v?\d[0-9A-Za-z.+-]*)\s*$")


@dataclass(frozen=True)
class Constraint:
    op: str
    version: Version
    segments: int  # how many of major.minor.patch were written (for ~>)

    def admits(self, version: Version) -> bool:
        bound = self.version
        if self.op == "~>":
            if version < bound:
                return False
            if self.segments <= 2:
                return version.major == bound.major
            return (version.major, version.minor) == (bound.major, bound.minor)
        return {
            "=": version == bound,
            "!=": version != bound,
            ">": version > bound,
            ">=": version >= bound,
            "<": version < bound,
            "<=": version <= bound,
        }[self.op]


def parse_constraints(text: str | None) -> tuple[Constraint, ...]:
    """``">= 1.2, < 2.0, != 1.5.1"`` -> constraints (all must hold); empty or None: any version."""
    if text is None or not text.strip():
        return ()
    result = []
    for part in text.split(","):
        found = _CONSTRAINT.match(part)
        version = parse_version(found.group("version")) if found else None
        if found is None or version is None:
            raise SourceError(f"invalid version constraint {part.strip()!r}")
        written = found.group("version").lstrip("v").split("-")[0].split("+")[0]
        result.append(Constraint(found.group("op") or "=", version, len(written.split("."))))
    return tuple(result)


def admits(constraints: tuple[Constraint, ...], version: Version) -> bool:
    """Terraform's rule: every constraint holds, and a prerelease is chosen only when a
    constraint names exactly that version (``= 1.0.0-beta1``), never by a range."""
    if version.pre and not any(c.op == "=" and c.version == version for c in constraints):
        return False
    return all(c.admits(version) for c in constraints)


def select_version(available: Iterable[str], constraint: str | None) -> str | None:
    """The newest of ``available`` that the constraint admits (as ``terraform init``), or None."""
    constraints = parse_constraints(constraint)
    best: Version | None = None
    for text in available:
        version = parse_version(text)
        if version is not None and admits(constraints, version) and (best is None or version > best):
            best = version
    return None if best is None else str(best)


# --- credentials -------------------------------------------------------------------------------


def token_variable(host: str) -> str:
    """Terraform's environment variable for a host's token: ``TF_TOKEN_`` + the host, punycoded,
    with ``-`` written ``__`` and ``.`` written ``_`` (``my-reg.example.com`` ->
    ``TF_TOKEN_my__reg_example_com``)."""
    name = host.split(":")[0].lower()
    with contextlib.suppress(UnicodeError):
        name = name.encode("idna").decode("ascii")
    return "TF_TOKEN_" + name.replace("-", "__").replace(".", "_")
