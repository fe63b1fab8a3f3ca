"""Checks that an AWS answer carries what driftwatch relies on, before anything reads it.

botocore turns a body it cannot parse -- truncated, an HTML error page from a proxy, garbage,
or a bare ``{}`` -- served with HTTP 200 into a response that is *empty* apart from
``ResponseMetadata``: no exception. Read with ``.get(..., default)`` such a response looks
like a table with every feature off ("PITR off", "TTL disabled", "tag removed"): a false
alarm. So each read states what it needs, and a response that lacks it is an
``InvalidResponse`` error for that table (or that region's autoscaling), never a default.

A field may be missing and still read as "off" only where the AWS API reference says that
absence means exactly that; each such place cites the reference next to it (here for the
response envelopes, in ``dynamodb.table_spec`` for the optional parts of a table). Pure
functions over plain dicts: testable without boto3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

INVALID_RESPONSE = "InvalidResponse"
"""The ``code`` of a ``LiveReadError`` for an answer that lacks what the call must return."""


class InvalidResponse(Exception):
    """An AWS answer without a field the call must return; the message names the field."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"the response has no valid {missing} (a truncated, empty or non-JSON answer?); "
            "nothing was compared"
        )


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidResponse(path)
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidResponse(path)
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidResponse(path)
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidResponse(path)
    return value


LONG_MAX = 2**63 - 1  # the API reference's "Type: Long"
INTEGER_MAX = 2**31 - 1  # "Type: Integer"


