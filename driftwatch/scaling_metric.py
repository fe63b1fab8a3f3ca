"""A target-tracking policy's metric as one comparable, printable value (``autoscaling.<dir>.metric``).

The declared side (an ``aws_appautoscaling_policy``'s ``target_tracking_scaling_policy_configuration``)
and the live side (DescribeScalingPolicies' ``TargetTrackingScalingPolicyConfiguration``, its
keys renamed to the same snake_case) both come through ``metric`` here, so the two can only be
equal when ``terraform plan`` (1.11.4, hashicorp/aws 5.100) sees no change. What it considers
equal, observed against moto (docs/terraform-parity.md, "Resource-level autoscaling"):

* an optional string that is unset, ``""`` or left out by AWS is the same (``resource_label``,
  ``unit``, ``label``, ``expression``...), and so is an unset ``return_data`` and false: the
  provider's zero values;
* ``dimensions`` and ``metrics`` are sets: their order is not a change;
* everything else exactly, case included (``statistic = "sum"`` is not ``"Sum"``).

The value is a string, so a ``TableSpec`` stays hashable and every report prints it as it is:
the predefined metric type alone in the common case (``DynamoDBReadCapacityUtilization``), with
``, resource_label "..."`` when one is set; a customized metric as ``customized`` and its
settings in canonical JSON. Every form is told apart from the others, so equal strings mean
equal metrics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from driftwatch.spec import Maybe, Unknown

# (value, where it is) -> the string it stands for, Unknown when it cannot be read; None in,
# "" out (unset is the zero value). The declared side converts numbers and bools as Terraform
# does; the live side takes only strings.
Text = Callable[[Any, str], Maybe[str]]
Flag = Callable[[Any, str], Maybe[bool]]

_PLAIN_TYPE = re.compile(r"[A-Za-z0-9]+")


class _Unreadable(Exception):
    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.reason)
        self.unknown = unknown


def _known(value: Any) -> Any:
    if isinstance(value, Unknown):
        raise _Unreadable(value)
    return value


def _blocks(value: Any, where: str) -> list[Mapping[str, Any]]:
    """Nested blocks as written in HCL (a list of objects) or as AWS gives one (an object)."""
    value = _known(value)
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, (list, tuple)):
        items = [_known(item) for item in value]
        if all(isinstance(item, Mapping) for item in items):
            return items
    raise _Unreadable(Unknown(f"{where} {value!r} is not a block"))


def _one(value: Any, where: str) -> Mapping[str, Any] | None:
    blocks = _blocks(value, where)
    return blocks[0] if blocks else None


def _strings(block: Mapping[str, Any], names: tuple[str, ...], where: str, text: Text) -> dict[str, str]:
    """The block's string settings that are set (not ``""``), in the order of ``names``."""
    found: dict[str, str] = {}
    for name in names:
        value = _known(text(block.get(name), f"{where}.{name}"))
        if value != "":
            found[name] = value
    return found


def _dimensions(value: Any, where: str, text: Text) -> list[list[str]]:
    """A set of (name, value) pairs: sorted, a pair written twice counted once."""
    pairs = {
        (
            _known(text(block.get("name"), f"{where}.dimensions.name")),
            _known(text(block.get("value"), f"{where}.dimensions.value")),
        )
        for block in _blocks(value, f"{where}.dimensions")
    }
    return [list(pair) for pair in sorted(pairs)]


