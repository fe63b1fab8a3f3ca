"""Drift history: episodes and their transitions, migrations, failure at open, reminders, outbox.

The rules under test are the ones that keep Slack honest: a transition is recorded exactly
once, a table we could not look at is never "fixed", and episodes and their messages are
written together or not at all.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import driftwatch.history.store as history_module
from driftwatch.history import (
    SCHEMA_VERSION,
    Episode,
    History,
    HistoryError,
    OutboxStatus,
    ResolveReason,
    TransitionKind,
    Transitions,
)
from driftwatch.spec import (
    Drift,
    NotEvaluated,
    ScanReport,
    SourceLocation,
    TableResult,
    TableStatus,
    TargetError,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SCAN = timedelta(minutes=5)


def row(
    table: str | None,
    *drift: tuple[str, Any, Any],
    target: str = "prod",
    status: TableStatus | None = None,
    region: str = "us-east-1",
    address: str | None = None,
) -> TableResult:
    if status is None:
        status = TableStatus.DRIFTED if drift else TableStatus.IN_SYNC
    return TableResult(
        target=target,
        address=address or f"module.{table}",
        source=SourceLocation("modules/storage/main.tf", 12),
        table_name=table,
        region=region,
        status=status,
        drift=tuple(Drift(a, d, live) for a, d, live in drift),
        error="AccessDenied" if status is TableStatus.ERROR else None,
    )


def missing(table: str, target: str = "prod") -> TableResult:
    return row(table, ("table", table, None), target=target, status=TableStatus.MISSING)


def report(*rows: TableResult, errors: Sequence[TargetError] = (), commit: str = "c0ffee") -> ScanReport:
    return ScanReport(generated_at=T0, commit=commit, tables=tuple(rows), errors=tuple(errors))


def kinds(transitions: Transitions) -> list[tuple[str, str, str]]:
    return sorted((t.kind.value, t.table, t.attribute) for t in transitions)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "driftwatch.db"


@pytest.fixture
def history(db_path: Path) -> Iterator[History]:
    with History.open(db_path) as h:
        yield h


PITR = ("point_in_time_recovery", True, False)


# --- schema and opening ---------------------------------------------------------------------------


def test_migrates_an_empty_database_and_uses_wal(db_path: Path) -> None:
    with History.open(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION >= 1
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"episodes", "outbox"} <= names
    finally:
        raw.close()


def test_migration_steps_apply_in_order_each_in_a_transaction(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    History.open(db_path).close()  # at the current version
    broken = [*history_module.MIGRATIONS, ("CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL")]
    monkeypatch.setattr(history_module, "MIGRATIONS", broken)
    monkeypatch.setattr(history_module, "SCHEMA_VERSION", len(broken))
    with pytest.raises(HistoryError, match=str(db_path)):
        History.open(db_path)
    raw = sqlite3.connect(db_path)
    try:  # the failed step left nothing behind: no table, no version bump
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchone() is None
    finally:
        raw.close()
    good = [*history_module.MIGRATIONS[:SCHEMA_VERSION], ("CREATE TABLE extra (x INTEGER)",)]
    monkeypatch.setattr(history_module, "MIGRATIONS", good)
    with History.open(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION + 1


def test_a_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    History.open(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(HistoryError, match="newer driftwatch"):
        History.open(db_path)


def test_the_read_only_open_reads_and_changes_nothing(db_path: Path) -> None:
    """``driftwatch history`` beside a live daemon: no probe, no ``last_opened_at``, no write."""
    with History.open(db_path) as writer:
        writer.record_scan(report(row("orders", PITR)), now=T0)
    before = db_path.read_bytes()
    reader = History.open_read_only(db_path)
    try:
        assert [(e.table, e.attribute) for e in reader.episodes()] == [("orders", "point_in_time_recovery")]
        with pytest.raises(HistoryError, match="read-only"):
            reader.record_scan(report(), now=T0)
    finally:
        reader.close()
    assert db_path.read_bytes() == before


def test_the_read_only_open_of_a_closed_database_creates_no_file(tmp_path: Path) -> None:
    """A state file the daemon closed cleanly (no ``-wal``, no ``-shm``), at a path a URI must
    quote: read as it is. A read-only connection in WAL mode created both files and could not
    remove them on close (left owned by whoever ran ``driftwatch history``), and on a read-only
    mount, or a copy in a directory it cannot write, refused to read at all."""
    path = tmp_path / "a b?#é" / "state.db"
    with History.open(path) as writer:
        writer.record_scan(report(row("orders", PITR)), now=T0)
    before = sorted(os.listdir(path.parent))
    with History.open_read_only(path) as reader:
        assert [e.table for e in reader.episodes()] == ["orders"]
        assert sorted(os.listdir(path.parent)) == before
    assert sorted(os.listdir(path.parent)) == before


def test_the_read_only_open_reads_while_the_daemon_holds_the_write_lock(db_path: Path) -> None:
    """WAL lets a reader in during a write transaction; the writer's open waited for it, then failed."""
    with History.open(db_path) as writer:
        writer.record_scan(report(row("orders", PITR)), now=T0)
        busy = sqlite3.connect(db_path, isolation_level=None)
        try:
            busy.execute("BEGIN IMMEDIATE")
            busy.execute("DELETE FROM episodes")  # not committed: the reader sees the last commit
            with History.open_read_only(db_path) as reader:
                assert len(reader.episodes()) == 1
            busy.execute("ROLLBACK")
        finally:
            busy.close()


