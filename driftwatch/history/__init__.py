"""Drift history and the notification outbox, in one SQLite database.

- ``store``: the database itself -- schema, migrations, opening it safely, the writer lock
  (one daemon per state file), retention;
- ``ledger``: the pure reconcile of open episodes with a scan report, giving transitions;
- ``outbox``: messages queued with their transitions and delivered at least once;
- ``episodes``: ``History``, which puts them together for the daemon and the CLI.
"""

from driftwatch.history.episodes import History, ReminderFormatter, ScanFormatter
from driftwatch.history.ledger import (
    Episode,
    ResolveReason,
    Transition,
    TransitionKind,
    Transitions,
    reconcile,
    to_json,
)
from driftwatch.history.outbox import ChannelStats, OutboxMessage, OutboxStatus
from driftwatch.history.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryError,
    StateLockedError,
)

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ChannelStats",
    "Episode",
    "History",
    "HistoryError",
    "OutboxMessage",
    "OutboxStatus",
    "ReminderFormatter",
    "ResolveReason",
    "ScanFormatter",
    "StateLockedError",
    "Transition",
    "TransitionKind",
    "Transitions",
    "reconcile",
    "to_json",
]
