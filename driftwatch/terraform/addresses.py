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
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from typing import Union
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from driftwatch.errors import DriftwatchError

PUBLIC_REGISTRY = "registry.terraform.io"
# \Z, not $: Go's $ is the end of the text, Python's also matches before a final newline
# ("ns/name/aws\n" is no registry address to Terraform); [0-9], not \d: Go's \d is ASCII.
_LABEL = re.compile(r"^[0-9A-Za-z](?:[0-9A-Za-z_-]{0,62}[0-9A-Za-z])?\Z")
_SYSTEM = re.compile(r"^[0-9a-z]{1,64}\Z")
_HOSTNAME = re.compile(r"^(?=.{1,253}(?::[0-9]{1,5})?\Z)[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+(?::[0-9]{1,5})?\Z")
_NOT_REGISTRY_HOSTS = frozenset({"github.com", "bitbucket.org"})
# go-getter's decompressors as Terraform configures them -> how driftwatch unpacks each (a tar
# stream's compression is recognised from its first bytes); None: one compressed file, which
# Terraform cannot install as a module package.
_DECOMPRESSORS: dict[str, str | None] = {
    "bz2": None,
    "gz": None,
    "xz": None,
    "zip": "zip",
    "tar.bz2": "tar.bz2",
    "tar.tbz2": "tar.bz2",
    "tar.gz": "tar.gz",
    "tgz": "tar.gz",
    "tar.xz": "tar.xz",
    "txz": "tar.xz",
}
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


class _UrlSource:
    """What a source fetched from one URL shows: the host ``modules.allowed_hosts`` checks, and
    the URL with its subdirectory as Terraform writes it."""

    url: str
    subdir: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def display(self) -> str:
        return self.url + (f"//{self.subdir}" if self.subdir else "")


@dataclass(frozen=True)
class ArchiveSource(_UrlSource):
    url: str
    archive: str  # "zip" or "tar.gz"
    subdir: str = ""


@dataclass(frozen=True)
class HttpSource(_UrlSource):
    """An HTTP(S) URL that is not an archive: Terraform asks it (``?terraform-get=1``) for the
    real source, in an ``X-Terraform-Get`` header or a ``terraform-get`` meta tag."""

    url: str
    subdir: str = ""


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
    """go-getter's SourceDirSubdir and Terraform's path.Clean of the result: ``url//sub/dir?query``
    -> (``url?query``, ``sub/dir``). A subdirectory that leaves the package (``//../x``) is an
    invalid address, as in Terraform, refused before anything is fetched."""
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
    return source[:index] + query, _clean_subdir(subdir)


def _clean_subdir(subdir: str) -> str:
    if not subdir:
        return ""
    clean = posixpath.normpath(subdir).lstrip("/")
    if clean == ".." or clean.startswith("../"):
        raise SourceError(f"subdirectory path {subdir!r} leads outside of the module package")
    return "" if clean == "." else clean


def local_path(source: str) -> str | None:
    """A local module path as Terraform reads it (``./x``, ``../x``, and the Windows spellings
    ``.\\x`` / ``..\\x`` with backslashes read as slashes), else None."""
    if not source.startswith(("./", "../", ".\\", "..\\")):
        return None
    return source.replace("\\", "/")


def _registry_host(given: str) -> str | None:
    """svchost.ForComparison, as module addresses use it: lower case, an internationalised name
    written in Unicode (converted to punycode here; punycode written directly is refused), at
    least one dot, an optional port."""
    name, colon, port = given.partition(":")
    if colon and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    labels = name.split(".")
    if any(label.lower().startswith("xn--") for label in labels):
        return None
    try:
        name = name.encode("idna").decode("ascii").lower() if not name.isascii() else name.lower()
    except UnicodeError:
        return None
    host = name + (f":{port}" if colon else "")
    return host if _HOSTNAME.match(host) else None


