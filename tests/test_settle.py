"""Settling drift (driftwatch.settle): ignore rules, then pending, then drift -- without git.

The rule is checked exhaustively over small value domains: an item is pending exactly when the
live value is the previous declared value and the current declared value is not, inside the
grace of a change to the table's files; nothing else is ever pending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from driftwatch.baseline import Baseline
from driftwatch.diff import DiffResult, diff
from driftwatch.settle import (
    CLOCK_SKEW,
    NOT_DECLARED,
    RecentChange,
    base_index,
    commit_times,
    is_pending,
    settle,
)
from driftwatch.spec import DeclaredTable, Drift, IgnoreRule, SourceLocation, TableSpec, TableStatus, Unknown

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=30)
RECENT = RecentChange("main.tf", "c" * 40, NOW - timedelta(minutes=5))

values = st.sampled_from([1, 2, 3, None, "a", True])
previous_values = st.one_of(values, st.just(NOT_DECLARED), st.just(Unknown("x")))
attributes = st.sampled_from(["read_capacity", "point_in_time_recovery", "tags.Team", "table"])


@st.composite
def drift_items(draw: Any) -> Drift:
    attribute = draw(attributes)
    if attribute == "table":
        return Drift("table", "orders", None)
    declared = draw(values)
    live = draw(values.filter(lambda v: v != declared))
    return Drift(attribute, declared, live)


def expected_pending(item: Drift, previous: Any) -> bool:
    if isinstance(previous, Unknown):
        return False
    if previous is NOT_DECLARED:
        return item.attribute == "table"
    return bool(item.live == previous and item.declared != previous)


@given(st.lists(drift_items(), max_size=4, unique_by=lambda d: d.attribute), st.data())
def test_pending_is_exactly_live_equals_previous_and_declared_differs(drift: list[Drift], data: Any) -> None:
    previous = {d.attribute: data.draw(previous_values) for d in drift}
    settled = settle("orders", drift, previous=previous, rules=(), now=NOW, grace=GRACE, change=RECENT)
    assert {p.attribute for p in settled.pending} == {
        d.attribute for d in drift if expected_pending(d, previous[d.attribute])
    }
    assert {d.attribute for d in settled.drift} | {p.attribute for p in settled.pending} == {
        d.attribute for d in drift
    }
    for item in settled.pending:
        assert (item.file, item.commit, item.changed_at, item.until) == (
            "main.tf",
            RECENT.commit,
            RECENT.at,
            RECENT.at + GRACE,
        )
    if any(d.attribute == "table" for d in settled.drift):
        assert settled.status is TableStatus.MISSING
    elif settled.drift:
        assert settled.status is TableStatus.DRIFTED
    else:
        assert settled.status is (TableStatus.PENDING if settled.pending else TableStatus.IN_SYNC)


@given(st.lists(drift_items(), min_size=1, max_size=4, unique_by=lambda d: d.attribute), st.data())
def test_nothing_is_pending_without_a_previous_declaration_or_outside_the_grace(
    drift: list[Drift], data: Any
) -> None:
    previous = {d.attribute: data.draw(previous_values) for d in drift}
    old = RecentChange("main.tf", "c" * 40, NOW - GRACE)
    cases: list[dict[str, Any]] = [
        {"previous": None, "change": RECENT, "grace": GRACE},  # history not available
        {"previous": previous, "change": None, "grace": GRACE},  # no commit touched the table's files
        {"previous": previous, "change": old, "grace": GRACE},  # the grace is over
        {"previous": previous, "change": RECENT, "grace": timedelta(0)},  # pending applies off
        {"previous": previous, "change": RECENT, "grace": GRACE, "created_at": RECENT.at},  # applied since
    ]
    for case in cases:
        settled = settle("orders", drift, rules=(), now=NOW, **case)
        assert settled.pending == () and settled.drift == tuple(drift), case


def test_ignore_rules_come_first() -> None:
    drift = [Drift("tags.Team", "storage", "obs"), Drift("point_in_time_recovery", True, False)]
    rule = IgnoreRule("orders", "tags.*", "set by hand")
    settled = settle(
        "orders",
        drift,
        previous={"tags.Team": "obs", "point_in_time_recovery": False},
        rules=(rule,),
        now=NOW,
        grace=GRACE,
        change=RECENT,
    )
    assert [i.attribute for i in settled.ignored] == ["tags.Team"]
    assert [p.attribute for p in settled.pending] == ["point_in_time_recovery"]
    assert settled.drift == () and settled.status is TableStatus.PENDING


def test_a_change_to_one_attribute_leaves_another_drifting() -> None:
    drift = [Drift("read_capacity", 10, 5), Drift("point_in_time_recovery", True, False)]
    settled = settle(
        "orders",
        drift,
        previous={"read_capacity": 5, "point_in_time_recovery": True},
        rules=(),
        now=NOW,
        grace=GRACE,
        change=RECENT,
    )
    assert [p.attribute for p in settled.pending] == ["read_capacity"]
    assert settled.drift == (Drift("point_in_time_recovery", True, False),)
    assert settled.status is TableStatus.DRIFTED


def test_a_missing_table_is_pending_only_when_it_was_not_declared_before() -> None:
    missing = Drift("table", "orders", None)
    assert is_pending(missing, NOT_DECLARED)
    assert not is_pending(missing, "orders")  # declared before, gone now: missing
    assert not is_pending(missing, Unknown("the previous revision has errors"))
    assert not is_pending(Drift("point_in_time_recovery", True, False), NOT_DECLARED)


# --------------------------------------------------------------------------- commit times

chain_dates = st.lists(
    st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m)),
    min_size=1,
    max_size=8,
)


@given(chain_dates)
def test_one_shot_time_is_the_earlier_of_committer_date_and_now_and_the_future_gives_no_grace(
    dates: list[datetime],
) -> None:
    chain = [(f"{i:040x}", when) for i, when in enumerate(dates)]
    found = commit_times(chain, NOW, None)
    for (sha, when), time in zip(chain, found.times, strict=True):
        if when > NOW + CLOCK_SKEW:
            assert time is None and sha in found.future
        else:
            assert time == min(when, NOW) and sha not in found.future
    assert found.new == {}


@given(chain_dates, st.data())
def test_the_daemon_grace_runs_from_the_first_sighting_and_never_past_it(
    dates: list[datetime], data: Any
) -> None:
    chain = [(f"{i:040x}", when) for i, when in enumerate(dates)]
    recorded = data.draw(st.sets(st.integers(0, len(chain) - 1)))
    seen = {chain[i][0]: NOW - timedelta(hours=i) for i in recorded}
    found = commit_times(chain, NOW, seen)
    newest_known = min(recorded, default=None)
    for index, ((sha, when), time) in enumerate(zip(chain, found.times, strict=True)):
        assert time is not None and time <= NOW  # a first sighting is never in the future
        if sha in seen:
            assert time == seen[sha] and sha not in found.new
        elif newest_known is not None and index < newest_known:
            assert time == NOW and found.new[sha] == NOW  # arrived since the last scan
        elif when > NOW + CLOCK_SKEW:
            assert time == NOW  # first seen now, whatever its date claims
        else:
            assert time == min(when, NOW) == found.new[sha]  # before the daemon's watch


def test_base_is_the_newest_commit_older_than_the_grace() -> None:
    times = [NOW - timedelta(minutes=1), NOW - timedelta(minutes=40), NOW - timedelta(minutes=10)]
    assert base_index(times, NOW, GRACE) == 1
    assert base_index(times[:1], NOW, GRACE) is None  # the whole chain is inside the grace
    assert base_index([None, *times], NOW, GRACE) == 0  # a commit that gives no grace is old
    assert base_index(times, NOW, timedelta(0)) == 0


# --------------------------------------------------------------------------- previous values from specs

capacities = st.sampled_from([5, 10, 20])
flags = st.booleans()
teams = st.sampled_from(["obs", "storage"])


def spec(capacity: int, pitr: bool, team: str) -> TableSpec:
    return TableSpec(
        name="orders",
        region="us-east-1",
        hash_key="id",
        read_capacity=capacity,
        write_capacity=5,
        point_in_time_recovery=pitr,
        tags={"Team": team},
    )


@given(
    st.tuples(capacities, flags, teams),
    st.tuples(capacities, flags, teams),
    st.tuples(capacities, flags, teams),
)
def test_pending_from_specs_is_applied_value_and_changed_declaration(
    current: tuple[int, bool, str], previous: tuple[int, bool, str], live: tuple[int, bool, str]
) -> None:
    """The whole decision from three TableSpecs: an attribute is pending exactly when the live
    table agrees with the previous declaration there and the current declaration does not."""
    live_spec = spec(*live)

    def compare(declared: TableSpec) -> DiffResult:
        return diff(declared, live_spec)

    drift = compare(spec(*current)).drift
    base = Baseline(
        "b" * 40, {("us-east-1", "orders"): DeclaredTable("a", SourceLocation("main.tf", 1), spec(*previous))}
    )
    values = base.previous_values("us-east-1", "orders", drift, compare)
    settled = settle("orders", drift, previous=values, rules=(), now=NOW, grace=GRACE, change=RECENT)
    before = {d.attribute for d in compare(spec(*previous)).drift}
    assert {p.attribute for p in settled.pending} == {d.attribute for d in drift} - before
    assert {d.attribute for d in settled.drift} == {d.attribute for d in drift} & before


def test_previous_values_of_a_table_the_previous_revision_lacked() -> None:
    drift = (Drift("table", "orders", None),)
    assert Baseline("b" * 40).previous_values("us-east-1", "orders", drift, None) == {"table": NOT_DECLARED}
    incomplete = Baseline("b" * 40, complete=False).previous_values("us-east-1", "orders", drift, None)
    assert isinstance(incomplete["table"], Unknown)
    declared = DeclaredTable("a", SourceLocation("main.tf", 1), spec(5, True, "obs"))
    before = Baseline("b" * 40, {("us-east-1", "orders"): declared})
    assert before.previous_values("us-east-1", "orders", drift, None) == {"table": "orders"}
    # A modified work tree: an item whose declared value is not HEAD's is never pending.
    dirty = Baseline("b" * 40, head={})
    assert isinstance(dirty.previous_values("us-east-1", "orders", drift, None)["table"], Unknown)
