"""The episode ledger, without SQLite: every prior state of an episode against every kind of row.

``reconcile`` is pure, so the whole decision space is enumerated: for one attribute episode
(none, open with the values the scan sees, open with other values) and for an unmanaged-table
episode, each against every way the next report can speak of its table (in sync, drifted,
missing, pending, ignored, unreadable by name or by address, absent, absent behind a target
error, absent behind another target's error). Each combination has exactly one expected
outcome, written in the table below; a hypothesis test adds the invariants over random reports.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwatch.history.ledger import (
    Closed,
    Episode,
    ResolveReason,
    TransitionKind,
    reconcile,
)
from driftwatch.spec import (
    Drift,
    IgnoredDrift,
    PendingDrift,
    ScanReport,
    SourceLocation,
    TableResult,
    TableStatus,
    TargetError,
    Unresolved,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = T0 + timedelta(minutes=5)
PITR = "point_in_time_recovery"
SRC = SourceLocation("main.tf", 3)


def episode(
    attribute: str = PITR, declared: Any = True, live: Any = False, *, id_: int = 1, **kw: Any
) -> Episode:
    values: dict[str, Any] = {
        "id": id_,
        "target": "prod",
        "table": "orders",
        "attribute": attribute,
        "region": "us-east-1",
        "address": "module.orders",
        "source": SRC,
        "declared": declared,
        "live": live,
        "first_seen": T0,
        "last_seen": T0,
        "resolved_at": None,
        "resolved_reason": None,
        "first_commit": "c0",
        "last_commit": "c0",
        "last_notified_at": T0,
    }
    values.update(kw)
    return Episode(**values)


def row(status: TableStatus, *, name: str | None = "orders", target: str = "prod", **kw: Any) -> TableResult:
    return TableResult(
        target=target,
        address=kw.pop("address", "module.orders"),
        source=SRC,
        table_name=name,
        region="us-east-1",
        status=status,
        **kw,
    )


def pending(attribute: str, declared: Any, live: Any) -> PendingDrift:
    """A pending item; the ledger reads only its attribute, so the other fields are left empty
    (whatever they are named: the pending rules have their own module and tests)."""
    given_ = {"attribute": attribute, "declared": declared, "live": live}
    rest = {f.name: None for f in dataclasses.fields(PendingDrift) if f.name not in given_}
    return PendingDrift(**given_, **rest)


def report(*rows: TableResult, errors: tuple[TargetError, ...] = ()) -> ScanReport:
    return ScanReport(generated_at=AT, commit="c1", tables=rows, errors=errors)


# How the next report speaks of table "orders" (target "prod").
SCENARIOS: dict[str, ScanReport] = {
    "in_sync": report(row(TableStatus.IN_SYNC)),
    "drift_same": report(row(TableStatus.DRIFTED, drift=(Drift(PITR, True, False),))),
    "drift_other": report(row(TableStatus.DRIFTED, drift=(Drift(PITR, True, None),))),
    "other_attribute": report(row(TableStatus.DRIFTED, drift=(Drift("billing_mode", "A", "B"),))),
    "missing": report(row(TableStatus.MISSING, drift=(Drift("table", "orders", None),))),
    "pending_attribute": report(row(TableStatus.PENDING, pending=(pending(PITR, True, False),))),
    "pending_creation": report(row(TableStatus.PENDING, pending=(pending("table", "orders", None),))),
    "ignored": report(row(TableStatus.IN_SYNC, ignored=(IgnoredDrift(PITR, True, False, "accepted"),))),
    # Read, but this attribute could not be compared (its autoscaling listing was refused, the
    # table is UPDATING, its tags could not be read): no news about its drift.
    "unresolved": report(row(TableStatus.IN_SYNC, unresolved=(Unresolved(PITR, "live value unknown"),))),
    "unresolved_parent": report(row(TableStatus.IN_SYNC, unresolved=(Unresolved("point_in", "unknown"),))),
    "error_by_name": report(row(TableStatus.ERROR, error="AccessDenied")),
    "error_by_address": report(row(TableStatus.ERROR, name=None, error="name unknown")),
    "absent": report(),
    "absent_target_error": report(errors=(TargetError("prod", "unexpected token"),)),
    "absent_other_target_error": report(errors=(TargetError("stage", "unexpected token"),)),
    "unmanaged_alerting": report(
        row(
            TableStatus.UNMANAGED, address=None, alert_unmanaged=True, drift=(Drift("table", None, "orders"),)
        )
    ),
}

# prior state -> the open episodes before the scan
PRIORS: dict[str, tuple[Episode, ...]] = {
    "none": (),
    "open_same": (episode(),),
    "open_other": (episode(live=None),),  # the values of "drift_other"
    "unmanaged": (episode("table", None, "orders", address=None, source=None),),
}


@dataclass(frozen=True)
class Expect:
    """What the scan does to attribute PITR's episode (and which transitions it gives)."""

    transitions: tuple[tuple[str, str], ...] = ()  # (kind, attribute)
    opened: int = 0
    seen_changed: tuple[bool, ...] = ()
    closed: tuple[ResolveReason, ...] = ()


