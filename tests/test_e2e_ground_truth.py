"""Every row of the drift ground truth, end to end against the embedded AWS (moto).

The ground truth is an experiment run once with Terraform: a table declared through the
CloudPosse module, applied, changed out of band one way at a time, and ``terraform plan
-detailed-exitcode`` asked what it would change. Each row below is one such change and the
attributes plan reported.

Each test plays the oracle's experiment: the ground-truth table declared through the CloudPosse
module (tests/fixtures/ground_truth) is evaluated by driftwatch, created in moto exactly as
declared (what ``terraform apply`` did), scanned once to prove the baseline is in sync, changed
out of band with boto3 exactly as the row says, and scanned again. The set of drift attributes
must equal the row's last column -- nothing more, nothing less -- because that is what
``terraform plan -detailed-exitcode`` said (with the one documented deviation, row 11).

Where moto cannot represent a row, the test patches moto's model for that test only
(``monkeypatch``, undone afterwards) and says why:
  * rows 7 and 8: moto refuses to re-enable a stream on any table that ever had one;
  * row 26: moto's application-autoscaling has no TagResource / ListTagsForResource.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from driftwatch.aws.clients import AwsClients
from driftwatch.demo.provision import create_table
from driftwatch.scan import Parity, ScanSettings, declare, scan
from driftwatch.spec import Drift, TableResult, TableSpec, TableStatus
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache

FIXTURE = Path(__file__).parent / "fixtures" / "ground_truth"
REGION = "us-east-1"
TABLE = "acme-prod-orders"
GSI = "tenant-index"
TABLE_RESOURCE = f"table/{TABLE}"
GSI_RESOURCE = f"{TABLE_RESOURCE}/index/{GSI}"
# The types the fixture's `dynamodb_attributes` declare, so the GSI is created as declared.
ATTRIBUTE_TYPES = {"h": "S", "r": "S", "tenant_id": "S", "timestamp": "N"}
TABLE_READ = "dynamodb:table:ReadCapacityUnits"
TABLE_WRITE = "dynamodb:table:WriteCapacityUnits"
INDEX_WRITE = "dynamodb:index:WriteCapacityUnits"
# Keyed by content hash, so sharing it between tests only saves re-parsing identical files.
PARSE_CACHE = ParseCache()


# --------------------------------------------------------------------------- the live account


@dataclass
class Aws:
    """boto3 clients for the out-of-band changes, plus monkeypatch for per-test moto patches."""

    dynamodb: Any
    autoscaling: Any
    monkeypatch: pytest.MonkeyPatch
    session: boto3.Session

    def describe(self) -> dict[str, Any]:
        table: dict[str, Any] = self.dynamodb.describe_table(TableName=TABLE)["Table"]
        return table

    @property
    def arn(self) -> str:
        return str(self.describe()["TableArn"])

    def update(self, **kwargs: Any) -> None:
        self.dynamodb.update_table(TableName=TABLE, **kwargs)

    def policy(self, resource_id: str, dimension: str) -> dict[str, Any]:
        policies = self.autoscaling.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=resource_id, ScalableDimension=dimension
        )["ScalingPolicies"]
        assert len(policies) == 1, policies
        policy: dict[str, Any] = policies[0]
        return policy

    def scalable_target(self, resource_id: str, dimension: str) -> dict[str, Any]:
        targets = self.autoscaling.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[resource_id], ScalableDimension=dimension
        )["ScalableTargets"]
        assert len(targets) == 1, targets
        target: dict[str, Any] = targets[0]
        return target


# --------------------------------------------------------------------------- moto patches (per test)


def allow_stream_reenable(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS refuses StreamEnabled only while a stream is enabled; moto refuses it on any table
    that ever had a stream (it checks ``latest_stream_label``), so rows 7 and 8 -- disable, then
    enable again -- cannot be played. Restore AWS's rule; enabling still mints a new label/ARN."""
    from moto.dynamodb.exceptions import StreamAlreadyEnabledException
    from moto.dynamodb.models import DynamoDBBackend

    def update_table_streams(self: Any, table: Any, specification: dict[str, Any]) -> None:
        current = table.stream_specification or {}
        if specification.get("StreamEnabled") and current.get("StreamEnabled"):
            raise StreamAlreadyEnabledException
        table.set_stream_specification(specification)

    monkeypatch.setattr(DynamoDBBackend, "update_table_streams", update_table_streams)


