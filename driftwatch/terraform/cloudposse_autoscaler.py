"""The CloudPosse ``cloudposse/dynamodb-autoscaler/aws`` module, emulated: inputs -> scaling resources.

The CloudPosse dynamodb module scales its table through this submodule. driftwatch's built-in
emulation of the dynamodb module already accounts for it, but a *vendored copy* of the dynamodb
module (its ``main.tf`` copied into the repository, a common way to pin or patch it) is walked
as a local module, and calls the autoscaler from the registry. Without the source at hand, this
emulation produces the targets and policies the autoscaler would declare (releases 0.14.0 to
0.16.0 create the same ones), which are then joined to the table like any
``aws_appautoscaling_target`` written by hand.

Per the module: one read and one write target on ``table/<dynamodb_table_name>``, and one per
entry of ``dynamodb_indexes`` on ``table/<name>/index/<index>``, each with a target-tracking
policy. Index targets take the ``*_index`` inputs when set, else the table's values. Nothing is
declared when the label context is disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch.spec import Maybe, Unknown
from driftwatch.terraform.appautoscaling import POLICY, TARGET, ScalingResource
from driftwatch.terraform.cloudposse import AUTOSCALER_METRIC, TableNotDetermined
from driftwatch.terraform.cloudposse import _matches as _source_matches
from driftwatch.terraform.label import build_label

# input -> default
_DEFAULTS: dict[str, Any] = {
    "autoscale_read_target": 50,
    "autoscale_write_target": 50,
    "autoscale_min_read_capacity": 5,
    "autoscale_max_read_capacity": 20,
    "autoscale_min_write_capacity": 5,
    "autoscale_max_write_capacity": 20,
}
_METRIC = AUTOSCALER_METRIC
_UNITS = {"read": "ReadCapacityUnits", "write": "WriteCapacityUnits"}


def is_autoscaler_module_source(source: str) -> bool:
    """The registry address (host optional) or a GitHub/git URL of terraform-aws-dynamodb-autoscaler."""
    return _source_matches(
        source, ("cloudposse", "dynamodb-autoscaler", "aws"), "terraform-aws-dynamodb-autoscaler"
    )


def _value(inputs: Mapping[str, Any], name: str) -> Any:
    value = inputs.get(name)
    return _DEFAULTS[name] if value is None else value


def _index_value(inputs: Mapping[str, Any], name: str) -> Any:
    """``<name>_index`` when set (not null), else the table's value (``coalesce`` in the module)."""
    override = inputs.get(f"{name}_index")
    return _value(inputs, name) if override is None else override


def _pair(
    address: str,
    key: str,
    resource_id: Any,
    dimension: str,
    values: tuple[Any, Any, Any],
    where: tuple[str, int, Maybe[str] | None, tuple[str, ...]],
) -> list[ScalingResource]:
    direction = "read" if "Read" in dimension else "write"
    minimum, maximum, target = values
    file, line, region, files = where
    policy_name: Any = (
        resource_id if isinstance(resource_id, Unknown) else f"{_METRIC[direction]}:{resource_id}"
    )
    scope = "table" if ":table:" in dimension else "index"
    suffix = "" if scope == "table" else "_index"
    return [
        ScalingResource(
            TARGET,
            f"{address}.{TARGET}.{direction}_target{suffix}{key}",
            file,
            line,
            region,
            {
                "service_namespace": "dynamodb",
                "resource_id": resource_id,
                "scalable_dimension": dimension,
                "min_capacity": minimum,
                "max_capacity": maximum,
            },
            files,
        ),
        ScalingResource(
            POLICY,
            f"{address}.{POLICY}.{direction}_policy{suffix}{key}",
            file,
            line,
            region,
            {
                "name": policy_name,
                "policy_type": "TargetTrackingScaling",
                "service_namespace": "dynamodb",
                "resource_id": resource_id,
                "scalable_dimension": dimension,
                "target_tracking_scaling_policy_configuration": [
                    {
                        "target_value": target,
                        "predefined_metric_specification": [{"predefined_metric_type": _METRIC[direction]}],
                    }
                ],
            },
            files,
        ),
    ]


def scaling_resources(
    inputs: Mapping[str, Any],
    address: str,
    where: tuple[str, int, Maybe[str] | None, tuple[str, ...]],
) -> list[ScalingResource]:
    """The targets and policies one call of the autoscaler module declares.

    ``where`` is (file, line, region, input files) of the call. Raises ``TableNotDetermined``
    when whether the module is enabled is unknown (which targets exist cannot be told).
    """
    label = build_label(inputs)
    if isinstance(label.enabled, Unknown):
        raise TableNotDetermined(f"whether the autoscaler is enabled is unknown ({label.enabled.reason})")
    if label.enabled is False:
        return []
    table = inputs.get("dynamodb_table_name")
    indexes = inputs.get("dynamodb_indexes") or []
    table_id: Any = table if isinstance(table, (str, Unknown)) else Unknown("dynamodb_table_name is not set")
    resources: list[ScalingResource] = []
    for direction in ("read", "write"):
        values = (
            _value(inputs, f"autoscale_min_{direction}_capacity"),
            _value(inputs, f"autoscale_max_{direction}_capacity"),
            _value(inputs, f"autoscale_{direction}_target"),
        )
        resource_id: Any = table_id if isinstance(table_id, Unknown) else f"table/{table_id}"
        resources += _pair(address, "[0]", resource_id, f"dynamodb:table:{_UNITS[direction]}", values, where)
    if isinstance(indexes, Unknown):
        unknown_index = Unknown(f"dynamodb_indexes is unknown ({indexes.reason})")
        resources.append(
            ScalingResource(
                TARGET,
                f"{address}.{TARGET}.read_target_index",
                *where[:3],
                {
                    "service_namespace": "dynamodb",
                    "resource_id": unknown_index,
                    "scalable_dimension": "dynamodb:index:ReadCapacityUnits",
                },
                where[3],
            )
        )
        return resources
    for index in indexes:
        for direction in ("read", "write"):
            values = (
                _index_value(inputs, f"autoscale_min_{direction}_capacity"),
                _index_value(inputs, f"autoscale_max_{direction}_capacity"),
                _index_value(inputs, f"autoscale_{direction}_target"),
            )
            resource_id = (
                table_id
                if isinstance(table_id, Unknown)
                else index
                if isinstance(index, Unknown)
                else f"table/{table_id}/index/{index}"
            )
            dimension = f"dynamodb:index:{_UNITS[direction]}"
            resources += _pair(address, f'["{index}"]', resource_id, dimension, values, where)
    return resources
