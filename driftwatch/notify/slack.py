"""Slack notifications: Block Kit messages built from drift transitions, sent from the outbox.

Why an outbox instead of sending right after a scan: the message is stored in the history
database in the same transaction as the transition it announces (see ``driftwatch.history``),
and marked sent only after Slack answered 2xx. A Slack outage, a 429 or a restart therefore
loses nothing and sends nothing twice -- except after a crash in the few milliseconds between
Slack accepting a message and ``mark_sent`` committing: each attempt is recorded before the
request (``History.begin_attempt``), so the next attempt knows the outcome was lost, resends
(at least once), and marks the message as a possible repeat. Slack's webhooks take no
idempotency key, so this window cannot be closed, only made small and visible.

An attempt whose outcome is unknown -- the request was sent and no complete answer came back
(a read timeout, a reset, a webhook that drip-feeds its answer past ``ANSWER_TIMEOUTS`` socket
timeouts) -- counts the same way: resent, marked. One whose outcome is known but could not be
recorded (Slack's 200, then the database refused ``mark_sent``) is recorded later, never resent.
An answer is a delivery only if it is a 2xx without one of Slack's error words, and not a
redirect (``driftwatch.notify.webhook``: urllib would follow it with a GET that drops the
message, and count the page there as Slack's 200).

For the same reason (the outbox owns retries) the ``WebhookClient`` gets no retry handlers:
retrying inside the client would sleep in the delivery job and forget the retry on restart,
and slack_sdk's own 429 handler crashes on an HTTP-date ``Retry-After``.

The webhook URL is a credential (anyone holding it can post to the channel). It is kept only
in memory: never logged (slack_sdk gets a silenced logger because it logs the URL at debug
level), never stored (the outbox holds payloads only), and every error text that could
contain it (urllib and slack_sdk put the URL in some exceptions) is scrubbed before it is
logged or stored.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.error import URLError
from urllib.parse import quote, urlsplit

from slack_sdk.errors import SlackRequestError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.webhook import WebhookResponse

from driftwatch.errors import DriftwatchError
from driftwatch.history import (
    Episode,
    History,
    HistoryError,
    OutboxMessage,
    ResolveReason,
    Transition,
    TransitionKind,
    Transitions,
)
from driftwatch.history.ledger import NO_LONGER_WATCHED
from driftwatch.history.outbox import MAX_RETRY_DELAY
from driftwatch.log import get_logger
from driftwatch.notify.webhook import StrictWebhookClient
from driftwatch.report.links import source_url
from driftwatch.secrets import looks_like_url, register_secret, scrub_message
from driftwatch.spec import IgnoreRule, SourceLocation

log = get_logger(__name__)

CHANNEL = "slack"

# Slack's documented limits (Block Kit): 50 blocks per message, 3000 characters per section
# text, 150 per header. We stay a little below so that a "… and N more" always fits.
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_FALLBACK_CHARS = 3000
MAX_FALLBACK_LINES = 20
MAX_VALUE_CHARS = 200

DEFAULT_RETRY_AFTER = 30.0  # seconds, for a 429 without a usable Retry-After
BACKOFF_BASE = 30.0  # seconds; doubled per failed attempt
MAX_DELAY = MAX_RETRY_DELAY.total_seconds()  # no retry waits longer, whatever a header says
ANSWER_TIMEOUTS = 2  # one whole exchange with Slack takes at most this many socket timeouts

# slack_sdk logs "Sending a request - url: <webhook URL>" whenever its logger's own level is
# unset (0 <= DEBUG). A dedicated logger that is switched off keeps it quiet; we log outcomes.
_SDK_LOGGER = logging.getLogger("driftwatch.notify.slack.sdk")
_SDK_LOGGER.setLevel(logging.CRITICAL + 1)
_SDK_LOGGER.propagate = False
_SDK_LOGGER.addHandler(logging.NullHandler())


class SlackConfigError(DriftwatchError):
    """The Slack webhook is configured but cannot be loaded; names the source, never the value."""


def load_webhook_url(env_name: str | None, file_path: str | None, environ: Mapping[str, str]) -> str | None:
    """The webhook URL from a mounted file (preferred when configured) or an environment variable.

    None means Slack is off: nothing configured, or the variable is unset/empty. A configured
    file that is missing, unreadable or empty is an error (a broken Secret mount must not
    silently switch alerts off); the message names the path, never the content.
    """
    if file_path:
        if looks_like_url(file_path):
            raise SlackConfigError(URL_IN_FILE_SETTING)
        try:
            with open(file_path, encoding="utf-8") as handle:
                url = handle.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            cause = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
            raise SlackConfigError(f"slack.webhook_url_file {file_path}: cannot read it ({cause})") from None
        if not url:
            raise SlackConfigError(f"slack.webhook_url_file {file_path} is empty")
        source = f"slack.webhook_url_file {file_path}"
    elif env_name:
        url = (environ.get(env_name) or "").strip()
        if not url:
            return None
        source = f"environment variable {env_name}"
    else:
        return None
    register_secret(url)  # before any check, so that nothing below can print it
    if not url.lower().startswith(("https://", "http://")):
        raise SlackConfigError(f"the Slack webhook URL from {source} is not an http(s) URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:  # e.g. "https://[" (an unclosed IPv6 bracket)
        raise SlackConfigError(f"the Slack webhook URL from {source} is not a valid URL") from None
    if not parts.hostname:
        raise SlackConfigError(f"the Slack webhook URL from {source} has no host name")
    return url


URL_IN_FILE_SETTING = (
    "slack.webhook_url_file holds a URL, not a file path: write the webhook URL into a file (a "
    "mounted Secret) and name that file here, or put it in the variable named by slack.webhook_url_env"
)


# --- formatting helpers ---------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) must be escaped in any text we did not write."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{_escape(label).replace('|', '¦')}>"


def _code(text: str) -> str:
    return "`" + _escape(text.replace("`", "'")) + "`"


def _value(value: Any) -> str:
    """A drift value as inline code: strings as-is, the rest as compact JSON; long ones cut."""
    if value is None:
        text = "(none)"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return _code(text)


def _plain_value(value: Any) -> str:
    text = "(none)" if value is None else value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def console_url(table: str, region: str) -> str:
    """The AWS console page of a table (DynamoDB console v2)."""
    r = quote(region, safe="")
    return f"https://{r}.console.aws.amazon.com/dynamodbv2/home?region={r}#table?name={quote(table, safe='')}"


def _source(
    source: SourceLocation | None, repo_url: str | None, commit: str | None, subdir: str = ""
) -> str | None:
    if source is None:
        return None
    if repo_url and commit:
        return _link(source_url(repo_url, commit, source, subdir), str(source))
    return _code(str(source))


def _age(delta: timedelta) -> str:
    """``3h 5m``; never negative (a first sighting stamped while the clock ran ahead)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else "<1m"