def _metric_query(block: Mapping[str, Any], where: str, text: Text, flag: Flag) -> dict[str, Any]:
    """One element of ``metrics`` (metric math): its id, expression or metric_stat, label."""
    entry: dict[str, Any] = _strings(block, ("id", "expression", "label"), where, text)
    stat = _one(block.get("metric_stat"), f"{where}.metric_stat")
    if stat is not None:
        stat_entry: dict[str, Any] = {}
        metric = _one(stat.get("metric"), f"{where}.metric_stat.metric")
        if metric is not None:
            described = _strings(metric, ("namespace", "metric_name"), f"{where}.metric_stat.metric", text)
            dimensions = _dimensions(metric.get("dimensions"), f"{where}.metric_stat.metric", text)
            stat_entry["metric"] = {**described, **({"dimensions": dimensions} if dimensions else {})}
        stat_entry.update(_strings(stat, ("stat", "unit"), f"{where}.metric_stat", text))
        entry["metric_stat"] = stat_entry
    return_data = block.get("return_data")
    if return_data is not None and _known(flag(return_data, f"{where}.return_data")):
        entry["return_data"] = True
    return entry


def _customized(block: Mapping[str, Any], text: Text, flag: Flag) -> str:
    where = "customized_metric_specification"
    settings: dict[str, Any] = _strings(block, ("namespace", "metric_name"), where, text)
    dimensions = _dimensions(block.get("dimensions"), where, text)
    if dimensions:
        settings["dimensions"] = dimensions
    settings.update(_strings(block, ("statistic", "unit"), where, text))
    queries = [
        _metric_query(query, f"{where}.metrics", text, flag)
        for query in _blocks(block.get("metrics"), f"{where}.metrics")
    ]
    if queries:  # a set too
        unique = {json.dumps(query, sort_keys=True): query for query in queries}
        settings["metrics"] = [unique[key] for key in sorted(unique)]
    return "customized " + json.dumps(settings, ensure_ascii=False)


def _predefined(block: Mapping[str, Any], text: Text) -> str:
    where = "predefined_metric_specification"
    kind: str = _known(text(block.get("predefined_metric_type"), f"{where}.predefined_metric_type"))
    label: str = _known(text(block.get("resource_label"), f"{where}.resource_label"))
    if not _PLAIN_TYPE.fullmatch(kind):  # a type no one could mistake for the forms below
        return "predefined " + json.dumps({"predefined_metric_type": kind, "resource_label": label})
    return kind + (f", resource_label {json.dumps(label, ensure_ascii=False)}" if label else "")


def metric(config: Mapping[str, Any], text: Text, flag: Flag) -> Maybe[str] | None:
    """The metric a target-tracking configuration tracks; None where it names none (AWS
    requires one, so there is nothing to compare); Unknown where any part cannot be read."""
    try:
        predefined = _one(config.get("predefined_metric_specification"), "predefined_metric_specification")
        customized = _one(config.get("customized_metric_specification"), "customized_metric_specification")
        parts = [
            *([_predefined(predefined, text)] if predefined is not None else []),
            *([_customized(customized, text, flag)] if customized is not None else []),
        ]
    except _Unreadable as error:
        return error.unknown
    return " + ".join(parts) if parts else None


# DescribeScalingPolicies' keys, as the provider's (and so this module's) names.
API_NAMES: dict[str, str] = {
    "PredefinedMetricSpecification": "predefined_metric_specification",
    "PredefinedMetricType": "predefined_metric_type",
    "ResourceLabel": "resource_label",
    "CustomizedMetricSpecification": "customized_metric_specification",
    "MetricName": "metric_name",
    "Namespace": "namespace",
    "Dimensions": "dimensions",
    "Name": "name",
    "Value": "value",
    "Statistic": "statistic",
    "Unit": "unit",
    "Metrics": "metrics",
    "Id": "id",
    "Expression": "expression",
    "Label": "label",
    "MetricStat": "metric_stat",
    "Metric": "metric",
    "Stat": "stat",
    "ReturnData": "return_data",
}


def from_api(value: Any) -> Any:
    """An API structure with its keys renamed (``API_NAMES``); keys driftwatch does not know
    are dropped (a field AWS adds later is not compared: never a false alarm)."""
    if isinstance(value, Mapping):
        return {API_NAMES[key]: from_api(item) for key, item in value.items() if key in API_NAMES}
    if isinstance(value, list):
        return [from_api(item) for item in value]
    return value