def _expected(prior: str, scenario: str) -> Expect:
    new_pitr = Expect((("new", PITR),), opened=1)
    if prior == "none":
        return {
            "drift_same": new_pitr,
            "drift_other": new_pitr,
            "other_attribute": Expect((("new", "billing_mode"),), opened=1),
            "missing": Expect((("missing", "table"),), opened=1),
            "unmanaged_alerting": Expect((("unmanaged", "table"),), opened=1),
        }.get(scenario, Expect())
    if prior == "unmanaged":
        resolved = Expect((("resolved", "table"),), closed=(ResolveReason.NO_LONGER_UNMANAGED,))
        return {
            "drift_same": Expect(
                (("new", PITR), ("resolved", "table")), 1, (), (ResolveReason.NO_LONGER_UNMANAGED,)
            ),
            "drift_other": Expect(
                (("new", PITR), ("resolved", "table")), 1, (), (ResolveReason.NO_LONGER_UNMANAGED,)
            ),
            "other_attribute": Expect(
                (("new", "billing_mode"), ("resolved", "table")), 1, (), (ResolveReason.NO_LONGER_UNMANAGED,)
            ),
            # Declared now and missing: the unmanaged episode ("table", declared None) and the
            # missing one share the key; the drift is seen again with other values.
            "missing": Expect((("changed", "table"),), seen_changed=(True,)),
            "unmanaged_alerting": Expect(seen_changed=(False,)),
            "pending_creation": Expect(),  # the pending "table" item keeps the key open, no news
            "error_by_name": Expect(),
            "absent_target_error": Expect(),
        }.get(scenario, resolved)
    same = prior == "open_same"
    return {
        "in_sync": Expect((("resolved", PITR),), closed=(ResolveReason.FIXED,)),
        "drift_same": Expect(seen_changed=(False,))
        if same
        else Expect((("changed", PITR),), seen_changed=(True,)),
        "drift_other": Expect((("changed", PITR),), seen_changed=(True,))
        if same
        else Expect(seen_changed=(False,)),
        "other_attribute": Expect(
            (("new", "billing_mode"), ("resolved", PITR)), opened=1, closed=(ResolveReason.FIXED,)
        ),
        "missing": Expect(
            (("missing", "table"), ("superseded", PITR)), opened=1, closed=(ResolveReason.SUPERSEDED,)
        ),
        "pending_attribute": Expect(),
        "unresolved": Expect(),
        # "point_in" is not an ancestor of "point_in_time_recovery" (attributes nest at dots)
        "unresolved_parent": Expect((("resolved", PITR),), closed=(ResolveReason.FIXED,)),
        "pending_creation": Expect((("superseded", PITR),), closed=(ResolveReason.SUPERSEDED,)),
        "ignored": Expect((("resolved", PITR),), closed=(ResolveReason.IGNORED,)),
        "error_by_name": Expect(),
        "error_by_address": Expect(),
        "absent": Expect((("resolved", PITR),), closed=(ResolveReason.NO_LONGER_DECLARED,)),
        "absent_target_error": Expect(),
        "absent_other_target_error": Expect(
            (("resolved", PITR),), closed=(ResolveReason.NO_LONGER_DECLARED,)
        ),
        "unmanaged_alerting": Expect(
            (("unmanaged", "table"), ("resolved", PITR)), opened=1, closed=(ResolveReason.NO_LONGER_DECLARED,)
        ),
    }[scenario]