def parse_registry(source: str) -> RegistrySource | None:
    """``[host/]namespace/name/system[//subdir]``, else None (not a registry address)."""
    if "::" in source or "://" in source or "?" in source:
        return None
    address, subdir = split_subdir(source)
    parts = address.split("/")
    host = PUBLIC_REGISTRY
    if len(parts) == 4:
        given = _registry_host(parts[0])
        if given is None or given in _NOT_REGISTRY_HOSTS:
            return None
        host, parts = given, parts[1:]
    if len(parts) != 3:
        return None
    namespace, name, system = parts
    # The target system is not lower-cased: Terraform rejects ``ns/name/AWS`` as a registry
    # address (and then as any other kind).
    if not (_LABEL.match(namespace) and _LABEL.match(name) and _SYSTEM.match(system)):
        return None
    return RegistrySource(host, namespace, name, system, subdir)


def version_refusal(source: str, has_version: bool) -> str | None:
    """Why Terraform refuses a call's ``version`` argument, else None. With a ``version`` (even
    ``""``) Terraform parses the source as a registry address only (configs' decodeSourceAddr):
    a local path, a git URL or an archive is "Invalid registry module source address". Checked
    with terraform 1.11.4 ``init``: ``../x`` with ``version = ""`` is refused."""
    if not has_version or parse_registry(source) is not None:
        return None
    return (
        f"source {redact(source)!r} is not a registry address, and the version argument applies "
        "only to registry modules (Terraform: Invalid registry module source address)"
    )


def _port(parts: SplitResult, source: str) -> None:
    """A port Go's url.Parse accepts (any digits) but no connection can use: Terraform's
    download fails (``dial tcp: address 65536: invalid port``); urllib raised ValueError from
    every later use of the URL, messages naming it included."""
    try:
        parts.port  # noqa: B018 -- urllib checks the range when it is read
    except ValueError:
        raise SourceError(f"{redact(source)!r}: the port is out of range (0-65535)") from None


def _git(url: str, subdir: str, source: str) -> GitSource:
    parts = urlsplit(url)
    _port(parts, source)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - {"ref", "depth"})
    if unknown:
        raise SourceError(f"git source parameter {', '.join(unknown)} is not supported")
    depth: int | None = None
    if "depth" in query:
        if not (query["depth"].isascii() and query["depth"].isdigit()) or int(query["depth"]) < 1:
            raise SourceError(f"?depth= must be a positive whole number, not {query['depth']!r}")
        depth = int(query["depth"])
    ref = query.get("ref") or None
    if ref is not None and (ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref)):
        raise SourceError(f"?ref={ref!r} is not a git reference")
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if parts.scheme not in ("https", "ssh", "file", "http"):
        kind = parts.scheme or "this kind of URL"
        raise SourceError(f"{redact(source)!r}: git over {kind} is not supported")
    return GitSource(bare, ref, depth, subdir)


def _has_scheme(text: str) -> bool:
    """Go's url.Parse succeeds with a scheme: go-getter then takes the string as it is (no
    detector runs), and picks the getter by the forced prefix or by that scheme."""
    found = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text)
    if found is None:
        return False
    rest = text[found.end() :]
    return not any(c in rest for c in " \x7f") and not any(ord(c) < 32 for c in rest)


def _detect(text: str, source: str) -> tuple[str, str, str]:
    """go-getter's detectors, in Terraform's order (GitHub, git over SSH, Bitbucket, GCS, S3,
    file) for a string without a scheme: (getter, URL, subdirectory the detector split off)."""
    if text.startswith("github.com/"):
        address, question, query = text.partition("?")
        if "?" in query:
            raise SourceError(f"{redact(source)!r}: there is more than 1 '?' in the URL")
        parts = address.split("/")
        if len(parts) < 3:
            raise SourceError(f"{redact(source)!r}: GitHub URLs should be github.com/username/repo")
        path = "/".join(parts[1:3])
        path = path if path.endswith(".git") else path + ".git"
        url = f"https://github.com/{path}" + (f"?{query}" if question else "")
        return "git", url, "/".join(parts[3:])
    ssh = re.match(r"^(?:(?P<user>[^@]+)@)?(?P<host>[^:]+):/?(?P<path>.+)$", text, re.DOTALL)
    if ssh is not None and ssh["user"] == "git":  # go-getter: only the user git means git
        return "git", f"ssh://git@{ssh['host']}/{ssh['path']}", ""
    if text.startswith("bitbucket.org/"):
        address, question, query = text.partition("?")
        address = address if address.endswith(".git") else address + ".git"
        return "git", f"https://{address}" + (f"?{query}" if question else ""), ""
    if "googleapis.com/" in text:
        return "gcs", text, ""
    if ".amazonaws.com/" in text:
        return "s3", text, ""
    if text.startswith("/"):
        return "file", text, ""
    raise SourceError(
        f"{redact(source)!r} is not a module source Terraform recognises (a path relative to the "
        "module must start with ./ or ../)"
    )


