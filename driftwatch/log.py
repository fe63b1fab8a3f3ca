"""structlog setup: JSON lines in containers, readable output on a terminal, secrets redacted.

Standard-library logging (boto3, APScheduler, slack_sdk) is routed through the same
processors, so a library that logs a webhook URL or a credential in an error is redacted too.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "***REDACTED***"
_SECRET_KEYS = re.compile(
    r"(webhook|token|secret|password|credential|authorization|session_token|access_key)", re.I
)
_SECRET_PATTERNS = [
    re.compile(r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[^\s\"'<>]+"),
    re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"(?i)(aws_secret_access_key|aws_session_token)(\s*[=:]\s*)\S+"),
]
_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact this exact value wherever it appears (e.g. a webhook URL read from a file)."""
    if value and len(value) >= 8:
        _extra_secrets.add(value)


def redact_text(text: str) -> str:
    for secret in _extra_secrets:
        text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + m.group(2) + REDACTED) if m.lastindex else REDACTED, text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEYS.search(k) else _redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(v) for v in value]
    return value


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if _SECRET_KEYS.search(key):
            event[key] = REDACTED
        else:
            event[key] = _redact(event[key])
    return event


def configure(json_output: bool | None = None, level: str = "INFO", stream: Any = None) -> None:
    """JSON when not on a TTY (or when asked), coloured console output otherwise; logs go to stderr
    so that ``driftwatch scan --format json`` keeps stdout clean for the report."""
    stream = stream or sys.stderr
    if json_output is None:
        json_output = not stream.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler logs every run of every job at INFO ("Running job ... executed successfully"):
    # the outbox delivery job alone made most of a quiet daemon's log. Its warnings (a missed
    # or skipped run) still show.
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
