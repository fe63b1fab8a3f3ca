"""The metric of a target-tracking policy as one value: equal exactly where terraform plan
(1.11.4, hashicorp/aws 5.100, against moto) sees no change, observed case by case
(docs/terraform-parity.md, "Resource-level autoscaling")."""

from __future__ import annotations

from typing import Any

from driftwatch.scaling_metric import from_api, metric
from driftwatch.spec import Maybe, Unknown


def _text(value: Any, where: str) -> Maybe[str]:
    if isinstance(value, Unknown):
        return value
    if value is None or isinstance(value, str):
        return value or ""
    return Unknown(f"{where} is not a string")


def _flag(value: Any, where: str) -> Maybe[bool]:
    return bool(value) if value is None or isinstance(value, bool) else Unknown(f"{where} is not a bool")


def declared(**config: Any) -> Maybe[str] | None:
    return metric(config, _text, _flag)


def live(config: dict[str, Any]) -> Maybe[str] | None:
    return metric(from_api(config), _text, _flag)


def predefined(kind: str, **more: str) -> dict[str, Any]:
    return {"PredefinedMetricSpecification": {"PredefinedMetricType": kind, **more}}


CUSTOM_HCL = {
    "metric_name": "ConsumedReadCapacityUnits",
    "namespace": "AWS/DynamoDB",
    "statistic": "Sum",
    "unit": "Count",
    "dimensions": [
        {"name": "TableName", "value": "oracle"},
        {"name": "GlobalSecondaryIndexName", "value": "g"},
    ],
}
CUSTOM_API = {
    "MetricName": "ConsumedReadCapacityUnits",
    "Namespace": "AWS/DynamoDB",
    "Statistic": "Sum",
    "Unit": "Count",
    "Dimensions": [
        {"Name": "TableName", "Value": "oracle"},
        {"Name": "GlobalSecondaryIndexName", "Value": "g"},
    ],
}
QUERIES_HCL = [
    {
        "id": "m1",
        "return_data": False,
        "metric_stat": [
            {
                "stat": "Sum",
                "metric": [
                    {
                        "metric_name": "ConsumedWriteCapacityUnits",
                        "namespace": "AWS/DynamoDB",
                        "dimensions": [{"name": "TableName", "value": "oracle"}],
                    }
                ],
            }
        ],
    },
    {"id": "e1", "expression": "m1 / 60", "label": "per second", "return_data": True},
]
QUERIES_API = [
    {"Id": "e1", "Expression": "m1 / 60", "Label": "per second", "ReturnData": True},
    {
        "Id": "m1",
        "ReturnData": False,
        "MetricStat": {
            "Stat": "Sum",
            "Metric": {
                "MetricName": "ConsumedWriteCapacityUnits",
                "Namespace": "AWS/DynamoDB",
                "Dimensions": [{"Name": "TableName", "Value": "oracle"}],
            },
        },
    },
]


def test_a_predefined_metric_reads_as_its_type_and_an_empty_label_as_none() -> None:
    spec = [{"predefined_metric_type": "DynamoDBReadCapacityUtilization"}]
    assert declared(predefined_metric_specification=spec) == "DynamoDBReadCapacityUtilization"
    # terraform plan: resource_label = "" declared, none live -> no change; and the reverse
    empty = [{"predefined_metric_type": "DynamoDBWriteCapacityUtilization", "resource_label": ""}]
    assert declared(predefined_metric_specification=empty) == live(
        predefined("DynamoDBWriteCapacityUtilization")
    )
    assert (
        live(predefined("DynamoDBReadCapacityUtilization", ResourceLabel=""))
        == "DynamoDBReadCapacityUtilization"
    )


def test_another_type_or_a_label_is_another_metric() -> None:
    """terraform plan changes the policy for each (tr_type_changed, tr_label_added)."""
    read = declared(
        predefined_metric_specification=[{"predefined_metric_type": "DynamoDBReadCapacityUtilization"}]
    )
    assert read != live(predefined("DynamoDBWriteCapacityUtilization"))
    labelled = live(predefined("DynamoDBReadCapacityUtilization", ResourceLabel="lbl"))
    assert labelled == 'DynamoDBReadCapacityUtilization, resource_label "lbl"' != read


def test_a_customized_metric_equals_its_live_form_whatever_the_order_of_dimensions() -> None:
    want = declared(customized_metric_specification=[CUSTOM_HCL])
    reordered = {**CUSTOM_API, "Dimensions": CUSTOM_API["Dimensions"][::-1]}
    assert (
        want
        == live({"CustomizedMetricSpecification": reordered})
        == live({"CustomizedMetricSpecification": CUSTOM_API})
    )
    assert want == (
        'customized {"namespace": "AWS/DynamoDB", "metric_name": "ConsumedReadCapacityUnits", '
        '"dimensions": [["GlobalSecondaryIndexName", "g"], ["TableName", "oracle"]], '
        '"statistic": "Sum", "unit": "Count"}'
    )
    # a set (the provider's schema): a dimension block written twice is one dimension
    twice = {**CUSTOM_HCL, "dimensions": [*CUSTOM_HCL["dimensions"], CUSTOM_HCL["dimensions"][0]]}
    assert declared(customized_metric_specification=[twice]) == want


def test_a_customized_metric_differs_in_statistic_case_unit_and_dimension_values() -> None:
    """terraform plan changes the policy for each (gr_statistic_lower, gr_unit_removed,
    gr_dim_value, gr_statistic_changed), and for the predefined metric instead (tr_to_custom)."""
    want = declared(customized_metric_specification=[CUSTOM_HCL])
    unit_gone = {key: value for key, value in CUSTOM_API.items() if key != "Unit"}
    other_table = {
        **CUSTOM_API,
        "Dimensions": [{"Name": "TableName", "Value": "other"}, CUSTOM_API["Dimensions"][1]],
    }
    for changed in (
        {**CUSTOM_API, "Statistic": "sum"},
        {**CUSTOM_API, "Statistic": "Average"},
        unit_gone,
        other_table,
    ):
        assert live({"CustomizedMetricSpecification": changed}) != want
    assert live(predefined("DynamoDBReadCapacityUtilization")) != want


def test_metric_math_is_compared_as_a_set_of_queries() -> None:
    """gw_metrics_reordered: no change; gw_expression_changed: a change."""
    want = declared(customized_metric_specification=[{"metrics": QUERIES_HCL}])
    assert want == live({"CustomizedMetricSpecification": {"Metrics": QUERIES_API}})
    edited = [{**QUERIES_API[0], "Expression": "m1 / 30"}, QUERIES_API[1]]
    assert live({"CustomizedMetricSpecification": {"Metrics": edited}}) != want


def test_no_metric_is_none_and_an_unreadable_part_is_unknown() -> None:
    assert declared(target_value=50) is None
    unknown = Unknown("var.metric is not known")
    found = declared(predefined_metric_specification=[{"predefined_metric_type": unknown}])
    assert found == unknown
    assert isinstance(live(predefined("DynamoDBReadCapacityUtilization", ResourceLabel=5)), Unknown)  # type: ignore[arg-type]
    assert declared(customized_metric_specification=unknown) == unknown


def test_forms_are_told_apart() -> None:
    """A predefined type that is not a plain name is written out, so no two metrics print alike."""
    odd = declared(predefined_metric_specification=[{"predefined_metric_type": 'X, resource_label "y"'}])
    assert odd != declared(
        predefined_metric_specification=[{"predefined_metric_type": "X", "resource_label": "y"}]
    )
    assert isinstance(odd, str) and odd.startswith("predefined {")
