"""Small corrections to moto's DynamoDB so that the embedded AWS answers like the real one.

moto 5.x ignores ``TableClass`` (create and update), ignores ``SSESpecification`` on
UpdateTable, appends a duplicate key on TagResource instead of overwriting it, and keeps the
old provisioned throughput after a switch to PAY_PER_REQUEST (see the README's "Testing
against moto_server"). Without these fixes the demo and the end-to-end tests would see drift that real
AWS would not show. The patches are idempotent and only touch the in-process moto classes.
"""

from __future__ import annotations

import functools
from typing import Any

_APPLIED = False


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    original_describe = Table.describe

    @functools.wraps(original_describe)
    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result: dict[str, Any] = original_describe(self, base_key)
        body = result[base_key]
        table_class = getattr(self, "driftwatch_table_class", None)
        if table_class:
            body["TableClassSummary"] = {"TableClass": table_class}
        if self.billing_mode == "PAY_PER_REQUEST":
            body["ProvisionedThroughput"] = {
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
                "NumberOfDecreasesToday": 0,
            }
        return result

    def _after(method_name: str) -> None:
        original = getattr(DynamoHandler, method_name)

        @functools.wraps(original)
        def wrapper(self: Any) -> Any:
            response = original(self)
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            if "TableClass" in self.body:
                table.driftwatch_table_class = self.body["TableClass"]
            sse = self.body.get("SSESpecification")
            if method_name == "update_table" and sse is not None:
                table.sse_specification = sse if sse.get("Enabled") else None
            return response

        setattr(DynamoHandler, method_name, wrapper)

    def tag_resource(self: Any, arn: str, tags: Any) -> None:
        # moto's backend is handed the request's list of {Key, Value} up to 5.2.1 and a dict
        # after: accept both, so the demo works with any moto the version range admits.
        if isinstance(tags, list):
            tags = {tag["Key"]: tag.get("Value", "") for tag in tags}
        for table in self.tables.values():
            if table.table_arn == arn:
                kept = [tag for tag in table.tags if tag["Key"] not in tags]
                table.tags = kept + [{"Key": k, "Value": v} for k, v in tags.items()]

    Table.describe = describe  # type: ignore[method-assign]
    _after("create_table")
    _after("update_table")
    # setattr: moto's own signature of tag_resource changed in 5.2.2 (see above), so no single
    # annotation type-checks against every moto the version range admits.
    setattr(DynamoDBBackend, "tag_resource", tag_resource)  # noqa: B010
    _APPLIED = True