def add_autoscaling_tagging(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's application-autoscaling has no TagResource / ListTagsForResource (row 26). Add
    both, storing tags by scalable-target ARN, with AWS's request and response shapes."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    tags: dict[str, dict[str, str]] = {}

    def tag_resource(self: Any) -> str:
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags"))
        return "{}"

    def list_tags_for_resource(self: Any) -> str:
        return json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    monkeypatch.setattr(ApplicationAutoScalingResponse, "tag_resource", tag_resource, raising=False)
    monkeypatch.setattr(
        ApplicationAutoScalingResponse, "list_tags_for_resource", list_tags_for_resource, raising=False
    )


# --------------------------------------------------------------------------- out-of-band changes


def pitr_disabled(aws: Aws) -> None:
    aws.dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )


def pitr_recovery_period_7_days(aws: Aws) -> None:
    aws.dynamodb.update_continuous_backups(
        TableName=TABLE,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7},
    )
    pitr = aws.dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7


def ttl_disabled(aws: Aws) -> None:
    aws.dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"}
    )


def ttl_enabled(aws: Aws) -> None:
    aws.dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    ttl = aws.dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def ttl_attribute_renamed(aws: Aws) -> None:
    # AWS cannot rename the attribute of an enabled TTL: off first, then on with the new name.
    ttl_disabled(aws)
    aws.dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )


def table_class_standard(aws: Aws) -> None:
    aws.update(TableClass="STANDARD")


def deletion_protection_on(aws: Aws) -> None:
    aws.update(DeletionProtectionEnabled=True)


def stream_disabled(aws: Aws) -> None:
    aws.update(StreamSpecification={"StreamEnabled": False})


def stream_enabled(aws: Aws) -> None:
    aws.update(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def stream_recreated_keys_only(aws: Aws) -> None:
    allow_stream_reenable(aws.monkeypatch)
    stream_disabled(aws)
    aws.update(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})


