"""Autoscaling index: one region-wide listing per scan, looked up per table in memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from conftest import FAKE_SECRET

from driftwatch.aws.autoscaling import AutoscalingIndex, apply_autoscaling
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.aws.dynamodb import LiveReadError, read_table
from driftwatch.spec import Autoscaling, Gsi, ScalingTarget, TableSpec, Unknown

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE_READ = "dynamodb:table:ReadCapacityUnits"
TABLE_WRITE = "dynamodb:table:WriteCapacityUnits"
INDEX_READ = "dynamodb:index:ReadCapacityUnits"
INDEX_WRITE = "dynamodb:index:WriteCapacityUnits"
METRIC = {
    TABLE_READ: "DynamoDBReadCapacityUtilization",
    TABLE_WRITE: "DynamoDBWriteCapacityUtilization",
    INDEX_READ: "DynamoDBReadCapacityUtilization",
    INDEX_WRITE: "DynamoDBWriteCapacityUtilization",
}
READ, WRITE = METRIC[TABLE_READ], METRIC[TABLE_WRITE]


@pytest.fixture
def aas(mocked_aws: None) -> Any:
    """A plain moto client for arranging targets and policies (not recorded)."""
    return boto3.client("application-autoscaling", region_name=REGION)


def register(
    aas: Any, resource_id: str, dimension: str, lo: int, hi: int, target: float | None = None
) -> None:
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource_id,
        ScalableDimension=dimension,
        MinCapacity=lo,
        MaxCapacity=hi,
    )
    if target is not None:
        aas.put_scaling_policy(
            PolicyName=f"{resource_id}:{dimension}",
            ServiceNamespace="dynamodb",
            ResourceId=resource_id,
            ScalableDimension=dimension,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target,
                "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC[dimension]},
            },
        )


def test_for_table_maps_table_and_gsi_targets_with_policies(aas: Any, aws_clients: AwsClients) -> None:
    register(aas, "table/orders", TABLE_READ, 5, 20, 50.0)
    register(aas, "table/orders", TABLE_WRITE, 5, 20, 60.0)
    register(aas, "table/orders/index/tenant-index", INDEX_READ, 2, 40, 70.0)
    register(aas, "table/orders/index/tenant-index", INDEX_WRITE, 3, 30)  # no policy
    register(aas, "table/other", TABLE_READ, 1, 2, 90.0)
    register(aas, "table/orders-archive/index/tenant-index", INDEX_READ, 1, 2, 90.0)

    index = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION))
    table, gsis = index.for_table("orders")

    assert table == Autoscaling(
        read=ScalingTarget(5, 20, 50.0, metric=READ), write=ScalingTarget(5, 20, 60.0, metric=WRITE)
    )
    assert gsis == {
        "tenant-index": Autoscaling(
            read=ScalingTarget(2, 40, 70.0, metric=READ), write=ScalingTarget(min=3, max=30, target=None)
        )
    }
    assert index.for_table("other") == (Autoscaling(read=ScalingTarget(1, 2, 90.0, metric=READ)), {})
    assert index.for_table("no-such-table") == (Autoscaling(), {})


def test_policies_left_behind_by_deregistered_targets_are_ignored(aas: Any, aws_clients: AwsClients) -> None:
    register(aas, "table/orders", TABLE_READ, 5, 20, 50.0)
    register(aas, "table/orders", TABLE_WRITE, 5, 20, 60.0)
    aas.deregister_scalable_target(
        ServiceNamespace="dynamodb", ResourceId="table/orders", ScalableDimension=TABLE_READ
    )
    # The moto gap this guards against: the read policy is still listed.
    leftover = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId="table/orders")
    assert len(leftover["ScalingPolicies"]) == 2

    table, _ = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION)).for_table("orders")

    assert table == Autoscaling(read=None, write=ScalingTarget(5, 20, 60.0, metric=WRITE))


def test_step_scaling_policies_do_not_set_a_target(aas: Any, aws_clients: AwsClients) -> None:
    register(aas, "table/orders", TABLE_READ, 5, 20)
    aas.put_scaling_policy(
        PolicyName="step",
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension=TABLE_READ,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
        },
    )
    table, _ = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION)).for_table("orders")
    assert table.read == ScalingTarget(min=5, max=20, target=None)


def test_fetch_costs_one_call_per_page_regardless_of_table_count(
    aas: Any, aws_clients: AwsClients, recorder: ApiCallRecorder
) -> None:
    # driftwatch asks for 50 scalable targets and 10 policies a page (the most AWS allows; moto
    # answers as asked). 80 tables with a target and a policy each, plus 30 extra step policies
    # -> targets 2 pages, policies 11 pages. (More than 100 targets would hit a moto bug: its
    # third-page NextToken repeats the second's.)
    for i in range(80):
        register(aas, f"table/t{i:03}", TABLE_READ, 1, 10 + i, 50.0)
    for i in range(30):
        aas.put_scaling_policy(
            PolicyName=f"step-{i}",
            ServiceNamespace="dynamodb",
            ResourceId=f"table/t{i:03}",
            ScalableDimension=TABLE_READ,
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
            },
        )

    index = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION))

    assert recorder.snapshot() == {
        ("DescribeScalableTargets", "success"): 2,
        ("DescribeScalingPolicies", "success"): 11,
    }
    assert len(index.targets) == 80
    assert index.for_table("t079")[0].read == ScalingTarget(1, 89, 50.0, metric=READ)
    assert index.for_table("t000")[0].read == ScalingTarget(1, 10, 50.0, metric=READ)
    for i in range(80):  # lookups are in memory
        index.for_table(f"t{i:03}")
    assert sum(recorder.snapshot().values()) == 13


def test_apply_autoscaling_fills_table_and_each_gsi(aas: Any, aws_clients: AwsClients) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "h", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "h", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            }
            for name in ("scaled", "fixed")
        ],
    )
    register(aas, "table/orders", TABLE_WRITE, 5, 20, 50.0)
    register(aas, "table/orders/index/scaled", INDEX_READ, 5, 20, 50.0)
    register(aas, "table/orders/index/gone", INDEX_READ, 1, 1, 50.0)  # no such GSI: not invented

    spec = read_table(aws_clients.dynamodb(REGION), "orders", REGION)
    assert spec is not None
    result = apply_autoscaling(spec, AutoscalingIndex.fetch(aws_clients.autoscaling(REGION)))

    assert result.autoscaling == Autoscaling(write=ScalingTarget(5, 20, 50.0, metric=WRITE))
    assert isinstance(result.gsis, tuple)
    assert {g.name: g.autoscaling for g in result.gsis} == {
        "fixed": Autoscaling(),
        "scaled": Autoscaling(read=ScalingTarget(5, 20, 50.0, metric=READ)),
    }
    # everything else untouched
    assert result.gsis[0].read_capacity == 5 and result.read_capacity == 5


def test_apply_autoscaling_leaves_unknown_name_alone() -> None:
    spec = TableSpec(name=Unknown("var.name has no value"), gsis=(Gsi(name="x", hash_key="h"),))
    assert apply_autoscaling(spec, AutoscalingIndex()) is spec


# --- pagination and errors via Stubber ---


SERVICE_ROLE = (
    "dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)


def _target(resource_id: str, dimension: str, lo: int, hi: int) -> dict[str, Any]:
    return {
        "ServiceNamespace": "dynamodb",
        "ResourceId": resource_id,
        "ScalableDimension": dimension,
        "MinCapacity": lo,
        "MaxCapacity": hi,
        "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{SERVICE_ROLE}",
        "CreationTime": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    }


def _policy(name: str, resource_id: str, dimension: str, value: float) -> dict[str, Any]:
    return {
        "PolicyARN": (
            f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:x:"
            f"resource/dynamodb/{resource_id}:policyName/{name}"
        ),
        "PolicyName": name,
        "ServiceNamespace": "dynamodb",
        "ResourceId": resource_id,
        "ScalableDimension": dimension,
        "PolicyType": "TargetTrackingScaling",
        "CreationTime": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": value,
            "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC[dimension]},
        },
    }


@pytest.fixture
def stubbed(aws_env: None, recorder: ApiCallRecorder) -> Iterator[tuple[Any, Stubber]]:
    client = AwsClients(recorder=recorder).autoscaling(REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_fetch_follows_next_token_on_both_listings(
    stubbed: tuple[Any, Stubber], recorder: ApiCallRecorder
) -> None:
    client, stubber = stubbed
    # each listing asks for the most a page may hold (the API reference: 50 targets, 10 policies)
    ns = {"ServiceNamespace": "dynamodb", "MaxResults": 50}
    stubber.add_response(
        "describe_scalable_targets",
        {"ScalableTargets": [_target("table/a", TABLE_READ, 1, 2)], "NextToken": "t1"},
        ns,
    )
    stubber.add_response(
        "describe_scalable_targets",
        {"ScalableTargets": [_target("table/a/index/g", INDEX_WRITE, 3, 4)]},
        {**ns, "NextToken": "t1"},
    )
    ns = {"ServiceNamespace": "dynamodb", "MaxResults": 10}
    stubber.add_response(
        "describe_scaling_policies",
        {"ScalingPolicies": [_policy("p1", "table/a", TABLE_READ, 40.0)], "NextToken": "p1"},
        ns,
    )
    stubber.add_response(
        "describe_scaling_policies",
        {
            "ScalingPolicies": [
                _policy("p2", "table/a/index/g", INDEX_WRITE, 55.5),
                # a second target-tracking policy on one dimension: lowest name wins, stably
                _policy("a-first", "table/a", TABLE_READ, 45.0),
            ]
        },
        {**ns, "NextToken": "p1"},
    )

    table, gsis = AutoscalingIndex.fetch(client).for_table("a")

    assert table == Autoscaling(read=ScalingTarget(1, 2, 45.0, metric=READ))
    assert gsis == {"g": Autoscaling(write=ScalingTarget(3, 4, 55.5, metric=WRITE))}
    assert recorder.snapshot() == {
        ("DescribeScalableTargets", "success"): 2,
        ("DescribeScalingPolicies", "success"): 2,
    }


@pytest.mark.parametrize(
    "malformed",
    [
        _target("table/a/index/g", TABLE_READ, 1, 2),  # index resource, table dimension
        _target("table/a", INDEX_READ, 1, 2),  # table resource, index dimension
        _target("table/a/extra", TABLE_READ, 1, 2),
    ],
    ids=["index_resource_table_dimension", "table_resource_index_dimension", "extra_part"],
)
def test_malformed_resource_ids_are_an_invalid_response_not_ignored(
    stubbed: tuple[Any, Stubber], malformed: dict[str, Any]
) -> None:
    """AWS registers no such target. Passed over (as they were), a garbled entry for table
    ``a`` read its autoscaling as absent: drift on a declared autoscaling, and on the capacity
    the autoscaler owns. The region's autoscaling is unresolved instead
    (tests/test_aws_responses.py has the other garbage: dimensions, namespaces, policy types)."""
    client, stubber = stubbed
    stubber.add_response(
        "describe_scalable_targets", {"ScalableTargets": [malformed, _target("table/a", TABLE_WRITE, 7, 8)]}
    )
    with pytest.raises(LiveReadError, match=r"ScalableTargets\[\]\.ResourceId") as caught:
        AutoscalingIndex.fetch(client)
    assert caught.value.code == "InvalidResponse"


def test_access_denied_on_listing_is_a_live_read_error(
    stubbed: tuple[Any, Stubber], recorder: ApiCallRecorder
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "describe_scalable_targets",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: application-autoscaling:DescribeScalableTargets",
    )
    with pytest.raises(LiveReadError) as caught:
        AutoscalingIndex.fetch(client)
    assert str(caught.value).startswith(
        "DescribeScalableTargets failed in us-east-1: AccessDeniedException: User is not authorized"
    )
    assert caught.value.table_name is None
    assert FAKE_SECRET not in str(caught.value)
    assert recorder.snapshot() == {("DescribeScalableTargets", "AccessDeniedException"): 1}


def test_repeated_next_token_is_an_error_not_a_hang(stubbed: tuple[Any, Stubber]) -> None:
    # moto's DescribeScalableTargets really does this past its second page.
    client, stubber = stubbed
    stubber.add_response("describe_scalable_targets", {"ScalableTargets": [], "NextToken": "49"})
    stubber.add_response("describe_scalable_targets", {"ScalableTargets": [], "NextToken": "49"})
    with pytest.raises(LiveReadError, match="DescribeScalableTargets failed in us-east-1: PaginationLoop"):
        AutoscalingIndex.fetch(client)


def test_a_policys_cooldowns_and_disable_scale_in_are_read(aas: Any, aws_clients: AwsClients) -> None:
    register(aas, "table/orders", TABLE_READ, 5, 20, 50.0)
    register(aas, "table/orders", TABLE_WRITE, 5, 20)
    aas.put_scaling_policy(
        PolicyName="write",
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension=TABLE_WRITE,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC[TABLE_WRITE]},
            "ScaleInCooldown": 120,
            "ScaleOutCooldown": 0,
            "DisableScaleIn": True,
        },
    )
    table, _ = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION)).for_table("orders")
    # defaults (0 s, not disabled; moto lists them, AWS may leave them out) read as None
    assert table.read == ScalingTarget(5, 20, 50.0, metric=READ)
    assert table.write == ScalingTarget(
        5, 20, 60.0, scale_in_cooldown=120, disable_scale_in=True, metric=WRITE
    )


def test_a_targets_suspended_state_is_read(aas: Any, aws_clients: AwsClients) -> None:
    register(aas, "table/orders", TABLE_READ, 5, 20, 50.0)
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension=TABLE_WRITE,
        MinCapacity=5,
        MaxCapacity=20,
        SuspendedState={"DynamicScalingOutSuspended": True, "ScheduledScalingSuspended": True},
    )
    table, _ = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION)).for_table("orders")
    assert table.read == ScalingTarget(5, 20, 50.0, metric=READ)  # nothing suspended: None
    assert table.write == ScalingTarget(
        5, 20, None, suspended_state=frozenset({"dynamic_scaling_out", "scheduled_scaling"})
    )


def test_a_tables_autoscaling_is_found_without_walking_every_target_of_the_region() -> None:
    """Each table's lookup walked every scalable target of the region: targets x tables, ~2 ms
    a table at the 50,000-target cap. Counted, not timed: once the index is built, looking up
    tables never walks the region's targets."""

    class Walks(dict[Any, ScalingTarget]):
        count = 0

        def __iter__(self) -> Iterator[Any]:
            Walks.count += 1
            return super().__iter__()

    targets = Walks({(f"t{i}", None, "read"): ScalingTarget(1, 2, 50.0) for i in range(1_000)})
    targets[("orders", "by-day", "write")] = ScalingTarget(3, 9, 70.0)
    targets[("orders", None, "read")] = ScalingTarget(4, 8, 60.0)
    index = AutoscalingIndex(targets)
    Walks.count = 0
    assert index.for_table("orders") == (
        Autoscaling(read=ScalingTarget(4, 8, 60.0)),
        {"by-day": Autoscaling(write=ScalingTarget(3, 9, 70.0))},
    )
    assert index.for_table("t7") == (Autoscaling(read=ScalingTarget(1, 2, 50.0)), {})
    assert index.for_table("absent") == (Autoscaling(), {})
    assert Walks.count == 0