def _bounded(lines: Sequence[str], limit: int = MAX_SECTION_CHARS) -> str:
    """Join lines, ending with "… and N more" where they would exceed ``limit`` characters."""
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index
        tail = 0 if rest == 1 else len(f"\n… and {rest - 1} more")
        if size + len(line) + 1 + tail > limit:
            out.append(f"… and {rest} more")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def _table_title(target: str, table: str, region: str | None) -> str:
    parts = [f"*{_escape(table)}*", f"target {_code(target)}"]
    if region:
        parts.insert(1, _code(region))
        parts.append(_link(console_url(table, region), "AWS console"))
    return " · ".join(parts)


def _in(region: str | None) -> str:
    """`` in <region>`` for a plain-text line: the same table name may be drifting in two regions."""
    return f" in {region}" if region else ""


def _grouped(items: Iterable[Transition]) -> list[list[Transition]]:
    """Transitions grouped by table, in first-seen order: one section per table."""
    groups: dict[tuple[str, str, str | None], list[Transition]] = {}
    for item in items:
        groups.setdefault((item.target, item.table, item.region), []).append(item)
    return list(groups.values())


def _transition_line(item: Transition) -> str:
    if item.kind is TransitionKind.CHANGED:
        return (
            f"• {_code(item.attribute)}: {_value(item.declared)} → {_value(item.live)}"
            f"  (was {_value(item.previous_declared)} → {_value(item.previous_live)})"
        )
    if _unwatched(item):
        why = f"{_escape(item.reason or '')}, after {_age(item.at - item.first_seen)}"
        if item.attribute == "table":
            what = "in AWS but not declared in git" if item.declared is None else "missing in AWS"
            return f"• {what}: {why}"
        return (
            f"• {_code(item.attribute)} drift ({_value(item.declared)} → {_value(item.live)}) is no "
            f"longer compared: {why}"
        )
    if item.kind is TransitionKind.RESOLVED:
        fixed = item.reason in (None, ResolveReason.FIXED.value)
        what = "table exists now" if item.attribute == "table" and fixed else item.reason or "fixed"
        return f"• {_code(item.attribute)}: {_escape(what)} after {_age(item.at - item.first_seen)}"
    if item.kind is TransitionKind.MISSING:
        return "• declared in git but not found in AWS"
    if item.kind is TransitionKind.SUPERSEDED:
        return (
            f"• {_code(item.attribute)} drift ({_value(item.declared)} → {_value(item.live)}) is "
            "closed: the table itself is missing now"
        )
    if item.kind is TransitionKind.UNMANAGED:
        return "• in AWS but not declared in git"
    return f"• {_code(item.attribute)}: {_value(item.declared)} → {_value(item.live)}"


UNWATCHED = "no longer watched"


def _unwatched(item: Transition) -> bool:
    """Drift closed because its table is no longer compared (no longer declared in git, its
    target no longer configured): the drift may well still be there, so never "resolved"."""
    return item.kind is TransitionKind.RESOLVED and item.reason in NO_LONGER_WATCHED


def _label(item: Transition) -> str:
    """The section (and summary word) of a transition: its kind, or :data:`UNWATCHED`."""
    return UNWATCHED if _unwatched(item) else item.kind.value


