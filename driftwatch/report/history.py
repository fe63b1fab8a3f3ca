"""``driftwatch history``: open and recent drift episodes from the state database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from rich.table import Table

from driftwatch.history import Episode
from driftwatch.history.ledger import NO_LONGER_WATCHED
from driftwatch.report.console import make_console
from driftwatch.report.safe import escape_controls


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def episode_to_dict(episode: Episode) -> dict[str, Any]:
    return {
        "target": episode.target,
        "table": episode.table,
        "region": episode.region,
        "attribute": episode.attribute,
        "declared": episode.declared,
        "live": episode.live,
        "first_seen": _time(episode.first_seen),
        "last_seen": _time(episode.last_seen),
        "resolved_at": _time(episode.resolved_at),
        "resolved_reason": episode.resolved_reason,
        "commit": episode.last_commit,
        "source": str(episode.source) if episode.source else None,
    }


def _state(episode: Episode) -> str:
    """open; resolved; or not watched: closed because its table is no longer compared (no
    longer declared, its target no longer configured), which fixed nothing."""
    if episode.open:
        return "open"
    return "not watched" if episode.resolved_reason in NO_LONGER_WATCHED else "resolved"


def render_history(episodes: Sequence[Episode], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(
            json.dumps({"episodes": [episode_to_dict(e) for e in episodes]}, indent=2, default=str) + "\n"
        )
        return
    console = make_console(out)
    # Values come from git and AWS: a control character in one must not drive the terminal.
    episodes = escape_controls(list(episodes))
    if not episodes:
        console.print("no drift episodes")
        return
    table = Table(box=None, padding=(0, 2), pad_edge=False, header_style="bold")
    # "last seen": an open episode whose table no scan could read since is not current.
    for column in ("state", "table", "attribute", "declared", "live", "first seen", "last seen", "closed"):
        table.add_column(column, overflow="fold")
    for e in episodes:
        table.add_row(
            _state(e),
            # The same name in two regions is two tables: the region tells their rows apart.
            f"{e.table} ({e.target}, {e.region})" if e.region else f"{e.table} ({e.target})",
            e.attribute,
            json.dumps(e.declared, default=str),
            json.dumps(e.live, default=str),
            _time(e.first_seen) or "",
            _time(e.last_seen) or "",
            (_time(e.resolved_at) or "") + (f" ({e.resolved_reason})" if e.resolved_reason else ""),
        )
    console.print(table)