def stream_recreated_same_view_type(aws: Aws) -> None:
    allow_stream_reenable(aws.monkeypatch)
    before = aws.describe()["LatestStreamArn"]
    stream_disabled(aws)
    stream_enabled(aws)
    after = aws.describe()
    assert after["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert after["LatestStreamArn"] != before  # a new stream, as in AWS


def billing_on_demand(aws: Aws) -> None:
    aws.update(BillingMode="PAY_PER_REQUEST")


def table_throughput_12_9(aws: Aws) -> None:
    aws.update(ProvisionedThroughput={"ReadCapacityUnits": 12, "WriteCapacityUnits": 9})


def _gsi_throughput(aws: Aws, read: int, write: int) -> None:
    aws.update(
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": GSI,
                    "ProvisionedThroughput": {"ReadCapacityUnits": read, "WriteCapacityUnits": write},
                }
            }
        ]
    )
    gsi = aws.describe()["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]
    assert (gsi["ReadCapacityUnits"], gsi["WriteCapacityUnits"]) == (read, write)


def gsi_throughput_12_9(aws: Aws) -> None:
    _gsi_throughput(aws, 12, 9)


def gsi_throughput_50_40(aws: Aws) -> None:
    _gsi_throughput(aws, 50, 40)


def _attribute_definitions(extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    types = {**ATTRIBUTE_TYPES, **(extra or {})}
    return [{"AttributeName": k, "AttributeType": v} for k, v in types.items()]


def gsi_deleted(aws: Aws) -> None:
    aws.update(GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": GSI}}])
    assert not aws.describe().get("GlobalSecondaryIndexes")


def gsi_recreated_projection_all(aws: Aws) -> None:
    gsi_deleted(aws)  # AWS allows one index operation per UpdateTable: delete, then create
    aws.update(
        AttributeDefinitions=_attribute_definitions(),
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": GSI,
                    "KeySchema": [
                        {"AttributeName": "tenant_id", "KeyType": "HASH"},
                        {"AttributeName": "timestamp", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
            }
        ],
    )
    assert aws.describe()["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "ALL"}


def extra_gsi_added(aws: Aws) -> None:
    aws.update(
        AttributeDefinitions=_attribute_definitions({"customer_id": "S"}),
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "extra-index",
                    "KeySchema": [{"AttributeName": "customer_id", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
            }
        ],
    )
    assert len(aws.describe()["GlobalSecondaryIndexes"]) == 2


def sse_aws_owned_key(aws: Aws) -> None:
    aws.update(SSESpecification={"Enabled": False})
    assert "SSEDescription" not in aws.describe()


def sse_customer_managed_key(aws: Aws) -> None:
    key_arn = aws.session.client("kms").create_key(Description="orders CMK")["KeyMetadata"]["Arn"]
    before = aws.describe()["SSEDescription"]["KMSMasterKeyArn"]
    aws.update(SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn})
    assert aws.describe()["SSEDescription"]["KMSMasterKeyArn"] == key_arn != before


def _tag(aws: Aws, key: str, value: str) -> None:
    aws.dynamodb.tag_resource(ResourceArn=aws.arn, Tags=[{"Key": key, "Value": value}])


def tag_extra_added(aws: Aws) -> None:
    _tag(aws, "Extra", "manual")


def tag_team_removed(aws: Aws) -> None:
    aws.dynamodb.untag_resource(ResourceArn=aws.arn, TagKeys=["Team"])


def tag_team_changed(aws: Aws) -> None:
    _tag(aws, "Team", "payments")


def tag_name_changed(aws: Aws) -> None:
    _tag(aws, "Name", "orders-by-hand")


def _register(aws: Aws, resource_id: str, dimension: str, low: int, high: int) -> None:
    aws.autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource_id,
        ScalableDimension=dimension,
        MinCapacity=low,
        MaxCapacity=high,
    )
    target = aws.scalable_target(resource_id, dimension)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (low, high)


def table_read_target_1_100(aws: Aws) -> None:
    _register(aws, TABLE_RESOURCE, TABLE_READ, 1, 100)


def gsi_write_target_2_40(aws: Aws) -> None:
    _register(aws, GSI_RESOURCE, INDEX_WRITE, 2, 40)


def table_read_policy_target_70(aws: Aws) -> None:
    policy = aws.policy(TABLE_RESOURCE, TABLE_READ)
    configuration = dict(policy["TargetTrackingScalingPolicyConfiguration"], TargetValue=70.0)
    aws.autoscaling.put_scaling_policy(
        PolicyName=policy["PolicyName"],
        ServiceNamespace="dynamodb",
        ResourceId=TABLE_RESOURCE,
        ScalableDimension=TABLE_READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=configuration,
    )
    assert (
        aws.policy(TABLE_RESOURCE, TABLE_READ)["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        == 70
    )


def table_write_policy_deleted(aws: Aws) -> None:
    policy = aws.policy(TABLE_RESOURCE, TABLE_WRITE)
    aws.autoscaling.delete_scaling_policy(
        PolicyName=policy["PolicyName"],
        ServiceNamespace="dynamodb",
        ResourceId=TABLE_RESOURCE,
        ScalableDimension=TABLE_WRITE,
    )


def table_read_target_deregistered(aws: Aws) -> None:
    # moto leaves the target's policy behind (a listed moto gap): driftwatch must not count an
    # orphaned policy as a live target. The "-aws" variant below deletes it too, as AWS does.
    aws.autoscaling.deregister_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=TABLE_RESOURCE, ScalableDimension=TABLE_READ
    )


def table_read_target_deregistered_as_aws(aws: Aws) -> None:
    policy = aws.policy(TABLE_RESOURCE, TABLE_READ)
    table_read_target_deregistered(aws)
    aws.autoscaling.delete_scaling_policy(
        PolicyName=policy["PolicyName"],
        ServiceNamespace="dynamodb",
        ResourceId=TABLE_RESOURCE,
        ScalableDimension=TABLE_READ,
    )


def scalable_target_tagged(aws: Aws) -> None:
    add_autoscaling_tagging(aws.monkeypatch)
    arn = aws.scalable_target(TABLE_RESOURCE, TABLE_READ)["ScalableTargetARN"]
    aws.autoscaling.tag_resource(ResourceARN=arn, Tags={"CostCenter": "1234"})
    assert aws.autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"CostCenter": "1234"}


def table_deleted(aws: Aws) -> None:
    aws.dynamodb.delete_table(TableName=TABLE)


def gsi_targets_deregistered_then_throughput_12_9(aws: Aws) -> None:
    for dimension in ("dynamodb:index:ReadCapacityUnits", INDEX_WRITE):
        aws.autoscaling.deregister_scalable_target(
            ServiceNamespace="dynamodb", ResourceId=GSI_RESOURCE, ScalableDimension=dimension
        )
    gsi_throughput_12_9(aws)


def table_throughput_50_40(aws: Aws) -> None:
    aws.update(ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 40})


