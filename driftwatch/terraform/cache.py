"""The module download cache's total bound: least-recently-used eviction, leases, usage.

Each fetch is bounded (``modules.max_bytes``), but a repository naming many distinct sources,
scan after scan, filled the cache's volume and then every target failed. Here the cache as a
whole is kept under ``modules.cache_max_bytes``: before a new package is published, the least
recently used packages (and resolution records) are evicted until it fits.

An evaluation holds a *lease* on every package it uses: a shared ``flock`` on
``leases/<package>``, taken before the package is looked at and released when the evaluation
ends (or by the kernel, when a worker is killed). Eviction takes the lease exclusively without
waiting, so a package another evaluation (in any process) is reading is never evicted; when
the packages in use alone leave no room, the new package is refused with a reason naming the
key, and that module call is not evaluated. A lease file's mtime is the package's last use,
its content the package's size in bytes.

Publishing and eviction run under ``lock`` (exclusive), so two processes cannot both decide
there is room. An evicted package is renamed into ``tmp/`` first, then removed outside the
lock: a process killed meanwhile leaves it to the stale-staging sweep of
driftwatch.terraform.sources.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# A quarter of the bundled manifests' 1 GiB state volume, which also holds the history
# database and fetches in flight (modules.max_bytes each); real modules are kB to a few MB.
DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024
_USAGE = "usage.json"
_LOCK_POLL_SECONDS = 0.02
_LEASE_ATTEMPTS = 20  # a lease file replaced under us this often means something is very wrong


class CacheFull(Exception):
    """A package that cannot be cached within modules.cache_max_bytes; the message says why."""


@dataclass(frozen=True)
class CacheUsage:
    """What the cache holds, as the last publication or trim measured it."""

    bytes: int
    evictions: int  # packages evicted since the cache was created


def tree_bytes(root: Path) -> int:
    """Bytes of the regular files under ``root``: what modules.max_bytes counts too."""
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def touch(target: int | Path) -> None:
    """Mark a lease or record used now, to the nanosecond (the kernel's own file times are as
    coarse as its clock tick: uses a few ms apart would tie)."""
    now = time.time_ns()
    os.utime(target, ns=(now, now))


def touch_used(cache_dir: Path, paths: Iterable[Path]) -> None:
    """Mark the packages these files belong to used now: a target whose declarations were
    reused from the memo read no package, yet needs them at its next evaluation as much as a
    target that fetched."""
    packages = cache_dir.resolve() / "packages"
    names = {path.relative_to(packages).parts[0] for path in paths if packages in path.parents}
    for name in names:
        with contextlib.suppress(OSError):
            touch(cache_dir / "leases" / name)


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


class Leases:
    """The packages one evaluation uses, each held under a shared lock until ``release``."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._held: dict[str, int] = {}

    def hold(self, name: str) -> None:
        """Hold ``name`` (its package need not exist yet) and mark it used now. Blocks only
        while an eviction of that very package is under way (a rename and an unlink)."""
        fd = self._held.get(name)
        if fd is not None:
            touch(fd)
            return
        path = self.cache_dir / "leases" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(_LEASE_ATTEMPTS):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                if _same_file(fd, path):  # else an eviction unlinked it meanwhile: a new file
                    touch(fd)
                    self._held[name] = fd
                    fd = None
                    return
            finally:
                if fd is not None:
                    os.close(fd)
        raise OSError(errno.EAGAIN, "the lease of a cached module keeps being replaced")

    def record_size(self, name: str, size: int) -> None:
        fd = self._held[name]
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(size).encode(), 0)

    def release(self) -> None:
        for fd in self._held.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held.clear()


