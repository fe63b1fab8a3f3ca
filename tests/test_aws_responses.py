"""A broken answer served with HTTP 200 is an error for that table, never AWS defaults.

Each body below goes through botocore's real response parsing: a ``before-send`` handler
answers the HTTP request with the raw bytes, exactly as a misbehaving endpoint or proxy would,
so what driftwatch sees is what boto3 really makes of a truncated body, ``{}`` or an HTML page
(an empty response apart from ``ResponseMetadata``, with no exception).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

import driftwatch.aws.autoscaling
import driftwatch.aws.dynamodb
from driftwatch.aws.autoscaling import PAGE_SIZES, AutoscalingIndex
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.aws.dynamodb import LiveReadError, list_table_names, read_table
from driftwatch.aws.responses import INVALID_RESPONSE
from driftwatch.spec import Unknown

REGION = "us-east-1"
TABLE = "orders"
ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}"

# Valid wire bodies (timestamps are epoch numbers on the wire). Every feature is ON, so a
# broken answer read as "defaults" would be drift on each of them.
VALID: dict[str, dict[str, Any]] = {
    "DescribeTable": {
        "Table": {
            "TableName": TABLE,
            "TableArn": ARN,
            "TableStatus": "ACTIVE",
            "CreationDateTime": 1735776000,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            "DeletionProtectionEnabled": True,
        }
    },
    "DescribeTimeToLive": {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}},
    "DescribeContinuousBackups": {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"},
        }
    },
    "ListTagsOfResource": {"Tags": [{"Key": "Team", "Value": "observability"}]},
    "ListTables": {"TableNames": [TABLE]},
    "DescribeScalableTargets": {
        "ScalableTargets": [
            {
                "ServiceNamespace": "dynamodb",
                "ResourceId": f"table/{TABLE}",
                "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
                "MinCapacity": 5,
                "MaxCapacity": 50,
                "RoleARN": "arn:aws:iam::123456789012:role/scaling",
                "CreationTime": 1735776000,
            }
        ]
    },
    "DescribeScalingPolicies": {
        "ScalingPolicies": [
            {
                "PolicyARN": "arn:aws:autoscaling:policy",
                "PolicyName": "read",
                "ServiceNamespace": "dynamodb",
                "ResourceId": f"table/{TABLE}",
                "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0},
                "CreationTime": 1735776000,
            }
        ]
    },
}

TABLE_BODY = VALID["DescribeTable"]["Table"]
KMS_KEY = f"arn:aws:kms:{REGION}:123456789012:key/k"

BROKEN = {
    "null": lambda _: "null",
    "list": lambda _: "[]",
    "not_utf8": lambda _: "\udcff\udcfe",
    "truncated": lambda operation: json.dumps(VALID[operation])[: len(json.dumps(VALID[operation])) // 2],
    "empty_object": lambda _: "{}",
    "non_json": lambda _: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    # 200 KB, far under the response limit: json.loads raised RecursionError, which escaped as an
    # "unexpected error" of the table, counted as outcome RecursionError
    "nested_deeply": lambda _: "[" * 100_000 + "]" * 100_000,
}
TABLE_READS = ("DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource")
LISTINGS = ("DescribeScalableTargets", "DescribeScalingPolicies")


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _encoded(body: str) -> bytes:
    return body.encode("utf-8", "surrogateescape")  # "\udcff" -> the raw byte 0xff


NOT_FOUND_MESSAGE = "Requested resource not found"


class Endpoint:
    """Answers every call with HTTP 200 and its valid body, except ``broken`` -> ``body``."""

    def __init__(self) -> None:
        self.broken: dict[str, str | Callable[[], str]] = {}
        self.headers: dict[str, dict[str, str]] = {}  # extra response headers, by operation
        self.errors: dict[str, tuple[int, str, str]] = {}  # operation -> (HTTP status, code, message)
        self.sent: list[tuple[str, Any]] = []  # (operation, request body as JSON), every attempt

    def __call__(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
        operation = event_name.rsplit(".", 1)[-1]
        self.sent.append((operation, json.loads(request.body or b"{}")))
        if operation in self.errors:  # refused, as a JSON service refuses
            status, code, message = self.errors[operation]
            error = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
            headers = HTTPHeaders()
            headers["Content-Type"] = "application/x-amz-json-1.0"
            raw = json.dumps(error) if code else message  # no code: the message is the body
            if status in (301, 302, 307, 308):
                headers["Location"] = "https://proxy.example/login"
            return AWSResponse(request.url, status, headers, _Raw(raw.encode()))
        body = self.broken.get(operation, json.dumps(VALID[operation]))
        if callable(body):  # a body made afresh for each call
            body = body()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        for name, value in self.headers.get(operation, {}).items():
            headers[name] = value
        return AWSResponse(request.url, 200, headers, _Raw(_encoded(body)))


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[AwsClients, Endpoint]]:
    """Clients built once for the module (building them is most of a test's cost), with fake
    credentials and no AWS configuration of the machine's; nothing leaves the process."""
    endpoint = Endpoint()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent/driftwatch-test-aws-config")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftwatch-test-aws-credentials")
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        aws = AwsClients(recorder=ApiCallRecorder())
        aws.dynamodb(REGION).meta.events.register("before-send", endpoint)
        aws.autoscaling(REGION).meta.events.register("before-send", endpoint)
        yield aws, endpoint


@pytest.fixture
def endpoint(shared: tuple[AwsClients, Endpoint]) -> Endpoint:
    shared[1].broken.clear()
    shared[1].headers.clear()
    shared[1].errors.clear()
    shared[1].sent.clear()
    assert shared[0].recorder is not None
    shared[0].recorder.reset()
    return shared[1]


def counted(clients: AwsClients) -> dict[tuple[str, str], int]:
    assert clients.recorder is not None
    return clients.recorder.snapshot()


@pytest.fixture
def clients(shared: tuple[AwsClients, Endpoint], endpoint: Endpoint) -> AwsClients:
    return shared[0]


def test_valid_answers_give_the_table_with_every_feature_on(clients: AwsClients) -> None:
    """The control: the same endpoint with nothing broken reads the table as it is."""
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert spec is not None
    assert spec.ttl.enabled and spec.point_in_time_recovery and spec.deletion_protection
    assert spec.tags == {"Team": "observability"}
    index = AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert index.for_table(TABLE)[0].read is not None
    assert list_table_names(clients.dynamodb(REGION), REGION) == [TABLE]
    operations = (*TABLE_READS, *LISTINGS, "ListTables")
    assert counted(clients) == {(operation, "success"): 1 for operation in operations}


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.parametrize("operation", TABLE_READS)
def test_a_broken_table_read_is_an_invalid_response_error(
    clients: AwsClients, endpoint: Endpoint, operation: str, kind: str
) -> None:
    endpoint.broken[operation] = BROKEN[kind](operation)
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert caught.value.code == INVALID_RESPONSE
    assert caught.value.operation == operation
    expected = f"{operation} failed for table {TABLE!r} in {REGION}: InvalidResponse"
    assert str(caught.value).startswith(expected)
    # The metric says what the scan says: the broken answer is an InvalidResponse, not a
    # success, and the reads before it (answered well) are successes.
    calls = counted(clients)
    assert calls[(operation, INVALID_RESPONSE)] == 1
    assert (operation, "success") not in calls
    before = TABLE_READS[: TABLE_READS.index(operation)]
    successes = {key: n for key, n in calls.items() if key[1] == "success"}
    assert successes == {(op, "success"): 1 for op in before}


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.parametrize("operation", LISTINGS)
def test_a_broken_autoscaling_listing_is_an_invalid_response_error(
    clients: AwsClients, endpoint: Endpoint, operation: str, kind: str
) -> None:
    endpoint.broken[operation] = BROKEN[kind](operation)
    with pytest.raises(LiveReadError) as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)
    assert counted(clients).get((operation, INVALID_RESPONSE)) == 1
    assert (operation, "success") not in counted(clients)


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_table_listing_is_an_error_not_an_empty_account(
    clients: AwsClients, endpoint: Endpoint, kind: str
) -> None:
    endpoint.broken["ListTables"] = BROKEN[kind]("ListTables")
    with pytest.raises(LiveReadError) as caught:
        list_table_names(clients.dynamodb(REGION), REGION)
    assert caught.value.code == INVALID_RESPONSE
    assert counted(clients) == {("ListTables", INVALID_RESPONSE): 1}


