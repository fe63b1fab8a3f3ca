"""Unit tests of ``driftwatch.diff``: pure, no AWS.

The heart is one case per row of the drift ground truth (see tests/test_e2e_ground_truth.py): the
live table is changed
exactly as the row says and diff must report exactly the attributes ``terraform plan`` did
(with the documented deviation of row 11), nothing more and nothing less.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftwatch.diff import DiffResult, diff
from driftwatch.spec import (
    Autoscaling,
    BillingMode,
    Drift,
    Gsi,
    Lsi,
    ScalingTarget,
    Sse,
    Stream,
    TableSpec,
    TagFilter,
    Ttl,
    Unknown,
)

MANAGED_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-aws-managed-dynamodb"
CMK = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
GSI = "tenant-index"
SETTINGS = ("scale_in_cooldown", "scale_out_cooldown", "disable_scale_in")  # of a tracking policy
AUTOSCALING = Autoscaling(read=ScalingTarget(5, 20, 50.0), write=ScalingTarget(5, 20, 50.0))
TAGS = {
    "Name": "acme-prod-orders",
    "Namespace": "acme",
    "Stage": "prod",
    "Team": "orders",
    "Owner": "alice",
}

DECLARED = TableSpec(
    name="acme-prod-orders",
    region="us-east-1",
    hash_key="h",
    hash_key_type="S",
    range_key="r",
    range_key_type="S",
    billing_mode="PROVISIONED",
    read_capacity=5,
    write_capacity=5,
    table_class="STANDARD_INFREQUENT_ACCESS",
    ttl=Ttl(enabled=True, attribute="expires_at"),
    point_in_time_recovery=True,
    sse=Sse(enabled=True, kms_key_arn=None),
    stream=Stream(enabled=True, view_type="NEW_AND_OLD_IMAGES"),
    deletion_protection=False,
    gsis=(
        Gsi(
            name=GSI,
            hash_key="tenant_id",
            range_key="timestamp",
            projection_type="KEYS_ONLY",
            non_key_attributes=frozenset(),
            read_capacity=5,
            write_capacity=5,
            autoscaling=AUTOSCALING,
        ),
    ),
    tags=TAGS,
    autoscaling=AUTOSCALING,
    unmanaged=frozenset({"read_capacity", "write_capacity"}),
)

LIVE = replace(
    DECLARED,
    sse=Sse(enabled=True, kms_key_arn=MANAGED_KEY),
    unmanaged=frozenset(),
    status="ACTIVE",
)


def attrs(result: DiffResult) -> set[str]:
    return {d.attribute for d in result.drift}


def unresolved(result: DiffResult) -> set[str]:
    return {u.attribute for u in result.unresolved}


def with_gsi(spec: TableSpec, **changes: Any) -> TableSpec:
    """``spec`` with its one GSI (tenant-index) changed."""
    assert not isinstance(spec.gsis, Unknown)
    return replace(spec, gsis=tuple(replace(g, **changes) if g.name == GSI else g for g in spec.gsis))


def with_tags(
    spec: TableSpec, extra: Mapping[str, Any] | None = None, *, drop: tuple[str, ...] = ()
) -> TableSpec:
    assert not isinstance(spec.tags, Unknown)
    tags = {k: v for k, v in spec.tags.items() if k not in drop}
    return replace(spec, tags={**tags, **(extra or {})})


def test_baseline_is_in_sync() -> None:
    assert diff(DECLARED, LIVE) == DiffResult(drift=(), unresolved=())


# --------------------------------------------------------------------------- ground truth


@dataclass(frozen=True)
class Row:
    id: str
    live: Callable[[TableSpec], TableSpec]
    expected: frozenset[str]
    declared: Callable[[TableSpec], TableSpec] = lambda s: s


def _same(spec: TableSpec) -> TableSpec:
    return spec


PPR = BillingMode.PAY_PER_REQUEST.value

ROWS = [
    Row(
        "1-pitr-off",
        lambda s: replace(s, point_in_time_recovery=False),
        frozenset({"point_in_time_recovery"}),
    ),
    # The recovery period is not part of TableSpec: the live spec does not change.
    Row("1b-pitr-period", _same, frozenset()),
    Row(
        "2-ttl-off", lambda s: replace(s, ttl=Ttl(enabled=False, attribute=None)), frozenset({"ttl.enabled"})
    ),
    Row(
        "2-ttl-off-attribute-kept",
        lambda s: replace(s, ttl=Ttl(enabled=False, attribute="expires_at")),
        frozenset({"ttl.enabled"}),
    ),
    Row(
        "2b-ttl-on-module-0.35.0",
        _same,
        frozenset(),
        declared=lambda s: replace(
            s, ttl=Ttl(enabled=False, attribute="expires_at"), unmanaged=s.unmanaged | {"ttl.*"}
        ),
    ),
    Row(
        "2b-ttl-on-module-0.35.1+",
        _same,
        frozenset({"ttl.enabled"}),
        declared=lambda s: replace(s, ttl=Ttl(enabled=False, attribute="expires_at")),
    ),
    Row("3-ttl-attribute", lambda s: replace(s, ttl=Ttl(True, "ttl")), frozenset({"ttl.attribute"})),
    Row("4-table-class", lambda s: replace(s, table_class="STANDARD"), frozenset({"table_class"})),
    Row(
        "5-deletion-protection",
        lambda s: replace(s, deletion_protection=True),
        frozenset({"deletion_protection"}),
    ),
    Row("6-stream-off", lambda s: replace(s, stream=Stream(False, None)), frozenset({"stream.enabled"})),
    Row(
        "6b-stream-on-undeclared",
        _same,
        frozenset({"stream.enabled"}),
        declared=lambda s: replace(s, stream=Stream(False, None)),
    ),
    Row(
        "7-stream-keys-only",
        lambda s: replace(s, stream=Stream(True, "KEYS_ONLY")),
        frozenset({"stream.view_type"}),
    ),
    # A new stream ARN is not part of TableSpec.
    Row("8-stream-reenabled", _same, frozenset()),
    Row(
        "9-pay-per-request",
        lambda s: with_gsi(replace(s, billing_mode=PPR, read_capacity=0, write_capacity=0), read_capacity=0),
        frozenset({"billing_mode"}),
    ),
    Row(
        "9-pay-per-request-targets-gone",
        lambda s: with_gsi(
            replace(s, billing_mode=PPR, autoscaling=Autoscaling()),
            read_capacity=0,
            write_capacity=0,
            autoscaling=Autoscaling(),
        ),
        frozenset({"billing_mode"}),
    ),
    Row("10-table-capacity", lambda s: replace(s, read_capacity=12, write_capacity=9), frozenset()),
    Row(
        "10-table-capacity-beyond-max", lambda s: replace(s, read_capacity=50, write_capacity=40), frozenset()
    ),
    Row("11-gsi-capacity-in-range", lambda s: with_gsi(s, read_capacity=12, write_capacity=9), frozenset()),
    Row(
        "11b-gsi-capacity-beyond-max",
        lambda s: with_gsi(s, read_capacity=50, write_capacity=40),
        frozenset({f"gsi.{GSI}.read_capacity", f"gsi.{GSI}.write_capacity"}),
    ),
    Row(
        "12-gsi-projection-all",
        lambda s: with_gsi(s, projection_type="ALL"),
        frozenset({f"gsi.{GSI}.projection_type"}),
    ),
    Row("13-gsi-deleted", lambda s: replace(s, gsis=()), frozenset({f"gsi.{GSI}"})),
    Row(
        "14-gsi-extra",
        lambda s: replace(s, gsis=(*s.gsis, Gsi("extra-index", "x", read_capacity=1, write_capacity=1))),  # type: ignore[misc]
        frozenset({"gsi.extra-index"}),
    ),
    Row("15-sse-aws-owned", lambda s: replace(s, sse=Sse(False, None)), frozenset({"sse.enabled"})),
    Row("16-sse-cmk", lambda s: replace(s, sse=Sse(True, CMK)), frozenset()),
    Row("17-tag-added", lambda s: with_tags(s, {"Extra": "manual"}), frozenset({"tags.Extra"})),
    Row("18-tag-removed", lambda s: with_tags(s, drop=("Team",)), frozenset({"tags.Team"})),
    Row("19-tag-changed", lambda s: with_tags(s, {"Team": "other"}), frozenset({"tags.Team"})),
    Row("20-name-tag-changed", lambda s: with_tags(s, {"Name": "renamed"}), frozenset({"tags.Name"})),
    Row(
        "21-table-read-target",
        lambda s: replace(s, autoscaling=replace(AUTOSCALING, read=ScalingTarget(1, 100, 50.0))),
        frozenset({"autoscaling.read.min", "autoscaling.read.max"}),
    ),
    Row(
        "22-gsi-write-target",
        lambda s: with_gsi(s, autoscaling=replace(AUTOSCALING, write=ScalingTarget(2, 40, 50.0))),
        frozenset({f"gsi.{GSI}.autoscaling.write.min", f"gsi.{GSI}.autoscaling.write.max"}),
    ),
    Row(
        "23-table-read-policy",
        lambda s: replace(s, autoscaling=replace(AUTOSCALING, read=ScalingTarget(5, 20, 70.0))),
        frozenset({"autoscaling.read.target"}),
    ),
    Row(
        "24-table-write-policy-deleted",
        lambda s: replace(s, autoscaling=replace(AUTOSCALING, write=ScalingTarget(5, 20, None))),
        frozenset({"autoscaling.write.target"}),
    ),
    Row(
        "25-table-read-target-deregistered",
        lambda s: replace(s, autoscaling=replace(AUTOSCALING, read=None)),
        frozenset({"autoscaling.read.min", "autoscaling.read.max", "autoscaling.read.target"}),
    ),
    Row(
        "26-table-read-scale-in-cooldown",
        lambda s: replace(
            s, autoscaling=replace(AUTOSCALING, read=ScalingTarget(5, 20, 50.0, scale_in_cooldown=120))
        ),
        frozenset({"autoscaling.read.scale_in_cooldown"}),
    ),
    Row(
        "27-gsi-write-scale-in-disabled",
        lambda s: with_gsi(
            s, autoscaling=replace(AUTOSCALING, write=ScalingTarget(5, 20, 50.0, disable_scale_in=True))
        ),
        frozenset({f"gsi.{GSI}.autoscaling.write.disable_scale_in"}),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_ground_truth_row(row: Row) -> None:
    result = diff(row.declared(DECLARED), row.live(LIVE))
    assert attrs(result) == row.expected
    assert result.unresolved == ()


def drift_of(result: DiffResult, attribute: str) -> Drift:
    return next(d for d in result.drift if d.attribute == attribute)


@pytest.mark.parametrize(
    ("row_id", "attribute", "declared", "live"),
    [
        ("1-pitr-off", "point_in_time_recovery", True, False),
        ("9-pay-per-request", "billing_mode", "PROVISIONED", "PAY_PER_REQUEST"),
        ("11b-gsi-capacity-beyond-max", f"gsi.{GSI}.read_capacity", 5, 50),
        ("13-gsi-deleted", f"gsi.{GSI}", GSI, None),
        ("14-gsi-extra", "gsi.extra-index", None, "extra-index"),
        ("17-tag-added", "tags.Extra", None, "manual"),
        ("18-tag-removed", "tags.Team", "orders", None),
        ("19-tag-changed", "tags.Team", "orders", "other"),
        ("23-table-read-policy", "autoscaling.read.target", 50.0, 70.0),
        ("24-table-write-policy-deleted", "autoscaling.write.target", 50.0, None),
        ("25-table-read-target-deregistered", "autoscaling.read.min", 5, None),
    ],
)
def test_ground_truth_values(row_id: str, attribute: str, declared: object, live: object) -> None:
    row = next(r for r in ROWS if r.id == row_id)
    assert drift_of(diff(row.declared(DECLARED), row.live(LIVE)), attribute) == Drift(
        attribute, declared, live
    )


def test_row_11_strict_parity_reports_terraforms_perpetual_diff() -> None:
    live = with_gsi(LIVE, read_capacity=12, write_capacity=9)
    result = diff(DECLARED, live, parity="strict")
    assert attrs(result) == {f"gsi.{GSI}.read_capacity", f"gsi.{GSI}.write_capacity"}
    assert drift_of(result, f"gsi.{GSI}.write_capacity") == Drift(f"gsi.{GSI}.write_capacity", 5, 9)
    # Table capacity stays unmanaged for a CloudPosse table even in strict mode.
    assert attrs(diff(DECLARED, replace(live, read_capacity=12), parity="strict")) == attrs(result)


def test_unknown_parity_is_rejected() -> None:
    with pytest.raises(ValueError, match="parity"):
        diff(DECLARED, LIVE, parity="lenient")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Unknown


U = Unknown("var.x has no value")


@pytest.mark.parametrize(
    ("declared", "live", "expected_unresolved", "expected_drift"),
    [
        pytest.param(
            replace(DECLARED, point_in_time_recovery=U),
            replace(LIVE, point_in_time_recovery=False),
            {"point_in_time_recovery"},
            set(),
            id="scalar",
        ),
        pytest.param(
            replace(DECLARED, billing_mode=U),
            with_gsi(LIVE, read_capacity=50),
            # Capacity and autoscaling depend on the unknown billing mode; the GSI's write
            # capacity (5, inside the live 5-20) is the autoscaler's whatever the mode.
            {
                "billing_mode",
                f"gsi.{GSI}.read_capacity",
                *(
                    f"{p}.{d}.{f}"
                    for p in ("autoscaling", f"gsi.{GSI}.autoscaling")
                    for d in ("read", "write")
                    for f in ("min", "max", "target", *SETTINGS)
                ),
            },
            set(),
            id="billing-mode-gates-capacity",
        ),
        pytest.param(
            replace(DECLARED, billing_mode=U),
            with_gsi(replace(LIVE, billing_mode=PPR, autoscaling=Autoscaling()), read_capacity=50),
            {"billing_mode"},  # on-demand live: capacity is moot whatever was declared
            set(),
            id="billing-mode-unknown-live-on-demand",
        ),
        pytest.param(
            replace(DECLARED, tags=U),
            with_tags(LIVE, {"Extra": "manual", "Team": "other"}),
            {"tags"},
            set(),
            id="whole-tag-map",
        ),
        pytest.param(
            with_tags(DECLARED, {"Team": U}),
            with_tags(LIVE, {"Extra": "manual"}, drop=("Team",)),
            {"tags.Team"},
            {"tags.Extra"},
            id="one-tag-value",
        ),
        pytest.param(
            replace(DECLARED, gsis=U),
            replace(with_gsi(LIVE, projection_type="ALL"), gsis=(*LIVE.gsis, Gsi("extra", "x"))),  # type: ignore[misc]
            {"gsi"},
            set(),
            id="whole-gsi-list",
        ),
        pytest.param(
            with_gsi(DECLARED, hash_key=U, read_capacity=U),
            with_gsi(LIVE, hash_key="other", read_capacity=50),
            {f"gsi.{GSI}.hash_key", f"gsi.{GSI}.read_capacity"},
            set(),
            id="gsi-fields",
        ),
        pytest.param(
            with_gsi(DECLARED, projection_type="INCLUDE", non_key_attributes=frozenset({"a", U})),
            with_gsi(LIVE, projection_type="INCLUDE", non_key_attributes=frozenset({"b"})),
            {f"gsi.{GSI}.non_key_attributes"},
            set(),
            id="set-with-unknown-element",
        ),
        pytest.param(
            replace(DECLARED, sse=Sse(True, U)),
            replace(LIVE, sse=Sse(True, CMK)),
            {"sse.kms_key_arn"},
            set(),
            id="kms-key",
        ),
        pytest.param(
            replace(DECLARED, ttl=Ttl(U, "expires_at")),
            replace(LIVE, ttl=Ttl(True, "other")),
            {"ttl.enabled", "ttl.attribute"},
            set(),
            id="ttl-enabled-gates-attribute",
        ),
        pytest.param(
            replace(DECLARED, range_key=U),
            replace(LIVE, range_key="q", range_key_type="N"),
            {"range_key", "range_key_type"},
            set(),
            id="range-key-gates-its-type",
        ),
        pytest.param(
            replace(DECLARED, autoscaling=Autoscaling(read=ScalingTarget(U, 20, U), write=AUTOSCALING.write)),
            replace(LIVE, autoscaling=replace(AUTOSCALING, read=ScalingTarget(1, 20, 70.0))),
            # the policy is Unknown, so are its cooldowns and disable_scale_in
            # the policy unknown: its metric too, even where the declaration names none
            {
                "autoscaling.read.min",
                "autoscaling.read.target",
                "autoscaling.read.metric",
                *(f"autoscaling.read.{f}" for f in SETTINGS),
            },
            set(),
            id="autoscaling",
        ),
        pytest.param(
            replace(DECLARED, replicas=frozenset({"eu-west-1", U})),  # type: ignore[arg-type]
            replace(LIVE, replicas=frozenset({"eu-central-1"})),
            {"replicas"},
            set(),
            id="replicas",
        ),
        pytest.param(
            replace(DECLARED, lsis=U),
            replace(LIVE, lsis=(Lsi("by-x", "x"),)),
            {"lsi"},
            set(),
            id="whole-lsi-list",
        ),
    ],
)
def test_unknown_is_unresolved_never_drift(
    declared: TableSpec, live: TableSpec, expected_unresolved: set[str], expected_drift: set[str]
) -> None:
    result = diff(declared, live)
    assert unresolved(result) == expected_unresolved
    assert attrs(result) == expected_drift
    assert all(u.reason == U.reason for u in result.unresolved)


def test_unmanaged_unknown_is_not_even_unresolved() -> None:
    declared = replace(DECLARED, read_capacity=U, write_capacity=U)
    assert diff(declared, LIVE) == DiffResult((), ())


# --------------------------------------------------------------------------- capacity

PLAIN_DECLARED = replace(DECLARED, unmanaged=frozenset(), autoscaling=Autoscaling())
PLAIN_LIVE = replace(LIVE, autoscaling=Autoscaling())


def test_plain_resource_compares_table_capacity_exactly() -> None:
    result = diff(PLAIN_DECLARED, replace(PLAIN_LIVE, read_capacity=6))
    assert result.drift == (Drift("read_capacity", 5, 6),)


def test_plain_resource_capacity_owned_by_a_live_autoscaler() -> None:
    live = replace(LIVE, read_capacity=12, write_capacity=40)  # targets 5-20 live
    assert attrs(diff(PLAIN_DECLARED, live)) == {"write_capacity"}
    assert attrs(diff(PLAIN_DECLARED, live, parity="strict")) == {"read_capacity", "write_capacity"}


def test_plain_resource_ignore_changes() -> None:
    declared = replace(PLAIN_DECLARED, unmanaged=frozenset({"read_capacity"}))
    assert attrs(diff(declared, replace(PLAIN_LIVE, read_capacity=6, write_capacity=6))) == {"write_capacity"}


def test_gsi_capacity_without_live_target_is_compared_exactly() -> None:
    live = with_gsi(LIVE, read_capacity=6, autoscaling=Autoscaling(write=AUTOSCALING.write))
    result = diff(DECLARED, live)
    # The read target is gone: its min/max/target are drift too (row 25, on the index).
    assert attrs(result) == {f"gsi.{GSI}.read_capacity"} | {
        f"gsi.{GSI}.autoscaling.read.{f}" for f in ("min", "max", "target")
    }


@pytest.mark.parametrize(("units", "drift"), [(4, True), (5, False), (20, False), (21, True)])
def test_gsi_capacity_bounds_are_inclusive(units: int, drift: bool) -> None:
    result = diff(DECLARED, with_gsi(LIVE, read_capacity=units))
    assert attrs(result) == ({f"gsi.{GSI}.read_capacity"} if drift else set())


def test_pay_per_request_skips_capacity() -> None:
    declared = replace(PLAIN_DECLARED, billing_mode=PPR, read_capacity=None, write_capacity=None)
    declared = with_gsi(declared, read_capacity=5, write_capacity=5, autoscaling=Autoscaling())
    live = with_gsi(replace(PLAIN_LIVE, billing_mode=PPR, read_capacity=0, write_capacity=0), read_capacity=0)
    assert diff(declared, live) == DiffResult((), ())


def test_declared_capacity_none_is_not_compared() -> None:
    declared = with_gsi(replace(PLAIN_DECLARED, read_capacity=None), read_capacity=None)
    live = with_gsi(replace(PLAIN_LIVE, read_capacity=99), read_capacity=99)
    assert diff(declared, live, parity="strict") == DiffResult((), ())


def test_foreign_live_autoscaling_is_not_drift() -> None:
    assert diff(PLAIN_DECLARED, LIVE) == DiffResult((), ())


def test_targets_compare_as_floats() -> None:
    declared = replace(DECLARED, autoscaling=Autoscaling(ScalingTarget(5, 20, 50), ScalingTarget(5, 20, 50)))
    assert diff(declared, LIVE) == DiffResult((), ())


# --------------------------------------------------------------------------- other rules


def test_aws_tags_ignored_on_both_sides() -> None:
    declared = with_tags(DECLARED, {"aws:foo": "a"})
    live = with_tags(LIVE, {"aws:cloudformation:stack-name": "s", "aws:foo": "b"})
    assert diff(declared, live) == DiffResult((), ())


# ``ignore_changes = [tags]`` with default tags Stage and Team (terraform plan measured): a deleted
# default tag is put back, any value of it is left alone, and the other tags are not compared.
TAGS_IGNORED = replace(
    DECLARED,
    unmanaged=DECLARED.unmanaged | {"tags.*"},
    restored_tags={"Stage": "prod", "Team": "platform"},
)


@pytest.mark.parametrize(
    ("live_tags", "drift", "unresolved_attributes"),
    [
        pytest.param(TAGS, [], set(), id="all-there"),
        pytest.param({**TAGS, "Stage": "dev", "Team": "x", "Extra": "1"}, [], set(), id="values-changed"),
        pytest.param(
            {k: v for k, v in TAGS.items() if k != "Stage"},
            [("tags.Stage", "prod", None)],
            set(),
            id="one-deleted",
        ),
        pytest.param(
            {}, [("tags.Stage", "prod", None), ("tags.Team", "platform", None)], set(), id="all-deleted"
        ),
        pytest.param(Unknown("garbled"), [], {"tags.Stage", "tags.Team"}, id="live-unknown"),
    ],
)
def test_a_restored_tag_drifts_only_when_it_is_deleted(
    live_tags: Any, drift: list[tuple[str, object, object]], unresolved_attributes: set[str]
) -> None:
    result = diff(TAGS_IGNORED, replace(LIVE, tags=live_tags))
    assert [(d.attribute, d.declared, d.live) for d in result.drift] == drift
    assert unresolved(result) == unresolved_attributes


def test_a_restored_tag_defers_to_every_other_rule() -> None:
    """An unknown default value is unresolved, never drift; a key the provider's ignore_tags or
    the ``aws:`` prefix leaves alone is not restored; a key whose value is compared is compared
    once, by value."""
    unknown = replace(TAGS_IGNORED, restored_tags={"Stage": Unknown("var.stage")})
    result = diff(unknown, replace(LIVE, tags={}))
    assert result.drift == () and unresolved(result) == {"tags.Stage"}
    filtered = replace(
        TAGS_IGNORED, restored_tags={"Skip": "x", "aws:x": "y"}, ignore_tags=TagFilter(frozenset({"Skip"}))
    )
    assert diff(filtered, replace(LIVE, tags={})) == DiffResult((), ())
    managed = replace(DECLARED, restored_tags={"Stage": "prod"})
    result = diff(managed, with_tags(LIVE, drop=("Stage",)))
    assert [(d.attribute, d.declared, d.live) for d in result.drift] == [("tags.Stage", "prod", None)]


# ``aws_dynamodb_tag`` resources on the table (terraform plan measured, docs/terraform-parity.md
# "Real public configurations"): a tag resource is a resource of its own, so the table's
# ignore_changes does not reach it; a deleted or changed tag is created or updated again.
TAG_RESOURCES = replace(TAGS_IGNORED, restored_tags={}, tag_resources={"Project": "state", "Env": "shared"})


@pytest.mark.parametrize(
    ("declared", "live_tags", "drift", "unresolved_attributes"),
    [
        pytest.param(TAG_RESOURCES, {"Project": "state", "Env": "shared"}, [], set(), id="in-sync"),
        pytest.param(
            TAG_RESOURCES,
            {"Env": "changed", "Extra": "console"},
            [("tags.Env", "shared", "changed"), ("tags.Project", "state", None)],
            set(),
            id="ignored-tags-deleted-and-changed",
        ),
        pytest.param(TAG_RESOURCES, Unknown("garbled"), [], {"tags.Env", "tags.Project"}, id="live-unknown"),
        pytest.param(
            replace(TAG_RESOURCES, tag_resources={"Project": Unknown("var.project")}),
            {},
            [],
            {"tags.Project"},
            id="value-unknown",
        ),
        # The table manages its tags and does not declare the key: terraform plan removes the
        # tag from the table while it is there, and the tag resource creates it once it is not.
        pytest.param(
            replace(DECLARED, tag_resources={"Project": "state"}),
            {**TAGS, "Project": "state"},
            [("tags.Project", None, "state")],
            set(),
            id="managed-present",
        ),
        pytest.param(
            replace(DECLARED, tag_resources={"Project": "state"}),
            TAGS,
            [("tags.Project", "state", None)],
            set(),
            id="managed-absent",
        ),
        pytest.param(
            replace(DECLARED, tag_resources={"Owner": "alice", "aws:x": "y"}), TAGS, [], set(), id="agrees"
        ),
    ],
)
def test_a_tag_resource_compares_its_tag_whatever_the_tables_ignore_changes(
    declared: TableSpec,
    live_tags: Any,
    drift: list[tuple[str, object, object]],
    unresolved_attributes: set[str],
) -> None:
    """Before, a table under ``ignore_changes = [tags]`` whose tags come from ``aws_dynamodb_tag``
    resources was in sync after a tag was deleted or changed in the console, though terraform
    plan creates or updates the tag resource."""
    result = diff(declared, replace(LIVE, tags=live_tags))
    assert [(d.attribute, d.declared, d.live) for d in result.drift] == drift
    assert unresolved(result) == unresolved_attributes


def test_order_of_sets_is_irrelevant() -> None:
    gsis = (
        Gsi("a", "x", projection_type="INCLUDE", non_key_attributes=frozenset({"p", "q", "r"})),
        Gsi("b", "y"),
    )
    lsis = (Lsi("l1", "x"), Lsi("l2", "y", "INCLUDE", frozenset({"m", "n"})))
    declared = replace(
        PLAIN_DECLARED, gsis=gsis, lsis=lsis, replicas=frozenset({"eu-west-1", "us-west-2", "ap-south-1"})
    )
    live = replace(
        PLAIN_LIVE,
        gsis=(replace(gsis[1]), replace(gsis[0], non_key_attributes=frozenset(["r", "q", "p"]))),
        lsis=lsis[::-1],
        replicas=frozenset(["us-west-2", "ap-south-1", "eu-west-1"]),
    )
    assert diff(declared, live) == DiffResult((), ())


def test_non_key_attributes_none_equals_empty() -> None:
    assert diff(with_gsi(DECLARED, non_key_attributes=None), LIVE) == DiffResult((), ())


def test_replicas_drift_as_sorted_lists() -> None:
    declared = replace(DECLARED, replicas=frozenset({"us-west-2", "eu-west-1"}))
    live = replace(LIVE, replicas=frozenset({"eu-west-1"}))
    assert diff(declared, live).drift == (Drift("replicas", ["eu-west-1", "us-west-2"], ["eu-west-1"]),)


def test_lsi_missing_unexpected_and_changed() -> None:
    declared = replace(DECLARED, lsis=(Lsi("by-a", "a"), Lsi("by-b", "b", "INCLUDE", frozenset({"x"}))))
    live = replace(LIVE, lsis=(Lsi("by-b", "b", "INCLUDE", frozenset({"x", "y"})), Lsi("by-c", "c")))
    result = diff(declared, live)
    assert attrs(result) == {"lsi.by-a", "lsi.by-c", "lsi.by-b.non_key_attributes"}
    assert drift_of(result, "lsi.by-b.non_key_attributes").live == ["x", "y"]


def test_no_sort_key_on_both_sides_is_equal() -> None:
    declared = replace(DECLARED, range_key="", range_key_type="S")  # CloudPosse's spelling
    live = replace(LIVE, range_key=None, range_key_type=None)
    assert diff(declared, live) == DiffResult((), ())
    assert attrs(diff(DECLARED, live)) == {"range_key"}


def test_ttl_attribute_ignored_when_declared_disabled() -> None:
    declared = replace(DECLARED, ttl=Ttl(False, "Expires"))
    live = replace(LIVE, ttl=Ttl(False, None))
    assert diff(declared, live) == DiffResult((), ())


def test_named_kms_key_must_match() -> None:
    declared = replace(DECLARED, sse=Sse(True, CMK))
    assert diff(declared, LIVE).drift == (Drift("sse.kms_key_arn", CMK, MANAGED_KEY),)


def test_unmanaged_prefixes_and_ancestors() -> None:
    live = with_tags(replace(LIVE, autoscaling=Autoscaling()), {"Extra": "x"})
    for unmanaged in ({"tags", "autoscaling.*"}, {"tags.*", "autoscaling"}):
        declared = replace(DECLARED, unmanaged=DECLARED.unmanaged | unmanaged)
        assert diff(declared, live) == DiffResult((), ()), unmanaged


def test_status_is_not_consulted() -> None:
    live = replace(LIVE, status="UPDATING", point_in_time_recovery=False)
    assert attrs(diff(DECLARED, live)) == {"point_in_time_recovery"}


def test_output_is_sorted_and_json_serialisable() -> None:
    live = with_tags(
        replace(
            LIVE,
            billing_mode=BillingMode.PAY_PER_REQUEST,
            table_class="STANDARD",
            replicas=frozenset({"b", "a"}),
            gsis=(),
        ),
        {"Extra": "x"},
    )
    declared = replace(DECLARED, billing_mode=BillingMode.PROVISIONED, tags=U)
    result = diff(declared, live)
    names = [d.attribute for d in result.drift]
    assert names == sorted(names) == ["billing_mode", f"gsi.{GSI}", "replicas", "table_class"]
    assert type(drift_of(result, "billing_mode").declared) is str
    json.dumps([d.__dict__ for d in result.drift] + [u.__dict__ for u in result.unresolved])


# --------------------------------------------------------------------------- properties

names = st.text("abcdefgh-", min_size=1, max_size=4)
maybe_none_str = st.none() | names
key_types = st.sampled_from(["S", "N", "B"])
capacity = st.none() | st.integers(0, 40)
scaling_target = st.none() | st.builds(
    ScalingTarget,
    min=st.integers(1, 20),
    max=st.integers(1, 40),
    target=st.none() | st.integers(20, 90) | st.floats(20, 90, allow_nan=False),
)
autoscaling = st.builds(Autoscaling, read=scaling_target, write=scaling_target)
non_key = st.none() | st.frozensets(names, max_size=3)
projection = st.sampled_from(["ALL", "KEYS_ONLY", "INCLUDE"])
gsi_names = st.sampled_from(["g1", "g2", "g3", "g4"])


def gsi(name: str) -> st.SearchStrategy[Gsi]:
    return st.builds(
        Gsi,
        name=st.just(name),
        hash_key=names,
        range_key=maybe_none_str,
        projection_type=projection,
        non_key_attributes=non_key,
        read_capacity=capacity,
        write_capacity=capacity,
        autoscaling=autoscaling,
    )


def lsi(name: str) -> st.SearchStrategy[Lsi]:
    return st.builds(
        Lsi, name=st.just(name), range_key=names, projection_type=projection, non_key_attributes=non_key
    )


def indexes(
    build: Callable[[str], st.SearchStrategy[Gsi]] | Callable[[str], st.SearchStrategy[Lsi]],
) -> st.SearchStrategy[tuple[Gsi | Lsi, ...]]:
    return st.lists(gsi_names, unique=True, max_size=4).flatmap(lambda ns: st.tuples(*(build(n) for n in ns)))


tag_keys = st.sampled_from(["Name", "Team", "Owner", "aws:x", "Extra"])
table_specs = st.builds(
    TableSpec,
    name=st.just("t"),
    hash_key=names,
    hash_key_type=key_types,
    range_key=st.none() | st.just("") | names,
    range_key_type=st.none() | key_types,
    billing_mode=st.sampled_from(["PROVISIONED", "PAY_PER_REQUEST"]),
    read_capacity=capacity,
    write_capacity=capacity,
    table_class=st.sampled_from(["STANDARD", "STANDARD_INFREQUENT_ACCESS"]),
    ttl=st.builds(Ttl, enabled=st.booleans(), attribute=maybe_none_str),
    point_in_time_recovery=st.booleans(),
    sse=st.builds(Sse, enabled=st.booleans(), kms_key_arn=st.none() | st.sampled_from([CMK, MANAGED_KEY])),
    stream=st.builds(
        Stream, enabled=st.booleans(), view_type=st.none() | st.sampled_from(["KEYS_ONLY", "NEW_IMAGE"])
    ),
    deletion_protection=st.booleans(),
    gsis=indexes(gsi),
    lsis=indexes(lsi),
    replicas=st.frozensets(st.sampled_from(["eu-west-1", "us-west-2", "ap-south-1"])),
    tags=st.dictionaries(tag_keys, st.sampled_from(["a", "b"]), max_size=4),
    autoscaling=autoscaling,
    unmanaged=st.frozensets(st.sampled_from(["read_capacity", "tags.*", "ttl.*", "gsi.*", "autoscaling.*"])),
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(table_specs)
def test_a_table_never_drifts_from_itself(spec: TableSpec) -> None:
    assert diff(spec, spec) == DiffResult((), ())
    assert diff(spec, spec, parity="strict") == DiffResult((), ())


@PROPERTY
@given(table_specs, table_specs, st.randoms(use_true_random=False))
def test_index_order_is_irrelevant(declared: TableSpec, live: TableSpec, rnd: random.Random) -> None:
    """The order of every set -- indexes, replicas, non-key attributes, tags -- changes nothing,
    not even the order or the representation of what diff reports."""

    def rebuilt(values: frozenset[str] | None) -> frozenset[str] | None:
        return None if values is None else frozenset(rnd.sample(sorted(values), len(values)))

    def shuffled(spec: TableSpec) -> TableSpec:
        assert not isinstance(spec.gsis, Unknown) and not isinstance(spec.lsis, Unknown)
        assert not isinstance(spec.tags, Unknown) and not isinstance(spec.replicas, Unknown)
        gsis = [replace(g, non_key_attributes=rebuilt(g.non_key_attributes)) for g in spec.gsis]  # type: ignore[arg-type]
        lsis = [replace(i, non_key_attributes=rebuilt(i.non_key_attributes)) for i in spec.lsis]  # type: ignore[arg-type]
        tags = list(spec.tags.items())
        return replace(
            spec,
            gsis=tuple(rnd.sample(gsis, len(gsis))),
            lsis=tuple(rnd.sample(lsis, len(lsis))),
            replicas=rebuilt(spec.replicas),  # type: ignore[arg-type]
            tags=dict(rnd.sample(tags, len(tags))),
        )

    assert diff(shuffled(declared), shuffled(live)) == diff(declared, live)
    assert diff(shuffled(declared), shuffled(declared)) == DiffResult((), ())


UNKNOWNIFY: dict[str, Callable[[TableSpec], TableSpec]] = {
    "billing_mode": lambda s: replace(s, billing_mode=U),
    "hash_key": lambda s: replace(s, hash_key=U),
    "range_key": lambda s: replace(s, range_key=U),
    "ttl.enabled": lambda s: replace(s, ttl=replace(s.ttl, enabled=U)),
    "sse.kms_key_arn": lambda s: replace(s, sse=replace(s.sse, kms_key_arn=U)),
    "stream.enabled": lambda s: replace(s, stream=replace(s.stream, enabled=U)),
    "read_capacity": lambda s: replace(s, read_capacity=U),
    "tags": lambda s: replace(s, tags=U),
    "tags.Team": lambda s: replace(s, tags={**s.tags, "Team": U}),  # type: ignore[dict-item]
    "gsis": lambda s: replace(s, gsis=U),
    "gsi-fields": lambda s: replace(
        s,
        gsis=tuple(replace(g, hash_key=U, read_capacity=U, non_key_attributes=U) for g in s.gsis),  # type: ignore[union-attr]
    ),
    "lsis": lambda s: replace(s, lsis=U),
    "replicas": lambda s: replace(s, replicas=U),
    "autoscaling.read": lambda s: replace(
        s, autoscaling=replace(s.autoscaling, read=ScalingTarget(U, U, U) if s.autoscaling.read else None)
    ),
}


@PROPERTY
@given(table_specs, table_specs, st.sampled_from(sorted(UNKNOWNIFY)))
def test_unknown_can_only_remove_drift(declared: TableSpec, live: TableSpec, field: str) -> None:
    """Making a declared value Unknown never creates drift; it can only turn drift unresolved."""
    vague = UNKNOWNIFY[field](declared)
    full = diff(declared, live).drift
    assert all(d in full for d in diff(vague, live).drift)
    assert diff(vague, declared).drift == ()


# The target-tracking policy's other settings, as terraform plan compares them (checked against
# terraform 1.11.4: a cooldown or DisableScaleIn changed in the console plans a change of
# target_tracking_scaling_policy_configuration, also when the policy does not set them; an unset
# cooldown is 0 and an unset disable_scale_in is false on both sides).


def _scaled(read: ScalingTarget | None) -> TableSpec:
    return replace(DECLARED, autoscaling=replace(AUTOSCALING, read=read))


def test_a_declared_cooldown_is_compared_with_the_live_one() -> None:
    declared = _scaled(ScalingTarget(5, 20, 50.0, scale_in_cooldown=60, scale_out_cooldown=30))
    live = _scaled(ScalingTarget(5, 20, 50.0, scale_in_cooldown=60))
    result = diff(declared, live)
    assert result.drift == (Drift("autoscaling.read.scale_out_cooldown", 30, 0),)
    assert attrs(diff(declared, _scaled(ScalingTarget(5, 20, 50.0, 60, 30)))) == set()


def test_a_cooldown_set_live_and_not_declared_is_drift_from_zero() -> None:
    result = diff(DECLARED, _scaled(ScalingTarget(5, 20, 50.0, scale_out_cooldown=300)))
    assert result.drift == (Drift("autoscaling.read.scale_out_cooldown", 0, 300),)
    assert attrs(diff(DECLARED, _scaled(ScalingTarget(5, 20, 50.0, 0, 0, False)))) == set()


def test_policy_settings_of_a_missing_policy_are_not_reported_again() -> None:
    declared = _scaled(ScalingTarget(5, 20, 50.0, scale_in_cooldown=60, disable_scale_in=True))
    assert attrs(diff(declared, _scaled(ScalingTarget(5, 20, None)))) == {"autoscaling.read.target"}
    no_policy = _scaled(ScalingTarget(5, 20, None))
    assert attrs(diff(no_policy, _scaled(ScalingTarget(5, 20, 50.0, scale_in_cooldown=60)))) == set()


def test_policy_settings_are_unresolved_where_the_policy_is_unknown() -> None:
    unknown = Unknown("several target-tracking policies")
    result = diff(_scaled(ScalingTarget(5, 20, unknown)), _scaled(ScalingTarget(5, 20, 50.0, 60)))
    assert result.drift == ()
    assert {u.attribute for u in result.unresolved} == {
        "autoscaling.read.target",
        "autoscaling.read.scale_in_cooldown",
        "autoscaling.read.scale_out_cooldown",
        "autoscaling.read.disable_scale_in",
        "autoscaling.read.metric",
    }
    live_unknown = Unknown("DescribeScalingPolicies failed")
    declared = _scaled(ScalingTarget(5, 20, 50.0, scale_in_cooldown=60))
    result = diff(declared, _scaled(ScalingTarget(5, 20, live_unknown)))
    assert result.drift == ()
    assert "autoscaling.read.scale_in_cooldown" in {u.attribute for u in result.unresolved}


def test_a_declared_suspended_state_is_compared_and_an_undeclared_one_is_not() -> None:
    """terraform plan (1.11.4) changes a target's suspended_state back only where the target
    declares the block (it is Optional and Computed)."""
    live = _scaled(ScalingTarget(5, 20, 50.0, suspended_state=frozenset({"dynamic_scaling_in"})))
    declared = _scaled(ScalingTarget(5, 20, 50.0, suspended_state=frozenset()))
    assert diff(declared, live).drift == (
        Drift("autoscaling.read.suspended_state", [], ["dynamic_scaling_in"]),
    )
    assert attrs(diff(DECLARED, live)) == set()
    assert attrs(diff(declared, _scaled(ScalingTarget(5, 20, 50.0)))) == set()


def test_a_suspended_state_that_cannot_be_read_is_unresolved_never_drift() -> None:
    from driftwatch.scan import _autoscaling_unknown

    declared = _scaled(ScalingTarget(5, 20, 50.0, scale_in_cooldown=60, suspended_state=frozenset()))
    live = _autoscaling_unknown(_scaled(ScalingTarget(5, 20, 50.0)), Unknown("AccessDenied"))
    result = diff(declared, live)
    assert result.drift == ()
    assert {"autoscaling.read.suspended_state", "autoscaling.read.scale_in_cooldown"} <= {
        u.attribute for u in result.unresolved
    }


READ_METRIC, WRITE_METRIC = "DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"


def test_a_declared_metric_is_compared_with_the_live_one() -> None:
    """terraform plan (1.11.4) changes a policy whose metric was swapped in the console."""
    declared = _scaled(ScalingTarget(5, 20, 50.0, metric=READ_METRIC))
    live = _scaled(ScalingTarget(5, 20, 50.0, metric=WRITE_METRIC))
    assert diff(declared, live).drift == (Drift("autoscaling.read.metric", READ_METRIC, WRITE_METRIC),)
    assert attrs(diff(declared, _scaled(ScalingTarget(5, 20, 50.0, metric=READ_METRIC)))) == set()
    # a declaration that does not say (no metric block) is not compared
    assert attrs(diff(_scaled(ScalingTarget(5, 20, 50.0)), live)) == set()
    # a live policy gone is reported once, on .target
    assert attrs(diff(declared, _scaled(ScalingTarget(5, 20, None)))) == {"autoscaling.read.target"}


def test_a_metric_that_cannot_be_resolved_or_read_is_unresolved_never_drift() -> None:
    from driftwatch.scan import _autoscaling_unknown

    live = _scaled(ScalingTarget(5, 20, 50.0, metric=WRITE_METRIC))
    unknown = Unknown("var.metric is not known")
    result = diff(_scaled(ScalingTarget(5, 20, 50.0, metric=unknown)), live)
    assert (result.drift, unresolved(result)) == ((), {"autoscaling.read.metric"})
    live_unknown = _scaled(ScalingTarget(5, 20, 50.0, metric=Unknown("DescribeScalingPolicies gave Unit 5")))
    result = diff(_scaled(ScalingTarget(5, 20, 50.0, metric=READ_METRIC)), live_unknown)
    assert (result.drift, unresolved(result)) == ((), {"autoscaling.read.metric"})
    # the listing could not be read: the scan makes the declared side unknown
    declared = _autoscaling_unknown(
        _scaled(ScalingTarget(5, 20, 50.0, metric=READ_METRIC)), Unknown("AccessDenied")
    )
    result = diff(declared, live)
    assert result.drift == () and "autoscaling.read.metric" in unresolved(result)


def test_ignore_changes_on_the_policy_leaves_its_metric_uncompared() -> None:
    declared = _scaled(ScalingTarget(5, 20, 50.0, metric=READ_METRIC))
    declared = replace(declared, unmanaged=frozenset({"autoscaling.read.metric"}))
    assert diff(declared, _scaled(ScalingTarget(5, 20, 50.0, metric=WRITE_METRIC))).drift == ()
