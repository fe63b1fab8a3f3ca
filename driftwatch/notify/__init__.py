"""Notifications of drift transitions. Slack is the one channel so far.

Messages are queued in the history database's outbox together with the transitions they
announce and delivered from there, so that an outage or a restart loses and repeats nothing.
"""

from driftwatch.notify.slack import (
    SlackConfigError,
    SlackNotifier,
    build_expired_rules_message,
    build_message,
    build_reminder,
    load_webhook_url,
)

__all__ = [
    "SlackConfigError",
    "SlackNotifier",
    "build_expired_rules_message",
    "build_message",
    "build_reminder",
    "load_webhook_url",
]