@pytest.mark.parametrize(("prior", "scenario"), list(itertools.product(PRIORS, SCENARIOS)))
def test_every_prior_state_against_every_kind_of_row(prior: str, scenario: str) -> None:
    episodes = PRIORS[prior]
    answer = reconcile(episodes, SCENARIOS[scenario], AT)
    expect = _expected(prior, scenario)
    assert sorted((t.kind.value, t.attribute) for t in answer.transitions) == sorted(expect.transitions)
    assert len(answer.opened) == expect.opened
    assert tuple(s.changed for s in answer.seen) == expect.seen_changed
    assert tuple(c.reason for c in answer.closed) == expect.closed
    # Every transition is dated by the scan, and names the table.
    assert all(t.at == AT and t.table == "orders" and t.target == "prod" for t in answer.transitions)
    assert answer.transitions.commit == "c1"


def test_an_unresolved_collection_keeps_the_episodes_below_it_open() -> None:
    """Tags that could not be read are one unresolved ``tags``; the open ``tags.Team`` drift is
    not fixed by that, and a sibling attribute that was compared and no longer drifts is."""
    episodes = (episode("tags.Team", "obs", "x", id_=1), episode(PITR, id_=2))
    unread = report(row(TableStatus.IN_SYNC, unresolved=(Unresolved("tags", "live value unknown: denied"),)))
    answer = reconcile(episodes, unread, AT)
    assert [(c.episode_id, c.reason) for c in answer.closed] == [(2, ResolveReason.FIXED)]
    assert [(t.kind.value, t.attribute) for t in answer.transitions] == [("resolved", PITR)]


def test_a_change_keeps_first_seen_and_carries_the_previous_values() -> None:
    answer = reconcile((episode(),), SCENARIOS["drift_other"], AT)
    (item,) = answer.transitions
    assert item.kind is TransitionKind.CHANGED
    assert (item.first_seen, item.previous_declared, item.previous_live, item.live) == (T0, True, False, None)


def test_superseded_carries_the_last_values_and_the_reason() -> None:
    answer = reconcile((episode(),), SCENARIOS["missing"], AT)
    (item,) = answer.transitions.of(TransitionKind.SUPERSEDED)
    assert (item.declared, item.live, item.reason, item.first_seen) == (True, False, "superseded", T0)
    assert answer.transitions.of(TransitionKind.RESOLVED) == ()  # never listed as resolved


def test_values_are_compared_as_canonical_json() -> None:
    tags = episode("replicas", ["eu-west-1", "us-west-2"], [])
    same = report(row(TableStatus.DRIFTED, drift=(Drift("replicas", ("eu-west-1", "us-west-2"), ()),)))
    answer = reconcile((tags,), same, AT)
    assert not answer.transitions and [s.changed for s in answer.seen] == [False]


