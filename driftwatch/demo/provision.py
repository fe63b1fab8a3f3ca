"""Creates tables in the embedded AWS (moto) exactly as a TableSpec declares them.

Used only by ``driftwatch demo`` and the test suite, always against moto: driftwatch itself
never writes to AWS. It plays the part of ``terraform apply`` so that a scan of the same
configuration must come out in sync.
"""

from __future__ import annotations

from typing import Any

from driftwatch.spec import Autoscaling, Gsi, Lsi, TableSpec, Unknown, first_unknown


def _projection(projection_type: Any, non_key: Any) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": projection_type}
    if projection_type == "INCLUDE":
        projection["NonKeyAttributes"] = sorted(non_key or ())
    return projection


def _keys(hash_key: Any, range_key: Any) -> list[dict[str, str]]:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return keys


def _gsi(gsi: Gsi, provisioned: bool) -> dict[str, Any]:
    request: dict[str, Any] = {
        "IndexName": gsi.name,
        "KeySchema": _keys(gsi.hash_key, gsi.range_key),
        "Projection": _projection(gsi.projection_type, gsi.non_key_attributes),
    }
    if provisioned:
        request["ProvisionedThroughput"] = {
            "ReadCapacityUnits": gsi.read_capacity or 1,
            "WriteCapacityUnits": gsi.write_capacity or 1,
        }
    return request


def _lsi(lsi: Lsi, hash_key: Any) -> dict[str, Any]:
    return {
        "IndexName": lsi.name,
        "KeySchema": _keys(hash_key, lsi.range_key),
        "Projection": _projection(lsi.projection_type, lsi.non_key_attributes),
    }


def _attribute_definitions(spec: TableSpec, attribute_types: dict[str, str]) -> list[dict[str, str]]:
    """Every attribute a key or index uses (AWS rejects definitions nothing uses)."""
    used: dict[str, str] = {str(spec.hash_key): str(spec.hash_key_type)}
    if spec.range_key:
        used[str(spec.range_key)] = str(spec.range_key_type or "S")
    for index in [*spec.gsis, *spec.lsis]:  # type: ignore[misc]
        for key in (getattr(index, "hash_key", None), index.range_key):
            if key and key not in used:
                used[str(key)] = attribute_types.get(str(key), "S")
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in used.items()]


def create_table(
    dynamodb: Any, autoscaling: Any, spec: TableSpec, attribute_types: dict[str, str] | None = None
) -> None:
    """Create ``spec`` as the real AWS would hold it after ``terraform apply``."""
    unknown = first_unknown([spec.name, spec.hash_key, spec.gsis, spec.tags])
    if unknown is not None:
        raise ValueError(f"cannot create a table with unknown declared values: {unknown.reason}")
    provisioned = spec.billing_mode == "PROVISIONED"
    request: dict[str, Any] = {
        "TableName": spec.name,
        "KeySchema": _keys(spec.hash_key, spec.range_key),
        "AttributeDefinitions": _attribute_definitions(spec, attribute_types or {}),
        "BillingMode": spec.billing_mode,
        "TableClass": spec.table_class,
        "DeletionProtectionEnabled": bool(spec.deletion_protection),
    }
    if provisioned:
        request["ProvisionedThroughput"] = {
            "ReadCapacityUnits": spec.read_capacity or 5,
            "WriteCapacityUnits": spec.write_capacity or 5,
        }
    if spec.gsis:
        request["GlobalSecondaryIndexes"] = [_gsi(g, provisioned) for g in spec.gsis]  # type: ignore[union-attr]
    if spec.lsis:
        request["LocalSecondaryIndexes"] = [_lsi(i, spec.hash_key) for i in spec.lsis]  # type: ignore[union-attr]
    if spec.stream.enabled:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream.view_type}
    if spec.sse.enabled:
        sse: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
        if spec.sse.kms_key_arn:
            sse["KMSMasterKeyId"] = spec.sse.kms_key_arn
        request["SSESpecification"] = sse
    tags = [{"Key": k, "Value": v} for k, v in dict(spec.tags).items()]  # type: ignore[arg-type]
    if tags:
        request["Tags"] = tags
    dynamodb.create_table(**request)
    if spec.ttl.enabled is True:
        dynamodb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl.attribute},
        )
    if spec.point_in_time_recovery is True:
        dynamodb.update_continuous_backups(
            TableName=spec.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    register_autoscaling(autoscaling, f"table/{spec.name}", "table", spec.autoscaling)
    for gsi in spec.gsis:  # type: ignore[union-attr]
        register_autoscaling(autoscaling, f"table/{spec.name}/index/{gsi.name}", "index", gsi.autoscaling)


def register_autoscaling(client: Any, resource_id: str, level: str, scaling: Autoscaling) -> None:
    """Scalable targets and target-tracking policies as the CloudPosse autoscaler creates them."""
    for dimension, target in (("Read", scaling.read), ("Write", scaling.write)):
        if target is None or isinstance(target.min, Unknown) or isinstance(target.max, Unknown):
            continue
        scalable_dimension = f"dynamodb:{level}:{dimension}CapacityUnits"
        client.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource_id,
            ScalableDimension=scalable_dimension,
            MinCapacity=int(target.min),
            MaxCapacity=int(target.max),
        )
        if target.target is not None and not isinstance(target.target, Unknown):
            metric = f"DynamoDB{dimension}CapacityUtilization"
            client.put_scaling_policy(
                PolicyName=name if isinstance(name := target.policy_name, str) else f"{metric}:{resource_id}",
                ServiceNamespace="dynamodb",
                ResourceId=resource_id,
                ScalableDimension=scalable_dimension,
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": float(target.target),
                    "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                },
            )