def cloudformation_tag_added(aws: Aws) -> None:
    # AWS reserves the aws: prefix for itself (CloudFormation sets these); moto lets us set one.
    _tag(aws, "aws:cloudformation:stack-name", "orders")


def several_changes(aws: Aws) -> None:
    pitr_disabled(aws)
    ttl_disabled(aws)
    table_class_standard(aws)


# --------------------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Row:
    """One row of the ground-truth table: the change and what driftwatch must report."""

    id: str
    change: Callable[[Aws], None]
    expected: frozenset[str] = frozenset()
    # (declared, live) of some expected attributes, where the values are unambiguous.
    values: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    version: str = "~> 0.37"
    vars: Mapping[str, str] = field(default_factory=dict)
    parity: Parity = "default"
    status: TableStatus | None = None

    @property
    def expected_status(self) -> TableStatus:
        if self.status is not None:
            return self.status
        return TableStatus.DRIFTED if self.expected else TableStatus.IN_SYNC


def _row(id: str, change: Callable[[Aws], None], *expected: str, **kwargs: Any) -> Any:
    return pytest.param(Row(id, change, frozenset(expected), **kwargs), id=id)


GSI_READ, GSI_WRITE = f"gsi.{GSI}.read_capacity", f"gsi.{GSI}.write_capacity"
TTL_OFF = {"ttl_enabled": "false"}

ROWS = [
    _row("1", pitr_disabled, "point_in_time_recovery", values={"point_in_time_recovery": (True, False)}),
    _row("1b", pitr_recovery_period_7_days),
    _row("2", ttl_disabled, "ttl.enabled", values={"ttl.enabled": (True, False)}),
    _row("2b-0.35.0", ttl_enabled, version="0.35.0", vars=TTL_OFF),
    _row(
        "2b-0.35.1",
        ttl_enabled,
        "ttl.enabled",
        version="0.35.1",
        vars=TTL_OFF,
        values={"ttl.enabled": (False, True)},
    ),
    _row("2b-~>0.37", ttl_enabled, "ttl.enabled", vars=TTL_OFF, values={"ttl.enabled": (False, True)}),
    _row("3", ttl_attribute_renamed, "ttl.attribute", values={"ttl.attribute": ("expires_at", "ttl")}),
    _row(
        "4",
        table_class_standard,
        "table_class",
        values={"table_class": ("STANDARD_INFREQUENT_ACCESS", "STANDARD")},
    ),
    _row("5", deletion_protection_on, "deletion_protection", values={"deletion_protection": (False, True)}),
    _row("6", stream_disabled, "stream.enabled", values={"stream.enabled": (True, False)}),
    _row(
        "6b",
        stream_enabled,
        "stream.enabled",
        vars={"enable_streams": "false"},
        values={"stream.enabled": (False, True)},
    ),
    _row(
        "7",
        stream_recreated_keys_only,
        "stream.view_type",
        values={"stream.view_type": ("NEW_AND_OLD_IMAGES", "KEYS_ONLY")},
    ),
    _row("8", stream_recreated_same_view_type),
    _row("9", billing_on_demand, "billing_mode", values={"billing_mode": ("PROVISIONED", "PAY_PER_REQUEST")}),
    _row("10", table_throughput_12_9),
    _row("10-strict", table_throughput_12_9, parity="strict"),  # the module ignores table capacity
    _row("11", gsi_throughput_12_9),  # the deliberate deviation: the autoscaler owns it
    _row(
        "11-strict",
        gsi_throughput_12_9,
        GSI_READ,
        GSI_WRITE,
        parity="strict",
        values={GSI_READ: (5, 12), GSI_WRITE: (5, 9)},
    ),
    _row("11b", gsi_throughput_50_40, GSI_READ, GSI_WRITE, values={GSI_READ: (5, 50), GSI_WRITE: (5, 40)}),
    _row(
        "12",
        gsi_recreated_projection_all,
        f"gsi.{GSI}.projection_type",
        values={f"gsi.{GSI}.projection_type": ("KEYS_ONLY", "ALL")},
    ),
    _row("13", gsi_deleted, f"gsi.{GSI}"),
    _row("14", extra_gsi_added, "gsi.extra-index"),
    _row("15", sse_aws_owned_key, "sse.enabled", values={"sse.enabled": (True, False)}),
    _row("16", sse_customer_managed_key),
    _row("17", tag_extra_added, "tags.Extra", values={"tags.Extra": (None, "manual")}),
    _row("18", tag_team_removed, "tags.Team", values={"tags.Team": ("storage", None)}),
    _row("19", tag_team_changed, "tags.Team", values={"tags.Team": ("storage", "payments")}),
    _row("20", tag_name_changed, "tags.Name", values={"tags.Name": (TABLE, "orders-by-hand")}),
    _row(
        "21",
        table_read_target_1_100,
        "autoscaling.read.min",
        "autoscaling.read.max",
        values={"autoscaling.read.min": (5, 1), "autoscaling.read.max": (20, 100)},
    ),
    _row(
        "22",
        gsi_write_target_2_40,
        f"gsi.{GSI}.autoscaling.write.min",
        f"gsi.{GSI}.autoscaling.write.max",
        values={f"gsi.{GSI}.autoscaling.write.min": (5, 2), f"gsi.{GSI}.autoscaling.write.max": (20, 40)},
    ),
    _row(
        "23",
        table_read_policy_target_70,
        "autoscaling.read.target",
        values={"autoscaling.read.target": (50.0, 70.0)},
    ),
    _row(
        "24",
        table_write_policy_deleted,
        "autoscaling.write.target",
        values={"autoscaling.write.target": (50.0, None)},
    ),
    _row(
        "25",
        table_read_target_deregistered,
        "autoscaling.read.min",
        "autoscaling.read.max",
        "autoscaling.read.target",
        values={
            "autoscaling.read.min": (5, None),
            "autoscaling.read.max": (20, None),
            "autoscaling.read.target": (50.0, None),
        },
    ),
    _row(
        "25-aws",
        table_read_target_deregistered_as_aws,
        "autoscaling.read.min",
        "autoscaling.read.max",
        "autoscaling.read.target",
    ),
    _row("26", scalable_target_tagged),  # outside the vocabulary: not drift
    _row("27", table_deleted, "table", status=TableStatus.MISSING, values={"table": (TABLE, None)}),
]


