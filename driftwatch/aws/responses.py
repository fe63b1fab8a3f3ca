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

from collections.abc import Mapping
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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidResponse(path)
    return value


def describe_table(response: Mapping[str, Any], table_name: str) -> Mapping[str, Any]:
    """``response["Table"]``, checked for the fields every table has.

    Required of every table (the API reference marks none of them optional in practice, and
    nothing can be compared without them): the name we asked for, its status, its ARN (the
    tags are read by ARN), a key schema with a HASH key whose attribute type is defined, and
    -- for a provisioned table -- its throughput. The optional parts (BillingModeSummary,
    SSEDescription, StreamSpecification, TableClassSummary, indexes, replicas) are judged in
    ``dynamodb.table_spec`` with the reference's wording for what their absence means.
    """
    table = _mapping(response.get("Table"), "Table")
    name = _string(table.get("TableName"), "Table.TableName")
    if name != table_name:
        raise InvalidResponse(f"Table.TableName (asked for {table_name!r}, got {name[:100]!r})")
    _string(table.get("TableStatus"), "Table.TableStatus")
    _string(table.get("TableArn"), "Table.TableArn")
    types: dict[str, Any] = {}
    for definition in _list(table.get("AttributeDefinitions"), "Table.AttributeDefinitions"):
        definition = _mapping(definition, "Table.AttributeDefinitions[]")
        types[_string(definition.get("AttributeName"), "AttributeName")] = definition.get("AttributeType")
    schema = _list(table.get("KeySchema"), "Table.KeySchema")
    hash_keys = [
        k.get("AttributeName") for k in schema if isinstance(k, Mapping) and k.get("KeyType") == "HASH"
    ]
    if len(hash_keys) != 1 or not isinstance(hash_keys[0], str) or not hash_keys[0]:
        raise InvalidResponse("Table.KeySchema HASH key")
    for key in schema:
        attribute = str(_mapping(key, "Table.KeySchema[]").get("AttributeName"))
        if types.get(attribute) not in ("S", "N", "B"):
            raise InvalidResponse(f"Table.AttributeDefinitions type of key {str(attribute)[:100]!r}")
    # "You may need to switch to on-demand mode at least once in order to return a
    # BillingModeSummary response" (API reference, BillingModeSummary): absent = PROVISIONED.
    billing = table.get("BillingModeSummary")
    mode = _mapping(billing, "Table.BillingModeSummary").get("BillingMode") if billing is not None else None
    if mode in (None, "PROVISIONED"):
        throughput = _mapping(table.get("ProvisionedThroughput"), "Table.ProvisionedThroughput")
        _number(throughput.get("ReadCapacityUnits"), "Table.ProvisionedThroughput.ReadCapacityUnits")
        _number(throughput.get("WriteCapacityUnits"), "Table.ProvisionedThroughput.WriteCapacityUnits")
    return table


def describe_time_to_live(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """``response["TimeToLiveDescription"]`` with its status.

    AWS answers ``{"TimeToLiveStatus": "DISABLED"}`` for a table that never had TTL, so a
    missing description or status is not "disabled": it is a broken answer. ``AttributeName``
    may be absent (no attribute while disabled).
    """
    description = _mapping(response.get("TimeToLiveDescription"), "TimeToLiveDescription")
    _string(description.get("TimeToLiveStatus"), "TimeToLiveDescription.TimeToLiveStatus")
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
    pitr = description.get("PointInTimeRecoveryDescription")
    if pitr is not None:
        _string(
            _mapping(pitr, "PointInTimeRecoveryDescription").get("PointInTimeRecoveryStatus"),
            "PointInTimeRecoveryDescription.PointInTimeRecoveryStatus",
        )
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
        pairs.append((_string(tag.get("Key"), "Tags[].Key"), value))
    return pairs


def scalable_targets(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The page's targets, each with the four fields driftwatch reads ("Required: Yes" in the
    API reference, ScalableTarget). An empty list is a real answer ("no autoscaling"); a page
    without the list is not."""
    listed = _list(response.get("ScalableTargets"), "ScalableTargets")
    targets = [_mapping(t, "ScalableTargets[]") for t in listed]
    for target in targets:
        _string(target.get("ResourceId"), "ScalableTargets[].ResourceId")
        _string(target.get("ScalableDimension"), "ScalableTargets[].ScalableDimension")
        _number(target.get("MinCapacity"), "ScalableTargets[].MinCapacity")
        _number(target.get("MaxCapacity"), "ScalableTargets[].MaxCapacity")
    return targets


def scaling_policies(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The page's policies, each with name, resource, dimension and type ("Required: Yes" in
    the API reference, ScalingPolicy); a target-tracking policy's configuration must carry its
    ``TargetValue`` ("Required: Yes", TargetTrackingScalingPolicyConfiguration)."""
    listed = _list(response.get("ScalingPolicies"), "ScalingPolicies")
    policies = [_mapping(p, "ScalingPolicies[]") for p in listed]
    for policy in policies:
        for field in ("PolicyName", "ResourceId", "ScalableDimension", "PolicyType"):
            _string(policy.get(field), f"ScalingPolicies[].{field}")
        if policy.get("PolicyType") == "TargetTrackingScaling":
            config = _mapping(
                policy.get("TargetTrackingScalingPolicyConfiguration"),
                "ScalingPolicies[].TargetTrackingScalingPolicyConfiguration",
            )
            _number(config.get("TargetValue"), "TargetTrackingScalingPolicyConfiguration.TargetValue")
    return policies
