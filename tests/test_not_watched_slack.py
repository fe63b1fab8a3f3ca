"""Slack says what is not watched (driftwatch.notify.coverage): a module call not evaluated, a
target error or a table that cannot be read is announced once it has lasted two scans in a row,
never again while it lasts (restarts included), and once more when it is watched again. One
flaky scan says nothing; attributes not compared are never messages (alerts and reports)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from realestate import REGION, provision, table_tf, target, write_repo

from driftwatch.config import parse_config
from driftwatch.daemon import Daemon
from driftwatch.notify.coverage import Listing, NotWatched, not_watched, reconcile
from driftwatch.notify.slack import build_coverage_message
from driftwatch.spec import (
    NotEvaluated,
    ScanReport,
    SourceLocation,
    TableResult,
    TableStatus,
    TargetError,
    Unresolved,
)
from tests.ports import free_port

TABLE = "acme-prod-orders"
REMOTE = 'module "remote" {\n  source = "git::https://git.example.com/tables.git"\n}\n'


def _report(*, module: bool = False, table_error: str | None = None, unresolved: bool = False) -> ScanReport:
    row = TableResult(
        target="prod",
        address="aws_dynamodb_table.orders",
        source=SourceLocation("main.tf", 1),
        table_name=TABLE,
        region=REGION,
        status=TableStatus.ERROR if table_error else TableStatus.IN_SYNC,
        error=table_error,
        unresolved=(Unresolved("tags", "var.tags has no value"),) if unresolved else (),
    )
    skipped = (
        (NotEvaluated("prod", "module.remote", SourceLocation("mods.tf", 1), "offline"),) if module else ()
    )
    return ScanReport(datetime.now(UTC), None, (row,), not_evaluated=skipped)


def _run(
    scans: list[ScanReport], configured: frozenset[str] | None = None
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(started, ended) texts per scan, the state carried from one to the next."""
    state: dict[str, Any] = {}
    out = []
    for report in scans:
        listing = Listing.of(report, configured)
        change = reconcile(not_watched(report), json.loads(json.dumps(state)), listing)  # as stored
        state = change.state
        out.append((tuple(i.text for i in change.started), tuple(i.text for i in change.ended)))
    return out


def test_announced_after_two_scans_once_and_when_watched_again() -> None:
    bad, good = _report(module=True), _report()
    steps = _run([bad, bad, bad, good, good])
    started = "prod: module.remote (mods.tf:1) not evaluated: offline"
    assert steps == [((), ()), ((started,), ()), ((), ()), ((), (started,)), ((), ())]


def test_one_flaky_scan_says_nothing_and_a_table_error_keys_on_the_table_not_the_message() -> None:
    flaky = _report(table_error="ThrottlingException")
    assert _run([flaky, _report(), flaky, _report()]) == [((), ())] * 4
    # The error text changes from scan to scan (throttled, then a timeout): still one item.
    steps = _run([flaky, _report(table_error="ReadTimeoutError")])
    assert steps[1] == ((f"prod: {TABLE} ({REGION}) not compared: ReadTimeoutError",), ())


def test_a_denial_whose_count_of_tables_moves_is_one_item() -> None:
    """One IAM denial is one target error "... (and N more tables)": a table added or dropped
    moves N, which is the same thing not watched, not a "watched again" and a new one."""

    def denied(more: int) -> ScanReport:
        message = (
            "ListTagsOfResource failed for table 'a' in us-east-1: AccessDeniedException "
            f"(and {more} more tables); their tags are unresolved, the rest of each table was compared"
        )
        return dataclasses.replace(_report(), errors=(TargetError("prod", message),))

    steps = _run([denied(3), denied(3), denied(4), denied(5), _report()])
    assert [len(started) for started, _ in steps] == [0, 1, 0, 0, 0]
    assert [len(ended) for _, ended in steps] == [0, 0, 0, 0, 1]


def test_a_denial_names_the_same_first_table_whichever_read_finished_first() -> None:
    """The grouped message starts with one table's error: by name, not by completion order,
    or the text (and the Slack item keyed on it) changed from scan to scan."""
    from driftwatch.aws.dynamodb import LiveReadError
    from driftwatch.scan import _refused_errors

    refused = [
        ("prod", LiveReadError("ListTagsOfResource", name, "us-east-1", "AccessDeniedException", "denied"))
        for name in ("c", "a", "b")
    ]
    forward, backward = _refused_errors(refused), _refused_errors(refused[::-1])
    assert [e.message for e in forward] == [e.message for e in backward]
    assert "table 'a'" in forward[0].message and "(and 2 more tables)" in forward[0].message


