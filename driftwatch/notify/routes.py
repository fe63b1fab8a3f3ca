"""Per-target Slack routing: which webhook hears about which table.

``slack.routes`` sends the drift of some targets, or of tables whose names match a glob, to a
webhook of their own (the payments team's channel); everything else goes to the default
webhook (``slack.webhook_url_env`` / ``slack.webhook_url_file``), when there is one. Routes are
tried in order and the first that matches a table wins, so each table's drift is announced in
exactly one place.

Each route is a channel of its own in the outbox (``slack:<route name>``; the default is
``slack``), so a route whose webhook is down keeps its messages queued and retried without
holding up the others, and it is counted on its own in
``driftwatch_notifications_total{channel="slack:<name>"}``.

Pure: deciding where a table goes is a function of the route list, tested without Slack.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from driftwatch.notify.slack import CHANNEL as DEFAULT_CHANNEL

Selector = Callable[[str, str], bool]


@dataclass(frozen=True)
class Route:
    """One entry of ``slack.routes``: a name, what it matches, and where its webhook URL is."""

    name: str
    targets: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    webhook_url_env: str | None = None
    webhook_url_file: str | None = None

    @property
    def channel(self) -> str:
        return f"{DEFAULT_CHANNEL}:{self.name}"

    def matches(self, target: str, table: str) -> bool:
        return target in self.targets or any(fnmatch.fnmatchcase(table, glob) for glob in self.tables)


def slack_routes(configured: Sequence[Any]) -> list[Route]:
    """Routes from the config's ``slack.routes`` entries (driftwatch.config.SlackRoute)."""
    return [
        Route(
            name=entry.name,
            targets=tuple(entry.targets),
            tables=tuple(entry.tables),
            webhook_url_env=entry.webhook_url_env,
            webhook_url_file=entry.webhook_url_file,
        )
        for entry in configured
    ]


def route_of(routes: Sequence[Route], target: str, table: str) -> Route | None:
    """The first route that matches the table, else None (the default webhook)."""
    return next((route for route in routes if route.matches(target, table)), None)


def selector(routes: Sequence[Route], route: Route | None) -> Selector:
    """Whether a (target, table) belongs to ``route`` (None: to the default webhook)."""
    return lambda target, table: route_of(routes, target, table) is route
