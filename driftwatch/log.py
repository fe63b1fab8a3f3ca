"""structlog setup: JSON lines in containers, readable output on a terminal, secrets redacted.

Standard-library logging (boto3, APScheduler, slack_sdk) is routed through the same
processors, so a library that logs a webhook URL or a credential in an error is redacted too
(the rules are in ``driftwatch.secrets``).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any

from driftwatch.secrets import REDACTED, SECRET_KEYS, redact_text, redact_value, register_secret

# Kept importable from here: callers used to find them in this module.
__all__ = ["REDACTED", "configure", "get_logger", "redact_processor", "redact_text", "register_secret"]


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = REDACTED if SECRET_KEYS.search(key) else redact_value(event[key])
    return event


def get_logger(name: str) -> Any:
    """structlog's logger for ``name``, importing structlog on its first use.

    Modules take their logger at import; structlog (with the rich, pygments and asyncio modules
    it imports) costs a process ~0.1 s of start-up, and a one-shot scan, which logs nothing
    unless something fails, never needs it. The logger behaves as ``structlog.get_logger(name)``
    (it is that logger once used), with ``configure()``'s settings applied first."""
    return _DeferredLogger(name)


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
}


def _drop(*args: Any, **kwargs: Any) -> None:
    return None


class _DeferredLogger:
    """Until structlog is imported, ``bind`` only collects context, and an event below the
    level of its stdlib logger is dropped here (structlog's stdlib logger would drop it after
    its processors, which have no other effect); anything else imports structlog and goes to
    the real logger."""

    __slots__ = ("_context", "_logger", "_name")

    def __init__(self, name: str, context: dict[str, Any] | None = None) -> None:
        self._name = name
        self._context = context or {}
        self._logger: Any = None

    def bind(self, **values: Any) -> Any:
        if self._logger is None and "structlog" not in sys.modules:
            return _DeferredLogger(self._name, {**self._context, **values})
        return self._real().bind(**values)

    def __getattr__(self, attribute: str) -> Any:
        level = _LEVELS.get(attribute)
        if (
            self._logger is None
            and level is not None
            and "structlog" not in sys.modules
            and not logging.getLogger(self._name).isEnabledFor(level)
        ):
            return _drop
        return getattr(self._real(), attribute)

    def _real(self) -> Any:
        if self._logger is None:
            logger = _structlog().get_logger(self._name)
            self._logger = logger.bind(**self._context) if self._context else logger
        return self._logger


_lock = threading.Lock()
_deferred: list[bool] = []  # json_output of a configure() not yet applied to structlog


def _structlog() -> ModuleType:
    """structlog, configured as the last ``configure()`` asked."""
    import structlog

    with _lock:
        if _deferred:
            shared, _ = _chain(structlog, _deferred.pop())
            structlog.configure(
                processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
                logger_factory=structlog.stdlib.LoggerFactory(),
                wrapper_class=structlog.stdlib.BoundLogger,
                cache_logger_on_first_use=False,
            )
    return structlog


def _chain(structlog: ModuleType, json_output: bool) -> tuple[list[Any], Any]:
    """The processors every event goes through, and the renderer at the end."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    return shared, renderer


class _Formatter(logging.Formatter):
    """structlog's ProcessorFormatter (redaction included), built for the first record."""

    def __init__(self, json_output: bool) -> None:
        super().__init__()
        self._json_output = json_output
        self._formatter: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._formatter is None:
            structlog = _structlog()
            shared, renderer = _chain(structlog, self._json_output)
            self._formatter = structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=shared,
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redact_processor,
                    renderer,
                ],
            )
        return self._formatter.format(record)


def configure(json_output: bool | None = None, level: str = "INFO", stream: Any = None) -> None:
    """JSON when not on a TTY (or when asked), coloured console output otherwise; logs go to stderr
    so that ``driftwatch scan --format json`` keeps stdout clean for the report. structlog
    itself is configured at once if it is already imported, else on its first use."""
    stream = stream or sys.stderr
    if json_output is None:
        json_output = not stream.isatty()
    with _lock:
        _deferred[:] = [json_output]
    if "structlog" in sys.modules:
        _structlog()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Formatter(json_output))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler logs every run of every job at INFO ("Running job ... executed successfully"):
    # the outbox delivery job alone made most of a quiet daemon's log. Its warnings (a missed
    # or skipped run) still show.
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