@pytest.mark.parametrize(
    ("names", "named"),
    [
        ([f"t{i:03}" for i in range(101)], "TableNames (more than 100"),
        (["t" * 256], "TableNames[] (not 3 to 255 characters"),
        (["t"], "TableNames[] (not 3 to 255 characters"),
    ],
    ids=["over_a_page", "name_too_long", "name_too_short"],
)
def test_a_table_listing_page_larger_than_aws_makes_is_an_error(
    clients: AwsClients, endpoint: Endpoint, names: list[str], named: str
) -> None:
    """ListTables answers at most 100 names a page, each of 3 to 255 characters. A listing
    holds every page's names (up to MAX_PAGES), so pages of whatever size they came in (16 MiB
    each) held gigabytes; within AWS's bounds it holds 25 MB at most."""
    endpoint.broken["ListTables"] = json.dumps({"TableNames": names})
    with pytest.raises(LiveReadError, match=re.escape(named)) as caught:
        list_table_names(clients.dynamodb(REGION), REGION)
    assert caught.value.code == INVALID_RESPONSE


@pytest.mark.parametrize(
    ("operation", "body", "named"),
    [
        ("DescribeTable", {"Table": {**TABLE_BODY, "TableName": "other"}}, "TableName"),
        ("DescribeTable", {"Table": {**TABLE_BODY, "KeySchema": []}}, "HASH key"),
        ("DescribeTable", {"Table": {**TABLE_BODY, "ProvisionedThroughput": {}}}, "ReadCapacityUnits"),
        ("DescribeTimeToLive", {"TimeToLiveDescription": {}}, "TimeToLiveStatus"),
        ("DescribeContinuousBackups", {"ContinuousBackupsDescription": {}}, "ContinuousBackupsStatus"),
        ("ListTagsOfResource", {"Tags": [{"Key": "Team"}]}, "Tags[].Value"),
    ],
)
def test_a_partial_answer_names_the_missing_field(
    clients: AwsClients, endpoint: Endpoint, operation: str, body: dict[str, Any], named: str
) -> None:
    endpoint.broken[operation] = json.dumps(body)
    with pytest.raises(LiveReadError, match=re.escape(named)) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert caught.value.operation == operation


def test_absence_documented_as_off_still_reads_as_off(clients: AwsClients, endpoint: Endpoint) -> None:
    """Where the API reference says absence means off, a minimal answer is a valid table:
    no BillingModeSummary (PROVISIONED), no PointInTimeRecoveryDescription (PITR not enabled),
    no SSEDescription / StreamSpecification / indexes (none)."""
    endpoint.broken["DescribeContinuousBackups"] = json.dumps(
        {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}}
    )
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert spec is not None
    assert (spec.billing_mode, spec.point_in_time_recovery, spec.sse.enabled, spec.stream.enabled) == (
        "PROVISIONED",
        False,
        False,
        False,
    )
    assert spec.gsis == ()


def _gsi(**changes: Any) -> dict[str, Any]:
    index = {
        "IndexName": "by-tenant",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    }
    return {**index, **changes}


def _table(**changes: Any) -> str:
    return json.dumps({"Table": {**TABLE_BODY, **changes}})


