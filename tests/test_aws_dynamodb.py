"""Live side of one table: moto for behaviour, botocore's Stubber for what moto cannot do.

Nothing here reaches the network: moto intercepts in-process, Stubber answers before a request
is built, and the transport-failure tests talk to sockets on 127.0.0.1 opened by the test.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import ParamValidationDecorator
from conftest import FAKE_ACCESS_KEY, FAKE_SECRET

from driftwatch.aws.autoscaling import AutoscalingIndex, apply_autoscaling
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.aws.dynamodb import LiveReadError, read_table, scrub
from driftwatch.spec import Autoscaling, Gsi, Lsi, ScalingTarget, Sse, Stream, TableSpec, Ttl

REGION = "us-east-1"
ACCOUNT = "123456789012"
ALLOWED_OPERATIONS = {
    "DescribeTable",
    "DescribeTimeToLive",
    "DescribeContinuousBackups",
    "ListTagsOfResource",
    "DescribeScalableTargets",
    "DescribeScalingPolicies",
}


# --- fixtures (AWS only; kept local so parallel work on tests/conftest.py cannot collide) ---


@pytest.fixture
def ddb(mocked_aws: None) -> Any:
    """A plain moto client for arranging tables (not recorded)."""
    return boto3.client("dynamodb", region_name=REGION)


def _key(name: str, kind: str) -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def _attr(name: str, type_: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": type_}


def create_full_table(ddb: Any, name: str = "acme-prod-orders") -> str:
    """A PROVISIONED table using every attribute driftwatch compares; returns the KMS key ARN."""
    kms_key_arn: str = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    ddb.create_table(
        TableName=name,
        KeySchema=[_key("h", "HASH"), _key("r", "RANGE")],
        AttributeDefinitions=[
            _attr("h", "S"),
            _attr("r", "N"),
            _attr("tenant_id", "S"),
            _attr("timestamp", "N"),
            _attr("created", "N"),
        ],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "tenant-index",
                "KeySchema": [_key("tenant_id", "HASH"), _key("timestamp", "RANGE")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["b", "a"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            },
            {
                "IndexName": "a-keys-only",
                "KeySchema": [_key("tenant_id", "HASH")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-created",
                "KeySchema": [_key("h", "HASH"), _key("created", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn},
        Tags=[{"Key": "Team", "Value": "obs"}, {"Key": "Name", "Value": name}],
        DeletionProtectionEnabled=True,
    )
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return kms_key_arn


def create_simple_table(ddb: Any, name: str, **extra: Any) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[_key("id", "HASH")],
        AttributeDefinitions=[_attr("id", "S")],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


# --- mapping, against moto ---


def test_full_table_maps_every_field(ddb: Any, aws_clients: AwsClients) -> None:
    kms_key_arn = create_full_table(ddb)

    spec = read_table(aws_clients.dynamodb(REGION), "acme-prod-orders", REGION)

    assert spec == TableSpec(
        name="acme-prod-orders",
        region=REGION,
        hash_key="h",
        hash_key_type="S",
        range_key="r",
        range_key_type="N",
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=6,
        table_class="STANDARD",  # moto never returns TableClassSummary: absent -> STANDARD
        ttl=Ttl(enabled=True, attribute="expires_at"),
        point_in_time_recovery=True,
        sse=Sse(enabled=True, kms_key_arn=kms_key_arn),
        stream=Stream(enabled=True, view_type="NEW_AND_OLD_IMAGES"),
        deletion_protection=True,
        gsis=(
            Gsi(
                name="a-keys-only",
                hash_key="tenant_id",
                range_key=None,
                projection_type="KEYS_ONLY",
                non_key_attributes=frozenset(),
                read_capacity=1,
                write_capacity=2,
            ),
            Gsi(
                name="tenant-index",
                hash_key="tenant_id",
                range_key="timestamp",
                projection_type="INCLUDE",
                non_key_attributes=frozenset({"a", "b"}),
                read_capacity=3,
                write_capacity=4,
            ),
        ),
        lsis=(Lsi(name="by-created", range_key="created", projection_type="KEYS_ONLY"),),
        replicas=frozenset(),
        replica_status={},
        index_status={"a-keys-only": "ACTIVE", "tenant-index": "ACTIVE"},
        tags={"Team": "obs", "Name": "acme-prod-orders"},
        status="ACTIVE",
        created_at=spec.created_at,
    )
    assert spec.created_at is not None


def test_minimal_pay_per_request_table_gets_aws_defaults(ddb: Any, aws_clients: AwsClients) -> None:
    ddb.create_table(
        TableName="plain",
        KeySchema=[_key("id", "HASH")],
        AttributeDefinitions=[_attr("id", "B"), _attr("g", "S")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "g-index",
                "KeySchema": [_key("g", "HASH")],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )

    spec = read_table(aws_clients.dynamodb(REGION), "plain", REGION)

    assert spec == TableSpec(
        name="plain",
        region=REGION,
        hash_key="id",
        hash_key_type="B",
        billing_mode="PAY_PER_REQUEST",
        read_capacity=None,
        write_capacity=None,
        ttl=Ttl(enabled=False, attribute=None),
        point_in_time_recovery=False,
        sse=Sse(enabled=False),
        stream=Stream(enabled=False, view_type=None),
        deletion_protection=False,
        gsis=(Gsi(name="g-index", hash_key="g", projection_type="ALL"),),
        lsis=(),
        replica_status={},
        index_status={"g-index": "ACTIVE"},
        tags={},
        status="ACTIVE",
        created_at=spec.created_at,
    )


def test_switch_to_pay_per_request_drops_stale_throughput(ddb: Any, aws_clients: AwsClients) -> None:
    # moto gap: after the switch DescribeTable still reports the old 5/6 throughput.
    ddb.create_table(
        TableName="switched",
        KeySchema=[_key("id", "HASH")],
        AttributeDefinitions=[_attr("id", "S")],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
    )
    ddb.update_table(TableName="switched", BillingMode="PAY_PER_REQUEST")
    assert (
        ddb.describe_table(TableName="switched")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    )

    spec = read_table(aws_clients.dynamodb(REGION), "switched", REGION)

    assert spec is not None
    assert (spec.billing_mode, spec.read_capacity, spec.write_capacity) == ("PAY_PER_REQUEST", None, None)


def test_duplicate_tag_keys_from_moto_last_value_wins(ddb: Any, aws_clients: AwsClients) -> None:
    create_full_table(ddb)
    arn = ddb.describe_table(TableName="acme-prod-orders")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Team", "Value": "platform"}])
    raw = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert [t["Value"] for t in raw if t["Key"] == "Team"] == ["obs", "platform"]  # the moto gap

    spec = read_table(aws_clients.dynamodb(REGION), "acme-prod-orders", REGION)

    assert spec is not None
    assert spec.tags == {"Team": "platform", "Name": "acme-prod-orders"}


def test_aws_reserved_tags_are_kept_in_the_live_spec(ddb: Any, aws_clients: AwsClients) -> None:
    ddb.create_table(
        TableName="cfn",
        KeySchema=[_key("id", "HASH")],
        AttributeDefinitions=[_attr("id", "S")],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "s"}],
    )
    spec = read_table(aws_clients.dynamodb(REGION), "cfn", REGION)
    assert spec is not None and spec.tags == {"aws:cloudformation:stack-name": "s"}


def test_missing_table_is_none_not_an_error(aws_clients: AwsClients, recorder: ApiCallRecorder) -> None:
    assert read_table(aws_clients.dynamodb(REGION), "nope", REGION) is None
    assert recorder.snapshot() == {("DescribeTable", "ResourceNotFoundException"): 1}


def test_table_deleted_between_describe_and_ttl_is_none(ddb: Any, aws_clients: AwsClients) -> None:
    ddb.create_table(
        TableName="racy",
        KeySchema=[_key("id", "HASH")],
        AttributeDefinitions=[_attr("id", "S")],
        BillingMode="PAY_PER_REQUEST",
    )
    client = aws_clients.dynamodb(REGION)

    def delete_first(**_: Any) -> None:
        ddb.delete_table(TableName="racy")

    client.meta.events.register("before-call.dynamodb.DescribeTimeToLive", delete_first)
    try:
        assert read_table(client, "racy", REGION) is None
    finally:
        client.meta.events.unregister("before-call.dynamodb.DescribeTimeToLive", delete_first)


def test_reads_use_only_the_six_allowed_operations(
    ddb: Any, aws_clients: AwsClients, recorder: ApiCallRecorder
) -> None:
    create_full_table(ddb)
    aas = boto3.client("application-autoscaling", region_name=REGION)
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/acme-prod-orders",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=5,
        MaxCapacity=20,
    )

    spec = read_table(aws_clients.dynamodb(REGION), "acme-prod-orders", REGION)
    assert spec is not None
    index = AutoscalingIndex.fetch(aws_clients.autoscaling(REGION))
    spec = apply_autoscaling(spec, index)
    assert read_table(aws_clients.dynamodb(REGION), "missing-one", REGION) is None

    assert recorder.operations() == ALLOWED_OPERATIONS
    assert spec.autoscaling == Autoscaling(read=ScalingTarget(min=5, max=20, target=None))


# --- AWS behaviour moto lacks, via botocore's Stubber (validated against the service model) ---

ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"


def describe_table_response(**overrides: Any) -> dict[str, Any]:
    """A DescribeTable response shaped like real AWS output for an on-demand global table."""
    table: dict[str, Any] = {
        "TableName": "orders",
        "TableArn": ARN,
        "TableId": "4f2c7e1a-0000-4000-8000-000000000000",
        "TableStatus": "ACTIVE",
        "CreationDateTime": dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
        "AttributeDefinitions": [_attr("pk", "S"), _attr("sk", "S")],
        "KeySchema": [_key("pk", "HASH"), _key("sk", "RANGE")],
        # (real AWS also sends NumberOfDecreasesToday: 0, which Stubber's validator rejects)
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        "BillingModeSummary": {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
        },
        "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "GlobalTableVersion": "2019.11.21",
        "Replicas": [
            {"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"},
            {"RegionName": "ap-southeast-2", "ReplicaStatus": "ACTIVE"},
        ],
        "SSEDescription": {
            "Status": "UPDATING",
            "SSEType": "KMS",
            "KMSMasterKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
        "DeletionProtectionEnabled": False,
    }
    table.update(overrides)
    return {"Table": table}


def stub_reads(
    stubber: Stubber,
    table: dict[str, Any] | None = None,
    ttl: dict[str, Any] | None = None,
    pitr: str = "DISABLED",
    tag_pages: list[list[dict[str, str]]] | None = None,
) -> None:
    name = {"TableName": "orders"}
    stubber.add_response("describe_table", table or describe_table_response(), name)
    stubber.add_response(
        "describe_time_to_live", {"TimeToLiveDescription": ttl or {"TimeToLiveStatus": "DISABLED"}}, name
    )
    stubber.add_response(
        "describe_continuous_backups",
        {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr},
            }
        },
        name,
    )
    pages = tag_pages if tag_pages is not None else [[]]
    for i, tags in enumerate(pages):
        response: dict[str, Any] = {"Tags": tags}
        params: dict[str, Any] = {"ResourceArn": ARN}
        if i + 1 < len(pages):
            response["NextToken"] = f"token-{i + 1}"
        if i > 0:
            params["NextToken"] = f"token-{i}"
        stubber.add_response("list_tags_of_resource", response, params)


@pytest.fixture
def stubbed(aws_env: None, recorder: ApiCallRecorder) -> Iterator[tuple[Any, Stubber]]:
    client = AwsClients(recorder=recorder).dynamodb(REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_table_class_replicas_and_sse_updating_from_realistic_response(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    stub_reads(stubber, ttl={"TimeToLiveStatus": "ENABLING", "AttributeName": "ttl"}, pitr="ENABLED")

    spec = read_table(client, "orders", REGION)

    assert spec is not None
    assert spec.table_class == "STANDARD_INFREQUENT_ACCESS"
    assert spec.replicas == frozenset({"eu-west-1", "ap-southeast-2"})
    assert spec.sse == Sse(
        enabled=True, kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert spec.ttl == Ttl(enabled=True, attribute="ttl")
    assert spec.point_in_time_recovery is True
    assert (spec.hash_key, spec.range_key, spec.range_key_type) == ("pk", "sk", "S")
    assert (spec.billing_mode, spec.read_capacity, spec.write_capacity) == ("PAY_PER_REQUEST", None, None)


def test_own_region_is_not_a_replica(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    replicas = [{"RegionName": REGION}, {"RegionName": "eu-west-1"}]
    stub_reads(stubber, table=describe_table_response(Replicas=replicas))
    spec = read_table(client, "orders", REGION)
    assert spec is not None and spec.replicas == frozenset({"eu-west-1"})


@pytest.mark.parametrize(
    ("ttl_status", "enabled"),
    [("ENABLED", True), ("ENABLING", True), ("DISABLING", False), ("DISABLED", False)],
)
def test_ttl_transitional_states(stubbed: tuple[Any, Stubber], ttl_status: str, enabled: bool) -> None:
    client, stubber = stubbed
    stub_reads(stubber, ttl={"TimeToLiveStatus": ttl_status, "AttributeName": "expires_at"})
    spec = read_table(client, "orders", REGION)
    assert spec is not None and spec.ttl == Ttl(enabled=enabled, attribute="expires_at")


KEY_ARN = f"arn:aws:kms:{REGION}:123456789012:key/k"


@pytest.mark.parametrize(
    ("sse", "expected"),
    [
        ({"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY_ARN}, Sse(True, KEY_ARN)),
        ({"Status": "ENABLING", "SSEType": "KMS", "KMSMasterKeyArn": KEY_ARN}, Sse(True, KEY_ARN)),
        ({"Status": "DISABLED"}, Sse(False)),
        (None, Sse(False)),
    ],
)
def test_sse_states(stubbed: tuple[Any, Stubber], sse: dict[str, str] | None, expected: Sse) -> None:
    client, stubber = stubbed
    table = describe_table_response(SSEDescription=sse)
    if sse is None:
        del table["Table"]["SSEDescription"]
    stub_reads(stubber, table=table)
    spec = read_table(client, "orders", REGION)
    assert spec is not None and spec.sse == expected


def test_absent_summaries_mean_provisioned_and_standard(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    table = describe_table_response(ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 8})
    del table["Table"]["BillingModeSummary"], table["Table"]["TableClassSummary"]
    stub_reads(stubber, table=table)
    spec = read_table(client, "orders", REGION)
    assert spec is not None
    assert (spec.billing_mode, spec.table_class, spec.read_capacity, spec.write_capacity) == (
        "PROVISIONED",
        "STANDARD",
        7,
        8,
    )


def test_tags_follow_next_token_across_pages_last_value_wins(
    stubbed: tuple[Any, Stubber], recorder: ApiCallRecorder
) -> None:
    client, stubber = stubbed
    page1 = [{"Key": f"k{i}", "Value": str(i)} for i in range(50)]
    page2 = [{"Key": "k0", "Value": "overwritten"}, {"Key": "Team", "Value": "obs"}]
    page3 = [{"Key": "last", "Value": "page"}]
    stub_reads(stubber, tag_pages=[page1, page2, page3])

    spec = read_table(client, "orders", REGION)

    assert spec is not None and isinstance(spec.tags, dict)
    assert len(spec.tags) == 52
    assert spec.tags["k0"] == "overwritten"
    assert spec.tags["last"] == "page"
    assert recorder.snapshot()[("ListTagsOfResource", "success")] == 3


def test_tag_pagination_loop_is_an_error_not_a_hang(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stub_reads(stubber, tag_pages=[])
    for _ in range(2):
        stubber.add_response("list_tags_of_resource", {"Tags": [], "NextToken": "same"})
    with pytest.raises(LiveReadError, match="PaginationLoop"):
        read_table(client, "orders", REGION)


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("describe_time_to_live", "ResourceNotFoundException"),
        ("describe_continuous_backups", "TableNotFoundException"),
        ("list_tags_of_resource", "ResourceNotFoundException"),
    ],
)
def test_table_deleted_mid_read_is_none(stubbed: tuple[Any, Stubber], operation: str, code: str) -> None:
    client, stubber = stubbed
    order = [
        "describe_table",
        "describe_time_to_live",
        "describe_continuous_backups",
        "list_tags_of_resource",
    ]
    full = {
        "describe_table": describe_table_response(),
        "describe_time_to_live": {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}},
        "describe_continuous_backups": {
            "ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}
        },
    }
    for op in order:
        if op == operation:
            stubber.add_client_error(
                op, service_error_code=code, service_message="Requested resource not found"
            )
            break
        stubber.add_response(op, full[op])
    # DescribeTable, asked again, agrees that the table is gone: only then is it missing.
    stubber.add_client_error("describe_table", service_error_code="ResourceNotFoundException")

    assert read_table(client, "orders", REGION) is None
    stubber.assert_no_pending_responses()


# --- errors ---


def test_access_denied_names_operation_and_code_and_hides_secrets(
    stubbed: tuple[Any, Stubber], recorder: ApiCallRecorder
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "describe_table",
        service_error_code="AccessDeniedException",
        service_message=(
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/ro/driftwatch (access key {FAKE_ACCESS_KEY}) is not "
            f"authorized to perform: dynamodb:DescribeTable on resource: {ARN}"
        ),
        http_status_code=400,
    )

    with pytest.raises(LiveReadError) as caught:
        read_table(client, "orders", REGION)

    message = str(caught.value)
    assert "DescribeTable" in message
    assert "AccessDeniedException" in message
    assert "'orders'" in message and REGION in message
    assert "not authorized to perform: dynamodb:DescribeTable" in message
    assert FAKE_ACCESS_KEY not in message and FAKE_SECRET not in message
    assert caught.value.code == "AccessDeniedException"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert recorder.snapshot() == {("DescribeTable", "AccessDeniedException"): 1}


def test_failure_after_describe_names_the_failing_operation(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_table", describe_table_response())
    stubber.add_client_error(
        "describe_time_to_live",
        service_error_code="ThrottlingException",
        service_message="Rate of requests exceeds the allowed throughput.",
    )
    with pytest.raises(LiveReadError, match=r"^DescribeTimeToLive failed for table 'orders' in us-east-1: "):
        read_table(client, "orders", REGION)


def test_signature_error_echoing_the_canonical_request_is_scrubbed() -> None:
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x" * 80
    message = (
        "The request signature we calculated does not match the signature you provided. "
        f"The Canonical String for this request should have been 'POST / x-amz-security-token:{token}'"
    )
    assert token not in scrub(message)
    assert scrub(f"key {FAKE_ACCESS_KEY} secret {FAKE_SECRET}") == "key *** secret ***"
    assert len(scrub("x " * 1000)) <= 300


def _clients_at(endpoint: str, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder) -> AwsClients:
    # AWS_ENDPOINT_URL is honoured by boto3 itself: no driftwatch code path for it.
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    return AwsClients(max_attempts=1, connect_timeout=0.5, read_timeout=0.3, recorder=recorder)


def test_unreachable_endpoint_is_a_live_read_error(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    # Bound and never listening: connecting is refused, and the port stays this test's (a port
    # closed again could be handed to another test's server, which would then answer).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        clients = _clients_at(f"http://127.0.0.1:{s.getsockname()[1]}", monkeypatch, recorder)

        with pytest.raises(LiveReadError) as caught:
            read_table(clients.dynamodb(REGION), "orders", REGION)

    assert caught.value.code == "ConnectionError"
    assert str(caught.value).startswith(
        "DescribeTable failed for table 'orders' in us-east-1: ConnectionError"
    )
    assert FAKE_SECRET not in str(caught.value)
    assert recorder.snapshot() == {("DescribeTable", "ConnectionError"): 1}


def test_read_timeout_is_a_live_read_error(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, recorder: ApiCallRecorder
) -> None:
    with socket.socket() as server:  # accepts (kernel backlog) but never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        clients = _clients_at(f"http://127.0.0.1:{server.getsockname()[1]}", monkeypatch, recorder)

        with pytest.raises(LiveReadError) as caught:
            read_table(clients.dynamodb(REGION), "orders", REGION)

    assert caught.value.code == "Timeout"
    assert recorder.snapshot() == {("DescribeTable", "Timeout"): 1}


# --- AwsClients and ApiCallRecorder ---


def test_clients_are_configured_and_cached_per_service_and_region(aws_env: None) -> None:
    clients = AwsClients(max_attempts=7, connect_timeout=2, read_timeout=9, max_pool_connections=32)

    east = clients.dynamodb(REGION)
    config: Any = east.meta.config  # botocore-stubs does not declare the option attributes
    # The default retry mode, limiter, is botocore's standard mode with a throttling backoff of
    # driftwatch's own (tests/test_aws_throttling.py).
    assert config.retries == {"mode": "standard", "total_max_attempts": 7}
    assert not isinstance(east._serializer, ParamValidationDecorator)  # validation is off
    assert config.user_agent.startswith("driftwatch/")
    adaptive: Any = AwsClients(retry_mode="adaptive").dynamodb(REGION).meta.config
    assert adaptive.retries == {"mode": "adaptive", "total_max_attempts": 5}
    assert (config.connect_timeout, config.read_timeout, config.max_pool_connections) == (2, 9, 32)
    assert clients.dynamodb(REGION) is east
    assert clients.dynamodb("eu-west-1") is not east
    assert clients.dynamodb("eu-west-1").meta.region_name == "eu-west-1"
    assert clients.autoscaling(REGION).meta.service_model.service_name == "application-autoscaling"
    assert clients.autoscaling(REGION) is clients.autoscaling(REGION)


def test_max_attempts_counts_the_first_attempt(aws_env: None) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AwsClients(max_attempts=0)


def test_role_arn_gets_its_own_client_with_assumed_credentials(
    aws_clients: AwsClients, ddb: Any, recorder: ApiCallRecorder
) -> None:
    create_simple_table(ddb, "t")
    role = f"arn:aws:iam::{ACCOUNT}:role/driftwatch-read-only"
    client = aws_clients.dynamodb(REGION, role_arn=role)
    assert client is not aws_clients.dynamodb(REGION)
    assert client is aws_clients.dynamodb(REGION, role_arn=role)
    access_keys: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
        access_keys.append(authorization.split("Credential=", 1)[1].split("/", 1)[0])

    client.meta.events.register("request-created.dynamodb", capture)

    assert read_table(client, "t", REGION) is not None
    assert read_table(client, "t", REGION) is not None

    assert access_keys and all(k.startswith("ASIA") and k != FAKE_ACCESS_KEY for k in access_keys)
    assert recorder.snapshot()[("AssumeRole", "success")] == 1  # refreshed only when expiring


def test_recorder_counts_success_and_error_outcomes(
    ddb: Any, aws_clients: AwsClients, recorder: ApiCallRecorder
) -> None:
    create_simple_table(ddb, "t")
    client = aws_clients.dynamodb(REGION)
    client.describe_table(TableName="t")
    client.describe_table(TableName="t")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName="nope")

    assert recorder.snapshot() == {
        ("DescribeTable", "success"): 2,
        ("DescribeTable", "ResourceNotFoundException"): 1,
    }
    assert recorder.operations() == {"DescribeTable"}
    snapshot = recorder.snapshot()
    client.describe_table(TableName="t")
    assert snapshot[("DescribeTable", "success")] == 2  # snapshots are copies
    recorder.reset()
    assert recorder.snapshot() == {}


def test_recorder_is_exact_under_concurrent_use(
    ddb: Any, aws_clients: AwsClients, recorder: ApiCallRecorder
) -> None:
    create_simple_table(ddb, "t")
    client = aws_clients.dynamodb(REGION)  # one client shared by all workers, as in a scan

    def work(i: int) -> None:
        read_table(client, "t" if i % 2 else "nope", REGION)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(40)))

    assert recorder.snapshot() == {
        ("DescribeTable", "success"): 20,
        ("DescribeTable", "ResourceNotFoundException"): 20,
        ("DescribeTimeToLive", "success"): 20,
        ("DescribeContinuousBackups", "success"): 20,
        ("ListTagsOfResource", "success"): 20,
    }