def test_the_read_only_open_does_not_migrate_an_older_schema(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer CLI beside an older daemon: migrating would make the daemon refuse its own file."""
    History.open(db_path).close()
    newer = [*history_module.MIGRATIONS, ("CREATE TABLE extra (x INTEGER)",)]
    monkeypatch.setattr(history_module, "MIGRATIONS", newer)
    monkeypatch.setattr(history_module, "SCHEMA_VERSION", len(newer))
    with pytest.raises(HistoryError) as caught:
        History.open_read_only(db_path)
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION}" in message and f"version {len(newer)}" in message
    assert "migrates it when it starts" in message
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        raw.close()
    monkeypatch.setattr(history_module, "SCHEMA_VERSION", SCHEMA_VERSION - 1)
    with pytest.raises(HistoryError, match="newer driftwatch"):
        History.open_read_only(db_path)


def test_the_read_only_open_of_an_empty_file_says_so(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    with pytest.raises(HistoryError, match=r"empty \(0 bytes\): no history"):
        History.open_read_only(db_path)
    assert db_path.read_bytes() == b""


def test_a_corrupt_file_is_a_clear_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "driftwatch.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(HistoryError) as caught:
        History.open(path)
    assert str(path) in str(caught.value)
    assert "corrupt" in str(caught.value)


def test_an_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    path = blocker / "driftwatch.db"
    with pytest.raises(HistoryError, match=str(blocker)):
        History.open(path)


def test_a_database_path_that_is_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    """Runs as root too (CI does), unlike a permission test: root may write anywhere."""
    folder = tmp_path / "driftwatch.db"
    folder.mkdir()
    with pytest.raises(HistoryError, match=str(folder)):
        History.open(folder)


def test_closed_history_raises_history_error(db_path: Path) -> None:
    h = History.open(db_path)
    h.close()
    h.close()  # idempotent
    with pytest.raises(HistoryError, match="closed"):
        h.record_scan(report(row("a", PITR)), T0)


# --- transitions ----------------------------------------------------------------------------------


def test_new_unchanged_changed_resolved_and_missing_over_a_sequence_of_scans(history: History) -> None:
    first = history.record_scan(report(row("orders", PITR), missing("audit"), row("users")), T0)
    assert kinds(first) == [("missing", "audit", "table"), ("new", "orders", "point_in_time_recovery")]
    assert first.commit == "c0ffee"

    again = history.record_scan(report(row("orders", PITR), missing("audit"), row("users")), T0 + SCAN)
    assert not again and len(again) == 0
    (orders,) = [e for e in history.episodes(open_only=True) if e.table == "orders"]
    assert orders.first_seen == T0 and orders.last_seen == T0 + SCAN

    changed = history.record_scan(
        report(row("orders", ("point_in_time_recovery", True, None)), missing("audit")), T0 + 2 * SCAN
    )
    (item,) = changed.items
    assert item.kind is TransitionKind.CHANGED
    assert (item.previous_declared, item.previous_live, item.declared, item.live) == (True, False, True, None)
    assert item.first_seen == T0  # a change does not restart the episode

    fixed = history.record_scan(report(row("orders"), row("audit"), row("users")), T0 + 3 * SCAN)
    assert kinds(fixed) == [("resolved", "audit", "table"), ("resolved", "orders", "point_in_time_recovery")]
    assert {t.reason for t in fixed} == {ResolveReason.FIXED.value}
    assert history.episodes(open_only=True) == []
    (resolved,) = [e for e in history.episodes() if e.table == "orders"]
    assert resolved.resolved_at == T0 + 3 * SCAN and not resolved.open

    # the same drift coming back is a new episode, announced again
    back = history.record_scan(report(row("orders", PITR)), T0 + 4 * SCAN)
    assert kinds(back) == [("new", "orders", "point_in_time_recovery")]
    assert len(history.episodes()) == 3


def test_only_values_that_really_differ_are_changed(history: History) -> None:
    history.record_scan(report(row("orders", ("replicas", ["eu-west-1", "us-west-2"], []))), T0)
    same = history.record_scan(report(row("orders", ("replicas", ("eu-west-1", "us-west-2"), ()))), T0 + SCAN)
    assert not same  # a tuple is the same JSON as a list
    tags = ("tags.Team", {"a": 1, "b": 2}, None)
    history.record_scan(report(row("users", tags)), T0)
    assert not history.record_scan(report(row("users", ("tags.Team", {"b": 2, "a": 1}, None))), T0 + SCAN)


def test_a_table_that_could_not_be_read_keeps_its_episodes_open(history: History) -> None:
    history.record_scan(report(row("orders", PITR), row("users", ("billing_mode", "A", "B"))), T0)
    later = history.record_scan(
        report(
            row("orders", status=TableStatus.ERROR),
            # the name could not be evaluated this time: matched by its address
            row(None, status=TableStatus.ERROR, address="module.users"),
        ),
        T0 + SCAN,
    )
    assert not later
    assert {e.table for e in history.episodes(open_only=True)} == {"orders", "users"}


def test_absent_tables_are_not_resolved_while_their_target_has_errors(history: History) -> None:
    history.record_scan(report(row("orders", PITR), row("stage-orders", PITR, target="stage")), T0)
    broken = report(
        row("stage-orders", PITR, target="stage"),
        errors=[TargetError("prod", "unexpected token", "envs/prod/main.tf", 3)],
    )
    assert not history.record_scan(broken, T0 + SCAN)
    assert {e.table for e in history.episodes(open_only=True)} == {"orders", "stage-orders"}

    # once the target parses again and the table is gone from git, it is "no longer declared"
    gone = history.record_scan(report(row("stage-orders", PITR, target="stage")), T0 + 2 * SCAN)
    (item,) = gone.items
    assert (item.kind, item.table, item.reason) == (TransitionKind.RESOLVED, "orders", "no longer declared")
    (episode,) = [e for e in history.episodes() if e.table == "orders"]
    assert episode.resolved_reason == "no longer declared"


def test_absent_tables_are_not_resolved_while_a_module_call_of_their_target_is_not_evaluated(
    history: History,
) -> None:
    """A module call not evaluated this scan (its source not fetched: the registry was down)
    lists none of its tables; that is an outage, not a fix: no "no longer declared" (Slack
    said resolved, and the drift came back as new once the registry answered). Another
    target's absent table still resolves."""
    history.record_scan(report(row("orders", PITR), row("stage-orders", PITR, target="stage")), T0)
    outage = dataclasses.replace(
        report(),
        not_evaluated=(NotEvaluated("prod", "module.orders", SourceLocation("main.tf", 1), "registry down"),),
    )
    assert kinds(history.record_scan(outage, T0 + SCAN)) == [
        ("resolved", "stage-orders", "point_in_time_recovery")
    ]
    assert {e.table for e in history.episodes(open_only=True)} == {"orders"}


def test_errors_of_one_target_do_not_protect_another(history: History) -> None:
    history.record_scan(report(row("stage-orders", PITR, target="stage")), T0)
    gone = history.record_scan(report(errors=[TargetError("prod", "bad var file")]), T0 + SCAN)
    assert kinds(gone) == [("resolved", "stage-orders", "point_in_time_recovery")]


def test_episodes_survive_a_restart(db_path: Path) -> None:
    with History.open(db_path) as h:
        h.record_scan(report(row("orders", PITR)), T0)
    with History.open(db_path) as h:
        assert not h.record_scan(report(row("orders", PITR)), T0 + SCAN)  # not "new" again
        assert h.first_seen_map() == {("prod", "us-east-1", "orders", "point_in_time_recovery"): T0}
        (episode,) = h.episodes(open_only=True)
        assert (episode.declared, episode.live, episode.region) == (True, False, "us-east-1")
        assert episode.source == SourceLocation("modules/storage/main.tf", 12)
        assert episode.first_commit == "c0ffee"


def test_episode_listing_puts_open_first_and_respects_limit(history: History) -> None:
    history.record_scan(report(row("a", PITR), row("b", PITR)), T0)
    history.record_scan(report(row("a"), row("b", PITR), row("c", PITR)), T0 + SCAN)
    listing = history.episodes()
    assert [e.open for e in listing] == [True, True, False]
    assert listing[-1].table == "a"
    assert len(history.episodes(limit=1)) == 1
    assert {e.table for e in history.episodes(open_only=True)} == {"b", "c"}


# --- outbox and atomicity -----------------------------------------------------------------------------


def _register(history: History, sink: list[Any] | None = None) -> None:
    def on_scan(transitions: Transitions) -> dict[str, Any]:
        return {"text": ",".join(f"{t.kind.value}:{t.table}" for t in transitions)}

    def on_reminder(episodes: Sequence[Episode], now: datetime) -> dict[str, Any]:
        if sink is not None:
            sink.append([e.id for e in episodes])
        return {"text": "reminder " + ",".join(e.table for e in episodes)}

    history.add_channel("test", on_scan, on_reminder)


def test_record_scan_queues_one_message_per_scan_with_transitions(history: History) -> None:
    _register(history)
    history.record_scan(report(row("a", PITR), missing("b")), T0)
    history.record_scan(report(row("a", PITR), missing("b")), T0 + SCAN)  # nothing new: no message
    (message,) = history.pending("test", T0 + SCAN)
    assert message.payload == {"text": "new:a,missing:b"} or message.payload == {"text": "missing:b,new:a"}
    assert message.status is OutboxStatus.PENDING and message.attempts == 0
    assert history.pending("other", T0 + SCAN) == []


def test_an_exception_inside_record_scan_persists_nothing(history: History) -> None:
    calls = 0

    def exploding(transitions: Transitions) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        raise RuntimeError("formatter bug")  # runs after the episode writes, inside the transaction

    history.add_channel("boom", exploding, lambda episodes, now: None)
    with pytest.raises(RuntimeError, match="formatter bug"):
        history.record_scan(report(row("a", PITR)), T0)
    assert calls == 1
    assert history.episodes() == [] and history.pending_count() == 0

    # the next scan finds the same transition again: nothing was lost
    _register(history)
    history.add_channel("boom", lambda t: {"text": "ok"}, lambda episodes, now: None)
    assert kinds(history.record_scan(report(row("a", PITR)), T0 + SCAN)) == [
        ("new", "a", "point_in_time_recovery")
    ]
    assert history.pending_count() == 2


def test_a_database_error_mid_scan_rolls_back_and_is_a_history_error(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(history)

    def failing_enqueue(*args: Any, **kwargs: Any) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(history, "_enqueue", failing_enqueue)
    with pytest.raises(HistoryError, match="disk I/O error"):
        history.record_scan(report(row("a", PITR)), T0)
    monkeypatch.undo()
    assert history.episodes() == [] and history.pending_count() == 0


def test_outbox_retry_sent_dropped_and_order(history: History) -> None:
    first = history.enqueue("slack", {"text": "1"}, T0)
    second = history.enqueue("slack", {"text": "2"}, T0)
    assert [m.id for m in history.pending("slack", T0)] == [first, second]

    history.mark_retry(first, T0, timedelta(seconds=30), "HTTP 500: oops")
    # the first one backs off, and the second waits behind it (no overtaking)
    assert history.pending("slack", T0 + timedelta(seconds=10)) == []
    due = history.pending("slack", T0 + timedelta(seconds=30))
    assert [m.id for m in due] == [first, second]
    assert due[0].attempts == 1 and due[0].last_error == "HTTP 500: oops"

    history.mark_sent(first, T0 + timedelta(seconds=30))
    history.mark_dropped(second, "HTTP 400: invalid_blocks")
    assert history.pending("slack", T0 + timedelta(days=1)) == []
    assert history.pending_count("slack") == 0
    sent, dropped = history.message(first), history.message(second)
    assert sent is not None and sent.status is OutboxStatus.SENT and sent.attempts == 2
    assert dropped is not None and dropped.status is OutboxStatus.DROPPED
    assert dropped.last_error == "HTTP 400: invalid_blocks"
    assert history.prune_outbox(T0 + timedelta(days=1)) == 2


# --- reminders --------------------------------------------------------------------------------------


def test_reminders_are_due_after_remind_after_and_once_per_period(history: History) -> None:
    sink: list[Any] = []
    _register(history, sink)
    remind = timedelta(hours=24)
    history.record_scan(report(row("a", PITR), row("b", PITR)), T0)
    history.record_scan(report(row("a", PITR)), T0 + SCAN)  # b resolved
    assert history.due_reminders(T0 + timedelta(hours=23), remind) == []

    due = history.due_reminders(T0 + remind, remind)
    assert [e.table for e in due] == ["a"]
    assert history.record_reminders(due, T0 + remind) == 1
    assert sink == [[due[0].id]]
    assert history.due_reminders(T0 + remind + timedelta(hours=1), remind) == []  # once per period
    assert history.record_reminders([], T0) == 0

    later = history.due_reminders(T0 + 2 * remind, remind)
    assert [e.table for e in later] == ["a"]
    # resolved in the meantime: the stale list does not remind about it
    history.record_scan(report(row("a")), T0 + 2 * remind)
    assert history.record_reminders(later, T0 + 2 * remind) == 0
    texts = [m.payload["text"] for m in history.pending("test", T0 + 3 * remind)]
    assert texts.count("reminder a") == 1


def test_a_changed_drift_counts_as_a_notification(history: History) -> None:
    remind = timedelta(hours=24)
    history.record_scan(report(row("a", PITR)), T0)
    history.record_scan(report(row("a", ("point_in_time_recovery", True, None))), T0 + timedelta(hours=20))
    assert history.due_reminders(T0 + remind, remind) == []
    assert len(history.due_reminders(T0 + timedelta(hours=44), remind)) == 1


# --- threads ------------------------------------------------------------------------------------------


def test_the_connection_is_shared_safely_between_threads(history: History) -> None:
    _register(history)
    errors: list[BaseException] = []

    def scans() -> None:
        try:
            for i in range(30):
                history.record_scan(report(row("a", ("read_capacity", 5, i))), T0 + i * SCAN)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def readers() -> None:
        try:
            for _ in range(30):
                for message in history.pending("test", T0 + timedelta(days=1)):
                    history.mark_sent(message.id, T0)
                history.first_seen_map()
                history.episodes()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=fn) for fn in (scans, readers, readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(history.episodes(open_only=True)) == 1


# --- commits first seen (pending applies) ---


def test_a_commits_first_sighting_is_kept_across_restarts_and_never_moved(db_path: Path) -> None:
    first = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    commits = [f"{i:040x}" for i in range(1200)]  # more than one query's worth of parameters
    with History.open(db_path) as h:
        assert h.commits_first_seen(commits) == {}
        h.remember_commits(dict.fromkeys(commits, first))
    with History.open(db_path) as h:  # a restart
        h.remember_commits({commits[0]: first + timedelta(hours=1)})  # seen again later: ignored
        assert h.commits_first_seen([*commits, "f" * 40]) == dict.fromkeys(commits, first)


def test_old_commit_sightings_are_forgotten_oldest_first_and_the_newest_always_kept(db_path: Path) -> None:
    """Retention for commit sightings: those older than the cutoff go, except the newest ones
    (a repository quiet for longer than the retention keeps its HEAD's sighting)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sightings = {f"{i:040x}": start + timedelta(days=i) for i in range(10)}
    with History.open(db_path) as h:
        h.remember_commits(sightings)
        assert h.prune_commits(start, keep_newest=2) == 0  # nothing older than the cutoff
        assert h.prune_commits(start + timedelta(days=5), keep_newest=2) == 5
        assert sorted(h.commits_first_seen(sightings)) == sorted(list(sightings)[5:])
        assert h.prune_commits(start + timedelta(days=100), keep_newest=2) == 3
        assert h.commits_first_seen(sightings) == {sha: sightings[sha] for sha in list(sightings)[8:]}


def test_commit_sightings_outlive_twice_the_longest_pending_grace() -> None:
    from driftwatch.config import Config
    from driftwatch.daemon import commit_sightings_kept

    targets = [{"name": "a", "root": "."}, {"name": "b", "root": ".", "pending_grace": "60d"}]
    config = Config.model_validate({"targets": targets, "state": {"retention": "30d"}})
    assert commit_sightings_kept(config) == timedelta(days=120)
    config = Config.model_validate({"targets": targets[:1], "state": {"retention": "30d"}})
    assert commit_sightings_kept(config) == timedelta(days=30)