def parse_source(source: str) -> ModuleSource:
    """What a module call's ``source`` names (Terraform's ParseModuleSource, then go-getter's
    Detect); raises SourceError for what Terraform rejects."""
    # Not stripped: `" ./x"` is not a local path to Terraform, nor any address it recognises.
    text = source
    if not text.strip():
        raise SourceError("the module source is empty")
    local = local_path(text)
    if local is not None:
        return LocalSource(local)
    if text.startswith("/"):
        return LocalSource(text)  # go-getter's file getter copies it: confined like a local path
    registry = parse_registry(text)
    if registry is not None:
        return registry
    forced = None
    found = re.match(r"^([A-Za-z0-9]+)::(.+)$", text, re.DOTALL)
    if found is not None:
        forced, text = found.group(1), found.group(2)
    url, subdir = split_subdir(text)
    try:
        if _has_scheme(url):
            getter = forced or urlsplit(url).scheme.lower()
        else:
            detected, url, more = _detect(url, source)
            subdir = _clean_subdir("/".join(part for part in (more, subdir) if part))
            getter = forced or detected
        if getter in _UNSUPPORTED_GETTERS:
            reason = f"{_UNSUPPORTED_GETTERS[getter]} sources are not fetched by driftwatch"
            return UnsupportedSource(source, reason)
        if getter == "git":
            return _git(url, subdir, source)
        if getter in ("http", "https") and url.lower().startswith(("https://", "http://")):
            return _http(url, subdir, source)
    except SourceError:
        raise  # already this source's reason (a ValueError too: not to be wrapped below)
    except ValueError as error:
        # urllib's own refusal (an unclosed ``[``: Terraform's "Invalid module source address").
        raise SourceError(f"{redact(source)!r} is not a valid URL ({error})") from None
    if forced is not None:
        return UnsupportedSource(source, f"the {forced}:: getter is not supported by driftwatch")
    raise SourceError(f"{redact(source)!r}: download not supported for scheme {getter!r}")


def _http(url: str, subdir: str, source: str) -> ArchiveSource | HttpSource:
    """go-getter's archive choice: ``?archive=`` (taken out of the URL, as go-getter does before
    the request; ``false`` for none), else the longest decompressor suffix of the path, matched
    case-sensitively. Not an archive: Terraform asks the URL for the real source."""
    parts = urlsplit(url)
    _port(parts, source)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = [value for key, value in query if key == "archive"]
    if given:
        rest = urlencode([(k, v) for k, v in query if k != "archive"])
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
        kind = None if given[-1] == "false" else given[-1]
        if kind is not None and kind not in _DECOMPRESSORS:
            raise SourceError(f"{redact(source)!r}: unknown archive format {kind!r}")
    else:
        suffixes = [key for key in _DECOMPRESSORS if parts.path.endswith("." + key)]
        kind = max(suffixes, key=len) if suffixes else None
    if kind is None:
        return HttpSource(url, subdir)
    archive = _DECOMPRESSORS[kind]
    if archive is None:
        raise SourceError(
            f"{redact(source)!r}: a single {kind}-compressed file is not a module package "
            "(Terraform cannot install it either)"
        )
    return ArchiveSource(url, archive, subdir)


# --- versions ----------------------------------------------------------------------------------
# A port of hashicorp/go-version (what Terraform parses ``version = "..."`` and registry version
# lists with) and of the one rule Terraform adds for prereleases (module_install.go: a prerelease
# is eligible only when apparentlymart/go-versions' canonical syntax reads the whole constraint
# as a request for exactly that version: ``1.0.0-beta1`` or ``=1.0.0-beta1``, never
# ``= 1.0.0-beta1``, ``v1.0.0-beta1`` or a comma list). Checked against terraform 1.11 with a
# local registry: tests/test_sources.py::test_newest_matching_version_like_terraform.