# The rules stated under the table, played the same way.
GSI_AUTOSCALING = [
    f"gsi.{GSI}.autoscaling.{d}.{f}" for d in ("read", "write") for f in ("min", "max", "target")
]
RULES = [
    # GSI capacity on a GSI without an autoscaling target is drift (and the targets are gone).
    _row(
        "gsi-capacity-without-target",
        gsi_targets_deregistered_then_throughput_12_9,
        GSI_READ,
        GSI_WRITE,
        *GSI_AUTOSCALING,
    ),
    # Table capacity is never drift for a CloudPosse table, even beyond the autoscaler's max.
    _row("table-capacity-beyond-max", table_throughput_50_40),
    _row("table-capacity-beyond-max-strict", table_throughput_50_40, parity="strict"),
    # Capacity under PAY_PER_REQUEST is not compared, in strict parity either.
    _row("on-demand-strict", billing_on_demand, "billing_mode", parity="strict"),
    # Tags with the reserved aws: prefix are not drift.
    _row("aws-prefixed-tag", cloudformation_tag_added),
    # Changes together are each reported, and nothing else.
    _row("several-changes", several_changes, "point_in_time_recovery", "ttl.enabled", "table_class"),
]


# --------------------------------------------------------------------------- the flow


def ground_truth_target(tmp_path: Path, version: str, variables: Mapping[str, str]) -> TargetInput:
    """A copy of the fixture with the module's version constraint set to ``version``."""
    root = tmp_path / "ground_truth"
    shutil.copytree(FIXTURE, root)
    main = root / "main.tf"
    text, count = re.subn(r'version = "[^"]*"', f'version = "{version}"', main.read_text())
    assert count == 1
    main.write_text(text)
    return TargetInput(name="ground-truth", repo=root, root=root, vars=dict(variables), region=REGION, env={})


