"""Everything driftwatch does to keep credentials out of logs, reports, metrics and storage.

Why one module: the rules used to live in three places (log redaction, the AWS error-message
scrubber, the Slack webhook scrubber), each with its own idea of what a secret looks like. A
pattern added to one did not protect the others. Here there is one registry of known secret
values and one set of patterns, and three entry points for the three kinds of text:

- :func:`redact_text` / :func:`redact_value`: anything logged (structlog's last processor);
- :func:`scrub_message`: a message we did not write (an AWS error, a transport error) before
  it goes into a report, Slack or the database: also capped in length;
- :func:`mask_url`: a URL that may carry ``user:password@`` (``AWS_ENDPOINT_URL``, a proxy).

A secret value (the Slack webhook URL) is registered with :func:`register_secret` as soon as
it is read; every entry point then replaces it, and the parts of it that error texts quote
(the URL without its scheme, its path, its long path segments), wherever they appear.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

REDACTED = "***REDACTED***"
"""What a secret is replaced with in logs."""

MASK = "***"
"""What a credential-shaped run is replaced with in messages and URLs (short: messages are capped)."""

MAX_MESSAGE = 300
"""Messages from AWS or the network are cut to this length: they are evidence, not payload."""

# Keys of structured log fields whose values are always secret, whatever they hold.
SECRET_KEYS = re.compile(
    r"(webhook|token|secret|password|credential|authorization|session_token|access_key)", re.I
)

# Shapes of credentials, replaced wherever they occur.
_SLACK_HOOK = re.compile(r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[^\s\"'<>]+")
_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}(?![A-Z0-9])")
_SECRET_ASSIGNMENT = re.compile(r"(?i)(aws_secret_access_key|aws_session_token)(\s*[=:]\s*)\S+")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9/+=]{40,}")  # secret keys, session tokens (base64-ish runs)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@\"'<>]*@)")

_lock = threading.Lock()
_fragments: tuple[str, ...] = ()  # registered secrets and their quotable parts, longest first


def secret_fragments(value: str) -> set[str]:
    """``value`` and the parts of it that error texts quote when it is a URL: without the
    scheme, the path (with its query), and each path segment of 8 characters or more that is
    not a plain word."""
    fragments = {value}
    try:
        parts = urlsplit(value)
    except ValueError:  # not a URL we can split (e.g. "https://["): the whole value only
        return {value} if len(value) >= 8 else set()
    if parts.scheme and parts.netloc:
        fragments.add(value.split("://", 1)[-1])
        fragments.add(parts.path)
        fragments.add(parts.path + ("?" + parts.query if parts.query else ""))
        # Long path segments (tokens, ids), but not plain words like "services" or "workflows":
        # those are in every Slack URL and in ordinary text.
        fragments.update(
            segment
            for segment in parts.path.split("/")
            if len(segment) >= 8 and not (segment.isalpha() and segment.islower())
        )
    return {f for f in fragments if len(f) >= 8 and f != "/"}


def register_secret(value: str | None) -> None:
    """Replace this exact value (and its quotable parts) wherever it appears from now on."""
    global _fragments
    if not value or len(value) < 8:
        return
    with _lock:
        merged = set(_fragments) | secret_fragments(value)
        _fragments = tuple(sorted(merged, key=len, reverse=True))


def _replace_registered(text: str, replacement: str) -> str:
    for fragment in _fragments:
        if fragment in text:
            text = text.replace(fragment, replacement)
    return text


def mask_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@`` (also inside longer text).

    For endpoint URLs from the environment: botocore and urllib3 quote the full URL in errors,
    and an operator may have put credentials in it.
    """
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", url)


def redact_text(text: str) -> str:
    """``text`` for a log line: registered secrets, Slack hook URLs, key ids, secret-key
    assignments and credentials in URLs replaced."""
    text = _replace_registered(text, REDACTED)
    text = _SLACK_HOOK.sub(REDACTED, text)
    text = _ACCESS_KEY_ID.sub(REDACTED, text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return mask_url(text)


def redact_value(value: Any) -> Any:
    """A log field's value with :func:`redact_text` applied throughout; the values of mapping
    keys that name a secret (``token``, ``password``, ...) are replaced whole."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and SECRET_KEYS.search(k) else redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


def scrub_message(text: str, limit: int = MAX_MESSAGE) -> str:
    """A message we did not write, fit for a report, Slack or the database.

    AWS echoes the canonical request (which can carry the session token) in signature errors;
    transport errors echo URLs (with their credentials, or the webhook's path). Everything
    from "The Canonical String" on is dropped, credential-shaped runs are masked, and the
    length is capped.
    """
    text = text.split("The Canonical String for this request", 1)[0].strip()
    text = _replace_registered(text, "<secret>")
    text = _SLACK_HOOK.sub("<webhook>", text)
    text = mask_url(text)
    text = _ACCESS_KEY_ID.sub(MASK, text)
    text = _LONG_TOKEN.sub(MASK, text)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def looks_like_url(value: str) -> bool:
    """A setting meant to hold a file path that holds a URL instead: a secret pasted into the
    wrong key (e.g. the Slack webhook in ``slack.webhook_url_file``)."""
    text = value.strip().lower()
    return "://" in text or text.startswith(("hooks.slack.com", "http:", "https:"))
