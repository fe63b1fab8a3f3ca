"""Fetching remote module sources into a local, content-addressed cache, as ``terraform init``.

The decisions (what a source string is, which version a constraint selects, which environment
variable holds a host's token) are pure functions in driftwatch.terraform.addresses; this
module does the I/O: the module registry protocol (service discovery, versions, download),
``git`` through its CLI, and HTTP(S) archives, all of them bounded.

Every fetch is refused unless its host is allowed (``modules.allowed_hosts``); a redirect to
another host is an error, never followed silently; plain ``http://`` only for loopback hosts
named in ``insecure_http_hosts`` (tests). Archives are extracted with no path escape, no link,
and limits on bytes and files; git runs without a shell, with a timeout, no terminal prompt,
only the https/ssh protocols (file for tests), and no redirects.

Cache layout under ``cache_dir``: ``packages/<digest>/`` holds one fetched package (the digest
is the SHA-256 of the archive, or the git commit), ``resolved/<key>.json`` records which
package and version a (source, constraint or ref) resolved to; ``leases/``, ``lock`` and
``usage.json`` keep the whole cache under ``modules.cache_max_bytes`` (driftwatch.terraform.cache).
A resolution is reused across scans without any network call, so a steady-state daemon never
fetches; a changed constraint or ref is a new key, hence a fresh resolution (an evicted
resolution or package is fetched again). The fetcher holds no global state: a worker
process builds its own from the same (picklable) ModuleSettings.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import fnmatch
import gzip
import hashlib
import http.client
import io
import json
import lzma
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from driftwatch.gitenv import base_env
from driftwatch.terraform import cache
from driftwatch.terraform.addresses import (
    ArchiveSource,
    GitSource,
    HttpSource,
    LocalSource,
    ModuleSource,
    RegistrySource,
    SourceError,
    UnsupportedSource,
    newest_versions,
    parse_constraints,
    parse_source,
    redact,
    select_version,
    token_variable,
)

try:  # CPython's own stream reader of lzma.open, which takes a decoder's arguments
    from _compression import DecompressReader
except ImportError:  # pragma: no cover - Python 3.14 moved it (PEP 784)
    from compression._common._streams import DecompressReader  # type: ignore[import-not-found,no-redef]

DEFAULT_ALLOWED_HOSTS = ("registry.terraform.io", "github.com")
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_FILES = 5_000
DEFAULT_TIMEOUT = 60.0
DEFAULT_CACHE_MAX_BYTES = cache.DEFAULT_CACHE_MAX_BYTES
# Distinct remote sources one target's evaluation may use: far above a real root's (a handful
# to a few dozen), low enough that one repository cannot take a scan's time and cache.
DEFAULT_MAX_SOURCES = 200
# A branch, a source without a ref, a version range or an archive URL can point at other
# content tomorrow (``terraform init`` in a CI takes what it points at then): after this many
# seconds such a resolution is made again. A commit id or an exact version never moves.
DEFAULT_REFRESH = 3600.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_MAX_REDIRECTS = 5
_MAX_JSON_BYTES = 1024 * 1024
_MAX_GIT_OUTPUT = 1024 * 1024  # git's messages, and what a command other than a listing prints
_GIT_BYTES_PER_ENTRY = 1024  # of `git ls-tree -r -l -z`: modes, ids, sizes and a long path
_STALE_MARGIN_SECONDS = 60.0  # on top of twice modules.timeout: when a staging directory is stale
_GIT_OVERHEAD = 1024 * 1024  # a fresh .git (hooks, config) on top of modules.max_bytes of pack
# Directories a package's path may nest. Python 3.11's os.walk and shutil.rmtree recurse once
# per level: a file 1,200 directories down (2,400 characters, under PATH_MAX) made every walk
# of the package raise RecursionError, its staging directory could not be removed, and the sweep
# of stale staging directories then failed every later fetch. Real modules nest a few levels.
MAX_PACKAGE_DEPTH = 100
_NETLOC = re.compile(
    r"^(?:[A-Za-z0-9._~!$&'()*+,;=:%-]*@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z"
)
# Cache keys of registry resolutions, renamed when the selection rules change: a resolution
# cached under the old rules (``~> 1`` read as ``~> 1.0``) must not outlive them.
_VERSION_KEY = "version/go-version"
_REGISTRY_KEY = "registry/go-version"
_META = re.compile(rb"""<meta\s+name=["']terraform-get["']\s+content=["']([^"']+)["']""", re.IGNORECASE)


@dataclass(frozen=True)
class ModuleSettings:
    """How remote module sources are fetched (the ``modules`` config section)."""

    offline: bool = False
    cache_dir: str | None = None  # None: nothing can be fetched or cached
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    # host -> replacement ("mirror.internal", "https://mirror.internal:8443"): every request for
    # the host goes there instead (a registry mirror, an air-gapped registry, a git mirror).
    host_overrides: tuple[tuple[str, str], ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    max_files: int = DEFAULT_MAX_FILES
    timeout: float = DEFAULT_TIMEOUT
    # Loopback hosts that may be reached over plain http (a local test registry); nothing else.
    insecure_http_hosts: tuple[str, ...] = ()
    allow_file_git: bool = False  # git over file:// (local repositories in tests)
    credentials_file: str | None = None  # default: ~/.terraform.d/credentials.tfrc.json
    cache_max_bytes: int = DEFAULT_CACHE_MAX_BYTES  # the whole cache (driftwatch.terraform.cache)
    max_sources: int = DEFAULT_MAX_SOURCES  # distinct remote sources per target evaluation
    # Seconds after which a moving reference (a branch, a version range) is resolved again.
    refresh: float = DEFAULT_REFRESH


OFFLINE = ModuleSettings(offline=True)


class NotFetched(Exception):
    """A module source that could not be had; the message is the reason shown to users."""


@dataclass(frozen=True)
class Package:
    """A fetched module: the directory of the module (subdir applied) and its package root."""

    root: Path
    directory: Path
    version: str | None
    label: str  # how files inside are named in reports: "<source>@<version>"


@dataclass
class Fetcher:
    """Resolves and fetches remote sources for one evaluation (cheap to build; no shared state)."""

    settings: ModuleSettings
    env: Mapping[str, str] = field(default_factory=dict)
    _versions: dict[str, list[str]] = field(default_factory=dict)
    # host:port -> why it could not be reached: asked once per evaluation, so that a network
    # that drops packets costs one timeout, not one per module call.
    _unreachable: dict[str, str] = field(default_factory=dict)
    _swept: bool = False  # stale staging directories removed (once per evaluation)
    # (source, constraint) asked by this evaluation, against modules.max_sources
    _asked: set[tuple[str, str | None]] = field(default_factory=set)
    _leases: cache.Leases | None = None  # the cached packages this evaluation uses
    # When the first moving reference this evaluation resolved is due to be resolved again
    # (time.time()); a memoised evaluation is not reused past it. None: nothing moving.
    expires_at: float | None = None

    # --- public ---

    def fetch(self, source: str, constraint: str | None) -> Package:
        """The package for a non-local module source; NotFetched with the reason otherwise."""
        try:
            return self._fetch(source, constraint)
        except (NotFetched, MemoryError):
            raise  # MemoryError: the worker's limit, the target's error
        except Exception as error:
            raise _refusal(error) from None

    def _fetch(self, source: str, constraint: str | None) -> Package:
        try:
            parsed = parse_source(source)
        except SourceError as error:
            raise NotFetched(str(error)) from None
        if isinstance(parsed, UnsupportedSource):
            raise NotFetched(parsed.reason)
        if isinstance(parsed, LocalSource):
            raise NotFetched("a local path is not fetched")
        self._charge(source, constraint)
        if isinstance(parsed, RegistrySource):
            return self._registry(parsed, constraint)
        if constraint:
            raise NotFetched("a version constraint is only valid for registry modules")
        key = _key("source", parsed.display)
        moving = moves(parsed, None)
        cached = self._recall(key, parsed, moving)
        if cached is not None:
            return cached
        self._online(parsed.display)
        inner_subdir = ""
        if isinstance(parsed, HttpSource):
            inner = self._terraform_get(parsed)
            inner_subdir = inner.subdir
            root, version = self._fetch_package(inner)
            origin = self._origin(inner.url)
        else:
            root, version = self._fetch_package(parsed)
            origin = self._origin(parsed.url)
        self._remember(key, root, version, inner_subdir, moving, origin)
        subdir = "/".join(part for part in (inner_subdir, parsed.subdir) if part)
        return self._package(root, subdir, version, redact(parsed.display), glob=True)

    def close(self) -> None:
        """The evaluation is over: the cached packages it used may be evicted again."""
        if self._leases is not None:
            self._leases.release()

    def _charge(self, source: str, constraint: str | None) -> None:
        """Count a distinct remote source against modules.max_sources (cached or not: what a
        target may use does not depend on what happens to be cached)."""
        key = (source, constraint)
        if key in self._asked:
            return
        if len(self._asked) >= self.settings.max_sources:
            raise NotFetched(
                f"the target already uses {self.settings.max_sources} distinct remote module sources "
                "(modules.max_sources); this one is not fetched"
            )
        self._asked.add(key)

    def _terraform_get(self, source: HttpSource) -> GitSource | ArchiveSource:
        """Terraform's HTTP getter: ``GET url?terraform-get=1`` names the real source in an
        ``X-Terraform-Get`` header, else in a ``<meta name="terraform-get" content="...">`` tag."""
        parts = urlsplit(source.url)
        query = f"{parts.query}&terraform-get=1" if parts.query else "terraform-get=1"
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        _, headers, body = self._request(url, source.host, _MAX_JSON_BYTES)
        location = headers.get("x-terraform-get")
        if not location:
            found = _META.search(body)
            location = found.group(1).decode("utf-8", "replace") if found else None
        if not location:
            raise NotFetched(f"{_strip_query(source.url)} names no module source (no X-Terraform-Get)")
        try:
            inner = parse_source(urljoin(source.url, location))
        except (SourceError, ValueError) as error:  # ValueError: urljoin's, for an unclosed [
            raise NotFetched(f"{_strip_query(source.url)} names an unusable source: {error}") from None
        if not isinstance(inner, (GitSource, ArchiveSource)):
            what = f"{_strip_query(source.url)} names {redact(location)!r}"
            raise NotFetched(f"{what}, which is not a git or archive source")
        return inner

    def registry_versions(self, source: RegistrySource) -> list[str]:
        """The versions the registry lists for a module (asked once per evaluation)."""
        if source.package not in self._versions:
            self._online(source.display)
            base = self._discover(source.host)
            url = f"{base}{source.namespace}/{source.name}/{source.system}/versions"
            data = self._get_json(url, source.host)
            try:
                self._versions[source.package] = [str(v["version"]) for v in data["modules"][0]["versions"]]
            except (KeyError, IndexError, TypeError):
                raise NotFetched(f"the registry's version list for {source.package} is malformed") from None
        return self._versions[source.package]

    def resolve_version(self, source: RegistrySource, constraint: str | None) -> str:
        """The newest version the constraint admits, as ``terraform init`` picks it; remembered
        per (module, constraint) so that later scans ask nothing (a changed constraint asks).
        Called alone for a CloudPosse call: what it raises is a refusal, as fetch's is."""
        try:
            return self._resolve_version(source, constraint)
        except (NotFetched, MemoryError):
            raise
        except Exception as error:
            raise _refusal(error) from None

    def _resolve_version(self, source: RegistrySource, constraint: str | None) -> str:
        key = _key(_VERSION_KEY, source.package, _constraint_key(constraint))
        path = self._cache("resolved") / f"{key}.json"
        known = _read_json_file(path)
        known = {"version": known} if isinstance(known, str) else known  # written before its time was
        moving = moves(source, constraint)
        if isinstance(known, dict) and isinstance(known.get("version"), str) and self._fresh(known, moving):
            return str(known["version"])
        # Resolved now. Should the registry not answer and a stand-in be evaluated (a CloudPosse
        # release driftwatch knows), that result is not reused past one refresh either.
        self._expires(moving)
        versions = self.registry_versions(source)
        try:
            chosen = select_version(versions, constraint)
        except SourceError as error:
            raise NotFetched(str(error)) from None
        if chosen is None:
            seen = newest_versions(versions)
            listed = ", ".join(seen) + (", ..." if len(versions) > len(seen) else "") if seen else "none"
            raise NotFetched(
                f"no version of {source.package} matches {constraint!r} (the registry lists "
                f"{len(versions)}, newest first: {listed}; a prerelease only when the constraint "
                "is exactly that version)"
            )
        _write_json_file(path, {"version": chosen, "resolved_at": time.time()})
        return chosen

    # --- registry ---

    def _registry(self, source: RegistrySource, constraint: str | None) -> Package:
        key = _key(_REGISTRY_KEY, source.package, _constraint_key(constraint))
        moving = moves(source, constraint)
        cached = self._recall(key, source, moving)
        if cached is not None:
            return cached
        self._online(source.display)
        chosen = self.resolve_version(source, constraint)
        base = self._discover(source.host)
        url = f"{base}{source.namespace}/{source.name}/{source.system}/{chosen}/download"
        status, headers, body = self._request(url, source.host, _MAX_JSON_BYTES)
        location = None
        if status == 200:  # the JSON body first, then the header (Terraform's registry client)
            try:
                location = json.loads(body).get("location")
            except (ValueError, AttributeError):
                location = None
        location = location if isinstance(location, str) and location else headers.get("x-terraform-get")
        if not location:
            raise NotFetched(f"the registry gave no download location for {source.package} {chosen}")
        inner = _download_location(location, url, f"{source.package} {chosen}")
        root, _ = self._fetch_package(inner)
        self._remember(key, root, chosen, inner.subdir, moving, self._origin(inner.url))
        subdir = "/".join(part for part in (inner.subdir, source.subdir) if part)
        return self._package(root, subdir, chosen, f"{source.package}@{chosen}")

    def _discover(self, host: str) -> str:
        """The modules.v1 base URL of a registry host (``/.well-known/terraform.json``)."""
        url = f"https://{host}/.well-known/terraform.json"
        data = self._get_json(url, host)
        service = data.get("modules.v1") if isinstance(data, dict) else None
        if not isinstance(service, str):
            raise NotFetched(f"{host} is not a module registry (no modules.v1 in its service discovery)")
        base = urljoin(self._rewrite(url), service)
        return base if base.endswith("/") else base + "/"

    # --- fetching packages ---

    def _fetch_package(self, source: GitSource | ArchiveSource) -> tuple[Path, str | None]:
        if isinstance(source, GitSource):
            return self._git(source)
        return self._archive(source)

    def _archive(self, source: ArchiveSource) -> tuple[Path, str | None]:
        _, _, body = self._request(source.url, source.host, self.settings.max_bytes)
        digest = hashlib.sha256(body).hexdigest()
        target = self._cache("packages") / digest
        self._hold(digest)
        if target.is_dir():
            return target, None
        with self._staging() as staging:
            extract_archive(body, source.archive, staging, self.settings.max_bytes, self.settings.max_files)
            return self._publish(staging, digest), None

    def _git(self, source: GitSource) -> tuple[Path, str | None]:
        url = self._rewrite(source.url)
        parts = urlsplit(url)
        if parts.scheme == "file":
            if not self.settings.allow_file_git:
                raise NotFetched("git over file:// is not allowed")
        else:
            self._check_host(parts.hostname or "", parts.scheme, source.url, parts.netloc)
        protocols = ["https", "ssh"] + (["file"] if self.settings.allow_file_git else [])
        config = ["-c", "protocol.allow=never", "-c", "http.followRedirects=false"]
        for protocol in protocols:
            config += ["-c", f"protocol.{protocol}.allow=always"]
        deadline = time.monotonic() + self.settings.timeout  # for all of git's commands together
        with self._staging() as staging:
            work = staging / "checkout"
            work.mkdir()
            ref = source.ref or "HEAD"
            depth = ["--depth", str(source.depth or 1)]
            self._run_git([*config, "init", "-q", str(work)], None, deadline)
            self._run_git(
                [*config, "-C", str(work), "fetch", "-q", *depth, "--no-tags", "--", url, ref],
                source,
                deadline,
                watch=work,
            )
            self._check_listing(work, source, deadline)
            # Without the user's git config: a module's .gitattributes could otherwise name a
            # filter it defines (git LFS, whose smudge downloads from any host .lfsconfig names).
            self._run_git(
                [*config, "-C", str(work), "checkout", "-q", "--detach", "FETCH_HEAD"],
                source,
                deadline,
                own_config_only=True,
            )
            commit = self._run_git(["-C", str(work), "rev-parse", "HEAD"], source, deadline).strip()
            shutil.rmtree(work / ".git", ignore_errors=True)
            check_tree(work, self.settings.max_bytes, self.settings.max_files)
            name = f"git-{commit}"
            self._hold(name)
            target = self._publish(work, name)
        return target, source.ref

    def _check_listing(self, work: Path, source: GitSource, deadline: float) -> None:
        """The fetched commit's files, counted and sized from git's own listing before a byte is
        checked out: a blob of zeros compresses 1,000:1, so a small fetch can be a checkout that
        fills the disk (check_tree, after the checkout, came too late)."""
        max_files, max_bytes = self.settings.max_files, self.settings.max_bytes
        too_many = f"the package holds more than {max_files:,} files"
        listing = self._run_git(
            ["-C", str(work), "ls-tree", "-r", "-l", "-z", "FETCH_HEAD"],
            source,
            deadline,
            max_output=(max_files + 1) * _GIT_BYTES_PER_ENTRY,
            overflow=too_many,
        )
        entries = [entry for entry in listing.split("\0") if entry]
        if len(entries) > max_files:
            raise NotFetched(too_many)
        for entry in entries:
            _check_depth(entry.split("\t", 1)[-1])
        sizes = (entry.split("\t", 1)[0].split()[-1] for entry in entries)
        total = sum(int(size) for size in sizes if size.isascii() and size.isdigit())
        if total > max_bytes:
            raise NotFetched(f"the package is larger than {max_bytes:,} bytes")

    def _run_git(
        self,
        argv: list[str],
        source: GitSource | None,
        deadline: float,
        *,
        watch: Path | None = None,
        max_output: int = _MAX_GIT_OUTPUT,
        overflow: str = "",
        own_config_only: bool = False,
    ) -> str:
        """git with a deadline for the whole fetch, its output bounded (a hostile server can talk
        on stderr for as long as it likes) and, while it fetches, the size of ``watch`` bounded:
        the pack is written as it arrives, and the timeout alone let it fill the disk."""
        env = base_env(user_config=not own_config_only)
        env["GIT_SSH_COMMAND"] = f"ssh -o BatchMode=yes -o ConnectTimeout={int(self.settings.timeout)}"
        for name in ("SSH_AUTH_SOCK", "GIT_SSL_CAINFO", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
            if name in os.environ:
                env[name] = os.environ[name]
        what = redact(source.display) if source is not None else "git"

        def check(out: Any, err: Any) -> None:
            if os.fstat(out.fileno()).st_size > max_output:
                raise NotFetched(overflow or f"git wrote more than {max_output:,} bytes for {what}")
            if os.fstat(err.fileno()).st_size > _MAX_GIT_OUTPUT:
                raise NotFetched(f"git's messages for {what} are longer than {_MAX_GIT_OUTPUT:,} bytes")
            if watch is not None and cache.tree_bytes(watch) > self.settings.max_bytes + _GIT_OVERHEAD:
                raise NotFetched(f"{what} is larger than {self.settings.max_bytes:,} bytes")

        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                # Its own process group, killed whole: git's transport helper (ssh, or curl in
                # git-remote-https) waits on a silent server with no timeout of its own, and
                # outlived a git killed alone, one more process per scan.
                process = subprocess.Popen(
                    ["git", *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=env,
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise NotFetched("git is not installed") from None
            try:
                while True:
                    try:
                        returncode = process.wait(timeout=0.1)
                    except subprocess.TimeoutExpired:
                        if time.monotonic() > deadline:
                            raise NotFetched(f"git took longer than {self.settings.timeout:g}s") from None
                        check(out, err)
                    else:
                        break
                check(out, err)
            finally:
                # Only while git, the group's leader, is not reaped: its id cannot name another
                # group then. A git that ended by itself has waited for its helpers.
                if process.poll() is None:
                    with contextlib.suppress(OSError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.kill()  # the leader, should the group be gone already
                    process.wait()
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode("utf-8", "replace")
            stderr = err.read().decode("utf-8", "replace")
        if returncode != 0:
            lines = [line for line in stderr.strip().splitlines() if line.strip()]
            detail = _redact(lines[-1]) if lines else f"exit code {returncode}"
            raise NotFetched(f"git could not fetch {what}: {detail}")
        return stdout

    # --- HTTP ---

    def _get_json(self, url: str, host: str) -> Any:
        _, _, body = self._request(url, host, _MAX_JSON_BYTES)
        try:
            return json.loads(body)
        except ValueError:
            raise NotFetched(f"{_strip_query(url)} did not answer JSON") from None

    def _request(self, url: str, host: str, max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        """GET with the host's token (only to that host), same-host redirects only, bounded."""
        current = self._rewrite(url)
        auth_host = urlsplit(self._rewrite(f"https://{host}/")).hostname
        deadline = time.monotonic() + self.settings.timeout
        for _ in range(_MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            self._check_host(parts.hostname or "", parts.scheme, url, parts.netloc)
            if parts.netloc in self._unreachable:
                raise NotFetched(self._unreachable[parts.netloc])
            headers = {"User-Agent": "driftwatch", "Accept": "application/json, */*"}
            token = self._token(host) if parts.hostname == auth_host else None
            if token:
                headers["Authorization"] = f"Bearer {token}"
            request = urllib.request.Request(current, headers=headers)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotFetched(f"{_strip_query(url)} took longer than {self.settings.timeout:g}s")
            try:
                with _watchdog(remaining) as expired, _OPENER.open(request, timeout=remaining) as response:
                    body = _read_bounded(response, max_bytes, deadline, url)
                    if expired.is_set():
                        raise TimeoutError("timed out")
                    return response.status, {k.lower(): v for k, v in response.headers.items()}, body
            except _Redirect as redirect:
                try:
                    target = urljoin(current, redirect.location)
                    new = urlsplit(target)
                    new_port = new.port
                except ValueError as error:  # a port out of range, an unclosed [
                    raise NotFetched(f"{_strip_query(url)} redirects to an invalid URL ({error})") from None
                if (new.hostname, new_port) != (parts.hostname, parts.port) or (
                    parts.scheme == "https" and new.scheme != "https"
                ):
                    raise NotFetched(
                        f"{_strip_query(url)} redirects to another host ({new.hostname}); not followed"
                    ) from None
                current = target
            except urllib.error.HTTPError as error:
                raise NotFetched(f"{_strip_query(url)} answered HTTP {error.code}") from None
            except (http.client.HTTPException, ValueError) as error:
                # Not OSError: a status line that is not HTTP, over 100 headers, a body cut
                # short, a Location urllib cannot parse. They escaped the fetch, and the
                # evaluation, which did not know it depended on the network, was memoised.
                message = (
                    f"{_strip_query(url)} did not answer in HTTP driftwatch can read ({type(error).__name__})"
                )
                self._unreachable[parts.netloc] = message
                raise NotFetched(message) from None
            except (urllib.error.URLError, OSError, TimeoutError) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                    message = f"{_strip_query(url)} took longer than {self.settings.timeout:g}s"
                else:
                    message = f"{_strip_query(url)} could not be reached: {reason}"
                self._unreachable[parts.netloc] = message
                raise NotFetched(message) from None
        raise NotFetched(f"{_strip_query(url)} redirects more than {_MAX_REDIRECTS} times")

    def _check_host(self, hostname: str, scheme: str, original: str, netloc: str = "") -> None:
        # The host Python reads must be the host git, ssh and curl connect to: one user info
        # at most, no backslash or percent-escape in the host (ssh splits at the last "@", git
        # decodes %2e), an ASCII name (an IDN host is written in punycode, as Terraform sends it).
        if netloc and not _NETLOC.match(netloc):
            raise NotFetched(
                f"{_strip_query(original)}: the host part is not a plain host name "
                "(one user@ at most, ASCII letters, digits, dots and dashes, an optional port)"
            )
        # A configured mirror (modules.hosts) is trusted like the host it stands in for.
        mirrors = tuple(
            urlsplit(target).hostname or "" if "://" in target else target.split(":")[0]
            for _, target in self.settings.host_overrides
        )
        if not host_allowed(hostname, (*self.settings.allowed_hosts, *mirrors)):
            raise NotFetched(f"host {hostname or '(none)'} is not in modules.allowed_hosts")
        if scheme == "http" and hostname not in self.settings.insecure_http_hosts:
            raise NotFetched(f"{_strip_query(original)}: plain http is not allowed")
        if scheme == "http" and hostname not in _LOOPBACK:
            raise NotFetched(f"{_strip_query(original)}: plain http is only allowed to a loopback host")
        if scheme not in ("https", "http", "ssh"):
            raise NotFetched(f"{scheme}:// is not allowed")

    def _origin(self, url: str) -> str:
        """Where a URL is fetched from (its mirror applied), as ``scheme://host:port``, without
        credentials: what a resolution record keeps to check the host again when reused."""
        parts = urlsplit(self._rewrite(url))
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")

    def _check_origin(self, origin: str) -> None:
        parts = urlsplit(origin)
        if parts.scheme == "file":
            if not self.settings.allow_file_git:
                raise NotFetched("git over file:// is not allowed")
            return
        self._check_host(parts.hostname or "", parts.scheme, origin, parts.netloc)

    def _rewrite(self, url: str) -> str:
        """Apply the per-host override (a mirror) to a URL."""
        parts = urlsplit(url)
        overrides = dict(self.settings.host_overrides)
        target = overrides.get(parts.netloc) or overrides.get(parts.hostname or "")
        if not target:
            return url
        if "://" in target:
            base = urlsplit(target)
            path = base.path.rstrip("/") + parts.path
            return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
        return urlunsplit((parts.scheme, target, parts.path, parts.query, ""))

    def _token(self, host: str) -> str | None:
        """TF_TOKEN_<host>, else the Terraform CLI credentials file."""
        name = token_variable(host)
        for key, value in self.env.items():
            if key.lower() == name.lower() and value:
                return value
        path = Path(self.settings.credentials_file or Path.home() / ".terraform.d" / "credentials.tfrc.json")
        data = _read_json_file(path)
        credentials = data.get("credentials") if isinstance(data, dict) else None
        entry = credentials.get(host) if isinstance(credentials, dict) else None
        token = entry.get("token") if isinstance(entry, dict) else None
        return token if isinstance(token, str) and token else None

    # --- cache ---

    def _online(self, what: str) -> None:
        if self.settings.offline:
            raise NotFetched(f"modules.offline is set and {redact(what)} is not in the module cache")
        if self.settings.cache_dir is None:
            raise NotFetched("no module cache directory is configured")

    def _cache(self, kind: str) -> Path:
        if self.settings.cache_dir is None:
            raise NotFetched("no module cache directory is configured")
        path = Path(self.settings.cache_dir) / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def _staging(self) -> Any:
        area = self._cache("tmp")
        if not self._swept:
            self._swept = True
            _sweep_stale(area, 2 * self.settings.timeout + _STALE_MARGIN_SECONDS)
        staging = Path(tempfile.mkdtemp(dir=area))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _hold(self, name: str) -> None:
        """Lease a cached package (before looking at it) until the evaluation ends."""
        if self._leases is None:
            self._leases = cache.Leases(Path(self.settings.cache_dir or "."))
        try:
            self._leases.hold(name)
        except OSError as error:
            # A read-only cache (baked into an image, used offline) is read without a lease:
            # nothing can evict from it, and publishing into it fails with its own reason.
            if error.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise

    def _publish(self, staging: Path, name: str) -> Path:
        assert self.settings.cache_dir is not None and self._leases is not None
        return cache.publish(
            Path(self.settings.cache_dir),
            staging,
            name,
            self._leases,
            self.settings.cache_max_bytes,
            self.settings.timeout,
        )

    def _fresh(self, record: Mapping[str, Any], moving: bool) -> bool:
        """Whether a resolution may be reused: a fixed reference always; a moving one until
        ``refresh`` seconds after it was made (always when offline: the cache is all there is).
        A record without its time (written before this rule) is made again once."""
        if not moving or self.settings.offline:
            return True
        made = record.get("resolved_at")
        if (
            isinstance(made, bool)
            or not isinstance(made, (int, float))
            or time.time() - made >= self.settings.refresh
        ):
            return False
        self._expires(moving, made)
        return True

    def _expires(self, moving: bool, made: float | None = None) -> None:
        """Note when a moving resolution this evaluation used is due again."""
        if moving and not self.settings.offline:
            due = (time.time() if made is None else made) + self.settings.refresh
            self.expires_at = due if self.expires_at is None else min(self.expires_at, due)

    def _recall(self, key: str, source: ModuleSource, moving: bool) -> Package | None:
        if self.settings.cache_dir is None:
            return None
        record = Path(self.settings.cache_dir) / "resolved" / f"{key}.json"
        data = _read_json_file(record)
        if not isinstance(data, dict) or not isinstance(data.get("package"), str):
            return None
        if not self._fresh(data, moving):
            return None  # resolved again: a branch may point at another commit now
        name = data["package"]
        if "/" in name or name.startswith("."):
            return None
        # Allowed now, not only when it was fetched: a host taken out of modules.allowed_hosts
        # (or allowed only by another configuration sharing the cache) served its package on.
        own = f"https://{source.host}/" if isinstance(source, RegistrySource) else getattr(source, "url", "")
        for origin in (self._origin(own), data.get("origin")):
            if isinstance(origin, str):
                self._check_origin(origin)
        root = Path(self.settings.cache_dir) / "packages" / name
        self._hold(name)
        if not root.is_dir():
            return None
        with contextlib.suppress(OSError):
            cache.touch(record)  # used: the last to be evicted
        version = data.get("version") if isinstance(data.get("version"), str) else None
        subdir = getattr(source, "subdir", "")
        inner = data.get("subdir") if isinstance(data.get("subdir"), str) else ""
        label = (
            f"{source.package}@{version}" if isinstance(source, RegistrySource) else redact(source.display)
        )
        glob = not isinstance(source, RegistrySource)
        return self._package(root, "/".join(p for p in (inner, subdir) if p), version, label, glob=glob)

    def _remember(
        self,
        key: str,
        root: Path,
        version: str | None,
        inner_subdir: str = "",
        moving: bool = False,
        origin: str = "",
    ) -> None:
        path = self._cache("resolved") / f"{key}.json"
        record = {"package": root.name, "version": version, "subdir": inner_subdir, "origin": origin}
        _write_json_file(path, {**record, "resolved_at": time.time()})
        self._expires(moving)

    def _package(
        self, root: Path, subdir: str, version: str | None, label: str, glob: bool = False
    ) -> Package:
        """The module's directory in a fetched package. A go-getter address's subdirectory may
        be a glob (``//*``: the one top directory of an archive), expanded as go-getter's
        SubdirGlob: exactly one match, else the reason."""
        if glob and any(c in subdir for c in "*?["):
            subdir = _glob_one(root, subdir)
        # realpath: a subdirectory that is a symlink loop is not a directory, not a RuntimeError
        directory = Path(os.path.realpath(root / subdir)) if subdir else root.resolve()
        real_root = root.resolve()
        if directory != real_root and real_root not in directory.parents:
            raise NotFetched(f"subdirectory {subdir!r} leaves the package")
        if not directory.is_dir():
            raise NotFetched(f"the package has no directory {subdir!r}")
        return Package(real_root, directory, version, label)


# --- helpers -----------------------------------------------------------------------------------


def _refusal(error: Exception) -> NotFetched:
    """What a fetch raised, as the call's reason: never the target's error, and marking the
    evaluation as depending on the network (NotFetched), so that it is not memoised and the
    next scan asks again."""
    if isinstance(error, cache.CacheFull):
        return NotFetched(str(error))
    if isinstance(error, OSError):
        # The module cache (a full disk, a read-only volume, a file where a directory goes):
        # this call is not evaluated; the target's other tables still are.
        reason = error.strerror or type(error).__name__
        return NotFetched(f"the module cache (modules.cache_dir) cannot be written: {reason}")
    # Whatever else a server or a package makes Python raise (a RecursionError from JSON
    # nested 100,000 deep, ...).
    detail = f"{type(error).__name__}: {error}"[:200]
    return NotFetched(f"the module could not be fetched ({_redact(detail)})")


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are decided by Fetcher._request (same host only), never followed by urllib."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise _Redirect(newurl)


_watched = threading.local()


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[threading.Event]:
    """Shut down the sockets this thread opens once ``seconds`` have passed. A socket timeout
    bounds each read only: a server that drips one byte at a time (in the headers or the body)
    never trips it, and kept a fetch, and the target's whole evaluation, for hours."""
    sockets: list[socket.socket] = []
    expired = threading.Event()
    lock = threading.Lock()

    def expire() -> None:
        with lock:
            expired.set()
            for sock in sockets:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the OS socket, TLS or not

    def watch(sock: socket.socket) -> None:
        with lock:
            sockets.append(sock)
            if expired.is_set():
                expire()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    previous = getattr(_watched, "watch", None)
    _watched.watch = watch
    timer.start()
    try:
        yield expired
    except (OSError, ValueError, http.client.HTTPException) as error:
        if expired.is_set():
            raise TimeoutError("timed out") from error
        raise
    finally:
        timer.cancel()
        _watched.watch = previous


def _watch(sock: socket.socket | None) -> None:
    watch = getattr(_watched, "watch", None)
    if watch is not None and sock is not None:
        watch(sock)


def _watched_connection(*args: Any, **kwargs: Any) -> socket.socket:
    sock = socket.create_connection(*args, **kwargs)
    _watch(sock)  # before any byte is read: a TLS handshake can drip too
    return sock


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _watched_connection


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _watched_connection

    def connect(self) -> None:
        super().connect()
        _watch(self.sock)  # the TLS socket now owns the descriptor


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(_WatchedHTTPConnection, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        # urllib's defaults (the system's CA store, hostnames checked), as its own handler has
        context = getattr(self, "_context", None)
        return self.do_open(_WatchedHTTPSConnection, req, context=context)


_OPENER = urllib.request.build_opener(_NoRedirects, _WatchedHTTPHandler, _WatchedHTTPSHandler)


def _glob_one(root: Path, pattern: str) -> str:
    """go-getter's SubdirGlob (Go's filepath.Glob: ``*`` matches dot-files too): the one path
    under ``root`` that ``pattern`` matches, relative to it."""
    found = [""]
    for part in pattern.split("/"):
        matches: list[str] = []
        for prefix in found:
            if not any(c in part for c in "*?["):
                matches.append(f"{prefix}/{part}".lstrip("/"))
                continue
            with contextlib.suppress(OSError):
                names = sorted(os.listdir(root / prefix))[: DEFAULT_MAX_FILES + 1]
                hits = [name for name in names if fnmatch.fnmatchcase(name, part)]
                matches += [f"{prefix}/{name}".lstrip("/") for name in hits]
        found = [m for m in matches if (root / m).exists()]
    if not found:
        raise NotFetched(f"subdir {pattern!r} not found in the package")
    if len(found) > 1:
        raise NotFetched(f"subdir {pattern!r} matches multiple paths in the package")
    return found[0]


def _download_location(location: str, url: str, what: str) -> GitSource | ArchiveSource:
    """A registry's download location as Terraform reads it: relative to the download URL only
    when it starts with ``/``, ``./`` or ``../``; anything else is a go-getter address in its
    own right (``git::https://...?ref=v1``, ``github.com/org/repo``), never a local path or
    another registry address. Its host is checked against modules.allowed_hosts when fetched."""
    if location.startswith(("/", "./", "../")):
        location = urljoin(url, location)
    try:
        inner = parse_source(location)
    except SourceError as error:
        raise NotFetched(f"the registry's download location for {what} is not usable: {error}") from None
    if isinstance(inner, (GitSource, ArchiveSource)):
        return inner
    if isinstance(inner, UnsupportedSource):
        reason = inner.reason
    elif isinstance(inner, (LocalSource, RegistrySource)):
        reason = "it must be a direct remote package address (Terraform refuses it too)"
    else:
        reason = "it is not a git or archive source"
    raise NotFetched(f"{what} downloads from {redact(location)!r}: {reason}")


def host_allowed(hostname: str, allowed: tuple[str, ...]) -> bool:
    """``github.com`` allows exactly that host; ``*.example.com`` its subdomains."""
    hostname = hostname.lower()
    for entry in allowed:
        entry = entry.lower().split(":")[0] if not entry.startswith("[") else entry.lower()
        if entry.startswith("*.") and hostname.endswith(entry[1:]):
            return True
        if hostname == entry:
            return True
    return False


def _read_bounded(response: Any, max_bytes: int, deadline: float, url: str) -> bytes:
    length = response.headers.get("Content-Length")
    if length and length.isascii() and length.isdigit() and int(length) > max_bytes:
        raise NotFetched(f"{_strip_query(url)} is larger than the {max_bytes:,} bytes allowed")
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")  # named with the timeout by Fetcher._request
        chunk = response.read(65536)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise NotFetched(f"{_strip_query(url)} is larger than the {max_bytes:,} bytes allowed")
        chunks.append(chunk)


def _strip_query(url: str) -> str:
    """A URL for messages: no query (signed URLs carry credentials there) and no user info."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _redact(line: str) -> str:
    """git's messages may quote a URL with credentials in it."""
    return re.sub(r"://[^/@\s]+@", "://***@", line)


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _constraint_key(constraint: str | None) -> str:
    """A registry constraint as part of a cache key ("" for none); NotFetched, before any cached
    answer is read, for one Terraform refuses: ``version = ""`` shared the key of no version and
    was given its cached resolution."""
    try:
        parse_constraints(constraint)
    except SourceError as error:
        raise NotFetched(str(error)) from None
    return constraint or ""


def moves(source: ModuleSource, constraint: str | None) -> bool:
    """Whether what ``source`` (with ``constraint``) resolves to can change with time: a git
    branch or tag, or no ref (the default branch); a registry version range; an archive or HTTP
    URL. Not a full commit id, nor a registry constraint with ``=`` (one version)."""
    if isinstance(source, GitSource):
        return source.ref is None or _COMMIT_ID.fullmatch(source.ref) is None
    if isinstance(source, RegistrySource):
        try:
            return not any(c.op == "=" for c in parse_constraints(constraint))
        except SourceError:
            return True
    return True


def _read_json_file(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_JSON_BYTES + 1)
    except OSError:
        return None
    if len(data) > _MAX_JSON_BYTES:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _write_json_file(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise NotFetched(f"the archive entry {name!r} would be written outside the package")
    _check_depth(str(path))
    return path


def _check_depth(name: str) -> None:
    """Refuse a package path nested deeper than MAX_PACKAGE_DEPTH, before it is written."""
    if name.count("/") > MAX_PACKAGE_DEPTH:
        raise NotFetched(
            f"the package has a path nested deeper than {MAX_PACKAGE_DEPTH} directories ({name[:60]}...)"
        )


# Bytes of tar headers allowed per entry on top of the files' own bytes: a header block, a pax
# header for a long name, the padding. A header over it is refused before tarfile reads it.
_TAR_BYTES_PER_ENTRY = 4096


class _BoundedStream(io.RawIOBase):
    """A decompressed tar stream that may not pass ``limit`` bytes. tarfile reads a pax or GNU
    long-name header whole: a 300 MB header compresses to 300 kB, and took 1.4 GB of memory."""

    def __init__(self, stream: Any, limit: int, max_bytes: int) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._max_bytes = max_bytes

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()
        super().close()

    def seekable(self) -> bool:
        return True

    def _refuse(self, end: int) -> None:
        if end > self._limit:
            raise NotFetched(f"the archive unpacks to more than {self._max_bytes:,} bytes")

    def read(self, size: int | None = -1) -> bytes:
        position = self._stream.tell()
        if size is None or size < 0:
            size = self._limit - position + 1
        self._refuse(position + size)
        data: bytes = self._stream.read(size)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._refuse(offset)
        position: int = self._stream.seek(offset, whence)
        self._refuse(position)
        return position

    def tell(self) -> int:
        position: int = self._stream.tell()
        return position


# The memory an xz stream's decoder may take: its dictionary, which the stream's header declares
# (up to 4 GiB) and the decoder allocates before it decodes a byte. ``xz -9`` needs 65 MiB.
_XZ_MEMORY_LIMIT = 128 * 1024 * 1024


def _xz_open(raw: io.BytesIO, mode: str) -> io.BufferedReader:
    """lzma.open with the decoder's memory bounded (lzma.open takes no limit): a 200-byte
    .tar.xz declaring a 4 GiB dictionary raised MemoryError under the worker's RLIMIT_AS,
    the whole target's error; past the limit it is LZMAError, this archive's."""
    reader = DecompressReader(
        raw, lzma.LZMADecompressor, trailing_error=lzma.LZMAError, memlimit=_XZ_MEMORY_LIMIT
    )
    return io.BufferedReader(reader)


def _tar_stream(data: bytes, limit: int, max_bytes: int) -> _BoundedStream:
    """The archive decompressed as it is read (gzip, bzip2, xz or none, as ``r:*`` detects)."""
    opener: Any = {b"\x1f\x8b": gzip.open, b"BZ": bz2.open, b"\xfd7": _xz_open}.get(data[:2])
    raw = io.BytesIO(data)
    # closed with the _BoundedStream that wraps it
    return _BoundedStream(opener(raw, "rb") if opener else raw, limit, max_bytes)


def extract_archive(data: bytes, kind: str, target: Path, max_bytes: int, max_files: int) -> None:
    """Extract a .zip or .tar.gz into ``target``: regular files and directories only (a link
    or device is refused), no absolute or ``..`` path, at most ``max_files`` entries (files and
    directories) and ``max_bytes`` bytes written (counted while writing: a header can lie), the
    tar stream itself at most ``max_bytes`` plus a few kB per entry."""
    written = 0
    entries = 0

    def count() -> None:
        nonlocal entries
        entries += 1
        if entries > max_files:
            raise NotFetched(f"the archive holds more than {max_files:,} files or directories")

    def mkdir(name: str) -> None:
        count()
        (target / _safe_member(name)).mkdir(parents=True, exist_ok=True)

    def write(name: str, stream: io.BufferedIOBase | Any) -> None:
        nonlocal written
        count()
        path = target / _safe_member(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            while chunk := stream.read(65536):
                written += len(chunk)
                if written > max_bytes:
                    raise NotFetched(f"the archive unpacks to more than {max_bytes:,} bytes")
                out.write(chunk)

    try:
        if kind == "zip":
            _count_zip_entries(data, max_files)
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    mode = (info.external_attr >> 16) & 0o170000
                    if mode and mode not in (0o100000, 0o040000):
                        raise NotFetched(f"the archive entry {info.filename!r} is a link or special file")
                    if info.is_dir():
                        mkdir(info.filename)
                        continue
                    _check_zip_method(info)
                    with archive.open(info) as stream:
                        write(info.filename, stream)
        else:
            limit = max_bytes + _TAR_BYTES_PER_ENTRY * (max_files + 2)
            with _tar_stream(data, limit, max_bytes) as raw, tarfile.open(fileobj=raw, mode="r:") as tar:
                for member in tar:
                    if member.isdir():
                        mkdir(member.name)
                        continue
                    if not member.isfile():
                        raise NotFetched(f"the archive entry {member.name!r} is a link or special file")
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        write(member.name, extracted)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, lzma.LZMAError) as error:
        raise NotFetched(f"the archive cannot be read: {error}") from None


# What Go's archive/zip, and so terraform init, unpacks: stored and deflate. zipfile also reads
# bzip2 and LZMA, whose header declares the decoder's dictionary (up to 4 GiB, allocated first).
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def _check_zip_method(info: zipfile.ZipInfo) -> None:
    if info.compress_type not in _ZIP_METHODS:
        method = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}.get(info.compress_type)
        raise NotFetched(
            f"the archive entry {info.filename!r} is compressed with "
            f"{method or f'method {info.compress_type}'}, which terraform init cannot unpack either "
            "(zip: unsupported compression algorithm)"
        )


_CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir: 46 bytes


def _count_zip_entries(data: bytes, max_files: int) -> None:
    """Refuse a zip whose central directory lists more than ``max_files`` entries, counted
    before zipfile reads it: zipfile makes an object of every entry first (550,000 empty
    entries in a 47 MB zip: 290 MB and 3 s of CPU), where a tar is refused at its 5,001st.
    The directory is found as zipfile finds it (its own end-of-directory reader, zip64
    included); what cannot be read is left for zipfile to refuse."""
    end = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
    if not end:
        return
    size, offset, location = end[5], end[6], end[9]  # zipfile's _ECD_SIZE, _ECD_OFFSET, _ECD_LOCATION
    start = location - size  # offset + concat, as zipfile computes it
    if end[0] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
    if start < 0 or offset < 0:
        return  # zipfile's "Bad offset for central directory"
    position, stop, entries = start, start + size, 0
    while position + _CENTRAL_ENTRY.size <= min(stop, len(data)):
        fields = _CENTRAL_ENTRY.unpack_from(data, position)
        if fields[0] != b"PK\x01\x02":
            return  # not a central directory entry: zipfile's own error
        entries += 1
        if entries > max_files:
            raise NotFetched(f"the archive holds more than {max_files:,} files or directories")
        position += _CENTRAL_ENTRY.size + fields[12] + fields[13] + fields[14]


def _sweep_stale(area: Path, older_than: float) -> None:
    """Remove staging directories left by a fetch that never finished: a worker stopped at
    parse.max_seconds mid-download runs no clean-up, and each such scan left up to
    modules.max_bytes behind. A fetch lasts at most modules.timeout, so a directory older
    than twice that (and a margin) belongs to no fetch still running, in any process."""
    cutoff = time.time() - older_than
    with contextlib.suppress(OSError), os.scandir(area) as entries:
        for entry in entries:
            # RecursionError: a tree deeper than shutil.rmtree can go (left before
            # MAX_PACKAGE_DEPTH) stays, and no longer fails the fetch that sweeps.
            with contextlib.suppress(OSError, RecursionError):
                stale = entry.stat(follow_symlinks=False).st_mtime < cutoff
                if stale and entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)


def check_tree(root: Path, max_bytes: int, max_files: int) -> None:
    """A fetched tree within limits, with no link pointing out of it."""
    total = 0
    files = 0
    real_root = root.resolve()
    for directory, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            path = Path(directory) / name
            files += 1
            if files > max_files:
                raise NotFetched(f"the package holds more than {max_files:,} files")
            if path.is_symlink():
                # realpath, not Path.resolve: a loop (``loop -> loop``, which terraform init
                # installs and never reads) raised RuntimeError; it points at itself, inside.
                resolved = Path(os.path.realpath(path))
                if resolved != real_root and real_root not in resolved.parents:
                    raise NotFetched(f"{path.relative_to(root)} is a link out of the package")
                continue
            if name in dirs:
                continue
            total += path.stat().st_size
            if total > max_bytes:
                raise NotFetched(f"the package is larger than {max_bytes:,} bytes")