def declared_spec(target: TargetInput) -> TableSpec:
    declared = declare([target], PARSE_CACHE)
    assert declared.errors == [] and declared.early == []
    assert [job.name for job in declared.jobs] == [TABLE]
    assert declared.jobs[0].region == REGION
    return declared.jobs[0].table.spec


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    """One boto3 session for the module: botocore then loads its service models once, not per
    scan (that alone would cost ~10 s here). Fake credentials, so only moto can answer."""
    import moto  # noqa: F401  (registers moto's botocore hook, which a session picks up when created)

    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture
def aws(embedded_aws: None, session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> Aws:
    return Aws(
        dynamodb=session.client("dynamodb"),
        autoscaling=session.client("application-autoscaling"),
        monkeypatch=monkeypatch,
        session=session,
    )


def check(aws: Aws, target: TargetInput, parity: Parity = "default") -> TableResult:
    report = scan([target], AwsClients(aws.session), cache=PARSE_CACHE, settings=ScanSettings(parity=parity))
    assert report.errors == ()
    assert len(report.tables) == 1
    return report.tables[0]


def provision(aws: Aws, target: TargetInput) -> TableSpec:
    """terraform apply: create the table exactly as declared."""
    spec = declared_spec(target)
    create_table(aws.dynamodb, aws.autoscaling, spec, ATTRIBUTE_TYPES)
    return spec


def play(row: Row, aws: Aws, tmp_path: Path) -> None:
    """Provision as declared, prove the baseline in sync, change out of band, check the findings."""
    target = ground_truth_target(tmp_path, row.version, row.vars)
    provision(aws, target)

    baseline = check(aws, target, row.parity)
    assert baseline.status is TableStatus.IN_SYNC
    assert (baseline.drift, baseline.unresolved, baseline.error) == ((), (), None)

    row.change(aws)
    result = check(aws, target, row.parity)

    assert {d.attribute for d in result.drift} == row.expected
    assert len(result.drift) == len(row.expected)  # each attribute reported once
    assert result.status is row.expected_status
    assert result.error is None
    assert result.unresolved == ()
    assert (result.table_name, result.region, result.address) == (TABLE, REGION, "module.orders")
    found = {d.attribute: (d.declared, d.live) for d in result.drift}
    for attribute, values in row.values.items():
        assert found[attribute] == values, attribute


@pytest.mark.parametrize("row", ROWS)
def test_ground_truth_row(row: Row, aws: Aws, tmp_path: Path) -> None:
    play(row, aws, tmp_path)


@pytest.mark.parametrize("row", RULES)
def test_ground_truth_rule(row: Row, aws: Aws, tmp_path: Path) -> None:
    play(row, aws, tmp_path)


# The row numbers of the ground-truth experiment (RULES above holds one Row per row).
REFERENCE_ROWS = {str(n) for n in range(1, 28)} | {"1b", "2b", "6b", "11b"}


def test_every_row_of_the_reference_is_covered() -> None:
    covered = {param.values[0].id.split("-")[0] for param in ROWS}
    assert covered == REFERENCE_ROWS


# --------------------------------------------------------------------------- declared values


@pytest.mark.parametrize(
    ("version", "ttl_unmanaged"),
    [("0.35.0", True), ("0.35.1", False), ("~> 0.37", False), ("~> 0.35.0", False)],
)
def test_ttl_disabled_is_managed_from_module_0_35_1_on(
    tmp_path: Path, version: str, ttl_unmanaged: bool
) -> None:
    """Row 2b's cause: 0.35.0 has no ttl block; a constraint admitting 0.35.1 uses the newest."""
    spec = declared_spec(ground_truth_target(tmp_path, version, TTL_OFF))
    assert spec.ttl.enabled is False
    assert spec.is_managed("ttl.enabled") is not ttl_unmanaged


def test_missing_table_row_27_reports_only_the_table(aws: Aws, tmp_path: Path) -> None:
    target = ground_truth_target(tmp_path, "~> 0.37", {})
    provision(aws, target)
    table_deleted(aws)
    report = scan([target], AwsClients(aws.session))
    assert report.tables[0].drift == (Drift("table", TABLE, None),)
    assert report.exit_code == 2


def test_drift_and_in_sync_exit_codes(aws: Aws, tmp_path: Path) -> None:
    target = ground_truth_target(tmp_path, "~> 0.37", {})
    provision(aws, target)
    assert scan([target], AwsClients(aws.session)).exit_code == 0
    pitr_disabled(aws)
    assert scan([target], AwsClients(aws.session)).exit_code == 2