# Answers that parse, carry every required field, and hold a value the API reference does not
# allow. Each used to be read as a value: an unknown status as "off" (a false alarm where git
# says on), "false" as true (drift hidden), "5" or 5.5 as a capacity that differs from 5, a GSI
# without its name as a GSI named "" (the declared one "missing"), a NextToken that is not a
# string as the last page (every later tag "removed"), another table's ARN as this table's (its
# tags read for this one's). A key schema element without KeyType
# and a timestamp botocore cannot read escaped as unexpected exceptions, counted as successes
# or as a ValueError outcome.
GARBAGE = {
    "ttl_status_unknown": (
        "DescribeTimeToLive",
        json.dumps({"TimeToLiveDescription": {"TimeToLiveStatus": "PAUSED", "AttributeName": "ttl"}}),
        "TimeToLiveStatus",
    ),
    "pitr_status_unknown": (
        "DescribeContinuousBackups",
        json.dumps(
            {
                "ContinuousBackupsDescription": {
                    "ContinuousBackupsStatus": "ENABLED",
                    "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "Enabled"},
                }
            }
        ),
        "PointInTimeRecoveryStatus",
    ),
    "sse_status_unknown": ("DescribeTable", _table(SSEDescription={"Status": "ON"}), "SSEDescription.Status"),
    "billing_mode_unknown": (
        "DescribeTable",
        _table(BillingModeSummary={"BillingMode": "ON_DEMAND"}),
        "BillingModeSummary.BillingMode",
    ),
    "table_class_unknown": (
        "DescribeTable",
        _table(TableClassSummary={"TableClass": "IA"}),
        "TableClassSummary.TableClass",
    ),
    "deletion_protection_string": (
        "DescribeTable",
        _table(DeletionProtectionEnabled="false"),
        "DeletionProtectionEnabled",
    ),
    "stream_enabled_string": (
        "DescribeTable",
        _table(StreamSpecification={"StreamEnabled": "false"}),
        "StreamSpecification.StreamEnabled",
    ),
    "capacity_fractional": (
        "DescribeTable",
        _table(ProvisionedThroughput={"ReadCapacityUnits": 5.5, "WriteCapacityUnits": 5}),
        "ProvisionedThroughput.ReadCapacityUnits",
    ),
    # "Valid Range: Minimum value of 0" (ProvisionedThroughputDescription): -5 was drift from 5
    "capacity_negative": (
        "DescribeTable",
        _table(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": -5}),
        "ProvisionedThroughput.WriteCapacityUnits",
    ),
    "gsi_capacity_string": (
        "DescribeTable",
        _table(
            GlobalSecondaryIndexes=[
                _gsi(ProvisionedThroughput={"ReadCapacityUnits": "5", "WriteCapacityUnits": 5})
            ]
        ),
        "GlobalSecondaryIndexes[].ProvisionedThroughput.ReadCapacityUnits",
    ),
    "gsi_status_unknown": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=[_gsi(IndexStatus="BACKFILLING")]),
        "GlobalSecondaryIndexes[].IndexStatus",
    ),
    "gsi_without_name": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=[{k: v for k, v in _gsi().items() if k != "IndexName"}]),
        "GlobalSecondaryIndexes[].IndexName",
    ),
    "gsi_key_without_type": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=[_gsi(KeySchema=[{"AttributeName": "pk"}])]),
        "KeySchema[].KeyType",
    ),
    "attribute_without_type": (
        "DescribeTable",
        _table(AttributeDefinitions=[*TABLE_BODY["AttributeDefinitions"], {"AttributeName": "tenant"}]),
        "AttributeDefinitions type of 'tenant'",
    ),
    "arn_of_another_table": (
        "DescribeTable",
        _table(TableArn=ARN.replace(f"table/{TABLE}", "table/payments")),
        "Table.TableArn (asked for table 'orders'",
    ),
    # Read from AWS's own endpoint, an ARN names the region asked: another region's table (a
    # global table's replica, by a proxy replaying answers) was compared as this region's. Its
    # account is twelve digits. (DynamoDB Local names its own region: see the next test.)
    "arn_of_another_region": (
        "DescribeTable",
        _table(TableArn=ARN.replace(REGION, "eu-west-1")),
        "Table.TableArn (asked for table 'orders' in us-east-1",
    ),
    "arn_without_an_account": (
        "DescribeTable",
        _table(TableArn=ARN.replace("123456789012", "me")),
        "Table.TableArn (asked for table 'orders' in us-east-1",
    ),
    # One attribute as both keys ("pk" HASH and RANGE) was read as a range key "pk": drift from
    # git's, of a key schema DynamoDB refuses to create (CreateTable: "Duplicate ... key").
    "key_attribute_twice": (
        "DescribeTable",
        _table(
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "pk", "KeyType": "RANGE"},
            ]
        ),
        "Table.KeySchema ('pk' listed twice)",
    ),
    "gsi_key_attribute_twice": (
        "DescribeTable",
        _table(
            GlobalSecondaryIndexes=[
                _gsi(
                    KeySchema=[
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "pk", "KeyType": "RANGE"},
                    ]
                )
            ]
        ),
        "GlobalSecondaryIndexes[].KeySchema ('pk' listed twice)",
    ),
    # "Type: Long": 2^70 was read as a capacity, drift from 5, of a number no Long holds.
    "capacity_beyond_a_long": (
        "DescribeTable",
        _table(ProvisionedThroughput={"ReadCapacityUnits": 2**70, "WriteCapacityUnits": 5}),
        "ProvisionedThroughput.ReadCapacityUnits (above 9223372036854775807",
    ),
    "replica_without_region": (
        "DescribeTable",
        _table(Replicas=[{"ReplicaStatus": "ACTIVE"}]),
        "Replicas[].RegionName",
    ),
    "timestamp_unreadable": (
        "DescribeTable",
        _table(CreationDateTime="yesterday"),
        "botocore could not parse the answer (ValueError)",
    ),
    # Found by tests/test_fuzz.py::test_an_aws_answer_is_read_exactly_or_refused. A list where an
    # enumeration's string belongs raised TypeError (unhashable) out of the check; the others
    # were read as a default: an index without a projection as ALL, an enabled stream without a
    # view type or TTL on without an attribute as "none" (drift from git's), a summary without
    # its value as PROVISIONED / STANDARD / SSE off, a KMS key ARN that is not a string as a key.
    "key_type_a_list": (
        "DescribeTable",
        _table(KeySchema=[{"AttributeName": "pk", "KeyType": ["HASH"]}]),
        "Table.KeySchema[].KeyType",
    ),
    "gsi_status_a_list": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=[_gsi(IndexStatus=[])]),
        "GlobalSecondaryIndexes[].IndexStatus",
    ),
    "gsi_without_projection": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=[{k: v for k, v in _gsi().items() if k != "Projection"}]),
        "GlobalSecondaryIndexes[].Projection",
    ),
    "lsi_projection_without_type": (
        "DescribeTable",
        _table(
            AttributeDefinitions=[
                *TABLE_BODY["AttributeDefinitions"],
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "by-sk",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"NonKeyAttributes": ["a"]},
                }
            ],
        ),
        "LocalSecondaryIndexes[].Projection.ProjectionType",
    ),
    "stream_enabled_without_view_type": (
        "DescribeTable",
        _table(StreamSpecification={"StreamEnabled": True}),
        "StreamViewType of an enabled stream",
    ),
    "sse_key_not_a_string": (
        "DescribeTable",
        _table(SSEDescription={"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": ["arn:aws:kms:x"]}),
        "SSEDescription.KMSMasterKeyArn",
    ),
    # compared with the declared key's ARN: a value that is no KMS key ARN was drift from it
    "sse_key_not_an_arn": (
        "DescribeTable",
        _table(SSEDescription={"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": "my-key"}),
        "SSEDescription.KMSMasterKeyArn ('my-key', not a KMS key ARN)",
    ),
    "sse_description_without_status": (
        "DescribeTable",
        _table(SSEDescription={"SSEType": "KMS"}),
        "SSEDescription.Status",
    ),
    "billing_summary_without_mode": (
        "DescribeTable",
        _table(BillingModeSummary={"LastUpdateToPayPerRequestDateTime": 1735776000}),
        "BillingModeSummary.BillingMode",
    ),
    "table_class_summary_without_class": (
        "DescribeTable",
        _table(TableClassSummary={"LastUpdateDateTime": 1735776000}),
        "TableClassSummary.TableClass",
    ),
    "ttl_enabled_without_attribute": (
        "DescribeTimeToLive",
        json.dumps({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED"}}),
        "TimeToLiveDescription.AttributeName",
    ),
    # Listed twice, read last-wins: a GSI listed KEYS_ONLY then ALL was the declared ALL one (in
    # sync), a replica DELETING then ACTIVE an active replica, a key's type S then N the N one.
    # AWS names each index (GSI or LSI: one namespace), replica region and attribute once.
    "gsi_listed_twice": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=[_gsi(Projection={"ProjectionType": "KEYS_ONLY"}), _gsi()]),
        "GlobalSecondaryIndexes[].IndexName ('by-tenant' listed twice)",
    ),
    "lsi_named_as_a_gsi": (
        "DescribeTable",
        _table(
            GlobalSecondaryIndexes=[_gsi()],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "by-tenant",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        ),
        "LocalSecondaryIndexes[].IndexName ('by-tenant' listed twice)",
    ),
    # A replica status outside the enumeration was drift ("eu-west-1 (HEALTHY)"): a false alarm.
    "replica_status_unknown": (
        "DescribeTable",
        _table(Replicas=[{"RegionName": "eu-west-1", "ReplicaStatus": "HEALTHY"}]),
        "Replicas[].ReplicaStatus (not one of",
    ),
    "replica_listed_twice": (
        "DescribeTable",
        _table(
            Replicas=[
                {"RegionName": "eu-west-1", "ReplicaStatus": "DELETING"},
                {"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"},
            ]
        ),
        "Replicas[].RegionName ('eu-west-1' listed twice)",
    ),
    "attribute_defined_twice": (
        "DescribeTable",
        _table(
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "pk", "AttributeType": "N"},
            ]
        ),
        "AttributeDefinitions[].AttributeName ('pk' listed twice)",
    ),
    # A local index has the table's partition key and a sort key: one without a sort key was
    # read with the sort key "" (drift from git's), one of another partition key as this table's.
    "lsi_without_a_sort_key": (
        "DescribeTable",
        _table(
            LocalSecondaryIndexes=[
                {
                    "IndexName": "by-pk",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ]
        ),
        "LocalSecondaryIndexes[].KeySchema (not the table's partition key and a sort key)",
    ),
    "lsi_of_another_partition_key": (
        "DescribeTable",
        _table(
            AttributeDefinitions=[
                *TABLE_BODY["AttributeDefinitions"],
                {"AttributeName": "tenant", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "by-tenant",
                    "KeySchema": [
                        {"AttributeName": "tenant", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        ),
        "LocalSecondaryIndexes[].KeySchema (not the table's partition key and a sort key)",
    ),
    "tags_token_not_a_string": (
        "ListTagsOfResource",
        json.dumps({"Tags": [{"Key": "Team", "Value": "observability"}], "NextToken": 2}),
        "NextToken",
    ),
    # AWS keeps a tag key to 128 characters and a value to 256: past them an answer held
    # whatever it was sent (16 MiB a tag, a thousand pages of them).
    "tag_key_too_long": (
        "ListTagsOfResource",
        json.dumps({"Tags": [{"Key": "k" * 129, "Value": "v"}]}),
        "Tags[].Key (longer than 128 characters",
    ),
    "tag_value_too_long": (
        "ListTagsOfResource",
        json.dumps({"Tags": [{"Key": "Team", "Value": "v" * 257}]}),
        "Tags[].Value (longer than 256 characters",
    ),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_a_value_the_api_reference_does_not_allow_is_an_invalid_response_never_a_reading(
    clients: AwsClients, endpoint: Endpoint, case: str
) -> None:
    operation, body, named = GARBAGE[case]
    endpoint.broken[operation] = body
    with pytest.raises(LiveReadError, match=re.escape(named)) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)
    calls = counted(clients)
    assert calls.get((operation, INVALID_RESPONSE)) == 1
    assert (operation, "success") not in calls


def _target(**changes: Any) -> str:
    target = {**VALID["DescribeScalableTargets"]["ScalableTargets"][0], **changes}
    return json.dumps({"ScalableTargets": [target]})


def _twice(page: str) -> str:
    """The valid target, then ``page``'s target for the same table and dimension: read
    last-wins, the range 1..500 made any capacity "the autoscaler's" (drift hidden)."""
    listed = json.loads(page)["ScalableTargets"]
    return json.dumps({"ScalableTargets": [*VALID["DescribeScalableTargets"]["ScalableTargets"], *listed]})


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (_target(MinCapacity=5.5), "MinCapacity"),
        (_target(MaxCapacity="50"), "MaxCapacity"),
        (_target(MinCapacity=80, MaxCapacity=50), "MinCapacity (above MaxCapacity)"),
        (_twice(_target(MinCapacity=1, MaxCapacity=500)), "listed twice"),
    ],
    ids=["fractional", "string", "min_above_max", "listed_twice"],
)
def test_a_scalable_target_whose_range_is_not_one_is_an_invalid_response(
    clients: AwsClients, endpoint: Endpoint, body: str, named: str
) -> None:
    """Capacity inside a live [min, max] belongs to the autoscaler, never drift: a range of
    5.5 or 80..50 put every capacity outside it, so the GSI capacity an autoscaler set was
    reported as drift."""
    endpoint.broken["DescribeScalableTargets"] = body
    with pytest.raises(LiveReadError, match=re.escape(named)) as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert caught.value.code == INVALID_RESPONSE
    assert counted(clients).get(("DescribeScalableTargets", INVALID_RESPONSE)) == 1


def _policy(**changes: Any) -> str:
    policy = {**VALID["DescribeScalingPolicies"]["ScalingPolicies"][0], **changes}
    return json.dumps({"ScalingPolicies": [{k: v for k, v in policy.items() if v is not None}]})


TARGETS = "DescribeScalableTargets"


@pytest.mark.parametrize(
    ("operation", "body", "named"),
    [
        (TARGETS, _target(ScalableDimension="dynamodb:table:ReadCapacityUnitz"), "ScalableDimension"),
        (TARGETS, _target(ScalableDimension="ecs:service:DesiredCount"), "ScalableDimension"),
        (TARGETS, _target(ScalableDimension="dynamodb:index:ReadCapacityUnits"), "ResourceId"),
        (TARGETS, _target(ResourceId="table/orders/"), "ResourceId"),
        (TARGETS, _target(ResourceId="orders"), "ResourceId"),
        (TARGETS, _target(ServiceNamespace="ecs"), "ServiceNamespace"),
        ("DescribeScalingPolicies", _policy(PolicyType="TargetTracking"), "PolicyType"),
        ("DescribeScalingPolicies", _policy(ScalableDimension="dynamodb:table:Read"), "ScalableDimension"),
        ("DescribeScalingPolicies", _policy(ResourceId="table/orders/index/"), "ResourceId"),
        ("DescribeScalingPolicies", _policy(ServiceNamespace=None), "ServiceNamespace"),
        # kept for every entry of a listing (up to 50,000): megabyte-long ones held gigabytes
        (TARGETS, _target(ResourceId=f"table/{'t' * 256}"), "a table or index name over 255 characters"),
        ("DescribeScalingPolicies", _policy(PolicyName="p" * 257), "PolicyName (longer than 256"),
    ],
    ids=[
        "dimension_misspelt",
        "dimension_of_another_service",
        "index_dimension_of_a_table",
        "resource_trailing_slash",
        "resource_without_table",
        "target_of_another_namespace",
        "policy_type_unknown",
        "policy_dimension_unknown",
        "policy_index_without_name",
        "policy_without_namespace",
        "table_name_too_long",
        "policy_name_too_long",
    ],
)
def test_an_autoscaling_entry_that_is_not_dynamodbs_is_an_invalid_response(
    clients: AwsClients, endpoint: Endpoint, operation: str, body: str, named: str
) -> None:
    """Every entry of a ``dynamodb`` listing is a DynamoDB table's or index's scalable target
    (or policy), with a dimension and a type from the API reference. One that is not was
    passed over: the table's scalable target (or its target-tracking policy) read as absent,
    so a declared autoscaling was drift ("removed"), and the capacity the autoscaler owns was
    compared: a false alarm made of a garbage answer."""
    endpoint.broken[operation] = body
    with pytest.raises(LiveReadError, match=re.escape(named)) as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)


def _tracking(**changes: Any) -> str:
    (policy,) = VALID["DescribeScalingPolicies"]["ScalingPolicies"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    return _policy(TargetTrackingScalingPolicyConfiguration={**config, **changes})


@pytest.mark.parametrize(
    ("operation", "body", "named"),
    [
        (TARGETS, _target(MinCapacity=0), "MinCapacity (below 1"),
        (TARGETS, _target(MinCapacity=-5), "MinCapacity (below 1"),
        ("DescribeScalingPolicies", _tracking(TargetValue=1e308), "TargetValue (outside -2^360 to 2^360"),
        ("DescribeScalingPolicies", _tracking(TargetValue=-1e200), "TargetValue (outside -2^360 to 2^360"),
        ("DescribeScalingPolicies", _tracking(ScaleInCooldown=2**40), "ScaleInCooldown (above 2147483647"),
        ("DescribeScalingPolicies", _tracking(ScaleOutCooldown=-(2**40)), "ScaleOutCooldown (below -2147"),
    ],
    ids=["min_zero", "min_negative", "target_huge", "target_huge_negative", "cooldown_huge", "cooldown_tiny"],
)
def test_an_autoscaling_number_outside_what_the_api_reference_allows_is_an_invalid_response(
    clients: AwsClients, endpoint: Endpoint, operation: str, body: str, named: str
) -> None:
    """A DynamoDB scalable target's MinCapacity is at least 1 (RegisterScalableTarget: "For all
    other resources, the minimum value allowed is 1"); a TargetValue lies within -2^360 to 2^360
    (TargetTrackingScalingPolicyConfiguration); a cooldown is an Integer. Each was read as a
    value: drift ``autoscaling.read.min: 5 -> 0``, ``target: 70 -> 1e308``, made of an answer
    AWS cannot give. Now the region's autoscaling is an InvalidResponse naming the field."""
    endpoint.broken[operation] = body
    with pytest.raises(LiveReadError, match=re.escape(named)) as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)


def test_the_edges_of_the_autoscaling_ranges_are_read(clients: AwsClients, endpoint: Endpoint) -> None:
    """The control: a minimum of 1, a target of exactly 2^360 and Integer-sized cooldowns are
    AWS's own values, read as they are."""
    endpoint.broken[TARGETS] = _target(MinCapacity=1)
    endpoint.broken["DescribeScalingPolicies"] = _tracking(
        TargetValue=2.0**360, ScaleInCooldown=2**31 - 1, ScaleOutCooldown=0
    )
    read, _ = AutoscalingIndex.fetch(clients.autoscaling(REGION)).for_table(TABLE)
    assert read.read is not None
    assert (read.read.min, read.read.target, read.read.scale_in_cooldown) == (1, 2.0**360, 2**31 - 1)


def test_a_policy_of_a_table_without_a_scalable_target_is_still_passed_over(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """moto keeps a policy after DeregisterScalableTarget (AWS deletes it): a valid policy of
    another table with no scalable target is no broken answer, and changes nothing."""
    endpoint.broken["DescribeScalingPolicies"] = _policy(ResourceId="table/other")
    table, _ = AutoscalingIndex.fetch(clients.autoscaling(REGION)).for_table(TABLE)
    assert table.read is not None and (table.read.min, table.read.max, table.read.target) == (5, 50, None)


@pytest.mark.parametrize("operation", LISTINGS)
def test_an_autoscaling_next_token_that_is_not_a_string_is_not_the_last_page(
    clients: AwsClients, endpoint: Endpoint, operation: str
) -> None:
    """Read as the end of the listing, it would drop the targets of the pages after it: capacity
    read as not autoscaled (drift on every GSI an autoscaler owns)."""
    endpoint.broken[operation] = json.dumps({**VALID[operation], "NextToken": {"page": 2}})
    with pytest.raises(LiveReadError, match="NextToken") as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)
    assert counted(clients).get((operation, INVALID_RESPONSE)) == 1


def test_transitional_statuses_read_as_the_api_reference_says(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """The control for the checks above: every value the reference allows is still read, and
    read as it means (ENABLING is on its way on, DISABLING on its way off, UPDATING is a KMS
    key change of an encrypted table, a GSI of an on-demand table has no capacity)."""
    endpoint.broken["DescribeTimeToLive"] = json.dumps(
        {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLING", "AttributeName": "ttl"}}
    )
    endpoint.broken["DescribeTable"] = _table(
        SSEDescription={"Status": "UPDATING", "SSEType": "KMS", "KMSMasterKeyArn": KMS_KEY},
        BillingModeSummary={"BillingMode": "PAY_PER_REQUEST"},
        GlobalSecondaryIndexes=[{k: v for k, v in _gsi().items() if k != "ProvisionedThroughput"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert spec is not None
    assert (spec.ttl.enabled, spec.sse.enabled, spec.billing_mode) == (False, True, "PAY_PER_REQUEST")
    assert spec.stream.view_type == "KEYS_ONLY" and spec.gsis[0].read_capacity is None
    endpoint.broken["DescribeTimeToLive"] = json.dumps(
        {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLING", "AttributeName": "ttl"}}
    )
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert spec is not None and spec.ttl.enabled


# Where each listing's continuation token goes, and how to read the listing.
PAGED: dict[str, tuple[str, Callable[[AwsClients], object]]] = {
    "ListTagsOfResource": ("NextToken", lambda aws: read_table(aws.dynamodb(REGION), TABLE, REGION)),
    "ListTables": ("LastEvaluatedTableName", lambda aws: list_table_names(aws.dynamodb(REGION), REGION)),
    "DescribeScalableTargets": ("NextToken", lambda aws: AutoscalingIndex.fetch(aws.autoscaling(REGION))),
    "DescribeScalingPolicies": ("NextToken", lambda aws: AutoscalingIndex.fetch(aws.autoscaling(REGION))),
}


def _pageful(operation: str, token: str) -> str:
    """A page of ``operation`` continued by ``token``, that may be handed out again: an
    autoscaling listing's target or policy on two pages is itself a broken answer
    (``test_duplicates_across_pages_are_invalid_too``); a ListTables page ends with the name its
    token repeats."""
    field = PAGED[operation][0]
    if operation in LISTINGS:
        return json.dumps({**{key: [] for key in VALID[operation]}, field: token})
    if operation == "ListTables":
        return json.dumps({"TableNames": [token], field: token})
    return json.dumps({**VALID[operation], field: token})


@pytest.mark.parametrize("operation", sorted(PAGED))
def test_a_listing_that_never_ends_is_cut_at_max_pages(
    clients: AwsClients, endpoint: Endpoint, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page hands out a new token (no cycle for the loop check to see): followed until the
    scan deadline, holding every page read. Now at most MAX_PAGES pages are read (lowered here,
    so the test makes 12 calls, not 1,000), then the listing is an error naming why."""
    monkeypatch.setattr(driftwatch.aws.dynamodb, "MAX_PAGES", 12)
    if operation in LISTINGS:  # bounded by their entries, at PAGE_SIZES a page
        monkeypatch.setattr(driftwatch.aws.autoscaling, "MAX_ENTRIES", 12 * PAGE_SIZES[operation])
    read = PAGED[operation][1]
    tokens = iter(range(1_000))
    endpoint.broken[operation] = lambda: _pageful(operation, f"page-{next(tokens)}")
    with pytest.raises(LiveReadError, match="TooManyPages: more than 12 pages") as caught:
        read(clients)
    assert caught.value.operation == operation
    assert counted(clients)[(operation, "success")] == 12


def test_a_listing_of_more_tags_than_a_table_may_hold_is_refused(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """A table has at most 50 tags (AWS's own aws: tags come on top, a handful). Pages of new
    tags, each with a new token, were gathered until MAX_PAGES: up to 16 MiB a page held, a
    thousand times over. Past ``MAX_TAGS`` the listing stops, an error of that table."""
    pages = itertools.count()

    def page() -> str:
        number = next(pages)
        tags = [{"Key": f"k{number}-{i}", "Value": "v"} for i in range(100)]
        return json.dumps({"Tags": tags, "NextToken": f"t{number}"})

    endpoint.broken["ListTagsOfResource"] = page
    with pytest.raises(LiveReadError, match="more than 1,000 tags") as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, "ListTagsOfResource")
    assert next(pages) == 11  # it stops at the page that passes the limit


def test_the_tokens_of_a_listing_are_not_held() -> None:
    """A listing remembers its tokens to refuse a cycle. It held each one: an endpoint handing
    out a new megabyte-long token per page (a growing token) made the scan hold a gigabyte by
    MAX_PAGES (1,056 MiB peak measured through read_table), past the daemon's memory. Only a
    digest of each is kept now. Measured with tracemalloc, not timed."""
    big = "x" * 2**20
    pages = driftwatch.aws.dynamodb.Pages("ListTagsOfResource", TABLE, REGION)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(50):
            pages.follow(f"{number}{big}")
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 2**20, f"{held} bytes held for 50 tokens of 1 MiB"
    with pytest.raises(LiveReadError, match="PaginationLoop"):
        pages.follow(f"7{big}")


@pytest.mark.parametrize("operation", sorted(PAGED))
def test_a_token_cycle_is_a_pagination_loop(clients: AwsClients, endpoint: Endpoint, operation: str) -> None:
    read = PAGED[operation][1]
    tokens = iter(["t-a", "t-b", "t-c", "t-a", "t-b", "t-c"])
    endpoint.broken[operation] = lambda: _pageful(operation, next(tokens))
    with pytest.raises(LiveReadError, match="PaginationLoop") as caught:
        read(clients)
    assert caught.value.operation == operation
    assert counted(clients)[(operation, "success")] == 4


def test_only_the_read_itself_being_denied_costs_only_its_attributes(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """A role's credentials are refreshed inside whichever call needs them: AssumeRole denied
    during DescribeTimeToLive is the role failing, so the whole table is the error, never
    "TTL unresolved" (and never a report naming AssumeRole as a per-table read)."""

    def role_refused() -> str:
        raise LiveReadError(
            "AssumeRole", None, REGION, "AccessDenied", "not authorized to perform: sts:AssumeRole"
        )

    endpoint.broken["DescribeTimeToLive"] = role_refused
    refused: list[LiveReadError] = []
    with pytest.raises(LiveReadError, match="AssumeRole failed in us-east-1: AccessDenied"):
        read_table(clients.dynamodb(REGION), TABLE, REGION, refused)
    assert refused == []


def test_base_credentials_failing_inside_a_read_fail_the_whole_table(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """IRSA's credentials are refreshed by botocore's own STS client inside whichever call needs
    them: its ClientError came out of DescribeTimeToLive and was taken for that read failing,
    so TTL was "unresolved" and the next two reads failed the same way, a table with three
    reads said to fail when the credentials had. The error names the call that failed, and it
    is the whole table's."""

    def expired() -> str:
        error = {"Error": {"Code": "ExpiredTokenException", "Message": "Token expired: current date/time"}}
        raise ClientError(error, "AssumeRoleWithWebIdentity")  # type: ignore[arg-type]

    endpoint.broken["DescribeTimeToLive"] = expired
    failed: list[LiveReadError] = []
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION, failed)
    assert caught.value.code == "ExpiredTokenException"
    assert str(caught.value).startswith(
        "AssumeRoleWithWebIdentity failed for table 'orders' in us-east-1: ExpiredTokenException: Token"
    )
    assert failed == []


SUPPLIED = {
    "DescribeTimeToLive": lambda spec: spec.ttl.enabled,
    "DescribeContinuousBackups": lambda spec: spec.point_in_time_recovery,
    "ListTagsOfResource": lambda spec: spec.tags,
}


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ("{}", INVALID_RESPONSE),  # a broken answer
        ((400, "UnknownOperationException", "not implemented"), "UnknownOperationException"),
        ((400, "ValidationException", "1 validation error detected"), "ValidationException"),
    ],
    ids=["invalid_response", "not_implemented", "validation_error"],
)
@pytest.mark.parametrize("operation", sorted(SUPPLIED))
def test_a_read_after_describe_table_that_fails_costs_only_its_attributes(
    clients: AwsClients, endpoint: Endpoint, operation: str, failure: Any, code: str
) -> None:
    """Not only a read IAM denies: any failure of DescribeTimeToLive, DescribeContinuousBackups
    or ListTagsOfResource made the whole table an error, so a compatible server that does not
    implement one of them (``UnknownOperationException``), or one broken tags answer, hid every
    other drift of the table (PITR switched off went unreported for want of the tags). Now only
    what that read supplies is Unknown with the cause, the error goes to the caller to say,
    and the rest of the table is read."""
    if isinstance(failure, tuple):
        endpoint.errors[operation] = failure
    else:
        endpoint.broken[operation] = failure
    failed: list[LiveReadError] = []
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION, failed)
    assert spec is not None
    unknown = SUPPLIED[operation](spec)
    assert isinstance(unknown, Unknown) and f"{operation} failed for table 'orders'" in unknown.reason
    assert [(error.operation, error.code) for error in failed] == [(operation, code)]
    read = {name: supplied(spec) for name, supplied in SUPPLIED.items() if name != operation}
    assert read == {name: VALID_READS[name] for name in read}  # the other reads, as answered
    assert spec.deletion_protection and spec.read_capacity == 5  # and DescribeTable's


VALID_READS: dict[str, Any] = {
    "DescribeTimeToLive": True,
    "DescribeContinuousBackups": True,
    "ListTagsOfResource": {"Team": "observability"},
}


@pytest.mark.parametrize(
    ("allowed", "shape"),
    [
        ("TTL_STATUSES", "TimeToLiveStatus"),
        ("PITR_STATUSES", "PointInTimeRecoveryStatus"),
        ("PITR_STATUSES", "ContinuousBackupsStatus"),
        ("SSE_STATUSES", "SSEStatus"),
        ("BILLING_MODES", "BillingMode"),
        ("TABLE_CLASSES", "TableClass"),
        ("STREAM_VIEW_TYPES", "StreamViewType"),
        ("PROJECTION_TYPES", "ProjectionType"),
        ("KEY_TYPES", "KeyType"),
        ("INDEX_STATUSES", "IndexStatus"),
        ("REPLICA_STATUSES", "ReplicaStatus"),
        ("POLICY_TYPES", "PolicyType"),
        ("DYNAMODB_DIMENSIONS", "ScalableDimension"),
    ],
)
def test_the_values_an_answer_may_hold_are_the_api_models(allowed: str, shape: str) -> None:
    """An answer holding a value outside these lists is an InvalidResponse (the table is not
    compared), so a list behind AWS's would make a new, valid value an error on every scan,
    and one ahead of it would read garbage. botocore's service model is the API reference in
    machine form: a botocore upgrade that adds a value fails here until the list follows."""
    import botocore.session

    from driftwatch.aws import responses

    service = "dynamodb" if shape not in ("PolicyType", "ScalableDimension") else "application-autoscaling"
    values = botocore.session.get_session().get_service_model(service).shape_for(shape).enum
    if shape == "ScalableDimension":  # the dimensions of the dynamodb namespace only
        values = [value for value in values if value.startswith("dynamodb:")]
    assert getattr(responses, allowed) == frozenset(values)


def test_every_table_status_of_the_api_model_is_judged() -> None:
    """A table status the scan compares is one DynamoDB is on its way through; every other
    status of the model is an error row naming it. Both sets together are the model's, so a
    new status is decided here, not by accident."""
    import botocore.session

    from driftwatch.scan import _COMPARABLE_STATUSES

    model = botocore.session.get_session().get_service_model("dynamodb")
    statuses = set(model.shape_for("TableStatus").enum)
    unusable = {"INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", "ARCHIVED", "REPLICATION_NOT_AUTHORIZED"}
    assert statuses == (set(_COMPARABLE_STATUSES) - {None}) | unusable


def _crc32(body: str) -> str:
    return str(zlib.crc32(body.encode()) & 0xFFFFFFFF)


def test_an_answer_that_does_not_match_its_checksum_is_refused_after_the_retries(
    clients: AwsClients, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB signs every body with ``x-amz-crc32``. botocore's standard retry mode retries
    a body that does not match it, but after the last attempt it parses and returns that body
    as the answer: a table changed on its way (here deletion protection read as off where AWS
    said on) was compared as if AWS had said it. Now the call is an InvalidResponse of its
    table, after botocore's retries."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda *_: 0.0)
    endpoint.broken["DescribeTable"] = _table(DeletionProtectionEnabled=False)  # altered on the way
    endpoint.headers["DescribeTable"] = {"x-amz-crc32": _crc32(json.dumps(VALID["DescribeTable"]))}
    with pytest.raises(LiveReadError, match="x-amz-crc32") as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, "DescribeTable")
    assert counted(clients) == {("DescribeTable", INVALID_RESPONSE): 1}
    assert clients.recorder is not None
    assert clients.recorder.retries() == {"DescribeTable": clients.max_attempts - 1}  # retried first


def test_an_answer_that_matches_its_checksum_is_read(clients: AwsClients, endpoint: Endpoint) -> None:
    """The control: the checksum of the body as sent is what every real answer carries."""
    for operation in TABLE_READS:
        endpoint.headers[operation] = {"x-amz-crc32": _crc32(json.dumps(VALID[operation]))}
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert spec is not None and spec.deletion_protection
    assert counted(clients) == {(operation, "success"): 1 for operation in TABLE_READS}


def test_a_scaling_policy_listed_twice_is_an_invalid_response(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """A policy name is unique per scalable target: two answers for one (70 and 20 here) are
    not a reading, and the first by name was taken."""
    policy = VALID["DescribeScalingPolicies"]["ScalingPolicies"][0]
    other = {**policy, "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 20.0}}
    endpoint.broken["DescribeScalingPolicies"] = json.dumps({"ScalingPolicies": [policy, other]})
    with pytest.raises(
        LiveReadError, match=re.escape("ScalingPolicies[].PolicyName ('read' listed twice")
    ) as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert caught.value.code == INVALID_RESPONSE


def test_duplicates_across_pages_are_invalid_too(clients: AwsClients, endpoint: Endpoint) -> None:
    """The same scalable target on page 1 and page 2 (a listing that restarted, a broken token)."""
    pages = iter(["2", None])

    def page() -> str:
        return json.dumps({**VALID["DescribeScalableTargets"], "NextToken": next(pages)})

    endpoint.broken["DescribeScalableTargets"] = page
    with pytest.raises(LiveReadError, match="listed twice") as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, "DescribeScalableTargets")


# What the read after DescribeTable answers for a table it does not find, and what it supplies.
NOT_FOUND = {
    "DescribeTimeToLive": ("ResourceNotFoundException", lambda spec: spec.ttl.enabled),
    "DescribeContinuousBackups": ("TableNotFoundException", lambda spec: spec.point_in_time_recovery),
    "ListTagsOfResource": ("ResourceNotFoundException", lambda spec: spec.tags),
}


@pytest.mark.parametrize("status", ["ARCHIVED", "CREATING"])
@pytest.mark.parametrize("operation", sorted(NOT_FOUND))
def test_a_read_that_does_not_find_a_table_that_is_not_active_costs_only_its_attributes(
    clients: AwsClients, endpoint: Endpoint, operation: str, status: str
) -> None:
    """DynamoDB's ResourceNotFoundException: "its status might not be ACTIVE"; the Terraform
    provider notes that "When a Table is ARCHIVED, ListTags returns ResourceNotFoundException".
    Any not-found after DescribeTable used to make the table ``missing`` (exit 2, "terraform
    plan would create it"): an archived table never reached its "cannot be used" error, a table
    being created was a false alarm. DescribeTable is asked again: the table is there, so only
    what that read supplies is unresolved, and the table's status decides the rest (the scan
    errors an ARCHIVED table, holds a CREATING one's drift back)."""
    code, supplied = NOT_FOUND[operation]
    endpoint.broken["DescribeTable"] = _table(TableStatus=status)
    endpoint.errors[operation] = (400, code, NOT_FOUND_MESSAGE)
    spec = read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert spec is not None and spec.status == status
    unknown = supplied(spec)
    assert isinstance(unknown, Unknown)
    assert unknown.reason == f"{operation} does not find the table while DescribeTable says it is {status}"
    assert spec.deletion_protection and spec.read_capacity == 5  # the rest is read
    calls = counted(clients)
    assert calls[("DescribeTable", "success")] == 2 and calls[(operation, code)] == 1


def test_a_read_that_does_not_find_a_table_describe_table_finds_active_is_an_error_not_missing(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """An ACTIVE table that DescribeContinuousBackups says does not exist, on every attempt: the
    two answers disagree (a proxy replaying answers, a broken endpoint). Neither is taken:
    ``missing`` was a false alarm, so the table is an error naming both answers."""
    endpoint.errors["DescribeContinuousBackups"] = (400, "TableNotFoundException", NOT_FOUND_MESSAGE)
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    error = caught.value
    assert (error.operation, error.code) == ("DescribeContinuousBackups", "TableNotFoundException")
    assert str(caught.value) == (
        "DescribeContinuousBackups failed for table 'orders' in us-east-1: TableNotFoundException: "
        "Requested resource not found; but DescribeTable, asked again, finds the table ACTIVE: "
        "the answers disagree, so nothing was compared"
    )


@pytest.mark.parametrize("status", [500, 503, 200])
def test_a_not_found_code_that_is_not_a_client_error_is_an_error_not_a_missing_table(
    clients: AwsClients, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """AWS says a table does not exist with HTTP 400. A ResourceNotFoundException body on a 500
    or 503 (a proxy's or gateway's error page, a replayed answer) was read as that answer after
    botocore's retries: the table ``missing``, exit 2 and a Slack alert, of a table nobody
    touched. A server error is an error of the table. (A 200 is an answer without a Table.)"""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda *_: 0.0)
    endpoint.errors["DescribeTable"] = (status, "ResourceNotFoundException", NOT_FOUND_MESSAGE)
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    if status == 200:
        assert caught.value.code == INVALID_RESPONSE
    else:
        assert caught.value.code == "ResourceNotFoundException"
        assert str(caught.value) == (
            "DescribeTable failed for table 'orders' in us-east-1: ResourceNotFoundException: Requested "
            f"resource not found (HTTP {status}, not the 400 with which AWS says a table does not exist)"
        )


def test_an_arn_of_another_region_is_read_from_an_endpoint_that_is_not_aws(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: DynamoDB Local, LocalStack or moto's server (``AWS_ENDPOINT_URL``) name
    their own region in an ARN (``ddblocal``); only AWS's own endpoints are held to the region."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/driftwatch-test-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftwatch-test-aws-credentials")
    local = AwsClients()
    local.dynamodb(REGION).meta.events.register("before-send", endpoint)
    endpoint.broken["DescribeTable"] = _table(TableArn=ARN.replace(REGION, "ddblocal"))
    spec = read_table(local.dynamodb(REGION), TABLE, REGION)
    assert spec is not None and spec.tags == {"Team": "observability"}


SKEWED = {
    "behind": "Signature expired: 20261207T100000Z is now earlier than 20261207T101000Z "
    "(20261207T101500Z - 5 min.)",
    "ahead": "Signature not yet current: 20261207T103000Z is still later than 20261207T102000Z "
    "(20261207T101500Z + 5 min.)",
}


@pytest.mark.parametrize("clock", sorted(SKEWED))
def test_a_signature_refused_for_a_skewed_clock_says_the_clock_is_the_cause(
    clients: AwsClients, endpoint: Endpoint, clock: str
) -> None:
    """AWS refuses a request signed more than 5 minutes away from its own time with
    InvalidSignatureException, whose words ("Signature expired") read as a credentials
    problem; every table of the scan fails so. The error says what to fix: this host's clock."""
    endpoint.errors["DescribeTable"] = (400, "InvalidSignatureException", SKEWED[clock])
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    hint = "(hint: this host's clock is more than 5 minutes off AWS's; synchronise it, e.g. NTP)"
    assert str(caught.value).endswith(f"{SKEWED[clock]} {hint}")


def test_a_signature_refused_for_another_reason_gets_no_clock_hint(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    message = "The request signature we calculated does not match the signature you provided."
    endpoint.errors["DescribeTable"] = (400, "InvalidSignatureException", message)
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert str(caught.value).endswith(message)


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (307, "", "HTTP 307 without an AWS error code: a redirect, which driftwatch does not follow"),
        (
            301,
            "<html>Moved</html>",
            "HTTP 301 without an AWS error code: a redirect, which driftwatch does not follow",
        ),
        (403, "<html>Forbidden by the proxy</html>", "HTTP 403 without an AWS error code"),
    ],
)
def test_an_answer_without_an_aws_error_code_says_its_http_status(
    clients: AwsClients, endpoint: Endpoint, status: int, body: str, said: str
) -> None:
    """An endpoint that redirects (a captive proxy, an AWS_ENDPOINT_URL of the wrong scheme) or
    a proxy's own refusal answers with no AWS error code; botocore names the code after the
    status, and the table's error was ``DescribeTable failed for table 'orders' in us-east-1:
    307``. It says what the status is."""
    endpoint.errors["DescribeTable"] = (status, "", body)
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert caught.value.code == str(status)  # the metric's outcome, as before
    assert str(caught.value).startswith(
        f"DescribeTable failed for table 'orders' in us-east-1: {status}: {said}"
    )
    assert counted(clients) == {("DescribeTable", str(status)): 1}


def test_an_error_code_of_other_digits_is_an_aws_error_code(clients: AwsClients, endpoint: Endpoint) -> None:
    """``str.isdigit`` is true of ``"²"`` or ``"٣"``, which ``int`` refuses: an answer whose
    error code is such a character (a hostile proxy's) escaped as a ValueError, an unexpected
    error of the table. Only ASCII digits are botocore's HTTP status."""
    endpoint.errors["DescribeTable"] = (400, "²", "odd")
    with pytest.raises(LiveReadError) as caught:
        read_table(clients.dynamodb(REGION), TABLE, REGION)
    assert str(caught.value) == "DescribeTable failed for table 'orders' in us-east-1: ²: odd"


def _listing(operation: str, entries: list[dict[str, Any]], token: str | None = None) -> str:
    field = "ScalableTargets" if operation == TARGETS else "ScalingPolicies"
    return json.dumps({field: entries, **({"NextToken": token} if token else {})})


def _entries(operation: str, count: int, page: int = 0) -> list[dict[str, Any]]:
    """``count`` valid, distinct targets or policies (of tables ``t<page>-<i>``)."""
    valid = VALID[operation][next(iter(VALID[operation]))][0]
    return [{**valid, "ResourceId": f"table/t{page}-{i}"} for i in range(count)]


@pytest.mark.parametrize("operation", LISTINGS)
def test_an_autoscaling_listing_asks_for_the_most_a_page_may_hold_and_refuses_more(
    clients: AwsClients, endpoint: Endpoint, operation: str
) -> None:
    """The API reference: MaxResults "can be between 1 and 50" for scalable targets, "between 1
    and 10" for scaling policies. driftwatch asked for no size, so a page of any size was
    read; it now asks for that most, and a page holding more is not AWS's answer."""
    size = PAGE_SIZES[operation]
    AutoscalingIndex.fetch(clients.autoscaling(REGION))
    asked = {op: body.get("MaxResults") for op, body in endpoint.sent}
    assert asked == {TARGETS: 50, "DescribeScalingPolicies": 10}
    endpoint.broken[operation] = _listing(operation, _entries(operation, size + 1))
    with pytest.raises(LiveReadError) as caught:
        AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)
    assert f"(more than the {size} asked for on one page: {size + 1})" in str(caught.value)
    endpoint.broken[operation] = _listing(operation, _entries(operation, size))  # the control
    AutoscalingIndex.fetch(clients.autoscaling(REGION))


def test_the_policies_listing_is_bounded_by_its_entries_not_by_the_targets_page_count(
    clients: AwsClients, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 10 policies a page (AWS's most), ``MAX_PAGES`` pages held 10,000 policies: a region at
    the default quota of 5,000 DynamoDB scalable targets with two policies each had its
    autoscaling refused as "TooManyPages". Each listing is bounded by ``MAX_ENTRIES`` (lowered
    here with MAX_PAGES: 200 entries, 4 pages of targets, 20 of policies)."""
    monkeypatch.setattr(driftwatch.aws.dynamodb, "MAX_PAGES", 4)
    monkeypatch.setattr(driftwatch.aws.autoscaling, "MAX_ENTRIES", 200, raising=False)
    pages = itertools.count()

    def page() -> str:
        number = next(pages)
        token = f"p{number + 1}" if number < 14 else None
        return _listing("DescribeScalingPolicies", _entries("DescribeScalingPolicies", 10, number), token)

    endpoint.broken["DescribeScalingPolicies"] = page
    AutoscalingIndex.fetch(clients.autoscaling(REGION))
    assert counted(clients)[("DescribeScalingPolicies", "success")] == 15


def test_a_table_listing_token_that_is_not_the_last_name_of_its_page_is_refused(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """ListTables: LastEvaluatedTableName is "the name of the last table in the current page",
    and the next page starts after it. A token ahead of the page (``zzz`` after ``aaa``)
    skipped every table between: never listed, so never reported unmanaged, in silence."""
    pages = iter([{"TableNames": ["aaa"], "LastEvaluatedTableName": "zzz"}, {"TableNames": []}])
    endpoint.broken["ListTables"] = lambda: json.dumps(next(pages))
    with pytest.raises(LiveReadError) as caught:
        list_table_names(clients.dynamodb(REGION), REGION)
    assert caught.value.code == INVALID_RESPONSE
    assert "LastEvaluatedTableName ('zzz', not the last name of its page)" in str(caught.value)
    endpoint.broken["ListTables"] = json.dumps({"TableNames": [], "LastEvaluatedTableName": "aaa"})
    with pytest.raises(LiveReadError, match="not the last name of its page"):
        list_table_names(clients.dynamodb(REGION), REGION)
    pages = iter([{"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"}, {"TableNames": ["ccc"]}])
    endpoint.broken["ListTables"] = lambda: json.dumps(next(pages))  # the control
    assert list_table_names(clients.dynamodb(REGION), REGION) == ["aaa", "bbb", "ccc"]


def _read_table(clients: AwsClients) -> object:
    return read_table(clients.dynamodb(REGION), TABLE, REGION)


READERS: dict[str, Callable[[AwsClients], object]] = {
    **{operation: _read_table for operation in TABLE_READS},
    "ListTables": lambda aws: list_table_names(aws.dynamodb(REGION), REGION),
    TARGETS: lambda aws: AutoscalingIndex.fetch(aws.autoscaling(REGION)),
    "DescribeScalingPolicies": lambda aws: AutoscalingIndex.fetch(aws.autoscaling(REGION)),
}

PITR_ON = VALID["DescribeContinuousBackups"]["ContinuousBackupsDescription"]

# botocore iterates whatever stands where its model has a list: a string as its characters, an
# object as its keys. Each of these was read as a value, counted as a success: no GSIs (every
# declared one "missing"), the attributes a, b and c, no replicas, no tags ("removed"), an
# account without tables, no autoscaling. A timestamp past datetime's range raised RuntimeError
# out of botocore (the table's "unexpected error", outcome RuntimeError); true was the epoch.
WRONG_JSON_TYPE = {
    "gsis_a_string": (
        "DescribeTable",
        _table(GlobalSecondaryIndexes=""),
        "TableDescription.GlobalSecondaryIndexes is a JSON string where AWS sends a list",
    ),
    "non_key_attributes_a_string": (
        "DescribeTable",
        _table(
            GlobalSecondaryIndexes=[_gsi(Projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": "abc"})]
        ),
        "Projection.NonKeyAttributes is a JSON string where AWS sends a list",
    ),
    "replicas_an_object": (
        "DescribeTable",
        _table(Replicas={}),
        "TableDescription.Replicas is a JSON object where AWS sends a list",
    ),
    "creation_time_past_a_datetime": (
        "DescribeTable",
        _table(CreationDateTime=2**70),
        "a timestamp (1180591620717411303424) is past the dates a datetime holds",
    ),
    "creation_time_a_boolean": (
        "DescribeTable",
        _table(CreationDateTime=True),
        "a timestamp is a JSON boolean where AWS sends a time",
    ),
    "restorable_time_past_a_datetime": (
        "DescribeContinuousBackups",
        json.dumps(
            {
                "ContinuousBackupsDescription": {
                    **PITR_ON,
                    "PointInTimeRecoveryDescription": {
                        "PointInTimeRecoveryStatus": "ENABLED",
                        "LatestRestorableDateTime": 2**70,
                    },
                }
            }
        ),
        "is past the dates a datetime holds",
    ),
    "tags_an_object": (
        "ListTagsOfResource",
        json.dumps({"Tags": {}}),
        "ListTagsOfResourceOutput.Tags is a JSON object where AWS sends a list",
    ),
    "table_names_a_string": (
        "ListTables",
        json.dumps({"TableNames": ""}),
        "ListTablesOutput.TableNames is a JSON string where AWS sends a list",
    ),
    "scalable_targets_a_string": (
        TARGETS,
        json.dumps({"ScalableTargets": ""}),
        "DescribeScalableTargetsResponse.ScalableTargets is a JSON string where AWS sends a list",
    ),
    "scaling_policies_an_object": (
        "DescribeScalingPolicies",
        json.dumps({"ScalingPolicies": {}}),
        "DescribeScalingPoliciesResponse.ScalingPolicies is a JSON object where AWS sends a list",
    ),
    "policy_creation_time_past_a_datetime": (
        "DescribeScalingPolicies",
        _policy(CreationTime=2**70),
        "is past the dates a datetime holds",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_JSON_TYPE))
def test_a_json_type_botocore_would_convert_is_an_invalid_response(
    clients: AwsClients, endpoint: Endpoint, case: str
) -> None:
    operation, body, named = WRONG_JSON_TYPE[case]
    endpoint.broken[operation] = body
    with pytest.raises(LiveReadError) as caught:
        READERS[operation](clients)
    assert (caught.value.code, caught.value.operation) == (INVALID_RESPONSE, operation)
    assert named in str(caught.value)
    calls = counted(clients)
    assert calls.get((operation, INVALID_RESPONSE)) == 1
    assert (operation, "success") not in calls


def test_an_error_code_that_cannot_be_a_metric_label_is_counted_as_other_error(
    clients: AwsClients, endpoint: Endpoint
) -> None:
    """The outcome label of a failed call is the answer's own error code. ``success`` counted a
    failure as a success; ``throttled`` gave the throttled attempts' series a twin, and
    Prometheus refuses a scrape holding one series twice; a code of 2,000 characters or with a
    request id in it is no label. Each is ``OtherError``; the table's error still quotes it."""
    for code in ("success", "throttled", "x" * 2_000, "Denied for request 4f1c"):
        endpoint.errors["DescribeTable"] = (400, code, "odd")
        with pytest.raises(LiveReadError) as caught:
            read_table(clients.dynamodb(REGION), TABLE, REGION)
        assert caught.value.code == code
    assert counted(clients) == {("DescribeTable", "OtherError"): 4}


def test_an_operation_has_a_bounded_number_of_outcomes(clients: AwsClients, endpoint: Endpoint) -> None:
    """A proxy that names its errors afresh each time (``Error1f3a``, ``Error77b0`` ...) made one
    metric series per call for the life of the daemon. Past ``MAX_OUTCOMES`` distinct outcomes
    of one operation, a new one is counted as ``OtherError``."""
    from driftwatch.aws.calls import MAX_OUTCOMES

    for number in range(MAX_OUTCOMES + 8):
        endpoint.errors["DescribeTable"] = (400, f"Error{number}", "odd")
        with pytest.raises(LiveReadError):
            read_table(clients.dynamodb(REGION), TABLE, REGION)
    calls = counted(clients)
    assert len(calls) == MAX_OUTCOMES + 1
    assert calls[("DescribeTable", "OtherError")] == 8
    assert calls[("DescribeTable", "Error0")] == 1  # the first ones keep their names
