"""Whether the checkout driftwatch reads is kept up to date: git-sync's error file.

In Kubernetes a git-sync sidecar pulls the repository and publishes the checkout that every
scan reads. When its pulls fail (an expired token, a deleted deploy key, the git host down) the
checkout stays at its last commit, and driftwatch keeps comparing AWS with a declaration git
no longer holds: a merged change applied by CI reads as drift, and a revert hides drift. The
scans themselves succeed, so nothing else says so. git-sync writes its last error to the file
``--error-file`` names and deletes it after every successful sync (git-sync v4), so the file's
presence is the checkout going stale. ``repo_sync_error_file`` points driftwatch at it; each
scan says so while it exists, in every output, as a metric and in Slack.

The file is written by another program into a shared volume: it is read without blocking (a
FIFO would hang a plain open), at most 16 KiB, its text scrubbed of anything credential-shaped
(a repository URL with a token) and cut short.

A checkout can also change *during* a scan: git-sync publishes a new commit by swapping its
``--link`` symlink to a new worktree and then deletes the old one (at once, unless
``--stale-worktree-timeout`` keeps it); a ``git pull`` run in the checkout itself rewrites its
files in place and moves HEAD. A scan reading the old worktree while it is deleted, or files
being rewritten, sees part of the tree: tables of a file already gone read as no longer declared (their drift
"no longer watched", then re-alerted as new), live tables as unmanaged. :func:`snapshot` and
:func:`replaced` tell the daemon that the checkout it scanned is no longer the one published,
so that such a scan is not recorded and the new checkout is scanned instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from driftwatch.errors import DriftwatchError
from driftwatch.gitinfo import head_commit
from driftwatch.secrets import scrub_message
from driftwatch.terraform.parse import read_regular

MAX_ERROR_FILE_BYTES = 16 * 1024


def describe(content: bytes, written: datetime | None) -> str:
    """What git-sync's error file says, in one line: its ``Msg`` and ``Err`` (the JSON git-sync
    v4 writes), else the first line of the text; with when it was written. Pure."""
    text = content.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        payload = None
    if isinstance(payload, dict) and (payload.get("Msg") or payload.get("Err")):
        parts = [str(payload[key]) for key in ("Msg", "Err") if payload.get(key)]
        said = ": ".join(parts)
    else:
        said = next((line.strip() for line in text.splitlines() if line.strip()), "(empty)")
    when = f" (at {written.strftime('%Y-%m-%d %H:%M:%S UTC')})" if written is not None else ""
    return scrub_message(f"the repository's last sync failed{when}: {said}")


def sync_error(path: Path | None) -> str | None:
    """Why the checkout may be stale, or None: no error file configured, or none present (the
    last sync succeeded). A file that exists but cannot be read is said too: it exists because
    a sync failed."""
    if path is None:
        return None
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    except OSError as error:
        why = error.strerror or str(error)
        return scrub_message(f"the repository sync's error file {path} cannot be read: {why}")
    written = datetime.fromtimestamp(status.st_mtime, UTC)
    try:
        content = read_regular(path, str(path), MAX_ERROR_FILE_BYTES)
    except FileNotFoundError:
        return None  # deleted between the two calls: the sync just succeeded
    except (OSError, DriftwatchError) as error:
        why = getattr(error, "strerror", None) or str(error)
        return scrub_message(f"the repository sync's error file {path} exists but cannot be read: {why}")
    return describe(content, written)


class CheckoutChangedError(DriftwatchError):
    """The checkout changed under every attempt at a scan: nothing it read is trusted."""


@dataclass(frozen=True)
class Snapshot:
    """The checkout a scan reads: the configured path with its symlinks resolved, and the
    identity (device, inode) of that directory; None when it is not there."""

    path: Path
    identity: tuple[int, int] | None
    # The commit HEAD points at (None: not a git checkout): a checkout updated in place (``git
    # pull`` in it) keeps its directory, and only its HEAD says a scan read it half updated.
    head: str | None = None


def snapshot(configured: Path) -> Snapshot:
    """The checkout published at ``configured`` now (a symlink git-sync swaps, or a directory)."""
    try:
        path = configured.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the scan's own error says so
        return Snapshot(configured, None)
    try:
        status = os.stat(path)
    except OSError:
        return Snapshot(path, None)
    return Snapshot(path, (status.st_dev, status.st_ino), head_commit(path))


def replaced(scanned: Snapshot, now: Snapshot) -> str | None:
    """Why what a scan read of ``scanned`` may be torn, given the checkout published ``now``;
    None if it is still the one published. Pure.

    A checkout that was not there when the scan started is no reason: that scan failed on its
    own, saying so. Another published path means a new commit was swapped in (its old worktree
    may be deleted under the scan); the same path with another directory, or none, means the
    directory was removed or replaced while the scan read it."""
    if scanned.identity is None:
        return None
    if now.path != scanned.path:
        return f"a new checkout was published during the scan ({scanned.path} -> {now.path})"
    if now.identity != scanned.identity:
        gone = "removed" if now.identity is None else "replaced"
        return f"the checkout {scanned.path} was {gone} during the scan"
    if now.head != scanned.head:
        return (
            f"the checkout {scanned.path} moved from commit {scanned.head or 'none'} to "
            f"{now.head or 'none'} during the scan (updated in place)"
        )
    return None