def test_a_table_not_listed_because_its_target_failed_is_not_watched_again() -> None:
    """A table announced as not watched (unreadable) whose target then stops evaluating (a
    file that no longer parses, a module directory gone) is absent from the next report: that
    is not "watched again". Slack used to say "watched again" for it at once, while the target
    error that hid it was only announced a scan later: for one scan interval the channel's last
    word on the table was that it was watched. It is watched again once it is compared."""
    unreadable = _report(table_error="AccessDeniedException")
    broken = dataclasses.replace(
        _report(), tables=(), errors=(TargetError("prod", "main.tf:3: unexpected end of file"),)
    )
    table = f"prod: {TABLE} ({REGION}) not compared: AccessDeniedException"
    target = "prod: main.tf:3: unexpected end of file"
    steps = _run([unreadable, unreadable, broken, broken, broken, _report()])
    assert steps == [((), ()), ((table,), ()), ((), ()), ((target,), ()), ((), ()), ((), (table, target))]
    # Compared while another part of its target fails: watched again.
    compared_beside_an_error = dataclasses.replace(_report(), errors=broken.errors)
    assert _run([unreadable, unreadable, compared_beside_an_error])[2] == ((), (table,))


def test_a_target_error_whose_cause_changes_is_not_watched_again_while_the_target_fails() -> None:
    """An announced target error whose text changes from one scan to the next (unmanaged tables
    could not be listed: a connect timeout, then an endpoint connection error) is still a target
    that is not fully watched. Slack said "watched again" for the first text at once, and
    "not watched" for the second a scan later: a false "watched again" at every change. The
    first stays announced while its target has any error; both end together, when none is
    left."""

    def failing(cause: str) -> ScanReport:
        error = TargetError(
            "prod", f"unmanaged tables could not be listed: ListTables failed in {REGION}: {cause}"
        )
        return dataclasses.replace(_report(), errors=(error,))

    first, second = failing("ConnectTimeoutError"), failing("EndpointConnectionError")
    steps = _run([first, first, second, second, second, _report()])
    said = [(len(started), len(ended)) for started, ended in steps]
    assert said == [(0, 0), (1, 0), (0, 0), (1, 0), (0, 0), (0, 2)]


def test_an_unreadable_table_removed_from_git_is_not_watched_again() -> None:
    """A table announced as not watched that then leaves git (its target lists every table it
    declares, and not this one) is not compared either: forgotten, not "watched again"."""
    unreadable = _report(table_error="AccessDeniedException")
    gone = dataclasses.replace(_report(), tables=())
    assert _run([unreadable, unreadable, gone])[2] == ((), ())
    # Unreadable before its region was known, then compared in its region: watched again.
    (row,) = unreadable.tables
    regionless = dataclasses.replace(unreadable, tables=(dataclasses.replace(row, region=None),))
    assert _run([regionless, regionless, _report()])[2] == (
        (),
        (f"prod: {TABLE} not compared: AccessDeniedException",),
    )


def test_a_target_removed_from_the_config_is_not_watched_again() -> None:
    """The items of a target no longer in the config are forgotten, not "watched again": the
    target is no longer watched at all (its drift episodes say so, see test_history)."""
    gone = ScanReport(datetime.now(UTC), None, ())
    state: dict[str, Any] = {}
    for report in (_report(module=True), _report(module=True)):
        state = reconcile(not_watched(report), state, Listing.of(report, frozenset({"prod"}))).state
    after = reconcile({}, state, Listing.of(gone, frozenset({"staging"})))
    assert after.ended == () and after.state == {}


def test_attributes_not_compared_are_not_messages() -> None:
    assert not_watched(_report(unresolved=True)) == {}


def test_the_message_names_each_item_and_escapes_values_from_git() -> None:
    message = build_coverage_message(
        ["prod: module.x not evaluated: <!channel> <https://evil|x>"], ["prod: t"]
    )
    assert message is not None
    text = json.dumps(message)
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "module.x not evaluated" in message["text"] and "watched again: prod: t" in message["text"]
    assert build_coverage_message([], []) is None
    item = NotWatched("k", "prod", "", "x")
    assert reconcile({"k": item}, {"k": {"scans": 1, "announced": False}}).started == (item,)


def test_the_daemon_announces_once_across_a_restart_and_says_when_watched_again(
    embedded_aws: None, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    environ = {"DRIFTWATCH_SLACK_WEBHOOK_URL": httpserver.url_for("/hook")}
    repo = write_repo(tmp_path / "repo", {"main.tf": table_tf(TABLE), "mods.tf": REMOTE})
    provision([target(repo)])
    config = parse_config(
        {
            "repo": str(repo),
            "targets": [{"name": "prod", "root": ".", "region": REGION}],
            "state": {"path": str(tmp_path / "state.db")},
            "http": {"host": "127.0.0.1", "port": free_port()},
        }
    )

    def life(scans: int) -> None:
        daemon = Daemon(config, tmp_path, environ=environ)
        daemon.endpoint.start()
        try:
            for _ in range(scans):
                daemon.scan_once()
        finally:
            daemon.endpoint.stop()
            daemon.history.close()

    life(2)  # announced after the second scan
    life(1)  # a restart: not again
    (repo / "mods.tf").unlink()
    life(1)  # watched again

    payloads = [json.loads(request.get_data()) for request, _ in httpserver.log]
    texts = [p["text"] for p in payloads]
    assert len(texts) == 2, texts
    assert "1 not watched" in texts[0] and "module.remote" in texts[0] and "offline" in texts[0]
    assert "1 watched again" in texts[1] and "module.remote" in texts[1]
