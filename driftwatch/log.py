"""structlog setup: JSON lines in containers, readable output on a terminal, secrets redacted.

Standard-library logging (boto3, APScheduler, slack_sdk) is routed through the same
processors, so a library that logs a webhook URL or a credential in an error is redacted too
(the rules are in ``driftwatch.secrets``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from driftwatch.secrets import REDACTED, SECRET_KEYS, redact_text, redact_value, register_secret

# Kept importable from here: callers used to find them in this module.
__all__ = ["REDACTED", "configure", "redact_processor", "redact_text", "register_secret"]


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = REDACTED if SECRET_KEYS.search(key) else redact_value(event[key])
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
