"""Links from a report to the declaration in the repository, shared by the Markdown report and
Slack messages (kept apart from both so that one renderer does not import the other's
dependencies)."""

from __future__ import annotations

from urllib.parse import quote

from driftwatch.spec import SourceLocation


def source_url(repo_url: str, commit: str, source: SourceLocation) -> str:
    """A GitHub/GitLab-style blob link to the declaration, pinned to the scanned commit."""
    return f"{repo_url.rstrip('/')}/blob/{quote(commit, safe='')}/{quote(source.file)}#L{source.line}"
