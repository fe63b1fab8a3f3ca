"""Links from a report to the declaration in the repository, shared by the Markdown report and
Slack messages (kept apart from both so that one renderer does not import the other's
dependencies)."""

from __future__ import annotations

from urllib.parse import quote

from driftwatch.spec import SourceLocation


def source_url(repo_url: str, commit: str, source: SourceLocation, subdir: str = "") -> str:
    """A GitHub/GitLab-style blob link to the declaration, pinned to the scanned commit.

    ``source.file`` is relative to the configuration's ``repo``; ``subdir`` is where that
    directory lies in its git checkout (``examples`` for ``repo: ../examples``), which the
    repository's web address counts from. Without it, every link of a ``repo`` below the top
    of the checkout pointed at a file that does not exist."""
    path = f"{subdir.strip('/')}/{source.file}" if subdir.strip("/") else source.file
    return f"{repo_url.rstrip('/')}/blob/{quote(commit, safe='')}/{quote(path)}#L{source.line}"