@contextlib.contextmanager
def _locked(cache_dir: Path, timeout: float) -> Iterator[None]:
    """The cache-wide lock of publication and eviction (held for file operations only)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CacheFull(
                        f"the module cache stayed locked by another process for {timeout:g}s"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recorded_size(cache_dir: Path, name: str) -> tuple[int, float]:
    """A package's size and last use, from its lease file; measured (and written) for a
    package cached before leases existed."""
    lease = cache_dir / "leases" / name
    package = cache_dir / "packages" / name
    try:
        with open(lease, "rb") as handle:
            text = handle.read(32)
        used = os.stat(lease).st_mtime
    except OSError:
        text, used = b"", os.stat(package).st_mtime
    if text.strip().isdigit():
        return int(text), used
    size = tree_bytes(package)
    with contextlib.suppress(OSError):
        lease.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lease, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, str(size).encode(), 0)
        finally:
            os.close(fd)
    return size, used


def _entries(cache_dir: Path) -> list[tuple[float, int, str, str]]:
    """(last use, bytes, kind, name) of every package and resolution record."""
    found: list[tuple[float, int, str, str]] = []
    with contextlib.suppress(FileNotFoundError), os.scandir(cache_dir / "packages") as packages:
        for entry in packages:
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                size, used = _recorded_size(cache_dir, entry.name)
                found.append((used, size, "package", entry.name))
    with contextlib.suppress(FileNotFoundError), os.scandir(cache_dir / "resolved") as records:
        for entry in records:
            with contextlib.suppress(OSError):
                stat = entry.stat(follow_symlinks=False)
                found.append((stat.st_mtime, stat.st_size, "record", entry.name))
    return found


def _evict(cache_dir: Path, name: str) -> Path | None:
    """Move an unused package out of ``packages/`` (into ``tmp/``, to be removed); None when
    an evaluation holds its lease."""
    lease = cache_dir / "leases" / name
    lease.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lease, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        if not _same_file(fd, lease):
            return None
        doomed = cache_dir / "tmp" / f"evicted-{uuid.uuid4().hex}"
        doomed.parent.mkdir(parents=True, exist_ok=True)
        os.rename(cache_dir / "packages" / name, doomed)
        os.unlink(lease)
        return doomed
    finally:
        os.close(fd)


def _trim(cache_dir: Path, limit: int, needed: int, doomed: list[Path]) -> int:
    """Evict least recently used entries until ``needed`` more bytes fit under ``limit``
    (or nothing more can go); the bytes left. Called under the cache lock."""
    entries = sorted(_entries(cache_dir))
    total = sum(size for _, size, _, _ in entries)
    evicted = 0
    for _, size, kind, name in entries:
        if total + needed <= limit:
            break
        if kind == "record":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(cache_dir / "resolved" / name)
            total -= size
            continue
        gone = _evict(cache_dir, name)
        if gone is not None:
            doomed.append(gone)
            total -= size
            evicted += 1
    _sweep_leases(cache_dir)
    if evicted:
        _note(cache_dir, total, evicted)
    return total


def _sweep_leases(cache_dir: Path) -> None:
    """Lease files of packages that are not cached (a failed fetch, an eviction): removed
    unless an evaluation holds them."""
    with contextlib.suppress(FileNotFoundError), os.scandir(cache_dir / "leases") as leases:
        for entry in leases:
            if (cache_dir / "packages" / entry.name).is_dir():
                continue
            with contextlib.suppress(OSError):
                fd = os.open(entry.path, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    orphan = not (cache_dir / "packages" / entry.name).is_dir()
                    if orphan and _same_file(fd, Path(entry.path)):
                        os.unlink(entry.path)
                finally:
                    os.close(fd)


def _note(cache_dir: Path, total: int, evicted: int) -> None:
    previous = usage(cache_dir)
    data = {"bytes": total, "evictions": (previous.evictions if previous else 0) + evicted}
    temporary = cache_dir / f".{_USAGE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, cache_dir / _USAGE)


def usage(cache_dir: Path) -> CacheUsage | None:
    """The cache's size and evictions as last measured (None before any measurement)."""
    try:
        data = json.loads((cache_dir / _USAGE).read_text(encoding="utf-8"))
        return CacheUsage(int(data["bytes"]), int(data["evictions"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def publish(cache_dir: Path, staging: Path, name: str, leases: Leases, limit: int, timeout: float) -> Path:
    """Move a finished package (``staging``) into ``packages/<name>``, evicting least recently
    used entries to make room; CacheFull when the packages in use leave none. The caller
    holds the lease of ``name``, so the package cannot be evicted before it is used."""
    target = cache_dir / "packages" / name
    if target.is_dir():
        return target
    size = tree_bytes(staging)
    if size > limit:
        raise CacheFull(
            f"the module cache holds at most {limit:,} bytes (modules.cache_max_bytes) and this "
            f"module is {size:,}"
        )
    doomed: list[Path] = []
    try:
        with _locked(cache_dir, timeout):
            if target.is_dir():
                return target
            total = _trim(cache_dir, limit, size, doomed)
            if total + size > limit:
                raise CacheFull(
                    f"the module cache is full (modules.cache_max_bytes: {limit:,} bytes) of modules "
                    f"in use by this target or another evaluation; this one ({size:,} bytes) does not fit"
                )
            leases.record_size(name, size)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)
            except OSError:
                if not target.is_dir():
                    raise
            _note(cache_dir, total + size, 0)
    finally:
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
    return target


def trim(cache_dir: Path, limit: int, timeout: float) -> CacheUsage:
    """Bring the cache under ``limit`` (a lowered bound; resolution records that accumulated)
    and measure it: the daemon calls this after each scan for its metrics."""
    doomed: list[Path] = []
    try:
        with _locked(cache_dir, timeout):
            total = _trim(cache_dir, limit, 0, doomed)
            _note(cache_dir, total, 0)
    finally:
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
    found = usage(cache_dir)
    return found if found is not None else CacheUsage(total, 0)