def _integer(value: Any, path: str, largest: int = LONG_MAX) -> int:
    """Capacity units are integers ("Type: Long"); ``5.5``, ``"5"`` or NaN compared with a
    declared 5 would be a false alarm, and so would 2^70, which no Long holds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidResponse(path)
    if value > largest:
        raise InvalidResponse(f"{path} (above {largest}, the largest value of its type)")
    return value


def _optional(value: Any, path: str, allowed: frozenset[str]) -> None:
    """An optional field that, when present, must hold one of the API reference's values: an
    unknown value is read as none of them (``"GARBAGE"`` as "TTL off") only by guessing."""
    if value is not None and (not isinstance(value, str) or value not in allowed):  # [] is unhashable
        raise InvalidResponse(f"{path} (not one of {', '.join(sorted(allowed))})")


def _optional_list(value: Any, path: str) -> list[Any]:
    """An optional list: absent (None) is none. ``""``, ``{}`` or ``false`` is not a list, and
    not "none" either (``value or []`` read them so: every declared GSI "missing")."""
    return [] if value is None else _list(value, path)


def _flag(value: Any, path: str) -> None:
    """An optional boolean: ``"false"`` is a string, and truthy."""
    if value is not None and not isinstance(value, bool):
        raise InvalidResponse(path)


# The enumerations of the DynamoDB API reference for the values driftwatch compares.
TTL_STATUSES = frozenset({"ENABLING", "DISABLING", "ENABLED", "DISABLED"})
PITR_STATUSES = frozenset({"ENABLED", "DISABLED"})
SSE_STATUSES = frozenset({"ENABLING", "ENABLED", "DISABLING", "DISABLED", "UPDATING"})
BILLING_MODES = frozenset({"PROVISIONED", "PAY_PER_REQUEST"})
TABLE_CLASSES = frozenset({"STANDARD", "STANDARD_INFREQUENT_ACCESS"})
STREAM_VIEW_TYPES = frozenset({"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"})
PROJECTION_TYPES = frozenset({"ALL", "KEYS_ONLY", "INCLUDE"})
KEY_TYPES = frozenset({"HASH", "RANGE"})
INDEX_STATUSES = frozenset({"CREATING", "UPDATING", "DELETING", "ACTIVE"})
REPLICA_STATUSES = frozenset(
    {
        "CREATING",
        "CREATION_FAILED",
        "UPDATING",
        "DELETING",
        "ACTIVE",
        "REGION_DISABLED",
        "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
        "ARCHIVING",
        "ARCHIVED",
        "REPLICATION_NOT_AUTHORIZED",
    }
)


# Of the Application Auto Scaling API reference: a policy's type, and the dimensions of the
# ``dynamodb`` namespace (the only one driftwatch lists).
POLICY_TYPES = frozenset({"StepScaling", "TargetTrackingScaling", "PredictiveScaling"})
DYNAMODB_DIMENSIONS = frozenset(
    {
        "dynamodb:table:ReadCapacityUnits",
        "dynamodb:table:WriteCapacityUnits",
        "dynamodb:index:ReadCapacityUnits",
        "dynamodb:index:WriteCapacityUnits",
    }
)


def describe_table(
    response: Mapping[str, Any], table_name: str, region: str | None = None
) -> Mapping[str, Any]:
    """``response["Table"]``, checked for the fields every table has; with ``region`` (an answer
    from AWS's own endpoint), its ARN must name that region.

    Required of every table (the API reference marks none of them optional in practice, and
    nothing can be compared without them): the name we asked for, its status, its ARN (the
    tags are read by ARN), a key schema with a HASH key whose attribute type is defined, and
    -- for a provisioned table -- its throughput. The optional parts (BillingModeSummary,
    SSEDescription, StreamSpecification, TableClassSummary, indexes, replicas) are judged in
    ``dynamodb.table_spec`` with the reference's wording for what their absence means; when
    present they must hold what the reference allows (an enumeration's values, a boolean, an
    integer capacity, an index's name and keys, a replica's region), or ``table_spec`` would
    read ``"GARBAGE"`` as "off", ``"false"`` as true and ``"5"`` as a capacity that differs
    from 5: a false alarm, or drift hidden.
    """
    table = _mapping(response.get("Table"), "Table")
    name = _string(table.get("TableName"), "Table.TableName")
    if name != table_name:
        raise InvalidResponse(f"Table.TableName (asked for {table_name!r}, got {name[:100]!r})")
    _string(table.get("TableStatus"), "Table.TableStatus")
    created = table.get("CreationDateTime")  # botocore parses it; anything else is not a time
    if created is not None and not isinstance(created, datetime):
        raise InvalidResponse("Table.CreationDateTime")
    arn = _string(table.get("TableArn"), "Table.TableArn")
    # The tags are read by this ARN: another table's would compare that table's tags. Another
    # region's is another table too (a global table's replica, from a proxy replaying answers),
    # but the region is checked only for AWS's own endpoints (``region``): DynamoDB Local,
    # reached through AWS_ENDPOINT_URL, names its own ("ddblocal"). An account is 12 digits.
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "dynamodb"
        or parts[5] != f"table/{table_name}"
        or (region is not None and parts[3] != region)
        or not (len(account) == 12 and account.isascii() and account.isdigit())
    ):
        where = f" in {region}" if region is not None else ""
        raise InvalidResponse(f"Table.TableArn (asked for table {table_name!r}{where}, got {arn[:200]!r})")
    types: dict[str, Any] = {}
    defined: set[str] = set()
    for definition in _list(table.get("AttributeDefinitions"), "Table.AttributeDefinitions"):
        definition = _mapping(definition, "Table.AttributeDefinitions[]")
        attribute = _string(definition.get("AttributeName"), "Table.AttributeDefinitions[].AttributeName")
        _once(attribute, defined, "Table.AttributeDefinitions[].AttributeName")
        kind = definition.get("AttributeType")  # "Required: Yes"
        if kind not in ("S", "N", "B"):
            raise InvalidResponse(f"Table.AttributeDefinitions type of {attribute[:100]!r}")
        types[attribute] = kind
    table_keys = _key_schema(table.get("KeySchema"), "Table.KeySchema", types)
    # "You may need to switch to on-demand mode at least once in order to return a
    # BillingModeSummary response" (API reference, BillingModeSummary): absent = PROVISIONED.
    billing = table.get("BillingModeSummary")
    mode = _mapping(billing, "Table.BillingModeSummary").get("BillingMode") if billing is not None else None
    if billing is not None:  # a summary of the mode: without one, not "PROVISIONED" by default
        _string(mode, "Table.BillingModeSummary.BillingMode")
    _optional(mode, "Table.BillingModeSummary.BillingMode", BILLING_MODES)
    provisioned = mode in (None, "PROVISIONED")
    if provisioned:
        _throughput(table.get("ProvisionedThroughput"), "Table.ProvisionedThroughput")
    # Optional parts: absent is read as the reference documents (dynamodb.table_spec); present,
    # they must hold what the reference says, or table_spec would read garbage as a value.
    if table.get("TableClassSummary") is not None:
        summary = _mapping(table["TableClassSummary"], "Table.TableClassSummary")
        # a summary is of a class: one without it is not "STANDARD", it is a broken answer
        _string(summary.get("TableClass"), "Table.TableClassSummary.TableClass")
        _optional(summary.get("TableClass"), "Table.TableClassSummary.TableClass", TABLE_CLASSES)
    if table.get("SSEDescription") is not None:
        sse = _mapping(table["SSEDescription"], "Table.SSEDescription")
        # absent, SSE is the AWS owned key (table_spec); present, without a status it is not "off"
        _string(sse.get("Status"), "Table.SSEDescription.Status")
        _optional(sse.get("Status"), "Table.SSEDescription.Status", SSE_STATUSES)
        if sse.get("KMSMasterKeyArn") is not None:  # compared with the declared key's ARN
            key = _string(sse["KMSMasterKeyArn"], "Table.SSEDescription.KMSMasterKeyArn")
            parts = key.split(":", 5)
            # "The KMS key ARN used for the KMS encryption": anything else compared with the
            # declared key's ARN was drift made of a garbage answer
            if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kms":
                path = "Table.SSEDescription.KMSMasterKeyArn"
                raise InvalidResponse(f"{path} ({key[:200]!r}, not a KMS key ARN)")
    if table.get("StreamSpecification") is not None:
        stream = _mapping(table["StreamSpecification"], "Table.StreamSpecification")
        if not isinstance(stream.get("StreamEnabled"), bool):  # "Required: Yes"
            raise InvalidResponse("Table.StreamSpecification.StreamEnabled")
        _optional(stream.get("StreamViewType"), "Table.StreamSpecification.StreamViewType", STREAM_VIEW_TYPES)
        # An enabled stream has a view type (CreateTable: "StreamViewType ... required" with
        # StreamEnabled); without it, one would be read as "no view type": drift from git's.
        if stream["StreamEnabled"] and stream.get("StreamViewType") is None:
            raise InvalidResponse("Table.StreamSpecification.StreamViewType of an enabled stream")
    _flag(table.get("DeletionProtectionEnabled"), "Table.DeletionProtectionEnabled")
    index_names: set[str] = set()  # GSIs and LSIs share one namespace
    for path, hashed in (("GlobalSecondaryIndexes", True), ("LocalSecondaryIndexes", False)):
        for index in _optional_list(table.get(path), f"Table.{path}"):
            index = _mapping(index, f"Table.{path}[]")
            _once(
                _string(index.get("IndexName"), f"Table.{path}[].IndexName"),
                index_names,
                f"Table.{path}[].IndexName",
            )
            keys = _key_schema(index.get("KeySchema"), f"Table.{path}[].KeySchema", types)
            # A local index has the table's partition key and a sort key of its own (CreateTable:
            # "The key schema must begin with the same partition key as the table"). Without
            # one, its sort key was read as "" (drift from git's); another partition key is
            # another table's index.
            if not hashed and ("RANGE" not in keys or keys["HASH"] != table_keys["HASH"]):
                raise InvalidResponse(
                    f"Table.{path}[].KeySchema (not the table's partition key and a sort key)"
                )
            # Every index is created with a projection (CreateTable: Projection "Required:
            # Yes"): without one, reading it as ALL would be a guess, drift from INCLUDE.
            projection = _mapping(index.get("Projection"), f"Table.{path}[].Projection")
            kind = projection.get("ProjectionType")
            _string(kind, f"Table.{path}[].Projection.ProjectionType")
            _optional(kind, f"Table.{path}[].Projection.ProjectionType", PROJECTION_TYPES)
            for attribute in _optional_list(projection.get("NonKeyAttributes"), "NonKeyAttributes"):
                _string(attribute, f"Table.{path}[].Projection.NonKeyAttributes[]")
            if hashed:  # IndexStatus: "Required: No"; when there, one of the reference's
                _optional(index.get("IndexStatus"), f"Table.{path}[].IndexStatus", INDEX_STATUSES)
            if hashed and provisioned:  # a GSI of a provisioned table has its own throughput
                _throughput(index.get("ProvisionedThroughput"), f"Table.{path}[].ProvisionedThroughput")
    regions: set[str] = set()
    for replica in _optional_list(table.get("Replicas"), "Table.Replicas"):
        replica = _mapping(replica, "Table.Replicas[]")
        region = _string(replica.get("RegionName"), "Table.Replicas[].RegionName")  # "Required: No",
        # but a replica without its region cannot be compared with any declared one
        _once(region, regions, "Table.Replicas[].RegionName")
        # "Required: No" (older global tables leave it out: table_spec reads ACTIVE); when
        # there, one of the reference's, or "HEALTHY" would be drift on the replica: a false alarm
        if replica.get("ReplicaStatus") is not None:
            path = "Table.Replicas[].ReplicaStatus"
            _optional(_string(replica["ReplicaStatus"], path), path, REPLICA_STATUSES)
    return table


def _once(name: str, seen: set[str], path: str, key: str | None = None) -> None:
    """Add ``key`` (default ``name``) to ``seen``; one listed twice is a broken answer.

    AWS names each attribute definition, index (GSIs and LSIs share one namespace), replica
    region, scalable target and scaling policy once. Read last-wins, a GSI listed ``KEYS_ONLY``
    then ``ALL`` was the declared ``ALL`` one (in sync), a replica ``DELETING`` then ``ACTIVE``
    an active replica, a scalable target 5..50 then 1..500 made any capacity the autoscaler's:
    drift hidden by whichever entry came last."""
    key = name if key is None else key
    if key in seen:
        raise InvalidResponse(f"{path} ({name[:100]!r} listed twice)")
    seen.add(key)


def _key_schema(value: Any, path: str, types: Mapping[str, Any]) -> dict[str, str]:
    """A key schema: exactly one HASH key, at most one RANGE key, each a defined S, N or B
    attribute (KeySchemaElement's two fields are "Required: Yes"), no attribute twice (one
    attribute as both keys was read as a range key of that name: drift from git's). Returns
    {key type: attribute}."""
    kinds: list[str] = []
    keys: dict[str, str] = {}
    attributes: set[str] = set()
    for key in _list(value, path):
        key = _mapping(key, f"{path}[]")
        attribute = _string(key.get("AttributeName"), f"{path}[].AttributeName")
        _once(attribute, attributes, path)
        kind = key.get("KeyType")
        if not isinstance(kind, str) or kind not in KEY_TYPES:
            raise InvalidResponse(f"{path}[].KeyType")
        kinds.append(kind)
        keys[kind] = attribute
        if types.get(attribute) not in ("S", "N", "B"):
            raise InvalidResponse(f"Table.AttributeDefinitions type of key {attribute[:100]!r}")
    if kinds.count("HASH") != 1 or kinds.count("RANGE") > 1:
        raise InvalidResponse(f"{path} HASH key")
    return keys


def _throughput(value: Any, path: str) -> None:
    """Read and write capacity: integers with "Valid Range: Minimum value of 0" (API reference,
    ProvisionedThroughputDescription); -5 compared with a declared 5 was drift."""
    throughput = _mapping(value, path)
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if _integer(throughput.get(field), f"{path}.{field}") < 0:
            raise InvalidResponse(f"{path}.{field} (below 0)")


def next_token(page: Mapping[str, Any], field: str = "NextToken") -> str | None:
    """A page's continuation token: absent (or empty) on the last page. Anything else that is
    not a string is a broken answer, not the last page: read as the end, it would drop the
    items of the pages after it (tags read as removed, autoscaling as absent)."""
    token = page.get(field)
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise InvalidResponse(field)
    return token


def describe_time_to_live(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """``response["TimeToLiveDescription"]`` with its status.

    AWS answers ``{"TimeToLiveStatus": "DISABLED"}`` for a table that never had TTL, so a
    missing description or status is not "disabled": it is a broken answer. ``AttributeName``
    may be absent (no attribute while disabled).
    """
    description = _mapping(response.get("TimeToLiveDescription"), "TimeToLiveDescription")
    status = _string(description.get("TimeToLiveStatus"), "TimeToLiveDescription.TimeToLiveStatus")
    _optional(status, "TimeToLiveDescription.TimeToLiveStatus", TTL_STATUSES)
    if description.get("AttributeName") is not None or status in ("ENABLED", "ENABLING"):
        # TTL on names its attribute (UpdateTimeToLive requires it); none would read as drift
        _string(description.get("AttributeName"), "TimeToLiveDescription.AttributeName")
    return description


def describe_continuous_backups(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """``response["ContinuousBackupsDescription"]``; its ``ContinuousBackupsStatus`` is
    "Required: Yes" in the API reference (ContinuousBackupsDescription).

    ``PointInTimeRecoveryDescription`` is "Required: No"; DescribeContinuousBackups says "If
    point in time recovery is enabled, PointInTimeRecoveryStatus will be set to ENABLED", so
    without it PITR is not enabled (``table_spec`` reads it so). When it is there, its status
    must be too.
    """
    description = _mapping(response.get("ContinuousBackupsDescription"), "ContinuousBackupsDescription")
    status = description.get("ContinuousBackupsStatus")
    _string(status, "ContinuousBackupsDescription.ContinuousBackupsStatus")
    _optional(status, "ContinuousBackupsDescription.ContinuousBackupsStatus", PITR_STATUSES)
    pitr = description.get("PointInTimeRecoveryDescription")
    if pitr is not None:
        path = "PointInTimeRecoveryDescription.PointInTimeRecoveryStatus"
        pitr_status = _mapping(pitr, "PointInTimeRecoveryDescription").get("PointInTimeRecoveryStatus")
        _optional(_string(pitr_status, path), path, PITR_STATUSES)
    return description


def list_tags_of_resource(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The page's (key, value) pairs. DynamoDB answers ``{"Tags": []}`` for an untagged table,
    so a page without a ``Tags`` list is broken, not "every tag removed"."""
    pairs: list[tuple[str, str]] = []
    for tag in _list(response.get("Tags"), "Tags"):
        tag = _mapping(tag, "Tags[]")
        value = tag.get("Value")
        if not isinstance(value, str):  # "" is a valid tag value; a missing one is not
            raise InvalidResponse("Tags[].Value")
        key = _string(tag.get("Key"), "Tags[].Key")
        # AWS's limits on every tag (TagResource): past them the answer is not AWS's, and a
        # listing would hold whatever it was sent, page after page.
        for path, text, limit in (("Tags[].Key", key, 128), ("Tags[].Value", value, 256)):
            if len(text) > limit:
                raise InvalidResponse(f"{path} (longer than {limit} characters, AWS's limit)")
        pairs.append((key, value))
    return pairs


class Listed:
    """The entries of one listing seen so far, across its pages: each must be listed once
    (``_once``), also when a broken continuation token hands the same page out again."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def scalable_targets(self, response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """``scalable_targets``, each (resource, dimension) once."""
        targets = scalable_targets(response)
        for target in targets:
            resource, dimension = target["ResourceId"], target["ScalableDimension"]
            _once(resource, self._seen, "ScalableTargets[].ResourceId", key=f"{resource}\0{dimension}")
        return targets

    def scaling_policies(self, response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """``scaling_policies``, each name once per scalable target."""
        policies = scaling_policies(response)
        for policy in policies:
            name, resource, dimension = (policy[f] for f in ("PolicyName", "ResourceId", "ScalableDimension"))
            # Joined with NUL, which no AWS name holds: the key is unambiguous.
            _once(name, self._seen, "ScalingPolicies[].PolicyName", key=f"{name}\0{resource}\0{dimension}")
        return policies


def scalable_targets(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The page's targets, each with the four fields driftwatch reads ("Required: Yes" in the
    API reference, ScalableTarget). An empty list is a real answer ("no autoscaling"); a page
    without the list is not."""
    listed = _list(response.get("ScalableTargets"), "ScalableTargets")
    targets = [_mapping(t, "ScalableTargets[]") for t in listed]
    for target in targets:
        _dynamodb_resource(target, "ScalableTargets[]")
        # Integers ("Type: Integer"), min <= max: 5.5 or a min above the max would make the
        # capacity inside the range look outside it (diff._owned_by_autoscaler), i.e. drift.
        low = _integer(target.get("MinCapacity"), "ScalableTargets[].MinCapacity", INTEGER_MAX)
        high = _integer(target.get("MaxCapacity"), "ScalableTargets[].MaxCapacity", INTEGER_MAX)
        if low > high:
            raise InvalidResponse("ScalableTargets[].MinCapacity (above MaxCapacity)")
        # RegisterScalableTarget: "For all other resources [DynamoDB's among them], the minimum
        # value allowed is 1". A min of 0 or below was drift on the declared min.
        if low < 1:
            raise InvalidResponse("ScalableTargets[].MinCapacity (below 1, the least a DynamoDB target has)")
    return targets


def scaling_policies(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The page's policies, each with name, resource, dimension and type ("Required: Yes" in
    the API reference, ScalingPolicy); a target-tracking policy's configuration must carry its
    ``TargetValue`` ("Required: Yes", TargetTrackingScalingPolicyConfiguration)."""
    listed = _list(response.get("ScalingPolicies"), "ScalingPolicies")
    policies = [_mapping(p, "ScalingPolicies[]") for p in listed]
    for policy in policies:
        name = _string(policy.get("PolicyName"), "ScalingPolicies[].PolicyName")
        if len(name) > POLICY_NAME_MAX:  # kept for every policy of the listing, as ResourceId is
            raise InvalidResponse(f"ScalingPolicies[].PolicyName (longer than {POLICY_NAME_MAX} characters)")
        _dynamodb_resource(policy, "ScalingPolicies[]")
        path = "ScalingPolicies[].PolicyType"
        _optional(_string(policy.get("PolicyType"), path), path, POLICY_TYPES)
        if policy.get("PolicyType") == "TargetTrackingScaling":
            config = _mapping(
                policy.get("TargetTrackingScalingPolicyConfiguration"),
                "ScalingPolicies[].TargetTrackingScalingPolicyConfiguration",
            )
            path = "TargetTrackingScalingPolicyConfiguration"
            # "Values must be in the range of -2^360 to 2^360" (TargetValue); a cooldown is an
            # Integer. Past them, 1e308 or 2^40 was drift from the declared value.
            if abs(_number(config.get("TargetValue"), f"{path}.TargetValue")) > TARGET_VALUE_MAX:
                raise InvalidResponse(f"{path}.TargetValue (outside -2^360 to 2^360, the reference's range)")
            for field in ("ScaleInCooldown", "ScaleOutCooldown"):
                cooldown = config.get(field)
                if isinstance(cooldown, int) and cooldown > INTEGER_MAX:
                    raise InvalidResponse(f"{path}.{field} (above {INTEGER_MAX}, the largest Integer)")
                if isinstance(cooldown, int) and cooldown < -INTEGER_MAX - 1:
                    raise InvalidResponse(f"{path}.{field} (below {-INTEGER_MAX - 1}, the least Integer)")
    return policies


TARGET_VALUE_MAX = 2.0**360
"""The largest TargetValue, either sign (Application Auto Scaling API reference)."""


_NAME_MAX = 255  # a DynamoDB table's or index's name (TableName, IndexName: "Maximum length of 255")
POLICY_NAME_MAX = 256  # PolicyName: "Maximum length of 256" (Application Auto Scaling API reference)


def _dynamodb_resource(entry: Mapping[str, Any], path: str) -> None:
    """An entry of a ``dynamodb`` listing names a DynamoDB table (``table/<t>``) or index
    (``table/<t>/index/<i>``) with a dimension of its kind ("Required: Yes", all three). Any
    other entry is a broken answer: passed over, it read the table as not autoscaled."""
    namespace = _string(entry.get("ServiceNamespace"), f"{path}.ServiceNamespace")
    _optional(namespace, f"{path}.ServiceNamespace", frozenset({"dynamodb"}))
    dimension = _string(entry.get("ScalableDimension"), f"{path}.ScalableDimension")
    _optional(dimension, f"{path}.ScalableDimension", DYNAMODB_DIMENSIONS)
    resource = _string(entry.get("ResourceId"), f"{path}.ResourceId")
    parts = resource.split("/")
    index = dimension.startswith("dynamodb:index:")
    shaped = len(parts) == 4 and parts[2] == "index" if index else len(parts) == 2
    if not (shaped and parts[0] == "table" and all(parts)):
        kind = "table/<table>/index/<index>" if index else "table/<table>"
        raise InvalidResponse(f"{path}.ResourceId ({resource[:200]!r} for {dimension}, not {kind})")
    if any(len(name) > _NAME_MAX for name in parts):
        # A listing keeps every entry's ResourceId (to refuse one listed twice), up to 50,000 of
        # them: unbounded, pages of megabyte-long ids held gigabytes by the end of the listing.
        raise InvalidResponse(f"{path}.ResourceId (a table or index name over {_NAME_MAX} characters)")


def assume_role(response: Mapping[str, Any], now: datetime | None = None) -> Mapping[str, Any]:
    """``response["Credentials"]`` with the four fields botocore's refresh needs ("Required:
    Yes" in the STS API reference, Credentials); without them the role cannot be used.

    Credentials that expire before ``now`` (this host's clock) cannot be used either: botocore
    refreshed them, found them still expired and raised ``RuntimeError``, an unexpected error
    of every table of the role after a call counted a success. A replayed answer, or a host
    clock far ahead of AWS's, gives them."""
    credentials = _mapping(response.get("Credentials"), "Credentials")
    for field in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        _string(credentials.get(field), f"Credentials.{field}")
    expiration = credentials.get("Expiration")
    if not isinstance(expiration, datetime) or expiration.tzinfo is None:  # botocore's parse: aware
        raise InvalidResponse("Credentials.Expiration")
    now = now or datetime.now(UTC)
    if expiration <= now:
        stamp = expiration.isoformat()
        raise InvalidResponse(
            f"Credentials.Expiration ({stamp}, already past by this host's clock: is the clock ahead?)"
        )
    # botocore refreshes credentials only shortly before their Expiration: one far ahead (9999)
    # was kept after AWS ended the session, every call of the role ExpiredToken until a restart.
    if expiration > now + LONGEST_SESSION:
        stamp = expiration.isoformat()
        raise InvalidResponse(
            f"Credentials.Expiration ({stamp}, more than 12 hours ahead by this host's clock: "
            "AssumeRole gives no longer session)"
        )
    return credentials


LONGEST_SESSION = timedelta(hours=12, minutes=15)
"""AssumeRole's longest session ("up to the maximum session duration setting for the role",
which is 1 to 12 hours; driftwatch asks for the default hour), with 15 minutes for clock skew."""


def caller_identity(response: Mapping[str, Any]) -> str:
    """``response["Account"]``: the account the credentials act in, exactly twelve digits.

    It decides whether tables declared for an account are read at all (driftwatch.accounts),
    so an answer without it -- or with anything else in it -- is never taken for an account."""
    account = response.get("Account")
    if not isinstance(account, str) or len(account) != 12 or not account.isascii() or not account.isdigit():
        raise InvalidResponse("Account (a 12-digit account id)")
    return account