def test_the_first_of_two_rows_with_one_key_counts() -> None:
    twice = report(
        row(TableStatus.DRIFTED, drift=(Drift(PITR, True, False),)),
        row(TableStatus.DRIFTED, drift=(Drift(PITR, True, None),), address="module.orders_eu"),
    )
    answer = reconcile((), twice, AT)
    assert len(answer.opened) == 1 and answer.opened[0].sighting.live is False


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_same_name_in_another_region_is_another_table(scenario: str) -> None:
    """Whatever the report says of "orders" in eu-west-1, the us-east-1 episode of that name
    follows its own table only: seen while it drifts, fixed once it is in sync; and eu's news
    is what it would be without the us table."""
    there = SCENARIOS[scenario]
    eu_rows = tuple(
        dataclasses.replace(r, region="eu-west-1", address=r.address and "module.orders_eu")
        for r in there.tables
    )
    eu_only = reconcile((), dataclasses.replace(there, tables=eu_rows), AT)

    def news(answer: Any) -> list[tuple[str, str | None, str]]:
        return sorted((t.kind.value, t.region, t.attribute) for t in answer.transitions)

    drifting = dataclasses.replace(
        there, tables=(row(TableStatus.DRIFTED, drift=(Drift(PITR, True, False),)), *eu_rows)
    )
    answer = reconcile((episode(),), drifting, AT)
    assert (answer.closed, [(s.episode_id, s.changed) for s in answer.seen]) == ((), [(1, False)])
    assert news(answer) == news(eu_only)
    in_sync = dataclasses.replace(there, tables=(row(TableStatus.IN_SYNC), *eu_rows))
    answer = reconcile((episode(),), in_sync, AT)
    assert answer.closed == (Closed(1, ResolveReason.FIXED),) and answer.seen == ()
    assert news(answer) == sorted([*news(eu_only), ("resolved", "us-east-1", PITR)])


def test_a_row_whose_region_is_unknown_keeps_every_regions_episodes_and_fixes_none() -> None:
    us, eu = episode(id_=1), episode(id_=2, region="eu-west-1")
    unread = dataclasses.replace(row(TableStatus.ERROR, error="region unknown"), region=None)
    assert reconcile((us, eu), report(unread), AT).closed == ()
    # Not a row the scan makes (a table is not read without its region), but the rule holds:
    # "in sync" somewhere unknown is no fix of either region's table.
    nowhere = dataclasses.replace(row(TableStatus.IN_SYNC), region=None)
    assert [c.reason for c in reconcile((us, eu), report(nowhere), AT).closed] == [
        ResolveReason.NO_LONGER_DECLARED,
        ResolveReason.NO_LONGER_DECLARED,
    ]


def test_resolved_episodes_given_by_mistake_are_ignored() -> None:
    old = episode(resolved_at=T0, resolved_reason="fixed")
    assert reconcile((old,), SCENARIOS["in_sync"], AT).closed == ()


@pytest.mark.parametrize("scenario", ["absent", "absent_other_target_error", "error_by_name", "in_sync"])
def test_a_target_no_longer_configured_closes_its_episodes_as_such(scenario: str) -> None:
    """Whatever the report says (it cannot speak of a target it did not scan), the open
    episodes of a target no longer in the config close as "target no longer configured",
    never "fixed", "no longer declared" or, for an unmanaged table, "no longer unmanaged";
    those of a configured target are left to the other rules."""
    given = SCENARIOS[scenario]
    unmanaged = episode("table", None, "orders", id_=2)
    answer = reconcile((episode(), unmanaged), given, AT, configured={"staging"})
    assert answer.closed == (
        Closed(1, ResolveReason.NO_LONGER_CONFIGURED),
        Closed(2, ResolveReason.NO_LONGER_CONFIGURED),
    )
    assert {t.reason for t in answer.transitions} == {"target no longer configured"}
    kept = reconcile((episode(),), SCENARIOS["drift_same"], AT, configured={"prod"})
    assert kept.closed == () and not kept.transitions