_WS = r"[ \t\n\f\r]"  # Go's \s (ASCII only; Python's \s also matches Unicode spaces)
_VERSION_RAW = (
    r"v?(?P<segments>[0-9]+(?:\.[0-9]+)*?)"
    r"(?:-(?P<pre>[0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)"
    r"|-?(?P<pre_alpha>[A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*))?"
    r"(?:\+(?P<meta>[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))??"
)
_VERSION = re.compile(f"^{_VERSION_RAW}\\Z")
_CONSTRAINT = re.compile(f"^{_WS}*(?P<op>~>|>=|<=|!=|=|>|<)?{_WS}*(?P<version>{_VERSION_RAW}){_WS}*\\Z")
_INT64_MAX = 2**63 - 1
# go-versions' canonical syntax for one exact version, as Terraform's prerelease check reads it
_EXACT = re.compile(r"^=?(?P<version>[0-9]+(?:\.[0-9]+){0,2}-[0-9A-Za-z.-]+(?:\+[0-9A-Za-z.-]+)?)\Z")


def _compare_part(mine: str, other: str) -> int:
    if mine == other:
        return 0
    mine_numeric = mine.isdigit() and mine.isascii()
    other_numeric = other.isdigit() and other.isascii()
    if mine == "":
        return -1 if other_numeric else 1
    if other == "":
        return 1 if mine_numeric else -1
    if mine_numeric and not other_numeric:
        return -1
    if other_numeric and not mine_numeric:
        return 1
    if not mine_numeric:
        return 1 if mine > other else -1
    return 1 if int(mine) > int(other) else -1