_SECTIONS: list[tuple[str, str]] = [
    (TransitionKind.MISSING.value, ":x: *Tables missing in AWS*"),
    (TransitionKind.UNMANAGED.value, ":grey_question: *Tables in AWS not declared in git*"),
    (TransitionKind.NEW.value, ":warning: *New drift*"),
    (TransitionKind.CHANGED.value, ":arrows_counterclockwise: *Changed drift*"),
    (TransitionKind.RESOLVED.value, ":white_check_mark: *Resolved drift*"),
    # Attribute drift closed because its table went missing. Shown under the missing table
    # when that is in the same message; this section only holds the rest (e.g. a table that is
    # now absent but pending creation). Never under "Resolved": nothing was fixed.
    (TransitionKind.SUPERSEDED.value, ":heavy_multiplication_x: *Drift closed because the table is missing*"),
    # Nor drift whose table driftwatch stopped comparing: nobody said it was fixed.
    (UNWATCHED, ":heavy_minus_sign: *No longer watched (not fixed: no longer compared)*"),
]


def _table_of(item: Transition) -> tuple[str, str | None, str]:
    """The table a transition is about: (target, region, name). The same name in two regions
    is two tables (driftwatch.history.ledger), each with its own section."""
    return (item.target, item.region, item.table)


def _superseded_alone(transitions: Transitions) -> tuple[Transition, ...]:
    """Superseded items whose table has no ``missing`` line in the same message."""
    missing = {_table_of(t) for t in transitions.of(TransitionKind.MISSING)}
    return tuple(t for t in transitions.of(TransitionKind.SUPERSEDED) if _table_of(t) not in missing)


def _of_kind(transitions: Transitions, label: str) -> tuple[Transition, ...]:
    """The transitions shown in the section ``label`` (see :func:`_label`)."""
    if label == TransitionKind.SUPERSEDED.value:
        return _superseded_alone(transitions)
    return tuple(item for item in transitions if _label(item) == label)


def _summary(transitions: Transitions) -> str:
    counts = [(len(_of_kind(transitions, label)), label) for label, _ in _SECTIONS]
    return ", ".join(f"{n} {label}" for n, label in counts if n)


def _fallback(title: str, lines: Sequence[str]) -> str:
    """The plain ``text`` of a message (notifications, clients without Block Kit)."""
    shown = [_escape(line) for line in lines[:MAX_FALLBACK_LINES]]
    if len(lines) > len(shown):
        shown.append(f"… and {len(lines) - len(shown)} more")
    # Escaped like the blocks: Slack parses ``text`` as mrkdwn too (push and desktop
    # notifications show it), so ``<!channel>`` or ``<https://evil.example/|click me>`` in a
    # value from git would ping everyone or show a disguised link.
    return _bounded([_escape(title), *shown], MAX_FALLBACK_CHARS)


def _assemble(
    header: str, intro: str, groups: Sequence[tuple[str, Sequence[str]]], footer: str | None
) -> list[Block]:
    """Header, intro, then per group a heading and its table sections, within MAX_BLOCKS.

    ``groups`` is (heading, [section text per table]). When the blocks run out the rest is
    summarised in one final section ("… and N more tables"), so a large estate still yields
    a valid message instead of one Slack rejects.
    """
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=header[:MAX_HEADER_CHARS], emoji=True)),
        ContextBlock(elements=[MarkdownTextObject(text=intro[:MAX_SECTION_CHARS])]),
    ]
    reserve = 1 + (1 if footer else 0)  # the "… and N more" section, the footer
    omitted = 0
    for heading, sections in groups:
        if not sections:
            continue
        if len(blocks) + 2 + reserve > MAX_BLOCKS:  # no room for the heading and one table
            omitted += len(sections)
            continue
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=heading)))
        for index, text in enumerate(sections):
            if len(blocks) + 1 + reserve > MAX_BLOCKS:
                omitted += len(sections) - index
                break
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    if omitted:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"… and {omitted} more tables not shown here; see `driftwatch history`."
                )
            )
        )
    if footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks


def _payload(text: str, blocks: Sequence[Block]) -> dict[str, Any]:
    return {
        "text": text,
        "blocks": [block.to_dict() for block in blocks],  # to_dict validates Slack's limits
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _footer(commit: str | None, repo_url: str | None) -> str:
    if not commit:
        return "driftwatch"
    label = commit[:12]
    if repo_url:
        url = repo_url.rstrip("/") + "/commit/" + quote(commit, safe="")
        return f"driftwatch · commit {_link(url, label)}"
    return f"driftwatch · commit {_code(label)}"


def build_message(
    transitions: Transitions | Sequence[Transition],
    *,
    repo_url: str | None,
    commit: str | None,
    repo_subdir: str = "",
) -> dict[str, Any] | None:
    """The Slack message of one scan, or None when nothing changed.

    Missing tables first (the most severe), then new, changed and resolved drift; one section
    per table with its region, target, AWS console link and (new/changed/missing) the file and
    line of the declaration, linked to ``repo_url`` at ``commit`` when both are known.
    """
    if not isinstance(transitions, Transitions):
        items = tuple(transitions)
        if not items:
            return None
        transitions = Transitions(items, commit, items[0].at)
    if not transitions:
        return None
    groups: list[tuple[str, list[str]]] = []
    fallback_lines: list[str] = []
    superseded: dict[tuple[str, str | None, str], list[Transition]] = {}
    for item in transitions.of(TransitionKind.SUPERSEDED):
        superseded.setdefault(_table_of(item), []).append(item)
    for label, heading in _SECTIONS:
        of_kind = _of_kind(transitions, label)
        sections: list[str] = []
        for table_items in _grouped(of_kind):
            first = table_items[0]
            kind = first.kind
            lines = [_table_title(first.target, first.table, first.region)]
            if kind is not TransitionKind.RESOLVED:
                where = _source(first.source, repo_url, commit, repo_subdir)
                if where:
                    lines.append(f"declared at {where}")
            lines.extend(_transition_line(item) for item in table_items)
            if kind is TransitionKind.MISSING:
                closed = superseded.get(_table_of(first), [])
                lines.extend(_transition_line(item) for item in closed)
            sections.append(_bounded(lines))
        for item in (
            transitions.of(TransitionKind.SUPERSEDED) if label == TransitionKind.SUPERSEDED.value else of_kind
        ):
            kind = item.kind
            detail = (
                f"{_plain_value(item.declared)} → {_plain_value(item.live)}"
                if kind in (TransitionKind.NEW, TransitionKind.CHANGED)
                else (item.reason or "")
                if kind is TransitionKind.RESOLVED
                else "not declared in git"
                if kind is TransitionKind.UNMANAGED
                else "drift closed, the table is missing in AWS"
                if kind is TransitionKind.SUPERSEDED
                else "missing in AWS"
            )
            fallback_lines.append(
                f"{label}: {item.target}/{item.table} {item.attribute}{_in(item.region)}: {detail}"
            )
        if sections:
            groups.append((f"{heading} ({len(of_kind)})", sections))
    bad = (
        transitions.of(TransitionKind.NEW)
        or transitions.of(TransitionKind.MISSING)
        or transitions.of(TransitionKind.UNMANAGED)
    )
    # Drift no longer watched is not good news either: only fixes get the green mark.
    notable = transitions.of(TransitionKind.CHANGED) or _of_kind(transitions, UNWATCHED)
    emoji = ":rotating_light:" if bad else ":large_orange_diamond:" if notable else ":white_check_mark:"
    summary = _summary(transitions)
    header = f"{emoji} DynamoDB drift: {summary}"
    intro = f"{len(transitions)} change(s) in drift between git and AWS: {summary}."
    blocks = _assemble(header, intro, groups, _footer(commit, repo_url))
    return _payload(_fallback(f"DynamoDB drift: {summary}", fallback_lines), blocks)


def build_reminder(
    episodes: Sequence[Episode],
    *,
    repo_url: str | None = None,
    now: datetime | None = None,
    repo_subdir: str = "",
) -> dict[str, Any] | None:
    """A reminder of drift that is still open (after ``slack.remind_after``), or None if none.

    Links use each episode's last scanned commit, so they point at the declaration as it is.
    ``now`` is the time of the scan just recorded: an episode last seen before it was not seen
    drifting by that scan (its table unreadable, its target failing, a pending apply), so its
    line says when it was last seen, instead of asserting that it still drifts.
    """
    if not episodes:
        return None
    at = now or datetime.now(UTC)
    tables: dict[tuple[str, str, str | None], list[Episode]] = {}
    for episode in episodes:
        tables.setdefault((episode.target, episode.table, episode.region), []).append(episode)
    sections: list[str] = []
    fallback_lines: list[str] = []
    for (target, table, region), items in tables.items():
        lines = [_table_title(target, table, region)]
        where = _source(items[0].source, repo_url, items[0].last_commit, repo_subdir)
        if where:
            lines.append(f"declared at {where}")
        for e in items:
            age = _age(at - e.first_seen)
            # Not "not compared": an episode waiting for an apply is not seen drifting either.
            unseen = f"; last seen {_age(at - e.last_seen)} ago" if e.last_seen < at else ""
            if e.attribute == "table" and e.declared is None:
                lines.append(f"• in AWS but not declared in git for {age}{unseen}")
            elif e.attribute == "table":
                lines.append(f"• declared in git but missing in AWS for {age}{unseen}")
            else:
                values = f"{_value(e.declared)} → {_value(e.live)}"
                lines.append(f"• {_code(e.attribute)}: {values}  (open for {age}{unseen})")
            values = f"{_plain_value(e.declared)} → {_plain_value(e.live)}"
            fallback_lines.append(
                f"open {age}: {target}/{table} {e.attribute}{_in(region)}: {values}{unseen}"
            )
        sections.append(_bounded(lines))
    summary = f"{len(episodes)} drifted attribute(s) on {len(tables)} table(s)"
    header = f":alarm_clock: DynamoDB drift still open: {summary}"
    intro = "Reminder: this drift between git and AWS has not been fixed yet."
    blocks = _assemble(header, intro, [(":warning: *Still drifting*", sections)], "driftwatch reminder")
    return _payload(_fallback(f"DynamoDB drift still open: {summary}", fallback_lines), blocks)


def build_expired_rules_message(rules: Sequence[IgnoreRule]) -> dict[str, Any] | None:
    """The one message announcing ignore rules that expired: their drift alerts again."""
    if not rules:
        return None
    lines = []
    fallback_lines = []
    for rule in rules:
        until = rule.until.isoformat() if rule.until else "?"
        lines.append(
            f"• table {_code(rule.table)}, attribute {_code(rule.attribute)}: "
            f"{_escape(rule.reason)} (until {until})"
        )
        fallback_lines.append(f"expired {until}: {rule.table} {rule.attribute}: {rule.reason}")
    summary = f"{len(rules)} ignore rule(s) expired"
    header = f":hourglass: DynamoDB drift: {summary}"
    intro = (
        "These ignore rules reached their `until` date and no longer apply: drift they accepted "
        "is reported (and alerted) again. Extend `until` with a reason, or fix the drift."
    )
    groups = [(":hourglass: *Expired ignore rules*", [_bounded(lines)])]
    blocks = _assemble(header, intro, groups, "driftwatch")
    return _payload(_fallback(f"DynamoDB drift: {summary}", fallback_lines), blocks)


def build_coverage_message(started: Sequence[str], ended: Sequence[str]) -> dict[str, Any] | None:
    """The message saying what stopped being watched (each line names the table, module call or
    file and the reason) and what is watched again; None when neither."""
    if not started and not ended:
        return None
    counts = [(len(started), "not watched"), (len(ended), "watched again")]
    summary = ", ".join(f"{n} {label}" for n, label in counts if n)
    header = f"{':warning:' if started else ':white_check_mark:'} DynamoDB drift: {summary}"
    intro = (
        "driftwatch cannot compare these with AWS, so drift in them goes unseen until this is "
        "fixed (see the runbook for each reason)."
        if started
        else "driftwatch compares these with AWS again."
    )
    groups = [
        (f":warning: *Not watched* ({len(started)})", [_bounded([f"• {_escape(text)}" for text in started])]),
        (
            f":white_check_mark: *Watched again* ({len(ended)})",
            [_bounded([f"• {_escape(text)}" for text in ended])],
        ),
    ]
    fallback = [f"not watched: {text}" for text in started] + [f"watched again: {text}" for text in ended]
    blocks = _assemble(
        header, intro, [(heading, lines) for heading, lines in groups if lines[0]], "driftwatch"
    )
    return _payload(_fallback(f"DynamoDB drift: {summary}", fallback), blocks)


# --- delivery -------------------------------------------------------------------------------------


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date; None if
    absent or unparseable. A date is measured from ``now`` (the delivery clock)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        reference = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        seconds = (when - reference).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(MAX_DELAY, max(0.0, seconds))


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """30 s * 2^attempts, capped at an hour, with ±20 % jitter so many pods do not retry in step."""
    base = min(MAX_DELAY, BACKOFF_BASE * 2.0 ** min(attempts, 20))
    jitter: float = rng.uniform(0.8, 1.2) if rng is not None else random.uniform(0.8, 1.2)
    return min(MAX_DELAY, base * jitter)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else None
            return str(value)
    return None


Outcome = str  # "success" | "retry" | "dropped" | "error"

REPEAT_NOTICE = (
    ":repeat: driftwatch stopped while sending this message, so it may already have been posted: "
    "this may be a repeat."
)


def with_repeat_notice(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` marked as a possible repeat: resent after an attempt whose outcome was lost.

    Slack's incoming webhooks take no idempotency key, so a message posted just before
    driftwatch died (between Slack's 200 and recording it) is posted again; the reader is told.
    """
    marked = dict(payload)
    marked["text"] = f"(possible repeat) {payload.get('text') or ''}"
    blocks = list(payload.get("blocks") or [])
    if len(blocks) < MAX_BLOCKS:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=REPEAT_NOTICE)]).to_dict())
    marked["blocks"] = blocks
    return marked


# Slack's documented incoming-webhook errors ("Handling errors" in Slack's guide to incoming
# webhooks): the status code and a short error word in the body. Only errors about the message
# itself can never succeed on a retry; errors about the webhook or its channel fail every
# message until someone fixes the webhook, and then every message must still arrive.
_MESSAGE_ERRORS = frozenset({"invalid_payload", "too_many_attachments", "no_text"})
_WEBHOOK_ERRORS = frozenset(
    {
        "user_not_found",  # 400
        "no_service_id",  # 400
        "invalid_token",  # 403
        "action_prohibited",  # 403: an admin restricted posting
        "posting_to_general_channel_denied",  # 403
        "channel_not_found",  # 404
        "no_service",  # 404: the webhook was disabled or revoked
        "no_team",  # 404
        "team_disabled",  # 404
        "channel_is_archived",  # 410
    }
)

Verdict = str  # "drop" | "webhook" | "retry"


def _json_answer(body: str) -> Mapping[str, Any] | None:
    """The body as Slack's Web API shape (``{"ok": false, "error": "invalid_payload"}``), which
    a proxy or gateway in front of Slack, or a workflow webhook, answers; None for plain text."""
    text = body.strip()
    if not text.startswith("{"):
        return None
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    return answer if isinstance(answer, Mapping) else None


def _error_word(body: str) -> str:
    answer = _json_answer(body)
    if answer is not None:
        error = answer.get("error")
        return error.strip() if isinstance(error, str) else ""
    return body.strip().split()[0].strip("\"'.,:;") if body.strip() else ""


def refused_despite_2xx(body: str) -> bool:
    """A 2xx whose body is one of Slack's error words, or ``{"ok": false, ...}``: a proxy in
    front of Slack (or an old Slack) that passed the refusal on as 200. The message was not
    posted. (Read as text, the JSON's first word was ``{"ok":false,...``: marked sent.)"""
    answer = _json_answer(body)
    if answer is not None and answer.get("ok") is False:
        return True
    return _error_word(body) in _MESSAGE_ERRORS | _WEBHOOK_ERRORS


def classify_rejection(status: int, body: str) -> Verdict:
    """What to do with an answer from Slack that is not a delivery (nor a 429).

    ``drop``: the message itself is invalid (Slack's ``invalid_payload``,
    ``too_many_attachments``, or a 400/413/422 without a known error word): resending the same
    bytes cannot succeed. ``webhook``: the webhook or channel is broken (the other documented
    4xx errors, any other 4xx, and any 3xx: Slack's webhooks never redirect): keep the message
    and retry with backoff, loudly.
    ``retry``: a server-side or transient failure (5xx, 408).
    """
    word = _error_word(body)
    if status >= 500 or status == 408:
        return "retry"
    if 300 <= status < 400:  # Slack's webhooks never redirect: the URL is wrong
        return "webhook"
    if word in _MESSAGE_ERRORS:
        return "drop"
    if word in _WEBHOOK_ERRORS:
        return "webhook"
    if status in (400, 413, 422):
        return "drop"
    return "webhook" if 400 <= status < 500 else "retry"


class _NoAnswerError(Exception):
    """Slack did not finish answering within the bound on one whole exchange."""


class _StillHangingError(Exception):
    """The previous request to this webhook is still unanswered; no second one is opened."""


class SlackNotifier:
    """Delivers the ``slack`` outbox of a History to one incoming webhook.

    Creating it registers the ``slack`` channel with ``history``: from then on every
    ``record_scan`` with transitions (and every ``record_reminders``) queues a message in the
    same transaction. ``deliver_pending`` sends what is due; the daemon calls it after each scan,
    on a short interval, and at shutdown.
    """

    def __init__(
        self,
        webhook_url: str,
        history: History,
        *,
        timeout: int = 10,
        on_outcome: Callable[[Outcome], None] | None = None,
        repo_url: str | None = None,
        repo_subdir: str = "",
        rng: random.Random | None = None,
        max_per_run: int = 100,
        channel: str = CHANNEL,
        select: Callable[[str, str], bool] | None = None,
    ) -> None:
        register_secret(webhook_url)
        self._history = history
        # A route of slack.routes (driftwatch.notify.routes): its own outbox channel, and only
        # the tables ``select(target, table)`` accepts. The default takes everything.
        self.channel = channel
        self._select = select
        self._on_outcome = on_outcome
        self._repo_url = repo_url
        self._repo_subdir = repo_subdir  # the scanned repo's place in its checkout: links count from the top
        self._rng = rng
        self._max_per_run = max_per_run
        self._lock = threading.Lock()  # never two deliveries at once: each message sent once
        self._stopping = threading.Event()
        # Messages Slack accepted whose ``mark_sent`` failed (the database locked or full): the
        # outcome is known, so they are recorded before anything else is sent, never resent.
        self._unrecorded: dict[int, datetime] = {}
        # ``timeout`` bounds each socket operation; a webhook that drip-feeds its answer (a byte
        # now and then) passes every one of them forever, so the whole exchange has a bound too.
        self._answer_seconds = ANSWER_TIMEOUTS * timeout
        self._hanging: threading.Thread | None = None  # a send given up on, still running
        self._client = StrictWebhookClient(
            webhook_url, timeout=timeout, retry_handlers=[], logger=_SDK_LOGGER
        )
        history.add_channel(channel, self._scan_message, self._reminder_message)

    def __repr__(self) -> str:
        return f"SlackNotifier(webhook=<redacted>, history={self._history.path!r})"

    @staticmethod
    def scrub(text: str) -> str:
        """``text`` with every trace of the webhook URL (and any other credential) replaced;
        for logs and stored errors. The rules are ``driftwatch.secrets``."""
        return scrub_message(text, limit=2000)

    def stop(self) -> None:
        """Shutdown: a delivery in progress ends after its current message, and scheduled ones
        start none, so the last flush (with a deadline) gets the channel in order."""
        self._stopping.set()

    def _stopped(self, deadline: float | None) -> bool:
        if deadline is not None:
            return time.monotonic() >= deadline
        return self._stopping.is_set()

    def takes(self, target: str, table: str) -> bool:
        """Whether this notifier's channel is where messages about (target, table) go."""
        return self._select is None or self._select(target, table)

    def _scan_message(self, transitions: Transitions) -> dict[str, Any] | None:
        if self._select is not None:
            items = tuple(t for t in transitions.items if self.takes(t.target, t.table))
            if not items:
                return None
            transitions = dataclasses.replace(transitions, items=items)
        return build_message(
            transitions, repo_url=self._repo_url, commit=transitions.commit, repo_subdir=self._repo_subdir
        )

    def _reminder_message(self, episodes: Sequence[Episode], now: datetime) -> dict[str, Any] | None:
        if self._select is not None:
            episodes = [e for e in episodes if self.takes(e.target, e.table)]
            if not episodes:
                return None
        return build_reminder(episodes, repo_url=self._repo_url, now=now, repo_subdir=self._repo_subdir)

    def _outcome(self, outcome: Outcome) -> None:
        if self._on_outcome is None:
            return
        try:
            self._on_outcome(outcome)
        except Exception as error:  # a metrics bug must not stop delivery
            log.warning("slack_outcome_callback_failed", error=self.scrub(repr(error)))

    def deliver_pending(
        self,
        now: datetime | Callable[[], datetime],
        *,
        deadline: float | None = None,
        wait: bool = True,
        until: float | None = None,
    ) -> int:
        """Send the due messages in order; returns how many Slack accepted.

        Stops at the first message that must be retried (Slack is down or rate-limiting us:
        the rest would fail the same way, and order is kept). ``now`` is the clock, read at
        each message and at each answer (the daemon passes the wall clock): a fixed time
        freezes it, so tests need not sleep. Read once per pass, a 429 that came ten minutes
        into a slow pass was dated at its start: its Retry-After had already run out, and the
        next pass resent at once. ``deadline``
        (``time.monotonic()``): start no message after it, and give up waiting for another
        delivery in progress at it (shutdown uses what is left of ``--grace``). After
        :meth:`stop`, only a call with a deadline (the shutdown's last flush) sends anything.
        ``wait=False``: return at once when another delivery is in progress (a scan's delivery:
        the scan thread must never wait for Slack; the delivery job sends the rest). ``until``
        (``time.monotonic()``): start no message after it, the rest left for the next run (a
        scan's delivery: a Slack that answers slowly must not hold up the scan job).
        """
        sent = 0
        clock: Callable[[], datetime] = now if callable(now) else lambda: now
        timeout = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        acquired = self._lock.acquire(timeout=timeout) if wait else self._lock.acquire(blocking=False)
        if not acquired:
            return 0
        try:
            if not self._record_unrecorded():
                return 0
            handled = 0
            while handled < self._max_per_run:
                if self._stopped(deadline) or _past(until):
                    break
                batch = self._history.pending(
                    self.channel, clock(), limit=min(50, self._max_per_run - handled)
                )
                if not batch:
                    break
                for message in batch:
                    handled += 1
                    outcome = self._deliver_one(message, clock)
                    if outcome is None:  # no longer pending (delivered by another process)
                        continue
                    self._outcome(outcome)
                    if outcome == "success":
                        sent += 1
                    elif outcome in ("retry", "error"):
                        return sent
                    if self._stopped(deadline) or self._unrecorded or _past(until):
                        return sent
        finally:
            self._lock.release()
        return sent

    def _record_unrecorded(self) -> bool:
        """Record the deliveries whose ``mark_sent`` failed; False while the database refuses."""
        for message_id, accepted in list(self._unrecorded.items()):
            try:
                self._history.mark_sent(message_id, accepted)
            except HistoryError as error:
                log.error("slack_sent_not_recorded", message_id=message_id, error=str(error))
                return False
            del self._unrecorded[message_id]
            log.info("slack_sent_recorded_late", message_id=message_id)
        return True

    def _send(self, payload: dict[str, Any]) -> WebhookResponse:
        """``send_dict`` within ``_answer_seconds`` in all; raises :class:`_NoAnswerError` past it.

        urllib offers no deadline on a whole request, so the send runs on a daemon thread that
        is left behind when it overruns (it ends with its connection; one per failed attempt,
        and failed attempts back off to an hour); while it runs, no other request is opened
        (:class:`_StillHangingError`), so a webhook that never stops answering holds one thread.
        """
        if self._hanging is not None:
            if self._hanging.is_alive():
                raise _StillHangingError
            self._hanging = None
        outcome: list[WebhookResponse | BaseException] = []

        def call() -> None:
            try:
                outcome.append(self._client.send_dict(payload))
            except BaseException as error:
                outcome.append(error)

        sender = threading.Thread(target=call, name="driftwatch-slack-send", daemon=True)
        sender.start()
        sender.join(self._answer_seconds)
        if not outcome:
            self._hanging = sender
            raise _NoAnswerError
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _deliver_one(self, message: OutboxMessage, clock: Callable[[], datetime]) -> Outcome | None:
        # Recorded (and committed) before the request: if the process dies before the outcome is
        # recorded, the next attempt knows the message may have been posted, and says so.
        claimed = self._history.begin_attempt(message.id, clock())
        if claimed is None:
            return None
        message = claimed
        fields = {"message_id": message.id, "attempt": message.attempts + 1}
        payload = message.payload
        if message.interrupted:
            payload = with_repeat_notice(payload)
            log.warning("slack_resending_interrupted", **fields, interrupted=message.interrupted)
        try:
            response = self._send(payload)
        except _StillHangingError:
            now = clock()
            cause = "not sent: the previous request to this webhook is still unanswered"
            delay = backoff_seconds(message.attempts, self._rng)
            self._history.mark_retry(message.id, now, delay, cause)
            log.warning("slack_send_failed", **fields, error=cause, retry_in_seconds=round(delay, 1))
            return "error"
        except _NoAnswerError:
            now = clock()
            # Slack may have posted it: the resend is marked as a possible repeat.
            cause = f"no complete answer within {self._answer_seconds:g} s; it may have been delivered"
            delay = backoff_seconds(message.attempts, self._rng)
            self._history.mark_retry(message.id, now, delay, cause, possibly_delivered=True)
            log.warning("slack_send_failed", **fields, error=cause, retry_in_seconds=round(delay, 1))
            return "error"
        except Exception as error:  # URLError, timeouts, SlackRequestError: all retried
            now = clock()
            cause = self.scrub(f"{type(error).__name__}: {error}")
            delay = backoff_seconds(message.attempts, self._rng)
            # urllib wraps every failure up to the request being sent (DNS, connect, TLS, a
            # reset while sending) in URLError; anything else (a read timeout, a reset or a
            # close before the answer) came after Slack had the whole message: maybe posted.
            maybe_posted = not isinstance(error, (URLError, SlackRequestError))
            self._history.mark_retry(message.id, now, delay, cause, possibly_delivered=maybe_posted)
            log.warning("slack_send_failed", **fields, error=cause, retry_in_seconds=round(delay, 1))
            return "error"
        now = clock()  # when the answer came: what it asks (a backoff, Retry-After) counts from here
        status = int(response.status_code)
        answer = str(response.body or "")  # judged whole (at most MAX_ANSWER_BYTES): a JSON
        body = self.scrub(answer)[:500]  # answer cut to its logged length would not parse
        if 200 <= status < 300 and not refused_despite_2xx(answer):
            try:
                self._history.mark_sent(message.id, now)
            except HistoryError as error:
                self._unrecorded[message.id] = now
                log.error(
                    "slack_sent_not_recorded",
                    **fields,
                    error=str(error),
                    detail="Slack accepted it; it is recorded when the database takes writes "
                    "again, and not sent again meanwhile",
                )
                return "success"
            log.info("slack_message_sent", **fields, status=status)
            return "success"
        if status == 429:
            header = _header(response.headers or {}, "Retry-After")
            parsed = retry_after_seconds(header, now)
            delay = DEFAULT_RETRY_AFTER if parsed is None else parsed
            # Scrubbed as every stored error is: a proxy may echo the request URL in a header.
            header = None if header is None else self.scrub(header)[:200]
            self._history.mark_retry(
                message.id, now, delay, f"HTTP 429: rate limited (Retry-After: {header})"
            )
            log.warning(
                "slack_rate_limited", **fields, status=status, retry_after=header, retry_in_seconds=delay
            )
            return "retry"
        verdict = classify_rejection(status, answer)
        if verdict == "drop":
            self._history.mark_dropped(message.id, f"HTTP {status}: {body}", now)
            log.error(
                "slack_message_dropped",
                **fields,
                status=status,
                body=body,
                hint="Slack refused this message itself; it will never be accepted. It stays in "
                'the outbox as dropped (driftwatch_outbox_messages{status="dropped"})',
            )
            return "dropped"
        if verdict == "webhook":
            delay = backoff_seconds(message.attempts, self._rng)
            self._history.mark_retry(message.id, now, delay, f"HTTP {status}: {body}")
            log.error(
                "slack_webhook_rejected",
                **fields,
                status=status,
                body=body,
                retry_in_seconds=round(delay, 1),
                hint="the webhook or its channel is broken (revoked, channel archived or deleted, "
                "posting not allowed); messages are kept and retried until it is fixed",
            )
            return "retry"
        delay = backoff_seconds(message.attempts, self._rng)
        self._history.mark_retry(message.id, now, delay, f"HTTP {status}: {body}")
        log.warning(
            "slack_server_error", **fields, status=status, body=body, retry_in_seconds=round(delay, 1)
        )
        return "retry"


def _past(until: float | None) -> bool:
    """Whether a delivery's time budget (``time.monotonic()``; None: none) is spent."""
    return until is not None and time.monotonic() >= until