def test_the_log_counts_drift_no_longer_watched_apart_from_fixes() -> None:
    """The drift_transitions log line counted a target leaving the config as two 'resolved'."""
    answer = reconcile((episode(), episode("table_class", id_=3)), SCENARIOS["in_sync"], AT, configured={"x"})
    counts = answer.transitions.counts()
    assert counts["no_longer_watched"] == 2 and counts["resolved"] == 0
    fixed = reconcile((episode(),), SCENARIOS["in_sync"], AT).transitions.counts()
    assert fixed["resolved"] == 1 and fixed["no_longer_watched"] == 0


def test_an_unmanaged_table_whose_alert_is_turned_off_is_not_no_longer_unmanaged() -> None:
    """An open unmanaged-table episode whose target's ``unmanaged.alert`` was turned off: the
    table is still in AWS and still not declared (the report lists it, without alerting). It
    closed as "no longer unmanaged", listed as resolved; now "unmanaged, no longer alerted"."""
    quiet = report(row(TableStatus.UNMANAGED, address=None, drift=(Drift("table", None, "orders"),)))
    answer = reconcile((episode("table", None, "orders"),), quiet, AT)
    assert answer.closed == (Closed(1, ResolveReason.NOT_ALERTED),)
    (item,) = answer.transitions
    assert item.reason == "unmanaged, no longer alerted (unmanaged.alert is off)"


def test_unmanaged_rows_that_do_not_alert_open_nothing() -> None:
    quiet = report(row(TableStatus.UNMANAGED, address=None, drift=(Drift("table", None, "orders"),)))
    assert not reconcile((), quiet, AT).transitions


# --- invariants over random reports -------------------------------------------------------------

_TABLES = ("a", "b", "c")
_ATTRS = (PITR, "billing_mode", "table")
_ROW = st.builds(
    lambda table, status, attrs, live: row(
        status,
        name=table,
        address=f"module.{table}",
        drift=tuple(Drift(a, True, live) for a in attrs)
        if status in (TableStatus.DRIFTED, TableStatus.MISSING)
        else (),
    ),
    st.sampled_from(_TABLES),
    st.sampled_from([TableStatus.IN_SYNC, TableStatus.DRIFTED, TableStatus.MISSING, TableStatus.ERROR]),
    st.lists(st.sampled_from(_ATTRS), unique=True, max_size=3),
    st.sampled_from([False, None, 5]),
)
_EPISODES = st.lists(
    st.tuples(st.sampled_from(_TABLES), st.sampled_from(_ATTRS), st.sampled_from([False, None])),
    unique_by=lambda t: (t[0], t[1]),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(_EPISODES, st.lists(_ROW, max_size=5), st.booleans())
def test_invariants(
    open_keys: list[tuple[str, str, Any]], rows: list[TableResult], target_error: bool
) -> None:
    episodes = [
        episode(attr, True, live, id_=i, table=table, address=f"module.{table}")
        for i, (table, attr, live) in enumerate(open_keys, start=1)
    ]
    errors = (TargetError("prod", "bad"),) if target_error else ()
    scan = report(*rows, errors=errors)
    answer = reconcile(episodes, scan, AT)
    assert answer == reconcile(episodes, scan, AT)  # pure: same input, same answer
    seen_ids = [s.episode_id for s in answer.seen]
    closed_ids = [c.episode_id for c in answer.closed]
    assert len(set(seen_ids)) == len(seen_ids) and not set(seen_ids) & set(closed_ids)
    opened_keys = [o.sighting.key for o in answer.opened]
    assert not set(opened_keys) & {e.key for e in episodes}  # never a second open episode per key
    changed = sum(s.changed for s in answer.seen)
    assert len(answer.transitions) == len(answer.opened) + changed + len(answer.closed)
    errored = {r.table_name for r in rows if r.status is TableStatus.ERROR}
    by_id = {e.id: e for e in episodes}
    for closing in answer.closed:
        assert isinstance(closing, Closed)
        assert by_id[closing.episode_id].table not in errored  # an unreadable table is never "fixed"
        if closing.reason is ResolveReason.NO_LONGER_DECLARED:
            assert not target_error  # a target error never resolves what it hides