def _compare_prereleases(mine: str, other: str) -> int:
    if mine == other:
        return 0
    left, right = mine.split("."), other.split(".")
    for index in range(max(len(left), len(right))):
        found = _compare_part(
            left[index] if index < len(left) else "", right[index] if index < len(right) else ""
        )
        if found:
            return found
    return 0


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A version as go-version reads it: any number of numeric segments (padded to three),
    a prerelease (``-beta1``, or ``beta1`` right after the numbers), build metadata (ignored
    in comparisons). ``str()`` is go-version's canonical form, which Terraform records and
    asks the registry's download endpoint for (``v1.2`` -> ``1.2.0``)."""

    segments: tuple[int, ...]
    specified: int  # how many segments were written (for ~>)
    pre: str = ""
    metadata: str = ""

    @property
    def major(self) -> int:
        return self.segments[0]

    def compare(self, other: Version) -> int:
        """go-version's Compare: -1, 0 or 1."""
        if str(self) == str(other):
            return 0
        if self.segments == other.segments:
            if not self.pre and not other.pre:
                return 0
            if not self.pre:
                return 1
            if not other.pre:
                return -1
            return _compare_prereleases(self.pre, other.pre)
        width = max(len(self.segments), len(other.segments))
        mine = self.segments + (0,) * (width - len(self.segments))
        theirs = other.segments + (0,) * (width - len(other.segments))
        return (mine > theirs) - (mine < theirs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __hash__(self) -> int:
        trimmed = list(self.segments)
        while trimmed and trimmed[-1] == 0:
            trimmed.pop()
        return hash(tuple(trimmed))  # equal versions (1.2 and 1.2.0.0) hash alike

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __str__(self) -> str:
        text = ".".join(map(str, self.segments))
        return text + (f"-{self.pre}" if self.pre else "") + (f"+{self.metadata}" if self.metadata else "")


def parse_version(text: str) -> Version | None:
    """go-version's NewVersion (a leading ``v`` allowed); None where it returns an error."""
    found = _VERSION.match(text)
    return _version(found) if found is not None else None


def _version(found: re.Match[str]) -> Version | None:
    numbers = [int(part) for part in found.group("segments").split(".")]
    if any(number > _INT64_MAX for number in numbers):
        return None
    padded = tuple(numbers) + (0,) * (3 - len(numbers))
    pre = found.group("pre_alpha") or found.group("pre") or ""
    return Version(padded, len(numbers), pre, found.group("meta") or "")


def _same_base(version: Version, bound: Version) -> bool:
    """go-version's prereleaseCheck."""
    if bound.pre and version.pre:
        return version.segments == bound.segments
    return not (version.pre and not bound.pre)


@dataclass(frozen=True)
class Constraint:
    op: str
    version: Version
    text: str = ""  # as written, between the commas

    @property
    def segments(self) -> int:
        return self.version.specified

    def admits(self, version: Version) -> bool:
        """go-version's constraint functions, one per operator."""
        bound = self.version
        if self.op == "=":
            return version == bound
        if self.op == "!=":
            return version != bound
        if self.op == "~>":
            return _pessimistic(version, bound)
        if not _same_base(version, bound):
            return False
        order = version.compare(bound)
        return {">": order > 0, ">=": order >= 0, "<": order < 0, "<=": order <= 0}[self.op]


def _pessimistic(version: Version, bound: Version) -> bool:
    """``~>``: at least the bound, with every written segment but the last equal. ``~> 1``
    therefore admits 2.0 (a single segment fixes nothing), as go-version and Terraform do."""
    if not _same_base(version, bound) or (bound.pre and not version.pre):
        return False
    if version < bound:
        return False
    if len(bound.segments) > len(version.segments):
        return False
    if any(version.segments[i] != bound.segments[i] for i in range(bound.specified - 1)):
        return False
    last = len(bound.segments) - 1
    return bound.segments[last] <= version.segments[last]


def parse_constraints(text: str | None) -> tuple[Constraint, ...]:
    """go-version's NewConstraint: ``">= 1.2, < 2.0, != 1.5.1"`` -> constraints (all must hold).
    None (no ``version`` argument, or null): any version. An empty or blank string is invalid
    (terraform 1.11.4 init refuses ``version = ""``), as are ``==``, ``^``, wildcards and ``||``
    (Terraform: "Invalid version constraint")."""
    if text is None:
        return ()
    result = []
    for part in text.split(","):
        found = _CONSTRAINT.match(part)
        version = _version(found) if found is not None else None
        if found is None or version is None:
            raise SourceError(f"invalid version constraint {part.strip()!r} (in {text!r})")
        result.append(Constraint(found.group("op") or "=", version, part))
    return tuple(result)


def _requested_exactly(constraints: tuple[Constraint, ...], version: Version) -> bool:
    """Terraform's extra rule for a prerelease: the whole constraint, read in go-versions'
    canonical syntax, names exactly this version (``1.0.0-beta1`` or ``=1.0.0-beta1``)."""
    if len(constraints) != 1:
        return False  # a comma list is an error in that syntax: no prerelease is eligible
    found = _EXACT.match(constraints[0].text.strip(" \t\n\f\r\v"))
    wanted = parse_version(found.group("version")) if found is not None else None
    return wanted is not None and wanted.segments == version.segments and wanted.pre == version.pre


def admits(constraints: tuple[Constraint, ...], version: Version) -> bool:
    """Terraform's rule: every constraint holds, and a prerelease is eligible only when the
    constraint requests exactly that version."""
    if version.pre and not _requested_exactly(constraints, version):
        return False
    return all(c.admits(version) for c in constraints)


def select_version(available: Iterable[str], constraint: str | None) -> str | None:
    """The newest of ``available`` that the constraint admits (as ``terraform init``), in
    go-version's canonical form, or None. A listed version go-version cannot read is skipped."""
    constraints = parse_constraints(constraint)
    best: Version | None = None
    for text in available:
        version = parse_version(text)
        if version is not None and admits(constraints, version) and (best is None or version > best):
            best = version
    return None if best is None else str(best)


def newest_versions(available: Iterable[str], limit: int = 10) -> list[str]:
    """The newest ``limit`` readable versions of a list, newest first (for messages)."""
    readable = sorted({v for v in map(parse_version, available) if v is not None}, reverse=True)
    return [str(v) for v in readable[:limit]]


# --- credentials -------------------------------------------------------------------------------


def token_variable(host: str) -> str:
    """Terraform's environment variable for a host's token: ``TF_TOKEN_`` + the host, punycoded,
    with ``-`` written ``__`` and ``.`` written ``_`` (``my-reg.example.com`` ->
    ``TF_TOKEN_my__reg_example_com``)."""
    name = host.split(":")[0].lower()
    with contextlib.suppress(UnicodeError):
        name = name.encode("idna").decode("ascii")
    return "TF_TOKEN_" + name.replace("-", "__").replace(".", "_")
